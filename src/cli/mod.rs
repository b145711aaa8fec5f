//! Command-line interface: argument definitions and dispatch. The work itself is in the library.

mod docs;
mod listing;
mod output;
mod suggest;
mod timeline;

pub use output::Output;

use crate::model::Analysis;
use crate::model::Status;
use crate::report::{self, Format};
use crate::rules::{RuleSet, Severity};
use crate::{Options, analyze};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kvtriage",
    version,
    about = "Diagnose TiKV/PD and CockroachDB clusters from the logs and dumps they left behind",
    long_about = "kvtriage reads a support bundle (log files, pd-ctl JSON, CockroachDB output; files, \
directories or stdin), recognises known failure patterns across files, and prints ranked findings \
with evidence (file:line) and the commands to fix them, with the real store, region and node ids.",
    after_help = "Exit codes: 0 no finding at or above --fail-on; 1 a finding at or above --fail-on; \
2 usage error or nothing could be analysed; 3 (--strict) some inputs failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Write what the subcommand prints to FILE instead of stdout (replaced if it exists;
    /// formats default as when stdout is not a terminal).
    #[arg(long, short = 'o', value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a bundle and print findings.
    Analyze(AnalyzeArgs),
    /// Print one time-ordered stream of the significant events of every node.
    Timeline(TimelineArgs),
    /// Inspect the rule catalogue.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a rule's background and remediation.
    Explain {
        /// Rule id, e.g. tikv.offline-store-pinned-by-leaderless-region
        rule: String,
    },
    /// Print a shell completion script (rule ids complete after --only, --disable, explain).
    Completions { shell: clap_complete::Shell },
    /// Print a man page (roff): kvtriage(1), or a subcommand's (`man analyze` is
    /// kvtriage-analyze(1), `man rules list` kvtriage-rules-list(1)).
    Man {
        /// The subcommand whose page to print, e.g. `analyze` or `rules list`.
        command: Vec<String>,
        /// Write every page (kvtriage.1, kvtriage-analyze.1, ...) into this folder.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct TimelineArgs {
    /// Files or directories (archives too); `-` reads stdin.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub window: Window,
    /// Only this node (`10.0.1.5:20160`, `n4`) or a path substring; repeatable.
    #[arg(long)]
    pub node: Vec<String>,
    /// Only entries at or above this level, every event alike (an entry without a level
    /// counts as info) [default: warnings and above, and the lines of rules' patterns
    /// (restarts, leader changes, operators) at any level]
    #[arg(long, value_parser = parse_level)]
    pub level: Option<crate::model::Level>,
    /// Only events whose line matches this regex.
    #[arg(long)]
    pub grep: Option<String>,
    #[arg(long, value_enum, default_value_t = TimelineFormat::Text)]
    pub format: TimelineFormat,
    /// List warning/error message templates per node instead of events.
    #[arg(long)]
    pub templates: bool,
    /// UTC offset assumed for old log formats that print none (e.g. +08:00).
    #[arg(long, default_value = "+00:00", value_parser = parse_offset)]
    pub assume_tz: chrono::FixedOffset,
    /// Only the first N events of the stream.
    #[arg(long, value_name = "N", conflicts_with = "tail")]
    pub limit: Option<usize>,
    /// Only the last N events of the stream.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    Text,
    Jsonl,
}

fn parse_level(s: &str) -> Result<crate::model::Level, String> {
    crate::model::Level::parse(s)
        .ok_or_else(|| format!("{s:?} is not a level (trace, debug, info, warn, error, fatal)"))
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List every rule with its severity and title.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Folders of user rule files to load too.
        dirs: Vec<PathBuf>,
    },
    /// Print the literal prefilter needles, one per line (for `rg -F -f`).
    Needles {
        /// Folders of user rule files to load too.
        dirs: Vec<PathBuf>,
    },
    /// Run the rules' own test cases (built-in rules and those in DIR...).
    Test {
        /// Folders of user rule files; their rules are tested with the built-in ones.
        dirs: Vec<PathBuf>,
        /// Test only this rule (repeatable).
        #[arg(long, value_name = "RULE")]
        only: Vec<String>,
    },
    /// Check rules for the house style: id naming, remediation, references, tests.
    Lint {
        /// Folders of user rule files; only their rules are linted when given.
        dirs: Vec<PathBuf>,
    },
    /// Print a rule as a person reads it.
    Show {
        /// Rule id
        rule: String,
        /// Folders of user rule files to load too.
        dirs: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    Never,
}

/// Which rules run.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RuleArgs {
    /// Also load the rule files (`*.toml`) of this folder; a rule with a built-in id replaces
    /// the built-in one. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Run only this rule (repeatable).
    #[arg(long, value_name = "RULE")]
    pub only: Vec<String>,
    /// Do not run this rule (repeatable).
    #[arg(long, value_name = "RULE")]
    pub disable: Vec<String>,
}

impl RuleArgs {
    fn load(&self) -> anyhow::Result<(RuleSet, Vec<String>)> {
        RuleSet::load(&crate::rules::Selection {
            dirs: self.dirs.clone(),
            only: self.only.clone(),
            disable: self.disable.clone(),
        })
        .map_err(suggest::rule_error)
    }
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Files or directories to analyse; `-` (or nothing) reads one file from stdin.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Colour in the table output; NO_COLOR in the environment turns `auto` off.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// Exit 3 when some inputs failed and no finding reached --fail-on.
    #[arg(long)]
    pub strict: bool,
    /// Say which rules could run, which were skipped and why, and which inputs no rule read.
    #[arg(long)]
    pub coverage: bool,
    /// Report only findings that are not in this earlier JSON report (same rule and entities).
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    /// UTC offset assumed for old log formats that print none (e.g. +08:00).
    #[arg(long, default_value = "+00:00", value_parser = parse_offset)]
    pub assume_tz: chrono::FixedOffset,
    #[command(flatten)]
    pub window: Window,
    /// Stop decompressing archives after this many bytes in total (default 8 GiB).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_bytes: Option<u64>,
    /// Stop a compressed stream that grows past this many times its compressed size (default 200).
    #[arg(long, value_name = "N")]
    pub max_ratio: Option<u64>,
    /// Print nothing; only the exit code tells.
    #[arg(long, short)]
    pub quiet: bool,
    /// Show all evidence lines, references and every input.
    #[arg(long, short)]
    pub verbose: bool,
    /// Show only findings at or above this severity (the verdict says how many it hid; the
    /// exit code still counts them all).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<MinSeverity>,
    /// Do not page the table: on a terminal it goes through $PAGER (default `less`, with
    /// LESS=FRX when LESS is unset) as git does.
    #[arg(long)]
    pub no_pager: bool,
    /// Write the report's times in this zone (`+08:00`, `UTC`) instead of the bundle's.
    #[arg(long, value_name = "OFFSET", value_parser = parse_tz)]
    pub tz: Option<chrono::FixedOffset>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MinSeverity {
    Info,
    Warning,
    Critical,
}

impl MinSeverity {
    fn severity(self) -> Severity {
        match self {
            MinSeverity::Info => Severity::Info,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Critical => Severity::Critical,
        }
    }
}

/// `--tz`: an offset, or `UTC`/`Z`.
fn parse_tz(s: &str) -> Result<chrono::FixedOffset, String> {
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return parse_offset("+00:00");
    }
    parse_offset(s)
}

/// The width the table is laid out for: `COLUMNS` when set, else the terminal's, else 100.
fn table_width(stdout: &std::io::Stdout) -> usize {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return c;
    }
    terminal_size::terminal_size_of(stdout)
        .map(|(w, _)| usize::from(w.0))
        .filter(|&w| w > 0)
        .unwrap_or(100)
}

/// The pager command (`KVTRIAGE_PAGER`, else `PAGER`, else `less`); none when it is empty
/// or `cat`.
fn pager_command() -> Option<String> {
    let p = std::env::var("KVTRIAGE_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".to_string());
    let p = p.trim();
    (!p.is_empty() && p != "cat").then(|| p.to_string())
}

/// Writes `text` through the pager; false when no pager could be started (the caller prints).
fn page(text: &str) -> anyhow::Result<bool> {
    let Some(cmd) = pager_command() else {
        return Ok(false);
    };
    let mut c = std::process::Command::new("sh");
    c.arg("-c").arg(&cmd).stdin(std::process::Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        c.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        c.env("LV", "-c");
    }
    let Ok(mut child) = c.spawn() else {
        return Ok(false);
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader may quit the pager before the end: not an error.
        match stdin.write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        }
    }
    // `sh` could not find the pager (127): print the report instead of losing it.
    let found = child.wait().map_or(true, |st| st.code() != Some(127));
    Ok(found)
}

/// `8GiB`, `500MiB`, `1000000`: a byte count.
fn parse_size(s: &str) -> Result<u64, String> {
    crate::model::units::parse_byte_size(s)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a size like 8GiB or 500MiB"))
}

/// A time window over log events.
#[derive(clap::Args, Debug, Clone)]
pub struct Window {
    /// Only events at or after this time (RFC 3339, or `2024/07/22 20:02:58.803 +08:00`;
    /// a time without zone is UTC).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<chrono::DateTime<chrono::FixedOffset>>,
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    crate::parse_user_time(s).ok_or_else(|| {
        format!(
            "{s:?} is not a time like 2024-07-22T20:02:58+08:00 or 2024/07/22 20:02:58.803 +08:00"
        )
    })
}

fn parse_offset(s: &str) -> Result<chrono::FixedOffset, String> {
    crate::parse_offset(s).ok_or_else(|| format!("{s:?} is not an offset like +08:00"))
}

/// Exit codes (README and OUTPUT contract).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const INPUTS_FAILED: u8 = 3;
}

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let out = Output { file: cli.output };
    match cli.command {
        Command::Analyze(args) => cmd_analyze(args, &out),
        Command::Timeline(args) => timeline::run(args, &out),
        Command::Rules { command } => cmd_rules(command, &out),
        Command::Explain { rule } => cmd_explain(&rule, &out),
        Command::Completions { shell } => {
            let ids: Vec<String> = RuleSet::builtin()?
                .rules
                .iter()
                .map(|r| r.spec.id.clone())
                .collect();
            docs::completions(shell, &ids, &out)?;
            Ok(exit::OK)
        }
        Command::Man { command, dir } => {
            match dir {
                Some(d) => {
                    let files = docs::man_dir(&d)?;
                    let mut list = files.join("\n");
                    list.push('\n');
                    out.write_all(list.as_bytes())?;
                }
                None => docs::man(&command, &out)?,
            }
            Ok(exit::OK)
        }
    }
}

/// The PATH arguments, or stdin when there are none and something is piped in.
fn paths_or_stdin(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !paths.is_empty() {
        return Ok(paths.to_vec());
    }
    if std::io::stdin().is_terminal() {
        anyhow::bail!(
            "no PATH given and stdin is a terminal: give a bundle directory or file, or pipe one in (`-`)"
        );
    }
    Ok(vec![PathBuf::from("-")])
}

fn cmd_analyze(args: AnalyzeArgs, out: &Output) -> anyhow::Result<u8> {
    let (rules, rule_notes) = args.rules.load()?;
    let paths = paths_or_stdin(&args.paths)?;
    let mut limits = crate::Limits::default();
    if let Some(b) = args.max_bytes {
        limits.max_total_bytes = b;
    }
    if let Some(r) = args.max_ratio {
        limits.max_ratio = r.max(1);
    }
    let opts = Options {
        paths,
        assume_tz: args.assume_tz,
        limits,
        since: args.window.since,
        until: args.window.until,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        ..Options::default()
    };
    let baseline = match &args.baseline {
        Some(p) => Some(report::baseline(p)?),
        None => None,
    };
    let mut analysis = analyze(&opts, &rules);
    analysis.notes.splice(0..0, rule_notes);
    // The HTML page always has its coverage section.
    if args.coverage || args.format == Some(Format::Html) {
        let kinds: Vec<_> = analysis
            .inputs
            .iter()
            .map(|i| (i.path.clone(), i.kind, i.status == Status::Parsed))
            .collect();
        analysis.coverage = Some(crate::rules::coverage::coverage(
            &rules,
            &kinds,
            &analysis.facts,
        ));
    }
    if let Some(known) = baseline {
        let dropped = analysis.drop_known(&known);
        analysis.notes.push(format!(
            "{dropped} finding(s) already in the baseline {} were left out; {} new.",
            args.baseline
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display(),
            analysis.findings.len()
        ));
    }
    // The exit code counts every finding, also those --min-severity hides.
    let code = exit_code(&analysis, args.fail_on, args.strict);
    if let Some(m) = args.min_severity {
        analysis.drop_below(m.severity());
    }
    let stdout = std::io::stdout();
    let is_tty = out.is_terminal();
    let format = args
        .format
        .unwrap_or(if is_tty { Format::Table } else { Format::Json });
    let mut view = report::View {
        tz: args.tz,
        exit: Some(report::Exit {
            code,
            fail_on: fail_on_severity(args.fail_on),
            strict: args.strict,
        }),
        min_severity: args.min_severity.map(MinSeverity::severity),
        verbose: args.verbose,
        ..report::View::default()
    };
    if !args.quiet && report::verdict_is_alarm(&analysis) {
        // Never a quiet all-clear: a failed input or nothing analysed is said on stderr too.
        eprintln!(
            "kvtriage: {}",
            report::escape(&report::verdict(&analysis, &view))
        );
    }
    if !args.quiet {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        view.color = color;
        view.width = table_width(&stdout);
        let text = match format {
            Format::Table => report::table_with(&analysis, &view),
            Format::Json => report::json_with(&analysis, &view),
            Format::Jsonl => report::jsonl(&analysis),
            Format::Markdown => report::markdown_with(&analysis, &view),
            Format::Html => report::html(&analysis),
            Format::Junit => {
                let ids: Vec<String> = rules.rules.iter().map(|r| r.spec.id.clone()).collect();
                report::junit(&analysis, &ids, fail_on_severity(args.fail_on))
            }
        };
        if !(format == Format::Table && is_tty && !args.no_pager && page(&text)?) {
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(code)
}

fn fail_on_severity(f: FailOn) -> Option<Severity> {
    match f {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

pub fn exit_code(a: &Analysis, fail_on: FailOn, strict: bool) -> u8 {
    if a.nothing_analysed() {
        return exit::ERROR;
    }
    let threshold = match fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    if let Some(t) = threshold
        && a.findings.iter().any(|f| f.severity >= t)
    {
        return exit::FINDINGS;
    }
    if strict && a.inputs.iter().any(|i| i.status == Status::Failed) {
        return exit::INPUTS_FAILED;
    }
    exit::OK
}

fn load_with(dirs: &[PathBuf], only: &[String]) -> anyhow::Result<RuleSet> {
    Ok(RuleSet::load(&crate::rules::Selection {
        dirs: dirs.to_vec(),
        only: only.to_vec(),
        disable: Vec::new(),
    })
    .map_err(suggest::rule_error)?
    .0)
}

fn cmd_rules(c: RulesCommand, output: &Output) -> anyhow::Result<u8> {
    let mut out = String::new();
    let mut code = exit::OK;
    match c {
        RulesCommand::List { format, dirs } => {
            let rules = load_with(&dirs, &[])?;
            out = match format {
                ListFormat::Json => crate::rules::catalogue::list_json(&rules)?,
                ListFormat::Table => listing::list_table(&rules),
            };
        }
        RulesCommand::Needles { dirs } => {
            let rules = load_with(&dirs, &[])?;
            for n in rules.all_needles() {
                out.push_str(&n);
                out.push('\n');
            }
        }
        RulesCommand::Test { dirs, only } => {
            let rules = load_with(&dirs, &only)?;
            let outcomes = crate::rules::testing::run_all(&rules, &crate::analyze_dir);
            let (mut pass, mut fail) = (0, 0);
            for o in &outcomes {
                if o.passed {
                    pass += 1;
                    out.push_str(&format!("ok     {}: {}\n", o.rule, o.name));
                } else {
                    fail += 1;
                    out.push_str(&format!("FAILED {}: {}: {}\n", o.rule, o.name, o.detail));
                }
            }
            let untested: Vec<&str> = rules
                .rules
                .iter()
                .filter(|r| r.spec.test.is_empty())
                .map(|r| r.spec.id.as_str())
                .collect();
            if !untested.is_empty() {
                out.push_str(&format!(
                    "rules without test cases: {}\n",
                    untested.join(", ")
                ));
            }
            out.push_str(&format!("{pass} passed, {fail} failed\n"));
            if fail > 0 {
                code = exit::FINDINGS;
            }
        }
        RulesCommand::Lint { dirs } => {
            let rules = load_with(&dirs, &[])?;
            let mut problems = 0;
            for r in rules.rules.iter().filter(|r| dirs.is_empty() || !r.builtin) {
                for p in crate::rules::testing::lint(r) {
                    problems += 1;
                    out.push_str(&format!("{} ({}): {p}\n", r.spec.id, r.origin));
                }
            }
            out.push_str(&format!("{problems} style problems\n"));
            if problems > 0 {
                code = exit::FINDINGS;
            }
        }
        RulesCommand::Show { rule, dirs } => {
            let rules = load_with(&dirs, &[])?;
            out = crate::rules::catalogue::show(&rules, &rule).map_err(suggest::rule_error)?;
        }
    }
    output.write_all(out.as_bytes())?;
    Ok(code)
}

fn cmd_explain(id: &str, output: &Output) -> anyhow::Result<u8> {
    let rules = RuleSet::builtin()?;
    let out = crate::rules::catalogue::explain(&rules, id).map_err(suggest::rule_error)?;
    output.write_all(out.as_bytes())?;
    Ok(exit::OK)
}
