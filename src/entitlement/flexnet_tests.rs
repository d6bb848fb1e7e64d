//! Tests of the FlexNet license parser (flexnet.rs).
use super::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn fixture(name: &str) -> LicenseFile {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/licenses")
        .join(name);
    load(&p).unwrap()
}

fn ent(ledger: &Ledger, features: &[&str], day: &str) -> Option<Entitled> {
    let f: Vec<FeatureRef> = features.iter().map(|s| FeatureRef::parse(s)).collect();
    ledger.entitled(&f, date(day))
}

/// Each case: license text, features, day, expected entitlement.
fn check(text: &str, features: &[&str], day: &str, want: Option<Entitled>) {
    let f = parse("t.lic", text).unwrap_or_else(|e| panic!("{e}"));
    let ledger = Ledger::new(&[f]);
    assert_eq!(
        ent(&ledger, features, day),
        want,
        "{text}\n{features:?} on {day}"
    );
}

use Entitled::{Seats, Unlimited};

#[test]
fn the_rules_of_section_6() {
    let base = "INCREMENT E genesys.d 8.5 31-dec-2027 150 ISSUED=01-jan-2026 START=01-jan-2026\n";
    check(base, &["E"], "2026-06-01", Some(Seats(150)));
    check(base, &["E"], "2027-12-31", Some(Seats(150))); // through the end of the expiry day
    check(base, &["E"], "2028-01-01", Some(Seats(0))); // expired: lines exist, none valid
    check(base, &["E"], "2025-12-31", Some(Seats(0))); // not started
    check(base, &["X"], "2026-06-01", None); // no line names it
    check(base, &["genesys.d:E"], "2026-06-01", Some(Seats(150)));
    check(base, &["other.d:E"], "2026-06-01", None);
    // INCREMENT lines add up; uncounted or 0 means unlimited.
    check(
        "INCREMENT E v 1 permanent 10\nINCREMENT E v 1 permanent 5\n",
        &["E"],
        "2026-01-01",
        Some(Seats(15)),
    );
    check(
        "INCREMENT E v 1 permanent 10\nINCREMENT E v 1 permanent uncounted\n",
        &["E"],
        "2026-01-01",
        Some(Unlimited),
    );
    check(
        "FEATURE E v 1 permanent 0\n",
        &["E"],
        "2026-01-01",
        Some(Unlimited),
    );
    // An expired uncounted line grants nothing.
    check(
        "INCREMENT E v 1 1-jan-2020 uncounted\nINCREMENT E v 1 permanent 3\n",
        &["E"],
        "2026-01-01",
        Some(Seats(3)),
    );
    // Of several FEATURE lines only the first counts; INCREMENTs still add.
    check(
        "FEATURE E v 1 permanent 10\nFEATURE E v 1 permanent 20\nINCREMENT E v 1 permanent 1\n",
        &["E"],
        "2026-01-01",
        Some(Seats(11)),
    );
    // ... per vendor.
    check(
        "FEATURE E v 1 permanent 10\nFEATURE E w 1 permanent 20\n",
        &["E"],
        "2026-01-01",
        Some(Seats(30)),
    );
    // Items naming two features sum them.
    check(
        "INCREMENT A v 1 permanent 2\nINCREMENT B v 1 permanent 3\n",
        &["A", "B"],
        "2026-01-01",
        Some(Seats(5)),
    );
    // Never-expiring forms.
    for e in [
        "permanent",
        "0",
        "1-jan-0",
        "1-jan-00",
        "1-jan-0000",
        "PERMANENT",
    ] {
        check(
            &format!("INCREMENT E v 1 {e} 4\n"),
            &["E"],
            "2999-01-01",
            Some(Seats(4)),
        );
    }
}

#[test]
fn supersede() {
    let t = "INCREMENT E v 1 permanent 10 ISSUED=1-jan-2025\n\
             INCREMENT E v 1 permanent 3\n\
             INCREMENT E v 1 permanent 25 ISSUED=1-jun-2025 SUPERSEDE\n\
             INCREMENT E w 1 permanent 7 ISSUED=1-jan-2020\n";
    // Voids the earlier-issued and the undated lines of the same vendor only.
    check(t, &["E"], "2026-01-01", Some(Seats(32)));
    // Equal ISSUED is not earlier.
    check(
        "INCREMENT E v 1 permanent 10 ISSUED=1-jun-2025\nINCREMENT E v 1 permanent 5 ISSUED=1-jun-2025 SUPERSEDE\n",
        &["E"],
        "2026-01-01",
        Some(Seats(15)),
    );
    // A superseding line without ISSUED= is issued earliest: it voids nothing.
    check(
        "INCREMENT E v 1 permanent 10 ISSUED=1-jun-2025\nINCREMENT E v 1 permanent 5 SUPERSEDE\n",
        &["E"],
        "2026-01-01",
        Some(Seats(15)),
    );
    // SUPERSEDE="A B" voids the named features' earlier lines.
    check(
        "INCREMENT A v 1 permanent 10 ISSUED=1-jan-2025\nINCREMENT B v 1 permanent 10 ISSUED=1-jan-2025\nINCREMENT C v 1 permanent 4 ISSUED=1-jan-2026 SUPERSEDE=\"A B\"\n",
        &["A", "B", "C"],
        "2026-06-01",
        Some(Seats(4)),
    );
    // A FEATURE line that supersedes the first one becomes the one that counts.
    check(
        "FEATURE E v 1 permanent 10 ISSUED=1-jan-2025\nFEATURE E v 1 permanent 40 ISSUED=1-jan-2026 SUPERSEDE\n",
        &["E"],
        "2026-06-01",
        Some(Seats(40)),
    );
}

#[test]
fn continuation_lines_and_quoted_values() {
    let t = "# comment\nSERVER lic01 0050569A1B2C 7260\nVENDOR genesys.d\n\
             INCREMENT DESKTOP_EMAIL genesys.d 8.5 31-dec-2027 150 ISSUED=01-jan-2026 \\\n        START=01-jan-2026 SIGN=\"0F4A \\\n\t9C21\"\n\
             FEATURE SIPServer genesys.d 8.5 permanent uncounted HOSTID=ANY\n";
    let f = parse("t.lic", t).unwrap();
    assert_eq!(f.lines.len(), 4);
    assert_eq!(f.lines[2].line, 4);
    let fl = f.lines[2].feature.as_ref().unwrap();
    assert_eq!(fl.start, Some(date("2026-01-01")));
    assert_eq!(f.lines[3].feature.as_ref().unwrap().count, None);
    assert_eq!(f.lines[3].line, 7);
}

#[test]
fn errors_name_the_line() {
    let cases = [
        (
            "INCREMENT E v 1 31-foo-2027 10\n",
            1,
            "expiry date: \"31-foo-2027\"",
        ),
        (
            "\n# x\nINCREMENT E v 1 31-feb-2027 10\n",
            3,
            "not a real date",
        ),
        ("INCREMENT E v 1 permanent ten\n", 1, "count \"ten\""),
        ("INCREMENT E v 1 permanent -3\n", 1, "count \"-3\""),
        (
            "INCREMENT E v 1 permanent 3 START=2026-01-01\n",
            1,
            "START: \"2026-01-01\"",
        ),
        ("INCREMENT E v 1 permanent 3 ISSUED=1-jan-26\n", 1, "ISSUED"),
        (
            "INCREMENT E v 1 permanent\n",
            1,
            "at least: name vendor version expiry count",
        ),
        (
            "FEATURE E v 1 permanent 3 SIGN=\"AB \\\n CD\n",
            1,
            "not closed",
        ),
        ("SERVR x y 1\n", 1, "unknown line type \"SERVR\""),
    ];
    for (text, line, want) in cases {
        let e = parse("site.lic", text).unwrap_err();
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(
            e.to_string().starts_with(&format!("site.lic:{line}: ")),
            "{e}"
        );
        assert!(e.message.contains(want), "{text}: {e}");
    }
}

#[test]
fn real_files_node_flexlm() {
    let ledger = Ledger::new(&[fixture("node-flexlm-test.lic")]);
    assert_eq!(ent(&ledger, &["orbit:sun"], "2030-01-01"), Some(Seats(1)));
    assert_eq!(
        ent(&ledger, &["orbit:neptune"], "2030-01-01"),
        Some(Unlimited)
    );
    assert_eq!(ent(&ledger, &["gui"], "2012-10-01"), Some(Seats(50)));
    assert_eq!(ent(&ledger, &["gui"], "2013-10-01"), Some(Seats(10)));
    assert_eq!(ent(&ledger, &["gui"], "2014-01-01"), Some(Seats(0)));
    assert_eq!(ent(&ledger, &["prime:gui"], "2013-10-01"), Some(Seats(0)));
    assert_eq!(
        ent(&ledger, &["orbit:jupiter"], "2014-09-16"),
        Some(Seats(0))
    );
    assert_eq!(
        ent(&ledger, &["orbit:jupiter"], "2014-09-17"),
        Some(Seats(10))
    );
    assert_eq!(
        ent(&ledger, &["orbit:jupiter"], "2014-11-30"),
        Some(Seats(10))
    );
    assert_eq!(
        ent(&ledger, &["orbit:jupiter"], "2014-12-01"),
        Some(Seats(0))
    );
}

#[test]
fn real_files_vmware_and_goflexlm() {
    let ledger = Ledger::new(&[fixture("flexlm-license-parser-good.lic")]);
    assert_eq!(
        ent(&ledger, &["PROD_ESX_FULL"], "2026-01-01"),
        Some(Unlimited)
    );
    assert_eq!(ent(&ledger, &["VC_ESXHOST"], "2026-01-01"), Some(Seats(32)));
    let ledger = Ledger::new(&[fixture("goflexlm-conforming.lic")]);
    assert_eq!(
        ent(&ledger, &["acme:editor"], "2026-12-31"),
        Some(Seats(12))
    );
    assert_eq!(ent(&ledger, &["acme:editor"], "2027-01-01"), Some(Seats(0)));
    let f = fixture("goflexlm-conforming.lic");
    assert_eq!(f.lines[0].keyword, Keyword::Server);
    assert_eq!(f.sha256.len(), 64);
}

#[test]
fn change_days_bound_constant_stretches() {
    let f = parse("t", "INCREMENT E v 1 31-oct-2026 40 START=1-jan-2026\nINCREMENT E v 1 permanent 60 START=1-nov-2026\n").unwrap();
    let ledger = Ledger::new(&[f]);
    let days = ledger.change_days(&[FeatureRef::parse("E")]);
    assert_eq!(days, vec![date("2026-01-01"), date("2026-11-01")]);
}

/// Regression (issue 12, fuzzing): a `\` continued onto a blank line or the end of the
/// file panicked (no word on the logical line).
#[test]
fn a_continuation_onto_nothing_is_no_panic() {
    for text in [
        "INCREMENT a vendor 1.0 permanent 5 \\\n\n",
        "INCREMENT a vendor 1.0 permanent 5 \\",
        "\\\n\n",
        "\\",
        "\\\n",
        " \\ \n\\\n\nFEATURE b vendor 1.0 permanent 2\n",
    ] {
        let f = parse("x.lic", text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(f.lines.len() <= 1, "{text:?}");
    }
    let f = parse("x.lic", "INCREMENT a vendor 1.0 permanent 5 \\\n\n").unwrap();
    assert_eq!(f.lines[0].feature.as_ref().unwrap().count, Some(5));
}

/// Regression (issue 12, fuzzing): counts are at most u32::MAX each, refused with the
/// file and line above it, so a sum of counts is exact.
#[test]
fn a_count_above_the_maximum_is_refused_with_its_line() {
    let ok = "INCREMENT a v 1.0 permanent 4294967295\nINCREMENT a v 1.0 permanent 1\n";
    let f = parse("x.lic", ok).unwrap();
    assert_eq!(f.lines.len(), 2);
    let total: u64 = f
        .lines
        .iter()
        .map(|l| l.feature.as_ref().unwrap().count.unwrap())
        .sum();
    assert_eq!(total, 4294967296, "exact, not wrapped at u32");
    let e = parse("x.lic", "# c\nINCREMENT a v 1.0 permanent 4294967296\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(
        e.to_string().starts_with("x.lic:2: count 4294967296"),
        "{e}"
    );
    let e = parse(
        "x.lic",
        "INCREMENT a v 1.0 permanent 99999999999999999999\n",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("x.lic:1: "), "{e}");
}
