//! The tenant boundary (docs/SEMANTICS.md, "Tenant documents"): everything produced for one
//! tenant holds that tenant's data only. For every tenant of the demo (tenant grants, three
//! tenants with data and one provisioned without) and of a generated site of 40 tenants
//! (the site's license only), each document made for the tenant is read back as text and
//! searched for every other tenant's name and agent ids, the site's own totals and the
//! server's paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use seatmeter::config::Config;

use crate::support::{pdftotext, seatmeter};

/// Whether `word` occurs in `text` as a whole word: not inside a longer name or number
/// (so an agent id found inside a SHA-256 digest does not count).
fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[test]
fn words_are_found_whole_only() {
    assert!(has_word("tenant acme: 3", "acme"));
    assert!(has_word("group acme/Support", "acme"));
    assert!(!has_word("seat a10012 and 4fa1001b", "a1001"));
    assert!(!has_word("tenant-0123", "tenant-012"));
}

/// The tenants of a site's store, each with its agents' ids.
fn tenants_and_agents(config: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let config = Config::load(config).unwrap();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let dims = store.dimensions().unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in dims.tenants.iter().skip(1).filter(|t| !t.is_empty()) {
        out.entry(t.clone()).or_default();
    }
    for (t, agent) in dims.agents.iter().skip(1) {
        if let Some(name) = dims.tenants.get(*t as usize).filter(|n| !n.is_empty()) {
            out.entry(name.clone()).or_default().insert(agent.clone());
        }
    }
    out
}

/// The counts of a PDF report's cover and anomalies: events of the report's days, stray
/// logouts, lines kept aside.
fn counts(text: &str) -> [u64; 3] {
    let after = |marker: &str| -> u64 {
        let at = text
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker:?} in {text}"));
        let rest = &text[at + marker.len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().unwrap()
    };
    [
        {
            let at = text.find("Events, sessions").expect("events counted");
            let rest = text[at + "Events, sessions".len()..].trim_start();
            rest.split(' ').next().unwrap().parse().unwrap()
        },
        after("Stray logouts ("),
        after("Lines kept aside by the collectors ("),
    ]
}

/// The site's counts (from the system report of `days`) and the server's paths: the
/// site folder's absolute path and the name of the temporary folder it is in (a name no
/// document could hold by chance).
fn site_facts(dir: &Path, config: &str, days: (&str, &str)) -> (Option<[u64; 3]>, Vec<String>) {
    let pdf = dir.join("system-facts.pdf");
    let o = seatmeter(
        dir,
        &[
            "--config",
            config,
            "report",
            "--scope",
            "system",
            "--granularity",
            "daily",
            "--from",
            days.0,
            "--to",
            days.1,
            "--format",
            "pdf",
            "--allow-incomplete",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(o.status.code().is_some_and(|c| c == 0 || c == 3), "{o:?}");
    let abs = std::fs::canonicalize(dir).unwrap();
    (
        pdftotext(&pdf).map(|t| counts(&t)),
        vec![
            abs.display().to_string(),
            // The temporary folder the site is in.
            abs.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        ],
    )
}

/// Every document `seatmeter` makes for `tenant`, as (what, text).
fn documents_of(
    dir: &Path,
    config: &str,
    tenant: &str,
    days: (&str, &str),
    month: &str,
    full: bool,
) -> Vec<(String, String)> {
    let mut docs = Vec::new();
    let base = [
        "--config",
        config,
        "report",
        "--from",
        days.0,
        "--to",
        days.1,
        "--id",
        tenant,
        "--allow-incomplete",
    ];
    let mut kinds = vec![("tenant", "daily", "pdf"), ("tenant", "daily", "csv")];
    if full {
        kinds.extend([
            ("group", "daily", "pdf"),
            ("tenant", "hourly", "json"),
            ("tenant", "weekly", "table"),
            ("group", "daily", "csv"),
            ("group", "monthly", "json"),
            // The agent report: one row per agent of the tenant.
            ("agent", "", "csv"),
            ("agent", "", "pdf"),
        ]);
    }
    for (scope, granularity, format) in kinds {
        let out = dir.join(format!("doc-{tenant}-{scope}-{granularity}.{format}"));
        let mut args = base.to_vec();
        args.extend(["--scope", scope]);
        if !granularity.is_empty() {
            args.extend(["--granularity", granularity]);
        }
        args.extend(["--format", format, "--out", out.to_str().unwrap()]);
        let o = seatmeter(dir, &args);
        assert!(
            o.status.code().is_some_and(|c| c == 0 || c == 3),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let what = format!("{scope} {granularity} {format} of {tenant}");
        let text = match format {
            "pdf" => match pdftotext(&out) {
                Some(t) => t,
                None => continue,
            },
            _ => std::fs::read_to_string(&out).unwrap(),
        };
        assert!(has_word(&text, tenant), "{what} names its tenant");
        docs.push((what.clone(), text));
        // The side file of an incomplete report is the tenant's too.
        let side = seatmeter::report::output::gaps_file(&out);
        if let Ok(text) = std::fs::read_to_string(&side) {
            docs.push((format!("{what} (gaps)"), text));
        }
    }
    // The billing files a reseller hands the tenant: everything written for it.
    let out = dir.join(format!("billing-{tenant}"));
    let o = seatmeter(
        dir,
        &[
            "--config",
            config,
            "export",
            "billing",
            "--quantities-only",
            "--month",
            month,
            "--tenant",
            tenant,
            "--allow-incomplete",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 3),
        "billing of {tenant}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut files = 0;
    for f in std::fs::read_dir(&out).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        docs.push((
            format!("billing file {name}"),
            format!("{name}\n{}", std::fs::read_to_string(&f).unwrap()),
        ));
        files += 1;
    }
    assert!(files > 1, "billing of {tenant} wrote its files");
    docs
}

/// Checks every tenant's documents; returns how many were read. The counts of the tenants'
/// own PDFs add up to the site's: each counts its own events and stray logouts, not the
/// site's (rejected lines naming no tenant are the operator's only).
fn check_site(dir: &Path, config: &str, days: (&str, &str), month: &str, full: bool) -> usize {
    let tenants = tenants_and_agents(&dir.join(config));
    assert!(tenants.len() > 2, "{tenants:?}");
    let (site_counts, paths) = site_facts(dir, config, days);
    let mut read = 0;
    let mut sum = [0u64; 3];
    for (tenant, own) in &tenants {
        for (what, text) in documents_of(dir, config, tenant, days, month, full) {
            read += 1;
            if what.starts_with("tenant daily pdf") {
                let c = counts(&text);
                (0..3).for_each(|i| sum[i] += c[i]);
            }
            for (other, agents) in tenants.iter().filter(|(o, _)| *o != tenant) {
                assert!(
                    !has_word(&text, other),
                    "{what} names tenant {other}:\n{text}"
                );
                if let Some(a) = agents
                    .iter()
                    .find(|a| !own.contains(*a) && has_word(&text, a))
                {
                    panic!("{what} names agent {a} of tenant {other}:\n{text}");
                }
            }
            for path in &paths {
                assert!(
                    !text.contains(path),
                    "{what} has the server path {path}:\n{text}"
                );
            }
        }
    }
    if let Some(site) = site_counts {
        assert_eq!(
            sum[..2],
            site[..2],
            "events and stray logouts: tenants' sum vs the site's"
        );
        assert!(
            sum[2] <= site[2],
            "rejected lines: tenants' {} vs the site's {}",
            sum[2],
            site[2]
        );
        assert!(site[0] > 0, "the site has events");
    }
    read
}

#[test]
fn a_demo_tenant_s_documents_hold_its_own_data_only() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["demo", "--dir", "site"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let site = dir.path().join("site");
    let read = check_site(
        &site,
        "seatmeter.toml",
        ("2026-10-05", "2026-11-08"),
        "2026-10",
        true,
    );
    assert!(read >= 4 * 8, "{read} documents read");
}

#[test]
fn each_of_40_tenants_gets_its_own_data_only() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(
        dir.path(),
        &[
            "gen",
            "--out",
            "site",
            "--tenants",
            "40",
            "--agents",
            "240",
            "--days",
            "3",
            "--start",
            "2026-10-20",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let site = dir.path().join("site");
    for step in [&["collect", "--once"][..], &["rollup"]] {
        let mut args = vec!["--config", "seatmeter.toml"];
        args.extend(step);
        let o = seatmeter(&site, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let read = check_site(
        &site,
        "seatmeter.toml",
        ("2026-10-20", "2026-10-22"),
        "2026-10",
        false,
    );
    assert!(read >= 40 * 3, "{read} documents read");
}
