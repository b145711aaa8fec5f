//! The expression language of rule queries: literals (numbers with duration and size units,
//! strings, lists), columns, `$parameters`, operators, and calls (functions, aggregates over a
//! group, aggregates over a table with `where`).
//!
//! ```text
//! state == "Offline" and region_count > 0
//! count(stores where up and engine == "tikv" and id != outer.id) < $max_replicas
//! heartbeat_age > $max_store_down_time and not stale
//! field("region-id") in $leaderless
//! ```

use std::fmt;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Expr>),
    /// A column of the current row, or a name bound by `let` (resolved at evaluation).
    Name(String),
    /// `outer.col`: a column of the row that encloses a table aggregate.
    Outer(String),
    /// `$name`: a rule parameter or a `given` value.
    Param(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a[b]`: an element of a list, a value of a map.
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    /// `agg(table where cond, value)`: an aggregate over a whole table (or, in a region, over
    /// its own peers).
    TableAgg {
        func: String,
        table: String,
        cond: Option<Box<Expr>>,
        value: Option<Box<Expr>>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Add,
    Sub,
    Mul,
    Div,
}

/// Aggregates: over the rows of a group (`count()`, `max(x)`), or over a table
/// (`count(stores where up)`).
pub const AGGREGATES: &[&str] = &[
    "count", "sum", "min", "max", "first", "last", "list", "distinct", "any", "all", "exists",
    "rows", "map_of", "increase", "growth", "rate",
];

/// A syntax error with the byte offset it was found at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Param(String),
    Sym(&'static str),
}

const SYMS: &[&str] = &[
    "==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/",
];

/// Duration and size units a number may carry: seconds and bytes.
fn unit_factor(u: &str) -> Option<f64> {
    Some(match u {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0f64.powi(4),
        _ => return None,
    })
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            let digits: String = src[start..i].chars().filter(|&c| c != '_').collect();
            let mut n: f64 = digits.parse().map_err(|_| SyntaxError {
                at: start,
                message: format!("bad number {:?}", &src[start..i]),
            })?;
            // A unit directly after the digits: 30m, 1h, 8GiB, 100ms.
            let us = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i > us {
                let u = &src[us..i];
                n *= unit_factor(u).ok_or_else(|| SyntaxError {
                    at: us,
                    message: format!("unknown unit {u:?} (ms, s, m, h, d, B, KiB, MiB, GiB, TiB)"),
                })?;
            }
            out.push((start, Tok::Num(n)));
            continue;
        }
        if c == b'"' || c == b'\'' {
            let q = c;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = b.get(i) else {
                    return Err(SyntaxError {
                        at: start,
                        message: "string is not closed".into(),
                    });
                };
                if ch == q {
                    i += 1;
                    break;
                }
                if ch == b'\\' && i + 1 < b.len() {
                    let e = b[i + 1];
                    s.push(match e {
                        b'n' => '\n',
                        b't' => '\t',
                        other => other as char,
                    });
                    i += 2;
                    continue;
                }
                let ch_len = src[i..].chars().next().map_or(1, char::len_utf8);
                s.push_str(&src[i..i + ch_len]);
                i += ch_len;
            }
            out.push((start, Tok::Str(s)));
            continue;
        }
        if c == b'$' || c.is_ascii_alphabetic() || c == b'_' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            out.push((
                start,
                match word.strip_prefix('$') {
                    Some(p) if !p.is_empty() => Tok::Param(p.to_string()),
                    Some(_) => {
                        return Err(SyntaxError {
                            at: start,
                            message: "`$` needs a name".into(),
                        });
                    }
                    None => Tok::Ident(word.to_string()),
                },
            ));
            continue;
        }
        match SYMS.iter().find(|s| src[i..].starts_with(**s)) {
            Some(s) => {
                out.push((start, Tok::Sym(s)));
                i += s.len();
            }
            None => {
                return Err(SyntaxError {
                    at: start,
                    message: format!("unexpected {:?}", src[i..].chars().next().unwrap_or(' ')),
                });
            }
        }
    }
    Ok(out)
}

/// Parses an expression. `tables` names the tables an aggregate may range over.
pub fn parse(src: &str, tables: &[&str]) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.len(),
        tables,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(p.err("unexpected text after the expression"));
    }
    Ok(e)
}

struct Parser<'t> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    tables: &'t [&'t str],
}

impl Parser<'_> {
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.0)
    }

    fn err(&self, m: &str) -> SyntaxError {
        SyntaxError {
            at: self.at(),
            message: m.to_string(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|t| &t.1)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x == w)
    }

    fn sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> Result<(), SyntaxError> {
        if self.sym(s) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{s}`")))
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.and()?;
        while self.word("or") {
            self.pos += 1;
            let r = self.and()?;
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.not()?;
        while self.word("and") {
            self.pos += 1;
            let r = self.not()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr, SyntaxError> {
        if self.word("not") {
            self.pos += 1;
            let e = self.not()?;
            return Ok(Expr::Unary(UnOp::Not, Box::new(e)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, SyntaxError> {
        let l = self.add()?;
        let op = match self.peek() {
            Some(Tok::Sym("==")) => BinOp::Eq,
            Some(Tok::Sym("!=")) => BinOp::Ne,
            Some(Tok::Sym("<")) => BinOp::Lt,
            Some(Tok::Sym("<=")) => BinOp::Le,
            Some(Tok::Sym(">")) => BinOp::Gt,
            Some(Tok::Sym(">=")) => BinOp::Ge,
            Some(Tok::Ident(w)) => match w.as_str() {
                "in" => BinOp::In,
                "contains" => BinOp::Contains,
                "starts_with" => BinOp::StartsWith,
                "ends_with" => BinOp::EndsWith,
                "matches" => BinOp::Matches,
                "not" if matches!(self.peek2(), Some(Tok::Ident(x)) if x == "in") => {
                    self.pos += 1;
                    BinOp::NotIn
                }
                _ => return Ok(l),
            },
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = self.add()?;
        Ok(Expr::Binary(op, Box::new(l), Box::new(r)))
    }

    fn add(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.mul()?;
        loop {
            let op = if self.sym("+") {
                BinOp::Add
            } else if self.sym("-") {
                BinOp::Sub
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.mul()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn mul(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.unary()?;
        loop {
            let op = if self.sym("*") {
                BinOp::Mul
            } else if self.sym("/") {
                BinOp::Div
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.unary()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.sym("-") {
            self.pos += 1;
            let e = self.unary()?;
            return Ok(Expr::Unary(UnOp::Neg, Box::new(e)));
        }
        let mut e = self.primary()?;
        loop {
            if self.sym("[") {
                self.pos += 1;
                let i = self.expr()?;
                self.eat_sym("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else if self.sym(".") {
                // `x.y` on a value: the field `y` of a map.
                self.pos += 1;
                let Some(Tok::Ident(f)) = self.peek().cloned() else {
                    return Err(self.err("expected a name after `.`"));
                };
                self.pos += 1;
                e = Expr::Index(Box::new(e), Box::new(Expr::Str(f)));
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.err("expression ends too early"));
        };
        self.pos += 1;
        match t {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Param(p) => Ok(Expr::Param(p)),
            Tok::Sym("(") => {
                let e = self.expr()?;
                self.eat_sym(")")?;
                Ok(e)
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                if !self.sym("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.sym(",") {
                            self.pos += 1;
                            continue;
                        }
                        break;
                    }
                }
                self.eat_sym("]")?;
                Ok(Expr::List(items))
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "null" => Ok(Expr::Null),
                "outer" if self.sym(".") => {
                    self.pos += 1;
                    let Some(Tok::Ident(c)) = self.peek().cloned() else {
                        return Err(self.err("expected a column after `outer.`"));
                    };
                    self.pos += 1;
                    Ok(Expr::Outer(c))
                }
                _ if self.sym("(") => {
                    self.pos += 1;
                    self.call(w)
                }
                _ => Ok(Expr::Name(w)),
            },
            Tok::Sym(s) => {
                self.pos -= 1;
                Err(self.err(&format!("unexpected `{s}`")))
            }
        }
    }

    /// The arguments of `name(`; the `(` is eaten.
    fn call(&mut self, name: String) -> Result<Expr, SyntaxError> {
        // `agg(table where cond, value)` / `agg(table)`.
        if let Some(Tok::Ident(t)) = self.peek().cloned()
            && AGGREGATES.contains(&name.as_str())
            && self.tables.contains(&t.as_str())
            && matches!(self.peek2(), Some(Tok::Ident(w)) if w == "where")
                | matches!(self.peek2(), Some(Tok::Sym(")")) | Some(Tok::Sym(",")))
        {
            self.pos += 1;
            let cond = if self.word("where") {
                self.pos += 1;
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            let value = if self.sym(",") {
                self.pos += 1;
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            self.eat_sym(")")?;
            return Ok(Expr::TableAgg {
                func: name,
                table: t,
                cond,
                value,
            });
        }
        let mut args = Vec::new();
        if !self.sym(")") {
            loop {
                args.push(self.expr()?);
                if self.sym(",") {
                    self.pos += 1;
                    continue;
                }
                break;
            }
        }
        self.eat_sym(")")?;
        Ok(Expr::Call(name, args))
    }
}

impl Expr {
    /// Every name, function and table the expression uses, for load-time checks.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::List(v) | Expr::Call(_, v) => v.iter().for_each(|e| e.walk(f)),
            Expr::Unary(_, e) => e.walk(f),
            Expr::Binary(_, a, b) | Expr::Index(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::TableAgg { cond, value, .. } => {
                if let Some(c) = cond {
                    c.walk(f);
                }
                if let Some(v) = value {
                    v.walk(f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s, &["stores", "regions"]).unwrap()
    }

    #[test]
    fn precedence_and_units() {
        assert_eq!(
            p("a == 1 or b and not c"),
            Expr::Binary(
                BinOp::Or,
                Box::new(Expr::Binary(
                    BinOp::Eq,
                    Box::new(Expr::Name("a".into())),
                    Box::new(Expr::Num(1.0))
                )),
                Box::new(Expr::Binary(
                    BinOp::And,
                    Box::new(Expr::Name("b".into())),
                    Box::new(Expr::Unary(UnOp::Not, Box::new(Expr::Name("c".into()))))
                ))
            )
        );
        assert_eq!(p("30m"), Expr::Num(1800.0));
        assert_eq!(p("8GiB"), Expr::Num(8.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(p("1 + 2 * 3"), p("1 + (2 * 3)"));
        assert!(matches!(
            p("x not in [1, 2]"),
            Expr::Binary(BinOp::NotIn, _, _)
        ));
    }

    #[test]
    fn table_aggregates_and_calls() {
        match p("count(stores where up and id != outer.id)") {
            Expr::TableAgg {
                func, table, cond, ..
            } => {
                assert_eq!((func.as_str(), table.as_str()), ("count", "stores"));
                assert!(cond.is_some());
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(
            p("field('region-id')"),
            Expr::Call("field".into(), vec![Expr::Str("region-id".into())])
        );
        assert!(matches!(p("count()"), Expr::Call(_, v) if v.is_empty()));
        assert!(matches!(p("$x[id]"), Expr::Index(_, _)));
    }

    #[test]
    fn errors_say_where() {
        let e = parse("a == ", &[]).unwrap_err();
        assert_eq!(e.at, 5);
        assert!(parse("'open", &[]).is_err());
        assert!(parse("1 2", &[]).is_err());
        assert!(parse("3 parsecs", &[]).is_err());
        assert!(parse("3parsecs", &[]).is_err());
    }
}
