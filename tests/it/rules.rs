//! One small case per rule of usage-semantics.md. Each builds a site from a few events,
//! collects and rolls it up, and checks the rows the rule decides.

use crate::support::{Site, ev, lines, peaks, rows};

const DAY: &str = "2026-01-05"; // a Monday, UTC

/// The row of `item` for the period starting at `start` (local text), as
/// (peak, enabled, entitled, over_use).
fn at(csv: &str, scope_id: &str, start: &str, item: &str) -> (u64, String, String, bool) {
    let r = rows(csv)
        .into_iter()
        .find(|r| r[0] == scope_id && r[1] == start && r[2] == item)
        .unwrap_or_else(|| panic!("no row {scope_id:?} {start} {item} in\n{csv}"));
    (
        r[3].parse().unwrap(),
        r[4].clone(),
        r[5].clone(),
        r[6] == "true",
    )
}

fn peak(csv: &str, start: &str, item: &str) -> u64 {
    at(csv, "", start, item).0
}

fn site_with(tz: &str, events: &[String]) -> Site {
    let site = Site::simple(tz);
    site.spool("a.jsonl", &lines(events));
    site.collect_and_rollup();
    site
}

fn t(hm: &str) -> String {
    format!("{DAY}T{hm}:00Z")
}

fn p(hm: &str) -> String {
    format!("{DAY}T{hm}:00+00:00")
}

#[test]
fn intervals_are_half_open() {
    let site = site_with(
        "UTC",
        &[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:10"), "logout", "a", "x", &[], &[]),
        ],
    );
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(peak(&csv, &p("09:50"), "Voice"), 0);
    assert_eq!(peak(&csv, &p("10:00"), "Voice"), 1);
    assert_eq!(
        peak(&csv, &p("10:10"), "Voice"),
        0,
        "the logout instant is not in use"
    );
}

#[test]
fn login_and_logout_at_one_instant_use_no_seat() {
    let site = site_with(
        "UTC",
        &[
            ev(&t("10:05"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:05"), "logout", "a", "x", &[], &[]),
        ],
    );
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(peak(&csv, &p("10:00"), "Voice"), 0);
    // The tenant still appears, with zeros.
    let tenants = site.report("tenant", "daily", DAY, DAY);
    assert_eq!(peaks(&tenants, "a", "Voice"), [0]);
}

#[test]
fn equal_timestamps_apply_in_the_order_received() {
    // logout then login at 10:05: logged in throughout, with email only from 10:05.
    let site = site_with(
        "UTC",
        &[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:05"), "logout", "a", "x", &[], &[]),
            ev(&t("10:05"), "login", "a", "x", &["email"], &[]),
        ],
    );
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(peak(&csv, &p("10:00"), "Voice"), 1);
    assert_eq!(peak(&csv, &p("10:10"), "Voice"), 0);
    assert_eq!(peak(&csv, &p("10:00"), "Email"), 1);
    assert_eq!(
        peak(&csv, &p("23:50"), "Email"),
        1,
        "open: counts to the end"
    );

    // login then logout at 10:05: the union lasts no time, then x is logged out.
    let site = site_with(
        "UTC",
        &[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:05"), "login", "a", "x", &["email"], &[]),
            ev(&t("10:05"), "logout", "a", "x", &[], &[]),
        ],
    );
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(peak(&csv, &p("10:00"), "Voice"), 1);
    assert_eq!(peak(&csv, &p("10:00"), "Email"), 0);
    assert_eq!(peak(&csv, &p("10:10"), "Voice"), 0);
}

#[test]
fn equal_timestamps_across_files_follow_file_order() {
    let site = Site::simple("UTC");
    site.spool(
        "1.jsonl",
        &lines(&[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:05"), "logout", "a", "x", &[], &[]),
        ]),
    );
    site.spool(
        "2.jsonl",
        &lines(&[ev(&t("10:05"), "login", "a", "x", &["voice"], &[])]),
    );
    site.collect_and_rollup();
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(
        peak(&csv, &p("10:10"), "Voice"),
        1,
        "logout (file 1) then login (file 2)"
    );
}

#[test]
fn a_second_device_is_one_seat_with_the_union_of_media() {
    let items = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]
[[item]]
name = "Email"
media = ["email"]
features = ["E"]
[[item]]
name = "Omni"
media = ["voice", "email"]
features = ["O"]
"#;
    let site = Site::new(
        "UTC",
        items,
        "INCREMENT V v 1 permanent 1\nINCREMENT E v 1 permanent 1\nINCREMENT O v 1 permanent 1\n",
    );
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:03"), "login", "a", "x", &["email"], &[]),
            ev(&t("10:30"), "logout", "a", "x", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let csv = site.report("system", "10min", DAY, DAY);
    for item in ["Voice", "Email", "Omni"] {
        assert_eq!(peak(&csv, &p("10:00"), item), 1, "{item}");
        assert_eq!(peak(&csv, &p("10:20"), item), 1, "{item}");
        assert_eq!(
            peak(&csv, &p("10:30"), item),
            0,
            "one logout ends both devices: {item}"
        );
    }
    assert!(
        !at(&csv, "", &p("10:00"), "Omni").3,
        "one seat, not two: no over-use of 1"
    );
}

#[test]
fn a_stray_logout_changes_nothing_and_is_counted() {
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(&t("09:00"), "logout", "a", "y", &[], &[]),
            ev(&t("11:00"), "login", "a", "y", &["voice"], &[]),
            ev(&t("11:30"), "logout", "a", "y", &[], &[]),
        ]),
    );
    site.collect();
    let stats = site.rollup();
    assert_eq!(stats.stray_logouts, 1);
    let csv = site.report("system", "hourly", DAY, DAY);
    assert_eq!(peak(&csv, &p("09:00"), "Voice"), 0);
    assert_eq!(peak(&csv, &p("11:00"), "Voice"), 1);
}

#[test]
fn an_open_session_counts_through_the_end_of_every_period() {
    let site = site_with(
        "UTC",
        &[ev(&t("22:00"), "login", "a", "x", &["voice"], &[])],
    );
    let csv = site.report("system", "daily", DAY, "2026-01-08");
    assert_eq!(peaks(&csv, "", "Voice"), [1, 1, 1, 1]);
    let month = site.report("system", "monthly", DAY, DAY);
    assert_eq!(peaks(&month, "", "Voice"), [1]);
    // Before the login, nothing.
    let before = site.report("system", "daily", "2026-01-01", "2026-01-04");
    assert_eq!(peaks(&before, "", "Voice"), [0, 0, 0, 0]);
}

#[test]
fn the_system_peak_is_not_the_sum_of_tenant_peaks() {
    let site = site_with(
        "UTC",
        &[
            ev(&t("09:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("09:30"), "logout", "a", "x", &[], &[]),
            ev(&t("09:40"), "login", "b", "x", &["voice"], &[]),
            ev(&t("10:00"), "logout", "b", "x", &[], &[]),
        ],
    );
    let sys = site.report("system", "hourly", DAY, DAY);
    let ten = site.report("tenant", "hourly", DAY, DAY);
    assert_eq!(peak(&sys, &p("09:00"), "Voice"), 1);
    assert_eq!(at(&ten, "a", &p("09:00"), "Voice").0, 1);
    assert_eq!(at(&ten, "b", &p("09:00"), "Voice").0, 1);
    // Same agent id in two tenants: two agents.
    assert_eq!(
        peaks(&site.report("system", "daily", DAY, DAY), "", "Voice"),
        [1]
    );
}

#[test]
fn monthly_and_weekly_peaks_are_maxima_of_10_minute_peaks() {
    let site = site_with(
        "UTC",
        &[
            ev("2026-01-05T09:00:00Z", "login", "a", "x", &["voice"], &[]),
            ev("2026-01-05T10:00:00Z", "logout", "a", "x", &[], &[]),
            ev("2026-01-07T09:00:00Z", "login", "a", "y", &["voice"], &[]),
            ev("2026-01-07T10:00:00Z", "logout", "a", "y", &[], &[]),
        ],
    );
    assert_eq!(
        peaks(
            &site.report("system", "monthly", "2026-01-01", "2026-01-31"),
            "",
            "Voice"
        ),
        [1]
    );
    // A weekly report from Wednesday covers the whole ISO week, from Monday.
    let week = site.report("system", "weekly", "2026-01-07", "2026-01-07");
    assert_eq!(rows(&week)[0][1], "2026-01-05T00:00:00+00:00");
    assert_eq!(peaks(&week, "", "Voice"), [1]);
}

#[test]
fn clocks_going_back_give_two_periods_for_the_repeated_hour() {
    // London, 25 Oct 2026: 01:00-02:00 BST is 00:00-01:00Z, then 01:00-02:00 GMT.
    let site = site_with(
        "Europe/London",
        &[
            ev("2026-10-25T00:30:00Z", "login", "a", "x", &["voice"], &[]),
            ev("2026-10-25T01:30:00Z", "logout", "a", "x", &[], &[]),
        ],
    );
    let csv = site.report("system", "hourly", "2026-10-25", "2026-10-25");
    assert_eq!(rows(&csv).len(), 25 * 2);
    assert_eq!(peak(&csv, "2026-10-25T01:00:00+01:00", "Voice"), 1);
    assert_eq!(peak(&csv, "2026-10-25T01:00:00+00:00", "Voice"), 1);
    assert_eq!(peak(&csv, "2026-10-25T02:00:00+00:00", "Voice"), 0);
    let daily = site.report("system", "daily", "2026-10-25", "2026-10-25");
    assert_eq!(rows(&daily)[0][1], "2026-10-25T00:00:00+01:00");
}

#[test]
fn clocks_going_forward_skip_an_hour() {
    // London, 29 Mar 2026: 01:00 GMT becomes 02:00 BST.
    let site = site_with(
        "Europe/London",
        &[
            ev("2026-03-29T00:50:00Z", "login", "a", "x", &["voice"], &[]),
            ev("2026-03-29T01:10:00Z", "logout", "a", "x", &[], &[]),
        ],
    );
    let csv = site.report("system", "hourly", "2026-03-29", "2026-03-29");
    assert_eq!(rows(&csv).len(), 23 * 2);
    assert!(!csv.contains("T01:00:00"), "no 01:00 hour");
    assert_eq!(peak(&csv, "2026-03-29T00:00:00+00:00", "Voice"), 1);
    assert_eq!(peak(&csv, "2026-03-29T02:00:00+01:00", "Voice"), 1);
    let ten = site.report("system", "10min", "2026-03-29", "2026-03-29");
    assert_eq!(rows(&ten).len(), 138 * 2);
}

#[test]
fn groups_from_the_login_or_from_the_snapshot_in_force() {
    let site = Site::simple("UTC");
    site.snapshot(
        "s1.xml",
        r#"<ConfigurationSnapshot taken="2026-01-05T08:00:00Z"><Tenant name="a"><Agent id="x" enabled="true" media="voice" groups="Snap"/></Tenant></ConfigurationSnapshot>"#,
    );
    site.snapshot(
        "s2.xml",
        r#"<ConfigurationSnapshot taken="2026-01-05T12:00:00Z"><Tenant name="a"><Agent id="x" enabled="true" media="voice" groups="Later"/></Tenant></ConfigurationSnapshot>"#,
    );
    site.spool(
        "a.jsonl",
        &lines(&[
            // No groups: from the snapshot in force (s1).
            ev(&t("09:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("09:30"), "logout", "a", "x", &[], &[]),
            // Own groups, then a second device that adds one.
            ev(&t("10:00"), "login", "a", "x", &["voice"], &["Own"]),
            ev(&t("10:20"), "login", "a", "x", &["email"], &["Extra"]),
            ev(&t("10:40"), "logout", "a", "x", &[], &[]),
            // After s2.
            ev(&t("13:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("13:10"), "logout", "a", "x", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let csv = site.report("group", "hourly", DAY, DAY);
    assert_eq!(at(&csv, "a/Snap", &p("09:00"), "Voice").0, 1);
    assert_eq!(at(&csv, "a/Snap", &p("10:00"), "Voice").0, 0);
    assert_eq!(at(&csv, "a/Own", &p("10:00"), "Voice").0, 1);
    assert_eq!(
        at(&csv, "a/Extra", &p("10:00"), "Voice").0,
        1,
        "the group set is the union from 10:20"
    );
    assert_eq!(at(&csv, "a/Extra", &p("10:00"), "Email").0, 1);
    assert_eq!(
        at(&csv, "a/Own", &p("10:00"), "Email").0,
        1,
        "the media set too"
    );
    assert_eq!(at(&csv, "a/Later", &p("13:00"), "Voice").0, 1);
    assert_eq!(at(&csv, "a/Snap", &p("13:00"), "Voice").0, 0);
    // Enabled seats per group from the snapshots.
    assert_eq!(at(&csv, "a/Snap", &p("11:00"), "Voice").1, "1");
    assert_eq!(
        at(&csv, "a/Snap", &p("12:00"), "Voice").1,
        "0",
        "s2, taken at 12:00, is in force at 12:00"
    );
    assert_eq!(at(&csv, "a/Later", &p("12:00"), "Voice").1, "1");
    assert_eq!(at(&csv, "a/Snap", &p("13:00"), "Voice").1, "0");
    assert_eq!(at(&csv, "a/Own", &p("11:00"), "Voice").1, "0");
    assert_eq!(
        at(&csv, "a/Own", &p("07:00"), "Voice").1,
        "",
        "no snapshot before 08:00"
    );
    let only = site
        .report_full("group", Some("a/Own"), "daily", DAY, DAY)
        .0;
    assert_eq!(rows(&only).len(), 2);
}

#[test]
fn enabled_seats_take_the_snapshot_in_force_and_those_taken_inside() {
    let site = Site::simple("UTC");
    let snap = |taken: &str, n: usize| {
        let agents: String = (0..n)
            .map(|i| format!("<Agent id=\"u{i}\" enabled=\"true\" media=\"voice\"/>"))
            .collect();
        format!(
            "<ConfigurationSnapshot taken=\"{taken}\"><Tenant name=\"a\">{agents}<Agent id=\"off\" enabled=\"false\" media=\"voice\"/></Tenant></ConfigurationSnapshot>"
        )
    };
    site.snapshot("1.xml", &snap(&t("10:05"), 2));
    site.snapshot("2.xml", &snap(&t("10:15"), 1));
    site.collect_and_rollup();
    let csv = site.report("system", "10min", DAY, DAY);
    assert_eq!(
        at(&csv, "", &p("09:50"), "Voice").1,
        "",
        "no snapshot before the period ends"
    );
    assert_eq!(at(&csv, "", &p("10:00"), "Voice").1, "2", "taken inside");
    assert_eq!(
        at(&csv, "", &p("10:10"), "Voice").1,
        "2",
        "in force at the start, and one taken inside"
    );
    assert_eq!(at(&csv, "", &p("10:20"), "Voice").1, "1");
    assert_eq!(at(&csv, "", &p("10:20"), "Email").1, "0");
    let daily = site.report("system", "daily", DAY, "2026-01-06");
    assert_eq!(rows(&daily)[0][4], "2");
    assert_eq!(rows(&daily)[2][4], "1", "the last snapshot stays in force");
    // A tenant that only appears in a snapshot has rows.
    site.snapshot("3.xml", "<ConfigurationSnapshot taken=\"2026-01-05T11:00:00Z\"><Tenant name=\"z\"><Agent id=\"q\" enabled=\"true\" media=\"email\"/></Tenant></ConfigurationSnapshot>");
    site.collect_and_rollup();
    let ten = site.report("tenant", "daily", DAY, DAY);
    assert_eq!(
        at(&ten, "z", "2026-01-05T00:00:00+00:00", "Email"),
        (0, "1".into(), "1".into(), false)
    );
}

#[test]
fn over_use_by_model_concurrent_and_named() {
    let items = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]
[[item]]
name = "WFM"
media = ["*"]
features = ["W"]
model = "named"
[[item]]
name = "Fax"
media = ["fax"]
features = ["NOLINE"]
"#;
    let site = Site::new(
        "UTC",
        items,
        "INCREMENT V v 1 permanent 1\nINCREMENT W v 1 permanent 2\n",
    );
    site.snapshot(
        "s.xml",
        r#"<ConfigurationSnapshot taken="2026-01-05T12:00:00Z"><Tenant name="a"><Agent id="x" enabled="true" media="voice"/><Agent id="y" enabled="true" media="voice"/><Agent id="z" enabled="true"/></Tenant></ConfigurationSnapshot>"#,
    );
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(&t("10:00"), "login", "a", "x", &["voice"], &[]),
            ev(&t("10:00"), "login", "a", "y", &["voice", "fax"], &[]),
            ev(&t("10:30"), "logout", "a", "x", &[], &[]),
            ev(&t("10:30"), "logout", "a", "y", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let csv = site.report("system", "hourly", DAY, DAY);
    // Concurrent: peak 2 > 1.
    assert_eq!(
        at(&csv, "", &p("10:00"), "Voice"),
        (2, "".into(), "1".into(), true)
    );
    // Named: peak 2 is within 2, and no snapshot yet: not over-used.
    assert_eq!(
        at(&csv, "", &p("10:00"), "WFM"),
        (2, "".into(), "2".into(), false)
    );
    // From 12:00, 3 enabled (media `*` counts an agent without media) > 2.
    assert_eq!(
        at(&csv, "", &p("12:00"), "WFM"),
        (0, "3".into(), "2".into(), true)
    );
    // No license line names Fax: empty entitlement, never over-used.
    assert_eq!(
        at(&csv, "", &p("10:00"), "Fax"),
        (1, "".into(), "".into(), false)
    );
    let daily = site.report("system", "daily", DAY, DAY);
    assert!(at(&daily, "", "2026-01-05T00:00:00+00:00", "Voice").3);
}

#[test]
fn entitlement_changes_during_a_month() {
    let site = Site::new(
        "UTC",
        crate::support::VOICE_EMAIL,
        "INCREMENT V v 1 10-jan-2026 1 START=1-jan-2026\nINCREMENT V v 1 permanent 3 START=11-jan-2026\nINCREMENT E v 1 permanent uncounted\n",
    );
    let two = |day: &str| {
        vec![
            ev(
                &format!("{day}T09:00:00Z"),
                "login",
                "a",
                "x",
                &["voice", "email"],
                &[],
            ),
            ev(
                &format!("{day}T09:00:00Z"),
                "login",
                "a",
                "y",
                &["voice", "email"],
                &[],
            ),
            ev(&format!("{day}T10:00:00Z"), "logout", "a", "x", &[], &[]),
            ev(&format!("{day}T10:00:00Z"), "logout", "a", "y", &[], &[]),
        ]
    };
    let mut evs = two("2026-01-05");
    evs.extend(two("2026-01-12"));
    site.spool("a.jsonl", &lines(&evs));
    site.collect_and_rollup();
    let daily = site.report("system", "daily", "2026-01-05", "2026-01-12");
    assert_eq!(
        at(&daily, "", "2026-01-05T00:00:00+00:00", "Voice"),
        (2, "".into(), "1".into(), true)
    );
    assert_eq!(
        at(&daily, "", "2026-01-11T00:00:00+00:00", "Voice"),
        (0, "".into(), "3".into(), false)
    );
    assert_eq!(
        at(&daily, "", "2026-01-12T00:00:00+00:00", "Voice"),
        (2, "".into(), "3".into(), false)
    );
    assert_eq!(
        at(&daily, "", "2026-01-12T00:00:00+00:00", "Email"),
        (2, "".into(), "unlimited".into(), false)
    );
    let month = site.report("system", "monthly", "2026-01-20", "2026-01-20");
    assert_eq!(
        at(&month, "", "2026-01-01T00:00:00+00:00", "Voice"),
        (2, "".into(), "1".into(), true),
        "smallest daily value; over-used on the 5th"
    );
    // Before any line starts: lines exist but none is valid, 0.
    let later = site.report("system", "daily", "2025-12-01", "2025-12-01");
    assert_eq!(rows(&later)[0][5], "0");
}

#[test]
fn report_id_narrowing_and_unknown_ids() {
    let site = site_with(
        "UTC",
        &[
            ev(
                &t("09:00"),
                "login",
                "acme",
                "x",
                &["voice"],
                &["Support", "Sales"],
            ),
            ev(&t("09:00"), "login", "beta", "y", &["voice"], &["Support"]),
        ],
    );
    let all = site.report("group", "daily", DAY, DAY);
    let ids: Vec<String> = rows(&all).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ids,
        [
            "acme/Sales",
            "acme/Sales",
            "acme/Support",
            "acme/Support",
            "beta/Support",
            "beta/Support"
        ]
    );
    assert_eq!(
        rows(&site.report_full("group", Some("acme"), "daily", DAY, DAY).0).len(),
        4
    );
    assert_eq!(
        rows(
            &site
                .report_full("group", Some("beta/Support"), "daily", DAY, DAY)
                .0
        )
        .len(),
        2
    );
    assert_eq!(
        rows(
            &site
                .report_full("tenant", Some("beta"), "daily", DAY, DAY)
                .0
        )
        .len(),
        2
    );
    let config = site.config();
    let mut store = seatmeter::store::open(&config).unwrap();
    let req = seatmeter::report::Request {
        scope: seatmeter_reports::ScopeKind::Tenant,
        id: Some("gamma".into()),
        granularity: seatmeter_reports::Granularity::Daily,
        from: seatmeter::calendar::parse_date(DAY).unwrap(),
        to: seatmeter::calendar::parse_date(DAY).unwrap(),
    };
    let err = seatmeter::report::Reporter::new(store.as_mut(), &config)
        .unwrap()
        .run(&req, &mut |_| Ok(()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no tenant \"gamma\" in the store (known: acme, beta)"
    );
}

#[test]
fn rows_are_ordered_by_scope_id_then_instant_then_item() {
    let site = site_with(
        "Europe/London",
        &[
            ev(
                "2026-10-25T00:30:00Z",
                "login",
                "zeta",
                "x",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-25T00:30:00Z",
                "login",
                "Alpha",
                "y",
                &["email"],
                &[],
            ),
        ],
    );
    let csv = site.report("tenant", "hourly", "2026-10-25", "2026-10-25");
    let r = rows(&csv);
    assert_eq!(r[0][0], "Alpha");
    assert_eq!(r[r.len() - 1][0], "zeta");
    // Instants, not text: 01:00+01:00 comes before 01:00+00:00.
    assert_eq!(r[2][1], "2026-10-25T01:00:00+01:00");
    assert_eq!(r[4][1], "2026-10-25T01:00:00+00:00");
    assert_eq!(
        (r[0][2].as_str(), r[1][2].as_str()),
        ("Voice", "Email"),
        "configuration order"
    );
}
