//! Log events as every log parser yields them, and warning/error template counts.

use super::Location;
use chrono::{DateTime, FixedOffset};

/// Log severity, normalised across TiKV/PD/TiDB (unified and legacy) and CockroachDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// Accepts every spelling real logs use: `INFO`, `info`, `WARN`, `WARNING`, `warning`,
    /// `ERRO`, `CRIT`, `DEBG`, `TRCE`, `DPANIC`, `PANIC`, `CRITICAL`.
    pub fn parse(s: &str) -> Option<Level> {
        // Called for every entry head: compare in place, no upper-cased copy.
        const NAMES: [(&str, Level); 14] = [
            ("INFO", Level::Info),
            ("WARN", Level::Warn),
            ("ERROR", Level::Error),
            ("DEBUG", Level::Debug),
            ("TRACE", Level::Trace),
            ("FATAL", Level::Fatal),
            ("WARNING", Level::Warn),
            ("ERRO", Level::Error),
            ("DEBG", Level::Debug),
            ("TRCE", Level::Trace),
            ("CRIT", Level::Fatal),
            ("CRITICAL", Level::Fatal),
            ("PANIC", Level::Fatal),
            ("DPANIC", Level::Fatal),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.len() == s.len() && n.eq_ignore_ascii_case(s))
            .map(|(_, l)| *l)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

/// One log entry that the prefilter selected, fully parsed and owned.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub loc: Location,
    pub time: Option<DateTime<FixedOffset>>,
    pub level: Option<Level>,
    /// The emitting source location (`kv.rs:729`), when the format carries one.
    pub source: Option<String>,
    pub message: String,
    /// `[key=value]` fields (unified format), tags (CockroachDB) or JSON keys, decoded.
    pub fields: Vec<(String, String)>,
    /// The raw line, cut for evidence excerpts.
    pub excerpt: String,
    /// Prefilter groups whose needles this line hit (sorted, unique).
    pub groups: Vec<u32>,
    /// A PD operator the line names (its `operator` field), read once by the parser.
    pub operator: Option<Box<super::operator::Operator>>,
}

impl LogEvent {
    /// An empty event at a location, to be filled by a parser.
    pub fn at(loc: Location) -> LogEvent {
        LogEvent {
            loc,
            time: None,
            level: None,
            source: None,
            message: String::new(),
            fields: Vec::new(),
            excerpt: String::new(),
            groups: Vec::new(),
            operator: None,
        }
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// First numeric value among the given field names (`region-id`, `region_id`, ...).
    pub fn field_u64(&self, keys: &[&str]) -> Option<u64> {
        keys.iter()
            .find_map(|k| self.field(k).and_then(|v| v.trim().parse().ok()))
    }

    pub fn in_group(&self, g: u32) -> bool {
        self.groups.binary_search(&g).is_ok()
    }
}

/// A warning/error message template (ids and numbers masked) and how often it occurred.
#[derive(Clone, Debug)]
pub struct TemplateStat {
    pub template: String,
    pub level: Level,
    pub count: u64,
    pub first: Option<DateTime<FixedOffset>>,
    pub last: Option<DateTime<FixedOffset>>,
    /// The first occurrence.
    pub sample: Location,
    pub sample_excerpt: String,
    /// Occurrences per unix minute.
    pub per_minute: std::collections::BTreeMap<i64, u32>,
    /// Some occurrence also hit a rule's needle (a known pattern).
    pub known: bool,
}
