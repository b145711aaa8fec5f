//! The JSON report (the contract README.md describes) and the baseline it can be compared with.

use super::{Summary, summary};
use crate::model::Analysis;
use crate::model::InputReport;
use crate::model::{CauseRef, Entities, Finding, Step};
use serde::Serialize;

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Evidence {
    path: String,
    line: u64,
    excerpt: String,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'a str,
    title: String,
    summary: String,
    entities: &'a Entities,
    evidence: Vec<Evidence>,
    remediation: &'a [Step],
    references: &'a [String],
    confidence: &'static str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    assumptions: &'a [String],
    /// The findings that explain this one (symptom → cause).
    #[serde(skip_serializing_if = "<[CauseRef]>::is_empty")]
    caused_by: &'a [CauseRef],
    /// The rules of the findings this one explains.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    explains: &'a [String],
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    tool: Tool,
    inputs: &'a [InputReport],
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    /// Rules that could not decide on this bundle, and the command that settles each.
    #[serde(skip_serializing_if = "<[crate::model::Undecided]>::is_empty")]
    undecided: &'a [crate::model::Undecided],
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<&'a crate::model::Coverage>,
    /// One sentence: the first line of the table.
    verdict: String,
    /// The zone every time in titles and summaries is written in (`+08:00`).
    time_zone: String,
    /// The remediation of every finding merged into one ordered, deduplicated plan.
    plan: Vec<crate::model::PlanStep>,
}

fn finding<'a>(a: &Analysis, f: &'a Finding, zone: chrono::FixedOffset) -> JsonFinding<'a> {
    JsonFinding {
        rule: &f.rule,
        severity: f.severity.as_str(),
        title: super::in_zone(&f.title, zone).into_owned(),
        summary: super::in_zone(&f.summary, zone).into_owned(),
        entities: &f.entities,
        evidence: super::evidence_sorted(a, f)
            .into_iter()
            .map(|(path, line, excerpt)| Evidence {
                path,
                line,
                excerpt,
            })
            .collect(),
        remediation: &f.remediation,
        references: &f.references,
        confidence: f.confidence.as_str(),
        assumptions: &f.assumptions,
        caused_by: &f.caused_by,
        explains: &f.explains,
    }
}

/// The report contract (`kvtriage.report/v1`), pretty-printed, times in the bundle's zone.
pub fn json(a: &Analysis) -> String {
    json_with(a, &super::View::default())
}

/// The report contract with the command line's view (`--tz`; the rest is for text reports).
pub fn json_with(a: &Analysis, view: &super::View) -> String {
    let (zone, _) = super::zone(a, view);
    let r = Report {
        schema: "kvtriage.report/v1",
        tool: Tool {
            name: "kvtriage",
            version: env!("CARGO_PKG_VERSION"),
        },
        inputs: &a.inputs,
        findings: a.findings.iter().map(|f| finding(a, f, zone)).collect(),
        summary: summary(a),
        notes: &a.notes,
        undecided: &a.undecided,
        coverage: a.coverage.as_ref(),
        verdict: super::verdict(a, view),
        time_zone: super::zone_name(zone),
        plan: crate::model::plan(&a.findings),
    };
    let mut s =
        serde_json::to_string_pretty(&r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// One finding per line, same object shape as in the JSON report.
pub fn jsonl(a: &Analysis) -> String {
    let (zone, _) = super::zone(a, &super::View::default());
    let mut out = String::new();
    for f in &a.findings {
        if let Ok(line) = serde_json::to_string(&finding(a, f, zone)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Why an earlier report cannot be read as a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("--baseline {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("--baseline {path}: not a kvtriage JSON report: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("--baseline {path}: not a kvtriage.report/v1 JSON report")]
    Schema { path: String },
}

/// The findings of an earlier JSON report, as keys ([`Finding::key`]).
pub fn baseline(
    path: &std::path::Path,
) -> Result<std::collections::BTreeSet<String>, BaselineError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: shown.clone(),
        source,
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| BaselineError::Json {
            path: shown.clone(),
            source,
        })?;
    if v["schema"] != "kvtriage.report/v1" {
        return Err(BaselineError::Schema { path: shown });
    }
    Ok(v["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| crate::model::entity_key(f["rule"].as_str().unwrap_or(""), &f["entities"]))
                .collect()
        })
        .unwrap_or_default())
}
