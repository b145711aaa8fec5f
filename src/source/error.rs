//! Why a source could not be found, listed or read.

use crate::model::Status;
use std::fmt;
use std::io;

/// An I/O failure, kept as what a person needs: its kind and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoFailure {
    pub kind: io::ErrorKind,
    message: String,
}

impl From<&io::Error> for IoFailure {
    fn from(e: &io::Error) -> IoFailure {
        IoFailure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for IoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            io::ErrorKind::NotFound => f.write_str("no such file or directory"),
            io::ErrorKind::PermissionDenied => f.write_str("permission denied"),
            _ => f.write_str(&self.message),
        }
    }
}

/// A source that yields no input; the input is reported failed with this reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The PATH argument itself could not be looked at.
    #[error("{0}")]
    Path(IoFailure),
    #[error("directory holds no readable file")]
    EmptyDirectory,
    #[error("cannot list directory: {0}")]
    CannotList(IoFailure),
    #[error("broken link: {0}")]
    BrokenLink(IoFailure),
    #[error("cannot read stdin: {0}")]
    Stdin(IoFailure),
    #[error("cannot open: {0}")]
    Open(IoFailure),
    #[error("cannot stat: {0}")]
    Stat(IoFailure),
    #[error("cannot read: {0}")]
    Read(IoFailure),
    #[error("archive holds no file")]
    EmptyArchive,
}

impl SourceError {
    /// Every source problem fails its input: it was given to be read and could not be.
    pub fn status(&self) -> Status {
        Status::Failed
    }
}
