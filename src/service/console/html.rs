//! The console's HTML: one layout (title, navigation, sign-out), escaping, and the small
//! pieces the pages share. No front-end build step: plain HTML, one style sheet inline and
//! a few lines of JavaScript to sort tables.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Visitor;
use crate::config::Config;
use crate::service::auth::Caller;

/// Text for HTML (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}
header .site{font-weight:600;margin-right:auto}header a{color:#fff;text-decoration:none;padding:.2rem .1rem}
header a[aria-current]{border-bottom:2px solid #fff}header form{margin:0}header button{background:none;border:1px solid #fff8;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{max-width:72rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.who{opacity:.85;font-size:.9rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.92rem}th,td{padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#e9eef5;position:sticky;top:0}th[data-sort]{cursor:pointer}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.over td{background:#fde8e6}.over-word{color:#a61b0f;font-weight:600}.ok-word{color:#1d6b35}
.scroll{overflow-x:auto;max-height:36rem;overflow-y:auto;border:1px solid #e3e6ea}
form.decide{display:flex;flex-wrap:wrap;gap:.3rem;align-items:flex-end;margin:0}form.decide label{flex-direction:row;align-items:center;gap:.3rem}form.query{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;background:#fff;padding:.7rem;border:1px solid #e3e6ea;border-radius:6px}
label{display:flex;flex-direction:column;font-size:.85rem;gap:.15rem}input,select,button{font:inherit;padding:.3rem .4rem}
button.primary{background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.4rem .9rem;cursor:pointer}
.downloads a{margin-right:1rem}.notice{background:#fff4d6;border:1px solid #e8c96b;padding:.6rem .8rem;border-radius:6px;margin:.6rem 0}
.error{background:#fde8e6;border:1px solid #e3a29b;padding:.6rem .8rem;border-radius:6px}
.chart{background:#fff;border:1px solid #e3e6ea;border-radius:6px;margin:.3rem 0 .8rem}.chart .tick{font-size:10px;fill:#5b6673}.chart .legend{font-size:11px;fill:#5b6673}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(21rem,1fr));gap:1rem}.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.7rem}
.card h3{margin:0 0 .3rem;font-size:1rem}figure.card{margin:0}figure.card figcaption{margin-bottom:.3rem}.card dl{display:grid;grid-template-columns:auto auto;gap:.1rem 1rem;margin:.2rem 0 .4rem}.card dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
@media (max-width:40rem){main{padding:.5rem}header{font-size:.95rem}}
"#;

const SORT_JS: &str = r#"
document.querySelectorAll('th[data-sort]').forEach(function(th){th.tabIndex=0;function go(){var t=th.closest('table'),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),num=th.classList.contains('num'),asc=th.getAttribute('aria-sort')!=='ascending';t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});th.setAttribute('aria-sort',asc?'ascending':'descending');var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent;if(num){a=parseFloat(a)||0;c=parseFloat(c)||0;return asc?a-c:c-a}return asc?a.localeCompare(c):c.localeCompare(a)});rows.forEach(function(r){b.appendChild(r)})}th.addEventListener('click',go);th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go()}})});
"#;

/// Who is signed in, in words.
fn who(caller: &Caller) -> String {
    match caller {
        Caller::Open => "open console (no tokens configured)".into(),
        Caller::Anonymous => String::new(),
        Caller::Operator(n) => format!("operator {n}"),
        Caller::Tenant { name, tenant } => format!("tenant {tenant} ({name})"),
    }
}

/// A whole page: `current` names the navigation entry it is.
pub fn page(
    config: &Config,
    title: &str,
    visitor: Option<&Visitor>,
    current: &str,
    body: &str,
) -> Response {
    let mut nav = String::new();
    if let Some(v) = visitor {
        let operator = v.caller.whole_site();
        let entries: &[(&str, &str, bool)] = &[
            ("/", "Overview", true),
            ("/console/reports", "Reports", true),
            ("/console/tenants", "Tenants", operator),
            ("/console/rightsizing", "Right-sizing", operator),
            ("/console/alerts", "Alerts", true),
            ("/console/status", "Status", operator),
        ];
        for &(path, name, shown) in entries {
            if !shown {
                continue;
            }
            let cur = if name == current {
                r#" aria-current="page""#
            } else {
                ""
            };
            nav.push_str(&format!(r#"<a href="{path}"{cur}>{name}</a>"#));
        }
        nav.push_str(&format!(
            r#"<span class="who">{}</span>"#,
            esc(&who(&v.caller))
        ));
        if let Some(csrf) = &v.csrf {
            nav.push_str(&format!(
                r#"<form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button type="submit">Sign out</button></form>"#,
                esc(csrf)
            ));
        }
    }
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title} · {site} · seatmeter</title><style>{STYLE}</style></head><body><header><span class="site">{site}</span>{nav}</header><main><h1>{title}</h1>{body}</main><script>{SORT_JS}</script></body></html>"#,
        title = esc(title),
        site = esc(&config.site),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// The sign-in form.
pub fn login_form(next: &str, failed: bool) -> String {
    let error = if failed {
        r#"<p class="error" role="alert">That token is not one of this site's. Check it and try again.</p>"#
    } else {
        ""
    };
    format!(
        r#"{error}<form method="post" action="/login" class="query"><input type="hidden" name="next" value="{}"><label>Access token<input type="password" name="token" autocomplete="current-password" required autofocus size="40"></label><button class="primary" type="submit">Sign in</button></form><p>An operator's token (from <code>seatmeter token new</code>) sees the whole site; a tenant's token sees its own tenant only.</p>"#,
        esc(next)
    )
}
