//! One analysis as every output format reads it: the inputs and what became of them, the
//! facts, the findings, notes and rule coverage.

use super::{Facts, Finding, InputId, InputReport, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether a rule could run on this bundle (`--coverage`).
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    pub id: String,
    /// `ran` or `skipped`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
    /// Parsed inputs that no rule that ran reads.
    pub unused_inputs: Vec<String>,
}

/// A rule that could not decide from this bundle, what it could not know, and the command
/// that would settle it.
#[derive(Clone, Debug, Serialize)]
pub struct Undecided {
    pub rule: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

pub struct Analysis {
    /// Every input, sorted by path.
    pub inputs: Vec<InputReport>,
    index: BTreeMap<InputId, usize>,
    pub facts: Facts,
    pub findings: Vec<Finding>,
    /// Rules that could not decide (a filtered listing where they need a complete one).
    pub undecided: Vec<Undecided>,
    /// Notes about assumptions and near-misses, shown under the findings.
    pub notes: Vec<String>,
    /// Which rules could run (`--coverage`).
    pub coverage: Option<Coverage>,
    /// Findings left out because an earlier report (`--baseline`) already had them.
    pub baselined: usize,
    /// Findings left out because they are below `--min-severity`.
    pub below_min_severity: usize,
}

impl Analysis {
    pub fn new(mut inputs: Vec<InputReport>, facts: Facts) -> Analysis {
        inputs.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
        let index = inputs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        Analysis {
            inputs,
            index,
            facts,
            findings: Vec::new(),
            undecided: Vec::new(),
            notes: Vec::new(),
            coverage: None,
            baselined: 0,
            below_min_severity: 0,
        }
    }

    /// The report of an input by its id.
    pub fn input(&self, id: InputId) -> Option<&InputReport> {
        self.inputs.get(*self.index.get(&id)?)
    }

    /// Leaves out the findings an earlier report already had (same rule and entities, as
    /// [`Finding::key`] says); returns how many.
    pub fn drop_known(&mut self, known: &std::collections::BTreeSet<String>) -> usize {
        let before = self.findings.len();
        self.findings.retain(|f| !known.contains(&f.key()));
        let dropped = before - self.findings.len();
        self.baselined += dropped;
        dropped
    }

    /// Leaves out the findings below `min` (`--min-severity`); returns how many.
    pub fn drop_below(&mut self, min: super::Severity) -> usize {
        let before = self.findings.len();
        self.findings.retain(|f| f.severity >= min);
        let dropped = before - self.findings.len();
        self.below_min_severity += dropped;
        dropped
    }

    /// True when nothing at all could be analysed (exit code 2).
    pub fn nothing_analysed(&self) -> bool {
        !self.inputs.iter().any(|i| i.status == Status::Parsed)
    }
}
