//! JUnit XML for CI: one testcase per rule evaluated; a finding at or above `--fail-on` is a
//! failure whose body holds the evidence and the remediation.

use super::{entities_text, evidence_path};
use crate::model::Analysis;
use crate::model::{Finding, Severity};
use std::fmt::Write;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn body(a: &Analysis, f: &Finding) -> String {
    let mut b = format!(
        "[{}] {}\n{}\nentities: {}\n",
        f.severity,
        f.title,
        f.summary,
        entities_text(f)
    );
    if !f.evidence.is_empty() {
        b.push_str("evidence:\n");
        for i in 0..f.evidence.len() {
            let (p, l, ex) = evidence_path(a, f, i);
            let _ = writeln!(b, "  {p}:{l}: {ex}");
        }
    }
    if !f.remediation.is_empty() {
        b.push_str("remediation:\n");
        for (i, s) in f.remediation.iter().enumerate() {
            let _ = writeln!(b, "  {}. {}", i + 1, s.text);
            if let Some(c) = &s.command {
                let _ = writeln!(b, "     $ {c}");
            }
        }
    }
    b
}

/// `rules`: the ids of the rules evaluated, in order; `fail_on`: None for `never`.
pub fn junit(a: &Analysis, rules: &[String], fail_on: Option<Severity>) -> String {
    let failing = |f: &Finding| fail_on.is_some_and(|t| f.severity >= t);
    let failures = rules
        .iter()
        .filter(|r| a.findings.iter().any(|f| &f.rule == *r && failing(f)))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kvtriage\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        rules.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"kvtriage analyze\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        rules.len()
    );
    for r in rules {
        let family = r.split('.').next().unwrap_or("kvtriage");
        let _ = write!(
            out,
            "    <testcase classname=\"kvtriage.{}\" name=\"{}\"",
            esc(family),
            esc(r)
        );
        let mine: Vec<&Finding> = a.findings.iter().filter(|f| &f.rule == r).collect();
        if mine.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let (fail, info): (Vec<&Finding>, Vec<&Finding>) = mine.iter().partition(|f| failing(f));
        if let Some(first) = fail.first() {
            let text: Vec<String> = fail.iter().map(|f| body(a, f)).collect();
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                esc(&first.title),
                first.severity,
                esc(&text.join("\n"))
            );
        }
        if !info.is_empty() {
            let text: Vec<String> = info.iter().map(|f| body(a, f)).collect();
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                esc(&text.join("\n"))
            );
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
