//! The notification: what every channel is given (docs/ALERTS.md, "Payload").

use serde::{Deserialize, Serialize};

/// Whether an episode began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The condition began.
    Fired,
    /// It ended.
    Resolved,
}

impl State {
    /// `fired` or `resolved`.
    pub fn name(self) -> &'static str {
        match self {
            State::Fired => "fired",
            State::Resolved => "resolved",
        }
    }
}

/// One notification of one episode's start or end. The webhook's `json` template sends
/// exactly this; `key` is also its `Idempotency-Key` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The same for every attempt of this notification to this channel.
    pub key: String,
    /// The rule's name.
    pub rule: String,
    /// What was found (`over_use`, `baseline_breach`, `utilization_high`, `forecast`, …).
    pub condition: String,
    /// Fired or resolved.
    pub state: State,
    /// `system` or `tenant`.
    pub scope: String,
    /// The tenant, for a tenant's finding.
    pub tenant: Option<String>,
    /// The item (or license feature), when there is one.
    pub item: Option<String>,
    /// One sentence a person reads.
    pub summary: String,
    /// The numbers behind it (differ per condition; see docs/ALERTS.md).
    pub details: serde_json::Value,
    /// When it was raised (RFC 3339, UTC).
    pub at: String,
    /// The site's name.
    pub site: String,
}

impl Notification {
    /// A title: `[seatmeter site] FIRED rule: …` without the summary.
    pub fn title(&self) -> String {
        format!(
            "[seatmeter {}] {} {}",
            self.site,
            self.state.name().to_uppercase(),
            self.rule
        )
    }

    /// A notification with every field filled, for checking templates.
    pub fn sample() -> Notification {
        Notification {
            key: "0123456789abcdef0123456789abcdef".into(),
            rule: "over-use".into(),
            condition: "over_use".into(),
            state: State::Fired,
            scope: "tenant".into(),
            tenant: Some("acme".into()),
            item: Some("Inbound Voice".into()),
            summary: "Inbound Voice of tenant acme: 27 seats in use, 25 entitled".into(),
            details: serde_json::json!({"in_use": 27, "entitled": 25}),
            at: "2026-12-07T09:30:00Z".into(),
            site: "example".into(),
        }
    }
}
