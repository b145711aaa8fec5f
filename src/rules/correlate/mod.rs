//! Declared correlations: the rules whose logic no query can say (PD's operator and
//! unsafe-recovery life cycles, merge-checker counters, CockroachDB decommission, drain and
//! shutdown sequences). A closed enum; each variant lives in its own file and declares the
//! input kinds it reads, so coverage can say why it could not run. The words a user reads
//! come from the rule files.

mod crdb;
mod decommission_stalled;
mod drain_timeout;
mod merge_blocked;
mod merge_stuck;
mod one_by_one;
mod series;
mod texts;
mod unclean_shutdown;
mod unsafe_recovery;

pub use super::EvalCtx;
use super::Hit;
use crate::model::{EvidenceRef, Kind, Location, LogEvent};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
pub use texts::Texts;

/// A needle set a correlation asks the prefilter for: set name, needles, input kinds.
pub type NeedleSet = (String, Vec<String>, Option<Vec<String>>);

/// The needle sets of one rule, by name → prefilter group.
pub struct Sets<'a>(pub &'a BTreeMap<String, u32>);

impl Sets<'_> {
    pub fn group(&self, set: &str) -> Option<u32> {
        self.0.get(set).copied()
    }
}

/// A declared correlation: its logic and the words its findings use.
#[derive(Debug)]
pub struct Correlation {
    logic: Logic,
    texts: Texts,
}

/// Every correlation.
#[derive(Debug)]
enum Logic {
    UnsafeRecoveryStatus,
    MergeOperatorStuck(merge_stuck::LogSequenceSpec),
    MergeBlocked(merge_blocked::MetricThresholdSpec),
    DecommissionStalled,
    DecommissionOneByOne,
    DrainTimeout,
    UncleanShutdown,
}

/// Template placeholders the correlations give their rules, beyond the common ones.
pub const PLACEHOLDERS: &[&str] = &[
    "live_host",
    "cause",
    "node_list",
    "ranges",
    "threshold",
    "settings",
    "since",
    "drain_wait",
    "step",
    "step_no",
    "action",
    "desc",
    "source",
    "target",
    "others",
    "metric",
    "labels",
    "share",
    "outcome",
    "settle",
    "why",
    "fix",
    "tables",
    "failed_stores",
    "stage",
    "event",
];

fn check_kinds(inputs: &Option<Vec<String>>) -> Result<(), String> {
    for k in inputs.iter().flatten() {
        if Kind::parse(k).is_none() {
            return Err(format!("unknown input kind {k:?}"));
        }
    }
    Ok(())
}

impl Correlation {
    /// Reads `[correlation]` of rule `rule`: its `name`, the needles and parameters that
    /// correlation takes, and its `texts`. Returns the needle sets to register.
    pub fn load(rule: &str, table: &toml::Table) -> Result<(Correlation, Vec<NeedleSet>), String> {
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or("[correlation] needs a name")?
            .to_string();
        let mut rest = table.clone();
        rest.remove("name");
        // Every variant takes texts; the rest is the variant's own (unknown fields denied).
        let texts = rest.remove("texts");
        let typed = |what: &str| -> Result<toml::Value, String> {
            let _ = what;
            Ok(toml::Value::Table(rest.clone()))
        };
        let plain = || -> Result<Vec<NeedleSet>, String> {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Plain {
                #[serde(default)]
                inputs: Option<Vec<String>>,
                #[serde(default)]
                needles: BTreeMap<String, Vec<String>>,
            }
            let p: Plain = toml::Value::Table(rest.clone())
                .try_into()
                .map_err(|e: toml::de::Error| format!("[correlation] {name}: {e}"))?;
            check_kinds(&p.inputs)?;
            Ok(p.needles
                .into_iter()
                .map(|(k, v)| (k, v, p.inputs.clone()))
                .collect())
        };
        let (logic, sets) = match name.as_str() {
            "unsafe-recovery-status" => (Logic::UnsafeRecoveryStatus, plain()?),
            "merge-operator-stuck" => {
                let spec: merge_stuck::LogSequenceSpec = typed(&name)?
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("[correlation] {name}: {e}"))?;
                let sets = merge_stuck::needle_sets(&spec)?;
                (Logic::MergeOperatorStuck(spec), sets)
            }
            "merge-blocked" => {
                let spec: merge_blocked::MetricThresholdSpec = typed(&name)?
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("[correlation] {name}: {e}"))?;
                let sets = merge_blocked::needle_sets(&spec)?;
                (Logic::MergeBlocked(spec), sets)
            }
            "decommission-stalled" => (Logic::DecommissionStalled, plain()?),
            "decommission-one-by-one" => (Logic::DecommissionOneByOne, plain()?),
            "drain-timeout" => (Logic::DrainTimeout, plain()?),
            "unclean-shutdown" => (Logic::UncleanShutdown, plain()?),
            other => return Err(format!("unknown correlation {other:?}")),
        };
        let texts = Texts::load(rule, &name, texts, logic.keys())?;
        Ok((Correlation { logic, texts }, sets))
    }

    pub fn run(&self, sets: &Sets<'_>, ctx: &EvalCtx<'_>) -> Vec<Hit> {
        let tx = &self.texts;
        match &self.logic {
            Logic::UnsafeRecoveryStatus => unsafe_recovery::unsafe_recovery_status(sets, ctx, tx),
            Logic::MergeOperatorStuck(s) => merge_stuck::log_sequence(s, sets, ctx, tx),
            Logic::MergeBlocked(s) => merge_blocked::metric_threshold(s, sets, ctx, tx),
            Logic::DecommissionStalled => decommission_stalled::decommission_stalled(sets, ctx, tx),
            Logic::DecommissionOneByOne => one_by_one::one_by_one(sets, ctx, tx),
            Logic::DrainTimeout => drain_timeout::drain_timeout(sets, ctx, tx),
            Logic::UncleanShutdown => unclean_shutdown::unclean_shutdown(sets, ctx, tx),
        }
    }

    /// The words its findings use.
    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// The input kinds it reads, and what to say when the bundle has none of them.
    pub fn reads(&self) -> (&'static [Kind], String) {
        const CRDB: &[Kind] = &[
            Kind::CrdbLog,
            Kind::CrdbNodeStatus,
            Kind::CrdbDecommissionOutput,
        ];
        let kinds: &'static [Kind] = match self.logic {
            Logic::UnsafeRecoveryStatus => &[Kind::PdUnsafeRecovery, Kind::PdLog],
            Logic::MergeOperatorStuck(_) => &[Kind::PdLog, Kind::PdctlOperators],
            Logic::MergeBlocked(_) => &[Kind::PrometheusText, Kind::PrometheusJson],
            Logic::DrainTimeout => &[
                Kind::CrdbLog,
                Kind::CrdbNodeStatus,
                Kind::CrdbDecommissionOutput,
                Kind::CrdbGoroutines,
            ],
            _ => CRDB,
        };
        (kinds, self.texts.text("no-input"))
    }
}

impl Logic {
    /// The text keys the variant renders.
    fn keys(&self) -> texts::Keys {
        match self {
            Logic::UnsafeRecoveryStatus => unsafe_recovery::TEXTS,
            Logic::MergeOperatorStuck(_) => merge_stuck::TEXTS,
            Logic::MergeBlocked(_) => merge_blocked::TEXTS,
            Logic::DecommissionStalled => decommission_stalled::TEXTS,
            Logic::DecommissionOneByOne => one_by_one::TEXTS,
            Logic::DrainTimeout => drain_timeout::TEXTS,
            Logic::UncleanShutdown => unclean_shutdown::TEXTS,
        }
    }
}

pub fn evidence_of(ev: &LogEvent) -> EvidenceRef {
    EvidenceRef {
        loc: ev.loc,
        excerpt: Some(ev.excerpt.clone()),
    }
}

pub fn loc_evidence(loc: Location) -> EvidenceRef {
    EvidenceRef { loc, excerpt: None }
}

/// Evidence for a location: a kept log event carries its own excerpt, anything else is
/// quoted from the dump lines the facts kept.
pub fn evidence_at(ctx: &EvalCtx<'_>, loc: Location) -> EvidenceRef {
    match ctx.facts.events.iter().find(|e| e.loc == loc) {
        Some(e) => evidence_of(e),
        None => loc_evidence(loc),
    }
}

/// The message and fields as one text, for patterns over whole entries.
pub fn event_text(ev: &LogEvent) -> String {
    super::query::tables::event_text(ev)
}

/// A time, or the rule's `unknown-time` text.
pub fn fmt_time(t: Option<DateTime<FixedOffset>>, tx: &Texts) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string())
        .unwrap_or_else(|| tx.text("unknown-time"))
}

/// A unix time, or the rule's `unknown-time` text.
pub fn fmt_unix(t: Option<f64>, tx: &Texts) -> String {
    t.and_then(|t| DateTime::from_timestamp(t as i64, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| tx.text("unknown-time"))
}

pub fn join<T: ToString>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Events of a rule's needle set, in input then line order.
pub fn events_in<'a>(rule: &Sets<'_>, set: &str, ctx: &'a EvalCtx<'_>) -> Vec<&'a LogEvent> {
    match rule.group(set) {
        Some(g) => ctx.facts.events.iter().filter(|e| e.in_group(g)).collect(),
        None => Vec::new(),
    }
}

/// The latest time each input's kept events show, computed once.
pub fn input_horizons(ctx: &EvalCtx<'_>) -> BTreeMap<crate::model::InputId, DateTime<FixedOffset>> {
    let mut out: BTreeMap<crate::model::InputId, DateTime<FixedOffset>> = BTreeMap::new();
    // The scan's last entry of each log, then any later kept event.
    let last = ctx
        .inputs
        .iter()
        .filter_map(|(&i, m)| m.last_time.map(|t| (i, t)));
    let kept = ctx
        .facts
        .events
        .iter()
        .filter_map(|e| e.time.map(|t| (e.loc.input, t)));
    for (input, t) in last.chain(kept) {
        let x = out.entry(input).or_insert(t);
        if t > *x {
            *x = t;
        }
    }
    out
}

/// The latest time any kept event of an input shows: how far that log is known to reach.
pub fn input_horizon(
    ctx: &EvalCtx<'_>,
    input: crate::model::InputId,
) -> Option<DateTime<FixedOffset>> {
    // The scan knows the log's last entry; kept events may reach no further than that.
    let last = ctx.input(input).and_then(|m| m.last_time);
    ctx.facts
        .events
        .iter()
        .filter(|e| e.loc.input == input)
        .filter_map(|e| e.time)
        .chain(last)
        .max()
}

/// PD's address for words rendered before the engine fills `{pd}`.
pub fn pd_addr(ctx: &EvalCtx<'_>) -> String {
    ctx.facts
        .pd_addrs
        .first()
        .cloned()
        .unwrap_or_else(|| "<pd-addr>".into())
}
