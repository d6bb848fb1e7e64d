//! The PostgreSQL store: the same site through SQLite and PostgreSQL gives the same bytes,
//! `migrate-store` copies everything, and no message shows the password. These tests
//! need SEATMETER_TEST_DATABASE_URL (`.ci/run` sets it); each works in a schema of its own,
//! dropped after.

use std::path::Path;
use std::process::Command;

use seatmeter::dev::sitegen::{SiteSpec, generate};

use crate::support::seatmeter;

/// The test database, or None when it is not configured: the test then says loudly that
/// it was skipped, and fails under `CI=true`.
pub fn database_url(test: &str) -> Option<String> {
    seatmeter_core::testing::database_url(test)
}

/// A schema of the test database, dropped when the test ends.
pub struct Schema {
    base: String,
    pub name: String,
}

impl Schema {
    pub fn new(base: &str, test: &str) -> Schema {
        let name = seatmeter_core::testing::unique_name(test);
        Schema::sql(base, &format!("CREATE SCHEMA {name}"));
        Schema {
            base: base.to_string(),
            name,
        }
    }

    /// A URL whose connections work in this schema.
    pub fn url(&self) -> String {
        seatmeter_core::testing::schema_url(&self.base, &self.name)
    }

    pub fn sql(url: &str, sql: &str) {
        use sqlx::Connection;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap();
        });
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        Schema::sql(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = seatmeter(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The demo site (bad lines, stray logouts, a re-delivered file, the end of summer
/// time), 20 days of it, with `pg.toml` pointing at `url`.
fn site(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = SiteSpec {
        days: 20,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 7).unwrap(),
        ..SiteSpec::demo()
    };
    generate(&spec, dir.path()).unwrap();
    let config = std::fs::read_to_string(dir.path().join("seatmeter.toml")).unwrap();
    assert!(config.contains("path = \"seatmeter.db\""), "{config}");
    std::fs::write(
        dir.path().join("pg.toml"),
        config.replace("path = \"seatmeter.db\"", &format!("url = \"{url}\"")),
    )
    .unwrap();
    dir
}

/// Every report the site can give that the test compares: each scope, three
/// granularities, CSV and JSON.
fn reports(dir: &Path, config: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for scope in ["system", "tenant", "group"] {
        for granularity in ["10min", "daily", "monthly"] {
            for format in ["csv", "json"] {
                let name = format!("{scope}-{granularity}.{format}");
                let text = ok(
                    dir,
                    &[
                        "-c",
                        config,
                        "report",
                        "--scope",
                        scope,
                        "--granularity",
                        granularity,
                        "--from",
                        "2026-10-07",
                        "--to",
                        "2026-10-26",
                        "--format",
                        format,
                    ],
                );
                out.push((name, text));
            }
        }
    }
    out
}

fn assert_same(a: &[(String, String)], b: &[(String, String)]) {
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert!(x.lines().count() > 1, "{name} is empty");
        assert!(x == y, "{name} differs between the stores");
    }
}

#[test]
fn sqlite_and_postgres_give_identical_reports() {
    let Some(base) = database_url("sqlite_and_postgres_give_identical_reports") else {
        return;
    };
    let schema = Schema::new(&base, "same");
    let dir = site(&schema.url());
    let d = dir.path();
    for config in ["seatmeter.toml", "pg.toml"] {
        let collected = ok(d, &["-c", config, "collect", "--once"]);
        assert!(collected.contains("kept aside"), "{collected}");
        ok(d, &["-c", config, "rollup"]);
    }
    let lite = reports(d, "seatmeter.toml");
    let pg = reports(d, "pg.toml");
    assert_same(&lite, &pg);
    // The lines kept aside and the counts agree too.
    let rejects = |config| ok(d, &["-c", config, "rejects"]);
    assert_eq!(rejects("seatmeter.toml"), rejects("pg.toml"));
    assert!(rejects("pg.toml").contains("expected 7 fields"));

    // Collecting again stores nothing and changes no report; the cursor is in PostgreSQL.
    let again = ok(d, &["-c", "pg.toml", "collect", "--once"]);
    assert!(again.contains("0 event(s) stored"), "{again}");
    ok(d, &["-c", "pg.toml", "rollup"]);
    assert_same(&lite, &reports(d, "pg.toml"));

    // A reset cursor reads everything again: duplicates are stored once.
    ok(d, &["-c", "pg.toml", "reset-cursor", "events"]);
    let re = ok(d, &["-c", "pg.toml", "collect", "--once"]);
    assert!(re.contains("0 event(s) stored"), "{re}");
    assert!(re.contains("duplicate"), "{re}");
    ok(d, &["-c", "pg.toml", "rollup"]);
    assert_same(&lite, &reports(d, "pg.toml"));
}

#[test]
fn migrate_store_copies_every_table_and_the_reports_stay_the_same() {
    let Some(base) = database_url("migrate_store") else {
        return;
    };
    let schema = Schema::new(&base, "migrate");
    let dir = site(&schema.url());
    let d = dir.path();
    ok(d, &["-c", "seatmeter.toml", "collect", "--once"]);
    ok(d, &["-c", "seatmeter.toml", "rollup"]);
    let url = schema.url();
    let copied = ok(
        d,
        &["migrate-store", "--from", "seatmeter.db", "--to", &url],
    );
    for table in [
        "event_chunk",
        "snapshot",
        "rollup_scope_day",
        "reject",
        "agent",
    ] {
        let line = copied
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("{table} missing from {copied}"));
        let n: u64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(n > 0, "{line}");
    }
    assert_same(&reports(d, "seatmeter.toml"), &reports(d, "pg.toml"));
    // The cursors came along: nothing is read twice.
    let again = ok(d, &["-c", "pg.toml", "collect", "--once"]);
    assert!(again.contains("0 event(s) stored"), "{again}");
    // New ids continue after the copied ones: a new tenant's events are reported.
    std::fs::write(
        d.join("spool").join("zz-late.jsonl"),
        "{\"ts\":\"2026-10-25T10:00:00Z\",\"event\":\"login\",\"tenant\":\"newco\",\"agent\":\"n1\",\"media\":[\"voice\"]}\n",
    )
    .unwrap();
    let late = ok(d, &["-c", "pg.toml", "collect", "--once"]);
    assert!(late.contains("1 event(s) stored"), "{late}");
    ok(d, &["-c", "pg.toml", "rollup"]);
    let tenants = ok(
        d,
        &[
            "-c",
            "pg.toml",
            "report",
            "--scope",
            "tenant",
            "--id",
            "newco",
            "--granularity",
            "daily",
            "--from",
            "2026-10-25",
            "--format",
            "csv",
        ],
    );
    assert!(tenants.contains("newco"), "{tenants}");
    // A schema that does not exist is named as such.
    let missing = format!(
        "{base}{}options=-c%20search_path%3Dsm_nowhere",
        if base.contains('?') { '&' } else { '?' }
    );
    let o = seatmeter(
        d,
        &["migrate-store", "--from", "seatmeter.db", "--to", &missing],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("create it first"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A store that holds data is not written over.
    let o = seatmeter(
        d,
        &["migrate-store", "--from", "seatmeter.db", "--to", &url],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds data"));
}

#[test]
fn the_password_is_never_shown() {
    // No database needed: the server is unreachable, and every message must still hide
    // the password.
    for url in [
        "postgres://seatmeter:Sup3rSecret@127.0.0.1:1/site",
        "postgres://seatmeter@127.0.0.1:1/site?sslmode=disable&password=Sup3rSecret",
    ] {
        password_hidden(url);
    }
}

fn password_hidden(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seatmeter.toml"),
        format!(
            "timezone = \"UTC\"\n[store]\nurl = \"{url}\"\n[[item]]\nname = \"Voice\"\nmedia = [\"voice\"]\n"
        ),
    )
    .unwrap();
    for args in [
        &["-c", "seatmeter.toml", "init"][..],
        &["-c", "seatmeter.toml", "status"],
        &["-c", "seatmeter.toml", "collect", "--once"],
        &["migrate-store", "--from", "seatmeter.toml", "--to", url],
        &["migrate-store", "--help"],
        &["--help"],
    ] {
        let o = seatmeter(dir.path(), args);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !all.contains("Sup3rSecret"),
            "{args:?} shows the password: {all}"
        );
        if !args.contains(&"--help") {
            assert!(!o.status.success(), "{args:?}: {all}");
            assert!(
                all.contains("***") || all.contains("SQLite"),
                "{args:?}: {all}"
            );
        }
    }
}

#[test]
fn the_service_runs_on_postgresql_and_stops_cleanly() {
    use std::io::{BufRead, BufReader, Read, Write};
    let Some(base) = database_url("service_on_postgres") else {
        return;
    };
    let schema = Schema::new(&base, "serve");
    let dir = site(&schema.url());
    let d = dir.path();
    let cfg = std::fs::read_to_string(d.join("pg.toml")).unwrap();
    std::fs::write(
        d.join("pg.toml"),
        format!("{cfg}\n[service]\nlisten = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(d)
        .args(["-c", "pg.toml", "serve"])
        .env("SEATMETER_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(d.join("serve.err")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let metrics = || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    };
    // The first collection and rollup land in PostgreSQL.
    let started = std::time::Instant::now();
    loop {
        let m = metrics();
        if m.contains("seatmeter_rollups_total{outcome=\"success\"} 1") {
            assert!(
                m.contains("seatmeter_events_collected_total{collector=\"events\"}"),
                "{m}"
            );
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "no rollup yet: {m}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    let err = std::fs::read_to_string(d.join("serve.err")).unwrap();
    assert!(exit.success(), "{exit:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    // What the service stored is the site's data: the reports equal a direct run's.
    let lite = {
        ok(d, &["-c", "seatmeter.toml", "collect", "--once"]);
        ok(d, &["-c", "seatmeter.toml", "rollup"]);
        reports(d, "seatmeter.toml")
    };
    assert_same(&lite, &reports(d, "pg.toml"));
}
