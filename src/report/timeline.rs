//! `kvtriage timeline`: one time-ordered stream of the significant events of every node,
//! like `cockroach debug merge-logs` but across TiKV, PD, TiDB and CockroachDB.

use crate::model::Analysis;
use crate::model::{Level, LogEvent};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::fmt::Write;

/// Which events a timeline lists.
pub struct TimelineFilter {
    /// Entries at or above this level are listed (needle hits of rules always are).
    pub level: Level,
    /// Only these nodes (node names as shown, or a substring of the path).
    pub nodes: Vec<String>,
    pub grep: Option<regex::Regex>,
}

/// One line of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEvent {
    /// RFC 3339 with the log's own offset.
    pub time: String,
    pub node: String,
    pub path: String,
    pub line: u64,
    pub level: String,
    pub kind: &'static str,
    pub message: String,
    #[serde(skip)]
    instant: DateTime<FixedOffset>,
}

pub struct Timeline {
    pub events: Vec<TimelineEvent>,
    /// Events left out because their entry carries no time.
    pub untimed: usize,
}

/// What sort of event a log line is, for people scanning the stream.
fn kind_of(e: &LogEvent) -> &'static str {
    if let Some(ev) = e.field("event") {
        return match ev {
            "node_restart" | "node_join" => "restart",
            "node_decommissioning" | "node_decommissioned" | "node_recommissioned" => {
                "decommission"
            }
            _ => "event",
        };
    }
    let m = &e.message;
    if m.contains("clock synchronization error")
        || m.contains("jump backward")
        || m.contains("jumps backward")
    {
        "clock"
    } else if m.starts_with("Welcome to") || m.contains("node startup completed") {
        "restart"
    } else if m.starts_with("Release Version") || e.field("release-version").is_some() {
        "version"
    } else if m.contains("decommission") {
        "decommission"
    } else if m.contains("drain") || m.contains("shutdown") {
        "drain"
    } else if m.contains("operator") {
        "operator"
    } else if m.contains("leader changed") || m.contains("became leader") {
        "leader"
    } else {
        match e.level {
            Some(Level::Error | Level::Fatal) => "error",
            Some(Level::Warn) => "warning",
            _ => "pattern",
        }
    }
}

/// The events of an analysis (read with `keep_level` at the filter's level) that the filter
/// lists, ordered by instant across zones.
pub fn select(analysis: &Analysis, opts: &TimelineFilter) -> Timeline {
    let mut events = Vec::new();
    let mut untimed = 0;
    for e in &analysis.facts.events {
        let Some(meta) = analysis.input(e.loc.input) else {
            continue;
        };
        if !meta.kind.is_log() {
            continue;
        }
        let Some(t) = e.time else {
            untimed += 1;
            continue;
        };
        // Needle hits (rules' patterns, restarts) always show; other lines by level.
        if e.groups.is_empty() && e.level.is_none_or(|l| l < opts.level) {
            continue;
        }
        let node = meta.node.clone().unwrap_or_else(|| "-".into());
        if !opts.nodes.is_empty()
            && !opts
                .nodes
                .iter()
                .any(|n| *n == node || meta.path.contains(n.as_str()))
        {
            continue;
        }
        if let Some(re) = &opts.grep
            && !re.is_match(&e.excerpt)
            && !re.is_match(&e.message)
        {
            continue;
        }
        let mut message = e.message.clone();
        for (k, v) in e
            .fields
            .iter()
            .filter(|(k, _)| !k.starts_with("ev."))
            .take(6)
        {
            let _ = write!(message, " [{k}={v}]");
        }
        events.push(TimelineEvent {
            time: t.to_rfc3339(),
            node,
            path: meta.path.clone(),
            line: e.loc.line,
            level: e.level.map_or("-", Level::as_str).to_string(),
            kind: kind_of(e),
            message,
            instant: t,
        });
    }
    // One order for everyone: the instant (zones respected), then file and line.
    events.sort_by(|a, b| {
        a.instant
            .cmp(&b.instant)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
    });
    Timeline { events, untimed }
}

pub fn render_text(t: &Timeline) -> String {
    let mut out = String::new();
    let node_w = t
        .events
        .iter()
        .map(|e| e.node.len())
        .max()
        .unwrap_or(1)
        .min(24);
    for e in &t.events {
        let _ = writeln!(
            out,
            "{} {:<node_w$} {:<5} {:<12} {}:{}  {}",
            e.time,
            super::escape(&e.node),
            e.level.to_uppercase(),
            e.kind,
            super::escape(&e.path),
            e.line,
            super::escape(&e.message)
        );
    }
    out
}

pub fn render_jsonl(t: &Timeline) -> String {
    let mut out = String::new();
    for e in &t.events {
        if let Ok(s) = serde_json::to_string(e) {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

/// `--templates`: warning/error message templates per node, most frequent first.
pub fn render_templates(a: &Analysis, json: bool) -> String {
    #[derive(Serialize)]
    struct Row<'a> {
        node: String,
        count: u64,
        level: &'a str,
        template: &'a str,
        first: Option<String>,
        last: Option<String>,
        sample: String,
        known: bool,
    }
    let mut rows: Vec<Row<'_>> = a
        .facts
        .templates
        .iter()
        .map(|t| {
            let meta = a.input(t.sample.input);
            Row {
                node: meta
                    .and_then(|m| m.node.clone())
                    .unwrap_or_else(|| meta.map(|m| m.path.clone()).unwrap_or_default()),
                count: t.count,
                level: t.level.as_str(),
                template: &t.template,
                first: t.first.map(|x| x.to_rfc3339()),
                last: t.last.map(|x| x.to_rfc3339()),
                sample: format!(
                    "{}:{}",
                    meta.map(|m| m.path.as_str()).unwrap_or(""),
                    t.sample.line
                ),
                known: t.known,
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then_with(|| x.node.cmp(&y.node))
            .then_with(|| x.template.cmp(y.template))
    });
    let mut out = String::new();
    for r in &rows {
        if json {
            if let Ok(s) = serde_json::to_string(r) {
                out.push_str(&s);
                out.push('\n');
            }
        } else {
            let _ = writeln!(
                out,
                "{:>8} {:<5} {:<21} {}  ({} .. {}, e.g. {}{})",
                r.count,
                r.level.to_uppercase(),
                super::escape(&r.node),
                super::escape(r.template),
                r.first.as_deref().unwrap_or("?"),
                r.last.as_deref().unwrap_or("?"),
                super::escape(&r.sample),
                if r.known { ", known pattern" } else { "" }
            );
        }
    }
    out
}
