//! One module per input format, behind a closed [`Format`]: [`detect`] decides an input's
//! format and kind once from its first bytes, [`read`] parses it into the model's facts.

pub mod crdb_input;
pub mod crdb_join;
pub mod crdb_log;
pub mod crdb_sql;
pub mod crdb_table;
pub mod detect;
pub mod df;
pub mod documents;
mod dump;
pub mod envelope;
pub mod error;
pub mod goroutines;
pub mod host_input;
pub mod hostlog;
pub mod input;
pub mod jsonlog;
pub mod legacy;
pub mod limits;
pub mod operator;
pub mod pd_config;
pub mod pdctl;
pub mod prometheus;
pub mod scan;
pub mod sched_input;
pub mod shell;
pub mod slow_log;
pub mod tidb_cluster;
pub mod tikv_ctl;
pub mod time;
pub mod toml_config;
pub mod topology;
pub mod unified;
pub mod unsafe_recovery;
pub mod yaml_doc;

use crate::model::{Component, Kind, Version};
use scan::LogFormat;

/// Every format kvtriage reads; a new format is a new variant and a new module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A log, read line by line through the literal prefilter (unified, legacy 2.x, JSON,
    /// CockroachDB crdb-v1/v2).
    Log(LogFormat),
    /// pd-ctl / PD API JSON, pasted pd-ctl sessions and their answers.
    Pdctl,
    /// `cockroach node status` / `node decommission` / drain output.
    CrdbCli,
    /// Go goroutine dumps of a CockroachDB node.
    Goroutines,
    /// Prometheus text exposition or API JSON.
    Metrics,
    /// `unsafe remove-failed-stores show` output.
    UnsafeRecovery,
    /// pd-ctl `operator show` / `operator check` output.
    OperatorList,
    /// TiDB's slow query log: one event per statement block.
    SlowLog,
    /// `tikv-ctl` commands and their answers.
    TikvCtl,
    /// TiKV, PD and TiDB TOML config files.
    TomlConfig,
    /// A tiup cluster topology (`topology.yaml`, `meta.yaml`).
    Topology,
    /// A TiDB Operator TidbCluster spec.
    TidbClusterSpec,
    /// Host and cluster-setting facts: `df`, open-file limits, CockroachDB zone configs,
    /// cluster settings and start configurations.
    Environment,
}

impl Format {
    /// The reader of a dump kind.
    pub fn for_dump(kind: Kind) -> Format {
        match kind {
            Kind::CrdbNodeStatus | Kind::CrdbDecommissionOutput | Kind::CrdbCliError => {
                Format::CrdbCli
            }
            Kind::TikvCtlOutput => Format::TikvCtl,
            Kind::CrdbGoroutines => Format::Goroutines,
            Kind::PrometheusText | Kind::PrometheusJson => Format::Metrics,
            Kind::PdUnsafeRecovery => Format::UnsafeRecovery,
            Kind::PdctlOperators => Format::OperatorList,
            Kind::TidbSlowLog => Format::SlowLog,
            Kind::TikvConfig | Kind::PdConfig | Kind::TidbConfig => Format::TomlConfig,
            Kind::TiupTopology => Format::Topology,
            Kind::TidbClusterSpec => Format::TidbClusterSpec,
            Kind::DfOutput
            | Kind::UlimitOutput
            | Kind::CrdbZoneConfigs
            | Kind::CrdbClusterSettings
            | Kind::CrdbStartCommand => Format::Environment,
            _ => Format::Pdctl,
        }
    }
}

/// The events a line- or block-wise dump reader kept (those that hit a rule's needle), and how
/// many records (lines, blocks) it read.
#[derive(Debug, Default)]
pub struct Kept {
    pub events: Vec<crate::model::LogEvent>,
    pub records: u64,
}

/// What reading one non-log input yields: its facts, counts for the report, a problem to
/// show as the input's reason, and versions seen (with their 1-based lines).
#[derive(Debug, Default)]
pub struct Collected<F> {
    pub facts: F,
    pub records: u64,
    pub unparsed_lines: Option<u64>,
    pub problem: Option<String>,
    /// What the input lacks as a copy (a table cut mid-row), for the report's `partial`.
    pub partial: Option<String>,
    pub versions: Vec<(Component, Version, u64)>,
}
