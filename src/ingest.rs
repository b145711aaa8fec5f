//! The hand-off from sources to parsers: a plain file (mapped) or stdin is parsed whole; an
//! archive's members are streamed to the parsers one by one, each under its own id.

use crate::model::{Facts, InputId, InputReport, Kind, Status};
use crate::parse::input::{InputAt, ParseCtx, Parsed, parse_bytes, parse_stream};
use crate::source::{self, Data, Source, SourceError, archive};

/// Reading parameters: the parsers' and the archive limits.
pub struct IngestCtx<'a> {
    pub parse: ParseCtx<'a>,
    pub limits: &'a archive::Limits,
}

/// An input at `path`, with the node its path names.
fn at(id: InputId, path: &str) -> InputAt<'_> {
    InputAt {
        id,
        path,
        node: source::node_from_path(path),
    }
}

fn failed(id: InputId, path: &str, bytes: u64, status: Status, reason: String) -> Parsed {
    let mut report = InputReport::new(id, path, Kind::Unknown, source::node_from_path(path));
    report.bytes = bytes;
    report.set_problem(status, reason);
    Parsed {
        report,
        facts: Facts::default(),
    }
}

fn source_failed(id: InputId, path: &str, bytes: u64, e: SourceError) -> Parsed {
    failed(id, path, bytes, e.status(), e.to_string())
}

/// Reads a source into one or more inputs (an archive gives one per member).
pub fn read_source(src: &Source, ctx: &IngestCtx<'_>) -> Vec<Parsed> {
    let data = match source::read(src) {
        Ok(d) => d,
        Err(e) => return vec![source_failed(src.id, &src.display, 0, e)],
    };
    let container = archive::detect(&data[..data.len().min(archive::SNIFF_BYTES)]);
    let Some(container) = container else {
        return vec![parse_bytes(at(src.id, &src.display), &data, &ctx.parse)];
    };
    // Archives and compressed files are read in memory, member by member, logs streamed
    // through a bounded buffer; nothing is written to disk and member paths are only shown.
    let out = std::cell::RefCell::new(Vec::new());
    let next_id = std::cell::Cell::new(1usize);
    let member_id = || {
        let n = next_id.get();
        next_id.set(n + 1);
        InputId::new(src.id.source(), n)
    };
    let mut on_member = |path: &str, reader: &mut dyn std::io::Read| {
        parse_stream(
            at(member_id(), path),
            reader,
            &ctx.parse,
            &mut out.borrow_mut(),
        )
    };
    let mut on_entry = |entry: archive::Entry| match entry {
        archive::Entry::Member(m) => {
            let d = Data::Owned(m.data);
            let parsed = parse_bytes(at(member_id(), &m.path), &d, &ctx.parse);
            out.borrow_mut().push(parsed);
        }
        archive::Entry::Problem(p) => {
            let status = match p.status {
                archive::ProblemStatus::Skipped => Status::Skipped,
                archive::ProblemStatus::Failed => Status::Failed,
            };
            let mut out = out.borrow_mut();
            // A member whose stream broke while it was read: what was read before stays
            // analysed, and the input says it failed and why.
            if let Some(last) = out.last_mut().filter(|l| l.report.path == p.path) {
                last.report.set_problem(status, p.reason);
                return;
            }
            out.push(failed(member_id(), &p.path, 0, status, p.reason));
        }
    };
    // gzip, zstd and tar stream from the file once (never mapped whole: the compressed
    // bytes would otherwise stay resident); a zip needs random access and stays mapped.
    let file = match &src.origin {
        source::Origin::File(p) if container != archive::Container::Zip => {
            std::fs::File::open(p).ok()
        }
        _ => None,
    };
    match file {
        Some(f) => {
            drop(data);
            let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
            archive::read_streaming_from(
                &src.display,
                container,
                &mut reader,
                ctx.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
        None => {
            archive::read_streaming(
                &src.display,
                container,
                &data,
                ctx.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
    }
    let mut out = out.into_inner();
    if out.is_empty() {
        out.push(source_failed(
            src.id,
            &src.display,
            src.file_size(),
            SourceError::EmptyArchive,
        ));
    }
    out
}
