//! The `[guardrails]` section of seatmeter.toml, and its checked form [`Guard`].

use serde::Deserialize;

/// The `[guardrails]` section as written; every key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// The days before a day whose peaks make its baseline (default 30).
    pub baseline_days: u32,
    /// With fewer days of data in the window there is no baseline, so no breach (default 7).
    pub baseline_min_days: u32,
    /// The band around the baseline's mean, in percent of it (default 15).
    pub tolerance_percent: u32,
    /// The days of history the forecast fits (default 90).
    pub forecast_days: u32,
    /// With fewer days of data there is no forecast (default 28).
    pub forecast_min_days: u32,
    /// "The expected peak in N days" (default 30).
    pub horizon_days: u32,
    /// An exceedance further away than this is not predicted (default 365).
    pub forecast_max_days: u32,
    /// The level of the forecast's intervals, in percent: 80, 90, 95 or 99 (default 90).
    pub confidence_percent: u32,
    /// Days before an expiry at which it is warned about (default [90, 60, 30, 7]).
    pub expiry_warn_days: Vec<u32>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            baseline_days: 30,
            baseline_min_days: 7,
            tolerance_percent: 15,
            forecast_days: 90,
            forecast_min_days: 28,
            horizon_days: 30,
            forecast_max_days: 365,
            confidence_percent: 90,
            expiry_warn_days: vec![90, 60, 30, 7],
        }
    }
}

/// The checked guardrail settings the engines use (see [`GuardConfig`] for each).
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// See [`GuardConfig::baseline_days`].
    pub baseline_days: u32,
    /// See [`GuardConfig::baseline_min_days`].
    pub baseline_min_days: u32,
    /// See [`GuardConfig::tolerance_percent`].
    pub tolerance_percent: u32,
    /// See [`GuardConfig::forecast_days`].
    pub forecast_days: u32,
    /// See [`GuardConfig::forecast_min_days`].
    pub forecast_min_days: u32,
    /// See [`GuardConfig::horizon_days`].
    pub horizon_days: u32,
    /// See [`GuardConfig::forecast_max_days`].
    pub forecast_max_days: u32,
    /// See [`GuardConfig::confidence_percent`].
    pub confidence_percent: u32,
    /// The two-sided normal quantile of `confidence_percent` (1.645 for 90 %).
    pub z: f64,
    /// The warning thresholds, largest first, without repeats.
    pub expiry_warn_days: Vec<u32>,
}

impl Guard {
    /// The expiry thresholds as a person reads them: `90, 60, 30, 7`.
    pub fn thresholds_text(&self) -> String {
        self.expiry_warn_days
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Default for Guard {
    fn default() -> Self {
        GuardConfig::default()
            .check()
            .expect("the defaults are valid")
    }
}

/// The two-sided quantiles of the normal distribution the intervals support.
const QUANTILES: [(u32, f64); 4] = [(80, 1.2816), (90, 1.6449), (95, 1.9600), (99, 2.5758)];

impl GuardConfig {
    /// Checks the settings; every problem is one sentence naming the key.
    pub fn check(&self) -> Result<Guard, Vec<String>> {
        let mut errors = Vec::new();
        let mut positive = |key: &str, v: u32| {
            if v == 0 {
                errors.push(format!("{key} = 0: it must be at least 1"));
            }
        };
        positive("baseline_days", self.baseline_days);
        positive("baseline_min_days", self.baseline_min_days);
        positive("forecast_days", self.forecast_days);
        positive("horizon_days", self.horizon_days);
        positive("forecast_max_days", self.forecast_max_days);
        if self.baseline_min_days > self.baseline_days {
            errors.push(format!(
                "baseline_min_days = {} is more than baseline_days = {}",
                self.baseline_min_days, self.baseline_days
            ));
        }
        if self.forecast_min_days < 3 || self.forecast_min_days > self.forecast_days {
            errors.push(format!(
                "forecast_min_days = {}: it must be from 3 to forecast_days ({}); a trend needs at least 3 days",
                self.forecast_min_days, self.forecast_days
            ));
        }
        if self.tolerance_percent > 1000 {
            errors.push(format!(
                "tolerance_percent = {}: at most 1000",
                self.tolerance_percent
            ));
        }
        let z = QUANTILES
            .iter()
            .find(|(p, _)| *p == self.confidence_percent)
            .map(|(_, z)| *z);
        if z.is_none() {
            errors.push(format!(
                "confidence_percent = {}: one of 80, 90, 95 or 99",
                self.confidence_percent
            ));
        }
        let mut warn = self.expiry_warn_days.clone();
        warn.sort_unstable_by(|a, b| b.cmp(a));
        warn.dedup();
        if warn.is_empty() {
            errors.push("expiry_warn_days = []: give at least one number of days".into());
        }
        if warn.contains(&0) {
            errors.push("expiry_warn_days: 0 is not a warning (an expired line is always reported); use 1 or more".into());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Guard {
            baseline_days: self.baseline_days,
            baseline_min_days: self.baseline_min_days,
            tolerance_percent: self.tolerance_percent,
            forecast_days: self.forecast_days,
            forecast_min_days: self.forecast_min_days,
            horizon_days: self.horizon_days,
            forecast_max_days: self.forecast_max_days,
            confidence_percent: self.confidence_percent,
            z: z.expect("checked"),
            expiry_warn_days: warn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_section_has_the_defaults_and_bad_values_are_named() {
        let g: GuardConfig = toml::from_str("").unwrap();
        assert_eq!(g.check().unwrap(), Guard::default());
        assert_eq!(Guard::default().expiry_warn_days, [90, 60, 30, 7]);
        let g: GuardConfig =
            toml::from_str("expiry_warn_days = [7, 30, 30]\nconfidence_percent = 95").unwrap();
        let g = g.check().unwrap();
        assert_eq!(g.expiry_warn_days, [30, 7], "largest first, once each");
        assert_eq!(g.z, 1.96);
        let bad: GuardConfig = toml::from_str(
            "baseline_days = 5\nbaseline_min_days = 9\nconfidence_percent = 42\nexpiry_warn_days = []",
        )
        .unwrap();
        let errors = bad.check().unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("baseline_min_days = 9"));
        assert!(errors[1].contains("confidence_percent = 42"));
        assert!(errors[2].contains("expiry_warn_days"));
        assert!(
            toml::from_str::<GuardConfig>("baseline = 3").is_err(),
            "unknown keys are refused"
        );
    }
}
