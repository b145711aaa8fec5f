//! Loading rules: checks at load time, a query over a config table.

use super::*;
use crate::model::{ConfigRecord, Location};

#[test]
fn builtin_rules_load() {
    let rs = RuleSet::builtin().unwrap();
    assert!(rs.rules.len() >= 25);
}

#[test]
fn gates() {
    let (c, op, v) = parse_gate("tikv>=5.1").unwrap();
    assert_eq!((c, op, v), (Component::Tikv, ">=", Version::new(5, 1, 0)));
    assert!(parse_gate("nope>=1").is_none());
}

#[test]
fn bad_rule_files_are_reported() {
    let bad = r#"id = "x.y"
severity = "warning"
title = "t {nosuch}"
summary = "s"
[query]
from = "events"
needles.main = ["a"]
"#;
    let spec = parse_rule("x.toml", bad).unwrap();
    let e = RuleSet::from_specs(vec![spec]).err().unwrap();
    assert!(e.to_string().contains("nosuch"));
    assert!(parse_rule("y.toml", "id = 1").is_err());
    // Names are checked at load: a typo is an error, not a silent null.
    let typo = bad
        .replace("t {nosuch}", "t")
        .replace("needles.main", "where = \"messag == 'x'\"\nneedles.main");
    let e = RuleSet::from_specs(vec![parse_rule("x.toml", &typo).unwrap()])
        .err()
        .unwrap();
    assert!(e.to_string().contains("messag"), "{e}");
    // A rule is a query or a correlation.
    let neither = "id = \"x.z\"\nseverity = \"info\"\ntitle = \"t\"\nsummary = \"s\"\n";
    assert!(RuleSet::from_specs(vec![parse_rule("z.toml", neither).unwrap()]).is_err());
}

fn facts_with_config(v: serde_json::Value) -> Facts {
    let mut values = BTreeMap::new();
    if let serde_json::Value::Object(m) = v {
        for (k, v) in m {
            values.insert(k, v);
        }
    }
    Facts {
        configs: vec![ConfigRecord::pd(
            values,
            Location {
                input: InputId(0),
                line: 3,
            },
        )],
        ..Facts::default()
    }
}

#[test]
fn a_config_query_fires_on_its_condition_only() {
    let rule = r#"id = "test.merge-off"
severity = "warning"
title = "{key} is {value}"
summary = "merging is off"
[query]
from = "configs"
where = "key == 'schedule.merge-schedule-limit' and value == 0"
evidence = ["loc"]
[query.vars]
key = "key"
value = "value"
"#;
    let rs = RuleSet::from_specs(vec![parse_rule("t.toml", rule).unwrap()]).unwrap();
    let inputs = BTreeMap::from([(
        InputId(0),
        InputMeta {
            kind: Kind::PdctlConfig,
            node: None,
            node_from_path: false,
            path: "config.json".into(),
            store: None,
            last_time: None,
        },
    )]);
    let off = facts_with_config(serde_json::json!({"schedule.merge-schedule-limit": 0}));
    let f = rs.evaluate_ctx(&EvalCtx {
        facts: &off,
        inputs: &inputs,
    });
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].title, "schedule.merge-schedule-limit is 0");
    assert_eq!(f[0].evidence[0].loc.line, 3);
    let on = facts_with_config(serde_json::json!({"schedule.merge-schedule-limit": "8"}));
    let f = rs.evaluate_ctx(&EvalCtx {
        facts: &on,
        inputs: &inputs,
    });
    assert!(f.is_empty());
}

#[test]
fn a_step_needing_a_null_value_is_left_out_and_clip_shortens() {
    let rule = r#"id = "test.needs"
severity = "warning"
title = "{short}"
summary = "s"
[query]
from = "configs"
where = "key == 'schedule.merge-schedule-limit'"
evidence = ["loc"]
[query.vars]
short = "clip('abcdefghij', 5)"
zero = "if(value == 0, 'yes', null)"
[[remediation]]
text = "always"
risk = "read-only"
[[remediation]]
text = "only when the limit is zero"
risk = "reversible"
needs = ["zero"]
"#;
    let rs = RuleSet::from_specs(vec![parse_rule("t.toml", rule).unwrap()]).unwrap();
    let inputs = BTreeMap::from([(
        InputId(0),
        InputMeta {
            kind: Kind::PdctlConfig,
            node: None,
            node_from_path: false,
            path: "config.json".into(),
            store: None,
            last_time: None,
        },
    )]);
    let steps = |v: serde_json::Value| {
        let facts = facts_with_config(v);
        let f = rs.evaluate_ctx(&EvalCtx {
            facts: &facts,
            inputs: &inputs,
        });
        assert_eq!(f[0].title, "abcd…");
        f[0].remediation
            .iter()
            .map(|s| s.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        steps(serde_json::json!({"schedule.merge-schedule-limit": 0})),
        ["always", "only when the limit is zero"]
    );
    assert_eq!(
        steps(serde_json::json!({"schedule.merge-schedule-limit": 8})),
        ["always"]
    );
    // A step naming a value the query does not define is a load error.
    let typo = rule.replace("needs = [\"zero\"]", "needs = [\"zer0\"]");
    let e = RuleSet::from_specs(vec![parse_rule("t.toml", &typo).unwrap()])
        .err()
        .unwrap();
    assert!(e.to_string().contains("zer0"), "{e}");
}
