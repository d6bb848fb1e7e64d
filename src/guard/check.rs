//! The conditions of the alert rules (docs/ALERTS.md, "Rules"), found in what the
//! guardrails computed: each finding is one rule's condition holding for one subject now.
//! Pure: the inputs are gathered by [`super::gather`].

use seatmeter_alerts::{Condition, Rule};
use seatmeter_core::{Calendar, Day, Entitled};
use seatmeter_guard::{BreachKind, Guard, breaches, forecast};
use serde_json::json;

use super::expiry::Expiring;
use super::live::LiveUsage;
use super::series::Series;

/// One rule's condition holding for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: String,
    /// Stable: the same condition found again has the same subject.
    pub subject: String,
    pub tenant: Option<String>,
    pub item: Option<String>,
    /// One sentence a person reads.
    pub summary: String,
    pub details: serde_json::Value,
    /// Findings of one family replace each other without a notification of the end of
    /// the one before (an expiry going from the 60-day to the 30-day warning).
    pub family: Option<String>,
}

/// A collector as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorHealth {
    pub name: String,
    /// Failed runs since its last success.
    pub failures_in_a_row: u32,
    pub last_error: Option<String>,
}

/// One restatement of a day already rolled up (late data changed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restated {
    pub subject: String,
    pub tenant: Option<String>,
    pub item: String,
    pub day: Day,
    pub sentence: String,
}

/// What a check reads.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The last complete day of data (the series end there).
    pub as_of: Option<Day>,
    pub series: Vec<Series>,
    pub live: Option<LiveUsage>,
    pub expiring: Vec<Expiring>,
    /// None outside the service (the command line does not see collector runs).
    pub collectors: Option<Vec<CollectorHealth>>,
    pub restated: Vec<Restated>,
}

/// Whether a rule looks at a scope and item.
fn covers(rule: &Rule, tenant: Option<&str>, item: Option<&str>) -> bool {
    let scope_ok = match tenant {
        // The system's (site-wide) values only go to rules for every tenant.
        None => rule.tenants.is_empty(),
        Some(t) => rule.tenants.is_empty() || rule.tenants.iter().any(|x| x == t),
    };
    let item_ok = match item {
        None => true,
        Some(i) => rule.items.is_empty() || rule.items.iter().any(|x| x == i),
    };
    scope_ok && item_ok
}

fn subject(tenant: Option<&str>, item: &str) -> String {
    match tenant {
        None => format!("system|{item}"),
        Some(t) => format!("tenant={t}|{item}"),
    }
}

fn scope_words(tenant: Option<&str>) -> String {
    match tenant {
        None => "the system".into(),
        Some(t) => format!("tenant {t}"),
    }
}

fn finding(rule: &Rule, tenant: Option<&str>, item: &str) -> Finding {
    Finding {
        rule: rule.name.clone(),
        subject: subject(tenant, item),
        tenant: tenant.map(str::to_string),
        item: Some(item.to_string()),
        summary: String::new(),
        details: serde_json::Value::Null,
        family: None,
    }
}

fn seats(e: Option<Entitled>) -> serde_json::Value {
    match e {
        Some(Entitled::Seats(n)) => json!(n),
        Some(Entitled::Unlimited) => json!("unlimited"),
        None => serde_json::Value::Null,
    }
}

/// Every finding of every rule.
pub fn findings(
    rules: &[Rule],
    guard: &Guard,
    target_band: [u32; 2],
    inputs: &Inputs,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules {
        match rule.condition {
            Condition::OverUse => over_use(rule, inputs, &mut out),
            Condition::BaselineBreach | Condition::Utilization => {
                baseline(rule, guard, target_band, inputs, &mut out)
            }
            Condition::Forecast => forecasts(rule, guard, inputs, &mut out),
            Condition::Expiry => expiry(rule, inputs, &mut out),
            Condition::CollectorFailing => collectors(rule, inputs, &mut out),
            Condition::Restated => restated(rule, inputs, &mut out),
        }
    }
    // One episode per rule and subject: two license lines of one feature ending on one
    // day are one warning.
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert((f.rule.clone(), f.subject.clone())));
    out
}

/// Over-use now: today's peak so far (or enabled seats, for a named item) above today's
/// entitlement. Without live values (the command line), the last complete day's.
fn over_use(rule: &Rule, inputs: &Inputs, out: &mut Vec<Finding>) {
    if let Some(live) = &inputs.live {
        for v in &live.values {
            let (tenant, item) = (v.tenant.as_deref(), v.item.as_str());
            let Some(e) = v.entitled else { continue };
            if !covers(rule, tenant, Some(item)) || !e.exceeded_by(v.measured()) {
                continue;
            }
            let mut f = finding(rule, tenant, item);
            let what = if v.named {
                "seats enabled"
            } else {
                "seats in use at once today"
            };
            f.summary = format!(
                "{item} of {}: {} {what}, over the {} entitled",
                scope_words(tenant),
                v.measured(),
                seats(Some(e))
            );
            f.details = json!({"measured": v.measured(), "in_use": v.in_use, "peak_today": v.peak_today,
                "enabled": v.enabled, "entitled": seats(Some(e)), "live": true});
            out.push(f);
        }
        return;
    }
    let Some(as_of) = inputs.as_of else { return };
    for s in &inputs.series {
        let (tenant, item) = (s.tenant.as_deref(), s.item.as_str());
        let Some(&(day, measured, Some(e))) = s.days.last() else {
            continue;
        };
        if day != as_of || !covers(rule, tenant, Some(item)) || !e.exceeded_by(measured) {
            continue;
        }
        let mut f = finding(rule, tenant, item);
        f.summary = format!(
            "{item} of {}: {measured} seats on {}, over the {} entitled",
            scope_words(tenant),
            Calendar::date_text(day),
            seats(Some(e))
        );
        f.details = json!({"measured": measured, "entitled": seats(Some(e)), "day": Calendar::date_text(day), "live": false});
        out.push(f);
    }
}

/// The last complete day against its baseline (above the band) and the utilization
/// target band (outside it).
fn baseline(rule: &Rule, guard: &Guard, band: [u32; 2], inputs: &Inputs, out: &mut Vec<Finding>) {
    let Some(as_of) = inputs.as_of else { return };
    for s in &inputs.series {
        let (tenant, item) = (s.tenant.as_deref(), s.item.as_str());
        if !covers(rule, tenant, Some(item)) {
            continue;
        }
        let values = s.values();
        for b in breaches(&values, as_of, as_of, &|d| s.seats_on(d), band, guard) {
            let (summary, details) = match (rule.condition, &b.kind) {
                (Condition::BaselineBreach, BreachKind::AboveBaseline { mean, high }) => (
                    format!(
                        "{item} of {}: {} seats on {}, above its 30-day baseline of {mean:.1} (band up to {high:.1})",
                        scope_words(tenant),
                        b.peak,
                        Calendar::date_text(b.day)
                    ),
                    json!({"measured": b.peak, "mean": mean, "high": high, "day": Calendar::date_text(b.day)}),
                ),
                (Condition::Utilization, BreachKind::UtilizationHigh { utilization, upper }) => (
                    format!(
                        "{item} of {}: {:.0} % of the entitlement used on {}, above the target band's {upper} %",
                        scope_words(tenant),
                        utilization * 100.0,
                        Calendar::date_text(b.day)
                    ),
                    json!({"measured": b.peak, "utilization": utilization, "band": band, "day": Calendar::date_text(b.day)}),
                ),
                (Condition::Utilization, BreachKind::UtilizationLow { utilization, lower }) => (
                    format!(
                        "{item} of {}: {:.0} % of the entitlement used on {}, below the target band's {lower} %",
                        scope_words(tenant),
                        utilization * 100.0,
                        Calendar::date_text(b.day)
                    ),
                    json!({"measured": b.peak, "utilization": utilization, "band": band, "day": Calendar::date_text(b.day)}),
                ),
                _ => continue,
            };
            let mut f = finding(rule, tenant, item);
            f.summary = summary;
            f.details = details;
            out.push(f);
        }
    }
}

/// An exceedance of the entitlement forecast within the rule's `within_days`.
fn forecasts(rule: &Rule, guard: &Guard, inputs: &Inputs, out: &mut Vec<Finding>) {
    let Some(as_of) = inputs.as_of else { return };
    for s in &inputs.series {
        let (tenant, item) = (s.tenant.as_deref(), s.item.as_str());
        if !covers(rule, tenant, Some(item)) {
            continue;
        }
        let Some(ent) = s.seats_on(as_of) else {
            continue;
        };
        // Already over on the last complete day: that is over-use (its own rule), not a
        // forecast.
        if s.days
            .last()
            .is_some_and(|&(d, v, _)| d == as_of && v > ent as u64)
        {
            continue;
        }
        let Some(fc) = forecast(&s.values(), as_of, Some(ent), guard) else {
            continue;
        };
        let Some(x) = fc.exceeds else { continue };
        if x.date - as_of > rule.within_days as i32 {
            continue;
        }
        let mut f = finding(rule, tenant, item);
        let interval = match x.latest {
            Some(l) => format!(
                "between {} and {}",
                Calendar::date_text(x.earliest),
                Calendar::date_text(l)
            ),
            None => format!(
                "from {} on; the latest date lies beyond the {} days forecast",
                Calendar::date_text(x.earliest),
                guard.forecast_max_days
            ),
        };
        let days = x.date - as_of;
        f.summary = format!(
            "{item} of {}: expected to exceed its {ent} seats on {} ({interval}), {days} day{} after {}",
            scope_words(tenant),
            Calendar::date_text(x.date),
            if days == 1 { "" } else { "s" },
            Calendar::date_text(as_of)
        );
        f.details = json!({"entitled": ent, "date": Calendar::date_text(x.date),
            "earliest": Calendar::date_text(x.earliest), "latest": x.latest.map(Calendar::date_text),
            "slope_per_day": fc.slope_per_day, "peak_in_horizon": fc.peak_in_horizon, "days_used": fc.days_used});
        out.push(f);
    }
}

fn expiry(rule: &Rule, inputs: &Inputs, out: &mut Vec<Finding>) {
    for e in &inputs.expiring {
        if !covers(rule, e.tenant.as_deref(), None) {
            continue;
        }
        // Not the file and line: editing the file around it changes neither.
        let family = format!(
            "expiry|{}|{}|{}|{}",
            e.vendor,
            e.feature,
            e.tenant.as_deref().unwrap_or("-"),
            e.last_day()
        );
        let level = match e.warning.threshold {
            Some(t) => format!("{t}d"),
            None => "expired".into(),
        };
        out.push(Finding {
            rule: rule.name.clone(),
            subject: format!("{family}|{level}"),
            tenant: e.tenant.clone(),
            item: Some(e.feature.clone()),
            // A tenant's alert names no server path.
            summary: if e.tenant.is_some() {
                e.public_sentence()
            } else {
                e.sentence()
            },
            details: json!({"feature": e.feature, "vendor": e.vendor, "last_day": e.last_day().to_string(),
                "days_left": e.warning.days_left, "threshold": e.warning.threshold, "seats": e.seats}),
            family: Some(family),
        });
    }
}

fn collectors(rule: &Rule, inputs: &Inputs, out: &mut Vec<Finding>) {
    // Site-wide, with server paths in its errors: never for a tenant's rule.
    let Some(list) = &inputs.collectors else {
        return;
    };
    if !rule.tenants.is_empty() {
        return;
    }
    for c in list {
        if c.failures_in_a_row < rule.intervals {
            continue;
        }
        out.push(Finding {
            rule: rule.name.clone(),
            subject: format!("collector={}", c.name),
            tenant: None,
            item: None,
            summary: format!(
                "collector {} failed {} times in a row{}",
                c.name,
                c.failures_in_a_row,
                c.last_error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            details: json!({"collector": c.name, "failures_in_a_row": c.failures_in_a_row, "last_error": c.last_error}),
            family: None,
        });
    }
}

fn restated(rule: &Rule, inputs: &Inputs, out: &mut Vec<Finding>) {
    for r in &inputs.restated {
        if !covers(rule, r.tenant.as_deref(), Some(&r.item)) {
            continue;
        }
        out.push(Finding {
            rule: rule.name.clone(),
            subject: r.subject.clone(),
            tenant: r.tenant.clone(),
            item: Some(r.item.clone()),
            summary: r.sentence.clone(),
            details: json!({"day": Calendar::date_text(r.day)}),
            family: None,
        });
    }
}

#[cfg(test)]
mod tests;
