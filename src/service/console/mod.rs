//! The web console (docs/CONSOLE.md): server-rendered pages of `seatmeter serve`, made from
//! the same report model as the PDF (no second computation), with sign-in by access token.
//!
//! A token typed once into `/login` becomes a session: a random id in an HttpOnly,
//! SameSite=Strict cookie (Secure under TLS) that expires after [`SESSION_TTL`], and a CSRF
//! token that every form posts back. The session carries the token's caller, so a
//! tenant's session sees its own tenant only, whatever URL it edits. With no token
//! configured (loopback only) the console is open and needs no sign-in.

mod html;
mod manage;
mod pages;

pub use html::url_encode;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::{self, Caller, Failure};
use super::http::AppState;

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The cookie's name.
pub const COOKIE: &str = "seatmeter_session";

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
    expires: Instant,
}

/// The sessions of this service (in memory: a restart signs everyone out).
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random number generator");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sessions {
    /// A new session for `caller`: its id (for the cookie).
    pub fn create(&self, caller: Caller) -> String {
        let id = random_hex();
        let mut map = self.map.lock().expect("sessions lock");
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(
            id.clone(),
            Session {
                caller,
                csrf: random_hex(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The session a request's cookie names, if it is still valid.
    pub fn get(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers)?;
        let map = self.map.lock().expect("sessions lock");
        map.get(&id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| (id, s.clone()))
    }

    fn remove(&self, id: &str) {
        self.map.lock().expect("sessions lock").remove(id);
    }
}

/// The value of the session cookie.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Whether a path is a console page (signed in through the cookie, sent to `/login`
/// without it).
pub fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/console/")
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::overview))
        .route("/console/reports", get(pages::reports))
        .route("/console/tenants", get(manage::tenants))
        .route("/console/rightsizing", get(manage::rightsizing))
        .route(
            "/console/rightsizing/decide",
            axum::routing::post(manage::decide),
        )
        .route("/console/alerts", get(manage::alerts))
        .route("/console/status", get(manage::status))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
}

/// The caller of a console request and its CSRF token (none when the console is open).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub caller: Caller,
    pub csrf: Option<String>,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

/// Where to go after signing in: a path of this site only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

async fn login_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    html::page(
        &state.config,
        "Sign in",
        None,
        "",
        &html::login_form(&next, q.failed.is_some()),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    let mut headers = HeaderMap::new();
    let bearer = format!("Bearer {}", f.token.trim());
    if let Ok(v) = header::HeaderValue::from_str(&bearer) {
        headers.insert(header::AUTHORIZATION, v);
    }
    match auth::authenticate(&state.config.access.tokens, &headers) {
        Ok(caller) => {
            let id = state.sessions.create(caller);
            let secure = if state.config.access.tls.is_some() {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                SESSION_TTL.as_secs()
            );
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
            )
                .into_response()
        }
        Err(f) => {
            state.metrics.auth_failure(f);
            tracing::warn!(reason = f.as_str(), "console sign-in refused");
            let to = format!("/login?failed=1&next={}", html::url_encode(&next));
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if let Some((id, s)) = state.sessions.get(&headers) {
        if !constant_eq(&s.csrf, &f.csrf) {
            return auth::refuse(&state, Failure::Forbidden, "/logout", Some(&s.caller));
        }
        state.sessions.remove(&id);
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_string()),
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
            ),
        ],
    )
        .into_response()
}

pub(super) fn constant_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
