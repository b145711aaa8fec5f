//! `crdb.decommission-one-by-one`: nodes decommissioned in separate commands instead of one.

use super::crdb::*;
use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, evidence_of, loc_evidence};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------
// crdb.decommission-one-by-one
// ---------------------------------------------------------------------------------------

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("at-time", &["time"]),
    ("at-unknown-time", &[]),
    ("started", &["nodes", "when", "finished"]),
    ("finished-at", &["time"]),
    ("separate-run", &["nodes", "finished"]),
    ("run-finished", &[]),
    ("then", &[]),
    ("live-host-unknown", &[]),
    ("no-input", &[]),
];

/// One decommission command as the membership events show it.
struct StartGroup<'a> {
    stamp: Option<i64>,
    first: Option<Time>,
    targets: BTreeSet<u64>,
    events: Vec<&'a DecomEvent<'a>>,
}

pub(super) fn one_by_one(rule: &Sets<'_>, ctx: &EvalCtx<'_>, tx: &Texts) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let decom = decom_events(rule, ctx);
    let mut groups: Vec<StartGroup<'_>> = Vec::new();
    for d in decom
        .iter()
        .filter(|d| d.kind == DecomKind::Decommissioning)
    {
        let time = d.ev.time;
        // One command stamps all its targets with the same Timestamp; without stamps, events
        // within a minute are taken as one command.
        let same = |g: &StartGroup<'_>| match (d.stamp, g.stamp) {
            (Some(a), Some(b)) => a == b,
            _ => match (time, g.first) {
                (Some(a), Some(b)) => (a - b).num_seconds().abs() < 60,
                _ => false,
            },
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => {
                g.targets.insert(d.target);
                g.events.push(d);
            }
            None => groups.push(StartGroup {
                stamp: d.stamp,
                first: time,
                targets: BTreeSet::from([d.target]),
                events: vec![d],
            }),
        }
    }
    // Only commands that add nodes count (re-running the same decommission is fine), and
    // only when they started at least a minute apart.
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let mut kept: Vec<&StartGroup<'_>> = Vec::new();
    for g in &groups {
        if g.targets.iter().any(|id| !seen.contains(id)) {
            if let (Some(prev), Some(first)) = (kept.last().and_then(|k| k.first), g.first)
                && (first - prev).num_seconds() < 60
            {
                seen.extend(g.targets.iter().copied());
                continue;
            }
            seen.extend(g.targets.iter().copied());
            kept.push(g);
        }
    }
    let mut hit = Hit::default();
    let mut all: BTreeSet<u64> = BTreeSet::new();
    let mut steps: Vec<String> = Vec::new();
    if kept.len() >= 2 {
        for g in &kept {
            all.extend(g.targets.iter().copied());
            let when = g.first.map_or_else(
                || tx.text("at-unknown-time"),
                |t| tx.render("at-time", &[("time", fmt_time(t))]),
            );
            let done = decom
                .iter()
                .filter(|d| d.kind == DecomKind::Decommissioned && g.targets.contains(&d.target))
                .filter_map(|d| d.ev.time)
                .max();
            let finished = done.map_or(String::new(), |d| {
                tx.render("finished-at", &[("time", fmt_time(d))])
            });
            steps.push(tx.render(
                "started",
                &[
                    ("nodes", node_list(&g.targets)),
                    ("when", when),
                    ("finished", finished),
                ],
            ));
            for d in &g.events {
                hit.evidence.push(evidence_of(d.ev));
            }
            for d in decom
                .iter()
                .filter(|d| d.kind == DecomKind::Decommissioned && g.targets.contains(&d.target))
            {
                hit.evidence.push(evidence_of(d.ev));
            }
        }
    } else {
        // CLI captures: separate runs over disjoint sets of live nodes, the earlier finished.
        let runs: Vec<&Run<'_>> = t
            .runs
            .iter()
            .filter(|r| {
                !r.recommission
                    && r.snaps
                        .first()
                        .is_some_and(|s| s.rows.iter().all(|row| row.is_live == Some(true)))
            })
            .collect();
        let mut chain: Vec<&Run<'_>> = Vec::new();
        for r in runs {
            if chain.iter().all(|c| c.ids.is_disjoint(&r.ids))
                && chain.last().is_none_or(|c| c.finished())
            {
                chain.push(r);
            }
        }
        if chain.len() < 2 {
            return Vec::new();
        }
        for r in &chain {
            all.extend(r.ids.iter().copied());
            let finished = if r.finished() {
                tx.text("run-finished")
            } else {
                String::new()
            };
            steps.push(tx.render(
                "separate-run",
                &[("nodes", node_list(&r.ids)), ("finished", finished)],
            ));
            hit.evidence
                .push(loc_evidence(loc(r.input, r.first_line())));
            if let Some(c) = r.completed {
                hit.evidence.push(loc_evidence(loc(r.input, c)));
            }
        }
    }
    if all.len() < 2 {
        return Vec::new();
    }
    hit.var("nodes", id_args(&all));
    hit.var("node_list", node_list(&all));
    hit.var("count", kept.len().max(steps.len()));
    hit.var("detail", steps.join(&tx.text("then")));
    hit.var(
        "live_host",
        t.live_host()
            .unwrap_or_else(|| tx.text("live-host-unknown")),
    );
    hit.entities.nodes = all.iter().map(|i| format!("n{i}")).collect();
    dedup_cap(&mut hit.evidence);
    vec![hit]
}
