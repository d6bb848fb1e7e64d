//! The sweep: a day's changes of seats, in time order, into the exact maximum of every
//! (scope, item) in every 10-minute period, and the enabled seats of each period.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use seatmeter_core::Nanos;
use seatmeter_core::calendar::DaySlots;
use seatmeter_store::SlotRecord;

use super::keys::{DenseKeys, Key};

/// A change of one agent's seats: at `ts`, `sign` (+1 or -1) for the keys
/// `flat[start..end]` of the day's key list.
#[derive(Debug, Clone, Copy)]
pub(super) struct Transition {
    pub(super) ts: Nanos,
    pub(super) sign: i8,
    pub(super) start: u32,
    pub(super) end: u32,
}

impl Transition {
    pub(super) fn new(ts: Nanos, sign: i8, start: usize, end: usize) -> Transition {
        Transition {
            ts,
            sign,
            start: start as u32,
            end: end as u32,
        }
    }
}

/// What the sweep of one day needs (sent to the sweeping thread).
pub(super) struct SweepWork {
    pub(super) slots: DaySlots,
    pub(super) trans: Vec<Transition>,
    pub(super) flat: Vec<u32>,
    pub(super) level: Vec<i32>,
    pub(super) dk: DenseKeys,
    pub(super) views: Vec<(Nanos, Arc<HashMap<Key, u32>>)>,
}

/// Rows of per-period values for the keys that have any, allocated on first use.
struct DenseRows {
    row_of: Vec<u32>,
    keys: Vec<u32>,
    values: Vec<u32>,
    n: usize,
}

impl DenseRows {
    pub(super) fn new(keys: usize, n: usize) -> DenseRows {
        DenseRows {
            row_of: vec![u32::MAX; keys],
            keys: Vec::new(),
            values: Vec::new(),
            n,
        }
    }

    pub(super) fn row(&mut self, k: u32) -> &mut [u32] {
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

    pub(super) fn get(&self, k: u32) -> Option<&[u32]> {
        match self.row_of[k as usize] {
            u32::MAX => None,
            r => Some(&self.values[r as usize * self.n..(r as usize + 1) * self.n]),
        }
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().copied()
    }
}

/// The maxima of the sweep: for each key that had a seat today, its peak per period, and
/// the second (after the period's start) its peak was first reached.
struct Sweep {
    active: Vec<u32>,
    rows: DenseRows,
    /// Per active key's row, like `rows`: the seconds of the first instant of each peak.
    at: Vec<u32>,
    /// Per key: the instant the current period's maximum so far was first reached.
    first: Vec<Nanos>,
}

/// Seconds from `from` to `to`, whole seconds down (`to` is never before `from`).
fn seconds(from: Nanos, to: Nanos) -> u32 {
    ((to - from).max(0) / 1_000_000_000) as u32
}

impl Sweep {
    pub(super) fn new(keys: usize, n: usize, day_start: Nanos) -> Sweep {
        Sweep {
            active: Vec::new(),
            rows: DenseRows::new(keys, n),
            at: Vec::new(),
            first: vec![day_start; keys],
        }
    }

    /// A key that has a seat today; `start` is the start of the period it is first seen in.
    pub(super) fn activate(&mut self, k: u32, start: Nanos) {
        if self.rows.row_of[k as usize] == u32::MAX {
            self.rows.row(k);
            self.at.resize(self.rows.values.len(), 0);
            self.active.push(k);
            self.first[k as usize] = start;
        }
    }

    /// A new maximum of key `k` in the open period, reached at `t`.
    pub(super) fn reached(&mut self, k: usize, t: Nanos) {
        self.first[k] = t;
    }

    /// Ends period `slot` (which started at `start`; the next starts at `next`): its maxima
    /// are stored, and the next period starts at the level.
    pub(super) fn close(
        &mut self,
        slot: usize,
        (start, next): (Nanos, Nanos),
        cur: &mut [i32],
        level: &[i32],
    ) {
        for &k in &self.active {
            let k = k as usize;
            let i = self.rows.row_of[k] as usize * self.rows.n + slot;
            self.rows.values[i] = cur[k].max(0) as u32;
            self.at[i] = if cur[k] > 0 {
                seconds(start, self.first[k])
            } else {
                0
            };
            cur[k] = level[k];
            self.first[k] = next;
        }
    }

    /// Ends the day: the open period's maxima (it started at `start`), then the level
    /// through the last period, reached at each one's start.
    pub(super) fn finish(&mut self, slot: usize, start: Nanos, cur: &[i32], level: &[i32]) {
        let n = self.rows.n;
        for &k in &self.active {
            let k = k as usize;
            let r = self.rows.row_of[k] as usize;
            let row = &mut self.rows.values[r * n..(r + 1) * n];
            row[slot] = cur[k].max(0) as u32;
            for v in &mut row[slot + 1..] {
                *v = level[k].max(0) as u32;
            }
            self.at[r * n + slot] = if cur[k] > 0 {
                seconds(start, self.first[k])
            } else {
                0
            };
        }
    }

    pub(super) fn peaks(&self, k: u32) -> Option<(&[u32], &[u32])> {
        let r = self.rows.row_of[k as usize];
        let n = self.rows.n;
        self.rows
            .get(k)
            .map(|p| (p, &self.at[r as usize * n..(r as usize + 1) * n]))
    }
}

/// When the day's peak was first reached, in seconds after the day's start: in the first
/// period holding it, the second its peak was reached there.
fn day_peak_at(slots: &DaySlots, peaks: &[u32], at: &[u32]) -> u32 {
    let top = peaks.iter().copied().max().unwrap_or(0);
    match peaks.iter().position(|&p| p == top) {
        Some(s) if top > 0 => seconds(slots.starts[0], slots.starts[s]) + at[s],
        _ => 0,
    }
}

/// The second half of a day's rollup, which needs nothing but the day's own data: the
/// sweep in time order, enabled seats per period, and the records to store.
pub(super) fn sweep_day(w: SweepWork) -> Vec<SlotRecord> {
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
    let mut sweep = Sweep::new(dk.len(), n, slots.starts[0]);
    for (k, &l) in level.iter().enumerate() {
        if l != 0 {
            sweep.activate(k as u32, slots.starts[0]);
        }
    }
    let mut slot = 0;
    for at in trans.chunk_by(|a, b| a.ts == b.ts) {
        let t = at[0].ts;
        while slot + 1 < n && t >= slots.starts[slot + 1] {
            let bounds = (slots.starts[slot], slots.starts[slot + 1]);
            sweep.close(slot, bounds, &mut cur, &level);
            slot += 1;
        }
        let at_start = t == slots.starts[slot];
        for tr in at {
            for &k in &flat[tr.start as usize..tr.end as usize] {
                let k = k as usize;
                sweep.activate(k as u32, slots.starts[slot]);
                level[k] += tr.sign as i32;
                if at_start || level[k] > cur[k] {
                    cur[k] = level[k];
                    sweep.reached(k, t);
                }
            }
        }
    }
    sweep.finish(slot, slots.starts[slot], &cur, &level);

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
        let (peaks, peak_at) = sweep
            .peaks(k)
            .map(|(p, a)| (p.to_vec(), a.to_vec()))
            .unwrap_or_else(|| (vec![0; n], vec![0; n]));
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
            day_peak_at: Some(day_peak_at(slots, &peaks, &peak_at)),
            peaks,
            peak_at,
            enabled: en,
            end_level,
            end_enabled: end_en,
        });
    }
    slot_records
}
