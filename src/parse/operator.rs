//! PD's operator description (`Operator.String()` in `pkg/schedule/operator/operator.go`), as
//! it appears in pd.log (`[operator="\"...\""]`), in `operator show` and in `operator check`:
//!
//! ```text
//! merge-region {merge: region A to B} (kind:leader,region,merge, region:ID(ver, confver),
//!   createAt:<go time>, startAt:<go time>, currentStep:N, size:N, steps:[0:{...}, 1:{...}],
//!   timeout:[17m0s]) finished
//! ```
//!
//! Older PDs leave out `{brief}`, `size:`, `timeout:` and the `N:{}` step indices, and write
//! `region:ID(ver,confver)` without a space. Quoted excerpts abbreviate parts with `...`, and
//! long lines get cut: every field is optional and a cut step list is marked incomplete.

pub use crate::model::operator::{OpEnd, Operator, step_action, step_stores};
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;

/// Undoes the double quoting PD's `zap.Reflect` puts on operators: the field value arrives as
/// `"merge-region ..."` (quotes included) after the log parser decoded the outer JSON string.
pub fn unquote(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        if let Ok(inner) = serde_json::from_str::<String>(t) {
            return Cow::Owned(inner);
        }
        return Cow::Borrowed(&t[1..t.len() - 1]);
    }
    // A cut line keeps the opening quote only.
    Cow::Borrowed(t.strip_prefix('"').unwrap_or(t))
}

const KEYS: &[&str] = &[
    "kind",
    "region",
    "createAt",
    "startAt",
    "currentStep",
    "size",
    "steps",
    "timeout",
];

impl Operator {
    /// Parses an operator description; `None` when the text does not look like one (no
    /// `(kind:` body and no `{brief}`).
    pub fn parse(text: &str) -> Option<Operator> {
        let s = unquote(text);
        let mut s: &str = s.trim();
        // `operator check`: `status: RUNNING, operator: <String()>`.
        if let Some(p) = s.find("operator: ")
            && s.starts_with("status:")
        {
            s = s[p + "operator: ".len()..].trim_start();
        }
        let desc_end = s.find([' ', '(', '{']).unwrap_or(s.len());
        let desc = &s[..desc_end];
        if desc.is_empty()
            || !desc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let mut op = Operator {
            desc: desc.to_string(),
            ..Operator::default()
        };
        let mut rest = s[desc_end..].trim_start();
        if rest.starts_with('{') {
            let end = balanced_end(rest);
            let brief = &rest[1..end.map_or(rest.len(), |e| e - 1)];
            op.brief = Some(brief.trim().to_string());
            rest = rest[end.unwrap_or(rest.len())..].trim_start();
        }
        if let Some(b) = &op.brief {
            op.merge = parse_merge_brief(b);
        }
        if !rest.starts_with('(') {
            // A bare `desc {brief}` is still an operator; a bare word is not.
            return op.brief.is_some().then_some(op);
        }
        let end = balanced_end(rest);
        let body = &rest[1..end.map_or(rest.len(), |e| e - 1)];
        let tail = &rest[end.unwrap_or(rest.len())..];
        let tail = tail.trim_start();
        if tail.starts_with("finished") {
            op.end = Some(OpEnd::Finished);
        } else if tail.starts_with("timeout") {
            op.end = Some(OpEnd::Timeout);
        }
        let fields = split_fields(body);
        if fields.is_empty() && op.brief.is_none() {
            return None;
        }
        for (k, v) in fields {
            let v = v.trim();
            match k {
                "kind" => {
                    op.kinds = v
                        .split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(String::from)
                        .collect()
                }
                "region" => {
                    let (id, epoch) = match v.split_once('(') {
                        Some((id, ep)) => (id, Some(ep.trim_end_matches(')'))),
                        None => (v, None),
                    };
                    op.region = id.trim().parse().ok();
                    op.epoch = epoch.and_then(|e| {
                        let (a, b) = e.split_once(',')?;
                        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
                    });
                }
                "createAt" if v != "..." => op.create_at = Some(v.to_string()),
                "startAt" if v != "..." && !v.starts_with("0001-01-01") => {
                    op.start_at = Some(v.to_string())
                }
                "currentStep" => op.current_step = v.parse().ok(),
                "size" => op.size = v.parse().ok(),
                "steps" => {
                    let (steps, complete) = parse_steps(v);
                    op.steps = steps;
                    op.steps_complete = complete;
                }
                "timeout" => {
                    let t = v.trim_start_matches('[').trim_end_matches(']').trim();
                    if !t.is_empty() {
                        op.timeout = Some(t.to_string());
                    }
                }
                _ => {}
            }
        }
        if op.merge.is_none() {
            op.merge = op.steps.iter().find_map(|s| parse_merge_step(s));
        }
        Some(op)
    }
}

/// `merge: region 512607784 to 513499180`
fn parse_merge_brief(b: &str) -> Option<(u64, u64)> {
    let r = b.strip_prefix("merge:")?.trim().strip_prefix("region ")?;
    let (a, t) = r.split_once(" to ")?;
    Some((a.trim().parse().ok()?, t.trim().parse().ok()?))
}

/// `merge region 512607784 into region 513499180`
fn parse_merge_step(s: &str) -> Option<(u64, u64)> {
    let r = s.strip_prefix("merge region ")?;
    let (a, t) = r.split_once(" into region ")?;
    Some((a.trim().parse().ok()?, t.trim().parse().ok()?))
}

/// Go's `time.Time.String()`: `2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.512141533`.
pub fn go_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let mut it = s.split_whitespace();
    let (d, t, z) = (it.next()?, it.next()?, it.next()?);
    if d.starts_with("0001-01-01") {
        return None;
    }
    let z = if z == "UTC" { "+0000" } else { z };
    DateTime::parse_from_str(&format!("{d} {t} {z}"), "%Y-%m-%d %H:%M:%S%.f %z").ok()
}

/// Index just past the bracket that closes the one at `s[0]`; `None` when cut off.
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + c.len_utf8());
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits the parenthesised body at top-level `, <key>:` boundaries; kinds such as
/// `leader,region,merge` contain commas but no `, `.
fn split_fields(body: &str) -> Vec<(&str, &str)> {
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let bytes = body.as_bytes();
    let mut depth = 0i32;
    let key_at = |i: usize| -> Option<&'static str> {
        KEYS.iter()
            .find(|k| body[i..].starts_with(*k) && body[i + k.len()..].starts_with(':'))
            .copied()
    };
    if let Some(k) = key_at(0) {
        starts.push((0, k));
    }
    for i in 0..bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                if let Some(k) = key_at(i + 2) {
                    starts.push((i + 2, k));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (n, &(at, key)) in starts.iter().enumerate() {
        let v_start = at + key.len() + 1;
        let v_end = starts.get(n + 1).map_or(body.len(), |&(next, _)| next - 2);
        if v_start <= v_end {
            out.push((key, &body[v_start..v_end]));
        }
    }
    out
}

/// `[0:{a}, 1:{b, c}]` or `[a, b]` → steps. Joint-consensus steps of the old un-indexed form
/// (`use joint consensus, promote learner ..., demote voter ...`) are joined back together.
fn parse_steps(v: &str) -> (Vec<String>, bool) {
    let v = v.trim();
    let Some(inner) = v.strip_prefix('[') else {
        return (Vec::new(), false);
    };
    let (inner, closed) = match balanced_end(v) {
        Some(e) => (&v[1..e - 1], true),
        None => (inner, false),
    };
    let inner = inner.trim();
    if inner.is_empty() {
        return (Vec::new(), closed);
    }
    if inner == "..." {
        return (Vec::new(), false);
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = inner.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 && b.get(i + 1) == Some(&b' ') => {
                parts.push(&inner[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut complete = closed;
    if !closed {
        // The last part was cut mid-way.
        parts.pop();
    }
    let mut steps: Vec<String> = Vec::new();
    let mut in_joint = false;
    for p in parts {
        let p = p.trim();
        if p == "..." || p == "{...}" {
            complete = false;
            steps.push("...".to_string());
            continue;
        }
        let indexed = p
            .split_once(":{")
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
            .map(|(_, rest)| rest.strip_suffix('}').unwrap_or(rest));
        let text = match indexed {
            Some(t) => t.trim(),
            None => p,
        };
        if text == "..." {
            complete = false;
        }
        let continues = indexed.is_none()
            && in_joint
            && (text.starts_with("promote learner peer")
                || text.starts_with("demote voter peer")
                || text.starts_with("switch peer"));
        match steps.last_mut() {
            Some(last) if continues => {
                last.push_str(", ");
                last.push_str(text);
            }
            _ => {
                in_joint = text.starts_with("use joint consensus")
                    || text.starts_with("leave joint state")
                    || text.starts_with("batch switch witness");
                steps.push(text.to_string());
            }
        }
    }
    (steps, complete)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Seed 003: the source region's operator, PD's double-quoted field already JSON-decoded
    // once by the log parser.
    const SOURCE_ADD: &str = r#""merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:512607784(244793,40956), createAt:2024-07-22 20:02:58.803075332 +0800 CST m=+27423622.512140371, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, steps:[add learner peer 612422577 on store 16910359, promote learner peer 612422577 on store 16910359 to voter, remove peer on store 16910361, add learner peer 612422578 on store 266988190, promote learner peer 612422578 on store 266988190 to voter, remove peer on store 266988760, add learner peer 612422579 on store 536155773, promote learner peer 612422579 on store 536155773 to voter, transfer leader from store 536156435 to store 8, remove peer on store 536156435, add learner peer 612422580 on store 142072119, promote learner peer 612422580 on store 142072119 to voter, remove peer on store 536156437, add learner peer 612422576 on store 266988192, promote learner peer 612422576 on store 266988192 to voter, transfer leader from store 8 to store 16910359, remove peer on store 8, merge region 512607784 into region 513499180])""#;

    const TARGET_FINISH: &str = r#""merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:513499180(244859,40965), createAt:2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.512141533, startAt:2024-07-22 20:02:58.803993629 +0800 CST m=+27423622.513058670, currentStep:1, steps:[merge region 512607784 into region 513499180]) finished""#;

    // formats-tikv-pd.md §1.8, PD v7.5 (steps with indices and joint consensus).
    const BALANCE_75: &str = r#""balance-region {mv peer: store [1] to [166543141]} (kind:region, region:142725(575, 5), createAt:2024-07-09 16:25:23.105733052 +0800 CST m=+1209042.707881308, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, size:92, steps:[0:{add learner peer 166543143 on store 166543141}, 1:{use joint consensus, promote learner peer 166543143 on store 166543141 to voter, demote voter peer 142726 on store 1 to learner}, 2:{leave joint state, promote learner peer 166543143 on store 166543141 to voter, demote voter peer 142726 on store 1 to learner}, 3:{remove peer on store 1}], timeout:[17m0s])""#;

    #[test]
    fn seed_003_source_operator() {
        let op = Operator::parse(SOURCE_ADD).unwrap();
        assert_eq!(op.desc, "merge-region");
        assert_eq!(
            op.brief.as_deref(),
            Some("merge: region 512607784 to 513499180")
        );
        assert_eq!(op.kinds, vec!["leader", "region", "merge"]);
        assert_eq!(op.region, Some(512607784));
        assert_eq!(op.epoch, Some((244793, 40956)));
        assert_eq!(op.current_step, Some(0));
        assert_eq!(op.steps.len(), 18);
        assert!(op.steps_complete);
        assert_eq!(op.start_at, None, "zero time means not started");
        assert_eq!(op.merge, Some((512607784, 513499180)));
        assert_eq!(
            op.current_step_text(),
            Some("add learner peer 612422577 on store 16910359")
        );
        assert_eq!(
            op.steps[8],
            "transfer leader from store 536156435 to store 8"
        );
        assert_eq!(step_stores(&op.steps[8]), vec![536156435, 8]);
        assert_eq!(step_action(&op.steps[8]), "transfer leader");
        assert_eq!(op.end, None);
        assert_eq!(
            go_time(op.create_at.as_deref().unwrap())
                .unwrap()
                .to_rfc3339(),
            "2024-07-22T20:02:58.803075332+08:00"
        );
    }

    #[test]
    fn seed_003_target_finished() {
        let op = Operator::parse(TARGET_FINISH).unwrap();
        assert_eq!(op.region, Some(513499180));
        assert_eq!(op.end, Some(OpEnd::Finished));
        assert_eq!(op.current_step, Some(1));
        assert_eq!(
            op.steps,
            vec!["merge region 512607784 into region 513499180"]
        );
        assert!(go_time(op.start_at.as_deref().unwrap()).is_some());
        assert_eq!(op.current_step_text(), None, "past the last step");
    }

    #[test]
    fn indexed_steps_and_joint_consensus() {
        let op = Operator::parse(BALANCE_75).unwrap();
        assert_eq!(op.desc, "balance-region");
        assert_eq!(op.epoch, Some((575, 5)));
        assert_eq!(op.size, Some(92));
        assert_eq!(op.timeout.as_deref(), Some("17m0s"));
        assert_eq!(op.timeout_secs(), Some(1020));
        assert_eq!(op.steps.len(), 4);
        assert!(op.steps[1].starts_with("use joint consensus, promote learner"));
        assert!(op.steps[1].ends_with("demote voter peer 142726 on store 1 to learner"));
        assert_eq!(step_action(&op.steps[2]), "leave joint state");
        assert_eq!(op.merge, None);
    }

    #[test]
    fn unindexed_joint_consensus_is_rejoined() {
        let s = "replace-rule-offline-peer {mv peer: store [1] to [4]} (kind:region,replica, region:2(1,3), createAt:2021-08-11 14:36:47.091 +0800 CST m=+1.1, startAt:2021-08-11 14:36:47.2 +0800 CST m=+1.2, currentStep:1, steps:[add learner peer 6 on store 4, use joint consensus, promote learner peer 6 on store 4 to voter, demote voter peer 2 on store 1 to learner, leave joint state, promote learner peer 6 on store 4 to voter, demote voter peer 2 on store 1 to learner, remove peer on store 1])";
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.steps.len(), 4, "{:?}", op.steps);
        assert_eq!(
            op.current_step_text().map(step_action),
            Some("use joint consensus")
        );
        assert_eq!(op.steps[3], "remove peer on store 1");
    }

    #[test]
    fn old_forms_and_abbreviations() {
        // PD 3.x: no brief, no size, no timeout.
        let s = r#""admin-split-region (kind:admin, region:66625(1668,3), createAt:2019-10-16 18:22:55.888064898 +0800 CST m=+110918.823762963, startAt:2019-10-16 18:22:55.888223469 +0800 CST m=+110918.823921524, currentStep:1, steps:[split region with policy SCAN]) finished""#;
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.desc, "admin-split-region");
        assert_eq!(op.brief, None);
        assert_eq!(op.region, Some(66625));
        assert_eq!(op.end, Some(OpEnd::Finished));
        // Blog excerpt: abbreviated body.
        let s = r#""merge-region {merge: region 512607784 to 513499180} (...)""#;
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.merge, Some((512607784, 513499180)));
        assert!(op.steps.is_empty());
        let s = "merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:512607784(244793,40956), createAt:..., startAt:..., currentStep:17, steps:[...])";
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.current_step, Some(17));
        assert!(!op.steps_complete);
        assert_eq!(op.create_at, None);
        // A line cut mid-step list.
        let s = r#""balance-leader {transfer leader: store 2 to 1} (kind:leader, region:28977(365, 35), createAt:2022-05-12 12:45:38.419949916 +0800 CST m=+418435.703819099, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, size:95, steps:[transfe"#;
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.region, Some(28977));
        assert_eq!(op.size, Some(95));
        assert!(op.steps.is_empty());
        assert!(!op.steps_complete);
    }

    #[test]
    fn check_output_and_non_operators() {
        let s = "status: RUNNING, operator: merge-region {merge: region 5 to 6} (kind:leader,region,merge, region:5(2,3), createAt:2024-01-01 00:00:00 +0000 UTC, startAt:2024-01-01 00:00:01 +0000 UTC, currentStep:0, size:1, steps:[0:{transfer leader from store 1 to store 2}, 1:{merge region 5 into region 6}], timeout:[1m0s])";
        let op = Operator::parse(s).unwrap();
        assert_eq!(op.region, Some(5));
        assert_eq!(op.steps.len(), 2);
        assert_eq!(
            go_time(op.create_at.as_deref().unwrap())
                .unwrap()
                .to_rfc3339(),
            "2024-01-01T00:00:00+00:00"
        );
        assert!(Operator::parse("hello").is_none());
        assert!(Operator::parse("").is_none());
        assert!(Operator::parse("\"").is_none());
        assert!(Operator::parse("a b (c").is_none());
    }

    #[test]
    fn unquote_variants() {
        assert_eq!(unquote(r#""a \"b\"""#), "a \"b\"");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("\"cut"), "cut");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = Operator::parse(&s);
            let _ = step_stores(&s);
        }

        #[test]
        fn cut_operator_text_never_panics(n in 0usize..700) {
            let cut: String = BALANCE_75.chars().take(n).collect();
            let _ = Operator::parse(&cut);
            let cut: String = SOURCE_ADD.chars().take(n).collect();
            let _ = Operator::parse(&cut);
        }
    }
}
