//! Expiry timestamps in the shape google-auth writes: Python's naive-UTC
//! `datetime.isoformat() + "Z"` (`2026-11-21T23:59:59Z`, or with `.123456` when there are
//! microseconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `t` without its sub-microsecond part, so that it survives [`format`] and [`parse`].
pub(crate) fn truncate_micros(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::new(d.as_secs(), d.subsec_micros() * 1000),
        Err(_) => t,
    }
}

/// Formats `t` as google-auth's `to_json` does. Times before 1970 are written as 1970.
pub(crate) fn format(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let micros = since.subsec_micros();
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out.push('Z');
    out
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+00:00|±HH:MM]` (no suffix means UTC, as in
/// google-auth). A space may stand for the `T`.
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 19 || !b[..19].is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut padded: String = frac[..digits].chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = &rest[1..];
            if body.len() != 5 || body.as_bytes()[2] != b':' {
                return None;
            }
            let (oh, om) = (num_str(&body[..2])?, num_str(&body[3..])?);
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

fn num_str(s: &str) -> Option<i64> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, micros * 1000)
    }

    #[test]
    fn formats_like_python_isoformat_plus_z() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2026-11-21T23:59:59 UTC
        assert_eq!(format(at(1_795_305_599, 0)), "2026-11-21T23:59:59Z");
        assert_eq!(
            format(at(1_795_305_599, 123_456)),
            "2026-11-21T23:59:59.123456Z"
        );
        assert_eq!(format(at(951_782_400, 0)), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parses_what_google_auth_and_others_write() {
        assert_eq!(parse("2026-11-21T23:59:59Z"), Some(at(1_795_305_599, 0)));
        assert_eq!(parse("2026-11-21T23:59:59"), Some(at(1_795_305_599, 0)));
        assert_eq!(
            parse("2026-11-21T23:59:59.123456Z"),
            Some(at(1_795_305_599, 123_456))
        );
        assert_eq!(
            parse("2026-11-22T01:59:59+02:00"),
            Some(at(1_795_305_599, 0))
        );
        assert_eq!(parse("2026-11-21 23:59:59"), Some(at(1_795_305_599, 0)));
        for bad in [
            "",
            "2026-11-21",
            "2026-13-21T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T23:59:59.Z",
            "2026-11-21T23:59:59+0200",
            "2026-11-21T23:59:59 UTC",
            "２026-11-21T23:59:59Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn truncation_keeps_microseconds() {
        let t = UNIX_EPOCH + Duration::new(5, 123_456_789);
        assert_eq!(truncate_micros(t), at(5, 123_456));
        assert_eq!(parse(&format(t)), Some(truncate_micros(t)));
    }

    #[test]
    fn round_trips() {
        for secs in [0, 86_399, 86_400, 1_700_000_000, 4_102_444_800] {
            for micros in [0, 1, 999_999] {
                let t = at(secs, micros);
                assert_eq!(parse(&format(t)), Some(t));
            }
        }
    }
}
