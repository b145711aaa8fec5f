//! `tikv.unsafe-recovery-status`: the stage PD's online unsafe recovery reached, from
//! `unsafe remove-failed-stores show` answers or PD's stage log lines: finished, failed, or
//! stuck in one stage while some stores have not reported.

use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, events_in, evidence_at, input_horizon, join};
use crate::model::sched::{RecoveryStage, StageKind};
use crate::model::units::human_secs;
use crate::model::{Kind, LogEvent, Severity};
use chrono::NaiveDateTime;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Unsafe recovery status

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("tables-none", &[]),
    ("tables-pending", &[]),
    ("failed", &["err", "unreported"]),
    ("failed-unreported", &["stores"]),
    ("exit-force-leader-error", &["err"]),
    ("finished", &["tables", "meta"]),
    ("finished-meta", &["regions"]),
    ("progress", &["reported", "total"]),
    (
        "stuck",
        &["waited", "heartbeats", "repeats", "progress", "who"],
    ),
    ("stuck-repeats", &["count"]),
    ("stuck-stores", &["stores", "undispatched"]),
    ("stuck-undispatched", &["stores"]),
    ("stuck-unknown-stores", &[]),
    ("in-progress", &["waited", "progress"]),
    ("no-input", &[]),
];

/// Heartbeats (10 s each) a stage may take before it counts as stuck.
const STUCK_SECS: i64 = 60;

struct Run {
    stages: Vec<RecoveryStage>,
    /// How far the source reaches in time (the log's last line, or `show`'s trailer).
    horizon: Option<NaiveDateTime>,
}

fn recovery_runs(rule: &Sets<'_>, ctx: &EvalCtx<'_>) -> Vec<Run> {
    let mut runs = Vec::new();
    // pd.log stage lines, per input, split at each new collect-report stage.
    let mut by_input: BTreeMap<crate::model::InputId, Vec<&LogEvent>> = BTreeMap::new();
    for e in events_in(rule, "stages", ctx) {
        if ctx
            .input(e.loc.input)
            .is_some_and(|m| m.kind == Kind::PdLog)
        {
            by_input.entry(e.loc.input).or_default().push(e);
        }
    }
    for (input, evs) in by_input {
        let horizon = input_horizon(ctx, input).map(|t| t.naive_local());
        let mut cur: Vec<RecoveryStage> = Vec::new();
        for e in evs {
            let Some(st) = ctx.facts.sched.log_stages.iter().find(|s| s.loc == e.loc) else {
                continue;
            };
            if st.kind == StageKind::Other {
                continue;
            }
            let st = st.clone();
            if st.kind == StageKind::CollectReport && !cur.is_empty() {
                runs.push(Run {
                    stages: std::mem::take(&mut cur),
                    horizon,
                });
            }
            cur.push(st);
        }
        if !cur.is_empty() {
            runs.push(Run {
                stages: cur,
                horizon,
            });
        }
    }
    for r in &ctx.facts.sched.recoveries {
        let horizon = r.stages.iter().filter_map(|s| s.time).max();
        runs.push(Run {
            stages: r.stages.clone(),
            horizon,
        });
    }
    runs
}

pub(super) fn unsafe_recovery_status(rule: &Sets<'_>, ctx: &EvalCtx<'_>, tx: &Texts) -> Vec<Hit> {
    let runs = recovery_runs(rule, ctx);
    // The newest run: by its last stage time; `show` outputs (listed last) win ties.
    let Some(run) = runs
        .iter()
        .enumerate()
        .max_by_key(|(i, r)| (r.stages.iter().filter_map(|s| s.time).max(), *i))
        .map(|(_, r)| r)
    else {
        return Vec::new();
    };
    let stages: Vec<&RecoveryStage> = run
        .stages
        .iter()
        .filter(|s| s.kind.is_stage() && s.kind != StageKind::Idle)
        .collect();
    let Some(last) = stages.last().copied() else {
        return Vec::new();
    };
    let trailer = run
        .stages
        .iter()
        .rev()
        .take_while(|s| !s.kind.is_stage())
        .find(|s| matches!(s.kind, StageKind::Progress { .. }));
    let failed_stores: Vec<u64> = stages
        .iter()
        .flat_map(|s| s.failed_stores())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut hit = Hit::default();
    hit.var("stage", last.kind.name());
    if !failed_stores.is_empty() {
        hit.var("failed_stores", join(&failed_stores));
    }
    hit.entities.stores.extend(failed_stores.iter().copied());
    let tables_of = |s: &RecoveryStage| {
        let t = s.affected_tables();
        if t.is_empty() {
            tx.text("tables-none")
        } else {
            join(&t)
        }
    };
    hit.var("tables", tx.text("tables-pending"));
    let detail;
    match &last.kind {
        StageKind::Failed(err) => {
            hit.severity = Some(Severity::Critical);
            hit.var("err", err);
            hit.var("tables", tables_of(last));
            let unreported = last.unreported_stores();
            let unreported = if unreported.is_empty() {
                String::new()
            } else {
                hit.entities.stores.extend(unreported.iter().copied());
                tx.render("failed-unreported", &[("stores", join(&unreported))])
            };
            detail = tx.render(
                "failed",
                &[("err", err.to_string()), ("unreported", unreported)],
            );
        }
        StageKind::ExitForceLeader if last.error_detail().is_some() => {
            let err = last.error_detail().unwrap_or_default().to_string();
            hit.severity = Some(Severity::Critical);
            hit.var("err", &err);
            detail = tx.render("exit-force-leader-error", &[("err", err)]);
        }
        StageKind::Finished => {
            hit.severity = Some(Severity::Info);
            let tables = tables_of(last);
            hit.var("tables", &tables);
            let meta = last.affected_meta_regions();
            let meta = if meta.is_empty() {
                String::new()
            } else {
                hit.entities.regions.extend(meta.iter().copied());
                tx.render("finished-meta", &[("regions", join(&meta))])
            };
            detail = tx.render("finished", &[("tables", tables), ("meta", meta)]);
        }
        kind => {
            let entered = last.time;
            let now = trailer.and_then(|t| t.time).or(run.horizon);
            let waited = match (entered, now) {
                (Some(a), Some(b)) => (b - a).num_seconds(),
                _ => 0,
            };
            let repeats = stages.iter().rev().take_while(|s| s.kind == *kind).count();
            let unreported = trailer.map(|t| t.unreported_stores()).unwrap_or_default();
            let undispatched = trailer.map(|t| t.undispatched_stores()).unwrap_or_default();
            let progress = match trailer.map(|t| &t.kind) {
                Some(StageKind::Progress {
                    reported: Some(a),
                    total: Some(b),
                }) => tx.render(
                    "progress",
                    &[("reported", a.to_string()), ("total", b.to_string())],
                ),
                _ => String::new(),
            };
            if waited >= STUCK_SECS || repeats >= 3 {
                hit.severity = Some(Severity::Warning);
                let mut who: Vec<u64> = unreported.clone();
                who.extend(undispatched.iter().copied());
                if let Some(s) = who.first() {
                    hit.var("store", s);
                    hit.var("stores", join(&who));
                }
                hit.entities.stores.extend(who.iter().copied());
                let repeated = if repeats > 1 {
                    tx.render("stuck-repeats", &[("count", repeats.to_string())])
                } else {
                    String::new()
                };
                let who = if who.is_empty() {
                    tx.text("stuck-unknown-stores")
                } else {
                    let undispatched = if undispatched.is_empty() {
                        String::new()
                    } else {
                        tx.render("stuck-undispatched", &[("stores", join(&undispatched))])
                    };
                    tx.render(
                        "stuck-stores",
                        &[
                            ("stores", join(&unreported)),
                            ("undispatched", undispatched),
                        ],
                    )
                };
                detail = tx.render(
                    "stuck",
                    &[
                        ("waited", human_secs(waited)),
                        ("heartbeats", (waited / 10).to_string()),
                        ("repeats", repeated),
                        ("progress", progress),
                        ("who", who),
                    ],
                );
            } else {
                hit.severity = Some(Severity::Info);
                detail = tx.render(
                    "in-progress",
                    &[("waited", human_secs(waited)), ("progress", progress)],
                );
            }
        }
    }
    hit.var("detail", detail);
    // Evidence: the first stage, the last stage and the trailer.
    let mut ev = Vec::new();
    if let Some(f) = stages.first() {
        ev.push(evidence_at(ctx, f.loc));
    }
    ev.push(evidence_at(ctx, last.loc));
    if let Some(t) = trailer {
        ev.push(evidence_at(ctx, t.loc));
    }
    hit.evidence = ev;
    vec![hit]
}
