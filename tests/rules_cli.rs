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

/// The TOML examples of rules/README.md, one file each.
fn readme_rules(dir: &Path) -> usize {
    let text = fs::read_to_string("rules/README.md").unwrap();
    let mut n = 0;
    for block in text.split("```toml\n").skip(1) {
        let body = block.split("\n```").next().unwrap();
        n += 1;
        fs::write(dir.join(format!("example-{n}.toml")), body).unwrap();
    }
    n
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
    let d = tempfile::tempdir().unwrap();
    let n = readme_rules(d.path());
    assert!(
        n >= 4,
        "README has a worked example per generic matcher kind"
    );
    let p = d.path().to_str().unwrap();
    // Each example carries a firing and a quiet case; all of them pass.
    let (out, err, code) = run(&["rules", "test", p]);
    assert_eq!(code, 0, "{out}{err}");
    let examples = out
        .lines()
        .filter(|l| l.starts_with("ok     example."))
        .count();
    assert_eq!(examples, 2 * n, "{out}");
    assert!(out.ends_with(" passed, 0 failed\n"), "{out}");
    let (out, _, code) = run(&["rules", "lint", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("0 style problems\n"), "{out}");
    // The user rule runs in analyze beside the built-in ones.
    let bundle = tempfile::tempdir().unwrap();
    let log = bundle.path().join("tikv-10.0.1.5-20160/log");
    fs::create_dir_all(&log).unwrap();
    fs::write(
        log.join("tikv.log"),
        "[2024/03/01 10:00:01.000 +08:00] [WARN] [pd.rs:1200] [\"raftstore slow score 88.5\"] [store_id=1]\n\
[2024/03/01 10:00:11.000 +08:00] [WARN] [pd.rs:1200] [\"raftstore slow score 93.0\"] [store_id=1]\n",
    )
    .unwrap();
    let (out, _, _) = run(&[
        "analyze",
        bundle.path().to_str().unwrap(),
        "--rules",
        p,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "example.raftstore-slow-score")
        .unwrap();
    assert_eq!(
        f["title"],
        "TiKV 10.0.1.5:20160 reports a slow raftstore (2 lines)"
    );
    let cmd = f["remediation"][0]["command"].as_str().unwrap();
    assert!(cmd.contains("-N 10.0.1.5:20160"), "{cmd}");
}

fn write_rule(dir: &Path, name: &str, text: &str) -> String {
    fs::write(dir.join(name), text).unwrap();
    dir.to_str().unwrap().to_string()
}

const GOOD_HEAD: &str = "id = \"my.rule\"\nseverity = \"warning\"\n";

#[test]
fn rule_file_errors_name_file_line_and_column() {
    let cases = [
        (
            "placeholder.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"seen on {{nodee}}\"\n[matcher]\nkind = \"log-pattern\"\nneedles = [\"x\"]\n"),
            ":4:",
            "unknown placeholder {nodee}",
        ),
        (
            "regex.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"s\"\n[matcher]\nkind = \"log-pattern\"\nneedles = [\"x\"]\nregex = \"a(b\"\n"),
            ":8:",
            "bad regex",
        ),
        (
            "kind.toml",
            format!("{GOOD_HEAD}title = \"t\"\nsummary = \"s\"\n[matcher]\nkind = \"log-patern\"\nneedles = [\"x\"]\n"),
            ":6:",
            "log-patern",
        ),
        (
            "missing.toml",
            "id = \"my.rule\"\ntitle = \"t\"\nsummary = \"s\"\n[matcher]\nkind = \"log-pattern\"\nneedles = [\"x\"]\n".to_string(),
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
    let text = fs::read_to_string("rules/tikv.store-down.toml")
        .unwrap()
        .replace("is down: {state}", "is DOWN (site override): {state}");
    let dir = write_rule(d.path(), "tikv.store-down.toml", &text);
    let (out, _, _) = run(&[
        "analyze",
        "fixtures/rules/tikv.store-down/fire",
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
        "fixtures/rules/tikv.store-down/fire",
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
        "fixtures/rules/tikv.store-down/fire",
        "--format",
        "json",
    ]);
    fs::write(&old, out).unwrap();
    let (out, _, code) = run(&[
        "analyze",
        "fixtures/rules/tikv.store-down/fire",
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
