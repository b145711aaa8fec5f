//! Rules as a product: user rules, rule tests, lint, errors, JUnit, coverage, baseline.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn run(args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap(),
    )
}

/// The TOML examples of rules/README.md, by rule id.
fn readme_rules() -> Vec<(String, String)> {
    let text = fs::read_to_string("rules/README.md").unwrap();
    text.split("```toml\n")
        .skip(1)
        .map(|block| {
            let body = block.split("\n```").next().unwrap().to_string();
            let id = body
                .lines()
                .find_map(|l| l.strip_prefix("id = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap()
                .to_string();
            (id, body + "\n")
        })
        .collect()
}

#[test]
fn builtin_rule_tests_pass() {
    let (out, err, code) = run(&["rules", "test"]);
    assert_eq!(code, 0, "{out}{err}");
    let last = out.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 50, "{out}");
    assert!(!out.contains("rules without test cases"), "{out}");
    // Every built-in rule follows the house style.
    let (out, _, code) = run(&["rules", "lint"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "0 style problems\n");
}

#[test]
fn readme_examples_are_rules_that_pass_their_tests_and_lint() {
    let examples = readme_rules();
    assert!(examples.len() >= 7, "a worked example per query operator");
    // The README shows the example files as they are.
    for (id, body) in &examples {
        let file = fs::read_to_string(format!("rules/examples/{id}.toml")).unwrap();
        assert_eq!(
            &file, body,
            "rules/README.md shows rules/examples/{id}.toml differently"
        );
    }
    // Each example carries a firing and a quiet case; all of them pass.
    let (out, err, code) = run(&["rules", "test", "rules/examples"]);
    assert_eq!(code, 0, "{out}{err}");
    let passed = out
        .lines()
        .filter(|l| l.starts_with("ok     example."))
        .count();
    assert_eq!(passed, 2 * examples.len(), "{out}");
    assert!(out.ends_with(" passed, 0 failed\n"), "{out}");
    let (out, _, code) = run(&["rules", "lint", "rules/examples"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("0 style problems\n"), "{out}");
    // A user rule runs in analyze beside the built-in ones, its words filled in.
    let (out, _, _) = run(&[
        "analyze",
        "rules/examples/example.raft-stream-errors/fire",
        "--rules",
        "rules/examples",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "example.raft-stream-errors")
        .unwrap();
    assert_eq!(
        f["title"],
        "TiKV 10.203.93.36:20160: 3 raft stream failures in 10 minutes"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "tikv.batch-raft-send-fail"),
        "built-in rules run too"
    );
}

fn write_rule(dir: &Path, name: &str, text: &str) -> String {
    fs::write(dir.join(name), text).unwrap();
    dir.to_str().unwrap().to_string()
}

const GOOD_HEAD: &str = "id = \"my.rule\"\nseverity = \"warning\"\n";

#[test]
fn rule_file_errors_name_file_line_and_column() {
    let q = "[query]\nfrom = \"events\"\nneedles.main = [\"x\"]\n";
    let cases = [
        (
            "placeholder.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"seen on {{nodee}}\"\n{q}"),
            ":4:",
            "unknown placeholder {nodee}",
        ),
        (
            "regex.toml",
            format!(
                "{GOOD_HEAD}title = \"t\"\nsummary = \"s\"\n{q}where = \"message matches 'a(b'\"\n"
            ),
            ":8:",
            "bad regex",
        ),
        (
            "table.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"s\"\n[query]\nfrom = \"evnts\"\n"),
            ":6:",
            "evnts",
        ),
        (
            "column.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"s\"\n{q}where = \"mesage == 'x'\"\n"),
            ":8:",
            "mesage",
        ),
        (
            "missing.toml",
            format!("id = \"my.rule\"\ntitle = \"t\"\nsummary = \"s\"\n{q}"),
            ":1:",
            "severity",
        ),
    ];
    for (name, text, at, what) in cases {
        let d = tempfile::tempdir().unwrap();
        let dir = write_rule(d.path(), name, &text);
        let (_, err, code) = run(&["analyze", "fixtures/scale-in-stuck", "--rules", &dir]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(&format!("{name}{at}")), "{name}: {err}");
        assert!(err.contains(what), "{name}: {err}");
    }
}

#[test]
fn user_rule_overrides_builtin_and_only_disable_select() {
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("rules/tikv/tikv.store-down.toml")
        .unwrap()
        .replace("is down: {state}", "is DOWN (site override): {state}");
    let dir = write_rule(d.path(), "tikv.store-down.toml", &text);
    let (out, _, _) = run(&[
        "analyze",
        "rules/tikv/tikv.store-down/fire",
        "--rules",
        &dir,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("site override")
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("overrides the built-in rule"),
        "{}",
        v["notes"]
    );

    let (out, _, _) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--only",
        "tikv.batch-raft-send-fail",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["tikv.batch-raft-send-fail"]);
    let (out, _, _) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--disable",
        "tikv.batch-raft-send-fail",
        "--format",
        "json",
    ]);
    assert!(!out.contains("\"rule\": \"tikv.batch-raft-send-fail\""));
    let (_, err, code) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--only",
        "no.such-rule",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no rule \"no.such-rule\""), "{err}");
}

#[test]
fn junit_output_validates_and_fails_on_threshold() {
    let (xml, _, code) = run(&["analyze", "fixtures/scale-in-stuck", "--format", "junit"]);
    assert_eq!(code, 1);
    assert!(xml.contains("<testcase classname=\"kvtriage.tikv\" name=\"tikv.offline-store-pinned-by-leaderless-region\">"));
    assert!(xml.contains("<failure message=\"Store 5 cannot become Tombstone: region 434317 has no leader\" type=\"critical\">"));
    assert!(
        xml.contains("pdctl/region_store_5.txt:45"),
        "evidence in the failure body"
    );
    // A warning is a failure only with --fail-on warning.
    let (xml_w, _, _) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert!(xml_w.matches("<failure ").count() > xml.matches("<failure ").count());
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("report.xml");
    fs::write(&f, &xml).unwrap();
    match std::process::Command::new("xmllint")
        .args(["--noout", "--schema", "tests/data/junit.xsd"])
        .arg(&f)
        .output()
    {
        Ok(o) => assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "xmllint is required in CI (.ci/run installs it)"
            );
            eprintln!("skipped: xmllint not installed");
        }
    }
}

#[test]
fn coverage_says_what_could_not_run() {
    let (out, _, _) = run(&[
        "analyze",
        "rules/tikv/tikv.store-down/fire",
        "--coverage",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = v["coverage"]["rules"].as_array().unwrap();
    let leaderless = rules
        .iter()
        .find(|r| r["id"] == "tikv.offline-store-pinned-by-leaderless-region")
        .unwrap();
    assert_eq!(leaderless["status"], "skipped");
    assert!(
        leaderless["reason"]
            .as_str()
            .unwrap()
            .contains("no pd-ctl region dump")
    );
    let down = rules.iter().find(|r| r["id"] == "tikv.store-down").unwrap();
    assert_eq!(down["status"], "ran");
}

#[test]
fn baseline_reports_only_new_findings() {
    let d = tempfile::tempdir().unwrap();
    let old = d.path().join("old.json");
    let (out, _, _) = run(&[
        "analyze",
        "rules/tikv/tikv.store-down/fire",
        "--format",
        "json",
    ]);
    fs::write(&old, out).unwrap();
    let (out, _, code) = run(&[
        "analyze",
        "rules/tikv/tikv.store-down/fire",
        "--format",
        "json",
        "--baseline",
        old.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["findings"].as_array().unwrap().is_empty());
    assert_eq!(code, 0);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("already in the baseline"))
    );
    // A finding on another store is new.
    let (out, _, _) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--format",
        "json",
        "--baseline",
        old.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(!v["findings"].as_array().unwrap().is_empty());
    let (_, err, code) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--baseline",
        "Cargo.toml",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a kvtriage JSON report"), "{err}");
}

#[test]
fn rules_list_has_a_header_and_every_rules_title() {
    let (out, _, code) = run(&["rules", "list"]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    let head = lines.next().unwrap();
    let cols: Vec<&str> = head.split_whitespace().collect();
    assert_eq!(cols, ["RULE", "SEVERITY", "MATCHER", "TITLE"], "{head}");
    let (json, _, _) = run(&["rules", "list", "--format", "json"]);
    let rules: Vec<Value> = serde_json::from_str(&json).unwrap();
    let title_at = head.find("TITLE").unwrap();
    for r in &rules {
        let id = r["id"].as_str().unwrap();
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} not listed"));
        assert_eq!(
            line[title_at..].trim(),
            r["title"].as_str().unwrap().trim(),
            "{id}: the title in its column"
        );
        assert!(line.contains(r["severity"].as_str().unwrap()), "{line}");
    }
    assert!(
        out.trim_end().ends_with(&format!(
            "{} rules; `kvtriage rules show RULE` for one in full",
            rules.len()
        )),
        "{out}"
    );
}

#[test]
fn unknown_rule_ids_say_which_was_meant() {
    for args in [
        &["explain", "tikv.store-dwn"][..],
        &["rules", "show", "tikv.stor-down"],
        &["analyze", "fixtures/scale-in-stuck", "--only", "store-down"],
        &[
            "analyze",
            "fixtures/scale-in-stuck",
            "--disable",
            "tikv.store_down",
        ],
        &["rules", "test", "--only", "tikv.storedown"],
        &[
            "timeline",
            "fixtures/scale-in-stuck",
            "--only",
            "tikv.store-dow",
        ],
    ] {
        let (out, err, code) = run(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.contains("did you mean \"tikv.store-down\"?"),
            "{args:?}: {err}"
        );
        assert!(err.contains("`kvtriage rules list` shows all"), "{err}");
    }
    // Nothing close: no guess, still the pointer to the list.
    let (_, err, code) = run(&["explain", "zzzz"]);
    assert_eq!(code, 2);
    assert!(!err.contains("did you mean"), "{err}");
    assert!(err.contains("no rule \"zzzz\""), "{err}");
}
