//! The host and cluster-setting tables (issue 12 part 5): `mounts` (df), `limits` (open
//! files), `crdb_zones`, `crdb_settings`, `crdb_joins`, and the functions that read them.

use super::tables::{Catalog, Row};
use super::value::Value;
use crate::model::crdb::{ClusterSetting, JoinList, ZoneConfig};
use crate::model::host::{Limit, Mount, OpenFileLimit};
use crate::model::{Facts, Location};

pub const TABLES: &[(&str, &[&str])] = &[
    (
        "mounts",
        &[
            "node",
            "host",
            "filesystem",
            "type",
            "size",
            "used",
            "available",
            "use_pct",
            "mount",
            "instance",
            "store",
            "loc",
            "input",
        ],
    ),
    (
        "limits",
        &[
            "node", "host", "source", "soft", "hard", "pid", "loc", "input",
        ],
    ),
    (
        "crdb_zones",
        &[
            "target",
            "is_default",
            "num_replicas",
            "num_voters",
            "gc_ttl",
            "range_min_bytes",
            "range_max_bytes",
            "constraints",
            "voter_constraints",
            "lease_preferences",
            "loc",
            "input",
        ],
    ),
    (
        "crdb_settings",
        &[
            "name",
            "value",
            "type",
            "secs",
            "default_value",
            "origin",
            "loc",
            "input",
        ],
    ),
    (
        "crdb_joins",
        &["addresses", "size", "source", "loc", "input"],
    ),
];

/// Functions rules may call: `crdb_setting(name)` (the value, the last listing wins),
/// `crdb_setting_secs(name)`, `crdb_cluster_size()` (the most addresses one `--join`
/// lists), `crdb_num_replicas()` (the default zone's replication factor),
/// `open_files_soft()` (the lowest soft open-files limit the bundle shows).
pub const FUNCTIONS: &[&str] = &[
    "open_files_soft",
    "crdb_setting",
    "crdb_setting_secs",
    "crdb_cluster_size",
    "crdb_num_replicas",
];

pub fn rows<'a>(facts: &'a Facts, table: &str) -> Option<Vec<Row<'a>>> {
    Some(match table {
        "mounts" => facts.host.mounts.iter().map(Row::Mount).collect(),
        "limits" => facts.host.limits.iter().map(Row::Limit).collect(),
        "crdb_zones" => facts.crdb.zones.iter().map(Row::Zone).collect(),
        "crdb_settings" => facts.crdb.settings.iter().map(Row::Setting).collect(),
        "crdb_joins" => facts.crdb.joins.iter().map(Row::Join).collect(),
        _ => return None,
    })
}

fn limit(l: Option<Limit>) -> Value {
    l.map_or(Value::Null, |l| Value::Num(l.as_f64()))
}

/// The default zone: `RANGE default` (19.2+) or `.default` (2.1-19.1).
fn is_default(z: &ZoneConfig) -> bool {
    matches!(z.target.as_str(), "RANGE default" | ".default")
}

fn node_of(cat: &Catalog<'_>, loc: Location, host: Option<&str>) -> Value {
    match cat.input(loc.input) {
        Some(m) => Value::Str(
            m.node
                .clone()
                .or_else(|| host.map(str::to_string))
                .unwrap_or_else(|| m.path.clone()),
        ),
        None => Value::opt_str(host),
    }
}

/// The TiKV instance whose data dir lies on a mount: same host (the mount's node or prompt
/// host names the instance's), and this mount is the longest of that host's mounts that holds
/// the data dir. A bundle with no topology ties no mount.
fn instance_on<'f>(cat: &Catalog<'f>, m: &Mount) -> Option<&'f crate::model::Instance> {
    let node = match node_of(cat, m.loc, m.host.as_deref()) {
        Value::Str(s) => s,
        _ => return None,
    };
    let same_host = |host: &str| {
        node == host
            || node.starts_with(&format!("{host}:"))
            || m.host.as_deref() == Some(host)
            || node.split(['-', '/', '_']).any(|part| part == host)
    };
    let holds = |mount: &str, dir: &str| {
        mount == "/"
            || dir == mount
            || dir
                .strip_prefix(mount)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    cat.facts.instances.iter().find(|i| {
        let Some(dir) = i.data_dir.as_deref() else {
            return false;
        };
        i.role == "tikv"
            && same_host(&i.host)
            && holds(&m.mount, dir)
            // No longer mount of the same df table holds it.
            && !cat.facts.host.mounts.iter().any(|o| {
                o.loc.input == m.loc.input && o.mount.len() > m.mount.len() && holds(&o.mount, dir)
            })
    })
}

pub fn mount_col(cat: &Catalog<'_>, m: &Mount, c: &str) -> Option<Value> {
    Some(match c {
        "instance" => Value::opt_str(instance_on(cat, m).and_then(|i| i.address.as_deref())),
        "store" => {
            let Some(addr) = instance_on(cat, m).and_then(|i| i.address.as_deref()) else {
                return Some(Value::Null);
            };
            cat.facts
                .latest_stores()
                .into_iter()
                .find(|s| s.address.as_deref() == Some(addr))
                .map_or(Value::Null, |s| Value::Num(s.id.0 as f64))
        }
        "node" => node_of(cat, m.loc, m.host.as_deref()),
        "host" => Value::opt_str(m.host.as_deref()),
        "filesystem" => Value::Str(m.filesystem.clone()),
        "type" => Value::opt_str(m.fstype.as_deref()),
        "size" => Value::opt_u64(m.size),
        "used" => Value::opt_u64(m.used),
        "available" => Value::opt_u64(m.available),
        "use_pct" => m.use_pct.map_or(Value::Null, Value::Num),
        "mount" => Value::Str(m.mount.clone()),
        "loc" => Value::Loc(m.loc),
        _ => return None,
    })
}

pub fn limit_col(cat: &Catalog<'_>, l: &OpenFileLimit, c: &str) -> Option<Value> {
    Some(match c {
        "node" => node_of(cat, l.loc, l.host.as_deref()),
        "host" => Value::opt_str(l.host.as_deref()),
        "source" => Value::Str(l.source.clone()),
        "soft" => limit(l.soft),
        "hard" => limit(l.hard),
        "pid" => Value::opt_u64(l.pid),
        "loc" => Value::Loc(l.loc),
        _ => return None,
    })
}

pub fn zone_col(z: &ZoneConfig, c: &str) -> Option<Value> {
    Some(match c {
        "target" => Value::Str(z.target.clone()),
        "is_default" => Value::Bool(is_default(z)),
        "num_replicas" => Value::opt_u64(z.num_replicas),
        "num_voters" => Value::opt_u64(z.num_voters),
        "gc_ttl" => Value::opt_u64(z.gc_ttl_seconds),
        "range_min_bytes" => Value::opt_u64(z.range_min_bytes),
        "range_max_bytes" => Value::opt_u64(z.range_max_bytes),
        "constraints" => Value::opt_str(z.constraints.as_deref()),
        "voter_constraints" => Value::opt_str(z.voter_constraints.as_deref()),
        "lease_preferences" => Value::opt_str(z.lease_preferences.as_deref()),
        "loc" => Value::Loc(Location {
            input: z.input,
            line: z.line,
        }),
        _ => return None,
    })
}

pub fn setting_col(s: &ClusterSetting, c: &str) -> Option<Value> {
    Some(match c {
        "name" => Value::Str(s.name.clone()),
        "value" => Value::Str(s.value.clone()),
        "type" => Value::opt_str(s.setting_type.as_deref()),
        "secs" => s.secs.map_or(Value::Null, Value::Num),
        "default_value" => Value::opt_str(s.default_value.as_deref()),
        "origin" => Value::opt_str(s.origin.as_deref()),
        "loc" => Value::Loc(Location {
            input: s.input,
            line: s.line,
        }),
        _ => return None,
    })
}

pub fn join_col(j: &JoinList, c: &str) -> Option<Value> {
    Some(match c {
        "addresses" => Value::List(j.addresses.iter().cloned().map(Value::Str).collect()),
        "size" => Value::Num(j.addresses.len() as f64),
        "source" => Value::Str(j.source.to_string()),
        "loc" => Value::Loc(Location {
            input: j.input,
            line: j.line,
        }),
        _ => return None,
    })
}

/// One of [`FUNCTIONS`], its arguments evaluated.
pub fn call(facts: &Facts, f: &str, args: &[Value]) -> Value {
    let name = || match args.first() {
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    };
    let setting = |n: &str| facts.crdb.settings.iter().rev().find(|s| s.name == n);
    match f {
        "crdb_setting" => name()
            .and_then(|n| setting(&n).map(|s| Value::Str(s.value.clone())))
            .unwrap_or(Value::Null),
        "crdb_setting_secs" => name()
            .and_then(|n| setting(&n)?.secs)
            .map_or(Value::Null, Value::Num),
        "crdb_cluster_size" => facts
            .crdb
            .joins
            .iter()
            .map(|j| j.addresses.len())
            .max()
            .map_or(Value::Null, |n| Value::Num(n as f64)),
        "crdb_num_replicas" => facts
            .crdb
            .zones
            .iter()
            .rev()
            .find(|z| is_default(z))
            .and_then(|z| z.num_replicas)
            .map_or(Value::Null, |n| Value::Num(n as f64)),
        "open_files_soft" => facts
            .host
            .limits
            .iter()
            .filter_map(|l| l.soft)
            .map(Limit::as_f64)
            .reduce(f64::min)
            .filter(|n| n.is_finite())
            .map_or(Value::Null, Value::Num),
        _ => Value::Null,
    }
}
