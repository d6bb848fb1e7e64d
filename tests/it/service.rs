//! `seatmeter serve`: its endpoints, a clean stop on SIGTERM, and SIGKILL at random moments.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatmeter::config::Config;
use seatmeter::dev::sitegen::{SiteSpec, generate};
use seatmeter::service::{self, schedule::SystemClock};
use seatmeter_core::rng::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::Site;

pub(crate) fn small_site() -> Site {
    let site = Site::simple("UTC");
    let mut spec = SiteSpec::demo();
    spec.agents = 30;
    spec.days = 6;
    spec.anomalies = false;
    spec.start = chrono::NaiveDate::from_ymd_opt(2026, 10, 22).unwrap();
    generate(&spec, site.path()).unwrap();
    site
}

/// Sets the events collector's interval and the service's address in a generated config.
pub(crate) fn fast(site: &Site, interval: &str) {
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    let cfg = cfg.replacen(
        "interval = \"5m\"",
        &format!("interval = \"{interval}\""),
        1,
    );
    std::fs::write(
        site.config_path(),
        format!("{cfg}\n[service]\nlisten = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
}

pub(crate) async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let (status, _, body) = get_with_head(addr, path).await;
    (status, body)
}

/// Status 0: the server closed the connection without an answer (over its connection
/// limit, say).
async fn get_with_head(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let sent = s
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: seatmeter\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
    if sent.is_ok() {
        let _ = s.read_to_end(&mut buf).await;
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return (
            0,
            String::new(),
            format!("closed without an answer: {text:?}"),
        );
    };
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        head.to_string(),
        crate::service_auth::dechunk(head, body),
    )
}

fn scrape(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

fn value(s: &prometheus_parse::Scrape, metric: &str, label: Option<(&str, &str)>) -> f64 {
    let sample = s
        .samples
        .iter()
        .find(|x| x.metric == metric && label.is_none_or(|(k, v)| x.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no {metric} {label:?}"));
    match sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        _ => panic!("{metric} is not a number"),
    }
}

async fn wait_for(
    addr: std::net::SocketAddr,
    what: &str,
    ok: impl Fn(&prometheus_parse::Scrape) -> bool,
) -> prometheus_parse::Scrape {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        let s = scrape(&body);
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_metrics_and_reports() {
    let site = small_site();
    fast(&site, "200ms");
    // Half the files now, the rest later.
    let spool = site.path().join("spool");
    let held = site.path().join("held");
    std::fs::create_dir_all(&held).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for n in &names[names.len() / 2..] {
        std::fs::rename(spool.join(n), held.join(n)).unwrap();
    }
    let config = Config::load(&site.config_path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(service::run(
        config,
        Arc::new(SystemClock),
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    assert_eq!(get(addr, "/healthz").await, (200, "ok\n".to_string()));
    let first = wait_for(addr, "the first collections", |s| {
        value(
            s,
            "seatmeter_events_collected_total",
            Some(("collector", "events")),
        ) > 0.0
            && value(
                s,
                "seatmeter_snapshots_collected_total",
                Some(("collector", "cfg")),
            ) > 0.0
            && value(s, "seatmeter_rollups_total", Some(("outcome", "success"))) >= 1.0
    })
    .await;
    for m in [
        "seatmeter_collection_last_success_timestamp_seconds",
        "seatmeter_collection_last_duration_seconds",
        "seatmeter_lines_kept_aside_total",
    ] {
        value(&first, m, Some(("collector", "events")));
    }
    for m in [
        "seatmeter_store_size_bytes",
        "seatmeter_rollup_lag_days",
        "seatmeter_events_stored",
    ] {
        value(&first, m, None);
    }
    assert!(value(&first, "seatmeter_store_size_bytes", None) > 0.0);
    // The catch-up rollup ran after the first collections: nothing is left behind.
    assert_eq!(value(&first, "seatmeter_rollup_lag_days", None), 0.0);

    // More data: counters only grow.
    for n in &names[names.len() / 2..] {
        std::fs::rename(held.join(n), spool.join(n)).unwrap();
    }
    let before = value(
        &first,
        "seatmeter_events_collected_total",
        Some(("collector", "events")),
    );
    let second = wait_for(addr, "the rest of the files", |s| {
        value(
            s,
            "seatmeter_events_collected_total",
            Some(("collector", "events")),
        ) > before
    })
    .await;
    let mut counters = 0;
    for s in &first.samples {
        if let prometheus_parse::Value::Counter(was) = s.value {
            let later = second
                .samples
                .iter()
                .find(|x| x.metric == s.metric && x.labels == s.labels)
                .unwrap();
            let prometheus_parse::Value::Counter(after) = later.value else {
                panic!("{} changed type", s.metric)
            };
            assert!(
                after >= was,
                "{} {:?} went down: {was} -> {after}",
                s.metric,
                s.labels
            );
            counters += 1;
        }
    }
    assert!(counters >= 10, "{counters} counters compared");
    // The new data is not rolled up yet (that happens after midnight): reports say so.
    assert!(value(&second, "seatmeter_rollup_lag_days", None) > 0.0);
    // The new data (the later days) is not rolled up yet: a report of those days is
    // refused, or given with its gaps in the headers when asked for anyway. The first
    // day was complete before and still is.
    let (status, _) = get(addr, "/reports/system/daily?from=2026-10-22").await;
    assert_eq!(status, 200);
    let (status, body) = get(addr, "/reports/system/daily?from=2026-10-22&to=2026-10-27").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("data for") && body.contains("allow_incomplete=true"),
        "{body}"
    );
    let (status, head, _) = get_with_head(
        addr,
        "/reports/system/daily?from=2026-10-22&to=2026-10-27&allow_incomplete=true",
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.contains("199 seatmeter \"data for"), "{head}");

    // /reports gives what `report` gives, once rolled up.
    let cfg_path = site.config_path();
    tokio::task::spawn_blocking(move || {
        let config = Config::load(&cfg_path).unwrap();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        seatmeter::rollup::Rollup::new(store.as_mut(), &config)
            .run(seatmeter::rollup::Days::Changed, &mut |_| {})
            .unwrap();
    })
    .await
    .unwrap();
    let want = site.report("tenant", "daily", "2026-10-22", "2026-10-27");
    let (status, body) = get(addr, "/reports/tenant/daily?from=2026-10-22&to=2026-10-27").await;
    assert_eq!(status, 200);
    assert_eq!(body, want);
    let (status, body) = get(
        addr,
        "/reports/group/hourly?from=2026-10-23&format=json&id=acme",
    )
    .await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|r| r["scope_id"].as_str().unwrap().starts_with("acme/"))
    );
    let (status, body) = get(addr, "/reports/system/daily").await;
    assert_eq!((status, body.trim()), (400, "?from=YYYY-MM-DD is required"));
    let (status, body) = get(addr, "/reports/planet/daily?from=2026-10-22").await;
    assert_eq!(status, 400);
    assert!(body.contains("expected system, tenant, group or place-group"));
    let (status, body) = get(addr, "/reports/tenant/daily?from=2026-10-22&id=nobody").await;
    assert_eq!(status, 404);
    // Over HTTP an unknown id is not told which ids exist.
    assert_eq!(body.trim(), "no tenant \"nobody\"");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

pub(crate) fn spawn_serve(dir: &Path) -> (Child, std::net::SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .args(["-c", "seatmeter.toml", "serve"])
        .env("SEATMETER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
        .unwrap_or_else(|| panic!("{line:?}"));
    (child, addr.parse().unwrap())
}

#[test]
fn sigterm_stops_cleanly_and_exits_zero() {
    let site = small_site();
    fast(&site, "100ms");
    let (mut child, _) = spawn_serve(site.path());
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

/// Copies `src` into `dst` in pieces of random length (lines are cut anywhere), as a
/// platform writing its spool would.
fn drip(src: &Path, dst: &Path, rng: &mut Rng) {
    let bytes = std::fs::read(src).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dst)
        .unwrap();
    let mut i = 0;
    while i < bytes.len() {
        let n = (1 + rng.below(400) as usize).min(bytes.len() - i);
        f.write_all(&bytes[i..i + n]).unwrap();
        f.flush().unwrap();
        i += n;
        if rng.chance(0.3) {
            std::thread::sleep(Duration::from_millis(rng.below(3)));
        }
    }
}

#[test]
fn killed_at_random_moments_neither_loses_nor_doubles_an_event() {
    let source = small_site();
    let site = Site::simple("UTC");
    std::fs::copy(source.config_path(), site.config_path()).unwrap();
    std::fs::copy(
        source.path().join("license.dat"),
        site.path().join("license.dat"),
    )
    .unwrap();
    for e in std::fs::read_dir(source.path().join("config-snapshots")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(
            e.path(),
            site.path().join("config-snapshots").join(e.file_name()),
        )
        .unwrap();
    }
    fast(&site, "100ms");
    let mut files: Vec<_> = std::fs::read_dir(source.path().join("spool"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let dst = site.path().join("spool");
    let writer = std::thread::spawn(move || {
        let mut rng = Rng::new(7);
        for f in files {
            drip(&f, &dst.join(f.file_name().unwrap()), &mut rng);
        }
    });
    let mut rng = Rng::new(11);
    let mut kills = 0;
    while !writer.is_finished() || kills < 12 {
        let (mut child, _) = spawn_serve(site.path());
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    writer.join().unwrap();
    let count = |s: &Site| {
        let config = s.config();
        seatmeter_store::open(&config.store)
            .unwrap()
            .status()
            .unwrap()
            .events
    };
    let by_killed = count(&site);
    // One more run picks up what is left; then the reports are compared with one clean
    // collection of the same files.
    site.collect_and_rollup();
    source.collect_and_rollup();
    for (scope, gran) in [
        ("system", "10min"),
        ("tenant", "daily"),
        ("group", "hourly"),
    ] {
        let got = site.report(scope, gran, "2026-10-22", "2026-10-28");
        let want = source.report(scope, gran, "2026-10-22", "2026-10-28");
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .take(4)
            .map(|(g, w)| format!("  got  {g}\n  want {w}"))
            .collect();
        assert!(
            got == want,
            "{scope} {gran} after {kills} kills:\n{}",
            diff.join("\n")
        );
    }
    let all = count(&source);
    assert_eq!(count(&site), all, "no event lost, none stored twice");
    eprintln!("{kills} kills; the killed services had stored {by_killed} of {all} events");
    assert!(
        by_killed * 2 > all,
        "the killed services did most of the work: {by_killed} of {all}"
    );
}

#[test]
fn the_packaged_configuration_and_unit_are_usable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("packaging/seatmeter.toml")).unwrap();
    assert_eq!(config.service.listen, "127.0.0.1:9184");
    assert_eq!(
        config.service.retention.0,
        Duration::from_secs(400 * 86_400)
    );
    assert_eq!(config.collectors.len(), 2);
    assert_eq!(
        config.store.path.as_deref(),
        Some(Path::new("/var/lib/seatmeter/seatmeter.db"))
    );
    let unit = std::fs::read_to_string(root.join("packaging/seatmeter.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/seatmeter --config /etc/seatmeter/seatmeter.toml serve")
    );
    for key in [
        "User=seatmeter",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "StateDirectory=seatmeter",
        "ReadWritePaths=/var/lib/seatmeter",
        "Environment=SEATMETER_LOG_FORMAT=journal",
    ] {
        assert!(unit.lines().any(|l| l == key), "{key}");
    }
    // The package's postinst makes every folder the packaged configuration reads.
    let postinst = std::fs::read_to_string(root.join("packaging/debian/postinst")).unwrap();
    let spool = postinst
        .lines()
        .find_map(|l| l.strip_prefix("SPOOL="))
        .expect("postinst names SPOOL");
    let made = postinst.replace("$SPOOL", spool);
    let packaged = std::fs::read_to_string(root.join("packaging/seatmeter.toml")).unwrap();
    let paths: Vec<&str> = packaged
        .lines()
        .filter_map(|l| l.strip_prefix("path = \"/var/spool/"))
        .map(|l| l.split('"').next().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    for p in paths {
        assert!(
            made.contains(&format!(
                "folder \"/var/spool/{p}\" seatmeter:seatmeter 2770"
            )),
            "postinst makes /var/spool/{p}"
        );
    }
}

#[test]
fn retention_deletes_old_raw_events_and_keeps_their_rollups_final() {
    use crate::support::{ev, lines};
    let site = Site::simple("UTC");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        format!("{cfg}\n[service]\nretention = \"10d\"\n"),
    )
    .unwrap();
    site.spool(
        "a.jsonl",
        &lines(&[
            ev("2026-01-05T09:00:00Z", "login", "a", "x", &["voice"], &[]),
            ev("2026-01-05T10:00:00Z", "login", "a", "y", &["voice"], &[]),
            ev("2026-01-05T11:00:00Z", "logout", "a", "y", &[], &[]),
            ev("2026-01-20T09:00:00Z", "login", "a", "z", &["voice"], &[]),
        ]),
    );
    site.collect_and_rollup();
    let before = site.report("system", "daily", "2026-01-01", "2026-01-25");
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let now = seatmeter_core::time::parse_rfc3339("2026-01-25T12:00:00Z").unwrap();
    assert_eq!(
        service::retention(store.as_mut(), &config, now).unwrap(),
        3,
        "the three events before 15 January"
    );
    assert_eq!(store.status().unwrap().events, 1);
    drop(store);
    assert_eq!(
        site.report("system", "daily", "2026-01-01", "2026-01-25"),
        before,
        "rollups are kept"
    );
    // A late logout for a final day is stored, but that day is not rolled up again; the days
    // after the horizon still start from what was logged in then.
    site.spool(
        "b.jsonl",
        &lines(&[
            ev("2026-01-06T08:00:00Z", "logout", "a", "x", &[], &[]),
            ev("2026-01-21T08:00:00Z", "logout", "a", "x", &[], &[]),
        ]),
    );
    site.collect();
    let stats = site.rollup();
    assert_eq!(stats.frozen_days_with_new_data, 1);
    assert_eq!(
        crate::support::peaks(
            &site.report("system", "daily", "2026-01-06", "2026-01-06"),
            "",
            "Voice"
        ),
        [1],
        "final"
    );
    assert_eq!(
        crate::support::peaks(
            &site.report("system", "daily", "2026-01-21", "2026-01-22"),
            "",
            "Voice"
        ),
        [2, 1],
        "x carried in, logged out on the 21st"
    );
    // The time zone cannot change any more: those days could not be rolled up again.
    std::fs::write(
        site.config_path(),
        std::fs::read_to_string(site.config_path())
            .unwrap()
            .replace("timezone = \"UTC\"", "timezone = \"Europe/Paris\""),
    )
    .unwrap();
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let err = seatmeter::rollup::Rollup::new(store.as_mut(), &config)
        .run(seatmeter::rollup::Days::Changed, &mut |_| {})
        .unwrap_err();
    assert!(
        err.to_string().contains("deleted by the retention"),
        "{err}"
    );
}
