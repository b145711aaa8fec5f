//! TidbCluster specs of TiDB Operator (a manifest, `kubectl get tc <name> -o yaml`, a `kind:
//! List` of them): each component's `config` (a TOML text under `config: |` or a YAML map)
//! becomes a config record, `spec.version` and image tags versions, and `replicas` the pods
//! `<cluster>-<component>-<n>` as instances.

use super::Collected;
use super::toml_config::{self, record};
use super::yaml_doc::{self, Node};
use crate::model::{Component, ConfigFacts, ConfigSource, InputId, Instance, Location, Version};
use std::collections::BTreeMap;

/// The spec keys of the components kvtriage models, their component, the port their peers
/// are reached at and the data volume's mount path in the operator's pods.
const PARTS: &[(&str, Option<Component>, u16, Option<&str>)] = &[
    ("pd", Some(Component::Pd), 2379, Some("/var/lib/pd")),
    ("tikv", Some(Component::Tikv), 20160, Some("/var/lib/tikv")),
    ("tidb", Some(Component::Tidb), 4000, None),
    ("tiflash", None, 3930, None),
];

/// More pods than this per component is not a spec anyone runs.
const MAX_REPLICAS: u64 = 1000;

pub fn looks_like(text: &str) -> bool {
    text.lines()
        .take(2000)
        .any(|l| l.trim_start().trim_start_matches("- ").trim() == "kind: TidbCluster")
        && text.lines().any(|l| l.trim() == "spec:")
}

pub fn read(text: &str, input: InputId) -> Collected<ConfigFacts> {
    let mut c = Collected::<ConfigFacts>::default();
    let doc = match yaml_doc::load_document(text, &["apiVersion", "kind", "metadata", "spec"]) {
        Ok(d) => d,
        Err(e) => {
            c.problem = Some(e);
            return c;
        }
    };
    c.partial = doc.partial_note();
    let clusters: Vec<&Node> = match doc.root.get("items") {
        Some(items) => items.value.items().iter().collect(),
        None => vec![&doc.root],
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for tc in clusters {
        if tc.str_of("kind").as_deref() != Some("TidbCluster") {
            continue;
        }
        take_cluster(tc, &lines, input, &mut c);
    }
    if c.records == 0 && c.problem.is_none() {
        c.problem = Some("no TidbCluster spec with components".into());
    }
    c
}

fn take_cluster(tc: &Node, lines: &[&str], input: InputId, c: &mut Collected<ConfigFacts>) {
    let at = |line| Location { input, line };
    let meta = tc.get("metadata").map(|e| &e.value);
    let name = meta.and_then(|m| m.str_of("name")).unwrap_or_default();
    let namespace = meta.and_then(|m| m.str_of("namespace"));
    let Some(spec) = tc.get("spec") else {
        return;
    };
    let cluster_version = spec.value.get("version").and_then(|e| {
        let v = spec
            .value
            .str_of("version")
            .as_deref()
            .and_then(Version::parse)?;
        Some((v, e.line))
    });
    for &(part, comp, port, data_dir) in PARTS {
        let Some(p) = spec.value.get(part) else {
            continue;
        };
        // A component's own version, else its image tag, else the cluster's.
        let own = p.value.get("version").and_then(|e| {
            Some((
                p.value
                    .str_of("version")
                    .as_deref()
                    .and_then(Version::parse)?,
                e.line,
            ))
        });
        let tagged = ["image", "baseImage"].iter().find_map(|k| {
            let e = p.value.get(k)?;
            let image = p.value.str_of(k)?;
            let tag = image.rsplit_once(':')?.1.to_string();
            Some((Version::parse(&tag)?, e.line))
        });
        if let (Some(comp), Some((v, line))) = (comp, own.or(tagged).or(cluster_version)) {
            c.versions.push((comp, v, line));
        }
        if let (Some(comp), Some(cfg)) = (comp, p.value.get("config")) {
            take_config(comp, cfg, lines, at(cfg.line), c);
        }
        let replicas = p.value.u64_of("replicas").unwrap_or(0).min(MAX_REPLICAS);
        for n in 0..replicas {
            let pod = format!("{name}-{part}-{n}");
            // The address each pod advertises (the operator's peer service), when the
            // namespace is known.
            let address = namespace
                .as_ref()
                .map(|ns| format!("{pod}.{name}-{part}-peer.{ns}.svc:{port}"));
            c.records += 1;
            c.facts.instances.push(Instance {
                role: part.to_string(),
                host: pod.clone(),
                port: Some(port),
                address,
                data_dir: data_dir.map(str::to_string),
                deploy_dir: None,
                pod: Some(pod),
                loc: at(p.line),
            });
        }
    }
}

/// A component's `config`: a TOML text (`config: |`) read line for line where the block
/// starts, or a YAML map.
fn take_config(
    comp: Component,
    cfg: &yaml_doc::Entry,
    lines: &[&str],
    loc: Location,
    c: &mut Collected<ConfigFacts>,
) {
    let (values, keys) = match &cfg.value {
        Node::Scalar(serde_json::Value::String(toml_text)) => {
            let key_line = lines
                .get((cfg.line as usize).saturating_sub(1))
                .copied()
                .unwrap_or("");
            let after = key_line.split_once("config:").map_or("", |(_, r)| r).trim();
            let block = after.starts_with('|') || after.starts_with('>');
            let first = if block { cfg.line + 1 } else { cfg.line };
            let s = toml_config::settings(toml_text, first);
            if let Some(&bad) = s.bad_lines.first() {
                c.partial.get_or_insert(format!(
                    "the TOML under `config` at line {} is not whole (line {bad})",
                    cfg.line
                ));
            }
            (s.values, s.lines)
        }
        node @ Node::Map(_) => {
            let mut values = BTreeMap::new();
            let mut keys = BTreeMap::new();
            yaml_doc::flatten("", node, &mut values, &mut keys);
            (values, keys)
        }
        _ => return,
    };
    c.records += values.len() as u64;
    c.facts
        .configs
        .push(record(comp, ConfigSource::Spec, None, values, keys, loc));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_under_config_keeps_its_lines_and_replicas_name_pods() {
        let text = "apiVersion: pingcap.com/v1alpha1\nkind: TidbCluster\nmetadata:\n  name: basic\n  namespace: tidb\nspec:\n  version: v8.5.4\n  pd:\n    replicas: 3\n    config: |\n      [replication]\n      max-replicas = 3\n  tikv:\n    baseImage: pingcap/tikv\n    replicas: 1\n    config:\n      storage:\n        reserve-space: \"0MB\"\n";
        assert!(looks_like(text));
        let c = read(text, InputId(0));
        let pd = &c.facts.configs[0];
        assert_eq!(pd.get_f64("replication.max-replicas"), Some(3.0));
        assert_eq!(pd.loc_of("replication.max-replicas").line, 12);
        let kv = &c.facts.configs[1];
        assert_eq!(kv.values["storage.reserve-space"], "0MB");
        assert_eq!(kv.loc_of("storage.reserve-space").line, 18);
        let pods: Vec<&str> = c
            .facts
            .instances
            .iter()
            .filter_map(|i| i.pod.as_deref())
            .collect();
        assert_eq!(
            pods,
            ["basic-pd-0", "basic-pd-1", "basic-pd-2", "basic-tikv-0"]
        );
        assert_eq!(
            c.facts.instances[3].address.as_deref(),
            Some("basic-tikv-0.basic-tikv-peer.tidb.svc:20160")
        );
        assert_eq!(c.versions.len(), 2);
    }
}
