//! What a collector hands over: seat events, configuration snapshots and the lines it had
//! to keep aside, in one [`Batch`].
//!
//! Strings (tenants, agents, places, groups, media) are interned per batch, so an event is
//! a few integers and a batch of millions of events stays compact; the store maps the
//! batch's symbols to its own ids once per distinct string.

use rustc_hash::FxHashMap as HashMap;

use seatmeter_core::Nanos;

/// A batch-local string id. Symbol 0 is the empty string (used for "no place").
pub type Sym = u32;
/// A batch-local id of a sorted, de-duplicated list of symbols. List 0 is the empty list.
pub type ListId = u32;

/// The tenant of events and snapshot entries that name none (usage-semantics.md, section 1).
pub const DEFAULT_TENANT: &str = "default";
/// The media of a login that names none (section 2).
pub const DEFAULT_MEDIA: &str = "voice";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Login = 1,
    Logout = 2,
}

impl EventKind {
    /// Reads the `event` field; only the two words of the contract are accepted.
    pub fn parse(word: &str) -> Option<EventKind> {
        match word {
            "login" => Some(EventKind::Login),
            "logout" => Some(EventKind::Logout),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Login => "login",
            EventKind::Logout => "logout",
        }
    }
}

/// One seat event, its strings interned in the batch that holds it. Events keep the order
/// in which they were received (file order, then line order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub ts: Nanos,
    pub kind: EventKind,
    pub tenant: Sym,
    pub agent: Sym,
    pub place: Sym,
    /// Groups of a login; always empty for a logout (groups are "on login only").
    pub groups: ListId,
    /// Media of a login, `voice` when the source named none; always empty for a logout.
    pub media: ListId,
}

/// One agent in a configuration snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotAgent {
    pub tenant: Sym,
    pub agent: Sym,
    pub enabled: bool,
    pub media: ListId,
    pub groups: ListId,
}

/// A configuration snapshot: the agents configured at one instant (section 5).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken: Nanos,
    /// Where it came from, for messages (a file name).
    pub source: String,
    /// SHA-256 of the source document, so that a snapshot read twice is stored once.
    pub sha256: [u8; 32],
    pub agents: Vec<SnapshotAgent>,
}

/// A line (or a document) a collector could not read, kept aside with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub source: String,
    pub line: u64,
    pub reason: String,
    /// The offending text, cut to [`Reject::MAX_TEXT`] bytes.
    pub text: String,
}

impl Reject {
    pub const MAX_TEXT: usize = 500;

    pub fn new(source: &str, line: u64, reason: impl Into<String>, text: &str) -> Reject {
        let mut cut = text.len().min(Self::MAX_TEXT);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        Reject {
            source: source.to_string(),
            line,
            reason: reason.into(),
            text: text[..cut].to_string(),
        }
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

/// A seat event as a source states it, before validation. Collectors fill this from their
/// own format and call [`Batch::push`], which applies the contract's defaults.
#[derive(Debug, Default, Clone)]
pub struct EventFields<'a> {
    pub ts: &'a str,
    pub event: &'a str,
    pub tenant: Option<&'a str>,
    pub agent: &'a str,
    pub place: Option<&'a str>,
    pub groups: Words<'a>,
    pub media: Words<'a>,
}

/// A list of words as a source gives it: a list, or one field with a separator (CSV's
/// `Support;Sales`). A joined field is interned whole, once per distinct text.
#[derive(Debug, Default, Clone)]
pub enum Words<'a> {
    #[default]
    None,
    List(Vec<&'a str>),
    Joined(&'a str, char),
}

#[derive(Default, Debug, Clone)]
pub struct Batch {
    strings: Vec<Box<str>>,
    string_ids: HashMap<Box<str>, Sym>,
    lists: Vec<Box<[Sym]>>,
    list_ids: HashMap<Box<[Sym]>, ListId>,
    /// `;`-joined list fields already interned, as given and lower-cased: text -> list.
    joined: [HashMap<Box<str>, ListId>; 2],
    recent: Option<(Box<str>, Sym)>,
    scratch: Vec<Sym>,
    pub events: Vec<Event>,
    pub snapshots: Vec<Snapshot>,
    pub rejects: Vec<Reject>,
}

impl Batch {
    pub fn new() -> Batch {
        let mut b = Batch::default();
        b.intern("");
        b.intern_list(&mut Vec::new());
        b
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.snapshots.is_empty() && self.rejects.is_empty()
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as Sym;
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), id);
        id
    }

    /// Interns a string that is often the same as the last one given here (a file's lines
    /// mostly share their tenant): that one is compared before the table is searched.
    fn intern_recent(&mut self, s: &str) -> Sym {
        if let Some((text, sym)) = &self.recent
            && **text == *s
        {
            return *sym;
        }
        let sym = self.intern(s);
        self.recent = Some((s.into(), sym));
        sym
    }

    /// Interns a list as a set: sorts and de-duplicates `items` in place first.
    pub fn intern_list(&mut self, items: &mut Vec<Sym>) -> ListId {
        items.sort_unstable();
        items.dedup();
        if let Some(&id) = self.list_ids.get(items.as_slice()) {
            return id;
        }
        let id = self.lists.len() as ListId;
        let boxed: Box<[Sym]> = items.as_slice().into();
        self.lists.push(boxed.clone());
        self.list_ids.insert(boxed, id);
        id
    }

    /// Interns words as a set of symbols: trimmed, empty words dropped, optionally lower-cased.
    pub fn intern_words<'w>(
        &mut self,
        words: impl IntoIterator<Item = &'w str>,
        lowercase: bool,
    ) -> ListId {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for w in words {
            let w = w.trim();
            if w.is_empty() {
                continue;
            }
            let sym = if lowercase && w.bytes().any(|c| c.is_ascii_uppercase()) {
                self.intern(&w.to_ascii_lowercase())
            } else {
                self.intern(w)
            };
            scratch.push(sym);
        }
        let id = self.intern_list(&mut scratch);
        self.scratch = scratch;
        id
    }

    fn intern_field(&mut self, words: &Words<'_>, lowercase: bool) -> ListId {
        match words {
            Words::None => 0,
            Words::List(v) => self.intern_words(v.iter().copied(), lowercase),
            Words::Joined(text, ';') => {
                if let Some(&id) = self.joined[lowercase as usize].get(*text) {
                    return id;
                }
                let id = self.intern_words(text.split(';'), lowercase);
                self.joined[lowercase as usize].insert((*text).into(), id);
                id
            }
            Words::Joined(text, sep) => self.intern_words(text.split(*sep), lowercase),
        }
    }

    /// Moves another batch's events, snapshots and rejects into this one, after this
    /// one's (its strings and lists re-interned here).
    pub fn absorb(&mut self, other: Batch) {
        let syms: Vec<Sym> = other.strings.iter().map(|s| self.intern(s)).collect();
        let mut scratch = Vec::new();
        let lists: Vec<ListId> = other
            .lists
            .iter()
            .map(|l| {
                scratch.clear();
                scratch.extend(l.iter().map(|&s| syms[s as usize]));
                self.intern_list(&mut scratch)
            })
            .collect();
        let (s, l) = (|x: Sym| syms[x as usize], |x: ListId| lists[x as usize]);
        self.events.extend(other.events.iter().map(|e| Event {
            tenant: s(e.tenant),
            agent: s(e.agent),
            place: s(e.place),
            groups: l(e.groups),
            media: l(e.media),
            ..*e
        }));
        self.snapshots
            .extend(other.snapshots.into_iter().map(|mut snap| {
                for a in &mut snap.agents {
                    *a = SnapshotAgent {
                        tenant: s(a.tenant),
                        agent: s(a.agent),
                        media: l(a.media),
                        groups: l(a.groups),
                        ..*a
                    };
                }
                snap
            }));
        self.rejects.extend(other.rejects);
    }

    pub fn string(&self, sym: Sym) -> &str {
        &self.strings[sym as usize]
    }

    pub fn list(&self, id: ListId) -> &[Sym] {
        &self.lists[id as usize]
    }

    pub fn strings(&self) -> &[Box<str>] {
        &self.strings
    }

    pub fn lists(&self) -> &[Box<[Sym]>] {
        &self.lists
    }

    /// Validates one event as the contract defines it and appends it, or says why not.
    ///
    /// Applies the defaults of section 2: tenant `default`, media `voice` for a login that
    /// names none; media words are lower-cased; a logout's groups and media are dropped, as
    /// they carry no meaning. Lists are sets, so their order does not matter.
    pub fn push(&mut self, f: &EventFields<'_>) -> Result<(), String> {
        let ts = seatmeter_core::time::parse_rfc3339(f.ts.trim()).map_err(|e| e.to_string())?;
        let kind = EventKind::parse(f.event.trim()).ok_or_else(|| {
            if f.event.trim().is_empty() {
                "missing event (expected login or logout)".to_string()
            } else {
                format!("unknown event {:?} (expected login or logout)", f.event)
            }
        })?;
        let agent = f.agent.trim();
        if agent.is_empty() {
            return Err("missing agent".into());
        }
        let tenant = match f.tenant.map(str::trim) {
            Some(t) if !t.is_empty() => t,
            _ => DEFAULT_TENANT,
        };
        let place = f.place.map(str::trim).unwrap_or_default();
        let (groups, media) = match kind {
            EventKind::Login => {
                let g = self.intern_field(&f.groups, false);
                let mut m = self.intern_field(&f.media, true);
                if m == 0 {
                    m = self.intern_words([DEFAULT_MEDIA], false);
                }
                (g, m)
            }
            EventKind::Logout => (0, 0),
        };
        let event = Event {
            ts,
            kind,
            tenant: self.intern_recent(tenant),
            agent: self.intern(agent),
            place: if place.is_empty() {
                0
            } else {
                self.intern(place)
            },
            groups,
            media,
        };
        self.events.push(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(event: &'a str, media: Vec<&'a str>) -> EventFields<'a> {
        EventFields {
            ts: "2026-10-25T00:30:00Z",
            event,
            tenant: None,
            agent: "x",
            place: None,
            groups: Words::List(vec!["B", "A", "B"]),
            media: Words::List(media),
        }
    }

    #[test]
    fn login_defaults_and_sets() {
        let mut b = Batch::new();
        b.push(&fields("login", vec![])).unwrap();
        b.push(&fields("login", vec!["Email", "voice", " email "]))
            .unwrap();
        let e = b.events[0];
        assert_eq!(b.string(e.tenant), "default");
        let media: Vec<_> = b.list(e.media).iter().map(|&s| b.string(s)).collect();
        assert_eq!(media, ["voice"]);
        let groups: Vec<_> = b.list(e.groups).iter().map(|&s| b.string(s)).collect();
        assert_eq!(groups.len(), 2);
        let mut media: Vec<_> = b
            .list(b.events[1].media)
            .iter()
            .map(|&s| b.string(s))
            .collect();
        media.sort();
        assert_eq!(media, ["email", "voice"]);
        // Same groups in another order are the same set.
        assert_eq!(b.events[0].groups, b.events[1].groups);
    }

    #[test]
    fn absorbing_a_batch_keeps_its_events_in_order() {
        let mut a = Batch::new();
        a.push(&fields("login", vec!["chat"])).unwrap();
        let mut b = Batch::new();
        let mut f = fields("login", vec!["email", "voice"]);
        f.tenant = Some("beta");
        b.push(&f).unwrap();
        b.push(&fields("logout", vec![])).unwrap();
        a.absorb(b);
        let seen: Vec<(String, String, Vec<String>)> = a
            .events
            .iter()
            .map(|e| {
                let media = a
                    .list(e.media)
                    .iter()
                    .map(|&m| a.string(m).to_string())
                    .collect();
                (
                    a.string(e.tenant).to_string(),
                    a.string(e.agent).to_string(),
                    media,
                )
            })
            .collect();
        assert_eq!(
            seen[0],
            ("default".into(), "x".into(), vec!["chat".to_string()])
        );
        assert_eq!(seen[1].0, "beta");
        assert_eq!(seen[1].2.len(), 2);
        assert_eq!(seen[2].2.len(), 0);
        assert_eq!(a.list(a.events[1].groups).len(), 2);
    }

    #[test]
    fn logout_drops_lists() {
        let mut b = Batch::new();
        b.push(&fields("logout", vec!["email"])).unwrap();
        assert_eq!((b.events[0].groups, b.events[0].media), (0, 0));
    }

    #[test]
    fn bad_fields_are_explained() {
        let mut b = Batch::new();
        let mut f = fields("sign-in", vec![]);
        assert!(
            b.push(&f)
                .unwrap_err()
                .contains("unknown event \"sign-in\"")
        );
        f.event = "login";
        f.agent = " ";
        assert_eq!(b.push(&f).unwrap_err(), "missing agent");
        f.agent = "x";
        f.ts = "2026-10-25";
        assert!(b.push(&f).unwrap_err().contains("not RFC 3339"));
        assert!(b.events.is_empty());
    }
}
