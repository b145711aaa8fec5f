//! Matcher kinds `log-sequence` (A then B, or A without B, within a window, keyed by an
//! entity) and `metric-threshold` (a metric over a value or a growth rate).
//!
//! Both read their parameters from the rule file's `[matcher]` table into typed specs
//! (`deny_unknown_fields`), so a typo in a rule file fails at load time.

use super::matchers::{event_text, evidence_of, loc_evidence};
use super::{EvalCtx, EvidenceRef, Hit, Rule};
use crate::model::Kind;
use crate::model::sched::MetricSample;
use crate::model::units::{human_secs, parse_go_duration};
use crate::model::{Location, LogEvent};
use crate::parse::operator::{Operator, step_action, step_stores};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// A needle set a matcher asks the prefilter for: set name, needles, input kinds.
pub type NeedleSet = (String, Vec<String>, Option<Vec<String>>);

// ---------------------------------------------------------------------------------------------
// Specs

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum SeqMode {
    /// A with no B within the window (or A ended by a failure line).
    Without,
    /// A followed by B within the window.
    Then,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LogSequenceSpec {
    /// Input kinds the needles apply to (all logs when absent).
    #[serde(default)]
    inputs: Option<Vec<String>>,
    /// Field names that carry the entity a sequence is keyed by (`region-id`, `region_id`).
    key: Vec<String>,
    /// A: lines that open a sequence.
    start: Vec<String>,
    /// Texts an A line (and a failure line) must also contain, e.g. `merge-region`.
    #[serde(default)]
    start_contains: Vec<String>,
    /// Messages an A / B / failure line must have (any of them); lets the needles be narrow
    /// (`merge-region {merge:`) so that only the lines the rule needs are kept.
    #[serde(default)]
    start_message: Vec<String>,
    #[serde(default)]
    end_message: Vec<String>,
    #[serde(default)]
    fail_message: Vec<String>,
    /// B: lines that close a sequence normally.
    end: Vec<String>,
    /// Lines that end a sequence as a failure (`without` mode fires on them at once).
    #[serde(default)]
    fail: Vec<String>,
    /// Lines that show progress; cited, and the last one names where it got to.
    #[serde(default)]
    progress: Vec<String>,
    /// Lines after which open sequences of the same input are forgotten (restart, lost
    /// leadership: PD's operators live in memory only).
    #[serde(default)]
    reset: Vec<String>,
    mode: SeqMode,
    /// Go duration (`30m`).
    window: String,
    /// A failure line for a key within this time after a normal end is part of that end.
    #[serde(default)]
    grace: Option<String>,
    /// Field holding a PD operator description; enables merge-pair and step handling.
    #[serde(default)]
    operator_field: Option<String>,
    /// Also read pd-ctl `operator show` snapshots.
    #[serde(default)]
    operator_snapshots: bool,
    #[serde(default = "default_max_evidence")]
    max_evidence: usize,
    #[serde(default = "default_max_findings")]
    max_findings: usize,
}

fn default_max_evidence() -> usize {
    8
}
fn default_max_findings() -> usize {
    10
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Measure {
    /// The latest value.
    Value,
    /// The largest value.
    Max,
    /// Counter increase (resets handled); a lone sample counts as the total since start.
    Increase,
    /// Increase per second over the samples' span.
    Rate,
    /// Latest minus earliest (a gauge that grows).
    Growth,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct GroupWords {
    why: String,
    fix: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MetricThresholdSpec {
    metric: String,
    /// Label equality filters.
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// One finding per value of this label (one finding overall when absent).
    #[serde(default)]
    group_by: Option<String>,
    measure: Measure,
    min: f64,
    /// Minimum share of a group in the total over all reported groups.
    #[serde(default)]
    min_share: Option<f64>,
    /// Group values never reported nor counted in the total (`check`, `new-operator`).
    #[serde(default)]
    ignore: Vec<String>,
    /// Label values that name the same thing in other versions → the name reported.
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    /// Groups expected to rise right after a PD start (`group = "10m"`): counted only from
    /// that long past a start (log line, `process_start_time_seconds`, or a counter reset).
    #[serde(default)]
    settle: BTreeMap<String, String>,
    /// Log lines that mark a PD start or a new leader.
    #[serde(default)]
    start_needles: Vec<String>,
    /// `outcome = "cause-prefix"`: the outcome group is reported with its dominant cause
    /// group (one whose name starts with the prefix); cause groups are reported only so.
    #[serde(default)]
    outcomes: BTreeMap<String, String>,
    /// Groups reported only when every `only-with-metrics` gate holds (a counter that is
    /// high in every healthy cluster, such as merge-checker `no-need`).
    #[serde(default)]
    only_with: Vec<String>,
    #[serde(default)]
    only_with_metrics: Vec<MetricGate>,
    /// Log lines counted as events of a group (`group = [needles]`).
    #[serde(default)]
    log_counts: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    inputs: Option<Vec<String>>,
    /// Words per group: why it blocks and what to do.
    #[serde(default)]
    explain: BTreeMap<String, GroupWords>,
    #[serde(default = "default_max_findings")]
    max_findings: usize,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MetricGate {
    metric: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// The largest latest value among matching series must reach `min` and stay ≤ `max`.
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

fn check_duration(what: &str, s: &str) -> Result<i64, String> {
    parse_go_duration(s)
        .ok_or_else(|| format!("{what}: {s:?} is not a duration like 30m or 1h0m0s"))
}

fn check_kinds(inputs: &Option<Vec<String>>) -> Result<(), String> {
    for k in inputs.iter().flatten() {
        if Kind::parse(k).is_none() {
            return Err(format!("unknown input kind {k:?}"));
        }
    }
    Ok(())
}

fn seq_spec(table: &toml::Table) -> Result<LogSequenceSpec, String> {
    let spec: LogSequenceSpec = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| format!("log-sequence matcher: {e}"))?;
    Ok(spec)
}

fn metric_spec(table: &toml::Table) -> Result<MetricThresholdSpec, String> {
    let spec: MetricThresholdSpec = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| format!("metric-threshold matcher: {e}"))?;
    Ok(spec)
}

/// Validates a matcher table at load time and returns the needle sets it needs.
pub fn load(kind: &str, table: &toml::Table) -> Result<Vec<NeedleSet>, String> {
    match kind {
        "log-sequence" => {
            let s = seq_spec(table)?;
            if s.key.is_empty() {
                return Err("log-sequence needs at least one key field".into());
            }
            if s.start.is_empty() || s.end.is_empty() {
                return Err("log-sequence needs start and end needles".into());
            }
            check_duration("window", &s.window)?;
            if let Some(g) = &s.grace {
                check_duration("grace", g)?;
            }
            check_kinds(&s.inputs)?;
            let mut sets = vec![
                ("start".to_string(), s.start.clone(), s.inputs.clone()),
                ("end".to_string(), s.end.clone(), s.inputs.clone()),
            ];
            for (name, needles) in [
                ("fail", &s.fail),
                ("progress", &s.progress),
                ("reset", &s.reset),
            ] {
                if !needles.is_empty() {
                    sets.push((name.to_string(), needles.clone(), s.inputs.clone()));
                }
            }
            Ok(sets)
        }
        "metric-threshold" => {
            let s = metric_spec(table)?;
            if s.metric.is_empty() {
                return Err("metric-threshold needs a metric name".into());
            }
            for d in s.settle.values() {
                check_duration("settle", d)?;
            }
            if !s.only_with.is_empty() && s.only_with_metrics.is_empty() {
                return Err("only-with needs only-with-metrics".into());
            }
            if s.min_share.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
                return Err("min-share must lie in 0..1".into());
            }
            check_kinds(&s.inputs)?;
            for w in s.explain.values() {
                super::template::check(&w.why, &[])?;
                super::template::check(&w.fix, &[])?;
            }
            let mut sets = Vec::new();
            if !s.start_needles.is_empty() {
                sets.push((
                    "start".to_string(),
                    s.start_needles.clone(),
                    s.inputs.clone(),
                ));
            }
            for (group, needles) in &s.log_counts {
                sets.push((format!("count:{group}"), needles.clone(), s.inputs.clone()));
            }
            Ok(sets)
        }
        other => Err(format!("matcher kind {other} is not handled here")),
    }
}

pub fn run(kind: &str, table: &toml::Table, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    match kind {
        // The spec was validated by `load`; a table that stopped parsing yields nothing.
        "log-sequence" => seq_spec(table)
            .map(|s| log_sequence(&s, rule, ctx))
            .unwrap_or_default(),
        "metric-threshold" => metric_spec(table)
            .map(|s| metric_threshold(&s, rule, ctx))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

pub(super) fn fmt_time(t: Option<DateTime<FixedOffset>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string())
        .unwrap_or_else(|| "unknown time".into())
}

pub(super) fn fmt_unix(t: Option<f64>) -> String {
    t.and_then(|t| DateTime::from_timestamp(t as i64, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "unknown time".into())
}

pub(super) fn join<T: ToString>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Events of a rule's needle set, in input then line order.
pub(super) fn events_in<'a>(rule: &Rule, set: &str, ctx: &'a EvalCtx<'_>) -> Vec<&'a LogEvent> {
    match rule.group(set) {
        Some(g) => ctx.facts.events.iter().filter(|e| e.in_group(g)).collect(),
        None => Vec::new(),
    }
}

/// The latest time each input's kept events show, computed once.
fn input_horizons(ctx: &EvalCtx<'_>) -> BTreeMap<crate::model::InputId, DateTime<FixedOffset>> {
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
pub(super) fn input_horizon(
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
fn pd_addr(ctx: &EvalCtx<'_>) -> String {
    ctx.facts
        .pd_addrs
        .first()
        .cloned()
        .unwrap_or_else(|| "<pd-addr>".into())
}

/// One time series: samples of one metric with one label set, ordered by time.
pub(super) struct Series<'a> {
    pub labels: &'a [(String, String)],
    pub samples: Vec<&'a MetricSample>,
}

impl<'a> Series<'a> {
    pub fn label(&self, k: &str) -> Option<&'a str> {
        self.labels
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn last(&self) -> Option<&'a MetricSample> {
        self.samples.last().copied()
    }

    pub fn first(&self) -> Option<&'a MetricSample> {
        self.samples.first().copied()
    }

    /// Seconds between the first and last timed samples.
    pub fn span(&self) -> Option<f64> {
        let a = self.samples.iter().find_map(|s| s.time)?;
        let b = self.samples.iter().rev().find_map(|s| s.time)?;
        Some(b - a)
    }

    pub fn timed(&self) -> bool {
        self.samples.len() >= 2 && self.samples.iter().all(|s| s.time.is_some())
    }

    /// Counter increase after `from` (unix seconds; all samples when `None`), resets counted
    /// from zero. A lone sample, or untimed ones, count as the total since the process start.
    pub fn increase(&self, from: Option<f64>) -> f64 {
        if !self.timed() {
            return self.last().map_or(0.0, |s| finite(s.value));
        }
        let mut total = 0.0;
        // A rise is placed in the interval before the sample: counted when that interval
        // starts at or after `from`.
        for w in self.samples.windows(2) {
            let (p, v) = (finite(w[0].value), finite(w[1].value));
            let counted = match (from, w[0].time) {
                (Some(f), Some(t)) => t >= f,
                _ => true,
            };
            if counted {
                total += if v >= p { v - p } else { v };
            }
        }
        total
    }

    /// Times at which the counter went down (the process restarted).
    pub fn resets(&self) -> Vec<f64> {
        self.samples
            .windows(2)
            .filter(|w| w[1].value < w[0].value)
            .filter_map(|w| w[1].time)
            .collect()
    }
}

/// A total order on optional times: untimed first (a stable sort keeps their input order).
fn cmp_time(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (None, None) => Equal,
        (None, Some(_)) => Less,
        (Some(_), None) => Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Series of a metric whose labels match every filter.
pub(super) fn series_of<'a>(
    ctx: &'a EvalCtx<'_>,
    metric: &str,
    filter: &BTreeMap<String, String>,
) -> Vec<Series<'a>> {
    let mut by_labels: BTreeMap<&'a [(String, String)], Vec<&'a MetricSample>> = BTreeMap::new();
    for s in ctx.facts.sched.samples.iter().filter(|s| s.name == metric) {
        if filter.iter().all(|(k, v)| s.label(k) == Some(v.as_str())) {
            by_labels.entry(s.labels.as_slice()).or_default().push(s);
        }
    }
    by_labels
        .into_iter()
        .map(|(labels, mut samples)| {
            // Timed samples by time; the same instant from two dump blocks kept once.
            samples.sort_by(|a, b| cmp_time(a.time, b.time));
            samples.dedup_by(|a, b| a.time.is_some() && a.time == b.time);
            Series { labels, samples }
        })
        .collect()
}

/// Evidence for a series: its first and last sample lines.
pub(super) fn series_evidence(s: &Series<'_>) -> Vec<EvidenceRef> {
    let mut out = Vec::new();
    if let Some(f) = s.first() {
        out.push(loc_evidence(f.loc));
    }
    if let Some(l) = s.last()
        && Some(l.loc) != s.first().map(|f| f.loc)
    {
        out.push(loc_evidence(l.loc));
    }
    out
}

pub(super) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

// ---------------------------------------------------------------------------------------------
// log-sequence

/// Where one keyed sequence got to.
struct Seq<'a> {
    key: u64,
    start: Option<&'a LogEvent>,
    op: Option<Operator>,
    /// Progress lines, oldest first.
    progress: Vec<&'a LogEvent>,
    fail: Option<&'a LogEvent>,
    /// Listed in `operator show` snapshots: (location, current step, timed out).
    listed: Vec<(Location, Option<usize>, bool)>,
    input: Option<crate::model::InputId>,
}

impl Seq<'_> {
    fn pair(&self) -> Option<(u64, u64)> {
        self.op.as_ref().and_then(|o| o.merge)
    }
}

fn event_key(ev: &LogEvent, spec: &LogSequenceSpec, op: Option<&Operator>) -> Option<u64> {
    let keys: Vec<&str> = spec.key.iter().map(String::as_str).collect();
    ev.field_u64(&keys).or_else(|| op.and_then(|o| o.region))
}

fn event_op(ev: &LogEvent, spec: &LogSequenceSpec) -> Option<Operator> {
    let f = spec.operator_field.as_deref()?;
    Operator::parse(ev.field(f)?)
}

fn message_in(ev: &LogEvent, msgs: &[String]) -> bool {
    msgs.is_empty() || msgs.contains(&ev.message)
}

fn contains_all(ev: &LogEvent, needles: &[String]) -> bool {
    if needles.is_empty() {
        return true;
    }
    let text = event_text(ev);
    needles.iter().all(|n| text.contains(n.as_str()))
}

fn log_sequence(spec: &LogSequenceSpec, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let window = parse_go_duration(&spec.window).unwrap_or(1800);
    let grace = spec
        .grace
        .as_deref()
        .and_then(parse_go_duration)
        .unwrap_or(0);
    let g = |set: &str| rule.group(set);
    let (gs, ge, gf, gp, gr) = (g("start"), g("end"), g("fail"), g("progress"), g("reset"));
    let hit_of = |ev: &LogEvent, gr: Option<u32>| gr.is_some_and(|x| ev.in_group(x));
    // Relevant events in time order (stable: same time keeps log order).
    let mut evs: Vec<&LogEvent> = ctx
        .facts
        .events
        .iter()
        .filter(|e| [gs, ge, gf, gp, gr].iter().any(|x| hit_of(e, *x)))
        .collect();
    evs.sort_by_key(|a| (a.time, a.loc));

    let mut open: BTreeMap<u64, Seq<'_>> = BTreeMap::new();
    let mut done: Vec<Seq<'_>> = Vec::new();
    let mut last_end: BTreeMap<u64, Option<DateTime<FixedOffset>>> = BTreeMap::new();
    for ev in evs {
        if hit_of(ev, gr) {
            // PD's operators live in its memory: a restart or a new leader drops them.
            open.retain(|_, s| s.input != Some(ev.loc.input));
            continue;
        }
        let op = event_op(ev, spec);
        let Some(key) = event_key(ev, spec, op.as_ref()) else {
            continue;
        };
        if hit_of(ev, gs)
            && message_in(ev, &spec.start_message)
            && contains_all(ev, &spec.start_contains)
        {
            if spec.mode == SeqMode::Then && !open.contains_key(&key) {
                last_end.remove(&key);
            }
            open.insert(
                key,
                Seq {
                    key,
                    start: Some(ev),
                    op,
                    progress: Vec::new(),
                    fail: None,
                    listed: Vec::new(),
                    input: Some(ev.loc.input),
                },
            );
            continue;
        }
        if hit_of(ev, ge) && message_in(ev, &spec.end_message) {
            let mut closed = vec![key];
            if let Some(s) = open.remove(&key) {
                // A merge is over for both regions once either side ends.
                if let Some((a, b)) = s.pair() {
                    let other = if a == key { b } else { a };
                    if open.get(&other).is_some_and(|o| o.pair() == s.pair()) {
                        open.remove(&other);
                        closed.push(other);
                    }
                }
                if spec.mode == SeqMode::Then {
                    let within = match (s.start.and_then(|e| e.time), ev.time) {
                        (Some(a), Some(b)) => (b - a).num_seconds() <= window,
                        _ => true,
                    };
                    if within {
                        let mut s = s;
                        s.fail = Some(ev);
                        done.push(s);
                    }
                }
            }
            for k in closed {
                last_end.insert(k, ev.time);
            }
            continue;
        }
        if hit_of(ev, gf)
            && message_in(ev, &spec.fail_message)
            && contains_all(ev, &spec.start_contains)
            && spec.mode == SeqMode::Without
        {
            // The normal end of a merge: the source's operator is canceled right after
            // `remove operator because region disappeared`.
            if let Some(end_t) = last_end.get(&key) {
                let near = match (end_t, ev.time) {
                    (Some(a), Some(b)) => (b - *a).num_seconds() <= grace,
                    _ => true,
                };
                if near {
                    continue;
                }
            }
            let mut s = open.remove(&key).unwrap_or(Seq {
                key,
                start: None,
                op: None,
                progress: Vec::new(),
                fail: None,
                listed: Vec::new(),
                input: Some(ev.loc.input),
            });
            // The failure line's operator text is newer (its currentStep is where it stopped).
            if op.is_some() {
                s.op = op;
            }
            s.fail = Some(ev);
            // Its merge partner is over too.
            if let Some((a, b)) = s.pair() {
                let other = if a == key { b } else { a };
                if let Some(o) = open.remove(&other) {
                    if o.pair() == s.pair() {
                        done.push(o);
                    } else {
                        open.insert(other, o);
                    }
                }
            }
            done.push(s);
            continue;
        }
        if hit_of(ev, gp)
            && let Some(s) = open.get_mut(&key)
        {
            s.progress.push(ev);
        }
    }

    let horizons = input_horizons(ctx);
    if spec.mode == SeqMode::Without {
        for (_, s) in std::mem::take(&mut open) {
            let Some(start) = s.start else { continue };
            let limit = window.max(s.op.as_ref().and_then(|o| o.timeout_secs()).unwrap_or(0));
            let (Some(t0), Some(now)) = (start.time, horizons.get(&start.loc.input).copied())
            else {
                continue;
            };
            if (now - t0).num_seconds() >= limit {
                done.push(s);
            }
        }
        if spec.operator_snapshots {
            listed_sequences(spec, ctx, &mut done);
        }
    }
    render_sequences(spec, ctx, done, window, &horizons)
}

/// Operators from `operator show` snapshots that timed out, or sit at the same step in two
/// snapshots.
fn listed_sequences<'a>(spec: &LogSequenceSpec, ctx: &'a EvalCtx<'_>, done: &mut Vec<Seq<'a>>) {
    let mut seen: BTreeMap<(u64, String), Seq<'a>> = BTreeMap::new();
    for snap in &ctx.facts.sched.operator_snapshots {
        for lo in &snap.ops {
            let op = &lo.op;
            let text = format!(
                "{} {} {}",
                op.desc,
                op.brief.as_deref().unwrap_or(""),
                op.kinds.join(",")
            );
            if !spec
                .start_contains
                .iter()
                .all(|n| text.contains(n.as_str()))
            {
                continue;
            }
            let Some(region) = op.region else { continue };
            let timed_out = op.end == Some(crate::parse::operator::OpEnd::Timeout)
                || lo.status.as_deref() == Some("TIMEOUT");
            let id = (region, op.create_at.clone().unwrap_or_default());
            let s = seen.entry(id).or_insert_with(|| Seq {
                key: region,
                start: None,
                op: Some(op.clone()),
                progress: Vec::new(),
                fail: None,
                listed: Vec::new(),
                input: Some(lo.loc.input),
            });
            s.listed.push((lo.loc, op.current_step, timed_out));
            s.op = Some(op.clone());
        }
    }
    for (_, s) in seen {
        // Already reported from the log.
        if done.iter().any(|d| d.key == s.key) {
            continue;
        }
        let timed_out = s.listed.iter().any(|l| l.2);
        let steps: BTreeSet<Option<usize>> = s.listed.iter().map(|l| l.1).collect();
        let places: BTreeSet<Location> = s.listed.iter().map(|l| l.0).collect();
        let unchanged = steps.len() == 1 && places.len() >= 2;
        if timed_out || unchanged {
            done.push(s);
        }
    }
}

fn render_sequences(
    spec: &LogSequenceSpec,
    ctx: &EvalCtx<'_>,
    done: Vec<Seq<'_>>,
    window: i64,
    horizons: &BTreeMap<crate::model::InputId, DateTime<FixedOffset>>,
) -> Vec<Hit> {
    // One finding per merge (both regions' operators together) or per key.
    let mut groups: BTreeMap<(u64, u64), Vec<Seq<'_>>> = BTreeMap::new();
    for s in done {
        let gk = s.pair().unwrap_or((s.key, s.key));
        groups.entry(gk).or_default().push(s);
    }
    let total = groups.len();
    let mut hits: Vec<(i64, Hit)> = Vec::new();
    for ((a, b), seqs) in groups {
        // The sequence that says most: the source of a merge (it carries the real steps),
        // else the one with a failure line, else the first.
        let main_idx = seqs
            .iter()
            .position(|s| s.key == a && s.op.as_ref().is_some_and(|o| o.steps.len() > 1))
            .or_else(|| seqs.iter().position(|s| s.fail.is_some()))
            .unwrap_or(0);
        let main = &seqs[main_idx];
        let mut hit = Hit::default();
        let op = main.op.as_ref();
        // Where it stopped: the last progress line's step, else currentStep of the newest
        // operator text, else the first step.
        let progress_step = main
            .progress
            .iter()
            .rev()
            .find_map(|e| e.field("step").map(str::to_string));
        let listed_step = main
            .listed
            .last()
            .and_then(|l| l.1)
            .and_then(|i| op.and_then(|o| o.steps.get(i)).cloned());
        let step = progress_step
            .clone()
            .or(listed_step)
            .or_else(|| op.and_then(|o| o.current_step_text().map(str::to_string)))
            .or_else(|| {
                op.filter(|o| o.current_step.is_none())
                    .and_then(|o| o.steps.first().cloned())
            });
        let steps_len = op.map_or(0, |o| o.steps.len());
        let index = step
            .as_ref()
            .and_then(|st| op.and_then(|o| o.steps.iter().position(|x| x == st)))
            .or_else(|| op.and_then(|o| o.current_step));
        match &step {
            Some(st) => {
                hit.var("step", st);
                let stores = step_stores(st);
                if !stores.is_empty() {
                    hit.var("stores", join(&stores));
                    hit.var("store", stores[0]);
                    hit.entities.stores.extend(stores);
                }
                hit.var("action", step_action(st));
            }
            None => hit.var("step", "unknown (the log does not show the step list)"),
        }
        hit.var(
            "step_no",
            match (index, steps_len) {
                (Some(i), n) if n > 0 && op.is_some_and(|o| o.steps_complete) => {
                    format!("step {} of {}", i + 1, n)
                }
                (Some(i), _) => format!("step {}", i + 1),
                _ => "an unknown step".to_string(),
            },
        );
        if let Some(o) = op {
            hit.var("desc", &o.desc);
        }
        hit.var("region", main.key);
        let mut regions = vec![main.key];
        if a != b {
            regions = vec![a, b];
            hit.var("source", a);
            hit.var("target", b);
        }
        hit.var("regions", join(&regions));
        hit.entities.regions.extend(regions.iter().copied());
        // Age and why.
        let t0 = seqs
            .iter()
            .filter_map(|s| s.start.and_then(|e| e.time))
            .min();
        let fail = seqs.iter().find_map(|s| s.fail);
        let horizon = main.input.and_then(|i| horizons.get(&i).copied());
        let t_end = fail.and_then(|f| f.time).or(horizon);
        let age = match (t0, t_end) {
            (Some(a), Some(b)) => (b - a).num_seconds(),
            _ => 0,
        };
        hit.var("age", human_secs(age));
        hit.var("first", fmt_time(t0));
        hit.var("last", fmt_time(t_end));
        let reason = match (fail, spec.mode) {
            (Some(f), SeqMode::Without) => {
                let why = f
                    .field("additional-info")
                    .or_else(|| f.field("additional info"))
                    .and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok())
                    .and_then(|v| v.get("cancel-reason")?.as_str().map(str::to_string))
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(" (cancel-reason: {r})"))
                    .unwrap_or_default();
                format!(
                    "PD logged `{}` for it at {}{}",
                    f.message,
                    fmt_time(f.time),
                    why
                )
            }
            (Some(f), SeqMode::Then) => {
                format!("It was followed by `{}` at {}", f.message, fmt_time(f.time))
            }
            (None, _) if !main.listed.is_empty() => {
                if main.listed.iter().any(|l| l.2) {
                    "pd-ctl lists it as timed out".to_string()
                } else {
                    format!(
                        "pd-ctl lists it at the same step in {} snapshots",
                        main.listed.len()
                    )
                }
            }
            (None, _) => format!(
                "It has neither finished nor been cleaned up for {} (the log reaches {}; allowed {})",
                human_secs(age),
                fmt_time(horizon),
                human_secs(window.max(op.and_then(|o| o.timeout_secs()).unwrap_or(0)))
            ),
        };
        hit.var(
            "state",
            match fail {
                Some(f) if f.message.contains("timeout") => "timed out",
                Some(f) if f.message.contains("expired") => "expired",
                Some(f) if f.message.contains("replace") => "was replaced",
                Some(f) if f.message.contains("removed") => "was removed",
                Some(f) if f.message.contains("stale") => "went stale",
                Some(_) => "was canceled",
                None if main.listed.iter().any(|l| l.2) => "timed out",
                None => "stalled",
            },
        );
        hit.var("reason", reason);
        if let Some(n) = main
            .start
            .or(fail)
            .and_then(|e| ctx.input(e.loc.input))
            .and_then(|m| m.node.clone())
        {
            hit.var("node", &n);
            hit.entities.nodes.push(n);
        }
        // Evidence: the add lines, the latest progress, the failure, the snapshots.
        let mut starts: Vec<&LogEvent> = seqs.iter().filter_map(|s| s.start).collect();
        starts.sort_by_key(|e| e.loc);
        let mut ev: Vec<EvidenceRef> = starts.into_iter().map(evidence_of).collect();
        if let Some(f) = fail {
            ev.push(evidence_of(f));
        }
        // The main sequence's latest progress (the step PD keeps sending), then the others'.
        for p in main.progress.iter().rev().take(3).rev() {
            ev.push(evidence_of(p));
        }
        for (i, s) in seqs.iter().enumerate() {
            if i != main_idx
                && let Some(p) = s.progress.last()
            {
                ev.push(evidence_of(p));
            }
        }
        for s in &seqs {
            for l in &s.listed {
                ev.push(loc_evidence(l.0));
            }
        }
        ev.truncate(spec.max_evidence.max(1));
        hit.evidence = ev;
        hits.push((age, hit));
    }
    // Longest stuck first; the cut is said on each finding kept.
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    let kept = hits.len().min(spec.max_findings.max(1));
    let others = total - kept;
    hits.into_iter()
        .take(kept)
        .map(|(_, mut h)| {
            h.var(
                "others",
                if others > 0 {
                    format!(" {others} more are not listed.")
                } else {
                    String::new()
                },
            );
            h
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// metric-threshold

struct Group<'a> {
    /// Canonical name (after aliases).
    name: String,
    /// Label values seen for it.
    seen: BTreeSet<String>,
    series: Vec<Series<'a>>,
    logs: Vec<&'a LogEvent>,
    value: f64,
}

fn measure(series: &[Series<'_>], m: Measure, from: Option<f64>) -> f64 {
    match m {
        Measure::Value => series
            .iter()
            .filter_map(|s| s.last().map(|x| finite(x.value)))
            .fold(0.0, f64::max),
        Measure::Max => series
            .iter()
            .flat_map(|s| s.samples.iter().map(|x| finite(x.value)))
            .fold(0.0, f64::max),
        Measure::Increase => series.iter().map(|s| s.increase(from)).sum(),
        Measure::Rate => series
            .iter()
            .filter_map(|s| {
                let span = s.span()?;
                (span > 0.0).then(|| s.increase(from) / span)
            })
            .sum(),
        Measure::Growth => series
            .iter()
            .filter_map(|s| Some(finite(s.last()?.value) - finite(s.first()?.value)))
            .sum(),
    }
}

/// PD start times (unix seconds) the bundle shows for the instances of these series.
fn start_times(rule: &Rule, ctx: &EvalCtx<'_>, series: &[Series<'_>]) -> Vec<f64> {
    let mut out: Vec<f64> = events_in(rule, "start", ctx)
        .iter()
        .filter_map(|e| e.time.map(|t| t.timestamp() as f64))
        .collect();
    let instances: BTreeSet<&str> = series.iter().filter_map(|s| s.label("instance")).collect();
    for s in ctx.facts.sched.metric("process_start_time_seconds") {
        if s.label("instance").is_some_and(|i| instances.contains(i)) && s.value.is_finite() {
            out.push(s.value);
        }
    }
    for s in series {
        out.extend(s.resets());
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

fn metric_threshold(spec: &MetricThresholdSpec, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let series = series_of(ctx, &spec.metric, &spec.labels);
    let canonical = |v: &str| {
        spec.aliases
            .get(v)
            .cloned()
            .unwrap_or_else(|| v.to_string())
    };
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    let mut all_series: Vec<Series<'_>> = Vec::new();
    for s in series {
        let raw = match &spec.group_by {
            Some(l) => s.label(l).unwrap_or("").to_string(),
            None => String::new(),
        };
        if spec.ignore.contains(&raw) {
            continue;
        }
        let name = canonical(&raw);
        let g = groups.entry(name.clone()).or_insert_with(|| Group {
            name,
            seen: BTreeSet::new(),
            series: Vec::new(),
            logs: Vec::new(),
            value: 0.0,
        });
        g.seen.insert(raw);
        all_series.push(Series {
            labels: s.labels,
            samples: s.samples.clone(),
        });
        g.series.push(s);
    }
    for group in spec.log_counts.keys() {
        let evs = events_in(rule, &format!("count:{group}"), ctx);
        if evs.is_empty() {
            continue;
        }
        let name = canonical(group);
        let g = groups.entry(name.clone()).or_insert_with(|| Group {
            name,
            seen: BTreeSet::new(),
            series: Vec::new(),
            logs: Vec::new(),
            value: 0.0,
        });
        g.seen.insert(group.clone());
        g.logs.extend(evs);
    }
    if groups.is_empty() {
        return Vec::new();
    }
    let settle_of = |name: &str| {
        spec.settle
            .iter()
            .find(|(g, _)| canonical(g) == name)
            .and_then(|(_, d)| parse_go_duration(d))
            .map(|d| d as f64)
    };
    let starts = if spec.settle.is_empty() {
        Vec::new()
    } else {
        start_times(rule, ctx, &all_series)
    };
    let mut settle_notes: BTreeMap<String, f64> = BTreeMap::new();
    for g in groups.values_mut() {
        if let Some(settle) = settle_of(&g.name) {
            // Expected right after a start: count only past the settle time after the
            // latest start before the samples' end; untimed totals cannot tell.
            let timed = g.series.iter().any(Series::timed);
            if !timed && g.logs.is_empty() {
                g.value = 0.0;
                continue;
            }
            let mut v = 0.0;
            for s in &g.series {
                let end = s.last().and_then(|x| x.time).unwrap_or(f64::MAX);
                let from = starts
                    .iter()
                    .copied()
                    .filter(|t| *t <= end)
                    .fold(None, |acc: Option<f64>, t| {
                        Some(acc.map_or(t, |a| a.max(t)))
                    })
                    .map(|t| t + settle);
                v += s.increase(from);
            }
            g.value = v + g.logs.len() as f64;
            if !starts.is_empty() {
                settle_notes.insert(g.name.clone(), settle);
            }
        } else {
            g.value = measure(&g.series, spec.measure, None) + g.logs.len() as f64;
        }
    }
    let is_cause = |name: &str| spec.outcomes.values().any(|p| name.starts_with(p.as_str()));
    let total: f64 = groups
        .values()
        .filter(|g| !is_cause(&g.name))
        .map(|g| g.value)
        .sum();
    let gate_open = !spec.only_with_metrics.is_empty()
        && spec.only_with_metrics.iter().all(|m| {
            let latest = series_of(ctx, &m.metric, &m.labels)
                .iter()
                .filter_map(|s| s.last().map(|x| x.value))
                .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |x| x.max(v))));
            latest.is_some_and(|v| m.min.is_none_or(|lo| v >= lo) && m.max.is_none_or(|hi| v <= hi))
        });
    let qualifies = |g: &Group<'_>| {
        (gate_open || !spec.only_with.iter().any(|o| canonical(o) == g.name))
            && g.value >= spec.min
            && g.value > 0.0
            && spec
                .min_share
                .is_none_or(|s| total > 0.0 && g.value / total >= s)
    };
    // (group reported, outcome group it explains)
    let mut reported: Vec<(&Group<'_>, Option<&Group<'_>>)> = Vec::new();
    for g in groups.values() {
        if is_cause(&g.name) || !qualifies(g) {
            continue;
        }
        match spec.outcomes.get(&g.name) {
            Some(prefix) => {
                let cause = groups
                    .values()
                    .filter(|c| c.name.starts_with(prefix.as_str()) && c.value > 0.0)
                    .max_by(|x, y| x.value.total_cmp(&y.value));
                match cause {
                    Some(c) => reported.push((c, Some(g))),
                    None => reported.push((g, None)),
                }
            }
            None => reported.push((g, None)),
        }
    }
    reported.sort_by(|x, y| {
        let vx = x.1.map_or(x.0.value, |o| o.value);
        let vy = y.1.map_or(y.0.value, |o| o.value);
        vy.total_cmp(&vx)
    });
    reported.truncate(spec.max_findings.max(1));
    let pd = pd_addr(ctx);
    let mut hits = Vec::new();
    for (g, outcome) in reported {
        let mut hit = Hit::default();
        hit.var("metric", &spec.metric);
        hit.var("reason", &g.name);
        hit.var("labels", join(g.seen.iter()));
        let main_value = outcome.map_or(g.value, |o| o.value);
        hit.var("count", fmt_num(g.value));
        let share = if total > 0.0 {
            format!("{:.0}%", 100.0 * main_value / total)
        } else {
            "-".to_string()
        };
        hit.var("share", &share);
        // A cause is counted through its outcome: the share is the outcome's.
        hit.var(
            "outcome",
            match outcome {
                Some(o) => format!(
                    " It is the dominant cause of `{}`, which rose by {} in the same window ({share} of all skips).",
                    o.name,
                    fmt_num(o.value),
                ),
                None => format!(" That is {share} of all skips."),
            },
        );
        hit.var(
            "settle",
            match settle_notes.get(&g.name) {
                Some(settle) => format!(
                    " Counted only from {} after the PD start(s) the bundle shows; rises right after a start are expected.",
                    human_secs(*settle as i64)
                ),
                None => String::new(),
            },
        );
        let mut vars = hit.vars.clone();
        vars.entry("pd".into()).or_insert_with(|| pd.clone());
        let words = spec.explain.get(&g.name);
        let render = |t: &str| super::template::render(t, &vars).unwrap_or_else(|m| m);
        hit.var(
            "why",
            words.map_or_else(|| format!("`{}` rose.", g.name), |w| render(&w.why)),
        );
        hit.var(
            "fix",
            words.map_or_else(
                || "See the PD docs for this counter.".to_string(),
                |w| render(&w.fix),
            ),
        );
        let times: Vec<f64> = g
            .series
            .iter()
            .flat_map(|s| s.samples.iter().filter_map(|x| x.time))
            .collect();
        let first = times
            .iter()
            .copied()
            .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |x| x.min(t))));
        let last = times
            .iter()
            .copied()
            .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |x| x.max(t))));
        hit.var("first", fmt_unix(first));
        hit.var("last", fmt_unix(last));
        let mut nodes = BTreeSet::new();
        for s in g
            .series
            .iter()
            .chain(outcome.iter().flat_map(|o| o.series.iter()))
        {
            hit.evidence.extend(series_evidence(s));
            if let Some(i) = s.label("instance") {
                nodes.insert(i.to_string());
            }
        }
        for e in g.logs.iter().take(5) {
            hit.evidence.push(evidence_of(e));
        }
        hit.evidence.truncate(10);
        hit.entities.nodes.extend(nodes);
        hits.push(hit);
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sched::MetricSample;
    use crate::model::{Facts, InputId, Level};
    use crate::rules::{InputMeta, RuleSet, parse_rule};

    fn loc(line: u64) -> Location {
        Location {
            input: InputId(0),
            line,
        }
    }

    fn ev(line: u64, time: &str, msg: &str, fields: &[(&str, &str)], groups: Vec<u32>) -> LogEvent {
        LogEvent {
            loc: loc(line),
            time: DateTime::parse_from_rfc3339(time).ok(),
            level: Some(Level::Info),
            source: None,
            message: msg.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            excerpt: msg.into(),
            groups,
            operator: None,
        }
    }

    const SEQ_RULE: &str = r#"id = "test.seq"
severity = "warning"
title = "region {region} at {step}"
summary = "{reason}"
[matcher]
kind = "log-sequence"
key = ["region-id"]
start = ["add operator"]
start-contains = ["merge-region"]
end = ["operator finish"]
fail = ["operator timeout"]
mode = "without"
window = "10m"
operator-field = "operator"
"#;

    fn rules(text: &str) -> RuleSet {
        RuleSet::from_specs(vec![parse_rule("t.toml", text).unwrap()]).unwrap()
    }

    fn group(rs: &RuleSet, set: &str) -> u32 {
        rs.rules[0].group(set).unwrap()
    }

    fn meta() -> BTreeMap<crate::model::InputId, InputMeta> {
        BTreeMap::from([(
            crate::model::InputId(0),
            InputMeta {
                kind: Kind::PdLog,
                node: Some("10.0.1.1:2379".into()),
                path: "pd.log".into(),
                store: None,
                last_time: None,
            },
        )])
    }

    const OP: &str = "\"merge-region {merge: region 5 to 6} (kind:leader,region,merge, region:5(2,3), createAt:2024-01-01 00:00:00 +0000 UTC, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, steps:[transfer leader from store 1 to store 2, merge region 5 into region 6])\"";

    #[test]
    fn bad_tables_fail_at_load() {
        let bad = SEQ_RULE.replace("window = \"10m\"", "window = \"soon\"");
        let e = RuleSet::from_specs(vec![parse_rule("t.toml", &bad).unwrap()]).err();
        assert!(e.unwrap().to_string().contains("window"));
        let bad = SEQ_RULE.replace("mode = \"without\"", "mode = \"without\"\nwindoww = 1");
        assert!(RuleSet::from_specs(vec![parse_rule("t.toml", &bad).unwrap()]).is_err());
        let m = r#"id = "t.m"
severity = "warning"
title = "x"
summary = "y"
[matcher]
kind = "metric-threshold"
metric = "pd_x"
measure = "sometimes"
min = 1
"#;
        assert!(RuleSet::from_specs(vec![parse_rule("t.toml", m).unwrap()]).is_err());
    }

    #[test]
    fn without_fires_after_window_and_not_before() {
        let rs = rules(SEQ_RULE);
        let (s, e) = (group(&rs, "start"), group(&rs, "end"));
        let mut facts = Facts::default();
        facts.events.push(ev(
            1,
            "2024-01-01T00:00:00+00:00",
            "add operator",
            &[("region-id", "5"), ("operator", OP)],
            vec![s],
        ));
        // Something else in the same log 5 minutes later: not long enough.
        facts
            .events
            .push(ev(2, "2024-01-01T00:05:00+00:00", "other", &[], vec![]));
        let inputs = meta();
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        assert!(rs.evaluate_ctx(&ctx).is_empty());
        facts
            .events
            .push(ev(3, "2024-01-01T00:30:00+00:00", "other", &[], vec![]));
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        let f = rs.evaluate_ctx(&ctx);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "region 5 at transfer leader from store 1 to store 2"
        );
        assert_eq!(f[0].entities.stores, vec![1, 2]);
        assert_eq!(f[0].entities.regions, vec![5, 6]);
        // Finished: quiet.
        facts.events.push(ev(
            4,
            "2024-01-01T00:31:00+00:00",
            "operator finish",
            &[("region-id", "5")],
            vec![e],
        ));
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        assert!(rs.evaluate_ctx(&ctx).is_empty());
    }

    #[test]
    fn a_pd_restart_forgets_open_operators() {
        let text = SEQ_RULE.replace(
            "mode = ",
            "reset = [\"Welcome to Placement Driver\"]\nmode = ",
        );
        let rs = rules(&text);
        let (s, r) = (group(&rs, "start"), group(&rs, "reset"));
        let mut facts = Facts::default();
        facts.events.push(ev(
            1,
            "2024-01-01T00:00:00+00:00",
            "add operator",
            &[("region-id", "5"), ("operator", OP)],
            vec![s],
        ));
        facts.events.push(ev(
            2,
            "2024-01-01T00:01:00+00:00",
            "Welcome to Placement Driver (PD)",
            &[],
            vec![r],
        ));
        facts
            .events
            .push(ev(3, "2024-01-01T00:45:00+00:00", "other", &[], vec![]));
        let inputs = meta();
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        assert!(rs.evaluate_ctx(&ctx).is_empty());
    }

    #[test]
    fn failure_fires_at_once_but_not_within_grace_after_an_end() {
        let text = SEQ_RULE.replace("operator-field", "grace = \"1m\"\noperator-field");
        let rs = rules(&text);
        let (s, e, f) = (group(&rs, "start"), group(&rs, "end"), group(&rs, "fail"));
        let mut facts = Facts::default();
        facts.events.push(ev(
            1,
            "2024-01-01T00:00:00+00:00",
            "add operator",
            &[("region-id", "5"), ("operator", OP)],
            vec![s],
        ));
        facts.events.push(ev(
            2,
            "2024-01-01T00:00:10+00:00",
            "operator finish",
            &[("region-id", "6")],
            vec![e],
        ));
        facts.events.push(ev(
            3,
            "2024-01-01T00:00:10+00:00",
            "operator timeout",
            &[("region-id", "5"), ("operator", OP)],
            vec![f],
        ));
        let inputs = meta();
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        // Region 6 never had an add line here, so region 5 is still open when it times out.
        assert_eq!(rs.evaluate_ctx(&ctx).len(), 1);
        let mut facts = Facts::default();
        facts.events.push(ev(
            1,
            "2024-01-01T00:00:00+00:00",
            "add operator",
            &[("region-id", "5"), ("operator", OP)],
            vec![s],
        ));
        facts.events.push(ev(
            2,
            "2024-01-01T00:00:10+00:00",
            "operator finish",
            &[("region-id", "5")],
            vec![e],
        ));
        facts.events.push(ev(
            3,
            "2024-01-01T00:00:10+00:00",
            "operator timeout",
            &[("region-id", "5"), ("operator", OP)],
            vec![f],
        ));
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        assert!(rs.evaluate_ctx(&ctx).is_empty());
    }

    #[test]
    fn then_mode_fires_on_b_after_a() {
        let text = r#"id = "test.then"
severity = "info"
title = "{region}"
summary = "{reason}"
[matcher]
kind = "log-sequence"
key = ["region-id"]
start = ["leader changed"]
end = ["operator timeout"]
mode = "then"
window = "1m"
"#;
        let rs = rules(text);
        let (s, e) = (group(&rs, "start"), group(&rs, "end"));
        let mut facts = Facts::default();
        facts.events.push(ev(
            1,
            "2024-01-01T00:00:00+00:00",
            "leader changed",
            &[("region-id", "9")],
            vec![s],
        ));
        facts.events.push(ev(
            2,
            "2024-01-01T00:00:30+00:00",
            "operator timeout",
            &[("region-id", "9")],
            vec![e],
        ));
        facts.events.push(ev(
            3,
            "2024-01-01T00:10:00+00:00",
            "leader changed",
            &[("region-id", "8")],
            vec![s],
        ));
        facts.events.push(ev(
            4,
            "2024-01-01T00:20:00+00:00",
            "operator timeout",
            &[("region-id", "8")],
            vec![e],
        ));
        let inputs = meta();
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        let f = rs.evaluate_ctx(&ctx);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].title, "9");
    }

    fn sample(labels: &[(&str, &str)], t: f64, v: f64, line: u64) -> MetricSample {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        l.sort();
        MetricSample {
            name: "pd_checker_event_count".into(),
            labels: l,
            time: Some(t),
            value: v,
            loc: loc(line),
        }
    }

    const METRIC_RULE: &str = r#"id = "test.metric"
severity = "warning"
title = "{reason}"
summary = "{why} {fix}{outcome}"
[matcher]
kind = "metric-threshold"
metric = "pd_checker_event_count"
labels = { type = "merge_checker" }
group-by = "name"
measure = "increase"
min = 100
min-share = 0.05
ignore = ["check", "new-operator"]
aliases = { "skip-uninit-region" = "no-leader" }
settle = { "no-leader" = "10m" }
outcomes = { "no-target" = "adj-" }
[matcher.explain.adj-disallow-merge]
why = "different placement"
fix = "align at {pd}"
"#;

    #[test]
    fn metric_groups_outcomes_and_settle() {
        let rs = rules(METRIC_RULE);
        let mut facts = Facts::default();
        let mt = [("type", "merge_checker")];
        for (i, t) in [0.0, 600.0, 1200.0, 1800.0].iter().enumerate() {
            let i = i as f64;
            facts
                .sched
                .samples
                .push(sample(&[mt[0], ("name", "no-target")], *t, 1000.0 * i, 1));
            facts.sched.samples.push(sample(
                &[mt[0], ("name", "adj-disallow-merge")],
                *t,
                900.0 * i,
                2,
            ));
            facts
                .sched
                .samples
                .push(sample(&[mt[0], ("name", "adj-not-exist")], *t, 10.0 * i, 3));
            facts
                .sched
                .samples
                .push(sample(&[mt[0], ("name", "check")], *t, 1e6 * i, 4));
            // Rises only in the first interval, right after the counter restarted at 0.
            let v = if i == 0.0 { 0.0 } else { 500.0 };
            facts
                .sched
                .samples
                .push(sample(&[mt[0], ("name", "skip-uninit-region")], *t, v, 5));
        }
        // A PD start at t=0 (process_start_time_seconds of the same instance would do too).
        let inputs = meta();
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        let f = rs.evaluate_ctx(&ctx);
        // no-leader rose 500 in the first 10 minutes: without a known start it counts.
        let names: Vec<&str> = f.iter().map(|x| x.title.as_str()).collect();
        assert_eq!(names, vec!["adj-disallow-merge", "no-leader"]);
        assert!(f[0].summary.contains("align at <pd-addr>"));
        assert!(f[0].summary.contains("`no-target`, which rose by 3000"));
        // With the start known, the burst right after it is expected.
        let mut l = sample(&[("instance", "10.0.1.1:2379")], 0.0, 0.0, 9);
        l.name = "process_start_time_seconds".into();
        for s in facts.sched.samples.iter_mut() {
            s.labels.push(("instance".into(), "10.0.1.1:2379".into()));
            s.labels.sort();
        }
        facts.sched.samples.push(l);
        let ctx = EvalCtx {
            facts: &facts,
            inputs: &inputs,
        };
        let f = rs.evaluate_ctx(&ctx);
        let names: Vec<&str> = f.iter().map(|x| x.title.as_str()).collect();
        assert_eq!(names, vec!["adj-disallow-merge"]);
    }

    #[test]
    fn series_increase_handles_resets_and_lone_samples() {
        let a = sample(&[], 0.0, 10.0, 1);
        let b = sample(&[], 10.0, 30.0, 2);
        let c = sample(&[], 20.0, 5.0, 3);
        let s = Series {
            labels: &[],
            samples: vec![&a, &b, &c],
        };
        assert_eq!(s.increase(None), 25.0);
        assert_eq!(s.increase(Some(10.0)), 5.0);
        assert_eq!(s.increase(Some(15.0)), 0.0);
        assert_eq!(s.resets(), vec![20.0]);
        let lone = Series {
            labels: &[],
            samples: vec![&b],
        };
        assert_eq!(lone.increase(None), 30.0);
    }
}
