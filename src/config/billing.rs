//! `[billing]`: prices for `export billing` (docs/BILLING.md), and money as integers of the
//! currency's minor unit (cents): read and written as digits, never as floating point.

use serde::Deserialize;

/// `[billing]` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// ISO 4217 code written in the files (default "EUR").
    pub currency: Option<String>,
    /// Digits after the decimal point of the currency (default 2).
    pub minor_units: Option<u32>,
    /// Per tenant per month: a tenant whose amount is lower is billed this (its files say so).
    pub minimum: Option<String>,
    /// Price of one billable seat for a month, per item name ("12.50").
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, String>,
    /// Price of one billable seat for a day, per item name, for the daily files.
    #[serde(default)]
    pub daily_prices: std::collections::BTreeMap<String, String>,
    /// Bill concurrent items and bundles by their fair peak: the highest level held for
    /// at least this many minutes, so that short spikes are not billed.
    pub fair_peak_minutes: Option<u32>,
    /// Price of one seat above the entitlement for a month, for every item and bundle
    /// without one of its own in `overage_prices` (docs/BILLING.md, rule 5).
    pub overage: Option<String>,
    /// Price of one seat above the entitlement for a month, per item or bundle name.
    #[serde(default)]
    pub overage_prices: std::collections::BTreeMap<String, String>,
    /// What to do with a tenant seen in events that no entitlement file provisions, when
    /// entitlement files provision tenants: "bill" it (the default) or "skip" it. Either
    /// way the export names it.
    pub unprovisioned: Option<Unprovisioned>,
}

/// `[billing] unprovisioned`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Unprovisioned {
    /// Billed like any tenant (its usage, and the minimum).
    #[default]
    Bill,
    /// No billing files; the export's warnings name it.
    Skip,
}

/// `[billing]`, checked: money in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billing {
    pub currency: String,
    pub minor_units: u32,
    pub minimum: i64,
    /// Per configured item.
    pub prices: Vec<Option<i64>>,
    pub daily_prices: Vec<Option<i64>>,
    /// Per measure: the price of a seat above the entitlement (monthly files).
    pub overage_prices: Vec<Option<i64>>,
    pub fair_peak_minutes: Option<u32>,
    pub unprovisioned: Unprovisioned,
}

impl Billing {
    /// Whether any price is configured (a monthly or daily price, an overage price or a
    /// minimum): without one, a billing export holds quantities and no amounts.
    pub fn has_prices(&self) -> bool {
        self.minimum > 0
            || [&self.prices, &self.daily_prices, &self.overage_prices]
                .iter()
                .any(|t| t.iter().any(Option::is_some))
    }
}

impl Default for Billing {
    fn default() -> Self {
        Billing {
            currency: "EUR".into(),
            minor_units: 2,
            minimum: 0,
            prices: Vec::new(),
            daily_prices: Vec::new(),
            overage_prices: Vec::new(),
            fair_peak_minutes: None,
            unprovisioned: Unprovisioned::Bill,
        }
    }
}

impl BillingConfig {
    /// Checks prices against the items; errors say which key is wrong.
    pub fn check(&self, items: &[String]) -> Result<Billing, String> {
        let minor_units = self.minor_units.unwrap_or(2);
        if minor_units > 6 {
            return Err(format!(
                "[billing] minor_units = {minor_units}: at most 6 digits"
            ));
        }
        let table = |key: &str,
                     prices: &std::collections::BTreeMap<String, String>|
         -> Result<Vec<Option<i64>>, String> {
            let mut out = vec![None; items.len()];
            for (name, text) in prices {
                let i = items.iter().position(|n| n == name).ok_or_else(|| {
                    format!(
                        "[billing.{key}] {name:?} is not a configured item (items: {})",
                        items.join(", ")
                    )
                })?;
                out[i] = Some(
                    parse_money(text, minor_units)
                        .map_err(|e| format!("[billing.{key}] {name:?}: {e}"))?,
                );
            }
            Ok(out)
        };
        Ok(Billing {
            currency: self.currency.clone().unwrap_or_else(|| "EUR".into()),
            minor_units,
            minimum: match &self.minimum {
                Some(m) => {
                    parse_money(m, minor_units).map_err(|e| format!("[billing] minimum: {e}"))?
                }
                None => 0,
            },
            prices: table("prices", &self.prices)?,
            daily_prices: table("daily_prices", &self.daily_prices)?,
            overage_prices: {
                let default = match &self.overage {
                    Some(m) => Some(
                        parse_money(m, minor_units)
                            .map_err(|e| format!("[billing] overage: {e}"))?,
                    ),
                    None => None,
                };
                table("overage_prices", &self.overage_prices)?
                    .into_iter()
                    .map(|p| p.or(default))
                    .collect()
            },
            fair_peak_minutes: match self.fair_peak_minutes {
                Some(0) => return Err("[billing] fair_peak_minutes must be at least 1".into()),
                m => m,
            },
            unprovisioned: self.unprovisioned.unwrap_or_default(),
        })
    }
}

/// "12.5" with 2 minor units -> 1250. No floating point: digits are read as digits.
pub fn parse_money(text: &str, minor_units: u32) -> Result<i64, String> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) {
        return Err(format!(
            "{text:?} is not an amount (write e.g. \"12.50\"; no sign, no thousands separator)"
        ));
    }
    if frac.len() > minor_units as usize {
        return Err(format!(
            "{text:?} has more than {minor_units} digit(s) after the point"
        ));
    }
    let scale = 10i64.pow(minor_units);
    let w: i64 = whole
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = minor_units as usize)
            .parse()
            .expect("digits")
    };
    w.checked_mul(scale)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// 1250 with 2 minor units -> "12.50".
pub fn format_money(v: i64, minor_units: u32) -> String {
    if minor_units == 0 {
        return v.to_string();
    }
    let scale = 10i64.pow(minor_units);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        a / scale as u64,
        a % scale as u64,
        width = minor_units as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_read_and_written_as_digits() {
        assert_eq!(parse_money("12.5", 2), Ok(1250));
        assert_eq!(parse_money("0.10", 2), Ok(10));
        assert_eq!(parse_money("7", 2), Ok(700));
        assert_eq!(parse_money("0.105", 3), Ok(105));
        assert!(parse_money("0.105", 2).is_err());
        assert!(parse_money("-1", 2).is_err());
        assert!(parse_money("1,000.00", 2).is_err());
        assert!(parse_money("1e3", 2).is_err());
        assert!(parse_money("99999999999999999999", 2).is_err());
        assert_eq!(format_money(1250, 2), "12.50");
        assert_eq!(format_money(5, 2), "0.05");
        assert_eq!(format_money(-5, 2), "-0.05");
        assert_eq!(format_money(42, 0), "42");
        // 0.1 + 0.2 is exactly 0.3 here.
        assert_eq!(
            format_money(
                parse_money("0.1", 2).unwrap() + parse_money("0.2", 2).unwrap(),
                2
            ),
            "0.30"
        );
    }

    #[test]
    fn prices_name_configured_measures() {
        let items = vec!["Voice".to_string(), "Email".to_string()];
        let mut c = BillingConfig::default();
        c.prices.insert("Voice".into(), "12.35".into());
        c.minimum = Some("100".into());
        let b = c.check(&items).unwrap();
        assert_eq!(b.prices, vec![Some(1235), None]);
        assert_eq!(b.minimum, 10000);
        assert_eq!(b.overage_prices, vec![None, None]);
        // An item's own overage price, else the default.
        c.overage = Some("2.5".into());
        c.overage_prices.insert("Email".into(), "4.00".into());
        assert_eq!(
            c.check(&items).unwrap().overage_prices,
            vec![Some(250), Some(400)]
        );
        c.overage = Some("x".into());
        assert!(
            c.check(&items)
                .unwrap_err()
                .starts_with("[billing] overage:")
        );
        c.overage = None;
        c.prices.insert("Fax".into(), "1".into());
        assert!(
            c.check(&items)
                .unwrap_err()
                .contains("\"Fax\" is not a configured item")
        );
    }
}
