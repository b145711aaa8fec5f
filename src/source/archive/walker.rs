//! Walking one archive: streams, tars and zips, nested, member by member, each member
//! delivered or reported with why it was not.

use super::guard::*;
use super::*;

/// Where a tar walk had got to, for the problem that reports its damage.
#[derive(Default)]
pub(super) struct TarProgress {
    pub(super) current: Option<String>,
    pub(super) last: Option<String>,
}

impl TarProgress {
    pub(super) fn context(&self) -> String {
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

pub(super) struct Walker<'s, 'k, 'm> {
    pub(super) sh: &'s Shared,
    pub(super) sink: &'k mut dyn FnMut(Entry),
    /// Set by [`read_streaming`]: plain members are streamed to it, not buffered.
    pub(super) stream: Option<&'k mut MemberReader<'m>>,
    pub(super) max_depth: u32,
    pub(super) max_members: u64,
    pub(super) max_member_bytes: u64,
    pub(super) members: u64,
    pub(super) delivered: u64,
}

impl Walker<'_, '_, '_> {
    pub(super) fn problem(&mut self, path: &str, status: ProblemStatus, reason: String) {
        (self.sink)(Entry::Problem(Problem {
            path: path.to_string(),
            status,
            reason,
        }));
    }

    pub(super) fn member(&mut self, path: &str, data: Vec<u8>) {
        self.delivered = self.delivered.saturating_add(data.len() as u64);
        (self.sink)(Entry::Member(Member {
            path: path.to_string(),
            data,
        }));
    }

    /// Counts one archive entry; past the limit, reports it once and halts everything.
    pub(super) fn count_member(&mut self, archive: &str) -> Step {
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
    pub(super) fn blame(&self, owner: u32, what: &str, e: &io::Error) -> Abort {
        self.sh
            .fault(owner, format!("{what}: {}", clean(&e.to_string())), false);
        Abort
    }

    /// After `Err(Abort)` from the body of `layer`: reports the layer's own fault (if it is the
    /// one pending) at `path`, and says whether the walk above must unwind as well.
    pub(super) fn settle(
        &mut self,
        layer: u32,
        path: &str,
        context: impl FnOnce(&Fault) -> String,
    ) -> Step {
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
    pub(super) fn open_stream(
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
    pub(super) fn open_tar(&mut self, path: &str, src: &mut dyn Read, depth: u32) -> Step {
        let layer = self.sh.new_layer();
        let mut progress = TarProgress::default();
        match self.tar_loop(path, src, depth, layer, &mut progress) {
            Ok(()) => Ok(()),
            Err(Abort) => self.settle(layer, path, |_| progress.context()),
        }
    }

    /// Iterates a tar stream; failures of the stream itself are recorded against `layer`.
    pub(super) fn tar_loop(
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
    pub(super) fn open_zip(&mut self, path: &str, bytes: &[u8], depth: u32) -> Step {
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
    pub(super) fn content(
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
    pub(super) fn buffer(
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

pub(super) fn tar_reason(e: &io::Error) -> String {
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
pub(super) fn clean(text: &str) -> String {
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
pub(super) fn zip_method_supported(method: zip::CompressionMethod) -> bool {
    use zip::CompressionMethod as M;
    matches!(
        method,
        M::Stored | M::Deflated | M::Deflate64 | M::Bzip2 | M::Zstd | M::Lzma | M::Xz | M::Ppmd
    )
}

pub(super) fn zip_open_reason(e: &zip::result::ZipError) -> String {
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

pub(super) fn zip_member_reason(e: &zip::result::ZipError) -> String {
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
