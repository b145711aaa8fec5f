//! The rule file format (`rules/*.toml`), deserialised as written.

use crate::model::{Risk, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    pub id: String,
    pub severity: Severity,
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
    /// Legacy matchers, until every rule is a query or a declared correlation.
    #[serde(default)]
    pub matcher: Option<MatcherSpec>,
    #[serde(default)]
    pub remediation: Vec<StepSpec>,
    /// The rule's own test cases, run by `kvtriage rules test`.
    #[serde(default)]
    pub test: Vec<TestSpec>,
}

/// A rule test: input files and whether the rule must fire on them.
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
    pub input: Vec<TestInput>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Fire,
    Quiet,
}

/// One input file of a rule test; the path matters (node identity comes from the layout).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    pub path: String,
    pub text: String,
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
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MatcherSpec {
    LogPattern(LogPatternSpec),
    StoreState(StoreStateSpec),
    RegionCheck(RegionCheckSpec),
    ConfigCheck(ConfigCheckSpec),
    /// Correlation written in Rust; the file still owns the words.
    Builtin(BuiltinSpec),
    /// A then B (or A without B) within a window; parameters read by `matchers_pd`.
    LogSequence(toml::Table),
    /// A metric over a value or growth rate; parameters read by `matchers_pd`.
    MetricThreshold(toml::Table),
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogPatternSpec {
    /// Literal needles; a line must contain one to be looked at.
    pub needles: Vec<String>,
    /// Optional regex the line must also match; named groups become template variables.
    #[serde(default)]
    pub regex: Option<String>,
    /// Input kinds this applies to (`tikv-log`, ...); all logs when absent.
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// Minimum levels (`warn`, `error`); any when absent. Prefer matching texts: levels moved.
    #[serde(default)]
    pub min_level: Option<String>,
    /// `node` (default), `file`, `none`, or `field:<name>`.
    #[serde(default = "default_group_by")]
    pub group_by: String,
    #[serde(default = "one")]
    pub min_count: u64,
    /// Lines cited as evidence per finding.
    #[serde(default = "default_evidence")]
    pub max_evidence: usize,
}

fn default_group_by() -> String {
    "node".into()
}
fn one() -> u64 {
    1
}
fn default_evidence() -> usize {
    5
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreStateSpec {
    /// `state_name` values that fire (`Disconnected`, `Down`, `Offline`).
    pub states: Vec<String>,
    /// `tikv` (default), `tiflash` or `any`.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Also fire for stores in these states whose heartbeat is older than `max-store-down-time`
    /// relative to the newest heartbeat of the same dump (PD never shows Down for them).
    #[serde(default)]
    pub heartbeat_states: Vec<String>,
    /// Leave out records that look stale (a display state PD could not still be computing).
    #[serde(default)]
    pub skip_stale: bool,
}

fn default_engine() -> String {
    "tikv".into()
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegionCheckSpec {
    /// Regions PD knows no leader for.
    #[serde(default)]
    pub leaderless: bool,
    /// ... with a peer on a store in one of these states (one finding per such store).
    #[serde(default)]
    pub peer_on_store_states: Vec<String>,
    /// Pasted answers or log lines that strengthen the finding when they are present.
    #[serde(default)]
    pub related_needles: Vec<String>,
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigCheckSpec {
    /// Fires when any of these conditions holds.
    pub any: Vec<ConfigCond>,
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigCond {
    pub key: String,
    /// `eq`, `ne`, `lt`, `le`, `gt`, `ge`.
    pub op: String,
    pub value: f64,
}

#[derive(Debug, Deserialize, serde::Serialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuiltinSpec {
    pub name: String,
    /// Named needle sets the correlation reads (`main`, `oversize`, ...).
    #[serde(default)]
    pub needles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
}
