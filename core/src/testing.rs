//! For tests that need something from outside the project (PostgreSQL, poppler, Chromium):
//! a missing dependency never looks like a pass.

use std::io::Write;

/// A test cannot run because `missing` is not there. Under `CI=true` the test fails;
/// elsewhere it says so loudly, on standard error itself (cargo shows it even for a
/// passing test, whose printed output it hides), and the caller returns.
pub fn skip(test: &str, missing: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {missing}; under CI=true a skipped test is a failure");
    }
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {test}: {missing} ***");
}

/// The PostgreSQL database for tests (`SEATMETER_TEST_DATABASE_URL`), or None after
/// [`skip`] when it is not set.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var("SEATMETER_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(test, "SEATMETER_TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// A URL like `base` whose connections work in `schema`.
pub fn schema_url(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A name no other test run uses, for a schema or a folder.
pub fn unique_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("sm_{test}_{}_{nanos}", std::process::id())
}

/// Mutations of seed inputs for the fuzz tests (docs/TESTING.md, "Fuzzing"): deterministic
/// for a seed, so a failure names the seed and iteration that reproduce it.
pub struct Mutator {
    rng: crate::rng::Rng,
}

/// What parsers of our formats trip on: NULs, byte-order marks, continuation and escape
/// characters, quotes, counts past every integer type, dates at the ends of the calendar.
const INTERESTING: &[&str] = &[
    "\0",
    "\u{feff}",
    "\\",
    "\\\n",
    "\n\\\n\n",
    "\"",
    "'",
    ",",
    ";",
    "\n",
    "\r\n",
    "\n\n",
    "<",
    ">",
    "&",
    "&#0;",
    "]]>",
    "=",
    "#",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "-1",
    "0",
    "permanent",
    "uncounted",
    "1-jan-0",
    "31-dec-9999",
    "0000-00-00T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-13-40T25:61:61Z",
    "é",
    "\u{10ffff}",
];

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator {
            rng: crate::rng::Rng::new(seed),
        }
    }

    /// `seed` changed by one to four mutations: a byte flipped, an interesting token
    /// inserted or put in place of a byte run, a run deleted, a line duplicated, or the
    /// input cut short.
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut b = seed.to_vec();
        for _ in 0..1 + self.rng.below(4) {
            let at = self.rng.below(b.len() as u64 + 1) as usize;
            match self.rng.below(6) {
                0 if !b.is_empty() => {
                    let i = at.min(b.len() - 1);
                    b[i] ^= 1 << self.rng.below(8);
                }
                1 => {
                    let tok = INTERESTING[self.rng.below(INTERESTING.len() as u64) as usize];
                    b.splice(at..at, tok.bytes());
                }
                2 => {
                    let tok = INTERESTING[self.rng.below(INTERESTING.len() as u64) as usize];
                    let end = (at + 1 + self.rng.below(8) as usize).min(b.len());
                    b.splice(at..end.max(at), tok.bytes());
                }
                3 => {
                    let end = (at + 1 + self.rng.below(16) as usize).min(b.len());
                    b.drain(at..end.max(at));
                }
                4 => {
                    let start = b[..at]
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |i| i + 1);
                    let end = b[at..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(b.len(), |i| at + i + 1);
                    let line = b[start..end].to_vec();
                    b.splice(start..start, line);
                }
                _ => b.truncate(at),
            }
        }
        b
    }
}

/// How many inputs each fuzz target tries: `SEATMETER_FUZZ_ITERATIONS`, or `default`.
pub fn fuzz_iterations(default: u64) -> u64 {
    std::env::var("SEATMETER_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first seed of a fuzz run: `SEATMETER_FUZZ_SEED`, or 0 (the fixed run of the tests).
pub fn fuzz_seed() -> u64 {
    std::env::var("SEATMETER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
