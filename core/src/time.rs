//! Instants as UTC nanoseconds since the Unix epoch, and a strict RFC 3339 parser.
//!
//! Every event timestamp goes through [`parse_rfc3339`], millions of times per collection,
//! so it is a small hand-written parser rather than a general date library; its results
//! are checked against `chrono` in the tests.

/// UTC nanoseconds since 1970-01-01T00:00:00Z. Covers the years 1678 to 2261.
pub type Nanos = i64;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Why a timestamp could not be read; the message is shown to users next to the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "timestamp {0:?} is not RFC 3339 (expected e.g. 2026-11-02T08:15:00Z or 2026-11-02T09:15:00+01:00)"
    )]
    Syntax(String),
    #[error("timestamp {0:?} has a field out of range ({1})")]
    Range(String, &'static str),
    #[error("timestamp {0:?} has no UTC offset; add Z or +hh:mm")]
    NoOffset(String),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)` into UTC nanoseconds.
/// `t` and a space are accepted for `T`, and `z` for `Z`, as RFC 3339 allows.
pub fn parse_rfc3339(s: &str) -> Result<Nanos, TimeError> {
    let b = s.as_bytes();
    let syntax = || TimeError::Syntax(s.to_string());
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(syntax());
    }
    let year = digits(&b[0..4]).ok_or_else(syntax)? as i64;
    let month = digits(&b[5..7]).ok_or_else(syntax)?;
    let day = digits(&b[8..10]).ok_or_else(syntax)?;
    let hour = digits(&b[11..13]).ok_or_else(syntax)?;
    let minute = digits(&b[14..16]).ok_or_else(syntax)?;
    let second = digits(&b[17..19]).ok_or_else(syntax)?;
    let range = |what| TimeError::Range(s.to_string(), what);
    if !(1..=12).contains(&month) {
        return Err(range("month"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(range("day of month"));
    }
    if hour > 23 {
        return Err(range("hour"));
    }
    if minute > 59 {
        return Err(range("minute"));
    }
    if second > 59 {
        return Err(range("second; leap seconds are not supported"));
    }
    let mut i = 19;
    let mut frac: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(syntax());
        }
        // Digits beyond nanoseconds cannot be represented; they are truncated.
        for (k, &c) in b[start..i].iter().enumerate() {
            if k < 9 {
                frac = frac * 10 + (c - b'0') as i64;
            }
        }
        for _ in n.min(9)..9 {
            frac *= 10;
        }
    }
    if i >= b.len() {
        return Err(TimeError::NoOffset(s.to_string()));
    }
    let offset_secs: i64 = match b[i] {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(&b[i + 1..i + 3]).ok_or_else(syntax)?;
            let om = digits(&b[i + 4..i + 6]).ok_or_else(syntax)?;
            if oh > 23 || om > 59 {
                return Err(range("UTC offset"));
            }
            let v = (oh * 3600 + om * 60) as i64;
            if c == b'-' { -v } else { v }
        }
        _ => return Err(syntax()),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    secs.checked_mul(NANOS_PER_SEC)
        .and_then(|n| n.checked_add(frac))
        .ok_or_else(|| range("year; seatmeter stores instants from 1678 to 2261"))
}

/// The wall clock as UTC nanoseconds (for collection bookkeeping; the rollup reads no clock).
pub fn now_nanos() -> Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Formats an instant as RFC 3339 in UTC (`2026-10-25T01:05:00Z`), with a fraction only when
/// it has one. For messages and logs; reports use the site's time zone.
pub fn format_utc(t: Nanos) -> String {
    let secs = t.div_euclid(NANOS_PER_SEC);
    let frac = t.rem_euclid(NANOS_PER_SEC);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_nanos(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn agrees_with_chrono() {
        for s in [
            "2026-10-25T01:05:00Z",
            "2026-10-25T02:05:00+01:00",
            "2026-03-29T00:59:59.999999999Z",
            "2024-02-29T23:59:59-05:45",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2000-01-01t00:00:00z",
            "2026-11-02T08:15:00.25+05:30",
            "2261-12-31T23:59:59Z",
            "1678-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s).unwrap(), chrono_nanos(s), "{s}");
        }
    }

    #[test]
    fn equal_instants_in_different_offsets() {
        assert_eq!(
            parse_rfc3339("2026-10-25T01:05:00Z"),
            parse_rfc3339("2026-10-25T02:05:00+01:00")
        );
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for (s, want) in [
            ("2026-10-25 01:05", "not RFC 3339"),
            ("2026-10-25T01:05:00", "no UTC offset"),
            ("2026-13-01T00:00:00Z", "month"),
            ("2026-02-29T00:00:00Z", "day of month"),
            ("2026-01-01T24:00:00Z", "hour"),
            ("2026-01-01T00:00:60Z", "leap seconds"),
            ("2026-01-01T00:00:00+1:00", "not RFC 3339"),
            ("2026-01-01T00:00:00.Z", "not RFC 3339"),
            ("2026-01-01T00:00:00Zjunk", "not RFC 3339"),
            ("yesterday", "not RFC 3339"),
            ("9999-01-01T00:00:00Z", "1678 to 2261"),
            ("2026-01-01T00:00:00+24:00", "UTC offset"),
        ] {
            let err = parse_rfc3339(s).unwrap_err().to_string();
            assert!(err.contains(want), "{s}: {err}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1_000_000, -1, 0, 1, 20_386, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats_utc() {
        let t = parse_rfc3339("2026-10-25T02:05:00.120+01:00").unwrap();
        assert_eq!(format_utc(t), "2026-10-25T01:05:00.12Z");
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
    }
}
