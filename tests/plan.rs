//! Issue 16, bullet 2: one plan per cluster. The remediation of every finding is merged into
//! one ordered, deduplicated plan (read-only, reversible, restart, data-loss), each step
//! naming the findings it serves; at most one data-loss step per operation.
//! Bundle: `rules/tikv/tikv.majority-replicas-lost/fire` (stores 4 and 5 Down, region 1001
//! with 2 of 3 voters on them), where one finding asks for `unsafe remove-failed-stores 4,5`
//! and two `tikv.store-down` findings for `… 4` and `… 5`.

mod common;

use assert_cmd::Command;
use kvtriage::model::{Confidence, Entities, Finding, Risk, Severity, Step, plan};
use serde_json::Value;

const BUNDLE: &str = "rules/tikv/tikv.majority-replicas-lost/fire";

fn run(format: &str) -> String {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", "100")
        .args(["analyze", BUNDLE, "--color", "never", "--format", format])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "critical findings: exit 1");
    String::from_utf8(out.stdout).unwrap()
}

fn risk_rank(r: &str) -> usize {
    ["read-only", "reversible", "restart", "data-loss"]
        .iter()
        .position(|x| *x == r)
        .unwrap_or_else(|| panic!("unknown risk {r}"))
}

#[test]
fn majority_lost_gets_one_lossy_recovery_for_both_stores() {
    let v: Value = serde_json::from_str(&run("json")).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    // The findings themselves still carry their own steps (the contract is additive)...
    let per_store: Vec<String> = findings
        .iter()
        .flat_map(common::commands)
        .filter(|c| c.contains("remove-failed-stores 4") || c.contains("remove-failed-stores 5"))
        .collect();
    assert_eq!(per_store.len(), 3, "{per_store:?}");
    // ... and the plan runs the recovery once, for both stores.
    let plan = v["plan"].as_array().expect("a plan field");
    let lossy: Vec<&Value> = plan.iter().filter(|s| s["risk"] == "data-loss").collect();
    assert_eq!(lossy.len(), 1, "one data-loss step: {lossy:#?}");
    let cmd = lossy[0]["command"].as_str().unwrap();
    assert!(cmd.ends_with("unsafe remove-failed-stores 4,5"), "{cmd}");
    let rules: Vec<&str> = lossy[0]["for"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(rules, ["tikv.majority-replicas-lost", "tikv.store-down"]);
    assert_eq!(lossy[0]["findings"], serde_json::json!([1, 2, 3]));
    let notes = lossy[0]["notes"].to_string();
    assert!(
        notes.contains("--auto-detect"),
        "the alternative is named: {notes}"
    );
    assert!(notes.contains("once"), "{notes}");
    // No other step runs the same recovery.
    let runs = plan
        .iter()
        .filter_map(|s| s["command"].as_str())
        .filter(|c| c.contains("remove-failed-stores") && !c.ends_with(" show"))
        .count();
    assert_eq!(runs, 1);
}

#[test]
fn plan_is_ordered_deduplicated_and_names_its_findings() {
    let v: Value = serde_json::from_str(&run("json")).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let plan = v["plan"].as_array().unwrap();
    let ranks: Vec<usize> = plan
        .iter()
        .map(|s| risk_rank(s["risk"].as_str().unwrap()))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "order: {ranks:?}");
    assert_eq!(ranks.first(), Some(&0), "read-only first");
    let mut commands: Vec<&str> = plan.iter().filter_map(|s| s["command"].as_str()).collect();
    let n = commands.len();
    commands.sort();
    commands.dedup();
    assert_eq!(commands.len(), n, "each command once");
    for s in plan {
        let nums = s["findings"].as_array().unwrap();
        assert!(!nums.is_empty(), "{s}");
        for k in nums {
            let f = &findings[k.as_u64().unwrap() as usize - 1];
            assert!(
                s["for"].as_array().unwrap().contains(&f["rule"]),
                "{s} names finding {k} but not its rule"
            );
        }
    }
    // `pd-ctl store 4` is asked by the majority finding and by store 4's: one step for both.
    let store4: Vec<&Value> = plan
        .iter()
        .filter(|s| {
            s["command"]
                .as_str()
                .is_some_and(|c| c.ends_with(" store 4"))
        })
        .collect();
    assert_eq!(store4.len(), 1);
    assert_eq!(store4[0]["findings"], serde_json::json!([1, 2]));
    // Every finding's step is in the plan: verbatim, or merged into the lossy run.
    for f in findings {
        for c in common::commands(f) {
            let merged = c.contains("remove-failed-stores") && !c.ends_with(" show");
            assert!(
                merged || commands.contains(&c.as_str()),
                "{c} is missing from the plan"
            );
        }
    }
}

#[test]
fn table_and_markdown_show_the_same_plan() {
    let table = run("table");
    let plan_at = table
        .find("Plan: 8 steps for 3 findings")
        .expect("a plan section");
    let details_at = table.find("[1] CRITICAL").unwrap();
    assert!(plan_at < details_at, "the plan comes before the details");
    let runs = table
        .lines()
        .filter(|l| l.contains("$ pd-ctl") && l.contains("remove-failed-stores"))
        .filter(|l| !l.ends_with(" show"))
        .count();
    assert_eq!(runs, 1, "{table}");
    assert!(table.contains("unsafe remove-failed-stores 4,5\n"));
    assert!(table.contains("for [1] tikv.majority-replicas-lost, [2][3] tikv.store-down"));
    assert!(table.contains("Remediation: plan steps 1, 2, 3, 4, 8 (above)"));
    let md = run("markdown");
    assert!(md.contains("\n## Plan\n"));
    assert_eq!(md.matches("remove-failed-stores 4,5\n").count(), 1);
    assert!(!md.contains("remove-failed-stores 4\n"));
    assert!(!md.contains("remove-failed-stores 5\n"));
}

fn finding(rule: &str, severity: Severity, steps: &[(&str, &str, Risk)]) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        title: rule.into(),
        summary: String::new(),
        entities: Entities::default(),
        evidence: Vec::new(),
        remediation: steps
            .iter()
            .map(|(t, c, r)| Step {
                text: t.to_string(),
                command: Some(c.to_string()),
                risk: *r,
            })
            .collect(),
        references: Vec::new(),
        confidence: Confidence::Definite,
        assumptions: Vec::new(),
        caused_by: Vec::new(),
        explains: Vec::new(),
    }
}

#[test]
fn offline_recovery_lists_are_merged_and_settings_reconciled() {
    // Written for this test: tikv-ctl's offline recovery named per store by two findings, and
    // two findings that want different values of one PD setting.
    let fs = [
        finding(
            "a.critical",
            Severity::Critical,
            &[
                (
                    "set the limit",
                    "pd-ctl -u pd:2379 config set region-schedule-limit 0",
                    Risk::Reversible,
                ),
                (
                    "recover",
                    "tikv-ctl --data-dir /d unsafe-recover remove-fail-stores -s 7 --all-regions",
                    Risk::DataLoss,
                ),
            ],
        ),
        finding(
            "b.warning",
            Severity::Warning,
            &[
                (
                    "recover",
                    "tikv-ctl --data-dir /d unsafe-recover remove-fail-stores -s 3,7 --all-regions",
                    Risk::DataLoss,
                ),
                (
                    "raise the limit",
                    "pd-ctl -u pd:2379 config set region-schedule-limit 2048",
                    Risk::Reversible,
                ),
                ("look", "pd-ctl -u pd:2379 store", Risk::ReadOnly),
            ],
        ),
    ];
    let p = plan(&fs);
    let cmds: Vec<&str> = p.iter().filter_map(|s| s.command.as_deref()).collect();
    assert_eq!(
        cmds,
        [
            "pd-ctl -u pd:2379 store",
            "pd-ctl -u pd:2379 config set region-schedule-limit 0",
            "tikv-ctl --data-dir /d unsafe-recover remove-fail-stores -s 3,7 --all-regions",
        ]
    );
    assert_eq!(p[1].findings, [1, 2]);
    assert!(
        p[1].notes[0].contains("config set region-schedule-limit 2048"),
        "{:?}",
        p[1].notes
    );
    assert_eq!(p[2].findings, [1, 2]);
    assert!(p[2].notes[0].contains("-s 7"), "{:?}", p[2].notes);
    // Nothing to merge: an empty plan.
    assert!(plan(&[]).is_empty());
}
