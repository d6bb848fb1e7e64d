//! seatmeter's alerting (docs/ALERTS.md): the `[alerts]` configuration (rules and channels),
//! the notification every channel is given, its delivery (a signed webhook, templated for
//! Slack- and Teams-style incoming webhooks, or e-mail over SMTP), and the retry schedule.
//!
//! Nothing here keeps state: the outbox that makes notifications durable is the store's,
//! and what raises them is the service's guardrail check. A delivery is one attempt that
//! either delivered or says why not and, if the receiver said so, when to try again.

#![deny(missing_docs)]

pub mod config;
mod email;
mod notification;
mod retry;
mod template;
mod webhook;

use std::time::Duration;

pub use config::{AlertsConfig, ChannelConfig, RuleConfig};
pub use notification::{Notification, State};
pub use retry::next_delay;
pub use template::Template;

/// What a rule watches (docs/ALERTS.md, "Rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Seats in use now, or a day's peak, above the entitlement.
    OverUse,
    /// A day's peak above its rolling baseline's band.
    BaselineBreach,
    /// A day's utilization outside the target band.
    Utilization,
    /// The forecast exceeds the entitlement within `within_days`.
    Forecast,
    /// A license line or grant expires within a warning threshold, or has expired.
    Expiry,
    /// A collector failed `intervals` runs in a row.
    CollectorFailing,
    /// A billed day was restated (its numbers changed after it was billed).
    Restated,
}

impl Condition {
    /// The name used in the configuration and the payload.
    pub fn name(self) -> &'static str {
        match self {
            Condition::OverUse => "over_use",
            Condition::BaselineBreach => "baseline_breach",
            Condition::Utilization => "utilization",
            Condition::Forecast => "forecast",
            Condition::Expiry => "expiry",
            Condition::CollectorFailing => "collector_failing",
            Condition::Restated => "restated",
        }
    }
}

/// One checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name, unique in the configuration.
    pub name: String,
    /// What it watches.
    pub condition: Condition,
    /// The items it watches (empty: all).
    pub items: Vec<String>,
    /// The tenants it watches (empty: the system and every tenant).
    pub tenants: Vec<String>,
    /// For `forecast`: how far ahead an exceedance alerts.
    pub within_days: u32,
    /// For `collector_failing`: failed runs in a row.
    pub intervals: u32,
    /// The channels its notifications go to.
    pub channels: Vec<String>,
}

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A webhook channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// `http://` or `https://`.
    pub url: String,
    /// How the body is made.
    pub template: Template,
    /// The HMAC-SHA256 key of the `X-Seatmeter-Signature` header (None: unsigned).
    pub secret: Option<Secret>,
    /// Extra headers (e.g. an Authorization the receiver wants).
    pub headers: Vec<(String, Secret)>,
}

/// An e-mail channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// `smtp://host[:port]` (STARTTLS if offered, `?tls=required` to insist) or
    /// `smtps://host[:port]` (TLS from the start), with the credentials, if any.
    pub smtp: Secret,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    /// An HTTP POST.
    Webhook(Webhook),
    /// An e-mail.
    Email(Email),
}

/// One checked channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Its name, unique in the configuration.
    pub name: String,
    /// What it is.
    pub kind: ChannelKind,
}

/// The checked `[alerts]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    /// The channels.
    pub channels: Vec<Channel>,
    /// The rules.
    pub rules: Vec<Rule>,
    /// A notification not delivered this long after it was written is dead-lettered.
    pub dead_letter_after: Duration,
    /// The first retry's delay; each further one doubles, up to `retry_max`.
    pub retry_base: Duration,
    /// The longest delay between attempts (a receiver's Retry-After may ask for more).
    pub retry_max: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for Alerting {
    fn default() -> Self {
        Alerting {
            channels: Vec::new(),
            rules: Vec::new(),
            dead_letter_after: Duration::from_secs(24 * 3600),
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver took it (2xx; the SMTP server accepted the message).
    Delivered,
    /// Not delivered: why, and how long the receiver asked to wait (429/503 Retry-After).
    Retry {
        /// How long the receiver asked to wait, if it did.
        after: Option<Duration>,
        /// One sentence: what failed.
        error: String,
    },
}

/// One attempt to deliver `n` over `channel`, taking at most about `timeout`.
pub fn deliver(channel: &Channel, n: &Notification, timeout: Duration) -> Attempt {
    match &channel.kind {
        ChannelKind::Webhook(w) => webhook::post(w, n, timeout),
        ChannelKind::Email(e) => email::send(e, n, timeout),
    }
}

/// What `channel` would send for `n`, as a person reads it: a webhook's body as rendered
/// by its template, an e-mail's subject.
pub fn preview(channel: &Channel, n: &Notification) -> Result<String, String> {
    match &channel.kind {
        ChannelKind::Webhook(w) => w.template.render(n).map(|(_, body)| body),
        ChannelKind::Email(e) => Ok(format!(
            "e-mail to {}: {}: {}",
            e.to.join(", "),
            n.title(),
            n.summary
        )),
    }
}
