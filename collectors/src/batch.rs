//! What a collector hands over: seat events, configuration snapshots and the lines it had
//! to keep aside, in one [`Batch`].
//!
//! Strings (tenants, agents, places, groups, media) are interned per batch, so an event is
//! a few integers and a batch of millions of events stays compact; the store maps the
//! batch's symbols to its own ids once per distinct string.

use std::time::Duration;

use rustc_hash::FxHashMap as HashMap;
use seatmeter_core::Nanos;
use seatmeter_core::time::{NANOS_PER_DAY, days_from_civil, format_utc};

/// A batch-local string id. Symbol 0 is the empty string (used for "no place").
pub type Sym = u32;
/// A batch-local id of a sorted, de-duplicated list of symbols. List 0 is the empty list.
pub type ListId = u32;

/// The tenant of events and snapshot entries that name none (docs/SEMANTICS.md, section 1).
pub const DEFAULT_TENANT: &str = "default";
/// The media of a login that names none (section 2).
pub const DEFAULT_MEDIA: &str = "voice";

/// The longest name (tenant, agent, place, group or media word) accepted, in bytes: what
/// both stores can index. A longer one is kept aside with its line.
pub const MAX_NAME: usize = 256;

/// The instants a collection accepts: none before 2000-01-01, none more than `margin`
/// after the collection's wall clock. An instant outside is a typo or a broken clock (a
/// year 2126 would make the rollup create 36,500 days): its line is kept aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub earliest: Nanos,
    pub latest: Nanos,
    pub margin: Duration,
}

impl Window {
    /// 2000-01-01T00:00:00Z.
    pub const EARLIEST: Nanos = 10_957 * NANOS_PER_DAY;

    /// The window of a collection whose wall clock reads `now`.
    pub fn at(now: Nanos, margin: Duration) -> Window {
        let m = i64::try_from(margin.as_nanos()).unwrap_or(i64::MAX);
        // Never past 2200, whatever the margin: instants stay far from the i64 limits.
        let cap = days_from_civil(2200, 1, 1) * NANOS_PER_DAY;
        Window {
            earliest: Self::EARLIEST,
            latest: now.saturating_add(m).min(cap),
            margin,
        }
    }

    /// Why `t` is not accepted, if it is not.
    pub fn check(&self, t: Nanos) -> Result<(), String> {
        if t < self.earliest {
            return Err(format!(
                "instant {} is before 2000-01-01: not accepted (a typo or a broken clock?)",
                format_utc(t)
            ));
        }
        if t > self.latest {
            return Err(format!(
                "instant {} is more than {} after the collection's clock ({}): not accepted (a typo or a broken clock?)",
                format_utc(t),
                humantime::format_duration(self.margin),
                format_utc(self.latest.saturating_sub(self.margin.as_nanos() as i64))
            ));
        }
        Ok(())
    }
}

impl Default for Window {
    /// A day after the wall clock.
    fn default() -> Window {
        Window::at(
            seatmeter_core::time::now_nanos(),
            Duration::from_secs(86_400),
        )
    }
}

/// Why a name cannot be stored, if it cannot: a NUL character, or more than [`MAX_NAME`]
/// bytes.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.contains('\0') {
        return Err(format!(
            "{what} {:?} contains a NUL character",
            name.replace('\0', "\\0")
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "{what} is {} bytes long; at most {MAX_NAME} are accepted",
            name.len()
        ));
    }
    Ok(())
}

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
    /// Its tags (`tags="SEASONAL_BURST"`, docs/FINOPS.md), as written; 0 for none.
    pub tags: ListId,
    /// Its license tier (`tier="CX2"`); 0 (the empty string) for none.
    pub tier: Sym,
}

/// One place in a configuration snapshot (`<Place id="desk-4" groups="Floor2"/>`,
/// docs/SEMANTICS.md, section 11.1): the groups a login at it brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPlace {
    pub tenant: Sym,
    pub place: Sym,
    pub groups: ListId,
}

/// A configuration snapshot: the agents (and places) configured at one instant (section 5).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken: Nanos,
    /// Where it came from, for messages (a file name).
    pub source: String,
    /// SHA-256 of the source document, so that a snapshot read twice is stored once.
    pub sha256: [u8; 32],
    pub agents: Vec<SnapshotAgent>,
    pub places: Vec<SnapshotPlace>,
}

/// A line (or a document) a collector could not read, kept aside with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub source: String,
    pub line: u64,
    pub reason: String,
    /// The offending text, cut to [`Reject::MAX_TEXT`] bytes.
    pub text: String,
    /// What the line is part of, whatever the file is called now: a digest of the file's
    /// first lines, or of the snapshot document (empty: the source's name). The same
    /// text at the same line of the same origin is one rejected line, stored once.
    pub origin: String,
    /// The tenant the line names, when it can be read from it (a tenant's documents list
    /// its own rejected lines only); None when the line names none that can be read.
    pub tenant: Option<String>,
}

impl Reject {
    pub const MAX_TEXT: usize = 500;

    /// A NUL in the text or the reason is written as `\0` (no database stores it in text).
    pub fn new(source: &str, line: u64, reason: impl Into<String>, text: &str) -> Reject {
        let mut cut = text.len().min(Self::MAX_TEXT);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let clean = |s: &str| s.replace('\0', "\\0");
        Reject {
            source: clean(source),
            line,
            reason: clean(&reason.into()),
            text: clean(&text[..cut]),
            origin: String::new(),
            tenant: None,
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

impl Words<'_> {
    /// Why one of the words cannot be stored, if one cannot (see [`check_name`]).
    fn check(&self, what: &str) -> Result<(), String> {
        match self {
            Words::None => Ok(()),
            Words::List(v) => v.iter().try_for_each(|w| check_name(what, w)),
            // A joined field is checked whole for a NUL, and word by word for the length
            // only when it is long enough for a word to be too long.
            Words::Joined(text, sep) => {
                if text.len() > MAX_NAME || text.contains('\0') {
                    text.split(*sep).try_for_each(|w| check_name(what, w))
                } else {
                    Ok(())
                }
            }
        }
    }
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
    /// The instants accepted.
    window: Option<Window>,
    pub events: Vec<Event>,
    pub snapshots: Vec<Snapshot>,
    pub rejects: Vec<Reject>,
}

impl Batch {
    /// A batch that accepts the instants of a collection running now (see [`Window`]).
    pub fn new() -> Batch {
        Batch::in_window(Window::default())
    }

    /// A batch that accepts the instants of `window`.
    pub fn in_window(window: Window) -> Batch {
        let mut b = Batch {
            window: Some(window),
            ..Batch::default()
        };
        b.intern("");
        b.intern_list(&mut Vec::new());
        b
    }

    /// The instants this batch accepts.
    pub fn window(&self) -> Window {
        self.window.unwrap_or_default()
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
                        tags: l(a.tags),
                        tier: s(a.tier),
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
        self.window().check(ts)?;
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
        check_name("agent", agent)?;
        check_name("tenant", tenant)?;
        check_name("place", place)?;
        f.groups.check("group")?;
        f.media.check("media word")?;
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

    #[test]
    fn names_no_store_can_keep_are_refused() {
        let mut b = Batch::new();
        let mut f = fields("login", vec!["voice"]);
        f.agent = "ba\0d";
        assert!(b.push(&f).unwrap_err().contains("contains a NUL character"));
        let long = "x".repeat(MAX_NAME + 1);
        f.agent = &long;
        assert!(b.push(&f).unwrap_err().contains("257 bytes long"));
        f.agent = "x";
        f.tenant = Some("t\0");
        assert!(b.push(&f).unwrap_err().contains("tenant"));
        f.tenant = None;
        let joined = format!("a;{long}");
        f.groups = Words::Joined(&joined, ';');
        assert!(b.push(&f).unwrap_err().contains("group is 257 bytes"));
        f.groups = Words::Joined("G\0", ';');
        assert!(b.push(&f).unwrap_err().contains("NUL"));
        f.groups = Words::None;
        f.media = Words::List(vec!["vo\0ice"]);
        assert!(b.push(&f).unwrap_err().contains("media word"));
        assert!(b.events.is_empty());
        // At the limit: accepted.
        let max = "y".repeat(MAX_NAME);
        f.media = Words::None;
        f.agent = &max;
        b.push(&f).unwrap();
        // A reject never carries a NUL.
        let r = Reject::new("a.jsonl", 3, "bad \0 reason", "ba\0d");
        assert_eq!(
            (r.reason.as_str(), r.text.as_str()),
            ("bad \\0 reason", "ba\\0d")
        );
    }

    #[test]
    fn instants_outside_the_window_are_refused() {
        let now = seatmeter_core::time::parse_rfc3339("2026-11-01T12:00:00Z").unwrap();
        let mut b = Batch::in_window(Window::at(now, Duration::from_secs(86_400)));
        let mut f = fields("login", vec![]);
        for (ts, ok) in [
            ("1999-12-31T23:59:59Z", false),
            ("2000-01-01T00:00:00Z", true),
            ("2026-11-02T12:00:00Z", true),
            ("2026-11-02T12:00:01Z", false),
            ("2126-10-20T09:00:00Z", false),
            ("1678-01-01T00:00:00Z", false),
            ("2261-12-31T23:59:59Z", false),
        ] {
            f.ts = ts;
            assert_eq!(b.push(&f).is_ok(), ok, "{ts}");
        }
        f.ts = "2126-10-20T09:00:00Z";
        let e = b.push(&f).unwrap_err();
        assert!(
            e.contains("2126-10-20T09:00:00Z is more than 1day after the collection's clock (2026-11-01T12:00:00Z)"),
            "{e}"
        );
        f.ts = "1999-01-01T00:00:00Z";
        assert!(b.push(&f).unwrap_err().contains("before 2000-01-01"));
        // However large the margin, nothing past 2200.
        let w = Window::at(now, Duration::from_secs(u64::MAX / 4));
        assert!(
            w.check(seatmeter_core::time::parse_rfc3339("2201-01-01T00:00:00Z").unwrap())
                .is_err()
        );
    }
}
