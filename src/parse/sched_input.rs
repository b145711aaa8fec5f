//! Inputs that feed PD scheduling facts: Prometheus text and API JSON, `unsafe
//! remove-failed-stores show`, `operator show`.

use super::Collected;
use crate::bundle::Kind;
use crate::model::InputId;
use crate::model::sched::SchedFacts;

/// Reads one input of a scheduling kind.
pub fn collect(kind: Kind, _text: &str, _input: InputId) -> Collected<SchedFacts> {
    Collected {
        facts: SchedFacts::default(),
        records: 0,
        unparsed_lines: None,
        problem: Some(format!("{kind} is recognised but not analysed yet")),
        versions: Vec::new(),
    }
}
