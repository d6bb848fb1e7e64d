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
