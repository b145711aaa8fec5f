//! Markdown for tickets.

use super::{entities_text, evidence_path, summary};
use crate::model::Analysis;
use crate::model::Status;
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(a: &Analysis) -> String {
    let s = summary(a);
    let mut out = String::new();
    let _ = writeln!(out, "# kvtriage report\n");
    let _ = writeln!(
        out,
        "{} inputs ({} failed); {} critical, {} warning, {} info.\n",
        s.inputs, s.failed_inputs, s.critical, s.warning, s.info
    );
    if !a.findings.is_empty() {
        let _ = writeln!(
            out,
            "| # | severity | rule | title | entities |\n|---|---|---|---|---|"
        );
        for (i, f) in a.findings.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                i + 1,
                f.severity,
                f.rule,
                cell(&f.title),
                cell(&entities_text(f))
            );
        }
        for (i, f) in a.findings.iter().enumerate() {
            let _ = writeln!(out, "\n## {}. {} ({})\n", i + 1, f.title, f.severity);
            let _ = writeln!(out, "Rule `{}`. {}\n", f.rule, f.summary);
            let _ = writeln!(out, "{}\n", super::confidence_text(f));
            for (label, n) in super::links_text(a, f) {
                let _ = writeln!(out, "{label}: {}\n", cell(&n));
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(out, "**Evidence**\n");
                for j in 0..f.evidence.len() {
                    let (p, l, ex) = evidence_path(a, f, j);
                    let _ = writeln!(out, "- `{p}:{l}`: `{}`", ex.replace('`', "'"));
                }
                out.push('\n');
            }
            if !f.remediation.is_empty() {
                let _ = writeln!(out, "**Remediation**\n");
                for (k, st) in f.remediation.iter().enumerate() {
                    let risk = serde_json::to_string(&st.risk).unwrap_or_default();
                    let _ = writeln!(out, "{}. ({}) {}", k + 1, risk.trim_matches('"'), st.text);
                    if let Some(c) = &st.command {
                        let _ = writeln!(out, "   ```\n   {c}\n   ```");
                    }
                }
            }
            if !f.references.is_empty() {
                let _ = writeln!(out, "\nReferences: {}", f.references.join(", "));
            }
        }
    } else {
        let _ = writeln!(out, "No known failure pattern found.");
    }
    for n in &a.notes {
        let _ = writeln!(out, "\n> note: {n}");
    }
    let _ = writeln!(
        out,
        "\n## Inputs\n\n| path | kind | node | status | records | unparsed | reason |\n|---|---|---|---|---|---|---|"
    );
    for i in &a.inputs {
        let st = match i.status {
            Status::Parsed => "parsed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            i.path,
            i.kind,
            i.node.as_deref().unwrap_or("-"),
            st,
            i.records.map_or("-".into(), |r| r.to_string()),
            i.unparsed_lines.map_or("-".into(), |r| r.to_string()),
            cell(&super::reason_and_partial(i))
        );
    }
    out
}
