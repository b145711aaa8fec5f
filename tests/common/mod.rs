//! Helpers shared by the integration tests: reading findings out of a JSON report, checking
//! how inputs are listed.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;

/// The findings of one rule.
pub fn findings<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// A JSON array of numbers (entity ids).
pub fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// A finding's evidence as (path, line).
pub fn evidence(f: &Value) -> Vec<(String, u64)> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A finding's remediation commands.
pub fn commands(f: &Value) -> Vec<String> {
    f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["command"].as_str().map(str::to_string))
        .collect()
}

/// A sample file, the kind it is read as, its status and records, and a word its `partial`
/// note holds (`None`: the copy is whole and the report has no `partial`).
pub struct Shape {
    pub file: &'static str,
    pub kind: &'static str,
    pub status: &'static str,
    pub records: u64,
    pub partial: Option<&'static str>,
}

/// A parsed sample.
pub const fn shape(
    file: &'static str,
    kind: &'static str,
    records: u64,
    partial: Option<&'static str>,
) -> Shape {
    Shape {
        file,
        kind,
        status: "parsed",
        records,
        partial,
    }
}

/// What differs between a report's `inputs` and the shapes it should list, one line each.
pub fn listing_mismatches(v: &Value, shapes: &[Shape]) -> Vec<String> {
    let inputs = v["inputs"].as_array().cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    if inputs.len() != shapes.len() {
        wrong.push(format!("{} inputs, {} samples", inputs.len(), shapes.len()));
    }
    for s in shapes {
        if let Err(e) = check_input(&inputs, s.file, (s.kind, s.status, s.records, s.partial)) {
            wrong.push(e);
        }
    }
    wrong
}

/// `kvtriage analyze --format json --fail-on never <args>` as JSON (the run must succeed).
pub fn analyze_json(args: &[&std::ffi::OsStr]) -> Value {
    let out = assert_cmd::Command::cargo_bin("kvtriage")
        .expect("the binary")
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .args(args)
        .output()
        .expect("it runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The input of a report named `file` (its path, or a path ending in `/file`) when it has the wanted kind, status,
/// records and `partial` (holding the word, or absent for `None`); else what it has instead.
pub fn check_input<'a>(
    inputs: &'a [Value],
    file: &str,
    (kind, status, records, partial): (&str, &str, u64, Option<&str>),
) -> Result<&'a Value, String> {
    let Some(i) = inputs.iter().find(|i| {
        i["path"]
            .as_str()
            .is_some_and(|p| p == file || p.ends_with(&format!("/{file}")))
    }) else {
        return Err(format!("{file}: not listed"));
    };
    let got = i["partial"].as_str();
    let ok = i["kind"] == kind
        && i["status"] == status
        && i["records"].as_u64() == Some(records)
        && match partial {
            None => got.is_none(),
            Some(w) => got.is_some_and(|p| p.contains(w)),
        };
    if ok {
        return Ok(i);
    }
    Err(format!(
        "{file}: got kind {} status {} records {} partial {got:?} (reason {:?}); want {kind} {status} {records} {partial:?}",
        i["kind"],
        i["status"],
        i["records"],
        i["reason"].as_str(),
    ))
}
