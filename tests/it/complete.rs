//! A report never looks complete when it is not: days not rolled up, license files that
//! cannot be read, collectors that never collected make `report` and `export billing`
//! refuse, unless `--allow-incomplete` is given; then the report says so where its numbers
//! are (first lines of a table, first page of a PDF, a side file beside --out).

use std::path::Path;

use crate::support::{Site, ev, lines, seatmeter};

const DAY: &str = "2026-01-05";

/// The exit status (3: written, but incomplete), standard output and standard error.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = seatmeter(dir, args);
    (
        o.status.code().expect("exited"),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn report(site: &Site, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "report",
        "--scope",
        "system",
        "--granularity",
        "daily",
        "--from",
        DAY,
        "--to",
        DAY,
    ];
    args.extend_from_slice(extra);
    run(site.path(), &args)
}

fn site() -> Site {
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                &format!("{DAY}T09:00:00Z"),
                "login",
                "a",
                "x",
                &["voice"],
                &[],
            ),
            ev(&format!("{DAY}T10:00:00Z"), "logout", "a", "x", &[], &[]),
        ]),
    );
    site
}

#[test]
fn a_report_of_days_not_rolled_up_is_refused_unless_allowed() {
    let site = site();
    assert!(run(site.path(), &["collect", "--once"]).0 == 0);
    let out = site.path().join("r.csv");
    let out_s = out.to_str().unwrap();
    let (code, _, err) = report(&site, &["--out", out_s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing is rolled up yet"), "{err}");
    assert!(err.contains("--allow-incomplete"), "{err}");
    assert!(!out.exists(), "a refused report writes nothing");
    // Allowed: written, with its gaps beside it.
    let (code, _, err) = report(&site, &["--out", out_s, "--allow-incomplete"]);
    assert_eq!(code, 3, "written, but incomplete: {err}");
    assert!(out.exists());
    let side = site.path().join("r.csv.incomplete.json");
    let gaps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&side).unwrap()).unwrap();
    assert_eq!(gaps["complete"], false);
    assert!(
        gaps["gaps"][0]
            .as_str()
            .unwrap()
            .contains("nothing is rolled up yet")
    );
    // A table says it first.
    let (code, table, _) = report(&site, &["--format", "table", "--allow-incomplete"]);
    assert_eq!(code, 3);
    assert!(
        table.starts_with("INCOMPLETE REPORT: nothing is rolled up yet"),
        "{table}"
    );
    // Rolled up: complete, and the side file of the earlier run goes.
    assert!(run(site.path(), &["rollup"]).0 == 0);
    let (code, _, err) = report(&site, &["--out", out_s]);
    assert_eq!(code, 0, "{err}");
    assert!(!side.exists());
    // Late data for the day: refused again, naming the day; a report of other days is
    // complete.
    site.spool(
        "b.jsonl",
        &lines(&[ev(
            &format!("{DAY}T11:00:00Z"),
            "login",
            "a",
            "y",
            &["voice"],
            &[],
        )]),
    );
    assert!(run(site.path(), &["collect", "--once"]).0 == 0);
    let (code, _, err) = report(&site, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("data for 1 day(s) of the report (2026-01-05 to 2026-01-05)"),
        "{err}"
    );
    let (code, _, err) = run(
        site.path(),
        &[
            "report",
            "--scope",
            "system",
            "--granularity",
            "daily",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-04",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_incomplete_pdf_says_so_on_its_first_page() {
    let site = site();
    assert!(run(site.path(), &["collect", "--once"]).0 == 0);
    let pdf = site.path().join("r.pdf");
    let (code, _, err) = report(
        &site,
        &[
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
            "--allow-incomplete",
        ],
    );
    assert_eq!(code, 3, "written, but incomplete: {err}");
    let Ok(o) = std::process::Command::new("pdftotext")
        .args(["-f", "1", "-l", "1", "-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
    else {
        seatmeter_core::testing::skip(
            "the incomplete PDF's first page",
            "pdftotext is not installed",
        );
        return;
    };
    let page1 = String::from_utf8_lossy(&o.stdout);
    assert!(page1.contains("INCOMPLETE REPORT"), "{page1}");
    assert!(page1.contains("nothing is rolled up yet"), "{page1}");
}

#[test]
fn a_license_file_that_cannot_be_read_makes_the_report_incomplete_and_a_bom_is_fine() {
    let site = site();
    // A byte-order mark before the first line of the license file and of the spool file.
    std::fs::write(
        site.path().join("license.dat"),
        "\u{feff}INCREMENT V genesys.d 8.5 permanent 1\nINCREMENT E genesys.d 8.5 permanent 1\n",
    )
    .unwrap();
    site.spool(
        "bom.jsonl",
        &format!(
            "\u{feff}{}",
            lines(&[
                ev(
                    &format!("{DAY}T09:30:00Z"),
                    "login",
                    "a",
                    "z",
                    &["voice"],
                    &[]
                ),
                ev(&format!("{DAY}T09:40:00Z"), "logout", "a", "z", &[], &[]),
            ])
        ),
    );
    site.collect_and_rollup();
    let (code, csv, err) = report(&site, &[]);
    assert_eq!(code, 0, "{err}");
    // Two agents at once against 1 seat: over-use, judged from the license with a BOM.
    let voice = csv.lines().find(|l| l.contains(",Voice,")).unwrap();
    assert!(voice.ends_with(",Voice,2,,1,true"), "{voice}");
    // A license file with a bad line: refused; allowed, no entitlement and no over-use.
    std::fs::write(
        site.path().join("license.dat"),
        "INCREMENT V genesys.d 8.5 permanent one\n",
    )
    .unwrap();
    let (code, _, err) = report(&site, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("license file not used") && err.contains("license.dat:1"),
        "{err}"
    );
    let (code, csv, err) = report(&site, &["--allow-incomplete"]);
    assert_eq!(code, 3, "written, but incomplete: {err}");
    assert!(
        err.contains("warning: incomplete: license file not used"),
        "{err}"
    );
    let voice = csv.lines().find(|l| l.contains(",Voice,")).unwrap();
    assert!(voice.ends_with(",Voice,2,,,false"), "{voice}");
}

#[test]
fn a_collector_that_never_collected_makes_reports_and_bills_incomplete() {
    let site = site();
    site.collect_and_rollup();
    assert!(report(&site, &[]).0 == 0);
    std::fs::create_dir_all(site.path().join("more")).unwrap();
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace(
            "[license]",
            "[[collector]]\nname = \"later\"\nkind = \"spool\"\npath = \"more\"\n\n[license]",
        ),
    )
    .unwrap();
    let (code, _, err) = report(&site, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("collector later (spool) has never collected"),
        "{err}"
    );
    let bills = site.path().join("bills");
    let (code, _, err) = run(
        site.path(),
        &[
            "export",
            "billing",
            "--quantities-only",
            "--month",
            "2026-01",
            "--out",
            bills.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("the month's numbers would be incomplete"),
        "{err}"
    );
    assert!(!bills.exists());
    let (code, _, err) = run(
        site.path(),
        &[
            "export",
            "billing",
            "--quantities-only",
            "--month",
            "2026-01",
            "--out",
            bills.to_str().unwrap(),
            "--allow-incomplete",
        ],
    );
    assert_eq!(code, 3, "written, but incomplete: {err}");
    let note =
        std::fs::read_to_string(bills.join("seatmeter-billing-2026-01-INCOMPLETE.txt")).unwrap();
    assert!(
        note.contains("collector later (spool) has never collected"),
        "{note}"
    );
    let manifest =
        std::fs::read_to_string(bills.join("seatmeter-billing-2026-01-manifest.sha256")).unwrap();
    assert!(manifest.contains("seatmeter-billing-2026-01-INCOMPLETE.txt"));
    // Once it has collected, complete again.
    assert!(run(site.path(), &["collect", "--once"]).0 == 0);
    assert!(report(&site, &[]).0 == 0);
}

/// Issue 12 (low): after an interrupted first rollup, `report` claimed that the time zone
/// or the items had changed. Now it says what is true: days of the report are not rolled
/// up yet; and the next rollup completes them.
#[test]
fn an_interrupted_first_rollup_leaves_an_incomplete_report_not_a_changed_configuration() {
    let site = Site::simple("UTC");
    let mut events = Vec::new();
    for day in ["2026-01-05", "2026-01-06", "2026-01-07"] {
        events.push(ev(
            &format!("{day}T09:00:00Z"),
            "login",
            "a",
            "x",
            &["voice"],
            &[],
        ));
        events.push(ev(
            &format!("{day}T10:00:00Z"),
            "logout",
            "a",
            "x",
            &[],
            &[],
        ));
    }
    site.spool("a.jsonl", &lines(&events));
    assert_eq!(run(site.path(), &["collect", "--once"]).0, 0);
    // The first rollup stops (as if killed) after its first day is stored.
    let config = site.config();
    let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut store = seatmeter_store::open(&config.store).unwrap();
        seatmeter::rollup::Rollup::new(store.as_mut(), &config)
            .run(seatmeter::rollup::Days::Changed, &mut |_| panic!("killed"))
            .unwrap();
    }));
    assert!(cut.is_err());
    let week = [
        "report",
        "--scope",
        "system",
        "--granularity",
        "daily",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-07",
    ];
    let (code, _, err) = run(site.path(), &week);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("changed since the last rollup"), "{err}");
    assert!(err.contains("run `seatmeter rollup`"), "{err}");
    assert_eq!(run(site.path(), &["rollup"]).0, 0);
    let (code, csv, err) = run(site.path(), &week);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        csv.lines().count(),
        1 + 3 * 2,
        "three days of two items: {csv}"
    );
}
