//! Rules as data: loading the rule files (`rules/<product>/<id>.toml` and user folders), the
//! needles they give the prefilter, evaluating them and rendering their findings.

pub mod catalogue;
pub mod correlate;
pub mod coverage;
mod links;
pub mod notes;
pub mod query;

pub mod spec;
mod template;
pub mod testing;

pub use crate::model::{Confidence, Entities, EvidenceRef, Finding, Risk, Severity, Step};
pub use spec::RuleSpec;

use crate::model::Kind;
use crate::model::{Component, Facts, InputId, NeedleGroup, Version};
use spec::StepSpec;
use std::collections::BTreeMap;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("no rule {id:?}; known rules: {known}")]
    Unknown { id: String, known: String },
}

/// A rule file as read, before it is compiled.
#[derive(Clone, Debug)]
pub struct LoadedRule {
    pub origin: String,
    pub text: String,
    pub spec: RuleSpec,
    pub builtin: bool,
    /// Where its test cases are.
    pub cases: Cases,
}

/// Where a rule's test-case folders are: embedded with the built-in rules, or the folder
/// named after the rule beside a user's rule file (`my-rules/x.y/fire/...`).
#[derive(Clone, Debug, Default)]
pub enum Cases {
    #[default]
    Embedded,
    Folder(std::path::PathBuf),
}

/// Which rules run: user rule folders, and `--only` / `--disable` ids.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub dirs: Vec<std::path::PathBuf>,
    pub only: Vec<String>,
    pub disable: Vec<String>,
}

fn builtin_specs() -> Result<Vec<LoadedRule>, RuleError> {
    embedded::BUILTIN_RULES
        .iter()
        .map(|(name, text)| {
            let mut r = parse_rule(name, text)?;
            r.builtin = true;
            Ok(r)
        })
        .collect()
}

/// The files of a built-in rule's test case, as (path inside the case, bytes).
pub fn builtin_case(id: &str, case: &str) -> Vec<(&'static str, &'static [u8])> {
    embedded::BUILTIN_CASES
        .iter()
        .filter(|(rule, _, _)| *rule == id)
        .filter_map(|(_, inner, bytes)| {
            let rest = inner.strip_prefix(case)?.strip_prefix('/')?;
            Some((rest, *bytes))
        })
        .collect()
}

/// The rule files of a folder, `*.toml` and `<product>/*.toml`, in name order.
pub fn user_specs(dir: &std::path::Path) -> Result<Vec<LoadedRule>, RuleError> {
    let io = |p: &std::path::Path, e: std::io::Error| RuleError::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let listing = |d: &std::path::Path| -> Result<Vec<std::path::PathBuf>, RuleError> {
        let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(d)
            .map_err(|e| io(d, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    };
    let mut files = Vec::new();
    for p in listing(dir)? {
        if p.is_dir() {
            files.extend(listing(&p)?.into_iter().filter(|f| f.is_file()));
        } else {
            files.push(p);
        }
    }
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|f| {
            let text = std::fs::read_to_string(&f).map_err(|e| io(&f, e))?;
            let mut r = parse_rule(&f.display().to_string(), &text)?;
            let stem = f.file_stem().map(|s| s.to_os_string()).unwrap_or_default();
            r.cases = Cases::Folder(f.with_file_name(stem));
            Ok(r)
        })
        .collect()
}

/// `:line:column` of the text a load error is about (a quoted name in the message), if found.
fn locate_problem(text: &str, message: &str) -> String {
    let mut needles: Vec<String> = message
        .split(['"', '`'])
        .skip(1)
        .step_by(2)
        .filter(|s| s.len() > 1)
        .map(str::to_string)
        .collect();
    // Unknown placeholders are reported as {name}.
    if let Some(p) = message.find("placeholder {") {
        let rest = &message[p + "placeholder ".len()..];
        if let Some(end) = rest.find('}') {
            needles.insert(0, rest[..=end].to_string());
        }
    }
    for n in needles {
        if let Some(off) = text.find(&n) {
            return line_col(text, off);
        }
    }
    String::new()
}

fn line_col(text: &str, off: usize) -> String {
    let before = &text[..off.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(":{line}:{col}")
}

/// What a matcher found, before templates are rendered.
#[derive(Clone, Debug, Default)]
pub struct Hit {
    pub vars: BTreeMap<String, String>,
    pub entities: Entities,
    pub evidence: Vec<EvidenceRef>,
    /// Overrides the rule's default severity (rules whose severity depends on evidence).
    pub severity: Option<Severity>,
    /// Defaults the finding assumed, as the rule's params name them.
    pub assumptions: Vec<String>,
    /// Lowers the rule's confidence (a conclusion drawn from a source known to be partial).
    pub confidence: Option<Confidence>,
}

impl Hit {
    pub fn var(&mut self, k: &str, v: impl ToString) {
        self.vars.insert(k.to_string(), v.to_string());
    }
}

/// A rule ready to run: its spec plus compiled parts.
pub struct Rule {
    pub spec: RuleSpec,
    /// Shipped in the binary (not from `--rules`).
    pub builtin: bool,
    /// Where the rule was read from (`tikv.store-down.toml`, `my-rules/x.toml`).
    pub origin: String,
    /// Prefilter group ids by needle-set name (`main` for log-pattern needles).
    groups: BTreeMap<String, u32>,
    query: Option<query::Query>,
    correlation: Option<correlate::Correlation>,
    /// Where its test cases are.
    pub cases: Cases,
}

impl Rule {
    pub fn group(&self, set: &str) -> Option<u32> {
        self.groups.get(set).copied()
    }

    pub fn correlation(&self) -> Option<&correlate::Correlation> {
        self.correlation.as_ref()
    }
}

pub use query::InputMeta;

/// Everything a matcher may read.
pub struct EvalCtx<'a> {
    pub facts: &'a Facts,
    pub inputs: &'a BTreeMap<InputId, InputMeta>,
}

impl EvalCtx<'_> {
    pub fn input(&self, id: InputId) -> Option<&InputMeta> {
        self.inputs.get(&id)
    }

    /// Whether the bundle holds a full `pd-ctl store` list (not only single stores).
    pub fn has_store_list(&self) -> bool {
        self.inputs.values().any(|m| m.kind == Kind::PdctlStores)
    }

    /// Node name of an input, or its path when the node is unknown.
    pub fn node_or_path(&self, id: InputId) -> String {
        match self.input(id) {
            Some(m) => m.node.clone().unwrap_or_else(|| m.path.clone()),
            None => String::new(),
        }
    }
}

pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Built-in fact needles (versions, restarts) come first in the group list.
    pub fact_groups: BTreeMap<&'static str, u32>,
    groups: Vec<NeedleGroup>,
}

/// Needles the analyser itself needs, whatever rules run.
const FACT_NEEDLES: &[(&str, &[&str])] = &[
    (
        "version",
        &["Release Version", "release-version", "Welcome to"],
    ),
    // Lines where a node says its clock is off: evident skew between nodes.
    (
        "clock",
        &[
            "clock synchronization error",
            "jumps backward",
            "jump backward",
            "clock offset",
        ],
    ),
    // Lines that name the node a log belongs to.
    (
        "identity",
        &[
            "advertise-addr",
            "node startup completed",
            "NodeDescriptor set to node_id",
            "new node allocated ID",
            "node_restart",
            "node_join",
        ],
    ),
    // `cockroach start --join=...` as a node logs its arguments, or pasted above its log.
    ("join", &["arguments: [", "arguments: ‹[", "--join"]),
];

/// Fact needle groups read only in inputs of one kind (the rest apply to every kind).
const FACT_NEEDLE_KINDS: &[(&str, Kind)] = &[("join", Kind::CrdbLog)];

impl RuleSet {
    /// The rules shipped in `rules/`, embedded at build time.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::from_specs(builtin_specs()?)
    }

    /// Built-in rules plus the `*.toml` files of `dirs` (a user rule with a built-in id
    /// replaces it), narrowed by `only` / `disable`. Returns notes for the report.
    pub fn load(sel: &Selection) -> Result<(RuleSet, Vec<String>), RuleError> {
        let mut specs = builtin_specs()?;
        let mut notes = Vec::new();
        for dir in &sel.dirs {
            for loaded in user_specs(dir)? {
                match specs.iter().position(|s| s.spec.id == loaded.spec.id) {
                    Some(i) if specs[i].builtin => {
                        notes.push(format!(
                            "rule {} comes from {} (overrides the built-in rule)",
                            loaded.spec.id, loaded.origin
                        ));
                        specs[i] = loaded;
                    }
                    Some(i) => {
                        return Err(RuleError::Invalid {
                            file: loaded.origin.clone(),
                            message: format!(
                                "rule id {} is also defined in {}",
                                loaded.spec.id, specs[i].origin
                            ),
                        });
                    }
                    None => specs.push(loaded),
                }
            }
        }
        let known: Vec<String> = specs.iter().map(|s| s.spec.id.clone()).collect();
        check_links(&specs, &known)?;
        for id in sel.only.iter().chain(&sel.disable) {
            if !known.contains(id) {
                return Err(RuleError::Unknown {
                    id: id.clone(),
                    known: known.join(", "),
                });
            }
        }
        specs.retain(|s| {
            (sel.only.is_empty() || sel.only.contains(&s.spec.id))
                && !sel.disable.contains(&s.spec.id)
        });
        Ok((RuleSet::from_specs(specs)?, notes))
    }

    pub fn from_specs(specs: Vec<LoadedRule>) -> Result<RuleSet, RuleError> {
        let mut groups: Vec<NeedleGroup> = Vec::new();
        let mut fact_groups = BTreeMap::new();
        for (name, needles) in FACT_NEEDLES {
            fact_groups.insert(*name, groups.len() as u32);
            let kinds = FACT_NEEDLE_KINDS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, k)| vec![*k]);
            groups.push(NeedleGroup {
                needles: needles.iter().map(|s| s.to_string()).collect(),
                kinds,
            });
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for LoadedRule {
            origin,
            text,
            spec,
            builtin,
            cases,
        } in specs
        {
            // Messages name the place in the file when the offending text can be found.
            let err = |m: String| {
                let at = locate_problem(&text, &m);
                RuleError::Invalid {
                    file: format!("{origin}{at}"),
                    message: m,
                }
            };
            if !seen.insert(spec.id.clone()) {
                return Err(err(format!("duplicate rule id \"{}\"", spec.id)));
            }
            let query = match spec.query.clone() {
                Some(q) => Some(query::compile(q).map_err(&err)?),
                None => None,
            };
            let correlation = match &spec.correlation {
                Some(t) => Some(correlate::Correlation::load(&spec.id, t).map_err(&err)?),
                None => None,
            };
            if query.is_none() == correlation.is_none() {
                return Err(err(
                    "a rule needs a [query] or a [correlation], not both".into()
                ));
            }
            let names = query
                .as_ref()
                .map(query::Query::template_names)
                .unwrap_or_default();
            template::check(&spec.title, &names).map_err(&err)?;
            template::check(&spec.summary, &names).map_err(&err)?;
            for s in &spec.remediation {
                template::check(&s.text, &names).map_err(&err)?;
                if let Some(c) = &s.command {
                    template::check(c, &names).map_err(&err)?;
                }
                if let Some(w) = &s.when {
                    parse_gate(w).ok_or_else(|| err(format!("bad version gate {w:?}")))?;
                }
                if let Some(n) = s.needs.iter().find(|n| !names.contains(n)) {
                    return Err(err(format!(
                        "step needs {n:?}, which the query does not define"
                    )));
                }
            }
            for link in &spec.caused_by {
                template::check_given(&link.text, links::TEXT_VARS).map_err(|n| {
                    err(format!(
                        "caused-by text uses {n}, which is not a cause value"
                    ))
                })?;
                if let Some(t) = &link.text_untimed {
                    template::check_given(t, links::UNTIMED_VARS).map_err(|n| {
                        err(format!(
                            "caused-by text-untimed uses {n}, which an untimed cause has not"
                        ))
                    })?;
                }
                if link.within.is_some() && link.within_secs().is_none() {
                    return Err(err(format!(
                        "caused-by within {:?} is no duration",
                        link.within
                    )));
                }
            }
            let mut rule_groups = BTreeMap::new();
            let mut add = |set: &str, needles: &[String], kinds: Option<&Vec<String>>| {
                let kinds = match kinds {
                    None => None,
                    Some(ks) => Some(
                        ks.iter()
                            .map(|k| {
                                Kind::parse(k).ok_or_else(|| format!("unknown input kind {k:?}"))
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                };
                rule_groups.insert(set.to_string(), groups.len() as u32);
                groups.push(NeedleGroup {
                    needles: needles.to_vec(),
                    kinds,
                });
                Ok::<(), String>(())
            };
            if let Some(q) = &query {
                for (set, needles, kinds) in q.needle_sets() {
                    add(&set, &needles, kinds.as_ref()).map_err(&err)?;
                }
            }
            if let Some((_, sets)) = &correlation {
                for (set, needles, kinds) in sets {
                    add(set, needles, kinds.as_ref()).map_err(&err)?;
                }
            }
            rules.push(Rule {
                spec,
                builtin,
                origin,
                groups: rule_groups,
                query,
                correlation: correlation.map(|(c, _)| c),
                cases,
            });
        }
        Ok(RuleSet {
            rules,
            fact_groups,
            groups,
        })
    }

    pub fn needle_groups(&self) -> Vec<NeedleGroup> {
        self.groups.clone()
    }

    /// Every literal the prefilter looks for, sorted, once each.
    pub fn all_needles(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.needles.iter().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    /// Runs every rule over an analysis's facts and renders the findings, sorted as the
    /// report contract says, and what rules could not decide.
    pub fn evaluate(
        &self,
        a: &crate::model::Analysis,
    ) -> (Vec<Finding>, Vec<crate::model::Undecided>) {
        // Store id <-> address, learnt from pd-ctl, so that a log finding names its store.
        let store_by_addr: BTreeMap<&str, u64> = a
            .facts
            .latest_stores()
            .into_iter()
            .filter_map(|s| Some((s.address.as_deref()?, s.id.0)))
            .collect();
        let metas: BTreeMap<InputId, InputMeta> = a
            .inputs
            .iter()
            .map(|r| {
                let meta = InputMeta {
                    kind: r.kind,
                    node: r.node.clone(),
                    node_from_path: r.node_from_path,
                    path: r.path.clone(),
                    store: r
                        .node
                        .as_deref()
                        .and_then(|n| store_by_addr.get(n).copied())
                        .filter(|_| r.kind == Kind::TikvLog || r.kind == Kind::TiflashLog),
                    last_time: r
                        .last_time
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
                };
                (r.id, meta)
            })
            .collect();
        let ctx = EvalCtx {
            facts: &a.facts,
            inputs: &metas,
        };
        (self.evaluate_ctx(&ctx), self.undecided(&ctx))
    }

    /// What rules with a `complete` table could not decide on this bundle.
    pub fn undecided(&self, ctx: &EvalCtx<'_>) -> Vec<crate::model::Undecided> {
        let catalog = query::tables::Catalog::new(ctx.facts, ctx.inputs);
        let mut out = Vec::new();
        for rule in &self.rules {
            let (Some(q), Some(u)) = (
                &rule.query,
                &rule.spec.query.as_ref().and_then(|s| s.undecided.clone()),
            ) else {
                continue;
            };
            for mut vars in q.run(&catalog, &rule.groups).undecided {
                default_addresses(&mut vars, ctx.facts);
                let (Ok(text) | Err(text)) = template::render(&u.text, &vars);
                let command = u
                    .command
                    .as_deref()
                    .map(|c| match template::render(c, &vars) {
                        Ok(c) | Err(c) => c,
                    });
                out.push(crate::model::Undecided {
                    rule: rule.spec.id.clone(),
                    text,
                    command,
                });
            }
        }
        out
    }

    /// Runs every rule over facts and what is known of their inputs (tests build both).
    pub fn evaluate_ctx(&self, ctx: &EvalCtx<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let catalog = query::tables::Catalog::new(ctx.facts, ctx.inputs);
        for rule in &self.rules {
            if let Some(q) = &rule.query {
                for hit in q.run(&catalog, &rule.groups).hits {
                    out.push(render(rule, hit, ctx.facts));
                }
                continue;
            }
            if let Some(c) = &rule.correlation {
                for hit in c.run(&correlate::Sets(&rule.groups), ctx) {
                    out.push(render(rule, hit, ctx.facts));
                }
                continue;
            }
        }
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.entities.sort_key().cmp(&b.entities.sort_key()))
                .then_with(|| a.title.cmp(&b.title))
        });
        let links: BTreeMap<String, Vec<spec::CausedBySpec>> = self
            .rules
            .iter()
            .filter(|r| !r.spec.caused_by.is_empty())
            .map(|r| (r.spec.id.clone(), r.spec.caused_by.clone()))
            .collect();
        links::link(out, &links, ctx.facts)
    }
}

/// Every rule a `[[caused-by]]` names exists (among all loaded rules, before `--only` narrows
/// them: a cause that is not run simply never links).
fn check_links(specs: &[LoadedRule], known: &[String]) -> Result<(), RuleError> {
    for s in specs {
        for link in &s.spec.caused_by {
            if let Some(id) = link.rules.iter().find(|id| !known.contains(id)) {
                return Err(RuleError::Invalid {
                    file: s.origin.clone(),
                    message: format!("caused-by names rule {id:?}, which does not exist"),
                });
            }
            if link.rules.contains(&s.spec.id) {
                return Err(RuleError::Invalid {
                    file: s.origin.clone(),
                    message: "caused-by names the rule itself".into(),
                });
            }
        }
    }
    Ok(())
}

pub fn parse_rule(origin: &str, text: &str) -> Result<LoadedRule, RuleError> {
    toml::from_str::<RuleSpec>(text)
        .map(|spec| LoadedRule {
            origin: origin.to_string(),
            text: text.to_string(),
            spec,
            builtin: false,
            cases: Cases::Embedded,
        })
        .map_err(|e| {
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or_default();
            // toml's message repeats the position and the source line; keep its first line.
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid rule file")
                .to_string();
            RuleError::Invalid {
                file: format!("{origin}{at}"),
                message: msg,
            }
        })
}

/// `tikv>=5.1` → (component, op, version).
fn parse_gate(s: &str) -> Option<(Component, &str, Version)> {
    let s = s.trim();
    let (comp, rest) = s.split_at(s.find(['<', '>', '='])?);
    let comp = match comp.trim() {
        "tikv" => Component::Tikv,
        "pd" => Component::Pd,
        "tidb" => Component::Tidb,
        "cockroach" | "crdb" => Component::Cockroach,
        _ => return None,
    };
    let op_len = rest
        .find(|c: char| !matches!(c, '<' | '>' | '='))
        .unwrap_or(rest.len());
    let (op, v) = rest.split_at(op_len);
    if !matches!(op, "<" | "<=" | ">" | ">=" | "=" | "==") {
        return None;
    }
    Some((comp, op, Version::parse(v)?))
}

fn component_name(c: Component) -> &'static str {
    match c {
        Component::Tikv => "TiKV",
        Component::Pd => "PD",
        Component::Tidb => "TiDB",
        Component::Cockroach => "CockroachDB",
    }
}

/// Which remediation steps apply, given the versions the bundle shows.
fn select_steps<'a>(steps: &'a [StepSpec], facts: &Facts) -> Vec<(&'a StepSpec, Option<String>)> {
    let mut out = Vec::new();
    for s in steps {
        let Some(gate) = s.when.as_deref().and_then(parse_gate) else {
            out.push((s, None));
            continue;
        };
        let (comp, op, want) = gate;
        match facts.version(comp) {
            Some(have) => {
                let ok = match op {
                    "<" => have < want,
                    "<=" => have <= want,
                    ">" => have > want,
                    ">=" => have >= want,
                    _ => have == want,
                };
                if ok {
                    out.push((s, None));
                }
            }
            None if s.assumed => out.push((
                s,
                Some(format!(
                    " (assumed {} {op} {}: the bundle shows no {} version)",
                    component_name(comp),
                    want,
                    component_name(comp)
                )),
            )),
            None => {}
        }
    }
    out
}

/// Addresses the bundle shows, else placeholders a person fills in.
fn default_addresses(vars: &mut BTreeMap<String, String>, facts: &Facts) {
    let pd = facts
        .pd_addrs
        .first()
        .cloned()
        .unwrap_or_else(|| "<pd-addr>".into());
    vars.entry("pd".into()).or_insert(pd);
    vars.entry("tidb".into()).or_insert("<tidb-addr>".into());
    vars.entry("data_dir".into()).or_insert("<data-dir>".into());
}

fn render(rule: &Rule, mut hit: Hit, facts: &Facts) -> Finding {
    default_addresses(&mut hit.vars, facts);
    let title = template::render(&rule.spec.title, &hit.vars).unwrap_or_else(|m| m);
    let summary = template::render(&rule.spec.summary, &hit.vars).unwrap_or_else(|m| m);
    let mut remediation = Vec::new();
    let mut assumptions = std::mem::take(&mut hit.assumptions);
    for (s, assumed) in select_steps(&rule.spec.remediation, facts) {
        if !s.needs.iter().all(|n| hit.vars.contains_key(n)) {
            continue;
        }
        // A step that needs an id the finding did not see is left out, never guessed.
        let Ok(mut text) = template::render(&s.text, &hit.vars) else {
            continue;
        };
        let command = match &s.command {
            Some(c) => match template::render(c, &hit.vars) {
                Ok(c) => Some(c),
                Err(_) => continue,
            },
            None => None,
        };
        if let Some(a) = assumed {
            text.push_str(&a);
            let a = a
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string();
            if !assumptions.contains(&a) {
                assumptions.push(a);
            }
        }
        remediation.push(Step {
            text,
            command,
            risk: s.risk,
        });
    }
    let mut entities = hit.entities;
    entities.normalise();
    // Matchers order evidence by importance; keep that order, drop repeats.
    let mut seen = std::collections::BTreeSet::new();
    // Dump evidence quotes the line the parser kept; log events carry their own excerpt.
    let evidence: Vec<EvidenceRef> = hit
        .evidence
        .into_iter()
        .filter(|e| seen.insert(e.loc))
        .map(|mut e| {
            if e.excerpt.is_none() {
                e.excerpt = Some(facts.lines.get(e.loc).unwrap_or_default().to_string());
            }
            e
        })
        .collect();
    Finding {
        rule: rule.spec.id.clone(),
        severity: hit.severity.unwrap_or(rule.spec.severity),
        title,
        summary,
        entities,
        evidence,
        remediation,
        references: rule.spec.references.clone(),
        confidence: match rule.spec.confidence.unwrap_or(Confidence::Definite) {
            Confidence::Definite if !assumptions.is_empty() => Confidence::Likely,
            c => c,
        }
        .min(hit.confidence.unwrap_or(Confidence::Definite)),
        assumptions,
        caused_by: Vec::new(),
        explains: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
