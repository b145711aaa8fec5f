//! CockroachDB rules end to end: run the binary on the fixtures (built from seed 004's lines)
//! and assert on the JSON report.

use assert_cmd::Command;
use serde_json::Value;
mod common;
use common::{commands, evidence, findings};

fn analyze(dir: &str) -> (Value, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .env_remove("NO_COLOR")
        .args(["analyze", dir, "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap())
}

fn crdb_rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .filter(|r| r.starts_with("crdb."))
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn has_ev(f: &Value, path: &str, line: u64) {
    let ev = evidence(f);
    assert!(
        ev.contains(&(path.to_string(), line)),
        "{path}:{line} in {ev:?}"
    );
}

fn has_cmd(f: &Value, cmd: &str) {
    let c = commands(f);
    assert!(c.iter().any(|x| x == cmd), "{cmd:?} in {c:?}");
}

fn read_only_first(f: &Value) {
    let risks: Vec<&str> = f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["risk"].as_str().unwrap())
        .collect();
    assert_eq!(risks[0], "read-only", "{risks:?}");
}

/// Every CockroachDB rule: a fixture that fires it once (severity, nodes) and a near-miss
/// that must not fire it.
struct Case {
    rule: &'static str,
    fire: &'static str,
    near_miss: &'static [&'static str],
    severity: &'static str,
    nodes: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        rule: "crdb.decommission-stalled",
        fire: "rules/crdb/crdb.decommission-stalled/fire",
        near_miss: &[
            // One pre-flight error saying the target stores are throttled.
            "rules/crdb/crdb.decommission-stalled/quiet",
            // Seed 004: n4 and n5 of a 5-node cluster decommission to completion.
            "fixtures/crdb-5node-decommission",
        ],
        severity: "critical",
        nodes: &["n3"],
    },
    Case {
        rule: "crdb.terminated-before-decommissioned",
        fire: "rules/crdb/crdb.terminated-before-decommissioned/fire",
        near_miss: &[
            // A dead node removed the documented way: `decommissioned`.
            "rules/crdb/crdb.terminated-before-decommissioned/quiet",
            "fixtures/crdb-5node-decommission",
        ],
        severity: "critical",
        nodes: &["n4"],
    },
    Case {
        rule: "crdb.decommission-one-by-one",
        fire: "rules/crdb/crdb.decommission-one-by-one/fire",
        near_miss: &[
            // Seed 004's events of one `decommission 4 5` command (same Timestamp).
            "rules/crdb/crdb.decommission-one-by-one/quiet",
            "fixtures/crdb-5node-decommission",
        ],
        severity: "info",
        nodes: &["n4", "n5"],
    },
    Case {
        rule: "crdb.drain-timeout",
        fire: "rules/crdb/crdb.drain-timeout/fire",
        near_miss: &[
            // Seed 004's drains, both reaching `remaining: 0`.
            "rules/crdb/crdb.drain-timeout/quiet",
            "fixtures/crdb-5node-decommission",
        ],
        severity: "warning",
        nodes: &["n1"],
    },
    Case {
        rule: "crdb.unclean-shutdown",
        fire: "rules/crdb/crdb.unclean-shutdown/fire",
        near_miss: &[
            // A completed shutdown before a restart, and `too early to drain; used hard
            // shutdown instead` before another.
            "rules/crdb/crdb.unclean-shutdown/quiet",
        ],
        severity: "warning",
        nodes: &["n2"],
    },
    Case {
        rule: "crdb.dead-node",
        fire: "rules/crdb/crdb.dead-node/fire",
        near_miss: &[
            // The same node after its decommission: `decommissioned`, not dead.
            "rules/crdb/crdb.dead-node/quiet",
            "fixtures/crdb-5node-decommission",
        ],
        severity: "warning",
        nodes: &["n1"],
    },
];

#[test]
fn each_crdb_rule_fires_on_its_fixture_and_not_on_its_near_misses() {
    for c in CASES {
        let (v, _) = analyze(c.fire);
        let f = findings(&v, c.rule);
        assert!(!f.is_empty(), "{} should fire on {}", c.rule, c.fire);
        let f = f[0];
        assert_eq!(f["severity"], c.severity, "{}", c.rule);
        assert_eq!(strs(&f["entities"]["nodes"]), c.nodes, "{}", c.rule);
        assert!(!f["evidence"].as_array().unwrap().is_empty());
        read_only_first(f);
        for e in f["evidence"].as_array().unwrap() {
            assert!(!e["excerpt"].as_str().unwrap().is_empty(), "{e}");
        }
        for i in v["inputs"].as_array().unwrap() {
            assert_eq!(i["status"], "parsed", "{i}");
        }
        for nm in c.near_miss {
            let (v, _) = analyze(nm);
            assert!(
                findings(&v, c.rule).is_empty(),
                "{} must not fire on {nm}: {:?}",
                c.rule,
                findings(&v, c.rule)
            );
        }
    }
}

#[test]
fn three_node_rf3_stall_names_the_cause() {
    let (v, code) = analyze("fixtures/crdb-3node-rf3-stall");
    assert_eq!(code, 1, "a critical finding exits 1");
    assert_eq!(crdb_rules(&v), vec!["crdb.decommission-stalled"]);
    let f = findings(&v, "crdb.decommission-stalled")[0];
    assert_eq!(strs(&f["entities"]["nodes"]), vec!["n3"]);
    let ranges: Vec<u64> = f["entities"]["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    assert_eq!(ranges, vec![1, 2, 3, 4, 5]);
    // The CLI's stall report, its replica lines, the rows that show the cause, the event.
    has_ev(f, "decommission.txt", 9);
    has_ev(f, "decommission.txt", 10);
    has_ev(f, "node-status.txt", 6);
    has_ev(f, "nodes/1/logs/cockroach.log", 9);
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("only 2 (n1, n2) besides n3 in a 3-node cluster, replication factor 3"),
        "{s}"
    );
    assert!(s.contains("r1, r2, r3, r4, r5"), "{s}");
    assert!(s.contains("disk space"), "{s}");
    has_cmd(f, "cockroach node recommission 3 --host=localhost:26257");
    has_cmd(
        f,
        "cockroach node decommission 3 --dry-run --host=localhost:26257",
    );
    // Lowering replication is the explicit-risk option, covering every zone.
    let risky = f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["risk"] == "data-loss")
        .unwrap();
    let text = risky["text"].as_str().unwrap();
    assert!(
        text.contains("EVERY zone") && text.contains("never lower"),
        "{text}"
    );
    let cmd = risky["command"].as_str().unwrap();
    assert!(cmd.contains("ALTER RANGE meta") && cmd.contains("ALTER DATABASE system"));
    assert!(!cmd.contains("num_replicas = 2"));
}

#[test]
fn preflight_block_fires_with_the_allocator_reason() {
    let (v, _) = analyze("rules/crdb/crdb.decommission-stalled/fire");
    let f = findings(&v, "crdb.decommission-stalled")[0];
    has_ev(f, "decommission.txt", 8);
    has_ev(f, "decommission.txt", 9);
    has_ev(f, "decommission.txt", 11);
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("pre-flight check found 65 replica(s)"), "{s}");
    assert!(s.contains("only 2 (n1, n2) besides n3"), "{s}");
    assert_eq!(
        f["title"],
        "Decommission of n3 cannot finish (n3: 65 replicas left)"
    );
}

#[test]
fn replica_count_that_stops_falling_is_a_stall() {
    let (v, _) = analyze("rules/crdb/crdb.decommission-stalled/fire-plateau");
    let f = findings(&v, "crdb.decommission-stalled");
    assert_eq!(f.len(), 1, "{f:?}");
    let f = f[0];
    assert_eq!(strs(&f["entities"]["nodes"]), vec!["n4"]);
    has_ev(f, "node-status-0910.txt", 7);
    has_ev(f, "node-status-0926.txt", 7);
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("stayed at 17 for 16m0s across 2 snapshots"),
        "{s}"
    );
    // Four live, active nodes remain: not the node-count cause, and nothing else is shown.
    assert!(s.contains("Cause: not shown in the bundle"), "{s}");
    assert!(s.contains("disk space"), "{s}");
    has_cmd(f, "cockroach node recommission 4 --host=localhost:26257");
}

#[test]
fn drain_stuck_in_a_goroutine_dump() {
    let (v, _) = analyze("rules/crdb/crdb.drain-timeout/fire-goroutines");
    let stacks = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "nodes/1/stacks.txt")
        .unwrap();
    assert_eq!(stacks["kind"], "crdb-goroutines");
    assert_eq!(stacks["records"], 3);
    assert_eq!(stacks["unparsed_lines"], 0);
    let f = findings(&v, "crdb.drain-timeout");
    assert_eq!(f.len(), 1, "{f:?}");
    let f = f[0];
    assert_eq!(strs(&f["entities"]["nodes"]), vec!["n1"]);
    has_ev(f, "nodes/1/stacks.txt", 15);
    has_ev(f, "nodes/1/stacks.txt", 16);
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("blocked in drain code for up to 7 minutes"),
        "{s}"
    );
    has_cmd(
        f,
        "cockroach node drain 1 --host=<live node> --drain-wait=15m",
    );
    // A drain goroutine without a wait yet, and a long wait outside drain code: nothing.
    let (v, _) = analyze("rules/crdb/crdb.drain-timeout/quiet-goroutines");
    assert!(findings(&v, "crdb.drain-timeout").is_empty());
}

#[test]
fn five_node_decommission_that_completes_is_clean() {
    let (v, code) = analyze("fixtures/crdb-5node-decommission");
    assert_eq!(crdb_rules(&v), Vec::<String>::new(), "{}", v["findings"]);
    assert_eq!(code, 0);
    let kinds: Vec<(String, String)> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(kinds.contains(&("decommission.txt".into(), "crdb-decommission-output".into())));
    assert!(kinds.contains(&("node-status.txt".into(), "crdb-node-status".into())));
    assert!(kinds.contains(&("nodes/4/logs/cockroach.log".into(), "crdb-log".into())));
}

#[test]
fn terminated_node_is_named_with_the_dead_node_command() {
    let (v, _) = analyze("rules/crdb/crdb.terminated-before-decommissioned/fire");
    let f = findings(&v, "crdb.terminated-before-decommissioned");
    assert_eq!(f.len(), 1, "n5 finished its decommission: only n4");
    let f = f[0];
    has_ev(f, "node-status.txt", 7);
    has_ev(f, "decommission.txt", 12);
    has_cmd(f, "cockroach node decommission 4 --host=localhost:26257");
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("Its 21 replica(s)"), "{s}");
    // A stopped decommissioning node is this rule's, not crdb.dead-node's.
    assert!(findings(&v, "crdb.dead-node").is_empty());
}

#[test]
fn one_by_one_lists_the_separate_commands() {
    let (v, code) = analyze("rules/crdb/crdb.decommission-one-by-one/fire");
    assert_eq!(code, 0, "info only");
    let f = findings(&v, "crdb.decommission-one-by-one")[0];
    for line in [9, 10, 12, 14] {
        has_ev(f, "nodes/1/logs/cockroach.log", line);
    }
    has_cmd(f, "cockroach node decommission 4 5 --host=<live node>");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("n4 started at 2022-02-11 02:14:30 UTC") && s.contains("then n5 started"),
        "{s}"
    );
}

#[test]
fn drain_timeout_cites_the_cli_error_and_the_low_lease_wait() {
    let (v, _) = analyze("rules/crdb/crdb.drain-timeout/fire");
    let f = findings(&v, "crdb.drain-timeout");
    assert_eq!(f.len(), 1, "CLI capture and node log are one node: {f:?}");
    let f = f[0];
    has_ev(f, "drain-n1.txt", 104);
    has_ev(f, "nodes/1/logs/cockroach.log", 11);
    has_ev(f, "nodes/1/logs/cockroach.log", 8);
    has_cmd(
        f,
        "cockroach node drain 1 --host=localhost:26258 --drain-wait=15m",
    );
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("`--drain-wait` was 2m"), "{s}");
    assert!(s.contains("never reached 0"), "{s}");
    assert!(s.contains("below the 5s"), "{s}");
    // CockroachDB 22.2 in the log header: the pre-24.2 setting names.
    assert!(
        s.contains("server.shutdown.lease_transfer_wait (5s) (CockroachDB 22.2.0"),
        "{s}"
    );
    assert!(!s.contains("initial_wait"), "{s}");
}

#[test]
fn unclean_shutdown_tells_definite_from_weaker_evidence() {
    let (v, _) = analyze("rules/crdb/crdb.unclean-shutdown/fire");
    let f = findings(&v, "crdb.unclean-shutdown");
    assert_eq!(f.len(), 2, "{f:?}");
    let n2 = f
        .iter()
        .find(|f| strs(&f["entities"]["nodes"]) == ["n2"])
        .unwrap();
    has_ev(
        n2,
        "nodes/2/logs/cockroach.crdb-2.root.2022-02-02T20_40_12Z.004318.log",
        13,
    );
    assert!(n2["summary"].as_str().unwrap().contains("definite"));
    let n3 = f
        .iter()
        .find(|f| strs(&f["entities"]["nodes"]) == ["n3"])
        .unwrap();
    has_ev(
        n3,
        "nodes/3/logs/cockroach.crdb-3.root.2022-02-02T20_58_02Z.004655.log",
        7,
    );
    let s = n3["summary"].as_str().unwrap();
    assert!(s.contains("weaker") && s.contains("log rotation"), "{s}");
    assert!(
        s.contains("6m50s after its previous liveness heartbeat"),
        "{s}"
    );
}

#[test]
fn dead_node_measures_liveness_age() {
    let (v, _) = analyze("rules/crdb/crdb.dead-node/fire");
    let f = findings(&v, "crdb.dead-node");
    assert_eq!(f.len(), 1, "{f:?}");
    let f = f[0];
    assert_eq!(f["title"], "n1 is dead: not live for 9m45s");
    has_ev(f, "node-status.txt", 4);
    has_cmd(f, "cockroach node decommission 1 --host=localhost:26258");
    assert!(f["summary"].as_str().unwrap().contains("5m0s (the default"));
}

#[test]
fn seed_004_as_one_file_does_not_break_anything() {
    let path = "../shared/seeds/004_57e2d1a6be8f83e7.txt";
    if !std::path::Path::new(path).exists() {
        eprintln!("skipped: {path} not present");
        return;
    }
    let (v, code) = analyze(path);
    assert!(code == 0 || code == 1, "exit {code}");
    assert_eq!(v["inputs"][0]["kind"], "crdb-decommission-output");
}

/// The catalogue's addition to crdb.drain-timeout: lease lines (`cannot acquire lease when
/// draining`, the verbose-only transfer failures) support a drain that is stuck for other
/// reasons and never trigger one: the seed's clean drains log them too.
#[test]
fn lease_lines_support_a_stuck_drain_and_never_trigger_one() {
    let (stuck, _) = analyze("rules/crdb/crdb.drain-timeout/fire-goroutines");
    let f = stuck["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "crdb.drain-timeout")
        .unwrap();
    assert!(f["summary"].as_str().unwrap().contains("support only"));
    assert!(f["evidence"].as_array().unwrap().iter().any(|e| {
        e["excerpt"]
            .as_str()
            .unwrap()
            .contains("cannot acquire lease")
    }));
    let (clean, _) = analyze("rules/crdb/crdb.drain-timeout/quiet");
    let text = std::fs::read_dir("rules/crdb/crdb.drain-timeout/quiet/nodes/1/logs")
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(text.contains("cannot acquire lease when draining"));
    assert!(
        !clean["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "crdb.drain-timeout")
    );
}
