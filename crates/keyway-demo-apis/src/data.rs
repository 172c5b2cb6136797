//! Deterministic per-user data: a tiny generator seeded by SHA-256 of the user's id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A deterministic stream of numbers for one user and purpose.
pub struct Seeded {
    state: [u8; 32],
    counter: u64,
}

impl Seeded {
    /// The stream for `sub` and `purpose`.
    pub fn new(sub: &str, purpose: &str) -> Self {
        let state = Sha256::new()
            .chain_update(purpose)
            .chain_update([0])
            .chain_update(sub)
            .finalize()
            .into();
        Self { state, counter: 0 }
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        let block: [u8; 32] = Sha256::new()
            .chain_update(self.state)
            .chain_update(self.counter.to_le_bytes())
            .finalize()
            .into();
        u64::from_le_bytes(block[..8].try_into().unwrap_or_default())
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next_u64() % n64).unwrap_or(0)
    }

    /// An id of `len` base64url characters.
    pub fn id(&mut self, len: usize) -> String {
        let mut bytes = Vec::new();
        while bytes.len() * 4 / 3 < len + 4 {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        URL_SAFE_NO_PAD.encode(bytes)[..len].to_owned()
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A page of `items` from an opaque page token (the offset, encoded) and a size.
pub fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ()> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => {
            let raw = URL_SAFE_NO_PAD.decode(t).map_err(|_| ())?;
            let text = String::from_utf8(raw).map_err(|_| ())?;
            text.strip_prefix("offset:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= items.len())
                .ok_or(())?
        }
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| URL_SAFE_NO_PAD.encode(format!("offset:{end}")));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut s = Seeded::new("u1", "x");
                move |_| s.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut s = Seeded::new("u1", "x");
                move |_| s.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..5)
            .map({
                let mut s = Seeded::new("u2", "x");
                move |_| s.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(Seeded::new("u", "p").id(28).len(), 28);
    }

    #[test]
    fn paging_walks_every_item_once() {
        let items: Vec<u32> = (0..23).collect();
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let (chunk, next) = page(&items, token.as_deref(), 10).unwrap();
            seen.extend(chunk);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, items);
        assert!(page(&items, Some("garbage!"), 10).is_err());
        assert!(page(&items, Some(&URL_SAFE_NO_PAD.encode("offset:999")), 10).is_err());
    }
}
