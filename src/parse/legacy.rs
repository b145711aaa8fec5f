//! Pre-unified TiKV/PD/TiDB log lines (TiKV ≤ 2.1.14, PD ≤ 2.1.14). None carries a zone:
//! times are taken in the zone the caller assumes (UTC unless told otherwise).
//!
//! * `2018/03/16 09:30:27.997 tikv-server.rs:121: [INFO] msg` (TiKV ≤ 2.0; PD/TiDB with
//!   lower-case logrus levels `[info]`, `[warning]`)
//! * `2018/12/27 17:30:27.744 INFO <unknown>:1279: msg` (TiKV 2.1 slog short levels)
//! * `2016/08/24 20:48:52 server.go:93: [info] msg` (very old PD, no milliseconds)
//! * `2023/09/18-14:07:09.938174 139725816433456 [WARN] [db/column_family.cc:948] [default] msg`
//!   (RocksDB's own `LOG` in a TiKV data dir, `<data-dir>/db/LOG`; older RocksDB leaves out the
//!   level, which is then INFO)

use super::time::parse_naive_prefix;
use crate::model::Level;
use chrono::{DateTime, FixedOffset};
use nom::{
    IResult, Parser,
    bytes::complete::{tag, take_till1, take_while1},
    character::complete::char,
    sequence::{delimited, terminated},
};

#[derive(Debug, PartialEq)]
pub struct Line<'a> {
    pub time: Option<DateTime<FixedOffset>>,
    pub level: Level,
    pub source: &'a str,
    pub message: &'a str,
}

/// `file.rs:123:` (or `<unknown>:1279:`)
fn source(i: &str) -> IResult<&str, &str> {
    terminated(take_till1(|c: char| c == ' ' || c == '['), char(' '))
        .parse(i)
        .and_then(|(rest, s)| {
            if s.ends_with(':') && s.contains(':') && s.len() > 2 {
                Ok((rest, &s[..s.len() - 1]))
            } else {
                Err(nom::Err::Error(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Verify,
                )))
            }
        })
}

fn bracket_level(i: &str) -> IResult<&str, &str> {
    terminated(
        delimited(
            char('['),
            take_while1(|c: char| c.is_ascii_alphabetic()),
            char(']'),
        ),
        nom::combinator::opt(char(' ')),
    )
    .parse(i)
}

fn bare_level(i: &str) -> IResult<&str, &str> {
    terminated(take_while1(|c: char| c.is_ascii_uppercase()), tag(" ")).parse(i)
}

/// Cheap head test on raw bytes: a `yyyy/mm/dd hh:mm:ss` prefix followed by a space.
#[inline]
pub fn is_head(b: &[u8]) -> bool {
    head_level(b).is_some()
}

/// `None` if the line is no entry head, else its level: the head test and the level in one
/// parse.
pub fn head_level(b: &[u8]) -> Option<Option<Level>> {
    let shaped = b.len() > 21
        && b[4] == b'/'
        && b[7] == b'/'
        && (b[10] == b' ' || b[10] == b'-')
        && b[13] == b':'
        && b[16] == b':'
        && b[0].is_ascii_digit()
        && b[11].is_ascii_digit()
        && b[18].is_ascii_digit();
    if !shaped {
        return None;
    }
    let s = std::str::from_utf8(&b[..b.len().min(160)])
        .ok()
        .or_else(|| {
            // A multi-byte char cut at 160: retry on the valid prefix.
            let e = std::str::from_utf8(&b[..b.len().min(160)])
                .err()?
                .valid_up_to();
            std::str::from_utf8(&b[..e]).ok()
        })?;
    let utc = FixedOffset::east_opt(0)?;
    let (_, n) = parse_naive_prefix(s, utc)?;
    let rest = s.get(n..)?.strip_prefix(' ')?;
    if b[10] == b'-' {
        return rocksdb_rest(rest).map(|(level, _, _)| Some(level));
    }
    head_rest(rest).map(|(level, _, _)| Some(level))
}

/// RocksDB's `LOG`: after the time, a thread id, an optional `[LEVEL]` and the `[file:line]`
/// source in brackets.
fn rocksdb_rest(rest: &str) -> Option<(Level, &str, &str)> {
    let (tid, r) = rest.split_once(' ')?;
    if tid.is_empty() || !tid.bytes().all(|c| c.is_ascii_hexdigit() || c == b'x') {
        return None;
    }
    let (level, r) = match bracket_level(r) {
        Ok((r, lvl)) => (Level::parse(lvl)?, r),
        Err(_) => (Level::Info, r),
    };
    let inner = r.strip_prefix('[')?;
    let end = inner.find(']')?;
    let src = &inner[..end];
    if !src.contains(':') {
        return None;
    }
    let msg = inner[end + 1..]
        .strip_prefix(' ')
        .unwrap_or(&inner[end + 1..]);
    Some((level, src, msg))
}

fn head_rest(rest: &str) -> Option<(Level, &str, &str)> {
    // Shape B: LEVEL then source.
    if let Ok((r, lvl)) = bare_level(rest)
        && let Some(level) = Level::parse(lvl)
        && let Ok((msg, src)) = source(r)
    {
        return Some((level, src, msg));
    }
    // Shape A/C: source then [level].
    let (r, src) = source(rest).ok()?;
    let (msg, lvl) = bracket_level(r).ok()?;
    Some((Level::parse(lvl)?, src, msg))
}

pub fn parse_line(line: &str, assume: FixedOffset) -> Option<Line<'_>> {
    let (time, n) = parse_naive_prefix(line, assume)?;
    let rest = line.get(n..)?.strip_prefix(' ')?;
    let (level, source, message) = if line.as_bytes().get(10) == Some(&b'-') {
        rocksdb_rest(rest)?
    } else {
        head_rest(rest)?
    };
    Some(Line {
        time: Some(time),
        level,
        source,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    #[test]
    fn tikv_20() {
        let l = parse_line(
            "2018/03/16 09:30:27.997 tikv-server.rs:121: [INFO] start prometheus client",
            utc(),
        )
        .unwrap();
        assert_eq!(l.level, Level::Info);
        assert_eq!(l.source, "tikv-server.rs:121");
        assert_eq!(l.message, "start prometheus client");
    }

    #[test]
    fn tikv_21_slog() {
        let l = parse_line("2018/12/27 17:30:27.764 INFO <unknown>:719: [region 335325] 335327 became follower at term 39", utc()).unwrap();
        assert_eq!(l.source, "<unknown>:719");
        assert_eq!(
            l.message,
            "[region 335325] 335327 became follower at term 39"
        );
        let l = parse_line("2019/08/13 03:27:49.382 ERRO mod.rs:26: boom", utc()).unwrap();
        assert_eq!(l.level, Level::Error);
    }

    #[test]
    fn rocksdb_log() {
        let l = parse_line("2023/09/18-14:07:09.938174 139725816433456 [WARN] [/column_family.cc:948] [default] Stopping writes because we have 36 level-0 files", utc()).unwrap();
        assert_eq!(l.level, Level::Warn);
        assert_eq!(l.source, "/column_family.cc:948");
        assert_eq!(
            l.message,
            "[default] Stopping writes because we have 36 level-0 files"
        );
        let l = parse_line(
            "2019/01/02-03:04:05.000006 7f1e2c3fd700 [db/db_impl.cc:100] Recovered",
            utc(),
        )
        .unwrap();
        assert_eq!(l.level, Level::Info);
        assert_eq!(l.message, "Recovered");
        assert!(!is_head(b"2019/01/02-03:04:05.000006 not a rocksdb line"));
    }

    #[test]
    fn pd_logrus() {
        let l = parse_line(
            "2018/12/11 07:01:40.364 node.go:306: [info] raft.node: 91300bc8094d0151 elected leader",
            utc(),
        )
        .unwrap();
        assert_eq!(l.level, Level::Info);
        let l = parse_line("2016/08/24 20:48:52 server.go:93: [warning] x", utc()).unwrap();
        assert_eq!(l.level, Level::Warn);
        assert!(is_head(
            b"2018/11/01 19:52:07.513 server.go:106: [info] PD config - {"
        ));
        assert!(!is_head(
            b"  \"client-urls\": \"http://172.31.102.93:2379\","
        ));
    }
}
