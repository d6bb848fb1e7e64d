//! The agents logged in when a day ends, carried to the next day: who they are, the items
//! they use and their groups. Stored with each day (its own compact encoding), and hashed
//! with the snapshot in force into the digest that tells whether a day starts as it did.

use std::rc::Rc;

use seatmeter_core::Nanos;
use seatmeter_store::StoreError;
use seatmeter_store::codec::{Reader, put_ivarint, put_uvarint};
use sha2::{Digest, Sha256};

use super::ItemMask;

/// An agent's state while logged in: the items it uses, its current groups and media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seat {
    pub(super) items: ItemMask,
    /// Sorted group ids.
    pub(super) groups: Rc<[u32]>,
    /// Sorted media ids (for the agent activity's time per media).
    pub(super) media: Rc<[u32]>,
    /// When its session began (its first login; a second device does not start another):
    /// [`SINCE_UNKNOWN`] for a seat carried from a day rolled up before this was kept.
    pub(super) since: Nanos,
}

/// The start of a session carried from a day rolled up before session starts were kept.
pub(super) const SINCE_UNKNOWN: Nanos = Nanos::MIN;

/// The first bytes of a carry that holds media: a varint zero written in two bytes, which
/// the encoding of an agent id never is (a carry written before media were kept has none,
/// and its seats decode with no media).
const WITH_MEDIA: [u8; 2] = [0x80, 0x00];

/// The first bytes of a carry that holds media and each session's start (a varint one in
/// two bytes, likewise never an agent id).
const WITH_SINCE: [u8; 2] = [0x80, 0x01];

/// Agents logged in at an instant (a day's start or end), by agent id.
pub(super) type Carry = Vec<(u32, Seat)>;

pub(super) fn encode(carry: &Carry) -> Vec<u8> {
    let mut buf = Vec::new();
    if carry.is_empty() {
        return buf;
    }
    buf.extend(WITH_SINCE);
    for (agent, seat) in carry {
        put_uvarint(&mut buf, *agent as u64);
        put_uvarint(&mut buf, seat.items as u64);
        put_uvarint(&mut buf, (seat.items >> 64) as u64);
        for list in [&seat.groups, &seat.media] {
            put_uvarint(&mut buf, list.len() as u64);
            for &g in list.iter() {
                put_uvarint(&mut buf, g as u64);
            }
        }
        put_ivarint(&mut buf, seat.since);
    }
    buf
}

/// Reads what [`encode`] wrote; `groups` makes each agent's group list (interned).
pub(super) fn decode(
    blob: &[u8],
    groups: &mut dyn FnMut(Vec<u32>) -> Rc<[u32]>,
) -> Result<Carry, StoreError> {
    let with_since = blob.starts_with(&WITH_SINCE);
    let with_media = with_since || blob.starts_with(&WITH_MEDIA);
    let mut r = Reader::new(if with_media { &blob[2..] } else { blob });
    let mut out = Vec::new();
    let list = |r: &mut Reader<'_>| -> Result<Vec<u32>, StoreError> {
        let n = r.uvarint()? as usize;
        let mut ids = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            ids.push(r.u32()?);
        }
        Ok(ids)
    };
    while !r.is_empty() {
        let agent = r.u32()?;
        let items = r.uvarint()? as u128 | ((r.uvarint()? as u128) << 64);
        let g = list(&mut r)?;
        let m = if with_media {
            list(&mut r)?
        } else {
            Vec::new()
        };
        let since = if with_since {
            r.ivarint()?
        } else {
            SINCE_UNKNOWN
        };
        out.push((
            agent,
            Seat {
                items,
                groups: groups(g),
                media: groups(m),
                since,
            },
        ));
    }
    Ok(out)
}

/// The digest of what a day starts from: the agents logged in, and the snapshot in force.
pub(super) fn start_fingerprint(carry: &Carry, in_force: Option<u32>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(encode(carry));
    h.update(in_force.map(|i| i as i64).unwrap_or(-1).to_le_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carry() -> Carry {
        vec![
            (
                3,
                Seat {
                    items: 0b101,
                    groups: Rc::from(vec![1, 4]),
                    media: Rc::from(vec![0, 2]),
                    since: 1_793_491_200_000_000_000,
                },
            ),
            (
                70_000,
                Seat {
                    items: 1 << 127,
                    groups: Rc::from(Vec::new()),
                    media: Rc::from(vec![7]),
                    since: SINCE_UNKNOWN,
                },
            ),
        ]
    }

    #[test]
    fn a_carry_round_trips_all_128_items() {
        let c = carry();
        let back = decode(&encode(&c), &mut |g| Rc::from(g)).unwrap();
        assert_eq!(back, c);
        assert!(decode(&encode(&c)[..3], &mut |g| Rc::from(g)).is_err());
        assert!(decode(&[], &mut |g| Rc::from(g)).unwrap().is_empty());
    }

    #[test]
    fn a_carry_written_before_media_were_kept_still_reads() {
        // agent 3, items 0b101, groups [1, 4], in the earlier encoding.
        let old = [3, 0b101, 0, 2, 1, 4];
        let back = decode(&old, &mut |g| Rc::from(g)).unwrap();
        assert_eq!(back[0].0, 3);
        assert_eq!(back[0].1.items, 0b101);
        assert_eq!(&*back[0].1.groups, &[1, 4]);
        assert!(back[0].1.media.is_empty());
        assert_eq!(back[0].1.since, SINCE_UNKNOWN);
        // With media, before session starts were kept.
        let media = [0x80, 0x00, 3, 0b101, 0, 2, 1, 4, 1, 6];
        let back = decode(&media, &mut |g| Rc::from(g)).unwrap();
        assert_eq!(&*back[0].1.media, &[6]);
        assert_eq!(back[0].1.since, SINCE_UNKNOWN);
    }

    #[test]
    fn the_start_digest_changes_with_the_agents_and_the_snapshot() {
        let c = carry();
        let fp = start_fingerprint(&c, Some(2));
        assert_eq!(fp, start_fingerprint(&carry(), Some(2)));
        assert_ne!(fp, start_fingerprint(&c, Some(3)));
        assert_ne!(fp, start_fingerprint(&c, None));
        assert_ne!(fp, start_fingerprint(&c[..1].to_vec(), Some(2)));
    }
}
