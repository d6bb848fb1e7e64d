//! An independent implementation of docs/SEMANTICS.md, by brute force, and random sites
//! checked against it row by row.
//!
//! The oracle shares no code with seatmeter's rollup, calendar or entitlement: it keeps
//! each agent's sessions as segments, counts seats at every instant where a count can rise,
//! and finds period boundaries by scanning the site's wall clock minute by minute.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, TimeDelta, TimeZone, Timelike};
use chrono_tz::Tz;
use seatmeter_core::rng::Rng;

use crate::support::Site;

const MINUTE: i64 = 60_000_000_000;

#[derive(Clone, Debug)]
struct OEvent {
    ts: i64,
    login: bool,
    tenant: String,
    agent: String,
    groups: Vec<String>,
    media: Vec<String>,
}

#[derive(Clone, Debug)]
struct OAgent {
    tenant: String,
    id: String,
    enabled: bool,
    media: Vec<String>,
    groups: Vec<String>,
}

#[derive(Clone, Debug)]
struct OSnap {
    taken: i64,
    agents: Vec<OAgent>,
}

#[derive(Clone, Debug)]
struct OLine {
    feature: &'static str,
    count: Option<u64>,
    start: Option<NaiveDate>,
    expiry: Option<NaiveDate>,
}

struct OItem {
    name: &'static str,
    /// Empty: any login (`*`).
    media: &'static [&'static str],
    feature: &'static str,
    named: bool,
}

const ITEMS: [OItem; 3] = [
    OItem {
        name: "Voice",
        media: &["voice"],
        feature: "V",
        named: false,
    },
    OItem {
        name: "Digital",
        media: &["email", "chat"],
        feature: "E",
        named: false,
    },
    OItem {
        name: "All",
        media: &[],
        feature: "W",
        named: true,
    },
];

const ITEMS_TOML: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]
[[item]]
name = "Digital"
media = ["email", "chat"]
features = ["E"]
[[item]]
name = "All"
media = ["*"]
features = ["W"]
model = "named"
"#;

fn uses(item: &OItem, media: &BTreeSet<String>) -> bool {
    item.media.is_empty() || item.media.iter().any(|m| media.contains(*m))
}

#[derive(Clone, Debug)]
struct Seg {
    tenant: String,
    from: i64,
    to: i64,
    media: BTreeSet<String>,
    groups: BTreeSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ent {
    Seats(u64),
    Unlimited,
}

struct Oracle {
    tz: Tz,
    /// The first day of weekly periods (the site's `week_start`).
    week_start: chrono::Weekday,
    day_starts: std::cell::RefCell<BTreeMap<NaiveDate, i64>>,
    segs: Vec<Seg>,
    snaps: Vec<OSnap>,
    lines: Vec<OLine>,
    tenants: BTreeSet<String>,
    groups: BTreeSet<(String, String)>,
}

/// The snapshot in force at t: the latest taken at or before t (the later received on a tie).
fn in_force(snaps: &[OSnap], t: i64) -> Option<&OSnap> {
    let mut best: Option<&OSnap> = None;
    for s in snaps {
        if s.taken <= t && best.is_none_or(|b| s.taken >= b.taken) {
            best = Some(s);
        }
    }
    best
}

impl Oracle {
    fn new(tz: Tz, received: &[OEvent], snaps: Vec<OSnap>, lines: Vec<OLine>) -> Oracle {
        // Exact duplicates are kept once (the first received).
        let mut seen = BTreeSet::new();
        let mut events: Vec<(usize, OEvent)> = Vec::new();
        for (seq, e) in received.iter().enumerate() {
            let mut media: Vec<String> = e.media.clone();
            if media.is_empty() {
                media.push("voice".into());
            }
            media.sort();
            media.dedup();
            let mut groups = e.groups.clone();
            groups.sort();
            groups.dedup();
            let key = if e.login {
                (
                    e.ts,
                    true,
                    e.tenant.clone(),
                    e.agent.clone(),
                    groups.clone(),
                    media.clone(),
                )
            } else {
                (
                    e.ts,
                    false,
                    e.tenant.clone(),
                    e.agent.clone(),
                    vec![],
                    vec![],
                )
            };
            if seen.insert(key) {
                events.push((
                    seq,
                    OEvent {
                        groups,
                        media,
                        ..e.clone()
                    },
                ));
            }
        }
        let mut tenants: BTreeSet<String> = BTreeSet::new();
        let mut groups: BTreeSet<(String, String)> = BTreeSet::new();
        for (_, e) in &events {
            tenants.insert(e.tenant.clone());
            if e.login {
                for g in &e.groups {
                    groups.insert((e.tenant.clone(), g.clone()));
                }
            }
        }
        for s in &snaps {
            for a in &s.agents {
                tenants.insert(a.tenant.clone());
                for g in &a.groups {
                    groups.insert((a.tenant.clone(), g.clone()));
                }
            }
        }
        // Sessions, per agent, in (ts, received) order.
        let mut by_agent: BTreeMap<(String, String), Vec<(usize, OEvent)>> = BTreeMap::new();
        for (seq, e) in events {
            by_agent
                .entry((e.tenant.clone(), e.agent.clone()))
                .or_default()
                .push((seq, e));
        }
        let mut segs = Vec::new();
        for ((tenant, agent), mut evs) in by_agent {
            evs.sort_by_key(|(seq, e)| (e.ts, *seq));
            let mut cur: Option<Seg> = None;
            for (_, e) in evs {
                let groups: BTreeSet<String> = if e.login && e.groups.is_empty() {
                    in_force(&snaps, e.ts)
                        .and_then(|s| {
                            s.agents
                                .iter()
                                .find(|a| a.tenant == tenant && a.id == agent)
                        })
                        .map(|a| a.groups.iter().cloned().collect())
                        .unwrap_or_default()
                } else {
                    e.groups.iter().cloned().collect()
                };
                match (e.login, cur.take()) {
                    (true, None) => {
                        cur = Some(Seg {
                            tenant: tenant.clone(),
                            from: e.ts,
                            to: i64::MAX,
                            media: e.media.iter().cloned().collect(),
                            groups,
                        });
                    }
                    (true, Some(mut old)) => {
                        let media: BTreeSet<String> = old
                            .media
                            .iter()
                            .cloned()
                            .chain(e.media.iter().cloned())
                            .collect();
                        let groups: BTreeSet<String> =
                            old.groups.iter().cloned().chain(groups).collect();
                        old.to = e.ts;
                        let next = Seg {
                            tenant: tenant.clone(),
                            from: e.ts,
                            to: i64::MAX,
                            media,
                            groups,
                        };
                        segs.push(old);
                        cur = Some(next);
                    }
                    (false, Some(mut old)) => {
                        old.to = e.ts;
                        segs.push(old);
                    }
                    (false, None) => {}
                }
            }
            segs.extend(cur);
        }
        Oracle {
            tz,
            week_start: chrono::Weekday::Mon,
            day_starts: Default::default(),
            segs,
            snaps,
            lines,
            tenants,
            groups,
        }
    }

    fn in_scope_seg(scope: &(char, String, String), s: &Seg) -> bool {
        match scope.0 {
            's' => true,
            't' => s.tenant == scope.1,
            _ => s.tenant == scope.1 && s.groups.contains(&scope.2),
        }
    }

    fn count(&self, scope: &(char, String, String), item: &OItem, t: i64) -> u64 {
        self.segs
            .iter()
            .filter(|s| {
                s.from <= t && t < s.to && uses(item, &s.media) && Self::in_scope_seg(scope, s)
            })
            .count() as u64
    }

    fn peak(&self, scope: &(char, String, String), item: &OItem, a: i64, b: i64) -> u64 {
        let mut best = self.count(scope, item, a);
        for s in &self.segs {
            if s.from > a && s.from < b {
                best = best.max(self.count(scope, item, s.from));
            }
        }
        best
    }

    /// The first instant of [a, b) at which the count is `peak`: `a`, or a login inside.
    fn first_at(
        &self,
        scope: &(char, String, String),
        item: &OItem,
        a: i64,
        b: i64,
        peak: u64,
    ) -> i64 {
        let mut candidates: Vec<i64> = std::iter::once(a)
            .chain(self.segs.iter().map(|s| s.from).filter(|&t| t > a && t < b))
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .find(|&t| self.count(scope, item, t) == peak)
            .expect("the peak is reached")
    }

    fn snap_count(scope: &(char, String, String), item: &OItem, s: &OSnap) -> u64 {
        s.agents
            .iter()
            .filter(|a| a.enabled)
            .filter(|a| {
                item.media.is_empty() || item.media.iter().any(|m| a.media.iter().any(|x| x == m))
            })
            .filter(|a| match scope.0 {
                's' => true,
                't' => a.tenant == scope.1,
                _ => a.tenant == scope.1 && a.groups.contains(&scope.2),
            })
            .count() as u64
    }

    fn enabled(&self, scope: &(char, String, String), item: &OItem, a: i64, b: i64) -> Option<u64> {
        if !self.snaps.iter().any(|s| s.taken < b) {
            return None;
        }
        let mut best = in_force(&self.snaps, a)
            .map(|s| Self::snap_count(scope, item, s))
            .unwrap_or(0);
        for s in &self.snaps {
            if s.taken >= a && s.taken < b {
                best = best.max(Self::snap_count(scope, item, s));
            }
        }
        Some(best)
    }

    fn ent(&self, item: &OItem, day: NaiveDate) -> Option<Ent> {
        let lines: Vec<&OLine> = self
            .lines
            .iter()
            .filter(|l| l.feature == item.feature)
            .collect();
        if lines.is_empty() {
            return None;
        }
        let valid = lines
            .iter()
            .filter(|l| l.start.is_none_or(|s| s <= day) && l.expiry.is_none_or(|e| day <= e));
        let mut sum = 0;
        for l in valid {
            match l.count {
                None => return Some(Ent::Unlimited),
                Some(n) => sum += n,
            }
        }
        Some(Ent::Seats(sum))
    }

    // --- the calendar, by scanning the wall clock ---------------------------------------

    fn local(&self, t: i64) -> chrono::DateTime<Tz> {
        self.tz.timestamp_nanos(t)
    }

    fn day_start(&self, d: NaiveDate) -> i64 {
        if let Some(&t) = self.day_starts.borrow().get(&d) {
            return t;
        }
        let guess = d
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_nanos_opt()
            .unwrap();
        let mut t = guess - 16 * 60 * MINUTE;
        while self.local(t).date_naive() < d {
            t += MINUTE;
        }
        self.day_starts.borrow_mut().insert(d, t);
        t
    }

    /// Period starts in [day_start(d), day_start(d+1)): the day's start and every minute whose
    /// local reading is a multiple of `step` minutes.
    fn starts(&self, d: NaiveDate, step: u32) -> Vec<i64> {
        let (a, b) = (self.day_start(d), self.day_start(d + TimeDelta::days(1)));
        let mut out = vec![a];
        let mut t = a + MINUTE;
        while t < b {
            let l = self.local(t);
            if (l.hour() * 60 + l.minute()).is_multiple_of(step) {
                out.push(t);
            }
            t += MINUTE;
        }
        out
    }

    fn day_of(&self, t: i64) -> NaiveDate {
        let d = self.local(t).date_naive();
        if t < self.day_start(d) {
            d - TimeDelta::days(1)
        } else {
            d
        }
    }

    fn fmt(&self, t: i64) -> String {
        self.local(t).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// The CSV report this oracle expects; with `peak_at`, the `peak_at` column after the
    /// contract's (`report --peak-at`).
    fn report(
        &self,
        scope_kind: &str,
        gran: &str,
        (from, to): (NaiveDate, NaiveDate),
        peak_at: bool,
    ) -> String {
        let mut periods: Vec<(i64, i64)> = Vec::new();
        let mut d = from;
        match gran {
            "10min" | "hourly" => {
                while d <= to {
                    let s = self.starts(d, if gran == "10min" { 10 } else { 60 });
                    let end = self.day_start(d + TimeDelta::days(1));
                    for (i, &a) in s.iter().enumerate() {
                        periods.push((a, s.get(i + 1).copied().unwrap_or(end)));
                    }
                    d += TimeDelta::days(1);
                }
            }
            "daily" => {
                while d <= to {
                    periods.push((self.day_start(d), self.day_start(d + TimeDelta::days(1))));
                    d += TimeDelta::days(1);
                }
            }
            "weekly" => {
                let mut w = from;
                while chrono::Datelike::weekday(&w) != self.week_start {
                    w -= TimeDelta::days(1);
                }
                while w <= to {
                    periods.push((self.day_start(w), self.day_start(w + TimeDelta::days(7))));
                    w += TimeDelta::days(7);
                }
            }
            _ => {
                let mut m = NaiveDate::from_ymd_opt(
                    chrono::Datelike::year(&from),
                    chrono::Datelike::month(&from),
                    1,
                )
                .unwrap();
                while m <= to {
                    let next = m.checked_add_months(chrono::Months::new(1)).unwrap();
                    periods.push((self.day_start(m), self.day_start(next)));
                    m = next;
                }
            }
        }
        let scopes: Vec<(char, String, String)> = match scope_kind {
            "system" => vec![('s', String::new(), String::new())],
            "tenant" => self
                .tenants
                .iter()
                .map(|t| ('t', t.clone(), String::new()))
                .collect(),
            _ => self
                .groups
                .iter()
                .map(|(t, g)| ('g', t.clone(), g.clone()))
                .collect(),
        };
        let mut scopes = scopes;
        scopes.sort_by_key(label);
        // The 10-minute periods of every day any period touches, for over-use.
        let mut tens: Vec<(i64, i64, NaiveDate)> = Vec::new();
        let first_day = self.day_of(periods[0].0);
        let last_day = self.day_of(periods[periods.len() - 1].1 - 1);
        let mut d = first_day;
        while d <= last_day {
            let s = self.starts(d, 10);
            let end = self.day_start(d + TimeDelta::days(1));
            for (i, &a) in s.iter().enumerate() {
                tens.push((a, s.get(i + 1).copied().unwrap_or(end), d));
            }
            d += TimeDelta::days(1);
        }
        let mut out = String::from(
            "scope,scope_id,granularity,period_start,period_end,item,peak_concurrent,enabled_seats,entitled,over_use",
        );
        out.push_str(if peak_at { ",peak_at\n" } else { "\n" });
        for scope in &scopes {
            for &(a, b) in &periods {
                for item in &ITEMS {
                    let peak = self.peak(scope, item, a, b);
                    let enabled = self.enabled(scope, item, a, b);
                    let days: Vec<NaiveDate> = if matches!(gran, "10min" | "hourly") {
                        vec![self.day_of(a)]
                    } else {
                        let mut v = Vec::new();
                        let mut d = self.day_of(a);
                        while self.day_start(d) < b {
                            v.push(d);
                            d += TimeDelta::days(1);
                        }
                        v
                    };
                    let entitled = days.iter().map(|&d| self.ent(item, d)).min().flatten();
                    let over = tens.iter().filter(|(qa, _, _)| *qa >= a && *qa < b).any(
                        |&(qa, qb, qd)| {
                            let measured = if item.named {
                                self.enabled(scope, item, qa, qb)
                            } else {
                                Some(self.peak(scope, item, qa, qb))
                            };
                            match (measured, self.ent(item, qd)) {
                                (Some(m), Some(Ent::Seats(n))) => m > n,
                                _ => false,
                            }
                        },
                    );
                    let at = match (peak_at, peak) {
                        (false, _) => String::new(),
                        (true, 0) => ",".into(),
                        (true, _) => {
                            format!(",{}", self.fmt(self.first_at(scope, item, a, b, peak)))
                        }
                    };
                    out.push_str(&format!(
                        "{},{},{},{},{},{},{},{},{},{}{at}\n",
                        match scope.0 {
                            's' => "system",
                            't' => "tenant",
                            _ => "group",
                        },
                        label(scope),
                        gran,
                        self.fmt(a),
                        self.fmt(b),
                        item.name,
                        peak,
                        enabled.map(|e| e.to_string()).unwrap_or_default(),
                        match entitled {
                            None => String::new(),
                            Some(Ent::Seats(n)) => n.to_string(),
                            Some(Ent::Unlimited) => "unlimited".into(),
                        },
                        over
                    ));
                }
            }
        }
        out
    }
}

fn label(s: &(char, String, String)) -> String {
    match s.0 {
        's' => String::new(),
        't' => s.1.clone(),
        _ => format!("{}/{}", s.1, s.2),
    }
}

/// Zones and a day of each with a clock change (or none), for the random sites.
const ZONES: [(&str, &str); 8] = [
    ("Europe/London", "2026-10-25"),
    ("Europe/London", "2026-03-29"),
    ("America/New_York", "2026-11-01"),
    ("Australia/Lord_Howe", "2026-04-05"),
    ("Australia/Lord_Howe", "2026-10-04"),
    ("Asia/Kathmandu", "2026-06-15"),
    ("America/Santiago", "2026-09-06"),
    ("UTC", "2026-02-27"),
];

fn pick<'a, T>(rng: &mut Rng, v: &'a [T]) -> &'a T {
    &v[rng.below(v.len() as u64) as usize]
}

fn subset(rng: &mut Rng, pool: &[&str], p: f64) -> Vec<String> {
    pool.iter()
        .filter(|_| rng.chance(p))
        .map(|s| s.to_string())
        .collect()
}

struct Case {
    tz: Tz,
    week_start: chrono::Weekday,
    anchor: NaiveDate,
    events: Vec<OEvent>,
    snaps: Vec<OSnap>,
    lines: Vec<OLine>,
}

fn random_case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let (zone, day) = ZONES[(seed % ZONES.len() as u64) as usize];
    let tz: Tz = zone.parse().unwrap();
    let anchor = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let w0 = (anchor - TimeDelta::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_nanos_opt()
        .unwrap()
        - 14 * 60 * MINUTE;
    let span = (3 * 24 + 28) * 60; // minutes: the three days in any zone
    let tenants = ["t1", "t2", "t3"];
    let n_agents = 3 + rng.below(6) as usize;
    let agents: Vec<(String, String)> = (0..n_agents)
        .map(|i| {
            let k = 1 + rng.below(3) as usize;
            (pick(&mut rng, &tenants[..k]).to_string(), format!("x{i}"))
        })
        .collect();
    let media_pool = ["voice", "email", "chat", "fax"];
    let group_pool = ["G1", "G2", "G3"];
    // A time: on a 10-minute boundary, a minute, or a second.
    let when = |rng: &mut Rng| -> i64 {
        let m = rng.below(span) as i64;
        match rng.below(3) {
            0 => w0 + (m / 10 * 10) * MINUTE, // w0 is on a 10-minute boundary of every zone here
            1 => w0 + m * MINUTE,
            _ => w0 + m * MINUTE + rng.below(60) as i64 * 1_000_000_000,
        }
    };
    let mut events: Vec<OEvent> = Vec::new();
    for (tenant, agent) in &agents {
        let sessions = 1 + rng.below(5);
        for _ in 0..sessions {
            let a = when(&mut rng);
            let len = if rng.chance(0.1) {
                0
            } else {
                rng.below(400) as i64 * MINUTE / 2
            };
            let login = |ts, media: Vec<String>, groups: Vec<String>| OEvent {
                ts,
                login: true,
                tenant: tenant.clone(),
                agent: agent.clone(),
                groups,
                media,
            };
            events.push(login(
                a,
                subset(&mut rng, &media_pool, 0.4),
                if rng.chance(0.5) {
                    subset(&mut rng, &group_pool, 0.5)
                } else {
                    vec![]
                },
            ));
            if rng.chance(0.3) {
                events.push(login(
                    a + rng.below(60) as i64 * MINUTE,
                    subset(&mut rng, &media_pool, 0.5),
                    subset(&mut rng, &group_pool, 0.3),
                ));
            }
            if !rng.chance(0.1) {
                events.push(OEvent {
                    ts: a + len,
                    login: false,
                    tenant: tenant.clone(),
                    agent: agent.clone(),
                    groups: vec![],
                    media: vec![],
                });
            }
        }
        if rng.chance(0.2) {
            events.push(OEvent {
                ts: when(&mut rng),
                login: false,
                tenant: tenant.clone(),
                agent: agent.clone(),
                groups: vec![],
                media: vec![],
            });
        }
    }
    // Ties across agents, and duplicates.
    for _ in 0..rng.below(6) {
        let i = rng.below(events.len() as u64) as usize;
        let j = rng.below(events.len() as u64) as usize;
        events[j].ts = events[i].ts;
    }
    // Received in an order unrelated to time.
    for i in (1..events.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        events.swap(i, j);
    }
    for _ in 0..rng.below(4) {
        let e = pick(&mut rng, &events).clone();
        events.push(e);
    }
    let mut snaps = Vec::new();
    for _ in 0..rng.below(4) {
        let taken = if rng.chance(0.2) {
            w0 - 60 * MINUTE
        } else {
            when(&mut rng)
        };
        let mut listed: Vec<OAgent> = Vec::new();
        for (t, id) in &agents {
            if rng.chance(0.8) {
                let enabled = rng.chance(0.8);
                let media = subset(&mut rng, &media_pool, 0.5);
                let groups = subset(&mut rng, &group_pool, 0.4);
                listed.push(OAgent {
                    tenant: t.clone(),
                    id: id.clone(),
                    enabled,
                    media,
                    groups,
                });
            }
        }
        if rng.chance(0.3) {
            listed.push(OAgent {
                tenant: "t9".into(),
                id: "only-in-config".into(),
                enabled: true,
                media: vec!["voice".into()],
                groups: vec!["G9".into()],
            });
        }
        snaps.push(OSnap {
            taken,
            agents: listed,
        });
    }
    if snaps.len() >= 2 && rng.chance(0.3) {
        snaps[1].taken = snaps[0].taken;
    }
    let mut lines = Vec::new();
    for f in ["V", "E", "W"] {
        for _ in 0..rng.below(3) {
            let near = |rng: &mut Rng| anchor + TimeDelta::days(rng.range(-2, 2));
            lines.push(OLine {
                feature: f,
                count: if rng.chance(0.15) {
                    None
                } else {
                    Some(1 + rng.below(3))
                },
                start: rng.chance(0.4).then(|| near(&mut rng)),
                expiry: rng.chance(0.4).then(|| near(&mut rng)),
            });
        }
    }
    Case {
        tz,
        // Every day of the week starts the weeks of some seeds (Monday: the default).
        week_start: chrono::Weekday::try_from(((seed * 5 + 3) % 7) as u8).unwrap(),
        anchor,
        events,
        snaps,
        lines,
    }
}

/// The configuration's name of a day (`week_start`).
fn week_start_name(d: chrono::Weekday) -> &'static str {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    NAMES[d.num_days_from_monday() as usize]
}

fn lic_date(d: NaiveDate) -> String {
    d.format("%-d-%b-%Y").to_string()
}

fn write_site(case: &Case, seed: u64) -> Site {
    let mut license = String::from("SERVER h ANY 27000\nVENDOR genesys.d\n");
    for l in &case.lines {
        license += &format!(
            "INCREMENT {} genesys.d 1.0 {} {}{}\n",
            l.feature,
            l.expiry.map(lic_date).unwrap_or_else(|| "permanent".into()),
            l.count
                .map(|c| c.to_string())
                .unwrap_or_else(|| "uncounted".into()),
            l.start
                .map(|s| format!(" START={}", lic_date(s)))
                .unwrap_or_default()
        );
    }
    let site = Site::new(case.tz.name(), ITEMS_TOML, &license);
    site.set_top(&format!(
        "week_start = \"{}\"",
        week_start_name(case.week_start)
    ));
    // Events in received order, over three files (JSON Lines, CSV, JSON Lines).
    let k = case.events.len();
    let parts = [
        &case.events[..k / 3],
        &case.events[k / 3..2 * k / 3],
        &case.events[2 * k / 3..],
    ];
    for (i, part) in parts.iter().enumerate() {
        let csv = i == 1;
        let mut text = if csv {
            "ts,event,tenant,agent,place,groups,media\n".to_string()
        } else {
            String::new()
        };
        for (n, e) in part.iter().enumerate() {
            let ts = if (n + seed as usize).is_multiple_of(2) {
                case.tz
                    .timestamp_nanos(e.ts)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            } else {
                chrono::Utc
                    .timestamp_nanos(e.ts)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            let event = if e.login { "login" } else { "logout" };
            if csv {
                text += &format!(
                    "{ts},{event},{},{},,{},{}\n",
                    e.tenant,
                    e.agent,
                    e.groups.join(";"),
                    e.media.join(";")
                );
            } else {
                text += &serde_json::json!({"ts": ts, "event": event, "tenant": e.tenant, "agent": e.agent, "groups": e.groups, "media": e.media}).to_string();
                text.push('\n');
            }
        }
        site.spool(
            &format!("part{i}.{}", if csv { "csv" } else { "jsonl" }),
            &text,
        );
    }
    for (i, s) in case.snaps.iter().enumerate() {
        let mut by_tenant: BTreeMap<&str, Vec<&OAgent>> = BTreeMap::new();
        for a in &s.agents {
            by_tenant.entry(&a.tenant).or_default().push(a);
        }
        let mut xml = format!(
            "<ConfigurationSnapshot taken=\"{}\">\n",
            chrono::Utc
                .timestamp_nanos(s.taken)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for (t, agents) in by_tenant {
            xml += &format!("<Tenant name=\"{t}\">\n");
            for a in agents {
                xml += &format!(
                    "<Agent id=\"{}\" enabled=\"{}\" media=\"{}\" groups=\"{}\"/>\n",
                    a.id,
                    a.enabled,
                    a.media.join(" "),
                    a.groups.join(" ")
                );
            }
            xml += "</Tenant>\n";
        }
        xml += "</ConfigurationSnapshot>\n";
        site.snapshot(&format!("s{i}.xml"), &xml);
    }
    site
}

fn compare(
    site: &Site,
    oracle: &Oracle,
    scope: &str,
    gran: &str,
    from: NaiveDate,
    to: NaiveDate,
    seed: u64,
) {
    // Every other comparison also checks when each peak was first reached.
    let peak_at = (seed + gran.len() as u64).is_multiple_of(2);
    let want = oracle.report(scope, gran, (from, to), peak_at);
    let extra = seatmeter_reports::Extra { peak_at };
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let got = site.report_with(scope, None, gran, &from_s, &to_s, extra).0;
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .take(5)
            .map(|(g, w)| format!("  got  {g}\n  want {w}"))
            .collect();
        panic!(
            "seed {seed} ({}), {scope} {gran} {from}..{to}: {} rows vs {} expected\n{}",
            oracle.tz.name(),
            got.lines().count(),
            want.lines().count(),
            diff.join("\n")
        );
    }
}

fn check_seed(seed: u64) {
    let case = random_case(seed);
    let site = write_site(&case, seed);
    site.collect_and_rollup();
    let mut oracle = Oracle::new(
        case.tz,
        &case.events,
        case.snaps.clone(),
        case.lines.clone(),
    );
    oracle.week_start = case.week_start;
    let (a, b) = (
        case.anchor - TimeDelta::days(1),
        case.anchor + TimeDelta::days(1),
    );
    compare(&site, &oracle, "system", "10min", a, b, seed);
    compare(&site, &oracle, "system", "hourly", a, b, seed);
    compare(
        &site,
        &oracle,
        "system",
        "daily",
        a - TimeDelta::days(1),
        b + TimeDelta::days(2),
        seed,
    );
    compare(
        &site,
        &oracle,
        "system",
        "weekly",
        case.anchor,
        case.anchor,
        seed,
    );
    compare(&site, &oracle, "tenant", "hourly", a, b, seed);
    compare(
        &site,
        &oracle,
        "tenant",
        "daily",
        a,
        b + TimeDelta::days(1),
        seed,
    );
    compare(
        &site,
        &oracle,
        "group",
        "10min",
        case.anchor,
        case.anchor,
        seed,
    );
    compare(&site, &oracle, "group", "daily", a, b, seed);
    if seed.is_multiple_of(4) {
        compare(
            &site,
            &oracle,
            "system",
            "monthly",
            case.anchor,
            case.anchor,
            seed,
        );
        compare(
            &site,
            &oracle,
            "tenant",
            "monthly",
            case.anchor,
            case.anchor,
            seed,
        );
    }
}

#[test]
fn random_sites_agree_with_the_oracle() {
    let n: u64 = std::env::var("SEATMETER_ORACLE_SITES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    for seed in 0..n {
        check_seed(seed);
    }
}

/// The oracle itself, on the worked example: it must agree with section 10 of docs/SEMANTICS.md too.
#[test]
fn the_oracle_reproduces_the_worked_example() {
    let tz: Tz = "Europe/London".parse().unwrap();
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    };
    let e = |ts: &str, login: bool, tenant: &str, agent: &str, groups: &[&str], media: &[&str]| {
        OEvent {
            ts: t(ts),
            login,
            tenant: tenant.into(),
            agent: agent.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            media: media.iter().map(|s| s.to_string()).collect(),
        }
    };
    let events = vec![
        e(
            "2026-10-25T00:30:00Z",
            true,
            "acme",
            "x",
            &["G"],
            &["voice"],
        ),
        e("2026-10-25T00:50:00Z", true, "acme", "y", &[], &["email"]),
        e("2026-10-25T01:05:00Z", false, "acme", "x", &[], &[]),
        e("2026-10-25T01:05:00Z", true, "acme", "x", &[], &["email"]),
        e("2026-10-25T01:20:00Z", true, "beta", "x", &[], &["voice"]),
        e("2026-10-25T01:20:00Z", false, "beta", "x", &[], &[]),
        e("2026-10-25T01:30:00Z", false, "acme", "y", &[], &[]),
        e("2026-10-25T01:30:00Z", false, "acme", "nobody", &[], &[]),
    ];
    let snap = OSnap {
        taken: t("2026-10-25T00:00:00Z"),
        agents: vec![
            OAgent {
                tenant: "acme".into(),
                id: "x".into(),
                enabled: true,
                media: vec!["voice".into(), "email".into()],
                groups: vec!["G".into()],
            },
            OAgent {
                tenant: "acme".into(),
                id: "y".into(),
                enabled: true,
                media: vec!["email".into()],
                groups: vec![],
            },
        ],
    };
    let oracle = Oracle::new(tz, &events, vec![snap], vec![]);
    let csv = oracle.report(
        "tenant",
        "daily",
        (
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
        ),
        false,
    );
    let rows: Vec<&str> = csv.lines().collect();
    // Items differ from the example's (Voice/Digital/All), but the seats agree.
    assert!(
        rows[1].starts_with(
            "tenant,acme,daily,2026-10-25T00:00:00+01:00,2026-10-26T00:00:00+00:00,Voice,1,1,"
        ),
        "{csv}"
    );
    assert!(rows[2].contains(",Digital,2,2,"), "{csv}");
    assert!(
        rows[4].starts_with("tenant,beta,") && rows[4].contains(",Voice,0,0,"),
        "{csv}"
    );
    let hourly = oracle.report(
        "system",
        "hourly",
        (
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
        ),
        false,
    );
    assert_eq!(hourly.lines().count(), 1 + 25 * 3);
}
