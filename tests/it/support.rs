//! A site in a temporary folder, driven through the library as the commands drive it.

use std::path::{Path, PathBuf};

use seatmeter::collect::{RunReport, run_once};
use seatmeter::config::Config;
use seatmeter::report::{Outcome, Reporter, Request};
use seatmeter::rollup::{Days, Rollup, RollupStats};
use seatmeter_core::calendar::parse_date;
use seatmeter_core::{Granularity, ScopeKind};
use seatmeter_reports::csv::CsvRenderer;
use seatmeter_reports::{Extra, Renderer};

pub const VOICE_EMAIL: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]

[[item]]
name = "Email"
media = ["email"]
features = ["E"]
"#;

pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    /// A site with a spool and a snapshot folder, `items` (TOML) and a license file.
    pub fn new(tz: &str, items: &str, license: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("spool")).unwrap();
        std::fs::create_dir_all(dir.path().join("config-snapshots")).unwrap();
        std::fs::write(dir.path().join("license.dat"), license).unwrap();
        let config = format!(
            "timezone = \"{tz}\"\n[store]\npath = \"seatmeter.db\"\n\
             [[collector]]\nname = \"events\"\nkind = \"spool\"\npath = \"spool\"\nsettle = \"0s\"\n\
             [[collector]]\nname = \"cfg\"\nkind = \"config-xml\"\npath = \"config-snapshots\"\n\
             [license]\nfiles = [\"license.dat\"]\n{items}"
        );
        std::fs::write(dir.path().join("seatmeter.toml"), config).unwrap();
        Site { dir }
    }

    /// The worked example's items and a license of 1 seat each.
    pub fn simple(tz: &str) -> Site {
        Site::new(
            tz,
            VOICE_EMAIL,
            "INCREMENT V genesys.d 8.5 permanent 1\nINCREMENT E genesys.d 8.5 permanent 1\n",
        )
    }

    /// Sets a top-level key (`week_start = "sunday"`) at the head of the configuration,
    /// in place of the key's earlier line.
    pub fn set_top(&self, line: &str) {
        let path = self.config_path();
        let key = line.split('=').next().unwrap().trim();
        let text = std::fs::read_to_string(&path).unwrap();
        let rest: Vec<&str> = text
            .lines()
            .filter(|l| l.split('=').next().unwrap().trim() != key)
            .collect();
        std::fs::write(&path, format!("{line}\n{}\n", rest.join("\n"))).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("seatmeter.toml")
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path()).unwrap()
    }

    /// Adds an entitlement XML file (`entitlements.xml`) to the configuration.
    pub fn entitlements(&self, xml: &str) {
        let cfg = std::fs::read_to_string(self.config_path()).unwrap();
        std::fs::write(
            self.config_path(),
            cfg.replace(
                "files = [\"license.dat\"]",
                "files = [\"license.dat\"]\nentitlements = [\"entitlements.xml\"]",
            ),
        )
        .unwrap();
        std::fs::write(self.path().join("entitlements.xml"), xml).unwrap();
    }

    pub fn spool(&self, name: &str, text: &str) {
        std::fs::write(self.path().join("spool").join(name), text).unwrap();
    }

    pub fn snapshot(&self, name: &str, xml: &str) {
        std::fs::write(self.path().join("config-snapshots").join(name), xml).unwrap();
    }

    pub fn collect(&self) -> Vec<RunReport> {
        let config = self.config();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        config
            .collectors
            .iter()
            .map(|c| {
                let r = run_once(
                    store.as_mut(),
                    c,
                    config.collection.future_margin.0,
                    &|| false,
                );
                assert!(r.error.is_none(), "{:?}", r.error);
                r
            })
            .collect()
    }

    pub fn rollup(&self) -> RollupStats {
        self.rollup_days(Days::Changed)
    }

    pub fn rollup_days(&self, days: Days) -> RollupStats {
        let config = self.config();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        Rollup::new(store.as_mut(), &config)
            .run(days, &mut |_| {})
            .unwrap()
    }

    pub fn collect_and_rollup(&self) -> RollupStats {
        self.collect();
        self.rollup()
    }

    /// A report as CSV text, and its outcome.
    pub fn report_full(
        &self,
        scope: &str,
        id: Option<&str>,
        granularity: &str,
        from: &str,
        to: &str,
    ) -> (String, Outcome) {
        self.report_with(scope, id, granularity, from, to, Extra::default())
    }

    /// A CSV report with the columns of `extra` after the contract's.
    pub fn report_with(
        &self,
        scope: &str,
        id: Option<&str>,
        granularity: &str,
        from: &str,
        to: &str,
        extra: Extra,
    ) -> (String, Outcome) {
        let config = self.config();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        let req = Request {
            scope: scope.parse::<ScopeKind>().unwrap(),
            id: id.map(String::from),
            granularity: granularity.parse::<Granularity>().unwrap(),
            from: parse_date(from).unwrap(),
            to: parse_date(to).unwrap(),
        };
        let mut buf = Vec::new();
        let outcome = {
            let mut r: Box<dyn Renderer + '_> =
                Box::new(CsvRenderer::new(&mut buf, extra).unwrap());
            let outcome = Reporter::new(store.as_mut(), &config)
                .unwrap()
                .run(&req, &mut |row| r.row(row).map_err(Into::into))
                .unwrap();
            r.finish().unwrap();
            outcome
        };
        (String::from_utf8(buf).unwrap(), outcome)
    }

    pub fn report(&self, scope: &str, granularity: &str, from: &str, to: &str) -> String {
        self.report_full(scope, None, granularity, from, to).0
    }
}

/// The text of a PDF file by `pdftotext` (Debian's poppler-utils; `.ci/run` installs it):
/// None, said loudly (and a failure under `CI=true`), when it is not installed.
pub fn pdftotext(pdf: &Path) -> Option<String> {
    match std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => Some(String::from_utf8(o.stdout).unwrap()),
        Ok(o) => panic!("pdftotext failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            seatmeter_core::testing::skip(
                "a PDF test",
                "pdftotext (poppler-utils) is not installed",
            );
            None
        }
    }
}

/// Runs the `seatmeter` binary in `dir`, as a user does.
pub fn seatmeter(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(dir)
        .env_remove("SEATMETER_CONFIG")
        .args(args)
        .output()
        .unwrap()
}

/// The rows of a CSV report as (scope_id, period_start, item, peak, enabled, entitled, over_use).
pub fn rows(csv: &str) -> Vec<[String; 7]> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<String> = split(l);
            [
                f[1].clone(),
                f[3].clone(),
                f[5].clone(),
                f[6].clone(),
                f[7].clone(),
                f[8].clone(),
                f[9].clone(),
            ]
        })
        .collect()
}

/// Splits a CSV line (fields may be quoted).
pub fn split(line: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    r.records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(String::from)
        .collect()
}

/// The peak of `item` in each row, in order, for one scope id.
pub fn peaks(csv: &str, scope_id: &str, item: &str) -> Vec<u64> {
    rows(csv)
        .into_iter()
        .filter(|r| r[0] == scope_id && r[2] == item)
        .map(|r| r[3].parse().unwrap())
        .collect()
}

/// A JSON Lines seat event.
pub fn ev(
    ts: &str,
    event: &str,
    tenant: &str,
    agent: &str,
    media: &[&str],
    groups: &[&str],
) -> String {
    serde_json::json!({"ts": ts, "event": event, "tenant": tenant, "agent": agent, "media": media, "groups": groups}).to_string()
}

pub fn lines(evs: &[String]) -> String {
    let mut s = evs.join("\n");
    s.push('\n');
    s
}

/// The output of `seatmeter ARGS` (run in a new temporary folder), which must succeed.
pub fn stdout_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The subcommands a `--help` lists under "Commands:" (`help` left out), so that a test
/// built on them follows the binary instead of a list of its own.
pub fn subcommands(help: &str) -> Vec<String> {
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect();
    assert!(!names.is_empty(), "no subcommands in --help:\n{help}");
    names
}

/// The long options (`--scope`, …) a `--help` lists, `--help` itself left out.
pub fn long_options(help: &str) -> Vec<String> {
    let mut names: Vec<String> = help
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ',' || c == '='))
        .filter(|w| w.starts_with("--") && w.len() > 2 && *w != "--help")
        .map(String::from)
        .collect();
    names.dedup();
    assert!(!names.is_empty(), "no options in --help:\n{help}");
    names
}

/// Whether `word` occurs in `text` on its own, not as part of a longer name (`cursor` in
/// `reset-cursor`, `man` in `command`).
pub fn names_word(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(part)
            && !text[i + word.len()..].chars().next().is_some_and(part)
    })
}
