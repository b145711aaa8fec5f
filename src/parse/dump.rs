//! Non-log inputs: pd-ctl / PD API JSON and pasted sessions, CockroachDB CLI tables and
//! goroutine dumps, metrics, unsafe-recovery and operator listings, config files and
//! deployments.

use super::Format;
use super::error::InputError;
use super::scan::Prefilter;
use crate::model::{Component, Facts, InputId, InputReport, Kind, Location, Version};

/// A detected dump, its text in hand.
pub struct Dump<'a> {
    pub format: Format,
    pub kind: Kind,
    pub text: &'a str,
    pub id: InputId,
}

impl Dump<'_> {
    /// Parses the dump into the input's facts and fills its report.
    pub fn parse(&self, prefilter: &Prefilter, report: &mut InputReport, facts: &mut Facts) {
        let Dump {
            format,
            kind,
            text,
            id,
        } = *self;
        parse(format, kind, text, id, prefilter, report, facts);
    }
}

fn parse(
    format: Format,
    kind: Kind,
    text: &str,
    id: InputId,
    prefilter: &Prefilter,
    report: &mut InputReport,
    facts: &mut Facts,
) {
    let at = |line| Location { input: id, line };
    match format {
        Format::Pdctl => {
            let out = super::pdctl::parse(text, id);
            report.records = Some(out.records + out.answers.len() as u64);
            if !out.partial.is_empty() {
                report.set_partial(partial_text(&out.partial));
            }
            match out.problem {
                Some(p) if out.records == 0 && out.answers.is_empty() => {
                    fail(report, InputError::Unreadable(p))
                }
                Some(p) => report.note_problem(p),
                None if out.records == 0 && out.answers.is_empty() => {
                    fail(report, InputError::NoDocument(kind))
                }
                None => {}
            }
            for s in &out.stores {
                if let Some(v) = s.version.as_deref().and_then(Version::parse)
                    && !s.is_tiflash()
                {
                    facts.note_version(Component::Tikv, v, s.loc);
                }
            }
            if let Some((v, line)) = out.ctl_version {
                facts.note_version(Component::Pd, v, at(line));
            }
            facts.stores = out.stores;
            facts.regions = out.regions;
            facts.configs = out.configs;
            facts.pd_addrs = out.pd_addrs;
            let mut answers = out.answers;
            for a in &mut answers {
                // Pasted answers join the log events so log rules can cite them.
                a.groups = prefilter.groups_of(&a.message);
            }
            facts.events = answers;
        }
        Format::CrdbCli | Format::Goroutines => {
            let c = super::crdb_input::collect(kind, text, id);
            apply_collected(report, c.records, c.unparsed_lines, c.problem);
            if let Some(p) = c.partial {
                report.set_partial(p);
            }
            for (comp, v, line) in c.versions {
                facts.note_version(comp, v, at(line));
            }
            facts.crdb = c.facts;
        }
        Format::Metrics | Format::UnsafeRecovery | Format::OperatorList => {
            let c = super::sched_input::collect(kind, text, id);
            apply_collected(report, c.records, c.unparsed_lines, c.problem);
            if let Some(p) = c.partial {
                report.set_partial(p);
            }
            for (comp, v, line) in c.versions {
                facts.note_version(comp, v, at(line));
            }
            facts.sched = c.facts;
        }
        Format::SlowLog => {
            let out = super::slow_log::parse(text, id, kind, prefilter);
            report.records = Some(out.records);
            if out.records == 0 {
                fail(report, InputError::NoDocument(kind));
            }
            facts.events = out.events;
        }
        Format::TikvCtl => {
            let out = super::tikv_ctl::parse(text, id);
            report.records = Some(out.events.len() as u64);
            if !out.partial.is_empty() {
                report.set_partial(partial_text(&out.partial));
            }
            if out.events.is_empty() {
                fail(report, InputError::NoDocument(kind));
            }
            let mut events = out.events;
            for e in &mut events {
                e.groups = prefilter.groups_of(&e.message);
            }
            facts.events = events;
        }
        Format::TomlConfig | Format::Topology | Format::TidbClusterSpec => {
            let c = match format {
                Format::TomlConfig => super::toml_config::read(text, id, kind),
                Format::Topology => super::topology::read(text, id),
                _ => super::tidb_cluster::read(text, id),
            };
            apply_collected(report, c.records, c.unparsed_lines, c.problem);
            if let Some(p) = c.partial {
                report.set_partial(p);
            }
            for (comp, v, line) in c.versions {
                facts.note_version(comp, v, at(line));
            }
            facts.configs = c.facts.configs;
            facts.instances = c.facts.instances;
        }
        Format::Environment => {
            let c = super::host_input::collect(kind, text, id);
            apply_collected(report, c.records, Some(c.unparsed_lines), None);
            if c.records == 0 {
                fail(report, InputError::NoDocument(kind));
            }
            if !c.partial.is_empty() {
                report.set_partial(partial_text(&c.partial));
            }
            if report.node.is_none() {
                report.node = c.prompt_host;
            }
            facts.host = c.host;
            facts.crdb = c.crdb;
        }
        // Logs are scanned, never read as dumps.
        Format::Log(_) => {}
    }
    // A `cockroach start --join=...` pasted into another dump (a ticket with a node table).
    if format != Format::Environment && text.contains("--join") {
        facts.crdb.joins.extend(super::crdb_join::joins(text, id));
    }
}

/// The partial notes of an input, the first few in full.
fn partial_text(notes: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut s = notes
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    if notes.len() > SHOWN {
        s.push_str(&format!("; and {} more such notes", notes.len() - SHOWN));
    }
    s
}

/// Status and reason of an input from what its collector read.
fn apply_collected(
    report: &mut InputReport,
    records: u64,
    unparsed: Option<u64>,
    problem: Option<String>,
) {
    report.records = Some(records);
    report.unparsed_lines = unparsed;
    match problem {
        Some(p) if records == 0 => fail(report, InputError::Unreadable(p)),
        Some(p) => report.note_problem(p),
        None => {}
    }
}

fn fail(report: &mut InputReport, e: InputError) {
    report.set_problem(e.status(), e.to_string());
}
