//! The `[finops]` section: defaults, parsing, every checked error, the cost-center CSV.

mod common;

use common::{TIERS, checked, day, item_names, parse};
use seatmeter_finops::{
    Assignment, CsvError, CsvReject, FinopsConfig, Kind, Tier, load_cost_centers_csv,
};

fn errors(text: &str) -> Vec<String> {
    parse(text).unwrap().check(&item_names()).unwrap_err()
}

/// A file in this test binary's temporary folder holding `text`.
fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_absent_section_has_the_documented_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c, FinopsConfig::default());
    assert_eq!(c.inactive_days, 45);
    assert_eq!(c.lookback_days, 60);
    assert_eq!(c.exempt_tags, vec!["SEASONAL_BURST".to_string()]);
    assert_eq!(c.target_band, [80, 95]);
    assert_eq!(c.renewal_lookback_days, 365);
    assert_eq!(c.renewal_buffer_percent, 10);
    assert_eq!(c.long_session_hours, 12);
    assert_eq!(c.near_peak_percent, 5);
    assert_eq!(c.repropose_days, 90);
    assert_eq!(c.proposals_day, 1);
    assert_eq!(c.shared_cost, 0);
    assert_eq!(c.shared_cost_label, "Platform");
    assert!(c.tiers.is_empty() && c.cost_centers.is_empty() && c.cost_centers_file.is_none());
    let f = c.check(&item_names()).unwrap();
    assert!(f.assignments.is_empty());
    assert_eq!(f.inactive_days, 45);
}

#[test]
fn an_unknown_key_is_refused() {
    let e = parse("[finops]\ninactive_dayz = 3\n").unwrap_err();
    assert!(e.to_string().contains("inactive_dayz"), "{e}");
    let e =
        parse("[[finops.tier]]\nname = \"CX1\"\nitems = []\nprice = 1\ncost = 2\n").unwrap_err();
    assert!(e.to_string().contains("cost"), "{e}");
}

#[test]
fn tiers_resolve_to_item_indexes_and_dates_to_days() {
    let f = checked(&format!(
        "{TIERS}\n[[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"sales\", \"inbound\"]\n\
         tenants = [\"acme\"]\nfrom = \"2026-01-01\"\nto = \"2026-06-30\"\n"
    ));
    assert_eq!(
        f.tiers[1],
        Tier {
            name: "CX2".into(),
            items: vec![0, 1],
            price: 4000
        }
    );
    assert_eq!(f.tiers[2].items, vec![0, 1, 2, 3]);
    let a = |kind, name: &str| Assignment {
        center: "Sales".into(),
        kind,
        name: name.into(),
        from: Some(day("2026-01-01")),
        to: Some(day("2026-06-30")),
        origin: "finops.cost_center \"Sales\"".into(),
    };
    assert_eq!(
        f.assignments,
        vec![
            a(Kind::Group, "sales"),
            a(Kind::Group, "inbound"),
            a(Kind::Tenant, "acme")
        ]
    );
}

#[test]
fn a_tier_naming_an_unknown_item_is_an_error_listing_the_items() {
    let e =
        errors("[[finops.tier]]\nname = \"CX2\"\nitems = [\"Voice\", \"EMail\"]\nprice = 4000\n");
    assert_eq!(
        e,
        vec![
            "finops.tier \"CX2\": \"EMail\" is not an [[item]]; the items are: \
             Voice, E-Mail, Web Media, Chat, Fax"
                .to_string()
        ]
    );
}

#[test]
fn tiers_must_ascend_strictly_in_price_and_have_distinct_names() {
    let e = errors(
        "[[finops.tier]]\nname = \"CX1\"\nitems = [\"Voice\"]\nprice = 3000\n\
         [[finops.tier]]\nname = \"CX2\"\nitems = [\"Voice\"]\nprice = 3000\n\
         [[finops.tier]]\nname = \"CX1\"\nitems = [\"Voice\"]\nprice = 5000\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("finops.tier \"CX2\": price 3000 is not above that of the tier before it, \"CX1\" (3000)"),
        "{e:?}"
    );
    assert_eq!(e[1], "finops.tier \"CX1\": the name is used twice");
}

#[test]
fn band_days_and_dates_are_checked_and_all_errors_collected() {
    let e = errors(
        "[finops]\ntarget_band = [95, 80]\nproposals_day = 29\n\
         [[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"sales\"]\nfrom = \"2026-13-01\"\n\
         [[finops.cost_center]]\nname = \"Ops\"\ngroups = [\"ops\"]\nfrom = \"2026-07-01\"\nto = \"2026-06-30\"\n",
    );
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e[0].starts_with("finops.target_band [95, 80]: the lower bound must be below the upper")
    );
    assert!(e[1].starts_with("finops.proposals_day 29: must be 1 to 28"));
    assert!(
        e[2].starts_with("finops.cost_center \"Sales\": from: \"2026-13-01\" is not a date"),
        "{e:?}"
    );
    assert_eq!(
        e[3],
        "finops.cost_center \"Ops\": from 2026-07-01 is after to 2026-06-30"
    );
    assert!(
        errors("[finops]\ntarget_band = [80, 1001]\n")[0]
            .starts_with("finops.target_band [80, 1001]")
    );
}

#[test]
fn overlapping_dates_for_one_group_name_both_assignments() {
    let e = errors(
        "[[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"support\"]\nto = \"2026-06-30\"\n\
         [[finops.cost_center]]\nname = \"Support\"\ngroups = [\"support\"]\nfrom = \"2026-06-30\"\n",
    );
    assert_eq!(
        e,
        vec![
            "group \"support\" has two cost centers at once: \"Sales\" until 2026-06-30 \
             (finops.cost_center \"Sales\") and \"Support\" from 2026-06-30 on \
             (finops.cost_center \"Support\"); the effective dates of one group must not overlap"
                .to_string()
        ]
    );
    // The day after is no overlap; a group and a tenant of the same name never clash.
    let f = checked(
        "[[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"support\"]\nto = \"2026-06-30\"\n\
         [[finops.cost_center]]\nname = \"Support\"\ngroups = [\"support\"]\ntenants = [\"support\"]\nfrom = \"2026-07-01\"\n",
    );
    let g = ["support".to_string()];
    assert_eq!(f.center_of("x", &g, day("2026-06-30")), Some("Sales"));
    assert_eq!(f.center_of("x", &g, day("2026-07-01")), Some("Support"));
}

#[test]
fn center_of_takes_the_first_assigned_group_then_the_tenant() {
    let f = checked(
        "[[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"sales\"]\nfrom = \"2026-10-01\"\n\
         [[finops.cost_center]]\nname = \"Support\"\ngroups = [\"support\"]\n\
         [[finops.cost_center]]\nname = \"Acme HQ\"\ntenants = [\"acme\"]\n",
    );
    let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let d = day("2026-10-15");
    assert_eq!(
        f.center_of("acme", &groups(&["temp", "sales", "support"]), d),
        Some("Sales")
    );
    assert_eq!(
        f.center_of("acme", &groups(&["support", "sales"]), d),
        Some("Support")
    );
    // Sales begins on 2026-10-01: the day before, the next group's center.
    assert_eq!(
        f.center_of("acme", &groups(&["sales", "support"]), day("2026-09-30")),
        Some("Support")
    );
    assert_eq!(f.center_of("acme", &groups(&["temp"]), d), Some("Acme HQ"));
    assert_eq!(f.center_of("globex", &groups(&["temp"]), d), None);
}

#[test]
fn the_csv_keeps_bad_lines_aside_with_their_numbers_and_loads_the_rest() {
    let path = temp_file(
        "centers-bad-line.csv",
        "cost_center,kind,name,from,to\n\
         Sales,group,sales,2026-01-01,\n\
         Sales,team,inbound,,\n\
         Support,tenant,acme,,2026-12-31\n\
         Ops,group,ops,2026-02-30,\n\
         Ops,group,night,2026-05-01,2026-04-01\n\
         Ops,group\n\
         ,group,day,,\n",
    );
    let (loaded, rejects) = load_cost_centers_csv(&path).unwrap();
    assert_eq!(
        loaded,
        vec![
            Assignment {
                center: "Sales".into(),
                kind: Kind::Group,
                name: "sales".into(),
                from: Some(day("2026-01-01")),
                to: None,
                origin: "centers-bad-line.csv line 2".into(),
            },
            Assignment {
                center: "Support".into(),
                kind: Kind::Tenant,
                name: "acme".into(),
                from: None,
                to: Some(day("2026-12-31")),
                origin: "centers-bad-line.csv line 4".into(),
            },
        ]
    );
    let lines: Vec<u64> = rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 5, 6, 7, 8]);
    assert_eq!(
        rejects[0],
        CsvReject {
            line: 3,
            message: "kind \"team\" is neither group nor tenant".into()
        }
    );
    assert!(
        rejects[1]
            .message
            .starts_with("from: \"2026-02-30\" is not a date"),
        "{rejects:?}"
    );
    assert_eq!(rejects[2].message, "from 2026-05-01 is after to 2026-04-01");
    assert_eq!(
        rejects[3].message,
        "2 fields where cost_center,kind,name,from,to are 5"
    );
    assert_eq!(rejects[4].message, "the cost_center is empty");
}

#[test]
fn the_csv_file_joins_the_configuration_and_its_overlaps_are_errors() {
    let path = temp_file(
        "centers-overlap.csv",
        "cost_center,kind,name,from,to\nOps,group,sales,2026-03-01,\nOps,tenant,acme,,\nOps,oops,x,,\n",
    );
    let text = format!(
        "[finops]\ncost_centers_file = {:?}\n\
         [[finops.cost_center]]\nname = \"Sales\"\ngroups = [\"sales\"]\nto = \"2026-03-01\"\n",
        path.display().to_string()
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("(finops.cost_center \"Sales\")")
            && e[0].contains("(centers-overlap.csv line 2)"),
        "{e:?}"
    );

    let ok = text.replace("2026-03-01\"", "2026-02-28\"");
    let f = checked(&ok);
    assert_eq!(f.assignments.len(), 3);
    assert_eq!(f.assignments[2].origin, "centers-overlap.csv line 3");
    assert_eq!(
        f.csv_rejects.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![4]
    );
    assert_eq!(
        f.center_of("acme", &["sales".into()], day("2026-02-28")),
        Some("Sales")
    );
    assert_eq!(
        f.center_of("acme", &["sales".into()], day("2026-03-01")),
        Some("Ops")
    );
}

#[test]
fn a_missing_csv_file_or_a_wrong_header_is_an_error() {
    let missing = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-centers.csv");
    assert!(matches!(
        load_cost_centers_csv(&missing),
        Err(CsvError::Read { .. })
    ));
    let e = errors(&format!(
        "[finops]\ncost_centers_file = {:?}\n",
        missing.display().to_string()
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("finops.cost_centers_file: cannot read the cost-center file"),
        "{e:?}"
    );
    let wrong = temp_file(
        "centers-header.csv",
        "center,kind,name\nSales,group,sales\n",
    );
    let err = load_cost_centers_csv(&wrong).unwrap_err();
    assert!(
        matches!(&err, CsvError::Header { found, .. } if found == "center,kind,name"),
        "{err}"
    );
}

#[test]
fn overlapping_tenants_within_the_csv_name_both_lines() {
    let path = temp_file(
        "centers-tenant-overlap.csv",
        "cost_center,kind,name,from,to\nA,tenant,acme,,2026-05-31\nB,group,acme,,\n\
         C,tenant,acme,2026-05-31,\nD,tenant,globex,,\n",
    );
    let e = errors(&format!(
        "[finops]\ncost_centers_file = {:?}\n",
        path.display().to_string()
    ));
    assert_eq!(
        e,
        vec![
            "tenant \"acme\" has two cost centers at once: \"A\" until 2026-05-31 \
             (centers-tenant-overlap.csv line 2) and \"C\" from 2026-05-31 on \
             (centers-tenant-overlap.csv line 4); the effective dates of one tenant must not overlap"
                .to_string()
        ]
    );
}
