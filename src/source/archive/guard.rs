//! What keeps a walk bounded: the shared decompression budget, the guarded readers that
//! charge it and stop a bomb, the decoders, and faults reported by the layer that owns them.

use super::*;

/// Unwinding marker: the current walk must stop; the reason is in [`Shared::fault`] (to be
/// reported by the layer that owns it) or the whole call was halted.
pub(super) struct Abort;
pub(super) type Step = Result<(), Abort>;

/// A failure recorded by the reader where it happened, reported by the layer that owns it.
pub(super) struct Fault {
    pub(super) layer: u32,
    pub(super) reason: String,
    /// A bomb limit (as opposed to damaged data).
    pub(super) limit: bool,
}

/// State shared by the walker and every guarded reader it creates.
pub(super) struct Shared {
    pub(super) max_total_bytes: u64,
    pub(super) max_ratio: u64,
    /// Bytes produced by all decompressors so far.
    pub(super) produced: Cell<u64>,
    /// The total or member-count limit was hit: everything stops.
    pub(super) halted: Cell<bool>,
    pub(super) fault: RefCell<Option<Fault>>,
    pub(super) next_layer: Cell<u32>,
}

impl Shared {
    pub(super) fn new_layer(&self) -> u32 {
        let id = self.next_layer.get().wrapping_add(1);
        self.next_layer.set(id);
        id
    }

    /// Records a fault unless an earlier (outer or inner) one is already pending: the first
    /// reader to see a failure is the one where it happened.
    pub(super) fn fault(&self, layer: u32, reason: String, limit: bool) {
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
    pub(super) fn take_fault(&self, layer: u32) -> Option<Fault> {
        let mut slot = self.fault.borrow_mut();
        if slot.as_ref().is_some_and(|f| f.layer >= layer) {
            slot.take()
        } else {
            None
        }
    }
}

/// Counts the compressed bytes a decoder pulls from its input.
pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) count: Rc<Cell<u64>>,
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
pub(super) enum Size {
    Unknown,
    /// From a zip directory: used to size the buffer only (it may lie).
    Hint(u64),
    /// From a tar header: fewer bytes than this means the archive is truncated.
    Exact(u64),
}

pub(super) enum CompressedIn {
    Counted(Rc<Cell<u64>>),
    Fixed(u64),
}

/// Wraps a decompressor's output: enforces the limits and records where failures happen.
pub(super) struct Guard<'s, R> {
    pub(super) inner: R,
    pub(super) sh: &'s Shared,
    pub(super) layer: u32,
    pub(super) codec: &'static str,
    pub(super) compressed: CompressedIn,
    pub(super) out: u64,
    pub(super) dead: bool,
}

impl<'s, R: Read> Guard<'s, R> {
    pub(super) fn new(
        inner: R,
        sh: &'s Shared,
        codec: &'static str,
        compressed: CompressedIn,
    ) -> Self {
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

    pub(super) fn stop(&mut self, reason: String) -> io::Error {
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
pub(super) fn describe(codec: &str, e: &io::Error, out: u64) -> String {
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
pub(super) fn human(n: u64) -> String {
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

pub(super) enum Decoder<R: Read> {
    Gzip(Box<flate2::read::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, io::BufReader<R>>),
}

impl<R: Read> Decoder<R> {
    /// The gzip FNAME header (known once the first byte was read).
    pub(super) fn fname(&self) -> Option<Vec<u8>> {
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
