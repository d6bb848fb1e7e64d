use super::line::split_csv_record;
use super::*;
use crate::AnyCollector;
use crate::testutil::VecSink;
use std::io::Write;

fn collector(dir: &Path) -> SpoolCollector {
    SpoolCollector::new(SpoolConfig {
        name: "events".into(),
        path: dir.to_path_buf(),
        interval: HumanDuration::default(),
        settle: HumanDuration(Duration::from_secs(3600)),
    })
}

fn run(c: &mut SpoolCollector, cursor: Option<&str>) -> (VecSink, Summary) {
    let mut sink = VecSink::default();
    let s = AnyCollector::collect(c, cursor, &mut sink).unwrap();
    (sink, s)
}

const L1: &str = r#"{"ts":"2026-10-25T00:30:00Z","event":"login","tenant":"acme","agent":"x","groups":["G"],"media":["voice"]}"#;
const L2: &str = r#"{"ts":"2026-10-25T01:05:00Z","event":"logout","tenant":"acme","agent":"x"}"#;

#[test]
fn reads_jsonl_then_only_appended_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    std::fs::write(&p, format!("{L1}\n")).unwrap();
    let mut c = collector(dir.path());
    let (sink, _) = run(&mut c, None);
    assert_eq!(sink.events().len(), 1);
    let cursor = sink.cursor.clone().unwrap();
    // Nothing new: no batch, same cursor.
    let (again, _) = run(&mut c, Some(&cursor));
    assert!(again.batches.is_empty());
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    writeln!(f, "{L2}").unwrap();
    let (more, _) = run(&mut c, Some(&cursor));
    assert_eq!(
        more.events(),
        vec![(
            "2026-10-25T01:05:00Z".into(),
            "logout",
            "acme".into(),
            "x".into()
        )]
    );
}

#[test]
fn files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.jsonl"), format!("{L2}\n")).unwrap();
    std::fs::write(dir.path().join("a.jsonl"), format!("{L1}\n")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored\n").unwrap();
    let (sink, summary) = run(&mut collector(dir.path()), None);
    let kinds: Vec<_> = sink.events().iter().map(|e| e.1).collect();
    assert_eq!(kinds, ["login", "logout"]);
    assert_eq!(summary.sources, 2);
}

#[test]
fn bad_lines_are_kept_aside_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = [
        L1,
        r#"{"ts":"yesterday","event":"login","agent":"a"}"#,
        r#"{"ts":"2026-10-25T00:30:00Z","event":"sign-in","agent":"a"}"#,
        r#"{"ts":"2026-10-25T00:30:00Z","event":"login"}"#,
        r#"{"ts":"2026-10-25T00:30:00Z","event":"lo"#,
        "",
        L2,
    ]
    .join("\n");
    std::fs::write(dir.path().join("a.jsonl"), body + "\n").unwrap();
    let (sink, _) = run(&mut collector(dir.path()), None);
    assert_eq!(sink.events().len(), 2);
    let rejects: Vec<String> = sink.rejects().iter().map(|r| r.to_string()).collect();
    assert_eq!(rejects.len(), 4, "{rejects:?}");
    assert!(
        rejects[0].starts_with("a.jsonl:2: timestamp \"yesterday\""),
        "{rejects:?}"
    );
    assert!(rejects[1].starts_with("a.jsonl:3: unknown event \"sign-in\""));
    assert_eq!(rejects[2], "a.jsonl:4: missing agent");
    assert_eq!(rejects[3], "a.jsonl:5: truncated JSON line");
    // Lines that name no tenant belong to `default`; a truncated line to nobody.
    let tenants: Vec<_> = sink.rejects().iter().map(|r| r.tenant.clone()).collect();
    let default = Some("default".to_string());
    assert_eq!(tenants, [default.clone(), default.clone(), default, None]);
}

#[test]
fn a_line_kept_aside_carries_the_tenant_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let json = [
        r#"{"ts":"yesterday","event":"login","tenant":"acme","agent":"a"}"#,
        r#"{"ts":"yesterday","event":"login","tenant":"be\u0000ta","agent":"a"}"#,
        r#"{"ts":"yesterday","event":"login","tenant":7,"agent":"a"}"#,
    ]
    .join("\n");
    std::fs::write(dir.path().join("a.jsonl"), json + "\n").unwrap();
    std::fs::write(
        dir.path().join("b.csv"),
        "ts,event,tenant,agent\nyesterday,login,globex,b\n\"open,login,globex,b\n",
    )
    .unwrap();
    let (sink, _) = run(&mut collector(dir.path()), None);
    let mut got: Vec<_> = sink
        .rejects()
        .iter()
        .map(|r| (r.source.clone(), r.line, r.tenant.clone()))
        .collect();
    got.sort();
    let t = |s: &str| Some(s.to_string());
    assert_eq!(
        got,
        [
            ("a.jsonl".into(), 1, t("acme")),
            ("a.jsonl".into(), 2, None), // a name the store refuses is no tenant's
            ("a.jsonl".into(), 3, None),
            ("b.csv".into(), 2, t("globex")),
            ("b.csv".into(), 3, None), // fields cannot be told apart
        ]
    );
}

#[test]
fn csv_with_header_lists_and_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let body = "\u{feff}ts,event,tenant,agent,place,groups,media\r\n\
        2026-10-25T00:30:00Z,login,acme,x,\"desk, 4\",Sales;Support,voice;email\r\n\
        2026-10-25T00:40:00Z,login,acme,y,,,,extra,more\r\n\
        2026-10-25T00:50:00Z,logout,acme,x,,,\r\n";
    std::fs::write(dir.path().join("e.csv"), body).unwrap();
    let (sink, _) = run(&mut collector(dir.path()), None);
    let b = &sink.batches[0];
    assert_eq!(b.events.len(), 2);
    assert_eq!(b.string(b.events[0].place), "desk, 4");
    assert_eq!(b.list(b.events[0].groups).len(), 2);
    assert_eq!(b.list(b.events[0].media).len(), 2);
    let rejects = sink.rejects();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 3);
    assert_eq!(
        rejects[0].reason,
        "expected 7 fields as in the header, found 9"
    );
}

#[test]
fn csv_header_without_required_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("e.csv"),
        "when,what\n2026-10-25T00:30:00Z,login\n",
    )
    .unwrap();
    let (sink, _) = run(&mut collector(dir.path()), None);
    let rejects = sink.rejects();
    assert!(
        rejects[0]
            .reason
            .contains("lacks column(s) ts, event, agent"),
        "{rejects:?}"
    );
    assert_eq!(rejects.len(), 2);
    assert!(sink.events().is_empty());
}

#[test]
fn unterminated_last_line_waits_unless_complete() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    // A half-written JSON line waits for the rest.
    std::fs::write(&p, format!("{L1}\n{}", &L2[..20])).unwrap();
    let mut c = collector(dir.path());
    let (sink, summary) = run(&mut c, None);
    assert_eq!(sink.events().len(), 1);
    assert!(sink.rejects().is_empty());
    assert!(summary.notes[0].contains("a.jsonl:2: the last line has no newline yet"));
    // Completed (still without a newline): read.
    std::fs::write(&p, format!("{L1}\n{L2}")).unwrap();
    let (sink2, _) = run(&mut c, sink.cursor.as_deref());
    assert_eq!(sink2.events().len(), 1);
    assert_eq!(sink2.events()[0].1, "logout");
}

#[test]
fn csv_last_line_waits_for_settle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("e.csv"),
        "ts,event,tenant,agent,place,groups,media\n2026-10-25T00:30:00Z,login,acme,x,,,voice",
    )
    .unwrap();
    let (sink, summary) = run(&mut collector(dir.path()), None);
    assert!(sink.events().is_empty());
    assert_eq!(summary.notes.len(), 1);
    let mut settled = collector(dir.path());
    settled.config.settle = HumanDuration(Duration::ZERO);
    let (sink, _) = run(&mut settled, None);
    assert_eq!(sink.events().len(), 1);
}

#[test]
fn a_csv_header_being_written_is_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.csv");
    std::fs::write(&p, "ts,event,ten").unwrap();
    let mut c = collector(dir.path());
    let (sink, summary) = run(&mut c, None);
    assert!(sink.rejects().is_empty(), "{:?}", sink.rejects());
    assert!(summary.notes[0].contains("e.csv:1: the CSV header has no newline yet"));
    std::fs::write(
        &p,
        "ts,event,tenant,agent,place,groups,media\n2026-10-25T00:30:00Z,login,acme,x,,,voice\n",
    )
    .unwrap();
    let (sink, _) = run(&mut c, sink.cursor.as_deref());
    assert_eq!(sink.events().len(), 1);
    assert!(sink.rejects().is_empty());
}

#[test]
fn replaced_file_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    std::fs::write(&p, format!("{L1}\n{L2}\n")).unwrap();
    let mut c = collector(dir.path());
    let (sink, _) = run(&mut c, None);
    std::fs::write(&p, format!("{L2}\n")).unwrap();
    let (sink2, summary) = run(&mut c, sink.cursor.as_deref());
    assert_eq!(sink2.events().len(), 1);
    assert!(summary.notes[0].contains("replaced or truncated"));
}

#[test]
fn large_files_are_delivered_in_bounded_batches_with_progressing_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::new();
    let mut c = collector(dir.path());
    c.batch_events = 1000;
    let n = 250_000;
    for i in 0..n {
        body.push_str(&format!(
            "{{\"ts\":\"2026-10-25T00:30:00Z\",\"event\":\"login\",\"agent\":\"a{i}\"}}\n"
        ));
    }
    std::fs::write(dir.path().join("big.jsonl"), &body).unwrap();
    let (sink, _) = run(&mut c, None);
    // One batch per block read at most, each with its cursor.
    assert!(sink.batches.len() >= 2, "{}", sink.batches.len());
    assert!(
        sink.batches
            .iter()
            .all(|b| b.events.len() <= READ_BLOCK / 40)
    );
    assert_eq!(sink.events().len(), n);
    let cur: Cursor = serde_json::from_str(sink.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cur.files["big.jsonl"].offset, body.len() as u64);
    assert_eq!(cur.files["big.jsonl"].line, n as u64);
}

#[test]
fn csv_record_splitting() {
    let r = split_csv_record("a,\"b,\"\"c\"\"\",,d,é").unwrap();
    let r: Vec<&str> = r.iter().map(|f| f.as_ref()).collect();
    assert_eq!(r, ["a", "b,\"c\"", "", "d", "é"]);
    assert!(split_csv_record("a,\"b").is_none());
    assert!(split_csv_record("\"a\"b").is_none());
}

const CSV_HEAD: &str = "ts,event,tenant,agent,place,groups,media\n";

fn settled_now(dir: &Path) -> SpoolCollector {
    let mut c = collector(dir);
    c.config.settle = HumanDuration(Duration::ZERO);
    c
}

fn age(path: &Path, by: Duration) {
    let f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - by).unwrap();
}

/// Issue 12 #10: a line cut inside a UTF-8 character was taken as complete, both halves
/// kept aside, the event lost.
#[test]
fn a_last_line_cut_inside_a_character_waits_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    let line = r#"{"ts":"2026-10-25T00:30:00Z","event":"login","tenant":"acme","agent":"Jürgen"}"#;
    let cut = line.find('ü').unwrap() + 1; // the first byte of 'ü' only
    std::fs::write(&p, &line.as_bytes()[..cut]).unwrap();
    for mut c in [collector(dir.path()), settled_now(dir.path())] {
        let (sink, summary) = run(&mut c, None);
        assert!(sink.events().is_empty() && sink.rejects().is_empty());
        assert!(summary.notes[0].contains("a.jsonl:1: the last line has no newline yet"));
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(&line.as_bytes()[cut..]).unwrap();
    f.write_all(b"\n").unwrap();
    let (sink, _) = run(&mut settled_now(dir.path()), None);
    assert_eq!(sink.events().len(), 1);
    assert_eq!(sink.events()[0].3, "Jürgen");
    assert!(sink.rejects().is_empty());
}

/// Issue 12 #10: a CSV writer that paused longer than `settle` mid-line had both halves
/// of its line kept aside.
#[test]
fn a_csv_line_paused_mid_line_past_settle_waits_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.csv");
    let whole = "2026-10-25T00:30:00Z,login,acme,x,,\"G1;G2\",voice";
    for cut in ["2026-10-25T00:30:00Z,login,ac", "2026-10-25T00:30:00Z,login,acme,x,,\"G1;"] {
        std::fs::write(&p, format!("{CSV_HEAD}{cut}")).unwrap();
        let mut c = settled_now(dir.path());
        let (sink, summary) = run(&mut c, None);
        assert!(sink.events().is_empty(), "{cut}");
        assert!(sink.rejects().is_empty(), "{cut}: {:?}", sink.rejects());
        assert!(summary.notes[0].contains("e.csv:2: the last line has no newline yet"));
        // The rest comes: one event, nothing kept aside.
        std::fs::write(&p, format!("{CSV_HEAD}{whole}\n")).unwrap();
        let (more, _) = run(&mut c, sink.cursor.as_deref());
        assert_eq!(more.events().len(), 1, "{cut}");
        assert!(more.rejects().is_empty());
    }
}

/// A bad last line without its newline in a file nobody writes any more is kept aside,
/// not waited for for ever.
#[test]
fn a_bad_last_line_of_an_abandoned_file_is_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.csv");
    std::fs::write(&p, format!("{CSV_HEAD}2026-10-25T00:30:00Z,login,ac")).unwrap();
    age(&p, Duration::from_secs(2 * 24 * 3600));
    let (sink, _) = run(&mut settled_now(dir.path()), None);
    let rejects = sink.rejects();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].line, 2);
}

/// Issue 12 (low): after a last line read without its newline, the newline that follows
/// made every later rejected line's number one too high.
#[test]
fn line_numbers_stay_true_after_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    std::fs::write(&p, L1).unwrap();
    let mut c = collector(dir.path());
    let (sink, _) = run(&mut c, None);
    assert_eq!(sink.events().len(), 1, "a complete JSON object is read at once");
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    write!(f, "\nnot json\n{L2}\n").unwrap();
    let (more, _) = run(&mut c, sink.cursor.as_deref());
    assert_eq!(more.events().len(), 1);
    let rejects = more.rejects();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 2, "'not json' is the file's second line");
    // CRLF files too.
    let q = dir.path().join("b.jsonl");
    std::fs::write(&q, L1).unwrap();
    let (sink, _) = run(&mut c, None);
    let mut f = std::fs::OpenOptions::new().append(true).open(&q).unwrap();
    write!(f, "\r\nnot json\r\n").unwrap();
    let (more, _) = run(&mut c, sink.cursor.as_deref());
    let b: Vec<_> = more.rejects().into_iter().filter(|r| r.source == "b.jsonl").collect();
    assert_eq!(b[0].line, 2);
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_followed_once_and_broken_ones_named() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("real.jsonl"), format!("{L1}\n")).unwrap();
    std::fs::write(dir.path().join("a.jsonl"), format!("{L2}\n")).unwrap();
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap()
    };
    link(&outside.path().join("real.jsonl"), "linked.jsonl");
    link(&dir.path().join("a.jsonl"), "also-a.jsonl");
    link(&dir.path().join("gone.jsonl"), "broken.jsonl");
    let (sink, summary) = run(&mut collector(dir.path()), None);
    let kinds: Vec<_> = sink.events().iter().map(|e| e.1).collect();
    assert_eq!(kinds, ["logout", "login"], "a.jsonl, then linked.jsonl; a.jsonl once");
    let notes = summary.notes.join("\n");
    assert!(notes.contains("also-a.jsonl is a link to a.jsonl"), "{notes}");
    assert!(notes.contains("broken.jsonl is a link to nothing"), "{notes}");
}

#[test]
fn a_spool_path_that_is_a_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.jsonl");
    std::fs::write(&p, format!("{L1}\n")).unwrap();
    let mut c = collector(&p);
    let err = AnyCollector::collect(&mut c, None, &mut VecSink::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a file, not a folder"), "{err}");
    assert!(crate::folder_warnings(&p)[0].contains("is a file, not a folder"));
}

/// Spool lines fuzzed (docs/TESTING.md, "Fuzzing"): a JSON line or CSV record mutated from
/// real ones is an event or a reason, never a panic; a line kept aside reads its tenant
/// without a panic too.
#[test]
fn fuzzed_spool_lines_never_panic() {
    use super::line::{Columns, push_csv, push_json, tenant_of};
    let json = br#"{"ts":"2026-10-25T00:30:00Z","event":"login","tenant":"acme","agent":"a1","place":"desk 4","groups":["Sales","Support"],"media":["voice","email"]}"#;
    let csv = b"2026-10-25T00:30:00Z,login,acme,x,\"desk, 4\",Sales;Support,voice;email";
    let cols = Columns {
        idx: [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)],
        count: 7,
    };
    let mut m = seatmeter_core::testing::Mutator::new(seatmeter_core::testing::fuzz_seed());
    let n = seatmeter_core::testing::fuzz_iterations(4000);
    let (mut events, mut kept) = (0, 0);
    for i in 0..n {
        let seed: &[u8] = if i % 2 == 0 { json } else { csv };
        let bytes = m.mutate(seed);
        let text = String::from_utf8_lossy(&bytes);
        let mut batch = Batch::default();
        let columns = (i % 2 == 1).then_some(cols);
        let result = match columns {
            None => push_json(&mut batch, &text),
            Some(c) => push_csv(&mut batch, &text, c),
        };
        match result {
            Ok(()) => events += 1,
            Err(reason) => {
                assert!(!reason.is_empty(), "iteration {i}: {text:?}");
                let _ = tenant_of(&text, columns);
                kept += 1;
            }
        }
    }
    assert!(events > 0 && kept > 0, "{events} events, {kept} kept aside");
}
