//! `kvtriage rules list`: one rule a line under a header, with its title.

use crate::rules::RuleSet;

/// `RULE  SEVERITY  MATCHER  TITLE`, columns as wide as their longest value, rules in the
/// catalogue's order; a title's `{placeholders}` are filled per finding.
pub fn list_table(rules: &RuleSet) -> String {
    let rows: Vec<[&str; 4]> = rules
        .rules
        .iter()
        .map(|r| {
            [
                r.spec.id.as_str(),
                r.spec.severity.as_str(),
                crate::rules::catalogue::logic_kind(r),
                r.spec.title.as_str(),
            ]
        })
        .collect();
    let head = ["RULE", "SEVERITY", "MATCHER", "TITLE"];
    let w = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (w(0), w(1), w(2));
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3].trim()
        ));
    }
    out.push_str(&format!(
        "{} rules; `kvtriage rules show RULE` for one in full\n",
        rows.len()
    ));
    out
}
