//! Entitlement XML files (docs/ENTITLEMENTS.md): what a reseller's contract grants the
//! system and each tenant, per sellable item, with validity dates. The system grants add
//! to those of the FlexNet license files; a tenant's grants are what that tenant's rows in
//! tenant reports and billing exports are compared with.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use seatmeter_core::Entitled;
use sha2::{Digest, Sha256};

use super::add;

/// An error that names the file and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

impl std::error::Error for XmlError {}

/// Seats of one item or bundle granted from `start` to `end` (inclusive; None: no end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The measure: an item's index in the configuration, or the number of items plus a
    /// bundle's index (`Config::measures`).
    pub item: usize,
    /// The bundle named, until [`load_all`] gives it its measure index.
    pub bundle: Option<String>,
    pub quantity: u64,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub line: usize,
}

impl Grant {
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementFile {
    pub path: PathBuf,
    pub sha256: [u8; 32],
    pub system: Vec<Grant>,
    /// Tenant name -> its grants.
    pub tenants: BTreeMap<String, Vec<Grant>>,
    pub bundles: Vec<BundleDef>,
}

/// One definition of a bundle: the items it is made of, valid from `start` to `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleDef {
    pub name: String,
    pub issued: NaiveDate,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    /// Bit i: item i.
    pub include: u128,
    pub exclude: u128,
    /// Whether, where the bundle has a price, the items it includes are billed only for
    /// the seats beyond it (`replaces_items`, default true; docs/BILLING.md, rule 2). Not
    /// part of what the rollup measures.
    pub replaces_items: bool,
    pub line: usize,
    /// Which file (index in the list) and where in it: the later wins a tie of `issued`.
    pub order: (usize, usize),
}

impl BundleDef {
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }

    /// Whether an agent using these items counts in the bundle: some included item and no
    /// excluded one.
    pub fn counts(&self, items: u128) -> bool {
        items & self.include != 0 && items & self.exclude == 0
    }
}

/// A bundle and all its definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub name: String,
    pub defs: Vec<BundleDef>,
}

impl Bundle {
    /// The definition in force on `day`: of those valid, the one issued latest (the later
    /// in the files on a tie). None: the bundle counts nobody that day.
    pub fn in_force(&self, day: NaiveDate) -> Option<&BundleDef> {
        self.defs
            .iter()
            .filter(|d| d.valid_on(day))
            .max_by_key(|d| (d.issued, d.order))
    }
}

/// The sum of the grants for `item` valid on `day`: None when no grant names the item,
/// Some(0) when some do but none is valid that day (as license lines, section 6).
fn sum(grants: &[Grant], item: usize, day: NaiveDate) -> Option<Entitled> {
    let mut named = false;
    let mut seats = 0u64;
    for g in grants.iter().filter(|g| g.item == item) {
        named = true;
        if g.valid_on(day) {
            seats = seats.saturating_add(g.quantity);
        }
    }
    named.then_some(Entitled::Seats(seats))
}

/// Every entitlement file of a site, together.
#[derive(Debug, Clone, Default)]
pub struct Entitlements {
    pub files: Vec<EntitlementFile>,
    /// Bundles in the order first defined.
    pub bundles: Vec<Bundle>,
    /// How many configured items there are: measures from here on are bundles.
    pub items: usize,
}

impl Entitlements {
    /// Whether any file grants anything to a tenant: then tenant rows are compared with
    /// tenant grants (and a tenant without any has no entitlement).
    pub fn has_tenants(&self) -> bool {
        self.files.iter().any(|f| !f.tenants.is_empty())
    }

    /// The system grants of `item` on `day`, over every file.
    pub fn system(&self, item: usize, day: NaiveDate) -> Option<Entitled> {
        self.files
            .iter()
            .fold(None, |acc, f| add(acc, sum(&f.system, item, day)))
    }

    /// A tenant's entitlement of `item` on `day`: the sum of its grants of it over every
    /// file. A provisioned tenant (see [`Entitlements::provisioned`]) with no grant of an
    /// item has 0 of it, so that any use is over-use (docs/BILLING.md, rule 3), unless a
    /// bundle it has a grant of includes the item that day: then the bundle's row judges
    /// it, and the item has none of its own. Bundles without a grant have none.
    pub fn tenant(&self, tenant: &str, item: usize, day: NaiveDate) -> Option<Entitled> {
        let own = self.files.iter().fold(None, |acc, f| {
            add(acc, f.tenants.get(tenant).and_then(|g| sum(g, item, day)))
        });
        if own.is_some() || item >= self.items || !self.provisioned(tenant) {
            return own;
        }
        let in_a_bundle = self.grants_of(tenant).any(|g| {
            g.item >= self.items
                && self.bundles.get(g.item - self.items).is_some_and(|b| {
                    b.in_force(day)
                        .is_some_and(|d| d.include & (1u128 << item) != 0)
                })
        });
        (!in_a_bundle).then_some(Entitled::Seats(0))
    }

    /// Every grant of a tenant, over every file.
    fn grants_of<'a>(&'a self, tenant: &'a str) -> impl Iterator<Item = &'a Grant> + 'a {
        self.files
            .iter()
            .filter_map(move |f| f.tenants.get(tenant))
            .flatten()
    }

    /// Whether a tenant is provisioned: an entitlement file gives it at least one grant.
    pub fn provisioned(&self, tenant: &str) -> bool {
        self.grants_of(tenant).next().is_some()
    }

    /// The provisioned tenants, by name.
    pub fn provisioned_tenants(&self) -> std::collections::BTreeSet<&str> {
        self.files
            .iter()
            .flat_map(|f| f.tenants.iter())
            .filter(|(_, g)| !g.is_empty())
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// Whether `day` is inside the tenant's contract: one of its grants (of an item or a
    /// bundle) is valid that day (docs/BILLING.md, rule 1).
    pub fn in_contract(&self, tenant: &str, day: NaiveDate) -> bool {
        self.grants_of(tenant).any(|g| g.valid_on(day))
    }
}

/// Reads every file; errors name the file and line. Bundle grants get their measure
/// index (the number of items plus the bundle's position).
pub fn load_all(paths: &[PathBuf], items: &[String]) -> Result<Entitlements, XmlError> {
    let mut out = Entitlements {
        items: items.len(),
        ..Entitlements::default()
    };
    for (i, p) in paths.iter().enumerate() {
        let mut f = load(p, items)?;
        for d in &mut f.bundles {
            d.order.0 = i;
            match out.bundles.iter_mut().find(|b| b.name == d.name) {
                Some(b) => b.defs.push(d.clone()),
                None => out.bundles.push(Bundle {
                    name: d.name.clone(),
                    defs: vec![d.clone()],
                }),
            }
        }
        out.files.push(f);
    }
    let names: Vec<String> = out.bundles.iter().map(|b| b.name.clone()).collect();
    for f in &mut out.files {
        let path = f.path.display().to_string();
        for g in f.system.iter_mut().chain(f.tenants.values_mut().flatten()) {
            if let Some(b) = &g.bundle {
                let at = names.iter().position(|n| n == b).ok_or_else(|| XmlError {
                    path: path.clone(),
                    line: g.line,
                    message: format!(
                        "bundle {b:?} is not defined (define it with <Bundle name={b:?} ...>)"
                    ),
                })?;
                g.item = items.len() + at;
            }
        }
    }
    Ok(out)
}

pub fn load(path: &Path, items: &[String]) -> Result<EntitlementFile, XmlError> {
    let text = std::fs::read_to_string(path).map_err(|e| XmlError {
        path: path.display().to_string(),
        line: 0,
        message: format!("cannot read it: {e}"),
    })?;
    let mut f = parse(&path.display().to_string(), &text, items)?;
    f.path = path.to_path_buf();
    Ok(f)
}

/// Where the parser is: which section the next `Entitlement` (or `Include`) belongs to.
enum Section {
    None,
    System,
    Tenant(String),
    Bundle(usize),
}

pub fn parse(path: &str, text: &str, items: &[String]) -> Result<EntitlementFile, XmlError> {
    // Where each line starts: a line number is a binary search, not a scan from the top
    // (a reseller's file can hold thousands of grants).
    let mut p = Parser {
        path,
        items,
        newlines: newline_offsets(text),
        out: EntitlementFile {
            sha256: Sha256::digest(text.as_bytes()).into(),
            ..EntitlementFile::default()
        },
        section: Section::None,
        root: false,
    };
    let mut reader = Reader::from_str(text);
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| p.err(pos, format!("not well-formed XML: {e}")))?;
        let (s, empty) = match &ev {
            Event::Start(s) => (s.clone(), false),
            Event::Empty(s) => (s.clone(), true),
            Event::End(e) => {
                if matches!(e.name().as_ref(), "System" | "Tenant" | "Bundle") {
                    p.section = Section::None;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let attrs = attributes(&s).map_err(|m| p.err(pos, m))?;
        let name = s.name().as_ref().to_string();
        p.element(&name, &Attrs { attrs, pos }, empty)?;
    }
    if !p.root {
        return Err(p.err(text.len(), "no <Entitlements> element".into()));
    }
    Ok(p.out)
}

/// The attributes of one element, and where it is.
struct Attrs {
    attrs: BTreeMap<String, String>,
    pos: usize,
}

impl Attrs {
    fn get(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// An entitlement document being read.
struct Parser<'a> {
    path: &'a str,
    items: &'a [String],
    newlines: Vec<usize>,
    out: EntitlementFile,
    section: Section,
    root: bool,
}

impl Parser<'_> {
    fn line_of(&self, pos: usize) -> usize {
        self.newlines.partition_point(|&n| n < pos) + 1
    }

    fn err(&self, pos: usize, message: String) -> XmlError {
        XmlError {
            path: self.path.to_string(),
            line: self.line_of(pos),
            message,
        }
    }

    /// Refuses an attribute that `element` does not take.
    fn only(&self, a: &Attrs, allowed: &[&str], element: &str) -> Result<(), XmlError> {
        match a.attrs.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(self.err(a.pos, format!("<{element}> has no attribute {k:?}"))),
            None => Ok(()),
        }
    }

    fn date(&self, a: &Attrs, key: &str) -> Result<Option<NaiveDate>, XmlError> {
        a.get(key)
            .map(|v| {
                NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| self.err(a.pos, format!("{key} {v:?} is not a date (YYYY-MM-DD)")))
            })
            .transpose()
    }

    /// `start` (required) and `end` (optional, not before the start).
    fn dates(&self, a: &Attrs, element: &str) -> Result<(NaiveDate, Option<NaiveDate>), XmlError> {
        let start = self
            .date(a, "start")?
            .ok_or_else(|| self.err(a.pos, format!("<{element}> needs a start date")))?;
        let end = self.date(a, "end")?;
        if end.is_some_and(|e| e < start) {
            return Err(self.err(a.pos, "the end date is before the start date".into()));
        }
        Ok((start, end))
    }

    fn item_index(&self, a: &Attrs, name: &str) -> Result<usize, XmlError> {
        self.items.iter().position(|i| i == name).ok_or_else(|| {
            self.err(
                a.pos,
                format!(
                    "item {name:?} is not configured (items: {})",
                    self.items.join(", ")
                ),
            )
        })
    }

    fn element(&mut self, name: &str, a: &Attrs, empty: bool) -> Result<(), XmlError> {
        match (name, &self.section) {
            ("Entitlements", _) if !self.root => self.root = true,
            (_, _) if !self.root => {
                return Err(self.err(
                    a.pos,
                    format!("the document must start with <Entitlements>, not <{name}>"),
                ));
            }
            ("System", Section::None) if !empty => self.section = Section::System,
            ("Tenant", Section::None) if !empty => {
                let t = a
                    .get("name")
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| self.err(a.pos, "<Tenant> needs a name".into()))?;
                self.out.tenants.entry(t.to_string()).or_default();
                self.section = Section::Tenant(t.to_string());
            }
            ("Bundle", Section::None) if !empty => self.bundle(a)?,
            ("Include" | "Exclude", Section::Bundle(b)) => {
                let b = *b;
                self.only(a, &["item"], name)?;
                let item_name = a
                    .get("item")
                    .ok_or_else(|| self.err(a.pos, format!("<{name}> needs an item")))?;
                let item = self.item_index(a, item_name)?;
                let def = &mut self.out.bundles[b];
                if name == "Include" {
                    def.include |= 1 << item;
                } else {
                    def.exclude |= 1 << item;
                }
            }
            ("Entitlement", Section::System | Section::Tenant(_)) => self.grant(a)?,
            (other, _) => {
                return Err(self.err(
                    a.pos,
                    format!(
                        "unexpected <{other}> here (an <Entitlements> document holds <Bundle> definitions, and <System> and <Tenant name=\"...\"> sections of <Entitlement> elements)"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn bundle(&mut self, a: &Attrs) -> Result<(), XmlError> {
        self.only(
            a,
            &["name", "issued", "start", "end", "replaces_items"],
            "Bundle",
        )?;
        let name = a
            .get("name")
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| self.err(a.pos, "<Bundle> needs a name".into()))?;
        if self.items.iter().any(|i| i == name) {
            return Err(self.err(a.pos, format!("bundle {name:?} has the name of an item")));
        }
        let (start, end) = self.dates(a, "Bundle")?;
        let issued = self
            .date(a, "issued")?
            .ok_or_else(|| self.err(a.pos, "<Bundle> needs an issued date".into()))?;
        let replaces_items = match a.get("replaces_items").map(str::trim) {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => {
                return Err(self.err(
                    a.pos,
                    format!("replaces_items {v:?} is neither \"true\" nor \"false\""),
                ));
            }
        };
        let line = self.line_of(a.pos);
        self.out.bundles.push(BundleDef {
            name: name.to_string(),
            issued,
            start,
            end,
            include: 0,
            exclude: 0,
            replaces_items,
            line,
            order: (0, line),
        });
        self.section = Section::Bundle(self.out.bundles.len() - 1);
        Ok(())
    }

    fn grant(&mut self, a: &Attrs) -> Result<(), XmlError> {
        let (item, bundle) = match (a.get("item"), a.get("bundle")) {
            (Some(i), None) => (self.item_index(a, i)?, None),
            (None, Some(b)) => (usize::MAX, Some(b.to_string())),
            _ => {
                return Err(self.err(
                    a.pos,
                    "<Entitlement> needs an item or a bundle (one of them)".into(),
                ));
            }
        };
        let quantity: u64 = a
            .get("quantity")
            .ok_or_else(|| self.err(a.pos, "<Entitlement> needs a quantity".into()))?
            .trim()
            .parse()
            .map_err(|_| {
                self.err(
                    a.pos,
                    format!(
                        "quantity {:?} is not a whole number of seats",
                        a.get("quantity").unwrap_or("")
                    ),
                )
            })?;
        if quantity > super::MAX_SEATS {
            return Err(self.err(
                a.pos,
                format!(
                    "quantity {quantity} is more seats than seatmeter accepts in one grant (at most {})",
                    super::MAX_SEATS
                ),
            ));
        }
        let (start, end) = self.dates(a, "Entitlement")?;
        self.only(
            a,
            &["item", "bundle", "quantity", "start", "end"],
            "Entitlement",
        )?;
        let grant = Grant {
            item,
            bundle,
            quantity,
            start,
            end,
            line: self.line_of(a.pos),
        };
        match &self.section {
            Section::System => self.out.system.push(grant),
            Section::Tenant(t) => self.out.tenants.entry(t.clone()).or_default().push(grant),
            Section::None | Section::Bundle(_) => unreachable!("only called in these sections"),
        }
        Ok(())
    }
}

fn newline_offsets(text: &str) -> Vec<usize> {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

fn attributes(s: &BytesStart<'_>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for a in s.attributes() {
        let a = a.map_err(|e| format!("not well-formed XML: bad attribute: {e}"))?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute {key}: {e}"))?
            .into_owned();
        out.insert(key, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<String> {
        vec!["Voice".into(), "Email".into()]
    }

    const DOC: &str = r#"<?xml version="1.0"?>
<Entitlements>
  <System>
    <Entitlement item="Voice" quantity="100" start="2026-01-01"/>
  </System>
  <Tenant name="acme">
    <Entitlement item="Voice" quantity="10" start="2026-10-01" end="2026-10-15"/>
    <Entitlement item="Voice" quantity="12" start="2026-10-16"/>
    <Entitlement item="Email" quantity="3" start="2026-11-01"/>
  </Tenant>
  <Tenant name="beta"></Tenant>
</Entitlements>
"#;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn grants_by_day_and_tenant() {
        let f = parse("e.xml", DOC, &items()).unwrap();
        let all = Entitlements {
            files: vec![f],
            bundles: Vec::new(),
            items: 2,
        };
        assert!(all.has_tenants());
        assert_eq!(all.system(0, d("2026-10-01")), Some(Entitled::Seats(100)));
        assert_eq!(all.system(1, d("2026-10-01")), None);
        assert_eq!(
            all.tenant("acme", 0, d("2026-10-15")),
            Some(Entitled::Seats(10))
        );
        assert_eq!(
            all.tenant("acme", 0, d("2026-10-16")),
            Some(Entitled::Seats(12))
        );
        assert_eq!(
            all.tenant("acme", 0, d("2026-09-30")),
            Some(Entitled::Seats(0))
        );
        // Named for the tenant but not valid yet: 0; never named: no entitlement.
        assert_eq!(
            all.tenant("acme", 1, d("2026-10-20")),
            Some(Entitled::Seats(0))
        );
        assert_eq!(all.tenant("beta", 0, d("2026-10-20")), None);
        assert_eq!(all.tenant("nobody", 0, d("2026-10-20")), None);
        assert_eq!(
            add(Some(Entitled::Seats(2)), Some(Entitled::Seats(3))),
            Some(Entitled::Seats(5))
        );
        assert_eq!(
            add(None, Some(Entitled::Unlimited)),
            Some(Entitled::Unlimited)
        );
        // Several days: the smallest day counts; days without an entitlement do not.
        use super::super::smallest;
        assert_eq!(
            smallest(Some(Entitled::Seats(2)), Some(Entitled::Unlimited)),
            Some(Entitled::Seats(2))
        );
        assert_eq!(
            smallest(None, Some(Entitled::Seats(4))),
            Some(Entitled::Seats(4))
        );
        assert_eq!(
            smallest(Some(Entitled::Seats(0)), None),
            Some(Entitled::Seats(0))
        );
    }

    /// docs/BILLING.md, rules 1 and 3: the contract is the days of the tenant's grants;
    /// an item it has no grant of is 0 unless a bundle it holds includes it.
    #[test]
    fn provisioned_tenants_have_nothing_they_were_not_granted() {
        let doc = r#"<Entitlements>
  <Bundle name="B" issued="2026-01-01" start="2026-10-10" replaces_items="false"><Include item="Email"/></Bundle>
  <Tenant name="acme">
    <Entitlement item="Voice" quantity="2" start="2026-10-05" end="2026-10-20"/>
    <Entitlement bundle="B" quantity="1" start="2026-10-25"/>
  </Tenant>
  <Tenant name="empty"></Tenant>
</Entitlements>"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.xml");
        std::fs::write(&path, doc).unwrap();
        let all = load_all(&[path], &items()).unwrap();
        assert!(!all.bundles[0].defs[0].replaces_items);
        assert!(all.provisioned("acme"));
        // A <Tenant> without grants provisions nothing.
        assert!(!all.provisioned("empty") && !all.provisioned("nobody"));
        assert_eq!(
            all.provisioned_tenants().into_iter().collect::<Vec<_>>(),
            ["acme"]
        );
        // Email: no grant of it; B includes it from the 10th (its definition's start), and
        // acme has a grant of B (valid from the 25th, but named): judged on B's row.
        assert_eq!(
            all.tenant("acme", 1, d("2026-10-09")),
            Some(Entitled::Seats(0))
        );
        assert_eq!(all.tenant("acme", 1, d("2026-10-10")), None);
        // B itself: acme's grant, 0 before it is valid; a tenant without a grant of a
        // bundle has no entitlement of it.
        assert_eq!(
            all.tenant("acme", 2, d("2026-10-24")),
            Some(Entitled::Seats(0))
        );
        assert_eq!(
            all.tenant("acme", 2, d("2026-10-25")),
            Some(Entitled::Seats(1))
        );
        assert_eq!(all.tenant("empty", 1, d("2026-10-09")), None);
        // The contract: the 5th to the 20th (Voice), and from the 25th (B).
        let inside: Vec<u32> = (1..=31)
            .filter(|&n| all.in_contract("acme", d(&format!("2026-10-{n:02}"))))
            .collect();
        let want: Vec<u32> = (5..=20).chain(25..=31).collect();
        assert_eq!(inside, want);
        assert!(!all.in_contract("empty", d("2026-10-10")));
        let bad = parse(
            "e.xml",
            "<Entitlements>\n<Bundle name=\"B\" issued=\"2026-01-01\" start=\"2026-01-01\" replaces_items=\"yes\"></Bundle></Entitlements>",
            &items(),
        )
        .unwrap_err();
        assert_eq!(bad.line, 2, "{bad}");
        assert!(bad.message.contains("replaces_items \"yes\""), "{bad}");
    }

    #[test]
    fn the_latest_issued_definition_wins_where_they_overlap() {
        let doc = r#"<Entitlements>
  <Bundle name="B" issued="2026-01-01" start="2026-01-01"><Include item="Voice"/></Bundle>
  <Bundle name="B" issued="2026-06-01" start="2026-07-01" end="2026-07-31">
    <Include item="Email"/><Exclude item="Voice"/>
  </Bundle>
</Entitlements>"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.xml");
        std::fs::write(&path, doc).unwrap();
        let all = load_all(&[path], &items()).unwrap();
        let b = &all.bundles[0];
        assert_eq!(b.in_force(d("2026-06-30")).unwrap().include, 0b01);
        let july = b.in_force(d("2026-07-15")).unwrap();
        assert_eq!((july.include, july.exclude), (0b10, 0b01));
        assert!(july.counts(0b10) && !july.counts(0b11) && !july.counts(0b01));
        assert_eq!(b.in_force(d("2026-08-01")).unwrap().include, 0b01);
        assert!(b.in_force(d("2025-12-31")).is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let bad = |doc: &str| parse("e.xml", doc, &items()).unwrap_err();
        let e = bad(
            "<Entitlements>\n<Tenant name=\"a\">\n<Entitlement item=\"Fax\" quantity=\"1\" start=\"2026-01-01\"/>\n</Tenant></Entitlements>",
        );
        assert_eq!(e.line, 3, "{e}");
        assert!(
            e.to_string()
                .starts_with("e.xml:3: item \"Fax\" is not configured"),
            "{e}"
        );
        let e = bad(
            "<Entitlements>\n<System>\n\n<Entitlement item=\"Voice\" quantity=\"-1\" start=\"2026-01-01\"/></System></Entitlements>",
        );
        assert_eq!(
            (e.line, e.message.contains("whole number")),
            (4, true),
            "{e}"
        );
        let e = bad(
            "<Entitlements><System><Entitlement item=\"Voice\" quantity=\"1\" start=\"2026-02-30\"/></System></Entitlements>",
        );
        assert!(e.message.contains("not a date"), "{e}");
        let e = bad(
            "<Entitlements><System><Entitlement item=\"Voice\" quantity=\"1\" start=\"2026-02-03\" end=\"2026-02-01\"/></System></Entitlements>",
        );
        assert!(e.message.contains("before the start"), "{e}");
        let e = bad(
            "<Entitlements>\n<System>\n<Entitlement item=\"Voice\" quantity=\"1\" start=\"2026-02-03\" seats=\"2\"/></System></Entitlements>",
        );
        assert!(e.message.contains("no attribute \"seats\""), "{e}");
        let e = bad(
            "<Entitlements>\n<Entitlement item=\"Voice\" quantity=\"1\" start=\"2026-02-03\"/></Entitlements>",
        );
        assert!(e.message.contains("unexpected <Entitlement>"), "{e}");
        let e = bad("<Entitlements>\n<System>\n<Entitlement item=\"Voice\"\n</System>");
        assert!(e.message.contains("not well-formed"), "{e}");
        assert_eq!(e.line, 3, "{e}");
        let e = bad("<Licenses/>");
        assert!(e.message.contains("must start with <Entitlements>"), "{e}");
    }

    /// Regression (issue 12, fuzzing): summing grants overflowed; a quantity above
    /// u32::MAX is refused with its line, and sums of accepted ones are exact.
    #[test]
    fn huge_quantities_are_refused_and_sums_are_exact() {
        let doc = "<Entitlements>\n<System>\n<Entitlement item=\"Voice\" quantity=\"4294967295\" start=\"2026-01-01\"/>\n<Entitlement item=\"Voice\" quantity=\"1\" start=\"2026-01-01\"/>\n</System></Entitlements>";
        let f = parse("e.xml", doc, &items()).unwrap();
        let all = Entitlements {
            files: vec![f.clone(), f],
            ..Entitlements::default()
        };
        assert_eq!(
            all.system(0, d("2026-10-01")),
            Some(Entitled::Seats(2 * 4294967296))
        );
        let bad = "<Entitlements>\n<System>\n<Entitlement item=\"Voice\" quantity=\"18446744073709551615\" start=\"2026-01-01\"/>\n</System></Entitlements>";
        let e = parse("e.xml", bad, &items()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("at most 4294967295"), "{e}");
        assert_eq!(
            crate::entitlement::add(Some(Entitled::Seats(u64::MAX)), Some(Entitled::Seats(1))),
            Some(Entitled::Seats(u64::MAX)),
            "saturates, never wraps or panics"
        );
    }
}
