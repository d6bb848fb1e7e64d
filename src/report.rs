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

use seatmeter_collectors::Nanos;
use seatmeter_reports::{Entitled, Granularity, Row, ScopeKind};

use crate::calendar::{self, Calendar, Day, date_of_day};
use crate::config::{Config, Model};
use crate::entitlement::{self, Ledger, LicenseError, LicenseFile};
use crate::entitlement_xml::{self, Entitlements};
use crate::store::{Dimensions, Scope, SlotRecord, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub scope: ScopeKind,
    /// A tenant (tenant scope), a tenant or `tenant/group` (group scope).
    pub id: Option<String>,
    pub granularity: Granularity,
    pub from: Day,
    pub to: Day,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Render(#[from] seatmeter_reports::RenderError),
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

/// A period of the report and the parts of days it covers.
#[derive(Debug, Clone)]
struct Period {
    end: Nanos,
    start_text: String,
    end_text: String,
    /// (day, first slot, slot count); a whole day when `whole` is set.
    parts: Vec<(Day, usize, usize)>,
    whole: bool,
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
        let (files, errors) = entitlement::load_all(&config.license_files);
        for e in &errors {
            outcome.warnings.push(format!("license file not used: {e}"));
        }
        let ledger = Ledger::new(&files);
        outcome.license_files = files;
        outcome.license_errors = errors;
        let names: Vec<String> = config.items.iter().map(|i| i.name.clone()).collect();
        let ents = match entitlement_xml::load_all(&config.entitlement_files, &names) {
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
        let slots: Vec<calendar::DaySlots> = (d_lo..=d_hi).map(|d| self.cal.slots(d)).collect();
        let periods = self.periods(req, &slots);
        let items = &measures_of(self.config, req.scope);
        // Entitlement of each item on each day of the range: the license files' and the
        // system grants of the entitlement files (bundles have only the latter).
        let system_ent: Vec<Vec<Option<Entitled>>> = (0..items.len())
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
            .collect();
        // With tenant grants, tenant rows compare with the tenant's own.
        let per_tenant = req.scope == ScopeKind::Tenant && self.ents.has_tenants();
        let mut over_use = Vec::new();
        for (scope, label) in &scopes {
            let tenant_ent: Vec<Vec<Option<Entitled>>>;
            let ent = if per_tenant {
                tenant_ent = (0..items.len())
                    .map(|ii| {
                        (d_lo..=d_hi)
                            .map(|d| self.ents.tenant(label, ii, date_of_day(d)))
                            .collect()
                    })
                    .collect();
                &tenant_ent
            } else {
                &system_ent
            };
            let values = self.values(*scope, d_lo, d_hi, &slots, detail)?;
            if self.peak_times {
                for ii in 0..items.len() {
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
                        scope_id: label.clone(),
                        item: ii,
                        peak: peak as u64,
                        period,
                    });
                }
            }
            for p in &periods {
                let enabled_known = self.first_snapshot.is_some_and(|f| f < p.end);
                for (ii, it) in items.iter().enumerate() {
                    let mut peak = 0u32;
                    let mut enabled = 0u32;
                    let mut entitled: Option<Entitled> = None;
                    let mut over = false;
                    let mut worst: Option<(u64, u64)> = None;
                    for &(day, first, count) in &p.parts {
                        let v = &values[(day - d_lo) as usize][ii];
                        let (pk, en) = if p.whole {
                            (v.day_peak, v.day_enabled)
                        } else {
                            (
                                v.peaks[first..first + count]
                                    .iter()
                                    .copied()
                                    .max()
                                    .unwrap_or(0),
                                v.enabled[first..first + count]
                                    .iter()
                                    .copied()
                                    .max()
                                    .unwrap_or(0),
                            )
                        };
                        peak = peak.max(pk);
                        enabled = enabled.max(en);
                        let e = ent[ii][(day - d_lo) as usize];
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
                        scope: req.scope,
                        scope_id: label,
                        granularity: req.granularity,
                        period_start: &p.start_text,
                        period_end: &p.end_text,
                        item: &it.name,
                        peak_concurrent: peak as u64,
                        enabled_seats: enabled_known.then_some(enabled as u64),
                        entitled,
                        over_use: over,
                    };
                    emit(&row)?;
                    self.outcome.rows += 1;
                    if let Some((measured, entitled)) = worst {
                        over_use.push(OverUse {
                            scope: req.scope,
                            scope_id: label.clone(),
                            item: it.name.clone(),
                            period_start: p.start_text.clone(),
                            period_end: p.end_text.clone(),
                            measured,
                            entitled,
                        });
                    }
                }
            }
        }
        self.outcome.over_use = over_use;
        Ok(self.outcome)
    }

    fn periods(&self, req: &Request, slots: &[calendar::DaySlots]) -> Vec<Period> {
        let cal = &self.cal;
        let d_lo = slots[0].day;
        let mut out = Vec::new();
        let whole_days = |a: Day, b: Day| -> Period {
            let start = cal.day_start(a);
            let end = cal.day_start(b);
            Period {
                end,
                start_text: cal.format(start),
                end_text: cal.format(end),
                parts: (a..b).map(|d| (d, 0, 0)).collect(),
                whole: true,
            }
        };
        match req.granularity {
            Granularity::TenMin => {
                for s in slots {
                    for i in 0..s.len() {
                        let (a, b) = (s.starts[i], s.slot_end(i));
                        out.push(Period {
                            end: b,
                            start_text: cal.format(a),
                            end_text: cal.format(b),
                            parts: vec![(s.day, i, 1)],
                            whole: false,
                        });
                    }
                }
            }
            Granularity::Hourly => {
                for s in slots {
                    let hours: Vec<usize> = (0..s.len())
                        .filter(|&i| cal.starts_hour(s.starts[i], s))
                        .collect();
                    for (k, &h) in hours.iter().enumerate() {
                        let next = hours.get(k + 1).copied().unwrap_or(s.len());
                        let (a, b) = (s.starts[h], s.slot_end(next - 1));
                        out.push(Period {
                            end: b,
                            start_text: cal.format(a),
                            end_text: cal.format(b),
                            parts: vec![(s.day, h, next - h)],
                            whole: false,
                        });
                    }
                }
            }
            Granularity::Daily => {
                for s in slots {
                    out.push(whole_days(s.day, s.day + 1));
                }
            }
            Granularity::Weekly => {
                let mut w = d_lo;
                while w <= req.to {
                    out.push(whole_days(w, w + 7));
                    w += 7;
                }
            }
            Granularity::Monthly => {
                let mut m = d_lo;
                while m <= req.to {
                    let (_, next) = calendar::month_bounds(m);
                    out.push(whole_days(m, next));
                    m = next;
                }
            }
        }
        out
    }

    /// Values of every item on every day of `d_lo..=d_hi`, for one scope.
    fn values(
        &mut self,
        scope: Scope,
        d_lo: Day,
        d_hi: Day,
        slots: &[calendar::DaySlots],
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

/// The rows of each period of a report: every item, then every bundle in system and
/// tenant reports (bundles are billed to tenants and shown to the vendor, not per group).
pub fn measures_of(config: &Config, scope: ScopeKind) -> Vec<crate::config::Measure> {
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

/// The local days a request needs: its own for 10-minute, hourly and daily reports; whole
/// weeks or months for weekly and monthly ones.
fn day_range(req: &Request) -> (Day, Day) {
    match req.granularity {
        Granularity::Weekly => (
            calendar::week_start(req.from),
            calendar::week_start(req.to) + 6,
        ),
        Granularity::Monthly => (
            calendar::month_bounds(req.from).0,
            calendar::month_bounds(req.to).1 - 1,
        ),
        _ => (req.from, req.to),
    }
}
