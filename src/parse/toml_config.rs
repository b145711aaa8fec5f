//! TiKV, PD and TiDB TOML config files (`tikv.toml`, `pd.toml`, tiup's `conf/tikv.toml`,
//! `last_tikv.toml`), also pasted into a shell session or a Markdown fence, and cut copies.
//!
//! Lines that are not TOML (a prompt, a fence, prose) are blanked before parsing, so every key
//! keeps its own line for evidence. The `toml` crate's recovering parser keeps every complete
//! `key = value` and reports the lines it could not read; those make the input partial.

use super::Collected;
use crate::model::{Component, ConfigFacts, ConfigRecord, ConfigSource, InputId, Kind, Location};
use serde_json::Value;
use std::collections::BTreeMap;
use toml::de::{DeTable, DeValue};

/// Sections only one component's config has (TiKV has `[server]` and `[security]` too, but so
/// do the others).
const TIKV_SECTIONS: &[&str] = &[
    "raftstore",
    "rocksdb",
    "raftdb",
    "storage",
    "coprocessor",
    "coprocessor-v2",
    "readpool",
    "raft-engine",
    "import",
    "gc",
    "cdc",
    "resolved-ts",
    "backup",
    "backup-stream",
    "log-backup",
    "resource-metering",
    "causal-ts",
    "in-memory-engine",
    "memory",
    "quota",
    "split",
];
const PD_SECTIONS: &[&str] = &[
    "replication",
    "schedule",
    "pd-server",
    "label-property",
    "dashboard",
    "keyspace",
    "replication-mode",
    "namespace-classifier",
    "controller",
];
const TIDB_SECTIONS: &[&str] = &[
    "performance",
    "prepared-plan-cache",
    "opentracing",
    "proxy-protocol",
    "tikv-client",
    "binlog",
    "status",
    "stmt-summary",
    "isolation-read",
    "experimental",
    "txn-local-latencies",
    "plugin",
    "instance",
];
/// Top-level keys only one component has.
const PD_KEYS: &[&str] = &[
    "client-urls",
    "peer-urls",
    "advertise-client-urls",
    "advertise-peer-urls",
    "initial-cluster",
    "initial-cluster-state",
    "tso-save-interval",
    "enable-grpc-gateway",
    "quota-backend-bytes",
    "auto-compaction-mode",
];
const TIDB_KEYS: &[&str] = &[
    "token-limit",
    "oom-action",
    "mem-quota-query",
    "split-table",
    "run-ddl",
    "lower-case-table-names",
    "compatible-kill-query",
    "oom-use-tmp-storage",
];

/// The component a config belongs to, from its section headers and top-level keys; `None` for
/// text that is not such a config. The file name breaks ties (`tikv.toml`, `last_pd.toml`).
pub fn looks_like(text: &str, name: &str) -> Option<Kind> {
    let (mut tikv, mut pd, mut tidb) = (0usize, 0usize, 0usize);
    let (mut toml_lines, mut other) = (0usize, 0usize);
    let mut section = false;
    for line in text.lines().take(400) {
        let t = line.trim();
        // Comments, and the fences of a Markdown paste, say nothing either way.
        if t.is_empty() || t.starts_with('#') || t.starts_with("```") {
            continue;
        }
        if let Some(h) = header(t) {
            toml_lines += 1;
            section = true;
            let top = h.split('.').next().unwrap_or(h);
            tikv += usize::from(TIKV_SECTIONS.contains(&top));
            pd += usize::from(PD_SECTIONS.contains(&top));
            tidb += usize::from(TIDB_SECTIONS.contains(&top));
        } else if let Some(k) = key_of(t) {
            toml_lines += 1;
            if !section {
                pd += usize::from(PD_KEYS.contains(&k));
                tidb += usize::from(TIDB_KEYS.contains(&k));
            }
        } else {
            other += 1;
        }
    }
    let known = tikv + pd + tidb;
    // A few known sections or keys with TOML making up much of the text (a pasted session or
    // a ticket has other lines around it), or one known section that is most of a snippet.
    let enough = match known {
        0 => false,
        1 => toml_lines >= 2 && other * 2 <= toml_lines,
        _ => toml_lines >= 3 && other <= toml_lines * 2,
    };
    if !enough {
        return None;
    }
    let file = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    let named = |c: &str| file.starts_with(c) || file.starts_with(&format!("last_{c}"));
    let best = tikv.max(pd).max(tidb);
    let tied = [tikv, pd, tidb].iter().filter(|&&n| n == best).count() > 1;
    Some(if tied && named("tikv") {
        Kind::TikvConfig
    } else if tied && named("pd") {
        Kind::PdConfig
    } else if tied && named("tidb") {
        Kind::TidbConfig
    } else if tikv == best {
        Kind::TikvConfig
    } else if pd == best {
        Kind::PdConfig
    } else {
        Kind::TidbConfig
    })
}

/// A section header's name (`[raftstore]`, `[rocksdb.defaultcf]`, `[[schedule.schedulers-v2]]`).
fn header(t: &str) -> Option<&str> {
    let t = t.split(" #").next().unwrap_or(t).trim_end();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(inner)
        .trim();
    let ok = !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'"' | b' '));
    ok.then_some(inner)
}

/// The key of a `key = value` line (bare, dotted or quoted keys).
fn key_of(t: &str) -> Option<&str> {
    let (k, v) = t.split_once('=')?;
    let k = k.trim();
    let bare = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let quoted = k.len() >= 2 && k.starts_with('"') && k.ends_with('"');
    (!v.trim().is_empty() && (bare(k) || quoted)).then_some(k)
}

/// What a TOML text holds: its settings flattened to dotted keys with their lines, and the
/// lines that could not be read.
#[derive(Debug, Default)]
pub struct TomlSettings {
    pub values: BTreeMap<String, Value>,
    pub lines: BTreeMap<String, u64>,
    /// Lines the parser rejected (a cut value, invalid TOML), 1-based in the text read.
    pub bad_lines: Vec<u64>,
    /// Lines that are not TOML at all (a prompt, a fence, prose), blanked before parsing.
    pub foreign_lines: u64,
}

/// Nesting deeper than this is not a config (and would only cost stack).
const MAX_DEPTH: usize = 32;

/// Reads the settings of a TOML text; `first_line` is the line the text starts at in its input
/// (a config embedded in a YAML block starts below its key).
pub fn settings(text: &str, first_line: u64) -> TomlSettings {
    let (clean, foreign_lines) = blank_foreign_lines(text);
    let mut out = TomlSettings {
        foreign_lines,
        ..TomlSettings::default()
    };
    let starts = line_starts(&clean);
    let line_of = |off: usize| match starts.binary_search(&off) {
        Ok(i) => i as u64 + first_line,
        Err(i) => (i as u64).saturating_sub(1) + first_line,
    };
    let (table, errors) = DeTable::parse_recoverable(&clean);
    for e in &errors {
        if let Some(span) = e.span() {
            out.bad_lines.push(line_of(span.start));
        }
    }
    out.bad_lines.sort_unstable();
    out.bad_lines.dedup();
    flatten("", table.get_ref(), &line_of, 0, &mut out);
    // The parser recovers a value cut short (`capacity = "10G`): such a value is not the
    // setting, so keys on rejected lines are dropped.
    let bad = &out.bad_lines;
    let dropped: Vec<String> = out
        .lines
        .iter()
        .filter(|(_, l)| bad.binary_search(l).is_ok())
        .map(|(k, _)| k.clone())
        .collect();
    for k in dropped {
        out.values.remove(&k);
        out.lines.remove(&k);
    }
    out
}

fn flatten(
    prefix: &str,
    table: &DeTable<'_>,
    line_of: &dyn Fn(usize) -> u64,
    depth: usize,
    out: &mut TomlSettings,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        match v.get_ref() {
            DeValue::Table(t) => flatten(&key, t, line_of, depth + 1, out),
            other => {
                out.lines.insert(key.clone(), line_of(k.span().start));
                out.values.insert(key, json_of(other, 0));
            }
        }
    }
}

/// A TOML value as JSON (datetimes as their text, non-finite floats as strings).
fn json_of(v: &DeValue<'_>, depth: usize) -> Value {
    match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(i.as_str().to_string()),
            }
        }
        DeValue::Float(f) => {
            let text = f.as_str().replace('_', "");
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::String(text), Value::Number)
        }
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(a) if depth < MAX_DEPTH => {
            Value::Array(a.iter().map(|e| json_of(e.get_ref(), depth + 1)).collect())
        }
        DeValue::Table(t) if depth < MAX_DEPTH => Value::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), json_of(v.get_ref(), depth + 1)))
                .collect(),
        ),
        DeValue::Array(_) | DeValue::Table(_) => Value::Null,
    }
}

fn line_starts(s: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|p| p + 1));
    v
}

/// The text with every line that is not TOML blanked (line count and offsets of the rest
/// kept), and how many were blanked. A value's continuation lines (a multi-line array or
/// string) are TOML.
fn blank_foreign_lines(text: &str) -> (String, u64) {
    let mut out = String::with_capacity(text.len());
    let mut foreign = 0u64;
    let mut depth = 0i64;
    let mut in_multiline: Option<&str> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let t = body.trim();
        let keep = if let Some(delim) = in_multiline {
            if t.contains(delim) {
                in_multiline = None;
            }
            true
        } else if depth > 0 {
            depth += bracket_balance(t);
            true
        } else if t.is_empty() || t.starts_with('#') || header(t).is_some() {
            true
        } else if key_of(t).is_some() {
            let value = t.split_once('=').map_or("", |(_, v)| v);
            for delim in ["\"\"\"", "'''"] {
                if value.matches(delim).count() % 2 == 1 {
                    in_multiline = Some(delim);
                }
            }
            depth = bracket_balance(value).max(0);
            true
        } else {
            false
        };
        if keep {
            out.push_str(line);
        } else {
            foreign += 1;
            // Keep the line end so that every later line keeps its number.
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    (out, foreign)
}

/// Opening minus closing brackets outside strings and comments.
fn bracket_balance(s: &str) -> i64 {
    let mut n = 0i64;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => break,
            (None, '[' | '{') => n += 1,
            (None, ']' | '}') => n -= 1,
            _ => {}
        }
    }
    n
}

/// The component a config kind is of.
pub fn component_of(kind: Kind) -> Component {
    match kind {
        Kind::PdConfig => Component::Pd,
        Kind::TidbConfig => Component::Tidb,
        _ => Component::Tikv,
    }
}

/// Turns settings into a config record: PD's `location-labels` become the comma-joined text
/// pd-ctl prints, so that rules compare one form.
pub fn record(
    component: Component,
    source: ConfigSource,
    node: Option<String>,
    mut values: BTreeMap<String, Value>,
    lines: BTreeMap<String, u64>,
    loc: Location,
) -> ConfigRecord {
    if component == Component::Pd {
        for (k, v) in &mut values {
            if k.ends_with("location-labels")
                && let Value::Array(items) = v
            {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                *v = Value::String(joined.join(","));
            }
        }
    }
    ConfigRecord {
        component,
        node,
        source,
        values,
        lines,
        sections: None,
        loc,
    }
}

/// Reads a config file of a kind [`looks_like`] chose.
pub fn read(text: &str, input: InputId, kind: Kind) -> Collected<ConfigFacts> {
    let s = settings(text, 1);
    let mut c = Collected::<ConfigFacts>::default();
    let n = s.values.len() as u64;
    if let Some(&first) = s.bad_lines.first() {
        let cut = s.bad_lines.last().is_some_and(|&l| is_last_line(text, l));
        c.partial = Some(format!(
            "{} {} not read ({}line {first}{}); settings read: {n}",
            s.bad_lines.len(),
            if s.bad_lines.len() == 1 {
                "line"
            } else {
                "lines"
            },
            if cut { "cut at " } else { "invalid TOML at " },
            if s.bad_lines.len() > 1 {
                " and later"
            } else {
                ""
            }
        ));
        c.unparsed_lines = Some(s.bad_lines.len() as u64);
    }
    // A file whose settings are all commented out (a template) still says: defaults.
    let first = s.lines.values().min().copied().unwrap_or(1);
    let loc = Location { input, line: first };
    c.records = n;
    c.facts.configs.push(record(
        component_of(kind),
        ConfigSource::File,
        None,
        s.values,
        s.lines,
        loc,
    ));
    c
}

/// Whether a 1-based line is the text's last non-blank line, cut (no line end after it).
fn is_last_line(text: &str, line: u64) -> bool {
    let trimmed = text.trim_end_matches([' ', '\t']);
    !trimmed.ends_with('\n') && trimmed.lines().count() as u64 == line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_decide_the_component() {
        let tikv = "[storage]\nreserve-space = \"0MB\"\n[raftstore]\ncapacity = \"100GB\"\n";
        assert_eq!(looks_like(tikv, "x"), Some(Kind::TikvConfig));
        let pd = "name = \"pd\"\nclient-urls = \"http://0.0.0.0:2379\"\n[replication]\nmax-replicas = 3\n";
        assert_eq!(looks_like(pd, "x"), Some(Kind::PdConfig));
        let tidb = "token-limit = 1000\n[performance]\nmax-procs = 0\n[prepared-plan-cache]\nenabled = true\n";
        assert_eq!(looks_like(tidb, "x"), Some(Kind::TidbConfig));
        // Other TOML (a Cargo manifest, a rule file) is not a config.
        let cargo = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[dependencies]\nserde = \"1\"\n";
        assert_eq!(looks_like(cargo, "Cargo.toml"), None);
    }

    #[test]
    fn every_key_keeps_its_line_and_a_cut_copy_keeps_whole_lines() {
        let text = "$ cat conf/tikv.toml\n[storage]\nreserve-space = \"5GB\"\n\n[raftstore]\ncapacity = \"10G";
        let s = settings(text, 1);
        assert_eq!(s.values["storage.reserve-space"], "5GB");
        assert_eq!(s.lines["storage.reserve-space"], 3);
        assert_eq!(s.foreign_lines, 1);
        assert!(!s.values.contains_key("raftstore.capacity"));
        assert_eq!(s.bad_lines, vec![6]);
        let c = read(text, InputId(0), Kind::TikvConfig);
        assert_eq!(c.records, 1);
        assert!(c.partial.as_deref().unwrap_or("").contains("cut at line 6"));
    }

    #[test]
    fn pd_location_labels_read_as_pdctl_prints_them() {
        let text = "[replication]\nmax-replicas = 5\nlocation-labels = [\"zone\", \"host\"]\n";
        let c = read(text, InputId(0), Kind::PdConfig);
        let r = &c.facts.configs[0];
        assert_eq!(r.get_f64("max-replicas"), Some(5.0));
        assert_eq!(
            r.get("replication.location-labels"),
            Some(&Value::from("zone,host"))
        );
        assert_eq!(r.loc_of("replication.max-replicas").line, 2);
    }
}
