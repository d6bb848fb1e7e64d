//! Which rules' conditions hold, on inputs with known answers.

use seatmeter_alerts::{Condition, Rule};
use seatmeter_core::{Day, Entitled};
use seatmeter_guard::{ExpiryWarning, Guard};

use super::{CollectorHealth, Inputs, findings};
use crate::guard::expiry::Expiring;
use crate::guard::live::{LiveUsage, LiveValue};
use crate::guard::series::Series;

fn rule(condition: Condition, tenants: &[&str]) -> Rule {
    Rule {
        name: "r".into(),
        condition,
        items: Vec::new(),
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        within_days: 30,
        intervals: 3,
        channels: vec!["chat".into()],
    }
}

fn live(tenant: Option<&str>, peak: u64, entitled: u64) -> LiveValue {
    LiveValue {
        tenant: tenant.map(str::to_string),
        item: "Voice".into(),
        named: false,
        in_use: peak,
        peak_today: peak,
        enabled: 0,
        entitled: Some(Entitled::Seats(entitled)),
    }
}

const AS_OF: Day = 20_400;

/// `days` days up to AS_OF, growing by `slope` a day from `start`, entitled `ent`.
fn series(tenant: Option<&str>, start: f64, slope: f64, days: i32, ent: u64) -> Series {
    Series {
        tenant: tenant.map(str::to_string),
        item: "Voice".into(),
        days: (0..days)
            .map(|k| {
                let d = AS_OF - days + 1 + k;
                let v = (start + slope * k as f64).round() as u64;
                (d, v, Some(Entitled::Seats(ent)))
            })
            .collect(),
    }
}

#[test]
fn over_use_now_is_the_live_peak_above_today_s_entitlement_of_each_scope_it_covers() {
    let inputs = Inputs {
        live: Some(LiveUsage {
            at: 0,
            values: vec![
                live(None, 50, 60),
                live(Some("acme"), 31, 30),
                live(Some("globex"), 30, 30),
            ],
            tenants_left_out: 0,
        }),
        ..Inputs::default()
    };
    let all = findings(
        &[rule(Condition::OverUse, &[])],
        &Guard::default(),
        [70, 95],
        &inputs,
    );
    let subjects: Vec<&str> = all.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["tenant=acme|Voice"], "30 of 30 is not over-use");
    assert!(
        all[0]
            .summary
            .contains("31 seats in use at once today, over the 30 entitled")
    );
    // A rule for globex sees neither acme nor the site-wide values.
    let g = findings(
        &[rule(Condition::OverUse, &["globex"])],
        &Guard::default(),
        [70, 95],
        &inputs,
    );
    assert!(g.is_empty(), "{g:?}");
}

#[test]
fn a_forecast_alerts_within_its_days_and_not_for_what_is_already_over() {
    let guard = Guard::default();
    // 60 days from 20 to 79 seats (AS_OF), one more a day, 85 entitled.
    let near = series(Some("acme"), 20.0, 1.0, 60, 85);
    // Far: 0.1 a day from 20, 200 entitled: not within 30 days.
    let far = series(Some("globex"), 20.0, 0.1, 60, 200);
    // Already over: 79 seats against 50.
    let over = series(Some("initech"), 20.0, 1.0, 60, 50);
    let inputs = Inputs {
        as_of: Some(AS_OF),
        series: vec![near, far, over],
        ..Inputs::default()
    };
    let f = findings(&[rule(Condition::Forecast, &[])], &guard, [70, 95], &inputs);
    let subjects: Vec<&str> = f.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["tenant=acme|Voice"], "{f:?}");
    let date = f[0].details["date"].as_str().unwrap();
    // AS_OF is k = 59; 20 + k is above 85 from k = 66 on: 7 days after AS_OF.
    assert_eq!(
        date,
        seatmeter_core::Calendar::date_text(AS_OF + 7),
        "{}",
        f[0].summary
    );
}

#[test]
fn a_baseline_breach_is_the_last_day_above_the_band_of_the_days_before_it() {
    let mut s = series(None, 100.0, 0.0, 31, 500);
    // 115 over a mean of 100 at 15 %: not a breach; 116 is.
    s.days.last_mut().unwrap().1 = 115;
    let inputs = Inputs {
        as_of: Some(AS_OF),
        series: vec![s.clone()],
        ..Inputs::default()
    };
    let r = [rule(Condition::BaselineBreach, &[])];
    assert!(findings(&r, &Guard::default(), [0, 100], &inputs).is_empty());
    s.days.last_mut().unwrap().1 = 116;
    let inputs = Inputs {
        as_of: Some(AS_OF),
        series: vec![s],
        ..Inputs::default()
    };
    let f = findings(&r, &Guard::default(), [0, 100], &inputs);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].details["measured"], 116);
}

#[test]
fn a_collector_alerts_after_its_intervals_of_failure_and_never_to_a_tenant_rule() {
    let inputs = Inputs {
        collectors: Some(vec![
            CollectorHealth {
                name: "events".into(),
                failures_in_a_row: 3,
                last_error: Some("/var/spool: permission denied".into()),
            },
            CollectorHealth {
                name: "cfg".into(),
                failures_in_a_row: 2,
                last_error: None,
            },
        ]),
        ..Inputs::default()
    };
    let f = findings(
        &[rule(Condition::CollectorFailing, &[])],
        &Guard::default(),
        [70, 95],
        &inputs,
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].subject, "collector=events");
    let t = findings(
        &[rule(Condition::CollectorFailing, &["acme"])],
        &Guard::default(),
        [70, 95],
        &inputs,
    );
    assert!(t.is_empty(), "server paths never reach a tenant's rule");
}

#[test]
fn an_expiry_keeps_its_subject_when_the_file_is_edited_and_a_tenant_s_names_no_path() {
    let warn = |days_left: i32, threshold: u32| ExpiryWarning {
        expires: AS_OF + days_left,
        days_left,
        threshold: Some(threshold),
        expired: false,
    };
    let e = |origin: &str, tenant: Option<&str>| Expiring {
        origin: origin.into(),
        feature: "Voice".into(),
        vendor: "entitlement".into(),
        tenant: tenant.map(str::to_string),
        seats: Some(10),
        warning: warn(20, 30),
    };
    let r = [rule(Condition::Expiry, &[])];
    let at = |origin: &str| {
        let inputs = Inputs {
            expiring: vec![e(origin, Some("acme"))],
            ..Inputs::default()
        };
        findings(&r, &Guard::default(), [70, 95], &inputs)
    };
    let (a, b) = (
        at("/etc/seatmeter/ent.xml:12"),
        at("/etc/seatmeter/ent.xml:14"),
    );
    assert_eq!(a[0].subject, b[0].subject);
    assert!(a[0].subject.ends_with("|30d"), "{}", a[0].subject);
    assert!(!a[0].summary.contains("/etc/"), "{}", a[0].summary);
    assert!(a[0].summary.contains("of tenant acme"), "{}", a[0].summary);
    // The system's names the file, for the operator.
    let inputs = Inputs {
        expiring: vec![e("/etc/seatmeter/license.dat:3", None)],
        ..Inputs::default()
    };
    let s = findings(&r, &Guard::default(), [70, 95], &inputs);
    assert!(s[0].summary.contains("/etc/seatmeter/license.dat:3"));
}
