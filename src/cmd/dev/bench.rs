//! `seatmeter bench`: generates a site of a given size and times every stage of the real
//! pipeline on it, each stage as its own `seatmeter` process (as a user runs them), with
//! its peak memory; with several sizes it prints the scaling curve. See
//! docs/PERFORMANCE.md.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

/// Sessions per agent in 30 days of `seatmeter gen --breaks 1` (measured: 999,000 sessions
/// from 23,000 agents).
const SESSIONS_PER_AGENT_MONTH: f64 = 43.43;
/// Agents per tenant in the generated sites (23,000 agents in 40 tenants).
const AGENTS_PER_TENANT: usize = 575;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Login sessions per site, in millions; a comma-separated list measures each size.
    #[arg(long, default_value = "1")]
    pub sessions: String,
    /// Days of data per site (the reports cover them all).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// First day of the generated data (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-01")]
    pub start: String,
    /// Where to write the generated sites (each size in its own folder).
    #[arg(long, default_value = "seatmeter-bench")]
    pub dir: PathBuf,
    /// Keep the generated sites, stores and reports (they are removed by default).
    #[arg(long)]
    pub keep: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let sizes = parse_sizes(&args.sessions)?;
    let start = NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .with_context(|| format!("--start {:?}: write YYYY-MM-DD", args.start))?;
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -- bench`");
    }
    let mut all = Vec::new();
    for sessions in sizes {
        let m = measure(&BenchSpec {
            sessions,
            days: args.days,
            start,
            dir: args.dir.clone(),
            keep: args.keep,
        })?;
        println!("{}\n", stage_table(&m));
        all.push(m);
    }
    if all.len() > 1 {
        println!("{}", curve_table(&all));
    }
    if !args.keep {
        let _ = std::fs::remove_dir(&args.dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// Login sessions wanted (approximately; the generator decides the exact count).
    pub sessions: u64,
    pub days: u32,
    pub start: NaiveDate,
    /// Where the sites are written; each size gets its own folder, removed after unless
    /// `keep`.
    pub dir: PathBuf,
    pub keep: bool,
}

/// One stage: wall time and peak resident memory of its process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stage {
    pub seconds: f64,
    pub peak_mib: f64,
}

/// Every stage for one site.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub agents: usize,
    pub tenants: usize,
    pub events: u64,
    pub sessions: u64,
    pub days: u32,
    pub generate: Stage,
    pub collect: Stage,
    /// `seatmeter scan` of the spool: its files read and split into lines on every core,
    /// nothing else (the machine's limit for the bytes the ingest reads).
    pub scan: Stage,
    pub scanned: super::scan::Scanned,
    pub rollup: Stage,
    pub report_system: Stage,
    pub report_one_tenant: Stage,
    pub report_tenants: Stage,
    pub report_groups: Stage,
    pub pdf_system: Stage,
    /// `report --scope agent` for the month (CSV), from the activity kept.
    pub agent_report: Stage,
    /// `recommend propose`: the right-sizing rules on the month, stored.
    pub propose: Stage,
}

impl Measured {
    /// The largest peak of the pipeline stages (collect, rollup, reports), the generator
    /// excluded: it is not part of seatmeter's work.
    pub fn pipeline_peak_mib(&self) -> f64 {
        [
            self.collect,
            self.rollup,
            self.report_system,
            self.report_one_tenant,
            self.report_tenants,
            self.report_groups,
            self.pdf_system,
            self.agent_report,
            self.propose,
        ]
        .iter()
        .map(|s| s.peak_mib)
        .fold(0.0, f64::max)
    }
}

/// The size of a site with about `sessions` sessions a month.
pub fn site_size(sessions: u64, days: u32) -> (usize, usize) {
    let per_agent = SESSIONS_PER_AGENT_MONTH * f64::from(days) / 30.0;
    let agents = ((sessions as f64 / per_agent).round() as usize).max(10);
    let tenants = agents.div_ceil(AGENTS_PER_TENANT).clamp(1, 1000);
    (agents, tenants)
}

/// Generates the site and runs every stage on it, printing progress to standard error.
pub fn measure(spec: &BenchSpec) -> Result<Measured> {
    let exe = std::env::current_exe().context("finding the seatmeter executable")?;
    let (agents, tenants) = site_size(spec.sessions, spec.days);
    let site = spec.dir.join(format!("site-{}", spec.sessions));
    if site.exists() {
        std::fs::remove_dir_all(&site).with_context(|| format!("removing {}", site.display()))?;
    }
    std::fs::create_dir_all(&site).with_context(|| format!("creating {}", site.display()))?;
    let from = spec.start.format("%Y-%m-%d").to_string();
    let to = (spec.start + chrono::Days::new(u64::from(spec.days.max(1) - 1)))
        .format("%Y-%m-%d")
        .to_string();
    let mut m = Measured {
        agents,
        tenants,
        days: spec.days,
        ..Measured::default()
    };
    eprintln!(
        "bench: generating {agents} agents in {tenants} tenants over {} days in {}",
        spec.days,
        site.display()
    );
    let gen_args: Vec<String> = vec![
        "gen".into(),
        "--agents".into(),
        agents.to_string(),
        "--tenants".into(),
        tenants.to_string(),
        "--days".into(),
        spec.days.to_string(),
        "--breaks".into(),
        "1".into(),
        "--format".into(),
        "csv".into(),
        "--start".into(),
        from.clone(),
        "--out".into(),
        site.display().to_string(),
    ];
    let (generate, out) = run_stage(&exe, &site, &gen_args)?;
    m.generate = generate;
    (m.events, m.sessions) = parse_generated(&out)?;

    let config = ["-c".to_string(), "seatmeter.toml".to_string()];
    let stage = |name: &str, args: &[&str]| -> Result<Stage> {
        eprintln!("bench: {name}");
        let all: Vec<String> = config
            .iter()
            .cloned()
            .chain(args.iter().map(|s| s.to_string()))
            .collect();
        Ok(run_stage(&exe, &site, &all)?.0)
    };
    m.collect = stage("collect --once", &["collect", "--once"])?;
    eprintln!("bench: scan the spool (the machine's limit)");
    let (scan, out) = run_stage(&exe, &site, &["scan".into(), "spool".into()])?;
    m.scan = scan;
    m.scanned = parse_scanned(&out)?;
    m.rollup = stage("rollup", &["rollup"])?;
    let report = |scope: &str, id: Option<&str>, format: &str, out: &str| -> Result<Stage> {
        let mut args = vec![
            "report",
            "--scope",
            scope,
            "--granularity",
            "10min",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            format,
            "--out",
            out,
            // The month of every group can exceed the default row limit at 5 M sessions.
            "--force",
        ];
        if let Some(id) = id {
            args.extend(["--id", id]);
        }
        stage(&format!("report {scope} {format}"), &args)
    };
    m.report_system = report("system", None, "csv", "system-10min.csv")?;
    m.report_one_tenant = report("tenant", Some("acme"), "csv", "acme-10min.csv")?;
    m.report_tenants = report("tenant", None, "csv", "tenants-10min.csv")?;
    m.report_groups = report("group", None, "csv", "groups-10min.csv")?;
    m.pdf_system = report("system", None, "pdf", "system-10min.pdf")?;
    m.agent_report = stage(
        "report agent csv",
        &[
            "report",
            "--scope",
            "agent",
            "--from",
            &from,
            "--to",
            &to,
            "--out",
            "agents.csv",
        ],
    )?;
    m.propose = stage(
        "recommend propose",
        &["recommend", "propose", "--as-of", &to],
    )?;
    if !spec.keep {
        std::fs::remove_dir_all(&site).with_context(|| format!("removing {}", site.display()))?;
    }
    Ok(m)
}

/// Runs `seatmeter ARGS` in `dir`; returns its time, its peak memory and its output.
fn run_stage(exe: &Path, dir: &Path, args: &[String]) -> Result<(Stage, String)> {
    let out_path = dir.join(".bench-stdout");
    let err_path = dir.join(".bench-stderr");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let (status, peak_kib) = wait_with_peak(&mut child)?;
    let seconds = started.elapsed().as_secs_f64();
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if !status {
        bail!("seatmeter {} failed:\n{out}{err}", args.join(" "));
    }
    Ok((
        Stage {
            seconds,
            peak_mib: peak_kib as f64 / 1024.0,
        },
        out,
    ))
}

/// Waits for the child and reads its peak resident memory (KiB) from the kernel's
/// accounting, which std does not expose.
#[cfg(unix)]
fn wait_with_peak(child: &mut std::process::Child) -> Result<(bool, u64)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes only into the two locals it is given; `rusage` is plain data
    // for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        bail!(
            "waiting for process {pid}: {}",
            std::io::Error::last_os_error()
        );
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok((ok, usage.ru_maxrss.max(0) as u64))
}

#[cfg(not(unix))]
fn wait_with_peak(child: &mut std::process::Child) -> Result<(bool, u64)> {
    Ok((child.wait()?.success(), 0))
}

/// The counts `seatmeter scan` prints.
fn parse_scanned(out: &str) -> Result<super::scan::Scanned> {
    let field = |name: &str| -> Result<u64> {
        out.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .with_context(|| format!("no {name:?} in the output of `seatmeter scan`: {out}"))
    };
    Ok(super::scan::Scanned {
        files: field("files:")?,
        lines: field("lines:")?,
        bytes: field("bytes:")?,
    })
}

/// Reads "wrote N event(s) (M session(s)) ..." from `seatmeter gen`.
fn parse_generated(out: &str) -> Result<(u64, u64)> {
    let number = |after: &str| -> Option<u64> {
        let rest = out.split(after).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    match (number("wrote "), number("event(s) (")) {
        (Some(e), Some(s)) => Ok((e, s)),
        _ => bail!("could not read the generator's counts from {out:?}"),
    }
}

/// The table for one site: every stage with its time, rate and peak memory.
pub fn stage_table(m: &Measured) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["stage", "seconds", "rate", "peak memory"]);
    let rate = |n: f64, s: &Stage, unit: &str| format!("{} {unit}/s", thousands(n / s.seconds));
    let rows: Vec<(&str, &Stage, String)> = vec![
        (
            "generate the site (not seatmeter's work)",
            &m.generate,
            String::new(),
        ),
        (
            "collect --once (ingest)",
            &m.collect,
            rate(m.events as f64, &m.collect, "events"),
        ),
        (
            "scan the spool: read, split into lines",
            &m.scan,
            format!(
                "{}, {:.0} MB/s",
                rate(m.scanned.lines as f64, &m.scan, "lines"),
                m.scanned.bytes as f64 / 1e6 / m.scan.seconds
            ),
        ),
        (
            "rollup",
            &m.rollup,
            format!(
                "{}, {:.3} s/day",
                rate(m.sessions as f64, &m.rollup, "sessions"),
                m.rollup.seconds / f64::from(m.days.max(1))
            ),
        ),
        (
            "report system, 10-min, month (CSV)",
            &m.report_system,
            String::new(),
        ),
        (
            "report one tenant, 10-min, month (CSV)",
            &m.report_one_tenant,
            String::new(),
        ),
        (
            "report all tenants, 10-min, month (CSV)",
            &m.report_tenants,
            String::new(),
        ),
        (
            "report all groups, 10-min, month (CSV)",
            &m.report_groups,
            String::new(),
        ),
        (
            "report system, 10-min, month (PDF)",
            &m.pdf_system,
            String::new(),
        ),
        (
            "report agent, month (CSV)",
            &m.agent_report,
            rate(m.agents as f64, &m.agent_report, "agents"),
        ),
        (
            "recommend propose (month)",
            &m.propose,
            rate(m.agents as f64, &m.propose, "agents"),
        ),
    ];
    for (name, s, r) in rows {
        t.add_row([
            name.to_string(),
            match s.seconds < 1.0 {
                true => format!("{:.3}", s.seconds),
                false => format!("{:.2}", s.seconds),
            },
            r,
            format!("{:.0} MiB", s.peak_mib),
        ]);
    }
    format!(
        "{} sessions, {} events, {} agents, {} tenants, {} days\n{t}\nend to end (collect + rollup + system report): {:.2} s; pipeline peak memory {:.0} MiB\ningest at {:.0} % of the machine's limit for the same {:.0} MB (collect --once {:.2} s, the scan {:.3} s)",
        thousands(m.sessions as f64),
        thousands(m.events as f64),
        thousands(m.agents as f64),
        m.tenants,
        m.days,
        m.collect.seconds + m.rollup.seconds + m.report_system.seconds,
        m.pipeline_peak_mib(),
        100.0 * m.scan.seconds / m.collect.seconds.max(1e-9),
        m.scanned.bytes as f64 / 1e6,
        m.collect.seconds,
        m.scan.seconds,
    )
}

/// The scaling curve: one row per size.
pub fn curve_table(all: &[Measured]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "sessions",
        "events",
        "collect s",
        "rollup s",
        "system report s",
        "system PDF s",
        "end to end s",
        "µs/session",
        "peak MiB",
    ]);
    for m in all {
        let total = m.collect.seconds + m.rollup.seconds + m.report_system.seconds;
        t.add_row([
            thousands(m.sessions as f64),
            thousands(m.events as f64),
            format!("{:.2}", m.collect.seconds),
            format!("{:.2}", m.rollup.seconds),
            format!("{:.3}", m.report_system.seconds),
            format!("{:.2}", m.pdf_system.seconds),
            format!("{total:.2}"),
            format!("{:.2}", total * 1e6 / m.sessions.max(1) as f64),
            format!("{:.0}", m.pipeline_peak_mib()),
        ]);
    }
    t.to_string()
}

/// 1234567.8 → "1,234,568".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses "0.25,0.5,1" (millions of sessions).
pub fn parse_sizes(text: &str) -> Result<Vec<u64>> {
    text.split(',')
        .map(|s| {
            let m: f64 = s
                .trim()
                .parse()
                .with_context(|| format!("--sessions {s:?}: write millions, e.g. 0.25,1,5"))?;
            if !(m > 0.0 && m <= 100.0) {
                bail!("--sessions {s}: between 0 and 100 (millions)");
            }
            Ok((m * 1e6).round() as u64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scan_counts() {
        let s = parse_scanned("files: 3\nlines: 1200\nbytes: 45678\n").unwrap();
        assert_eq!((s.files, s.lines, s.bytes), (3, 1200, 45678));
        assert!(parse_scanned("lines: 1\n").is_err());
    }

    #[test]
    fn sizes_are_millions_of_sessions() {
        assert_eq!(
            parse_sizes("0.25, 1,5").unwrap(),
            vec![250_000, 1_000_000, 5_000_000]
        );
        assert!(parse_sizes("0").is_err());
        assert!(parse_sizes("many").is_err());
    }

    #[test]
    fn a_site_is_sized_like_the_measured_one() {
        // 23,000 agents in 40 tenants gave 999,000 sessions in 30 days.
        let (agents, tenants) = site_size(1_000_000, 30);
        assert!((22_900..=23_100).contains(&agents), "{agents}");
        assert_eq!(tenants, 41);
        let (agents, _) = site_size(1_000_000, 15);
        assert!((45_800..=46_200).contains(&agents), "{agents}");
    }

    #[test]
    fn reads_the_generator_counts() {
        let out = "wrote 2070000 event(s) (999000 session(s)) in 1200 spool file(s), 5 snapshot(s)";
        assert_eq!(parse_generated(out).unwrap(), (2_070_000, 999_000));
        assert!(parse_generated("nothing").is_err());
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(12.0), "12");
    }
}
