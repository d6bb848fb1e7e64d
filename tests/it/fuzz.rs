//! Fuzzing without nightly Rust (docs/TESTING.md, "Fuzzing"): each parser of what comes
//! from outside — license files, entitlement XML, the configuration, configuration
//! snapshots (spool lines are fuzzed in collectors/src/spool/tests.rs) — gets inputs
//! mutated from real seeds by a seeded generator, and must never panic; its errors name
//! the file and the line. `SEATMETER_FUZZ_ITERATIONS` and `SEATMETER_FUZZ_SEED` run a
//! longer campaign (scripts/fuzz.sh); a failure prints the seed and iteration.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use seatmeter::config::ConfigFile;
use seatmeter::entitlement::{flexnet, xml};
use seatmeter_core::testing::{Mutator, fuzz_iterations, fuzz_seed};

/// Runs `target` on `iterations` inputs mutated from `seeds` (and on the seeds
/// themselves); panics, naming the seed and iteration, if the target panics or returns
/// an error of the wrong shape.
fn fuzz(
    name: &str,
    seeds: &[Vec<u8>],
    iterations: u64,
    target: impl Fn(&[u8]) -> Result<(), String>,
) {
    let seed = fuzz_seed();
    let mut m = Mutator::new(seed ^ name.len() as u64);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for i in 0..iterations + seeds.len() as u64 {
        let input = match seeds.get(i as usize) {
            Some(s) => s.clone(),
            None => m.mutate(&seeds[(i as usize) % seeds.len()]),
        };
        match catch_unwind(AssertUnwindSafe(|| target(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failure = Some(format!("wrong error: {why}")),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failure = Some(format!("panic: {msg}"));
            }
        }
        if let Some(f) = failure.take() {
            std::panic::set_hook(quiet);
            panic!(
                "{name}: {f}\nSEATMETER_FUZZ_SEED={seed}, iteration {i}; the input:\n{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
    std::panic::set_hook(quiet);
}

/// An error names `path:LINE:` with a line from 1 to the input's last.
fn names_a_line(text: &str, path: &str, input: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix(path)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| format!("does not start with {path}: {text}"))?;
    let line: usize = rest
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("names no line: {text}"))?;
    let lines = input.split('\n').count().max(1);
    if line == 0 || line > lines {
        return Err(format!("line {line} of {lines}: {text}"));
    }
    Ok(())
}

fn licenses() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/licenses");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "lic"))
                .map(|p| std::fs::read(p).unwrap())
                .collect()
        })
        .expect("the real license files of tests/fixtures/licenses");
    seeds.push(
        b"SERVER host 0123456789ab 27000\nVENDOR genesys.d\n\
          INCREMENT V genesys.d 8.5 31-dec-2027 40 \\\n  HOSTID=ANY SIGN=\"0 1 2\"\n\
          INCREMENT V genesys.d 8.5 permanent uncounted\nFEATURE E genesys.d 8.5 1-jan-2027 5\n"
            .to_vec(),
    );
    seeds
}

#[test]
fn license_files_never_panic_and_errors_name_their_line() {
    fuzz("flexnet", &licenses(), fuzz_iterations(3000), |b| {
        let text = String::from_utf8_lossy(b);
        match flexnet::parse("x.lic", &text) {
            Ok(_) => Ok(()),
            Err(e) => names_a_line(&e.to_string(), "x.lic", &text),
        }
    });
}

const ENTITLEMENTS: &str = r#"<Entitlements>
  <Bundle name="Digital" issued="2026-09-01" start="2026-10-01">
    <Include item="Email"/>
    <Exclude item="Voice"/>
  </Bundle>
  <System>
    <Entitlement item="Voice" quantity="40" start="2026-10-01" end="2026-12-31"/>
    <Entitlement bundle="Digital" quantity="4294967295" start="2026-10-01"/>
  </System>
  <Tenant name="acme">
    <Entitlement item="Email" quantity="10" start="2026-10-01"/>
    <Entitlement item="Voice" quantity="4294967295" start="2026-10-01"/>
  </Tenant>
</Entitlements>
"#;

#[test]
fn entitlement_files_never_panic_and_errors_name_their_line() {
    let items = ["Voice".to_string(), "Email".to_string()];
    fuzz(
        "entitlement-xml",
        &[ENTITLEMENTS.as_bytes().to_vec()],
        fuzz_iterations(3000),
        |b| {
            let text = String::from_utf8_lossy(b);
            match xml::parse("e.xml", &text, &items) {
                Ok(f) => {
                    // Sums over every grant stay exact or saturate; never wrap or panic.
                    let all = xml::Entitlements {
                        files: vec![f.clone(), f],
                        items: items.len(),
                        ..xml::Entitlements::default()
                    };
                    let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 20).unwrap();
                    let _ = (all.system(0, day), all.tenant("acme", 0, day));
                    Ok(())
                }
                Err(e) => names_a_line(&e.to_string(), "e.xml", &text),
            }
        },
    );
}

const CONFIG: &str = r#"site = "Fuzz"
timezone = "Europe/London"
[store]
path = "seatmeter.db"
[[collector]]
name = "events"
kind = "spool"
path = "spool"
interval = "5m"
[[collector]]
name = "cfg"
kind = "config-xml"
path = "config-snapshots"
[license]
files = ["license.dat"]
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]
[[item]]
name = "Email"
media = ["email"]
features = ["genesys.d:E"]
model = "named"
[billing]
currency = "EUR"
"#;

#[test]
fn configurations_never_panic_and_errors_name_the_file() {
    fuzz(
        "config",
        &[CONFIG.as_bytes().to_vec()],
        fuzz_iterations(2000),
        |b| {
            let text = String::from_utf8_lossy(b);
            match ConfigFile::parse(Path::new("seatmeter.toml"), &text) {
                Ok(_) => Ok(()),
                Err(e) if e.path == "seatmeter.toml" && e.line.is_none_or(|l| l >= 1) => Ok(()),
                Err(e) => Err(format!("{e:?}")),
            }
        },
    );
}

const SNAPSHOT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ConfigurationSnapshot taken="2026-10-20T08:00:00Z">
  <Tenant name="acme">
    <Agent id="a1" enabled="true" media="voice email" groups="Support Sales"/>
    <Agent id="a2" enabled="false" media="email"/>
  </Tenant>
  <Tenant name="globex">
    <Agent id="g1" enabled="true" media="voice" groups="Ventes"/>
  </Tenant>
</ConfigurationSnapshot>
"#;

#[test]
fn configuration_snapshots_never_panic_and_errors_name_their_line() {
    fuzz(
        "snapshot",
        &[SNAPSHOT.as_bytes().to_vec()],
        fuzz_iterations(3000),
        |b| {
            let mut batch = seatmeter_collectors::Batch::new();
            match seatmeter_collectors::config_xml::parse_snapshot("s.xml", b, &mut batch) {
                Ok(_) => Ok(()),
                Err(r) => {
                    let lines = b.split(|&c| c == b'\n').count() as u64;
                    match r.source == "s.xml" && r.line >= 1 && r.line <= lines.max(1) {
                        true => Ok(()),
                        false => Err(format!(
                            "{}:{}: {} ({lines} lines)",
                            r.source, r.line, r.reason
                        )),
                    }
                }
            }
        },
    );
}
