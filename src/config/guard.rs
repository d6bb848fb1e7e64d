//! `[guardrails]` and `[alerts]` (docs/GUARDRAILS.md, docs/ALERTS.md), checked into the
//! guard crate's settings and the alerts crate's rules and channels; errors name the line of
//! the rule or channel they are about.

use std::collections::BTreeMap;

use seatmeter_alerts::{Alerting, AlertsConfig};
use seatmeter_guard::{Guard, GuardConfig};
use toml::Spanned;

use super::{ConfigError, Item, Place};

/// `[guardrails]` (an absent section has every default).
pub(super) fn guardrails(
    place: &Place<'_>,
    raw: Option<Spanned<GuardConfig>>,
) -> Result<Guard, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Guard::default());
    };
    let at = raw.span().start;
    raw.get_ref()
        .check()
        .map_err(|errors| place.err(Some(at), format!("[guardrails]: {}", errors.join("; "))))
}

/// `[alerts]`, its rules checked against the items (an absent section: no rules, no
/// channels), and where each channel is defined. Several mistakes are reported together,
/// each with its line.
pub(super) fn alerts(
    place: &Place<'_>,
    raw: Option<Spanned<AlertsConfig>>,
    items: &[Item],
) -> Result<(Alerting, BTreeMap<String, String>), ConfigError> {
    let Some(raw) = raw else {
        return Ok((Alerting::default(), BTreeMap::new()));
    };
    let origins = raw
        .get_ref()
        .channel
        .iter()
        .map(|c| {
            let e = place.err(Some(c.span().start), String::new());
            (
                c.get_ref().name.clone(),
                format!("{}:{}", e.path, e.line.unwrap_or(0)),
            )
        })
        .collect();
    let section = raw.span().start;
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    let env = |k: &str| std::env::var(k).ok();
    let alerting = raw.get_ref().check(&names, &env).map_err(|errors| {
        let mut all = errors.into_iter().map(|(at, message)| {
            place.err(Some(at.unwrap_or(section)), format!("[alerts]: {message}"))
        });
        let mut first = all.next().expect("an error");
        for more in all {
            first.message.push_str(&format!(
                "; and at line {}: {}",
                more.line.unwrap_or(0),
                more.message.trim_start_matches("[alerts]: ")
            ));
        }
        first
    })?;
    Ok((alerting, origins))
}
