//! `kvtriage timeline` and time windows.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;

fn run(args: &[&str]) -> (String, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

/// Two nodes logging in different zones: +08:00 and -07:00.
fn two_zone_bundle() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("tikv-10.0.1.5-20160/log");
    let b = d.path().join("pd-10.0.1.1-2379/log");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    // 10:00:01 +08:00 = 02:00:01Z; 19:00:00 -07:00 (previous day) = 02:00:00Z.
    fs::write(
        a.join("tikv.log"),
        "[2023/09/12 10:00:01.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=RemoteStopped]\n\
[2023/09/12 10:00:03.000 +08:00] [WARN] [endpoint.rs:780] [\"error-response\"] [err=\"x\"]\n\
[2023/09/12 10:00:04.000 +08:00] [INFO] [raft.rs:1228] [\"became leader at term 6\"] [term=6]\n",
    )
    .unwrap();
    fs::write(
        b.join("pd.log"),
        "[2023/09/11 19:00:00.500 -07:00] [WARN] [cluster.go:1046] [\"store does not have enough disk space\"] [store-id=2] [capacity=1889785610240] [available=202826645094]\n\
[2023/09/11 19:00:02.000 -07:00] [ERROR] [server.go:1] [\"etcdserver: mvcc: database space exceeded\"]\n",
    )
    .unwrap();
    d
}

#[test]
fn events_are_ordered_by_instant_across_zones() {
    let d = two_zone_bundle();
    let (out, code) = run(&["timeline", d.path().to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(code, 0);
    let evs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let order: Vec<(String, u64)> = evs
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("pd-10.0.1.1-2379/log/pd.log".to_string(), 1),
            ("tikv-10.0.1.5-20160/log/tikv.log".to_string(), 1),
            ("pd-10.0.1.1-2379/log/pd.log".to_string(), 2),
            ("tikv-10.0.1.5-20160/log/tikv.log".to_string(), 2),
        ],
        "{out}"
    );
    for e in &evs {
        for k in ["time", "node", "path", "line", "level", "kind", "message"] {
            assert!(!e[k].is_null(), "{k} in {e}");
        }
    }
    assert_eq!(evs[0]["time"], "2023-09-11T19:00:00.500-07:00");
    assert_eq!(evs[0]["node"], "10.0.1.1:2379");
    assert_eq!(evs[1]["kind"], "error");
}

#[test]
fn filters_narrow_the_stream() {
    let d = two_zone_bundle();
    let p = d.path().to_str().unwrap();
    let lines = |args: &[&str]| {
        let mut a = vec!["timeline", p, "--format", "jsonl"];
        a.extend_from_slice(args);
        run(&a).0.lines().count()
    };
    assert_eq!(lines(&["--node", "10.0.1.5:20160"]), 2);
    // An explicit level filters every event, rules' patterns too: the disk-space WARN
    // (a pattern) is left out.
    assert_eq!(lines(&["--level", "error"]), 2);
    assert_eq!(lines(&["--grep", "space"]), 2);
    // The same instant written in two zones.
    assert_eq!(lines(&["--since", "2023-09-12T10:00:01+08:00"]), 3);
    assert_eq!(lines(&["--since", "2023/09/11 19:00:01.000 -07:00"]), 3);
    assert_eq!(lines(&["--until", "2023-09-12T02:00:01Z"]), 1);
    let (out, _) = run(&["timeline", p]);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .starts_with("2023-09-11T19:00:00.500-07:00 10.0.1.1:2379")
    );
    let (t, _) = run(&["timeline", p, "--templates"]);
    assert!(
        t.contains("etcdserver: mvcc: database space exceeded"),
        "{t}"
    );
}

#[test]
fn analyze_respects_the_window() {
    let (v, _) = run(&[
        "analyze",
        "fixtures/scale-in-stuck",
        "--format",
        "json",
        "--since",
        "2022-03-28T09:35:00+08:00",
    ]);
    let v: Value = serde_json::from_str(&v).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"tikv.batch-raft-send-fail"), "{rules:?}");
    assert!(
        rules.contains(&"tikv.offline-store-pinned-by-leaderless-region"),
        "dumps have no time"
    );
    let (_, code) = run(&["analyze", "fixtures/scale-in-stuck", "--since", "yesterday"]);
    assert_eq!(code, 2);
}

#[test]
fn rotated_files_are_one_stream_with_gaps_said() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("tikv-10.0.1.5-20160/log");
    fs::create_dir_all(&dir).unwrap();
    let line = |t: &str| {
        format!(
            "[2023/09/12 {t} +08:00] [INFO] [raft.rs:1228] [\"became leader at term 6\"] [term=6]\n"
        )
    };
    fs::write(
        dir.join("tikv-2023-09-12T08-00-00.000.log"),
        line("07:00:00.000") + &line("08:00:00.000"),
    )
    .unwrap();
    fs::write(
        dir.join("tikv.log"),
        line("11:00:00.000") + &line("12:00:00.000"),
    )
    .unwrap();
    let (out, _) = run(&["analyze", d.path().to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let n = notes
        .iter()
        .find(|n| n.contains("rotated tikv-log files"))
        .unwrap();
    assert!(n.contains("a gap of 3h0m"), "{n}");
    assert_eq!(v["inputs"][0]["first_time"], "2023-09-12T07:00:00+08:00");
}

#[test]
fn evident_clock_skew_is_stated() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("nodes/2/logs");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("cockroach.log"),
        "I210116 21:49:17.073282 14 server/node.go:464 \u{22ee} [n2] 23  started with engine type \u{2039}2\u{203a}\n\
F210116 21:50:02.113410 151 server/server.go:247 \u{22ee} [n2] 24  clock synchronization error: this node is more than 500ms away from at least half of the known nodes (0 of 2 are within the offset)\n",
    )
    .unwrap();
    let (out, _) = run(&["analyze", d.path().to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("Clock skew is evident on n2")),
        "{notes:?}"
    );
    let (t, _) = run(&["timeline", d.path().to_str().unwrap(), "--format", "jsonl"]);
    let first: Value = serde_json::from_str(t.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "clock");
    assert_eq!(first["node"], "n2");
}

fn run_full(args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

/// Regression (issue 16): `--level error` listed 2,000 INFO pattern lines of a big bundle.
#[test]
fn level_filters_every_event_patterns_too() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("pd-10.0.1.1-2379/log");
    fs::create_dir_all(&dir).unwrap();
    // `became leader at term` is a PD rule needle logged at INFO.
    let mut s = String::new();
    for i in 0..50 {
        s.push_str(&format!(
            "[2023/09/12 10:00:{:02}.000 +08:00] [INFO] [server.go:1] [\"PD leader changed\"] [leader=pd-{i}]\n",
            i % 60
        ));
        s.push_str(&format!(
            "[2023/09/12 10:00:{:02}.500 +08:00] [INFO] [member.go:1] [\"became leader at term 7\"]\n",
            i % 60
        ));
    }
    s.push_str("[2023/09/12 10:01:00.000 +08:00] [ERROR] [server.go:1] [\"etcdserver: mvcc: database space exceeded\"]\n");
    fs::write(dir.join("pd.log"), s).unwrap();
    let p = d.path().to_str().unwrap();
    let (all, _, _) = run_full(&["timeline", p, "--format", "jsonl"]);
    let levels = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["level"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let default = levels(&all);
    assert!(
        default.iter().filter(|l| *l == "info").count() >= 50,
        "patterns at INFO are listed by default: {default:?}"
    );
    let (err, _, code) = run_full(&["timeline", p, "--format", "jsonl", "--level", "error"]);
    assert_eq!(code, 0);
    assert_eq!(levels(&err), vec!["error"], "{err}");
    let (info, _, _) = run_full(&["timeline", p, "--format", "jsonl", "--level", "info"]);
    assert_eq!(levels(&info).len(), 101);
}

/// Regression (issue 16): `--node nosuchnode` printed nothing and exited 0.
#[test]
fn unknown_node_is_an_error_naming_the_known_ones() {
    let d = two_zone_bundle();
    let p = d.path().to_str().unwrap();
    let (out, err, code) = run_full(&["timeline", p, "--node", "10.0.1.5:2016"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("10.0.1.5:2016"), "{err}");
    assert!(
        err.contains("known nodes: 10.0.1.1:2379, 10.0.1.5:20160"),
        "{err}"
    );
    assert!(err.contains("did you mean \"10.0.1.5:20160\""), "{err}");
    // A node, or a part of a path, still selects.
    let (out, _, code) = run_full(&["timeline", p, "--node", "pd-10.0.1.1"]);
    assert_eq!((code, out.lines().count()), (0, 2), "{out}");
}

/// A bundle of three nodes, each with rotated files, events interleaved across all files.
fn rotated_bundle() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (n, ip) in ["10.0.1.5", "10.0.1.6", "10.0.1.7"].iter().enumerate() {
        let dir = d.path().join(format!("tikv-{ip}-20160/log"));
        fs::create_dir_all(&dir).unwrap();
        for (f, name) in ["tikv-2023-09-12T09-00-00.000.log", "tikv.log"]
            .iter()
            .enumerate()
        {
            let mut s = String::new();
            for k in 0..40 {
                // File 0 holds 09:00-09:39, file 1 10:00-10:39; nodes interleave by second.
                s.push_str(&format!(
                    "[2023/09/12 {:02}:{k:02}:{n:02}.000 +08:00] [WARN] [store.rs:1] [\"failed to send snapshot\"] [region_id={}]\n",
                    9 + f,
                    k * 10 + n
                ));
            }
            fs::write(dir.join(name), s).unwrap();
        }
    }
    d
}

#[test]
fn limit_and_tail_cut_the_merged_stream() {
    let d = rotated_bundle();
    let p = d.path().to_str().unwrap();
    let (all, _, _) = run_full(&["timeline", p, "--format", "jsonl"]);
    let all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), 240);
    let times: Vec<String> = all
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["time"].as_str().unwrap().to_string()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "one stream ordered by time across six files");
    let (head, err, code) = run_full(&["timeline", p, "--format", "jsonl", "--limit", "7"]);
    assert_eq!(code, 0);
    assert_eq!(head.lines().collect::<Vec<_>>(), all[..7]);
    assert!(err.contains("7 of 240 events shown (the first 7)"), "{err}");
    let (tail, err, _) = run_full(&["timeline", p, "--format", "jsonl", "--tail", "5"]);
    assert_eq!(tail.lines().collect::<Vec<_>>(), all[235..]);
    assert!(err.contains("5 of 240 events shown (the last 5)"), "{err}");
    let (none, _, _) = run_full(&["timeline", p, "--tail", "0"]);
    assert!(none.is_empty());
    let (_, _, code) = run_full(&["timeline", p, "--limit", "1", "--tail", "1"]);
    assert_eq!(code, 2, "--limit and --tail conflict");
    // Text and -o: the same lines in a file, nothing on stdout.
    let file = d.path().join("out.txt");
    let (out, _, code) = run_full(&["timeline", p, "--limit", "3", "-o", file.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(
        text.starts_with("2023-09-12T09:00:00+08:00 10.0.1.5:20160 WARN "),
        "{text}"
    );
}

/// Regression (issue 16): templates were grouped per rotated file, not per node.
#[test]
fn templates_are_per_node_across_rotated_files() {
    let d = rotated_bundle();
    let p = d.path().to_str().unwrap();
    let (out, _, code) = run_full(&["timeline", p, "--templates", "--format", "jsonl"]);
    assert_eq!(code, 0);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "one row per node: {out}");
    for (r, ip) in rows.iter().zip(["10.0.1.5", "10.0.1.6", "10.0.1.7"]) {
        assert_eq!(r["node"], format!("{ip}:20160"));
        assert_eq!(r["count"], 80);
        assert_eq!(r["files"], 2);
        assert_eq!(r["template"], "failed to send snapshot");
        assert!(
            r["first"]
                .as_str()
                .unwrap()
                .starts_with("2023-09-12T09:00:")
        );
        assert!(r["last"].as_str().unwrap().starts_with("2023-09-12T10:39:"));
        assert!(
            r["sample"]
                .as_str()
                .unwrap()
                .ends_with("/log/tikv-2023-09-12T09-00-00.000.log:1"),
            "the first occurrence: {r}"
        );
    }
    let (out, _, _) = run_full(&["timeline", p, "--templates", "--node", "10.0.1.6:20160"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("in 2 files"), "{out}");
}
