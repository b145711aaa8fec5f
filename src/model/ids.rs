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
