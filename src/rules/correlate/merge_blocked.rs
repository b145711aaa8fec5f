//! `pd.merge-blocked`: the dominant merge-checker skip reasons (`pd_checker_event_count`),
//! counted from the PD start that let them settle, one finding per reason.

use super::NeedleSet;
use super::series::*;
use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, events_in, evidence_of, fmt_unix, join, pd_addr};
use crate::model::LogEvent;
use crate::model::units::{human_secs, parse_go_duration};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("outcome-cause", &["outcome", "count", "share"]),
    ("outcome-share", &["share"]),
    ("settle", &["settle"]),
    ("why-default", &["reason"]),
    ("fix-default", &[]),
    ("unknown-time", &[]),
    ("no-input", &[]),
];

fn default_max_findings() -> usize {
    10
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
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
pub struct GroupWords {
    why: String,
    fix: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetricThresholdSpec {
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
pub struct MetricGate {
    metric: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// The largest latest value among matching series must reach `min` and stay ≤ `max`.
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

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
fn start_times(rule: &Sets<'_>, ctx: &EvalCtx<'_>, series: &[Series<'_>]) -> Vec<f64> {
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

pub(super) fn metric_threshold(
    spec: &MetricThresholdSpec,
    rule: &Sets<'_>,
    ctx: &EvalCtx<'_>,
    tx: &Texts,
) -> Vec<Hit> {
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
                Some(o) => tx.render(
                    "outcome-cause",
                    &[
                        ("outcome", o.name.clone()),
                        ("count", fmt_num(o.value)),
                        ("share", share.clone()),
                    ],
                ),
                None => tx.render("outcome-share", &[("share", share.clone())]),
            },
        );
        hit.var(
            "settle",
            match settle_notes.get(&g.name) {
                Some(settle) => tx.render("settle", &[("settle", human_secs(*settle as i64))]),
                None => String::new(),
            },
        );
        let mut vars = hit.vars.clone();
        vars.entry("pd".into()).or_insert_with(|| pd.clone());
        let words = spec.explain.get(&g.name);
        let render = |t: &str| crate::rules::template::render(t, &vars).unwrap_or_else(|m| m);
        hit.var(
            "why",
            words.map_or_else(
                || tx.render("why-default", &[("reason", g.name.clone())]),
                |w| render(&w.why),
            ),
        );
        hit.var(
            "fix",
            words.map_or_else(|| tx.text("fix-default"), |w| render(&w.fix)),
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
        hit.var("first", fmt_unix(first, tx));
        hit.var("last", fmt_unix(last, tx));
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

/// Checks the spec at load time and returns the needle sets it needs.
pub fn needle_sets(s: &MetricThresholdSpec) -> Result<Vec<NeedleSet>, String> {
    if s.metric.is_empty() {
        return Err("merge-blocked needs a metric name".into());
    }
    for d in s.settle.values() {
        parse_go_duration(d)
            .ok_or_else(|| format!("settle: {d:?} is not a duration like 30m or 1h0m0s"))?;
    }
    if !s.only_with.is_empty() && s.only_with_metrics.is_empty() {
        return Err("only-with needs only-with-metrics".into());
    }
    if s.min_share.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
        return Err("min-share must lie in 0..1".into());
    }
    super::check_kinds(&s.inputs)?;
    for w in s.explain.values() {
        crate::rules::template::check(&w.why, &[])?;
        crate::rules::template::check(&w.fix, &[])?;
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
