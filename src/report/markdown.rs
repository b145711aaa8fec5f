//! Markdown for tickets: the verdict, the findings, the merged plan, each finding's evidence,
//! the inputs and the closing summary. Text from the bundle is escaped
//! ([`super::escape_output`]) so a ticket cannot carry terminal control sequences.

use super::{View, entities_text, summary};
use crate::model::Analysis;
use crate::model::Status;
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown with default options (times in the bundle's zone, no exit line).
pub fn markdown(a: &Analysis) -> String {
    markdown_with(a, &View::default())
}

pub fn markdown_with(a: &Analysis, view: &View) -> String {
    let s = summary(a);
    let zone = super::zone(a, view).0;
    let tz = |s: &str| super::in_zone(s, zone).into_owned();
    let mut out = String::new();
    let _ = writeln!(out, "# kvtriage report\n");
    let _ = writeln!(out, "**{}**\n", super::verdict(a, view));
    let _ = writeln!(
        out,
        "{} inputs ({} failed); {} critical, {} warning, {} info; {}.\n",
        s.inputs,
        s.failed_inputs,
        s.critical,
        s.warning,
        s.info,
        super::zone_text(a, view)
    );
    let plan = crate::model::plan(&a.findings);
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
                cell(&tz(&f.title)),
                cell(&entities_text(f))
            );
        }
        let _ = writeln!(
            out,
            "\n## Plan\n\nIn this order (read-only, reversible, restart, data-loss); each step once.\n"
        );
        for (k, st) in plan.iter().enumerate() {
            let risk = serde_json::to_string(&st.risk).unwrap_or_default();
            let _ = writeln!(
                out,
                "{}. ({}) {} (for {})",
                k + 1,
                risk.trim_matches('"'),
                tz(&st.text),
                super::table::step_for(a, st)
            );
            if let Some(c) = &st.command {
                let _ = writeln!(out, "   ```\n   {c}\n   ```");
            }
            for n in &st.notes {
                let _ = writeln!(out, "   - note: {}", n);
            }
        }
        for (i, f) in a.findings.iter().enumerate() {
            let _ = writeln!(out, "\n## {}. {} ({})\n", i + 1, tz(&f.title), f.severity);
            let _ = writeln!(out, "Rule `{}`. {}\n", f.rule, tz(&f.summary));
            let _ = writeln!(out, "{}\n", tz(&super::confidence_text(f)));
            for (label, n) in super::links_text(a, f) {
                let _ = writeln!(out, "{label}: {}\n", cell(&n));
            }
            let evidence = super::evidence_sorted(a, f);
            if !evidence.is_empty() {
                let _ = writeln!(out, "**Evidence**\n");
                for (p, l, ex) in &evidence {
                    let _ = writeln!(out, "- `{p}:{l}`: `{}`", ex.replace('`', "'"));
                }
                out.push('\n');
            }
            let steps = crate::model::plan::steps_for(&plan, i + 1);
            if !steps.is_empty() {
                let nums: Vec<String> = steps.iter().map(usize::to_string).collect();
                let _ = writeln!(out, "**Remediation**: plan steps {}.", nums.join(", "));
            }
            if !f.references.is_empty() {
                let _ = writeln!(out, "\nReferences: {}", f.references.join(", "));
            }
        }
    }
    for n in &a.notes {
        let _ = writeln!(out, "\n> note: {}", tz(n));
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
    let _ = writeln!(out, "\n{}", super::closing_line(a, view));
    super::escape_output(&out, false).into_owned()
}
