//! One module per input format. Each turns bytes into facts of the model.

pub mod crdb_input;
pub mod crdb_log;
pub mod crdb_table;
pub mod detect;
mod dump;
pub mod goroutines;
pub mod jsonlog;
pub mod legacy;
pub mod operator;
pub mod pdctl;
pub mod prometheus;
pub mod read;
pub mod scan;
pub mod sched_input;
pub mod time;
pub mod unified;
pub mod unsafe_recovery;

use crate::model::{Component, Version};

/// What reading one non-log input yields: its facts, counts for the report, a problem to
/// show as the input's reason, and versions seen (with their 1-based lines).
#[derive(Debug, Default)]
pub struct Collected<F> {
    pub facts: F,
    pub records: u64,
    pub unparsed_lines: Option<u64>,
    pub problem: Option<String>,
    pub versions: Vec<(Component, Version, u64)>,
}
