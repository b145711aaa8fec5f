//! CockroachDB facts that are not log events: CLI tables read from `node status`,
//! `node decommission` and drain output.

use super::InputId;
use crate::parse::crdb_table::CrdbTables;

#[derive(Debug, Default)]
pub struct CrdbFacts {
    /// Tables and notable lines per input (lines are 1-based within that input).
    pub tables: Vec<(InputId, CrdbTables)>,
}

impl CrdbFacts {
    /// Gives every fact the input's final id.
    pub fn set_input(&mut self, id: InputId) {
        for t in &mut self.tables {
            t.0 = id;
        }
    }

    pub fn append(&mut self, mut other: CrdbFacts) {
        self.tables.append(&mut other.tables);
    }
}
