//! A PD operator as its description text shows it (`Operator.String()` in PD), parsed by
//! `parse::operator`.

/// How the operator text says it ended (` finished` / ` timeout` appended by PD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpEnd {
    Finished,
    Timeout,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Operator {
    /// `merge-region`, `balance-region`, `admin-split-region`, ...
    pub desc: String,
    /// `merge: region 512607784 to 513499180`, `mv peer: store [1] to [166543141]`.
    pub brief: Option<String>,
    /// `leader`, `region`, `merge`, ...
    pub kinds: Vec<String>,
    pub region: Option<u64>,
    /// `(version, conf_ver)` of the region when the operator was created.
    pub epoch: Option<(u64, u64)>,
    /// Go `time.Time` text (`2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.51`).
    pub create_at: Option<String>,
    /// `None` when the operator never started (Go zero time) or the field is absent.
    pub start_at: Option<String>,
    pub current_step: Option<usize>,
    pub size: Option<i64>,
    /// Step texts without the `N:{}` wrapper; joint-consensus steps kept whole.
    pub steps: Vec<String>,
    /// False when the step list was abbreviated (`[...]`) or cut off.
    pub steps_complete: bool,
    /// `17m0s`
    pub timeout: Option<String>,
    pub end: Option<OpEnd>,
    /// `(source, target)` of a merge operator.
    pub merge: Option<(u64, u64)>,
}
