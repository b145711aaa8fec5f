//! Open-file limits as shells and tools print them: `ulimit -n` (a bare number after the
//! command), `ulimit -Sn` / `-Hn`, `ulimit -a` (`open files (-n) 1024`),
//! `/proc/<pid>/limits` (`Max open files  1024  4096  files`) and `prlimit` (`NOFILE ...`).

use super::shell;
use crate::model::host::{Limit, OpenFileLimit};
use crate::model::{InputId, Location};

#[derive(Debug, Default)]
pub struct LimitsOutput {
    pub limits: Vec<OpenFileLimit>,
    pub unparsed_lines: u64,
    pub host: Option<String>,
}

/// The command a limit line answers.
#[derive(Clone, Debug, Default)]
struct Pending {
    /// `ulimit` with `-n` alone: the next bare number is its answer.
    bare: Option<(String, bool)>,
    /// Whether the last `ulimit -a` asked for hard limits (`-H`).
    hard_a: bool,
    pid: Option<u64>,
}

/// Whether the text holds an open-file limit in one of the shapes read here.
pub fn looks_like(text: &str) -> bool {
    let mut after_ulimit_n = false;
    for l in text.lines().take(2000) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if open_files_a(t).is_some() || proc_limits(t).is_some() || prlimit_row(t).is_some() {
            return true;
        }
        if after_ulimit_n && Limit::parse(t).is_some() {
            return true;
        }
        after_ulimit_n =
            shell::command_line(t, &["ulimit"]).is_some_and(|c| ulimit_n(c.command).is_some());
    }
    false
}

/// `ulimit -n` / `-Sn` / `-Hn` / `-n -H` that reads (not sets) the limit: whether it asks
/// for the hard one.
fn ulimit_n(cmd: &str) -> Option<bool> {
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let mut n = false;
    let mut hard = false;
    for a in &args {
        let flags = a.strip_prefix('-')?;
        if flags.is_empty() || !flags.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        n |= flags.contains('n');
        hard |= flags.contains('H');
        if flags.contains('a') {
            return None;
        }
    }
    n.then_some(hard)
}

/// `open files                      (-n) 1024` of `ulimit -a`.
fn open_files_a(t: &str) -> Option<Limit> {
    let rest = t.strip_prefix("open files")?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("(-n)")?;
    Limit::parse(rest)
}

/// `Max open files            1024                 4096                 files`.
fn proc_limits(t: &str) -> Option<(Limit, Limit)> {
    let rest = t.strip_prefix("Max open files")?;
    let mut w = rest.split_whitespace();
    let soft = Limit::parse(w.next()?)?;
    let hard = Limit::parse(w.next()?)?;
    Some((soft, hard))
}

/// `NOFILE     max number of open files   1024   4096 [files]`.
fn prlimit_row(t: &str) -> Option<(Limit, Limit)> {
    let rest = t.strip_prefix("NOFILE")?.trim_start();
    let rest = rest.strip_prefix("max number of open files")?;
    let mut w = rest.split_whitespace();
    let soft = Limit::parse(w.next()?)?;
    let hard = Limit::parse(w.next()?)?;
    Some((soft, hard))
}

/// `/proc/1234/limits` or `prlimit --pid 1234` / `-p 1234` / `--pid=1234`.
fn pid_of(cmd: &str) -> Option<u64> {
    if let Some(p) = cmd.find("/proc/") {
        let rest = &cmd[p + "/proc/".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return digits.parse().ok();
    }
    let mut w = cmd.split_whitespace();
    while let Some(a) = w.next() {
        if let Some(v) = a.strip_prefix("--pid=") {
            return v.parse().ok();
        }
        if a == "--pid" || a == "-p" {
            return w.next()?.parse().ok();
        }
    }
    None
}

/// Lines that belong to the outputs read here without being the open-files line.
fn other_limit_line(t: &str) -> bool {
    t.starts_with("Max ")
        || t.starts_with("Limit ")
        || t.starts_with("RESOURCE ")
        || ((t.contains("(-") || t.contains(", -")) && t.contains(')'))
        || t.split_whitespace()
            .next()
            .is_some_and(|w| w.len() > 2 && w.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Reads every open-file limit of a text.
pub fn parse(text: &str, input: InputId) -> LimitsOutput {
    let mut out = LimitsOutput::default();
    let mut pending = Pending::default();
    let mut host: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let loc = Location {
            input,
            line: i as u64 + 1,
        };
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let mut push = |source: String, soft, hard, pid, host: &Option<String>| {
            out.limits.push(OpenFileLimit {
                loc,
                source,
                soft,
                hard,
                pid,
                host: host.clone(),
            });
        };
        if let Some(c) = shell::command_line(t, &["ulimit", "cat", "grep", "prlimit", "less"]) {
            if c.host.is_some() {
                host = c.host.clone();
                out.host = out.host.take().or_else(|| c.host.clone());
            }
            pending = Pending::default();
            let cmd = c.command.strip_prefix("sudo ").unwrap_or(c.command);
            if cmd.starts_with("ulimit") {
                let args = cmd.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
                if let Some(hard) = ulimit_n(cmd) {
                    pending.bare = Some((format!("ulimit {args}"), hard));
                } else if args.contains('a') {
                    pending.hard_a = args.contains('H');
                }
            } else {
                pending.pid = pid_of(cmd);
            }
            continue;
        }
        if let Some((source, hard)) = pending.bare.take()
            && let Some(v) = Limit::parse(t)
        {
            let (s, h) = if hard {
                (None, Some(v))
            } else {
                (Some(v), None)
            };
            push(source, s, h, None, &host);
            continue;
        }
        if let Some(v) = open_files_a(t) {
            let (s, h) = if pending.hard_a {
                (None, Some(v))
            } else {
                (Some(v), None)
            };
            let src = if pending.hard_a {
                "ulimit -aH"
            } else {
                "ulimit -a"
            };
            push(src.to_string(), s, h, None, &host);
            continue;
        }
        if let Some((s, h)) = proc_limits(t) {
            let src = match pending.pid {
                Some(p) => format!("/proc/{p}/limits"),
                None => "/proc/<pid>/limits".to_string(),
            };
            push(src, Some(s), Some(h), pending.pid, &host);
            continue;
        }
        if let Some((s, h)) = prlimit_row(t) {
            push("prlimit".to_string(), Some(s), Some(h), pending.pid, &host);
            continue;
        }
        if !other_limit_line(t) {
            out.unparsed_lines += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape() {
        let t = "$ ulimit -Hn\n4096\n\n$ ulimit -Sn\n1024\n\n$ ulimit -n\n1024\n";
        let o = parse(t, InputId(0));
        assert_eq!(o.limits.len(), 3);
        assert_eq!(o.limits[0].hard, Some(Limit::Value(4096)));
        assert_eq!(o.limits[1].soft, Some(Limit::Value(1024)));
        assert_eq!(o.limits[2].loc.line, 8);
        let a = "~ulimit -a\ncore file size          (blocks, -c) 0\nopen files                      (-n) 900000\n";
        let o = parse(a, InputId(0));
        assert_eq!(o.limits[0].soft, Some(Limit::Value(900000)));
        assert_eq!(o.unparsed_lines, 0);
        let p = "$ cat /proc/63491/limits\nLimit                     Soft Limit           Hard Limit           Units\nMax open files            65536                65536                files\n";
        let o = parse(p, InputId(0));
        assert_eq!(o.limits[0].pid, Some(63491));
        let pr = "prlimit --pid 14559\n\nNOFILE     max number of open files                1024      4096\n";
        let o = parse(pr, InputId(0));
        assert_eq!(o.limits[0].hard, Some(Limit::Value(4096)));
        assert!(looks_like(t) && looks_like(a) && looks_like(p) && looks_like(pr));
        // Setting the limit prints nothing; the next number is not its answer.
        assert!(!looks_like("$ ulimit -n 65535\n$ echo 3\n3\n"));
    }
}
