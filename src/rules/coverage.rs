//! `analyze --coverage`: which rules could run on this bundle, which were skipped and why,
//! and which inputs no rule looked at.

use super::{Rule, RuleSet};
use crate::model::Facts;
use crate::model::Kind;
use crate::model::{Coverage, RuleCoverage};

/// What a rule reads: input kinds (any of them), described for a person.
struct Needs {
    kinds: Vec<Kind>,
    what: String,
}

const LOGS: [Kind; 5] = [
    Kind::TikvLog,
    Kind::PdLog,
    Kind::TidbLog,
    Kind::TiflashLog,
    Kind::CrdbLog,
];

fn kinds_of(names: &Option<Vec<String>>) -> Vec<Kind> {
    match names {
        Some(ns) => ns.iter().filter_map(|n| Kind::parse(n)).collect(),
        None => LOGS.to_vec(),
    }
}

/// The input kinds that feed a query's table.
fn table_kinds(table: &str, inputs: &Option<Vec<String>>) -> Needs {
    match table {
        "events" => Needs {
            kinds: kinds_of(inputs)
                .into_iter()
                .chain([Kind::PdctlTranscript, Kind::PdctlStores, Kind::PdctlStore])
                .collect(),
            what: "no log of the kinds it reads".into(),
        },
        "stores" => Needs {
            kinds: vec![Kind::PdctlStore, Kind::PdctlStores],
            what: "no pd-ctl store dump (`pd-ctl store`)".into(),
        },
        "regions" | "peers" => Needs {
            kinds: vec![Kind::PdctlRegion, Kind::PdctlRegions],
            what: "no pd-ctl region dump (`pd-ctl region store <id>` or `region <id>`)".into(),
        },
        "configs" => Needs {
            kinds: vec![
                Kind::PdctlConfig,
                Kind::PdConfig,
                Kind::TikvConfig,
                Kind::TidbConfig,
                Kind::TiupTopology,
                Kind::TidbClusterSpec,
            ],
            what: "no config (`pd-ctl config show`, a config file, a topology)".into(),
        },
        "instances" => Needs {
            kinds: vec![Kind::TiupTopology, Kind::TidbClusterSpec],
            what: "no deployment (a tiup topology, a TidbCluster spec)".into(),
        },
        "series" | "samples" => Needs {
            kinds: vec![Kind::PrometheusText, Kind::PrometheusJson],
            what: "no metrics dump (Prometheus text or API JSON)".into(),
        },
        "templates" => Needs {
            kinds: LOGS.to_vec(),
            what: "no log".into(),
        },
        _ => Needs {
            kinds: Kind::ALL.to_vec(),
            what: "none of the inputs it reads".into(),
        },
    }
}

/// What a rule reads: each entry must be present (a query's `from` table and its `needs`).
fn needs(rule: &Rule) -> Vec<Needs> {
    if let Some(c) = rule.correlation() {
        let (kinds, what) = c.reads();
        return vec![Needs {
            kinds: kinds.to_vec(),
            what,
        }];
    }
    match &rule.spec.query {
        Some(q) => std::iter::once(&q.from)
            .chain(&q.needs)
            .map(|t| table_kinds(t, &q.inputs))
            .collect(),
        None => vec![table_kinds("", &None)],
    }
}

pub fn coverage(rules: &RuleSet, kinds: &[(String, Kind, bool)], _facts: &Facts) -> Coverage {
    let present: Vec<Kind> = kinds.iter().filter(|k| k.2).map(|k| k.1).collect();
    let mut used: Vec<Kind> = Vec::new();
    let mut out = Coverage::default();
    for r in &rules.rules {
        let all = needs(r);
        let missing = all
            .iter()
            .find(|n| !n.kinds.iter().any(|k| present.contains(k)));
        if missing.is_none() {
            used.extend(all.iter().flat_map(|n| n.kinds.iter().copied()));
        }
        out.rules.push(RuleCoverage {
            id: r.spec.id.clone(),
            status: if missing.is_none() { "ran" } else { "skipped" },
            reason: missing.map(|n| format!("{} in the bundle", n.what)),
        });
    }
    out.unused_inputs = kinds
        .iter()
        .filter(|(_, k, parsed)| *parsed && !used.contains(k))
        .map(|(p, _, _)| p.clone())
        .collect();
    out
}
