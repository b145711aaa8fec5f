//! Why an input was skipped or failed. The input's status comes from the variant.

use crate::model::{Kind, Status};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("empty file")]
    Empty,
    #[error("binary file")]
    Binary,
    #[error("{0} data: this compression is not supported")]
    Compression(&'static str),
    #[error("no known log or dump format in the first 64 KiB")]
    UnknownFormat,
    /// Lines in an envelope (docker, CRI, kubectl, journald, syslog) around no known format.
    #[error("{0} envelope around no known log format")]
    EnvelopeOnly(&'static str),
    #[error("no log entry could be parsed")]
    NoLogEntry,
    /// Text taken for a log by what it names (CockroachDB) that holds no entry and no line
    /// any rule looks for: prose about the product, not its log.
    #[error("mentions CockroachDB but holds no log entry and no line any rule looks for")]
    NoEntryNoHit,
    #[error("no {0} JSON document found")]
    NoDocument(Kind),
    /// A reader found nothing it could use; its own reason (`no JSON object found`, ...).
    #[error("{0}")]
    Unreadable(String),
}

impl InputError {
    /// Skipped: not an input kvtriage reads. Failed: it should have been, and could not be.
    pub fn status(&self) -> Status {
        match self {
            InputError::Empty
            | InputError::Binary
            | InputError::Compression(_)
            | InputError::UnknownFormat
            | InputError::EnvelopeOnly(_)
            | InputError::NoEntryNoHit => Status::Skipped,
            InputError::NoLogEntry | InputError::NoDocument(_) | InputError::Unreadable(_) => {
                Status::Failed
            }
        }
    }
}
