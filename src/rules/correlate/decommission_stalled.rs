//! `crdb.decommission-stalled`: a decommission that cannot finish (pre-flight block, stall
//! report, allocator error, replica count that stops falling), with its cause when the bundle
//! shows it.

use super::crdb::*;
use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, events_in, evidence_of, loc_evidence};
use crate::model::EvidenceRef;
use crate::model::crdb::TableKind;
use crate::model::units::human_secs;
use chrono::NaiveDateTime;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// crdb.decommission-stalled
// ---------------------------------------------------------------------------------------

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("cli-stall", &[]),
    ("preflight-blocked", &["replicas"]),
    ("server-stall", &[]),
    ("allocator-error", &[]),
    ("throttled-repeat", &["checks"]),
    ("plateau-time", &["node", "count", "span", "snapshots"]),
    ("plateau-tables", &["node", "count", "tables"]),
    ("ranges-unlisted", &[]),
    ("ranges-more", &["shown", "more"]),
    ("replicas-unknown", &[]),
    ("cause-constraints", &["error"]),
    (
        "cause-too-few-nodes",
        &["count", "others", "targets", "total", "rf", "rf_how"],
    ),
    (
        "cause-too-few-inferred",
        &["count", "targets", "total", "size_how", "rf", "rf_how"],
    ),
    ("too-few-left", &["node", "replicas", "count", "rf"]),
    ("rf-assumed", &[]),
    ("rf-zones", &[]),
    ("size-starts", &["n"]),
    ("size-join", &["n"]),
    ("size-logs", &["n"]),
    ("assume-size", &["n", "how"]),
    ("assume-rf", &[]),
    ("no-nodes", &[]),
    ("cause-not-enough-nodes", &["error"]),
    ("cause-throttled", &["error"]),
    ("cause-allocator", &["error"]),
    ("cause-unknown", &[]),
    ("live-host-unknown", &[]),
    ("no-input", &[]),
];

/// Why the allocator cannot place a replica, from its error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum AllocCause {
    /// `(N throttled, ...)` without constraints, or `currently throttled`: snapshot
    /// reservations, usually gone in seconds.
    Throttled,
    NotEnoughNodes,
    Constraints,
    Other,
}

fn classify_alloc(err: &str) -> AllocCause {
    if err.contains("must match constraints") || err.contains("voter_constraints") {
        AllocCause::Constraints
    } else if err.contains("likely not enough nodes") {
        AllocCause::NotEnoughNodes
    } else if err.contains("currently throttled") || err.contains(" throttled, ") {
        AllocCause::Throttled
    } else {
        AllocCause::Other
    }
}

/// `n3 still has replica id 2 for range r1` → (3, 1).
fn parse_stall_line(msg: &str) -> Option<(u64, u64)> {
    let p = msg.find(" still has replica id ")?;
    let node = msg[..p]
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()?;
    let node = parse_node_name(node)?;
    let rest = &msg[p..];
    let r = rest.find(" for range r")? + " for range r".len();
    let digits: String = rest[r..].chars().take_while(char::is_ascii_digit).collect();
    Some((node, digits.parse().ok()?))
}

#[derive(Default)]
struct StallSig {
    evidence: Vec<EvidenceRef>,
    ranges: BTreeSet<u64>,
    /// What showed the stall, for the summary.
    how: BTreeSet<String>,
    errors: Vec<(AllocCause, String)>,
    preflight: bool,
    replicas: Option<u64>,
    /// Concluded from the cluster's size alone (no stall report, no plateau).
    structural: bool,
}

pub(super) fn decommission_stalled(rule: &Sets<'_>, ctx: &EvalCtx<'_>, tx: &Texts) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let decom = decom_events(rule, ctx);
    let mut sigs: BTreeMap<u64, StallSig> = BTreeMap::new();
    // Throttled pre-flight/allocator errors per node, as (source, evidence): only a repeat
    // across separate checks counts.
    let mut throttled: BTreeMap<u64, Vec<(String, EvidenceRef, String)>> = BTreeMap::new();

    // Nodes whose decommission is under way (to attach log-only signals that name no node).
    let mut decommissioning: BTreeSet<u64> = t
        .node_ids()
        .into_iter()
        .filter(|id| t.latest(*id).is_some_and(|o| o.decommissioning()))
        .collect();
    for d in &decom {
        match d.kind {
            DecomKind::Decommissioning => {
                decommissioning.insert(d.target);
            }
            DecomKind::Decommissioned | DecomKind::Recommissioned => {
                decommissioning.remove(&d.target);
            }
        }
    }

    // 1. CLI captures: stall reports and pre-flight blocks.
    for (input, tb) in &ctx.facts.crdb.tables {
        let stall_marks: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("possible decommission stall detected"))
            .map(|m| m.line)
            .collect();
        for s in &tb.stall_replicas {
            let sig = sigs.entry(s.node).or_default();
            if let Some(m) = stall_marks.iter().rev().find(|m| **m < s.line) {
                sig.evidence.push(loc_evidence(loc(*input, *m)));
            }
            sig.evidence.push(loc_evidence(loc(*input, s.line)));
            sig.ranges.insert(s.range);
            sig.how.insert(tx.text("cli-stall"));
        }
        // A stall report without replica lines: the nodes of the run it interrupts.
        for m in &stall_marks {
            let named = tb.stall_replicas.iter().any(|s| s.line > *m);
            if named {
                continue;
            }
            if let Some(run) = t
                .runs
                .iter()
                .rfind(|r| r.input == *input && r.first_line() < *m && !r.recommission)
            {
                for id in &run.ids {
                    let sig = sigs.entry(*id).or_default();
                    sig.evidence.push(loc_evidence(loc(*input, *m)));
                    sig.how.insert(tx.text("cli-stall"));
                }
            }
        }
        let block_marks: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("ranges blocking decommission detected"))
            .map(|m| m.line)
            .collect();
        let cannot: Vec<u64> = tb
            .marks
            .iter()
            .filter(|m| m.text.starts_with("ERROR: Cannot decommission nodes"))
            .map(|m| m.line)
            .collect();
        for b in &tb.blocked {
            let cause = classify_alloc(&b.error);
            let block = block_marks.iter().rev().find(|m| **m < b.line).copied();
            if cause == AllocCause::Throttled {
                throttled.entry(b.node).or_default().push((
                    format!("{}:{}", input.0, block.unwrap_or(b.line)),
                    loc_evidence(loc(*input, b.line)),
                    b.error.clone(),
                ));
                continue;
            }
            let sig = sigs.entry(b.node).or_default();
            if let Some(m) = block {
                sig.evidence.push(loc_evidence(loc(*input, m)));
            }
            sig.evidence.push(loc_evidence(loc(*input, b.line)));
            if let Some(c) = cannot.iter().find(|c| **c > b.line) {
                sig.evidence.push(loc_evidence(loc(*input, *c)));
            }
            sig.errors.push((cause, b.error.clone()));
            sig.preflight = true;
            sig.replicas = Some(sig.replicas.unwrap_or(0).max(b.replicas));
            sig.how
                .insert(tx.render("preflight-blocked", &[("replicas", b.replicas.to_string())]));
        }
    }

    // 2. Server logs: the OPS-channel stall warnings and allocator errors.
    let stall_events = events_in(rule, "stall", ctx);
    for ev in &stall_events {
        if let Some((node, range)) = parse_stall_line(&ev.message) {
            let sig = sigs.entry(node).or_default();
            sig.evidence.push(evidence_of(ev));
            sig.ranges.insert(range);
            sig.how.insert(tx.text("server-stall"));
        }
    }
    for ev in &stall_events {
        if !ev.message.contains("possible decommission stall detected") {
            continue;
        }
        // The replica lines follow the warning; without them, every node under way.
        let named: BTreeSet<u64> = stall_events
            .iter()
            .filter(|o| o.loc.input == ev.loc.input && o.loc.line > ev.loc.line)
            .take_while(|o| !o.message.contains("possible decommission stall detected"))
            .filter_map(|o| parse_stall_line(&o.message).map(|(n, _)| n))
            .collect();
        let targets = if named.is_empty() {
            decommissioning.clone()
        } else {
            named
        };
        for id in targets {
            let sig = sigs.entry(id).or_default();
            sig.evidence.insert(0, evidence_of(ev));
            sig.how.insert(tx.text("server-stall"));
        }
    }
    // Allocator errors name no node: they only count while a decommission is under way.
    if !decommissioning.is_empty() {
        for ev in events_in(rule, "alloc", ctx) {
            let Some(p) = ev.message.find("0 of ") else {
                continue;
            };
            let err = ev.message[p..].trim_end_matches('"').to_string();
            let cause = classify_alloc(&err);
            for id in &decommissioning {
                if cause == AllocCause::Throttled {
                    let minute = ev.time.map_or(0, |t| t.timestamp() / 60);
                    throttled.entry(*id).or_default().push((
                        format!("log:{minute}"),
                        evidence_of(ev),
                        err.clone(),
                    ));
                    continue;
                }
                let sig = sigs.entry(*id).or_default();
                if sig.errors.len() < 3 {
                    sig.evidence.push(evidence_of(ev));
                }
                sig.errors.push((cause, err.clone()));
                sig.how.insert(tx.text("allocator-error"));
            }
        }
    }
    // 3. Throttled errors: a single check is a transient reservation window, a repeat is not.
    for (id, list) in throttled {
        let sources: BTreeSet<String> = list.iter().map(|(s, _, _)| s.clone()).collect();
        if sources.len() < 2 {
            continue;
        }
        let sig = sigs.entry(id).or_default();
        for (_, e, err) in list.into_iter().take(3) {
            sig.evidence.push(e);
            sig.errors.push((AllocCause::Throttled, err));
        }
        sig.how
            .insert(tx.render("throttled-repeat", &[("checks", sources.len().to_string())]));
    }
    // 4. A decommissioning node whose replica count stopped falling.
    for id in t.node_ids() {
        if let Some((count, ev, how)) = plateau(&t, id, tx) {
            let sig = sigs.entry(id).or_default();
            sig.evidence.extend(ev);
            sig.replicas = Some(count);
            sig.how.insert(how);
        }
    }

    // 5. One snapshot is enough: a node under way whose replicas have nowhere to go (fewer
    //    live, non-decommissioning nodes than the replication factor). A count still falling
    //    says the snapshot's picture of the cluster is incomplete: then nothing is concluded.
    let (needed, rf_read) = replicas_needed(ctx);
    let room = Room::of(ctx, &t, &decommissioning);
    let mut inferred_only = None;
    if let Some(room) = room.as_ref().filter(|r| r.others < needed) {
        for id in &decommissioning {
            if sigs.contains_key(id) || moving(&t, *id) || t.decommissioned_at(*id).is_some() {
                continue;
            }
            let left = t.latest(*id).and_then(|o| o.row.replicas);
            if left == Some(0) {
                continue;
            }
            let sig = sigs.entry(*id).or_default();
            if let Some(o) = t.latest(*id) {
                sig.evidence.push(loc_evidence(o.loc()));
            }
            sig.replicas = left;
            sig.how.insert(tx.render(
                "too-few-left",
                &[
                    ("node", format!("n{id}")),
                    (
                        "replicas",
                        left.map_or_else(|| tx.text("replicas-unknown"), |n| n.to_string()),
                    ),
                    ("count", room.others.to_string()),
                    ("rf", needed.to_string()),
                ],
            ));
            sig.structural = true;
        }
        if sigs.values().all(|s| s.structural) {
            inferred_only = room.inferred;
        }
    }

    // Drop nodes whose decommission finished or was cancelled since.
    sigs.retain(|id, s| {
        if t.decommissioned_at(*id).is_some()
            || decom
                .iter()
                .any(|d| d.target == *id && d.kind == DecomKind::Decommissioned)
        {
            return false;
        }
        // Recommissioned after a stall: no longer decommissioning (a blocked pre-flight
        // never started, so it still stands).
        let recommissioned = decom
            .iter()
            .rfind(|d| d.target == *id)
            .is_some_and(|d| d.kind == DecomKind::Recommissioned);
        s.preflight || !(recommissioned || t.latest(*id).is_some_and(|o| o.active()))
    });
    if sigs.is_empty() {
        return Vec::new();
    }

    let targets: BTreeSet<u64> = sigs.keys().copied().collect();
    let mut hit = Hit::default();
    hit.var("nodes", id_args(&targets));
    hit.var("node_list", node_list(&targets));
    hit.var(
        "live_host",
        t.live_host()
            .unwrap_or_else(|| tx.text("live-host-unknown")),
    );
    for id in &targets {
        hit.entities.nodes.push(format!("n{id}"));
    }
    let mut ranges = BTreeSet::new();
    let mut how = BTreeSet::new();
    let mut errors: Vec<(AllocCause, String)> = Vec::new();
    let mut replicas = Vec::new();
    for (id, s) in &sigs {
        ranges.extend(s.ranges.iter().copied());
        how.extend(s.how.iter().cloned());
        errors.extend(s.errors.iter().cloned());
        let left = s
            .replicas
            .or_else(|| t.latest(*id).and_then(|o| o.row.replicas));
        if let Some(r) = left {
            replicas.push(format!("n{id}: {r}"));
        }
    }
    hit.entities.ranges = ranges.iter().copied().collect();
    let shown: Vec<String> = ranges.iter().take(10).map(|r| format!("r{r}")).collect();
    hit.var(
        "ranges",
        if shown.is_empty() {
            tx.text("ranges-unlisted")
        } else if ranges.len() > shown.len() {
            tx.render(
                "ranges-more",
                &[
                    ("shown", shown.join(", ")),
                    ("more", (ranges.len() - shown.len()).to_string()),
                ],
            )
        } else {
            shown.join(", ")
        },
    );
    hit.var(
        "replicas",
        if replicas.is_empty() {
            tx.text("replicas-unknown")
        } else {
            replicas.join(", ")
        },
    );
    hit.var("detail", how.into_iter().collect::<Vec<_>>().join("; "));

    let room = Room::of(ctx, &t, &targets);
    let (cause, cause_ev, size_assumed) =
        stall_cause(room.as_ref(), (needed, rf_read), &targets, &errors, tx);
    hit.var("cause", cause);
    if let Some(a) = size_assumed {
        hit.assumptions.push(a);
        if rf_read.is_none() {
            hit.assumptions.push(tx.text("assume-rf"));
        }
    } else if rf_read.is_none() && sigs.values().any(|s| s.structural) {
        hit.assumptions.push(tx.text("assume-rf"));
    }
    // Concluded from a cluster size the bundle only suggests (no status table): a warning,
    // and from a --join list alone only a possibility.
    if let Some((source, _)) = inferred_only {
        hit.severity = Some(crate::model::Severity::Warning);
        if source.lower_bound_only() {
            hit.confidence = Some(crate::model::Confidence::Possible);
        }
    }

    // The stall lines first (a few per node: they repeat every report), then the rows that
    // show the cause, then the decommission events.
    let per_node = (MAX_EVIDENCE / 2 / sigs.len()).max(2);
    for s in sigs.values() {
        let mut ev = s.evidence.clone();
        dedup_cap(&mut ev);
        hit.evidence.extend(ev.into_iter().take(per_node));
    }
    hit.evidence.extend(cause_ev.into_iter().take(4));
    for d in decom.iter().filter(|d| targets.contains(&d.target)).take(2) {
        hit.evidence.push(evidence_of(d.ev));
    }
    dedup_cap(&mut hit.evidence);
    vec![hit]
}

/// Names the cause when the bundle shows it, with the rows that show it, and the cluster
/// size it assumed when no status table lists the nodes.
fn stall_cause(
    room: Option<&Room>,
    (needed, rf_read): (usize, Option<usize>),
    targets: &BTreeSet<u64>,
    errors: &[(AllocCause, String)],
    tx: &Texts,
) -> (String, Vec<EvidenceRef>, Option<String>) {
    let quote = |e: &str| {
        let cut: String = e.chars().take(240).collect();
        if cut.len() < e.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    if let Some((_, e)) = errors.iter().find(|(c, _)| *c == AllocCause::Constraints) {
        return (
            tx.render("cause-constraints", &[("error", quote(e))]),
            Vec::new(),
            None,
        );
    }
    let rf_how = if rf_read.is_some() {
        tx.text("rf-zones")
    } else {
        tx.text("rf-assumed")
    };
    if let Some(room) = room.filter(|r| r.others < needed) {
        match room.inferred {
            None => {
                let others = if room.other_ids.is_empty() {
                    tx.text("no-nodes")
                } else {
                    node_list(&room.other_ids)
                };
                return (
                    tx.render(
                        "cause-too-few-nodes",
                        &[
                            ("count", room.others.to_string()),
                            ("others", others),
                            ("targets", node_list(targets)),
                            ("total", room.total.to_string()),
                            ("rf", needed.to_string()),
                            ("rf_how", rf_how),
                        ],
                    ),
                    room.evidence.clone(),
                    None,
                );
            }
            Some((source, size)) => {
                let key = match source {
                    SizeSource::Starts => "size-starts",
                    SizeSource::Join => "size-join",
                    SizeSource::Logs => "size-logs",
                };
                let how = tx.render(key, &[("n", size.to_string())]);
                let assumed = tx.render(
                    "assume-size",
                    &[("n", size.to_string()), ("how", how.clone())],
                );
                return (
                    tx.render(
                        "cause-too-few-inferred",
                        &[
                            ("count", room.others.to_string()),
                            ("targets", node_list(targets)),
                            ("total", room.total.to_string()),
                            ("size_how", how),
                            ("rf", needed.to_string()),
                            ("rf_how", rf_how),
                        ],
                    ),
                    room.evidence.clone(),
                    Some(assumed),
                );
            }
        }
    }
    if let Some((_, e)) = errors
        .iter()
        .find(|(c, _)| *c == AllocCause::NotEnoughNodes)
    {
        return (
            tx.render("cause-not-enough-nodes", &[("error", quote(e))]),
            Vec::new(),
            None,
        );
    }
    if let Some((_, e)) = errors.iter().find(|(c, _)| *c == AllocCause::Throttled) {
        return (
            tx.render("cause-throttled", &[("error", quote(e))]),
            Vec::new(),
            None,
        );
    }
    if let Some((_, e)) = errors.first() {
        return (
            tx.render("cause-allocator", &[("error", quote(e))]),
            Vec::new(),
            None,
        );
    }
    (tx.text("cause-unknown"), Vec::new(), None)
}

/// Whether a node's replica count is still falling: its last observations decrease.
fn moving(t: &Tables<'_>, id: u64) -> bool {
    let counts: Vec<u64> = t.of(id).filter_map(|o| o.row.replicas).collect();
    counts.len() >= 2 && counts[counts.len() - 1] < counts[counts.len() - 2]
}

/// The replica count of a decommissioning node stopped falling: the same non-zero count at
/// the end of its observations, over at least 10 minutes of `updated_at`, or over three
/// reprinted decommission tables (the CLI reprints only on change, so another node moved
/// twice while this one did not).
fn plateau(t: &Tables<'_>, id: u64, tx: &Texts) -> Option<(u64, Vec<EvidenceRef>, String)> {
    let obs: Vec<&Obs<'_>> = t
        .of(id)
        .filter(|o| o.decommissioning() && o.row.replicas.is_some())
        .collect();
    let last = obs.last()?;
    let count = last.row.replicas?;
    if count == 0 {
        return None;
    }
    let run: Vec<&&Obs<'_>> = obs
        .iter()
        .rev()
        .take_while(|o| o.row.replicas == Some(count))
        .collect();
    if run.len() < 2 {
        return None;
    }
    let times: Vec<NaiveDateTime> = run.iter().filter_map(|o| o.taken).collect();
    let span = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (*b - *a).num_seconds(),
        _ => 0,
    };
    let progress_tables = run
        .iter()
        .filter(|o| o.kind == TableKind::DecommissionProgress)
        .count();
    let how = if span >= 600 {
        tx.render(
            "plateau-time",
            &[
                ("node", format!("n{id}")),
                ("count", count.to_string()),
                ("span", human_secs(span)),
                ("snapshots", run.len().to_string()),
            ],
        )
    } else if progress_tables >= 3 {
        tx.render(
            "plateau-tables",
            &[
                ("node", format!("n{id}")),
                ("count", count.to_string()),
                ("tables", progress_tables.to_string()),
            ],
        )
    } else {
        return None;
    };
    let mut ev: Vec<EvidenceRef> = run.iter().rev().map(|o| loc_evidence(o.loc())).collect();
    ev.truncate(4);
    Some((count, ev, how))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_lines() {
        assert_eq!(
            parse_stall_line("n3 still has replica id 2 for range r1"),
            Some((3, 1))
        );
        assert_eq!(
            parse_stall_line("[n1] 50  n3 still has replica id 4 for range r7 more"),
            Some((3, 7))
        );
        assert_eq!(parse_stall_line("n3 still has replicas"), None);
    }

    #[test]
    fn allocator_error_forms() {
        use AllocCause::*;
        let e = |s: &str| classify_alloc(s);
        assert_eq!(
            e(
                "0 of 1 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); likely not enough nodes in cluster"
            ),
            NotEnoughNodes
        );
        assert_eq!(
            e(
                "0 of 1 live stores are able to take a new replica for the range (1 already has a replica); likely not enough nodes in cluster"
            ),
            NotEnoughNodes
        );
        assert_eq!(
            e(
                "0 of 2 live stores are able to take a new replica for the range (1 throttled, 1 already has a voter, 0 already have a non-voter)"
            ),
            Throttled
        );
        assert_eq!(
            e(
                "0 of 3 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); replicas must match constraints [{+region=us-east1}]"
            ),
            Constraints
        );
        assert_eq!(
            e(
                "0 of 2 live stores are able to take a new replica for the range (1 already has a replica); must match constraints [{+zone=a}]"
            ),
            Constraints
        );
    }
}
