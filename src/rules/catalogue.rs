//! The rule catalogue as a person reads it: `rules list`, `rules show`, `explain`.

use super::{Rule, RuleError, RuleSet};

fn find<'a>(rules: &'a RuleSet, id: &str) -> Result<&'a Rule, RuleError> {
    rules.get(id).ok_or_else(|| RuleError::Unknown {
        id: id.to_string(),
        known: rules
            .rules
            .iter()
            .map(|r| r.spec.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// One rule a line: id, severity, logic, first sentence.
pub fn list_table(rules: &RuleSet) -> String {
    let mut out = String::new();
    for r in &rules.rules {
        out.push_str(&format!(
            "{:<48} {:<9} {:<16} {}\n",
            r.spec.id,
            r.spec.severity.as_str(),
            logic_kind(r),
            first_sentence(r.spec.explain.as_deref().unwrap_or(&r.spec.title))
        ));
    }
    out
}

pub fn list_json(rules: &RuleSet) -> Result<String, serde_json::Error> {
    let v: Vec<_> = rules
        .rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.spec.id,
                "severity": r.spec.severity,
                "title": r.spec.title,
                "matcher": logic_kind(r),
                "origin": r.origin,
                "builtin": r.builtin,
                "references": r.spec.references,
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}

/// A rule as a person reads it: what fires it, what it says, what to do, how it is tested.
pub fn show(rules: &RuleSet, id: &str) -> Result<String, RuleError> {
    let r = find(rules, id)?;
    let s = &r.spec;
    let mut out = format!(
        "{}  ({}, {}, from {})\n\nTitle:   {}\nSummary: {}\n",
        s.id,
        s.severity,
        logic_kind(r),
        if r.builtin {
            "built-in rules"
        } else {
            r.origin.as_str()
        },
        s.title,
        s.summary
    );
    if let Some(e) = &s.explain {
        out.push_str(&format!("\n{}\n", e.trim()));
    }
    out.push_str(&format!("\nLogic:\n{}", indent(&logic_toml(r), "  ")));
    if !s.remediation.is_empty() {
        out.push_str("\nRemediation:\n");
        out.push_str(&steps_text(&s.remediation));
    }
    if !s.test.is_empty() {
        out.push_str("\nTest cases:\n");
        for t in &s.test {
            out.push_str(&format!(
                "  {:?} {}: {}/{}/\n",
                t.expect, t.name, s.id, t.dir
            ));
        }
    }
    if !s.references.is_empty() {
        out.push_str(&format!("\nReferences:\n  {}\n", s.references.join("\n  ")));
    }
    Ok(out)
}

/// Remediation steps as written in a rule file, numbered, with risk and version gate.
fn steps_text(steps: &[super::spec::StepSpec]) -> String {
    let mut out = String::new();
    for (i, st) in steps.iter().enumerate() {
        let risk = match st.risk {
            crate::model::Risk::ReadOnly => "read-only",
            crate::model::Risk::Reversible => "reversible",
            crate::model::Risk::Restart => "restart",
            crate::model::Risk::DataLoss => "data-loss",
        };
        let gate = st
            .when
            .as_deref()
            .map(|w| format!(" [when {w}]"))
            .unwrap_or_default();
        out.push_str(&format!("  {}. ({risk}){gate} {}\n", i + 1, st.text));
        if let Some(c) = &st.command {
            out.push_str(&format!("       $ {c}\n"));
        }
    }
    out
}

fn indent(s: &str, pad: &str) -> String {
    s.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// The rule's query (or correlation) as TOML, as written in a rule file.
fn logic_toml(r: &Rule) -> String {
    match (&r.spec.query, &r.spec.correlation) {
        (Some(q), _) => toml::to_string(q).unwrap_or_default(),
        (None, Some(c)) => toml::to_string(c).unwrap_or_default(),
        (None, None) => String::new(),
    }
}

fn first_sentence(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.find(". ") {
        Some(p) => s[..=p].to_string(),
        None => s,
    }
}

/// `query` or `correlation`.
pub fn logic_kind(r: &Rule) -> &'static str {
    if r.spec.query.is_some() {
        "query"
    } else {
        "correlation"
    }
}

/// `kvtriage explain RULE`: background, remediation and references.
pub fn explain(rules: &RuleSet, id: &str) -> Result<String, RuleError> {
    let r = find(rules, id)?;
    let mut out = format!(
        "{} ({})\n\n{}\n",
        r.spec.id,
        r.spec.severity,
        r.spec.explain.as_deref().unwrap_or(&r.spec.title).trim()
    );
    if !r.spec.remediation.is_empty() {
        out.push_str("\nRemediation (placeholders are filled from the bundle):\n");
        out.push_str(&steps_text(&r.spec.remediation));
    }
    if !r.spec.references.is_empty() {
        out.push_str(&format!(
            "\nReferences:\n  {}\n",
            r.spec.references.join("\n  ")
        ));
    }
    Ok(out)
}
