//! `cockroach sql` answers kvtriage reads: `SHOW ZONE CONFIGURATIONS` (and `... FOR RANGE x`)
//! and `SHOW [ALL] CLUSTER SETTINGS` / `SHOW CLUSTER SETTING x`, in every output format:
//! the default table (`----+----` rule, `(N rows)`), the older `+----+` rule, the
//! `--format=table` box, and tsv/csv (multi-line values quoted).

use crate::model::InputId;
use crate::model::crdb::{ClusterSetting, ZoneConfig};

/// One record of a result table: its first line and its cells (continuation rows joined
/// with newlines).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

/// One result table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub header_line: u64,
    pub records: Vec<Record>,
    /// What `(N rows)` announced.
    pub announced: Option<u64>,
    /// A row cut at the end of the text, or an elision (`...`) inside the table.
    pub cut_line: Option<u64>,
    pub elided_line: Option<u64>,
}

#[derive(Debug, Default)]
pub struct SqlOutput {
    pub zones: Vec<ZoneConfig>,
    pub settings: Vec<ClusterSetting>,
    pub unparsed_lines: u64,
    /// What the copy lacks (a cut row, fewer rows than announced, an elision).
    pub partial: Vec<String>,
}

fn is_rule(t: &str) -> bool {
    let t = t.trim();
    t.len() >= 3 && t.contains("---") && t.bytes().all(|b| matches!(b, b'-' | b'+' | b'|'))
}

fn rows_footer(t: &str) -> Option<u64> {
    let inner = t.trim().strip_prefix('(')?.strip_suffix(')')?;
    let n = inner
        .strip_suffix(" rows")
        .or_else(|| inner.strip_suffix(" row"))?;
    n.trim().parse().ok()
}

/// Cells of a pipe row: `  a | b ` or `| a | b |`.
fn pipe_cells(line: &str, boxed: bool) -> Vec<String> {
    let mut t = line.trim_end();
    if boxed {
        t = t.trim_start();
        t = t.strip_prefix('|').unwrap_or(t);
        t = t.strip_suffix('|').unwrap_or(t);
    }
    t.split('|').map(|c| c.trim().to_string()).collect()
}

/// Tables in pipe form: a header line above a dash rule.
fn pipe_tables(lines: &[&str], ends_cut: bool) -> (Vec<Table>, Vec<bool>) {
    let mut used = vec![false; lines.len()];
    let mut tables = Vec::new();
    let mut i = 0;
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    while i < lines.len() {
        let t = lines[i].trim();
        // A box opens with a rule above its header.
        let boxed_top = t.starts_with('+') && is_rule(t);
        let (h, rule) = if boxed_top && i + 2 < lines.len() && is_rule(lines[i + 2]) {
            (i + 1, i + 2)
        } else if !t.is_empty() && !is_rule(t) && i + 1 < lines.len() && is_rule(lines[i + 1]) {
            (i, i + 1)
        } else {
            i += 1;
            continue;
        };
        let boxed = lines[h].trim_start().starts_with('|');
        let header = pipe_cells(lines[h], boxed);
        for u in used.iter_mut().take(rule + 1).skip(i) {
            *u = true;
        }
        let mut table = Table {
            header: header.clone(),
            header_line: h as u64 + 1,
            ..Table::default()
        };
        let mut j = rule + 1;
        while j < lines.len() {
            let line = lines[j];
            let t = line.trim();
            if is_rule(t) {
                used[j] = true;
                j += 1;
                continue;
            }
            if let Some(n) = rows_footer(t) {
                used[j] = true;
                table.announced = Some(n);
                j += 1;
                break;
            }
            if t.is_empty() {
                break;
            }
            if t == "..." || t == "…" {
                used[j] = true;
                table.elided_line = Some(j as u64 + 1);
                j += 1;
                continue;
            }
            let cells = pipe_cells(line, boxed);
            if cells.len() != header.len() {
                if Some(j) == last {
                    used[j] = true;
                    table.cut_line = Some(j as u64 + 1);
                }
                break;
            }
            used[j] = true;
            if Some(j) == last && ends_cut {
                table.cut_line = Some(j as u64 + 1);
            }
            // A row whose first cell is empty continues the record above.
            match table.records.last_mut() {
                Some(r) if cells[0].is_empty() && header.len() > 1 => {
                    for (c, v) in r.cells.iter_mut().zip(cells) {
                        if !v.is_empty() {
                            c.push('\n');
                            c.push_str(&v);
                        }
                    }
                }
                _ => table.records.push(Record {
                    line: j as u64 + 1,
                    cells,
                }),
            }
            j += 1;
        }
        tables.push(table);
        i = j;
    }
    (tables, used)
}

/// Splits delimited text (tsv/csv) into records, honouring quotes over several lines; each
/// record keeps its first line.
fn delimited_records(text: &str, delim: char) -> Vec<Record> {
    let mut out = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut line = 1u64;
    let mut start = 1u64;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if at_start {
            start = line;
            at_start = false;
        }
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if cell.is_empty() => quoted = true,
            '\n' => {
                line += 1;
                if quoted {
                    cell.push('\n');
                } else {
                    cells.push(std::mem::take(&mut cell).trim_end_matches('\r').to_string());
                    out.push(Record {
                        line: start,
                        cells: std::mem::take(&mut cells),
                    });
                    at_start = true;
                }
            }
            c if c == delim && !quoted => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    if !at_start {
        cells.push(cell);
        out.push(Record { line: start, cells });
    }
    out
}

/// A tsv/csv table: the first line with the delimiter whose cells name known columns.
fn delimited_table(text: &str, known: &[&str]) -> Option<Table> {
    for delim in ['\t', ','] {
        let recs = delimited_records(text, delim);
        let Some(h) = recs
            .iter()
            .position(|r| r.cells.len() > 1 && r.cells.iter().any(|c| known.contains(&c.trim())))
        else {
            continue;
        };
        let header: Vec<String> = recs[h].cells.iter().map(|c| c.trim().to_string()).collect();
        let mut table = Table {
            header_line: recs[h].line,
            header: header.clone(),
            ..Table::default()
        };
        let n = recs.len();
        for (k, r) in recs.into_iter().enumerate().skip(h + 1) {
            if r.cells.len() == 1 && r.cells[0].trim().is_empty() {
                continue;
            }
            if r.cells.len() != header.len() {
                if k + 1 == n && !text.ends_with('\n') {
                    table.cut_line = Some(r.line);
                }
                continue;
            }
            table.records.push(r);
        }
        return Some(table);
    }
    None
}

const ZONE_TARGET: &[&str] = &["target", "zone_name"];
const ZONE_CONFIG: &[&str] = &["raw_config_sql", "config_sql"];
const SETTING_COLUMNS: &[&str] = &["variable", "value", "setting_type", "type", "description"];

/// Whether the text holds zone configurations.
pub fn looks_like_zones(text: &str) -> bool {
    text.contains("CONFIGURE ZONE USING") && ZONE_CONFIG.iter().any(|c| text.contains(c))
}

/// Whether the text holds cluster settings (a listing, or one setting under its command:
/// `SHOW CLUSTER SETTING x`, `SHOW [ALL|PUBLIC] CLUSTER SETTINGS`, `[SHOW ALL CLUSTER SETTINGS]`).
pub fn looks_like_settings(text: &str) -> bool {
    let command = text.lines().take(2000).any(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("show ") && l.contains("cluster setting")
    });
    let header = text.lines().take(2000).any(|l| {
        let cells: Vec<&str> = l.split(['|', '\t', ',']).map(str::trim).collect();
        cells.first() == Some(&"variable") && cells.get(1) == Some(&"value")
    });
    command || header
}

/// The tables of a text, in pipe or delimited form.
fn tables(text: &str, known: &[&str]) -> (Vec<Table>, u64) {
    let lines: Vec<&str> = text.lines().collect();
    let (tables, used) = pipe_tables(&lines, !text.ends_with('\n'));
    if !tables.is_empty() {
        let unparsed = lines
            .iter()
            .zip(&used)
            .filter(|(l, u)| !**u && !l.trim().is_empty() && !sql_chrome(l))
            .count() as u64;
        return (tables, unparsed);
    }
    match delimited_table(text, known) {
        Some(t) => (vec![t], 0),
        None => (
            Vec::new(),
            lines.iter().filter(|l| !l.trim().is_empty()).count() as u64,
        ),
    }
}

/// Lines a SQL shell prints around results: the statement, `Time: 2ms`, fences.
fn sql_chrome(l: &str) -> bool {
    let t = l.trim();
    let lower = t.to_ascii_lowercase();
    t.starts_with("Time:")
        || t.starts_with('>')
        || t.starts_with("~~~")
        || t.starts_with("```")
        || lower.contains("show ")
        || t.ends_with(';')
}

fn partial_notes(t: &Table, out: &mut Vec<String>) {
    if let Some(l) = t.cut_line {
        out.push(format!(
            "the table is cut mid-row at line {l}: the rows above it are whole, the rest is missing"
        ));
    }
    if let Some(l) = t.elided_line {
        out.push(format!("rows are elided (`...`) at line {l}"));
    }
    if let Some(n) = t.announced {
        let got = t.records.len() as u64;
        if got < n {
            out.push(format!(
                "`({n} rows)` announced, {got} read, {} missing",
                n - got
            ));
        }
    }
}

fn col(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.contains(&h.as_str()))
}

/// Reads the zone configurations of a text.
pub fn parse_zones(text: &str, input: InputId) -> SqlOutput {
    let known: Vec<&str> = ZONE_TARGET.iter().chain(ZONE_CONFIG).copied().collect();
    let (tables, unparsed) = tables(text, &known);
    let mut out = SqlOutput {
        unparsed_lines: unparsed,
        ..SqlOutput::default()
    };
    for t in &tables {
        let (Some(ti), Some(ci)) = (col(&t.header, ZONE_TARGET), col(&t.header, ZONE_CONFIG))
        else {
            continue;
        };
        partial_notes(t, &mut out.partial);
        for r in &t.records {
            let (Some(target), Some(sql)) = (r.cells.get(ti), r.cells.get(ci)) else {
                continue;
            };
            out.zones.push(zone(input, r.line, target, sql));
        }
    }
    out
}

/// One zone from its target and its `ALTER ... CONFIGURE ZONE USING k = v, ...` text.
pub fn zone(input: InputId, line: u64, target: &str, sql: &str) -> ZoneConfig {
    let body = match sql.find("USING") {
        Some(p) => &sql[p + "USING".len()..],
        None => sql,
    };
    let fields: Vec<(String, String)> = split_outside_quotes(body)
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect();
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
    let text = |k: &str| get(k).map(|v| v.trim_matches('\'').to_string());
    ZoneConfig {
        input,
        line,
        target: target.trim().to_string(),
        num_replicas: num("num_replicas"),
        num_voters: num("num_voters"),
        gc_ttl_seconds: num("gc.ttlseconds"),
        range_min_bytes: num("range_min_bytes"),
        range_max_bytes: num("range_max_bytes"),
        constraints: text("constraints"),
        voter_constraints: text("voter_constraints"),
        lease_preferences: text("lease_preferences"),
        fields,
    }
}

/// Splits `a = 1, b = '[x, y]'` at commas outside single quotes.
fn split_outside_quotes(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Reads the cluster settings of a text.
pub fn parse_settings(text: &str, input: InputId) -> SqlOutput {
    let (tables, unparsed) = tables(text, SETTING_COLUMNS);
    let mut out = SqlOutput {
        unparsed_lines: unparsed,
        ..SqlOutput::default()
    };
    for t in &tables {
        let h = &t.header;
        let value_col = col(h, &["value"]);
        // Each record: its name and value, and the record itself for the other columns.
        let single = h.len() == 1 && is_setting_name(&h[0]);
        let (name_col, value_col) = match (col(h, &["variable"]), value_col) {
            (Some(vi), Some(ci)) => (Some(vi), ci),
            // `SHOW CLUSTER SETTING x`: one column named after the setting.
            _ if single => (None, 0),
            _ => continue,
        };
        let records: Vec<(String, &Record)> = t
            .records
            .iter()
            .filter_map(|r| {
                let name = match name_col {
                    Some(vi) => r.cells.get(vi)?.clone(),
                    None => h[0].clone(),
                };
                Some((name, r))
            })
            .collect();
        partial_notes(t, &mut out.partial);
        let type_col = col(h, &["setting_type", "type"]);
        let default_col = col(h, &["default_value"]);
        let origin_col = col(h, &["origin"]);
        for (name, r) in records {
            let line = r.line;
            let value = r.cells.get(value_col).cloned().unwrap_or_default();
            let cell = |c: Option<usize>| {
                c.filter(|_| !single)
                    .and_then(|c| r.cells.get(c))
                    .filter(|v| !v.is_empty())
                    .cloned()
            };
            let setting_type = cell(type_col);
            let secs = match setting_type.as_deref() {
                Some("d") | None => crate::model::units::parse_setting_secs(&value),
                _ => None,
            };
            out.settings.push(ClusterSetting {
                input,
                line,
                name: name.trim().to_string(),
                value: value.trim().to_string(),
                setting_type,
                default_value: cell(default_col),
                origin: cell(origin_col),
                secs,
            });
        }
    }
    out
}

fn is_setting_name(s: &str) -> bool {
    s.contains('.')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_in_the_default_table_and_csv() {
        let t = "  target | raw_config_sql\n---------+----------------\n  RANGE default | ALTER RANGE default CONFIGURE ZONE USING\n                |     num_replicas = 5,\n                |     constraints = '[+region=a, +zone=b]'\n(1 row)\n";
        let o = parse_zones(t, InputId(0));
        assert_eq!(o.zones.len(), 1);
        assert_eq!(o.zones[0].num_replicas, Some(5));
        assert_eq!(
            o.zones[0].constraints.as_deref(),
            Some("[+region=a, +zone=b]")
        );
        assert_eq!(o.zones[0].line, 3);
        assert!(o.partial.is_empty());
        let csv = "target,raw_config_sql\nRANGE default,\"ALTER RANGE default CONFIGURE ZONE USING\n    num_replicas = 3\"\nDATABASE system,\"ALTER DATABASE system CONFIGURE ZONE USING\n    num_replicas = 5\"\n";
        let o = parse_zones(csv, InputId(0));
        assert_eq!(o.zones.len(), 2);
        assert_eq!(o.zones[1].num_replicas, Some(5));
        assert_eq!(o.zones[1].line, 4);
    }

    #[test]
    fn settings_listing_and_single() {
        let t = "  variable | value | setting_type | description\n-----------+-------+--------------+------------\n  server.time_until_store_dead | 5m0s | d | the time after which\n(1 row)\n";
        let o = parse_settings(t, InputId(0));
        assert_eq!(o.settings[0].secs, Some(300.0));
        let one = "> SHOW CLUSTER SETTING diagnostics.reporting.enabled;\n  diagnostics.reporting.enabled\n---------------------------------\n              true\n(1 row)\n";
        let o = parse_settings(one, InputId(0));
        assert_eq!(o.settings[0].name, "diagnostics.reporting.enabled");
        assert_eq!(o.settings[0].value, "true");
        assert_eq!(o.unparsed_lines, 0);
    }
}
