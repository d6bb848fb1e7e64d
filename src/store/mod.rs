//! The store: everything seatmeter keeps (events, snapshots, cursors, rejected lines,
//! rollups), behind one trait. Only this module knows the schema.
//!
//! Events are kept as columnar chunks (one compact blob per batch and UTC day) with
//! integer ids for tenants, agents, places, groups and media, so a collection writes a
//! few rows however many events it holds. A chunk and the collector's cursor are written
//! in one transaction.

pub mod codec;
pub mod migrate;
pub mod postgres;
pub mod sqlite;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use seatmeter_collectors::{Batch, EventKind, Nanos};
use seatmeter_reports::ScopeKind;

use crate::calendar::Day;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("SQLite value: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Schema(String),
    #[error("{0}")]
    Other(String),
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
    pub media: Vec<String>,
    /// Sorted group ids of each group set.
    pub groupsets: Vec<Vec<u32>>,
    /// Sorted media ids of each media set.
    pub mediasets: Vec<Vec<u32>>,
}

/// Rows of a dimension table: (id, tenant id or 0, name).
pub(crate) type NameRows = Vec<(u32, u32, String)>;

/// Rows of a set table: (id, members as stored).
pub(crate) type SetRows = Vec<(u32, Vec<u8>)>;

/// The rows of the dimension tables: tenant, agent, grp, media, then place; groupset and
/// mediaset. Each store reads them in its dialect; the dimensions and the ingest cache are
/// both made from them.
pub(crate) struct DimensionRows {
    pub names: [NameRows; 4],
    pub places: NameRows,
    pub sets: [SetRows; 2],
}

fn decode_sets(rows: SetRows) -> Result<Vec<(u32, Vec<u32>)>, StoreError> {
    rows.into_iter()
        .map(|(id, blob)| {
            let mut m = Vec::new();
            codec::decode_u32s(&blob, &mut m)?;
            Ok((id, m))
        })
        .collect()
}

impl Dimensions {
    /// The dimensions from the rows of their tables, in any dialect.
    pub(crate) fn from_rows(rows: DimensionRows) -> Result<Dimensions, StoreError> {
        let [tenants, agents, groups, media] = rows.names;
        let [groupsets, mediasets] = rows.sets;
        Ok(Dimensions {
            tenants: by_id(tenants.into_iter().map(|(id, _, n)| (id, n))),
            agents: by_id(agents.into_iter().map(|(id, t, n)| (id, (t, n)))),
            groups: by_id(groups.into_iter().map(|(id, t, n)| (id, (t, n)))),
            media: by_id(media.into_iter().map(|(id, _, n)| (id, n))),
            groupsets: by_id(decode_sets(groupsets)?),
            mediasets: by_id(decode_sets(mediasets)?),
        })
    }

    /// `tenant/group`, as reports write group ids.
    pub fn group_label(&self, group: u32) -> String {
        let (t, name) = &self.groups[group as usize];
        format!("{}/{}", self.tenants[*t as usize], name)
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotAgentRow {
    pub agent: u32,
    pub enabled: bool,
    pub media: u32,
    pub groups: u32,
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
    }
}

pub fn scope_kind_from_code(c: i64) -> Result<ScopeKind, StoreError> {
    match c {
        0 => Ok(ScopeKind::System),
        1 => Ok(ScopeKind::Tenant),
        2 => Ok(ScopeKind::Group),
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
    /// [`crate::config::Config::rollup_fingerprint`] of the last rollup.
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
    pub rolled: Option<(Day, Day)>,
    pub size_bytes: u64,
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
    /// duplicates of stored events (and snapshots) are not stored again.
    fn ingest(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError>;

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

    /// The first and last event instants.
    fn event_span(&mut self) -> Result<Option<(Nanos, Nanos)>, StoreError>;

    /// The events of one UTC day (days since 1970-01-01), in any order.
    fn events_on_utc_day(&mut self, day: i64) -> Result<Vec<StoredEvent>, StoreError>;

    /// All snapshots, ordered by (taken, id).
    fn snapshots(&mut self) -> Result<Vec<SnapshotInfo>, StoreError>;

    fn snapshot_agents(&mut self, id: u32) -> Result<Vec<SnapshotAgentRow>, StoreError>;

    fn rejects(&mut self, limit: Option<u64>) -> Result<Vec<StoredReject>, StoreError>;

    // --- rollup ---------------------------------------------------------------------

    /// UTC days (days since 1970-01-01) that received data not yet rolled up, and a
    /// watermark to pass to [`Store::finish_rollup`].
    fn dirty_days(&mut self) -> Result<(Vec<i64>, u64), StoreError>;

    fn rollup_meta(&mut self) -> Result<RollupMeta, StoreError>;

    fn day_record(&mut self, day: Day) -> Result<Option<DayRecord>, StoreError>;

    /// Replaces the rollup of one day, in one transaction.
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

    fn anomalies(&mut self, from: Day, to: Day) -> Result<Vec<(Day, Anomaly)>, StoreError>;

    fn status(&mut self) -> Result<StoreStatus, StoreError>;
}

// --- shared by the stores ---------------------------------------------------------

/// Name -> id of every dimension, loaded at a store's first ingest.
#[derive(Default)]
pub(crate) struct DimCache {
    pub tenants: HashMap<String, u32>,
    pub agents: HashMap<(u32, String), u32>,
    pub groups: HashMap<(u32, String), u32>,
    pub media: HashMap<String, u32>,
    pub places: HashMap<String, u32>,
    pub groupsets: HashMap<Vec<u32>, u32>,
    pub mediasets: HashMap<Vec<u32>, u32>,
}

impl DimCache {
    /// Name -> id of every row, from the rows of the dimension tables.
    pub(crate) fn from_rows(rows: DimensionRows) -> Result<DimCache, StoreError> {
        let [tenants, agents, groups, media] = rows.names;
        let [groupsets, mediasets] = rows.sets;
        let by_name = |rows: NameRows| rows.into_iter().map(|(id, _, n)| (n, id)).collect();
        let by_tenant = |rows: NameRows| rows.into_iter().map(|(id, t, n)| ((t, n), id)).collect();
        let by_members = |rows: SetRows| -> Result<HashMap<Vec<u32>, u32>, StoreError> {
            Ok(decode_sets(rows)?
                .into_iter()
                .map(|(id, m)| (m, id))
                .collect())
        };
        Ok(DimCache {
            tenants: by_name(tenants),
            agents: by_tenant(agents),
            groups: by_tenant(groups),
            media: by_name(media),
            places: by_name(rows.places),
            groupsets: by_members(groupsets)?,
            mediasets: by_members(mediasets)?,
        })
    }
}

/// The records of one day, grouped by scope (in the order they come).
pub(crate) fn group_by_scope(slots: &[SlotRecord]) -> Vec<(Scope, Vec<&SlotRecord>)> {
    let mut out: Vec<(Scope, Vec<&SlotRecord>)> = Vec::new();
    let mut index: HashMap<Scope, usize> = HashMap::default();
    for s in slots {
        let i = *index.entry(s.scope).or_insert_with(|| {
            out.push((s.scope, Vec::new()));
            out.len() - 1
        });
        out[i].1.push(s);
    }
    out
}

/// One batch's events of a UTC day against the day's stored events, decoded from
/// `chunks` chunks: sorted by (time, receive order), without exact duplicates (of stored
/// events, or earlier in the batch; the first received copy is kept). Returns them and
/// how many were dropped.
pub(crate) fn new_events_of_day(
    mut events: Vec<StoredEvent>,
    stored: &mut [StoredEvent],
    chunks: usize,
) -> (Vec<StoredEvent>, u64) {
    // One chunk is sorted already; several are runs to merge.
    if chunks > 1 {
        stored.sort_unstable_by_key(|e| e.ts);
    }
    // A stable sort: a day's events come as time-ordered runs (one per file), which it
    // merges.
    events.sort_by_key(|e| (e.ts, e.seq));
    let before = events.len();
    let kept = drop_duplicates(events, stored);
    let dropped = (before - kept.len()) as u64;
    (kept, dropped)
}

/// The events (sorted by time, then receive order) that are not exact duplicates of a
/// stored event (`stored`, sorted by time) or of an earlier one: duplicates have the same
/// instant, so only events of one instant are compared.
pub(crate) fn drop_duplicates(
    events: Vec<StoredEvent>,
    stored: &[StoredEvent],
) -> Vec<StoredEvent> {
    let mut kept: Vec<StoredEvent> = Vec::with_capacity(events.len());
    let mut si = 0;
    let mut g = 0;
    while g < events.len() {
        let t = events[g].ts;
        let h = g + events[g..].iter().take_while(|e| e.ts == t).count();
        while si < stored.len() && stored[si].ts < t {
            si += 1;
        }
        let sj = si + stored[si..].iter().take_while(|e| e.ts == t).count();
        let from = kept.len();
        if h - g + sj - si > 64 {
            // Many events at one instant (a bulk import): a set, not pairs.
            let mut seen: HashSet<_> = stored[si..sj].iter().map(StoredEvent::key).collect();
            kept.extend(events[g..h].iter().filter(|e| seen.insert(e.key())));
        } else {
            for e in &events[g..h] {
                let k = e.key();
                if !stored[si..sj].iter().any(|s| s.key() == k)
                    && !kept[from..].iter().any(|s| s.key() == k)
                {
                    kept.push(*e);
                }
            }
        }
        g = h;
    }
    kept
}

/// Places `(id, value)` pairs in a vector indexed by id.
pub(crate) fn by_id<T: Default + Clone>(rows: impl IntoIterator<Item = (u32, T)>) -> Vec<T> {
    let mut out: Vec<T> = vec![T::default()];
    for (id, v) in rows {
        let i = id as usize;
        if out.len() <= i {
            out.resize(i + 1, T::default());
        }
        out[i] = v;
    }
    out
}

/// Opens the store a configuration names, creating and migrating it as needed.
pub fn open(config: &crate::config::Config) -> Result<Box<dyn Store>, StoreError> {
    match (&config.store.url, &config.store.path) {
        (Some(url), _) => Ok(Box::new(postgres::PgStore::open(url)?)),
        (None, Some(path)) => Ok(Box::new(sqlite::SqliteStore::open(path)?)),
        (None, None) => Err(StoreError::Other("no store configured".into())),
    }
}
