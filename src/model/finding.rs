//! A finding: what a rule concluded, about which entities, on what evidence, how sure, and
//! the remediation steps in order of risk.

use super::Location;
use serde::Serialize;
use std::fmt;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    ReadOnly,
    Reversible,
    /// A process restart: brief unavailability of that node.
    Restart,
    DataLoss,
}

/// How sure a finding is: `definite` (the bundle shows it), `likely` (it follows from a
/// documented default the bundle does not confirm, or from a partial source), `possible` (a
/// pattern that usually means this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Possible,
    Likely,
    Definite,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::Definite => "definite",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Entities {
    pub stores: Vec<u64>,
    pub regions: Vec<u64>,
    pub nodes: Vec<String>,
    pub ranges: Vec<u64>,
}

impl Entities {
    pub fn normalise(&mut self) {
        self.stores.sort_unstable();
        self.stores.dedup();
        self.regions.sort_unstable();
        self.regions.dedup();
        self.nodes.sort();
        self.nodes.dedup();
        self.ranges.sort_unstable();
        self.ranges.dedup();
    }

    /// The first entity, for ordering findings.
    pub fn sort_key(&self) -> (u64, u64, String, u64) {
        (
            self.stores.first().copied().unwrap_or(u64::MAX),
            self.regions.first().copied().unwrap_or(u64::MAX),
            self.nodes.first().cloned().unwrap_or_default(),
            self.ranges.first().copied().unwrap_or(u64::MAX),
        )
    }
}

/// A line that supports a finding. The excerpt is filled from the input if a matcher did not
/// set one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRef {
    pub loc: Location,
    pub excerpt: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub risk: Risk,
}

/// A rendered finding, ready for a reporter.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    pub entities: Entities,
    pub evidence: Vec<EvidenceRef>,
    pub remediation: Vec<Step>,
    pub references: Vec<String>,
    pub confidence: Confidence,
    /// Each default the finding used, with its value and setting (`max-replicas = 3 (PD
    /// default; no config in the bundle)`), and each version a step assumed.
    pub assumptions: Vec<String>,
    /// The findings that explain this one (symptom → cause), most important first.
    pub caused_by: Vec<CauseRef>,
    /// The rules of the findings this one explains.
    pub explains: Vec<String>,
}

/// A cause a symptom names: the cause finding's rule, title and entities.
#[derive(Clone, Debug, Serialize)]
pub struct CauseRef {
    pub rule: String,
    pub title: String,
    pub entities: Entities,
}

impl Finding {
    /// A finding's identity across runs of the same cluster: its rule and its entities, as
    /// the JSON report writes them.
    pub fn key(&self) -> String {
        entity_key(
            &self.rule,
            &serde_json::to_value(&self.entities).unwrap_or_default(),
        )
    }
}

/// The identity of a finding from its rule and its JSON `entities` object.
pub fn entity_key(rule: &str, entities: &serde_json::Value) -> String {
    format!("{rule} {entities}")
}
