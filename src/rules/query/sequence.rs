//! The `sequence` stage: log lines paired by a key, in time order. `then`: a start line
//! followed by an end line of the same key within a time (each pair a row); `without`: a
//! start line that no end line follows within the time, judged only where the log reaches
//! past that time (each such start a row). A `reset` line forgets the open starts of its
//! input (a restart drops what a process held in memory).

use super::eval::{Env, GroupRow};
use super::expr::Expr;
use super::tables::Row;
use super::value::Value;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Columns a sequence adds to its rows (beside the start line's own).
pub const COLUMNS: &[&str] = &["key", "age", "ended", "end_time", "end_loc", "end_message"];

#[derive(Debug, Deserialize, Clone, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SequenceSpec {
    /// The entity a sequence is about (`field("region-id")`).
    pub key: String,
    /// Conditions on a line (usually `in_set("...")`) that open, close and reset sequences.
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub reset: Option<String>,
    /// `then` or `without`.
    pub mode: Mode,
    /// How long an end may take (`30m`).
    pub within: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Then,
    Without,
}

pub struct Sequence {
    spec: SequenceSpec,
    key: Expr,
    start: Expr,
    end: Expr,
    reset: Option<Expr>,
    within: Expr,
}

impl Sequence {
    pub fn compile(spec: SequenceSpec) -> Result<Sequence, String> {
        let p = |what: &str, s: &str| super::parse_expr(&format!("sequence.{what}"), s);
        Ok(Sequence {
            key: p("key", &spec.key)?,
            start: p("start", &spec.start)?,
            end: p("end", &spec.end)?,
            reset: spec.reset.as_deref().map(|r| p("reset", r)).transpose()?,
            within: p("within", &spec.within)?,
            spec,
        })
    }

    pub fn exprs(&self) -> Vec<&Expr> {
        let mut v = vec![&self.key, &self.start, &self.end, &self.within];
        v.extend(self.reset.iter());
        v
    }

    /// Sequences use the rule's needle sets; no sets of their own.
    pub fn set_names(&self) -> Vec<String> {
        Vec::new()
    }

    pub fn needle_sets(
        &self,
        _inputs: Option<Vec<String>>,
    ) -> Vec<(String, Vec<String>, Option<Vec<String>>)> {
        Vec::new()
    }

    /// The rows the sequence yields, in the order their starts were logged.
    pub fn rows<'a>(&self, env: &Env<'a, '_>, groups: Option<Vec<u32>>) -> Vec<GroupRow<'a>> {
        let within = env.eval(&self.within).num().unwrap_or(0.0);
        let mut evs: Vec<&'a crate::model::LogEvent> = env
            .cat
            .facts
            .events
            .iter()
            .filter(|e| {
                groups
                    .as_ref()
                    .is_none_or(|gs| gs.iter().any(|g| e.in_group(*g)))
            })
            .collect();
        // Time order; the same instant keeps log order.
        evs.sort_by_key(|e| (e.time, e.loc));
        let test = |e: &'a crate::model::LogEvent, x: &Expr| {
            let r = GroupRow::of(Row::Event(e));
            env.with_row_of(&r).eval(x)
        };
        let mut open: BTreeMap<String, &'a crate::model::LogEvent> = BTreeMap::new();
        let mut out: Vec<(crate::model::Location, GroupRow<'a>)> = Vec::new();
        for e in evs {
            if let Some(r) = &self.reset
                && test(e, r).truthy()
            {
                open.retain(|_, s| s.loc.input != e.loc.input);
                continue;
            }
            let key = test(e, &self.key);
            if key.is_null() {
                continue;
            }
            let k = key.key();
            if test(e, &self.start).truthy() {
                open.insert(k, e);
                continue;
            }
            if test(e, &self.end).truthy()
                && let Some(s) = open.remove(&k)
            {
                let secs = match (s.time, e.time) {
                    (Some(a), Some(b)) => (b - a).num_milliseconds() as f64 / 1000.0,
                    _ => 0.0,
                };
                if self.spec.mode == Mode::Then && secs <= within {
                    out.push((
                        s.loc,
                        GroupRow {
                            row: Row::Event(s),
                            joined: vec![("end".to_string(), Row::Event(e))],
                            extra: vec![
                                ("key".into(), key.clone()),
                                ("age".into(), Value::Num(secs)),
                                ("ended".into(), Value::Bool(true)),
                                ("end_time".into(), Value::opt_time(e.time)),
                                ("end_loc".into(), Value::Loc(e.loc)),
                                ("end_message".into(), Value::Str(e.message.clone())),
                            ],
                        },
                    ));
                }
            }
        }
        if self.spec.mode == Mode::Without {
            for (k, s) in open {
                // Only where the log reaches past the allowed time: an excerpt that stops
                // earlier cannot show that the end never came.
                let (Some(t0), Some(now)) = (s.time, env.cat.horizons.get(&s.loc.input)) else {
                    continue;
                };
                let age = (*now - t0).num_milliseconds() as f64 / 1000.0;
                if age >= within {
                    out.push((
                        s.loc,
                        GroupRow {
                            row: Row::Event(s),
                            joined: Vec::new(),
                            extra: vec![
                                ("key".into(), Value::Str(k)),
                                ("age".into(), Value::Num(age)),
                                ("ended".into(), Value::Bool(false)),
                                ("end_time".into(), Value::Null),
                                ("end_loc".into(), Value::Null),
                                ("end_message".into(), Value::Null),
                            ],
                        },
                    ));
                }
            }
        }
        out.sort_by_key(|(l, _)| *l);
        out.into_iter().map(|(_, r)| r).collect()
    }
}
