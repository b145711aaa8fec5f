//! PD scheduling facts that are not log events: metric samples, `unsafe remove-failed-stores
//! show` stages, pd-ctl `operator show` output.

use super::InputId;

#[derive(Debug, Default)]
pub struct SchedFacts {}

impl SchedFacts {
    /// Gives every fact the input's final id.
    pub fn set_input(&mut self, _id: InputId) {}

    pub fn append(&mut self, _other: SchedFacts) {}
}
