//! pd-ctl's config answers besides the whole `config show`: `config show replication` (and
//! other sections, printed flat), `config show cluster-version` (a quoted version), and
//! `config placement-rules show` (a JSON list of rules), whose whole-key-space rules decide
//! how many replicas a region gets when placement rules are enabled.

use crate::model::{ConfigRecord, Location};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Sections `config show <section>` prints alone, flat.
const SECTIONS: &[&str] = &[
    "replication",
    "schedule",
    "label-property",
    "pd-server",
    "replication-mode",
];
/// Keys only the replication section has: a flat answer of only these is `config show
/// replication` saved without its command.
const REPLICATION_KEYS: &[&str] = &[
    "max-replicas",
    "location-labels",
    "strictly-match-label",
    "enable-placement-rules",
    "enable-placement-rules-cache",
    "isolation-level",
];

/// The section a flat config answer shows: named by its command (`config show replication`),
/// or, saved without one, a document of replication keys only.
pub fn section_of(command: Option<&str>, m: &Map<String, Value>) -> Option<&'static str> {
    if let Some(c) = command {
        let w: Vec<&str> = c.split_whitespace().collect();
        if w.starts_with(&["config", "show"]) {
            return w
                .get(2)
                .and_then(|s| SECTIONS.iter().copied().find(|x| x == s));
        }
    }
    (!m.is_empty() && m.keys().all(|k| REPLICATION_KEYS.contains(&k.as_str())))
        .then_some("replication")
}

/// A config answer as a record: a section printed alone gets its section's prefix
/// (`replication.max-replicas`) and says it shows that section only.
pub fn record(
    values: BTreeMap<String, Value>,
    section: Option<&str>,
    loc: Location,
) -> ConfigRecord {
    let Some(section) = section else {
        return ConfigRecord::pd(values, loc);
    };
    let values = values
        .into_iter()
        .map(|(k, v)| {
            if k.starts_with(&format!("{section}.")) {
                (k, v)
            } else {
                (format!("{section}.{k}"), v)
            }
        })
        .collect();
    let mut r = ConfigRecord::pd(values, loc);
    r.sections = Some(vec![section.to_string()]);
    r
}

/// The version a `config show cluster-version` answer prints (`"5.2.2"`).
pub fn cluster_version(line: &str) -> Option<&str> {
    let v = line.trim().strip_prefix('"')?.strip_suffix('"')?;
    let ok = v.split('.').count() >= 2
        && v.trim_start_matches('v')
            .split(['.', '-'])
            .next()
            .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(v)
}

pub fn cluster_version_record(version: &str, loc: Location) -> ConfigRecord {
    let values = BTreeMap::from([("cluster-version".to_string(), Value::from(version))]);
    let mut r = ConfigRecord::pd(values, loc);
    r.sections = Some(vec!["cluster-version".to_string()]);
    r
}

/// A placement rule object (`group_id`, `id`, `role`, `count`).
pub fn is_rule(m: &Map<String, Value>) -> bool {
    m.contains_key("group_id") && m.contains_key("role")
}

pub fn is_rule_list(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty() && a.iter().all(|r| r.as_object().is_some_and(is_rule)),
        _ => false,
    }
}

/// The rules as settings: `placement-rules.rules` (how many were read), and for the rules that
/// cover the whole key space (empty start and end keys) `placement-rules.replicas` (voters,
/// leaders and followers) and `placement-rules.learners`. A rule with `override` drops the
/// lower-index rules of its group before it, as PD stacks them.
pub fn rules_record(rules: &[&Map<String, Value>], loc: Location) -> ConfigRecord {
    let whole = |r: &Map<String, Value>| {
        let empty = |k: &str| r.get(k).and_then(Value::as_str).is_none_or(str::is_empty);
        empty("start_key") && empty("end_key")
    };
    let mut covering: Vec<&Map<String, Value>> =
        rules.iter().copied().filter(|r| whole(r)).collect();
    let index = |r: &Map<String, Value>| r.get("index").and_then(Value::as_i64).unwrap_or(0);
    covering.sort_by_key(|r| index(r));
    let mut stacked: Vec<&Map<String, Value>> = Vec::new();
    for r in covering {
        if r.get("override").and_then(Value::as_bool) == Some(true) {
            let group = r.get("group_id");
            stacked.retain(|s| s.get("group_id") != group);
        }
        stacked.push(r);
    }
    let count = |roles: &[&str]| -> u64 {
        stacked
            .iter()
            .filter(|r| {
                r.get("role")
                    .and_then(Value::as_str)
                    .is_some_and(|x| roles.contains(&x))
            })
            .filter_map(|r| r.get("count").and_then(Value::as_u64))
            .sum()
    };
    let mut values = BTreeMap::from([(
        "placement-rules.rules".to_string(),
        Value::from(rules.len() as u64),
    )]);
    if !stacked.is_empty() {
        values.insert(
            "placement-rules.replicas".to_string(),
            Value::from(count(&["voter", "leader", "follower"])),
        );
        values.insert(
            "placement-rules.learners".to_string(),
            Value::from(count(&["learner"])),
        );
    }
    let mut r = ConfigRecord::pd(values, loc);
    r.sections = Some(vec!["placement-rules".to_string()]);
    r
}

/// The whole placement rules of a list that is elided (`...`) or pasted with full-width
/// commas (each complete rule object directly in the list), and how many there are.
pub fn salvage_rules(
    doc: &str,
    scan: &super::documents::Scan,
    loc: Location,
) -> Option<(ConfigRecord, u64)> {
    if !doc.trim_start().starts_with('[') {
        return None;
    }
    let rules: Vec<Map<String, Value>> = scan
        .objects
        .iter()
        .filter(|sp| sp.depth == 1)
        .filter_map(|sp| doc.get(sp.start..sp.end))
        .filter_map(|body| match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(m)) if is_rule(&m) => Some(m),
            _ => None,
        })
        .collect();
    if rules.is_empty() {
        return None;
    }
    let refs: Vec<&Map<String, Value>> = rules.iter().collect();
    Some((rules_record(&refs, loc), rules.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InputId;

    fn loc() -> Location {
        Location {
            input: InputId(0),
            line: 1,
        }
    }

    #[test]
    fn the_default_rule_and_an_override_decide_the_replicas() {
        let v: Value = serde_json::from_str(
            r#"[{"group_id":"pd","id":"default","start_key":"","end_key":"","role":"voter","count":3},
                {"group_id":"TiDB_DDL_90","id":"t","start_key":"748","end_key":"749","role":"voter","count":2},
                {"group_id":"pd","id":"five","index":1,"override":true,"start_key":"","end_key":"","role":"voter","count":5},
                {"group_id":"tiflash","id":"f","start_key":"","end_key":"","role":"learner","count":1}]"#,
        )
        .unwrap_or_default();
        assert!(is_rule_list(&v));
        let rules: Vec<&Map<String, Value>> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let r = rules_record(&rules, loc());
        assert_eq!(r.get_f64("placement-rules.replicas"), Some(5.0));
        assert_eq!(r.get_f64("placement-rules.learners"), Some(1.0));
        assert_eq!(r.get_f64("placement-rules.rules"), Some(4.0));
    }

    #[test]
    fn a_section_printed_alone_is_prefixed() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"max-replicas": 3, "location-labels": ""}"#)
                .unwrap_or_default();
        assert_eq!(section_of(None, &m), Some("replication"));
        assert_eq!(
            section_of(Some("config show schedule"), &m),
            Some("schedule")
        );
        assert_eq!(section_of(Some("config show"), &m), None);
        let values = m.into_iter().collect();
        let r = record(values, Some("replication"), loc());
        assert_eq!(r.get_f64("replication.max-replicas"), Some(3.0));
        assert_eq!(
            r.sections.as_deref(),
            Some(&["replication".to_string()][..])
        );
        assert_eq!(cluster_version("\"5.2.2\""), Some("5.2.2"));
        assert_eq!(cluster_version("\"stores\""), None);
    }
}
