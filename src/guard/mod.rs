//! Guardrails (docs/ALERTS.md, docs/GUARDRAILS.md): live usage between rollups, baselines,
//! forecasts and expiry warnings, the alert rules checked against them, and the outbox that
//! delivers their notifications.
//!
//! A check ([`check`]) gathers its inputs from the store and the configuration (the daily
//! rows of the report, the rollup's live state, the license files), finds which rules'
//! conditions hold ([`check::findings`]), and writes the episodes that opened or resolved
//! with their notifications in one transaction ([`outbox::changes`]). Delivery
//! ([`outbox::deliver_due`]) is separate: a receiver that is down delays nothing else.

pub mod check;
pub mod expiry;
pub mod live;
pub mod outbox;
pub mod pdf;
pub mod series;

use std::collections::BTreeSet;

use seatmeter_alerts::Condition;
use seatmeter_core::{Calendar, Day, Nanos, ScopeKind};
use seatmeter_store::Store;
use seatmeter_store::alerts::{AlertChange, Episode};

use crate::config::Config;
use crate::report::{ReportError, restatement_line};
use check::{CollectorHealth, Finding, Inputs, Restated};
use live::LiveUsage;

/// Restatements younger than this are alerted about (older ones were, or are history).
const RESTATED_DAYS: i64 = 31;

/// What one check found and changed.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
    /// Episodes opened or resolved by this check.
    pub changed: Vec<Episode>,
    /// Rules not checked, for want of their inputs (collector health outside the service).
    pub skipped: BTreeSet<String>,
    /// Files that could not be read for the expiry warnings.
    pub errors: Vec<String>,
    /// What expires soon as of the check (the gauges show it: the files are read once).
    pub expiring: Vec<expiry::Expiring>,
}

/// The last complete local day of data: yesterday, or the day before the last day rolled
/// up if earlier. The last rolled-up day is the day of the latest event collected, and
/// events of that day may still be on their way (or the collection stopped during it): it
/// is not complete until a later day has begun. None: fewer than two days rolled up.
pub fn last_complete_day(
    store: &mut dyn Store,
    config: &Config,
    now: Nanos,
) -> Result<Option<Day>, ReportError> {
    let cal = Calendar::new(config.timezone);
    let yesterday = cal.day_of(now) - 1;
    Ok(store
        .rolled_days()?
        .map(|(a, b)| (a, (b - 1).min(yesterday)))
        .filter(|(a, d)| d >= a)
        .map(|(_, d)| d))
}

/// Reads what the rules need: the daily series up to the last complete day, the expiries
/// as of today, the restatements of the last month.
pub fn gather(
    store: &mut dyn Store,
    config: &Config,
    now: Nanos,
    live: Option<LiveUsage>,
    collectors: Option<Vec<CollectorHealth>>,
) -> Result<(Inputs, Vec<String>), ReportError> {
    let cal = Calendar::new(config.timezone);
    let guard = &config.guard;
    let rules = &config.alerting.rules;
    let needs = |c: &[Condition]| rules.iter().any(|r| c.contains(&r.condition));
    let as_of = last_complete_day(store, config, now)?;
    let series = match as_of {
        Some(d)
            if needs(&[
                Condition::OverUse,
                Condition::BaselineBreach,
                Condition::Utilization,
                Condition::Forecast,
            ]) =>
        {
            let back = guard.forecast_days.max(guard.baseline_days) as i32;
            series::daily_series(store, config, d - back, d, series::Scopes::All)?
        }
        _ => Vec::new(),
    };
    let (expiring, errors) = expiry::expiring(config, cal.day_of(now), guard);
    let mut restated = Vec::new();
    if needs(&[Condition::Restated]) {
        let dims = store.dimensions()?;
        let measures = config.measures();
        let since = now - RESTATED_DAYS * seatmeter_core::time::NANOS_PER_DAY;
        for r in store.restatements(Day::MIN, Day::MAX)? {
            if r.at < since || r.scope.kind.is_group() {
                continue;
            }
            let tenant = (r.scope.kind == ScopeKind::Tenant)
                .then(|| dims.tenants[r.scope.id as usize].clone());
            let item = measures
                .get(r.item as usize)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            restated.push(Restated {
                subject: format!(
                    "{}|{item}|{}|{}",
                    tenant
                        .as_deref()
                        .map(|t| format!("tenant={t}"))
                        .unwrap_or("system".into()),
                    Calendar::date_text(r.day),
                    r.at
                ),
                tenant,
                item,
                day: r.day,
                sentence: restatement_line(&r, &dims, &measures, &cal),
            });
        }
    }
    Ok((
        Inputs {
            as_of,
            series,
            live,
            expiring,
            collectors,
            restated,
        },
        errors,
    ))
}

/// What a check would change, without writing it: the findings and the changes (each with
/// its notifications), as [`check`] writes them.
pub fn evaluate(
    store: &mut dyn Store,
    config: &Config,
    now: Nanos,
    live: Option<LiveUsage>,
    collectors: Option<Vec<CollectorHealth>>,
) -> Result<(CheckReport, Vec<AlertChange>), ReportError> {
    let rules = &config.alerting.rules;
    let skipped: BTreeSet<String> = rules
        .iter()
        .filter(|r| r.condition == Condition::CollectorFailing && collectors.is_none())
        .map(|r| r.name.clone())
        .collect();
    let (inputs, errors) = gather(store, config, now, live, collectors)?;
    let findings = check::findings(rules, &config.guard, config.finops.target_band, &inputs);
    let expiring = inputs.expiring;
    let open = store.alert_episodes(true)?;
    let changes = outbox::changes(rules, &findings, &open, &skipped, &config.site, now);
    Ok((
        CheckReport {
            findings,
            changed: Vec::new(),
            skipped,
            errors,
            expiring,
        },
        changes,
    ))
}

/// Checks every rule now and writes what changed (episodes and their notifications, in
/// one transaction).
pub fn check(
    store: &mut dyn Store,
    config: &Config,
    now: Nanos,
    live: Option<LiveUsage>,
    collectors: Option<Vec<CollectorHealth>>,
) -> Result<CheckReport, ReportError> {
    let (mut report, changes) = evaluate(store, config, now, live, collectors)?;
    report.changed = store.apply_alerts(&changes, now)?;
    Ok(report)
}
