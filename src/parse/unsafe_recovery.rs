//! `pd-ctl unsafe remove-failed-stores show` output and PD's stage log lines.
//!
//! - PD ≥ 6.1: a JSON array of `StageOutput` objects `{info, time, actions, details}`
//!   (`pkg/unsaferecovery/unsafe_recovery_controller.go`); while running, `show` appends a
//!   progress trailer (`Collecting reports from alive stores(1/3)` with details naming the
//!   stores that reported and those that did not).
//! - PD 5.3–6.0: a flat array of strings: stage lines followed by plan lines.
//! - Stage names changed case in 7.5 (`Finished`, `Failed`, `demote Failed voter`); the docs
//!   print `Affected table ids`, the code `affected table ids`: everything is matched
//!   case-insensitively.
//! - PD logs each stage: ≥ 6.1 as the JSON object text (the log message), older as the plain
//!   string. A pasted log line carries it as `["{\"info\":...}"]`, which is a JSON array of one
//!   string holding the object; that is accepted too.
//!
//! Pasted outputs may start with the command line and the docs' examples carry trailing commas
//! and `"time": "......"`; both are tolerated.

use crate::model::sched::{RecoveryReport, RecoveryStage, StageKind};
use crate::model::{InputId, Location};
use chrono::NaiveDateTime;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct RecoveryOutput {
    pub reports: Vec<RecoveryReport>,
    /// Stages read.
    pub records: u64,
    pub problem: Option<String>,
    /// Set when a stage list is cut short: what is missing.
    pub partial: Option<String>,
}

/// Classifies a stage `info` text.
pub fn classify(info: &str) -> StageKind {
    let l = info.trim().to_ascii_lowercase();
    if l.starts_with("no on-going recovery") {
        return StageKind::Idle;
    }
    if let Some(rest) = l.strip_prefix("collecting reports from alive stores") {
        // `(1/3)`
        let inner = rest.trim().trim_start_matches('(').trim_end_matches(')');
        let (a, b) = inner.split_once('/').unwrap_or(("", ""));
        return StageKind::Progress {
            reported: a.trim().parse().ok(),
            total: b.trim().parse().ok(),
        };
    }
    if let Some(rest) = l.strip_prefix("collected reports from all ") {
        let n = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        return StageKind::Progress {
            reported: n,
            total: n,
        };
    }
    if l.starts_with("resetting region cache before finishing") {
        return StageKind::Progress {
            reported: None,
            total: None,
        };
    }
    let Some(rest) = l.strip_prefix("unsafe recovery") else {
        return StageKind::Other;
    };
    let rest = rest.trim_start();
    if let Some(stage) = rest.strip_prefix("enters ") {
        let stage = stage.split(':').next().unwrap_or(stage).trim();
        let stage = stage.strip_suffix(" stage").unwrap_or(stage);
        return match stage {
            "collect report" => StageKind::CollectReport,
            "tombstone tiflash learner" => StageKind::TombstoneTiflashLearner,
            "force leader for commit merge" => StageKind::ForceLeaderForCommitMerge,
            "force leader" => StageKind::ForceLeader,
            "demote failed voter" => StageKind::DemoteFailedVoter,
            "create empty region" => StageKind::CreateEmptyRegion,
            "exit force leader" => StageKind::ExitForceLeader,
            _ => StageKind::Other,
        };
    }
    if rest.starts_with("finished") {
        return StageKind::Finished;
    }
    if rest.starts_with("failed") {
        // Keep the error as PD wrote it (original case).
        let orig = info.trim();
        let err = orig
            .find(':')
            .map(|p| orig[p + 1..].trim().to_string())
            .unwrap_or_default();
        return StageKind::Failed(err);
    }
    if rest.starts_with("is resetting region cache") {
        return StageKind::Resetting;
    }
    StageKind::Other
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// One stage from a JSON value: a `StageOutput` object, a flat string, or a string holding
/// the object's JSON text (a log message).
pub fn stage_from_value(v: &Value, loc: Location) -> Option<RecoveryStage> {
    match v {
        Value::Object(m) => {
            let info = m.get("info")?.as_str()?.to_string();
            let mut details = strings(m.get("details"));
            let kind = classify(&info);
            // v6.1 wrote the failed stores into the first stage's info.
            if kind == StageKind::CollectReport
                && let Some((_, stores)) = info.split_once(':')
            {
                details.insert(0, stores.trim().to_string());
            }
            let mut actions: Vec<(String, Vec<String>)> = match m.get("actions") {
                Some(Value::Object(a)) => a
                    .iter()
                    .map(|(k, v)| (k.clone(), strings(Some(v))))
                    .collect(),
                _ => Vec::new(),
            };
            actions.sort_by_key(|(k, _)| store_key(k));
            Some(RecoveryStage {
                kind,
                info,
                time: m.get("time").and_then(Value::as_str).and_then(parse_time),
                actions,
                details,
                loc,
            })
        }
        Value::String(s) => stage_from_text(s, loc),
        _ => None,
    }
}

fn store_key(k: &str) -> (u64, String) {
    let n = k
        .trim_start_matches("store ")
        .trim()
        .parse()
        .unwrap_or(u64::MAX);
    (n, k.to_string())
}

/// A stage from a text: JSON object text (PD ≥ 6.1 log message) or a flat stage string.
pub fn stage_from_text(s: &str, loc: Location) -> Option<RecoveryStage> {
    let t = s.trim();
    if t.starts_with('{') {
        let v: Value = serde_json::from_str(t).ok()?;
        return stage_from_value(&v, loc);
    }
    let kind = classify(t);
    let mut details = Vec::new();
    if kind == StageKind::CollectReport
        && let Some((_, stores)) = t.split_once(':')
    {
        details.push(stores.trim().to_string());
    }
    Some(RecoveryStage {
        kind,
        info: t.to_string(),
        time: None,
        actions: Vec::new(),
        details,
        loc,
    })
}

/// Does this stage look like unsafe recovery output at all?
fn recognised(s: &RecoveryStage) -> bool {
    s.kind != StageKind::Other
}

/// Replaces commas that close nothing (`"a",\n ]`) by spaces, outside strings; offsets stay.
fn drop_trailing_commas(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = b.to_vec();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else if c == b'"' {
            in_str = true;
        } else if c == b',' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if matches!(b.get(j), Some(b']') | Some(b'}')) {
                out[i] = b' ';
            }
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes: still valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(s: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|p| p + 1));
        Lines { starts }
    }
    fn line_of(&self, off: usize) -> u64 {
        match self.starts.binary_search(&off) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }
}

/// Elements of an array with their offsets.
type Elements = Vec<(usize, Value)>;

/// Reads the array starting at `s[at] == '['`: element values with their offsets, the
/// offset after the closing bracket, and whether the array was cut short (then the elements
/// are those whole before the cut). `None` when it is not a JSON array.
fn read_array(s: &str, at: usize) -> Option<(Elements, usize, bool)> {
    let b = s.as_bytes();
    let mut i = at + 1;
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        let cut = |out: Elements| (!out.is_empty()).then_some((out, s.len(), true));
        match b.get(i) {
            None => return cut(out),
            Some(b']') => return Some((out, i + 1, false)),
            Some(_) => {
                let mut it = serde_json::Deserializer::from_str(&s[i..]).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => {
                        out.push((i, v));
                        i += it.byte_offset();
                    }
                    // The text stops inside this element: the ones before it are whole.
                    Some(Err(e)) if e.is_eof() => return cut(out),
                    _ => return None,
                }
            }
        }
    }
}

/// Finds every `show` output (and pasted stage log lines) in a text.
pub fn parse(text: &str, input: InputId) -> RecoveryOutput {
    let clean = drop_trailing_commas(text);
    let lines = Lines::new(&clean);
    let b = clean.as_bytes();
    let mut out = RecoveryOutput::default();
    let mut off = 0;
    // Whether the previous report came from one-stage log lines, which group together.
    let mut last_was_log_line = false;
    let mut bad = 0u64;
    while let Some(p) = memchr::memchr(b'[', &b[off..]) {
        let at = off + p;
        let mut j = at + 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if !matches!(b.get(j), Some(b'{') | Some(b'"')) {
            off = at + 1;
            continue;
        }
        let Some((elems, end, cut)) = read_array(&clean, at) else {
            bad += 1;
            off = at + 1;
            continue;
        };
        let mut stages = Vec::new();
        let mut from_log_text = true;
        for (eo, v) in &elems {
            let loc = Location {
                input,
                line: lines.line_of(*eo),
            };
            if !matches!(v, Value::String(s) if s.trim_start().starts_with('{')) {
                from_log_text = false;
            }
            let Some(st) = stage_from_value(v, loc) else {
                continue;
            };
            // Plan lines of the flat pre-6.1 output belong to the stage before them.
            if st.kind == StageKind::Other
                && let Some(prev) = stages.last_mut()
                && matches!(v, Value::String(_))
            {
                let prev: &mut RecoveryStage = prev;
                prev.details.push(st.info);
                continue;
            }
            stages.push(st);
        }
        if !stages.iter().any(recognised) {
            off = at + 1;
            continue;
        }
        out.records += stages.len() as u64;
        let loc = Location {
            input,
            line: lines.line_of(at),
        };
        if cut {
            out.partial = Some(format!(
                "the stage list at line {} is cut after {} whole stages; the stages after them are missing",
                loc.line,
                stages.len()
            ));
        }
        match out.reports.last_mut() {
            Some(r) if from_log_text && last_was_log_line => r.stages.extend(stages),
            _ => out.reports.push(RecoveryReport { stages, loc }),
        }
        last_was_log_line = from_log_text;
        off = end;
    }
    if out.reports.is_empty() {
        out.problem = Some(if bad > 0 {
            "no readable unsafe recovery stage array (the JSON is cut or malformed)".into()
        } else {
            "no unsafe recovery stage found".into()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Seed 002 / pingcap docs `online-unsafe-recovery.md`, with the docs' trailing commas.
    const DOCS: &str = r#"» unsafe remove-failed-stores show
[
    {
        "info": "Unsafe recovery enters collect report stage: failed stores 4, 5, 6",
        "time": "......"
    },
    {
        "info": "Unsafe recovery enters force leader stage",
        "time": "......",
        "actions": {
            "store 1": [
                "force leader on regions: 1001, 1002"
            ],
            "store 2": [
                "force leader on regions: 1003"
            ]
        }
    },
    {
        "info": "Unsafe recovery enters demote failed voter stage",
        "time": "......",
        "actions": {
            "store 1": [
                "region 1001 demotes peers { id:101 store_id:4 }, { id:102 store_id:5 }",
                "region 1002 demotes peers { id:103 store_id:5 }, { id:104 store_id:6 }",
            ],
            "store 2": [
                "region 1003 demotes peers { id:105 store_id:4 }, { id:106 store_id:6 }",
            ]
        }
    },
    {
        "info": "Collecting reports from alive stores(1/3)",
        "time": "......",
        "details": [
            "Stores that have not dispatched plan: ",
            "Stores that have reported to PD: 4",
            "Stores that have not reported to PD: 5, 6",
        ]
    }
]
"#;

    #[test]
    fn docs_show_output_with_command_line() {
        let out = parse(DOCS, InputId(0));
        assert_eq!(out.problem, None);
        assert_eq!(out.reports.len(), 1);
        let r = &out.reports[0];
        assert_eq!(r.loc.line, 2);
        let kinds: Vec<&str> = r.stages.iter().map(|s| s.kind.name()).collect();
        assert_eq!(
            kinds,
            vec![
                "collect report",
                "force leader",
                "demote failed voter",
                "collecting reports"
            ]
        );
        assert_eq!(r.stages[0].failed_stores(), vec![4, 5, 6]);
        assert_eq!(r.stages[0].loc.line, 3);
        assert_eq!(r.stages[1].actions[0].0, "store 1");
        assert_eq!(r.stages[3].unreported_stores(), vec![5, 6]);
        assert!(r.stages[3].undispatched_stores().is_empty());
        assert_eq!(
            r.stages[3].kind,
            StageKind::Progress {
                reported: Some(1),
                total: Some(3)
            }
        );
        assert_eq!(r.stages[3].time, None);
    }

    #[test]
    fn finished_and_failed_any_case() {
        let j = r#"[{"info":"Unsafe recovery enters collect report stage","time":"2024-05-10 10:00:00.123","details":["Failed stores 4, 5"]},
{"info":"Unsafe recovery enters demote Failed voter stage","time":"2024-05-10 10:00:20.000"},
{"info":"Unsafe recovery Finished","time":"2024-05-10 10:00:40.000","details":["affected meta regions: 1001","Affected table ids: 64, 27","no newly created empty regions"]}]"#;
        let out = parse(j, InputId(0));
        let st = &out.reports[0].stages;
        assert_eq!(st[0].failed_stores(), vec![4, 5]);
        assert_eq!(st[1].kind, StageKind::DemoteFailedVoter);
        assert_eq!(st[2].kind, StageKind::Finished);
        assert_eq!(st[2].affected_tables(), vec![64, 27]);
        assert_eq!(st[2].affected_meta_regions(), vec![1001]);
        assert_eq!(st[2].loc.line, 3);
        assert_eq!(
            st[0].time.unwrap().format("%H:%M:%S%.3f").to_string(),
            "10:00:00.123"
        );
        assert_eq!(
            classify("Unsafe recovery Failed: Exceeds timeout 2024-05-10 10:05:00"),
            StageKind::Failed("Exceeds timeout 2024-05-10 10:05:00".into())
        );
        assert_eq!(
            classify("Unsafe recovery failed: region 5 is staler"),
            StageKind::Failed("region 5 is staler".into())
        );
        assert_eq!(
            classify("Unsafe recovery enters tombstone TiFlash learner stage"),
            StageKind::TombstoneTiflashLearner
        );
        assert_eq!(
            classify("Unsafe recovery enters force leader for commit merge stage"),
            StageKind::ForceLeaderForCommitMerge
        );
        assert_eq!(
            classify("Unsafe recovery enters exit force leader stage"),
            StageKind::ExitForceLeader
        );
        assert_eq!(classify("No on-going recovery."), StageKind::Idle);
    }

    #[test]
    fn flat_pre_61_strings() {
        let j = r#"["Unsafe recovery enters collect report stage: failed stores 4, 5, 6", "Unsafe recovery enters force leader stage", "store 1, force leader on regions: 1001, 1002", "Unsafe recovery finished"]"#;
        let out = parse(j, InputId(0));
        let st = &out.reports[0].stages;
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].failed_stores(), vec![4, 5, 6]);
        assert_eq!(
            st[1].details,
            vec!["store 1, force leader on regions: 1001, 1002"]
        );
        assert_eq!(st[2].kind, StageKind::Finished);
    }

    #[test]
    fn pasted_log_lines_group_into_one_report() {
        let t = r#"[2024/05/10 10:00:00.123 +08:00] [INFO] [unsafe_recovery_controller.go:560] ["{\"info\":\"Unsafe recovery enters collect report stage\",\"time\":\"2024-05-10 10:00:00.123\",\"details\":[\"failed stores 4, 5\"]}"]
[2024/05/10 10:00:20.456 +08:00] [INFO] [unsafe_recovery_controller.go:560] ["{\"info\":\"Unsafe recovery enters force leader stage\",\"time\":\"2024-05-10 10:00:20.456\",\"actions\":{\"store 1\":[\"force leader on regions: 1001\"]}}"]
"#;
        let out = parse(t, InputId(0));
        assert_eq!(out.reports.len(), 1);
        assert_eq!(out.reports[0].stages.len(), 2);
        assert_eq!(out.reports[0].stages[1].loc.line, 2);
        assert_eq!(out.reports[0].stages[1].kind, StageKind::ForceLeader);
        // The message text alone, as the log parser hands it over.
        let s = stage_from_text(
            r#"{"info":"Unsafe recovery enters exit force leader stage","time":"2024-05-10 10:01:00.000","details":["triggered by error: Exceeds timeout"]}"#,
            Location {
                input: InputId(0),
                line: 1,
            },
        )
        .unwrap();
        assert_eq!(s.kind, StageKind::ExitForceLeader);
        assert_eq!(s.error_detail(), Some("Exceeds timeout"));
    }

    #[test]
    fn not_recovery_output() {
        let out = parse("[1, 2]\n[\"a\"]\n{\"x\": [\"y\"]}\n[{", InputId(0));
        assert!(out.reports.is_empty());
        assert!(out.problem.is_some());
        let out = parse(r#"[{"info":"No on-going recovery."}]"#, InputId(0));
        assert_eq!(out.reports[0].stages[0].kind, StageKind::Idle);
    }

    /// Any cut of the docs' `show` output keeps the stages whole before the cut, as the
    /// whole output has them, and a cut list says so.
    #[test]
    fn cut_show_output_keeps_the_whole_stages_before_the_cut() {
        let full = parse(DOCS, InputId(0));
        let all = &full.reports[0].stages;
        assert!(full.partial.is_none());
        let mut seen_partial = false;
        for (n, _) in DOCS.char_indices() {
            let out = parse(&DOCS[..n], InputId(0));
            for r in &out.reports {
                for (i, st) in r.stages.iter().enumerate() {
                    assert_eq!(st.info, all[i].info, "cut at {n}");
                    assert_eq!(st.details, all[i].details, "cut at {n}");
                }
            }
            seen_partial |= out.partial.is_some() && out.records > 0;
        }
        assert!(seen_partial);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s, InputId(0));
            let _ = classify(&s);
        }

        #[test]
        fn cut_show_output_never_panics(n in 0usize..1600) {
            let cut: String = DOCS.chars().take(n).collect();
            let _ = parse(&cut, InputId(0));
        }
    }
}
