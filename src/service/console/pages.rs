//! The console's pages: the overview (usage now, the last 30 days against the
//! entitlement, open alerts) and the reports (a form whose choice is the URL, the table,
//! a chart, and the same view to download). Both read the report model the PDF is drawn
//! from ([`crate::report::pdf::build`]), so the page and the PDF agree.

use std::fmt::Write as _;

use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use seatmeter_core::{Calendar, Day, Entitled, Granularity, ScopeKind, calendar};
use seatmeter_reports::chart;
use seatmeter_reports::pdf::Section;
use serde::Deserialize;

use super::Visitor;
use super::html::{esc, page, url_encode};
use crate::guard::pdf::{ForecastRow, forecast_rows};
use crate::report::output::Options;
use crate::report::{Request, pdf};
use crate::service::auth::{Caller, Failure};
use crate::service::http::{AppState, HttpError, tenant_may_ask};

pub(super) fn error_page(state: &AppState, v: &Visitor, e: HttpError) -> Response {
    let mut r = page(
        &state.config,
        "Not available",
        Some(v),
        "",
        &format!(r#"<p class="error" role="alert">{}</p>"#, esc(&e.message)),
    );
    *r.status_mut() = e.status;
    r
}

/// What a page shows of a report: the PDF model's sections and gaps.
pub(super) struct View {
    pub sections: Vec<Section>,
    pub gaps: Vec<String>,
}

/// The report model of `req` (incomplete numbers are shown with their gaps).
pub(super) async fn model(state: &AppState, req: Request) -> Result<View, HttpError> {
    let config = state.config.clone();
    state
        .pool
        .with(move |store| -> Result<_, HttpError> {
            let options = Options {
                allow_incomplete: true,
                ..Options::default()
            };
            let (sections, outcome) = pdf::sections(store, &config, &req, options)?;
            Ok(View {
                sections,
                gaps: outcome.gaps,
            })
        })
        .await
}

/// The first and last rolled-up days (None: nothing rolled up yet).
pub(super) async fn rolled(state: &AppState) -> Result<Option<(Day, Day)>, HttpError> {
    state
        .pool
        .with(|store| -> Result<_, HttpError> { Ok(store.rolled_days()?) })
        .await
}

/// The last rolled-up day.
async fn last_day(state: &AppState) -> Result<Option<Day>, HttpError> {
    Ok(rolled(state).await?.map(|(_, b)| b))
}

fn gaps_notice(r: &View) -> String {
    if r.gaps.is_empty() {
        return String::new();
    }
    let items: String = r
        .gaps
        .iter()
        .map(|g| format!("<li>{}</li>", esc(g)))
        .collect();
    format!(
        r#"<div class="notice" role="status"><strong>These numbers are incomplete:</strong><ul>{items}</ul></div>"#
    )
}

pub(super) fn entitled_text(e: Option<Entitled>) -> String {
    e.map(|e| e.to_string()).unwrap_or_else(|| "–".into())
}

/// One item's chart; `forecast`: the days after the section's last (empty: none).
fn chart_of(section: &Section, index: usize, forecast: &[chart::Band]) -> String {
    let i = &section.items[index];
    chart::svg(
        &chart::Series {
            title: &i.item,
            peaks: &i.peaks,
            enabled: &i.enableds,
            entitled: &i.entitleds,
            over: &i.overs,
            ticks: &section.ticks,
            forecast,
        },
        640,
        200,
    )
}

/// `/`: per item, seats in use now, today's peak, the entitlement and utilization, the last
/// 30 days as a chart with the entitlement line; the open alerts.
pub async fn overview(State(state): State<AppState>, Extension(v): Extension<Visitor>) -> Response {
    let tenant = match &v.caller {
        Caller::Tenant { tenant, .. } => Some(tenant.clone()),
        _ => None,
    };
    let Ok(Some((first, last))) = rolled(&state).await else {
        let body = "<p>Nothing is rolled up yet: once the collectors have run and the rollup has made its first day, the usage is here.</p>";
        return page(&state.config, "Overview", Some(&v), "Overview", body);
    };
    let req = Request {
        scope: if tenant.is_some() {
            ScopeKind::Tenant
        } else {
            ScopeKind::System
        },
        id: tenant.clone(),
        granularity: Granularity::Daily,
        // Days before the first rolled-up day have no data: not shown as zeros.
        from: (last - 29).max(first),
        to: last,
    };
    let report = match model(&state, req).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &v, e),
    };
    let forecasts = forecasts(&state, &req_of_overview(tenant.as_deref(), first, last)).await;
    let live = state.metrics.guard.lock().expect("guard lock").live.clone();
    let band = state.config.finops.target_band;
    let mut body = gaps_notice(&report);
    let _ = write!(
        body,
        r#"<p>{} · the last 30 days up to {} · times in {}</p><div class="cards">"#,
        esc(&tenant
            .as_ref()
            .map_or("The whole site".into(), |t| format!("Tenant {t}"))),
        Calendar::date_text(last),
        esc(state.config.timezone.name())
    );
    if let Some(section) = report.sections.first() {
        for (k, item) in section.items.iter().enumerate() {
            let now = live.as_ref().and_then(|l| {
                l.values
                    .iter()
                    .find(|x| x.item == item.item && x.tenant == tenant)
            });
            let util = now.and_then(|x| x.utilization());
            let util_text = match util {
                Some(u) if u * 100.0 > band[1] as f64 => format!(
                    r#"<span class="over-word">{:.0} % — above the {}–{} % band</span>"#,
                    u * 100.0,
                    band[0],
                    band[1]
                ),
                Some(u) if u * 100.0 < band[0] as f64 => {
                    format!(
                        "{:.0} % — below the {}–{} % band",
                        u * 100.0,
                        band[0],
                        band[1]
                    )
                }
                Some(u) => format!("{:.0} % — within the band", u * 100.0),
                None => "–".into(),
            };
            let over = item.over_use_periods > 0
                || now.is_some_and(|x| x.entitled.is_some_and(|e| e.exceeded_by(x.measured())));
            let _ = write!(
                body,
                r#"<section class="card" aria-label="{name}"><h3>{name}{flag}</h3><dl><dt>In use now</dt><dd>{in_use}</dd><dt>Today's peak</dt><dd>{today}</dd><dt>Entitled today</dt><dd>{ent}</dd><dt>Utilization</dt><dd>{util_text}</dd><dt>Peak of 30 days</dt><dd>{peak}</dd><dt>Forecast</dt><dd>{forecast}</dd></dl>{chart}</section>"#,
                name = esc(&item.item),
                flag = if over {
                    r#" <span class="over-word">OVER-USE</span>"#
                } else {
                    ""
                },
                in_use = now.map_or("–".into(), |x| x.in_use.to_string()),
                today = now.map_or("–".into(), |x| x.measured().to_string()),
                ent = now.map_or_else(
                    || entitled_text(item.entitled),
                    |x| entitled_text(x.entitled)
                ),
                peak = item.peak,
                forecast = forecast_text(
                    forecasts.iter().find(|f| f.item == item.item),
                    state.config.guard.horizon_days,
                ),
                chart = chart_of(
                    section,
                    k,
                    &ahead(
                        forecasts.iter().find(|f| f.item == item.item),
                        last,
                        item.peaks.len()
                    )
                ),
            );
        }
    }
    body.push_str("</div>");
    body.push_str(&alerts_html(&state, tenant.as_deref()).await);
    page(&state.config, "Overview", Some(&v), "Overview", &body)
}

/// The request the overview's forecasts are of (the guardrails keep them for the system
/// and for tenants).
fn req_of_overview(tenant: Option<&str>, first: Day, last: Day) -> Request {
    Request {
        scope: if tenant.is_some() {
            ScopeKind::Tenant
        } else {
            ScopeKind::System
        },
        id: tenant.map(str::to_string),
        granularity: Granularity::Daily,
        from: first,
        to: last,
    }
}

/// The forecasts of the scope as of the last complete day (docs/GUARDRAILS.md); none when
/// they cannot be made (too few days).
async fn forecasts(state: &AppState, req: &Request) -> Vec<ForecastRow> {
    let (config, req, now) = (state.config.clone(), req.clone(), state.clock.now());
    state
        .pool
        .with(move |store| -> Result<_, HttpError> {
            let Some(as_of) = crate::guard::last_complete_day(store, &config, now)? else {
                return Ok(Vec::new());
            };
            Ok(forecast_rows(store, &config, &req, as_of.min(req.to))?)
        })
        .await
        .unwrap_or_default()
}

/// The forecast's days after `last` (the chart's last day), in order: at most as many as
/// the `days` of data shown, so a long horizon does not squeeze the data to a corner.
fn ahead(f: Option<&ForecastRow>, last: Day, days: usize) -> Vec<chart::Band> {
    let Some(f) = f else {
        return Vec::new();
    };
    let as_of = calendar::parse_date(&f.as_of).unwrap_or(last);
    f.path
        .iter()
        .skip((last - as_of).max(0) as usize)
        .take(days)
        .copied()
        .collect()
}

fn forecast_text(f: Option<&ForecastRow>, horizon: u32) -> String {
    let Some(f) = f else {
        return "–".into();
    };
    match &f.exceeds_on {
        Some(d) => format!(
            r#"<span class="over-word">exceeds on {}</span> (between {} and {})"#,
            esc(d),
            esc(f.exceeds_earliest.as_deref().unwrap_or("?")),
            esc(f.exceeds_latest.as_deref().unwrap_or("later"))
        ),
        None => format!(
            "peak {:.0} ({:.0}–{:.0}) in {horizon} days; not expected over",
            f.peak_in_horizon, f.peak_in_horizon_low, f.peak_in_horizon_high
        ),
    }
}

/// The open alerts a caller may see (a tenant: those about its tenant only).
async fn alerts_html(state: &AppState, tenant: Option<&str>) -> String {
    let Ok(open) = state
        .pool
        .with(|store| -> Result<_, HttpError> { Ok(store.alert_episodes(true)?) })
        .await
    else {
        return String::new();
    };
    let prefix = tenant.map(|t| format!("tenant={t}|"));
    let rows: String = open
        .iter()
        .filter(|e| prefix.as_ref().is_none_or(|p| e.subject.starts_with(p)))
        .map(|e| {
            let since = chrono::DateTime::from_timestamp_nanos(e.opened_at)
                .with_timezone(&state.config.timezone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.rule),
                esc(&since),
                esc(&e.summary)
            )
        })
        .collect();
    if rows.is_empty() {
        return "<h2>Open alerts</h2><p>None.</p>".into();
    }
    format!(
        r#"<h2>Open alerts</h2><div class="scroll"><table><thead><tr><th data-sort>Rule</th><th data-sort>Since</th><th>What</th></tr></thead><tbody>{rows}</tbody></table></div>"#
    )
}

#[derive(Deserialize, Default, Debug)]
pub struct ReportForm {
    scope: Option<String>,
    id: Option<String>,
    item: Option<String>,
    granularity: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// At most this many rows are shown on the page (the downloads have them all).
const PAGE_ROWS: usize = 5000;
/// With more scopes than this, charts only for one scope or one item.
const MAX_CHARTED_SCOPES: usize = 12;

/// The request a form asks for, checked against the caller (a tenant: its own only).
async fn checked_request(
    state: &AppState,
    v: &Visitor,
    f: &ReportForm,
) -> Result<Request, HttpError> {
    let bad = |m: String| HttpError {
        status: StatusCode::BAD_REQUEST,
        message: m,
    };
    let last = last_day(state)
        .await?
        .unwrap_or_else(|| Calendar::new(state.config.timezone).day_of(state.clock.now()) - 1);
    let date = |s: &Option<String>, d: Day| match s.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => calendar::parse_date(s).map_err(bad),
        None => Ok(d),
    };
    let to = date(&f.to, last)?;
    let from = date(&f.from, to - 29)?;
    let default_scope = match v.caller {
        Caller::Tenant { .. } => "tenant",
        _ => "system",
    };
    let scope: ScopeKind = f
        .scope
        .as_deref()
        .unwrap_or(default_scope)
        .parse()
        .map_err(bad)?;
    let granularity: Granularity = f
        .granularity
        .as_deref()
        .unwrap_or("daily")
        .parse()
        .map_err(bad)?;
    let mut req = Request {
        scope,
        id: f.id.clone().filter(|s| !s.is_empty()),
        granularity,
        from,
        to,
    };
    req.check().map_err(HttpError::from)?;
    if let Caller::Tenant { tenant, .. } = &v.caller {
        match tenant_may_ask(state, tenant, &req).await? {
            Ok(id) => req.id = Some(id),
            Err(_) => {
                state.metrics.auth_failure(Failure::Forbidden);
                return Err(HttpError {
                    status: StatusCode::FORBIDDEN,
                    message: "This session may not see that: a tenant's session sees its own tenant and groups only.".into(),
                });
            }
        }
    }
    Ok(req)
}

/// `/console/reports`: the form, the summary with each item's peak time, a chart for one
/// item, the rows, and the same view as CSV, JSON and PDF.
pub async fn reports(
    State(state): State<AppState>,
    Extension(v): Extension<Visitor>,
    Query(f): Query<ReportForm>,
) -> Response {
    let req = match checked_request(&state, &v, &f).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &v, e),
    };
    let report = match model(&state, req.clone()).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &v, e),
    };
    let item = f.item.as_deref().filter(|i| !i.is_empty());
    let mut body = form_html(&v, &req, item, &report);
    body.push_str(&gaps_notice(&report));
    let q = format!(
        "from={}&to={}{}",
        Calendar::date_text(req.from),
        Calendar::date_text(req.to),
        req.id
            .as_ref()
            .map(|i| format!("&id={}", url_encode(i)))
            .unwrap_or_default()
    );
    let base = format!(
        "/reports/{}/{}",
        req.scope.as_str(),
        req.granularity.as_str()
    );
    let _ = write!(
        body,
        r#"<p class="downloads">Download this view: <a href="{base}?{q}&amp;format=csv" download>CSV</a><a href="{base}?{q}&amp;format=json" download>JSON</a><a href="{base}?{q}&amp;format=pdf" download>PDF</a></p>"#,
        q = q.replace('&', "&amp;")
    );
    // Many scopes (every tenant of a large site): their tables, and charts once one scope
    // or one item is chosen; the rows within one budget for the page.
    let charts = report.sections.len() <= MAX_CHARTED_SCOPES || item.is_some();
    if !charts {
        let _ = write!(
            body,
            r#"<p class="notice">{} scopes: choose one (Tenant or group) or an item to see charts.</p>"#,
            report.sections.len()
        );
    }
    let mut budget = PAGE_ROWS;
    for s in &report.sections {
        section_html(&mut body, s, item, charts, &mut budget);
    }
    if report.sections.is_empty() {
        body.push_str("<p>No rows: nothing in this scope and period.</p>");
    }
    page(&state.config, "Reports", Some(&v), "Reports", &body)
}

fn form_html(v: &Visitor, req: &Request, item: Option<&str>, report: &View) -> String {
    let opt = |value: &str, label: &str, cur: bool| {
        format!(
            r#"<option value="{}"{}>{}</option>"#,
            esc(value),
            if cur { " selected" } else { "" },
            esc(label)
        )
    };
    let scopes: &[&str] = match v.caller {
        Caller::Tenant { .. } => &["tenant", "group", "place-group"],
        _ => &["system", "tenant", "group", "place-group"],
    };
    let scope_opts: String = scopes
        .iter()
        .map(|s| opt(s, s, req.scope.as_str() == *s))
        .collect();
    let gran_opts: String = ["10min", "hourly", "daily", "weekly", "monthly"]
        .iter()
        .map(|g| opt(g, g, req.granularity.as_str() == *g))
        .collect();
    let items: Vec<&str> = report
        .sections
        .first()
        .map(|s| s.items.iter().map(|i| i.item.as_str()).collect())
        .unwrap_or_default();
    let item_opts: String = std::iter::once(opt("", "every item", item.is_none()))
        .chain(items.iter().map(|i| opt(i, i, item == Some(*i))))
        .collect();
    format!(
        r#"<form class="query" method="get" action="/console/reports"><label>Scope<select name="scope">{scope_opts}</select></label><label>Tenant or group<input name="id" value="{id}" placeholder="all"></label><label>Item<select name="item">{item_opts}</select></label><label>Granularity<select name="granularity">{gran_opts}</select></label><label>From<input type="date" name="from" value="{from}" required></label><label>To<input type="date" name="to" value="{to}" required></label><button class="primary" type="submit">Show</button></form>"#,
        id = esc(req.id.as_deref().unwrap_or("")),
        from = Calendar::date_text(req.from),
        to = Calendar::date_text(req.to),
    )
}

fn section_html(
    body: &mut String,
    s: &Section,
    item: Option<&str>,
    charts: bool,
    budget: &mut usize,
) {
    let _ = write!(body, "<h2>{}</h2>", esc(&s.title));
    // One item's chart, or every item's.
    body.push_str(r#"<div class="cards">"#);
    for k in 0..s.items.len() {
        if charts && item.is_none_or(|i| i == s.items[k].item) {
            let _ = write!(
                body,
                r#"<figure class="card"><figcaption><strong>{}</strong></figcaption>{}</figure>"#,
                esc(&s.items[k].item),
                chart_of(s, k, &[])
            );
        }
    }
    body.push_str("</div>");
    body.push_str(r#"<div class="scroll"><table><thead><tr><th data-sort>Item</th><th data-sort class="num">Peak</th><th data-sort>Peak reached in</th><th data-sort class="num">Enabled</th><th data-sort class="num">Entitled</th><th data-sort>Status</th></tr></thead><tbody>"#);
    for i in s.items.iter().filter(|i| item.is_none_or(|x| x == i.item)) {
        let over = i.over_use_periods > 0;
        let _ = write!(
            body,
            r#"<tr{}><td>{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            if over { r#" class="over""# } else { "" },
            esc(&i.item),
            i.peak,
            esc(i.peak_at.as_deref().unwrap_or("–")),
            i.enabled.map_or("–".into(), |e| e.to_string()),
            entitled_text(i.entitled),
            if over {
                format!(
                    r#"<span class="over-word">OVER-USE in {} period(s)</span>"#,
                    i.over_use_periods
                )
            } else {
                r#"<span class="ok-word">within the entitlement</span>"#.into()
            }
        );
    }
    body.push_str("</tbody></table></div>");
    let rows: Vec<_> = s
        .rows
        .iter()
        .filter(|r| item.is_none_or(|x| x == r.item))
        .collect();
    let _ = write!(
        body,
        r#"<h2>Periods ({} rows{})</h2><div class="scroll"><table><thead><tr><th data-sort>Period start</th><th data-sort>Item</th><th data-sort class="num">Peak</th><th data-sort>Peak at</th><th data-sort class="num">Enabled</th><th data-sort class="num">Entitled</th><th data-sort>Over-use</th></tr></thead><tbody>"#,
        rows.len(),
        if rows.len() > *budget {
            format!(
                "; {} shown, the downloads have them all (at most {PAGE_ROWS} on a page)",
                *budget
            )
        } else {
            String::new()
        }
    );
    let shown = rows.len().min(*budget);
    *budget -= shown;
    for r in rows.iter().take(shown) {
        let _ = write!(
            body,
            r#"<tr{}><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            if r.over_use { r#" class="over""# } else { "" },
            esc(&r.period),
            esc(&r.item),
            r.peak,
            r.peak_at.as_deref().map_or("–".into(), |t| esc(
                &seatmeter_reports::pdf::people_time(t)
            )),
            r.enabled.map_or("–".into(), |e| e.to_string()),
            entitled_text(r.entitled),
            if r.over_use {
                r#"<span class="over-word">OVER-USE</span>"#
            } else {
                ""
            }
        );
    }
    body.push_str("</tbody></table></div>");
}
