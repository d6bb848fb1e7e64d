//! PDF reports, read back with `pdftotext` (Debian's poppler-utils; `.ci/run` installs it).
//! Without it, these tests say they were skipped.

use std::path::Path;
use std::process::Command;

use seatmeter::dev::sitegen::{SiteSpec, generate};
use seatmeter_core::Granularity;
use seatmeter_reports::pdf::period_label;
use sha2::{Digest, Sha256};

use crate::support::{Site, pdftotext, split};

fn site() -> Site {
    let site = Site::simple("UTC");
    let mut spec = SiteSpec::demo();
    spec.agents = 36;
    spec.days = 9;
    spec.start = chrono::NaiveDate::from_ymd_opt(2026, 10, 22).unwrap();
    generate(&spec, site.path()).unwrap();
    site.collect_and_rollup();
    site
}

fn pdf(site: &Site, args: &[&str], out: &str, epoch: &str) -> std::path::PathBuf {
    let path = site.path().join(out);
    let o = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site.path())
        .env("SOURCE_DATE_EPOCH", epoch)
        .args([
            "-c",
            "seatmeter.toml",
            "report",
            "--format",
            "pdf",
            "--out",
            out,
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    path
}

/// Every row of the CSV is in the PDF's row tables, in order: its period, its item and its
/// numbers on one line.
fn assert_rows_in(text: &str, csv: &str, granularity: Granularity) {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    for row in csv.lines().skip(1) {
        let f = split(row);
        let label = period_label(granularity, &f[3], &f[4]);
        let numbers: Vec<&str> = [&f[6], &f[7], &f[8]]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .collect();
        let found = lines[at..].iter().position(|l| {
            let Some(rest) = l.trim_start().strip_prefix(label.as_str()) else {
                return false;
            };
            let Some(rest) = rest.trim_start().strip_prefix(f[5].as_str()) else {
                return false;
            };
            // The peak's instant (date, time, offset) follows the peak: not a number.
            let tokens: Vec<&str> = rest
                .split_whitespace()
                .filter(|t| !(t.contains(':') || (t.len() == 10 && t.as_bytes()[4] == b'-')))
                .collect();
            tokens.len() >= numbers.len()
                && tokens[..numbers.len()] == numbers[..]
                && (f[9] == "true") == rest.contains("OVER-USE")
        });
        match found {
            Some(i) => at += i + 1,
            None => panic!(
                "row not found in the PDF after line {at}: {row}\n(looking for {label:?} {:?} {numbers:?})\n{}",
                f[5],
                lines[at..(at + 12).min(lines.len())].join("\n")
            ),
        }
    }
}

#[test]
fn every_csv_row_and_number_is_in_the_pdf_in_any_script() {
    let site = site();
    let path = pdf(
        &site,
        &[
            "--scope",
            "group",
            "--granularity",
            "daily",
            "--from",
            "2026-10-22",
            "--to",
            "2026-10-30",
        ],
        "groups.pdf",
        "1790000000",
    );
    let Some(text) = pdftotext(&path) else { return };
    let csv = site.report("group", "daily", "2026-10-22", "2026-10-30");
    assert!(csv.lines().count() > 100);
    assert_rows_in(&text, &csv, Granularity::Daily);
    // Names outside Windows-1252 print, and are extracted as written.
    for name in [
        "Group nordwind/日本語サポート",
        "Group nordwind/Łódź Desk",
        "Group nordwind/Überweisungen",
        "Group globex/Réclamations",
    ] {
        assert!(text.contains(name), "{name} in the PDF text");
    }
    // The cover block.
    for want in [
        "License compliance report",
        "Group report",
        "Europe/London",
        "Generated 2026-09-21 14:13:20 UTC",
        "SHA-256",
        "Genesys Workforce Management",
    ] {
        assert!(text.contains(want), "{want}");
    }
}

#[test]
fn page_numbers_digest_and_identical_bytes() {
    let site = site();
    let args = [
        "--scope",
        "system",
        "--granularity",
        "hourly",
        "--from",
        "2026-10-22",
        "--to",
        "2026-10-30",
    ];
    let a = pdf(&site, &args, "a.pdf", "1790000000");
    let b = pdf(&site, &args, "b.pdf", "1790000000");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same data, same command: same bytes"
    );
    let c = pdf(&site, &args, "c.pdf", "1790000001");
    assert_ne!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&c).unwrap(),
        "the generation time is printed"
    );
    let Some(text) = pdftotext(&a) else { return };
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    let n = pages.len();
    assert!(n > 10, "a multi-page report: {n} pages");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("page {} of {n}", i + 1)),
            "page {} of {n}",
            i + 1
        );
        assert!(
            page.contains("System report · 2026-10-22 to 2026-10-30"),
            "header on page {}",
            i + 1
        );
    }
    // The digest on the last page is the SHA-256 of the CSV of the same report.
    let csv = site.report("system", "hourly", "2026-10-22", "2026-10-30");
    let digest = seatmeter_core::hex(&Sha256::digest(csv.as_bytes()));
    let last = pages[n - 1];
    assert!(
        last.contains(&format!("SHA-256 of the report rows (CSV): {digest}")),
        "digest {digest} on the last page"
    );
    assert!(!pages[0].contains(&digest), "only on the last page");
    assert_rows_in(&text, &csv, Granularity::Hourly);
    // The check can fail: one number changed, the row is not found.
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    let i = lines
        .iter()
        .position(|l| l.contains(",Genesys Inbound Voice,") && !l.contains(",0,"))
        .unwrap();
    let mut f = split(&lines[i]);
    f[6] = (f[6].parse::<u64>().unwrap() + 1).to_string();
    lines[i] = f.join(",");
    let altered = lines.join("\n");
    assert!(
        std::panic::catch_unwind(|| assert_rows_in(&text, &altered, Granularity::Hourly)).is_err()
    );
}

#[test]
fn over_use_is_marked_in_words_and_listed() {
    // The worked example: Email is over-used from 01:05 GMT.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worked-example");
    let site = Site::simple("Europe/London");
    for f in [
        "seatmeter.toml",
        "license.dat",
        "spool/a.jsonl",
        "config-snapshots/s.xml",
    ] {
        std::fs::copy(src.join(f), site.path().join(f)).unwrap();
    }
    site.collect_and_rollup();
    let path = pdf(
        &site,
        &[
            "--scope",
            "tenant",
            "--granularity",
            "hourly",
            "--from",
            "2026-10-25",
        ],
        "t.pdf",
        "1790000000",
    );
    let Some(text) = pdftotext(&path) else { return };
    assert!(text.contains("OVER-USE"));
    // The over-use instance: item, period, measured, entitled, excess.
    let line = text
        .lines()
        .find(|l| {
            l.contains("Email") && l.contains("+1") && l.contains("2026-10-25T01:00:00+00:00")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.split_whitespace()
            .collect::<Vec<_>>()
            .ends_with(&["2", "1", "+1"]),
        "{line}"
    );
    // Contents, and the stray logout of `nobody` among the anomalies.
    assert!(text.contains("Contents"));
    assert!(
        text.lines()
            .any(|l| l.contains("Tenant acme") && l.contains("OVER-USE"))
    );
    assert!(
        text.lines()
            .any(|l| l.contains("2026-10-25T01:30:00+00:00") && l.contains("nobody")),
        "{text}"
    );
    let csv = site.report("tenant", "hourly", "2026-10-25", "2026-10-25");
    assert_rows_in(&text, &csv, Granularity::Hourly);
}

/// The utilization of an item is its largest ratio on one day, with that day: never the
/// period's peak against another day's entitlement.
#[test]
fn utilization_is_the_largest_daily_ratio_with_its_day() {
    use crate::support::{VOICE_EMAIL, ev, lines};
    // Voice: 4 seats on 20 October (1 permanent + 3 to the end of that day), 1 after.
    let site = Site::new(
        "UTC",
        VOICE_EMAIL,
        "INCREMENT V genesys.d 8.5 permanent 1\nINCREMENT V genesys.d 8.5 20-oct-2026 3\n\
         INCREMENT E genesys.d 8.5 permanent 1\n",
    );
    let mut evs = Vec::new();
    // 20 October: 3 agents at once (3 of 4: 75 %); 21 October: 1 agent (1 of 1: 100 %).
    for a in ["a1", "a2", "a3"] {
        evs.push(ev(
            "2026-10-20T09:00:00Z",
            "login",
            "acme",
            a,
            &["voice"],
            &[],
        ));
        evs.push(ev(
            "2026-10-20T10:00:00Z",
            "logout",
            "acme",
            a,
            &["voice"],
            &[],
        ));
    }
    evs.push(ev(
        "2026-10-21T09:00:00Z",
        "login",
        "acme",
        "a1",
        &["voice"],
        &[],
    ));
    evs.push(ev(
        "2026-10-21T10:00:00Z",
        "logout",
        "acme",
        "a1",
        &["voice"],
        &[],
    ));
    site.spool("a.jsonl", &lines(&evs));
    site.collect_and_rollup();
    let args = [
        "--scope",
        "system",
        "--granularity",
        "daily",
        "--from",
        "2026-10-20",
        "--to",
        "2026-10-21",
        "--allow-incomplete",
    ];
    let path = site.path().join("u.pdf");
    let o = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site.path())
        .args([
            "-c",
            "seatmeter.toml",
            "report",
            "--format",
            "pdf",
            "--out",
            "u.pdf",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c == 0 || c == 3), "{o:?}");
    let Some(text) = pdftotext(&path) else { return };
    let voice = text
        .lines()
        .find(|l| l.trim_start().starts_with("Voice") && l.contains(" %"))
        .unwrap_or_else(|| panic!("no summary line of Voice in\n{text}"));
    // Peak 3, entitled (smallest day) 1: the old ratio, 300 %, never happened.
    assert!(voice.contains("100 % on 2026-10-21"), "{voice}");
    assert!(!voice.contains("300 %"), "{voice}");
    let email = text
        .lines()
        .find(|l| l.trim_start().starts_with("Email") && l.contains(" %"))
        .unwrap();
    assert!(email.contains(" 0 %"), "no e-mail use: {email}");
    assert!(
        text.contains("the largest ratio, on any one"),
        "the legend says so"
    );
}

/// The document's dates are its generation time: SOURCE_DATE_EPOCH when set, else now.
#[test]
fn pdf_metadata_dates_are_the_generation_time() {
    let site = site();
    let args = [
        "--scope",
        "system",
        "--granularity",
        "daily",
        "--from",
        "2026-10-22",
        "--to",
        "2026-10-30",
    ];
    let info = |path: &Path| -> Option<String> {
        match Command::new("pdfinfo").arg("-isodates").arg(path).output() {
            Ok(o) => Some(String::from_utf8(o.stdout).unwrap()),
            Err(_) => {
                seatmeter_core::testing::skip("PDF metadata", "pdfinfo is not installed");
                None
            }
        }
    };
    let fixed = pdf(&site, &args, "fixed.pdf", "1790000000");
    let Some(text) = info(&fixed) else { return };
    // 1790000000 s = 2026-09-21T14:13:20Z
    for key in ["CreationDate:", "ModDate:"] {
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        assert!(line.contains("2026-09-21T14:13:20"), "{line}");
    }
    let now_path = site.path().join("now.pdf");
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(2);
    let o = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .args([
            "-c",
            "seatmeter.toml",
            "report",
            "--format",
            "pdf",
            "--out",
            "now.pdf",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let text = info(&now_path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("CreationDate:"))
        .unwrap();
    let when = chrono::DateTime::parse_from_rfc3339(line["CreationDate:".len()..].trim())
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    assert!(
        before <= when && when <= after,
        "{when} not between {before} and {after}"
    );
}
