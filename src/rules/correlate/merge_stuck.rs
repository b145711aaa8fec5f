//! `pd.merge-operator-stuck`: a merge operator that neither finishes nor is cleaned up, the
//! step it stalled at, and the normal end of a merge (the source's operator removed because
//! its region disappeared right after the target's finished) left alone.

use super::NeedleSet;
use super::texts::Keys;
use super::{
    EvalCtx, Hit, Sets, Texts, event_text, evidence_of, fmt_time, input_horizons, join,
    loc_evidence,
};
use crate::model::operator::{Operator, step_action, step_stores};
use crate::model::units::{human_secs, parse_go_duration};
use crate::model::{EvidenceRef, Location, LogEvent};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("step-unknown", &[]),
    ("step-of", &["n", "total"]),
    ("step-n", &["n"]),
    ("step-no-unknown", &[]),
    ("unknown-time", &[]),
    ("failed", &["message", "time", "cancel"]),
    ("cancel-reason", &["reason"]),
    ("followed", &["message", "time"]),
    ("listed-timed-out", &[]),
    ("listed-same-step", &["count"]),
    ("open", &["age", "horizon", "allowed"]),
    ("state-timed-out", &[]),
    ("state-expired", &[]),
    ("state-replaced", &[]),
    ("state-removed", &[]),
    ("state-stale", &[]),
    ("state-canceled", &[]),
    ("state-stalled", &[]),
    ("others", &["count"]),
    ("no-input", &[]),
];

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SeqMode {
    /// A with no B within the window (or A ended by a failure line).
    Without,
    /// A followed by B within the window.
    Then,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogSequenceSpec {
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

/// The operator a line names (the parser read its `operator` field).
fn event_op(ev: &LogEvent, spec: &LogSequenceSpec) -> Option<Operator> {
    spec.operator_field.as_deref()?;
    ev.operator.as_deref().cloned()
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

pub(super) fn log_sequence(
    spec: &LogSequenceSpec,
    rule: &Sets<'_>,
    ctx: &EvalCtx<'_>,
    tx: &Texts,
) -> Vec<Hit> {
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
    render_sequences(spec, ctx, done, window, &horizons, tx)
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
            let timed_out = op.end == Some(crate::model::operator::OpEnd::Timeout)
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
    tx: &Texts,
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
            None => hit.var("step", tx.text("step-unknown")),
        }
        hit.var(
            "step_no",
            match (index, steps_len) {
                (Some(i), n) if n > 0 && op.is_some_and(|o| o.steps_complete) => tx.render(
                    "step-of",
                    &[("n", (i + 1).to_string()), ("total", n.to_string())],
                ),
                (Some(i), _) => tx.render("step-n", &[("n", (i + 1).to_string())]),
                _ => tx.text("step-no-unknown"),
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
        hit.var("first", fmt_time(t0, tx));
        hit.var("last", fmt_time(t_end, tx));
        let reason = match (fail, spec.mode) {
            (Some(f), SeqMode::Without) => {
                let why = f
                    .field("additional-info")
                    .or_else(|| f.field("additional info"))
                    .and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok())
                    .and_then(|v| v.get("cancel-reason")?.as_str().map(str::to_string))
                    .filter(|r| !r.is_empty())
                    .map(|r| tx.render("cancel-reason", &[("reason", r)]))
                    .unwrap_or_default();
                tx.render(
                    "failed",
                    &[
                        ("message", f.message.clone()),
                        ("time", fmt_time(f.time, tx)),
                        ("cancel", why),
                    ],
                )
            }
            (Some(f), SeqMode::Then) => tx.render(
                "followed",
                &[
                    ("message", f.message.clone()),
                    ("time", fmt_time(f.time, tx)),
                ],
            ),
            (None, _) if !main.listed.is_empty() => {
                if main.listed.iter().any(|l| l.2) {
                    tx.text("listed-timed-out")
                } else {
                    tx.render(
                        "listed-same-step",
                        &[("count", main.listed.len().to_string())],
                    )
                }
            }
            (None, _) => tx.render(
                "open",
                &[
                    ("age", human_secs(age)),
                    ("horizon", fmt_time(horizon, tx)),
                    (
                        "allowed",
                        human_secs(window.max(op.and_then(|o| o.timeout_secs()).unwrap_or(0))),
                    ),
                ],
            ),
        };
        // The end PD logged, by the words of its message.
        let state = match fail {
            Some(f) if f.message.contains("timeout") => "state-timed-out",
            Some(f) if f.message.contains("expired") => "state-expired",
            Some(f) if f.message.contains("replace") => "state-replaced",
            Some(f) if f.message.contains("removed") => "state-removed",
            Some(f) if f.message.contains("stale") => "state-stale",
            Some(_) => "state-canceled",
            None if main.listed.iter().any(|l| l.2) => "state-timed-out",
            None => "state-stalled",
        };
        hit.var("state", tx.text(state));
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
                    tx.render("others", &[("count", others.to_string())])
                } else {
                    String::new()
                },
            );
            h
        })
        .collect()
}

fn check_duration(what: &str, s: &str) -> Result<i64, String> {
    parse_go_duration(s)
        .ok_or_else(|| format!("{what}: {s:?} is not a duration like 30m or 1h0m0s"))
}

/// Checks the spec at load time and returns the needle sets it needs.
pub fn needle_sets(s: &LogSequenceSpec) -> Result<Vec<NeedleSet>, String> {
    if s.key.is_empty() {
        return Err("merge-operator-stuck needs at least one key field".into());
    }
    if s.start.is_empty() || s.end.is_empty() {
        return Err("merge-operator-stuck needs start and end needles".into());
    }
    check_duration("window", &s.window)?;
    if let Some(g) = &s.grace {
        check_duration("grace", g)?;
    }
    super::check_kinds(&s.inputs)?;
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
