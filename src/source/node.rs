//! Node identity from the bundle layout.

/// Finds a node address in a path: `tikv-10.0.1.5-20160/log/tikv.log` → `10.0.1.5:20160`;
/// tiup diag `10.0.1.5/tidb-deploy/tikv-20160/log/tikv.log` → `10.0.1.5:20160`;
/// CockroachDB debug zip `debug/nodes/4/logs/...` → `n4`; a Kubernetes pod name (TiDB
/// Operator `basic-tikv-0`, CockroachDB `cockroachdb-2`) as a folder, a file name
/// (`basic-tikv-0.log`) or in the kubelet's layouts (`pods/<ns>_<pod>_<uid>/`,
/// `containers/<pod>_<ns>_<container>-<id>.log`) → the pod name.
pub fn node_from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    // component-IP-port
    for p in &parts {
        let segs: Vec<&str> = p.split('-').collect();
        if segs.len() >= 3 {
            let port = segs[segs.len() - 1];
            let ip = segs[segs.len() - 2];
            if is_ipv4(ip) && port.parse::<u16>().is_ok() {
                return Some(format!("{ip}:{port}"));
            }
        }
    }
    // host dir + component-port dir
    let host = parts.iter().find(|p| is_ipv4(p));
    if let Some(host) = host {
        for p in &parts {
            if let Some((comp, port)) = p.rsplit_once('-')
                && matches!(comp, "tikv" | "pd" | "tidb" | "tiflash")
                && port.parse::<u16>().is_ok()
            {
                return Some(format!("{host}:{port}"));
            }
        }
    }
    // A host's own files (dmesg, messages) in a host directory: the host.
    if let Some(host) = host {
        return Some(host.to_string());
    }
    // cockroach debug zip: nodes/<id>/
    for w in parts.windows(2) {
        if w[0] == "nodes" && !w[1].is_empty() && w[1].bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("n{}", w[1]));
        }
    }
    // Kubernetes pod names, innermost first.
    for p in parts.iter().rev() {
        // `basic-tikv-0.log`, `cockroachdb-2.log.gz`: without extensions (`tikv-2.1` is no pod).
        let mut stem = *p;
        while let Some((s, ext)) = stem.rsplit_once('.') {
            if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphabetic()) {
                break;
            }
            stem = s;
        }
        if let Some(n) = stem.split('_').find_map(crate::model::pod_node) {
            return Some(n);
        }
    }
    None
}

fn is_ipv4(s: &str) -> bool {
    let v: Vec<&str> = s.split('.').collect();
    v.len() == 4 && v.iter().all(|o| o.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(
            node_from_path("tikv-10.0.1.5-20160/log/tikv.log").as_deref(),
            Some("10.0.1.5:20160")
        );
        assert_eq!(
            node_from_path("10.0.1.5/tidb-deploy/tikv-20160/log/tikv.log").as_deref(),
            Some("10.0.1.5:20160")
        );
        assert_eq!(
            node_from_path("debug/nodes/4/logs/cockroach.log").as_deref(),
            Some("n4")
        );
        assert_eq!(node_from_path("logs/tikv.log"), None);
        assert_eq!(
            node_from_path("logs/basic-tikv-0.log").as_deref(),
            Some("basic-tikv-0")
        );
        assert_eq!(
            node_from_path("var/log/pods/default_basic-pd-1_0f3c/pd/0.log").as_deref(),
            Some("basic-pd-1")
        );
        assert_eq!(
            node_from_path("var/log/containers/cockroachdb-2_db_cockroachdb-4e1f.log").as_deref(),
            Some("cockroachdb-2")
        );
        assert_eq!(node_from_path("tidb-deploy/tikv-20160/log/tikv.log"), None);
        assert_eq!(node_from_path("pasted-tikv-2.1-panic.txt"), None);
    }
}
