//! The shape of the code, checked (docs/ARCHITECTURE.md): dependencies point one way,
//! between crates and between the stages of `src/`; no module loop in any crate; no file
//! over 800 lines; no function over 120 lines without a reason written beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A file's text up to its tests (they sit at the end of a file by convention).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        // Comments name modules without using them.
        if line.trim_start().starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules of `crate::` that a text uses.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The top-level module a file of a crate's `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.iter().next().unwrap().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Module -> the modules it uses, for one crate (`lib.rs` and `main.rs` left out: they
/// only declare).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in sources(src) {
        let m = module_of(src, &f);
        if m == "lib" || m == "main" {
            continue;
        }
        let refs = crate_refs(&code(&f));
        let entry = graph.entry(m.clone()).or_default();
        entry.extend(refs.into_iter().filter(|r| *r != m));
    }
    graph
}

/// A loop of modules, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            return Some(path[i..].to_vec());
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for n in g.get(m).into_iter().flatten() {
            if g.contains_key(n)
                && let Some(l) = visit(g, n, path, done)
            {
                return Some(l);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(l) = visit(graph, m, &mut Vec::new(), &mut done) {
            return Some(l);
        }
    }
    None
}

const CRATES: [&str; 8] = [
    ".",
    "core",
    "collectors",
    "reports",
    "store",
    "finops",
    "guard",
    "alerts",
];

#[test]
fn no_module_loop_in_any_crate() {
    for c in CRATES {
        let src = root().join(c).join("src");
        let graph = module_graph(&src);
        assert!(!graph.is_empty(), "{c}: no modules read");
        assert_eq!(find_loop(&graph), None, "a module loop in {c}");
    }
    // The checker sees a loop when there is one.
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert!(find_loop(&g).is_some());
}

/// The stages of `src/` in pipeline order: each may use those before it, never one after
/// it nor one of its own level. A new module must be given its place here.
const STAGES: &[&[&str]] = &[
    &["dev", "entitlement"],
    &["config"],
    &["collect", "rollup"],
    &["report"],
    &["export", "finops", "guard"],
    &["service"],
];

#[test]
fn the_stages_of_src_use_only_earlier_stages() {
    let src = root().join("src");
    let level = |m: &str| STAGES.iter().position(|s| s.contains(&m));
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(level(m).is_some(), "src/{m} has no place in STAGES");
        }
    }
    for (m, uses) in module_graph(&src) {
        if m == "cmd" {
            continue; // the binary's: it may use every stage
        }
        let l = level(&m).unwrap_or_else(|| panic!("src/{m} has no place in STAGES"));
        for u in uses {
            let ul = level(&u).unwrap_or_else(|| panic!("src/{m} uses crate::{u}"));
            assert!(
                ul < l,
                "src/{m} (stage {l}) uses crate::{u} (stage {ul}): dependencies point down the pipeline"
            );
        }
    }
    // The library never names the commands (they are the binary's).
    for f in sources(&src) {
        let rel = f.strip_prefix(&src).unwrap();
        if rel.starts_with("cmd") || rel == Path::new("main.rs") {
            continue;
        }
        assert!(!code(&f).contains("cmd::"), "{} uses cmd", f.display());
    }
}

/// The crates' dependencies on each other, as their manifests state them.
fn seatmeter_deps(krate: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(krate).join("Cargo.toml")).unwrap();
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some(name) = line.strip_prefix("seatmeter-") {
            out.insert(name.split([' ', '=', '.']).next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn crates_depend_downwards_only() {
    let want: [(&str, &[&str]); 8] = [
        ("core", &[]),
        ("collectors", &["core"]),
        ("reports", &["core"]),
        ("store", &["collectors", "core"]),
        ("finops", &["core"]),
        ("guard", &["core"]),
        ("alerts", &[]),
        (
            ".",
            &[
                "alerts",
                "collectors",
                "core",
                "finops",
                "guard",
                "reports",
                "store",
            ],
        ),
    ];
    for (krate, deps) in want {
        let got = seatmeter_deps(krate);
        let deps: BTreeSet<String> = deps.iter().map(|d| d.to_string()).collect();
        assert_eq!(got, deps, "the seatmeter crates {krate} depends on");
    }
}

/// Functions of a file longer than `limit` lines, with no reason written in the comment
/// lines just above them ("long because …").
fn long_functions(text: &str, limit: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let sig = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .find_map(|p| t.strip_prefix(p));
        let Some(sig) = sig else { continue };
        let indent = l.len() - t.len();
        let name: String = sig
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The body ends at the first line with the same indent that closes it.
        let close = " ".repeat(indent) + "}";
        let Some(end) = lines[i + 1..]
            .iter()
            .position(|x| x.trim_end() == close)
            .map(|e| i + 1 + e)
        else {
            continue;
        };
        if lines[i].trim_end().ends_with(';') {
            continue;
        }
        let n = end - i + 1;
        let reason = lines[..i]
            .iter()
            .rev()
            .take_while(|x| x.trim_start().starts_with("//") || x.trim_start().starts_with("#["))
            .any(|x| x.to_ascii_lowercase().contains("long because"));
        if n > limit && !reason {
            out.push((i + 1, name, n));
        }
    }
    out
}

#[test]
fn files_and_functions_stay_readable() {
    let mut too_long = Vec::new();
    let mut too_big = Vec::new();
    for c in CRATES {
        for f in sources(&root().join(c).join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            let n = text.lines().count();
            if n > 800 {
                too_big.push(format!("{} ({n} lines)", f.display()));
            }
            for (line, name, len) in long_functions(&text, 120) {
                too_long.push(format!("{}:{line} {name} ({len} lines)", f.display()));
            }
        }
    }
    assert!(too_big.is_empty(), "files over 800 lines: {too_big:#?}");
    assert!(
        too_long.is_empty(),
        "functions over 120 lines without a reason (\"long because …\") above them: {too_long:#?}"
    );
    // The checker finds a long function.
    let long = format!("fn f() {{\n{}}}\n", "    x();\n".repeat(130));
    assert_eq!(long_functions(&long, 120).len(), 1);
    let excused = format!("// Long because: a table.\n{long}");
    assert!(long_functions(&excused, 120).is_empty());
}
