//! The terminal report: the verdict, a findings table, the merged plan, then each finding's
//! summary and evidence, the inputs, and a closing summary line. It fits the width it is
//! given (the terminal's, or `COLUMNS`): below 120 columns the tables fold columns together,
//! long paths are shortened in the middle. Everything from the bundle is escaped
//! ([`super::escape`]).

use super::{View, entities_text, escape, summary};
use crate::model::Analysis;
use crate::model::Status;
use crate::model::{PlanStep, Risk, Severity};
use std::fmt::Write;
use tabled::builder::Builder;
use tabled::settings::Style;

/// Marks a line of a path cell that is wrapped, not shortened (bundle text is escaped, so
/// it never holds a control character).
const PROSE: char = '\x01';

/// Below this width the tables fold columns together.
const WIDE: usize = 120;
/// Narrowest layout we try to fit.
const MIN_WIDTH: usize = 40;

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

/// `path` cut to `max` characters in the middle, whole components first
/// (`tidb-deploy/…/log/pd.log`), else characters (`tidb-depl…pd.log`).
pub fn shorten_middle(path: &str, max: usize) -> String {
    let n = path.chars().count();
    if n <= max || max < 3 {
        return path.to_string();
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() >= 3 {
        let first = parts[0];
        let mut len = first.chars().count() + 2;
        let mut tail: Vec<&str> = Vec::new();
        for p in parts[1..].iter().rev() {
            let add = p.chars().count() + 1;
            if len + add > max {
                break;
            }
            len += add;
            tail.push(p);
        }
        if !tail.is_empty() && tail.len() < parts.len() - 1 {
            tail.reverse();
            return format!("{first}/…/{}", tail.join("/"));
        }
    }
    let keep = max - 1;
    let head = keep / 2;
    let back = keep - head;
    let chars: Vec<char> = path.chars().collect();
    let mut s: String = chars[..head].iter().collect();
    s.push('…');
    s.extend(&chars[n - back..]);
    s
}

/// `text` cut to `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// How a column's cells are fitted into its width.
#[derive(Clone, Copy)]
enum Fit {
    /// Never narrowed (short values: severity, kind, status, counts).
    Keep,
    /// Word-wrapped, down to this many columns; narrowed first.
    Wrap(usize),
    /// Shortened in the middle (`tidb-deploy/…/pd.log`), down to this many columns; narrowed
    /// only when the wrapped columns are at their minimum.
    Path(usize),
}

fn text_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// A table that fits `width` columns: the widest wrapped column gives a column at a time,
/// then paths; each cell is wrapped or shortened to its column.
fn grid(header: &[&str], rows: &[Vec<String>], fits: &[Fit], width: usize) -> String {
    let n = header.len();
    let natural: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| text_width(&r[c]))
                .chain([text_width(header[c])])
                .max()
                .unwrap_or(1)
                .max(1)
        })
        .collect();
    let min: Vec<usize> = (0..n)
        .map(|c| match fits[c] {
            Fit::Keep => natural[c],
            Fit::Wrap(m) | Fit::Path(m) => m.min(natural[c]),
        })
        .collect();
    // `│ a │ b │`: one border per column and one more, one space each side of a cell.
    let avail = width.saturating_sub(3 * n + 1);
    let mut w = natural.clone();
    for stage in 0..2 {
        while w.iter().sum::<usize>() > avail {
            let pick = (0..n)
                .filter(|&c| w[c] > min[c])
                .filter(|&c| match fits[c] {
                    Fit::Keep => false,
                    Fit::Wrap(_) => stage == 0,
                    Fit::Path(_) => stage == 1,
                })
                .max_by_key(|&c| (w[c], c));
            match pick {
                Some(c) => w[c] -= 1,
                None => break,
            }
        }
    }
    let fit_cell = |c: usize, s: &str, head: bool| -> String {
        s.lines()
            .flat_map(|l| match fits[c] {
                // A line of prose under a path (`\x01` marks it; escaped text has none).
                Fit::Path(_) if l.starts_with(PROSE) => wrap(&l[PROSE.len_utf8()..], w[c]),
                Fit::Path(_) if !head => vec![shorten_middle(l, w[c])],
                Fit::Keep if !head => vec![l.to_string()],
                _ => wrap(l, w[c]),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut b = Builder::default();
    b.push_record((0..n).map(|c| fit_cell(c, header[c], true)));
    for r in rows {
        b.push_record((0..n).map(|c| fit_cell(c, &r[c], false)));
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t.to_string()
}

fn risk_name(r: Risk) -> &'static str {
    match r {
        Risk::ReadOnly => "read-only",
        Risk::Reversible => "reversible",
        Risk::Restart => "restart",
        Risk::DataLoss => "data-loss",
    }
}

/// `[1] tikv.majority-replicas-lost, [2][3] tikv.store-down`: the findings a plan step serves.
pub(crate) fn step_for(a: &Analysis, s: &PlanStep) -> String {
    s.rules
        .iter()
        .map(|rule| {
            let nums: String = s
                .findings
                .iter()
                .filter(|n| a.findings.get(*n - 1).is_some_and(|f| &f.rule == rule))
                .map(|n| format!("[{n}]"))
                .collect();
            format!("{nums} {rule}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The terminal report with default options (100 columns, times in the bundle's zone, no
/// exit line).
pub fn table(a: &Analysis, color: bool, width: usize, verbose: bool) -> String {
    table_with(
        a,
        &View {
            color,
            width,
            verbose,
            ..View::default()
        },
    )
}

pub fn table_with(a: &Analysis, view: &View) -> String {
    let p = Paint(view.color);
    let width = view.width.max(MIN_WIDTH);
    let wide = width >= WIDE;
    let text_w = width.saturating_sub(4).max(30);
    let zone = super::zone(a, view).0;
    let tz = |s: &str| super::in_zone(s, zone).into_owned();
    let s = summary(a);
    let mut out = String::new();

    // The verdict first.
    let verdict = escape(&super::verdict(a, view)).into_owned();
    let verdict_sev = a.findings.first().map(|f| f.severity);
    for l in wrap(&verdict, width) {
        let _ = match verdict_sev {
            Some(sev) => writeln!(out, "{}", p.sev(sev, &l)),
            None => writeln!(out, "{}", p.bold(&l)),
        };
    }
    let parsed = a
        .inputs
        .iter()
        .filter(|i| i.status == Status::Parsed)
        .count();
    let header = format!(
        "kvtriage: {} inputs ({} parsed, {} skipped, {} failed) - {} findings: {} critical, {} warning, {} info; {}",
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
        s.info,
        super::zone_text(a, view)
    );
    for l in wrap(&header, width) {
        let _ = writeln!(out, "{}", p.dim(&l));
    }

    let plan = crate::model::plan(&a.findings);
    if !a.findings.is_empty() {
        let entities = |f: &crate::model::Finding| escape(&entities_text(f)).replace("; ", "\n");
        let table = if wide {
            let rows: Vec<Vec<String>> = a
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    vec![
                        (i + 1).to_string(),
                        f.severity.as_str().to_string(),
                        escape(&f.rule).into_owned(),
                        escape(&tz(&f.title)).into_owned(),
                        entities(f),
                    ]
                })
                .collect();
            grid(
                &["#", "SEVERITY", "RULE", "TITLE", "ENTITIES"],
                &rows,
                &[
                    Fit::Keep,
                    Fit::Keep,
                    Fit::Wrap(24),
                    Fit::Wrap(24),
                    Fit::Wrap(14),
                ],
                width,
            )
        } else {
            let rows: Vec<Vec<String>> = a
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    vec![
                        (i + 1).to_string(),
                        f.severity.as_str().to_string(),
                        format!("{}\n({})", escape(&tz(&f.title)), escape(&f.rule)),
                        entities(f),
                    ]
                })
                .collect();
            grid(
                &["#", "SEVERITY", "FINDING (rule)", "ENTITIES"],
                &rows,
                &[Fit::Keep, Fit::Keep, Fit::Wrap(20), Fit::Wrap(12)],
                width,
            )
        };
        let _ = writeln!(out, "\n{table}");

        // One plan for the cluster.
        let _ = writeln!(out);
        let title = format!(
            "Plan: {} steps for {} findings, in this order (read-only, reversible, restart, data-loss):",
            plan.len(),
            a.findings.len()
        );
        for l in wrap(&title, width) {
            let _ = writeln!(out, "{}", p.bold(&l));
        }
        for (k, st) in plan.iter().enumerate() {
            let lead = format!("  {}. [{}] ", k + 1, risk_name(st.risk));
            let indent = " ".repeat(lead.chars().count());
            let body_w = width.saturating_sub(lead.chars().count()).max(30);
            for (j, l) in wrap(&escape(&tz(&st.text)), body_w).iter().enumerate() {
                if j == 0 {
                    let _ = writeln!(out, "  {}. [{}] {l}", k + 1, p.risk(st.risk));
                } else {
                    let _ = writeln!(out, "{indent}{l}");
                }
            }
            if let Some(c) = &st.command {
                let _ = writeln!(out, "{indent}$ {}", p.bold(&escape(c)));
            }
            for l in wrap(&format!("for {}", escape(&step_for(a, st))), body_w) {
                let _ = writeln!(out, "{indent}{}", p.dim(&l));
            }
            for n in &st.notes {
                for l in wrap(&format!("note: {}", escape(n)), body_w) {
                    let _ = writeln!(out, "{indent}{}", p.dim(&l));
                }
            }
        }

        for (i, f) in a.findings.iter().enumerate() {
            let ent = escape(&entities_text(f)).into_owned();
            let lead = format!("[{}] {}", i + 1, f.severity.as_str().to_uppercase());
            let rule = escape(&f.rule).into_owned();
            let _ = write!(out, "\n{} {}", p.sev(f.severity, &lead), p.bold(&rule));
            if lead.chars().count() + rule.chars().count() + ent.chars().count() + 2 <= width {
                let _ = writeln!(out, " {}", p.dim(&ent));
            } else {
                let _ = writeln!(out);
                for l in wrap(&ent, text_w) {
                    let _ = writeln!(out, "    {}", p.dim(&l));
                }
            }
            for l in wrap(&escape(&tz(&f.title)), text_w) {
                let _ = writeln!(out, "    {}", p.bold(&l));
            }
            for l in wrap(&escape(&tz(&f.summary)), text_w) {
                let _ = writeln!(out, "    {l}");
            }
            for l in wrap(&escape(&tz(&super::confidence_text(f))), text_w) {
                let _ = writeln!(out, "    {}", p.dim(&l));
            }
            for (label, n) in super::links_text(a, f) {
                for l in wrap(&format!("{label}: {}", escape(&n)), text_w) {
                    let _ = writeln!(out, "    {}", p.dim(&l));
                }
            }
            let evidence = super::evidence_sorted(a, f);
            if !evidence.is_empty() {
                let _ = writeln!(out, "    Evidence:");
                let shown = if view.verbose {
                    evidence.len()
                } else {
                    evidence.len().min(6)
                };
                for (path, line, ex) in &evidence[..shown] {
                    let loc = format!(":{line}");
                    let path =
                        shorten_middle(&escape(path), width.saturating_sub(6 + loc.len()).max(20));
                    let _ = writeln!(out, "      {}", p.dim(&format!("{path}{loc}")));
                    let ex = escape(ex.trim()).into_owned();
                    let _ = writeln!(out, "        {}", cut(&ex, width.saturating_sub(8).max(30)));
                }
                if shown < evidence.len() {
                    let _ = writeln!(
                        out,
                        "      ... {} more (use --verbose or --format json)",
                        evidence.len() - shown
                    );
                }
            }
            let steps = crate::model::plan::steps_for(&plan, i + 1);
            if !steps.is_empty() {
                let nums: Vec<String> = steps.iter().map(usize::to_string).collect();
                let _ = writeln!(
                    out,
                    "    Remediation: plan steps {} (above)",
                    nums.join(", ")
                );
            }
            if view.verbose && !f.references.is_empty() {
                for l in wrap(
                    &format!("References: {}", escape(&f.references.join(", "))),
                    text_w,
                ) {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
    }
    for n in &a.notes {
        let _ = writeln!(out);
        for l in wrap(&format!("note: {}", escape(&tz(n))), width) {
            let _ = writeln!(out, "{l}");
        }
    }
    if let Some(c) = &a.coverage {
        let ran = c.rules.iter().filter(|r| r.status == "ran").count();
        let _ = writeln!(
            out,
            "\nCoverage: {ran} of {} rules could run.",
            c.rules.len()
        );
        for r in c.rules.iter().filter(|r| r.status != "ran") {
            let line = format!(
                "skipped {}: {}",
                escape(&r.id),
                escape(r.reason.as_deref().unwrap_or(""))
            );
            for (j, l) in wrap(&line, width.saturating_sub(4)).iter().enumerate() {
                let _ = writeln!(out, "{}{l}", if j == 0 { "  " } else { "    " });
            }
        }
        for p in &c.unused_inputs {
            let _ = writeln!(
                out,
                "  no rule reads {}",
                shorten_middle(&escape(p), width.saturating_sub(16))
            );
        }
    }
    let shown: Vec<&crate::model::InputReport> = a
        .inputs
        .iter()
        .filter(|i| {
            view.verbose
                || i.status != Status::Parsed
                || i.unparsed_lines.unwrap_or(0) > 0
                || i.partial.is_some()
                || a.inputs.len() <= 20
        })
        .collect();
    let status = |i: &crate::model::InputReport| {
        match i.status {
            Status::Parsed => "parsed",
            Status::Skipped => "skipped",
            Status::Failed => "FAILED",
        }
        .to_string()
    };
    if !shown.is_empty() {
        let table = if wide {
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|i| {
                    vec![
                        escape(&i.path).into_owned(),
                        i.kind.as_str().to_string(),
                        i.node
                            .as_deref()
                            .map_or("-".into(), |n| escape(n).into_owned()),
                        status(i),
                        i.records.map_or("-".into(), |r| r.to_string()),
                        i.unparsed_lines.map_or("-".into(), |r| r.to_string()),
                        escape(&super::reason_and_partial(i)).into_owned(),
                    ]
                })
                .collect();
            grid(
                &[
                    "PATH", "KIND", "NODE", "STATUS", "RECORDS", "UNPARSED", "REASON",
                ],
                &rows,
                &[
                    Fit::Path(24),
                    Fit::Keep,
                    Fit::Path(14),
                    Fit::Keep,
                    Fit::Keep,
                    Fit::Keep,
                    Fit::Wrap(20),
                ],
                width,
            )
        } else {
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|i| {
                    let mut path = escape(&i.path).into_owned();
                    if let Some(n) = &i.node {
                        path.push_str(&format!("\n({})", escape(n)));
                    }
                    let reason = super::reason_and_partial(i);
                    if !reason.is_empty() {
                        path.push_str(&format!("\n{PROSE}{}", escape(&reason)));
                    }
                    vec![
                        path,
                        i.kind.as_str().to_string(),
                        status(i),
                        match (i.records, i.unparsed_lines) {
                            (Some(r), Some(u)) if u > 0 => format!("{r}\n{u} unparsed"),
                            (Some(r), _) => r.to_string(),
                            (None, Some(u)) if u > 0 => format!("-\n{u} unparsed"),
                            (None, _) => "-".to_string(),
                        },
                    ]
                })
                .collect();
            grid(
                &["PATH (node; reason)", "KIND", "STATUS", "RECORDS"],
                &rows,
                &[Fit::Path(16), Fit::Keep, Fit::Keep, Fit::Keep],
                width,
            )
        };
        let _ = writeln!(out, "\nInputs:\n{table}");
    }
    // And the verdict's numbers last, where the screen ends.
    let _ = writeln!(out);
    for l in wrap(&escape(&super::closing_line(a, view)), width) {
        let _ = writeln!(out, "{}", p.bold(&l));
    }
    super::escape_output(&out, view.color).into_owned()
}

/// Word-wraps plain text to `w` columns; a word longer than `w` is cut.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > w {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            // Break a long word after a `-`, `.`, `/`, `,`, `:` or `_` when one is near the end.
            let chars: Vec<char> = word.chars().collect();
            let at = ((w / 2).max(1)..w)
                .rev()
                .find(|&k| matches!(chars[k - 1], '-' | '.' | '/' | ',' | ':' | '_'))
                .unwrap_or(w);
            lines.push(chars[..at].iter().collect());
            word = chars[at..].iter().collect();
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > w {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shortened_in_the_middle() {
        assert_eq!(
            shorten_middle("tidb-deploy/pd-2379/log/pd.log", 22),
            "tidb-deploy/…/pd.log"
        );
        assert_eq!(
            shorten_middle("tidb-deploy/pd-2379/log/pd.log", 26),
            "tidb-deploy/…/log/pd.log"
        );
        assert_eq!(shorten_middle("short/path.log", 40), "short/path.log");
        let s = shorten_middle("a-very-long-single-file-name-without-slashes.log", 20);
        assert_eq!(s.chars().count(), 20);
        assert!(
            s.starts_with("a-very-lo") && s.ends_with("ashes.log"),
            "{s}"
        );
    }

    #[test]
    fn wrap_cuts_words_longer_than_the_line() {
        assert_eq!(wrap("abcdefgh ij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap("tikv.offline-store", 12),
            vec!["tikv.offline", "-store"]
        );
        // One column: no break point to look for, no panic.
        assert_eq!(wrap("a-b", 1), vec!["a", "-", "b"]);
        assert_eq!(wrap("a-b", 0), vec!["a", "-", "b"]);
    }
}
