//! Non-log inputs: pd-ctl / PD API JSON and pasted sessions, CockroachDB CLI tables and
//! goroutine dumps, metrics, unsafe-recovery and operator listings.

use super::scan::Prefilter;
use crate::model::{Component, Facts, InputId, InputReport, Kind, Location, Status, Version};

/// Parses a dump of a detected kind into the input's facts and fills its report.
pub fn parse(
    kind: Kind,
    text: &str,
    id: InputId,
    prefilter: &Prefilter,
    report: &mut InputReport,
    facts: &mut Facts,
) {
    let at = |line| Location { input: id, line };
    match kind {
        k if k.is_pdctl() && !matches!(k, Kind::PdUnsafeRecovery | Kind::PdctlOperators) => {
            let out = super::pdctl::parse(text, id);
            report.records = Some(out.records + out.answers.len() as u64);
            if let Some(problem) = out.problem {
                if out.records == 0 {
                    report.status = Status::Failed;
                }
                report.reason = Some(problem);
            } else if out.records == 0 && out.answers.is_empty() {
                report.set_problem(Status::Failed, format!("no {kind} JSON document found"));
            }
            for s in &out.stores {
                if let Some(v) = s.version.as_deref().and_then(Version::parse)
                    && !s.is_tiflash()
                {
                    facts.note_version(Component::Tikv, v, s.loc);
                }
            }
            if let Some((v, line)) = out.ctl_version {
                facts.note_version(Component::Pd, v, at(line));
            }
            facts.stores = out.stores;
            facts.regions = out.regions;
            facts.configs = out.configs;
            facts.pd_addrs = out.pd_addrs;
            let mut answers = out.answers;
            for a in &mut answers {
                // Pasted answers join the log events so log rules can cite them.
                a.groups = prefilter.groups_of(&a.message);
            }
            facts.events = answers;
        }
        Kind::CrdbNodeStatus | Kind::CrdbDecommissionOutput | Kind::CrdbGoroutines => {
            let c = super::crdb_input::collect(kind, text, id);
            apply_collected(report, c.records, c.unparsed_lines, c.problem);
            for (comp, v, line) in c.versions {
                facts.note_version(comp, v, at(line));
            }
            facts.crdb = c.facts;
        }
        Kind::PrometheusText
        | Kind::PrometheusJson
        | Kind::PdUnsafeRecovery
        | Kind::PdctlOperators => {
            let c = super::sched_input::collect(kind, text, id);
            apply_collected(report, c.records, c.unparsed_lines, c.problem);
            for (comp, v, line) in c.versions {
                facts.note_version(comp, v, at(line));
            }
            facts.sched = c.facts;
        }
        _ => report.set_problem(
            Status::Skipped,
            format!("{kind} is recognised but not analysed yet"),
        ),
    }
}

/// Status and reason of an input from what its collector read.
fn apply_collected(
    report: &mut InputReport,
    records: u64,
    unparsed: Option<u64>,
    problem: Option<String>,
) {
    report.records = Some(records);
    report.unparsed_lines = unparsed;
    if let Some(problem) = problem {
        if records == 0 {
            report.status = if problem.contains("not analysed yet") {
                Status::Skipped
            } else {
                Status::Failed
            };
        }
        report.reason = Some(problem);
    }
}
