//! Compact encodings of the blobs the store keeps (event chunks, snapshots, 10-minute
//! arrays). Both dialects store the same bytes, so they are defined once, here.

use seatmeter_collectors::EventKind;
use seatmeter_core::Nanos;

use super::{
    AgentActivity, Scope, SlotRecord, SnapshotAgentRow, SnapshotPlaceRow, StoreError, StoredEvent,
};

pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub fn put_ivarint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads blobs written by the `put_` functions; every read is checked.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn uvarint(&mut self) -> Result<u64, StoreError> {
        let mut v: u64 = 0;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(v);
            }
        }
        Err(StoreError::Corrupt(
            "truncated varint in a stored blob".into(),
        ))
    }

    pub fn ivarint(&mut self) -> Result<i64, StoreError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub fn u32(&mut self) -> Result<u32, StoreError> {
        u32::try_from(self.uvarint()?)
            .map_err(|_| StoreError::Corrupt("id out of range in a stored blob".into()))
    }

    pub fn byte(&mut self) -> Result<u8, StoreError> {
        let (&b, rest) = self
            .buf
            .split_first()
            .ok_or_else(|| StoreError::Corrupt("truncated stored blob".into()))?;
        self.buf = rest;
        Ok(b)
    }
}

const EVENTS_V1: u8 = 1;

/// Encodes events sorted by (ts, seq): time as deltas, ids as varints (about 12 bytes an event).
pub fn encode_events(events: &[StoredEvent]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(events.len() * 14 + 1);
    buf.push(EVENTS_V1);
    let (mut ts, mut seq) = (0i64, 0i64);
    for e in events {
        put_ivarint(&mut buf, e.ts.wrapping_sub(ts));
        put_ivarint(&mut buf, (e.seq as i64).wrapping_sub(seq));
        ts = e.ts;
        seq = e.seq as i64;
        buf.push(e.kind as u8);
        put_uvarint(&mut buf, e.agent as u64);
        put_uvarint(&mut buf, e.place as u64);
        put_uvarint(&mut buf, e.groups as u64);
        put_uvarint(&mut buf, e.media as u64);
    }
    buf
}

/// Appends the events of a chunk to `out`.
pub fn decode_events(blob: &[u8], out: &mut Vec<StoredEvent>) -> Result<(), StoreError> {
    let mut r = Reader::new(blob);
    if r.byte()? != EVENTS_V1 {
        return Err(StoreError::Corrupt("unknown event chunk version".into()));
    }
    let (mut ts, mut seq): (Nanos, i64) = (0, 0);
    while !r.is_empty() {
        ts = ts.wrapping_add(r.ivarint()?);
        seq = seq.wrapping_add(r.ivarint()?);
        let kind = match r.byte()? {
            1 => EventKind::Login,
            2 => EventKind::Logout,
            k => {
                return Err(StoreError::Corrupt(format!(
                    "unknown event kind {k} in a chunk"
                )));
            }
        };
        out.push(StoredEvent {
            ts,
            seq: seq as u64,
            kind,
            agent: r.u32()?,
            place: r.u32()?,
            groups: r.u32()?,
            media: r.u32()?,
        });
    }
    Ok(())
}

/// A snapshot's rows: per agent its id, a flags byte, its media set and group set, then
/// what the flags announce. Flag 1: enabled. Flag 2: its tags follow (a count, then each
/// as a length and UTF-8 bytes). Flag 4: its tier follows (a length and UTF-8 bytes). A row
/// without tags or tier is written as before those were kept (flags 0 or 1), so snapshots
/// stored by earlier versions read the same. Then each place (docs/SEMANTICS.md, section
/// 11.1): its tenant id, flag 8 (a place, not an agent), its place id and its set of place
/// groups.
pub fn encode_snapshot(agents: &[SnapshotAgentRow], places: &[SnapshotPlaceRow]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(agents.len() * 6 + places.len() * 4);
    for a in agents {
        put_uvarint(&mut buf, a.agent as u64);
        let flags = a.enabled as u8
            | if a.tags.is_empty() { 0 } else { SNAP_TAGS }
            | if a.tier.is_some() { SNAP_TIER } else { 0 };
        buf.push(flags);
        put_uvarint(&mut buf, a.media as u64);
        put_uvarint(&mut buf, a.groups as u64);
        if !a.tags.is_empty() {
            put_uvarint(&mut buf, a.tags.len() as u64);
            for t in &a.tags {
                put_text(&mut buf, t);
            }
        }
        if let Some(t) = &a.tier {
            put_text(&mut buf, t);
        }
    }
    for p in places {
        put_uvarint(&mut buf, p.tenant as u64);
        buf.push(SNAP_PLACE);
        put_uvarint(&mut buf, p.place as u64);
        put_uvarint(&mut buf, p.groups as u64);
    }
    buf
}

const SNAP_TAGS: u8 = 2;
const SNAP_TIER: u8 = 4;
const SNAP_PLACE: u8 = 8;

fn put_text(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn read_text(r: &mut Reader<'_>) -> Result<String, StoreError> {
    let n = r.u32()? as usize;
    let mut bytes = Vec::with_capacity(n);
    for _ in 0..n {
        bytes.push(r.byte()?);
    }
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt("a snapshot tag is not UTF-8".into()))
}

/// A snapshot's agents and places, as [`encode_snapshot`] wrote them.
pub fn decode_snapshot(
    blob: &[u8],
) -> Result<(Vec<SnapshotAgentRow>, Vec<SnapshotPlaceRow>), StoreError> {
    let mut r = Reader::new(blob);
    let mut out = Vec::new();
    let mut places = Vec::new();
    while !r.is_empty() {
        let agent = r.u32()?;
        let flags = r.byte()?;
        if flags == SNAP_PLACE {
            places.push(SnapshotPlaceRow {
                tenant: agent,
                place: r.u32()?,
                groups: r.u32()?,
            });
            continue;
        }
        if flags & !(1 | SNAP_TAGS | SNAP_TIER) != 0 {
            return Err(StoreError::Corrupt(format!(
                "a snapshot row has unknown flags {flags:#04x}"
            )));
        }
        let media = r.u32()?;
        let groups = r.u32()?;
        let mut tags = Vec::new();
        if flags & SNAP_TAGS != 0 {
            for _ in 0..r.u32()? {
                tags.push(read_text(&mut r)?);
            }
        }
        let tier = match flags & SNAP_TIER != 0 {
            true => Some(read_text(&mut r)?),
            false => None,
        };
        out.push(SnapshotAgentRow {
            agent,
            enabled: flags & 1 != 0,
            media,
            groups,
            tags,
            tier,
        });
    }
    Ok((out, places))
}

/// A list of small numbers (10-minute values, set members).
pub fn encode_u32s(values: &[u32]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(values.len() + 4);
    for &v in values {
        put_uvarint(&mut buf, v as u64);
    }
    buf
}

pub fn decode_u32s(blob: &[u8], out: &mut Vec<u32>) -> Result<(), StoreError> {
    let mut r = Reader::new(blob);
    while !r.is_empty() {
        out.push(r.u32()?);
    }
    Ok(())
}

/// Per-period values as runs: each distinct value once, with how many more periods repeat
/// it. Enabled seats are constant for most days (a run or two); nights are runs of zeros.
pub fn put_runs(buf: &mut Vec<u8>, values: &[u32]) {
    put_uvarint(buf, values.len() as u64);
    let mut i = 0;
    while i < values.len() {
        let v = values[i];
        let run = values[i..].iter().take_while(|&&x| x == v).count();
        put_uvarint(buf, v as u64);
        put_uvarint(buf, (run - 1) as u64);
        i += run;
    }
}

pub fn read_runs(r: &mut Reader<'_>, out: Option<&mut Vec<u32>>) -> Result<(), StoreError> {
    let n = r.uvarint()? as usize;
    let mut got = 0;
    let mut out = out;
    while got < n {
        let v = r.u32()?;
        let run = r.uvarint()? as usize + 1;
        if got + run > n {
            return Err(StoreError::Corrupt("a run goes past its array".into()));
        }
        if let Some(o) = out.as_deref_mut() {
            o.extend(std::iter::repeat_n(v, run));
        }
        got += run;
    }
    Ok(())
}

/// Added to an item index in a scope-day blob when the record carries when its peaks were
/// first reached (a record written before those were kept has an index below it).
const WITH_PEAK_AT: u64 = 1 << 16;

/// The rollup of one scope on one day: every item's values in one blob. Per item: its
/// index (plus [`WITH_PEAK_AT`]), day peak, day enabled, end level, end enabled, the day
/// peak's second, then the runs of the periods' peaks, enabled seats and peak seconds.
pub fn encode_scope_day(records: &[&SlotRecord]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(records.len() * 64);
    for r in records {
        let with_at = r.day_peak_at.is_some();
        put_uvarint(
            &mut buf,
            r.item as u64 + if with_at { WITH_PEAK_AT } else { 0 },
        );
        for v in [r.day_peak, r.day_enabled, r.end_level, r.end_enabled] {
            put_uvarint(&mut buf, v as u64);
        }
        if let Some(at) = r.day_peak_at {
            put_uvarint(&mut buf, at as u64);
        }
        put_runs(&mut buf, &r.peaks);
        put_runs(&mut buf, &r.enabled);
        if with_at {
            put_runs(&mut buf, &r.peak_at);
        }
    }
    buf
}

/// Reads a scope-day blob; with `detail` false, the per-period arrays are skipped.
pub fn decode_scope_day(
    blob: &[u8],
    scope: Scope,
    detail: bool,
    out: &mut Vec<SlotRecord>,
) -> Result<(), StoreError> {
    let mut r = Reader::new(blob);
    while !r.is_empty() {
        let code = r.uvarint()?;
        let with_at = code >= WITH_PEAK_AT;
        let item = u16::try_from(code & (WITH_PEAK_AT - 1))
            .ok()
            .filter(|_| code < 2 * WITH_PEAK_AT)
            .ok_or_else(|| StoreError::Corrupt("item index".into()))?;
        let (day_peak, day_enabled, end_level, end_enabled) =
            (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let day_peak_at = match with_at {
            true => Some(r.u32()?),
            false => None,
        };
        let (mut peaks, mut enabled, mut peak_at) = (Vec::new(), Vec::new(), Vec::new());
        read_runs(&mut r, detail.then_some(&mut peaks))?;
        read_runs(&mut r, detail.then_some(&mut enabled))?;
        if with_at {
            read_runs(&mut r, detail.then_some(&mut peak_at))?;
        }
        out.push(SlotRecord {
            scope,
            item,
            peaks,
            enabled,
            day_peak,
            day_enabled,
            end_level,
            end_enabled,
            day_peak_at,
            peak_at,
        });
    }
    Ok(())
}

const ACTIVITY_V1: u8 = 1;
const ACTIVITY_V2: u8 = 2;

/// A day's agent activity, agents ascending (their ids as differences).
pub fn encode_activity(agents: &[AgentActivity]) -> Vec<u8> {
    // The coarsest unit every time of the list is a multiple of.
    let mut exp = 9;
    for a in agents {
        let times = [
            a.first_login.unwrap_or(0),
            a.last_login.unwrap_or(0),
            a.logged,
        ];
        let lists = a.items.iter().chain(&a.media).map(|x| x.1);
        let long = a.long.iter().flat_map(|&(s, e)| [s, e]);
        for t in times.into_iter().chain(lists).chain(long) {
            while exp > 0 && t % 10i64.pow(exp) != 0 {
                exp -= 1;
            }
        }
    }
    let mut e = ActivityEncoder::new(exp);
    for a in agents {
        e.push(a);
    }
    e.finish()
}

/// A day's activity encoded as its agents come (ascending ids): the rollup writes each
/// agent's activity here as it finishes it, so a day of 100,000 agents is one buffer, not
/// 100,000 structures with lists of their own.
///
/// The encoding (version 2): the version byte and the unit's exponent (times are stored
/// in units of 10^e nanoseconds: seconds for data with whole-second instants), then per
/// agent: its id less the previous one's; flags (1: first login, 2: last login); the first
/// login less the previous first login in the day, and the last login less this agent's
/// first (or less the previous first login); the time logged in; then its items and its
/// media as a count and (id, time logged in less the time with it) pairs, since an item
/// is mostly held all the time an agent is logged in; then its long sessions (count, and
/// each as its logout and its duration). All varints. Version 1 (times in
/// nanoseconds, absolute) still reads.
#[derive(Debug, Clone)]
pub struct ActivityEncoder {
    buf: Vec<u8>,
    prev: u32,
    prev_first: Nanos,
    unit: i64,
}

impl Default for ActivityEncoder {
    fn default() -> Self {
        ActivityEncoder::new(0)
    }
}

impl ActivityEncoder {
    /// An encoder whose every time is a multiple of 10^`exp` nanoseconds (`exp` ≤ 9).
    pub fn new(exp: u32) -> ActivityEncoder {
        let exp = exp.min(9);
        ActivityEncoder {
            buf: vec![ACTIVITY_V2, exp as u8],
            prev: 0,
            prev_first: 0,
            unit: 10i64.pow(exp),
        }
    }

    fn time(&self, t: Nanos) -> i64 {
        debug_assert_eq!(t % self.unit, 0, "a time finer than the activity's unit");
        t / self.unit
    }

    /// Appends one agent's activity; agents must come in ascending order of id.
    pub fn push(&mut self, a: &AgentActivity) {
        debug_assert!(a.agent >= self.prev, "activity of agents out of order");
        let mut buf = std::mem::take(&mut self.buf);
        put_uvarint(&mut buf, (a.agent - self.prev) as u64);
        self.prev = a.agent;
        buf.push(a.first_login.is_some() as u8 | (a.last_login.is_some() as u8) << 1);
        if let Some(f) = a.first_login {
            put_ivarint(&mut buf, self.time(f) - self.time(self.prev_first));
        }
        if let Some(l) = a.last_login {
            let base = a.first_login.unwrap_or(self.prev_first);
            put_ivarint(&mut buf, self.time(l) - self.time(base));
        }
        if let Some(f) = a.first_login {
            self.prev_first = f;
        }
        put_uvarint(&mut buf, self.time(a.logged) as u64);
        for list in [&a.items, &a.media] {
            put_uvarint(&mut buf, list.len() as u64);
            for &(id, ns) in list {
                put_uvarint(&mut buf, id as u64);
                put_ivarint(&mut buf, self.time(a.logged) - self.time(ns));
            }
        }
        put_uvarint(&mut buf, a.long.len() as u64);
        for &(start, end) in &a.long {
            put_ivarint(&mut buf, self.time(end));
            put_ivarint(&mut buf, self.time(end) - self.time(start));
        }
        self.buf = buf;
    }

    /// The encoded day.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

pub fn decode_activity(blob: &[u8]) -> Result<Vec<AgentActivity>, StoreError> {
    let mut out = Vec::new();
    decode_activity_each(blob, &mut AgentActivity::default(), &mut |a| {
        out.push(a.clone());
        Ok(())
    })?;
    Ok(out)
}

/// Decodes a day's activity into `act`, one agent after the other, handing each to `each`:
/// no allocation per agent once `act`'s lists have grown (what reports over months use).
pub fn decode_activity_each(
    blob: &[u8],
    act: &mut AgentActivity,
    each: &mut dyn FnMut(&AgentActivity) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut r = Reader::new(blob);
    let v2 = match r.byte()? {
        ACTIVITY_V1 => false,
        ACTIVITY_V2 => true,
        _ => {
            return Err(StoreError::Corrupt(
                "agent activity of an unknown version".into(),
            ));
        }
    };
    let unit = match v2 {
        true => {
            let exp = r.byte()?;
            if exp > 9 {
                return Err(StoreError::Corrupt("agent activity's unit".into()));
            }
            10i64.pow(exp as u32)
        }
        false => 1,
    };
    let mut agent = 0u32;
    let mut prev_first = 0i64;
    while !r.is_empty() {
        agent = agent
            .checked_add(r.u32()?)
            .ok_or_else(|| StoreError::Corrupt("agent id out of range".into()))?;
        let flags = r.byte()?;
        act.agent = agent;
        if !v2 {
            act.first_login = (flags & 1 != 0).then(|| r.ivarint()).transpose()?;
            act.last_login = (flags & 2 != 0).then(|| r.ivarint()).transpose()?;
            act.logged = r.uvarint()? as Nanos;
        } else {
            act.first_login = match flags & 1 != 0 {
                true => Some(prev_first + r.ivarint()?.saturating_mul(unit)),
                false => None,
            };
            act.last_login = match flags & 2 != 0 {
                true => {
                    Some(act.first_login.unwrap_or(prev_first) + r.ivarint()?.saturating_mul(unit))
                }
                false => None,
            };
            if let Some(f) = act.first_login {
                prev_first = f;
            }
            act.logged = (r.uvarint()? as i64).saturating_mul(unit);
        }
        for list in [&mut act.items, &mut act.media] {
            list.clear();
            let n = r.uvarint()? as usize;
            for _ in 0..n.min(1 << 16) {
                let id = r.u32()?;
                let t = match v2 {
                    true => act.logged - r.ivarint()?.saturating_mul(unit),
                    false => r.uvarint()? as Nanos,
                };
                list.push((id, t));
            }
        }
        act.long.clear();
        if v2 {
            for _ in 0..(r.uvarint()? as usize).min(1 << 16) {
                let end = r.ivarint()?.saturating_mul(unit);
                let start = end - r.ivarint()?.saturating_mul(unit);
                act.long.push((start, end));
            }
        }
        each(act)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let events = vec![
            StoredEvent {
                ts: -5,
                seq: 9,
                kind: EventKind::Login,
                agent: 1,
                place: 0,
                groups: 3,
                media: 1,
            },
            StoredEvent {
                ts: 1_700_000_000_000_000_000,
                seq: 2,
                kind: EventKind::Logout,
                agent: 70_000,
                place: 5,
                groups: 0,
                media: 0,
            },
            StoredEvent {
                ts: 1_700_000_000_000_000_000,
                seq: u32::MAX as u64 + 7,
                kind: EventKind::Login,
                agent: u32::MAX,
                place: 1,
                groups: 1,
                media: 2,
            },
        ];
        let blob = encode_events(&events);
        let mut back = Vec::new();
        decode_events(&blob, &mut back).unwrap();
        assert_eq!(back, events);
        assert!(decode_events(&blob[..blob.len() - 1], &mut Vec::new()).is_err());
    }

    #[test]
    fn scope_days_round_trip_as_runs() {
        let rec = |item: u16, peaks: Vec<u32>, enabled: Vec<u32>| SlotRecord {
            scope: Scope::SYSTEM,
            item,
            day_peak: peaks.iter().copied().max().unwrap_or(0),
            day_enabled: enabled.iter().copied().max().unwrap_or(0),
            end_level: 3,
            end_enabled: 7,
            peaks,
            enabled,
            day_peak_at: None,
            peak_at: Vec::new(),
        };
        let a = rec(0, vec![0, 0, 0, 5, 5, 6, 0, 300, 300], vec![7; 9]);
        let b = rec(5, vec![1; 9], vec![0, 0, 0, 0, 7, 7, 7, 7, 7]);
        let blob = encode_scope_day(&[&a, &b]);
        assert!(blob.len() < 40, "{} bytes", blob.len());
        let mut out = Vec::new();
        decode_scope_day(&blob, Scope::SYSTEM, true, &mut out).unwrap();
        assert_eq!(out, vec![a.clone(), b.clone()]);
        // With the seconds of the peaks: a record of each kind in one blob, read back; the
        // record without them is written byte for byte as before they were kept.
        let c = SlotRecord {
            day_peak_at: Some(4_321),
            peak_at: vec![0, 0, 0, 12, 0, 599, 0, 1, 0],
            ..rec(300, vec![0, 0, 0, 5, 5, 6, 0, 300, 300], vec![7; 9])
        };
        let both = encode_scope_day(&[&a, &c]);
        let alone = encode_scope_day(&[&a]);
        assert_eq!(&both[..alone.len()], &alone[..]);
        let mut out = Vec::new();
        decode_scope_day(&both, Scope::SYSTEM, true, &mut out).unwrap();
        assert_eq!(out, vec![a.clone(), c.clone()]);
        let mut summary = Vec::new();
        decode_scope_day(&both, Scope::SYSTEM, false, &mut summary).unwrap();
        assert_eq!(
            (summary[1].item, summary[1].day_peak_at),
            (300, Some(4_321))
        );
        assert!(summary[1].peak_at.is_empty() && summary[0].day_peak_at.is_none());
        let mut summary = Vec::new();
        decode_scope_day(&blob, Scope::SYSTEM, false, &mut summary).unwrap();
        assert_eq!(summary[1].day_enabled, 7);
        assert!(summary[1].peaks.is_empty());
        assert!(
            decode_scope_day(
                &blob[..blob.len() - 1],
                Scope::SYSTEM,
                true,
                &mut Vec::new()
            )
            .is_err()
        );
    }

    #[test]
    fn snapshots_and_lists_round_trip() {
        let rows = vec![
            SnapshotAgentRow {
                agent: 1,
                enabled: true,
                media: 2,
                groups: 0,
                tags: vec![],
                tier: None,
            },
            SnapshotAgentRow {
                agent: 300,
                enabled: false,
                media: 0,
                groups: 9,
                tags: vec!["SEASONAL_BURST".into(), "é-team".into()],
                tier: Some("CX2".into()),
            },
            SnapshotAgentRow {
                agent: 301,
                enabled: true,
                media: 1,
                groups: 1,
                tags: vec![],
                tier: Some("CX1".into()),
            },
        ];
        let blob = encode_snapshot(&rows, &[]);
        assert_eq!(decode_snapshot(&blob).unwrap(), (rows.clone(), vec![]));
        let places = vec![
            SnapshotPlaceRow {
                tenant: 1,
                place: 4,
                groups: 2,
            },
            SnapshotPlaceRow {
                tenant: 300,
                place: 200,
                groups: 0,
            },
        ];
        let both = encode_snapshot(&rows, &places);
        assert_eq!(&both[..blob.len()], &blob[..], "places follow the agents");
        assert_eq!(decode_snapshot(&both).unwrap(), (rows.clone(), places));
        // A row without tags or tier is written as before they were kept: a snapshot
        // stored by an earlier version (id, enabled byte, media, groups) reads the same.
        assert_eq!(&blob[..4], &[1, 1, 2, 0]);
        let old = [1u8, 1, 2, 0, 0xac, 0x02, 0, 0, 9];
        let back = decode_snapshot(&old).unwrap().0;
        assert_eq!(back[1].agent, 300);
        assert!(!back[1].enabled && back[1].tags.is_empty() && back[1].tier.is_none());
        assert!(
            decode_snapshot(&[1, 0x40, 0, 0]).is_err(),
            "unknown flags are refused"
        );
        let mut out = Vec::new();
        decode_u32s(&encode_u32s(&[0, 127, 128, u32::MAX]), &mut out).unwrap();
        assert_eq!(out, [0, 127, 128, u32::MAX]);
    }

    #[test]
    fn activity_round_trips_in_its_unit_and_version_1_still_reads() {
        let s = 1_000_000_000i64;
        let day = 1_793_491_200 * s;
        let agents = vec![
            AgentActivity {
                agent: 3,
                first_login: Some(day + 3600 * s),
                last_login: Some(day + 7200 * s),
                logged: 5400 * s,
                items: vec![(0, 5400 * s), (4, 600 * s)],
                media: vec![(1, 5400 * s)],
                long: vec![(day - 20_000 * s, day + 7000 * s)],
            },
            // Logged in only from the day before: no login event.
            AgentActivity {
                agent: 70_000,
                first_login: None,
                last_login: None,
                logged: 86_400 * s,
                items: vec![(2, 86_400 * s)],
                media: vec![],
                long: vec![],
            },
            AgentActivity {
                agent: 70_001,
                first_login: Some(day + 60 * s),
                last_login: Some(day + 60 * s),
                logged: 0,
                items: vec![],
                media: vec![],
                long: vec![],
            },
        ];
        let blob = encode_activity(&agents);
        assert_eq!(
            &blob[..2],
            &[ACTIVITY_V2, 9],
            "whole seconds: stored in seconds"
        );
        assert_eq!(decode_activity(&blob).unwrap(), agents);
        // A time with nanoseconds: the unit follows it, and the values are exact.
        let mut fine = agents.clone();
        fine[0].last_login = Some(day + 7200 * s + 1);
        let blob = encode_activity(&fine);
        assert_eq!(blob[1], 0);
        assert_eq!(decode_activity(&blob).unwrap(), fine);
        // Version 1 (absolute nanoseconds), as the first stores wrote it.
        let mut v1 = vec![ACTIVITY_V1];
        put_uvarint(&mut v1, 3);
        v1.push(3);
        put_ivarint(&mut v1, day + 3600 * s);
        put_ivarint(&mut v1, day + 7200 * s);
        put_uvarint(&mut v1, (5400 * s) as u64);
        put_uvarint(&mut v1, 2);
        for (id, t) in [(0u64, 5400 * s), (4, 600 * s)] {
            put_uvarint(&mut v1, id);
            put_uvarint(&mut v1, t as u64);
        }
        put_uvarint(&mut v1, 1);
        put_uvarint(&mut v1, 1);
        put_uvarint(&mut v1, (5400 * s) as u64);
        let mut first = agents[0].clone();
        first.long.clear();
        assert_eq!(decode_activity(&v1).unwrap(), [first]);
        assert!(
            decode_activity(&[7]).is_err(),
            "an unknown version is refused"
        );
    }
}
