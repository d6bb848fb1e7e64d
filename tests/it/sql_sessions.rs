//! The `sql-sessions` collector against a login-session table in PostgreSQL: sessions are
//! inserted at login and updated at logout between collections, the source is unreachable
//! for a while, and the reports must equal those of the same sessions given as a spool
//! file. Needs SEATMETER_TEST_DATABASE_URL; each test uses a schema of its own.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::postgres::{Schema, database_url};
use crate::support::Site;

/// One login session of the test site.
struct Session {
    id: String,
    tenant: &'static str,
    agent: String,
    place: String,
    media: &'static str,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
}

/// Three days over the end of summer time: two shifts a day per agent, a second device
/// now and then, and sessions still open at the end.
fn sessions() -> Vec<Session> {
    let mut out = Vec::new();
    let first = Utc.with_ymd_and_hms(2026, 10, 24, 6, 0, 0).unwrap();
    for (t, tenant) in ["acme", "beta"].into_iter().enumerate() {
        for a in 0..10 {
            let agent = format!("{tenant}-{a:02}");
            let media = ["voice", "voice;email", "email", "chat;voice"][(a + t) % 4];
            for day in 0..3 {
                let base = first + Duration::days(day) + Duration::minutes((a * 7 + t * 3) as i64);
                let shifts = [
                    (base, Some(base + Duration::minutes(230))),
                    (
                        base + Duration::minutes(261),
                        Some(base + Duration::minutes(523)),
                    ),
                ];
                for (s, (start, end)) in shifts.into_iter().enumerate() {
                    // The last shift of some agents has not ended.
                    let end = if day == 2 && s == 1 && a % 3 == 0 {
                        None
                    } else {
                        end
                    };
                    out.push(Session {
                        id: format!("{agent}-{day}-{s}"),
                        tenant,
                        agent: agent.clone(),
                        place: format!("desk-{a}"),
                        media,
                        start,
                        end,
                    });
                }
                if a % 4 == 1 {
                    // A second device during the afternoon shift.
                    let start = base + Duration::minutes(300);
                    out.push(Session {
                        id: format!("{agent}-{day}-b"),
                        tenant,
                        agent: agent.clone(),
                        place: format!("mobile-{a}"),
                        media: "chat",
                        start,
                        end: Some(start + Duration::minutes(45)),
                    });
                }
            }
        }
    }
    out
}

/// The same sessions as seat events in a JSON Lines spool file, in time order.
fn spool(sessions: &[Session]) -> String {
    let mut events: Vec<(DateTime<Utc>, String)> = Vec::new();
    for s in sessions {
        let media: Vec<String> = s.media.split(';').map(|m| format!("\"{m}\"")).collect();
        events.push((
            s.start,
            format!(
                "{{\"ts\":\"{}\",\"event\":\"login\",\"tenant\":\"{}\",\"agent\":\"{}\",\"place\":\"{}\",\"media\":[{}]}}",
                s.start.to_rfc3339(),
                s.tenant,
                s.agent,
                s.place,
                media.join(",")
            ),
        ));
        if let Some(end) = s.end {
            events.push((
                end,
                format!(
                    "{{\"ts\":\"{}\",\"event\":\"logout\",\"tenant\":\"{}\",\"agent\":\"{}\",\"place\":\"{}\"}}",
                    end.to_rfc3339(),
                    s.tenant,
                    s.agent,
                    s.place
                ),
            ));
        }
    }
    events.sort_by_key(|e| e.0);
    events
        .into_iter()
        .fold(String::new(), |mut out, (_, line)| {
            let _ = writeln!(out, "{line}");
            out
        })
}

/// Brings the table to what a contact center would have written by `now`: sessions
/// started since `before` are inserted, sessions ended since are given their end; each
/// change takes the next audit key.
fn advance(
    url: &str,
    table: &str,
    sessions: &[Session],
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let mut sql = String::new();
    let ts = |t: DateTime<Utc>| format!("'{}'", t.to_rfc3339());
    for s in sessions {
        let ended_by_now = s.end.filter(|e| *e <= now);
        if s.start > before && s.start <= now {
            let _ = writeln!(
                sql,
                "INSERT INTO {table} (loginsessionid, tenant, agent, place, switch, media, added, terminated, updateauditkey)
                 VALUES ('{}', '{}', '{}', '{}', 'sw1', '{}', {}, {}, nextval('{table}_audit'));",
                s.id,
                s.tenant,
                s.agent,
                s.place,
                s.media,
                ts(s.start),
                ended_by_now.map_or("NULL".to_string(), ts),
            );
        } else if s.start <= before
            && let Some(end) = ended_by_now
            && end > before
        {
            let _ = writeln!(
                sql,
                "UPDATE {table} SET terminated = {}, updateauditkey = nextval('{table}_audit') WHERE loginsessionid = '{}';",
                ts(end),
                s.id
            );
        }
    }
    if !sql.is_empty() {
        Schema::sql(url, &sql);
    }
}

/// Runs a command; returns whether it succeeded and its output, standard error last.
fn run(dir: &Path, config: &str, args: &[&str]) -> (bool, String) {
    let (ok, out, err) = run_split(dir, config, args);
    (ok, out + &err)
}

fn run_split(dir: &Path, config: &str, args: &[&str]) -> (bool, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .env_remove("SEATMETER_CONFIG")
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn reports(dir: &Path, config: &str) -> Vec<String> {
    let mut out = Vec::new();
    for scope in ["system", "tenant"] {
        for granularity in ["10min", "daily"] {
            let (ok, text, err) = run_split(
                dir,
                config,
                &[
                    "report",
                    "--scope",
                    scope,
                    "--granularity",
                    granularity,
                    "--from",
                    "2026-10-24",
                    "--to",
                    "2026-10-27",
                    "--format",
                    "csv",
                ],
            );
            assert!(ok, "{err}");
            out.push(text);
        }
    }
    out
}

const ITEMS: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]

[[item]]
name = "Digital"
media = ["email", "chat"]
features = ["D"]
"#;

#[test]
fn sessions_read_while_they_happen_give_the_reports_of_the_finished_spool() {
    let Some(base) = database_url("sql_sessions") else {
        return;
    };
    let schema = Schema::new(&base, "icon");
    let table = format!("{}.g_login_session", schema.name);
    Schema::sql(
        &base,
        &format!(
            "CREATE SEQUENCE {table}_audit;
             CREATE TABLE {table} (
                 loginsessionid text PRIMARY KEY, tenant text, agent text NOT NULL, place text,
                 switch text, media text, added timestamptz NOT NULL, terminated timestamptz,
                 updateauditkey bigint NOT NULL)"
        ),
    );
    let all = sessions();

    // The reference: the finished day as one spool file.
    let site = Site::new(
        "Europe/London",
        ITEMS,
        "INCREMENT V genesys.d 8.5 permanent 10\nINCREMENT D genesys.d 8.5 permanent 10\n",
    );
    let dir = site.path();
    site.spool("all.jsonl", &spool(&all));
    let sql_config = |url: &str| {
        format!(
            "timezone = \"Europe/London\"\n[store]\npath = \"sql.db\"\n\
             [[collector]]\nname = \"icon\"\nkind = \"sql-sessions\"\nurl = \"{url}\"\ntable = \"{table}\"\npage_rows = 17\noverlap = 5\n\
             [license]\nfiles = [\"license.dat\"]\n{ITEMS}"
        )
    };
    std::fs::write(dir.join("sql.toml"), sql_config(&base)).unwrap();
    let (ok, text) = run(dir, "seatmeter.toml", &["collect", "--once"]);
    assert!(ok, "{text}");
    let (ok, text) = run(dir, "seatmeter.toml", &["rollup"]);
    assert!(ok, "{text}");
    let expected = reports(dir, "seatmeter.toml");

    // The table as it grows: collections in between, one while the source is down.
    let start = Utc.with_ymd_and_hms(2026, 10, 23, 0, 0, 0).unwrap();
    let steps = [
        Utc.with_ymd_and_hms(2026, 10, 24, 9, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 24, 15, 30, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 25, 12, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 26, 11, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 28, 0, 0, 0).unwrap(),
    ];
    let mut before = start;
    for (i, &now) in steps.iter().enumerate() {
        advance(&base, &table, &all, before, now);
        before = now;
        if i == 2 {
            // The source is unreachable: the collection fails, stores nothing, and the
            // next one picks up where the cursor stopped.
            std::fs::write(
                dir.join("sql.toml"),
                sql_config("postgres://seatmeter:hidden@127.0.0.1:1/icon"),
            )
            .unwrap();
            let (ok, text) = run(dir, "sql.toml", &["collect", "--once"]);
            assert!(!ok, "{text}");
            assert!(text.contains("connecting failed"), "{text}");
            assert!(!text.contains("hidden"), "{text}");
            std::fs::write(dir.join("sql.toml"), sql_config(&base)).unwrap();
        }
        let (ok, text) = run(dir, "sql.toml", &["collect", "--once"]);
        assert!(ok, "{text}");
        let (ok, text) = run(dir, "sql.toml", &["rollup"]);
        assert!(ok, "{text}");
    }
    // Once more: nothing new. Only the overlap is read again (its rows are stored once),
    // not the table.
    let (ok, text) = run(dir, "sql.toml", &["collect", "--once"]);
    assert!(ok && text.contains("0 event(s) stored"), "{text}");
    let read: u64 = text
        .split(" line(s) read")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(read <= 5, "{text}");
    let (ok, text) = run(dir, "sql.toml", &["rollup"]);
    assert!(ok, "{text}");
    let got = reports(dir, "sql.toml");
    for (g, e) in got.iter().zip(&expected) {
        assert!(e.lines().count() > 8, "{e}");
        assert_eq!(g, e);
    }
    let (_, status) = run(dir, "sql.toml", &["status"]);
    let (_, reference) = run(dir, "seatmeter.toml", &["status"]);
    let events = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("stored:"))
            .map(str::to_string)
            .unwrap()
    };
    assert_eq!(events(&status), events(&reference));
}

#[test]
fn a_custom_query_gives_events_with_groups() {
    let Some(base) = database_url("sql_sessions_query") else {
        return;
    };
    let schema = Schema::new(&base, "query");
    let s = &schema.name;
    Schema::sql(
        &base,
        &format!(
            "CREATE TABLE {s}.ev (id bigint PRIMARY KEY, at timestamp NOT NULL, what text, who text, team text);
             INSERT INTO {s}.ev VALUES
               (1, '2026-10-24 08:00:00', 'login', 'x', 'Support;Sales'),
               (2, '2026-10-24 09:00:00', 'login', 'y', 'Support'),
               (3, '2026-10-24 09:30:00', 'logout', 'x', NULL),
               (4, '2026-10-24 09:40:00', 'log-in', 'z', NULL),
               (5, '2026-10-24 10:00:00', 'logout', 'y', NULL)"
        ),
    );
    let site = Site::simple("UTC");
    let dir = site.path();
    std::fs::write(
        dir.join("q.toml"),
        format!(
            "timezone = \"UTC\"\n[store]\npath = \"q.db\"\n\
             [[collector]]\nname = \"q\"\nkind = \"sql-sessions\"\nurl = \"{base}\"\n\
             query = \"SELECT id AS key, at AS ts, what AS event, who AS agent, team AS groups FROM {s}.ev WHERE id > $1\"\n\
             [license]\nfiles = [\"license.dat\"]\n{}",
            crate::support::VOICE_EMAIL
        ),
    )
    .unwrap();
    let (ok, text) = run(dir, "q.toml", &["collect", "--once"]);
    assert!(ok, "{text}");
    assert!(text.contains("4 event(s) stored"), "{text}");
    assert!(text.contains("1 kept aside"), "{text}");
    let (_, rejects) = run(dir, "q.toml", &["rejects"]);
    assert!(rejects.contains("q (query):4"), "{rejects}");
    run(dir, "q.toml", &["rollup"]);
    let (ok, groups, err) = run_split(
        dir,
        "q.toml",
        &[
            "report",
            "--scope",
            "group",
            "--granularity",
            "daily",
            "--from",
            "2026-10-24",
            "--format",
            "csv",
        ],
    );
    assert!(ok, "{err}");
    // Support had x and y at once (09:00 to 09:30); Sales only x.
    let peak = |group: &str| {
        crate::support::peaks(&groups, &format!("default/{group}"), "Voice")
            .first()
            .copied()
    };
    assert_eq!(peak("Support"), Some(2), "{groups}");
    assert_eq!(peak("Sales"), Some(1), "{groups}");
}
