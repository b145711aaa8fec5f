//! Symptom → cause (issue 14, part 4): a symptom rule names the cause rule that fired in the
//! same window (on the same store or node when its declaration says so) and is ranked right
//! under it.
//!
//! The lines are the rules' real fire fixtures (provenance in each rule's SOURCE.md). No public
//! thread holds both a cause and its symptom, so the firing cases put two fixtures in one
//! bundle and move the cause's timestamps into the symptom's window (only the date and hour
//! change); the same two fixtures at their own times are the near-miss that must not link.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn copy(from: &str, to: &Path, rewrite: &dyn Fn(&str) -> String) {
    let text = std::fs::read_to_string(from).unwrap();
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, rewrite(&text)).unwrap();
}

fn analyze(dir: &Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .arg("analyze")
        .arg(dir)
        .args(["--format", "json", "--fail-on", "never"])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rules(r: &Value) -> Vec<&str> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn finding<'a>(r: &'a Value, rule: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {:?}", rules(r)))
}

fn causes(f: &Value) -> Vec<&str> {
    f["caused_by"]
        .as_array()
        .map(|a| a.iter().map(|c| c["rule"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// TiDB's exhausted backoffs (2023-07-18 19:41:59 +08:00) and RocksDB `Stopping writes` lines.
fn tidb_bundle(stall_in_window: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(
        "rules/tidb/tidb.region-unavailable/fire/tidb-10.0.1.2-4000/log/tidb.log",
        &dir.path().join("tidb-10.0.1.2-4000/log/tidb.log"),
        &|t| t.to_string(),
    );
    copy(
        "rules/tikv/tikv.write-stall/fire/tikv-10.0.1.5-20160/data/db/LOG",
        &dir.path().join("tikv-10.0.1.5-20160/data/db/LOG"),
        &|t| {
            if !stall_in_window {
                return t.to_string();
            }
            t.replace("2023/09/18-14:", "2023/07/18-19:")
                .replace("2023/09/18-20:", "2023/07/18-19:")
                .replace("2023/09/20-01:", "2023/07/18-19:")
        },
    );
    dir
}

#[test]
fn region_unavailable_names_the_write_stall_in_its_window_and_ranks_under_it() {
    let dir = tidb_bundle(true);
    // RocksDB's LOG prints local time without a zone; the TiDB log is at +08:00.
    let r = analyze(dir.path(), &["--assume-tz", "+08:00"]);
    let order = rules(&r);
    let stall = order.iter().position(|x| *x == "tikv.write-stall").unwrap();
    let symptom = order
        .iter()
        .position(|x| *x == "tidb.region-unavailable")
        .unwrap();
    assert_eq!(symptom, stall + 1, "{order:?}");
    let f = finding(&r, "tidb.region-unavailable");
    assert_eq!(causes(f), vec!["tikv.write-stall"]);
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains("In the same window tikv.write-stall fired"),
        "{summary}"
    );
    assert!(summary.contains("2023-07-18 19:"), "{summary}");
    let cause = finding(&r, "tikv.write-stall");
    assert_eq!(
        cause["explains"],
        serde_json::json!(["tidb.region-unavailable"])
    );
}

#[test]
fn a_write_stall_two_months_away_is_no_cause() {
    let dir = tidb_bundle(false);
    let r = analyze(dir.path(), &["--assume-tz", "+08:00"]);
    let f = finding(&r, "tidb.region-unavailable");
    assert!(f.get("caused_by").is_none(), "{f}");
    assert!(finding(&r, "tikv.write-stall").get("explains").is_none());
    assert!(
        !f["summary"]
            .as_str()
            .unwrap()
            .contains("tikv.write-stall fired")
    );
}

/// n2 waits a minute for ranges (2018-02-19 18:56); n1's disk stalls and it stops itself.
fn crdb_bundle(stall_in_window: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(
        "rules/crdb/crdb.unavailable-ranges/fire/nodes/2/logs/cockroach.log",
        &dir.path().join("nodes/2/logs/cockroach.log"),
        &|t| t.to_string(),
    );
    copy(
        "rules/crdb/crdb.disk-stall/fire/nodes/1/logs/cockroach.log",
        &dir.path().join("nodes/1/logs/cockroach.log"),
        &|t| {
            if !stall_in_window {
                return t.to_string();
            }
            ["I", "W", "E", "F"]
                .iter()
                .fold(t.to_string(), |acc, l| {
                    acc.replace(&format!("\n{l}191227 02:"), &format!("\n{l}180219 18:"))
                })
                .replacen("I191227 02:", "I180219 18:", 1)
        },
    );
    dir
}

#[test]
fn unavailable_ranges_go_under_the_disk_stall_that_explains_them() {
    let dir = crdb_bundle(true);
    let r = analyze(dir.path(), &[]);
    let order = rules(&r);
    assert_eq!(order[0], "crdb.disk-stall", "{order:?}");
    assert_eq!(
        causes(finding(&r, "crdb.unavailable-ranges")),
        vec!["crdb.disk-stall"]
    );
    // The heartbeats n1 failed while its disk stalled: linked on the same node.
    assert_eq!(
        causes(finding(&r, "crdb.liveness-heartbeat-failing")),
        vec!["crdb.disk-stall"]
    );
    // One cause, one headline: both effects follow it.
    let pos = |rule: &str| order.iter().position(|x| *x == rule).unwrap();
    assert!(pos("crdb.unavailable-ranges") <= 2 && pos("crdb.liveness-heartbeat-failing") <= 2);
    // In rank order: the critical effect first.
    let explains = finding(&r, "crdb.disk-stall")["explains"].clone();
    assert_eq!(
        explains,
        serde_json::json!(["crdb.unavailable-ranges", "crdb.liveness-heartbeat-failing"])
    );
}

#[test]
fn a_disk_stall_on_another_day_explains_only_its_own_node() {
    let dir = crdb_bundle(false);
    let r = analyze(dir.path(), &[]);
    assert!(
        finding(&r, "crdb.unavailable-ranges")
            .get("caused_by")
            .is_none()
    );
    assert_eq!(
        causes(finding(&r, "crdb.liveness-heartbeat-failing")),
        vec!["crdb.disk-stall"]
    );
}

#[test]
fn the_table_says_which_finding_explains_which() {
    let dir = crdb_bundle(true);
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .arg("analyze")
        .arg(dir.path())
        .args([
            "--format",
            "table",
            "--color",
            "never",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Caused by: [1] crdb.disk-stall node n1"),
        "{text}"
    );
    assert!(text.contains("Explains: [2] "), "{text}");
}
