//! pd-ctl output and PD HTTP API JSON: `store`, `store <id>`, `region <id>`, `region store
//! <id>` and other region lists, `config show`. Real files are often pasted terminal sessions:
//! a leading command line (`$ tiup ctl:v5.2.1 pd -u http://pd:2379 store 5`, `» config show`),
//! `Starting component ctl: ...`, one or more JSON documents, and answers such as `Success!` or
//! `Failed! [500] "cannot build operator for region with no leader"`. Excerpts cut from issue
//! threads may start mid-object (`"stores": [`); complete records are still recovered.

use super::scan::excerpt;
use crate::model::units::parse_byte_size;
use crate::model::{
    ConfigRecord, InputId, Level, Location, LogEvent, Peer, PeerId, PeerRole, Region, RegionId,
    Store, StoreBalance, StoreId, StoreState, Version,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct PdctlOutput {
    pub stores: Vec<Store>,
    pub regions: Vec<Region>,
    pub configs: Vec<ConfigRecord>,
    /// Non-JSON lines worth keeping: pd-ctl answers (`Failed! ...`), command lines.
    pub answers: Vec<LogEvent>,
    pub pd_addrs: Vec<String>,
    pub ctl_version: Option<(Version, u64)>,
    /// JSON documents (or recovered records) read.
    pub records: u64,
    /// What could not be read, for the input's reason.
    pub problem: Option<String>,
    /// What the input lacks as a copy: filtered answers, cut or elided documents, excerpts.
    pub partial: Vec<String>,
    /// The last pd-ctl command line seen, for the answer that follows it.
    last_command: Option<String>,
    /// What a salvaged document lacks, for its partial note.
    missing: Option<String>,
}

/// Text with a line index for offset → line lookups.
struct Text<'a> {
    s: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(s: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|p| p + 1));
        Text { s, line_starts }
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, off: usize) -> u64 {
        match self.line_starts.binary_search(&off) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }

    /// Offset of `"key": <num>` at or after `from`, within `until`.
    fn find_key_num(&self, key: &str, num: u64, from: usize, until: usize) -> Option<usize> {
        let hay = &self.s.as_bytes()[from.min(until)..until];
        let pat = format!("\"{key}\"");
        let mut start = 0;
        while let Some(p) = memchr::memmem::find(&hay[start..], pat.as_bytes()) {
            let at = start + p;
            let mut j = at + pat.len();
            while j < hay.len() && (hay[j] == b' ' || hay[j] == b':' || hay[j] == b'\t') {
                j += 1;
            }
            let ds = j;
            while j < hay.len() && hay[j].is_ascii_digit() {
                j += 1;
            }
            if j > ds && std::str::from_utf8(&hay[ds..j]).ok()?.parse::<u64>().ok() == Some(num) {
                return Some(from + at);
            }
            start = at + 1;
        }
        None
    }
}

/// Is this line the start of a JSON document (not a bracketed log line)?
fn json_start(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('{')
        || (t.starts_with('[')
            && !t[1..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit())
            // A shell prompt (`[jenkins@host ~]$ curl …`) is not an array.
            && !(t.contains("]$ ") || t.contains("]# ") || t.contains('@')))
        || t.starts_with("\"stores\"")
        || t.starts_with("\"regions\"")
}

pub fn parse(data: &str, input: InputId) -> PdctlOutput {
    let text = Text::new(data);
    let mut out = PdctlOutput::default();
    let mut off = 0usize;
    let mut line_no = 0u64;
    let mut problems: Vec<String> = Vec::new();
    let mut boundary = 0usize;
    while off < data.len() {
        let end = data[off..].find('\n').map_or(data.len(), |p| off + p);
        let line = &data[off..end];
        line_no += 1;
        if json_start(line) {
            let start = off + (line.len() - line.trim_start().len());
            // The document runs at most to the next command or answer line of the session
            // (found once for all the documents before it: linear in the text).
            if boundary <= end {
                boundary = document_limit(data, end);
            }
            let limit = boundary;
            let doc = &data[start..limit];
            let bare_member = doc.starts_with('"');
            let parsed: Result<(Value, usize), String> = if bare_member {
                // An excerpt that starts with a member: read it inside braces.
                let wrapped = format!("{{{doc}");
                let mut it = serde_json::Deserializer::from_str(&wrapped).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => Ok((v, it.byte_offset().saturating_sub(1))),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no JSON".into()),
                }
            } else {
                let mut it = serde_json::Deserializer::from_str(doc).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => Ok((v, it.byte_offset())),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no JSON".into()),
                }
            };
            match parsed {
                Ok((v, len)) => {
                    let doc_end = start + len;
                    if bare_member {
                        out.partial.push(format!(
                            "the document at line {line_no} starts inside its top object (an excerpt)"
                        ));
                    }
                    let (n, known) =
                        take_document(&v, &text, start, doc_end, input, &mut out, false);
                    if closers_follow(data, doc_end) {
                        out.partial.push(format!(
                            "the document at line {line_no} is the end of a larger one whose top is missing"
                        ));
                    }
                    if !known && !take_json_answer(&v, line_no, input, &mut out) {
                        problems.push(format!(
                            "JSON at line {line_no} is not a pd-ctl store, region or config document (top-level keys: {})",
                            top_keys(&v)
                        ));
                    }
                    out.records += n;
                    off = doc_end;
                    line_no = text.line_of(off.min(data.len().saturating_sub(1)));
                    // Continue at the next line after the document.
                    match data[off..].find('\n') {
                        Some(p) => {
                            off += p + 1;
                        }
                        None => off = data.len(),
                    }
                    continue;
                }
                Err(e) => {
                    let recovered =
                        salvage_document(&text, start, limit, bare_member, input, &mut out);
                    let cut_line = text.line_of(limit.saturating_sub(1).max(start));
                    problems.push(format!(
                        "JSON at line {} is incomplete ({}){}",
                        line_no,
                        e,
                        if recovered > 0 {
                            format!("; recovered {recovered} complete records")
                        } else {
                            String::new()
                        }
                    ));
                    out.partial.push(format!(
                        "the document at line {line_no} is cut or elided by line {cut_line}{}",
                        out.missing
                            .take()
                            .map_or(String::new(), |m| format!(": {m}"))
                    ));
                    out.records += recovered;
                    out.last_command = None;
                    if limit >= data.len() {
                        break;
                    }
                    off = limit;
                    line_no = text.line_of(off).saturating_sub(1);
                    continue;
                }
            }
        }
        note_command_line(line, line_no, input, &mut out);
        off = end + 1;
    }
    out.problem = problems.into_iter().next();
    out
}

/// Where a document that starts on the line ending at `line_end` must end: the start of the
/// next line that is a command, a prompt or a pd-ctl answer, else the end of the text.
fn document_limit(data: &str, line_end: usize) -> usize {
    let mut off = (line_end + 1).min(data.len());
    while off < data.len() {
        let end = data[off..].find('\n').map_or(data.len(), |p| off + p);
        if is_session_line(&data[off..end]) {
            return off;
        }
        off = end + 1;
    }
    data.len()
}

/// A line of a shell or pd-ctl session that no JSON document continues through.
fn is_session_line(line: &str) -> bool {
    let t = line.trim().trim_end_matches('\r');
    if t.is_empty() || t.starts_with(['"', '{', '}', ']', ',']) {
        return false;
    }
    if t.starts_with('[') && !(t.contains("]$ ") || t.contains("]# ")) {
        return false;
    }
    is_answer(t)
        || t.starts_with(['$', '»', '%', '#'])
        || t.starts_with(">>")
        || pdctl_args(t).is_some()
        || (is_curl_line(t) && super::documents::pd_api_command(t).is_some())
}

/// A pd-ctl answer line of any release: `Success!`, `successful!`, `Failed! [500] "…"`,
/// `Failed to set config: [400] "…"`, the older bare `[500]:"…"` and `[404] …`.
pub fn is_answer(t: &str) -> bool {
    let code = t
        .strip_prefix('[')
        .and_then(|r| r.get(..4))
        .is_some_and(|c| c.as_bytes()[..3].iter().all(u8::is_ascii_digit) && c.ends_with(']'));
    // `Failed to get store: [400] "…"`: pd-ctl's own wording has the HTTP code after it.
    let failed_to = t.starts_with("Failed to ")
        && t.find(": [")
            .is_some_and(|p| t.as_bytes().get(p + 3).is_some_and(u8::is_ascii_digit));
    code || t.starts_with("Failed!")
        || failed_to
        || t.starts_with("Success!")
        || t.starts_with("successful!")
        || t.contains("cannot build operator")
}

/// True when the lines after a document are lone closers (`]`, `}`): the document was an entry
/// of a larger one pasted without its top.
fn closers_follow(data: &str, doc_end: usize) -> bool {
    let rest = data.get(doc_end..).unwrap_or("");
    let mut lines = rest.lines().map(str::trim).filter(|l| !l.is_empty());
    // The rest of the document's own line (`,` or nothing), then the next line.
    let first = lines.next().map(|l| l.trim_start_matches(','));
    let next = match first {
        Some("") => lines.next(),
        other => other,
    };
    next.is_some_and(|l| matches!(l, "]" | "}" | "]," | "},"))
}

/// Cheap test on a head of text: a pasted pd-ctl session without a JSON document kvtriage
/// models (answers of any release, pd-ctl command lines, PD API calls).
pub fn is_transcript(text: &str) -> bool {
    text.lines().take(400).any(|l| {
        let t = l.trim();
        is_answer(t)
            || is_command_line(t)
            || (is_curl_line(t) && super::documents::pd_api_command(t).is_some())
    })
}

/// `curl …` typed at a prompt (`$ curl`, `[jenkins@host ~]$ curl`, `curl` first), not prose
/// that quotes a curl command.
fn is_curl_line(t: &str) -> bool {
    t.find("curl ").is_some_and(|p| {
        let before = t[..p].trim_end();
        before.is_empty() || before.ends_with(['$', '#', '%', '>'])
    })
}

/// pd-ctl's commands (its `help` of the 2.x–8.x releases).
const PDCTL_COMMANDS: &[&str] = &[
    "store",
    "region",
    "config",
    "operator",
    "scheduler",
    "member",
    "health",
    "unsafe",
    "tso",
    "cluster",
    "label",
    "hot",
    "ping",
    "log",
    "plugin",
    "min-resolved-ts",
    "service-gc-safepoint",
    "keyspace",
    "keyspace-group",
    "resource-manager",
    "stores",
    "table-ns",
    "classifier",
];

/// A pd-ctl command line as a session shows it: a prompt (`»`, `>>`, `$`, `%`, `#`,
/// `[user@host ~]$`) or the binary first (`pd-ctl`, `./bin/pd-ctl`, `tiup ctl:v… pd`), then one
/// of pd-ctl's commands. Prose that mentions pd-ctl, and quoted log lines that say "pd", are not.
fn is_command_line(t: &str) -> bool {
    let Some(args) = pdctl_args(t) else {
        return false;
    };
    if !args
        .split_whitespace()
        .next()
        .is_some_and(|w| PDCTL_COMMANDS.contains(&w))
    {
        return false;
    }
    let first = t.split_whitespace().next().unwrap_or("");
    let binary = |w: &str| w.ends_with("pd-ctl") || w == "tiup" || w.ends_with("/ctl");
    t.starts_with(['»', '$', '%', '#'])
        || t.starts_with(">>")
        || (t.starts_with('[') && (t.contains("]$ ") || t.contains("]# ")))
        || binary(first.trim_start_matches(['$', '>']))
}

/// Recovers what a cut or elided document holds: every complete record before the cut at any
/// depth, a record cut short with the fields read (a single `store` answer), else the scalar
/// settings of a config. Says in `out.missing` how much is missing.
fn salvage_document(
    text: &Text<'_>,
    start: usize,
    limit: usize,
    bare_member: bool,
    input: InputId,
    out: &mut PdctlOutput,
) -> u64 {
    let doc = &text.s[start..limit];
    let scan = super::documents::scan(doc.as_bytes());
    let prefix = if bare_member {
        super::documents::prefix_value(&format!("{{{doc}"))
    } else {
        super::documents::prefix_value(doc)
    };
    // A list of placement rules keeps its whole rules, wherever the elision is.
    let loc = Location {
        input,
        line: text.line_of(start),
    };
    let mut n = match super::pd_config::salvage_rules(doc, &scan, loc) {
        Some((record, rules)) => {
            out.configs.push(record);
            rules
        }
        None => 0,
    };
    if n == 0
        && let Some((v, _)) = &prefix
    {
        n = take_document(v, text, start, limit, input, out, true).0;
    }
    if n == 0 {
        n = salvage(text, start, &scan, input, out);
    }
    if n == 0 && salvage_config(text, start, limit, input, out) {
        n = 1;
    }
    // How much is missing: what the listing announced against what was read.
    let what = scan
        .open_list()
        .and_then(|l| l.key.clone())
        .unwrap_or_else(|| "records".to_string());
    let announced = scan
        .open_list()
        .and_then(|l| super::documents::announced_count(doc, l.at));
    out.missing = Some(match announced {
        Some(c) if c > n => format!("`count` says {c} {what}, {n} read, {} missing", c - n),
        _ if scan.is_cut() => format!("{n} complete {what} read; the rest is missing"),
        _ => format!("{n} complete {what} read; the document is not whole JSON"),
    });
    n
}

/// Command lines and answers around the JSON.
fn note_command_line(line: &str, line_no: u64, input: InputId, out: &mut PdctlOutput) {
    let t = line.trim().trim_end_matches('\r');
    if t.is_empty() {
        return;
    }
    // `tiup ctl:v5.2.1 pd -u http://pd-ip:2379 ...` / `pd-ctl -u 10.0.1.1:2379`
    if let Some(p) = t.find("ctl:v") {
        let v = &t[p + 4..];
        let v = v.split([' ', '/']).next().unwrap_or("");
        if let Some(ver) = Version::parse(v) {
            out.ctl_version.get_or_insert((ver, line_no));
        }
    }
    if let Some(p) = t.find("-u ") {
        let addr = t[p + 3..].split_whitespace().next().unwrap_or("");
        let addr = addr
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        if !addr.is_empty() && !out.pd_addrs.iter().any(|a| a == addr) {
            out.pd_addrs.push(addr.to_string());
        }
    }
    // Any answer of the pd-ctl releases, an error a command printed in its own words
    // (`address not found: `) on the line after it, or a value a `| jq` filter printed.
    let jq_value = out
        .last_command
        .as_deref()
        .is_some_and(|c| c.contains("| jq"))
        && pdctl_args(t).is_none();
    let free_error = out.last_command.is_some() && {
        let l = t.to_ascii_lowercase();
        ["not found", "error", "failed", "invalid", "unknown"]
            .iter()
            .any(|w| l.contains(w))
            && pdctl_args(t).is_none()
    };
    let cluster_version = out
        .last_command
        .as_deref()
        .is_some_and(|c| c.starts_with("config show cluster-version"));
    if let Some(v) = super::pd_config::cluster_version(t).filter(|_| cluster_version) {
        let loc = Location {
            input,
            line: line_no,
        };
        out.configs
            .push(super::pd_config::cluster_version_record(v, loc));
        out.records += 1;
        out.last_command = None;
        return;
    }
    if is_answer(t) || free_error || jq_value {
        let failed = !(t.starts_with("Success!") || t.starts_with("successful!"));
        let level = if failed { Level::Error } else { Level::Info };
        let cmd = out.last_command.take();
        out.answers
            .push(answer_event(input, line_no, level, t.to_string(), cmd));
    } else if let Some(p) = pdctl_args(t) {
        out.last_command = Some(p.to_string());
    } else if let Some(c) = super::documents::pd_api_command(t).filter(|_| is_curl_line(t)) {
        // Keep a `| jq …` filter: it decides what the answer is.
        out.last_command = Some(match t.find("| jq") {
            Some(p) => format!("{c} {}", &t[p..]),
            None => c,
        });
    }
}

/// The pd-ctl arguments of a pasted command line (`$ tiup ctl:v5.2.1 pd -u http://x:2379
/// operator add transfer-leader 434317 4` → `operator add transfer-leader 434317 4`).
fn pdctl_args(line: &str) -> Option<&str> {
    // Interactive mode (`pd-ctl -i`): `» operator add ...` holds the arguments alone.
    // The docs write the prompt `>> ` (`>> config show replication // comment`).
    if let Some(rest) = line.trim_start().strip_prefix(">>")
        && !rest.trim_start().starts_with(['$', '>'])
        && !rest
            .split_whitespace()
            .any(|w| w == "pd" || w.ends_with("pd-ctl"))
    {
        let rest = rest.split("//").next().unwrap_or("").trim();
        return (!rest.is_empty()).then_some(rest);
    }
    if let Some(rest) = line.trim_start().strip_prefix('»') {
        let rest = rest.trim();
        return (!rest.is_empty()).then_some(rest);
    }
    let t = line.trim_start_matches(['$', '>', ' ']);
    // Words with their offsets, so the arguments are a slice of the line.
    let words: Vec<(usize, &str)> = t
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - t.as_ptr() as usize, w))
        .collect();
    let at = words
        .iter()
        .position(|(_, w)| *w == "pd" || w.ends_with("pd-ctl") || w.ends_with("/ctl"))?;
    let mut i = at + 1;
    // `tiup ctl:v5.2.1 pd ...` and tiup's `Starting component ctl: .../ctl pd ...`.
    if words.get(i).is_some_and(|(_, w)| *w == "pd") {
        i += 1;
    }
    while i < words.len() && words[i].1.starts_with('-') {
        // A flag and its value (`-u http://...`, `--pd ...`).
        i += if words[i].1.contains('=') { 1 } else { 2 };
    }
    let (start, _) = words.get(i)?;
    Some(t[*start..].trim())
}

/// Region and store ids a pd-ctl command names, as event fields.
fn command_ids(cmd: &str) -> Vec<(String, String)> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let num = |i: usize| w.get(i).filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
    let mut out = Vec::new();
    match w.as_slice() {
        ["operator", "add", _, ..] => {
            if let Some(r) = num(3) {
                out.push(("region-id".to_string(), r.to_string()));
            }
            if let Some(s) = num(4) {
                out.push(("store-id".to_string(), s.to_string()));
            }
        }
        ["region", ..] => {
            if let Some(r) = num(1) {
                out.push(("region-id".to_string(), r.to_string()));
            }
        }
        ["store", sub, ..] => {
            let id = if sub.bytes().all(|b| b.is_ascii_digit()) {
                Some(*sub)
            } else {
                num(2).copied()
            };
            if let Some(s) = id {
                out.push(("store-id".to_string(), s.to_string()));
            }
        }
        _ => {}
    }
    out
}

/// Recovers scalar settings from a config dump cut short (`"key": value` lines, sections
/// from `"schedule": {` lines). True if it looks like a PD config.
fn salvage_config(
    text: &Text<'_>,
    from: usize,
    until: usize,
    input: InputId,
    out: &mut PdctlOutput,
) -> bool {
    let mut values = BTreeMap::new();
    let mut section: Vec<String> = Vec::new();
    for line in text.s[from..until].lines() {
        let t = line.trim().trim_end_matches(',');
        if t.starts_with('}') {
            section.pop();
            continue;
        }
        let Some(rest) = t.strip_prefix('"') else {
            continue;
        };
        let Some((key, val)) = rest.split_once("\":") else {
            continue;
        };
        let val = val.trim();
        if val.starts_with('{') {
            if !val.ends_with('}') {
                section.push(key.to_string());
            }
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(val) else {
            continue;
        };
        let full = if section.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", section.join("."))
        };
        values.insert(full, v);
    }
    let known = [
        "max-replicas",
        "merge-schedule-limit",
        "max-merge-region-size",
        "leader-schedule-limit",
        "region-schedule-limit",
    ];
    let hits = values
        .keys()
        .filter(|k| known.contains(&k.rsplit('.').next().unwrap_or("")))
        .count();
    if hits < 2 {
        return false;
    }
    out.configs.push(ConfigRecord::pd(
        values,
        Location {
            input,
            line: text.line_of(from),
        },
    ));
    true
}

/// Recovers complete store/region objects, at any depth, from damaged or excerpted JSON.
fn salvage(
    text: &Text<'_>,
    from: usize,
    scan: &super::documents::Scan,
    input: InputId,
    out: &mut PdctlOutput,
) -> u64 {
    let s = text.s;
    let mut spans = scan.objects.clone();
    // Outer objects first: a store or region is taken whole, its own objects skipped.
    spans.sort_by_key(|sp| (sp.start, std::cmp::Reverse(sp.end)));
    let mut n = 0;
    let mut taken_until = 0usize;
    for sp in spans {
        if sp.start < taken_until {
            continue;
        }
        let (at, end) = (from + sp.start, from + sp.end);
        let Some(body) = s.get(at..end) else {
            continue;
        };
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        if m.contains_key("store") && m.contains_key("status") {
            if let Some(st) = store_from(&m, text, at, end, input) {
                out.stores.push(st);
                n += 1;
            }
            taken_until = sp.end;
        } else if m.contains_key("peers") && m.contains_key("id") {
            if let Some(r) = region_from(&m, text, at, end, input) {
                out.regions.push(r);
                n += 1;
            }
            taken_until = sp.end;
        }
    }
    n
}

fn top_keys(v: &Value) -> String {
    match v {
        Value::Object(m) => m.keys().take(8).cloned().collect::<Vec<_>>().join(", "),
        Value::Array(_) => "an array".into(),
        _ => "a scalar".into(),
    }
}

/// Takes the records of one JSON document: how many were read, and whether the document is
/// one kvtriage models (a store list may be empty). `cut` when the document is cut short.
fn take_document(
    v: &Value,
    text: &Text<'_>,
    start: usize,
    end: usize,
    input: InputId,
    out: &mut PdctlOutput,
    cut: bool,
) -> (u64, bool) {
    let before = out.stores.len() + out.regions.len() + out.configs.len();
    let known = match v {
        Value::Object(m) => {
            m.contains_key("stores")
                || m.contains_key("store")
                || m.contains_key("regions")
                || (m.contains_key("peers") && m.contains_key("id"))
                || is_config(m)
        }
        rules => super::pd_config::is_rule_list(rules),
    };
    if known {
        take_records(v, text, start, end, input, out, cut);
    }
    (
        (out.stores.len() + out.regions.len() + out.configs.len() - before) as u64,
        known,
    )
}

fn take_records(
    v: &Value,
    text: &Text<'_>,
    start: usize,
    end: usize,
    input: InputId,
    out: &mut PdctlOutput,
    cut: bool,
) {
    let line = text.line_of(start);
    if let Value::Array(items) = v {
        out.last_command = None;
        let rules: Vec<&Map<String, Value>> = items.iter().filter_map(Value::as_object).collect();
        let loc = Location { input, line };
        out.configs
            .push(super::pd_config::rules_record(&rules, loc));
        return;
    }
    let Value::Object(m) = v else {
        return;
    };
    // The command a pasted answer followed decides what it covers.
    let command = out.last_command.take();
    let shown = |c: &Option<String>| c.as_deref().map_or(String::new(), |c| format!(" (`{c}`)"));
    if let Some(Value::Array(stores)) = m.get("stores") {
        let complete = !cut && store_listing_is_complete(command.as_deref(), m, stores.len());
        if !complete && !cut {
            out.partial.push(match m.get("count").and_then(Value::as_u64) {
                Some(c) if c as usize != stores.len() => format!(
                    "the store list at line {line} says `count` {c} but lists {}",
                    stores.len()
                ),
                _ => format!(
                    "the store list at line {line} is a filtered answer{}: only the stores it selects",
                    shown(&command)
                ),
            });
        }
        let mut cursor = start;
        for s in stores {
            if let Value::Object(sm) = s
                && let Some(mut st) = store_from(sm, text, cursor, end, input)
            {
                cursor = text
                    .find_key_num("id", st.id.0, cursor, end)
                    .map_or(cursor, |p| p + 1);
                st.complete = complete;
                out.stores.push(st);
            }
        }
    } else if m.get("store").is_some_and(Value::is_object) {
        // A store cut before its state says nothing about it: its state would read as Up.
        // The code alone settles Offline (1) and Tombstone (2); code 0 is named Up, Down or
        // Disconnected by `state_name`, which must then be there.
        let stated = m.get("store").and_then(Value::as_object).is_some_and(|st| {
            st.contains_key("state_name") || i64_of(st.get("state")).is_some_and(|c| c != 0)
        });
        if let Some(st) = store_from(m, text, start, end, input).filter(|_| stated || !cut) {
            if !cut {
                out.partial.push(format!(
                    "line {line} answers for one store{}, not the store list",
                    shown(&command)
                ));
            }
            out.stores.push(st);
        }
    } else if let Some(Value::Array(regions)) = m.get("regions") {
        let filtered = command.as_deref().is_some_and(|c| {
            let w: Vec<&str> = c.split_whitespace().collect();
            w.first() != Some(&"region") || w.len() > 1
        });
        let count_off = m
            .get("count")
            .and_then(Value::as_u64)
            .is_some_and(|c| c as usize != regions.len());
        if !cut && (filtered || count_off) {
            out.partial.push(if count_off {
                format!(
                    "the region list at line {line} says `count` {} but lists {}",
                    m.get("count").and_then(Value::as_u64).unwrap_or(0),
                    regions.len()
                )
            } else {
                format!(
                    "the region list at line {line} is a filtered answer{}: only the regions it selects",
                    shown(&command)
                )
            });
        }
        let complete = !cut && !filtered && !count_off;
        let mut cursor = start;
        for r in regions {
            if let Value::Object(rm) = r
                && let Some(mut reg) = region_from(rm, text, cursor, end, input)
            {
                reg.complete = complete;
                cursor = text
                    .find_key_num("id", reg.id.0, cursor, end)
                    .map_or(cursor, |p| p + 1);
                out.regions.push(reg);
            }
        }
    } else if m.contains_key("peers") && m.contains_key("id") {
        if let Some(reg) = region_from(m, text, start, end, input) {
            if !cut {
                out.partial.push(format!(
                    "line {line} answers for one region{}, not the region list",
                    shown(&command)
                ));
            }
            out.regions.push(reg);
        }
    } else if is_config(m) {
        let mut values = BTreeMap::new();
        flatten("", v, &mut values);
        let section = super::pd_config::section_of(command.as_deref(), m);
        if let Some(s) = section {
            out.partial.push(format!(
                "the config at line {line} shows the `{s}` settings only{}",
                shown(&command)
            ));
        }
        let loc = Location { input, line };
        out.configs
            .push(super::pd_config::record(values, section, loc));
    }
}

/// An answer line as an event, with the command it answers and the ids that command names.
fn answer_event(
    input: InputId,
    line: u64,
    level: Level,
    message: String,
    cmd: Option<String>,
) -> LogEvent {
    let mut fields = Vec::new();
    if let Some(cmd) = cmd {
        fields.extend(command_ids(&cmd));
        fields.push(("command".to_string(), cmd));
    }
    LogEvent {
        loc: Location { input, line },
        time: None,
        level: Some(level),
        source: None,
        excerpt: excerpt(&message),
        message,
        fields,
        groups: Vec::new(),
        operator: None,
    }
}

/// A JSON answer kvtriage does not model (`scheduler config …`, `/pd/api/v1/schedulers`), kept
/// as an answer of the command shown above it. False when no command is shown.
fn take_json_answer(v: &Value, line_no: u64, input: InputId, out: &mut PdctlOutput) -> bool {
    let Some(cmd) = out.last_command.take() else {
        return false;
    };
    let mut body = v.to_string();
    if body.len() > 200 {
        let mut cut = 200;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push('…');
    }
    let message = format!("{cmd}: {body}");
    out.answers.push(answer_event(
        input,
        line_no,
        Level::Info,
        message,
        Some(cmd),
    ));
    true
}

/// A store list covers every store when it answers a bare `store` (or no command is shown:
/// a saved `pd-ctl store` or PD API `/stores` dump) and its `count` matches what it lists.
/// `store <id>`, `store check <state>`, `store --state ...` answer for some stores only.
fn store_listing_is_complete(command: Option<&str>, m: &Map<String, Value>, len: usize) -> bool {
    let count_matches = match m.get("count").and_then(Value::as_u64) {
        Some(c) => c as usize == len,
        None => true,
    };
    let unfiltered = match command {
        None => true,
        Some(c) => {
            let words: Vec<&str> = c.split_whitespace().collect();
            // `store`, `store --jq ...` is still every store; a curl of /stores too.
            words.first() == Some(&"store")
                && words[1..]
                    .iter()
                    .all(|w| w.starts_with("--jq") || w.starts_with('-'))
                && !c.contains("--state")
        }
    };
    count_matches && unfiltered
}

pub fn is_config(m: &Map<String, Value>) -> bool {
    m.contains_key("replication")
        || m.contains_key("schedule")
        || m.contains_key("max-replicas")
        || m.contains_key("merge-schedule-limit")
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn u64_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn i64_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn store_from(
    m: &Map<String, Value>,
    text: &Text<'_>,
    from: usize,
    until: usize,
    input: InputId,
) -> Option<Store> {
    let Value::Object(st) = m.get("store")? else {
        return None;
    };
    let status = match m.get("status") {
        Some(Value::Object(s)) => Some(s),
        _ => None,
    };
    let id = u64_of(st.get("id")).or_else(|| status.and_then(|s| u64_of(s.get("store_id"))))?;
    let state = match st.get("state_name") {
        Some(Value::String(s)) => StoreState::parse(s),
        _ => StoreState::from_code(i64_of(st.get("state")).unwrap_or(0)),
    };
    let labels = match st.get("labels") {
        Some(Value::Array(ls)) => ls
            .iter()
            .filter_map(|l| {
                Some((
                    l.get("key")?.as_str()?.to_string(),
                    l.get("value")?.as_str()?.to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    let size = |k: &str| {
        status
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str().and_then(parse_byte_size).or_else(|| v.as_u64()))
    };
    let last_heartbeat = status
        .and_then(|s| s.get("last_heartbeat_ts"))
        .and_then(Value::as_str)
        .and_then(super::time::parse_rfc3339);
    let num = |k: &str| status.and_then(|s| s.get(k)).and_then(Value::as_f64);
    let start = status
        .and_then(|s| s.get("start_ts"))
        .and_then(Value::as_str)
        .and_then(super::time::parse_rfc3339);
    let uptime = status
        .and_then(|s| s.get("uptime"))
        .and_then(Value::as_str)
        .and_then(crate::model::units::parse_log_duration)
        .or_else(|| match (start, last_heartbeat) {
            (Some(a), Some(b)) if b >= a => Some((b - a).num_milliseconds() as f64 / 1000.0),
            _ => None,
        });
    let id_off = text.find_key_num("id", id, from, until).unwrap_or(from);
    // Cite the `state_name` line (what a reader wants to see), else the id line.
    let line_off = memchr::memmem::find(&text.s.as_bytes()[id_off..until], b"\"state_name\"")
        .map_or(id_off, |p| id_off + p);
    Some(Store {
        id: StoreId(id),
        address: st.get("address").and_then(Value::as_str).map(String::from),
        state,
        node_state: i64_of(st.get("node_state")),
        labels,
        version: st.get("version").and_then(Value::as_str).map(String::from),
        capacity: size("capacity"),
        available: size("available"),
        region_count: status.and_then(|s| u64_of(s.get("region_count"))),
        leader_count: status.and_then(|s| u64_of(s.get("leader_count"))),
        balance: StoreBalance {
            leader_weight: num("leader_weight"),
            region_weight: num("region_weight"),
            leader_score: num("leader_score"),
            region_score: num("region_score"),
        },
        uptime,
        last_heartbeat,
        loc: Location {
            input,
            line: text.line_of(line_off),
        },
        complete: false,
    })
}

fn peer_from(v: &Value) -> Option<Peer> {
    let m = v.as_object()?;
    let store_id = u64_of(m.get("store_id"))?;
    Some(Peer {
        id: u64_of(m.get("id")).map(PeerId),
        store_id: StoreId(store_id),
        role: PeerRole::parse(
            m.get("role_name").and_then(Value::as_str),
            i64_of(m.get("role")),
            m.get("is_learner")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
    })
}

fn region_from(
    m: &Map<String, Value>,
    text: &Text<'_>,
    from: usize,
    until: usize,
    input: InputId,
) -> Option<Region> {
    let id = u64_of(m.get("id"))?;
    let peers: Vec<Peer> = match m.get("peers") {
        Some(Value::Array(ps)) => ps.iter().filter_map(peer_from).collect(),
        _ => Vec::new(),
    };
    // PD prints a leaderless region's leader as `{"role_name":"Voter"}`: no store_id.
    let leader = m.get("leader").and_then(peer_from);
    let down_peers = match m.get("down_peers") {
        Some(Value::Array(ds)) => ds
            .iter()
            .filter_map(|d| {
                let p = peer_from(d.get("peer")?)?;
                Some((p, u64_of(d.get("down_seconds"))))
            })
            .collect(),
        _ => Vec::new(),
    };
    let pending_peers = match m.get("pending_peers") {
        Some(Value::Array(ps)) => ps.iter().filter_map(peer_from).collect(),
        _ => Vec::new(),
    };
    let id_off = text.find_key_num("id", id, from, until).unwrap_or(from);
    let leader_line = memchr::memmem::find(&text.s.as_bytes()[id_off..until], b"\"leader\"")
        .map(|p| text.line_of(id_off + p));
    Some(Region {
        id: RegionId(id),
        peers,
        leader,
        down_peers,
        pending_peers,
        approximate_size: i64_of(m.get("approximate_size")),
        approximate_keys: i64_of(m.get("approximate_keys")),
        loc: Location {
            input,
            line: text.line_of(id_off),
        },
        leader_line,
        complete: false,
    })
}

/// The text of a line of a pd-ctl file, for evidence.
#[cfg(test)]
mod tests {
    use super::*;

    const REGION_STORE_5: &str = r#"$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 region store 5
{ "count": 1, "regions": [ { "id": 434317, "peers": [ {"store_id":1,"role_name":"Voter"}, {"store_id":4,"role_name":"Voter"}, {"store_id":5,"role_name":"Voter"}, {"store_id":390553,"role_name":"Learner"}, {"store_id":390554,"role_name":"Learner"} ], "leader": {"role_name":"Voter"} } ] }
"#;

    #[test]
    fn leaderless_region_from_pasted_session() {
        let out = parse(REGION_STORE_5, InputId(0));
        assert_eq!(out.regions.len(), 1);
        let r = &out.regions[0];
        assert_eq!(r.id, RegionId(434317));
        assert!(r.leader.is_none());
        assert_eq!(r.peers.len(), 5);
        assert_eq!(r.peers[3].role, PeerRole::Learner);
        assert_eq!(r.loc.line, 2);
        assert!(!r.complete, "`region store 5` is a filtered answer");
        let all = parse(
            &REGION_STORE_5.replace("region store 5", "region"),
            InputId(0),
        );
        assert!(all.regions[0].complete);
        assert!(all.partial.is_empty());
        assert_eq!(out.ctl_version.unwrap().0, Version::new(5, 2, 1));
        assert_eq!(out.pd_addrs, vec!["pd-ip:2379".to_string()]);
    }

    #[test]
    fn store_with_state_code_and_sizes() {
        let j = r#"{
  "store": { "id": 5, "address": "10.203.93.36:20160", "state": 1, "version": "5.2.1", "state_name": "Offline" },
  "status": { "capacity": "0B", "available": "0B", "leader_count": 0, "region_count": 0,
              "last_heartbeat_ts": "2022-03-29T09:24:05.511041818+08:00" }
}
Success!
"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 1);
        let s = &out.stores[0];
        assert!(s.is_offline());
        assert_eq!(s.capacity, Some(0));
        assert_eq!(s.loc.line, 2);
        assert_eq!(out.answers.len(), 1);
    }

    #[test]
    fn store_balance_fields_and_uptime() {
        let j = r#"{"count": 2, "stores": [
  { "store": { "id": 5, "state_name": "Up" },
    "status": { "leader_count": 11, "leader_weight": 1, "leader_score": 11, "region_weight": 2,
                "region_score": 24.5, "uptime": "865h29m33.273981143s" } },
  { "store": { "id": 9, "state_name": "Up" },
    "status": { "start_ts": "2017-04-28T08:44:58Z", "last_heartbeat_ts": "2017-04-28T08:46:59.903958281Z" } }
]}"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 2);
        let b = &out.stores[0].balance;
        assert_eq!(b.leader_weight, Some(1.0));
        assert_eq!(b.leader_score, Some(11.0));
        assert_eq!(b.region_weight, Some(2.0));
        assert_eq!(b.region_score, Some(24.5));
        assert!((out.stores[0].uptime.unwrap() - 3_115_773.273_981_143).abs() < 1e-6);
        assert_eq!(out.stores[1].balance.leader_score, None);
        assert!((out.stores[1].uptime.unwrap() - 121.903).abs() < 1e-9);
    }

    #[test]
    fn excerpt_starting_mid_object_and_truncated() {
        let j = r#">>pd-ctl store check offline
"stores": [
    {
      "store": { "id": 1531026, "state": 1, "state_name": "Offline" },
      "status": { "capacity": "3.125TiB", "available": "3.043TiB", "region_count": 7 }
    },
    {
      "store": { "id": 7, "state_name": "Up" },
      "status": { "capaci"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 1);
        assert!(out.problem.is_some());
        assert_eq!(out.stores[0].capacity, Some(3_435_973_836_800));
    }

    #[test]
    fn answers_carry_their_command_and_ids() {
        let t = "// Transfer leader to store 4\n$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 operator add transfer-leader 434317 4\nFailed! [500] \"cannot build operator for region with no leader\"\n$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 store delete 5\nSuccess!\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.answers.len(), 2);
        let a = &out.answers[0];
        assert_eq!(
            a.field("command"),
            Some("operator add transfer-leader 434317 4")
        );
        assert_eq!(a.field("region-id"), Some("434317"));
        assert_eq!(a.field("store-id"), Some("4"));
        assert_eq!(out.answers[1].field("store-id"), Some("5"));
        assert_eq!(pdctl_args("» config show"), Some("config show"));
        assert_eq!(pdctl_args("$ tiup ctl:v5.2.1 pd -u http://x:2379 -i"), None);
        assert_eq!(
            pdctl_args("pd-ctl -u 10.0.1.1:2379 region 7"),
            Some("region 7")
        );
    }

    /// Several answers in one session, each with the coverage its command gives it
    /// (tikv/pd#7189, `transcript-pdctl-store-check.txt`): an elided list, an empty list, an
    /// error in the 7.x wording.
    #[test]
    fn several_documents_each_tied_to_its_command() {
        let t = "$ ./pd-ctl store check up\n{\n  \"count\": 3,\n  \"stores\": [\n    {\n      \"store\": {\n        \"id\": 3,\n\t...\n\n$ ./pd-ctl store check down\n{\n  \"count\": 0,\n  \"stores\": []\n}\n\n$ ./pd-ctl store check hu\nFailed to get store: [400] \"unknown StoreState: hu\"\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.stores.len(), 0);
        assert_eq!(out.answers.len(), 1);
        assert_eq!(out.answers[0].field("command"), Some("store check hu"));
        assert_eq!(out.answers[0].loc.line, 17);
        assert_eq!(out.partial.len(), 2, "{:?}", out.partial);
        assert!(out.partial[0].contains("3 missing"), "{:?}", out.partial);
        assert!(out.partial[1].contains("`store check down`"));
    }

    #[test]
    fn answers_of_every_era() {
        for a in [
            "Success!",
            "successful!",
            "Failed! [500] \"cannot build operator for region with no leader\"",
            "[500]:\"region has no leader\"",
            "[404] 404 page not found",
            "Failed to set config: [400] \"cannot update MaxReplicas\"",
        ] {
            assert!(is_answer(a), "{a}");
            let out = parse(&format!("» scheduler remove x\n{a}\n"), InputId(0));
            assert_eq!(out.answers.len(), 1, "{a}");
            assert_eq!(out.answers[0].field("command"), Some("scheduler remove x"));
        }
        assert!(!is_answer("[2022/03/04 13:20:41.459 +08:00] [INFO]"));
        assert!(!is_answer("Failed to connect to 10.0.1.1"));
        // Prose and quoted log lines are not sessions (realogs INDEX.md, SOURCE.md, replbug).
        for prose in [
            "- Format era: `curl .../pd/api/v1/stores` JSON (same shape as pd-ctl store)",
            "| issue-pd-2151 | 1 | pd-ctl | pd-ctl `» config show` JSON |",
            "   > [2024/07/15 13:14:38.659 +00:00] [INFO] [peer.rs:1727] [\"notify pd with split\"]",
            "- System: pd-ctl",
        ] {
            assert!(!is_transcript(prose), "{prose}");
        }
        assert!(is_transcript(
            "[jenkins@k8s ~]$ curl 127.0.0.1:2379/pd/api/v1/stores\n"
        ));
        assert!(is_transcript(
            "./bin/pd-ctl -u http://127.0.0.1:2379 store 1\n"
        ));
        assert!(is_transcript(
            ">> pd-ctl config set max-replicas 1\nsuccessful!\n"
        ));
    }

    /// The PD API answers like pd-ctl: `curl …/pd/api/v1/stores` lists every store.
    #[test]
    fn curl_of_the_stores_api_is_a_complete_listing() {
        let t = "[jenkins@k8s ~]$ curl 127.0.0.1:2379/pd/api/v1/stores\n{\"count\": 1, \"stores\": [{\"store\": {\"id\": 1, \"state_name\": \"Up\"}, \"status\": {}}]}\n[jenkins@k8s ~]$ curl 127.0.0.1:2379/pd/api/v1/schedulers\n[\n  \"balance-region-scheduler\"\n]\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.stores.len(), 1);
        assert!(out.stores[0].complete);
        assert!(out.partial.is_empty(), "{:?}", out.partial);
        assert_eq!(out.answers.len(), 1);
        assert_eq!(out.answers[0].field("command"), Some("api schedulers"));
        assert!(out.problem.is_none());
    }

    /// A cut at any depth keeps the records that closed before it, and a cut store list is
    /// never complete.
    #[test]
    fn cut_store_list_keeps_whole_stores_and_is_not_complete() {
        let t = "{ \"stores\": [ {\"store\": {\"id\": 1, \"state_name\": \"Up\"}, \"status\": {\"region_count\": 4}}, {\"store\": {\"id\": 2, \"state_name\": \"Offline\"}, \"status\": {\"regi";
        let out = parse(t, InputId(0));
        assert_eq!(out.stores.len(), 1);
        assert!(!out.stores[0].complete);
        assert_eq!(out.stores[0].region_count, Some(4));
        assert_eq!(out.partial.len(), 1);
        // A single store cut before its state is not taken: it would read as Up.
        let out = parse("{ \"store\": { \"id\": 3, \"address\": \"x\",", InputId(0));
        assert!(out.stores.is_empty());
        let out = parse(
            "{ \"store\": { \"id\": 3, \"state\": 1, \"last_heartbeat\": 16",
            InputId(0),
        );
        assert!(out.stores[0].is_offline());
    }

    /// Many documents and no session line: the end of each is found once, not per document.
    #[test]
    fn many_documents_are_read_in_linear_time() {
        let one = "{\"store\": {\"id\": 1, \"state_name\": \"Up\"}, \"status\": {}}\n";
        let text = one.repeat(50_000);
        let t = std::time::Instant::now();
        let out = parse(&text, InputId(0));
        assert_eq!(out.stores.len(), 50_000);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("0B"), Some(0));
        assert_eq!(parse_byte_size("288.9MiB"), Some(302_933_606));
        assert_eq!(parse_byte_size("17 GiB"), Some(17 << 30));
        assert_eq!(parse_byte_size("102 GB"), Some(102_000_000_000));
        assert_eq!(parse_byte_size("n/a"), None);
    }

    #[test]
    fn config_show_flattened() {
        let j = r#"» config show
{ "replication": { "max-replicas": 3 }, "schedule": { "high-space-ratio": 0.6, "merge-schedule-limit": 8 } }
"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.configs.len(), 1);
        assert_eq!(
            out.configs[0].get_f64("schedule.high-space-ratio"),
            Some(0.6)
        );
        assert_eq!(out.configs[0].get_f64("max-replicas"), Some(3.0));
    }
}
