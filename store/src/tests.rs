//! One conformance suite for both dialects: every test runs on an embedded SQLite store,
//! and on PostgreSQL (a schema of its own, dropped after) when
//! `SEATMETER_TEST_DATABASE_URL` is set; without it the PostgreSQL half says loudly that
//! it was skipped, and fails under `CI=true`.

use seatmeter_collectors::{Batch, EventFields, Reject, Words};
use seatmeter_core::testing;
use seatmeter_core::time::parse_rfc3339;
use seatmeter_core::{Nanos, ScopeKind};

use crate::dialect::Dialect;
use crate::postgres::PgDialect;
use crate::schema::TABLES;
use crate::sql::SqlStore;
use crate::sqlite::SqliteDialect;
use crate::*;

/// A store of each dialect, for one test.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { base: String, schema: String },
}

impl Backend {
    fn config(&self) -> StoreConfig {
        match self {
            Backend::Sqlite(dir) => StoreConfig {
                path: Some(dir.path().join("store.db")),
                url: None,
            },
            Backend::Postgres { base, schema } => StoreConfig {
                path: None,
                url: Some(testing::schema_url(base, schema)),
            },
        }
    }

    fn open(&self) -> Box<dyn Store> {
        open(&self.config()).unwrap()
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }

    /// The table names and columns as the database has them.
    fn tables(&self) -> Vec<(String, Vec<String>)> {
        let c = self.config();
        match (&c.url, &c.path) {
            (Some(url), _) => PgDialect::open(url).unwrap().table_columns().unwrap(),
            (None, Some(p)) => SqliteDialect::open(p).unwrap().table_columns().unwrap(),
            _ => unreachable!(),
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres { base, schema } = self {
            admin(base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs one statement on the test database itself, as its administrator: never through
/// [`PgDialect::open`], which would migrate the database's own schema, so that a run of
/// tests leaves nothing behind that a later run of other code could trip on (a migration
/// applied there once, say, and missing from the code of the next run).
fn admin(base: &str, sql: &str) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

/// Runs `check` on a fresh SQLite store, then on a fresh PostgreSQL schema.
fn on_both(test: &str, check: impl Fn(&Backend)) {
    let sqlite = Backend::Sqlite(tempfile::tempdir().unwrap());
    check(&sqlite);
    let Some(base) = testing::database_url(&format!("store::{test} on PostgreSQL")) else {
        return;
    };
    let schema = testing::unique_name(test);
    admin(&base, &format!("CREATE SCHEMA {schema}"));
    check(&Backend::Postgres { base, schema });
}

fn t(s: &str) -> Nanos {
    parse_rfc3339(s).unwrap()
}

/// A batch of events, each (ts, event, tenant, agent, media, groups).
fn batch(events: &[(&str, &str, &str, &str, &str, &str)]) -> Batch {
    let mut b = Batch::new();
    for &(ts, event, tenant, agent, media, groups) in events {
        b.push(&EventFields {
            ts,
            event,
            tenant: Some(tenant),
            agent,
            place: None,
            groups: Words::Joined(groups, ';'),
            media: Words::Joined(media, ';'),
        })
        .unwrap();
    }
    b
}

const DAY1: &str = "2026-10-25T09:00:00Z";
const DAY1_LATER: &str = "2026-10-25T10:00:00Z";
const DAY2: &str = "2026-10-26T09:00:00Z";

#[test]
fn a_new_store_has_the_tables_and_columns_of_the_schema() {
    on_both("schema", |b| {
        b.open();
        let have = b.tables();
        for &(table, columns) in TABLES {
            let got = have
                .iter()
                .find(|(t, _)| t == table)
                .unwrap_or_else(|| panic!("{}: no table {table}", b.name()));
            let want: Vec<&str> = columns.iter().map(|c| c.0).collect();
            assert_eq!(got.1, want, "{}: columns of {table}", b.name());
        }
        let extra: Vec<&String> = have
            .iter()
            .map(|(t, _)| t)
            .filter(|t| !TABLES.iter().any(|(n, _)| n == t))
            .collect();
        assert!(
            extra.is_empty(),
            "{}: tables not in the schema: {extra:?}",
            b.name()
        );
    });
}

#[test]
fn events_are_stored_once_with_their_cursor() {
    on_both("ingest", |b| {
        let mut s = b.open();
        assert_eq!(s.cursor("events").unwrap(), None);
        let first = batch(&[
            (DAY1, "login", "acme", "x", "voice;email", "Sales"),
            (DAY1, "login", "acme", "x", "email;voice", "Sales"), // the same set: a duplicate
            (DAY1_LATER, "logout", "acme", "x", "", ""),
            (DAY2, "login", "beta", "x", "voice", ""),
        ]);
        let st = s.ingest("events", "spool", &first, "c1").unwrap();
        assert_eq!((st.events, st.duplicates), (3, 1), "{}", b.name());
        assert_eq!(s.cursor("events").unwrap().as_deref(), Some("c1"));
        // The same events again, and one new: only the new one is stored.
        let mut again = batch(&[
            (DAY1, "login", "acme", "x", "voice;email", "Sales"),
            (DAY1_LATER, "logout", "acme", "x", "", ""),
            (DAY1_LATER, "login", "acme", "y", "chat", ""),
        ]);
        again.rejects.push(Reject::new("a.jsonl", 7, "bad", "{"));
        again.rejects.push(Reject {
            tenant: Some("acme".into()),
            ..Reject::new("a.jsonl", 8, "bad", "{\"tenant\":\"acme\"")
        });
        let st = s.ingest("events", "spool", &again, "c2").unwrap();
        assert_eq!((st.events, st.duplicates, st.rejects), (1, 2, 2));
        assert_eq!(s.cursor("events").unwrap().as_deref(), Some("c2"));
        let day = t(DAY1).div_euclid(seatmeter_core::time::NANOS_PER_DAY);
        let mut evs = s.events_on_utc_day(day).unwrap();
        evs.sort_by_key(|e| e.seq);
        assert_eq!(evs.len(), 3);
        assert!(evs.windows(2).all(|w| w[0].seq < w[1].seq), "receive order");
        assert_eq!(s.event_span().unwrap(), Some((t(DAY1), t(DAY2))));
        let rejects = s.rejects(None).unwrap();
        assert_eq!(rejects.len(), 2);
        assert_eq!(
            (rejects[0].source.as_str(), rejects[0].line),
            ("a.jsonl", 7)
        );
        // A tenant's own rejected lines, and how many there are.
        let (own, total) = s.tenant_rejects("acme", 10).unwrap();
        assert_eq!((own.len(), total), (1, 1));
        assert_eq!((own[0].line, own[0].tenant.as_deref()), (8, Some("acme")));
        assert_eq!(s.tenant_rejects("beta", 10).unwrap().1, 0);
        let status = s.status().unwrap();
        assert_eq!((status.events, status.rejects, status.tenants), (4, 2, 2));
        assert_eq!(status.agents, 3, "x of acme, x of beta, y of acme");
        assert_eq!(status.collectors[0].events, 4);
        assert_eq!(status.collectors[0].duplicates, 3);
    });
}

#[test]
fn duplicates_are_found_in_every_chunk_the_batch_overlaps() {
    on_both("chunk_overlap", |b| {
        let mut s = b.open();
        let ev = |ts: &'static str, agent: &'static str| (ts, "login", "acme", agent, "voice", "");
        let (a1, a2) = ("2026-10-25T08:00:00Z", "2026-10-25T09:00:00Z");
        let (b1, b2) = ("2026-10-25T11:00:00Z", "2026-10-25T12:00:00Z");
        // Two chunks of one UTC day: 08:00–09:00 and 11:00–12:00.
        s.ingest("events", "spool", &batch(&[ev(a1, "x"), ev(a2, "y")]), "c1")
            .unwrap();
        s.ingest("events", "spool", &batch(&[ev(b1, "x"), ev(b2, "y")]), "c2")
            .unwrap();
        // A batch from 09:00 to 11:00 meets both chunks at their edges: both copies go.
        let st = s
            .ingest(
                "events",
                "spool",
                &batch(&[ev(a2, "y"), ev("2026-10-25T10:00:00Z", "z"), ev(b1, "x")]),
                "c3",
            )
            .unwrap();
        assert_eq!((st.events, st.duplicates), (1, 2), "{}", b.name());
        // One instant inside the second chunk: its copy goes, the new agent stays.
        let st = s
            .ingest("events", "spool", &batch(&[ev(b2, "y"), ev(b2, "w")]), "c4")
            .unwrap();
        assert_eq!((st.events, st.duplicates), (1, 1), "{}", b.name());
        let day = t(a1).div_euclid(seatmeter_core::time::NANOS_PER_DAY);
        assert_eq!(s.events_on_utc_day(day).unwrap().len(), 6);
    });
}

#[test]
fn a_batch_read_after_a_cursor_that_moved_is_not_stored() {
    on_both("cursor_moved", |b| {
        let (mut one, mut two) = (b.open(), b.open());
        let first = batch(&[(DAY1, "login", "acme", "x", "voice", "")]);
        let check = CursorCheck::Was(None);
        let st = one
            .ingest_checked("events", "spool", &first, check, "c1")
            .unwrap();
        assert_eq!(st.events, 1);
        // The second connection read from the start too: its batch is stale.
        let err = two
            .ingest_checked("events", "spool", &first, check, "c1")
            .unwrap_err();
        assert!(matches!(err, StoreError::CursorMoved { .. }), "{err}");
        let status = two.status().unwrap();
        assert_eq!(
            (status.collectors[0].events, status.collectors[0].duplicates),
            (1, 0),
            "{}: nothing of the stale batch counted",
            b.name()
        );
        // Read on from the stored cursor, it stores.
        let next = batch(&[(DAY1_LATER, "logout", "acme", "x", "", "")]);
        let was = two.cursor("events").unwrap();
        let st = two
            .ingest_checked(
                "events",
                "spool",
                &next,
                CursorCheck::Was(was.as_deref()),
                "c2",
            )
            .unwrap();
        assert_eq!(st.events, 1);
        assert_eq!(one.cursor("events").unwrap().as_deref(), Some("c2"));
    });
}

#[test]
fn names_get_one_id_each_whatever_the_connection() {
    on_both("ids", |b| {
        // Two connections ingest in turn, each with its own cache: ids never collide.
        let (mut one, mut two) = (b.open(), b.open());
        one.ingest(
            "a",
            "spool",
            &batch(&[(DAY1, "login", "acme", "x", "voice", "G1")]),
            "1",
        )
        .unwrap();
        two.ingest(
            "b",
            "spool",
            &batch(&[(DAY1, "login", "beta", "y", "email", "G2")]),
            "1",
        )
        .unwrap();
        one.ingest(
            "a",
            "spool",
            &batch(&[(DAY2, "login", "gamma", "z", "chat", "G1;G3")]),
            "2",
        )
        .unwrap();
        let dims = two.dimensions().unwrap();
        let tenants: Vec<&str> = dims.tenants.iter().map(String::as_str).collect();
        assert_eq!(tenants, ["", "acme", "beta", "gamma"], "{}", b.name());
        let agents: Vec<(u32, &str)> = dims.agents.iter().map(|(t, n)| (*t, n.as_str())).collect();
        assert_eq!(agents, [(0, ""), (1, "x"), (2, "y"), (3, "z")]);
        let groups: Vec<String> = (1..dims.groups.len() as u32)
            .map(|g| dims.group_label(ScopeKind::Group, g))
            .collect();
        assert_eq!(groups, ["acme/G1", "beta/G2", "gamma/G1", "gamma/G3"]);
        let media: Vec<&str> = dims.media.iter().map(String::as_str).collect();
        assert_eq!(media, ["", "voice", "email", "chat"]);
        // Every event refers to the ids of its names.
        let day = t(DAY2).div_euclid(seatmeter_core::time::NANOS_PER_DAY);
        let e = one.events_on_utc_day(day).unwrap()[0];
        assert_eq!(dims.agents[e.agent as usize].1, "z");
        assert_eq!(dims.groupsets[e.groups as usize], [3, 4]);
    });
}

#[test]
fn dirty_days_are_forgotten_up_to_the_watermark_only() {
    on_both("dirty", |b| {
        let mut s = b.open();
        s.ingest(
            "e",
            "spool",
            &batch(&[(DAY1, "login", "a", "x", "voice", "")]),
            "1",
        )
        .unwrap();
        let (days, watermark) = s.dirty_days().unwrap();
        assert_eq!(days.len(), 1, "{}", b.name());
        // Data arrives after the rollup read the marks: its day stays marked.
        s.ingest(
            "e",
            "spool",
            &batch(&[(DAY2, "login", "a", "x", "voice", "")]),
            "2",
        )
        .unwrap();
        let meta = RollupMeta {
            fingerprint: Some("tz=UTC".into()),
            first_snapshot: Some(5),
            frozen_before: None,
        };
        s.finish_rollup(&meta, watermark).unwrap();
        let (left, _) = s.dirty_days().unwrap();
        assert_eq!(
            left,
            [t(DAY2).div_euclid(seatmeter_core::time::NANOS_PER_DAY)]
        );
        assert_eq!(s.rollup_meta().unwrap(), meta);
        s.reset_rollups().unwrap();
        assert_eq!(s.rollup_meta().unwrap(), RollupMeta::default());
    });
}

fn record(item: u16, scope: Scope, peaks: Vec<u32>) -> SlotRecord {
    let n = peaks.len();
    SlotRecord {
        scope,
        item,
        day_peak: peaks.iter().copied().max().unwrap_or(0),
        day_enabled: 2,
        enabled: vec![2; peaks.len()],
        peaks,
        end_level: 1,
        end_enabled: 2,
        day_peak_at: Some(0),
        peak_at: vec![0; n],
    }
}

#[test]
fn a_rolled_up_day_is_written_whole_and_read_back() {
    on_both("rollup", |b| {
        let mut s = b.open();
        let tenant = Scope {
            kind: ScopeKind::Tenant,
            id: 3,
        };
        let rec = DayRecord {
            day: 20_386,
            start_fp: [9; 32],
            end_state: vec![1, 2, 3],
            events: 10,
            sessions: 4,
            stray_logouts: 1,
            activity: Vec::new(),
        };
        let slots = vec![
            record(0, Scope::SYSTEM, vec![0, 3, 1]),
            record(1, Scope::SYSTEM, vec![1, 1, 1]),
            record(0, tenant, vec![0, 2, 0]),
        ];
        let stray = Anomaly {
            ts: 77,
            agent: 5,
            kind: AnomalyKind::StrayLogout,
        };
        s.write_day(&rec, &slots, &[stray]).unwrap();
        assert_eq!(
            s.day_record(rec.day).unwrap().as_ref(),
            Some(&rec),
            "{}",
            b.name()
        );
        let got = s.scope_days(Scope::SYSTEM, rec.day, rec.day, true).unwrap();
        assert_eq!(
            got,
            vec![(rec.day, slots[0].clone()), (rec.day, slots[1].clone())]
        );
        let summary = s.scope_days(tenant, rec.day, rec.day, false).unwrap();
        assert_eq!(summary[0].1.day_peak, 2);
        assert!(summary[0].1.peaks.is_empty());
        assert_eq!(s.anomalies(rec.day, rec.day).unwrap(), [(rec.day, stray)]);
        assert_eq!(s.rolled_days().unwrap(), Some((rec.day, rec.day)));
        assert_eq!(s.day_summaries(rec.day, rec.day).unwrap()[0].sessions, 4);
        // Written again: replaced, not added.
        s.write_day(&rec, &slots[..1], &[]).unwrap();
        assert_eq!(
            s.scope_days(Scope::SYSTEM, rec.day, rec.day, true)
                .unwrap()
                .len(),
            1
        );
        assert!(s.anomalies(rec.day, rec.day).unwrap().is_empty());
        assert!(
            s.scope_days(tenant, rec.day, rec.day, true)
                .unwrap()
                .is_empty()
        );
    });
}

/// Rolling a day up again with other values records each change, in the transaction that
/// replaces the day; the same values again record nothing.
#[test]
fn a_day_rolled_up_again_with_other_values_is_a_restatement() {
    on_both("restatement", |b| {
        let mut s = b.open();
        let tenant = Scope {
            kind: ScopeKind::Tenant,
            id: 2,
        };
        let rec = DayRecord {
            day: 20_390,
            start_fp: [1; 32],
            end_state: vec![],
            events: 4,
            sessions: 2,
            stray_logouts: 0,
            activity: Vec::new(),
        };
        let first = vec![
            record(0, Scope::SYSTEM, vec![1, 3]),
            record(0, tenant, vec![1, 2]),
        ];
        s.write_day(&rec, &first, &[]).unwrap();
        assert!(
            s.restatements(rec.day, rec.day).unwrap().is_empty(),
            "a first rollup"
        );
        s.write_day(&rec, &first, &[]).unwrap();
        assert!(
            s.restatements(rec.day, rec.day).unwrap().is_empty(),
            "the same values"
        );
        // Late data: the system's peak rises to 4, the tenant's item 1 appears.
        let again = vec![
            record(0, Scope::SYSTEM, vec![1, 4]),
            record(0, tenant, vec![1, 2]),
            record(1, tenant, vec![1]),
        ];
        s.write_day(&rec, &again, &[]).unwrap();
        let r = s.restatements(rec.day - 1, rec.day + 1).unwrap();
        assert_eq!(r.len(), 2, "{}: {r:?}", b.name());
        assert_eq!(
            (r[0].scope, r[0].item, r[0].old_peak, r[0].new_peak),
            (Scope::SYSTEM, 0, 3, 4)
        );
        assert_eq!((r[0].old_enabled, r[0].new_enabled), (2, 2));
        assert_eq!(
            (
                r[1].scope,
                r[1].item,
                r[1].old_peak,
                r[1].new_peak,
                r[1].old_enabled
            ),
            (tenant, 1, 0, 1, 0)
        );
        assert!(r[0].at > 0);
        assert!(s.restatements(rec.day + 1, rec.day + 9).unwrap().is_empty());
        assert_eq!(s.status().unwrap().restatements, 2);
        // Rollups made anew with another configuration describe other items.
        s.reset_rollups().unwrap();
        assert!(s.restatements(rec.day, rec.day).unwrap().is_empty());
    });
}

#[test]
fn retention_deletes_old_events_and_freezes_their_days() {
    on_both("retention", |b| {
        let mut s = b.open();
        s.ingest(
            "e",
            "spool",
            &batch(&[
                (DAY1, "login", "a", "x", "voice", ""),
                (DAY2, "login", "a", "y", "voice", ""),
            ]),
            "1",
        )
        .unwrap();
        assert_eq!(
            s.purge_events_before(t(DAY2), 20_387).unwrap(),
            1,
            "{}",
            b.name()
        );
        assert_eq!(s.status().unwrap().events, 1);
        assert_eq!(s.rollup_meta().unwrap().frozen_before, Some(20_387));
        // The horizon never moves back.
        assert_eq!(s.purge_events_before(t(DAY1), 20_300).unwrap(), 0);
        assert_eq!(s.rollup_meta().unwrap().frozen_before, Some(20_387));
    });
}

#[test]
fn runs_and_cursors_of_collectors() {
    on_both("runs", |b| {
        let mut s = b.open();
        s.record_run("e", "spool", 100, None).unwrap();
        s.record_run("e", "spool", 200, Some("disk on fire"))
            .unwrap();
        s.ingest("e", "spool", &Batch::new(), "cur").unwrap();
        let c = &s.status().unwrap().collectors[0];
        assert_eq!(
            (c.runs, c.failures, c.last_success),
            (2, 1, Some(100)),
            "{}",
            b.name()
        );
        assert_eq!(c.last_error, Some((200, "disk on fire".to_string())));
        assert!(s.reset_cursor("e").unwrap());
        assert_eq!(s.cursor("e").unwrap(), None);
        assert!(!s.reset_cursor("nobody").unwrap());
    });
}

#[test]
fn migrate_store_copies_every_table_with_its_ids() {
    let Some(base) = testing::database_url("store::migrate_store") else {
        return;
    };
    let sqlite = Backend::Sqlite(tempfile::tempdir().unwrap());
    {
        let mut s = sqlite.open();
        s.ingest(
            "e",
            "spool",
            &batch(&[
                (DAY1, "login", "acme", "x", "voice", "G"),
                (DAY2, "logout", "beta", "y", "", ""),
            ]),
            "7",
        )
        .unwrap();
        s.write_day(
            &DayRecord {
                day: 1,
                start_fp: [0; 32],
                end_state: vec![],
                events: 1,
                sessions: 1,
                stray_logouts: 0,
                activity: Vec::new(),
            },
            &[record(0, Scope::SYSTEM, vec![1])],
            &[],
        )
        .unwrap();
    }
    let schema = testing::unique_name("migrate");
    admin(&base, &format!("CREATE SCHEMA {schema}"));
    let pg = Backend::Postgres { base, schema };
    let url = pg.config().url.unwrap();
    let path = sqlite.config().path.unwrap();
    let counts = migrate::sqlite_to_postgres(&path, &url, &mut |_, _| {}).unwrap();
    assert_eq!(counts.len(), TABLES.len());
    let (mut a, mut b) = (sqlite.open(), pg.open());
    let strip = |mut s: StoreStatus| {
        s.location.clear();
        s.size_bytes = 0;
        s
    };
    assert_eq!(strip(a.status().unwrap()), strip(b.status().unwrap()));
    assert_eq!(
        a.dimensions().unwrap().agents,
        b.dimensions().unwrap().agents
    );
    assert_eq!(b.cursor("e").unwrap().as_deref(), Some("7"));
    // The copy goes on where the source stopped: a new name gets the next id.
    b.ingest(
        "e",
        "spool",
        &batch(&[(DAY2, "login", "gamma", "z", "chat", "")]),
        "8",
    )
    .unwrap();
    assert_eq!(b.dimensions().unwrap().tenants[3], "gamma");
    // Into a store that holds data: refused.
    let err = migrate::sqlite_to_postgres(&path, &url, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("already holds data"), "{err}");
}

#[test]
fn errors_name_the_database_and_never_the_password() {
    let err = match open(&StoreConfig {
        path: None,
        url: Some("postgres://seatmeter:s3cret@127.0.0.1:1/none".into()),
    }) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("nothing listens on port 1"),
    };
    assert!(err.starts_with("PostgreSQL: connecting to"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("not-a-db"),
        b"hello, this is not SQLite at all",
    )
    .unwrap();
    let err = match open(&StoreConfig {
        path: Some(dir.path().join("not-a-db")),
        url: None,
    }) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a text file is no store"),
    };
    assert!(err.starts_with("SQLite: "), "{err}");
}

/// The store is written once: both dialects give the same answers to the same calls.
#[test]
fn both_dialects_answer_alike() {
    let Some(base) = testing::database_url("store::both_dialects_answer_alike") else {
        return;
    };
    let sqlite = Backend::Sqlite(tempfile::tempdir().unwrap());
    let schema = testing::unique_name("alike");
    admin(&base, &format!("CREATE SCHEMA {schema}"));
    let pg = Backend::Postgres { base, schema };
    let work = |s: &mut dyn Store| {
        let b1 = batch(&[
            (DAY1, "login", "acme", "x", "voice", "G"),
            (DAY1_LATER, "logout", "acme", "x", "", ""),
            (DAY2, "login", "beta", "q", "chat;voice", "H;G"),
        ]);
        s.ingest("e", "spool", &b1, "1").unwrap();
        s.ingest("e", "spool", &b1, "2").unwrap();
        let day = t(DAY1).div_euclid(seatmeter_core::time::NANOS_PER_DAY);
        let mut evs = s.events_on_utc_day(day).unwrap();
        evs.sort_by_key(|e| e.seq);
        (
            evs,
            format!("{:?}", s.dimensions().unwrap()),
            s.dirty_days().unwrap(),
        )
    };
    let (mut a, mut b) = (sqlite.open(), pg.open());
    assert_eq!(work(a.as_mut()), work(b.as_mut()));
    let _ = SqlStore::<SqliteDialect>::new; // both are the one implementation
}

/// A store written before rejected lines were stored once is mended when it is opened:
/// duplicates go, and the collector's count of them is the count of the rest.
#[test]
fn an_old_store_loses_its_duplicate_rejects_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../../migrations/sqlite/0001_init.sql"))
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        for _ in 0..3 {
            c.execute(
                "INSERT INTO reject (collector, source, line, reason, text, at) VALUES ('e', 'a.jsonl', 2, 'bad', '{', 1)",
                [],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO reject (collector, source, line, reason, text, at) VALUES ('e', 'a.jsonl', 3, 'bad', '}', 1)",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO collector (name, kind, rejects) VALUES ('e', 'spool', 4)",
            [],
        )
        .unwrap();
    }
    let mut s = open(&StoreConfig {
        path: Some(path),
        url: None,
    })
    .unwrap();
    let status = s.status().unwrap();
    assert_eq!(status.rejects, 2);
    assert_eq!(status.collectors[0].rejects, 2);
    // And from now on a duplicate is not stored.
    let mut b = Batch::new();
    b.rejects.push(Reject::new("a.jsonl", 2, "bad", "{"));
    assert_eq!(s.ingest("e", "spool", &b, "c").unwrap().rejects, 0);
    assert_eq!(s.status().unwrap().rejects, 2);
}

/// Two processes opening a new store at once failed with "database is locked" (turning
/// the file to WAL does not wait on SQLite's busy handler), and the error named no file.
#[test]
fn a_new_sqlite_store_opened_by_many_at_once_opens_for_all() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|s| {
            let opened: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        SqliteDialect::open(&path).map(|_| ())
                    })
                })
                .collect();
            for o in opened {
                if let Err(e) = o.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
        });
    }
    // An error names the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-store.db");
    std::fs::write(
        &path,
        "this is not a database, just text that is long enough to read",
    )
    .unwrap();
    let err = SqliteDialect::open(&path)
        .err()
        .expect("not a database")
        .to_string();
    assert!(err.contains("not-a-store.db"), "{err}");
}

#[path = "tests_activity.rs"]
mod activity;
#[path = "tests_reco.rs"]
mod reco_tests;

#[path = "tests_alerts.rs"]
mod alerts_tests;

#[path = "tests_dims.rs"]
mod dims_tests;
