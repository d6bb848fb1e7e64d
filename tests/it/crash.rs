//! A crash at any moment loses and doubles nothing (issue 12): the real binary's
//! `collect --once` and `rollup`, SIGKILLed again and again at random moments, leave a store
//! whose every report and count equals that of a clean run, byte for byte; and two
//! `collect --once` started together on one store store each event once. On SQLite, and on
//! PostgreSQL when SEATMETER_TEST_DATABASE_URL is set.
//!
//! The site is generated with the demo's anomalies (bad lines, stray logouts, a re-delivered
//! file). It is delivered in two steps: first all but the last two days' data and half of
//! the third-last day's files; then the second half of those (lines appended to files
//! already read) and the last two days' files (new files), so that a kill can land in an
//! ingest that follows earlier ones.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use seatmeter::dev::sitegen::{SiteSpec, generate};
use seatmeter_core::rng::Rng;

use crate::postgres::{Schema, database_url};
use crate::support::seatmeter;

const FROM: &str = "2026-10-16";
const TO: &str = "2026-11-02";
/// The second half of this day's files comes in the second delivery.
const SPLIT_DAY: &str = "2026-10-31";
/// The files of the days from this one come in the second delivery.
const NEW_DAYS: &str = "2026-11-01";
/// The kills of a phase sweep a clean run's time in this many steps.
const STEPS: u64 = 12;
/// At most this many kills per phase (a run far slower than the clean one); then the
/// phase's command runs to its end.
const MAX_KILLS: u32 = 40;

/// The signal `Child::kill` sends.
const SIGKILL: i32 = 9;

const COLLECT: &[&str] = &["collect", "--once"];
const ROLLUP: &[&str] = &["rollup"];

/// 250 agents in 3 tenants over 18 days (about 25,000 events), through the end of summer
/// time and a month end, with the demo's anomalies.
fn spec() -> SiteSpec {
    SiteSpec {
        agents: 250,
        tenants: 3,
        days: 18,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 16).unwrap(),
        anomalies: true,
        ..SiteSpec::demo()
    }
}

/// The generated site, and which of its spool files the second delivery brings.
struct Source {
    dir: tempfile::TempDir,
    /// Files of the third-last day: (name, where their second half starts).
    split: Vec<(String, usize)>,
    /// Files of the last two days.
    new: Vec<String>,
}

/// A copy of the site in a folder of its own, with its own store (a SQLite file in the
/// folder, or a schema of its own whose connections are named after it).
struct Copy {
    dir: tempfile::TempDir,
    server: Option<Server>,
    /// Dropped after `server`'s connection.
    schema: Option<Schema>,
}

impl Copy {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Waits until the store has nothing left of a killed process: on PostgreSQL, until
    /// the server has ended the dead client's connections (it finishes the statement it
    /// was running first, a COMMIT included: see
    /// `postgres_a_collect_started_while_a_killed_one_commits_reads_nothing_again`).
    fn settle(&mut self) {
        if let Some(server) = &mut self.server {
            server.wait_until_gone();
        }
    }
}

/// What the PostgreSQL server runs for one copy's processes (their `application_name` is
/// the copy's schema).
struct Server {
    rt: tokio::runtime::Runtime,
    conn: sqlx::PgConnection,
    app: String,
}

impl Server {
    fn connect(base: &str, app: &str) -> Server {
        use sqlx::Connection;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = rt.block_on(sqlx::PgConnection::connect(base)).unwrap();
        Server {
            rt,
            conn,
            app: app.to_string(),
        }
    }

    /// The copy's connections for which `condition` (on `pg_stat_activity`) holds.
    fn count(&mut self, condition: &str) -> i64 {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND {condition}"
        );
        self.rt
            .block_on(
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .bind(&self.app)
                    .fetch_one(&mut self.conn),
            )
            .unwrap()
    }

    /// Waits until `condition` holds for one of the copy's connections at least.
    fn wait_for(&mut self, condition: &str) {
        let until = Instant::now() + Duration::from_secs(60);
        while self.count(condition) == 0 {
            assert!(Instant::now() < until, "no connection with {condition}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_until_gone(&mut self) {
        let until = Instant::now() + Duration::from_secs(60);
        while self.count("true") > 0 {
            assert!(
                Instant::now() < until,
                "the killed process's connections are still there after 60 s"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Source {
    fn new() -> Source {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(&spec(), dir.path()).unwrap();
        assert!(g.bad_lines > 0);
        let mut split = Vec::new();
        let mut new = Vec::new();
        for name in names(&dir.path().join("spool")) {
            if name.as_str() >= NEW_DAYS {
                new.push(name);
            } else if name.starts_with(SPLIT_DAY) {
                let text = std::fs::read(dir.path().join("spool").join(&name)).unwrap();
                let mid = text.len() / 2;
                let at = mid + text[mid..].iter().position(|&b| b == b'\n').unwrap() + 1;
                assert!(at < text.len(), "{name} has a second half");
                split.push((name, at));
            }
        }
        assert!(!split.is_empty() && !new.is_empty(), "{split:?} {new:?}");
        Source { dir, split, new }
    }

    /// A copy of the site as the first delivery leaves it. `db`: the PostgreSQL database
    /// to make a schema in, or None for SQLite.
    fn copy(&self, db: Option<&str>, name: &str) -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (self.dir.path(), dir.path());
        let schema = db.map(|base| Schema::new(base, name));
        let server = db
            .zip(schema.as_ref())
            .map(|(b, s)| Server::connect(b, &s.name));
        let mut config = std::fs::read_to_string(src.join("seatmeter.toml")).unwrap();
        assert!(config.contains("path = \"seatmeter.db\""), "{config}");
        if let Some(s) = &schema {
            let url = format!("{}&application_name={}", s.url(), s.name);
            config = config.replace("path = \"seatmeter.db\"", &format!("url = \"{url}\""));
        }
        std::fs::write(dst.join("seatmeter.toml"), config).unwrap();
        std::fs::copy(src.join("license.dat"), dst.join("license.dat")).unwrap();
        for folder in ["spool", "config-snapshots"] {
            std::fs::create_dir_all(dst.join(folder)).unwrap();
            for n in names(&src.join(folder)) {
                if self.new.contains(&n) {
                    continue;
                }
                let mut bytes = std::fs::read(src.join(folder).join(&n)).unwrap();
                if let Some((_, at)) = self.split.iter().find(|(s, _)| *s == n) {
                    bytes.truncate(*at);
                }
                std::fs::write(dst.join(folder).join(&n), bytes).unwrap();
            }
        }
        Copy {
            dir,
            server,
            schema,
        }
    }

    /// The second delivery: the second halves appended, the last two days' files added.
    fn deliver_rest(&self, dst: &Path) {
        use std::io::Write;
        let (src, dst) = (self.dir.path().join("spool"), dst.join("spool"));
        for (name, at) in &self.split {
            let bytes = std::fs::read(src.join(name)).unwrap();
            std::fs::OpenOptions::new()
                .append(true)
                .open(dst.join(name))
                .unwrap()
                .write_all(&bytes[*at..])
                .unwrap();
        }
        for name in &self.new {
            std::fs::copy(src.join(name), dst.join(name)).unwrap();
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Runs a command of the binary on the copy's configuration; it must succeed. Its standard
/// output, and how long it took.
fn ok(dir: &Path, args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let o = seatmeter(dir, &[&["-c", "seatmeter.toml"], args].concat());
    let took = started.elapsed();
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (String::from_utf8(o.stdout).unwrap(), took)
}

/// What `status` counts, without what a run that was killed may change (runs, last
/// success, the store's size).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counts {
    /// Per collector: (name, [events, duplicates, snapshots, lines kept aside]).
    collectors: Vec<(String, [u64; 4])>,
    /// The "stored:" line: events and their span, snapshots, tenants, agents, groups.
    stored: String,
    /// The "rolled up:" line, and the "waiting for the rollup" one if any.
    rolled: Vec<String>,
    /// Lines kept aside, in all.
    rejects: u64,
}

impl Counts {
    fn collector(&self, name: &str) -> [u64; 4] {
        self.collectors
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no collector {name} in {self:?}"))
            .1
    }
}

fn counts(dir: &Path) -> Counts {
    let (text, _) = ok(dir, &["status"]);
    let mut c = Counts {
        collectors: Vec::new(),
        stored: String::new(),
        rolled: Vec::new(),
        rejects: u64::MAX,
    };
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("stored: ") {
            c.stored = rest.to_string();
        } else if t.starts_with("rolled up") || t.starts_with("waiting for the rollup") {
            c.rolled.push(t.to_string());
        } else if let Some(n) = t.strip_prefix("lines kept aside: ") {
            c.rejects = n.parse().unwrap();
        } else if line.starts_with("  ") && t.contains(" run(s), ") {
            // "events (spool): 3 run(s), 0 failed; last success …; 16 event(s), 0
            // duplicate(s), 0 snapshot(s), 2 line(s) kept aside"
            let name = t.split(' ').next().unwrap().to_string();
            let tail = t.rsplit("; ").next().unwrap();
            let n: Vec<u64> = tail
                .split(", ")
                .map(|p| p.split(' ').next().unwrap().parse().unwrap())
                .collect();
            c.collectors
                .push((name, n.try_into().unwrap_or_else(|_| panic!("{line}"))));
        }
    }
    assert!(
        c.rejects != u64::MAX && !c.stored.is_empty() && c.collectors.len() == 2,
        "{text}"
    );
    c
}

/// Everything compared: every report (each scope, 10-minute to monthly, CSV), `status`'s
/// counts, and the lines kept aside as `rejects` lists them.
#[derive(Debug, Clone)]
struct Outputs {
    reports: Vec<(String, String)>,
    counts: Counts,
    rejects: String,
}

fn outputs(dir: &Path) -> Outputs {
    let mut reports = Vec::new();
    for scope in ["system", "tenant", "group"] {
        for granularity in ["10min", "hourly", "daily", "monthly"] {
            let args = [
                "report",
                "--scope",
                scope,
                "--granularity",
                granularity,
                "--from",
                FROM,
                "--to",
                TO,
                "--format",
                "csv",
            ];
            reports.push((format!("{scope} {granularity}"), ok(dir, &args).0));
        }
    }
    Outputs {
        reports,
        counts: counts(dir),
        rejects: ok(dir, &["rejects", "--limit", "100000"]).0,
    }
}

/// Every report equal to the reference's, byte for byte; else the first lines that differ.
fn assert_reports(when: &str, got: &Outputs, want: &Outputs) {
    for ((name, g), (_, w)) in got.reports.iter().zip(&want.reports) {
        assert!(w.lines().count() > 1, "the reference's {name} is empty");
        if g != w {
            let diff: Vec<String> = g
                .lines()
                .zip(w.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(4)
                .map(|(i, (a, b))| format!("  line {}\n    got  {a}\n    want {b}", i + 1))
                .collect();
            panic!(
                "{when}: the {name} report differs ({} lines, reference {}):\n{}",
                g.lines().count(),
                w.lines().count(),
                diff.join("\n")
            );
        }
    }
}

/// Reports, counts and lines kept aside all equal to the reference's.
fn assert_same(when: &str, got: &Outputs, want: &Outputs) {
    assert_reports(when, got, want);
    assert_eq!(got.counts, want.counts, "{when}: status counts");
    assert_eq!(got.rejects, want.rejects, "{when}: the lines kept aside");
}

/// A clean run of every step, each command timed: collect, rollup, the second delivery,
/// collect, rollup. What the site gives after the first rollup and at the end.
struct Reference {
    _copy: Copy,
    /// How long each step's command took: collect, rollup, collect, rollup.
    took: [Duration; 4],
    first: Outputs,
    last: Outputs,
}

fn reference(source: &Source, db: Option<&str>) -> Reference {
    let copy = source.copy(db, "reference");
    let d = copy.path();
    let (collected, t0) = ok(d, COLLECT);
    assert!(collected.contains("kept aside"), "{collected}");
    let (rolled, t1) = ok(d, ROLLUP);
    let stray: u64 = rolled
        .split(" stray logout")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{rolled}"));
    assert!(stray > 0, "the site has stray logouts: {rolled}");
    let first = outputs(d);
    source.deliver_rest(d);
    let (_, t2) = ok(d, COLLECT);
    let (_, t3) = ok(d, ROLLUP);
    let last = outputs(d);
    let events = last.counts.collector("events");
    assert!(
        events[0] > first.counts.collector("events")[0] && events[1] > 0 && events[3] > 0,
        "the second delivery adds events; the re-delivered file gives duplicates and the bad \
         lines are kept aside: {:?}",
        last.counts
    );
    Reference {
        _copy: copy,
        took: [t0, t1, t2, t3],
        first,
        last,
    }
}

/// Starts a command of the binary on the copy's configuration, its standard error to the
/// file `err` of the copy's folder.
fn spawn(dir: &Path, args: &[&str], err: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .env_remove("SEATMETER_CONFIG")
        .args(["-c", "seatmeter.toml"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(err)).unwrap())
        .spawn()
        .unwrap()
}

/// How long to let a run go before kill `kill` of a phase whose clean run took `clean`:
/// the first within 2 ms (starting, opening the store); then one at a random moment in
/// each `STEPS`th of the clean run's time, in order, and on past its end (a run may be
/// slower than the clean one), so that the kills sweep the whole run until one run ends by
/// itself.
fn delay(rng: &mut Rng, kill: u32, clean: Duration) -> Duration {
    if kill == 0 {
        return Duration::from_micros(rng.below(2_000));
    }
    let step = clean.as_micros() as u64 / STEPS;
    Duration::from_micros(step * u64::from(kill - 1) + rng.below(step))
}

/// One phase: runs `args` again and again, each run SIGKILLed after a random delay (see
/// [`delay`]), until a run ends by itself; after `MAX_KILLS`, the next run is left to end.
/// The kills that landed (the run was still going).
fn kill_loop(copy: &mut Copy, args: &[&str], clean: Duration, rng: &mut Rng) -> u32 {
    let dir = copy.dir.path().to_path_buf();
    let mut kills = 0;
    loop {
        let mut child = spawn(&dir, args, "last-run.err");
        if kills < MAX_KILLS {
            std::thread::sleep(delay(rng, kills, clean));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
            }
        }
        let status = child.wait().unwrap();
        if status.signal() == Some(SIGKILL) {
            kills += 1;
            // No waiting for the server to end the dead connection: a commit it still
            // finishes must not make the next run read or count anything twice.
            continue;
        }
        let err = std::fs::read_to_string(dir.join("last-run.err")).unwrap();
        assert!(
            status.success(),
            "{args:?} after {kills} kill(s): {status:?}\n{err}"
        );
        return kills;
    }
}

/// The crash test of one store: a reference, then the same steps with each command killed
/// again and again; every output compared after the first rollup and at the end.
fn killed_at_random_moments(test: &str, db: Option<&str>, seed: u64) {
    let started = Instant::now();
    let source = Source::new();
    let want = reference(&source, db);
    let mut copy = source.copy(db, "killed");
    let dir = copy.path().to_path_buf();
    let d = dir.as_path();
    let mut rng = Rng::new(seed);
    let mut kills = Vec::new();
    let c = &mut copy;
    kills.push(("collect", kill_loop(c, COLLECT, want.took[0], &mut rng)));
    kills.push(("rollup", kill_loop(c, ROLLUP, want.took[1], &mut rng)));
    let summary = |kills: &[(&str, u32)]| {
        kills
            .iter()
            .map(|(phase, n)| format!("{phase}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let when = format!("after the first collect and rollup ({})", summary(&kills));
    assert_same(&when, &outputs(d), &want.first);
    source.deliver_rest(d);
    kills.push((
        "collect after more data",
        kill_loop(c, COLLECT, want.took[2], &mut rng),
    ));
    kills.push((
        "rollup after more data",
        kill_loop(c, ROLLUP, want.took[3], &mut rng),
    ));
    let when = format!("at the end ({})", summary(&kills));
    assert_same(&when, &outputs(d), &want.last);
    let total: u32 = kills.iter().map(|(_, n)| n).sum();
    eprintln!(
        "{test}: {total} kills landed ({}); clean runs took {:?}; {:.1} s in all",
        summary(&kills),
        want.took,
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills.iter().all(|(_, n)| *n > 0),
        "every phase was killed at least once: {}",
        summary(&kills)
    );
}

#[test]
fn sqlite_killed_at_random_moments_loses_and_doubles_nothing() {
    killed_at_random_moments("crash_sqlite", None, 12);
}

#[test]
fn postgres_killed_at_random_moments_loses_and_doubles_nothing() {
    let Some(base) = database_url("postgres_killed_at_random_moments_loses_and_doubles_nothing")
    else {
        return;
    };
    killed_at_random_moments("crash_postgres", Some(&base), 13);
}

/// Two `collect --once` started together on one store, then a rollup, for each delivery:
/// the reports and the events stored equal a clean run's.
fn two_at_once(test: &str, db: Option<&str>) {
    let source = Source::new();
    let want = reference(&source, db);
    let copy = source.copy(db, "pair");
    let d = copy.path();
    let mut rejects_differ = Vec::new();
    for (step, want) in [("first", &want.first), ("second", &want.last)] {
        if step == "second" {
            source.deliver_rest(d);
        }
        let (a, b) = (spawn(d, COLLECT, "a.err"), spawn(d, COLLECT, "b.err"));
        for (name, mut child) in [("a", a), ("b", b)] {
            let status = child.wait().unwrap();
            let err = std::fs::read_to_string(d.join(format!("{name}.err"))).unwrap();
            assert!(
                status.success(),
                "{test} {step} delivery, collect {name}: {err}"
            );
        }
        ok(d, ROLLUP);
        let got = outputs(d);
        let when = format!("{test}, {step} delivery");
        assert_reports(&when, &got, want);
        let (g, w) = (&got.counts, &want.counts);
        assert_eq!(g.stored, w.stored, "{when}: events stored once");
        assert_eq!(g.rolled, w.rolled, "{when}");
        for name in ["events", "cfg"] {
            let (g, w) = (g.collector(name), w.collector(name));
            // Events, duplicates (the re-delivered file's only: a batch read by both is
            // stored by the first, the second reads on from its cursor) and snapshots.
            assert_eq!(
                [g[0], g[1], g[2]],
                [w[0], w[1], w[2]],
                "{when}: {name}'s events, duplicates and snapshots counted once"
            );
        }
        // No line kept aside is lost: each the reference kept is there.
        let distinct = |text: &str| {
            let mut v: Vec<String> = text.lines().map(String::from).collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(distinct(&got.rejects), distinct(&want.rejects), "{when}");
        if g.rejects != w.rejects || g.collector("events")[3] != w.collector("events")[3] {
            rejects_differ.push(format!(
                "{step} delivery: {} line(s) kept aside (events collector: {}), the reference {} ({})",
                g.rejects,
                g.collector("events")[3],
                w.rejects,
                w.collector("events")[3]
            ));
        }
    }
    // A file read twice (here by both collects, as after `reset-cursor`) does not have its
    // rejected lines stored or counted again.
    assert!(
        rejects_differ.is_empty(),
        "{test}: rejected lines stored again when a file is read twice: {}",
        rejects_differ.join("; ")
    );
}

#[test]
fn sqlite_two_collects_at_once_store_each_event_once() {
    two_at_once("two_collects_sqlite", None);
}

#[test]
fn postgres_two_collects_at_once_store_each_event_once() {
    let Some(base) = database_url("postgres_two_collects_at_once_store_each_event_once") else {
        return;
    };
    two_at_once("two_collects_postgres", Some(&base));
}

/// Found by the crash test on PostgreSQL: a process killed while its COMMIT runs in the
/// server (syncing the log, say) is committed all the same, after the process is gone. A
/// collect started meanwhile read the cursor from before that commit, so it read the
/// whole spool again: every event was stored once (the duplicates were found), but every
/// line read again was counted as a duplicate and every bad line stored again. Now each
/// batch is stored only if the cursor is still the one it was read after (checked under
/// the writers' lock); otherwise the collect reads on from the stored cursor.
///
/// This test makes that COMMIT slow on purpose (a deferred trigger that sleeps once, on
/// the events collector's first ingest), kills the collect while it waits, and collects
/// at once: the events collector's counts must equal a clean collection's.
#[test]
fn postgres_a_collect_started_while_a_killed_one_commits_reads_nothing_again() {
    let Some(base) =
        database_url("postgres_a_collect_started_while_a_killed_one_commits_reads_nothing_again")
    else {
        return;
    };
    let source = Source::new();
    let clean = source.copy(None, "clean");
    ok(clean.path(), COLLECT);
    let want = counts(clean.path());
    let mut copy = source.copy(Some(&base), "slow");
    let d = copy.path().to_path_buf();
    ok(&d, &["init"]);
    let url = copy.schema.as_ref().unwrap().url();
    Schema::sql(
        &url,
        "CREATE TABLE slowed (once int);
         CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NOT EXISTS (SELECT 1 FROM slowed) THEN
                 INSERT INTO slowed VALUES (1);
                 PERFORM pg_sleep(3);
             END IF;
             RETURN NULL;
         END $$;
         CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON collector
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = 'events')
             EXECUTE FUNCTION slow_commit();",
    );
    let mut child = spawn(&d, COLLECT, "killed.err");
    let server = copy.server.as_mut().unwrap();
    server.wait_for("query = 'COMMIT' AND wait_event = 'PgSleep'");
    child.kill().unwrap(); // SIGKILL, while the server commits the events' batch
    child.wait().unwrap();
    let (again, _) = ok(&d, COLLECT);
    copy.settle();
    let got = counts(&d);
    assert_eq!(got.stored, want.stored, "every event stored once: {again}");
    assert_eq!(
        got.collector("events"),
        want.collector("events"),
        "[events, duplicates, snapshots, lines kept aside] of the events collector; the \
         collect after the kill said: {again}"
    );
}
