//! The scalar functions of the expression language: text, lists, numbers and units, times,
//! versions and fix tables, the bundle's settings and store records.

use super::eval::{AGGREGATES, DEFAULTED, Env, unique};
use super::expr::Expr;
use super::tables::Row;
use super::value::Value;
use crate::model::units::{
    human_bytes, human_secs, parse_log_duration, parse_setting_secs, unquote_redacted,
};
use crate::model::{Component, Version};
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
    "clip",
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
    "runs",
    "each",
    "filter",
    "strftime",
    "pd_log_config",
    "version_loc",
    "tail",
    "duration_secs",
    "secs",
    "tso_time",
    "unquote",
    "window",
];

impl<'a, 'c> Env<'a, 'c> {
    fn args(&self, args: &[Expr]) -> Vec<Value> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    pub(super) fn call(&self, f: &str, args: &[Expr]) -> Value {
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
            // clip(text, n): at most n characters, an ellipsis marking a cut (titles stay short).
            "clip" => match (s(0), n(1)) {
                (Some(x), Some(max)) if x.chars().count() > max.max(1.0) as usize => {
                    let keep = (max.max(1.0) as usize).saturating_sub(1);
                    let mut out: String = x.chars().take(keep).collect();
                    out.push('…');
                    Value::Str(out)
                }
                (Some(x), _) => Value::Str(x),
                _ => Value::Null,
            },
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
            // config('key') is PD's; config('tikv', 'storage.reserve-space') another
            // component's (the value any instance's record shows last).
            "config" | "config_loc" => {
                let found = match (s(0), s(1)) {
                    (Some(c), Some(k)) => component(&c).and_then(|c| self.component_config(c, &k)),
                    (Some(k), None) => self.config(&k),
                    _ => None,
                };
                match found {
                    Some((v, _)) if f == "config" => v,
                    Some((_, l)) => Value::Loc(l),
                    None => Value::Null,
                }
            }
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
            // runs(times, gap): the runs themselves, as maps `{start, end, count}` in time
            // order, a new run after each gap longer than `gap` seconds.
            "runs" => match (v.first(), n(1)) {
                (Some(Value::List(l)), Some(gap)) => {
                    let ts = l.iter().filter_map(|x| match x {
                        Value::Time(t) => Some(*t),
                        _ => None,
                    });
                    Value::List(
                        runs(ts, gap)
                            .into_iter()
                            .map(|(start, end, count)| {
                                Value::Map(BTreeMap::from([
                                    ("start".to_string(), Value::Time(start)),
                                    ("end".to_string(), Value::Time(end)),
                                    ("count".to_string(), Value::Num(count as f64)),
                                ]))
                            })
                            .collect(),
                    )
                }
                _ => Value::List(Vec::new()),
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
                .and_then(|x| parse_setting_secs(&x))
                .map_or(Value::Null, Value::Num),
            // A duration as logs print it (`1.099200359s`, `219.075167ms`, `850µs`), in seconds
            // with the fraction.
            "secs" => s(0)
                .and_then(|x| parse_log_duration(&x))
                .map_or(Value::Null, Value::Num),
            // tso_time(ts[, like]): the wall time of a TiDB/PD timestamp (TSO: milliseconds
            // since the epoch shifted left by 18 logical bits), in the zone of `like` if given.
            "tso_time" => {
                let ts = match v.first() {
                    Some(Value::Str(x)) => x.trim().parse::<u64>().ok(),
                    Some(Value::Num(x)) if *x >= 0.0 => Some(*x as u64),
                    _ => None,
                };
                let zone = match v.get(1) {
                    Some(Value::Time(t)) => *t.offset(),
                    _ => chrono::FixedOffset::east_opt(0).expect("UTC"),
                };
                ts.and_then(tso_physical)
                    .map_or(Value::Null, |t| Value::Time(t.with_timezone(&zone)))
            }
            // Without the redaction markers and quotes CockroachDB puts around values.
            "unquote" => s(0).map_or(Value::Null, |x| {
                Value::Str(unquote_redacted(&x).to_string())
            }),
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
            f if super::host_tables::FUNCTIONS.contains(&f) => {
                super::host_tables::call(self.cat.facts, f, &v)
            }
            _ => Value::Null,
        }
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

type Time = chrono::DateTime<chrono::FixedOffset>;

/// The physical part of a TSO (its high bits: milliseconds since the epoch); 0 is no time.
fn tso_physical(ts: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    let ms = i64::try_from(ts >> 18).ok().filter(|ms| *ms > 0)?;
    chrono::DateTime::from_timestamp_millis(ms)
}

/// Times sorted and cut into runs at every gap longer than `gap` seconds: each run's first and
/// last time and how many times it holds.
fn runs(times: impl Iterator<Item = Time>, gap: f64) -> Vec<(Time, Time, usize)> {
    let mut ts: Vec<Time> = times.collect();
    ts.sort();
    let mut out: Vec<(Time, Time, usize)> = Vec::new();
    for t in ts {
        match out.last_mut() {
            Some((_, end, n)) if (t - *end).num_milliseconds() as f64 <= gap * 1000.0 => {
                *end = t;
                *n += 1;
            }
            _ => out.push((t, t, 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tso_to_wall_time() {
        // The safe point of tidb#64920's GC line: 2025-12-06 17:18:32 +08:00.
        let t = tso_physical(462687492556980234).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-06T09:18:32.696+00:00");
        assert_eq!(tso_physical(0), None);
    }

    #[test]
    fn runs_cut_at_gaps() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        let times = [
            t("2023-08-23T15:46:30+08:00"),
            t("2023-08-23T15:41:35+08:00"),
            t("2023-08-23T15:41:51+08:00"),
            t("2023-08-23T15:41:45+08:00"),
        ];
        let got = runs(times.into_iter(), 60.0);
        assert_eq!(got, vec![(times[1], times[2], 3), (times[0], times[0], 1),]);
        assert!(runs(std::iter::empty(), 60.0).is_empty());
    }

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
