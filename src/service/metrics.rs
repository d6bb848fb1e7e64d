//! `/metrics`: the Prometheus text format.
//!
//! Totals of what was stored (events, duplicates, snapshots, lines kept aside) come from the
//! store, so they survive restarts and only grow; runs, failures and durations are counted
//! by this process.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use seatmeter_core::Nanos;

use super::auth::Failure;
use super::schedule::{JobResult, Observer, seconds};
use seatmeter_store::{CollectorStatus, StoreStatus};

#[derive(Debug, Clone, Default)]
struct Runs {
    success: u64,
    failure: u64,
    duration_sum: f64,
    last_duration: f64,
    last_success: Option<Nanos>,
    last_error: Option<(Nanos, String)>,
    /// Failed runs since the last success.
    failures_in_a_row: u32,
}

/// What the service's loops observed since it started.
#[derive(Default)]
pub struct Metrics {
    collectors: Mutex<BTreeMap<String, Runs>>,
    rollup: Mutex<Runs>,
    /// Refused requests, per [`Failure`].
    auth_failures: [AtomicU64; 4],
    /// What the guardrail checks and deliveries saw last.
    pub guard: Mutex<super::guard::GuardView>,
}

impl Metrics {
    pub fn new(collectors: impl IntoIterator<Item = String>) -> Metrics {
        Metrics {
            collectors: Mutex::new(
                collectors
                    .into_iter()
                    .map(|n| (n, Runs::default()))
                    .collect(),
            ),
            rollup: Mutex::default(),
            auth_failures: Default::default(),
            guard: Mutex::default(),
        }
    }

    /// A request refused: no, an unknown or a malformed token, or one not allowed.
    pub fn auth_failure(&self, why: Failure) {
        self.auth_failures[why.index()].fetch_add(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Each collector's failures since its last success, for the `collector_failing` rule.
    pub fn collector_health(&self) -> Vec<crate::guard::check::CollectorHealth> {
        let collectors = self.collectors.lock().expect("metrics lock");
        collectors
            .iter()
            .map(|(name, r)| crate::guard::check::CollectorHealth {
                name: name.clone(),
                failures_in_a_row: r.failures_in_a_row,
                last_error: r.last_error.as_ref().map(|(_, e)| e.clone()),
            })
            .collect()
    }

    /// The collectors that are not doing their work: never run yet, or no successful
    /// collection for longer than `allowed` says for them (their last error is given).
    pub fn collector_problems(
        &self,
        now: Nanos,
        allowed: &dyn Fn(&str) -> Duration,
    ) -> Vec<String> {
        let collectors = self.collectors.lock().expect("metrics lock");
        let mut out = Vec::new();
        for (name, r) in collectors.iter() {
            if r.success + r.failure == 0 {
                out.push(format!("collector {name} has not run yet"));
                continue;
            }
            let limit = allowed(name).as_nanos() as Nanos;
            let since = r.last_success.map(|t| now - t);
            if since.is_none_or(|s| s > limit) {
                let error = r
                    .last_error
                    .as_ref()
                    .map(|(_, e)| format!(" (last error: {e})"))
                    .unwrap_or_default();
                let age = match since {
                    Some(s) => format!(
                        "for {}",
                        humantime::format_duration(Duration::from_secs(
                            (s / 1_000_000_000).max(0) as u64
                        ))
                    ),
                    None => "since the service started".into(),
                };
                out.push(format!(
                    "collector {name}: no successful collection {age}{error}"
                ));
            }
        }
        out
    }
}

fn record(r: &mut Runs, started: Nanos, duration: Duration, result: &JobResult) {
    r.duration_sum += duration.as_secs_f64();
    r.last_duration = duration.as_secs_f64();
    match result {
        Ok(()) => {
            r.success += 1;
            r.last_success = Some(started);
            r.failures_in_a_row = 0;
        }
        Err(e) => {
            r.failure += 1;
            r.failures_in_a_row += 1;
            r.last_error = Some((started, e.clone()));
        }
    }
}

impl Observer for Metrics {
    fn collection(&self, collector: &str, started: Nanos, duration: Duration, result: &JobResult) {
        let mut m = self.collectors.lock().expect("metrics lock");
        record(
            m.entry(collector.to_string()).or_default(),
            started,
            duration,
            result,
        );
        // The collection logs its own line, with its counts; this adds the timing of
        // failures that happen before it could (a timeout, a panic).
        if let Err(e) = result {
            tracing::debug!(collector, error = %e, duration_ms = duration.as_millis() as u64, "run ended");
        }
    }

    fn rollup(&self, started: Nanos, duration: Duration, result: &JobResult) {
        record(
            &mut self.rollup.lock().expect("metrics lock"),
            started,
            duration,
            result,
        );
        if let Err(e) = result {
            tracing::warn!(error = %e, "rollup failed");
        }
    }
}

/// A label value, escaped as the text format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(super) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample: `name{label="value",…} v` (no braces without labels).
pub(super) fn sample(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    v: impl std::fmt::Display,
) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", label(val));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {v}");
}

/// Everything `/metrics` shows. `lag_days`: local days up to yesterday with data that is not
/// rolled up yet.
pub fn render(m: &Metrics, status: &StoreStatus, lag_days: u64) -> String {
    let mut out = String::new();
    let collectors = m.collectors.lock().expect("metrics lock").clone();
    stored_totals(&mut out, &collectors, status);
    collector_runs(&mut out, &collectors, status);
    let rollup = m.rollup.lock().expect("metrics lock").clone();
    family(
        &mut out,
        "seatmeter_rollups_total",
        "counter",
        "Rollup runs since the service started, per outcome.",
    );
    sample(
        &mut out,
        "seatmeter_rollups_total",
        &[("outcome", "success")],
        rollup.success,
    );
    sample(
        &mut out,
        "seatmeter_rollups_total",
        &[("outcome", "failure")],
        rollup.failure,
    );
    family(
        &mut out,
        "seatmeter_rollup_last_success_timestamp_seconds",
        "gauge",
        "When the last successful rollup started (0: never).",
    );
    sample(
        &mut out,
        "seatmeter_rollup_last_success_timestamp_seconds",
        &[],
        rollup.last_success.map(seconds).unwrap_or(0.0),
    );
    family(
        &mut out,
        "seatmeter_rollup_lag_days",
        "gauge",
        "Local days up to yesterday with data that is not rolled up yet.",
    );
    sample(&mut out, "seatmeter_rollup_lag_days", &[], lag_days);
    family(
        &mut out,
        "seatmeter_events_stored",
        "gauge",
        "Raw seat events in the store (retention deletes old ones).",
    );
    sample(&mut out, "seatmeter_events_stored", &[], status.events);
    family(
        &mut out,
        "seatmeter_store_size_bytes",
        "gauge",
        "Size of the store.",
    );
    sample(
        &mut out,
        "seatmeter_store_size_bytes",
        &[],
        status.size_bytes,
    );
    family(
        &mut out,
        "seatmeter_http_auth_failures_total",
        "counter",
        "HTTP requests refused since the service started: no token (missing), a token no one was given (unknown), an Authorization header that is not a bearer token (malformed), a token asking beyond its tenant (forbidden).",
    );
    for f in Failure::ALL {
        sample(
            &mut out,
            "seatmeter_http_auth_failures_total",
            &[("reason", f.as_str())],
            m.auth_failures[f.index()].load(Ordering::Relaxed),
        );
    }
    super::gauges::render(&mut out, &m.guard.lock().expect("guard lock"));
    out
}

/// The totals the store keeps per collector, so they survive restarts.
fn stored_totals(out: &mut String, collectors: &BTreeMap<String, Runs>, status: &StoreStatus) {
    let stored = |name: &str| status.collectors.iter().find(|c| c.name == name);
    for (metric, help, get) in [
        (
            "seatmeter_events_collected_total",
            "Seat events stored, per collector.",
            (|c: &CollectorStatus| c.events) as fn(&CollectorStatus) -> u64,
        ),
        (
            "seatmeter_duplicates_total",
            "Events read again and not stored twice, per collector.",
            |c| c.duplicates,
        ),
        (
            "seatmeter_snapshots_collected_total",
            "Configuration snapshots stored, per collector.",
            |c| c.snapshots,
        ),
        (
            "seatmeter_lines_kept_aside_total",
            "Lines (or documents) that could not be read and were kept aside, per collector.",
            |c| c.rejects,
        ),
    ] {
        family(out, metric, "counter", help);
        for name in collectors.keys() {
            let v = stored(name).map(get).unwrap_or(0);
            sample(out, metric, &[("collector", name)], v);
        }
    }
}

/// What this process saw of each collector's runs: counts, durations, last success and
/// error (from the store when this process has not run it yet).
fn collector_runs(out: &mut String, collectors: &BTreeMap<String, Runs>, status: &StoreStatus) {
    let stored = |name: &str| status.collectors.iter().find(|c| c.name == name);
    family(
        out,
        "seatmeter_collections_total",
        "counter",
        "Collection runs since the service started, per collector and outcome.",
    );
    for (name, r) in collectors {
        let m = "seatmeter_collections_total";
        sample(
            out,
            m,
            &[("collector", name), ("outcome", "success")],
            r.success,
        );
        sample(
            out,
            m,
            &[("collector", name), ("outcome", "failure")],
            r.failure,
        );
    }
    family(
        out,
        "seatmeter_collection_duration_seconds",
        "summary",
        "Time spent collecting, per collector.",
    );
    for (name, r) in collectors {
        let c = [("collector", name.as_str())];
        sample(
            out,
            "seatmeter_collection_duration_seconds_sum",
            &c,
            r.duration_sum,
        );
        sample(
            out,
            "seatmeter_collection_duration_seconds_count",
            &c,
            r.success + r.failure,
        );
    }
    family(
        out,
        "seatmeter_collection_last_duration_seconds",
        "gauge",
        "Duration of the last collection, per collector.",
    );
    for (name, r) in collectors {
        sample(
            out,
            "seatmeter_collection_last_duration_seconds",
            &[("collector", name)],
            r.last_duration,
        );
    }
    family(
        out,
        "seatmeter_collection_last_success_timestamp_seconds",
        "gauge",
        "When the last successful collection started (0: never), per collector.",
    );
    for (name, r) in collectors {
        let t = r.last_success.or(stored(name).and_then(|c| c.last_success));
        let m = "seatmeter_collection_last_success_timestamp_seconds";
        sample(
            out,
            m,
            &[("collector", name)],
            t.map(seconds).unwrap_or(0.0),
        );
    }
    let last_error = |name: &str, r: &Runs| {
        r.last_error
            .clone()
            .or(stored(name).and_then(|c| c.last_error.clone()))
    };
    family(
        out,
        "seatmeter_collection_last_error_timestamp_seconds",
        "gauge",
        "When the last failed collection started (0: none), per collector.",
    );
    for (name, r) in collectors {
        let t = last_error(name, r).map(|e| seconds(e.0)).unwrap_or(0.0);
        sample(
            out,
            "seatmeter_collection_last_error_timestamp_seconds",
            &[("collector", name)],
            t,
        );
    }
    family(
        out,
        "seatmeter_collection_last_error_info",
        "gauge",
        "The last error of each collector that failed, as a label.",
    );
    for (name, r) in collectors {
        if let Some((_, e)) = last_error(name, r) {
            let labels = [("collector", name.as_str()), ("error", e.as_str())];
            sample(out, "seatmeter_collection_last_error_info", &labels, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
