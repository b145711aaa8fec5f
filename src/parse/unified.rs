//! The unified log format of TiKV, PD, TiDB and TiFlash (TiKV RFC 0018):
//! `[date_time] [LEVEL] [source_file:line] [message] [key=value]...`.
//!
//! Keys, values and the message are raw unless they contain a byte that forces JSON-string
//! quoting; a quoted token is decoded as a JSON string. Go (zap) omits the message bracket when
//! the message is empty, so the fourth bracket may already be a field.

use super::time;
use crate::model::Level;
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;

/// A fully parsed line, borrowing from the input where no unescaping was needed.
#[derive(Debug, PartialEq)]
pub struct Line<'a> {
    pub time: Option<DateTime<FixedOffset>>,
    pub level: Level,
    pub source: &'a str,
    pub message: Cow<'a, str>,
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Cheap test: does this line start with `[yyyy/mm/dd hh:mm:ss.fff ±hh:mm] [LEVEL]`?
/// Looks at fixed byte positions only; used on every line of a log.
#[inline]
pub fn is_head(b: &[u8]) -> bool {
    level_span(b).is_some()
}

/// Byte range of the level inside its bracket, if the head is well formed.
#[inline]
fn level_span(b: &[u8]) -> Option<(usize, usize)> {
    if b.len() < 34 || b[0] != b'[' || b[5] != b'/' || b[8] != b'/' || b[11] != b' ' {
        return None;
    }
    if !(b[1].is_ascii_digit() && b[4].is_ascii_digit() && b[12].is_ascii_digit()) {
        return None;
    }
    // The timestamp bracket closes within a few bytes of position 30 (fraction width varies).
    let close = memchr::memchr(b']', &b[20..b.len().min(48)])? + 20;
    if b.get(close + 1) != Some(&b' ') || b.get(close + 2) != Some(&b'[') {
        return None;
    }
    let lvl_start = close + 3;
    let lvl_end = memchr::memchr(b']', &b[lvl_start..b.len().min(lvl_start + 9)])? + lvl_start;
    let lvl = &b[lvl_start..lvl_end];
    if lvl.is_empty() || !lvl.iter().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Some((lvl_start, lvl_end))
}

/// `None` if the line is no entry head, else its level (`None` inside for an unknown word):
/// the head test and the level in one look.
#[inline]
pub fn head_level(b: &[u8]) -> Option<Option<Level>> {
    let (s, e) = level_span(b)?;
    Some(std::str::from_utf8(&b[s..e]).ok().and_then(Level::parse))
}

/// The level of a head line, without parsing anything else (for per-level counting).
#[inline]
pub fn quick_level(b: &[u8]) -> Option<Level> {
    let (s, e) = level_span(b)?;
    Level::parse(std::str::from_utf8(&b[s..e]).ok()?)
}

/// Finds the end of a JSON string starting at `s[0] == '"'`; returns the index after the
/// closing quote.
fn quoted_end(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn decode(raw: &str) -> Cow<'_, str> {
    if raw.len() >= 2 && raw.starts_with('"') {
        let inner = &raw[1..raw.len() - 1];
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        match serde_json::from_str::<String>(raw) {
            Ok(s) => Cow::Owned(s),
            // Go writes invalid UTF-8 as \ufffd, so this is rare: keep the raw text.
            Err(_) => Cow::Borrowed(inner),
        }
    } else {
        Cow::Borrowed(raw)
    }
}

/// One `[...]` token: either a bare/quoted text (message) or `key=value`.
enum Token<'a> {
    Text(&'a str),
    Pair(&'a str, &'a str),
    Empty,
}

/// Reads a key or message part: quoted (JSON) or raw up to one of the stop bytes.
fn read_part<'a>(s: &'a str, stops: &[u8]) -> Option<(&'a str, usize)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'"') {
        let end = quoted_end(b)?;
        Some((&s[..end], end))
    } else {
        let end = b.iter().position(|c| stops.contains(c)).unwrap_or(b.len());
        Some((&s[..end], end))
    }
}

/// Parses one bracketed token at the start of `s` (which starts with `[`); returns it and
/// the index after the closing `]`.
fn token(s: &str) -> Option<(Token<'_>, usize)> {
    let body = s.strip_prefix('[')?;
    if let Some(rest) = body.strip_prefix(']') {
        let _ = rest;
        return Some((Token::Empty, 2));
    }
    let (first, n) = read_part(body, b"=]")?;
    let after = &body[n..];
    if let Some(v) = after.strip_prefix('=') {
        let (val, m) = read_part(v, b"]")?;
        let close = &v[m..];
        if !close.starts_with(']') {
            return None;
        }
        Some((Token::Pair(first, val), 1 + n + 1 + m + 1))
    } else if after.starts_with(']') {
        Some((Token::Text(first), 1 + n + 1))
    } else {
        None
    }
}

/// Parses a whole line. `None` if the head is malformed; a damaged tail keeps what parsed.
pub fn parse_line(line: &str) -> Option<Line<'_>> {
    let b = line.as_bytes();
    let (ls, le) = level_span(b)?;
    let level = Level::parse(&line[ls..le])?;
    let time = time::parse_unified(&line[1..]);
    let mut rest = line.get(le + 1..)?;
    // Source `[file:line]` (or `[<unknown>]`).
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (source, n) = match token(rest) {
        Some((Token::Text(t), n)) => (t, n),
        _ => ("", 0),
    };
    rest = &rest[n..];
    let mut message: Cow<'_, str> = Cow::Borrowed("");
    let mut fields = Vec::new();
    let mut first = true;
    loop {
        rest = rest.trim_start_matches(' ');
        if !rest.starts_with('[') {
            break;
        }
        let Some((tok, n)) = token(rest) else { break };
        rest = &rest[n..];
        match tok {
            Token::Text(t) if first => message = decode(t),
            Token::Text(t) => fields.push((decode(t), Cow::Borrowed(""))),
            Token::Pair(k, v) => fields.push((decode(k), decode(v))),
            Token::Empty => {}
        }
        first = false;
    }
    Some(Line {
        time,
        level,
        source,
        message,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tikv_error_line() {
        let l = parse_line(r#"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] ["KvService::batch_raft send response fail"] [err=RemoteStopped]"#).unwrap();
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.source, "kv.rs:729");
        assert_eq!(l.message, "KvService::batch_raft send response fail");
        assert_eq!(l.fields, vec![("err".into(), "RemoteStopped".into())]);
        assert_eq!(
            l.time.unwrap().to_rfc3339(),
            "2022-03-28T09:34:38.062+08:00"
        );
    }

    #[test]
    fn escaped_and_double_quoted_values() {
        let l = parse_line(r#"[2022/03/28 09:34:55.711 +08:00] [ERROR] [server.rs:1030] ["failed to init io snooper"] [err_code=KV:Unknown] [err="\"IO snooper is not started due to not compiling with BCC\""]"#).unwrap();
        assert_eq!(
            l.fields[1].1,
            "\"IO snooper is not started due to not compiling with BCC\""
        );
        let l = parse_line(r#"[2024/07/22 20:03:04.264 +08:00] [INFO] [operator_controller.go:620] ["send schedule command"] [region-id=513499180] [step="merge region 512607784 into region 513499180"] [source="active push"]"#).unwrap();
        assert_eq!(l.fields.len(), 3);
        assert_eq!(l.fields[2], ("source".into(), "active push".into()));
    }

    #[test]
    fn quoted_keys_and_empty_values() {
        let l = parse_line(r#"[2024/07/22 20:02:58.803 +08:00] [INFO] [operator_controller.go:424] ["add operator"] [region-id=1] ["additional info"=]"#).unwrap();
        assert_eq!(l.fields[1], ("additional info".into(), "".into()));
    }

    #[test]
    fn go_omits_empty_message() {
        let l = parse_line(
            r#"[2019/08/21 01:43:01.460 -04:00] [INFO] [util.go:60] [PD] [release-version=v3.0.2]"#,
        )
        .unwrap();
        assert_eq!(l.message, "PD");
        let l =
            parse_line(r#"[2020/01/01 00:00:00.000 +00:00] [INFO] [x.go:1] [a=b] [c=d]"#).unwrap();
        assert_eq!(l.message, "");
        assert_eq!(l.fields.len(), 2);
    }

    #[test]
    fn empty_brackets_and_unknown_source() {
        let l = parse_line(r#"[2024/05/29 19:11:43.075 +08:00] [INFO] [tso.go:436] ["reset the timestamp in memory"] []"#).unwrap();
        assert_eq!(l.message, "reset the timestamp in memory");
        let l = parse_line(r#"[2019/03/31 16:19:26.017 +00:00] [INFO] [<unknown>] []"#).unwrap();
        assert_eq!(l.source, "<unknown>");
    }

    #[test]
    fn message_with_brackets_inside_quotes() {
        let l = parse_line(r#"[2020/01/01 00:00:00.000 +00:00] [WARN] [a.go:1] ["failed to \"fetch\" [URL]: http://example.com"] [k="[1, 2]"]"#).unwrap();
        assert_eq!(l.message, r#"failed to "fetch" [URL]: http://example.com"#);
        assert_eq!(l.fields[0].1, "[1, 2]");
    }

    #[test]
    fn heads() {
        assert!(is_head(
            b"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"x\"]"
        ));
        assert!(!is_head(b"goroutine 1 [running]:"));
        assert!(!is_head(b"[2022/03/28 09:34:38.062 +08:00] error"));
        assert_eq!(
            quick_level(b"[2022/03/28 09:34:38.062 +08:00] [WARN] [a.go:1] [x]"),
            Some(Level::Warn)
        );
    }

    #[test]
    fn truncated_tail_keeps_head() {
        let l = parse_line(r#"[2022/03/28 09:34:38.062 +08:00] [INFO] [a.go:1] ["unterminated"#)
            .unwrap();
        assert_eq!(l.level, Level::Info);
        assert_eq!(l.message, "");
    }
}
