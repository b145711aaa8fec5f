//! The PD correlations (merge operators stuck, merge blocked) on hand-made facts: windows,
//! restarts, grace after a normal end, metric outcomes and settle times.

use chrono::DateTime;
use kvtriage::model::sched::MetricSample;
use kvtriage::model::{Facts, InputId, Kind, Level, Location, LogEvent};
use kvtriage::parse::operator::Operator;
use kvtriage::rules::{EvalCtx, InputMeta, RuleSet, parse_rule};
use std::collections::BTreeMap;

fn loc(line: u64) -> Location {
    Location {
        input: InputId(0),
        line,
    }
}

fn ev(line: u64, time: &str, msg: &str, fields: &[(&str, &str)], groups: Vec<u32>) -> LogEvent {
    LogEvent {
        loc: loc(line),
        time: DateTime::parse_from_rfc3339(time).ok(),
        level: Some(Level::Info),
        source: None,
        message: msg.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        excerpt: msg.into(),
        groups,
        // The parser reads the `operator` field once; so does this test.
        operator: fields
            .iter()
            .find(|(k, _)| *k == "operator")
            .and_then(|(_, v)| Operator::parse(v))
            .map(Box::new),
    }
}

const SEQ_RULE: &str = r#"id = "test.seq"
severity = "warning"
title = "region {region} at {step}"
summary = "{reason}"
[correlation]
name = "merge-operator-stuck"
key = ["region-id"]
start = ["add operator"]
start-contains = ["merge-region"]
end = ["operator finish"]
fail = ["operator timeout"]
mode = "without"
window = "10m"
operator-field = "operator"
"#;

fn rules(text: &str) -> RuleSet {
    RuleSet::from_specs(vec![parse_rule("t.toml", text).unwrap()]).unwrap()
}

fn group(rs: &RuleSet, set: &str) -> u32 {
    rs.rules[0].group(set).unwrap()
}

fn meta() -> BTreeMap<InputId, InputMeta> {
    BTreeMap::from([(
        InputId(0),
        InputMeta {
            kind: Kind::PdLog,
            node: Some("10.0.1.1:2379".into()),
            node_from_path: false,
            path: "pd.log".into(),
            store: None,
            last_time: None,
        },
    )])
}

const OP: &str = "\"merge-region {merge: region 5 to 6} (kind:leader,region,merge, region:5(2,3), createAt:2024-01-01 00:00:00 +0000 UTC, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, steps:[transfer leader from store 1 to store 2, merge region 5 into region 6])\"";

#[test]
fn bad_tables_fail_at_load() {
    let bad = SEQ_RULE.replace("window = \"10m\"", "window = \"soon\"");
    let e = RuleSet::from_specs(vec![parse_rule("t.toml", &bad).unwrap()]).err();
    assert!(e.unwrap().to_string().contains("window"));
    let bad = SEQ_RULE.replace("mode = \"without\"", "mode = \"without\"\nwindoww = 1");
    assert!(RuleSet::from_specs(vec![parse_rule("t.toml", &bad).unwrap()]).is_err());
    let m = r#"id = "t.m"
severity = "warning"
title = "x"
summary = "y"
[correlation]
name = "merge-blocked"
metric = "pd_x"
measure = "sometimes"
min = 1
"#;
    assert!(RuleSet::from_specs(vec![parse_rule("t.toml", m).unwrap()]).is_err());
}

#[test]
fn without_fires_after_window_and_not_before() {
    let rs = rules(SEQ_RULE);
    let (s, e) = (group(&rs, "start"), group(&rs, "end"));
    let mut facts = Facts::default();
    facts.events.push(ev(
        1,
        "2024-01-01T00:00:00+00:00",
        "add operator",
        &[("region-id", "5"), ("operator", OP)],
        vec![s],
    ));
    // Something else in the same log 5 minutes later: not long enough.
    facts
        .events
        .push(ev(2, "2024-01-01T00:05:00+00:00", "other", &[], vec![]));
    let inputs = meta();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    assert!(rs.evaluate_ctx(&ctx).is_empty());
    facts
        .events
        .push(ev(3, "2024-01-01T00:30:00+00:00", "other", &[], vec![]));
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    let f = rs.evaluate_ctx(&ctx);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].title,
        "region 5 at transfer leader from store 1 to store 2"
    );
    assert_eq!(f[0].entities.stores, vec![1, 2]);
    assert_eq!(f[0].entities.regions, vec![5, 6]);
    // Finished: quiet.
    facts.events.push(ev(
        4,
        "2024-01-01T00:31:00+00:00",
        "operator finish",
        &[("region-id", "5")],
        vec![e],
    ));
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    assert!(rs.evaluate_ctx(&ctx).is_empty());
}

#[test]
fn a_pd_restart_forgets_open_operators() {
    let text = SEQ_RULE.replace(
        "mode = ",
        "reset = [\"Welcome to Placement Driver\"]\nmode = ",
    );
    let rs = rules(&text);
    let (s, r) = (group(&rs, "start"), group(&rs, "reset"));
    let mut facts = Facts::default();
    facts.events.push(ev(
        1,
        "2024-01-01T00:00:00+00:00",
        "add operator",
        &[("region-id", "5"), ("operator", OP)],
        vec![s],
    ));
    facts.events.push(ev(
        2,
        "2024-01-01T00:01:00+00:00",
        "Welcome to Placement Driver (PD)",
        &[],
        vec![r],
    ));
    facts
        .events
        .push(ev(3, "2024-01-01T00:45:00+00:00", "other", &[], vec![]));
    let inputs = meta();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    assert!(rs.evaluate_ctx(&ctx).is_empty());
}

#[test]
fn failure_fires_at_once_but_not_within_grace_after_an_end() {
    let text = SEQ_RULE.replace("operator-field", "grace = \"1m\"\noperator-field");
    let rs = rules(&text);
    let (s, e, f) = (group(&rs, "start"), group(&rs, "end"), group(&rs, "fail"));
    let mut facts = Facts::default();
    facts.events.push(ev(
        1,
        "2024-01-01T00:00:00+00:00",
        "add operator",
        &[("region-id", "5"), ("operator", OP)],
        vec![s],
    ));
    facts.events.push(ev(
        2,
        "2024-01-01T00:00:10+00:00",
        "operator finish",
        &[("region-id", "6")],
        vec![e],
    ));
    facts.events.push(ev(
        3,
        "2024-01-01T00:00:10+00:00",
        "operator timeout",
        &[("region-id", "5"), ("operator", OP)],
        vec![f],
    ));
    let inputs = meta();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    // Region 6 never had an add line here, so region 5 is still open when it times out.
    assert_eq!(rs.evaluate_ctx(&ctx).len(), 1);
    let mut facts = Facts::default();
    facts.events.push(ev(
        1,
        "2024-01-01T00:00:00+00:00",
        "add operator",
        &[("region-id", "5"), ("operator", OP)],
        vec![s],
    ));
    facts.events.push(ev(
        2,
        "2024-01-01T00:00:10+00:00",
        "operator finish",
        &[("region-id", "5")],
        vec![e],
    ));
    facts.events.push(ev(
        3,
        "2024-01-01T00:00:10+00:00",
        "operator timeout",
        &[("region-id", "5"), ("operator", OP)],
        vec![f],
    ));
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    assert!(rs.evaluate_ctx(&ctx).is_empty());
}

#[test]
fn then_mode_fires_on_b_after_a() {
    let text = r#"id = "test.then"
severity = "info"
title = "{region}"
summary = "{reason}"
[correlation]
name = "merge-operator-stuck"
key = ["region-id"]
start = ["leader changed"]
end = ["operator timeout"]
mode = "then"
window = "1m"
"#;
    let rs = rules(text);
    let (s, e) = (group(&rs, "start"), group(&rs, "end"));
    let mut facts = Facts::default();
    facts.events.push(ev(
        1,
        "2024-01-01T00:00:00+00:00",
        "leader changed",
        &[("region-id", "9")],
        vec![s],
    ));
    facts.events.push(ev(
        2,
        "2024-01-01T00:00:30+00:00",
        "operator timeout",
        &[("region-id", "9")],
        vec![e],
    ));
    facts.events.push(ev(
        3,
        "2024-01-01T00:10:00+00:00",
        "leader changed",
        &[("region-id", "8")],
        vec![s],
    ));
    facts.events.push(ev(
        4,
        "2024-01-01T00:20:00+00:00",
        "operator timeout",
        &[("region-id", "8")],
        vec![e],
    ));
    let inputs = meta();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    let f = rs.evaluate_ctx(&ctx);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].title, "9");
}

fn sample(labels: &[(&str, &str)], t: f64, v: f64, line: u64) -> MetricSample {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    l.sort();
    MetricSample {
        name: "pd_checker_event_count".into(),
        labels: l,
        time: Some(t),
        value: v,
        loc: loc(line),
    }
}

const METRIC_RULE: &str = r#"id = "test.metric"
severity = "warning"
title = "{reason}"
summary = "{why} {fix}{outcome}"
[correlation]
name = "merge-blocked"
metric = "pd_checker_event_count"
labels = { type = "merge_checker" }
group-by = "name"
measure = "increase"
min = 100
min-share = 0.05
ignore = ["check", "new-operator"]
aliases = { "skip-uninit-region" = "no-leader" }
settle = { "no-leader" = "10m" }
outcomes = { "no-target" = "adj-" }
[correlation.explain.adj-disallow-merge]
why = "different placement"
fix = "align at {pd}"
"#;

#[test]
fn metric_groups_outcomes_and_settle() {
    let rs = rules(METRIC_RULE);
    let mut facts = Facts::default();
    let mt = [("type", "merge_checker")];
    for (i, t) in [0.0, 600.0, 1200.0, 1800.0].iter().enumerate() {
        let i = i as f64;
        facts
            .sched
            .samples
            .push(sample(&[mt[0], ("name", "no-target")], *t, 1000.0 * i, 1));
        facts.sched.samples.push(sample(
            &[mt[0], ("name", "adj-disallow-merge")],
            *t,
            900.0 * i,
            2,
        ));
        facts
            .sched
            .samples
            .push(sample(&[mt[0], ("name", "adj-not-exist")], *t, 10.0 * i, 3));
        facts
            .sched
            .samples
            .push(sample(&[mt[0], ("name", "check")], *t, 1e6 * i, 4));
        // Rises only in the first interval, right after the counter restarted at 0.
        let v = if i == 0.0 { 0.0 } else { 500.0 };
        facts
            .sched
            .samples
            .push(sample(&[mt[0], ("name", "skip-uninit-region")], *t, v, 5));
    }
    // A PD start at t=0 (process_start_time_seconds of the same instance would do too).
    let inputs = meta();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    let f = rs.evaluate_ctx(&ctx);
    // no-leader rose 500 in the first 10 minutes: without a known start it counts.
    let names: Vec<&str> = f.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(names, vec!["adj-disallow-merge", "no-leader"]);
    assert!(f[0].summary.contains("align at <pd-addr>"));
    assert!(f[0].summary.contains("`no-target`, which rose by 3000"));
    // With the start known, the burst right after it is expected.
    let mut l = sample(&[("instance", "10.0.1.1:2379")], 0.0, 0.0, 9);
    l.name = "process_start_time_seconds".into();
    for s in facts.sched.samples.iter_mut() {
        s.labels.push(("instance".into(), "10.0.1.1:2379".into()));
        s.labels.sort();
    }
    facts.sched.samples.push(l);
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &inputs,
    };
    let f = rs.evaluate_ctx(&ctx);
    let names: Vec<&str> = f.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(names, vec!["adj-disallow-merge"]);
}
