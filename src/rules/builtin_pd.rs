//! PD scheduling correlations (operators, merge, unsafe recovery, storage). Each decides
//! whether and about what its rule fires; the rule files hold the words, except short
//! case texts (`{detail}`) that depend on what was found.

use super::matchers::{evidence_of, heartbeat_age, loc_evidence, max_store_down_secs};
use super::matchers_pd::{
    events_in, fmt_num, fmt_time, fmt_unix, input_horizon, join, series_evidence, series_of,
};
use super::{EvalCtx, EvidenceRef, Hit, Rule, Severity};
use crate::model::Kind;
use crate::model::sched::{RecoveryStage, StageKind};
use crate::model::units::human_secs;
use crate::model::{Component, Location, LogEvent, StoreId, StoreState, Version};
use crate::parse::operator::Operator;
use crate::parse::unsafe_recovery;
use chrono::NaiveDateTime;
use std::collections::{BTreeMap, BTreeSet};

/// Evidence for a location: a kept log event carries its own excerpt (the engine fills
/// excerpts only for dumps), anything else is filled from the dump's text.
fn evidence_at(ctx: &EvalCtx<'_>, loc: Location) -> EvidenceRef {
    match ctx.facts.events.iter().find(|e| e.loc == loc) {
        Some(e) => evidence_of(e),
        None => loc_evidence(loc),
    }
}

/// Builtin matcher names this module answers.
pub const NAMES: &[&str] = &[
    "merge-disabled",
    "empty-region-pileup",
    "memory-growth-after-merges",
    "store-offline-stalled",
    "majority-replicas-lost",
    "unsafe-recovery-status",
    "storage-write-failed",
    "operator-canceled",
    "operator-rejected",
];

/// Template placeholders these rules use, beyond the common ones.
pub const PLACEHOLDERS: &[&str] = &[
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
    "merges",
    "missing_fixes",
    "size_default",
    "empty",
    "undersized",
    "snapshot_note",
];

pub fn run(name: &str, rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    match name {
        "merge-disabled" => merge_disabled(rule, ctx),
        "empty-region-pileup" => empty_region_pileup(ctx),
        "memory-growth-after-merges" => memory_growth(rule, ctx),
        "store-offline-stalled" => store_offline_stalled(ctx),
        "majority-replicas-lost" => majority_lost(ctx),
        "unsafe-recovery-status" => unsafe_recovery_status(rule, ctx),
        "storage-write-failed" => storage_write_failed(rule, ctx),
        "operator-canceled" => operator_canceled(rule, ctx),
        "operator-rejected" => operator_rejected(rule, ctx),
        _ => Vec::new(),
    }
}

fn filter(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Empty / undersized regions

/// Empty regions (≤ 1 MiB) that count as a pile-up; a few dozen are normal.
const EMPTY_PILEUP: f64 = 500.0;
/// Undersized regions (below the merge thresholds) that count as a pile-up.
const UNDERSIZED_PILEUP: f64 = 2000.0;
/// Empty regions in a pd-ctl region dump that count as a pile-up.
const DUMP_EMPTY_PILEUP: usize = 100;

/// What the bundle shows about small regions.
#[derive(Default)]
struct Pileup {
    empty: Option<f64>,
    undersized: Option<f64>,
    /// The counts are falling steadily: PD is merging, so they do not pile up.
    falling: bool,
    trend: String,
    dump_empty: usize,
    dump_total: usize,
    evidence: Vec<EvidenceRef>,
}

impl Pileup {
    fn piles_up(&self) -> bool {
        !self.falling
            && (self.empty.is_some_and(|e| e >= EMPTY_PILEUP)
                || self.undersized.is_some_and(|u| u >= UNDERSIZED_PILEUP)
                || self.dump_empty >= DUMP_EMPTY_PILEUP)
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = self.empty {
            parts.push(format!("{} empty regions (≤ 1 MiB)", fmt_num(e)));
        }
        if let Some(u) = self.undersized {
            parts.push(format!("{} undersized regions", fmt_num(u)));
        }
        if self.dump_total > 0 {
            parts.push(format!(
                "{} of {} regions in the pd-ctl region dump are empty",
                self.dump_empty, self.dump_total
            ));
        }
        let mut s = parts.join(", ");
        if !self.trend.is_empty() {
            s.push_str(&format!(" ({})", self.trend));
        }
        s
    }
}

fn pileup(ctx: &EvalCtx<'_>) -> Pileup {
    let mut p = Pileup::default();
    let mut trends = Vec::new();
    for (ty, slot) in [
        ("empty-region-count", &mut p.empty),
        ("undersized-region-count", &mut p.undersized),
    ] {
        let series = series_of(ctx, "pd_regions_status", &filter(&[("type", ty)]));
        // Only the PD leader counts regions: take the series with the largest latest value.
        let Some(s) = series.iter().max_by(|a, b| {
            let va = a.last().map_or(0.0, |x| x.value);
            let vb = b.last().map_or(0.0, |x| x.value);
            va.total_cmp(&vb)
        }) else {
            continue;
        };
        let Some(last) = s.last() else { continue };
        *slot = Some(last.value);
        p.evidence.extend(series_evidence(s));
        if s.timed() {
            let max = s.samples.iter().map(|x| x.value).fold(f64::MIN, f64::max);
            let first = s.first().map_or(0.0, |x| x.value);
            let span = human_secs(s.span().unwrap_or(0.0) as i64);
            if last.value < 0.8 * max && ty == "empty-region-count" {
                p.falling = true;
            }
            let word = if last.value > first {
                "rising"
            } else if last.value < first {
                "falling"
            } else {
                "flat"
            };
            trends.push(format!(
                "{ty} {word} from {} to {} over {span}",
                fmt_num(first),
                fmt_num(last.value)
            ));
        }
    }
    p.trend = trends.join("; ");
    let regions = ctx.facts.latest_regions();
    let sized: Vec<_> = regions
        .iter()
        .filter(|r| r.approximate_size.is_some())
        .collect();
    p.dump_total = sized.len();
    let empty: Vec<_> = sized
        .iter()
        .filter(|r| r.approximate_size.is_some_and(|s| s <= 1))
        .collect();
    p.dump_empty = empty.len();
    if p.dump_empty >= DUMP_EMPTY_PILEUP {
        p.evidence
            .extend(empty.iter().take(3).map(|r| loc_evidence(r.loc)));
    }
    p
}

/// TiKV snapshot fixes for small regions that a version lacks (pd.empty-region-pileup).
fn snapshot_note(v: Option<Version>) -> String {
    let Some(v) = v else {
        return " The bundle shows no TiKV version: moving many small regions is much faster with tikv#17408 (small snapshots written directly; 7.5.7, 8.1.2, 8.4.0+) and tikv#12587 (region worker stuck behind delete-range; fixed in 8.5.0).".to_string();
    };
    let mut missing = Vec::new();
    let lacks_17408 = v < Version::new(7, 5, 7)
        || (v >= Version::new(8, 0, 0) && v < Version::new(8, 1, 2))
        || (v >= Version::new(8, 2, 0) && v < Version::new(8, 4, 0));
    if lacks_17408 {
        missing.push("tikv#17408 (small snapshots written directly instead of ingested; in 7.5.7, 8.1.2, 8.4.0+)");
    }
    if v < Version::new(8, 5, 0) {
        missing.push("tikv#12587 (region worker stuck behind delete-range while generating snapshots; fixed in 8.5.0)");
    }
    if missing.is_empty() {
        format!(" TiKV {v} has the snapshot fixes for small regions.")
    } else {
        format!(
            " TiKV {v} lacks {}: moving and merging many small regions is slower there.",
            missing.join(" and ")
        )
    }
}

fn empty_region_pileup(ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let p = pileup(ctx);
    if !p.piles_up() {
        return Vec::new();
    }
    let mut hit = Hit::default();
    hit.var("empty", p.empty.map_or("-".into(), fmt_num));
    hit.var("undersized", p.undersized.map_or("-".into(), fmt_num));
    hit.var(
        "count",
        p.empty.map_or_else(|| p.dump_empty.to_string(), fmt_num),
    );
    hit.var("detail", p.describe());
    hit.var(
        "snapshot_note",
        snapshot_note(ctx.facts.version(Component::Tikv)),
    );
    hit.evidence = p.evidence;
    vec![hit]
}

// ---------------------------------------------------------------------------------------------
// Merge switched off by config

/// A config value and where it was read.
struct Cfg {
    value: f64,
    evidence: EvidenceRef,
    source: &'static str,
}

/// A merge setting: pd-ctl `config show` first, else PD's own log of its config (the
/// newest line wins).
fn merge_setting(rule: &Rule, ctx: &EvalCtx<'_>, key: &str) -> Option<Cfg> {
    if let Some(c) = ctx
        .facts
        .configs
        .iter()
        .rev()
        .find_map(|c| c.get_f64(&format!("schedule.{key}")).map(|v| (v, c.loc)))
    {
        return Some(Cfg {
            value: c.0,
            evidence: loc_evidence(c.1),
            source: "pd-ctl config",
        });
    }
    let mut best: Option<(Option<chrono::DateTime<chrono::FixedOffset>>, Cfg)> = None;
    for e in events_in(rule, "config", ctx) {
        // `schedule config is updated` carries [new=..] and [old=..]; `PD Config` [config=..].
        for (_, raw) in e.fields.iter().filter(|(k, _)| k == "new" || k == "config") {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
                continue;
            };
            let val = v
                .get(key)
                .or_else(|| v.get("schedule").and_then(|s| s.get(key)));
            let num = match val {
                Some(serde_json::Value::Number(n)) => n.as_f64(),
                Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            if let Some(n) = num
                && best.as_ref().is_none_or(|(t, _)| e.time >= *t)
            {
                best = Some((
                    e.time,
                    Cfg {
                        value: n,
                        evidence: evidence_of(e),
                        source: "the PD log",
                    },
                ));
            }
        }
    }
    best.map(|(_, c)| c)
}

fn merge_disabled(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let limit = merge_setting(rule, ctx, "merge-schedule-limit");
    let size = merge_setting(rule, ctx, "max-merge-region-size");
    let keys = merge_setting(rule, ctx, "max-merge-region-keys");
    let off_by_limit = limit.as_ref().is_some_and(|c| c.value == 0.0);
    let off_by_size = size.as_ref().is_some_and(|c| c.value == 0.0);
    if !(off_by_limit || off_by_size) {
        return Vec::new();
    }
    let p = pileup(ctx);
    if !p.piles_up() {
        return Vec::new();
    }
    let pd = ctx.facts.version(Component::Pd);
    let default_size = match pd {
        Some(v) if v >= Version::new(8, 4, 0) => "54 MiB".to_string(),
        Some(_) => "20 MiB".to_string(),
        None => "20 MiB; 54 MiB from PD 8.4, and the bundle shows no PD version".to_string(),
    };
    let mut hit = Hit::default();
    let (key, cfg) = if off_by_limit {
        ("merge-schedule-limit", limit.as_ref())
    } else {
        ("max-merge-region-size", size.as_ref())
    };
    hit.var("key", key);
    hit.var("value", "0");
    hit.var("size_default", default_size.clone());
    let mut detail = Vec::new();
    if let Some(c) = cfg {
        detail.push(format!("{key} 0 read from {}", c.source));
        hit.evidence.push(c.evidence.clone());
    }
    // Say what the other settings are, or which default was assumed.
    match (&limit, off_by_limit) {
        (Some(c), false) => detail.push(format!("merge-schedule-limit {}", fmt_num(c.value))),
        (None, _) => {
            detail.push("merge-schedule-limit not in the bundle (default 8 assumed)".into())
        }
        _ => {}
    }
    match (&size, off_by_size) {
        (Some(c), false) => detail.push(format!("max-merge-region-size {} MiB", fmt_num(c.value))),
        (Some(_), true) if off_by_limit => detail.push("max-merge-region-size is 0 too".into()),
        (None, _) => detail.push(format!(
            "max-merge-region-size not in the bundle (default {default_size} assumed)"
        )),
        _ => {}
    }
    if let Some(k) = &keys
        && k.value == 0.0
    {
        detail.push(match pd {
            Some(v) if v < Version::new(6, 2, 0) => format!(
                "max-merge-region-keys 0 on PD {v} also lets only regions with 0 keys merge"
            ),
            _ => "max-merge-region-keys 0 disables nothing on PD >= 6.2 (it means size x 10000)"
                .into(),
        });
    }
    for c in [&limit, &size].into_iter().flatten() {
        if !hit.evidence.iter().any(|e| e.loc == c.evidence.loc) {
            hit.evidence.push(c.evidence.clone());
        }
    }
    hit.var(
        "detail",
        format!("{}. Meanwhile: {}.", detail.join("; "), p.describe()),
    );
    hit.var("empty", p.empty.map_or("-".into(), fmt_num));
    hit.evidence.extend(p.evidence);
    vec![hit]
}

// ---------------------------------------------------------------------------------------------
// Memory growth after many merges

/// Finished merge operators that count as "many".
const MANY_MERGES: f64 = 1000.0;

/// Which of tikv/pd#8700, #8710, #8698 a PD version lacks (fixed-version table in
/// rules-factcheck.md).
pub fn missing_memory_fixes(v: Version) -> Vec<&'static str> {
    let line = (v.major, v.minor);
    let at_least = |p: u32| v.patch >= p;
    let mut out = Vec::new();
    // #8700 label statistics: 6.5.12, 7.1.6, 7.5.5, 8.1.2, 8.4.0, 8.5.0+.
    let fixed_8700 = match line {
        (6, 5) => at_least(12),
        (7, 1) => at_least(6),
        (7, 5) => at_least(5),
        (8, 1) => at_least(2),
        _ => v >= Version::new(8, 4, 0),
    };
    if !fixed_8700 {
        out.push("tikv/pd#8700 (label statistics)");
    }
    // #8710 region statistics: a bad cherry-pick on 6.5 and 7.1 only.
    let fixed_8710 = match line {
        (6, 5) => at_least(12),
        (7, 1) => at_least(6),
        _ => true,
    };
    if !fixed_8710 {
        out.push("tikv/pd#8710 (region statistics)");
    }
    // #8698 hot-peer cache: 6.5.12, 7.1.6, 7.5.5, 8.1.2, 8.5.0+ (no 8.4 backport).
    let fixed_8698 = match line {
        (6, 5) => at_least(12),
        (7, 1) => at_least(6),
        (7, 5) => at_least(5),
        (8, 1) => at_least(2),
        _ => v >= Version::new(8, 5, 0),
    };
    if !fixed_8698 {
        out.push("tikv/pd#8698 (hot-peer cache)");
    }
    out
}

fn memory_growth(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let Some(v) = ctx.facts.version(Component::Pd) else {
        return Vec::new();
    };
    let missing = missing_memory_fixes(v);
    if missing.is_empty() {
        return Vec::new();
    }
    // Finished merge operators: PD's counter, else its log lines.
    let mut evidence = Vec::new();
    let mut from_metric = 0.0;
    for event in ["finish", "create"] {
        let series = series_of(
            ctx,
            "pd_schedule_operators_count",
            &filter(&[("type", "merge-region"), ("event", event)]),
        );
        let n: f64 = series.iter().map(|s| s.increase(None)).sum();
        if n > 0.0 {
            // Each merge creates two operators (source and target).
            from_metric = if event == "create" { n / 2.0 } else { n };
            for s in &series {
                evidence.extend(series_evidence(s));
            }
            break;
        }
    }
    let log_merges: Vec<&LogEvent> = events_in(rule, "merges", ctx)
        .into_iter()
        .filter(|e| e.message == "operator finish")
        .collect();
    let merges = from_metric.max(log_merges.len() as f64);
    if merges < MANY_MERGES {
        return Vec::new();
    }
    evidence.extend(log_merges.iter().take(3).map(|e| evidence_of(e)));
    let mut hit = Hit::default();
    hit.var("version", v);
    hit.var("merges", fmt_num(merges));
    hit.var("missing_fixes", missing.join(", "));
    // PD's resident memory, when the metrics hold it.
    let mut detail = String::new();
    let pd_instances: BTreeSet<String> = ctx
        .facts
        .sched
        .samples
        .iter()
        .filter(|s| s.name.starts_with("pd_"))
        .filter_map(|s| s.label("instance").map(str::to_string))
        .collect();
    for s in series_of(ctx, "process_resident_memory_bytes", &BTreeMap::new()) {
        let is_pd = s.label("job") == Some("pd")
            || s.label("instance")
                .is_some_and(|i| pd_instances.contains(i));
        if !is_pd || !s.timed() {
            continue;
        }
        let (Some(a), Some(b)) = (s.first(), s.last()) else {
            continue;
        };
        if b.value > a.value * 1.2 {
            detail = format!(
                " PD {} resident memory grew from {:.1} GiB to {:.1} GiB over {}.",
                s.label("instance").unwrap_or("?"),
                a.value / f64::from(1u32 << 30),
                b.value / f64::from(1u32 << 30),
                human_secs(s.span().unwrap_or(0.0) as i64)
            );
            evidence.extend(series_evidence(&s));
            break;
        }
    }
    hit.var("detail", detail);
    if let Some(seen) = ctx
        .facts
        .versions
        .get(&Component::Pd)
        .and_then(|vs| vs.iter().find(|s| s.version == v))
    {
        evidence.insert(0, evidence_at(ctx, seen.loc));
    }
    hit.evidence = evidence;
    vec![hit]
}

// ---------------------------------------------------------------------------------------------
// Offline store whose counts stop falling

/// How long counts must stay put to call a drain stalled.
const STALL_SECS: i64 = 600;
const STALL_METRIC_SECS: f64 = 1800.0;

fn store_offline_stalled(ctx: &EvalCtx<'_>) -> Vec<Hit> {
    // The dump's time: its newest heartbeat (an Offline store that died keeps its old one).
    let mut dump_time: BTreeMap<crate::model::InputId, chrono::DateTime<chrono::FixedOffset>> =
        BTreeMap::new();
    for s in &ctx.facts.stores {
        if let Some(hb) = s.last_heartbeat {
            let e = dump_time.entry(s.loc.input).or_insert(hb);
            if hb > *e {
                *e = hb;
            }
        }
    }
    let offline: BTreeSet<StoreId> = ctx
        .facts
        .stores
        .iter()
        .filter(|s| s.is_offline() && !s.is_tiflash())
        .map(|s| s.id)
        .collect();
    let mut hits = Vec::new();
    for id in offline {
        let mut all: Vec<_> = ctx
            .facts
            .stores
            .iter()
            .filter(|s| s.id == id)
            .map(|s| (dump_time.get(&s.loc.input).copied(), s))
            .collect();
        all.sort_by_key(|a| (a.0, a.1.loc));
        // Only a store still Offline in its newest record, compared across its Offline
        // records (a later Up or Tombstone record ends the question).
        if all.last().is_none_or(|r| !r.1.is_offline()) {
            continue;
        }
        let recs: Vec<_> = all
            .into_iter()
            .filter(|r| r.1.is_offline() && r.1.region_count.is_some())
            .collect();
        let mut why: Option<(String, Vec<EvidenceRef>, u64, i64)> = None;
        if let (Some(first), Some(last)) = (recs.first(), recs.last())
            && first.1.loc != last.1.loc
        {
            let (c0, c1) = (
                first.1.region_count.unwrap_or(0),
                last.1.region_count.unwrap_or(0),
            );
            let span = match (first.0, last.0) {
                (Some(a), Some(b)) => Some((b - a).num_seconds()),
                _ => None,
            };
            let distinct = match span {
                Some(s) => s >= STALL_SECS,
                None => first.1.loc.input != last.1.loc.input,
            };
            if distinct && c1 > 0 && c1 >= c0 {
                let l0 = first.1.leader_count.unwrap_or(0);
                let l1 = last.1.leader_count.unwrap_or(0);
                why = Some((
                    format!(
                        "region_count {c0} → {c1} and leader_count {l0} → {l1} across {} pd-ctl snapshots{}",
                        recs.len(),
                        span.map_or(String::new(), |s| format!(" {} apart", human_secs(s)))
                    ),
                    vec![loc_evidence(first.1.loc), loc_evidence(last.1.loc)],
                    c1,
                    span.unwrap_or(0),
                ));
            }
        }
        if why.is_none() {
            let f = filter(&[("type", "region_count"), ("store", &id.0.to_string())]);
            for s in series_of(ctx, "pd_scheduler_store_status", &f) {
                let (Some(a), Some(b), Some(span)) = (s.first(), s.last(), s.span()) else {
                    continue;
                };
                if span >= STALL_METRIC_SECS && b.value > 0.0 && b.value >= a.value {
                    why = Some((
                        format!(
                            "pd_scheduler_store_status region_count {} → {} over {} ({} .. {})",
                            fmt_num(a.value),
                            fmt_num(b.value),
                            human_secs(span as i64),
                            fmt_unix(a.time),
                            fmt_unix(b.time)
                        ),
                        series_evidence(&s),
                        b.value as u64,
                        span as i64,
                    ));
                    break;
                }
            }
        }
        let Some((detail, evidence, count, span)) = why else {
            continue;
        };
        let latest = recs.last().map(|r| r.1);
        let mut hit = Hit::default();
        hit.var("store", id);
        hit.var("count", count);
        hit.var("age", human_secs(span));
        hit.var("detail", detail);
        if let Some(a) = latest.and_then(|s| s.address.clone()) {
            hit.var("node", &a);
            hit.entities.nodes.push(a);
        }
        hit.entities.stores.push(id.0);
        hit.evidence = evidence;
        hits.push(hit);
    }
    hits
}

// ---------------------------------------------------------------------------------------------
// Regions that lost a majority of their voters

fn majority_lost(ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let (down_secs, _) = max_store_down_secs(ctx);
    let stores = ctx.facts.latest_stores();
    let known: BTreeMap<StoreId, _> = stores.iter().map(|s| (s.id, *s)).collect();
    let have_list = ctx.has_store_list();
    // Stores whose replicas are gone or unreachable for good, with why.
    let mut failed: BTreeMap<u64, String> = BTreeMap::new();
    for s in &stores {
        let why = match s.state {
            StoreState::Down => Some("Down".to_string()),
            StoreState::Tombstone => Some("Tombstone".to_string()),
            _ => heartbeat_age(s, ctx).filter(|a| *a > down_secs).map(|a| {
                format!(
                    "{} with no heartbeat for {}",
                    s.state.as_str(),
                    human_secs(a)
                )
            }),
        };
        if let Some(w) = why {
            failed.insert(s.id.0, w);
        }
    }
    for r in &ctx.facts.sched.recoveries {
        for st in &r.stages {
            for id in st.failed_stores() {
                failed
                    .entry(id)
                    .or_insert_with(|| "named failed in unsafe recovery".into());
            }
        }
    }
    let mut lost = Vec::new();
    let mut lost_stores: BTreeSet<u64> = BTreeSet::new();
    for r in ctx.facts.latest_regions() {
        let voters: Vec<_> = r.voters().collect();
        if voters.is_empty() {
            continue;
        }
        let mut bad = Vec::new();
        for p in &voters {
            let down_peer = r.down_peers.iter().any(|(d, _)| d.store_id == p.store_id);
            let gone = have_list && !known.contains_key(&p.store_id);
            if failed.contains_key(&p.store_id.0) || down_peer || gone {
                bad.push(p.store_id.0);
                if gone {
                    failed
                        .entry(p.store_id.0)
                        .or_insert_with(|| "not in PD's store list".into());
                }
                if down_peer {
                    failed
                        .entry(p.store_id.0)
                        .or_insert_with(|| "listed as a down peer".into());
                }
            }
        }
        let live = voters.len() - bad.len();
        if live * 2 <= voters.len() {
            lost_stores.extend(bad.iter().copied());
            lost.push((r, voters.len(), bad));
        }
    }
    if lost.is_empty() {
        return Vec::new();
    }
    let mut hit = Hit::default();
    hit.var("stores", join(&lost_stores));
    if let Some(s) = lost_stores.first() {
        hit.var("store", s);
    }
    let ids: Vec<u64> = lost.iter().map(|(r, _, _)| r.id.0).collect();
    hit.var("regions", join(&ids));
    hit.var("region", ids[0]);
    hit.var("count", ids.len());
    let why: Vec<String> = lost_stores
        .iter()
        .filter_map(|s| failed.get(s).map(|w| format!("store {s}: {w}")))
        .collect();
    let (r0, n0, b0) = &lost[0];
    hit.var(
        "detail",
        format!(
            "{}. Region {} has {} of {} voters on them.",
            why.join("; "),
            r0.id,
            b0.len(),
            n0
        ),
    );
    hit.entities.stores.extend(lost_stores.iter().copied());
    hit.entities.regions.extend(ids.iter().copied());
    for s in &lost_stores {
        if let Some(st) = known.get(&StoreId(*s)) {
            hit.evidence.push(loc_evidence(st.loc));
        }
    }
    for (r, _, _) in lost.iter().take(8) {
        hit.evidence.push(loc_evidence(r.loc));
    }
    vec![hit]
}

// ---------------------------------------------------------------------------------------------
// Unsafe recovery status

/// Heartbeats (10 s each) a stage may take before it counts as stuck.
const STUCK_SECS: i64 = 60;

struct Run {
    stages: Vec<RecoveryStage>,
    /// How far the source reaches in time (the log's last line, or `show`'s trailer).
    horizon: Option<NaiveDateTime>,
}

fn recovery_runs(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Run> {
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
            let Some(mut st) = unsafe_recovery::stage_from_text(&e.message, e.loc) else {
                continue;
            };
            if st.kind == StageKind::Other {
                continue;
            }
            if st.time.is_none() {
                st.time = e.time.map(|t| t.naive_local());
            }
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

fn unsafe_recovery_status(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
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
            "none listed".to_string()
        } else {
            join(&t)
        }
    };
    hit.var("tables", "listed in the final stage once it finishes");
    let detail;
    match &last.kind {
        StageKind::Failed(err) => {
            hit.severity = Some(Severity::Critical);
            hit.var("err", err);
            hit.var("tables", tables_of(last));
            let unreported = last.unreported_stores();
            detail = format!(
                "It FAILED: {err}.{} The failed stores' replicas were not removed: the affected regions stay unavailable until the cause is fixed and the recovery is run again.",
                if unreported.is_empty() {
                    String::new()
                } else {
                    hit.entities.stores.extend(unreported.iter().copied());
                    format!(" Stores that had not reported: {}.", join(&unreported))
                }
            );
        }
        StageKind::ExitForceLeader if last.error_detail().is_some() => {
            let err = last.error_detail().unwrap_or_default().to_string();
            hit.severity = Some(Severity::Critical);
            hit.var("err", &err);
            detail = format!(
                "It hit an error ({err}) and is leaving force-leader mode; PD marks it failed next."
            );
        }
        StageKind::Finished => {
            hit.severity = Some(Severity::Info);
            let tables = tables_of(last);
            hit.var("tables", &tables);
            let meta = last.affected_meta_regions();
            detail = format!(
                "It finished. Affected table ids: {tables}{}. Data of these tables may be rewound or lost: check them in TiDB with ADMIN CHECK TABLE and repair indexes with ADMIN RECOVER INDEX / ADMIN CLEANUP INDEX.",
                if meta.is_empty() {
                    String::new()
                } else {
                    hit.entities.regions.extend(meta.iter().copied());
                    format!("; affected meta regions: {}", join(&meta))
                }
            );
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
                }) => format!(" {a} of {b} alive stores have reported."),
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
                detail = format!(
                    "It is stuck: in this stage for {} ({} heartbeats of 10 s){}.{progress} {}",
                    human_secs(waited),
                    waited / 10,
                    if repeats > 1 {
                        format!(", entered {repeats} times in a row")
                    } else {
                        String::new()
                    },
                    if who.is_empty() {
                        "The output does not say which stores have not reported.".to_string()
                    } else {
                        format!(
                            "Stores that have not reported: {}{}.",
                            join(&unreported),
                            if undispatched.is_empty() {
                                String::new()
                            } else {
                                format!("; plan not dispatched to: {}", join(&undispatched))
                            }
                        )
                    }
                );
            } else {
                hit.severity = Some(Severity::Info);
                detail = format!(
                    "It is in progress (in this stage for {}).{progress}",
                    human_secs(waited)
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

// ---------------------------------------------------------------------------------------------
// PD storage writes

fn storage_write_failed(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let region_group = rule.group("region");
    let mut hits = Vec::new();
    for (set, sev) in [("etcd", Severity::Critical), ("region", Severity::Warning)] {
        let evs: Vec<&LogEvent> = events_in(rule, set, ctx)
            .into_iter()
            .filter(|e| {
                ctx.input(e.loc.input)
                    .is_some_and(|m| m.kind == Kind::PdLog)
            })
            // A region-storage line whose error says `no space left on device` is the
            // LevelDB case, not etcd.
            .filter(|e| set != "etcd" || !region_group.is_some_and(|g| e.in_group(g)))
            .collect();
        if evs.is_empty() {
            continue;
        }
        let mut hit = Hit {
            severity: Some(sev),
            ..Hit::default()
        };
        hit.var("count", evs.len());
        hit.var("first", fmt_time(evs.iter().filter_map(|e| e.time).min()));
        hit.var("last", fmt_time(evs.iter().filter_map(|e| e.time).max()));
        hit.var("message", &evs[0].message);
        let err = evs
            .iter()
            .find_map(|e| e.field("error").or_else(|| e.field("err")))
            .unwrap_or("");
        if !err.is_empty() {
            hit.var("err", format!("; error: {err}"));
        } else {
            hit.var("err", "");
        }
        hit.var(
            "event",
            if set == "etcd" {
                "its etcd (cluster metadata)"
            } else {
                "its local region storage"
            },
        );
        hit.var(
            "detail",
            if set == "etcd" {
                "Writes to PD's embedded etcd fail (quota exceeded / NOSPACE alarm / full disk): PD cannot persist store state (Offline → Tombstone), config or placement changes, and may lose leadership."
            } else {
                "PD could not write its local region storage (LevelDB under <pd data-dir>/region-meta). PD's code treats this as non-fatal: its in-memory region cache still updates, so the cost is a long warm-up after a restart or leader change. With a full disk it has also been seen to leave PD scheduling from stale region data and store removals hanging (tikv/pd#5976)."
            },
        );
        let nodes: BTreeSet<String> = evs
            .iter()
            .filter_map(|e| ctx.input(e.loc.input).and_then(|m| m.node.clone()))
            .collect();
        if let Some(n) = nodes.iter().next() {
            hit.var("node", n);
        }
        hit.entities.nodes.extend(nodes);
        hit.evidence = evs.iter().take(5).map(|e| evidence_of(e)).collect();
        hits.push(hit);
    }
    hits
}

// ---------------------------------------------------------------------------------------------
// Operators canceled, replaced, expired, timed out

/// Ends that are unexpected even once.
fn always_bad(msg: &str) -> bool {
    msg.contains("operator timeout")
        || msg.contains("operator expired")
        || msg.contains("operator is stale")
}

fn cancel_reason(e: &LogEvent) -> Option<String> {
    let raw = e
        .field("additional-info")
        .or_else(|| e.field("additional info"))?;
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let r = v.get("cancel-reason")?.as_str()?;
    (!r.is_empty()).then(|| r.to_string())
}

/// An operator's end line and the region it names.
type EndLine<'a> = (&'a LogEvent, Option<u64>);

fn operator_canceled(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    // (desc, end message, cancel reason) → events
    let mut groups: BTreeMap<(String, String, String), Vec<EndLine<'_>>> = BTreeMap::new();
    for e in events_in(rule, "main", ctx) {
        if ctx.input(e.loc.input).is_none_or(|m| m.kind != Kind::PdLog) {
            continue;
        }
        let op = e.field("operator").and_then(Operator::parse);
        // Merge operators are pd.merge-operator-stuck's: their cancel is also the normal
        // end of every merge (the source region disappears).
        if op.as_ref().is_some_and(Operator::is_merge) {
            continue;
        }
        let desc = op
            .as_ref()
            .map_or("unknown".to_string(), |o| o.desc.clone());
        let region = e
            .field_u64(&["region-id", "region_id"])
            .or_else(|| op.as_ref().and_then(|o| o.region));
        let reason = cancel_reason(e).unwrap_or_else(|| "-".into());
        groups
            .entry((desc, e.message.clone(), reason))
            .or_default()
            .push((e, region));
    }
    let mut hits = Vec::new();
    for ((desc, msg, reason), evs) in groups {
        let mut per_region: BTreeMap<u64, usize> = BTreeMap::new();
        for (_, r) in &evs {
            if let Some(r) = r {
                *per_region.entry(*r).or_default() += 1;
            }
        }
        let repeated = evs.len() >= 3 || per_region.values().any(|n| *n >= 2);
        if !(always_bad(&msg) || repeated) {
            continue;
        }
        let mut hit = Hit::default();
        hit.var("desc", &desc);
        hit.var("event", &msg);
        hit.var("reason", &reason);
        hit.var("count", evs.len());
        let regions: Vec<u64> = per_region.keys().copied().collect();
        if let Some(r) = regions.first() {
            hit.var("region", r);
            hit.var("regions", join(regions.iter().take(20)));
        }
        hit.entities
            .regions
            .extend(regions.iter().take(50).copied());
        hit.var(
            "first",
            fmt_time(evs.iter().filter_map(|(e, _)| e.time).min()),
        );
        hit.var(
            "last",
            fmt_time(evs.iter().filter_map(|(e, _)| e.time).max()),
        );
        let nodes: BTreeSet<String> = evs
            .iter()
            .filter_map(|(e, _)| ctx.input(e.loc.input).and_then(|m| m.node.clone()))
            .collect();
        hit.entities.nodes.extend(nodes);
        hit.evidence = evs.iter().take(6).map(|(e, _)| evidence_of(e)).collect();
        hits.push(hit);
    }
    hits
}

// ---------------------------------------------------------------------------------------------
// Refusals pasted from pd-ctl

/// What a refusal means, and which rule it points to.
fn refusal_meaning(msg: &str) -> &'static str {
    let m = msg.to_ascii_lowercase();
    if m.contains("region with no leader") {
        "PD knows no leader for the region, so it can build no operator for it (transfer-leader, add-peer, remove-peer all fail). This points to tikv.offline-store-pinned-by-leaderless-region: check `region <id>` for a leader shown as {\"role_name\":\"Voter\"}."
    } else if m.contains("has no peer in store") {
        "The operator named a store that holds no peer of the region: check where its peers are with `region <id>` before retrying."
    } else if m.contains("not found") || m.contains("doesn't exist") || m.contains("does not exist")
    {
        "PD does not know the region or store named: the id is wrong, or it was already merged away / removed."
    } else if m.contains("is up and connected") {
        "unsafe remove-failed-stores refuses stores that are still up and connected: only stores that are really gone may be named (tikv.majority-replicas-lost)."
    } else if m.contains("unsafe recovery is running") {
        "An unsafe recovery is already running: watch it with `unsafe remove-failed-stores show` (tikv.unsafe-recovery-status)."
    } else if m.contains("operator") && (m.contains("exist") || m.contains("running")) {
        "The region already has an operator running; PD does not stack operators on a region."
    } else {
        "PD refused the request; the message says why."
    }
}

fn operator_rejected(rule: &Rule, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let mut groups: BTreeMap<String, Vec<&LogEvent>> = BTreeMap::new();
    for e in events_in(rule, "main", ctx) {
        // Pasted pd-ctl answers only; PD's own log lines are other rules' business.
        if ctx.input(e.loc.input).is_none_or(|m| !m.kind.is_pdctl()) {
            continue;
        }
        let lower = e.message.to_ascii_lowercase();
        if !(e.message.starts_with("Failed!")
            || e.message.starts_with("[500]")
            || lower.contains("cannot build operator"))
        {
            continue;
        }
        groups.entry(e.message.clone()).or_default().push(e);
    }
    let mut hits = Vec::new();
    for (msg, evs) in groups {
        let mut hit = Hit::default();
        hit.var("message", &msg);
        hit.var("count", evs.len());
        hit.var("detail", refusal_meaning(&msg));
        // `region has no peer in store 4` names a store.
        if let Some(p) = msg.find("in store ") {
            let digits: String = msg[p + 9..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(s) = digits.parse::<u64>() {
                hit.var("store", s);
                hit.entities.stores.push(s);
            }
        }
        // The pasted command each answer followed names the region (and store) it was about.
        let mut regions: Vec<u64> = evs
            .iter()
            .filter_map(|e| e.field_u64(&["region-id"]))
            .collect();
        regions.sort_unstable();
        regions.dedup();
        if let Some(r) = regions.first() {
            hit.var("region", r);
            hit.var(
                "regions",
                regions
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        hit.entities.regions.extend(&regions);
        let commands: Vec<&str> = evs.iter().filter_map(|e| e.field("command")).collect();
        if !commands.is_empty() {
            hit.var(
                "detail",
                format!(
                    "{} Refused: `{}`.",
                    refusal_meaning(&msg),
                    commands.join("`, `")
                ),
            );
        }
        if let Some(f) = ctx.input(evs[0].loc.input) {
            hit.var("file", &f.path);
        }
        hit.evidence = evs.iter().take(5).map(|e| evidence_of(e)).collect();
        hits.push(hit);
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fix_table() {
        assert_eq!(missing_memory_fixes(Version::new(6, 5, 11)).len(), 3);
        assert!(missing_memory_fixes(Version::new(6, 5, 12)).is_empty());
        assert_eq!(missing_memory_fixes(Version::new(7, 1, 5)).len(), 3);
        assert!(missing_memory_fixes(Version::new(7, 1, 6)).is_empty());
        assert_eq!(
            missing_memory_fixes(Version::new(7, 5, 4)),
            vec![
                "tikv/pd#8700 (label statistics)",
                "tikv/pd#8698 (hot-peer cache)"
            ]
        );
        assert!(missing_memory_fixes(Version::new(7, 5, 5)).is_empty());
        assert_eq!(missing_memory_fixes(Version::new(7, 3, 0)).len(), 2);
        assert_eq!(missing_memory_fixes(Version::new(6, 1, 7)).len(), 2);
        assert!(missing_memory_fixes(Version::new(8, 1, 2)).is_empty());
        assert_eq!(
            missing_memory_fixes(Version::new(8, 4, 0)),
            vec!["tikv/pd#8698 (hot-peer cache)"]
        );
        assert!(missing_memory_fixes(Version::new(8, 5, 0)).is_empty());
    }

    #[test]
    fn snapshot_fix_gates() {
        assert!(snapshot_note(Some(Version::new(7, 5, 6))).contains("#17408"));
        assert!(!snapshot_note(Some(Version::new(7, 5, 7))).contains("#17408"));
        assert!(snapshot_note(Some(Version::new(8, 1, 1))).contains("#17408"));
        assert!(snapshot_note(Some(Version::new(8, 3, 0))).contains("#17408"));
        assert!(!snapshot_note(Some(Version::new(8, 4, 0))).contains("#17408"));
        assert!(snapshot_note(Some(Version::new(8, 4, 0))).contains("#12587"));
        assert!(snapshot_note(Some(Version::new(8, 5, 0))).contains("has the snapshot fixes"));
        assert!(snapshot_note(None).contains("no TiKV version"));
    }

    #[test]
    fn refusal_meanings() {
        assert!(
            refusal_meaning("Failed! [500] \"cannot build operator for region with no leader\"")
                .contains("tikv.offline-store-pinned-by-leaderless-region")
        );
        assert!(
            refusal_meaning("Failed! [500] \"region has no peer in store 4\"").contains("peers")
        );
    }
}
