//! seatmeter's shared vocabulary, depending on nothing else of seatmeter's: instants and
//! the site's calendar, the scopes, granularities and entitlements every stage speaks of,
//! files written atomically, and the redaction of secrets.

pub mod calendar;
pub mod fs;
pub mod redact;
pub mod rng;
pub mod testing;
pub mod time;
mod vocab;

pub use calendar::{Calendar, Day};
pub use time::Nanos;
pub use vocab::{Entitled, Granularity, ScopeKind};

/// Hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A text field for a CSV file a spreadsheet may open: one that begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be taken for a formula (CSV injection, as OWASP
/// describes it), so it is written with a `'` before it. Every other text is unchanged;
/// JSON output always has the name as it is.
pub fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod csv_text_tests {
    #[test]
    fn formulas_are_neutralised_and_other_text_kept() {
        for (given, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("acme", "acme"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(super::csv_text(given), written);
        }
    }
}
