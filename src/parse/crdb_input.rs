//! Inputs that feed CockroachDB facts besides logs: `node status`, `node decommission` and
//! drain output.

use super::Collected;
use crate::bundle::Kind;
use crate::model::InputId;
use crate::model::crdb::CrdbFacts;

/// Reads one input of a CockroachDB CLI kind.
pub fn collect(_kind: Kind, text: &str, input: InputId) -> Collected<CrdbFacts> {
    let out = super::crdb_table::parse(text);
    let problem =
        (out.records == 0).then(|| "no node table or decommission line could be read".to_string());
    Collected {
        records: out.records,
        unparsed_lines: Some(out.unparsed_lines),
        problem,
        versions: Vec::new(),
        facts: CrdbFacts {
            tables: vec![(input, out)],
        },
    }
}
