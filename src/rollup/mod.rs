//! The rollup: stored events and snapshots to exact 10-minute peaks, one local day at a time
//! (docs/SEMANTICS.md, sections 2.1, 2.2, 4 and 5).
//!
//! For each day it takes the agents logged in when the day starts (the previous day's end
//! state, [`carry`]), applies the day's events per agent in (timestamp, receive order)
//! ([`sessions`]), and turns each change of an agent's seats into +1/-1 steps per (scope,
//! item) ([`keys`]). A sweep over the steps ([`sweep`]), sorted by time with ends before
//! starts at equal instants (intervals are half-open), gives the true maximum in every
//! 10-minute period. Coarser periods are maxima of these, taken by the report.
//!
//! The rollup reads no clock: what it stores depends only on the stored data and the
//! configuration's time zone and items. It is incremental: a day is rolled up again only
//! when data arrived for it, or when what it starts from changed (a late logout on an
//! earlier day, say), which the digest of its starting state tells.

mod carry;
mod items;
mod keys;
mod levels;
mod live;
mod sessions;
mod snapshots;
mod sweep;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use seatmeter_core::time::NANOS_PER_DAY;
use seatmeter_core::{Calendar, Day, ScopeKind};
use seatmeter_store::{
    Anomaly, DayRecord, Dimensions, RollupMeta, Scope, SlotRecord, SnapshotInfo, Store, StoreError,
    StoredEvent,
};

use crate::config::{Config, Item};
use crate::entitlement::{Bundle, BundleDef};
use carry::Carry;
pub use items::items_of;
pub use levels::{TenantLevels, fair_peak};
pub use live::Live;
use snapshots::SnapshotView;
use sweep::{SweepWork, sweep_day};

/// The items an agent uses a seat of, as a bit set (bit i: item i in configuration order).
pub type ItemMask = u128;

/// Why a rollup could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the time zone, the items or the bundle definitions changed, but the raw events before {0} were deleted by the retention: \
         those days cannot be rolled up again; restore the previous time zone and items"
    )]
    ChangedAfterRetention(String),
    #[error(
        "the raw events before {0} were deleted by the retention: levels before that day cannot be measured again"
    )]
    LevelsBeforeRetention(String),
    #[error("{0} is not rolled up: run `seatmeter rollup` first")]
    NotRolledUp(String),
    #[error("the rollup's sweeping thread stopped")]
    SweepStopped,
}

/// What one rollup run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupStats {
    /// Days rolled up, ascending.
    pub rolled: Vec<Day>,
    /// Days whose inputs were unchanged and that were kept as stored.
    pub unchanged: u64,
    pub events: u64,
    pub sessions: u64,
    pub stray_logouts: u64,
    /// Whether every stored rollup was discarded first (time zone or items changed).
    pub reset: bool,
    /// Days older than the retention horizon that received data: not rolled up again.
    pub frozen_days_with_new_data: u64,
    /// Whether the run was asked to stop before it finished.
    pub stopped: bool,
}

/// Which days to roll up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// Every day whose data changed since the last run.
    Changed,
    /// These days (inclusive), whatever changed, plus any later day their change affects.
    Range(Day, Day),
}

/// The days a run goes over: from `first` to `hi`, rolling up those in `dirty` (and any
/// whose start changed), keeping the others as stored.
struct Plan {
    hi: Day,
    first: Day,
    dirty: BTreeSet<Day>,
    /// The state the first day starts from.
    carry: Carry,
}

pub struct Rollup<'a> {
    store: &'a mut dyn Store,
    cal: Calendar,
    items: &'a [Item],
    bundles: &'a [Bundle],
    /// Each bundle's definition in force on the day being prepared; None counts nobody.
    day_bundles: Vec<Option<&'a BundleDef>>,
    fingerprint: String,
    dims: Dimensions,
    /// Items of each media set id.
    media_items: Vec<ItemMask>,
    snapshots: Vec<SnapshotInfo>,
    views: HashMap<u32, Rc<SnapshotView>>,
    /// Group sets built by logins on a second device (unions), interned.
    group_sets: HashMap<Vec<u32>, Rc<[u32]>>,
    /// The store's group sets by id, interned.
    groupsets: Vec<Rc<[u32]>>,
    /// The store's media sets by id, interned.
    mediasets: Vec<Rc<[u32]>>,
    /// Decoded events of the last UTC days read (a local day spans two of them).
    utc_days: Vec<(i64, Rc<Vec<StoredEvent>>)>,
    stop: Option<Arc<AtomicBool>>,
}

impl<'a> Rollup<'a> {
    pub fn new(store: &'a mut dyn Store, config: &'a Config) -> Rollup<'a> {
        Rollup {
            store,
            cal: Calendar::new(config.timezone),
            items: &config.items,
            bundles: &config.bundles,
            day_bundles: Vec::new(),
            fingerprint: config.rollup_fingerprint(),
            dims: Dimensions::default(),
            media_items: Vec::new(),
            snapshots: Vec::new(),
            views: HashMap::new(),
            group_sets: HashMap::new(),
            groupsets: Vec::new(),
            mediasets: Vec::new(),
            utc_days: Vec::new(),
            stop: None,
        }
    }

    fn load_dimensions(&mut self) -> Result<(), StoreError> {
        self.dims = self.store.dimensions()?;
        let media = &self.dims.media;
        self.media_items = self
            .dims
            .mediasets
            .iter()
            .map(|set| items_of(self.items, set.iter().map(|&m| media[m as usize].as_str())))
            .collect();
        // The stored group sets, shared (interned, so that unions find them).
        let sets = self.dims.groupsets.clone();
        self.groupsets = sets.into_iter().map(|g| self.intern_groups(g)).collect();
        let media = self.dims.mediasets.clone();
        self.mediasets = media.into_iter().map(|m| self.intern_groups(m)).collect();
        Ok(())
    }

    /// Stops between two days when `stop` is set (service shutdown).
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Runs the rollup; `progress` is told of each day rolled up.
    pub fn run(
        &mut self,
        days: Days,
        progress: &mut dyn FnMut(Day),
    ) -> Result<RollupStats, RollupError> {
        let mut stats = RollupStats::default();
        // The dirty marks are read before the data: whatever is stored after that has a
        // mark above the watermark, so it stays marked for the next run even if this run
        // does not see it.
        let (plan, watermark) = self.plan(days, &mut stats)?;
        if let Some(plan) = plan {
            self.roll(plan, &mut stats, progress)?;
        }
        if !stats.stopped {
            self.finish(watermark)?;
        }
        Ok(stats)
    }

    /// Which days this run rolls up (None: none), and the dirty marks' watermark.
    fn plan(
        &mut self,
        days: Days,
        stats: &mut RollupStats,
    ) -> Result<(Option<Plan>, u64), RollupError> {
        let meta = self.store.rollup_meta()?;
        let mut rolled = self.store.rolled_days()?;
        let frozen = meta.frozen_before;
        if rolled.is_some() && meta.fingerprint.as_deref() != Some(&self.fingerprint) {
            if let Some(f) = frozen {
                return Err(RollupError::ChangedAfterRetention(Calendar::date_text(f)));
            }
            self.store.reset_rollups()?;
            stats.reset = true;
            rolled = None;
        }
        let (dirty_utc, watermark) = self.store.dirty_days()?;
        self.load_inputs()?;
        // The fingerprint first: a run cut short leaves days made with this configuration
        // and their dirty marks (watermark 0 forgets none), not days of an unknown one.
        self.store.finish_rollup(&self.meta(), 0)?;
        let Some((lo, hi)) = self.span(rolled, days)? else {
            return Ok((None, watermark));
        };
        // Days before the retention horizon are final: their raw events are gone.
        let lo = frozen.map_or(lo, |f| lo.max(f));
        if hi < lo {
            return Ok((None, watermark));
        }
        // Days that must be rolled up: those with new data, those asked for, and any day of
        // the range that has no rollup yet.
        let mut dirty: BTreeSet<Day> = BTreeSet::new();
        for u in dirty_utc {
            let a = self.cal.day_of(u * NANOS_PER_DAY);
            let b = self.cal.day_of((u + 1) * NANOS_PER_DAY - 1);
            if let Some(f) = frozen {
                stats.frozen_days_with_new_data += (a..=b).filter(|&d| d < f).count() as u64;
            }
            dirty.extend((a..=b).filter(|d| (lo..=hi).contains(d)));
        }
        if let Days::Range(a, b) = days {
            dirty.extend(a.max(lo)..=b);
        }
        match rolled {
            None => dirty.extend(lo..=hi),
            Some((a, b)) => {
                dirty.extend(lo..a);
                dirty.extend(b + 1..=hi);
            }
        }
        let Some(&(mut first)) = dirty.first() else {
            return Ok((None, watermark));
        };
        // Start after a day that is rolled up (an interrupted run may have left a gap).
        while first > lo && self.store.day_record(first - 1)?.is_none() {
            first -= 1;
            dirty.insert(first);
        }
        let carry = if first == lo {
            Vec::new()
        } else {
            self.stored_end_state(first - 1)?
        };
        let plan = Plan {
            hi,
            first,
            dirty,
            carry,
        };
        Ok((Some(plan), watermark))
    }

    /// The days the data spans (events and snapshots), the rolled-up days and the days
    /// asked for, together.
    fn span(
        &mut self,
        rolled: Option<(Day, Day)>,
        days: Days,
    ) -> Result<Option<(Day, Day)>, StoreError> {
        let events = self.store.event_span()?;
        let snapshots = self
            .snapshots
            .first()
            .zip(self.snapshots.last())
            .map(|(a, b)| (a.taken, b.taken));
        let data = match (events, snapshots) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
        let mut span: Option<(Day, Day)> = None;
        let mut widen = |a: Day, b: Day| {
            span = Some(span.map_or((a, b), |(l, h)| (l.min(a), h.max(b))));
        };
        if let Some((a, b)) = data {
            widen(self.cal.day_of(a), self.cal.day_of(b));
        }
        if let Some((a, b)) = rolled {
            widen(a, b);
        }
        if let Days::Range(a, b) = days {
            widen(a, b);
        }
        Ok(span)
    }

    /// Rolls up the days of `plan`, in order. Two threads: this one reads each day and runs
    /// the state machine (which needs the day before), the other sweeps the days it is
    /// given; days are written in order, each whole.
    fn roll(
        &mut self,
        plan: Plan,
        stats: &mut RollupStats,
        progress: &mut dyn FnMut(Day),
    ) -> Result<(), RollupError> {
        let Plan {
            hi,
            first,
            dirty,
            mut carry,
        } = plan;
        let mut pending: VecDeque<(DayRecord, Vec<Anomaly>)> = VecDeque::new();
        let mut d = first;
        std::thread::scope(|scope| -> Result<(), RollupError> {
            let (work_tx, work_rx) = mpsc::sync_channel::<SweepWork>(2);
            let (done_tx, done_rx) = mpsc::sync_channel::<Vec<SlotRecord>>(3);
            scope.spawn(move || {
                for w in work_rx {
                    if done_tx.send(sweep_day(w)).is_err() {
                        break;
                    }
                }
            });
            while d <= hi {
                if self
                    .stop
                    .as_ref()
                    .is_some_and(|s| s.load(Ordering::Relaxed))
                {
                    // Stopped between two days: each written day is whole, and the dirty
                    // marks stay, so the next run carries on.
                    stats.stopped = true;
                    break;
                }
                let slots = self.cal.slots(d);
                let in_force = self.in_force_at(slots.starts[0]).map(|s| s.id);
                let fp = carry::start_fingerprint(&carry, in_force);
                if !dirty.contains(&d)
                    && let Some(rec) = self.store.day_record(d)?
                    && rec.start_fp == fp
                {
                    // Same start, no new data: this day and every following one up to the
                    // next day with new data are as stored.
                    match dirty.range(d + 1..).next() {
                        None => {
                            stats.unchanged += (hi - d + 1) as u64;
                            break;
                        }
                        Some(&next) => {
                            stats.unchanged += (next - d) as u64;
                            carry = self.stored_end_state(next - 1)?;
                            d = next;
                            continue;
                        }
                    }
                }
                let p = self.prepare_day(&slots, &carry, fp)?;
                carry = p.end;
                pending.push_back((p.record, p.anomalies));
                work_tx
                    .send(p.work)
                    .map_err(|_| RollupError::SweepStopped)?;
                while let Ok(records) = done_rx.try_recv() {
                    self.write_pending(&mut pending, records, stats, progress)?;
                }
                d += 1;
            }
            drop(work_tx);
            for records in done_rx {
                self.write_pending(&mut pending, records, stats, progress)?;
            }
            Ok(())
        })
    }

    /// Writes the oldest day in flight, now swept.
    fn write_pending(
        &mut self,
        pending: &mut VecDeque<(DayRecord, Vec<Anomaly>)>,
        records: Vec<SlotRecord>,
        stats: &mut RollupStats,
        progress: &mut dyn FnMut(Day),
    ) -> Result<(), StoreError> {
        let (record, anomalies) = pending.pop_front().expect("one record per day sent");
        self.store.write_day(&record, &records, &anomalies)?;
        stats.events += record.events;
        stats.sessions += record.sessions;
        stats.stray_logouts += record.stray_logouts;
        stats.rolled.push(record.day);
        progress(record.day);
        Ok(())
    }

    fn finish(&mut self, watermark: u64) -> Result<(), StoreError> {
        let meta = self.meta();
        self.store.finish_rollup(&meta, watermark)
    }

    /// What the stored rollups are made with.
    fn meta(&self) -> RollupMeta {
        RollupMeta {
            fingerprint: Some(self.fingerprint.clone()),
            first_snapshot: self.snapshots.first().map(|s| s.taken),
            frozen_before: None,
        }
    }

    /// What every day's preparation reads: the snapshots and the dimensions.
    fn load_inputs(&mut self) -> Result<(), StoreError> {
        self.snapshots = self.store.snapshots()?;
        self.views.clear();
        self.load_dimensions()
    }

    /// The agents logged in when `day` ended, as stored with it.
    fn stored_end_state(&mut self, day: Day) -> Result<Carry, StoreError> {
        match self.store.day_record(day)? {
            Some(rec) => self.decode_carry(&rec.end_state),
            // Not rolled up (before the first day): nobody logged in.
            None => Ok(Vec::new()),
        }
    }

    /// One shared list per distinct set of ids (groups, or media).
    fn intern_groups(&mut self, mut groups: Vec<u32>) -> Rc<[u32]> {
        groups.sort_unstable();
        groups.dedup();
        if let Some(g) = self.group_sets.get(&groups) {
            return g.clone();
        }
        let rc: Rc<[u32]> = groups.clone().into();
        self.group_sets.insert(groups, rc.clone());
        rc
    }

    /// What an agent using `items` counts in: those items, and (bits after the items) each
    /// bundle whose definition of the day includes one of them and excludes none.
    fn measures(&self, items: ItemMask) -> ItemMask {
        let n = self.items.len();
        let mut m = items;
        for (b, def) in self.day_bundles.iter().enumerate() {
            if def.is_some_and(|d| d.counts(items)) {
                m |= 1 << (n + b);
            }
        }
        m
    }

    /// Reads the bundles' definitions for `day`; the snapshot views, whose enabled seats
    /// count bundles, are rebuilt when they change.
    fn set_day_bundles(&mut self, day: Day) {
        let date = seatmeter_core::calendar::date_of_day(day);
        let defs: Vec<Option<&'a BundleDef>> =
            self.bundles.iter().map(|b| b.in_force(date)).collect();
        if defs != self.day_bundles {
            self.day_bundles = defs;
            self.views.clear();
        }
    }

    /// The (scope, item) keys a seat counts in: the system, its tenant and each of its groups,
    /// for each item it uses.
    fn keys(&self, tenant: u32, items: ItemMask, groups: &[u32], out: &mut Vec<keys::Key>) {
        let mut m = items;
        while m != 0 {
            let i = m.trailing_zeros();
            m &= m - 1;
            out.push(keys::key(Scope::SYSTEM, i));
            out.push(keys::key(
                Scope {
                    kind: ScopeKind::Tenant,
                    id: tenant,
                },
                i,
            ));
            for &g in groups {
                let scope = match g & keys::PLACE_GROUP {
                    0 => Scope {
                        kind: ScopeKind::Group,
                        id: g,
                    },
                    _ => Scope {
                        kind: ScopeKind::PlaceGroup,
                        id: g & !keys::PLACE_GROUP,
                    },
                };
                out.push(keys::key(scope, i));
            }
        }
    }

    fn decode_carry(&mut self, blob: &[u8]) -> Result<Carry, StoreError> {
        carry::decode(blob, &mut |g| self.intern_groups(g))
    }
}

/// The sessions open when local day `day` ended, as its rollup stored them: (agent id, the
/// instant the session began), leaving out sessions carried from a day rolled up before
/// session starts were kept. What right-sizing lists as long sessions still open.
pub fn open_sessions(
    store: &mut dyn seatmeter_store::Store,
    day: Day,
) -> Result<Vec<(u32, seatmeter_core::Nanos)>, StoreError> {
    let Some(rec) = store.day_record(day)? else {
        return Ok(Vec::new());
    };
    Ok(carry::decode(&rec.end_state, &mut |g| Rc::from(g))?
        .into_iter()
        .filter(|(_, s)| s.since != carry::SINCE_UNKNOWN)
        .map(|(agent, s)| (agent, s.since))
        .collect())
}

pub use sessions::LONG_SESSION;
