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

/// Index of an input in the report's `inputs` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InputId(pub usize);

/// A node name as operators know it: `10.0.1.5:20160` or CockroachDB `n4`.
pub type NodeName = String;
