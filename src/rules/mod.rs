//! Rules as data: loading `rules/*.toml`, the needles they give the prefilter, and turning
//! matcher hits into rendered findings.

mod builtin;
mod builtin_crdb;
mod builtin_pd;
pub mod catalogue;
pub mod coverage;
pub mod notes;
pub mod query;

mod matchers;
mod matchers_pd;
pub mod spec;
mod template;
pub mod testing;

pub use crate::model::units::{human_secs, parse_go_duration};
pub use crate::model::{Entities, EvidenceRef, Finding, Risk, Severity, Step};
pub use spec::RuleSpec;

use crate::model::Kind;
use crate::model::{Component, Facts, InputId, Version};
use crate::parse::scan::NeedleGroup;
use spec::{MatcherSpec, StepSpec};
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

/// The `*.toml` files of a folder, in name order.
pub fn user_specs(dir: &std::path::Path) -> Result<Vec<LoadedRule>, RuleError> {
    let io = |e: std::io::Error| RuleError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| RuleError::Io {
                path: f.display().to_string(),
                message: e.to_string(),
            })?;
            parse_rule(&f.display().to_string(), &text)
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
    regex: Option<regex::Regex>,
    /// Prefilter group ids by needle-set name (`main` for log-pattern needles).
    groups: BTreeMap<String, u32>,
    query: Option<query::Query>,
}

impl Rule {
    pub fn group(&self, set: &str) -> Option<u32> {
        self.groups.get(set).copied()
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
];

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
            groups.push(NeedleGroup {
                needles: needles.iter().map(|s| s.to_string()).collect(),
                kinds: None,
            });
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for LoadedRule {
            origin,
            text,
            spec,
            builtin,
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
            if query.is_none() && spec.matcher.is_none() {
                return Err(err("a rule needs a [query]".into()));
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
            let mut regex = None;
            if let Some(q) = &query {
                for (set, needles, kinds) in q.needle_sets() {
                    add(&set, &needles, kinds.as_ref()).map_err(&err)?;
                }
            }
            match spec.matcher.as_ref() {
                None => {}
                Some(m) => match m {
                MatcherSpec::LogPattern(lp) => {
                    if lp.needles.is_empty() {
                        return Err(err("log-pattern needs at least one needle".into()));
                    }
                    add("main", &lp.needles, lp.inputs.as_ref()).map_err(&err)?;
                    if let Some(r) = &lp.regex {
                        regex = Some(
                            regex::Regex::new(r)
                                .map_err(|e| err(format!("bad regex `{r}`: {e}")))?,
                        );
                    }
                    if let Some(l) = &lp.min_level {
                        crate::model::Level::parse(l)
                            .ok_or_else(|| err(format!("unknown level {l:?}")))?;
                    }
                }
                MatcherSpec::RegionCheck(rc) => {
                    if !rc.related_needles.is_empty() {
                        add("related", &rc.related_needles, None).map_err(&err)?;
                    }
                }
                MatcherSpec::Builtin(b) => {
                    if !builtin::exists(&b.name) {
                        return Err(err(format!("unknown builtin matcher {:?}", b.name)));
                    }
                    for (set, needles) in &b.needles {
                        add(set, needles, b.inputs.as_ref()).map_err(&err)?;
                    }
                }
                MatcherSpec::LogSequence(t) | MatcherSpec::MetricThreshold(t) => {
                    let kind = matcher_name(m);
                    for (set, needles, kinds) in matchers_pd::load(kind, t).map_err(&err)? {
                        add(&set, &needles, kinds.as_ref()).map_err(&err)?;
                    }
                }
                MatcherSpec::StoreState(_) | MatcherSpec::ConfigCheck(_) => {}
                },
            }
            rules.push(Rule {
                spec,
                builtin,
                origin,
                regex,
                groups: rule_groups,
                query,
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

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    /// Runs every rule over an analysis's facts and renders the findings, sorted as the
    /// report contract says.
    pub fn evaluate(&self, a: &crate::model::Analysis) -> Vec<Finding> {
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
        self.evaluate_ctx(&EvalCtx {
            facts: &a.facts,
            inputs: &metas,
        })
    }

    pub(crate) fn evaluate_ctx(&self, ctx: &EvalCtx<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let catalog = query::tables::Catalog::new(ctx.facts, ctx.inputs);
        for rule in &self.rules {
            if let Some(q) = &rule.query {
                for hit in q.run(&catalog, &rule.groups) {
                    out.push(render(rule, hit, ctx.facts));
                }
                continue;
            }
            let Some(matcher) = &rule.spec.matcher else {
                continue;
            };
            let hits = match matcher {
                MatcherSpec::LogPattern(lp) => {
                    matchers::log_pattern(rule, lp, rule.regex.as_ref(), ctx)
                }
                MatcherSpec::StoreState(s) => matchers::store_state(s, ctx),
                MatcherSpec::RegionCheck(s) => matchers::region_check(rule, s, ctx),
                MatcherSpec::ConfigCheck(s) => matchers::config_check(s, ctx),
                MatcherSpec::Builtin(b) => builtin::run(&b.name, rule, ctx),
                MatcherSpec::LogSequence(t) | MatcherSpec::MetricThreshold(t) => {
                    matchers_pd::run(matcher_name(matcher), t, rule, ctx)
                }
            };
            for hit in hits {
                out.push(render(rule, hit, ctx.facts));
            }
        }
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.entities.sort_key().cmp(&b.entities.sort_key()))
                .then_with(|| a.title.cmp(&b.title))
        });
        out
    }
}

/// The `kind` name of a matcher as written in rule files.
pub fn matcher_name(m: &MatcherSpec) -> &'static str {
    match m {
        MatcherSpec::LogPattern(_) => "log-pattern",
        MatcherSpec::StoreState(_) => "store-state",
        MatcherSpec::RegionCheck(_) => "region-check",
        MatcherSpec::ConfigCheck(_) => "config-check",
        MatcherSpec::Builtin(_) => "builtin",
        MatcherSpec::LogSequence(_) => "log-sequence",
        MatcherSpec::MetricThreshold(_) => "metric-threshold",
    }
}

pub fn parse_rule(origin: &str, text: &str) -> Result<LoadedRule, RuleError> {
    toml::from_str::<RuleSpec>(text)
        .map(|spec| LoadedRule {
            origin: origin.to_string(),
            text: text.to_string(),
            spec,
            builtin: false,
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

fn render(rule: &Rule, mut hit: Hit, facts: &Facts) -> Finding {
    // Addresses default to placeholders a person fills in.
    let pd = facts
        .pd_addrs
        .first()
        .cloned()
        .unwrap_or_else(|| "<pd-addr>".into());
    hit.vars.entry("pd".into()).or_insert(pd);
    hit.vars
        .entry("tidb".into())
        .or_insert("<tidb-addr>".into());
    hit.vars
        .entry("data_dir".into())
        .or_insert("<data-dir>".into());
    let title = template::render(&rule.spec.title, &hit.vars).unwrap_or_else(|m| m);
    let summary = template::render(&rule.spec.summary, &hit.vars).unwrap_or_else(|m| m);
    let mut remediation = Vec::new();
    for (s, assumed) in select_steps(&rule.spec.remediation, facts) {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rs = RuleSet::builtin().unwrap();
        assert!(rs.rules.len() >= 7);
    }

    #[test]
    fn gates() {
        let (c, op, v) = parse_gate("tikv>=5.1").unwrap();
        assert_eq!((c, op, v), (Component::Tikv, ">=", Version::new(5, 1, 0)));
        assert!(parse_gate("nope>=1").is_none());
    }

    #[test]
    fn bad_rule_files_are_reported() {
        let bad = r#"id = "x.y"
severity = "warning"
title = "t {nosuch}"
summary = "s"
[matcher]
kind = "log-pattern"
needles = ["a"]
"#;
        let spec = parse_rule("x.toml", bad).unwrap();
        let e = RuleSet::from_specs(vec![spec]).err().unwrap();
        assert!(e.to_string().contains("nosuch"));
        assert!(parse_rule("y.toml", "id = 1").is_err());
    }
}

#[cfg(test)]
mod matcher_kind_tests {
    use super::*;
    use crate::model::{Location, PdConfig};

    fn facts_with_config(v: serde_json::Value) -> Facts {
        let mut values = BTreeMap::new();
        if let serde_json::Value::Object(m) = v {
            for (k, v) in m {
                values.insert(k, v);
            }
        }
        Facts {
            configs: vec![PdConfig {
                values,
                loc: Location {
                    input: InputId(0),
                    line: 3,
                },
            }],
            ..Facts::default()
        }
    }

    #[test]
    fn config_check_fires_on_its_condition_only() {
        let rule = r#"id = "test.merge-off"
severity = "warning"
title = "{key} is {value}"
summary = "merging is off"
[matcher]
kind = "config-check"
any = [ { key = "schedule.merge-schedule-limit", op = "eq", value = 0 } ]
"#;
        let rs = RuleSet::from_specs(vec![parse_rule("t.toml", rule).unwrap()]).unwrap();
        let inputs = BTreeMap::from([(
            InputId(0),
            InputMeta {
                kind: Kind::PdctlConfig,
                node: None,
                path: "config.json".into(),
                store: None,
                last_time: None,
            },
        )]);
        let off = facts_with_config(serde_json::json!({"schedule.merge-schedule-limit": 0}));
        let f = rs.evaluate_ctx(&EvalCtx {
            facts: &off,
            inputs: &inputs,
        });
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].title, "schedule.merge-schedule-limit is 0");
        assert_eq!(f[0].evidence[0].loc.line, 3);
        let on = facts_with_config(serde_json::json!({"schedule.merge-schedule-limit": "8"}));
        let f = rs.evaluate_ctx(&EvalCtx {
            facts: &on,
            inputs: &inputs,
        });
        assert!(f.is_empty());
    }
}
