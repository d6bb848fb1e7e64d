//! The rules of a bill a reseller can send (issue 13, docs/BILLING.md "Rules"): the
//! minimum only for the days of the contract, bundles that replace their items, usage
//! without a grant as over-use, every provisioned tenant in the report and the bill, and
//! overage prices. The site is the worked example of docs/BILLING.md; every amount below
//! is computed by hand, with its arithmetic.

use std::process::Command;

use crate::support::{Site, ev, lines, rows};

const ITEMS: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]

[[item]]
name = "Email"
media = ["email"]

[[item]]
name = "Chat"
media = ["chat"]

[[item]]
name = "Outbound"
media = ["outbound"]

[billing]
currency = "EUR"
minimum = "50.00"
overage = "5.00"

[billing.prices]
"Voice" = "10.00"
"Email" = "4.00"
"Chat" = "3.00"
"Outbound" = "2.00"
"Digital" = "6.00"

[billing.overage_prices]
"Voice" = "7.00"
"#;

const ENTITLEMENTS: &str = r#"<Entitlements>
  <Bundle name="Digital" issued="2026-01-01" start="2026-01-01">
    <Include item="Email"/>
    <Include item="Chat"/>
    <Exclude item="Voice"/>
  </Bundle>
  <Tenant name="acme">
    <Entitlement item="Voice" quantity="2" start="2026-01-01"/>
    <Entitlement bundle="Digital" quantity="1" start="2026-01-01"/>
  </Tenant>
  <Tenant name="newco">
    <Entitlement item="Voice" quantity="1" start="2026-10-10"/>
  </Tenant>
  <Tenant name="oldco">
    <Entitlement item="Voice" quantity="1" start="2026-01-01" end="2026-10-07"/>
  </Tenant>
  <Tenant name="initech">
    <Entitlement item="Voice" quantity="10" start="2026-11-01"/>
  </Tenant>
</Entitlements>
"#;

fn site_with(entitlements: &str) -> Site {
    let site = Site::new("UTC", ITEMS, "");
    site.entitlements(entitlements);
    let on = |t: &str, a: &str, media: &[&str], day: &str| {
        [
            ev(&format!("{day}T09:00:00Z"), "login", t, a, media, &[]),
            ev(&format!("{day}T10:00:00Z"), "logout", t, a, &[], &[]),
        ]
    };
    let mut evs = Vec::new();
    // acme, the 5th: v1, v2 voice; v3 voice and email; e1 email; e2 email and chat.
    evs.extend(on("acme", "v1", &["voice"], "2026-10-05"));
    evs.extend(on("acme", "v2", &["voice"], "2026-10-05"));
    evs.extend(on("acme", "v3", &["voice", "email"], "2026-10-05"));
    evs.extend(on("acme", "e1", &["email"], "2026-10-05"));
    evs.extend(on("acme", "e2", &["email", "chat"], "2026-10-05"));
    // newco, the 20th: one on voice, one on outbound (no grant of it).
    evs.extend(on("newco", "n1", &["voice"], "2026-10-20"));
    evs.extend(on("newco", "n2", &["outbound"], "2026-10-20"));
    // acmee, not provisioned: one on outbound.
    evs.extend(on("acmee", "s1", &["outbound"], "2026-10-20"));
    site.spool("a.jsonl", &lines(&evs));
    site.collect_and_rollup();
    site
}

fn site() -> Site {
    site_with(ENTITLEMENTS)
}

fn export(site: &Site, out: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site.path())
        .env_remove("SEATMETER_CONFIG")
        .args([
            "-c",
            "seatmeter.toml",
            "export",
            "billing",
            "--month",
            "2026-10",
        ])
        .args(["--out", out])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    text
}

fn csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect()
}

/// (line, entitled, over_use, billable_basis, billable_quantity, unit_price, amount) of a
/// tenant's month file.
fn bill(site: &Site, out: &str, tenant: &str) -> Vec<[String; 7]> {
    let rows = csv(&site
        .path()
        .join(out)
        .join(format!("seatmeter-billing-2026-10-tenant-{tenant}.csv")));
    rows.iter()
        .map(|r| {
            [
                r[2].clone(),
                r[8].clone(),
                r[9].clone(),
                r[10].clone(),
                r[11].clone(),
                r[12].clone(),
                r[13].clone(),
            ]
        })
        .collect()
}

fn line(b: &[[String; 7]], name: &str) -> [String; 7] {
    b.iter()
        .find(|l| l[0] == name)
        .unwrap_or_else(|| panic!("no line {name:?} in {b:?}"))
        .clone()
}

/// (quantity, amount) of a line.
fn qa(b: &[[String; 7]], name: &str) -> (String, String) {
    let l = line(b, name);
    (l[4].clone(), l[6].clone())
}

fn pair(q: &str, a: &str) -> (String, String) {
    (q.to_string(), a.to_string())
}

fn total(b: &[[String; 7]]) -> String {
    line(b, "total")[6].clone()
}

/// Rule 1: the minimum is charged for the days of the month inside the contract only.
#[test]
fn the_minimum_covers_the_days_of_the_contract_only() {
    let site = site();
    export(&site, "bill");
    // initech's only grant starts on 1 November: no day of October is in its contract,
    // so no minimum (it was billed the whole 50.00 before), and it used nothing: 0.00.
    let initech = bill(&site, "bill", "initech");
    assert!(
        initech.iter().all(|l| l[0] != "minimum charge"),
        "{initech:?}"
    );
    assert_eq!(total(&initech), "0.00");
    // newco: contract from the 10th, 22 of 31 days: 5000 × 22 / 31 = 110000 / 31 =
    // 3548.39 cents, rounded half up to 3548: 35.48. Its usage is 17.00 (see
    // `overage_is_billed_on_its_own_line`): minimum charge 35.48 − 17.00 = 18.48.
    let newco = bill(&site, "bill", "newco");
    assert_eq!(line(&newco, "minimum charge")[6], "18.48");
    assert_eq!(total(&newco), "35.48");
    // oldco: contract to the 7th, 7 days: 5000 × 7 / 31 = 35000 / 31 = 1129.03 cents ->
    // 11.29; no usage, so all of it is the minimum charge.
    let oldco = bill(&site, "bill", "oldco");
    assert_eq!(line(&oldco, "minimum charge")[6], "11.29");
    assert_eq!(total(&oldco), "11.29");
    // acme's contract is the whole month: the whole 50.00 minimum, below its 58.00.
    assert_eq!(total(&bill(&site, "bill", "acme")), "58.00");
    // acmee has no grants (not provisioned), so no contract to prorate by: billed like
    // any tenant, the whole minimum: 2.00 of usage + 48.00 = 50.00.
    let acmee = bill(&site, "bill", "acmee");
    assert_eq!(line(&acmee, "minimum charge")[6], "48.00");
    assert_eq!(total(&acmee), "50.00");
    // The summary: 58.00 + 50.00 + 0.00 + 35.48 + 11.29 = 154.77.
    let summary = csv(&site
        .path()
        .join("bill/seatmeter-billing-2026-10-summary.csv"));
    let got: Vec<(&str, &str)> = summary
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("acme", "58.00"),
            ("acmee", "50.00"),
            ("initech", "0.00"),
            ("newco", "35.48"),
            ("oldco", "11.29"),
            ("total", "154.77"),
        ]
    );
}

/// Rule 2: a priced bundle replaces the items it includes, for the seats it bills.
#[test]
fn a_bundle_and_its_items_are_not_billed_for_the_same_seats() {
    let site = site();
    export(&site, "bill");
    let acme = bill(&site, "bill", "acme");
    // Digital's peak is 2 (e1, e2: v3 uses voice, which Digital excludes): 2 × 6.00.
    assert_eq!(qa(&acme, "Digital"), pair("2", "12.00"));
    // Email's peak is 3 (v3, e1, e2): billed beyond Digital's 2, 3 − 2 = 1 × 4.00.
    assert_eq!(qa(&acme, "Email"), pair("1", "4.00"));
    // Chat's peak 1 (e2) is inside Digital's 2: max(0, 1 − 2) = 0.
    assert_eq!(qa(&acme, "Chat"), pair("0", "0.00"));
    // Voice is not in Digital: its peak of 3 × 10.00.
    assert_eq!(qa(&acme, "Voice"), pair("3", "30.00"));
    // 30.00 + 7.00 (Voice overage) + 4.00 + 0.00 + 0.00 + 12.00 + 5.00 (Digital overage).
    assert_eq!(total(&acme), "58.00");

    // replaces_items="false": the items are billed for all their seats, as before.
    let site = site_with(&ENTITLEMENTS.replace(
        r#"<Bundle name="Digital" issued="2026-01-01" start="2026-01-01">"#,
        r#"<Bundle name="Digital" issued="2026-01-01" start="2026-01-01" replaces_items="false">"#,
    ));
    export(&site, "bill");
    let acme = bill(&site, "bill", "acme");
    // Email 3 × 4.00 = 12.00, Chat 1 × 3.00 = 3.00.
    assert_eq!(qa(&acme, "Email"), pair("3", "12.00"));
    assert_eq!(qa(&acme, "Chat"), pair("1", "3.00"));
    // 30.00 + 7.00 + 12.00 + 3.00 + 0.00 + 12.00 + 5.00 = 69.00.
    assert_eq!(total(&acme), "69.00");

    // Without a monthly price for the bundle nothing is replaced: Email is billed 3.
    let site = site_with(ENTITLEMENTS);
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    assert!(cfg.contains("\"Digital\" = \"6.00\"\n"));
    std::fs::write(
        site.config_path(),
        cfg.replace("\"Digital\" = \"6.00\"\n", ""),
    )
    .unwrap();
    export(&site, "bill");
    let acme = bill(&site, "bill", "acme");
    assert_eq!(qa(&acme, "Email"), pair("3", "12.00"));
    assert_eq!(qa(&acme, "Digital"), pair("2", ""));
}

/// An attribute other than "true" or "false" is an error naming the line.
#[test]
fn replaces_items_is_true_or_false() {
    let site = Site::new("UTC", ITEMS, "");
    site.entitlements(&ENTITLEMENTS.replace(
        r#"start="2026-01-01">"#,
        r#"start="2026-01-01" replaces_items="maybe">"#,
    ));
    let err = seatmeter::config::Config::load(&site.config_path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("entitlements.xml:2") && err.contains("replaces_items"),
        "{err}"
    );
}

/// Rule 3: a provisioned tenant's use of an item it has no grant of is over-use.
#[test]
fn usage_without_a_grant_is_over_use_for_a_provisioned_tenant() {
    let site = site();
    let report = site.report("tenant", "monthly", "2026-10-01", "2026-10-31");
    let row = |t: &str, item: &str| -> [String; 4] {
        let r = rows(&report)
            .into_iter()
            .find(|r| r[0] == t && r[2] == item)
            .unwrap_or_else(|| panic!("no row {t} {item} in\n{report}"));
        [r[2].clone(), r[3].clone(), r[5].clone(), r[6].clone()]
    };
    let want = |item: &str, peak: &str, ent: &str, over: &str| -> [String; 4] {
        [item.into(), peak.into(), ent.into(), over.into()]
    };
    // newco has no grant of Outbound and no bundle that includes it: entitled 0, and its
    // one seat is over-use (it was "no license · within entitlement" before).
    assert_eq!(row("newco", "Outbound"), want("Outbound", "1", "0", "true"));
    // Its Voice: entitled 0 on the 1st–9th and 1 from the 10th; the month shows the
    // smallest day (0), but the 20th's 1 seat is within that day's 1.
    assert_eq!(row("newco", "Voice"), want("Voice", "1", "0", "false"));
    // acme has no grant of Email or Chat, but one of Digital, which includes them: they
    // are judged on Digital's row (peak 2 > 1), and have no entitlement of their own.
    assert_eq!(row("acme", "Email"), want("Email", "3", "", "false"));
    assert_eq!(row("acme", "Chat"), want("Chat", "1", "", "false"));
    assert_eq!(row("acme", "Digital"), want("Digital", "2", "1", "true"));
    // acme's Outbound: no grant, no bundle: 0, unused, so not over-used.
    assert_eq!(row("acme", "Outbound"), want("Outbound", "0", "0", "false"));
    // A bundle the tenant has no grant of keeps no entitlement.
    assert_eq!(row("newco", "Digital"), want("Digital", "0", "", "false"));
    // acmee is not provisioned: no entitlement, no over-use, as before.
    assert_eq!(row("acmee", "Outbound"), want("Outbound", "1", "", "false"));
    // The daily report of the 20th says the same for newco.
    let day = site.report("tenant", "daily", "2026-10-20", "2026-10-20");
    let r = rows(&day)
        .into_iter()
        .find(|r| r[0] == "newco" && r[2] == "Outbound")
        .unwrap();
    assert_eq!((r[5].as_str(), r[6].as_str()), ("0", "true"));
    // The system report is unchanged: no license line or system grant names Outbound, so
    // it has no entitlement and is never over-used, whoever uses it.
    let system = site.report("system", "monthly", "2026-10-01", "2026-10-31");
    let r = rows(&system)
        .into_iter()
        .find(|r| r[2] == "Outbound")
        .unwrap();
    // newco's n2 and acmee's s1 at once: 2.
    assert_eq!(
        (r[3].as_str(), r[5].as_str(), r[6].as_str()),
        ("2", "", "false")
    );
    // The bill says the same as the report.
    export(&site, "bill");
    let newco = bill(&site, "bill", "newco");
    let l = line(&newco, "Outbound");
    assert_eq!((l[1].as_str(), l[2].as_str()), ("0", "true"));
}

/// Rule 4: the tenant report and the bill name the same tenants, provisioned ones without
/// data included.
#[test]
fn every_provisioned_tenant_is_in_the_report_and_the_bill() {
    let site = site();
    let report = site.report("tenant", "monthly", "2026-10-01", "2026-10-31");
    let tenants: std::collections::BTreeSet<String> =
        rows(&report).into_iter().map(|r| r[0].clone()).collect();
    // acme, newco, acmee have data; oldco and initech only grants.
    let want: std::collections::BTreeSet<String> = ["acme", "acmee", "initech", "newco", "oldco"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(tenants, want);
    // initech: zeros; no snapshot is known, so no enabled seats; Voice named but not
    // valid in October (0), the items it has no grant of 0, Digital empty.
    let initech: Vec<[String; 7]> = rows(&report)
        .into_iter()
        .filter(|r| r[0] == "initech")
        .collect();
    let got: Vec<[&str; 5]> = initech
        .iter()
        .map(|r| [&*r[2], &*r[3], &*r[4], &*r[5], &*r[6]])
        .collect();
    assert_eq!(
        got,
        vec![
            ["Voice", "0", "", "0", "false"],
            ["Email", "0", "", "0", "false"],
            ["Chat", "0", "", "0", "false"],
            ["Outbound", "0", "", "0", "false"],
            ["Digital", "0", "", "", "false"],
        ]
    );
    // --id names it too.
    let (one, _) = site.report_full(
        "tenant",
        Some("initech"),
        "daily",
        "2026-10-01",
        "2026-10-02",
    );
    // 2 days × 5 measures.
    assert_eq!(rows(&one).len(), 10, "{one}");
    // The bill: one month file per tenant of the report, and the summary names them.
    export(&site, "bill");
    for t in &want {
        assert!(
            site.path()
                .join(format!("bill/seatmeter-billing-2026-10-tenant-{t}.csv"))
                .exists(),
            "{t}"
        );
    }
    let summary = csv(&site
        .path()
        .join("bill/seatmeter-billing-2026-10-summary.csv"));
    let billed: std::collections::BTreeSet<String> = summary
        .iter()
        .map(|r| r[1].clone())
        .filter(|t| t != "total")
        .collect();
    assert_eq!(billed, want);
}

/// Rule 5: seats above the entitlement are billed at the overage price, on a line of
/// their own.
#[test]
fn overage_is_billed_on_its_own_line() {
    let site = site();
    export(&site, "bill");
    let acme = bill(&site, "bill", "acme");
    // Voice: peak 3, entitled 2: 3 − 2 = 1 seat × 7.00 (its own overage price).
    assert_eq!(
        line(&acme, "Voice overage"),
        [
            "Voice overage",
            "2",
            "true",
            "over_use",
            "1",
            "7.00",
            "7.00"
        ]
        .map(String::from)
    );
    // Digital: peak 2, entitled 1: 2 − 1 = 1 × 5.00 (the default).
    assert_eq!(qa(&acme, "Digital overage"), pair("1", "5.00"));
    // Email: no entitlement of its own, so no overage.
    assert_eq!(qa(&acme, "Email overage"), pair("0", "0.00"));
    // The rows: each measure, then its overage, then the total (58.00 is above 50.00).
    let names: Vec<&str> = acme.iter().map(|l| l[0].as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Voice",
            "Voice overage",
            "Email",
            "Email overage",
            "Chat",
            "Chat overage",
            "Outbound",
            "Outbound overage",
            "Digital",
            "Digital overage",
            "total"
        ]
    );
    // newco: Outbound 1 seat, entitled 0: 1 × 5.00. Voice: the month's entitlement is 0
    // (the 1st to the 9th) but the 20th's seat is within that day's 1: 0 seats, not 1.
    let newco = bill(&site, "bill", "newco");
    assert_eq!(qa(&newco, "Outbound overage"), pair("1", "5.00"));
    assert_eq!(qa(&newco, "Voice overage"), pair("0", "0.00"));
    // Its usage: Voice 1 × 10.00 + Outbound 1 × 2.00 + 5.00 overage = 17.00, below its
    // 35.48 minimum (see the first test).
    assert_eq!(qa(&newco, "Voice"), pair("1", "10.00"));
    assert_eq!(qa(&newco, "Outbound"), pair("1", "2.00"));
    assert_eq!(line(&newco, "minimum charge")[6], "18.48");
    // acmee is not provisioned: no entitlement, no overage.
    assert_eq!(
        qa(&bill(&site, "bill", "acmee"), "Outbound overage"),
        pair("0", "0.00")
    );
    // Daily files have no overage rows.
    let day = csv(&site
        .path()
        .join("bill/seatmeter-billing-2026-10-05-tenant-acme.csv"));
    assert!(day.iter().all(|r| !r[2].ends_with(" overage")), "{day:?}");
}
