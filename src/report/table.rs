//! The terminal report: a findings table, then each finding's evidence and remediation in the
//! order an operator works through them, then the inputs.

use super::{entities_text, evidence_path, summary};
use crate::model::Analysis;
use crate::model::Status;
use crate::model::{Risk, Severity};
use std::fmt::Write;
use tabled::settings::{Modify, Style, Width, object::Columns};
use tabled::{Table, Tabled};

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "#")]
    n: usize,
    #[tabled(rename = "SEVERITY")]
    severity: String,
    #[tabled(rename = "RULE")]
    rule: String,
    #[tabled(rename = "TITLE")]
    title: String,
    #[tabled(rename = "ENTITIES")]
    entities: String,
}

#[derive(Tabled)]
struct InputRow {
    #[tabled(rename = "PATH")]
    path: String,
    #[tabled(rename = "KIND")]
    kind: String,
    #[tabled(rename = "NODE")]
    node: String,
    #[tabled(rename = "STATUS")]
    status: String,
    #[tabled(rename = "RECORDS")]
    records: String,
    #[tabled(rename = "UNPARSED")]
    unparsed: String,
    #[tabled(rename = "REASON")]
    reason: String,
}

struct Paint(bool);

impl Paint {
    fn sev(&self, s: Severity, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        let code = match s {
            Severity::Critical => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
    fn bold(&self, text: &str) -> String {
        if self.0 {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn dim(&self, text: &str) -> String {
        if self.0 {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn risk(&self, r: Risk) -> String {
        let (t, code) = match r {
            Risk::ReadOnly => ("read-only", "32"),
            Risk::Reversible => ("reversible", "33"),
            Risk::Restart => ("restart", "35"),
            Risk::DataLoss => ("DATA-LOSS", "1;31"),
        };
        if self.0 {
            format!("\x1b[{code}m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    }
}

pub fn table(a: &Analysis, color: bool, width: usize, verbose: bool) -> String {
    let p = Paint(color);
    let s = summary(a);
    let mut out = String::new();
    let parsed = a
        .inputs
        .iter()
        .filter(|i| i.status == Status::Parsed)
        .count();
    let _ = writeln!(
        out,
        "{} {} inputs ({} parsed, {} skipped, {} failed) - {} findings: {} critical, {} warning, {} info",
        p.bold("kvtriage"),
        s.inputs,
        parsed,
        a.inputs
            .iter()
            .filter(|i| i.status == Status::Skipped)
            .count(),
        s.failed_inputs,
        a.findings.len(),
        s.critical,
        s.warning,
        s.info
    );
    if a.findings.is_empty() {
        let _ = writeln!(out, "\nNo known failure pattern found.");
    } else {
        let rows: Vec<Row> = a
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| Row {
                n: i + 1,
                severity: f.severity.as_str().to_string(),
                rule: f.rule.clone(),
                title: f.title.clone(),
                entities: entities_text(f),
            })
            .collect();
        let mut t = Table::new(rows);
        t.with(Style::sharp());
        let title_w = width.saturating_sub(70).max(30);
        t.with(Modify::new(Columns::one(3)).with(Width::wrap(title_w).keep_words(true)));
        t.with(Modify::new(Columns::one(4)).with(Width::wrap(24).keep_words(true)));
        let _ = writeln!(out, "\n{t}");
        for (i, f) in a.findings.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n{} {} {}",
                p.sev(
                    f.severity,
                    &format!("[{}] {}", i + 1, f.severity.as_str().to_uppercase())
                ),
                p.bold(&f.rule),
                p.dim(&entities_text(f))
            );
            let _ = writeln!(out, "    {}", p.bold(&f.title));
            for l in wrap(&f.summary, width.saturating_sub(4).max(40)) {
                let _ = writeln!(out, "    {l}");
            }
            for l in wrap(&super::confidence_text(f), width.saturating_sub(4).max(40)) {
                let _ = writeln!(out, "    {}", p.dim(&l));
            }
            for (label, n) in super::links_text(a, f) {
                let _ = writeln!(out, "    {label}: {}", p.dim(&n));
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(out, "    Evidence:");
                let shown = if verbose {
                    f.evidence.len()
                } else {
                    f.evidence.len().min(6)
                };
                for j in 0..shown {
                    let (path, line, ex) = evidence_path(a, f, j);
                    let ex: String = ex.chars().take(width.saturating_sub(12).max(60)).collect();
                    let _ = writeln!(out, "      {}", p.dim(&format!("{path}:{line}")));
                    let _ = writeln!(out, "        {}", ex.trim());
                }
                if shown < f.evidence.len() {
                    let _ = writeln!(
                        out,
                        "      ... {} more (use --verbose or --format json)",
                        f.evidence.len() - shown
                    );
                }
            }
            if !f.remediation.is_empty() {
                let _ = writeln!(out, "    Remediation:");
                for (k, st) in f.remediation.iter().enumerate() {
                    let mut first = true;
                    for l in wrap(&st.text, width.saturating_sub(22).max(40)) {
                        if first {
                            let _ = writeln!(out, "      {}. [{}] {l}", k + 1, p.risk(st.risk));
                            first = false;
                        } else {
                            let _ = writeln!(out, "         {l}");
                        }
                    }
                    if let Some(c) = &st.command {
                        let _ = writeln!(out, "         $ {}", p.bold(c));
                    }
                }
            }
            if verbose && !f.references.is_empty() {
                let _ = writeln!(out, "    References: {}", f.references.join(", "));
            }
        }
    }
    for n in &a.notes {
        let _ = writeln!(out, "\nnote: {n}");
    }
    if let Some(c) = &a.coverage {
        let ran = c.rules.iter().filter(|r| r.status == "ran").count();
        let _ = writeln!(
            out,
            "\nCoverage: {ran} of {} rules could run.",
            c.rules.len()
        );
        for r in c.rules.iter().filter(|r| r.status != "ran") {
            let _ = writeln!(
                out,
                "  skipped {}: {}",
                r.id,
                r.reason.as_deref().unwrap_or("")
            );
        }
        for p in &c.unused_inputs {
            let _ = writeln!(out, "  no rule reads {p}");
        }
    }
    let rows: Vec<InputRow> = a
        .inputs
        .iter()
        .filter(|i| {
            verbose
                || i.status != Status::Parsed
                || i.unparsed_lines.unwrap_or(0) > 0
                || i.partial.is_some()
                || a.inputs.len() <= 20
        })
        .map(|i| InputRow {
            path: i.path.clone(),
            kind: i.kind.as_str().to_string(),
            node: i.node.clone().unwrap_or_else(|| "-".into()),
            status: match i.status {
                Status::Parsed => "parsed",
                Status::Skipped => "skipped",
                Status::Failed => "FAILED",
            }
            .to_string(),
            records: i.records.map_or("-".into(), |r| r.to_string()),
            unparsed: i.unparsed_lines.map_or("-".into(), |r| r.to_string()),
            reason: super::reason_and_partial(i),
        })
        .collect();
    if !rows.is_empty() {
        let mut t = Table::new(rows);
        t.with(Style::sharp());
        t.with(Modify::new(Columns::one(6)).with(Width::wrap(40).keep_words(true)));
        t.with(Modify::new(Columns::one(0)).with(Width::wrap(48)));
        let _ = writeln!(out, "\nInputs:\n{t}");
    }
    out
}

/// Word-wraps plain text to `w` columns.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > w {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
