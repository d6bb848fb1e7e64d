//! Webhook bodies (docs/ALERTS.md, "Templates"): the notification as JSON, a Slack- or a
//! Teams-style incoming-webhook message, or a body of one's own with placeholders.

use serde_json::json;

use crate::Notification;

/// How a webhook's body is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// The notification itself (docs/ALERTS.md, "Payload").
    Json,
    /// `{"text": …}`: Slack, Mattermost, Rocket.Chat and Google Chat incoming webhooks.
    Slack,
    /// A message with an Adaptive Card: Microsoft Teams' Workflows incoming webhooks.
    Teams,
    /// A body of one's own: `{{field}}` placeholders replaced by the notification's fields
    /// (escaped for JSON when the content type is JSON).
    Custom {
        /// The text with placeholders.
        body: String,
        /// Its Content-Type (default `application/json`).
        content_type: String,
    },
}

/// The placeholders of a custom template.
pub const PLACEHOLDERS: [&str; 12] = [
    "key",
    "rule",
    "condition",
    "state",
    "scope",
    "tenant",
    "item",
    "summary",
    "details",
    "at",
    "site",
    "title",
];

impl Template {
    /// The body and its content type for `n`, or why it does not render.
    pub fn render(&self, n: &Notification) -> Result<(String, String), String> {
        let text = format!("{}: {}", n.title(), n.summary);
        let json_type = "application/json".to_string();
        match self {
            Template::Json => Ok((
                json_type,
                serde_json::to_string(n).map_err(|e| e.to_string())?,
            )),
            Template::Slack => Ok((json_type, json!({ "text": text }).to_string())),
            Template::Teams => {
                let card = json!({
                    "type": "message",
                    "attachments": [{
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": {
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard",
                            "version": "1.4",
                            "body": [
                                {"type": "TextBlock", "text": n.title(), "weight": "Bolder", "wrap": true},
                                {"type": "TextBlock", "text": n.summary, "wrap": true}
                            ]
                        }
                    }]
                });
                Ok((json_type, card.to_string()))
            }
            Template::Custom { body, content_type } => {
                let is_json = content_type.contains("json");
                let out = custom(body, n, is_json)?;
                if is_json {
                    serde_json::from_str::<serde_json::Value>(&out).map_err(|e| {
                        format!("the body is not JSON once filled in ({e}), but its content type is {content_type}")
                    })?;
                }
                Ok((content_type.clone(), out))
            }
        }
    }
}

/// Fills in `{{field}}`; an unknown or unclosed placeholder is an error.
fn custom(body: &str, n: &Notification, escape_json: bool) -> Result<String, String> {
    let mut out = String::with_capacity(body.len() + 256);
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            format!(
                "a {{{{ without its }}}} at byte {}",
                body.len() - rest.len() + open
            )
        })?;
        let name = after[..close].trim();
        let value = match name {
            "key" => n.key.clone(),
            "rule" => n.rule.clone(),
            "condition" => n.condition.clone(),
            "state" => n.state.name().to_string(),
            "scope" => n.scope.clone(),
            "tenant" => n.tenant.clone().unwrap_or_default(),
            "item" => n.item.clone().unwrap_or_default(),
            "summary" => n.summary.clone(),
            "details" => n.details.to_string(),
            "at" => n.at.clone(),
            "site" => n.site.clone(),
            "title" => n.title(),
            other => {
                return Err(format!(
                    "unknown placeholder {{{{{other}}}}}; the placeholders are {}",
                    PLACEHOLDERS.join(", ")
                ));
            }
        };
        if escape_json && name != "details" {
            let quoted = serde_json::to_string(&value).expect("a string serializes");
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            out.push_str(&value);
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_and_a_bad_custom_one_says_why() {
        let mut n = Notification::sample();
        n.summary = "a \"quoted\" summary".into();
        let (ct, body) = Template::Json.render(&n).unwrap();
        assert_eq!(ct, "application/json");
        assert_eq!(serde_json::from_str::<Notification>(&body).unwrap(), n);
        let (_, slack) = Template::Slack.render(&n).unwrap();
        let v: serde_json::Value = serde_json::from_str(&slack).unwrap();
        assert_eq!(
            v["text"],
            "[seatmeter example] FIRED over-use: a \"quoted\" summary"
        );
        let (_, teams) = Template::Teams.render(&n).unwrap();
        let v: serde_json::Value = serde_json::from_str(&teams).unwrap();
        assert_eq!(
            v["attachments"][0]["content"]["body"][1]["text"],
            "a \"quoted\" summary"
        );
        let custom = Template::Custom {
            body: r#"{"msg": "{{ summary }}", "d": {{details}}, "t": "{{tenant}}"}"#.into(),
            content_type: "application/json".into(),
        };
        let (_, c) = custom.render(&n).unwrap();
        let v: serde_json::Value = serde_json::from_str(&c).unwrap();
        assert_eq!(v["msg"], "a \"quoted\" summary");
        assert_eq!(v["d"]["entitled"], 25);
        assert_eq!(v["t"], "acme");
        let plain = Template::Custom {
            body: "{{state}} {{rule}}".into(),
            content_type: "text/plain".into(),
        };
        assert_eq!(plain.render(&n).unwrap().1, "fired over-use");
        let unknown = Template::Custom {
            body: "{{sumary}}".into(),
            content_type: "text/plain".into(),
        };
        assert!(
            unknown
                .render(&n)
                .unwrap_err()
                .contains("unknown placeholder {{sumary}}")
        );
        let unclosed = Template::Custom {
            body: "x {{rule".into(),
            content_type: "text/plain".into(),
        };
        assert!(unclosed.render(&n).unwrap_err().contains("without its }}"));
        let not_json = Template::Custom {
            body: "{\"a\": {{summary}}}".into(),
            content_type: "application/json".into(),
        };
        assert!(not_json.render(&n).unwrap_err().contains("not JSON"));
    }
}
