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
