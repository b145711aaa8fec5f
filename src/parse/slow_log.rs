//! TiDB's slow query log (`tidb_slow_query.log`): blocks of `# Key: value` header lines, each
//! opened by `# Time: <RFC 3339>`, followed by the statement. One block becomes one event: its
//! time, the header fields, the statement's first line as the message. Only blocks that hit a
//! rule's needle are kept, so memory stays bounded by what rules read.

use super::Kept;
use super::scan::Prefilter;
use crate::model::{InputId, Kind, Location, LogEvent};

/// A slow log starts (after blank lines) with `# Time: ` and has `# Query_time: ` near it.
pub fn looks_like(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim_end).filter(|l| !l.is_empty());
    lines.next().is_some_and(|l| l.starts_with("# Time: ")) && text.contains("\n# Query_time: ")
}

/// The blocks that hit a rule's needle; the records are all blocks.
pub fn parse(text: &str, input: InputId, kind: Kind, prefilter: &Prefilter) -> Kept {
    let mut out = Kept::default();
    let mut cur: Option<(LogEvent, usize)> = None;
    let mut offset = 0usize;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let line_no = i as u64 + 1;
        if let Some(time) = line.strip_prefix("# Time: ") {
            if let Some((ev, from)) = cur.take() {
                keep(&mut out, ev, &text[from..start], kind, prefilter);
            }
            let mut ev = LogEvent::at(Location {
                input,
                line: line_no,
            });
            ev.time = super::time::parse_rfc3339(time.trim());
            ev.excerpt = line.to_string();
            cur = Some((ev, start));
            continue;
        }
        let Some((ev, _)) = cur.as_mut() else {
            continue;
        };
        match line.strip_prefix("# ") {
            Some(h) => ev.fields.extend(
                header_fields(h)
                    .into_iter()
                    .map(|(k, v)| (k, clip(v, MAX_VALUE))),
            ),
            None if ev.message.is_empty() && !line.trim().is_empty() => {
                ev.message = clip(line.trim().to_string(), MAX_MESSAGE);
            }
            None => {}
        }
    }
    if let Some((ev, from)) = cur.take() {
        keep(&mut out, ev, &text[from..], kind, prefilter);
    }
    out
}

/// Longest header value and statement kept (plans and statements can run to megabytes).
const MAX_VALUE: usize = 256;
const MAX_MESSAGE: usize = 512;

fn clip(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

fn keep(out: &mut Kept, mut ev: LogEvent, block: &str, kind: Kind, prefilter: &Prefilter) {
    out.records += 1;
    ev.groups = prefilter.groups_in(block, kind);
    if !ev.groups.is_empty() {
        out.events.push(ev);
    }
}

/// `Query_time: 0.05`, `Process_time: 0.1 Wait_time: 0.2`, `User@Host: root[root] @ 10.0.0.1
/// [10.0.0.1]`: the pairs of a header line. A value runs to the next ` Key: ` of a line that
/// holds several.
fn header_fields(h: &str) -> Vec<(String, String)> {
    // Each `: ` preceded by a key-like word starts a pair.
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(p) = h[i..].find(": ") {
        let colon = i + p;
        let key_start = h[..colon].rfind(' ').map_or(0, |s| s + 1);
        let key = &h[key_start..colon];
        if !key.is_empty()
            && key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'@')
        {
            keys.push((key_start, colon));
        }
        i = colon + 2;
    }
    keys.iter()
        .enumerate()
        .map(|(n, (ks, colon))| {
            let end = keys.get(n + 1).map_or(h.len(), |(next, _)| *next);
            (
                h[*ks..*colon].to_string(),
                h[colon + 2..end].trim().to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NeedleGroup;

    const TWO: &str = "# Time: 2021-01-06T17:52:17.927353+08:00\n# Txn_start_ts: 422032634769833985\n# Query_time: 0.051914883\n# Wait_TS: 0.051791473\nbegin;\n# Time: 2021-11-15T18:02:26.991204198+08:00\n# User@Host: root[root] @ 10.43.0.0 [10.43.0.0]\n# Query_time: 2.001188855\n# Process_time: 0.1 Wait_time: 0.2\n# Wait_TS: 0\nselect sleep(2);\n";

    fn prefilter(needles: &[&str]) -> Prefilter {
        Prefilter::new(vec![NeedleGroup {
            needles: needles.iter().map(|s| s.to_string()).collect(),
            kinds: None,
        }])
    }

    #[test]
    fn detects_a_slow_log() {
        assert!(looks_like(TWO));
        assert!(!looks_like(
            "[2021/01/06 17:52:17.927 +08:00] [INFO] [x.go:1] [\"# Time: \"]"
        ));
    }

    #[test]
    fn one_event_per_block_with_header_fields() {
        let out = parse(
            TWO,
            InputId(0),
            Kind::TidbSlowLog,
            &prefilter(&["# Wait_TS: "]),
        );
        assert_eq!(out.records, 2);
        assert_eq!(out.events.len(), 2);
        let a = &out.events[0];
        assert_eq!(a.loc.line, 1);
        assert_eq!(a.message, "begin;");
        assert_eq!(a.field("Wait_TS"), Some("0.051791473"));
        assert_eq!(a.field("Query_time"), Some("0.051914883"));
        assert_eq!(
            a.time.unwrap().to_rfc3339(),
            "2021-01-06T17:52:17.927353+08:00"
        );
        let b = &out.events[1];
        assert_eq!(b.loc.line, 6);
        assert_eq!(
            b.field("User@Host"),
            Some("root[root] @ 10.43.0.0 [10.43.0.0]")
        );
        assert_eq!(b.field("Process_time"), Some("0.1"));
        assert_eq!(b.field("Wait_time"), Some("0.2"));
        assert_eq!(b.message, "select sleep(2);");
    }

    #[test]
    fn long_values_are_clipped() {
        let t = format!(
            "# Time: 2021-01-06T17:52:17.927353+08:00\n# Plan: {}\nselect {};\n",
            "x".repeat(5000),
            "y".repeat(5000)
        );
        let out = parse(&t, InputId(0), Kind::TidbSlowLog, &prefilter(&["# Plan"]));
        assert_eq!(out.events[0].field("Plan").unwrap().len(), MAX_VALUE);
        assert_eq!(out.events[0].message.len(), MAX_MESSAGE);
    }

    #[test]
    fn blocks_without_a_needle_are_not_kept() {
        let out = parse(TWO, InputId(0), Kind::TidbSlowLog, &prefilter(&["sleep("]));
        assert_eq!(out.records, 2);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].message, "select sleep(2);");
    }
}
