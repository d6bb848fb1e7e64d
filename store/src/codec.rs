//! Compact encodings of the blobs the store keeps (event chunks, snapshots, 10-minute
//! arrays). Both dialects store the same bytes, so they are defined once, here.

use seatmeter_collectors::EventKind;
use seatmeter_core::Nanos;

use super::{AgentActivity, Scope, SlotRecord, SnapshotAgentRow, StoreError, StoredEvent};

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
/// stored by earlier versions read the same.
pub fn encode_snapshot(agents: &[SnapshotAgentRow]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(agents.len() * 6);
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
    buf
}

const SNAP_TAGS: u8 = 2;
const SNAP_TIER: u8 = 4;

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

pub fn decode_snapshot(blob: &[u8]) -> Result<Vec<SnapshotAgentRow>, StoreError> {
    let mut r = Reader::new(blob);
    let mut out = Vec::new();
    while !r.is_empty() {
        let agent = r.u32()?;
        let flags = r.byte()?;
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
    Ok(out)
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

/// The rollup of one scope on one day: every item's values in one blob.
pub fn encode_scope_day(records: &[&SlotRecord]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(records.len() * 64);
    for r in records {
        put_uvarint(&mut buf, r.item as u64);
        for v in [r.day_peak, r.day_enabled, r.end_level, r.end_enabled] {
            put_uvarint(&mut buf, v as u64);
        }
        put_runs(&mut buf, &r.peaks);
        put_runs(&mut buf, &r.enabled);
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
        let item =
            u16::try_from(r.uvarint()?).map_err(|_| StoreError::Corrupt("item index".into()))?;
        let (day_peak, day_enabled, end_level, end_enabled) =
            (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let (mut peaks, mut enabled) = (Vec::new(), Vec::new());
        read_runs(&mut r, detail.then_some(&mut peaks))?;
        read_runs(&mut r, detail.then_some(&mut enabled))?;
        out.push(SlotRecord {
            scope,
            item,
            peaks,
            enabled,
            day_peak,
            day_enabled,
            end_level,
            end_enabled,
        });
    }
    Ok(())
}

const ACTIVITY_V1: u8 = 1;

/// A day's agent activity, agents ascending (their ids as differences).
pub fn encode_activity(agents: &[AgentActivity]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(1 + agents.len() * 24);
    buf.push(ACTIVITY_V1);
    let mut prev = 0u32;
    for a in agents {
        put_uvarint(&mut buf, (a.agent - prev) as u64);
        prev = a.agent;
        buf.push(a.first_login.is_some() as u8 | (a.last_login.is_some() as u8) << 1);
        for t in [a.first_login, a.last_login].into_iter().flatten() {
            put_ivarint(&mut buf, t);
        }
        put_uvarint(&mut buf, a.logged as u64);
        for list in [&a.items, &a.media] {
            put_uvarint(&mut buf, list.len() as u64);
            for &(id, ns) in list {
                put_uvarint(&mut buf, id as u64);
                put_uvarint(&mut buf, ns as u64);
            }
        }
    }
    buf
}

pub fn decode_activity(blob: &[u8]) -> Result<Vec<AgentActivity>, StoreError> {
    let mut r = Reader::new(blob);
    if r.byte()? != ACTIVITY_V1 {
        return Err(StoreError::Corrupt(
            "agent activity of an unknown version".into(),
        ));
    }
    let mut out = Vec::new();
    let mut agent = 0u32;
    while !r.is_empty() {
        agent = agent
            .checked_add(r.u32()?)
            .ok_or_else(|| StoreError::Corrupt("agent id out of range".into()))?;
        let flags = r.byte()?;
        let first_login = if flags & 1 != 0 {
            Some(r.ivarint()?)
        } else {
            None
        };
        let last_login = if flags & 2 != 0 {
            Some(r.ivarint()?)
        } else {
            None
        };
        let logged = r.uvarint()? as Nanos;
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            let n = r.uvarint()? as usize;
            for _ in 0..n.min(1 << 16) {
                list.push((r.u32()?, r.uvarint()? as Nanos));
            }
        }
        let [items, media] = lists;
        out.push(AgentActivity {
            agent,
            first_login,
            last_login,
            logged,
            items,
            media,
        });
    }
    Ok(out)
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
        };
        let a = rec(0, vec![0, 0, 0, 5, 5, 6, 0, 300, 300], vec![7; 9]);
        let b = rec(5, vec![1; 9], vec![0, 0, 0, 0, 7, 7, 7, 7, 7]);
        let blob = encode_scope_day(&[&a, &b]);
        assert!(blob.len() < 40, "{} bytes", blob.len());
        let mut out = Vec::new();
        decode_scope_day(&blob, Scope::SYSTEM, true, &mut out).unwrap();
        assert_eq!(out, vec![a.clone(), b.clone()]);
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
        let blob = encode_snapshot(&rows);
        assert_eq!(decode_snapshot(&blob).unwrap(), rows);
        // A row without tags or tier is written as before they were kept: a snapshot
        // stored by an earlier version (id, enabled byte, media, groups) reads the same.
        assert_eq!(&blob[..4], &[1, 1, 2, 0]);
        let old = [1u8, 1, 2, 0, 0xac, 0x02, 0, 0, 9];
        let back = decode_snapshot(&old).unwrap();
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
}
