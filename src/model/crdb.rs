//! CockroachDB facts that are not log events: CLI tables read from `node status`,
//! `node decommission` and drain output, the CLI command lines pasted above them, and
//! goroutine dumps.

use super::InputId;
use crate::parse::crdb_table::CrdbTables;
use crate::parse::goroutines::Goroutine;

#[derive(Debug, Default)]
pub struct CrdbFacts {
    /// Tables and notable lines per input (lines are 1-based within that input).
    pub tables: Vec<(InputId, CrdbTables)>,
    /// `cockroach node <verb> ...` command lines found in CLI captures, in input then line
    /// order. They split a capture into runs and name the nodes a drain or decommission
    /// targeted (the drain output itself never names its node).
    pub commands: Vec<CliCommand>,
    /// Goroutine dumps per input (`nodes/<id>/stacks.txt`), for drains stuck in code.
    pub goroutines: Vec<(InputId, Vec<Goroutine>)>,
}

/// One pasted `cockroach node decommission|recommission|drain|status ...` command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliCommand {
    pub input: InputId,
    /// 1-based line within the input.
    pub line: u64,
    /// `decommission`, `recommission`, `drain`, `status`, ...
    pub verb: String,
    /// Positional node ids (`decommission 4 5`); empty for `--self` or the old `--host` form.
    pub ids: Vec<u64>,
    /// `--host` value unless it is a `{placeholder}` from the docs.
    pub host: Option<String>,
    /// `--drain-wait` value as written (`15m`).
    pub drain_wait: Option<String>,
    pub self_flag: bool,
}

impl CrdbFacts {
    /// Gives every fact the input's final id.
    pub fn set_input(&mut self, id: InputId) {
        for t in &mut self.tables {
            t.0 = id;
        }
        for c in &mut self.commands {
            c.input = id;
        }
        for g in &mut self.goroutines {
            g.0 = id;
        }
    }

    pub fn append(&mut self, mut other: CrdbFacts) {
        self.tables.append(&mut other.tables);
        self.commands.append(&mut other.commands);
        self.goroutines.append(&mut other.goroutines);
    }
}
