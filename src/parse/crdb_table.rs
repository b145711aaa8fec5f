//! `cockroach node status [--decommission|--all]` and `cockroach node decommission|drain`
//! output (formats-cockroach.md §2).
//!
//! Tables are accepted in the `|`-separated form (`-----+-----` rule, `(N rows)` trailer),
//! the box-drawn form of older versions (`+----+----+` rules, optional outer `|`), TSV and
//! CSV (`--format tsv|csv`, also the `crdb_internal.*` dumps of a debug zip). Columns are
//! found by header name; a file may hold several snapshots (decommission reprints its table
//! on every change). Around the tables the decommission/drain CLI prints notable lines
//! (pre-flight blocking errors, stall reports, drain progress): those become
//! [`BlockedRange`], [`StallReplica`] and [`TextMark`]. CockroachDB log lines interleaved
//! with the CLI output (`--logtostderr`) are recognised with [`crdb_log`] and mined for the
//! same messages; they are not counted as unparsed.

use super::crdb_log;
use crate::model::crdb::{
    BlockedRange, CrdbTables, NodeRow, Snapshot, StallReplica, TableKind, TextMark,
};

/// Line starts (of the trimmed line, or of a log line's message) that make a [`TextMark`].
const MARK_PREFIXES: &[&str] = &[
    "ranges blocking decommission detected",
    "...more blocking errors detected",
    "possible decommission stall detected",
    "No more data reported on target nodes",
    // Before 20.2 (pkg/cli/node.go): `--wait=all` and `--wait=live` endings.
    "All target nodes report that they hold no more data",
    "Decommissioning finished.",
    "ERROR:",
    "Error:",
    "Failed running",
    "node is draining...",
    "draining node n",
    "skipping drain step for node n",
    "drain step for node n",
    "initiating graceful shutdown of server",
    "initiating hard shutdown",
    "server drained and shutdown completed",
    "drain request completed",
    "received signal",
    "drain ok",
    "shutdown ok",
];

pub fn parse(text: &str) -> CrdbTables {
    let mut out = CrdbTables::default();
    let mut open: Option<Open> = None;
    let ends_whole = text.ends_with('\n');
    let last = text.lines().count() as u64;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let t = raw.trim();
        if t.is_empty() {
            close(&mut open, &mut out, false);
            continue;
        }
        // Decommission prints a `.` per unchanged poll, possibly before the next table.
        let body = t.trim_start_matches('.').trim_start();
        if body.is_empty() {
            continue;
        }
        if let Some((delim, names)) = header(body) {
            close(&mut open, &mut out, false);
            open = Some(Open::new(n, delim, &names));
            continue;
        }
        if let Some(o) = open.as_mut() {
            if is_rule(body) {
                continue;
            }
            if is_trailer(body) {
                close(&mut open, &mut out, true);
                continue;
            }
            if let Some(row) = o.row(body, n) {
                // The last line of a text cut mid-row: it keeps the cells before the cut.
                if !ends_whole && n == last && split(body, o.delim).len() < o.cols.len() {
                    out.cut_row = Some(n);
                }
                o.rows.push(row);
                out.records += 1;
                continue;
            }
            close(&mut open, &mut out, false);
        }
        if is_rule(body) || is_trailer(body) || is_command(t) {
            continue;
        }
        let parsed = crdb_log::is_head(t.as_bytes())
            .then(|| crdb_log::parse_line(t))
            .flatten();
        let msg = parsed.as_ref().map_or(t, |l| l.message.trim());
        if note(msg, n, &mut out) {
            out.records += 1;
        } else if parsed.is_none() {
            out.unparsed_lines += 1;
        }
    }
    close(&mut open, &mut out, false);
    out
}

/// Records a blocked/stall/mark line; false when `msg` is none of these.
fn note(msg: &str, line: u64, out: &mut CrdbTables) -> bool {
    if let Some((node, replicas, error)) = blocked(msg) {
        out.blocked.push(BlockedRange {
            node,
            replicas,
            error,
            line,
        });
        return true;
    }
    if let Some((node, replica, range)) = stall(msg) {
        out.stall_replicas.push(StallReplica {
            node,
            replica,
            range,
            line,
        });
        return true;
    }
    let drained = msg.starts_with("node n") && msg.contains(" drained successfully");
    if drained || msg == "ok" || MARK_PREFIXES.iter().any(|p| msg.starts_with(p)) {
        out.marks.push(TextMark {
            line,
            text: msg.to_string(),
        });
        return true;
    }
    false
}

/// `n1 has 44 replicas blocked with error: "..."`
fn blocked(s: &str) -> Option<(u64, u64, String)> {
    let (node, rest) = s.strip_prefix('n')?.split_once(" has ")?;
    let (count, err) = rest
        .split_once(" replicas blocked with error:")
        .or_else(|| rest.split_once(" replica blocked with error:"))?;
    let err = err.trim();
    let err = err.strip_prefix('"').unwrap_or(err);
    let err = err.strip_suffix('"').unwrap_or(err);
    Some((
        node.parse().ok()?,
        count.trim().parse().ok()?,
        err.to_string(),
    ))
}

/// `n3 still has replica id 2 for range r1`
fn stall(s: &str) -> Option<(u64, u64, u64)> {
    let (node, rest) = s.strip_prefix('n')?.split_once(" still has replica id ")?;
    let (replica, rest) = rest.split_once(" for range r")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    Some((
        node.parse().ok()?,
        replica.trim().parse().ok()?,
        rest[..digits].parse().ok()?,
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delim {
    Pipe,
    Tab,
    Comma,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Id,
    Address,
    Build,
    StartedAt,
    UpdatedAt,
    Locality,
    IsAvailable,
    IsLive,
    Replicas,
    IsDecommissioning,
    Membership,
    IsDraining,
}

fn column(name: &str) -> Option<Col> {
    Some(match name {
        "id" | "node_id" => Col::Id,
        "address" => Col::Address,
        "build" | "build_tag" => Col::Build,
        "started_at" => Col::StartedAt,
        "updated_at" => Col::UpdatedAt,
        "locality" => Col::Locality,
        "is_available" => Col::IsAvailable,
        "is_live" => Col::IsLive,
        "replicas" | "gossiped_replicas" => Col::Replicas,
        "is_decommissioning" | "decommissioning" => Col::IsDecommissioning,
        "membership" => Col::Membership,
        "is_draining" | "draining" => Col::IsDraining,
        _ => return None,
    })
}

/// A table whose header has been seen.
struct Open {
    header_line: u64,
    delim: Delim,
    /// Known column per header position.
    cols: Vec<Option<Col>>,
    id: usize,
    kind: TableKind,
    rows: Vec<NodeRow>,
}

impl Open {
    fn new(header_line: u64, delim: Delim, names: &[String]) -> Open {
        let cols: Vec<Option<Col>> = names.iter().map(|n| column(n)).collect();
        let id = cols.iter().position(|c| *c == Some(Col::Id)).unwrap_or(0);
        let has = |n: &str| names.iter().any(|x| x == n);
        // Releases before 2.0 print `gossiped_replicas` where later ones print `replicas`.
        let replicas = has("replicas") || has("gossiped_replicas");
        let kind = if replicas && !has("address") && !has("build") {
            TableKind::DecommissionProgress
        } else {
            TableKind::NodeStatus
        };
        Open {
            header_line,
            delim,
            cols,
            id,
            kind,
            rows: Vec::new(),
        }
    }

    /// A data row: its id cell is a number. Short rows (cut output) leave fields `None`.
    fn row(&self, body: &str, line: u64) -> Option<NodeRow> {
        let cells = split(body, self.delim);
        if cells.len() < 2 && self.cols.len() > 1 {
            return None;
        }
        let id = cells.get(self.id)?.trim().parse().ok()?;
        let mut r = NodeRow {
            id,
            line,
            ..NodeRow::default()
        };
        for (col, cell) in self.cols.iter().zip(&cells) {
            let v = cell.trim();
            let text = (!v.is_empty() && v != "NULL").then(|| v.to_string());
            match col {
                Some(Col::Address) => r.address = text,
                Some(Col::Build) => r.build = text,
                Some(Col::StartedAt) => r.started_at = text,
                Some(Col::UpdatedAt) => r.updated_at = text,
                Some(Col::Locality) => r.locality = text,
                Some(Col::IsAvailable) => r.is_available = boolean(v),
                Some(Col::IsLive) => r.is_live = boolean(v),
                Some(Col::Replicas) => r.replicas = v.parse().ok(),
                Some(Col::IsDecommissioning) => r.is_decommissioning = boolean(v),
                Some(Col::Membership) => r.membership = text,
                Some(Col::IsDraining) => r.is_draining = boolean(v),
                Some(Col::Id) | None => {}
            }
        }
        if r.is_decommissioning.is_none() && !self.cols.contains(&Some(Col::IsDecommissioning)) {
            r.is_decommissioning = r.membership.as_deref().map(|m| m != "active");
        }
        Some(r)
    }
}

/// Ends the open table; it becomes a snapshot if it has rows or a `(N rows)` trailer.
fn close(open: &mut Option<Open>, out: &mut CrdbTables, trailer: bool) {
    if let Some(o) = open.take()
        && (trailer || !o.rows.is_empty())
    {
        out.snapshots.push(Snapshot {
            rows: o.rows,
            header_line: o.header_line,
            kind: o.kind,
        });
    }
}

fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" | "t" | "TRUE" | "True" => Some(true),
        "false" | "f" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A header row: column names only, with an `id`/`node_id` column and at least one other
/// known column.
fn header(body: &str) -> Option<(Delim, Vec<String>)> {
    let delim = if body.contains('|') {
        Delim::Pipe
    } else if body.contains('\t') {
        Delim::Tab
    } else if body.contains(',') {
        Delim::Comma
    } else {
        return None;
    };
    let names: Vec<String> = split(body, delim)
        .into_iter()
        .map(|c| c.trim().to_string())
        .collect();
    let ident = |s: &str| {
        s.bytes()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == b'_')
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    };
    if names.len() < 2 || !names.iter().all(|n| ident(n)) {
        return None;
    }
    let known: Vec<Col> = names.iter().filter_map(|n| column(n)).collect();
    (known.contains(&Col::Id) && known.iter().any(|c| *c != Col::Id)).then_some((delim, names))
}

/// Cells of a row. Pipe tables drop the empty cells outside an outer `|` (box form);
/// TSV/CSV honour double quotes.
fn split(body: &str, delim: Delim) -> Vec<String> {
    match delim {
        Delim::Pipe => {
            let mut s = body.trim();
            if let Some(x) = s.strip_prefix('|') {
                s = x;
            }
            if let Some(x) = s.strip_suffix('|') {
                s = x;
            }
            s.split('|').map(str::to_string).collect()
        }
        Delim::Tab => split_quoted(body, '\t'),
        Delim::Comma => split_quoted(body, ','),
    }
}

fn split_quoted(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            c if c == sep && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// `-----+-----`, `+----+----+`, `-----` and box-drawing rules.
fn is_rule(s: &str) -> bool {
    s.contains(['-', '=', '─', '━', '═'])
        && s.chars().all(|c| {
            matches!(c, '-' | '+' | '|' | '=' | ':' | ' ' | '\t')
                || ('\u{2500}'..='\u{257f}').contains(&c)
        })
}

/// `(5 rows)`, `(1 row)`, `# 5 rows` (old TSV), `Time: 3ms`.
fn is_trailer(s: &str) -> bool {
    let count = |inner: &str| {
        let (num, word) = inner.split_once(' ').unwrap_or((inner, ""));
        !num.is_empty() && num.bytes().all(|c| c.is_ascii_digit()) && matches!(word, "row" | "rows")
    };
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        return count(inner);
    }
    if let Some(inner) = s.strip_prefix("# ") {
        return count(inner);
    }
    s.starts_with("Time: ")
}

const SUBCOMMANDS: &[&str] = &[
    "node",
    "start",
    "start-single-node",
    "sql",
    "init",
    "debug",
    "demo",
    "quit",
    "cert",
    "zip",
    "gen",
    "version",
    "workload",
    "userfile",
    "statement-diag",
    "auth-session",
    "convert-url",
    "mt",
];

/// A pasted command line: `$ cockroach node status ...`, `./cockroach node drain 3 ...`,
/// `➜  cockroach git:(branch) ./cockroach node status --insecure`.
fn is_command(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().take(12).collect();
    let binary = |w: &str| {
        let w = w.trim_start_matches(['$', '#', '>', '%']);
        w == "cockroach" || w == "cockroach.exe" || w.ends_with("/cockroach")
    };
    let prompt = |w: &str| {
        w.starts_with(['$', '#', '>', '%', '➜', '❯', '~'])
            || w.ends_with(['$', '#', '>', '%'])
            || matches!(
                w,
                "sudo" | "kubectl" | "docker" | "roachprod" | "ssh" | "time"
            )
    };
    words.iter().enumerate().any(|(i, w)| {
        binary(w)
            && words.get(i + 1).is_some_and(|s| SUBCOMMANDS.contains(s))
            && (i == 0 || words.first().is_some_and(|f| prompt(f)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 004 (cockroachdb/docs node-shutdown, flattened by the page extractor).
    const STATUS_3: &str = "\
cockroach node status --decommission --certs-dir=certs --host={address of any live node}
id | address | sql_address | build | started_at | updated_at | locality | is_available | is_live | gossiped_replicas | is_decommissioning | membership | is_draining
-----+-----------------+-----------------+-----------------+----------------------------+----------------------------+----------+--------------+---------+-------------------+--------------------+----------------+--------------
1 | localhost:26257 | localhost:26257 | v22.2.0-alpha.1 | 2022-09-01 02:11:55.07734 | 2022-09-01 02:17:28.202777 | | true | true | 73 | false | active | true
2 | localhost:26258 | localhost:26258 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.203535 | 2022-09-01 02:17:29.465841 | | true | true | 73 | false | active | false
3 | localhost:26259 | localhost:26259 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.406667 | 2022-09-01 02:17:29.588486 | | true | true | 73 | false | active | false
(3 rows)
is_draining == true
indicates that the node is either undergoing or has completed the draining process.
";

    const STATUS_5: &str = "\
id | address | sql_address | build | started_at | updated_at | locality | is_available | is_live | gossiped_replicas | is_decommissioning | membership | is_draining
-----+-----------------+-----------------+-----------------+----------------------------+----------------------------+----------+--------------+---------+-------------------+--------------------+----------------+--------------
1 | localhost:26257 | localhost:26257 | v22.2.0-alpha.1 | 2022-09-01 02:11:55.07734 | 2022-09-01 02:17:28.202777 | | true | true | 73 | false | active | false
2 | localhost:26258 | localhost:26258 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.203535 | 2022-09-01 02:17:29.465841 | | true | true | 73 | false | active | false
3 | localhost:26259 | localhost:26259 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.406667 | 2022-09-01 02:17:29.588486 | | true | true | 73 | false | active | false
4 | localhost:26260 | localhost:26260 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.914003 | 2022-09-01 02:16:39.032709 | | false | false | 0 | true | decommissioned | true
5 | localhost:26261 | localhost:26261 | v22.2.0-alpha.1 | 2022-09-01 02:11:57.613508 | 2022-09-01 02:16:39.615783 | | false | false | 0 | true | decommissioned | true
(5 rows)
";

    const DECOMMISSION_4_5: &str = "\
$ cockroach node decommission 4 5 --certs-dir=certs --host={address of any live node}
You'll then see the decommissioning status print to stderr
as it changes:
id | is_live | replicas | is_decommissioning | membership | is_draining
-----+---------+----------+--------------------+-----------------+--------------
4 | true | 39 | true | decommissioning | true
5 | true | 34 | true | decommissioning | true
(2 rows)
The is_draining
field is true
because the nodes were previously drained.
Once the nodes have been fully decommissioned, you'll see zero replicas
and a confirmation:
id | is_live | replicas | is_decommissioning | membership | is_draining
-----+---------+----------+--------------------+-----------------+--------------
4 | true | 0 | true | decommissioning | true
5 | true | 0 | true | decommissioning | true
(2 rows)
No more data reported on target nodes. Please verify cluster health before removing the nodes.
";

    const DEAD_NODE: &str = "\
$ cockroach node status --decommission --certs-dir=certs --host={address of any live node}
id | address | sql_address | build | started_at | updated_at | locality | is_available | is_live | gossiped_replicas | is_decommissioning | membership | is_draining
-----+-----------------+-----------------+-----------------+----------------------------+----------------------------+----------+--------------+---------+-------------------+--------------------+----------------+--------------
1 | localhost:26257 | localhost:26257 | v22.2.0-alpha.1 | 2022-09-01 02:45:45.970862 | 2022-09-01 05:32:43.233458 | | false | false | 0 | false | active | true
2 | localhost:26258 | localhost:26258 | v22.2.0-alpha.1 | 2022-09-01 02:46:40.32999 | 2022-09-01 05:42:28.577662 | | true | true | 73 | false | active | false
3 | localhost:26259 | localhost:26259 | v22.2.0-alpha.1 | 2022-09-01 02:46:47.20388 | 2022-09-01 05:42:27.467766 | | true | true | 73 | false | active | false
4 | localhost:26260 | localhost:26260 | v22.2.0-alpha.1 | 2022-09-01 02:11:56.914003 | 2022-09-01 02:16:39.032709 | | true | true | 73 | false | active | false
(4 rows)
";

    const PREFLIGHT: &str = r#"The error format is shown below:
ranges blocking decommission detected
n1 has 44 replicas blocked with error: "0 of 1 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); likely not enough nodes in cluster"
n2 has 27 replicas blocked with error: "0 of 1 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); likely not enough nodes in cluster"
ERROR: Cannot decommission nodes.
Failed running "node decommission"
"#;

    fn realog(path: &str) -> Option<String> {
        std::fs::read(format!("/work/shared/realogs/{path}"))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn seed_status_three_nodes() {
        let t = parse(STATUS_3);
        assert_eq!(t.snapshots.len(), 1);
        let s = &t.snapshots[0];
        assert_eq!(s.kind, TableKind::NodeStatus);
        assert_eq!(s.header_line, 2);
        assert_eq!(s.rows.len(), 3);
        let r = &s.rows[0];
        assert_eq!(r.id, 1);
        assert_eq!(r.line, 4);
        assert_eq!(r.address.as_deref(), Some("localhost:26257"));
        assert_eq!(r.build.as_deref(), Some("v22.2.0-alpha.1"));
        assert_eq!(r.started_at.as_deref(), Some("2022-09-01 02:11:55.07734"));
        assert_eq!(r.updated_at.as_deref(), Some("2022-09-01 02:17:28.202777"));
        assert_eq!(r.locality, None);
        assert_eq!(r.is_available, Some(true));
        assert_eq!(r.is_live, Some(true));
        assert_eq!(r.replicas, Some(73));
        assert_eq!(r.is_decommissioning, Some(false));
        assert_eq!(r.membership.as_deref(), Some("active"));
        assert_eq!(r.is_draining, Some(true));
        assert_eq!(s.rows[1].is_draining, Some(false));
        // 3 rows; the command line is structure; the two prose lines are unparsed.
        assert_eq!(t.records, 3);
        assert_eq!(t.unparsed_lines, 2);
    }

    #[test]
    fn seed_status_five_nodes_decommissioned() {
        let t = parse(STATUS_5);
        let s = &t.snapshots[0];
        assert_eq!(s.rows.len(), 5);
        let r4 = &s.rows[3];
        assert_eq!(r4.id, 4);
        assert_eq!(r4.is_live, Some(false));
        assert_eq!(r4.is_available, Some(false));
        assert_eq!(r4.replicas, Some(0));
        assert_eq!(r4.is_decommissioning, Some(true));
        assert_eq!(r4.membership.as_deref(), Some("decommissioned"));
        assert_eq!(t.unparsed_lines, 0);
        assert_eq!(t.records, 5);
    }

    #[test]
    fn seed_decommission_progress_two_snapshots() {
        let t = parse(DECOMMISSION_4_5);
        assert_eq!(t.snapshots.len(), 2);
        for s in &t.snapshots {
            assert_eq!(s.kind, TableKind::DecommissionProgress);
            assert_eq!(s.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![4, 5]);
            assert!(
                s.rows
                    .iter()
                    .all(|r| r.membership.as_deref() == Some("decommissioning")
                        && r.is_live == Some(true)
                        && r.is_draining == Some(true))
            );
        }
        assert_eq!(t.snapshots[0].rows[0].replicas, Some(39));
        assert_eq!(t.snapshots[0].rows[1].replicas, Some(34));
        assert_eq!(t.snapshots[1].rows[0].replicas, Some(0));
        assert_eq!(t.snapshots[0].header_line, 4);
        assert_eq!(t.snapshots[1].header_line, 14);
        assert_eq!(t.marks.len(), 1);
        assert!(t.marks[0].text.starts_with("No more data reported"));
        assert_eq!(t.marks[0].line, 19);
        assert_eq!(t.records, 5);
        // 2 + 5 prose lines.
        assert_eq!(t.unparsed_lines, 7);
    }

    #[test]
    fn seed_dead_node() {
        let t = parse(DEAD_NODE);
        let s = &t.snapshots[0];
        assert_eq!(s.rows.len(), 4);
        assert_eq!(s.rows[0].is_live, Some(false));
        assert_eq!(s.rows[0].replicas, Some(0));
        assert_eq!(s.rows[0].is_draining, Some(true));
        assert_eq!(s.rows[0].membership.as_deref(), Some("active"));
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn seed_preflight_block() {
        let t = parse(PREFLIGHT);
        assert_eq!(t.blocked.len(), 2);
        assert_eq!(t.blocked[0].node, 1);
        assert_eq!(t.blocked[0].replicas, 44);
        assert_eq!(t.blocked[0].line, 3);
        assert!(t.blocked[0].error.starts_with("0 of 1 live stores"));
        assert!(
            t.blocked[0]
                .error
                .ends_with("likely not enough nodes in cluster")
        );
        assert_eq!(t.blocked[1].node, 2);
        assert_eq!(t.blocked[1].replicas, 27);
        let marks: Vec<&str> = t.marks.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            marks,
            vec![
                "ranges blocking decommission detected",
                "ERROR: Cannot decommission nodes.",
                "Failed running \"node decommission\""
            ]
        );
        assert_eq!(t.records, 5);
        assert_eq!(t.unparsed_lines, 1);
    }

    #[test]
    fn preflight_table_with_readiness_columns() {
        let text = r#"  id | is_live | replicas | is_decommissioning | membership | is_draining |     readiness     | blocking_ranges
-----+---------+----------+--------------------+------------+-------------+-------------------+------------------
   3 |  true   |       65 |       false        |   active   |    false    | allocation errors |              65
(1 row)

ranges blocking decommission detected
n3 has 65 replicas blocked with error: "0 of 1 live stores are able to take a new replica for the range (2 already have a voter, 0 already have a non-voter); likely not enough nodes in cluster"

ERROR: Cannot decommission nodes.
Failed running "node decommission"
"#;
        let t = parse(text);
        assert_eq!(t.snapshots.len(), 1);
        assert_eq!(t.snapshots[0].kind, TableKind::DecommissionProgress);
        assert_eq!(t.snapshots[0].rows[0].replicas, Some(65));
        assert_eq!(t.blocked.len(), 1);
        assert_eq!(t.blocked[0].node, 3);
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn stall_report_and_drain_messages() {
        let text = "\
   id | is_live | replicas | is_decommissioning |   membership    | is_draining
-----+---------+----------+--------------------+-----------------+--------------
   3 |  true   |        2 |        true        | decommissioning |    false
(1 row)
...............

possible decommission stall detected
n3 still has replica id 2 for range r1
n3 still has replica id 3 for range r2
W220901 02:20:00.000000 100 1@server/admin.go:2000 ⋮ [n1] 50  n3 still has replica id 4 for range r7
skipping drain step for node n3; it is not live
node is draining... remaining: 50
node is draining... remaining: 0 (complete)
ok
ERROR: drain timeout, consider adjusting --drain-wait
initiating graceful shutdown of server
server drained and shutdown completed
";
        let t = parse(text);
        assert_eq!(t.snapshots.len(), 1);
        assert_eq!(
            t.stall_replicas,
            vec![
                StallReplica {
                    node: 3,
                    replica: 2,
                    range: 1,
                    line: 8
                },
                StallReplica {
                    node: 3,
                    replica: 3,
                    range: 2,
                    line: 9
                },
                StallReplica {
                    node: 3,
                    replica: 4,
                    range: 7,
                    line: 10
                },
            ]
        );
        assert_eq!(t.marks.len(), 8);
        assert_eq!(t.marks[0].text, "possible decommission stall detected");
        assert_eq!(
            t.marks[1].text,
            "skipping drain step for node n3; it is not live"
        );
        assert_eq!(t.unparsed_lines, 0);
        assert_eq!(t.records, 1 + 3 + 8);
    }

    #[test]
    fn tsv_and_csv() {
        let tsv = "id\taddress\tsql_address\tbuild\tstarted_at\tupdated_at\tlocality\tis_available\tis_live\n\
1\tlocalhost:26257\tlocalhost:26257\tv22.2.0\t2022-09-01 02:11:55.07734\t2022-09-01 02:17:28.202777\tregion=us-east1,zone=a\ttrue\ttrue\n\
2\tlocalhost:26258\tlocalhost:26258\tv22.2.0\t2022-09-01 02:11:56.203535\t2022-09-01 02:17:29.465841\t\tfalse\tfalse\n";
        let t = parse(tsv);
        assert_eq!(t.snapshots.len(), 1);
        let s = &t.snapshots[0];
        assert_eq!(s.kind, TableKind::NodeStatus);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(
            s.rows[0].locality.as_deref(),
            Some("region=us-east1,zone=a")
        );
        assert_eq!(s.rows[1].locality, None);
        assert_eq!(s.rows[1].is_live, Some(false));
        let csv = "id,is_live,replicas,is_decommissioning,membership,is_draining\n\
4,true,39,true,decommissioning,true\n\
5,true,34,true,decommissioning,true\n";
        let t = parse(csv);
        assert_eq!(t.snapshots[0].kind, TableKind::DecommissionProgress);
        assert_eq!(t.snapshots[0].rows[1].replicas, Some(34));
        let csv =
            "id,address,locality,is_live\n1,h:26257,\"region=us,zone=\"\"a\"\"\",true\n# 1 row\n";
        let t = parse(csv);
        let r = &t.snapshots[0].rows[0];
        assert_eq!(r.locality.as_deref(), Some("region=us,zone=\"a\""));
        assert_eq!(r.is_live, Some(true));
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn liveness_dump_by_header_name_and_cut_rows() {
        let tsv = "node_id\tepoch\texpiration\tdraining\tdecommissioning\tmembership\tupdated_at\n\
1\t3\t1662000000.000000000,0\tfalse\tfalse\tactive\t2022-09-01 02:17:28\n\
4\t2\t1661990000.000000000,0\ttrue\ttrue\tdecommiss";
        let t = parse(tsv);
        let s = &t.snapshots[0];
        assert_eq!(s.kind, TableKind::NodeStatus);
        assert_eq!(s.rows[1].id, 4);
        assert_eq!(s.rows[1].is_draining, Some(true));
        assert_eq!(s.rows[1].membership.as_deref(), Some("decommiss"));
        // A row cut before the membership column.
        let t = parse(
            "id | is_live | replicas | membership | is_draining\n---+---\n4 | true | 39 | decommissio",
        );
        let r = &t.snapshots[0].rows[0];
        assert_eq!(r.replicas, Some(39));
        assert_eq!(r.membership.as_deref(), Some("decommissio"));
        assert_eq!(r.is_decommissioning, Some(true));
        assert_eq!(r.is_draining, None);
        assert_eq!(t.cut_row, Some(3));
        assert_eq!(parse("id | is_live\n1 | true\n").cut_row, None);
    }

    #[test]
    fn box_drawn_full_border() {
        let text = "\
+----+-----------------+---------+
| id |     address     | is_live |
+----+-----------------+---------+
|  1 | localhost:26257 | true    |
|  2 | localhost:26258 | false   |
+----+-----------------+---------+
(2 rows)
";
        let t = parse(text);
        let s = &t.snapshots[0];
        assert_eq!(s.header_line, 2);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[1].address.as_deref(), Some("localhost:26258"));
        assert_eq!(s.rows[1].is_live, Some(false));
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn realogs_issue_35393_decommission_box_tables() {
        let Some(text) = realog("issue-crdb-35393/cockroach-node-decommission.txt") else {
            return;
        };
        let t = parse(&text);
        let reps: Vec<u64> = t
            .snapshots
            .iter()
            .flat_map(|s| s.rows.iter().filter_map(|r| r.replicas))
            .collect();
        assert_eq!(reps, vec![8387, 8381, 8377, 8376, 8374, 8363]);
        assert!(
            t.snapshots
                .iter()
                .all(|s| s.kind == TableKind::DecommissionProgress)
        );
        let r = &t.snapshots[0].rows[0];
        assert_eq!(r.id, 1);
        assert_eq!(r.is_live, Some(true));
        assert_eq!(r.is_decommissioning, Some(true));
        assert_eq!(r.is_draining, Some(false));
        assert_eq!(r.membership, None);
        assert_eq!(t.unparsed_lines, 0);
        assert_eq!(t.records, 6);
    }

    #[test]
    fn realogs_issue_39059_status_with_locality() {
        let Some(text) = realog("issue-crdb-39059/cockroach-node-status.txt") else {
            return;
        };
        let t = parse(&text);
        assert_eq!(t.snapshots.len(), 1);
        let r = &t.snapshots[0].rows[0];
        assert_eq!(r.id, 1);
        assert_eq!(r.address.as_deref(), Some("localhost:26257"));
        assert_eq!(
            r.build.as_deref(),
            Some("v19.2.0-alpha.20190606-963-g7111a67b2e-dirty")
        );
        assert_eq!(
            r.started_at.as_deref(),
            Some("2019-07-23 20:08:13.429401+00:00")
        );
        assert_eq!(r.locality.as_deref(), Some("region=us-east1,zone=pa"));
        assert_eq!(r.is_available, Some(true));
        assert_eq!(r.is_live, Some(true));
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn realogs_issue_40445_three_aws_nodes() {
        let Some(text) = realog("issue-crdb-40445/cockroach-node-status.txt") else {
            return;
        };
        let t = parse(&text);
        assert_eq!(t.snapshots.len(), 1);
        let s = &t.snapshots[0];
        assert_eq!(s.kind, TableKind::NodeStatus);
        assert_eq!(
            s.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(s.rows[1].address.as_deref(), Some("ip-10-12-34-163:26257"));
        assert_eq!(
            s.rows[2].locality.as_deref(),
            Some("cloud=aws,region=us-east-2,zone=us-east-2c")
        );
        assert!(s.rows.iter().all(|r| r.is_live == Some(true)));
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn realogs_issue_155063_drain_with_log_lines() {
        let Some(text) = realog("issue-crdb-155063/cockroach-node-drain.txt") else {
            return;
        };
        let t = parse(&text);
        assert!(t.snapshots.is_empty());
        assert_eq!(t.marks.len(), 5);
        assert!(
            t.marks
                .iter()
                .all(|m| m.text.starts_with("node is draining..."))
        );
        assert_eq!(t.unparsed_lines, 0);
    }

    #[test]
    fn whole_seed_004() {
        let Ok(b) = std::fs::read("/work/shared/seeds/004_57e2d1a6be8f83e7.txt") else {
            return;
        };
        let t = parse(&String::from_utf8_lossy(&b));
        let sizes: Vec<(TableKind, usize)> =
            t.snapshots.iter().map(|s| (s.kind, s.rows.len())).collect();
        use TableKind::{DecommissionProgress as D, NodeStatus as N};
        assert_eq!(
            sizes,
            vec![
                (N, 3),
                (N, 5),
                (D, 2),
                (D, 2),
                (N, 5),
                (N, 4),
                (D, 1),
                (N, 4),
                (D, 1)
            ]
        );
        println!(
            "seed 004: snapshots={} rows={} blocked={} marks={} records={} unparsed={}",
            t.snapshots.len(),
            sizes.iter().map(|s| s.1).sum::<usize>(),
            t.blocked.len(),
            t.marks.len(),
            t.records,
            t.unparsed_lines
        );
        for m in &t.marks {
            println!("  mark {}: {}", m.line, m.text);
        }
        assert_eq!(t.blocked.len(), 4);
        assert!(
            t.marks
                .iter()
                .any(|m| m.text.starts_with("ranges blocking"))
        );
        assert!(
            t.marks
                .iter()
                .any(|m| m.text == "server drained and shutdown completed")
        );
    }
}
