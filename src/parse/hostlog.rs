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

/// Reads one line. Times without a zone are taken in `tz`.
pub fn parse_line<'a>(line: &'a str, tz: FixedOffset) -> Line<'a> {
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
    // Syslog and journald short forms; the envelope reader knows their prefixes. A short
    // stamp has no year: no time.
    if let Some((stamp, program, message)) = super::envelope::syslog(s.as_bytes()) {
        let text = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or_default();
        return Line {
            time: super::envelope::stamp_time(stamp, tz),
            program: Some(text(program)),
            message: text(message),
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
