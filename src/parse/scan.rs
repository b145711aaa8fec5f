//! The hot path: one pass over a log's bytes. Every line is classified (entry head,
//! continuation, or unparsed) with a few byte comparisons; only lines that hit a prefilter
//! needle are parsed in full and kept as [`LogEvent`]s. Large files are cut at line ends and
//! the chunks run in parallel; the result does not depend on the number of threads.

use super::{crdb_log, hostlog, jsonlog, legacy, unified};
use crate::model::Kind;
use crate::model::{InputId, Level, Location, LogEvent, TemplateStat};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// How the lines of a log are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Unified,
    Legacy,
    Json,
    Crdb,
    /// Kernel or syslog lines: each line an entry, no level.
    Host,
}

impl LogFormat {
    /// `None` if the line is no entry head, else the entry's level (`None` inside when the
    /// format's level word is unknown): one look per line on the hot path.
    #[inline]
    pub fn head_level(self, line: &[u8]) -> Option<Option<Level>> {
        match self {
            LogFormat::Unified => unified::head_level(line),
            LogFormat::Legacy => legacy::head_level(line),
            LogFormat::Crdb => crdb_log::is_head(line).then(|| match line.first() {
                Some(b'I') => Some(Level::Info),
                Some(b'W') => Some(Level::Warn),
                Some(b'E') => Some(Level::Error),
                Some(b'F') => Some(Level::Fatal),
                _ => None,
            }),
            LogFormat::Json => jsonlog::is_head(line).then(|| {
                let p = match memchr::memmem::find(line, b"\"level\":\"") {
                    Some(p) => p + 9,
                    None => memchr::memmem::find(line, b"\"severity\":\"")? + 12,
                };
                let end = memchr::memchr(b'"', &line[p..])? + p;
                Level::parse(std::str::from_utf8(&line[p..end]).ok()?)
            }),
            LogFormat::Host => hostlog::is_head(line).then_some(None),
        }
    }

    #[inline]
    pub fn is_head(self, line: &[u8]) -> bool {
        match self {
            LogFormat::Unified => unified::is_head(line),
            LogFormat::Legacy => legacy::is_head(line),
            LogFormat::Json => jsonlog::is_head(line),
            LogFormat::Crdb => crdb_log::is_head(line),
            LogFormat::Host => hostlog::is_head(line),
        }
    }
}

pub use crate::model::NeedleGroup;

/// The needles of all groups, one automaton per input kind holding only the needles that
/// apply to it. A log is searched only for its own kind's needles: another kind's common words
/// (a PD needle that TiKV logs repeat on every election) cost nothing.
pub struct Prefilter {
    /// Indexed like [`Kind::ALL`]: the kind's automaton in `automata`, if it has needles.
    by_kind: Vec<Option<usize>>,
    automata: Vec<KindAutomaton>,
    groups: Vec<NeedleGroup>,
}

struct KindAutomaton {
    /// The kind's needles, each once.
    needles: Vec<String>,
    ac: AhoCorasick,
    /// pattern index → the groups holding that needle
    pattern_groups: Vec<Vec<u32>>,
}

impl KindAutomaton {
    /// The groups a single line hits, sorted and unique.
    fn line_groups(&self, line: &[u8]) -> Vec<u32> {
        let mut gs: Vec<u32> = self
            .ac
            .find_overlapping_iter(line)
            .flat_map(|m| self.pattern_groups[m.pattern().as_usize()].iter().copied())
            .collect();
        gs.sort_unstable();
        gs.dedup();
        gs
    }
}

impl Prefilter {
    pub fn new(groups: Vec<NeedleGroup>) -> Prefilter {
        let mut automata: Vec<KindAutomaton> = Vec::new();
        let by_kind = Kind::ALL
            .iter()
            .map(|&kind| {
                let mut needle_groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
                for (gi, g) in groups.iter().enumerate() {
                    if !g.kinds.as_ref().is_none_or(|ks| ks.contains(&kind)) {
                        continue;
                    }
                    for n in g.needles.iter().filter(|n| !n.is_empty()) {
                        needle_groups.entry(n).or_default().push(gi as u32);
                    }
                }
                if needle_groups.is_empty() {
                    return None;
                }
                let needles: Vec<String> = needle_groups.keys().map(|n| n.to_string()).collect();
                // Kinds with the same needles (most dumps) share one automaton.
                if let Some(i) = automata.iter().position(|a| a.needles == needles) {
                    return Some(i);
                }
                // Standard match kind so that overlapping needles can all be reported per
                // line. A DFA always: left to choose, aho-corasick takes a slower NFA past
                // 100 patterns, which PD's and TiDB's logs reach.
                let ac = AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&needles)
                    .ok()?;
                automata.push(KindAutomaton {
                    needles,
                    ac,
                    pattern_groups: needle_groups.into_values().collect(),
                });
                Some(automata.len() - 1)
            })
            .collect();
        Prefilter {
            by_kind,
            automata,
            groups,
        }
    }

    fn automaton(&self, kind: Kind) -> Option<&KindAutomaton> {
        let i = Kind::ALL.iter().position(|&k| k == kind)?;
        let a = (*self.by_kind.get(i)?)?;
        self.automata.get(a)
    }

    pub fn groups(&self) -> &[NeedleGroup] {
        &self.groups
    }

    /// Every needle, unique and sorted (for `rules needles` and benchmarks).
    /// The groups whose needles a text contains, sorted (for pasted answers, which are not
    /// scanned as logs).
    pub fn groups_of(&self, text: &str) -> Vec<u32> {
        (0..self.groups.len() as u32)
            .filter(|&g| {
                self.groups[g as usize]
                    .needles
                    .iter()
                    .any(|n| text.contains(n.as_str()))
            })
            .collect()
    }

    /// The groups that apply to inputs of a kind and whose needles a text contains, sorted.
    pub fn groups_in(&self, text: &str, kind: Kind) -> Vec<u32> {
        self.groups_of(text)
            .into_iter()
            .filter(|&g| self.group_applies(g, kind))
            .collect()
    }

    fn group_applies(&self, g: u32, kind: Kind) -> bool {
        match &self.groups[g as usize].kinds {
            None => true,
            Some(ks) => ks.contains(&kind),
        }
    }
}

/// Per-minute counts of warnings and errors, keyed by unix minute.
pub type LevelMinutes = BTreeMap<i64, [u32; 2]>;

/// What scanning a log yields.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub lines: u64,
    pub records: u64,
    pub unparsed_lines: u64,
    pub events: Vec<LogEvent>,
    /// How many lines hit each group (kept events are capped, counts are not).
    pub group_counts: BTreeMap<u32, u64>,
    pub first_time: Option<DateTime<FixedOffset>>,
    pub last_time: Option<DateTime<FixedOffset>>,
    /// Warning/error message templates, in order of first appearance.
    pub templates: Vec<TemplateStat>,
    /// Entries kept because of `keep_level` beyond the cap (not kept, only counted).
    pub dropped_events: u64,
    /// Non-blank lines before the file's first entry (counted in `unparsed_lines` too): a
    /// preamble when the log was pasted into other text.
    pub preamble_lines: u64,
    /// Non-blank lines before the first entry head of a chunk, and how many of them look
    /// like damaged heads (see [`scan_chunk`]).
    leading_orphans: u64,
    leading_broken: u64,
    /// The chunk's last entry head, for continuations at the start of the next block.
    tail_head: Option<Vec<u8>>,
}

/// Entries kept per file for the timeline; beyond this they are counted, not kept.
pub const MAX_LEVEL_EVENTS: usize = 100_000;

/// Distinct templates tracked per file and chunk; beyond this they are not tracked.
pub const MAX_TEMPLATES: usize = 2000;

/// Events kept per group and file; beyond this only counts grow, so memory stays bounded.
pub const MAX_EVENTS_PER_GROUP: usize = 2000;

const CHUNK: usize = 8 << 20;

/// Parameters of a scan that stay fixed for one file.
pub struct ScanCtx<'a> {
    pub input: InputId,
    pub kind: Kind,
    pub format: LogFormat,
    pub prefilter: &'a Prefilter,
    /// Zone assumed for formats without one (legacy TiKV/PD).
    pub assume_tz: FixedOffset,
    /// Also keep every entry at or above this level (for the timeline).
    pub keep_level: Option<Level>,
    /// Count warning/error message templates per minute (for error bursts).
    pub templates: bool,
}

pub fn scan_log(data: &[u8], ctx: &ScanCtx<'_>) -> ScanOutput {
    let chunks = split_chunks(data, CHUNK);
    let parts: Vec<ScanOutput> = chunks
        .par_iter()
        .map(|&(s, e)| scan_chunk(&data[s..e], last_head_before(data, s, ctx), ctx))
        .collect();
    let mut out = ScanOutput::default();
    for p in parts {
        absorb(&mut out, p);
    }
    finish(&mut out);
    out
}

/// Appends the output of the next chunk (its lines numbered from 1) to a file's output.
fn absorb(out: &mut ScanOutput, mut p: ScanOutput) {
    let line_base = out.lines;
    // Lines before this chunk's first head: continuations if an entry came before in the
    // file (then only damaged heads are unparsed), text belonging to no entry otherwise.
    out.unparsed_lines += if out.records > 0 {
        p.leading_broken
    } else {
        out.preamble_lines += p.leading_orphans;
        p.leading_orphans
    };
    for ev in &mut p.events {
        ev.loc.line += line_base;
    }
    out.lines += p.lines;
    out.records += p.records;
    out.unparsed_lines += p.unparsed_lines;
    out.events.append(&mut p.events);
    for (g, c) in p.group_counts {
        *out.group_counts.entry(g).or_default() += c;
    }
    // The file's first and last entries (not the earliest and latest times: clocks jump).
    out.first_time = out.first_time.or(p.first_time);
    out.last_time = p.last_time.or(out.last_time);
    out.dropped_events += p.dropped_events;
    if p.tail_head.is_some() {
        out.tail_head = p.tail_head;
    }
    for mut t in p.templates {
        t.sample.line += line_base;
        merge_template(&mut out.templates, t);
    }
}

/// Scans a log read from a stream (an archive member), one block at a time: memory stays at
/// a block plus the kept events, whatever the size of the member. `head` holds the bytes
/// already read from the stream (for sniffing).
pub fn scan_stream(
    head: Vec<u8>,
    src: &mut dyn std::io::Read,
    ctx: &ScanCtx<'_>,
) -> (ScanOutput, Option<std::io::Error>) {
    // Reading (often decompressing) and scanning overlap: this thread fills blocks, a second
    // one scans them in order. At most two blocks wait in between, so memory stays bounded.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let scanner = scope.spawn(move || {
            let mut out = ScanOutput::default();
            for block in rx {
                let prev = out.tail_head.clone();
                let part = scan_chunk(&block, prev.as_deref(), ctx);
                absorb(&mut out, part);
                finish(&mut out);
            }
            out
        });
        let mut buf = head;
        let mut error = None;
        loop {
            let mut eof = false;
            // A block, or one more block when the carried part holds no line end yet.
            let target = if buf.len() >= CHUNK {
                buf.len() + CHUNK
            } else {
                CHUNK
            };
            // Zero the block once, then let reads fill it (decoders return small pieces).
            let mut filled = buf.len();
            buf.resize(target, 0);
            while filled < target {
                match src.read(&mut buf[filled..target]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        error = Some(e);
                        eof = true;
                        break;
                    }
                }
            }
            buf.truncate(filled);
            // Up to the last complete line; the rest starts the next block.
            let cut = if eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(p) => p + 1,
                    // A line longer than a block: read on until it ends (up to a bound, past
                    // which a hostile line is cut rather than held whole).
                    None if buf.len() < MAX_STREAM_LINE => continue,
                    None => buf.len(),
                }
            };
            let rest = buf.split_off(cut);
            if !buf.is_empty() && tx.send(buf).is_err() {
                break;
            }
            buf = rest;
            if eof {
                break;
            }
        }
        drop(tx);
        let out = scanner.join().unwrap_or_default();
        (out, error)
    })
}

/// The longest line a stream holds whole (longer ones are cut, and count as two lines).
const MAX_STREAM_LINE: usize = 64 << 20;

/// How far back to look for the entry a chunk's first lines continue.
const HEAD_LOOKBACK: usize = 4 << 20;

/// The last entry head before `start` (within [`HEAD_LOOKBACK`] bytes).
fn last_head_before<'d>(data: &'d [u8], start: usize, ctx: &ScanCtx<'_>) -> Option<&'d [u8]> {
    let floor = start.saturating_sub(HEAD_LOOKBACK);
    let mut end = start;
    while end > floor {
        // The line ending at `end` (exclusive of its newline).
        let line_end = if data.get(end - 1) == Some(&b'\n') {
            end - 1
        } else {
            end
        };
        let line_start =
            memchr::memrchr(b'\n', &data[floor..line_end]).map_or(floor, |p| floor + p + 1);
        let mut line = &data[line_start..line_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if ctx.format.is_head(line) {
            return Some(line);
        }
        if line_start == floor {
            break;
        }
        end = line_start;
    }
    None
}

/// Adds a chunk's template to the file's list (same template: counts add up, the earlier
/// sample stays).
fn merge_template(list: &mut Vec<TemplateStat>, t: TemplateStat) {
    let full = list.len() >= MAX_TEMPLATES;
    match list.iter_mut().find(|x| x.template == t.template) {
        Some(x) => {
            x.count += t.count;
            x.first = min_opt(x.first, t.first);
            x.last = max_opt(x.last, t.last);
            x.known |= t.known;
            for (m, c) in t.per_minute {
                *x.per_minute.entry(m).or_default() += c;
            }
        }
        None if !full => list.push(t),
        None => {}
    }
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Caps the kept events per group (first ones win, in line order).
fn finish(out: &mut ScanOutput) {
    let mut kept: BTreeMap<u32, usize> = BTreeMap::new();
    let mut level_kept = 0usize;
    out.events.retain(|ev| {
        // Entries kept only for their level: the first MAX_LEVEL_EVENTS of the file.
        let mut keep = ev.groups.is_empty() && {
            level_kept += 1;
            level_kept <= MAX_LEVEL_EVENTS
        };
        for g in &ev.groups {
            let n = kept.entry(*g).or_default();
            if *n < MAX_EVENTS_PER_GROUP {
                *n += 1;
                keep = true;
            }
        }
        keep
    });
}

/// Cuts `data` into ranges of about `size` bytes, each ending after a `\n` (or at the end).
pub fn split_chunks(data: &[u8], size: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let mut end = (start + size).min(data.len());
        if end < data.len() {
            end = match memchr::memchr(b'\n', &data[end..]) {
                Some(p) => end + p + 1,
                None => data.len(),
            };
        }
        v.push((start, end));
        start = end;
    }
    v
}

/// Scans one chunk; `prev_head` is the last entry head before the chunk (for continuation
/// lines at its start). Lines before the chunk's first head are counted apart, in
/// `leading_orphans` (and `leading_broken`), since only the whole file knows whether an entry
/// came before them.
fn scan_chunk(data: &[u8], prev_head: Option<&[u8]>, ctx: &ScanCtx<'_>) -> ScanOutput {
    let mut out = ScanOutput::default();
    // 1. Needle hits over the whole chunk (SIMD-accelerated), as line-start offsets.
    let mut hit_offsets: Vec<usize> = Vec::new();
    // The kind's automaton, looked up once per chunk (not per hit line).
    let automaton = ctx.prefilter.automaton(ctx.kind);
    if let Some(k) = automaton {
        hit_offsets.extend(k.ac.find_iter(data).map(|m| m.start()));
    }
    let mut next_hit = 0usize;
    let mut chunk_kept = vec![0u32; ctx.prefilter.groups.len()];
    let mut level_events = 0usize;
    let mut templates: Vec<TemplateStat> = Vec::new();

    // 2. Walk lines.
    let mut pos = 0usize;
    let mut line_no = 0u64;
    let mut seen_head = false;
    let mut last_head: Option<(usize, usize)> = None; // (start, end) of the last head line
    let mut first_head_line: Option<(usize, usize)> = None;
    let mut last_head_line: Option<(usize, usize)> = None;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |p| pos + p);
        let mut line = &data[pos..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        line_no += 1;
        let head_level = ctx.format.head_level(line);
        let head = head_level.is_some();
        if head {
            out.records += 1;
            seen_head = true;
            last_head = Some((pos, pos + line.len()));
            if first_head_line.is_none() {
                first_head_line = last_head;
            }
            last_head_line = last_head;
        } else if !seen_head {
            // Before the chunk's first head: a continuation of the previous chunk's last
            // entry, or, at the start of a file, text that belongs to no entry.
            if !line.iter().all(|c| c.is_ascii_whitespace()) {
                out.leading_orphans += 1;
                if looks_like_broken_head(line, ctx.format) {
                    out.leading_broken += 1;
                }
            }
        } else if looks_like_broken_head(line, ctx.format) {
            out.unparsed_lines += 1;
        }
        // Hits inside this line?
        let line_end = end;
        let mut hit = false;
        while next_hit < hit_offsets.len() && hit_offsets[next_hit] < line_end {
            if hit_offsets[next_hit] >= pos {
                hit = true;
            }
            next_hit += 1;
        }
        let mut kept = false;
        if hit {
            let groups = automaton.map_or_else(Vec::new, |k| k.line_groups(line));
            if !groups.is_empty() {
                for g in &groups {
                    *out.group_counts.entry(*g).or_default() += 1;
                }
                kept = true;
                // A line whose groups all hold MAX_EVENTS_PER_GROUP events of this chunk is
                // dropped by `finish` whatever it says: it is counted (and known to the
                // templates) but not parsed, so a needle PD repeats every few lines costs a
                // count, not a parse.
                let mut room = false;
                for &g in &groups {
                    let n = &mut chunk_kept[g as usize];
                    if (*n as usize) < MAX_EVENTS_PER_GROUP {
                        *n += 1;
                        room = true;
                    }
                }
                if room {
                    let head_line = if head {
                        None
                    } else {
                        last_head.map(|(s, e)| &data[s..e]).or(prev_head)
                    };
                    let ev = build_event(line, head_line, line_no, groups, ctx);
                    out.events.push(ev);
                }
            }
        }
        // Warnings and errors: templates and, for the timeline, the entry itself.
        if let Some(Some(level)) = head_level
            && (ctx.templates || ctx.keep_level.is_some())
        {
            if !kept && ctx.keep_level.is_some_and(|k| level >= k) {
                if level_events < MAX_LEVEL_EVENTS {
                    level_events += 1;
                    out.events
                        .push(build_event(line, None, line_no, Vec::new(), ctx));
                } else {
                    out.dropped_events += 1;
                }
            }
            if ctx.templates && level >= Level::Warn {
                count_template(&mut templates, line, line_no, level, kept, ctx);
            }
        }
        pos = end + 1;
    }
    out.lines = line_no;
    out.templates = templates;
    out.tail_head = last_head_line.map(|(s, e)| data[s..e].to_vec());
    if let Some((s, e)) = first_head_line {
        out.first_time = head_time(&data[s..e], ctx);
    }
    if let Some((s, e)) = last_head_line {
        out.last_time = head_time(&data[s..e], ctx);
    }
    out
}

/// A message with ids and numbers masked, so that `region 12` and `region 99` are one
/// template: runs of digits become `#`, hex/uuid-like words with digits become `#`.
pub fn mask_template(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(160));
    for word in msg.split_inclusive([' ', ',', ':', '=', '(', ')', '[', ']', '{', '}', '"']) {
        let (body, sep) = match word.char_indices().last() {
            Some((i, c)) if " ,:=()[]{}\"".contains(c) => (&word[..i], &word[i..]),
            _ => (word, ""),
        };
        let digits = body.bytes().filter(u8::is_ascii_digit).count();
        let hexish = body.len() >= 8
            && digits > 0
            && body.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if hexish {
            out.push('#');
        } else {
            let mut in_digits = false;
            for c in body.chars() {
                if c.is_ascii_digit() {
                    if !in_digits {
                        out.push('#');
                    }
                    in_digits = true;
                } else {
                    in_digits = false;
                    out.push(c);
                }
            }
        }
        out.push_str(sep);
        if out.len() > 160 {
            break;
        }
    }
    out
}

fn count_template(
    list: &mut Vec<TemplateStat>,
    line: &[u8],
    line_no: u64,
    level: Level,
    known: bool,
    ctx: &ScanCtx<'_>,
) {
    let text = String::from_utf8_lossy(line);
    let mut ev = LogEvent::at(Location {
        input: ctx.input,
        line: line_no,
    });
    fill_from_head(&mut ev, &text, ctx);
    let template = mask_template(&ev.message);
    let minute = ev.time.map(|t| t.timestamp().div_euclid(60));
    let full = list.len() >= MAX_TEMPLATES;
    match list.iter_mut().find(|t| t.template == template) {
        Some(t) => {
            t.count += 1;
            t.first = min_opt(t.first, ev.time);
            t.last = max_opt(t.last, ev.time);
            t.known |= known;
            if let Some(m) = minute {
                *t.per_minute.entry(m).or_default() += 1;
            }
        }
        None if !full => list.push(TemplateStat {
            template,
            level,
            count: 1,
            first: ev.time,
            last: ev.time,
            sample: ev.loc,
            sample_excerpt: excerpt(&text),
            per_minute: minute.map(|m| (m, 1)).into_iter().collect(),
            known,
        }),
        None => {}
    }
}

/// A line that starts like an entry of this format (a bracketed date, a severity letter and a
/// date) but failed the head test: a format we do not know yet, or damage.
fn looks_like_broken_head(line: &[u8], format: LogFormat) -> bool {
    match format {
        LogFormat::Unified => {
            line.len() > 5
                && line[0] == b'['
                && line[1..5].iter().all(u8::is_ascii_digit)
                && line.get(5) == Some(&b'/')
        }
        _ => false,
    }
}

fn head_time(line: &[u8], ctx: &ScanCtx<'_>) -> Option<DateTime<FixedOffset>> {
    let s = String::from_utf8_lossy(line);
    match ctx.format {
        LogFormat::Unified => super::time::parse_unified(s.get(1..)?),
        LogFormat::Legacy => super::time::parse_naive_prefix(&s, ctx.assume_tz).map(|t| t.0),
        LogFormat::Json => jsonlog::parse_line(&s).and_then(|l| l.time),
        LogFormat::Crdb => crdb_log::parse_line(&s).and_then(|l| l.time),
        LogFormat::Host => hostlog::parse_line(&s, ctx.assume_tz).time,
    }
}

/// Excerpts are cut to this many characters (report contract).
pub const EXCERPT_CHARS: usize = 300;

pub fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

fn build_event(
    line: &[u8],
    head_line: Option<&[u8]>,
    line_no: u64,
    groups: Vec<u32>,
    ctx: &ScanCtx<'_>,
) -> LogEvent {
    let text = String::from_utf8_lossy(line);
    let mut ev = LogEvent {
        excerpt: excerpt(&text),
        groups,
        ..LogEvent::at(Location {
            input: ctx.input,
            line: line_no,
        })
    };
    match head_line {
        None => fill_from_head(&mut ev, &text, ctx),
        Some(h) => {
            // A continuation line: time and level come from its entry's head.
            let h = String::from_utf8_lossy(h);
            fill_from_head(&mut ev, &h, ctx);
            ev.message = text.trim().to_string();
            ev.fields.clear();
        }
    }
    // PD names the operator a line is about in an `operator` field.
    if let Some(op) = ev.field("operator") {
        ev.operator = super::operator::Operator::parse(op).map(Box::new);
    }
    ev
}

fn fill_from_head(ev: &mut LogEvent, text: &str, ctx: &ScanCtx<'_>) {
    match ctx.format {
        LogFormat::Unified => {
            if let Some(l) = unified::parse_line(text) {
                ev.time = l.time;
                ev.level = Some(l.level);
                ev.source = Some(l.source.to_string());
                ev.message = l.message.into_owned();
                ev.fields = l
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                return;
            }
        }
        LogFormat::Legacy => {
            if let Some(l) = legacy::parse_line(text, ctx.assume_tz) {
                ev.time = l.time;
                ev.level = Some(l.level);
                ev.source = Some(l.source.to_string());
                ev.message = l.message.to_string();
                return;
            }
        }
        LogFormat::Json => {
            if let Some(l) = jsonlog::parse_line(text) {
                ev.time = l.time;
                ev.level = l.level;
                ev.source = l.source;
                ev.message = l.message;
                ev.fields = l.fields;
                return;
            }
        }
        LogFormat::Host => {
            let l = hostlog::parse_line(text, ctx.assume_tz);
            ev.time = l.time;
            ev.source = l.program.map(str::to_string);
            ev.message = l.message.to_string();
            return;
        }
        LogFormat::Crdb => {
            if let Some(l) = crdb_log::parse_line(text) {
                ev.time = l.time;
                ev.level = Some(l.level);
                ev.source = Some(l.source.to_string());
                ev.message = l.message.to_string();
                ev.fields = l.fields;
                return;
            }
        }
    }
    ev.message = text.to_string();
}

/// Levels of interest for per-minute counting.
pub fn level_slot(l: Level) -> Option<usize> {
    match l {
        Level::Warn => Some(0),
        Level::Error | Level::Fatal => Some(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(needles: &[&str]) -> Prefilter {
        Prefilter::new(vec![NeedleGroup {
            needles: needles.iter().map(|s| s.to_string()).collect(),
            kinds: None,
        }])
    }

    fn ctx(p: &Prefilter) -> ScanCtx<'_> {
        ScanCtx {
            input: InputId(0),
            kind: Kind::TikvLog,
            format: LogFormat::Unified,
            prefilter: p,
            assume_tz: FixedOffset::east_opt(0).unwrap(),
            keep_level: None,
            templates: false,
        }
    }

    const LOG: &str = "[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=RemoteStopped]\r\n\
[2022/03/28 09:34:38.227 +08:00] [ERROR] [pd.rs:83] [\"Failed to send read flow statistics\"] [err=\"channel has been closed\"]\r\n\
goroutine 1 [running]:\n\
   0: KvService::batch_raft send response fail in a backtrace\n\
[2022/03/28 09:34:55.711 +08:00] [INFO] [server.rs:1030] [\"hello\"]\n";

    #[test]
    fn counts_records_and_hits_with_crlf_and_continuations() {
        let p = pf(&["KvService::batch_raft send response fail"]);
        let out = scan_log(LOG.as_bytes(), &ctx(&p));
        assert_eq!(out.lines, 5);
        assert_eq!(out.records, 3);
        assert_eq!(out.unparsed_lines, 0);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].loc.line, 1);
        assert_eq!(out.events[0].field("err"), Some("RemoteStopped"));
        assert!(!out.events[0].excerpt.ends_with('\r'));
        // The continuation hit takes time and level from its head (line 2).
        assert_eq!(out.events[1].loc.line, 4);
        assert_eq!(out.events[1].level, Some(Level::Error));
    }

    #[test]
    fn chunked_scan_matches_single_pass() {
        let p = pf(&["batch_raft", "hello"]);
        let big = LOG.repeat(50_000);
        let whole = scan_chunk(big.as_bytes(), None, &ctx(&p));
        let out = scan_log(big.as_bytes(), &ctx(&p));
        assert_eq!(out.records, whole.records);
        assert_eq!(out.lines, whole.lines);
        assert_eq!(out.group_counts, whole.group_counts);
        let mut w = whole;
        finish(&mut w);
        let a: Vec<u64> = out.events.iter().map(|e| e.loc.line).collect();
        let b: Vec<u64> = w.events.iter().map(|e| e.loc.line).collect();
        assert_eq!(a, b);
    }

    /// A reader that hands out a few bytes at a time, like a decompressor.
    struct Dribble<'a>(&'a [u8]);

    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7919);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn streamed_scan_matches_mapped_scan() {
        let p = pf(&["batch_raft", "hello"]);
        let big = LOG.repeat(60_000);
        let mapped = scan_log(big.as_bytes(), &ctx(&p));
        let head = big.as_bytes()[..1000].to_vec();
        let (streamed, err) = scan_stream(head, &mut Dribble(&big.as_bytes()[1000..]), &ctx(&p));
        assert!(err.is_none());
        assert_eq!(streamed.lines, mapped.lines);
        assert_eq!(streamed.records, mapped.records);
        assert_eq!(streamed.group_counts, mapped.group_counts);
        let a: Vec<u64> = streamed.events.iter().map(|e| e.loc.line).collect();
        let b: Vec<u64> = mapped.events.iter().map(|e| e.loc.line).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn invalid_utf8_is_lossy_not_fatal() {
        let p = pf(&["boom"]);
        let mut data =
            b"[2022/03/28 09:34:38.062 +08:00] [WARN] [a.rs:1] [\"boom \xff\xfe\"]\n".to_vec();
        data.extend_from_slice(b"\xff\xff garbage before nothing\n");
        let out = scan_log(&data, &ctx(&p));
        assert_eq!(out.events.len(), 1);
        assert!(out.events[0].message.starts_with("boom"));
    }

    #[test]
    fn split_chunks_ends_on_newlines() {
        let data = b"aaaa\nbbbb\ncccc\ndd";
        let c = split_chunks(data, 3);
        assert_eq!(c, vec![(0, 5), (5, 10), (10, 15), (15, 17)]);
    }

    /// Regression: all needles were one automaton searched without overlaps, so a needle of
    /// another kind that began earlier on the line hid this kind's needle.
    #[test]
    fn another_kinds_needle_does_not_hide_this_kinds() {
        let p = Prefilter::new(vec![
            NeedleGroup {
                needles: vec!["became leader".into()],
                kinds: Some(vec![Kind::PdLog]),
            },
            NeedleGroup {
                needles: vec!["leader at term".into()],
                kinds: Some(vec![Kind::TikvLog]),
            },
        ]);
        let line =
            "[2022/03/28 09:34:55.711 +08:00] [INFO] [raft.rs:1] [\"became leader at term 7\"]\n";
        let out = scan_log(line.as_bytes(), &ctx(&p));
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].groups, vec![1]);
        assert_eq!(out.group_counts.get(&0), None);
    }

    /// Lines past a group's cap are counted but not parsed; a line that also hits a group
    /// with room is still kept, and the kept events are the first ones, as before the skip.
    #[test]
    fn capped_groups_are_counted_and_other_groups_still_kept() {
        let p = Prefilter::new(vec![
            NeedleGroup {
                needles: vec!["update service GC safe point".into()],
                kinds: None,
            },
            NeedleGroup {
                needles: vec!["service-id=br".into()],
                kinds: None,
            },
        ]);
        let mut log = String::new();
        for i in 0..MAX_EVENTS_PER_GROUP + 500 {
            log.push_str(&format!(
                "[2022/03/28 09:34:55.711 +08:00] [INFO] [gc.rs:1] [\"update service GC safe point\"] [service-id=gc_worker] [n={i}]\n"
            ));
        }
        log.push_str("[2022/03/28 09:35:00.000 +08:00] [INFO] [gc.rs:1] [\"update service GC safe point\"] [service-id=br]\n");
        let out = scan_log(log.as_bytes(), &ctx(&p));
        assert_eq!(out.group_counts[&0], MAX_EVENTS_PER_GROUP as u64 + 501);
        assert_eq!(out.group_counts[&1], 1);
        let first: Vec<u64> = out.events.iter().take(3).map(|e| e.loc.line).collect();
        assert_eq!(first, vec![1, 2, 3]);
        assert_eq!(out.events.len(), MAX_EVENTS_PER_GROUP + 1);
        let last = &out.events[out.events.len() - 1];
        assert_eq!(last.groups, vec![0, 1]);
        assert_eq!(last.loc.line, MAX_EVENTS_PER_GROUP as u64 + 501);
    }

    /// The catalogue's masking for error bursts: store, region and range ids in the texts of
    /// TiKV's raftstore slow log and CockroachDB's slow RPCs are masked, so one template counts
    /// them all. Lines from the rules' fixtures (tikv.slow-store, crdb.unavailable-ranges).
    #[test]
    fn ids_of_stores_regions_ranges_and_nodes_are_masked() {
        let a = mask_template(
            "[store 6] handle 72 pending peers include 72 ready, 0 entries, 102 messages and 0 snapshots",
        );
        let b = mask_template(
            "[store 12] handle 5 pending peers include 5 ready, 3 entries, 9 messages and 1 snapshots",
        );
        assert_eq!(a, b);
        assert!(a.starts_with("[store #] handle #"), "{a}");
        let c = mask_template("have been waiting 1m0s sending RPC to r547 for batch: Merge");
        let d = mask_template("have been waiting 2m30s sending RPC to r216 for batch: Merge");
        assert_eq!(c, d);
        assert!(c.contains("to r# for batch"), "{c}");
        assert_eq!(
            mask_template("[n2,s2,r1234/3:/Table/5{3-4}] slow heartbeat"),
            mask_template("[n11,s11,r7/1:/Table/6{0-1}] slow heartbeat")
        );
        assert_eq!(
            mask_template("[region 434317] 4 async write too slow"),
            mask_template("[region 9] 12 async write too slow")
        );
    }
}
