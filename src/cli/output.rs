//! `-o/--output FILE`: where a subcommand writes what it prints.

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Stdout, or the file `-o` names (created, or replaced when it exists).
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub file: Option<PathBuf>,
}

impl Output {
    /// Whether what is written goes to a terminal (never for a file): decides the default
    /// format and colour.
    pub fn is_terminal(&self) -> bool {
        self.file.is_none() && std::io::stdout().is_terminal()
    }

    /// A buffered writer to the destination.
    pub fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match &self.file {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        })
    }

    /// Writes all of `bytes` and flushes.
    pub fn write_all(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut w = self.writer()?;
        w.write_all(bytes).with_context(|| self.what())?;
        w.flush().with_context(|| self.what())?;
        Ok(())
    }

    /// What a write error names.
    pub fn what(&self) -> String {
        match &self.file {
            Some(p) => format!("cannot write {}", p.display()),
            None => "cannot write to stdout".into(),
        }
    }
}
