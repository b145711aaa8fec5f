//! `tikv-ctl` commands and their answers, as pasted in tickets and shell sessions:
//! `tikv-ctl --db … bad-regions` (`2: StringError("last index < applied index")` or
//! `all regions are healthy`), `tombstone` and `unsafe-recover remove-fail-stores`
//! (`success!`), `region-properties` and `size` (`key: value` lines), `raft region`,
//! `consistency-check` errors (`DebugClient::…: RpcFailure(…)`) and `bad-ssts` reports.
//! Each answer line becomes an event tied to the command above it (its subcommand and the
//! region and store ids it names), so rules can cite it like a log line.

use super::scan::excerpt;
use crate::model::{InputId, Level, Location, LogEvent};

/// tikv-ctl subcommands (tikv-ctl --help of the 4.x–8.x releases).
const SUBCOMMANDS: &[&str] = &[
    "bad-regions",
    "bad-ssts",
    "cluster",
    "compact",
    "compact-cluster",
    "consistency-check",
    "decrypt-file",
    "diff",
    "dump-snap-meta",
    "encryption-meta",
    "fail",
    "ldb",
    "metrics",
    "modify-tikv-config",
    "mvcc",
    "print",
    "raft",
    "raw-scan",
    "recover-mvcc",
    "recreate-region",
    "region-properties",
    "range-properties",
    "reset-to-version",
    "scan",
    "size",
    "split-region",
    "store",
    "tombstone",
    "unsafe-recover",
];

/// Flags of tikv-ctl that take a value.
const VALUE_FLAGS: &[&str] = &[
    "--db",
    "--raftdb",
    "--host",
    "--data-dir",
    "--pd",
    "--config",
    "--ca-path",
    "--cert-path",
    "--key-path",
    "--log-level",
];

/// What one tikv-ctl capture holds.
#[derive(Debug, Default)]
pub struct TikvCtlOutput {
    /// Answer lines (and commands shown without an answer), in line order.
    pub events: Vec<LogEvent>,
    /// What the capture lacks: commands whose answer is not shown.
    pub partial: Vec<String>,
}

/// The tikv-ctl arguments of a command line, from the subcommand on
/// (`$ ./bin/tikv-ctl --db /d bad-regions` → `bad-regions`).
pub fn command(line: &str) -> Option<&str> {
    let t = line.trim();
    let words: Vec<(usize, &str)> = t
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - t.as_ptr() as usize, w))
        .collect();
    let bin = words.iter().position(|(_, w)| {
        let w = w.trim_start_matches(['$', '#', '>', '%']);
        w == "tikv-ctl" || w.ends_with("/tikv-ctl")
    });
    // `tiup ctl:v5.2.1 tikv …`
    let bin = bin.or_else(|| {
        words
            .windows(2)
            .position(|p| p[0].1.starts_with("ctl:") && p[1].1 == "tikv")
            .map(|i| i + 1)
    })?;
    let mut skip_value = false;
    for &(at, w) in &words[bin + 1..] {
        if skip_value {
            skip_value = false;
            continue;
        }
        if w.starts_with('-') {
            skip_value = !w.contains('=') && (VALUE_FLAGS.contains(&w) || w == "-p");
            continue;
        }
        return SUBCOMMANDS.contains(&w).then(|| &t[at..]);
    }
    None
}

/// Cheap test on a head of text: a tikv-ctl command line, or an answer only tikv-ctl prints.
pub fn looks_like(text: &str) -> bool {
    text.lines().take(400).any(|l| {
        let t = l.trim();
        t == "all regions are healthy"
            || t == "corruption analysis has completed"
            || ((t.contains("tikv-ctl") || t.contains("ctl:v")) && command(t).is_some())
    })
}

pub fn parse(text: &str, input: InputId) -> TikvCtlOutput {
    let mut out = TikvCtlOutput::default();
    // The command being answered, its line, and whether an answer followed it yet.
    let mut current: Option<(String, u64, bool)> = None;
    let mut in_answer = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let t = raw.trim();
        if t.is_empty() || t.chars().all(|c| c == '-' || c == '=') {
            continue;
        }
        // A command line; one without a prompt inside an answer is a command the answer
        // suggests (`bad-ssts` prints the `tombstone` to run), part of that answer.
        let prompted = t.starts_with(['$', '#', '%']) || t.contains("]$ ") || t.contains("]# ");
        if let Some(c) = command(t).filter(|_| prompted || !in_answer) {
            close(&mut current, input, &mut out);
            current = Some((c.to_string(), n, false));
            in_answer = false;
            continue;
        }
        in_answer = true;
        // A prompt running something else ends the command's answer.
        if prompted {
            close(&mut current, input, &mut out);
            in_answer = false;
            continue;
        }
        let cmd = current.as_mut().map(|(c, _, answered)| {
            *answered = true;
            c.clone()
        });
        out.events.push(answer(t, cmd.as_deref(), n, input));
    }
    close(&mut current, input, &mut out);
    out
}

/// A command shown without an answer still counts: as an event, with a partial note.
fn close(current: &mut Option<(String, u64, bool)>, input: InputId, out: &mut TikvCtlOutput) {
    if let Some((cmd, line, answered)) = current.take()
        && !answered
    {
        out.partial.push(format!(
            "line {line}: the answer to `tikv-ctl {cmd}` is not shown"
        ));
        let mut e = answer(&format!("tikv-ctl {cmd}"), Some(&cmd), line, input);
        e.level = Some(Level::Info);
        out.events.push(e);
    }
}

fn answer(t: &str, cmd: Option<&str>, line: u64, input: InputId) -> LogEvent {
    let l = t.to_ascii_lowercase();
    let error = ["error", "corruption", "rpcfailure", "failed", "panic"]
        .iter()
        .any(|w| l.contains(w));
    let mut fields = Vec::new();
    if let Some(c) = cmd {
        fields.extend(command_ids(c));
        if let Some(sub) = c.split_whitespace().next() {
            fields.push(("subcommand".to_string(), sub.to_string()));
        }
        fields.push(("command".to_string(), c.to_string()));
    }
    // `bad-regions`: `<region id>: <error>`; `size`/`raft region`: `region id: N`.
    let region = t
        .split_once(": ")
        .filter(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .map(|(id, _)| id)
        .or_else(|| t.strip_prefix("region id: ").map(str::trim));
    if let Some(r) = region
        && !fields.iter().any(|(k, v)| k == "region-id" && v == r)
    {
        fields.push(("region-id".to_string(), r.to_string()));
    }
    LogEvent {
        loc: Location { input, line },
        time: None,
        level: Some(if error { Level::Error } else { Level::Info }),
        source: None,
        message: t.to_string(),
        excerpt: excerpt(t),
        fields,
        groups: Vec::new(),
        operator: None,
    }
}

/// `-r 1001,1002` and `-s 3` of a command, as `region-id` / `store-id` fields.
fn command_ids(cmd: &str) -> Vec<(String, String)> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in w.windows(2) {
        let key = match pair[0] {
            "-r" | "--region" => "region-id",
            "-s" | "--stores" | "--store" => "store-id",
            _ => continue,
        };
        for id in pair[1].split(',') {
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                out.push((key.to_string(), id.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(
            command(
                "[tidb@localhost deploy]$ ./bin/tikv-ctl --db /data/tikv/db/ --raftdb /data/tikv/raft/ bad-regions"
            ),
            Some("bad-regions")
        );
        assert_eq!(
            command(
                "tikv-ctl --data-dir /path/to/tikv unsafe-recover remove-fail-stores -s 3 -r 1001,1002"
            ),
            Some("unsafe-recover remove-fail-stores -s 3 -r 1001,1002")
        );
        assert_eq!(
            command("$ tikv-ctl --host 127.0.0.1:20160 raft region -r 2"),
            Some("raft region -r 2")
        );
        assert_eq!(command("tikv-ctl is a tool"), None);
        assert_eq!(command("tikv-ctl --help"), None);
    }

    #[test]
    fn bad_regions_answer() {
        let t = "[tidb@localhost deploy]$ ./bin/tikv-ctl --db /data/tikv/db/ --raftdb /data/tikv/raft/ bad-regions\n2: StringError(\"last index < applied index\")\n8: StringError(\"last index < applied index\")\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].field("region-id"), Some("2"));
        assert_eq!(out.events[1].field("subcommand"), Some("bad-regions"));
        assert_eq!(out.events[1].level, Some(Level::Error));
        assert_eq!(out.events[1].loc.line, 3);
        assert!(out.partial.is_empty());
    }

    #[test]
    fn command_without_answer_is_partial() {
        let out = parse(
            "./tikv-ctl --db /data/deploy/data/db tombstone -r 434317 --force\n",
            InputId(0),
        );
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].field("region-id"), Some("434317"));
        assert_eq!(out.partial.len(), 1);
    }

    #[test]
    fn several_commands_each_with_its_answer() {
        let t = "$ tikv-ctl --host 127.0.0.1:20160 consistency-check -r 2\nsuccess!\n$ tikv-ctl --host 127.0.0.1:20161 consistency-check -r 2\nDebugClient::check_region_consistency: RpcFailure(RpcStatus { status: Unknown })\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].level, Some(Level::Info));
        assert_eq!(out.events[1].level, Some(Level::Error));
        assert_eq!(out.events[1].field("region-id"), Some("2"));
        assert!(looks_like(t));
    }
}
