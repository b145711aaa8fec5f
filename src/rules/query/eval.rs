//! Evaluating expressions against a row, a group of rows, and the catalogue.

use super::expr::{BinOp, Expr, UnOp};
use super::tables::{Catalog, Row, peers_of};
use super::value::{Value, fmt_num};
use crate::model::units::{human_bytes, human_secs};
use crate::model::{Component, Version};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Scalar functions a rule may call (aggregates are listed in [`AGGREGATES`]).
pub const FUNCTIONS: &[&str] = &[
    "field",
    "field_num",
    "has_field",
    "in_set",
    "lower",
    "upper",
    "trim",
    "len",
    "join",
    "human_secs",
    "human_bytes",
    "coalesce",
    "if",
    "version",
    "fixed_in",
    "line_of",
    "least",
    "greatest",
    "round",
    "floor",
    "abs",
    "num",
    "str",
    "sort",
    "unique",
    "take",
    "store_of",
    "config",
    "config_loc",
    "has",
    "regex",
    "contains_any",
    "starts_with_any",
    "json_field",
    "map",
    "keys",
    "values",
    "sum_of",
    "max_of",
    "min_of",
    "ids_after",
    "time_diff",
    "percent",
    "rfc3339",
    "fixed",
    "is_default",
    "low_space",
    "near",
    "clusters",
    "each",
    "filter",
    "strftime",
    "pd_log_config",
    "version_loc",
    "tail",
    "duration_secs",
    "unquote",
    "window",
];

pub use super::expr::AGGREGATES;

/// The parameter that lists the parameters which fell back to their default.
pub const DEFAULTED: &str = "\u{0}defaulted";

/// Everything an expression can see.
pub struct Env<'a, 'c> {
    pub cat: &'a Catalog<'a>,
    /// `$name` values: parameters and `given` expressions.
    pub params: &'c BTreeMap<String, Value>,
    /// The rule's needle sets → prefilter group ids.
    pub sets: &'c BTreeMap<String, u32>,
    /// Compiled patterns of the rule, by their text.
    pub regexes: &'c BTreeMap<String, regex::Regex>,
    pub row: Option<Row<'a>>,
    /// Joined rows of the current row, by alias.
    pub joined: &'c [(String, Row<'a>)],
    /// Values a stage added to the current row (a sequence's `age`).
    pub extra: &'c [(String, Value)],
    /// The row enclosing a table aggregate.
    pub outer: Option<&'c Env<'a, 'c>>,
    /// Rows of the current group, for aggregates.
    pub group: Option<&'c [GroupRow<'a>]>,
    /// Names bound by `let`, in the current group.
    pub lets: &'c BTreeMap<String, Value>,
}

/// A row with its joined rows and the values a stage added.
#[derive(Clone)]
pub struct GroupRow<'a> {
    pub row: Row<'a>,
    pub joined: Vec<(String, Row<'a>)>,
    pub extra: Vec<(String, Value)>,
}

impl<'a> GroupRow<'a> {
    pub fn of(row: Row<'a>) -> GroupRow<'a> {
        GroupRow {
            row,
            joined: Vec::new(),
            extra: Vec::new(),
        }
    }
}

static EMPTY_LETS: std::sync::LazyLock<BTreeMap<String, Value>> =
    std::sync::LazyLock::new(BTreeMap::new);

impl<'a, 'c> Env<'a, 'c> {
    /// A scope with parameters only: no row, no group, no lets.
    pub fn root(
        cat: &'a Catalog<'a>,
        params: &'c BTreeMap<String, Value>,
        sets: &'c BTreeMap<String, u32>,
        regexes: &'c BTreeMap<String, regex::Regex>,
    ) -> Env<'a, 'c> {
        Env {
            cat,
            params,
            sets,
            regexes,
            row: None,
            joined: &[],
            extra: &[],
            outer: None,
            group: None,
            lets: &EMPTY_LETS,
        }
    }

    /// The same scope with another current row (its joins, no group).
    pub fn with_row_of<'d>(&'d self, row: &'d GroupRow<'a>) -> Env<'a, 'd>
    where
        'c: 'd,
    {
        Env {
            cat: self.cat,
            params: self.params,
            sets: self.sets,
            regexes: self.regexes,
            row: Some(row.row),
            joined: &row.joined,
            extra: &row.extra,
            outer: self.outer,
            group: None,
            lets: self.lets,
        }
    }

    /// The same scope over a group of rows, with its lets.
    pub fn with_group<'d>(
        &'d self,
        rows: &'d [GroupRow<'a>],
        lets: &'d BTreeMap<String, Value>,
    ) -> Env<'a, 'd>
    where
        'c: 'd,
    {
        Env {
            cat: self.cat,
            params: self.params,
            sets: self.sets,
            regexes: self.regexes,
            row: None,
            joined: &[],
            extra: &[],
            outer: None,
            group: Some(rows),
            lets,
        }
    }

    /// A row of another table inside this scope (a table aggregate, a join): this scope
    /// becomes its `outer`.
    pub fn inner<'d>(&'d self, row: &'d GroupRow<'a>) -> Env<'a, 'd>
    where
        'c: 'd,
    {
        Env {
            cat: self.cat,
            params: self.params,
            sets: self.sets,
            regexes: self.regexes,
            row: Some(row.row),
            joined: &row.joined,
            extra: &row.extra,
            outer: Some(self),
            group: None,
            lets: self.lets,
        }
    }

    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::List(items) => Value::List(items.iter().map(|x| self.eval(x)).collect()),
            Expr::Name(n) => self.name(n),
            Expr::Outer(c) => match self.outer {
                Some(o) => o.name(c),
                None => Value::Null,
            },
            Expr::Param(p) => self.params.get(p).cloned().unwrap_or(Value::Null),
            Expr::Unary(UnOp::Not, x) => Value::Bool(!self.eval(x).truthy()),
            Expr::Unary(UnOp::Neg, x) => match self.eval(x).num() {
                Some(n) => Value::Num(-n),
                None => Value::Null,
            },
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Index(a, b) => {
                // `alias.col` of a joined row (in a group: of its first row).
                let joined = match (self.row, self.group.and_then(|g| g.first())) {
                    (None, Some(g)) => g.joined.as_slice(),
                    _ => self.joined,
                };
                if let (Expr::Name(alias), Expr::Str(col)) = (&**a, &**b)
                    && let Some((_, r)) = joined.iter().find(|(n, _)| n == alias)
                {
                    return r.get(self.cat, col).unwrap_or(Value::Null);
                }
                let base = self.eval(a);
                let key = self.eval(b);
                match (base, key) {
                    (Value::Map(m), k) => m.get(&k.key()).cloned().unwrap_or(Value::Null),
                    (Value::List(v), Value::Num(i)) if i >= 0.0 => {
                        v.get(i as usize).cloned().unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                }
            }
            Expr::Call(f, args) => self.call(f, args),
            Expr::TableAgg {
                func,
                table,
                cond,
                value,
            } => self.table_agg(func, table, cond.as_deref(), value.as_deref()),
        }
    }

    fn name(&self, n: &str) -> Value {
        if let Some((_, v)) = self.extra.iter().find(|(k, _)| k == n) {
            return v.clone();
        }
        if let Some(r) = &self.row
            && let Some(v) = r.get(self.cat, n)
        {
            return v;
        }
        if let Some(v) = self.lets.get(n) {
            return v.clone();
        }
        // Inside a group without a current row: the first row's value (a group key).
        if let Some(g) = self.group.and_then(|g| g.first()) {
            return self.with_row_of(g).name(n);
        }
        Value::Null
    }

    fn binary(&self, op: BinOp, a: &Expr, b: &Expr) -> Value {
        match op {
            BinOp::And => {
                return Value::Bool(self.eval(a).truthy() && self.eval(b).truthy());
            }
            BinOp::Or => return Value::Bool(self.eval(a).truthy() || self.eval(b).truthy()),
            _ => {}
        }
        let (x, y) = (self.eval(a), self.eval(b));
        let ord = |want: &dyn Fn(Ordering) -> bool| Value::Bool(x.compare(&y).is_some_and(want));
        match op {
            BinOp::Eq => Value::Bool(equal(&x, &y)),
            BinOp::Ne => Value::Bool(!equal(&x, &y)),
            BinOp::Lt => ord(&|o| o == Ordering::Less),
            BinOp::Le => ord(&|o| o != Ordering::Greater),
            BinOp::Gt => ord(&|o| o == Ordering::Greater),
            BinOp::Ge => ord(&|o| o != Ordering::Less),
            BinOp::In => Value::Bool(member(&x, &y)),
            BinOp::NotIn => Value::Bool(!member(&x, &y)),
            BinOp::Contains => Value::Bool(match (&x, &y) {
                (Value::Str(s), Value::Str(t)) => s.contains(t.as_str()),
                (Value::List(_) | Value::Map(_), _) => member(&y, &x),
                _ => false,
            }),
            BinOp::StartsWith => Value::Bool(
                matches!((&x, &y), (Value::Str(s), Value::Str(t)) if s.starts_with(t.as_str())),
            ),
            BinOp::EndsWith => Value::Bool(
                matches!((&x, &y), (Value::Str(s), Value::Str(t)) if s.ends_with(t.as_str())),
            ),
            BinOp::Matches => Value::Bool(match (&x, &y) {
                (Value::Str(s), Value::Str(p)) => {
                    self.regexes.get(p).is_some_and(|re| re.is_match(s))
                }
                _ => false,
            }),
            BinOp::Add => match (&x, &y) {
                (Value::Str(s), t) => Value::Str(format!("{s}{t}")),
                (Value::List(l), Value::List(m)) => {
                    Value::List(l.iter().chain(m).cloned().collect())
                }
                _ => arith(&x, &y, |p, q| p + q),
            },
            BinOp::Sub => match (&x, &y) {
                // Time minus time: seconds between.
                (Value::Time(p), Value::Time(q)) => {
                    Value::Num((*p - *q).num_milliseconds() as f64 / 1000.0)
                }
                _ => arith(&x, &y, |p, q| p - q),
            },
            BinOp::Mul => arith(&x, &y, |p, q| p * q),
            BinOp::Div => match y.num() {
                Some(q) if q != 0.0 => arith(&x, &y, |p, q| p / q),
                _ => Value::Null,
            },
            BinOp::And | BinOp::Or => Value::Null,
        }
    }

    fn args(&self, args: &[Expr]) -> Vec<Value> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    fn call(&self, f: &str, args: &[Expr]) -> Value {
        if AGGREGATES.contains(&f) {
            return self.group_agg(f, args);
        }
        // Row functions in a group: the group's first row (like a bare column name).
        if self.row.is_none()
            && matches!(f, "field" | "field_num" | "has_field" | "in_set")
            && let Some(g) = self.group.and_then(|g| g.first())
        {
            return self.with_row_of(g).call(f, args);
        }
        // Lazy ones first.
        match f {
            "if" => {
                return match args {
                    [c, a, b] => {
                        if self.eval(c).truthy() {
                            self.eval(a)
                        } else {
                            self.eval(b)
                        }
                    }
                    [c, a] => {
                        if self.eval(c).truthy() {
                            self.eval(a)
                        } else {
                            Value::Null
                        }
                    }
                    _ => Value::Null,
                };
            }
            // each(list, expr): expr for every element, the element named `it`.
            // filter(list, cond): the elements for which cond holds.
            "each" | "filter" => {
                let [list, body] = args else {
                    return Value::Null;
                };
                let Value::List(items) = self.eval(list) else {
                    return Value::List(Vec::new());
                };
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let mut lets = self.lets.clone();
                    lets.insert("it".to_string(), it.clone());
                    let env = Env {
                        lets: &lets,
                        ..self.same()
                    };
                    let v = env.eval(body);
                    if f == "each" {
                        out.push(v);
                    } else if v.truthy() {
                        out.push(it);
                    }
                }
                return Value::List(out);
            }
            "coalesce" => {
                return args
                    .iter()
                    .map(|a| self.eval(a))
                    .find(|v| !v.is_null())
                    .unwrap_or(Value::Null);
            }
            _ => {}
        }
        let v = self.args(args);
        let s = |i: usize| match v.get(i) {
            Some(Value::Null) | None => None,
            Some(x) => Some(x.to_string()),
        };
        let n = |i: usize| v.get(i).and_then(Value::num);
        match f {
            "field" => match (&self.row, s(0)) {
                (Some(r), Some(k)) => r.field(&k),
                _ => Value::Null,
            },
            "field_num" => match (&self.row, s(0)) {
                (Some(r), Some(k)) => match r.field(&k) {
                    Value::Str(x) => x.trim().parse().map_or(Value::Null, Value::Num),
                    _ => Value::Null,
                },
                _ => Value::Null,
            },
            "has_field" => Value::Bool(match (&self.row, s(0)) {
                (Some(r), Some(k)) => !r.field(&k).is_null(),
                _ => false,
            }),
            "in_set" => Value::Bool(
                match (
                    self.row.and_then(|r| r.event()),
                    s(0).and_then(|k| self.sets.get(&k)),
                ) {
                    (Some(e), Some(g)) => e.in_group(*g),
                    _ => false,
                },
            ),
            "lower" => s(0).map_or(Value::Null, |x| Value::Str(x.to_lowercase())),
            "upper" => s(0).map_or(Value::Null, |x| Value::Str(x.to_uppercase())),
            "trim" => s(0).map_or(Value::Null, |x| Value::Str(x.trim().to_string())),
            "len" => match v.first() {
                Some(Value::List(l)) => Value::Num(l.len() as f64),
                Some(Value::Map(m)) => Value::Num(m.len() as f64),
                Some(Value::Str(x)) => Value::Num(x.chars().count() as f64),
                _ => Value::Num(0.0),
            },
            "join" => match v.first() {
                Some(Value::List(l)) => {
                    let sep = s(1).unwrap_or_else(|| ",".into());
                    Value::Str(
                        l.iter()
                            .filter(|x| !x.is_null())
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(&sep),
                    )
                }
                Some(Value::Map(m)) => Value::Str(
                    m.keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(&s(1).unwrap_or_else(|| ",".into())),
                ),
                Some(x) => Value::Str(x.to_string()),
                None => Value::Null,
            },
            "human_secs" => n(0).map_or(Value::Null, |x| Value::Str(human_secs(x as i64))),
            "human_bytes" => {
                n(0).map_or(Value::Null, |x| Value::Str(human_bytes(x.max(0.0) as u64)))
            }
            "version" => match s(0).as_deref().and_then(component) {
                Some(c) => self
                    .cat
                    .facts
                    .version(c)
                    .map_or(Value::Null, Value::Version),
                None => Value::Null,
            },
            "fixed_in" => match (version_of(v.first()), s(1)) {
                (Some(have), Some(list)) => Value::Bool(fixed_in(have, &list)),
                _ => Value::Null,
            },
            "line_of" => match version_of(v.first()) {
                Some(x) => Value::Str(format!("{}.{}", x.major, x.minor)),
                None => Value::Null,
            },
            "least" => v
                .iter()
                .filter(|x| !x.is_null())
                .min_by(|a, b| a.cmp_total(b))
                .cloned()
                .unwrap_or(Value::Null),
            "greatest" => v
                .iter()
                .filter(|x| !x.is_null())
                .max_by(|a, b| a.cmp_total(b))
                .cloned()
                .unwrap_or(Value::Null),
            "round" => match (n(0), n(1)) {
                (Some(x), Some(d)) => {
                    let p = 10f64.powi(d as i32);
                    Value::Num((x * p).round() / p)
                }
                (Some(x), None) => Value::Num(x.round()),
                _ => Value::Null,
            },
            "floor" => n(0).map_or(Value::Null, |x| Value::Num(x.floor())),
            "abs" => n(0).map_or(Value::Null, |x| Value::Num(x.abs())),
            "num" => n(0).map_or(Value::Null, Value::Num),
            "str" => Value::Str(v.first().map(Value::to_string).unwrap_or_default()),
            "sort" => match v.into_iter().next() {
                Some(Value::List(mut l)) => {
                    l.sort_by(|a, b| a.cmp_total(b));
                    Value::List(l)
                }
                other => other.unwrap_or(Value::Null),
            },
            "unique" => match v.into_iter().next() {
                Some(Value::List(l)) => Value::List(unique(l)),
                other => other.unwrap_or(Value::Null),
            },
            "take" => match (v.first(), n(1)) {
                (Some(Value::List(l)), Some(k)) => {
                    Value::List(l.iter().take(k.max(0.0) as usize).cloned().collect())
                }
                _ => v.first().cloned().unwrap_or(Value::Null),
            },
            "store_of" => match n(0) {
                Some(id) => self.store_of(id as u64),
                None => Value::Null,
            },
            "config" => match s(0) {
                Some(k) => self.config(&k).map_or(Value::Null, |(v, _)| v),
                None => Value::Null,
            },
            "config_loc" => match s(0) {
                Some(k) => self.config(&k).map_or(Value::Null, |(_, l)| Value::Loc(l)),
                None => Value::Null,
            },
            "has" => Value::Bool(v.first().is_some_and(|x| !x.is_null())),
            "regex" => match (s(0), s(1)) {
                // regex(text, pattern[, group]): the first match (or named/numbered group).
                (Some(text), Some(p)) => {
                    match self.regexes.get(&p).and_then(|re| re.captures(&text)) {
                        Some(c) => {
                            let m = match v.get(2) {
                                Some(Value::Num(i)) => c.get(*i as usize),
                                Some(Value::Str(name)) => c.name(name),
                                _ => c.get(c.len().saturating_sub(1).min(1)),
                            };
                            Value::opt_str(m.map(|m| m.as_str()))
                        }
                        None => Value::Null,
                    }
                }
                _ => Value::Null,
            },
            "contains_any" | "starts_with_any" => match (s(0), v.get(1)) {
                (Some(text), Some(Value::List(l))) => Value::Bool(l.iter().any(|x| match x {
                    Value::Str(t) if f == "contains_any" => text.contains(t.as_str()),
                    Value::Str(t) => text.starts_with(t.as_str()),
                    _ => false,
                })),
                _ => Value::Bool(false),
            },
            "json_field" => match (s(0), s(1)) {
                (Some(text), Some(key)) => json_field(&text, &key),
                _ => Value::Null,
            },
            "map" => {
                // map(k1, v1, k2, v2, ...)
                let mut m = BTreeMap::new();
                for pair in v.chunks(2) {
                    if let [k, x] = pair {
                        m.insert(k.key(), x.clone());
                    }
                }
                Value::Map(m)
            }
            "keys" => match v.first() {
                Some(Value::Map(m)) => Value::List(
                    m.keys()
                        .map(|k| match k.parse::<f64>() {
                            Ok(n) => Value::Num(n),
                            Err(_) => Value::Str(k.clone()),
                        })
                        .collect(),
                ),
                _ => Value::List(Vec::new()),
            },
            "values" => match v.into_iter().next() {
                Some(Value::Map(m)) => Value::List(m.into_values().collect()),
                _ => Value::List(Vec::new()),
            },
            "sum_of" | "max_of" | "min_of" => match v.first() {
                Some(Value::List(l)) => {
                    let nums = l.iter().filter_map(Value::num);
                    match f {
                        "sum_of" => Value::Num(nums.sum()),
                        "max_of" => nums.reduce(f64::max).map_or(Value::Null, Value::Num),
                        _ => nums.reduce(f64::min).map_or(Value::Null, Value::Num),
                    }
                }
                _ => Value::Null,
            },
            "ids_after" => match (s(0), s(1)) {
                // The numbers listed after a marker: `failed stores 4, 5` → [4, 5].
                (Some(text), Some(marker)) => Value::List(ids_after(&text, &marker)),
                _ => Value::List(Vec::new()),
            },
            "time_diff" => match (v.first(), v.get(1)) {
                (Some(Value::Time(a)), Some(Value::Time(b))) => {
                    Value::Num((*a - *b).num_seconds() as f64)
                }
                _ => Value::Null,
            },
            "percent" => n(0).map_or(Value::Null, |x| Value::Str(format!("{:.0}%", x * 100.0))),
            "fixed" => match (n(0), n(1)) {
                (Some(x), Some(d)) => Value::Str(format!("{x:.*}", d.max(0.0) as usize)),
                _ => Value::Null,
            },
            // Whether a parameter fell back to its default (the bundle did not set it).
            "is_default" => Value::Bool(match (s(0), self.params.get(DEFAULTED)) {
                (Some(name), Some(Value::Map(m))) => m.contains_key(&name),
                _ => false,
            }),
            // PD's low-space test for the current store record.
            "low_space" => match (self.row, n(0)) {
                (Some(Row::Store(st)), Some(ratio)) => {
                    Value::Bool(st.s.is_low_space(ratio) == Some(true))
                }
                _ => Value::Bool(false),
            },
            // near(t, times, secs): some time in the list lies within secs of t.
            "near" => match (v.first(), v.get(1), n(2)) {
                (Some(Value::Time(t)), Some(Value::List(l)), Some(secs)) => {
                    Value::Bool(l.iter().any(|x| match x {
                        Value::Time(u) => {
                            ((*t - *u).num_milliseconds().abs() as f64) <= secs * 1000.0
                        }
                        _ => false,
                    }))
                }
                _ => Value::Bool(false),
            },
            // clusters(times, gap): how many runs the times form, a new one after each gap
            // longer than `gap` seconds.
            "clusters" => match (v.first(), n(1)) {
                (Some(Value::List(l)), Some(gap)) => {
                    let mut ts: Vec<chrono::DateTime<chrono::FixedOffset>> = l
                        .iter()
                        .filter_map(|x| match x {
                            Value::Time(t) => Some(*t),
                            _ => None,
                        })
                        .collect();
                    ts.sort();
                    let runs = 1 + ts
                        .windows(2)
                        .filter(|w| (w[1] - w[0]).num_seconds() as f64 > gap)
                        .count();
                    Value::Num(runs as f64)
                }
                _ => Value::Num(0.0),
            },
            // A setting in PD's own log of its config (`schedule config is updated` [new=..],
            // `PD Config` [config=..]): the key, or the key under `schedule`.
            "pd_log_config" => match (self.row.and_then(|r| r.event()), s(0)) {
                (Some(e), Some(key)) => e
                    .fields
                    .iter()
                    .filter(|(k, _)| k == "new" || k == "config")
                    .find_map(|(_, raw)| {
                        let j: serde_json::Value = serde_json::from_str(raw).ok()?;
                        let v = j
                            .get(&key)
                            .or_else(|| j.get("schedule").and_then(|s| s.get(&key)))?;
                        match super::tables::config_value(v) {
                            Value::Num(n) => Some(Value::Num(n)),
                            _ => None,
                        }
                    })
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            },
            // Where the bundle shows a component's newest version.
            "version_loc" => match s(0).as_deref().and_then(component) {
                Some(c) => {
                    let newest = self.cat.facts.version(c);
                    self.cat
                        .facts
                        .versions
                        .get(&c)
                        .and_then(|vs| vs.iter().find(|x| Some(x.version) == newest))
                        .map_or(Value::Null, |x| Value::Loc(x.loc))
                }
                None => Value::Null,
            },
            // A duration as settings are written: `15m0s`, `'1s'`, `00:15:00`, `500ms`.
            "duration_secs" => s(0)
                .and_then(|x| duration_secs(&x))
                .map_or(Value::Null, Value::Num),
            // Without the redaction markers and quotes CockroachDB puts around values.
            "unquote" => s(0).map_or(Value::Null, |x| Value::Str(unquote(&x).to_string())),
            // window(time, size): the start of the time window of that size the time falls in
            // (group by it to count per window).
            "window" => match (v.first(), n(1)) {
                (Some(Value::Time(t)), Some(size)) if size >= 1.0 => {
                    let size = size as i64;
                    let start = t.timestamp().div_euclid(size) * size;
                    match chrono::DateTime::from_timestamp(start, 0) {
                        Some(w) => Value::Time(w.with_timezone(t.offset())),
                        None => Value::Null,
                    }
                }
                _ => Value::Null,
            },
            // tail(list): the list without its first element.
            "tail" => match v.into_iter().next() {
                Some(Value::List(l)) => Value::List(l.into_iter().skip(1).collect()),
                _ => Value::Null,
            },
            "strftime" => match (v.first(), s(1)) {
                (Some(Value::Time(t)), Some(f)) => Value::Str(t.format(&f).to_string()),
                _ => Value::Null,
            },
            "rfc3339" => match v.first() {
                Some(Value::Time(t)) => Value::Str(t.to_rfc3339()),
                _ => Value::Null,
            },
            _ => Value::Null,
        }
    }

    /// A copy of this scope (to change one field).
    fn same(&self) -> Env<'a, 'c> {
        Env {
            cat: self.cat,
            params: self.params,
            sets: self.sets,
            regexes: self.regexes,
            row: self.row,
            joined: self.joined,
            extra: self.extra,
            outer: self.outer,
            group: self.group,
            lets: self.lets,
        }
    }

    /// The latest record of a store, as a map of its columns.
    fn store_of(&self, id: u64) -> Value {
        let Some(r) = self.cat.stores.iter().rev().find(|s| s.s.id.0 == id) else {
            return Value::Null;
        };
        let row = Row::Store(r);
        let mut m = BTreeMap::new();
        for c in super::tables::columns("stores").unwrap_or(&[]) {
            if let Some(v) = row.get(self.cat, c) {
                m.insert((*c).to_string(), v);
            }
        }
        Value::Map(m)
    }

    /// The newest value of a PD config key (dotted, or its last segment as PD 3.x prints).
    pub fn config(&self, key: &str) -> Option<(Value, crate::model::Location)> {
        self.cat
            .facts
            .configs
            .iter()
            .rev()
            .find_map(|c| c.get(key).map(|v| (super::tables::config_value(v), c.loc)))
    }

    fn group_rows(&self) -> Vec<GroupRow<'a>> {
        match (self.group, &self.row) {
            (Some(g), _) => g.to_vec(),
            (None, Some(r)) => vec![GroupRow {
                row: *r,
                joined: self.joined.to_vec(),
                extra: self.extra.to_vec(),
            }],
            _ => Vec::new(),
        }
    }

    /// `count()`, `max(x)`, ... over the current group.
    fn group_agg(&self, f: &str, args: &[Expr]) -> Value {
        let rows = self.group_rows();
        let vals =
            |e: &Expr| -> Vec<Value> { rows.iter().map(|r| self.with_row_of(r).eval(e)).collect() };
        aggregate(f, args, &rows, &vals)
    }

    /// `count(stores where up)`, `list(regions where ..., id)`; inside a region, `peers`
    /// are its own.
    fn table_agg(&self, f: &str, table: &str, cond: Option<&Expr>, value: Option<&Expr>) -> Value {
        let rows: Vec<Row<'a>> = match (table, self.row.and_then(|r| r.region())) {
            ("peers", Some(r)) => peers_of(r),
            _ => self.cat.rows(table),
        };
        let selected: Vec<GroupRow<'a>> = rows
            .into_iter()
            .map(GroupRow::of)
            .filter(|r| cond.is_none_or(|c| self.inner(r).eval(c).truthy()))
            .collect();
        let vals =
            |e: &Expr| -> Vec<Value> { selected.iter().map(|r| self.inner(r).eval(e)).collect() };
        let value_args: Vec<Expr> = value.into_iter().cloned().collect();
        aggregate(f, &value_args, &selected, &vals)
    }
}

/// An aggregate over rows: `vals(e)` evaluates `e` on each row.
fn aggregate(
    f: &str,
    args: &[Expr],
    rows: &[GroupRow<'_>],
    vals: &dyn Fn(&Expr) -> Vec<Value>,
) -> Value {
    let first_arg = args.first();
    match f {
        "count" => match first_arg {
            None => Value::Num(rows.len() as f64),
            Some(e) => Value::Num(vals(e).iter().filter(|v| v.truthy()).count() as f64),
        },
        "exists" => Value::Bool(match first_arg {
            None => !rows.is_empty(),
            Some(e) => vals(e).iter().any(Value::truthy),
        }),
        "any" => Value::Bool(first_arg.is_some_and(|e| vals(e).iter().any(Value::truthy))),
        "all" => Value::Bool(first_arg.is_none_or(|e| vals(e).iter().all(Value::truthy))),
        "rows" => Value::Num(rows.len() as f64),
        _ => {
            let Some(e) = first_arg else {
                return Value::Null;
            };
            let vs: Vec<Value> = vals(e).into_iter().filter(|v| !v.is_null()).collect();
            match f {
                "sum" => Value::Num(vs.iter().filter_map(Value::num).sum()),
                "min" => vs
                    .into_iter()
                    .min_by(|a, b| a.cmp_total(b))
                    .unwrap_or(Value::Null),
                "max" => vs
                    .into_iter()
                    .max_by(|a, b| a.cmp_total(b))
                    .unwrap_or(Value::Null),
                "first" => vs.into_iter().next().unwrap_or(Value::Null),
                "last" => vs.into_iter().last().unwrap_or(Value::Null),
                "list" => Value::List(flatten(vs)),
                "distinct" => {
                    let mut l = flatten(vs);
                    l.sort_by(|a, b| a.cmp_total(b));
                    Value::List(unique(l))
                }
                // A counter's increase over the rows in order (a drop is a restart from 0),
                // a gauge's growth (last minus first).
                "increase" => {
                    let nums: Vec<f64> = vs.iter().filter_map(Value::num).collect();
                    Value::Num(
                        nums.windows(2)
                            .map(|w| if w[1] >= w[0] { w[1] - w[0] } else { w[1] })
                            .sum(),
                    )
                }
                "growth" => {
                    let nums: Vec<f64> = vs.iter().filter_map(Value::num).collect();
                    match (nums.first(), nums.last()) {
                        (Some(a), Some(b)) => Value::Num(b - a),
                        _ => Value::Null,
                    }
                }
                // rate(time): rows per second over the time they span.
                "rate" => {
                    let ts: Vec<chrono::DateTime<chrono::FixedOffset>> = vs
                        .iter()
                        .filter_map(|v| match v {
                            Value::Time(t) => Some(*t),
                            _ => None,
                        })
                        .collect();
                    match (ts.iter().min(), ts.iter().max()) {
                        (Some(a), Some(b)) if b > a => Value::Num(
                            ts.len() as f64 / ((*b - *a).num_milliseconds() as f64 / 1000.0),
                        ),
                        _ => Value::Null,
                    }
                }
                "map_of" => {
                    // map_of([key, value]) (or map_of(key): a set); the first value wins.
                    let mut m = BTreeMap::new();
                    for v in vs {
                        match v {
                            Value::List(kv) if kv.len() == 2 => {
                                let mut kv = kv.into_iter();
                                if let (Some(k), Some(x)) = (kv.next(), kv.next()) {
                                    m.entry(k.key()).or_insert(x);
                                }
                            }
                            other => {
                                m.entry(other.key()).or_insert(Value::Bool(true));
                            }
                        }
                    }
                    Value::Map(m)
                }
                _ => Value::Null,
            }
        }
    }
}

/// Lists inside a collected list are spliced (`list(peer_stores)` of lists is one list).
fn flatten(vs: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::with_capacity(vs.len());
    for v in vs {
        match v {
            Value::List(l) => out.extend(l),
            x => out.push(x),
        }
    }
    out
}

fn unique(l: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(l.len());
    for v in l {
        if !out.iter().any(|x| equal(x, &v)) {
            out.push(v);
        }
    }
    out
}

fn equal(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => x.compare(y) == Some(Ordering::Equal) || x == y,
    }
}

fn member(x: &Value, set: &Value) -> bool {
    match set {
        Value::List(l) => l.iter().any(|v| equal(v, x)),
        Value::Map(m) => m.contains_key(&x.key()),
        Value::Str(s) => matches!(x, Value::Str(t) if s.contains(t.as_str())),
        _ => false,
    }
}

fn arith(x: &Value, y: &Value, f: impl Fn(f64, f64) -> f64) -> Value {
    match (x.num(), y.num()) {
        (Some(a), Some(b)) => Value::Num(f(a, b)),
        _ => Value::Null,
    }
}

fn component(s: &str) -> Option<Component> {
    Some(match s {
        "tikv" => Component::Tikv,
        "pd" => Component::Pd,
        "tidb" => Component::Tidb,
        "cockroach" | "crdb" => Component::Cockroach,
        _ => return None,
    })
}

fn version_of(v: Option<&Value>) -> Option<Version> {
    match v? {
        Value::Version(v) => Some(*v),
        Value::Str(s) => Version::parse(s),
        _ => None,
    }
}

/// Whether a version has a fix released in `list` ("6.5.12 7.1.6 8.4.0"): a version on one
/// of the listed release lines has it from that patch on; other versions have it when they
/// are newer than every listed release.
pub fn fixed_in(have: Version, list: &str) -> bool {
    let fixes: Vec<Version> = list
        .split([' ', ','])
        .filter(|s| !s.trim().is_empty())
        .filter_map(Version::parse)
        .collect();
    if let Some(f) = fixes
        .iter()
        .find(|f| f.major == have.major && f.minor == have.minor)
    {
        return have >= *f;
    }
    fixes.iter().max().is_some_and(|m| have >= *m)
}

fn ids_after(text: &str, marker: &str) -> Vec<Value> {
    let lower = text.to_ascii_lowercase();
    let Some(p) = lower.find(&marker.to_ascii_lowercase()) else {
        return Vec::new();
    };
    text[p + marker.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<f64>().ok())
        .map(Value::Num)
        .collect()
}

fn unquote(s: &str) -> &str {
    s.trim()
        .trim_matches(|c| matches!(c, '‹' | '›' | '\'' | '"' | ' '))
}

fn duration_secs(s: &str) -> Option<f64> {
    let v = unquote(s);
    if v.contains(':') {
        let mut total = 0f64;
        for part in v.split(':') {
            total = total * 60.0 + part.trim().parse::<f64>().ok()?;
        }
        return Some(total);
    }
    if let Some(ms) = v.strip_suffix("ms")
        && let Ok(n) = ms.parse::<f64>()
    {
        return Some(n / 1000.0);
    }
    crate::model::units::parse_go_duration(v).map(|s| s as f64)
}

fn json_field(text: &str, key: &str) -> Value {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Value::Null;
    };
    let mut cur = &v;
    for part in key.split('.') {
        match cur.get(part) {
            Some(x) => cur = x,
            None => return Value::Null,
        }
    }
    super::tables::config_value(cur)
}

/// A value as a template shows it.
pub fn show(v: &Value) -> String {
    match v {
        Value::Num(n) => fmt_num(*n),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_by_release_line() {
        let list = "6.5.12 7.1.6 7.5.5 8.1.2 8.4.0";
        assert!(!fixed_in(Version::new(6, 5, 11), list));
        assert!(fixed_in(Version::new(6, 5, 12), list));
        assert!(!fixed_in(Version::new(7, 3, 0), list));
        assert!(!fixed_in(Version::new(8, 3, 0), list));
        assert!(fixed_in(Version::new(8, 4, 0), list));
        assert!(fixed_in(Version::new(9, 0, 0), list));
        assert!(!fixed_in(Version::new(6, 1, 7), list));
    }

    #[test]
    fn ids_after_a_marker() {
        assert_eq!(
            ids_after("Unsafe recovery enters failed stores 4, 5", "failed stores"),
            vec![Value::Num(4.0), Value::Num(5.0)]
        );
    }
}
