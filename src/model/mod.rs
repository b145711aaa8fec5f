//! The model at the bottom of the crate: input identity and reports, the fact tables the
//! parsers fill, findings, units. It imports nothing else of the crate.

mod config;
pub mod crdb;
mod facts;
mod finding;
pub mod host;
mod ids;
mod input;
mod log;
pub mod operator;
mod pd;
pub mod plan;
mod report;
pub mod sched;
pub mod units;
mod version;

pub use facts::Facts;
pub use finding::{
    CauseRef, Confidence, Entities, EvidenceRef, Finding, Risk, Severity, Step, entity_key,
};
pub use ids::{InputId, NodeName, PeerId, RegionId, StoreId, pod_node};
pub use input::{InputReport, Kind, Status};
pub use log::{Level, LogEvent, TemplateStat};

/// A set of literal needles; each belongs to a group (a rule's matcher or a built-in fact
/// extractor), optionally restricted to some input kinds. The group's id is its index in
/// the list the rules hand to the parser's prefilter.
#[derive(Clone, Debug)]
pub struct NeedleGroup {
    pub needles: Vec<String>,
    pub kinds: Option<Vec<Kind>>,
}
pub use config::{ConfigFacts, ConfigRecord, ConfigSource, Instance};
pub use pd::{Peer, PeerRole, Region, Store, StoreBalance, StoreState};
pub use plan::{PlanStep, plan};
pub use report::{Analysis, Coverage, RuleCoverage, Undecided};
pub use version::{Component, SeenVersion, Version};

/// Where a fact came from: an input and a 1-based line within it (after decompression).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub input: InputId,
    pub line: u64,
}
