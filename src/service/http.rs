//! The service's HTTP endpoints: `/healthz`, `/metrics`, and `/reports/{scope}/{granularity}`
//! (the same bytes as the `report` command).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use seatmeter_core::{Calendar, calendar};
use seatmeter_reports::Format;
use seatmeter_store::Store;

use super::metrics::{self, Metrics};
use super::schedule::Clock;
use crate::config::Config;
use crate::report::{ReportError, Request};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// One connection for the endpoints; used from blocking threads.
    pub store: Arc<Mutex<Box<dyn Store>>>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_page))
        .route("/reports/{scope}/{granularity}", get(report))
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

    /// The store could not be read.
    fn unavailable(e: impl std::fmt::Display) -> HttpError {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}"),
        )
    }
}

impl From<ReportError> for HttpError {
    fn from(e: ReportError) -> HttpError {
        match e {
            ReportError::Request(m) => HttpError::new(StatusCode::BAD_REQUEST, m),
            e => HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        text(self.status, format!("{}\n", self.message))
    }
}

/// Runs `f` with the store on a blocking thread.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn Store, &Config) -> Result<T, HttpError> + Send + 'static,
) -> Result<T, HttpError> {
    let store = state.store.clone();
    let config = state.config.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| HttpError::unavailable("the store connection is unusable"))?;
        f(guard.as_mut(), &config)
    })
    .await
    .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

async fn healthz(State(state): State<AppState>) -> Result<Response, HttpError> {
    with_store(&state, |store, _| {
        store.status().map(|_| ()).map_err(HttpError::unavailable)
    })
    .await?;
    Ok(text(StatusCode::OK, "ok\n".into()))
}

async fn metrics_page(State(state): State<AppState>) -> Result<Response, HttpError> {
    let now = state.clock.now();
    let (status, lag) = with_store(&state, move |store, config| {
        let status = store.status().map_err(HttpError::unavailable)?;
        let (dirty, _) = store.dirty_days().map_err(HttpError::unavailable)?;
        let cal = Calendar::new(config.timezone);
        let yesterday = cal.day_of(now) - 1;
        let mut days = std::collections::BTreeSet::new();
        for u in dirty {
            let n = seatmeter_core::time::NANOS_PER_DAY;
            for d in cal.day_of(u * n)..=cal.day_of((u + 1) * n - 1) {
                if d <= yesterday {
                    days.insert(d);
                }
            }
        }
        Ok((status, days.len() as u64))
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
}

async fn report(
    State(state): State<AppState>,
    Path((scope, granularity)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, HttpError> {
    let (req, format) = request(&scope, &granularity, &q)
        .map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, e))?;
    let (bytes, outcome) = with_store(&state, move |store, config| {
        Ok(crate::report::output::report_bytes(
            config, store, &req, format,
        )?)
    })
    .await?;
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        bytes,
    )
        .into_response();
    // What `report` prints on standard error: data not rolled up yet, unusable license
    // files.
    for w in &outcome.warnings {
        let text = format!("199 seatmeter \"{}\"", w.replace('"', "'"));
        if let Ok(v) = header::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    Ok(response)
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
