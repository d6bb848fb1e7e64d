//! Live usage (docs/ALERTS.md, "Live usage"): today's values from the events collected so
//! far, computed by the rollup's own state machine and sweep on the day that is not over,
//! and written nowhere.
//!
//! The day starts from the state the last rolled-up day ended with; days between that one
//! and today (the rollup runs after midnight, so usually none) are prepared in memory. The
//! seats in use now are the day's end level: a session still open holds its seat up to the
//! end of the data, exactly as the rollup counts it when it rolls the day up. Once today is
//! rolled up, its stored values equal what this gave at each instant (a test checks that).

use seatmeter_core::{Day, Nanos};
use seatmeter_store::SlotRecord;

use super::sweep::sweep_day;
use super::{Rollup, RollupError, carry};

/// Today's values, per scope and item (bundles after the items), as [`SlotRecord`]s: the
/// peak so far (`day_peak`), the seats in use now (`end_level`) and enabled (`end_enabled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub day: Day,
    /// The instant the values are of.
    pub at: Nanos,
    pub records: Vec<SlotRecord>,
}

/// How many days before today the live state prepares in memory when the rollup is behind;
/// further back, it starts from nobody logged in and says so (`Rollup::live` errs).
const MAX_CATCH_UP_DAYS: i32 = 14;

impl Rollup<'_> {
    /// The values of the local day of `now`, from what is stored so far.
    pub fn live(&mut self, now: Nanos) -> Result<Live, RollupError> {
        self.load_inputs()?;
        let day = self.cal.day_of(now);
        let rolled = self.store.rolled_days()?;
        // The last day rolled up before today: today starts from its end.
        let mut from = match rolled {
            Some((_, b)) if b >= day => day,
            Some((_, b)) => b + 1,
            None => day,
        };
        // No event since the last rolled-up day (a quiet site, or one whose collection
        // stopped): nothing changed since its end, so today starts from its end state.
        let mut carry_of = from - 1;
        if let Some((_, b)) = rolled
            && from < day
        {
            let next = self.cal.day_start(b + 1);
            let quiet = self.store.event_span()?.is_none_or(|(_, last)| last < next);
            if quiet {
                from = day;
                carry_of = b;
            }
        }
        if day - from > MAX_CATCH_UP_DAYS {
            return Err(RollupError::NotRolledUp(format!(
                "{} (the rollup is {} days behind)",
                seatmeter_core::Calendar::date_text(from),
                day - from
            )));
        }
        let mut carry = if rolled.is_some_and(|(a, _)| carry_of >= a) {
            self.stored_end_state(carry_of)?
        } else {
            Vec::new()
        };
        loop {
            let slots = self.cal.slots(from);
            let in_force = self.in_force_at(slots.starts[0]).map(|s| s.id);
            let fp = carry::start_fingerprint(&carry, in_force);
            let p = self.prepare_day(&slots, &carry, fp)?;
            if from == day {
                return Ok(Live {
                    day,
                    at: now,
                    records: sweep_day(p.work),
                });
            }
            carry = p.end;
            from += 1;
        }
    }
}
