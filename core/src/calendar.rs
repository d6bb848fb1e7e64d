//! The site's calendar: local days and the periods of docs/SEMANTICS.md, section 3.
//!
//! A period boundary is an instant at which the site's wall clock reads a boundary
//! (`:00`, `:10`, … for 10-minute periods; `:00` for hours; midnight for days). Boundaries
//! are found by asking the time zone which instants show each boundary reading, so a
//! repeated hour gives two periods (told apart by their offset), a skipped hour gives none,
//! and zones with half-hour offsets or half-hour shifts need no special case.

use crate::time::{NANOS_PER_SEC, Nanos};
use chrono::{
    Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike,
    Weekday,
};
use chrono_tz::Tz;

/// A local date as days since 1970-01-01.
pub type Day = i32;

/// Days since 1970-01-01 of a date.
pub fn day_of_date(d: NaiveDate) -> Day {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as Day
}

/// The date of a day number.
pub fn date_of_day(day: Day) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid") + chrono::TimeDelta::days(day as i64)
}

#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
}

/// The 10-minute periods of one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySlots {
    pub day: Day,
    /// Period starts, ascending; the first is the day's start.
    pub starts: Vec<Nanos>,
    /// The next day's start: the end of the last period.
    pub end: Nanos,
}

impl DaySlots {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// End of period `i`.
    pub fn slot_end(&self, i: usize) -> Nanos {
        self.starts.get(i + 1).copied().unwrap_or(self.end)
    }

    /// Index of the period that holds instant `t` (which must lie in the day).
    pub fn slot_of(&self, t: Nanos) -> usize {
        self.starts.partition_point(|&s| s <= t).saturating_sub(1)
    }
}

fn to_nanos<T: TimeZone>(dt: &chrono::DateTime<T>) -> Nanos {
    dt.timestamp() * NANOS_PER_SEC + dt.timestamp_subsec_nanos() as i64
}

impl Calendar {
    pub fn new(tz: Tz) -> Calendar {
        Calendar { tz }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    fn instants(&self, reading: NaiveDateTime) -> impl Iterator<Item = Nanos> {
        let (a, b) = match self.tz.from_local_datetime(&reading) {
            LocalResult::Single(t) => (Some(t), None),
            LocalResult::Ambiguous(x, y) => (Some(x), Some(y)),
            LocalResult::None => (None, None),
        };
        a.into_iter().chain(b).map(|t| to_nanos(&t))
    }

    /// The first instant of local day `day`: local midnight, or where the day begins when
    /// its midnight is skipped by a clock change.
    pub fn day_start(&self, day: Day) -> Nanos {
        let date = date_of_day(day);
        let mut reading = date.and_time(NaiveTime::MIN);
        loop {
            if let Some(t) = self.instants(reading).next() {
                return t;
            }
            // Midnight does not exist: the day starts with the first reading after the gap.
            reading += chrono::TimeDelta::minutes(1);
            assert!(reading.date() == date, "a local day without any instant");
        }
    }

    /// The local day that holds instant `t`.
    pub fn day_of(&self, t: Nanos) -> Day {
        let local = self.tz.timestamp_nanos(t);
        let d = day_of_date(local.date_naive());
        if t < self.day_start(d) {
            d - 1
        } else if t >= self.day_start(d + 1) {
            d + 1
        } else {
            d
        }
    }

    /// The 10-minute periods of a day.
    pub fn slots(&self, day: Day) -> DaySlots {
        let start = self.day_start(day);
        let end = self.day_start(day + 1);
        let mut starts = vec![start];
        for d in [day - 1, day, day + 1] {
            let date = date_of_day(d);
            for m in (0..24 * 60).step_by(10) {
                let reading =
                    date.and_time(NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("valid"));
                starts.extend(self.instants(reading).filter(|&t| t > start && t < end));
            }
        }
        starts.sort_unstable();
        starts.dedup();
        DaySlots { day, starts, end }
    }

    /// Whether a 10-minute period starting at `t` also starts a local hour.
    pub fn starts_hour(&self, t: Nanos, slots: &DaySlots) -> bool {
        t == slots.starts[0] || self.tz.timestamp_nanos(t).minute() == 0
    }

    /// RFC 3339 in local time with its offset, to the second (`2026-10-25T01:00:00+00:00`).
    pub fn format(&self, t: Nanos) -> String {
        self.tz
            .timestamp_nanos(t)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// A short period for people: `2026-10-25 01:50–02:00 +01:00`, with both offsets when
    /// they differ (`2026-10-25 01:50 +01:00 – 01:00 +00:00`).
    pub fn period_text(&self, a: Nanos, b: Nanos) -> String {
        let (la, lb) = (self.tz.timestamp_nanos(a), self.tz.timestamp_nanos(b));
        if la.offset().fix() == lb.offset().fix() {
            format!(
                "{}–{} {}",
                la.format("%Y-%m-%d %H:%M"),
                lb.format("%H:%M"),
                la.format("%:z")
            )
        } else {
            format!(
                "{} – {}",
                la.format("%Y-%m-%d %H:%M %:z"),
                lb.format("%H:%M %:z")
            )
        }
    }

    /// The local date of day `day` as text.
    pub fn date_text(day: Day) -> String {
        date_of_day(day).format("%Y-%m-%d").to_string()
    }
}

/// The first day of the week holding `day`, for weeks that start on `first` (Monday:
/// ISO weeks).
pub fn week_start(day: Day, first: Weekday) -> Day {
    let from_monday = date_of_day(day).weekday().num_days_from_monday() as Day;
    day - (from_monday - first.num_days_from_monday() as Day).rem_euclid(7)
}

/// The first day of the month holding `day`, and the first day of the next month.
pub fn month_bounds(day: Day) -> (Day, Day) {
    let d = date_of_day(day);
    let first = d.with_day(1).expect("valid");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    (day_of_date(first), day_of_date(next))
}

/// Parses a report date (`2026-10-25`).
pub fn parse_date(s: &str) -> Result<Day, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(day_of_date)
        .map_err(|_| format!("{s:?} is not a date; write YYYY-MM-DD, e.g. 2026-10-25"))
}

/// Adds days to a date (for day loops that read better with dates).
pub fn add_days(day: Day, n: u64) -> Day {
    day_of_date(date_of_day(day) + Days::new(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn cal(tz: &str) -> Calendar {
        Calendar::new(tz.parse().unwrap())
    }

    fn d(s: &str) -> Day {
        parse_date(s).unwrap()
    }

    /// (zone, date, number of 10-minute periods, number of hours, first and last period start)
    #[test]
    fn periods_per_day() {
        let cases = [
            (
                "UTC",
                "2026-10-25",
                144,
                24,
                "2026-10-25T00:00:00+00:00",
                "2026-10-25T23:50:00+00:00",
            ),
            // Clocks go back: 25 hours, the 01:00 hour twice.
            (
                "Europe/London",
                "2026-10-25",
                150,
                25,
                "2026-10-25T00:00:00+01:00",
                "2026-10-25T23:50:00+00:00",
            ),
            // Clocks go forward: 23 hours, no 01:00 hour.
            (
                "Europe/London",
                "2026-03-29",
                138,
                23,
                "2026-03-29T00:00:00+00:00",
                "2026-03-29T23:50:00+01:00",
            ),
            (
                "America/New_York",
                "2026-11-01",
                150,
                25,
                "2026-11-01T00:00:00-04:00",
                "2026-11-01T23:50:00-05:00",
            ),
            // +05:45 all year: periods on the local :00, :10 …
            (
                "Asia/Kathmandu",
                "2026-10-25",
                144,
                24,
                "2026-10-25T00:00:00+05:45",
                "2026-10-25T23:50:00+05:45",
            ),
            // Lord Howe moves by half an hour: 02:00 -> 01:30 in April, 02:00 -> 02:30 in October.
            (
                "Australia/Lord_Howe",
                "2026-04-05",
                147,
                24,
                "2026-04-05T00:00:00+11:00",
                "2026-04-05T23:50:00+10:30",
            ),
            (
                "Australia/Lord_Howe",
                "2026-10-04",
                141,
                23,
                "2026-10-04T00:00:00+10:30",
                "2026-10-04T23:50:00+11:00",
            ),
            // Midnight skipped (Santiago: 24:00 -> 01:00 on 6 Sep 2026): the day starts at 01:00.
            (
                "America/Santiago",
                "2026-09-06",
                138,
                23,
                "2026-09-06T01:00:00-03:00",
                "2026-09-06T23:50:00-03:00",
            ),
        ];
        for (tz, date, n, hours, first, last) in cases {
            let c = cal(tz);
            let s = c.slots(d(date));
            assert_eq!(s.len(), n, "{tz} {date}");
            let h = s.starts.iter().filter(|&&t| c.starts_hour(t, &s)).count();
            assert_eq!(h, hours, "{tz} {date}");
            assert_eq!(c.format(s.starts[0]), first, "{tz} {date}");
            assert_eq!(c.format(*s.starts.last().unwrap()), last, "{tz} {date}");
            assert_eq!(s.end, c.day_start(d(date) + 1));
            assert!(s.starts.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn repeated_hour_is_told_apart_by_offset() {
        let c = cal("Europe/London");
        let s = c.slots(d("2026-10-25"));
        let texts: Vec<String> = s.starts.iter().map(|&t| c.format(t)).collect();
        let i = texts
            .iter()
            .position(|t| t == "2026-10-25T01:50:00+01:00")
            .unwrap();
        assert_eq!(texts[i + 1], "2026-10-25T01:00:00+00:00");
        assert_eq!(c.format(s.slot_end(i)), "2026-10-25T01:00:00+00:00");
    }

    #[test]
    fn day_of_instants() {
        let c = cal("Europe/London");
        let t = |s| parse_rfc3339(s).unwrap();
        assert_eq!(c.day_of(t("2026-10-24T23:30:00Z")), d("2026-10-25"));
        assert_eq!(c.day_of(t("2026-10-25T23:59:59Z")), d("2026-10-25"));
        assert_eq!(c.day_of(t("2026-10-26T00:00:00Z")), d("2026-10-26"));
        let s = c.slots(d("2026-10-25"));
        assert_eq!(s.slot_of(t("2026-10-25T01:05:00Z")), 12);
        assert_eq!(s.slot_of(s.starts[0]), 0);
    }

    #[test]
    fn period_texts() {
        let c = cal("Europe/London");
        let s = c.slots(d("2026-10-25"));
        assert_eq!(
            c.period_text(s.starts[0], s.slot_end(0)),
            "2026-10-25 00:00–00:10 +01:00"
        );
        let i = s
            .starts
            .iter()
            .position(|&t| c.format(t) == "2026-10-25T01:50:00+01:00")
            .unwrap();
        assert_eq!(
            c.period_text(s.starts[i], s.slot_end(i)),
            "2026-10-25 01:50 +01:00 – 01:00 +00:00"
        );
    }

    #[test]
    fn weeks_and_months() {
        assert_eq!(week_start(d("2026-11-01"), Weekday::Mon), d("2026-10-26"));
        assert_eq!(week_start(d("2026-10-26"), Weekday::Mon), d("2026-10-26"));
        // 2026-11-01 is a Sunday: it starts its own Sunday week and ends a Saturday one.
        assert_eq!(week_start(d("2026-11-01"), Weekday::Sun), d("2026-11-01"));
        assert_eq!(week_start(d("2026-10-31"), Weekday::Sun), d("2026-10-25"));
        assert_eq!(week_start(d("2026-11-01"), Weekday::Sat), d("2026-10-31"));
        assert_eq!(week_start(d("2026-10-30"), Weekday::Sat), d("2026-10-24"));
        for first in [Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
            for day in d("2026-10-20")..d("2026-11-10") {
                let w = week_start(day, first);
                assert!(day - 6 <= w && w <= day, "{day} {first}");
                assert_eq!(date_of_day(w).weekday(), first);
            }
        }
        assert_eq!(
            month_bounds(d("2026-02-14")),
            (d("2026-02-01"), d("2026-03-01"))
        );
        assert_eq!(
            month_bounds(d("2026-12-31")),
            (d("2026-12-01"), d("2027-01-01"))
        );
        assert!(parse_date("25/10/2026").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(add_days(d("2026-10-31"), 1), d("2026-11-01"));
    }
}
