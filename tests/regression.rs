//! One test per bug found, named after what broke.

use assert_cmd::Command;
use serde_json::Value;

fn analyze(path: &str) -> (Value, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(["analyze", path, "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v, out.status.code().unwrap())
}

/// The rule ids that fired, in report order.
fn fired(v: &Value) -> Vec<&str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

/// Each input's (path, kind, status).
fn input_kinds(v: &Value) -> Vec<(String, String, String)> {
    v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or("").to_string();
            (s("path"), s("kind"), s("status"))
        })
        .collect()
}

/// A pasted `pd-ctl store check offline` answer lists one Offline store: it proves nothing
/// about the stores it does not list, so no rule may say "0 Up TiKV stores" from it. Before
/// the fix: a CRITICAL tikv.scale-in-no-target-store.
#[test]
fn a_filtered_store_listing_never_yields_an_absence_claim() {
    let (v, code) = analyze("tests/regression/filtered-store-listing");
    let rules = fired(&v);
    assert!(
        !rules.contains(&"tikv.scale-in-no-target-store"),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&"tikv.scale-in-blocked-by-space"),
        "{rules:?}"
    );
    assert_eq!(code, 0);
    // What it could not know is said, with the command that settles it.
    let undecided = v["undecided"].as_array().unwrap();
    assert!(
        undecided
            .iter()
            .any(|u| u["rule"] == "tikv.scale-in-no-target-store"
                && u["text"].as_str().unwrap().contains("Store 1531026")
                && u["command"] == "pd-ctl -u <pd-addr> store"),
        "{undecided:?}"
    );
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("could not be checked")
            && n.contains("tikv.scale-in-blocked-by-space, tikv.scale-in-no-target-store")),
        "{notes:?}"
    );
}

/// The same store in a complete listing (the same answer under a bare `store` command) is
/// judged: with only one store in all, nothing can take its regions.
#[test]
fn the_same_store_in_a_complete_listing_is_judged() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        "tests/regression/filtered-store-listing/pd-ctl-store-check-offline.txt",
    )
    .unwrap()
    .replace(">>pd-ctl store check offline", ">>pd-ctl store");
    std::fs::write(d.path().join("stores.txt"), text).unwrap();
    let (v, _) = analyze(d.path().to_str().unwrap());
    // Cut before its end, the answer is still partial: no finding either way.
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
}

/// A store listing cut to each store's state (no heartbeat times, no region counts), as pasted
/// in pingcap/tidb#4968. Before the fix: the store-down title read "last heartbeat
/// <heartbeat>", and the Offline store with no `region_count` was taken to hold 0 regions, so
/// the two-store cluster's stuck scale-in went unreported.
#[test]
fn a_listing_without_counts_or_heartbeats_still_concludes_and_says_what_it_lacks() {
    let (v, _) = analyze("tests/incidents/tikv-two-stores-offline-no-target/material");
    let findings = v["findings"].as_array().unwrap();
    for f in findings {
        for key in ["title", "summary"] {
            let text = f[key].as_str().unwrap();
            assert!(!text.contains("<heartbeat>"), "{text}");
        }
    }
    let down = findings
        .iter()
        .find(|f| f["rule"] == "tikv.store-down")
        .unwrap();
    assert!(
        down["title"]
            .as_str()
            .unwrap()
            .contains("last heartbeat not in the listing"),
        "{down}"
    );
    let stuck = findings
        .iter()
        .find(|f| f["rule"] == "tikv.scale-in-no-target-store")
        .unwrap();
    assert_eq!(stuck["entities"]["stores"], serde_json::json!([4]));
    assert!(
        stuck["summary"]
            .as_str()
            .unwrap()
            .contains("the listing shows no region_count"),
        "{stuck}"
    );
}

/// CockroachDB before 20.2 ends a `--wait=live` decommission with `Decommissioning finished.`
/// and prints `gossiped_replicas` (cockroachdb/cockroach#18275). Before the fix: the table
/// was not read as decommission progress and the completion line was ignored, so a finished
/// decommission of a dead node was reported as a CRITICAL "stopped while decommissioning".
#[test]
fn an_old_cli_finished_decommission_is_not_a_node_stopped_mid_way() {
    let (v, _) = analyze("tests/incidents/crdb-decommission-dead-node-finished/material");
    let rules = fired(&v);
    assert!(
        !rules.contains(&"crdb.terminated-before-decommissioned"),
        "{rules:?}"
    );
}

/// A CockroachDB server's stderr ends in `Failed running "start"`; that line made it read as a
/// CLI error answer, which no log rule reads, so crdb.fd-limit missed node 2's refusal.
#[test]
fn a_server_stderr_ending_in_failed_running_start_stays_its_log() {
    let (v, _) = analyze("rules/crdb/crdb.fd-limit/fire");
    for (path, kind, _) in input_kinds(&v) {
        assert_eq!(kind, "crdb-log", "{path}");
    }
    let mut nodes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "crdb.fd-limit")
        .flat_map(|f| f["entities"]["nodes"].as_array().unwrap())
        .map(|n| n.as_str().unwrap())
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["n1", "n2"]);
}

/// A TiDB log of the old logger with only TiKV-client lines (`region_request.go`) was taken
/// for a PD log, so tikv.server-is-busy never saw it (a `kubectl logs` paste, pingcap/tidb#3624).
#[test]
fn a_tidb_log_of_tikv_client_lines_is_a_tidb_log() {
    let (v, _) = analyze("tests/incidents/tidb-server-is-busy-scheduler-k8s/material");
    assert_eq!(input_kinds(&v)[0].1, "tidb-log");
    assert!(fired(&v).contains(&"tikv.server-is-busy"));
}

/// A pre-3.0 TiKV panic has no `location` field: the first step printed a literal
/// `{location}`. The location now comes from the message's `at "<file:line>"`.
#[test]
fn a_pre_3_panic_step_names_its_location() {
    let (v, _) = analyze("rules/tikv/tikv.panic/fire");
    for f in v["findings"].as_array().unwrap() {
        for step in f["remediation"].as_array().unwrap() {
            let text = step["text"].as_str().unwrap();
            assert!(!text.contains('{'), "{text}");
        }
    }
}

/// Prose that names CockroachDB was read as a crdb log and then listed as a failed input
/// ("no log entry could be parsed"); it is no log, so it is skipped.
#[test]
fn prose_naming_cockroachdb_is_skipped_not_failed() {
    let dir = std::env::temp_dir().join(format!("kvtriage-prose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("notes.md"),
        "We run CockroachDB 23.1 on three nodes.\nNothing else to say here.\n",
    )
    .unwrap();
    let (v, _) = analyze(dir.to_str().unwrap());
    std::fs::remove_dir_all(&dir).ok();
    let notes = &input_kinds(&v)[0];
    assert_eq!((notes.1.as_str(), notes.2.as_str()), ("unknown", "skipped"));
}

/// The catalogue's addition to tikv.store-down: PD's `pd_cluster_status` store health counts in
/// a metrics dump are cited as support (they never decide alone: the listing does).
#[test]
fn store_down_cites_pds_unhealthy_store_count() {
    let (v, _) = analyze("rules/tikv/tikv.store-down/fire-metrics");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "tikv.store-down")
        .unwrap();
    assert!(
        f["summary"]
            .as_str()
            .unwrap()
            .contains("PD metrics agree: 1 store(s) without a heartbeat")
    );
    assert!(f["evidence"].as_array().unwrap().iter().any(|e| {
        e["excerpt"]
            .as_str()
            .unwrap()
            .contains("store_unhealth_count")
    }));
    let (plain, _) = analyze("rules/tikv/tikv.store-down/fire");
    let f = &plain["findings"][0];
    assert!(!f["summary"].as_str().unwrap().contains("PD metrics agree"));
}

/// A default is an assumption of a finding only when its judgement read it: store 4 is Down
/// in PD's own words (no max-store-down-time needed), while a Disconnected store is judged
/// against max-store-down-time, which the bundle does not set.
#[test]
fn a_default_the_finding_never_read_is_no_assumption() {
    let (down, _) = analyze("rules/tikv/tikv.store-down/fire");
    let f = &down["findings"][0];
    assert_eq!(f["rule"], "tikv.store-down");
    assert_eq!(f["confidence"], "definite");
    assert!(f.get("assumptions").is_none(), "{f}");
    let (disc, _) = analyze("rules/tikv/tikv.store-disconnected/fire");
    let f = &disc["findings"][0];
    assert_eq!(f["confidence"], "likely");
    assert_eq!(
        f["assumptions"][0],
        "max-store-down-time = 30m (PD default; no config in the bundle)"
    );
}
