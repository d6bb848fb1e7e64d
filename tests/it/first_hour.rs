//! What a new user meets in the first hour: logs readable where they go (no colour codes
//! in files and the journal, NO_COLOR honoured), time-zone names checked with a word for
//! legacy ones, `status` times in the site's zone, and a billing export that never passes
//! 0.00 off as a bill.

use std::path::Path;

use chrono::Offset;
use std::process::Output;

use crate::support::{Site, ev, lines, seatmeter};

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A site whose configuration names its time zone `tz`, with a day of events collected
/// and rolled up.
fn site(tz: &str) -> Site {
    let site = Site::simple(tz);
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-05T08:00:00Z",
                "login",
                "acme",
                "a1",
                &["voice"],
                &[],
            ),
            ev("2026-10-05T09:30:00Z", "logout", "acme", "a1", &[], &[]),
        ]),
    );
    site.snapshot(
        "s.xml",
        r#"<ConfigurationSnapshot taken="2026-10-01T00:00:00Z">
  <Tenant name="acme"><Agent id="a1" enabled="true" media="voice"/></Tenant>
</ConfigurationSnapshot>"#,
    );
    site
}

/// `status` on a site whose time zone is EST: a warning is logged.
fn status_with(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_seatmeter"));
    c.current_dir(dir)
        .env_remove("SEATMETER_CONFIG")
        .env_remove("NO_COLOR")
        .env_remove("SEATMETER_LOG_FORMAT")
        .args(["-c", "seatmeter.toml"])
        .args(extra)
        .arg("status");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn logs_carry_no_colour_codes_when_standard_error_is_not_a_terminal() {
    let site = site("EST");
    let text = status_with(site.path(), &[], &[]);
    assert!(text.status.success(), "{}", err(&text));
    let e = err(&text);
    assert!(e.contains("WARN") && e.contains("legacy name"), "{e}");
    assert!(!e.contains('\x1b'), "colour codes in a pipe: {e:?}");

    let json = status_with(site.path(), &["--log-format", "json"], &[]);
    let e = err(&json);
    let line: serde_json::Value = serde_json::from_str(e.lines().next().unwrap()).unwrap();
    assert_eq!(line["level"], "WARN");
    assert!(line["message"].as_str().unwrap().contains("legacy name"));
    assert!(!e.contains('\x1b'), "{e:?}");

    // The journal's format: a syslog priority first, no timestamp (the journal has its
    // own), no colour; also when chosen through the environment, as the unit does.
    let journal = status_with(site.path(), &[], &[("SEATMETER_LOG_FORMAT", "journal")]);
    let e = err(&journal);
    let first = e.lines().next().unwrap();
    assert!(first.starts_with("<4>"), "{e}");
    assert!(
        first.contains("legacy name") && !first.contains("WARN"),
        "{e}"
    );
    assert!(!first.contains("2026-") && !e.contains('\x1b'), "{e}");
}

#[test]
fn errors_in_the_journal_format_are_errors_line_by_line() {
    let site = Site::simple("Europe/Londn");
    let o = status_with(site.path(), &["--log-format", "journal"], &[]);
    assert!(!o.status.success());
    let e = err(&o);
    assert!(
        !e.is_empty() && e.lines().all(|l| l.starts_with("<3>")),
        "{e}"
    );
}

/// Runs `seatmeter status` under a pseudo-terminal (util-linux's `script`), so that standard
/// error is a terminal.
fn status_on_a_terminal(dir: &Path, no_color: Option<&str>) -> Option<String> {
    let mut c = std::process::Command::new("script");
    let bin = env!("CARGO_BIN_EXE_seatmeter");
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("SEATMETER_LOG_FORMAT")
        .args([
            "-qec",
            &format!("{bin} -c seatmeter.toml status"),
            "/dev/null",
        ]);
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let o = c.output().ok()?;
    Some(out(&o))
}

#[test]
fn colour_on_a_terminal_unless_no_color_is_set() {
    let site = site("EST");
    let Some(coloured) = status_on_a_terminal(site.path(), None) else {
        eprintln!(
            "SKIPPED: colour_on_a_terminal_unless_no_color_is_set needs util-linux's `script`"
        );
        assert!(std::env::var("CI").is_err(), "`script` is missing under CI");
        return;
    };
    assert!(coloured.contains("legacy name"), "{coloured}");
    assert!(
        coloured.contains('\x1b'),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = status_on_a_terminal(site.path(), Some("1")).unwrap();
    assert!(plain.contains("legacy name"), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR=1 still coloured: {plain:?}"
    );
}

#[test]
fn time_zone_names_are_checked_with_a_word_for_legacy_ones() {
    for (tz, said) in [
        ("EST", "UTC-05:00 all year, without daylight saving"),
        (
            "UTC+1",
            "fixed offset of UTC+01:00 all year, without daylight saving",
        ),
        ("GMT", "UTC+00:00 all year"),
    ] {
        let o = status_with(site(tz).path(), &[], &[]);
        assert!(o.status.success(), "{tz}: {}", err(&o));
        let e = err(&o);
        assert!(e.contains("seatmeter.toml:1: time zone"), "{tz}: {e}");
        assert!(e.contains(said), "{tz}: {e}");
    }
    let o = status_with(site("Europe/London").path(), &[], &[]);
    assert_eq!(err(&o), "", "an IANA name deserves no word");
    let o = status_with(site("Europe/Londn").path(), &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains(
            "seatmeter.toml:1: unknown time zone \"Europe/Londn\"; did you mean \"Europe/London\"?"
        ),
        "{}",
        err(&o)
    );
}

#[test]
fn status_times_are_rfc_3339_in_the_site_time_zone() {
    let site = site("Europe/London");
    site.collect();
    let o = status_with(site.path(), &[], &[]);
    let text = out(&o);
    // 08:00Z on 2026-10-05 is 09:00 in London (summer time), to the second.
    assert!(
        text.contains("from 2026-10-05T09:00:00+01:00 to 2026-10-05T10:30:00+01:00"),
        "{text}"
    );
    let last = text
        .split("last success ")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .unwrap();
    let parsed = chrono::DateTime::parse_from_rfc3339(last).unwrap();
    assert_eq!(last.len(), "2026-12-03T08:00:00+00:00".len(), "{last}");
    let london = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .offset()
        .fix();
    assert_eq!(parsed.offset().local_minus_utc(), london.local_minus_utc());
}

#[test]
fn billing_without_prices_is_refused_unless_quantities_only() {
    let site = site("Europe/London");
    site.collect_and_rollup();
    let bills = site.path().join("bills");
    let args = [
        "-c",
        "seatmeter.toml",
        "export",
        "billing",
        "--month",
        "2026-10",
        "--out",
        "bills",
    ];
    let o = seatmeter(site.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("no prices are configured"), "{}", err(&o));
    assert!(err(&o).contains("--quantities-only"), "{}", err(&o));
    assert!(!bills.exists(), "nothing written");

    let o = seatmeter(site.path(), &[&args[..], &["--quantities-only"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("quantities only"), "{}", err(&o));
    assert!(
        out(&o).contains("quantities only, no prices configured"),
        "{}",
        out(&o)
    );
    let month =
        std::fs::read_to_string(bills.join("seatmeter-billing-2026-10-tenant-acme.csv")).unwrap();
    let mut r = csv::Reader::from_reader(month.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let voice = rows.iter().find(|r| &r[2] == "Voice").unwrap();
    assert_eq!(&voice[4], "1", "the quantities are there: {month}");
    assert!(rows.iter().all(|r| r[13].is_empty()), "no amount: {month}");
    let summary =
        std::fs::read_to_string(bills.join("seatmeter-billing-2026-10-summary.csv")).unwrap();
    assert!(!summary.contains("0.00"), "{summary}");
}
