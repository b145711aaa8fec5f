//! A coverage-free mutation fuzzer for every parser, the archive reader and the whole pipeline.
//! It needs no nightly toolchain, no cargo-fuzz and no sanitizer: it runs on stable.
//!
//! ```text
//! cargo run --release --example fuzz -- <target|all|list> [--iterations N] [--seconds S]
//!     [--seed X] [--max-len BYTES] [--corpus DIR]... [--no-minimize] [--hang-secs S]
//!     [--replay FILE]
//! ```
//!
//! Targets: unified, legacy, jsonlog, crdb-log, crdb-table, pdctl, scan, archive, sniff, time,
//! operator, prometheus, unsafe-recovery, analyze (the whole pipeline on a temporary folder).
//! With `all`, `--iterations` and `--seconds` apply to each target in turn.
//!
//! The corpus is every file under `fixtures/` plus small built-in seeds (and `--corpus` dirs);
//! `archive` gets archives built from them and `analyze` gets the fixture bundles (several
//! files each, encoded as `@@file <path>\n<content>` sections). Mutations: bit flips, byte
//! inserts and deletes, splices between corpus items, truncation, repeated chunks, line
//! duplication/removal/swaps, numbers swapped for extreme ones, and interesting tokens (`"`,
//! `\\`, `[`, `]`, `=`, newlines, `\xff`, `⋮`, braces, gzip/zstd/zip magic, format heads).
//! Without coverage feedback, a mutant joins the pool when the target's output has a shape not
//! seen before (a cheap "behaviour signature": parsed or not, levels, field counts, kinds...).
//!
//! Every execution runs under `catch_unwind`; besides panics, each target asserts a few
//! invariants (see `execute`), whose failures count as crashes too. A crash saves its input as
//! `target/fuzz-crashes/<target>-<hash>.bin`; the first crash of each panic site is also
//! minimized (saved the same way, named in the output). An execution over `--hang-secs`
//! (default 60) is saved as `<target>-<hash>.hang.bin` and ends the process. At the end:
//! `fuzz <target>: N executions, C crashes, T s` per target; the exit code is 1 if anything
//! crashed. A given seed always produces the same inputs in the same order.

use kvtriage::model::Analysis;
use kvtriage::model::Kind;
use kvtriage::model::{InputId, Level, Location};
use kvtriage::parse::Format;
use kvtriage::parse::detect::{self, Detected, SNIFF_BYTES};
use kvtriage::parse::envelope;
use kvtriage::parse::operator::{self, Operator};
use kvtriage::parse::scan::{self, LogFormat, Prefilter, ScanCtx};
use kvtriage::parse::{
    crdb_input, crdb_log, crdb_table, jsonlog, legacy, pdctl, prometheus, sched_input, time,
    unified, unsafe_recovery,
};
use kvtriage::report;
use kvtriage::report::timeline;
use kvtriage::rules::RuleSet;
use kvtriage::source::archive::{self, Entry, Limits, ProblemStatus};
use kvtriage::source::node_from_path;
use kvtriage::{Options, analyze};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

// ---- randomness and hashing -----------------------------------------------------------------

/// splitmix64: small, fast and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c908)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A length skewed towards small values (1, 2, 4... up to `max`).
    pub fn small_len(&mut self, max: usize) -> usize {
        let bits = self.below(usize::BITS as usize - max.max(1).leading_zeros() as usize + 1);
        (1 + self.below(1usize << bits)).min(max.max(1))
    }
}

/// FNV-1a: names crash files and seeds per-target streams.
pub fn fnv(data: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Accumulates a behaviour signature.
#[derive(Default)]
struct Sig(u64);

impl Sig {
    fn add(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(17);
    }
    fn text(&mut self, s: &str) {
        self.add(fnv(s.as_bytes()));
    }
}

/// log2 bucket of a count: 0, 1, 2-3, 4-7, ...
fn bucket(n: u64) -> u64 {
    u64::from(64 - n.leading_zeros())
}

/// Reasons and messages without their numbers, so that `line 3` and `line 4` are one shape.
fn shape(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).take(48).collect()
}

// ---- targets --------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Unified,
    Legacy,
    Jsonlog,
    CrdbLog,
    CrdbTable,
    Pdctl,
    Scan,
    Archive,
    Sniff,
    Time,
    Operator,
    Prometheus,
    UnsafeRecovery,
    Documents,
    Configs,
    HostFacts,
    Analyze,
}

pub const TARGETS: &[Target] = &[
    Target::Unified,
    Target::Legacy,
    Target::Jsonlog,
    Target::CrdbLog,
    Target::CrdbTable,
    Target::Pdctl,
    Target::Scan,
    Target::Archive,
    Target::Sniff,
    Target::Time,
    Target::Operator,
    Target::Prometheus,
    Target::UnsafeRecovery,
    Target::Documents,
    Target::Configs,
    Target::HostFacts,
    Target::Analyze,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Unified => "unified",
            Target::Legacy => "legacy",
            Target::Jsonlog => "jsonlog",
            Target::CrdbLog => "crdb-log",
            Target::CrdbTable => "crdb-table",
            Target::Pdctl => "pdctl",
            Target::Scan => "scan",
            Target::Archive => "archive",
            Target::Sniff => "sniff",
            Target::Time => "time",
            Target::Operator => "operator",
            Target::Prometheus => "prometheus",
            Target::UnsafeRecovery => "unsafe-recovery",
            Target::Documents => "documents",
            Target::Configs => "configs",
            Target::HostFacts => "host-facts",
            Target::Analyze => "analyze",
        }
    }

    pub fn from_name(s: &str) -> Option<Target> {
        TARGETS.iter().copied().find(|t| t.name() == s)
    }

    /// Iterations when neither `--iterations` nor `--seconds` is given.
    pub fn default_iterations(self) -> u64 {
        match self {
            Target::Analyze => 2_000,
            Target::Archive | Target::Scan => 10_000,
            _ => 30_000,
        }
    }

    /// Mutants are cut to this many bytes unless `--max-len` says otherwise.
    pub fn default_max_len(self) -> usize {
        match self {
            Target::Analyze | Target::Archive => 1 << 20,
            Target::Scan | Target::Sniff => 256 << 10,
            _ => 64 << 10,
        }
    }

    /// Line-oriented targets get windows of a few lines rather than whole files, so that each
    /// execution stays cheap and mutations land on what is parsed.
    fn windowed(self) -> bool {
        !matches!(
            self,
            Target::Archive
                | Target::Analyze
                | Target::Scan
                | Target::Sniff
                | Target::Pdctl
                | Target::Documents
                | Target::Configs
                | Target::HostFacts
        )
    }
}

/// Everything the targets share: the built-in rules and a scratch folder.
pub struct Env {
    pub rules: RuleSet,
    pub prefilter: Prefilter,
    scratch: tempfile::TempDir,
    runs: AtomicU64,
}

impl Env {
    pub fn new() -> Env {
        let rules = RuleSet::builtin().expect("the built-in rules load");
        let prefilter = Prefilter::new(rules.needle_groups());
        let scratch = tempfile::Builder::new()
            .prefix("kvtriage-fuzz-")
            .tempdir()
            .expect("a temporary folder");
        Env {
            rules,
            prefilter,
            scratch,
            runs: AtomicU64::new(0),
        }
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

fn utc() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(0).expect("zero offset")
}

const ZONES: &[i32] = &[
    0,
    8 * 3600,
    -7 * 3600,
    14 * 3600,
    -12 * 3600,
    5 * 3600 + 1800,
];

fn zone(i: u64) -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(ZONES[(i % ZONES.len() as u64) as usize]).unwrap_or_else(utc)
}

/// Lines as `scan_log` sees them: split on `\n`, one CR dropped, no empty last line.
pub fn raw_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |p| pos + p);
        let line = &data[pos..end];
        pos = end + 1;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// Runs one input through one target and returns its behaviour signature. Panics (caught by
/// the caller) on a crash or a broken invariant.
pub fn execute(target: Target, data: &[u8], env: &Env) -> Vec<u64> {
    let text = String::from_utf8_lossy(data);
    let mut sig = Sig::default();
    // Features: the shapes of lines, entries, inputs... A mutant is kept when it shows a new one.
    let mut feats: BTreeSet<u64> = BTreeSet::new();
    let h = fnv(data);
    match target {
        Target::Unified => {
            for l in text.split('\n') {
                let b = l.as_bytes();
                let head = unified::is_head(b);
                let p = unified::parse_line(l);
                assert!(
                    p.is_none() || head,
                    "unified::parse_line accepted a line is_head rejects: {l:?}"
                );
                assert_eq!(
                    unified::quick_level(b),
                    p.as_ref().map(|x| x.level),
                    "unified::quick_level disagrees with parse_line on {l:?}"
                );
                let mut s = Sig::default();
                s.add(u64::from(head));
                if let Some(p) = p {
                    s.add(p.level as u64);
                    s.add(bucket(p.fields.len() as u64));
                    s.add(u64::from(p.message.is_empty()));
                    s.add(u64::from(p.time.is_some()));
                    s.add(u64::from(p.source.is_empty()));
                }
                feats.insert(s.0);
            }
            let _ = unified::parse_line(&text);
        }
        Target::Legacy => {
            for (i, l) in text.split('\n').enumerate() {
                let head = legacy::is_head(l.as_bytes());
                let p = legacy::parse_line(l, zone(i as u64));
                let mut s = Sig::default();
                s.add(u64::from(head));
                if let Some(p) = p {
                    s.add(p.level as u64);
                    s.add(u64::from(p.time.is_some()));
                    s.add(bucket(p.source.len() as u64));
                    s.add(u64::from(p.message.is_empty()));
                }
                feats.insert(s.0);
            }
        }
        Target::Jsonlog => {
            for l in text.split('\n') {
                let head = jsonlog::is_head(l.as_bytes());
                let mut s = Sig::default();
                s.add(u64::from(head));
                if let Some(p) = jsonlog::parse_line(l) {
                    s.add(p.level.map_or(99, |l| l as u64));
                    s.add(u64::from(p.time.is_some()));
                    s.add(u64::from(p.source.is_some()));
                    s.add(bucket(p.fields.len() as u64));
                }
                feats.insert(s.0);
            }
        }
        Target::CrdbLog => {
            for l in text.split('\n') {
                let head = crdb_log::is_head(l.as_bytes());
                let p = crdb_log::parse_line(l);
                assert_eq!(
                    head,
                    p.is_some(),
                    "crdb_log::parse_line and is_head disagree on {l:?}"
                );
                let mut s = Sig::default();
                if let Some(p) = p {
                    s.add(p.level as u64);
                    s.add(u64::from(p.time.is_some()));
                    for (k, _) in &p.fields {
                        if !k.starts_with("ev.") {
                            s.text(k);
                        }
                    }
                }
                feats.insert(s.0);
            }
        }
        Target::CrdbTable => {
            let t = crdb_table::parse(&text);
            let rows: usize = t.snapshots.iter().map(|s| s.rows.len()).sum();
            assert_eq!(
                t.records,
                (rows + t.blocked.len() + t.stall_replicas.len() + t.marks.len()) as u64,
                "crdb_table: records is not rows + blocked + stall + marks"
            );
            let n = text.lines().count() as u64;
            let lines = t
                .snapshots
                .iter()
                .flat_map(|s| std::iter::once(s.header_line).chain(s.rows.iter().map(|r| r.line)))
                .chain(t.blocked.iter().map(|b| b.line))
                .chain(t.stall_replicas.iter().map(|s| s.line))
                .chain(t.marks.iter().map(|m| m.line));
            for l in lines {
                assert!(l >= 1 && l <= n, "crdb_table: line {l} outside 1..={n}");
            }
            sig.add(bucket(t.snapshots.len() as u64));
            sig.add(bucket(rows as u64));
            for s in &t.snapshots {
                sig.add(s.kind as u64);
            }
            sig.add(bucket(t.blocked.len() as u64));
            sig.add(bucket(t.stall_replicas.len() as u64));
            sig.add(bucket(t.marks.len() as u64));
            sig.add(bucket(t.unparsed_lines));
            for kind in [Kind::CrdbNodeStatus, Kind::CrdbDecommissionOutput] {
                let c = crdb_input::collect(kind, &text, InputId(0));
                sig.add(bucket(c.facts.commands.len() as u64));
                sig.add(bucket(c.versions.len() as u64));
            }
        }
        Target::Pdctl => {
            let out = pdctl::parse(&text, InputId(0));
            let n = text.split('\n').count() as u64;
            let locs = out
                .stores
                .iter()
                .map(|s| s.loc)
                .chain(out.regions.iter().map(|r| r.loc))
                .chain(out.configs.iter().map(|c| c.loc))
                .chain(out.answers.iter().map(|a| a.loc));
            for l in locs {
                assert!(
                    l.line >= 1 && l.line <= n,
                    "pdctl: line {} outside 1..={n}",
                    l.line
                );
            }
            for w in text.split_whitespace().take(200) {
                let _ = kvtriage::model::units::parse_byte_size(w.trim_matches(['"', ',']));
            }
            sig.add(bucket(out.stores.len() as u64));
            sig.add(bucket(out.regions.len() as u64));
            sig.add(bucket(out.configs.len() as u64));
            sig.add(bucket(out.answers.len() as u64));
            sig.add(bucket(out.records));
            sig.add(u64::from(out.ctl_version.is_some()));
            sig.add(bucket(out.pd_addrs.len() as u64));
            feats.insert(fnv(shape(out.problem.as_deref().unwrap_or("")).as_bytes()));
            for s in &out.stores {
                sig.text(&format!("{:?}", s.state));
            }
        }
        Target::Scan => {
            let formats = [
                (LogFormat::Unified, Kind::TikvLog),
                (LogFormat::Legacy, Kind::PdLog),
                (LogFormat::Json, Kind::TidbLog),
                (LogFormat::Crdb, Kind::CrdbLog),
            ];
            for (format, kind) in formats {
                let ctx = ScanCtx {
                    input: InputId(0),
                    kind,
                    format,
                    prefilter: &env.prefilter,
                    assume_tz: zone(h),
                    keep_level: (h & 1 == 1).then_some(Level::Info),
                    templates: h & 2 == 0,
                };
                let out = scan::scan_log(data, &ctx);
                check_scan(data, format, &out);
                // Streaming (compressed members) must read the same as scanning in memory,
                // whatever the reads return. One format per input: each stream fills an
                // 8 MiB block.
                if format as u64 == h % 4 {
                    let split = (h % (data.len() as u64 + 1)) as usize;
                    let mut src = Trickle::new(&data[split..], 1 + (h >> 20) as usize % 4096);
                    let head = data[..split].to_vec();
                    let (streamed, err) = scan::scan_stream(head, &mut src, &ctx);
                    assert!(err.is_none(), "scan_stream: read error from a slice");
                    let (a, b) = (scan_view(&out), scan_view(&streamed));
                    assert!(
                        a == b,
                        "scan_stream({format:?}, {split} B head) != scan_log:\n{a}\n--\n{b}"
                    );
                }
                let mut s = Sig::default();
                s.add(format as u64);
                s.add(bucket(out.records));
                s.add(bucket(out.unparsed_lines));
                s.add(bucket(out.events.len() as u64));
                s.add(bucket(out.templates.len() as u64));
                s.add(u64::from(out.first_time.is_some()));
                feats.insert(s.0);
            }
        }
        Target::Archive => {
            let names = [
                "bundle.tar.gz",
                "x.zip",
                "tikv.log.gz",
                "m.json.zst",
                "b.tgz",
            ];
            let display = names[(h % names.len() as u64) as usize];
            let limits = Limits {
                max_total_bytes: 32 << 20,
                max_member_bytes: 8 << 20,
                max_members: 5_000,
                max_depth: 1 + (h % 3) as u32,
                ..Limits::default()
            };
            let (first, total) = read_archive(display, data, &limits);
            let (second, total2) = read_archive(display, data, &limits);
            assert!(
                first == second && total == total2,
                "archive::read is not deterministic"
            );
            let delivered: u64 = first
                .iter()
                .map(|e| match e {
                    Entry::Member(m) => m.data.len() as u64,
                    Entry::Problem(_) => 0,
                })
                .sum();
            assert_eq!(total, delivered, "archive::read total != delivered bytes");
            for e in &first {
                let path = match e {
                    Entry::Member(m) => &m.path,
                    Entry::Problem(p) => &p.path,
                };
                assert!(
                    path.starts_with(display),
                    "archive path {path:?} does not start with {display}"
                );
                assert!(
                    !path.chars().any(char::is_control),
                    "archive path {path:?} has a control character"
                );
                // Components, after the archive's own name: never empty, `.` or `..` (a
                // member may be named `!`, so `!/` alone does not separate members).
                let inner = &path[display.len()..];
                assert!(
                    !inner
                        .split('/')
                        .skip(1)
                        .any(|c| c.is_empty() || c == "." || c == ".."),
                    "archive path {path:?} has an empty, . or .. component"
                );
                let _ = node_from_path(path);
                let mut s = Sig::default();
                s.add(bucket(path.matches("!/").count() as u64));
                match e {
                    Entry::Member(m) => {
                        s.add(1);
                        let head = &m.data[..m.data.len().min(SNIFF_BYTES)];
                        s.text(&format!("{:?}", detect::detect(&m.path, head)));
                    }
                    Entry::Problem(p) => {
                        s.add(if p.status == ProblemStatus::Skipped {
                            2
                        } else {
                            3
                        });
                        s.text(&shape(&p.reason));
                    }
                }
                feats.insert(s.0);
            }
        }
        Target::Sniff => {
            let names = [
                "tikv.log",
                "pd.log",
                "tidb.log",
                "tiflash.log",
                "output.txt",
                "stores.json",
                "cockroach.log",
                "x",
            ];
            let name = names[(h % names.len() as u64) as usize];
            let head = &data[..data.len().min(SNIFF_BYTES)];
            let s = detect::detect(name, head);
            assert_eq!(s, detect::detect(name, head), "sniff is not deterministic");
            if let Detected::Found(Format::Log(format), _) = &s {
                let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
                // Text naming CockroachDB is read as its log for its lines, heads or not.
                let named = *format == LogFormat::Crdb
                    && String::from_utf8_lossy(body)
                        .to_ascii_lowercase()
                        .contains("cockroach");
                assert!(
                    named || raw_lines(body).any(|l| format.is_head(l)),
                    "sniff said {format:?} but no line is a head of it"
                );
            }
            let _ = detect::compressed_magic(head);
            let _ = archive::detect(head);
            // Envelopes: decided the same way twice; unwrapping keeps one line per line.
            let env = envelope::sniff(head);
            assert_eq!(
                env,
                envelope::sniff(head),
                "envelope sniff is not deterministic"
            );
            let _ = envelope::choose(name, head, &s);
            let outer = memchr::memchr_iter(b'\n', head).count()
                + usize::from(head.last().is_some_and(|&c| c != b'\n'));
            for e in envelope::Envelope::ALL {
                let mut inner = Vec::new();
                let mut un = envelope::Unwrap::new(head, e, zone(h));
                std::io::Read::read_to_end(&mut un, &mut inner).expect("bytes in memory");
                let n = memchr::memchr_iter(b'\n', &inner).count();
                assert_eq!(n, outer, "{e:?} unwrapped {outer} lines into {n}");
            }
            sig.text(&format!("{s:?} {env:?}"));
        }
        Target::Time => {
            for (i, l) in text.split('\n').enumerate() {
                let mut s = Sig::default();
                s.add(u64::from(time::parse_unified(l).is_some()));
                if let Some(rest) = l.strip_prefix('[') {
                    s.add(u64::from(time::parse_unified(rest).is_some()));
                }
                if let Some((_, n)) = time::parse_naive_prefix(l, zone(i as u64)) {
                    assert!(
                        n <= l.len() && l.is_char_boundary(n),
                        "parse_naive_prefix: bad length {n} for {l:?}"
                    );
                    s.add(bucket(n as u64));
                }
                s.add(u64::from(time::parse_rfc3339(l).is_some()));
                s.add(u64::from(time::parse_user_time(l).is_some()));
                s.add(u64::from(operator::go_time(l).is_some()));
                feats.insert(s.0);
            }
        }
        Target::Operator => {
            let mut texts: Vec<String> = text.split('\n').map(str::to_string).collect();
            // Operators arrive as a decoded `operator=` field of a PD log line.
            for l in text.split('\n') {
                if let Some(p) = unified::parse_line(l) {
                    texts.extend(p.fields.into_iter().map(|(_, v)| v.into_owned()));
                }
            }
            texts.push(text.to_string());
            for t in &texts {
                let _ = operator::unquote(t);
                let _ = operator::step_stores(t);
                let _ = operator::step_action(t);
                let mut s = Sig::default();
                if let Some(op) = Operator::parse(t) {
                    s.add(bucket(op.desc.len() as u64));
                    let _ = op.current_step_text();
                    s.add(u64::from(
                        op.create_at
                            .as_deref()
                            .and_then(operator::go_time)
                            .is_some(),
                    ));
                    s.add(u64::from(
                        op.start_at.as_deref().and_then(operator::go_time).is_some(),
                    ));
                    s.add(u64::from(op.timeout_secs().is_some()));
                    s.add(u64::from(op.is_merge()));
                    s.add(u64::from(op.steps_complete));
                    s.add(bucket(op.steps.len() as u64));
                    s.add(op.end.map_or(0, |e| e as u64 + 1));
                    for st in &op.steps {
                        let _ = operator::step_stores(st);
                        s.text(operator::step_action(st));
                    }
                }
                feats.insert(s.0);
            }
            let (snaps, problem) = sched_input::parse_operator_show(&text, InputId(0));
            sig.add(bucket(snaps.len() as u64));
            sig.add(bucket(snaps.iter().map(|s| s.ops.len() as u64).sum()));
            sig.text(&shape(problem.as_deref().unwrap_or("")));
            let c = sched_input::collect(Kind::PdctlOperators, &text, InputId(0));
            sig.add(bucket(c.records));
        }
        Target::Prometheus => {
            let keep_all = |_: &str| true;
            let n = text.lines().count() as u64;
            let t = prometheus::parse_text(&text, InputId(0), &keep_all);
            assert_eq!(
                t.samples.len() as u64,
                t.read,
                "prometheus::parse_text kept != read with keep-all"
            );
            for s in &t.samples {
                assert!(
                    s.loc.line >= 1 && s.loc.line <= n,
                    "prometheus: line {} outside 1..={n}",
                    s.loc.line
                );
            }
            let j = prometheus::parse_json(&text, InputId(0), &keep_all);
            assert_eq!(
                j.samples.len() as u64,
                j.read,
                "prometheus::parse_json kept != read with keep-all"
            );
            for w in text.split_whitespace().take(200) {
                let _ = prometheus::parse_value(w);
            }
            sig.add(bucket(t.read));
            sig.add(bucket(t.unparsed_lines));
            sig.add(bucket(j.read));
            sig.text(&shape(j.problem.as_deref().unwrap_or("")));
            for kind in [Kind::PrometheusText, Kind::PrometheusJson] {
                let c = sched_input::collect(kind, &text, InputId(0));
                sig.add(bucket(c.records));
            }
        }
        Target::Configs => {
            // Config files and deployments: detection, the readers, and lines inside the text.
            let n = text.split('\n').count() as u64;
            let in_text = |what: &str, line: u64| {
                assert!(
                    line >= 1 && line <= n,
                    "{what}: line {line} outside 1..={n}"
                );
            };
            let kind = kvtriage::parse::toml_config::looks_like(&text, "tikv.toml");
            sig.add(kind.map_or(0, |k| k as u64 + 1));
            let toml = kvtriage::parse::toml_config::settings(&text, 1);
            for (k, &l) in &toml.lines {
                assert!(
                    toml.values.contains_key(k),
                    "toml_config: line without a value: {k}"
                );
                in_text("toml_config", l);
            }
            sig.add(bucket(toml.values.len() as u64));
            sig.add(bucket(toml.bad_lines.len() as u64));
            sig.add(u64::from(kvtriage::parse::topology::looks_like(&text)));
            sig.add(u64::from(kvtriage::parse::tidb_cluster::looks_like(&text)));
            let readers = [
                kvtriage::parse::toml_config::read(&text, InputId(0), Kind::PdConfig),
                kvtriage::parse::topology::read(&text, InputId(0)),
                kvtriage::parse::tidb_cluster::read(&text, InputId(0)),
            ];
            for c in &readers {
                for r in &c.facts.configs {
                    in_text("config record", r.loc.line);
                    for &l in r.lines.values() {
                        in_text("config key", l);
                    }
                }
                for i in &c.facts.instances {
                    in_text("instance", i.loc.line);
                }
                sig.add(bucket(c.records));
                sig.add(u64::from(c.partial.is_some()));
            }
        }
        Target::Documents => {
            // Documents inside text and cut copies: the JSON scanner, the prefix reader, the
            // tikv-ctl reader and the session tests.
            let sc = kvtriage::parse::documents::scan(data);
            for o in &sc.objects {
                assert!(
                    o.start < o.end && o.end <= data.len(),
                    "documents::scan: span {o:?} outside 0..{}",
                    data.len()
                );
                assert_eq!(
                    data[o.start], b'{',
                    "documents::scan: span {o:?} not at a brace"
                );
                assert_eq!(
                    data[o.end - 1],
                    b'}',
                    "documents::scan: span {o:?} not at a brace"
                );
            }
            sig.add(bucket(sc.objects.len() as u64));
            sig.add(bucket(sc.open.len() as u64));
            if let Some((v, whole)) = kvtriage::parse::documents::prefix_value(&text) {
                sig.add(u64::from(whole));
                sig.add(bucket(v.as_object().map_or(0, |m| m.len()) as u64));
            }
            let out = kvtriage::parse::tikv_ctl::parse(&text, InputId(0));
            let n = text.lines().count() as u64;
            for e in &out.events {
                assert!(
                    e.loc.line >= 1 && e.loc.line <= n,
                    "tikv_ctl: line {} outside 1..={n}",
                    e.loc.line
                );
            }
            sig.add(bucket(out.events.len() as u64));
            sig.add(u64::from(kvtriage::parse::tikv_ctl::looks_like(&text)));
            sig.add(u64::from(pdctl::is_transcript(&text)));
            for l in text.lines().take(200) {
                let _ = kvtriage::parse::documents::pd_api_command(l);
                let _ = kvtriage::parse::tikv_ctl::command(l);
                let _ = pdctl::is_answer(l.trim());
            }
        }
        Target::HostFacts => {
            // df, open-file limits, zone configs, cluster settings, `--join` lists: every
            // fact cites a line of the text.
            let n = text.lines().count() as u64;
            let within = |what: &str, line: u64| {
                assert!(
                    line >= 1 && line <= n.max(1),
                    "{what}: line {line} outside 1..={n}"
                );
            };
            sig.add(u64::from(kvtriage::parse::df::looks_like(&text)));
            sig.add(u64::from(kvtriage::parse::limits::looks_like(&text)));
            sig.add(u64::from(kvtriage::parse::crdb_sql::looks_like_zones(
                &text,
            )));
            sig.add(u64::from(kvtriage::parse::crdb_sql::looks_like_settings(
                &text,
            )));
            sig.add(u64::from(kvtriage::parse::crdb_join::looks_like_config(
                &text,
            )));
            for kind in [
                Kind::DfOutput,
                Kind::UlimitOutput,
                Kind::CrdbZoneConfigs,
                Kind::CrdbClusterSettings,
                Kind::CrdbStartCommand,
            ] {
                let c = kvtriage::parse::host_input::collect(kind, &text, InputId(0));
                for m in &c.host.mounts {
                    within("df", m.loc.line);
                }
                for l in &c.host.limits {
                    within("limits", l.loc.line);
                }
                for z in &c.crdb.zones {
                    within("zones", z.line);
                }
                for st in &c.crdb.settings {
                    within("settings", st.line);
                }
                for j in &c.crdb.joins {
                    within("joins", j.line);
                    assert!(!j.addresses.is_empty(), "an empty join list");
                }
                sig.add(bucket(c.records));
                sig.add(bucket(c.partial.len() as u64));
            }
            for l in text.lines().take(200) {
                let _ = kvtriage::parse::shell::command_line(l, &["df", "ulimit"]);
                let _ = kvtriage::parse::crdb_join::join_of_line(l, InputId(0), 1);
            }
        }
        Target::UnsafeRecovery => {
            let out = unsafe_recovery::parse(&text, InputId(0));
            for r in &out.reports {
                for st in &r.stages {
                    let _ = st.affected_tables();
                    let _ = st.affected_meta_regions();
                    let _ = st.unreported_stores();
                    let _ = st.undispatched_stores();
                    let _ = st.failed_stores();
                    let _ = st.error_detail();
                    sig.text(st.kind.name());
                }
            }
            sig.add(bucket(out.records));
            sig.text(&shape(out.problem.as_deref().unwrap_or("")));
            for (i, l) in text.split('\n').enumerate() {
                let mut s = Sig::default();
                s.text(unsafe_recovery::classify(l).name());
                let loc = Location {
                    input: InputId(0),
                    line: i as u64 + 1,
                };
                s.add(u64::from(
                    unsafe_recovery::stage_from_text(l, loc).is_some(),
                ));
                feats.insert(s.0);
            }
            let c = sched_input::collect(Kind::PdUnsafeRecovery, &text, InputId(0));
            sig.add(bucket(c.records));
        }
        Target::Analyze => {
            let files = decode_bundle(data);
            feats.extend(run_analyze(&files, h, env));
        }
    }
    feats.insert(sig.0);
    feats.into_iter().collect()
}

fn read_archive(display: &str, data: &[u8], limits: &Limits) -> (Vec<Entry>, u64) {
    let mut v = Vec::new();
    let total = archive::read(display, data, limits, &mut |e| v.push(e));
    (v, total)
}

/// A reader that hands out its bytes in pieces of 1 to `max` bytes, as decoders do.
pub struct Trickle<'a> {
    data: &'a [u8],
    max: usize,
    calls: usize,
}

impl<'a> Trickle<'a> {
    pub fn new(data: &'a [u8], max: usize) -> Trickle<'a> {
        Trickle {
            data,
            max: max.max(1),
            calls: 0,
        }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        let n = buf
            .len()
            .min(self.data.len())
            .min(1 + self.calls.wrapping_mul(7919) % self.max);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Everything a scan yields, as text (to compare two scans).
pub fn scan_view(o: &scan::ScanOutput) -> String {
    let mut s = format!(
        "lines {} records {} unparsed {} dropped {} groups {:?} first {:?} last {:?}\n",
        o.lines,
        o.records,
        o.unparsed_lines,
        o.dropped_events,
        o.group_counts,
        o.first_time,
        o.last_time
    );
    for e in &o.events {
        s.push_str(&format!(
            "event {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
            e.loc.line, e.time, e.level, e.source, e.message, e.fields, e.groups, e.excerpt
        ));
    }
    for t in &o.templates {
        s.push_str(&format!(
            "template {:?} {:?} {} {:?} {:?} {} {:?} {}\n",
            t.template, t.level, t.count, t.first, t.last, t.sample.line, t.per_minute, t.known
        ));
    }
    s
}

/// What `scan_log` says must agree with a line-by-line count.
pub fn check_scan(data: &[u8], format: LogFormat, out: &scan::ScanOutput) {
    let mut lines = 0u64;
    let mut heads = 0u64;
    for l in raw_lines(data) {
        lines += 1;
        heads += u64::from(format.is_head(l));
    }
    assert_eq!(out.lines, lines, "scan_log({format:?}): line count");
    assert_eq!(
        out.records, heads,
        "scan_log({format:?}): records != head lines"
    );
    assert!(
        out.records + out.unparsed_lines <= out.lines,
        "scan_log({format:?}): records + unparsed > lines"
    );
    let mut prev = 0;
    for e in &out.events {
        assert!(
            e.loc.line > prev && e.loc.line <= lines,
            "scan_log({format:?}): event lines not increasing within the file"
        );
        prev = e.loc.line;
        assert!(e.excerpt.chars().count() <= scan::EXCERPT_CHARS);
    }
    for t in &out.templates {
        assert!(t.count >= 1 && t.sample.line >= 1 && t.sample.line <= lines);
    }
}

// ---- the whole pipeline -------------------------------------------------------------------

/// Marks the start of a file in an `analyze` input.
pub const FILE_MARK: &[u8] = b"@@file ";

/// Splits an `analyze` input into files: `@@file <path>\n<content>` sections (the `\n` before a
/// section belongs to the marker). Bytes before the first marker are a file `input.log`.
pub fn decode_bundle(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&data[i..], FILE_MARK) {
        let at = i + p;
        if at == 0 || data[at - 1] == b'\n' {
            starts.push(at);
        }
        i = at + 1;
    }
    let mut out = Vec::new();
    let first = starts.first().copied().unwrap_or(data.len());
    if first > 0 || starts.is_empty() {
        let end = if first > 0 && first < data.len() {
            first - 1
        } else {
            first
        };
        out.push(("input.log".to_string(), data[..end].to_vec()));
    }
    for (k, &s) in starts.iter().enumerate() {
        let next = starts.get(k + 1).map_or(data.len(), |&n| n - 1);
        let body = &data[s + FILE_MARK.len()..next.max(s + FILE_MARK.len())];
        let nl = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
        let name = String::from_utf8_lossy(&body[..nl]).into_owned();
        let content = body.get(nl + 1..).unwrap_or(&[]).to_vec();
        out.push((name, content));
    }
    out.truncate(32);
    out
}

pub fn encode_bundle(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, content)) in files.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(FILE_MARK);
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(content);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A relative path safe to create: `[A-Za-z0-9._+-]` components, no `.`/`..`, at most 4 deep.
pub fn safe_rel_path(name: &str) -> String {
    let parts: Vec<String> = name
        .split(['/', '\\'])
        .map(|c| {
            c.chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '+' | '-') {
                        ch
                    } else {
                        '_'
                    }
                })
                .take(80)
                .collect::<String>()
        })
        .filter(|c| !c.is_empty() && c != "." && c != "..")
        .collect();
    let keep = parts.len().saturating_sub(4);
    parts[keep..].join("/")
}

/// Writes files under `root` (which must be empty); returns the relative paths written.
pub fn write_files(root: &Path, files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut written: Vec<String> = Vec::new();
    for (i, (name, content)) in files.iter().enumerate() {
        let mut rel = safe_rel_path(name);
        if rel.is_empty() || written.contains(&rel) {
            rel = format!("file-{i}");
        }
        let ok = |rel: &str| {
            let p = root.join(rel);
            !p.exists()
                && p.parent()
                    .is_none_or(|d| std::fs::create_dir_all(d).is_ok())
                && std::fs::write(&p, content).is_ok()
        };
        if ok(&rel) {
            written.push(rel);
        } else {
            // A file where a folder should be, or the reverse: keep it at the top.
            let flat = format!("conflict-{i}");
            if ok(&flat) {
                written.push(flat);
            }
        }
    }
    written
}

/// Runs the pipeline on files written to a fresh folder; checks that every file is listed and
/// that every report renders. Returns a signature of the result.
pub fn run_analyze(files: &[(String, Vec<u8>)], h: u64, env: &Env) -> Vec<u64> {
    let run = env.runs.fetch_add(1, Ordering::Relaxed);
    let root = env.scratch.path().join(format!("run-{run}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("scratch folder");
    let written = write_files(&root, files);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        analyze_and_render(&root, &written, h, env)
    }));
    let _ = std::fs::remove_dir_all(&root);
    match result {
        Ok(s) => s,
        Err(p) => panic::resume_unwind(p),
    }
}

fn analyze_and_render(root: &Path, written: &[String], h: u64, env: &Env) -> Vec<u64> {
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let opts = Options {
        paths: vec![root.to_path_buf()],
        assume_tz: zone(h >> 8),
        limits: Limits {
            max_total_bytes: 64 << 20,
            max_member_bytes: 16 << 20,
            max_members: 5_000,
            ..Limits::default()
        },
        keep_level: (h & 1 == 1).then_some(Level::Info),
        templates: h & 2 == 0,
        progress: false,
        since: (h % 8 == 3)
            .then(|| at("2022-03-28T09:34:40+08:00"))
            .flatten(),
        until: (h % 8 == 3)
            .then(|| at("2024-07-22T20:03:00+08:00"))
            .flatten(),
    };
    let a: Analysis = if h.is_multiple_of(4) {
        let a = analyze(
            &Options {
                keep_level: Some(Level::Info),
                ..opts
            },
            &env.rules,
        );
        let t = timeline::select(
            &a,
            &timeline::TimelineFilter {
                level: Some(Level::Info),
                nodes: Vec::new(),
                grep: None,
            },
        );
        let _ = timeline::render_text(&t);
        for l in timeline::render_jsonl(&t).lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(l).is_ok(),
                "timeline jsonl line is not JSON: {l}"
            );
        }
        a
    } else {
        analyze(&opts, &env.rules)
    };
    assert!(!a.inputs.is_empty(), "analyze returned no input at all");
    for w in written {
        let member = format!("{w}!/");
        assert!(
            a.inputs
                .iter()
                .any(|i| i.path == *w || i.path.starts_with(&member)),
            "{w} is missing from the report's inputs: {:?}",
            a.inputs.iter().map(|i| &i.path).collect::<Vec<_>>()
        );
    }
    for f in &a.findings {
        for e in &f.evidence {
            assert!(
                a.input(e.loc.input).is_some(),
                "finding {} cites input {:?}, which is not in the report",
                f.rule,
                e.loc.input
            );
        }
    }
    let json = report::json(&a);
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "the JSON report is not JSON"
    );
    for l in report::jsonl(&a).lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "a JSONL report line is not JSON: {l}"
        );
    }
    let _ = report::markdown(&a);
    let _ = report::table(&a, h & 4 == 0, 20 + (h >> 16) as usize % 180, h & 8 == 0);
    let _ = timeline::render_templates(&a, h & 16 == 0);
    // Features: each input's kind and status, each rule that fired, each note's shape.
    let mut feats: Vec<u64> = a
        .inputs
        .iter()
        .map(|i| {
            fnv(format!(
                "{}/{:?}/{}",
                i.kind,
                i.status,
                shape(i.reason.as_deref().unwrap_or(""))
            )
            .as_bytes())
        })
        .collect();
    feats.extend(a.findings.iter().map(|f| fnv(f.rule.as_bytes())));
    feats.extend(a.notes.iter().map(|n| fnv(shape(n).as_bytes())));
    feats
}

// ---- containers ---------------------------------------------------------------------------

pub fn gzip(data: &[u8], name: Option<&str>) -> Vec<u8> {
    let mut b = flate2::GzBuilder::new();
    if let Some(n) = name {
        b = b.filename(n.as_bytes());
    }
    let mut w = b.write(Vec::new(), flate2::Compression::fast());
    w.write_all(data).expect("in memory");
    w.finish().expect("in memory")
}

pub fn zstd_of(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).expect("in memory")
}

/// A tar with the given regular files; `extras` adds a folder and a symbolic link entry.
pub fn tar_of(files: &[(String, Vec<u8>)], extras: bool) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    if extras {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        let _ = t.append_data(&mut h, "dir/", std::io::empty());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        let _ = t.append_link(&mut h, "dir/link.log", "../etc/passwd");
    }
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        let name = if name.is_empty() { "x" } else { name.as_str() };
        let _ = t.append_data(&mut h, name.trim_start_matches('/'), data.as_slice());
    }
    t.into_inner().unwrap_or_default()
}

pub fn zip_of(files: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in files {
        if z.start_file(name.as_str(), opts).is_ok() {
            let _ = z.write_all(data);
        }
    }
    z.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// Wraps some files in a random container chain (tar, tar.gz, tar.zst, zip, gz, zst, nested).
pub fn random_archive(rng: &mut Rng, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let one = || files.first().map(|f| f.1.as_slice()).unwrap_or(&[]);
    match rng.below(8) {
        0 => tar_of(files, rng.one_in(3)),
        1 => gzip(&tar_of(files, rng.one_in(3)), None),
        2 => zstd_of(&tar_of(files, rng.one_in(3))),
        3 => zip_of(files, rng.one_in(2)),
        4 => gzip(one(), Some("tikv.log")),
        5 => zstd_of(one()),
        6 => {
            // A rotated .gz log inside a .tar.gz, as diagnostic bundles carry them.
            let inner: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(n, d)| (format!("{n}.gz"), gzip(d, None)))
                .collect();
            gzip(&tar_of(&inner, false), None)
        }
        _ => {
            // A zip inside a tar inside a zstd, and a .gz inside the zip.
            let z = zip_of(
                &[
                    ("a.log.gz".to_string(), gzip(one(), None)),
                    ("b.txt".to_string(), one().to_vec()),
                ],
                true,
            );
            zstd_of(&tar_of(&[("inner.zip".to_string(), z)], false))
        }
    }
}

// ---- corpus -------------------------------------------------------------------------------

const UNIFIED_SEEDS: &[&str] = &[
    r#"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] ["KvService::batch_raft send response fail"] [err=RemoteStopped]"#,
    r#"[2022/03/28 09:34:55.711 +08:00] [ERROR] [server.rs:1030] ["failed to init io snooper"] [err_code=KV:Unknown] [err="\"IO snooper is not started due to not compiling with BCC\""]"#,
    r#"[2024/07/22 20:03:04.264 +08:00] [INFO] [operator_controller.go:620] ["send schedule command"] [region-id=513499180] [step="merge region 512607784 into region 513499180"] [source="active push"]"#,
    r#"[2024/07/22 20:02:58.803 +08:00] [INFO] [operator_controller.go:424] ["add operator"] [region-id=1] ["additional info"=]"#,
    r#"[2019/08/21 01:43:01.460 -04:00] [INFO] [util.go:60] [PD] [release-version=v3.0.2]"#,
    r#"[2020/01/01 00:00:00.000 +00:00] [WARN] [a.go:1] ["failed to \"fetch\" [URL]: http://example.com"] [k="[1, 2]"]"#,
    r#"[2019/03/31 16:19:26.017 +00:00] [INFO] [<unknown>] []"#,
    r#"[2024/07/22 20:02:58.803 +08:00] [INFO] [operator_controller.go:424] ["add operator"] [region-id=512607784] [operator="\"merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:512607784(4181, 2581), createAt:2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.512141533, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, size:1, steps:[0:{add learner peer 612422577 on store 16910359}, 1:{merge region 512607784 into region 513499180}], timeout:[17m0s])\""] ["additional info"=]"#,
    r#"[2022/03/28 09:34:38.062123456 +08:00] [FATAL] [lib.rs:465] ["panic"] [backtrace="   0: tikv\n   1: std"]"#,
];

const LEGACY_SEEDS: &[&str] = &[
    "2018/03/16 09:30:27.997 tikv-server.rs:121: [INFO] start prometheus client",
    "2018/12/27 17:30:27.764 INFO <unknown>:719: [region 335325] 335327 became follower at term 39",
    "2019/08/13 03:27:49.382 ERRO mod.rs:26: boom",
    "2018/12/11 07:01:40.364 node.go:306: [info] raft.node: 91300bc8094d0151 elected leader",
    "2016/08/24 20:48:52 server.go:93: [warning] x",
    "2018/11/01 19:52:07.513 server.go:106: [info] PD config - {",
];

const JSON_SEEDS: &[&str] = &[
    r#"{"level":"INFO","time":"2022/01/14 08:09:55.307 +01:00","caller":"printer.go:34","message":"Welcome to TiDB.","Release Version":"v5.3.0"}"#,
    r#"{"level":"WARN","time":"2024/07/22 20:02:58.803 +08:00","caller":"cluster.go:1","message":"store disconnected","store-id":5,"nested":{"a":[1,2]}}"#,
    r#"{"ts":"2022/01/14 08:09:55.307 +01:00","level":"error","msg":"x","err":null}"#,
];

const CRDB_SEEDS: &[&str] = &[
    "I220202 20:51:24.672435 2867 1@server/drain.go:210 \u{22ee} [n1,server drain process] 320  drain remaining: 0",
    "W220202 20:51:24.672435 2867 server/drain.go:210  [n1] drain remaining: 12",
    "E220202 20:51:24.672435 2867 kv/kvserver/replica.go:1 \u{22ee} [n3,s3,r42/2:/Table/5{3-4}] 12 +continued text",
    "I220202 20:40:12.123456 1 util/log/file_sync_buffer.go:238 \u{22ee} [config]   file created at: 2022/02/02 20:40:12",
    "I220202 20:52:30.000001 123 3@util/log/event_log.go:32 \u{22ee} [n2] 44 ={\"Timestamp\":1643835150000000001,\"EventType\":\"node_restart\",\"NodeID\":2}",
    "I220202 20:52:30.000001 123 util/log/event_log.go:32  [n2] Structured entry: {\"EventType\":\"node_decommissioned\",\"TargetNodeID\":4",
    "F220202 20:52:30.000001 123 (gostd) net/http/server.go:3195 \u{e2}\u{2039}\u{ae} [-] 1 !goroutine 1 [running]:",
    "I220202 20:52:30.000001 123 [db/version_set.cc:3406] recovered",
];

const TABLE_SEEDS: &[&str] = &[
    "  id |     address     |   build   |         started_at         |         updated_at         | locality | is_available | is_live\n-----+-----------------+-----------+----------------------------+----------------------------+----------+--------------+----------\n   1 | localhost:26257 | v22.2.0   | 2022-02-02 20:40:11.5      | 2022-02-02 20:52:31.6      |          | true         | true\n   2 | localhost:26258 | v22.2.0   | NULL                       | NULL                       |          | false        | false\n(2 rows)\n",
    "id\tis_live\treplicas\tis_decommissioning\tmembership\tis_draining\n4\ttrue\t12\ttrue\tdecommissioning\tfalse\n",
    "node_id,address,is_live,gossiped_replicas\n1,\"a,b:26257\",t,33\n",
    "+----+---------+----------+\n| id | is_live | replicas |\n+----+---------+----------+\n|  4 | true    |       12 |\n+----+---------+----------+\n",
    "ranges blocking decommission detected\nn1 has 44 replicas blocked with error: \"0 of 1 live stores are able to take a new replica\"\nn3 still has replica id 2 for range r1\npossible decommission stall detected\n$ cockroach node decommission 4 --insecure --host=localhost\n...\nNo more data reported on target nodes. Please verify cluster health before removing the nodes.\n",
];

const PDCTL_SEEDS: &[&str] = &[
    "$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 region store 5\n{ \"count\": 1, \"regions\": [ { \"id\": 434317, \"peers\": [ {\"id\": 1, \"store_id\": 5, \"role_name\": \"Voter\"} ], \"leader\": {\"role_name\": \"Voter\"} } ] }\n",
    "{ \"store\": { \"id\": 5, \"address\": \"10.0.1.5:20160\", \"state_name\": \"Offline\", \"labels\": [{\"key\": \"engine\", \"value\": \"tiflash\"}] }, \"status\": { \"capacity\": \"1.5TiB\", \"available\": \"10GiB\", \"region_count\": 3, \"last_heartbeat_ts\": \"2023-06-04T17:36:54.941590113+08:00\" } }",
    "\"stores\": [\n  { \"store\": { \"id\": 1, \"state_name\": \"Up\" }, \"status\": {} },\n  { \"store\": { \"id\": 2, \"state_name\": \"Disconnected\" }, \"status\": { \"capaci",
    "» config show\n{\n  \"replication\": { \"max-replicas\": 3 },\n  \"schedule\": { \"merge-schedule-limit\": 0, \"max-merge-region-size\": 20 }\n}\nFailed! [500] \"cannot build operator for region with no leader\"\nSuccess!\n",
];

const CONFIG_SEEDS: &[&str] = &[
    "[storage]\nreserve-space = \"5GB\"\ndata-dir = \"/data/tikv\"\n[raftstore]\ncapacity = \"10G",
    "name = \"pd\"\nclient-urls = \"http://0.0.0.0:2379\"\n[replication]\nmax-replicas = 3\nlocation-labels = [\"zone\", \"host\"]\n[schedule]\nmax-merge-region-size = 20\n",
    "$ cat topology.yaml\nglobal:\n  user: tidb\n  data_dir: /tidb-data\nserver_configs:\n  pd:\n    replication.max-replicas: 5\ntikv_servers:\n  - host: 10.0.1.1\n    port: 20161\n    config:\n      server.labels: { zone: bj }\n  - host: \"10.0.1",
    "apiVersion: pingcap.com/v1alpha1\nkind: TidbCluster\nmetadata:\n  name: basic\nspec:\n  version: v8.5.4\n  pd:\n    replicas: 3\n    config: |\n      [replication]\n      max-replicas = 3\n  tikv:\n    replicas: 2\n    config:\n      storage:\n        reserve-space: 0MB\n",
    "[\n  {\"group_id\": \"pd\", \"id\": \"default\", \"start_key\": \"\", \"end_key\": \"\", \"role\": \"voter\", \"count\": 3},\n  ...\n]\n",
];

const DOCUMENT_SEEDS: &[&str] = &[
    "$ ./pd-ctl store check up\n{\n  \"count\": 3,\n  \"stores\": [\n    {\n      \"store\": {\n        \"id\": 3,\n\t...\n\n$ ./pd-ctl store check hu\nFailed to get store: [400] \"unknown StoreState: hu\"\n",
    "[tidb@localhost deploy]$ ./bin/tikv-ctl --db /data/tikv/db/ --raftdb /data/tikv/raft/ bad-regions\n2: StringError(\"last index < applied index\")\n",
    "$ tikv-ctl --host 127.0.0.1:20160 consistency-check -r 2\nsuccess!\n$ tikv-ctl --data-dir /d size -r 2\nregion id: 2\ncf default region size: 799.703 MB\n",
    "[jenkins@k8s ~]$ curl 127.0.0.1:2379/pd/api/v1/schedulers\n[\n  \"evict-leader-scheduler-4\"\n]\n» scheduler remove x\n[404] \"scheduler not found\"\n",
    "{\"channel\":\"HEALTH\",\"timestamp\":\"1635365292.961975000\",\"severity\":\"INFO\",\"tags\":{\"n\":\"1\"},\"message\":\"runtime stats: 178 MiB RSS, 1.4/1",
];

const HOST_SEEDS: &[&str] = &[
    "$  df -h\nFilesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p1  8.0G  3.7G  4.3G  47% /\n/dev/md0        550G  262G  261G  51% /mnt/disk\n",
    "root@oxz:~# df -h /var\nFilesystem             Size   Used  Available Capacity  Mounted on\noxp_ae56280b/crypt/zone\n                     649.21M 632.11M     17.10M    98%    /\n",
    "Filesystem     Type     1K-blocks    Used Available Use% Mounted on\n/dev/xvda1     ext4       8065444 1042968   7006092  13% /\n",
    "$ ulimit -Hn\n4096\n\n$ ulimit -Sn\n1024\n~ulimit -a\nopen files                      (-n) 900000\n",
    "$ cat /proc/63491/limits\nLimit                     Soft Limit           Hard Limit           Units\nMax open files            65536                65536                files\nprlimit --pid 14559\nNOFILE     max number of open files                1024      4096\n",
    "  target | raw_config_sql\n---------+----------------\n  RANGE default | ALTER RANGE default CONFIGURE ZONE USING\n                |     num_replicas = 5,\n                |     constraints = '[+region=a, +zone=b]'\n(1 row)\n",
    "target,raw_config_sql\nRANGE default,\"ALTER RANGE default CONFIGURE ZONE USING\n    num_replicas = 3\"\n",
    "+-----+-----+\n| target | raw_config_sql |\n+-----+-----+\n| RANGE default | ALTER RANGE default CONFIGURE ZONE USING |\n|  |     num_replicas = 5 |\n+---+---+\n(1 row)\n",
    "  variable | value | setting_type | description\n-----------+-------+--------------+------------\n  server.time_until_store_dead | 5m0s | d | the time\n(1 row)\n> SHOW CLUSTER SETTING x.y;\n  x.y\n-----\n  true\n(1 row)\n",
    "[Service]\nExecStart=/usr/local/bin/cockroach start --join='a:26257 ,b:26257' --insecure\napiVersion: apps/v1\nkind: StatefulSet\n            /cockroach/cockroach\n            start\n            --join cockroachdb-0.cockroachdb,cockroachdb-1.cockroachdb\n",
];

const OPERATOR_SEEDS: &[&str] = &[
    "merge-region {merge: region 512607784 to 513499180} (kind:leader,region,merge, region:512607784(4181, 2581), createAt:2024-07-22 20:02:58.803076494 +0800 CST m=+27423622.512141533, startAt:2024-07-22 20:02:58.803 +0800 CST, currentStep:1, size:1, steps:[0:{add learner peer 612422577 on store 16910359}, 1:{merge region 512607784 into region 513499180}], timeout:[17m0s]) timeout",
    "\"balance-region (kind:region, region:1(1,1), createAt:2019-01-01 00:00:00 +0000 UTC, startAt:0001-01-01 00:00:00 +0000 UTC, currentStep:0, steps:[add learner peer 2 on store 3, promote learner peer 2 on store 3 to voter, remove peer on store 1]) finished\"",
    "[\"admin-merge-region {merge: region 1 to 2} (kind:admin,merge, region:1(2, 3), createAt:..., steps:[...])\"]",
    "[{\"desc\":\"merge-region\",\"brief\":\"merge: region 1 to 2\",\"region_id\":1,\"status\":\"RUNNING\",\"kind\":\"merge\"}]",
    "\"status: RUNNING, operator: merge-region {merge: region 1 to 2} (kind:merge, region:1(1, 1), currentStep:0, steps:[0:{merge region 1 into region 2}])\"",
];

const PROM_SEEDS: &[&str] = &[
    "# HELP pd_regions_status Status of the regions.\n# TYPE pd_regions_status gauge\npd_regions_status{type=\"empty-region-count\",instance=\"pd:2379\"} 1234 1720513523105\npd_regions_status{type=\"miss-peer-region-count\"} NaN\nprocess_start_time_seconds 1.7205e+09\nx{l=\"a\\\"b\\\\c\\n\"} +Inf\n# EOF\n",
    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"pd_checker_event_count\",\"type\":\"merge-checker-disabled\"},\"values\":[[1720506323,\"3\"],[1720506383,\"NaN\"]]}]}}",
    "$ curl http://prom:9090/api/v1/query\n{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"up\"},\"value\":[1720506323.5,\"1\"]}]}}",
    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}",
];

const RECOVERY_SEEDS: &[&str] = &[
    "[\n  {\n    \"info\": \"Unsafe recovery enters collect report stage: failed stores 4, 5, 6\",\n    \"time\": \"2022-07-01 14:00:00.000\"\n  },\n  {\n    \"info\": \"Unsafe recovery enters force leader stage\",\n    \"time\": \"......\",\n    \"actions\": { \"store 1\": [\"force leader on regions: 1001, 1002\"] },\n  },\n  {\n    \"info\": \"Unsafe recovery finished\",\n    \"details\": [\"affected table ids: 64, 27\", \"affected meta regions: 1001\"]\n  }\n]\n",
    "[\"Collecting reports from alive stores(1/3)\", \"Stores that have not reported to PD: 5, 6\"]",
    "[\"No on-going recovery.\"]",
    "[2022/07/01 14:00:00.000 +08:00] [INFO] [unsafe_recovery_controller.go:1] [\"{\\\"info\\\":\\\"Unsafe recovery enters exit force leader stage\\\",\\\"details\\\":[\\\"triggered by error: x\\\"]}\"]",
];

const TIME_SEEDS: &[&str] = &[
    "2022/03/28 09:34:38.062 +08:00",
    "2023-06-04T17:36:54.941590113+08:00",
    "2024-07-22 20:02:58.803075332 +0800 CST m=+27423622.51",
    "2022-03-28 09:34:38.062",
    "2016/08/24 20:48:52",
    "0001-01-01 00:00:00 +0000 UTC",
    "2022/02/30 25:61:61.1234567890 +99:99",
];

/// Extra tokens a mutation inserts: structure of every format and bytes parsers trip on.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\\"",
    b"\\u00",
    b"\\ud800",
    b"[",
    b"]",
    b"[]",
    b"=",
    b"\n",
    b"\r",
    b"\r\n",
    b"\xff",
    b"\xc3",
    b"\xe2\x8b",
    "\u{22ee}".as_bytes(),
    " \u{22ee} ".as_bytes(),
    "\u{e2}\u{2039}\u{ae}".as_bytes(),
    "é".as_bytes(),
    "🦀".as_bytes(),
    b"{",
    b"}",
    b"{}",
    b"[{",
    b"}]",
    b",",
    b":",
    b"\t",
    b"|",
    b"+",
    b"-",
    b" ",
    b"  ",
    b"\0",
    b"\x1f\x8b",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
    b"\x28\xb5\x2f\xfd",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"ustar",
    b"\xef\xbb\xbf",
    b"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] ",
    b"[2024/07/22 20:02:58.803 +08:00] [INFO] [cluster.go:1] [\"",
    b"[INFO]",
    b"[WARN] ",
    b"[FATAL]",
    b"2018/03/16 09:30:27.997 ",
    "I220202 20:51:24.672435 2867 1@server/drain.go:210 \u{22ee} [n1] 320  ".as_bytes(),
    b"W220202 20:51:24.672435 ",
    b"{\"level\":\"WARN\",",
    b"\"time\":",
    b"\"stores\": [",
    b"\"regions\": [",
    b"\"store\":",
    b"\"status\":",
    b"\"peers\": [",
    b"\"id\": ",
    b"\"count\": ",
    b"\"state_name\": \"Offline\"",
    b"id | address | is_live",
    b"-----+-----",
    b"(3 rows)",
    b"+----+",
    b"n1 has 3 replicas blocked with error: ",
    b"n3 still has replica id 2 for range r1",
    b"99999999999999999999",
    b"-1",
    b"0",
    b"18446744073709551615",
    b"9223372036854775808",
    b"NaN",
    b"+Inf",
    b"1e308",
    b"-0.0e-400",
    b"9999/99/99 99:99:99.999 +99:99",
    b"0000/00/00 00:00:00.",
    b"merge-region {merge: region 1 to 2} (kind:merge, region:1(1, 1), createAt:",
    b"steps:[",
    b"currentStep:",
    b"timeout:[",
    b" finished",
    b" timeout",
    b"# HELP ",
    b"# TYPE ",
    b"pd_regions_status{type=\"empty-region-count\"} ",
    b"\"resultType\":\"matrix\"",
    b"\"values\":[[",
    b"Unsafe recovery",
    b"\"info\":",
    b"\"details\":[",
    b"Failed! [500] ",
    b"cannot build operator",
    b"Success!",
    b"tiup ctl:v5.2.1 pd -u http://pd:2379 ",
    b"cockroach node decommission 4 --insecure",
    b"!/",
    b"../",
    b"@@file ",
];

/// Numbers a mutation puts in place of a run of digits.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "255",
    "256",
    "65535",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "00",
    "1e9",
];

/// The fixture files and what is built from them, in a fixed order.
pub struct Corpus {
    /// (path relative to its root, content), sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
    /// `analyze` inputs: one per fixture bundle.
    pub bundles: Vec<Vec<u8>>,
    /// `archive` inputs.
    pub archives: Vec<Vec<u8>>,
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, out);
        } else if let Ok(data) = std::fs::read(&p) {
            let rel = p.strip_prefix(base).unwrap_or(&p);
            out.push((rel.to_string_lossy().replace('\\', "/"), data));
        }
    }
}

/// A fixture's bundle: its top folder, or a rule's case `rules/<product>/<id>/<case>`.
fn bundle_key(rel: &str) -> (String, String) {
    let parts: Vec<&str> = rel.split('/').collect();
    let n = if parts.first() == Some(&"rules") {
        4
    } else {
        1
    };
    let n = n.min(parts.len().saturating_sub(1));
    (parts[..n].join("/"), parts[n..].join("/"))
}

impl Corpus {
    /// Reads `fixtures/` of this crate and any extra folders.
    pub fn load(extra: &[PathBuf]) -> Corpus {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files = Vec::new();
        walk(&fixtures, &fixtures, &mut files);
        // The rules' test cases: the folders beside each rule file (not the rules themselves).
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cases = Vec::new();
        walk(&crate_dir.join("rules"), crate_dir, &mut cases);
        files.extend(cases.into_iter().filter(|(p, _)| {
            p.split('/').count() > 4 && !p.ends_with(".toml") && !p.ends_with("SOURCE.md")
        }));
        for d in extra {
            let mut more = Vec::new();
            walk(d, d, &mut more);
            files.extend(more.into_iter().map(|(p, c)| (format!("extra/{p}"), c)));
        }
        let mut groups: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for (rel, data) in &files {
            let (key, inner) = bundle_key(rel);
            groups.entry(key).or_default().push((inner, data.clone()));
        }
        let mut bundles: Vec<Vec<u8>> = groups.values().map(|g| encode_bundle(g)).collect();
        // Single-file bundles of every built-in seed family too.
        for (name, seeds) in [
            ("tikv.log", UNIFIED_SEEDS),
            ("pd.log", LEGACY_SEEDS),
            ("tidb.log", JSON_SEEDS),
            ("cockroach.log", CRDB_SEEDS),
            ("node-status.txt", TABLE_SEEDS),
            ("stores.txt", PDCTL_SEEDS),
            ("operators.json", OPERATOR_SEEDS),
            ("metrics.prom", PROM_SEEDS),
            ("recovery.json", RECOVERY_SEEDS),
            ("tikv.toml", CONFIG_SEEDS),
        ] {
            bundles.push(encode_bundle(&[(
                name.to_string(),
                seeds.join("\n").into_bytes(),
            )]));
        }
        let mut rng = Rng::new(0x5eed);
        let mut archives = Vec::new();
        let groups: Vec<&Vec<(String, Vec<u8>)>> = groups.values().collect();
        for (i, g) in groups.iter().enumerate() {
            let small: Vec<(String, Vec<u8>)> = g.iter().take(4).cloned().collect();
            archives.push(random_archive(&mut rng, &small));
            archives.push(match i % 4 {
                0 => gzip(&tar_of(&small, true), None),
                1 => zip_of(&small, true),
                2 => zstd_of(&tar_of(&small, false)),
                _ => tar_of(&small, false),
            });
        }
        for (_, data) in &files {
            if archive::detect(data).is_some() {
                archives.push(data.clone());
            }
        }
        Corpus {
            files,
            bundles,
            archives,
        }
    }

    /// The starting inputs of a target, built-in seeds first.
    pub fn seeds(&self, target: Target) -> Vec<Vec<u8>> {
        let family: &[&[&str]] = match target {
            Target::Unified => &[UNIFIED_SEEDS],
            Target::Legacy => &[LEGACY_SEEDS],
            Target::Jsonlog => &[JSON_SEEDS],
            Target::CrdbLog => &[CRDB_SEEDS],
            Target::CrdbTable => &[TABLE_SEEDS, CRDB_SEEDS],
            Target::Pdctl => &[PDCTL_SEEDS],
            Target::Time => &[TIME_SEEDS, UNIFIED_SEEDS, LEGACY_SEEDS],
            Target::Operator => &[OPERATOR_SEEDS, UNIFIED_SEEDS],
            Target::Prometheus => &[PROM_SEEDS],
            Target::UnsafeRecovery => &[RECOVERY_SEEDS],
            Target::Documents => &[DOCUMENT_SEEDS, PDCTL_SEEDS],
            Target::Configs => &[CONFIG_SEEDS, PDCTL_SEEDS],
            Target::HostFacts => &[HOST_SEEDS],
            Target::Archive => return self.archives.clone(),
            Target::Analyze => return self.bundles.clone(),
            Target::Scan | Target::Sniff => &[
                UNIFIED_SEEDS,
                LEGACY_SEEDS,
                JSON_SEEDS,
                CRDB_SEEDS,
                TABLE_SEEDS,
                PDCTL_SEEDS,
                PROM_SEEDS,
                RECOVERY_SEEDS,
                CONFIG_SEEDS,
            ],
        };
        let mut out: Vec<Vec<u8>> = Vec::new();
        for seeds in family {
            out.extend(seeds.iter().map(|s| s.as_bytes().to_vec()));
            out.push(seeds.join("\n").into_bytes());
        }
        out.extend(
            self.files
                .iter()
                .filter(|(_, d)| archive::detect(d).is_none())
                .map(|(_, d)| d.clone()),
        );
        out
    }
}

// ---- mutation -----------------------------------------------------------------------------

/// Line boundaries `(start, end_with_newline)`.
fn line_spans(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut s = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            v.push((s, i + 1));
            s = i + 1;
        }
    }
    if s < data.len() {
        v.push((s, data.len()));
    }
    v
}

/// A random window of up to `max` lines.
pub fn window(rng: &mut Rng, data: &[u8], max: usize) -> Vec<u8> {
    let spans = line_spans(data);
    if spans.len() <= max {
        return data.to_vec();
    }
    let n = rng.small_len(max);
    let first = rng.below(spans.len() - n + 1);
    data[spans[first].0..spans[first + n - 1].1].to_vec()
}

/// Applies one random mutation.
pub fn mutate_once(rng: &mut Rng, buf: &mut Vec<u8>, others: &[Vec<u8>]) {
    let len = buf.len();
    let at = rng.below(len + 1);
    match rng.below(16) {
        0 if len > 0 => {
            let i = rng.below(len);
            buf[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            buf[i] = rng.next_u64() as u8;
        }
        2 => {
            let n = rng.small_len(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            buf.splice(at..at, bytes);
        }
        3 if len > 0 => {
            let n = rng.small_len(64).min(len - at.min(len - 1));
            let s = at.min(len - 1);
            buf.drain(s..s + n);
        }
        4 | 5 if !others.is_empty() => {
            // Splice a chunk of another corpus item in (insert or overwrite).
            let o = rng.pick(others);
            if !o.is_empty() {
                let s = rng.below(o.len());
                let n = rng.small_len(256).min(o.len() - s);
                let chunk = o[s..s + n].to_vec();
                if rng.one_in(2) {
                    buf.splice(at..at, chunk);
                } else {
                    let e = (at + n).min(len);
                    buf.splice(at..e, chunk);
                }
            }
        }
        6 if !others.is_empty() => {
            // Crossover: our head, another item's tail.
            let o = rng.pick(others);
            let s = rng.below(o.len() + 1);
            buf.truncate(at);
            buf.extend_from_slice(&o[s..]);
        }
        7 => buf.truncate(at),
        8 if len > 0 => {
            // Repeat a chunk, now and then many times (long lines, deep nesting).
            let s = rng.below(len);
            let n = rng.small_len(64).min(len - s);
            let times = if rng.one_in(8) {
                rng.small_len(4096)
            } else {
                rng.small_len(16)
            };
            let chunk = buf[s..s + n].repeat(times);
            buf.splice(s..s, chunk);
        }
        9 | 10 => {
            let t = rng.pick(TOKENS).to_vec();
            if rng.one_in(3) {
                let e = (at + t.len()).min(len);
                buf.splice(at..e, t);
            } else {
                buf.splice(at..at, t);
            }
        }
        11 => {
            // Line surgery: duplicate, drop or swap whole lines.
            let spans = line_spans(buf);
            if spans.len() >= 2 {
                let a = spans[rng.below(spans.len())];
                let b = spans[rng.below(spans.len())];
                match rng.below(3) {
                    0 => {
                        let l = buf[a.0..a.1].to_vec();
                        buf.splice(b.0..b.0, l);
                    }
                    1 => {
                        buf.drain(a.0..a.1);
                    }
                    _ => {
                        let (x, y) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                        if x.1 <= y.0 {
                            let lx = buf[x.0..x.1].to_vec();
                            let ly = buf[y.0..y.1].to_vec();
                            buf.splice(y.0..y.1, lx);
                            buf.splice(x.0..x.1, ly);
                        }
                    }
                }
            }
        }
        12 => {
            // A run of digits becomes an extreme number.
            let starts: Vec<usize> = (0..len)
                .filter(|&i| buf[i].is_ascii_digit() && (i == 0 || !buf[i - 1].is_ascii_digit()))
                .collect();
            if !starts.is_empty() {
                let s = *rng.pick(&starts);
                let e = s + buf[s..].iter().take_while(|b| b.is_ascii_digit()).count();
                let n = rng.pick(NUMBERS).as_bytes().to_vec();
                buf.splice(s..e, n);
            }
        }
        13 if len > 0 => {
            // Delete up to the next structural byte, or duplicate up to it.
            let s = rng.below(len);
            let e = buf[s..]
                .iter()
                .position(|b| b"]}\"\n ,|".contains(b))
                .map_or(len, |p| s + p + 1);
            if rng.one_in(2) {
                buf.drain(s..e);
            } else {
                let chunk = buf[s..e].to_vec();
                buf.splice(s..s, chunk);
            }
        }
        14 if len > 0 => {
            // Swap the case of an ASCII letter run (levels, keys, booleans).
            let s = rng.below(len);
            for b in buf[s..].iter_mut().take(8) {
                if b.is_ascii_alphabetic() {
                    *b ^= 0x20;
                }
            }
        }
        _ => {
            let t = rng.pick(TOKENS).to_vec();
            buf.splice(at..at, t);
        }
    }
}

/// A mutant of `base`: 1, 2, 4, ... stacked mutations, cut to `max_len`.
pub fn mutate(rng: &mut Rng, base: &[u8], others: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut buf = base.to_vec();
    let n = 1usize << rng.below(5);
    for _ in 0..n {
        mutate_once(rng, &mut buf, others);
        if buf.len() > max_len {
            buf.truncate(max_len);
        }
    }
    buf
}

/// The next input of a target from the pool.
fn generate(target: Target, rng: &mut Rng, pool: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    if rng.one_in(32) {
        // Pure noise, sometimes behind a magic number or a log head.
        let n = rng.small_len(2048);
        let mut b: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        if rng.one_in(2) {
            let t = rng.pick(TOKENS);
            b.splice(0..0, t.iter().copied());
        }
        return b;
    }
    let base = rng.pick(pool).clone();
    match target {
        Target::Archive if rng.one_in(3) => {
            // Structure-aware: fresh containers around mutated members.
            let k = 1 + rng.below(4);
            let files: Vec<(String, Vec<u8>)> = (0..k)
                .map(|i| {
                    let idx = rng.below(pool.len());
                    let src = window(rng, &pool[idx], 200);
                    let content = if rng.one_in(2) {
                        mutate(rng, &src, pool, max_len / 4)
                    } else {
                        src
                    };
                    let names = ["tikv.log", "pd.log", "../x/stores.json", "a/./b//c.txt", ""];
                    (format!("{}{i}", rng.pick(&names)), content)
                })
                .collect();
            let mut a = random_archive(rng, &files);
            for _ in 0..rng.below(3) {
                mutate_once(rng, &mut a, pool);
            }
            a.truncate(max_len);
            a
        }
        Target::Analyze if rng.one_in(2) => {
            // Structure-aware: mutate one file of the bundle, or its file list.
            let mut files = decode_bundle(&base);
            if files.is_empty() {
                return base;
            }
            let i = rng.below(files.len());
            match rng.below(8) {
                0 if files.len() > 1 => {
                    files.remove(i);
                }
                1 => {
                    let o: &Vec<u8> = rng.pick(pool);
                    let other = decode_bundle(o);
                    if let Some(f) = other.first() {
                        files.push(f.clone());
                    }
                }
                2 => {
                    let gz_name = format!("{}.gz", files[i].0);
                    files[i] = (gz_name, gzip(&files[i].1, None));
                }
                3 => {
                    let names = [
                        "tikv-10.0.1.5-20160/log/tikv.log",
                        "pd-10.0.1.1-2379/log/pd.log",
                        "pdctl/stores.json",
                        "nodes/1/logs/cockroach.log",
                        "node-status.txt",
                        "bundle.tar.gz",
                    ];
                    files[i].0 = rng.pick(&names).to_string();
                }
                _ => {
                    let o: &Vec<u8> = rng.pick(pool);
                    let others: Vec<Vec<u8>> = decode_bundle(o).into_iter().map(|f| f.1).collect();
                    files[i].1 = mutate(rng, &files[i].1, &others, max_len);
                }
            }
            let mut b = encode_bundle(&files);
            b.truncate(max_len);
            b
        }
        _ => {
            let base = if target.windowed() && rng.one_in(2) {
                window(rng, &base, 64)
            } else {
                base
            };
            mutate(rng, &base, pool, max_len)
        }
    }
}

// ---- running --------------------------------------------------------------------------------

static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Records the site and message of panics. `quiet` silences the default report (the fuzzer's
/// own summary names every crash); set only once per process.
pub fn install_panic_hook(quiet: bool) {
    HOOK.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let site = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "?".into());
            let p = info.payload();
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let mut g = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
            if g.is_none() {
                *g = Some((site, msg));
            }
            drop(g);
            if !quiet {
                prev(info);
            }
        }));
    });
}

/// A caught panic: where and what.
#[derive(Clone, Debug)]
pub struct Crash {
    pub site: String,
    pub message: String,
}

/// Runs one execution under `catch_unwind`.
pub fn run_caught(target: Target, data: &[u8], env: &Env) -> Result<Vec<u64>, Crash> {
    catch(|| execute(target, data, env))
}

/// Runs `f`, turning a panic into a [`Crash`] with the site the panic hook recorded.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Crash> {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Ok(v),
        Err(payload) => {
            let (site, message) = LAST_PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| {
                    let m = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    ("?".into(), m)
                });
            Err(Crash { site, message })
        }
    }
}

/// Shrinks a crashing input while it still crashes at the same site.
pub fn minimize(target: Target, data: &[u8], site: &str, env: &Env, budget: usize) -> Vec<u8> {
    let by_line = target != Target::Analyze && target != Target::Archive;
    minimize_with(
        data,
        budget,
        by_line,
        |cand| matches!(run_caught(target, cand, env), Err(c) if c.site == site),
    )
}

/// Shrinks `data` while `still_fails` holds: single lines first (when `by_line`), then chunk
/// removal with halving chunk sizes. Bounded by `budget` calls of `still_fails`.
pub fn minimize_with(
    data: &[u8],
    budget: usize,
    by_line: bool,
    mut still_fails: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let left = std::cell::Cell::new(budget);
    let mut fails = |cand: &[u8]| -> bool {
        if left.get() == 0 {
            return false;
        }
        left.set(left.get() - 1);
        still_fails(cand)
    };
    let mut cur = data.to_vec();
    if by_line {
        let spans = line_spans(&cur);
        if spans.len() > 1 {
            for &(s, e) in spans.iter().take(4000) {
                let line = cur[s..e].strip_suffix(b"\n").unwrap_or(&cur[s..e]).to_vec();
                if fails(&line) {
                    cur = line;
                    break;
                }
            }
        }
    }
    let mut chunk = (cur.len() / 2).max(1);
    loop {
        let mut i = 0;
        let mut progress = false;
        while i < cur.len() {
            let e = (i + chunk).min(cur.len());
            let mut cand = cur[..i].to_vec();
            cand.extend_from_slice(&cur[e..]);
            if fails(&cand) {
                cur = cand;
                progress = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 && !progress {
            break;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
        if left.get() == 0 {
            break;
        }
    }
    cur
}

/// Where crash inputs go: `<target dir>/fuzz-crashes`.
pub fn crash_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("fuzz-crashes")
}

pub fn save(dir: &Path, target: Target, data: &[u8], suffix: &str) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let p = dir.join(format!("{}-{:016x}{suffix}.bin", target.name(), fnv(data)));
    let _ = std::fs::write(&p, data);
    p
}

/// How a run is bounded and reported.
#[derive(Clone, Debug)]
pub struct Config {
    pub iterations: Option<u64>,
    pub seconds: Option<f64>,
    pub seed: u64,
    pub max_len: Option<usize>,
    pub minimize: bool,
    /// Print progress and crash details.
    pub verbose: bool,
    pub crash_dir: PathBuf,
    /// Executions slower than this are saved (`.slow.bin`) and reported.
    pub slow: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            iterations: None,
            seconds: None,
            seed: 1,
            max_len: None,
            minimize: true,
            verbose: true,
            crash_dir: crash_dir(),
            slow: Duration::from_secs(2),
        }
    }
}

/// One crash site as found.
#[derive(Clone, Debug)]
pub struct Site {
    pub count: u64,
    pub message: String,
    pub first: PathBuf,
    pub minimized: Option<(PathBuf, Vec<u8>)>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub executions: u64,
    pub crashes: u64,
    pub seconds: f64,
    pub sites: BTreeMap<String, Site>,
    pub pool: usize,
    pub shapes: usize,
    pub slowest: Duration,
    pub slow_inputs: Vec<PathBuf>,
}

/// Shared with the hang watchdog: what is running now.
#[derive(Default)]
pub struct Watch {
    pub generation: AtomicU64,
    pub current: Mutex<(Option<Target>, Vec<u8>)>,
}

/// Mutants kept beside the seeds; beyond this a new one replaces a random one.
const POOL_MAX: usize = 4000;

/// Fuzzes one target.
pub fn fuzz(
    target: Target,
    cfg: &Config,
    env: &Env,
    corpus: &Corpus,
    watch: Option<&Watch>,
) -> Stats {
    let mut rng = Rng::new(cfg.seed ^ fnv(target.name().as_bytes()));
    let max_len = cfg.max_len.unwrap_or(target.default_max_len());
    let seeds = corpus.seeds(target);
    let mut pool: Vec<Vec<u8>> = seeds.clone();
    let mut seen: HashSet<u64> = HashSet::new();
    let limit = match (cfg.iterations, cfg.seconds) {
        (None, None) => Some(target.default_iterations()),
        (i, _) => i,
    };
    let deadline = cfg.seconds.map(Duration::from_secs_f64);
    let start = Instant::now();
    let mut st = Stats::default();
    let mut last_report = Instant::now();
    loop {
        if limit.is_some_and(|l| st.executions >= l)
            || deadline.is_some_and(|d| start.elapsed() >= d)
        {
            break;
        }
        let i = st.executions as usize;
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            generate(target, &mut rng, &pool, max_len)
        };
        if let Some(w) = watch {
            *w.current.lock().unwrap_or_else(|e| e.into_inner()) = (Some(target), input.clone());
            w.generation.fetch_add(1, Ordering::SeqCst);
        }
        let t0 = Instant::now();
        let result = run_caught(target, &input, env);
        let took = t0.elapsed();
        st.executions += 1;
        if took > st.slowest {
            st.slowest = took;
        }
        if took > cfg.slow && st.slow_inputs.len() < 5 {
            let p = save(&cfg.crash_dir, target, &input, ".slow");
            if cfg.verbose {
                eprintln!(
                    "slow: {} took {:.1} s on {} bytes, saved {}",
                    target.name(),
                    took.as_secs_f64(),
                    input.len(),
                    p.display()
                );
            }
            st.slow_inputs.push(p);
        }
        match result {
            Ok(feats) => {
                let mut new = false;
                for f in feats {
                    new |= seen.insert(f);
                }
                if new && i >= seeds.len() {
                    if pool.len() < seeds.len() + POOL_MAX {
                        pool.push(input);
                    } else {
                        let k = seeds.len() + rng.below(POOL_MAX);
                        pool[k] = input;
                    }
                }
            }
            Err(c) => {
                st.crashes += 1;
                let known = st.sites.contains_key(&c.site);
                let entry = st.sites.entry(c.site.clone()).or_insert_with(|| Site {
                    count: 0,
                    message: c.message.clone(),
                    first: PathBuf::new(),
                    minimized: None,
                });
                entry.count += 1;
                if entry.count <= 10 {
                    let p = save(&cfg.crash_dir, target, &input, "");
                    if !known {
                        entry.first = p.clone();
                    }
                }
                if !known {
                    if cfg.verbose {
                        eprintln!(
                            "crash: {} at {}: {}\n  input saved to {}",
                            target.name(),
                            c.site,
                            c.message.lines().next().unwrap_or(""),
                            entry.first.display()
                        );
                    }
                    if cfg.minimize {
                        let m = minimize(target, &input, &c.site, env, 20_000);
                        let p = save(&cfg.crash_dir, target, &m, "");
                        if cfg.verbose {
                            eprintln!(
                                "  minimized to {} bytes: {} ({})",
                                m.len(),
                                preview(&m),
                                p.display()
                            );
                        }
                        if let Some(s) = st.sites.get_mut(&c.site) {
                            s.minimized = Some((p, m));
                        }
                    }
                }
            }
        }
        if cfg.verbose && last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            eprintln!(
                "  {}: {} executions, {} crashes, {:.0} s, pool {}",
                target.name(),
                st.executions,
                st.crashes,
                start.elapsed().as_secs_f64(),
                pool.len()
            );
        }
    }
    st.seconds = start.elapsed().as_secs_f64();
    st.pool = pool.len();
    st.shapes = seen.len();
    st
}

/// An input as a Rust byte-string literal (cut).
pub fn preview(data: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &b in data.iter().take(400) {
        s.extend(std::ascii::escape_default(b).map(char::from));
    }
    if data.len() > 400 {
        s.push_str("...");
    }
    s.push('"');
    s
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo run --release --example fuzz -- <target|all|list> [--iterations N] \
         [--seconds S] [--seed X] [--max-len BYTES] [--corpus DIR]... [--no-minimize] \
         [--hang-secs S] [--replay FILE]\ntargets: {}",
        TARGETS
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(which) = args.first() else { usage() };
    if which == "list" {
        for t in TARGETS {
            println!("{}", t.name());
        }
        return;
    }
    let targets: Vec<Target> = if which == "all" {
        TARGETS.to_vec()
    } else {
        which
            .split(',')
            .map(|n| Target::from_name(n).unwrap_or_else(|| usage()))
            .collect()
    };
    let mut cfg = Config::default();
    let mut extra = Vec::new();
    let mut replay = None;
    let mut hang = 60u64;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--iterations" => cfg.iterations = Some(val().parse().unwrap_or_else(|_| usage())),
            "--seconds" => cfg.seconds = Some(val().parse().unwrap_or_else(|_| usage())),
            "--seed" => {
                let v = val();
                cfg.seed = match v.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16).unwrap_or_else(|_| usage()),
                    None => v.parse().unwrap_or_else(|_| usage()),
                };
            }
            "--max-len" => cfg.max_len = Some(val().parse().unwrap_or_else(|_| usage())),
            "--corpus" => extra.push(PathBuf::from(val())),
            "--no-minimize" => cfg.minimize = false,
            "--hang-secs" => hang = val().parse().unwrap_or_else(|_| usage()),
            "--replay" => replay = Some(PathBuf::from(val())),
            _ => usage(),
        }
    }
    let env = Env::new();
    if let Some(file) = replay {
        // Replays with the default panic report, so the backtrace machinery works.
        let data = std::fs::read(&file).unwrap_or_else(|e| {
            eprintln!("{}: {e}", file.display());
            std::process::exit(2)
        });
        for t in targets {
            let r = panic::catch_unwind(AssertUnwindSafe(|| execute(t, &data, &env)));
            println!(
                "{} on {}: {}",
                t.name(),
                file.display(),
                if r.is_ok() { "ok" } else { "CRASH" }
            );
        }
        return;
    }
    install_panic_hook(true);
    let corpus = Corpus::load(&extra);
    let watch = Arc::new(Watch::default());
    {
        let w = Arc::clone(&watch);
        let dir = cfg.crash_dir.clone();
        std::thread::spawn(move || watchdog(&w, hang, &dir));
    }
    let mut any = false;
    let mut summary = Vec::new();
    for t in targets {
        let st = fuzz(t, &cfg, &env, &corpus, Some(&watch));
        let line = format!(
            "fuzz {}: {} executions, {} crashes, {:.1} s",
            t.name(),
            st.executions,
            st.crashes,
            st.seconds
        );
        println!(
            "{line}  (seed {}, pool {}, shapes {}, slowest {:.1} ms)",
            cfg.seed,
            st.pool,
            st.shapes,
            st.slowest.as_secs_f64() * 1e3
        );
        for (site, s) in &st.sites {
            println!(
                "  crash site {site} ({}x): {}\n    first: {}",
                s.count,
                s.message.lines().next().unwrap_or(""),
                s.first.display()
            );
            if let Some((p, m)) = &s.minimized {
                println!("    minimized: {} = {}", p.display(), preview(m));
            }
        }
        any |= st.crashes > 0;
        summary.push(line);
    }
    if summary.len() > 1 {
        println!("--");
        for l in summary {
            println!("{l}");
        }
    }
    // `exit` runs no destructors: remove the scratch folder first.
    drop(env);
    std::process::exit(i32::from(any))
}

/// Ends the process when one execution runs longer than `secs`, saving its input.
fn watchdog(w: &Watch, secs: u64, dir: &Path) {
    let mut last = u64::MAX;
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let g = w.generation.load(Ordering::SeqCst);
        if g != last {
            last = g;
            since = Instant::now();
            continue;
        }
        if since.elapsed() > Duration::from_secs(secs) {
            let cur = w.current.lock().unwrap_or_else(|e| e.into_inner());
            if let (Some(t), data) = (&cur.0, &cur.1) {
                let p = save(dir, *t, data, ".hang");
                eprintln!(
                    "hang: {} ran over {secs} s on {} bytes; input saved to {}",
                    t.name(),
                    data.len(),
                    p.display()
                );
            }
            std::process::exit(3);
        }
    }
}
