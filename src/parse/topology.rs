//! tiup cluster topologies: `topology.yaml`, `tiup cluster edit-config` and its `meta.yaml`
//! (the topology under `topology:`, the version beside it). `server_configs` and each
//! instance's `config` become config records; `pd_servers`, `tikv_servers`, `tidb_servers` and
//! `tiflash_servers` become instances with the address their stores show and their
//! directories as tiup derives them (`pkg/cluster/spec/spec.go`, `setCustomDefaults`).

use super::Collected;
use super::toml_config::record;
use super::yaml_doc::{self, Node};
use crate::model::{Component, ConfigFacts, ConfigSource, InputId, Instance, Location, Version};
use std::collections::BTreeMap;

const TOP_KEYS: &[&str] = &[
    "global",
    "server_configs",
    "pd_servers",
    "tikv_servers",
    "tidb_servers",
    "tiflash_servers",
    "monitored",
    "monitoring_servers",
    "grafana_servers",
    "alertmanager_servers",
];

/// A role tiup deploys that kvtriage models: its `*_servers` key, the component whose config
/// its `config` holds, the port field naming its directories, that port's default, and the
/// port its store or clients are reached at (TiFlash stores list the flash service port).
struct Role {
    name: &'static str,
    servers: &'static str,
    component: Option<Component>,
    dir_port: (&'static str, u16),
    addr_port: (&'static str, u16),
}

const ROLES: &[Role] = &[
    Role {
        name: "pd",
        servers: "pd_servers",
        component: Some(Component::Pd),
        dir_port: ("client_port", 2379),
        addr_port: ("client_port", 2379),
    },
    Role {
        name: "tikv",
        servers: "tikv_servers",
        component: Some(Component::Tikv),
        dir_port: ("port", 20160),
        addr_port: ("port", 20160),
    },
    Role {
        name: "tidb",
        servers: "tidb_servers",
        component: Some(Component::Tidb),
        dir_port: ("port", 4000),
        addr_port: ("port", 4000),
    },
    Role {
        name: "tiflash",
        servers: "tiflash_servers",
        component: None,
        dir_port: ("tcp_port", 9000),
        addr_port: ("flash_service_port", 3930),
    },
];

/// Whether a text is a tiup topology: two of its top-level keys, one a `*_servers` list, at
/// the start of a line (or indented under `topology:` in `meta.yaml`).
pub fn looks_like(text: &str) -> bool {
    let mut keys = 0;
    let mut servers = false;
    for l in text.lines().take(2000) {
        let t = l.trim_start();
        if let Some(k) = TOP_KEYS.iter().find(|k| yaml_doc::top_key(t, k)) {
            keys += 1;
            servers |= k.ends_with("_servers");
        }
    }
    keys >= 2 && servers
}

pub fn read(text: &str, input: InputId) -> Collected<ConfigFacts> {
    let mut c = Collected::<ConfigFacts>::default();
    let starts: Vec<&str> = TOP_KEYS
        .iter()
        .copied()
        .chain(["user", "topology"])
        .collect();
    let doc = match yaml_doc::load_document(text, &starts) {
        Ok(d) => d,
        Err(e) => {
            c.problem = Some(e);
            return c;
        }
    };
    c.partial = doc.partial_note();
    let at = |line| Location { input, line };
    // meta.yaml: the topology under `topology:`, the cluster version beside it.
    let topo = match doc.root.get("topology") {
        Some(t) => &t.value,
        None => &doc.root,
    };
    if let Some(e) = doc.root.get("tidb_version")
        && let Some(v) = doc
            .root
            .str_of("tidb_version")
            .as_deref()
            .and_then(Version::parse)
    {
        for comp in [Component::Pd, Component::Tikv, Component::Tidb] {
            c.versions.push((comp, v, e.line));
        }
    }
    let global = topo.get("global").map(|e| &e.value);
    let g = |k: &str| global.and_then(|g| g.str_of(k));
    let user = g("user").unwrap_or_else(|| "tidb".to_string());
    let deploy_root = g("deploy_dir").unwrap_or_else(|| "deploy".to_string());
    let data_root = g("data_dir").unwrap_or_else(|| "data".to_string());

    if let Some(sc) = topo.get("server_configs") {
        for role in ROLES {
            let (Some(comp), Some(e)) = (role.component, sc.value.get(role.name)) else {
                continue;
            };
            let (values, lines) = settings_of(&e.value);
            if values.is_empty() {
                continue;
            }
            c.records += values.len() as u64;
            c.facts.configs.push(record(
                comp,
                ConfigSource::Topology,
                None,
                values,
                lines,
                at(e.line),
            ));
        }
    }
    for role in ROLES {
        let Some(list) = topo.get(role.servers) else {
            continue;
        };
        for item in list.value.items() {
            let Some(host) = item.str_of("host") else {
                continue;
            };
            let line = match item {
                Node::Map(es) => es.first().map_or(list.line, |e| e.line),
                _ => list.line,
            };
            let port_of = |(k, d): (&str, u16)| {
                item.u64_of(k)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(d)
            };
            let dir_port = port_of(role.dir_port);
            let addr_port = port_of(role.addr_port);
            let sub = format!("{}-{dir_port}", role.name);
            let deploy_dir = item
                .str_of("deploy_dir")
                .map(|d| under_home(&user, &d))
                .unwrap_or_else(|| join(&under_home(&user, &deploy_root), &sub));
            let data_dir = match item.str_of("data_dir") {
                Some(d) if d.starts_with('/') => d,
                Some(d) => join(&deploy_dir, &d),
                None if data_root.starts_with('/') => join(&data_root, &sub),
                None => join(&deploy_dir, &data_root),
            };
            let address = format!("{host}:{addr_port}");
            if let (Some(comp), Some(cfg)) = (role.component, item.get("config")) {
                let (values, lines) = settings_of(&cfg.value);
                if !values.is_empty() {
                    c.records += values.len() as u64;
                    c.facts.configs.push(record(
                        comp,
                        ConfigSource::Topology,
                        Some(address.clone()),
                        values,
                        lines,
                        at(cfg.line),
                    ));
                }
            }
            c.records += 1;
            c.facts.instances.push(Instance {
                role: role.name.to_string(),
                host,
                port: Some(addr_port),
                address: Some(address),
                data_dir: Some(data_dir),
                deploy_dir: Some(deploy_dir),
                pod: None,
                loc: at(line),
            });
        }
    }
    if let Some(cut) = doc.stopped_at {
        drop_cut_instance(text, cut, &mut c);
    }
    if c.records == 0 && c.problem.is_none() {
        c.problem = Some("no instance and no setting in the topology".into());
    }
    c
}

/// An instance whose entry the cut falls in lacks what came after (its `data_dir` would read
/// as the default): it is left out, and the partial note says so.
fn drop_cut_instance(text: &str, cut: u64, c: &mut Collected<ConfigFacts>) {
    let Some(last) = c
        .facts
        .instances
        .iter()
        .enumerate()
        .filter(|(_, i)| i.loc.line < cut)
        .max_by_key(|(_, i)| i.loc.line)
        .map(|(n, i)| (n, i.loc.line))
    else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let Some(first) = lines.get(last.1 as usize - 1) else {
        return;
    };
    let own = indent(first);
    // The entry is still open at the cut when no line between starts at its dash's depth.
    let ended = lines
        .iter()
        .take(cut as usize - 1)
        .skip(last.1 as usize)
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) <= own);
    if !ended {
        let i = c.facts.instances.remove(last.0);
        c.records = c.records.saturating_sub(1);
        if let Some(p) = &mut c.partial {
            p.push_str(&format!(
                "; the {} instance at line {} is cut and not read",
                i.role, last.1
            ));
        }
    }
}

/// The settings of a `config` / `server_configs.<role>` map, flattened.
fn settings_of(node: &Node) -> (BTreeMap<String, serde_json::Value>, BTreeMap<String, u64>) {
    let mut values = BTreeMap::new();
    let mut lines = BTreeMap::new();
    yaml_doc::flatten("", node, &mut values, &mut lines);
    (values, lines)
}

/// tiup places a relative deploy dir under the deploy user's home.
fn under_home(user: &str, dir: &str) -> String {
    if dir.starts_with('/') {
        dir.to_string()
    } else {
        format!("/home/{user}/{dir}")
    }
}

fn join(a: &str, b: &str) -> String {
    format!("{}/{}", a.trim_end_matches('/'), b.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_take_tiups_default_ports_and_directories() {
        let text = "global:\n  user: tidb\n  deploy_dir: /tidb-deploy\n  data_dir: /tidb-data\nserver_configs:\n  pd:\n    replication.max-replicas: 5\ntikv_servers:\n  - host: 10.0.1.16\n  - host: 10.0.1.17\n    port: 20161\n    data_dir: /data2/tikv\n    config:\n      server.labels: { zone: bj }\ntiflash_servers:\n  - host: 10.0.1.19\n";
        assert!(looks_like(text));
        let c = read(text, InputId(0));
        let i = &c.facts.instances;
        assert_eq!(i[0].address.as_deref(), Some("10.0.1.16:20160"));
        assert_eq!(i[0].data_dir.as_deref(), Some("/tidb-data/tikv-20160"));
        assert_eq!(i[0].deploy_dir.as_deref(), Some("/tidb-deploy/tikv-20160"));
        assert_eq!(i[1].data_dir.as_deref(), Some("/data2/tikv"));
        assert_eq!(i[2].address.as_deref(), Some("10.0.1.19:3930"));
        assert_eq!(i[2].data_dir.as_deref(), Some("/tidb-data/tiflash-9000"));
        let pd = &c.facts.configs[0];
        assert_eq!(pd.get_f64("max-replicas"), Some(5.0));
        assert_eq!(pd.loc_of("replication.max-replicas").line, 7);
        let kv = &c.facts.configs[1];
        assert_eq!(kv.node.as_deref(), Some("10.0.1.17:20161"));
        assert_eq!(kv.values["server.labels.zone"], "bj");
    }

    #[test]
    fn relative_directories_are_under_home_and_the_deploy_dir() {
        let text = "tikv_servers:\n  - host: n1\npd_servers:\n  - host: n3\n    data_dir: my_pd\n";
        let c = read(text, InputId(0));
        let i = &c.facts.instances;
        assert_eq!(
            i[1].deploy_dir.as_deref(),
            Some("/home/tidb/deploy/tikv-20160")
        );
        assert_eq!(
            i[1].data_dir.as_deref(),
            Some("/home/tidb/deploy/tikv-20160/data")
        );
        assert_eq!(
            i[0].data_dir.as_deref(),
            Some("/home/tidb/deploy/pd-2379/my_pd")
        );
    }
}
