//! Storing one batch with its collector's cursor, in one transaction, for both dialects.
//!
//! Every string a batch names (tenants, agents, groups, media, places, and the sets of
//! groups and media) gets a small integer id. Ids are given here, by one algorithm: in the
//! order the batch first names them (each event: tenant, agent, place, groups, media;
//! then each snapshot row), each table's next id being one more than its highest. The
//! writing transaction serialises writers, and the name → id cache is brought up to date
//! with the rows other connections added (ids above the highest it knows) before any id
//! is given, so two processes never give one id twice.
//!
//! Events are stored per UTC day as one chunk per batch, without the exact duplicates of
//! events stored before (or earlier in the batch): the first received copy is kept.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use seatmeter_collectors::{Batch, ListId, Sym};
use seatmeter_core::time::{NANOS_PER_DAY, now_nanos};

use crate::dialect::{Dialect, Param, params};
use crate::schema::{columns, meta};
use crate::{IngestStats, SnapshotAgentRow, SnapshotPlaceRow, StoreError, StoredEvent, codec};

/// The dimension tables, in the order their new rows are inserted, with how their rows
/// are read: (table, columns read as (id, tenant or 0, name or members)).
const DIMENSIONS: [(&str, &str); 8] = [
    ("tenant", "SELECT id, 0, name FROM tenant WHERE id > $1"),
    ("agent", "SELECT id, tenant, name FROM agent WHERE id > $1"),
    ("grp", "SELECT id, tenant, name FROM grp WHERE id > $1"),
    ("media", "SELECT id, 0, name FROM media WHERE id > $1"),
    ("place", "SELECT id, 0, name FROM place WHERE id > $1"),
    (
        "groupset",
        "SELECT id, 0, members FROM groupset WHERE id > $1",
    ),
    (
        "mediaset",
        "SELECT id, 0, members FROM mediaset WHERE id > $1",
    ),
    (
        "place_grp",
        "SELECT id, tenant, name FROM place_grp WHERE id > $1",
    ),
];
const TENANT: usize = 0;
const AGENT: usize = 1;
const GROUP: usize = 2;
const MEDIA: usize = 3;
const PLACE: usize = 4;
const GROUPSET: usize = 5;
const MEDIASET: usize = 6;
const PLACE_GROUP: usize = 7;

/// Name -> id of every dimension, kept between ingests of one connection.
#[derive(Default)]
pub(crate) struct DimCache {
    tenants: HashMap<String, u32>,
    agents: HashMap<(u32, String), u32>,
    groups: HashMap<(u32, String), u32>,
    place_groups: HashMap<(u32, String), u32>,
    media: HashMap<String, u32>,
    places: HashMap<String, u32>,
    groupsets: HashMap<Vec<u32>, u32>,
    mediasets: HashMap<Vec<u32>, u32>,
    /// The highest id known of each table (index as [`DIMENSIONS`]), once loaded.
    max: [i64; 8],
    loaded: bool,
    /// Rows given an id by the ingest in progress, to insert before it commits.
    new: [Vec<(u32, u32, NewName)>; 8],
}

#[derive(Debug)]
enum NewName {
    Text(String),
    Members(Vec<u8>),
}

impl DimCache {
    /// Learns the rows stored since the cache last looked (all of them the first time):
    /// those with an id above the highest it knows.
    pub(crate) fn refresh<D: Dialect>(&mut self, d: &mut D) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {}",
            DIMENSIONS
                .iter()
                .map(|(t, _)| format!("(SELECT coalesce(max(id), 0) FROM {t})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let highest = d
            .query_row(&sql, &[])?
            .ok_or_else(|| StoreError::Corrupt("no answer to the highest ids".into()))?;
        for (i, (_, read)) in DIMENSIONS.iter().enumerate() {
            let known = if self.loaded { self.max[i] } else { -1 };
            if highest.i64(i)? <= known {
                continue;
            }
            for r in d.query(read, params![known])? {
                let (id, tenant) = (r.u32(0)?, r.u32(1)?);
                self.max[i] = self.max[i].max(i64::from(id));
                match i {
                    TENANT => {
                        self.tenants.insert(r.text(2)?, id);
                    }
                    AGENT => {
                        self.agents.insert((tenant, r.text(2)?), id);
                    }
                    GROUP => {
                        self.groups.insert((tenant, r.text(2)?), id);
                    }
                    PLACE_GROUP => {
                        self.place_groups.insert((tenant, r.text(2)?), id);
                    }
                    MEDIA => {
                        self.media.insert(r.text(2)?, id);
                    }
                    PLACE => {
                        self.places.insert(r.text(2)?, id);
                    }
                    _ => {
                        let mut members = Vec::new();
                        codec::decode_u32s(r.blob(2)?, &mut members)?;
                        let map = if i == GROUPSET {
                            &mut self.groupsets
                        } else {
                            &mut self.mediasets
                        };
                        map.insert(members, id);
                    }
                }
            }
        }
        self.loaded = true;
        Ok(())
    }

    /// The next id of table `i`, for a row to insert.
    fn give(&mut self, i: usize, tenant: u32, name: NewName) -> u32 {
        self.max[i] += 1;
        let id = self.max[i] as u32;
        self.new[i].push((id, tenant, name));
        id
    }

    /// Inserts the rows given an id in this ingest.
    fn insert_new<D: Dialect>(&mut self, d: &mut D) -> Result<(), StoreError> {
        for (i, (table, _)) in DIMENSIONS.iter().enumerate() {
            let new = std::mem::take(&mut self.new[i]);
            if new.is_empty() {
                continue;
            }
            let cols = columns(table);
            let rows: Vec<Vec<Param<'_>>> = new
                .iter()
                .map(|(id, tenant, name)| {
                    let name = match name {
                        NewName::Text(t) => Param::Text(t),
                        NewName::Members(m) => Param::Blob(m),
                    };
                    if cols.len() == 3 {
                        vec![Param::from(*id), Param::from(*tenant), name]
                    } else {
                        vec![Param::from(*id), name]
                    }
                })
                .collect();
            d.insert_rows(table, cols, &rows, "")?;
        }
        Ok(())
    }
}

/// Fails with `CursorMoved` unless the collector's stored cursor is `was`. Runs inside a
/// writing transaction, after the writers' lock, so that it sees every committed move.
pub(crate) fn check_cursor<D: Dialect>(
    d: &mut D,
    collector: &str,
    was: Option<&str>,
) -> Result<(), StoreError> {
    let stored = d
        .query_row(
            "SELECT cursor FROM collector WHERE name = $1",
            params![collector],
        )?
        .map(|r| r.opt_text(0))
        .transpose()?
        .flatten();
    if stored.as_deref() == was {
        Ok(())
    } else {
        Err(StoreError::CursorMoved {
            collector: collector.to_string(),
        })
    }
}

/// Stores a batch and the collector's cursor after it. Runs inside a writing transaction.
pub(crate) fn ingest<D: Dialect>(
    d: &mut D,
    cache: &mut DimCache,
    collector: &str,
    kind: &str,
    batch: &Batch,
    cursor: &str,
) -> Result<IngestStats, StoreError> {
    cache.refresh(d)?;
    let next_seq: u64 = d
        .query_row(
            "SELECT value FROM meta WHERE key = $1",
            params![meta::NEXT_SEQ],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let resolved = resolve(cache, batch, next_seq);
    cache.insert_new(d)?;
    let mut stats = IngestStats::default();
    let mut dirty = store_events(d, collector, resolved.by_day, &mut stats)?;
    dirty.extend(store_snapshots(
        d,
        collector,
        batch,
        &resolved.snapshots,
        &mut stats,
    )?);
    let at = now_nanos();
    // A line kept aside is stored once (see migrations/*/0002_reject_identity.sql).
    let rejects: Vec<Vec<Param<'_>>> = batch
        .rejects
        .iter()
        .map(|r| {
            let origin = if r.origin.is_empty() {
                &r.source
            } else {
                &r.origin
            };
            params![
                collector,
                &r.source,
                r.line,
                &r.reason,
                &r.text,
                at,
                origin,
                r.tenant.as_deref()
            ]
            .to_vec()
        })
        .collect();
    stats.rejects = d.insert_rows(
        "reject",
        &columns("reject")[1..],
        &rejects,
        "ON CONFLICT (collector, origin, line, text) DO NOTHING",
    )?;
    // Every ingest moves the sequence on, so dirty marks order.
    mark_dirty(d, dirty, resolved.stamp)?;
    let next = (resolved.stamp + 1).to_string();
    d.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![meta::NEXT_SEQ, &next],
    )?;
    d.execute(
        "INSERT INTO collector (name, kind, cursor, events, duplicates, snapshots, rejects)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, cursor = excluded.cursor,
            events = collector.events + excluded.events,
            duplicates = collector.duplicates + excluded.duplicates,
            snapshots = collector.snapshots + excluded.snapshots,
            rejects = collector.rejects + excluded.rejects",
        params![
            collector,
            kind,
            cursor,
            stats.events,
            stats.duplicates,
            stats.snapshots,
            stats.rejects
        ],
    )?;
    Ok(stats)
}

/// A batch with store ids: its events by UTC day with their receive sequence numbers, each
/// snapshot's rows, and the sequence number after the last event.
struct Resolved {
    by_day: BTreeMap<i64, Vec<StoredEvent>>,
    snapshots: Vec<(Vec<SnapshotAgentRow>, Vec<SnapshotPlaceRow>)>,
    stamp: u64,
}

/// Gives the batch's names their ids (new ones in the order first named) and its events
/// their receive sequence numbers from `next_seq` on.
fn resolve(cache: &mut DimCache, batch: &Batch, next_seq: u64) -> Resolved {
    let mut ids = BatchIds::new(batch);
    let mut seq = next_seq;
    let mut by_day: BTreeMap<i64, Vec<StoredEvent>> = BTreeMap::new();
    for e in &batch.events {
        let tenant = ids.tenant(cache, e.tenant);
        let stored = StoredEvent {
            ts: e.ts,
            seq,
            kind: e.kind,
            agent: ids.agent(cache, tenant, e.agent),
            place: ids.place(cache, e.place),
            groups: ids.groupset(cache, tenant, e.groups),
            media: ids.mediaset(cache, e.media),
        };
        seq += 1;
        by_day
            .entry(e.ts.div_euclid(NANOS_PER_DAY))
            .or_default()
            .push(stored);
    }
    let snapshots = batch
        .snapshots
        .iter()
        .map(|s| {
            let agents = s
                .agents
                .iter()
                .map(|a| {
                    let tenant = ids.tenant(cache, a.tenant);
                    SnapshotAgentRow {
                        agent: ids.agent(cache, tenant, a.agent),
                        enabled: a.enabled,
                        media: ids.mediaset(cache, a.media),
                        groups: ids.groupset(cache, tenant, a.groups),
                        tags: batch
                            .list(a.tags)
                            .iter()
                            .map(|&t| batch.string(t).to_string())
                            .collect(),
                        tier: (a.tier != 0).then(|| batch.string(a.tier).to_string()),
                    }
                })
                .collect();
            let places = s
                .places
                .iter()
                .map(|p| {
                    let tenant = ids.tenant(cache, p.tenant);
                    SnapshotPlaceRow {
                        tenant,
                        place: ids.place(cache, p.place),
                        groups: ids.place_groupset(cache, tenant, p.groups),
                    }
                })
                .collect();
            (agents, places)
        })
        .collect();
    Resolved {
        by_day,
        snapshots,
        stamp: seq,
    }
}

/// Stores each UTC day's new events as one chunk (duplicates of stored events, and of
/// earlier ones in the batch, left out); returns the days that got events.
fn store_events<D: Dialect>(
    d: &mut D,
    collector: &str,
    by_day: BTreeMap<i64, Vec<StoredEvent>>,
    stats: &mut IngestStats,
) -> Result<Vec<i64>, StoreError> {
    let mut dirty = Vec::new();
    let mut stored = Vec::new();
    for (day, events) in by_day {
        stored.clear();
        let mut chunks = 0;
        // A duplicate has the same instant: only the day's chunks that overlap the batch's
        // instants are read (a collection every 5 minutes reads its last minutes, not the
        // whole day again).
        let (lo, hi) = events.iter().fold((i64::MAX, i64::MIN), |(lo, hi), e| {
            (lo.min(e.ts), hi.max(e.ts))
        });
        d.query_each(
            "SELECT data FROM event_chunk WHERE utc_day = $1 AND max_ts >= $2 AND min_ts <= $3",
            params![day, lo, hi],
            &mut |r| {
                chunks += 1;
                codec::decode_events(r.blob(0)?, &mut stored)
            },
        )?;
        let (events, dropped) = new_events_of_day(events, &mut stored, chunks);
        stats.duplicates += dropped;
        if events.is_empty() {
            continue;
        }
        stats.events += events.len() as u64;
        let blob = codec::encode_events(&events);
        d.execute(
            "INSERT INTO event_chunk (utc_day, collector, n, min_ts, max_ts, data) VALUES ($1, $2, $3, $4, $5, $6)",
            params![day, collector, events.len() as u64, events[0].ts, events[events.len() - 1].ts, &blob],
        )?;
        dirty.push(day);
    }
    Ok(dirty)
}

/// Stores the snapshots not stored before (by their digest); returns the UTC days they
/// were taken on.
fn store_snapshots<D: Dialect>(
    d: &mut D,
    collector: &str,
    batch: &Batch,
    rows: &[(Vec<SnapshotAgentRow>, Vec<SnapshotPlaceRow>)],
    stats: &mut IngestStats,
) -> Result<Vec<i64>, StoreError> {
    let mut dirty = Vec::new();
    for (s, (rows, places)) in batch.snapshots.iter().zip(rows) {
        let blob = codec::encode_snapshot(rows, places);
        let n = d.execute(
            "INSERT INTO snapshot (taken, source, collector, sha256, agents, data) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (sha256) DO NOTHING",
            params![s.taken, &s.source, collector, &s.sha256[..], rows.len() as u64, &blob],
        )?;
        if n == 1 {
            stats.snapshots += 1;
            dirty.push(s.taken.div_euclid(NANOS_PER_DAY));
        } else {
            stats.duplicate_snapshots += 1;
        }
    }
    Ok(dirty)
}

/// Marks the UTC days that received data, with the ingest's sequence number.
fn mark_dirty<D: Dialect>(d: &mut D, mut days: Vec<i64>, stamp: u64) -> Result<(), StoreError> {
    days.sort_unstable();
    days.dedup();
    let marks: Vec<Vec<Param<'_>>> = days
        .iter()
        .map(|&day| params![day, stamp].to_vec())
        .collect();
    d.insert_rows(
        "dirty_day",
        columns("dirty_day"),
        &marks,
        "ON CONFLICT (utc_day) DO UPDATE SET seq = excluded.seq",
    )?;
    Ok(())
}

/// Maps one batch's symbols and lists to store ids, asking the cache once per distinct
/// symbol (and giving ids to what the store does not know yet).
struct BatchIds<'b> {
    batch: &'b Batch,
    tenants: Vec<Option<u32>>,
    places: Vec<Option<u32>>,
    media_words: Vec<Option<u32>>,
    /// Per agent symbol: the tenant and store id of its first use; other tenants' agents
    /// of the same name go to `agents_other`.
    agents: Vec<Option<(u32, u32)>>,
    agents_other: HashMap<(u32, Sym), u32>,
    /// The same for group lists (a group belongs to a tenant).
    groupsets: Vec<Option<(u32, u32)>>,
    groupsets_other: HashMap<(u32, ListId), u32>,
    /// (tenant, list) -> the set of place groups it names.
    place_groupsets: HashMap<(u32, ListId), u32>,
    mediasets: Vec<Option<u32>>,
}

impl<'b> BatchIds<'b> {
    fn new(batch: &'b Batch) -> BatchIds<'b> {
        let n = batch.strings().len();
        BatchIds {
            batch,
            tenants: vec![None; n],
            places: vec![None; n],
            media_words: vec![None; n],
            agents: vec![None; n],
            agents_other: HashMap::default(),
            groupsets: vec![None; batch.lists().len()],
            groupsets_other: HashMap::default(),
            place_groupsets: HashMap::default(),
            mediasets: vec![None; batch.lists().len()],
        }
    }

    fn tenant(&mut self, c: &mut DimCache, sym: Sym) -> u32 {
        if let Some(id) = self.tenants[sym as usize] {
            return id;
        }
        let name = self.batch.string(sym);
        let id = match c.tenants.get(name) {
            Some(&id) => id,
            None => {
                let id = c.give(TENANT, 0, NewName::Text(name.to_string()));
                c.tenants.insert(name.to_string(), id);
                id
            }
        };
        self.tenants[sym as usize] = Some(id);
        id
    }

    fn agent(&mut self, c: &mut DimCache, tenant: u32, sym: Sym) -> u32 {
        match self.agents[sym as usize] {
            Some((t, id)) if t == tenant => return id,
            Some(_) => {
                if let Some(&id) = self.agents_other.get(&(tenant, sym)) {
                    return id;
                }
            }
            None => {}
        }
        let name = self.batch.string(sym);
        let key = (tenant, name.to_string());
        let id = match c.agents.get(&key) {
            Some(&id) => id,
            None => {
                let id = c.give(AGENT, tenant, NewName::Text(name.to_string()));
                c.agents.insert(key, id);
                id
            }
        };
        match self.agents[sym as usize] {
            None => self.agents[sym as usize] = Some((tenant, id)),
            Some(_) => {
                self.agents_other.insert((tenant, sym), id);
            }
        }
        id
    }

    fn place(&mut self, c: &mut DimCache, sym: Sym) -> u32 {
        if let Some(id) = self.places[sym as usize] {
            return id;
        }
        let name = self.batch.string(sym);
        let id = match c.places.get(name) {
            Some(&id) => id,
            None => {
                let id = c.give(PLACE, 0, NewName::Text(name.to_string()));
                c.places.insert(name.to_string(), id);
                id
            }
        };
        self.places[sym as usize] = Some(id);
        id
    }

    fn groupset(&mut self, c: &mut DimCache, tenant: u32, list: ListId) -> u32 {
        if list == 0 {
            return 0;
        }
        match self.groupsets[list as usize] {
            Some((t, id)) if t == tenant => return id,
            Some(_) => {
                if let Some(&id) = self.groupsets_other.get(&(tenant, list)) {
                    return id;
                }
            }
            None => {}
        }
        let members = self.group_ids(c, GROUP, tenant, list);
        let id = set_id(c, GROUPSET, members);
        match self.groupsets[list as usize] {
            None => self.groupsets[list as usize] = Some((tenant, id)),
            Some(_) => {
                self.groupsets_other.insert((tenant, list), id);
            }
        }
        id
    }

    /// The set of place groups (of tenant `tenant`) a snapshot's place names.
    fn place_groupset(&mut self, c: &mut DimCache, tenant: u32, list: ListId) -> u32 {
        if list == 0 {
            return 0;
        }
        if let Some(&id) = self.place_groupsets.get(&(tenant, list)) {
            return id;
        }
        let members = self.group_ids(c, PLACE_GROUP, tenant, list);
        let id = set_id(c, GROUPSET, members);
        self.place_groupsets.insert((tenant, list), id);
        id
    }

    /// The ids of a list of group names of `tenant`, in table `GROUP` or `PLACE_GROUP`.
    fn group_ids(&mut self, c: &mut DimCache, table: usize, tenant: u32, list: ListId) -> Vec<u32> {
        let mut members = Vec::new();
        for &sym in self.batch.list(list) {
            let name = self.batch.string(sym);
            let key = (tenant, name.to_string());
            let known = match table {
                GROUP => c.groups.get(&key),
                _ => c.place_groups.get(&key),
            };
            let gid = match known {
                Some(&id) => id,
                None => {
                    let id = c.give(table, tenant, NewName::Text(name.to_string()));
                    match table {
                        GROUP => c.groups.insert(key, id),
                        _ => c.place_groups.insert(key, id),
                    };
                    id
                }
            };
            members.push(gid);
        }
        members
    }

    fn mediaset(&mut self, c: &mut DimCache, list: ListId) -> u32 {
        if list == 0 {
            return 0;
        }
        if let Some(id) = self.mediasets[list as usize] {
            return id;
        }
        let mut members = Vec::new();
        for &sym in self.batch.list(list) {
            let id = match self.media_words[sym as usize] {
                Some(id) => id,
                None => {
                    let name = self.batch.string(sym);
                    let id = match c.media.get(name) {
                        Some(&id) => id,
                        None => {
                            let id = c.give(MEDIA, 0, NewName::Text(name.to_string()));
                            c.media.insert(name.to_string(), id);
                            id
                        }
                    };
                    self.media_words[sym as usize] = Some(id);
                    id
                }
            };
            members.push(id);
        }
        let id = set_id(c, MEDIASET, members);
        self.mediasets[list as usize] = Some(id);
        id
    }
}

/// The id of a set of group or media ids (table `GROUPSET` or `MEDIASET`).
fn set_id(c: &mut DimCache, table: usize, mut members: Vec<u32>) -> u32 {
    members.sort_unstable();
    members.dedup();
    let map = if table == GROUPSET {
        &c.groupsets
    } else {
        &c.mediasets
    };
    if let Some(&id) = map.get(&members) {
        return id;
    }
    let id = c.give(table, 0, NewName::Members(codec::encode_u32s(&members)));
    let map = if table == GROUPSET {
        &mut c.groupsets
    } else {
        &mut c.mediasets
    };
    map.insert(members, id);
    id
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
