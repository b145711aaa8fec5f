//! `kvtriage rules test` and `kvtriage rules lint`: rules carry their own test cases (bundle
//! folders beside the rule file and the expected outcome) and are checked for the house style.

use super::spec::Expect;
use super::{RuleSet, Severity};
use crate::model::{Analysis, Finding, Status};
use std::path::{Component, Path, PathBuf};

/// The result of one rule test.
#[derive(Debug)]
pub struct Outcome {
    pub rule: String,
    pub name: String,
    pub passed: bool,
    /// Why it failed, or what fired.
    pub detail: String,
}

/// A test input path, kept inside the test folder whatever the rule file says.
fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    let mut out = base.to_path_buf();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (out != base).then_some(out)
}

/// Analyses one case folder with a rule set: the pipeline, handed in by its caller (the
/// rules layer does not reach up to it).
pub type Analyze<'a> = dyn Fn(&Path, &RuleSet) -> Analysis + 'a;

/// Runs every test case of every rule in the set (each against the whole set, so that
/// correlations see what they need) and reports each outcome.
pub fn run_all(rules: &RuleSet, analyze: &Analyze<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let base = std::env::temp_dir().join(format!("kvtriage-rule-tests-{}", std::process::id()));
    for (ri, rule) in rules.rules.iter().enumerate() {
        for (ti, t) in rule.spec.test.iter().enumerate() {
            let tmp = base.join(format!("{ri}-{ti}"));
            let outcome = case_dir(rule, t, &tmp)
                .and_then(|dir| run_one(rules, analyze, rule.spec.id.as_str(), t, &dir));
            let _ = std::fs::remove_dir_all(&tmp);
            out.push(match outcome {
                Ok(detail) => Outcome {
                    rule: rule.spec.id.clone(),
                    name: t.name.clone(),
                    passed: true,
                    detail,
                },
                Err(detail) => Outcome {
                    rule: rule.spec.id.clone(),
                    name: t.name.clone(),
                    passed: false,
                    detail,
                },
            });
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    out
}

/// The folder of a test case: the user's own, or a built-in case written out to `tmp`.
fn case_dir(rule: &super::Rule, t: &super::spec::TestSpec, tmp: &Path) -> Result<PathBuf, String> {
    let bad = || format!("case dir {:?} must be a relative path, without ..", t.dir);
    match &rule.cases {
        super::Cases::Folder(base) => {
            let dir = safe_join(base, &t.dir).ok_or_else(bad)?;
            if !dir.is_dir() {
                return Err(format!("no test case folder {}", dir.display()));
            }
            Ok(dir)
        }
        super::Cases::Embedded => {
            let files = super::builtin_case(&rule.spec.id, &t.dir);
            if files.is_empty() {
                return Err(format!("no built-in test case {}/{}", rule.spec.id, t.dir));
            }
            let dir = safe_join(tmp, &t.dir).ok_or_else(bad)?;
            for (rel, bytes) in files {
                let path = safe_join(&dir, rel).ok_or_else(bad)?;
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot write test input: {e}"))?;
                }
                std::fs::write(&path, bytes)
                    .map_err(|e| format!("cannot write test input: {e}"))?;
            }
            Ok(dir)
        }
    }
}

fn run_one(
    rules: &RuleSet,
    analyze: &Analyze<'_>,
    id: &str,
    t: &super::spec::TestSpec,
    dir: &Path,
) -> Result<String, String> {
    let a = analyze(dir, rules);
    let fired: Vec<_> = a.findings.iter().filter(|f| f.rule == id).collect();
    match t.expect {
        Expect::Quiet if fired.is_empty() => Ok("quiet".into()),
        Expect::Quiet => Err(format!("expected quiet, but it fired: {}", fired[0].title)),
        Expect::Fire if fired.is_empty() => {
            let failed: Vec<String> = a
                .inputs
                .iter()
                .filter(|i| i.status != Status::Parsed)
                .map(|i| format!("{} ({})", i.path, i.reason.clone().unwrap_or_default()))
                .collect();
            Err(if failed.is_empty() {
                "expected it to fire, but it did not".into()
            } else {
                format!(
                    "expected it to fire, but it did not; inputs not parsed: {}",
                    failed.join(", ")
                )
            })
        }
        Expect::Fire => {
            let f = fired[0];
            if let Some(s) = t.severity
                && !fired.iter().any(|f| f.severity == s)
            {
                return Err(format!("fired as {}, expected {s}", f.severity));
            }
            let all = |want: &[u64], have: &dyn Fn(&Finding) -> &Vec<u64>| {
                want.iter()
                    .all(|w| fired.iter().any(|f| have(f).contains(w)))
            };
            if !all(&t.stores, &|f| &f.entities.stores) {
                return Err(format!(
                    "stores {:?} expected, found {:?}",
                    t.stores, f.entities.stores
                ));
            }
            if !all(&t.regions, &|f| &f.entities.regions) {
                return Err(format!(
                    "regions {:?} expected, found {:?}",
                    t.regions, f.entities.regions
                ));
            }
            if !t
                .nodes
                .iter()
                .all(|n| fired.iter().any(|f| f.entities.nodes.contains(n)))
            {
                return Err(format!(
                    "nodes {:?} expected, found {:?}",
                    t.nodes, f.entities.nodes
                ));
            }
            Ok(format!("fired: {}", f.title))
        }
    }
}

/// Style problems of one rule, empty when it is fine.
pub fn lint(rule: &super::Rule) -> Vec<String> {
    let s = &rule.spec;
    let mut p = Vec::new();
    let id_ok = {
        let mut parts = s.id.split('.');
        let family = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        !family.is_empty()
            && family
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && !rest.is_empty()
            && rest.iter().all(|r| {
                !r.is_empty()
                    && !r.starts_with('-')
                    && !r.ends_with('-')
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    };
    if !id_ok {
        p.push(format!(
            "id {:?} is not `family.kebab-case-name` in lower case",
            s.id
        ));
    }
    if s.remediation.is_empty() {
        p.push("no remediation step".into());
    }
    if s.references.is_empty() {
        p.push("no references".into());
    }
    if s.explain.as_deref().is_none_or(|e| e.trim().is_empty()) {
        p.push("no explain text".into());
    }
    if !s.title.contains('{') {
        p.push("the title names no entity (no placeholder)".into());
    }
    if s.severity == Severity::Critical
        && !s
            .remediation
            .iter()
            .any(|r| r.risk == super::Risk::ReadOnly)
    {
        p.push("a critical rule should start with a read-only step".into());
    }
    // Read-only steps come first: a careful operator looks before changing anything.
    let first_change = s
        .remediation
        .iter()
        .position(|r| r.risk != super::Risk::ReadOnly);
    if let Some(i) = first_change
        && s.remediation[i..]
            .iter()
            .any(|r| r.risk == super::Risk::ReadOnly)
    {
        p.push("a read-only step comes after a step that changes state".into());
    }
    // Steps that can lose data come last: everything safer is tried first.
    if let Some(i) = s
        .remediation
        .iter()
        .position(|r| r.risk == super::Risk::DataLoss)
        && s.remediation[i..]
            .iter()
            .any(|r| r.risk != super::Risk::DataLoss)
    {
        p.push("a step that can lose data comes before a safer one".into());
    }
    if !s.test.iter().any(|t| t.expect == Expect::Fire) {
        p.push("no test case that fires".into());
    }
    if !s.test.iter().any(|t| t.expect == Expect::Quiet) {
        p.push("no near-miss test case (expect = \"quiet\")".into());
    }
    p
}
