//! Reports from stored rollups (docs/SEMANTICS.md, sections 3, 4 and 7).
//!
//! A report reads what `rollup` stored (never the events), takes coarser periods as the
//! maximum of their 10-minute periods, and compares with the entitlement of each day from
//! the license files, read now, so a changed license file needs no new rollup.
//!
//! Days after the last rolled-up day have no events: their values are those in force when
//! that day ended (agents still logged in stay logged in, the last snapshot stays in
//! force). Days before the first rolled-up day have no seats in use.

use std::collections::HashMap;

pub mod agents;
mod audience;
mod error;
mod gaps;
mod limits;
pub mod output;
pub mod pdf;
mod peak_at;
mod periods;
mod utilization;

use seatmeter_core::calendar::{self, DaySlots, date_of_day};
use seatmeter_core::{Calendar, Day, Entitled, Granularity, Nanos, ScopeKind};
use seatmeter_reports::Row;
use seatmeter_store::{Dimensions, Scope, SlotRecord, Store, StoreError};

use crate::config::{Config, Measure, Model};
use crate::entitlement::{self, Entitlements, Ledger, LicenseError, LicenseFile};
pub use audience::{Audience, collector_label, file_name, restatement_line};
pub use error::ReportError;
use periods::{Period, day_range};
pub use utilization::Utilization;
use utilization::busiest_days;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub scope: ScopeKind,
    /// A tenant (tenant scope), a tenant or `tenant/group` (group scope).
    pub id: Option<String>,
    pub granularity: Granularity,
    pub from: Day,
    pub to: Day,
}

/// The dates a report may cover: instants before 2000 are never stored (see
/// `seatmeter_collectors::Window`), and far dates only make a report large.
pub const FIRST_DATE: &str = "2000-01-01";
pub const LAST_DATE: &str = "2199-12-31";

impl Request {
    /// Whether the dates can be reported: in order, and from 2000 to 2199.
    pub fn check(&self) -> Result<(), ReportError> {
        if self.to < self.from {
            return Err(ReportError::Request(format!(
                "--to {} is before --from {}",
                Calendar::date_text(self.to),
                Calendar::date_text(self.from)
            )));
        }
        let (first, last) = (
            calendar::parse_date(FIRST_DATE).expect("a date"),
            calendar::parse_date(LAST_DATE).expect("a date"),
        );
        if self.from < first || self.to > last {
            return Err(ReportError::Request(format!(
                "reports cover dates from {FIRST_DATE} to {LAST_DATE}; {} to {} is outside",
                Calendar::date_text(self.from),
                Calendar::date_text(self.to)
            )));
        }
        Ok(())
    }

    /// The most periods a report of this request can have, per scope and measure: the
    ///10-minute and hourly periods of its days (a day may have 25 hours), its days, weeks
    /// or months (weeks starting on `week_start`).
    pub fn periods_at_most(&self, week_start: chrono::Weekday) -> u64 {
        let (a, b) = day_range(self, week_start);
        let days = (b - a + 1).max(0) as u64;
        match self.granularity {
            Granularity::TenMin => days * 150,
            Granularity::Hourly => days * 25,
            Granularity::Daily => days,
            Granularity::Weekly => days / 7,
            Granularity::Monthly => days.div_ceil(28),
        }
    }
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
    /// What makes the numbers incomplete (see [`Reporter::gaps`]): empty when complete.
    pub gaps: Vec<String>,
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
    /// Who the report is for (see [`Reporter::audience`]).
    pub audience: Audience,
    /// Whether tenant and group rows compare with tenant grants rather than the site's
    /// license (see [`Reporter::run`]).
    pub tenant_grants: bool,
    /// For a tenant's document with tenant grants: its grants per measure and day of the
    /// report (its own entitlement, which its document shows instead of the site's).
    pub own_grants: Vec<Vec<Option<Entitled>>>,
    /// Values of the report's days and scopes that changed after they were first rolled
    /// up (late data), as text, oldest day first: what a report or bill made before showed
    /// differently (docs/SEMANTICS.md, "Restatements").
    pub restated: Vec<String>,
    /// How many there are (`restated` lists the first [`RESTATED_LISTED`]).
    pub restated_total: u64,
}

/// How many restatements a report lists (all are counted).
pub const RESTATED_LISTED: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeakAt {
    pub scope_id: String,
    pub item: usize,
    pub peak: u64,
    /// `start – end` of the 10-minute period, local time; None when the peak is 0.
    pub period: Option<String>,
    /// The day of the largest ratio of the measured value to that day's entitlement;
    /// None when no day of the report grants the item a number of seats.
    pub utilization: Option<Utilization>,
}

/// The values of one item on one day in one scope.
#[derive(Debug, Clone, Default)]
struct DayItem {
    /// Per 10-minute period; empty when only the day's maxima were read.
    peaks: Vec<u32>,
    enabled: Vec<u32>,
    day_peak: u32,
    day_enabled: u32,
    /// The second after each period's start its peak was first reached (empty: not read,
    /// or not kept), and after the day's start the day's peak was.
    peak_at: Vec<u32>,
    day_peak_at: Option<u32>,
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
            // A level carried through the day is reached at each period's start.
            peak_at: if detail { vec![0; slots] } else { Vec::new() },
            day_peak_at: Some(0),
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
    /// Whether the last rollup finished (it wrote the rollups' fingerprint).
    finished: bool,
    outcome: Outcome,
    peak_times: bool,
    /// The request whose gaps `outcome.gaps` holds.
    gaps_of: Option<Request>,
}

impl<'a> Reporter<'a> {
    pub fn new(store: &'a mut dyn Store, config: &'a Config) -> Result<Reporter<'a>, ReportError> {
        let mut outcome = Outcome::default();
        let meta = store.rollup_meta()?;
        let rolled = store.rolled_days()?;
        // A rollup that never finished has no fingerprint: its days are incomplete, not
        // made with another configuration (see `gaps`).
        if rolled.is_some()
            && meta
                .fingerprint
                .as_deref()
                .is_some_and(|f| f != config.rollup_fingerprint())
        {
            return Err(ReportError::Request(
                "the time zone, the items or the bundle definitions changed since the last rollup; run `seatmeter rollup` first".into(),
            ));
        }
        let (files, errors) = entitlement::flexnet::load_all(&config.license_files);
        let ledger = Ledger::new(&files);
        outcome.license_files = files;
        outcome.license_errors = errors;
        let names: Vec<String> = config.items.iter().map(|i| i.name.clone()).collect();
        let ents = match entitlement::xml::load_all(&config.entitlement_files, &names) {
            Ok(e) => e,
            Err(e) => {
                outcome.entitlement_error = Some(e.to_string());
                Entitlements::default()
            }
        };
        outcome.entitlement_files = ents
            .files
            .iter()
            .map(|f| (f.path.clone(), f.sha256))
            .collect();
        let dims = store.scope_names()?;
        Ok(Reporter {
            store,
            config,
            cal: Calendar::new(config.timezone),
            ledger,
            ents,
            dims,
            first_snapshot: meta.first_snapshot,
            rolled,
            finished: meta.fingerprint.is_some(),
            outcome,
            peak_times: false,
            gaps_of: None,
        })
    }

    /// Who the document of `req` is for: one tenant when a tenant or group report is
    /// narrowed by its id to one tenant or to one of its groups; the site otherwise.
    pub fn audience(&self, req: &Request) -> Audience {
        let Some(id) = &req.id else {
            return Audience::Site;
        };
        match req.scope {
            ScopeKind::System => Audience::Site,
            ScopeKind::Tenant => Audience::Tenant(id.clone()),
            k @ (ScopeKind::Group | ScopeKind::PlaceGroup) => {
                // The tenant whose groups the id names; an id naming groups of two
                // tenants (names may hold `/`) is no one tenant's document.
                let owners: std::collections::BTreeSet<&str> = self
                    .dims
                    .groups_named(k, id)
                    .map(|g| self.dims.tenant_of_group(k, g))
                    .collect();
                match owners.len() {
                    0 => Audience::Tenant(
                        id.split_once('/')
                            .map_or(id.as_str(), |(t, _)| t)
                            .to_string(),
                    ),
                    1 => Audience::Tenant(owners.first().expect("one").to_string()),
                    _ => Audience::Site,
                }
            }
        }
    }

    /// Whether tenant and group rows compare with tenant grants: when an entitlement file
    /// grants anything to a tenant, or when an entitlement file could not be read (then
    /// the grants are not known, and those rows have no entitlement rather than the site's).
    pub fn tenant_grants(&self) -> bool {
        self.ents.has_tenants() || self.outcome.entitlement_error.is_some()
    }

    /// The most rows `req` can have: its scopes × measures × periods.
    pub fn rows_at_most(&self, req: &Request) -> Result<u64, ReportError> {
        req.check()?;
        let scopes = self.scopes(req)?.len() as u64;
        let measures = measures_of(self.config, req.scope).len() as u64;
        Ok(scopes * measures * req.periods_at_most(self.config.week_start))
    }

    /// Also find when each item's peak was first reached (from what the rollup keeps with
    /// each day: no 10-minute values are read for it).
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
            // Agent groups: every group of the events and snapshots; place groups: every
            // group a snapshot's place has (docs/SEMANTICS.md, section 11.1).
            kind @ (ScopeKind::Group | ScopeKind::PlaceGroup) => {
                let groups = self.dims.groups_of(kind);
                (1..groups.len())
                    .filter(|&g| !groups[g].1.is_empty())
                    .map(|g| {
                        (
                            Scope { kind, id: g as u32 },
                            self.dims.group_label(kind, g as u32),
                        )
                    })
                    .collect()
            }
        };
        if req.scope == ScopeKind::Tenant {
            // Every provisioned tenant, with zeros where it has no data (docs/BILLING.md,
            // rule 4): the tenant report names the tenants the bill names.
            let provisioned: Vec<String> = self
                .ents
                .provisioned_tenants()
                .into_iter()
                .filter(|t| !scopes.iter().any(|(_, l)| l == t))
                .map(String::from)
                .collect();
            scopes.extend(provisioned.into_iter().map(|t| (NO_DATA, t)));
        }
        if let Some(id) = &req.id {
            let all = scopes.clone();
            let named: std::collections::HashSet<u32> =
                self.dims.groups_named(req.scope, id).collect();
            scopes.retain(|(s, label)| match s.kind {
                ScopeKind::System => true,
                ScopeKind::Tenant => label == id,
                ScopeKind::Group | ScopeKind::PlaceGroup => named.contains(&s.id),
            });
            if scopes.is_empty() {
                let mut known: Vec<String> = all.into_iter().map(|(_, l)| l).collect();
                known.sort_unstable();
                return Err(ReportError::UnknownId {
                    scope: req.scope,
                    id: id.clone(),
                    known,
                });
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
        req.check()?;
        self.gaps(req)?;
        let scopes = self.scopes(req)?;
        let (d_lo, d_hi) = day_range(req, self.config.week_start);
        // The 10-minute values are read for 10-minute and hourly rows only: a day's peak
        // and when it was first reached are kept with the day.
        let detail = matches!(req.granularity, Granularity::TenMin | Granularity::Hourly);
        let items = &measures_of(self.config, req.scope);
        let system_ent = self.system_entitlement(items.len(), d_lo, d_hi);
        // With tenant grants, tenant rows compare with the tenant's own, and group rows
        // with their tenant's (a group holds part of its tenant's seats).
        let per_tenant = req.scope != ScopeKind::System && self.tenant_grants();
        self.outcome.audience = self.audience(req);
        self.outcome.tenant_grants = self.tenant_grants();
        if let (Some(t), true) = (self.outcome.audience.tenant(), self.tenant_grants()) {
            let n = measures_of(self.config, ScopeKind::Tenant).len();
            self.outcome.own_grants = self.tenant_entitlement(t, n, d_lo, d_hi);
        }
        self.restated(req, &scopes)?;
        let windows = periods::windows(req.granularity, d_lo, d_hi);
        // The 10-minute periods of each day and the report's periods, once for every scope
        // (a day's are 144 time-zone lookups, a period's texts two formattings) when there are
        // several scopes and the range is up to about a year (a year of 10-minute periods
        // holds about 10 MB); otherwise window by window, in memory that does not grow with
        // the range.
        let cal = self.cal.clone();
        let of_window = |&(a, b): &(Day, Day)| {
            let slots: Vec<DaySlots> = (a..=b).map(|d| cal.slots(d)).collect();
            let window_req = Request {
                to: b,
                ..req.clone()
            };
            let periods = periods::periods(&cal, &window_req, &slots);
            (slots, periods)
        };
        let cached: Vec<_> = match scopes.len() > 1 && d_hi - d_lo < 400 {
            true => windows.iter().map(of_window).collect(),
            false => Vec::new(),
        };
        for (scope, label) in &scopes {
            let tenant_ent;
            let ent = if per_tenant {
                let tenant = match scope.kind {
                    k @ (ScopeKind::Group | ScopeKind::PlaceGroup) => {
                        self.dims.tenant_of_group(k, scope.id)
                    }
                    _ => label.as_str(),
                };
                tenant_ent = self.tenant_entitlement(tenant, items.len(), d_lo, d_hi);
                &tenant_ent
            } else {
                &system_ent
            };
            let mut peaks: Vec<(u32, Option<String>)> = vec![(0, None); items.len()];
            let mut busiest: Vec<Option<Utilization>> = vec![None; items.len()];
            // The days are read a window at a time (a week, a month, or 31 days), so that
            // the memory of a report does not grow with its range.
            for (k, &(a, b)) in windows.iter().enumerate() {
                let fresh;
                let (slots, window_periods) = match cached.get(k) {
                    Some(c) => (&c.0, &c.1),
                    None => {
                        fresh = of_window(&(a, b));
                        (&fresh.0, &fresh.1)
                    }
                };
                let values = self.values(*scope, a, b, slots, detail)?;
                if self.peak_times {
                    self.peak_times_of(&mut peaks, &values, slots);
                    busiest_days(&mut busiest, items, &values, a, ent, d_lo);
                }
                let scope_rows = ScopeRows {
                    req,
                    label,
                    items,
                    values: &values,
                    slots,
                    cal: &self.cal,
                    values_from: a,
                    ent,
                    ent_from: d_lo,
                    first_snapshot: self.first_snapshot,
                };
                for p in window_periods {
                    scope_rows.period(p, emit, &mut self.outcome)?;
                }
            }
            if self.peak_times {
                self.outcome
                    .peak_at
                    .extend(peaks.into_iter().zip(busiest).enumerate().map(
                        |(item, ((peak, period), utilization))| PeakAt {
                            scope_id: label.clone(),
                            item,
                            peak: peak as u64,
                            period,
                            utilization,
                        },
                    ));
            }
        }
        Ok(self.outcome)
    }

    /// The restatements of the report's own days and scopes, into the outcome.
    fn restated(&mut self, req: &Request, scopes: &[(Scope, String)]) -> Result<(), ReportError> {
        let labels: HashMap<Scope, &str> = scopes.iter().map(|(s, l)| (*s, l.as_str())).collect();
        let restated = self.store.restatements(req.from, req.to)?;
        let own: Vec<_> = restated
            .iter()
            .filter(|r| labels.contains_key(&r.scope))
            .collect();
        self.outcome.restated_total = own.len() as u64;
        let measures = self.config.measures();
        self.outcome.restated = own
            .iter()
            .take(RESTATED_LISTED)
            .map(|r| restatement_line(r, &self.dims, &measures, &self.cal))
            .collect();
        Ok(())
    }

    /// Entitlement of each measure on each day of the range: the license files' and the
    /// system grants of the entitlement files (bundles have only the latter).
    pub fn system_entitlement(
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
    pub fn tenant_entitlement(
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

    /// Each measure's peak so far and the 10-minute period in which it was first reached,
    /// with the values of the next days.
    fn peak_times_of(
        &self,
        peaks: &mut [(u32, Option<String>)],
        values: &[Vec<DayItem>],
        slots: &[DaySlots],
    ) {
        for (ii, (best, period)) in peaks.iter_mut().enumerate() {
            let peak = values.iter().map(|v| v[ii].day_peak).max().unwrap_or(0);
            if peak <= *best {
                continue;
            }
            *best = peak;
            *period = (|| {
                let d = values.iter().position(|v| v[ii].day_peak == peak)?;
                let day = &slots[d];
                // The instant, to the second, where the rollup kept it; else the 10-minute
                // period where those were read, else the day.
                let v = &values[d][ii];
                Some(
                    match (v.day_peak_at, v.peaks.iter().position(|&p| p == peak)) {
                        (Some(sec), _) => seatmeter_reports::pdf::people_time(
                            &self
                                .cal
                                .format(day.starts[0] + sec as Nanos * 1_000_000_000),
                        ),
                        (None, Some(s)) => self.cal.period_text(day.starts[s], day.slot_end(s)),
                        (None, None) => Calendar::date_text(day.day),
                    },
                )
            })();
        }
    }

    /// Values of every item on every day of `d_lo..=d_hi`, for one scope (zeros for a
    /// provisioned tenant without data).
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
        let Some((r_lo, r_hi)) = self.rolled.filter(|_| scope != NO_DATA) else {
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

/// The scope of a provisioned tenant that has no data in the store.
const NO_DATA: Scope = Scope {
    kind: ScopeKind::Tenant,
    id: u32::MAX,
};

/// The rows of one scope, period by period.
struct ScopeRows<'r> {
    req: &'r Request,
    label: &'r str,
    items: &'r [Measure],
    /// Per day from `values_from`, per measure.
    values: &'r [Vec<DayItem>],
    /// The periods of each day from `values_from`.
    slots: &'r [DaySlots],
    cal: &'r Calendar,
    values_from: Day,
    /// Per measure, per day from `ent_from`.
    ent: &'r [Vec<Option<Entitled>>],
    ent_from: Day,
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
        // Places are not enabled or disabled: a place group's enabled seats are empty.
        let enabled_known = self.first_snapshot.is_some_and(|f| f < p.end)
            && self.req.scope != ScopeKind::PlaceGroup;
        for (ii, it) in self.items.iter().enumerate() {
            let mut peak = 0u32;
            let mut enabled = 0u32;
            let mut entitled: Option<Entitled> = None;
            let mut over = false;
            let mut worst: Option<(u64, u64)> = None;
            let mut first_peak = peak_at::FirstPeak::default();
            for &(day, first, count) in &p.parts {
                let v = &self.values[(day - self.values_from) as usize][ii];
                let day_slots = &self.slots[(day - self.values_from) as usize];
                first_peak.part(v, day_slots, (first, count), p.whole);
                let (pk, en) = if p.whole {
                    (v.day_peak, v.day_enabled)
                } else {
                    let max =
                        |a: &[u32]| a[first..first + count].iter().copied().max().unwrap_or(0);
                    (max(&v.peaks), max(&v.enabled))
                };
                peak = peak.max(pk);
                enabled = enabled.max(en);
                let e = self.ent[ii][(day - self.ent_from) as usize];
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
            let peak_at_text = first_peak.instant().map(|t| self.cal.format(t));
            let row = Row {
                scope: self.req.scope,
                scope_id: self.label,
                granularity: self.req.granularity,
                period_start: &p.start_text,
                period_end: &p.end_text,
                item: &it.name,
                peak_concurrent: peak as u64,
                peak_at: peak_at_text.as_deref(),
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
    if scope.is_group() {
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
        peak_at: rec.peak_at,
        day_peak_at: rec.day_peak_at,
    })
}
