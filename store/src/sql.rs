//! The [`Store`], written once over a [`Dialect`]: every statement in SQL that SQLite and
//! PostgreSQL both run, every row read by one mapper.

use rustc_hash::FxHashMap as HashMap;
use seatmeter_collectors::Batch;
use seatmeter_core::{Day, Nanos};

use crate::dialect::{Begin, Dialect, Param, Row, params};
use crate::ingest::{self, DimCache};
use crate::restate::{group_by_scope, restatements_of};
use crate::schema::{columns, meta};
use crate::{
    AgentActivity, Anomaly, AnomalyKind, CollectorStatus, CursorCheck, DayRecord, DaySummary,
    Dimensions, IngestStats, Restatement, RollupMeta, Scope, SlotRecord, SnapshotAgentRow,
    SnapshotInfo, SnapshotPlaceRow, Store, StoreError, StoreStatus, StoredEvent, StoredReject,
    codec, scope_kind_code, scope_kind_from_code,
};

pub(crate) struct SqlStore<D: Dialect> {
    pub(crate) d: D,
    /// Name -> id of every dimension, loaded at the first ingest; dropped after a failed
    /// transaction (its ids may have been rolled back).
    cache: Option<DimCache>,
}

impl<D: Dialect> SqlStore<D> {
    pub(crate) fn new(d: D) -> SqlStore<D> {
        SqlStore { d, cache: None }
    }

    fn meta_values(&mut self) -> Result<HashMap<String, String>, StoreError> {
        self.d
            .query("SELECT key, value FROM meta", &[])?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect()
    }

    fn set_meta(d: &mut D, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(v) => d.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => d.execute("DELETE FROM meta WHERE key = $1", params![key])?,
        };
        Ok(())
    }

    fn count(&mut self, sql: &str) -> Result<u64, StoreError> {
        Ok(self
            .d
            .query_row(sql, &[])?
            .map(|r| r.opt_i64(0))
            .transpose()?
            .flatten()
            .unwrap_or(0)
            .max(0) as u64)
    }
}

/// A row of a dimension table: (id, (tenant id or 0, name)).
type NameRow = (u32, (u32, String));

/// Places `(id, value)` pairs in a vector indexed by id.
fn by_id<T: Default + Clone>(rows: impl IntoIterator<Item = (u32, T)>) -> Vec<T> {
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

fn collector_status(r: &Row) -> Result<CollectorStatus, StoreError> {
    Ok(CollectorStatus {
        name: r.text(0)?,
        kind: r.text(1)?,
        last_success: r.opt_i64(2)?,
        last_error: match (r.opt_i64(4)?, r.opt_text(3)?) {
            (Some(at), Some(e)) => Some((at, e)),
            _ => None,
        },
        runs: r.u64(5)?,
        failures: r.u64(6)?,
        events: r.u64(7)?,
        duplicates: r.u64(8)?,
        snapshots: r.u64(9)?,
        rejects: r.u64(10)?,
    })
}

fn span(r: Option<Row>) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(match r {
        Some(r) => match (r.opt_i64(0)?, r.opt_i64(1)?) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        },
        None => None,
    })
}

/// (id, (tenant, name)) of each row of a dimension query.
fn names<D: Dialect>(d: &mut D, sql: &str) -> Result<Vec<NameRow>, StoreError> {
    d.query(sql, &[])?
        .iter()
        .map(|r| Ok((r.u32(0)?, (r.u32(1)?, r.text(2)?))))
        .collect()
}

impl<D: Dialect> Store for SqlStore<D> {
    fn recommendations(&mut self) -> Result<Vec<crate::reco::Recommendation>, StoreError> {
        crate::reco::recommendations(&mut self.d)
    }

    fn put_recommendations(
        &mut self,
        rows: &[crate::reco::Recommendation],
    ) -> Result<(), StoreError> {
        crate::reco::put_recommendations(&mut self.d, rows)
    }

    fn decide(
        &mut self,
        id: &str,
        approve: bool,
        by: &str,
        reason: &str,
        at: Nanos,
    ) -> Result<crate::reco::Decision, StoreError> {
        crate::reco::decide(&mut self.d, id, approve, by, reason, at)
    }

    fn decisions(&mut self) -> Result<Vec<crate::reco::Decision>, StoreError> {
        crate::reco::decisions(&mut self.d)
    }

    fn apply_alerts(
        &mut self,
        changes: &[crate::alerts::AlertChange],
        at: Nanos,
    ) -> Result<Vec<crate::alerts::Episode>, StoreError> {
        crate::alerts::apply(&mut self.d, changes, at)
    }

    fn alert_episodes(
        &mut self,
        open_only: bool,
    ) -> Result<Vec<crate::alerts::Episode>, StoreError> {
        crate::alerts::episodes(&mut self.d, open_only)
    }

    fn outbox(&mut self) -> Result<Vec<crate::alerts::OutboxEntry>, StoreError> {
        crate::alerts::outbox(&mut self.d)
    }

    fn outbox_due(&mut self, now: Nanos) -> Result<Vec<crate::alerts::OutboxEntry>, StoreError> {
        crate::alerts::due(&mut self.d, now)
    }

    fn outbox_record(
        &mut self,
        id: i64,
        attempt: &crate::alerts::Attempted,
        at: Nanos,
    ) -> Result<(), StoreError> {
        crate::alerts::record(&mut self.d, id, attempt, at)
    }

    fn outbox_retry(&mut self, id: Option<i64>, at: Nanos) -> Result<u64, StoreError> {
        crate::alerts::retry(&mut self.d, id, at)
    }

    fn outbox_acknowledge(&mut self, id: i64, at: Nanos) -> Result<bool, StoreError> {
        crate::alerts::acknowledge(&mut self.d, id, at)
    }

    fn location(&self) -> String {
        self.d.location()
    }

    fn cursor(&mut self, collector: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .d
            .query_row(
                "SELECT cursor FROM collector WHERE name = $1",
                params![collector],
            )?
            .map(|r| r.opt_text(0))
            .transpose()?
            .flatten())
    }

    fn ingest_checked(
        &mut self,
        collector: &str,
        kind: &str,
        batch: &Batch,
        check: CursorCheck<'_>,
        cursor: &str,
    ) -> Result<IngestStats, StoreError> {
        let mut cache = self.cache.take().unwrap_or_default();
        self.d.set_durable(true)?;
        let result = self.d.transaction(Begin::Write, |d| {
            if let CursorCheck::Was(was) = check {
                ingest::check_cursor(d, collector, was)?;
            }
            ingest::ingest(d, &mut cache, collector, kind, batch, cursor)
        });
        // After a failure the ids the cache gave may have been rolled back.
        if result.is_ok() {
            self.cache = Some(cache);
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
        self.d.set_durable(true)?;
        match error {
            None => self.d.execute(
                "INSERT INTO collector (name, kind, last_success, runs) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (name) DO UPDATE SET last_success = excluded.last_success, runs = collector.runs + 1",
                params![collector, kind, at],
            )?,
            Some(e) => self.d.execute(
                "INSERT INTO collector (name, kind, last_error, last_error_at, runs, failures) VALUES ($1, $2, $3, $4, 1, 1)
                 ON CONFLICT (name) DO UPDATE SET last_error = excluded.last_error,
                    last_error_at = excluded.last_error_at, runs = collector.runs + 1, failures = collector.failures + 1",
                params![collector, kind, e, at],
            )?,
        };
        Ok(())
    }

    fn reset_cursor(&mut self, collector: &str) -> Result<bool, StoreError> {
        self.d.set_durable(true)?;
        Ok(self.d.execute(
            "UPDATE collector SET cursor = NULL WHERE name = $1",
            params![collector],
        )? > 0)
    }

    fn dimensions(&mut self) -> Result<Dimensions, StoreError> {
        let mut names = |sql: &str| names(&mut self.d, sql);
        let agents = names("SELECT id, tenant, name FROM agent")?;
        let media = names("SELECT id, 0, name FROM media")?;
        let mut sets = |sql: &str| -> Result<Vec<Vec<u32>>, StoreError> {
            let rows = self
                .d
                .query(sql, &[])?
                .iter()
                .map(|r| {
                    let mut m = Vec::new();
                    codec::decode_u32s(r.blob(1)?, &mut m)?;
                    Ok((r.u32(0)?, m))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(by_id(rows))
        };
        let groupsets = sets("SELECT id, members FROM groupset")?;
        let mediasets = sets("SELECT id, members FROM mediaset")?;
        Ok(Dimensions {
            agents: by_id(agents),
            media: by_id(media.into_iter().map(|(id, (_, n))| (id, n))),
            groupsets,
            mediasets,
            ..self.scope_names()?
        })
    }

    fn scope_names(&mut self) -> Result<Dimensions, StoreError> {
        let mut names = |sql: &str| names(&mut self.d, sql);
        let tenants = names("SELECT id, 0, name FROM tenant")?;
        let groups = names("SELECT id, tenant, name FROM grp")?;
        let place_groups = names("SELECT id, tenant, name FROM place_grp")?;
        Ok(Dimensions {
            tenants: by_id(tenants.into_iter().map(|(id, (_, n))| (id, n))),
            groups: by_id(groups),
            place_groups: by_id(place_groups),
            ..Dimensions::default()
        })
    }

    fn event_span(&mut self) -> Result<Option<(Nanos, Nanos)>, StoreError> {
        span(
            self.d
                .query_row("SELECT min(min_ts), max(max_ts) FROM event_chunk", &[])?,
        )
    }

    fn events_on_utc_day(&mut self, day: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        self.d.query_each(
            "SELECT data FROM event_chunk WHERE utc_day = $1",
            params![day],
            &mut |r| codec::decode_events(r.blob(0)?, &mut out),
        )?;
        Ok(out)
    }

    fn snapshots(&mut self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.d
            .query(
                "SELECT id, taken, source, collector, agents FROM snapshot ORDER BY taken, id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(SnapshotInfo {
                    id: r.u32(0)?,
                    taken: r.i64(1)?,
                    source: r.text(2)?,
                    collector: r.text(3)?,
                    agents: r.u64(4)?,
                })
            })
            .collect()
    }

    fn snapshot_rows(
        &mut self,
        id: u32,
    ) -> Result<(Vec<SnapshotAgentRow>, Vec<SnapshotPlaceRow>), StoreError> {
        let row = self
            .d
            .query_row("SELECT data FROM snapshot WHERE id = $1", params![id])?
            .ok_or_else(|| StoreError::Corrupt(format!("snapshot {id} is not stored")))?;
        codec::decode_snapshot(row.blob(0)?)
    }

    fn rejects(&mut self, limit: Option<u64>) -> Result<Vec<StoredReject>, StoreError> {
        let rows = self.d.query(
            "SELECT collector, source, line, reason, text, at, tenant FROM reject ORDER BY id LIMIT $1",
            params![limit.unwrap_or(i64::MAX as u64)],
        )?;
        rows.iter().map(stored_reject).collect()
    }

    fn tenant_rejects(
        &mut self,
        tenant: &str,
        limit: u64,
    ) -> Result<(Vec<StoredReject>, u64), StoreError> {
        let rows = self.d.query(
            "SELECT collector, source, line, reason, text, at, tenant FROM reject WHERE tenant = $1 ORDER BY id LIMIT $2",
            params![tenant, limit],
        )?;
        let total = self
            .d
            .query_row(
                "SELECT count(*) FROM reject WHERE tenant = $1",
                params![tenant],
            )?
            .map(|r| r.u64(0))
            .transpose()?
            .unwrap_or(0);
        Ok((
            rows.iter().map(stored_reject).collect::<Result<_, _>>()?,
            total,
        ))
    }

    fn dirty_days(&mut self) -> Result<(Vec<i64>, u64), StoreError> {
        // One snapshot for both reads.
        self.d.transaction(Begin::Read, |d| {
            let days = d
                .query("SELECT utc_day FROM dirty_day ORDER BY utc_day", &[])?
                .iter()
                .map(|r| r.i64(0))
                .collect::<Result<Vec<_>, _>>()?;
            let watermark = d
                .query_row(
                    "SELECT value FROM meta WHERE key = $1",
                    params![meta::NEXT_SEQ],
                )?
                .map(|r| r.text(0))
                .transpose()?
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            Ok((days, watermark))
        })
    }

    fn rollup_meta(&mut self) -> Result<RollupMeta, StoreError> {
        let m = self.meta_values()?;
        Ok(RollupMeta {
            fingerprint: m.get(meta::ROLLUP_FINGERPRINT).cloned(),
            first_snapshot: m
                .get(meta::ROLLUP_FIRST_SNAPSHOT)
                .and_then(|s| s.parse().ok()),
            frozen_before: m.get(meta::FROZEN_BEFORE).and_then(|s| s.parse().ok()),
        })
    }

    fn day_record(&mut self, day: Day) -> Result<Option<DayRecord>, StoreError> {
        self.d
            .query_row(
                "SELECT start_fp, end_state, events, sessions, stray_logouts FROM rollup_day WHERE day = $1",
                params![day],
            )?
            .map(|mut r| {
                Ok(DayRecord {
                    day,
                    start_fp: r.blob(0)?.try_into().unwrap_or([0; 32]),
                    end_state: r.take_blob(1)?,
                    events: r.u64(2)?,
                    sessions: r.u64(3)?,
                    stray_logouts: r.u64(4)?,
                    activity: Vec::new(),
                })
            })
            .transpose()
    }

    fn write_day(
        &mut self,
        rec: &DayRecord,
        slots: &[SlotRecord],
        anomalies: &[Anomaly],
    ) -> Result<(), StoreError> {
        let scopes = group_by_scope(slots);
        let blobs: Vec<Vec<u8>> = scopes
            .iter()
            .map(|(_, r)| codec::encode_scope_day(r))
            .collect();
        let rows: Vec<Vec<Param<'_>>> = scopes
            .iter()
            .zip(&blobs)
            .map(|((scope, _), blob)| {
                params![scope_kind_code(scope.kind), scope.id, rec.day, blob].to_vec()
            })
            .collect();
        let kinds: Vec<&str> = anomalies.iter().map(|a| a.kind.as_str()).collect();
        let anomaly_rows: Vec<Vec<Param<'_>>> = anomalies
            .iter()
            .zip(&kinds)
            .map(|(a, k)| params![rec.day, a.ts, a.agent, *k].to_vec())
            .collect();
        let none = codec::encode_activity(&[]);
        let activity: &[u8] = if rec.activity.is_empty() {
            &none
        } else {
            &rec.activity
        };
        self.d.set_durable(false)?;
        let at = seatmeter_core::time::now_nanos();
        self.d.transaction(Begin::Write, |d| {
            let restated = restatements_of(d, rec.day, slots)?;
            let restated_rows: Vec<Vec<Param<'_>>> = restated
                .iter()
                .map(|r| {
                    params![
                        r.day,
                        scope_kind_code(r.scope.kind),
                        r.scope.id,
                        r.item as u32,
                        r.old_peak,
                        r.new_peak,
                        r.old_enabled,
                        r.new_enabled,
                        at
                    ]
                    .to_vec()
                })
                .collect();
            d.insert_rows(
                "restatement",
                &columns("restatement")[1..],
                &restated_rows,
                "",
            )?;
            d.execute(
                "DELETE FROM rollup_scope_day WHERE day = $1",
                params![rec.day],
            )?;
            d.execute("DELETE FROM anomaly WHERE day = $1", params![rec.day])?;
            d.execute(
                "INSERT INTO rollup_day (day, start_fp, end_state, events, sessions, stray_logouts)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (day) DO UPDATE SET start_fp = excluded.start_fp, end_state = excluded.end_state,
                    events = excluded.events, sessions = excluded.sessions, stray_logouts = excluded.stray_logouts",
                params![rec.day, &rec.start_fp[..], &rec.end_state, rec.events, rec.sessions, rec.stray_logouts],
            )?;
            d.execute(
                "INSERT INTO activity_day (day, data) VALUES ($1, $2)
                 ON CONFLICT (day) DO UPDATE SET data = excluded.data",
                params![rec.day, activity],
            )?;
            d.insert_rows("rollup_scope_day", &columns("rollup_scope_day")[1..], &rows, "")?;
            d.insert_rows("anomaly", columns("anomaly"), &anomaly_rows, "")?;
            Ok(())
        })
    }

    fn finish_rollup(&mut self, m: &RollupMeta, watermark: u64) -> Result<(), StoreError> {
        self.d.set_durable(true)?;
        let first = m.first_snapshot.map(|t| t.to_string());
        self.d.transaction(Begin::Write, |d| {
            Self::set_meta(d, meta::ROLLUP_FINGERPRINT, m.fingerprint.as_deref())?;
            Self::set_meta(d, meta::ROLLUP_FIRST_SNAPSHOT, first.as_deref())?;
            // Marks that existed when the watermark was read have a lower sequence number; a
            // mark set since (even by a batch of snapshots only, which takes the current
            // number) is kept for the next run.
            d.execute("DELETE FROM dirty_day WHERE seq < $1", params![watermark])?;
            Ok(())
        })
    }

    fn reset_rollups(&mut self) -> Result<(), StoreError> {
        self.d.set_durable(true)?;
        self.d.transaction(Begin::Write, |d| {
            for sql in [
                "DELETE FROM rollup_scope_day",
                "DELETE FROM rollup_day",
                "DELETE FROM activity_day",
                "DELETE FROM anomaly",
                // They describe rollups made with another configuration (other items).
                "DELETE FROM restatement",
            ] {
                d.execute(sql, &[])?;
            }
            Self::set_meta(d, meta::ROLLUP_FINGERPRINT, None)?;
            Self::set_meta(d, meta::ROLLUP_FIRST_SNAPSHOT, None)
        })
    }

    fn purge_events_before(&mut self, t: Nanos, day: Day) -> Result<u64, StoreError> {
        self.d.set_durable(true)?;
        self.d.transaction(Begin::Write, |d| {
            let n = d
                .query_row(
                    "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM event_chunk WHERE max_ts < $1",
                    params![t],
                )?
                .map(|r| r.u64(0))
                .transpose()?
                .unwrap_or(0);
            d.execute("DELETE FROM event_chunk WHERE max_ts < $1", params![t])?;
            let frozen: Option<Day> = d
                .query_row(
                    "SELECT value FROM meta WHERE key = $1",
                    params![meta::FROZEN_BEFORE],
                )?
                .map(|r| r.text(0))
                .transpose()?
                .and_then(|s| s.parse().ok());
            let day = frozen.map_or(day, |f| f.max(day)).to_string();
            Self::set_meta(d, meta::FROZEN_BEFORE, Some(&day))?;
            Ok(n)
        })
    }

    fn rolled_days(&mut self) -> Result<Option<(Day, Day)>, StoreError> {
        Ok(span(
            self.d
                .query_row("SELECT min(day), max(day) FROM rollup_day", &[])?,
        )?
        .map(|(a, b)| (a as Day, b as Day)))
    }

    fn scope_days(
        &mut self,
        scope: Scope,
        from: Day,
        to: Day,
        detail: bool,
    ) -> Result<Vec<(Day, SlotRecord)>, StoreError> {
        let mut out = Vec::new();
        let mut records = Vec::new();
        self.d.query_each(
            "SELECT day, data FROM rollup_scope_day
             WHERE scope_kind = $1 AND scope_id = $2 AND day BETWEEN $3 AND $4 ORDER BY day",
            params![scope_kind_code(scope.kind), scope.id, from, to],
            &mut |r| {
                let day = r.i32(0)?;
                records.clear();
                codec::decode_scope_day(r.blob(1)?, scope, detail, &mut records)?;
                out.extend(records.drain(..).map(|rec| (day, rec)));
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn activity_each(
        &mut self,
        from: Day,
        to: Day,
        each: &mut dyn FnMut(Day, &AgentActivity) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut act = AgentActivity::default();
        for day in from..=to {
            self.d.query_each(
                "SELECT data FROM activity_day WHERE day = $1",
                params![day],
                &mut |r| codec::decode_activity_each(r.blob(0)?, &mut act, &mut |a| each(day, a)),
            )?;
        }
        Ok(())
    }

    fn activity(
        &mut self,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, Vec<AgentActivity>)>, StoreError> {
        let mut out = Vec::new();
        self.d.query_each(
            "SELECT day, data FROM activity_day WHERE day BETWEEN $1 AND $2 ORDER BY day",
            params![from, to],
            &mut |r| {
                out.push((r.i32(0)?, codec::decode_activity(r.blob(1)?)?));
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn restatements(&mut self, from: Day, to: Day) -> Result<Vec<Restatement>, StoreError> {
        self.d
            .query(
                "SELECT day, scope_kind, scope_id, item, old_peak, new_peak, old_enabled, new_enabled, at
                 FROM restatement WHERE day BETWEEN $1 AND $2 ORDER BY day, scope_kind, scope_id, item, id",
                params![from, to],
            )?
            .iter()
            .map(|r| {
                Ok(Restatement {
                    day: r.i32(0)?,
                    scope: Scope {
                        kind: scope_kind_from_code(r.i64(1)?)?,
                        id: r.u32(2)?,
                    },
                    item: r.u32(3)? as u16,
                    old_peak: r.u32(4)?,
                    new_peak: r.u32(5)?,
                    old_enabled: r.u32(6)?,
                    new_enabled: r.u32(7)?,
                    at: r.i64(8)?,
                })
            })
            .collect()
    }

    fn day_summaries(&mut self, from: Day, to: Day) -> Result<Vec<DaySummary>, StoreError> {
        self.d
            .query(
                "SELECT day, events, sessions, stray_logouts FROM rollup_day WHERE day BETWEEN $1 AND $2 ORDER BY day",
                params![from, to],
            )?
            .iter()
            .map(|r| {
                Ok(DaySummary {
                    day: r.i32(0)?,
                    events: r.u64(1)?,
                    sessions: r.u64(2)?,
                    stray_logouts: r.u64(3)?,
                })
            })
            .collect()
    }

    fn anomalies(&mut self, from: Day, to: Day) -> Result<Vec<(Day, Anomaly)>, StoreError> {
        self.d
            .query(
                "SELECT day, ts, agent, kind FROM anomaly WHERE day BETWEEN $1 AND $2 ORDER BY ts, agent",
                params![from, to],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.i32(0)?,
                    Anomaly {
                        ts: r.i64(1)?,
                        agent: r.u32(2)?,
                        kind: AnomalyKind::parse(&r.text(3)?),
                    },
                ))
            })
            .collect()
    }

    fn probe_write(&mut self, at: Nanos) -> Result<(), StoreError> {
        self.d.set_durable(true)?;
        let at = at.to_string();
        self.d.transaction(Begin::Write, |d| {
            Self::set_meta(d, meta::WRITE_PROBE, Some(&at))
        })
    }

    fn status(&mut self) -> Result<StoreStatus, StoreError> {
        let collectors = self
            .d
            .query(
                "SELECT name, kind, last_success, last_error, last_error_at, runs, failures, events, duplicates, snapshots, rejects
                 FROM collector ORDER BY name",
                &[],
            )?
            .iter()
            .map(collector_status)
            .collect::<Result<Vec<_>, _>>()?;
        let span = self.event_span()?;
        Ok(StoreStatus {
            location: self.location(),
            collectors,
            events: self.count("SELECT CAST(sum(n) AS BIGINT) FROM event_chunk")?,
            first_event: span.map(|s| s.0),
            last_event: span.map(|s| s.1),
            snapshots: self.count("SELECT count(*) FROM snapshot")?,
            rejects: self.count("SELECT count(*) FROM reject")?,
            tenants: self.count("SELECT count(*) FROM tenant")?,
            agents: self.count("SELECT count(*) FROM agent")?,
            groups: self.count("SELECT count(*) FROM grp")?,
            pending_days: self.count("SELECT count(*) FROM dirty_day")?,
            restatements: self.count("SELECT count(*) FROM restatement")?,
            last_restatement: self
                .d
                .query_row("SELECT max(at) FROM restatement", &[])?
                .map(|r| r.opt_i64(0))
                .transpose()?
                .flatten(),
            rolled: self.rolled_days()?,
            size_bytes: self.d.size_bytes()?,
        })
    }
}

fn stored_reject(r: &Row) -> Result<StoredReject, StoreError> {
    Ok(StoredReject {
        collector: r.text(0)?,
        source: r.text(1)?,
        line: r.u64(2)?,
        reason: r.text(3)?,
        text: r.text(4)?,
        at: r.i64(5)?,
        tenant: r.opt_text(6)?,
    })
}
