//! The service under abuse and outages: slow and silent clients are disconnected, open
//! connections are bounded, huge report requests are refused with 413, `/healthz` never
//! waits for the store, `/readyz` says when the store takes no writes, and the HTTP side
//! connects again after the database was gone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use seatmeter::config::Config;
use seatmeter::service::{self, schedule::SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::service::{fast, get, small_site};
use crate::support::Site;

/// A running service on `site` (its `[service]` section gets `extra`), and how to stop it.
struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), seatmeter::service::ServiceError>>,
}

async fn start(site: &Site, extra: &str) -> Running {
    fast(site, "200ms");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(site.config_path(), format!("{cfg}{extra}\n")).unwrap();
    let config = Config::load(&site.config_path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service::run(
        config,
        Arc::new(SystemClock),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    Running { addr, stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    /// Waits until `path` answers `status`.
    async fn wait_status(&self, path: &str, status: u16) -> String {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, body) = get(self.addr, path).await;
            if s == status {
                return body;
            }
            assert!(
                Instant::now() < until,
                "{path} still {s} (want {status}): {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Whether the server closed `s` (EOF or reset) before `within`.
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An answer (408, say) and then the close.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_disconnected_and_connections_are_bounded() {
    let site = small_site();
    let svc = start(&site, "header_timeout = \"1s\"\nmax_connections = 8\n").await;
    // Silent: connects and sends nothing.
    let mut silent = tokio::net::TcpStream::connect(svc.addr).await.unwrap();
    // Slowloris: a header byte every 300 ms, never done.
    let mut slow = tokio::net::TcpStream::connect(svc.addr).await.unwrap();
    let dripping = tokio::spawn(async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: seatmeter\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
        for b in head {
            if slow.write_all(&[*b]).await.is_err() {
                return (slow, true);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (slow, false)
    });
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a silent client is closed after the header timeout"
    );
    let (mut slow, cut_while_writing) = dripping.await.unwrap();
    assert!(
        cut_while_writing || closed_within(&mut slow, Duration::from_secs(5)).await,
        "a slow client is closed after the header timeout"
    );
    // Past the limit, a connection is closed at once; the others still answer.
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(tokio::net::TcpStream::connect(svc.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(svc.addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_millis(900)).await,
        "the ninth connection is closed while eight are open"
    );
    drop(idle);
    // Once they are gone (closed by the client, or by the timeout), it answers again.
    svc.wait_status("/healthz", 200).await;
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_report_requests_are_refused_and_healthz_never_waits() {
    let site = small_site();
    let svc = start(&site, "").await;
    svc.wait_status("/readyz", 200).await;
    let (status, body) = get(
        svc.addr,
        "/reports/system/10min?from=2000-01-01&to=2099-12-31",
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("more than the 10000000 allowed"), "{body}");
    let (status, body) = get(
        svc.addr,
        "/reports/group/hourly?from=2026-10-22&to=2199-12-31&format=pdf",
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = get(svc.addr, "/reports/system/daily?from=1999-12-31").await;
    assert_eq!(status, 400);
    assert!(body.contains("from 2000-01-01 to 2199-12-31"), "{body}");
    // Many reports at once: /healthz answers while they are in flight (it reads nothing),
    // and every report is the same.
    let addr = svc.addr;
    let reports: Vec<_> = (0..24)
        .map(|_| {
            tokio::spawn(async move {
                get(addr, "/reports/tenant/10min?from=2026-10-22&to=2026-10-27").await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let mut answers = Vec::new();
    for r in reports {
        answers.push(r.await.unwrap());
    }
    assert!(answers.iter().all(|a| a.0 == 200 && a.1 == answers[0].1));
    assert!(answers[0].1.lines().count() > 1000);
    svc.stop().await;
}

/// Makes a file unwritable, even for root; undone on drop.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(paths: Vec<std::path::PathBuf>) -> Option<Immutable> {
        for p in &paths {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                seatmeter_core::testing::skip(
                    "readyz with a store that takes no writes",
                    "chattr +i is not available here",
                );
                return None;
            }
        }
        Some(Immutable(paths))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(p)
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_when_the_store_takes_no_writes() {
    let site = small_site();
    let svc = start(&site, "").await;
    svc.wait_status("/readyz", 200).await;
    assert_eq!(get(svc.addr, "/healthz").await.0, 200);
    let db = site.path().join("seatmeter.db");
    let wal = site.path().join("seatmeter.db-wal");
    let Some(lock) = Immutable::set(vec![db, wal]) else {
        svc.stop().await;
        return;
    };
    let body = svc.wait_status("/readyz", 503).await;
    assert!(body.contains("the store does not take writes"), "{body}");
    // Alive all the same.
    assert_eq!(get(svc.addr, "/healthz").await, (200, "ok\n".into()));
    drop(lock);
    svc.wait_status("/readyz", 200).await;
    svc.stop().await;
}

#[test]
fn the_http_side_connects_again_after_the_database_was_gone() {
    let Some(base) = crate::postgres::database_url("service reconnects to PostgreSQL") else {
        return;
    };
    // The schema is made and dropped outside the service's runtime (its helper runs one of
    // its own).
    let schema = crate::postgres::Schema::new(&base, "reconnect");
    let site = small_site();
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace(
            "[store]\npath = \"seatmeter.db\"",
            &format!(
                "[store]\nurl = \"{}&application_name={}\"",
                schema.url(),
                schema.name
            ),
        ),
    )
    .unwrap();
    let cut = format!(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}') AS t",
        schema.name
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let svc = start(&site, "").await;
        svc.wait_status("/readyz", 200).await;
        assert_eq!(get(svc.addr, "/metrics").await.0, 200);
        // The outage: every connection of this service's store is cut.
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
            .await
            .unwrap();
        let cut: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(cut))
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(cut >= 1, "the service's connections were cut ({cut})");
        // A request may meet a dead connection once; then the service connects again.
        svc.wait_status("/metrics", 200).await;
        let (status, body) = get(svc.addr, "/reports/system/daily?from=2026-10-22").await;
        assert_eq!(status, 200, "{body}");
        svc.wait_status("/readyz", 200).await;
        svc.stop().await;
    });
}
