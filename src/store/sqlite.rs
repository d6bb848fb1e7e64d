//! The embedded store: one SQLite file (WAL mode, full sync on commit).

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use seatmeter_collectors::time::NANOS_PER_DAY;
use seatmeter_collectors::{Batch, ListId, Nanos, Sym};

use super::codec;
use super::*;

const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_init.sql")];

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Name -> id of every dimension, loaded at the first ingest; dropped after a failed
    /// transaction (its ids may have been rolled back).
    cache: Option<DimCache>,
    /// Whether commits are synced to disk (`synchronous = FULL`) right now.
    full_sync: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Other(format!(
                    "cannot create the store's folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -65536)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            cache: None,
            full_sync: true,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations not applied yet, one transaction each. The version is read
    /// under the write lock, so two processes opening a new store do not both migrate it.
    fn migrate(&mut self) -> Result<(), StoreError> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let Some(sql) = MIGRATIONS.get(version as usize) else {
                if version as usize > MIGRATIONS.len() {
                    return Err(StoreError::Schema(format!(
                        "{} was written by a newer seatmeter (schema version {version}); upgrade seatmeter",
                        self.path.display()
                    )));
                }
                return Ok(());
            };
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
    }

    /// The connection, for `migrate-store`.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    fn load_cache(&mut self) -> Result<(), StoreError> {
        if self.cache.is_none() {
            self.cache = Some(DimCache::from_rows(self.dimension_rows(true)?)?);
        }
        Ok(())
    }

    /// The rows of the dimension tables (places only when asked: the ingest cache needs
    /// them, the dimensions do not).
    fn dimension_rows(&self, places: bool) -> Result<DimensionRows, StoreError> {
        let conn = &self.conn;
        let sets = |table: &str| -> Result<SetRows, StoreError> {
            let mut st = conn.prepare(&format!("SELECT id, members FROM {table}"))?;
            let rows = st.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(DimensionRows {
            names: [
                names(conn, "SELECT id, 0, name FROM tenant")?,
                names(conn, "SELECT id, tenant, name FROM agent")?,
                names(conn, "SELECT id, tenant, name FROM grp")?,
                names(conn, "SELECT id, 0, name FROM media")?,
            ],
            places: if places {
                names(conn, "SELECT id, 0, name FROM place")?
            } else {
                Vec::new()
            },
            sets: [sets("groupset")?, sets("mediaset")?],
        })
    }

    /// Every commit is synced, except the days a rollup writes: those are synced by the
    /// commit that ends the rollup (in WAL mode, syncing the log syncs every earlier commit
    /// in it). A crash before that leaves the dirty marks, so the days are rolled up again.
    fn sync(&mut self, full: bool) -> Result<(), StoreError> {
        if self.full_sync != full {
            self.conn
                .pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
            self.full_sync = full;
        }
        Ok(())
    }

    fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn ingest_tx(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        self.load_cache()?;
        self.sync(true)?;
        let cache = self.cache.as_mut().expect("loaded");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stats = IngestStats::default();
        let next_seq: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .map(|s| s.parse().unwrap_or(1))
            .unwrap_or(1);
        let mut ids = BatchIds::new(batch);
        let mut seq = next_seq;
        // Events by UTC day; consecutive events mostly share their day.
        let mut by_day: BTreeMap<i64, Vec<StoredEvent>> = BTreeMap::new();
        let mut current: Option<(i64, Vec<StoredEvent>)> = None;
        for e in &batch.events {
            let tenant = ids.tenant(&tx, cache, e.tenant)?;
            let stored = StoredEvent {
                ts: e.ts,
                seq,
                kind: e.kind,
                agent: ids.agent(&tx, cache, tenant, e.agent)?,
                place: ids.place(&tx, cache, e.place)?,
                groups: ids.groupset(&tx, cache, tenant, e.groups)?,
                media: ids.mediaset(&tx, cache, e.media)?,
            };
            seq += 1;
            let day = e.ts.div_euclid(NANOS_PER_DAY);
            match &mut current {
                Some((d, v)) if *d == day => v.push(stored),
                _ => {
                    if let Some((d, v)) = current.take() {
                        by_day.entry(d).or_default().extend(v);
                    }
                    let mut v = by_day.remove(&day).unwrap_or_default();
                    v.push(stored);
                    current = Some((day, v));
                }
            }
        }
        if let Some((d, v)) = current {
            by_day.entry(d).or_default().extend(v);
        }
        let stamp = seq; // every ingest moves the sequence on, so dirty marks order
        let mut dirty: HashSet<i64> = HashSet::default();
        {
            let mut existing =
                tx.prepare_cached("SELECT data FROM event_chunk WHERE utc_day = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO event_chunk (utc_day, collector, n, min_ts, max_ts, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut stored = Vec::new();
            for (day, events) in by_day {
                stored.clear();
                let mut rows = existing.query([day])?;
                let mut chunks = 0;
                while let Some(r) = rows.next()? {
                    codec::decode_events(r.get_ref(0)?.as_blob()?, &mut stored)?;
                    chunks += 1;
                }
                let (events, dropped) = new_events_of_day(events, &mut stored, chunks);
                stats.duplicates += dropped;
                if events.is_empty() {
                    continue;
                }
                stats.events += events.len() as u64;
                insert.execute(params![
                    day,
                    collector,
                    events.len() as i64,
                    events[0].ts,
                    events[events.len() - 1].ts,
                    codec::encode_events(&events)
                ])?;
                dirty.insert(day);
            }
        }
        for s in &batch.snapshots {
            let mut rows = Vec::with_capacity(s.agents.len());
            for a in &s.agents {
                let tenant = ids.tenant(&tx, cache, a.tenant)?;
                rows.push(SnapshotAgentRow {
                    agent: ids.agent(&tx, cache, tenant, a.agent)?,
                    enabled: a.enabled,
                    media: ids.mediaset(&tx, cache, a.media)?,
                    groups: ids.groupset(&tx, cache, tenant, a.groups)?,
                });
            }
            let n = tx.execute(
                "INSERT INTO snapshot (taken, source, collector, sha256, agents, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (sha256) DO NOTHING",
                params![s.taken, s.source, collector, &s.sha256[..], rows.len() as i64, codec::encode_snapshot(&rows)],
            )?;
            if n == 1 {
                stats.snapshots += 1;
                dirty.insert(s.taken.div_euclid(NANOS_PER_DAY));
            } else {
                stats.duplicate_snapshots += 1;
            }
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO reject (collector, source, line, reason, text, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let at = crate::now_nanos();
            for r in &batch.rejects {
                insert.execute(params![
                    collector,
                    r.source,
                    r.line as i64,
                    r.reason,
                    r.text,
                    at
                ])?;
                stats.rejects += 1;
            }
        }
        {
            let mut mark = tx.prepare_cached(
                "INSERT INTO dirty_day (utc_day, seq) VALUES (?1, ?2) ON CONFLICT (utc_day) DO UPDATE SET seq = excluded.seq",
            )?;
            for day in &dirty {
                mark.execute(params![day, stamp as i64])?;
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('next_seq', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(stamp + 1).to_string()],
        )?;
        tx.execute(
            "INSERT INTO collector (name, kind, cursor, events, duplicates, snapshots, rejects)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, cursor = excluded.cursor,
                events = events + excluded.events, duplicates = duplicates + excluded.duplicates,
                snapshots = snapshots + excluded.snapshots, rejects = rejects + excluded.rejects",
            params![
                collector,
                kind,
                cursor,
                stats.events as i64,
                stats.duplicates as i64,
                stats.snapshots as i64,
                stats.rejects as i64
            ],
        )?;
        tx.commit()?;
        Ok(stats)
    }
}

/// Maps one batch's symbols and lists to store ids, asking the cache (and the database)
/// once per distinct symbol.
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
    mediasets: Vec<Option<u32>>,
}

fn upsert_id(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<u32, StoreError> {
    Ok(tx.prepare_cached(sql)?.query_row(params, |r| r.get(0))?)
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
            mediasets: vec![None; batch.lists().len()],
        }
    }

    fn tenant(
        &mut self,
        tx: &Transaction<'_>,
        c: &mut DimCache,
        sym: Sym,
    ) -> Result<u32, StoreError> {
        if let Some(id) = self.tenants[sym as usize] {
            return Ok(id);
        }
        let name = self.batch.string(sym);
        let id = match c.tenants.get(name) {
            Some(&id) => id,
            None => {
                let id = upsert_id(
                    tx,
                    "INSERT INTO tenant (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                    [name],
                )?;
                c.tenants.insert(name.to_string(), id);
                id
            }
        };
        self.tenants[sym as usize] = Some(id);
        Ok(id)
    }

    fn agent(
        &mut self,
        tx: &Transaction<'_>,
        c: &mut DimCache,
        tenant: u32,
        sym: Sym,
    ) -> Result<u32, StoreError> {
        match self.agents[sym as usize] {
            Some((t, id)) if t == tenant => return Ok(id),
            Some(_) => {
                if let Some(&id) = self.agents_other.get(&(tenant, sym)) {
                    return Ok(id);
                }
            }
            None => {}
        }
        let name = self.batch.string(sym);
        let key = (tenant, name.to_string());
        let id = match c.agents.get(&key) {
            Some(&id) => id,
            None => {
                let id = upsert_id(
                    tx,
                    "INSERT INTO agent (tenant, name) VALUES (?1, ?2) ON CONFLICT (tenant, name) DO UPDATE SET name = excluded.name RETURNING id",
                    params![tenant, name],
                )?;
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
        Ok(id)
    }

    fn place(
        &mut self,
        tx: &Transaction<'_>,
        c: &mut DimCache,
        sym: Sym,
    ) -> Result<u32, StoreError> {
        if let Some(id) = self.places[sym as usize] {
            return Ok(id);
        }
        let name = self.batch.string(sym);
        let id = match c.places.get(name) {
            Some(&id) => id,
            None => {
                let id = upsert_id(
                    tx,
                    "INSERT INTO place (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                    [name],
                )?;
                c.places.insert(name.to_string(), id);
                id
            }
        };
        self.places[sym as usize] = Some(id);
        Ok(id)
    }

    fn groupset(
        &mut self,
        tx: &Transaction<'_>,
        c: &mut DimCache,
        tenant: u32,
        list: ListId,
    ) -> Result<u32, StoreError> {
        if list == 0 {
            return Ok(0);
        }
        match self.groupsets[list as usize] {
            Some((t, id)) if t == tenant => return Ok(id),
            Some(_) => {
                if let Some(&id) = self.groupsets_other.get(&(tenant, list)) {
                    return Ok(id);
                }
            }
            None => {}
        }
        let mut members = Vec::new();
        for &sym in self.batch.list(list) {
            let name = self.batch.string(sym);
            let key = (tenant, name.to_string());
            let gid = match c.groups.get(&key) {
                Some(&id) => id,
                None => {
                    let id = upsert_id(
                        tx,
                        "INSERT INTO grp (tenant, name) VALUES (?1, ?2) ON CONFLICT (tenant, name) DO UPDATE SET name = excluded.name RETURNING id",
                        params![tenant, name],
                    )?;
                    c.groups.insert(key, id);
                    id
                }
            };
            members.push(gid);
        }
        let id = set_id(tx, &mut c.groupsets, "groupset", members)?;
        match self.groupsets[list as usize] {
            None => self.groupsets[list as usize] = Some((tenant, id)),
            Some(_) => {
                self.groupsets_other.insert((tenant, list), id);
            }
        }
        Ok(id)
    }

    fn mediaset(
        &mut self,
        tx: &Transaction<'_>,
        c: &mut DimCache,
        list: ListId,
    ) -> Result<u32, StoreError> {
        if list == 0 {
            return Ok(0);
        }
        if let Some(id) = self.mediasets[list as usize] {
            return Ok(id);
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
                            let id = upsert_id(
                                tx,
                                "INSERT INTO media (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                                [name],
                            )?;
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
        let id = set_id(tx, &mut c.mediasets, "mediaset", members)?;
        self.mediasets[list as usize] = Some(id);
        Ok(id)
    }
}

fn set_id(
    tx: &Transaction<'_>,
    map: &mut HashMap<Vec<u32>, u32>,
    table: &str,
    mut members: Vec<u32>,
) -> Result<u32, StoreError> {
    members.sort_unstable();
    members.dedup();
    if let Some(&id) = map.get(&members) {
        return Ok(id);
    }
    let id = upsert_id(
        tx,
        &format!(
            "INSERT INTO {table} (members) VALUES (?1) ON CONFLICT (members) DO UPDATE SET members = excluded.members RETURNING id"
        ),
        [codec::encode_u32s(&members)],
    )?;
    map.insert(members, id);
    Ok(id)
}

/// Counts are stored as SQLite integers (i64) and are never negative.
fn get_u64(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(r.get::<_, i64>(i)? as u64)
}

fn names(conn: &Connection, sql: &str) -> Result<Vec<(u32, u32, String)>, StoreError> {
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn cursor(&mut self, collector: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM collector WHERE name = ?1",
                [collector],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    fn ingest(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        let result = self.ingest_tx(collector, kind, batch, cursor);
        if result.is_err() {
            self.cache = None;
        }
        result
    }

    fn record_run(
        &mut self,
        collector: &str,
        kind: &str,
        at: Nanos,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        match error {
            None => self.conn.execute(
                "INSERT INTO collector (name, kind, last_success, runs) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (name) DO UPDATE SET last_success = excluded.last_success, runs = runs + 1",
                params![collector, kind, at],
            )?,
            Some(e) => self.conn.execute(
                "INSERT INTO collector (name, kind, last_error, last_error_at, runs, failures) VALUES (?1, ?2, ?3, ?4, 1, 1)
                 ON CONFLICT (name) DO UPDATE SET last_error = excluded.last_error,
                    last_error_at = excluded.last_error_at, runs = runs + 1, failures = failures + 1",
                params![collector, kind, e, at],
            )?,
        };
        Ok(())
    }

    fn reset_cursor(&mut self, collector: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE collector SET cursor = NULL WHERE name = ?1",
            [collector],
        )? > 0)
    }

    fn dimensions(&mut self) -> Result<Dimensions, StoreError> {
        Dimensions::from_rows(self.dimension_rows(false)?)
    }

    fn event_span(&mut self) -> Result<Option<(Nanos, Nanos)>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT min(min_ts), max(max_ts) FROM event_chunk",
            [],
            |r| {
                Ok(
                    match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
                        (Some(a), Some(b)) => Some((a, b)),
                        _ => None,
                    },
                )
            },
        )?)
    }

    fn events_on_utc_day(&mut self, day: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data FROM event_chunk WHERE utc_day = ?1")?;
        let mut rows = st.query([day])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            codec::decode_events(r.get_ref(0)?.as_blob()?, &mut out)?;
        }
        Ok(out)
    }

    fn snapshots(&mut self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, taken, source, collector, agents FROM snapshot ORDER BY taken, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(SnapshotInfo {
                id: r.get(0)?,
                taken: r.get(1)?,
                source: r.get(2)?,
                collector: r.get(3)?,
                agents: get_u64(r, 4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn snapshot_agents(&mut self, id: u32) -> Result<Vec<SnapshotAgentRow>, StoreError> {
        let blob: Vec<u8> =
            self.conn
                .query_row("SELECT data FROM snapshot WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        codec::decode_snapshot(&blob)
    }

    fn rejects(&mut self, limit: Option<u64>) -> Result<Vec<StoredReject>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT collector, source, line, reason, text, at FROM reject ORDER BY id LIMIT ?1",
        )?;
        let rows = st.query_map([limit.map(|l| l as i64).unwrap_or(-1)], |r| {
            Ok(StoredReject {
                collector: r.get(0)?,
                source: r.get(1)?,
                line: get_u64(r, 2)?,
                reason: r.get(3)?,
                text: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn dirty_days(&mut self) -> Result<(Vec<i64>, u64), StoreError> {
        let tx = self.conn.transaction()?;
        let days = {
            let mut st = tx.prepare("SELECT utc_day FROM dirty_day ORDER BY utc_day")?;
            st.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?
        };
        let watermark: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        tx.commit()?;
        Ok((days, watermark))
    }

    fn rollup_meta(&mut self) -> Result<RollupMeta, StoreError> {
        Ok(RollupMeta {
            fingerprint: self.meta_get("rollup_fingerprint")?,
            first_snapshot: self
                .meta_get("rollup_first_snapshot")?
                .and_then(|s| s.parse().ok()),
            frozen_before: self.meta_get("frozen_before")?.and_then(|s| s.parse().ok()),
        })
    }

    fn day_record(&mut self, day: Day) -> Result<Option<DayRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT start_fp, end_state, events, sessions, stray_logouts FROM rollup_day WHERE day = ?1",
                [day],
                |r| {
                    let fp: Vec<u8> = r.get(0)?;
                    Ok(DayRecord {
                        day,
                        start_fp: fp.try_into().unwrap_or([0; 32]),
                        end_state: r.get(1)?,
                        events: get_u64(r, 2)?,
                        sessions: get_u64(r, 3)?,
                        stray_logouts: get_u64(r, 4)?,
                    })
                },
            )
            .optional()?)
    }

    fn write_day(
        &mut self,
        rec: &DayRecord,
        slots: &[SlotRecord],
        anomalies: &[Anomaly],
    ) -> Result<(), StoreError> {
        self.sync(false)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM rollup_scope_day WHERE day = ?1", [rec.day])?;
        tx.execute("DELETE FROM anomaly WHERE day = ?1", [rec.day])?;
        tx.execute(
            "INSERT OR REPLACE INTO rollup_day (day, start_fp, end_state, events, sessions, stray_logouts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                rec.day,
                &rec.start_fp[..],
                rec.end_state,
                rec.events as i64,
                rec.sessions as i64,
                rec.stray_logouts as i64
            ],
        )?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO rollup_scope_day (scope_kind, scope_id, day, data) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (scope, records) in group_by_scope(slots) {
                ins.execute(params![
                    scope_kind_code(scope.kind),
                    scope.id,
                    rec.day,
                    codec::encode_scope_day(&records)
                ])?;
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO anomaly (day, ts, agent, kind) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for a in anomalies {
                ins.execute(params![rec.day, a.ts, a.agent, a.kind.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn finish_rollup(&mut self, meta: &RollupMeta, watermark: u64) -> Result<(), StoreError> {
        self.sync(true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in [
            ("rollup_fingerprint", meta.fingerprint.clone()),
            (
                "rollup_first_snapshot",
                meta.first_snapshot.map(|t| t.to_string()),
            ),
        ] {
            match value {
                Some(v) => tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                )?,
                None => tx.execute("DELETE FROM meta WHERE key = ?1", [key])?,
            };
        }
        // Marks that existed when the watermark was read have a lower sequence number; a
        // mark set since (even by a batch of snapshots only, which takes the current
        // number) is kept for the next run.
        tx.execute("DELETE FROM dirty_day WHERE seq < ?1", [watermark as i64])?;
        tx.commit()?;
        Ok(())
    }

    fn reset_rollups(&mut self) -> Result<(), StoreError> {
        self.sync(true)?;
        self.conn.execute_batch(
            "BEGIN IMMEDIATE; DELETE FROM rollup_scope_day; DELETE FROM rollup_day; DELETE FROM anomaly;
             DELETE FROM meta WHERE key IN ('rollup_fingerprint', 'rollup_first_snapshot'); COMMIT;",
        )?;
        Ok(())
    }

    fn purge_events_before(&mut self, t: Nanos, day: Day) -> Result<u64, StoreError> {
        self.sync(true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n: i64 = tx.query_row(
            "SELECT coalesce(sum(n), 0) FROM event_chunk WHERE max_ts < ?1",
            [t],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM event_chunk WHERE max_ts < ?1", [t])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('frozen_before', ?1)
             ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            [day.to_string()],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    fn rolled_days(&mut self) -> Result<Option<(Day, Day)>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT min(day), max(day) FROM rollup_day", [], |r| {
                Ok(
                    match (r.get::<_, Option<Day>>(0)?, r.get::<_, Option<Day>>(1)?) {
                        (Some(a), Some(b)) => Some((a, b)),
                        _ => None,
                    },
                )
            })?)
    }

    fn scope_days(
        &mut self,
        scope: Scope,
        from: Day,
        to: Day,
        detail: bool,
    ) -> Result<Vec<(Day, SlotRecord)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT day, data FROM rollup_scope_day
             WHERE scope_kind = ?1 AND scope_id = ?2 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        let mut rows = st.query(params![scope_kind_code(scope.kind), scope.id, from, to])?;
        let mut out = Vec::new();
        let mut records = Vec::new();
        while let Some(r) = rows.next()? {
            let day: Day = r.get(0)?;
            records.clear();
            codec::decode_scope_day(r.get_ref(1)?.as_blob()?, scope, detail, &mut records)?;
            out.extend(records.drain(..).map(|rec| (day, rec)));
        }
        Ok(out)
    }

    fn day_summaries(&mut self, from: Day, to: Day) -> Result<Vec<DaySummary>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT day, events, sessions, stray_logouts FROM rollup_day WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        )?;
        let rows = st.query_map([from, to], |r| {
            Ok(DaySummary {
                day: r.get(0)?,
                events: get_u64(r, 1)?,
                sessions: get_u64(r, 2)?,
                stray_logouts: get_u64(r, 3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn anomalies(&mut self, from: Day, to: Day) -> Result<Vec<(Day, Anomaly)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT day, ts, agent, kind FROM anomaly WHERE day BETWEEN ?1 AND ?2 ORDER BY ts, agent")?;
        let rows = st.query_map([from, to], |r| {
            let kind: String = r.get(3)?;
            Ok((
                r.get(0)?,
                Anomaly {
                    ts: r.get(1)?,
                    agent: r.get(2)?,
                    kind: AnomalyKind::parse(&kind),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn status(&mut self) -> Result<StoreStatus, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT name, kind, last_success, last_error, last_error_at, runs, failures, events, duplicates, snapshots, rejects
             FROM collector ORDER BY name",
        )?;
        let collectors = st
            .query_map([], |r| {
                Ok(CollectorStatus {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    last_success: r.get(2)?,
                    last_error: match (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<String>>(3)?)
                    {
                        (Some(at), Some(e)) => Some((at, e)),
                        _ => None,
                    },
                    runs: get_u64(r, 5)?,
                    failures: get_u64(r, 6)?,
                    events: get_u64(r, 7)?,
                    duplicates: get_u64(r, 8)?,
                    snapshots: get_u64(r, 9)?,
                    rejects: get_u64(r, 10)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        drop(st);
        let span = self.event_span()?;
        let c = &self.conn;
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(c.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))?
                .unwrap_or(0) as u64)
        };
        let page_count = count("PRAGMA page_count")?;
        let page_size = count("PRAGMA page_size")?;
        let status = StoreStatus {
            location: self.location(),
            collectors,
            events: count("SELECT sum(n) FROM event_chunk")?,
            first_event: span.map(|s| s.0),
            last_event: span.map(|s| s.1),
            snapshots: count("SELECT count(*) FROM snapshot")?,
            rejects: count("SELECT count(*) FROM reject")?,
            tenants: count("SELECT count(*) FROM tenant")?,
            agents: count("SELECT count(*) FROM agent")?,
            groups: count("SELECT count(*) FROM grp")?,
            pending_days: count("SELECT count(*) FROM dirty_day")?,
            rolled: None,
            size_bytes: page_count * page_size,
        };
        let rolled = self.rolled_days()?;
        Ok(StoreStatus { rolled, ..status })
    }
}
