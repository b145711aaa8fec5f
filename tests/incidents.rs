//! Real incidents as regression tests: every folder under `tests/incidents/` holds what a
//! public thread showed (`material/`, verbatim), where it came from (`SOURCE.md`) and what
//! kvtriage must conclude (`expect.toml`). Each case runs through the binary on its folder,
//! as a user would. A case marked `known-gap` is still run and shown; it fails the suite
//! only if it starts passing (so the mark is removed). `tests/incidents/README.md` holds the
//! table of cases; `KVTRIAGE_BLESS_INCIDENTS=1 cargo test --test incidents` rewrites it, and
//! the test fails when it is out of date.

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Expect {
    system: String,
    category: String,
    trap: bool,
    #[serde(default)]
    must_fire: Vec<MustFire>,
    #[serde(default)]
    must_not_fire: Vec<String>,
    /// No finding may be more severe than this (traps: at most `info`).
    #[serde(default)]
    max_severity: Option<String>,
    /// Words that must appear in some finding's remediation (text or command).
    #[serde(default)]
    remediation_words: Vec<String>,
    /// Why this case cannot pass yet.
    #[serde(default)]
    known_gap: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MustFire {
    rule: String,
    min_severity: String,
    #[serde(default)]
    stores: Vec<u64>,
    #[serde(default)]
    regions: Vec<u64>,
    #[serde(default)]
    nodes: Vec<String>,
    #[serde(default)]
    ranges: Vec<u64>,
}

fn rank(severity: &str) -> u8 {
    match severity {
        "info" => 1,
        "warning" => 2,
        "critical" => 3,
        other => panic!("unknown severity {other:?}"),
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    expect: Expect,
    url: String,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/incidents");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(dir.join("expect.toml"))
                .unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
            let expect: Expect =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
            let source = std::fs::read_to_string(dir.join("SOURCE.md"))
                .unwrap_or_else(|e| panic!("{name}/SOURCE.md: {e}"));
            let url = source
                .lines()
                .find_map(|l| l.trim_start_matches("- ").strip_prefix("URL:"))
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or_else(|| panic!("{name}/SOURCE.md names no URL"))
                .to_string();
            assert!(dir.join("material").is_dir(), "{name}: no material/ folder");
            Case {
                name,
                dir,
                expect,
                url,
            }
        })
        .collect()
}

/// The binary under test; `KVTRIAGE_INCIDENTS_BIN` runs the corpus against another build (an
/// older release, for a before/after count).
fn binary() -> Command {
    match std::env::var_os("KVTRIAGE_INCIDENTS_BIN") {
        Some(b) => Command::new(b),
        None => Command::cargo_bin("kvtriage").unwrap(),
    }
}

fn analyze(dir: &Path) -> Value {
    let out = binary()
        .args(["analyze", "--format", "json"])
        .arg(dir.join("material"))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: no JSON report ({e}); exit {:?}, stderr: {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with a report against its expectation; empty when the case passes.
fn judge(e: &Expect, report: &Value) -> Vec<String> {
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let mut why = Vec::new();
    for m in &e.must_fire {
        let fired: Vec<&Value> = findings.iter().filter(|f| f["rule"] == m.rule).collect();
        if fired.is_empty() {
            why.push(format!("{} did not fire", m.rule));
            continue;
        }
        let sev = fired
            .iter()
            .filter_map(|f| f["severity"].as_str())
            .map(rank)
            .max()
            .unwrap_or(0);
        if sev < rank(&m.min_severity) {
            why.push(format!("{} fired below {}", m.rule, m.min_severity));
        }
        let ents = |key: &str| -> Vec<Value> {
            fired
                .iter()
                .flat_map(|f| f["entities"][key].as_array().cloned().unwrap_or_default())
                .collect()
        };
        let have = |key: &str| u64s(&Value::Array(ents(key)));
        for (key, want) in [
            ("stores", &m.stores),
            ("regions", &m.regions),
            ("ranges", &m.ranges),
        ] {
            let got = have(key);
            let missing: Vec<&u64> = want.iter().filter(|w| !got.contains(w)).collect();
            if !missing.is_empty() {
                why.push(format!(
                    "{} does not name {key} {missing:?} (has {got:?})",
                    m.rule
                ));
            }
        }
        let nodes = strs(&Value::Array(ents("nodes")));
        let missing: Vec<&String> = m.nodes.iter().filter(|w| !nodes.contains(w)).collect();
        if !missing.is_empty() {
            why.push(format!(
                "{} does not name nodes {missing:?} (has {nodes:?})",
                m.rule
            ));
        }
    }
    for r in &e.must_not_fire {
        if findings.iter().any(|f| f["rule"] == r.as_str()) {
            why.push(format!("{r} fired but must not"));
        }
    }
    if let Some(max) = &e.max_severity {
        for f in &findings {
            let s = f["severity"].as_str().unwrap_or("info");
            if rank(s) > rank(max) {
                why.push(format!("{} is {s}, above {max}", f["rule"]));
            }
        }
    }
    let remediation: String = findings
        .iter()
        .flat_map(|f| f["remediation"].as_array().cloned().unwrap_or_default())
        .map(|s| format!("{} {}", s["text"], s["command"]))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for w in &e.remediation_words {
        if !remediation.contains(&w.to_lowercase()) {
            why.push(format!("no remediation says {w:?}"));
        }
    }
    why
}

/// The README table, in folder order.
fn table(rows: &[(&Case, String)]) -> String {
    let mut s = String::from(
        "| case | system | category | trap | source | status |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for (c, status) in rows {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.name,
            c.expect.system,
            c.expect.category,
            if c.expect.trap { "yes" } else { "no" },
            c.url,
            status
        ));
    }
    s
}

const TABLE_START: &str = "<!-- cases: generated by tests/incidents.rs -->\n";
const TABLE_END: &str = "<!-- end of cases -->\n";

#[test]
fn every_incident_reaches_its_conclusion() {
    let cases = cases();
    let mut rows = Vec::new();
    let mut unexpected = Vec::new();
    let (mut pass, mut gap, mut traps) = (0, 0, 0);
    for c in &cases {
        traps += usize::from(c.expect.trap);
        let report = analyze(&c.dir);
        let why = judge(&c.expect, &report);
        let status = match (&c.expect.known_gap, why.is_empty()) {
            (None, true) => {
                pass += 1;
                "pass".to_string()
            }
            (None, false) => {
                unexpected.push(format!("{}: {}", c.name, why.join("; ")));
                format!("FAIL: {}", why.join("; "))
            }
            (Some(reason), false) => {
                gap += 1;
                println!("known-gap {}: {} ({})", c.name, why.join("; "), reason);
                format!("known gap: {reason}")
            }
            (Some(_), true) => {
                unexpected.push(format!("{}: passes now, remove its known-gap mark", c.name));
                "pass (still marked known-gap)".to_string()
            }
        };
        println!("{:<60} {}", c.name, status);
        rows.push((c, status));
    }
    println!(
        "{} cases ({traps} traps): {pass} pass, {gap} known gap(s), {} unexpected",
        cases.len(),
        unexpected.len()
    );
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/incidents/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_default();
    let summary = format!(
        "{} cases, {traps} traps: {pass} pass, {gap} known gap(s).\n",
        cases.len()
    );
    let generated = format!("{TABLE_START}{}\n{summary}{TABLE_END}", table(&rows));
    let current = match (readme.find(TABLE_START), readme.find(TABLE_END)) {
        (Some(a), Some(b)) if a < b => Some(&readme[a..b + TABLE_END.len()]),
        _ => None,
    };
    if std::env::var_os("KVTRIAGE_INCIDENTS_BIN").is_some() {
        // Another build's count only.
    } else if std::env::var_os("KVTRIAGE_BLESS_INCIDENTS").is_some() {
        let updated = match current {
            Some(old) => readme.replace(old, &generated),
            None => format!("{readme}\n{generated}"),
        };
        std::fs::write(&readme_path, updated).unwrap();
    } else if unexpected.is_empty() {
        assert_eq!(
            current,
            Some(generated.as_str()),
            "tests/incidents/README.md is out of date: run KVTRIAGE_BLESS_INCIDENTS=1 cargo test --test incidents"
        );
    }
    assert!(cases.len() >= 30, "only {} incident cases", cases.len());
    assert!(traps >= 10, "only {traps} traps");
    assert!(
        unexpected.is_empty(),
        "{} case(s) failed:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
