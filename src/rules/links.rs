//! Symptom → cause: a symptom rule (`tidb.region-unavailable`, `tikv.server-is-busy`,
//! `crdb.unavailable-ranges`, …) declares in its file the rules that explain it
//! (`[[caused-by]]`). When one of those fired on the same store or node (or anywhere in the
//! cluster, as the declaration says) in an overlapping time window, the symptom names it and is
//! ranked right under it, so one cause makes one headline.

use super::spec::{CausedBySpec, LinkScope};
use super::template;
use crate::model::{CauseRef, Facts, Finding, Location};
use chrono::{DateTime, FixedOffset};
use std::collections::{BTreeMap, BTreeSet};

/// Names the template of a `caused-by` text may use.
pub const TEXT_VARS: &[&str] = &[
    "cause_rule",
    "cause_title",
    "cause_entities",
    "cause_first",
    "cause_last",
];

/// Names an untimed text may use (the cause has no times: a pd-ctl or table snapshot).
pub const UNTIMED_VARS: &[&str] = &["cause_rule", "cause_title", "cause_entities"];

/// How far apart two findings' windows may be and still overlap, when the declaration names
/// no `within`.
const DEFAULT_WITHIN_SECS: i64 = 15 * 60;

/// The times and entities of one finding, as linking compares them.
struct Scope {
    window: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    /// Cites log lines that carry no wall time (a dmesg line stamped in seconds since boot):
    /// when it happened is unknown, so it links to nothing.
    untimed_log: bool,
    stores: BTreeSet<u64>,
    nodes: BTreeSet<String>,
}

/// Links symptoms to causes and reorders `findings` (already sorted by severity): each cause
/// is followed by the symptoms it explains. `links` holds each rule's declarations by id.
pub fn link(
    mut findings: Vec<Finding>,
    links: &BTreeMap<String, Vec<CausedBySpec>>,
    facts: &Facts,
) -> Vec<Finding> {
    if links.is_empty() || findings.len() < 2 {
        return findings;
    }
    let times = event_times(facts);
    let addr_of: BTreeMap<u64, String> = facts
        .latest_stores()
        .into_iter()
        .filter_map(|s| Some((s.id.0, s.address.clone()?)))
        .collect();
    let scopes: Vec<Scope> = findings
        .iter()
        .map(|f| scope_of(f, &times, &addr_of))
        .collect();
    // Each symptom's causes, by index, in rank order (the first is the one it goes under).
    let mut causes: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    let mut updates = Vec::new();
    for (si, symptom) in findings.iter().enumerate() {
        let Some(decls) = links.get(&symptom.rule) else {
            continue;
        };
        let mut cause_refs = Vec::new();
        let mut sentences = Vec::new();
        for decl in decls {
            let within = decl.within_secs().unwrap_or(DEFAULT_WITHIN_SECS);
            for (ci, cause) in findings.iter().enumerate() {
                if ci == si
                    || !decl.rules.contains(&cause.rule)
                    || causes[si].contains(&ci)
                    || !same_place(decl.same, &scopes[si], &scopes[ci])
                    || !overlaps(&scopes[si], &scopes[ci], within)
                {
                    continue;
                }
                causes[si].push(ci);
                cause_refs.push(CauseRef {
                    rule: cause.rule.clone(),
                    title: cause.title.clone(),
                    entities: cause.entities.clone(),
                });
                // One sentence per cause rule: a second store's OOM kill adds no new reason.
                if cause_refs.iter().filter(|c| c.rule == cause.rule).count() == 1 {
                    sentences.push(sentence(decl, cause, &scopes[ci]));
                }
            }
        }
        updates.push((si, cause_refs, sentences));
    }
    for (si, cause_refs, sentences) in updates {
        let s = &mut findings[si];
        s.caused_by = cause_refs;
        for t in sentences {
            s.summary.push(' ');
            s.summary.push_str(&t);
        }
    }
    for (si, cs) in causes.iter().enumerate() {
        let symptom_rule = findings[si].rule.clone();
        for &ci in cs {
            let e = &mut findings[ci].explains;
            if !e.contains(&symptom_rule) {
                e.push(symptom_rule.clone());
            }
        }
    }
    reorder(findings, &causes)
}

/// Places each symptom right after its first cause (recursively: a busy TiKV explained by a
/// write stall can itself explain TiDB's unavailable regions). Cycles keep the rank order.
fn reorder(findings: Vec<Finding>, causes: &[Vec<usize>]) -> Vec<Finding> {
    let n = findings.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut parent: Vec<Option<usize>> = vec![None; n];
    for (si, cs) in causes.iter().enumerate() {
        if let Some(&ci) = cs.first() {
            parent[si] = Some(ci);
        }
    }
    // A chain that comes back to itself is no explanation: break it at its first member.
    for start in 0..n {
        let mut seen = BTreeSet::new();
        let mut at = start;
        while let Some(p) = parent[at] {
            if !seen.insert(at) {
                parent[at] = None;
                break;
            }
            at = p;
        }
    }
    for (si, p) in parent.iter().enumerate() {
        if let Some(ci) = p {
            children[*ci].push(si);
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    fn place(i: usize, children: &[Vec<usize>], placed: &mut [bool], order: &mut Vec<usize>) {
        if placed[i] {
            return;
        }
        placed[i] = true;
        order.push(i);
        for &c in &children[i] {
            place(c, children, placed, order);
        }
    }
    // A cause takes the rank of the highest-ranked finding of its group.
    let root = |mut i: usize| {
        while let Some(p) = parent[i] {
            i = p;
        }
        i
    };
    for i in 0..n {
        place(root(i), &children, &mut placed, &mut order);
    }
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

fn sentence(decl: &CausedBySpec, cause: &Finding, scope: &Scope) -> String {
    let mut vars = BTreeMap::new();
    vars.insert("cause_rule".to_string(), cause.rule.clone());
    vars.insert("cause_title".to_string(), cause.title.clone());
    vars.insert("cause_entities".to_string(), entities_words(cause));
    let text = match (scope.window, &decl.text_untimed) {
        (Some((first, last)), _) => {
            vars.insert("cause_first".into(), stamp(first));
            vars.insert("cause_last".into(), stamp(last));
            &decl.text
        }
        (None, Some(untimed)) => untimed,
        (None, None) => &decl.text,
    };
    match template::render(text, &vars) {
        Ok(s) | Err(s) => s,
    }
}

fn stamp(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

/// `store 4, 10.0.1.5:20160` (what the cause names), or `the cluster`.
fn entities_words(f: &Finding) -> String {
    let mut parts: Vec<String> = f
        .entities
        .stores
        .iter()
        .map(|s| format!("store {s}"))
        .collect();
    parts.extend(f.entities.nodes.iter().cloned());
    if parts.is_empty() {
        "the cluster".into()
    } else {
        parts.join(", ")
    }
}

fn same_place(scope: LinkScope, a: &Scope, b: &Scope) -> bool {
    match scope {
        LinkScope::Cluster => true,
        LinkScope::Store | LinkScope::Node => {
            a.stores.intersection(&b.stores).next().is_some()
                || a.nodes.intersection(&b.nodes).next().is_some()
        }
    }
}

/// Whether two windows overlap, `within` seconds of slack either side. A finding on snapshots
/// only (pd-ctl, a node status table) overlaps everything: it describes the moment the bundle
/// was taken, after or during the trouble.
fn overlaps(a: &Scope, b: &Scope, within: i64) -> bool {
    if a.untimed_log || b.untimed_log {
        return false;
    }
    match (a.window, b.window) {
        (Some((a0, a1)), Some((b0, b1))) => {
            let slack = chrono::Duration::seconds(within);
            a0 <= b1 + slack && b0 <= a1 + slack
        }
        _ => true,
    }
}

fn scope_of(
    f: &Finding,
    times: &BTreeMap<Location, Option<DateTime<FixedOffset>>>,
    addr_of: &BTreeMap<u64, String>,
) -> Scope {
    let mut first: Option<DateTime<FixedOffset>> = None;
    let mut last: Option<DateTime<FixedOffset>> = None;
    let mut untimed = false;
    for e in &f.evidence {
        match times.get(&e.loc) {
            Some(&Some(t)) => {
                first = Some(first.map_or(t, |x| x.min(t)));
                last = Some(last.map_or(t, |x| x.max(t)));
            }
            Some(None) => untimed = true,
            None => {}
        }
    }
    let mut stores: BTreeSet<u64> = f.entities.stores.iter().copied().collect();
    let mut nodes: BTreeSet<String> = f.entities.nodes.iter().cloned().collect();
    for (id, addr) in addr_of {
        if stores.contains(id) {
            nodes.insert(addr.clone());
        }
        if nodes.contains(addr) {
            stores.insert(*id);
        }
    }
    Scope {
        window: first.zip(last),
        untimed_log: untimed && first.is_none(),
        stores,
        nodes,
    }
}

/// The time of every log event (`None`: the line has no wall time).
fn event_times(facts: &Facts) -> BTreeMap<Location, Option<DateTime<FixedOffset>>> {
    facts.events.iter().map(|e| (e.loc, e.time)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Entities, EvidenceRef, InputId, LogEvent, Severity, Store, StoreBalance, StoreId,
        StoreState,
    };

    fn at(input: u64, line: u64) -> Location {
        Location {
            input: InputId(input),
            line,
        }
    }

    fn finding(
        rule: &str,
        severity: Severity,
        stores: &[u64],
        nodes: &[&str],
        ev: Location,
    ) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            title: format!("{rule} title"),
            summary: String::new(),
            entities: Entities {
                stores: stores.to_vec(),
                nodes: nodes.iter().map(|n| n.to_string()).collect(),
                ..Entities::default()
            },
            evidence: vec![EvidenceRef {
                loc: ev,
                excerpt: None,
            }],
            remediation: Vec::new(),
            references: Vec::new(),
            confidence: crate::model::Confidence::Definite,
            assumptions: Vec::new(),
            caused_by: Vec::new(),
            explains: Vec::new(),
        }
    }

    fn event(loc: Location, time: Option<&str>) -> LogEvent {
        let mut e = LogEvent::at(loc);
        e.time = time.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        e
    }

    fn store(id: u64, addr: &str) -> Store {
        Store {
            id: StoreId(id),
            address: Some(addr.into()),
            state: StoreState::Up,
            node_state: None,
            labels: Vec::new(),
            version: None,
            capacity: None,
            available: None,
            region_count: None,
            leader_count: None,
            balance: StoreBalance::default(),
            uptime: None,
            last_heartbeat: None,
            loc: at(9, 1),
            complete: true,
        }
    }

    fn decl(rules: &[&str], same: LinkScope) -> Vec<CausedBySpec> {
        vec![CausedBySpec {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            same,
            within: None,
            text: "because {cause_rule}".into(),
            text_untimed: None,
        }]
    }

    /// A busy store 1 (named by id in TiDB's log) and a write stall in the log of the TiKV at
    /// 10.0.1.5:20160: the store listing says they are the same store.
    #[test]
    fn same_store_through_the_store_listing() {
        let mut facts = Facts::default();
        facts.stores.push(store(1, "10.0.1.5:20160"));
        facts.stores.push(store(2, "10.0.1.6:20160"));
        facts
            .events
            .push(event(at(0, 1), Some("2024-01-01T10:00:00+00:00")));
        facts
            .events
            .push(event(at(1, 1), Some("2024-01-01T10:05:00+00:00")));
        let links = BTreeMap::from([(
            "tikv.server-is-busy".to_string(),
            decl(&["tikv.write-stall"], LinkScope::Store),
        )]);
        let busy = finding(
            "tikv.server-is-busy",
            Severity::Critical,
            &[1],
            &["10.0.1.2:4000"],
            at(0, 1),
        );
        let stall = finding(
            "tikv.write-stall",
            Severity::Warning,
            &[],
            &["10.0.1.5:20160"],
            at(1, 1),
        );
        let out = link(vec![busy.clone(), stall.clone()], &links, &facts);
        assert_eq!(out[0].rule, "tikv.write-stall");
        assert_eq!(out[1].caused_by[0].rule, "tikv.write-stall");
        assert!(out[1].summary.ends_with("because tikv.write-stall"));
        // A stall on the other store explains nothing here.
        let other = finding(
            "tikv.write-stall",
            Severity::Warning,
            &[],
            &["10.0.1.6:20160"],
            at(1, 1),
        );
        let out = link(vec![busy, other], &links, &facts);
        assert!(
            out.iter()
                .all(|f| f.caused_by.is_empty() && f.explains.is_empty())
        );
        assert_eq!(out[0].rule, "tikv.server-is-busy");
    }

    /// dmesg stamped in seconds since boot: when the kill happened is unknown.
    #[test]
    fn log_lines_without_time_link_to_nothing() {
        let mut facts = Facts::default();
        facts
            .events
            .push(event(at(0, 1), Some("2024-01-01T10:00:00+00:00")));
        facts.events.push(event(at(1, 1), None));
        let links = BTreeMap::from([(
            "tidb.region-unavailable".to_string(),
            decl(&["tikv.oom-killed"], LinkScope::Cluster),
        )]);
        let symptom = finding(
            "tidb.region-unavailable",
            Severity::Critical,
            &[],
            &["tidb"],
            at(0, 1),
        );
        let oom = finding(
            "tikv.oom-killed",
            Severity::Critical,
            &[],
            &["10.0.1.5"],
            at(1, 1),
        );
        let out = link(vec![symptom.clone(), oom], &links, &facts);
        assert!(out.iter().all(|f| f.caused_by.is_empty()));
        // A snapshot (a dump line, no log event) describes the bundle's moment: it links.
        let down = finding("tikv.oom-killed", Severity::Critical, &[4], &[], at(9, 3));
        let out = link(vec![symptom, down], &links, &facts);
        assert_eq!(out[1].caused_by.len(), 1);
    }

    /// Two rules declared as each other's cause: no finding is lost, the rank order stays.
    #[test]
    fn a_cycle_loses_no_finding() {
        let facts = Facts::default();
        let links = BTreeMap::from([
            ("a".to_string(), decl(&["b"], LinkScope::Cluster)),
            ("b".to_string(), decl(&["a"], LinkScope::Cluster)),
        ]);
        let a = finding("a", Severity::Critical, &[], &[], at(0, 1));
        let b = finding("b", Severity::Warning, &[], &[], at(0, 2));
        let c = finding("c", Severity::Info, &[], &[], at(0, 3));
        let out = link(vec![a, b, c], &links, &facts);
        let rules: Vec<&str> = out.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules.len(), 3);
        assert!(rules.contains(&"a") && rules.contains(&"b") && rules[2] == "c");
    }
}
