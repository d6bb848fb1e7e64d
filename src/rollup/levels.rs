//! The level of each tenant's items between the 10-minute maxima the rollup keeps, and the
//! billing's fair peak of it (docs/BILLING.md): the highest level held for a while.

use std::collections::HashMap;

use seatmeter_core::{Calendar, Day, Nanos, ScopeKind};

use super::keys::DenseKeys;
use super::sweep::SweepWork;
use super::{Rollup, RollupError};

/// Per (tenant id, measure index): (instant, level from then on), in time order.
pub type TenantLevels = HashMap<(u32, u16), Vec<(Nanos, i32)>>;

impl Rollup<'_> {
    /// The level of every tenant's items and bundles over the local days `from..=to`, as
    /// change points: per (tenant id, measure index), the instants at which the level
    /// changes and the level from then on, the first at the start of `from`. The session
    /// state machine runs again over the raw events, from the state stored for the day
    /// before `from`; nothing is written. For the billing's fair peak, which needs the
    /// level between the 10-minute maxima the rollup keeps.
    pub fn tenant_levels(&mut self, from: Day, to: Day) -> Result<TenantLevels, RollupError> {
        if let Some(f) = self.store.rollup_meta()?.frozen_before
            && from < f
        {
            return Err(RollupError::LevelsBeforeRetention(Calendar::date_text(f)));
        }
        self.load_inputs()?;
        let mut carry = match (self.store.day_record(from - 1)?, self.store.rolled_days()?) {
            (Some(rec), _) => self.decode_carry(&rec.end_state)?,
            // Days before are rolled up but not this one: who was logged in is unknown.
            (None, Some((lo, _))) if lo < from => {
                return Err(RollupError::NotRolledUp(Calendar::date_text(from - 1)));
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
}

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
