//! The PostgreSQL store, for central deployments: the same tables and encodings as the
//! embedded store (migrations/postgres), through sqlx on a runtime of its own, so that the
//! rest of seatmeter keeps one synchronous [`Store`] interface.
//!
//! Writes are few and wide: a batch of events is a handful of rows (one compact chunk per
//! UTC day), dimensions new to a batch are inserted with one multi-row statement per table,
//! rejected lines and dirty-day marks as arrays. Ingests lock the `next_seq` row of `meta`
//! first, so two collectors writing at once are serialised as on SQLite.

use std::collections::BTreeMap;

use seatmeter_collectors::time::NANOS_PER_DAY;
use seatmeter_collectors::{Batch, ListId, Nanos, Sym};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, Row};

use super::codec;
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    /// Always Some until dropped (see the Drop impl).
    rt: Option<tokio::runtime::Runtime>,
    conn: PgConnection,
    /// The URL without its password, for messages.
    location: String,
    /// The password, so that no message shows it.
    password: Option<String>,
    cache: Option<DimCache>,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Postgres(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Schema(format!("migrating the PostgreSQL store: {e}"))
    }
}

/// Counts are BIGINT and never negative.
fn u(r: &PgRow, i: usize) -> Result<u64, sqlx::Error> {
    Ok(r.try_get::<i64, _>(i)? as u64)
}

fn id(r: &PgRow, i: usize) -> Result<u32, sqlx::Error> {
    Ok(r.try_get::<i64, _>(i)? as u32)
}

impl PgStore {
    /// Connects to the database at `url` and applies the migrations not applied yet.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let location = crate::config::redact_url(url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Other(format!("starting the PostgreSQL client: {e}")))?;
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Other(format!("store URL {location}: {e}")))?;
        let password = seatmeter_collectors::password_of(url);
        let redact = |e: String| match &password {
            Some(p) if !p.is_empty() => e.replace(p.as_str(), "***"),
            _ => e,
        };
        let conn = rt
            .block_on(PgConnection::connect_with(&options))
            .map_err(|e| {
                StoreError::Postgres(redact(format!("connecting to {location} failed: {e}")))
            })?;
        let mut store = PgStore {
            rt: Some(rt),
            conn,
            location,
            password,
            cache: None,
        };
        let location = store.location.clone();
        store.run(async |c| {
            let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&mut *c)
                .await?;
            if schema.is_none() {
                return Err(StoreError::Schema(format!(
                    "{location}: no schema to keep seatmeter's tables in; the search_path names a schema that does not exist: create it first (CREATE SCHEMA ...)"
                )));
            }
            Ok(MIGRATOR.run(c).await?)
        })?;
        Ok(store)
    }

    /// Runs `f` on the connection; errors never carry the password.
    fn run<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let rt = self.rt.as_ref().expect("runtime until dropped");
        let result = rt.block_on(f(&mut self.conn));
        result.map_err(|e| match (&self.password, e) {
            (Some(p), StoreError::Postgres(m)) if !p.is_empty() => {
                StoreError::Postgres(m.replace(p.as_str(), "***"))
            }
            (_, e) => e,
        })
    }

    fn load_cache(&mut self) -> Result<(), StoreError> {
        if self.cache.is_none() {
            let rows = self.dimension_rows(true)?;
            self.cache = Some(DimCache::from_rows(rows)?);
        }
        Ok(())
    }

    /// The rows of the dimension tables (places only when asked: the ingest cache needs
    /// them, the dimensions do not).
    fn dimension_rows(&mut self, places: bool) -> Result<DimensionRows, StoreError> {
        self.run(async |c| {
            let mut names = async |sql: &'static str| -> Result<NameRows, StoreError> {
                let rows = sqlx::query(sql).fetch_all(&mut *c).await?;
                rows.iter()
                    .map(|r| Ok((id(r, 0)?, id(r, 1)?, r.try_get(2)?)))
                    .collect()
            };
            let name_rows = [
                names("SELECT id, 0::bigint, name FROM tenant").await?,
                names("SELECT id, tenant, name FROM agent").await?,
                names("SELECT id, tenant, name FROM grp").await?,
                names("SELECT id, 0::bigint, name FROM media").await?,
            ];
            let places = if places {
                names("SELECT id, 0::bigint, name FROM place").await?
            } else {
                Vec::new()
            };
            let mut sets = async |sql: &'static str| -> Result<SetRows, StoreError> {
                let rows = sqlx::query(sql).fetch_all(&mut *c).await?;
                rows.iter()
                    .map(|r| Ok((id(r, 0)?, r.try_get(1)?)))
                    .collect()
            };
            Ok(DimensionRows {
                names: name_rows,
                places,
                sets: [
                    sets("SELECT id, members FROM groupset").await?,
                    sets("SELECT id, members FROM mediaset").await?,
                ],
            })
        })
    }

    fn meta_get(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.run(async |c| {
            Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(c)
                .await?)
        })
    }

    fn ingest_tx(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        self.load_cache()?;
        let mut cache = self.cache.take().expect("loaded");
        let result = self.run(async |c| {
            let mut tx = c.begin().await?;
            // The lock that serialises ingests; the row exists from the first migration.
            let next_seq: String =
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'next_seq' FOR UPDATE")
                    .fetch_one(&mut *tx)
                    .await?;
            let mut seq: u64 = next_seq.parse().unwrap_or(1);
            let ids = resolve(&mut tx, &mut cache, batch).await?;
            let mut stats = IngestStats::default();
            let mut by_day: BTreeMap<i64, Vec<StoredEvent>> = BTreeMap::new();
            for e in &batch.events {
                let tenant = ids.tenants[e.tenant as usize];
                let stored = StoredEvent {
                    ts: e.ts,
                    seq,
                    kind: e.kind,
                    agent: ids.agents[&(tenant, e.agent)],
                    place: ids.places[e.place as usize],
                    groups: ids.groupset(tenant, e.groups),
                    media: ids.mediasets[e.media as usize],
                };
                seq += 1;
                by_day
                    .entry(e.ts.div_euclid(NANOS_PER_DAY))
                    .or_default()
                    .push(stored);
            }
            let stamp = seq as i64;
            let mut dirty: Vec<i64> = Vec::new();
            let mut stored = Vec::new();
            for (day, events) in by_day {
                stored.clear();
                let chunks: Vec<Vec<u8>> =
                    sqlx::query_scalar("SELECT data FROM event_chunk WHERE utc_day = $1")
                        .bind(day)
                        .fetch_all(&mut *tx)
                        .await?;
                for blob in &chunks {
                    codec::decode_events(blob, &mut stored)?;
                }
                let (events, dropped) = new_events_of_day(events, &mut stored, chunks.len());
                stats.duplicates += dropped;
                if events.is_empty() {
                    continue;
                }
                stats.events += events.len() as u64;
                sqlx::query(
                    "INSERT INTO event_chunk (utc_day, collector, n, min_ts, max_ts, data) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(day)
                .bind(collector)
                .bind(events.len() as i64)
                .bind(events[0].ts)
                .bind(events[events.len() - 1].ts)
                .bind(codec::encode_events(&events))
                .execute(&mut *tx)
                .await?;
                dirty.push(day);
            }
            for (s, rows) in batch.snapshots.iter().zip(&ids.snapshots) {
                let n = sqlx::query(
                    "INSERT INTO snapshot (taken, source, collector, sha256, agents, data) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(s.taken)
                .bind(&s.source)
                .bind(collector)
                .bind(&s.sha256[..])
                .bind(rows.len() as i64)
                .bind(codec::encode_snapshot(rows))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    stats.snapshots += 1;
                    dirty.push(s.taken.div_euclid(NANOS_PER_DAY));
                } else {
                    stats.duplicate_snapshots += 1;
                }
            }
            if !batch.rejects.is_empty() {
                let r = &batch.rejects;
                sqlx::query(
                    "INSERT INTO reject (collector, source, line, reason, text, at)
                     SELECT $1, s, l, r, t, $6 FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])
                         WITH ORDINALITY AS x(s, l, r, t, i) ORDER BY i",
                )
                .bind(collector)
                .bind(r.iter().map(|x| x.source.clone()).collect::<Vec<_>>())
                .bind(r.iter().map(|x| x.line as i64).collect::<Vec<_>>())
                .bind(r.iter().map(|x| x.reason.clone()).collect::<Vec<_>>())
                .bind(r.iter().map(|x| x.text.clone()).collect::<Vec<_>>())
                .bind(crate::now_nanos())
                .execute(&mut *tx)
                .await?;
                stats.rejects = r.len() as u64;
            }
            dirty.sort_unstable();
            dirty.dedup();
            sqlx::query(
                "INSERT INTO dirty_day (utc_day, seq) SELECT d, $2 FROM unnest($1::bigint[]) AS d
                 ON CONFLICT (utc_day) DO UPDATE SET seq = excluded.seq",
            )
            .bind(&dirty)
            .bind(stamp)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE meta SET value = $1 WHERE key = 'next_seq'")
                .bind((stamp + 1).to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO collector (name, kind, cursor, events, duplicates, snapshots, rejects)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, cursor = excluded.cursor,
                    events = collector.events + excluded.events,
                    duplicates = collector.duplicates + excluded.duplicates,
                    snapshots = collector.snapshots + excluded.snapshots,
                    rejects = collector.rejects + excluded.rejects",
            )
            .bind(collector)
            .bind(kind)
            .bind(cursor)
            .bind(stats.events as i64)
            .bind(stats.duplicates as i64)
            .bind(stats.snapshots as i64)
            .bind(stats.rejects as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(stats)
        });
        // After a failure the ids the cache learnt may have been rolled back.
        if result.is_ok() {
            self.cache = Some(cache);
        }
        result
    }
}

/// The service may drop a store on one of its async threads, where a runtime cannot be
/// dropped (it would block): let it go in the background instead.
impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `migrate-store`'s side of the copy.
impl PgStore {
    /// Starts the copy's transaction; the store must be empty.
    pub(crate) fn begin_copy(&mut self) -> Result<(), StoreError> {
        let location = self.location.clone();
        self.run(async |c| {
            let held: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM tenant) + (SELECT count(*) FROM event_chunk)
                      + (SELECT count(*) FROM snapshot) + (SELECT count(*) FROM rollup_day)
                      + (SELECT count(*) FROM collector)",
            )
            .fetch_one(&mut *c)
            .await?;
            if held > 0 {
                return Err(StoreError::Other(format!(
                    "the store at {location} already holds data: migrate into an empty database or schema"
                )));
            }
            sqlx::raw_sql("BEGIN").execute(&mut *c).await?;
            Ok(())
        })
    }

    /// Inserts rows given as columns, ids included.
    pub(crate) fn copy_rows(
        &mut self,
        table: &str,
        names: &[&str],
        columns: Vec<super::migrate::Column>,
    ) -> Result<(), StoreError> {
        use super::migrate::Column;
        let types: Vec<&str> = columns
            .iter()
            .map(|c| match c {
                Column::Int(_) => "bigint[]",
                Column::Text(_) => "text[]",
                Column::Blob(_) => "bytea[]",
            })
            .collect();
        let params: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("${}::{t}", i + 1))
            .collect();
        let conflict = if table == "meta" {
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        } else {
            // Only the rows every new store starts with (place, group set and media
            // set 0) are there already, and they are the same.
            "ON CONFLICT DO NOTHING"
        };
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM unnest({}) {conflict}",
            names.join(", "),
            params.join(", ")
        );
        self.run(async |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for col in columns {
                q = match col {
                    Column::Int(v) => q.bind(v),
                    Column::Text(v) => q.bind(v),
                    Column::Blob(v) => q.bind(v),
                };
            }
            q.execute(c).await?;
            Ok(())
        })
    }

    /// Moves the id sequences past the copied ids and commits, or rolls back.
    pub(crate) fn end_copy(&mut self, commit: bool) -> Result<(), StoreError> {
        self.cache = None;
        self.run(async |c| {
            if !commit {
                sqlx::raw_sql("ROLLBACK").execute(&mut *c).await?;
                return Ok(());
            }
            for &(table, columns) in super::migrate::TABLES {
                if columns.first().map(|c| c.0) == Some("id") {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )))
                    .execute(&mut *c)
                    .await?;
                }
            }
            sqlx::raw_sql("COMMIT").execute(&mut *c).await?;
            Ok(())
        })
    }
}

/// A batch's symbols and lists as store ids.
struct Resolved {
    tenants: Vec<u32>,
    places: Vec<u32>,
    mediasets: Vec<u32>,
    agents: HashMap<(u32, Sym), u32>,
    groupsets: HashMap<(u32, ListId), u32>,
    /// Each snapshot's rows.
    snapshots: Vec<Vec<SnapshotAgentRow>>,
}

impl Resolved {
    fn groupset(&self, tenant: u32, list: ListId) -> u32 {
        if list == 0 {
            0
        } else {
            self.groupsets[&(tenant, list)]
        }
    }
}

/// Inserts the names not known yet (in the order first met, so ids are given as the
/// embedded store gives them) and learns their ids.
async fn insert_names(
    tx: &mut PgConnection,
    table: &str,
    new: &[(u32, String)],
    with_tenant: bool,
) -> Result<Vec<((u32, String), u32)>, StoreError> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = new.iter().map(|(_, n)| n.as_str()).collect();
    let rows = if with_tenant {
        let tenants: Vec<i64> = new.iter().map(|(t, _)| i64::from(*t)).collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (tenant, name)
             SELECT t, n FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS x(t, n, i) ORDER BY i
             ON CONFLICT (tenant, name) DO UPDATE SET name = excluded.name RETURNING id, tenant, name"
        )))
        .bind(tenants)
        .bind(names)
        .fetch_all(&mut *tx)
        .await?
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (name)
             SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS x(n, i) ORDER BY i
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, 0::bigint, name"
        )))
        .bind(names)
        .fetch_all(&mut *tx)
        .await?
    };
    rows.iter()
        .map(|r| Ok(((id(r, 1)?, r.try_get(2)?), id(r, 0)?)))
        .collect()
}

async fn insert_sets(
    tx: &mut PgConnection,
    table: &str,
    map: &mut HashMap<Vec<u32>, u32>,
    new: Vec<Vec<u32>>,
) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    let blobs: Vec<Vec<u8>> = new.iter().map(|m| codec::encode_u32s(m)).collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} (members)
         SELECT m FROM unnest($1::bytea[]) WITH ORDINALITY AS x(m, i) ORDER BY i
         ON CONFLICT (members) DO UPDATE SET members = excluded.members RETURNING id, members"
    )))
    .bind(blobs)
    .fetch_all(&mut *tx)
    .await?;
    for r in rows {
        let blob: Vec<u8> = r.try_get(1)?;
        let mut members = Vec::new();
        codec::decode_u32s(&blob, &mut members)?;
        map.insert(members, id(&r, 0)?);
    }
    Ok(())
}

/// Gives every name, group set and media set of the batch its id, inserting the new
/// ones with one statement per table: tenants first, then what belongs to a tenant, then
/// the sets of ids.
async fn resolve(
    tx: &mut PgConnection,
    c: &mut DimCache,
    batch: &Batch,
) -> Result<Resolved, StoreError> {
    let s = |sym: Sym| batch.string(sym);
    // (tenant, agent, groups, media) of every event, then of every snapshot row.
    let uses: Vec<(Sym, Sym, ListId, ListId)> = batch
        .events
        .iter()
        .map(|e| (e.tenant, e.agent, e.groups, e.media))
        .chain(batch.snapshots.iter().flat_map(|x| {
            x.agents
                .iter()
                .map(|a| (a.tenant, a.agent, a.groups, a.media))
        }))
        .collect();

    // Tenants.
    let mut new = Vec::new();
    let mut seen = HashSet::default();
    for &(t, ..) in &uses {
        if !c.tenants.contains_key(s(t)) && seen.insert(t) {
            new.push((0, s(t).to_string()));
        }
    }
    for ((_, name), id) in insert_names(tx, "tenant", &new, false).await? {
        c.tenants.insert(name, id);
    }
    let mut tenants = vec![0; batch.strings().len()];
    for &(t, ..) in &uses {
        tenants[t as usize] = c.tenants[s(t)];
    }

    // Agents, groups, places and media words.
    let (mut new_agents, mut new_groups, mut new_places, mut new_media) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut agents: HashMap<(u32, Sym), u32> = HashMap::default();
    let mut pending_agents = Vec::new();
    let mut seen_groups = HashSet::default();
    let mut seen_words = HashSet::default();
    for &(t, a, g, m) in &uses {
        let tenant = tenants[t as usize];
        if let std::collections::hash_map::Entry::Vacant(v) = agents.entry((tenant, a)) {
            match c.agents.get(&(tenant, s(a).to_string())) {
                Some(&id) => {
                    v.insert(id);
                }
                None => {
                    v.insert(u32::MAX);
                    new_agents.push((tenant, s(a).to_string()));
                    pending_agents.push((tenant, a));
                }
            }
        }
        for &sym in batch.list(g) {
            if seen_groups.insert((tenant, sym))
                && !c.groups.contains_key(&(tenant, s(sym).to_string()))
            {
                new_groups.push((tenant, s(sym).to_string()));
            }
        }
        for &sym in batch.list(m) {
            if seen_words.insert(sym) && !c.media.contains_key(s(sym)) {
                new_media.push((0, s(sym).to_string()));
            }
        }
    }
    let mut seen_places = HashSet::default();
    for e in &batch.events {
        if seen_places.insert(e.place) && !c.places.contains_key(s(e.place)) {
            new_places.push((0, s(e.place).to_string()));
        }
    }
    for (key, id) in insert_names(tx, "agent", &new_agents, true).await? {
        c.agents.insert(key, id);
    }
    for (tenant, a) in pending_agents {
        agents.insert((tenant, a), c.agents[&(tenant, s(a).to_string())]);
    }
    for (key, id) in insert_names(tx, "grp", &new_groups, true).await? {
        c.groups.insert(key, id);
    }
    for ((_, name), id) in insert_names(tx, "place", &new_places, false).await? {
        c.places.insert(name, id);
    }
    for ((_, name), id) in insert_names(tx, "media", &new_media, false).await? {
        c.media.insert(name, id);
    }
    let mut places = vec![0; batch.strings().len()];
    for e in &batch.events {
        places[e.place as usize] = c.places[s(e.place)];
    }

    // Group sets (per tenant) and media sets.
    let mut group_members: HashMap<(u32, ListId), Vec<u32>> = HashMap::default();
    let mut media_members: HashMap<ListId, Vec<u32>> = HashMap::default();
    let (mut new_gs, mut new_ms) = (Vec::new(), Vec::new());
    let (mut seen_gs, mut seen_ms) = (HashSet::default(), HashSet::default());
    for &(t, _, g, m) in &uses {
        let tenant = tenants[t as usize];
        if g != 0 && !group_members.contains_key(&(tenant, g)) {
            let mut members: Vec<u32> = batch
                .list(g)
                .iter()
                .map(|&sym| c.groups[&(tenant, s(sym).to_string())])
                .collect();
            members.sort_unstable();
            members.dedup();
            if !c.groupsets.contains_key(&members) && seen_gs.insert(members.clone()) {
                new_gs.push(members.clone());
            }
            group_members.insert((tenant, g), members);
        }
        if m != 0 && !media_members.contains_key(&m) {
            let mut members: Vec<u32> = batch.list(m).iter().map(|&sym| c.media[s(sym)]).collect();
            members.sort_unstable();
            members.dedup();
            if !c.mediasets.contains_key(&members) && seen_ms.insert(members.clone()) {
                new_ms.push(members.clone());
            }
            media_members.insert(m, members);
        }
    }
    insert_sets(tx, "groupset", &mut c.groupsets, new_gs).await?;
    insert_sets(tx, "mediaset", &mut c.mediasets, new_ms).await?;
    let groupsets = group_members
        .into_iter()
        .map(|(k, members)| (k, c.groupsets[&members]))
        .collect();
    let mut mediasets = vec![0; batch.lists().len()];
    for (m, members) in media_members {
        mediasets[m as usize] = c.mediasets[&members];
    }
    let mut r = Resolved {
        tenants,
        places,
        mediasets,
        agents,
        groupsets,
        snapshots: Vec::new(),
    };
    r.snapshots = batch
        .snapshots
        .iter()
        .map(|x| {
            x.agents
                .iter()
                .map(|a| {
                    let tenant = r.tenants[a.tenant as usize];
                    SnapshotAgentRow {
                        agent: r.agents[&(tenant, a.agent)],
                        enabled: a.enabled,
                        media: r.mediasets[a.media as usize],
                        groups: r.groupset(tenant, a.groups),
                    }
                })
                .collect()
        })
        .collect();
    Ok(r)
}

impl Store for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn cursor(&mut self, collector: &str) -> Result<Option<String>, StoreError> {
        let name = collector.to_string();
        self.run(async |c| {
            Ok(sqlx::query_scalar::<_, Option<String>>(
                "SELECT cursor FROM collector WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(c)
            .await?
            .flatten())
        })
    }

    fn ingest(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        self.ingest_tx(collector, kind, batch, cursor)
    }

    fn record_run(
        &mut self,
        collector: &str,
        kind: &str,
        at: Nanos,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (name, kind, error) = (
            collector.to_string(),
            kind.to_string(),
            error.map(str::to_string),
        );
        self.run(async |c| {
            match error {
                None => sqlx::query(
                    "INSERT INTO collector (name, kind, last_success, runs) VALUES ($1, $2, $3, 1)
                     ON CONFLICT (name) DO UPDATE SET last_success = excluded.last_success, runs = collector.runs + 1",
                )
                .bind(name)
                .bind(kind)
                .bind(at)
                .execute(c)
                .await?,
                Some(e) => sqlx::query(
                    "INSERT INTO collector (name, kind, last_error, last_error_at, runs, failures) VALUES ($1, $2, $3, $4, 1, 1)
                     ON CONFLICT (name) DO UPDATE SET last_error = excluded.last_error,
                        last_error_at = excluded.last_error_at, runs = collector.runs + 1, failures = collector.failures + 1",
                )
                .bind(name)
                .bind(kind)
                .bind(e)
                .bind(at)
                .execute(c)
                .await?,
            };
            Ok(())
        })
    }

    fn reset_cursor(&mut self, collector: &str) -> Result<bool, StoreError> {
        let name = collector.to_string();
        self.run(async |c| {
            Ok(
                sqlx::query("UPDATE collector SET cursor = NULL WHERE name = $1")
                    .bind(name)
                    .execute(c)
                    .await?
                    .rows_affected()
                    > 0,
            )
        })
    }

    fn dimensions(&mut self) -> Result<Dimensions, StoreError> {
        Dimensions::from_rows(self.dimension_rows(false)?)
    }

    fn event_span(&mut self) -> Result<Option<(Nanos, Nanos)>, StoreError> {
        self.run(async |c| {
            let r = sqlx::query("SELECT min(min_ts), max(max_ts) FROM event_chunk")
                .fetch_one(c)
                .await?;
            Ok(
                match (
                    r.try_get::<Option<i64>, _>(0)?,
                    r.try_get::<Option<i64>, _>(1)?,
                ) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                },
            )
        })
    }

    fn events_on_utc_day(&mut self, day: i64) -> Result<Vec<StoredEvent>, StoreError> {
        self.run(async |c| {
            let chunks: Vec<Vec<u8>> =
                sqlx::query_scalar("SELECT data FROM event_chunk WHERE utc_day = $1")
                    .bind(day)
                    .fetch_all(c)
                    .await?;
            let mut out = Vec::new();
            for blob in &chunks {
                codec::decode_events(blob, &mut out)?;
            }
            Ok(out)
        })
    }

    fn snapshots(&mut self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT id, taken, source, collector, agents FROM snapshot ORDER BY taken, id",
            )
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(SnapshotInfo {
                        id: id(r, 0)?,
                        taken: r.try_get(1)?,
                        source: r.try_get(2)?,
                        collector: r.try_get(3)?,
                        agents: u(r, 4)?,
                    })
                })
                .collect()
        })
    }

    fn snapshot_agents(&mut self, snapshot: u32) -> Result<Vec<SnapshotAgentRow>, StoreError> {
        self.run(async |c| {
            let blob: Vec<u8> = sqlx::query_scalar("SELECT data FROM snapshot WHERE id = $1")
                .bind(i64::from(snapshot))
                .fetch_one(c)
                .await?;
            codec::decode_snapshot(&blob)
        })
    }

    fn rejects(&mut self, limit: Option<u64>) -> Result<Vec<StoredReject>, StoreError> {
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT collector, source, line, reason, text, at FROM reject ORDER BY id LIMIT $1",
            )
            .bind(limit.map(|l| l.min(i64::MAX as u64) as i64))
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredReject {
                        collector: r.try_get(0)?,
                        source: r.try_get(1)?,
                        line: u(r, 2)?,
                        reason: r.try_get(3)?,
                        text: r.try_get(4)?,
                        at: r.try_get(5)?,
                    })
                })
                .collect()
        })
    }

    fn dirty_days(&mut self) -> Result<(Vec<i64>, u64), StoreError> {
        self.run(async |c| {
            // One snapshot for both reads, as SQLite's read transaction gives.
            let mut tx = c.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
            let days: Vec<i64> =
                sqlx::query_scalar("SELECT utc_day FROM dirty_day ORDER BY utc_day")
                    .fetch_all(&mut *tx)
                    .await?;
            let watermark: Option<String> =
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'next_seq'")
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.commit().await?;
            Ok((days, watermark.and_then(|s| s.parse().ok()).unwrap_or(0)))
        })
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
        self.run(async |c| {
            let row = sqlx::query(
                "SELECT start_fp, end_state, events, sessions, stray_logouts FROM rollup_day WHERE day = $1",
            )
            .bind(i64::from(day))
            .fetch_optional(c)
            .await?;
            row.map(|r| {
                let fp: Vec<u8> = r.try_get(0)?;
                Ok(DayRecord {
                    day,
                    start_fp: fp.try_into().unwrap_or([0; 32]),
                    end_state: r.try_get(1)?,
                    events: u(&r, 2)?,
                    sessions: u(&r, 3)?,
                    stray_logouts: u(&r, 4)?,
                })
            })
            .transpose()
        })
    }

    fn write_day(
        &mut self,
        rec: &DayRecord,
        slots: &[SlotRecord],
        anomalies: &[Anomaly],
    ) -> Result<(), StoreError> {
        let scopes = group_by_scope(slots);
        let kinds: Vec<i64> = scopes
            .iter()
            .map(|(s, _)| scope_kind_code(s.kind))
            .collect();
        let ids: Vec<i64> = scopes.iter().map(|(s, _)| i64::from(s.id)).collect();
        let data: Vec<Vec<u8>> = scopes
            .iter()
            .map(|(_, r)| codec::encode_scope_day(r))
            .collect();
        self.run(async |c| {
            let mut tx = c.begin().await?;
            for sql in [
                "DELETE FROM rollup_scope_day WHERE day = $1",
                "DELETE FROM anomaly WHERE day = $1",
            ] {
                sqlx::query(sql).bind(i64::from(rec.day)).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO rollup_day (day, start_fp, end_state, events, sessions, stray_logouts)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (day) DO UPDATE SET start_fp = excluded.start_fp, end_state = excluded.end_state,
                    events = excluded.events, sessions = excluded.sessions, stray_logouts = excluded.stray_logouts",
            )
            .bind(i64::from(rec.day))
            .bind(&rec.start_fp[..])
            .bind(&rec.end_state)
            .bind(rec.events as i64)
            .bind(rec.sessions as i64)
            .bind(rec.stray_logouts as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO rollup_scope_day (scope_kind, scope_id, day, data)
                 SELECT k, i, $1, d FROM unnest($2::bigint[], $3::bigint[], $4::bytea[]) AS x(k, i, d)",
            )
            .bind(i64::from(rec.day))
            .bind(kinds)
            .bind(ids)
            .bind(data)
            .execute(&mut *tx)
            .await?;
            if !anomalies.is_empty() {
                sqlx::query(
                    "INSERT INTO anomaly (day, ts, agent, kind)
                     SELECT $1, t, a, k FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS x(t, a, k)",
                )
                .bind(i64::from(rec.day))
                .bind(anomalies.iter().map(|a| a.ts).collect::<Vec<_>>())
                .bind(anomalies.iter().map(|a| i64::from(a.agent)).collect::<Vec<_>>())
                .bind(anomalies.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn finish_rollup(&mut self, meta: &RollupMeta, watermark: u64) -> Result<(), StoreError> {
        let values = [
            ("rollup_fingerprint", meta.fingerprint.clone()),
            (
                "rollup_first_snapshot",
                meta.first_snapshot.map(|t| t.to_string()),
            ),
        ];
        self.run(async |c| {
            let mut tx = c.begin().await?;
            for (key, value) in values {
                match value {
                    Some(v) => sqlx::query(
                        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(key)
                    .bind(v)
                    .execute(&mut *tx)
                    .await?,
                    None => sqlx::query("DELETE FROM meta WHERE key = $1")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?,
                };
            }
            sqlx::query("DELETE FROM dirty_day WHERE seq < $1")
                .bind(watermark as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn reset_rollups(&mut self) -> Result<(), StoreError> {
        self.run(async |c| {
            let mut tx = c.begin().await?;
            for sql in [
                "DELETE FROM rollup_scope_day",
                "DELETE FROM rollup_day",
                "DELETE FROM anomaly",
                "DELETE FROM meta WHERE key IN ('rollup_fingerprint', 'rollup_first_snapshot')",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn purge_events_before(&mut self, t: Nanos, day: Day) -> Result<u64, StoreError> {
        self.run(async |c| {
            let mut tx = c.begin().await?;
            let n: i64 = sqlx::query_scalar(
                "SELECT coalesce(sum(n), 0)::bigint FROM event_chunk WHERE max_ts < $1",
            )
            .bind(t)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM event_chunk WHERE max_ts < $1")
                .bind(t)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('frozen_before', $1)
                 ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text",
            )
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(n as u64)
        })
    }

    fn rolled_days(&mut self) -> Result<Option<(Day, Day)>, StoreError> {
        self.run(async |c| {
            let r = sqlx::query("SELECT min(day), max(day) FROM rollup_day")
                .fetch_one(c)
                .await?;
            Ok(
                match (
                    r.try_get::<Option<i64>, _>(0)?,
                    r.try_get::<Option<i64>, _>(1)?,
                ) {
                    (Some(a), Some(b)) => Some((a as Day, b as Day)),
                    _ => None,
                },
            )
        })
    }

    fn scope_days(
        &mut self,
        scope: Scope,
        from: Day,
        to: Day,
        detail: bool,
    ) -> Result<Vec<(Day, SlotRecord)>, StoreError> {
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT day, data FROM rollup_scope_day
                 WHERE scope_kind = $1 AND scope_id = $2 AND day BETWEEN $3 AND $4 ORDER BY day",
            )
            .bind(scope_kind_code(scope.kind))
            .bind(i64::from(scope.id))
            .bind(i64::from(from))
            .bind(i64::from(to))
            .fetch_all(c)
            .await?;
            let mut out = Vec::new();
            let mut records = Vec::new();
            for r in rows {
                let day = r.try_get::<i64, _>(0)? as Day;
                let blob: &[u8] = r.try_get(1)?;
                records.clear();
                codec::decode_scope_day(blob, scope, detail, &mut records)?;
                out.extend(records.drain(..).map(|rec| (day, rec)));
            }
            Ok(out)
        })
    }

    fn day_summaries(&mut self, from: Day, to: Day) -> Result<Vec<DaySummary>, StoreError> {
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT day, events, sessions, stray_logouts FROM rollup_day WHERE day BETWEEN $1 AND $2 ORDER BY day",
            )
            .bind(i64::from(from))
            .bind(i64::from(to))
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(DaySummary {
                        day: r.try_get::<i64, _>(0)? as Day,
                        events: u(r, 1)?,
                        sessions: u(r, 2)?,
                        stray_logouts: u(r, 3)?,
                    })
                })
                .collect()
        })
    }

    fn anomalies(&mut self, from: Day, to: Day) -> Result<Vec<(Day, Anomaly)>, StoreError> {
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT day, ts, agent, kind FROM anomaly WHERE day BETWEEN $1 AND $2 ORDER BY ts, agent",
            )
            .bind(i64::from(from))
            .bind(i64::from(to))
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get(3)?;
                    Ok((
                        r.try_get::<i64, _>(0)? as Day,
                        Anomaly {
                            ts: r.try_get(1)?,
                            agent: id(r, 2)?,
                            kind: AnomalyKind::parse(&kind),
                        },
                    ))
                })
                .collect()
        })
    }

    fn status(&mut self) -> Result<StoreStatus, StoreError> {
        let span = self.event_span()?;
        let rolled = self.rolled_days()?;
        let location = self.location();
        self.run(async |c| {
            let rows = sqlx::query(
                "SELECT name, kind, last_success, last_error, last_error_at, runs, failures, events, duplicates, snapshots, rejects
                 FROM collector ORDER BY name",
            )
            .fetch_all(&mut *c)
            .await?;
            let collectors = rows
                .iter()
                .map(|r| {
                    Ok(CollectorStatus {
                        name: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        last_success: r.try_get(2)?,
                        last_error: match (
                            r.try_get::<Option<i64>, _>(4)?,
                            r.try_get::<Option<String>, _>(3)?,
                        ) {
                            (Some(at), Some(e)) => Some((at, e)),
                            _ => None,
                        },
                        runs: u(r, 5)?,
                        failures: u(r, 6)?,
                        events: u(r, 7)?,
                        duplicates: u(r, 8)?,
                        snapshots: u(r, 9)?,
                        rejects: u(r, 10)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut count = async |sql: &'static str| -> Result<u64, StoreError> {
                let v: Option<i64> = sqlx::query_scalar(sql).fetch_one(&mut *c).await?;
                Ok(v.unwrap_or(0).max(0) as u64)
            };
            Ok(StoreStatus {
                location,
                collectors,
                events: count("SELECT sum(n)::bigint FROM event_chunk").await?,
                first_event: span.map(|s| s.0),
                last_event: span.map(|s| s.1),
                snapshots: count("SELECT count(*) FROM snapshot").await?,
                rejects: count("SELECT count(*) FROM reject").await?,
                tenants: count("SELECT count(*) FROM tenant").await?,
                agents: count("SELECT count(*) FROM agent").await?,
                groups: count("SELECT count(*) FROM grp").await?,
                pending_days: count("SELECT count(*) FROM dirty_day").await?,
                rolled,
                size_bytes: count(
                    "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                )
                .await?,
            })
        })
    }
}
