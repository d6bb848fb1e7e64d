//! `[service]`: how `seatmeter serve` runs.

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
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: "127.0.0.1:9184".into(),
            rollup_delay: HumanDuration(std::time::Duration::from_secs(15 * 60)),
            retention: HumanDuration(std::time::Duration::from_secs(400 * 86_400)),
            timeout: HumanDuration(std::time::Duration::from_secs(600)),
            max_backoff: HumanDuration(std::time::Duration::from_secs(1800)),
        }
    }
}
