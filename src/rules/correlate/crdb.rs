//! What the CockroachDB correlations share: node observations from CLI tables, decommission
//! runs, node identity of logs, membership events and settings from log lines.
//!
//! Facts come from two places: CLI tables (`node status`, `node decommission` progress,
//! pre-flight and stall reports) and node log events (structured `node_decommission*` /
//! `node_restart` events, drain progress, shutdown lines). Node ids are CockroachDB node
//! ids; entities name them `n4`, commands take the bare number.

use super::{EvalCtx, Sets, Texts, events_in};
use crate::model::EvidenceRef;
use crate::model::crdb::CliCommand;
use crate::model::crdb::{NodeRow, Snapshot, StartCommand, TableKind};
use crate::model::{Component, InputId, Kind, Location, LogEvent, Version};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Evidence lines cited per finding: enough to act on, few enough to read.
pub(super) const MAX_EVIDENCE: usize = 12;

/// Replication factor CockroachDB uses unless a zone config says otherwise (`num_replicas`).
/// Zone configs are not read from bundles, so this is always an assumption, said as such.
pub(super) const DEFAULT_RF: usize = 3;

/// `--drain-wait` default of `cockroach node drain`.
pub(super) const DRAIN_WAIT_SECS: i64 = 600;

pub(super) type Time = DateTime<FixedOffset>;

pub(super) fn loc(input: InputId, line: u64) -> Location {
    Location { input, line }
}

pub(super) fn fmt_time(t: Time) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(super) fn node_list(ids: &BTreeSet<u64>) -> String {
    ids.iter()
        .map(|i| format!("n{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn id_args(ids: &BTreeSet<u64>) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
}

/// `n4` → 4.
pub(super) fn parse_node_name(s: &str) -> Option<u64> {
    let id = s.strip_prefix('n')?;
    (!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// Table timestamps: `2022-09-01 02:17:28.202777`, `2019-07-23 20:08:13.429401+00:00`
/// (UTC either way).
pub(super) fn parse_table_time(s: &str) -> Option<NaiveDateTime> {
    let core = s.trim().split(['+', 'Z']).next()?.trim();
    NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(core, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

pub(super) use crate::model::units::{parse_setting_secs, unquote_redacted as unquote};

// ---------------------------------------------------------------------------------------
// CLI tables: node observations and decommission runs.
// ---------------------------------------------------------------------------------------

/// One node row of one table, with its input and the snapshot it belongs to.
pub(super) struct Obs<'a> {
    pub(super) input: InputId,
    pub(super) row: &'a NodeRow,
    pub(super) kind: TableKind,
    /// When the snapshot was taken, as near as the table tells: the newest `updated_at` of
    /// its live rows (live nodes refresh it every few seconds).
    pub(super) taken: Option<NaiveDateTime>,
}

impl Obs<'_> {
    pub(super) fn loc(&self) -> Location {
        loc(self.input, self.row.line)
    }

    pub(super) fn membership(&self) -> Option<&str> {
        self.row.membership.as_deref()
    }

    /// Membership `decommissioning` (or, before 20.2, `is_decommissioning` with replicas
    /// left, which cannot be a finished decommission).
    pub(super) fn decommissioning(&self) -> bool {
        match self.membership() {
            Some(m) => m == "decommissioning",
            None => self.row.is_decommissioning == Some(true) && self.row.replicas.unwrap_or(0) > 0,
        }
    }

    pub(super) fn decommissioned(&self) -> bool {
        self.membership() == Some("decommissioned")
    }

    pub(super) fn active(&self) -> bool {
        match self.membership() {
            Some(m) => m == "active",
            None => self.row.is_decommissioning != Some(true),
        }
    }
}

/// One `cockroach node decommission|recommission` invocation as its progress tables show it.
pub(super) struct Run<'a> {
    pub(super) input: InputId,
    pub(super) ids: BTreeSet<u64>,
    pub(super) snaps: Vec<&'a Snapshot>,
    /// Line of `No more data reported on target nodes` closing the run.
    pub(super) completed: Option<u64>,
    pub(super) recommission: bool,
}

impl Run<'_> {
    /// The CLI prints the completion line only once every target is done (it then marks
    /// them decommissioned); a last table with zero replicas everywhere means the same.
    pub(super) fn finished(&self) -> bool {
        self.completed.is_some()
            || self
                .snaps
                .last()
                .is_some_and(|s| !s.rows.is_empty() && s.rows.iter().all(|r| r.replicas == Some(0)))
    }

    pub(super) fn first_line(&self) -> u64 {
        self.snaps.first().map_or(0, |s| s.header_line)
    }
}

pub(super) struct Tables<'a> {
    pub(super) obs: Vec<Obs<'a>>,
    pub(super) runs: Vec<Run<'a>>,
    pub(super) commands: &'a [CliCommand],
}

impl<'a> Tables<'a> {
    pub(super) fn new(ctx: &'a EvalCtx<'_>) -> Tables<'a> {
        let mut obs = Vec::new();
        let mut runs = Vec::new();
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
            for r in ctx.facts.crdb.runs.iter().filter(|r| r.input == *input) {
                runs.push(Run {
                    input: r.input,
                    ids: r.ids.iter().copied().collect(),
                    snaps: r
                        .snapshots
                        .iter()
                        .filter_map(|&i| t.snapshots.get(i))
                        .collect(),
                    completed: r.completed,
                    recommission: r.recommission,
                });
            }
        }
        Tables {
            obs,
            runs,
            commands,
        }
    }

    pub(super) fn of(&self, id: u64) -> impl Iterator<Item = &Obs<'a>> {
        self.obs.iter().filter(move |o| o.row.id == id)
    }

    /// The last observation of a node (inputs in path order, rows in line order).
    pub(super) fn latest(&self, id: u64) -> Option<&Obs<'a>> {
        self.of(id).last()
    }

    pub(super) fn node_ids(&self) -> BTreeSet<u64> {
        self.obs.iter().map(|o| o.row.id).collect()
    }

    /// Where the bundle shows a node's decommission finished: a `decommissioned` row or a
    /// CLI run that completed. `decommissioned` is final (it cannot be recommissioned).
    pub(super) fn decommissioned_at(&self, id: u64) -> Option<Location> {
        if let Some(o) = self.of(id).find(|o| o.decommissioned()) {
            return Some(o.loc());
        }
        self.runs
            .iter()
            .filter(|r| !r.recommission && r.ids.contains(&id))
            .find_map(|r| r.completed.map(|l| loc(r.input, l)))
    }

    /// The newest `node status` table.
    pub(super) fn latest_status(&self) -> Option<Vec<&Obs<'a>>> {
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
    /// table, else a `--host` from a pasted command (the rule's text says what else).
    pub(super) fn live_host(&self) -> Option<String> {
        if let Some(rows) = self.latest_status()
            && let Some(a) = rows
                .iter()
                .filter(|o| o.row.is_live == Some(true) && o.active())
                .find_map(|o| o.row.address.clone())
        {
            return Some(a);
        }
        self.commands.iter().find_map(|c| c.host.clone())
    }
}

// ---------------------------------------------------------------------------------------
// Room to move replicas: cluster size and replication factor from one snapshot.
// ---------------------------------------------------------------------------------------

/// Where a cluster size without a `node status` table came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SizeSource {
    /// Distinct nodes of `cockroach start` lines in a pasted session.
    Starts,
    /// The longest `--join` list.
    Join,
    /// Distinct nodes of a debug zip's `nodes/<id>/` folders (the zip collects every node it
    /// can reach; one it could not reach is not live either).
    Logs,
}

impl SizeSource {
    /// A `--join` list need not name every node (the docs advise 3 to 5 of them, whatever the
    /// cluster's size): a size from it alone is only a possibility.
    pub(super) fn lower_bound_only(self) -> bool {
        self == SizeSource::Join
    }
}

/// The nodes a decommission could move replicas to, as one snapshot shows them.
pub(super) struct Room {
    /// Live, active nodes other than the targets.
    pub(super) others: usize,
    /// Their ids, when a status table lists them.
    pub(super) other_ids: BTreeSet<u64>,
    /// Nodes of the cluster not decommissioned.
    pub(super) total: usize,
    /// `None` when a `node status` table lists the cluster; else how the size was inferred.
    pub(super) inferred: Option<(SizeSource, usize)>,
    pub(super) evidence: Vec<EvidenceRef>,
}

impl Room {
    /// From the newest status table, else from the largest size any other source shows.
    pub(super) fn of(ctx: &EvalCtx<'_>, t: &Tables<'_>, targets: &BTreeSet<u64>) -> Option<Room> {
        if let Some(rows) = t.latest_status() {
            let other_ids: BTreeSet<u64> = rows
                .iter()
                .filter(|o| {
                    !targets.contains(&o.row.id) && o.row.is_live == Some(true) && o.active()
                })
                .map(|o| o.row.id)
                .collect();
            let mut evidence: Vec<EvidenceRef> =
                rows.iter().map(|o| super::loc_evidence(o.loc())).collect();
            evidence.truncate(6);
            return Some(Room {
                others: other_ids.len(),
                other_ids,
                total: rows.iter().filter(|o| !o.decommissioned()).count(),
                inferred: None,
                evidence,
            });
        }
        let crdb = &ctx.facts.crdb;
        let mut starts: Vec<&StartCommand> = Vec::new();
        for s in &crdb.starts {
            if !starts.iter().any(|o| o.node == s.node) {
                starts.push(s);
            }
        }
        let join = crdb.joins.iter().max_by_key(|j| j.addresses.len());
        // A loose log's node is named by its content only, and a bundle of loose logs may
        // hold any subset of the nodes: only debug-zip folders count.
        let logs: BTreeSet<u64> = InputNodes::new(ctx)
            .by_input
            .into_iter()
            .filter(|(i, (_, from_path))| {
                *from_path && ctx.input(*i).is_some_and(|m| m.kind == Kind::CrdbLog)
            })
            .map(|(_, (id, _))| id)
            .collect();
        // Decommission progress tables list only their targets: not a cluster size.
        let table_ids = t.node_ids();
        let sizes = [
            (SizeSource::Starts, starts.len()),
            (SizeSource::Logs, logs.len()),
            (SizeSource::Join, join.map_or(0, |j| j.addresses.len())),
        ];
        // The largest wins (each source may miss nodes, none invents one); on a tie the
        // first, most direct, source names it.
        let (source, size) = sizes.iter().copied().fold(
            None,
            |best: Option<(SizeSource, usize)>, (s, n)| match best {
                Some((_, b)) if b >= n => best,
                _ => Some((s, n)),
            },
        )?;
        if size == 0 {
            return None;
        }
        // Nodes the tables show gone or leaving count against the size too.
        let gone: BTreeSet<u64> = table_ids
            .iter()
            .copied()
            .filter(|id| {
                targets.contains(id)
                    || t.latest(*id).is_some_and(|o| {
                        o.decommissioning() || o.decommissioned() || o.row.is_live == Some(false)
                    })
            })
            .collect();
        let decommissioned = table_ids
            .iter()
            .filter(|id| t.latest(**id).is_some_and(|o| o.decommissioned()))
            .count();
        let evidence: Vec<EvidenceRef> = match source {
            SizeSource::Starts => starts
                .iter()
                .take(5)
                .map(|s| super::loc_evidence(loc(s.input, s.line)))
                .collect(),
            SizeSource::Join => join
                .map(|j| vec![super::loc_evidence(loc(j.input, j.line))])
                .unwrap_or_default(),
            SizeSource::Logs => Vec::new(),
        };
        Some(Room {
            others: size.saturating_sub(gone.len().max(targets.len())),
            other_ids: BTreeSet::new(),
            total: size.saturating_sub(decommissioned),
            inferred: Some((source, size)),
            evidence,
        })
    }
}

/// The replicas per range a decommission must keep placing: 3 unless every zone the bundle
/// shows, system ranges included, asks fewer (CockroachDB lowers 5 to 3 when nodes are short,
/// never below 3). `None` for the factor means no zone configuration was read (assumed).
pub(super) fn replicas_needed(ctx: &EvalCtx<'_>) -> (usize, Option<usize>) {
    let zones = &ctx.facts.crdb.zones;
    let max = zones.iter().filter_map(|z| z.num_replicas).max();
    let system = zones.iter().any(|z| {
        ["meta", "liveness", "system"]
            .iter()
            .any(|n| z.target.ends_with(n))
    });
    match max {
        Some(m) if (m as usize) < DEFAULT_RF && system => (m as usize, Some(m as usize)),
        Some(m) => (DEFAULT_RF, Some(m as usize)),
        None => (DEFAULT_RF, None),
    }
}

// ---------------------------------------------------------------------------------------
// Log events: node identity, membership events, settings.
// ---------------------------------------------------------------------------------------

/// Node id of an input: from its path (`nodes/4/logs/...`) or else the `n<id>` tag most of
/// its selected lines carry.
pub(super) struct InputNodes {
    /// (node id, whether the path says so).
    pub(super) by_input: BTreeMap<InputId, (u64, bool)>,
}

impl InputNodes {
    pub(super) fn new(ctx: &EvalCtx<'_>) -> InputNodes {
        let mut by_input = BTreeMap::new();
        let mut tags: BTreeMap<InputId, BTreeMap<u64, usize>> = BTreeMap::new();
        for (&i, m) in ctx.inputs.iter() {
            // Only a debug-zip path (`nodes/4/...`) identifies the node across files of
            // several clusters; a node id read from the content is scoped to its directory.
            let from_path = m.node.as_deref().filter(|_| m.node_from_path);
            if let Some(id) = from_path.and_then(parse_node_name) {
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
    pub(super) fn key(&self, ctx: &EvalCtx<'_>, input: InputId) -> String {
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
pub(super) fn key_node(key: &str) -> Option<u64> {
    key.rsplit_once('|').and_then(|(_, n)| parse_node_name(n))
}

/// How a finding names a node it could not number (`node-top-level`, `node-in-dir`).
pub(super) fn key_display(key: &str, tx: &Texts) -> String {
    let dir = key.rsplit_once('|').map_or(key, |(d, _)| d);
    if dir.is_empty() {
        tx.text("node-top-level")
    } else {
        tx.render("node-in-dir", &[("dir", dir.to_string())])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DecomKind {
    Decommissioning,
    Decommissioned,
    Recommissioned,
}

pub(super) struct DecomEvent<'a> {
    pub(super) kind: DecomKind,
    pub(super) target: u64,
    /// The event's `Timestamp` (ns): one CLI command stamps all its targets alike.
    pub(super) stamp: Option<i64>,
    pub(super) ev: &'a LogEvent,
}

pub(super) fn old_event_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // v1.x-20.2: `Event: "node_decommissioning", target: 4, info: {...}` (20.2 wraps
        // the values in ‹›).
        regex::Regex::new(r#"Event: ‹?"(node_[a-z_]+)"›?, target: ‹?(\d+)"#)
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// The structured event name of an entry (`node_restart`) in any era's spelling.
pub(super) fn event_name(ev: &LogEvent) -> Option<String> {
    if let Some(e) = ev.field("event") {
        return Some(e.to_string());
    }
    old_event_re()
        .captures(&ev.message)
        .map(|c| c[1].to_string())
}

pub(super) fn parse_decom(ev: &LogEvent) -> Option<DecomEvent<'_>> {
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
pub(super) fn decom_events<'a>(rule: &Sets<'_>, ctx: &'a EvalCtx<'_>) -> Vec<DecomEvent<'a>> {
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
pub(super) fn setting_secs<'a>(
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
pub(super) fn crdb_version(rule: &Sets<'_>, ctx: &EvalCtx<'_>) -> Option<Version> {
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

pub(super) fn dedup_cap(ev: &mut Vec<EvidenceRef>) {
    let mut seen = BTreeSet::new();
    ev.retain(|e| seen.insert(e.loc));
    ev.truncate(MAX_EVIDENCE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_table_times() {
        assert_eq!(parse_setting_secs("'15m0s'"), Some(900.0));
        assert_eq!(parse_setting_secs("‹00:15:00›"), Some(900.0));
        assert_eq!(parse_setting_secs("500ms"), Some(0.5));
        assert!(
            parse_table_time("2022-09-01 02:17:28.202777").is_some()
                && parse_table_time("2019-07-23 20:08:13.429401+00:00").is_some()
                && parse_table_time("2022-09-01 02:17:28").is_some()
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
}
