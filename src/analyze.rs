//! The pipeline: discover → read → sniff → parse (in parallel, per file and per chunk) →
//! merge facts in a fixed order → run rules → resolve evidence lines.

use crate::model::Kind;
use crate::model::{
    Component, Facts, InputId, InputReport, Location, LogEvent, PdConfig, Region, Status, Store,
    Version,
};
use crate::parse::detect::{SNIFF_BYTES, Sniffed, sniff};
use crate::parse::pdctl;
use crate::parse::scan::{self, LogFormat, Prefilter, ScanCtx};
use crate::rules::{EvalCtx, Finding, InputMeta, RuleSet};
use crate::source::{self, Data, Source, archive};
use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;

pub struct Options {
    pub paths: Vec<PathBuf>,
    /// Zone for log formats that carry none (pre-unified TiKV/PD).
    pub assume_tz: FixedOffset,
    /// Decompression limits for archives and compressed files.
    pub limits: crate::source::archive::Limits,
    /// Keep every log entry at or above this level (the timeline wants them).
    pub keep_level: Option<crate::model::Level>,
    /// Count warning/error templates (for `generic.error-burst`).
    pub templates: bool,
    /// Show a progress bar on stderr for large inputs (the caller checks it is a terminal).
    pub progress: bool,
    /// Only events in this time window count (`--since`, `--until`).
    pub since: Option<chrono::DateTime<FixedOffset>>,
    pub until: Option<chrono::DateTime<FixedOffset>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: Vec::new(),
            assume_tz: FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()),
            limits: crate::source::archive::Limits::default(),
            keep_level: None,
            templates: true,
            progress: false,
            since: None,
            until: None,
        }
    }
}

pub struct Analysis {
    pub inputs: Vec<InputReport>,
    pub facts: Facts,
    pub findings: Vec<Finding>,
    /// Notes about assumptions and near-misses, shown under the findings.
    pub notes: Vec<String>,
    /// Which rules could run (`--coverage`).
    pub coverage: Option<crate::rules::coverage::Coverage>,
}

impl Analysis {
    /// True when nothing at all could be analysed (exit code 2).
    pub fn nothing_analysed(&self) -> bool {
        !self.inputs.iter().any(|i| i.status == Status::Parsed)
    }
}

/// Facts of one input before its final id is known.
#[derive(Default)]
struct PerInput {
    report: Option<InputReport>,
    events: Vec<LogEvent>,
    stores: Vec<Store>,
    regions: Vec<Region>,
    configs: Vec<PdConfig>,
    versions: Vec<(Component, Version, u64)>,
    pd_addrs: Vec<String>,
    crdb: crate::model::crdb::CrdbFacts,
    sched: crate::model::sched::SchedFacts,
    templates: Vec<crate::model::TemplateStat>,
    /// Text kept for evidence excerpts of dumps (small files only).
    text: Option<String>,
}

/// Dump texts larger than this are not kept for excerpts.
const KEEP_TEXT_MAX: usize = 32 << 20;

pub fn analyze(opts: &Options, rules: &RuleSet) -> Analysis {
    let sources = source::discover(&opts.paths);
    let prefilter = Prefilter::new(rules.needle_groups());
    let version_group = rules.fact_groups.get("version").copied();
    let bar = progress_bar(opts.progress, &sources);
    let mut per: Vec<PerInput> = sources
        .par_iter()
        .flat_map_iter(|s| {
            let out = process_source(s, &prefilter, opts, version_group);
            if let Some(b) = &bar {
                b.inc(source_len(s));
            }
            out
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    per.sort_by(|a, b| {
        let pa = a.report.as_ref().map(|r| r.path.as_str()).unwrap_or("");
        let pb = b.report.as_ref().map(|r| r.path.as_str()).unwrap_or("");
        pa.cmp(pb)
    });

    let mut facts = Facts::default();
    let mut inputs = Vec::with_capacity(per.len());
    let mut texts: BTreeMap<InputId, String> = BTreeMap::new();
    for (i, mut p) in per.into_iter().enumerate() {
        let id = InputId(i);
        for e in &mut p.events {
            e.loc.input = id;
        }
        for s in &mut p.stores {
            s.loc.input = id;
        }
        for r in &mut p.regions {
            r.loc.input = id;
        }
        for c in &mut p.configs {
            c.loc.input = id;
        }
        for t in &mut p.templates {
            t.sample.input = id;
        }
        facts.templates.append(&mut p.templates);
        p.crdb.set_input(id);
        facts.crdb.append(std::mem::take(&mut p.crdb));
        p.sched.set_input(id);
        facts.sched.append(std::mem::take(&mut p.sched));
        for (c, v, line) in p.versions {
            facts.note_version(c, v, Location { input: id, line });
        }
        facts.events.append(&mut p.events);
        facts.stores.append(&mut p.stores);
        facts.regions.append(&mut p.regions);
        facts.configs.append(&mut p.configs);
        for a in p.pd_addrs {
            if !facts.pd_addrs.contains(&a) {
                facts.pd_addrs.push(a);
            }
        }
        if let Some(t) = p.text {
            texts.insert(id, t);
        }
        if let Some(r) = p.report {
            inputs.push(r);
        }
    }
    // The time window: events without a time (pasted pd-ctl answers) always count.
    if opts.since.is_some() || opts.until.is_some() {
        let inside = |t: chrono::DateTime<FixedOffset>| {
            opts.since.is_none_or(|s| t >= s) && opts.until.is_none_or(|u| t <= u)
        };
        facts.events.retain(|e| e.time.is_none_or(inside));
        let lo = opts.since.map(|s| s.timestamp().div_euclid(60));
        let hi = opts.until.map(|u| u.timestamp().div_euclid(60));
        for t in &mut facts.templates {
            t.per_minute
                .retain(|m, _| lo.is_none_or(|l| *m >= l) && hi.is_none_or(|h| *m <= h));
            t.count = t.per_minute.values().map(|&c| c as u64).sum();
        }
        facts.templates.retain(|t| t.count > 0);
    }
    // Store id <-> address, learnt from pd-ctl, so that a log finding names its store.
    let store_by_addr: BTreeMap<&str, u64> = facts
        .latest_stores()
        .into_iter()
        .filter_map(|s| Some((s.address.as_deref()?, s.id.0)))
        .collect();
    let metas: Vec<InputMeta> = inputs
        .iter()
        .map(|r| InputMeta {
            kind: r.kind,
            node: r.node.clone(),
            path: r.path.clone(),
            store: r
                .node
                .as_deref()
                .and_then(|n| store_by_addr.get(n).copied())
                .filter(|_| r.kind == Kind::TikvLog || r.kind == Kind::TiflashLog),
            last_time: r
                .last_time
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        })
        .collect();
    let ctx = EvalCtx {
        facts: &facts,
        inputs: &metas,
    };
    let mut findings = rules.evaluate(&ctx);
    for f in &mut findings {
        for e in &mut f.evidence {
            if e.excerpt.is_none() {
                e.excerpt = Some(match texts.get(&e.loc.input) {
                    Some(t) => pdctl::line_text(t, e.loc.line),
                    None => String::new(),
                });
            }
        }
    }
    let mut notes = Vec::new();
    if facts.stores.is_empty() && inputs.iter().any(|i| i.kind.is_tidb_family_log()) {
        notes.push(
            "No pd-ctl store dump in the bundle: store-state rules (offline, disconnected, down, scale-in) could not run. Add `pd-ctl store` and `pd-ctl region store <id>` output."
                .to_string(),
        );
    }
    notes.extend(stale_store_notes(&facts));
    notes.extend(rotation_notes(&inputs));
    if let Some(g) = rules.fact_groups.get("clock").copied() {
        notes.extend(clock_notes(&facts, &inputs, g));
    }
    if facts.stores.iter().any(|s| s.is_offline())
        && !inputs.iter().any(|i| i.kind == Kind::PdctlStores)
    {
        notes.push(
            "An Offline store is in the bundle but no full `pd-ctl store` list: whether other stores can take its regions (tikv.scale-in-no-target-store, tikv.scale-in-blocked-by-space) was not checked."
                .to_string(),
        );
    }
    Analysis {
        inputs,
        facts,
        findings,
        notes,
        coverage: None,
    }
}

/// Clock skew, when a node says so itself: one note per node, with its first such line.
fn clock_notes(facts: &Facts, inputs: &[InputReport], group: u32) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut notes = Vec::new();
    for e in facts.events.iter().filter(|e| e.in_group(group)) {
        let Some(i) = inputs.get(e.loc.input.0) else {
            continue;
        };
        let node = i.node.clone().unwrap_or_else(|| i.path.clone());
        if seen.insert(node.clone()) {
            notes.push(format!(
                "Clock skew is evident on {node}: it logged \"{}\" ({}:{}). Times across nodes in this bundle may not line up; check NTP/chrony on that host.",
                e.message.trim(),
                i.path,
                e.loc.line
            ));
        }
    }
    notes
}

/// The folder of a path (archive members keep their archive prefix).
fn parent_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The program part of a log file name, shared by its rotated files: `tikv.log`,
/// `tikv-2024-07-22T20-02-58.123.log` and `tikv.log.2019-10-16-06:28:13` are all `tikv`;
/// CockroachDB's `cockroach-rocksdb.host.user.2020-...log` is `cockroach-rocksdb`.
fn log_stem(name: &str) -> &str {
    let base = name.split('.').next().unwrap_or(name);
    let b = base.as_bytes();
    match (1..b.len()).find(|&i| b[i - 1] == b'-' && b[i].is_ascii_digit()) {
        Some(i) => &base[..i - 1],
        None => base,
    }
}

/// First and last entry time and path of one file of a rotated stream.
type StreamFile<'a> = (DateTime<FixedOffset>, DateTime<FixedOffset>, &'a str);

/// Rotated logs of one component in one folder form one stream: said in time order, with the
/// overlaps and gaps between files (a gap over an hour is worth knowing in a post-mortem).
fn rotation_notes(inputs: &[InputReport]) -> Vec<String> {
    let mut streams: BTreeMap<(&str, Kind, &str), Vec<StreamFile<'_>>> = BTreeMap::new();
    for i in inputs.iter().filter(|i| i.kind.is_log()) {
        let (Some(f), Some(l)) = (i.first_time.as_deref(), i.last_time.as_deref()) else {
            continue;
        };
        let (Ok(f), Ok(l)) = (
            DateTime::parse_from_rfc3339(f),
            DateTime::parse_from_rfc3339(l),
        ) else {
            continue;
        };
        // A rotated member inside a .gz keeps the folder and name of the .gz.
        let outer = i.path.split("!/").next().unwrap_or(&i.path);
        let dir = parent_of(outer);
        let name = outer[dir.len()..].trim_start_matches('/');
        streams
            .entry((dir, i.kind, log_stem(name)))
            .or_default()
            .push((f, l, i.path.as_str()));
    }
    let mut notes = Vec::new();
    for ((dir, kind, _), mut files) in streams {
        if files.len() < 2 {
            continue;
        }
        files.sort();
        let mut issues = Vec::new();
        for w in files.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if b.0 < a.1 {
                issues.push(format!(
                    "{} starts at {} before {} ends at {} (overlap)",
                    b.2,
                    b.0.to_rfc3339(),
                    a.2,
                    a.1.to_rfc3339()
                ));
            } else if (b.0 - a.1).num_seconds() > 3600 {
                issues.push(format!(
                    "no {kind} lines between {} ({}) and {} ({}): a gap of {}",
                    a.1.to_rfc3339(),
                    a.2,
                    b.0.to_rfc3339(),
                    b.2,
                    crate::model::units::human_secs((b.0 - a.1).num_seconds())
                ));
            }
        }
        if issues.is_empty() {
            continue;
        }
        let shown = if dir.is_empty() { "." } else { dir };
        let mut note = format!(
            "{} rotated {kind} files in {shown} read as one stream, {} to {}",
            files.len(),
            files[0].0.to_rfc3339(),
            files
                .iter()
                .map(|f| f.1)
                .max()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        );
        note.push_str(": ");
        note.push_str(&issues.join("; "));
        notes.push(note);
    }
    notes
}

/// Disconnected records too old to be live PD state: said, not reported as findings.
fn stale_store_notes(facts: &Facts) -> Vec<String> {
    let down = match facts.config("schedule.max-store-down-time") {
        Some((serde_json::Value::String(s), _)) => {
            crate::model::units::parse_go_duration(s).unwrap_or(1800)
        }
        _ => 1800,
    };
    let mut notes = Vec::new();
    for s in facts.latest_stores() {
        if s.state != crate::model::StoreState::Disconnected {
            continue;
        }
        let (Some(hb), Some(newest)) = (
            s.last_heartbeat,
            facts
                .stores
                .iter()
                .filter(|o| o.loc.input == s.loc.input)
                .filter_map(|o| o.last_heartbeat)
                .max(),
        ) else {
            continue;
        };
        let age = (newest - hb).num_seconds();
        if age > down {
            notes.push(format!(
                "store {} shows Disconnected but its last heartbeat ({}) is {} older than the newest in the same dump, longer than max-store-down-time: PD would show Down for a live record, so this looks like a stale PD record (seen after PD leader changes during scale-in), not a disconnected store. Check `pd-ctl store {}` against the current PD leader.",
                s.id,
                hb.to_rfc3339(),
                crate::model::units::human_secs(age),
                s.id
            ));
        }
    }
    notes
}

fn source_len(s: &Source) -> u64 {
    match &s.origin {
        source::Origin::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        _ => 0,
    }
}

/// Inputs smaller than this finish before a bar would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 << 20;

fn progress_bar(wanted: bool, sources: &[Source]) -> Option<indicatif::ProgressBar> {
    if !wanted {
        return None;
    }
    let total: u64 = sources.iter().map(source_len).sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

fn failed(src: &Source, kind: Kind, bytes: u64, reason: String) -> PerInput {
    PerInput {
        report: Some(InputReport {
            path: src.display.clone(),
            kind,
            node: source::node_from_path(&src.display),
            status: Status::Failed,
            reason: Some(reason),
            bytes,
            records: None,
            unparsed_lines: None,
            first_time: None,
            last_time: None,
        }),
        ..Default::default()
    }
}

fn process_source(
    src: &Source,
    prefilter: &Prefilter,
    opts: &Options,
    version_group: Option<u32>,
) -> Vec<PerInput> {
    let data = match source::read(src) {
        Ok(d) => d,
        Err(reason) => return vec![failed(src, Kind::Unknown, 0, reason)],
    };
    if archive::detect(&data[..data.len().min(SNIFF_BYTES)]).is_none() {
        return vec![process_bytes(
            &src.display,
            &data,
            prefilter,
            opts,
            version_group,
        )];
    }
    // Archives and compressed files are read in memory, member by member, logs streamed
    // through a bounded buffer; nothing is written to disk and member paths are only shown.
    let out = std::cell::RefCell::new(Vec::new());
    let mut on_member = |path: &str, reader: &mut dyn std::io::Read| {
        process_stream(
            path,
            reader,
            prefilter,
            opts,
            version_group,
            &mut out.borrow_mut(),
        )
    };
    let mut on_entry = |entry: archive::Entry| match entry {
        archive::Entry::Member(m) => {
            let d = Data::Owned(m.data);
            let per = process_bytes(&m.path, &d, prefilter, opts, version_group);
            out.borrow_mut().push(per);
        }
        archive::Entry::Problem(p) => {
            let status = match p.status {
                archive::ProblemStatus::Skipped => Status::Skipped,
                archive::ProblemStatus::Failed => Status::Failed,
            };
            let mut out = out.borrow_mut();
            // A member whose stream broke while it was read: what was read before stays
            // analysed, and the input says it failed and why.
            if let Some(r) = out
                .last_mut()
                .and_then(|last| last.report.as_mut())
                .filter(|r| r.path == p.path)
            {
                r.status = status;
                r.reason = Some(p.reason);
                return;
            }
            out.push(PerInput {
                report: Some(InputReport {
                    path: p.path.clone(),
                    kind: Kind::Unknown,
                    node: source::node_from_path(&p.path),
                    status,
                    reason: Some(p.reason),
                    bytes: 0,
                    records: None,
                    unparsed_lines: None,
                    first_time: None,
                    last_time: None,
                }),
                ..Default::default()
            });
        }
    };
    // gzip, zstd and tar stream from the file once (never mapped whole: the compressed
    // bytes would otherwise stay resident); a zip needs random access and stays mapped.
    let container = archive::detect(&data[..data.len().min(SNIFF_BYTES)]);
    let file = match (&src.origin, container) {
        (source::Origin::File(p), Some(c)) if c != archive::Container::Zip => {
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
                &mut reader,
                &opts.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
        None => {
            archive::read_streaming(
                &src.display,
                &data,
                &opts.limits,
                &mut on_member,
                &mut on_entry,
            );
        }
    }
    let mut out = out.into_inner();
    if out.is_empty() {
        out.push(failed(
            src,
            Kind::Unknown,
            source_len(src),
            "archive holds no file".into(),
        ));
    }
    out
}

fn process_bytes(
    display: &str,
    data: &Data,
    prefilter: &Prefilter,
    opts: &Options,
    version_group: Option<u32>,
) -> PerInput {
    let bytes = data.len() as u64;
    let head = &data[..data.len().min(SNIFF_BYTES)];
    let node = source::node_from_path(display);
    let mut report = InputReport {
        path: display.to_string(),
        kind: Kind::Unknown,
        node,
        status: Status::Parsed,
        reason: None,
        bytes,
        records: None,
        unparsed_lines: None,
        first_time: None,
        last_time: None,
    };
    let mut p = PerInput::default();
    match sniff(display, head) {
        Sniffed::Skip(reason) => {
            report.status = Status::Skipped;
            report.reason = Some(reason);
        }
        Sniffed::Log(kind, format) => {
            report.kind = kind;
            let ctx = scan_ctx(kind, format, prefilter, opts);
            let out = scan::scan_log(data, &ctx);
            take_log(&mut report, &mut p, out, kind, format, version_group);
        }
        Sniffed::Data(kind) => {
            report.kind = kind;
            let text = String::from_utf8_lossy(data);
            match kind {
                k if k.is_pdctl()
                    && !matches!(k, Kind::PdUnsafeRecovery | Kind::PdctlOperators) =>
                {
                    let out = pdctl::parse(&text, InputId(0));
                    report.records = Some(out.records + out.answers.len() as u64);
                    if let Some(problem) = out.problem {
                        if out.records == 0 {
                            report.status = Status::Failed;
                        }
                        report.reason = Some(problem);
                    } else if out.records == 0 && out.answers.is_empty() {
                        report.status = Status::Failed;
                        report.reason = Some(format!("no {kind} JSON document found"));
                    }
                    for s in &out.stores {
                        if let Some(v) = s.version.as_deref().and_then(Version::parse)
                            && !s.is_tiflash()
                        {
                            p.versions.push((Component::Tikv, v, s.loc.line));
                        }
                    }
                    if let Some((v, line)) = out.ctl_version {
                        p.versions.push((Component::Pd, v, line));
                    }
                    p.stores = out.stores;
                    p.regions = out.regions;
                    p.configs = out.configs;
                    p.pd_addrs = out.pd_addrs;
                    let mut answers = out.answers;
                    for a in &mut answers {
                        // Pasted answers join the log events so log rules can cite them.
                        a.groups = prefilter_groups(prefilter, &a.message);
                    }
                    p.events = answers;
                }
                Kind::CrdbNodeStatus | Kind::CrdbDecommissionOutput | Kind::CrdbGoroutines => {
                    let c = crate::parse::crdb_input::collect(kind, &text, InputId(0));
                    apply_collected(&mut report, c.records, c.unparsed_lines, c.problem);
                    p.versions.extend(c.versions);
                    p.crdb = c.facts;
                }
                Kind::PrometheusText
                | Kind::PrometheusJson
                | Kind::PdUnsafeRecovery
                | Kind::PdctlOperators => {
                    let c = crate::parse::sched_input::collect(kind, &text, InputId(0));
                    apply_collected(&mut report, c.records, c.unparsed_lines, c.problem);
                    p.versions.extend(c.versions);
                    p.sched = c.facts;
                }
                _ => {
                    report.status = Status::Skipped;
                    report.reason = Some(format!("{kind} is recognised but not analysed yet"));
                }
            }
            if text.len() <= KEEP_TEXT_MAX {
                p.text = Some(text.into_owned());
            }
        }
    }
    p.report = Some(report);
    p
}

/// The scan parameters of one log (its final input id is set when inputs are merged).
fn scan_ctx<'a>(
    kind: Kind,
    format: LogFormat,
    prefilter: &'a Prefilter,
    opts: &Options,
) -> ScanCtx<'a> {
    ScanCtx {
        input: InputId(0),
        kind,
        format,
        prefilter,
        assume_tz: opts.assume_tz,
        keep_level: opts.keep_level,
        templates: opts.templates,
    }
}

/// Fills an input's report and facts from a scanned log.
fn take_log(
    report: &mut InputReport,
    p: &mut PerInput,
    out: scan::ScanOutput,
    kind: Kind,
    format: LogFormat,
    version_group: Option<u32>,
) {
    report.records = Some(out.records);
    report.unparsed_lines = Some(out.unparsed_lines);
    report.first_time = out.first_time.map(|t| t.to_rfc3339());
    report.last_time = out.last_time.map(|t| t.to_rfc3339());
    p.templates = out.templates;
    if out.records == 0 {
        report.status = Status::Failed;
        report.reason = Some("no log entry could be parsed".into());
    }
    if report.node.is_none() {
        report.node = node_from_content(kind, &out.events);
    }
    if let Some(g) = version_group {
        for e in out.events.iter().filter(|e| e.in_group(g)) {
            if let Some((c, v)) = version_of(kind, format, e) {
                p.versions.push((c, v, e.loc.line));
            }
        }
    }
    p.events = out.events;
}

/// One archive member read as a stream: logs are scanned block by block (memory bounded by
/// a block, not by the member); dumps, which are small, are read whole. A read error is
/// returned after the part read before it has been recorded, so that the archive reader
/// reports it under the same path.
fn process_stream(
    path: &str,
    src: &mut dyn std::io::Read,
    prefilter: &Prefilter,
    opts: &Options,
    version_group: Option<u32>,
    out: &mut Vec<PerInput>,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::io::Read::take(&mut *src, SNIFF_BYTES as u64).read_to_end(&mut head)?;
    if let Sniffed::Log(kind, format) = sniff(path, &head) {
        let mut report = InputReport {
            path: path.to_string(),
            kind,
            node: source::node_from_path(path),
            status: Status::Parsed,
            reason: None,
            bytes: 0,
            records: None,
            unparsed_lines: None,
            first_time: None,
            last_time: None,
        };
        let ctx = scan_ctx(kind, format, prefilter, opts);
        let head_len = head.len() as u64;
        let mut counted = CountingReader { inner: src, n: 0 };
        let (scanned, error) = scan::scan_stream(head, &mut counted, &ctx);
        let mut p = PerInput::default();
        take_log(&mut report, &mut p, scanned, kind, format, version_group);
        report.bytes = head_len + counted.n;
        p.report = Some(report);
        out.push(p);
        return match error {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let mut data = head;
    std::io::Read::take(&mut *src, opts.limits.max_member_bytes).read_to_end(&mut data)?;
    out.push(process_bytes(
        path,
        &Data::Owned(data),
        prefilter,
        opts,
        version_group,
    ));
    Ok(())
}

/// Counts the bytes read through it.
struct CountingReader<'a> {
    inner: &'a mut dyn std::io::Read,
    n: u64,
}

impl std::io::Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Status and reason of an input from what its collector read.
fn apply_collected(
    report: &mut InputReport,
    records: u64,
    unparsed: Option<u64>,
    problem: Option<String>,
) {
    report.records = Some(records);
    report.unparsed_lines = unparsed;
    if let Some(problem) = problem {
        if records == 0 {
            report.status = if problem.contains("not analysed yet") {
                Status::Skipped
            } else {
                Status::Failed
            };
        }
        report.reason = Some(problem);
    }
}

fn prefilter_groups(pf: &Prefilter, text: &str) -> Vec<u32> {
    let mut gs: Vec<u32> = pf
        .groups()
        .iter()
        .enumerate()
        .filter(|(_, g)| g.needles.iter().any(|n| text.contains(n.as_str())))
        .map(|(i, _)| i as u32)
        .collect();
    gs.sort_unstable();
    gs
}

/// The node a log belongs to, from its own lines: a CockroachDB `n<id>` tag, or TiKV's
/// `advertise-addr` in the config it prints at start.
fn node_from_content(kind: Kind, events: &[LogEvent]) -> Option<String> {
    match kind {
        Kind::CrdbLog => events
            .iter()
            .find_map(|e| e.field("node").map(|n| format!("n{n}"))),
        Kind::TikvLog | Kind::TiflashLog => events.iter().find_map(|e| {
            let text = e.field("config").unwrap_or(&e.message);
            let p = text.find("\"advertise-addr\":\"")? + "\"advertise-addr\":\"".len();
            let addr = &text[p..p + text[p..].find('"')?];
            (!addr.is_empty() && !addr.starts_with("0.0.0.0")).then(|| addr.to_string())
        }),
        _ => None,
    }
}

/// Reads a release version from a startup line.
fn version_of(kind: Kind, _format: LogFormat, e: &LogEvent) -> Option<(Component, Version)> {
    let comp = match kind {
        Kind::TikvLog => Component::Tikv,
        Kind::PdLog => Component::Pd,
        Kind::TidbLog => Component::Tidb,
        _ => return None,
    };
    for (k, v) in &e.fields {
        let kl = k.to_ascii_lowercase();
        if kl == "release-version" || kl == "release version" {
            return Some((comp, Version::parse(v)?));
        }
    }
    let m = &e.message;
    let p = m.find("Release Version")?;
    let rest = m[p + "Release Version".len()..].trim_start_matches([':', ' ']);
    Some((comp, Version::parse(rest.split_whitespace().next()?)?))
}
