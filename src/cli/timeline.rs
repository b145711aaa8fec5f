//! `kvtriage timeline`: reads the sources one by one ([`crate::read_each`]), keeps each
//! input's listed events as a sorted run on disk and merges the runs at the end, so a big
//! bundle costs disk for the runs, not memory.

use super::output::Output;
use super::{RuleArgs, TimelineArgs, TimelineFormat, exit, paths_or_stdin, suggest};
use crate::model::{Facts, InputReport, Level, Status};
use crate::report::timeline::{self, Cut, Spool, Style, TemplateRow, TimelineFilter};
use crate::{Options, read_each};
use std::io::Write;

pub fn run(args: TimelineArgs, out: &Output) -> anyhow::Result<u8> {
    let (rules, _) = RuleArgs::load(&args.rules)?;
    let paths = paths_or_stdin(&args.paths)?;
    let grep = match &args.grep {
        Some(g) => Some(regex::Regex::new(g).map_err(|e| anyhow::anyhow!("--grep: {e}"))?),
        None => None,
    };
    let filter = TimelineFilter {
        level: args.level,
        nodes: args.node.clone(),
        grep,
    };
    let cut = match (args.limit, args.tail) {
        (Some(n), _) => Cut::First(n),
        (None, Some(n)) => Cut::Last(n),
        (None, None) => Cut::All,
    };
    let opts = Options {
        paths,
        assume_tz: args.assume_tz,
        since: args.window.since,
        until: args.window.until,
        // Templates need no kept entries; events need no templates.
        keep_level: (!args.templates).then(|| args.level.unwrap_or(Level::Warn)),
        templates: args.templates,
        ..Options::default()
    };
    let mut inputs: Vec<InputReport> = Vec::new();
    let mut spool = Spool::new(cut)?;
    let mut templates: Vec<TemplateRow> = Vec::new();
    let mut error: Option<std::io::Error> = None;
    let mut each = |report: InputReport, facts: Facts| {
        if args.templates {
            if filter.wants_input(&report) {
                let ts: Vec<_> = facts.templates.iter().collect();
                templates.extend(timeline::template_rows(&report, &ts));
            }
        } else {
            // The input's facts go as soon as its listed events are in the spool.
            let (events, untimed) = timeline::events_of(&report, &facts.events, &filter);
            drop(facts);
            let key = (report.path.clone(), report.id.0);
            if let Err(e) = spool.add(key, events, untimed) {
                error.get_or_insert(e);
            }
        }
        inputs.push(report);
    };
    read_each(&opts, &rules, &mut each);
    if let Some(e) = error {
        return Err(anyhow::Error::new(e).context("cannot write the timeline's temporary file"));
    }
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    if !inputs.iter().any(|i| i.status == Status::Parsed) {
        eprintln!("kvtriage: nothing could be analysed:");
        for i in inputs.iter().take(10) {
            eprintln!(
                "  {:?} {}: {}",
                i.status,
                i.path,
                i.reason.as_deref().unwrap_or("-")
            );
        }
        return Ok(exit::ERROR);
    }
    let unknown = timeline::unknown_nodes(&filter, &inputs);
    if !unknown.is_empty() {
        let known = timeline::known_nodes(&inputs);
        let hint = suggest::did_you_mean(unknown[0], known.iter().map(String::as_str));
        anyhow::bail!(
            "--node {}: no log of the bundle is of that node or has it in its path; {}known nodes: {}",
            unknown.join(", "),
            hint,
            if known.is_empty() {
                "none (no log names its node)".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    let mut w = out.writer()?;
    if args.templates {
        let rows = timeline::merge_templates(templates);
        let text = timeline::render_template_rows(&rows, args.format == TimelineFormat::Jsonl);
        w.write_all(text.as_bytes())?;
        w.flush()?;
        return Ok(exit::OK);
    }
    let (listed, untimed) = (spool.listed, spool.untimed);
    let style = match args.format {
        TimelineFormat::Text => Style::Text,
        TimelineFormat::Jsonl => Style::Jsonl,
    };
    let written = spool.write_to(&mut w, style)?;
    w.flush()?;
    if written < listed {
        let which = match cut {
            Cut::Last(_) => "last",
            _ => "first",
        };
        eprintln!("kvtriage: {written} of {listed} events shown (the {which} {written})");
    }
    if untimed > 0 {
        eprintln!("kvtriage: {untimed} events carry no time and are not listed");
    }
    Ok(exit::OK)
}
