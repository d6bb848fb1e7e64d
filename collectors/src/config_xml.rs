//! The `config-xml` collector: configuration snapshots as XML files (`*.xml`) in one folder
//! (docs/SEMANTICS.md, section 5).
//!
//! ```xml
//! <ConfigurationSnapshot taken="2026-11-02T00:05:00Z">
//!   <Tenant name="acme">
//!     <Agent id="a1001" enabled="true" media="voice email" groups="Support Sales"/>
//!     <Agent id="a1002" enabled="true" media="voice" tier="CX1" tags="SEASONAL_BURST"/>
//!   </Tenant>
//! </ConfigurationSnapshot>
//! ```
//!
//! Each file is one snapshot, read whole or not at all: a file that is not well-formed, or
//! that has an agent without an id, is kept aside with its line and the reason, and is read
//! again when its content changes. The cursor remembers the digest of each file read, so a
//! file is read once; a file whose content changes is read as a new snapshot.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use quick_xml::events::{BytesStart, Event as XmlEvent};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::batch::{Batch, DEFAULT_TENANT, Reject, Snapshot, SnapshotAgent, SnapshotPlace};
use crate::{AnyCollector, CollectError, Collector, Delivery, HumanDuration, Kind, Summary};

/// `kind = "config-xml"`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigXmlConfig {
    /// Unique name of this collector.
    pub name: String,
    /// The folder of snapshot files. Relative to the configuration file's folder.
    pub path: PathBuf,
    /// Time between two collections in `seatmeter serve` (default "5m").
    #[serde(default)]
    pub interval: HumanDuration,
}

impl Kind for ConfigXmlConfig {
    const KIND: &'static str = "config-xml";
    const SAMPLE: &'static str = r#"[[collector]]
name = "cfg"
kind = "config-xml"                  # configuration snapshots (enabled agents)
path = "config-snapshots""#;

    fn name(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> std::time::Duration {
        self.interval.0
    }

    fn resolve_paths(&mut self, base: &std::path::Path) {
        crate::resolve(base, &mut self.path);
    }

    fn warnings(&self) -> Vec<String> {
        crate::folder_warnings(&self.path)
    }

    fn build(&self) -> Box<dyn AnyCollector> {
        Box::new(ConfigXmlCollector::new(self.clone()))
    }
}

/// File name -> SHA-256 (hex) of the content last read.
pub type Cursor = BTreeMap<String, String>;

pub struct ConfigXmlCollector {
    config: ConfigXmlConfig,
}

impl ConfigXmlCollector {
    pub fn new(config: ConfigXmlConfig) -> ConfigXmlCollector {
        ConfigXmlCollector { config }
    }
}

impl Collector for ConfigXmlCollector {
    type Cursor = Cursor;

    fn name(&self) -> &str {
        &self.config.name
    }

    fn collect(
        &mut self,
        mut seen: Cursor,
        sink: &mut Delivery<'_, Cursor>,
    ) -> Result<Summary, CollectError> {
        let listing = crate::list_files(&self.config.path, &["xml"])?;
        let mut summary = Summary {
            notes: listing.notes,
            ..Summary::default()
        };
        for (name, path) in listing.files {
            if sink.should_stop() {
                return Err(CollectError::Stopped);
            }
            let bytes = std::fs::read(&path).map_err(|e| CollectError::io(&path, e))?;
            let digest: [u8; 32] = Sha256::digest(&bytes).into();
            let hex = seatmeter_core::hex(&digest);
            if seen.get(&name) == Some(&hex) {
                continue;
            }
            summary.sources += 1;
            summary.lines += bytes.iter().filter(|&&c| c == b'\n').count() as u64;
            let mut batch = Batch::in_window(sink.window());
            match parse_snapshot(&name, &bytes, &mut batch) {
                Ok(mut snapshot) => {
                    snapshot.sha256 = digest;
                    batch.snapshots.push(snapshot);
                }
                // The document's digest: the same bad document, whatever its name, is
                // one rejected file.
                Err(reject) => batch.rejects.push(Reject {
                    origin: format!("xml:{hex}"),
                    ..*reject
                }),
            }
            seen.insert(name, hex);
            sink.deliver(batch, &seen)?;
        }
        Ok(summary)
    }
}

fn line_of(bytes: &[u8], pos: u64) -> u64 {
    let pos = (pos as usize).min(bytes.len());
    1 + bytes[..pos].iter().filter(|&&c| c == b'\n').count() as u64
}

/// Line numbers of positions that only move forward, counted incrementally (a snapshot of
/// 200,000 agents has as many elements: counting from the start each time is quadratic).
struct Lines<'b> {
    bytes: &'b [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> u64 {
        let pos = (pos as usize).min(self.bytes.len());
        if pos < self.pos {
            return line_of(self.bytes, pos as u64);
        }
        self.line += self.bytes[self.pos..pos]
            .iter()
            .filter(|&&c| c == b'\n')
            .count() as u64;
        self.pos = pos;
        self.line
    }
}

/// Parses one snapshot document, interning its strings in `batch`.
/// A document that cannot be read is one rejected line (boxed: a snapshot is returned far
/// more often than an error).
pub fn parse_snapshot(
    name: &str,
    bytes: &[u8],
    batch: &mut Batch,
) -> Result<Snapshot, Box<Reject>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Reject::new(
            name,
            line_of(bytes, e.valid_up_to() as u64),
            "not valid UTF-8",
            "",
        )
    })?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut doc = Doc {
        batch,
        stack: Vec::new(),
        taken: None,
        tenant: None,
        agents: Vec::new(),
        places: Vec::new(),
        lines: HashMap::new(),
        place_lines: HashMap::new(),
    };
    let mut lines = Lines {
        bytes,
        pos: 0,
        line: 1,
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position();
            Reject::new(
                name,
                line_of(bytes, at),
                format!("not well-formed XML: {e}"),
                "",
            )
        })?;
        // The line of the element: skip the whitespace before its `<`.
        let ws = text[pos as usize..].len() - text[pos as usize..].trim_start().len();
        let line = lines.at(pos + ws as u64);
        let err = |reason: String| Reject::new(name, line, reason, "");
        match event {
            XmlEvent::Start(e) => {
                doc.element(&e, line).map_err(err)?;
                doc.stack.push(e.name().as_ref().to_string());
            }
            XmlEvent::Empty(e) => doc.element(&e, line).map_err(err)?,
            XmlEvent::End(_) => {
                if doc.stack.len() == 2 {
                    doc.tenant = None;
                }
                doc.stack.pop();
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = doc.stack.last() {
        return Err(Box::new(Reject::new(
            name,
            line_of(bytes, bytes.len() as u64),
            format!("not well-formed XML: <{open}> is not closed"),
            "",
        )));
    }
    let taken = doc
        .taken
        .ok_or_else(|| Reject::new(name, 1, "no <ConfigurationSnapshot> element", ""))?;
    Ok(Snapshot {
        taken,
        source: name.to_string(),
        sha256: [0; 32],
        agents: doc.agents,
        places: doc.places,
    })
}

struct Doc<'b> {
    batch: &'b mut Batch,
    stack: Vec<String>,
    taken: Option<seatmeter_core::Nanos>,
    tenant: Option<String>,
    agents: Vec<SnapshotAgent>,
    places: Vec<SnapshotPlace>,
    /// (tenant, agent) -> line, to refuse an agent listed twice
    lines: HashMap<(String, String), u64>,
    /// (tenant, place) -> line, to refuse a place listed twice
    place_lines: HashMap<(String, String), u64>,
}

impl Doc<'_> {
    fn element(&mut self, e: &BytesStart<'_>, line: u64) -> Result<(), String> {
        let tag = e.name();
        match (self.stack.len(), tag.as_ref()) {
            (0, "ConfigurationSnapshot") => {
                let t = attr(e, "taken")?.ok_or("ConfigurationSnapshot has no taken attribute")?;
                let taken = seatmeter_core::time::parse_rfc3339(t.trim())
                    .map_err(|e| format!("taken: {e}"))?;
                self.batch
                    .window()
                    .check(taken)
                    .map_err(|e| format!("taken: {e}"))?;
                self.taken = Some(taken);
            }
            (0, other) => {
                return Err(format!(
                    "the root element is <{}>; expected <ConfigurationSnapshot taken=\"...\">",
                    other
                ));
            }
            (1, "Tenant") => {
                let t = attr(e, "name")?.unwrap_or_default();
                if t.trim().is_empty() {
                    return Err("Tenant has no name attribute".into());
                }
                crate::batch::check_name("Tenant name", t.trim())?;
                self.tenant = Some(t.trim().to_string());
            }
            (1, "Agent") => self.agent(e, DEFAULT_TENANT.to_string(), line)?,
            (2, "Agent") if self.stack[1] == "Tenant" => {
                let tenant = self.tenant.clone().unwrap_or_default();
                self.agent(e, tenant, line)?
            }
            (1, "Place") => self.place(e, DEFAULT_TENANT.to_string(), line)?,
            (2, "Place") if self.stack[1] == "Tenant" => {
                let tenant = self.tenant.clone().unwrap_or_default();
                self.place(e, tenant, line)?
            }
            // Other elements (exports often carry more) are allowed and ignored.
            _ => {}
        }
        Ok(())
    }

    fn agent(&mut self, e: &BytesStart<'_>, tenant: String, line: u64) -> Result<(), String> {
        let id = attr(e, "id")?.unwrap_or_default();
        let id = id.trim();
        if id.is_empty() {
            return Err("Agent has no id attribute".into());
        }
        let enabled = match attr(e, "enabled")?.as_deref().map(str::trim) {
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(format!(
                    "Agent {id}: enabled={other:?}; expected \"true\" or \"false\""
                ));
            }
            None => {
                return Err(format!(
                    "Agent {id} has no enabled attribute (\"true\" or \"false\")"
                ));
            }
        };
        if let Some(first) = self.lines.insert((tenant.clone(), id.to_string()), line) {
            return Err(format!(
                "agent {id} of tenant {tenant} is listed twice (lines {first} and {line})"
            ));
        }
        let media = attr(e, "media")?.unwrap_or_default();
        let groups = attr(e, "groups")?.unwrap_or_default();
        let tags = attr(e, "tags")?.unwrap_or_default();
        let tier = attr(e, "tier")?.unwrap_or_default();
        crate::batch::check_name("Agent id", id)?;
        for w in tags.split_whitespace() {
            crate::batch::check_name("a tag", w)?;
        }
        let tier = tier.trim();
        if !tier.is_empty() {
            crate::batch::check_name("a tier", tier)?;
        }
        for w in media.split_whitespace() {
            crate::batch::check_name("a media word", w)?;
        }
        for w in groups.split_whitespace() {
            crate::batch::check_name("a group", w)?;
        }
        let media = self.batch.intern_words(media.split_whitespace(), true);
        let groups = self.batch.intern_words(groups.split_whitespace(), false);
        let tags = self.batch.intern_words(tags.split_whitespace(), false);
        let tier = self.batch.intern(tier);
        self.agents.push(SnapshotAgent {
            tenant: self.batch.intern(&tenant),
            agent: self.batch.intern(id),
            enabled,
            media,
            groups,
            tags,
            tier,
        });
        Ok(())
    }
}

impl Doc<'_> {
    /// `<Place id="desk-4" groups="Floor2 Quiet"/>`: the groups a login at the place brings
    /// (docs/SEMANTICS.md, section 11.1).
    fn place(&mut self, e: &BytesStart<'_>, tenant: String, line: u64) -> Result<(), String> {
        let id = attr(e, "id")?.unwrap_or_default();
        let id = id.trim();
        if id.is_empty() {
            return Err("Place has no id attribute".into());
        }
        crate::batch::check_name("Place id", id)?;
        if let Some(first) = self.place_lines.insert((tenant.clone(), id.to_string()), line) {
            return Err(format!(
                "place {id} of tenant {tenant} is listed twice (lines {first} and {line})"
            ));
        }
        let groups = attr(e, "groups")?.unwrap_or_default();
        for w in groups.split_whitespace() {
            crate::batch::check_name("a group", w)?;
        }
        let groups = self.batch.intern_words(groups.split_whitespace(), false);
        self.places.push(SnapshotPlace {
            tenant: self.batch.intern(&tenant),
            place: self.batch.intern(id),
            groups,
        });
        Ok(())
    }
}

/// The unescaped value of attribute `key`, if present.
fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    match e.try_get_attribute(key) {
        Ok(None) => Ok(None),
        Ok(Some(a)) => a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| Some(v.into_owned()))
            .map_err(|err| format!("attribute {key}: {err}")),
        Err(err) => Err(format!("not well-formed XML: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::VecSink;

    fn parse(xml: &str) -> Result<(Snapshot, Batch), Box<Reject>> {
        let mut b = Batch::new();
        parse_snapshot("s.xml", xml.as_bytes(), &mut b).map(|s| (s, b))
    }

    #[test]
    fn reads_the_contract_example() {
        let (s, b) = parse(
            r#"<?xml version="1.0"?>
<ConfigurationSnapshot taken="2026-11-02T00:05:00Z">
  <Tenant name="acme">
    <Agent id="a1001" enabled="true" media="voice email" groups="Support Sales"/>
    <Agent id="a1002" enabled="false" media="voice"/>
  </Tenant>
  <Agent id="solo" enabled="true" media="chat"/>
</ConfigurationSnapshot>"#,
        )
        .unwrap();
        assert_eq!(
            seatmeter_core::time::format_utc(s.taken),
            "2026-11-02T00:05:00Z"
        );
        assert_eq!(s.agents.len(), 3);
        assert_eq!(b.string(s.agents[0].tenant), "acme");
        assert_eq!(b.list(s.agents[0].groups).len(), 2);
        assert!(!s.agents[1].enabled);
        assert_eq!(b.string(s.agents[2].tenant), "default");
        assert!(s.places.is_empty());
    }

    #[test]
    fn reads_places_and_their_groups() {
        let (s, b) = parse(
            r#"<ConfigurationSnapshot taken="2026-11-02T00:05:00Z">
  <Tenant name="acme">
    <Agent id="a1" enabled="true"/>
    <Place id="desk-4" groups="Floor2 Quiet"/>
    <Place id="desk-5"/>
  </Tenant>
  <Tenant name="beta"><Place id="desk-4" groups="Ground"/></Tenant>
  <Place id="lobby" groups="Front"/>
</ConfigurationSnapshot>"#,
        )
        .unwrap();
        let places: Vec<(&str, &str, Vec<&str>)> = s
            .places
            .iter()
            .map(|p| {
                (
                    b.string(p.tenant),
                    b.string(p.place),
                    b.list(p.groups).iter().map(|&g| b.string(g)).collect(),
                )
            })
            .collect();
        assert_eq!(
            places,
            [
                ("acme", "desk-4", vec!["Floor2", "Quiet"]),
                ("acme", "desk-5", vec![]),
                ("beta", "desk-4", vec!["Ground"]),
                ("default", "lobby", vec!["Front"]),
            ]
        );
        assert_eq!(s.agents.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n<Tenant name=\"a\">\n<Agent id=\"x\" enabled=\"true\">\n</Tenant>\n</ConfigurationSnapshot>",
                4,
                "not well-formed XML",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n  <Agent enabled=\"true\"/>\n</ConfigurationSnapshot>",
                2,
                "Agent has no id",
            ),
            (
                "<ConfigurationSnapshot taken=\"soon\">\n</ConfigurationSnapshot>",
                1,
                "taken: timestamp",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n<Agent id=\"x\" enabled=\"yes\"/>\n</ConfigurationSnapshot>",
                2,
                "expected \"true\" or \"false\"",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n<Agent id=\"x\" enabled=\"true\"/>\n<Agent id=\"x\" enabled=\"true\"/>\n</ConfigurationSnapshot>",
                3,
                "listed twice (lines 2 and 3)",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n<Tenant name=\"a\">\n<Place id=\"d\"/>\n<Place id=\"d\" groups=\"G\"/>\n</Tenant>\n</ConfigurationSnapshot>",
                4,
                "place d of tenant a is listed twice (lines 3 and 4)",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n  <Place groups=\"G\"/>\n</ConfigurationSnapshot>",
                2,
                "Place has no id",
            ),
            (
                "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\">\n<Tenant name=\"a\">\n",
                3,
                "<Tenant> is not closed",
            ),
            ("<Config/>", 1, "the root element is <Config>"),
            ("", 1, "no <ConfigurationSnapshot>"),
        ];
        for (xml, line, want) in cases {
            let r = parse(xml).unwrap_err();
            assert_eq!(r.line, line, "{xml}: {r}");
            assert!(r.reason.contains(want), "{xml}: {r}");
        }
    }

    #[test]
    fn collects_each_file_once_and_keeps_bad_ones_aside() {
        let dir = tempfile::tempdir().unwrap();
        let good = "<ConfigurationSnapshot taken=\"2026-11-02T00:05:00Z\"><Agent id=\"x\" enabled=\"true\"/></ConfigurationSnapshot>";
        std::fs::write(dir.path().join("a.xml"), good).unwrap();
        std::fs::write(dir.path().join("b.xml"), "<ConfigurationSnapshot taken=").unwrap();
        let mut c = ConfigXmlCollector::new(ConfigXmlConfig {
            name: "cfg".into(),
            path: dir.path().to_path_buf(),
            interval: HumanDuration::default(),
        });
        let mut sink = VecSink::default();
        AnyCollector::collect(&mut c, None, &mut sink).unwrap();
        assert_eq!(sink.batches.len(), 2);
        assert_eq!(sink.batches[0].snapshots.len(), 1);
        assert_eq!(sink.rejects()[0].source, "b.xml");
        let mut again = VecSink::default();
        AnyCollector::collect(&mut c, sink.cursor.as_deref(), &mut again).unwrap();
        assert!(again.batches.is_empty());
    }
}
