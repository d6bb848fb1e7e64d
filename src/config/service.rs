//! `[service]`: how `seatmeter serve` runs; `[collection]`: what every collection accepts.

use seatmeter_collectors::HumanDuration;
use serde::Deserialize;

/// `[service]`: how `seatmeter serve` runs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// Address of `/healthz`, `/metrics` and `/reports/...` (default 127.0.0.1:9184).
    pub listen: String,
    /// How long after local midnight the day is rolled up, so that late events are in
    /// (default "15m").
    pub rollup_delay: HumanDuration,
    /// How long raw events are kept (default "400d"). Older events are deleted once their
    /// days are rolled up; those days are then final. Rollups are kept forever.
    pub retention: HumanDuration,
    /// The longest a collection may take before it is stopped between batches (default "10m").
    pub timeout: HumanDuration,
    /// The longest wait between retries of a failing collector (default "30m"); waits
    /// double from 10 s, with jitter.
    pub max_backoff: HumanDuration,
    /// The most rows a `/reports` request may ask for (default 10,000,000; PDF reports at
    /// most 100,000): beyond, the answer is 413.
    pub max_report_rows: u64,
    /// How long a client has to send a request's headers (default "10s"): a slow or
    /// silent client is disconnected.
    pub header_timeout: HumanDuration,
    /// How many HTTP connections may be open at once (default 256); more are closed.
    pub max_connections: usize,
    /// Store connections of the HTTP side (default 2): at most this many requests read
    /// the store at once, the others wait.
    pub http_store_connections: usize,
}

/// `[collection]`: what every collection (by `collect` or the service) accepts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionConfig {
    /// How far after the collection's wall clock an instant may be (default "1d"): a line
    /// whose instant is later (a typo like 2126, a broken clock) is kept aside, as is any
    /// instant before 2000.
    pub future_margin: HumanDuration,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        CollectionConfig {
            future_margin: HumanDuration(std::time::Duration::from_secs(86_400)),
        }
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: "127.0.0.1:9184".into(),
            rollup_delay: HumanDuration(std::time::Duration::from_secs(15 * 60)),
            retention: HumanDuration(std::time::Duration::from_secs(400 * 86_400)),
            timeout: HumanDuration(std::time::Duration::from_secs(600)),
            max_backoff: HumanDuration(std::time::Duration::from_secs(1800)),
            max_report_rows: 10_000_000,
            header_timeout: HumanDuration(std::time::Duration::from_secs(10)),
            max_connections: 256,
            http_store_connections: 2,
        }
    }
}
