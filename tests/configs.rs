//! Configuration documents as facts (issue 12, part 5): `kvtriage analyze` on a folder of real
//! config files, topologies, TidbCluster specs and pd-ctl config answers
//! (`tests/data/configs/samples`, provenance in `tests/data/configs/SOURCE.md`) lists every
//! file with its kind, records and `partial`, and rules read what they hold.

mod common;

use common::{Shape, shape};
use kvtriage::model::{Component, InputId};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Records: settings for a config file; instances and settings for a deployment; documents
/// (or whole placement rules recovered) for pd-ctl answers.
const SHAPES: &[Shape] = &[
    shape("tikv-docker-compose.toml", "tikv-config", 4, None),
    shape(
        "cut-tikv-docker-compose.toml",
        "tikv-config",
        1,
        Some("cut at line 79"),
    ),
    // Cut by the search index inside a comment: nothing visible is lost.
    shape("tikv-issue-2913-pasted-excerpt.txt", "tikv-config", 1, None),
    shape("pd-conf-namespace-era.toml", "pd-config", 30, None),
    // Every setting commented out: the defaults, read as such.
    shape("pd-conf-config-template.toml", "pd-config", 0, None),
    shape("tiup-issue-1159-comment-fenced.md", "pd-config", 1, None),
    shape("tidb-docker-compose.toml", "tidb-config", 70, None),
    shape("topology-tiup-cluster-pr397.yaml", "tiup-topology", 5, None),
    shape("transcript-cat-topology.txt", "tiup-topology", 5, None),
    shape("topology-multi-dc.yaml", "tiup-topology", 39, None),
    shape("topology-tiup-tests-full.yaml", "tiup-topology", 13, None),
    shape(
        "cut-topology-example.yaml",
        "tiup-topology",
        7,
        Some("the tikv instance at line 161 is cut"),
    ),
    shape("tidbcluster-basic.yaml", "tidb-cluster-spec", 8, None),
    shape(
        "tidbcluster-eks-toml-config.yaml",
        "tidb-cluster-spec",
        11,
        None,
    ),
    shape(
        "transcript-tiup-ctl-config-show-all.txt",
        "pdctl-config",
        1,
        None,
    ),
    shape(
        "pdctl-config-show-replication.json",
        "pdctl-config",
        1,
        Some("`replication` settings only"),
    ),
    shape(
        "transcript-pdctl-config-show-replication-cluster-version.txt",
        "pdctl-config",
        2,
        Some("`config show replication`"),
    ),
    shape(
        "pdctl-placement-rules-show-elided.json",
        "pdctl-config",
        1,
        Some("elided"),
    ),
    shape(
        "pasted-placement-rules-fullwidth-comma.json",
        "pdctl-config",
        3,
        Some("not whole JSON"),
    ),
];

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/configs/samples")
}

fn analyze(files: &[&str], rules: Option<&Path>) -> Value {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for f in files {
        std::fs::copy(samples().join(f), dir.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let mut args: Vec<&std::ffi::OsStr> = Vec::new();
    if let Some(r) = rules {
        args.extend(["--rules".as_ref(), r.as_os_str()]);
    }
    args.push(dir.path().as_os_str());
    common::analyze_json(&args)
}

#[test]
fn every_config_sample_is_listed_with_kind_records_and_partial() {
    let files: Vec<&str> = SHAPES.iter().map(|s| s.file).collect();
    let v = analyze(&files, None);
    let wrong = common::listing_mismatches(&v, SHAPES);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Rules of the test, written to a folder for `--rules`.
fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let pd = r#"id = "test.pd-file-replicas"
severity = "info"
title = "max-replicas is {r}"
summary = "read from the bundle"
[query]
from = "bundle"
having = "has(config('max-replicas'))"
evidence-extra = ["config_loc('replication.max-replicas')"]
[query.vars]
r = "config('max-replicas')"
"#;
    let tikv = r#"id = "test.tikv-reserve-space"
severity = "info"
title = "reserve-space {v} on {node}"
summary = "a TiKV setting"
[query]
from = "configs"
where = "component == 'tikv' and key == 'storage.reserve-space'"
evidence = ["loc"]
[query.vars]
v = "value"
node = "coalesce(node, 'every TiKV')"
any = "config('tikv', 'storage.reserve-space')"
"#;
    for (name, text) in [("pd.toml", pd), ("tikv.toml", tikv)] {
        std::fs::write(dir.path().join(name), text).expect("a rule file");
    }
    dir
}

/// A rule's `config('max-replicas')` reads a PD config file as it reads `config show`, and its
/// evidence cites the line of the key.
#[test]
fn a_rule_reads_max_replicas_from_pd_toml_at_its_line() {
    let rules = rules_dir();
    let v = analyze(&["pd-conf-namespace-era.toml"], Some(rules.path()));
    let f = common::findings(&v, "test.pd-file-replicas");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["title"], "max-replicas is 3");
    let text =
        std::fs::read_to_string(samples().join("pd-conf-namespace-era.toml")).unwrap_or_default();
    let line = text
        .lines()
        .position(|l| l.starts_with("max-replicas = 3"))
        .map(|i| i as u64 + 1);
    let ev = common::evidence(f[0]);
    assert!(
        ev.iter()
            .any(|(p, l)| p.ends_with("pd-conf-namespace-era.toml") && Some(*l) == line),
        "{ev:?} (want line {line:?})"
    );
}

/// pd-ctl answers win over a file that only sets values at start: `config show` says 3,
/// the topology's `server_configs` 5.
#[test]
fn what_pd_runs_with_wins_over_its_files() {
    let rules = rules_dir();
    let v = analyze(
        &[
            "topology-multi-dc.yaml",
            "transcript-tiup-ctl-config-show-all.txt",
        ],
        Some(rules.path()),
    );
    let f = common::findings(&v, "test.pd-file-replicas");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["title"], "max-replicas is 3");
    let v = analyze(&["topology-multi-dc.yaml"], Some(rules.path()));
    let f = common::findings(&v, "test.pd-file-replicas");
    assert_eq!(f[0]["title"], "max-replicas is 5");
}

/// TiKV settings are rows of `configs` with their component and node.
#[test]
fn a_rule_reads_a_tikv_setting_from_a_topology() {
    let rules = rules_dir();
    let v = analyze(&["topology-tiup-tests-full.yaml"], Some(rules.path()));
    let f = common::findings(&v, "test.tikv-reserve-space");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["title"], "reserve-space 5M on every TiKV");
    let ev = common::evidence(f[0]);
    assert_eq!(ev[0].1, 10, "{ev:?}");
}

/// A tiup topology yields the instances with the addresses their stores list and the data
/// directories tiup derives.
#[test]
fn a_topology_yields_store_addresses_and_data_dirs() {
    let text = std::fs::read_to_string(samples().join("topology-tiup-tests-full.yaml"))
        .unwrap_or_default();
    let c = kvtriage::parse::topology::read(&text, InputId(0));
    let tikv: Vec<(String, String)> = c
        .facts
        .instances
        .iter()
        .filter(|i| i.role == "tikv")
        .map(|i| {
            (
                i.address.clone().unwrap_or_default(),
                i.data_dir.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        tikv,
        [
            ("n1:20160", "/home/tidb/deploy/tikv-20160/data"),
            ("n3:20160", "/home/tidb/my_kv_data"),
            ("n4:20160", "/home/tidb/deploy/tikv-20160/data"),
            ("n5:20160", "/home/tidb/deploy/tikv-20160/data"),
        ]
        .map(|(a, d)| (a.to_string(), d.to_string()))
    );
    let text =
        std::fs::read_to_string(samples().join("topology-multi-dc.yaml")).unwrap_or_default();
    let c = kvtriage::parse::topology::read(&text, InputId(0));
    let first = c.facts.instances.iter().find(|i| i.role == "tikv");
    assert_eq!(
        first.and_then(|i| i.address.as_deref()),
        Some("10.0.1.19:20160")
    );
    assert_eq!(
        first.and_then(|i| i.data_dir.as_deref()),
        Some("/tidb-data/tikv-20160")
    );
    // Each TiKV's own `config` is a record for that instance.
    let labels = c
        .facts
        .configs
        .iter()
        .find(|r| r.node.as_deref() == Some("10.0.1.19:20160"));
    assert_eq!(
        labels.and_then(|r| r.get("server.labels.host")),
        Some(&Value::from("host1"))
    );
}

/// A TidbCluster's TOML under `config: |` keeps its lines; the version and pods are facts.
#[test]
fn a_tidbcluster_spec_yields_settings_versions_and_pods() {
    let name = "tidbcluster-eks-toml-config.yaml";
    let text = std::fs::read_to_string(samples().join(name)).unwrap_or_default();
    let c = kvtriage::parse::tidb_cluster::read(&text, InputId(0));
    let pd = c
        .facts
        .configs
        .iter()
        .find(|r| r.component == Component::Pd)
        .expect("the PD config");
    assert_eq!(pd.get_f64("replication.max-replicas"), Some(3.0));
    let line = pd.loc_of("replication.max-replicas").line as usize;
    assert_eq!(
        text.lines().nth(line - 1).map(str::trim),
        Some("max-replicas = 3")
    );
    assert!(
        c.versions
            .iter()
            .any(|(comp, v, _)| *comp == Component::Tikv && v.to_string() == "8.5.4")
    );
    let pods: Vec<&str> = c
        .facts
        .instances
        .iter()
        .filter(|i| i.role == "tikv")
        .filter_map(|i| i.pod.as_deref())
        .collect();
    assert_eq!(pods, ["basic-tikv-0", "basic-tikv-1", "basic-tikv-2"]);
}

/// `config placement-rules show`: the whole-key-space rules give the replica count.
#[test]
fn placement_rules_give_the_effective_replicas() {
    let text = std::fs::read_to_string(samples().join("pdctl-placement-rules-show-elided.json"))
        .unwrap_or_default();
    let out = kvtriage::parse::pdctl::parse(&text, InputId(0));
    let r = out.configs.first().expect("a rules record");
    assert_eq!(r.get_f64("placement-rules.replicas"), Some(3.0));
    assert_eq!(r.get_f64("placement-rules.rules"), Some(1.0));
    let text = std::fs::read_to_string(
        samples().join("transcript-pdctl-config-show-replication-cluster-version.txt"),
    )
    .unwrap_or_default();
    let out = kvtriage::parse::pdctl::parse(&text, InputId(0));
    assert!(
        out.configs
            .iter()
            .any(|c| c.get("cluster-version") == Some(&Value::from("5.2.2")))
    );
    assert!(
        out.configs
            .iter()
            .any(|c| c.values.contains_key("replication.max-replicas"))
    );
}
