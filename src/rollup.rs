//! The rollup: stored events and snapshots to exact 10-minute peaks, one local day at a time
//! (usage-semantics.md, sections 2.1, 2.2, 4 and 5).
//!
//! For each day it takes the agents logged in when the day starts (the previous day's end
//! state), applies the day's events per agent in (timestamp, receive order), and turns
//! each change of an agent's seats into +1/-1 steps per (scope, item). A sweep over the
//! steps, sorted by time with ends before starts at equal instants (intervals are
//! half-open), gives the true maximum in every 10-minute period. Coarser periods are
//! maxima of these, taken by the report.
//!
//! The rollup reads no clock: what it stores depends only on the stored data and the
//! configuration's time zone and items. It is incremental: a day is rolled up again only
//! when data arrived for it, or when what it starts from changed (a late logout on an
//! earlier day, say), which the digest of its starting state tells.

use std::collections::{BTreeSet, HashMap};

use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc;

use seatmeter_collectors::time::NANOS_PER_DAY;
use seatmeter_collectors::{EventKind, Nanos};
use seatmeter_reports::ScopeKind;
use sha2::{Digest, Sha256};

use crate::calendar::{Calendar, Day, DaySlots};
use crate::config::{Config, Item};
use crate::entitlement_xml::{Bundle, BundleDef};
use crate::store::codec::{Reader, put_uvarint};
use crate::store::{
    Anomaly, AnomalyKind, DayRecord, Dimensions, RollupMeta, Scope, SlotRecord, SnapshotInfo,
    Store, StoreError, StoredEvent,
};

/// The items an agent uses a seat of, as a bit set (bit i: item i in configuration order).
pub type ItemMask = u128;

/// An agent's state while logged in: the items it uses and its current groups.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seat {
    items: ItemMask,
    /// Sorted group ids.
    groups: Rc<[u32]>,
}

/// Agents logged in at an instant (a day's start or end), by agent id.
type Carry = Vec<(u32, Seat)>;

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
    /// Decoded events of the last UTC days read (a local day spans two of them).
    utc_days: Vec<(i64, Rc<Vec<StoredEvent>>)>,
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// What the rollup needs of a snapshot: each listed agent's groups, and enabled seats per key.
struct SnapshotView {
    groups: HashMap<u32, Rc<[u32]>>,
    /// Shared with the thread that sweeps the day.
    enabled: Arc<HashMap<Key, u32>>,
}

/// A (scope, item) pair as one number: scope kind, scope id and item index.
type Key = u64;

fn key(scope: Scope, item: u32) -> Key {
    ((crate::store::scope_kind_code(scope.kind) as u64) << 48)
        | ((scope.id as u64) << 8)
        | item as u64
}

fn key_scope(k: Key) -> (Scope, u16) {
    let kind =
        crate::store::scope_kind_from_code((k >> 48) as i64).expect("keys are built by key()");
    (
        Scope {
            kind,
            id: ((k >> 8) & 0xffff_ffff) as u32,
        },
        (k & 0xff) as u16,
    )
}

impl<'a> Rollup<'a> {
    pub fn new(store: &'a mut dyn Store, config: &'a Config) -> Result<Rollup<'a>, StoreError> {
        let r = Rollup {
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
            utc_days: Vec::new(),
            stop: None,
        };
        Ok(r)
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
        Ok(())
    }

    /// Stops between two days when `stop` is set (service shutdown).
    pub fn with_stop(mut self, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Runs the rollup; `progress` is told of each day rolled up.
    pub fn run(
        &mut self,
        days: Days,
        progress: &mut dyn FnMut(Day),
    ) -> Result<RollupStats, StoreError> {
        let mut stats = RollupStats::default();
        let meta = self.store.rollup_meta()?;
        let rolled = self.store.rolled_days()?;
        let mut rolled = rolled;
        let frozen = meta.frozen_before;
        if rolled.is_some() && meta.fingerprint.as_deref() != Some(&self.fingerprint) {
            if let Some(f) = frozen {
                return Err(StoreError::Other(format!(
                    "the time zone, the items or the bundle definitions changed, but the raw events before {} were deleted by the retention: \
                     those days cannot be rolled up again; restore the previous time zone and items",
                    Calendar::date_text(f)
                )));
            }
            self.store.reset_rollups()?;
            stats.reset = true;
            rolled = None;
        }
        // The dirty marks first, then the data: whatever is stored after this point has a
        // mark above the watermark, so it stays marked for the next run even if this run
        // does not see it.
        let (dirty_utc, watermark) = self.store.dirty_days()?;
        self.load_inputs()?;
        // The days the data spans.
        let span = self.store.event_span()?;
        let snap_span = self
            .snapshots
            .first()
            .zip(self.snapshots.last())
            .map(|(a, b)| (a.taken, b.taken));
        let data = match (span, snap_span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
        let mut lo = None::<Day>;
        let mut hi = None::<Day>;
        let mut widen = |a: Day, b: Day| {
            lo = Some(lo.map_or(a, |l| l.min(a)));
            hi = Some(hi.map_or(b, |h| h.max(b)));
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
        let (Some(lo), Some(hi)) = (lo, hi) else {
            self.finish(watermark)?;
            return Ok(stats);
        };
        // Days before the retention horizon are final: their raw events are gone.
        let lo = match frozen {
            Some(f) => lo.max(f),
            None => lo,
        };
        if hi < lo {
            self.finish(watermark)?;
            return Ok(stats);
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
            self.finish(watermark)?;
            return Ok(stats);
        };
        // Start after a day that is rolled up (an interrupted run may have left a gap).
        while first > lo && self.store.day_record(first - 1)?.is_none() {
            first -= 1;
            dirty.insert(first);
        }
        let mut carry: Carry = if first == lo {
            Vec::new()
        } else {
            self.stored_end_state(first - 1)?
        };
        // Two threads: this one reads each day and runs the state machine (which needs the
        // day before), the other sweeps the days it is given; days are written in order.
        let mut pending: VecDeque<(DayRecord, Vec<Anomaly>)> = VecDeque::new();
        let mut d = first;
        std::thread::scope(|scope| -> Result<(), StoreError> {
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
                    .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
                {
                    // Stopped between two days: each written day is whole, and the dirty
                    // marks stay, so the next run carries on.
                    stats.stopped = true;
                    break;
                }
                let slots = self.cal.slots(d);
                let in_force = self.in_force_at(slots.starts[0]).map(|s| s.id);
                let fp = start_fingerprint(&carry, in_force);
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
                work_tx.send(p.work).map_err(|_| {
                    StoreError::Other("the rollup's sweeping thread stopped".into())
                })?;
                while let Ok(records) = done_rx.try_recv() {
                    self.write_pending(&mut pending, records, &mut stats, progress)?;
                }
                d += 1;
            }
            drop(work_tx);
            for records in done_rx {
                self.write_pending(&mut pending, records, &mut stats, progress)?;
            }
            Ok(())
        })?;
        if !stats.stopped {
            self.finish(watermark)?;
        }
        Ok(stats)
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
        let meta = RollupMeta {
            fingerprint: Some(self.fingerprint.clone()),
            first_snapshot: self.snapshots.first().map(|s| s.taken),
            frozen_before: None,
        };
        self.store.finish_rollup(&meta, watermark)
    }

    /// The level of every tenant's items and bundles over the local days `from..=to`, as
    /// change points: per (tenant id, measure index), the instants at which the level
    /// changes and the level from then on, the first at the start of `from`. The session
    /// state machine runs again over the raw events, from the state stored for the day
    /// before `from`; nothing is written. For the billing's fair peak, which needs the
    /// level between the 10-minute maxima the rollup keeps.
    pub fn tenant_levels(&mut self, from: Day, to: Day) -> Result<TenantLevels, StoreError> {
        if let Some(f) = self.store.rollup_meta()?.frozen_before
            && from < f
        {
            return Err(StoreError::Other(format!(
                "the raw events before {} were deleted by the retention: levels before that day cannot be measured again",
                Calendar::date_text(f)
            )));
        }
        self.load_inputs()?;
        let mut carry = match (self.store.day_record(from - 1)?, self.store.rolled_days()?) {
            (Some(rec), _) => self.decode_carry(&rec.end_state)?,
            // Days before are rolled up but not this one: who was logged in is unknown.
            (None, Some((lo, _))) if lo < from => {
                return Err(StoreError::Other(format!(
                    "{} is not rolled up: run `seatmeter rollup` first",
                    Calendar::date_text(from - 1)
                )));
            }
            (None, _) => Vec::new(),
        };
        let mut out: TenantLevels = HashMap::new();
        let mut record = |dk: &DenseKeys, k: usize, t: Nanos, level: i32| {
            let (scope, measure) = dk.scope_of(k as u32);
            if scope.kind != ScopeKind::Tenant {
                return;
            }
            let points = out.entry((scope.id, measure)).or_default();
            if points.last().is_none_or(|p| p.1 != level) {
                points.push((t, level));
            }
        };
        for day in from..=to {
            let slots = self.cal.slots(day);
            let p = self.prepare_day(&slots, &carry, [0; 32])?;
            carry = p.end;
            let SweepWork {
                mut trans,
                flat,
                mut level,
                dk,
                ..
            } = p.work;
            for (k, &l) in level.iter().enumerate() {
                if l != 0 {
                    record(&dk, k, slots.starts[0], l);
                }
            }
            // As the sweep applies them: every transition of an instant, then the levels.
            trans.sort_unstable_by_key(|t| (t.ts, t.sign));
            let mut touched: Vec<u32> = Vec::new();
            for at in trans.chunk_by(|a, b| a.ts == b.ts) {
                touched.clear();
                for tr in at {
                    for &k in &flat[tr.start as usize..tr.end as usize] {
                        level[k as usize] += tr.sign as i32;
                        touched.push(k);
                    }
                }
                touched.sort_unstable();
                touched.dedup();
                for &k in &touched {
                    record(&dk, k as usize, at[0].ts, level[k as usize]);
                }
            }
        }
        Ok(out)
    }

    /// What every day's preparation reads: the snapshots and the dimensions.
    fn load_inputs(&mut self) -> Result<(), StoreError> {
        self.snapshots = self.store.snapshots()?;
        self.views.clear();
        self.load_dimensions()
    }

    fn stored_end_state(&mut self, day: Day) -> Result<Carry, StoreError> {
        match self.store.day_record(day)? {
            Some(rec) => self.decode_carry(&rec.end_state),
            // Not rolled up (before the first day): nobody logged in.
            None => Ok(Vec::new()),
        }
    }

    /// The snapshot in force at `t`: the latest taken at or before it (of two taken at the
    /// same instant, the one stored last).
    fn in_force_at(&self, t: Nanos) -> Option<&SnapshotInfo> {
        let i = self.snapshots.partition_point(|s| s.taken <= t);
        i.checked_sub(1).map(|i| &self.snapshots[i])
    }

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

    fn view(&mut self, id: u32) -> Result<Rc<SnapshotView>, StoreError> {
        if let Some(v) = self.views.get(&id) {
            return Ok(v.clone());
        }
        let rows = self.store.snapshot_agents(id)?;
        if rows.iter().any(|r| {
            r.agent as usize >= self.dims.agents.len()
                || r.media as usize >= self.media_items.len()
                || r.groups as usize >= self.dims.groupsets.len()
        }) {
            self.load_dimensions()?;
        }
        let mut groups = HashMap::with_capacity(rows.len());
        let mut enabled: HashMap<Key, u32> = HashMap::new();
        let mut keys = Vec::new();
        for r in rows {
            let g = self.groupsets[r.groups as usize].clone();
            if r.enabled {
                let items = self.measures(self.items_for_snapshot(r.media));
                let tenant = self.dims.agents[r.agent as usize].0;
                keys.clear();
                self.keys(tenant, items, &g, &mut keys);
                for &k in &keys {
                    *enabled.entry(k).or_default() += 1;
                }
            }
            groups.insert(r.agent, g);
        }
        let v = Rc::new(SnapshotView {
            groups,
            enabled: Arc::new(enabled),
        });
        self.views.insert(id, v.clone());
        Ok(v)
    }

    /// Items an enabled agent of a snapshot counts for: those whose media it has (any agent
    /// for items with media `*`).
    fn items_for_snapshot(&self, mediaset: u32) -> ItemMask {
        self.media_items[mediaset as usize] | any_items(self.items)
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
        let date = crate::calendar::date_of_day(day);
        let defs: Vec<Option<&'a BundleDef>> =
            self.bundles.iter().map(|b| b.in_force(date)).collect();
        if defs != self.day_bundles {
            self.day_bundles = defs;
            self.views.clear();
        }
    }

    /// The (scope, item) keys a seat counts in: the system, its tenant and each of its groups,
    /// for each item it uses.
    fn keys(&self, tenant: u32, items: ItemMask, groups: &[u32], out: &mut Vec<Key>) {
        let mut m = items;
        while m != 0 {
            let i = m.trailing_zeros();
            m &= m - 1;
            out.push(key(Scope::SYSTEM, i));
            out.push(key(
                Scope {
                    kind: ScopeKind::Tenant,
                    id: tenant,
                },
                i,
            ));
            for &g in groups {
                out.push(key(
                    Scope {
                        kind: ScopeKind::Group,
                        id: g,
                    },
                    i,
                ));
            }
        }
    }

    /// The first half of a day's rollup: its events through the session state machine,
    /// into the transitions that the sweep (on another thread) turns into maxima.
    fn prepare_day(
        &mut self,
        slots: &DaySlots,
        carry: &Carry,
        start_fp: [u8; 32],
    ) -> Result<Prepared, StoreError> {
        let (t0, t1) = (slots.starts[0], slots.end);
        self.set_day_bundles(slots.day);
        let mut events = self.events_between(t0, t1)?;
        if events.iter().any(|e| {
            e.agent as usize >= self.dims.agents.len()
                || e.media as usize >= self.media_items.len()
                || e.groups as usize >= self.dims.groupsets.len()
        }) {
            self.load_dimensions()?;
        }
        sort_by_agent(&mut events, self.dims.agents.len());

        // The day's snapshots: the one in force at its start and those taken during it.
        let first = self
            .snapshots
            .partition_point(|s| s.taken <= t0)
            .saturating_sub(1);
        let day_snaps: Vec<(Nanos, u32)> = self.snapshots[first..]
            .iter()
            .take_while(|s| s.taken < t1)
            .map(|s| (s.taken, s.id))
            .collect();
        let mut views: Vec<(Nanos, Rc<SnapshotView>)> = Vec::with_capacity(day_snaps.len());
        for (taken, id) in &day_snaps {
            views.push((*taken, self.view(*id)?));
        }
        // Views of snapshots before the one in force are no longer needed.
        let keep: Vec<u32> = day_snaps.iter().map(|s| s.1).collect();
        self.views.retain(|id, _| keep.contains(id));

        // (scope, item) pairs as dense indices into arrays for the day.
        let dk = DenseKeys::new(&self.dims, self.items.len() + self.bundles.len());
        let mut level: Vec<i32> = vec![0; dk.len()];
        let mut keys: Vec<u32> = Vec::new();
        for (agent, seat) in carry {
            keys.clear();
            dk.keys(
                self.dims.agents[*agent as usize].0,
                self.measures(seat.items),
                &seat.groups,
                &mut keys,
            );
            for &k in &keys {
                level[k as usize] += 1;
            }
        }

        // The session state machine, per agent in (ts, receive order). Each change of an
        // agent's seats is a transition: an instant, +1 or -1, and the keys it changes.
        let mut trans: Vec<Transition> = Vec::with_capacity(events.len() + carry.len());
        let mut flat: Vec<u32> = Vec::with_capacity(events.len() * 8);
        let mut end: Carry = Vec::with_capacity(carry.len());
        let mut anomalies = Vec::new();
        let mut sessions = 0u64;
        let mut old_keys: Vec<u32> = Vec::new();
        let (mut ci, mut ei) = (0, 0);
        while ei < events.len() || ci < carry.len() {
            let next_event_agent = events.get(ei).map(|e| e.agent).unwrap_or(u32::MAX);
            let next_carry_agent = carry.get(ci).map(|c| c.0).unwrap_or(u32::MAX);
            let agent = next_event_agent.min(next_carry_agent);
            let mut seat: Option<Seat> = if next_carry_agent == agent {
                ci += 1;
                Some(carry[ci - 1].1.clone())
            } else {
                None
            };
            let tenant = self.dims.agents[agent as usize].0;
            while ei < events.len() && events[ei].agent == agent {
                let e = events[ei];
                ei += 1;
                match (e.kind, seat.take()) {
                    (EventKind::Login, None) => {
                        let new = Seat {
                            items: self.media_items[e.media as usize],
                            groups: self.login_groups(&e, &views),
                        };
                        let start = flat.len();
                        dk.keys(tenant, self.measures(new.items), &new.groups, &mut flat);
                        trans.push(Transition::new(e.ts, 1, start, flat.len()));
                        sessions += 1;
                        seat = Some(new);
                    }
                    (EventKind::Login, Some(old)) => {
                        // A second device (or a repeated login): media and groups are the
                        // union of old and new from now on.
                        let more = self.login_groups(&e, &views);
                        let groups = if more.iter().all(|g| old.groups.contains(g)) {
                            old.groups.clone()
                        } else {
                            self.intern_groups(
                                old.groups.iter().chain(more.iter()).copied().collect(),
                            )
                        };
                        let new = Seat {
                            items: old.items | self.media_items[e.media as usize],
                            groups,
                        };
                        if new != old {
                            old_keys.clear();
                            dk.keys(tenant, self.measures(old.items), &old.groups, &mut old_keys);
                            keys.clear();
                            dk.keys(tenant, self.measures(new.items), &new.groups, &mut keys);
                            // The items only grow: their keys step up. A bundle that
                            // excludes an item just added steps down.
                            let start = flat.len();
                            flat.extend(keys.iter().filter(|k| !old_keys.contains(k)));
                            trans.push(Transition::new(e.ts, 1, start, flat.len()));
                            let start = flat.len();
                            flat.extend(old_keys.iter().filter(|k| !keys.contains(k)));
                            if flat.len() > start {
                                trans.push(Transition::new(e.ts, -1, start, flat.len()));
                            }
                        }
                        seat = Some(new);
                    }
                    (EventKind::Logout, Some(old)) => {
                        let start = flat.len();
                        dk.keys(tenant, self.measures(old.items), &old.groups, &mut flat);
                        trans.push(Transition::new(e.ts, -1, start, flat.len()));
                    }
                    (EventKind::Logout, None) => anomalies.push(Anomaly {
                        ts: e.ts,
                        agent,
                        kind: AnomalyKind::StrayLogout,
                    }),
                }
            }
            if let Some(s) = seat {
                end.push((agent, s));
            }
        }

        let stray = anomalies.len() as u64;
        Ok(Prepared {
            work: SweepWork {
                slots: slots.clone(),
                trans,
                flat,
                level,
                dk,
                views: views.iter().map(|(t, v)| (*t, v.enabled.clone())).collect(),
            },
            record: DayRecord {
                day: slots.day,
                start_fp,
                end_state: encode_carry(&end),
                events: events.len() as u64,
                sessions,
                stray_logouts: stray,
            },
            anomalies,
            end,
        })
    }

    /// Events with `from <= ts < to`. Each UTC day is read and decoded once for the two
    /// local days it overlaps.
    fn events_between(&mut self, from: Nanos, to: Nanos) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        for u in from.div_euclid(NANOS_PER_DAY)..=(to - 1).div_euclid(NANOS_PER_DAY) {
            let events = match self.utc_days.iter().find(|(d, _)| *d == u) {
                Some((_, e)) => e.clone(),
                None => {
                    let e = Rc::new(self.store.events_on_utc_day(u)?);
                    self.utc_days.retain(|(d, _)| *d >= u - 1);
                    self.utc_days.push((u, e.clone()));
                    e
                }
            };
            out.extend(events.iter().filter(|e| e.ts >= from && e.ts < to));
        }
        Ok(out)
    }

    /// The groups a login brings: its own, or, when it names none, the agent's groups in the
    /// snapshot in force at the login.
    fn login_groups(&mut self, e: &StoredEvent, views: &[(Nanos, Rc<SnapshotView>)]) -> Rc<[u32]> {
        if e.groups != 0 {
            return self.groupsets[e.groups as usize].clone();
        }
        let i = views.partition_point(|(t, _)| *t <= e.ts);
        match i
            .checked_sub(1)
            .and_then(|i| views[i].1.groups.get(&e.agent))
        {
            Some(g) => g.clone(),
            None => self.groupsets[0].clone(),
        }
    }

    fn decode_carry(&mut self, blob: &[u8]) -> Result<Carry, StoreError> {
        let mut r = Reader::new(blob);
        let mut out = Vec::new();
        while !r.is_empty() {
            let agent = r.u32()?;
            let items = r.uvarint()? as u128 | ((r.uvarint()? as u128) << 64);
            let n = r.uvarint()? as usize;
            let mut groups = Vec::with_capacity(n);
            for _ in 0..n {
                groups.push(r.u32()?);
            }
            let groups = self.intern_groups(groups);
            out.push((agent, Seat { items, groups }));
        }
        Ok(out)
    }
}

/// A change of one agent's seats: at `ts`, `sign` (+1 or -1) for the keys
/// `flat[start..end]` of the day's key list.
#[derive(Debug, Clone, Copy)]
struct Transition {
    ts: Nanos,
    sign: i8,
    start: u32,
    end: u32,
}

impl Transition {
    fn new(ts: Nanos, sign: i8, start: usize, end: usize) -> Transition {
        Transition {
            ts,
            sign,
            start: start as u32,
            end: end as u32,
        }
    }
}

/// (scope, item) pairs as dense indices: the system, then every tenant id, then every group
/// id, each followed by its items. Dimensions only grow, so indices of one day are stable.
struct DenseKeys {
    items: u32,
    tenants: u32,
    groups: u32,
}

impl DenseKeys {
    fn new(dims: &Dimensions, items: usize) -> DenseKeys {
        DenseKeys {
            items: items as u32,
            tenants: dims.tenants.len() as u32,
            groups: dims.groups.len() as u32,
        }
    }

    fn len(&self) -> usize {
        ((1 + self.tenants + self.groups) * self.items) as usize
    }

    /// The keys a seat counts in: the system, its tenant and each of its groups, for each
    /// item it uses.
    fn keys(&self, tenant: u32, items: ItemMask, groups: &[u32], out: &mut Vec<u32>) {
        let mut m = items;
        while m != 0 {
            let i = m.trailing_zeros();
            m &= m - 1;
            out.push(i);
            out.push((1 + tenant) * self.items + i);
            for &g in groups {
                out.push((1 + self.tenants + g) * self.items + i);
            }
        }
    }

    fn index_of(&self, k: Key) -> u32 {
        let (scope, item) = key_scope(k);
        let s = match scope.kind {
            ScopeKind::System => 0,
            ScopeKind::Tenant => 1 + scope.id,
            ScopeKind::Group => 1 + self.tenants + scope.id,
        };
        s * self.items + item as u32
    }

    fn scope_of(&self, k: u32) -> (Scope, u16) {
        let (s, item) = (k / self.items, (k % self.items) as u16);
        let scope = if s == 0 {
            Scope::SYSTEM
        } else if s <= self.tenants {
            Scope {
                kind: ScopeKind::Tenant,
                id: s - 1,
            }
        } else {
            Scope {
                kind: ScopeKind::Group,
                id: s - 1 - self.tenants,
            }
        };
        (scope, item)
    }
}

/// Rows of per-period values for the keys that have any, allocated on first use.
struct DenseRows {
    row_of: Vec<u32>,
    keys: Vec<u32>,
    values: Vec<u32>,
    n: usize,
}

impl DenseRows {
    fn new(keys: usize, n: usize) -> DenseRows {
        DenseRows {
            row_of: vec![u32::MAX; keys],
            keys: Vec::new(),
            values: Vec::new(),
            n,
        }
    }

    fn row(&mut self, k: u32) -> &mut [u32] {
        let r = match self.row_of[k as usize] {
            u32::MAX => {
                let r = self.keys.len() as u32;
                self.row_of[k as usize] = r;
                self.keys.push(k);
                self.values.resize(self.values.len() + self.n, 0);
                r
            }
            r => r,
        } as usize;
        &mut self.values[r * self.n..(r + 1) * self.n]
    }

    fn get(&self, k: u32) -> Option<&[u32]> {
        match self.row_of[k as usize] {
            u32::MAX => None,
            r => Some(&self.values[r as usize * self.n..(r as usize + 1) * self.n]),
        }
    }

    fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().copied()
    }
}

/// The maxima of the sweep: for each key that had a seat today, its peak per period.
struct Sweep {
    active: Vec<u32>,
    rows: DenseRows,
}

impl Sweep {
    fn new(keys: usize, n: usize) -> Sweep {
        Sweep {
            active: Vec::new(),
            rows: DenseRows::new(keys, n),
        }
    }

    fn activate(&mut self, k: u32) {
        if self.rows.row_of[k as usize] == u32::MAX {
            self.rows.row(k);
            self.active.push(k);
        }
    }

    /// Ends period `slot`: its maxima are stored, and the next period starts at the level.
    fn close(&mut self, slot: usize, cur: &mut [i32], level: &[i32]) {
        for &k in &self.active {
            let k = k as usize;
            let r = self.rows.row_of[k] as usize;
            self.rows.values[r * self.rows.n + slot] = cur[k].max(0) as u32;
            cur[k] = level[k];
        }
    }

    /// Ends the day: the open period's maxima, then the level through the last period.
    fn finish(&mut self, slot: usize, cur: &[i32], level: &[i32]) {
        let n = self.rows.n;
        for &k in &self.active {
            let k = k as usize;
            let r = self.rows.row_of[k] as usize;
            let row = &mut self.rows.values[r * n..(r + 1) * n];
            row[slot] = cur[k].max(0) as u32;
            for v in &mut row[slot + 1..] {
                *v = level[k].max(0) as u32;
            }
        }
    }

    fn peaks(&self, k: u32) -> Option<&[u32]> {
        self.rows.get(k)
    }
}

/// The second half of a day's rollup, which needs nothing but the day's own data: the
/// sweep in time order, enabled seats per period, and the records to store.
fn sweep_day(w: SweepWork) -> Vec<SlotRecord> {
    let SweepWork {
        slots,
        mut trans,
        flat,
        mut level,
        dk,
        views,
    } = w;
    let slots = &slots;
    // The sweep, in time order. All transitions at one instant are applied together,
    // ends first (intervals are half-open: a logout and a login at the same instant
    // overlap nowhere); a period's level at its start is the level after the
    // transitions at that instant. Each key's maximum is kept per 10-minute period.
    trans.sort_unstable_by_key(|t| (t.ts, t.sign));
    let n = slots.len();
    let mut cur = level.clone();
    let mut sweep = Sweep::new(dk.len(), n);
    for (k, &l) in level.iter().enumerate() {
        if l != 0 {
            sweep.activate(k as u32);
        }
    }
    let mut slot = 0;
    for at in trans.chunk_by(|a, b| a.ts == b.ts) {
        let t = at[0].ts;
        while slot + 1 < n && t >= slots.starts[slot + 1] {
            sweep.close(slot, &mut cur, &level);
            slot += 1;
        }
        let at_start = t == slots.starts[slot];
        for tr in at {
            for &k in &flat[tr.start as usize..tr.end as usize] {
                let k = k as usize;
                sweep.activate(k as u32);
                level[k] += tr.sign as i32;
                if at_start || level[k] > cur[k] {
                    cur[k] = level[k];
                }
            }
        }
    }
    sweep.finish(slot, &cur, &level);

    // Enabled seats per 10-minute period: the snapshot in force at its start and every
    // snapshot taken inside it. Runs of periods with the same snapshots are filled at once.
    let mut enabled = DenseRows::new(dk.len(), n);
    let mut end_enabled: Vec<(u32, u32)> = Vec::new();
    if !views.is_empty() {
        let candidates = |s: usize| -> Vec<usize> {
            let (a, b) = (slots.starts[s], slots.slot_end(s));
            let in_force = views.partition_point(|(t, _)| *t <= a).checked_sub(1);
            (0..views.len())
                .filter(|&j| Some(j) == in_force || (views[j].0 >= a && views[j].0 < b))
                .collect()
        };
        let mut s = 0;
        while s < n {
            let c = candidates(s);
            let mut e = s + 1;
            while e < n && candidates(e) == c {
                e += 1;
            }
            for &j in &c {
                for (&key, &count) in views[j].1.iter() {
                    let row = enabled.row(dk.index_of(key));
                    for v in &mut row[s..e] {
                        *v = (*v).max(count);
                    }
                }
            }
            s = e;
        }
        // In force when the day ends: the last snapshot taken before its end.
        if let Some((_, v)) = views.last() {
            end_enabled = v.iter().map(|(&k, &c)| (dk.index_of(k), c)).collect();
        }
    }
    let end_enabled: FxHashMap<u32, u32> = end_enabled.into_iter().collect();

    let mut dense_keys: Vec<u32> = sweep.active.iter().copied().chain(enabled.keys()).collect();
    dense_keys.sort_unstable();
    dense_keys.dedup();
    let mut slot_records = Vec::with_capacity(dense_keys.len());
    for k in dense_keys {
        let peaks = sweep
            .peaks(k)
            .map(<[u32]>::to_vec)
            .unwrap_or_else(|| vec![0; n]);
        let en = enabled
            .get(k)
            .map(<[u32]>::to_vec)
            .unwrap_or_else(|| vec![0; n]);
        let end_level = level[k as usize].max(0) as u32;
        let end_en = end_enabled.get(&k).copied().unwrap_or(0);
        if end_level == 0
            && end_en == 0
            && peaks.iter().all(|&p| p == 0)
            && en.iter().all(|&v| v == 0)
        {
            continue;
        }
        let (scope, item) = dk.scope_of(k);
        slot_records.push(SlotRecord {
            scope,
            item,
            day_peak: peaks.iter().copied().max().unwrap_or(0),
            day_enabled: en.iter().copied().max().unwrap_or(0),
            peaks,
            enabled: en,
            end_level,
            end_enabled: end_en,
        });
    }
    slot_records
}

/// A day through the state machine: the sweep's input, and what only this thread knows.
struct Prepared {
    work: SweepWork,
    record: DayRecord,
    anomalies: Vec<Anomaly>,
    end: Carry,
}

/// Per (tenant id, measure index): (instant, level from then on), in time order.
pub type TenantLevels = HashMap<(u32, u16), Vec<(Nanos, i32)>>;

/// The highest level held without a break for at least `window` nanoseconds inside
/// `[from, to)`, from a level's change points (the level before the first point is 0).
/// A window can always start where a segment starts, so those are the only starts tried,
/// with a sliding minimum over the segments it covers.
pub fn fair_peak(points: &[(Nanos, i32)], from: Nanos, to: Nanos, window: Nanos) -> u32 {
    if window <= 0 || to - from < window {
        return 0;
    }
    // Segments (start, level) inside [from, to); each ends where the next starts.
    let before = points.partition_point(|p| p.0 <= from);
    let mut segs: Vec<(Nanos, i32)> =
        vec![(from, before.checked_sub(1).map_or(0, |i| points[i].1))];
    segs.extend(points[before..].iter().take_while(|p| p.0 < to).copied());
    let mut best = 0i32;
    let mut deque: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut r = 0; // segments [i, r) are in the window
    for i in 0..segs.len() {
        let start = segs[i].0;
        if start + window > to {
            break;
        }
        while r < segs.len() && segs[r].0 < start + window {
            while deque.back().is_some_and(|&j| segs[j].1 >= segs[r].1) {
                deque.pop_back();
            }
            deque.push_back(r);
            r += 1;
        }
        while deque.front().is_some_and(|&j| j < i) {
            deque.pop_front();
        }
        if let Some(&j) = deque.front() {
            best = best.max(segs[j].1);
        }
    }
    best.max(0) as u32
}

/// What the sweep of one day needs (sent to the sweeping thread).
struct SweepWork {
    slots: DaySlots,
    trans: Vec<Transition>,
    flat: Vec<u32>,
    level: Vec<i32>,
    dk: DenseKeys,
    views: Vec<(Nanos, Arc<HashMap<Key, u32>>)>,
}

/// Orders events by (agent, ts, receive order): a counting sort by agent (ids are dense),
/// then each agent's few events by time.
fn sort_by_agent(events: &mut Vec<StoredEvent>, agents: usize) {
    if events.len() < 2 {
        return;
    }
    let agents = agents.max(
        events
            .iter()
            .map(|e| e.agent as usize + 1)
            .max()
            .unwrap_or(0),
    );
    let mut start = vec![0u32; agents + 1];
    for e in events.iter() {
        start[e.agent as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut sorted = vec![events[0]; events.len()];
    let mut next = start.clone();
    for e in events.iter() {
        let slot = &mut next[e.agent as usize];
        sorted[*slot as usize] = *e;
        *slot += 1;
    }
    for w in start.windows(2) {
        let run = &mut sorted[w[0] as usize..w[1] as usize];
        if run.len() > 1 {
            run.sort_unstable_by_key(|e| (e.ts, e.seq));
        }
    }
    *events = sorted;
}

fn encode_carry(carry: &Carry) -> Vec<u8> {
    let mut buf = Vec::new();
    for (agent, seat) in carry {
        put_uvarint(&mut buf, *agent as u64);
        put_uvarint(&mut buf, seat.items as u64);
        put_uvarint(&mut buf, (seat.items >> 64) as u64);
        put_uvarint(&mut buf, seat.groups.len() as u64);
        for &g in seat.groups.iter() {
            put_uvarint(&mut buf, g as u64);
        }
    }
    buf
}

fn start_fingerprint(carry: &Carry, in_force: Option<u32>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(encode_carry(carry));
    h.update(in_force.map(|i| i as i64).unwrap_or(-1).to_le_bytes());
    h.finalize().into()
}

/// The items a login with these media uses a seat of.
pub fn items_of<'m>(items: &[Item], media: impl Iterator<Item = &'m str> + Clone) -> ItemMask {
    let mut mask = 0;
    for (i, it) in items.iter().enumerate() {
        if it.consumed_by(media.clone()) {
            mask |= 1 << i;
        }
    }
    mask
}

fn any_items(items: &[Item]) -> ItemMask {
    items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.any)
        .fold(0, |m, (i, _)| m | (1 << i))
}

#[cfg(test)]
mod tests {
    use super::fair_peak;

    #[test]
    fn the_fair_peak_is_the_highest_level_held_long_enough() {
        // 3 for 2 ns (10..12), at least 1 from 10 to 30.
        let p = [(10, 3), (12, 1), (30, 0)];
        assert_eq!(fair_peak(&p, 0, 40, 2), 3);
        assert_eq!(fair_peak(&p, 0, 40, 3), 1);
        assert_eq!(fair_peak(&p, 0, 40, 20), 1);
        assert_eq!(fair_peak(&p, 0, 40, 21), 0);
        // Clipped to the period: only 11..12 of the 3 is inside, 1 until 30.
        assert_eq!(fair_peak(&p, 11, 40, 1), 3);
        assert_eq!(fair_peak(&p, 11, 40, 2), 1);
        // A level that goes on past the end of the period counts up to it.
        assert_eq!(fair_peak(&[(0, 5)], 10, 20, 10), 5);
        assert_eq!(fair_peak(&[(0, 5)], 10, 20, 11), 0);
        // A dip in the middle breaks the run.
        let dip = [(0, 4), (10, 2), (11, 4), (20, 0)];
        assert_eq!(fair_peak(&dip, 0, 30, 10), 4);
        assert_eq!(fair_peak(&dip, 0, 30, 11), 2);
        assert_eq!(fair_peak(&[], 0, 30, 5), 0);
    }
}
