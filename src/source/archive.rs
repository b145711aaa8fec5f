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

/// Recognises a container from the first bytes of a file (512 are enough for every kind).
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

/// Unwinding marker: the current walk must stop; the reason is in [`Shared::fault`] (to be
/// reported by the layer that owns it) or the whole call was halted.
struct Abort;
type Step = Result<(), Abort>;

/// A failure recorded by the reader where it happened, reported by the layer that owns it.
struct Fault {
    layer: u32,
    reason: String,
    /// A bomb limit (as opposed to damaged data).
    limit: bool,
}

/// State shared by the walker and every guarded reader it creates.
struct Shared {
    max_total_bytes: u64,
    max_ratio: u64,
    /// Bytes produced by all decompressors so far.
    produced: Cell<u64>,
    /// The total or member-count limit was hit: everything stops.
    halted: Cell<bool>,
    fault: RefCell<Option<Fault>>,
    next_layer: Cell<u32>,
}

impl Shared {
    fn new_layer(&self) -> u32 {
        let id = self.next_layer.get().wrapping_add(1);
        self.next_layer.set(id);
        id
    }

    /// Records a fault unless an earlier (outer or inner) one is already pending: the first
    /// reader to see a failure is the one where it happened.
    fn fault(&self, layer: u32, reason: String, limit: bool) {
        let mut slot = self.fault.borrow_mut();
        if slot.is_none() {
            *slot = Some(Fault {
                layer,
                reason,
                limit,
            });
        }
    }

    /// The pending fault if it belongs to `layer` or to a layer opened after it (inside it:
    /// one whose own reader swallowed the error instead of reporting it).
    fn take_fault(&self, layer: u32) -> Option<Fault> {
        let mut slot = self.fault.borrow_mut();
        if slot.as_ref().is_some_and(|f| f.layer >= layer) {
            slot.take()
        } else {
            None
        }
    }
}

/// Counts the compressed bytes a decoder pulls from its input.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

/// What a member's header says about its size.
#[derive(Clone, Copy)]
enum Size {
    Unknown,
    /// From a zip directory: used to size the buffer only (it may lie).
    Hint(u64),
    /// From a tar header: fewer bytes than this means the archive is truncated.
    Exact(u64),
}

enum CompressedIn {
    Counted(Rc<Cell<u64>>),
    Fixed(u64),
}

/// Wraps a decompressor's output: enforces the limits and records where failures happen.
struct Guard<'s, R> {
    inner: R,
    sh: &'s Shared,
    layer: u32,
    codec: &'static str,
    compressed: CompressedIn,
    out: u64,
    dead: bool,
}

impl<'s, R: Read> Guard<'s, R> {
    fn new(inner: R, sh: &'s Shared, codec: &'static str, compressed: CompressedIn) -> Self {
        Guard {
            inner,
            sh,
            layer: sh.new_layer(),
            codec,
            compressed,
            out: 0,
            dead: false,
        }
    }

    fn stop(&mut self, reason: String) -> io::Error {
        self.dead = true;
        self.sh.fault(self.layer, reason, true);
        io::Error::other("decompression stopped by a limit")
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.dead || self.sh.halted.get() {
            return Err(io::Error::other("reading stopped"));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.out = self.out.saturating_add(n as u64);
                let total = self.sh.produced.get().saturating_add(n as u64);
                self.sh.produced.set(total);
                if total > self.sh.max_total_bytes {
                    self.sh.halted.set(true);
                    return Err(self.stop(format!(
                        "decompression stopped: more than {} decompressed in total (possible \
                         decompression bomb); raise --max-bytes to read it",
                        human(self.sh.max_total_bytes)
                    )));
                }
                let compressed = match &self.compressed {
                    CompressedIn::Counted(c) => c.get(),
                    CompressedIn::Fixed(n) => *n,
                };
                if self.out > RATIO_CHECK_AFTER
                    && self.out > compressed.saturating_mul(self.sh.max_ratio)
                {
                    return Err(self.stop(format!(
                        "decompression stopped: more than {}x the compressed size (possible \
                         decompression bomb); raise --max-ratio to read it",
                        self.sh.max_ratio
                    )));
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.dead = true;
                let reason = describe(self.codec, &e, self.out);
                self.sh.fault(self.layer, reason, false);
                Err(e)
            }
        }
    }
}

/// A person-readable account of a decoder error.
fn describe(codec: &str, e: &io::Error, out: u64) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            format!("{codec}: unexpected end of stream after {}", human(out))
        }
        _ => format!(
            "{codec}: corrupt data after {}: {}",
            human(out),
            clean(&e.to_string())
        ),
    }
}

/// `1234567` → `1.2 MiB`.
fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

enum Decoder<R: Read> {
    Gzip(Box<flate2::read::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, io::BufReader<R>>),
}

impl<R: Read> Decoder<R> {
    /// The gzip FNAME header (known once the first byte was read).
    fn fname(&self) -> Option<Vec<u8>> {
        match self {
            Decoder::Gzip(d) => d.header().and_then(|h| h.filename()).map(<[u8]>::to_vec),
            Decoder::Zstd(_) => None,
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

/// Where a tar walk had got to, for the problem that reports its damage.
#[derive(Default)]
struct TarProgress {
    current: Option<String>,
    last: Option<String>,
}

impl TarProgress {
    fn context(&self) -> String {
        match (&self.current, &self.last) {
            (Some(cur), _) => {
                format!("; member `{cur}` and everything after it in the archive were not read")
            }
            (None, Some(last)) => {
                format!("; everything after member `{last}` in the archive was not read")
            }
            (None, None) => "; nothing in the archive could be read".to_string(),
        }
    }
}

struct Walker<'s, 'k, 'm> {
    sh: &'s Shared,
    sink: &'k mut dyn FnMut(Entry),
    /// Set by [`read_streaming`]: plain members are streamed to it, not buffered.
    stream: Option<&'k mut MemberReader<'m>>,
    max_depth: u32,
    max_members: u64,
    max_member_bytes: u64,
    members: u64,
    delivered: u64,
}

impl Walker<'_, '_, '_> {
    fn problem(&mut self, path: &str, status: ProblemStatus, reason: String) {
        (self.sink)(Entry::Problem(Problem {
            path: path.to_string(),
            status,
            reason,
        }));
    }

    fn member(&mut self, path: &str, data: Vec<u8>) {
        self.delivered = self.delivered.saturating_add(data.len() as u64);
        (self.sink)(Entry::Member(Member {
            path: path.to_string(),
            data,
        }));
    }

    /// Counts one archive entry; past the limit, reports it once and halts everything.
    fn count_member(&mut self, archive: &str) -> Step {
        self.members += 1;
        if self.members > self.max_members {
            self.sh.halted.set(true);
            let reason = format!(
                "more than {} archive members; the rest was not read",
                self.max_members
            );
            self.problem(archive, ProblemStatus::Failed, reason);
            return Err(Abort);
        }
        Ok(())
    }

    /// A read error from a source that has no guard of its own: blame `owner` unless a reader
    /// closer to the failure already recorded it.
    fn blame(&self, owner: u32, what: &str, e: &io::Error) -> Abort {
        self.sh
            .fault(owner, format!("{what}: {}", clean(&e.to_string())), false);
        Abort
    }

    /// After `Err(Abort)` from the body of `layer`: reports the layer's own fault (if it is the
    /// one pending) at `path`, and says whether the walk above must unwind as well.
    fn settle(&mut self, layer: u32, path: &str, context: impl FnOnce(&Fault) -> String) -> Step {
        if let Some(f) = self.sh.take_fault(layer) {
            let reason = format!("{}{}", f.reason, context(&f));
            self.problem(path, ProblemStatus::Failed, reason);
        } else if self.sh.fault.borrow().is_none() && !self.sh.halted.get() {
            return Ok(());
        } else {
            return Err(Abort);
        }
        if self.sh.halted.get() {
            Err(Abort)
        } else {
            Ok(())
        }
    }

    /// One gzip or zstd stream read from `src`: either a tar (iterated as one level with the
    /// stream) or a single file named `path!/inner`.
    fn open_stream(
        &mut self,
        path: &str,
        src: &mut dyn Read,
        codec: Container,
        depth: u32,
    ) -> Step {
        let count = Rc::new(Cell::new(0));
        let input = Counting {
            inner: src,
            count: Rc::clone(&count),
        };
        let decoder = match codec {
            Container::Zstd => match zstd::stream::read::Decoder::new(input) {
                Ok(d) => Decoder::Zstd(d),
                Err(e) => {
                    let reason =
                        format!("zstd: cannot start the decoder: {}", clean(&e.to_string()));
                    self.problem(path, ProblemStatus::Failed, reason);
                    return Ok(());
                }
            },
            _ => Decoder::Gzip(Box::new(flate2::read::MultiGzDecoder::new(input))),
        };
        let mut guard = Guard::new(
            decoder,
            self.sh,
            codec.label(),
            CompressedIn::Counted(count),
        );
        let layer = guard.layer;

        let head = match peek(&mut guard) {
            Ok(h) => h,
            Err(e) => {
                let _ = self.blame(layer, codec.label(), &e);
                let inner = inner_name(path, codec, guard.inner.fname());
                let inner_path = format!("{path}!/{inner}");
                return self.settle(layer, &inner_path, |f| {
                    if f.limit {
                        String::new()
                    } else {
                        "; nothing was analysed".to_string()
                    }
                });
            }
        };
        if detect(&head) == Some(Container::Tar) {
            let mut progress = TarProgress::default();
            let result = {
                let mut joined = Cursor::new(head).chain(&mut guard);
                self.tar_loop(path, &mut joined, depth, layer, &mut progress)
            };
            if result.is_err() {
                return self.settle(layer, path, |_| progress.context());
            }
            // The tar ended: read the stream to its end so that its checksum and length are
            // verified (only end-of-archive padding is expected there).
            if let Err(e) = io::copy(&mut guard, &mut io::sink()) {
                let _ = self.blame(layer, codec.label(), &e);
                return self.settle(layer, path, |f| {
                    if f.limit {
                        String::new()
                    } else {
                        "; found after the end of the tar archive (the members above were read \
                         but may be damaged)"
                            .to_string()
                    }
                });
            }
            return Ok(());
        }
        let inner = inner_name(path, codec, guard.inner.fname());
        let inner_path = format!("{path}!/{inner}");
        let result = {
            let mut joined = Cursor::new(head).chain(&mut guard);
            self.content(&inner_path, &mut joined, Size::Unknown, depth, layer)
        };
        let produced = guard.out;
        match result {
            Ok(()) => Ok(()),
            Err(Abort) => self.settle(layer, &inner_path, |f| {
                if f.limit {
                    String::new()
                } else {
                    format!("; the {produced} bytes read before were not analysed")
                }
            }),
        }
    }

    /// An uncompressed tar read from `src` (top level or nested).
    fn open_tar(&mut self, path: &str, src: &mut dyn Read, depth: u32) -> Step {
        let layer = self.sh.new_layer();
        let mut progress = TarProgress::default();
        match self.tar_loop(path, src, depth, layer, &mut progress) {
            Ok(()) => Ok(()),
            Err(Abort) => self.settle(layer, path, |_| progress.context()),
        }
    }

    /// Iterates a tar stream; failures of the stream itself are recorded against `layer`.
    fn tar_loop(
        &mut self,
        prefix: &str,
        src: &mut dyn Read,
        depth: u32,
        layer: u32,
        progress: &mut TarProgress,
    ) -> Step {
        let mut archive = tar::Archive::new(src);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return Err(self.blame(layer, "tar", &e)),
        };
        for item in entries {
            if self.sh.halted.get() {
                return Err(Abort);
            }
            let mut entry = match item {
                Ok(e) => e,
                Err(e) => {
                    self.sh.fault(layer, tar_reason(&e), false);
                    return Err(Abort);
                }
            };
            self.count_member(prefix)?;
            let raw = entry.path_bytes().into_owned();
            let name = display_name(&raw);
            let path = format!("{prefix}!/{name}");
            let kind = entry.header().entry_type();
            let skip = if kind.is_dir() || kind.is_pax_global_extensions() {
                continue;
            } else if kind.is_file() || kind.is_contiguous() {
                if raw.ends_with(b"/") && entry.size() == 0 {
                    // A directory in a pre-POSIX tar.
                    continue;
                }
                None
            } else if kind.is_gnu_sparse() {
                None
            } else if kind.is_symlink() {
                Some("symlink member (not followed)".to_string())
            } else if kind.is_hard_link() {
                Some("hardlink member (not followed)".to_string())
            } else if kind.is_character_special() || kind.is_block_special() {
                Some("device member (not read)".to_string())
            } else if kind.is_fifo() {
                Some("fifo member (not read)".to_string())
            } else {
                Some(format!(
                    "tar entry of type {:?} (not a regular file, not read)",
                    char::from(kind.as_byte())
                ))
            };
            if let Some(reason) = skip {
                self.problem(&path, ProblemStatus::Skipped, reason);
                continue;
            }
            // The header size is exact for plain members (a GNU sparse member expands).
            let size = if kind.is_gnu_sparse() {
                Size::Unknown
            } else {
                Size::Exact(entry.size())
            };
            progress.current = Some(name.clone());
            self.content(&path, &mut entry, size, depth, layer)?;
            progress.current = None;
            progress.last = Some(name);
        }
        Ok(())
    }

    /// A zip held in memory: members in central-directory order, each decoded independently.
    fn open_zip(&mut self, path: &str, bytes: &[u8], depth: u32) -> Step {
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                self.problem(path, ProblemStatus::Failed, zip_open_reason(&e));
                return Ok(());
            }
        };
        for index in 0..archive.len() {
            if self.sh.halted.get() {
                return Err(Abort);
            }
            self.count_member(path)?;
            let (name, skip, compressed_size, size) = match archive.by_index_data(index) {
                Ok(meta) => {
                    let raw = meta.name_raw();
                    let name = display_name(raw);
                    let mode = meta.unix_mode().unwrap_or(0) & 0o170_000;
                    if meta.is_dir() || mode == 0o040_000 {
                        continue;
                    }
                    let method = meta.compression();
                    let skip = if mode == 0o120_000 {
                        Some((
                            ProblemStatus::Skipped,
                            "symlink member (not followed)".into(),
                        ))
                    } else if mode == 0o020_000 || mode == 0o060_000 {
                        Some((ProblemStatus::Skipped, "device member (not read)".into()))
                    } else if mode == 0o010_000 {
                        Some((ProblemStatus::Skipped, "fifo member (not read)".into()))
                    } else if mode == 0o140_000 {
                        Some((ProblemStatus::Skipped, "socket member (not read)".into()))
                    } else if meta.encrypted() {
                        Some((
                            ProblemStatus::Skipped,
                            "encrypted zip member (not read)".into(),
                        ))
                    } else if !zip_method_supported(method) {
                        let reason = format!("zip: compression method {method} not supported");
                        Some((ProblemStatus::Failed, reason))
                    } else {
                        None
                    };
                    (name, skip, meta.compressed_size(), meta.size())
                }
                Err(e) => {
                    let name = format!("(member {index})");
                    (
                        name,
                        Some((ProblemStatus::Failed, zip_member_reason(&e))),
                        0,
                        0,
                    )
                }
            };
            let member_path = format!("{path}!/{name}");
            if let Some((status, reason)) = skip {
                self.problem(&member_path, status, reason);
                continue;
            }
            let mut file = match archive.by_index(index) {
                Ok(f) => f,
                Err(e) => {
                    self.problem(&member_path, ProblemStatus::Failed, zip_member_reason(&e));
                    continue;
                }
            };
            let compressed = compressed_size.min(bytes.len() as u64);
            let mut guard = Guard::new(&mut file, self.sh, "zip", CompressedIn::Fixed(compressed));
            let layer = guard.layer;
            let result = self.content(&member_path, &mut guard, Size::Hint(size), depth, layer);
            if result.is_err() {
                self.settle(layer, &member_path, |_| String::new())?;
            }
        }
        Ok(())
    }

    /// The content of one member (or of a single-file stream), read from `src`, whose failures
    /// are blamed on `owner` unless a reader closer to them recorded them. Nested containers are
    /// opened while `depth < max_depth`; anything else is buffered and delivered.
    fn content(
        &mut self,
        path: &str,
        src: &mut dyn Read,
        size: Size,
        depth: u32,
        owner: u32,
    ) -> Step {
        let head = peek(src).map_err(|e| self.blame(owner, "read error", &e))?;
        let kind = detect(&head);
        let mut joined = Cursor::new(head).chain(src);
        match kind {
            Some(c) if depth >= self.max_depth => {
                let reason = format!(
                    "nested archive deeper than {} levels, not opened ({} data)",
                    self.max_depth,
                    c.label()
                );
                self.problem(path, ProblemStatus::Skipped, reason);
                Ok(())
            }
            Some(c @ (Container::Gzip | Container::Zstd)) => {
                self.open_stream(path, &mut joined, c, depth + 1)
            }
            Some(Container::Tar) => self.open_tar(path, &mut joined, depth + 1),
            Some(Container::Zip) => match self.buffer(path, &mut joined, size, owner)? {
                Some(data) => self.open_zip(path, &data, depth + 1),
                None => Ok(()),
            },
            None if self.stream.is_some() => {
                let count = Rc::new(Cell::new(0));
                let mut counted = Counting {
                    inner: &mut joined,
                    count: Rc::clone(&count),
                };
                let result = match self.stream.as_mut() {
                    Some(f) => f(path, &mut counted),
                    None => Ok(()),
                };
                if let Err(e) = result {
                    return Err(self.blame(owner, "read error", &e));
                }
                let got = count.get();
                self.delivered = self.delivered.saturating_add(got);
                if let Size::Exact(n) = size
                    && got < n
                {
                    let reason = format!(
                        "tar: archive ends inside a member ({got} of its {n} bytes present, truncated)"
                    );
                    self.sh.fault(owner, reason, false);
                    return Err(Abort);
                }
                Ok(())
            }
            None => {
                if let Some(data) = self.buffer(path, &mut joined, size, owner)? {
                    self.member(path, data);
                }
                Ok(())
            }
        }
    }

    /// Reads a whole member, bounded by `max_member_bytes` (a larger one is reported and
    /// `None` returned).
    fn buffer(
        &mut self,
        path: &str,
        src: &mut dyn Read,
        size: Size,
        owner: u32,
    ) -> Result<Option<Vec<u8>>, Abort> {
        let cap = self.max_member_bytes;
        let too_large = format!("member larger than {cap} bytes, not read");
        let (hint, exact) = match size {
            Size::Unknown => (0, None),
            Size::Hint(n) => (n, None),
            Size::Exact(n) => (n, Some(n)),
        };
        if exact.is_some_and(|n| n > cap) {
            self.problem(path, ProblemStatus::Failed, too_large);
            return Ok(None);
        }
        let mut data = Vec::new();
        // A header may lie: reserving is only an optimisation, so a refusal is ignored.
        let _ = data.try_reserve_exact(usize::try_from(hint.min(cap)).unwrap_or(0));
        if let Err(e) = src.take(cap.saturating_add(1)).read_to_end(&mut data) {
            return Err(self.blame(owner, "read error", &e));
        }
        if data.len() as u64 > cap {
            self.problem(path, ProblemStatus::Failed, too_large);
            return Ok(None);
        }
        if let Some(n) = exact
            && (data.len() as u64) < n
        {
            let reason = format!(
                "tar: archive ends inside a member ({} of its {n} bytes present, truncated)",
                data.len()
            );
            self.sh.fault(owner, reason, false);
            return Err(Abort);
        }
        Ok(Some(data))
    }
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

fn tar_reason(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("checksum mismatch") {
        "tar: corrupt member header (checksum mismatch)".to_string()
    } else if text.contains("numeric field") || text.contains("when getting") {
        "tar: corrupt member header (invalid number field)".to_string()
    } else if text.contains("entire block")
        || text.contains("unexpected EOF")
        || e.kind() == io::ErrorKind::UnexpectedEof
    {
        "tar: unexpected end of archive (truncated)".to_string()
    } else {
        format!("tar: corrupt archive ({})", clean(&text))
    }
}

/// Third-party error text made fit for a report line: no control characters, bounded length.
fn clean(text: &str) -> String {
    const MAX: usize = 160;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push_str("...");
    }
    out
}

/// Zip methods decoded by the `zip` crate with its default features (which the crate uses).
fn zip_method_supported(method: zip::CompressionMethod) -> bool {
    use zip::CompressionMethod as M;
    matches!(
        method,
        M::Stored | M::Deflated | M::Deflate64 | M::Bzip2 | M::Zstd | M::Lzma | M::Xz | M::Ppmd
    )
}

fn zip_open_reason(e: &zip::result::ZipError) -> String {
    use zip::result::ZipError;
    match e {
        ZipError::InvalidArchive(msg) => {
            let lower = msg.to_ascii_lowercase();
            if lower.contains("end of central directory") || lower.contains("eocd") {
                "zip: central directory not found (truncated or not a zip)".to_string()
            } else if lower.contains("unexpected end") || lower.contains("truncated") {
                "zip: central directory truncated or corrupt".to_string()
            } else {
                format!("zip: corrupt central directory ({})", clean(msg))
            }
        }
        ZipError::UnsupportedArchive(msg) => format!("zip: unsupported archive ({})", clean(msg)),
        ZipError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "zip: central directory truncated or corrupt".to_string()
        }
        other => format!(
            "zip: cannot read the central directory ({})",
            clean(&other.to_string())
        ),
    }
}

fn zip_member_reason(e: &zip::result::ZipError) -> String {
    use zip::result::ZipError;
    match e {
        ZipError::CompressionMethodNotSupported(m) => {
            format!("zip: compression method {m} not supported")
        }
        ZipError::UnsupportedArchive(msg) => format!("zip: unsupported member ({})", clean(msg)),
        ZipError::InvalidArchive(msg) if msg.to_ascii_lowercase().contains("unexpected end") => {
            "zip: member header truncated".to_string()
        }
        ZipError::InvalidArchive(msg) => format!("zip: corrupt member header ({})", clean(msg)),
        ZipError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "zip: member data truncated (archive cut short)".to_string()
        }
        other => format!("zip: cannot read member ({})", clean(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // ---- builders -------------------------------------------------------------------------

    enum Kind {
        File(Vec<u8>),
        Dir,
        Symlink(&'static str),
        Hardlink(&'static str),
        Fifo,
    }

    /// A tar built header by header, so that hostile names (`..`, absolute, non-UTF-8) can be
    /// written as they are.
    fn tar_of(members: &[(&[u8], Kind)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind) in members {
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_mode(0o644);
            h.set_mtime(1_720_000_000);
            let data: &[u8] = match kind {
                Kind::File(d) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    d
                }
                Kind::Dir => {
                    h.set_entry_type(tar::EntryType::Directory);
                    &[]
                }
                Kind::Symlink(t) | Kind::Hardlink(t) => {
                    let ty = if matches!(kind, Kind::Symlink(_)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    };
                    h.set_entry_type(ty);
                    h.set_link_name(t).unwrap();
                    &[]
                }
                Kind::Fifo => {
                    h.set_entry_type(tar::EntryType::Fifo);
                    &[]
                }
            };
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn files(members: &[(&str, Vec<u8>)]) -> Vec<(&'static [u8], Kind)> {
        members
            .iter()
            .map(|(n, d)| {
                let name: &'static [u8] = Box::leak(n.as_bytes().to_vec().into_boxed_slice());
                (name, Kind::File(d.clone()))
            })
            .collect()
    }

    fn gz(data: &[u8], fname: Option<&str>) -> Vec<u8> {
        let mut b = flate2::GzBuilder::new();
        if let Some(f) = fname {
            b = b.filename(f);
        }
        let mut e = b.write(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zst(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 3).unwrap()
    }

    fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Text that compresses like a log (so that cuts land inside members).
    fn log_text(seed: u64, lines: usize) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        for i in 0..lines {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let line = format!(
                "[2024/07/09 16:25:{:02}.{:03} +08:00] [INFO] [raft.rs:{}] [region_id={}] [x={x:x}]\n",
                i % 60,
                i % 1000,
                x % 3000,
                x % 100_000
            );
            out.extend_from_slice(line.as_bytes());
        }
        out
    }

    fn run(display: &str, bytes: &[u8], limits: &Limits) -> (Vec<Entry>, u64) {
        let mut entries = Vec::new();
        let total = read(display, bytes, limits, &mut |e| entries.push(e));
        (entries, total)
    }

    fn members(entries: &[Entry]) -> Vec<(String, Vec<u8>)> {
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::Member(m) => Some((m.path.clone(), m.data.clone())),
                Entry::Problem(_) => None,
            })
            .collect()
    }

    fn problems(entries: &[Entry]) -> Vec<Problem> {
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::Problem(p) => Some(p.clone()),
                Entry::Member(_) => None,
            })
            .collect()
    }

    /// The three members of a small bundle: a log, a rotated gzip log, a JSON file.
    fn bundle_members() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("tikv-1/log/tikv.log", log_text(1, 50)),
            ("pd/pd.log.gz", gz(&log_text(2, 50), Some("pd.log"))),
            ("cluster.json", br#"{"cluster_name":"t"}"#.to_vec()),
        ]
    }

    fn strip_prefix(list: Vec<(String, Vec<u8>)>, prefix: &str) -> Vec<(String, Vec<u8>)> {
        list.into_iter()
            .map(|(p, d)| (p.strip_prefix(prefix).unwrap_or(&p).to_string(), d))
            .collect()
    }

    // ---- detection ------------------------------------------------------------------------

    #[test]
    fn detect_by_magic() {
        assert_eq!(detect(&gz(b"x", None)), Some(Container::Gzip));
        assert_eq!(detect(&zst(b"x")), Some(Container::Zstd));
        assert_eq!(
            detect(&zip_of(&[("a", b"x".to_vec())])),
            Some(Container::Zip)
        );
        assert_eq!(detect(&zip_of(&[])), Some(Container::Zip));
        assert_eq!(
            detect(&tar_of(&files(&[("a", b"x".to_vec())]))),
            Some(Container::Tar)
        );
        assert_eq!(detect(b"plain text log line\n"), None);
        assert_eq!(detect(&[]), None);
        assert_eq!(detect(&[0u8; 1024]), None);
        // A pre-POSIX header: no `ustar` magic, only the checksum.
        let mut v7 = [0u8; 512];
        v7[..5].copy_from_slice(b"a.log");
        v7[100..108].copy_from_slice(b"0000644\0");
        v7[124..136].copy_from_slice(b"00000000003\0");
        let sum: u32 = v7.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        v7[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(detect(&v7), Some(Container::Tar));
        v7[0] = b'b';
        assert_eq!(detect(&v7), None);
    }

    // ---- layouts --------------------------------------------------------------------------

    #[test]
    fn tar_gz_with_nested_rotated_gz() {
        let mut list = files(&bundle_members());
        list.insert(0, (b"tikv-1/", Kind::Dir));
        let tgz = gz(&tar_of(&list), None);
        let (entries, total) = run("bundle.tar.gz", &tgz, &Limits::default());
        let got = members(&entries);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bundle.tar.gz!/tikv-1/log/tikv.log",
                "bundle.tar.gz!/pd/pd.log.gz!/pd.log",
                "bundle.tar.gz!/cluster.json",
            ]
        );
        assert_eq!(got[0].1, log_text(1, 50));
        assert_eq!(got[1].1, log_text(2, 50));
        assert!(problems(&entries).is_empty());
        assert_eq!(total, got.iter().map(|(_, d)| d.len() as u64).sum::<u64>());
    }

    #[test]
    fn zip_gives_same_members_as_tar_gz() {
        let tgz = gz(&tar_of(&files(&bundle_members())), None);
        let zip = zip_of(&bundle_members());
        let (a, ta) = run("b.tar.gz", &tgz, &Limits::default());
        let (b, tb) = run("b.zip", &zip, &Limits::default());
        assert_eq!(
            strip_prefix(members(&a), "b.tar.gz!/"),
            strip_prefix(members(&b), "b.zip!/")
        );
        assert_eq!(members(&b).len(), 3);
        assert_eq!(ta, tb);
        assert!(problems(&b).is_empty());
    }

    #[test]
    fn plain_tar_and_tar_zst() {
        let tar = tar_of(&files(&bundle_members()));
        let (plain, _) = run("b.tar", &tar, &Limits::default());
        let (zstd, _) = run("b.tar.zst", &zst(&tar), &Limits::default());
        assert_eq!(members(&plain).len(), 3);
        assert_eq!(
            strip_prefix(members(&plain), "b.tar!/"),
            strip_prefix(members(&zstd), "b.tar.zst!/")
        );
    }

    #[test]
    fn single_gz_and_zst() {
        let text = log_text(3, 20);
        let (e, total) = run("logs/pd.log.gz", &gz(&text, None), &Limits::default());
        assert_eq!(
            members(&e),
            [("logs/pd.log.gz!/pd.log".to_string(), text.clone())]
        );
        assert_eq!(total, text.len() as u64);
        // The FNAME header wins over the outer name.
        let (e, _) = run("x.gz", &gz(&text, Some("pd-2024.log")), &Limits::default());
        assert_eq!(members(&e)[0].0, "x.gz!/pd-2024.log");
        let (e, _) = run("tikv.log.zst", &zst(&text), &Limits::default());
        assert_eq!(
            members(&e),
            [("tikv.log.zst!/tikv.log".to_string(), text.clone())]
        );
        let (e, _) = run("tikv.log.ZSTD", &zst(&text), &Limits::default());
        assert_eq!(members(&e)[0].0, "tikv.log.ZSTD!/tikv.log");
    }

    #[test]
    fn json_that_is_zstd() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        let (e, _) = run("m.json", &zst(body), &Limits::default());
        assert_eq!(members(&e), [("m.json!/m.json".to_string(), body.to_vec())]);
        // Inside a bundle, the same dump is opened one level down.
        let tgz = gz(
            &tar_of(&files(&[("monitor/metrics/m.json", zst(body))])),
            None,
        );
        let (e, _) = run("diag.tar.gz", &tgz, &Limits::default());
        assert_eq!(
            members(&e),
            [(
                "diag.tar.gz!/monitor/metrics/m.json!/m.json".to_string(),
                body.to_vec()
            )]
        );
    }

    #[test]
    fn archives_nested_in_other_kinds() {
        let inner_tar = tar_of(&files(&[("a.log", b"A".to_vec())]));
        let inner_zip = zip_of(&[("b.log", b"B".to_vec())]);
        let outer = zip_of(&[("in.tar", inner_tar), ("in.zip", inner_zip.clone())]);
        let (e, _) = run("o.zip", &outer, &Limits::default());
        assert_eq!(
            members(&e),
            [
                ("o.zip!/in.tar!/a.log".to_string(), b"A".to_vec()),
                ("o.zip!/in.zip!/b.log".to_string(), b"B".to_vec()),
            ]
        );
        let tgz = gz(&tar_of(&files(&[("x/in.zip", inner_zip)])), None);
        let (e, _) = run("o.tgz", &tgz, &Limits::default());
        assert_eq!(
            members(&e),
            [("o.tgz!/x/in.zip!/b.log".to_string(), b"B".to_vec())]
        );
    }

    // ---- damage ---------------------------------------------------------------------------

    #[test]
    fn truncated_tar_gz_keeps_members_before_the_cut() {
        let parts: Vec<(&str, Vec<u8>)> = vec![
            ("a.log", log_text(10, 4000)),
            ("b.log", log_text(11, 4000)),
            ("c.log", log_text(12, 4000)),
            ("d.log", log_text(13, 4000)),
        ];
        let tgz = gz(&tar_of(&files(&parts)), None);
        let (e, _) = run("cut.tar.gz", &tgz[..tgz.len() / 2], &Limits::default());
        let got = members(&e);
        assert!(!got.is_empty() && got.len() < 4, "{got:?}");
        for (i, (path, data)) in got.iter().enumerate() {
            assert_eq!(path, &format!("cut.tar.gz!/{}", parts[i].0));
            assert_eq!(data, &parts[i].1);
        }
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "cut.tar.gz");
        assert_eq!(p[0].status, ProblemStatus::Failed);
        assert!(
            p[0].reason
                .starts_with("gzip: unexpected end of stream after "),
            "{}",
            p[0].reason
        );
        assert!(p[0].reason.contains(parts[got.len()].0), "{}", p[0].reason);
    }

    #[test]
    fn tar_gz_checksum_is_verified_after_the_tar_ends() {
        let mut tgz = gz(&tar_of(&files(&bundle_members())), None);
        let crc_at = tgz.len() - 8;
        tgz[crc_at] ^= 0xff;
        let (e, _) = run("b.tar.gz", &tgz, &Limits::default());
        assert_eq!(members(&e).len(), 3);
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "b.tar.gz");
        assert!(p[0].reason.contains("checksum"), "{}", p[0].reason);
        assert!(p[0].reason.contains("may be damaged"), "{}", p[0].reason);
    }

    #[test]
    fn truncated_single_gz_fails_the_member() {
        let text = log_text(20, 5000);
        let g = gz(&text, None);
        let (e, total) = run("pd.log.gz", &g[..g.len() / 2], &Limits::default());
        assert_eq!(total, 0);
        assert!(members(&e).is_empty());
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "pd.log.gz!/pd.log");
        assert_eq!(p[0].status, ProblemStatus::Failed);
        assert!(
            p[0].reason
                .starts_with("gzip: unexpected end of stream after ")
        );
        assert!(p[0].reason.contains("were not analysed"), "{}", p[0].reason);
        // Cut inside the header: still one problem, never a panic.
        let (e, _) = run("pd.log.gz", &g[..5], &Limits::default());
        assert_eq!(problems(&e).len(), 1);
        let (e, _) = run("m.zst", &zst(&text)[..40], &Limits::default());
        assert_eq!(problems(&e)[0].path, "m.zst!/m");
        assert!(problems(&e)[0].reason.starts_with("zstd: "));
    }

    #[test]
    fn truncated_plain_tar() {
        let parts: Vec<(&str, Vec<u8>)> =
            vec![("a.log", log_text(30, 100)), ("b.log", log_text(31, 100))];
        let tar = tar_of(&files(&parts));
        let cut = 512 + parts[0].1.len().div_ceil(512) * 512 + 512 + 100;
        let (e, _) = run("t.tar", &tar[..cut], &Limits::default());
        assert_eq!(
            members(&e),
            [("t.tar!/a.log".to_string(), parts[0].1.clone())]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "t.tar");
        assert!(p[0].reason.starts_with("tar: "), "{}", p[0].reason);
        assert!(p[0].reason.contains("b.log"), "{}", p[0].reason);
    }

    #[test]
    fn corrupt_tar_header() {
        let parts: Vec<(&str, Vec<u8>)> =
            vec![("a.log", b"first".to_vec()), ("b.log", b"second".to_vec())];
        let mut tar = tar_of(&files(&parts));
        tar[1024 + 10] ^= 0x55; // inside the second header's name
        let (e, _) = run("t.tar", &tar, &Limits::default());
        assert_eq!(
            members(&e),
            [("t.tar!/a.log".to_string(), b"first".to_vec())]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].reason,
            "tar: corrupt member header (checksum mismatch); everything after member `a.log` in the archive was not read"
        );
    }

    #[test]
    fn corrupt_zip() {
        let mut garbage = b"PK\x03\x04".to_vec();
        garbage.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
        let (e, _) = run("g.zip", &garbage, &Limits::default());
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].status, ProblemStatus::Failed);
        assert_eq!(
            p[0].reason,
            "zip: central directory not found (truncated or not a zip)"
        );

        let zip = zip_of(&bundle_members());
        let (e, _) = run("t.zip", &zip[..zip.len() - 30], &Limits::default());
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "t.zip");
        assert!(p[0].reason.starts_with("zip: "), "{}", p[0].reason);

        // Damaged member data: that member fails, the others are read.
        let mut zip = zip_of(&[("a.log", log_text(40, 200)), ("b.log", b"ok".to_vec())]);
        zip[30 + 5 + 200] ^= 0xff;
        let (e, _) = run("d.zip", &zip, &Limits::default());
        assert_eq!(members(&e), [("d.zip!/b.log".to_string(), b"ok".to_vec())]);
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "d.zip!/a.log");
        assert!(p[0].reason.starts_with("zip: "), "{}", p[0].reason);
    }

    #[test]
    fn encrypted_and_unsupported_zip_members() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let secret = zip::write::SimpleFileOptions::default()
            .with_aes_encryption(zip::AesMode::Aes256, "pw");
        w.start_file("secret.log", secret).unwrap();
        w.write_all(b"hidden").unwrap();
        w.start_file("plain.log", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"open").unwrap();
        let zip = w.finish().unwrap().into_inner();
        let (e, _) = run("enc.zip", &zip, &Limits::default());
        assert_eq!(
            members(&e),
            [("enc.zip!/plain.log".to_string(), b"open".to_vec())]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "enc.zip!/secret.log");
        assert_eq!(p[0].status, ProblemStatus::Skipped);

        // Method 1 (shrink) is not compiled in: patch it into the local and central headers.
        let mut zip = zip_with_raw_deflate("old.bin", &deflate_piece(b"x"), 1);
        let cd = zip.len() - 22 - (46 + 7);
        zip[8] = 1;
        zip[cd + 10] = 1;
        let (e, _) = run("old.zip", &zip, &Limits::default());
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "old.zip!/old.bin");
        assert_eq!(p[0].status, ProblemStatus::Failed);
        assert!(
            p[0].reason.starts_with("zip: compression method "),
            "{}",
            p[0].reason
        );
        assert!(p[0].reason.ends_with(" not supported"), "{}", p[0].reason);
    }

    #[test]
    fn not_an_archive() {
        let (e, total) = run("x.log", b"just a log line\n", &Limits::default());
        assert_eq!(total, 0);
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "x.log");
        assert_eq!(p[0].status, ProblemStatus::Failed);
    }

    // ---- bombs and limits -----------------------------------------------------------------

    /// `data` deflated and fully flushed: such pieces can be concatenated into one stream.
    fn deflate_piece(data: &[u8]) -> Vec<u8> {
        let mut c = flate2::Compress::new(flate2::Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, flate2::FlushCompress::Full)
            .unwrap();
        assert_eq!(c.total_in(), data.len() as u64);
        out
    }

    /// A raw deflate stream of `prefix` then `mib` MiB of zeros, built from one flushed MiB
    /// repeated (fast even in debug builds).
    fn deflated_zeros_after(prefix: &[u8], mib: usize) -> Vec<u8> {
        let chunk = deflate_piece(&vec![0u8; 1 << 20]);
        let mut out = deflate_piece(prefix);
        for _ in 0..mib {
            out.extend_from_slice(&chunk);
        }
        out.extend_from_slice(&[0x03, 0x00]); // an empty final block
        out
    }

    fn deflated_zeros(mib: usize) -> Vec<u8> {
        deflated_zeros_after(&[], mib)
    }

    /// A zip with one deflated member, written by hand around a ready deflate stream.
    fn zip_with_raw_deflate(name: &str, deflated: &[u8], size: u32) -> Vec<u8> {
        let mut z = Vec::new();
        let n = name.len() as u16;
        let local = |z: &mut Vec<u8>| {
            z.extend_from_slice(b"PK\x03\x04");
            z.extend_from_slice(&20u16.to_le_bytes()); // version needed
            z.extend_from_slice(&0u16.to_le_bytes()); // flags
            z.extend_from_slice(&8u16.to_le_bytes()); // deflate
            z.extend_from_slice(&[0; 4]); // time, date
            z.extend_from_slice(&0u32.to_le_bytes()); // crc (never reached)
            z.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
            z.extend_from_slice(&size.to_le_bytes());
            z.extend_from_slice(&n.to_le_bytes());
            z.extend_from_slice(&0u16.to_le_bytes());
            z.extend_from_slice(name.as_bytes());
        };
        local(&mut z);
        z.extend_from_slice(deflated);
        let cd_start = z.len() as u32;
        z.extend_from_slice(b"PK\x01\x02");
        z.extend_from_slice(&20u16.to_le_bytes()); // made by
        z.extend_from_slice(&20u16.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(&8u16.to_le_bytes());
        z.extend_from_slice(&[0; 4]);
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
        z.extend_from_slice(&size.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
        z.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        z.extend_from_slice(name.as_bytes());
        let cd_len = z.len() as u32 - cd_start;
        z.extend_from_slice(b"PK\x05\x06");
        z.extend_from_slice(&[0; 4]);
        z.extend_from_slice(&1u16.to_le_bytes());
        z.extend_from_slice(&1u16.to_le_bytes());
        z.extend_from_slice(&cd_len.to_le_bytes());
        z.extend_from_slice(&cd_start.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    #[test]
    fn zip_bomb_stops_on_ratio() {
        let deflated = deflated_zeros(200);
        assert!(deflated.len() < 1 << 20);
        // 200 MiB of zeros in about 200 KiB: the ratio check stops it after 64 MiB.
        let bomb = zip_with_raw_deflate("zeros.bin", &deflated, 200 << 20);
        let (e, total) = run("bomb.zip", &bomb, &Limits::default());
        assert_eq!(total, 0);
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "bomb.zip!/zeros.bin");
        assert_eq!(p[0].status, ProblemStatus::Failed);
        assert_eq!(
            p[0].reason,
            "decompression stopped: more than 200x the compressed size (possible decompression \
             bomb); raise --max-ratio to read it"
        );
        // Inside another zip, the members after it are still read.
        let outer = zip_of(&[("bomb.zip", bomb), ("ok.log", b"fine".to_vec())]);
        let (e, _) = run("outer.zip", &outer, &Limits::default());
        assert_eq!(
            members(&e),
            [("outer.zip!/ok.log".to_string(), b"fine".to_vec())]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "outer.zip!/bomb.zip!/zeros.bin");
    }

    #[test]
    fn gzip_bomb_in_tar_stops_on_ratio() {
        let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        g.extend_from_slice(&deflated_zeros(100));
        g.extend_from_slice(&[0; 8]); // crc and size (never reached)
        let tar = tar_of(&files(&[
            ("a.log", b"before".to_vec()),
            ("z.log.gz", g),
            ("b.log", b"after".to_vec()),
        ]));
        let (e, _) = run("b.tar", &tar, &Limits::default());
        assert_eq!(
            members(&e),
            [
                ("b.tar!/a.log".to_string(), b"before".to_vec()),
                ("b.tar!/b.log".to_string(), b"after".to_vec()),
            ]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "b.tar!/z.log.gz!/z.log");
        assert!(
            p[0].reason.contains("200x the compressed size"),
            "{}",
            p[0].reason
        );
    }

    #[test]
    fn tar_gz_bomb_stops_the_archive() {
        // A tar whose second member is 100 MiB of zeros, gzipped to about 100 KiB.
        let mut tar = tar_of(&files(&[("a.log", b"before".to_vec())]));
        tar.truncate(1024); // drop the end-of-archive blocks
        let mut h = tar::Header::new_gnu();
        h.set_path("zeros.bin").unwrap();
        h.set_size(100 << 20);
        h.set_cksum();
        tar.extend_from_slice(h.as_bytes());
        let mut tgz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        tgz.extend_from_slice(&deflated_zeros_after(&tar, 100));
        tgz.extend_from_slice(&[0; 8]); // crc and size (never reached)
        let (e, _) = run("bomb.tar.gz", &tgz, &Limits::default());
        assert_eq!(
            members(&e),
            [("bomb.tar.gz!/a.log".to_string(), b"before".to_vec())]
        );
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "bomb.tar.gz");
        assert!(
            p[0].reason
                .starts_with("decompression stopped: more than 200x"),
            "{}",
            p[0].reason
        );
        assert!(p[0].reason.contains("zeros.bin"), "{}", p[0].reason);
    }

    #[test]
    fn total_limit_stops_everything() {
        let parts: Vec<(&str, Vec<u8>)> = (0..6)
            .map(|i| (["a", "b", "c", "d", "e", "f"][i], vec![b'x'; 300 << 10]))
            .collect();
        let tgz = gz(&tar_of(&files(&parts)), None);
        let limits = Limits {
            max_total_bytes: 1 << 20,
            ..Limits::default()
        };
        let (e, total) = run("big.tar.gz", &tgz, &limits);
        let got = members(&e);
        assert!(got.len() >= 2 && got.len() < 4, "{}", got.len());
        assert_eq!(total, got.len() as u64 * (300 << 10));
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "big.tar.gz");
        assert!(
            p[0].reason.starts_with(
                "decompression stopped: more than 1.0 MiB decompressed in total (possible \
                 decompression bomb)"
            ),
            "{}",
            p[0].reason
        );
        assert!(matches!(e.last(), Some(Entry::Problem(_))));
    }

    #[test]
    fn member_size_and_count_limits() {
        let parts: Vec<(&str, Vec<u8>)> = vec![
            ("small", vec![1; 10]),
            ("large", vec![2; 5000]),
            ("small2", vec![3; 10]),
        ];
        let limits = Limits {
            max_member_bytes: 1000,
            ..Limits::default()
        };
        for (name, bytes) in [
            ("s.tar", tar_of(&files(&parts))),
            ("s.tar.gz", gz(&tar_of(&files(&parts)), None)),
            ("s.zip", zip_of(&parts)),
        ] {
            let (e, _) = run(name, &bytes, &limits);
            assert_eq!(members(&e).len(), 2, "{name}");
            let p = problems(&e);
            assert_eq!(p.len(), 1, "{name}");
            assert_eq!(p[0].path, format!("{name}!/large"));
            assert_eq!(p[0].reason, "member larger than 1000 bytes, not read");
        }
        let limits = Limits {
            max_members: 2,
            ..Limits::default()
        };
        let (e, _) = run("s.zip", &zip_of(&parts), &limits);
        assert_eq!(members(&e).len(), 2);
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "s.zip");
        assert!(p[0].reason.starts_with("more than 2 archive members"));
    }

    // ---- hostile and odd members ----------------------------------------------------------

    #[test]
    fn dotdot_and_absolute_names_are_read_but_sanitised() {
        let canary = "kvtriage-archive-test-canary";
        let dotdot = format!("../../tmp/{canary}");
        let list: Vec<(&[u8], Kind)> = vec![
            (b"../../etc/passwd", Kind::File(b"root:x:0:0".to_vec())),
            (b"/abs/file.log", Kind::File(b"abs".to_vec())),
            (b"./rel//x/./y.log", Kind::File(b"rel".to_vec())),
            (dotdot.as_bytes(), Kind::File(b"canary".to_vec())),
        ];
        let (e, _) = run("evil.tar", &tar_of(&list), &Limits::default());
        assert_eq!(
            members(&e),
            [
                (
                    "evil.tar!/__/__/etc/passwd".to_string(),
                    b"root:x:0:0".to_vec()
                ),
                ("evil.tar!/abs/file.log".to_string(), b"abs".to_vec()),
                ("evil.tar!/rel/x/y.log".to_string(), b"rel".to_vec()),
                (format!("evil.tar!/__/__/tmp/{canary}"), b"canary".to_vec()),
            ]
        );
        assert!(!std::path::Path::new("/tmp").join(canary).exists());
        let zip = zip_of(&[("../up.log", b"u".to_vec())]);
        let (e, _) = run("evil.zip", &zip, &Limits::default());
        assert_eq!(
            members(&e),
            [("evil.zip!/__/up.log".to_string(), b"u".to_vec())]
        );
    }

    #[test]
    fn links_and_special_members_are_skipped() {
        let list: Vec<(&[u8], Kind)> = vec![
            (b"log/current", Kind::Symlink("/etc/shadow")),
            (b"log/hard", Kind::Hardlink("log/a")),
            (b"log/pipe", Kind::Fifo),
            (b"log/a", Kind::File(b"a".to_vec())),
        ];
        let (e, _) = run("l.tar", &tar_of(&list), &Limits::default());
        let p = problems(&e);
        let got: Vec<(&str, ProblemStatus, &str)> = p
            .iter()
            .map(|p| (p.path.as_str(), p.status, p.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "l.tar!/log/current",
                    ProblemStatus::Skipped,
                    "symlink member (not followed)"
                ),
                (
                    "l.tar!/log/hard",
                    ProblemStatus::Skipped,
                    "hardlink member (not followed)"
                ),
                (
                    "l.tar!/log/pipe",
                    ProblemStatus::Skipped,
                    "fifo member (not read)"
                ),
            ]
        );
        assert_eq!(members(&e), [("l.tar!/log/a".to_string(), b"a".to_vec())]);

        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.add_symlink("cur", "/etc/shadow", opts).unwrap();
        w.add_directory("d/", opts).unwrap();
        let zip = w.finish().unwrap().into_inner();
        let (e, _) = run("l.zip", &zip, &Limits::default());
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "l.zip!/cur");
        assert_eq!(p[0].status, ProblemStatus::Skipped);
        assert_eq!(p[0].reason, "symlink member (not followed)");
        assert!(members(&e).is_empty());
    }

    #[test]
    fn empty_members_are_delivered() {
        let parts: Vec<(&str, Vec<u8>)> = vec![("empty.log", Vec::new()), ("x", b"x".to_vec())];
        for (name, bytes) in [
            ("e.tar.gz", gz(&tar_of(&files(&parts)), None)),
            ("e.zip", zip_of(&parts)),
        ] {
            let (e, _) = run(name, &bytes, &Limits::default());
            assert_eq!(members(&e)[0], (format!("{name}!/empty.log"), Vec::new()));
        }
        let (e, _) = run("empty.log.gz", &gz(b"", None), &Limits::default());
        assert_eq!(
            members(&e),
            [("empty.log.gz!/empty.log".to_string(), Vec::new())]
        );
    }

    #[test]
    fn non_utf8_names_are_shown_lossily() {
        let list: Vec<(&[u8], Kind)> = vec![(b"logs/t\xffikv\x1b.log", Kind::File(b"x".to_vec()))];
        let (e, _) = run("n.tar", &tar_of(&list), &Limits::default());
        assert_eq!(members(&e)[0].0, "n.tar!/logs/t\u{FFFD}ikv?.log");
        let (e, _) = run(
            "n.gz",
            &gz(b"x", Some("r\u{e9}sum\u{e9}")),
            &Limits::default(),
        );
        assert_eq!(members(&e)[0].0, "n.gz!/r\u{e9}sum\u{e9}");
    }

    #[test]
    fn depth_limit() {
        let text = b"innermost".to_vec();
        let gzgz = gz(&gz(&text, None), None);
        let tgz = gz(&tar_of(&files(&[("a.log.gz.gz", gzgz)])), None);
        let (e, _) = run("b.tar.gz", &tgz, &Limits::default());
        assert!(members(&e).is_empty());
        let p = problems(&e);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "b.tar.gz!/a.log.gz.gz!/a.log.gz");
        assert_eq!(p[0].status, ProblemStatus::Skipped);
        assert!(
            p[0].reason
                .starts_with("nested archive deeper than 2 levels, not opened"),
            "{}",
            p[0].reason
        );
        let deeper = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let (e, _) = run("b.tar.gz", &tgz, &deeper);
        assert_eq!(
            members(&e),
            [("b.tar.gz!/a.log.gz.gz!/a.log.gz!/a.log".to_string(), text)]
        );
        // max_depth 1: the top level is still opened, nothing inside it.
        let shallow = Limits {
            max_depth: 1,
            ..Limits::default()
        };
        let (e, _) = run("b.tar.gz", &tgz, &shallow);
        assert_eq!(problems(&e)[0].path, "b.tar.gz!/a.log.gz.gz");
    }

    // ---- robustness -----------------------------------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn never_panics_on_mutated_input() {
        let mut list = files(&bundle_members());
        list.push((b"l", Kind::Symlink("x")));
        let tar = tar_of(&list);
        let seeds = [
            gz(&tar, None),
            zst(&tar),
            tar.clone(),
            zip_of(&bundle_members()),
            gz(&log_text(5, 30), Some("x.log")),
        ];
        let limits = Limits {
            max_total_bytes: 16 << 20,
            max_member_bytes: 4 << 20,
            ..Limits::default()
        };
        // ARCHIVE_FUZZ_SEED / ARCHIVE_FUZZ_ROUNDS allow longer runs by hand (e.g. --release).
        let mut rng = XorShift(
            std::env::var("ARCHIVE_FUZZ_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0x9e37_79b9_7f4a_7c15),
        );
        let rounds: usize = std::env::var("ARCHIVE_FUZZ_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        for round in 0..rounds {
            let seed = &seeds[round % seeds.len()];
            let mut buf = if round % 10 == 9 {
                let len = rng.below(2048);
                let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                // Give random bytes a container's magic, so they reach a parser.
                let magic: &[u8] =
                    [&b"\x1f\x8b"[..], b"\x28\xb5\x2f\xfd", b"PK\x03\x04", b""][rng.below(4)];
                b.splice(0..0, magic.iter().copied());
                b
            } else {
                seed.clone()
            };
            let edits = 1 + rng.below(8);
            for _ in 0..edits {
                if buf.is_empty() {
                    break;
                }
                let at = rng.below(buf.len());
                match rng.below(5) {
                    0 => buf[at] ^= 1 << rng.below(8),
                    1 => buf[at] = rng.next() as u8,
                    2 => buf.truncate(at),
                    3 => {
                        let len = rng.below(64).min(buf.len() - at);
                        buf.drain(at..at + len);
                    }
                    _ => {
                        let chunk: Vec<u8> = (0..rng.below(32)).map(|_| rng.next() as u8).collect();
                        buf.splice(at..at, chunk);
                    }
                }
            }
            let (first, t1) = run("fuzz.bin", &buf, &limits);
            let (second, t2) = run("fuzz.bin", &buf, &limits);
            assert_eq!(first, second, "round {round}: not deterministic");
            assert_eq!(t1, t2);
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(human(10), "10 B");
        assert_eq!(human(1_258_291), "1.2 MiB");
        assert_eq!(human(8 << 30), "8.0 GiB");
        assert_eq!(display_name(b"/"), "_");
        assert_eq!(display_name(b"a/../b"), "a/__/b");
        assert_eq!(inner_name("x/b.tgz", Container::Gzip, None), "b.tar");
        assert_eq!(inner_name("m.json", Container::Zstd, None), "m.json");
        assert_eq!(
            inner_name("a.gz", Container::Gzip, Some(b"/tmp/../a.log".to_vec())),
            "a.log"
        );
    }
}
