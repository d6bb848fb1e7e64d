//! Baselines and breaches (docs/GUARDRAILS.md, "Baselines").
//!
//! A day's baseline is the mean of the daily peaks of the `baseline_days` days before it
//! (the day itself left out, days without data skipped); with fewer than
//! `baseline_min_days` such days there is none. Its band is the mean × (1 ± tolerance).
//! A day whose peak is strictly above the band's top breaches its baseline. A day whose
//! peak, as a share of its entitlement, is strictly above the target band's upper bound or
//! strictly below its lower bound breaches the utilization band (only with a number of
//! seats entitled: none or unlimited gives no utilization).

use crate::{Day, Guard};

/// The baseline of one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Mean of the daily peaks of the window.
    pub mean: f64,
    /// The band: mean × (1 − tolerance) …
    pub low: f64,
    /// … to mean × (1 + tolerance).
    pub high: f64,
    /// Days of the window with data.
    pub days: u32,
    /// The sum of their peaks (the exact comparison uses it, not the rounded band).
    pub sum: u64,
}

impl Baseline {
    /// Whether `peak` is above the band's top, in integers: peak × days × 100 against
    /// sum × (100 + tolerance), so that 115 against a mean of 100 and 15 % is not above.
    pub fn exceeded_by(&self, peak: u32, tolerance_percent: u32) -> bool {
        peak as u128 * self.days as u128 * 100
            > self.sum as u128 * (100 + tolerance_percent as u128)
    }
}

/// How a day breached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreachKind {
    /// Its peak is above its baseline's band.
    AboveBaseline {
        /// The baseline's mean.
        mean: f64,
        /// The top of the band.
        high: f64,
    },
    /// Its utilization is above the target band.
    UtilizationHigh {
        /// peak / entitled.
        utilization: f64,
        /// The band's upper bound, in percent.
        upper: u32,
    },
    /// Its utilization is below the target band.
    UtilizationLow {
        /// peak / entitled.
        utilization: f64,
        /// The band's lower bound, in percent.
        lower: u32,
    },
}

/// One day outside a band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breach {
    /// The day.
    pub day: Day,
    /// Its peak.
    pub peak: u32,
    /// Which band it left.
    pub kind: BreachKind,
}

/// The baseline of `day` from `series` ((day, peak), ascending, gaps allowed).
pub fn baseline(series: &[(Day, u32)], day: Day, guard: &Guard) -> Option<Baseline> {
    let from = day - guard.baseline_days as Day;
    let lo = series.partition_point(|&(d, _)| d < from);
    let hi = series.partition_point(|&(d, _)| d < day);
    let window = &series[lo..hi];
    if (window.len() as u32) < guard.baseline_min_days {
        return None;
    }
    let sum: u64 = window.iter().map(|&(_, p)| p as u64).sum();
    let mean = sum as f64 / window.len() as f64;
    let t = guard.tolerance_percent as f64 / 100.0;
    Some(Baseline {
        mean,
        low: mean * (1.0 - t),
        high: mean * (1.0 + t),
        days: window.len() as u32,
        sum,
    })
}

/// The breaches of the days `from..=to` of `series`: above the baseline's band, and outside
/// the utilization `target_band` (percent of `entitled(day)`; None: no entitlement). A day
/// may breach both.
pub fn breaches(
    series: &[(Day, u32)],
    from: Day,
    to: Day,
    entitled: &dyn Fn(Day) -> Option<u32>,
    target_band: [u32; 2],
    guard: &Guard,
) -> Vec<Breach> {
    let mut out = Vec::new();
    for &(day, peak) in series.iter().filter(|(d, _)| (from..=to).contains(d)) {
        if let Some(b) = baseline(series, day, guard)
            && b.exceeded_by(peak, guard.tolerance_percent)
        {
            out.push(Breach {
                day,
                peak,
                kind: BreachKind::AboveBaseline {
                    mean: b.mean,
                    high: b.high,
                },
            });
        }
        let Some(n) = entitled(day).filter(|&n| n > 0) else {
            continue;
        };
        let utilization = peak as f64 / n as f64;
        // In integers: peak × 100 against bound × n, so that 95 of 100 is not above 95 %.
        let (p, n) = (peak as u64 * 100, n as u64);
        if p > target_band[1] as u64 * n {
            out.push(Breach {
                day,
                peak,
                kind: BreachKind::UtilizationHigh {
                    utilization,
                    upper: target_band[1],
                },
            });
        } else if p < target_band[0] as u64 * n {
            out.push(Breach {
                day,
                peak,
                kind: BreachKind::UtilizationLow {
                    utilization,
                    lower: target_band[0],
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::default()
    }

    #[test]
    fn the_baseline_is_the_mean_of_the_30_days_before() {
        // Days 0..30 at 100, day 30 itself at 500 (not in its own baseline).
        let mut s: Vec<(Day, u32)> = (0..30).map(|d| (d, 100)).collect();
        s.push((30, 500));
        let b = baseline(&s, 30, &guard()).unwrap();
        assert_eq!((b.mean, b.days), (100.0, 30));
        assert!((b.high - 115.0).abs() < 1e-9 && (b.low - 85.0).abs() < 1e-9);
        // Day 31's window is days 1..=30: 29 × 100 + 500.
        let b = baseline(&s, 31, &guard()).unwrap();
        assert!((b.mean - (29.0 * 100.0 + 500.0) / 30.0).abs() < 1e-9);
        // Gaps are skipped; too few days give no baseline.
        let sparse = [(0, 10), (10, 20), (20, 30)];
        assert_eq!(baseline(&sparse, 25, &guard()), None);
        let g = Guard {
            baseline_min_days: 3,
            ..guard()
        };
        assert_eq!(baseline(&sparse, 25, &g).unwrap().mean, 20.0);
    }

    #[test]
    fn a_breach_is_strictly_above_the_band() {
        let mut s: Vec<(Day, u32)> = (0..30).map(|d| (d, 100)).collect();
        s.push((30, 115)); // exactly the top: no breach
        s.push((31, 116)); // above: a breach (baseline ≈ 100.5, top ≈ 115.6)
        let b = breaches(&s, 30, 31, &|_| None, [80, 95], &guard());
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!((b[0].day, b[0].peak), (31, 116));
        assert!(matches!(b[0].kind, BreachKind::AboveBaseline { .. }));
    }

    #[test]
    fn utilization_outside_the_target_band_at_its_bounds() {
        let s = [(0, 95), (1, 96), (2, 80), (3, 79), (4, 0)];
        let b = breaches(&s, 0, 4, &|d| (d != 4).then_some(100), [80, 95], &guard());
        let kinds: Vec<(Day, &str)> = b
            .iter()
            .map(|b| {
                (
                    b.day,
                    match b.kind {
                        BreachKind::UtilizationHigh { .. } => "high",
                        BreachKind::UtilizationLow { .. } => "low",
                        BreachKind::AboveBaseline { .. } => "baseline",
                    },
                )
            })
            .collect();
        assert_eq!(kinds, [(1, "high"), (3, "low")], "95 % and 80 % are inside");
        // Unlimited or no entitlement: no utilization breach.
        assert!(breaches(&s, 0, 4, &|_| None, [80, 95], &guard()).is_empty());
    }
}
