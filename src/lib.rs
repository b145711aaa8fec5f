//! kvtriage: reads what a sick TiKV/PD or CockroachDB cluster left behind and says what is
//! wrong and what to type to fix it.
//!
//! The pipeline, in one direction: [`source`] finds the inputs (files, folders, archives,
//! stdin) and gives each its id → [`parse`] detects each input's format and reads it into
//! the [`model`]'s fact tables → [`rules`] evaluates the rule files over the facts →
//! [`report`] prints the findings. [`cli`] is the command line around it.

pub mod cli;
mod ingest;
pub mod model;
pub mod parse;
pub mod report;
pub mod rules;
pub mod source;
#[doc(hidden)]
pub mod synth;

pub use source::archive::Limits;

use chrono::FixedOffset;
use model::{Analysis, Facts, Level};
use rayon::prelude::*;
use rules::RuleSet;
use std::path::PathBuf;

/// What to analyse and how.
pub struct Options {
    pub paths: Vec<PathBuf>,
    /// Zone for log formats that carry none (pre-unified TiKV/PD).
    pub assume_tz: FixedOffset,
    /// Decompression limits for archives and compressed files.
    pub limits: Limits,
    /// Keep every log entry at or above this level (the timeline wants them).
    pub keep_level: Option<Level>,
    /// Count warning/error templates (for `generic.error-burst`).
    pub templates: bool,
    /// Show a progress bar on stderr for large inputs (the caller checks it is a terminal).
    pub progress: bool,
    /// Only events in this time window count (`--since`, `--until`).
    pub since: Option<chrono::DateTime<FixedOffset>>,
    pub until: Option<chrono::DateTime<FixedOffset>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: Vec::new(),
            assume_tz: FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()),
            limits: Limits::default(),
            keep_level: None,
            templates: true,
            progress: false,
            since: None,
            until: None,
        }
    }
}

/// Discover → detect and parse (in parallel) → merge facts in a fixed order → evaluate the
/// rules → notes.
pub fn analyze(opts: &Options, rules: &RuleSet) -> Analysis {
    let sources = source::discover(&opts.paths);
    let prefilter = parse::scan::Prefilter::new(rules.needle_groups());
    let ctx = ingest::IngestCtx {
        parse: parse::input::ParseCtx {
            prefilter: &prefilter,
            assume_tz: opts.assume_tz,
            keep_level: opts.keep_level,
            templates: opts.templates,
            version_group: rules.fact_groups.get("version").copied(),
            join_group: rules.fact_groups.get("join").copied(),
            max_dump_bytes: opts.limits.max_member_bytes,
        },
        limits: &opts.limits,
    };
    let bar = progress_bar(opts.progress, &sources);
    let mut parsed: Vec<parse::input::Parsed> = sources
        .par_iter()
        .flat_map_iter(|s| {
            let out = ingest::read_source(s, &ctx);
            if let Some(b) = &bar {
                b.inc(s.file_size());
            }
            out
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // Facts are merged in path order, whatever the thread count.
    parsed.sort_by(|a, b| {
        (a.report.path.as_str(), a.report.id).cmp(&(b.report.path.as_str(), b.report.id))
    });
    let mut facts = Facts::default();
    let mut inputs = Vec::with_capacity(parsed.len());
    for p in parsed {
        facts.absorb(p.facts);
        inputs.push(p.report);
    }
    if opts.since.is_some() || opts.until.is_some() {
        facts.keep_window(opts.since, opts.until);
    }
    let mut analysis = Analysis::new(inputs, facts);
    (analysis.findings, analysis.undecided) = rules.evaluate(&analysis);
    let rotation = source::rotation::rotation_notes(&analysis.inputs);
    analysis.notes =
        rules::notes::notes(&analysis, rules.fact_groups.get("clock").copied(), rotation);
    analysis
}

/// [`analyze`] of one folder with default options (what a rule's test case runs).
pub fn analyze_dir(dir: &std::path::Path, rules: &RuleSet) -> Analysis {
    let opts = Options {
        paths: vec![dir.to_path_buf()],
        ..Options::default()
    };
    analyze(&opts, rules)
}

/// Inputs smaller than this finish before a bar would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 << 20;

fn progress_bar(wanted: bool, sources: &[source::Source]) -> Option<indicatif::ProgressBar> {
    if !wanted {
        return None;
    }
    let total: u64 = sources.iter().map(source::Source::file_size).sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// A time given on the command line (`--since`), in the forms the logs write.
pub fn parse_user_time(s: &str) -> Option<chrono::DateTime<FixedOffset>> {
    parse::time::parse_user_time(s)
}

/// A UTC offset given on the command line (`+08:00`).
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    parse::time::parse_unified(&format!("2000/01/01 00:00:00.000 {s}")).map(|d| *d.offset())
}

/// Reads the inputs as [`analyze`] does, but keeps nothing and evaluates no rule: each
/// input's report and facts (in the `--since`/`--until` window) go to `each` as soon as the
/// input is read, one source after the other (a big file's chunks are still scanned in
/// parallel). For outputs that stream over big bundles (`timeline`): memory holds the source
/// being read (an archive: all its members), not the bundle.
pub fn read_each(opts: &Options, rules: &RuleSet, each: &mut dyn FnMut(model::InputReport, Facts)) {
    let sources = source::discover(&opts.paths);
    let prefilter = parse::scan::Prefilter::new(rules.needle_groups());
    let ctx = ingest::IngestCtx {
        parse: parse::input::ParseCtx {
            prefilter: &prefilter,
            assume_tz: opts.assume_tz,
            keep_level: opts.keep_level,
            templates: opts.templates,
            version_group: rules.fact_groups.get("version").copied(),
            join_group: rules.fact_groups.get("join").copied(),
            max_dump_bytes: opts.limits.max_member_bytes,
        },
        limits: &opts.limits,
    };
    for s in &sources {
        for p in ingest::read_source(s, &ctx) {
            let mut facts = p.facts;
            if opts.since.is_some() || opts.until.is_some() {
                facts.keep_window(opts.since, opts.until);
            }
            each(p.report, facts);
        }
    }
}
