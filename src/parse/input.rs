//! Reading one input's bytes or stream: its format detected, the input parsed into its own
//! facts under the id it was given at discovery, its report filled in.

use super::Format;
use super::detect::{self, Detected, SNIFF_BYTES, detect};
use super::envelope::{self, Envelope, Enveloped, Unwrap};
use super::error::InputError;
use super::scan::{self, LogFormat, Prefilter, ScanCtx};
use crate::model::{
    Component, Facts, InputId, InputReport, Kind, Level, Location, LogEvent, Version,
};
use std::io::Read as _;

/// What reading one input yields: its report and its facts.
pub struct Parsed {
    pub report: InputReport,
    pub facts: Facts,
}

/// Parameters shared by every input of a run.
pub struct ParseCtx<'a> {
    pub prefilter: &'a Prefilter,
    /// Zone for log formats that carry none (pre-unified TiKV/PD).
    pub assume_tz: chrono::FixedOffset,
    /// Also keep every log entry at or above this level (the timeline wants them).
    pub keep_level: Option<Level>,
    /// Count warning/error templates (for `generic.error-burst`).
    pub templates: bool,
    /// The prefilter group of version lines (startup banners).
    pub version_group: Option<u32>,
    /// The prefilter group of `--join` lines (a node's logged arguments, a pasted start).
    pub join_group: Option<u32>,
    /// A streamed input that is not a log is read whole, up to this many bytes.
    pub max_dump_bytes: u64,
}

/// Where an input sits: its id, its path as shown, and the node its path names.
pub struct InputAt<'a> {
    pub id: InputId,
    pub path: &'a str,
    pub node: Option<String>,
}

/// Cited dump lines keep this many characters.
const EXCERPT_CHARS: usize = 300;

/// One input whose bytes are all at hand (a mapped file, stdin, a small archive member).
pub fn parse_bytes(at: InputAt<'_>, data: &[u8], ctx: &ParseCtx<'_>) -> Parsed {
    let InputAt { id, path, node } = at;
    let head = &data[..data.len().min(SNIFF_BYTES)];
    let mut report = InputReport::new(id, path, Kind::Unknown, node.clone());
    report.bytes = data.len() as u64;
    let mut facts = Facts::default();
    let mut detected = detect(path, head);
    match envelope::choose(path, head, &detected) {
        Some(Enveloped::Log(env, layout, kind)) => {
            let at = InputAt { id, path, node };
            // Bytes in memory: reading them cannot fail.
            let (mut parsed, _) = parse_enveloped(at, &mut &data[..], (env, layout, kind), ctx);
            parsed.report.bytes = data.len() as u64;
            return parsed;
        }
        Some(Enveloped::Nothing(e)) => detected = Detected::Skip(e),
        None => {}
    }
    match detected {
        Detected::Skip(e) => report.set_problem(e.status(), e.to_string()),
        Detected::Found(Format::Log(layout), kind) => {
            report.kind = kind;
            let mut out = scan::scan_log(data, &scan_ctx(id, kind, layout, ctx));
            drop_preamble(&mut out, head, false);
            take_log(&mut report, &mut facts, out, kind, ctx);
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
fn scan_ctx<'a>(id: InputId, kind: Kind, format: LogFormat, ctx: &ParseCtx<'a>) -> ScanCtx<'a> {
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
    ctx: &ParseCtx<'_>,
) {
    let version_group = ctx.version_group;
    report.records = Some(out.records);
    report.unparsed_lines = Some(out.unparsed_lines);
    report.first_time = out.first_time.map(|t| t.to_rfc3339());
    report.last_time = out.last_time.map(|t| t.to_rfc3339());
    facts.templates = out.templates;
    // Text read as a log for its lines (no entry heads) is read when some line hits.
    if out.records == 0 && out.events.is_empty() {
        let e = if kind == Kind::CrdbLog {
            // Not a log after all: say so, as for any text of no known format.
            report.kind = Kind::Unknown;
            InputError::NoEntryNoHit
        } else {
            InputError::NoLogEntry
        };
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
    // A shell session pasted before a CockroachDB log names the command that produced it.
    if kind == Kind::CrdbLog {
        for e in &out.events {
            if let Some(c) = super::crdb_input::command_line(&e.message, e.loc.input, e.loc.line) {
                facts.crdb.log_commands.push(c);
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
    if kind == Kind::CrdbLog
        && let Some(g) = ctx.join_group
    {
        take_joins(facts, g);
    }
}

/// Join lists from the lines of the `join` group; lines kept for that group alone leave the
/// events (they are a fact, not something that happened).
fn take_joins(facts: &mut Facts, group: u32) {
    for e in facts.events.iter().filter(|e| e.in_group(group)) {
        let text = if e.message.is_empty() {
            &e.excerpt
        } else {
            &e.message
        };
        if let Some(j) = super::crdb_join::join_of_line(text, e.loc.input, e.loc.line) {
            facts.crdb.joins.push(j);
        }
    }
    facts
        .events
        .retain(|e| e.groups.as_slice() != [group] || e.level.is_some_and(|l| l > Level::Info));
}

/// One archive member read as a stream: logs are scanned block by block (memory bounded by
/// a block, not by the member); dumps, which are small, are read whole. A read error is
/// returned after the part read before it has been recorded, so that the archive reader
/// reports it under the same path.
pub fn parse_stream(
    at: InputAt<'_>,
    src: &mut dyn std::io::Read,
    ctx: &ParseCtx<'_>,
    out: &mut Vec<Parsed>,
) -> std::io::Result<()> {
    let InputAt { id, path, node } = at;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::io::Read::take(&mut *src, SNIFF_BYTES as u64).read_to_end(&mut head)?;
    let detected = detect(path, &head);
    if let Some(Enveloped::Log(env, format, kind)) = envelope::choose(path, &head, &detected) {
        let mut counted = CountingReader { inner: src, n: 0 };
        let mut reader = std::io::BufReader::with_capacity(
            1 << 20,
            std::io::Read::chain(&head[..], &mut counted),
        );
        let at = InputAt { id, path, node };
        let (mut parsed, error) = parse_enveloped(at, &mut reader, (env, format, kind), ctx);
        drop(reader);
        parsed.report.bytes = head.len() as u64 + counted.n;
        out.push(parsed);
        return error.map_or(Ok(()), Err);
    }
    if let Detected::Found(Format::Log(format), kind) = detected {
        let mut report = InputReport::new(id, path, kind, node);
        let head_len = head.len() as u64;
        let mut counted = CountingReader { inner: src, n: 0 };
        let after_preamble = detect::log_after_preamble(&head);
        let (mut scanned, error) =
            scan::scan_stream(head, &mut counted, &scan_ctx(id, kind, format, ctx));
        if after_preamble {
            drop_preamble(&mut scanned, &[], true);
        }
        let mut facts = Facts::default();
        take_log(&mut report, &mut facts, scanned, kind, ctx);
        report.bytes = head_len + counted.n;
        out.push(Parsed { report, facts });
        return match error {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let mut data = head;
    std::io::Read::take(&mut *src, ctx.max_dump_bytes).read_to_end(&mut data)?;
    out.push(parse_bytes(InputAt { id, path, node }, &data, ctx));
    Ok(())
}

/// An enveloped log, read through [`Unwrap`]: the inner lines scanned as their own format
/// under the outer line numbers; an entry whose own line gives no time takes its envelope's,
/// and a `kubectl --prefix` pod names the node when the path does not.
fn parse_enveloped(
    at: InputAt<'_>,
    src: &mut dyn std::io::BufRead,
    (env, format, kind): (Envelope, LogFormat, Kind),
    ctx: &ParseCtx<'_>,
) -> (Parsed, Option<std::io::Error>) {
    let InputAt { id, path, node } = at;
    let mut report = InputReport::new(id, path, kind, node);
    report.envelope = Some(env.name());
    let mut un = Unwrap::new(src, env, ctx.assume_tz);
    let (mut scanned, error) =
        scan::scan_stream(Vec::new(), &mut un, &scan_ctx(id, kind, format, ctx));
    for e in scanned.events.iter_mut().filter(|e| e.time.is_none()) {
        e.time = un.time_of(e.loc.line);
    }
    drop_preamble(&mut scanned, &[], env == Envelope::Pasted);
    let (first, last) = un.span();
    scanned.first_time = scanned.first_time.or(first);
    scanned.last_time = scanned.last_time.or(last);
    if report.node.is_none() {
        report.node = un.pod.as_deref().and_then(crate::model::pod_node);
    }
    let mut facts = Facts::default();
    take_log(&mut report, &mut facts, scanned, kind, ctx);
    (Parsed { report, facts }, error)
}

/// Lines before the first entry of a log pasted into other text (a banner, a shell session,
/// a report's prose) are not unparsed log lines; in a plain log they are.
fn drop_preamble(out: &mut scan::ScanOutput, head: &[u8], pasted: bool) {
    if out.preamble_lines > 0 && (pasted || detect::log_after_preamble(head)) {
        out.unparsed_lines = out.unparsed_lines.saturating_sub(out.preamble_lines);
    }
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
