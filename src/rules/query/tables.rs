//! The fact tables a query reads, as rows with named columns. Derived columns (a store's
//! heartbeat age within its listing, whether a record is the newest of its id, a metric
//! series' increase) are computed once per evaluation, here, so that rules only compare.

use super::value::Value;
use crate::model::sched::MetricSample;
use crate::model::{
    Component, Facts, InputId, Kind, Location, LogEvent, Peer, PeerRole, Region, Store, StoreState,
    TemplateStat,
};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// What the engine knows of each input besides its facts.
#[derive(Clone, Debug)]
pub struct InputMeta {
    pub kind: Kind,
    pub node: Option<String>,
    pub path: String,
    /// The TiKV store this input's node is, when a store listing maps its address.
    pub store: Option<u64>,
    /// Time of a log's last entry: how far that log reaches.
    pub last_time: Option<DateTime<FixedOffset>>,
}

/// Every table and its columns, for load-time checks of rule files.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "events",
        &[
            "time",
            "level",
            "message",
            "source",
            "line",
            "loc",
            "path",
            "kind",
            "node",
            "input_node",
            "store",
            "input",
            "excerpt",
            "text",
            "op_desc",
            "op_region",
            "op_merge",
            "cancel_reason",
        ],
    ),
    (
        "stores",
        &[
            "id",
            "address",
            "node",
            "state",
            "up",
            "offline",
            "tombstone",
            "down",
            "tiflash",
            "engine",
            "capacity",
            "available",
            "used_ratio",
            "region_count",
            "leader_count",
            "last_heartbeat",
            "heartbeat_age",
            "snapshot",
            "snapshot_time",
            "latest",
            "complete",
            "version",
            "loc",
            "input",
        ],
    ),
    (
        "regions",
        &[
            "id",
            "leader_store",
            "has_leader",
            "peer_count",
            "voter_count",
            "learner_count",
            "down_count",
            "pending_count",
            "size",
            "keys",
            "latest",
            "loc",
            "leader_loc",
            "input",
            "peer_stores",
        ],
    ),
    (
        "peers",
        &[
            "region",
            "store",
            "role",
            "voter",
            "learner",
            "leader",
            "down",
            "down_seconds",
            "pending",
            "region_loc",
            "region_latest",
        ],
    ),
    ("configs", &["key", "value", "loc", "input"]),
    (
        "crdb_nodes",
        &[
            "id",
            "address",
            "build",
            "locality",
            "is_live",
            "is_available",
            "membership",
            "decommissioning",
            "decommissioned",
            "active",
            "draining",
            "replicas",
            "updated_at",
            "age",
            "kind",
            "snapshot",
            "latest",
            "last_status",
            "loc",
            "input",
        ],
    ),
    (
        "crdb_runs",
        &[
            "ids",
            "finished",
            "completed",
            "completed_loc",
            "recommission",
            "first_loc",
            "input",
        ],
    ),
    ("crdb_marks", &["text", "loc", "input"]),
    (
        "crdb_commands",
        &[
            "verb",
            "ids",
            "host",
            "drain_wait",
            "self_flag",
            "loc",
            "input",
        ],
    ),
    // One row: for rules about the bundle as a whole.
    ("bundle", &["inputs"]),
    (
        "series",
        &[
            "name",
            "first",
            "last",
            "min",
            "max",
            "span",
            "timed",
            "increase",
            "growth",
            "samples",
            "first_time",
            "last_time",
            "loc",
            "locs",
            "input",
        ],
    ),
    ("samples", &["name", "value", "time", "loc", "input"]),
    (
        "inputs",
        &[
            "id",
            "path",
            "kind",
            "node",
            "store",
            "last_time",
            "horizon",
        ],
    ),
    ("versions", &["component", "version", "loc"]),
    (
        "stages",
        &[
            "stage",
            "info",
            "time",
            "failed_stores",
            "tables",
            "unreported_stores",
            "undispatched_stores",
            "error",
            "is_stage",
            "report",
            "loc",
            "input",
        ],
    ),
    (
        "templates",
        &[
            "template",
            "level",
            "count",
            "first",
            "last",
            "known",
            "node",
            "input_node",
            "loc",
            "excerpt",
            "peak",
            "peak_at",
            "baseline",
            "minutes",
            "input",
        ],
    ),
];

pub fn columns(table: &str) -> Option<&'static [&'static str]> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, c)| *c)
}

pub fn names() -> Vec<&'static str> {
    TABLES.iter().map(|(t, _)| *t).collect()
}

/// A store record with what the other records tell about it.
pub struct StoreRow<'a> {
    pub s: &'a Store,
    /// The newest heartbeat of the listing it came in (an Offline store that died keeps its
    /// old heartbeat, so the listing's own time is its newest one).
    pub snapshot_time: Option<DateTime<FixedOffset>>,
    /// The last record of this id in the bundle.
    pub latest: bool,
    /// It came in a complete listing (`pd-ctl store`, PD API `/stores`).
    pub complete: bool,
}

pub struct RegionRow<'a> {
    pub r: &'a Region,
    pub latest: bool,
}

/// Samples of one metric with one label set, in time order.
pub struct SeriesRow<'a> {
    pub name: &'a str,
    pub labels: &'a [(String, String)],
    pub samples: Vec<&'a MetricSample>,
}

impl SeriesRow<'_> {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    fn timed(&self) -> bool {
        self.samples.len() >= 2 && self.samples.iter().all(|s| s.time.is_some())
    }

    fn span(&self) -> Option<f64> {
        let a = self.samples.iter().find_map(|s| s.time)?;
        let b = self.samples.iter().rev().find_map(|s| s.time)?;
        Some(b - a)
    }

    /// Counter increase, resets counted from zero; a lone or untimed sample is the total.
    fn increase(&self) -> f64 {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        if !self.timed() {
            return self.samples.last().map_or(0.0, |s| finite(s.value));
        }
        self.samples
            .windows(2)
            .map(|w| {
                let (p, v) = (finite(w[0].value), finite(w[1].value));
                if v >= p { v - p } else { v }
            })
            .sum()
    }
}

/// Every node row of every CockroachDB table, in input then line order.
fn node_observations(facts: &Facts) -> Vec<NodeObs<'_>> {
    let mut out = Vec::new();
    let mut snapshot = 0;
    for (input, t) in &facts.crdb.tables {
        for s in &t.snapshots {
            let times = |live_only: bool| {
                s.rows
                    .iter()
                    .filter(|r| !live_only || r.is_live == Some(true))
                    .filter_map(|r| r.updated_at.as_deref().and_then(table_time))
                    .max()
            };
            let taken = times(true).or_else(|| times(false));
            for row in &s.rows {
                out.push(NodeObs {
                    input: *input,
                    row,
                    kind: s.kind,
                    taken,
                    snapshot,
                    latest: false,
                    last_status: false,
                });
            }
            snapshot += 1;
        }
    }
    let mut last: BTreeMap<u64, usize> = BTreeMap::new();
    let mut last_status: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, o) in out.iter().enumerate() {
        last.insert(o.row.id, i);
        if o.kind == crate::model::crdb::TableKind::NodeStatus && o.row.is_live.is_some() {
            last_status.insert(o.row.id, i);
        }
    }
    for i in last.into_values() {
        out[i].latest = true;
    }
    for i in last_status.into_values() {
        out[i].last_status = true;
    }
    out
}

/// A metric series' identity: its name and label set.
type SeriesKey<'a> = (&'a str, &'a [(String, String)]);

/// A warning/error template on one node: the counts of its files (rotated logs) together.
pub struct TemplateRow<'a> {
    /// The first file's statistics (its sample line is cited).
    pub sample: &'a TemplateStat,
    pub node: String,
    pub count: u64,
    pub per_minute: BTreeMap<i64, u32>,
    pub first: Option<DateTime<FixedOffset>>,
    pub last: Option<DateTime<FixedOffset>>,
}

impl TemplateRow<'_> {
    /// The busiest minute (the earliest of equals) and its count.
    fn peak(&self) -> Option<(i64, u32)> {
        self.per_minute
            .iter()
            .max_by_key(|(m, c)| (**c, -**m))
            .map(|(m, c)| (*m, *c))
    }

    /// Lines per minute over its other active minutes (rounded up).
    fn baseline(&self) -> u64 {
        let Some((_, peak)) = self.peak() else {
            return 0;
        };
        let others = self.per_minute.len().saturating_sub(1) as u64;
        let rest = self.per_minute.values().map(|&c| c as u64).sum::<u64>() - peak as u64;
        if others == 0 {
            0
        } else {
            rest.div_ceil(others)
        }
    }
}

/// One node row of one CockroachDB CLI table, with what its table tells about it.
pub struct NodeObs<'a> {
    pub input: InputId,
    pub row: &'a crate::model::crdb::NodeRow,
    pub kind: crate::model::crdb::TableKind,
    /// When the table was taken, as near as it tells: the newest `updated_at` of its live
    /// rows (live nodes refresh it every few seconds), else of any row.
    pub taken: Option<chrono::NaiveDateTime>,
    pub snapshot: usize,
    /// The last row of this node in the bundle.
    pub latest: bool,
    /// The last `node status` row of this node that says whether it is live.
    pub last_status: bool,
}

impl NodeObs<'_> {
    /// Membership `decommissioning` (or, before 20.2, `is_decommissioning` with replicas
    /// left, which cannot be a finished decommission).
    pub fn decommissioning(&self) -> bool {
        match self.row.membership.as_deref() {
            Some(m) => m == "decommissioning",
            None => self.row.is_decommissioning == Some(true) && self.row.replicas.unwrap_or(0) > 0,
        }
    }

    pub fn active(&self) -> bool {
        match self.row.membership.as_deref() {
            Some(m) => m == "active",
            None => self.row.is_decommissioning != Some(true),
        }
    }
}

/// Table timestamps: `2022-09-01 02:17:28.202777`, `2019-07-23 20:08:13.429401+00:00`
/// (UTC either way).
pub fn table_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let core = s.trim().split(['+', 'Z']).next()?.trim();
    chrono::NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

/// The tables of one evaluation.
pub struct Catalog<'a> {
    pub facts: &'a Facts,
    pub inputs: &'a BTreeMap<InputId, InputMeta>,
    pub stores: Vec<StoreRow<'a>>,
    pub regions: Vec<RegionRow<'a>>,
    pub series: Vec<SeriesRow<'a>>,
    pub configs: Vec<(&'a str, &'a serde_json::Value, Location)>,
    pub templates: Vec<TemplateRow<'a>>,
    pub nodes: Vec<NodeObs<'a>>,
    /// The latest time each input shows (its last entry, or a later kept event).
    pub horizons: BTreeMap<InputId, DateTime<FixedOffset>>,
    /// Log lines by location (kept events, template samples), for the excerpt evidence
    /// quotes.
    excerpts: BTreeMap<Location, &'a str>,
}

impl<'a> Catalog<'a> {
    pub fn new(facts: &'a Facts, inputs: &'a BTreeMap<InputId, InputMeta>) -> Catalog<'a> {
        let mut newest_hb: BTreeMap<InputId, DateTime<FixedOffset>> = BTreeMap::new();
        for s in &facts.stores {
            if let Some(hb) = s.last_heartbeat {
                let e = newest_hb.entry(s.loc.input).or_insert(hb);
                if hb > *e {
                    *e = hb;
                }
            }
        }
        let mut last_of: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, s) in facts.stores.iter().enumerate() {
            last_of.insert(s.id.0, i);
        }
        let stores = facts
            .stores
            .iter()
            .enumerate()
            .map(|(i, s)| StoreRow {
                s,
                snapshot_time: newest_hb.get(&s.loc.input).copied(),
                latest: last_of.get(&s.id.0) == Some(&i),
                complete: s.complete,
            })
            .collect();
        let mut last_region: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, r) in facts.regions.iter().enumerate() {
            last_region.insert(r.id.0, i);
        }
        let regions = facts
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| RegionRow {
                r,
                latest: last_region.get(&r.id.0) == Some(&i),
            })
            .collect();
        // Series: per metric and label set (a bundle's several dumps of one series join), in
        // first-appearance order.
        let mut series: Vec<SeriesRow<'a>> = Vec::new();
        let mut index: BTreeMap<SeriesKey<'a>, usize> = BTreeMap::new();
        for s in &facts.sched.samples {
            let key = (s.name.as_str(), s.labels.as_slice());
            let i = *index.entry(key).or_insert_with(|| {
                series.push(SeriesRow {
                    name: &s.name,
                    labels: &s.labels,
                    samples: Vec::new(),
                });
                series.len() - 1
            });
            series[i].samples.push(s);
        }
        for s in &mut series {
            // Stable: untimed samples keep their input order, first; the same instant from
            // two dump blocks is kept once.
            s.samples.sort_by(|a, b| {
                a.time
                    .unwrap_or(f64::MIN)
                    .total_cmp(&b.time.unwrap_or(f64::MIN))
            });
            s.samples
                .dedup_by(|a, b| a.time.is_some() && a.time == b.time);
        }
        let mut configs = Vec::new();
        for c in &facts.configs {
            for (k, v) in &c.values {
                configs.push((k.as_str(), v, c.loc));
            }
        }
        let mut horizons: BTreeMap<InputId, DateTime<FixedOffset>> = BTreeMap::new();
        let last = inputs
            .iter()
            .filter_map(|(&i, m)| m.last_time.map(|t| (i, t)));
        let kept = facts
            .events
            .iter()
            .filter_map(|e| e.time.map(|t| (e.loc.input, t)));
        for (input, t) in last.chain(kept) {
            let x = horizons.entry(input).or_insert(t);
            if t > *x {
                *x = t;
            }
        }
        let mut excerpts: BTreeMap<Location, &'a str> = facts
            .templates
            .iter()
            .map(|t| (t.sample, t.sample_excerpt.as_str()))
            .collect();
        excerpts.extend(facts.events.iter().map(|e| (e.loc, e.excerpt.as_str())));
        let nodes = node_observations(facts);
        // Templates per node, known ones apart.
        let mut templates: Vec<TemplateRow<'a>> = Vec::new();
        let mut tindex: BTreeMap<(String, &str, bool), usize> = BTreeMap::new();
        for t in &facts.templates {
            let node = match inputs.get(&t.sample.input) {
                Some(m) => m.node.clone().unwrap_or_else(|| m.path.clone()),
                None => String::new(),
            };
            let key = (node.clone(), t.template.as_str(), t.known);
            let i = *tindex.entry(key).or_insert_with(|| {
                templates.push(TemplateRow {
                    sample: t,
                    node,
                    count: 0,
                    per_minute: BTreeMap::new(),
                    first: t.first,
                    last: t.last,
                });
                templates.len() - 1
            });
            let row = &mut templates[i];
            row.count += t.count;
            for (m, c) in &t.per_minute {
                *row.per_minute.entry(*m).or_default() += c;
            }
        }
        Catalog {
            facts,
            inputs,
            stores,
            regions,
            series,
            configs,
            horizons,
            excerpts,
            templates,
            nodes,
        }
    }

    /// Whether the bundle holds a complete listing of a table (only store listings say).
    pub fn is_complete(&self, table: &str) -> bool {
        match table {
            "stores" => self.stores.iter().any(|s| s.complete),
            _ => false,
        }
    }

    /// The excerpt of a log line; `None` for dump lines (the facts' kept lines quote those).
    pub fn event_excerpt(&self, loc: Location) -> Option<String> {
        self.excerpts.get(&loc).map(|e| e.to_string())
    }

    pub fn input(&self, id: InputId) -> Option<&InputMeta> {
        self.inputs.get(&id)
    }

    /// A table's rows (`peers`: every peer of every region record).
    pub fn rows(&'a self, table: &str) -> Vec<Row<'a>> {
        match table {
            "events" => self.facts.events.iter().map(Row::Event).collect(),
            "stores" => self.stores.iter().map(Row::Store).collect(),
            "regions" => self.regions.iter().map(Row::Region).collect(),
            "peers" => self
                .regions
                .iter()
                .flat_map(|r| r.r.peers.iter().map(move |p| Row::Peer(r, p)))
                .collect(),
            "configs" => self
                .configs
                .iter()
                .map(|(k, v, l)| Row::Config(k, v, *l))
                .collect(),
            "series" => self.series.iter().map(Row::Series).collect(),
            "samples" => self.facts.sched.samples.iter().map(Row::Sample).collect(),
            "inputs" => self.inputs.iter().map(|(i, m)| Row::Input(*i, m)).collect(),
            "versions" => self
                .facts
                .versions
                .iter()
                .flat_map(|(c, vs)| vs.iter().map(move |v| Row::Version(*c, v)))
                .collect(),
            "templates" => self.templates.iter().map(Row::Template).collect(),
            "bundle" => vec![Row::Bundle],
            "crdb_nodes" => self.nodes.iter().map(Row::Node).collect(),
            "crdb_runs" => self.facts.crdb.runs.iter().map(Row::Run).collect(),
            "crdb_marks" => self
                .facts
                .crdb
                .tables
                .iter()
                .flat_map(|(i, t)| t.marks.iter().map(move |m| Row::Mark(*i, m)))
                .collect(),
            "crdb_commands" => self.facts.crdb.commands.iter().map(Row::Command).collect(),
            "stages" => self
                .facts
                .sched
                .recoveries
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.stages.iter().map(move |st| Row::Stage(i, st)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One row of a table.
#[derive(Clone, Copy)]
pub enum Row<'a> {
    Event(&'a LogEvent),
    Store(&'a StoreRow<'a>),
    Region(&'a RegionRow<'a>),
    Peer(&'a RegionRow<'a>, &'a Peer),
    Config(&'a str, &'a serde_json::Value, Location),
    Series(&'a SeriesRow<'a>),
    Sample(&'a MetricSample),
    Input(InputId, &'a InputMeta),
    Version(Component, &'a crate::model::SeenVersion),
    Template(&'a TemplateRow<'a>),
    /// One stage of an `unsafe remove-failed-stores show` answer (`report` numbers it).
    Stage(usize, &'a crate::model::sched::RecoveryStage),
    Bundle,
    Node(&'a NodeObs<'a>),
    Run(&'a crate::model::crdb::DecommissionRun),
    Mark(InputId, &'a crate::model::crdb::TextMark),
    Command(&'a crate::model::crdb::CliCommand),
}

fn num_u64(n: u64) -> Value {
    Value::Num(n as f64)
}

fn json_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        serde_json::Value::String(s) => match s.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => match s.trim().parse::<f64>() {
                Ok(n) => Value::Num(n),
                Err(_) => Value::Str(s.clone()),
            },
        },
        other => Value::Str(other.to_string()),
    }
}

/// A config value as a rule compares it: numbers, booleans, Go durations in seconds.
pub fn config_value(v: &serde_json::Value) -> Value {
    match json_value(v) {
        Value::Str(s) => match crate::model::units::parse_go_duration(&s) {
            Some(secs) => Value::Num(secs as f64),
            None => Value::Str(s),
        },
        other => other,
    }
}

fn state_name(s: &StoreState) -> Value {
    Value::Str(s.as_str().to_string())
}

impl<'a> Row<'a> {
    /// The input a row came from.
    pub fn input(&self) -> Option<InputId> {
        Some(match self {
            Row::Event(e) => e.loc.input,
            Row::Store(s) => s.s.loc.input,
            Row::Region(r) => r.r.loc.input,
            Row::Peer(r, _) => r.r.loc.input,
            Row::Config(_, _, l) => l.input,
            Row::Series(s) => s.samples.first()?.loc.input,
            Row::Sample(s) => s.loc.input,
            Row::Input(i, _) => *i,
            Row::Version(_, v) => v.loc.input,
            Row::Template(t) => t.sample.sample.input,
            Row::Stage(_, st) => st.loc.input,
            Row::Bundle => return None,
            Row::Node(o) => o.input,
            Row::Run(r) => r.input,
            Row::Mark(i, _) => *i,
            Row::Command(c) => c.input,
        })
    }

    /// The value of a column; `None` when the table has no such column.
    pub fn get(&self, cat: &Catalog<'a>, col: &str) -> Option<Value> {
        let meta = |i: InputId| cat.input(i);
        Some(match (self, col) {
            (_, "input") => Value::opt_num(self.input().map(|i| i.0 as f64)),
            (Row::Event(e), c) => match c {
                "time" => Value::opt_time(e.time),
                "level" => Value::opt_str(e.level.map(|l| l.as_str())),
                "message" => Value::Str(e.message.clone()),
                "source" => Value::opt_str(e.source.as_deref()),
                "line" => num_u64(e.loc.line),
                "loc" => Value::Loc(e.loc),
                "path" => Value::opt_str(meta(e.loc.input).map(|m| m.path.as_str())),
                "kind" => Value::opt_str(meta(e.loc.input).map(|m| m.kind.as_str())),
                "node" => match meta(e.loc.input) {
                    Some(m) => Value::Str(m.node.clone().unwrap_or_else(|| m.path.clone())),
                    None => Value::Null,
                },
                "input_node" => Value::opt_str(meta(e.loc.input).and_then(|m| m.node.as_deref())),
                "store" => Value::opt_u64(meta(e.loc.input).and_then(|m| m.store)),
                "excerpt" => Value::Str(e.excerpt.clone()),
                "text" => Value::Str(event_text(e)),
                "op_desc" => Value::opt_str(e.operator.as_deref().map(|o| o.desc.as_str())),
                "op_region" => Value::opt_u64(e.operator.as_deref().and_then(|o| o.region)),
                "op_merge" => Value::Bool(e.operator.as_deref().is_some_and(|o| o.is_merge())),
                // `additional-info` JSON of PD's operator lines: `{"cancel-reason": "..."}`.
                "cancel_reason" => e
                    .field("additional-info")
                    .or_else(|| e.field("additional info"))
                    .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
                    .and_then(|v| v.get("cancel-reason")?.as_str().map(str::to_string))
                    .filter(|r| !r.is_empty())
                    .map_or(Value::Null, Value::Str),
                _ => return None,
            },
            (Row::Store(r), c) => {
                let s = r.s;
                match c {
                    "id" => num_u64(s.id.0),
                    "address" | "node" => Value::opt_str(s.address.as_deref()),
                    "state" => state_name(&s.state),
                    // Stored state Up (Disconnected and Down are display overrides of Up).
                    "up" => Value::Bool(s.state.is_up_family() && !s.is_offline()),
                    "offline" => Value::Bool(s.is_offline()),
                    "tombstone" => Value::Bool(s.state == StoreState::Tombstone),
                    "down" => Value::Bool(s.state == StoreState::Down),
                    "tiflash" => Value::Bool(s.is_tiflash()),
                    "engine" => Value::Str(if s.is_tiflash() { "tiflash" } else { "tikv" }.into()),
                    "capacity" => Value::opt_u64(s.capacity),
                    "available" => Value::opt_u64(s.available),
                    "used_ratio" => match (s.capacity, s.available) {
                        (Some(c), Some(a)) if c > 0 => Value::Num(1.0 - a as f64 / c as f64),
                        _ => Value::Null,
                    },
                    "region_count" => Value::opt_u64(s.region_count),
                    "leader_count" => Value::opt_u64(s.leader_count),
                    "last_heartbeat" => Value::opt_time(s.last_heartbeat),
                    "heartbeat_age" => match (s.last_heartbeat, r.snapshot_time) {
                        (Some(hb), Some(t)) => Value::Num((t - hb).num_seconds() as f64),
                        _ => Value::Null,
                    },
                    "snapshot" => Value::Num(s.loc.input.0 as f64),
                    "snapshot_time" => Value::opt_time(r.snapshot_time),
                    "latest" => Value::Bool(r.latest),
                    "complete" => Value::Bool(r.complete),
                    "version" => Value::opt_str(s.version.as_deref()),
                    "loc" => Value::Loc(s.loc),
                    _ => return None,
                }
            }
            (Row::Region(rr), c) => region_col(rr.r, rr.latest, c)?,
            (Row::Peer(rr, p), c) => {
                let r = rr.r;
                match c {
                    "region" => num_u64(r.id.0),
                    "store" => num_u64(p.store_id.0),
                    "role" => Value::Str(format!("{:?}", p.role)),
                    "voter" => Value::Bool(!matches!(p.role, PeerRole::Learner)),
                    "learner" => Value::Bool(matches!(p.role, PeerRole::Learner)),
                    "leader" => {
                        Value::Bool(r.leader.as_ref().is_some_and(|l| l.store_id == p.store_id))
                    }
                    "down" => {
                        Value::Bool(r.down_peers.iter().any(|(d, _)| d.store_id == p.store_id))
                    }
                    "down_seconds" => Value::opt_u64(
                        r.down_peers
                            .iter()
                            .find(|(d, _)| d.store_id == p.store_id)
                            .and_then(|(_, s)| *s),
                    ),
                    "pending" => {
                        Value::Bool(r.pending_peers.iter().any(|d| d.store_id == p.store_id))
                    }
                    "region_loc" => Value::Loc(r.loc),
                    "region_latest" => Value::Bool(rr.latest),
                    _ => return None,
                }
            }
            (Row::Config(k, v, l), c) => match c {
                "key" => Value::Str((*k).to_string()),
                "value" => config_value(v),
                "loc" => Value::Loc(*l),
                _ => return None,
            },
            (Row::Series(s), c) => match c {
                "name" => Value::Str(s.name.to_string()),
                "first" => Value::opt_num(s.samples.first().map(|x| x.value)),
                "last" => Value::opt_num(s.samples.last().map(|x| x.value)),
                "min" => Value::opt_num(s.samples.iter().map(|x| x.value).reduce(f64::min)),
                "max" => Value::opt_num(s.samples.iter().map(|x| x.value).reduce(f64::max)),
                "span" => Value::opt_num(s.span()),
                "timed" => Value::Bool(s.timed()),
                "increase" => Value::Num(s.increase()),
                "growth" => match (s.samples.first(), s.samples.last()) {
                    (Some(a), Some(b)) => Value::Num(b.value - a.value),
                    _ => Value::Null,
                },
                "samples" => Value::Num(s.samples.len() as f64),
                "first_time" => unix_time(s.samples.iter().find_map(|x| x.time)),
                "last_time" => unix_time(s.samples.iter().rev().find_map(|x| x.time)),
                "loc" => s.samples.first().map_or(Value::Null, |x| Value::Loc(x.loc)),
                "locs" => {
                    let mut v: Vec<Value> = Vec::new();
                    if let Some(a) = s.samples.first() {
                        v.push(Value::Loc(a.loc));
                    }
                    if let Some(b) = s.samples.last().filter(|_| s.samples.len() > 1) {
                        v.push(Value::Loc(b.loc));
                    }
                    Value::List(v)
                }
                _ => return None,
            },
            (Row::Sample(s), c) => match c {
                "name" => Value::Str(s.name.clone()),
                "value" => Value::Num(s.value),
                "time" => unix_time(s.time),
                "loc" => Value::Loc(s.loc),
                _ => return None,
            },
            (Row::Input(i, m), c) => match c {
                "id" => Value::Num(i.0 as f64),
                "path" => Value::Str(m.path.clone()),
                "kind" => Value::Str(m.kind.as_str().to_string()),
                "node" => Value::opt_str(m.node.as_deref()),
                "store" => Value::opt_u64(m.store),
                "last_time" => Value::opt_time(m.last_time),
                "horizon" => Value::opt_time(cat.horizons.get(i).copied()),
                _ => return None,
            },
            (Row::Version(comp, v), c) => match c {
                "component" => Value::Str(component_name(*comp).to_string()),
                "version" => Value::Version(v.version),
                "loc" => Value::Loc(v.loc),
                _ => return None,
            },
            (Row::Stage(i, st), c) => {
                let ids = |v: Vec<u64>| Value::List(v.into_iter().map(num_u64).collect());
                match c {
                    "stage" => Value::Str(st.kind.name().to_string()),
                    "info" => Value::Str(st.info.clone()),
                    "time" => Value::opt_str(
                        st.time
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                            .as_deref(),
                    ),
                    "failed_stores" => ids(st.failed_stores()),
                    "tables" => ids(st.affected_tables()),
                    "unreported_stores" => ids(st.unreported_stores()),
                    "undispatched_stores" => ids(st.undispatched_stores()),
                    "error" => Value::opt_str(st.error_detail()),
                    "is_stage" => Value::Bool(st.kind.is_stage()),
                    "report" => Value::Num(*i as f64),
                    "loc" => Value::Loc(st.loc),
                    _ => return None,
                }
            }
            (Row::Node(o), c) => {
                let r = o.row;
                let b = |x: Option<bool>| x.map_or(Value::Null, Value::Bool);
                match c {
                    "id" => num_u64(r.id),
                    "address" => Value::opt_str(r.address.as_deref()),
                    "build" => Value::opt_str(r.build.as_deref()),
                    "locality" => Value::opt_str(r.locality.as_deref()),
                    "is_live" => b(r.is_live),
                    "is_available" => b(r.is_available),
                    "membership" => Value::opt_str(r.membership.as_deref()),
                    "decommissioning" => Value::Bool(o.decommissioning()),
                    "decommissioned" => {
                        Value::Bool(r.membership.as_deref() == Some("decommissioned"))
                    }
                    "active" => Value::Bool(o.active()),
                    "draining" => b(r.is_draining),
                    "replicas" => Value::opt_u64(r.replicas),
                    "updated_at" => Value::opt_str(r.updated_at.as_deref()),
                    "age" => match (o.taken, r.updated_at.as_deref().and_then(table_time)) {
                        (Some(t), Some(u)) => Value::Num((t - u).num_seconds() as f64),
                        _ => Value::Null,
                    },
                    "kind" => Value::Str(
                        match o.kind {
                            crate::model::crdb::TableKind::NodeStatus => "status",
                            crate::model::crdb::TableKind::DecommissionProgress => "decommission",
                        }
                        .into(),
                    ),
                    "snapshot" => Value::Num(o.snapshot as f64),
                    "latest" => Value::Bool(o.latest),
                    "last_status" => Value::Bool(o.last_status),
                    "loc" => Value::Loc(Location {
                        input: o.input,
                        line: r.line,
                    }),
                    _ => return None,
                }
            }
            (Row::Run(r), c) => {
                let at = |line| {
                    Value::Loc(Location {
                        input: r.input,
                        line,
                    })
                };
                match c {
                    "ids" => Value::List(r.ids.iter().map(|i| num_u64(*i)).collect()),
                    // The CLI prints the completion line only once every target is done; a
                    // last table with zero replicas everywhere means the same.
                    "finished" => Value::Bool(
                        r.completed.is_some()
                            || cat
                                .facts
                                .crdb
                                .tables
                                .iter()
                                .find(|(i, _)| *i == r.input)
                                .and_then(|(_, t)| t.snapshots.get(*r.snapshots.last()?))
                                .is_some_and(|s| {
                                    !s.rows.is_empty()
                                        && s.rows.iter().all(|x| x.replicas == Some(0))
                                }),
                    ),
                    "completed" => Value::Bool(r.completed.is_some()),
                    "completed_loc" => r.completed.map_or(Value::Null, at),
                    "recommission" => Value::Bool(r.recommission),
                    "first_loc" => cat
                        .facts
                        .crdb
                        .tables
                        .iter()
                        .find(|(i, _)| *i == r.input)
                        .and_then(|(_, t)| t.snapshots.get(*r.snapshots.first()?))
                        .map_or(Value::Null, |s| at(s.header_line)),
                    _ => return None,
                }
            }
            (Row::Mark(i, m), c) => match c {
                "text" => Value::Str(m.text.clone()),
                "loc" => Value::Loc(Location {
                    input: *i,
                    line: m.line,
                }),
                _ => return None,
            },
            (Row::Command(cmd), c) => match c {
                "verb" => Value::Str(cmd.verb.clone()),
                "ids" => Value::List(cmd.ids.iter().map(|i| num_u64(*i)).collect()),
                "host" => Value::opt_str(cmd.host.as_deref()),
                "drain_wait" => Value::opt_str(cmd.drain_wait.as_deref()),
                "self_flag" => Value::Bool(cmd.self_flag),
                "loc" => Value::Loc(Location {
                    input: cmd.input,
                    line: cmd.line,
                }),
                _ => return None,
            },
            (Row::Bundle, c) => match c {
                "inputs" => Value::Num(cat.inputs.len() as f64),
                _ => return None,
            },
            (Row::Template(t), c) => match c {
                "template" => Value::Str(t.sample.template.clone()),
                "level" => Value::Str(t.sample.level.as_str().to_string()),
                "count" => num_u64(t.count),
                "first" => Value::opt_time(t.first),
                "last" => Value::opt_time(t.last),
                "known" => Value::Bool(t.sample.known),
                "node" => Value::Str(t.node.clone()),
                "input_node" => {
                    Value::opt_str(meta(t.sample.sample.input).and_then(|m| m.node.as_deref()))
                }
                "loc" => Value::Loc(t.sample.sample),
                "excerpt" => Value::Str(t.sample.sample_excerpt.clone()),
                "peak" => Value::Num(t.peak().map_or(0, |p| p.1) as f64),
                // The busiest minute, shown in the log's own zone.
                "peak_at" => match t
                    .peak()
                    .and_then(|(m, _)| DateTime::from_timestamp(m * 60, 0))
                {
                    Some(at) => Value::Time(match t.first {
                        Some(f) => at.with_timezone(f.offset()),
                        None => at.fixed_offset(),
                    }),
                    None => Value::Null,
                },
                "baseline" => num_u64(t.baseline()),
                "minutes" => Value::Num(t.per_minute.len() as f64),
                _ => return None,
            },
        })
    }

    /// A log event's `[key=value]` field (or tag, or JSON key).
    pub fn field(&self, key: &str) -> Value {
        match self {
            Row::Event(e) => Value::opt_str(e.field(key)),
            Row::Series(s) => Value::opt_str(s.label(key)),
            Row::Sample(s) => Value::opt_str(s.label(key)),
            _ => Value::Null,
        }
    }

    pub fn event(&self) -> Option<&'a LogEvent> {
        match self {
            Row::Event(e) => Some(e),
            _ => None,
        }
    }

    pub fn region(&self) -> Option<&'a RegionRow<'a>> {
        match self {
            Row::Region(r) => Some(r),
            _ => None,
        }
    }
}

fn region_col(r: &Region, latest: bool, c: &str) -> Option<Value> {
    Some(match c {
        "id" => num_u64(r.id.0),
        "leader_store" => Value::opt_u64(r.leader.as_ref().map(|l| l.store_id.0)),
        "has_leader" => Value::Bool(r.leader.is_some()),
        "peer_count" => Value::Num(r.peers.len() as f64),
        "voter_count" => Value::Num(r.voters().count() as f64),
        "learner_count" => Value::Num((r.peers.len() - r.voters().count()) as f64),
        "down_count" => Value::Num(r.down_peers.len() as f64),
        "pending_count" => Value::Num(r.pending_peers.len() as f64),
        "size" => Value::opt_num(r.approximate_size.map(|v| v as f64)),
        "keys" => Value::opt_num(r.approximate_keys.map(|v| v as f64)),
        "latest" => Value::Bool(latest),
        "peer_stores" => Value::List(r.peers.iter().map(|p| num_u64(p.store_id.0)).collect()),
        "loc" => Value::Loc(r.loc),
        "leader_loc" => match r.leader_line {
            Some(line) => Value::Loc(Location {
                input: r.loc.input,
                line,
            }),
            None => Value::Null,
        },
        _ => return None,
    })
}

fn unix_time(t: Option<f64>) -> Value {
    t.and_then(|t| DateTime::from_timestamp(t as i64, 0))
        .map_or(Value::Null, |t| Value::Time(t.fixed_offset()))
}

pub fn component_name(c: Component) -> &'static str {
    match c {
        Component::Tikv => "tikv",
        Component::Pd => "pd",
        Component::Tidb => "tidb",
        Component::Cockroach => "cockroach",
    }
}

/// The message and fields as one text, for patterns over whole entries.
pub fn event_text(ev: &LogEvent) -> String {
    let mut s = ev.message.clone();
    for (k, v) in &ev.fields {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The peers of a region record, as rows (for `count(peers where ...)` inside a region).
pub fn peers_of<'a>(r: &'a RegionRow<'a>) -> Vec<Row<'a>> {
    r.r.peers.iter().map(|p| Row::Peer(r, p)).collect()
}

/// The parameters of each store state, for rule files: `Up`, `Offline`, ...
pub fn is_state(v: &Value, s: &StoreState) -> bool {
    matches!(v, Value::Str(x) if x == s.as_str())
}

impl StoreRow<'_> {
    pub fn store(&self) -> &Store {
        self.s
    }
}
