//! The `kvtriage` binary: runs the CLI, maps errors to exit codes, treats a closed pipe as success.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = kvtriage::cli::Cli::parse();
    match kvtriage::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`kvtriage ... | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(0);
            }
            eprintln!("kvtriage: {err:#}");
            ExitCode::from(kvtriage::cli::exit::ERROR)
        }
    }
}
