//! Reading archives (gzip, zstd, zip, tar and their combinations) straight from memory, without
//! extracting anything to disk.
//!
//! [`read`] walks one archive and hands every regular-file member to a sink, in archive order.
//! Nothing is ever written: member paths are only *displayed*, so a hostile path cannot escape
//! anywhere. Display paths are still tidied so that reports stay readable and unambiguous:
//! empty and `.` components are dropped (so a leading `/` or `./` disappears), `..` components
//! are shown as `__`, and control characters as `?`. Non-UTF-8 names are shown lossily.
//!
//! Decompression is streamed: a `.tar.gz` / `.tar.zst` is iterated member by member over the
//! decoder, and only each delivered member is held in memory (at most
//! [`Limits::max_member_bytes`]). Zip needs random access, so a zip *nested* in a stream is
//! buffered (with the same bound) before it is opened; a top-level zip is read in place.
//!
//! Accounting: [`Limits::max_total_bytes`] bounds the bytes produced by every decompressor
//! (gzip, zstd and zip member decoding) over the whole call; an uncompressed tar costs nothing
//! against it. [`Limits::max_ratio`] is checked per stream (or zip member) once it has produced
//! more than 64 MiB. When a limit is hit the stream stops, one `Failed` problem names the limit,
//! and everything delivered before stays delivered; hitting the total limit or
//! [`Limits::max_members`] stops the whole call.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::io::{self, Cursor, Read};
use std::rc::Rc;

/// A stream's ratio is only checked once it has produced more than this many bytes.
const RATIO_CHECK_AFTER: u64 = 64 << 20;
/// Bytes peeked from the start of a stream to recognise what it holds (one tar header).
const PEEK: usize = 512;
/// Whatever `max_depth` says, archives are never opened deeper than this.
const DEPTH_CAP: u32 = 16;

/// Limits against decompression bombs. Defaults: max_total_bytes = 8 GiB, max_ratio = 200
/// (decompressed:compressed, checked once a stream has produced > 64 MiB), max_members = 200_000,
/// max_member_bytes = 2 GiB, max_depth = 2 (an archive nested one level inside another, e.g. a
/// .gz rotated log inside a .tar.gz). The top-level file counts as depth 1; `max_depth` is
/// clamped to 1..=16.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_total_bytes: u64,
    pub max_ratio: u64,
    pub max_members: u64,
    pub max_member_bytes: u64,
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 8 << 30,
            max_ratio: 200,
            max_members: 200_000,
            max_member_bytes: 2 << 30,
            max_depth: 2,
        }
    }
}

/// What the container is, from magic bytes (never the name): gzip 1f8b, zstd 28b52ffd, zip
/// PK\x03\x04 (and empty zip PK\x05\x06), tar (`ustar` at offset 257, or a valid v7 tar header
/// checksum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Zstd,
    Zip,
    Tar,
}

impl Container {
    fn label(self) -> &'static str {
        match self {
            Container::Gzip => "gzip",
            Container::Zstd => "zstd",
            Container::Zip => "zip",
            Container::Tar => "tar",
        }
    }
}

/// How many leading bytes [`detect`] looks at (512 are enough for every kind).
pub const SNIFF_BYTES: usize = 512;

/// Recognises a container from the first bytes of a file.
pub fn detect(head: &[u8]) -> Option<Container> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Container::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Container::Zstd)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Container::Zip)
    } else if head.get(257..262) == Some(b"ustar".as_slice()) || is_v7_tar_header(head) {
        Some(Container::Tar)
    } else {
        None
    }
}

/// A pre-POSIX tar header: a non-empty name and an octal checksum field (offset 148, 8 bytes)
/// equal to the byte sum of the header with that field counted as spaces (signed or unsigned,
/// as old tars differ).
fn is_v7_tar_header(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    if block[0] == 0 {
        return false;
    }
    let field = &block[148..156];
    let digits = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| (b'0'..=b'7').contains(&b));
    let mut stored: u64 = 0;
    let mut ndigits = 0;
    for &d in digits {
        stored = stored * 8 + u64::from(d - b'0');
        ndigits += 1;
    }
    let rest_ok = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .skip(ndigits)
        .all(|&b| b == 0 || b == b' ');
    if ndigits == 0 || !rest_ok {
        return false;
    }
    let outside = block[..148].iter().chain(&block[156..]);
    let unsigned: u64 = outside.clone().map(|&b| u64::from(b)).sum::<u64>() + 8 * 32;
    let signed: i64 = outside.map(|&b| i64::from(b as i8)).sum::<i64>() + 8 * 32;
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// One member as delivered to the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub path: String,
    pub data: Vec<u8>,
}

/// One member that could not be read or was skipped on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub status: ProblemStatus,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemStatus {
    Skipped,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Member(Member),
    Problem(Problem),
}

/// Reads `bytes` (the whole archive, typically an mmap) whose display path is `display` and calls
/// `sink` for every regular-file member, in archive order. Member paths are
/// `display + "!/" + inner`, e.g. `bundle.tar.gz!/tikv-1/log/tikv.log`; a nested archive gives
/// `bundle.tar.gz!/pd/pd.log.gz!/pd.log`. For a gzip/zstd stream that is not a tar, `inner` is
/// the gzip FNAME header if present, else the stream's own name without `.gz`/`.zst`/`.zstd`
/// (unchanged when there is no such suffix: a zstd `m.json` gives `m.json!/m.json`).
/// `.tar.gz`/`.tgz`/`.tar.zst` count as one level. Input that is none of the containers gives one
/// `Failed` problem for `display`. Returns total decompressed bytes delivered (the sum of the
/// delivered members' sizes). Never panics and never writes anything.
pub fn read(display: &str, bytes: &[u8], limits: &Limits, sink: &mut dyn FnMut(Entry)) -> u64 {
    read_inner(
        display,
        detect(bytes),
        Input::Bytes(bytes),
        limits,
        None,
        sink,
    )
}

/// Reads a member from a stream; returning an error (or the stream's own error) fails it.
pub type MemberReader<'a> = dyn FnMut(&str, &mut dyn Read) -> io::Result<()> + 'a;

/// Like [`read`], but plain members are handed to `on_member` as a stream instead of being
/// buffered: memory stays bounded by what `on_member` keeps, not by member size. Problems
/// (including a member whose stream failed while `on_member` read it) still go to `sink`,
/// under the member's path.
pub fn read_streaming(
    display: &str,
    container: Container,
    bytes: &[u8],
    limits: &Limits,
    on_member: &mut MemberReader<'_>,
    sink: &mut dyn FnMut(Entry),
) -> u64 {
    let input = Input::Bytes(bytes);
    read_inner(
        display,
        Some(container),
        input,
        limits,
        Some(on_member),
        sink,
    )
}

/// Like [`read_streaming`] for a gzip, zstd or tar archive read from a stream (a file): the
/// compressed bytes pass through once and are never held or mapped, so memory stays bounded
/// by the member being scanned. A zip needs random access: it is reported as a problem here,
/// callers map zips and use [`read_streaming`].
pub fn read_streaming_from(
    display: &str,
    container: Container,
    src: &mut dyn Read,
    limits: &Limits,
    on_member: &mut MemberReader<'_>,
    sink: &mut dyn FnMut(Entry),
) -> u64 {
    let input = Input::Reader(src);
    read_inner(
        display,
        Some(container),
        input,
        limits,
        Some(on_member),
        sink,
    )
}

/// Where an archive comes from.
enum Input<'a> {
    Bytes(&'a [u8]),
    Reader(&'a mut dyn Read),
}

/// `container` is what the caller's look at the first bytes found (`None`: not an archive).
fn read_inner(
    display: &str,
    container: Option<Container>,
    input: Input<'_>,
    limits: &Limits,
    stream: Option<&mut MemberReader<'_>>,
    sink: &mut dyn FnMut(Entry),
) -> u64 {
    let shared = Shared {
        max_total_bytes: limits.max_total_bytes,
        max_ratio: limits.max_ratio,
        produced: Cell::new(0),
        halted: Cell::new(false),
        fault: RefCell::new(None),
        next_layer: Cell::new(0),
    };
    let mut walker = Walker {
        sh: &shared,
        sink,
        stream,
        max_depth: limits.max_depth.clamp(1, DEPTH_CAP),
        max_members: limits.max_members,
        max_member_bytes: limits.max_member_bytes,
        members: 0,
        delivered: 0,
    };
    let not_archive = "not an archive: no gzip, zstd, zip or tar signature";
    // An `Err(Abort)` here only means the walk was cut short; its problem was already reported.
    let _ = match input {
        Input::Bytes(bytes) => match container {
            None => {
                walker.problem(display, ProblemStatus::Failed, not_archive.to_string());
                Ok(())
            }
            Some(Container::Zip) => walker.open_zip(display, bytes, 1),
            Some(Container::Tar) => walker.open_tar(display, &mut Cursor::new(bytes), 1),
            Some(codec) => walker.open_stream(display, &mut Cursor::new(bytes), codec, 1),
        },
        Input::Reader(src) => match peek(src) {
            Err(e) => {
                let reason = format!("read error: {}", clean(&e.to_string()));
                walker.problem(display, ProblemStatus::Failed, reason);
                Ok(())
            }
            Ok(head) => {
                let mut joined = Cursor::new(head).chain(src);
                match container {
                    None => {
                        walker.problem(display, ProblemStatus::Failed, not_archive.to_string());
                        Ok(())
                    }
                    Some(Container::Zip) => {
                        let reason = "zip archives are read mapped, not streamed".to_string();
                        walker.problem(display, ProblemStatus::Failed, reason);
                        Ok(())
                    }
                    Some(Container::Tar) => walker.open_tar(display, &mut joined, 1),
                    Some(codec) => walker.open_stream(display, &mut joined, codec, 1),
                }
            }
        },
    };
    // Safety net: a failure that no layer claimed is still reported, never lost.
    let stray = shared.fault.borrow_mut().take();
    if let Some(f) = stray.filter(|_| !shared.halted.get()) {
        walker.problem(display, ProblemStatus::Failed, f.reason);
    }
    walker.delivered
}

/// Fills up to [`PEEK`] bytes from the start of `src`.
fn peek(src: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; PEEK];
    let mut filled = 0;
    while filled < PEEK {
        match src.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(filled);
    Ok(head)
}

/// The name shown for the single file inside a gzip/zstd stream at `path`: the gzip FNAME
/// (last component) if present, else the stream's own name without its compression suffix
/// (`.tgz`/`.tzst` become `.tar`), unchanged if it has none.
fn inner_name(path: &str, codec: Container, fname: Option<Vec<u8>>) -> String {
    if let Some(raw) = fname {
        let base = raw
            .rsplit(|&b| b == b'/' || b == b'\\')
            .next()
            .unwrap_or(&raw);
        let shown = display_name(base);
        if !base.is_empty() && shown != "_" {
            return shown;
        }
    }
    let own = path.rsplit('/').next().unwrap_or(path);
    let lower = own.to_ascii_lowercase();
    let (strip, replace): (&[&str], &[(&str, &str)]) = match codec {
        Container::Gzip => (&[".gz"], &[(".tgz", ".tar")]),
        _ => (&[".zst", ".zstd"], &[(".tzst", ".tar")]),
    };
    for suffix in strip {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return own[..own.len() - suffix.len()].to_string();
        }
    }
    for (suffix, with) in replace {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return format!("{}{with}", &own[..own.len() - suffix.len()]);
        }
    }
    own.to_string()
}

/// A member name as displayed (never used to touch the file system): lossy UTF-8, empty and
/// `.` components dropped (so leading `/` and `./` go), `..` shown as `__`, control characters
/// as `?`. An name with nothing left is shown as `_`.
fn display_name(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let parts: Vec<Cow<'_, str>> = text
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(|c| {
            if c == ".." {
                Cow::Borrowed("__")
            } else if c.chars().any(char::is_control) {
                Cow::Owned(
                    c.chars()
                        .map(|ch| if ch.is_control() { '?' } else { ch })
                        .collect(),
                )
            } else {
                Cow::Borrowed(c)
            }
        })
        .collect();
    if parts.is_empty() {
        "_".to_string()
    } else {
        parts.join("/")
    }
}

mod guard;
mod walker;

use guard::*;
use walker::*;

#[cfg(test)]
mod tests;
