//! The fact tables a query reads, as rows with named columns. Derived columns (a store's
//! heartbeat age within its listing, whether a record is the newest of its id, a metric
//! series' increase) are computed once per evaluation, here, so that rules only compare.

pub use super::columns::{component_name, config_value, event_text, peers_of};
pub use super::rows::{NodeObs, RegionRow, SeriesRow, StoreRow, TemplateRow, table_time};
use super::rows::{SeriesKey, node_observations};
use crate::model::sched::MetricSample;
use crate::model::{Component, ConfigRecord, Facts, InputId, Kind, Location, LogEvent, Peer};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// What the engine knows of each input besides its facts.
#[derive(Clone, Debug)]
pub struct InputMeta {
    pub kind: Kind,
    pub node: Option<String>,
    /// Whether `node` comes from the path (a bundle layout) rather than the content.
    pub node_from_path: bool,
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
            "leader_weight",
            "region_weight",
            "leader_score",
            "region_score",
            "uptime",
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
            "complete",
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
    (
        "configs",
        &[
            "key",
            "value",
            "loc",
            "input",
            "component",
            "node",
            "source",
        ],
    ),
    (
        "instances",
        &[
            "role",
            "host",
            "port",
            "address",
            "data_dir",
            "deploy_dir",
            "pod",
            "loc",
            "input",
        ],
    ),
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
    TABLES
        .iter()
        .chain(super::host_tables::TABLES)
        .find(|(t, _)| *t == table)
        .map(|(_, c)| *c)
}

pub fn names() -> Vec<&'static str> {
    TABLES
        .iter()
        .chain(super::host_tables::TABLES)
        .map(|(t, _)| *t)
        .collect()
}

/// The tables of one evaluation.
pub struct Catalog<'a> {
    pub facts: &'a Facts,
    pub inputs: &'a BTreeMap<InputId, InputMeta>,
    pub stores: Vec<StoreRow<'a>>,
    pub regions: Vec<RegionRow<'a>>,
    pub series: Vec<SeriesRow<'a>>,
    /// Every setting of every config record, with the line its key was read at.
    pub configs: Vec<(&'a ConfigRecord, &'a str, &'a serde_json::Value, Location)>,
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
                configs.push((c, k.as_str(), v, c.loc_of(k)));
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

    /// Whether the bundle holds a complete listing of a table (store and region listings say).
    pub fn is_complete(&self, table: &str) -> bool {
        match table {
            "stores" => self.stores.iter().any(|s| s.complete),
            "regions" => self.regions.iter().any(|r| r.r.complete),
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
                .map(|(c, k, v, l)| Row::Config(c, k, v, *l))
                .collect(),
            "instances" => self.facts.instances.iter().map(Row::Instance).collect(),
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
            t => super::host_tables::rows(self.facts, t).unwrap_or_default(),
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
    Config(&'a ConfigRecord, &'a str, &'a serde_json::Value, Location),
    Instance(&'a crate::model::Instance),
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
    // Host and cluster-setting facts (`host_tables`).
    Mount(&'a crate::model::host::Mount),
    Limit(&'a crate::model::host::OpenFileLimit),
    Zone(&'a crate::model::crdb::ZoneConfig),
    Setting(&'a crate::model::crdb::ClusterSetting),
    Join(&'a crate::model::crdb::JoinList),
}
