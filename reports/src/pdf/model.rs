//! What a PDF report shows, as plain data: built by the `seatmeter` crate from the store,
//! laid out here.

use crate::{Entitled, Granularity, ScopeKind};

/// Everything a PDF report shows. Built by the `seatmeter` crate from the store.
#[derive(Debug, Clone, Default)]
pub struct PdfReport {
    pub site: String,
    pub scope: Option<ScopeKind>,
    /// The `--id` the report was narrowed to, if any.
    pub scope_filter: Option<String>,
    pub granularity: Option<Granularity>,
    /// Local dates, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub timezone: String,
    /// When the report was generated (from `SOURCE_DATE_EPOCH` when set), as shown.
    pub generated_at: String,
    /// The same instant in seconds since 1970 (UTC): the document's creation,
    /// modification and metadata dates.
    pub generated_unix: i64,
    /// e.g. "seatmeter 0.1.0"
    pub generator: String,
    pub coverage: Coverage,
    pub licenses: Vec<LicenseSource>,
    pub entitlement: Vec<ItemEntitlement>,
    pub sections: Vec<Section>,
    pub anomalies: Anomalies,
    /// SHA-256 (hex) of the report's rows as CSV.
    pub digest: String,
    /// What makes the numbers incomplete, shown first on the first page; empty when the
    /// report is complete.
    pub gaps: Vec<String>,
    /// The tenant the document is for, when it is one tenant's: it then holds that
    /// tenant's data only, and says so on its cover.
    pub tenant: Option<String>,
    /// Expiry warnings, baseline breaches and forecasts (docs/GUARDRAILS.md), on a page of
    /// their own after the anomalies; None: not computed for this document.
    pub guardrails: Option<Guardrails>,
}

/// The guardrails page: paragraphs, then tables.
#[derive(Debug, Clone, Default)]
pub struct Guardrails {
    pub notes: Vec<String>,
    pub tables: Vec<super::listing::ListingTable>,
}

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub events: u64,
    /// None in a tenant's document (sessions are counted for the site).
    pub sessions: Option<u64>,
    /// None in a tenant's document (a snapshot lists the whole site).
    pub snapshots: Option<u64>,
    /// Days of the report that are rolled up, as text.
    pub rolled: String,
    pub collectors: Vec<CollectorLine>,
}

#[derive(Debug, Clone, Default)]
pub struct CollectorLine {
    pub name: String,
    pub kind: String,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LicenseSource {
    pub path: String,
    pub sha256: Option<String>,
    /// Why the file grants nothing, when it does not parse.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemEntitlement {
    pub item: String,
    pub model: String,
    pub features: String,
    /// What the files grant over the report's days, e.g. "40 to 2026-10-31, then 60".
    pub granted: String,
}

/// One scope: the system, a tenant or a group.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// "System", "Tenant acme", "Group acme/Support".
    pub title: String,
    pub scope_id: String,
    pub items: Vec<ItemSummary>,
    pub over_use: Vec<OverUseLine>,
    pub rows: Vec<RowLine>,
    /// Labels of the x axis: (period index, label).
    pub ticks: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemSummary {
    pub item: String,
    pub named: bool,
    pub peak: u64,
    /// The 10-minute period in which the peak was first reached.
    pub peak_at: Option<String>,
    pub enabled: Option<u64>,
    /// The smallest daily entitlement of the range.
    pub entitled: Option<Entitled>,
    pub over_use_periods: u64,
    /// The day of the largest ratio of the measured value (peak; enabled seats for a
    /// named item) to that day's entitlement; None when no day grants a number of seats.
    pub busiest: Option<DayRatio>,
    /// Per period, for the chart.
    pub peaks: Vec<u64>,
    pub enableds: Vec<Option<u64>>,
    pub entitleds: Vec<Option<Entitled>>,
    pub overs: Vec<bool>,
}

/// One day's measured value against that day's entitlement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRatio {
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    pub measured: u64,
    pub entitled: u64,
}

#[derive(Debug, Clone, Default)]
pub struct OverUseLine {
    pub item: String,
    pub period_start: String,
    pub period_end: String,
    pub measured: u64,
    pub entitled: u64,
}

/// A report row, as the CSV has it (the period as a compact label: see [`period_label`]).
#[derive(Debug, Clone, Default)]
pub struct RowLine {
    pub period: String,
    pub item: String,
    pub peak: u64,
    /// When the peak was first reached, as the CSV's `peak_at` (RFC 3339); None when the
    /// peak is 0 or the day was rolled up before it was kept.
    pub peak_at: Option<String>,
    pub enabled: Option<u64>,
    pub entitled: Option<Entitled>,
    pub over_use: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Anomalies {
    /// (local time, tenant, agent)
    pub stray_logouts: Vec<(String, String, String)>,
    pub stray_logouts_total: u64,
    /// "file:line: reason"
    pub rejects: Vec<String>,
    pub rejects_total: u64,
    /// Local dates of the report without any event.
    pub days_without_data: Vec<String>,
    pub license_errors: Vec<String>,
    /// Anything else the reader must know (data not rolled up yet, …).
    pub warnings: Vec<String>,
    /// Values of the report's days that changed after they were first rolled up, as
    /// "day scope, item: old → new" lines, and how many there are.
    pub restated: Vec<String>,
    pub restated_total: u64,
}

/// A period as people read it, from the RFC 3339 local start and end of a report row:
/// `2026-10-25 01:50–02:00 +01:00` (both offsets when a clock change falls at its end),
/// `2026-10-25` (daily), `2026-10-19 to 2026-10-25` (weekly), `2026-10` (monthly).
pub fn period_label(granularity: Granularity, start: &str, end: &str) -> String {
    if start.len() < 25 || end.len() < 25 {
        return format!("{start} – {end}");
    }
    match granularity {
        Granularity::TenMin | Granularity::Hourly => {
            let (date, a, oa) = (&start[..10], &start[11..16], &start[19..]);
            let (b, ob) = (&end[11..16], &end[19..]);
            if oa == ob {
                format!("{date} {a}–{b} {oa}")
            } else {
                format!("{date} {a} {oa} – {b} {ob}")
            }
        }
        Granularity::Daily => start[..10].to_string(),
        Granularity::Weekly => {
            let last = chrono::NaiveDate::parse_from_str(&end[..10], "%Y-%m-%d")
                .map(|d| (d - chrono::TimeDelta::days(1)).to_string())
                .unwrap_or_else(|_| end[..10].to_string());
            format!("{} to {last}", &start[..10])
        }
        Granularity::Monthly => start[..7].to_string(),
    }
}

/// An item's utilization: its largest daily ratio with the day (an entitlement of 0 has
/// no ratio: the seats used are named instead), or, when no day grants a number of seats,
/// what the entitlement is.
pub(super) fn utilization(busiest: Option<&DayRatio>, e: Option<Entitled>) -> String {
    match busiest {
        Some(b) if b.measured == 0 => return "0 %".into(),
        Some(b) if b.entitled == 0 => return format!("{} of 0 on {}", b.measured, b.day),
        Some(b) => {
            return format!(
                "{:.0} % on {}",
                b.measured as f64 * 100.0 / b.entitled as f64,
                b.day
            );
        }
        None => {}
    }
    match e {
        Some(Entitled::Seats(_)) => "–".into(),
        Some(Entitled::Unlimited) => "unlimited".into(),
        None => "no license".into(),
    }
}

pub(super) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
}

impl PdfReport {
    pub(super) fn scope_label(&self) -> String {
        let kind = match self.scope {
            Some(ScopeKind::Tenant) => "Tenant report",
            Some(ScopeKind::Group) => "Group report",
            Some(ScopeKind::PlaceGroup) => "Place-group report",
            _ => "System report",
        };
        match &self.scope_filter {
            Some(id) => format!("{kind} ({id})"),
            None => kind.to_string(),
        }
    }
}
