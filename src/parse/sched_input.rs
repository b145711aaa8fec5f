//! Inputs that feed PD scheduling facts: Prometheus text and API JSON, `unsafe
//! remove-failed-stores show`, `operator show`.

use super::Collected;
use super::operator::Operator;
use super::{prometheus, unsafe_recovery};
use crate::model::Kind;
use crate::model::sched::{ListedOperator, OperatorSnapshot, SchedFacts};
use crate::model::{Component, InputId, Location, Version};
use serde_json::Value;

/// Metrics the PD rules read. Other series are counted but not kept: a `tiup diag` bundle
/// holds every metric of the cluster and memory must stay bounded by the facts kept.
pub fn metric_wanted(name: &str) -> bool {
    // PD's embedded etcd exports its own `etcd_*` series (disk, raft, leader changes).
    name.starts_with("pd_")
        || name.starts_with("etcd_")
        || matches!(
            name,
            "process_start_time_seconds"
                | "process_resident_memory_bytes"
                | "go_memstats_heap_inuse_bytes"
        )
}

/// Reads one input of a scheduling kind.
pub fn collect(kind: Kind, text: &str, input: InputId) -> Collected<SchedFacts> {
    let mut c = Collected::<SchedFacts> {
        versions: ctl_versions(text),
        ..Collected::default()
    };
    match kind {
        Kind::PrometheusText | Kind::PrometheusJson => {
            let out = if kind == Kind::PrometheusText {
                prometheus::parse_text(text, input, &metric_wanted)
            } else {
                prometheus::parse_json(text, input, &metric_wanted)
            };
            c.records = out.read;
            if kind == Kind::PrometheusText {
                c.unparsed_lines = Some(out.unparsed_lines);
            }
            c.problem = out.problem;
            c.facts.samples = out.samples;
        }
        Kind::PdUnsafeRecovery => {
            let out = unsafe_recovery::parse(text, input);
            c.records = out.records;
            c.problem = out.problem;
            c.partial = out.partial;
            c.facts.recoveries = out.reports;
        }
        Kind::PdctlOperators => {
            let (snaps, problem) = parse_operator_show(text, input);
            c.records = snaps.iter().map(|s| s.ops.len() as u64).sum();
            c.problem = problem;
            c.facts.operator_snapshots = snaps;
        }
        other => {
            c.problem = Some(format!("{other} is not a scheduling input"));
        }
    }
    c
}

/// `tiup ctl:v6.5.0 pd ...` on a pasted command line gives the pd-ctl (≈ PD) version.
fn ctl_versions(text: &str) -> Vec<(Component, Version, u64)> {
    let mut out = Vec::new();
    for (i, l) in text.lines().take(50).enumerate() {
        if let Some(p) = l.find("ctl:v") {
            let v = l[p + 4..].split([' ', '/']).next().unwrap_or("");
            if let Some(v) = Version::parse(v) {
                out.push((Component::Pd, v, i as u64 + 1));
                break;
            }
        }
    }
    out
}

/// `operator show` (a JSON array of operator strings), `operator show` with `?object`-style
/// objects (`desc`, `brief`, `region_id`, ...) and `operator check <id>` (one string
/// `status: X, operator: ...`). Each JSON document is one snapshot.
pub fn parse_operator_show(text: &str, input: InputId) -> (Vec<OperatorSnapshot>, Option<String>) {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1))
        .collect();
    let line_of = |off: usize| -> u64 {
        match line_starts.binary_search(&off) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    };
    let mut snaps = Vec::new();
    let mut problem = None;
    let mut off = 0;
    while off < text.len() {
        let end = text[off..].find('\n').map_or(text.len(), |p| off + p);
        let line = &text[off..end];
        let t = line.trim_start();
        let starts_doc = t.starts_with('[') || t.starts_with('"') || t.starts_with('{');
        if !starts_doc {
            off = end + 1;
            continue;
        }
        let start = off + (line.len() - t.len());
        let mut it = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                let doc_end = start + it.byte_offset();
                let mut ops = Vec::new();
                let elems: Vec<&Value> = match &v {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                // Element lines: find each string's start in order.
                let mut search = start;
                for e in elems {
                    let (op, status) = match e {
                        Value::String(s) => {
                            let status = s
                                .strip_prefix("status: ")
                                .and_then(|r| r.split(',').next())
                                .map(|x| x.trim().to_string());
                            (Operator::parse(s), status)
                        }
                        Value::Object(m) => (op_from_object(m), None),
                        _ => (None, None),
                    };
                    let Some(op) = op else { continue };
                    let key = match e {
                        Value::String(s) => s.chars().take(24).collect::<String>(),
                        _ => "\"desc\"".to_string(),
                    };
                    // The raw text may escape what the decoded string holds: then the
                    // element is cited at the document's start.
                    let found = text[search..doc_end].find(key.as_str()).map(|p| search + p);
                    let at = found.unwrap_or(start);
                    if let Some(f) = found {
                        // Past the match, on a char boundary.
                        search = (f + key.len().max(1)).min(doc_end);
                        while !text.is_char_boundary(search) {
                            search += 1;
                        }
                    }
                    ops.push(ListedOperator {
                        op,
                        status,
                        loc: Location {
                            input,
                            line: line_of(at),
                        },
                    });
                }
                if !ops.is_empty() || matches!(v, Value::Array(ref a) if a.is_empty()) {
                    snaps.push(OperatorSnapshot {
                        ops,
                        loc: Location {
                            input,
                            line: line_of(start),
                        },
                    });
                }
                off = text[doc_end..]
                    .find('\n')
                    .map_or(text.len(), |p| doc_end + p + 1);
            }
            Some(Err(e)) => {
                if problem.is_none() {
                    problem = Some(format!(
                        "operator list at line {} is not readable JSON ({e})",
                        line_of(start)
                    ));
                }
                off = end + 1;
            }
            None => off = end + 1,
        }
    }
    if snaps.is_empty() && problem.is_none() {
        problem = Some("no operator list found".into());
    }
    (snaps, problem)
}

/// `{"desc": "...", "brief": "...", "region_id": N, "region_epoch": {...}, "kind": N, ...}`
fn op_from_object(m: &serde_json::Map<String, Value>) -> Option<Operator> {
    let desc = m.get("desc")?.as_str()?.to_string();
    let brief = m.get("brief").and_then(Value::as_str).map(str::to_string);
    let mut op = Operator::parse(&match &brief {
        Some(b) => format!("{desc} {{{b}}}"),
        None => desc.clone(),
    })
    .unwrap_or_default();
    op.desc = desc;
    op.region = m.get("region_id").and_then(Value::as_u64);
    if let Some(ep) = m.get("region_epoch") {
        let v = ep.get("version").and_then(Value::as_u64).unwrap_or(0);
        let c = ep.get("conf_ver").and_then(Value::as_u64).unwrap_or(0);
        op.epoch = Some((v, c));
    }
    op.timeout = m.get("timeout").and_then(Value::as_str).map(str::to_string);
    Some(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_show_snapshot_lines() {
        let t = r#"$ tiup ctl:v7.5.1 pd -u http://10.0.1.1:2379 operator show
[
  "merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:512607784(244793,40956), createAt:2024-07-22 20:02:58.803075332 +0800 CST m=+27423622.512140371, startAt:2024-07-22 20:02:58.803798029 +0800 CST m=+27423622.512863076, currentStep:2, size:1, steps:[0:{add learner peer 612422577 on store 16910359}, 1:{promote learner peer 612422577 on store 16910359 to voter}, 2:{remove peer on store 16910361}, 3:{merge region 512607784 into region 513499180}], timeout:[34m0s])",
  "merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:513499180(244859,40965), createAt:2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.512141533, startAt:2024-07-22 20:02:58.803993629 +0800 CST m=+27423622.513058670, currentStep:0, size:1, steps:[0:{merge region 512607784 into region 513499180}], timeout:[34m0s])"
]
"#;
        let c = collect(Kind::PdctlOperators, t, InputId(0));
        assert_eq!(c.problem, None);
        assert_eq!(c.records, 2);
        assert_eq!(c.versions[0].1, Version::new(7, 5, 1));
        let snap = &c.facts.operator_snapshots[0];
        assert_eq!(snap.loc.line, 2);
        assert_eq!(snap.ops[0].loc.line, 3);
        assert_eq!(snap.ops[1].loc.line, 4);
        assert_eq!(
            snap.ops[0].op.current_step_text(),
            Some("remove peer on store 16910361")
        );
    }

    #[test]
    fn check_and_object_forms() {
        let t = "\"status: TIMEOUT, operator: merge-region {merge: region 5 to 6} (kind:leader,region,merge, region:5(2, 3), createAt:2024-01-01 00:00:00 +0000 UTC, startAt:2024-01-01 00:00:01 +0000 UTC, currentStep:0, size:1, steps:[0:{merge region 5 into region 6}], timeout:[1m0s]) timeout\"\n";
        let (s, p) = parse_operator_show(t, InputId(0));
        assert_eq!(p, None);
        assert_eq!(s[0].ops[0].status.as_deref(), Some("TIMEOUT"));
        let o = r#"[{"desc":"merge-region","brief":"merge: region 5 to 6","region_id":5,"region_epoch":{"conf_ver":3,"version":2},"kind":38,"timeout":"1m0s","status":1}]"#;
        let (s, _) = parse_operator_show(o, InputId(0));
        assert_eq!(s[0].ops[0].op.merge, Some((5, 6)));
        assert_eq!(s[0].ops[0].op.region, Some(5));
        let (s, p) = parse_operator_show("[]", InputId(0));
        assert!(s[0].ops.is_empty());
        assert_eq!(p, None);
        let (_, p) = parse_operator_show("[\"x", InputId(0));
        assert!(p.is_some());
        // Multi-byte text and escapes in the strings must not upset the line search.
        let t = "[\"merge-region {é\\\"q} (kind:merge)\",\n \"merge-region {éé} (kind:merge)\"]";
        let (s, _) = parse_operator_show(t, InputId(0));
        assert_eq!(s[0].ops.len(), 2);
        assert_eq!(s[0].ops[1].loc.line, 2);
    }

    #[test]
    fn metrics_and_recovery_inputs() {
        let t = "pd_regions_status{type=\"empty-region-count\"} 12\ntikv_engine_size_bytes 5\n";
        let c = collect(Kind::PrometheusText, t, InputId(0));
        assert_eq!(c.records, 2);
        assert_eq!(c.facts.samples.len(), 1);
        assert_eq!(c.unparsed_lines, Some(0));
        let e = r#"{"status":"error","errorType":"timeout","error":"query timed out"}"#;
        let c = collect(Kind::PrometheusJson, e, InputId(0));
        assert_eq!(c.records, 0);
        assert!(c.problem.unwrap().contains("query timed out"));
        let r = r#"[{"info":"Unsafe recovery Finished","time":"2024-05-10 10:00:40.000","details":["affected table ids: 64"]}]"#;
        let c = collect(Kind::PdUnsafeRecovery, r, InputId(0));
        assert_eq!(c.records, 1);
        assert_eq!(c.facts.recoveries.len(), 1);
    }
}
