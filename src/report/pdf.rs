//! Builds the PDF report's model from the store: the same rows as the CSV report (whose
//! SHA-256 the PDF prints), plus what an auditor needs around them (data coverage, license
//! files and their digests, when each peak happened, anomalies).

use std::io::Write;

use chrono::TimeZone;
use seatmeter_core::calendar::{self, date_of_day};
use seatmeter_core::{Calendar, Day, Entitled, Granularity, Nanos, ScopeKind};
use seatmeter_reports::Renderer;
use seatmeter_reports::csv::CsvRenderer;
use seatmeter_reports::pdf::{
    Anomalies, CollectorLine, Coverage, DayRatio, ItemEntitlement, ItemSummary, LicenseSource,
    OverUseLine, PdfReport, RowLine, Section,
};
use seatmeter_store::{DaySummary, Store, StoreStatus};
use sha2::{Digest, Sha256};

use super::{Outcome, ReportError, Reporter, Request};
use crate::config::{Config, Model};
use crate::entitlement::{self, Ledger};

/// How many stray logouts and rejected lines the PDF lists (all are counted).
const LISTED: usize = 500;

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// When the report is generated: `SOURCE_DATE_EPOCH` (seconds) when set, so that a report
/// can be reproduced byte for byte, else now: as shown on the report, and in seconds.
pub fn generated_at() -> (String, i64) {
    let t = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| chrono::Utc.timestamp_opt(s, 0).single())
        .unwrap_or_else(chrono::Utc::now);
    (t.format("%Y-%m-%d %H:%M:%S UTC").to_string(), t.timestamp())
}

/// The rows of each scope, each with its measure's index.
type ScopeRows = Vec<(String, Vec<(usize, RowLine)>)>;

/// The report's sections alone (rows, per-item summaries and chart series, peak times)
/// and the outcome: what the console shows, without the PDF's coverage, sources and
/// anomalies.
pub fn sections(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    options: super::limits::Options,
) -> Result<(Vec<Section>, Outcome), ReportError> {
    let (groups, _, outcome) = rows(store, config, req, options, false)?;
    let sections = groups
        .into_iter()
        .map(|(scope_id, rows)| section(req, config, &scope_id, rows, &outcome))
        .collect();
    Ok((sections, outcome))
}

/// Builds the model of a PDF report, and the outcome of the report run behind it.
pub fn build(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    options: super::limits::Options,
) -> Result<(PdfReport, Outcome), ReportError> {
    let cal = Calendar::new(config.timezone);
    let (groups, digest, outcome) = rows(store, config, req, options, true)?;
    let sections: Vec<Section> = groups
        .into_iter()
        .map(|(scope_id, rows)| section(req, config, &scope_id, rows, &outcome))
        .collect();
    let status = store.status()?;
    let (d_lo, d_hi) = (req.from, req.to);
    let days = store.day_summaries(d_lo, d_hi)?;
    let (coverage, licenses, entitlement, anomalies) = match outcome.audience.tenant() {
        None => (
            coverage(config, &cal, &status, &days),
            sources(config, &outcome),
            entitlement_lines(config, &outcome, d_lo, d_hi),
            anomalies(store, &cal, (d_lo, d_hi), &status, &days, &outcome)?,
        ),
        Some(tenant) => {
            let tenant = tenant.to_string();
            let view = TenantView::read(store, &cal, req, &tenant, &status, &days)?;
            (
                view.coverage(config, &cal, &status),
                tenant_sources(config, &outcome),
                tenant_entitlement_lines(config, req, &outcome),
                view.anomalies(store, &cal, &outcome)?,
            )
        }
    };
    let guardrails = match options.guardrails {
        Some(hook) => Some(hook(store, config, req, outcome.audience.tenant())?),
        None => None,
    };
    let (generated_at, generated_unix) = generated_at();
    let report = PdfReport {
        site: config.site.clone(),
        scope: Some(req.scope),
        scope_filter: req.id.clone(),
        granularity: Some(req.granularity),
        from: Calendar::date_text(req.from),
        to: Calendar::date_text(req.to),
        timezone: config.timezone.name().to_string(),
        generated_at,
        generated_unix,
        generator: format!("seatmeter {}", env!("CARGO_PKG_VERSION")),
        coverage,
        licenses,
        entitlement,
        sections,
        anomalies,
        digest,
        gaps: outcome.gaps.clone(),
        tenant: outcome.audience.tenant().map(str::to_string),
        guardrails,
    };
    Ok((report, outcome))
}

/// The report's rows grouped by scope, each with its measure's index, the SHA-256 of
/// their CSV, and the outcome of the report run.
fn rows(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    options: super::limits::Options,
    with_digest: bool,
) -> Result<(ScopeRows, String, Outcome), ReportError> {
    let measures = super::measures_of(config, req.scope);
    // The rows, grouped by scope, and the digest of their CSV (a page without it does not
    // render the CSV: empty).
    let mut hasher = HashWriter(Sha256::new());
    let mut groups: ScopeRows = Vec::new();
    let outcome = {
        let mut csv: Option<Box<dyn Renderer + '_>> = match with_digest {
            true => Some(Box::new(CsvRenderer::new(&mut hasher, Default::default())?)),
            false => None,
        };
        let mut reporter = Reporter::new(store, config)?.with_peak_times();
        options
            .limits
            .check(&reporter, req, seatmeter_reports::Format::Pdf)?;
        super::limits::check_gaps(reporter.gaps(req)?, options)?;
        let outcome = reporter.run(req, &mut |row| {
            if let Some(csv) = csv.as_mut() {
                csv.row(row)?;
            }
            if groups.last().is_none_or(|g| g.0 != row.scope_id) {
                groups.push((row.scope_id.to_string(), Vec::new()));
            }
            let item = measures
                .iter()
                .position(|i| i.name == row.item)
                .unwrap_or(0);
            groups.last_mut().expect("pushed").1.push((
                item,
                RowLine {
                    period: seatmeter_reports::pdf::period_label(
                        row.granularity,
                        row.period_start,
                        row.period_end,
                    ),
                    item: row.item.to_string(),
                    peak: row.peak_concurrent,
                    peak_at: row.peak_at.map(str::to_string),
                    enabled: row.enabled_seats,
                    entitled: row.entitled,
                    over_use: row.over_use,
                },
            ));
            Ok(())
        })?;
        if let Some(csv) = csv {
            csv.finish()?;
        }
        outcome
    };
    let digest = match with_digest {
        true => seatmeter_core::hex(&hasher.0.finalize()),
        false => String::new(),
    };
    Ok((groups, digest, outcome))
}

/// The cover's account of the data: what is stored and rolled up, and when each
/// collector last collected.
fn coverage(
    config: &Config,
    cal: &Calendar,
    status: &StoreStatus,
    days: &[DaySummary],
) -> Coverage {
    let fmt_utc = |t: i64| cal.format(t);
    Coverage {
        first_event: status.first_event.map(fmt_utc),
        last_event: status.last_event.map(fmt_utc),
        events: days.iter().map(|d| d.events).sum(),
        sessions: Some(days.iter().map(|d| d.sessions).sum()),
        snapshots: Some(status.snapshots),
        rolled: match status.rolled {
            Some((a, b)) => format!("{} to {}", Calendar::date_text(a), Calendar::date_text(b)),
            None => "nothing yet".into(),
        },
        collectors: config
            .collectors
            .iter()
            .map(|c| {
                let s = status.collectors.iter().find(|s| s.name == c.name());
                CollectorLine {
                    name: c.name().to_string(),
                    kind: c.kind().to_string(),
                    last_success: s.and_then(|s| s.last_success).map(fmt_utc),
                    last_error: s
                        .and_then(|s| s.last_error.clone())
                        .map(|(at, e)| format!("{}: {e}", fmt_utc(at))),
                }
            })
            .collect(),
    }
}

/// Every license and entitlement file, with its SHA-256 or why it was not read.
fn sources(config: &Config, outcome: &Outcome) -> Vec<LicenseSource> {
    let mut licenses = Vec::new();
    for p in &config.license_files {
        let shown = p.display().to_string();
        match outcome.license_files.iter().find(|f| f.path == shown) {
            Some(f) => licenses.push(LicenseSource {
                path: shown,
                sha256: Some(f.sha256.clone()),
                error: None,
            }),
            None => {
                let err = outcome
                    .license_errors
                    .iter()
                    .find(|e| e.path == shown)
                    .map(|e| e.to_string());
                licenses.push(LicenseSource {
                    path: shown,
                    sha256: None,
                    error: err.or(Some("not read".into())),
                });
            }
        }
    }
    // Entitlement XML files: listed with their digests like license files.
    for p in &config.entitlement_files {
        let shown = p.display().to_string();
        let read = outcome.entitlement_files.iter().find(|(f, _)| f == p);
        licenses.push(LicenseSource {
            path: shown,
            sha256: read.map(|(_, d)| seatmeter_core::hex(d)),
            error: match read {
                Some(_) => None,
                None => outcome
                    .entitlement_error
                    .clone()
                    .or(Some("not read".into())),
            },
        });
    }
    licenses
}

/// What each item is entitled to over the report's days, from the license files.
fn entitlement_lines(
    config: &Config,
    outcome: &Outcome,
    d_lo: Day,
    d_hi: Day,
) -> Vec<ItemEntitlement> {
    let ledger = Ledger::new(&outcome.license_files);
    config
        .items
        .iter()
        .map(|it| ItemEntitlement {
            item: it.name.clone(),
            model: match it.model {
                Model::Concurrent => "concurrent".into(),
                Model::Named => "named".into(),
            },
            features: it
                .features
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            granted: granted(&ledger, &it.features, d_lo, d_hi),
        })
        .collect()
}

/// Stray logouts, lines kept aside, days without data and what the reader must know.
fn anomalies(
    store: &mut dyn Store,
    cal: &Calendar,
    (d_lo, d_hi): (Day, Day),
    status: &StoreStatus,
    days: &[DaySummary],
    outcome: &Outcome,
) -> Result<Anomalies, ReportError> {
    let dims = store.dimensions()?;
    let stray = store.anomalies(d_lo, d_hi)?;
    let stray_logouts = stray
        .iter()
        .take(LISTED)
        .map(|(_, a)| {
            let (tenant, agent) = dims
                .agents
                .get(a.agent as usize)
                .cloned()
                .unwrap_or_default();
            (
                cal.format(a.ts),
                dims.tenants
                    .get(tenant as usize)
                    .cloned()
                    .unwrap_or_default(),
                agent,
            )
        })
        .collect();
    let rejects = store
        .rejects(Some(LISTED as u64))?
        .into_iter()
        .map(|r| format!("{}:{}: {} ({})", r.source, r.line, r.reason, r.collector))
        .collect();
    let with_events: std::collections::HashSet<Day> = days
        .iter()
        .filter(|d| d.events > 0)
        .map(|d| d.day)
        .collect();
    let days_without_data = (d_lo..=d_hi)
        .filter(|d| !with_events.contains(d))
        .map(Calendar::date_text)
        .collect();
    Ok(Anomalies {
        stray_logouts,
        stray_logouts_total: stray.len() as u64,
        rejects,
        rejects_total: status.rejects,
        days_without_data,
        license_errors: outcome
            .license_errors
            .iter()
            .map(|e| e.to_string())
            .collect(),
        warnings: outcome
            .gaps
            .iter()
            .filter(|w| !w.starts_with("license file not used"))
            .cloned()
            .collect(),
        restated: outcome.restated.clone(),
        restated_total: outcome.restated_total,
    })
}

/// What a tenant's document says about the data: from the tenant's own events of the
/// report's days (read from the stored events; days whose events retention has deleted
/// are named, not guessed).
struct TenantView {
    tenant: String,
    /// The tenant's id in the store; None when it has no data (a provisioned tenant).
    id: Option<u32>,
    events: u64,
    first: Option<Nanos>,
    last: Option<Nanos>,
    /// Local days of the report with an event of the tenant.
    with_events: std::collections::BTreeSet<Day>,
    /// Local days of the report whose raw events are no longer stored (retention).
    purged: Vec<Day>,
    d_lo: Day,
    d_hi: Day,
}

impl TenantView {
    fn read(
        store: &mut dyn Store,
        cal: &Calendar,
        req: &Request,
        tenant: &str,
        status: &StoreStatus,
        days: &[DaySummary],
    ) -> Result<TenantView, ReportError> {
        let dims = store.dimensions()?;
        let id = dims
            .tenants
            .iter()
            .position(|t| t == tenant)
            .map(|i| i as u32);
        let (d_lo, d_hi) = (req.from, req.to);
        let (start, end) = (cal.day_start(d_lo), cal.day_start(d_hi + 1));
        // Days that had events when rolled up but whose events are gone: retention.
        let purged: Vec<Day> = days
            .iter()
            .filter(|d| {
                d.events > 0
                    && status
                        .first_event
                        .is_none_or(|f| cal.day_start(d.day + 1) <= f)
            })
            .map(|d| d.day)
            .collect();
        let mut view = TenantView {
            tenant: tenant.to_string(),
            id,
            events: 0,
            first: None,
            last: None,
            with_events: Default::default(),
            purged,
            d_lo,
            d_hi,
        };
        let Some(id) = id else {
            return Ok(view);
        };
        let n = seatmeter_core::time::NANOS_PER_DAY;
        for utc_day in start.div_euclid(n)..=(end - 1).div_euclid(n) {
            for e in store.events_on_utc_day(utc_day)? {
                let own = dims.agents.get(e.agent as usize).is_some_and(|a| a.0 == id);
                if !own || e.ts < start || e.ts >= end {
                    continue;
                }
                view.events += 1;
                view.first = Some(view.first.map_or(e.ts, |f| f.min(e.ts)));
                view.last = Some(view.last.map_or(e.ts, |l| l.max(e.ts)));
                view.with_events.insert(cal.day_of(e.ts));
            }
        }
        Ok(view)
    }

    /// The cover's account of the tenant's data; collectors by kind and place only, with
    /// no error text (it may name the server's files).
    fn coverage(&self, config: &Config, cal: &Calendar, status: &StoreStatus) -> Coverage {
        let in_days =
            |t: Option<Nanos>| t.map(|t| format!("{} (in the report's days)", cal.format(t)));
        Coverage {
            first_event: in_days(self.first),
            last_event: in_days(self.last),
            events: self.events,
            sessions: None,
            snapshots: None,
            rolled: match status.rolled {
                Some((a, b)) => format!("{} to {}", Calendar::date_text(a), Calendar::date_text(b)),
                None => "nothing yet".into(),
            },
            collectors: config
                .collectors
                .iter()
                .enumerate()
                .map(|(i, c)| CollectorLine {
                    name: format!("collector {}", i + 1),
                    kind: c.kind().to_string(),
                    last_success: status
                        .collectors
                        .iter()
                        .find(|s| s.name == c.name())
                        .and_then(|s| s.last_success)
                        .map(|t| cal.format(t)),
                    last_error: None,
                })
                .collect(),
        }
    }

    /// The tenant's stray logouts and rejected lines, its days without data, and the
    /// report's gaps as the tenant may read them.
    fn anomalies(
        &self,
        store: &mut dyn Store,
        cal: &Calendar,
        outcome: &Outcome,
    ) -> Result<Anomalies, ReportError> {
        let dims = store.dimensions()?;
        let stray: Vec<_> = store
            .anomalies(self.d_lo, self.d_hi)?
            .into_iter()
            .filter(|(_, a)| {
                self.id.is_some() && dims.agents.get(a.agent as usize).map(|x| x.0) == self.id
            })
            .collect();
        let stray_logouts = stray
            .iter()
            .take(LISTED)
            .map(|(_, a)| {
                let agent = dims.agents[a.agent as usize].1.clone();
                (cal.format(a.ts), self.tenant.clone(), agent)
            })
            .collect();
        let (rejects, rejects_total) = store.tenant_rejects(&self.tenant, LISTED as u64)?;
        let rejects = rejects
            .into_iter()
            .map(|r| {
                let source = super::file_name(std::path::Path::new(&r.source));
                format!("{source}:{}: {}", r.line, r.reason)
            })
            .collect();
        let days_without_data = (self.d_lo..=self.d_hi)
            .filter(|d| !self.with_events.contains(d) && !self.purged.contains(d))
            .map(Calendar::date_text)
            .collect();
        let mut warnings: Vec<String> = outcome
            .gaps
            .iter()
            .filter(|w| !w.starts_with("license file not used"))
            .cloned()
            .collect();
        if let (Some(a), Some(b)) = (self.purged.first(), self.purged.last()) {
            warnings.push(format!(
                "the events of {} day(s) from {} to {} are no longer stored (retention): the event counts and days without data above leave them out; the usage rows, from the rollups, include them",
                self.purged.len(),
                Calendar::date_text(*a),
                Calendar::date_text(*b)
            ));
        }
        Ok(Anomalies {
            stray_logouts,
            stray_logouts_total: stray.len() as u64,
            rejects,
            rejects_total,
            days_without_data,
            license_errors: match outcome.tenant_grants {
                true => Vec::new(),
                false => outcome
                    .license_errors
                    .iter()
                    .map(|e| {
                        let file = super::file_name(std::path::Path::new(&e.path));
                        format!("{file}:{}: {}", e.line, e.message)
                    })
                    .collect(),
            },
            warnings,
            restated: outcome.restated.clone(),
            restated_total: outcome.restated_total,
        })
    }
}

/// The files a tenant's entitlement comes from, by file name and SHA-256: the entitlement
/// files when it is judged by tenant grants, else the license files (the site's license is
/// then every tenant's entitlement) and the entitlement files.
fn tenant_sources(config: &Config, outcome: &Outcome) -> Vec<LicenseSource> {
    // `sources` lists the license files, then the entitlement files, each by its path.
    let paths = config.license_files.iter().chain(&config.entitlement_files);
    let skip = if outcome.tenant_grants {
        config.license_files.len()
    } else {
        0
    };
    sources(config, outcome)
        .into_iter()
        .zip(paths)
        .skip(skip)
        .map(|(s, p)| LicenseSource {
            path: super::file_name(p),
            // The reason names the server's path; the operator's report has it.
            error: s
                .error
                .map(|_| "could not be read: this report says so where it matters".into()),
            ..s
        })
        .collect()
}

/// What a tenant is entitled to over the report's days: its grants (per measure, bundles
/// included) when it is judged by tenant grants, else the site's license.
fn tenant_entitlement_lines(
    config: &Config,
    req: &Request,
    outcome: &Outcome,
) -> Vec<ItemEntitlement> {
    if !outcome.tenant_grants {
        return entitlement_lines(config, outcome, req.from, req.to);
    }
    let (d_lo, _) = super::periods::day_range(req, config.week_start);
    super::measures_of(config, ScopeKind::Tenant)
        .iter()
        .enumerate()
        .map(|(ii, m)| {
            let per_day = outcome.own_grants.get(ii).map(Vec::as_slice).unwrap_or(&[]);
            let from = (req.from - d_lo).max(0) as usize;
            let to = ((req.to - d_lo).max(0) as usize + 1).min(per_day.len());
            let days: Vec<(Day, Option<Entitled>)> = per_day[from.min(to)..to]
                .iter()
                .enumerate()
                .map(|(i, e)| (req.from + i as Day, *e))
                .collect();
            ItemEntitlement {
                item: m.name.clone(),
                model: match m.model {
                    Model::Concurrent => "concurrent".into(),
                    Model::Named => "named".into(),
                },
                features: if m.bundle {
                    "tenant grants (bundle)".into()
                } else {
                    "tenant grants".into()
                },
                granted: runs_text(&days, "none (no grant to this tenant)"),
            }
        })
        .collect()
}

/// Per-day entitlements as runs of equal values, as text.
fn runs_text(days: &[(Day, Option<Entitled>)], none: &str) -> String {
    let mut runs: Vec<(Day, Option<Entitled>)> = Vec::new();
    for &(d, e) in days {
        if runs.last().is_none_or(|r| r.1 != e) {
            runs.push((d, e));
        }
    }
    let text = |e: Option<Entitled>| match e {
        None => none.to_string(),
        Some(e) => e.to_string(),
    };
    match runs.as_slice() {
        [] => text(None),
        [(_, e)] => text(*e),
        _ => runs
            .iter()
            .map(|(d, e)| format!("{} from {}", text(*e), Calendar::date_text(*d)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// What the license files grant `features` over `from..=to`, as text.
fn granted(ledger: &Ledger, features: &[entitlement::FeatureRef], from: Day, to: Day) -> String {
    let days: Vec<(Day, Option<Entitled>)> = (from..=to)
        .map(|d| (d, ledger.entitled(features, date_of_day(d))))
        .collect();
    runs_text(&days, "none (no license line names its features)")
}

fn section(
    req: &Request,
    config: &Config,
    scope_id: &str,
    rows: Vec<(usize, RowLine)>,
    outcome: &Outcome,
) -> Section {
    let title = match req.scope {
        ScopeKind::System => "System".to_string(),
        ScopeKind::Tenant => format!("Tenant {scope_id}"),
        ScopeKind::Group => format!("Group {scope_id}"),
        ScopeKind::PlaceGroup => format!("Place group {scope_id}"),
    };
    let mut items: Vec<ItemSummary> = super::measures_of(config, req.scope)
        .iter()
        .map(|it| ItemSummary {
            item: it.name.clone(),
            named: it.model == Model::Named,
            ..ItemSummary::default()
        })
        .collect();
    let mut starts: Vec<String> = Vec::new();
    for (i, r) in &rows {
        let s = &mut items[*i];
        s.peak = s.peak.max(r.peak);
        s.enabled = match (s.enabled, r.enabled) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        s.entitled = entitlement::smallest(s.entitled, r.entitled);
        s.over_use_periods += r.over_use as u64;
        s.peaks.push(r.peak);
        s.enableds.push(r.enabled);
        s.entitleds.push(r.entitled);
        s.overs.push(r.over_use);
        if *i == 0 {
            starts.push(r.period.clone());
        }
    }
    for p in outcome.peak_at.iter().filter(|p| p.scope_id == scope_id) {
        if let Some(s) = items.get_mut(p.item) {
            s.peak_at = p.period.clone();
            s.busiest = p.utilization.map(|u| DayRatio {
                day: Calendar::date_text(u.day),
                measured: u.measured,
                entitled: u.entitled,
            });
        }
    }
    // Every over-use instance, by item (configuration order), then period.
    let mut over: Vec<&super::OverUse> = outcome
        .over_use
        .iter()
        .filter(|o| o.scope_id == scope_id)
        .collect();
    over.sort_by_key(|o| items.iter().position(|i| i.item == o.item));
    let over_use = over
        .into_iter()
        .map(|o| OverUseLine {
            item: o.item.clone(),
            period_start: o.period_start.clone(),
            period_end: o.period_end.clone(),
            measured: o.measured,
            entitled: o.entitled,
        })
        .collect();
    let ticks = ticks(req.granularity, &starts);
    Section {
        title,
        scope_id: scope_id.to_string(),
        items,
        over_use,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        ticks,
    }
}

/// Labels for the x axis: each new day (each month, for monthly reports), from the rows'
/// period labels, which start with the local date (or month).
fn ticks(granularity: Granularity, labels: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut last = None;
    for (i, s) in labels.iter().enumerate() {
        let date = match (granularity, s.get(..7), s.get(..10)) {
            (Granularity::Monthly, Some(m), _) => format!("{m}-01"),
            (_, _, Some(d)) => d.to_string(),
            _ => continue,
        };
        if last.as_ref() == Some(&date) {
            continue;
        }
        let label = match calendar::parse_date(&date) {
            Ok(d) if granularity == Granularity::Monthly => {
                date_of_day(d).format("%b %Y").to_string()
            }
            Ok(d) => date_of_day(d).format("%b %-d").to_string(),
            Err(_) => date.clone(),
        };
        out.push((i, label));
        last = Some(date);
    }
    out
}

/// Renders a PDF report into bytes.
pub fn render(
    store: &mut dyn Store,
    config: &Config,
    req: &Request,
    options: super::limits::Options,
) -> Result<(Vec<u8>, Outcome), ReportError> {
    let (model, outcome) = build(store, config, req, options)?;
    let bytes = seatmeter_reports::pdf::render(&model)?;
    Ok((bytes, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ticks() {
        let labels: Vec<String> = [
            "2026-10-25 23:40–23:50 +00:00",
            "2026-10-25 23:50–00:00 +00:00",
            "2026-10-26 00:00–00:10 +00:00",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            ticks(Granularity::TenMin, &labels),
            vec![(0, "Oct 25".to_string()), (2, "Oct 26".to_string())]
        );
        let months: Vec<String> = ["2026-10", "2026-11"].map(String::from).to_vec();
        assert_eq!(
            ticks(Granularity::Monthly, &months),
            vec![(0, "Oct 2026".to_string()), (1, "Nov 2026".to_string())]
        );
    }
}
