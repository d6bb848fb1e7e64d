//! The rule cases of `tests/cases/`: each folder is a small site and the outputs it must
//! give, run through the `seatmeter` binary as a user runs it, and compared byte for byte.
//! The names of the expected files say what to run (see ../../docs/TESTING.md, "Rule
//! cases"). With `SEATMETER_BLESS=1` the expected files are rewritten instead.
//!
//! Only the binary and std are used here, never the library, so that the cases pin what a
//! user sees whatever the crates look like inside.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCOPES: [&str; 4] = ["system", "tenant", "group", "place-group"];
const GRANULARITIES: [&str; 5] = ["10min", "hourly", "daily", "weekly", "monthly"];
const ROLLUP: &str = "rollup.txt";

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// `SEATMETER_BLESS=1`: rewrite the expected files with what the binary gives.
fn blessing() -> bool {
    std::env::var_os("SEATMETER_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn every_rule_case() {
    let root = cases_root();
    let bless = blessing();
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cases.push(path);
        } else {
            problems.push(format!("{}: not a case folder", path.display()));
        }
    }
    cases.sort();
    assert!(!cases.is_empty(), "no case folder in {}", root.display());
    for case in &cases {
        problems.extend(run_case(case, bless));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the {} rule case(s) of {}:\n\n{}\n\n\
         If the change is intended, rewrite the expected files with \
         `SEATMETER_BLESS=1 cargo test --test it cases::every_rule_case` and review every changed row.",
        problems.len(),
        cases.len(),
        root.display(),
        problems.join("\n\n")
    );
}

#[test]
fn a_wrong_expected_file_is_a_failure_and_bless_rewrites_it() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("intervals-are-half-open");
    copy_tree(&cases_root().join("intervals-are-half-open"), &case, false);
    let file = case.join("expected/system.10min.2026-01-05.2026-01-05.csv");
    let good = std::fs::read_to_string(&file).unwrap();
    let row = "2026-01-05T10:00:00+00:00,2026-01-05T10:10:00+00:00,Voice,1,";
    let line = 1 + good.lines().position(|l| l.contains(row)).unwrap();
    let wrong = good.replace(row, &row.replace("Voice,1,", "Voice,2,"));
    std::fs::write(&file, &wrong).unwrap();

    let problems = run_case(&case, false);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert!(
        p.contains("intervals-are-half-open/expected/system.10min.2026-01-05.2026-01-05.csv")
            && p.contains(&format!("line {line}"))
            && p.contains("Voice,2,")
            && p.contains("Voice,1,"),
        "{p}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        wrong,
        "compared only"
    );

    assert_eq!(run_case(&case, true), Vec::<String>::new());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good, "blessed");
    assert_eq!(run_case(&case, false), Vec::<String>::new());
}

#[test]
fn an_empty_or_unknown_named_expected_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("intervals-are-half-open");
    copy_tree(&cases_root().join("intervals-are-half-open"), &case, false);
    let expected = case.join("expected");
    let bad = [
        "sytem.10min.2026-01-05.2026-01-05.csv",
        "system.10min.2026-01-05.csv",
        "system.10mins.2026-01-05.2026-01-05.csv",
        "system.10min.2026-01-05.2026-1-05.csv",
        "system.10min.2026-01-05.2026-01-05.csv.txt",
        "tenant.daily.2026-01-05.2026-01-05.a.csv",
        "tenant.daily.2026-01-05.2026-01-05.id=.csv",
        "group.daily.2026-01-05.2026-01-05.id=a%2Gb.csv",
        "rollup.csv",
    ];
    for name in bad {
        std::fs::write(expected.join(name), "scope\n").unwrap();
    }
    let empty = "system.hourly.2026-01-05.2026-01-05.csv";
    std::fs::write(expected.join(empty), "").unwrap();

    let problems = run_case(&case, false);
    assert_eq!(problems.len(), bad.len() + 1, "{problems:#?}");
    for name in bad.iter().chain([&empty]) {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&format!("expected/{name}:"))),
            "{name} not reported in {problems:#?}"
        );
    }

    // Blessing fills an empty file (that is how a case is added), never a misnamed one.
    let problems = run_case(&case, true);
    assert_eq!(problems.len(), bad.len(), "{problems:#?}");
    let filled = std::fs::read_to_string(expected.join(empty)).unwrap();
    assert!(filled.starts_with("scope,scope_id,"), "{filled}");
}

#[test]
fn expected_file_names_say_which_report_to_run() {
    let args = |name: &str| match parse_name(name) {
        Ok(Pin::Report { args, fails }) => (args.join(" "), fails),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        args("group.daily.2026-01-05.2026-01-06.id=acme%2FSupport.csv"),
        (
            "report --scope group --granularity daily --from 2026-01-05 --to 2026-01-06 \
             --id acme/Support --format csv"
                .to_string(),
            false
        )
    );
    assert_eq!(
        args("tenant.daily.2026-01-05.2026-01-05.id=a.b%25.fails.txt"),
        (
            "report --scope tenant --granularity daily --from 2026-01-05 --to 2026-01-05 \
             --id a.b% --format csv"
                .to_string(),
            true
        )
    );
    assert_eq!(parse_name("rollup.txt"), Ok(Pin::Rollup));
    assert_eq!(
        without_timings("rolled up 1 day(s): 3 event(s); 0 day(s) unchanged (0.01 s)\nnext\n"),
        "rolled up 1 day(s): 3 event(s); 0 day(s) unchanged\nnext\n"
    );
}

/// What an expected file pins.
#[derive(Debug, PartialEq)]
enum Pin {
    /// `rollup.txt`: what `rollup` prints on standard output, its timing removed.
    Rollup,
    /// `<scope>.<granularity>.<from>.<to>[.id=<id>].csv`: the report's CSV output.
    /// With `.fails.txt` in place of `.csv`, the report must fail: the file holds
    /// `exit status: N` and then its standard error.
    Report { args: Vec<String>, fails: bool },
}

/// What the name of an expected file asks for; an error for any name outside the scheme,
/// so that a typo cannot skip a report.
fn parse_name(name: &str) -> Result<Pin, String> {
    if name == ROLLUP {
        return Ok(Pin::Rollup);
    }
    let (stem, fails) = if let Some(stem) = name.strip_suffix(".fails.txt") {
        (stem, true)
    } else if let Some(stem) = name.strip_suffix(".csv") {
        (stem, false)
    } else {
        return Err(format!(
            "not a name of an expected file: want {ROLLUP}, <report>.csv or <report>.fails.txt"
        ));
    };
    let mut parts = stem.splitn(5, '.');
    let mut part = |what: &str| {
        parts.next().ok_or_else(|| {
            format!("no {what} in the name: want <scope>.<granularity>.<from>.<to>[.id=<id>]")
        })
    };
    let scope = part("scope")?;
    let granularity = part("granularity")?;
    let from = part("first date")?;
    let to = part("last date")?;
    let id = parts.next();
    if !SCOPES.contains(&scope) {
        return Err(format!("unknown scope {scope:?}: want one of {SCOPES:?}"));
    }
    if !GRANULARITIES.contains(&granularity) {
        return Err(format!(
            "unknown granularity {granularity:?}: want one of {GRANULARITIES:?}"
        ));
    }
    for date in [from, to] {
        let b = date.as_bytes();
        let shaped = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shaped {
            return Err(format!("{date:?} is not a date YYYY-MM-DD"));
        }
    }
    let mut args: Vec<String> = [
        "report",
        "--scope",
        scope,
        "--granularity",
        granularity,
        "--from",
        from,
        "--to",
        to,
    ]
    .map(String::from)
    .into();
    if let Some(id) = id {
        let Some(id) = id.strip_prefix("id=").filter(|id| !id.is_empty()) else {
            return Err(format!(
                "{id:?} after the dates: want id=<id> (with %2F for /)"
            ));
        };
        args.extend(["--id".to_string(), percent_decode(id)?]);
    }
    args.extend(["--format".to_string(), "csv".to_string()]);
    Ok(Pin::Report { args, fails })
}

/// `%2F` is `/`, `%25` is `%` (any `%` and two hex digits are decoded).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape at {:?} in the id", &s[i..]))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the id is not UTF-8 once decoded".to_string())
}

/// The steps of a case: the case folder itself, then `step-2/`, `step-3/`, … in order.
/// Each step's files (but `expected/`) are copied over the site before it runs.
fn steps(case: &Path) -> Result<Vec<PathBuf>, String> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(case).map_err(|e| e.to_string())? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_prefix("step-") {
            match n.parse::<u32>() {
                Ok(n) if n >= 2 && case.join(&*name).is_dir() => numbers.push(n),
                _ => return Err(format!("{name}: want a folder step-2, step-3, …")),
            }
        }
    }
    numbers.sort();
    if numbers.iter().zip(2..).any(|(n, want)| *n != want) {
        return Err(format!(
            "steps {numbers:?}: want step-2, step-3, … with none missing"
        ));
    }
    let mut all = vec![case.to_path_buf()];
    all.extend(numbers.iter().map(|n| case.join(format!("step-{n}"))));
    Ok(all)
}

/// Runs one case, in a copy of its folder. Returns its problems, each naming the case and
/// the expected file; with `bless`, rewrites the expected files that differ instead.
fn run_case(case: &Path, bless: bool) -> Vec<String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let mut problems = Vec::new();
    let readme = std::fs::read_to_string(case.join("README.md")).unwrap_or_default();
    if readme.trim().is_empty() {
        problems.push(format!(
            "{name}/README.md: missing or empty (say which rule the case pins, and where)"
        ));
    }
    if case.join("seatmeter.db").exists() {
        problems.push(format!(
            "{name}/seatmeter.db: a store left by running the binary in the case folder; \
             delete it (the driver runs each case in a copy, from an empty store)"
        ));
        return problems;
    }
    let steps = match steps(case) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            return problems;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path();
    for (i, step) in steps.iter().enumerate() {
        let label = if i == 0 {
            name.clone()
        } else {
            format!("{name}/{}", step.file_name().unwrap().to_string_lossy())
        };
        copy_tree(step, site, true);
        if let Err(e) = run_step(site, step, &label, bless, &mut problems) {
            problems.push(e);
            break;
        }
    }
    problems
}

/// Collects, rolls up and runs the reports of one step. An `Err` stops the case (the
/// site is not what the later steps expect).
fn run_step(
    site: &Path,
    step: &Path,
    label: &str,
    bless: bool,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let mut expected: Vec<(String, Pin)> = Vec::new();
    let listing = std::fs::read_dir(step.join("expected"))
        .map_err(|e| format!("{label}/expected: {e} (every step needs expected files)"))?;
    for entry in listing {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        let at = format!("{label}/expected/{file}");
        if !entry.path().is_file() {
            problems.push(format!("{at}: not a file"));
            continue;
        }
        match parse_name(&file) {
            Ok(pin) => expected.push((file, pin)),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    if expected.is_empty() {
        return Err(format!("{label}/expected: no expected file to check"));
    }

    let collect = seatmeter(site, &["collect", "--once"]);
    if !collect.status.success() {
        return Err(format!(
            "{label}: `collect --once` failed\n{}",
            shown(&collect)
        ));
    }
    let rollup = seatmeter(site, &["rollup"]);
    if !rollup.status.success() {
        return Err(format!("{label}: `rollup` failed\n{}", shown(&rollup)));
    }
    for (file, pin) in expected {
        let at = format!("{label}/expected/{file}");
        let actual = match pin {
            Pin::Rollup => without_timings(&String::from_utf8_lossy(&rollup.stdout)).into_bytes(),
            Pin::Report { args, fails } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = seatmeter(site, &args);
                match (out.status.success(), fails) {
                    (true, false) => out.stdout,
                    (false, true) => {
                        let mut text = format!("exit status: {}\n", status(&out)).into_bytes();
                        text.extend(&out.stderr);
                        text
                    }
                    (false, false) => {
                        problems.push(format!(
                            "{at}: `{}` failed\n{}",
                            args.join(" "),
                            shown(&out)
                        ));
                        continue;
                    }
                    (true, true) => {
                        problems.push(format!(
                            "{at}: `{}` succeeded, but the file name says it fails",
                            args.join(" ")
                        ));
                        continue;
                    }
                }
            }
        };
        let path = step.join("expected").join(&file);
        let want = std::fs::read(&path).unwrap();
        if want == actual {
            continue;
        }
        if bless {
            std::fs::write(&path, &actual).unwrap();
            println!("blessed {at}");
        } else if want.is_empty() {
            problems.push(format!(
                "{at}: empty; fill it with SEATMETER_BLESS=1 and review what it holds"
            ));
        } else {
            problems.push(format!("{at}: {}", first_difference(&want, &actual)));
        }
    }
    Ok(())
}

/// Runs the binary in `site`, as a user does.
fn seatmeter(site: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site)
        .env_remove("SEATMETER_CONFIG")
        .env_remove("SEATMETER_LOG")
        .env_remove("SEATMETER_LOG_FORMAT")
        .args(["--config", "seatmeter.toml"])
        .args(args)
        .output()
        .unwrap()
}

fn status(out: &Output) -> String {
    match out.status.code() {
        Some(code) => code.to_string(),
        None => format!("{} (no code: killed?)", out.status),
    }
}

fn shown(out: &Output) -> String {
    format!(
        "    exit status: {}\n    stdout: {}\n    stderr: {}",
        status(out),
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    )
}

/// Drops a trailing ` (0.01 s)` (a timing) from every line.
fn without_timings(text: &str) -> String {
    text.lines()
        .map(|l| match l.rfind(" (") {
            Some(i) if l.ends_with(" s)") && l[i + 2..l.len() - 3].parse::<f64>().is_ok() => {
                &l[..i]
            }
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Where two texts first differ, by line.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let want = String::from_utf8_lossy(want);
    let got = String::from_utf8_lossy(got);
    let w: Vec<&str> = want.split_inclusive('\n').collect();
    let g: Vec<&str> = got.split_inclusive('\n').collect();
    let i = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    let show = |l: Option<&&str>| match l {
        None => "(end of output)".to_string(),
        Some(l) if !l.ends_with('\n') => format!("{l} (no newline at the end)"),
        Some(l) => l.trim_end_matches('\n').to_string(),
    };
    format!(
        "line {} differs ({} line(s) expected, {} produced)\n    expected: {}\n    actual:   {}",
        i + 1,
        w.len(),
        g.len(),
        show(w.get(i)),
        show(g.get(i))
    )
}

/// Copies the files of `from` into `to` (made if missing). With `site_only`, leaves out
/// what belongs to the case rather than the site: `expected/`, `README.md` and `step-*/`.
fn copy_tree(from: &Path, to: &Path, site_only: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if site_only && (text == "expected" || text == "README.md" || text.starts_with("step-")) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name), false);
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}
