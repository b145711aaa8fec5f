//! PD scheduling rules end to end: each rule fires on its fixture and stays quiet on its
//! near-miss; evidence, entities and remediation commands are checked on the JSON report.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
mod common;
use common::{commands, evidence, findings, ids};

fn analyze(path: &Path) -> Value {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn fixture(p: &str) -> Value {
    analyze(&Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
}

struct Case {
    rule: &'static str,
    fire: &'static str,
    near_miss: &'static str,
    /// Findings expected on the fire side, each (severity, stores, regions).
    expect: &'static [(&'static str, &'static [u64], &'static [u64])],
    /// An evidence line every fire finding set must contain.
    cites: (&'static str, u64),
    /// A remediation command (with the real ids) one finding must propose.
    command: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        rule: "pd.merge-operator-stuck",
        fire: "rules/pd/pd.merge-operator-stuck/fire",
        // Seed 003 verbatim: the normal end of a merge.
        near_miss: "rules/pd/pd.merge-operator-stuck/quiet",
        expect: &[("warning", &[266988190], &[512607784, 513499180])],
        cites: ("pd-10.0.1.1-2379/log/pd.log", 5),
        command: Some("pd-ctl -u <pd-addr> store 266988190"),
    },
    Case {
        rule: "pd.merge-blocked",
        fire: "rules/pd/pd.merge-blocked/fire",
        near_miss: "rules/pd/pd.merge-blocked/quiet-fixture",
        expect: &[("warning", &[], &[]), ("warning", &[], &[])],
        cites: (
            "monitor/metrics/10.0.1.5_9090/pd_checker_event_count-2024-07-09T14-25-23+08-00-2024-07-09T16-25-23+08-00.json",
            1,
        ),
        command: Some("pd-ctl -u <pd-addr> config show"),
    },
    Case {
        rule: "pd.merge-disabled-by-config",
        fire: "rules/pd/pd.merge-disabled-by-config/fire",
        near_miss: "rules/pd/pd.merge-disabled-by-config/quiet-fixture",
        expect: &[("warning", &[], &[])],
        cites: ("pd-10.0.1.1-2379/log/pd.log", 5),
        command: Some("pd-ctl -u <pd-addr> config set merge-schedule-limit 64"),
    },
    Case {
        rule: "pd.empty-region-pileup",
        fire: "rules/pd/pd.empty-region-pileup/fire",
        near_miss: "rules/pd/pd.empty-region-pileup/quiet-fixture",
        expect: &[("warning", &[], &[])],
        cites: (
            "monitor/metrics/10.0.1.5_9090/pd_regions_status-2024-07-09T14-25-23+08-00-2024-07-09T16-25-23+08-00.json",
            1,
        ),
        command: Some("pd-ctl -u <pd-addr> region check empty-region"),
    },
    Case {
        rule: "pd.memory-growth-after-merges",
        fire: "rules/pd/pd.memory-growth-after-merges/fire",
        near_miss: "rules/pd/pd.memory-growth-after-merges/quiet-fixture",
        expect: &[("info", &[], &[])],
        cites: ("pd-10.0.1.1-2379/log/pd.log", 2),
        command: None,
    },
    Case {
        rule: "tikv.store-offline-stalled",
        fire: "rules/tikv/tikv.store-offline-stalled/fire",
        near_miss: "rules/tikv/tikv.store-offline-stalled/quiet",
        expect: &[("warning", &[5], &[])],
        cites: ("pdctl/store_5_1035.txt", 14),
        command: Some("pd-ctl -u 10.0.1.1:2379 store limit 5 <n> remove-peer"),
    },
    Case {
        rule: "tikv.majority-replicas-lost",
        fire: "rules/tikv/tikv.majority-replicas-lost/fire",
        near_miss: "rules/tikv/tikv.majority-replicas-lost/quiet",
        expect: &[("critical", &[4, 5], &[1001])],
        cites: ("pdctl/region_1001.txt", 3),
        command: Some("pd-ctl -u 10.0.1.1:2379 unsafe remove-failed-stores 4,5"),
    },
    Case {
        rule: "tikv.unsafe-recovery-status",
        fire: "rules/tikv/tikv.unsafe-recovery-status/fire",
        near_miss: "rules/tikv/tikv.unsafe-recovery-status/quiet",
        expect: &[("warning", &[2, 3, 4, 5], &[])],
        cites: ("pdctl/unsafe_recovery_show.txt", 36),
        command: Some("pd-ctl -u <pd-addr> store 2"),
    },
    Case {
        rule: "pd.storage-write-failed",
        fire: "rules/pd/pd.storage-write-failed/fire",
        near_miss: "rules/pd/pd.storage-write-failed/quiet",
        expect: &[("critical", &[], &[]), ("warning", &[], &[])],
        cites: ("pd-10.0.1.1-2379/log/pd.log", 8),
        command: Some(
            "etcdctl --endpoints=http://<pd-addr> defrag && etcdctl --endpoints=http://<pd-addr> alarm disarm",
        ),
    },
    Case {
        rule: "pd.operator-canceled",
        fire: "rules/pd/pd.operator-canceled/fire",
        // The normal end of a merge (seed 003) cancels the source's operator: never reported.
        near_miss: "rules/pd/pd.merge-operator-stuck/quiet",
        expect: &[("warning", &[], &[142725, 142811])],
        cites: ("pd-10.0.1.1-2379/log/pd.log", 9),
        command: Some("pd-ctl -u <pd-addr> region 142725"),
    },
    Case {
        rule: "pd.operator-rejected",
        fire: "rules/pd/pd.operator-rejected/fire",
        near_miss: "rules/pd/pd.operator-rejected/quiet-fixture",
        // The pasted command lines name region 434317.
        expect: &[("warning", &[3], &[434317]), ("warning", &[], &[434317])],
        cites: ("pdctl/operator_add.txt", 3),
        command: Some("pd-ctl -u 10.203.93.30:2379 region 434317"),
    },
];

#[test]
fn each_pd_rule_fires_on_its_fixture_and_not_on_its_near_miss() {
    for c in CASES {
        let v = fixture(c.fire);
        let f = findings(&v, c.rule);
        assert_eq!(f.len(), c.expect.len(), "{} on {}: {f:#?}", c.rule, c.fire);
        for (got, (sev, stores, regions)) in f.iter().zip(c.expect) {
            assert_eq!(got["severity"], *sev, "{}", c.rule);
            assert_eq!(ids(&got["entities"]["stores"]), *stores, "{}", c.rule);
            assert_eq!(ids(&got["entities"]["regions"]), *regions, "{}", c.rule);
            assert!(!got["remediation"].as_array().unwrap().is_empty());
            for e in got["evidence"].as_array().unwrap() {
                assert!(e["line"].as_u64().unwrap() >= 1, "{}: {e}", c.rule);
                assert!(
                    !e["excerpt"].as_str().unwrap().is_empty(),
                    "{}: {e}",
                    c.rule
                );
            }
            // No rendered text may keep a placeholder the engine did not know.
            for k in ["title", "summary"] {
                let t = got[k].as_str().unwrap();
                assert!(!t.contains("<reason>") && !t.contains("<detail>"), "{t}");
            }
        }
        let all_ev: Vec<(String, u64)> = f.iter().flat_map(|x| evidence(x)).collect();
        assert!(
            all_ev.contains(&(c.cites.0.to_string(), c.cites.1)),
            "{} cites {:?}: {all_ev:?}",
            c.rule,
            c.cites
        );
        if let Some(cmd) = c.command {
            let cmds: Vec<String> = f.iter().flat_map(|x| commands(x)).collect();
            assert!(cmds.iter().any(|x| x == cmd), "{}: {cmds:?}", c.rule);
        }
        let v = fixture(c.near_miss);
        let f = findings(&v, c.rule);
        assert!(f.is_empty(), "{} fired on its near-miss: {f:#?}", c.rule);
        for i in v["inputs"].as_array().unwrap() {
            assert_ne!(i["status"], "failed", "{}: {i}", c.near_miss);
        }
    }
}

#[test]
fn every_pd_fixture_input_is_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for c in CASES {
        for dir in [c.fire, c.near_miss] {
            let v = analyze(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir));
            for i in v["inputs"].as_array().unwrap() {
                // A pasted session with only `Success!` answers holds nothing to read.
                if i["path"] == "pdctl/operator_add.txt"
                    && (dir.ends_with("quiet") || dir.ends_with("quiet-fixture"))
                {
                    continue;
                }
                assert_eq!(i["status"], "parsed", "{dir}: {i}");
                assert_ne!(i["kind"], "unknown", "{dir}: {i}");
            }
        }
    }
    assert!(root.is_dir());
}

#[test]
fn stuck_merge_names_the_step_the_source_waits_on() {
    let v = fixture("rules/pd/pd.merge-operator-stuck/fire");
    let f = findings(&v, "pd.merge-operator-stuck")[0];
    assert_eq!(
        f["title"],
        "Merge of region 512607784 into 513499180 stalled at step 4 of 18 (add learner)"
    );
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("`add learner peer 612422578 on store 266988190`"),
        "{s}"
    );
    assert!(s.contains("42m19s"), "{s}");
    // Both add-operator lines and the step PD keeps re-sending are cited.
    let ev = evidence(f);
    let log = "pd-10.0.1.1-2379/log/pd.log".to_string();
    assert_eq!(ev[0], (log.clone(), 5));
    assert_eq!(ev[1], (log.clone(), 6));
    assert!(ev.contains(&(log, 31)), "{ev:?}");
    assert!(commands(f).contains(&"pd-ctl -u <pd-addr> operator remove 512607784".to_string()));
    // Nothing else is reported about the seed's merge.
    let v = fixture("rules/pd/pd.merge-operator-stuck/quiet");
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v:#}");
}

#[test]
fn timed_out_merge_names_the_joint_consensus_step() {
    let v = fixture("rules/pd/pd.merge-operator-stuck/timeout");
    let f = findings(&v, "pd.merge-operator-stuck");
    assert_eq!(
        f.len(),
        1,
        "one finding for both regions' operators: {f:#?}"
    );
    assert_eq!(
        f[0]["title"],
        "Merge of region 512607784 into 513499180 timed out at step 3 of 5 (leave joint state)"
    );
    let s = f[0]["summary"].as_str().unwrap();
    assert!(s.contains("PD logged `operator timeout`"), "{s}");
    assert!(s.contains("cancel-reason: timeout"), "{s}");
    assert_eq!(ids(&f[0]["entities"]["stores"]), vec![16910359, 16910361]);
    let ev = evidence(f[0]);
    assert!(
        ev.contains(&("pd-10.0.1.1-2379/log/pd.log".to_string(), 8)),
        "{ev:?}"
    );
    // The target's cancel (cancel-reason `related merge region`) is part of the same merge.
    assert!(findings(&v, "pd.operator-canceled").is_empty());
}

#[test]
fn merge_blocked_reports_the_cause_behind_no_target_and_each_reason() {
    let v = fixture("rules/pd/pd.merge-blocked/fire");
    let f = findings(&v, "pd.merge-blocked");
    let titles: Vec<&str> = f.iter().map(|x| x["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        vec![
            "Region merge blocked: adj-disallow-merge (35500 merge-checker skips)",
            "Region merge blocked: unhealthy-region (5700 merge-checker skips)",
        ]
    );
    let s = f[0]["summary"].as_str().unwrap();
    assert!(s.contains("dominant cause of `no-target`"), "{s}");
    assert!(s.contains("enable-cross-table-merge"), "{s}");
    assert!(s.contains("placement"), "{s}");
    let s = f[1]["summary"].as_str().unwrap();
    assert!(s.contains("down or pending peers"), "{s}");
    // `no-need` is high in every cluster: not a reason here (empty regions are undersized).
    assert!(!titles.iter().any(|t| t.contains("no-need")));
    // Near-miss: no-leader and recently-start only right after the PD start.
    let v = fixture("rules/pd/pd.merge-blocked/quiet-fixture");
    assert!(findings(&v, "pd.merge-blocked").is_empty());
}

#[test]
fn merge_disabled_says_where_it_read_the_setting_and_what_it_assumed() {
    let v = fixture("rules/pd/pd.merge-disabled-by-config/fire");
    let f = findings(&v, "pd.merge-disabled-by-config")[0];
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("merge-schedule-limit 0 read from the PD log"),
        "{s}"
    );
    assert!(s.contains("4182 empty regions"), "{s}");
    // PD 6.5.3 in the bundle: the < 8.4 default, no assumption note.
    let cmds = commands(f);
    assert!(cmds.contains(&"pd-ctl -u <pd-addr> config set max-merge-region-size 20".to_string()));

    // A pasted config without max-merge-region-size and no PD version: the default is assumed.
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("pdctl")).unwrap();
    std::fs::write(
        d.path().join("pdctl/config.json"),
        "» config show\n{\n  \"schedule\": {\n    \"merge-schedule-limit\": 0,\n    \"split-merge-interval\": \"1h0m0s\"\n  }\n}\n",
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules/pd/pd.merge-disabled-by-config/fire/pd-10.0.1.1-2379/metrics.txt"),
        d.path().join("metrics.txt"),
    )
    .unwrap();
    let v = analyze(d.path());
    let f = findings(&v, "pd.merge-disabled-by-config")[0];
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("read from pd-ctl config"), "{s}");
    assert!(
        s.contains("max-merge-region-size not in the bundle (default 20 MiB; 54 MiB from PD 8.4, and the bundle shows no PD version assumed)"),
        "{s}"
    );
    assert!(
        evidence(f).contains(&("pdctl/config.json".to_string(), 2)),
        "{:?}",
        evidence(f)
    );
    let texts: Vec<&str> = f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("(assumed PD < 8.4.0")),
        "{texts:?}"
    );
}

#[test]
fn unsafe_recovery_severity_follows_the_stage() {
    // Failed (PD 7.5 capitalisation): critical, with the error.
    let v = fixture("rules/tikv/tikv.unsafe-recovery-status/failed");
    let f = findings(&v, "tikv.unsafe-recovery-status");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "critical");
    let s = f[0]["summary"].as_str().unwrap();
    assert!(s.contains("FAILED: Exceeds timeout"), "{s}");
    assert!(s.contains("Stores that had not reported: 3"), "{s}");
    assert!(evidence(f[0]).contains(&("pdctl/unsafe_recovery_show.txt".into(), 30)));
    // Finished, read from PD's own JSON log lines: info with the tables to check.
    let v = fixture("rules/tikv/tikv.unsafe-recovery-status/finished");
    let f = findings(&v, "tikv.unsafe-recovery-status");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "info");
    let s = f[0]["summary"].as_str().unwrap();
    assert!(s.contains("Affected table ids: 64,27"), "{s}");
    assert!(s.contains("ADMIN CHECK TABLE"), "{s}");
    assert_eq!(
        evidence(f[0]).last().unwrap(),
        &("pd-10.0.1.1-2379/log/pd.log".to_string(), 7)
    );
    // Stuck: names the stores that did not report.
    let v = fixture("rules/tikv/tikv.unsafe-recovery-status/fire");
    let f = findings(&v, "tikv.unsafe-recovery-status")[0];
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("Stores that have not reported: 2,3"), "{s}");
    assert!(s.contains("demote failed voter"), "{s}");
}

#[test]
fn majority_loss_remediation_follows_the_pd_version() {
    let v = fixture("rules/tikv/tikv.majority-replicas-lost/fire");
    let f = findings(&v, "tikv.majority-replicas-lost")[0];
    let cmds = commands(f);
    assert!(!cmds.iter().any(|c| c.starts_with("tikv-ctl")), "{cmds:?}");
    assert!(f["summary"].as_str().unwrap().contains("LOSSY"));
    // Region 2001 keeps 2 of 3 voters: not lost.
    assert!(!ids(&f["entities"]["regions"]).contains(&2001));

    // The same bundle seen by pd-ctl 5.2.1: the offline tikv-ctl path.
    let d = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules/tikv/tikv.majority-replicas-lost/fire/pdctl");
    std::fs::create_dir_all(d.path().join("pdctl")).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let t = std::fs::read_to_string(&p)
            .unwrap()
            .replace("ctl:v6.5.3", "ctl:v5.2.1");
        std::fs::write(d.path().join("pdctl").join(p.file_name().unwrap()), t).unwrap();
    }
    let v = analyze(d.path());
    let f = findings(&v, "tikv.majority-replicas-lost")[0];
    let cmds = commands(f);
    assert!(
        cmds.contains(&"tikv-ctl --data-dir <data-dir> unsafe-recover remove-fail-stores -s 4,5 --all-regions".to_string()),
        "{cmds:?}"
    );
    assert!(
        !cmds
            .iter()
            .any(|c| c.contains("unsafe remove-failed-stores 4,5")),
        "{cmds:?}"
    );
}

#[test]
fn offline_store_stall_compares_snapshots() {
    let v = fixture("rules/tikv/tikv.store-offline-stalled/fire");
    let f = findings(&v, "tikv.store-offline-stalled")[0];
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("region_count 312 → 312"), "{s}");
    assert!(s.contains("1h32m apart"), "{s}");
    assert_eq!(f["entities"]["nodes"][0], "10.0.1.7:20160");
    let ev = evidence(f);
    assert!(
        ev.contains(&("pdctl/store_5_0903.txt".into(), 14)),
        "{ev:?}"
    );
}

#[test]
fn storage_failures_split_region_storage_from_etcd() {
    let v = fixture("rules/pd/pd.storage-write-failed/fire");
    let f = findings(&v, "pd.storage-write-failed");
    assert_eq!(f[0]["severity"], "critical");
    assert!(
        f[0]["summary"]
            .as_str()
            .unwrap()
            .contains("database space exceeded")
    );
    // The LevelDB lines mention `no space left on device` too, but are the warning case.
    let crit: Vec<u64> = evidence(f[0]).iter().map(|e| e.1).collect();
    assert_eq!(crit, vec![8, 9]);
    assert_eq!(f[1]["severity"], "warning");
    let warn: Vec<u64> = evidence(f[1]).iter().map(|e| e.1).collect();
    assert_eq!(warn, vec![4, 5, 6]);
    assert!(f[1]["summary"].as_str().unwrap().contains("tikv/pd#5976"));
}

#[test]
fn rejected_operator_points_to_the_leaderless_rule() {
    let v = fixture("rules/pd/pd.operator-rejected/fire");
    let f = findings(&v, "pd.operator-rejected");
    let no_leader = f
        .iter()
        .find(|x| x["title"].as_str().unwrap().contains("no leader"))
        .unwrap();
    assert!(
        no_leader["summary"]
            .as_str()
            .unwrap()
            .contains("tikv.offline-store-pinned-by-leaderless-region")
    );
    let ev: Vec<u64> = evidence(no_leader).iter().map(|e| e.1).collect();
    assert_eq!(ev, vec![3, 7]);
}

#[test]
fn prometheus_error_bodies_are_reported_not_read() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pd_checker_event_count.json"),
        r#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries","data":{"resultType":"matrix","result":[]}}"#,
    )
    .unwrap();
    let v = analyze(d.path());
    let i = &v["inputs"][0];
    assert_eq!(i["kind"], "prometheus-json");
    assert_eq!(i["status"], "failed");
    assert!(
        i["reason"]
            .as_str()
            .unwrap()
            .contains("exceeded maximum resolution"),
        "{i}"
    );
}

#[test]
fn operator_show_snapshots_with_the_same_step_are_a_stuck_merge() {
    let d = tempfile::tempdir().unwrap();
    let op = |step: u32| {
        format!(
            "$ tiup ctl:v7.5.1 pd -u http://10.0.1.1:2379 operator show\n[\n  \"merge-region {{merge: region 512607784 to 513499180}} (kind:leader,region,merge, region:512607784(244793,40956), createAt:2024-07-22 20:02:58.803075332 +0800 CST m=+27423622.512140371, startAt:2024-07-22 20:02:58.803798029 +0800 CST m=+27423622.512863076, currentStep:{step}, size:1, steps:[0:{{add learner peer 612422577 on store 16910359}}, 1:{{promote learner peer 612422577 on store 16910359 to voter}}, 2:{{remove peer on store 16910361}}, 3:{{merge region 512607784 into region 513499180}}], timeout:[34m0s])\"\n]\n"
        )
    };
    std::fs::create_dir_all(d.path().join("pdctl")).unwrap();
    std::fs::write(d.path().join("pdctl/operators_1.txt"), op(2)).unwrap();
    std::fs::write(d.path().join("pdctl/operators_2.txt"), op(2)).unwrap();
    let v = analyze(d.path());
    for i in v["inputs"].as_array().unwrap() {
        assert_eq!(i["kind"], "pdctl-operators", "{i}");
        assert_eq!(i["status"], "parsed", "{i}");
    }
    let f = findings(&v, "pd.merge-operator-stuck");
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(
        f[0]["summary"]
            .as_str()
            .unwrap()
            .contains("`remove peer on store 16910361`")
    );
    assert_eq!(ids(&f[0]["entities"]["stores"]), vec![16910361]);
    // Progress between the snapshots: not stuck.
    std::fs::write(d.path().join("pdctl/operators_2.txt"), op(3)).unwrap();
    let v = analyze(d.path());
    assert!(findings(&v, "pd.merge-operator-stuck").is_empty());
}

/// Optional: real PD logs from `../shared/realogs` (absent on most machines) must yield
/// operators wherever they log one, and no PD scheduling rule may fire on them by accident.
#[test]
fn real_pd_operator_lines_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realogs");
    if !dir.is_dir() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let mut seen = 0;
    for sub in [
        "tikv-pd-pd1log",
        "tikv-pd-testrun-logs",
        "taas-experiment-pd",
    ] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(files) = std::fs::read_dir(e.path()) else {
                continue;
            };
            for f in files.flatten() {
                let text = String::from_utf8_lossy(&std::fs::read(f.path()).unwrap()).into_owned();
                for line in text.lines().filter(|l| l.contains("[operator=\"")) {
                    let raw = &line[line.find("[operator=").unwrap() + 10..];
                    let end = raw.rfind("\"]").map_or(raw.len(), |p| p + 1);
                    let field: String = serde_json::from_str(&raw[..end]).unwrap_or_default();
                    let op = kvtriage::parse::operator::Operator::parse(&field);
                    assert!(op.is_some(), "{line}");
                    let op = op.unwrap();
                    assert!(op.region.is_some(), "{line}");
                    assert!(!op.steps.is_empty(), "{line}");
                    seen += 1;
                }
            }
        }
    }
    eprintln!("realogs: {seen} operator lines parsed");
}

#[test]
fn merge_backlog_example_bundle() {
    // tiup diag layout: a stuck merge in pd.log, merge-checker and region metrics.
    let v = fixture("fixtures/pd-merge-backlog");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec![
            "pd.empty-region-pileup",
            "pd.merge-blocked",
            "pd.merge-operator-stuck",
            "pd.memory-growth-after-merges",
        ]
    );
    for i in v["inputs"].as_array().unwrap() {
        assert_eq!(i["status"], "parsed", "{i}");
    }
    let f = findings(&v, "pd.merge-operator-stuck")[0];
    assert_eq!(f["entities"]["nodes"][0], "10.0.1.1:2379");
    assert_eq!(
        evidence(f)[0],
        ("10.0.1.1/tidb-deploy/pd-2379/log/pd.log".to_string(), 5)
    );
}
