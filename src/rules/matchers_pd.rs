//! Matcher kinds `log-sequence` (A then B, or A without B, within a window, keyed by an
//! entity) and `metric-threshold` (a metric over a value or a growth rate).

use super::{EvalCtx, Hit, Rule};

/// A needle set a matcher asks the prefilter for: set name, needles, input kinds.
pub type NeedleSet = (String, Vec<String>, Option<Vec<String>>);

/// Validates a matcher table at load time and returns the needle sets it needs.
pub fn load(kind: &str, _table: &toml::Table) -> Result<Vec<NeedleSet>, String> {
    Err(format!("matcher kind {kind} is not implemented yet"))
}

pub fn run(_kind: &str, _table: &toml::Table, _rule: &Rule, _ctx: &EvalCtx<'_>) -> Vec<Hit> {
    Vec::new()
}
