//! Utilization: the largest ratio of a day's measured value to that same day's
//! entitlement, with its day (docs/SEMANTICS.md, PDF reports).

use seatmeter_core::{Day, Entitled};

use super::DayItem;
use crate::config::{Measure, Model};

/// A day's measured value (peak concurrent, or enabled seats for a named item) against
/// that day's entitlement. A day's entitlement is the same in each of its 10-minute
/// periods, so the largest daily ratio is also the largest 10-minute one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utilization {
    pub day: Day,
    pub measured: u64,
    pub entitled: u64,
}

impl Utilization {
    /// Whether this ratio is larger than `other`'s (more than any number of seats against
    /// an entitlement of 0 is larger than every other ratio).
    pub(super) fn exceeds(&self, other: &Utilization) -> bool {
        let (a, b) = (self, other);
        match (a.measured, b.measured, a.entitled, b.entitled) {
            (0, _, _, _) => false,
            (_, 0, _, _) => true,
            (_, _, 0, be) => be != 0,
            (_, _, _, 0) => false,
            _ => {
                (a.measured as u128) * (b.entitled as u128)
                    > (b.measured as u128) * (a.entitled as u128)
            }
        }
    }
}

/// Each measure's day of largest utilization so far (the first such day), with the
/// values of the days from `from` (entitlement per measure and day from `ent_from`).
pub(super) fn busiest_days(
    best: &mut [Option<Utilization>],
    items: &[Measure],
    values: &[Vec<DayItem>],
    from: Day,
    ent: &[Vec<Option<Entitled>>],
    ent_from: Day,
) {
    for (ii, (it, best)) in items.iter().zip(best.iter_mut()).enumerate() {
        for (i, v) in values.iter().enumerate() {
            let day = from + i as Day;
            let Some(Entitled::Seats(n)) = ent[ii][(day - ent_from) as usize] else {
                continue;
            };
            let measured = match it.model {
                Model::Concurrent => v[ii].day_peak,
                Model::Named => v[ii].day_enabled,
            };
            let u = Utilization {
                day,
                measured: measured as u64,
                entitled: n,
            };
            if best.is_none_or(|b| u.exceeds(&b)) {
                *best = Some(u);
            }
        }
    }
}
