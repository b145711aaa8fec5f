//! `kvtriage timeline`: one time-ordered stream of the significant events of every node,
//! like `cockroach debug merge-logs` but across TiKV, PD, TiDB and CockroachDB.
//!
//! Big bundles are streamed: each input's events are selected and sorted as soon as the
//! input is read, written to an anonymous temporary file as one sorted run, and the runs are
//! merged at the end ([`Spool`]), so memory holds one input's events and one event per run,
//! never the whole timeline.

use crate::model::{Analysis, InputReport, Level, LogEvent, TemplateStat};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::fmt::Write;
use std::io::{self, Read, Seek, SeekFrom};

/// Which events a timeline lists.
pub struct TimelineFilter {
    /// `Some(level)`: only entries at or above this level, whatever they are (an entry that
    /// carries no level counts as INFO). `None`: warnings and above, and the lines of rules'
    /// patterns (restarts, leader changes, operators) at any level.
    pub level: Option<Level>,
    /// Only these nodes (node names as shown, or a substring of the path).
    pub nodes: Vec<String>,
    pub grep: Option<regex::Regex>,
}

impl TimelineFilter {
    /// Whether any of the input's events can be listed: a log of a wanted node.
    pub fn wants_input(&self, meta: &InputReport) -> bool {
        meta.kind.is_log()
            && (self.nodes.is_empty() || self.nodes.iter().any(|n| node_matches(n, meta)))
    }

    fn wants_event(&self, e: &LogEvent) -> bool {
        let level_ok = match self.level {
            Some(min) => e.level.unwrap_or(Level::Info) >= min,
            None => !e.groups.is_empty() || e.level.is_some_and(|l| l >= Level::Warn),
        };
        level_ok
            && self
                .grep
                .as_ref()
                .is_none_or(|re| re.is_match(&e.excerpt) || re.is_match(&e.message))
    }
}

/// Whether a `--node` value names this input: its node as shown, or a part of its path.
pub fn node_matches(wanted: &str, meta: &InputReport) -> bool {
    meta.node.as_deref() == Some(wanted) || meta.path.contains(wanted)
}

/// The nodes the log inputs name, sorted, each once.
pub fn known_nodes(inputs: &[InputReport]) -> Vec<String> {
    let mut v: Vec<String> = inputs
        .iter()
        .filter(|i| i.kind.is_log())
        .filter_map(|i| i.node.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The filter's `--node` values that name no log input (neither a node nor a part of a path).
pub fn unknown_nodes<'a>(filter: &'a TimelineFilter, inputs: &[InputReport]) -> Vec<&'a str> {
    filter
        .nodes
        .iter()
        .filter(|n| !inputs.iter().any(|i| i.kind.is_log() && node_matches(n, i)))
        .map(String::as_str)
        .collect()
}

/// One line of the timeline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// RFC 3339 with the log's own offset.
    pub time: String,
    pub node: String,
    pub path: String,
    pub line: u64,
    pub level: String,
    pub kind: String,
    pub message: String,
    #[serde(skip, default = "epoch")]
    instant: DateTime<FixedOffset>,
}

fn epoch() -> DateTime<FixedOffset> {
    DateTime::UNIX_EPOCH.fixed_offset()
}

/// The one order of the timeline: the instant (zones respected), then file and line.
fn order(a: &TimelineEvent, b: &TimelineEvent) -> Ordering {
    a.instant
        .cmp(&b.instant)
        .then_with(|| a.path.cmp(&b.path))
        .then_with(|| a.line.cmp(&b.line))
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

/// What the filter makes of one event of a wanted input.
enum Pick {
    Listed(TimelineEvent),
    Untimed,
    Filtered,
}

fn pick(meta: &InputReport, e: &LogEvent, opts: &TimelineFilter) -> Pick {
    if !opts.wants_event(e) {
        return Pick::Filtered;
    }
    let Some(t) = e.time else {
        return Pick::Untimed;
    };
    let mut message = e.message.clone();
    for (k, v) in e
        .fields
        .iter()
        .filter(|(k, _)| !k.starts_with("ev."))
        .take(6)
    {
        let _ = write!(message, " [{k}={v}]");
    }
    Pick::Listed(TimelineEvent {
        time: t.to_rfc3339(),
        node: meta.node.clone().unwrap_or_else(|| "-".into()),
        path: meta.path.clone(),
        line: e.loc.line,
        level: e.level.map_or("-", Level::as_str).to_string(),
        kind: kind_of(e).to_string(),
        message,
        instant: t,
    })
}

/// The events of one input (its report and its log events) that the filter lists, in the
/// timeline's order, and how many wanted events carried no time.
pub fn events_of<'a>(
    meta: &InputReport,
    events: impl IntoIterator<Item = &'a LogEvent>,
    opts: &TimelineFilter,
) -> (Vec<TimelineEvent>, usize) {
    let (mut listed, mut untimed) = (Vec::new(), 0);
    if !opts.wants_input(meta) {
        return (listed, untimed);
    }
    for e in events {
        match pick(meta, e, opts) {
            Pick::Listed(ev) => listed.push(ev),
            Pick::Untimed => untimed += 1,
            Pick::Filtered => {}
        }
    }
    listed.sort_by(order);
    (listed, untimed)
}

/// The events of an analysis (read with `keep_level` at the filter's level) that the filter
/// lists, ordered by instant across zones. Holds them all: [`Spool`] streams instead.
pub fn select(analysis: &Analysis, opts: &TimelineFilter) -> Timeline {
    let mut events = Vec::new();
    let mut untimed = 0;
    for e in &analysis.facts.events {
        let Some(meta) = analysis.input(e.loc.input) else {
            continue;
        };
        if !opts.wants_input(meta) {
            continue;
        }
        match pick(meta, e, opts) {
            Pick::Listed(ev) => events.push(ev),
            Pick::Untimed => untimed += 1,
            Pick::Filtered => {}
        }
    }
    events.sort_by(order);
    Timeline { events, untimed }
}

/// Widest node column of the text output.
const NODE_WIDTH: usize = 24;

fn text_line(out: &mut String, e: &TimelineEvent, node_w: usize) {
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

fn jsonl_line(out: &mut String, e: &TimelineEvent) {
    if let Ok(s) = serde_json::to_string(e) {
        out.push_str(&s);
        out.push('\n');
    }
}

fn node_width<'a>(events: impl IntoIterator<Item = &'a TimelineEvent>) -> usize {
    events
        .into_iter()
        .map(|e| e.node.len())
        .max()
        .unwrap_or(1)
        .min(NODE_WIDTH)
}

pub fn render_text(t: &Timeline) -> String {
    let mut out = String::new();
    let node_w = node_width(&t.events);
    for e in &t.events {
        text_line(&mut out, e, node_w);
    }
    out
}

pub fn render_jsonl(t: &Timeline) -> String {
    let mut out = String::new();
    for e in &t.events {
        jsonl_line(&mut out, e);
    }
    out
}

/// The output of a streamed timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Text,
    Jsonl,
}

/// Which part of the merged stream is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    All,
    /// The first N events (`--limit`).
    First(usize),
    /// The last N events (`--tail`).
    Last(usize),
}

/// A sorted run of one input's events in the spool file.
struct Run {
    /// Path and input order: ties between runs are broken the same way on every run.
    key: (String, u64),
    start: u64,
    end: u64,
}

/// The streamed timeline: inputs' events go in one sorted run per input ([`Spool::add`],
/// in any order, from one thread at a time), and come out merged ([`Spool::write_to`]).
pub struct Spool {
    file: std::fs::File,
    len: u64,
    runs: Vec<Run>,
    cut: Cut,
    node_w: usize,
    /// Events the filter listed (before `--limit`/`--tail`).
    pub listed: u64,
    /// Wanted events left out because their entry carries no time.
    pub untimed: u64,
}

impl Spool {
    /// An empty spool over an anonymous temporary file (removed when the spool is dropped).
    pub fn new(cut: Cut) -> io::Result<Spool> {
        Ok(Spool {
            file: tempfile::tempfile()?,
            len: 0,
            runs: Vec::new(),
            cut,
            node_w: 1,
            listed: 0,
            untimed: 0,
        })
    }

    /// Adds the listed events of one input (as [`events_of`] gives them: sorted). `key`
    /// orders runs whose events tie: the input's path and its order among inputs.
    pub fn add(
        &mut self,
        key: (String, u64),
        mut events: Vec<TimelineEvent>,
        untimed: usize,
    ) -> io::Result<()> {
        self.listed += events.len() as u64;
        self.untimed += untimed as u64;
        // Only the first (last) N of a run can be among the first (last) N of the merge.
        match self.cut {
            Cut::All => {}
            Cut::First(n) => events.truncate(n),
            Cut::Last(n) => {
                let drop = events.len().saturating_sub(n);
                events.drain(..drop);
            }
        }
        if events.is_empty() {
            return Ok(());
        }
        self.node_w = self.node_w.max(node_width(&events));
        let mut buf = Vec::with_capacity(events.len() * 256);
        for e in &events {
            serde_json::to_writer(&mut buf, e).map_err(io::Error::other)?;
            buf.push(b'\n');
        }
        use std::io::Write as _;
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(&buf)?;
        let start = self.len;
        self.len += buf.len() as u64;
        self.runs.push(Run {
            key,
            start,
            end: self.len,
        });
        Ok(())
    }

    /// Merges the runs into `out` in the timeline's order, applying the cut; returns how
    /// many events were written.
    pub fn write_to(mut self, out: &mut dyn io::Write, style: Style) -> io::Result<u64> {
        self.runs.sort_by(|a, b| a.key.cmp(&b.key));
        let mut readers: Vec<RunReader> = self
            .runs
            .iter()
            .map(|r| RunReader {
                pos: r.start,
                end: r.end,
                buf: Vec::new(),
                at: 0,
            })
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(ev) = r.next(&self.file)? {
                heap.push(Head { ev, run: i });
            }
        }
        let node_w = self.node_w;
        let mut line = String::new();
        let mut emit = |out: &mut dyn io::Write, e: &TimelineEvent| {
            line.clear();
            match style {
                Style::Text => text_line(&mut line, e, node_w),
                Style::Jsonl => jsonl_line(&mut line, e),
            }
            out.write_all(line.as_bytes())
        };
        let mut written = 0u64;
        let mut tail = VecDeque::new();
        while let Some(Head { ev, run }) = heap.pop() {
            if let Some(next) = readers[run].next(&self.file)? {
                heap.push(Head { ev: next, run });
            }
            match self.cut {
                Cut::First(n) if written as usize >= n => break,
                Cut::Last(n) => {
                    if tail.len() == n {
                        tail.pop_front();
                    }
                    if n > 0 {
                        tail.push_back(ev);
                    }
                    continue;
                }
                _ => {}
            }
            emit(out, &ev)?;
            written += 1;
        }
        for ev in &tail {
            emit(out, ev)?;
            written += 1;
        }
        Ok(written)
    }
}

/// The next event of each run, in a min-heap by the timeline's order (then run order).
struct Head {
    ev: TimelineEvent,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap pops the greatest.
        order(&other.ev, &self.ev).then_with(|| other.run.cmp(&self.run))
    }
}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}

/// Reads one run of the spool file through a small buffer of its own.
struct RunReader {
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    at: usize,
}

const RUN_BUFFER: usize = 32 << 10;

impl RunReader {
    fn next(&mut self, mut file: &std::fs::File) -> io::Result<Option<TimelineEvent>> {
        loop {
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[self.at..]) {
                let rec = &self.buf[self.at..self.at + nl];
                self.at += nl + 1;
                let mut ev: TimelineEvent =
                    serde_json::from_slice(rec).map_err(io::Error::other)?;
                ev.instant = DateTime::parse_from_rfc3339(&ev.time).map_err(io::Error::other)?;
                return Ok(Some(ev));
            }
            if self.pos >= self.end {
                return Ok(None);
            }
            self.buf.drain(..self.at);
            self.at = 0;
            let want = (self.end - self.pos).min(RUN_BUFFER as u64) as usize;
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            file.seek(SeekFrom::Start(self.pos))?;
            file.read_exact(&mut self.buf[old..])?;
            self.pos += want as u64;
        }
    }
}

/// A warning/error message template of one node (its rotated files counted as one).
#[derive(Clone, Debug, Serialize)]
pub struct TemplateRow {
    /// The node, or for a log that names none, its folder.
    pub node: String,
    pub count: u64,
    pub level: &'static str,
    pub template: String,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Where the first occurrence is (`path:line`).
    pub sample: String,
    pub known: bool,
    /// How many files of the node hold it.
    pub files: usize,
    #[serde(skip)]
    first_at: Option<DateTime<FixedOffset>>,
    #[serde(skip)]
    last_at: Option<DateTime<FixedOffset>>,
}

/// The node a log's templates count for: its node, or the folder of a log that names none.
fn template_owner(meta: &InputReport) -> String {
    if let Some(n) = &meta.node {
        return n.clone();
    }
    match meta.path.rfind('/') {
        Some(i) => meta.path[..=i].to_string(),
        None => meta.path.clone(),
    }
}

/// The template rows of one input.
pub fn template_rows(meta: &InputReport, templates: &[&TemplateStat]) -> Vec<TemplateRow> {
    let owner = template_owner(meta);
    templates
        .iter()
        .map(|t| TemplateRow {
            node: owner.clone(),
            count: t.count,
            level: t.level.as_str(),
            template: t.template.clone(),
            first: t.first.map(|x| x.to_rfc3339()),
            last: t.last.map(|x| x.to_rfc3339()),
            sample: format!("{}:{}", meta.path, t.sample.line),
            known: t.known,
            files: 1,
            first_at: t.first,
            last_at: t.last,
        })
        .collect()
}

/// Rows of the same node, level and template become one (counts added, the earliest first
/// and its sample, the latest last), most frequent first.
pub fn merge_templates(rows: Vec<TemplateRow>) -> Vec<TemplateRow> {
    let mut by: BTreeMap<(String, &'static str, String), TemplateRow> = BTreeMap::new();
    for r in rows {
        let key = (r.node.clone(), r.level, r.template.clone());
        let Some(m) = by.get_mut(&key) else {
            by.insert(key, r);
            continue;
        };
        m.count += r.count;
        m.known |= r.known;
        m.files += r.files;
        let earlier = match (r.first_at, m.first_at) {
            (Some(a), Some(b)) => (a, &r.sample) < (b, &m.sample),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            m.first_at = r.first_at;
            m.first = r.first;
            m.sample = r.sample;
        }
        if r.last_at.is_some() && (m.last_at.is_none() || r.last_at > m.last_at) {
            m.last_at = r.last_at;
            m.last = r.last;
        }
    }
    let mut out: Vec<TemplateRow> = by.into_values().collect();
    out.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then_with(|| x.node.cmp(&y.node))
            .then_with(|| x.template.cmp(&y.template))
    });
    out
}

/// `--templates` output of merged rows.
pub fn render_template_rows(rows: &[TemplateRow], json: bool) -> String {
    let mut out = String::new();
    for r in rows {
        if json {
            if let Ok(s) = serde_json::to_string(r) {
                out.push_str(&s);
                out.push('\n');
            }
        } else {
            let files = if r.files > 1 {
                format!(", in {} files", r.files)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{:>8} {:<5} {:<21} {}  ({} .. {}, e.g. {}{}{})",
                r.count,
                r.level.to_uppercase(),
                super::escape(&r.node),
                super::escape(&r.template),
                r.first.as_deref().unwrap_or("?"),
                r.last.as_deref().unwrap_or("?"),
                super::escape(&r.sample),
                files,
                if r.known { ", known pattern" } else { "" }
            );
        }
    }
    out
}

/// `--templates`: warning/error message templates per node, most frequent first.
pub fn render_templates(a: &Analysis, json: bool) -> String {
    let mut rows = Vec::new();
    for meta in &a.inputs {
        let ts: Vec<&TemplateStat> = a
            .facts
            .templates
            .iter()
            .filter(|t| t.sample.input == meta.id)
            .collect();
        rows.extend(template_rows(meta, &ts));
    }
    render_template_rows(&merge_templates(rows), json)
}
