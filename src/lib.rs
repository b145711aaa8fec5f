//! kvtriage: reads what a sick TiKV/PD or CockroachDB cluster left behind and says what is
//! wrong and what to type to fix it.
//!
//! Pipeline: [`bundle`] (discover, read, sniff) → [`parse`] (one module per format) →
//! [`model`] (typed facts) → [`rules`] (rules as data, matchers, correlation) → [`report`].

pub mod analyze;
pub mod cli;
pub mod model;
pub mod parse;
pub mod report;
pub mod rules;
pub mod source;
#[doc(hidden)]
pub mod synth;
pub mod timeline;
