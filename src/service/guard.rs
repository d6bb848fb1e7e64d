//! The service's guardrails (docs/ALERTS.md): every `[service] guard_interval` the live
//! usage is computed and the alert rules are checked; every `[service] deliver_interval`
//! the notifications due are attempted. Both run on blocking threads with their own store
//! connections; a failure of either is logged, shown in `/metrics` and retried at the next
//! interval, and never stops collection.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::LazyStore;
use super::metrics::Metrics;
use super::schedule::Clock;
use crate::config::Config;
use crate::guard::check::CollectorHealth;
use crate::guard::expiry::Expiring;
use crate::guard::live::{LiveUsage, live_usage};

/// What the last check saw, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct GuardView {
    pub live: Option<LiveUsage>,
    pub expiring: Vec<Expiring>,
    /// Each dated feature's end: (feature, vendor, the instant its last valid day ends).
    pub expiries: Vec<(String, String, seatmeter_core::Nanos)>,
    /// Open episodes per rule.
    pub open: BTreeMap<String, u64>,
    /// Notifications per state (pending, delivered, dead, acknowledged).
    pub outbox: BTreeMap<&'static str, u64>,
    pub checks_ok: u64,
    pub checks_failed: u64,
    pub last_error: Option<String>,
    /// Per channel: attempts delivered, attempts failed, and the last error.
    pub channels: BTreeMap<String, (u64, u64, Option<String>)>,
}

pub type SharedView = Arc<Mutex<GuardView>>;

async fn sleep_or_stop(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => !*shutdown.borrow(),
        _ = shutdown.changed() => false,
    }
}

/// Starts the check and the delivery loops.
pub fn spawn(
    config: &Arc<Config>,
    clock: &Arc<dyn Clock>,
    metrics: &Arc<Metrics>,
    shutdown: &watch::Receiver<bool>,
) -> [tokio::task::JoinHandle<()>; 2] {
    [
        tokio::spawn(check_loop(
            config.clone(),
            clock.clone(),
            metrics.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(deliver_loop(
            config.clone(),
            clock.clone(),
            metrics.clone(),
            shutdown.clone(),
        )),
    ]
}

/// The check loop: live usage, then every rule, now and every `interval`.
pub async fn check_loop(
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let store: LazyStore = Arc::default();
    loop {
        let (config2, clock2, metrics2, store2) = (
            config.clone(),
            clock.clone(),
            metrics.clone(),
            store.clone(),
        );
        let done = tokio::task::spawn_blocking(move || {
            super::with_lazy_store(&store2, &config2, |store| {
                check_once(store, &config2, clock2.now(), &metrics2)
            })
        })
        .await
        .map_err(|e| format!("the check panicked: {e}"))
        .and_then(|r| r);
        {
            let mut v = metrics.guard.lock().expect("guard lock");
            match done {
                Ok(()) => v.checks_ok += 1,
                Err(e) => {
                    tracing::warn!(error = %e, "guardrail check failed; retried at the next interval");
                    v.checks_failed += 1;
                    v.last_error = Some(e);
                }
            }
        }
        if !sleep_or_stop(config.service.guard_interval.0, &mut shutdown).await {
            return;
        }
    }
}

/// One check: live usage, findings, episodes and their notifications, the counts.
fn check_once(
    store: &mut dyn seatmeter_store::Store,
    config: &Config,
    now: seatmeter_core::Nanos,
    metrics: &Metrics,
) -> Result<(), String> {
    let live = match live_usage(store, config, now) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::debug!(error = %e, "no live usage");
            None
        }
    };
    let collectors: Vec<CollectorHealth> = metrics.collector_health();
    let report = crate::guard::check(store, config, now, live.clone(), Some(collectors))
        .map_err(|e| e.to_string())?;
    for e in &report.changed {
        let state = if e.resolved_at.is_some() {
            "resolved"
        } else {
            "fired"
        };
        tracing::info!(rule = %e.rule, subject = %e.subject, state, summary = %e.summary, "alert");
    }
    let cal = seatmeter_core::Calendar::new(config.timezone);
    let expiring = report.expiring;
    let expiries = crate::guard::expiry::feature_expiries(config)
        .into_iter()
        .map(|(f, v, d)| {
            let next = seatmeter_core::calendar::day_of_date(d) + 1;
            (f, v, cal.day_start(next))
        })
        .collect();
    let mut open: BTreeMap<String, u64> = config
        .alerting
        .rules
        .iter()
        .map(|r| (r.name.clone(), 0))
        .collect();
    for e in store.alert_episodes(true).map_err(|e| e.to_string())? {
        *open.entry(e.rule).or_default() += 1;
    }
    let outbox = outbox_counts(store)?;
    let mut v = metrics.guard.lock().expect("guard lock");
    v.live = live;
    v.expiring = expiring;
    v.expiries = expiries;
    v.open = open;
    v.outbox = outbox;
    v.last_error = None;
    Ok(())
}

fn outbox_counts(
    store: &mut dyn seatmeter_store::Store,
) -> Result<BTreeMap<&'static str, u64>, String> {
    use seatmeter_store::alerts::OutboxState as S;
    let mut counts: BTreeMap<&'static str, u64> =
        [S::Pending, S::Delivered, S::Dead, S::Acknowledged]
            .iter()
            .map(|s| (s.as_str(), 0))
            .collect();
    for e in store.outbox().map_err(|e| e.to_string())? {
        *counts.entry(e.state.as_str()).or_default() += 1;
    }
    Ok(counts)
}

/// The delivery loop: every notification due, every `interval`.
pub async fn deliver_loop(
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    if config.alerting.channels.is_empty() {
        return;
    }
    let store: LazyStore = Arc::default();
    loop {
        if !sleep_or_stop(config.service.deliver_interval.0, &mut shutdown).await {
            return;
        }
        let (config2, clock2, store2) = (config.clone(), clock.clone(), store.clone());
        let round = tokio::task::spawn_blocking(move || {
            super::with_lazy_store(&store2, &config2, |store| {
                let r =
                    crate::guard::outbox::deliver_due(store, &config2.alerting, &|| clock2.now())
                        .map_err(|e| e.to_string())?;
                Ok((r, outbox_counts(store)?))
            })
        })
        .await
        .map_err(|e| format!("the delivery panicked: {e}"))
        .and_then(|r| r);
        let mut v = metrics.guard.lock().expect("guard lock");
        match round {
            Ok((r, counts)) => {
                for (c, key) in &r.delivered {
                    tracing::info!(channel = %c, key = %key, "notification delivered");
                    v.channels.entry(c.clone()).or_default().0 += 1;
                }
                for (c, key, e) in &r.failed {
                    tracing::warn!(channel = %c, key = %key, error = %e, "notification not delivered; retried with backoff");
                    let ch = v.channels.entry(c.clone()).or_default();
                    ch.1 += 1;
                    ch.2 = Some(e.clone());
                }
                for key in &r.dead {
                    tracing::error!(key = %key, "notification dead-lettered: `seatmeter alerts list` shows it, `seatmeter alerts retry` sends it again");
                }
                v.outbox = counts;
            }
            Err(e) => {
                tracing::warn!(error = %e, "delivering notifications failed; retried at the next interval")
            }
        }
    }
}
