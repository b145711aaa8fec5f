//! Reporters: one module per output format, and the timeline. They read the model (an
//! [`Analysis`]) and print; they know nothing of sources, parsing or rules.

mod escape;
pub mod html;
mod json;
mod junit;
mod markdown;
mod table;
pub mod timeline;
mod verdict;

use crate::model::Analysis;
use crate::model::Status;
use crate::model::{Finding, Severity};

pub use escape::{escape, escape_lines, escape_output};
pub use html::html;
pub use json::{BaselineError, baseline, json, json_with, jsonl};
pub use junit::junit;
pub use markdown::{markdown, markdown_with};
pub use table::{shorten_middle, table, table_with};
pub use verdict::{
    Exit, View, closing_line, in_zone, verdict, verdict_is_alarm, zone, zone_name, zone_text,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Markdown,
    Junit,
    /// One self-contained page (CSS, script and data inline) with the timeline plotted.
    Html,
}

/// Counts shown in every format.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub inputs: usize,
    pub failed_inputs: usize,
}

pub fn summary(a: &Analysis) -> Summary {
    let count = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    Summary {
        critical: count(Severity::Critical),
        warning: count(Severity::Warning),
        info: count(Severity::Info),
        inputs: a.inputs.len(),
        failed_inputs: a
            .inputs
            .iter()
            .filter(|i| i.status == Status::Failed)
            .count(),
    }
}

/// `path:line` of an evidence reference.
pub fn evidence_path(a: &Analysis, f: &Finding, i: usize) -> (String, u64, String) {
    let e = &f.evidence[i];
    let path = a
        .input(e.loc.input)
        .map(|r| r.path.clone())
        .unwrap_or_default();
    (path, e.loc.line, e.excerpt.clone().unwrap_or_default())
}

/// A finding's evidence as `(path, line, excerpt)`, sorted by file and line, each once.
pub fn evidence_sorted(a: &Analysis, f: &Finding) -> Vec<(String, u64, String)> {
    let mut ev: Vec<(String, u64, String)> = (0..f.evidence.len())
        .map(|i| evidence_path(a, f, i))
        .collect();
    ev.sort();
    ev.dedup();
    ev
}

/// `Confidence: likely; assumed: max-replicas = 3 (PD default; no config in the bundle)`.
pub fn confidence_text(f: &Finding) -> String {
    if f.assumptions.is_empty() {
        format!("Confidence: {}", f.confidence.as_str())
    } else {
        format!(
            "Confidence: {}; assumed: {}",
            f.confidence.as_str(),
            f.assumptions.join("; ")
        )
    }
}

/// `Caused by` / `Explains` lines of a finding: the linked findings by their number in the
/// report (`[1] tikv.write-stall store 4`).
pub fn links_text(a: &Analysis, f: &Finding) -> Vec<(&'static str, String)> {
    let number = |rule: &str, entities: Option<&crate::model::Entities>| {
        a.findings
            .iter()
            .position(|g| g.rule == rule && entities.is_none_or(|e| &g.entities == e))
            .map(|i| format!("[{}] ", i + 1))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    if !f.caused_by.is_empty() {
        let names: Vec<String> = f
            .caused_by
            .iter()
            .map(|c| {
                format!(
                    "{}{} {}",
                    number(&c.rule, Some(&c.entities)),
                    c.rule,
                    entities_of(&c.entities)
                )
                .trim_end()
                .to_string()
            })
            .collect();
        out.push(("Caused by", names.join("; ")));
    }
    if !f.explains.is_empty() {
        let names: Vec<String> = f
            .explains
            .iter()
            .map(|r| format!("{}{r}", number(r, None)))
            .collect();
        out.push(("Explains", names.join("; ")));
    }
    out
}

pub fn entities_text(f: &Finding) -> String {
    entities_of(&f.entities)
}

fn entities_of(e: &crate::model::Entities) -> String {
    let mut parts = Vec::new();
    let join = |v: &[u64]| {
        let mut s: Vec<String> = v.iter().take(6).map(u64::to_string).collect();
        if v.len() > 6 {
            s.push(format!("+{}", v.len() - 6));
        }
        s.join(",")
    };
    if !e.stores.is_empty() {
        parts.push(format!("store {}", join(&e.stores)));
    }
    if !e.regions.is_empty() {
        parts.push(format!("region {}", join(&e.regions)));
    }
    if !e.nodes.is_empty() {
        parts.push(format!("node {}", e.nodes.join(",")));
    }
    if !e.ranges.is_empty() {
        parts.push(format!("range {}", join(&e.ranges)));
    }
    parts.join("; ")
}

/// An input's reason and, for a cut or filtered copy, what it lacks, for the text reports.
pub(crate) fn reason_and_partial(i: &crate::model::InputReport) -> String {
    match (i.reason.as_deref(), i.partial.as_deref()) {
        (Some(r), Some(p)) => format!("{r}; partial: {p}"),
        (None, Some(p)) => format!("partial: {p}"),
        (Some(r), None) => r.to_string(),
        (None, None) => String::new(),
    }
}
