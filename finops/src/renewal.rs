//! Renewal sizing and near-peak time.

use seatmeter_core::Day;
use seatmeter_core::calendar::Calendar;

use crate::Finops;

/// Where a utilization falls against the target band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Band {
    /// Below the band's lower bound: more is bought than used.
    Below,
    /// Within the band, bounds included.
    Within,
    /// Above the band's upper bound: too little headroom, or over-use.
    Above,
}

/// The size recommended for one item's renewal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Renewal {
    /// The first day of the look-back (`as_of − renewal_lookback_days + 1`).
    pub from: Day,
    /// The last day of the look-back (`as_of`).
    pub to: Day,
    /// The largest daily value in the look-back (0 without data).
    pub max: u64,
    /// The first day that reached `max`, or `None` without data.
    pub max_day: Option<Day>,
    /// `ceil(max × (100 + renewal_buffer_percent) / 100)`.
    pub recommended: u64,
    /// The entitlement now, if any.
    pub entitlement: Option<u64>,
    /// `recommended − entitlement` (an absent entitlement counts as 0); negative to shrink.
    pub change: i64,
    /// `change × price` per month in minor units, if the item has a price.
    pub money: Option<i64>,
    /// `max × 100 / entitlement`, rounded down; `None` without an entitlement or with 0.
    pub utilization_percent: Option<u64>,
    /// The utilization against the target band; `None` when there is no utilization,
    /// except `Above` for a use above an entitlement of 0.
    pub band: Option<Band>,
    /// How many distinct days of the look-back have data.
    pub days_with_data: u32,
    /// Whether the item is licensed concurrently (the values are then peaks, else seats).
    pub concurrent: bool,
    /// The recommendation in words.
    pub reason: String,
}

/// Sizes a renewal from `daily` values (the day's peak of a concurrent item, or its
/// enabled seats of a named one) over the days in `(as_of − renewal_lookback_days, as_of]`.
/// Days outside that span are ignored.
pub fn renewal(
    daily: &[(Day, u64)],
    entitlement: Option<u64>,
    price: Option<i64>,
    concurrent: bool,
    as_of: Day,
    fin: &Finops,
) -> Renewal {
    let from = as_of - fin.renewal_lookback_days as Day + 1;
    let mut days: Vec<(Day, u64)> = daily
        .iter()
        .copied()
        .filter(|&(d, _)| d >= from && d <= as_of)
        .collect();
    days.sort_unstable();
    let mut distinct: Vec<Day> = days.iter().map(|&(d, _)| d).collect();
    distinct.dedup();
    let mut max = 0;
    let mut max_day = None;
    for &(d, v) in &days {
        if max_day.is_none() || v > max {
            max = v;
            max_day = Some(d);
        }
    }
    let buffer = u128::from(fin.renewal_buffer_percent);
    let recommended =
        u64::try_from((u128::from(max) * (100 + buffer)).div_ceil(100)).unwrap_or(u64::MAX);
    let change = clamp_i64(i128::from(recommended) - i128::from(entitlement.unwrap_or(0)));
    let money = price.map(|p| clamp_i64(i128::from(change) * i128::from(p)));
    let utilization_percent = match entitlement {
        Some(e) if e > 0 => {
            Some(u64::try_from(u128::from(max) * 100 / u128::from(e)).unwrap_or(u64::MAX))
        }
        _ => None,
    };
    let [lower, upper] = fin.target_band;
    let band = match (utilization_percent, entitlement) {
        (Some(u), _) if u < u64::from(lower) => Some(Band::Below),
        (Some(u), _) if u > u64::from(upper) => Some(Band::Above),
        (Some(_), _) => Some(Band::Within),
        (None, Some(0)) if max > 0 => Some(Band::Above),
        _ => None,
    };
    let what = if concurrent {
        "concurrent peak"
    } else {
        "enabled seats"
    };
    let reason = match max_day {
        None => format!(
            "no data in the {} days up to {}",
            fin.renewal_lookback_days,
            Calendar::date_text(as_of)
        ),
        Some(d) => format!(
            "highest {what} {max} on {} in the last {} days; +{}% = {recommended}; {}",
            Calendar::date_text(d),
            fin.renewal_lookback_days,
            fin.renewal_buffer_percent,
            match entitlement {
                Some(e) if change > 0 => format!("entitled {e}: raise by {change}"),
                Some(e) if change < 0 => format!("entitled {e}: lower by {}", -change),
                Some(e) => format!("entitled {e}: keep"),
                None => format!("no entitlement: buy {recommended}"),
            }
        ),
    };
    Renewal {
        from,
        to: as_of,
        max,
        max_day,
        recommended,
        entitlement,
        change,
        money,
        utilization_percent,
        band,
        days_with_data: u32::try_from(distinct.len()).unwrap_or(u32::MAX),
        concurrent,
        reason,
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// How much of a month is spent near its peak.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NearPeak {
    /// The month's highest 10-minute peak.
    pub max: u64,
    /// The smallest peak that counts as near: `ceil(max × (100 − percent) / 100)`.
    pub threshold: u64,
    /// How many 10-minute periods have a peak at or above `threshold`.
    pub periods: u32,
    /// `periods × 10`.
    pub minutes: u64,
}

/// Counts the 10-minute periods of `slots` (the month's 10-minute peaks) whose peak is
/// within `percent` of the month's maximum: `peak × 100 ≥ max × (100 − percent)`.
///
/// The count is per 10-minute period: a period counts whole if its peak reached the
/// threshold for any moment, so `minutes` is an upper bound on the exact minutes spent
/// near the peak. A month whose maximum is 0 has no period near its peak. A `percent`
/// above 100 counts as 100.
pub fn near_peak(slots: &[u64], percent: u32) -> NearPeak {
    let max = slots.iter().copied().max().unwrap_or(0);
    let keep = u128::from(100 - percent.min(100));
    let threshold = u64::try_from((u128::from(max) * keep).div_ceil(100)).unwrap_or(u64::MAX);
    let periods = if max == 0 {
        0
    } else {
        slots
            .iter()
            .filter(|&&p| u128::from(p) * 100 >= u128::from(max) * keep)
            .count()
    };
    let periods = u32::try_from(periods).unwrap_or(u32::MAX);
    NearPeak {
        max,
        threshold,
        periods,
        minutes: u64::from(periods) * 10,
    }
}
