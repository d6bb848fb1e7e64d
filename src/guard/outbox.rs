//! From findings to episodes and notifications, and delivering the outbox (docs/ALERTS.md,
//! "Never lost, never flooded").
//!
//! A finding whose rule and subject has no open episode opens one, with one notification
//! per channel of the rule; an open episode that no finding matches any more is resolved,
//! with one notification each. Both are written with the episode in one transaction
//! ([`Store::apply_alerts`]). Delivery takes the oldest pending notification of each channel
//! and rule, so a rule's notifications arrive in order; a failed one is retried with
//! exponential backoff and jitter (at least what `Retry-After` asked), and dead-lettered
//! once older than `dead_letter_after`.

use std::collections::BTreeSet;

use seatmeter_alerts::{Alerting, Attempt, Condition, Notification, Rule, State};
use seatmeter_core::Nanos;
use seatmeter_store::alerts::{AlertChange, Attempted, Episode, NewNotification, OutboxEntry};
use seatmeter_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use super::check::Finding;

/// The idempotency key of one notification: the same episode's same state on the same
/// channel always has the same key, whoever writes it.
pub fn notification_key(
    site: &str,
    rule: &str,
    subject: &str,
    opened_at: Nanos,
    state: &str,
    channel: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [site, rule, subject, &opened_at.to_string(), state, channel] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    d[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc3339(t: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What changes given the findings of this check and the episodes open before it. Rules
/// in `skipped` were not checked this time (their inputs were missing): their episodes
/// stay as they are.
pub fn changes(
    rules: &[Rule],
    findings: &[Finding],
    open: &[Episode],
    skipped: &BTreeSet<String>,
    site: &str,
    at: Nanos,
) -> Vec<AlertChange> {
    let mut out = Vec::new();
    for rule in rules {
        if skipped.contains(&rule.name) {
            continue;
        }
        let open: Vec<&Episode> = open.iter().filter(|e| e.rule == rule.name).collect();
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule.name).collect();
        let mut closed: BTreeSet<&str> = BTreeSet::new();
        for f in &mine {
            if open.iter().any(|e| e.subject == f.subject) {
                continue;
            }
            // A new level of the same family replaces the open one without a word.
            if let Some(family) = &f.family {
                for e in open
                    .iter()
                    .filter(|e| e.subject.starts_with(&format!("{family}|")))
                {
                    closed.insert(&e.subject);
                    out.push(closing(rule, e, Vec::new()));
                }
            }
            let n = Notification {
                key: String::new(),
                rule: rule.name.clone(),
                condition: rule.condition.name().to_string(),
                state: State::Fired,
                scope: if f.tenant.is_some() {
                    "tenant"
                } else {
                    "system"
                }
                .into(),
                tenant: f.tenant.clone(),
                item: f.item.clone(),
                summary: f.summary.clone(),
                details: f.details.clone(),
                at: rfc3339(at),
                site: site.to_string(),
            };
            out.push(AlertChange {
                rule: rule.name.clone(),
                subject: f.subject.clone(),
                fire: true,
                summary: f.summary.clone(),
                details: f.details.to_string(),
                notify: notifications(rule, &n, &f.subject, at, "fired"),
            });
        }
        for e in open {
            if closed.contains(e.subject.as_str()) || mine.iter().any(|f| f.subject == e.subject) {
                continue;
            }
            let details: serde_json::Value =
                serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
            let n = Notification {
                key: String::new(),
                rule: rule.name.clone(),
                condition: rule.condition.name().to_string(),
                state: State::Resolved,
                scope: if tenant_of(&e.subject).is_some() {
                    "tenant"
                } else {
                    "system"
                }
                .into(),
                tenant: tenant_of(&e.subject),
                item: item_of(&e.subject),
                summary: format!("resolved: {}", e.summary),
                details,
                at: rfc3339(at),
                site: site.to_string(),
            };
            // A restatement is an event: it has no end to announce.
            let notify = if rule.condition == Condition::Restated {
                Vec::new()
            } else {
                notifications(rule, &n, &e.subject, e.opened_at, "resolved")
            };
            out.push(closing(rule, e, notify));
        }
    }
    out
}

/// The change that resolves open episode `e`, with its notifications.
fn closing(rule: &Rule, e: &Episode, notify: Vec<NewNotification>) -> AlertChange {
    AlertChange {
        rule: rule.name.clone(),
        subject: e.subject.clone(),
        fire: false,
        summary: e.summary.clone(),
        details: e.details.clone(),
        notify,
    }
}

/// The item a subject names (`tenant=acme|E-Mail|…`, `system|E-Mail|…`, or the feature of
/// `expiry|vendor|FEATURE|tenant|…`), if any.
fn item_of(subject: &str) -> Option<String> {
    let parts: Vec<&str> = subject.split('|').collect();
    let item = match parts[0] {
        "expiry" => parts.get(2),
        "system" => parts.get(1),
        p if p.starts_with("tenant=") => parts.get(1),
        _ => None,
    };
    item.filter(|s| !s.is_empty()).map(|s| s.to_string())
}

/// The tenant a subject names (`tenant=acme|E-Mail`, or `expiry|vendor|feature|acme|…`).
fn tenant_of(subject: &str) -> Option<String> {
    let parts: Vec<&str> = subject.split('|').collect();
    match parts[0] {
        "expiry" => parts.get(3).filter(|t| **t != "-").map(|t| t.to_string()),
        p => p.strip_prefix("tenant=").map(str::to_string),
    }
}

fn notifications(
    rule: &Rule,
    n: &Notification,
    subject: &str,
    opened_at: Nanos,
    state: &str,
) -> Vec<NewNotification> {
    rule.channels
        .iter()
        .map(|c| {
            let key = notification_key(&n.site, &rule.name, subject, opened_at, state, c);
            let mut n = n.clone();
            n.key = key.clone();
            NewNotification {
                key,
                channel: c.clone(),
                payload: serde_json::to_string(&n).expect("a notification serializes"),
            }
        })
        .collect()
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// (channel, key) of each notification a channel took.
    pub delivered: Vec<(String, String)>,
    /// (channel, key, error) of each failed attempt.
    pub failed: Vec<(String, String, String)>,
    /// Keys dead-lettered this round.
    pub dead: Vec<String>,
}

/// At most this many attempts in one round (the rest wait for the next).
const ROUND_ATTEMPTS: usize = 10_000;

/// Attempts every notification that is due at `now` and records each attempt: the oldest
/// pending one of each channel and rule, then, after each one delivered, the next of its
/// rule — so a receiver back after an hour gets the whole backlog in one round, in order,
/// and a receiver that fails is attempted once per round.
pub fn deliver_due(
    store: &mut dyn Store,
    alerting: &Alerting,
    now: &dyn Fn() -> Nanos,
) -> Result<Delivered, StoreError> {
    let mut round = Delivered::default();
    loop {
        let due = store.outbox_due(now())?;
        let before = round.delivered.len();
        let attempts = round.delivered.len() + round.failed.len();
        if due.is_empty() || attempts >= ROUND_ATTEMPTS {
            break;
        }
        attempt_each(store, alerting, now, due, &mut round)?;
        if round.delivered.len() == before {
            break;
        }
    }
    Ok(round)
}

fn attempt_each(
    store: &mut dyn Store,
    alerting: &Alerting,
    now: &dyn Fn() -> Nanos,
    due: Vec<OutboxEntry>,
    round: &mut Delivered,
) -> Result<(), StoreError> {
    for e in due {
        let attempt = attempt(alerting, &e, now());
        let at = now();
        let recorded = match attempt {
            Ok(()) => {
                round.delivered.push((e.channel.clone(), e.key.clone()));
                Attempted::Delivered
            }
            Err((error, retry_after)) => {
                round
                    .failed
                    .push((e.channel.clone(), e.key.clone(), error.clone()));
                let age = at - e.created_at;
                if age >= alerting.dead_letter_after.as_nanos() as Nanos {
                    round.dead.push(e.key.clone());
                    Attempted::Dead { error }
                } else {
                    let delay = seatmeter_alerts::next_delay(
                        e.attempts + 1,
                        retry_after,
                        alerting.retry_base,
                        alerting.retry_max,
                        e.id as u64,
                    );
                    Attempted::Retry {
                        next_at: at + delay.as_nanos() as Nanos,
                        error,
                    }
                }
            }
        };
        store.outbox_record(e.id, &recorded, at)?;
    }
    Ok(())
}

/// One attempt: Ok, or the error and the wait the receiver asked for.
fn attempt(
    alerting: &Alerting,
    e: &OutboxEntry,
    _now: Nanos,
) -> Result<(), (String, Option<std::time::Duration>)> {
    let Some(channel) = alerting.channels.iter().find(|c| c.name == e.channel) else {
        return Err((
            format!("no channel {:?} in the configuration any more", e.channel),
            None,
        ));
    };
    let n: Notification = serde_json::from_str(&e.payload).map_err(|err| {
        (
            format!("the stored notification does not read: {err}"),
            None,
        )
    })?;
    match seatmeter_alerts::deliver(channel, &n, alerting.timeout) {
        Attempt::Delivered => Ok(()),
        Attempt::Retry { after, error } => Err((error, after)),
    }
}

#[cfg(test)]
mod tests;
