//! Host logs: the kernel ring buffer (`dmesg`, `dmesg -T`, also in a non-English locale) and
//! syslog files (`/var/log/messages`, `journalctl -o short`), as collected or grepped. Every
//! line is an entry; its time is read when the prefix carries a full date (`dmesg -T`, ISO
//! prefixes) and left unknown otherwise (seconds since boot, syslog without a year).
//!
//! * `[1414761.486501] Out of memory: Kill process 26196 (tikv-server) score 338 ...`
//! * `[Wed Aug 18 10:13:42 2021] Out of memory: ...`, `[三 8月 18 10:13:42 2021] ...`
//! * `Feb 18 03:19:30 host systemd: tikv-20160.service: main process exited, code=killed`
//! * `2021-08-18T10:13:42+0800 host kernel: Out of memory: ...` (`short-iso`)

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// Words that make a text file a host log when it has no other format.
const MARKERS: &[&str] = &[
    "Out of memory",
    "Killed process",
    "invoked oom-killer",
    "oom_reaper",
    "oom-kill:",
    "Memory cgroup out of memory",
    "main process exited, code=",
];

/// A host log line has at least a word; every line is its own entry.
#[inline]
pub fn is_head(line: &[u8]) -> bool {
    line.iter().any(|c| !c.is_ascii_whitespace())
}

/// Whether a text with no other format is a host log: kernel or init-system lines.
pub fn looks_like(text: &str) -> bool {
    MARKERS.iter().any(|m| text.contains(m))
}

#[derive(Debug, PartialEq)]
pub struct Line<'a> {
    pub time: Option<DateTime<FixedOffset>>,
    /// The program that logged it (`kernel` for the ring buffer, else syslog's tag).
    pub program: Option<&'a str>,
    pub message: &'a str,
}

fn month(name: &str) -> Option<u32> {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if let Some(i) = EN.iter().position(|m| name.starts_with(m)) {
        return Some(i as u32 + 1);
    }
    // Chinese and Japanese locales print `8月`.
    let n = name.strip_suffix('月')?;
    n.parse::<u32>().ok().filter(|m| (1..=12).contains(m))
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let sec = it.next()?.split('.').next()?.parse().ok()?;
    Some((h, m, sec))
}

/// `Wed Aug 18 10:13:42 2021` or `三 8月 18 10:13:42 2021` (weekday ignored).
fn dmesg_t(s: &str, tz: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let w: Vec<&str> = s.split_whitespace().collect();
    let [_, mon, day, time, year] = w.as_slice() else {
        return None;
    };
    let (h, mi, sec) = hms(time)?;
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month(mon)?, day.parse().ok()?)?;
    tz.from_local_datetime(&date.and_hms_opt(h, mi, sec)?)
        .single()
}

/// Splits `host prog[pid]: message` (or `prog: message`) into program and message.
fn program_and_message(rest: &str) -> (Option<&str>, &str) {
    let mut words = rest.splitn(3, ' ');
    let first = words.next().unwrap_or("");
    let second = words.next();
    let tail = words.next();
    let tag = |w: &str| -> Option<usize> {
        let p = w.find(':').filter(|&p| p + 1 == w.len())?;
        Some(w[..p].find('[').unwrap_or(p))
    };
    if let (Some(second), Some(tail)) = (second, tail)
        && let Some(end) = tag(second)
    {
        return (Some(&second[..end]), tail);
    }
    if let Some(end) = tag(first) {
        return (Some(&first[..end]), rest[first.len()..].trim_start());
    }
    (None, rest)
}

/// Reads one line. Times without a zone are taken in `tz`.
pub fn parse_line(line: &str, tz: FixedOffset) -> Line<'_> {
    let s = line.trim_start();
    // dmesg: `[ 1234.5678] text` or `[Wed Aug 18 10:13:42 2021] text`.
    if let Some(inner) = s.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let stamp = inner[..end].trim();
        let message = inner[end + 1..].trim_start();
        let boot_secs = stamp.bytes().all(|c| c.is_ascii_digit() || c == b'.');
        if boot_secs || dmesg_t(stamp, tz).is_some() {
            return Line {
                time: if boot_secs { None } else { dmesg_t(stamp, tz) },
                program: Some("kernel"),
                message,
            };
        }
    }
    // ISO prefix (`journalctl -o short-iso`, rsyslog high precision).
    if s.len() > 19 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(10) == Some(&b'T') {
        let (stamp, rest) = s.split_once(' ').unwrap_or((s, ""));
        let time = DateTime::parse_from_rfc3339(stamp)
            .ok()
            .or_else(|| DateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.f%z").ok());
        if time.is_some() {
            let (program, message) = program_and_message(rest);
            return Line {
                time,
                program,
                message,
            };
        }
    }
    // Classic syslog: `Feb 18 03:19:30 host prog[pid]: text` (no year: time unknown).
    let w: Vec<&str> = s.split_whitespace().take(3).collect();
    if w.len() >= 3 && month(w[0]).is_some() && hms(w.get(2).copied().unwrap_or("")).is_some() {
        // Days below 10 are padded with a second space: `Feb  8`.
        let after_time = s
            .find(w[2])
            .map(|p| s[p + w[2].len()..].trim_start())
            .unwrap_or("");
        let (program, message) = program_and_message(after_time);
        return Line {
            time: None,
            program,
            message,
        };
    }
    Line {
        time: None,
        program: None,
        message: s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    #[test]
    fn dmesg_shapes() {
        // Real: pingcap/tidb issue threads quoted in the tikv.oom-killed fixtures.
        let l = parse_line(
            "[1414761.486501] Out of memory: Kill process 26196 (tikv-server) score 338 or sacrifice child",
            utc(),
        );
        assert_eq!(l.time, None);
        assert_eq!(l.program, Some("kernel"));
        assert!(l.message.starts_with("Out of memory: Kill process 26196"));
        let l = parse_line(
            "[三 8月 18 10:13:42 2021] Out of memory: Kill process 12802 (tikv-server) score 963 or sacrifice child",
            utc(),
        );
        assert_eq!(l.time.unwrap().to_rfc3339(), "2021-08-18T10:13:42+00:00");
        let l = parse_line(
            "[Wed Aug 18 10:13:42 2021] oom_reaper: reaped process 1",
            utc(),
        );
        assert_eq!(l.time.unwrap().to_rfc3339(), "2021-08-18T10:13:42+00:00");
    }

    #[test]
    fn syslog_shapes() {
        let l = parse_line(
            "Feb 18 03:19:30 HD-TXSH-TIKV01 systemd: tikv-20160.service: main process exited, code=killed, status=6/ABRT",
            utc(),
        );
        assert_eq!(l.program, Some("systemd"));
        assert!(
            l.message
                .starts_with("tikv-20160.service: main process exited")
        );
        let l = parse_line(
            "2021-08-18T10:13:42+0800 db1 kernel: Out of memory: Killed process 7 (tikv-server)",
            utc(),
        );
        assert_eq!(l.program, Some("kernel"));
        assert_eq!(l.time.unwrap().to_rfc3339(), "2021-08-18T10:13:42+08:00");
        let l = parse_line("Feb  8 03:19:30 h kernel[0]: x", utc());
        assert_eq!((l.program, l.message), (Some("kernel"), "x"));
        // Anything else is kept whole.
        assert_eq!(
            parse_line("[root@h log]# dmesg -T", utc()).message,
            "[root@h log]# dmesg -T"
        );
    }

    #[test]
    fn never_panics_on_odd_text() {
        for s in [
            "[",
            "[]",
            "] x",
            "Feb",
            "Feb 18",
            "2021-08-18T",
            "月 月 月",
            "[ 月]",
        ] {
            let _ = parse_line(s, utc());
        }
    }
}
