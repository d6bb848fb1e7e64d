//! The store: everything seatmeter keeps (events, snapshots, cursors, rejected lines,
//! rollups), behind one trait. Only this crate knows the schema.
//!
//! Events are kept as columnar chunks (one compact blob per batch and UTC day) with
//! integer ids for tenants, agents, places, groups and media, so a collection writes a
//! few rows however many events it holds. A chunk and the collector's cursor are written
//! in one transaction.
//!
//! The store is written once ([`sql`], [`ingest`]) over a narrow [`dialect::Dialect`]: the
//! embedded SQLite file ([`sqlite`]) and PostgreSQL ([`postgres`]) differ only in how they
//! open, run a statement, insert many rows, begin a transaction and measure their size.

pub mod alerts;
pub mod codec;
mod dialect;
mod ingest;
pub mod migrate;
mod postgres;
pub mod reco;
mod restate;
mod schema;
mod sql;
mod sqlite;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use seatmeter_collectors::{Batch, EventKind};
use seatmeter_core::{Day, Nanos, ScopeKind};
use serde::Deserialize;

/// Why the store could not do what was asked. Messages name the database ("SQLite: …",
/// "PostgreSQL: …") but no driver's types.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("{dialect}: {message}")]
    Database {
        dialect: &'static str,
        message: String,
    },
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Schema(String),
    #[error("{0}")]
    Other(String),
    /// The collector's stored cursor is no longer the one its batch was read after.
    #[error(
        "collector {collector}: its cursor moved while it read (another collection stored the same lines)"
    )]
    CursorMoved { collector: String },
}

/// What `Store::ingest_checked` checks of the stored cursor before it stores a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorCheck<'a> {
    Unchecked,
    /// The cursor the batch was read after (None: read from the start).
    Was(Option<&'a str>),
}

/// `[store]`: where seatmeter keeps events, snapshots, cursors and rollups.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The embedded SQLite file (default `seatmeter.db` next to the configuration file).
    pub path: Option<PathBuf>,
    /// A PostgreSQL URL, instead of `path`.
    pub url: Option<String>,
}

impl fmt::Debug for StoreConfig {
    // Never print a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("path", &self.path)
            .field(
                "url",
                &self.url.as_deref().map(seatmeter_core::redact::redact_url),
            )
            .finish()
    }
}

impl StoreConfig {
    /// Where the store is, for messages: the file, or the URL without its password.
    pub fn location(&self) -> String {
        match (&self.url, &self.path) {
            (Some(u), _) => seatmeter_core::redact::redact_url(u),
            (None, Some(p)) => p.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// Opens the store a configuration names, creating and migrating it as needed.
pub fn open(config: &StoreConfig) -> Result<Box<dyn Store>, StoreError> {
    match (&config.url, &config.path) {
        (Some(url), _) => Ok(Box::new(sql::SqlStore::new(postgres::PgDialect::open(
            url,
        )?))),
        (None, Some(path)) => Ok(Box::new(sql::SqlStore::new(sqlite::SqliteDialect::open(
            path,
        )?))),
        (None, None) => Err(StoreError::Other("no store configured".into())),
    }
}

/// An event as stored: ids instead of strings, and its receive sequence number (the
/// order in which it was received, used to order events with equal timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredEvent {
    pub ts: Nanos,
    pub seq: u64,
    pub kind: EventKind,
    pub agent: u32,
    pub place: u32,
    /// Group set id (0: none).
    pub groups: u32,
    /// Media set id (0: none).
    pub media: u32,
}

impl StoredEvent {
    /// Everything but the sequence number: two events with equal keys are duplicates.
    pub fn key(&self) -> (Nanos, EventKind, u32, u32, u32, u32) {
        (
            self.ts,
            self.kind,
            self.agent,
            self.place,
            self.groups,
            self.media,
        )
    }
}

/// The names behind the ids. Index = id; index 0 of each list is a placeholder (or the
/// empty set).
#[derive(Debug, Clone, Default)]
pub struct Dimensions {
    pub tenants: Vec<String>,
    /// (tenant id, agent name)
    pub agents: Vec<(u32, String)>,
    /// (tenant id, group name)
    pub groups: Vec<(u32, String)>,
    /// (tenant id, group name) of the groups of places (docs/SEMANTICS.md, section 11.1):
    /// ids of their own, beside the agents' groups.
    pub place_groups: Vec<(u32, String)>,
    pub media: Vec<String>,
    /// Sorted group ids of each group set.
    pub groupsets: Vec<Vec<u32>>,
    /// Sorted media ids of each media set.
    pub mediasets: Vec<Vec<u32>>,
}

impl Dimensions {
    /// The groups of a group scope: the agents' groups, or the places' groups.
    pub fn groups_of(&self, kind: ScopeKind) -> &[(u32, String)] {
        match kind {
            ScopeKind::PlaceGroup => &self.place_groups,
            _ => &self.groups,
        }
    }

    /// `tenant/group`, as reports write group ids.
    pub fn group_label(&self, kind: ScopeKind, group: u32) -> String {
        let (t, name) = &self.groups_of(kind)[group as usize];
        format!("{}/{}", self.tenants[*t as usize], name)
    }

    /// The groups a group report's `--id` names: one group (`tenant/group`), or every group
    /// of a tenant (its name). Tenant names may hold `/`, so one id can name groups of two
    /// tenants; the report, the tenant boundary and the service all match ids here.
    pub fn groups_named<'a>(
        &'a self,
        kind: ScopeKind,
        id: &'a str,
    ) -> impl Iterator<Item = u32> + 'a {
        let groups = self.groups_of(kind);
        (1..groups.len() as u32)
            .filter(move |&g| !groups[g as usize].1.is_empty())
            .filter(move |&g| {
                self.tenants[groups[g as usize].0 as usize] == id || self.group_label(kind, g) == id
            })
    }

    /// The tenant a group belongs to.
    pub fn tenant_of_group(&self, kind: ScopeKind, group: u32) -> &str {
        &self.tenants[self.groups_of(kind)[group as usize].0 as usize]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: u32,
    pub taken: Nanos,
    pub source: String,
    pub collector: String,
    pub agents: u64,
}

/// A place of a snapshot: in tenant `tenant`, a login at place `place` brings the place
/// groups of set `groups` (a group set whose members are place-group ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPlaceRow {
    pub tenant: u32,
    pub place: u32,
    pub groups: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotAgentRow {
    pub agent: u32,
    pub enabled: bool,
    pub media: u32,
    pub groups: u32,
    /// Its tags, as the snapshot wrote them (docs/FINOPS.md).
    pub tags: Vec<String>,
    /// Its license tier, if the snapshot names one.
    pub tier: Option<String>,
}

/// What one ingest stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub events: u64,
    pub duplicates: u64,
    pub snapshots: u64,
    pub duplicate_snapshots: u64,
    pub rejects: u64,
}

impl std::ops::AddAssign for IngestStats {
    fn add_assign(&mut self, o: IngestStats) {
        self.events += o.events;
        self.duplicates += o.duplicates;
        self.snapshots += o.snapshots;
        self.duplicate_snapshots += o.duplicate_snapshots;
        self.rejects += o.rejects;
    }
}

/// A scope as stored: the system (id 0), a tenant id or a group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub kind: ScopeKind,
    pub id: u32,
}

impl Scope {
    pub const SYSTEM: Scope = Scope {
        kind: ScopeKind::System,
        id: 0,
    };
}

pub fn scope_kind_code(k: ScopeKind) -> i64 {
    match k {
        ScopeKind::System => 0,
        ScopeKind::Tenant => 1,
        ScopeKind::Group => 2,
        ScopeKind::PlaceGroup => 3,
    }
}

pub fn scope_kind_from_code(c: i64) -> Result<ScopeKind, StoreError> {
    match c {
        0 => Ok(ScopeKind::System),
        1 => Ok(ScopeKind::Tenant),
        2 => Ok(ScopeKind::Group),
        3 => Ok(ScopeKind::PlaceGroup),
        _ => Err(StoreError::Corrupt(format!("unknown scope kind {c}"))),
    }
}

/// The rollup of one local day, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRecord {
    pub day: Day,
    /// Digest of what the day started from (logged-in agents, snapshot in force): when it
    /// is unchanged and the day has no new data, the day need not be rolled up again.
    pub start_fp: [u8; 32],
    /// The agents logged in when the day ends, for the next day (rollup's own encoding).
    pub end_state: Vec<u8>,
    pub events: u64,
    pub sessions: u64,
    pub stray_logouts: u64,
    /// Each agent's activity of the day, agents ascending (written with the day; not read
    /// back by [`Store::day_record`], see [`Store::activity`]).
    /// (encoded by [`codec::ActivityEncoder`]; empty for none)
    pub activity: Vec<u8>,
}

/// One agent's activity on one local day, kept by the rollup with the day's peaks
/// (docs/SEMANTICS.md, "Agent activity"). Times are nanoseconds inside the day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentActivity {
    pub agent: u32,
    /// The first and the last login event of the day (None: the agent was logged in only
    /// from the day before).
    pub first_login: Option<Nanos>,
    pub last_login: Option<Nanos>,
    /// Time logged in during the day.
    pub logged: Nanos,
    /// Time holding a seat of each item: (item index, time), items ascending.
    pub items: Vec<(u32, Nanos)>,
    /// Time logged in with each media word: (media id, time), ids ascending.
    pub media: Vec<(u32, Nanos)>,
    /// Its sessions that ended this day and lasted more than eight hours: (login, logout);
    /// the login may be on an earlier day.
    pub long: Vec<(Nanos, Nanos)>,
}

/// The 10-minute values of one item in one scope on one day. Scopes and items whose
/// values are all zero are not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRecord {
    pub scope: Scope,
    pub item: u16,
    /// Peak concurrent seats of each 10-minute period (empty when only summaries were read).
    pub peaks: Vec<u32>,
    /// Enabled seats of each 10-minute period (0 where no snapshot was in force yet).
    pub enabled: Vec<u32>,
    pub day_peak: u32,
    pub day_enabled: u32,
    /// Seats in use when the day ends, and enabled seats then: the values of every later
    /// day that has no data of its own.
    pub end_level: u32,
    pub end_enabled: u32,
    /// When the day's peak was first reached: seconds after the day's start (None for a
    /// day rolled up before this was kept).
    pub day_peak_at: Option<u32>,
    /// When each 10-minute period's peak was first reached: seconds after the period's
    /// start (empty when only summaries were read, or for a day rolled up before this).
    pub peak_at: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// A logout of an agent that was not logged in.
    StrayLogout,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::StrayLogout => "stray logout",
        }
    }

    /// Reads what [`AnomalyKind::as_str`] wrote (the only kind so far).
    pub fn parse(_s: &str) -> AnomalyKind {
        AnomalyKind::StrayLogout
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub ts: Nanos,
    pub agent: u32,
    pub kind: AnomalyKind,
}

/// State the rollup keeps between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupMeta {
    /// What the last rollup depended on (the configuration's rollup fingerprint).
    pub fingerprint: Option<String>,
    /// When the first configuration snapshot was taken: before it, enabled seats are empty.
    pub first_snapshot: Option<Nanos>,
    /// Days before this one lost their raw events to retention: their rollups are final.
    pub frozen_before: Option<Day>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReject {
    pub collector: String,
    pub source: String,
    pub line: u64,
    pub reason: String,
    pub text: String,
    pub at: Nanos,
    /// The tenant the line names, when it can be read from it.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectorStatus {
    pub name: String,
    pub kind: String,
    pub last_success: Option<Nanos>,
    pub last_error: Option<(Nanos, String)>,
    pub runs: u64,
    pub failures: u64,
    pub events: u64,
    pub duplicates: u64,
    pub snapshots: u64,
    pub rejects: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStatus {
    pub location: String,
    pub collectors: Vec<CollectorStatus>,
    pub events: u64,
    pub first_event: Option<Nanos>,
    pub last_event: Option<Nanos>,
    pub snapshots: u64,
    pub rejects: u64,
    pub tenants: u64,
    pub agents: u64,
    pub groups: u64,
    /// UTC days with data that the rollup has not taken in yet.
    pub pending_days: u64,
    /// Values of days already rolled up that changed when they were rolled up again.
    pub restatements: u64,
    /// When the last of them was recorded.
    pub last_restatement: Option<Nanos>,
    pub rolled: Option<(Day, Day)>,
    pub size_bytes: u64,
}

/// A day already rolled up whose values changed when it was rolled up again (late data):
/// what a report or bill made before showed, and what it shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restatement {
    pub day: Day,
    pub scope: Scope,
    pub item: u16,
    pub old_peak: u32,
    pub new_peak: u32,
    pub old_enabled: u32,
    pub new_enabled: u32,
    /// When it was rolled up again.
    pub at: Nanos,
}

/// Per-day counts kept by the rollup, for report coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySummary {
    pub day: Day,
    pub events: u64,
    pub sessions: u64,
    pub stray_logouts: u64,
}

/// Everything seatmeter keeps. One implementation per database.
pub trait Store: Send {
    /// Where the store is, for messages (a file path, or a URL without its password).
    fn location(&self) -> String;

    // --- collection ---------------------------------------------------------------

    fn cursor(&mut self, collector: &str) -> Result<Option<String>, StoreError>;

    /// Stores a batch and the collector's cursor after it, in one transaction. Exact
    /// duplicates of stored events (and snapshots) are not stored again. With
    /// `CursorCheck::Was`, the stored cursor must still be the one the batch was read
    /// after, checked under the writers' lock: when another collection (a concurrent one,
    /// or one killed while its commit still ran in the server) moved it meanwhile, nothing
    /// is stored and the answer is `StoreError::CursorMoved`, so that the caller reads on
    /// from the stored cursor instead of storing lines twice.
    fn ingest_checked(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        check: CursorCheck<'_>,
        cursor: &str,
    ) -> Result<IngestStats, StoreError>;

    /// `ingest_checked` without the check, for a caller that owns the store alone (tests,
    /// tools).
    fn ingest(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        self.ingest_checked(collector, kind, batch, CursorCheck::Unchecked, cursor)
    }

    /// Records the outcome of one collection run (error None: success).
    fn record_run(
        &mut self,
        collector: &str,
        kind: &str,
        at: Nanos,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Forgets a collector's cursor, so that its source is read again from the start.
    fn reset_cursor(&mut self, collector: &str) -> Result<bool, StoreError>;

    // --- reading --------------------------------------------------------------------

    fn dimensions(&mut self) -> Result<Dimensions, StoreError>;

    /// The dimensions that name report scopes: tenants, agent groups and place groups;
    /// no agents, media or sets (a report of 100,000 agents need not read their names).
    fn scope_names(&mut self) -> Result<Dimensions, StoreError>;

    /// The first and last event instants.
    fn event_span(&mut self) -> Result<Option<(Nanos, Nanos)>, StoreError>;

    /// The events of one UTC day (days since 1970-01-01), in any order.
    fn events_on_utc_day(&mut self, day: i64) -> Result<Vec<StoredEvent>, StoreError>;

    /// All snapshots, ordered by (taken, id).
    fn snapshots(&mut self) -> Result<Vec<SnapshotInfo>, StoreError>;

    fn snapshot_agents(&mut self, id: u32) -> Result<Vec<SnapshotAgentRow>, StoreError> {
        Ok(self.snapshot_rows(id)?.0)
    }

    /// A snapshot's agents and its places.
    fn snapshot_rows(
        &mut self,
        id: u32,
    ) -> Result<(Vec<SnapshotAgentRow>, Vec<SnapshotPlaceRow>), StoreError>;

    fn rejects(&mut self, limit: Option<u64>) -> Result<Vec<StoredReject>, StoreError>;

    /// The first `limit` lines kept aside that name `tenant`, and how many there are.
    fn tenant_rejects(
        &mut self,
        tenant: &str,
        limit: u64,
    ) -> Result<(Vec<StoredReject>, u64), StoreError>;

    // --- rollup ---------------------------------------------------------------------

    /// UTC days (days since 1970-01-01) that received data not yet rolled up, and a
    /// watermark to pass to [`Store::finish_rollup`].
    fn dirty_days(&mut self) -> Result<(Vec<i64>, u64), StoreError>;

    fn rollup_meta(&mut self) -> Result<RollupMeta, StoreError>;

    fn day_record(&mut self, day: Day) -> Result<Option<DayRecord>, StoreError>;

    /// Each rolled-up day's agent activity, of the days from `from` to `to`, ascending.
    fn activity(
        &mut self,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, Vec<AgentActivity>)>, StoreError>;

    /// The same activity, one agent of one day at a time, days ascending, without holding
    /// more than a day's blob: what reports over long windows use.
    fn activity_each(
        &mut self,
        from: Day,
        to: Day,
        each: &mut dyn FnMut(Day, &AgentActivity) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Replaces the rollup of one day (its peaks, anomalies and agent activity), in one
    /// transaction.
    fn write_day(
        &mut self,
        record: &DayRecord,
        slots: &[SlotRecord],
        anomalies: &[Anomaly],
    ) -> Result<(), StoreError>;

    /// Saves the rollup state and forgets the dirty marks set before `watermark` was read
    /// (their sequence number is lower).
    fn finish_rollup(&mut self, meta: &RollupMeta, watermark: u64) -> Result<(), StoreError>;

    /// Deletes every rollup (the time zone or the items changed).
    fn reset_rollups(&mut self) -> Result<(), StoreError>;

    /// Deletes the raw events of instants before `t` (retention), and records that the
    /// days before `day` are final. Returns how many events were deleted.
    fn purge_events_before(&mut self, t: Nanos, day: Day) -> Result<u64, StoreError>;

    /// The first and last rolled-up days.
    fn rolled_days(&mut self) -> Result<Option<(Day, Day)>, StoreError>;

    // --- reports --------------------------------------------------------------------

    /// The stored values of one scope on days `from..=to`, ordered by day then item. With
    /// `detail` false, the 10-minute arrays are left empty.
    fn scope_days(
        &mut self,
        scope: Scope,
        from: Day,
        to: Day,
        detail: bool,
    ) -> Result<Vec<(Day, SlotRecord)>, StoreError>;

    fn day_summaries(&mut self, from: Day, to: Day) -> Result<Vec<DaySummary>, StoreError>;

    /// The restatements of days `from..=to`, by day, scope and item, oldest first.
    fn restatements(&mut self, from: Day, to: Day) -> Result<Vec<Restatement>, StoreError>;

    fn anomalies(&mut self, from: Day, to: Day) -> Result<Vec<(Day, Anomaly)>, StoreError>;

    fn status(&mut self) -> Result<StoreStatus, StoreError>;

    // --- right-sizing (docs/FINOPS.md) -------------------------------------------------

    /// Every recommendation, by id.
    fn recommendations(&mut self) -> Result<Vec<reco::Recommendation>, StoreError>;

    /// Writes a proposal run's new and changed recommendations, in one transaction.
    fn put_recommendations(&mut self, rows: &[reco::Recommendation]) -> Result<(), StoreError>;

    /// Approves or rejects a proposed recommendation: the decision log's new entry and the
    /// status, in one durable transaction. Refuses an unknown or already decided id, a
    /// decision without `by`, and a rejection without a reason.
    fn decide(
        &mut self,
        id: &str,
        approve: bool,
        by: &str,
        reason: &str,
        at: Nanos,
    ) -> Result<reco::Decision, StoreError>;

    /// The decision log, oldest first.
    fn decisions(&mut self) -> Result<Vec<reco::Decision>, StoreError>;

    // --- alerts (docs/ALERTS.md) -------------------------------------------------------

    /// Opens and resolves alert episodes and writes their notifications to the outbox, in
    /// one durable transaction; returns the episodes that changed.
    fn apply_alerts(
        &mut self,
        changes: &[alerts::AlertChange],
        at: Nanos,
    ) -> Result<Vec<alerts::Episode>, StoreError>;

    /// The alert episodes, oldest first (only the open ones with `open_only`).
    fn alert_episodes(&mut self, open_only: bool) -> Result<Vec<alerts::Episode>, StoreError>;

    /// Every notification of the outbox, in the order written.
    fn outbox(&mut self) -> Result<Vec<alerts::OutboxEntry>, StoreError>;

    /// The notifications to attempt now: the oldest pending one of each channel and rule,
    /// when due.
    fn outbox_due(&mut self, now: Nanos) -> Result<Vec<alerts::OutboxEntry>, StoreError>;

    /// Records one attempt at a pending notification.
    fn outbox_record(
        &mut self,
        id: i64,
        attempt: &alerts::Attempted,
        at: Nanos,
    ) -> Result<(), StoreError>;

    /// Dead notifications back to pending (one, or all with None); how many.
    fn outbox_retry(&mut self, id: Option<i64>, at: Nanos) -> Result<u64, StoreError>;

    /// Acknowledges a dead or pending notification (it is not sent); whether there was one.
    fn outbox_acknowledge(&mut self, id: i64, at: Nanos) -> Result<bool, StoreError>;

    /// Writes (and commits) a row of no consequence: whether the store takes writes now
    /// (a full disk, a read-only file, a database that refuses them).
    fn probe_write(&mut self, at: Nanos) -> Result<(), StoreError>;
}
