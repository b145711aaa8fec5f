//! `[query]` as written in a rule file, deserialised as written.

use super::Hit;
use super::sequence::SequenceSpec;
use crate::model::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[query]` as written in a rule file.
#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct QuerySpec {
    pub from: String,
    /// Literal needles by set name: log lines hitting one are kept for this rule.
    #[serde(default)]
    pub needles: BTreeMap<String, Vec<String>>,
    /// Input kinds the needles apply to (all logs when absent).
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// `from = "events"`: only lines of these needle sets (all of the rule's when absent).
    #[serde(default)]
    pub sets: Option<Vec<String>>,
    #[serde(default)]
    pub params: indexmap::IndexMap<String, ParamSpec>,
    #[serde(default)]
    pub given: indexmap::IndexMap<String, String>,
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
    #[serde(default)]
    pub join: Vec<JoinSpec>,
    /// Rows in this order before they are grouped (stable; expressions, ascending).
    #[serde(default)]
    pub order_rows_by: Vec<String>,
    #[serde(default)]
    pub sequence: Option<SequenceSpec>,
    /// One finding per distinct key; absent: one per row; `[]`: one for all rows.
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    #[serde(default, rename = "let")]
    pub lets: indexmap::IndexMap<String, String>,
    #[serde(default)]
    pub having: Option<String>,
    /// Groups in this order (an expression; descending with `order-desc`), else as found.
    #[serde(default)]
    pub order_by: Option<String>,
    #[serde(default)]
    pub order_desc: bool,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub vars: indexmap::IndexMap<String, String>,
    #[serde(default)]
    pub texts: indexmap::IndexMap<String, TextSpec>,
    #[serde(default)]
    pub entities: EntitySpec,
    /// Per row, in row order: expressions giving the locations to cite.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Per group, after the rows: more locations (lists of them).
    #[serde(default)]
    pub evidence_extra: Vec<String>,
    #[serde(default = "default_max_evidence")]
    pub max_evidence: usize,
    #[serde(default)]
    pub severity: Vec<SeverityCase>,
    /// Tables that must hold rows for the rule to say anything (coverage names the missing).
    #[serde(default)]
    pub needs: Vec<String>,
    /// Tables the rule asserts an absence over ("no Up store can take it"): it decides only
    /// when the bundle holds a complete listing of them; otherwise, for each row it would
    /// have judged, it says what it could not know (`undecided`).
    #[serde(default)]
    pub complete: Vec<String>,
    #[serde(default)]
    pub undecided: Option<UndecidedSpec>,
}

/// What a rule says when it could not decide: templates over the row's vars.
#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UndecidedSpec {
    pub text: String,
    /// The command that would settle it.
    #[serde(default)]
    pub command: Option<String>,
}

/// What a query found: findings, or (short of a complete listing) what it could not decide.
#[derive(Default)]
pub struct Outcome {
    pub hits: Vec<Hit>,
    /// The vars of each row it could not judge.
    pub undecided: Vec<std::collections::BTreeMap<String, String>>,
}

fn default_max_evidence() -> usize {
    5
}

/// A setting read from the bundle, with the default a finding assumes when it is absent.
#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ParamSpec {
    /// PD config key (`schedule.max-store-down-time`), or keys tried in order
    /// (`["placement-rules.replicas", "replication.max-replicas"]`: with placement rules the
    /// default rule's count is what PD places, whatever max-replicas says).
    #[serde(default)]
    pub config: Option<ConfigKeys>,
    /// The default, as an expression (`30m`, `3`, `0.8`).
    pub default: String,
    /// What the finding says when it used the default.
    #[serde(default)]
    pub assumption: Option<String>,
    /// A value outside this range (an expression over `value`) falls back to the default.
    #[serde(default)]
    pub valid: Option<String>,
}

/// One config key or several, the first the bundle holds winning.
#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum ConfigKeys {
    One(String),
    Ordered(Vec<String>),
}

impl ConfigKeys {
    pub fn keys(&self) -> Vec<String> {
        match self {
            ConfigKeys::One(k) => vec![k.clone()],
            ConfigKeys::Ordered(ks) => ks.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JoinSpec {
    pub table: String,
    #[serde(rename = "as")]
    pub alias: String,
    /// Evaluated with the joined row current and the main row as `outer`.
    pub on: String,
    /// Keep main rows that match nothing (the alias' columns are then null).
    #[serde(default)]
    pub left: bool,
}

/// Words chosen by conditions: the first case that holds (or all, joined).
#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TextSpec {
    #[serde(default)]
    pub all: bool,
    #[serde(default = "default_sep")]
    pub sep: String,
    /// Put around a non-empty result.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub suffix: String,
    pub cases: Vec<TextCase>,
}

fn default_sep() -> String {
    "; ".into()
}

#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TextCase {
    #[serde(default)]
    pub when: Option<String>,
    /// A template: `{placeholders}` are the finding's vars.
    pub text: String,
}

#[derive(Debug, Deserialize, Clone, Default, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EntitySpec {
    #[serde(default)]
    pub stores: Option<String>,
    #[serde(default)]
    pub regions: Option<String>,
    #[serde(default)]
    pub nodes: Option<String>,
    #[serde(default)]
    pub ranges: Option<String>,
}

#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SeverityCase {
    pub when: String,
    pub is: Severity,
}
