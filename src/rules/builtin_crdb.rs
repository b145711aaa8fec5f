//! CockroachDB correlations (decommission, drain, shutdown, dead nodes).
//!
//! Facts come from two places: CLI tables (`node status`, `node decommission` progress,
//! pre-flight and stall reports, see `parse::crdb_table`) and node log events (structured
//! `node_decommission*` / `node_restart` events, drain progress, shutdown lines). Node ids
//! are CockroachDB node ids; entities name them `n4`, commands take the bare number.

use super::matchers::{evidence_of, loc_evidence};
use super::{EvalCtx, Hit, Rule};
use crate::model::EvidenceRef;
use crate::model::crdb::CliCommand;
use crate::model::crdb::{Frame, Goroutine};
use crate::model::crdb::{NodeRow, Snapshot, TableKind};
use crate::model::units::{human_secs, parse_go_duration};
use crate::model::{Component, InputId, Location, LogEvent, Version};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Builtin matcher names this module answers.
pub const NAMES: &[&str] = &[
    "crdb-decommission-stalled",
    "crdb-terminated-before-decommissioned",
    "crdb-decommission-one-by-one",
    "crdb-drain-timeout",
    "crdb-unclean-shutdown",
    "crdb-dead-node",
];

/// Template placeholders these rules use, beyond the common ones.
pub const PLACEHOLDERS: &[&str] = &[
    "live_host",
    "cause",
    "node_list",
    "ranges",
    "threshold",
    "settings",
    "since",
    "drain_wait",
];

pub fn run(name: &str, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    match name {
        "crdb-decommission-stalled" => decommission_stalled(rule, ctx),
        "crdb-terminated-before-decommissioned" => terminated_before_decommissioned(rule, ctx),
        "crdb-decommission-one-by-one" => one_by_one(rule, ctx),
        "crdb-drain-timeout" => drain_timeout(rule, ctx),
        "crdb-unclean-shutdown" => unclean_shutdown(rule, ctx),
        "crdb-dead-node" => dead_node(rule, ctx),
        _ => Vec::new(),
    }
}

/// Evidence lines cited per finding: enough to act on, few enough to read.
const MAX_EVIDENCE: usize = 12;

/// Replication factor CockroachDB uses unless a zone config says otherwise (`num_replicas`).
/// Zone configs are not read from bundles, so this is always an assumption, said as such.
const DEFAULT_RF: usize = 3;

/// `server.time_until_store_dead` default.
const STORE_DEAD_SECS: i64 = 300;

/// `--drain-wait` default of `cockroach node drain`.
const DRAIN_WAIT_SECS: i64 = 600;

type Time = DateTime<FixedOffset>;

fn events_in<'a>(rule: &Rule, set: &str, ctx: &'a EvalCtx<'_>) -> Vec<&'a LogEvent> {
    match rule.group(set) {
        Some(g) => ctx.facts.events.iter().filter(|e| e.in_group(g)).collect(),
        None => Vec::new(),
    }
}

fn loc(input: InputId, line: u64) -> Location {
    Location { input, line }
}

fn fmt_time(t: Time) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn node_list(ids: &BTreeSet<u64>) -> String {
    ids.iter()
        .map(|i| format!("n{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn id_args(ids: &BTreeSet<u64>) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
}

/// `n4` → 4.
fn parse_node_name(s: &str) -> Option<u64> {
    let id = s.strip_prefix('n')?;
    (!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// Table timestamps: `2022-09-01 02:17:28.202777`, `2019-07-23 20:08:13.429401+00:00`
/// (UTC either way).
fn parse_table_time(s: &str) -> Option<NaiveDateTime> {
    let core = s.trim().split(['+', 'Z']).next()?.trim();
    NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

/// Strips the redaction markers and quotes CockroachDB puts around values.
fn unquote(s: &str) -> &str {
    s.trim()
        .trim_matches(|c| matches!(c, '‹' | '›' | '\'' | '"' | ' '))
}

/// A duration setting value as logged: `15m0s`, `'1s'`, `00:15:00`, `00:00:00.5`.
fn parse_setting_secs(s: &str) -> Option<f64> {
    let v = unquote(s);
    if v.contains(':') {
        let mut total = 0f64;
        for part in v.split(':') {
            total = total * 60.0 + part.trim().parse::<f64>().ok()?;
        }
        return Some(total);
    }
    if let Some(ms) = v.strip_suffix("ms")
        && let Ok(n) = ms.parse::<f64>()
    {
        return Some(n / 1000.0);
    }
    parse_go_duration(v).map(|s| s as f64)
}

// ---------------------------------------------------------------------------------------
// CLI tables: node observations and decommission runs.
// ---------------------------------------------------------------------------------------

/// One node row of one table, with its input and the snapshot it belongs to.
struct Obs<'a> {
    input: InputId,
    row: &'a NodeRow,
    kind: TableKind,
    /// When the snapshot was taken, as near as the table tells: the newest `updated_at` of
    /// its live rows (live nodes refresh it every few seconds).
    taken: Option<NaiveDateTime>,
}

impl Obs<'_> {
    fn loc(&self) -> Location {
        loc(self.input, self.row.line)
    }

    fn membership(&self) -> Option<&str> {
        self.row.membership.as_deref()
    }

    /// Membership `decommissioning` (or, before 20.2, `is_decommissioning` with replicas
    /// left, which cannot be a finished decommission).
    fn decommissioning(&self) -> bool {
        match self.membership() {
            Some(m) => m == "decommissioning",
            None => self.row.is_decommissioning == Some(true) && self.row.replicas.unwrap_or(0) > 0,
        }
    }

    fn decommissioned(&self) -> bool {
        self.membership() == Some("decommissioned")
    }

    fn active(&self) -> bool {
        match self.membership() {
            Some(m) => m == "active",
            None => self.row.is_decommissioning != Some(true),
        }
    }
}

/// One `cockroach node decommission|recommission` invocation as its progress tables show it.
struct Run<'a> {
    input: InputId,
    ids: BTreeSet<u64>,
    snaps: Vec<&'a Snapshot>,
    /// Line of `No more data reported on target nodes` closing the run.
    completed: Option<u64>,
    recommission: bool,
}

impl Run<'_> {
    /// The CLI prints the completion line only once every target is done (it then marks
    /// them decommissioned); a last table with zero replicas everywhere means the same.
    fn finished(&self) -> bool {
        self.completed.is_some()
            || self
                .snaps
                .last()
                .is_some_and(|s| !s.rows.is_empty() && s.rows.iter().all(|r| r.replicas == Some(0)))
    }

    fn first_line(&self) -> u64 {
        self.snaps.first().map_or(0, |s| s.header_line)
    }
}

struct Tables<'a> {
    obs: Vec<Obs<'a>>,
    runs: Vec<Run<'a>>,
    /// Lines of `skipping drain step for node n<N>; it is not live`, per node.
    not_live_skips: BTreeMap<u64, Vec<Location>>,
    commands: &'a [CliCommand],
}

impl<'a> Tables<'a> {
    fn new(ctx: &'a EvalCtx<'_>) -> Tables<'a> {
        let mut obs = Vec::new();
        let mut runs = Vec::new();
        let mut not_live_skips: BTreeMap<u64, Vec<Location>> = BTreeMap::new();
        let commands = &ctx.facts.crdb.commands[..];
        for (input, t) in &ctx.facts.crdb.tables {
            for s in &t.snapshots {
                let live_times = s
                    .rows
                    .iter()
                    .filter(|r| r.is_live == Some(true))
                    .filter_map(|r| r.updated_at.as_deref().and_then(parse_table_time))
                    .max();
                let taken = live_times.or_else(|| {
                    s.rows
                        .iter()
                        .filter_map(|r| r.updated_at.as_deref().and_then(parse_table_time))
                        .max()
                });
                for row in &s.rows {
                    obs.push(Obs {
                        input: *input,
                        row,
                        kind: s.kind,
                        taken,
                    });
                }
            }
            for m in &t.marks {
                if let Some(rest) = m.text.strip_prefix("skipping drain step for node n")
                    && rest.contains("not live")
                {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(id) = digits.parse() {
                        not_live_skips
                            .entry(id)
                            .or_default()
                            .push(loc(*input, m.line));
                    }
                }
            }
            for r in ctx.facts.crdb.runs.iter().filter(|r| r.input == *input) {
                runs.push(Run {
                    input: r.input,
                    ids: r.ids.iter().copied().collect(),
                    snaps: r.snapshots.iter().filter_map(|&i| t.snapshots.get(i)).collect(),
                    completed: r.completed,
                    recommission: r.recommission,
                });
            }
        }
        Tables {
            obs,
            runs,
            not_live_skips,
            commands,
        }
    }

    fn of(&self, id: u64) -> impl Iterator<Item = &Obs<'a>> {
        self.obs.iter().filter(move |o| o.row.id == id)
    }

    /// The last observation of a node (inputs in path order, rows in line order).
    fn latest(&self, id: u64) -> Option<&Obs<'a>> {
        self.of(id).last()
    }

    fn node_ids(&self) -> BTreeSet<u64> {
        self.obs.iter().map(|o| o.row.id).collect()
    }

    /// Where the bundle shows a node's decommission finished: a `decommissioned` row or a
    /// CLI run that completed. `decommissioned` is final (it cannot be recommissioned).
    fn decommissioned_at(&self, id: u64) -> Option<Location> {
        if let Some(o) = self.of(id).find(|o| o.decommissioned()) {
            return Some(o.loc());
        }
        self.runs
            .iter()
            .filter(|r| !r.recommission && r.ids.contains(&id))
            .find_map(|r| r.completed.map(|l| loc(r.input, l)))
    }

    /// The newest `node status` table.
    fn latest_status(&self) -> Option<Vec<&Obs<'a>>> {
        let last = self
            .obs
            .iter()
            .rfind(|o| o.kind == TableKind::NodeStatus && o.row.is_live.is_some())?;
        // Rows of the same snapshot: same input, and no header between (rows are contiguous
        // in `obs`, so walk back from the last one while the input matches and lines fall).
        let idx = self.obs.iter().rposition(|o| std::ptr::eq(o, last))?;
        let mut rows = vec![last];
        let mut line = last.row.line;
        for o in self.obs[..idx].iter().rev() {
            if o.input != last.input || o.kind != TableKind::NodeStatus || o.row.line + 1 != line {
                break;
            }
            line = o.row.line;
            rows.push(o);
        }
        rows.reverse();
        Some(rows)
    }

    /// An address to run CLI commands against: a live, active node of the newest status
    /// table, else a `--host` from a pasted command, else a placeholder.
    fn live_host(&self) -> String {
        if let Some(rows) = self.latest_status()
            && let Some(a) = rows
                .iter()
                .filter(|o| o.row.is_live == Some(true) && o.active())
                .find_map(|o| o.row.address.clone())
        {
            return a;
        }
        self.commands
            .iter()
            .find_map(|c| c.host.clone())
            .unwrap_or_else(|| "<live node>".to_string())
    }
}

// ---------------------------------------------------------------------------------------
// Log events: node identity, membership events, settings.
// ---------------------------------------------------------------------------------------

/// Node id of an input: from its path (`nodes/4/logs/...`) or else the `n<id>` tag most of
/// its selected lines carry.
struct InputNodes {
    /// (node id, whether the path says so).
    by_input: BTreeMap<InputId, (u64, bool)>,
}

impl InputNodes {
    fn new(ctx: &EvalCtx<'_>) -> InputNodes {
        let mut by_input = BTreeMap::new();
        let mut tags: BTreeMap<InputId, BTreeMap<u64, usize>> = BTreeMap::new();
        for (&i, m) in ctx.inputs.iter() {
            // Only a debug-zip path (`nodes/4/...`) identifies the node across files of
            // several clusters; a node id read from the content is scoped to its directory.
            let from_path = crate::source::node_from_path(&m.path);
            if let Some(id) = from_path.as_deref().and_then(parse_node_name) {
                by_input.insert(i, (id, true));
            } else if let Some(id) = m.node.as_deref().and_then(parse_node_name) {
                by_input.insert(i, (id, false));
            }
        }
        for e in &ctx.facts.events {
            if by_input.contains_key(&e.loc.input) {
                continue;
            }
            if let Some(id) = e.field("node").and_then(|n| n.parse::<u64>().ok()) {
                *tags.entry(e.loc.input).or_default().entry(id).or_default() += 1;
            }
        }
        for (input, counts) in tags {
            if let Some((id, _)) = counts.into_iter().max_by_key(|(id, n)| (*n, u64::MAX - id)) {
                by_input.insert(input, (id, false));
            }
        }
        InputNodes { by_input }
    }

    /// A grouping key for a node's logs: `|n4` when the bundle layout names the node;
    /// otherwise the input's directory, plus the node id its lines carry (`logs/|n1`), so
    /// that loose logs of unrelated clusters, all `n1`, stay apart.
    fn key(&self, ctx: &EvalCtx<'_>, input: InputId) -> String {
        let dir = || {
            let path = ctx.input(input).map_or("", |m| m.path.as_str());
            match path.rsplit_once(['/', '\\']) {
                Some((dir, _)) => format!("{dir}/"),
                None => String::new(),
            }
        };
        match self.by_input.get(&input) {
            Some((id, true)) => format!("|n{id}"),
            Some((id, false)) => format!("{}|n{id}", dir()),
            None => format!("{}|", dir()),
        }
    }
}

/// The node id of a grouping key (see [`InputNodes::key`]).
fn key_node(key: &str) -> Option<u64> {
    key.rsplit_once('|').and_then(|(_, n)| parse_node_name(n))
}

/// How a finding names a node it could not number.
fn key_display(key: &str) -> String {
    let dir = key.rsplit_once('|').map_or(key, |(d, _)| d);
    if dir.is_empty() {
        "the node whose logs are at the top of the bundle".to_string()
    } else {
        format!("the node whose logs are in {dir}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecomKind {
    Decommissioning,
    Decommissioned,
    Recommissioned,
}

struct DecomEvent<'a> {
    kind: DecomKind,
    target: u64,
    /// The event's `Timestamp` (ns): one CLI command stamps all its targets alike.
    stamp: Option<i64>,
    ev: &'a LogEvent,
}

fn old_event_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // v1.x-20.2: `Event: "node_decommissioning", target: 4, info: {...}` (20.2 wraps
        // the values in ‹›).
        regex::Regex::new(r#"Event: ‹?"(node_[a-z_]+)"›?, target: ‹?(\d+)"#)
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// The structured event name of an entry (`node_restart`) in any era's spelling.
fn event_name(ev: &LogEvent) -> Option<String> {
    if let Some(e) = ev.field("event") {
        return Some(e.to_string());
    }
    old_event_re()
        .captures(&ev.message)
        .map(|c| c[1].to_string())
}

fn parse_decom(ev: &LogEvent) -> Option<DecomEvent<'_>> {
    let (name, target) = if let Some(e) = ev.field("event") {
        (e.to_string(), ev.field_u64(&["ev.TargetNodeID"])?)
    } else {
        let c = old_event_re().captures(&ev.message)?;
        (c[1].to_string(), c[2].parse().ok()?)
    };
    let kind = match name.as_str() {
        "node_decommissioning" => DecomKind::Decommissioning,
        "node_decommissioned" => DecomKind::Decommissioned,
        "node_recommissioned" => DecomKind::Recommissioned,
        _ => return None,
    };
    Some(DecomEvent {
        kind,
        target,
        stamp: ev.field("ev.Timestamp").and_then(|t| t.parse().ok()),
        ev,
    })
}

/// Membership events, each once (a debug zip may hold `cockroach.log` and the file it
/// points to), in time order.
fn decom_events<'a>(rule: &Rule, ctx: &'a EvalCtx<'_>) -> Vec<DecomEvent<'a>> {
    let mut out: Vec<DecomEvent<'a>> = Vec::new();
    let mut seen = BTreeSet::new();
    for ev in events_in(rule, "decom", ctx) {
        let Some(d) = parse_decom(ev) else { continue };
        let key = (
            format!("{:?}", d.kind),
            d.target,
            d.stamp,
            ev.time.map(|t| t.timestamp_micros()),
        );
        if seen.insert(key) {
            out.push(d);
        }
    }
    out.sort_by_key(|d| (d.ev.time, d.ev.loc));
    out
}

/// The last value a cluster setting was set to, from `set_cluster_setting` events (JSON
/// `SettingName`/`Value`, or the older text form `{SettingName:... Value:...}`).
fn setting_secs<'a>(
    events: &[&'a LogEvent],
    names: &[&str],
) -> Option<(f64, String, &'a LogEvent)> {
    let mut best: Option<(f64, String, &'a LogEvent)> = None;
    for ev in events {
        let (name, value) = match (ev.field("ev.SettingName"), ev.field("ev.Value")) {
            (Some(n), Some(v)) => (unquote(n).to_string(), v.to_string()),
            _ => {
                let Some(p) = ev.message.find("SettingName:") else {
                    continue;
                };
                let rest = &ev.message[p + "SettingName:".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '›')
                    .collect();
                let Some(v) = rest.find("Value:") else {
                    continue;
                };
                let value: String = rest[v + "Value:".len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '}')
                    .collect();
                (unquote(&name).to_string(), value)
            }
        };
        if !names.contains(&name.as_str()) {
            continue;
        }
        if let Some(secs) = parse_setting_secs(&value) {
            best = Some((secs, unquote(&value).to_string(), ev));
        }
    }
    best
}

/// The CockroachDB version: `node status` build column, else a log header
/// (`[config] binary: CockroachDB CCL v25.4.0 (...)`).
fn crdb_version(rule: &Rule, ctx: &EvalCtx<'_>) -> Option<Version> {
    if let Some(v) = ctx.facts.version(Component::Cockroach) {
        return Some(v);
    }
    events_in(rule, "build", ctx)
        .iter()
        .filter_map(|e| {
            let p = e.message.find("CockroachDB")?;
            e.message[p..]
                .split_whitespace()
                .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))
                .and_then(Version::parse)
        })
        .max()
}

// ---------------------------------------------------------------------------------------
// crdb.decommission-stalled
// ---------------------------------------------------------------------------------------

/// Why the allocator cannot place a replica, from its error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum AllocCause {
    /// `(N throttled, ...)` without constraints, or `currently throttled`: snapshot
    /// reservations, usually gone in seconds.
    Throttled,
    NotEnoughNodes,
    Constraints,
    Other,
}

fn classify_alloc(err: &str) -> AllocCause {
    if err.contains("must match constraints") || err.contains("voter_constraints") {
        AllocCause::Constraints
    } else if err.contains("likely not enough nodes") {
        AllocCause::NotEnoughNodes
    } else if err.contains("currently throttled") || err.contains(" throttled, ") {
        AllocCause::Throttled
    } else {
        AllocCause::Other
    }
}

/// `n3 still has replica id 2 for range r1` → (3, 1).
fn parse_stall_line(msg: &str) -> Option<(u64, u64)> {
    let p = msg.find(" still has replica id ")?;
    let node = msg[..p]
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()?;
    let node = parse_node_name(node)?;
    let rest = &msg[p..];
    let r = rest.find(" for range r")? + " for range r".len();
    let digits: String = rest[r..].chars().take_while(char::is_ascii_digit).collect();
    Some((node, digits.parse().ok()?))
}

#[derive(Default)]
struct StallSig {
    evidence: Vec<EvidenceRef>,
    ranges: BTreeSet<u64>,
    /// What showed the stall, for the summary.
    how: BTreeSet<String>,
    errors: Vec<(AllocCause, String)>,
    preflight: bool,
    replicas: Option<u64>,
}

fn decommission_stalled(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let decom = decom_events(rule, ctx);
    let mut sigs: BTreeMap<u64, StallSig> = BTreeMap::new();
    // Throttled pre-flight/allocator errors per node, as (source, evidence): only a repeat
    // across separate checks counts.
    let mut throttled: BTreeMap<u64, Vec<(String, EvidenceRef, String)>> = BTreeMap::new();

    // Nodes whose decommission is under way (to attach log-only signals that name no node).
    let mut decommissioning: BTreeSet<u64> = t
        .node_ids()
        .into_iter()
        .filter(|id| t.latest(*id).is_some_and(|o| o.decommissioning()))
        .collect();
    for d in &decom {
        match d.kind {
            DecomKind::Decommissioning => {
                decommissioning.insert(d.target);
            }
            DecomKind::Decommissioned | DecomKind::Recommissioned => {
                decommissioning.remove(&d.target);
            }
        }
    }

    // 1. CLI captures: stall reports and pre-flight blocks.
    for (input, tb) in &ctx.facts.crdb.tables {
        let stall_marks: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("possible decommission stall detected"))
            .map(|m| m.line)
            .collect();
        for s in &tb.stall_replicas {
            let sig = sigs.entry(s.node).or_default();
            if let Some(m) = stall_marks.iter().rev().find(|m| **m < s.line) {
                sig.evidence.push(loc_evidence(loc(*input, *m)));
            }
            sig.evidence.push(loc_evidence(loc(*input, s.line)));
            sig.ranges.insert(s.range);
            sig.how.insert(
                "the decommission CLI reported a possible stall (15 polls without progress)".into(),
            );
        }
        // A stall report without replica lines: the nodes of the run it interrupts.
        for m in &stall_marks {
            let named = tb.stall_replicas.iter().any(|s| s.line > *m);
            if named {
                continue;
            }
            if let Some(run) = t
                .runs
                .iter()
                .rfind(|r| r.input == *input && r.first_line() < *m && !r.recommission)
            {
                for id in &run.ids {
                    let sig = sigs.entry(*id).or_default();
                    sig.evidence.push(loc_evidence(loc(*input, *m)));
                    sig.how.insert("the decommission CLI reported a possible stall (15 polls without progress)".into());
                }
            }
        }
        let block_marks: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("ranges blocking decommission detected"))
            .map(|m| m.line)
            .collect();
        let cannot: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("ERROR: Cannot decommission nodes"))
            .map(|m| m.line)
            .collect();
        for b in &tb.blocked {
            let cause = classify_alloc(&b.error);
            let block = block_marks.iter().rev().find(|m| **m < b.line).copied();
            if cause == AllocCause::Throttled {
                throttled.entry(b.node).or_default().push((
                    format!("{}:{}", input.0, block.unwrap_or(b.line)),
                    loc_evidence(loc(*input, b.line)),
                    b.error.clone(),
                ));
                continue;
            }
            let sig = sigs.entry(b.node).or_default();
            if let Some(m) = block {
                sig.evidence.push(loc_evidence(loc(*input, m)));
            }
            sig.evidence.push(loc_evidence(loc(*input, b.line)));
            if let Some(c) = cannot.iter().find(|c| **c > b.line) {
                sig.evidence.push(loc_evidence(loc(*input, *c)));
            }
            sig.errors.push((cause, b.error.clone()));
            sig.preflight = true;
            sig.replicas = Some(sig.replicas.unwrap_or(0).max(b.replicas));
            sig.how.insert(format!(
                "the pre-flight check found {} replica(s) that cannot move",
                b.replicas
            ));
        }
    }

    // 2. Server logs: the OPS-channel stall warnings and allocator errors.
    let stall_events = events_in(rule, "stall", ctx);
    for ev in &stall_events {
        if let Some((node, range)) = parse_stall_line(&ev.message) {
            let sig = sigs.entry(node).or_default();
            sig.evidence.push(evidence_of(ev));
            sig.ranges.insert(range);
            sig.how
                .insert("the server logged a possible decommission stall".into());
        }
    }
    for ev in &stall_events {
        if !ev.message.contains("possible decommission stall detected") {
            continue;
        }
        // The replica lines follow the warning; without them, every node under way.
        let named: BTreeSet<u64> = stall_events
            .iter()
            .filter(|o| o.loc.input == ev.loc.input && o.loc.line > ev.loc.line)
            .take_while(|o| !o.message.contains("possible decommission stall detected"))
            .filter_map(|o| parse_stall_line(&o.message).map(|(n, _)| n))
            .collect();
        let targets = if named.is_empty() {
            decommissioning.clone()
        } else {
            named
        };
        for id in targets {
            let sig = sigs.entry(id).or_default();
            sig.evidence.insert(0, evidence_of(ev));
            sig.how
                .insert("the server logged a possible decommission stall".into());
        }
    }
    // Allocator errors name no node: they only count while a decommission is under way.
    if !decommissioning.is_empty() {
        for ev in events_in(rule, "alloc", ctx) {
            let Some(p) = ev.message.find("0 of ") else {
                continue;
            };
            let err = ev.message[p..].trim_end_matches('"').to_string();
            let cause = classify_alloc(&err);
            for id in &decommissioning {
                if cause == AllocCause::Throttled {
                    let minute = ev.time.map_or(0, |t| t.timestamp() / 60);
                    throttled.entry(*id).or_default().push((
                        format!("log:{minute}"),
                        evidence_of(ev),
                        err.clone(),
                    ));
                    continue;
                }
                let sig = sigs.entry(*id).or_default();
                if sig.errors.len() < 3 {
                    sig.evidence.push(evidence_of(ev));
                }
                sig.errors.push((cause, err.clone()));
                sig.how
                    .insert("the allocator cannot place its replicas".into());
            }
        }
    }
    // 3. Throttled errors: a single check is a transient reservation window, a repeat is not.
    for (id, list) in throttled {
        let sources: BTreeSet<String> = list.iter().map(|(s, _, _)| s.clone()).collect();
        if sources.len() < 2 {
            continue;
        }
        let sig = sigs.entry(id).or_default();
        for (_, e, err) in list.into_iter().take(3) {
            sig.evidence.push(e);
            sig.errors.push((AllocCause::Throttled, err));
        }
        sig.how.insert(format!(
            "target stores were throttled in {} separate checks",
            sources.len()
        ));
    }
    // 4. A decommissioning node whose replica count stopped falling.
    for id in t.node_ids() {
        if let Some((count, ev, how)) = plateau(&t, id) {
            let sig = sigs.entry(id).or_default();
            sig.evidence.extend(ev);
            sig.replicas = Some(count);
            sig.how.insert(how);
        }
    }

    // Drop nodes whose decommission finished or was cancelled since.
    sigs.retain(|id, s| {
        if t.decommissioned_at(*id).is_some()
            || decom
                .iter()
                .any(|d| d.target == *id && d.kind == DecomKind::Decommissioned)
        {
            return false;
        }
        // Recommissioned after a stall: no longer decommissioning (a blocked pre-flight
        // never started, so it still stands).
        let recommissioned = decom
            .iter()
            .rfind(|d| d.target == *id)
            .is_some_and(|d| d.kind == DecomKind::Recommissioned);
        s.preflight || !(recommissioned || t.latest(*id).is_some_and(|o| o.active()))
    });
    if sigs.is_empty() {
        return Vec::new();
    }

    let targets: BTreeSet<u64> = sigs.keys().copied().collect();
    let mut hit = Hit::default();
    hit.var("nodes", id_args(&targets));
    hit.var("node_list", node_list(&targets));
    hit.var("live_host", t.live_host());
    for id in &targets {
        hit.entities.nodes.push(format!("n{id}"));
    }
    let mut ranges = BTreeSet::new();
    let mut how = BTreeSet::new();
    let mut errors: Vec<(AllocCause, String)> = Vec::new();
    let mut replicas = Vec::new();
    for (id, s) in &sigs {
        ranges.extend(s.ranges.iter().copied());
        how.extend(s.how.iter().cloned());
        errors.extend(s.errors.iter().cloned());
        let left = s
            .replicas
            .or_else(|| t.latest(*id).and_then(|o| o.row.replicas));
        if let Some(r) = left {
            replicas.push(format!("n{id}: {r}"));
        }
    }
    hit.entities.ranges = ranges.iter().copied().collect();
    let shown: Vec<String> = ranges.iter().take(10).map(|r| format!("r{r}")).collect();
    hit.var(
        "ranges",
        if shown.is_empty() {
            "not listed in the bundle".to_string()
        } else if ranges.len() > shown.len() {
            format!(
                "{} and {} more",
                shown.join(", "),
                ranges.len() - shown.len()
            )
        } else {
            shown.join(", ")
        },
    );
    hit.var(
        "replicas",
        if replicas.is_empty() {
            "unknown".to_string()
        } else {
            replicas.join(", ")
        },
    );
    hit.var("detail", how.into_iter().collect::<Vec<_>>().join("; "));

    let (cause, cause_ev) = stall_cause(&t, &targets, &errors);
    hit.var("cause", cause);

    // The stall lines first (a few per node: they repeat every report), then the rows that
    // show the cause, then the decommission events.
    let per_node = (MAX_EVIDENCE / 2 / sigs.len()).max(2);
    for s in sigs.values() {
        let mut ev = s.evidence.clone();
        dedup_cap(&mut ev);
        hit.evidence.extend(ev.into_iter().take(per_node));
    }
    hit.evidence.extend(cause_ev.into_iter().take(4));
    for d in decom.iter().filter(|d| targets.contains(&d.target)).take(2) {
        hit.evidence.push(evidence_of(d.ev));
    }
    dedup_cap(&mut hit.evidence);
    vec![hit]
}

/// Names the cause when the bundle shows it, with the rows that show it.
fn stall_cause(
    t: &Tables<'_>,
    targets: &BTreeSet<u64>,
    errors: &[(AllocCause, String)],
) -> (String, Vec<EvidenceRef>) {
    let quote = |e: &str| {
        let cut: String = e.chars().take(240).collect();
        if cut.len() < e.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    if let Some((_, e)) = errors.iter().find(|(c, _)| *c == AllocCause::Constraints) {
        return (
            format!(
                "locality/zone constraints: no store outside the decommissioning node(s) satisfies the ranges' constraints (\"{}\")",
                quote(e)
            ),
            Vec::new(),
        );
    }
    // Live, active nodes other than the targets, from the newest status table.
    if let Some(rows) = t.latest_status() {
        let others: Vec<&&Obs<'_>> = rows
            .iter()
            .filter(|o| !targets.contains(&o.row.id) && o.row.is_live == Some(true) && o.active())
            .collect();
        let total = rows.iter().filter(|o| !o.decommissioned()).count();
        if others.len() < DEFAULT_RF {
            let ids: BTreeSet<u64> = others.iter().map(|o| o.row.id).collect();
            let mut ev: Vec<EvidenceRef> = rows.iter().map(|o| loc_evidence(o.loc())).collect();
            ev.truncate(6);
            return (
                format!(
                    "fewer live, non-decommissioning nodes than the replication factor: only {} ({}) besides {} in a {}-node cluster, replication factor {} (the default; zone configs are not in the bundle, so assumed). Every range already has a replica on each of them, so there is no node to move the replicas to",
                    ids.len(),
                    if ids.is_empty() {
                        "none".to_string()
                    } else {
                        node_list(&ids)
                    },
                    node_list(targets),
                    total,
                    DEFAULT_RF
                ),
                ev,
            );
        }
    }
    if let Some((_, e)) = errors
        .iter()
        .find(|(c, _)| *c == AllocCause::NotEnoughNodes)
    {
        return (
            format!(
                "not enough nodes: the allocator reports \"{}\" (fewer live, non-decommissioning nodes than the replication factor)",
                quote(e)
            ),
            Vec::new(),
        );
    }
    if let Some((_, e)) = errors.iter().find(|(c, _)| *c == AllocCause::Throttled) {
        return (
            format!(
                "target stores stayed throttled across repeated checks (\"{}\"): snapshot reservations are not freeing up",
                quote(e)
            ),
            Vec::new(),
        );
    }
    if let Some((_, e)) = errors.first() {
        return (
            format!("the allocator reports \"{}\"", quote(e)),
            Vec::new(),
        );
    }
    (
        "not shown in the bundle (compare the live, non-decommissioning node count with the replication factor, and check zone constraints)".to_string(),
        Vec::new(),
    )
}

/// The replica count of a decommissioning node stopped falling: the same non-zero count at
/// the end of its observations, over at least 10 minutes of `updated_at`, or over three
/// reprinted decommission tables (the CLI reprints only on change, so another node moved
/// twice while this one did not).
fn plateau(t: &Tables<'_>, id: u64) -> Option<(u64, Vec<EvidenceRef>, String)> {
    let obs: Vec<&Obs<'_>> = t
        .of(id)
        .filter(|o| o.decommissioning() && o.row.replicas.is_some())
        .collect();
    let last = obs.last()?;
    let count = last.row.replicas?;
    if count == 0 {
        return None;
    }
    let run: Vec<&&Obs<'_>> = obs
        .iter()
        .rev()
        .take_while(|o| o.row.replicas == Some(count))
        .collect();
    if run.len() < 2 {
        return None;
    }
    let times: Vec<NaiveDateTime> = run.iter().filter_map(|o| o.taken).collect();
    let span = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (*b - *a).num_seconds(),
        _ => 0,
    };
    let progress_tables = run
        .iter()
        .filter(|o| o.kind == TableKind::DecommissionProgress)
        .count();
    let how = if span >= 600 {
        format!(
            "n{id}'s replica count stayed at {count} for {} across {} snapshots",
            human_secs(span),
            run.len()
        )
    } else if progress_tables >= 3 {
        format!(
            "n{id}'s replica count stayed at {count} across {progress_tables} reprinted decommission tables while other nodes moved"
        )
    } else {
        return None;
    };
    let mut ev: Vec<EvidenceRef> = run.iter().rev().map(|o| loc_evidence(o.loc())).collect();
    ev.truncate(4);
    Some((count, ev, how))
}

fn dedup_cap(ev: &mut Vec<EvidenceRef>) {
    let mut seen = BTreeSet::new();
    ev.retain(|e| seen.insert(e.loc));
    ev.truncate(MAX_EVIDENCE);
}

// ---------------------------------------------------------------------------------------
// crdb.terminated-before-decommissioned
// ---------------------------------------------------------------------------------------

fn terminated_before_decommissioned(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let decom = decom_events(rule, ctx);
    let live_host = t.live_host();
    let mut hits = Vec::new();
    for id in t.node_ids() {
        let Some(last) = t.latest(id) else { continue };
        if last.row.is_live != Some(false) || !last.decommissioning() {
            continue;
        }
        if t.decommissioned_at(id).is_some()
            || decom
                .iter()
                .any(|d| d.target == id && d.kind == DecomKind::Decommissioned)
        {
            continue;
        }
        // A node that was already dead while still active is a dead node being decommissioned
        // (the documented way to remove it), not one stopped mid-decommission.
        let died_first = t.of(id).any(|o| o.row.is_live == Some(false) && o.active());
        if died_first {
            continue;
        }
        let was_live = t
            .of(id)
            .filter(|o| o.row.is_live == Some(true) && o.decommissioning())
            .last();
        let mut hit = Hit::default();
        hit.var("node", id);
        hit.var("nodes", id);
        hit.var("node_list", format!("n{id}"));
        hit.var("live_host", &live_host);
        hit.entities.nodes.push(format!("n{id}"));
        hit.var(
            "replicas",
            last.row
                .replicas
                .map_or("an unknown number of".to_string(), |r| r.to_string()),
        );
        hit.var(
            "since",
            last.row
                .updated_at
                .clone()
                .unwrap_or_else(|| "an unknown time".to_string()),
        );
        let mut detail = Vec::new();
        if let (Some(taken), Some(upd)) = (
            last.taken,
            last.row.updated_at.as_deref().and_then(parse_table_time),
        ) {
            let age = (taken - upd).num_seconds();
            if age > 0 {
                detail.push(format!(
                    "its liveness record is {} older than the table",
                    human_secs(age)
                ));
            }
        }
        hit.evidence.push(loc_evidence(last.loc()));
        if let Some(w) = was_live {
            detail.push(format!(
                "it was still live and decommissioning with {} replicas earlier in the bundle",
                w.row
                    .replicas
                    .map_or("an unknown number of".to_string(), |r| r.to_string())
            ));
            hit.evidence.push(loc_evidence(w.loc()));
        }
        if let Some(skips) = t.not_live_skips.get(&id) {
            detail
                .push("the decommission CLI skipped its drain step because it is not live".into());
            hit.evidence
                .extend(skips.iter().take(2).map(|l| loc_evidence(*l)));
        }
        for d in decom
            .iter()
            .filter(|d| d.target == id && d.kind == DecomKind::Decommissioning)
            .take(2)
        {
            hit.evidence.push(evidence_of(d.ev));
        }
        hit.var(
            "detail",
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join("; "))
            },
        );
        dedup_cap(&mut hit.evidence);
        hits.push(hit);
    }
    hits
}

// ---------------------------------------------------------------------------------------
// crdb.decommission-one-by-one
// ---------------------------------------------------------------------------------------

/// One decommission command as the membership events show it.
struct StartGroup<'a> {
    stamp: Option<i64>,
    first: Option<Time>,
    targets: BTreeSet<u64>,
    events: Vec<&'a DecomEvent<'a>>,
}

fn one_by_one(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let decom = decom_events(rule, ctx);
    let mut groups: Vec<StartGroup<'_>> = Vec::new();
    for d in decom
        .iter()
        .filter(|d| d.kind == DecomKind::Decommissioning)
    {
        let time = d.ev.time;
        // One command stamps all its targets with the same Timestamp; without stamps, events
        // within a minute are taken as one command.
        let same = |g: &StartGroup<'_>| match (d.stamp, g.stamp) {
            (Some(a), Some(b)) => a == b,
            _ => match (time, g.first) {
                (Some(a), Some(b)) => (a - b).num_seconds().abs() < 60,
                _ => false,
            },
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => {
                g.targets.insert(d.target);
                g.events.push(d);
            }
            None => groups.push(StartGroup {
                stamp: d.stamp,
                first: time,
                targets: BTreeSet::from([d.target]),
                events: vec![d],
            }),
        }
    }
    // Only commands that add nodes count (re-running the same decommission is fine), and
    // only when they started at least a minute apart.
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let mut kept: Vec<&StartGroup<'_>> = Vec::new();
    for g in &groups {
        if g.targets.iter().any(|id| !seen.contains(id)) {
            if let (Some(prev), Some(first)) = (kept.last().and_then(|k| k.first), g.first)
                && (first - prev).num_seconds() < 60
            {
                seen.extend(g.targets.iter().copied());
                continue;
            }
            seen.extend(g.targets.iter().copied());
            kept.push(g);
        }
    }
    let mut hit = Hit::default();
    let mut all: BTreeSet<u64> = BTreeSet::new();
    let mut steps: Vec<String> = Vec::new();
    if kept.len() >= 2 {
        for g in &kept {
            all.extend(g.targets.iter().copied());
            let when = g.first.map_or("at an unknown time".to_string(), |t| {
                format!("at {}", fmt_time(t))
            });
            let done = decom
                .iter()
                .filter(|d| d.kind == DecomKind::Decommissioned && g.targets.contains(&d.target))
                .filter_map(|d| d.ev.time)
                .max();
            steps.push(format!(
                "{} started {when}{}",
                node_list(&g.targets),
                done.map_or(String::new(), |d| format!(", finished {}", fmt_time(d)))
            ));
            for d in &g.events {
                hit.evidence.push(evidence_of(d.ev));
            }
            for d in decom
                .iter()
                .filter(|d| d.kind == DecomKind::Decommissioned && g.targets.contains(&d.target))
            {
                hit.evidence.push(evidence_of(d.ev));
            }
        }
    } else {
        // CLI captures: separate runs over disjoint sets of live nodes, the earlier finished.
        let runs: Vec<&Run<'_>> = t
            .runs
            .iter()
            .filter(|r| {
                !r.recommission
                    && r.snaps
                        .first()
                        .is_some_and(|s| s.rows.iter().all(|row| row.is_live == Some(true)))
            })
            .collect();
        let mut chain: Vec<&Run<'_>> = Vec::new();
        for r in runs {
            if chain.iter().all(|c| c.ids.is_disjoint(&r.ids))
                && chain.last().is_none_or(|c| c.finished())
            {
                chain.push(r);
            }
        }
        if chain.len() < 2 {
            return Vec::new();
        }
        for r in &chain {
            all.extend(r.ids.iter().copied());
            steps.push(format!(
                "{} in a separate `cockroach node decommission` run{}",
                node_list(&r.ids),
                if r.finished() { " that finished" } else { "" }
            ));
            hit.evidence
                .push(loc_evidence(loc(r.input, r.first_line())));
            if let Some(c) = r.completed {
                hit.evidence.push(loc_evidence(loc(r.input, c)));
            }
        }
    }
    if all.len() < 2 {
        return Vec::new();
    }
    hit.var("nodes", id_args(&all));
    hit.var("node_list", node_list(&all));
    hit.var("count", kept.len().max(steps.len()));
    hit.var("detail", steps.join("; then "));
    hit.var("live_host", t.live_host());
    hit.entities.nodes = all.iter().map(|i| format!("n{i}")).collect();
    dedup_cap(&mut hit.evidence);
    vec![hit]
}

// ---------------------------------------------------------------------------------------
// crdb.drain-timeout
// ---------------------------------------------------------------------------------------

/// `drain remaining: 15`, `node is draining... remaining: 0 (complete)` → the count.
fn parse_remaining(msg: &str) -> Option<u64> {
    let p = msg.find("remaining: ")? + "remaining: ".len();
    let digits: String = msg[p..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Everything the drain rule learnt about one node.
#[derive(Default)]
struct DrainSig {
    evidence: Vec<EvidenceRef>,
    why: Vec<String>,
    fires: bool,
    drain_wait: Option<String>,
}

/// Parses a command line captured as a log event (text before the first log entry).
fn event_command(ev: &LogEvent) -> Option<CliCommand> {
    let c = crate::parse::crdb_input::command_line(&ev.message, ev.loc.input, ev.loc.line)?;
    (c.verb == "drain").then_some(c)
}

fn drain_timeout(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let nodes = InputNodes::new(ctx);
    // Inputs that are CLI captures name their node only in the command line.
    let mut cli_node: BTreeMap<InputId, (Option<u64>, Option<String>)> = BTreeMap::new();
    for c in ctx
        .facts
        .crdb
        .commands
        .iter()
        .cloned()
        .chain(
            events_in(rule, "cmd", ctx)
                .into_iter()
                .filter_map(event_command),
        )
        .filter(|c| c.verb == "drain")
    {
        let id = c.ids.first().copied();
        cli_node
            .entry(c.input)
            .or_insert((id, c.drain_wait.clone()));
    }
    let key_of = |input: InputId| -> String {
        match cli_node.get(&input) {
            Some((Some(id), _)) => format!("|n{id}"),
            _ => nodes.key(ctx, input),
        }
    };
    let mut sigs: BTreeMap<String, DrainSig> = BTreeMap::new();
    for (input, (_, wait)) in &cli_node {
        if let Some(w) = wait {
            sigs.entry(key_of(*input)).or_default().drain_wait = Some(w.clone());
        }
    }

    // 1. Explicit timeouts: the CLI's `ERROR: drain timeout, ...` and its `drain timed out`.
    for ev in events_in(rule, "timeout", ctx) {
        // The message itself, not a mention of it (help texts, settings descriptions).
        let m = ev.message.trim();
        let m = m
            .strip_prefix("ERROR: ")
            .or_else(|| m.strip_prefix("Error: "))
            .unwrap_or(m);
        if !(m.starts_with("drain timeout") || m.starts_with("drain timed out")) {
            continue;
        }
        let s = sigs.entry(key_of(ev.loc.input)).or_default();
        s.evidence.insert(0, evidence_of(ev));
        if !s.fires {
            s.why
                .push("the drain command gave up: `drain timeout`".into());
        }
        s.fires = true;
    }
    for (input, tb) in &ctx.facts.crdb.tables {
        for m in tb.marks.iter().filter(|m| {
            m.text.starts_with("ERROR: drain timeout") || m.text.starts_with("drain timed out")
        }) {
            let s = sigs.entry(key_of(*input)).or_default();
            s.evidence.insert(0, loc_evidence(loc(*input, m.line)));
            if !s.fires {
                s.why
                    .push("the drain command gave up: `drain timeout`".into());
            }
            s.fires = true;
        }
    }

    // 2. Drain progress that never reached 0 before the node moved on.
    let restarts: Vec<(String, Time)> = events_in(rule, "restart", ctx)
        .iter()
        .filter(|e| matches!(event_name(e).as_deref(), Some("node_restart" | "node_join")))
        .filter_map(|e| Some((key_of(e.loc.input), e.time?)))
        .collect();
    let mut points: BTreeMap<String, Vec<(&LogEvent, u64)>> = BTreeMap::new();
    for ev in events_in(rule, "remaining", ctx) {
        // A drain the process runs on SIGTERM is cut short by whoever kills it: that is
        // crdb.unclean-shutdown's business, not a --drain-wait problem.
        if ev
            .field("tags")
            .is_some_and(|t| t.contains("server drain process"))
        {
            continue;
        }
        if let Some(n) = parse_remaining(&ev.message) {
            points
                .entry(key_of(ev.loc.input))
                .or_default()
                .push((ev, n));
        }
    }
    let timeouts: BTreeSet<String> = sigs
        .iter()
        .filter(|(_, s)| s.fires)
        .map(|(k, _)| k.clone())
        .collect();
    for (key, mut pts) in points {
        pts.sort_by_key(|(e, _)| (e.time, e.loc));
        // Runs: split at gaps longer than the default --drain-wait and at restarts.
        let mut runs: Vec<Vec<(&LogEvent, u64)>> = Vec::new();
        for p in pts {
            let split = runs.last().and_then(|r| r.last()).is_none_or(|(prev, _)| {
                match (prev.time, p.0.time) {
                    (Some(a), Some(b)) => {
                        (b - a).num_seconds() > DRAIN_WAIT_SECS + 60
                            || restarts.iter().any(|(k, t)| *k == key && *t > a && *t <= b)
                    }
                    _ => false,
                }
            });
            if split {
                runs.push(vec![p]);
            } else if let Some(r) = runs.last_mut() {
                r.push(p);
            }
        }
        let n_runs = runs.len();
        for (i, run) in runs.iter().enumerate() {
            if run.iter().any(|(_, n)| *n == 0) {
                continue;
            }
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let span = match (first.0.time, last.0.time) {
                (Some(a), Some(b)) => (b - a).num_seconds(),
                _ => 0,
            };
            let restarted = last
                .0
                .time
                .is_some_and(|end| restarts.iter().any(|(k, t)| *k == key && *t > end));
            // A run that is simply the end of the capture proves nothing; one followed by
            // another drain, a restart or a timeout, or that lasted the whole default
            // --drain-wait, did not finish.
            let closed =
                i + 1 < n_runs || restarted || span >= DRAIN_WAIT_SECS || timeouts.contains(&key);
            if !closed {
                continue;
            }
            let s = sigs.entry(key.clone()).or_default();
            s.fires = true;
            s.why.push(format!(
                "drain progress went from remaining: {} to remaining: {} over {} and never reached 0{}",
                first.1,
                last.1,
                human_secs(span),
                if restarted {
                    " before the node restarted"
                } else if i + 1 < n_runs {
                    " before a new drain began"
                } else {
                    ""
                }
            ));
            s.evidence.push(evidence_of(first.0));
            if !std::ptr::eq(first.0, last.0) {
                s.evidence.push(evidence_of(last.0));
            }
        }
    }

    // 3. Lease transfers that keep waiting (the stall the server logs verbosely).
    let mut leases: BTreeMap<String, Vec<&LogEvent>> = BTreeMap::new();
    for ev in events_in(rule, "lease", ctx) {
        leases.entry(key_of(ev.loc.input)).or_default().push(ev);
    }
    let finished_after = |key: &str, t: Time| {
        events_in(rule, "remaining", ctx).iter().any(|e| {
            key_of(e.loc.input) == key
                && parse_remaining(&e.message) == Some(0)
                && e.time.is_some_and(|x| x >= t)
        })
    };
    for (key, evs) in leases {
        let times: Vec<Time> = evs.iter().filter_map(|e| e.time).collect();
        let (Some(a), Some(b)) = (times.iter().min(), times.iter().max()) else {
            continue;
        };
        let span = (*b - *a).num_seconds();
        if evs.len() < 5 || span < 60 || finished_after(&key, *b) {
            continue;
        }
        let s = sigs.entry(key).or_default();
        s.fires = true;
        s.why.push(format!(
            "lease transfers kept waiting (`waiting for N replicas to transfer their lease away` {} times over {})",
            evs.len(),
            human_secs(span)
        ));
        s.evidence
            .extend(evs.iter().take(3).map(|e| evidence_of(e)));
    }

    // 4. Goroutines blocked for minutes in drain code (a node's goroutine dump).
    for (input, gs) in &ctx.facts.crdb.goroutines {
        let stuck: Vec<(&Goroutine, &Frame)> = gs
            .iter()
            .filter(|g| g.wait_minutes.unwrap_or(0) >= STUCK_MINUTES)
            .filter_map(|g| g.frames.iter().find(|f| drain_frame(f)).map(|f| (g, f)))
            .collect();
        let Some(longest) = stuck.iter().filter_map(|(g, _)| g.wait_minutes).max() else {
            continue;
        };
        let s = sigs.entry(key_of(*input)).or_default();
        s.fires = true;
        let (g, f) = stuck[0];
        s.why.push(format!(
            "{} goroutine(s) blocked in drain code for up to {longest} minutes (goroutine {} [{}] in `{}`)",
            stuck.len(),
            g.id,
            g.state,
            f.func.rsplit('/').next().unwrap_or(&f.func)
        ));
        for (g, f) in stuck.iter().take(3) {
            s.evidence.push(loc_evidence(loc(*input, g.line)));
            s.evidence.push(loc_evidence(loc(*input, f.line)));
        }
    }

    // Causes and the CLI's own --drain-wait warning, as supporting evidence.
    let settings = events_in(rule, "setting", ctx);
    let low_lease = setting_secs(
        &settings,
        &[
            "server.shutdown.lease_transfer_wait",
            "server.shutdown.lease_transfer_iteration.timeout",
        ],
    )
    .filter(|(secs, _, _)| *secs < 5.0);
    let wait_warnings = events_in(rule, "wait", ctx);
    let version = crdb_version(rule, ctx);
    // Without a status table, the --host the drain command itself used (any live node for
    // current CLIs, the draining node for old ones: right for the re-run either way).
    let mut live_host = t.live_host();
    if live_host.starts_with('<')
        && let Some(h) = events_in(rule, "cmd", ctx)
            .into_iter()
            .filter_map(event_command)
            .find_map(|c| c.host)
    {
        live_host = h;
    }

    let mut hits = Vec::new();
    for (key, mut s) in sigs {
        if !s.fires {
            continue;
        }
        let mut hit = Hit::default();
        if let Some(id) = key_node(&key) {
            hit.var("node", id);
            hit.var("nodes", id);
            hit.var("node_list", format!("n{id}"));
            hit.entities.nodes.push(format!("n{id}"));
        } else {
            hit.var("node_list", key_display(&key));
        }
        for w in wait_warnings
            .iter()
            .filter(|w| key_of(w.loc.input) == key)
            .take(1)
        {
            s.why.push(
                "the CLI raised --drain-wait to the sum of the server.shutdown settings (its warning line)".into(),
            );
            s.evidence.push(evidence_of(w));
        }
        if let Some((secs, value, ev)) = &low_lease {
            s.why.push(format!(
                "the lease transfer wait is set to {value} ({secs}s), below the 5s the docs advise: leases can fail to transfer"
            ));
            s.evidence.push(evidence_of(ev));
        }
        hit.var("detail", s.why.join("; "));
        hit.var(
            "drain_wait",
            s.drain_wait
                .clone()
                .unwrap_or_else(|| "not shown (the default is 10m)".to_string()),
        );
        hit.var("settings", drain_settings(version));
        hit.var(
            "version",
            version.map_or("unknown".to_string(), |v| v.to_string()),
        );
        hit.var("live_host", &live_host);
        hit.evidence = s.evidence;
        dedup_cap(&mut hit.evidence);
        hits.push(hit);
    }
    hits
}

/// A goroutine waiting this long inside drain code is stuck: with default settings each
/// drain request returns within seconds (the CLI then sends the next).
const STUCK_MINUTES: u64 = 2;

/// A frame of the server's drain path: `pkg/server/drain.go`, the store's lease shedding,
/// the SQL server's client drain. `created by` frames only say who started the goroutine.
fn drain_frame(f: &Frame) -> bool {
    const FUNCS: &[&str] = &[
        "server.(*drainServer)",
        "kvserver.(*Store).SetDraining",
        "kvserver.(*Stores).SetDraining",
        "server.(*Node).SetDraining",
        "pgwire.(*Server).Drain",
        "pgwire.(*Server).drainImpl",
        "server.(*Server).Drain",
        "server.(*Server).doDrain",
    ];
    !f.func.starts_with("created by ")
        && (FUNCS.iter().any(|n| f.func.contains(n))
            || f.file
                .as_deref()
                .is_some_and(|p| p.contains("pkg/server/drain.go:")))
}

/// The drain settings by the names of the cluster's version (renamed in 24.2; the old
/// names stay as aliases).
fn drain_settings(v: Option<Version>) -> String {
    const NEW: &str = "server.shutdown.initial_wait (0s), server.shutdown.connections.timeout (0s), server.shutdown.transactions.timeout (10s, counts twice), server.shutdown.jobs.timeout (10s), server.shutdown.lease_transfer_iteration.timeout (5s)";
    const OLD: &str = "server.shutdown.drain_wait (0s), server.shutdown.connection_wait (0s), server.shutdown.query_wait (10s, counts twice), server.shutdown.jobs_wait (10s), server.shutdown.lease_transfer_wait (5s)";
    match v {
        Some(v) if v >= Version::new(24, 2, 0) => {
            format!(
                "{NEW} (CockroachDB {v}; before 24.2 these were drain_wait, connection_wait, query_wait, jobs_wait, lease_transfer_wait)"
            )
        }
        Some(v) => format!("{OLD} (CockroachDB {v}; renamed in 24.2)"),
        None => format!(
            "{OLD}; from 24.2 named {NEW} (the bundle shows no version; the old names remain as aliases)"
        ),
    }
}

// ---------------------------------------------------------------------------------------
// crdb.unclean-shutdown
// ---------------------------------------------------------------------------------------

/// A log file of the main (OPS/DEV) log, not a per-channel file (`cockroach-pebble...`,
/// `cockroach-health...`): restarts and shutdown lines are written there.
fn main_log(ctx: &EvalCtx<'_>, input: InputId) -> bool {
    let path = ctx.input(input).map_or("", |m| m.path.as_str());
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    !name.starts_with("cockroach-")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    /// `node_join` (first start) or `node_restart`: a server process started.
    Start,
    Restart,
    /// `initiating graceful shutdown of server`: a shutdown began.
    Graceful,
    /// `server drained and shutdown completed`, `too early to drain; used hard shutdown
    /// instead` (an intended fast exit), or a drain request with `shutdown = true`.
    Completed,
    /// `received signal ... during shutdown, initiating hard shutdown`, `time limit
    /// reached, initiating hard shutdown`.
    Hard,
}

fn classify_shutdown(ev: &LogEvent) -> Option<Mark> {
    let m = &ev.message;
    if m.contains("during shutdown, initiating hard shutdown")
        || m.contains("time limit reached, initiating hard shutdown")
    {
        return Some(Mark::Hard);
    }
    // `cockroach quit` (and drain with shutdown) ask the server to stop itself: an intended
    // stop whose process exits without the start command's completion line.
    if m.contains("server drained and shutdown completed")
        || m.contains("too early to drain; used hard shutdown instead")
        || (m.contains("drain request received") && m.contains("shutdown = true"))
    {
        return Some(Mark::Completed);
    }
    if m.contains("initiating graceful shutdown of server") {
        return Some(Mark::Graceful);
    }
    match event_name(ev).as_deref() {
        Some("node_restart") => Some(Mark::Restart),
        Some("node_join") => Some(Mark::Start),
        _ => None,
    }
}

fn unclean_shutdown(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let nodes = InputNodes::new(ctx);
    let mut by_node: BTreeMap<String, Vec<(Mark, &LogEvent)>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for ev in events_in(rule, "shutdown", ctx) {
        let Some(mark) = classify_shutdown(ev) else {
            continue;
        };
        // Positive evidence may sit in any file; the timeline of starts and clean stops
        // only in the main log.
        if mark != Mark::Hard && !main_log(ctx, ev.loc.input) {
            continue;
        }
        let key = nodes.key(ctx, ev.loc.input);
        // The same entry twice: a copied `cockroach.log`, or an `Error: ...` continuation.
        let id = (
            key.clone(),
            mark,
            ev.time.map(|t| t.timestamp_micros()),
            if mark == Mark::Hard {
                String::new()
            } else {
                ev.message.clone()
            },
        );
        if !seen.insert(id) {
            continue;
        }
        by_node.entry(key).or_default().push((mark, ev));
    }
    let mut hits = Vec::new();
    for (key, mut marks) in by_node {
        marks.sort_by_key(|(_, e)| (e.time, e.loc));
        let hard: Vec<&LogEvent> = marks
            .iter()
            .filter(|(m, _)| *m == Mark::Hard)
            .map(|(_, e)| *e)
            .collect();
        // Restarts with no completed (or forced) stop since the previous server start, which
        // must itself be in the bundle: without the previous run's log nothing is known.
        struct Weak<'a> {
            restart: &'a LogEvent,
            prev: &'a LogEvent,
            graceful: Option<&'a LogEvent>,
        }
        let mut weak: Vec<Weak<'_>> = Vec::new();
        for (i, (m, ev)) in marks.iter().enumerate() {
            if *m != Mark::Restart {
                continue;
            }
            let before = &marks[..i];
            let Some(prev) = before
                .iter()
                .rposition(|(m, _)| matches!(m, Mark::Start | Mark::Restart))
            else {
                continue;
            };
            let window = &before[prev..];
            if window
                .iter()
                .any(|(m, _)| matches!(m, Mark::Completed | Mark::Hard))
            {
                continue;
            }
            weak.push(Weak {
                restart: ev,
                prev: before[prev].1,
                graceful: window
                    .iter()
                    .rev()
                    .find(|(m, _)| *m == Mark::Graceful)
                    .map(|(_, e)| *e),
            });
        }
        if hard.is_empty() && weak.is_empty() {
            continue;
        }
        let mut hit = Hit::default();
        match key_node(&key) {
            Some(id) => {
                hit.var("node", id);
                hit.var("node_list", format!("n{id}"));
                hit.entities.nodes.push(format!("n{id}"));
            }
            None => hit.var("node_list", key_display(&key)),
        }
        let mut why = Vec::new();
        if !hard.is_empty() {
            hit.var("count", hard.len());
            let first = hard.iter().filter_map(|e| e.time).min();
            why.push(format!(
                "the process was forced into a hard shutdown {} time(s){}: `{}`",
                hard.len(),
                first.map_or(String::new(), |t| format!(" (first at {})", fmt_time(t))),
                hard[0].message.trim()
            ));
            hit.evidence
                .extend(hard.iter().take(4).map(|e| evidence_of(e)));
            hit.var(
                "reason",
                "definite: CockroachDB logged that a signal or time limit cut its shutdown short",
            );
        } else {
            hit.var("count", weak.len());
            hit.var(
                "reason",
                "weaker: no completed shutdown line before the restart; a SIGKILL leaves none, but log rotation, a lost last buffer or a crash look the same",
            );
        }
        for w in weak.iter().take(3) {
            let down = match (
                w.restart.field("ev.StartedAt"),
                w.restart.field("ev.LastUp"),
            ) {
                (Some(s), Some(l)) => match (s.parse::<i64>(), l.parse::<i64>()) {
                    (Ok(s), Ok(l)) if s > l => format!(
                        " ({} after its previous liveness heartbeat)",
                        human_secs((s - l) / 1_000_000_000)
                    ),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let graceful = match w.graceful {
                Some(g) => format!(
                    "; a graceful shutdown began{} but never logged completion",
                    g.time
                        .map_or(String::new(), |t| format!(" at {}", fmt_time(t)))
                ),
                None => String::new(),
            };
            why.push(format!(
                "it restarted{}{down} with no `server drained and shutdown completed` since its previous start{graceful}",
                w.restart
                    .time
                    .map_or(String::new(), |t| format!(" at {}", fmt_time(t)))
            ));
            hit.evidence.push(evidence_of(w.restart));
            if let Some(g) = w.graceful {
                hit.evidence.push(evidence_of(g));
            }
            hit.evidence.push(evidence_of(w.prev));
        }
        hit.var("detail", why.join("; "));
        dedup_cap(&mut hit.evidence);
        hits.push(hit);
    }
    hits
}

// ---------------------------------------------------------------------------------------
// crdb.dead-node
// ---------------------------------------------------------------------------------------

fn dead_node(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let settings = events_in(rule, "setting", ctx);
    let (threshold, threshold_note, setting_ev) =
        match setting_secs(&settings, &["server.time_until_store_dead"]) {
            Some((secs, value, ev)) => (
                secs as i64,
                format!("{value} (set in the cluster)"),
                Some(ev),
            ),
            None => (
                STORE_DEAD_SECS,
                "5m0s (the default; no setting change in the bundle)".to_string(),
                None,
            ),
        };
    let live_host = t.live_host();
    let mut hits = Vec::new();
    for id in t.node_ids() {
        // Liveness is judged from `node status` rows, which carry `updated_at`.
        let Some(last) = t
            .of(id)
            .filter(|o| o.kind == TableKind::NodeStatus && o.row.is_live.is_some())
            .last()
        else {
            continue;
        };
        // A decommissioned node keeps that status and is not "dead"; a decommissioning one
        // that stopped is crdb.terminated-before-decommissioned.
        if last.row.is_live != Some(false) || !last.active() || t.decommissioned_at(id).is_some() {
            continue;
        }
        let (Some(taken), Some(upd)) = (
            last.taken,
            last.row.updated_at.as_deref().and_then(parse_table_time),
        ) else {
            continue;
        };
        let age = (taken - upd).num_seconds();
        if age <= threshold {
            continue;
        }
        let mut hit = Hit::default();
        hit.var("node", id);
        hit.var("nodes", id);
        hit.var("node_list", format!("n{id}"));
        hit.var("age", human_secs(age));
        hit.var("since", last.row.updated_at.clone().unwrap_or_default());
        hit.var("threshold", &threshold_note);
        hit.var("live_host", &live_host);
        // A dead node's count is no longer gossiped (it shows 0): only a real count is told.
        hit.var(
            "detail",
            match last.row.replicas {
                Some(r) if r > 0 => format!(" (it last reported {r} replicas)"),
                _ => String::new(),
            },
        );
        hit.entities.nodes.push(format!("n{id}"));
        hit.evidence.push(loc_evidence(last.loc()));
        if let Some(ev) = setting_ev {
            hit.evidence.push(evidence_of(ev));
        }
        hits.push(hit);
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_parsers() {
        assert_eq!(
            parse_stall_line("n3 still has replica id 2 for range r1"),
            Some((3, 1))
        );
        assert_eq!(
            parse_stall_line("[n1] 50  n3 still has replica id 4 for range r7 more"),
            Some((3, 7))
        );
        assert_eq!(parse_stall_line("n3 still has replicas"), None);
        assert_eq!(parse_remaining("drain remaining: 15"), Some(15));
        assert_eq!(
            parse_remaining("node is draining... remaining: 0 (complete)"),
            Some(0)
        );
        assert_eq!(parse_setting_secs("'15m0s'"), Some(900.0));
        assert_eq!(parse_setting_secs("‹00:15:00›"), Some(900.0));
        assert_eq!(parse_setting_secs("500ms"), Some(0.5));
        assert!(
            parse_table_time("2022-09-01 02:17:28.202777").is_some()
                && parse_table_time("2019-07-23 20:08:13.429401+00:00").is_some()
                && parse_table_time("2022-09-01 02:17:28").is_some()
        );
    }

    #[test]
    fn allocator_error_forms() {
        use AllocCause::*;
        let e = |s: &str| classify_alloc(s);
        assert_eq!(
            e(
                "0 of 1 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); likely not enough nodes in cluster"
            ),
            NotEnoughNodes
        );
        assert_eq!(
            e(
                "0 of 1 live stores are able to take a new replica for the range (1 already has a replica); likely not enough nodes in cluster"
            ),
            NotEnoughNodes
        );
        assert_eq!(
            e(
                "0 of 2 live stores are able to take a new replica for the range (1 throttled, 1 already has a voter, 0 already have a non-voter)"
            ),
            Throttled
        );
        assert_eq!(
            e(
                "0 of 3 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); replicas must match constraints [{+region=us-east1}]"
            ),
            Constraints
        );
        assert_eq!(
            e(
                "0 of 2 live stores are able to take a new replica for the range (1 already has a replica); must match constraints [{+zone=a}]"
            ),
            Constraints
        );
    }

    fn event(msg: &str, fields: &[(&str, &str)]) -> LogEvent {
        LogEvent {
            loc: loc(InputId(0), 1),
            time: None,
            level: None,
            source: None,
            message: msg.to_string(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            excerpt: String::new(),
            groups: Vec::new(),
            operator: None,
        }
    }

    #[test]
    fn membership_events_in_every_era() {
        let e = event(
            "{}",
            &[
                ("event", "node_decommissioning"),
                ("ev.Timestamp", "1644545670665746000"),
                ("ev.TargetNodeID", "4"),
            ],
        );
        let d = parse_decom(&e).unwrap();
        assert_eq!(
            (d.kind, d.target, d.stamp),
            (DecomKind::Decommissioning, 4, Some(1644545670665746000))
        );
        // v20.2 (redactable) and v1.x text forms.
        let e = event(
            "Event: ‹\"node_decommissioned\"›, target: 5, info: ‹{RequestingNodeID:1 TargetNodeID:5}›",
            &[],
        );
        let d = parse_decom(&e).unwrap();
        assert_eq!(
            (d.kind, d.target, d.stamp),
            (DecomKind::Decommissioned, 5, None)
        );
        let e = event(
            "Event: \"node_restart\", target: 1, info: {Descriptor:{NodeID:1}}",
            &[],
        );
        assert!(parse_decom(&e).is_none());
        assert_eq!(event_name(&e).as_deref(), Some("node_restart"));
    }

    fn facts_of(texts: &[&str]) -> crate::model::Facts {
        let mut facts = crate::model::Facts::default();
        for (i, t) in texts.iter().enumerate() {
            let c = crate::parse::crdb_input::collect(
                crate::model::Kind::CrdbDecommissionOutput,
                t,
                InputId(i as u64),
            );
            facts.crdb.append(c.facts);
        }
        facts
    }

    #[test]
    fn runs_and_plateau_across_reprinted_tables() {
        // n5 stays at 12 while n4 moves: the CLI reprinted the table three times.
        let text = "\
$ cockroach node decommission 4 5 --host=h:26257
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 30 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 20 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 10 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
$ cockroach node decommission 6 --host=h:26257
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
6 | true | 0 | true | decommissioning | true
(1 row)
No more data reported on target nodes. Please verify cluster health before removing the nodes.
";
        let facts = facts_of(&[text]);
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &BTreeMap::new(),
        };
        let t = Tables::new(&ctx);
        assert_eq!(t.runs.len(), 2);
        assert_eq!(t.runs[0].ids, BTreeSet::from([4, 5]));
        assert_eq!(t.runs[0].snaps.len(), 3);
        assert!(!t.runs[0].finished());
        assert_eq!(t.runs[1].completed, Some(22));
        assert_eq!(t.decommissioned_at(6), Some(loc(InputId(0), 22)));
        assert_eq!(t.decommissioned_at(4), None);
        let (count, ev, how) = plateau(&t, 5).unwrap();
        assert_eq!(count, 12);
        assert_eq!(ev.len(), 3);
        assert!(how.contains("3 reprinted decommission tables"), "{how}");
        assert!(plateau(&t, 4).is_none(), "n4 keeps falling");
        assert_eq!(t.live_host(), "h:26257");
    }

    #[test]
    fn drain_settings_by_version() {
        assert!(
            drain_settings(Some(Version::new(24, 2, 0)))
                .starts_with("server.shutdown.initial_wait")
        );
        assert!(
            drain_settings(Some(Version::new(22, 2, 0))).starts_with("server.shutdown.drain_wait")
        );
        assert!(
            drain_settings(None).contains("renamed") || drain_settings(None).contains("from 24.2")
        );
    }
}
