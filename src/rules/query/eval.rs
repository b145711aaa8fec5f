//! Evaluating expressions against a row, a group of rows, and the catalogue.

use super::expr::{BinOp, Expr, UnOp};
use super::tables::{Catalog, Row, peers_of};
use super::value::{Value, fmt_num};
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub use super::expr::AGGREGATES;
pub use super::functions::FUNCTIONS;

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

thread_local! {
    /// The parameters read while one hit is judged, when [`start_param_reads`] asked: a
    /// default that a hit's conditions and words never read is no assumption of that hit.
    static PARAM_READS: std::cell::RefCell<Option<std::collections::BTreeSet<String>>> =
        const { std::cell::RefCell::new(None) };
}

/// Starts recording which parameters evaluation reads (on this thread), forgetting earlier
/// reads.
pub fn start_param_reads() {
    PARAM_READS.with(|r| *r.borrow_mut() = Some(Default::default()));
}

/// Stops recording and returns the parameters read since [`start_param_reads`].
pub fn take_param_reads() -> std::collections::BTreeSet<String> {
    PARAM_READS.with(|r| r.borrow_mut().take().unwrap_or_default())
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
            Expr::Param(p) => {
                PARAM_READS.with(|r| {
                    if let Some(set) = r.borrow_mut().as_mut() {
                        set.insert(p.clone());
                    }
                });
                self.params.get(p).cloned().unwrap_or(Value::Null)
            }
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

    /// A copy of this scope (to change one field).
    pub(super) fn same(&self) -> Env<'a, 'c> {
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
    pub(super) fn store_of(&self, id: u64) -> Value {
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
        self.component_config(crate::model::Component::Pd, key)
    }

    /// A component's setting and the line it was read at (see [`crate::model::Facts::component_config`]).
    pub fn component_config(
        &self,
        c: crate::model::Component,
        key: &str,
    ) -> Option<(Value, crate::model::Location)> {
        self.cat
            .facts
            .component_config(c, key)
            .map(|(v, l)| (super::tables::config_value(v), l))
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
    pub(super) fn group_agg(&self, f: &str, args: &[Expr]) -> Value {
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

pub(super) fn unique(l: Vec<Value>) -> Vec<Value> {
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

/// A value as a template shows it.
pub fn show(v: &Value) -> String {
    match v {
        Value::Num(n) => fmt_num(*n),
        other => other.to_string(),
    }
}
