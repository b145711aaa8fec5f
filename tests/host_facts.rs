//! Host and cluster-setting facts (issue 12, part 5): `kvtriage analyze` on a folder holding
//! a sample of each shape (`tests/data/hostfacts/samples`, provenance in
//! `tests/data/hostfacts/SOURCE.md`) lists every file with its kind, records and `partial`;
//! the facts themselves (mount use, open-file limits, replication factors, settings, the
//! cluster size a `--join` names) are checked through the library.

mod common;

use kvtriage::model::host::Limit;
use std::path::{Path, PathBuf};

struct Shape {
    file: &'static str,
    kind: &'static str,
    records: u64,
    partial: Option<&'static str>,
    node: Option<&'static str>,
}

const fn shape(
    file: &'static str,
    kind: &'static str,
    records: u64,
    partial: Option<&'static str>,
    node: Option<&'static str>,
) -> Shape {
    Shape {
        file,
        kind,
        records,
        partial,
        node,
    }
}

const SHAPES: &[Shape] = &[
    shape("df-h-tikv-9920.txt", "df-output", 6, None, None),
    shape("df-h-path-tidb-58445.txt", "df-output", 1, None, None),
    shape(
        "df-h-wrapped-omicron-7221.txt",
        "df-output",
        2,
        None,
        Some("oxz_cockroachdb_3237a532"),
    ),
    shape("df-T-centos.txt", "df-output", 5, None, Some("centos")),
    shape("df-P-written.txt", "df-output", 2, None, None),
    shape(
        "cut-df-h-full-root.txt",
        "df-output",
        5,
        Some("cut mid-row at line 7"),
        None,
    ),
    shape("ulimit-hn-sn-n.txt", "ulimit-output", 3, None, None),
    shape(
        "ulimit-n-vagrant.txt",
        "ulimit-output",
        1,
        None,
        Some("vagrant"),
    ),
    shape("ulimit-a-rocksdb-4089.txt", "ulimit-output", 1, None, None),
    shape(
        "proc-limits-coreos-1069.txt",
        "ulimit-output",
        1,
        None,
        None,
    ),
    shape("prlimit-notes.txt", "ulimit-output", 3, None, None),
    shape(
        "zone-range-default-v19.1.txt",
        "crdb-zone-configs",
        1,
        None,
        None,
    ),
    shape(
        "zone-for-index-v23.1.txt",
        "crdb-zone-configs",
        1,
        None,
        None,
    ),
    shape("zones-box-written.txt", "crdb-zone-configs", 2, None, None),
    shape("zones-csv-written.txt", "crdb-zone-configs", 2, None, None),
    shape("zones-tsv-written.txt", "crdb-zone-configs", 2, None, None),
    shape(
        "zones-all-v23.1-first5.txt",
        "crdb-zone-configs",
        5,
        Some("29 missing"),
        None,
    ),
    shape(
        "cut-zones-all-v23.1.txt",
        "crdb-zone-configs",
        2,
        Some("cut mid-row at line 15"),
        None,
    ),
    shape(
        "settings-v23.1-public.txt",
        "crdb-cluster-settings",
        4,
        Some("elided"),
        None,
    ),
    shape(
        "setting-single-v23.1.txt",
        "crdb-cluster-settings",
        1,
        None,
        None,
    ),
    shape(
        "settings-store-dead-written.txt",
        "crdb-cluster-settings",
        3,
        None,
        None,
    ),
    shape("cockroach-gce.service", "crdb-start-command", 1, None, None),
    shape(
        "cockroachdb-statefulset.yaml",
        "crdb-start-command",
        1,
        None,
        None,
    ),
    shape(
        "cockroach-log-arguments-join.log",
        "crdb-log",
        8,
        None,
        None,
    ),
    shape("cockroach-start-transcript.txt", "crdb-log", 0, None, None),
];

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostfacts/samples")
}

#[test]
fn every_sample_is_listed_with_kind_records_partial_and_node() {
    let v = common::analyze_json(&[samples().as_os_str()]);
    let inputs = v["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), SHAPES.len(), "{inputs:#?}");
    let mut wrong = Vec::new();
    for s in SHAPES {
        match common::check_input(inputs, s.file, (s.kind, "parsed", s.records, s.partial)) {
            Ok(i) if i["node"].as_str() != s.node => {
                wrong.push(format!("{}: node {}, want {:?}", s.file, i["node"], s.node));
            }
            Ok(_) => {}
            Err(e) => wrong.push(e),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn facts() -> kvtriage::model::Facts {
    let rules = kvtriage::rules::RuleSet::builtin().expect("built-in rules");
    kvtriage::analyze(
        &kvtriage::Options {
            paths: vec![samples()],
            ..kvtriage::Options::default()
        },
        &rules,
    )
    .facts
}

#[test]
fn the_facts_each_shape_yields() {
    let f = facts();
    // df: the illumos root at 98 % and /data at 100 %, the wrapped device name kept whole.
    let full: Vec<_> = f
        .host
        .mounts
        .iter()
        .filter(|m| m.use_pct.is_some_and(|p| p >= 95.0))
        .map(|m| (m.mount.as_str(), m.use_pct))
        .collect();
    assert!(full.contains(&("/data", Some(100.0))), "{full:?}");
    assert!(full.contains(&("/", Some(98.0))), "{full:?}");
    assert!(full.contains(&("/mnt/data1", Some(97.0))), "{full:?}");
    let md0 = f.host.mounts.iter().find(|m| m.filesystem == "/dev/md0");
    assert_eq!(md0.and_then(|m| m.size), Some(550 << 30));
    let centos = f
        .host
        .mounts
        .iter()
        .find(|m| m.fstype.as_deref() == Some("xfs"));
    assert_eq!(centos.and_then(|m| m.available), Some(5939300 * 1024));
    // Open files: `ulimit -n` 1024, `/proc/63491/limits` 65536/65536, prlimit's hard 4096.
    let lims = &f.host.limits;
    assert!(
        lims.iter()
            .any(|l| l.source == "ulimit -n" && l.soft == Some(Limit::Value(1024)))
    );
    assert!(
        lims.iter()
            .any(|l| l.pid == Some(63491) && l.hard == Some(Limit::Value(65536)))
    );
    assert!(
        lims.iter()
            .any(|l| l.source == "prlimit" && l.hard == Some(Limit::Value(4096)))
    );
    assert!(
        lims.iter()
            .any(|l| l.source == "ulimit -a" && l.soft == Some(Limit::Value(900000)))
    );
    // Zones: the index's 5 replicas, the default range's 3 in 19.1's `.default`, csv and box.
    let zone = |t: &str| f.crdb.zones.iter().find(|z| z.target == t);
    assert_eq!(
        zone("INDEX vehicles@vehicles_auto_index_fk_city_ref_users").and_then(|z| z.num_replicas),
        Some(5)
    );
    assert_eq!(zone(".default").and_then(|z| z.num_replicas), Some(3));
    assert_eq!(
        zone("RANGE meta").and_then(|z| z.gc_ttl_seconds),
        Some(3600)
    );
    assert!(f.crdb.zones.iter().any(|z| z.num_voters == Some(3)));
    assert!(
        f.crdb
            .zones
            .iter()
            .any(|z| z.constraints.as_deref() == Some("{+region=us-east1: 1}"))
    );
    // Settings: a duration as given and in seconds, a single setting, a size.
    let dead = f
        .crdb
        .settings
        .iter()
        .find(|s| s.name == "server.time_until_store_dead");
    assert_eq!(dead.map(|s| s.value.as_str()), Some("15m0s"));
    assert_eq!(dead.and_then(|s| s.secs), Some(900.0));
    assert_eq!(dead.and_then(|s| s.origin.as_deref()), Some("override"));
    let flush = f
        .crdb
        .settings
        .iter()
        .find(|s| s.name == "bulkio.stream_ingestion.minimum_flush_interval");
    assert_eq!(flush.and_then(|s| s.secs), Some(5.0));
    assert!(
        f.crdb
            .settings
            .iter()
            .any(|s| s.name == "diagnostics.reporting.enabled" && s.value == "true")
    );
    // Join lists: systemd, Kubernetes, the node's logged arguments, a pasted start.
    let mut by_source: Vec<(&str, usize)> = f
        .crdb
        .joins
        .iter()
        .map(|j| (j.source, j.addresses.len()))
        .collect();
    by_source.sort();
    assert_eq!(
        by_source,
        vec![("kubernetes", 3), ("log", 3), ("shell", 3), ("systemd", 3)]
    );
}

/// Rules read the new tables and functions: a user rule over `mounts` fires on the full
/// disks, and `crdb.fd-limit` cites the `ulimit -n` the bundle shows.
#[test]
fn rules_read_the_new_tables() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    std::fs::write(
        rules.join("local.disk-nearly-full.toml"),
        r#"id = "local.disk-nearly-full"
severity = "warning"
title = "{count} mounts at 95 % or more"
summary = "{mounts}; replication factor {rf}, cluster size {size}, store dead after {dead}"
references = ["https://example.com"]

[query]
from = "mounts"
where = "use_pct >= 95"
having = "count() > 0"
evidence = ["loc"]

[query.vars]
count = "count()"
mounts = "join(list(mount), ', ')"
rf = "coalesce(crdb_num_replicas(), 'unknown')"
size = "coalesce(crdb_cluster_size(), 'unknown')"
dead = "coalesce(crdb_setting('server.time_until_store_dead'), 'unknown')"

[[remediation]]
text = "Free space"
risk = "read-only"
"#,
    )
    .expect("rule file");
    let samples = samples();
    let v = common::analyze_json(&["--rules".as_ref(), rules.as_os_str(), samples.as_os_str()]);
    let summaries: Vec<&str> = v["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["rule"] == "local.disk-nearly-full")
                .filter_map(|f| f["summary"].as_str())
                .collect()
        })
        .unwrap_or_default();
    // One finding per full mount: the illumos `/` (98 %) and `/data` (100 %), `-P`'s
    // `/mnt/data1` (97 %), the full root of the cut table (100 %).
    assert_eq!(summaries.len(), 4, "{summaries:?}");
    assert!(
        summaries.iter().any(|s| s.starts_with("/data;")),
        "{summaries:?}"
    );
    for s in &summaries {
        assert!(s.contains("replication factor 3"), "{s}");
        assert!(s.contains("cluster size 3"), "{s}");
        assert!(s.contains("store dead after 15m0s"), "{s}");
    }
}

#[test]
fn fd_limit_cites_the_ulimit_the_bundle_shows() {
    let fire = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/crdb/crdb.fd-limit/fire");
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&fire, dir.path());
    std::fs::copy(
        samples().join("ulimit-n-vagrant.txt"),
        dir.path().join("ulimit-n.txt"),
    )
    .expect("copy");
    let v = common::analyze_json(&[
        "--only".as_ref(),
        "crdb.fd-limit".as_ref(),
        dir.path().as_os_str(),
    ]);
    let summaries: Vec<&str> = v["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["summary"].as_str()).collect())
        .unwrap_or_default();
    assert!(!summaries.is_empty());
    assert!(
        summaries
            .iter()
            .all(|s| s.contains("The bundle shows an open-files limit of 1024.")),
        "{summaries:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            std::fs::create_dir_all(&t).expect("mkdir");
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// A `df` mount is tied to the TiKV instance whose data dir it holds (issue 12 part 5): the
/// tiup topology of tiup-cluster PR 397 puts TiKV on 172.19.0.103 with the default data dir
/// `/tidb-data/tikv-20160`; tikv#9920's `df -h` placed in that host's folder holds it on `/`
/// (its `/mnt/disk` does not), and the same table in the TiDB host's folder ties to nothing.
/// Two real texts from two threads, put together to test the tie.
#[test]
fn a_mount_is_tied_to_the_tikv_whose_data_dir_it_holds() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("tests/data/configs/samples/topology-tiup-cluster-pr397.yaml"),
        dir.path().join("topology.yaml"),
    )
    .expect("topology");
    for host in ["172.19.0.103", "172.19.0.101"] {
        std::fs::create_dir_all(dir.path().join(host)).expect("host dir");
        std::fs::copy(
            samples().join("df-h-tikv-9920.txt"),
            dir.path().join(host).join("df.txt"),
        )
        .expect("df");
    }
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    std::fs::write(
        rules.join("local.tikv-mounts.toml"),
        r#"id = "local.tikv-mounts"
severity = "info"
title = "{mount} holds {instance}"
summary = "{node}"
references = ["https://example.com"]

[query]
from = "mounts"
where = "has(instance)"
group-by = ["node", "mount"]
evidence = ["loc"]

[query.vars]
mount = "first(mount)"
instance = "first(instance)"
node = "first(node)"

[[remediation]]
text = "Look"
risk = "read-only"
"#,
    )
    .expect("rule file");
    let v = common::analyze_json(&[
        "--rules".as_ref(),
        rules.as_os_str(),
        "--only".as_ref(),
        "local.tikv-mounts".as_ref(),
        dir.path().as_os_str(),
    ]);
    let titles: Vec<&str> = v["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, vec!["/ holds 172.19.0.103:20160"], "{v}");
    assert_eq!(v["findings"][0]["summary"], "172.19.0.103");
}
