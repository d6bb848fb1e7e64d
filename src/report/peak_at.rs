//! When a row's peak happened (docs/SEMANTICS.md, "When the peak happened"): the first
//! instant of the period at which the row's peak was reached, to the second, from the
//! seconds the rollup keeps with each 10-minute period and each day.

use seatmeter_core::Nanos;
use seatmeter_core::calendar::DaySlots;

use super::DayItem;

const NANOS_PER_SECOND: Nanos = 1_000_000_000;

/// The first instant of a row's peak, built part by part in time order: a part with a
/// higher peak replaces what was found, one with the same peak leaves the earlier instant.
#[derive(Default)]
pub(super) struct FirstPeak {
    peak: u32,
    /// None: a part holding the peak has no stored seconds (rolled up before they were kept).
    at: Option<Nanos>,
}

impl FirstPeak {
    /// One part of the period: `count` 10-minute periods from `first` of a day, or the whole
    /// day (`whole`), whose values are `v` and periods `slots`.
    pub(super) fn part(
        &mut self,
        v: &DayItem,
        slots: &DaySlots,
        (first, count): (usize, usize),
        whole: bool,
    ) {
        let (pk, at) = if whole {
            let at = v
                .day_peak_at
                .map(|s| slots.starts[0] + s as Nanos * NANOS_PER_SECOND);
            (v.day_peak, at)
        } else {
            let run = &v.peaks[first..first + count];
            let pk = run.iter().copied().max().unwrap_or(0);
            let s = first + run.iter().position(|&p| p == pk).unwrap_or(0);
            let at = v
                .peak_at
                .get(s)
                .map(|&sec| slots.starts[s] + sec as Nanos * NANOS_PER_SECOND);
            (pk, at)
        };
        if pk > self.peak {
            *self = FirstPeak { peak: pk, at };
        }
    }

    /// The instant, when the peak is above zero and its instant is known.
    pub(super) fn instant(&self) -> Option<Nanos> {
        self.at.filter(|_| self.peak > 0)
    }
}
