//! Cheap timestamp parsing shared by the log parsers: fixed layouts read digit by digit,
//! no allocation, no format-string interpretation.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

#[inline]
fn digits(b: &[u8], start: usize, n: usize) -> Option<u32> {
    let s = b.get(start..start + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Reads `YYYY?MM?DD?HH:MM:SS` at the start (any single separator byte in the date part and
/// between date and time) and an optional fraction. Returns the naive parts and the index after
/// the fraction.
fn date_time(b: &[u8]) -> Option<(NaiveDate, u32, u32, u32, u32, usize)> {
    let y = digits(b, 0, 4)?;
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    let h = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let mi = digits(b, 14, 2)?;
    let s = digits(b, 17, 2)?;
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n.min(9)..9 {
            nanos *= 10;
        }
    }
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    Some((date, h, mi, s, nanos, i))
}

/// Parses a numeric UTC offset `+08:00`, `-0700`, `+08` or `Z` at the start of `b`.
fn offset(b: &[u8]) -> Option<(FixedOffset, usize)> {
    match b.first()? {
        b'Z' => Some((FixedOffset::east_opt(0)?, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let h = digits(b, 1, 2)? as i32;
            let (m, len) = if b.get(3) == Some(&b':') {
                (digits(b, 4, 2)? as i32, 6)
            } else if let Some(m) = digits(b, 3, 2) {
                (m as i32, 5)
            } else {
                (0, 3)
            };
            Some((FixedOffset::east_opt(sign * (h * 3600 + m * 60))?, len))
        }
        _ => None,
    }
}

/// The unified log format timestamp: `2022/03/28 09:34:38.062 +08:00`.
pub fn parse_unified(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    let (date, h, mi, sec, nanos, i) = date_time(b)?;
    let rest = &b[i..];
    let rest = rest.strip_prefix(b" ")?;
    let (off, _) = offset(rest)?;
    let naive = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    off.from_local_datetime(&naive).single()
}

/// A timestamp without zone (`2018/12/11 07:01:40.364`, `2022-03-28 09:34:38.062`), taken in
/// `assume`. Returns the time and the number of bytes consumed.
pub fn parse_naive_prefix(s: &str, assume: FixedOffset) -> Option<(DateTime<FixedOffset>, usize)> {
    let b = s.as_bytes();
    let (date, h, mi, sec, nanos, i) = date_time(b)?;
    let naive = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    Some((assume.from_local_datetime(&naive).single()?, i))
}

/// RFC 3339 as PD prints `last_heartbeat_ts` (`2023-06-04T17:36:54.941590113+08:00`).
pub fn parse_rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().or_else(|| {
        // Go's time.Time String(): `2024-07-22 20:02:58.803 +0800 CST`
        let b = s.as_bytes();
        let (date, h, mi, sec, nanos, i) = date_time(b)?;
        let rest = b.get(i..)?.strip_prefix(b" ")?;
        let (off, _) = offset(rest)?;
        off.from_local_datetime(&date.and_hms_nano_opt(h, mi, sec, nanos)?)
            .single()
    })
}

/// A user-supplied bound (`--since`): RFC 3339, the unified log layout, or a date-time without
/// zone (taken as UTC).
pub fn parse_user_time(s: &str) -> Option<DateTime<FixedOffset>> {
    parse_rfc3339(s).or_else(|| parse_unified(s)).or_else(|| {
        let utc = FixedOffset::east_opt(0)?;
        match parse_naive_prefix(s, utc) {
            Some((t, n)) if n == s.trim_end().len() => Some(t),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_with_offsets() {
        let t = parse_unified("2022/03/28 09:34:38.062 +08:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2022-03-28T09:34:38.062+08:00");
        let t = parse_unified("2020/03/18 21:40:28.405 -07:00").unwrap();
        assert_eq!(t.offset().local_minus_utc(), -7 * 3600);
        assert!(parse_unified("2022/13/28 09:34:38.062 +08:00").is_none());
        assert!(parse_unified("2022/03/28 09:34:38.062").is_none());
    }

    #[test]
    fn rfc3339_and_go_time() {
        let t = parse_rfc3339("2023-06-04T17:36:54.941590113+08:00").unwrap();
        assert_eq!(t.timestamp(), 1685871414);
        let g = parse_rfc3339("2024-07-22 20:02:58.803075332 +0800 CST").unwrap();
        assert_eq!(g.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn naive_prefix() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let (t, n) = parse_naive_prefix("2018/12/11 07:01:40.364 node.go:306", utc).unwrap();
        assert_eq!(n, 23);
        assert_eq!(t.to_rfc3339(), "2018-12-11T07:01:40.364+00:00");
        let (_, n) = parse_naive_prefix("2016/08/24 20:48:52 server.go:93", utc).unwrap();
        assert_eq!(n, 19);
    }
}
