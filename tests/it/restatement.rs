//! Restatements (docs/SEMANTICS.md, "Restatements"): late data that changes a day already
//! rolled up is recorded, day, scope, item, old and new value, and shown by `status`, by the
//! reports of those days and by the billing summary of their month.

use crate::support::{Site, ev, lines, pdftotext, seatmeter};

#[test]
fn late_data_for_a_rolled_up_day_is_recorded_and_shown() {
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-20T09:00:00Z",
                "login",
                "acme",
                "x",
                &["voice"],
                &[],
            ),
            ev("2026-10-20T10:00:00Z", "logout", "acme", "x", &[], &[]),
            ev(
                "2026-10-21T09:00:00Z",
                "login",
                "globex",
                "z",
                &["voice"],
                &[],
            ),
            ev("2026-10-21T10:00:00Z", "logout", "globex", "z", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let dir = site.path();
    let status = |what: &str| {
        let o = seatmeter(dir, &["status"]);
        assert!(o.status.success(), "{what}: {o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(!status("first").contains("restated"));
    // The day is rolled up again with the same data: nothing is restated.
    let o = seatmeter(
        dir,
        &["rollup", "--from", "2026-10-20", "--to", "2026-10-21"],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(!status("again").contains("restated"));
    // A late login of a second agent of acme on the 20th, at the same hour: its peak 1 → 2.
    site.spool(
        "b.jsonl",
        &lines(&[
            ev(
                "2026-10-20T09:30:00Z",
                "login",
                "acme",
                "y",
                &["voice"],
                &[],
            ),
            ev("2026-10-20T09:40:00Z", "logout", "acme", "y", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let text = status("late");
    assert!(
        text.contains("restated values: 2"),
        "system and acme: {text}"
    );
    assert!(
        text.contains("2026-10-20 tenant acme, Voice: peak 1 → 2, enabled 0 → 0"),
        "{text}"
    );
    assert!(
        text.contains("2026-10-20 system, Voice: peak 1 → 2"),
        "{text}"
    );
    // The report of those days says so; a report of other days does not.
    let report = |args: &[&str]| {
        let mut all = vec![
            "report",
            "--granularity",
            "daily",
            "--from",
            "2026-10-19",
            "--to",
            "2026-10-22",
        ];
        all.extend(args);
        seatmeter(dir, &all)
    };
    let o = report(&["--scope", "tenant", "--id", "acme", "--format", "csv"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("note: 1 value(s)"), "{err}");
    assert!(err.contains("tenant acme, Voice: peak 1 → 2"), "{err}");
    let o = seatmeter(
        dir,
        &[
            "report",
            "--granularity",
            "daily",
            "--scope",
            "system",
            "--from",
            "2026-10-21",
            "--format",
            "csv",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("note:"));
    // globex's document does not list acme's restatement.
    let pdf = dir.join("globex.pdf");
    let acme_pdf = dir.join("acme.pdf");
    for (tenant, out) in [("globex", &pdf), ("acme", &acme_pdf)] {
        let o = report(&[
            "--scope",
            "tenant",
            "--id",
            tenant,
            "--format",
            "pdf",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{o:?}");
    }
    // The month's billing export lists acme's restated value, and says a bill is to reissue.
    let o = seatmeter(
        dir,
        &[
            "export",
            "billing",
            "--quantities-only",
            "--month",
            "2026-10",
            "--out",
            "bills",
            "--allow-incomplete",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("must be reissued"), "{err}");
    let restated =
        std::fs::read_to_string(dir.join("bills/seatmeter-billing-2026-10-restated.csv")).unwrap();
    assert_eq!(
        restated.lines().next(),
        Some("day,tenant,item,old_peak,new_peak,old_enabled,new_enabled,restated_at")
    );
    assert!(
        restated
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2026-10-20,acme,Voice,1,2,0,0,")
    );
    assert_eq!(
        restated.lines().count(),
        2,
        "acme's tenant value only: {restated}"
    );
    // globex's own export has no restatement.
    let o = seatmeter(
        dir,
        &[
            "export",
            "billing",
            "--quantities-only",
            "--month",
            "2026-10",
            "--tenant",
            "globex",
            "--out",
            "globex",
            "--allow-incomplete",
        ],
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("reissued"));
    assert!(
        !dir.join("globex/seatmeter-billing-2026-10-restated.csv")
            .exists()
    );
    if let (Some(globex), Some(acme)) = (pdftotext(&pdf), pdftotext(&acme_pdf)) {
        assert!(globex.contains("Restated values (0)"), "{globex}");
        assert!(acme.contains("Restated values (1)"), "{acme}");
        assert!(acme.contains("peak 1 → 2"), "{acme}");
    }
}
