//! The guardrail gauges of `/metrics` (docs/ALERTS.md, "Gauges"): live usage per item for
//! the system and each tenant, entitlement and utilization, license expiry, open alerts and
//! the outbox. No agent, group or session label: at most (tenants + 1) × measures series
//! per usage gauge, and none per tenant above `guard::live::MAX_TENANT_SERIES` tenants.

use super::guard::GuardView;
use super::metrics::{family, sample};
use super::schedule::seconds;
use seatmeter_core::Entitled;

/// The gauges, from what the last check saw.
pub fn render(out: &mut String, v: &GuardView) {
    usage(out, v);
    family(
        out,
        "seatmeter_license_expiry_timestamp_seconds",
        "gauge",
        "When each licensed feature's last dated line ends (the end of its last valid day, in the site's time zone); permanent features have no series.",
    );
    for (feature, vendor, ends) in &v.expiries {
        sample(
            out,
            "seatmeter_license_expiry_timestamp_seconds",
            &[("feature", feature), ("vendor", vendor)],
            seconds(*ends),
        );
    }
    family(
        out,
        "seatmeter_license_expiry_warnings",
        "gauge",
        "License lines and grants within the expiry warning thresholds (or expired), per threshold in days (\"expired\" once past).",
    );
    let mut levels: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for e in &v.expiring {
        let level = match e.warning.threshold {
            Some(t) => t.to_string(),
            None => "expired".into(),
        };
        *levels.entry(level).or_default() += 1;
    }
    for (level, n) in &levels {
        sample(
            out,
            "seatmeter_license_expiry_warnings",
            &[("within_days", level)],
            n,
        );
    }
    family(
        out,
        "seatmeter_alerts_open",
        "gauge",
        "Open alert episodes, per rule.",
    );
    for (rule, n) in &v.open {
        sample(out, "seatmeter_alerts_open", &[("rule", rule)], n);
    }
    family(
        out,
        "seatmeter_notifications",
        "gauge",
        "Notifications in the outbox, per state (pending: waiting or being retried; dead: given up after dead_letter_after).",
    );
    for (state, n) in &v.outbox {
        sample(out, "seatmeter_notifications", &[("state", state)], n);
    }
    family(
        out,
        "seatmeter_notification_attempts_total",
        "counter",
        "Delivery attempts since the service started, per channel and outcome.",
    );
    for (channel, (ok, failed, _)) in &v.channels {
        sample(
            out,
            "seatmeter_notification_attempts_total",
            &[("channel", channel), ("outcome", "delivered")],
            ok,
        );
        sample(
            out,
            "seatmeter_notification_attempts_total",
            &[("channel", channel), ("outcome", "failed")],
            failed,
        );
    }
    family(
        out,
        "seatmeter_guard_checks_total",
        "counter",
        "Guardrail checks since the service started, per outcome.",
    );
    sample(
        out,
        "seatmeter_guard_checks_total",
        &[("outcome", "success")],
        v.checks_ok,
    );
    sample(
        out,
        "seatmeter_guard_checks_total",
        &[("outcome", "failure")],
        v.checks_failed,
    );
}

fn usage(out: &mut String, v: &GuardView) {
    let Some(live) = &v.live else { return };
    family(
        out,
        "seatmeter_live_usage_timestamp_seconds",
        "gauge",
        "The instant the live usage gauges are of.",
    );
    sample(
        out,
        "seatmeter_live_usage_timestamp_seconds",
        &[],
        seconds(live.at),
    );
    type Get = fn(&crate::guard::live::LiveValue) -> Option<f64>;
    let gauges: [(&str, &str, Get); 5] = [
        (
            "seatmeter_seats_in_use",
            "Seats logged in now, per item; tenant=\"\" is the system (all tenants, each agent once).",
            |x| Some(x.in_use as f64),
        ),
        (
            "seatmeter_peak_seats_today",
            "The most seats logged in at once today so far (local day), per item.",
            |x| Some(x.peak_today as f64),
        ),
        (
            "seatmeter_enabled_seats",
            "Seats enabled now (the configuration snapshot in force), per item.",
            |x| Some(x.enabled as f64),
        ),
        (
            "seatmeter_entitled_seats",
            "Seats entitled today, per item: the license files and system grants for the system, the tenant's grants for a tenant (+Inf: uncounted); no series without an entitlement.",
            |x| match x.entitled {
                Some(Entitled::Seats(n)) => Some(n as f64),
                Some(Entitled::Unlimited) => Some(f64::INFINITY),
                None => None,
            },
        ),
        (
            "seatmeter_utilization_ratio",
            "Today's peak so far (enabled seats for a named item) over today's entitlement, per item; no series without a number of seats entitled.",
            |x| x.utilization(),
        ),
    ];
    for (name, help, get) in gauges {
        family(out, name, "gauge", help);
        for x in &live.values {
            if let Some(val) = get(x) {
                let tenant = x.tenant.as_deref().unwrap_or("");
                let shown = if val.is_infinite() {
                    "+Inf".to_string()
                } else {
                    format!("{val}")
                };
                sample(out, name, &[("item", &x.item), ("tenant", tenant)], shown);
            }
        }
    }
}
