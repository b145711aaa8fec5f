//! Product versions as the bundle shows them.

use super::Location;

/// A component version seen somewhere in the bundle, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenVersion {
    pub version: Version,
    pub loc: Location,
}

/// A `major.minor.patch` version; pre-release and build suffixes are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `v5.2.1`, `5.2.1`, `v4.0.0-beta.1-35-g91a1cc12-dirty`, `6.1`; `None` for `None`,
    /// empty or non-numeric strings.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches(['v', 'V']);
        let core = s.split(['-', '+', ' ']).next()?;
        let mut it = core.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next().map_or(Some(0), |m| m.parse().ok())?;
        let patch = it.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which product a version belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Tikv,
    Pd,
    Tidb,
    Cockroach,
}
