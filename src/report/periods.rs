//! The periods of a report (docs/SEMANTICS.md, section 3): every 10-minute, hourly or
//! daily period that starts in the report's dates, and every week or month that overlaps
//! them, each as the parts of local days it covers.

use chrono::Weekday;
use seatmeter_core::calendar::{self, DaySlots};
use seatmeter_core::{Calendar, Day, Granularity, Nanos};

use super::Request;

/// A period of the report and the parts of days it covers.
#[derive(Debug, Clone)]
pub(super) struct Period {
    pub(super) end: Nanos,
    pub(super) start_text: String,
    pub(super) end_text: String,
    /// (day, first slot, slot count); a whole day when `whole` is set.
    pub(super) parts: Vec<(Day, usize, usize)>,
    pub(super) whole: bool,
}

pub(super) fn periods(cal: &Calendar, req: &Request, slots: &[DaySlots]) -> Vec<Period> {
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

/// The local days a request needs: its own for 10-minute, hourly and daily reports; whole
/// weeks (starting on `week_start`) or months for weekly and monthly ones.
pub(super) fn day_range(req: &Request, week_start: Weekday) -> (Day, Day) {
    match req.granularity {
        Granularity::Weekly => (
            calendar::week_start(req.from, week_start),
            calendar::week_start(req.to, week_start) + 6,
        ),
        Granularity::Monthly => (
            calendar::month_bounds(req.from).0,
            calendar::month_bounds(req.to).1 - 1,
        ),
        _ => (req.from, req.to),
    }
}

/// The windows of days a report is read in, in order: each week (weekly reports) or
/// month (monthly reports) of `d_lo..=d_hi`, else runs of at most 31 days. A period never
/// spans two windows.
pub(super) fn windows(granularity: Granularity, d_lo: Day, d_hi: Day) -> Vec<(Day, Day)> {
    let mut out = Vec::new();
    let mut a = d_lo;
    while a <= d_hi {
        let b = match granularity {
            Granularity::Weekly => a + 6,
            Granularity::Monthly => calendar::month_bounds(a).1 - 1,
            _ => (a + 30).min(d_hi),
        };
        out.push((a, b));
        a = b + 1;
    }
    out
}
