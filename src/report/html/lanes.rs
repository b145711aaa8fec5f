//! The timeline plot's data, aggregated in Rust so the page stays small: per node (lane),
//! counts of warning, error and fatal entries and of rule-pattern hits per time bucket, the
//! spans the node's logs cover, and marks (restarts, version lines, finding evidence).

use crate::model::{Analysis, Level, Location, Severity};
use crate::report::timeline::{self, TimelineFilter};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// Rows of a lane's heat strip, top to bottom.
pub const ROWS: [&str; 4] = ["fatal", "error", "warn", "rule patterns"];

/// Bucket sizes (seconds) a plot may use, finest first. Each base size a lane's data may be
/// kept at divides every larger size the view can pick (see [`BASES`]).
pub const NICE: [i64; 14] = [
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
];
/// Sizes the embedded data may be kept at, finest first (every later [`NICE`] size is a
/// multiple of each).
const BASES: [i64; 6] = [60, 300, 900, 3600, 21600, 86400];
/// At most this many (lane, bucket) cells are embedded; beyond it the base bucket grows.
const MAX_CELLS: usize = 100_000;
/// Marks per finding on the plot (evidence beyond is listed with the finding only).
const MAX_MARKS_PER_FINDING: usize = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Restart,
    Version,
    VersionChange,
    Evidence(Severity),
}

impl MarkKind {
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::Restart => "m-restart",
            MarkKind::Version => "m-version",
            MarkKind::VersionChange => "m-vchange",
            MarkKind::Evidence(Severity::Critical) => "m-ev m-critical",
            MarkKind::Evidence(Severity::Warning) => "m-ev m-warning",
            MarkKind::Evidence(Severity::Info) => "m-ev m-info",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Mark {
    /// Unix seconds.
    pub t: i64,
    pub kind: MarkKind,
    pub label: String,
}

#[derive(Clone, Debug, Default)]
pub struct Lane {
    /// The node's name, or the log's path when no node is known.
    pub node: String,
    /// The log kinds of the node (`tikv-log`, ...).
    pub kinds: Vec<&'static str>,
    /// Spans (unix seconds) its logs cover.
    pub covered: Vec<(i64, i64)>,
    /// Unix minute → counts per [`ROWS`] entry.
    pub minutes: BTreeMap<i64, [u64; 4]>,
    pub marks: Vec<Mark>,
}

impl Lane {
    pub fn total(&self, row: usize) -> u64 {
        self.minutes.values().map(|c| c[row]).sum()
    }

    /// Counts per bucket of `size` seconds (bucket index = unix seconds / size).
    pub fn buckets(&self, size: i64) -> BTreeMap<i64, [u64; 4]> {
        let mut out: BTreeMap<i64, [u64; 4]> = BTreeMap::new();
        for (m, c) in &self.minutes {
            let e = out.entry((m * 60).div_euclid(size)).or_default();
            for (x, y) in e.iter_mut().zip(c) {
                *x += y;
            }
        }
        out
    }
}

pub struct Plot {
    pub lanes: Vec<Lane>,
    /// Unix seconds of the plotted range.
    pub t0: i64,
    pub t1: i64,
    /// Size (seconds) of the buckets the embedded data is kept at.
    pub base: i64,
    /// Evidence lines of findings that carry no time (dumps), not plotted.
    pub untimed_evidence: usize,
}

fn rfc3339(s: &Option<String>) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.as_deref()?).ok()
}

/// The lane key of an input: its node, or its path.
fn lane_key(node: Option<&str>, path: &str) -> String {
    node.filter(|n| !n.is_empty() && *n != "-")
        .unwrap_or(path)
        .to_string()
}

/// The zone times are shown in: the offset most inputs' logs write (the first in path order
/// on a tie), UTC when no log has a time.
pub fn report_offset(a: &Analysis) -> FixedOffset {
    let mut seen: Vec<(FixedOffset, usize)> = Vec::new();
    for i in &a.inputs {
        if let Some(t) = rfc3339(&i.first_time) {
            let o = *t.offset();
            match seen.iter_mut().find(|(x, _)| *x == o) {
                Some(e) => e.1 += 1,
                None => seen.push((o, 1)),
            }
        }
    }
    let best = seen.iter().map(|e| e.1).max().unwrap_or(0);
    seen.into_iter()
        .find(|e| e.1 == best)
        .map(|e| e.0)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// The smallest [`NICE`] size of at least `target` seconds that is a multiple of `base`.
pub fn nice_bucket(target: f64, base: i64) -> i64 {
    NICE.iter()
        .copied()
        .find(|&n| n >= base && n % base == 0 && n as f64 >= target)
        .unwrap_or(NICE[NICE.len() - 1])
}

pub fn plot(a: &Analysis) -> Plot {
    let mut lanes: BTreeMap<String, Lane> = BTreeMap::new();
    let mut lane_of_input = BTreeMap::new();
    for i in &a.inputs {
        if !i.kind.is_log() {
            continue;
        }
        let key = lane_key(i.node.as_deref(), &i.path);
        lane_of_input.insert(i.id, key.clone());
        let lane = lanes.entry(key.clone()).or_insert_with(|| Lane {
            node: key,
            ..Lane::default()
        });
        if !lane.kinds.contains(&i.kind.as_str()) {
            lane.kinds.push(i.kind.as_str());
        }
        if let (Some(s), Some(e)) = (rfc3339(&i.first_time), rfc3339(&i.last_time)) {
            lane.covered
                .push((s.timestamp(), e.timestamp().max(s.timestamp())));
        }
    }
    // Warnings, errors and fatal entries: every one is counted in a template's minutes.
    for t in &a.facts.templates {
        let Some(key) = lane_of_input.get(&t.sample.input) else {
            continue;
        };
        let row = match t.level {
            Level::Fatal => 0,
            Level::Error => 1,
            Level::Warn => 2,
            _ => continue,
        };
        if let Some(lane) = lanes.get_mut(key) {
            for (m, c) in &t.per_minute {
                lane.minutes.entry(*m).or_default()[row] += u64::from(*c);
            }
        }
    }
    // Rule-pattern hits (the events the prefilter kept), and the time of each kept line.
    let mut time_at: BTreeMap<Location, i64> = BTreeMap::new();
    for e in &a.facts.events {
        let Some(t) = e.time else { continue };
        time_at.insert(e.loc, t.timestamp());
        if e.groups.is_empty() {
            continue;
        }
        if let Some(lane) = lane_of_input
            .get(&e.loc.input)
            .and_then(|k| lanes.get_mut(k))
        {
            lane.minutes
                .entry(t.timestamp().div_euclid(60))
                .or_default()[3] += 1;
        }
    }
    // A template's first line is cited (error bursts) without being a kept event.
    for t in &a.facts.templates {
        if let Some(first) = t.first {
            time_at.entry(t.sample).or_insert(first.timestamp());
        }
    }
    // Restarts and version lines, as the timeline names them.
    let events = timeline::select(
        a,
        &TimelineFilter {
            level: None,
            nodes: Vec::new(),
            grep: None,
        },
    );
    let mut last_version: BTreeMap<String, String> = BTreeMap::new();
    for e in &events.events {
        let kind = match e.kind.as_str() {
            "restart" => MarkKind::Restart,
            "version" => MarkKind::Version,
            _ => continue,
        };
        let Ok(t) = DateTime::parse_from_rfc3339(&e.time) else {
            continue;
        };
        let key = lane_key(Some(&e.node), &e.path);
        let Some(lane) = lanes.get_mut(&key) else {
            continue;
        };
        let mut label = cut(&e.message, 120);
        let kind = if kind == MarkKind::Version {
            let v = version_text(&e.message);
            let prev = last_version.insert(key.clone(), v.clone());
            match prev {
                Some(p) if p != v => {
                    label = format!("version {p} → {v}: {label}");
                    MarkKind::VersionChange
                }
                _ => MarkKind::Version,
            }
        } else {
            kind
        };
        lane.marks.push(Mark {
            t: t.timestamp(),
            kind,
            label: format!("{} {}:{}: {label}", e.time, e.path, e.line),
        });
    }
    // Each finding's evidence instants.
    let mut untimed_evidence = 0;
    for (n, f) in a.findings.iter().enumerate() {
        let mut placed = 0;
        for ev in &f.evidence {
            let (Some(t), Some(key)) = (time_at.get(&ev.loc), lane_of_input.get(&ev.loc.input))
            else {
                untimed_evidence += 1;
                continue;
            };
            if placed >= MAX_MARKS_PER_FINDING {
                continue;
            }
            if let Some(lane) = lanes.get_mut(key) {
                placed += 1;
                let path = a.input(ev.loc.input).map_or("", |i| i.path.as_str());
                lane.marks.push(Mark {
                    t: *t,
                    kind: MarkKind::Evidence(f.severity),
                    label: format!(
                        "[{}] {} ({}) {path}:{}",
                        n + 1,
                        f.rule,
                        f.severity,
                        ev.loc.line
                    ),
                });
            }
        }
    }
    let mut lanes: Vec<Lane> = lanes.into_values().collect();
    for l in &mut lanes {
        l.covered.sort_unstable();
        l.marks
            .sort_by(|x, y| x.t.cmp(&y.t).then_with(|| x.label.cmp(&y.label)));
    }
    let times = lanes.iter().flat_map(|l| {
        l.covered
            .iter()
            .flat_map(|c| [c.0, c.1])
            .chain(l.minutes.keys().flat_map(|m| [m * 60, m * 60 + 60]))
            .chain(l.marks.iter().map(|m| m.t))
    });
    let (mut t0, mut t1) = (i64::MAX, i64::MIN);
    for t in times {
        t0 = t0.min(t);
        t1 = t1.max(t);
    }
    if t0 > t1 {
        (t0, t1) = (0, 0);
    }
    if t1 - t0 < 60 {
        t1 = t0 + 60;
    }
    let mut base = BASES[0];
    for b in BASES {
        base = b;
        let cells: usize = lanes.iter().map(|l| l.buckets(b).len()).sum();
        if cells <= MAX_CELLS {
            break;
        }
    }
    Plot {
        lanes,
        t0,
        t1,
        base,
        untimed_evidence,
    }
}

/// `Release Version: v6.5.0 [git-hash=…]` → `v6.5.0`; the whole message when no version is
/// named.
fn version_text(message: &str) -> String {
    let Some(i) = message.find("Version") else {
        return message.to_string();
    };
    message[i + "Version".len()..]
        .trim_start_matches([':', ' '])
        .split([' ', '[', ','])
        .next()
        .filter(|v| !v.is_empty())
        .unwrap_or(message)
        .to_string()
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_buckets_are_multiples_of_the_base() {
        assert_eq!(nice_bucket(1.0, 60), 60);
        assert_eq!(nice_bucket(61.0, 60), 120);
        assert_eq!(nice_bucket(130.0, 300), 300);
        assert_eq!(nice_bucket(1000.0, 900), 1800);
        assert_eq!(nice_bucket(1e12, 60), 604800);
        for b in BASES {
            for n in NICE.iter().filter(|&&n| n >= b) {
                assert_eq!(n % b, 0, "{n} is not a multiple of base {b}");
            }
        }
    }

    #[test]
    fn version_text_takes_the_version_word() {
        assert_eq!(
            version_text("Release Version: v6.5.0 [git-hash=abc]"),
            "v6.5.0"
        );
        assert_eq!(version_text("Release Version:   5.0.1"), "5.0.1");
        assert_eq!(version_text("something else"), "something else");
    }
}
