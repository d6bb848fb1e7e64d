//! Alert episodes and the notification outbox (docs/ALERTS.md, "Never lost, never
//! flooded").
//!
//! An episode is one stretch of time during which a rule's condition holds for one subject
//! (an item of a tenant, a license feature, a collector): opened by the check that first
//! finds it, resolved by the first check that finds it gone. Each opening and each
//! resolution puts one notification per channel into the outbox, in the same transaction,
//! so a crash leaves the episode and its notifications together or neither. A notification
//! leaves the `pending` state only when a channel took it (`delivered`) or after the
//! dead-letter time (`dead`); its key is unique, so writing it twice keeps one.

use seatmeter_core::Nanos;

use crate::StoreError;
use crate::dialect::{Begin, Dialect, Row, params};

/// One episode of a rule's condition for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub id: i64,
    pub rule: String,
    /// What the condition is about, as a stable text (`tenant=acme item=E-Mail`).
    pub subject: String,
    pub opened_at: Nanos,
    /// None while open.
    pub resolved_at: Option<Nanos>,
    /// The sentence of the check that opened it.
    pub summary: String,
    /// JSON: the numbers behind it.
    pub details: String,
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutboxState {
    /// Waiting for its channel (first attempt or a retry).
    Pending,
    Delivered,
    /// Given up after the dead-letter time; `seatmeter alerts retry` sends it again.
    Dead,
    /// A dead notification a person has seen and let go (`seatmeter alerts ack`).
    Acknowledged,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
            OutboxState::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Result<OutboxState, StoreError> {
        Ok(match s {
            "pending" => OutboxState::Pending,
            "delivered" => OutboxState::Delivered,
            "dead" => OutboxState::Dead,
            "acknowledged" => OutboxState::Acknowledged,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "unknown notification state {s:?}"
                )));
            }
        })
    }
}

/// One notification in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The order notifications were written in.
    pub id: i64,
    /// The idempotency key receivers de-duplicate on.
    pub key: String,
    pub channel: String,
    pub rule: String,
    pub episode: i64,
    pub state: OutboxState,
    /// The notification, as JSON.
    pub payload: String,
    pub created_at: Nanos,
    /// When the next attempt is due (pending).
    pub next_at: Nanos,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When it was delivered, dead-lettered or acknowledged.
    pub done_at: Option<Nanos>,
}

/// A notification to write with an episode change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub key: String,
    pub channel: String,
    pub payload: String,
}

/// What a check found for one rule and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertChange {
    pub rule: String,
    pub subject: String,
    /// True: the condition holds (opens an episode unless one is open); false: it no
    /// longer holds (resolves the open episode, if any).
    pub fire: bool,
    pub summary: String,
    pub details: String,
    /// The notifications of this change, one per channel of the rule.
    pub notify: Vec<NewNotification>,
}

/// The result of one delivery attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    Delivered,
    /// Failed; try again at `next_at`.
    Retry {
        next_at: Nanos,
        error: String,
    },
    /// Failed past the dead-letter time.
    Dead {
        error: String,
    },
}

const EPISODE_COLUMNS: &str = "id, rule, subject, opened_at, resolved_at, summary, details";
const OUTBOX_COLUMNS: &str = "id, key, channel, rule, episode, state, payload, created_at, next_at, attempts, last_error, done_at";

fn episode_of(r: &Row) -> Result<Episode, StoreError> {
    Ok(Episode {
        id: r.i64(0)?,
        rule: r.text(1)?,
        subject: r.text(2)?,
        opened_at: r.i64(3)?,
        resolved_at: r.opt_i64(4)?,
        summary: r.text(5)?,
        details: r.text(6)?,
    })
}

fn entry_of(r: &Row) -> Result<OutboxEntry, StoreError> {
    Ok(OutboxEntry {
        id: r.i64(0)?,
        key: r.text(1)?,
        channel: r.text(2)?,
        rule: r.text(3)?,
        episode: r.i64(4)?,
        state: OutboxState::parse(&r.text(5)?)?,
        payload: r.text(6)?,
        created_at: r.i64(7)?,
        next_at: r.i64(8)?,
        attempts: r.u64(9)?.min(u32::MAX as u64) as u32,
        last_error: r.opt_text(10)?,
        done_at: r.opt_i64(11)?,
    })
}

/// Applies the changes of one check in one durable transaction: opens and resolves the
/// episodes and writes their notifications. A change that changes nothing (firing what is
/// open, resolving what is not) writes nothing. Returns the episodes opened or resolved.
pub(crate) fn apply<D: Dialect>(
    d: &mut D,
    changes: &[AlertChange],
    at: Nanos,
) -> Result<Vec<Episode>, StoreError> {
    d.set_durable(true)?;
    d.transaction(Begin::Write, |d| {
        let mut done = Vec::new();
        for c in changes {
            let open = d.query_row(
                &format!(
                    "SELECT {EPISODE_COLUMNS} FROM alert_episode WHERE rule = $1 AND subject = $2 AND resolved_at IS NULL"
                ),
                params![&c.rule, &c.subject],
            )?;
            let episode = match (open, c.fire) {
                (Some(_), true) | (None, false) => continue,
                (Some(row), false) => {
                    let mut e = episode_of(&row)?;
                    d.execute(
                        "UPDATE alert_episode SET resolved_at = $1 WHERE id = $2",
                        params![at, e.id],
                    )?;
                    e.resolved_at = Some(at);
                    e
                }
                (None, true) => {
                    d.execute(
                        "INSERT INTO alert_episode (rule, subject, opened_at, summary, details) VALUES ($1, $2, $3, $4, $5)",
                        params![&c.rule, &c.subject, at, &c.summary, &c.details],
                    )?;
                    let row = d
                        .query_row(
                            &format!(
                                "SELECT {EPISODE_COLUMNS} FROM alert_episode WHERE rule = $1 AND subject = $2 AND resolved_at IS NULL"
                            ),
                            params![&c.rule, &c.subject],
                        )?
                        .ok_or_else(|| StoreError::Corrupt("an episode just written is gone".into()))?;
                    episode_of(&row)?
                }
            };
            for n in &c.notify {
                d.execute(
                    "INSERT INTO outbox (key, channel, rule, episode, state, payload, created_at, next_at, attempts)
                     VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6, 0) ON CONFLICT (key) DO NOTHING",
                    params![&n.key, &n.channel, &c.rule, episode.id, &n.payload, at],
                )?;
            }
            done.push(episode);
        }
        Ok(done)
    })
}

pub(crate) fn episodes<D: Dialect>(d: &mut D, open_only: bool) -> Result<Vec<Episode>, StoreError> {
    let filter = if open_only {
        " WHERE resolved_at IS NULL"
    } else {
        ""
    };
    d.query(
        &format!("SELECT {EPISODE_COLUMNS} FROM alert_episode{filter} ORDER BY id"),
        &[],
    )?
    .iter()
    .map(episode_of)
    .collect()
}

pub(crate) fn outbox<D: Dialect>(d: &mut D) -> Result<Vec<OutboxEntry>, StoreError> {
    d.query(
        &format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id"),
        &[],
    )?
    .iter()
    .map(entry_of)
    .collect()
}

/// The notifications to attempt now: of each channel and rule, the oldest pending one, if
/// it is due (so that a rule's notifications reach a channel in the order they were
/// written: a later one waits while an earlier one is retried).
pub(crate) fn due<D: Dialect>(d: &mut D, now: Nanos) -> Result<Vec<OutboxEntry>, StoreError> {
    d.query(
        &format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE o.state = 'pending' AND o.next_at <= $1
             AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.state = 'pending' AND p.channel = o.channel AND p.rule = o.rule)
             ORDER BY o.id"
        ),
        params![now],
    )?
    .iter()
    .map(entry_of)
    .collect()
}

/// Records an attempt on a pending notification (one that is no longer pending, because a
/// person acknowledged it meanwhile, say, is left as it is).
pub(crate) fn record<D: Dialect>(
    d: &mut D,
    id: i64,
    attempt: &Attempted,
    at: Nanos,
) -> Result<(), StoreError> {
    d.set_durable(true)?;
    match attempt {
        Attempted::Delivered => d.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_at = $1 WHERE id = $2 AND state = 'pending'",
            params![at, id],
        )?,
        Attempted::Retry { next_at, error } => d.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3 AND state = 'pending'",
            params![*next_at, error.as_str(), id],
        )?,
        Attempted::Dead { error } => d.execute(
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = $1, done_at = $2 WHERE id = $3 AND state = 'pending'",
            params![error.as_str(), at, id],
        )?,
    };
    Ok(())
}

/// Puts dead notifications back to pending, due now: the one numbered `id`, or all.
/// Returns how many.
pub(crate) fn retry<D: Dialect>(d: &mut D, id: Option<i64>, at: Nanos) -> Result<u64, StoreError> {
    d.set_durable(true)?;
    match id {
        Some(id) => d.execute(
            "UPDATE outbox SET state = 'pending', next_at = $1, done_at = NULL WHERE id = $2 AND state = 'dead'",
            params![at, id],
        ),
        None => d.execute(
            "UPDATE outbox SET state = 'pending', next_at = $1, done_at = NULL WHERE state = 'dead'",
            params![at],
        ),
    }
}

/// Acknowledges a dead or pending notification: it is not sent (again). Returns whether
/// there was one to acknowledge.
pub(crate) fn acknowledge<D: Dialect>(d: &mut D, id: i64, at: Nanos) -> Result<bool, StoreError> {
    d.set_durable(true)?;
    Ok(d.execute(
        "UPDATE outbox SET state = 'acknowledged', done_at = $1 WHERE id = $2 AND state IN ('dead', 'pending')",
        params![at, id],
    )? > 0)
}
