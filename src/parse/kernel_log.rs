//! The kernel's log as operators paste or collect it: `dmesg` (`[ 677407.991463] text`),
//! `dmesg -T` (`[Mon Nov 18 15:25:05 2019] text`, any locale), and syslog files
//! (`Apr 18 22:32:18 host kernel: [11098769.981660] text`). One event per line that hits a
//! rule's needle, its message without the prefix. These prefixes carry no usable wall time
//! (uptime seconds, a local date without a zone, a date without a year), so events have none.

use super::Kept;
use super::scan::{Prefilter, excerpt};
use crate::model::{InputId, Kind, Location, LogEvent};

/// The message of a kernel log line without its prefix, or `None` when the line has none
/// of the known prefixes (a continuation, a pasted shell prompt).
pub fn message(line: &str) -> Option<&str> {
    let line = line.trim_end();
    if let Some(rest) = syslog_kernel(line) {
        return Some(dmesg(rest).unwrap_or(rest));
    }
    dmesg(line)
}

/// `[ 123.456789] text` or `[<date> <year>] text` → `text`.
fn dmesg(line: &str) -> Option<&str> {
    let inner_end = line.strip_prefix('[')?.find(']')? + 1;
    let inner = line[1..inner_end].trim();
    let rest = line[inner_end + 1..]
        .strip_prefix(' ')
        .unwrap_or(&line[inner_end + 1..]);
    let uptime = inner
        .split_once('.')
        .is_some_and(|(a, b)| is_digits(a) && is_digits(b));
    // `dmesg -T`: a date that ends in the year, with a time of day inside.
    let dated = inner.len() >= 10
        && inner
            .rsplit(' ')
            .next()
            .is_some_and(|y| y.len() == 4 && is_digits(y))
        && inner
            .split(' ')
            .any(|w| w.len() == 8 && w.as_bytes()[2] == b':');
    (uptime || dated).then_some(rest)
}

/// `Mon DD HH:MM:SS host kernel: text` → `text`.
fn syslog_kernel(line: &str) -> Option<&str> {
    let (head, rest) = line.split_once(" kernel: ")?;
    let mut w = head.split_whitespace();
    let month = w.next()?;
    let day = w.next()?;
    let time = w.next()?;
    let ok = month.len() == 3
        && month.bytes().all(|c| c.is_ascii_alphabetic())
        && is_digits(day)
        && time.len() == 8
        && time.as_bytes()[2] == b':'
        && w.next().is_some()
        && w.next().is_none();
    ok.then_some(rest)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Most of the first lines carry a kernel log prefix.
pub fn looks_like(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    let hits = lines.iter().filter(|l| message(l).is_some()).count();
    hits > 0 && hits * 2 >= lines.len()
}

/// The lines that hit a rule's needle; the records are the lines with a kernel prefix.
pub fn parse(text: &str, input: InputId, kind: Kind, prefilter: &Prefilter) -> Kept {
    let mut out = Kept::default();
    for (i, line) in text.lines().enumerate() {
        let msg = message(line);
        if msg.is_some() {
            out.records += 1;
        }
        let groups = prefilter.groups_in(line, kind);
        if groups.is_empty() {
            continue;
        }
        let mut ev = LogEvent::at(Location {
            input,
            line: i as u64 + 1,
        });
        ev.message = msg.unwrap_or(line).trim().to_string();
        ev.excerpt = excerpt(line.trim_end());
        ev.groups = groups;
        out.events.push(ev);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NeedleGroup;

    #[test]
    fn prefixes_of_dmesg_dmesg_t_and_syslog() {
        assert_eq!(
            message("[677407.992115] Killed process 1635 (tidb-server) total-vm:1kB"),
            Some("Killed process 1635 (tidb-server) total-vm:1kB")
        );
        assert_eq!(
            message("[Mon Nov 18 15:25:05 2019] sched-worker-po invoked oom-killer: x"),
            Some("sched-worker-po invoked oom-killer: x")
        );
        assert_eq!(
            message("[五 7月 23 17:06:30 2021] Switched APIC routing to physical x2apic."),
            Some("Switched APIC routing to physical x2apic.")
        );
        assert_eq!(
            message(
                "Apr 18 22:32:18 holmes-db-1 kernel: [11098769.981660] tidb-server invoked oom-killer: gfp_mask=0x201da"
            ),
            Some("tidb-server invoked oom-killer: gfp_mask=0x201da")
        );
        assert_eq!(
            message("Nov  8 19:47:26 192-168-1-36-TIDB kernel: Call Trace:"),
            Some("Call Trace:")
        );
        assert_eq!(
            message("[root@CentOS76_VM log]# dmesg -Tw | grep -i out"),
            None
        );
        assert_eq!(
            message("[2024/01/28 11:13:33.953 +08:00] [INFO] [raft.go:771] [\"x\"]"),
            None
        );
    }

    #[test]
    fn detects_and_keeps_needle_lines() {
        let t = "[677407.991463] Out of memory: Kill process 1635 (tidb-server) score 985 or sacrifice child\n[677407.992115] Killed process 1635 (tidb-server) total-vm:64842052kB\n";
        assert!(looks_like(t));
        assert!(!looks_like(
            "[2024/01/28 11:13:33.953 +08:00] [INFO] [raft.go:771] [\"x\"]\n"
        ));
        let p = Prefilter::new(vec![NeedleGroup {
            needles: vec!["Killed process".into()],
            kinds: Some(vec![Kind::KernelLog]),
        }]);
        let out = parse(t, InputId(0), Kind::KernelLog, &p);
        assert_eq!(out.records, 2);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].loc.line, 2);
        assert_eq!(
            out.events[0].message,
            "Killed process 1635 (tidb-server) total-vm:64842052kB"
        );
        assert!(parse(t, InputId(0), Kind::TidbLog, &p).events.is_empty());
    }
}
