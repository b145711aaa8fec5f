//! The layering of DESIGN: every import points down toward `model/`. This test reads every
//! `crate::` path in `src/` (in `use` lines and inline) and fails on an arrow the table
//! below forbids or on a circle between top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's own top-level modules may use these (the pipeline, `lib`, may use all).
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("source", &["model"]),
    ("parse", &["model"]),
    ("rules", &["model"]),
    ("report", &["model"]),
    // The command line drives the library: its entry points and the public rule, report
    // and model APIs (catalogue, rule tests, output formats), never a parser or a source.
    ("cli", &["lib", "model", "rules", "report"]),
    ("synth", &["model"]),
    ("lib", &["*"]),
];

/// The top-level module a file under `src/` belongs to; `lib.rs` and the files it declares
/// as private pipeline parts (`ingest.rs`) are `lib`.
fn layer_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    match first.strip_suffix(".rs") {
        Some("lib" | "ingest" | "main") => "lib".into(),
        Some(m) => m.into(),
        None => first,
    }
}

/// Strips comments and string literals so that a `crate::` in a doc line or a message does
/// not count.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                }
                prev = if prev == '\\' && c == '\\' { ' ' } else { c };
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            // A quote as a char literal ('"' or '\"') opens no string.
            if c == '\'' {
                let ahead: String = chars.clone().take(3).collect();
                if ahead.starts_with("\"'") || ahead.starts_with("\\\"'") {
                    for _ in 0..ahead.find('\'').unwrap_or(0) + 1 {
                        chars.next();
                    }
                    continue;
                }
            }
            if c == '"' {
                in_str = true;
                prev = ' ';
                continue;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// The top-level modules a piece of code names through `crate::`, including the ones in a
/// grouped `use crate::{a::X, b::{Y, Z}}`. An item of `lib.rs` itself counts as `lib`.
fn targets(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let name = |s: &str| -> String {
        let word: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&word) {
            word
        } else {
            "lib".into()
        }
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Items at brace depth 1.
            let mut depth = 1;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        start = true;
                        continue;
                    }
                    c if c.is_whitespace() => continue,
                    _ => {}
                }
                if start && depth == 1 && (c.is_alphanumeric() || c == '_') {
                    out.insert(name(&group[i..]));
                }
                start = false;
            }
        } else {
            out.insert(name(rest));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every forbidden arrow and circle in the crate rooted at `src`, as messages.
fn violations(src: &Path, table: &[(&str, &[&str])]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(src).ok())
        .map(layer_of)
        .filter(|m| m != "lib")
        .collect();
    let allowed: BTreeMap<&str, &[&str]> = table.iter().copied().collect();
    let mut problems = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Ok(rel) = f.strip_prefix(src) else {
            continue;
        };
        let from = layer_of(rel);
        let Ok(text) = std::fs::read_to_string(f) else {
            problems.push(format!("{}: unreadable", rel.display()));
            continue;
        };
        for to in targets(&code_of(&text), &modules) {
            if to == from {
                continue;
            }
            graph.entry(from.clone()).or_default().insert(to.clone());
            match allowed.get(from.as_str()) {
                None => problems.push(format!(
                    "{}: module `{from}` is not in the layering table",
                    rel.display()
                )),
                Some(ok) if ok.contains(&"*") || ok.contains(&to.as_str()) => {}
                Some(_) => {
                    problems.push(format!("{}: `{from}` may not import `{to}`", rel.display()))
                }
            }
        }
    }
    // A circle between top-level modules, found by depth-first search.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut circle = path[at..].to_vec();
            circle.push(n.to_string());
            problems.push(format!("import circle: {}", circle.join(" -> ")));
            return;
        }
        if !done.insert(n.to_string()) {
            return;
        }
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            visit(m, graph, path, done, problems);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done, &mut problems);
    }
    problems
}

#[test]
fn imports_point_toward_the_model() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&src, ALLOWED);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check itself: a copy of the crate with one forbidden import added must fail, for
/// each kind of arrow the table forbids, and a circle must be named.
#[test]
fn a_forbidden_import_is_caught() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let cases = [
        (
            "model/ids.rs",
            "use crate::parse::scan::LogFormat;\n",
            "`model` may not import `parse`",
        ),
        (
            "parse/scan.rs",
            "use crate::rules::RuleSet;\n",
            "`parse` may not import `rules`",
        ),
        (
            "report/json.rs",
            "use crate::source::Source;\n",
            "`report` may not import `source`",
        ),
        (
            "report/table.rs",
            "fn f() { crate::parse::time::parse_user_time(\"\"); }\n",
            "`report` may not import `parse`",
        ),
        (
            "rules/mod.rs",
            "use crate::{model::Kind, parse::input::Parsed};\n",
            "`rules` may not import `parse`",
        ),
        (
            "cli/mod.rs",
            "use crate::source::archive::Limits as L;\n",
            "`cli` may not import `source`",
        ),
        (
            "source/mod.rs",
            "use crate::report::Format;\n",
            "`source` may not import `report`",
        ),
    ];
    for (file, line, want) in cases {
        let dir = tempdir();
        copy_tree(&src, &dir);
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{line}{text}")).unwrap();
        let problems = violations(&dir, ALLOWED);
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{file} with {line:?}: expected {want:?}, got {problems:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    // A circle is named even where a (wrong) table would allow each of its arrows.
    let dir = tempdir();
    copy_tree(&src, &dir);
    let path = dir.join("model/ids.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("use crate::source::Source;\n{text}")).unwrap();
    let loose: Vec<(&str, &[&str])> = ALLOWED
        .iter()
        .map(|&(m, ok)| {
            if m == "model" {
                (m, &["source"][..])
            } else {
                (m, ok)
            }
        })
        .collect();
    let problems = violations(&dir, &loose);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("import circle: model -> source -> model")
                || p.contains("import circle: source -> model -> source")),
        "{problems:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Mentions in comments and strings are not imports.
    let dir = tempdir();
    copy_tree(&src, &dir);
    let path = dir.join("model/ids.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("// crate::parse::x\nconst _S: &str = \"crate::rules::y\";\n{text}"),
    )
    .unwrap();
    assert!(violations(&dir, ALLOWED).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "kvtriage-arch-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_tree(from: &Path, to: &Path) {
    let mut files = Vec::new();
    rust_files(from, &mut files);
    for f in files {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}
