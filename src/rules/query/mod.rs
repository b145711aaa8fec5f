//! Rules as queries: a small typed pipeline over the fact tables, written in the rule file.
//!
//! `from` a table → `where` → `join` → `group-by` → `let` (aggregates per group) → `having`
//! → `vars` and `texts` for the templates, `entities`, `evidence`, `severity`. `params` read
//! settings from the bundle's config with a named default (the finding says when it assumed
//! one); `given` computes values once per run (`$name`). A `sequence` stage pairs log lines
//! (A then B, A without B within a time) and a `series` stage measures metrics; both feed
//! the same group stages. `rules/README.md` documents the vocabulary.

mod columns;
pub mod eval;
pub mod expr;
mod functions;
mod host_tables;
mod rows;
mod sequence;
mod spec;
pub mod tables;
pub mod value;

use eval::{AGGREGATES, Env, FUNCTIONS, GroupRow, show};
use expr::Expr;
use std::collections::{BTreeMap, BTreeSet};
use tables::Catalog;
use value::Value;

pub use sequence::SequenceSpec;
pub use spec::{
    EntitySpec, JoinSpec, Outcome, ParamSpec, QuerySpec, SeverityCase, TextCase, TextSpec,
    UndecidedSpec,
};
pub use tables::InputMeta;

use super::Hit;
use crate::model::{EvidenceRef, Location, Severity};

/// A parameter: name, config keys tried in order, default, assumption, validity.
type Param = (String, Vec<String>, Expr, Option<String>, Option<Expr>);

/// A compiled query.
pub struct Query {
    pub spec: QuerySpec,
    params: Vec<Param>,
    given: Vec<(String, Expr)>,
    filter: Option<Expr>,
    joins: Vec<(JoinSpec, Expr)>,
    order_rows_by: Vec<Expr>,
    sequence: Option<sequence::Sequence>,
    group_by: Option<Vec<Expr>>,
    lets: Vec<(String, Expr)>,
    having: Option<Expr>,
    order_by: Option<Expr>,
    vars: Vec<(String, Expr)>,
    texts: Vec<(String, TextSpec, Vec<Option<Expr>>)>,
    entities: [Option<Expr>; 4],
    evidence: Vec<Expr>,
    evidence_extra: Vec<Expr>,
    severity: Vec<(Expr, Severity)>,
    regexes: BTreeMap<String, regex::Regex>,
}

/// The names a query defines for its templates (vars, texts), beyond the common ones.
impl Query {
    pub fn template_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.vars.iter().map(|(n, _)| n.clone()).collect();
        v.extend(self.texts.iter().map(|(n, _, _)| n.clone()));
        v.extend(self.lets.iter().map(|(n, _)| n.clone()));
        v
    }

    /// The needle sets the prefilter must keep for this rule: (set, needles, input kinds).
    pub fn needle_sets(&self) -> Vec<(String, Vec<String>, Option<Vec<String>>)> {
        let mut out: Vec<(String, Vec<String>, Option<Vec<String>>)> = self
            .spec
            .needles
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), self.spec.inputs.clone()))
            .collect();
        if let Some(s) = &self.sequence {
            out.extend(s.needle_sets(self.spec.inputs.clone()));
        }
        out
    }
}

fn parse_expr(what: &str, src: &str) -> Result<Expr, String> {
    expr::parse(src, &tables::names()).map_err(|e| format!("{what} `{src}`: {e}"))
}

/// Compiles a query spec: every expression parsed, every name, function and table checked.
pub fn compile(spec: QuerySpec) -> Result<Query, String> {
    for t in spec.needs.iter().chain(&spec.complete) {
        if tables::columns(t).is_none() {
            return Err(format!("unknown table {t:?} in `needs` / `complete`"));
        }
    }
    if !spec.complete.is_empty() && spec.undecided.is_none() {
        return Err("a rule with `complete` says in `undecided` what it could not know".into());
    }
    let from_cols = tables::columns(&spec.from).ok_or_else(|| {
        format!(
            "unknown table {:?} in `from` (tables: {})",
            spec.from,
            tables::names().join(", ")
        )
    })?;
    let mut known: BTreeSet<String> = from_cols.iter().map(|c| c.to_string()).collect();
    // A parameter's `valid` condition names the value read; `each` names its element.
    known.insert("value".to_string());
    known.insert("it".to_string());
    let mut params = Vec::new();
    let mut param_names: BTreeSet<String> = BTreeSet::new();
    for (name, p) in &spec.params {
        let d = parse_expr(&format!("params.{name}.default"), &p.default)?;
        let valid = match &p.valid {
            Some(v) => Some(parse_expr(&format!("params.{name}.valid"), v)?),
            None => None,
        };
        params.push((
            name.clone(),
            p.config
                .as_ref()
                .map(spec::ConfigKeys::keys)
                .unwrap_or_default(),
            d,
            p.assumption.clone(),
            valid,
        ));
        param_names.insert(name.clone());
    }
    let mut given = Vec::new();
    for (name, src) in &spec.given {
        given.push((name.clone(), parse_expr(&format!("given.{name}"), src)?));
        param_names.insert(name.clone());
    }
    let filter = spec
        .filter
        .as_deref()
        .map(|f| parse_expr("where", f))
        .transpose()?;
    let mut joins = Vec::new();
    for j in &spec.join {
        let cols = tables::columns(&j.table)
            .ok_or_else(|| format!("unknown table {:?} in `join`", j.table))?;
        known.extend(cols.iter().map(|c| c.to_string()));
        known.insert(j.alias.clone());
        joins.push((j.clone(), parse_expr("join.on", &j.on)?));
    }
    let order_rows_by = spec
        .order_rows_by
        .iter()
        .map(|e| parse_expr("order-rows-by", e))
        .collect::<Result<Vec<_>, _>>()?;
    let sequence = match &spec.sequence {
        Some(s) => {
            if spec.from != "events" {
                return Err("a `sequence` reads `from = \"events\"`".into());
            }
            known.extend(sequence::COLUMNS.iter().map(|c| c.to_string()));
            Some(sequence::Sequence::compile(s.clone())?)
        }
        None => None,
    };
    let group_by = spec
        .group_by
        .as_ref()
        .map(|g| g.iter().map(|e| parse_expr("group-by", e)).collect())
        .transpose()?;
    let row_known = known.clone();
    let mut lets = Vec::new();
    for (name, src) in &spec.lets {
        lets.push((name.clone(), parse_expr(&format!("let.{name}"), src)?));
        known.insert(name.clone());
    }
    let having = spec
        .having
        .as_deref()
        .map(|h| parse_expr("having", h))
        .transpose()?;
    let order_by = spec
        .order_by
        .as_deref()
        .map(|h| parse_expr("order-by", h))
        .transpose()?;
    let mut vars = Vec::new();
    for (name, src) in &spec.vars {
        vars.push((name.clone(), parse_expr(&format!("vars.{name}"), src)?));
    }
    let mut texts = Vec::new();
    for (name, t) in &spec.texts {
        let mut conds = Vec::new();
        for c in &t.cases {
            conds.push(
                c.when
                    .as_deref()
                    .map(|w| parse_expr(&format!("texts.{name}.when"), w))
                    .transpose()?,
            );
        }
        texts.push((name.clone(), t.clone(), conds));
    }
    let ent = &spec.entities;
    let mut entities: [Option<Expr>; 4] = [None, None, None, None];
    for (i, (what, src)) in [
        ("stores", &ent.stores),
        ("regions", &ent.regions),
        ("nodes", &ent.nodes),
        ("ranges", &ent.ranges),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(s) = src {
            entities[i] = Some(parse_expr(&format!("entities.{what}"), s)?);
        }
    }
    let evidence = spec
        .evidence
        .iter()
        .map(|e| parse_expr("evidence", e))
        .collect::<Result<Vec<_>, _>>()?;
    let evidence_extra = spec
        .evidence_extra
        .iter()
        .map(|e| parse_expr("evidence-extra", e))
        .collect::<Result<Vec<_>, _>>()?;
    let mut severity = Vec::new();
    for c in &spec.severity {
        severity.push((parse_expr("severity.when", &c.when)?, c.is));
    }
    let mut q = Query {
        spec,
        params,
        given,
        filter,
        joins,
        order_rows_by,
        sequence,
        group_by,
        lets,
        having,
        order_by,
        vars,
        texts,
        entities,
        evidence,
        evidence_extra,
        severity,
        regexes: BTreeMap::new(),
    };
    q.check(&row_known, &known, &param_names)?;
    Ok(q)
}

impl Query {
    /// Expressions evaluated per row, before any `let` exists.
    fn row_exprs(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = Vec::new();
        v.extend(self.params.iter().map(|p| &p.2));
        v.extend(self.params.iter().filter_map(|p| p.4.as_ref()));
        v.extend(self.given.iter().map(|g| &g.1));
        v.extend(self.filter.iter());
        v.extend(self.joins.iter().map(|j| &j.1));
        v.extend(self.order_rows_by.iter());
        v.extend(self.group_by.iter().flatten());
        v.extend(self.evidence.iter());
        if let Some(s) = &self.sequence {
            v.extend(s.exprs());
        }
        v
    }

    /// Expressions evaluated per group: they see the lets too.
    fn group_exprs(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = Vec::new();
        v.extend(self.lets.iter().map(|l| &l.1));
        v.extend(self.having.iter());
        v.extend(self.order_by.iter());
        v.extend(self.vars.iter().map(|l| &l.1));
        v.extend(self.texts.iter().flat_map(|t| t.2.iter().flatten()));
        v.extend(self.entities.iter().flatten());
        v.extend(self.evidence_extra.iter());
        v.extend(self.severity.iter().map(|s| &s.0));
        v
    }

    /// Unknown names, functions, sets and bad patterns are load errors, not silent nulls.
    fn check(
        &mut self,
        row_known: &BTreeSet<String>,
        known: &BTreeSet<String>,
        params: &BTreeSet<String>,
    ) -> Result<(), String> {
        let mut problems: Vec<String> = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let sets: BTreeSet<&String> = self.spec.needles.keys().collect();
        let seq_sets: Vec<String> = self
            .sequence
            .as_ref()
            .map(|s| s.set_names())
            .unwrap_or_default();
        let scoped = self
            .row_exprs()
            .into_iter()
            .map(|e| (e, row_known))
            .chain(self.group_exprs().into_iter().map(|e| (e, known)));
        for (e, known) in scoped {
            // Names inside a table aggregate may be that table's columns.
            let mut scope = known.clone();
            e.walk(&mut |x| {
                if let Expr::TableAgg { table, .. } = x {
                    if let Some(c) = tables::columns(table) {
                        scope.extend(c.iter().map(|c| c.to_string()));
                    } else {
                        problems.push(format!("unknown table {table:?}"));
                    }
                }
            });
            e.walk(&mut |x| match x {
                Expr::Name(n) if !scope.contains(n) => {
                    problems.push(format!("unknown name {n:?}"));
                }
                Expr::Param(p) if !params.contains(p) => {
                    problems.push(format!("unknown parameter ${p}"));
                }
                Expr::Call(f, args) => {
                    if !FUNCTIONS.contains(&f.as_str())
                        && !AGGREGATES.contains(&f.as_str())
                        && !host_tables::FUNCTIONS.contains(&f.as_str())
                    {
                        problems.push(format!("unknown function {f}()"));
                    }
                    if f == "in_set"
                        && let Some(Expr::Str(s)) = args.first()
                        && !sets.contains(s)
                        && !seq_sets.contains(s)
                    {
                        problems.push(format!("in_set({s:?}) names no needle set of the rule"));
                    }
                    if f == "regex"
                        && let Some(Expr::Str(p)) = args.get(1)
                    {
                        patterns.push(p.clone());
                    }
                }
                Expr::TableAgg { func, .. } if !AGGREGATES.contains(&func.as_str()) => {
                    problems.push(format!("{func}() is not an aggregate"));
                }
                Expr::Binary(expr::BinOp::Matches, _, r) => match &**r {
                    Expr::Str(p) => patterns.push(p.clone()),
                    _ => problems.push("`matches` takes a pattern in quotes".into()),
                },
                _ => {}
            });
        }
        if let Some(s) = &self.spec.sets {
            for n in s {
                if !sets.contains(n) {
                    problems.push(format!("sets: {n:?} is no needle set of the rule"));
                }
            }
        }
        for p in patterns {
            match regex::Regex::new(&p) {
                Ok(re) => {
                    self.regexes.insert(p, re);
                }
                Err(e) => problems.push(format!("bad regex `{p}`: {e}")),
            }
        }
        match problems.into_iter().next() {
            Some(p) => Err(p),
            None => Ok(()),
        }
    }

    /// Runs the query over the catalogue.
    pub fn run<'a>(&self, cat: &'a Catalog<'a>, sets: &BTreeMap<String, u32>) -> Outcome {
        if self
            .spec
            .needs
            .iter()
            .any(|t| !self.spec.complete.contains(t) && cat.rows(t).is_empty())
        {
            return Outcome::default();
        }
        let decided = self.spec.complete.iter().all(|t| cat.is_complete(t));
        self.run_decided(cat, sets, decided)
    }

    fn run_decided<'a>(
        &self,
        cat: &'a Catalog<'a>,
        sets: &BTreeMap<String, u32>,
        decided: bool,
    ) -> Outcome {
        // Parameters: the bundle's setting, else the default (and its assumption).
        let mut params: BTreeMap<String, Value> = BTreeMap::new();
        let mut assumed: Vec<(String, String)> = Vec::new();
        let mut defaulted: BTreeMap<String, Value> = BTreeMap::new();
        for (name, keys, default, assumption, valid) in &self.params {
            let env = Env::root(cat, &params, sets, &self.regexes);
            let found = keys.iter().find_map(|k| env.config(k)).map(|(v, _)| v);
            let found = found.filter(|v| match valid {
                Some(cond) => {
                    let mut lets = BTreeMap::new();
                    lets.insert("value".to_string(), v.clone());
                    Env { lets: &lets, ..env }.eval(cond).truthy()
                }
                None => true,
            });
            let v = match found {
                Some(v) => v,
                None => {
                    if let Some(a) = assumption {
                        assumed.push((name.clone(), a.clone()));
                    }
                    defaulted.insert(name.clone(), Value::Bool(true));
                    env.eval(default)
                }
            };
            params.insert(name.clone(), v);
        }
        params.insert(eval::DEFAULTED.to_string(), Value::Map(defaulted));
        for (name, e) in &self.given {
            let v = Env::root(cat, &params, sets, &self.regexes).eval(e);
            params.insert(name.clone(), v);
        }
        let env0 = Env::root(cat, &params, sets, &self.regexes);
        // Rows: a table, or the pairs a sequence found.
        let mut rows: Vec<GroupRow<'a>> = match &self.sequence {
            Some(seq) => seq.rows(&env0, self.event_sets(sets)),
            None => {
                let wanted = self.event_sets(sets);
                cat.rows(&self.spec.from)
                    .into_iter()
                    .filter(|r| match (r.event(), &wanted) {
                        (Some(e), Some(gs)) => gs.iter().any(|g| e.in_group(*g)),
                        _ => true,
                    })
                    .map(GroupRow::of)
                    .collect()
            }
        };
        if self.sequence.is_none()
            && let Some(f) = &self.filter
        {
            rows.retain(|r| env0.with_row_of(r).eval(f).truthy());
        }
        for (j, on) in &self.joins {
            let other = cat.rows(&j.table);
            let mut next = Vec::new();
            for r in rows {
                let outer = env0.with_row_of(&r);
                let mut matched = false;
                for o in &other {
                    let candidate = GroupRow::of(*o);
                    if outer.inner(&candidate).eval(on).truthy() {
                        matched = true;
                        let mut joined = r.joined.clone();
                        joined.push((j.alias.clone(), *o));
                        next.push(GroupRow {
                            row: r.row,
                            joined,
                            extra: r.extra.clone(),
                        });
                    }
                }
                if !matched && j.left {
                    next.push(r);
                }
            }
            rows = next;
        }
        if !self.order_rows_by.is_empty() {
            let mut keyed: Vec<(Vec<Value>, GroupRow<'a>)> = rows
                .into_iter()
                .map(|r| {
                    let env = env0.with_row_of(&r);
                    (self.order_rows_by.iter().map(|e| env.eval(e)).collect(), r)
                })
                .collect();
            keyed.sort_by(|a, b| Value::List(a.0.clone()).cmp_total(&Value::List(b.0.clone())));
            rows = keyed.into_iter().map(|(_, r)| r).collect();
        }
        // Groups, in order of first appearance.
        let mut groups: Vec<(Vec<Value>, Vec<GroupRow<'a>>)> = Vec::new();
        match &self.group_by {
            None => groups.extend(rows.into_iter().map(|r| (Vec::new(), vec![r]))),
            Some(keys) => {
                let mut index: BTreeMap<String, usize> = BTreeMap::new();
                for r in rows {
                    let env = env0.with_row_of(&r);
                    let key: Vec<Value> = keys.iter().map(|k| env.eval(k)).collect();
                    let k = key.iter().map(Value::key).collect::<Vec<_>>().join("\u{1}");
                    match index.get(&k) {
                        Some(&i) => groups[i].1.push(r),
                        None => {
                            index.insert(k, groups.len());
                            groups.push((key, vec![r]));
                        }
                    }
                }
            }
        }
        let mut out: Vec<(Value, Hit)> = Vec::new();
        for (_, rows) in &groups {
            // Which defaults this group's judgement reads: its rows' filter again, its lets,
            // having, words and entities.
            eval::start_param_reads();
            if self.sequence.is_none()
                && let Some(f) = &self.filter
            {
                for r in rows {
                    env0.with_row_of(r).eval(f);
                }
            }
            let mut lets: BTreeMap<String, Value> = BTreeMap::new();
            for (name, e) in &self.lets {
                let v = env0.with_group(rows, &lets).eval(e);
                lets.insert(name.clone(), v);
            }
            let genv = env0.with_group(rows, &lets);
            if decided
                && let Some(h) = &self.having
                && !genv.eval(h).truthy()
            {
                continue;
            }
            let mut hit = Hit::default();
            for (name, e) in &self.vars {
                let v = genv.eval(e);
                if !v.is_null() {
                    hit.vars.insert(name.clone(), show(&v));
                }
            }
            for (name, t, conds) in &self.texts {
                let mut picked = Vec::new();
                for (c, cond) in t.cases.iter().zip(conds) {
                    if cond.as_ref().is_none_or(|w| genv.eval(w).truthy()) {
                        let (Ok(text) | Err(text)) = super::template::render(&c.text, &hit.vars);
                        picked.push(text);
                        if !t.all {
                            break;
                        }
                    }
                }
                let joined = picked.join(&t.sep);
                let text = if joined.is_empty() {
                    joined
                } else {
                    format!("{}{joined}{}", t.prefix, t.suffix)
                };
                hit.vars.insert(name.clone(), text);
            }
            for (i, e) in self.entities.iter().enumerate() {
                let Some(e) = e else { continue };
                let mut vals = Vec::new();
                flatten_into(genv.eval(e), &mut vals);
                for v in vals {
                    match i {
                        0 => hit.entities.stores.extend(v.num().map(|n| n as u64)),
                        1 => hit.entities.regions.extend(v.num().map(|n| n as u64)),
                        2 => {
                            if !v.is_null() {
                                hit.entities.nodes.push(v.to_string());
                            }
                        }
                        _ => hit.entities.ranges.extend(v.num().map(|n| n as u64)),
                    }
                }
            }
            let mut locs: Vec<Location> = Vec::new();
            for r in rows {
                let env = env0.with_row_of(r);
                for e in &self.evidence {
                    env.eval(e).locations(&mut locs);
                }
            }
            // The rows' own lines first, then the group's; `max-evidence` in all.
            for e in &self.evidence_extra {
                genv.eval(e).locations(&mut locs);
            }
            let mut cited: Vec<Location> = Vec::new();
            for l in locs {
                if cited.len() >= self.spec.max_evidence {
                    break;
                }
                if !cited.contains(&l) {
                    cited.push(l);
                }
            }
            hit.evidence = cited
                .into_iter()
                .map(|loc| EvidenceRef {
                    loc,
                    excerpt: cat.event_excerpt(loc),
                })
                .collect();
            if let Some((_, s)) = self.severity.iter().find(|(c, _)| genv.eval(c).truthy()) {
                hit.severity = Some(*s);
            }
            let read = eval::take_param_reads();
            hit.assumptions = assumed
                .iter()
                .filter(|(name, _)| read.contains(name))
                .map(|(_, a)| a.clone())
                .collect();
            let order = self.order_by.as_ref().map_or(Value::Null, |o| genv.eval(o));
            out.push((order, hit));
        }
        // A group skipped by `having` left the recording on.
        eval::take_param_reads();
        if self.order_by.is_some() {
            out.sort_by(|a, b| {
                let o = a.0.cmp_total(&b.0);
                if self.spec.order_desc { o.reverse() } else { o }
            });
        }
        let mut hits: Vec<Hit> = out.into_iter().map(|(_, h)| h).collect();
        if let Some(n) = self.spec.limit {
            hits.truncate(n);
        }
        if decided {
            Outcome {
                hits,
                undecided: Vec::new(),
            }
        } else {
            Outcome {
                hits: Vec::new(),
                undecided: hits.into_iter().map(|h| h.vars).collect(),
            }
        }
    }

    /// The prefilter groups of the events this query reads.
    fn event_sets(&self, sets: &BTreeMap<String, u32>) -> Option<Vec<u32>> {
        if self.spec.from != "events" {
            return None;
        }
        let names: Vec<&String> = match &self.spec.sets {
            Some(s) => s.iter().collect(),
            None => sets.keys().collect(),
        };
        Some(names.iter().filter_map(|n| sets.get(*n).copied()).collect())
    }
}

fn flatten_into(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::List(l) => l.into_iter().for_each(|x| flatten_into(x, out)),
        Value::Null => {}
        x => out.push(x),
    }
}
