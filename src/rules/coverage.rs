//! `analyze --coverage`: which rules could run on this bundle, which were skipped and why,
//! and which inputs no rule looked at.

use super::spec::MatcherSpec;
use super::{Rule, RuleSet};
use crate::model::Facts;
use crate::model::Kind;
use crate::model::{Coverage, RuleCoverage};

/// What a rule reads: input kinds (any of them), described for a person.
struct Needs {
    kinds: Vec<Kind>,
    what: &'static str,
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
            what: "no log of the kinds it reads",
        },
        "stores" => Needs {
            kinds: vec![Kind::PdctlStore, Kind::PdctlStores],
            what: "no pd-ctl store dump (`pd-ctl store`)",
        },
        "regions" | "peers" => Needs {
            kinds: vec![Kind::PdctlRegion, Kind::PdctlRegions],
            what: "no pd-ctl region dump (`pd-ctl region store <id>` or `region <id>`)",
        },
        "configs" => Needs {
            kinds: vec![Kind::PdctlConfig],
            what: "no PD config (`pd-ctl config show`)",
        },
        "series" | "samples" => Needs {
            kinds: vec![Kind::PrometheusText, Kind::PrometheusJson],
            what: "no metrics dump (Prometheus text or API JSON)",
        },
        "templates" => Needs {
            kinds: LOGS.to_vec(),
            what: "no log",
        },
        _ => Needs {
            kinds: Kind::ALL.to_vec(),
            what: "none of the inputs it reads",
        },
    }
}

fn needs(rule: &Rule) -> Needs {
    let pdctl_answers = [Kind::PdctlTranscript];
    let Some(matcher) = &rule.spec.matcher else {
        return match &rule.spec.query {
            Some(q) => table_kinds(&q.from, &q.inputs),
            None => table_kinds("", &None),
        };
    };
    match matcher {
        MatcherSpec::LogPattern(lp) => Needs {
            kinds: kinds_of(&lp.inputs),
            what: "no log of the kinds it reads",
        },
        MatcherSpec::StoreState(_) => Needs {
            kinds: vec![Kind::PdctlStore, Kind::PdctlStores],
            what: "no pd-ctl store dump (`pd-ctl store`)",
        },
        MatcherSpec::RegionCheck(_) => Needs {
            kinds: vec![Kind::PdctlRegion, Kind::PdctlRegions],
            what: "no pd-ctl region dump (`pd-ctl region store <id>` or `region <id>`)",
        },
        MatcherSpec::ConfigCheck(_) => Needs {
            kinds: vec![Kind::PdctlConfig],
            what: "no PD config (`pd-ctl config show`)",
        },
        MatcherSpec::MetricThreshold(_) => Needs {
            kinds: vec![Kind::PrometheusText, Kind::PrometheusJson],
            what: "no metrics dump (Prometheus text or API JSON)",
        },
        MatcherSpec::LogSequence(_) => Needs {
            kinds: LOGS.to_vec(),
            what: "no log",
        },
        MatcherSpec::Builtin(b) => match b.name.as_str() {
            "scale-in-no-target" | "scale-in-blocked-by-space" => Needs {
                kinds: vec![Kind::PdctlStores],
                what: "no full pd-ctl store list (`pd-ctl store`)",
            },
            "error-burst" => Needs {
                kinds: LOGS.to_vec(),
                what: "no log",
            },
            n if n.starts_with("crdb")
                || b.inputs
                    .as_ref()
                    .is_some_and(|i| i.iter().any(|k| k.starts_with("crdb"))) =>
            {
                Needs {
                    kinds: vec![
                        Kind::CrdbLog,
                        Kind::CrdbNodeStatus,
                        Kind::CrdbDecommissionOutput,
                    ],
                    what: "no CockroachDB log or CLI output",
                }
            }
            _ => {
                let mut kinds = kinds_of(&b.inputs);
                kinds.extend(pdctl_answers);
                kinds.extend([
                    Kind::PdctlStore,
                    Kind::PdctlStores,
                    Kind::PdctlRegions,
                    Kind::PdctlRegion,
                    Kind::PdctlConfig,
                    Kind::PdctlOperators,
                    Kind::PdUnsafeRecovery,
                    Kind::PrometheusJson,
                    Kind::PrometheusText,
                ]);
                Needs {
                    kinds,
                    what: "none of the inputs it reads",
                }
            }
        },
    }
}

pub fn coverage(rules: &RuleSet, kinds: &[(String, Kind, bool)], _facts: &Facts) -> Coverage {
    let present: Vec<Kind> = kinds.iter().filter(|k| k.2).map(|k| k.1).collect();
    let mut used: Vec<Kind> = Vec::new();
    let mut out = Coverage::default();
    for r in &rules.rules {
        let n = needs(r);
        let ran = n.kinds.iter().any(|k| present.contains(k));
        if ran {
            used.extend(n.kinds.iter().copied());
        }
        out.rules.push(RuleCoverage {
            id: r.spec.id.clone(),
            status: if ran { "ran" } else { "skipped" },
            reason: (!ran).then(|| format!("{} in the bundle", n.what)),
        });
    }
    out.unused_inputs = kinds
        .iter()
        .filter(|(_, k, parsed)| *parsed && !used.contains(k))
        .map(|(p, _, _)| p.clone())
        .collect();
    out
}
