//! `seatmeter man`: a page for the command and each subcommand, from the definitions
//! `--help` shows.

use crate::support::{long_options, seatmeter, stdout_of, subcommands};

/// A page's text with roff's escaped hyphens (`\-\-scope`) as typed.
fn unescaped(page: &str) -> String {
    page.replace("\\-", "-")
}

#[test]
fn man_out_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["man", "--out", "pages"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pages = dir.path().join("pages");
    let mut expected = vec!["seatmeter.1".to_string()];
    expected.extend(
        subcommands(&stdout_of(&["--help"]))
            .iter()
            .map(|c| format!("seatmeter-{c}.1")),
    );
    expected.push("seatmeter-license-check.1".into());
    for name in &expected {
        let page =
            std::fs::read_to_string(pages.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            page.starts_with(".TH "),
            "{name} starts with {:?}",
            &page[..40]
        );
        let title = name.trim_end_matches(".1");
        assert!(
            page.lines()
                .next()
                .unwrap()
                .starts_with(&format!(".TH {title} 1")),
            "{name}"
        );
        assert!(page.contains(".SH NAME"), "{name}");
    }
    let count = std::fs::read_dir(&pages).unwrap().count();
    assert!(count >= expected.len(), "{count} pages");
    assert!(!pages.join("seatmeter-help.1").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("wrote {count} man page(s)")));

    let report = unescaped(&std::fs::read_to_string(pages.join("seatmeter-report.1")).unwrap());
    let options = long_options(&stdout_of(&["report", "--help"]));
    for expected in ["--scope", "--granularity", "--from", "--allow-incomplete"] {
        assert!(
            options.iter().any(|o| o == expected),
            "{expected} in {options:?}"
        );
    }
    let missing: Vec<&String> = options.iter().filter(|o| !report.contains(*o)).collect();
    assert!(missing.is_empty(), "seatmeter-report.1 misses {missing:?}");
}

#[test]
fn man_without_out_prints_the_main_page() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".TH seatmeter 1"), "{}", &page[..80]);
    let text = unescaped(&page);
    for c in subcommands(&stdout_of(&["--help"])) {
        assert!(text.contains(&c), "seatmeter.1 lists {c}");
    }
    assert!(text.contains("--config"));
}
