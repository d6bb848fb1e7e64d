//! `seatmeter serve`: collect on every interval, roll up after every local midnight, serve
//! `/healthz`, `/metrics` and `/reports/...`, and stop cleanly on SIGTERM or SIGINT.
//!
//! `run` takes the shutdown as a future, so that tests drive the service without signals.

pub mod auth;
pub mod console;
mod gauges;
pub mod guard;
pub mod http;
pub mod metrics;
mod pool;
pub mod schedule;
mod server;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seatmeter_collectors::CollectorConfig;
use seatmeter_core::{Calendar, Nanos};
use seatmeter_store::{Store, StoreError};
use tokio::sync::watch;

use crate::config::Config;
use crate::rollup::{Days, Rollup};
use schedule::{Clock, CollectJob, CollectorPolicy, JobResult, RollupJob};

/// Why the service could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    #[error("listening on {address}: {source}")]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the service failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Task(String),
    /// The configuration does not let the service start (it names the file and line).
    #[error("{0}")]
    Refused(String),
}

/// How long shutdown waits for the work in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// A store connection opened on first use, kept for the next runs of the same job.
type LazyStore = Arc<Mutex<Option<Box<dyn Store>>>>;

fn with_lazy_store<T>(
    lazy: &LazyStore,
    config: &Config,
    f: impl FnOnce(&mut dyn Store) -> Result<T, String>,
) -> Result<T, String> {
    let mut guard = lazy
        .lock()
        .map_err(|_| "a previous run panicked".to_string())?;
    if guard.is_none() {
        *guard = Some(
            seatmeter_store::open(&config.store).map_err(|e| format!("opening the store: {e}"))?,
        );
    }
    let result = f(guard.as_mut().expect("opened").as_mut());
    if result.is_err() {
        // Reopen next time: the connection may be what failed.
        *guard = None;
    }
    result
}

/// One collector, run on a blocking thread with its own store connection.
struct StoreCollect {
    config: Arc<Config>,
    collector: CollectorConfig,
    store: LazyStore,
}

impl CollectJob for StoreCollect {
    fn run(&mut self, stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send {
        let (config, collector, lazy) = (
            self.config.clone(),
            self.collector.clone(),
            self.store.clone(),
        );
        async move {
            tokio::task::spawn_blocking(move || {
                with_lazy_store(&lazy, &config, |store| {
                    let margin = config.collection.future_margin.0;
                    let r = crate::collect::run_once(store, &collector, margin, &|| stop.load(Ordering::Relaxed));
                    let s = &r.stored;
                    let ms = r.duration.as_millis() as u64;
                    match &r.error {
                        None => tracing::info!(
                            collector = %r.name,
                            sources = r.summary.sources,
                            lines = r.summary.lines,
                            events = s.events,
                            duplicates = s.duplicates,
                            snapshots = s.snapshots,
                            kept_aside = s.rejects,
                            duration_ms = ms,
                            "collection"
                        ),
                        Some(e) => tracing::warn!(
                            collector = %r.name,
                            events = s.events,
                            snapshots = s.snapshots,
                            kept_aside = s.rejects,
                            duration_ms = ms,
                            error = %e,
                            "collection failed"
                        ),
                    }
                    for rej in &r.rejects {
                        tracing::warn!(collector = %r.name, file = %rej.source, line = rej.line, reason = %rej.reason, "line kept aside");
                    }
                    match r.error {
                        Some(e) => Err(e),
                        None => Ok(()),
                    }
                })
            })
            .await
            .map_err(|e| format!("the collection panicked: {e}"))?
        }
    }
}

/// The rollup of the days whose data changed, then the retention of raw events.
struct StoreRollup {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    store: LazyStore,
}

impl RollupJob for StoreRollup {
    fn run(&mut self, stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send {
        let (config, lazy, now) = (self.config.clone(), self.store.clone(), self.clock.now());
        async move {
            tokio::task::spawn_blocking(move || {
                with_lazy_store(&lazy, &config, |store| {
                    let started = std::time::Instant::now();
                    let stats = Rollup::new(store, &config)
                        .with_stop(stop.clone())
                        .run(Days::Changed, &mut |_| {})
                        .map_err(|e| e.to_string())?;
                    tracing::info!(
                        days = stats.rolled.len(),
                        events = stats.events,
                        sessions = stats.sessions,
                        stray_logouts = stats.stray_logouts,
                        unchanged = stats.unchanged,
                        duration_ms = started.elapsed().as_millis() as u64,
                        "rollup"
                    );
                    if stats.frozen_days_with_new_data > 0 {
                        tracing::warn!(days = stats.frozen_days_with_new_data, "data arrived for days older than the retention; those days are final and were not rolled up again");
                    }
                    if !stats.stopped {
                        let purged = retention(store, &config, now).map_err(|e| e.to_string())?;
                        if purged > 0 {
                            tracing::info!(events = purged, "raw events older than the retention deleted");
                        }
                        monthly_proposals(store, &config, now);
                    }
                    Ok(())
                })
            })
            .await
            .map_err(|e| format!("the rollup panicked: {e}"))?
        }
    }
}

/// The last day of data a proposal run looks at when the rollup runs at `now`: the day
/// before, on the configured day of the month (`[finops] proposals_day`); None otherwise.
pub fn proposals_due(
    cal: &Calendar,
    now: Nanos,
    proposals_day: u32,
) -> Option<seatmeter_core::Day> {
    use chrono::Datelike;
    let today = cal.day_of(now);
    (seatmeter_core::calendar::date_of_day(today).day() == proposals_day).then_some(today - 1)
}

/// On the day of the month proposals are due, after the rollup: the right-sizing rules on
/// the data up to yesterday, stored for people to decide (docs/FINOPS.md). Running again
/// that day changes nothing that is not new. Not made on incomplete data (said in the log).
fn monthly_proposals(store: &mut dyn Store, config: &Config, now: Nanos) {
    let cal = Calendar::new(config.timezone);
    let Some(as_of) = proposals_due(&cal, now, config.finops.proposals_day) else {
        return;
    };
    let a = match crate::finops::analyse(store, config, as_of, None) {
        Ok(a) if !a.gaps.is_empty() => {
            tracing::warn!(gaps = ?a.gaps, "right-sizing proposals not made: the data is incomplete; run `seatmeter recommend propose --allow-incomplete` to make them anyway");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "right-sizing proposals failed");
            return;
        }
        Ok(a) => a,
    };
    match crate::finops::proposals::store_proposals(store, config, &a, now) {
        Ok(n) => tracing::info!(
            as_of = %Calendar::date_text(as_of),
            new = n.new,
            superseded = n.superseded,
            saving_minor = a.saving(),
            "right-sizing proposals made: `seatmeter recommend list` shows them"
        ),
        Err(e) => tracing::warn!(error = %e, "right-sizing proposals failed"),
    }
}

/// Deletes raw events older than the retention, up to the first day that is not rolled up.
pub fn retention(store: &mut dyn Store, config: &Config, now: Nanos) -> Result<u64, StoreError> {
    let cal = Calendar::new(config.timezone);
    let days = (config.service.retention.0.as_secs() / 86_400) as i32;
    let mut cutoff = cal.day_of(now) - days;
    let (dirty, _) = store.dirty_days()?;
    for u in dirty {
        cutoff = cutoff.min(cal.day_of(u * seatmeter_core::time::NANOS_PER_DAY));
    }
    let meta = store.rollup_meta()?;
    match store.rolled_days()? {
        Some((_, last)) if cutoff <= last + 1 && meta.frozen_before.is_none_or(|f| cutoff > f) => {
            store.purge_events_before(cal.day_start(cutoff), cutoff)
        }
        _ => Ok(0),
    }
}

/// Runs the service until `shutdown` completes. `listener` is where the endpoints are served.
pub async fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServiceError> {
    let config = Arc::new(config);
    auth::check_listen(&config, listener.local_addr()?).map_err(ServiceError::Refused)?;
    let tls = tls_acceptor(&config)?;
    let (tx, rx) = watch::channel(false);
    let metrics = Arc::new(metrics::Metrics::new(
        config.collectors.iter().map(|c| c.name().to_string()),
    ));
    // The store must open before the service says it serves (a wrong URL is an error at
    // start, not a 503 later); the HTTP side then keeps connections of its own.
    let first = tokio::task::spawn_blocking({
        let config = config.clone();
        move || seatmeter_store::open(&config.store)
    })
    .await
    .map_err(|e| ServiceError::Task(e.to_string()))??;
    let mut first = first;
    if !config.access.tokens.is_empty() {
        let dims = first.dimensions()?;
        auth::check_tenants(&config, &dims).map_err(ServiceError::Refused)?;
    }
    drop(first);
    match config.access.tokens.len() {
        0 => tracing::info!(
            "no [[service.token]] configured: every endpoint answers without a token, so the service listens on loopback only"
        ),
        n => tracing::info!(
            tokens = n,
            "access tokens required (all but /healthz and /readyz)"
        ),
    }
    let mut tasks = Vec::new();
    let first_runs = Arc::new(tokio::sync::Semaphore::new(0));
    for c in &config.collectors {
        let policy = CollectorPolicy {
            name: c.name().to_string(),
            interval: c.interval(),
            timeout: config.service.timeout.0,
            max_backoff: config.service.max_backoff.0,
        };
        let job = StoreCollect {
            config: config.clone(),
            collector: c.clone(),
            store: Arc::default(),
        };
        tasks.push(tokio::spawn(schedule::collector_loop(
            job,
            policy,
            clock.clone(),
            metrics.clone(),
            first_runs.clone(),
            rx.clone(),
        )));
    }
    // The catch-up rollup waits for every collector's first run (at most one timeout).
    let n = config.collectors.len() as u32;
    let timeout = config.service.timeout.0;
    let ready = async move {
        let _ = tokio::time::timeout(timeout, first_runs.acquire_many(n)).await;
    };
    let job = StoreRollup {
        config: config.clone(),
        clock: clock.clone(),
        store: Arc::default(),
    };
    tasks.push(tokio::spawn(schedule::rollup_loop(
        job,
        ready,
        Calendar::new(config.timezone),
        config.service.rollup_delay.0,
        config.service.max_backoff.0,
        clock.clone(),
        metrics.clone(),
        rx.clone(),
    )));
    tasks.extend(guard::spawn(&config, &clock, &metrics, &rx));
    let state = http::AppState {
        config: config.clone(),
        pool: Arc::new(pool::ReadPool::new(
            config.store.clone(),
            config.service.http_store_connections,
        )),
        metrics,
        clock,
        sessions: Arc::default(),
    };
    let limits = server::Limits {
        header_timeout: config.service.header_timeout.0,
        connections: config.service.max_connections,
    };
    tasks.push(tokio::spawn(server::serve(
        listener,
        http::router(state),
        tls,
        limits,
        rx.clone(),
        SHUTDOWN_GRACE,
    )));

    shutdown.await;
    tracing::info!("shutting down: finishing the work in flight");
    let _ = tx.send(true);
    let all = futures_util::future::join_all(tasks);
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        tracing::warn!(
            "work still in flight after {:?}; exiting anyway (nothing is lost: it is read again)",
            SHUTDOWN_GRACE
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// The TLS side of `[service] tls_certificate` and `tls_key`, read now; an unreadable or
/// unparsable file names the configuration's line that gave it.
fn tls_acceptor(config: &Config) -> Result<Option<tokio_rustls::TlsAcceptor>, ServiceError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let Some(tls) = &config.access.tls else {
        return Ok(None);
    };
    let at = |line: usize, key: &str, file: &std::path::Path, what: String| {
        ServiceError::Refused(format!(
            "{}:{line}: [service] {key} {}: {what}",
            config.path.display(),
            file.display()
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.certificate)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| {
            at(
                tls.certificate_line,
                "tls_certificate",
                &tls.certificate,
                format!("cannot read a PEM certificate chain: {e}"),
            )
        })?;
    if certs.is_empty() {
        return Err(at(
            tls.certificate_line,
            "tls_certificate",
            &tls.certificate,
            "no CERTIFICATE in it (a PEM file with -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| {
        at(
            tls.key_line,
            "tls_key",
            &tls.key,
            format!("cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| {
            at(
                tls.key_line,
                "tls_key",
                &tls.key,
                format!(
                    "does not go with the certificate {}: {e}",
                    tls.certificate.display()
                ),
            )
        })?;
    let mut server = server;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(server))))
}

/// SIGTERM or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `seatmeter serve`: binds the configured address and runs until a signal.
pub fn serve(config: Config) -> Result<(), ServiceError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.service.listen)
            .await
            .map_err(|source| ServiceError::Listen {
                address: config.service.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr()?;
        // Refused before saying it serves.
        auth::check_listen(&config, addr).map_err(ServiceError::Refused)?;
        let scheme = if config.access.tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, collectors = config.collectors.len(), store = %config.store.location(), tls = config.access.tls.is_some(), "seatmeter serving");
        println!("seatmeter serving on {scheme}://{addr} (/healthz, /metrics, /reports/SCOPE/GRANULARITY?from=…)");
        run(config, Arc::new(schedule::SystemClock), listener, signal()).await
    })
}

#[cfg(test)]
mod tests {
    use super::proposals_due;
    use seatmeter_core::Calendar;
    use seatmeter_core::calendar::parse_date;
    use seatmeter_core::time::parse_rfc3339;

    #[test]
    fn proposals_are_due_on_their_local_day_of_the_month_for_the_day_before() {
        let cal = Calendar::new("Europe/Berlin".parse().unwrap());
        let at = |s: &str| parse_rfc3339(s).unwrap();
        // 00:30 on 1 November in Berlin is still 31 October in UTC.
        assert_eq!(
            proposals_due(&cal, at("2026-10-31T23:30:00Z"), 1),
            Some(parse_date("2026-10-31").unwrap())
        );
        assert_eq!(proposals_due(&cal, at("2026-10-31T22:30:00Z"), 1), None);
        assert_eq!(
            proposals_due(&cal, at("2026-11-15T08:00:00Z"), 15),
            Some(parse_date("2026-11-14").unwrap())
        );
    }
}
