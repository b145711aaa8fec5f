//! Inputs that feed CockroachDB facts besides logs: `node status`, `node decommission` and
//! drain output, and goroutine dumps.

use super::Collected;
use crate::model::Kind;
use crate::model::crdb::{CliCommand, CrdbFacts, CrdbTables, DecommissionRun, TableKind};
use crate::model::{Component, InputId, Version};

/// Reads one input of a CockroachDB CLI kind (or a node's goroutine dump).
pub fn collect(kind: Kind, text: &str, input: InputId) -> Collected<CrdbFacts> {
    if kind == Kind::CrdbGoroutines {
        let d = super::goroutines::parse(text);
        let records = d.goroutines.len() as u64;
        return Collected {
            records,
            unparsed_lines: Some(d.unparsed_lines),
            problem: (records == 0).then(|| "no goroutine could be read".to_string()),
            partial: None,
            versions: Vec::new(),
            facts: CrdbFacts {
                goroutines: vec![(input, d.goroutines)],
                ..CrdbFacts::default()
            },
        };
    }
    let out = super::crdb_table::parse(text);
    let problem =
        (out.records == 0).then(|| "no node table or decommission line could be read".to_string());
    let commands = commands(text, input);
    let runs = decommission_runs(input, &out, &commands);
    // `cockroach node status 3` answers for the nodes it names only.
    let filtered = commands
        .iter()
        .filter(|c| c.verb == "status" && !c.ids.is_empty())
        .map(|c| {
            let ids: Vec<String> = c.ids.iter().map(u64::to_string).collect();
            format!(
                "line {}: `node status {}` answers for the nodes it names, not the cluster",
                c.line,
                ids.join(" ")
            )
        });
    let partial = out.cut_row.map(|l| {
        format!("the table is cut mid-row at line {l}: the rows above it are whole, that row keeps the cells before the cut, the rest is missing")
    });
    let partial: Vec<String> = filtered.chain(partial).collect();
    let partial = (!partial.is_empty()).then(|| partial.join("; "));
    Collected {
        records: out.records,
        unparsed_lines: Some(out.unparsed_lines),
        problem,
        partial,
        versions: build_versions(&out),
        facts: CrdbFacts {
            commands,
            tables: vec![(input, out)],
            log_commands: Vec::new(),
            goroutines: Vec::new(),
            runs,
            ..CrdbFacts::default()
        },
    }
}

/// The lines a decommission CLI prints when it is done: the current one, and the `--wait=all`
/// and `--wait=live` endings of releases before 20.2.
const DONE_PREFIXES: &[&str] = &[
    "No more data reported on target nodes",
    "All target nodes report that they hold no more data",
    "Decommissioning finished.",
];

/// Splits one input's decommission progress tables into runs: a new run starts at a pasted
/// command line, after a completion line, or when the table's node set changes.
pub fn decommission_runs(
    input: InputId,
    t: &CrdbTables,
    commands: &[CliCommand],
) -> Vec<DecommissionRun> {
    enum Item {
        Cmd(bool),
        Snap(usize),
        Done,
    }
    let mut items: Vec<(u64, Item)> = Vec::new();
    for c in commands.iter().filter(|c| c.input == input) {
        if matches!(c.verb.as_str(), "decommission" | "recommission") {
            items.push((c.line, Item::Cmd(c.verb == "recommission")));
        }
    }
    for (i, s) in t.snapshots.iter().enumerate() {
        if s.kind == TableKind::DecommissionProgress {
            items.push((s.header_line, Item::Snap(i)));
        }
    }
    for m in &t.marks {
        if DONE_PREFIXES.iter().any(|p| m.text.starts_with(p)) {
            items.push((m.line, Item::Done));
        }
    }
    items.sort_by_key(|(l, _)| *l);
    let mut runs: Vec<DecommissionRun> = Vec::new();
    let mut cur: Option<DecommissionRun> = None;
    let mut pending_recommission = false;
    for (line, item) in items {
        match item {
            Item::Cmd(rec) => {
                runs.extend(cur.take());
                pending_recommission = rec;
            }
            Item::Snap(i) => {
                let mut ids: Vec<u64> = t.snapshots[i].rows.iter().map(|r| r.id).collect();
                ids.sort_unstable();
                ids.dedup();
                match cur.as_mut() {
                    Some(r) if r.ids == ids => r.snapshots.push(i),
                    _ => {
                        runs.extend(cur.take());
                        cur = Some(DecommissionRun {
                            input,
                            ids,
                            snapshots: vec![i],
                            completed: None,
                            recommission: pending_recommission,
                        });
                    }
                }
            }
            Item::Done => {
                if let Some(mut r) = cur.take() {
                    r.completed = Some(line);
                    runs.push(r);
                }
                pending_recommission = false;
            }
        }
    }
    runs.extend(cur);
    runs
}

/// The `build` column of `node status` (`v22.2.0-alpha.1`), one entry per distinct version
/// (first row that shows it), so remediation can pick the form for the cluster's release.
fn build_versions(t: &crate::model::crdb::CrdbTables) -> Vec<(Component, Version, u64)> {
    let mut out: Vec<(Component, Version, u64)> = Vec::new();
    for row in t.snapshots.iter().flat_map(|s| &s.rows) {
        let Some(v) = row.build.as_deref().and_then(Version::parse) else {
            continue;
        };
        if !out.iter().any(|(_, seen, _)| *seen == v) {
            out.push((Component::Cockroach, v, row.line));
        }
    }
    out
}

/// `cockroach node <verb> [ids...] [--flags]` lines of a CLI capture.
fn commands(text: &str, input: InputId) -> Vec<CliCommand> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| command_line(raw, input, i as u64 + 1))
        .collect()
}

/// Parses one `cockroach node <verb> [ids...] [--flags]` line, wherever the command sits on
/// it (after a shell prompt, `./`, `sudo`, `kubectl exec ... --`). `None` for other lines.
pub fn command_line(raw: &str, input: InputId, line: u64) -> Option<CliCommand> {
    // Cheap test first: most lines of a capture are table rows or progress.
    if !raw.contains("cockroach") || !raw.contains(" node ") {
        return None;
    }
    let words: Vec<&str> = raw.split_whitespace().collect();
    let at = words.iter().position(|w| {
        let w = w.trim_start_matches(['$', '#', '>', '%']);
        w == "cockroach" || w == "cockroach.exe" || w.ends_with("/cockroach")
    })?;
    if words.get(at + 1) != Some(&"node") {
        return None;
    }
    // Prose that mentions "cockroach node status" is not a command: the binary comes first,
    // or after a shell prompt or a wrapper (`sudo`, `kubectl exec ... --`).
    let prompt = |w: &str| {
        w.starts_with(['$', '#', '>', '%', '➜', '❯', '~'])
            || w.ends_with(['$', '#', '>', '%'])
            || matches!(
                w,
                "sudo" | "kubectl" | "docker" | "roachprod" | "ssh" | "time" | "env"
            )
    };
    if at != 0 && !words.first().is_some_and(|w| prompt(w)) {
        return None;
    }
    let verb = words.get(at + 2)?;
    if !verb.bytes().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let mut cmd = CliCommand {
        input,
        line,
        verb: (*verb).to_string(),
        ids: Vec::new(),
        host: None,
        drain_wait: None,
        self_flag: false,
    };
    let mut it = words[at + 3..].iter();
    while let Some(w) = it.next() {
        if let Ok(id) = w.parse::<u64>() {
            cmd.ids.push(id);
            continue;
        }
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (*w, None),
        };
        let mut value = || inline.clone().or_else(|| it.next().map(|s| s.to_string()));
        match flag {
            "--host" => {
                // The docs write `--host={address of any live node}`: not an address.
                cmd.host = value().filter(|v| !v.contains(['{', '<']));
            }
            "--drain-wait" => cmd.drain_wait = value(),
            "--self" => cmd.self_flag = true,
            _ => {}
        }
    }
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command decides coverage: `node status 2` answers for node 2 only; a table cut
    /// mid-row says so too.
    #[test]
    fn filtered_status_and_cut_tables_are_partial() {
        let t = "$ cockroach node status 2 --insecure\n  id | address | is_live\n-----+---------+--------\n   2 | b:26257 | true\n(1 row)\n";
        let c = collect(Kind::CrdbNodeStatus, t, InputId(0));
        assert_eq!(c.records, 1);
        assert!(
            c.partial
                .as_deref()
                .is_some_and(|p| p.contains("`node status 2`"))
        );
        let whole = "$ cockroach node status --insecure\n  id | address | is_live\n-----+---------+--------\n   1 | a:26257 | true\n   2 | b:26257 | true\n";
        assert_eq!(
            collect(Kind::CrdbNodeStatus, whole, InputId(0)).partial,
            None
        );
        let cut = &whole[..whole.len() - 12];
        let c = collect(Kind::CrdbNodeStatus, cut, InputId(0));
        assert_eq!(c.records, 2);
        assert!(
            c.partial
                .as_deref()
                .is_some_and(|p| p.contains("cut mid-row at line 5"))
        );
    }

    #[test]
    fn command_lines_and_versions() {
        let text = "\
$ cockroach node decommission 4 5 --certs-dir=certs --host={address of any live node}
  id | is_live | replicas | is_decommissioning |   membership    | is_draining
-----+---------+----------+--------------------+-----------------+--------------
   4 |  true   |       39 |        true        | decommissioning |    true
(1 row)
cockroach node drain 1 --host=localhost:26258 --drain-wait=15m --certs-dir=certs
./cockroach node drain --self --host 10.0.0.3:26257
the cockroach node status column
";
        let c = collect(Kind::CrdbDecommissionOutput, text, InputId(0));
        let cmds = &c.facts.commands;
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].verb, "decommission");
        assert_eq!(cmds[0].ids, vec![4, 5]);
        assert_eq!(cmds[0].host, None);
        assert_eq!(cmds[1].line, 6);
        assert_eq!(cmds[1].ids, vec![1]);
        assert_eq!(cmds[1].host.as_deref(), Some("localhost:26258"));
        assert_eq!(cmds[1].drain_wait.as_deref(), Some("15m"));
        assert!(cmds[2].self_flag);
        assert_eq!(cmds[2].host.as_deref(), Some("10.0.0.3:26257"));
        assert!(c.versions.is_empty());

        let status = "\
id | address | build | updated_at | is_live
---+---------+-------+------------+--------
1 | h1:26257 | v22.2.0-alpha.1 | 2022-09-01 02:17:28.202777 | true
2 | h2:26257 | v22.2.0-alpha.1 | 2022-09-01 02:17:28.202777 | true
3 | h3:26257 | v23.1.4 | 2022-09-01 02:17:28.202777 | true
";
        let c = collect(Kind::CrdbNodeStatus, status, InputId(0));
        assert_eq!(
            c.versions,
            vec![
                (Component::Cockroach, Version::new(22, 2, 0), 3),
                (Component::Cockroach, Version::new(23, 1, 4), 5)
            ]
        );
    }
}

#[cfg(test)]
mod run_tests {
    use super::*;

    #[test]
    fn runs_split_at_commands_completion_and_node_sets() {
        // n5 stays at 12 while n4 moves: the CLI reprinted the table three times.
        let text = "\
$ cockroach node decommission 4 5 --host=h:26257
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 30 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 20 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
4 | true | 10 | true | decommissioning | true
5 | true | 12 | true | decommissioning | true
(2 rows)
$ cockroach node decommission 6 --host=h:26257
id | is_live | replicas | is_decommissioning | membership | is_draining
---+---------+----------+--------------------+------------+------------
6 | true | 0 | true | decommissioning | true
(1 row)
No more data reported on target nodes. Please verify cluster health before removing the nodes.
";
        let c = collect(Kind::CrdbDecommissionOutput, text, InputId(0));
        let runs = &c.facts.runs;
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].ids, vec![4, 5]);
        assert_eq!(runs[0].snapshots.len(), 3);
        assert_eq!(runs[0].completed, None);
        assert_eq!(runs[1].ids, vec![6]);
        assert_eq!(runs[1].completed, Some(22));
        assert!(!runs[1].recommission);
    }

    /// Releases before 20.2 end a `--wait=live` run with `Decommissioning finished.`
    /// (cockroachdb/cockroach#18275, verbatim).
    #[test]
    fn old_cli_completion_lines_end_a_run() {
        let text = "\
root@jesse-crossdc-ubuntu-2gb-sfo2-01:~# ./cockroach node decommission 4 --insecure --wait=live
+----+---------+-------------------+--------------------+-------------+
| id | is_live | gossiped_replicas | is_decommissioning | is_draining |
+----+---------+-------------------+--------------------+-------------+
|  4 | false   |                12 | true               | true        |
+----+---------+-------------------+--------------------+-------------+
(1 row)
Decommissioning finished. Please verify cluster health before removing the nodes.
";
        let c = collect(Kind::CrdbDecommissionOutput, text, InputId(0));
        assert_eq!(c.facts.commands.len(), 1);
        let runs = &c.facts.runs;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0].ids, vec![4]);
        assert_eq!(runs[0].completed, Some(8));
    }
}
