//! Forecasts (docs/GUARDRAILS.md, "Forecast").
//!
//! The daily values of the last `forecast_days` days up to `as_of` (days without data
//! skipped) are fitted by ordinary least squares to a straight line plus a weekday profile:
//! `y = a + b·x + w(weekday)`, the seven weekday effects summing to zero (so `b` is the
//! trend per day and `w` how much each weekday lies above or below it). The profile is
//! fitted only when every weekday has at least two days of data (three weeks or more);
//! otherwise the fit is the line alone.
//!
//! The prediction for a later day `x₀` is `ŷ = a + b·x₀ + w(x₀)`, and its interval is
//! `ŷ ± z·σ·√(1 + x₀ᵀ(XᵀX)⁻¹x₀)`, with `σ² = RSS / (n − p)` the residual variance of the `n`
//! days and `p` parameters, and `z` the normal quantile of `confidence_percent` — the
//! standard prediction interval of a linear model, which widens with the distance from the
//! data. The item is expected to exceed its entitlement `E` on the first day after `as_of`
//! whose prediction is above `E`; the interval of that date runs from the first day whose
//! upper bound is above `E` to the first day whose lower bound is (None: not within
//! `forecast_max_days`). Since lower ≤ prediction ≤ upper on every day, earliest ≤ date ≤
//! latest.

use crate::{Day, Guard};

/// Where the forecast crosses the entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceedance {
    /// The first day whose prediction is above the entitlement.
    pub date: Day,
    /// The first day whose upper bound is.
    pub earliest: Day,
    /// The first day whose lower bound is (None: not within `forecast_max_days`).
    pub latest: Option<Day>,
}

/// The forecast of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// The last day of the fitted window.
    pub as_of: Day,
    /// Days of data fitted.
    pub days_used: u32,
    /// Whether the weekday profile was fitted.
    pub weekday_profile: bool,
    /// The trend, in seats per day.
    pub slope_per_day: f64,
    /// The expected daily peak `horizon_days` after `as_of`, never below 0 …
    pub peak_in_horizon: f64,
    /// … its interval's lower bound (never below 0) …
    pub peak_in_horizon_low: f64,
    /// … and upper bound.
    pub peak_in_horizon_high: f64,
    /// When it is expected to exceed the entitlement (None: no entitlement given, or not
    /// within `forecast_max_days`).
    pub exceeds: Option<Exceedance>,
    /// Each day after `as_of` up to `horizon_days`: (lower bound, prediction, upper bound),
    /// never below 0 — what a chart draws after the data.
    pub path: Vec<(f64, f64, f64)>,
}

/// The fitted model.
struct Fit {
    coef: Vec<f64>,
    inverse: Vec<Vec<f64>>,
    sigma: f64,
    weekdays: bool,
}

impl Fit {
    /// (prediction, half width of the interval) for day offset `x` (days after `as_of`).
    fn predict(&self, x: i32, day: Day, z: f64) -> (f64, f64) {
        let row = design(x, day, self.weekdays);
        let y: f64 = row.iter().zip(&self.coef).map(|(r, c)| r * c).sum();
        let mut q = 0.0;
        for (i, ri) in row.iter().enumerate() {
            for (j, rj) in row.iter().enumerate() {
                q += ri * self.inverse[i][j] * rj;
            }
        }
        (y, z * self.sigma * (1.0 + q.max(0.0)).sqrt())
    }
}

/// Monday = 0 … Sunday = 6 (day 0, 1970-01-01, was a Thursday).
fn weekday(day: Day) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// The design row of one day: 1, x, and six effect-coded weekdays.
fn design(x: i32, day: Day, weekdays: bool) -> Vec<f64> {
    let mut row = vec![1.0, x as f64];
    if weekdays {
        let wd = weekday(day);
        row.extend((0..6).map(|k| match wd {
            6 => -1.0,
            w if w == k => 1.0,
            _ => 0.0,
        }));
    }
    row
}

/// Inverts a symmetric positive definite matrix by Gauss–Jordan with partial pivoting
/// (None: singular).
fn invert(mut a: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let p = a.len();
    let mut inv: Vec<Vec<f64>> = (0..p)
        .map(|i| (0..p).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1.0);
    for col in 0..p {
        let pivot = (col..p).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        for j in 0..p {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for i in 0..p {
            if i != col {
                let f = a[i][col];
                if f != 0.0 {
                    for j in 0..p {
                        a[i][j] -= f * a[col][j];
                        inv[i][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

fn fit(points: &[(Day, u32)], as_of: Day, weekdays: bool) -> Option<Fit> {
    let p = if weekdays { 8 } else { 2 };
    let n = points.len();
    if n <= p {
        return None;
    }
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    let rows: Vec<(Vec<f64>, f64)> = points
        .iter()
        .map(|&(d, y)| (design(d - as_of, d, weekdays), y as f64))
        .collect();
    for (row, y) in &rows {
        for i in 0..p {
            xty[i] += row[i] * y;
            for j in 0..p {
                xtx[i][j] += row[i] * row[j];
            }
        }
    }
    let inverse = invert(xtx)?;
    let coef: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inverse[i][j] * xty[j]).sum())
        .collect();
    let rss: f64 = rows
        .iter()
        .map(|(row, y)| {
            let e = y - row.iter().zip(&coef).map(|(r, c)| r * c).sum::<f64>();
            e * e
        })
        .sum();
    Some(Fit {
        coef,
        inverse,
        sigma: (rss / (n - p) as f64).sqrt(),
        weekdays,
    })
}

/// The forecast of `series` (day, value; any order) as of `as_of`, against `entitled`
/// seats (None if there is no fit: fewer than `forecast_min_days` days of data in the
/// window).
pub fn forecast(
    series: &[(Day, u32)],
    as_of: Day,
    entitled: Option<u32>,
    guard: &Guard,
) -> Option<Forecast> {
    let first = as_of - guard.forecast_days as i32 + 1;
    let mut points: Vec<(Day, u32)> = series
        .iter()
        .copied()
        .filter(|&(d, _)| d >= first && d <= as_of)
        .collect();
    points.sort_unstable();
    points.dedup_by_key(|p| p.0);
    if points.len() < guard.forecast_min_days as usize {
        return None;
    }
    let mut per_weekday = [0u32; 7];
    for &(d, _) in &points {
        per_weekday[weekday(d)] += 1;
    }
    let profile = per_weekday.iter().all(|&c| c >= 2);
    let model = profile
        .then(|| fit(&points, as_of, true))
        .flatten()
        .or_else(|| fit(&points, as_of, false))?;
    let z = guard.z;
    let h = guard.horizon_days as i32;
    let (y, half) = model.predict(h, as_of + h, z);
    // Strictly above, as over-use is; the tolerance keeps an exact line's rounding out.
    let exceeds = entitled.and_then(|e| {
        let above = |v: f64| v > e as f64 + 1e-9;
        let mut date = None;
        let mut earliest = None;
        let mut latest = None;
        for x in 1..=guard.forecast_max_days as i32 {
            let (y, half) = model.predict(x, as_of + x, z);
            if earliest.is_none() && above(y + half) {
                earliest = Some(as_of + x);
            }
            if date.is_none() && above(y) {
                date = Some(as_of + x);
            }
            if above(y - half) {
                latest = Some(as_of + x);
                break;
            }
        }
        Some(Exceedance {
            date: date?,
            earliest: earliest.expect("the upper bound is above the prediction"),
            latest,
        })
    });
    Some(Forecast {
        as_of,
        days_used: points.len() as u32,
        weekday_profile: model.weekdays,
        slope_per_day: model.coef[1],
        peak_in_horizon: y.max(0.0),
        peak_in_horizon_low: (y - half).max(0.0),
        peak_in_horizon_high: (y + half).max(0.0),
        exceeds,
        path: (1..=h)
            .map(|x| {
                let (y, half) = model.predict(x, as_of + x, z);
                ((y - half).max(0.0), y.max(0.0), (y + half).max(0.0))
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests;
