//! Guardrails on the demo site, whose growing tenant `umbrella` has known answers
//! (docs/GUARDRAILS.md): 4 + ⌊2k/5⌋ agents on day k of 35, and 22 on the last day — a
//! baseline breach of a known mean, a forecast crossing of a known day — and an e-mail
//! add-on expiring 25 days from today; shown in the demo, `guardrails`, `license check`,
//! `status` and the tenant's PDF, which names no other tenant and no server path.

use std::path::Path;

use chrono::{Days, NaiveDate};

use crate::support::{pdftotext, seatmeter};

const START: &str = "2026-10-05";
const DAYS: u32 = 35;

fn umbrella(k: u32) -> u32 {
    if k + 1 == DAYS { 22 } else { 4 + (2 * k) / 5 }
}

fn day(k: u32) -> String {
    (START.parse::<NaiveDate>().unwrap() + Days::new(k as u64)).to_string()
}

fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["-c", "site/seatmeter.toml"];
    all.extend_from_slice(args);
    let o = seatmeter(dir, &all);
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

#[test]
fn the_demo_s_guardrails_have_the_known_answers_everywhere_they_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["demo", "--dir", "site"]);
    let demo = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{demo}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let last = day(DAYS - 1);
    for want in [
        format!("[baseline] Genesys Inbound Voice of tenant umbrella: 22 seats on {last}"),
        "[forecast-30d] Genesys Inbound Voice of tenant umbrella: expected to exceed its 25 seats"
            .to_string(),
        "[expiry] DESKTOP_EMAIL (genesys.d, 10 seats) expires on".to_string(),
        "would send ".to_string(),
    ] {
        assert!(demo.contains(&want), "{want}\n{demo}");
    }
    // The Slack template's body, as it would be posted.
    assert!(demo.contains("→ ops-chat (fired, key "), "{demo}");
    assert!(demo.contains("{\"text\":\""), "{demo}");

    // The baseline of each of the last five days: the mean of the 30 days before it, and
    // a breach exactly when the day is above the mean by more than 15 %.
    for k in DAYS - 5..DAYS {
        let sum: u32 = (k - 30..k).map(umbrella).sum();
        let mean = sum as f64 / 30.0;
        let (ok, json) = run(
            dir.path(),
            &[
                "guardrails",
                "breaches",
                "--scope",
                "tenant",
                "--id",
                "umbrella",
                "--from",
                &day(k),
                "--format",
                "json",
            ],
        );
        assert!(ok, "{json}");
        let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert!(
            rows.iter()
                .all(|r| r["scope_id"] == "umbrella" && r["day"] == day(k).as_str()),
            "{json}"
        );
        let voice = rows
            .iter()
            .find(|r| r["item"] == "Genesys Inbound Voice" && r["kind"] == "above_baseline");
        let breach = 100 * umbrella(k) * 30 > 115 * sum;
        assert_eq!(
            voice.is_some(),
            breach,
            "day {k}: {} against {mean}\n{json}",
            umbrella(k)
        );
        if let Some(v) = voice {
            assert_eq!(v["measured"], umbrella(k));
            assert!(
                (v["baseline_mean"].as_f64().unwrap() - mean).abs() < 1e-9,
                "{mean} {json}"
            );
            assert!((v["band_high"].as_f64().unwrap() - mean * 1.15).abs() < 1e-9);
        }
    }

    // The forecast: the line 4 + 0.4k crosses 25 seats at k = 53; that day is inside the
    // forecast's interval, and the interval is ordered.
    let (ok, json) = run(
        dir.path(),
        &[
            "guardrails",
            "forecast",
            "--scope",
            "tenant",
            "--id",
            "umbrella",
            "--as-of",
            &last,
            "--format",
            "json",
        ],
    );
    assert!(ok, "{json}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let f = rows
        .iter()
        .find(|r| r["item"] == "Genesys Inbound Voice")
        .unwrap_or_else(|| panic!("{json}"));
    let date = |k: &str| {
        f[k].as_str()
            .unwrap_or_else(|| panic!("{k}: {json}"))
            .to_string()
    };
    let truth = day(53);
    assert!(
        date("exceeds_earliest") <= truth && truth <= date("exceeds_latest"),
        "{truth} {json}"
    );
    assert!(
        date("exceeds_earliest") <= date("exceeds_on")
            && date("exceeds_on") <= date("exceeds_latest")
    );
    assert!(date("exceeds_on") > last);
    the_console_draws_the_forecast(&dir.path().join("site"), f);

    // The expiry, 25 days from today, in `license check` and `status`.
    let today = chrono::Local::now().date_naive();
    let ends = (today + Days::new(25)).to_string();
    for args in [
        &["license", "check", "site/license.dat"][..],
        &["status"][..],
    ] {
        let (_, text) = run(dir.path(), args);
        assert!(text.contains("DESKTOP_EMAIL"), "{args:?}\n{text}");
        assert!(text.contains(&ends), "{ends} in {args:?}\n{text}");
    }

    // umbrella's own PDF: its guardrails page, and nobody else's names, nor paths.
    let pdf = dir.path().join("umbrella.pdf");
    let (_, out) = run(
        dir.path(),
        &[
            "report",
            "--scope",
            "tenant",
            "--id",
            "umbrella",
            "--granularity",
            "daily",
            "--from",
            START,
            "--to",
            &last,
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(pdf.exists(), "{out}");
    let Some(text) = pdftotext(&pdf) else { return };
    assert!(text.contains("Guardrails"), "{text}");
    assert!(text.contains("above baseline"), "{text}");
    assert!(text.contains("Forecast as of"), "{text}");
    for other in [
        "acme",
        "globex",
        "nordwind",
        "initech",
        "DESKTOP_EMAIL",
        "/tmp",
        dir.path().to_str().unwrap(),
    ] {
        assert!(!text.contains(other), "{other} in umbrella's PDF");
    }
}

/// umbrella's console overview draws its Voice forecast after the 30 days, ending on the
/// numbers `guardrails forecast` gives for the horizon's last day; no other tenant's.
fn the_console_draws_the_forecast(site: &Path, f: &serde_json::Value) {
    const TOKEN: &str = "smt_umbrella-token-for-tests";
    let hash = crate::service_auth::sha256(TOKEN);
    let config = site.join("seatmeter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{text}\n[service]\nlisten = \"127.0.0.1:0\"\n\n[[service.token]]\nname = \"umbrella-portal\"\nsha256 = \"{hash}\"\ntenant = \"umbrella\"\n"
        ),
    )
    .unwrap();
    let srv = crate::service_auth::serve(site);
    let session = crate::console::sign_in(srv.addr, TOKEN);
    let (status, _, page) = crate::console::http(srv.addr, "GET", "/", Some(&session), None);
    assert_eq!(status, 200, "{page}");
    let at = page
        .find(r#"<section class="card" aria-label="Genesys Inbound Voice">"#)
        .unwrap_or_else(|| panic!("{page}"));
    let card = &page[at..at + page[at..].find("</section>").unwrap()];
    assert_eq!(card.matches(r#"class="forecast""#).count(), 1, "{card}");
    assert_eq!(
        card.matches(r#"class="forecast-band""#).count(),
        1,
        "{card}"
    );
    let n = |k: &str| f[k].as_f64().unwrap();
    let tip = format!(
        "forecast: {:.0} ({:.0}–{:.0}) on the last day shown",
        n("peak_in_horizon"),
        n("peak_in_horizon_low"),
        n("peak_in_horizon_high")
    );
    assert!(card.contains(&tip), "{tip}\n{card}");
    for other in ["acme", "globex", "nordwind", "initech"] {
        assert!(!page.contains(other), "{other} on umbrella's overview");
    }
}
