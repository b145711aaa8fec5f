//! The JSON report against its shipped schema, `docs/report.schema.json`: the real output of
//! every fixture bundle and every incident (`--format json`, with and without `--coverage`,
//! and each `--format jsonl` line against the finding definition) must validate, and
//! reports broken in the ways the contract forbids must not.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::PathBuf;

fn schema() -> Value {
    let text = std::fs::read_to_string("docs/report.schema.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).unwrap_or_else(|e| panic!("schema: {e}"))
}

fn problems(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every bundle the repository ships: `fixtures/*` and `tests/incidents/*`.
fn bundles() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for root in ["fixtures", "tests/incidents"] {
        for e in std::fs::read_dir(root).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

fn analyze(args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .arg("analyze")
        .args(args)
        .output()
        .unwrap();
    // Exit 2 (nothing analysed) still prints a report; a signal or a panic does not.
    assert!(
        matches!(out.status.code(), Some(0..=3)) && !out.stderr.starts_with(b"thread"),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn every_fixture_report_validates() {
    let s = schema();
    let v = validator(&s);
    let bundles = bundles();
    assert!(bundles.len() >= 20, "{} bundles", bundles.len());
    let (mut reports, mut findings) = (0, 0);
    for b in &bundles {
        let p = b.to_str().unwrap();
        for extra in [&[][..], &["--coverage"][..]] {
            let mut args = vec![p, "--format", "json"];
            args.extend_from_slice(extra);
            let r: Value = serde_json::from_slice(&analyze(&args)).unwrap();
            let bad = problems(&v, &r);
            assert!(bad.is_empty(), "{p} {extra:?}:\n{}", bad.join("\n"));
            reports += 1;
            findings += r["findings"].as_array().unwrap().len();
        }
    }
    assert!(
        findings > 50,
        "{reports} reports hold only {findings} findings"
    );
}

#[test]
fn every_jsonl_line_is_a_finding_of_the_schema() {
    let mut s = schema();
    // The finding definition, with the whole schema's $defs for its references.
    let defs = s["$defs"].take();
    let finding = json!({"$ref": "#/$defs/finding", "$defs": defs});
    let v = validator(&finding);
    let mut lines = 0;
    for b in bundles() {
        let out = analyze(&[b.to_str().unwrap(), "--format", "jsonl"]);
        for l in String::from_utf8(out).unwrap().lines() {
            let f: Value = serde_json::from_str(l).unwrap();
            let bad = problems(&v, &f);
            assert!(bad.is_empty(), "{}: {l}\n{}", b.display(), bad.join("\n"));
            lines += 1;
        }
    }
    assert!(lines > 20, "{lines} lines");
}

#[test]
fn broken_reports_are_rejected_and_added_fields_are_not() {
    let s = schema();
    let v = validator(&s);
    let good: Value =
        serde_json::from_slice(&analyze(&["fixtures/scale-in-stuck", "--format", "json"])).unwrap();
    assert!(problems(&v, &good).is_empty());
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut r = good.clone();
        f(&mut r);
        r
    };
    let broken: Vec<(&str, Value)> = vec![
        (
            "schema string",
            mutate(&|r| r["schema"] = json!("kvtriage.report/v2")),
        ),
        (
            "severity",
            mutate(&|r| r["findings"][0]["severity"] = json!("urgent")),
        ),
        (
            "risk",
            mutate(&|r| r["findings"][0]["remediation"][0]["risk"] = json!("safe")),
        ),
        (
            "renamed field",
            mutate(&|r| {
                let f = r["findings"][0].as_object_mut().unwrap();
                let rule = f.remove("rule").unwrap();
                f.insert("rule_id".into(), rule);
            }),
        ),
        (
            "line 0",
            mutate(&|r| r["findings"][0]["evidence"][0]["line"] = json!(0)),
        ),
        (
            "status",
            mutate(&|r| r["inputs"][0]["status"] = json!("ok")),
        ),
        (
            "failed input without reason",
            mutate(&|r| {
                r["inputs"][0]["status"] = json!("failed");
                r["inputs"][0].as_object_mut().unwrap().remove("reason");
            }),
        ),
        (
            "summary count",
            mutate(&|r| r["summary"]["critical"] = json!(-1)),
        ),
        (
            "entities",
            mutate(&|r| r["findings"][0]["entities"]["stores"] = json!(["5"])),
        ),
    ];
    for (what, r) in &broken {
        assert!(!problems(&v, r).is_empty(), "{what} passed the schema");
    }
    // OUTPUT.md: fields may be added. The plan and per-finding fields of turn 2 validate.
    let added = mutate(&|r| {
        r["verdict"] = json!("1 critical finding");
        r["plan"] = json!([{"text": "Look", "command": "pd-ctl store", "risk": "read-only",
                             "for": ["tikv.store-down"]}]);
        r["findings"][0]["to_collect"] = json!([{"text": "the store list"}]);
        r["findings"][0]["something_new"] = json!({"any": 1});
        r["inputs"][0]["coverage"] = json!("partial");
    });
    let bad = problems(&v, &added);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let bad_plan = mutate(&|r| r["plan"] = json!([{"text": "x", "risk": "maybe"}]));
    assert!(!problems(&v, &bad_plan).is_empty());
}
