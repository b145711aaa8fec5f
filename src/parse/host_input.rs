//! Inputs that feed host and cluster-setting facts: `df`, open-file limits, CockroachDB
//! zone configurations and cluster settings, and start configurations with `--join`.

use crate::model::crdb::CrdbFacts;
use crate::model::host::HostFacts;
use crate::model::{InputId, Kind};

/// What one such input yields.
#[derive(Debug, Default)]
pub struct HostCollected {
    pub host: HostFacts,
    pub crdb: CrdbFacts,
    pub records: u64,
    pub unparsed_lines: u64,
    pub partial: Vec<String>,
    /// The host a shell prompt names (`user@host$`), for an input whose path names none.
    pub prompt_host: Option<String>,
}

/// The kind of a text whose content is one of these outputs (checked in the sniffing step).
pub fn detect(text: &str) -> Option<Kind> {
    if super::crdb_sql::looks_like_zones(text) {
        return Some(Kind::CrdbZoneConfigs);
    }
    if super::crdb_sql::looks_like_settings(text) {
        return Some(Kind::CrdbClusterSettings);
    }
    if super::df::looks_like(text) {
        return Some(Kind::DfOutput);
    }
    if super::limits::looks_like(text) {
        return Some(Kind::UlimitOutput);
    }
    if super::crdb_join::looks_like_config(text) || super::crdb_join::looks_like_shell_starts(text)
    {
        return Some(Kind::CrdbStartCommand);
    }
    None
}

pub fn collect(kind: Kind, text: &str, input: InputId) -> HostCollected {
    let mut c = HostCollected::default();
    match kind {
        Kind::DfOutput => {
            let o = super::df::parse(text, input);
            c.records = o.mounts.len() as u64;
            c.unparsed_lines = o.unparsed_lines;
            if let Some(l) = o.cut_row {
                c.partial.push(format!("the table is cut mid-row at line {l}: the rows above it are whole, the rest is missing"));
            }
            c.prompt_host = o.host;
            c.host.mounts = o.mounts;
        }
        Kind::UlimitOutput => {
            let o = super::limits::parse(text, input);
            c.records = o.limits.len() as u64;
            c.unparsed_lines = o.unparsed_lines;
            c.prompt_host = o.host;
            c.host.limits = o.limits;
        }
        Kind::CrdbZoneConfigs | Kind::CrdbClusterSettings => {
            let o = if kind == Kind::CrdbZoneConfigs {
                super::crdb_sql::parse_zones(text, input)
            } else {
                super::crdb_sql::parse_settings(text, input)
            };
            c.records = (o.zones.len() + o.settings.len()) as u64;
            c.unparsed_lines = o.unparsed_lines;
            c.partial = o.partial;
            c.crdb.zones = o.zones;
            c.crdb.settings = o.settings;
        }
        Kind::CrdbStartCommand => {
            let j = super::crdb_join::joins(text, input);
            c.crdb.starts = super::crdb_join::starts(text, input);
            c.records = j.len().max(c.crdb.starts.len()) as u64;
            c.crdb.joins = j;
        }
        _ => {}
    }
    // A start command may sit in any pasted text (a ticket with a node table, say).
    if kind != Kind::CrdbStartCommand && text.contains("--join") {
        c.crdb.joins = super::crdb_join::joins(text, input);
    }
    c
}
