//! `crdb.unclean-shutdown`: a hard shutdown during shutdown, or a restart with no clean
//! shutdown before it.

use super::crdb::*;
use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, events_in, evidence_of};
use crate::model::units::human_secs;
use crate::model::{InputId, LogEvent};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// crdb.unclean-shutdown
// ---------------------------------------------------------------------------------------

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("hard", &["count", "first", "message"]),
    ("hard-first", &["time"]),
    ("reason-definite", &[]),
    ("reason-weak", &[]),
    ("restart", &["at", "down", "graceful"]),
    ("at-time", &["time"]),
    ("down-for", &["gap"]),
    ("graceful", &["at"]),
    ("node-top-level", &[]),
    ("node-in-dir", &["dir"]),
    ("no-input", &[]),
];

/// A log file of the main (OPS/DEV) log, not a per-channel file (`cockroach-pebble...`,
/// `cockroach-health...`): restarts and shutdown lines are written there.
fn main_log(ctx: &EvalCtx<'_>, input: InputId) -> bool {
    let path = ctx.input(input).map_or("", |m| m.path.as_str());
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    !name.starts_with("cockroach-")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    /// `node_join` (first start) or `node_restart`: a server process started.
    Start,
    Restart,
    /// `initiating graceful shutdown of server`: a shutdown began.
    Graceful,
    /// `server drained and shutdown completed`, `too early to drain; used hard shutdown
    /// instead` (an intended fast exit), or a drain request with `shutdown = true`.
    Completed,
    /// `received signal ... during shutdown, initiating hard shutdown`, `time limit
    /// reached, initiating hard shutdown`.
    Hard,
}

fn classify_shutdown(ev: &LogEvent) -> Option<Mark> {
    let m = &ev.message;
    if m.contains("during shutdown, initiating hard shutdown")
        || m.contains("time limit reached, initiating hard shutdown")
    {
        return Some(Mark::Hard);
    }
    // `cockroach quit` (and drain with shutdown) ask the server to stop itself: an intended
    // stop whose process exits without the start command's completion line.
    if m.contains("server drained and shutdown completed")
        || m.contains("too early to drain; used hard shutdown instead")
        || (m.contains("drain request received") && m.contains("shutdown = true"))
    {
        return Some(Mark::Completed);
    }
    if m.contains("initiating graceful shutdown of server") {
        return Some(Mark::Graceful);
    }
    match event_name(ev).as_deref() {
        Some("node_restart") => Some(Mark::Restart),
        Some("node_join") => Some(Mark::Start),
        _ => None,
    }
}

pub(super) fn unclean_shutdown(rule: &Sets<'_>, ctx: &EvalCtx<'_>, tx: &Texts) -> Vec<Hit> {
    let nodes = InputNodes::new(ctx);
    let mut by_node: BTreeMap<String, Vec<(Mark, &LogEvent)>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for ev in events_in(rule, "shutdown", ctx) {
        let Some(mark) = classify_shutdown(ev) else {
            continue;
        };
        // Positive evidence may sit in any file; the timeline of starts and clean stops
        // only in the main log.
        if mark != Mark::Hard && !main_log(ctx, ev.loc.input) {
            continue;
        }
        let key = nodes.key(ctx, ev.loc.input);
        // The same entry twice: a copied `cockroach.log`, or an `Error: ...` continuation.
        let id = (
            key.clone(),
            mark,
            ev.time.map(|t| t.timestamp_micros()),
            if mark == Mark::Hard {
                String::new()
            } else {
                ev.message.clone()
            },
        );
        if !seen.insert(id) {
            continue;
        }
        by_node.entry(key).or_default().push((mark, ev));
    }
    let mut hits = Vec::new();
    for (key, mut marks) in by_node {
        marks.sort_by_key(|(_, e)| (e.time, e.loc));
        let hard: Vec<&LogEvent> = marks
            .iter()
            .filter(|(m, _)| *m == Mark::Hard)
            .map(|(_, e)| *e)
            .collect();
        // Restarts with no completed (or forced) stop since the previous server start, which
        // must itself be in the bundle: without the previous run's log nothing is known.
        struct Weak<'a> {
            restart: &'a LogEvent,
            prev: &'a LogEvent,
            graceful: Option<&'a LogEvent>,
        }
        let mut weak: Vec<Weak<'_>> = Vec::new();
        for (i, (m, ev)) in marks.iter().enumerate() {
            if *m != Mark::Restart {
                continue;
            }
            let before = &marks[..i];
            let Some(prev) = before
                .iter()
                .rposition(|(m, _)| matches!(m, Mark::Start | Mark::Restart))
            else {
                continue;
            };
            let window = &before[prev..];
            if window
                .iter()
                .any(|(m, _)| matches!(m, Mark::Completed | Mark::Hard))
            {
                continue;
            }
            weak.push(Weak {
                restart: ev,
                prev: before[prev].1,
                graceful: window
                    .iter()
                    .rev()
                    .find(|(m, _)| *m == Mark::Graceful)
                    .map(|(_, e)| *e),
            });
        }
        if hard.is_empty() && weak.is_empty() {
            continue;
        }
        let mut hit = Hit::default();
        match key_node(&key) {
            Some(id) => {
                hit.var("node", id);
                hit.var("node_list", format!("n{id}"));
                hit.entities.nodes.push(format!("n{id}"));
            }
            None => hit.var("node_list", key_display(&key, tx)),
        }
        let mut why = Vec::new();
        if !hard.is_empty() {
            hit.var("count", hard.len());
            let first = hard.iter().filter_map(|e| e.time).min();
            let first = first.map_or(String::new(), |t| {
                tx.render("hard-first", &[("time", fmt_time(t))])
            });
            why.push(tx.render(
                "hard",
                &[
                    ("count", hard.len().to_string()),
                    ("first", first),
                    ("message", hard[0].message.trim().to_string()),
                ],
            ));
            hit.evidence
                .extend(hard.iter().take(4).map(|e| evidence_of(e)));
            hit.var("reason", tx.text("reason-definite"));
        } else {
            hit.var("count", weak.len());
            hit.var("reason", tx.text("reason-weak"));
        }
        for w in weak.iter().take(3) {
            let down = match (
                w.restart.field("ev.StartedAt"),
                w.restart.field("ev.LastUp"),
            ) {
                (Some(s), Some(l)) => match (s.parse::<i64>(), l.parse::<i64>()) {
                    (Ok(s), Ok(l)) if s > l => {
                        tx.render("down-for", &[("gap", human_secs((s - l) / 1_000_000_000))])
                    }
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let at = |t: Option<Time>| {
                t.map_or(String::new(), |t| {
                    tx.render("at-time", &[("time", fmt_time(t))])
                })
            };
            let graceful = match w.graceful {
                Some(g) => tx.render("graceful", &[("at", at(g.time))]),
                None => String::new(),
            };
            why.push(tx.render(
                "restart",
                &[
                    ("at", at(w.restart.time)),
                    ("down", down),
                    ("graceful", graceful),
                ],
            ));
            hit.evidence.push(evidence_of(w.restart));
            if let Some(g) = w.graceful {
                hit.evidence.push(evidence_of(g));
            }
            hit.evidence.push(evidence_of(w.prev));
        }
        hit.var("detail", why.join("; "));
        dedup_cap(&mut hit.evidence);
        hits.push(hit);
    }
    hits
}
