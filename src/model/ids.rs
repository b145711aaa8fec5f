//! Typed identities: inputs (given once, at discovery), stores, regions, peers, nodes.

use serde::Serialize;
use std::fmt;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A TiKV/TiFlash store id as PD assigns it.
    StoreId
);
id_type!(
    /// A region id.
    RegionId
);
id_type!(
    /// A raft peer id.
    PeerId
);

/// An input's identity, given once when it is discovered: the PATH-argument source it came
/// from and, inside an archive, the member's ordinal. Ordered as the inputs were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct InputId(pub u64);

impl InputId {
    const MEMBER_BITS: u32 = 24;

    /// Member 0 is the source itself (a plain file); members of an archive count from 1.
    pub fn new(source: usize, member: usize) -> InputId {
        InputId(((source as u64) << Self::MEMBER_BITS) | (member as u64 & 0xff_ffff))
    }

    pub fn source(self) -> usize {
        (self.0 >> Self::MEMBER_BITS) as usize
    }
}

/// A node name as operators know it: `10.0.1.5:20160` or CockroachDB `n4`.
pub type NodeName = String;

/// The node a Kubernetes pod name stands for: a TiDB Operator pod (`<cluster>-tikv-N`,
/// `-pd-N`, `-tidb-N`, `-tiflash-N`) or a CockroachDB StatefulSet pod (`cockroachdb-N`,
/// `<release>-cockroachdb-N`), N of at most three digits (`issue-pd-1580` is no pod). The pod
/// name is the node; `None` for any other name.
pub fn pod_node(name: &str) -> Option<NodeName> {
    let (base, ordinal) = name.rsplit_once('-')?;
    if ordinal.is_empty() || ordinal.len() > 3 || !ordinal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let operator = ["-tikv", "-pd", "-tidb", "-tiflash"]
        .iter()
        .any(|c| base.len() > c.len() && base.ends_with(c));
    let crdb = base == "cockroachdb" || base.ends_with("-cockroachdb");
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    ((operator || crdb) && base.bytes().all(word) && !base.starts_with('-'))
        .then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::pod_node;

    #[test]
    fn pod_names_of_operators_and_statefulsets() {
        assert_eq!(pod_node("basic-tikv-0").as_deref(), Some("basic-tikv-0"));
        assert_eq!(
            pod_node("advanced-tidb-pd-2").as_deref(),
            Some("advanced-tidb-pd-2")
        );
        assert_eq!(
            pod_node("tidb-default-tiflash-1").as_deref(),
            Some("tidb-default-tiflash-1")
        );
        assert_eq!(pod_node("cockroachdb-2").as_deref(), Some("cockroachdb-2"));
        assert_eq!(
            pod_node("my-release-cockroachdb-0").as_deref(),
            Some("my-release-cockroachdb-0")
        );
        assert_eq!(pod_node("tikv-0"), None);
        assert_eq!(pod_node("tikv-20160"), None);
        assert_eq!(pod_node("basic-discovery-0"), None);
        assert_eq!(pod_node("basic-tikv-"), None);
        assert_eq!(pod_node("tidb-controller-manager-7c4f69d48f-v5wg7"), None);
    }
}
