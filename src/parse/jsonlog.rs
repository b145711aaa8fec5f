//! The JSON log variant (`log.format = "json"`): one object per line with `time`, `level`,
//! `caller`, `message` and the fields as further keys (TiKV, PD, TiDB).

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
            && memchr::memmem::find(&b[..b.len().min(200)], b"\"level\"").is_some())
}

pub fn parse_line(line: &str) -> Option<Line> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line.trim()).ok()?;
    let mut out = Line {
        time: None,
        level: None,
        source: None,
        message: String::new(),
        fields: Vec::new(),
    };
    for (k, val) in v {
        let text = match &val {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match k.as_str() {
            "time" | "ts" => out.time = parse_unified(&text),
            "level" => out.level = Level::parse(&text),
            "caller" => out.source = Some(text),
            "message" | "msg" => out.message = text,
            _ => out.fields.push((k, text)),
        }
    }
    out.level?;
    Some(out)
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
}
