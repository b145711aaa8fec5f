//! Correlations no generic matcher expresses. Their words (titles, remediation) still live in
//! the rule files; this code only decides whether and about what a rule fires.

use super::matchers::{evidence_of, loc_evidence};
use super::{EvalCtx, Hit, Rule, Severity};
use crate::model::Kind;
use crate::model::units::{human_bytes, human_secs};
use crate::model::{Component, LogEvent, Region, Store, StoreState, Version};
use std::collections::{BTreeMap, BTreeSet};

const NAMES: &[&str] = &[
    "scale-in-no-target",
    "scale-in-blocked-by-space",
    "batch-raft",
    "error-burst",
];

pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
        || super::builtin_pd::NAMES.contains(&name)
        || super::builtin_crdb::NAMES.contains(&name)
}

pub fn run(name: &str, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    if super::builtin_pd::NAMES.contains(&name) {
        return super::builtin_pd::run(name, rule, ctx);
    }
    if super::builtin_crdb::NAMES.contains(&name) {
        return super::builtin_crdb::run(name, rule, ctx);
    }
    match name {
        "scale-in-no-target" => scale_in(rule, ctx, Blocker::NoTarget),
        "scale-in-blocked-by-space" => scale_in(rule, ctx, Blocker::Space),
        "batch-raft" => batch_raft(rule, ctx),
        "error-burst" => error_burst(ctx),
        _ => Vec::new(),
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Blocker {
    NoTarget,
    Space,
}

fn config_f64(ctx: &EvalCtx<'_>, key: &str) -> Option<f64> {
    ctx.facts.configs.iter().rev().find_map(|c| c.get_f64(key))
}

fn events_in<'a>(rule: &Rule, set: &str, ctx: &'a EvalCtx<'_>) -> Vec<&'a LogEvent> {
    match rule.group(set) {
        Some(g) => ctx.facts.events.iter().filter(|e| e.in_group(g)).collect(),
        None => Vec::new(),
    }
}

/// Offline TiKV stores that still hold regions, and whether Up stores can take them.
fn scale_in(rule: &Rule, ctx: &EvalCtx<'_>, want: Blocker) -> Vec<Hit> {
    // Counting targets needs every store: a single `store <id>` dump is not enough.
    if !ctx.has_store_list() {
        return Vec::new();
    }
    let stores = ctx.facts.latest_stores();
    let regions = ctx.facts.latest_regions();
    let (max_replicas, replicas_known) = match config_f64(ctx, "replication.max-replicas") {
        Some(v) if v >= 1.0 => (v as usize, true),
        _ => (3, false),
    };
    let (low_ratio, low_known) = match config_f64(ctx, "schedule.low-space-ratio") {
        Some(v) if v > 0.0 && v < 1.0 => (v, true),
        _ => (0.8, false),
    };
    let high_ratio = config_f64(ctx, "schedule.high-space-ratio").unwrap_or(0.7);
    // Stores PD could move a replica onto: stored state Up (a Disconnected store is still Up
    // for PD), TiKV only, not Down.
    let up: Vec<&Store> = stores
        .iter()
        .copied()
        .filter(|s| {
            !s.is_tiflash()
                && matches!(s.state, StoreState::Up | StoreState::Disconnected)
                && s.node_state != Some(2)
        })
        .collect();
    let mut hits = Vec::new();
    for s in stores.iter().filter(|s| s.is_offline() && !s.is_tiflash()) {
        let on_store: Vec<&&Region> = regions.iter().filter(|r| r.has_peer_on(s.id)).collect();
        let count = s.region_count.unwrap_or(0).max(on_store.len() as u64);
        if count == 0 {
            continue;
        }
        // Targets for a region: Up stores that hold none of its peers. Without a region dump
        // assume each region already has max-replicas - 1 peers on Up stores.
        let targets_for = |cands: &[&Store]| -> usize {
            if on_store.is_empty() {
                cands.len().saturating_sub(max_replicas.saturating_sub(1))
            } else {
                on_store
                    .iter()
                    .map(|r| cands.iter().filter(|c| !r.has_peer_on(c.id)).count())
                    .min()
                    .unwrap_or(0)
            }
        };
        let all_targets = targets_for(&up);
        let usable: Vec<&Store> = up
            .iter()
            .copied()
            .filter(|c| c.is_low_space(low_ratio) != Some(true))
            .collect();
        let usable_targets = targets_for(&usable);
        let blocker = if all_targets == 0 {
            Blocker::NoTarget
        } else if usable_targets == 0 {
            Blocker::Space
        } else {
            continue;
        };
        if blocker != want {
            continue;
        }
        let mut hit = Hit::default();
        hit.var("store", s.id);
        hit.var("count", count);
        hit.var("replicas", max_replicas);
        hit.var("targets", up.len());
        hit.var("low_space_ratio", low_ratio);
        if let Some(a) = &s.address {
            hit.var("node", a);
            hit.entities.nodes.push(a.clone());
        }
        hit.entities.stores.push(s.id.0);
        hit.evidence.push(loc_evidence(s.loc));
        let mut detail = Vec::new();
        if !replicas_known {
            detail.push("max-replicas assumed 3 (no pd-ctl config show in the bundle)".to_string());
        }
        if want == Blocker::Space {
            if !low_known {
                detail.push("low-space-ratio assumed 0.8 (default)".into());
            }
            let mut low = Vec::new();
            for c in &up {
                hit.evidence.push(loc_evidence(c.loc));
                if let (Some(cap), Some(av)) = (c.capacity, c.available) {
                    let used = 1.0 - av as f64 / cap.max(1) as f64;
                    let tag = if c.is_low_space(low_ratio) == Some(true) {
                        "low-space"
                    } else if used > high_ratio {
                        "above high-space-ratio: less preferred, not blocked"
                    } else {
                        "ok"
                    };
                    low.push(format!(
                        "store {} {:.0}% used ({} available of {}, {tag})",
                        c.id,
                        used * 100.0,
                        human_bytes(av),
                        human_bytes(cap)
                    ));
                }
            }
            hit.var("targets", low.join("; "));
        }
        hit.var(
            "detail",
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join("; "))
            },
        );
        for r in on_store.iter().take(5) {
            hit.entities.regions.push(r.id.0);
            hit.evidence.push(loc_evidence(r.loc));
        }
        let set = if want == Blocker::Space {
            "space"
        } else {
            "pd"
        };
        for ev in events_in(rule, set, ctx).into_iter().take(5) {
            hit.evidence.push(evidence_of(ev));
        }
        hits.push(hit);
    }
    hits
}

/// TiKV versions with known oversized raft batches: < 4.0.0 (tikv#6727) and 5.0.0 up to the
/// tikv#9714 fixes (5.0.6, 5.1.4, 5.3.1, 5.4.0; all of 5.2.x).
pub fn batch_raft_exposed(v: Version) -> bool {
    if v < Version::new(4, 0, 0) {
        return true;
    }
    match (v.major, v.minor) {
        (5, 0) => v < Version::new(5, 0, 6),
        (5, 1) => v < Version::new(5, 1, 4),
        (5, 2) => true,
        (5, 3) => v < Version::new(5, 3, 1),
        _ => false,
    }
}

/// `KvService::batch_raft send response fail` and its receiver-side sibling, one finding per
/// node; warning when it recurs outside peer restarts, when the sender shows oversize, or when
/// the version is exposed; info for a short burst around a restart.
fn batch_raft(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let main = events_in(rule, "main", ctx);
    if main.is_empty() {
        return Vec::new();
    }
    let oversize = events_in(rule, "oversize", ctx);
    // TiKV starts anywhere in the bundle (any node's restart drops its streams).
    let restarts: Vec<chrono::DateTime<chrono::FixedOffset>> = events_in(rule, "restart", ctx)
        .iter()
        .filter(|e| {
            ctx.input(e.loc.input)
                .is_some_and(|m| m.kind == Kind::TikvLog)
        })
        .filter_map(|e| e.time)
        .collect();
    let version = ctx.facts.version(Component::Tikv);
    let mut by_node: BTreeMap<String, Vec<&LogEvent>> = BTreeMap::new();
    for e in main {
        by_node
            .entry(ctx.node_or_path(e.loc.input))
            .or_default()
            .push(e);
    }
    let mut hits = Vec::new();
    for (node, evs) in by_node {
        let near_restart = |t: chrono::DateTime<chrono::FixedOffset>| {
            restarts.iter().any(|r| (t - *r).num_seconds().abs() <= 120)
        };
        let outside: Vec<&&LogEvent> = evs
            .iter()
            .filter(|e| e.time.is_none_or(|t| !near_restart(t)))
            .collect();
        // Bursts outside restarts: separate when more than a minute apart.
        let mut times: Vec<_> = outside.iter().filter_map(|e| e.time).collect();
        times.sort();
        let bursts = 1 + times
            .windows(2)
            .filter(|w| (w[1] - w[0]).num_seconds() > 60)
            .count();
        let recurs = !outside.is_empty() && (bursts >= 2 || outside.len() >= 10);
        let exposed = version.is_some_and(batch_raft_exposed);
        let mut reasons = Vec::new();
        if !oversize.is_empty() {
            reasons.push(format!(
                "a sender logged messages over the gRPC size limit ({} lines)",
                oversize.len()
            ));
        }
        if let Some(v) = version
            && exposed
        {
            reasons.push(format!(
                    "TiKV {v} has a known oversized-batch bug (tikv#6727 before 4.0, tikv#9714 in 5.0-5.3)"
                ));
        }
        if recurs {
            reasons.push(format!(
                "it recurs outside peer restarts ({} lines in {} bursts)",
                outside.len(),
                bursts
            ));
        }
        let warning = !reasons.is_empty();
        let mut hit = Hit {
            severity: Some(if warning {
                Severity::Warning
            } else {
                Severity::Info
            }),
            ..Hit::default()
        };
        hit.var("node", &node);
        hit.var("count", evs.len());
        let first = evs.iter().filter_map(|e| e.time).min();
        let last = evs.iter().filter_map(|e| e.time).max();
        let f = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string())
                .unwrap_or_else(|| "unknown time".into())
        };
        hit.var("first", f(first));
        hit.var("last", f(last));
        if let (Some(a), Some(b)) = (first, last) {
            hit.var("age", human_secs((b - a).num_seconds()));
        }
        hit.var(
            "version",
            version.map_or("unknown (no TiKV version in the bundle)".to_string(), |v| {
                v.to_string()
            }),
        );
        let reason = if warning {
            reasons.join("; ")
        } else if evs.len() == outside.len() {
            "a single short burst; the receiver side (err=RemoteStopped) only says the sending peer dropped the stream".to_string()
        } else {
            "a short burst around a TiKV restart on a version without the known bug".to_string()
        };
        hit.var("reason", reason);
        let errs: BTreeSet<&str> = evs.iter().filter_map(|e| e.field("err")).collect();
        hit.var("err", errs.into_iter().collect::<Vec<_>>().join(", "));
        if let Some(m) = ctx.input(evs[0].loc.input) {
            hit.entities.nodes.extend(m.node.clone());
            hit.entities.stores.extend(m.store);
            if let Some(s) = m.store {
                hit.var("store", s);
            }
        }
        hit.evidence = evs.iter().take(5).map(|e| evidence_of(e)).collect();
        hit.evidence
            .extend(oversize.iter().take(3).map(|e| evidence_of(e)));
        hits.push(hit);
    }
    hits
}

/// A template spikes when its busiest minute has at least this many lines...
const BURST_MIN_PEAK: u32 = 20;
/// ... and at least this many times its average over its other active minutes.
const BURST_FACTOR: u64 = 5;
/// Bursts reported at most, worst first: this rule must never drown known findings.
const BURST_MAX: usize = 3;

/// One template's counts on one node.
struct BurstAgg<'a> {
    count: u64,
    per_minute: BTreeMap<i64, u32>,
    sample: &'a crate::model::TemplateStat,
}

/// Warning/error templates no rule knows that spike on a node.
fn error_burst(ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let mut by: BTreeMap<(String, &str), BurstAgg<'_>> = BTreeMap::new();
    for t in ctx.facts.templates.iter().filter(|t| !t.known) {
        let node = ctx.node_or_path(t.sample.input);
        let a = by.entry((node, t.template.as_str())).or_insert(BurstAgg {
            count: 0,
            per_minute: BTreeMap::new(),
            sample: t,
        });
        a.count += t.count;
        for (m, c) in &t.per_minute {
            *a.per_minute.entry(*m).or_default() += c;
        }
    }
    let mut spikes = Vec::new();
    for ((node, template), a) in &by {
        let Some((&minute, &peak)) = a.per_minute.iter().max_by_key(|(m, c)| (**c, -**m)) else {
            continue;
        };
        let others = a.per_minute.len().saturating_sub(1) as u64;
        let rest = a.per_minute.values().map(|&c| c as u64).sum::<u64>() - peak as u64;
        let baseline = if others == 0 {
            0
        } else {
            rest.div_ceil(others)
        };
        if peak < BURST_MIN_PEAK || (peak as u64) < BURST_FACTOR * baseline.max(1) {
            continue;
        }
        spikes.push((peak, node.clone(), *template, minute, baseline, a));
    }
    spikes.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then_with(|| x.1.cmp(&y.1))
            .then_with(|| x.2.cmp(y.2))
    });
    spikes
        .into_iter()
        .take(BURST_MAX)
        .map(|(peak, node, template, minute, baseline, a)| {
            let mut hit = Hit::default();
            hit.var("node", &node);
            hit.var("count", a.count);
            hit.var("message", template);
            // Shown in the log's own zone, like the lines the reader will look at.
            let at = match (
                chrono::DateTime::from_timestamp(minute * 60, 0),
                a.sample.first,
            ) {
                (Some(t), Some(f)) => t
                    .with_timezone(f.offset())
                    .format("%Y-%m-%d %H:%M %:z")
                    .to_string(),
                (Some(t), None) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
                _ => String::new(),
            };
            hit.var(
                "detail",
                format!(
                    "{peak} in the minute of {at}, against about {baseline} per minute otherwise"
                ),
            );
            let t = |v: Option<chrono::DateTime<chrono::FixedOffset>>| {
                v.map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "unknown".into())
            };
            hit.var("first", t(a.sample.first));
            hit.var("last", t(a.sample.last));
            if let Some(n) = ctx
                .input(a.sample.sample.input)
                .and_then(|m| m.node.clone())
            {
                hit.entities.nodes.push(n);
            }
            hit.evidence.push(super::EvidenceRef {
                loc: a.sample.sample,
                excerpt: Some(a.sample.sample_excerpt.clone()),
            });
            hit
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_versions() {
        assert!(batch_raft_exposed(Version::new(3, 0, 2)));
        assert!(!batch_raft_exposed(Version::new(4, 0, 16)));
        assert!(batch_raft_exposed(Version::new(5, 2, 1)));
        assert!(batch_raft_exposed(Version::new(5, 1, 3)));
        assert!(!batch_raft_exposed(Version::new(5, 1, 4)));
        assert!(!batch_raft_exposed(Version::new(5, 4, 0)));
        assert!(!batch_raft_exposed(Version::new(6, 5, 0)));
    }
}
