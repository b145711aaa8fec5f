//! Values an expression evaluates to.

use crate::model::Location;
use crate::model::Version;
use chrono::{DateTime, FixedOffset};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Numbers, ids, durations (seconds) and sizes (bytes).
    Num(f64),
    Str(String),
    Time(DateTime<FixedOffset>),
    Version(Version),
    /// Where a fact was read: what evidence cites.
    Loc(Location),
    List(Vec<Value>),
    /// Keys are the values' text (`5` for store 5).
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::List(v) => !v.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Time(_) | Value::Version(_) | Value::Loc(_) => true,
        }
    }

    pub fn num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The key a value has in a map or a set.
    pub fn key(&self) -> String {
        self.to_string()
    }

    pub fn opt_str(s: Option<&str>) -> Value {
        s.map_or(Value::Null, |s| Value::Str(s.to_string()))
    }

    pub fn opt_num<T: Into<f64>>(n: Option<T>) -> Value {
        n.map_or(Value::Null, |n| Value::Num(n.into()))
    }

    /// Ids and counts (u64) as numbers.
    pub fn opt_u64(n: Option<u64>) -> Value {
        n.map_or(Value::Null, |n| Value::Num(n as f64))
    }

    pub fn opt_time(t: Option<DateTime<FixedOffset>>) -> Value {
        t.map_or(Value::Null, Value::Time)
    }

    /// Locations in a value (a location, or a list of them), for evidence.
    pub fn locations(&self, out: &mut Vec<Location>) {
        match self {
            Value::Loc(l) => out.push(*l),
            Value::List(v) => v.iter().for_each(|x| x.locations(out)),
            _ => {}
        }
    }

    /// A total order: nulls first, then by type, numbers numerically, versions by release.
    pub fn cmp_total(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Num(a), Value::Num(b)) => a.total_cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Time(a), Value::Time(b)) => a.cmp(b),
            (Value::Version(a), Value::Version(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Loc(a), Value::Loc(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let c = x.cmp_total(y);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Num(_) => 2,
            Value::Str(_) => 3,
            Value::Time(_) => 4,
            Value::Version(_) => 5,
            Value::Loc(_) => 6,
            Value::List(_) => 7,
            Value::Map(_) => 8,
        }
    }

    /// Comparison for `<`, `==` and friends: numbers with numbers (strings that are numbers
    /// count), versions with versions or version strings, otherwise like for like.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Version(a), b) | (b, Value::Version(a)) => {
                let b = match b {
                    Value::Version(v) => *v,
                    Value::Str(s) => Version::parse(s)?,
                    _ => return None,
                };
                let o = a.cmp(&b);
                // Keep the operand order.
                Some(if matches!(self, Value::Version(_)) {
                    o
                } else {
                    o.reverse()
                })
            }
            (Value::Num(a), Value::Num(b)) => a.partial_cmp(b),
            (Value::Num(_), Value::Str(_)) | (Value::Str(_), Value::Num(_)) => {
                self.num()?.partial_cmp(&other.num()?)
            }
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Loc(a), Value::Loc(b)) => Some(a.cmp(b)),
            (Value::List(_), Value::List(_)) => Some(self.cmp_total(other)),
            _ => None,
        }
    }
}

/// Numbers print without a fraction when they have none (ids, counts).
pub fn fmt_num(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) => f.write_str(&fmt_num(*n)),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.3f %:z")),
            Value::Version(v) => write!(f, "{v}"),
            Value::Loc(l) => write!(f, "{}:{}", l.input.0, l.line),
            Value::List(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            Value::Map(m) => {
                for (i, k) in m.keys().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(k)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_compare() {
        assert_eq!(Value::Num(5.0).to_string(), "5");
        assert_eq!(Value::Num(0.25).to_string(), "0.25");
        assert_eq!(
            Value::List(vec![Value::Num(4.0), Value::Num(5.0)]).to_string(),
            "4,5"
        );
        let v = Value::Version(Version::new(5, 2, 1));
        assert_eq!(v.compare(&Value::Str("5.3.0".into())), Some(Ordering::Less));
        assert_eq!(
            Value::Str("5.3.0".into()).compare(&v),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Null.compare(&Value::Num(1.0)), None);
        assert_eq!(
            Value::Str("8".into()).compare(&Value::Num(8.0)),
            Some(Ordering::Equal)
        );
    }
}
