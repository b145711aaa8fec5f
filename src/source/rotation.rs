//! Rotated logs of one program in one folder form one stream; overlaps and gaps between its
//! files are worth saying in a post-mortem.

use crate::model::units::human_secs;
use crate::model::{InputReport, Kind};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// The folder of a path (archive members keep their archive prefix).
fn parent_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The program part of a log file name, shared by its rotated files: `tikv.log`,
/// `tikv-2024-07-22T20-02-58.123.log` and `tikv.log.2019-10-16-06:28:13` are all `tikv`;
/// CockroachDB's `cockroach-rocksdb.host.user.2020-...log` is `cockroach-rocksdb`.
fn log_stem(name: &str) -> &str {
    let base = name.split('.').next().unwrap_or(name);
    let b = base.as_bytes();
    match (1..b.len()).find(|&i| b[i - 1] == b'-' && b[i].is_ascii_digit()) {
        Some(i) => &base[..i - 1],
        None => base,
    }
}

/// First and last entry time and path of one file of a rotated stream.
type StreamFile<'a> = (DateTime<FixedOffset>, DateTime<FixedOffset>, &'a str);

/// Rotated logs of one component in one folder form one stream: said in time order, with the
/// overlaps and gaps between files (a gap over an hour is worth knowing in a post-mortem).
pub fn rotation_notes(inputs: &[InputReport]) -> Vec<String> {
    let mut streams: BTreeMap<(&str, Kind, &str), Vec<StreamFile<'_>>> = BTreeMap::new();
    for i in inputs.iter().filter(|i| i.kind.is_log()) {
        let (Some(f), Some(l)) = (i.first_time.as_deref(), i.last_time.as_deref()) else {
            continue;
        };
        let (Ok(f), Ok(l)) = (
            DateTime::parse_from_rfc3339(f),
            DateTime::parse_from_rfc3339(l),
        ) else {
            continue;
        };
        // A rotated member inside a .gz keeps the folder and name of the .gz.
        let outer = i.path.split("!/").next().unwrap_or(&i.path);
        let dir = parent_of(outer);
        let name = outer[dir.len()..].trim_start_matches('/');
        streams
            .entry((dir, i.kind, log_stem(name)))
            .or_default()
            .push((f, l, i.path.as_str()));
    }
    let mut notes = Vec::new();
    for ((dir, kind, _), mut files) in streams {
        if files.len() < 2 {
            continue;
        }
        files.sort();
        let mut issues = Vec::new();
        for w in files.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if b.0 < a.1 {
                issues.push(format!(
                    "{} starts at {} before {} ends at {} (overlap)",
                    b.2,
                    b.0.to_rfc3339(),
                    a.2,
                    a.1.to_rfc3339()
                ));
            } else if (b.0 - a.1).num_seconds() > 3600 {
                issues.push(format!(
                    "no {kind} lines between {} ({}) and {} ({}): a gap of {}",
                    a.1.to_rfc3339(),
                    a.2,
                    b.0.to_rfc3339(),
                    b.2,
                    human_secs((b.0 - a.1).num_seconds())
                ));
            }
        }
        if issues.is_empty() {
            continue;
        }
        let shown = if dir.is_empty() { "." } else { dir };
        let mut note = format!(
            "{} rotated {kind} files in {shown} read as one stream, {} to {}",
            files.len(),
            files[0].0.to_rfc3339(),
            files
                .iter()
                .map(|f| f.1)
                .max()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        );
        note.push_str(": ");
        note.push_str(&issues.join("; "));
        notes.push(note);
    }
    notes
}
