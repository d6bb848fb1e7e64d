//! The service's HTTP endpoints: `/healthz` (alive), `/readyz` (able to do its work),
//! `/metrics`, and `/reports/{scope}/{granularity}` (the same bytes as the `report`
//! command, streamed as they are made).
//!
//! Every read goes through the service's own pool of store connections ([`ReadPool`]),
//! never behind the collectors' writes; a report is refused with 413 beyond the rows a
//! request may ask for (`[service] max_report_rows`).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use seatmeter_core::{Calendar, Nanos, calendar};
use seatmeter_reports::Format;
use seatmeter_store::StoreError;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use super::auth::{self, Caller};
use super::metrics::{self, Metrics};
use super::pool::{Broken, ReadPool};
use super::schedule::Clock;
use crate::config::Config;
use crate::report::output::{self, Limits, Options};
use crate::report::{ReportError, Request};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Store connections of the endpoints.
    pub pool: Arc<ReadPool>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    /// The console's signed-in browsers.
    pub sessions: Arc<super::console::Sessions>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .route("/reports/{scope}/{granularity}", get(report))
        .merge(super::console::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::layer,
        ))
        .with_state(state)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// An answer that is not the one asked for: its status and a line saying why.
#[derive(Debug)]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
}

impl HttpError {
    fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> HttpError {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}"),
        )
    }
}

impl From<ReportError> for HttpError {
    fn from(e: ReportError) -> HttpError {
        match e {
            ReportError::Store(e) => e.into(),
            // Over HTTP an unknown id is not told which ids exist.
            ReportError::UnknownId { scope, id, .. } => {
                HttpError::new(StatusCode::NOT_FOUND, format!("no {scope} {id:?}"))
            }
            ReportError::Request(m) => HttpError::new(StatusCode::BAD_REQUEST, m),
            e @ ReportError::TooLarge { .. } => {
                HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            ReportError::Incomplete { gaps } => HttpError::new(
                StatusCode::CONFLICT,
                format!(
                    "the report would be incomplete:\n{}\nadd allow_incomplete=true to the query to get it anyway",
                    gaps.iter()
                        .map(|g| format!("  - {g}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            ),
            e => HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl Broken for HttpError {
    fn broken(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        text(self.status, format!("{}\n", self.message))
    }
}

/// Alive: the process answers. It reads nothing, so it answers under any load.
async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

/// Able to do its work: the store takes writes, every collector collected recently, and
/// the rollup is current. 503 lists what is not.
async fn readyz(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Response {
    let now = state.clock.now();
    let config = state.config.clone();
    let mut problems = Vec::new();
    let checked = state
        .pool
        .with(move |store| -> Result<u64, HttpError> {
            store.probe_write(now)?;
            Ok(lag_days(store, &config, now - settle(&config))?)
        })
        .await;
    match checked {
        Ok(0) => {}
        Ok(lag) => problems.push(format!("{lag} day(s) with data wait for the rollup")),
        Err(e) => problems.push(format!("the store does not take writes: {}", e.message)),
    }
    let config = &state.config;
    let allowed = |name: &str| {
        let interval = config
            .collectors
            .iter()
            .find(|c| c.name() == name)
            .map_or(Duration::from_secs(300), |c| c.interval());
        (interval * 3 + config.service.timeout.0).max(Duration::from_secs(60))
    };
    problems.extend(state.metrics.collector_problems(now, &allowed));
    if problems.is_empty() {
        text(StatusCode::OK, "ready\n".into())
    } else if !caller.whole_site() {
        // The reasons name collectors, paths and errors: for the operator only.
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready (an operator token shows why)\n".into(),
        )
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            problems.iter().map(|p| format!("{p}\n")).collect(),
        )
    }
}

/// How long after local midnight a day may still wait for its rollup: the rollup's delay
/// and an hour for the rollup itself.
fn settle(config: &Config) -> Nanos {
    (config.service.rollup_delay.0 + Duration::from_secs(3600)).as_nanos() as Nanos
}

/// Local days up to the day before `as_of` with data that is not rolled up.
fn lag_days(
    store: &mut dyn seatmeter_store::Store,
    config: &Config,
    as_of: Nanos,
) -> Result<u64, StoreError> {
    let (dirty, _) = store.dirty_days()?;
    let cal = Calendar::new(config.timezone);
    let yesterday = cal.day_of(as_of) - 1;
    let mut days = std::collections::BTreeSet::new();
    for u in dirty {
        let n = seatmeter_core::time::NANOS_PER_DAY;
        for d in cal.day_of(u * n)..=cal.day_of((u + 1) * n - 1) {
            if d <= yesterday {
                days.insert(d);
            }
        }
    }
    Ok(days.len() as u64)
}

async fn metrics_page(State(state): State<AppState>) -> Result<Response, HttpError> {
    let now = state.clock.now();
    let config = state.config.clone();
    let (status, lag) = state
        .pool
        .with(move |store| -> Result<_, HttpError> {
            let status = store.status()?;
            Ok((status, lag_days(store, &config, now)?))
        })
        .await?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(&state.metrics, &status, lag),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    id: Option<String>,
    format: Option<String>,
    /// `allow_incomplete=true`: answer even when the numbers are incomplete (the gaps
    /// are then in `Warning` headers); without it such a request is a 409.
    allow_incomplete: Option<bool>,
    /// `peak_at=true`: CSV and JSON add the `peak_at` column, as `report --peak-at`.
    peak_at: Option<bool>,
}

/// Sends what a report writes to the response body, in chunks, as it is written; a client
/// that went away stops the report.
struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 << 10;

impl BodyWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

async fn report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((scope, granularity)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, HttpError> {
    let (mut req, format) = request(&scope, &granularity, &q)
        .map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, e))?;
    if let Caller::Tenant { tenant, .. } = &caller {
        // A tenant's token: its own tenant and groups only (without an id, its own).
        match tenant_may_ask(&state, tenant, &req).await? {
            Ok(id) => req.id = Some(id),
            Err(f) => {
                let path = format!("/reports/{scope}/{granularity}");
                return Ok(auth::refuse(&state, f, &path, Some(&caller)));
            }
        }
    }

    let options = Options {
        limits: Limits {
            rows: state.config.service.max_report_rows,
            ..Limits::DEFAULT
        },
        allow_incomplete: q.allow_incomplete.unwrap_or(false),
        guardrails: Some(crate::guard::pdf::guardrails_page),
        extra: seatmeter_reports::Extra {
            peak_at: q.peak_at.unwrap_or(false),
        },
    };
    let config = state.config.clone();
    if format == Format::Pdf {
        let (bytes, outcome) = state
            .pool
            .with(move |store| -> Result<_, HttpError> {
                Ok(output::pdf_bytes(&config, store, &req, options)?)
            })
            .await?;
        return Ok(with_warnings(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, format.content_type())],
                bytes,
            )
                .into_response(),
            &outcome.gaps,
        ));
    }
    // The rows are made on a blocking thread and streamed; the warnings, known before the
    // first row, go in the headers.
    let (head_tx, head_rx) = oneshot::channel::<Result<Vec<String>, HttpError>>();
    let (body_tx, mut body_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let mut head = Some(head_tx);
        let result = pool
            .with(move |store| -> Result<(), HttpError> {
                let w = BodyWriter {
                    tx: body_tx,
                    buf: Vec::with_capacity(CHUNK),
                };
                let mut started = |warnings: &[String]| {
                    if let Some(h) = head.take() {
                        let _ = h.send(Ok(warnings.to_vec()));
                    }
                };
                let r = output::stream_with(
                    &config,
                    store,
                    &req,
                    format,
                    w,
                    false,
                    options,
                    &mut started,
                );
                match r {
                    Ok(_) => Ok(()),
                    Err(e) => match head.take() {
                        Some(h) => {
                            let _ = h.send(Err(e.into()));
                            Ok(())
                        }
                        None => {
                            tracing::warn!(error = %e, "a report failed while it was sent");
                            Err(e.into())
                        }
                    },
                }
            })
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %e.message, "report");
        }
    });
    let warnings = head_rx
        .await
        .map_err(|_| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "the report stopped"))??;
    let stream = futures_util::stream::poll_fn(move |cx| body_rx.poll_recv(cx));
    let response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from_stream(stream),
    )
        .into_response();
    Ok(with_warnings(response, &warnings))
}

/// The id a tenant's request is to be run with, or why it is refused
/// ([`auth::tenant_may_see`], against the store's tenants and groups).
pub async fn tenant_may_ask(
    state: &AppState,
    tenant: &str,
    req: &Request,
) -> Result<Result<String, auth::Failure>, HttpError> {
    let (tenant, kind, id) = (tenant.to_string(), req.scope, req.id.clone());
    state
        .pool
        .with(move |store| -> Result<_, HttpError> {
            let dims = store.dimensions()?;
            Ok(auth::tenant_may_see(&tenant, kind, id.as_deref(), &dims))
        })
        .await
}

/// What `report` prints on standard error (data not rolled up yet, unusable license
/// files), as `Warning` headers.
fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("199 seatmeter \"{}\"", w.replace('"', "'"));
        if let Ok(v) = header::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// The report a `/reports` URL asks for.
fn request(scope: &str, granularity: &str, q: &ReportQuery) -> Result<(Request, Format), String> {
    let from = calendar::parse_date(q.from.as_deref().ok_or("?from=YYYY-MM-DD is required")?)?;
    let to = match &q.to {
        Some(t) => calendar::parse_date(t)?,
        None => from,
    };
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "pdf" => Format::Pdf,
        other => {
            return Err(format!(
                "unknown format {other:?}; expected csv, json or pdf"
            ));
        }
    };
    Ok((
        Request {
            scope: scope.parse()?,
            id: q.id.clone(),
            granularity: granularity.parse()?,
            from,
            to,
        },
        format,
    ))
}
