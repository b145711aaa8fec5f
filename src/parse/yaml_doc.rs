//! YAML documents (a tiup topology, a TidbCluster spec) read with the line of every key, also
//! when pasted after a shell prompt or cut short. Parsed by `saphyr` (YAML 1.2, maintained);
//! what it yields is copied into a small owned tree so that readers never see its types.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::Value;
use std::collections::BTreeMap;

/// A YAML node: a mapping keeps its keys in order with their 1-based lines.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(Vec<Entry>),
    List(Vec<Node>),
    Scalar(Value),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub line: u64,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match self {
            Node::Map(es) => es.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn str_of(&self, key: &str) -> Option<String> {
        match &self.get(key)?.value {
            Node::Scalar(Value::String(s)) => Some(s.clone()),
            Node::Scalar(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    pub fn u64_of(&self, key: &str) -> Option<u64> {
        match &self.get(key)?.value {
            Node::Scalar(Value::Number(n)) => n.as_u64(),
            Node::Scalar(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::List(l) => l,
            _ => &[],
        }
    }

    /// The node as JSON (mappings as objects).
    pub fn json(&self) -> Value {
        match self {
            Node::Scalar(v) => v.clone(),
            Node::List(l) => Value::Array(l.iter().map(Node::json).collect()),
            Node::Map(es) => {
                Value::Object(es.iter().map(|e| (e.key.clone(), e.value.json())).collect())
            }
        }
    }
}

/// Flattens a mapping of settings to dotted keys with their lines (`storage:` then
/// `reserve-space:` and `storage.reserve-space:` both give `storage.reserve-space`); lists
/// stay values.
pub fn flatten(
    prefix: &str,
    node: &Node,
    values: &mut BTreeMap<String, Value>,
    lines: &mut BTreeMap<String, u64>,
) {
    let Node::Map(es) = node else {
        return;
    };
    for e in es {
        let key = if prefix.is_empty() {
            e.key.clone()
        } else {
            format!("{prefix}.{}", e.key)
        };
        match &e.value {
            Node::Map(_) => flatten(&key, &e.value, values, lines),
            other => {
                lines.insert(key.clone(), e.line);
                values.insert(key, other.json());
            }
        }
    }
}

/// A loaded document and what was lost on the way.
#[derive(Debug)]
pub struct Loaded {
    pub root: Node,
    /// The line the parser stopped at when the text is cut or broken there: the lines from it
    /// on were not read.
    pub stopped_at: Option<u64>,
    pub error: Option<String>,
}

impl Loaded {
    /// What a cut or broken text lacks, for the input's `partial`.
    pub fn partial_note(&self) -> Option<String> {
        let (at, e) = (self.stopped_at?, self.error.as_ref()?);
        Some(format!(
            "cut or broken at line {at} ({e}): the lines from there on are not read"
        ))
    }
}

/// Finds the document that starts at one of `keys` (see [`span_of`]) and loads it; the error
/// says why there is none.
pub fn load_document(text: &str, keys: &[&str]) -> Result<Loaded, String> {
    let (start, end) = span_of(text, keys).ok_or("no document key at the start of a line")?;
    load(text, start, end).ok_or_else(|| "not readable as YAML".to_string())
}

/// Nesting deeper than this is not a deployment document (and would only cost stack).
const MAX_DEPTH: usize = 48;
/// Attempts at reading a broken text, each time without the lines from the error on.
const ATTEMPTS: usize = 4;

/// Loads the document whose first top-level key is on the line `start` (1-based) and whose
/// text runs to `end` (exclusive): lines outside are blanked, so that lines keep their numbers.
/// A text cut or broken part way is read up to the line before the error.
pub fn load(text: &str, start: usize, end: usize) -> Option<Loaded> {
    let lines: Vec<&str> = text.split('\n').collect();
    if too_deep(text) {
        return None;
    }
    let mut keep_until = end.min(lines.len() + 1);
    let mut first_error: Option<(u64, String)> = None;
    // A last line cut inside a quoted value reads as a whole value: it is the cut.
    let last = lines.len();
    if keep_until > last
        && last >= start
        && lines
            .last()
            .is_some_and(|l| !l.trim().is_empty() && unbalanced_quote(l))
    {
        first_error = Some((last as u64, "a quoted value is not closed".into()));
        keep_until = last;
    }
    for _ in 0..ATTEMPTS {
        let doc: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let n = i + 1;
                if n >= start && n < keep_until {
                    l.trim_end_matches('\r')
                } else {
                    ""
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        match MarkedYaml::load_from_str(&doc) {
            Ok(docs) => {
                let root = docs
                    .first()
                    .map_or(Node::Map(Vec::new()), |d| convert(d, 0));
                return Some(Loaded {
                    root,
                    stopped_at: first_error.as_ref().map(|(l, _)| *l),
                    error: first_error.map(|(_, e)| e),
                });
            }
            Err(e) => {
                let line = e.marker().line() as u64;
                // Marker lines count from 1; an error before the document is not a cut.
                let at = (line.max(1) as usize).max(start + 1);
                if first_error.is_none() {
                    first_error = Some((at as u64, e.info().to_string()));
                }
                if at >= keep_until {
                    keep_until = keep_until.saturating_sub(1);
                } else {
                    keep_until = at;
                }
                if keep_until <= start {
                    return None;
                }
            }
        }
    }
    None
}

/// Whether a line's value starts with a quote that does not close (`host: "10.0.1`); a quote
/// inside a plain value (`don't`) is text.
fn unbalanced_quote(l: &str) -> bool {
    let t = l.trim_start().trim_start_matches("- ");
    let value = match t.find(": ") {
        Some(p) => t[p + 2..].trim_start(),
        None => t,
    };
    let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return false;
    };
    let mut escaped = false;
    for c in value[1..].chars() {
        if escaped {
            escaped = false;
        } else if q == '"' && c == '\\' {
            escaped = true;
        } else if c == q {
            return false;
        }
    }
    true
}

/// Flow collections nested deeper than [`MAX_DEPTH`], or lines indented past it many times:
/// not a config, and not worth the parser's stack.
fn too_deep(text: &str) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => depth = 0,
            _ => {}
        }
    }
    text.split('\n')
        .any(|l| l.len() - l.trim_start_matches(' ').len() > MAX_DEPTH * 8)
}

fn convert(y: &MarkedYaml<'_>, depth: usize) -> Node {
    if depth > MAX_DEPTH {
        return Node::Scalar(Value::Null);
    }
    match &y.data {
        YamlData::Value(s) => Node::Scalar(scalar(s)),
        YamlData::Representation(s, _, _) => Node::Scalar(Value::String(s.to_string())),
        YamlData::Sequence(items) => {
            Node::List(items.iter().map(|i| convert(i, depth + 1)).collect())
        }
        YamlData::Mapping(m) => Node::Map(
            m.iter()
                .map(|(k, v)| Entry {
                    key: key_text(k),
                    line: k.span.start.line() as u64,
                    value: convert(v, depth + 1),
                })
                .collect(),
        ),
        YamlData::Tagged(_, inner) => convert(inner, depth + 1),
        YamlData::Alias(_) | YamlData::BadValue => Node::Scalar(Value::Null),
    }
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => serde_json::Number::from_f64(f.into_inner())
            .map_or_else(|| Value::String(f.to_string()), Value::Number),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn key_text(k: &MarkedYaml<'_>) -> String {
    match &k.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        YamlData::Value(s) => match scalar(s) {
            Value::String(s) => s,
            other => other.to_string(),
        },
        YamlData::Representation(s, _, _) => s.to_string(),
        _ => String::new(),
    }
}

/// The 1-based line of the first line that starts (unindented) with one of `keys` followed by
/// `:`, and the line after the document: the next shell prompt or Markdown fence after it.
pub fn span_of(text: &str, keys: &[&str]) -> Option<(usize, usize)> {
    let mut start = None;
    for (i, l) in text.split('\n').enumerate() {
        let n = i + 1;
        match start {
            None => {
                if keys.iter().any(|k| top_key(l, k)) {
                    start = Some(n);
                }
            }
            Some(s) => {
                let t = l.trim_start();
                if t.starts_with("```") || is_prompt(l) {
                    return Some((s, n));
                }
            }
        }
    }
    start.map(|s| (s, usize::MAX))
}

/// Whether a line is `key:` at the start of a line (a top-level YAML key).
pub fn top_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .and_then(|r| r.strip_prefix(':'))
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\r', '\t']))
}

/// A shell prompt line (`$ cat x`, `[root@host ~]# …`, `root@control:/x# cat y`).
fn is_prompt(l: &str) -> bool {
    let t = l.trim_start();
    t.starts_with("$ ")
        || (t.starts_with('[') && (t.contains("]$ ") || t.contains("]# ")))
        || (t.contains('@') && (t.contains("$ ") || t.contains("# ")) && !t.contains(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_lines_and_a_prompt_is_not_the_document() {
        let text = "root@control:/tiup-cluster# cat x.yaml\nglobal:\n  user: tidb\ntikv_servers:\n  - host: 10.0.1.1\n    port: 20161\n";
        let (s, e) = span_of(text, &["global", "tikv_servers"]).expect("a document");
        assert_eq!(s, 2);
        let l = load(text, s, e).expect("loaded");
        let g = l.root.get("global").expect("global");
        assert_eq!(g.line, 2);
        assert_eq!(g.value.str_of("user").as_deref(), Some("tidb"));
        let t = &l.root.get("tikv_servers").expect("tikv").value;
        assert_eq!(t.items()[0].u64_of("port"), Some(20161));
        assert!(l.stopped_at.is_none());
    }

    #[test]
    fn a_cut_document_keeps_the_lines_before_the_cut() {
        let text = "global:\n  user: tidb\ntikv_servers:\n  - host: 10.0.1.1\n  - host: \"10.0.1";
        let l = load(text, 1, usize::MAX).expect("loaded");
        assert_eq!(l.stopped_at, Some(5));
        assert_eq!(
            l.root.get("tikv_servers").map(|e| e.value.items().len()),
            Some(1)
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}", "[".repeat(10_000));
        assert!(load(&text, 1, usize::MAX).is_none());
    }
}
