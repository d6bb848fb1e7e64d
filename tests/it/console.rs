//! The web console over HTTP (docs/CONSOLE.md): sign-in turns a token into a session
//! cookie (HttpOnly, SameSite=Strict, expiring), sign-out needs the form's CSRF token, a
//! tenant's session sees its own tenant only however the URL is edited, and the page's
//! CSV download is byte for byte `seatmeter report`'s. The browser drives the same in
//! `console_browser.rs`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::service_auth::{ACME, OPERATOR, serve, site_with, tokens};
use crate::support::seatmeter;

/// (status, headers in lower case, body) of one request.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: seatmeter\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req += &format!("Cookie: seatmeter_session={c}\r\n");
    }
    if let Some(f) = form {
        req += &format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            f.len()
        );
    }
    req += "\r\n";
    req += form.unwrap_or("");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = crate::service_auth::dechunk(head, body);
    (status, head.to_ascii_lowercase(), body)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// Signs in with `token`: the session id from the cookie.
pub(crate) fn sign_in(addr: SocketAddr, token: &str) -> String {
    let (status, head, _) = http(
        addr,
        "POST",
        "/login",
        None,
        Some(&format!("token={token}&next=/")),
    );
    assert_eq!(status, 303, "{head}");
    let cookie = header(&head, "set-cookie").unwrap_or_else(|| panic!("{head}"));
    cookie
        .strip_prefix("seatmeter_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// What `seatmeter report` prints for acme's weekly report of the test site.
pub(crate) fn acme_weekly_csv(dir: &std::path::Path) -> String {
    let args = "-c seatmeter.toml report --scope tenant --id acme --granularity weekly --from 2026-10-22 --to 2026-10-27";
    let out = seatmeter(dir, &args.split(' ').collect::<Vec<_>>());
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a sign-out form")
        + 19;
    page[at..at + 64].to_string()
}

#[test]
fn sessions_csrf_and_the_tenant_boundary_over_http() {
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\n{}",
        tokens()
    ));
    let srv = serve(site.path());
    let addr = srv.addr;

    // Not signed in: every page sends to the sign-in, remembering where to.
    let (status, head, _) = http(addr, "GET", "/console/reports?scope=tenant", None, None);
    assert_eq!(status, 303);
    assert_eq!(
        header(&head, "location"),
        Some("/login?next=/console/reports%3fscope%3dtenant")
    );
    let (status, _, login) = http(addr, "GET", "/login", None, None);
    assert_eq!(status, 200);
    assert!(login.contains("<title>Sign in"), "{login}");
    // A wrong token: back to the form, which says so; no cookie.
    let (status, head, _) = http(addr, "POST", "/login", None, Some("token=nope&next=/"));
    assert_eq!(status, 303);
    assert!(header(&head, "set-cookie").is_none());
    assert!(header(&head, "location").unwrap().contains("failed=1"));
    // next= never leaves the site.
    let (_, head, _) = http(
        addr,
        "POST",
        "/login",
        None,
        Some(&format!("token={ACME}&next=//evil.example/")),
    );
    assert_eq!(header(&head, "location"), Some("/"));

    let (_, head, _) = http(
        addr,
        "POST",
        "/login",
        None,
        Some(&format!("token={ACME}&next=/")),
    );
    let cookie = header(&head, "set-cookie").unwrap();
    for flag in ["httponly", "samesite=strict", "path=/", "max-age=28800"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("secure"), "no TLS here: {cookie}");
    let acme = sign_in(addr, ACME);

    let (status, _, page) = http(addr, "GET", "/", Some(&acme), None);
    assert_eq!(status, 200);
    assert!(page.contains("Tenant acme"), "{page}");
    for other in ["globex", "nordwind", "The whole site"] {
        assert!(!page.contains(other), "{other} on acme's overview");
    }
    // Edited URLs: another tenant, the system, another tenant's groups.
    for path in [
        "/console/reports?scope=tenant&id=globex",
        "/console/reports?scope=system",
        "/console/reports?scope=group&id=globex",
    ] {
        let (status, _, page) = http(addr, "GET", path, Some(&acme), None);
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("may not see that"), "{page}");
        assert!(!page.contains("globex"), "{path}: {page}");
    }
    // acme's own report: the CSV link gives exactly what `seatmeter report` prints.
    let (status, _, page) = http(
        addr,
        "GET",
        "/console/reports?granularity=weekly&from=2026-10-22&to=2026-10-27",
        Some(&acme),
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h2>Tenant acme</h2>"), "{page}");
    let at = page.find("format=csv").unwrap();
    let start = page[..at].rfind("href=\"").unwrap() + 6;
    let link = page[start..at + 10].replace("&amp;", "&");
    assert!(link.contains("id=acme"), "{link}");
    let (status, _, csv) = http(addr, "GET", &link, Some(&acme), None);
    assert_eq!(status, 200, "{link}: {csv}");
    assert_eq!(csv, acme_weekly_csv(site.path()));
    // The operator's pages are not a tenant's, nor its decisions.
    for path in [
        "/console/tenants",
        "/console/rightsizing",
        "/console/status",
    ] {
        let (status, _, page) = http(addr, "GET", path, Some(&acme), None);
        assert_eq!(status, 403, "{path}");
        assert!(!page.contains("globex"), "{path}");
    }
    let (status, _, _) = http(
        addr,
        "POST",
        "/console/rightsizing/decide",
        Some(&acme),
        Some("csrf=x&id=r1&action=approve"),
    );
    assert_eq!(status, 403);
    // The form sends item= empty for "every item": every item's rows, not none.
    let (_, _, all) = http(
        addr,
        "GET",
        "/console/reports?scope=tenant&item=&granularity=weekly&from=2026-10-22&to=2026-10-27",
        Some(&acme),
        None,
    );
    assert!(!all.contains("Periods (0 rows)"), "{all}");
    assert!(all.matches("<svg").count() > 1, "a chart per item");
    let (_, _, one) = http(
        addr,
        "GET",
        "/console/reports?scope=tenant&item=Genesys%20Inbound%20Voice&granularity=weekly&from=2026-10-22&to=2026-10-27",
        Some(&acme),
        None,
    );
    assert_eq!(one.matches("<svg").count(), 1, "one item's chart");
    assert!(!one.contains("<td>Genesys E-Mail</td>"), "one item's rows");
    // The cookie does not open another tenant's download either.
    let (status, _, _) = http(
        addr,
        "GET",
        "/reports/tenant/daily?from=2026-10-22&id=globex",
        Some(&acme),
        None,
    );
    assert_eq!(status, 403);

    // Sign-out needs the form's CSRF token.
    let (status, _, _) = http(
        addr,
        "POST",
        "/logout",
        Some(&acme),
        Some(&format!("csrf={}", "0".repeat(64))),
    );
    assert_eq!(status, 403);
    let csrf = csrf_of(&page);
    let (status, head, _) = http(
        addr,
        "POST",
        "/logout",
        Some(&acme),
        Some(&format!("csrf={csrf}")),
    );
    assert_eq!(status, 303);
    assert!(header(&head, "set-cookie").unwrap().contains("max-age=0"));
    let (status, _, _) = http(addr, "GET", "/", Some(&acme), None);
    assert_eq!(status, 303, "the session is gone");

    // The operator sees the whole site and every tenant; a decision needs the CSRF token.
    let ops = sign_in(addr, OPERATOR);
    let (status, _, _) = http(
        addr,
        "POST",
        "/console/rightsizing/decide",
        Some(&ops),
        Some("csrf=wrong&id=r1&action=approve"),
    );
    assert_eq!(status, 403);
    let (status, _, page) = http(addr, "GET", "/", Some(&ops), None);
    assert_eq!(status, 200);
    assert!(page.contains("The whole site"), "{page}");
    let (status, _, page) = http(
        addr,
        "GET",
        "/console/reports?scope=tenant&from=2026-10-22&to=2026-10-27",
        Some(&ops),
        None,
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("<h2>Tenant acme</h2>") && page.contains("<h2>Tenant globex</h2>"),
        "{page}"
    );
}
