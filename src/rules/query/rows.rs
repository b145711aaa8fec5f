//! Derived rows: a store record with its listing's time, a metric series, a template on a
//! node, a CockroachDB node row with its table's time. Computed once per evaluation.

use crate::model::sched::MetricSample;
use crate::model::{Facts, InputId, Region, Store, TemplateStat};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

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

    pub(super) fn timed(&self) -> bool {
        self.samples.len() >= 2 && self.samples.iter().all(|s| s.time.is_some())
    }

    pub(super) fn span(&self) -> Option<f64> {
        let a = self.samples.iter().find_map(|s| s.time)?;
        let b = self.samples.iter().rev().find_map(|s| s.time)?;
        Some(b - a)
    }

    /// Counter increase, resets counted from zero; a lone or untimed sample is the total.
    pub(super) fn increase(&self) -> f64 {
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
pub(super) fn node_observations(facts: &Facts) -> Vec<NodeObs<'_>> {
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
pub(super) type SeriesKey<'a> = (&'a str, &'a [(String, String)]);

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
    pub(super) fn peak(&self) -> Option<(i64, u32)> {
        self.per_minute
            .iter()
            .max_by_key(|(m, c)| (**c, -**m))
            .map(|(m, c)| (*m, *c))
    }

    /// Lines per minute over its other active minutes (rounded up).
    pub(super) fn baseline(&self) -> u64 {
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
