//! pd-ctl output and PD HTTP API JSON: `store`, `store <id>`, `region <id>`, `region store
//! <id>` and other region lists, `config show`. Real files are often pasted terminal sessions:
//! a leading command line (`$ tiup ctl:v5.2.1 pd -u http://pd:2379 store 5`, `» config show`),
//! `Starting component ctl: ...`, one or more JSON documents, and answers such as `Success!` or
//! `Failed! [500] "cannot build operator for region with no leader"`. Excerpts cut from issue
//! threads may start mid-object (`"stores": [`); complete records are still recovered.

use super::scan::excerpt;
use crate::model::units::parse_byte_size;
use crate::model::{
    InputId, Level, Location, LogEvent, PdConfig, Peer, PeerId, PeerRole, Region, RegionId, Store,
    StoreBalance, StoreId, StoreState, Version,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct PdctlOutput {
    pub stores: Vec<Store>,
    pub regions: Vec<Region>,
    pub configs: Vec<PdConfig>,
    /// Non-JSON lines worth keeping: pd-ctl answers (`Failed! ...`), command lines.
    pub answers: Vec<LogEvent>,
    pub pd_addrs: Vec<String>,
    pub ctl_version: Option<(Version, u64)>,
    /// JSON documents (or recovered records) read.
    pub records: u64,
    /// What could not be read, for the input's reason.
    pub problem: Option<String>,
    /// The last pd-ctl command line seen, for the answer that follows it.
    last_command: Option<String>,
}

/// Text with a line index for offset → line lookups.
struct Text<'a> {
    s: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(s: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|p| p + 1));
        Text { s, line_starts }
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, off: usize) -> u64 {
        match self.line_starts.binary_search(&off) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }

    /// Offset of `"key": <num>` at or after `from`, within `until`.
    fn find_key_num(&self, key: &str, num: u64, from: usize, until: usize) -> Option<usize> {
        let hay = &self.s.as_bytes()[from.min(until)..until];
        let pat = format!("\"{key}\"");
        let mut start = 0;
        while let Some(p) = memchr::memmem::find(&hay[start..], pat.as_bytes()) {
            let at = start + p;
            let mut j = at + pat.len();
            while j < hay.len() && (hay[j] == b' ' || hay[j] == b':' || hay[j] == b'\t') {
                j += 1;
            }
            let ds = j;
            while j < hay.len() && hay[j].is_ascii_digit() {
                j += 1;
            }
            if j > ds && std::str::from_utf8(&hay[ds..j]).ok()?.parse::<u64>().ok() == Some(num) {
                return Some(from + at);
            }
            start = at + 1;
        }
        None
    }
}

/// Is this line the start of a JSON document (not a bracketed log line)?
fn json_start(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('{')
        || (t.starts_with('[')
            && !t[1..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit()))
        || t.starts_with("\"stores\"")
        || t.starts_with("\"regions\"")
}

pub fn parse(data: &str, input: InputId) -> PdctlOutput {
    let text = Text::new(data);
    let mut out = PdctlOutput::default();
    let mut off = 0usize;
    let mut line_no = 0u64;
    let mut problems: Vec<String> = Vec::new();
    while off < data.len() {
        let end = data[off..].find('\n').map_or(data.len(), |p| off + p);
        let line = &data[off..end];
        line_no += 1;
        if json_start(line) {
            let start = off + (line.len() - line.trim_start().len());
            let bare_member = data[start..].starts_with('"');
            let parsed: Result<(Value, usize), String> = if bare_member {
                // An excerpt that starts with a member: read it inside braces.
                let wrapped = format!("{{{}", &data[start..]);
                let mut it = serde_json::Deserializer::from_str(&wrapped).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => Ok((v, it.byte_offset().saturating_sub(1))),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no JSON".into()),
                }
            } else {
                let mut it =
                    serde_json::Deserializer::from_str(&data[start..]).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => Ok((v, it.byte_offset())),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no JSON".into()),
                }
            };
            match parsed {
                Ok((v, len)) => {
                    let doc_end = start + len;
                    let n = take_document(&v, &text, start, doc_end, input, &mut out);
                    if n == 0 {
                        problems.push(format!(
                            "JSON at line {line_no} is not a pd-ctl store, region or config document (top-level keys: {})",
                            top_keys(&v)
                        ));
                    }
                    out.records += n;
                    off = doc_end;
                    line_no = text.line_of(off.min(data.len().saturating_sub(1)));
                    // Continue at the next line after the document.
                    match data[off..].find('\n') {
                        Some(p) => {
                            off += p + 1;
                        }
                        None => off = data.len(),
                    }
                    continue;
                }
                Err(e) => {
                    let mut recovered = salvage(&text, start, input, &mut out);
                    if recovered == 0 && salvage_config(&text, start, input, &mut out) {
                        recovered = 1;
                    }
                    problems.push(format!(
                        "JSON at line {} is incomplete ({}){}",
                        line_no,
                        e,
                        if recovered > 0 {
                            format!("; recovered {recovered} complete records")
                        } else {
                            String::new()
                        }
                    ));
                    out.records += recovered;
                    break;
                }
            }
        }
        note_command_line(line, line_no, input, &mut out);
        off = end + 1;
    }
    out.problem = problems.into_iter().next();
    out
}

/// Command lines and answers around the JSON.
fn note_command_line(line: &str, line_no: u64, input: InputId, out: &mut PdctlOutput) {
    let t = line.trim().trim_end_matches('\r');
    if t.is_empty() {
        return;
    }
    // `tiup ctl:v5.2.1 pd -u http://pd-ip:2379 ...` / `pd-ctl -u 10.0.1.1:2379`
    if let Some(p) = t.find("ctl:v") {
        let v = &t[p + 4..];
        let v = v.split([' ', '/']).next().unwrap_or("");
        if let Some(ver) = Version::parse(v) {
            out.ctl_version.get_or_insert((ver, line_no));
        }
    }
    if let Some(p) = t.find("-u ") {
        let addr = t[p + 3..].split_whitespace().next().unwrap_or("");
        let addr = addr
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        if !addr.is_empty() && !out.pd_addrs.iter().any(|a| a == addr) {
            out.pd_addrs.push(addr.to_string());
        }
    }
    let answer = t.starts_with("Failed!")
        || t.starts_with("[500]")
        || t.starts_with("Success!")
        || t.contains("cannot build operator");
    if answer {
        let failed = !t.starts_with("Success!");
        // The command the answer is about, and the ids it named.
        let mut fields = Vec::new();
        if let Some(cmd) = out.last_command.take() {
            fields.extend(command_ids(&cmd));
            fields.push(("command".to_string(), cmd));
        }
        out.answers.push(LogEvent {
            loc: Location {
                input,
                line: line_no,
            },
            time: None,
            level: Some(if failed { Level::Error } else { Level::Info }),
            source: None,
            message: t.to_string(),
            fields,
            excerpt: excerpt(t),
            groups: Vec::new(),
            operator: None,
        });
    } else if let Some(p) = pdctl_args(t) {
        out.last_command = Some(p.to_string());
    }
}

/// The pd-ctl arguments of a pasted command line (`$ tiup ctl:v5.2.1 pd -u http://x:2379
/// operator add transfer-leader 434317 4` → `operator add transfer-leader 434317 4`).
fn pdctl_args(line: &str) -> Option<&str> {
    // Interactive mode (`pd-ctl -i`): `» operator add ...` holds the arguments alone.
    if let Some(rest) = line.trim_start().strip_prefix('»') {
        let rest = rest.trim();
        return (!rest.is_empty()).then_some(rest);
    }
    let t = line.trim_start_matches(['$', '>', ' ']);
    // Words with their offsets, so the arguments are a slice of the line.
    let words: Vec<(usize, &str)> = t
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - t.as_ptr() as usize, w))
        .collect();
    let at = words
        .iter()
        .position(|(_, w)| *w == "pd" || w.ends_with("pd-ctl") || w.ends_with("/ctl"))?;
    let mut i = at + 1;
    // `tiup ctl:v5.2.1 pd ...` and tiup's `Starting component ctl: .../ctl pd ...`.
    if words.get(i).is_some_and(|(_, w)| *w == "pd") {
        i += 1;
    }
    while i < words.len() && words[i].1.starts_with('-') {
        // A flag and its value (`-u http://...`, `--pd ...`).
        i += if words[i].1.contains('=') { 1 } else { 2 };
    }
    let (start, _) = words.get(i)?;
    Some(t[*start..].trim())
}

/// Region and store ids a pd-ctl command names, as event fields.
fn command_ids(cmd: &str) -> Vec<(String, String)> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let num = |i: usize| w.get(i).filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
    let mut out = Vec::new();
    match w.as_slice() {
        ["operator", "add", _, ..] => {
            if let Some(r) = num(3) {
                out.push(("region-id".to_string(), r.to_string()));
            }
            if let Some(s) = num(4) {
                out.push(("store-id".to_string(), s.to_string()));
            }
        }
        ["region", ..] => {
            if let Some(r) = num(1) {
                out.push(("region-id".to_string(), r.to_string()));
            }
        }
        ["store", sub, ..] => {
            let id = if sub.bytes().all(|b| b.is_ascii_digit()) {
                Some(*sub)
            } else {
                num(2).copied()
            };
            if let Some(s) = id {
                out.push(("store-id".to_string(), s.to_string()));
            }
        }
        _ => {}
    }
    out
}

/// Recovers scalar settings from a config dump cut short (`"key": value` lines, sections
/// from `"schedule": {` lines). True if it looks like a PD config.
fn salvage_config(text: &Text<'_>, from: usize, input: InputId, out: &mut PdctlOutput) -> bool {
    let mut values = BTreeMap::new();
    let mut section: Vec<String> = Vec::new();
    for line in text.s[from..].lines() {
        let t = line.trim().trim_end_matches(',');
        if t.starts_with('}') {
            section.pop();
            continue;
        }
        let Some(rest) = t.strip_prefix('"') else {
            continue;
        };
        let Some((key, val)) = rest.split_once("\":") else {
            continue;
        };
        let val = val.trim();
        if val.starts_with('{') {
            if !val.ends_with('}') {
                section.push(key.to_string());
            }
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(val) else {
            continue;
        };
        let full = if section.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", section.join("."))
        };
        values.insert(full, v);
    }
    let known = [
        "max-replicas",
        "merge-schedule-limit",
        "max-merge-region-size",
        "leader-schedule-limit",
        "region-schedule-limit",
    ];
    let hits = values
        .keys()
        .filter(|k| known.contains(&k.rsplit('.').next().unwrap_or("")))
        .count();
    if hits < 2 {
        return false;
    }
    out.configs.push(PdConfig {
        values,
        loc: Location {
            input,
            line: text.line_of(from),
        },
    });
    true
}

/// Recovers complete store/region objects from damaged or excerpted JSON.
fn salvage(text: &Text<'_>, from: usize, input: InputId, out: &mut PdctlOutput) -> u64 {
    let s = text.s;
    let mut n = 0;
    let mut pos = from;
    let mut attempts = 0;
    while let Some(p) = s[pos..].find('{') {
        attempts += 1;
        if attempts > 20_000 {
            break;
        }
        let at = pos + p;
        let mut it = serde_json::Deserializer::from_str(&s[at..]).into_iter::<Value>();
        if let Some(Ok(Value::Object(m))) = it.next() {
            let end = at + it.byte_offset();
            if m.contains_key("store") && m.contains_key("status") {
                if let Some(st) = store_from(&m, text, at, end, input) {
                    out.stores.push(st);
                    n += 1;
                }
                pos = end;
                continue;
            }
            if m.contains_key("peers") && m.contains_key("id") {
                if let Some(r) = region_from(&m, text, at, end, input) {
                    out.regions.push(r);
                    n += 1;
                }
                pos = end;
                continue;
            }
        }
        pos = at + 1;
    }
    n
}

fn top_keys(v: &Value) -> String {
    match v {
        Value::Object(m) => m.keys().take(8).cloned().collect::<Vec<_>>().join(", "),
        Value::Array(_) => "an array".into(),
        _ => "a scalar".into(),
    }
}

/// Takes the records of one JSON document; returns how many were read.
fn take_document(
    v: &Value,
    text: &Text<'_>,
    start: usize,
    end: usize,
    input: InputId,
    out: &mut PdctlOutput,
) -> u64 {
    let before = out.stores.len() + out.regions.len() + out.configs.len();
    take_records(v, text, start, end, input, out);
    (out.stores.len() + out.regions.len() + out.configs.len() - before) as u64
}

fn take_records(
    v: &Value,
    text: &Text<'_>,
    start: usize,
    end: usize,
    input: InputId,
    out: &mut PdctlOutput,
) {
    let Value::Object(m) = v else {
        return;
    };
    // The command a pasted answer followed decides what it covers.
    let command = out.last_command.take();
    if let Some(Value::Array(stores)) = m.get("stores") {
        let complete = store_listing_is_complete(command.as_deref(), m, stores.len());
        let mut cursor = start;
        for s in stores {
            if let Value::Object(sm) = s
                && let Some(mut st) = store_from(sm, text, cursor, end, input)
            {
                cursor = text
                    .find_key_num("id", st.id.0, cursor, end)
                    .map_or(cursor, |p| p + 1);
                st.complete = complete;
                out.stores.push(st);
            }
        }
    } else if m.contains_key("store") && m.contains_key("status") {
        if let Some(st) = store_from(m, text, start, end, input) {
            out.stores.push(st);
        }
    } else if let Some(Value::Array(regions)) = m.get("regions") {
        let mut cursor = start;
        for r in regions {
            if let Value::Object(rm) = r
                && let Some(reg) = region_from(rm, text, cursor, end, input)
            {
                cursor = text
                    .find_key_num("id", reg.id.0, cursor, end)
                    .map_or(cursor, |p| p + 1);
                out.regions.push(reg);
            }
        }
    } else if m.contains_key("peers") && m.contains_key("id") {
        if let Some(reg) = region_from(m, text, start, end, input) {
            out.regions.push(reg);
        }
    } else if is_config(m) {
        let mut values = BTreeMap::new();
        flatten("", v, &mut values);
        out.configs.push(PdConfig {
            values,
            loc: Location {
                input,
                line: text.line_of(start),
            },
        });
    }
}

/// A store list covers every store when it answers a bare `store` (or no command is shown:
/// a saved `pd-ctl store` or PD API `/stores` dump) and its `count` matches what it lists.
/// `store <id>`, `store check <state>`, `store --state ...` answer for some stores only.
fn store_listing_is_complete(command: Option<&str>, m: &Map<String, Value>, len: usize) -> bool {
    let count_matches = match m.get("count").and_then(Value::as_u64) {
        Some(c) => c as usize == len,
        None => true,
    };
    let unfiltered = match command {
        None => true,
        Some(c) => {
            let words: Vec<&str> = c.split_whitespace().collect();
            // `store`, `store --jq ...` is still every store; a curl of /stores too.
            words.first() == Some(&"store")
                && words[1..]
                    .iter()
                    .all(|w| w.starts_with("--jq") || w.starts_with('-'))
                && !c.contains("--state")
        }
    };
    count_matches && unfiltered
}

pub fn is_config(m: &Map<String, Value>) -> bool {
    m.contains_key("replication")
        || m.contains_key("schedule")
        || m.contains_key("max-replicas")
        || m.contains_key("merge-schedule-limit")
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn u64_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn i64_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn store_from(
    m: &Map<String, Value>,
    text: &Text<'_>,
    from: usize,
    until: usize,
    input: InputId,
) -> Option<Store> {
    let Value::Object(st) = m.get("store")? else {
        return None;
    };
    let status = match m.get("status") {
        Some(Value::Object(s)) => Some(s),
        _ => None,
    };
    let id = u64_of(st.get("id")).or_else(|| status.and_then(|s| u64_of(s.get("store_id"))))?;
    let state = match st.get("state_name") {
        Some(Value::String(s)) => StoreState::parse(s),
        _ => StoreState::from_code(i64_of(st.get("state")).unwrap_or(0)),
    };
    let labels = match st.get("labels") {
        Some(Value::Array(ls)) => ls
            .iter()
            .filter_map(|l| {
                Some((
                    l.get("key")?.as_str()?.to_string(),
                    l.get("value")?.as_str()?.to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    let size = |k: &str| {
        status
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str().and_then(parse_byte_size).or_else(|| v.as_u64()))
    };
    let last_heartbeat = status
        .and_then(|s| s.get("last_heartbeat_ts"))
        .and_then(Value::as_str)
        .and_then(super::time::parse_rfc3339);
    let num = |k: &str| status.and_then(|s| s.get(k)).and_then(Value::as_f64);
    let start = status
        .and_then(|s| s.get("start_ts"))
        .and_then(Value::as_str)
        .and_then(super::time::parse_rfc3339);
    let uptime = status
        .and_then(|s| s.get("uptime"))
        .and_then(Value::as_str)
        .and_then(crate::model::units::parse_log_duration)
        .or_else(|| match (start, last_heartbeat) {
            (Some(a), Some(b)) if b >= a => Some((b - a).num_milliseconds() as f64 / 1000.0),
            _ => None,
        });
    let id_off = text.find_key_num("id", id, from, until).unwrap_or(from);
    // Cite the `state_name` line (what a reader wants to see), else the id line.
    let line_off = memchr::memmem::find(&text.s.as_bytes()[id_off..until], b"\"state_name\"")
        .map_or(id_off, |p| id_off + p);
    Some(Store {
        id: StoreId(id),
        address: st.get("address").and_then(Value::as_str).map(String::from),
        state,
        node_state: i64_of(st.get("node_state")),
        labels,
        version: st.get("version").and_then(Value::as_str).map(String::from),
        capacity: size("capacity"),
        available: size("available"),
        region_count: status.and_then(|s| u64_of(s.get("region_count"))),
        leader_count: status.and_then(|s| u64_of(s.get("leader_count"))),
        balance: StoreBalance {
            leader_weight: num("leader_weight"),
            region_weight: num("region_weight"),
            leader_score: num("leader_score"),
            region_score: num("region_score"),
        },
        uptime,
        last_heartbeat,
        loc: Location {
            input,
            line: text.line_of(line_off),
        },
        complete: false,
    })
}

fn peer_from(v: &Value) -> Option<Peer> {
    let m = v.as_object()?;
    let store_id = u64_of(m.get("store_id"))?;
    Some(Peer {
        id: u64_of(m.get("id")).map(PeerId),
        store_id: StoreId(store_id),
        role: PeerRole::parse(
            m.get("role_name").and_then(Value::as_str),
            i64_of(m.get("role")),
            m.get("is_learner")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
    })
}

fn region_from(
    m: &Map<String, Value>,
    text: &Text<'_>,
    from: usize,
    until: usize,
    input: InputId,
) -> Option<Region> {
    let id = u64_of(m.get("id"))?;
    let peers: Vec<Peer> = match m.get("peers") {
        Some(Value::Array(ps)) => ps.iter().filter_map(peer_from).collect(),
        _ => Vec::new(),
    };
    // PD prints a leaderless region's leader as `{"role_name":"Voter"}`: no store_id.
    let leader = m.get("leader").and_then(peer_from);
    let down_peers = match m.get("down_peers") {
        Some(Value::Array(ds)) => ds
            .iter()
            .filter_map(|d| {
                let p = peer_from(d.get("peer")?)?;
                Some((p, u64_of(d.get("down_seconds"))))
            })
            .collect(),
        _ => Vec::new(),
    };
    let pending_peers = match m.get("pending_peers") {
        Some(Value::Array(ps)) => ps.iter().filter_map(peer_from).collect(),
        _ => Vec::new(),
    };
    let id_off = text.find_key_num("id", id, from, until).unwrap_or(from);
    let leader_line = memchr::memmem::find(&text.s.as_bytes()[id_off..until], b"\"leader\"")
        .map(|p| text.line_of(id_off + p));
    Some(Region {
        id: RegionId(id),
        peers,
        leader,
        down_peers,
        pending_peers,
        approximate_size: i64_of(m.get("approximate_size")),
        approximate_keys: i64_of(m.get("approximate_keys")),
        loc: Location {
            input,
            line: text.line_of(id_off),
        },
        leader_line,
    })
}

/// The text of a line of a pd-ctl file, for evidence.
#[cfg(test)]
mod tests {
    use super::*;

    const REGION_STORE_5: &str = r#"$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 region store 5
{ "count": 1, "regions": [ { "id": 434317, "peers": [ {"store_id":1,"role_name":"Voter"}, {"store_id":4,"role_name":"Voter"}, {"store_id":5,"role_name":"Voter"}, {"store_id":390553,"role_name":"Learner"}, {"store_id":390554,"role_name":"Learner"} ], "leader": {"role_name":"Voter"} } ] }
"#;

    #[test]
    fn leaderless_region_from_pasted_session() {
        let out = parse(REGION_STORE_5, InputId(0));
        assert_eq!(out.regions.len(), 1);
        let r = &out.regions[0];
        assert_eq!(r.id, RegionId(434317));
        assert!(r.leader.is_none());
        assert_eq!(r.peers.len(), 5);
        assert_eq!(r.peers[3].role, PeerRole::Learner);
        assert_eq!(r.loc.line, 2);
        assert_eq!(out.ctl_version.unwrap().0, Version::new(5, 2, 1));
        assert_eq!(out.pd_addrs, vec!["pd-ip:2379".to_string()]);
    }

    #[test]
    fn store_with_state_code_and_sizes() {
        let j = r#"{
  "store": { "id": 5, "address": "10.203.93.36:20160", "state": 1, "version": "5.2.1", "state_name": "Offline" },
  "status": { "capacity": "0B", "available": "0B", "leader_count": 0, "region_count": 0,
              "last_heartbeat_ts": "2022-03-29T09:24:05.511041818+08:00" }
}
Success!
"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 1);
        let s = &out.stores[0];
        assert!(s.is_offline());
        assert_eq!(s.capacity, Some(0));
        assert_eq!(s.loc.line, 2);
        assert_eq!(out.answers.len(), 1);
    }

    #[test]
    fn store_balance_fields_and_uptime() {
        let j = r#"{"count": 2, "stores": [
  { "store": { "id": 5, "state_name": "Up" },
    "status": { "leader_count": 11, "leader_weight": 1, "leader_score": 11, "region_weight": 2,
                "region_score": 24.5, "uptime": "865h29m33.273981143s" } },
  { "store": { "id": 9, "state_name": "Up" },
    "status": { "start_ts": "2017-04-28T08:44:58Z", "last_heartbeat_ts": "2017-04-28T08:46:59.903958281Z" } }
]}"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 2);
        let b = &out.stores[0].balance;
        assert_eq!(b.leader_weight, Some(1.0));
        assert_eq!(b.leader_score, Some(11.0));
        assert_eq!(b.region_weight, Some(2.0));
        assert_eq!(b.region_score, Some(24.5));
        assert!((out.stores[0].uptime.unwrap() - 3_115_773.273_981_143).abs() < 1e-6);
        assert_eq!(out.stores[1].balance.leader_score, None);
        assert!((out.stores[1].uptime.unwrap() - 121.903).abs() < 1e-9);
    }

    #[test]
    fn excerpt_starting_mid_object_and_truncated() {
        let j = r#">>pd-ctl store check offline
"stores": [
    {
      "store": { "id": 1531026, "state": 1, "state_name": "Offline" },
      "status": { "capacity": "3.125TiB", "available": "3.043TiB", "region_count": 7 }
    },
    {
      "store": { "id": 7, "state_name": "Up" },
      "status": { "capaci"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.stores.len(), 1);
        assert!(out.problem.is_some());
        assert_eq!(out.stores[0].capacity, Some(3_435_973_836_800));
    }

    #[test]
    fn answers_carry_their_command_and_ids() {
        let t = "// Transfer leader to store 4\n$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 operator add transfer-leader 434317 4\nFailed! [500] \"cannot build operator for region with no leader\"\n$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 store delete 5\nSuccess!\n";
        let out = parse(t, InputId(0));
        assert_eq!(out.answers.len(), 2);
        let a = &out.answers[0];
        assert_eq!(
            a.field("command"),
            Some("operator add transfer-leader 434317 4")
        );
        assert_eq!(a.field("region-id"), Some("434317"));
        assert_eq!(a.field("store-id"), Some("4"));
        assert_eq!(out.answers[1].field("store-id"), Some("5"));
        assert_eq!(pdctl_args("» config show"), Some("config show"));
        assert_eq!(pdctl_args("$ tiup ctl:v5.2.1 pd -u http://x:2379 -i"), None);
        assert_eq!(
            pdctl_args("pd-ctl -u 10.0.1.1:2379 region 7"),
            Some("region 7")
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("0B"), Some(0));
        assert_eq!(parse_byte_size("288.9MiB"), Some(302_933_606));
        assert_eq!(parse_byte_size("17 GiB"), Some(17 << 30));
        assert_eq!(parse_byte_size("102 GB"), Some(102_000_000_000));
        assert_eq!(parse_byte_size("n/a"), None);
    }

    #[test]
    fn config_show_flattened() {
        let j = r#"» config show
{ "replication": { "max-replicas": 3 }, "schedule": { "high-space-ratio": 0.6, "merge-schedule-limit": 8 } }
"#;
        let out = parse(j, InputId(0));
        assert_eq!(out.configs.len(), 1);
        assert_eq!(
            out.configs[0].get_f64("schedule.high-space-ratio"),
            Some(0.6)
        );
        assert_eq!(out.configs[0].get_f64("max-replicas"), Some(3.0));
    }
}
