//! Deciding an input's format and kind from its first bytes, once. The file name is only a
//! tie-breaker (`pd.log` vs `tidb.log` when both would be Go logs).

use super::Format;
use super::error::InputError;
use crate::model::Kind;
use crate::parse::scan::LogFormat;
use crate::parse::{crdb_log, hostlog, jsonlog, legacy, unified};

/// How much of a file the sniffer reads.
pub const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detected {
    /// The parser to use and what the input is.
    Found(Format, Kind),
    /// Not analysable, and why.
    Skip(InputError),
}

impl Detected {
    fn data(kind: Kind) -> Detected {
        Detected::Found(Format::for_dump(kind), kind)
    }
}

/// Magic numbers of compressed or archive files.
pub fn compressed_magic(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some("zip")
    } else if head.len() > 262 && &head[257..262] == b"ustar" {
        Some("tar")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else {
        None
    }
}

fn is_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(8192)];
    if memchr::memchr(0, sample).is_some() {
        return true;
    }
    let ctrl = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c))
        .count();
    ctrl * 20 > sample.len()
}

/// Lines of the sniff window, without CR, skipping blank ones.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
}

pub fn detect(name: &str, head: &[u8]) -> Detected {
    if head.is_empty() {
        return Detected::Skip(InputError::Empty);
    }
    if let Some(m) = compressed_magic(head) {
        return Detected::Skip(InputError::Compression(m));
    }
    if is_binary(head) {
        return Detected::Skip(InputError::Binary);
    }
    // Drop a UTF-8 BOM.
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let name_l = name.to_ascii_lowercase();

    // Logs: count heads of each format in the first lines.
    let (counts, seen, first_head) = head_counts(head, 200);
    if let Some(best) = strong_log(&counts, seen, first_head) {
        return log_of(best, &name_l, head);
    }

    let text = String::from_utf8_lossy(head);
    if crate::parse::slow_log::looks_like(&text) {
        return Detected::data(Kind::TidbSlowLog);
    }
    if crate::parse::goroutines::looks_like_dump(&text) {
        return Detected::data(Kind::CrdbGoroutines);
    }
    if let Some(k) = crdb_table_kind(&text) {
        return Detected::data(k);
    }
    // Host and cluster-setting outputs (`df`, `ulimit`, zone configs, settings, start units).
    if let Some(k) = crate::parse::host_input::detect(&text) {
        return Detected::data(k);
    }
    if let Some(k) = config_kind(&text, name) {
        return Detected::data(k);
    }
    if let Some(k) = json_kind(&text) {
        return Detected::data(k);
    }
    if let Some(k) = cli_kind(&text) {
        return Detected::data(k);
    }
    if is_prometheus_text(&text) {
        return Detected::data(Kind::PrometheusText);
    }
    if text.contains("Failed! [")
        || text.contains("cannot build operator")
        || crate::parse::pdctl::is_transcript(&text)
    {
        return Detected::data(Kind::PdctlTranscript);
    }
    // Kernel or init-system lines (an OOM kill, a unit that died): the host's own log.
    if hostlog::looks_like(&text) {
        return Detected::Found(Format::Log(LogFormat::Host), Kind::HostLog);
    }
    // No dump either: a log's lines anywhere in the sniff window, after a preamble (a stderr
    // banner, a shell session, a ticket's prose) however long.
    let (counts, _, _) = head_counts(head, usize::MAX);
    let best = best_format(&counts);
    if counts[best] > 0 {
        return log_of(best, &name_l, head);
    }
    // Text that names CockroachDB but holds too few entry heads to be taken for its log: its
    // stderr, a kernel log, an error report, an excerpt cut mid-entry. It is read as a crdb log
    // so that its lines are searched; a line outside an entry has no time or level.
    if names_cockroach(&text) {
        return Detected::Found(Format::Log(LogFormat::Crdb), Kind::CrdbLog);
    }
    Detected::Skip(InputError::UnknownFormat)
}

fn names_cockroach(text: &str) -> bool {
    text.to_ascii_lowercase().contains("cockroach")
}

/// Heads of each log format (unified, legacy, crdb, json) in the first `max_lines` non-blank
/// lines, the number of lines looked at, and the format of the first line if it is a head.
fn head_counts(head: &[u8], max_lines: usize) -> ([usize; 4], usize, Option<usize>) {
    let mut counts = [0usize; 4];
    let mut seen = 0;
    let mut first_head = None;
    for l in lines(head).take(max_lines) {
        seen += 1;
        let before = counts;
        if unified::is_head(l) {
            counts[0] += 1;
        } else if legacy::is_head(l) {
            counts[1] += 1;
        } else if crdb_log::is_head(l) {
            counts[2] += 1;
        } else if jsonlog::is_head(l) {
            counts[3] += 1;
        }
        if seen == 1 && counts != before {
            first_head = counts.iter().zip(before).position(|(a, b)| *a != b);
        }
    }
    (counts, seen, first_head)
}

/// Whether a log is found only past the first lines (after a preamble: a banner, a shell
/// session, a report's prose), so that the lines before its first entry are not the log's.
pub fn log_after_preamble(head: &[u8]) -> bool {
    let (counts, seen, first_head) = head_counts(head, 200);
    strong_log(&counts, seen, first_head).is_none()
}

/// The format of a log the first lines show plainly: a few heads, heads making up much of a
/// short file, or a file that starts with one (a short excerpt with a multi-line banner or
/// backtrace).
fn strong_log(counts: &[usize; 4], seen: usize, first_head: Option<usize>) -> Option<usize> {
    let best = best_format(counts);
    let n = counts[best];
    (n >= 3 || (n > 0 && (n * 3 >= seen || first_head == Some(best)))).then_some(best)
}

/// How many lines of the sniff window are entry heads of any log format (to compare a file
/// as it is with the file unwrapped).
pub fn head_lines(head: &[u8]) -> usize {
    head_counts(head, usize::MAX).0.iter().sum()
}

fn best_format(counts: &[usize; 4]) -> usize {
    (0..4).max_by_key(|&i| (counts[i], 4 - i)).unwrap_or(0)
}

fn log_of(best: usize, name_l: &str, head: &[u8]) -> Detected {
    let format = [
        LogFormat::Unified,
        LogFormat::Legacy,
        LogFormat::Crdb,
        LogFormat::Json,
    ][best.min(3)];
    let kind = if format == LogFormat::Crdb
        || (format == LogFormat::Json && lines(head).take(20).any(jsonlog::is_crdb))
    {
        Kind::CrdbLog
    } else {
        tidb_family_kind(name_l, head)
    };
    Detected::Found(Format::Log(format), kind)
}

/// TiKV writes Rust sources, PD/TiDB Go sources, TiFlash C++ sources; TiFlash's proxy writes
/// Rust too, so a `tiflash` name wins. PD and TiDB are told apart by their own source files and
/// banner lines, the name breaking ties.
fn tidb_family_kind(name: &str, head: &[u8]) -> Kind {
    if name.contains("tiflash") {
        return Kind::TiflashLog;
    }
    let text = String::from_utf8_lossy(head);
    let rs = text.matches(".rs:").count();
    let go = text.matches(".go:").count();
    let cpp = text.matches(".cpp:").count();
    if cpp > rs && cpp > go {
        return Kind::TiflashLog;
    }
    if rs > go {
        return Kind::TikvLog;
    }
    // RocksDB's own LOG (`<data-dir>/db/LOG`): TiKV's engine; its sources are C++ `.cc` files.
    if text.matches(".cc:").count() > go && head.get(10) == Some(&b'-') {
        return Kind::TikvLog;
    }
    if text.contains("Welcome to Placement Driver") {
        return Kind::PdLog;
    }
    if text.contains("Welcome to TiDB") {
        return Kind::TidbLog;
    }
    let name_hint = |k: &str| {
        std::path::Path::new(name)
            .file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.starts_with(k))
    };
    if name_hint("pd") {
        return Kind::PdLog;
    }
    if name_hint("tidb") {
        return Kind::TidbLog;
    }
    if name_hint("tikv") {
        return Kind::TikvLog;
    }
    const PD_SRC: &[&str] = &[
        "operator_controller.go",
        "coordinator.go",
        "cluster.go",
        "region.go",
        "tso.go",
        "leadership.go",
        "member.go",
        "grpc_service.go",
        "etcdutil.go",
        "scheduler",
        "checker",
    ];
    const TIDB_SRC: &[&str] = &[
        "session.go",
        "conn.go",
        "domain.go",
        "ddl",
        "printer.go",
        "gc_worker.go",
        "2pc.go",
        "txn.go",
        // The TiKV client inside tidb-server (store/tikv, later client-go).
        "region_request.go",
        "region_cache.go",
        "backoff.go",
        "lock_resolver.go",
    ];
    let pd = PD_SRC
        .iter()
        .map(|s| text.matches(s).count())
        .sum::<usize>();
    let tidb = TIDB_SRC
        .iter()
        .map(|s| text.matches(s).count())
        .sum::<usize>();
    if tidb > pd {
        Kind::TidbLog
    } else {
        Kind::PdLog
    }
}

fn crdb_table_kind(text: &str) -> Option<Kind> {
    let has = |s: &str| text.contains(s);
    if has("ranges blocking decommission detected")
        || has("possible decommission stall detected")
        || (has("is_decommissioning") && has("replicas") && !has("address"))
    {
        return Some(Kind::CrdbDecommissionOutput);
    }
    if (has("is_live") || has("is_available")) && has("address") {
        return Some(Kind::CrdbNodeStatus);
    }
    None
}

/// Config files and deployment documents (TOML configs, a tiup topology, a TidbCluster).
fn config_kind(text: &str, name: &str) -> Option<Kind> {
    if crate::parse::tidb_cluster::looks_like(text) {
        return Some(Kind::TidbClusterSpec);
    }
    if crate::parse::topology::looks_like(text) {
        return Some(Kind::TiupTopology);
    }
    crate::parse::toml_config::looks_like(text, name)
}

/// JSON dumps, possibly after a pasted command line.
fn json_kind(text: &str) -> Option<Kind> {
    let start = text.lines().position(|l| {
        let t = l.trim_start();
        t.starts_with('{')
            || t.starts_with('[')
            || t.starts_with("\"stores\"")
            || t.starts_with("\"regions\"")
    })?;
    let body: String = text.lines().skip(start).collect::<Vec<_>>().join("\n");
    let has = |k: &str| body.contains(&format!("\"{k}\""));
    let t = body.trim_start();
    if has("resultType") && has("data") {
        return Some(Kind::PrometheusJson);
    }
    // A failed Prometheus query saved by a collector: reported by the metrics reader.
    if has("status") && has("errorType") && body.contains("\"error\"") {
        return Some(Kind::PrometheusJson);
    }
    if t.starts_with("\"stores\"") || (has("stores") && has("count")) {
        return Some(Kind::PdctlStores);
    }
    if (has("store") && has("status") && (has("state_name") || has("address")))
        || (t.starts_with('{') && t[1..].trim_start().starts_with("\"store\""))
    {
        return Some(Kind::PdctlStore);
    }
    if t.starts_with("\"regions\"") || (has("regions") && has("count")) {
        return Some(Kind::PdctlRegions);
    }
    if has("peers") && has("id") {
        return Some(Kind::PdctlRegion);
    }
    if has("replication") || has("schedule") || has("max-replicas") || has("merge-schedule-limit") {
        return Some(Kind::PdctlConfig);
    }
    // `config placement-rules show`: a list of rules.
    if t.starts_with('[') && has("group_id") && has("role") {
        return Some(Kind::PdctlConfig);
    }
    if t.starts_with('[') {
        if body.contains("Unsafe recovery") || body.contains("No on-going recovery") {
            return Some(Kind::PdUnsafeRecovery);
        }
        if body.contains("currentStep") || body.contains("createAt") {
            return Some(Kind::PdctlOperators);
        }
    }
    None
}

/// Answers of the command-line tools that are not JSON: `tikv-ctl` captures, `cockroach`
/// CLI errors (`ERROR: …` then `Failed running "node status"`).
fn cli_kind(text: &str) -> Option<Kind> {
    if crate::parse::tikv_ctl::looks_like(text) {
        return Some(Kind::TikvCtlOutput);
    }
    // `Failed running "start"` ends a server's stderr (its log, read as such), not a CLI answer.
    if text.contains("Failed running \"") && !text.contains("Failed running \"start\"") {
        return Some(Kind::CrdbCliError);
    }
    None
}

fn is_prometheus_text(text: &str) -> bool {
    let mut samples = 0;
    let mut total = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()).take(100) {
        total += 1;
        if l.starts_with("# HELP ") || l.starts_with("# TYPE ") {
            samples += 1;
            continue;
        }
        let name_end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(l.len());
        if name_end > 0 && l[name_end..].starts_with(['{', ' ']) {
            // After the name and its labels: a value, and at most a timestamp. A command
            // line such as `cockroach node decommission 3 --insecure` is not a sample.
            let rest = &l[name_end..];
            let rest = match rest.strip_prefix('{') {
                Some(r) => r.rfind('}').map_or("", |e| &r[e + 1..]),
                None => rest,
            };
            let mut words = rest.split_whitespace();
            let value = words.next().is_some_and(|v| v.parse::<f64>().is_ok());
            let stamp = words.next().is_none_or(|t| t.parse::<i64>().is_ok());
            if value && stamp && words.next().is_none() {
                samples += 1;
            }
        }
    }
    total > 0 && samples * 10 >= total * 8
}

#[cfg(test)]
mod tests {
    /// cockroachdb/cockroach#18029: a pasted command line is not a metrics scrape.
    #[test]
    fn a_command_line_is_not_a_prometheus_sample() {
        assert!(!is_prometheus_text(
            "cockroach node decommission 3 --insecure\n"
        ));
        assert!(is_prometheus_text("up 1\n"));
        assert!(is_prometheus_text(
            "tikv_engine_size_bytes{db=\"kv\"} 1.5e9 1700000000000\n"
        ));
        assert!(!is_prometheus_text(
            "tikv_engine_size_bytes{db=\"kv\"} 1.5e9 now\n"
        ));
    }

    use super::*;

    #[test]
    fn text_naming_cockroach_is_read_as_its_log() {
        let crdb = Detected::Found(Format::Log(LogFormat::Crdb), Kind::CrdbLog);
        let stderr =
            b"*\n* ERROR: cockroach server exited with error: failed to create engines\n*\n";
        assert_eq!(detect("stderr.txt", stderr), crdb);
        let dmesg = b"[102694.044518] cockroach invoked oom-killer: gfp_mask=0x24280ca, order=0\n";
        // A kernel log is the host's, even when its victim is cockroach.
        let host = Detected::Found(Format::Log(LogFormat::Host), Kind::HostLog);
        assert_eq!(detect("dmesg.txt", dmesg), host);
        // An excerpt that starts inside a multi-line entry and holds one entry head.
        let cut = b"This range is likely unavailable.\nPlease submit this message at\n\n  https://example.com\n\nalong with\n\n\thttps://example.com/1\n\nand the following Raft status: {}\nW191109 14:37:31.402124 370 storage/replica_write.go:199  [n2] have been waiting\n";
        assert_eq!(detect("excerpt.log", cut), crdb);
        assert_eq!(
            detect("notes.txt", b"just some words\nnothing to see\n"),
            Detected::Skip(InputError::UnknownFormat)
        );
    }

    #[test]
    fn logs_by_content() {
        let tikv = b"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=RemoteStopped]\n";
        assert_eq!(
            detect("x", tikv),
            Detected::Found(Format::Log(LogFormat::Unified), Kind::TikvLog)
        );
        let pd = b"[2024/07/22 20:03:04.264 +08:00] [INFO] [operator_controller.go:620] [\"send schedule command\"] [region-id=1]\n";
        assert_eq!(
            detect("output.txt", pd),
            Detected::Found(Format::Log(LogFormat::Unified), Kind::PdLog)
        );
        let old = b"2018/03/16 09:30:27.997 tikv-server.rs:121: [INFO] start prometheus client\n";
        assert_eq!(
            detect("x", old),
            Detected::Found(Format::Log(LogFormat::Legacy), Kind::TikvLog)
        );
        let crdb = "I220202 20:51:24.672435 2867 1@server/drain.go:210 ⋮ [n1,server drain process] 320  drain remaining: 0\n";
        assert_eq!(
            detect("x", crdb.as_bytes()),
            Detected::Found(Format::Log(LogFormat::Crdb), Kind::CrdbLog)
        );
    }

    #[test]
    fn dumps_by_content() {
        let s = b"$ tiup ctl:v5.2.1 pd -u http://pd-ip:2379 region store 5\n{ \"count\": 1, \"regions\": [ { \"id\": 434317, \"peers\": [] } ] }\n";
        assert_eq!(detect("output.txt", s), Detected::data(Kind::PdctlRegions));
        let s = b"{ \"store\": { \"id\": 5, \"state_name\": \"Offline\" }, \"status\": {} }";
        assert_eq!(detect("a", s), Detected::data(Kind::PdctlStore));
    }

    /// A log after a long preamble (CockroachDB's `*` banner, a shell session) is found
    /// anywhere in the sniff window, and said to follow a preamble.
    #[test]
    fn a_log_after_a_preamble() {
        let mut s = String::from("$ cockroach start --insecure --join=a,b,c\n");
        for _ in 0..250 {
            s.push_str("* WARNING: RUNNING IN INSECURE MODE!\n*\n");
        }
        s.push_str("I171109 14:14:33.936738 1 cli/start.go:593  CockroachDB CCL v1.0.6\n");
        assert_eq!(
            detect("x", s.as_bytes()),
            Detected::Found(Format::Log(LogFormat::Crdb), Kind::CrdbLog)
        );
        assert!(log_after_preamble(s.as_bytes()));
        let plain = "I171109 14:14:33.936738 1 cli/start.go:593  CockroachDB CCL v1.0.6\n";
        assert!(!log_after_preamble(plain.as_bytes()));
    }

    #[test]
    fn skips() {
        assert_eq!(detect("a", b""), Detected::Skip(InputError::Empty));
        assert_eq!(
            detect("a", b"\x00\x01\x02"),
            Detected::Skip(InputError::Binary)
        );
        assert!(matches!(detect("a", b"hello world\n"), Detected::Skip(_)));
    }
}
