//! The rule file format (`rules/*.toml`), deserialised as written.

use crate::model::{Confidence, Risk, Severity};
use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    pub id: String,
    pub severity: Severity,
    /// `possible` for rules that read a pattern that usually means the cause they name;
    /// `definite` (the default) otherwise. A finding that used a default is `likely`.
    #[serde(default)]
    pub confidence: Option<Confidence>,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// Background for `kvtriage explain`.
    #[serde(default)]
    pub explain: Option<String>,
    /// The rule's logic as a query over the fact tables.
    #[serde(default)]
    pub query: Option<super::query::QuerySpec>,
    /// What no query can say: a declared correlation (`name` and its parameters).
    #[serde(default)]
    pub correlation: Option<toml::Table>,
    #[serde(default)]
    pub remediation: Vec<StepSpec>,
    /// The rules whose findings explain this one (a symptom names its cause and is ranked
    /// under it).
    #[serde(default)]
    pub caused_by: Vec<CausedBySpec>,
    /// The rule's own test cases, run by `kvtriage rules test`.
    #[serde(default)]
    pub test: Vec<TestSpec>,
}

/// `[[caused-by]]`: rules that explain this one when they fire in the same place and window.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CausedBySpec {
    pub rules: Vec<String>,
    /// Where the cause must be: on the same store, the same node, or anywhere in the cluster.
    pub same: LinkScope,
    /// Slack between the two findings' time windows (`15m` when absent).
    #[serde(default)]
    pub within: Option<String>,
    /// The sentence added to the symptom's summary (`{cause_rule}`, `{cause_title}`,
    /// `{cause_entities}`, `{cause_first}`, `{cause_last}`).
    pub text: String,
    /// The sentence when the cause has no times (a snapshot: pd-ctl, a node status table).
    #[serde(default)]
    pub text_untimed: Option<String>,
}

impl CausedBySpec {
    pub fn within_secs(&self) -> Option<i64> {
        crate::model::units::parse_go_duration(self.within.as_deref()?)
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LinkScope {
    Store,
    Node,
    Cluster,
}

/// A rule test: a bundle folder beside the rule (`<id>/<dir>/`) and whether the rule must
/// fire on it.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestSpec {
    pub name: String,
    /// `fire` or `quiet`.
    pub expect: Expect,
    /// Expected severity when it fires.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Expected entities when it fires (each must be present).
    #[serde(default)]
    pub stores: Vec<u64>,
    #[serde(default)]
    pub regions: Vec<u64>,
    #[serde(default)]
    pub nodes: Vec<String>,
    /// The case folder, under the folder named after the rule.
    pub dir: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Fire,
    Quiet,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StepSpec {
    pub text: String,
    #[serde(default)]
    pub command: Option<String>,
    pub risk: Risk,
    /// A version gate such as `tikv>=5.1` or `pd<6.1`.
    #[serde(default)]
    pub when: Option<String>,
    /// The branch taken when the bundle shows no version for the gate's component.
    #[serde(default)]
    pub assumed: bool,
    /// Values the step applies to only when the finding has them (a query var that is null
    /// in this finding leaves the step out): a step for one case of a rule, not every case.
    #[serde(default)]
    pub needs: Vec<String>,
}
