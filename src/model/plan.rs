//! One plan per cluster: the remediation steps of every finding merged into one ordered,
//! deduplicated list (read-only, reversible, restart, data-loss), each step naming the
//! findings it serves. Every reporter (table, markdown, JSON, HTML) prints the same plan.
//!
//! What is merged:
//! - the same command (or, without a command, the same text) once, serving every finding
//!   that asked for it;
//! - at most one data-loss step per operation: the store or region lists of the same lossy
//!   command are joined into one run (`unsafe remove-failed-stores 4` + `… 5` + `… 4,5` →
//!   one `… 4,5`), and a form of the same operation without a list (`--auto-detect`) becomes
//!   an alternative of that step, never a second lossy run;
//! - conflicting settings (`config set k 1` and `config set k 2`, `scheduler add x` and
//!   `scheduler remove x`): the step of the first (most severe) finding is kept and the
//!   other is named in its notes.

use super::{Finding, Risk};
use serde::Serialize;

/// One step of the merged plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanStep {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub risk: Risk,
    /// The rule ids of the findings this step serves, in report order, each once.
    #[serde(rename = "for")]
    pub rules: Vec<String>,
    /// Those findings by their 1-based number in the report (as the table numbers them).
    pub findings: Vec<usize>,
    /// How the step was merged or reconciled, when it was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Arguments after which a lossy command takes a comma-separated list of ids.
const LIST_ARGS: &[&str] = &[
    "remove-failed-stores",
    "remove-fail-stores",
    "-s",
    "-r",
    "--stores",
    "--regions",
];

/// Flags that make a lossy command choose its own ids (an alternative to the list).
const SELF_CHOOSING: &[&str] = &["--auto-detect", "--all-regions-auto"];

fn is_id_list(t: &str) -> bool {
    !t.is_empty()
        && t.split(',')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A lossy command split into its operation (the command without its id list and without a
/// self-choosing flag), its ids, and whether it chooses its own ids.
struct LossyOp {
    op: String,
    ids: Option<Vec<u64>>,
    /// The command with `{}` where its id list goes.
    template: String,
}

fn lossy_op(command: &str) -> LossyOp {
    let tokens: Vec<&str> = command.split_whitespace().collect();
    let mut op = Vec::new();
    let mut template = Vec::new();
    let mut ids = None;
    for (k, t) in tokens.iter().enumerate() {
        let after_list_arg = k > 0 && LIST_ARGS.contains(&tokens[k - 1]);
        if ids.is_none() && after_list_arg && is_id_list(t) {
            ids = Some(t.split(',').filter_map(|p| p.parse().ok()).collect());
            template.push("{}");
        } else if SELF_CHOOSING.contains(t) {
            template.push(t);
        } else {
            op.push(*t);
            template.push(t);
        }
    }
    LossyOp {
        op: op.join(" "),
        ids,
        template: template.join(" "),
    }
}

/// A command that sets something (`config set KEY VALUE`, `scheduler add|remove NAME`):
/// what it sets and the value it gives.
fn setting(command: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = command.split_whitespace().collect();
    for k in 0..tokens.len() {
        if tokens[k] == "config" && tokens.get(k + 1) == Some(&"set") && tokens.len() > k + 3 {
            let key = tokens[..k + 3].join(" ");
            return Some((key, tokens[k + 3..].join(" ")));
        }
        if tokens[k] == "scheduler"
            && matches!(tokens.get(k + 1), Some(&"add") | Some(&"remove"))
            && tokens.len() > k + 2
        {
            let mut key: Vec<&str> = tokens[..=k].to_vec();
            key.extend_from_slice(&tokens[k + 2..]);
            return Some((key.join(" "), tokens[k + 1].to_string()));
        }
    }
    None
}

fn normalise(command: &str) -> String {
    command.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(PartialEq, Eq)]
enum Key {
    Lossy(String),
    Setting(String),
    Exact(String),
}

struct Draft {
    key: Key,
    step: PlanStep,
    /// For a lossy step: the ids of the run and the template to print them into.
    ids: Vec<u64>,
    template: Option<String>,
    /// The widest member's id count (its text is the one kept).
    best: usize,
    /// Distinct commands merged into this step, for the note.
    merged: Vec<String>,
    /// Self-choosing forms of the same operation, offered as alternatives.
    alternatives: Vec<String>,
    value: Option<String>,
    first_at: (usize, usize),
}

fn serve(step: &mut PlanStep, finding: &Finding, n: usize) {
    if !step.findings.contains(&n) {
        step.findings.push(n);
    }
    if !step.rules.contains(&finding.rule) {
        step.rules.push(finding.rule.clone());
    }
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// The merged plan of these findings (in report order: the first finding is the most severe).
pub fn plan(findings: &[Finding]) -> Vec<PlanStep> {
    let mut drafts: Vec<Draft> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let n = i + 1;
        for (k, s) in f.remediation.iter().enumerate() {
            let command = s.command.as_deref().map(normalise);
            let (key, lossy, set) = match &command {
                Some(c) if s.risk == Risk::DataLoss => {
                    let l = lossy_op(c);
                    (Key::Lossy(l.op.clone()), Some(l), None)
                }
                Some(c) => match setting(c) {
                    Some((key, value)) => (Key::Setting(key), None, Some(value)),
                    None => (Key::Exact(c.clone()), None, None),
                },
                None => (Key::Exact(s.text.trim().to_string()), None, None),
            };
            if let Some(d) = drafts.iter_mut().find(|d| d.key == key) {
                serve(&mut d.step, f, n);
                d.step.risk = d.step.risk.max(s.risk);
                if let Some(l) = lossy {
                    let c = command.clone().unwrap_or_default();
                    match l.ids {
                        Some(ids) => {
                            if d.template.is_none() {
                                // The step so far chose its own ids: it becomes the alternative.
                                let mut was = std::mem::take(&mut d.merged);
                                d.alternatives.append(&mut was);
                            }
                            if !d.merged.contains(&c) {
                                d.merged.push(c);
                            }
                            if ids.len() > d.best {
                                d.best = ids.len();
                                d.step.text = s.text.clone();
                                d.template = Some(l.template);
                            }
                            d.ids.extend(ids);
                            d.ids.sort_unstable();
                            d.ids.dedup();
                        }
                        None if d.template.is_none() => {
                            // Both forms choose their own ids: the same run.
                            if !d.merged.contains(&c) {
                                d.merged.push(c);
                            }
                        }
                        None => {
                            if !d.alternatives.contains(&c) {
                                d.alternatives.push(c);
                            }
                        }
                    }
                } else if let (Some(v), Some(kept)) = (set, d.value.as_ref())
                    && &v != kept
                {
                    d.step.notes.push(format!(
                        "[{n}] {} asked for `{}` instead; not both: kept the step of the more severe finding [{}]",
                        f.rule,
                        command.clone().unwrap_or_default(),
                        d.step.findings.first().copied().unwrap_or(n)
                    ));
                }
                continue;
            }
            let mut step = PlanStep {
                text: s.text.clone(),
                command: command.clone(),
                risk: s.risk,
                rules: Vec::new(),
                findings: Vec::new(),
                notes: Vec::new(),
            };
            serve(&mut step, f, n);
            let (ids, template, best, merged, alternatives) = match lossy {
                Some(l) => match l.ids {
                    Some(ids) => (
                        ids.clone(),
                        Some(l.template),
                        ids.len(),
                        vec![command.clone().unwrap_or_default()],
                        Vec::new(),
                    ),
                    None => (
                        Vec::new(),
                        None,
                        0,
                        vec![command.clone().unwrap_or_default()],
                        Vec::new(),
                    ),
                },
                None => (Vec::new(), None, 0, Vec::new(), Vec::new()),
            };
            drafts.push(Draft {
                key,
                step,
                ids,
                template,
                best,
                merged,
                alternatives,
                value: set,
                first_at: (i, k),
            });
        }
    }
    let mut steps: Vec<(Risk, (usize, usize), PlanStep)> = drafts
        .into_iter()
        .map(|mut d| {
            if let Some(t) = &d.template {
                let ids = join_ids(&d.ids);
                let command = t.replacen("{}", &ids, 1);
                let others: Vec<String> = d
                    .merged
                    .iter()
                    .filter(|c| **c != command)
                    .map(|c| format!("`{c}`"))
                    .collect();
                if !others.is_empty() {
                    d.step.notes.insert(
                        0,
                        format!(
                            "one run for {ids}, instead of {}: run it once, never once per id",
                            others.join(" and ")
                        ),
                    );
                }
                d.step.command = Some(command);
            } else if d.merged.len() > 1 {
                d.step.notes.insert(
                    0,
                    format!(
                        "the same run as: {}",
                        d.merged[1..]
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            for alt in &d.alternatives {
                d.step.notes.push(format!(
                    "or instead (not as well) `{alt}`, which picks the ids itself: one of the two, once"
                ));
            }
            (d.step.risk, d.first_at, d.step)
        })
        .collect();
    steps.sort_by_key(|a| (a.0, a.1));
    steps.into_iter().map(|(_, _, s)| s).collect()
}

/// The plan step numbers (1-based) that serve finding number `n` (1-based).
pub fn steps_for(plan: &[PlanStep], n: usize) -> Vec<usize> {
    plan.iter()
        .enumerate()
        .filter(|(_, s)| s.findings.contains(&n))
        .map(|(k, _)| k + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_ops_split_their_id_list() {
        let l = lossy_op("pd-ctl -u 10.0.1.1:2379 unsafe remove-failed-stores 4,5");
        assert_eq!(l.op, "pd-ctl -u 10.0.1.1:2379 unsafe remove-failed-stores");
        assert_eq!(l.ids, Some(vec![4, 5]));
        let a = lossy_op("pd-ctl -u 10.0.1.1:2379 unsafe remove-failed-stores --auto-detect");
        assert_eq!(a.op, l.op);
        assert_eq!(a.ids, None);
        let t =
            lossy_op("tikv-ctl --data-dir /d unsafe-recover remove-fail-stores -s 4 --all-regions");
        assert_eq!(t.ids, Some(vec![4]));
        assert_eq!(
            t.template,
            "tikv-ctl --data-dir /d unsafe-recover remove-fail-stores -s {} --all-regions"
        );
        // A number that is not after a list argument stays part of the operation.
        assert_eq!(lossy_op("x --timeout 300").ids, None);
    }

    #[test]
    fn settings_know_what_they_set() {
        assert_eq!(
            setting("pd-ctl -u a config set merge-schedule-limit 8"),
            Some((
                "pd-ctl -u a config set merge-schedule-limit".into(),
                "8".into()
            ))
        );
        assert_eq!(
            setting("pd-ctl -u a scheduler remove balance-leader-scheduler"),
            Some((
                "pd-ctl -u a scheduler balance-leader-scheduler".into(),
                "remove".into()
            ))
        );
        assert_eq!(setting("pd-ctl -u a store 4"), None);
    }
}
