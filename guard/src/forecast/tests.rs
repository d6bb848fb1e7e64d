use super::*;
use crate::GuardConfig;

/// A small deterministic generator (xorshift64*) with normal deviates (Box–Muller).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Weekends well below the week: Monday … Sunday, summing to zero.
const PROFILE: [f64; 7] = [2.0, 2.0, 2.0, 2.0, 2.0, -5.0, -5.0];

/// The true value of the generated series on `day`.
fn truth(day: Day, start: Day, base: f64, slope: f64, profile: bool) -> f64 {
    base + slope * (day - start) as f64 + if profile { PROFILE[weekday(day)] } else { 0.0 }
}

fn series(start: Day, days: i32, mut f: impl FnMut(Day) -> f64) -> Vec<(Day, u32)> {
    (start..start + days)
        .map(|d| (d, f(d).round().max(0.0) as u32))
        .collect()
}

const START: Day = 20_454; // 2026-01-01, a Thursday

#[test]
fn an_exact_line_crosses_where_arithmetic_says() {
    let g = Guard::default();
    // 10 + 2 per day over 90 days.
    let line: Vec<(Day, u32)> = (0..90).map(|i| (START + i, 10 + 2 * i as u32)).collect();
    let as_of = START + 89;
    let f = forecast(&line, as_of, Some(200), &g).unwrap();
    assert_eq!(f.days_used, 90);
    assert!((f.slope_per_day - 2.0).abs() < 1e-9, "{}", f.slope_per_day);
    // 188 on the last day; 190, …, 200 on day +6, 202 on day +7: the first day above 200.
    let x = f.exceeds.unwrap();
    assert_eq!(
        (x.date, x.earliest, x.latest),
        (as_of + 7, as_of + 7, Some(as_of + 7))
    );
    assert!(
        (f.peak_in_horizon - (188.0 + 60.0)).abs() < 1e-6,
        "{}",
        f.peak_in_horizon
    );
    assert!(
        (f.peak_in_horizon_high - f.peak_in_horizon_low).abs() < 1e-6,
        "no noise, no width"
    );
    // The path a chart draws: one point per day of the horizon, on the line, the last
    // one the horizon's peak.
    assert_eq!(f.path.len(), g.horizon_days as usize);
    for (k, &(low, mid, high)) in f.path.iter().enumerate() {
        let want = 188.0 + 2.0 * (k + 1) as f64;
        assert!(
            (mid - want).abs() < 1e-6 && low <= mid && mid <= high,
            "{k}: {mid}"
        );
    }
    assert!((f.path.last().unwrap().1 - f.peak_in_horizon).abs() < 1e-9);
}

#[test]
fn the_true_crossing_falls_inside_the_interval_of_trend_weekday_and_noise() {
    let g = Guard::default();
    let entitled = 80;
    let (base, slope) = (30.0, 0.35);
    let as_of = START + 89;
    let mut inside = 0;
    let mut widths = Vec::new();
    for seed in 1..=20u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let s = series(START, 90, |d| {
            truth(d, START, base, slope, true) + 2.0 * rng.normal()
        });
        let f = forecast(&s, as_of, Some(entitled), &g).unwrap();
        assert!(f.weekday_profile, "13 weeks of data fit the profile");
        assert!(
            (f.slope_per_day - slope).abs() < 0.05,
            "seed {seed}: slope {}",
            f.slope_per_day
        );
        let truly = (as_of + 1..as_of + 400)
            .find(|&d| truth(d, START, base, slope, true) > entitled as f64)
            .unwrap();
        let x = f.exceeds.expect("a rising series crosses");
        assert!(x.earliest <= x.date && Some(x.date) <= x.latest.or(Some(Day::MAX)));
        let latest = x.latest.expect("within a year");
        if x.earliest <= truly && truly <= latest {
            inside += 1;
        }
        widths.push(latest - x.earliest);
        // The band a chart draws widens with the distance from the data.
        let band = |k: usize| f.path[k].2 - f.path[k].0;
        assert!(
            band(0) > 0.0 && band(0) < band(f.path.len() - 1),
            "seed {seed}"
        );
    }
    assert_eq!(
        inside, 20,
        "the true crossing is inside every seed's interval"
    );
    assert!(
        widths.iter().all(|&w| w < 40),
        "and the intervals say something: {widths:?}"
    );
}

#[test]
fn a_flat_or_falling_series_exceeds_nothing() {
    let g = Guard::default();
    let as_of = START + 89;
    let mut rng = Rng(7);
    let flat = series(START, 90, |_| 20.0 + rng.normal());
    let f = forecast(&flat, as_of, Some(30), &g).unwrap();
    assert!(f.slope_per_day.abs() < 0.05, "{}", f.slope_per_day);
    assert_eq!(f.exceeds, None);
    assert!(
        (f.peak_in_horizon - 20.0).abs() < 2.0,
        "{}",
        f.peak_in_horizon
    );
    assert!(
        f.peak_in_horizon_low < f.peak_in_horizon && f.peak_in_horizon < f.peak_in_horizon_high
    );

    let falling = series(START, 90, |d| 60.0 - 0.3 * (d - START) as f64);
    let f = forecast(&falling, as_of, Some(61), &g).unwrap();
    assert!(f.slope_per_day < -0.29);
    assert_eq!(f.exceeds, None);
    // 60 − 0.3 × 119 = 24.3 on the horizon day.
    assert!(
        (f.peak_in_horizon - 24.3).abs() < 0.6,
        "{}",
        f.peak_in_horizon
    );
}

#[test]
fn too_few_days_give_no_forecast_and_no_entitlement_no_exceedance() {
    let g = Guard::default();
    let line = series(START, 90, |d| 10.0 + (d - START) as f64);
    let as_of = START + 89;
    // 27 days of data in the window (the rest before it, or after as_of: ignored).
    let few: Vec<(Day, u32)> = line
        .iter()
        .copied()
        .filter(|&(d, _)| d > as_of - 27)
        .collect();
    assert_eq!(forecast(&few, as_of, Some(1000), &g), None);
    // As of 28 days in, the days after it are not used.
    let f = forecast(&line, START + 27, Some(100), &g).unwrap();
    assert_eq!(f.days_used, 28, "the 28 days up to as_of");
    assert!(f.exceeds.is_some());
    assert_eq!(forecast(&line, as_of, None, &g).unwrap().exceeds, None);
    assert_eq!(forecast(&line, as_of, None, &g).unwrap().days_used, 90);
}

#[test]
fn the_weekday_profile_is_recovered_and_predicts_the_weekend() {
    let g = GuardConfig {
        horizon_days: 30,
        ..Default::default()
    }
    .check()
    .unwrap();
    // Exact values (no rounding): the profile's halves are whole numbers.
    let s: Vec<(Day, u32)> = (START..START + 84)
        .map(|d| (d, truth(d, START, 40.0, 0.0, true) as u32))
        .collect();
    let mut as_of = START + 83;
    // Make the horizon day a Saturday.
    while weekday(as_of + 30) != 5 {
        as_of -= 1;
    }
    let f = forecast(&s, as_of, Some(41), &g).unwrap();
    assert!(f.weekday_profile);
    assert!(f.slope_per_day.abs() < 1e-9);
    assert!(
        (f.peak_in_horizon - 35.0).abs() < 1e-6,
        "Saturday: 40 − 5, got {}",
        f.peak_in_horizon
    );
    let x = f.exceeds.expect("weekdays (42) are above 41");
    assert!(
        weekday(x.date) < 5,
        "the first day above 41 is a weekday, not a weekend"
    );
    // Without the profile (fewer than three weeks) the fit is a line and the horizon day is
    // the mean level.
    let short: Vec<(Day, u32)> = s
        .iter()
        .copied()
        .filter(|&(d, _)| d > as_of - 28 && d <= as_of)
        .collect();
    let g2 = GuardConfig {
        forecast_days: 13,
        forecast_min_days: 10,
        ..Default::default()
    }
    .check()
    .unwrap();
    let f2 = forecast(&short, as_of, None, &g2).unwrap();
    assert!(!f2.weekday_profile, "13 days: not every weekday twice");
    assert_eq!(f2.days_used, 13);
}
