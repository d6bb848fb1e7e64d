//! Alerts through the outbox (docs/ALERTS.md, "Never lost, never flooded"): a local
//! receiver on 127.0.0.1 that is down, fails, answers 429 with Retry-After and then accepts
//! gets every notification exactly once per idempotency key, in order per rule — with a
//! simulated hour of downtime in process, and with `seatmeter serve` SIGKILLed between
//! attempts.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use seatmeter::guard::check::Finding;
use seatmeter::guard::outbox::{changes, deliver_due};
use seatmeter_core::Nanos;
use seatmeter_store::Store;
use seatmeter_store::alerts::{OutboxEntry, OutboxState};
use sha2::Sha256;

use crate::support::{Site, seatmeter};

const SECRET: &str = "t0p-s3cret";
const SEC: Nanos = 1_000_000_000;

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    timestamp: String,
    signature: String,
    body: String,
    status: u16,
    at: Instant,
}

/// A webhook receiver on 127.0.0.1: answers each request with the next (status,
/// Retry-After) of its script, and 200 once the script is spent.
struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
}

/// What the receiver answers next: a status and a Retry-After.
type Script = Mutex<VecDeque<(u16, Option<&'static str>)>>;

impl Receiver {
    fn start(listener: TcpListener, script: &[(u16, Option<&'static str>)]) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Mutex::new(script.iter().copied().collect());
        let log2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let _ = serve_one(conn, &log2, &script);
            }
        });
        Receiver { addr, log }
    }

    fn log(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Keys answered 200, in the order they were.
    fn accepted(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|r| r.status == 200)
            .map(|r| r.key)
            .collect()
    }
}

fn serve_one(conn: TcpStream, log: &Mutex<Vec<Received>>, script: &Script) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut headers = BTreeMap::new();
    let mut line = String::new();
    reader.read_line(&mut line)?;
    assert!(line.starts_with("POST /in "), "{line:?}");
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let (status, retry_after) = script.lock().unwrap().pop_front().unwrap_or((200, None));
    let get = |k: &str| headers.get(k).cloned().unwrap_or_default();
    log.lock().unwrap().push(Received {
        key: get("idempotency-key"),
        timestamp: get("x-seatmeter-timestamp"),
        signature: get("x-seatmeter-signature"),
        body: String::from_utf8(body).unwrap(),
        status,
        at: Instant::now(),
    });
    let extra = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    let mut out = conn;
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n{extra}\r\n"
    )?;
    out.flush()
}

/// The signature a receiver computes itself: HMAC-SHA256 of `timestamp.body`.
fn expected_signature(timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// `[alerts]` with the receiver as its one channel and `rules` (name, condition).
fn alerts_config(port: u16, retry: &str, dead: &str, rules: &[(&str, &str)]) -> String {
    let mut text = format!(
        "\n[alerts]\n{retry}dead_letter_after = \"{dead}\"\n\
         [[alerts.channel]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/in\"\nsecret = \"{SECRET}\"\n"
    );
    for (name, condition) in rules {
        text += &format!(
            "[[alerts.rule]]\nname = \"{name}\"\ncondition = \"{condition}\"\nchannels = [\"hook\"]\n"
        );
    }
    text
}

fn finding(rule: &str, subject: &str) -> Finding {
    Finding {
        rule: rule.into(),
        subject: subject.into(),
        tenant: None,
        item: Some("Voice".into()),
        summary: format!("{subject}: over"),
        details: serde_json::json!({}),
        family: None,
    }
}

/// A free port on 127.0.0.1, and nothing listening on it.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A site whose outbox holds, written as the checks write them: over-use fired for three
/// subjects, an expiry fired, then the first over-use resolved — five notifications.
fn site_with_outbox(port: u16, retry: &str, dead: &str) -> (Site, Box<dyn Store>, Nanos) {
    let site = Site::simple("UTC");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg + &alerts_config(
            port,
            retry,
            dead,
            &[("over", "over_use"), ("expiry", "expiry")],
        ),
    )
    .unwrap();
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let rules = &config.alerting.rules;
    let t0: Nanos = 1_790_000_000 * SEC;
    let all = [
        finding("over", "system|Voice"),
        finding("over", "tenant=acme|Voice"),
        finding("over", "tenant=globex|Voice"),
        finding("expiry", "expiry|genesys.d|V|-|2027-01-31|30d"),
    ];
    let none = BTreeSet::new();
    let c = changes(rules, &all, &[], &none, "Site", t0);
    assert_eq!(store.apply_alerts(&c, t0).unwrap().len(), 4);
    // Checked again: the same findings change nothing; then the system's over-use ends.
    let open = store.alert_episodes(true).unwrap();
    assert!(changes(rules, &all, &open, &none, "Site", t0 + SEC).is_empty());
    let c = changes(rules, &all[1..], &open, &none, "Site", t0 + 2 * SEC);
    store.apply_alerts(&c, t0 + 2 * SEC).unwrap();
    assert_eq!(store.outbox().unwrap().len(), 5);
    (site, store, t0 + 2 * SEC)
}

/// Every notification was accepted exactly once, signed, with the body stored; each rule's
/// in the order written.
fn assert_each_accepted_once_in_order(outbox: &[OutboxEntry], rx: &Receiver) {
    let accepted = rx.accepted();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &accepted {
        *count.entry(k.as_str()).or_default() += 1;
    }
    for e in outbox {
        assert_eq!(e.state, OutboxState::Delivered, "{e:?}");
        assert_eq!(
            count.get(e.key.as_str()),
            Some(&1),
            "{} accepted: {accepted:?}",
            e.key
        );
    }
    assert_eq!(accepted.len(), outbox.len(), "{accepted:?}");
    let mut rules: BTreeSet<&str> = outbox.iter().map(|e| e.rule.as_str()).collect();
    for rule in std::mem::take(&mut rules) {
        let written: Vec<&str> = outbox
            .iter()
            .filter(|e| e.rule == rule)
            .map(|e| e.key.as_str())
            .collect();
        let got: Vec<&str> = accepted
            .iter()
            .map(String::as_str)
            .filter(|k| written.contains(k))
            .collect();
        assert_eq!(got, written, "rule {rule}");
    }
    for r in rx.log() {
        assert_eq!(
            r.signature,
            expected_signature(&r.timestamp, &r.body),
            "{r:?}"
        );
        let n: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(n["key"], r.key.as_str());
        let stored = outbox.iter().find(|e| e.key == r.key).unwrap();
        assert_eq!(
            n,
            serde_json::from_str::<serde_json::Value>(&stored.payload).unwrap()
        );
    }
}

#[test]
fn a_receiver_down_for_an_hour_then_failing_then_429_gets_every_alert_once_in_order() {
    let port = closed_port();
    let (site, mut store, start) = site_with_outbox(port, "", "24h");
    let config = site.config();
    let now = Cell::new(start);
    let tick = || now.set(now.get() + 5 * SEC);
    // An hour of rounds every 5 s against a closed port.
    for _ in 0..720 {
        let r = deliver_due(store.as_mut(), &config.alerting, &|| now.get()).unwrap();
        assert!(r.delivered.is_empty());
        tick();
    }
    let outbox = store.outbox().unwrap();
    let attempts: Vec<u32> = outbox.iter().map(|e| e.attempts).collect();
    // Only the first of each rule is attempted (the rest wait behind it), with backoff
    // from 10 s to 15 min with jitter: 10 to 15 attempts in the hour, not 720.
    assert_eq!(&attempts[1..3], &[0, 0], "{attempts:?}");
    assert_eq!(attempts[4], 0, "{attempts:?}");
    for &a in [attempts[0], attempts[3]].iter() {
        assert!((10..=15).contains(&a), "{attempts:?}");
    }
    assert!(
        outbox[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("127.0.0.1")
    );
    // `status` says so: the channel failing now, with its error, and what waits.
    let status = seatmeter(site.path(), &["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("notifications: 5 pending, 0 dead-lettered"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "channel hook failing: POST http://127.0.0.1:{port}/"
        )),
        "{text}"
    );
    // The receiver comes back: fails once, asks for 120 s, then accepts.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let rx = Receiver::start(listener, &[(500, None), (429, Some("120"))]);
    let mut checked_429 = false;
    for _ in 0..2000 {
        deliver_due(store.as_mut(), &config.alerting, &|| now.get()).unwrap();
        let log = rx.log();
        if !checked_429 && log.iter().any(|r| r.status == 429) {
            checked_429 = true;
            let e = store
                .outbox()
                .unwrap()
                .into_iter()
                .find(|e| e.key == log.last().unwrap().key)
                .unwrap();
            assert!(e.last_error.as_deref().unwrap().contains("429"), "{e:?}");
            assert!(
                e.next_at >= now.get() + 120 * SEC,
                "Retry-After 120 s honoured: next in {} s",
                (e.next_at - now.get()) / SEC
            );
        }
        if rx.accepted().len() == 5 {
            break;
        }
        tick();
    }
    assert!(checked_429);
    let log = rx.log();
    assert_eq!(log[0].status, 500);
    assert_eq!(log[1].status, 429);
    assert_each_accepted_once_in_order(&store.outbox().unwrap(), &rx);
    // The backlog went in one round once accepted: nothing is left due afterwards.
    assert!(store.outbox_due(now.get() + 3600 * SEC).unwrap().is_empty());
}

#[test]
fn dead_letters_wait_for_a_person_and_go_out_once_retried() {
    let port = closed_port();
    let (site, mut store, start) = site_with_outbox(port, "", "30m");
    let config = site.config();
    let now = Cell::new(start);
    for _ in 0..720 {
        deliver_due(store.as_mut(), &config.alerting, &|| now.get()).unwrap();
        now.set(now.get() + 5 * SEC);
    }
    let outbox = store.outbox().unwrap();
    assert!(
        outbox.iter().all(|e| e.state == OutboxState::Dead),
        "{outbox:?}"
    );
    drop(store);
    let list = seatmeter(site.path(), &["alerts", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.matches("dead").count() >= 5, "{text}");
    // One is let go; the others are retried and delivered.
    let ack = seatmeter(site.path(), &["alerts", "ack", &outbox[4].id.to_string()]);
    assert!(ack.status.success(), "{ack:?}");
    let retry = seatmeter(site.path(), &["alerts", "retry", "--all"]);
    assert!(retry.status.success(), "{retry:?}");
    assert!(String::from_utf8_lossy(&retry.stdout).contains("4 notification(s)"));
    let rx = Receiver::start(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[]);
    let send = seatmeter(site.path(), &["alerts", "send"]);
    assert!(send.status.success(), "{send:?}");
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let after = store.outbox().unwrap();
    assert_eq!(after[4].state, OutboxState::Acknowledged);
    assert_each_accepted_once_in_order(&after[..4], &rx);
}

/// INCREMENT lines of three features whose last days are 5, 20 and 45 days after `today`.
fn expiring_lines(today: chrono::NaiveDate) -> String {
    let date = |days: u64| {
        (today + chrono::Days::new(days))
            .format("%d-%b-%Y")
            .to_string()
            .to_lowercase()
    };
    format!(
        "INCREMENT FEAT_A genesys.d 8.5 {} 10 SIGN=\"A1\"\n\
         INCREMENT FEAT_B genesys.d 8.5 {} 10 SIGN=\"B1\"\n\
         INCREMENT FEAT_C genesys.d 8.5 {} 10 SIGN=\"C1\"\n",
        date(5),
        date(20),
        date(45)
    )
}

fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn metrics(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: seatmeter\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn the_service_killed_between_attempts_delivers_every_alert_once_in_order() {
    let site = crate::service::small_site();
    crate::service::fast(&site, "1s");
    let rx = Receiver::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        &[(500, None), (500, None), (500, None), (429, Some("1"))],
    );
    let license = site.path().join("license.dat");
    let base = std::fs::read_to_string(&license).unwrap();
    let today = chrono::Utc::now().date_naive();
    std::fs::write(&license, format!("{base}{}", expiring_lines(today))).unwrap();
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    // `[service]` is the last table of the file: the intervals belong to it.
    let cfg = format!(
        "{cfg}guard_interval = \"300ms\"\ndeliver_interval = \"100ms\"\n{}",
        alerts_config(
            rx.addr.port(),
            "retry_base = \"200ms\"\nretry_max = \"1s\"\n",
            "24h",
            &[("expiry", "expiry")]
        )
    );
    std::fs::write(site.config_path(), cfg).unwrap();

    let (mut child, _) = crate::service::spawn_serve(site.path());
    wait_until("two failed attempts", Duration::from_secs(60), || {
        rx.log().len() >= 2
    });
    child.kill().unwrap(); // SIGKILL, between two attempts
    child.wait().unwrap();
    assert!(rx.accepted().is_empty());

    let (mut child, addr) = crate::service::spawn_serve(site.path());
    wait_until("three alerts accepted", Duration::from_secs(60), || {
        rx.accepted().len() >= 3
    });
    let text = metrics(addr);
    assert!(
        text.contains("seatmeter_alerts_open{rule=\"expiry\"} 3"),
        "{text}"
    );
    assert!(
        text.contains(
            "seatmeter_license_expiry_timestamp_seconds{feature=\"FEAT_A\",vendor=\"genesys.d\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("seatmeter_license_expiry_warnings{within_days=\"7\"} 1"),
        "{text}"
    );
    assert!(text.contains("seatmeter_seats_in_use{"), "{text}");

    // FEAT_A is renewed (its line replaced by a permanent one): its episode ends.
    let renewed = expiring_lines(today).replacen(
        &expiring_lines(today).lines().next().unwrap().to_string(),
        "INCREMENT FEAT_A genesys.d 8.5 permanent 10 SIGN=\"A2\"",
        1,
    );
    std::fs::write(&license, format!("{base}{renewed}")).unwrap();
    wait_until(
        "the end of FEAT_A's warning",
        Duration::from_secs(60),
        || rx.accepted().len() >= 4,
    );
    // A few more checks and rounds: nothing more is sent.
    std::thread::sleep(Duration::from_secs(1));
    child.kill().unwrap();
    child.wait().unwrap();

    let mut store = seatmeter_store::open(&site.config().store).unwrap();
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 4, "{outbox:?}");
    assert_each_accepted_once_in_order(&outbox, &rx);
    let log = rx.log();
    let i = log.iter().position(|r| r.status == 429).unwrap();
    assert!(
        log[i + 1].at - log[i].at >= Duration::from_secs(1),
        "Retry-After 1 s honoured"
    );
    let last: serde_json::Value = serde_json::from_str(&outbox[3].payload).unwrap();
    assert_eq!(last["state"], "resolved");
    assert_eq!(last["item"], "FEAT_A");
    let episodes = store.alert_episodes(false).unwrap();
    assert_eq!(episodes.len(), 3);
    assert_eq!(
        episodes.iter().filter(|e| e.resolved_at.is_some()).count(),
        1
    );
}
