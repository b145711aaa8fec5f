//! `cockroach start ... --join=a,b,c` wherever it is written: a shell line, a systemd unit
//! (`ExecStart=`), a Kubernetes manifest (`--join cockroachdb-0.cockroachdb,...`), or the
//! arguments a node logs when it starts (`[config] arguments: [cockroach start ...]`,
//! `arguments: ‹[cockroach start ...]›` from 21.1).

use crate::model::InputId;
use crate::model::crdb::{JoinList, StartCommand};

/// Lines above a `--join` searched for the `cockroach ... start` it belongs to (a command
/// split over lines with `\` or a YAML list).
const CONTEXT_LINES: usize = 30;

/// Whether a text configures a node start: a systemd unit or a Kubernetes manifest that
/// runs `cockroach start` with `--join`.
pub fn looks_like_config(text: &str) -> bool {
    if !text.contains("--join") || !text.contains("cockroach") {
        return false;
    }
    let unit = text.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("ExecStart=") && t.contains("cockroach")
    });
    let manifest = text.contains("apiVersion:") && text.contains("kind:");
    unit || manifest
}

/// Whether a text is a shell session that starts CockroachDB nodes by hand: `cockroach
/// start` lines (after an optional prompt) and no log entry (a session followed by the
/// server's own output is that server's log).
pub fn looks_like_shell_starts(text: &str) -> bool {
    // Only command lines: anything else (a banner, the server's stderr) is that server's
    // output, read as its log.
    let mut starts = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        if super::crdb_log::is_head(l.as_bytes()) {
            return false;
        }
        if start_words(l).is_some() {
            starts += 1;
        } else if !l.trim_start().starts_with(['$', '#']) {
            return false;
        }
    }
    starts > 0
}

/// The `cockroach start` lines of a shell session, one per node (the same node started twice
/// is one).
pub fn starts(text: &str, input: InputId) -> Vec<StartCommand> {
    let mut out: Vec<StartCommand> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let Some(words) = start_words(l) else {
            continue;
        };
        let node = start_node(&words).unwrap_or_else(|| words.join(" "));
        if !out.iter().any(|s| s.node == node) {
            out.push(StartCommand {
                input,
                line: i as u64 + 1,
                node,
            });
        }
    }
    out
}

/// The words after `start` of a line that runs `cockroach start` (or `start-single-node`),
/// prompt (`$`, `#`, `%`, `>`, `user@host:~$`) and path (`./cockroach`) allowed.
fn start_words(line: &str) -> Option<Vec<&str>> {
    let mut t = line.trim();
    // A prompt is one word ending in `$`, `#`, `%` or `>` (`user@host:~$`).
    if let Some((prompt, rest)) = t.split_once(' ')
        && prompt.ends_with(['$', '#', '%', '>'])
    {
        t = rest;
    }
    let mut words = t.split_whitespace();
    let bin = words.next()?;
    let name = bin.rsplit('/').next().unwrap_or(bin);
    if name != "cockroach" && name != "cockroach.exe" {
        return None;
    }
    match words.next()? {
        "start" | "start-single-node" => Some(words.collect()),
        _ => None,
    }
}

/// The value of `--flag=v` or `--flag v` among `words`.
fn flag<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    for (i, w) in words.iter().enumerate() {
        if let Some(v) = w.strip_prefix(name) {
            if let Some(v) = v.strip_prefix('=') {
                return Some(v.trim_matches(['\'', '"']));
            }
            if v.is_empty() {
                return words
                    .get(i + 1)
                    .filter(|n| !n.starts_with("--"))
                    .map(|n| n.trim_matches(['\'', '"']));
            }
        }
    }
    None
}

/// How a start line names its node (see [`StartCommand::node`]).
fn start_node(words: &[&str]) -> Option<String> {
    if let Some(a) = flag(words, "--advertise-addr").or_else(|| flag(words, "--listen-addr")) {
        return Some(format!("addr {a}"));
    }
    let host = flag(words, "--advertise-host").or_else(|| flag(words, "--host"));
    let port = flag(words, "--port");
    match (host, port) {
        (Some(h), Some(p)) => return Some(format!("addr {h}:{p}")),
        (Some(h), None) => return Some(format!("addr {h}")),
        (None, Some(p)) => return Some(format!("port {p}")),
        (None, None) => {}
    }
    flag(words, "--store")
        .or_else(|| flag(words, "-s"))
        .map(|s| format!("store {s}"))
}

/// The join lists of a text, each with the line of its `--join`.
pub fn joins(text: &str, input: InputId) -> Vec<JoinList> {
    let lines: Vec<&str> = text.lines().collect();
    let manifest = text.contains("apiVersion:");
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.contains("--join") {
            continue;
        }
        let from = i.saturating_sub(CONTEXT_LINES);
        let context = &lines[from..=i];
        let Some(addresses) = join_of(l, context) else {
            continue;
        };
        let source = if l.contains("arguments:") {
            "log"
        } else if context
            .iter()
            .any(|c| c.trim_start().starts_with("ExecStart="))
        {
            "systemd"
        } else if manifest {
            "kubernetes"
        } else {
            "shell"
        };
        out.push(JoinList {
            input,
            line: i as u64 + 1,
            source,
            addresses,
        });
    }
    out
}

/// The join list of one log line (a node's logged arguments, or a pasted command line).
pub fn join_of_line(line: &str, input: InputId, n: u64) -> Option<JoinList> {
    let addresses = join_of(line, &[line])?;
    Some(JoinList {
        input,
        line: n,
        source: if line.contains("arguments:") {
            "log"
        } else {
            "shell"
        },
        addresses,
    })
}

/// The distinct addresses of the `--join` on `line`, when `context` (the lines up to it)
/// shows it is an argument of `cockroach start`.
fn join_of(line: &str, context: &[&str]) -> Option<Vec<String>> {
    // The server's own hint (`add additional nodes by specifying --join=...`) is not a start.
    if line.contains("specifying --join") || line.contains("without --join") {
        return None;
    }
    let starts = context.iter().rev().any(|c| {
        c.contains("cockroach")
            && c.split(|ch: char| ch.is_whitespace() || matches!(ch, '[' | '"' | '\'' | ','))
                .any(|w| w == "start")
    }) || context.iter().any(|c| c.contains("cockroach"))
        && context
            .iter()
            .any(|c| c.trim().trim_matches(['-', ' ', '"']) == "start");
    if !starts {
        return None;
    }
    let p = line.find("--join")?;
    let rest = &line[p + "--join".len()..];
    let rest = rest.strip_prefix('=').unwrap_or_else(|| rest.trim_start());
    let value = match rest.chars().next()? {
        q @ ('\'' | '"') => {
            let inner = &rest[1..];
            &inner[..inner.find(q).unwrap_or(inner.len())]
        }
        _ => {
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ']' | '›' | '"' | '\'' | '\\'))
                .unwrap_or(rest.len());
            &rest[..end]
        }
    };
    let mut addresses: Vec<String> = Vec::new();
    for a in value.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        if !addresses.iter().any(|x| x == a) {
            addresses.push(a.to_string());
        }
    }
    // A placeholder (`<node-hostnames>`) or one shell variable holding the whole list
    // (`${crdb_hosts}`) says nothing of the size.
    let placeholder = |a: &str| a.contains(['<', '{']) && !a.contains("${") || a.starts_with('$');
    if addresses.is_empty() || (addresses.len() == 1 && placeholder(&addresses[0])) {
        return None;
    }
    Some(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_lists_by_source() {
        let log = "I200519 15:15:23.887066 1 util/log/clog.go:1203  [config] arguments: [cockroach start --certs-dir=certs --store=node1 --join=localhost:26257,localhost:26258,localhost:26259]";
        let j = join_of_line(log, InputId(0), 1).map(|j| j.addresses.len());
        assert_eq!(j, Some(3));
        let hint = "I180228 01:51:53.305158 37 server/server.go:837  [n?] **** add additional nodes by specifying --join=127.0.0.1:26257";
        assert!(join_of_line(hint, InputId(0), 1).is_none());
        let k8s = "apiVersion: apps/v1\nkind: StatefulSet\n          - exec\n            /cockroach/cockroach\n            start\n            --join cockroachdb-0.cockroachdb,cockroachdb-1.cockroachdb,cockroachdb-2.cockroachdb\n";
        let j = joins(k8s, InputId(0));
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].addresses.len(), 3);
        assert_eq!(j[0].source, "kubernetes");
        assert_eq!(j[0].line, 6);
        assert!(looks_like_config(k8s));
        let unit = "[Service]\nExecStart=/usr/local/bin/cockroach start --join='a:26257 ,b:26257 ,c:26257' --insecure\n";
        let j = joins(unit, InputId(0));
        assert_eq!(j[0].addresses, vec!["a:26257", "b:26257", "c:26257"]);
        assert_eq!(j[0].source, "systemd");
        let var = "ExecStart=/usr/local/bin/cockroach start --join=${crdb_hosts} --cache=.25\n";
        assert!(joins(var, InputId(0)).is_empty());
        let session = "$ cockroach start --insecure --port=26257 --store cockroach-data/1\n$ ./cockroach start --insecure --port=26258 --store cockroach-data/2 --join=localhost:26257\nroot@h1:~# cockroach start --advertise-addr=10.0.0.3:26257 --join=10.0.0.1\ncockroach start --insecure --port=26257 --store cockroach-data/1\n";
        assert!(looks_like_shell_starts(session));
        let s = starts(session, InputId(0));
        let nodes: Vec<&str> = s.iter().map(|s| s.node.as_str()).collect();
        assert_eq!(nodes, ["port 26257", "port 26258", "addr 10.0.0.3:26257"]);
        let with_log = "$ cockroach start --insecure --join=a,b,c\nI171109 14:14:33.936738 1 cli/start.go:593  CockroachDB CCL v1.0.6\n";
        assert!(!looks_like_shell_starts(with_log));
        assert!(!looks_like_shell_starts(
            "cockroach node decommission 3 --insecure\n"
        ));
        let redacted = "I210919 11:23:11.261344 1 util/log/file_sync_buffer.go:238 ⋮ [config]   arguments: ‹[cockroach start --join=a:1,b:1]›";
        assert_eq!(
            join_of_line(redacted, InputId(0), 1).map(|j| j.addresses.len()),
            Some(2)
        );
    }
}
