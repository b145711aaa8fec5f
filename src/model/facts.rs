//! The fact tables every parser fills and every rule reads.

use super::version::{Component, SeenVersion, Version};
use super::{
    ConfigRecord, InputId, Instance, Location, LogEvent, Region, RegionId, Store, StoreId,
    TemplateStat, crdb, sched,
};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// Everything the parsers learnt from the bundle; the rule engine reads only this.
#[derive(Debug, Default)]
pub struct Facts {
    /// Log lines that hit at least one needle of the prefilter, in input then line order.
    pub events: Vec<LogEvent>,
    /// pd-ctl store records, in input order (a bundle may hold several snapshots).
    pub stores: Vec<Store>,
    pub regions: Vec<Region>,
    /// Component settings (pd-ctl answers, config files, deployments), in input order.
    pub configs: Vec<ConfigRecord>,
    /// Instances a deployment describes (tiup topology, TidbCluster spec).
    pub instances: Vec<Instance>,
    pub versions: BTreeMap<Component, Vec<SeenVersion>>,
    /// Addresses seen for PD (from pd-ctl command lines, `-u http://...`).
    pub pd_addrs: Vec<String>,
    /// Warning/error message templates per input (sample locations name the input).
    pub templates: Vec<TemplateStat>,
    /// CockroachDB CLI tables.
    pub crdb: crdb::CrdbFacts,
    /// PD scheduling facts: metrics, unsafe recovery, operator lists.
    pub sched: sched::SchedFacts,
    /// Mounts and open-file limits of the hosts (`df`, `ulimit`, `/proc/<pid>/limits`).
    pub host: super::host::HostFacts,
    /// The text of the dump lines facts point at, so evidence can quote them without the
    /// input being read again.
    pub lines: LineTexts,
}

/// Texts of cited lines per input, packed in one buffer each.
#[derive(Debug, Default)]
pub struct LineTexts {
    by_input: BTreeMap<InputId, Packed>,
}

#[derive(Debug, Default)]
struct Packed {
    text: String,
    /// (line, start, len), sorted by line.
    index: Vec<(u64, u32, u32)>,
}

impl LineTexts {
    /// Keeps a line's text (once per line; texts are cut at `max` chars).
    pub fn keep(&mut self, loc: Location, text: &str, max: usize) {
        let p = self.by_input.entry(loc.input).or_default();
        if let Err(i) = p.index.binary_search_by_key(&loc.line, |e| e.0) {
            let cut = match text.char_indices().nth(max) {
                Some((i, _)) => &text[..i],
                None => text,
            };
            let start = p.text.len() as u32;
            p.text.push_str(cut);
            p.index.insert(i, (loc.line, start, cut.len() as u32));
        }
    }

    pub fn get(&self, loc: Location) -> Option<&str> {
        let p = self.by_input.get(&loc.input)?;
        let i = p.index.binary_search_by_key(&loc.line, |e| e.0).ok()?;
        let (_, start, len) = p.index[i];
        p.text.get(start as usize..(start + len) as usize)
    }

    fn absorb(&mut self, other: LineTexts) {
        for (id, p) in other.by_input {
            self.by_input.entry(id).or_insert(p);
        }
    }
}

impl Facts {
    /// Appends the facts of the next input (inputs are absorbed in id order, so tables stay
    /// in input then line order).
    pub fn absorb(&mut self, mut other: Facts) {
        self.events.append(&mut other.events);
        self.stores.append(&mut other.stores);
        self.regions.append(&mut other.regions);
        self.configs.append(&mut other.configs);
        self.instances.append(&mut other.instances);
        for (c, mut vs) in other.versions {
            self.versions.entry(c).or_default().append(&mut vs);
        }
        for a in other.pd_addrs {
            if !self.pd_addrs.contains(&a) {
                self.pd_addrs.push(a);
            }
        }
        self.templates.append(&mut other.templates);
        self.crdb.append(other.crdb);
        self.sched.append(other.sched);
        self.host.append(other.host);
        self.lines.absorb(other.lines);
    }

    /// Keeps only log events and template counts inside a time window; events without a
    /// time (pasted pd-ctl answers) always count.
    pub fn keep_window(
        &mut self,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) {
        let inside =
            |t: DateTime<FixedOffset>| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u);
        self.events.retain(|e| e.time.is_none_or(inside));
        let lo = since.map(|s| s.timestamp().div_euclid(60));
        let hi = until.map(|u| u.timestamp().div_euclid(60));
        for t in &mut self.templates {
            t.per_minute
                .retain(|m, _| lo.is_none_or(|l| *m >= l) && hi.is_none_or(|h| *m <= h));
            t.count = t.per_minute.values().map(|&c| c as u64).sum();
        }
        self.templates.retain(|t| t.count > 0);
    }

    /// Locations in dump tables that evidence may cite (stores, regions and their leader
    /// lines, configs, metric samples, recovery stages, listed operators).
    pub fn cited_locations(&self) -> Vec<Location> {
        let mut out: Vec<Location> = Vec::new();
        out.extend(self.stores.iter().map(|s| s.loc));
        for r in &self.regions {
            out.push(r.loc);
            if let Some(l) = r.leader_line {
                out.push(Location {
                    input: r.loc.input,
                    line: l,
                });
            }
        }
        for c in &self.configs {
            out.push(c.loc);
            out.extend(c.lines.values().map(|&line| Location {
                input: c.loc.input,
                line,
            }));
        }
        out.extend(self.instances.iter().map(|i| i.loc));
        out.extend(self.sched.samples.iter().map(|s| s.loc));
        for r in &self.sched.recoveries {
            out.push(r.loc);
            out.extend(r.stages.iter().map(|s| s.loc));
        }
        for snap in &self.sched.operator_snapshots {
            out.push(snap.loc);
            out.extend(snap.ops.iter().map(|o| o.loc));
        }
        out
    }

    /// The newest version seen for a component (newest wins: a rolling upgrade leaves both).
    pub fn version(&self, c: Component) -> Option<Version> {
        self.versions.get(&c)?.iter().map(|v| v.version).max()
    }

    pub fn note_version(&mut self, c: Component, version: Version, loc: Location) {
        self.versions
            .entry(c)
            .or_default()
            .push(SeenVersion { version, loc });
    }

    /// The latest snapshot of each store id (later inputs and later records win).
    pub fn latest_stores(&self) -> Vec<&Store> {
        let mut by_id: BTreeMap<StoreId, &Store> = BTreeMap::new();
        for s in &self.stores {
            by_id.insert(s.id, s);
        }
        by_id.into_values().collect()
    }

    /// The latest record of each region id.
    pub fn latest_regions(&self) -> Vec<&Region> {
        let mut by_id: BTreeMap<RegionId, &Region> = BTreeMap::new();
        for r in &self.regions {
            by_id.insert(r.id, r);
        }
        by_id.into_values().collect()
    }

    /// A PD config value by dotted key (`schedule.max-replicas` or plain `max-replicas`), with
    /// the line it was read at: what PD runs with (pd-ctl, the API) wins over files that set
    /// it at start; among equals the last seen wins.
    pub fn config(&self, key: &str) -> Option<(&serde_json::Value, Location)> {
        self.component_config(Component::Pd, key)
    }

    /// A component's setting by its full dotted key (`storage.reserve-space` for TiKV), ranked
    /// as [`Facts::config`] ranks PD's.
    pub fn component_config(
        &self,
        component: Component,
        key: &str,
    ) -> Option<(&serde_json::Value, Location)> {
        let mut best: Option<(&ConfigRecord, &serde_json::Value)> = None;
        for c in self.configs.iter().filter(|c| c.component == component) {
            if let Some(v) = c.get(key)
                && best.is_none_or(|(b, _)| c.source >= b.source)
            {
                best = Some((c, v));
            }
        }
        best.map(|(c, v)| (v, c.loc_of(key)))
    }
}
