//! Settings of the cluster's components (pd-ctl `config show`, TOML config files, a tiup
//! topology's `server_configs`, a TidbCluster spec) and the instances a deployment describes.

use super::{Component, Location};
use std::collections::BTreeMap;

/// Where a config record came from. A running PD keeps what pd-ctl changed in etcd, so what it
/// answers wins over a file that only sets values at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigSource {
    /// The file a component starts with (`tikv.toml`, `pd.toml`, tiup's `conf/tikv.toml`).
    File,
    /// A tiup topology (`server_configs`, an instance's `config`).
    Topology,
    /// A TidbCluster spec (`spec.tikv.config`).
    Spec,
    /// What the component runs with: pd-ctl `config show`, the PD API.
    Runtime,
}

impl ConfigSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::File => "file",
            ConfigSource::Topology => "topology",
            ConfigSource::Spec => "spec",
            ConfigSource::Runtime => "runtime",
        }
    }
}

/// The settings of one component from one source, flattened to dotted keys
/// (`replication.max-replicas`, `storage.reserve-space`).
#[derive(Clone, Debug)]
pub struct ConfigRecord {
    pub component: Component,
    /// The instance the settings are for (`10.0.1.5:20160`, a pod `basic-tikv-0`); `None` for
    /// settings of every instance (pd-ctl, a topology's `server_configs`, a spec).
    pub node: Option<String>,
    pub source: ConfigSource,
    pub values: BTreeMap<String, serde_json::Value>,
    /// The line of each key where the source shows one (TOML and YAML); others cite `loc`.
    pub lines: BTreeMap<String, u64>,
    /// The top-level sections the source shows when it shows only some (`config show
    /// replication` shows `replication`); `None` when it shows the whole config.
    pub sections: Option<Vec<String>>,
    pub loc: Location,
}

impl ConfigRecord {
    /// A PD config as pd-ctl or the PD API answers it, whole.
    pub fn pd(values: BTreeMap<String, serde_json::Value>, loc: Location) -> ConfigRecord {
        ConfigRecord {
            component: Component::Pd,
            node: None,
            source: ConfigSource::Runtime,
            values,
            lines: BTreeMap::new(),
            sections: None,
            loc,
        }
    }

    /// Looks a key up as given (`schedule.max-merge-region-size`); PD's also by its last
    /// segment, since PD 3.x printed a flat config.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        if let Some(v) = self.values.get(key) {
            return Some(v);
        }
        if self.component != Component::Pd {
            return None;
        }
        let leaf = key.rsplit('.').next().unwrap_or(key);
        self.values
            .iter()
            .find(|(k, _)| k.rsplit('.').next() == Some(leaf))
            .map(|(_, v)| v)
    }

    /// Where a key was read: its own line when the source shows one, else the record's.
    pub fn loc_of(&self, key: &str) -> Location {
        let line = self.lines.get(key).copied().or_else(|| {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            self.lines
                .iter()
                .find(|(k, _)| {
                    self.component == Component::Pd && k.rsplit('.').next() == Some(leaf)
                })
                .map(|(_, l)| *l)
        });
        Location {
            input: self.loc.input,
            line: line.unwrap_or(self.loc.line),
        }
    }

    /// A numeric value; PD prints booleans and some numbers as strings.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// One instance a deployment describes (a tiup topology's `tikv_servers` entry, a
/// TidbCluster's pod).
#[derive(Clone, Debug)]
pub struct Instance {
    /// tiup's role name: `tikv`, `pd`, `tidb`, `tiflash`.
    pub role: String,
    pub host: String,
    pub port: Option<u16>,
    /// How the stores list it (`10.0.1.5:20160`; TiFlash's flash service port), when known.
    pub address: Option<String>,
    pub data_dir: Option<String>,
    pub deploy_dir: Option<String>,
    /// The pod name on Kubernetes (`basic-tikv-0`).
    pub pod: Option<String>,
    pub loc: Location,
}

/// What a configuration document yields.
#[derive(Clone, Debug, Default)]
pub struct ConfigFacts {
    pub configs: Vec<ConfigRecord>,
    pub instances: Vec<Instance>,
}
