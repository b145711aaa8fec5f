//! The JSON log variant (`log.format = "json"`): one object per line with `time`, `level`,
//! `caller`, `message` and the fields as further keys (TiKV, PD, TiDB); also CockroachDB's
//! `json` / `json-fluent` formats (`timestamp` in Unix seconds, `severity`, `file`/`line`,
//! `tags`). A line cut in the middle (a pasted tail, a chat client's limit) still yields its
//! time, level, the message as far as it goes and every complete field.

use super::time::parse_unified;
use crate::model::Level;
use chrono::{DateTime, FixedOffset};

pub struct Line {
    pub time: Option<DateTime<FixedOffset>>,
    pub level: Option<Level>,
    pub source: Option<String>,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// Cheap head test: an object that starts with one of the keys the encoders write first.
#[inline]
pub fn is_head(b: &[u8]) -> bool {
    b.starts_with(b"{\"level\":")
        || b.starts_with(b"{\"time\":")
        || b.starts_with(b"{\"ts\":")
        || (b.first() == Some(&b'{')
            && (memchr::memmem::find(&b[..b.len().min(200)], b"\"level\"").is_some()
                || memchr::memmem::find(&b[..b.len().min(320)], b"\"severity\":\"").is_some()))
}

/// A CockroachDB `json` log line (it writes `severity` and `channel`, not `level`).
pub fn is_crdb(b: &[u8]) -> bool {
    let head = &b[..b.len().min(320)];
    memchr::memmem::find(head, b"\"severity\":\"").is_some()
        && memchr::memmem::find(head, b"\"channel\"").is_some()
}

pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim();
    let (v, whole) = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line)
    {
        Ok(m) => (m, true),
        // Cut: every complete member.
        Err(_) => match super::documents::whole_members(line)? {
            serde_json::Value::Object(m) => (m, false),
            _ => return None,
        },
    };
    let mut out = Line {
        time: None,
        level: None,
        source: None,
        message: String::new(),
        fields: Vec::new(),
    };
    let mut file_line: (Option<String>, Option<String>) = (None, None);
    for (k, val) in v {
        let text = match &val {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match k.as_str() {
            "time" | "ts" => out.time = parse_unified(&text),
            // CockroachDB: Unix seconds with nanoseconds, as a string.
            "timestamp" => out.time = unix_seconds(&text),
            "level" | "severity" => out.level = Level::parse(&text),
            "caller" => out.source = Some(text),
            "file" => file_line.0 = Some(text),
            "line" => file_line.1 = Some(text),
            "message" | "msg" => out.message = text,
            "tags" => {
                if let Some(n) = val.get("n").and_then(serde_json::Value::as_str) {
                    out.fields.push(("node".to_string(), n.to_string()));
                }
                out.fields.push((k, text));
            }
            _ => out.fields.push((k, text)),
        }
    }
    // `file:line`; a cut line that lost `line` keeps no source rather than half of one.
    if out.source.is_none() {
        out.source = match file_line {
            (Some(f), Some(l)) => Some(format!("{f}:{l}")),
            (Some(f), None) if whole => Some(f),
            _ => None,
        };
    }
    if !whole && out.message.is_empty() {
        out.message = cut_string(line, "message")
            .or_else(|| cut_string(line, "msg"))
            .unwrap_or_default();
    }
    out.level?;
    Some(out)
}

/// The text of a string member the line is cut inside (`"message":"runtime stats: 178 MiB…`),
/// escapes resolved as far as they go.
fn cut_string(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let p = line.rfind(&pat)? + pat.len();
    let rest = line[p..].trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(c) if hex.len() == 4 => out.push(c),
                        // Cut inside the escape, or half of a surrogate pair: stop there.
                        _ => break,
                    }
                }
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// `1635365292.961975000` → that instant, in UTC.
fn unix_seconds(s: &str) -> Option<DateTime<FixedOffset>> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let secs: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    let nanos: u32 = format!("{digits:0<9}").parse().ok()?;
    let t = chrono::DateTime::from_timestamp(secs, nanos)?;
    Some(t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidb_json_line() {
        let l = parse_line(r#"{"level":"INFO","time":"2022/01/14 08:09:55.307 +01:00","caller":"printer.go:34","message":"Welcome to TiDB.","Release Version":"v5.3.0"}"#).unwrap();
        assert_eq!(l.level, Some(Level::Info));
        assert_eq!(l.message, "Welcome to TiDB.");
        assert_eq!(l.source.as_deref(), Some("printer.go:34"));
        assert_eq!(
            l.fields,
            vec![("Release Version".to_string(), "v5.3.0".to_string())]
        );
        assert_eq!(l.time.unwrap().offset().local_minus_utc(), 3600);
    }

    /// A CockroachDB `json` line cut mid-message (`tail -n1 cockroach.log` in a blog post).
    #[test]
    fn cut_crdb_json_line_keeps_time_level_message_and_fields() {
        let l = parse_line(r#"{"channel_numeric":2,"channel":"HEALTH","timestamp":"1635365292.961975000","node_id":1,"severity":"INFO","file":"server/status/runtime.go","line":569,"tags":{"n":"1"},"message":"runtime stats: 178 MiB RSS, 274 goroutines (stacks: 3.7 MiB), 1.4/1"#).unwrap();
        assert_eq!(l.level, Some(Level::Info));
        assert_eq!(
            l.time.unwrap().to_rfc3339(),
            "2021-10-27T20:08:12.961975+00:00"
        );
        assert_eq!(l.source.as_deref(), Some("server/status/runtime.go:569"));
        assert!(l.message.starts_with("runtime stats: 178 MiB RSS"));
        assert!(l.fields.contains(&("node".to_string(), "1".to_string())));
        assert!(
            l.fields
                .contains(&("channel".to_string(), "HEALTH".to_string()))
        );
        // Cut inside a field: the complete ones stay, the cut one is left out.
        let l = parse_line(r#"{"level":"WARN","time":"2022/01/14 08:09:55.307 +01:00","message":"slow","region_id":12,"tak"#).unwrap();
        assert_eq!(l.message, "slow");
        assert_eq!(l.fields, vec![("region_id".to_string(), "12".to_string())]);
        assert!(is_head(br#"{"tag":"cockroach.dev","channel_numeric":0,"channel":"DEV","timestamp":"1643208616.160371958","cluster_id":"025d51d8-d34b-41d9-bb52-cd6bc4be727a","node_id":1,"version":"v21.2.4","severity_numeric":1,"severity":"INFO","goroutine":584}"#));
    }
}
