use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    ConfigFile::parse(Path::new("/etc/seatmeter/site.toml"), text)?.with_bundles(Vec::new())
}

const ITEM: &str = "[[item]]\nname = \"Voice\"\nmedia = [\"voice\"]\nfeatures = [\"V\"]\n";

#[test]
fn sample_parses_with_defaults_and_relative_paths() {
    let c = parse(&sample()).unwrap();
    assert_eq!(c.timezone.name(), "Europe/London");
    assert_eq!(
        c.store.path.as_deref(),
        Some(Path::new("/etc/seatmeter/seatmeter.db"))
    );
    assert_eq!(c.collectors.len(), 2);
    assert_eq!(
        c.license_files,
        vec![PathBuf::from("/etc/seatmeter/license.dat")]
    );
    assert_eq!(c.items[0].model, Model::Concurrent);
    let c = parse(ITEM).unwrap();
    assert_eq!(c.timezone, Tz::UTC);
}

#[test]
fn errors_name_file_line_and_key() {
    let cases = [
        (
            format!("timezone = \"UTC\"\ncolour = \"red\"\n{ITEM}"),
            Some(2),
            "unknown field `colour`",
        ),
        (
            format!("{ITEM}model = \"seats\"\n"),
            Some(5),
            "unknown variant `seats`",
        ),
        (
            format!("timezone = \"Europe/Londn\"\n{ITEM}"),
            Some(1),
            "unknown time zone \"Europe/Londn\"",
        ),
        (
            "[[item]]\nname = \"Chat\"\nfeatures = [\"C\"]\n".to_string(),
            Some(1),
            "item \"Chat\" has no media",
        ),
        (
            format!("{ITEM}{ITEM}"),
            Some(5),
            "two items are named \"Voice\"",
        ),
        (
            "timezone = \"UTC\"\n".to_string(),
            None,
            "no [[item]] is defined",
        ),
        (
            format!("[store]\npath = \"a.db\"\nurl = \"postgres://x\"\n{ITEM}"),
            Some(1),
            "either path or url",
        ),
        (
            format!(
                "[[collector]]\nname = \"e\"\nkind = \"spool\"\npath = \"s\"\nspeed = 3\n{ITEM}"
            ),
            Some(1),
            "unknown field `speed`",
        ),
        (
            format!(
                "[[collector]]\nname = \"e\"\nkind = \"spool\"\npath = \"s\"\ninterval = \"0s\"\n{ITEM}"
            ),
            Some(1),
            "interval 0ns is shorter than the 100ms minimum",
        ),
    ];
    for (text, line, want) in cases {
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, line, "{text}\n{e}");
        assert!(e.message.contains(want), "{text}\n{e}");
        assert!(e.to_string().starts_with("/etc/seatmeter/site.toml"), "{e}");
    }
}

#[test]
fn media_and_models() {
    let c = parse("[[item]]\nname = \"Any\"\nmedia = [\"*\"]\nmodel = \"named\"\n[[item]]\nname = \"E\"\nmedia = [\"Email\", \"chat\"]\n").unwrap();
    assert!(c.items[0].any && c.items[0].model == Model::Named);
    assert!(c.items[0].consumed_by(["anything"].into_iter()));
    assert_eq!(c.items[1].media, ["email", "chat"]);
    assert!(c.items[1].consumed_by(["voice", "chat"].into_iter()));
    assert!(!c.items[1].consumed_by(["voice"].into_iter()));
}

#[test]
fn passwords_are_never_printed() {
    let c = parse(&format!(
        "[store]\nurl = \"postgres://u:s3cret@h/db\"\n{ITEM}"
    ))
    .unwrap();
    assert!(!format!("{c:?}").contains("s3cret"));
}

/// The `[[collector]]` tables of a text, commented out or not, as parsed collectors.
fn collector_tables(text: &str) -> Vec<CollectorConfig> {
    let mut tables = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let bare = line.trim_start_matches("# ").trim_start_matches('#');
        if bare.trim_start().starts_with("[[collector]]") {
            tables.extend(current.take());
            current = Some("[[collector]]\n".into());
        } else if let Some(t) = current.as_mut() {
            let l = bare.trim();
            if l.is_empty() || l.starts_with('[') || !l.contains('=') {
                tables.extend(current.take());
            } else {
                t.push_str(bare);
                t.push('\n');
            }
        }
    }
    tables.extend(current);
    #[derive(Deserialize)]
    struct F {
        collector: Vec<CollectorConfig>,
    }
    tables
        .iter()
        .map(|t| {
            toml::from_str::<F>(t)
                .unwrap_or_else(|e| panic!("{e}\n{t}"))
                .collector
                .remove(0)
        })
        .collect()
}

/// The init sample, the README and the packaged configuration show every collector kind,
/// each with keys its kind accepts (unknown keys are errors), so none of them drifts.
#[test]
fn every_collector_kind_is_shown_as_its_kind_accepts_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let packaged = std::fs::read_to_string(root.join("packaging/seatmeter.toml")).unwrap();
    let kinds: Vec<&str> = seatmeter_collectors::KINDS.iter().map(|k| k.0).collect();
    for (what, text) in [
        ("init's sample", sample()),
        ("README.md", readme),
        ("packaging/seatmeter.toml", packaged),
    ] {
        let mut shown: Vec<&str> = collector_tables(&text).iter().map(|c| c.kind()).collect();
        shown.sort();
        shown.dedup();
        let mut want = kinds.clone();
        want.sort();
        assert_eq!(shown, want, "{what} shows these collector kinds");
    }
    // The README shows each kind's own sample.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (kind, sample) in seatmeter_collectors::KINDS {
        assert!(
            readme.contains(sample),
            "README.md lacks the sample of {kind}"
        );
    }
}
