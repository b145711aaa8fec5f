//! PD scheduling facts that are not log events: metric samples, `unsafe remove-failed-stores
//! show` stages, pd-ctl `operator show` output.

use super::Location;
use super::operator::Operator;
use chrono::NaiveDateTime;

/// One metric sample from a Prometheus text exposition or an API JSON dump.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSample {
    pub name: String,
    /// Label pairs sorted by name (`__name__` is not repeated here).
    pub labels: Vec<(String, String)>,
    /// Unix seconds; `None` for text expositions without timestamps.
    pub time: Option<f64>,
    pub value: f64,
    /// The sample's line (text) or the line its series starts on (JSON).
    pub loc: Location,
}

impl MetricSample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The stages of PD's online unsafe recovery, as `show` and pd.log name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// `No on-going recovery.`
    Idle,
    CollectReport,
    TombstoneTiflashLearner,
    ForceLeaderForCommitMerge,
    ForceLeader,
    DemoteFailedVoter,
    CreateEmptyRegion,
    ExitForceLeader,
    /// `Unsafe recovery is resetting region cache` (newest PD).
    Resetting,
    Finished,
    /// `Unsafe recovery failed: <err>`, with the error text.
    Failed(String),
    /// The progress trailer `show` appends while running: `Collecting reports from alive
    /// stores(1/3)` (reported, total), `Collected reports from all 3 alive stores`, or
    /// `Resetting region cache before finishing unsafe recovery`.
    Progress {
        reported: Option<u64>,
        total: Option<u64>,
    },
    /// A plan line of the pre-6.1 flat output (`store 1, force leader on regions: ...`) or
    /// anything not recognised.
    Other,
}

impl StageKind {
    /// The stage name as the docs spell it.
    pub fn name(&self) -> &str {
        match self {
            StageKind::Idle => "idle",
            StageKind::CollectReport => "collect report",
            StageKind::TombstoneTiflashLearner => "tombstone TiFlash learner",
            StageKind::ForceLeaderForCommitMerge => "force leader for commit merge",
            StageKind::ForceLeader => "force leader",
            StageKind::DemoteFailedVoter => "demote failed voter",
            StageKind::CreateEmptyRegion => "create empty region",
            StageKind::ExitForceLeader => "exit force leader",
            StageKind::Resetting => "resetting region cache",
            StageKind::Finished => "finished",
            StageKind::Failed(_) => "failed",
            StageKind::Progress { .. } => "collecting reports",
            StageKind::Other => "other",
        }
    }

    /// A stage PD enters (not a progress trailer or a plan line).
    pub fn is_stage(&self) -> bool {
        !matches!(self, StageKind::Progress { .. } | StageKind::Other)
    }
}

/// One element of `unsafe remove-failed-stores show` (or one stage line of pd.log).
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryStage {
    pub kind: StageKind,
    pub info: String,
    /// PD's local time (`2006-01-02 15:04:05.000`, no zone).
    pub time: Option<NaiveDateTime>,
    /// `store N` → plan lines.
    pub actions: Vec<(String, Vec<String>)>,
    pub details: Vec<String>,
    pub loc: Location,
}

/// One `show` output: the stages in the order PD listed them.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryReport {
    pub stages: Vec<RecoveryStage>,
    pub loc: Location,
}

/// One operator of a pd-ctl `operator show` / `operator check` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedOperator {
    pub op: Operator,
    /// `operator check` status (`RUNNING`, `TIMEOUT`, `SUCCESS`, ...).
    pub status: Option<String>,
    pub loc: Location,
}

/// One `operator show` answer (a snapshot of PD's running operators).
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorSnapshot {
    pub ops: Vec<ListedOperator>,
    pub loc: Location,
}

/// Numbers listed after a prefix in a details line (`Stores that have not reported to PD: 5,
/// 6`), case-insensitive; empty when no line has the prefix.
pub fn ids_after(lines: &[String], prefix: &str) -> Vec<u64> {
    let p = prefix.to_ascii_lowercase();
    for l in lines {
        let ll = l.trim().to_ascii_lowercase();
        if let Some(rest) = ll.strip_prefix(&p) {
            return rest
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
        }
    }
    Vec::new()
}

impl RecoveryStage {
    /// `affected table ids: 64, 27`
    pub fn affected_tables(&self) -> Vec<u64> {
        ids_after(&self.details, "affected table ids:")
    }

    /// `affected meta regions: 1001`
    pub fn affected_meta_regions(&self) -> Vec<u64> {
        ids_after(&self.details, "affected meta regions:")
    }

    /// `Stores that have not reported to PD: 5, 6`
    pub fn unreported_stores(&self) -> Vec<u64> {
        ids_after(&self.details, "stores that have not reported to pd:")
    }

    /// `Stores that have not dispatched plan: 7`
    pub fn undispatched_stores(&self) -> Vec<u64> {
        ids_after(&self.details, "stores that have not dispatched plan:")
    }

    /// `failed stores 4, 5, 6` (collect report stage).
    pub fn failed_stores(&self) -> Vec<u64> {
        ids_after(&self.details, "failed stores")
    }

    /// `triggered by error: ...` (exit force leader after an error).
    pub fn error_detail(&self) -> Option<&str> {
        self.details.iter().find_map(|d| {
            let l = d.to_ascii_lowercase();
            l.starts_with("triggered by error:")
                .then(|| d["triggered by error:".len()..].trim())
        })
    }
}

#[derive(Debug, Default)]
pub struct SchedFacts {
    pub samples: Vec<MetricSample>,
    /// Unsafe-recovery stages as PD logs them, one per kept PD log line that is one.
    pub log_stages: Vec<RecoveryStage>,
    pub recoveries: Vec<RecoveryReport>,
    pub operator_snapshots: Vec<OperatorSnapshot>,
}

impl SchedFacts {
    pub fn append(&mut self, mut other: SchedFacts) {
        self.samples.append(&mut other.samples);
        self.log_stages.append(&mut other.log_stages);
        self.recoveries.append(&mut other.recoveries);
        self.operator_snapshots
            .append(&mut other.operator_snapshots);
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.recoveries.is_empty() && self.operator_snapshots.is_empty()
    }

    /// Samples of one metric, in input order.
    pub fn metric<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a MetricSample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InputId;

    #[test]
    fn append_keeps_every_fact() {
        let loc = |line| Location {
            input: InputId(7),
            line,
        };
        let mut a = SchedFacts::default();
        a.samples.push(MetricSample {
            name: "pd_regions_status".into(),
            labels: vec![("type".into(), "empty-region-count".into())],
            time: Some(1.0),
            value: 3.0,
            loc: loc(2),
        });
        let mut all = SchedFacts::default();
        assert!(all.is_empty());
        all.append(a);
        assert_eq!(all.samples.len(), 1);
        assert_eq!(all.samples[0].loc, loc(2));
        assert_eq!(all.metric("pd_regions_status").count(), 1);
        assert_eq!(all.samples[0].label("type"), Some("empty-region-count"));
    }
}
