//! Reports from stored rollups (usage-semantics.md, sections 3, 4 and 7).
//!
//! A report reads what `rollup` stored (never the events), takes coarser periods as the
//! maximum of their 10-minute periods, and compares with the entitlement of each day from
//! the license files, read now, so a changed license file needs no new rollup.
//!
//! Days after the last rolled-up day have no events: their values are those in force when
//! that day ended (agents still logged in stay logged in, the last snapshot stays in
//! force). Days before the first rolled-up day have no seats in use.

use std::collections::HashMap;

pub mod output;
pub mod pdf;
mod periods;

use seatmeter_core::calendar::{DaySlots, date_of_day};
use seatmeter_core::{Calendar, Day, Entitled, Granularity, Nanos, ScopeKind};
use seatmeter_reports::Row;
use seatmeter_store::{Dimensions, Scope, SlotRecord, Store, StoreError};

use crate::config::{Config, Measure, Model};
use crate::entitlement::{self, Entitlements, Ledger, LicenseError, LicenseFile};
use periods::{Period, day_range};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub scope: ScopeKind,
    /// A tenant (tenant scope), a tenant or `tenant/group` (group scope).
    pub id: Option<String>,
    pub granularity: Granularity,
    pub from: Day,
    pub to: Day,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request cannot be answered as asked (an unknown id, dates the wrong way round,
    /// rollups made with another configuration): the caller's to change.
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Render(#[from] seatmeter_reports::RenderError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One over-use instance: an item above its entitlement in one scope and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverUse {
    pub scope: ScopeKind,
    pub scope_id: String,
    pub item: String,
    pub period_start: String,
    pub period_end: String,
    /// The largest measured value (peak or enabled seats, by the item's model) in the period.
    pub measured: u64,
    /// The smallest entitlement of the period's days.
    pub entitled: u64,
}

/// What a report run produced besides its rows.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub rows: u64,
    pub over_use: Vec<OverUse>,
    /// Things the reader must know: license files that did not load, data not rolled up.
    pub warnings: Vec<String>,
    pub license_files: Vec<LicenseFile>,
    pub license_errors: Vec<LicenseError>,
    /// Entitlement XML files read (path, SHA-256).
    pub entitlement_files: Vec<(std::path::PathBuf, [u8; 32])>,
    /// An entitlement XML file that could not be read: the report uses the license files
    /// alone, and says so.
    pub entitlement_error: Option<String>,
    /// With [`Reporter::with_peak_times`]: per scope id and item index, the peak over the
    /// report's periods and the 10-minute period in which it was first reached.
    pub peak_at: Vec<PeakAt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeakAt {
    pub scope_id: String,
    pub item: usize,
    pub peak: u64,
    /// `start – end` of the 10-minute period, local time; None when the peak is 0.
    pub period: Option<String>,
}

/// The values of one item on one day in one scope.
#[derive(Debug, Clone, Default)]
struct DayItem {
    /// Per 10-minute period; empty when only the day's maxima were read.
    peaks: Vec<u32>,
    enabled: Vec<u32>,
    day_peak: u32,
    day_enabled: u32,
}

impl DayItem {
    fn constant(peak: u32, enabled: u32, slots: usize, detail: bool) -> DayItem {
        DayItem {
            peaks: if detail {
                vec![peak; slots]
            } else {
                Vec::new()
            },
            enabled: if detail {
                vec![enabled; slots]
            } else {
                Vec::new()
            },
            day_peak: peak,
            day_enabled: enabled,
        }
    }
}

pub struct Reporter<'a> {
    store: &'a mut dyn Store,
    config: &'a Config,
    cal: Calendar,
    ledger: Ledger,
    ents: Entitlements,
    dims: Dimensions,
    first_snapshot: Option<Nanos>,
    rolled: Option<(Day, Day)>,
    outcome: Outcome,
    peak_times: bool,
}

impl<'a> Reporter<'a> {
    pub fn new(store: &'a mut dyn Store, config: &'a Config) -> Result<Reporter<'a>, ReportError> {
        let mut outcome = Outcome::default();
        let meta = store.rollup_meta()?;
        let rolled = store.rolled_days()?;
        if rolled.is_some() && meta.fingerprint.as_deref() != Some(&config.rollup_fingerprint()) {
            return Err(ReportError::Request(
                "the time zone, the items or the bundle definitions changed since the last rollup; run `seatmeter rollup` first".into(),
            ));
        }
        let (pending, _) = store.dirty_days()?;
        if rolled.is_none() && store.event_span()?.is_some() {
            outcome.warnings.push(
                "nothing is rolled up yet: run `seatmeter rollup`; this report shows no usage"
                    .into(),
            );
        } else if !pending.is_empty() {
            outcome.warnings.push(format!(
                "data for {} day(s) arrived after the last rollup and is not in this report; run `seatmeter rollup`",
                pending.len()
            ));
        }
        let (files, errors) = entitlement::flexnet::load_all(&config.license_files);
        for e in &errors {
            outcome.warnings.push(format!("license file not used: {e}"));
        }
        let ledger = Ledger::new(&files);
        outcome.license_files = files;
        outcome.license_errors = errors;
        let names: Vec<String> = config.items.iter().map(|i| i.name.clone()).collect();
        let ents = match entitlement::xml::load_all(&config.entitlement_files, &names) {
            Ok(e) => e,
            Err(e) => {
                outcome.warnings.push(format!(
                    "entitlement file not used: {e}; entitlements are those of the license files alone"
                ));
                outcome.entitlement_error = Some(e.to_string());
                Entitlements::default()
            }
        };
        outcome.entitlement_files = ents
            .files
            .iter()
            .map(|f| (f.path.clone(), f.sha256))
            .collect();
        let dims = store.dimensions()?;
        Ok(Reporter {
            store,
            config,
            cal: Calendar::new(config.timezone),
            ledger,
            ents,
            dims,
            first_snapshot: meta.first_snapshot,
            rolled,
            outcome,
            peak_times: false,
        })
    }

    /// Also find when each item's peak was reached (reads the 10-minute values whatever
    /// the granularity).
    pub fn with_peak_times(mut self) -> Self {
        self.peak_times = true;
        self
    }

    /// The scopes of a request, ordered by scope id.
    pub fn scopes(&self, req: &Request) -> Result<Vec<(Scope, String)>, ReportError> {
        let mut scopes: Vec<(Scope, String)> = match req.scope {
            ScopeKind::System => vec![(Scope::SYSTEM, String::new())],
            ScopeKind::Tenant => (1..self.dims.tenants.len())
                .filter(|&t| !self.dims.tenants[t].is_empty())
                .map(|t| {
                    (
                        Scope {
                            kind: ScopeKind::Tenant,
                            id: t as u32,
                        },
                        self.dims.tenants[t].clone(),
                    )
                })
                .collect(),
            ScopeKind::Group => (1..self.dims.groups.len())
                .filter(|&g| !self.dims.groups[g].1.is_empty())
                .map(|g| {
                    (
                        Scope {
                            kind: ScopeKind::Group,
                            id: g as u32,
                        },
                        self.dims.group_label(g as u32),
                    )
                })
                .collect(),
        };
        if let Some(id) = &req.id {
            let all = scopes.clone();
            scopes.retain(|(s, label)| match s.kind {
                ScopeKind::System => true,
                ScopeKind::Tenant => label == id,
                ScopeKind::Group => {
                    label == id
                        || self.dims.tenants[self.dims.groups[s.id as usize].0 as usize] == *id
                }
            });
            if scopes.is_empty() {
                let mut known: Vec<&str> = all.iter().map(|(_, l)| l.as_str()).collect();
                known.sort_unstable();
                let more = if known.len() > 10 {
                    format!(" and {} more", known.len() - 10)
                } else {
                    String::new()
                };
                known.truncate(10);
                return Err(ReportError::Request(format!(
                    "no {} {id:?} in the store{}",
                    req.scope,
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (known: {}{more})", known.join(", "))
                    }
                )));
            }
        }
        scopes.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(scopes)
    }

    /// Produces the report's rows, in order, into `emit`.
    pub fn run(
        mut self,
        req: &Request,
        emit: &mut dyn FnMut(&Row<'_>) -> Result<(), ReportError>,
    ) -> Result<Outcome, ReportError> {
        if req.to < req.from {
            return Err(ReportError::Request(format!(
                "--to {} is before --from {}",
                Calendar::date_text(req.to),
                Calendar::date_text(req.from)
            )));
        }
        let scopes = self.scopes(req)?;
        let (d_lo, d_hi) = day_range(req);
        let detail =
            self.peak_times || matches!(req.granularity, Granularity::TenMin | Granularity::Hourly);
        let slots: Vec<DaySlots> = (d_lo..=d_hi).map(|d| self.cal.slots(d)).collect();
        let periods = periods::periods(&self.cal, req, &slots);
        let items = &measures_of(self.config, req.scope);
        let system_ent = self.system_entitlement(items.len(), d_lo, d_hi);
        // With tenant grants, tenant rows compare with the tenant's own.
        let per_tenant = req.scope == ScopeKind::Tenant && self.ents.has_tenants();
        for (scope, label) in &scopes {
            let tenant_ent;
            let ent = if per_tenant {
                tenant_ent = self.tenant_entitlement(label, items.len(), d_lo, d_hi);
                &tenant_ent
            } else {
                &system_ent
            };
            let values = self.values(*scope, d_lo, d_hi, &slots, detail)?;
            if self.peak_times {
                self.peak_times_of(label, items.len(), &values, &slots);
            }
            let scope_rows = ScopeRows {
                req,
                label,
                items,
                values: &values,
                ent,
                d_lo,
                first_snapshot: self.first_snapshot,
            };
            for p in &periods {
                scope_rows.period(p, emit, &mut self.outcome)?;
            }
        }
        Ok(self.outcome)
    }

    /// Entitlement of each measure on each day of the range: the license files' and the
    /// system grants of the entitlement files (bundles have only the latter).
    fn system_entitlement(
        &self,
        measures: usize,
        d_lo: Day,
        d_hi: Day,
    ) -> Vec<Vec<Option<Entitled>>> {
        (0..measures)
            .map(|ii| {
                (d_lo..=d_hi)
                    .map(|d| {
                        let licensed = self
                            .config
                            .items
                            .get(ii)
                            .and_then(|it| self.ledger.entitled(&it.features, date_of_day(d)));
                        entitlement::add(licensed, self.ents.system(ii, date_of_day(d)))
                    })
                    .collect()
            })
            .collect()
    }

    /// A tenant's own grants of each measure on each day of the range.
    fn tenant_entitlement(
        &self,
        tenant: &str,
        measures: usize,
        d_lo: Day,
        d_hi: Day,
    ) -> Vec<Vec<Option<Entitled>>> {
        (0..measures)
            .map(|ii| {
                (d_lo..=d_hi)
                    .map(|d| self.ents.tenant(tenant, ii, date_of_day(d)))
                    .collect()
            })
            .collect()
    }

    /// Each measure's peak over the report's days and the 10-minute period in which it was
    /// first reached.
    fn peak_times_of(
        &mut self,
        label: &str,
        measures: usize,
        values: &[Vec<DayItem>],
        slots: &[DaySlots],
    ) {
        for ii in 0..measures {
            let peak = values.iter().map(|v| v[ii].day_peak).max().unwrap_or(0);
            let period = (peak > 0)
                .then(|| {
                    let d = values.iter().position(|v| v[ii].day_peak == peak)?;
                    let s = values[d][ii].peaks.iter().position(|&p| p == peak)?;
                    let day = &slots[d];
                    Some(self.cal.period_text(day.starts[s], day.slot_end(s)))
                })
                .flatten();
            self.outcome.peak_at.push(PeakAt {
                scope_id: label.to_string(),
                item: ii,
                peak: peak as u64,
                period,
            });
        }
    }

    /// Values of every item on every day of `d_lo..=d_hi`, for one scope.
    fn values(
        &mut self,
        scope: Scope,
        d_lo: Day,
        d_hi: Day,
        slots: &[DaySlots],
        detail: bool,
    ) -> Result<Vec<Vec<DayItem>>, ReportError> {
        let n_items = self.config.items.len() + self.config.bundles.len();
        let mut out: Vec<Vec<DayItem>> = slots
            .iter()
            .map(|s| vec![DayItem::constant(0, 0, s.len(), detail); n_items])
            .collect();
        let Some((r_lo, r_hi)) = self.rolled else {
            return Ok(out);
        };
        let (a, b) = (d_lo.max(r_lo), d_hi.min(r_hi));
        if a <= b {
            for (day, rec) in self.store.scope_days(scope, a, b, detail)? {
                if let Some(slot) = out[(day - d_lo) as usize].get_mut(rec.item as usize) {
                    *slot = day_item(rec, detail, slots[(day - d_lo) as usize].len())?;
                }
            }
        }
        if d_hi > r_hi {
            // After the last rolled-up day: what was in force when it ended.
            let mut tail: HashMap<u16, (u32, u32)> = HashMap::new();
            for (_, rec) in self.store.scope_days(scope, r_hi, r_hi, false)? {
                tail.insert(rec.item, (rec.end_level, rec.end_enabled));
            }
            for day in (r_hi + 1).max(d_lo)..=d_hi {
                let i = (day - d_lo) as usize;
                for (item, &(lvl, en)) in &tail {
                    if let Some(slot) = out[i].get_mut(*item as usize) {
                        *slot = DayItem::constant(lvl, en, slots[i].len(), detail);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The rows of one scope, period by period.
struct ScopeRows<'r> {
    req: &'r Request,
    label: &'r str,
    items: &'r [Measure],
    /// Per day of the range, per measure.
    values: &'r [Vec<DayItem>],
    /// Per measure, per day of the range.
    ent: &'r [Vec<Option<Entitled>>],
    d_lo: Day,
    first_snapshot: Option<Nanos>,
}

impl ScopeRows<'_> {
    /// The rows of one period, one per measure, with the period's worst over-use.
    fn period(
        &self,
        p: &Period,
        emit: &mut dyn FnMut(&Row<'_>) -> Result<(), ReportError>,
        outcome: &mut Outcome,
    ) -> Result<(), ReportError> {
        let enabled_known = self.first_snapshot.is_some_and(|f| f < p.end);
        for (ii, it) in self.items.iter().enumerate() {
            let mut peak = 0u32;
            let mut enabled = 0u32;
            let mut entitled: Option<Entitled> = None;
            let mut over = false;
            let mut worst: Option<(u64, u64)> = None;
            for &(day, first, count) in &p.parts {
                let v = &self.values[(day - self.d_lo) as usize][ii];
                let (pk, en) = if p.whole {
                    (v.day_peak, v.day_enabled)
                } else {
                    let max =
                        |a: &[u32]| a[first..first + count].iter().copied().max().unwrap_or(0);
                    (max(&v.peaks), max(&v.enabled))
                };
                peak = peak.max(pk);
                enabled = enabled.max(en);
                let e = self.ent[ii][(day - self.d_lo) as usize];
                entitled = entitlement::smallest(entitled, e);
                let measured = match it.model {
                    Model::Concurrent => pk as u64,
                    Model::Named => en as u64,
                };
                if let Some(e) = e
                    && e.exceeded_by(measured)
                {
                    over = true;
                    if let Entitled::Seats(n) = e {
                        let excess = measured - n;
                        if worst.is_none_or(|(m, w)| excess > m.saturating_sub(w)) {
                            worst = Some((measured, n));
                        }
                    }
                }
            }
            let row = Row {
                scope: self.req.scope,
                scope_id: self.label,
                granularity: self.req.granularity,
                period_start: &p.start_text,
                period_end: &p.end_text,
                item: &it.name,
                peak_concurrent: peak as u64,
                enabled_seats: enabled_known.then_some(enabled as u64),
                entitled,
                over_use: over,
            };
            emit(&row)?;
            outcome.rows += 1;
            if let Some((measured, entitled)) = worst {
                outcome.over_use.push(OverUse {
                    scope: self.req.scope,
                    scope_id: self.label.to_string(),
                    item: it.name.clone(),
                    period_start: p.start_text.clone(),
                    period_end: p.end_text.clone(),
                    measured,
                    entitled,
                });
            }
        }
        Ok(())
    }
}

/// The rows of each period of a report: every item, then every bundle in system and
/// tenant reports (bundles are billed to tenants and shown to the vendor, not per group).
pub fn measures_of(config: &Config, scope: ScopeKind) -> Vec<Measure> {
    let mut m = config.measures();
    if scope == ScopeKind::Group {
        m.retain(|m| !m.bundle);
    }
    m
}

fn day_item(rec: SlotRecord, detail: bool, n: usize) -> Result<DayItem, ReportError> {
    if detail && (rec.peaks.len() != n || rec.enabled.len() != n) {
        return Err(ReportError::Store(StoreError::Corrupt(format!(
            "a stored day has {} periods where the calendar has {n}; run `seatmeter rollup` again",
            rec.peaks.len()
        ))));
    }
    Ok(DayItem {
        peaks: rec.peaks,
        enabled: rec.enabled,
        day_peak: rec.day_peak,
        day_enabled: rec.day_enabled,
    })
}
