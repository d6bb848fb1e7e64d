//! The operator's pages of the console: tenants against what they are provisioned,
//! right-sizing with approve and reject (and the decision log with its verification),
//! alerts and the outbox, and the status of collectors, store and rollup. A tenant's
//! session sees its own alerts only; the other pages are the operator's (403 otherwise).

use std::fmt::Write as _;

use axum::extract::{Extension, Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use seatmeter_core::{Calendar, Granularity, Nanos, ScopeKind};
use serde::Deserialize;

use super::Visitor;
use super::html::{esc, page};
use super::pages::{entitled_text, error_page, model, rolled};
use crate::config::billing::format_money;
use crate::report::Request;
use crate::service::auth::{self, Caller, Failure};
use crate::service::http::{AppState, HttpError};

fn forbidden() -> HttpError {
    HttpError {
        status: StatusCode::FORBIDDEN,
        message: "This session may not see that: it is the operator's page.".into(),
    }
}

fn when(state: &AppState, t: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(t)
        .with_timezone(&state.config.timezone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `/console/tenants`: each tenant's largest peak of the last 30 days against what it is
/// provisioned, per item, over-use marked in words.
pub async fn tenants(State(state): State<AppState>, Extension(v): Extension<Visitor>) -> Response {
    if !v.caller.whole_site() {
        return error_page(&state, &v, forbidden());
    }
    let Ok(Some((first, last))) = rolled(&state).await else {
        return page(
            &state.config,
            "Tenants",
            Some(&v),
            "Tenants",
            "<p>Nothing is rolled up yet.</p>",
        );
    };
    let req = Request {
        scope: ScopeKind::Tenant,
        id: None,
        granularity: Granularity::Daily,
        from: (last - 29).max(first),
        to: last,
    };
    let report = match model(&state, req.clone()).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &v, e),
    };
    let mut rows = String::new();
    for s in &report.sections {
        for i in &s.items {
            let over = i.over_use_periods > 0;
            let _ = write!(
                rows,
                r#"<tr{}><td><a href="/console/reports?scope=tenant&amp;id={id}">{tenant}</a></td><td>{item}</td><td class="num">{peak}</td><td class="num">{ent}</td><td>{status}</td></tr>"#,
                if over { r#" class="over""# } else { "" },
                id = super::html::url_encode(&s.scope_id),
                tenant = esc(&s.scope_id),
                item = esc(&i.item),
                peak = i.peak,
                ent = entitled_text(i.entitled),
                status = if over {
                    format!(
                        r#"<span class="over-word">OVER-USE on {} day(s)</span>"#,
                        i.over_use_periods
                    )
                } else {
                    "within".into()
                }
            );
        }
    }
    let body = format!(
        r#"<p>The last 30 days up to {}: each tenant's largest daily peak (enabled seats for a named item) against the smallest entitlement of its grants.</p><div class="scroll"><table><thead><tr><th data-sort>Tenant</th><th data-sort>Item</th><th data-sort class="num">Peak</th><th data-sort class="num">Provisioned</th><th data-sort>Status</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        Calendar::date_text(last)
    );
    page(&state.config, "Tenants", Some(&v), "Tenants", &body)
}

/// `/console/rightsizing`: the recommendations with their reasons and savings, approve
/// and reject as forms, and the decision log with its verification.
pub async fn rightsizing(
    State(state): State<AppState>,
    Extension(v): Extension<Visitor>,
) -> Response {
    if !v.caller.whole_site() {
        return error_page(&state, &v, forbidden());
    }
    let got = state
        .pool
        .with(|store| -> Result<_, HttpError> {
            Ok((store.recommendations()?, store.decisions()?))
        })
        .await;
    let (recs, log) = match got {
        Ok(x) => x,
        Err(e) => return error_page(&state, &v, e),
    };
    let billing = &state.config.billing;
    let csrf = v.csrf.clone().unwrap_or_default();
    let mut rows = String::new();
    for r in &recs {
        let actions = if r.status.as_str() == "proposed" {
            format!(
                r#"<form method="post" action="/console/rightsizing/decide" class="decide"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><button name="action" value="approve" type="submit">Approve</button> <label>Reason<input name="reason" placeholder="needed to reject"></label> <button name="action" value="reject" type="submit">Reject</button></form>"#,
                csrf = esc(&csrf),
                id = esc(&r.id)
            )
        } else {
            esc(r.status.as_str())
        };
        let _ = write!(
            rows,
            r#"<tr id="rec-{id}"><td>{id}</td><td>{kind}</td><td>{tenant}</td><td>{agent}</td><td>{item}</td><td class="num" data-v="{saving}">{money} {cur}</td><td>{summary}</td><td>{actions}</td></tr>"#,
            id = esc(&r.id),
            kind = esc(&r.kind),
            tenant = esc(&r.tenant),
            agent = esc(&r.agent),
            item = esc(&r.item),
            saving = r.saving,
            money = format_money(r.saving, billing.minor_units),
            cur = esc(&billing.currency),
            summary = esc(&r.summary),
        );
    }
    let verified = match seatmeter_store::reco::verify_chain(&log) {
        Ok(()) => format!(
            r#"<p class="ok-word">The decision log's {} entries are intact: each is chained to the one before by SHA-256.</p>"#,
            log.len()
        ),
        Err(e) => format!(
            r#"<p class="error" role="alert">The decision log does not verify: {}</p>"#,
            esc(&e)
        ),
    };
    let mut entries = String::new();
    for d in &log {
        let _ = write!(
            entries,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            d.seq,
            esc(&when(&state, d.at)),
            esc(&d.recommendation),
            esc(&d.action),
            esc(&d.by),
            esc(&d.reason),
            esc(&d.what)
        );
    }
    let body = format!(
        r#"<p>Proposals of <code>seatmeter recommend propose</code> (the service's data up to the last complete day). Approving or rejecting writes the decision log, with your token's name.</p><div class="scroll"><table><thead><tr><th data-sort>Id</th><th data-sort>Kind</th><th data-sort>Tenant</th><th data-sort>Agent</th><th data-sort>Item</th><th data-sort class="num">Saving / month</th><th>Why</th><th>Decision</th></tr></thead><tbody>{rows}</tbody></table></div><h2>Decision log</h2>{verified}<div class="scroll"><table><thead><tr><th class="num">#</th><th>When</th><th>Recommendation</th><th>Action</th><th>By</th><th>Reason</th><th>What</th></tr></thead><tbody>{entries}</tbody></table></div>"#
    );
    page(
        &state.config,
        "Right-sizing",
        Some(&v),
        "Right-sizing",
        &body,
    )
}

#[derive(Deserialize)]
pub struct DecideForm {
    csrf: String,
    id: String,
    action: String,
    reason: Option<String>,
}

/// `POST /console/rightsizing/decide`: approve or reject one recommendation.
pub async fn decide(
    State(state): State<AppState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<DecideForm>,
) -> Response {
    if !v.caller.whole_site() {
        return error_page(&state, &v, forbidden());
    }
    if let Some(csrf) = &v.csrf
        && !super::constant_eq(csrf, &f.csrf)
    {
        return auth::refuse(
            &state,
            Failure::Forbidden,
            "/console/rightsizing/decide",
            Some(&v.caller),
        );
    }
    let by = match &v.caller {
        Caller::Operator(n) => n.clone(),
        _ => "console (no tokens configured)".into(),
    };
    let approve = f.action == "approve";
    let reason = f.reason.unwrap_or_default();
    let now = state.clock.now();
    let id = f.id.clone();
    let done = state
        .pool
        .with(move |store| -> Result<_, HttpError> {
            store
                .decide(&id, approve, &by, reason.trim(), now)
                .map_err(|e| HttpError {
                    status: StatusCode::BAD_REQUEST,
                    message: e.to_string(),
                })
        })
        .await;
    match done {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!(
                    "/console/rightsizing#rec-{}",
                    super::html::url_encode(&f.id)
                ),
            )],
        )
            .into_response(),
        Err(e) => error_page(&state, &v, e),
    }
}

/// `/console/alerts`: open and resolved alerts (a tenant: its own), and the outbox (the
/// operator).
pub async fn alerts(State(state): State<AppState>, Extension(v): Extension<Visitor>) -> Response {
    let tenant = match &v.caller {
        Caller::Tenant { tenant, .. } => Some(tenant.clone()),
        _ => None,
    };
    let got = state
        .pool
        .with(|store| -> Result<_, HttpError> {
            Ok((store.alert_episodes(false)?, store.outbox()?))
        })
        .await;
    let (episodes, outbox) = match got {
        Ok(x) => x,
        Err(e) => return error_page(&state, &v, e),
    };
    let prefix = tenant.as_ref().map(|t| format!("tenant={t}|"));
    let mut rows = String::new();
    for e in episodes
        .iter()
        .rev()
        .filter(|e| prefix.as_ref().is_none_or(|p| e.subject.starts_with(p)))
    {
        let state_text = match e.resolved_at {
            Some(t) => format!("resolved {}", when(&state, t)),
            None => r#"<span class="over-word">open</span>"#.into(),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.rule),
            esc(&when(&state, e.opened_at)),
            state_text,
            esc(&e.summary)
        );
    }
    let mut body = format!(
        r#"<div class="scroll"><table><thead><tr><th data-sort>Rule</th><th data-sort>Since</th><th data-sort>State</th><th>What</th></tr></thead><tbody>{rows}</tbody></table></div>"#
    );
    if tenant.is_none() {
        let mut out = String::new();
        for e in outbox.iter().rev() {
            let _ = write!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                e.id,
                esc(e.state.as_str()),
                esc(&e.rule),
                esc(&e.channel),
                e.attempts,
                esc(&when(&state, e.created_at)),
                esc(e.last_error.as_deref().unwrap_or(""))
            );
        }
        let _ = write!(
            body,
            r#"<h2>Outbox</h2><p><code>seatmeter alerts retry</code> and <code>ack</code> act on these (docs/ALERTS.md).</p><div class="scroll"><table><thead><tr><th class="num">#</th><th data-sort>State</th><th data-sort>Rule</th><th data-sort>Channel</th><th class="num">Attempts</th><th>Written</th><th>Last error</th></tr></thead><tbody>{out}</tbody></table></div>"#
        );
    }
    page(&state.config, "Alerts", Some(&v), "Alerts", &body)
}

/// `/console/status`: each collector's last run and errors, lines kept aside, the store
/// and the rollup.
pub async fn status(State(state): State<AppState>, Extension(v): Extension<Visitor>) -> Response {
    if !v.caller.whole_site() {
        return error_page(&state, &v, forbidden());
    }
    let got = state
        .pool
        .with(|store| -> Result<_, HttpError> { Ok((store.status()?, store.rejects(Some(20))?)) })
        .await;
    let (st, rejects) = match got {
        Ok(x) => x,
        Err(e) => return error_page(&state, &v, e),
    };
    let opt = |t: Option<Nanos>| t.map_or("never".into(), |t| when(&state, t));
    let mut rows = String::new();
    for c in &st.collectors {
        let _ = write!(
            rows,
            r#"<tr{}><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            if c.last_error.is_some() {
                r#" class="over""#
            } else {
                ""
            },
            esc(&c.name),
            esc(&c.kind),
            esc(&opt(c.last_success)),
            c.runs,
            c.failures,
            c.events,
            c.rejects,
            c.last_error
                .as_ref()
                .map_or(String::new(), |(t, e)| format!(
                    "{}: {}",
                    esc(&when(&state, *t)),
                    esc(e)
                ))
        );
    }
    let mut kept = String::new();
    for r in &rejects {
        let _ = write!(
            kept,
            "<tr><td>{}</td><td>{}:{}</td><td>{}</td></tr>",
            esc(&r.collector),
            esc(&r.source),
            r.line,
            esc(&r.reason)
        );
    }
    let rolled = st.rolled.map_or("nothing yet".into(), |(a, b)| {
        format!("{} to {}", Calendar::date_text(a), Calendar::date_text(b))
    });
    let body = format!(
        r#"<h2>Collectors</h2><div class="scroll"><table><thead><tr><th>Name</th><th>Kind</th><th>Last success</th><th class="num">Runs</th><th class="num">Failures</th><th class="num">Events</th><th class="num">Kept aside</th><th>Last error</th></tr></thead><tbody>{rows}</tbody></table></div><h2>Store and rollup</h2><table><tbody><tr><th>Events</th><td class="num">{events}</td></tr><tr><th>First and last event</th><td>{first} – {last}</td></tr><tr><th>Tenants, agents, groups</th><td class="num">{t}, {a}, {g}</td></tr><tr><th>Rolled up</th><td>{rolled}</td></tr><tr><th>Days waiting for the rollup</th><td class="num">{pending}</td></tr><tr><th>Restated values</th><td class="num">{restated}</td></tr><tr><th>Store size</th><td class="num">{size:.1} MB</td></tr></tbody></table><h2>Lines kept aside ({rejects_total}; the last 20)</h2><div class="scroll"><table><thead><tr><th>Collector</th><th>File and line</th><th>Why</th></tr></thead><tbody>{kept}</tbody></table></div>"#,
        events = st.events,
        first = esc(&opt(st.first_event)),
        last = esc(&opt(st.last_event)),
        t = st.tenants,
        a = st.agents,
        g = st.groups,
        pending = st.pending_days,
        restated = st.restatements,
        size = st.size_bytes as f64 / 1e6,
        rejects_total = st.rejects,
    );
    page(&state.config, "Status", Some(&v), "Status", &body)
}
