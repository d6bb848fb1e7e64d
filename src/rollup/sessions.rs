//! From events to sessions (docs/SEMANTICS.md, sections 2.1 and 2.2): a day's events, per
//! agent in (timestamp, receive order), through the session state machine, into the
//! changes of seats (transitions) that the sweep turns into maxima.

use std::rc::Rc;

use seatmeter_collectors::EventKind;
use seatmeter_core::Nanos;
use seatmeter_core::calendar::DaySlots;
use seatmeter_core::time::NANOS_PER_DAY;
use seatmeter_store::{AgentActivity, Anomaly, AnomalyKind, DayRecord, StoreError, StoredEvent};

use super::carry::{self, Carry, Seat};
use super::keys::DenseKeys;
use super::snapshots::SnapshotView;
use super::sweep::{SweepWork, Transition};
use super::{ItemMask, Rollup};

/// A day through the state machine: the sweep's input, and what only this thread knows.
pub(super) struct Prepared {
    pub(super) work: SweepWork,
    pub(super) record: DayRecord,
    pub(super) anomalies: Vec<Anomaly>,
    pub(super) end: Carry,
}

/// The transitions of a day as they are found: each an instant, +1 or -1, and the keys
/// it changes (a run of `flat`).
struct Steps<'k> {
    dk: &'k DenseKeys,
    trans: Vec<Transition>,
    flat: Vec<u32>,
    keys: Vec<u32>,
    old_keys: Vec<u32>,
}

impl<'k> Steps<'k> {
    fn new(dk: &'k DenseKeys, events: usize, carried: usize) -> Steps<'k> {
        Steps {
            dk,
            trans: Vec::with_capacity(events + carried),
            flat: Vec::with_capacity(events * 8),
            keys: Vec::new(),
            old_keys: Vec::new(),
        }
    }

    /// `sign` for every key of a seat using `measures` (items and bundles) in `groups`.
    fn step(&mut self, ts: Nanos, sign: i8, tenant: u32, measures: ItemMask, groups: &[u32]) {
        let start = self.flat.len();
        self.dk.keys(tenant, measures, groups, &mut self.flat);
        self.trans
            .push(Transition::new(ts, sign, start, self.flat.len()));
    }

    /// A seat that changed while logged in: its new keys step up; a key it no longer has
    /// (a bundle that excludes an item just added) steps down.
    fn change(&mut self, ts: Nanos, tenant: u32, old: (ItemMask, &[u32]), new: (ItemMask, &[u32])) {
        self.old_keys.clear();
        self.dk.keys(tenant, old.0, old.1, &mut self.old_keys);
        self.keys.clear();
        self.dk.keys(tenant, new.0, new.1, &mut self.keys);
        let start = self.flat.len();
        let (keys, old_keys) = (&self.keys, &self.old_keys);
        self.flat
            .extend(keys.iter().filter(|k| !old_keys.contains(k)));
        self.trans
            .push(Transition::new(ts, 1, start, self.flat.len()));
        let start = self.flat.len();
        self.flat
            .extend(old_keys.iter().filter(|k| !keys.contains(k)));
        if self.flat.len() > start {
            self.trans
                .push(Transition::new(ts, -1, start, self.flat.len()));
        }
    }
}

/// What a day's events came to, besides the transitions.
#[derive(Default)]
struct Tally {
    sessions: u64,
    anomalies: Vec<Anomaly>,
    /// Each agent's activity of the day, agents ascending, encoded as it comes.
    activity: seatmeter_store::codec::ActivityEncoder,
    /// The agent's activity being made (its lists kept from one agent to the next).
    scratch: AgentActivity,
}

/// Sessions longer than this are kept with the day they end on (for right-sizing's long
/// sessions, docs/FINOPS.md): eight hours.
pub const LONG_SESSION: Nanos = seatmeter_finops::KEPT_SESSION_HOURS as Nanos * 3_600_000_000_000;

/// The coarsest unit (10^e nanoseconds, e ≤ 9) all these instants are multiples of: the
/// activity's times are differences of them, so it can store them in that unit (seconds,
/// for the whole-second instants of most sources).
fn time_unit(instants: impl Iterator<Item = Nanos>) -> u32 {
    let mut exp = 9;
    for t in instants {
        while exp > 0 && t % 10i64.pow(exp) != 0 {
            exp -= 1;
        }
    }
    exp
}

/// Adds `ns` to the time of `id` in a short list.
fn add_time(list: &mut Vec<(u32, Nanos)>, id: u32, ns: Nanos) {
    match list.iter_mut().find(|(i, _)| *i == id) {
        Some(x) => x.1 += ns,
        None => list.push((id, ns)),
    }
}

/// The time a seat was held, from `from` to `to`: logged in, and per item and media.
fn hold(act: &mut AgentActivity, seat: &Seat, from: Nanos, to: Nanos) {
    let ns = to - from;
    if ns <= 0 {
        return;
    }
    act.logged += ns;
    let mut m = seat.items;
    while m != 0 {
        add_time(&mut act.items, m.trailing_zeros(), ns);
        m &= m - 1;
    }
    for &media in seat.media.iter() {
        add_time(&mut act.media, media, ns);
    }
}

impl Rollup<'_> {
    /// The first half of a day's rollup: its events through the session state machine,
    /// into the transitions that the sweep (on another thread) turns into maxima.
    pub(super) fn prepare_day(
        &mut self,
        slots: &DaySlots,
        carry: &Carry,
        start_fp: [u8; 32],
    ) -> Result<Prepared, StoreError> {
        self.set_day_bundles(slots.day);
        let events = self.day_events(slots)?;
        let views = self.day_views(slots)?;
        // (scope, item) pairs as dense indices into arrays for the day.
        let dk = DenseKeys::new(&self.dims, self.items.len() + self.bundles.len());
        let level = self.start_levels(&dk, carry);

        // The session state machine, per agent in (ts, receive order): the agents carried
        // from the day before and those with events, merged by agent id.
        let mut steps = Steps::new(&dk, events.len(), carry.len());
        let mut tally = Tally {
            activity: seatmeter_store::codec::ActivityEncoder::new(time_unit(
                events
                    .iter()
                    .map(|e| e.ts)
                    .chain([slots.starts[0], slots.end])
                    .chain(
                        carry
                            .iter()
                            .map(|c| c.1.since)
                            .filter(|&s| s != carry::SINCE_UNKNOWN),
                    ),
            )),
            ..Tally::default()
        };
        let mut end: Carry = Vec::with_capacity(carry.len());
        let (mut ci, mut ei) = (0, 0);
        while ei < events.len() || ci < carry.len() {
            let next_event_agent = events.get(ei).map(|e| e.agent).unwrap_or(u32::MAX);
            let next_carry_agent = carry.get(ci).map(|c| c.0).unwrap_or(u32::MAX);
            let agent = next_event_agent.min(next_carry_agent);
            let seat: Option<Seat> = if next_carry_agent == agent {
                ci += 1;
                Some(carry[ci - 1].1.clone())
            } else {
                None
            };
            let n = events[ei..].iter().take_while(|e| e.agent == agent).count();
            let seat = self.apply(
                agent,
                &events[ei..ei + n],
                seat,
                (slots.starts[0], slots.end),
                &views,
                &mut steps,
                &mut tally,
            );
            ei += n;
            if let Some(s) = seat {
                end.push((agent, s));
            }
        }
        let stray = tally.anomalies.len() as u64;
        let Steps { trans, flat, .. } = steps;
        Ok(Prepared {
            work: SweepWork {
                slots: slots.clone(),
                trans,
                flat,
                level,
                dk,
                views: views.iter().map(|(t, v)| (*t, v.enabled.clone())).collect(),
            },
            record: DayRecord {
                day: slots.day,
                start_fp,
                end_state: carry::encode(&end),
                events: events.len() as u64,
                sessions: tally.sessions,
                stray_logouts: stray,
                activity: tally.activity.finish(),
            },
            anomalies: tally.anomalies,
            end,
        })
    }

    /// One agent's events of the day, from the seat it holds at the day's start; returns
    /// the seat it holds at the day's end. Its activity of the day (`day`: the day's start
    /// and end) goes to `tally`.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        agent: u32,
        events: &[StoredEvent],
        mut seat: Option<Seat>,
        day: (Nanos, Nanos),
        views: &[(Nanos, Rc<SnapshotView>)],
        steps: &mut Steps<'_>,
        tally: &mut Tally,
    ) -> Option<Seat> {
        let tenant = self.dims.agents[agent as usize].0;
        let mut act = std::mem::take(&mut tally.scratch);
        act.agent = agent;
        act.first_login = None;
        act.last_login = None;
        act.logged = 0;
        act.items.clear();
        act.media.clear();
        act.long.clear();
        // The seat held since this instant (the day's start for a seat carried in).
        let mut since = day.0;
        for e in events {
            if let Some(s) = &seat {
                hold(&mut act, s, since, e.ts);
            }
            since = e.ts;
            if e.kind == EventKind::Login {
                act.first_login.get_or_insert(e.ts);
                act.last_login = Some(e.ts);
            }
            seat = match (e.kind, seat.take()) {
                (EventKind::Login, None) => {
                    let new = Seat {
                        items: self.media_items[e.media as usize],
                        groups: self.login_groups(e, views),
                        media: self.mediasets[e.media as usize].clone(),
                        since: e.ts,
                    };
                    steps.step(e.ts, 1, tenant, self.measures(new.items), &new.groups);
                    tally.sessions += 1;
                    Some(new)
                }
                (EventKind::Login, Some(old)) => {
                    // A second device (or a repeated login): media and groups are the
                    // union of old and new from now on.
                    let more = self.login_groups(e, views);
                    let groups = if more.iter().all(|g| old.groups.contains(g)) {
                        old.groups.clone()
                    } else {
                        self.intern_groups(old.groups.iter().chain(more.iter()).copied().collect())
                    };
                    let more = &self.mediasets[e.media as usize];
                    let media = if more.iter().all(|m| old.media.contains(m)) {
                        old.media.clone()
                    } else {
                        self.intern_groups(old.media.iter().chain(more.iter()).copied().collect())
                    };
                    let new = Seat {
                        items: old.items | self.media_items[e.media as usize],
                        groups,
                        media,
                        since: old.since,
                    };
                    if (new.items, &new.groups) != (old.items, &old.groups) {
                        steps.change(
                            e.ts,
                            tenant,
                            (self.measures(old.items), &old.groups),
                            (self.measures(new.items), &new.groups),
                        );
                    }
                    Some(new)
                }
                (EventKind::Logout, Some(old)) => {
                    steps.step(e.ts, -1, tenant, self.measures(old.items), &old.groups);
                    if old.since != carry::SINCE_UNKNOWN && e.ts - old.since > LONG_SESSION {
                        act.long.push((old.since, e.ts));
                    }
                    None
                }
                (EventKind::Logout, None) => {
                    tally.anomalies.push(Anomaly {
                        ts: e.ts,
                        agent,
                        kind: AnomalyKind::StrayLogout,
                    });
                    None
                }
            };
        }
        if let Some(s) = &seat {
            hold(&mut act, s, since, day.1);
        }
        if act.logged > 0 || act.first_login.is_some() {
            act.items.sort_unstable();
            act.media.sort_unstable();
            tally.activity.push(&act);
        }
        tally.scratch = act;
        seat
    }

    /// The day's events, sorted by (agent, ts, receive order).
    fn day_events(&mut self, slots: &DaySlots) -> Result<Vec<StoredEvent>, StoreError> {
        let mut events = self.events_between(slots.starts[0], slots.end)?;
        if events.iter().any(|e| {
            e.agent as usize >= self.dims.agents.len()
                || e.media as usize >= self.media_items.len()
                || e.groups as usize >= self.dims.groupsets.len()
        }) {
            self.load_dimensions()?;
        }
        sort_by_agent(&mut events, self.dims.agents.len());
        Ok(events)
    }

    /// The level of every key when the day starts: the seats carried from the day before.
    fn start_levels(&self, dk: &DenseKeys, carry: &Carry) -> Vec<i32> {
        let mut level: Vec<i32> = vec![0; dk.len()];
        let mut keys: Vec<u32> = Vec::new();
        for (agent, seat) in carry {
            keys.clear();
            dk.keys(
                self.dims.agents[*agent as usize].0,
                self.measures(seat.items),
                &seat.groups,
                &mut keys,
            );
            for &k in &keys {
                level[k as usize] += 1;
            }
        }
        level
    }

    /// The groups a login brings: its own, or, when it names none, the agent's groups in the
    /// snapshot in force at the login; and the groups its place has in that snapshot
    /// (marked place groups, docs/SEMANTICS.md, section 11.1).
    fn login_groups(&mut self, e: &StoredEvent, views: &[(Nanos, Rc<SnapshotView>)]) -> Rc<[u32]> {
        let i = views.partition_point(|(t, _)| *t <= e.ts);
        let view = i.checked_sub(1).map(|i| &views[i].1);
        let own = if e.groups != 0 {
            self.groupsets[e.groups as usize].clone()
        } else {
            match view.and_then(|v| v.groups.get(&e.agent)) {
                Some(g) => g.clone(),
                None => self.groupsets[0].clone(),
            }
        };
        let tenant = self.dims.agents[e.agent as usize].0;
        match view.and_then(|v| v.places.get(&(tenant, e.place))) {
            Some(p) if e.place != 0 && !p.is_empty() => {
                let p = p.clone();
                self.intern_groups(own.iter().chain(p.iter()).copied().collect())
            }
            _ => own,
        }
    }

    /// Events with `from <= ts < to`. Each UTC day is read and decoded once for the two
    /// local days it overlaps.
    fn events_between(&mut self, from: Nanos, to: Nanos) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        for u in from.div_euclid(NANOS_PER_DAY)..=(to - 1).div_euclid(NANOS_PER_DAY) {
            let events = match self.utc_days.iter().find(|(d, _)| *d == u) {
                Some((_, e)) => e.clone(),
                None => {
                    let e = Rc::new(self.store.events_on_utc_day(u)?);
                    self.utc_days.retain(|(d, _)| *d >= u - 1);
                    self.utc_days.push((u, e.clone()));
                    e
                }
            };
            out.extend(events.iter().filter(|e| e.ts >= from && e.ts < to));
        }
        Ok(out)
    }
}

/// Orders events by (agent, ts, receive order): a counting sort by agent (ids are dense),
/// then each agent's few events by time.
fn sort_by_agent(events: &mut Vec<StoredEvent>, agents: usize) {
    if events.len() < 2 {
        return;
    }
    let agents = agents.max(
        events
            .iter()
            .map(|e| e.agent as usize + 1)
            .max()
            .unwrap_or(0),
    );
    let mut start = vec![0u32; agents + 1];
    for e in events.iter() {
        start[e.agent as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut sorted = vec![events[0]; events.len()];
    let mut next = start.clone();
    for e in events.iter() {
        let slot = &mut next[e.agent as usize];
        sorted[*slot as usize] = *e;
        *slot += 1;
    }
    for w in start.windows(2) {
        let run = &mut sorted[w[0] as usize..w[1] as usize];
        if run.len() > 1 {
            run.sort_unstable_by_key(|e| (e.ts, e.seq));
        }
    }
    *events = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(agent: u32, ts: Nanos, seq: u64) -> StoredEvent {
        StoredEvent {
            ts,
            seq,
            kind: EventKind::Login,
            agent,
            place: 0,
            groups: 0,
            media: 0,
        }
    }

    #[test]
    fn events_are_ordered_by_agent_then_time_then_receive_order() {
        let mut events = vec![
            ev(2, 10, 1),
            ev(0, 5, 2),
            ev(2, 5, 3),
            ev(0, 5, 0),
            ev(9, 1, 4),
        ];
        sort_by_agent(&mut events, 3);
        let got: Vec<(u32, Nanos, u64)> = events.iter().map(|e| (e.agent, e.ts, e.seq)).collect();
        assert_eq!(
            got,
            [(0, 5, 0), (0, 5, 2), (2, 5, 3), (2, 10, 1), (9, 1, 4)]
        );
    }
}
