//! End-to-end tests: run the binary on the fixtures and assert on the JSON report.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
mod common;
use common::{findings, ids};

fn kvtriage() -> Command {
    let mut c = Command::cargo_bin("kvtriage").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "120");
    c
}

fn analyze_json(args: &[&str]) -> (Value, i32) {
    let out = kvtriage()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap())
}

#[test]
fn example_bundle_end_to_end() {
    let (v, code) = analyze_json(&["fixtures/scale-in-stuck"]);
    assert_eq!(code, 1, "a critical finding exits 1");
    assert_eq!(v["schema"], "kvtriage.report/v1");
    assert_eq!(v["tool"]["name"], "kvtriage");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The pasted refusals also give pd.operator-rejected, pointing at the same cause.
    assert_eq!(rules[0], "tikv.offline-store-pinned-by-leaderless-region");
    assert!(rules.contains(&"tikv.batch-raft-send-fail"), "{rules:?}");
    assert!(
        rules.iter().all(|r| [
            "tikv.offline-store-pinned-by-leaderless-region",
            "tikv.batch-raft-send-fail",
            "pd.operator-rejected"
        ]
        .contains(r)),
        "{rules:?}"
    );

    let f = findings(&v, "tikv.offline-store-pinned-by-leaderless-region")[0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(ids(&f["entities"]["stores"]), vec![5]);
    assert_eq!(ids(&f["entities"]["regions"]), vec![434317]);
    assert_eq!(
        f["title"],
        "Store 5 cannot become Tombstone: region 434317 has no leader"
    );
    let ev: Vec<(String, u64)> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        ev.contains(&("pdctl/region_store_5.txt".into(), 7)),
        "{ev:?}"
    );
    assert!(
        ev.contains(&("pdctl/region_store_5.txt".into(), 45)),
        "leader line: {ev:?}"
    );
    assert!(
        ev.contains(&("pdctl/operator_attempts.txt".into(), 3)),
        "{ev:?}"
    );
    let leader = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["line"] == 45)
        .unwrap();
    assert_eq!(leader["excerpt"], "\"leader\": {");
    let cmds: Vec<&str> = f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["command"].as_str())
        .collect();
    // TiKV 5.2.1 in the bundle: the >= 5.1 tikv-ctl form, never `--db`.
    assert!(
        cmds.contains(&"tikv-ctl --data-dir <data-dir> tombstone -r 434317 --force"),
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| c.contains("--db")));
    assert!(
        cmds.contains(&"curl -X POST 'http://10.203.93.30:2379/pd/api/v1/store/5/state?state=Up'")
    );
    assert!(
        !cmds.iter().any(|c| c.contains("cancel-delete")),
        "pd-ctl 5.2.1 has no cancel-delete"
    );
    let risks: Vec<&str> = f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["risk"].as_str().unwrap())
        .collect();
    assert_eq!(risks[0], "read-only", "read-only steps first");
    assert!(f["summary"].as_str().unwrap().contains("390553,390554"));

    let b = findings(&v, "tikv.batch-raft-send-fail")[0];
    assert_eq!(b["severity"], "warning", "5.2.1 is exposed to tikv#9714");
    assert_eq!(
        b["evidence"][0]["path"],
        "tikv-10.203.93.36-20160/log/tikv.log"
    );
    assert_eq!(b["evidence"][0]["line"], 3);
    assert_eq!(b["entities"]["nodes"][0], "10.203.93.36:20160");
    assert_eq!(v["summary"]["critical"], 1);
    assert!(v["summary"]["warning"].as_u64().unwrap() >= 1);
}

/// Every file of a fixture directory is listed in `inputs`.
fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn every_input_is_accounted_for() {
    for dir in [
        "fixtures/scale-in-stuck",
        "rules/tikv/tikv.scale-in-no-target-store/fire",
    ] {
        let (v, _) = analyze_json(&[dir]);
        let mut want = Vec::new();
        files_under(Path::new(dir), Path::new(dir), &mut want);
        want.sort();
        let got: Vec<String> = v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{dir}");
        for i in v["inputs"].as_array().unwrap() {
            assert_eq!(i["status"], "parsed", "{i}");
            assert_ne!(i["kind"], "unknown");
        }
    }
}

struct Case {
    rule: &'static str,
    fire: &'static str,
    near_miss: &'static str,
    /// Expected on the fire side: severity, stores, regions.
    severity: &'static str,
    stores: &'static [u64],
    regions: &'static [u64],
    /// Near-miss may still report the rule at this lower severity (never above).
    near_miss_allows: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        rule: "tikv.offline-store-pinned-by-leaderless-region",
        fire: "fixtures/scale-in-stuck",
        near_miss: "rules/tikv/tikv.offline-store-pinned-by-leaderless-region/quiet",
        severity: "critical",
        stores: &[5],
        regions: &[434317],
        near_miss_allows: None,
    },
    Case {
        rule: "tikv.scale-in-no-target-store",
        fire: "rules/tikv/tikv.scale-in-no-target-store/fire",
        near_miss: "rules/tikv/tikv.scale-in-no-target-store/quiet",
        severity: "critical",
        stores: &[3],
        regions: &[],
        near_miss_allows: None,
    },
    Case {
        rule: "tikv.scale-in-blocked-by-space",
        fire: "rules/tikv/tikv.scale-in-blocked-by-space/fire",
        // PD's "no extra up store" line in a 3-store cluster with free disks is no-target.
        near_miss: "rules/tikv/tikv.scale-in-no-target-store/fire",
        severity: "warning",
        stores: &[4],
        regions: &[],
        near_miss_allows: None,
    },
    Case {
        rule: "tikv.batch-raft-send-fail",
        fire: "fixtures/scale-in-stuck",
        near_miss: "rules/tikv/tikv.batch-raft-send-fail/quiet",
        severity: "warning",
        // The logging TiKV's address is store 5 in the pd-ctl store list.
        stores: &[5],
        regions: &[],
        near_miss_allows: Some("info"),
    },
    Case {
        rule: "tikv.raft-message-too-large",
        fire: "rules/tikv/tikv.raft-message-too-large/fire",
        near_miss: "rules/tikv/tikv.raft-message-too-large/quiet",
        severity: "warning",
        stores: &[1],
        regions: &[],
        near_miss_allows: None,
    },
    Case {
        rule: "tikv.store-disconnected",
        fire: "rules/tikv/tikv.store-disconnected/fire",
        near_miss: "rules/tikv/tikv.store-disconnected/quiet",
        severity: "warning",
        stores: &[4],
        regions: &[],
        near_miss_allows: None,
    },
    Case {
        rule: "generic.error-burst",
        fire: "rules/generic/generic.error-burst/fire",
        near_miss: "rules/generic/generic.error-burst/quiet",
        severity: "info",
        stores: &[],
        regions: &[],
        near_miss_allows: None,
    },
    Case {
        rule: "tikv.store-down",
        fire: "rules/tikv/tikv.store-down/fire",
        near_miss: "rules/tikv/tikv.store-down/quiet",
        severity: "critical",
        stores: &[4],
        regions: &[],
        near_miss_allows: None,
    },
];

#[test]
fn each_rule_fires_on_its_fixture_and_not_on_its_near_miss() {
    for c in CASES {
        let (v, _) = analyze_json(&[c.fire]);
        let f = findings(&v, c.rule);
        assert_eq!(f.len(), 1, "{} should fire once on {}", c.rule, c.fire);
        let f = f[0];
        assert_eq!(f["severity"], c.severity, "{}", c.rule);
        assert_eq!(ids(&f["entities"]["stores"]), c.stores, "{}", c.rule);
        assert_eq!(ids(&f["entities"]["regions"]), c.regions, "{}", c.rule);
        assert!(
            !f["evidence"].as_array().unwrap().is_empty(),
            "{} has evidence",
            c.rule
        );
        for e in f["evidence"].as_array().unwrap() {
            assert!(e["line"].as_u64().unwrap() >= 1);
            assert!(
                !e["excerpt"].as_str().unwrap().is_empty(),
                "{}: {e}",
                c.rule
            );
        }
        assert!(!f["remediation"].as_array().unwrap().is_empty());

        let (v, _) = analyze_json(&[c.near_miss]);
        for f in findings(&v, c.rule) {
            match c.near_miss_allows {
                Some(sev) => assert_eq!(f["severity"], sev, "{} near-miss", c.rule),
                None => panic!("{} fired on its near-miss {}: {f}", c.rule, c.near_miss),
            }
        }
    }
}

#[test]
fn stale_disconnected_record_is_a_note_not_a_finding() {
    let (v, code) = analyze_json(&["rules/tikv/tikv.store-disconnected/quiet"]);
    assert_eq!(code, 0);
    assert!(v["findings"].as_array().unwrap().is_empty());
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("store 4 shows Disconnected"))
    );
}

#[test]
fn raft_message_too_large_names_the_sizes_and_sender() {
    let (v, _) = analyze_json(&["rules/tikv/tikv.raft-message-too-large/fire"]);
    let f = findings(&v, "tikv.raft-message-too-large")[0];
    assert_eq!(f["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(f["evidence"][0]["line"], 2);
    assert_eq!(f["entities"]["nodes"][0], "10.0.1.6:20160");
}

#[test]
fn scale_in_rules_state_their_assumptions_and_targets() {
    let (v, _) = analyze_json(&["rules/tikv/tikv.scale-in-blocked-by-space/fire"]);
    let f = findings(&v, "tikv.scale-in-blocked-by-space")[0];
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("store 2 89% used"), "{s}");
    assert!(findings(&v, "tikv.scale-in-no-target-store").is_empty());
    let (v, _) = analyze_json(&["rules/tikv/tikv.scale-in-no-target-store/fire"]);
    let f = findings(&v, "tikv.scale-in-no-target-store")[0];
    // The PD log line is cited when present.
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"].as_str().unwrap().ends_with("pd.log"))
    );
}

#[test]
fn output_is_identical_across_thread_counts() {
    let run = |threads: &str| {
        kvtriage()
            .env("RAYON_NUM_THREADS", threads)
            .args(["analyze", "fixtures", "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}

#[test]
fn formats_render() {
    for (fmt, needle) in [
        ("table", "tikv.offline-store-pinned-by-leaderless-region"),
        ("markdown", "| # | severity | rule |"),
        ("jsonl", "\"rule\":\"tikv.batch-raft-send-fail\""),
    ] {
        let out = kvtriage()
            .args(["analyze", "fixtures/scale-in-stuck", "--format", fmt])
            .output()
            .unwrap();
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(s.contains(needle), "{fmt}: {s}");
        assert!(!s.contains("\x1b["), "{fmt}: no colour when not a terminal");
    }
    let out = kvtriage()
        .args([
            "analyze",
            "fixtures/scale-in-stuck",
            "--format",
            "table",
            "--color",
            "always",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[1;31m"));
    let out = kvtriage()
        .args(["analyze", "fixtures/scale-in-stuck", "--format", "jsonl"])
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!((2..=3).contains(&lines), "{lines}");
}

#[test]
fn fail_on_and_quiet() {
    let code = |args: &[&str]| {
        kvtriage()
            .arg("analyze")
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
            .unwrap()
    };
    let near = "rules/tikv/tikv.batch-raft-send-fail/quiet";
    assert_eq!(code(&[near, "-q"]), 0, "only an info finding");
    assert_eq!(code(&[near, "-q", "--fail-on", "info"]), 1);
    assert_eq!(
        code(&["fixtures/scale-in-stuck", "-q", "--fail-on", "never"]),
        0
    );
    let out = kvtriage()
        .args(["analyze", "fixtures/scale-in-stuck", "-q"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stdin_is_an_input() {
    let log =
        std::fs::read("fixtures/scale-in-stuck/tikv-10.203.93.36-20160/log/tikv.log").unwrap();
    let out = kvtriage()
        .args(["analyze", "-", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["path"], "<stdin>");
    assert_eq!(v["inputs"][0]["kind"], "tikv-log");
    assert_eq!(findings(&v, "tikv.batch-raft-send-fail").len(), 1);
}

#[test]
fn rules_list_needles_explain_completions_man() {
    let out = kvtriage().args(["rules", "list"]).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    for id in CASES.iter().map(|c| c.rule) {
        assert!(s.contains(id), "{id} listed");
    }
    let out = kvtriage().args(["rules", "needles"]).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.lines()
            .any(|l| l == "KvService::batch_raft send response fail")
    );
    let out = kvtriage()
        .args(["explain", "tikv.store-down"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("max-store-down-time"));
    let out = kvtriage().args(["explain", "no.such"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    for sh in ["bash", "zsh", "fish"] {
        let out = kvtriage().args(["completions", sh]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 100, "{sh}");
    }
    let out = kvtriage().arg("man").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH"));
}

#[test]
fn big_file_chunked_scan_is_deterministic_and_exact() {
    // > 8 MiB, so the file is split in chunks scanned in parallel.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("tikv-10.0.1.5-20160/log");
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = String::new();
    let mut n = 0u64;
    while s.len() < 20 << 20 {
        n += 1;
        if n.is_multiple_of(50_000) {
            s.push_str("[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=RemoteStopped]\n");
        } else {
            s.push_str(&format!("[2022/03/28 09:34:38.062 +08:00] [INFO] [raft.rs:1120] [\"became follower at term 5\"] [term=5] [raft_id={n}] [region_id={n}]\n"));
        }
    }
    std::fs::write(dir.join("tikv.log"), &s).unwrap();
    let run = |threads: &str| {
        kvtriage()
            .env("RAYON_NUM_THREADS", threads)
            .args(["analyze", "--format", "json"])
            .arg(d.path())
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let v: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(v["inputs"][0]["records"].as_u64().unwrap(), n);
    let f = findings(&v, "tikv.batch-raft-send-fail")[0];
    let lines: Vec<u64> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = (1..=n)
        .filter(|k| k.is_multiple_of(50_000))
        .take(5)
        .collect();
    assert!(want.len() >= 3);
    assert_eq!(lines, want);
}

#[test]
fn node_identity_from_log_content() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("cockroach.log"),
        "I210323 20:53:44.765068 611 1@util/log/event_log.go:32 \u{22ee} [n1] 20 ={\"Timestamp\":1616532824096394000,\"EventType\":\"node_restart\",\"NodeID\":1,\"StartedAt\":1616532823668899000,\"LastUp\":1616532816150919000}\n\
I210323 20:53:45.001234 611 server/node.go:464 \u{22ee} [n1] 21  started with engine type \u{2039}2\u{203a}\n",
    )
    .unwrap();
    let (v, _) = analyze_json(&[d.path().to_str().unwrap()]);
    assert_eq!(v["inputs"][0]["kind"], "crdb-log");
    assert_eq!(v["inputs"][0]["node"], "n1");
}

/// Every subcommand has its man page, naming each of its options.
#[test]
fn man_pages_per_subcommand_with_every_option() {
    let d = tempfile::tempdir().unwrap();
    let out = kvtriage()
        .args(["man", "--dir"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut files: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for page in [
        "kvtriage.1",
        "kvtriage-analyze.1",
        "kvtriage-timeline.1",
        "kvtriage-rules.1",
        "kvtriage-rules-list.1",
        "kvtriage-rules-test.1",
        "kvtriage-explain.1",
        "kvtriage-completions.1",
        "kvtriage-man.1",
    ] {
        assert!(files.iter().any(|f| f == page), "{page} in {files:?}");
    }
    // Each option `--help` shows is in the page (roff escapes `-` as `\-`).
    for (sub, page) in [
        ("analyze", "kvtriage-analyze.1"),
        ("timeline", "kvtriage-timeline.1"),
    ] {
        let help = kvtriage().args([sub, "--help"]).output().unwrap().stdout;
        let help = String::from_utf8(help).unwrap();
        let roff = std::fs::read_to_string(d.path().join(page)).unwrap();
        let longs: Vec<&str> = help
            .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == '=')
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
            .collect();
        assert!(longs.len() >= 10, "{sub}: {longs:?}");
        for l in longs {
            let esc = l.replace('-', "\\-");
            assert!(roff.contains(&format!("\\fB{esc}\\fR")), "{page} lacks {l}");
        }
        assert!(roff.contains(&format!(".TH kvtriage-{sub} 1")), "{roff}");
        assert!(
            roff.contains("\\fB\\-o\\fR, \\fB\\-\\-output\\fR"),
            "{page}: -o"
        );
    }
    // `man analyze` prints the same page; `man rules list` a nested one.
    let one = kvtriage().args(["man", "analyze"]).output().unwrap().stdout;
    assert_eq!(
        String::from_utf8(one).unwrap(),
        std::fs::read_to_string(d.path().join("kvtriage-analyze.1")).unwrap()
    );
    let nested = kvtriage().args(["man", "rules", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&nested.stdout).contains(".TH kvtriage-rules-list 1"));
    let bad = kvtriage().args(["man", "analyse"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean \"analyze\""));
}

/// The completion scripts offer the rule ids where a rule id goes.
#[test]
fn completions_complete_rule_ids() {
    let list = kvtriage()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    let rules: Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() > 20);
    for sh in ["bash", "zsh", "fish"] {
        let out = kvtriage().args(["completions", sh]).output().unwrap();
        let s = String::from_utf8(out.stdout).unwrap();
        for id in &ids {
            assert!(s.contains(id), "{sh}: {id}");
        }
    }
    let script = |sh: &str| {
        String::from_utf8(
            kvtriage()
                .args(["completions", sh])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    };
    // fish: the values of analyze's --only (a list spanning lines, up to the next command).
    let fish = script("fish");
    let at = fish
        .find("__fish_kvtriage_using_subcommand analyze\" -l only")
        .unwrap();
    let end = fish[at..]
        .find("\ncomplete -c")
        .map_or(fish.len(), |e| at + e);
    assert!(
        fish[at..end].contains("tikv.store-down"),
        "{}",
        &fish[at..end]
    );
    // bash: explain's words; zsh: the RULE argument of explain and rules show.
    let bash = script("bash");
    let at = bash.find("kvtriage__subcmd__explain)\n").unwrap();
    let opts = bash[at..].lines().nth(1).unwrap();
    assert!(opts.contains("tikv.store-down"), "{opts}");
    let zsh = script("zsh");
    let rule_args: Vec<&str> = zsh.lines().filter(|l| l.contains("':rule -- ")).collect();
    assert_eq!(rule_args.len(), 2, "{rule_args:?}");
    assert!(rule_args.iter().all(|l| l.contains("tikv.store-down")));
    // The parser itself still takes a user rule's id (checked against the loaded rules).
    let out = kvtriage()
        .args(["analyze", "fixtures/scale-in-stuck", "--only", "my.rule"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule \"my.rule\""));
}

/// `-o FILE` writes what stdout would have held (JSON, as when stdout is no terminal).
#[test]
fn output_file_for_every_report() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("r.json");
    let out = kvtriage()
        .args(["analyze", "fixtures/scale-in-stuck", "-o"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the exit code still tells");
    assert!(out.stdout.is_empty());
    let stdout = kvtriage()
        .args(["analyze", "fixtures/scale-in-stuck"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(std::fs::read(&f).unwrap(), stdout);
    let v: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(v["schema"], "kvtriage.report/v1");
    // Markdown too, with --output before the subcommand.
    let md = d.path().join("r.md");
    let out = kvtriage()
        .arg("--output")
        .arg(&md)
        .args(["analyze", "fixtures/scale-in-stuck", "-f", "markdown"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .contains("tikv.offline-store-pinned-by-leaderless-region")
    );
    for args in [
        &["rules", "list"][..],
        &["explain", "tikv.store-down"],
        &["timeline", "fixtures/scale-in-stuck"],
        &["man"],
    ] {
        let f = d.path().join("x.out");
        let out = kvtriage().args(args).arg("-o").arg(&f).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let plain = kvtriage().args(args).output().unwrap().stdout;
        assert_eq!(std::fs::read(&f).unwrap(), plain, "{args:?}");
    }
    let out = kvtriage()
        .args([
            "analyze",
            "fixtures/scale-in-stuck",
            "-o",
            "/nonexistent/dir/r.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create /nonexistent/dir/r.json"));
}
