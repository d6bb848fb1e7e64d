//! The web console in a real browser: Debian's Chromium driven through chromedriver
//! (WebDriver, plain JSON over HTTP). Signs in as the operator, opens the overview, changes
//! a report's granularity and dates, downloads its CSV in the page and compares it byte for
//! byte with `seatmeter report`'s, signs out; signs in as a tenant and fails to see
//! another tenant by editing the URL. Screenshots of each page go to
//! `target/console-screenshots/` (or `$SEATMETER_SCREENSHOTS`), for a person to look at.
//! Without chromedriver it says loudly that it was skipped (and fails under `CI=true`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::service_auth::{ACME, OPERATOR, serve, site_with, tokens};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session, both ended when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn send(method: &str, url: &str, body: Option<Value>) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut resp = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        (_, b) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(b.unwrap_or(json!({})).to_string()),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let text = resp.body_mut().read_to_string().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    assert!(
        v["value"].get("error").is_none(),
        "{method} {url}: {}",
        v["value"]
    );
    v["value"].clone()
}

impl Browser {
    /// None (said loudly; a failure under CI=true) when chromedriver is not installed.
    fn start() -> Option<Browser> {
        let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(driver_bin) = driver_bin else {
            seatmeter_core::testing::skip(
                "the browser test of the console",
                "chromedriver (Debian's chromium-driver) is not installed",
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]}}}});
        let v = send("POST", &format!("{base}/session"), Some(caps));
        let shots = std::env::var_os("SEATMETER_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots")
            });
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser {
            driver,
            base,
            session: v["sessionId"].as_str().unwrap().to_string(),
            shots,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn go(&self, url: &str) {
        send("POST", &self.url("/url"), Some(json!({"url": url})));
    }

    fn title(&self) -> String {
        send("GET", &self.url("/title"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits (up to 15 s) for a page whose title starts with `prefix`: a click that
    /// submits a form returns before the next page may have loaded.
    fn wait_title(&self, prefix: &str) {
        let started = Instant::now();
        loop {
            let t = self.title();
            if t.starts_with(prefix) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for {prefix:?}, the page is {t:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (up to 15 s) for the address to contain `part`.
    fn wait_url(&self, part: &str) {
        let started = Instant::now();
        while !self.current().contains(part) {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for {part:?} in {}",
                self.current()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn current(&self) -> String {
        send("GET", &self.url("/url"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = send(
            "POST",
            &self.url("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        send("POST", &self.url(&format!("/element/{e}/click")), None);
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        send(
            "POST",
            &self.url(&format!("/element/{e}/value")),
            Some(json!({"text": text})),
        );
    }

    fn script(&self, js: &str) -> Value {
        send(
            "POST",
            &self.url("/execute/async"),
            Some(json!({"script": js, "args": []})),
        )
    }

    fn text(&self) -> String {
        self.script("arguments[0](document.body.innerText)")
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Saves a screenshot of the page as `name`.png; the PNG it wrote.
    fn shot(&self, name: &str) -> PathBuf {
        let b64 = send("GET", &self.url("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

#[test]
fn operator_and_tenant_in_chromium() {
    let Some(b) = Browser::start() else { return };
    let site = site_with(&format!(
        "[service]\nlisten = \"127.0.0.1:0\"\n{}",
        tokens()
    ));
    let proposed = crate::support::seatmeter(
        site.path(),
        &["-c", "seatmeter.toml", "recommend", "propose"],
    );
    assert!(proposed.status.success(), "{proposed:?}");
    let srv = serve(site.path());
    let root = format!("http://{}", srv.addr);

    // Sign in as the operator: the overview.
    b.go(&format!("{root}/"));
    assert!(b.current().contains("/login?next=/"), "{}", b.current());
    b.shot("01-sign-in");
    b.type_into("input[name=token]", OPERATOR);
    b.click("button[type=submit]");
    b.wait_title("Overview");
    let text = b.text();
    assert!(text.contains("The whole site"), "{text}");
    assert!(text.contains("Genesys Inbound Voice"), "{text}");
    b.shot("02-overview-operator");
    // On a phone: nothing wider than the screen.
    let rect = |w: u32, h: u32| {
        send(
            "POST",
            &b.url("/window/rect"),
            Some(json!({"width": w, "height": h})),
        );
    };
    rect(390, 844);
    let fits =
        b.script("arguments[0](document.documentElement.scrollWidth <= window.innerWidth + 1)");
    assert_eq!(fits, json!(true), "the overview is wider than a phone");
    b.shot("02b-overview-phone");
    rect(1280, 1000);

    // Reports: tenant scope, weekly, other dates, through the form.
    b.click("nav a[href='/console/reports'], header a[href='/console/reports']");
    b.wait_title("Reports");
    b.click("select[name=scope] option[value=tenant]");
    b.type_into("input[name=id]", "acme");
    b.click("select[name=granularity] option[value=weekly]");
    b.script("document.querySelector('input[name=from]').value='2026-10-22';document.querySelector('input[name=to]').value='2026-10-27';arguments[0]()");
    b.click("form.query button[type=submit]");
    b.wait_url("granularity=weekly");
    b.wait_title("Reports");
    let url = b.current();
    for part in [
        "scope=tenant",
        "id=acme",
        "granularity=weekly",
        "from=2026-10-22",
        "to=2026-10-27",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    let text = b.text();
    assert!(text.contains("Tenant acme"), "{text}");
    // Every item: its summary row and its weekly rows (2 weeks).
    assert!(!text.contains("Periods (0 rows)"), "{text}");
    assert!(text.contains("Genesys Inbound Voice"), "{text}");
    b.shot("03-report-weekly");
    // The CSV of this view, fetched by the page itself, against `seatmeter report`.
    let csv = b.script("fetch(document.querySelector('.downloads a[href*=\"format=csv\"]').href).then(r=>r.text()).then(arguments[0])");
    assert_eq!(
        csv.as_str().unwrap(),
        crate::console::acme_weekly_csv(site.path())
    );
    // Right-sizing: approve one recommendation, reject the next with a reason.
    b.click("header a[href='/console/rightsizing']");
    b.wait_title("Right-sizing");
    b.click("form.decide button[value=approve]");
    b.wait_title("Right-sizing");
    b.type_into(
        "form.decide input[name=reason]",
        "seasonal agents come back in December",
    );
    b.click("form.decide button[value=reject]");
    b.wait_title("Right-sizing");
    let text = b.text();
    assert!(
        text.contains("decision log's 2 entries are intact"),
        "{text}"
    );
    assert!(
        text.contains("approved") && text.contains("rejected"),
        "{text}"
    );
    assert!(
        text.contains("seasonal agents come back in December"),
        "{text}"
    );
    assert!(text.contains("ops"), "decided by the token's name: {text}");
    b.shot("04-rightsizing-decided");
    b.click("header a[href='/console/tenants']");
    b.wait_title("Tenants");
    let text = b.text();
    assert!(text.contains("acme") && text.contains("globex"), "{text}");
    b.shot("05-tenants");
    b.click("header a[href='/console/alerts']");
    b.wait_title("Alerts");
    b.shot("06-alerts");
    b.click("header a[href='/console/status']");
    b.wait_title("Status");
    let text = b.text();
    assert!(
        text.contains("Collectors") && text.contains("events"),
        "{text}"
    );
    b.shot("07-status");
    // Sign out.
    b.click("form[action='/logout'] button");
    b.wait_title("Sign in");
    b.go(&format!("{root}/"));
    assert!(
        b.current().contains("/login"),
        "signed out: {}",
        b.current()
    );

    // A tenant, editing the URL towards another tenant.
    b.type_into("input[name=token]", ACME);
    b.click("button[type=submit]");
    b.wait_title("Overview");
    assert!(b.text().contains("Tenant acme"));
    b.shot("08-overview-tenant");
    let nav = b.script("arguments[0](document.querySelector('header').innerText)");
    assert!(!nav.as_str().unwrap().contains("Tenants"), "{nav}");
    b.go(&format!("{root}/console/reports?scope=tenant&id=globex&granularity=daily&from=2026-10-22&to=2026-10-27"));
    let text = b.text();
    assert!(text.contains("may not see that"), "{text}");
    assert!(!text.contains("globex"), "{text}");
    b.shot("09-tenant-refused");
    for path in [
        "/console/reports?scope=system",
        "/console/tenants",
        "/console/rightsizing",
        "/console/status",
    ] {
        b.go(&format!("{root}{path}"));
        assert!(b.text().contains("may not see that"), "{path}");
    }
    eprintln!("console screenshots in {}", b.shots.display());
}
