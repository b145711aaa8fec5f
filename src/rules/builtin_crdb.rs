//! CockroachDB correlations (decommission, drain, shutdown, dead nodes).

use super::{EvalCtx, Hit, Rule};

/// Builtin matcher names this module answers.
pub const NAMES: &[&str] = &[];

/// Template placeholders these rules use, beyond the common ones.
pub const PLACEHOLDERS: &[&str] = &[];

pub fn run(_name: &str, _rule: &Rule, _ctx: &EvalCtx<'_>) -> Vec<Hit> {
    Vec::new()
}
