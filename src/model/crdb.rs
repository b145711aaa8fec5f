//! CockroachDB facts that are not log events: CLI tables read from `node status`,
//! `node decommission` and drain output, the CLI command lines pasted above them, and
//! goroutine dumps.

use super::InputId;
use serde::Serialize;

#[derive(Debug, Default)]
pub struct CrdbFacts {
    /// Tables and notable lines per input (lines are 1-based within that input).
    pub tables: Vec<(InputId, CrdbTables)>,
    /// `cockroach node <verb> ...` command lines found in CLI captures, in input then line
    /// order. They split a capture into runs and name the nodes a drain or decommission
    /// targeted (the drain output itself never names its node).
    pub commands: Vec<CliCommand>,
    /// `cockroach node <verb> ...` command lines kept as events of a CockroachDB log (a
    /// shell session pasted before the log output), in input then line order.
    pub log_commands: Vec<CliCommand>,
    /// Goroutine dumps per input (`nodes/<id>/stacks.txt`), for drains stuck in code.
    pub goroutines: Vec<(InputId, Vec<Goroutine>)>,
    /// `cockroach node decommission|recommission` invocations as their progress tables show
    /// them, per input.
    pub runs: Vec<DecommissionRun>,
    /// Zone configs, cluster settings and `--join` lists (issue 12 part 5).
    pub zones: Vec<ZoneConfig>,
    pub settings: Vec<ClusterSetting>,
    pub joins: Vec<JoinList>,
    /// `cockroach start` command lines of a pasted shell session, one per node started.
    pub starts: Vec<StartCommand>,
}

/// One `cockroach node decommission|recommission` invocation as its progress tables show it:
/// a new run starts at a pasted command line, after a completion line, or when the table's
/// node set changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecommissionRun {
    pub input: InputId,
    /// The nodes its tables list, sorted.
    pub ids: Vec<u64>,
    /// Indices of its tables in the input's [`CrdbTables::snapshots`].
    pub snapshots: Vec<usize>,
    /// Line of `No more data reported on target nodes` closing the run.
    pub completed: Option<u64>,
    pub recommission: bool,
}

/// One pasted `cockroach node decommission|recommission|drain|status ...` command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliCommand {
    pub input: InputId,
    /// 1-based line within the input.
    pub line: u64,
    /// `decommission`, `recommission`, `drain`, `status`, ...
    pub verb: String,
    /// Positional node ids (`decommission 4 5`); empty for `--self` or the old `--host` form.
    pub ids: Vec<u64>,
    /// `--host` value unless it is a `{placeholder}` from the docs.
    pub host: Option<String>,
    /// `--drain-wait` value as written (`15m`).
    pub drain_wait: Option<String>,
    pub self_flag: bool,
}

impl CrdbFacts {
    pub fn append(&mut self, mut other: CrdbFacts) {
        self.tables.append(&mut other.tables);
        self.commands.append(&mut other.commands);
        self.log_commands.append(&mut other.log_commands);
        self.goroutines.append(&mut other.goroutines);
        self.runs.append(&mut other.runs);
        self.zones.append(&mut other.zones);
        self.settings.append(&mut other.settings);
        self.joins.append(&mut other.joins);
        self.starts.append(&mut other.starts);
    }
}

/// One node row of a status or decommission table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeRow {
    pub id: u64,
    pub address: Option<String>,
    pub build: Option<String>,
    pub started_at: Option<String>,
    pub updated_at: Option<String>,
    pub locality: Option<String>,
    pub is_available: Option<bool>,
    pub is_live: Option<bool>,
    /// `gossiped_replicas` (node status) or `replicas` (decommission).
    pub replicas: Option<u64>,
    /// The column when present, else derived from `membership` (`!= active`).
    pub is_decommissioning: Option<bool>,
    pub membership: Option<String>,
    pub is_draining: Option<bool>,
    /// 1-based line of the row.
    pub line: u64,
}

/// One printed table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub rows: Vec<NodeRow>,
    /// 1-based line of the header row.
    pub header_line: u64,
    pub kind: TableKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TableKind {
    /// `cockroach node status` (any flags) and `crdb_internal` node/liveness dumps.
    NodeStatus,
    /// `cockroach node decommission` / `recommission` progress (`id, is_live, replicas, ...`).
    DecommissionProgress,
}

/// `n1 has 44 replicas blocked with error: "..."` (decommission pre-flight checks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockedRange {
    pub node: u64,
    pub replicas: u64,
    /// The error text without the surrounding quotes.
    pub error: String,
    pub line: u64,
}

/// `n<N> still has replica id <R> for range r<RID>` (decommission stall report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StallReplica {
    pub node: u64,
    pub replica: u64,
    pub range: u64,
    pub line: u64,
}

/// A notable line (`ranges blocking decommission detected`, `ERROR: ...`, drain progress...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextMark {
    pub line: u64,
    /// The line trimmed (for a log line: its message).
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CrdbTables {
    pub snapshots: Vec<Snapshot>,
    pub blocked: Vec<BlockedRange>,
    pub stall_replicas: Vec<StallReplica>,
    pub marks: Vec<TextMark>,
    /// Rows + blocked + stall lines + marks.
    pub records: u64,
    /// Non-blank lines that are none of the above and not table structure or a command line.
    pub unparsed_lines: u64,
    /// Line of a table row cut short at the end of the text (left out of the table).
    pub cut_row: Option<u64>,
}

/// One goroutine of a Go dump (`debug=2` text form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Goroutine {
    pub id: u64,
    /// `select`, `chan receive`, `semacquire`, `IO wait`, `running`, ...
    pub state: String,
    /// How long it has been blocked, when the runtime says (`7 minutes`).
    pub wait_minutes: Option<u64>,
    /// 1-based line of the head.
    pub line: u64,
    pub frames: Vec<Frame>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// `github.com/cockroachdb/cockroach/pkg/kv/kvserver.(*Store).SetDraining`, arguments
    /// dropped; `created by ...` frames keep their prefix.
    pub func: String,
    /// `github.com/.../store.go:1588` (offset dropped).
    pub file: Option<String>,
    /// 1-based line of the function line.
    pub line: u64,
}

/// One replication zone of `SHOW ZONE CONFIGURATIONS` / `SHOW ZONE CONFIGURATION FOR ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneConfig {
    pub input: InputId,
    /// 1-based line of the zone's first row.
    pub line: u64,
    /// `RANGE default`, `DATABASE system`, `TABLE db.public.t` (older releases: `.default`).
    pub target: String,
    pub num_replicas: Option<u64>,
    pub num_voters: Option<u64>,
    pub gc_ttl_seconds: Option<u64>,
    pub range_min_bytes: Option<u64>,
    pub range_max_bytes: Option<u64>,
    pub constraints: Option<String>,
    pub voter_constraints: Option<String>,
    pub lease_preferences: Option<String>,
    /// Every `key = value` of the config, as written.
    pub fields: Vec<(String, String)>,
}

/// One cluster setting of `SHOW [ALL] CLUSTER SETTINGS` or `SHOW CLUSTER SETTING x`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSetting {
    pub input: InputId,
    pub line: u64,
    pub name: String,
    /// The value as printed (`5m0s`).
    pub value: String,
    /// `d` duration, `z` size, `b`, `i`, `f`, `e`, `s` (absent for a single setting).
    pub setting_type: Option<String>,
    pub default_value: Option<String>,
    pub origin: Option<String>,
    /// A duration value in seconds.
    pub secs: Option<f64>,
}

/// A `cockroach start` line typed in a shell session (`$ cockroach start --store=n2 ...`),
/// with the node it starts as its flags name it: the advertised or listen address, else
/// host and port, else the port, else the store directory. Several such lines with
/// different nodes in one paste are the nodes of a cluster someone started by hand.
#[derive(Clone, Debug, PartialEq)]
pub struct StartCommand {
    pub input: InputId,
    pub line: u64,
    /// `addr 10.0.0.1:26257`, `port 26258`, `store cockroach-data/2`, or the line itself.
    pub node: String,
}

/// A `cockroach start ... --join=a,b,c` as some source shows it: a shell line, a systemd
/// unit, a Kubernetes manifest, or the arguments a node logged at start.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinList {
    pub input: InputId,
    pub line: u64,
    /// `shell`, `systemd`, `kubernetes`, `log`.
    pub source: &'static str,
    /// Distinct addresses in the order given.
    pub addresses: Vec<String>,
}
