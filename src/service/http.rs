//! The service's HTTP endpoints: `/healthz`, `/metrics`, and `/reports/{scope}/{granularity}`
//! (the same bytes as the `report` command).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::metrics::{self, Metrics};
use super::schedule::Clock;
use crate::calendar::{self, Calendar};
use crate::cli::Format;
use crate::config::Config;
use crate::report::{ReportError, Request};
use crate::store::Store;

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

/// Runs `f` with the store on a blocking thread.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn Store, &Config) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let store = state.store.clone();
    let config = state.config.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| "the store connection is unusable".to_string())?;
        f(guard.as_mut(), &config)
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn healthz(State(state): State<AppState>) -> Response {
    match with_store(&state, |store, _| {
        store.status().map(|_| ()).map_err(|e| e.to_string())
    })
    .await
    {
        Ok(()) => text(StatusCode::OK, "ok\n".into()),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        ),
    }
}

async fn metrics_page(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let result = with_store(&state, move |store, config| {
        let status = store.status().map_err(|e| e.to_string())?;
        let (dirty, _) = store.dirty_days().map_err(|e| e.to_string())?;
        let cal = Calendar::new(config.timezone);
        let yesterday = cal.day_of(now) - 1;
        let mut days = std::collections::BTreeSet::new();
        for u in dirty {
            let n = seatmeter_collectors::time::NANOS_PER_DAY;
            for d in cal.day_of(u * n)..=cal.day_of((u + 1) * n - 1) {
                if d <= yesterday {
                    days.insert(d);
                }
            }
        }
        Ok((status, days.len() as u64))
    })
    .await;
    match result {
        Ok((status, lag)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics::render(&state.metrics, &status, lag),
        )
            .into_response(),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        ),
    }
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
) -> Response {
    let parsed = (|| -> Result<(Request, Format), String> {
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
    })();
    let (req, format) = match parsed {
        Ok(x) => x,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let result = with_store(&state, move |store, config| {
        crate::cli::report_bytes(config, store, &req, format).map_err(|e| {
            match e.downcast_ref::<ReportError>() {
                Some(ReportError::Request(m)) => format!("400 {m}"),
                _ => format!("500 {e:#}"),
            }
        })
    })
    .await;
    match result {
        Ok((bytes, outcome)) => {
            let kind = match format {
                Format::Csv => "text/csv; charset=utf-8",
                Format::Json => "application/json",
                Format::Pdf => "application/pdf",
                Format::Table => "text/plain; charset=utf-8",
            };
            let mut response =
                (StatusCode::OK, [(header::CONTENT_TYPE, kind)], bytes).into_response();
            // What `report` prints on standard error: data not rolled up yet, unusable license
            // files.
            for w in &outcome.warnings {
                let text = format!("199 seatmeter \"{}\"", w.replace('"', "'"));
                if let Ok(v) = header::HeaderValue::from_str(&text) {
                    response.headers_mut().append(header::WARNING, v);
                }
            }
            response
        }
        Err(e) if e.starts_with("400 ") => text(StatusCode::BAD_REQUEST, format!("{}\n", &e[4..])),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}\n", e.trim_start_matches("500 ")),
        ),
    }
}
