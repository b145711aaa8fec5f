//! Finding the inputs: files, directories (walked recursively, sorted), stdin, archive members.
//! Knows nothing of formats.

pub mod archive;
mod error;
mod node;
pub mod rotation;

pub use error::{IoFailure, SourceError};
pub use node::node_from_path;

use crate::model::InputId;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One file to analyse, before it is read.
#[derive(Clone, Debug)]
pub struct Source {
    /// Given here, once: archive members get `InputId::new(source, ordinal)` from it.
    pub id: InputId,
    /// Path as shown in reports: relative to the PATH argument it came from.
    pub display: String,
    pub origin: Origin,
}

impl Source {
    fn new(display: String, origin: Origin) -> Source {
        Source {
            id: InputId::default(),
            display,
            origin,
        }
    }

    /// The size of a plain file (0 for stdin and unreadable sources).
    pub fn file_size(&self) -> u64 {
        match &self.origin {
            Origin::File(p) => fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            _ => 0,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Origin {
    File(PathBuf),
    Stdin,
    /// Could not even be listed (unreadable directory, broken link, missing path).
    Unreadable(SourceError),
}

/// The bytes of an input: mapped for plain files, owned for stdin and archive members.
pub enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }
}

/// Expands the PATH arguments into sources, in a deterministic order. `-` is stdin.
pub fn discover(args: &[PathBuf]) -> Vec<Source> {
    let mut out = Vec::new();
    let multi = args.len() > 1;
    for arg in args {
        if arg.as_os_str() == "-" {
            out.push(Source::new("<stdin>".into(), Origin::Stdin));
            continue;
        }
        let shown = arg.to_string_lossy().trim_end_matches('/').to_string();
        match fs::metadata(arg) {
            Ok(m) if m.is_dir() => {
                let prefix = if multi {
                    format!("{shown}/")
                } else {
                    String::new()
                };
                let before = out.len();
                walk(arg, &prefix, &mut out);
                if out.len() == before {
                    out.push(Source::new(
                        shown.clone(),
                        Origin::Unreadable(SourceError::EmptyDirectory),
                    ));
                }
            }
            Ok(_) => out.push(Source::new(shown, Origin::File(arg.clone()))),
            Err(e) => out.push(Source::new(
                shown,
                Origin::Unreadable(SourceError::Path((&e).into())),
            )),
        }
    }
    for (i, s) in out.iter_mut().enumerate() {
        s.id = InputId::new(i, 0);
    }
    out
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<Source>) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.push(Source::new(
                prefix.trim_end_matches('/').to_string(),
                Origin::Unreadable(SourceError::CannotList((&e).into())),
            ));
            return;
        }
    };
    let mut entries: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    entries.sort();
    for (name, path) in entries {
        let display = format!("{prefix}{name}");
        // Directory symlinks are not followed (no loops); file symlinks are read.
        let Ok(lm) = fs::symlink_metadata(&path) else {
            continue;
        };
        if lm.is_dir() {
            walk(&path, &format!("{display}/"), out);
        } else if lm.file_type().is_symlink() {
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => out.push(Source::new(display, Origin::File(path))),
                Ok(_) => {}
                Err(e) => out.push(Source::new(
                    display,
                    Origin::Unreadable(SourceError::BrokenLink((&e).into())),
                )),
            }
        } else if lm.is_file() {
            out.push(Source::new(display, Origin::File(path)));
        }
    }
}

/// Reads a source. Plain files are memory-mapped; stdin is read whole.
pub fn read(source: &Source) -> Result<Data, SourceError> {
    match &source.origin {
        Origin::Unreadable(r) => Err(r.clone()),
        Origin::Stdin => {
            let mut v = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut v)
                .map_err(|e| SourceError::Stdin((&e).into()))?;
            Ok(Data::Owned(v))
        }
        Origin::File(p) => {
            let f = fs::File::open(p).map_err(|e| SourceError::Open((&e).into()))?;
            let len = f
                .metadata()
                .map_err(|e| SourceError::Stat((&e).into()))?
                .len();
            if len == 0 {
                return Ok(Data::Owned(Vec::new()));
            }
            // SAFETY: the map is read-only; a file truncated underneath us while mapped could
            // fault, which is the accepted trade-off of every mmap-based search tool.
            match unsafe { memmap2::Mmap::map(&f) } {
                Ok(m) => Ok(Data::Mapped(m)),
                Err(_) => {
                    let mut v = Vec::with_capacity(len as usize);
                    let mut f = f;
                    f.read_to_end(&mut v)
                        .map_err(|e| SourceError::Read((&e).into()))?;
                    Ok(Data::Owned(v))
                }
            }
        }
    }
}
