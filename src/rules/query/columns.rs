//! The columns of each table: what a rule reads of a row, by name.

use super::rows::{RegionRow, table_time};
use super::tables::{Catalog, Row};
use super::value::Value;
use crate::model::{Component, InputId, Location, LogEvent, PeerRole, Region, StoreState};
use chrono::DateTime;

fn num_u64(n: u64) -> Value {
    Value::Num(n as f64)
}

fn json_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        serde_json::Value::String(s) => match s.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => match s.trim().parse::<f64>() {
                Ok(n) => Value::Num(n),
                Err(_) => Value::Str(s.clone()),
            },
        },
        other => Value::Str(other.to_string()),
    }
}

/// A config value as a rule compares it: numbers, booleans, Go durations in seconds.
pub fn config_value(v: &serde_json::Value) -> Value {
    match json_value(v) {
        Value::Str(s) => match crate::model::units::parse_go_duration(&s) {
            Some(secs) => Value::Num(secs as f64),
            None => Value::Str(s),
        },
        other => other,
    }
}

fn state_name(s: &StoreState) -> Value {
    Value::Str(s.as_str().to_string())
}

impl<'a> Row<'a> {
    /// The input a row came from.
    pub fn input(&self) -> Option<InputId> {
        Some(match self {
            Row::Event(e) => e.loc.input,
            Row::Store(s) => s.s.loc.input,
            Row::Region(r) => r.r.loc.input,
            Row::Peer(r, _) => r.r.loc.input,
            Row::Config(_, _, _, l) => l.input,
            Row::Instance(i) => i.loc.input,
            Row::Series(s) => s.samples.first()?.loc.input,
            Row::Sample(s) => s.loc.input,
            Row::Input(i, _) => *i,
            Row::Version(_, v) => v.loc.input,
            Row::Template(t) => t.sample.sample.input,
            Row::Stage(_, st) => st.loc.input,
            Row::Bundle => return None,
            Row::Node(o) => o.input,
            Row::Run(r) => r.input,
            Row::Mark(i, _) => *i,
            Row::Command(c) => c.input,
            Row::Mount(m) => m.loc.input,
            Row::Limit(l) => l.loc.input,
            Row::Zone(z) => z.input,
            Row::Setting(s) => s.input,
            Row::Join(j) => j.input,
        })
    }

    /// The value of a column; `None` when the table has no such column.
    pub fn get(&self, cat: &Catalog<'a>, col: &str) -> Option<Value> {
        let meta = |i: InputId| cat.input(i);
        Some(match (self, col) {
            (_, "input") => Value::opt_num(self.input().map(|i| i.0 as f64)),
            (Row::Event(e), c) => match c {
                "time" => Value::opt_time(e.time),
                "level" => Value::opt_str(e.level.map(|l| l.as_str())),
                "message" => Value::Str(e.message.clone()),
                "source" => Value::opt_str(e.source.as_deref()),
                "line" => num_u64(e.loc.line),
                "loc" => Value::Loc(e.loc),
                "path" => Value::opt_str(meta(e.loc.input).map(|m| m.path.as_str())),
                "kind" => Value::opt_str(meta(e.loc.input).map(|m| m.kind.as_str())),
                "node" => match meta(e.loc.input) {
                    Some(m) => Value::Str(m.node.clone().unwrap_or_else(|| m.path.clone())),
                    None => Value::Null,
                },
                "input_node" => Value::opt_str(meta(e.loc.input).and_then(|m| m.node.as_deref())),
                "store" => Value::opt_u64(meta(e.loc.input).and_then(|m| m.store)),
                "excerpt" => Value::Str(e.excerpt.clone()),
                "text" => Value::Str(event_text(e)),
                "op_desc" => Value::opt_str(e.operator.as_deref().map(|o| o.desc.as_str())),
                "op_region" => Value::opt_u64(e.operator.as_deref().and_then(|o| o.region)),
                "op_merge" => Value::Bool(e.operator.as_deref().is_some_and(|o| o.is_merge())),
                // `additional-info` JSON of PD's operator lines: `{"cancel-reason": "..."}`.
                "cancel_reason" => e
                    .field("additional-info")
                    .or_else(|| e.field("additional info"))
                    .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
                    .and_then(|v| v.get("cancel-reason")?.as_str().map(str::to_string))
                    .filter(|r| !r.is_empty())
                    .map_or(Value::Null, Value::Str),
                _ => return None,
            },
            (Row::Store(r), c) => {
                let s = r.s;
                match c {
                    "id" => num_u64(s.id.0),
                    "address" | "node" => Value::opt_str(s.address.as_deref()),
                    "state" => state_name(&s.state),
                    // Stored state Up (Disconnected and Down are display overrides of Up).
                    "up" => Value::Bool(s.state.is_up_family() && !s.is_offline()),
                    "offline" => Value::Bool(s.is_offline()),
                    "tombstone" => Value::Bool(s.state == StoreState::Tombstone),
                    "down" => Value::Bool(s.state == StoreState::Down),
                    "tiflash" => Value::Bool(s.is_tiflash()),
                    "engine" => Value::Str(if s.is_tiflash() { "tiflash" } else { "tikv" }.into()),
                    "capacity" => Value::opt_u64(s.capacity),
                    "available" => Value::opt_u64(s.available),
                    "used_ratio" => match (s.capacity, s.available) {
                        (Some(c), Some(a)) if c > 0 => Value::Num(1.0 - a as f64 / c as f64),
                        _ => Value::Null,
                    },
                    "region_count" => Value::opt_u64(s.region_count),
                    "leader_count" => Value::opt_u64(s.leader_count),
                    "leader_weight" => opt_num(s.balance.leader_weight),
                    "region_weight" => opt_num(s.balance.region_weight),
                    "leader_score" => opt_num(s.balance.leader_score),
                    "region_score" => opt_num(s.balance.region_score),
                    "uptime" => opt_num(s.uptime),
                    "last_heartbeat" => Value::opt_time(s.last_heartbeat),
                    "heartbeat_age" => match (s.last_heartbeat, r.snapshot_time) {
                        (Some(hb), Some(t)) => Value::Num((t - hb).num_seconds() as f64),
                        _ => Value::Null,
                    },
                    "snapshot" => Value::Num(s.loc.input.0 as f64),
                    "snapshot_time" => Value::opt_time(r.snapshot_time),
                    "latest" => Value::Bool(r.latest),
                    "complete" => Value::Bool(r.complete),
                    "version" => Value::opt_str(s.version.as_deref()),
                    "loc" => Value::Loc(s.loc),
                    _ => return None,
                }
            }
            (Row::Region(rr), c) => region_col(rr.r, rr.latest, c)?,
            (Row::Peer(rr, p), c) => {
                let r = rr.r;
                match c {
                    "region" => num_u64(r.id.0),
                    "store" => num_u64(p.store_id.0),
                    "role" => Value::Str(format!("{:?}", p.role)),
                    "voter" => Value::Bool(!matches!(p.role, PeerRole::Learner)),
                    "learner" => Value::Bool(matches!(p.role, PeerRole::Learner)),
                    "leader" => {
                        Value::Bool(r.leader.as_ref().is_some_and(|l| l.store_id == p.store_id))
                    }
                    "down" => {
                        Value::Bool(r.down_peers.iter().any(|(d, _)| d.store_id == p.store_id))
                    }
                    "down_seconds" => Value::opt_u64(
                        r.down_peers
                            .iter()
                            .find(|(d, _)| d.store_id == p.store_id)
                            .and_then(|(_, s)| *s),
                    ),
                    "pending" => {
                        Value::Bool(r.pending_peers.iter().any(|d| d.store_id == p.store_id))
                    }
                    "region_loc" => Value::Loc(r.loc),
                    "region_latest" => Value::Bool(rr.latest),
                    _ => return None,
                }
            }
            (Row::Config(rec, k, v, l), c) => match c {
                "key" => Value::Str((*k).to_string()),
                "value" => config_value(v),
                "loc" => Value::Loc(*l),
                "component" => Value::Str(component_name(rec.component).to_string()),
                "node" => rec.node.clone().map_or(Value::Null, Value::Str),
                "source" => Value::Str(rec.source.as_str().to_string()),
                _ => return None,
            },
            (Row::Instance(i), c) => {
                let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Str);
                match c {
                    "role" => Value::Str(i.role.clone()),
                    "host" => Value::Str(i.host.clone()),
                    "port" => i.port.map_or(Value::Null, |p| Value::Num(f64::from(p))),
                    "address" => text(&i.address),
                    "data_dir" => text(&i.data_dir),
                    "deploy_dir" => text(&i.deploy_dir),
                    "pod" => text(&i.pod),
                    "loc" => Value::Loc(i.loc),
                    _ => return None,
                }
            }
            (Row::Series(s), c) => match c {
                "name" => Value::Str(s.name.to_string()),
                "first" => Value::opt_num(s.samples.first().map(|x| x.value)),
                "last" => Value::opt_num(s.samples.last().map(|x| x.value)),
                "min" => Value::opt_num(s.samples.iter().map(|x| x.value).reduce(f64::min)),
                "max" => Value::opt_num(s.samples.iter().map(|x| x.value).reduce(f64::max)),
                "span" => Value::opt_num(s.span()),
                "timed" => Value::Bool(s.timed()),
                "increase" => Value::Num(s.increase()),
                "growth" => match (s.samples.first(), s.samples.last()) {
                    (Some(a), Some(b)) => Value::Num(b.value - a.value),
                    _ => Value::Null,
                },
                "samples" => Value::Num(s.samples.len() as f64),
                "first_time" => unix_time(s.samples.iter().find_map(|x| x.time)),
                "last_time" => unix_time(s.samples.iter().rev().find_map(|x| x.time)),
                "loc" => s.samples.first().map_or(Value::Null, |x| Value::Loc(x.loc)),
                "locs" => {
                    let mut v: Vec<Value> = Vec::new();
                    if let Some(a) = s.samples.first() {
                        v.push(Value::Loc(a.loc));
                    }
                    if let Some(b) = s.samples.last().filter(|_| s.samples.len() > 1) {
                        v.push(Value::Loc(b.loc));
                    }
                    Value::List(v)
                }
                _ => return None,
            },
            (Row::Sample(s), c) => match c {
                "name" => Value::Str(s.name.clone()),
                "value" => Value::Num(s.value),
                "time" => unix_time(s.time),
                "loc" => Value::Loc(s.loc),
                _ => return None,
            },
            (Row::Input(i, m), c) => match c {
                "id" => Value::Num(i.0 as f64),
                "path" => Value::Str(m.path.clone()),
                "kind" => Value::Str(m.kind.as_str().to_string()),
                "node" => Value::opt_str(m.node.as_deref()),
                "store" => Value::opt_u64(m.store),
                "last_time" => Value::opt_time(m.last_time),
                "horizon" => Value::opt_time(cat.horizons.get(i).copied()),
                _ => return None,
            },
            (Row::Version(comp, v), c) => match c {
                "component" => Value::Str(component_name(*comp).to_string()),
                "version" => Value::Version(v.version),
                "loc" => Value::Loc(v.loc),
                _ => return None,
            },
            (Row::Stage(i, st), c) => {
                let ids = |v: Vec<u64>| Value::List(v.into_iter().map(num_u64).collect());
                match c {
                    "stage" => Value::Str(st.kind.name().to_string()),
                    "info" => Value::Str(st.info.clone()),
                    "time" => Value::opt_str(
                        st.time
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                            .as_deref(),
                    ),
                    "failed_stores" => ids(st.failed_stores()),
                    "tables" => ids(st.affected_tables()),
                    "unreported_stores" => ids(st.unreported_stores()),
                    "undispatched_stores" => ids(st.undispatched_stores()),
                    "error" => Value::opt_str(st.error_detail()),
                    "is_stage" => Value::Bool(st.kind.is_stage()),
                    "report" => Value::Num(*i as f64),
                    "loc" => Value::Loc(st.loc),
                    _ => return None,
                }
            }
            (Row::Node(o), c) => {
                let r = o.row;
                let b = |x: Option<bool>| x.map_or(Value::Null, Value::Bool);
                match c {
                    "id" => num_u64(r.id),
                    "address" => Value::opt_str(r.address.as_deref()),
                    "build" => Value::opt_str(r.build.as_deref()),
                    "locality" => Value::opt_str(r.locality.as_deref()),
                    "is_live" => b(r.is_live),
                    "is_available" => b(r.is_available),
                    "membership" => Value::opt_str(r.membership.as_deref()),
                    "decommissioning" => Value::Bool(o.decommissioning()),
                    "decommissioned" => {
                        Value::Bool(r.membership.as_deref() == Some("decommissioned"))
                    }
                    "active" => Value::Bool(o.active()),
                    "draining" => b(r.is_draining),
                    "replicas" => Value::opt_u64(r.replicas),
                    "updated_at" => Value::opt_str(r.updated_at.as_deref()),
                    "age" => match (o.taken, r.updated_at.as_deref().and_then(table_time)) {
                        (Some(t), Some(u)) => Value::Num((t - u).num_seconds() as f64),
                        _ => Value::Null,
                    },
                    "kind" => Value::Str(
                        match o.kind {
                            crate::model::crdb::TableKind::NodeStatus => "status",
                            crate::model::crdb::TableKind::DecommissionProgress => "decommission",
                        }
                        .into(),
                    ),
                    "snapshot" => Value::Num(o.snapshot as f64),
                    "latest" => Value::Bool(o.latest),
                    "last_status" => Value::Bool(o.last_status),
                    "loc" => Value::Loc(Location {
                        input: o.input,
                        line: r.line,
                    }),
                    _ => return None,
                }
            }
            (Row::Run(r), c) => {
                let at = |line| {
                    Value::Loc(Location {
                        input: r.input,
                        line,
                    })
                };
                match c {
                    "ids" => Value::List(r.ids.iter().map(|i| num_u64(*i)).collect()),
                    // The CLI prints the completion line only once every target is done; a
                    // last table with zero replicas everywhere means the same.
                    "finished" => Value::Bool(
                        r.completed.is_some()
                            || cat
                                .facts
                                .crdb
                                .tables
                                .iter()
                                .find(|(i, _)| *i == r.input)
                                .and_then(|(_, t)| t.snapshots.get(*r.snapshots.last()?))
                                .is_some_and(|s| {
                                    !s.rows.is_empty()
                                        && s.rows.iter().all(|x| x.replicas == Some(0))
                                }),
                    ),
                    "completed" => Value::Bool(r.completed.is_some()),
                    "completed_loc" => r.completed.map_or(Value::Null, at),
                    "recommission" => Value::Bool(r.recommission),
                    "first_loc" => cat
                        .facts
                        .crdb
                        .tables
                        .iter()
                        .find(|(i, _)| *i == r.input)
                        .and_then(|(_, t)| t.snapshots.get(*r.snapshots.first()?))
                        .map_or(Value::Null, |s| at(s.header_line)),
                    _ => return None,
                }
            }
            (Row::Mark(i, m), c) => match c {
                "text" => Value::Str(m.text.clone()),
                "loc" => Value::Loc(Location {
                    input: *i,
                    line: m.line,
                }),
                _ => return None,
            },
            (Row::Command(cmd), c) => match c {
                "verb" => Value::Str(cmd.verb.clone()),
                "ids" => Value::List(cmd.ids.iter().map(|i| num_u64(*i)).collect()),
                "host" => Value::opt_str(cmd.host.as_deref()),
                "drain_wait" => Value::opt_str(cmd.drain_wait.as_deref()),
                "self_flag" => Value::Bool(cmd.self_flag),
                "loc" => Value::Loc(Location {
                    input: cmd.input,
                    line: cmd.line,
                }),
                _ => return None,
            },
            (Row::Mount(m), c) => return super::host_tables::mount_col(cat, m, c),
            (Row::Limit(l), c) => return super::host_tables::limit_col(cat, l, c),
            (Row::Zone(z), c) => return super::host_tables::zone_col(z, c),
            (Row::Setting(s), c) => return super::host_tables::setting_col(s, c),
            (Row::Join(j), c) => return super::host_tables::join_col(j, c),
            (Row::Bundle, c) => match c {
                "inputs" => Value::Num(cat.inputs.len() as f64),
                _ => return None,
            },
            (Row::Template(t), c) => match c {
                "template" => Value::Str(t.sample.template.clone()),
                "level" => Value::Str(t.sample.level.as_str().to_string()),
                "count" => num_u64(t.count),
                "first" => Value::opt_time(t.first),
                "last" => Value::opt_time(t.last),
                "known" => Value::Bool(t.sample.known),
                "node" => Value::Str(t.node.clone()),
                "input_node" => {
                    Value::opt_str(meta(t.sample.sample.input).and_then(|m| m.node.as_deref()))
                }
                "loc" => Value::Loc(t.sample.sample),
                "excerpt" => Value::Str(t.sample.sample_excerpt.clone()),
                "peak" => Value::Num(t.peak().map_or(0, |p| p.1) as f64),
                // The busiest minute, shown in the log's own zone.
                "peak_at" => match t
                    .peak()
                    .and_then(|(m, _)| DateTime::from_timestamp(m * 60, 0))
                {
                    Some(at) => Value::Time(match t.first {
                        Some(f) => at.with_timezone(f.offset()),
                        None => at.fixed_offset(),
                    }),
                    None => Value::Null,
                },
                "baseline" => num_u64(t.baseline()),
                "minutes" => Value::Num(t.per_minute.len() as f64),
                _ => return None,
            },
        })
    }

    /// A log event's `[key=value]` field (or tag, or JSON key).
    pub fn field(&self, key: &str) -> Value {
        match self {
            Row::Event(e) => Value::opt_str(e.field(key)),
            Row::Series(s) => Value::opt_str(s.label(key)),
            Row::Sample(s) => Value::opt_str(s.label(key)),
            _ => Value::Null,
        }
    }

    pub fn event(&self) -> Option<&'a LogEvent> {
        match self {
            Row::Event(e) => Some(e),
            _ => None,
        }
    }

    pub fn region(&self) -> Option<&'a RegionRow<'a>> {
        match self {
            Row::Region(r) => Some(r),
            _ => None,
        }
    }
}

fn region_col(r: &Region, latest: bool, c: &str) -> Option<Value> {
    Some(match c {
        "id" => num_u64(r.id.0),
        "leader_store" => Value::opt_u64(r.leader.as_ref().map(|l| l.store_id.0)),
        "has_leader" => Value::Bool(r.leader.is_some()),
        "peer_count" => Value::Num(r.peers.len() as f64),
        "voter_count" => Value::Num(r.voters().count() as f64),
        "learner_count" => Value::Num((r.peers.len() - r.voters().count()) as f64),
        "down_count" => Value::Num(r.down_peers.len() as f64),
        "pending_count" => Value::Num(r.pending_peers.len() as f64),
        "size" => Value::opt_num(r.approximate_size.map(|v| v as f64)),
        "keys" => Value::opt_num(r.approximate_keys.map(|v| v as f64)),
        "latest" => Value::Bool(latest),
        "complete" => Value::Bool(r.complete),
        "peer_stores" => Value::List(r.peers.iter().map(|p| num_u64(p.store_id.0)).collect()),
        "loc" => Value::Loc(r.loc),
        "leader_loc" => match r.leader_line {
            Some(line) => Value::Loc(Location {
                input: r.loc.input,
                line,
            }),
            None => Value::Null,
        },
        _ => return None,
    })
}

fn unix_time(t: Option<f64>) -> Value {
    t.and_then(|t| DateTime::from_timestamp(t as i64, 0))
        .map_or(Value::Null, |t| Value::Time(t.fixed_offset()))
}

pub fn component_name(c: Component) -> &'static str {
    match c {
        Component::Tikv => "tikv",
        Component::Pd => "pd",
        Component::Tidb => "tidb",
        Component::Cockroach => "cockroach",
    }
}

/// The message and fields as one text, for patterns over whole entries.
pub fn event_text(ev: &LogEvent) -> String {
    let mut s = ev.message.clone();
    for (k, v) in &ev.fields {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The peers of a region record, as rows (for `count(peers where ...)` inside a region).
pub fn peers_of<'a>(r: &'a RegionRow<'a>) -> Vec<Row<'a>> {
    r.r.peers.iter().map(|p| Row::Peer(r, p)).collect()
}

fn opt_num(x: Option<f64>) -> Value {
    x.map_or(Value::Null, Value::Num)
}
