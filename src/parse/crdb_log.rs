//! CockroachDB log lines: crdb-v1 (glog style, with or without the `⋮` redaction marker),
//! crdb-v1-count and crdb-v2 (channel, tags, counter and continuation marker).
//!
//! Common prefix (formats-cockroach.md §1.1):
//! `Lyymmdd hh:mm:ss.uuuuuu goid [chan@]file:line marker ...` where the marker is `⋮`
//! (redactable), its mojibake `â‹®`, or an empty position (double space).
//!
//! * crdb-v1: `... file:line  [tags] message` (tags optional; a number after the tags is
//!   part of the message, e.g. `[n1,replicate] 83 replicas failing`).
//! * crdb-v2: `... [chan@]file:line ⋮ [tags] counter cont payload` where `cont` is a space
//!   (start of an entry: two spaces before the text), `=` (structured JSON), `+`/`|`
//!   (continuation) or `!` (stack trace). Header lines have no counter: `[config]   text`.
//!
//! Very old (v1.0) files may omit the goroutine id; copies pasted into documents may have
//! their runs of spaces collapsed to one (seed 004), which is handled where unambiguous.

use crate::model::Level;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// One parsed head line.
#[derive(Debug)]
pub struct Line<'a> {
    /// UTC (`+00:00`): CockroachDB writes UTC timestamps without a zone marker.
    pub time: Option<DateTime<FixedOffset>>,
    pub level: Level,
    /// `server/drain.go:210` (channel prefix `1@` and `(gostd) ` removed).
    pub source: &'a str,
    /// The text after tags/counter; for structured entries the JSON text after `=`.
    pub message: String,
    /// `channel`, `goroutine`, `counter`, `node`, `tags`, `cont`, `redactable`, `event`,
    /// `ev.<Key>` (see the module documentation of the crate's scanner).
    pub fields: Vec<(String, String)>,
}

/// UTF-8 of `⋮` (U+22EE).
const MARK: &[u8] = "\u{22ee}".as_bytes();
/// `⋮` decoded as Windows-1252 and re-encoded as UTF-8: `â‹®`.
const MARK_MOJI: &[u8] = "\u{e2}\u{2039}\u{ae}".as_bytes();

/// `Lyymmdd hh:mm:ss.uuuuuu ` with L in `IWEF`. A handful of byte comparisons; no allocation.
#[inline]
pub fn is_head(b: &[u8]) -> bool {
    b.len() > 24
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[7] == b' '
        && b[10] == b':'
        && b[13] == b':'
        && b[16] == b'.'
        && b[23] == b' '
        && b[1..7].iter().all(u8::is_ascii_digit)
        && b[8].is_ascii_digit()
        && b[17].is_ascii_digit()
        && b[22].is_ascii_digit()
}

/// Parses a head line (see [`is_head`]). Returns `None` only for non-head lines.
pub fn parse_line(line: &str) -> Option<Line<'_>> {
    let b = line.as_bytes();
    if !is_head(b) {
        return None;
    }
    let level = match b[0] {
        b'I' => Level::Info,
        b'W' => Level::Warn,
        b'E' => Level::Error,
        _ => Level::Fatal,
    };
    let time = parse_time(b);
    let mut fields: Vec<(String, String)> = Vec::new();

    // Everything after the timestamp; `pos` is a byte index into `line`.
    let mut pos = 24;
    let (tok, next) = token(b, pos);
    // Goroutine id (omitted by some v1.0 builds).
    let mut goroutine = None;
    if !tok.is_empty() && tok.iter().all(u8::is_ascii_digit) {
        goroutine = Some((pos, pos + tok.len()));
        pos = next;
    }
    let mut gostd = false;
    if b[pos..].starts_with(b"(gostd) ") {
        gostd = true;
        pos += 8;
    }
    let (tok, _) = token(b, pos);
    let mut channel = None;
    if let Some(at) = tok.iter().position(|&c| c == b'@')
        && at > 0
        && tok[..at].iter().all(u8::is_ascii_digit)
    {
        channel = Some((pos, pos + at));
        pos += at + 1;
    }
    let src_end = pos
        + b[pos..]
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(b.len() - pos);
    let source = line.get(pos..src_end).unwrap_or("");
    pos = src_end;

    // Redaction marker or the empty (double space) marker position.
    let mut redactable = false;
    let rest = &b[pos..];
    if rest.len() > MARK.len() && rest[0] == b' ' && rest[1..].starts_with(MARK) {
        redactable = true;
        pos += 1 + MARK.len();
    } else if rest.len() > MARK_MOJI.len() && rest[0] == b' ' && rest[1..].starts_with(MARK_MOJI) {
        redactable = true;
        pos += 1 + MARK_MOJI.len();
    } else if rest.starts_with(b"  ") {
        pos += 2;
    } else if rest.starts_with(b" ") {
        pos += 1;
    }
    if redactable && b.get(pos) == Some(&b' ') {
        pos += 1;
    }

    // Tags.
    let mut tags = None;
    if b.get(pos) == Some(&b'[')
        && let Some(close) = match_bracket(b, pos)
    {
        let inner = &line[pos + 1..close];
        if !looks_like_file_line(inner) {
            tags = Some(inner);
            pos = close + 1;
            if b.get(pos) == Some(&b' ') {
                pos += 1;
            }
        }
    }

    // Counter and continuation marker (crdb-v2), else the message starts here.
    let v2_hint = channel.is_some() || gostd || matches!(tags, Some("-") | Some(""));
    let mut counter = None;
    let mut cont = None;
    let mut msg_start = pos;
    if tags.is_some() {
        let r = &b[pos..];
        let digits = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            // `[config]   text`: empty counter, then the continuation position.
            if r.first() == Some(&b' ') {
                match r.get(1) {
                    Some(b' ') => msg_start = pos + 2,
                    Some(&c) if is_cont(c) => {
                        cont = Some(c);
                        msg_start = pos + 2;
                    }
                    _ => msg_start = pos + 1,
                }
            }
        } else {
            let after = &r[digits..];
            let is_counter = match after {
                [] => v2_hint,
                [b' '] => true,
                [b' ', b' ', ..] => true,
                [b' ', c, ..] if is_cont(*c) => true,
                [b' ', ..] => v2_hint,
                _ => false,
            };
            if is_counter {
                counter = Some((pos, pos + digits));
                let a = pos + digits;
                match after.get(1) {
                    Some(b' ') => msg_start = a + 2,
                    Some(&c) if is_cont(c) => {
                        cont = Some(c);
                        msg_start = a + 2;
                    }
                    Some(_) => msg_start = a + 1,
                    None => msg_start = b.len(),
                }
            }
        }
    }
    let message = line
        .get(msg_start.min(b.len())..)
        .unwrap_or("")
        .trim_end_matches(['\r', '\n']);

    if let Some((s, e)) = channel {
        fields.push(("channel".into(), line[s..e].into()));
    }
    if let Some((s, e)) = goroutine {
        fields.push(("goroutine".into(), line[s..e].into()));
    }
    if let Some((s, e)) = counter {
        fields.push(("counter".into(), line[s..e].into()));
    }
    if let Some(t) = tags {
        if let Some(n) = node_tag(t) {
            fields.push(("node".into(), n.into()));
        }
        fields.push(("tags".into(), t.into()));
    }
    if let Some(c) = cont {
        fields.push(("cont".into(), (c as char).to_string()));
    }
    if redactable {
        fields.push(("redactable".into(), "1".into()));
    }
    let json = if cont == Some(b'=') {
        Some(message)
    } else if cont.is_none() {
        message
            .strip_prefix("Structured entry: ")
            .map(str::trim_start)
            .filter(|j| j.starts_with('{'))
    } else {
        None
    };
    if let Some(j) = json {
        let kv = json_top_fields(j);
        if let Some((_, ev)) = kv.iter().find(|(k, _)| k == "EventType") {
            fields.push(("event".into(), ev.clone()));
        }
        fields.extend(kv.into_iter().map(|(k, v)| (format!("ev.{k}"), v)));
    } else {
        // Older releases print events as text; the same fields, so rules read one shape.
        old_event_fields(message, &mut fields);
    }

    Some(Line {
        time,
        level,
        source,
        message: message.to_string(),
        fields,
    })
}

/// v1.x-20.2 event lines (`Event: "node_decommissioning", target: 4, info: {...}`, 20.2
/// wraps values in ‹›) and the text form of setting changes (`{SettingName:x Value:y ...}`)
/// as the structured fields newer releases log.
fn old_event_fields(message: &str, fields: &mut Vec<(String, String)>) {
    static EVENT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    if message.contains("Event: ")
        && let Some(re) = EVENT.get_or_init(|| {
            regex::Regex::new(r#"Event: ‹?"(node_[a-z_]+)"›?, target: ‹?(\d+)"#).ok()
        })
        && let Some(c) = re.captures(message)
    {
        fields.push(("event".into(), c[1].to_string()));
        fields.push(("ev.TargetNodeID".into(), c[2].to_string()));
    }
    if let Some(p) = message.find("SettingName:") {
        let rest = &message[p + "SettingName:".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '›')
            .collect();
        if let Some(v) = rest.find("Value:") {
            let value: String = rest[v + "Value:".len()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '}')
                .collect();
            fields.push(("ev.SettingName".into(), name));
            fields.push(("ev.Value".into(), value));
        }
    }
}

#[inline]
fn is_cont(c: u8) -> bool {
    matches!(c, b'+' | b'|' | b'=' | b'!')
}

/// The run of non-space bytes at `pos` and the index after the following space.
fn token(b: &[u8], pos: usize) -> (&[u8], usize) {
    let r = &b[pos.min(b.len())..];
    let n = r.iter().position(|&c| c == b' ').unwrap_or(r.len());
    (&r[..n], (pos + n + 1).min(b.len()))
}

fn parse_time(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    let num = |s: usize, l: usize| -> Option<u32> {
        let d = b.get(s..s + l)?;
        d.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(2000 + num(1, 2)? as i32, num(3, 2)?, num(5, 2)?)?;
    let t = date.and_hms_micro_opt(num(8, 2)?, num(11, 2)?, num(14, 2)?, num(17, 6)?)?;
    FixedOffset::east_opt(0)?.from_local_datetime(&t).single()
}

/// Index of the `]` closing the `[` at `open`, counting nested brackets (tags such as
/// `client=‹[::1]:50812›`).
fn match_bracket(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// RocksDB messages start with `[db/version_set.cc:3406]`: a location, not tags.
fn looks_like_file_line(s: &str) -> bool {
    let Some((file, line)) = s.rsplit_once(':') else {
        return false;
    };
    !line.is_empty()
        && line.bytes().all(|c| c.is_ascii_digit())
        && file.contains('.')
        && file
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/' | b'.' | b'-'))
}

/// The `n<id>` element of a tag list (`n?` is not a node id).
fn node_tag(tags: &str) -> Option<&str> {
    tags.split(',').find_map(|t| {
        let id = t.strip_prefix('n')?;
        (!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())).then_some(id)
    })
}

/// Top-level keys of a JSON object with their values as text (strings unescaped, other
/// values as written). Tolerant: a cut object (long entries are split with `|`) yields
/// the complete pairs before the cut.
fn json_top_fields(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return out;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            break;
        }
        let Some(kend) = string_end(b, i) else { break };
        let key = unescape(&s[i..kend]);
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            break;
        }
        i = skip_ws(b, i + 1);
        let (value, vend) = match b.get(i) {
            Some(b'"') => {
                let Some(e) = string_end(b, i) else { break };
                (unescape(&s[i..e]), e)
            }
            Some(b'{') | Some(b'[') => {
                let Some(e) = compound_end(b, i) else { break };
                (s[i..e].to_string(), e)
            }
            Some(_) => {
                let e = i + b[i..]
                    .iter()
                    .position(|&c| matches!(c, b',' | b'}'))
                    .unwrap_or(b.len() - i);
                if e == b.len() {
                    // No terminator: the value may be cut.
                    break;
                }
                (s[i..e].trim().to_string(), e)
            }
            None => break,
        };
        out.push((key, value));
        i = skip_ws(b, vend);
        if b.get(i) != Some(&b',') {
            break;
        }
        i += 1;
    }
    out
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Index after the closing quote of the string starting at `i` (a `"`).
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Index after the object/array starting at `i`.
fn compound_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = string_end(b, j)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// `"text"` (with quotes) to its decoded content.
fn unescape(quoted: &str) -> String {
    serde_json::from_str::<String>(quoted).unwrap_or_else(|_| {
        quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or(quoted)
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(l: &'a Line<'_>, k: &str) -> Option<&'a str> {
        l.fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    fn p(s: &str) -> Line<'_> {
        match parse_line(s) {
            Some(l) => l,
            None => panic!("unparsed: {s}"),
        }
    }

    #[test]
    fn v2_unstructured_with_channel_and_tags() {
        let l = p(
            "I220202 20:51:21.654349 2867 1@server/drain.go:210 ⋮ [n1,server drain process] 299  drain remaining: 15",
        );
        assert_eq!(l.level, Level::Info);
        assert_eq!(l.source, "server/drain.go:210");
        assert_eq!(l.message, "drain remaining: 15");
        assert_eq!(
            l.time.map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-02-02T20:51:21.654349+00:00")
        );
        assert_eq!(field(&l, "channel"), Some("1"));
        assert_eq!(field(&l, "goroutine"), Some("2867"));
        assert_eq!(field(&l, "counter"), Some("299"));
        assert_eq!(field(&l, "node"), Some("1"));
        assert_eq!(field(&l, "tags"), Some("n1,server drain process"));
        assert_eq!(field(&l, "redactable"), Some("1"));
        assert_eq!(field(&l, "cont"), None);
    }

    #[test]
    fn v2_no_channel_keeps_redaction_markers() {
        let l = p(
            "W220202 20:51:23.772264 681 sql/stmtdiagnostics/statement_diagnostics.go:162 ⋮ [n1] 313  error polling for statement diagnostics requests: ‹stmt-diag-poll›: cannot acquire lease when draining",
        );
        assert_eq!(l.level, Level::Warn);
        assert_eq!(field(&l, "channel"), None);
        assert_eq!(field(&l, "counter"), Some("313"));
        assert!(l.message.starts_with("error polling"));
        assert!(l.message.contains("‹stmt-diag-poll›"));
    }

    #[test]
    fn v2_structured_event() {
        let l = p(
            r#"I220211 02:14:30.906726 13931 1@util/log/event_log.go:32 ⋮ [-] 1064 ={"Timestamp":1644545670665746000,"EventType":"node_decommissioning","RequestingNodeID":1,"TargetNodeID":4}"#,
        );
        assert_eq!(l.source, "util/log/event_log.go:32");
        assert_eq!(field(&l, "counter"), Some("1064"));
        assert_eq!(field(&l, "cont"), Some("="));
        assert_eq!(field(&l, "tags"), Some("-"));
        assert_eq!(field(&l, "node"), None);
        assert_eq!(field(&l, "event"), Some("node_decommissioning"));
        assert_eq!(field(&l, "ev.TargetNodeID"), Some("4"));
        assert_eq!(field(&l, "ev.RequestingNodeID"), Some("1"));
        assert_eq!(field(&l, "ev.Timestamp"), Some("1644545670665746000"));
        assert!(l.message.starts_with("{\"Timestamp\""));
    }

    #[test]
    fn v2_structured_event_with_redacted_strings_and_no_channel() {
        let l = p(
            r#"I210919 11:24:42.836436 40 util/log/event_log.go:32 ⋮ [n1,intExec=‹set-setting›] 49 ={"Timestamp":1632050683995232304,"EventType":"set_cluster_setting","Statement":"‹SET CLUSTER SETTING version = $1›","Tag":"SET CLUSTER SETTING","User":"root","ApplicationName":"$ internal-set-setting","SettingName":"version","Value":"‹21.1›"}"#,
        );
        assert_eq!(field(&l, "event"), Some("set_cluster_setting"));
        assert_eq!(
            field(&l, "ev.Statement"),
            Some("‹SET CLUSTER SETTING version = $1›")
        );
        assert_eq!(field(&l, "node"), Some("1"));
        assert_eq!(field(&l, "tags"), Some("n1,intExec=‹set-setting›"));
    }

    #[test]
    fn v2_cut_structured_event_and_pipe_continuation() {
        let l = p(
            r#"I210116 21:49:17.080713 14 1@util/log/event_log.go:32 ⋮ [] 32 ={"Timestamp":1610833757080706620,"EventTy"#,
        );
        assert_eq!(field(&l, "tags"), Some(""));
        assert_eq!(field(&l, "cont"), Some("="));
        assert_eq!(field(&l, "event"), None);
        assert_eq!(field(&l, "ev.Timestamp"), Some("1610833757080706620"));
        let l = p(
            r#"I210116 21:49:17.080713 14 1@util/log/event_log.go:32 ⋮ [] 32 |pe":"node_restart"}"#,
        );
        assert_eq!(field(&l, "cont"), Some("|"));
        assert_eq!(l.message, r#"pe":"node_restart"}"#);
        assert_eq!(field(&l, "event"), None);
    }

    #[test]
    fn v2_plus_continuation_is_a_head() {
        let s = "W210919 11:24:26.359820 1 1@cli/start.go:1010 ⋮ [-] 1 +This mode is intended for non-production testing only.";
        assert!(is_head(s.as_bytes()));
        let l = p(s);
        assert_eq!(field(&l, "cont"), Some("+"));
        assert_eq!(field(&l, "counter"), Some("1"));
        assert_eq!(
            l.message,
            "This mode is intended for non-production testing only."
        );
        // An empty continuation line.
        let l = p("W210919 11:24:26.359820 1 1@cli/start.go:1010 ⋮ [-] 1 +");
        assert_eq!(field(&l, "cont"), Some("+"));
        assert_eq!(l.message, "");
    }

    #[test]
    fn v2_config_header_without_counter() {
        let l = p(
            "I210919 11:23:11.264753 1 util/log/file_sync_buffer.go:238 ⋮ [config]   log format (utf8=✓): crdb-v2",
        );
        assert_eq!(l.message, "log format (utf8=✓): crdb-v2");
        assert_eq!(field(&l, "tags"), Some("config"));
        assert_eq!(field(&l, "counter"), None);
    }

    #[test]
    fn v2_tenant_tags_and_pebble_channel() {
        let l = p(
            "I210919 11:24:26.570603 53 3@vendor/github.com/cockroachdb/pebble/open.go:305 ⋮ [n?,pebble,s?] 1  [JOB 1] WAL created 000004",
        );
        assert_eq!(field(&l, "channel"), Some("3"));
        assert_eq!(field(&l, "node"), None);
        assert_eq!(l.message, "[JOB 1] WAL created 000004");
        let l = p(
            r#"I260313 02:26:09.272830 590 2@util/log/event_log.go:90 ⋮ [T1,Vsystem,n1] 81 ={"Timestamp":1773368769272822000,"EventType":"runtime_stats","MemRSSBytes":431652864}"#,
        );
        assert_eq!(field(&l, "node"), Some("1"));
        assert_eq!(field(&l, "event"), Some("runtime_stats"));
        assert_eq!(field(&l, "ev.MemRSSBytes"), Some("431652864"));
    }

    #[test]
    fn v2_tags_with_nested_brackets() {
        let l = p(
            "I210323 20:21:04.621132 113397 5@sql/conn.go:1 ⋮ [n1,client=‹[::1]:50812›,hostnossl,user=root] 14  hello",
        );
        assert_eq!(
            field(&l, "tags"),
            Some("n1,client=‹[::1]:50812›,hostnossl,user=root")
        );
        assert_eq!(l.message, "hello");
    }

    #[test]
    fn v2_without_redaction_marker_stderr() {
        let l = p(
            "I251008 15:54:42.613200 15 2@rpc/peer.go:613  [rnode=?,raddr=10.142.1.228:26257,class=system,rpc] 1  connection is now healthy",
        );
        assert_eq!(field(&l, "channel"), Some("2"));
        assert_eq!(field(&l, "counter"), Some("1"));
        assert_eq!(field(&l, "redactable"), None);
        assert_eq!(field(&l, "node"), None);
        assert_eq!(l.message, "connection is now healthy");
        let l = p(
            "I251008 15:54:42.622586 1 cli/rpc_node_shutdown.go:184  [-] 2  drain details: tenant servers: 3",
        );
        assert_eq!(l.source, "cli/rpc_node_shutdown.go:184");
        assert_eq!(field(&l, "counter"), Some("2"));
        assert_eq!(l.message, "drain details: tenant servers: 3");
    }

    #[test]
    fn gostd_prefix() {
        let l = p(
            "I210116 21:49:17.073282 14 (gostd) net/http/server.go:3100 ⋮ [-] 5  http: TLS handshake error",
        );
        assert_eq!(l.source, "net/http/server.go:3100");
        assert_eq!(field(&l, "counter"), Some("5"));
        assert_eq!(l.message, "http: TLS handshake error");
    }

    #[test]
    fn mojibake_marker_from_pasted_docs() {
        let l = p(
            "I220202 20:51:21.654349 2867 1@server/drain.go:210 â‹® [n1,server drain process] 299 drain remaining: 15",
        );
        assert_eq!(field(&l, "redactable"), Some("1"));
        assert_eq!(field(&l, "counter"), Some("299"));
        assert_eq!(l.message, "drain remaining: 15");
        let l = p(
            r#"I220211 02:16:39.093251 21514 1@util/log/event_log.go:32 â‹® [-] 1680 ={"Timestamp":1644545798928274000,"EventType":"node_decommissioned","RequestingNodeID":1,"TargetNodeID":4}"#,
        );
        assert_eq!(field(&l, "event"), Some("node_decommissioned"));
        assert_eq!(field(&l, "ev.TargetNodeID"), Some("4"));
    }

    #[test]
    fn v1_plain_with_tags_number_is_message() {
        let l = p("I200207 16:33:54.408412 14 server/node.go:388  [n?] new node allocated ID 2");
        assert_eq!(l.source, "server/node.go:388");
        assert_eq!(l.message, "new node allocated ID 2");
        assert_eq!(field(&l, "tags"), Some("n?"));
        assert_eq!(field(&l, "node"), None);
        let l = p(
            r#"E180218 13:59:34.567258 167 storage/queue.go:745  [n1,replicate] 16 replicas failing with "0 of 0 stores""#,
        );
        assert_eq!(field(&l, "counter"), None);
        assert_eq!(field(&l, "node"), Some("1"));
        assert!(l.message.starts_with("16 replicas failing"));
    }

    #[test]
    fn v1_without_tags_and_rocksdb_location() {
        let l = p("I181113 04:38:33.837753 27352 cli/start.go:831  40 running tasks");
        assert_eq!(l.message, "40 running tasks");
        assert_eq!(field(&l, "tags"), None);
        assert_eq!(field(&l, "counter"), None);
        let l = p(
            "I191227 02:56:23.036382 17 storage/engine/rocksdb.go:120  [db/db_impl_compaction_flush.cc:2097] Calling FlushMemTableToOutputFile",
        );
        assert_eq!(field(&l, "tags"), None);
        assert!(
            l.message
                .starts_with("[db/db_impl_compaction_flush.cc:2097]")
        );
        // Leading spaces of the payload are data.
        let l = p(
            "I191227 02:40:19.690415 22 storage/engine/rocksdb.go:120    Options.memtable_insert_with_hint_prefix_extractor: nullptr",
        );
        assert_eq!(
            l.message,
            "  Options.memtable_insert_with_hint_prefix_extractor: nullptr"
        );
    }

    #[test]
    fn v1_config_header_and_old_2017_lines() {
        let l = p(
            "I170916 08:54:23.256106 72057594054705152 util/log/clog.go:1013  [config] file created at: 2017/09/16 08:54:23",
        );
        assert_eq!(field(&l, "goroutine"), Some("72057594054705152"));
        assert_eq!(field(&l, "tags"), Some("config"));
        assert_eq!(l.message, "file created at: 2017/09/16 08:54:23");
        // v1.0: no goroutine id at all.
        let l = p("I170916 09:07:56.528462 cli/start.go:340  starting cockroach node");
        assert_eq!(l.source, "cli/start.go:340");
        assert_eq!(field(&l, "goroutine"), None);
        assert_eq!(l.message, "starting cockroach node");
    }

    #[test]
    fn v1_with_redaction_marker_v20_2() {
        let l = p(
            "I210118 05:39:53.571190 88 server/config.go:625 ⋮ [n?] 1 storage engine‹› initialized",
        );
        assert_eq!(field(&l, "redactable"), Some("1"));
        assert_eq!(field(&l, "counter"), None);
        assert_eq!(l.message, "1 storage engine‹› initialized");
        let l = p("I210118 05:39:53.538984 1 server/config.go:434 ⋮ system total memory: ‹15 GiB›");
        assert_eq!(field(&l, "tags"), None);
        assert_eq!(l.message, "system total memory: ‹15 GiB›");
        let l = p(
            "I201223 21:55:51.722336 49 util/log/sync_buffer.go:195 ⋮ [config] running on machine: ‹TK-Pad›",
        );
        assert_eq!(field(&l, "tags"), Some("config"));
        assert_eq!(l.message, "running on machine: ‹TK-Pad›");
    }

    #[test]
    fn v1_structured_entry() {
        let l = p(
            r#"I201215 10:00:00.000000 123 util/log/event_log.go:32  [n1] Structured entry: {"Timestamp":1608026400000000000,"EventType":"node_restart","NodeID":1,"StartedAt":1608026399000000000}"#,
        );
        assert_eq!(field(&l, "event"), Some("node_restart"));
        assert_eq!(field(&l, "ev.NodeID"), Some("1"));
        assert!(l.message.starts_with("Structured entry: "));
    }

    #[test]
    fn v1_continuation_and_other_lines_are_not_heads() {
        for s in [
            "gossip client (0/3 cur/max conns)",
            "  | github.com/cockroachdb/cockroach/pkg/kv/kvserver.init",
            "I0101 12:00:00.000000 1 main.go:1] klog line",
            "I200207 16:33:54",
            "",
            "goroutine 1 [running]:",
        ] {
            assert!(!is_head(s.as_bytes()), "{s}");
            assert!(parse_line(s).is_none());
        }
    }

    #[test]
    fn lossy_decoded_line_and_fatal() {
        let l = p(
            "F191227 02:57:02.530678 19770 util/log/clog.go:1272  disk stall \u{fffd}\u{fffd} detected",
        );
        assert_eq!(l.level, Level::Fatal);
        assert_eq!(l.message, "disk stall \u{fffd}\u{fffd} detected");
        let l = p(
            "E200823 05:52:29.113462 1 cli/error.go:373  ERROR: cockroach server exited with error\r",
        );
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.message, "ERROR: cockroach server exited with error");
    }

    #[test]
    fn invalid_date_gives_no_time_but_parses() {
        let l = p("I209999 99:99:99.999999 1 x.go:1  hi");
        assert!(l.time.is_none());
        assert_eq!(l.message, "hi");
    }

    /// Walks the real CockroachDB logs (if present): every head line must parse.
    #[test]
    fn realogs_crdb_heads() {
        let Ok(rd) = std::fs::read_dir("/work/shared/realogs") else {
            return;
        };
        let mut dirs: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("crdb-"))
            })
            .collect();
        dirs.sort();
        let (mut files, mut lines, mut heads, mut bad, mut odd, mut before) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let (mut events, mut counters, mut conts) = (0u64, 0u64, 0u64);
        let mut bad_examples = Vec::new();
        for d in dirs {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let path = e.path();
                if path.extension().and_then(|x| x.to_str()) != Some("log") {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                files += 1;
                let text = String::from_utf8_lossy(&bytes);
                let v2 = text.contains("log format (utf8=\u{2713}): crdb-v2");
                let mut seen_head = false;
                for l in text.lines() {
                    lines += 1;
                    if is_head(l.as_bytes()) {
                        seen_head = true;
                        heads += 1;
                        let Some(p) = parse_line(l) else {
                            bad += 1;
                            if bad_examples.len() < 5 {
                                bad_examples.push(l.to_string());
                            }
                            continue;
                        };
                        // Shape checks: a `file:line` source, a valid time, and in crdb-v2
                        // files a counter on every entry but the `[config]` header lines.
                        let tags = field(&p, "tags");
                        events += u64::from(field(&p, "event").is_some());
                        counters += u64::from(field(&p, "counter").is_some());
                        conts += u64::from(field(&p, "cont").is_some());
                        let misshapen = !p.source.contains(':')
                            || p.time.is_none()
                            || (v2 && tags != Some("config") && field(&p, "counter").is_none())
                            || (!v2
                                && field(&p, "counter").is_some()
                                && field(&p, "channel").is_none()
                                && tags != Some("-"));
                        if misshapen {
                            odd += 1;
                            if bad_examples.len() < 5 {
                                bad_examples.push(l.to_string());
                            }
                        }
                    } else if !seen_head {
                        before += 1;
                    }
                }
            }
        }
        println!(
            "realogs crdb: files={files} lines={lines} heads={heads} head_unparsed={bad} \
             misshapen={odd} lines_before_first_head={before} events={events} \
             counters={counters} cont_markers={conts}"
        );
        assert_eq!(bad, 0, "{bad_examples:?}");
        assert_eq!(odd, 0, "{bad_examples:?}");
    }
}
