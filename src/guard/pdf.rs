//! The guardrails of a report (docs/GUARDRAILS.md): the baseline breaches of its days, the
//! forecast from its last day, and what expires soon, as rows (CSV, JSON, table) and as the
//! PDF's guardrails page. A tenant's document holds that tenant's rows only, and of the
//! expiries only its own grants (never the site's license lines).

use seatmeter_core::{Calendar, Day, ScopeKind};
use seatmeter_guard::{BreachKind, Guard, breaches, forecast};
use seatmeter_reports::pdf::{Guardrails, ListingColumn, ListingRow, ListingTable};
use seatmeter_store::Store;

use super::expiry::expiring;
use super::series::{Scopes, Series, daily_series};
use crate::config::Config;
use crate::report::{ReportError, Request};

/// One breach of a baseline or of the utilization band.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BreachRow {
    pub scope: &'static str,
    pub scope_id: String,
    pub item: String,
    pub day: String,
    /// `above_baseline`, `utilization_high` or `utilization_low`.
    pub kind: &'static str,
    pub measured: u32,
    pub baseline_mean: Option<f64>,
    pub band_high: Option<f64>,
    pub entitled: Option<u64>,
    pub utilization: Option<f64>,
}

/// The forecast of one scope's item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForecastRow {
    pub scope: &'static str,
    pub scope_id: String,
    pub item: String,
    pub as_of: String,
    pub entitled: Option<u64>,
    pub days_used: u32,
    pub slope_per_day: f64,
    pub peak_in_horizon: f64,
    pub peak_in_horizon_low: f64,
    pub peak_in_horizon_high: f64,
    /// The first day expected above the entitlement, and its interval.
    pub exceeds_on: Option<String>,
    pub exceeds_earliest: Option<String>,
    pub exceeds_latest: Option<String>,
    /// The days after `as_of` up to the horizon, for a chart (not in JSON: the numbers
    /// above are the forecast's record).
    #[serde(skip)]
    pub path: Vec<seatmeter_reports::chart::Band>,
}

fn scope_of(s: &Series) -> (&'static str, String) {
    match &s.tenant {
        None => ("system", String::new()),
        Some(t) => ("tenant", t.clone()),
    }
}

/// The series a request covers: the system's for a system report, every tenant's (or the
/// one asked for) for a tenant report; none for a group report.
fn series_of(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    from: Day,
    to: Day,
) -> Result<Vec<Series>, ReportError> {
    // One tenant's report reads that tenant's series only.
    let which = match req.scope {
        ScopeKind::System => Scopes::System,
        ScopeKind::Tenant => Scopes::Tenants(req.id.as_deref()),
        ScopeKind::Group | ScopeKind::PlaceGroup => return Ok(Vec::new()),
    };
    daily_series(store, config, from, to, which)
}

/// The breaches of the request's days.
pub fn breach_rows(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
) -> Result<Vec<BreachRow>, ReportError> {
    let guard = &config.guard;
    let back = guard.baseline_days as i32;
    let mut out = Vec::new();
    for s in series_of(store, config, req, req.from - back, req.to)? {
        let (scope, scope_id) = scope_of(&s);
        let values = s.values();
        for b in breaches(
            &values,
            req.from,
            req.to,
            &|d| s.seats_on(d),
            config.finops.target_band,
            guard,
        ) {
            let entitled = s.seats_on(b.day).map(u64::from);
            let (kind, mean, high, util) = match b.kind {
                BreachKind::AboveBaseline { mean, high } => {
                    ("above_baseline", Some(mean), Some(high), None)
                }
                BreachKind::UtilizationHigh { utilization, .. } => {
                    ("utilization_high", None, None, Some(utilization))
                }
                BreachKind::UtilizationLow { utilization, .. } => {
                    ("utilization_low", None, None, Some(utilization))
                }
            };
            out.push(BreachRow {
                scope,
                scope_id: scope_id.clone(),
                item: s.item.clone(),
                day: Calendar::date_text(b.day),
                kind,
                measured: b.peak,
                baseline_mean: mean,
                band_high: high,
                entitled,
                utilization: util,
            });
        }
    }
    Ok(out)
}

/// The forecasts as of `as_of` (the request's last day, or the last complete day if
/// earlier).
pub fn forecast_rows(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    as_of: Day,
) -> Result<Vec<ForecastRow>, ReportError> {
    let guard: &Guard = &config.guard;
    let mut out = Vec::new();
    for s in series_of(
        store,
        config,
        req,
        as_of - guard.forecast_days as i32 + 1,
        as_of,
    )? {
        let (scope, scope_id) = scope_of(&s);
        let ent = s.seats_on(as_of);
        let Some(f) = forecast(&s.values(), as_of, ent, guard) else {
            continue;
        };
        let date = |d: Day| Calendar::date_text(d);
        out.push(ForecastRow {
            scope,
            scope_id,
            item: s.item.clone(),
            as_of: date(as_of),
            entitled: ent.map(u64::from),
            days_used: f.days_used,
            slope_per_day: f.slope_per_day,
            peak_in_horizon: f.peak_in_horizon,
            peak_in_horizon_low: f.peak_in_horizon_low,
            peak_in_horizon_high: f.peak_in_horizon_high,
            exceeds_on: f.exceeds.as_ref().map(|x| date(x.date)),
            exceeds_earliest: f.exceeds.as_ref().map(|x| date(x.earliest)),
            exceeds_latest: f.exceeds.as_ref().and_then(|x| x.latest.map(date)),
            path: f
                .path
                .iter()
                .map(|&(low, mid, high)| seatmeter_reports::chart::Band { low, mid, high })
                .collect(),
        });
    }
    Ok(out)
}

fn col(title: &str, width: f32, numeric: bool) -> ListingColumn {
    ListingColumn {
        title: title.into(),
        width,
        numeric,
    }
}

fn who(scope: &str, id: &str) -> String {
    if scope == "system" {
        "System".into()
    } else {
        id.to_string()
    }
}

/// The PDF's guardrails page of a report (`tenant`: the tenant the document is for).
pub fn guardrails_page(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    tenant: Option<&str>,
) -> Result<Guardrails, ReportError> {
    let guard = &config.guard;
    let cal = Calendar::new(config.timezone);
    let today = cal.day_of(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let as_of = super::last_complete_day(
        store,
        config,
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
    )?
    .map_or(req.to, |d| d.min(req.to));
    let mut notes = vec![format!(
        "A day is a baseline breach when its peak (enabled seats for a named item) is above the mean of the {} days before it by more than {} %, and a utilization breach when its peak is outside {}–{} % of its entitlement. The forecast fits a trend and a weekday profile to the last {} days up to {} and gives a {} % interval. Expiry warnings are as of {} (thresholds {} days).",
        guard.baseline_days,
        guard.tolerance_percent,
        config.finops.target_band[0],
        config.finops.target_band[1],
        guard.forecast_days,
        Calendar::date_text(as_of),
        guard.confidence_percent,
        Calendar::date_text(today),
        guard.thresholds_text()
    )];
    if req.scope.is_group() {
        notes.push(
            "Baselines and forecasts are kept for the system and for tenants, not for groups."
                .into(),
        );
    }
    Ok(Guardrails {
        notes,
        tables: vec![
            expiry_table(config, today, tenant),
            breach_table(store, config, req)?,
            forecast_table(store, config, req, as_of)?,
        ],
    })
}

/// The lines and grants expiring within the thresholds (a tenant's: its grants only).
fn expiry_table(config: &Config, today: Day, tenant: Option<&str>) -> ListingTable {
    let guard = &config.guard;
    let (expiring, _) = expiring(config, today, guard);
    let expiry_rows: Vec<ListingRow> = expiring
        .iter()
        .filter(|e| match tenant {
            Some(t) => e.tenant.as_deref() == Some(t),
            None => true,
        })
        .map(|e| ListingRow {
            cells: vec![
                e.feature.clone(),
                e.tenant.clone().unwrap_or_else(|| e.vendor.clone()),
                e.seats
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "uncounted".into()),
                e.last_day().to_string(),
                if e.warning.expired {
                    "EXPIRED".into()
                } else {
                    format!("{} days left", e.warning.days_left)
                },
            ],
            marked: e.warning.expired || e.warning.days_left <= 30,
        })
        .collect();
    ListingTable {
        heading: format!(
            "Expiring within {} days",
            guard.expiry_warn_days.first().copied().unwrap_or(0)
        ),
        columns: vec![
            col("Feature or item", 0.26, false),
            col("Vendor or tenant", 0.2, false),
            col("Seats", 0.1, true),
            col("Last day", 0.16, false),
            col("Left", 0.28, false),
        ],
        rows: expiry_rows,
        empty: "Nothing expires within the warning thresholds.".into(),
    }
}

/// Every breach of the report's days.
fn breach_table(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
) -> Result<ListingTable, ReportError> {
    let breach = breach_rows(store, config, req)?;
    let breach_rows: Vec<ListingRow> = breach
        .iter()
        .map(|b| ListingRow {
            cells: vec![
                who(b.scope, &b.scope_id),
                b.item.clone(),
                b.day.clone(),
                b.measured.to_string(),
                b.baseline_mean
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "-".into()),
                b.entitled
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
                match b.kind {
                    "above_baseline" => {
                        format!("above baseline (band to {:.1})", b.band_high.unwrap_or(0.0))
                    }
                    "utilization_high" => format!(
                        "utilization {:.0} %, above band",
                        b.utilization.unwrap_or(0.0) * 100.0
                    ),
                    _ => format!(
                        "utilization {:.0} %, below band",
                        b.utilization.unwrap_or(0.0) * 100.0
                    ),
                },
            ],
            marked: b.kind != "utilization_low",
        })
        .collect();
    Ok(ListingTable {
        heading: "Baseline and utilization breaches".into(),
        columns: vec![
            col("Scope", 0.14, false),
            col("Item", 0.14, false),
            col("Day", 0.12, false),
            col("Peak", 0.08, true),
            col("Baseline", 0.1, true),
            col("Entitled", 0.1, true),
            col("Breach", 0.32, false),
        ],
        rows: breach_rows,
        empty: "No day of the report is outside its baseline band or its utilization band.".into(),
    })
}

/// The forecast of each item as of `as_of`.
fn forecast_table(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    as_of: Day,
) -> Result<ListingTable, ReportError> {
    let guard = &config.guard;
    let fc = forecast_rows(store, config, req, as_of)?;
    let forecast_rows: Vec<ListingRow> = fc
        .iter()
        .map(|f| ListingRow {
            cells: vec![
                who(f.scope, &f.scope_id),
                f.item.clone(),
                f.entitled
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
                format!("{:+.2}", f.slope_per_day),
                format!(
                    "{:.0} ({:.0}–{:.0})",
                    f.peak_in_horizon, f.peak_in_horizon_low, f.peak_in_horizon_high
                ),
                match &f.exceeds_on {
                    Some(d) => format!(
                        "EXCEEDS on {d} ({} – {})",
                        f.exceeds_earliest.as_deref().unwrap_or("?"),
                        f.exceeds_latest.as_deref().unwrap_or("later")
                    ),
                    None => "not within a year".into(),
                },
            ],
            marked: f.exceeds_on.is_some(),
        })
        .collect();
    Ok(ListingTable {
        heading: format!("Forecast as of {}", Calendar::date_text(as_of)),
        columns: vec![
            col("Scope", 0.14, false),
            col("Item", 0.14, false),
            col("Entitled", 0.1, true),
            col("Trend/day", 0.1, true),
            col(&format!("Peak in {} days", guard.horizon_days), 0.18, true),
            col("Exceeds entitlement", 0.34, false),
        ],
        rows: forecast_rows,
        empty: format!(
            "Fewer than {} days of data: no forecast.",
            guard.forecast_min_days
        ),
    })
}
