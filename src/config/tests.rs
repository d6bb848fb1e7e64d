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
    assert_eq!(c.week_start, chrono::Weekday::Mon);
    let c = parse(ITEM).unwrap();
    assert_eq!(c.timezone, Tz::UTC);
    let c = parse(&format!("week_start = \"Sunday\"\n{ITEM}")).unwrap();
    assert_eq!(c.week_start, chrono::Weekday::Sun);
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
            format!("timezone = \"UTC\"\nweek_start = \"sun\"\n{ITEM}"),
            Some(2),
            "week_start = \"sun\" is not a day of the week",
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

const HASH_A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const HASH_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

#[test]
fn tokens_and_tls_are_checked() {
    let c = parse(&format!(
        "{ITEM}[service]\nlisten = \"0.0.0.0:9184\"\ntls_certificate = \"tls/cert.pem\"\ntls_key = \"/k.pem\"\n\
         [[service.token]]\nname = \"ops\"\nsha256 = \"{}\"\n\
         [[service.token]]\nname = \"acme-portal\"\nsha256 = \"{HASH_B}\"\ntenant = \"acme\"\n",
        HASH_A.to_uppercase()
    ))
    .unwrap();
    let t = &c.access.tokens;
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].name.as_str(), &t[0].role, t[0].line),
        ("ops", &Role::Operator, 9)
    );
    assert_eq!(t[0].sha256[..2], [0x9f, 0x86]);
    assert_eq!(t[1].role, Role::Tenant("acme".into()));
    let tls = c.access.tls.as_ref().unwrap();
    assert_eq!(tls.certificate, Path::new("/etc/seatmeter/tls/cert.pem"));
    assert_eq!(tls.key, Path::new("/k.pem"));
    assert_eq!((tls.certificate_line, tls.key_line), (7, 8));
    // The hash is never the token: nothing in the configuration's Debug is a secret, but
    // the configuration holds no token at all.
    assert_eq!(parse(ITEM).unwrap().access, Access::default());
}

#[test]
fn bad_tokens_and_tls_name_file_and_line() {
    let token = |name: &str, rest: &str| format!("\n[[service.token]]\nname = \"{name}\"\n{rest}");
    let cases = [
        (
            format!("{ITEM}{}", token("ops", "")),
            Some(6),
            "token \"ops\" has no sha256",
        ),
        (
            format!("{ITEM}{}", token("ops", "sha256 = \"smt_0123\"\n")),
            Some(6),
            "sha256 must be the 64 hex digits",
        ),
        (
            format!(
                "{ITEM}{}",
                token("ops", &format!("sha256 = \"{}x\"\n", &HASH_A[..63]))
            ),
            Some(6),
            "sha256 must be the 64 hex digits",
        ),
        (
            format!(
                "{ITEM}{}{}",
                token("ops", &format!("sha256 = \"{HASH_A}\"\n")),
                token("ops", &format!("sha256 = \"{HASH_B}\"\n"))
            ),
            Some(10),
            "two tokens are named \"ops\"",
        ),
        (
            format!(
                "{ITEM}{}{}",
                token("ops", &format!("sha256 = \"{HASH_A}\"\n")),
                token(
                    "acme",
                    &format!("sha256 = \"{HASH_A}\"\ntenant = \"acme\"\n")
                )
            ),
            Some(10),
            "token \"acme\" has the same sha256 as token \"ops\" (line 6)",
        ),
        (
            format!(
                "{ITEM}{}",
                token("t", &format!("sha256 = \"{HASH_A}\"\ntenant = \"\"\n"))
            ),
            Some(6),
            "tenant is empty",
        ),
        (
            format!(
                "{ITEM}{}",
                token("t", &format!("sha256 = \"{HASH_A}\"\ntoken = \"smt_x\"\n"))
            ),
            Some(9),
            "unknown field `token`",
        ),
        (
            format!("{ITEM}[service]\ntls_certificate = \"c.pem\"\n"),
            Some(6),
            "tls_certificate is given without tls_key",
        ),
        (
            format!("{ITEM}[service]\nlisten = \"127.0.0.1:1\"\ntls_key = \"k.pem\"\n"),
            Some(7),
            "tls_key is given without tls_certificate",
        ),
    ];
    for (text, line, want) in cases {
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, line, "{text}\n{e}");
        assert!(e.message.contains(want), "{text}\n{e}");
        assert!(
            e.to_string().starts_with("/etc/seatmeter/site.toml:"),
            "{e}"
        );
    }
}

#[test]
fn finops_is_checked_with_the_configuration_and_its_file_lines_become_warnings() {
    let bad = format!(
        "{ITEM}\n[finops]\ninactive_days = 30\n\n[[finops.tier]]\nname = \"CX2\"\nitems = [\"Voice\", \"E-Mail\"]\nprice = 4000\n"
    );
    let e = parse(&bad).unwrap_err();
    assert_eq!(e.path, "/etc/seatmeter/site.toml");
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("\"E-Mail\" is not an [[item]]"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("centers.csv"),
        "cost_center,kind,name,from,to\nCare,group,Support,,\nCare,team,X,,\n",
    )
    .unwrap();
    let text = format!("{ITEM}\n[finops]\ncost_centers_file = \"centers.csv\"\n");
    let c = ConfigFile::parse(&dir.path().join("site.toml"), &text)
        .unwrap()
        .with_bundles(Vec::new())
        .unwrap();
    assert_eq!(
        c.finops.assignments.len(),
        1,
        "read beside the configuration"
    );
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].line, Some(3));
    assert!(c.warnings[0].path.ends_with("centers.csv"));
    assert!(
        c.warnings[0]
            .message
            .starts_with("cost-center line kept aside")
    );
    assert_eq!(
        parse(ITEM).unwrap().finops.inactive_days,
        45,
        "defaults without the section"
    );
}

#[test]
fn alert_rules_and_channels_are_checked_with_file_and_line() {
    let chan = |body: &str| format!("{ITEM}[[alerts.channel]]\nname = \"ops\"\n{body}");
    let rule = "[[alerts.rule]]\nname = \"over\"\ncondition = \"over_use\"\nchannels = [\"ops\"]\n";
    let cases = [
        (
            chan("kind = \"webhook\"\nurl = \"htp:/nowhere\"\n"),
            Some(5),
            "url",
        ),
        (
            chan(
                "kind = \"webhook\"\nurl = \"https://hooks.example/x\"\ntemplate = \"custom\"\nbody = \"{\\\"text\\\": {{nope}}}\"\n",
            ),
            Some(5),
            "nope",
        ),
        (
            chan(
                "kind = \"email\"\nsmtp = \"smtp://mail.example:25\"\nfrom = \"seatmeter\"\nto = [\"ops@example.com\"]\n",
            ),
            Some(5),
            "seatmeter",
        ),
        (
            format!(
                "{}[[alerts.rule]]\nname = \"r\"\ncondition = \"over_use\"\nitems = [\"Vioce\"]\nchannels = [\"ops\"]\n",
                chan("kind = \"webhook\"\nurl = \"https://hooks.example/x\"\n")
            ),
            Some(9),
            "Vioce",
        ),
        (format!("{ITEM}{rule}"), Some(5), "ops"),
        (
            format!(
                "{ITEM}[[alerts.rule]]\nname = \"x\"\ncondition = \"overuse\"\nchannels = []\n"
            ),
            Some(7),
            "overuse",
        ),
        (
            format!("{ITEM}[guardrails]\ntolerance_percent = 15\nexpiry_warn_days = []\n"),
            Some(5),
            "expiry_warn_days",
        ),
    ];
    for (text, line, want) in cases {
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains(want), "{text}\n{e}");
        assert_eq!(e.line, line, "{text}\n{e}");
        assert!(e.to_string().starts_with("/etc/seatmeter/site.toml"), "{e}");
    }
    // Two mistakes at once: both named, each with its line.
    let text = format!(
        "{}[[alerts.rule]]\nname = \"r\"\ncondition = \"forecast\"\nitems = [\"Vioce\"]\nchannels = [\"nobody\"]\n",
        chan("kind = \"webhook\"\nurl = \"ftp://hooks.example/x\"\n")
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("and at line 9"), "{e}");
    // A good section parses into rules and channels.
    let ok = format!(
        "{}{rule}",
        chan(
            "kind = \"webhook\"\nurl = \"https://hooks.example/x\"\ntemplate = \"slack\"\nsecret = \"s3\"\n"
        )
    );
    let c = parse(&ok).unwrap();
    assert_eq!(c.alerting.rules.len(), 1);
    assert_eq!(c.alerting.channels[0].name, "ops");
    assert!(
        !format!("{:?}", c.alerting).contains("s3"),
        "the secret is never printed"
    );
}
