//! Man pages (one per subcommand: `kvtriage-analyze(1)`, ...) and shell completions that
//! complete rule ids, both from the clap definitions.

use super::Cli;
use super::output::Output;
use clap::CommandFactory;
use clap::builder::PossibleValuesParser;
use std::path::Path;

/// The command as built by clap (bin and display names set on every subcommand), without
/// the `help` subcommand.
fn built() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The page of a (sub)command, its footer naming the tool and version.
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("kvtriage {}", env!("CARGO_PKG_VERSION")))
}

/// `kvtriage man [SUBCOMMAND...]`: kvtriage(1) or the page of a subcommand
/// (`rules list` is kvtriage-rules-list(1)).
pub fn man(path: &[String], out: &Output) -> anyhow::Result<()> {
    let mut cmd = built();
    for name in path {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        let Some(sub) = cmd.find_subcommand(name).cloned() else {
            anyhow::bail!(
                "no subcommand {name:?} of {}; {}known: {}",
                cmd.get_display_name().unwrap_or(cmd.get_name()),
                super::suggest::did_you_mean(name, names.iter().map(String::as_str)),
                names.join(", ")
            );
        };
        cmd = sub;
    }
    let mut buf = Vec::new();
    page(cmd).render(&mut buf)?;
    out.write_all(&buf)
}

/// `kvtriage man --dir DIR`: every page, `kvtriage.1`, `kvtriage-analyze.1`, ...; returns
/// the file names written.
pub fn man_dir(dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    fn each(cmd: &clap::Command, dir: &Path, written: &mut Vec<String>) -> anyhow::Result<()> {
        let man = page(cmd.clone());
        man.generate_to(dir)?;
        written.push(man.get_filename());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            each(sub, dir, written)?;
        }
        Ok(())
    }
    each(&built(), dir, &mut written)?;
    Ok(written)
}

/// The command with the rule ids as the values of every rule argument (`--only`,
/// `--disable`, `explain RULE`, `rules show RULE`), for the completion scripts only: the
/// parser itself accepts user rules' ids too.
fn with_rule_ids(cmd: clap::Command, ids: &[String]) -> clap::Command {
    cmd.mut_args(|a| match a.get_id().as_str() {
        "only" | "disable" | "rule" => {
            a.value_parser(PossibleValuesParser::new(ids.iter().cloned()))
        }
        _ => a,
    })
    .mut_subcommands(|s| with_rule_ids(s, ids))
}

/// `kvtriage completions SHELL`: the completion script, completing built-in rule ids.
pub fn completions(
    shell: clap_complete::Shell,
    rule_ids: &[String],
    out: &Output,
) -> anyhow::Result<()> {
    let mut cmd = with_rule_ids(Cli::command(), rule_ids);
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kvtriage", &mut buf);
    out.write_all(&buf)
}
