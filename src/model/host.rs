//! Facts about the hosts a cluster runs on, read from pasted shell output: the mounts `df`
//! lists and the open-file limits `ulimit`, `/proc/<pid>/limits` and `prlimit` show.

use super::Location;

#[derive(Debug, Default)]
pub struct HostFacts {
    pub mounts: Vec<Mount>,
    pub limits: Vec<OpenFileLimit>,
}

impl HostFacts {
    pub fn append(&mut self, mut other: HostFacts) {
        self.mounts.append(&mut other.mounts);
        self.limits.append(&mut other.limits);
    }
}

/// One filesystem row of `df` output.
#[derive(Clone, Debug, PartialEq)]
pub struct Mount {
    pub loc: Location,
    pub filesystem: String,
    /// `-T` adds the type column.
    pub fstype: Option<String>,
    /// Sizes in bytes (`-h` sizes are rounded by df, so these are too).
    pub size: Option<u64>,
    pub used: Option<u64>,
    pub available: Option<u64>,
    /// `Use%` (or `Capacity`) as printed.
    pub use_pct: Option<f64>,
    pub mount: String,
    /// The host a shell prompt above the table names (`user@host$`).
    pub host: Option<String>,
}

/// A limit value: a number or `unlimited`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Value(u64),
    Unlimited,
}

impl Limit {
    pub fn parse(s: &str) -> Option<Limit> {
        let s = s.trim();
        if s == "unlimited" || s == "infinity" {
            return Some(Limit::Unlimited);
        }
        s.parse().ok().map(Limit::Value)
    }

    /// As a number for comparisons: `unlimited` is the largest.
    pub fn as_f64(self) -> f64 {
        match self {
            Limit::Value(n) => n as f64,
            Limit::Unlimited => f64::INFINITY,
        }
    }
}

/// The open-files limit of a shell or a process, as one command showed it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenFileLimit {
    pub loc: Location,
    /// `ulimit -n`, `ulimit -a`, `/proc/<pid>/limits`, `prlimit`, ...
    pub source: String,
    pub soft: Option<Limit>,
    pub hard: Option<Limit>,
    /// The pid a `/proc/<pid>/limits` or `prlimit --pid` names.
    pub pid: Option<u64>,
    pub host: Option<String>,
}
