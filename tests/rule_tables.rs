//! The version tables and case texts the rule files carry, checked through the whole
//! pipeline on small bundles written to a temporary folder.

use kvtriage::model::{Finding, Severity};
use kvtriage::rules::RuleSet;

/// Analyses a bundle of (path, text) files with the built-in rules.
fn run(files: &[(&str, String)]) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
    let rules = RuleSet::builtin().unwrap();
    kvtriage::analyze(
        &kvtriage::Options {
            paths: vec![dir.path().to_path_buf()],
            ..kvtriage::Options::default()
        },
        &rules,
    )
    .findings
}

fn of<'a>(f: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.rule == rule).collect()
}

/// PD at a version with 2000 finished merges in its counters.
fn pd_merges(version: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "pd-10.0.1.1-2379/log/pd.log",
            format!(
                "[2024/01/01 00:00:00.000 +00:00] [INFO] [util.go:41] [\"Welcome to Placement Driver (PD)\"]\n[2024/01/01 00:00:00.000 +00:00] [INFO] [util.go:42] [PD] [release-version=v{version}]\n"
            ),
        ),
        (
            "metrics/pd.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"pd_schedule_operators_count","type":"merge-region","event":"finish","instance":"10.0.1.1:2379"},"values":[[1704067200,"0"],[1704070800,"2000"]]}]}}"#.to_string(),
        ),
    ]
}

#[test]
fn memory_fix_table_by_release_line() {
    let missing = |v: &str| -> Option<String> {
        let f = run(&pd_merges(v));
        of(&f, "pd.memory-growth-after-merges")
            .first()
            .map(|x| x.summary.clone())
    };
    let lacks = |v: &str, fixes: &[&str]| {
        let s = missing(v).unwrap_or_else(|| panic!("{v}: no finding"));
        for fix in fixes {
            assert!(s.contains(fix), "{v}: {s}");
        }
        for fix in ["#8700", "#8710", "#8698"] {
            if !fixes.contains(&fix) {
                assert!(!s.contains(fix), "{v} should have {fix}: {s}");
            }
        }
    };
    lacks("6.5.11", &["#8700", "#8710", "#8698"]);
    assert!(missing("6.5.12").is_none());
    lacks("7.1.5", &["#8700", "#8710", "#8698"]);
    assert!(missing("7.1.6").is_none());
    lacks("7.5.4", &["#8700", "#8698"]);
    assert!(missing("7.5.5").is_none());
    lacks("7.3.0", &["#8700", "#8698"]);
    lacks("6.1.7", &["#8700", "#8698"]);
    assert!(missing("8.1.2").is_none());
    lacks("8.4.0", &["#8698"]);
    assert!(missing("8.5.0").is_none());
}

/// A TiKV at a version logging the receiver-side batch_raft error once.
fn batch_raft(version: &str) -> Vec<(&'static str, String)> {
    vec![(
        "tikv-10.0.1.5-20160/log/tikv.log",
        format!(
            "[2022/03/28 09:00:00.000 +08:00] [INFO] [lib.rs:80] [\"Welcome to TiKV\"]\n[2022/03/28 09:00:00.000 +08:00] [INFO] [lib.rs:85] [\"Release Version:   {version}\"]\n[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=RemoteStopped]\n"
        ),
    )]
}

#[test]
fn batch_raft_versions_with_the_oversize_bug_warn() {
    let severity = |v: &str| {
        of(&run(&batch_raft(v)), "tikv.batch-raft-send-fail")
            .first()
            .map(|f| f.severity)
    };
    for v in ["3.0.2", "5.2.1", "5.1.3", "5.0.5", "5.3.0"] {
        assert_eq!(severity(v), Some(Severity::Warning), "{v}");
    }
    for v in ["4.0.16", "5.1.4", "5.4.0", "6.5.0", "5.3.1"] {
        assert_eq!(severity(v), Some(Severity::Info), "{v}");
    }
}

#[test]
fn refusal_meanings_point_at_their_rule() {
    let f = run(&[(
        "pdctl/operator.txt",
        "» operator add transfer-leader 434317 4\nFailed! [500] \"cannot build operator for region with no leader\"\n» operator add remove-peer 434317 4\nFailed! [500] \"region has no peer in store 4\"\n".to_string(),
    )]);
    let r = of(&f, "pd.operator-rejected");
    assert_eq!(r.len(), 2);
    let leaderless = r.iter().find(|x| x.title.contains("no leader")).unwrap();
    assert!(
        leaderless
            .summary
            .contains("tikv.offline-store-pinned-by-leaderless-region"),
        "{}",
        leaderless.summary
    );
    assert_eq!(leaderless.entities.regions, vec![434317]);
    let peer = r.iter().find(|x| x.title.contains("no peer")).unwrap();
    assert!(peer.summary.contains("check where its peers are"));
    assert_eq!(peer.entities.stores, vec![4]);
}
