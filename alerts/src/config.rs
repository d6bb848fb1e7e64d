//! The `[alerts]` section of seatmeter.toml (docs/ALERTS.md), and its check into
//! [`Alerting`]. Every error is one sentence with the byte offset of the rule or channel it
//! is about, which the caller turns into a line of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use serde_spanned::Spanned;

use crate::{Alerting, Channel, ChannelKind, Condition, Email, Rule, Secret, Template, Webhook};

/// `[alerts]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// A notification not delivered this long after it was written is dead-lettered
    /// (default "24h").
    pub dead_letter_after: Option<String>,
    /// The first retry's delay (default "10s").
    pub retry_base: Option<String>,
    /// The longest delay between retries (default "15m").
    pub retry_max: Option<String>,
    /// How long one attempt may take (default "10s").
    pub timeout: Option<String>,
    /// `[[alerts.channel]]`.
    #[serde(default)]
    pub channel: Vec<Spanned<ChannelConfig>>,
    /// `[[alerts.rule]]`.
    #[serde(default)]
    pub rule: Vec<Spanned<RuleConfig>>,
}

/// `[[alerts.channel]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The name rules use.
    pub name: String,
    /// `webhook` or `email`.
    pub kind: String,
    /// webhook: the URL.
    pub url: Option<String>,
    /// webhook: `json` (default), `slack`, `teams` or `custom`.
    pub template: Option<String>,
    /// webhook, custom template: the body with `{{placeholders}}`.
    pub body: Option<String>,
    /// webhook, custom template: its Content-Type (default application/json).
    pub content_type: Option<String>,
    /// webhook: the signing secret (better: `secret_env`).
    pub secret: Option<String>,
    /// webhook: the environment variable holding the signing secret.
    pub secret_env: Option<String>,
    /// webhook: extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// email: the SMTP URL (better with credentials: `smtp_env`).
    pub smtp: Option<String>,
    /// email: the environment variable holding the SMTP URL.
    pub smtp_env: Option<String>,
    /// email: the sender.
    pub from: Option<String>,
    /// email: the recipients.
    #[serde(default)]
    pub to: Vec<String>,
}

/// `[[alerts.rule]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Its name.
    pub name: String,
    /// What it watches.
    pub condition: Condition,
    /// The items it watches (default: all).
    #[serde(default)]
    pub items: Vec<String>,
    /// The tenants it watches (default: the system and every tenant).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// forecast: how far ahead (default 30 days).
    pub within_days: Option<u32>,
    /// collector_failing: failed runs in a row (default 3).
    pub intervals: Option<u32>,
    /// Where its notifications go.
    #[serde(default)]
    pub channels: Vec<String>,
}

/// The environment, as the check reads it (a function, so tests need not set variables).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn duration(key: &str, v: &Option<String>, default: Duration) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(s) => humantime::parse_duration(s)
            .map_err(|e| format!("{key} = {s:?}: {e} (write e.g. \"30s\", \"15m\", \"24h\")")),
    }
}

impl AlertsConfig {
    /// Checks the section against the items (and bundles) rules may name. Errors: (byte
    /// offset of the rule or channel, or None for the section, sentence).
    pub fn check(
        &self,
        items: &[String],
        env: Env<'_>,
    ) -> Result<Alerting, Vec<(Option<usize>, String)>> {
        let mut errors: Vec<(Option<usize>, String)> = Vec::new();
        let d = Alerting::default();
        let mut get = |key: &str, v: &Option<String>, def: Duration| {
            duration(key, v, def).unwrap_or_else(|e| {
                errors.push((None, e));
                def
            })
        };
        let dead_letter_after = get(
            "dead_letter_after",
            &self.dead_letter_after,
            d.dead_letter_after,
        );
        let retry_base = get("retry_base", &self.retry_base, d.retry_base);
        let retry_max = get("retry_max", &self.retry_max, d.retry_max);
        let timeout = get("timeout", &self.timeout, d.timeout);
        if retry_base.is_zero() || retry_max < retry_base {
            errors.push((
                None,
                "retry_base must be above 0 and at most retry_max".into(),
            ));
        }
        if timeout.is_zero() {
            errors.push((None, "timeout = 0: an attempt needs some time".into()));
        }
        let mut channels = Vec::new();
        let mut names = BTreeSet::new();
        for c in &self.channel {
            let at = Some(c.span().start);
            let c = c.get_ref();
            if !names.insert(c.name.clone()) {
                errors.push((at, format!("channel {:?} is defined twice", c.name)));
                continue;
            }
            match channel(c, env) {
                Ok(ch) => channels.push(ch),
                Err(e) => errors.push((at, format!("channel {:?}: {e}", c.name))),
            }
        }
        let mut rules = Vec::new();
        let mut rule_names = BTreeSet::new();
        for r in &self.rule {
            let at = Some(r.span().start);
            let r = r.get_ref();
            if !rule_names.insert(r.name.clone()) {
                errors.push((at, format!("rule {:?} is defined twice", r.name)));
                continue;
            }
            match rule(r, items, &names) {
                Ok(rule) => rules.push(rule),
                Err(e) => errors.push((at, format!("rule {:?}: {e}", r.name))),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Alerting {
            channels,
            rules,
            dead_letter_after,
            retry_base,
            retry_max,
            timeout,
        })
    }
}

fn from_env(key: &str, var: &str, env: Env<'_>) -> Result<String, String> {
    env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
        format!("{key} = {var:?}: that environment variable is not set in seatmeter's environment")
    })
}

fn channel(c: &ChannelConfig, env: Env<'_>) -> Result<Channel, String> {
    let webhook_only = [
        ("url", c.url.is_some()),
        ("template", c.template.is_some()),
        ("body", c.body.is_some()),
        ("content_type", c.content_type.is_some()),
        ("secret", c.secret.is_some()),
        ("secret_env", c.secret_env.is_some()),
        ("headers", !c.headers.is_empty()),
    ];
    let email_only = [
        ("smtp", c.smtp.is_some()),
        ("smtp_env", c.smtp_env.is_some()),
        ("from", c.from.is_some()),
        ("to", !c.to.is_empty()),
    ];
    let misplaced = |keys: &[(&str, bool)], kind: &str| -> Result<(), String> {
        match keys.iter().find(|(_, set)| *set) {
            Some((k, _)) => Err(format!("{k} is not a key of a {kind} channel")),
            None => Ok(()),
        }
    };
    let kind = match c.kind.as_str() {
        "webhook" => {
            misplaced(&email_only, "webhook")?;
            ChannelKind::Webhook(webhook(c, env)?)
        }
        "email" => {
            misplaced(&webhook_only, "email")?;
            let smtp = match (&c.smtp, &c.smtp_env) {
                (Some(s), None) => s.clone(),
                (None, Some(var)) => from_env("smtp_env", var, env)?,
                _ => return Err("give one of smtp or smtp_env".into()),
            };
            let from = c
                .from
                .clone()
                .ok_or("from is missing: the sender's address")?;
            crate::email::check(&smtp, &from, &c.to)?;
            ChannelKind::Email(Email {
                smtp: Secret(smtp),
                from,
                to: c.to.clone(),
            })
        }
        other => return Err(format!("kind = {other:?}: one of \"webhook\" or \"email\"")),
    };
    Ok(Channel {
        name: c.name.clone(),
        kind,
    })
}

fn webhook(c: &ChannelConfig, env: Env<'_>) -> Result<Webhook, String> {
    let url = c.url.clone().ok_or("url is missing")?;
    let uri: ureq::http::Uri = url.parse().map_err(|e| {
        format!(
            "url = {:?} does not parse: {e}",
            crate::webhook::redacted(&url)
        )
    })?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(format!(
            "url = {:?}: it must be http:// or https:// with a host",
            crate::webhook::redacted(&url)
        ));
    }
    let template = match c.template.as_deref().unwrap_or("json") {
        "json" => Template::Json,
        "slack" => Template::Slack,
        "teams" => Template::Teams,
        "custom" => Template::Custom {
            body: c.body.clone().ok_or("template = \"custom\" needs a body")?,
            content_type: c
                .content_type
                .clone()
                .unwrap_or_else(|| "application/json".into()),
        },
        other => {
            return Err(format!(
                "template = {other:?}: one of \"json\", \"slack\", \"teams\" or \"custom\""
            ));
        }
    };
    if (c.body.is_some() || c.content_type.is_some())
        && !matches!(template, Template::Custom { .. })
    {
        return Err("body and content_type are for template = \"custom\"".into());
    }
    template
        .render(&crate::Notification::sample())
        .map_err(|e| format!("the template does not render: {e}"))?;
    let secret = match (&c.secret, &c.secret_env) {
        (Some(s), None) => Some(Secret(s.clone())),
        (None, Some(var)) => Some(Secret(from_env("secret_env", var, env)?)),
        (None, None) => None,
        (Some(_), Some(_)) => return Err("give secret or secret_env, not both".into()),
    };
    let mut headers = Vec::new();
    for (k, v) in &c.headers {
        ureq::http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("headers: {k:?} is not a header name"))?;
        ureq::http::HeaderValue::from_str(v)
            .map_err(|_| format!("headers: the value of {k} is not a header value"))?;
        headers.push((k.clone(), Secret(v.clone())));
    }
    Ok(Webhook {
        url,
        template,
        secret,
        headers,
    })
}

fn rule(r: &RuleConfig, items: &[String], channels: &BTreeSet<String>) -> Result<Rule, String> {
    for i in &r.items {
        if !items.contains(i) {
            return Err(format!(
                "items: unknown item {i:?}; the items are {}",
                items
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for c in &r.channels {
        if !channels.contains(c) {
            return Err(format!(
                "channels: no [[alerts.channel]] is named {c:?}{}",
                if channels.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; the channels are {}",
                        channels.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                }
            ));
        }
    }
    let c = r.condition;
    if r.within_days.is_some() && c != Condition::Forecast {
        return Err("within_days is for condition = \"forecast\"".into());
    }
    if r.intervals.is_some() && c != Condition::CollectorFailing {
        return Err("intervals is for condition = \"collector_failing\"".into());
    }
    if !r.items.is_empty() && matches!(c, Condition::Expiry | Condition::CollectorFailing) {
        return Err(format!("items: a {} rule is not per item", c.name()));
    }
    if !r.tenants.is_empty() && c == Condition::CollectorFailing {
        return Err("tenants: collectors are the site's, not a tenant's; leave tenants out".into());
    }
    let within_days = r.within_days.unwrap_or(30);
    let intervals = r.intervals.unwrap_or(3);
    if within_days == 0 || intervals == 0 {
        return Err("within_days and intervals are at least 1".into());
    }
    Ok(Rule {
        name: r.name.clone(),
        condition: c,
        items: r.items.clone(),
        tenants: r.tenants.clone(),
        within_days,
        intervals,
        channels: r.channels.clone(),
    })
}

#[cfg(test)]
mod tests;
