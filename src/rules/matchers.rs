//! The generic matcher kinds: log-pattern, store-state, region-check, config-check.

use super::spec::{ConfigCheckSpec, LogPatternSpec, RegionCheckSpec, StoreStateSpec};
use super::{EvalCtx, EvidenceRef, Hit, Rule};
use crate::model::units::{human_secs, parse_go_duration};
use crate::model::{Level, LogEvent, Store, StoreId, StoreState};
use std::collections::{BTreeMap, BTreeSet};

pub fn evidence_of(ev: &LogEvent) -> EvidenceRef {
    EvidenceRef {
        loc: ev.loc,
        excerpt: Some(ev.excerpt.clone()),
    }
}

pub fn loc_evidence(loc: crate::model::Location) -> EvidenceRef {
    EvidenceRef { loc, excerpt: None }
}

/// The message and fields as one text, for regexes over whole entries.
pub fn event_text(ev: &LogEvent) -> String {
    let mut s = ev.message.clone();
    for (k, v) in &ev.fields {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Region and store ids named in an event's fields (PD hyphen and TiKV underscore spellings).
pub fn event_ids(ev: &LogEvent) -> (Option<u64>, Option<u64>) {
    (
        ev.field_u64(&["region-id", "region_id", "region"]),
        ev.field_u64(&["store-id", "store_id", "store"]),
    )
}

fn fmt_time(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string())
        .unwrap_or_else(|| "unknown time".into())
}

/// Named regex groups of a matched line.
type Captures = BTreeMap<String, String>;

pub fn log_pattern(
    rule: &Rule,
    spec: &LogPatternSpec,
    regex: Option<&regex::Regex>,
    ctx: &EvalCtx<'_>,
) -> Vec<Hit> {
    let Some(g) = rule.group("main") else {
        return Vec::new();
    };
    let min_level = spec.min_level.as_deref().and_then(Level::parse);
    let mut groups: BTreeMap<String, Vec<(&LogEvent, Option<Captures>)>> = BTreeMap::new();
    for ev in ctx.facts.events.iter().filter(|e| e.in_group(g)) {
        if let Some(min) = min_level
            && ev.level.is_none_or(|l| l < min)
        {
            continue;
        }
        let caps = match regex {
            Some(re) => {
                let text = event_text(ev);
                let Some(c) = re.captures(&text) else {
                    continue;
                };
                let mut m = BTreeMap::new();
                for name in re.capture_names().flatten() {
                    if let Some(v) = c.name(name) {
                        m.insert(name.to_string(), v.as_str().to_string());
                    }
                }
                Some(m)
            }
            None => None,
        };
        let key = match spec.group_by.as_str() {
            "none" => String::new(),
            "file" => ctx
                .input(ev.loc.input)
                .map(|m| m.path.clone())
                .unwrap_or_default(),
            f if f.starts_with("field:") => ev.field(&f[6..]).unwrap_or("-").to_string(),
            _ => ctx.node_or_path(ev.loc.input),
        };
        groups.entry(key).or_default().push((ev, caps));
    }
    let mut hits = Vec::new();
    for (_, evs) in groups {
        if (evs.len() as u64) < spec.min_count {
            continue;
        }
        let mut hit = Hit::default();
        let first = evs.iter().filter_map(|(e, _)| e.time).min();
        let last = evs.iter().filter_map(|(e, _)| e.time).max();
        hit.var("count", evs.len());
        hit.var("first", fmt_time(first));
        hit.var("last", fmt_time(last));
        if let Some((e0, caps)) = evs.first() {
            hit.var("node", ctx.node_or_path(e0.loc.input));
            if let Some(m) = ctx.input(e0.loc.input) {
                hit.var("file", &m.path);
            }
            hit.var("message", &e0.message);
            if let Some(err) = e0.field("err") {
                hit.var("err", err);
            }
            if let Some(caps) = caps {
                for (k, v) in caps {
                    hit.vars.insert(k.clone(), v.clone());
                }
            }
        }
        let mut nodes = BTreeSet::new();
        for (e, _) in &evs {
            let (r, s) = event_ids(e);
            hit.entities.regions.extend(r);
            hit.entities.stores.extend(s);
            if let Some(m) = ctx.input(e.loc.input) {
                nodes.extend(m.node.clone());
                // The store the logging TiKV is, when pd-ctl maps its address.
                hit.entities.stores.extend(m.store);
            }
        }
        hit.entities.nodes.extend(nodes);
        if let Some(r) = hit.entities.regions.first().copied() {
            hit.var("region", r);
        }
        if let Some(s) = hit.entities.stores.first().copied() {
            hit.var("store", s);
        }
        hit.evidence = evs
            .iter()
            .take(spec.max_evidence)
            .map(|(e, _)| evidence_of(e))
            .collect();
        hits.push(hit);
    }
    hits
}

fn engine_ok(s: &Store, engine: &str) -> bool {
    match engine {
        "any" => true,
        "tiflash" => s.is_tiflash(),
        _ => !s.is_tiflash(),
    }
}

/// PD's `max-store-down-time` in seconds (default 30m).
pub fn max_store_down_secs(ctx: &EvalCtx<'_>) -> (i64, bool) {
    match ctx.facts.config("schedule.max-store-down-time") {
        Some((serde_json::Value::String(s), _)) => match parse_go_duration(s) {
            Some(d) => (d, true),
            None => (1800, false),
        },
        _ => (1800, false),
    }
}

/// Seconds between a store's last heartbeat and the newest heartbeat of its dump.
pub fn heartbeat_age(store: &Store, ctx: &EvalCtx<'_>) -> Option<i64> {
    let hb = store.last_heartbeat?;
    let newest = ctx
        .facts
        .stores
        .iter()
        .filter(|s| s.loc.input == store.loc.input)
        .filter_map(|s| s.last_heartbeat)
        .max()?;
    Some((newest - hb).num_seconds())
}

pub fn store_state(spec: &StoreStateSpec, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let (down_secs, _) = max_store_down_secs(ctx);
    let mut hits = Vec::new();
    for s in ctx.facts.latest_stores() {
        if !engine_ok(s, &spec.engine) {
            continue;
        }
        let age = heartbeat_age(s, ctx);
        let by_state = spec.states.iter().any(|st| st == s.state.as_str());
        let by_heartbeat = spec
            .heartbeat_states
            .iter()
            .any(|st| st == s.state.as_str())
            && age.is_some_and(|a| a > down_secs);
        if !(by_state || by_heartbeat) {
            continue;
        }
        // PD computes Disconnected on read for heartbeats 20 s .. max-store-down-time old; a
        // Disconnected record much older than that cannot be live PD state.
        if spec.skip_stale
            && s.state == StoreState::Disconnected
            && age.is_some_and(|a| a > down_secs)
        {
            continue;
        }
        let mut hit = Hit::default();
        hit.var("store", s.id);
        hit.var("state", s.state.as_str());
        if let Some(a) = &s.address {
            hit.var("node", a);
            hit.entities.nodes.push(a.clone());
        }
        if let Some(hb) = s.last_heartbeat {
            hit.var("heartbeat", hb.to_rfc3339());
        }
        match age {
            Some(a) if a > 0 => hit.var(
                "age",
                format!(
                    "{} before the newest heartbeat in the same dump",
                    human_secs(a)
                ),
            ),
            _ => hit.var("age", "no older than the other stores' heartbeats"),
        }
        hit.entities.stores.push(s.id.0);
        hit.evidence.push(loc_evidence(s.loc));
        for r in ctx.facts.latest_regions() {
            if r.down_peers.iter().any(|(p, _)| p.store_id == s.id) {
                hit.entities.regions.push(r.id.0);
                if hit.evidence.len() < 6 {
                    hit.evidence.push(loc_evidence(r.loc));
                }
            }
        }
        if let Some(r) = hit.entities.regions.first().copied() {
            hit.var("region", r);
        }
        hits.push(hit);
    }
    hits
}

fn join<T: ToString>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn region_check(rule: &Rule, spec: &RegionCheckSpec, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    if !spec.leaderless {
        return Vec::new();
    }
    let stores = ctx.facts.latest_stores();
    let known: BTreeMap<StoreId, &Store> = stores.iter().map(|s| (s.id, *s)).collect();
    let regions = ctx.facts.latest_regions();
    let related_group = rule.group("related");
    // Only a full store list tells which stores no longer exist.
    let have_list = ctx.has_store_list();
    let mut hits = Vec::new();
    for s in &stores {
        let state_hit = spec
            .peer_on_store_states
            .iter()
            .any(|st| st == s.state.as_str() || (st == "Offline" && s.is_offline()));
        if !spec.peer_on_store_states.is_empty() && !state_hit {
            continue;
        }
        let pinned: Vec<_> = regions
            .iter()
            .filter(|r| r.leader.is_none() && r.has_peer_on(s.id))
            .collect();
        if pinned.is_empty() {
            continue;
        }
        let mut hit = Hit::default();
        hit.var("store", s.id);
        hit.var("state", s.state.as_str());
        hit.var("region", pinned[0].id);
        hit.var("regions", join(pinned.iter().map(|r| r.id)));
        hit.var("count", pinned.len());
        if let Some(a) = &s.address {
            hit.var("node", a);
            hit.entities.nodes.push(a.clone());
        }
        let mut peer_stores = BTreeSet::new();
        let mut ghosts = BTreeSet::new();
        for r in &pinned {
            for p in &r.peers {
                match known.get(&p.store_id) {
                    Some(st) if st.state == StoreState::Tombstone => {
                        ghosts.insert(p.store_id.0);
                    }
                    None if have_list => {
                        ghosts.insert(p.store_id.0);
                    }
                    _ => {
                        peer_stores.insert(p.store_id.0);
                    }
                }
            }
        }
        hit.var("peer_stores", join(peer_stores.iter()));
        hit.var(
            "ghost_stores",
            if ghosts.is_empty() {
                String::new()
            } else {
                format!(
                    " It also has peers on store(s) {} that are Tombstone or no longer listed by PD (old TiFlash learners are typical).",
                    join(ghosts.iter())
                )
            },
        );
        let sizes: Vec<(i64, i64)> = pinned
            .iter()
            .filter_map(|r| Some((r.approximate_size?, r.approximate_keys?)))
            .collect();
        let all_empty = sizes.len() == pinned.len() && sizes.iter().all(|&(s, k)| s == 0 && k == 0);
        hit.var(
            "size_note",
            if all_empty {
                "PD reports approximate_size 0 and approximate_keys 0 for it.".to_string()
            } else if sizes.is_empty() {
                "The dump does not show its approximate size: check it before any tombstone."
                    .to_string()
            } else {
                "PD reports data in it (approximate_size > 0): tombstoning it LOSES that data."
                    .to_string()
            },
        );
        hit.entities.stores.push(s.id.0);
        hit.evidence.push(loc_evidence(s.loc));
        for r in &pinned {
            hit.entities.regions.push(r.id.0);
            hit.evidence.push(loc_evidence(r.loc));
            if let Some(l) = r.leader_line {
                hit.evidence.push(loc_evidence(crate::model::Location {
                    input: r.loc.input,
                    line: l,
                }));
            }
        }
        // Pasted refusals and PD lines about a leaderless region strengthen the finding.
        let pinned_ids: BTreeSet<u64> = pinned.iter().map(|r| r.id.0).collect();
        for ev in &ctx.facts.events {
            let related = related_group.is_some_and(|g| ev.in_group(g))
                || ev
                    .message
                    .contains("cannot build operator for region with no leader");
            if !related {
                continue;
            }
            let (r, _) = event_ids(ev);
            if r.is_none_or(|r| pinned_ids.contains(&r)) && hit.evidence.len() < 12 {
                hit.evidence.push(evidence_of(ev));
            }
        }
        hits.push(hit);
    }
    hits
}

pub fn config_check(spec: &ConfigCheckSpec, ctx: &EvalCtx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in &spec.any {
        let Some((v, loc)) = ctx.facts.config(&c.key) else {
            continue;
        };
        let n = match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        };
        let Some(n) = n else { continue };
        let fire = match c.op.as_str() {
            "eq" => n == c.value,
            "ne" => n != c.value,
            "lt" => n < c.value,
            "le" => n <= c.value,
            "gt" => n > c.value,
            "ge" => n >= c.value,
            _ => false,
        };
        if fire {
            let mut hit = Hit::default();
            hit.var("key", &c.key);
            hit.var("value", v.to_string().trim_matches('"'));
            hit.evidence.push(loc_evidence(loc));
            hits.push(hit);
            break;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30m0s"), Some(1800));
        assert_eq!(parse_go_duration("1h0m0s"), Some(3600));
        assert_eq!(parse_go_duration("7h51m51.941590113s"), Some(28311));
        assert_eq!(parse_go_duration("20ms"), Some(0));
        assert_eq!(parse_go_duration("x"), None);
    }
}
