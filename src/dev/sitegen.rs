//! A deterministic generator of realistic sites: spool files, configuration snapshots, a
//! FlexNet license file and the configuration, from a seed. The demo uses it; so do the
//! tests and benchmarks, so that anyone can reproduce them.
//!
//! Agents work shifts (early, day, late, and a night shift that crosses midnight) with
//! breaks, some on two devices, some with several media; a few logouts are stray, the last
//! day leaves sessions open, one file is delivered twice and one holds bad lines.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday};
use chrono_tz::Tz;
use seatmeter_core::rng::Rng;

#[derive(Debug, Clone)]
pub struct SiteSpec {
    pub site: String,
    pub agents: usize,
    pub tenants: usize,
    pub days: u32,
    pub start: NaiveDate,
    pub timezone: Tz,
    pub seed: u64,
    /// Breaks per shift: each splits the shift into one more session.
    pub breaks: u32,
    /// Add the demo's anomalies: stray logouts, a re-delivered file, bad lines.
    pub anomalies: bool,
    pub format: SpoolFormat,
}

/// Which spool formats a generated site uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoolFormat {
    /// JSON Lines and CSV files, alternating.
    Mixed,
    Csv,
    JsonLines,
}

impl SiteSpec {
    /// The demo site: 3 tenants, 300 agents, 35 days over a month end and the end of
    /// summer time in Europe.
    pub fn demo() -> SiteSpec {
        SiteSpec {
            site: "Demo contact center (Manchester)".into(),
            agents: 300,
            tenants: 3,
            days: 35,
            start: NaiveDate::from_ymd_opt(2026, 10, 5).expect("valid"),
            timezone: chrono_tz::Europe::London,
            seed: 2026,
            breaks: 3,
            anomalies: true,
            format: SpoolFormat::Mixed,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub config: PathBuf,
    pub events: u64,
    pub sessions: u64,
    pub files: usize,
    pub snapshots: usize,
    pub bad_lines: usize,
}

const TENANTS: [&str; 6] = [
    "acme", "globex", "nordwind", "initech", "umbrella", "soylent",
];
const GROUPS: [&[&str]; 6] = [
    &["Support", "Sales", "Billing"],
    &["Service Client", "Réclamations", "Ventes"],
    &[
        "Kundendienst",
        "Überweisungen",
        "Łódź Desk",
        "日本語サポート",
    ],
    &["Helpdesk", "Renewals"],
    &["Care", "Retention", "Collections"],
    &["Orders", "Returns"],
];

/// Media profiles, with how common they are (per thousand).
const PROFILES: [(&[&str], u64); 6] = [
    (&["voice"], 450),
    (&["voice", "email"], 220),
    (&["email", "chat"], 120),
    (&["voice", "outbound"], 110),
    (&["chat", "sms", "social"], 50),
    (&["voice", "email", "chat"], 50),
];

struct Agent {
    tenant: usize,
    id: String,
    groups: Vec<&'static str>,
    media: &'static [&'static str],
    /// Shift start, minutes after local midnight.
    start: i64,
    length: i64,
    weekend: bool,
    second_device: Option<&'static str>,
    /// First and last day (index) of employment.
    hired: u32,
    left: Option<u32>,
    place: String,
}

struct Ev {
    ts: NaiveDateTime,
    login: bool,
    agent: usize,
    media: Vec<&'static str>,
    with_groups: bool,
}

fn tenant_name(i: usize) -> String {
    TENANTS
        .get(i)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("tenant-{:03}", i + 1))
}

fn tenant_groups(i: usize) -> &'static [&'static str] {
    GROUPS[i % GROUPS.len()]
}

fn make_agents(spec: &SiteSpec, rng: &mut Rng) -> Vec<Agent> {
    let mut agents = Vec::with_capacity(spec.agents);
    for n in 0..spec.agents {
        // Tenants of unequal size: the first is the largest.
        let tenant = {
            let weights: Vec<u64> = (0..spec.tenants)
                .map(|t| (spec.tenants - t) as u64 + 1)
                .collect();
            let total: u64 = weights.iter().sum();
            let mut x = rng.below(total);
            let mut t = 0;
            while x >= weights[t] {
                x -= weights[t];
                t += 1;
            }
            t
        };
        let mut x = rng.below(1000);
        let mut media: &'static [&'static str] = PROFILES[0].0;
        for (m, w) in PROFILES {
            if x < w {
                media = m;
                break;
            }
            x -= w;
        }
        let groups_all = tenant_groups(tenant);
        let mut groups = vec![groups_all[rng.below(groups_all.len() as u64) as usize]];
        if rng.chance(0.2) {
            let g = groups_all[rng.below(groups_all.len() as u64) as usize];
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        // Shifts: early, day, late; the first tenant also runs a night shift.
        let (start, length) = match rng.below(if tenant == 0 { 10 } else { 9 }) {
            0..=2 => (7 * 60, 8 * 60),
            3..=6 => (9 * 60, 8 * 60),
            7..=8 => (13 * 60 + 30, 8 * 60),
            _ => (22 * 60, 8 * 60),
        };
        let hired = if rng.chance(0.05) {
            rng.below(spec.days as u64) as u32
        } else {
            0
        };
        let left = rng
            .chance(0.03)
            .then(|| hired + 1 + rng.below(spec.days as u64) as u32);
        agents.push(Agent {
            tenant,
            id: format!("a{}", 1001 + n),
            groups,
            media,
            start,
            length,
            weekend: rng.chance(0.25),
            second_device: rng.chance(0.15).then(|| {
                if media.contains(&"email") {
                    "chat"
                } else {
                    "email"
                }
            }),
            hired,
            left,
            place: format!("desk-{}", 100 + rng.below(900)),
        });
    }
    agents
}

/// The place groups of a generated desk (`desk-100` … `desk-999`): its floor, one of three,
/// and `Quiet` for every tenth desk.
fn desk_groups(desk: &str) -> String {
    let n: u32 = desk.trim_start_matches("desk-").parse().unwrap_or(100);
    let floor = format!("Floor{}", (n - 100) / 300 + 1);
    match n % 10 {
        0 => format!("{floor} Quiet"),
        _ => floor,
    }
}

/// The instant a local wall-clock reading names (the later side of a gap, the earlier of
/// a repeated hour).
fn instant(tz: &Tz, local: NaiveDateTime) -> chrono::DateTime<Tz> {
    tz.from_local_datetime(&local)
        .earliest()
        .unwrap_or_else(|| instant(tz, local + TimeDelta::minutes(30)))
}

/// Writes a site into `dir` (created if needed).
pub fn generate(spec: &SiteSpec, dir: &Path) -> std::io::Result<Generated> {
    let mut rng = Rng::new(spec.seed);
    let agents = make_agents(spec, &mut rng);
    let spool = dir.join("spool");
    let snaps = dir.join("config-snapshots");
    std::fs::create_dir_all(&spool)?;
    std::fs::create_dir_all(&snaps)?;
    let mut out = Generated::default();
    // Events, per local day of the login and tenant.
    let mut per_file: Vec<Vec<Ev>> = Vec::new();
    let mut file_keys: Vec<(u32, usize)> = Vec::new();
    for d in 0..spec.days {
        let files = day_events(spec, &agents, &mut rng, d, &mut out);
        for (t, mut evs) in files.into_iter().enumerate() {
            evs.sort_by_key(|e| (e.ts, e.agent, !e.login));
            per_file.push(evs);
            file_keys.push((d, t));
        }
    }
    for (&key, evs) in file_keys.iter().zip(&per_file) {
        write_spool_file(spec, &agents, &spool, key, evs, &mut out)?;
    }
    write_snapshots(spec, &agents, &snaps, &mut out)?;
    write_license(spec, &agents, dir)?;
    let config = dir.join("seatmeter.toml");
    std::fs::File::create(&config)?.write_all(site_config(spec).as_bytes())?;
    out.config = config;
    Ok(out)
}

/// One day's sessions of every agent, per tenant (the RNG is drawn in agent order).
fn day_events(
    spec: &SiteSpec,
    agents: &[Agent],
    rng: &mut Rng,
    d: u32,
    out: &mut Generated,
) -> Vec<Vec<Ev>> {
    let date = spec.start + TimeDelta::days(d as i64);
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let last_day = d + 1 == spec.days;
    let mut files: Vec<Vec<Ev>> = (0..spec.tenants).map(|_| Vec::new()).collect();
    for (ai, a) in agents.iter().enumerate() {
        if d < a.hired || a.left.is_some_and(|l| d >= l) {
            continue;
        }
        if (weekend && !a.weekend) || rng.chance(0.06) {
            continue; // day off, or sick
        }
        let begin =
            date.and_time(NaiveTime::MIN) + TimeDelta::minutes(a.start + rng.range(-12, 15));
        let end = begin + TimeDelta::minutes(a.length + rng.range(-10, 20));
        // Breaks split the shift into sessions.
        let n = spec.breaks as i64 + 1;
        let span = (end - begin).num_minutes();
        let mut cuts = vec![begin];
        for b in 1..n {
            let at = begin + TimeDelta::minutes(span * b / n + rng.range(-10, 10));
            let len = if b == n / 2 { 30 } else { 15 };
            cuts.push(at);
            cuts.push(at + TimeDelta::minutes(len));
        }
        cuts.push(end);
        let ev = &mut files[a.tenant];
        for (k, pair) in cuts.chunks(2).enumerate() {
            let (from, to) = (pair[0], pair[1]);
            ev.push(Ev {
                ts: from,
                login: true,
                agent: ai,
                media: a.media.to_vec(),
                with_groups: rng.chance(0.7),
            });
            out.sessions += 1;
            if k == 0
                && let Some(m) = a.second_device
            {
                // A second device joins a few minutes later; one logout ends both.
                ev.push(Ev {
                    ts: from + TimeDelta::minutes(3),
                    login: true,
                    agent: ai,
                    media: vec![m],
                    with_groups: false,
                });
            }
            let open = last_day && k + 1 == cuts.len() / 2 && ai % 40 == 7;
            if !open {
                ev.push(Ev {
                    ts: to,
                    login: false,
                    agent: ai,
                    media: Vec::new(),
                    with_groups: false,
                });
            }
        }
        if spec.anomalies && rng.chance(0.004) {
            // A logout the platform sent twice: the second one is stray.
            ev.push(Ev {
                ts: end + TimeDelta::minutes(2),
                login: false,
                agent: ai,
                media: Vec::new(),
                with_groups: false,
            });
        }
    }
    files
}

/// One spool file: a day's events of one tenant, as JSON Lines or CSV (and, with
/// anomalies, bad lines in the middle and a copy delivered again).
fn write_spool_file(
    spec: &SiteSpec,
    agents: &[Agent],
    spool: &Path,
    (d, t): (u32, usize),
    evs: &[Ev],
    out: &mut Generated,
) -> std::io::Result<()> {
    let tz = spec.timezone;
    let date = spec.start + TimeDelta::days(d as i64);
    let tenant = tenant_name(t);
    let csv = match spec.format {
        SpoolFormat::Mixed => (d + t as u32) % 2 == 1,
        SpoolFormat::Csv => true,
        SpoolFormat::JsonLines => false,
    };
    let name = format!(
        "{}-{}.{}",
        date.format("%Y-%m-%d"),
        tenant,
        if csv { "csv" } else { "jsonl" }
    );
    let mut text = String::with_capacity(evs.len() * 120);
    if csv {
        text.push_str("ts,event,tenant,agent,place,groups,media\n");
    }
    for e in evs {
        let a = &agents[e.agent];
        let at = instant(&tz, e.ts);
        let groups: &[&str] = if e.login && e.with_groups {
            &a.groups
        } else {
            &[]
        };
        if csv {
            let _ = writeln!(
                text,
                "{},{},{},{},{},{},{}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                if e.login { "login" } else { "logout" },
                tenant,
                a.id,
                a.place,
                groups.join(";"),
                e.media.join(";")
            );
        } else {
            let utc = at
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let line = if e.login {
                serde_json::json!({"ts": utc, "event": "login", "tenant": tenant, "agent": a.id, "place": a.place, "groups": groups, "media": e.media})
            } else {
                serde_json::json!({"ts": utc, "event": "logout", "tenant": tenant, "agent": a.id})
            };
            let _ = writeln!(text, "{line}");
        }
        out.events += 1;
    }
    if spec.anomalies && d == 3 && t == 0 {
        // Lines a collector must keep aside, between good ones.
        let bad = if csv {
            "2026-13-40T08:00:00Z,login,acme,a9999,,,voice\n2026-10-08T08:00:00Z,login,acme,a9998,desk-1,Support,voice,extra\n"
        } else {
            "{\"ts\":\"2026-10-08T08:00:00Z\",\"event\":\"signin\",\"agent\":\"a9999\"}\n{\"ts\":\"2026-10-08T08:01:00Z\",\"event\":\"login\",\"agent\":\"a99\n"
        };
        let mid = text.len() / 2;
        let mid = text[mid..]
            .find('\n')
            .map(|i| mid + i + 1)
            .unwrap_or(text.len());
        text.insert_str(mid, bad);
        out.bad_lines += 2;
    }
    std::fs::write(spool.join(&name), &text)?;
    out.files += 1;
    if spec.anomalies && d == 10 && t == 1 {
        // The same file delivered again under another name: stored once.
        std::fs::write(
            spool.join(format!(
                "{name}.resent.{}",
                if csv { "csv" } else { "jsonl" }
            )),
            &text,
        )?;
        out.files += 1;
    }
    Ok(())
}

/// Configuration snapshots: on the first day and every Monday, just after midnight.
fn write_snapshots(
    spec: &SiteSpec,
    agents: &[Agent],
    snaps: &Path,
    out: &mut Generated,
) -> std::io::Result<()> {
    let tz = spec.timezone;
    for d in 0..spec.days {
        let date = spec.start + TimeDelta::days(d as i64);
        if d != 0 && date.weekday() != Weekday::Mon {
            continue;
        }
        let taken = instant(
            &tz,
            date.and_time(NaiveTime::from_hms_opt(0, 5, 0).expect("valid")),
        );
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConfigurationSnapshot taken=\"{}\">\n",
            taken.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for t in 0..spec.tenants {
            let _ = writeln!(xml, "  <Tenant name=\"{}\">", xml_escape(&tenant_name(t)));
            for a in agents.iter().filter(|a| a.tenant == t && a.hired <= d) {
                let enabled = a.left.is_none_or(|l| d < l);
                let mut media = a.media.to_vec();
                media.extend(a.second_device);
                let _ = writeln!(
                    xml,
                    "    <Agent id=\"{}\" enabled=\"{}\" media=\"{}\" groups=\"{}\"/>",
                    a.id,
                    enabled,
                    media.join(" "),
                    xml_escape(
                        &a.groups
                            .iter()
                            .map(|g| g.replace(' ', "_"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                );
            }
            // The tenant's desks, each on its floor (place groups, docs/SEMANTICS.md 11.1).
            let mut desks: Vec<&str> = agents
                .iter()
                .filter(|a| a.tenant == t && a.hired <= d)
                .map(|a| a.place.as_str())
                .collect();
            desks.sort_unstable();
            desks.dedup();
            for desk in desks {
                let _ = writeln!(
                    xml,
                    "    <Place id=\"{desk}\" groups=\"{}\"/>",
                    desk_groups(desk)
                );
            }
            xml.push_str("  </Tenant>\n");
        }
        xml.push_str("</ConfigurationSnapshot>\n");
        std::fs::write(
            snaps.join(format!("snapshot-{}.xml", date.format("%Y-%m-%d"))),
            xml,
        )?;
        out.snapshots += 1;
    }
    Ok(())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

fn lic_date(d: NaiveDate) -> String {
    d.format("%-d-%b-%Y").to_string().to_lowercase()
}

/// A FlexNet license file sized so that some items are over-used and others are not.
fn write_license(spec: &SiteSpec, agents: &[Agent], dir: &Path) -> std::io::Result<()> {
    let count = |m: &str| {
        agents
            .iter()
            .filter(|a| a.media.contains(&m) || a.second_device == Some(m))
            .count()
    };
    let pct = |n: usize, p: usize| (n * p / 100).max(1);
    let first = spec.start;
    let month_end = {
        let next = NaiveDate::from_ymd_opt(
            first.year() + (first.month() / 12) as i32,
            first.month() % 12 + 1,
            1,
        )
        .expect("valid");
        next - TimeDelta::days(1)
    };
    let next_month = month_end + TimeDelta::days(1);
    let issued = lic_date(first - TimeDelta::days(120));
    let text = format!(
        "# License file for {site}\n\
         # Generated by `seatmeter gen` (FlexNet format)\n\
         SERVER lic01 0050569A1B2C 7260\n\
         VENDOR genesys.d\n\
         USE_SERVER\n\
         #\n\
         # Voice seats: a base order and an add-on; they add up.\n\
         INCREMENT DESKTOP_VOICE genesys.d 8.5 31-dec-2027 {v1} ISSUED={issued} \\\n\
         \tSTART={start} SIGN=\"0F4A 9C21 77AB \\\n\
         \t0D13 5E2F\"\n\
         INCREMENT DESKTOP_VOICE genesys.d 8.5 31-dec-2027 {v2} ISSUED={issued} \\\n\
         \tSTART={start} SIGN=\"12AA 0B3C\"\n\
         INCREMENT DESKTOP_EMAIL genesys.d 8.5 31-dec-2027 {e} ISSUED={issued} \\\n\
         \tVENDOR_STRING=\"licenseType=Server;tier=standard\" SIGN=\"77EE 1234\"\n\
         # Web media: the old order expired at the end of the month, the new one started.\n\
         INCREMENT DESKTOP_CHAT genesys.d 8.5 {chat_end} {c1} ISSUED={issued} SIGN=\"AB12\"\n\
         INCREMENT DESKTOP_CHAT genesys.d 8.5 31-dec-2027 {c2} ISSUED={issued} \\\n\
         \tSTART={chat_start} SIGN=\"AB13\"\n\
         FEATURE OCS_SEAT genesys.d 8.5 permanent {o} HOSTID=ANY SIGN=\"C0FF EE00\"\n\
         # Recording is not counted.\n\
         FEATURE GIR_SEAT genesys.d 8.5 permanent uncounted HOSTID=ANY SIGN=\"D00D\"\n\
         INCREMENT WFM_AGENT genesys.d 8.5 31-dec-2027 {w} USER_BASED ISSUED={issued} SIGN=\"F00D\"\n",
        site = spec.site,
        v1 = pct(count("voice"), 70),
        v2 = pct(count("voice"), 22),
        e = pct(count("email"), 70),
        c1 = pct(count("chat"), 65),
        c2 = pct(count("chat"), 85),
        o = pct(count("outbound"), 95),
        w = pct(agents.len(), 96),
        start = lic_date(first - TimeDelta::days(90)),
        chat_end = lic_date(month_end),
        chat_start = lic_date(next_month),
    );
    std::fs::write(dir.join("license.dat"), text)
}

fn site_config(spec: &SiteSpec) -> String {
    format!(
        r#"# seatmeter configuration of a generated site. Reference: docs/CONFIGURATION.md
site = "{site}"
timezone = "{tz}"

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
interval = "1h"

[license]
files = ["license.dat"]

[[item]]
name = "Genesys Inbound Voice"
media = ["voice"]
features = ["DESKTOP_VOICE"]

[[item]]
name = "Genesys E-Mail"
media = ["email"]
features = ["genesys.d:DESKTOP_EMAIL"]

[[item]]
name = "Genesys Web Media"
media = ["chat", "sms", "social"]
features = ["DESKTOP_CHAT"]

[[item]]
name = "Genesys Outbound Contact"
media = ["outbound"]
features = ["OCS_SEAT"]

[[item]]
name = "Genesys Interaction Recording"
media = ["voice"]
features = ["GIR_SEAT"]

[[item]]
name = "Genesys Workforce Management"
media = ["*"]
features = ["WFM_AGENT"]
model = "named"
"#,
        site = spec.site,
        tz = spec.timezone.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_site() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let mut spec = SiteSpec::demo();
        spec.agents = 40;
        spec.days = 9;
        let ga = generate(&spec, a.path()).unwrap();
        let gb = generate(&spec, b.path()).unwrap();
        assert_eq!((ga.events, ga.files), (gb.events, gb.files));
        for name in [
            "license.dat",
            "spool/2026-10-08-acme.csv",
            "config-snapshots/snapshot-2026-10-12.xml",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(name)).unwrap(),
                std::fs::read(b.path().join(name)).unwrap(),
                "{name}"
            );
        }
        crate::config::Config::load(&ga.config).unwrap();
        let lic = crate::entitlement::flexnet::load(&a.path().join("license.dat")).unwrap();
        assert!(lic.lines.iter().filter(|l| l.feature.is_some()).count() >= 8);
    }

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(1);
        assert_eq!(r.next_u64(), 0x910a_2dec_8902_5cc1);
    }
}
