//! What an input is and what became of it: its kind, status and counts, as the report lists them.

use super::InputId;
use serde::Serialize;
use std::fmt;

/// What an input is, decided from its content (the file name is only a hint).
/// The serialised names are part of the report contract: extend, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    #[serde(rename = "tikv-log")]
    TikvLog,
    #[serde(rename = "pd-log")]
    PdLog,
    #[serde(rename = "tidb-log")]
    TidbLog,
    #[serde(rename = "tiflash-log")]
    TiflashLog,
    #[serde(rename = "crdb-log")]
    CrdbLog,
    /// Kernel ring buffer or syslog of a host (`dmesg`, `/var/log/messages`).
    #[serde(rename = "host-log")]
    HostLog,
    #[serde(rename = "pdctl-store")]
    PdctlStore,
    #[serde(rename = "pdctl-stores")]
    PdctlStores,
    #[serde(rename = "pdctl-region")]
    PdctlRegion,
    #[serde(rename = "pdctl-regions")]
    PdctlRegions,
    #[serde(rename = "pdctl-config")]
    PdctlConfig,
    #[serde(rename = "pdctl-operators")]
    PdctlOperators,
    #[serde(rename = "pd-unsafe-recovery")]
    PdUnsafeRecovery,
    /// A pasted pd-ctl session that holds answers but no JSON dump (`Failed! [500] ...`).
    #[serde(rename = "pdctl-transcript")]
    PdctlTranscript,
    #[serde(rename = "crdb-node-status")]
    CrdbNodeStatus,
    #[serde(rename = "crdb-decommission-output")]
    CrdbDecommissionOutput,
    /// Go goroutine dump of a CockroachDB node (`debug zip` `nodes/<id>/stacks.txt`).
    #[serde(rename = "crdb-goroutines")]
    CrdbGoroutines,
    /// TiDB's slow query log (`tidb_slow_query.log`).
    #[serde(rename = "tidb-slow-log")]
    TidbSlowLog,
    /// `cockroach` CLI output that is an error (`ERROR: …`, `Failed running "node status"`).
    #[serde(rename = "crdb-cli-error")]
    CrdbCliError,
    /// `tikv-ctl` commands and their answers (`bad-regions`, `tombstone`, `size`, …).
    #[serde(rename = "tikv-ctl-output")]
    TikvCtlOutput,
    #[serde(rename = "prometheus-text")]
    PrometheusText,
    #[serde(rename = "prometheus-json")]
    PrometheusJson,
    /// Config files and deployments: `tikv.toml`, `pd.toml`, `tidb.toml` (also pasted), a
    /// tiup topology (`topology.yaml`, `meta.yaml`, `edit-config`), a TidbCluster spec.
    #[serde(rename = "tikv-config")]
    TikvConfig,
    #[serde(rename = "pd-config")]
    PdConfig,
    #[serde(rename = "tidb-config")]
    TidbConfig,
    #[serde(rename = "tiup-topology")]
    TiupTopology,
    #[serde(rename = "tidb-cluster-spec")]
    TidbClusterSpec,
    // Host and cluster-setting facts (issue 12 part 5).
    /// `df` output (`-h`, `-k`, `-T`, `-P`).
    #[serde(rename = "df-output")]
    DfOutput,
    /// Open-file limits: `ulimit -n|-a|-Hn|-Sn`, `/proc/<pid>/limits`, `prlimit`.
    #[serde(rename = "ulimit-output")]
    UlimitOutput,
    /// CockroachDB `SHOW ZONE CONFIGURATIONS` / `SHOW ZONE CONFIGURATION FOR ...`.
    #[serde(rename = "crdb-zone-configs")]
    CrdbZoneConfigs,
    /// CockroachDB `SHOW [ALL] CLUSTER SETTINGS` / `SHOW CLUSTER SETTING x`.
    #[serde(rename = "crdb-cluster-settings")]
    CrdbClusterSettings,
    /// A systemd unit or Kubernetes manifest that runs `cockroach start --join=...`.
    #[serde(rename = "crdb-start-command")]
    CrdbStartCommand,
    #[serde(rename = "unknown")]
    Unknown,
}

impl Kind {
    pub const ALL: [Kind; 33] = [
        Kind::TikvLog,
        Kind::PdLog,
        Kind::TidbLog,
        Kind::TiflashLog,
        Kind::CrdbLog,
        Kind::HostLog,
        Kind::PdctlStore,
        Kind::PdctlStores,
        Kind::PdctlRegion,
        Kind::PdctlRegions,
        Kind::PdctlConfig,
        Kind::PdctlOperators,
        Kind::PdUnsafeRecovery,
        Kind::PdctlTranscript,
        Kind::CrdbNodeStatus,
        Kind::CrdbDecommissionOutput,
        Kind::CrdbGoroutines,
        Kind::TidbSlowLog,
        Kind::CrdbCliError,
        Kind::TikvCtlOutput,
        Kind::PrometheusText,
        Kind::PrometheusJson,
        Kind::TikvConfig,
        Kind::PdConfig,
        Kind::TidbConfig,
        Kind::TiupTopology,
        Kind::TidbClusterSpec,
        Kind::DfOutput,
        Kind::UlimitOutput,
        Kind::CrdbZoneConfigs,
        Kind::CrdbClusterSettings,
        Kind::CrdbStartCommand,
        Kind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TikvLog => "tikv-log",
            Kind::PdLog => "pd-log",
            Kind::TidbLog => "tidb-log",
            Kind::TiflashLog => "tiflash-log",
            Kind::CrdbLog => "crdb-log",
            Kind::HostLog => "host-log",
            Kind::PdctlStore => "pdctl-store",
            Kind::PdctlStores => "pdctl-stores",
            Kind::PdctlRegion => "pdctl-region",
            Kind::PdctlRegions => "pdctl-regions",
            Kind::PdctlConfig => "pdctl-config",
            Kind::PdctlOperators => "pdctl-operators",
            Kind::PdUnsafeRecovery => "pd-unsafe-recovery",
            Kind::PdctlTranscript => "pdctl-transcript",
            Kind::CrdbNodeStatus => "crdb-node-status",
            Kind::CrdbDecommissionOutput => "crdb-decommission-output",
            Kind::CrdbGoroutines => "crdb-goroutines",
            Kind::TidbSlowLog => "tidb-slow-log",
            Kind::CrdbCliError => "crdb-cli-error",
            Kind::TikvCtlOutput => "tikv-ctl-output",
            Kind::PrometheusText => "prometheus-text",
            Kind::PrometheusJson => "prometheus-json",
            Kind::TikvConfig => "tikv-config",
            Kind::PdConfig => "pd-config",
            Kind::TidbConfig => "tidb-config",
            Kind::TiupTopology => "tiup-topology",
            Kind::TidbClusterSpec => "tidb-cluster-spec",
            Kind::DfOutput => "df-output",
            Kind::UlimitOutput => "ulimit-output",
            Kind::CrdbZoneConfigs => "crdb-zone-configs",
            Kind::CrdbClusterSettings => "crdb-cluster-settings",
            Kind::CrdbStartCommand => "crdb-start-command",
            Kind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Logs of the TiDB family in the unified (or older, or JSON) format.
    pub fn is_tidb_family_log(self) -> bool {
        matches!(
            self,
            Kind::TikvLog | Kind::PdLog | Kind::TidbLog | Kind::TiflashLog
        )
    }

    pub fn is_log(self) -> bool {
        self.is_tidb_family_log() || self == Kind::CrdbLog || self == Kind::HostLog
    }

    pub fn is_pdctl(self) -> bool {
        matches!(
            self,
            Kind::PdctlStore
                | Kind::PdctlStores
                | Kind::PdctlRegion
                | Kind::PdctlRegions
                | Kind::PdctlConfig
                | Kind::PdctlOperators
                | Kind::PdUnsafeRecovery
                | Kind::PdctlTranscript
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Parsed,
    Skipped,
    Failed,
}

/// One input as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct InputReport {
    /// Identity, given at discovery (not part of the report: paths are).
    #[serde(skip)]
    pub id: InputId,
    pub path: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Whether `node` comes from the path (a bundle layout names it) rather than the content.
    #[serde(skip)]
    pub node_from_path: bool,
    /// The envelope the log's lines came in (`docker-json`, `cri`, `kubectl-prefix`, ...),
    /// unwrapped before parsing; absent for a plain file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<&'static str>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub bytes: u64,
    /// Set when the input is a partial copy (cut short, filtered, an excerpt): what is
    /// missing, as far as the input shows it. Absent for a complete input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unparsed_lines: Option<u64>,
    /// Time of the first and last entry of a log (RFC 3339 with the log's own offset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
}

impl InputReport {
    /// A parsed input of this kind, counts to be filled in; `node` is the node its path
    /// names, if any.
    pub fn new(id: InputId, path: &str, kind: Kind, node: Option<String>) -> InputReport {
        InputReport {
            id,
            path: path.to_string(),
            kind,
            node_from_path: node.is_some(),
            node,
            envelope: None,
            status: Status::Parsed,
            reason: None,
            bytes: 0,
            partial: None,
            records: None,
            unparsed_lines: None,
            first_time: None,
            last_time: None,
        }
    }

    /// Marks the input skipped or failed with a reason.
    pub fn set_problem(&mut self, status: Status, reason: impl Into<String>) {
        self.status = status;
        self.reason = Some(reason.into());
    }

    /// Marks the input a partial copy and says what is missing.
    pub fn set_partial(&mut self, what: impl Into<String>) {
        self.partial = Some(what.into());
    }

    /// A problem that did not stop the input from being read (a cut document, a line that
    /// is not a known record): the status stays, the reason says it.
    pub fn note_problem(&mut self, reason: impl Into<String>) {
        self.reason = Some(reason.into());
    }
}
