//! Right-sizing recommendations and the decision log (docs/FINOPS.md, "Decisions on the
//! record"). A decision is one append-only entry, chained to the one before by SHA-256 and
//! written in the transaction that changes the recommendation's status, so a crash leaves
//! either both or neither; the database's triggers refuse to change or delete an entry.

use sha2::{Digest, Sha256};

use seatmeter_core::{Day, Nanos};

use crate::StoreError;
use crate::dialect::{Begin, Dialect, Row, params};

/// Where a recommendation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecStatus {
    /// Made by the last proposal run, waiting for a decision.
    Proposed,
    Approved,
    Rejected,
    /// No longer made by the proposal runs since (its data changed), and never decided.
    Superseded,
}

impl RecStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecStatus::Proposed => "proposed",
            RecStatus::Approved => "approved",
            RecStatus::Rejected => "rejected",
            RecStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Result<RecStatus, StoreError> {
        Ok(match s {
            "proposed" => RecStatus::Proposed,
            "approved" => RecStatus::Approved,
            "rejected" => RecStatus::Rejected,
            "superseded" => RecStatus::Superseded,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "unknown recommendation status {s:?}"
                )));
            }
        })
    }
}

/// A recommendation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// Stable: the same proposal made again keeps its id.
    pub id: String,
    /// `reclaim`, `downgrade` or `renewal`.
    pub kind: String,
    /// Empty for a site-wide recommendation (a renewal of the system's entitlement).
    pub tenant: String,
    pub agent: String,
    pub item: String,
    /// What it proposes, in words ("reclaim E-Mail from a17: no use in 52 days").
    pub summary: String,
    /// Everything else, as JSON (reason, tiers, seats, prices).
    pub detail: String,
    /// Monthly saving in minor units (negative: a cost, e.g. seats to add).
    pub saving: i64,
    /// Digest of the data it was made from: a rejected one is proposed again when it changes.
    pub data_fp: String,
    pub status: RecStatus,
    /// The last day of data it was made from.
    pub as_of: Day,
    pub proposed_at: Nanos,
    pub decided_at: Option<Nanos>,
}

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// 1, 2, 3 … without gaps.
    pub seq: u64,
    pub at: Nanos,
    pub recommendation: String,
    /// `approved` or `rejected`.
    pub action: String,
    pub by: String,
    pub reason: String,
    /// The recommendation's summary when decided, so the log reads on its own.
    pub what: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The hash of an entry: SHA-256 of the previous entry's hash followed by the entry's
/// fields, each as UTF-8 text ended by a line feed (docs/FINOPS.md gives the recipe, so an
/// auditor can check an exported log with any tool).
pub fn decision_hash(d: &Decision) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(d.prev_hash);
    for field in [
        d.seq.to_string(),
        d.at.to_string(),
        d.recommendation.clone(),
        d.action.clone(),
        d.by.clone(),
        d.reason.clone(),
        d.what.clone(),
    ] {
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    h.finalize().into()
}

/// Checks a whole log: entries numbered 1, 2, … each chained to the one before (the first
/// to 32 zero bytes) and carrying its own hash. Names the first entry that fails.
pub fn verify_chain(log: &[Decision]) -> Result<(), String> {
    let mut prev = [0u8; 32];
    for (i, d) in log.iter().enumerate() {
        let want = i as u64 + 1;
        if d.seq != want {
            return Err(format!(
                "entry {want} is missing (the next entry is number {})",
                d.seq
            ));
        }
        if d.prev_hash != prev {
            return Err(format!(
                "entry {}: it does not follow entry {} (its previous hash differs)",
                d.seq,
                d.seq - 1
            ));
        }
        if decision_hash(d) != d.hash {
            return Err(format!(
                "entry {}: its contents do not match its hash (it was changed after it was written)",
                d.seq
            ));
        }
        prev = d.hash;
    }
    Ok(())
}

const REC_COLUMNS: &str = "id, kind, tenant, agent, item, summary, detail, saving, data_fp, status, as_of, proposed_at, decided_at";

fn rec_of(r: &Row) -> Result<Recommendation, StoreError> {
    Ok(Recommendation {
        id: r.text(0)?,
        kind: r.text(1)?,
        tenant: r.text(2)?,
        agent: r.text(3)?,
        item: r.text(4)?,
        summary: r.text(5)?,
        detail: r.text(6)?,
        saving: r.i64(7)?,
        data_fp: r.text(8)?,
        status: RecStatus::parse(&r.text(9)?)?,
        as_of: r.i32(10)?,
        proposed_at: r.i64(11)?,
        decided_at: r.opt_i64(12)?,
    })
}

fn hash_of(r: &Row, i: usize) -> Result<[u8; 32], StoreError> {
    r.blob(i)?
        .try_into()
        .map_err(|_| StoreError::Corrupt("a decision's hash is not 32 bytes".into()))
}

pub(crate) fn recommendations<D: Dialect>(d: &mut D) -> Result<Vec<Recommendation>, StoreError> {
    d.query(
        &format!("SELECT {REC_COLUMNS} FROM recommendation ORDER BY id"),
        &[],
    )?
    .iter()
    .map(rec_of)
    .collect()
}

/// Writes a proposal run's recommendations (new ones, and ones whose status or contents
/// changed) in one transaction. A decided recommendation's status is never changed here
/// except from rejected back to proposed (the caller decides when).
pub(crate) fn put_recommendations<D: Dialect>(
    d: &mut D,
    rows: &[Recommendation],
) -> Result<(), StoreError> {
    d.set_durable(true)?;
    d.transaction(Begin::Write, |d| {
        for r in rows {
            d.execute(
                &format!(
                    "INSERT INTO recommendation ({REC_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, detail = excluded.detail,
                     saving = excluded.saving, data_fp = excluded.data_fp, status = excluded.status,
                     as_of = excluded.as_of, proposed_at = excluded.proposed_at, decided_at = excluded.decided_at"
                ),
                params![
                    &r.id,
                    &r.kind,
                    &r.tenant,
                    &r.agent,
                    &r.item,
                    &r.summary,
                    &r.detail,
                    r.saving,
                    &r.data_fp,
                    r.status.as_str(),
                    r.as_of,
                    r.proposed_at,
                    r.decided_at
                ],
            )?;
        }
        Ok(())
    })
}

/// Decides a proposed recommendation: appends the entry (chained to the last) and sets the
/// status, in one durable transaction.
pub(crate) fn decide<D: Dialect>(
    d: &mut D,
    id: &str,
    approve: bool,
    by: &str,
    reason: &str,
    at: Nanos,
) -> Result<Decision, StoreError> {
    if by.trim().is_empty() {
        return Err(StoreError::Other(
            "a decision names who took it (--by NAME)".into(),
        ));
    }
    if !approve && reason.trim().is_empty() {
        return Err(StoreError::Other(
            "a rejection needs a reason (--reason \"…\"): it is kept in the decision log".into(),
        ));
    }
    d.set_durable(true)?;
    d.transaction(Begin::Write, |d| {
        let Some(row) = d.query_row(
            &format!("SELECT {REC_COLUMNS} FROM recommendation WHERE id = $1"),
            params![id],
        )?
        else {
            return Err(StoreError::Other(format!(
                "no recommendation {id}: `seatmeter recommend list` shows them"
            )));
        };
        let rec = rec_of(&row)?;
        if rec.status != RecStatus::Proposed {
            return Err(StoreError::Other(format!(
                "recommendation {id} is {}, not proposed: only a proposed recommendation is decided",
                rec.status.as_str()
            )));
        }
        let last = d.query_row(
            "SELECT seq, hash FROM decision ORDER BY seq DESC LIMIT 1",
            &[],
        )?;
        let (seq, prev_hash) = match last {
            Some(r) => (r.u64(0)? + 1, hash_of(&r, 1)?),
            None => (1, [0u8; 32]),
        };
        let mut entry = Decision {
            seq,
            at,
            recommendation: id.to_string(),
            action: if approve { "approved" } else { "rejected" }.to_string(),
            by: by.to_string(),
            reason: reason.to_string(),
            what: rec.summary.clone(),
            prev_hash,
            hash: [0; 32],
        };
        entry.hash = decision_hash(&entry);
        d.execute(
            "INSERT INTO decision (seq, at, recommendation, action, by_whom, reason, what, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                entry.seq,
                entry.at,
                &entry.recommendation,
                &entry.action,
                &entry.by,
                &entry.reason,
                &entry.what,
                &entry.prev_hash[..],
                &entry.hash[..]
            ],
        )?;
        let status = if approve {
            RecStatus::Approved
        } else {
            RecStatus::Rejected
        };
        d.execute(
            "UPDATE recommendation SET status = $1, decided_at = $2 WHERE id = $3",
            params![status.as_str(), at, id],
        )?;
        Ok(entry)
    })
}

pub(crate) fn decisions<D: Dialect>(d: &mut D) -> Result<Vec<Decision>, StoreError> {
    d.query(
        "SELECT seq, at, recommendation, action, by_whom, reason, what, prev_hash, hash FROM decision ORDER BY seq",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(Decision {
            seq: r.u64(0)?,
            at: r.i64(1)?,
            recommendation: r.text(2)?,
            action: r.text(3)?,
            by: r.text(4)?,
            reason: r.text(5)?,
            what: r.text(6)?,
            prev_hash: hash_of(r, 7)?,
            hash: hash_of(r, 8)?,
        })
    })
    .collect()
}
