//! Reading one source: a plain file (mapped), stdin, or an archive (members streamed), each
//! input detected and parsed into its own facts under the id it was given at discovery.

use super::Format;
use super::detect::{Detected, SNIFF_BYTES, detect};
use super::error::InputError;
use super::scan::{self, LogFormat, Prefilter, ScanCtx};
use crate::model::{
    Component, Facts, InputId, InputReport, Kind, Level, Location, LogEvent, Status, Version,
};
use crate::source::{self, Data, Source, archive};
use std::io::Read as _;

/// What reading one input yields: its report and its facts.
pub struct Parsed {
    pub report: InputReport,
    pub facts: Facts,
}

/// Parameters shared by every input of a run.
pub struct ReadCtx<'a> {
    pub prefilter: &'a Prefilter,
    /// Zone for log formats that carry none (pre-unified TiKV/PD).
    pub assume_tz: chrono::FixedOffset,
    /// Also keep every log entry at or above this level (the timeline wants them).
    pub keep_level: Option<Level>,
    /// Count warning/error templates (for `generic.error-burst`).
    pub templates: bool,
    pub limits: &'a archive::Limits,
    /// The prefilter group of version lines (startup banners).
    pub version_group: Option<u32>,
}

/// Cited dump lines keep this many characters.
const EXCERPT_CHARS: usize = 300;

fn failed(id: InputId, path: &str, bytes: u64, error: InputError) -> Parsed {
    let mut report = InputReport::new(id, path, Kind::Unknown, source::node_from_path(path));
    report.bytes = bytes;
    report.set_problem(error.status(), error.to_string());
    Parsed {
        report,
        facts: Facts::default(),
    }
}

/// Reads a source into one or more inputs (an archive gives one per member).
pub fn read_source(src: &Source, ctx: &ReadCtx<'_>) -> Vec<Parsed> {
    let data = match source::read(src) {
        Ok(d) => d,
        Err(e) => return vec![failed(src.id, &src.display, 0, e.into())],
    };
    let container = archive::detect(&data[..data.len().min(SNIFF_BYTES)]);
    let Some(container) = container else {
        return vec![parse_bytes(src.id, &src.display, &data, ctx)];
    };
    // Archives and compressed files are read in memory, member by member, logs streamed
    // through a bounded buffer; nothing is written to disk and member paths are only shown.
    let out = std::cell::RefCell::new(Vec::new());
    let next_id = std::cell::Cell::new(1usize);
    let member_id = || {
        let n = next_id.get();
        next_id.set(n + 1);
        InputId::new(src.id.source(), n)
    };
    let mut on_member = |path: &str, reader: &mut dyn std::io::Read| {
        parse_stream(member_id(), path, reader, ctx, &mut out.borrow_mut())
    };
    let mut on_entry = |entry: archive::Entry| match entry {
        archive::Entry::Member(m) => {
            let d = Data::Owned(m.data);
            let parsed = parse_bytes(member_id(), &m.path, &d, ctx);
            out.borrow_mut().push(parsed);
        }
        archive::Entry::Problem(p) => {
            let status = match p.status {
                archive::ProblemStatus::Skipped => Status::Skipped,
                archive::ProblemStatus::Failed => Status::Failed,
            };
            let mut out = out.borrow_mut();
            // A member whose stream broke while it was read: what was read before stays
            // analysed, and the input says it failed and why.
            if let Some(last) = out.last_mut().filter(|l| l.report.path == p.path) {
                last.report.set_problem(status, p.reason);
                return;
            }
            let mut report = InputReport::new(
                member_id(),
                &p.path,
                Kind::Unknown,
                source::node_from_path(&p.path),
            );
            report.set_problem(status, p.reason);
            out.push(Parsed {
                report,
                facts: Facts::default(),
            });
        }
    };
    // gzip, zstd and tar stream from the file once (never mapped whole: the compressed
    // bytes would otherwise stay resident); a zip needs random access and stays mapped.
    let file = match &src.origin {
        source::Origin::File(p) if container != archive::Container::Zip => {
            std::fs::File::open(p).ok()
        }
        _ => None,
    };
    match file {
        Some(f) => {
            drop(data);
            let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
            archive::read_streaming_from(
                &src.display,
                container,
                &mut reader,
                ctx.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
        None => {
            archive::read_streaming(
                &src.display,
                container,
                &data,
                ctx.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
    }
    let mut out = out.into_inner();
    if out.is_empty() {
        out.push(failed(
            src.id,
            &src.display,
            src.file_size(),
            source::SourceError::EmptyArchive.into(),
        ));
    }
    out
}

/// One input whose bytes are all at hand (a mapped file, stdin, a small archive member).
fn parse_bytes(id: InputId, path: &str, data: &[u8], ctx: &ReadCtx<'_>) -> Parsed {
    let head = &data[..data.len().min(SNIFF_BYTES)];
    let mut report = InputReport::new(id, path, Kind::Unknown, source::node_from_path(path));
    report.bytes = data.len() as u64;
    let mut facts = Facts::default();
    match detect(path, head) {
        Detected::Skip(e) => report.set_problem(e.status(), e.to_string()),
        Detected::Found(Format::Log(layout), kind) => {
            report.kind = kind;
            let out = scan::scan_log(data, &scan_ctx(id, kind, layout, ctx));
            take_log(&mut report, &mut facts, out, kind, ctx.version_group);
        }
        Detected::Found(format, kind) => {
            report.kind = kind;
            let text = String::from_utf8_lossy(data);
            let dump = super::dump::Dump {
                format,
                kind,
                text: &text,
                id,
            };
            dump.parse(ctx.prefilter, &mut report, &mut facts);
            keep_cited_lines(id, &text, &mut facts);
        }
    }
    Parsed { report, facts }
}

/// The scan parameters of one log.
fn scan_ctx<'a>(id: InputId, kind: Kind, format: LogFormat, ctx: &ReadCtx<'a>) -> ScanCtx<'a> {
    ScanCtx {
        input: id,
        kind,
        format,
        prefilter: ctx.prefilter,
        assume_tz: ctx.assume_tz,
        keep_level: ctx.keep_level,
        templates: ctx.templates,
    }
}

/// Fills an input's report and facts from a scanned log.
fn take_log(
    report: &mut InputReport,
    facts: &mut Facts,
    out: scan::ScanOutput,
    kind: Kind,
    version_group: Option<u32>,
) {
    report.records = Some(out.records);
    report.unparsed_lines = Some(out.unparsed_lines);
    report.first_time = out.first_time.map(|t| t.to_rfc3339());
    report.last_time = out.last_time.map(|t| t.to_rfc3339());
    facts.templates = out.templates;
    if out.records == 0 {
        let e = InputError::NoLogEntry;
        report.set_problem(e.status(), e.to_string());
    }
    if report.node.is_none() {
        report.node = node_from_content(kind, &out.events);
    }
    if let Some(g) = version_group {
        for e in out.events.iter().filter(|e| e.in_group(g)) {
            if let Some((c, v)) = version_of(kind, e) {
                facts.note_version(c, v, e.loc);
            }
        }
    }
    // PD logs each unsafe-recovery stage as it enters it.
    if kind == Kind::PdLog {
        for e in &out.events {
            if let Some(mut st) = super::unsafe_recovery::stage_from_text(&e.message, e.loc) {
                if st.time.is_none() {
                    st.time = e.time.map(|t| t.naive_local());
                }
                facts.sched.log_stages.push(st);
            }
        }
    }
    facts.events = out.events;
}

/// One archive member read as a stream: logs are scanned block by block (memory bounded by
/// a block, not by the member); dumps, which are small, are read whole. A read error is
/// returned after the part read before it has been recorded, so that the archive reader
/// reports it under the same path.
fn parse_stream(
    id: InputId,
    path: &str,
    src: &mut dyn std::io::Read,
    ctx: &ReadCtx<'_>,
    out: &mut Vec<Parsed>,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::io::Read::take(&mut *src, SNIFF_BYTES as u64).read_to_end(&mut head)?;
    if let Detected::Found(Format::Log(format), kind) = detect(path, &head) {
        let mut report = InputReport::new(id, path, kind, source::node_from_path(path));
        let head_len = head.len() as u64;
        let mut counted = CountingReader { inner: src, n: 0 };
        let (scanned, error) =
            scan::scan_stream(head, &mut counted, &scan_ctx(id, kind, format, ctx));
        let mut facts = Facts::default();
        take_log(&mut report, &mut facts, scanned, kind, ctx.version_group);
        report.bytes = head_len + counted.n;
        out.push(Parsed { report, facts });
        return match error {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let mut data = head;
    std::io::Read::take(&mut *src, ctx.limits.max_member_bytes).read_to_end(&mut data)?;
    out.push(parse_bytes(id, path, &data, ctx));
    Ok(())
}

/// Counts the bytes read through it.
struct CountingReader<'a> {
    inner: &'a mut dyn std::io::Read,
    n: u64,
}

impl std::io::Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Dumps up to this size keep the text of every line for evidence (CLI captures are
/// small, and their rules cite many kinds of lines); larger ones keep the lines facts cite.
const KEEP_ALL_LINES_MAX: usize = 4 << 20;

/// Keeps the text of the dump lines evidence may quote.
fn keep_cited_lines(id: InputId, text: &str, facts: &mut Facts) {
    if text.len() <= KEEP_ALL_LINES_MAX {
        for (i, line) in text.split('\n').enumerate() {
            let loc = Location {
                input: id,
                line: i as u64 + 1,
            };
            facts.lines.keep(loc, line.trim(), EXCERPT_CHARS);
        }
        return;
    }
    let mut locs: Vec<Location> = facts.cited_locations();
    if locs.is_empty() {
        return;
    }
    locs.sort();
    locs.dedup();
    let mut want = locs.iter().peekable();
    for (i, line) in text.split('\n').enumerate() {
        let n = i as u64 + 1;
        while let Some(l) = want.peek() {
            if l.line < n {
                want.next();
                continue;
            }
            if l.line == n {
                facts.lines.keep(**l, line.trim(), EXCERPT_CHARS);
                want.next();
            }
            break;
        }
        if want.peek().is_none() {
            break;
        }
    }
}

/// The node a log belongs to, from its own lines: a CockroachDB `n<id>` tag, or TiKV's
/// `advertise-addr` in the config it prints at start.
fn node_from_content(kind: Kind, events: &[LogEvent]) -> Option<String> {
    match kind {
        Kind::CrdbLog => events
            .iter()
            .find_map(|e| e.field("node").map(|n| format!("n{n}"))),
        Kind::TikvLog | Kind::TiflashLog => events.iter().find_map(|e| {
            let text = e.field("config").unwrap_or(&e.message);
            let p = text.find("\"advertise-addr\":\"")? + "\"advertise-addr\":\"".len();
            let addr = &text[p..p + text[p..].find('"')?];
            (!addr.is_empty() && !addr.starts_with("0.0.0.0")).then(|| addr.to_string())
        }),
        _ => None,
    }
}

/// Reads a release version from a startup line.
fn version_of(kind: Kind, e: &LogEvent) -> Option<(Component, Version)> {
    let comp = match kind {
        Kind::TikvLog => Component::Tikv,
        Kind::PdLog => Component::Pd,
        Kind::TidbLog => Component::Tidb,
        _ => return None,
    };
    for (k, v) in &e.fields {
        let kl = k.to_ascii_lowercase();
        if kl == "release-version" || kl == "release version" {
            return Some((comp, Version::parse(v)?));
        }
    }
    let m = &e.message;
    let p = m.find("Release Version")?;
    let rest = m[p + "Release Version".len()..].trim_start_matches([':', ' ']);
    Some((comp, Version::parse(rest.split_whitespace().next()?)?))
}
