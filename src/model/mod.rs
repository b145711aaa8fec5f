//! Typed facts extracted from the inputs. Nothing here knows which parser produced a fact
//! beyond its [`Location`].

pub mod crdb;
mod finding;
mod ids;
mod input;
mod log;
pub mod operator;
mod pd;
pub mod sched;
pub mod units;

pub use finding::{Entities, EvidenceRef, Finding, Risk, Severity, Step};
pub use ids::{InputId, NodeName, PeerId, RegionId, StoreId};
pub use input::{InputReport, Kind, Status};
pub use log::{Level, LogEvent, TemplateStat};
pub use pd::{PdConfig, Peer, PeerRole, Region, Store, StoreState};

use std::collections::BTreeMap;

/// Where a fact came from: an input (by index into the report's inputs) and a 1-based line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub input: InputId,
    pub line: u64,
}

/// A component version seen somewhere in the bundle, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenVersion {
    pub version: Version,
    pub loc: Location,
}

/// A `major.minor.patch` version; pre-release and build suffixes are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `v5.2.1`, `5.2.1`, `v4.0.0-beta.1-35-g91a1cc12-dirty`, `6.1`; `None` for `None`,
    /// empty or non-numeric strings.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches(['v', 'V']);
        let core = s.split(['-', '+', ' ']).next()?;
        let mut it = core.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next().map_or(Some(0), |m| m.parse().ok())?;
        let patch = it.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which product a version belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Tikv,
    Pd,
    Tidb,
    Cockroach,
}

/// Everything the parsers learnt from the bundle; the rule engine reads only this.
#[derive(Debug, Default)]
pub struct Facts {
    /// Log lines that hit at least one needle of the prefilter, in input then line order.
    pub events: Vec<LogEvent>,
    /// pd-ctl store records, in input order (a bundle may hold several snapshots).
    pub stores: Vec<Store>,
    pub regions: Vec<Region>,
    pub configs: Vec<PdConfig>,
    pub versions: BTreeMap<Component, Vec<SeenVersion>>,
    /// Addresses seen for PD (from pd-ctl command lines, `-u http://...`).
    pub pd_addrs: Vec<String>,
    /// Warning/error message templates per input (sample locations name the input).
    pub templates: Vec<TemplateStat>,
    /// CockroachDB CLI tables.
    pub crdb: crdb::CrdbFacts,
    /// PD scheduling facts: metrics, unsafe recovery, operator lists.
    pub sched: sched::SchedFacts,
}

impl Facts {
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

    /// A PD config value by dotted key (`schedule.max-replicas` or plain `max-replicas`);
    /// the last config seen wins.
    pub fn config(&self, key: &str) -> Option<(&serde_json::Value, Location)> {
        self.configs
            .iter()
            .rev()
            .find_map(|c| c.get(key).map(|v| (v, c.loc)))
    }
}
