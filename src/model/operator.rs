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

impl Operator {
    /// The step the operator is at (`steps[currentStep]`), when both are known.
    pub fn current_step_text(&self) -> Option<&str> {
        self.steps.get(self.current_step?).map(String::as_str)
    }

    pub fn has_kind(&self, k: &str) -> bool {
        self.kinds.iter().any(|x| x == k)
    }

    /// PD's own timeout for the operator in seconds (`timeout:[17m0s]`, newer PDs only).
    pub fn timeout_secs(&self) -> Option<i64> {
        super::units::parse_go_duration(self.timeout.as_deref()?)
    }

    /// The merge source and target, if this is a merge operator.
    pub fn is_merge(&self) -> bool {
        self.desc == "merge-region" || self.merge.is_some() || self.has_kind("merge")
    }
}

/// Store ids a step names (`add learner peer 612422577 on store 16910359` → 16910359;
/// `transfer leader from store 8 to store 16910359` → 8, 16910359).
pub fn step_stores(step: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut rest = step;
    while let Some(p) = rest.find("store ") {
        let after = &rest[p + "store ".len()..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(id) = digits.parse::<u64>()
            && !out.contains(&id)
        {
            out.push(id);
        }
        rest = after;
    }
    out
}

/// A short name for what a step does (`add learner`, `promote learner`, `transfer leader`,
/// `remove peer`, `merge region`, `use joint consensus`, `leave joint state`, ...).
pub fn step_action(step: &str) -> &str {
    const ACTIONS: &[&str] = &[
        "add learner",
        "add witness learner",
        "add peer",
        "add witness peer",
        "promote learner",
        "demote voter",
        "remove peer",
        "transfer leader",
        "merge region",
        "split region",
        "use joint consensus",
        "leave joint state",
        "batch switch witness",
        "switch peer",
    ];
    ACTIONS
        .iter()
        .find(|a| step.starts_with(*a))
        .copied()
        .unwrap_or_else(|| step.split(' ').next().unwrap_or(step))
}
