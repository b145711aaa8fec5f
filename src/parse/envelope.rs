//! Log envelopes: what a container runtime, `kubectl`, journald or syslog writes around a
//! program's own log lines, and the marks pasting leaves (quote and list markers,
//! indentation, code fences).
//!
//! Whether a file is enveloped is decided once, from its sniffed head ([`choose`]); a plain
//! file never reaches this module again. An enveloped file is read through [`Unwrap`], which
//! yields exactly one inner line per outer line (a CRI `P` or docker partial is joined on the
//! outer line where it starts, the lines it swallowed left blank), so the inner log keeps the
//! outer file's line numbers, and the inner parser sees its own format.

use super::Format;
use super::detect::{self, Detected};
use super::error::InputError;
use super::scan::LogFormat;
use super::time::parse_naive_prefix;
use crate::model::Kind;
use chrono::{DateTime, FixedOffset, TimeZone};
use std::borrow::Cow;
use std::io::{BufRead, Read};

/// The envelopes kvtriage unwraps, in the order a tie between them is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// docker json-file: `{"log":"<line>\n","stream":"stdout","time":"<RFC 3339>"}`.
    DockerJson,
    /// `journalctl -o json`: one object per line, the line in `MESSAGE`.
    JournaldJson,
    /// CRI / containerd: `<RFC 3339 nano> stdout|stderr F|P <text>`.
    Cri,
    /// `kubectl logs --prefix`: `[pod/<name>/<container>] `, maybe then a `--timestamps` stamp.
    KubectlPrefix,
    /// Classic syslog and `journalctl -o short|short-iso|short-precise`:
    /// `<stamp> <host> <prog>[pid]: `.
    Syslog,
    /// `kubectl logs --timestamps` (RFC 3339), and console viewers' `YYYY-MM-DD hh:mm:ss[:] `.
    Timestamps,
    /// Pasted text: `> ` quote markers, `- `/`* `/`1. ` list markers, indentation, fences.
    Pasted,
}

impl Envelope {
    pub const ALL: [Envelope; 7] = [
        Envelope::DockerJson,
        Envelope::JournaldJson,
        Envelope::Cri,
        Envelope::KubectlPrefix,
        Envelope::Syslog,
        Envelope::Timestamps,
        Envelope::Pasted,
    ];

    /// The name the input report shows.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::DockerJson => "docker-json",
            Envelope::JournaldJson => "journald-json",
            Envelope::Cri => "cri",
            Envelope::KubectlPrefix => "kubectl-prefix",
            Envelope::Syslog => "syslog",
            Envelope::Timestamps => "timestamps",
            Envelope::Pasted => "pasted",
        }
    }

    /// Does this line have the envelope's shape? A few byte comparisons (JSON is only
    /// looked for in lines that open an object).
    fn matches(self, l: &[u8]) -> bool {
        match self {
            Envelope::DockerJson => l.starts_with(b"{\"log\":"),
            Envelope::JournaldJson => {
                l.first() == Some(&b'{')
                    && (memchr::memmem::find(l, b"\"__REALTIME_TIMESTAMP\"").is_some()
                        || memchr::memmem::find(l, b"\"__CURSOR\"").is_some())
            }
            Envelope::Cri => cri(l).is_some(),
            Envelope::KubectlPrefix => pod_prefix(l).is_some(),
            Envelope::Syslog => syslog(l).is_some(),
            Envelope::Timestamps => stamp_prefix(l).is_some(),
            Envelope::Pasted => {
                let (n, fence) = pasted_prefix(l);
                (n > 0 && n < l.len()) || fence
            }
        }
    }
}

/// How many non-blank lines of the head decide the envelope.
const SNIFF_LINES: usize = 64;

/// The envelope most of the head's first lines have, if any.
pub fn sniff(head: &[u8]) -> Option<Envelope> {
    let mut counts = [0usize; Envelope::ALL.len()];
    let mut seen = 0usize;
    for l in head
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SNIFF_LINES)
    {
        seen += 1;
        for (i, e) in Envelope::ALL.iter().enumerate() {
            if e.matches(l) {
                counts[i] += 1;
            }
        }
    }
    let (i, &c) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, c)| (*c, usize::MAX - i))?;
    (c > 0 && c * 2 >= seen).then_some(Envelope::ALL[i])
}

/// What the head says about an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enveloped {
    /// A log inside an envelope: unwrap it, then read it as this format and kind.
    Log(Envelope, LogFormat, Kind),
    /// An envelope around lines of no format kvtriage reads (systemd's own messages, another
    /// program): the reason to show.
    Nothing(InputError),
}

/// Decides from the sniffed head whether an input is an enveloped log. `plain` is what
/// detection made of the bytes as they are: a dump stays a dump, and a plain log stays plain
/// unless unwrapping shows more of its format's lines.
pub fn choose(name: &str, head: &[u8], plain: &Detected) -> Option<Enveloped> {
    if matches!(plain, Detected::Found(f, _) if !matches!(f, Format::Log(_))) {
        return None;
    }
    let env = sniff(head)?;
    let mut inner = Vec::with_capacity(head.len());
    let mut un = Unwrap::new(head, env, FixedOffset::east_opt(0)?);
    un.record_times = false;
    // The head's bytes are in memory: reading them cannot fail.
    let _ = un.read_to_end(&mut inner);
    match detect::detect(name, &inner) {
        Detected::Found(Format::Log(format), kind) => {
            let better = match plain {
                Detected::Found(..) => detect::head_lines(&inner) > detect::head_lines(head),
                Detected::Skip(_) => true,
            };
            better.then_some(Enveloped::Log(env, format, kind))
        }
        _ if env != Envelope::Pasted && *plain == Detected::Skip(InputError::UnknownFormat) => {
            Some(Enveloped::Nothing(InputError::EnvelopeOnly(env.name())))
        }
        _ => None,
    }
}

// ---- line shapes --------------------------------------------------------------------------

fn digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// Length of an RFC 3339 stamp at the start (`2020-11-15T08:02:37.712403118Z`,
/// `...+08:00`, journald's `...+0800`); with `space_ok`, also `2024-01-31 18:24:56`
/// (no zone).
fn rfc3339_len(b: &[u8], space_ok: bool) -> Option<usize> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[13] != b':'
        || b[16] != b':'
        || !(b[10] == b'T' || (space_ok && b[10] == b' '))
        || !digits(&b[..4])
        || !digits(&b[5..7])
        || !digits(&b[8..10])
        || !digits(&b[11..13])
        || !digits(&b[14..16])
        || !digits(&b[17..19])
    {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let s = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    match b.get(i) {
        Some(b'Z') => Some(i + 1),
        Some(b'+' | b'-') => {
            let z = &b[i + 1..];
            if z.len() >= 5 && digits(&z[..2]) && z[2] == b':' && digits(&z[3..5]) {
                Some(i + 6)
            } else if z.len() >= 4 && digits(&z[..4]) {
                Some(i + 5)
            } else {
                None
            }
        }
        _ if b[10] == b' ' => Some(i),
        _ => None,
    }
}

/// The time of an RFC 3339 stamp (zone-less console stamps in `tz`).
pub fn stamp_time(s: &[u8], tz: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let s = std::str::from_utf8(s).ok()?;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t);
    }
    parse_naive_prefix(s, tz)
        .filter(|(_, n)| *n == s.len())
        .map(|(t, _)| t)
}

/// CRI: the stamp, the inner text and whether it is a partial (`P`).
fn cri(l: &[u8]) -> Option<(&[u8], &[u8], bool)> {
    let n = rfc3339_len(l, false)?;
    let rest = l[n..].strip_prefix(b" ")?;
    let rest = rest
        .strip_prefix(b"stdout ")
        .or_else(|| rest.strip_prefix(b"stderr "))?;
    let partial = match rest.first() {
        Some(b'F') => false,
        Some(b'P') => true,
        _ => return None,
    };
    let text = match rest.get(1) {
        None => &rest[1..],
        Some(b' ') => &rest[2..],
        Some(_) => return None,
    };
    Some((&l[..n], text, partial))
}

/// `kubectl --timestamps` (and console viewers'): the stamp and the text after it.
fn stamp_prefix(l: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = rfc3339_len(l, true)?;
    let rest = &l[n..];
    // DC/OS writes `2017-11-09 14:14:33: `.
    let rest = rest.strip_prefix(b":").unwrap_or(rest);
    let text = rest
        .strip_prefix(b" ")
        .or(rest.is_empty().then_some(rest))?;
    Some((&l[..n], text))
}

/// `kubectl --prefix`: the pod name and the text after `[pod/<name>/<container>] `.
fn pod_prefix(l: &[u8]) -> Option<(&str, &[u8])> {
    let rest = l.strip_prefix(b"[pod/")?;
    let close = memchr::memchr(b']', &rest[..rest.len().min(300)])?;
    let inner = std::str::from_utf8(&rest[..close]).ok()?;
    let (pod, container) = inner.split_once('/')?;
    if pod.is_empty() || container.is_empty() || inner.contains(' ') {
        return None;
    }
    let text = &rest[close + 1..];
    let text = text.strip_prefix(b" ").unwrap_or(text);
    Some((pod, text))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Syslog / journald short: the stamp (`Feb 18 03:19:30[.412398]` or short-iso), the program
/// tag (host and `[pid]` dropped), and the message.
pub fn syslog(l: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    // journald's short-iso prints the local offset, never `Z` (that is kubectl's stamp).
    let n = if let Some(n) = rfc3339_len(l, false) {
        if l[n - 1] == b'Z' {
            return None;
        }
        n
    } else {
        if l.len() < 16 || !MONTHS.iter().any(|m| l[..3] == m[..]) || l[3] != b' ' {
            return None;
        }
        let day_ok = (l[4] == b' ' || l[4].is_ascii_digit()) && l[5].is_ascii_digit();
        if !day_ok || l[6] != b' ' || l[9] != b':' || l[12] != b':' {
            return None;
        }
        if !digits(&l[7..9]) || !digits(&l[10..12]) || !digits(&l[13..15]) {
            return None;
        }
        let mut i = 15;
        if l.get(i) == Some(&b'.') {
            i += 1;
            while l.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        i
    };
    let rest = l[n..].strip_prefix(b" ")?;
    let host_end = memchr::memchr(b' ', rest)?;
    if host_end == 0 {
        return None;
    }
    let rest = &rest[host_end + 1..];
    // The tag: no space, ends with `:` (after an optional `[pid]`).
    let end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
    let tag = &rest[..end];
    if tag.len() < 2 || tag.last() != Some(&b':') {
        return None;
    }
    let tag = &tag[..tag.len() - 1];
    let name = match tag.iter().position(|&c| c == b'[') {
        Some(p) => {
            if tag.last() != Some(&b']') || !digits(&tag[p + 1..tag.len() - 1]) {
                return None;
            }
            &tag[..p]
        }
        None => tag,
    };
    if name.is_empty() || name.contains(&b':') {
        return None;
    }
    let text = &rest[end..];
    Some((&l[..n], name, text.strip_prefix(b" ").unwrap_or(text)))
}

/// Pasted text: how many bytes of markup open the line (indentation, `>` quote markers, a
/// `- `/`* `/`+ `/`1. `/`1) ` list marker), and whether the line is a code fence.
fn pasted_prefix(l: &[u8]) -> (usize, bool) {
    let ws = |i: &mut usize| {
        while l.get(*i).is_some_and(|c| matches!(c, b' ' | b'\t')) {
            *i += 1;
        }
    };
    let mut i = 0;
    ws(&mut i);
    while l.get(i) == Some(&b'>') {
        i += 1;
        ws(&mut i);
    }
    let rest = &l[i..];
    if rest.starts_with(b"```") || rest.starts_with(b"~~~") {
        return (l.len(), true);
    }
    if matches!(rest, [b'-' | b'*' | b'+', b' ', ..]) {
        i += 2;
    } else {
        let d = rest
            .iter()
            .take(5)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if d > 0 && matches!(rest.get(d), Some(b'.' | b')')) && rest.get(d + 1) == Some(&b' ') {
            i += d + 2;
        }
    }
    ws(&mut i);
    (i, false)
}

// ---- unwrapping ---------------------------------------------------------------------------

/// One outer line taken apart.
struct Inner<'a> {
    text: Cow<'a, [u8]>,
    time: Option<DateTime<FixedOffset>>,
    /// The line continues in the next outer line (CRI `P`, docker without a final `\n`).
    partial: bool,
    pod: Option<&'a str>,
}

impl<'a> Inner<'a> {
    fn raw(text: &'a [u8]) -> Inner<'a> {
        Inner {
            text: Cow::Borrowed(text),
            time: None,
            partial: false,
            pod: None,
        }
    }
}

#[derive(serde::Deserialize)]
struct DockerLine<'a> {
    #[serde(borrow)]
    log: Cow<'a, str>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
}

/// Takes one outer line apart; a line without the envelope's shape (a line pasted without
/// its prefix, a cut object) is its own inner line.
fn split(env: Envelope, l: &[u8], tz: FixedOffset) -> Inner<'_> {
    match env {
        Envelope::DockerJson => match serde_json::from_slice::<DockerLine<'_>>(l) {
            Ok(d) => {
                let partial = !d.log.ends_with('\n');
                let text = d.log.strip_suffix('\n').unwrap_or(&d.log);
                let text = text.strip_suffix('\r').unwrap_or(text);
                Inner {
                    text: Cow::Owned(text.as_bytes().to_vec()),
                    time: d.time.and_then(|t| stamp_time(t.as_bytes(), tz)),
                    partial,
                    pod: None,
                }
            }
            Err(_) => Inner::raw(l),
        },
        Envelope::JournaldJson => journald_json(l).unwrap_or_else(|| Inner::raw(l)),
        Envelope::Cri => match cri(l) {
            Some((stamp, text, partial)) => Inner {
                text: Cow::Borrowed(text),
                time: stamp_time(stamp, tz),
                partial,
                pod: None,
            },
            None => Inner::raw(l),
        },
        Envelope::KubectlPrefix => match pod_prefix(l) {
            Some((pod, text)) => {
                let (time, text) = match stamp_prefix(text) {
                    Some((s, t)) if s.get(10) == Some(&b'T') => (stamp_time(s, tz), t),
                    _ => (None, text),
                };
                Inner {
                    text: Cow::Borrowed(text),
                    time,
                    partial: false,
                    pod: Some(pod),
                }
            }
            None => Inner::raw(l),
        },
        Envelope::Syslog => match syslog(l) {
            Some((stamp, _, text)) => Inner {
                text: Cow::Borrowed(text),
                // `Feb 18 03:19:30` has no year: no time.
                time: stamp_time(stamp, tz),
                ..Inner::raw(text)
            },
            None => Inner::raw(l),
        },
        Envelope::Timestamps => match stamp_prefix(l) {
            Some((stamp, text)) => Inner {
                time: stamp_time(stamp, tz),
                ..Inner::raw(text)
            },
            None => Inner::raw(l),
        },
        Envelope::Pasted => match pasted_prefix(l) {
            (_, true) => Inner::raw(b""),
            (n, false) => Inner::raw(&l[n..]),
        },
    }
}

/// `journalctl -o json`: `MESSAGE` (a string, or an array of bytes for binary messages) and
/// `__REALTIME_TIMESTAMP` (microseconds since the epoch, UTC).
fn journald_json(l: &[u8]) -> Option<Inner<'_>> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(l).ok()?;
    let text = match v.get("MESSAGE")? {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()?,
        _ => return None,
    };
    let time = v
        .get("__REALTIME_TIMESTAMP")
        .and_then(|t| t.as_str())
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(|us| chrono::Utc.timestamp_micros(us).single())
        .map(|t| t.fixed_offset());
    Some(Inner {
        text: Cow::Owned(text),
        time,
        partial: false,
        pod: None,
    })
}

/// The longest outer line kept whole, and the longest joined partial (past these a hostile
/// line is cut, as the plain stream reader cuts it).
const MAX_LINE: usize = 64 << 20;
/// Envelope times are kept for this many lines at most.
const MAX_TIMES: usize = 1 << 24;

/// Reads an enveloped log as its inner log: one inner line per outer line, so that line
/// numbers stay the outer file's. Keeps each line's envelope time (for entries whose own
/// line has none) and the first pod a `--prefix` names.
pub struct Unwrap<R> {
    src: R,
    env: Envelope,
    tz: FixedOffset,
    outer: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    joined: Vec<u8>,
    joined_lines: usize,
    eof: bool,
    record_times: bool,
    times: Vec<Option<DateTime<FixedOffset>>>,
    /// The first pod a `kubectl --prefix` line names.
    pub pod: Option<String>,
}

impl<R: BufRead> Unwrap<R> {
    pub fn new(src: R, env: Envelope, tz: FixedOffset) -> Unwrap<R> {
        Unwrap {
            src,
            env,
            tz,
            outer: Vec::new(),
            out: Vec::new(),
            pos: 0,
            joined: Vec::new(),
            joined_lines: 0,
            eof: false,
            record_times: true,
            times: Vec::new(),
            pod: None,
        }
    }

    /// The envelope's time of a 1-based outer line.
    pub fn time_of(&self, line: u64) -> Option<DateTime<FixedOffset>> {
        let i = usize::try_from(line.checked_sub(1)?).ok()?;
        self.times.get(i).copied().flatten()
    }

    /// The envelope's first and last times.
    pub fn span(&self) -> (Option<DateTime<FixedOffset>>, Option<DateTime<FixedOffset>>) {
        let first = self.times.iter().find_map(|t| *t);
        let last = self.times.iter().rev().find_map(|t| *t);
        (first, last)
    }

    /// Reads the next outer line into `self.outer` (without its line end); `false` at the end.
    fn next_outer(&mut self) -> std::io::Result<bool> {
        self.outer.clear();
        let mut any = false;
        loop {
            let avail = match self.src.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (take, used, done) = match memchr::memchr(b'\n', avail) {
                Some(p) => (p, p + 1, true),
                None => (avail.len(), avail.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.outer.len());
            self.outer.extend_from_slice(&avail[..take.min(room)]);
            self.src.consume(used);
            if done {
                break;
            }
        }
        if self.outer.last() == Some(&b'\r') {
            self.outer.pop();
        }
        Ok(any)
    }

    /// Moves the joined entry (and a blank line per outer line it swallowed) to `out`.
    fn flush(&mut self) {
        self.out.extend_from_slice(&self.joined);
        self.out.push(b'\n');
        self.out.resize(self.out.len() + self.joined_lines, b'\n');
        self.joined.clear();
        self.joined_lines = 0;
    }

    /// Fills `out` with the next inner line(s); `false` at the end.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        while !self.eof && self.out.is_empty() {
            if !self.next_outer()? {
                self.eof = true;
                if !self.joined.is_empty() || self.joined_lines > 0 {
                    // A partial at the end: the entry as far as it goes. The last outer line
                    // was counted already; its blank is not written.
                    self.joined_lines = self.joined_lines.saturating_sub(1);
                    self.flush();
                }
                break;
            }
            let inner = split(self.env, &self.outer, self.tz);
            if self.record_times && self.times.len() < MAX_TIMES {
                self.times.push(inner.time);
            }
            if self.pod.is_none()
                && let Some(p) = inner.pod
            {
                self.pod = Some(p.to_string());
            }
            let room = MAX_LINE.saturating_sub(self.joined.len());
            let text = &inner.text[..inner.text.len().min(room)];
            // An inner line is one line: a line end inside it (a multi-line MESSAGE) would
            // shift every later line number.
            self.joined
                .extend(text.iter().map(|&c| if c == b'\n' { b' ' } else { c }));
            if inner.partial && self.joined.len() < MAX_LINE {
                self.joined_lines += 1;
                continue;
            }
            self.flush();
        }
        Ok(!self.out.is_empty())
    }
}

impl<R: BufRead> Read for Unwrap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn unwrap_all(env: Envelope, s: &str) -> String {
        let mut out = String::new();
        Unwrap::new(s.as_bytes(), env, utc())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    const TIKV: &str = r#"[2020/11/15 08:02:37.726 +00:00] [INFO] [lib.rs:93] ["Welcome to TiKV"]"#;

    #[test]
    fn docker_json_lines_and_partials() {
        let s = concat!(
            r#"{"log":"[2020/11/15 08:02:37.726 +00:00] [INFO] [lib.rs:93] [\"Welcome to TiKV\"]\n","stream":"stderr","time":"2020-11-15T08:02:37.726731045Z"}"#,
            "\n",
            r#"{"log":"first half ","stream":"stderr","time":"2020-11-15T08:02:38Z"}"#,
            "\n",
            r#"{"log":"second half\n","stream":"stderr","time":"2020-11-15T08:02:38Z"}"#,
            "\n",
            "not json\n",
        );
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::DockerJson));
        assert_eq!(
            unwrap_all(Envelope::DockerJson, s),
            format!("{TIKV}\nfirst half second half\n\nnot json\n")
        );
        let mut u = Unwrap::new(s.as_bytes(), Envelope::DockerJson, utc());
        std::io::copy(&mut u, &mut std::io::sink()).unwrap();
        assert_eq!(
            u.time_of(1).unwrap().to_rfc3339(),
            "2020-11-15T08:02:37.726731045+00:00"
        );
        assert_eq!(u.time_of(4), None);
    }

    #[test]
    fn cri_partials_are_joined_on_their_first_line() {
        let s = "2016-10-06T00:17:09.669794202Z stdout P log content 1-1\n\
                 2016-10-06T00:17:09.669794203Z stdout F  log content 1-2\n\
                 2016-10-06T00:17:09.669794203Z stderr F log content 2\n\
                 2016-10-06T00:17:09.669794203Z stderr F\n";
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::Cri));
        assert_eq!(
            unwrap_all(Envelope::Cri, s),
            "log content 1-1 log content 1-2\n\nlog content 2\n\n"
        );
        // A partial at the end of a cut file.
        assert_eq!(
            unwrap_all(Envelope::Cri, "2016-10-06T00:17:09Z stdout P abc"),
            "abc\n"
        );
    }

    #[test]
    fn kubectl_prefix_and_timestamps() {
        let s = format!("[pod/basic-tikv-0/tikv] {TIKV}\n[pod/basic-tikv-0/tikv] \n");
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::KubectlPrefix));
        let mut u = Unwrap::new(s.as_bytes(), Envelope::KubectlPrefix, utc());
        let mut out = String::new();
        u.read_to_string(&mut out).unwrap();
        assert_eq!(out, format!("{TIKV}\n\n"));
        assert_eq!(u.pod.as_deref(), Some("basic-tikv-0"));

        let s = format!("2020-11-15T08:02:37.726731045Z {TIKV}\n{TIKV}\n2020-11-15T08:02:37Z x\n");
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::Timestamps));
        assert_eq!(
            unwrap_all(Envelope::Timestamps, &s),
            format!("{TIKV}\n{TIKV}\nx\n")
        );
        let dcos = "2017-11-09 14:14:33: I171109 14:14:33.936738 1 cli/start.go:593  CockroachDB\n";
        assert_eq!(
            unwrap_all(Envelope::Timestamps, dcos),
            "I171109 14:14:33.936738 1 cli/start.go:593  CockroachDB\n"
        );
    }

    #[test]
    fn syslog_and_journald_short_forms() {
        for s in [
            "Feb 18 03:19:30 HD-TXSH-TIKV01 systemd[1]: tikv-20160.service failed.\n",
            "Feb  8 03:19:30.412398 HD-TXSH-TIKV01 systemd[1]: tikv-20160.service failed.\n",
            "2020-02-18T03:19:30+0800 HD-TXSH-TIKV01 systemd[1]: tikv-20160.service failed.\n",
            "Feb 18 03:19:30 HD-TXSH-TIKV01 systemd: tikv-20160.service failed.\n",
        ] {
            assert_eq!(sniff(s.as_bytes()), Some(Envelope::Syslog), "{s}");
            assert_eq!(
                unwrap_all(Envelope::Syslog, s),
                "tikv-20160.service failed.\n"
            );
        }
        let mut u = Unwrap::new(
            &b"2020-02-18T03:19:30+0800 h systemd[1]: x\n"[..],
            Envelope::Syslog,
            utc(),
        );
        std::io::copy(&mut u, &mut std::io::sink()).unwrap();
        assert_eq!(
            u.time_of(1).unwrap().to_rfc3339(),
            "2020-02-18T03:19:30+08:00"
        );
    }

    #[test]
    fn journald_json_message() {
        let s = r#"{"__REALTIME_TIMESTAMP":"1581967170412398","MESSAGE":"a\nb","_PID":"1"}
{"__REALTIME_TIMESTAMP":"1581967170412399","MESSAGE":[104,105]}
"#;
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::JournaldJson));
        let mut u = Unwrap::new(s.as_bytes(), Envelope::JournaldJson, utc());
        let mut out = String::new();
        u.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a b\nhi\n");
        assert_eq!(
            u.time_of(1).unwrap().to_rfc3339(),
            "2020-02-17T19:19:30.412398+00:00"
        );
    }

    #[test]
    fn pasted_markup() {
        let s = format!("> {TIKV}  \r\n- {TIKV}\n12. {TIKV}\n```\n    {TIKV}\n> > * {TIKV}\n...\n");
        assert_eq!(sniff(s.as_bytes()), Some(Envelope::Pasted));
        let t = TIKV;
        assert_eq!(
            unwrap_all(Envelope::Pasted, &s),
            format!("{t}  \n{t}\n{t}\n\n{t}\n{t}\n...\n")
        );
    }

    #[test]
    fn plain_logs_have_no_envelope() {
        let plain = format!("{TIKV}\n{TIKV}\n   0: backtrace\n");
        assert_eq!(sniff(plain.as_bytes()), None);
        let crdb = "I220202 20:51:24.672435 2867 1@server/drain.go:210 ⋮ [n1] 320  drain\n";
        assert_eq!(sniff(crdb.as_bytes()), None);
        let json = "{\"level\":\"INFO\",\"time\":\"2022/01/14 08:09:55.307 +01:00\"}\n";
        assert_eq!(sniff(json.as_bytes()), None);
    }

    #[test]
    fn choose_keeps_plain_logs_and_dumps() {
        let plain = format!("{TIKV}\n");
        let d = detect::detect("tikv.log", plain.as_bytes());
        assert_eq!(choose("tikv.log", plain.as_bytes(), &d), None);
        let quoted = format!("> {TIKV}\n> {TIKV}\n");
        let d = detect::detect("x.md", quoted.as_bytes());
        assert_eq!(
            choose("x.md", quoted.as_bytes(), &d),
            Some(Enveloped::Log(
                Envelope::Pasted,
                LogFormat::Unified,
                Kind::TikvLog
            ))
        );
        // TiKV's stderr under systemd, as journald and syslog keep it.
        let journal = format!("Feb 18 03:19:30 h tikv-server[21873]: {TIKV}\n");
        let d = detect::detect("messages", journal.as_bytes());
        assert_eq!(
            choose("messages", journal.as_bytes(), &d),
            Some(Enveloped::Log(
                Envelope::Syslog,
                LogFormat::Unified,
                Kind::TikvLog
            ))
        );
        let json = format!(
            "{{\"__REALTIME_TIMESTAMP\":\"1581967170412398\",\"MESSAGE\":{}}}\n",
            serde_json::to_string(TIKV).unwrap()
        );
        let d = detect::detect("journal.json", json.as_bytes());
        assert_eq!(
            choose("journal.json", json.as_bytes(), &d),
            Some(Enveloped::Log(
                Envelope::JournaldJson,
                LogFormat::Unified,
                Kind::TikvLog
            ))
        );
        let systemd = "Feb 18 03:19:30 h systemd[1]: tikv-20160.service failed.\n";
        let d = detect::detect("messages", systemd.as_bytes());
        assert_eq!(
            choose("messages", systemd.as_bytes(), &d),
            Some(Enveloped::Nothing(InputError::EnvelopeOnly("syslog")))
        );
    }
}
