//! Identifiers: client ids, project ids, user subjects and email addresses.
//!
//! Each is a newtype whose constructor checks its shape, so a value of one cannot be passed
//! where another is expected and nothing unchecked reaches the database or a page.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::random_bytes;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(String);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The identifier as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from storage, where it was checked when written.
            pub fn from_stored(value: String) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;

            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(&value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }
    };
}

string_id!(
    /// An OAuth client id, shaped like Google's: `<12 digits>-<32 chars>.apps.<domain>`.
    ///
    /// ```
    /// use keyway_core::ClientId;
    ///
    /// let id = ClientId::generate("apps.keyway.test");
    /// assert!(id.as_str().ends_with(".apps.keyway.test"));
    /// assert_eq!(id.as_str().parse::<ClientId>().unwrap(), id);
    /// assert!("has space".parse::<ClientId>().is_err());
    /// ```
    ClientId
);

impl ClientId {
    /// A new client id under `domain` (e.g. `apps.keyway.test`).
    pub fn generate(domain: &str) -> Self {
        Self(format!(
            "{}-{}.{domain}",
            random_digits(12),
            random_lower_alnum(32)
        ))
    }

    /// Accepts any printable ASCII id without spaces up to 255 bytes, so ids imported from
    /// elsewhere keep working; only generated ids follow Google's shape.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        if value.is_empty() || value.len() > 255 {
            return Err(InvalidId("a client id has 1 to 255 characters".into()));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidId(
                "a client id has only printable ASCII characters and no spaces".into(),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_id!(
    /// A project id as Google's console makes them: 6 to 30 lowercase letters, digits and
    /// hyphens, starting with a letter and not ending with a hyphen (`keyway-demo-482913`).
    ///
    /// ```
    /// use keyway_core::ProjectId;
    ///
    /// let id = ProjectId::from_name("My Shiny App!");
    /// assert!(id.as_str().starts_with("my-shiny-app-"));
    /// assert!("Bad_Id".parse::<ProjectId>().is_err());
    /// ```
    ProjectId
);

impl ProjectId {
    /// A new id derived from a display name, with six random digits to keep it unique.
    pub fn from_name(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug: String = slug
            .trim_start_matches(|c: char| !c.is_ascii_lowercase())
            .into();
        slug.truncate(23);
        let slug = slug.trim_end_matches('-');
        let slug = if slug.is_empty() { "project" } else { slug };
        Self(format!("{slug}-{}", random_digits(6)))
    }

    /// Checks Google's shape.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let ok = (6..=30).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidId(format!(
                "invalid project id {value:?}: use 6 to 30 lowercase letters, digits and hyphens, starting with a letter"
            )))
        }
    }
}

string_id!(
    /// A user's stable subject identifier (`sub`): 21 decimal digits, as Google's are. It never
    /// changes, even when the email does.
    Subject
);

impl Subject {
    /// A new random subject.
    pub fn generate() -> Self {
        Self(format!("1{}", random_digits(20)))
    }

    /// Accepts 1 to 255 ASCII digits or letters.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        if (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidId(format!("invalid subject {value:?}")))
        }
    }
}

string_id!(
    /// An email address, stored lowercased so that sign-in is case-insensitive.
    ///
    /// The check is deliberately simple (RFC 5321 lengths, one `@`, a dotted domain, no spaces
    /// or controls): deliverability is not Keyway's concern, but unambiguity is.
    ///
    /// ```
    /// use keyway_core::Email;
    ///
    /// let e: Email = "Ada@Example.COM".parse().unwrap();
    /// assert_eq!(e.as_str(), "ada@example.com");
    /// assert_eq!(e.domain(), "example.com");
    /// assert!("no-at-sign".parse::<Email>().is_err());
    /// ```
    Email
);

impl Email {
    /// Lowercases and checks the address.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let value = value.trim().to_lowercase();
        let bad = || InvalidId(format!("invalid email address {value:?}"));
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(value))
    }

    /// The part after the `@`: an organization's users share it.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// A domain name an organization or project owns, lowercased, without a trailing dot.
pub fn parse_domain(value: &str) -> Result<String, InvalidId> {
    let d = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if d.len() <= 253 && d.contains('.') && d.split('.').all(label_ok) {
        Ok(d)
    } else {
        Err(InvalidId(format!("invalid domain name {value:?}")))
    }
}

fn random_digits(n: usize) -> String {
    random_from(n, b"0123456789")
}

fn random_lower_alnum(n: usize) -> String {
    random_from(n, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

/// Uniform picks from `alphabet` by rejection sampling (no modulo bias).
fn random_from(n: usize, alphabet: &[u8]) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<32>() {
            if usize::from(b) < limit && out.len() < n {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_their_documented_shapes() {
        let c = ClientId::generate("apps.keyway.test");
        let (num, rest) = c.as_str().split_once('-').unwrap();
        assert_eq!(num.len(), 12);
        assert!(num.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(rest.len(), 32 + ".apps.keyway.test".len());
        let s = Subject::generate();
        assert_eq!(s.as_str().len(), 21);
        assert!(Subject::parse(s.as_str()).is_ok());
        for name in [
            "Keyway Demo",
            "9 lives",
            "---",
            "ÄÖÜ long name that goes on and on and on",
        ] {
            let p = ProjectId::from_name(name);
            assert!(ProjectId::parse(p.as_str()).is_ok(), "{p} from {name:?}");
        }
    }

    #[test]
    fn project_ids_follow_googles_rules() {
        for ok in [
            "abcdef",
            "keyway-demo-123456",
            "a23456789012345678901234567890",
        ] {
            assert!(ProjectId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abcde",
            "1abcdef",
            "abcdef-",
            "Abcdef",
            "abc_def",
            "a234567890123456789012345678901",
        ] {
            assert!(ProjectId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_and_domains() {
        for bad in [
            "",
            "a@b",
            "@example.com",
            "a@.example.com",
            "a@example..com",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_domain("Example.COM.").unwrap(), "example.com");
        for bad in ["localhost", "-a.com", "a..com", "a_b.com", ""] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_checks_the_shape() {
        assert!(serde_json::from_str::<Email>("\"x@example.com\"").is_ok());
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
