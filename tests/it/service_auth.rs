//! Who may ask what over HTTP (issue 13): access tokens by role, `/metrics` for operators,
//! 401 and 403 counted, no tokens only on loopback, TLS, and start-up refusals that name
//! the file and line. Every test runs the real binary, as `seatmeter serve` runs on a site.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::service::small_site;
use crate::support::Site;

pub(crate) const OPERATOR: &str = "smt_operator-token-for-tests";
pub(crate) const ACME: &str = "smt_acme-token-for-tests";

pub(crate) fn sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The generated site, collected and rolled up, with `service` appended to its
/// configuration (a `[service]` table, tokens).
pub(crate) fn site_with(service: &str) -> Site {
    let site = small_site();
    site.collect_and_rollup();
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(site.config_path(), format!("{cfg}\n{service}\n")).unwrap();
    site
}

pub(crate) fn tokens() -> String {
    format!(
        "[[service.token]]\nname = \"ops\"\nsha256 = \"{}\"\n\n\
         [[service.token]]\nname = \"acme-portal\"\nsha256 = \"{}\"\ntenant = \"acme\"\n",
        sha256(OPERATOR),
        sha256(ACME)
    )
}

/// A running `seatmeter serve`, killed when dropped.
pub(crate) struct Serving {
    child: Child,
    pub(crate) addr: std::net::SocketAddr,
    scheme: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(dir: &Path) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .args(["-c", "seatmeter.toml", "serve"])
        .env("SEATMETER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (scheme, rest) = line.split_once("://").unwrap_or_else(|| panic!("{line:?}"));
    let scheme = scheme.rsplit(' ').next().unwrap().to_string();
    let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
    Serving {
        child,
        addr,
        scheme,
    }
}

/// `seatmeter serve` that must refuse to start: its exit status and standard error.
fn refused(dir: &Path) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .args(["-c", "seatmeter.toml", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Not a timing assertion: a guard, so that a service that does start fails the test
    // instead of hanging it.
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("seatmeter serve started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

/// One request with optional extra header lines; (status, head, body). Status 0: closed
/// without an HTTP answer.
async fn request_on<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    path: &str,
    headers: &str,
) -> (u16, String, String) {
    let mut buf = Vec::new();
    let sent = s
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: seatmeter\r\n{headers}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
    if sent.is_ok() {
        let _ = s.read_to_end(&mut buf).await;
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 ") => {
            let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
            (status, head.to_ascii_lowercase(), dechunk(head, body))
        }
        _ => (0, String::new(), text),
    }
}

/// A response body as sent: chunked bodies (streamed reports) joined.
pub(crate) fn dechunk(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((len, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

async fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    request_on(s, path, &auth).await
}

fn failures(metrics: &str, reason: &str) -> f64 {
    let s = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_string()))).unwrap();
    let sample = s
        .samples
        .iter()
        .find(|x| {
            x.metric == "seatmeter_http_auth_failures_total"
                && x.labels.get("reason") == Some(reason)
        })
        .unwrap_or_else(|| panic!("no failures {reason}:\n{metrics}"));
    match sample.value {
        prometheus_parse::Value::Counter(v) => v,
        ref v => panic!("{v:?}"),
    }
}

fn report(scope: &str, id: Option<&str>) -> String {
    let id = id.map(|i| format!("&id={i}")).unwrap_or_default();
    format!("/reports/{scope}/daily?from=2026-10-22&to=2026-10-24&allow_incomplete=true{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_decide_who_sees_what() {
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\n\n{}",
        tokens()
    ));
    let svc = serve(site.path());
    assert_eq!(svc.scheme, "http");
    let addr = svc.addr;

    // No token: everything but the probes is 401, with the challenge.
    let (status, _, body) = get(addr, "/healthz", None).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = get(addr, "/readyz", None).await;
    assert!(status == 200 || status == 503, "{status}");
    assert!(
        !body.contains("collector"),
        "no reasons without a token: {body}"
    );
    for path in [
        report("tenant", Some("acme")),
        report("system", None),
        "/metrics".into(),
    ] {
        let (status, head, _) = get(addr, &path, None).await;
        assert_eq!(status, 401, "{path}");
        assert!(head.contains("www-authenticate: bearer"), "{head}");
    }
    // An unknown token, and the hash in place of the token.
    for t in ["smt_nobody", &sha256(OPERATOR)] {
        let (status, head, _) = get(addr, &report("tenant", Some("acme")), Some(t)).await;
        assert_eq!(status, 401);
        assert!(head.contains("www-authenticate: bearer"), "{head}");
    }
    // Malformed Authorization headers: 401, never 500.
    for bad in [
        "Authorization: Basic b3BzOnNlY3JldA==\r\n",
        "Authorization: Bearer\r\n",
        "Authorization: smt_operator-token-for-tests\r\n",
        "Authorization: Bearer a b\r\n",
        "Authorization: Bearer é\r\n",
    ] {
        let s2 = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (status, head, _) = request_on(s2, "/metrics", bad).await;
        assert_eq!(status, 401, "{bad:?}");
        assert!(head.contains("www-authenticate: bearer"), "{head}");
    }

    // The operator sees everything.
    let want_tenants = site.report("tenant", "daily", "2026-10-22", "2026-10-24");
    let (status, _, body) = get(addr, &report("tenant", None), Some(OPERATOR)).await;
    assert_eq!(status, 200);
    assert_eq!(body, want_tenants);
    assert!(
        body.contains(",globex,") && body.contains(",acme,"),
        "{body}"
    );
    for path in [
        report("system", None),
        report("tenant", Some("globex")),
        report("group", Some("globex")),
    ] {
        let (status, _, body) = get(addr, &path, Some(OPERATOR)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _, body) = get(addr, "/readyz", Some(OPERATOR)).await;
    assert!(status == 200 || status == 503, "{status}");
    assert!(
        status == 200 || body.contains("collector") || body.contains("day"),
        "{body}"
    );

    // The tenant's token: its own tenant and groups, nothing else.
    let (status, _, body) = get(addr, &report("tenant", Some("acme")), Some(ACME)).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = crate::support::rows(&body)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i == "acme"),
        "{ids:?}"
    );
    // Without an id, its own tenant only.
    let (status, _, body2) = get(addr, &report("tenant", None), Some(ACME)).await;
    assert_eq!((status, &body2), (200, &body));
    let (status, _, body) = get(addr, &report("group", Some("acme")), Some(ACME)).await;
    assert_eq!(status, 200, "{body}");
    let groups: Vec<String> = crate::support::rows(&body)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        !groups.is_empty() && groups.iter().all(|g| g.starts_with("acme/")),
        "{groups:?}"
    );
    let one = groups[0].replace(' ', "%20");
    let (status, _, _) = get(addr, &report("group", Some(&one)), Some(ACME)).await;
    assert_eq!(status, 200, "{one}");
    // Its own unknown group is a 404, as for the operator.
    let (status, _, _) = get(addr, &report("group", Some("acme/nothing")), Some(ACME)).await;
    assert_eq!(status, 404);

    let (_, _, before) = get(addr, "/metrics", Some(OPERATOR)).await;
    let forbidden = failures(&before, "forbidden");
    let missing = failures(&before, "missing");
    assert!(missing >= 3.0, "{missing}");
    assert!(failures(&before, "unknown") >= 2.0);
    assert!(failures(&before, "malformed") >= 5.0);
    for path in [
        report("system", None),
        report("tenant", Some("globex")),
        report("tenant", Some("nobody")),
        report("group", Some("globex")),
        report("group", Some("globex/Support")),
        "/metrics".to_string(),
    ] {
        let (status, _, body) = get(addr, &path, Some(ACME)).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(!body.contains("globex,"), "{body}");
    }
    let (status, _, _) = get(addr, "/metrics", None).await;
    assert_eq!(status, 401);
    let (status, _, after) = get(addr, "/metrics", Some(OPERATOR)).await;
    assert_eq!(status, 200);
    assert_eq!(failures(&after, "forbidden"), forbidden + 6.0);
    assert_eq!(failures(&after, "missing"), missing + 1.0);
}

#[test]
fn no_tokens_means_loopback_only() {
    let site = site_with("[service]\nlisten = \"0.0.0.0:0\"\n");
    let (status, err) = refused(site.path());
    assert!(!status.success());
    assert!(
        err.contains("seatmeter.toml")
            && err.contains("listen = \"0.0.0.0:0\"")
            && err.contains("no [[service.token]] is configured"),
        "{err}"
    );
    // With a token the same address starts (and a plain loopback one without).
    let site = site_with(&format!(
        "[service]\nlisten = \"0.0.0.0:0\"\n\n{}",
        tokens()
    ));
    let svc = serve(site.path());
    assert!(svc.addr.ip().is_unspecified(), "{}", svc.addr);
}

#[test]
fn unusable_tokens_and_tls_files_refuse_the_start_naming_file_and_line() {
    // A tenant the site does not know.
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\n\n[[service.token]]\nname = \"typo\"\nsha256 = \"{}\"\ntenant = \"acmee\"\n",
        sha256(ACME)
    ));
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    let line = 1 + cfg.lines().position(|l| l == "[[service.token]]").unwrap();
    let (status, err) = refused(site.path());
    assert!(!status.success());
    assert!(
        err.contains(&format!("seatmeter.toml:{line}:")) && err.contains("tenant \"acmee\""),
        "{err}"
    );
    // A certificate that cannot be read, and one that is not PEM.
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\ntls_certificate = \"missing.pem\"\ntls_key = \"key.pem\"\n\n{}",
        tokens()
    ));
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    let line = 1 + cfg
        .lines()
        .position(|l| l.starts_with("tls_certificate"))
        .unwrap();
    let (status, err) = refused(site.path());
    assert!(!status.success());
    assert!(
        err.contains(&format!("seatmeter.toml:{line}: [service] tls_certificate"))
            && err.contains("missing.pem"),
        "{err}"
    );
    std::fs::write(site.path().join("missing.pem"), "not a certificate\n").unwrap();
    let (status, err) = refused(site.path());
    assert!(!status.success());
    assert!(err.contains("no CERTIFICATE"), "{err}");
    // A good certificate with a key that is not one.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(site.path().join("missing.pem"), cert.cert.pem()).unwrap();
    std::fs::write(site.path().join("key.pem"), cert.cert.pem()).unwrap();
    let (status, err) = refused(site.path());
    assert!(!status.success());
    assert!(
        err.contains(&format!("seatmeter.toml:{}: [service] tls_key", line + 1)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_and_refuses_plain_http() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\ntls_certificate = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"\n\n{}",
        tokens()
    ));
    std::fs::create_dir_all(site.path().join("tls")).unwrap();
    std::fs::write(site.path().join("tls/cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(
        site.path().join("tls/key.pem"),
        cert.signing_key.serialize_pem(),
    )
    .unwrap();
    let svc = serve(site.path());
    assert_eq!(svc.scheme, "https");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let https = |path: &'static str, token: Option<&'static str>| {
        let connector = connector.clone();
        let addr = svc.addr;
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            let tls = connector.connect(name, tcp).await.unwrap();
            let auth = token
                .map(|t| format!("Authorization: Bearer {t}\r\n"))
                .unwrap_or_default();
            request_on(tls, path, &auth).await
        }
    };
    let (status, _, body) = https("/healthz", None).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = https("/metrics", Some(OPERATOR)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("seatmeter_http_auth_failures_total"),
        "{body}"
    );
    let (status, _, _) = https("/metrics", None).await;
    assert_eq!(status, 401);

    // Plain HTTP to the TLS port gets no HTTP answer.
    let (status, _, text) = get(svc.addr, "/healthz", None).await;
    assert_eq!(status, 0, "{text}");
    assert!(!text.contains("ok"), "{text}");
}
