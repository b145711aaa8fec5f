//! Property tests: arbitrary input never panics a parser, the archive reader or the pipeline,
//! and always yields a report; structured inputs round-trip; chunked log scanning equals
//! single-pass scanning. Also a short deterministic run of the mutation fuzzer
//! (`examples/fuzz.rs`, shared as a module), so CI fuzzes every target a little.
//!
//! Case counts are kept small so that the debug build finishes well under a minute on two
//! cores; `PROPTEST_CASES=N` raises every count for a longer run by hand (use `--release`).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use kvtriage::model::Status;
use kvtriage::model::{InputId, Level};
use kvtriage::parse::Format;
use kvtriage::parse::detect::{Detected, detect};
use kvtriage::parse::scan::{self, LogFormat, NeedleGroup, Prefilter, ScanCtx, ScanOutput};
use kvtriage::parse::{crdb_log, crdb_table, jsonlog, legacy, pdctl, unified};
use kvtriage::report;
use kvtriage::rules::RuleSet;
use kvtriage::source::archive::{self, Entry, Limits};
use kvtriage::{Options, analyze};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::Arc;

#[path = "../examples/fuzz.rs"]
#[allow(dead_code)]
mod fuzz;

use fuzz::Target;

// ---- harness ------------------------------------------------------------------------------

/// `n` cases, or `PROPTEST_CASES` when set (longer runs by hand).
fn config(n: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    // A fixed seed, so that `cargo test` (and CI) runs the same cases every time; longer or
    // other runs by hand with PROPTEST_RNG_SEED (random: `PROPTEST_RNG_SEED=$RANDOM`).
    let rng_seed = match std::env::var("PROPTEST_RNG_SEED") {
        Ok(_) => Config::default().rng_seed,
        Err(_) => proptest::test_runner::RngSeed::Fixed(0x6b76_7472_6961_6765),
    };
    Config {
        cases,
        rng_seed,
        // Nothing is written next to the tests; a failure prints its minimal input.
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// Runs a property with a given case count (environment set up once, outside the cases).
fn check<S>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    check_with(config(cases), strategy, test);
}

fn check_with<S>(cfg: Config, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(cfg);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap()
}

// ---- generic inputs -----------------------------------------------------------------------

/// Pieces that random text is glued from: the structure of every format.
const PIECES: &[&str] = &[
    "[",
    "]",
    "[]",
    "\"",
    "\\",
    "\\\"",
    "\\u00e9",
    "=",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "{",
    "}",
    ":",
    ",",
    "|",
    "+",
    "⋮",
    "é",
    "\u{fffd}",
    "[2022/03/28 09:34:38.062 +08:00] ",
    "[ERROR] ",
    "[INFO] ",
    "[kv.rs:729] ",
    "[\"msg\"] ",
    "[k=v]",
    "[region-id=12]",
    "2018/03/16 09:30:27.997 ",
    "tikv-server.rs:121: ",
    "[INFO] ",
    "I220202 20:51:24.672435 ",
    "2867 ",
    "1@server/drain.go:210 ",
    "[n1,s1] ",
    "320 ",
    "{\"level\":\"INFO\",",
    "\"time\":\"2022/01/14 08:09:55.307 +01:00\"",
    "\"message\":\"x\"",
    "\"stores\":[",
    "\"store\":{\"id\":5,\"state_name\":\"Offline\"}",
    "\"status\":{}",
    "\"regions\":[",
    "\"peers\":[{\"id\":1,\"store_id\":5}]",
    "\"id\":",
    "\"count\":",
    "id | address | is_live",
    "-----+-----",
    "(2 rows)",
    "n1 has 3 replicas blocked with error: ",
    "n3 still has replica id 2 for range r1",
    "merge-region {merge: region 1 to 2} (kind:merge, region:1(1, 1), ",
    "steps:[0:{merge region 1 into region 2}]",
    "# TYPE x gauge",
    "pd_regions_status{type=\"a\"} 1",
    "Unsafe recovery enters force leader stage",
    "Failed! [500] ",
    "0",
    "-1",
    "18446744073709551616",
    "NaN",
];

/// Text glued from format pieces and random words.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(PIECES).prop_map(str::to_string),
            2 => "[a-zA-Z0-9_./:-]{0,8}",
            1 => any::<char>().prop_map(String::from),
        ],
        0..48,
    )
    .prop_map(|v| v.concat())
}

/// Arbitrary bytes, random text, format soup, or a fixture mutated by the fuzzer's mutator.
fn input_for(target: Target) -> BoxedStrategy<Vec<u8>> {
    let corpus = fuzz::Corpus::load(&[]);
    let seeds = Arc::new(corpus.seeds(target));
    let n = seeds.len();
    let mutated = (0..n, any::<u64>()).prop_map(move |(i, seed)| {
        let mut rng = fuzz::Rng::new(seed);
        let base = if target == Target::Archive || target == Target::Analyze {
            seeds[i].clone()
        } else {
            fuzz::window(&mut rng, &seeds[i], 40)
        };
        fuzz::mutate(&mut rng, &base, &seeds, 256 << 10)
    });
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..600),
        1 => any::<String>().prop_map(String::into_bytes),
        3 => soup().prop_map(String::into_bytes),
        4 => mutated,
    ]
    .boxed()
}

/// Every entry point of a target (see `fuzz::execute` for the calls and invariants) on
/// arbitrary input.
fn never_panics(target: Target, cases: u32) {
    let env = fuzz::Env::new();
    check(cases, input_for(target), |data| {
        fuzz::execute(target, &data, &env);
        Ok(())
    });
}

#[test]
fn unified_never_panics() {
    never_panics(Target::Unified, 300);
}

#[test]
fn legacy_never_panics() {
    never_panics(Target::Legacy, 300);
}

#[test]
fn jsonlog_never_panics() {
    never_panics(Target::Jsonlog, 300);
}

#[test]
fn crdb_log_never_panics() {
    never_panics(Target::CrdbLog, 300);
}

#[test]
fn crdb_table_never_panics() {
    never_panics(Target::CrdbTable, 200);
}

#[test]
fn pdctl_never_panics() {
    never_panics(Target::Pdctl, 200);
}

#[test]
fn time_never_panics() {
    never_panics(Target::Time, 300);
}

#[test]
fn operator_never_panics() {
    never_panics(Target::Operator, 200);
}

#[test]
fn prometheus_never_panics() {
    never_panics(Target::Prometheus, 200);
}

#[test]
fn unsafe_recovery_never_panics() {
    never_panics(Target::UnsafeRecovery, 200);
}

#[test]
fn documents_never_panic() {
    never_panics(Target::Documents, 200);
}

#[test]
fn configs_never_panic() {
    never_panics(Target::Configs, 200);
}

/// Any cut of a real config sample reads without a panic, keeps only keys on lines of the
/// text, and never reads more settings than the whole file has.
#[test]
fn any_cut_of_a_config_sample_reads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/configs/samples");
    let mut samples: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    samples.sort();
    assert!(!samples.is_empty());
    let samples = Arc::new(samples);
    let n = samples.len();
    let env = fuzz::Env::new();
    check(200, (0..n, any::<prop::sample::Index>()), |(i, at)| {
        let whole = &samples[i];
        let mut cut = at.index(whole.len() + 1);
        while !whole.is_char_boundary(cut) {
            cut -= 1;
        }
        let part = &whole[..cut];
        fuzz::execute(Target::Configs, part.as_bytes(), &env);
        let all = kvtriage::parse::toml_config::settings(whole, 1)
            .values
            .len();
        let some = kvtriage::parse::toml_config::settings(part, 1).values.len();
        prop_assert!(
            some <= all,
            "a cut read {some} settings, the whole file {all}"
        );
        Ok(())
    });
}

#[test]
fn host_facts_never_panic() {
    never_panics(Target::HostFacts, 200);
}

/// Any cut of a real host or cluster-setting sample reads without a panic, as the kind the
/// whole sample is, and keeps no more records than the whole (plus the row cut in two).
#[test]
fn host_facts_any_cut_of_a_sample() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostfacts/samples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let kvtriage::parse::detect::Detected::Found(_, kind) =
            kvtriage::parse::detect::detect("x", text.as_bytes())
        else {
            continue;
        };
        let whole = kvtriage::parse::host_input::collect(kind, &text, kvtriage::model::InputId(0));
        for (cut, _) in text.char_indices() {
            let c = kvtriage::parse::host_input::collect(
                kind,
                &text[..cut],
                kvtriage::model::InputId(0),
            );
            assert!(
                c.records <= whole.records + 1,
                "{}: a cut at {cut} has {} records, the whole {}",
                path.display(),
                c.records,
                whole.records
            );
        }
    }
}

#[test]
fn scan_never_panics_and_counts_heads() {
    never_panics(Target::Scan, 100);
}

#[test]
fn sniff_never_panics() {
    never_panics(Target::Sniff, 300);
}

#[test]
fn archive_mutants_never_panic_and_are_deterministic() {
    never_panics(Target::Archive, 100);
}

// ---- unified log lines --------------------------------------------------------------------

/// A timestamp as written, with the time it means.
fn arb_time() -> impl Strategy<Value = (String, DateTime<FixedOffset>)> {
    (
        (1970i32..2100, 1u32..=12, 1u32..=28),
        (0u32..24, 0u32..60, 0u32..60),
        prop::collection::vec(0u8..10, 1..=9),
        (
            any::<bool>(),
            0i32..=14,
            prop::sample::select(&[0i32, 30, 45][..]),
        ),
    )
        .prop_map(|((y, mo, d), (h, mi, s), frac, (neg, oh, om))| {
            let secs = oh * 3600 + om * 60;
            let off = FixedOffset::east_opt(if neg { -secs } else { secs }).unwrap();
            let digits: String = frac.iter().map(|d| char::from(b'0' + d)).collect();
            let nanos = digits.parse::<u32>().unwrap() * 10u32.pow(9 - frac.len() as u32);
            let naive = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, s, nanos)
                .unwrap();
            let t = off.from_local_datetime(&naive).single().unwrap();
            let sign = if neg { '-' } else { '+' };
            let text = format!(
                "{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}.{digits} {sign}{oh:02}:{om:02}"
            );
            (text, t)
        })
}

const UPPER_LEVELS: &[&str] = &[
    "TRACE", "TRCE", "DEBUG", "DEBG", "INFO", "WARN", "WARNING", "ERROR", "ERRO", "FATAL", "CRIT",
    "CRITICAL", "PANIC", "DPANIC",
];

/// A string that may go unquoted in a message, key or value bracket.
fn raw_ok(s: &str, is_value: bool) -> bool {
    !s.starts_with('"') && !s.contains(']') && (is_value || !s.contains('='))
}

/// How TiKV/PD write a token: raw when nothing forces quoting (and `raw` is preferred),
/// else as a JSON string.
fn token(s: &str, raw: bool, is_value: bool) -> String {
    if raw && raw_ok(s, is_value) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap()
    }
}

#[derive(Debug, Clone)]
struct UnifiedLine {
    line: String,
    time: DateTime<FixedOffset>,
    level: Level,
    source: String,
    message: String,
    fields: Vec<(String, String)>,
    /// Byte index where the message bracket starts.
    body_at: usize,
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 _.:,/()-]{0,24}",
        2 => soup(),
        1 => any::<String>(),
    ]
}

fn arb_unified() -> impl Strategy<Value = UnifiedLine> {
    (
        arb_time(),
        prop::sample::select(UPPER_LEVELS),
        prop_oneof![
            "[a-z_]{1,12}\\.(rs|go|cpp):[0-9]{1,4}".prop_map(|s| s),
            Just("<unknown>".to_string()),
        ],
        (text_strategy(), any::<bool>()),
        prop::collection::vec((text_strategy(), text_strategy(), any::<bool>()), 0..6),
    )
        .prop_map(|((ts, time), lvl, source, (message, raw_msg), fields)| {
            let head = format!("[{ts}] [{lvl}] [{source}] ");
            let mut line = head.clone();
            // An empty raw message is `[]`, which is what Go writes for "no message" too.
            line.push('[');
            line.push_str(&token(&message, raw_msg, false));
            line.push(']');
            let mut fs = Vec::new();
            for (k, v, raw) in fields {
                line.push_str(&format!(
                    " [{}={}]",
                    token(&k, raw, false),
                    token(&v, raw, true)
                ));
                fs.push((k, v));
            }
            UnifiedLine {
                line,
                time,
                level: Level::parse(lvl).unwrap(),
                source,
                message,
                fields: fs,
                body_at: head.len(),
            }
        })
}

#[test]
fn unified_round_trips_message_and_fields() {
    check(400, arb_unified(), |u| {
        prop_assert!(unified::is_head(u.line.as_bytes()));
        prop_assert_eq!(unified::quick_level(u.line.as_bytes()), Some(u.level));
        let p = unified::parse_line(&u.line).expect("a well-formed line parses");
        prop_assert_eq!(p.time, Some(u.time));
        prop_assert_eq!(p.level, u.level);
        prop_assert_eq!(p.source, u.source.as_str());
        prop_assert_eq!(&p.message, &u.message);
        let fields: Vec<(String, String)> = p
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        prop_assert_eq!(fields, u.fields);
        Ok(())
    });
}

#[test]
fn unified_damaged_tail_keeps_head_and_a_prefix_of_fields() {
    check(
        300,
        (arb_unified(), any::<prop::sample::Index>()),
        |(u, cut)| {
            // Cut anywhere after the source bracket, on a character boundary.
            let bounds: Vec<usize> = (u.body_at..=u.line.len())
                .filter(|&i| u.line.is_char_boundary(i))
                .collect();
            let at = bounds[cut.index(bounds.len())];
            let l = &u.line[..at];
            let p = unified::parse_line(l).expect("the head is intact");
            prop_assert_eq!(p.level, u.level);
            prop_assert_eq!(p.time, Some(u.time));
            prop_assert!(p.message.is_empty() || p.message == u.message);
            prop_assert!(p.fields.len() <= u.fields.len());
            for (got, want) in p.fields.iter().zip(&u.fields) {
                prop_assert_eq!(
                    (got.0.as_ref(), got.1.as_ref()),
                    (want.0.as_str(), want.1.as_str())
                );
            }
            Ok(())
        },
    );
}

#[test]
fn unified_any_text_after_a_head_parses_the_head() {
    check(
        300,
        (arb_time(), prop::sample::select(UPPER_LEVELS), soup()),
        |((ts, t), lvl, tail)| {
            let line = format!("[{ts}] [{lvl}] {tail}");
            let p = unified::parse_line(&line).expect("head");
            prop_assert_eq!(p.time, Some(t));
            prop_assert_eq!(Some(p.level), Level::parse(lvl));
            Ok(())
        },
    );
}

// ---- legacy and JSON log lines ------------------------------------------------------------

#[test]
fn legacy_round_trips() {
    let shapes = prop_oneof![
        // TiKV ≤ 2.0 / logrus: `source: [LEVEL] msg`
        prop::sample::select(&["INFO", "WARN", "ERROR", "DEBUG", "info", "warning", "error"][..])
            .prop_map(|l| (0u8, l)),
        // TiKV 2.1 slog: `LVL source: msg`
        prop::sample::select(&["INFO", "WARN", "ERRO", "DEBG", "TRCE", "CRIT"][..])
            .prop_map(|l| (1u8, l)),
    ];
    let strategy = (
        (
            1970i32..2100,
            1u32..=12,
            1u32..=28,
            0u32..24,
            0u32..60,
            0u32..60,
        ),
        prop::option::of(0u32..1000),
        shapes,
        prop_oneof![
            "[a-z_-]{1,12}\\.(rs|go):[0-9]{1,4}".prop_map(|s| s),
            "<unknown>:[0-9]{1,4}".prop_map(|s| s),
        ],
        "[^\n]{0,60}",
        0usize..super_zones().len(),
    );
    check(
        300,
        strategy,
        |((y, mo, d, h, mi, s), ms, (shape, lvl), src, msg, z)| {
            let zone = super_zones()[z];
            let date = format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}");
            let date = match ms {
                Some(ms) => format!("{date}.{ms:03}"),
                None => date,
            };
            let line = if shape == 0 {
                format!("{date} {src}: [{lvl}] {msg}")
            } else {
                format!("{date} {lvl} {src}: {msg}")
            };
            let naive = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_milli_opt(h, mi, s, ms.unwrap_or(0))
                .unwrap();
            let want = zone.from_local_datetime(&naive).single().unwrap();
            prop_assert!(legacy::is_head(line.as_bytes()), "{}", line);
            let p = legacy::parse_line(&line, zone).expect("parses");
            prop_assert_eq!(p.time, Some(want));
            prop_assert_eq!(Some(p.level), Level::parse(lvl));
            prop_assert_eq!(p.source, src.as_str());
            prop_assert_eq!(p.message, msg.as_str());
            Ok(())
        },
    );
}

fn super_zones() -> Vec<FixedOffset> {
    [0, 8 * 3600, -7 * 3600, 5 * 3600 + 1800]
        .iter()
        .map(|&s| FixedOffset::east_opt(s).unwrap())
        .collect()
}

#[test]
fn jsonlog_round_trips() {
    let reserved = [
        "time",
        "ts",
        "level",
        "caller",
        "message",
        "msg",
        // CockroachDB's json keys.
        "timestamp",
        "severity",
        "file",
        "line",
        "tags",
    ];
    let strategy = (
        arb_time(),
        prop::sample::select(&["INFO", "warn", "ERROR", "debug", "FATAL"][..]),
        any::<String>(),
        any::<String>(),
        prop::collection::btree_map(
            "[a-zA-Z _-]{1,12}",
            prop_oneof![
                any::<String>().prop_map(serde_json::Value::String),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::Bool),
            ],
            0..6,
        ),
    );
    check(300, strategy, |((ts, t), lvl, caller, message, extra)| {
        // Encoders write level, time, caller and message first, then the fields.
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let mut line = format!(
            "{{\"level\":{},\"time\":{},\"caller\":{},\"message\":{}",
            q(lvl),
            q(&ts),
            q(&caller),
            q(&message)
        );
        let mut want: Vec<(String, String)> = Vec::new();
        for (k, v) in extra {
            if reserved.contains(&k.as_str()) {
                continue;
            }
            line.push_str(&format!(",{}:{}", q(&k), v));
            want.push((
                k,
                match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                },
            ));
        }
        line.push('}');
        prop_assert!(jsonlog::is_head(line.as_bytes()));
        let p = jsonlog::parse_line(&line).expect("parses");
        prop_assert_eq!(p.level, Level::parse(lvl));
        prop_assert_eq!(p.time, Some(t));
        prop_assert_eq!(p.source, Some(caller));
        prop_assert_eq!(p.message, message);
        let mut got = p.fields;
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
        Ok(())
    });
}

// ---- CockroachDB log lines ----------------------------------------------------------------

#[test]
fn crdb_v2_lines_round_trip() {
    let strategy = (
        prop::sample::select(&['I', 'W', 'E', 'F'][..]),
        (
            0u32..100,
            1u32..=12,
            1u32..=28,
            0u32..24,
            0u32..60,
            0u32..60,
            0u32..1_000_000,
        ),
        1u64..100_000,
        prop::option::of(1u32..20),
        "[a-z]{1,8}/[a-z_]{1,10}\\.go:[0-9]{1,4}",
        prop::option::of(1u64..1000),
        prop::collection::vec("[a-z][a-z ]{0,10}", 0..3),
        1u64..100_000,
        "[a-zA-Z][a-zA-Z0-9 ,.:=()-]{0,40}",
        any::<bool>(),
    );
    check(
        300,
        strategy,
        |(l, (yy, mo, d, h, mi, s, us), gid, chan, src, node, tags, counter, msg, mark)| {
            let mut tag_list: Vec<String> = node.map(|n| format!("n{n}")).into_iter().collect();
            tag_list.extend(tags);
            let tags_text = tag_list.join(",");
            let chan_text = chan.map(|c| format!("{c}@")).unwrap_or_default();
            let marker = if mark { " ⋮ " } else { "  " };
            let line = format!(
                "{l}{yy:02}{mo:02}{d:02} {h:02}:{mi:02}:{s:02}.{us:06} {gid} {chan_text}{src}{marker}[{tags_text}] {counter}  {msg}"
            );
            prop_assert!(crdb_log::is_head(line.as_bytes()));
            let p = crdb_log::parse_line(&line).expect("parses");
            let want = NaiveDate::from_ymd_opt(2000 + yy as i32, mo, d)
                .unwrap()
                .and_hms_micro_opt(h, mi, s, us)
                .unwrap();
            prop_assert_eq!(
                p.time,
                Some(utc().from_local_datetime(&want).single().unwrap())
            );
            prop_assert_eq!(p.source, src.as_str());
            prop_assert_eq!(&p.message, &msg);
            let field = |k: &str| {
                p.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            prop_assert_eq!(field("goroutine"), Some(gid.to_string()));
            prop_assert_eq!(field("counter"), Some(counter.to_string()));
            prop_assert_eq!(field("channel"), chan.map(|c| c.to_string()));
            prop_assert_eq!(field("node"), node.map(|n| n.to_string()));
            prop_assert_eq!(field("tags"), Some(tags_text));
            prop_assert_eq!(field("redactable").is_some(), mark);
            Ok(())
        },
    );
}

// ---- CockroachDB tables -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Row {
    id: u64,
    address: String,
    is_live: bool,
    replicas: u64,
    membership: &'static str,
    is_draining: bool,
}

fn arb_rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            0u64..1_000_000,
            "[a-z]{1,8}:[0-9]{4,5}",
            any::<bool>(),
            0u64..100_000,
            prop::sample::select(&["active", "decommissioning", "decommissioned"][..]),
            any::<bool>(),
        )
            .prop_map(
                |(id, address, is_live, replicas, membership, is_draining)| Row {
                    id,
                    address,
                    is_live,
                    replicas,
                    membership,
                    is_draining,
                },
            ),
        1..8,
    )
}

#[test]
fn crdb_tables_round_trip() {
    const COLS: &[&str] = &[
        "address",
        "is_live",
        "replicas",
        "membership",
        "is_draining",
    ];
    let strategy = (
        arb_rows(),
        prop::sample::subsequence(COLS, 1..=COLS.len()),
        any::<prop::sample::Index>(),
        0u8..4,
        any::<bool>(),
    );
    check(
        300,
        strategy,
        |(rows, mut cols, id_at, form, short_bools)| {
            let id_name = if form == 3 { "node_id" } else { "id" };
            cols.insert(id_at.index(cols.len() + 1), id_name);
            let b = |v: bool| match (short_bools, v) {
                (true, true) => "t",
                (true, false) => "f",
                (false, true) => "true",
                (false, false) => "false",
            };
            let cell = |r: &Row, c: &str| -> String {
                match c {
                    "id" | "node_id" => r.id.to_string(),
                    "address" => r.address.clone(),
                    "is_live" => b(r.is_live).into(),
                    "replicas" => r.replicas.to_string(),
                    "membership" => r.membership.into(),
                    _ => b(r.is_draining).into(),
                }
            };
            let mut text = String::new();
            match form {
                // `cockroach node status`: `|` cells, a rule and a `(N rows)` trailer.
                0 | 1 => {
                    let boxed = form == 1;
                    let rule = if boxed {
                        format!("+{}+", vec!["------"; cols.len()].join("+"))
                    } else {
                        vec!["------"; cols.len()].join("+")
                    };
                    let wrap = |cells: Vec<String>| {
                        let inner = cells
                            .iter()
                            .map(|c| format!(" {c:>6} "))
                            .collect::<Vec<_>>()
                            .join("|");
                        if boxed { format!("|{inner}|") } else { inner }
                    };
                    if boxed {
                        text.push_str(&rule);
                        text.push('\n');
                    }
                    text.push_str(&wrap(cols.iter().map(|c| c.to_string()).collect()));
                    text.push('\n');
                    text.push_str(&rule);
                    text.push('\n');
                    for r in &rows {
                        text.push_str(&wrap(cols.iter().map(|c| cell(r, c)).collect()));
                        text.push('\n');
                    }
                    if boxed {
                        text.push_str(&rule);
                        text.push('\n');
                    }
                    text.push_str(&format!("({} rows)\n", rows.len()));
                }
                _ => {
                    let sep = if form == 2 { "\t" } else { "," };
                    text.push_str(&cols.join(sep));
                    text.push('\n');
                    for r in &rows {
                        let cells: Vec<String> = cols.iter().map(|c| cell(r, c)).collect();
                        text.push_str(&cells.join(sep));
                        text.push('\n');
                    }
                }
            }
            let t = crdb_table::parse(&text);
            prop_assert_eq!(t.snapshots.len(), 1, "{}", text);
            prop_assert_eq!(t.records, rows.len() as u64);
            prop_assert_eq!(t.unparsed_lines, 0, "{}", text);
            let s = &t.snapshots[0];
            let decom = cols.contains(&"replicas") && !cols.contains(&"address");
            prop_assert_eq!(
                s.kind == kvtriage::model::crdb::TableKind::DecommissionProgress,
                decom
            );
            prop_assert_eq!(s.rows.len(), rows.len());
            let first_row_line = s.header_line + if form <= 1 { 2 } else { 1 };
            for (k, (got, want)) in s.rows.iter().zip(&rows).enumerate() {
                prop_assert_eq!(got.id, want.id);
                prop_assert_eq!(got.line, first_row_line + k as u64);
                let has = |c: &str| cols.contains(&c);
                prop_assert_eq!(
                    got.address.clone(),
                    has("address").then(|| want.address.clone())
                );
                prop_assert_eq!(got.is_live, has("is_live").then_some(want.is_live));
                prop_assert_eq!(got.replicas, has("replicas").then_some(want.replicas));
                prop_assert_eq!(
                    got.is_draining,
                    has("is_draining").then_some(want.is_draining)
                );
                prop_assert_eq!(
                    got.is_decommissioning,
                    has("membership").then(|| want.membership != "active")
                );
            }
            Ok(())
        },
    );
}

// ---- pd-ctl JSON ----------------------------------------------------------------------------

const STATES: &[&str] = &["Up", "Offline", "Down", "Disconnected", "Tombstone"];

/// A `pd-ctl store` or `region` list, pretty or compact, maybe after a command line; with
/// the expected ids.
fn arb_pdctl() -> impl Strategy<Value = (String, Vec<u64>, bool)> {
    let stores = prop::collection::vec(
        (
            1u64..10_000_000,
            prop::sample::select(STATES),
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}:20160",
            0u64..1_000_000,
        ),
        1..8,
    );
    (
        stores,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(stores, regions, pretty, command)| {
            let mut seen = std::collections::BTreeSet::new();
            let stores: Vec<_> = stores.into_iter().filter(|s| seen.insert(s.0)).collect();
            let ids: Vec<u64> = stores.iter().map(|s| s.0).collect();
            let doc = if regions {
                let list: Vec<serde_json::Value> = stores
                    .iter()
                    .map(|(id, _, _, n)| {
                        serde_json::json!({
                            "id": id,
                            "start_key": "7480000000000000FF",
                            "peers": [{"id": n + 1, "store_id": 5}, {"id": n + 2, "store_id": 6, "role_name": "Learner"}],
                            "leader": {"id": n + 1, "store_id": 5},
                            "approximate_size": 1,
                        })
                    })
                    .collect();
                serde_json::json!({"count": list.len(), "regions": list})
            } else {
                let list: Vec<serde_json::Value> = stores
                    .iter()
                    .map(|(id, state, addr, n)| {
                        serde_json::json!({
                            "store": {"id": id, "address": addr, "state_name": state, "version": "5.2.1"},
                            "status": {"capacity": "1.5TiB", "available": "100GiB", "region_count": n,
                                       "last_heartbeat_ts": "2023-06-04T17:36:54.941590113+08:00"},
                        })
                    })
                    .collect();
                serde_json::json!({"count": list.len(), "stores": list})
            };
            let body = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                doc.to_string()
            };
            let text = if command {
                format!(
                    "$ tiup ctl:v5.2.1 pd -u http://10.0.1.1:2379 {}\nStarting component `ctl`\n{body}\n",
                    if regions { "region store 5" } else { "store" }
                )
            } else {
                format!("{body}\n")
            };
            (text, ids, regions)
        })
}

#[test]
fn pdctl_documents_round_trip() {
    check(200, arb_pdctl(), |(text, ids, regions)| {
        let out = pdctl::parse(&text, InputId(0));
        prop_assert_eq!(out.problem, None);
        let got: Vec<u64> = if regions {
            out.regions.iter().map(|r| r.id.0).collect()
        } else {
            out.stores.iter().map(|s| s.id.0).collect()
        };
        prop_assert_eq!(got, ids);
        Ok(())
    });
}

#[test]
fn pdctl_truncated_documents_recover_only_real_records() {
    check(
        300,
        (arb_pdctl(), any::<prop::sample::Index>()),
        |((text, ids, _), cut)| {
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let at = bounds[cut.index(bounds.len())];
            let t = &text[..at];
            let out = pdctl::parse(t, InputId(0));
            for s in &out.stores {
                prop_assert!(ids.contains(&s.id.0), "store {} was never written", s.id.0);
            }
            for r in &out.regions {
                prop_assert!(ids.contains(&r.id.0), "region {} was never written", r.id.0);
            }
            // A document whose closing brace was cut off is reported, never silently complete.
            let open = text.find('{').unwrap();
            let close = text.rfind('}').unwrap();
            if at > open && at <= close {
                prop_assert!(
                    out.problem.is_some(),
                    "cut at {} of {}: no problem",
                    at,
                    text.len()
                );
            }
            Ok(())
        },
    );
}

/// Arbitrary JSON values, the shapes pd-ctl and Prometheus readers walk.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop_oneof![
            any::<String>(),
            prop::sample::select(STATES).prop_map(str::to_string),
            Just("1.5TiB".to_string())
        ]
        .prop_map(serde_json::Value::String),
    ];
    let keys = prop::sample::select(
        &[
            "id",
            "store",
            "status",
            "stores",
            "regions",
            "peers",
            "count",
            "store_id",
            "leader",
            "state_name",
            "address",
            "capacity",
            "available",
            "region_count",
            "labels",
            "key",
            "value",
            "replication",
            "schedule",
            "max-replicas",
            "role_name",
            "down_peers",
            "pending_peers",
            "last_heartbeat_ts",
            "data",
            "result",
            "resultType",
            "metric",
            "values",
            "info",
            "details",
            "x",
        ][..],
    );
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

#[test]
fn arbitrary_json_never_panics_the_json_readers() {
    let env = fuzz::Env::new();
    check(200, (arb_json(), any::<bool>()), |(v, pretty)| {
        let text = if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            v.to_string()
        };
        for t in [
            Target::Pdctl,
            Target::Prometheus,
            Target::UnsafeRecovery,
            Target::Operator,
        ] {
            fuzz::execute(t, text.as_bytes(), &env);
        }
        Ok(())
    });
}

// ---- scanning -------------------------------------------------------------------------------

/// A prefilter with a few needles, so that hits are rare but present.
fn prefilter() -> Prefilter {
    Prefilter::new(vec![
        NeedleGroup {
            needles: vec!["batch_raft".into(), "send fail".into()],
            kinds: None,
        },
        NeedleGroup {
            needles: vec!["disconnected".into()],
            kinds: None,
        },
        NeedleGroup {
            needles: vec!["drain".into()],
            kinds: Some(vec![kvtriage::model::Kind::CrdbLog]),
        },
    ])
}

fn ctx(p: &Prefilter, format: LogFormat, keep: bool) -> ScanCtx<'_> {
    let kind = match format {
        LogFormat::Unified => kvtriage::model::Kind::TikvLog,
        LogFormat::Legacy => kvtriage::model::Kind::PdLog,
        LogFormat::Json => kvtriage::model::Kind::TidbLog,
        LogFormat::Crdb => kvtriage::model::Kind::CrdbLog,
        LogFormat::Host => kvtriage::model::Kind::HostLog,
    };
    ScanCtx {
        input: InputId(0),
        kind,
        format,
        prefilter: p,
        assume_tz: utc(),
        keep_level: keep.then_some(Level::Warn),
        templates: true,
    }
}

/// One random log line of a format: a head (sometimes with a needle), a continuation, a
/// broken head, garbage or a blank. `t` is the entry time in seconds (moved by the caller).
fn log_line(rng: &mut fuzz::Rng, format: LogFormat, t: i64) -> String {
    let dt = DateTime::from_timestamp(t, 0)
        .unwrap()
        .with_timezone(&utc());
    let lvl = ["INFO", "WARN", "ERROR", "DEBUG"][rng.below(4)];
    let msgs = [
        "KvService::batch_raft send fail",
        "store disconnected",
        "drain remaining: 3",
        "region 12 became leader",
        "flush done",
        "apply snapshot",
    ];
    // Needles stay rare: under 2000 hits per group even in 8 MiB.
    let msg = if rng.one_in(100) {
        msgs[rng.below(3)]
    } else {
        msgs[3 + rng.below(3)]
    };
    match rng.below(20) {
        0 if rng.one_in(50) => "   0: backtrace frame with batch_raft inside".to_string(),
        0 => "   0: backtrace frame".to_string(),
        1 => "goroutine 1 [running]:".to_string(),
        2 => String::new(),
        3 => "[2022/03/28 lost its tail".to_string(),
        4 => "\u{ff}\u{fe} garbage [[[ \"\"\" ===".to_string(),
        _ => match format {
            LogFormat::Unified => format!(
                "[{}] [{lvl}] [kv.rs:{}] [\"{msg}\"] [region_id={}]",
                dt.format("%Y/%m/%d %H:%M:%S%.3f %:z"),
                rng.below(2000),
                rng.below(100)
            ),
            LogFormat::Legacy => format!(
                "{} tikv-server.rs:{}: [{lvl}] {msg}",
                dt.format("%Y/%m/%d %H:%M:%S%.3f"),
                rng.below(2000)
            ),
            LogFormat::Json => format!(
                "{{\"level\":\"{lvl}\",\"time\":\"{}\",\"caller\":\"a.go:1\",\"message\":\"{msg}\"}}",
                dt.format("%Y/%m/%d %H:%M:%S%.3f %:z")
            ),
            LogFormat::Crdb => format!(
                "{}{} 1 1@server/server.go:210 ⋮ [n1] {}  {msg}",
                &lvl[..1],
                dt.format("%y%m%d %H:%M:%S%.6f"),
                rng.below(1000)
            ),
            LogFormat::Host => format!("[{}] {msg}", dt.format("%a %b %e %H:%M:%S %Y")),
        },
    }
}

#[test]
fn scan_counts_every_head_line() {
    let p = prefilter();
    let formats = [
        LogFormat::Unified,
        LogFormat::Legacy,
        LogFormat::Json,
        LogFormat::Crdb,
    ];
    check(
        200,
        (
            any::<u64>(),
            0usize..4,
            0usize..400,
            any::<bool>(),
            any::<bool>(),
        ),
        |(seed, f, n, keep, crlf)| {
            let mut rng = fuzz::Rng::new(seed);
            let format = formats[f];
            let mut data = String::new();
            let mut heads = 0u64;
            let mut t = 1_600_000_000i64;
            for _ in 0..n {
                t += rng.below(100) as i64;
                let l = log_line(&mut rng, format, t);
                heads += u64::from(format.is_head(l.as_bytes()));
                data.push_str(&l);
                data.push_str(if crlf { "\r\n" } else { "\n" });
            }
            let out = scan::scan_log(data.as_bytes(), &ctx(&p, format, keep));
            prop_assert_eq!(out.records, heads);
            prop_assert_eq!(out.lines, n as u64);
            fuzz::check_scan(data.as_bytes(), format, &out);
            Ok(())
        },
    );
}

/// The size `scan_log` cuts files into (`scan::CHUNK`, private).
const SCAN_CHUNK: usize = 8 << 20;

/// Lines, entry heads and unparsed lines as one pass over the file counts them: text before
/// the first entry is unparsed, and so is a line that starts like a unified head but is not one.
fn single_pass_counts(data: &[u8], format: LogFormat) -> (u64, u64, u64) {
    let (mut lines, mut heads, mut unparsed) = (0, 0, 0);
    let mut seen_head = false;
    for l in fuzz::raw_lines(data) {
        lines += 1;
        if format.is_head(l) {
            heads += 1;
            seen_head = true;
        } else {
            let before_first = !seen_head && !l.iter().all(u8::is_ascii_whitespace);
            let broken_head = format == LogFormat::Unified
                && l.len() > 5
                && l[0] == b'['
                && l[1..5].iter().all(u8::is_ascii_digit)
                && l[5] == b'/';
            unparsed += u64::from(before_first || broken_head);
        }
    }
    (lines, heads, unparsed)
}

/// What a scan of `data` must give, computed from pieces that each start at an entry head and
/// fit in one chunk, so that no entry is cut: the single-pass result. `None` when the file
/// cannot be cut so (no entry head early enough).
fn single_pass_reference(data: &[u8], ctx: &ScanCtx<'_>, piece: usize) -> Option<ScanOutput> {
    // Piece boundaries: the first head line at or after each multiple of `piece`.
    let mut starts = vec![0usize];
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |p| pos + p);
        let line = &data[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if pos >= starts.last().unwrap() + piece && ctx.format.is_head(line) {
            starts.push(pos);
        }
        pos = end + 1;
    }
    starts.push(data.len());
    let mut out = ScanOutput::default();
    let mut line_base = 0;
    for w in starts.windows(2) {
        let chunk = &data[w[0]..w[1]];
        if chunk.len() > SCAN_CHUNK {
            return None;
        }
        let mut p = scan::scan_log(chunk, ctx);
        for e in &mut p.events {
            e.loc.line += line_base;
        }
        for t in &mut p.templates {
            t.sample.line += line_base;
        }
        line_base += p.lines;
        out.lines += p.lines;
        out.records += p.records;
        out.unparsed_lines += p.unparsed_lines;
        out.dropped_events += p.dropped_events;
        out.events.append(&mut p.events);
        for (g, c) in p.group_counts {
            *out.group_counts.entry(g).or_default() += c;
        }
        // File order: the first entry's time and the last one's.
        out.first_time = out.first_time.or(p.first_time);
        out.last_time = p.last_time.or(out.last_time);
        for t in p.templates {
            match out.templates.iter_mut().find(|x| x.template == t.template) {
                Some(x) => {
                    x.count += t.count;
                    x.first = match (x.first, t.first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    x.last = x.last.max(t.last);
                    x.known |= t.known;
                    for (m, c) in t.per_minute {
                        *x.per_minute.entry(m).or_default() += c;
                    }
                }
                None => out.templates.push(t),
            }
        }
    }
    Some(out)
}

fn event_view(o: &ScanOutput) -> Vec<String> {
    o.events
        .iter()
        .map(|e| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {:?}",
                e.loc.line, e.time, e.level, e.message, e.fields, e.groups, e.excerpt
            )
        })
        .collect()
}

fn template_view(o: &ScanOutput) -> Vec<String> {
    o.templates
        .iter()
        .map(|t| {
            format!(
                "{:?} {} {:?} {:?} {} {:?} {}",
                t.template, t.count, t.first, t.last, t.sample.line, t.per_minute, t.known
            )
        })
        .collect()
}

/// What is at the start of the second chunk.
#[derive(Debug, Clone, Copy)]
enum Boundary {
    Random,
    /// A continuation line that hits a needle: its entry's head is in the first chunk.
    ContinuationHit,
    /// The whole first chunk holds no entry head (a long banner or dump before the log).
    NoHeadBefore,
}

fn big_log(seed: u64, format: LogFormat, boundary: Boundary, back_jump: bool) -> Vec<u8> {
    let mut rng = fuzz::Rng::new(seed);
    let mut data = String::with_capacity(SCAN_CHUNK + (1 << 20));
    let mut t = 1_600_000_000i64;
    while data.len() <= SCAN_CHUNK {
        t += rng.below(3) as i64;
        let l = match boundary {
            Boundary::NoHeadBefore => format!("banner {} no entry here", rng.next_u64()),
            _ => log_line(&mut rng, format, t),
        };
        data.push_str(&l);
        data.push('\n');
    }
    // `split_chunks` ends the first chunk after the line crossing SCAN_CHUNK: this one.
    debug_assert_eq!(
        scan::split_chunks(data.as_bytes(), SCAN_CHUNK)[0].1,
        data.len()
    );
    match boundary {
        Boundary::ContinuationHit => {
            data.push_str("    caused by: KvService::batch_raft send fail (continued)\n")
        }
        Boundary::NoHeadBefore => data.push_str("a non-blank line before the first entry\n"),
        Boundary::Random => {
            // A head: what follows a chunk start is covered by the tests below (known issues).
            let l = loop {
                let l = log_line(&mut rng, format, t);
                if format.is_head(l.as_bytes()) {
                    break l;
                }
            };
            data.push_str(&l);
            data.push('\n');
        }
    }
    if back_jump {
        t -= 86_400;
    }
    for _ in 0..2_000 + rng.below(20_000) {
        t += rng.below(3) as i64;
        data.push_str(&log_line(&mut rng, format, t));
        data.push('\n');
    }
    data.into_bytes()
}

fn assert_chunked_equals_single_pass(data: &[u8], format: LogFormat, keep: bool) {
    let p = prefilter();
    let c = ctx(&p, format, keep);
    assert!(data.len() > SCAN_CHUNK);
    let chunked = scan::scan_log(data, &c);
    fuzz::check_scan(data, format, &chunked);
    // Streaming (how compressed members are read) cuts blocks where reads end: same result.
    let head = kvtriage::parse::detect::SNIFF_BYTES;
    let mut src = fuzz::Trickle::new(&data[head..], 1 << 16);
    let (streamed, err) = scan::scan_stream(data[..head].to_vec(), &mut src, &c);
    assert!(err.is_none());
    assert_same_scan(&fuzz::scan_view(&streamed), &fuzz::scan_view(&chunked));
    let (lines, records, unparsed) = single_pass_counts(data, format);
    assert_eq!(chunked.lines, lines, "lines");
    assert_eq!(chunked.records, records, "records");
    assert_eq!(chunked.unparsed_lines, unparsed, "unparsed lines");
    // The event-level reference cuts the file at entry heads; a file whose first part has
    // none (the no-head-before case) is checked by the counts above only.
    let Some(reference) = single_pass_reference(data, &c, SCAN_CHUNK / 2) else {
        assert!(
            !data[..SCAN_CHUNK / 2]
                .split(|&b| b == b'\n')
                .any(|l| format.is_head(l))
        );
        return;
    };
    assert!(
        reference
            .group_counts
            .values()
            .all(|&n| n < scan::MAX_EVENTS_PER_GROUP as u64),
        "the generator keeps hits under the per-group cap"
    );
    assert_eq!(chunked.lines, reference.lines, "lines");
    assert_eq!(chunked.records, reference.records, "records");
    assert_eq!(
        chunked.unparsed_lines, reference.unparsed_lines,
        "unparsed lines"
    );
    assert_eq!(chunked.group_counts, reference.group_counts, "group counts");
    assert_eq!(
        chunked.dropped_events, reference.dropped_events,
        "dropped events"
    );
    let (a, b) = (event_view(&chunked), event_view(&reference));
    if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        panic!(
            "events differ at #{i}:\n chunked:     {:?}\n single pass: {:?}",
            a.get(i),
            b.get(i)
        );
    }
    assert_eq!(
        template_view(&chunked),
        template_view(&reference),
        "templates"
    );
    assert_eq!(chunked.first_time, reference.first_time, "first entry time");
    assert_eq!(chunked.last_time, reference.last_time, "last entry time");
}

/// Two scans' views, with the first differing line shown.
fn assert_same_scan(streamed: &str, in_memory: &str) {
    if let Some((a, b)) = streamed
        .lines()
        .zip(in_memory.lines())
        .find(|(a, b)| a != b)
    {
        panic!("scan_stream differs from scan_log:\n stream:    {a}\n in memory: {b}");
    }
    assert_eq!(
        streamed.lines().count(),
        in_memory.lines().count(),
        "event counts"
    );
}

#[test]
fn streaming_scan_equals_in_memory_scan() {
    let p = prefilter();
    let formats = [
        LogFormat::Unified,
        LogFormat::Legacy,
        LogFormat::Json,
        LogFormat::Crdb,
    ];
    let strategy = (
        any::<u64>(),
        0usize..4,
        0usize..300,
        any::<prop::sample::Index>(),
        1usize..5000,
        any::<bool>(),
    );
    check(200, strategy, |(seed, f, n, split, piece, keep)| {
        let mut rng = fuzz::Rng::new(seed);
        let format = formats[f];
        let mut data = String::new();
        let mut t = 1_600_000_000i64;
        for _ in 0..n {
            t += rng.below(100) as i64;
            data.push_str(&log_line(&mut rng, format, t));
            data.push('\n');
        }
        let data = data.as_bytes();
        let c = ctx(&p, format, keep);
        let k = split.index(data.len() + 1);
        let mut src = fuzz::Trickle::new(&data[k..], piece);
        let (streamed, err) = scan::scan_stream(data[..k].to_vec(), &mut src, &c);
        prop_assert!(err.is_none());
        assert_same_scan(
            &fuzz::scan_view(&streamed),
            &fuzz::scan_view(&scan::scan_log(data, &c)),
        );
        Ok(())
    });
}

/// A line longer than a whole block (hostile input, or a log without newlines): the stream
/// cuts it in two, so it counts one line too many and every later line number is off by one.
#[test]
fn streaming_a_line_longer_than_a_block() {
    let p = prefilter();
    let c = ctx(&p, LogFormat::Unified, false);
    let mut data = b"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"".to_vec();
    data.extend(std::iter::repeat_n(b'x', SCAN_CHUNK + (1 << 20)));
    data.extend_from_slice(b"\"] [err=x]\n[2022/03/28 09:34:39.062 +08:00] [INFO] [a.rs:1] [\"batch_raft send fail\"]\n");
    let in_memory = scan::scan_log(&data, &c);
    assert_eq!((in_memory.lines, in_memory.records), (2, 2));
    let head = kvtriage::parse::detect::SNIFF_BYTES;
    let mut src = fuzz::Trickle::new(&data[head..], 1 << 16);
    let (streamed, err) = scan::scan_stream(data[..head].to_vec(), &mut src, &c);
    assert!(err.is_none());
    assert_same_scan(&fuzz::scan_view(&streamed), &fuzz::scan_view(&in_memory));
}

#[test]
fn chunked_scan_equals_single_pass_on_random_logs() {
    // Files over the chunk size are cut at line ends and the chunks scanned in parallel; the
    // result must not depend on where the cuts fall.
    let formats = [
        LogFormat::Unified,
        LogFormat::Legacy,
        LogFormat::Json,
        LogFormat::Crdb,
    ];
    // Shrinking a seed says nothing: a failure is reported as found.
    // Each case scans over 8 MiB twice: at most 20 cases even when PROPTEST_CASES asks more.
    let base = config(3);
    let cfg = Config {
        cases: base.cases.min(20),
        max_shrink_iters: 0,
        ..base
    };
    check_with(
        cfg,
        (any::<u64>(), 0usize..4, any::<bool>()),
        |(seed, f, keep)| {
            let data = big_log(seed, formats[f], Boundary::Random, false);
            assert_chunked_equals_single_pass(&data, formats[f], keep);
            Ok(())
        },
    );
}

/// Regression: a continuation line that starts a chunk took no time or level from its entry.
#[test]
fn chunked_scan_keeps_the_head_of_a_continuation_at_a_chunk_start() {
    let data = big_log(7, LogFormat::Unified, Boundary::ContinuationHit, false);
    assert_chunked_equals_single_pass(&data, LogFormat::Unified, false);
}

/// Regression: text before the file's first entry was not counted when it fell in a later chunk.
#[test]
fn chunked_scan_counts_text_before_the_first_head_in_a_later_chunk() {
    let data = big_log(7, LogFormat::Unified, Boundary::NoHeadBefore, false);
    assert_chunked_equals_single_pass(&data, LogFormat::Unified, false);
}

/// Regression: first/last time were the earliest/latest of the chunks, not the first/last entry's.
#[test]
fn chunked_scan_first_time_is_the_first_entry_after_a_clock_jump() {
    let data = big_log(7, LogFormat::Unified, Boundary::Random, true);
    assert_chunked_equals_single_pass(&data, LogFormat::Unified, false);
}

// ---- sniffing -------------------------------------------------------------------------------

#[test]
fn logs_of_heads_sniff_as_their_format() {
    let formats = [LogFormat::Unified, LogFormat::Legacy, LogFormat::Crdb];
    check(
        200,
        (any::<u64>(), 0usize..3, 3usize..50),
        |(seed, f, n)| {
            let mut rng = fuzz::Rng::new(seed);
            let format = formats[f];
            let mut data = String::new();
            let mut t = 1_600_000_000i64;
            let mut k = 0;
            while k < n {
                t += 1;
                let l = log_line(&mut rng, format, t);
                if format.is_head(l.as_bytes()) {
                    k += 1;
                    data.push_str(&l);
                    data.push('\n');
                }
            }
            match detect("x.log", data.as_bytes()) {
                Detected::Found(Format::Log(got), _) => prop_assert_eq!(got, format),
                other => prop_assert!(false, "sniffed {:?}", other),
            }
            Ok(())
        },
    );
}

// ---- archives -------------------------------------------------------------------------------

#[test]
fn archives_deliver_exactly_their_members() {
    let strategy = (
        prop::collection::btree_map(
            "[a-z0-9_]{1,8}(/[a-z0-9_]{1,8}){0,2}\\.(log|txt|json)",
            prop::collection::vec(any::<u8>(), 0..2000),
            1..6,
        ),
        0u8..4,
    );
    check(100, strategy, |(members, kind)| {
        let files: Vec<(String, Vec<u8>)> = members.into_iter().collect();
        let (display, bytes) = match kind {
            0 => ("b.tar", fuzz::tar_of(&files, false)),
            1 => ("b.tar.gz", fuzz::gzip(&fuzz::tar_of(&files, true), None)),
            2 => ("b.zip", fuzz::zip_of(&files, true)),
            _ => ("b.tar.zst", fuzz::zstd_of(&fuzz::tar_of(&files, false))),
        };
        let mut got = Vec::new();
        let mut problems = Vec::new();
        let total = archive::read(display, &bytes, &Limits::default(), &mut |e| match e {
            Entry::Member(m) => got.push((m.path, m.data)),
            Entry::Problem(p) => problems.push(p),
        });
        let want: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(n, d)| (format!("{display}!/{n}"), d.clone()))
            .collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(total, files.iter().map(|f| f.1.len() as u64).sum::<u64>());
        // The tar.gz carries a folder and a symbolic link: skipped with a reason, never read.
        prop_assert!(problems.iter().all(|p| p.path.starts_with(display)));
        Ok(())
    });
}

#[test]
fn mutated_archives_never_panic_and_read_the_same_twice() {
    let corpus = fuzz::Corpus::load(&[]);
    let seeds = Arc::new(corpus.archives);
    let n = seeds.len();
    check(
        150,
        (0..n, any::<u64>(), 1usize..6),
        move |(i, seed, edits)| {
            let mut rng = fuzz::Rng::new(seed);
            let mut buf = seeds[i].clone();
            for _ in 0..edits {
                fuzz::mutate_once(&mut rng, &mut buf, &seeds);
            }
            let limits = Limits {
                max_total_bytes: 16 << 20,
                max_member_bytes: 4 << 20,
                ..Limits::default()
            };
            let run = || {
                let mut v = Vec::new();
                let t = archive::read("m.tar.gz", &buf, &limits, &mut |e| v.push(e));
                (v, t)
            };
            let (a, ta) = run();
            let (b, tb) = run();
            prop_assert!(a == b && ta == tb, "not deterministic");
            prop_assert!(!a.is_empty(), "every call reports something");
            Ok(())
        },
    );
}

// ---- the whole pipeline ---------------------------------------------------------------------

const NAMES: &[&str] = &[
    "tikv-10.0.1.5-20160/log/tikv.log",
    "pd-10.0.1.1-2379/log/pd.log",
    "tidb.log",
    "pdctl/stores.json",
    "pdctl/region_store_5.txt",
    "pdctl/config.json",
    "nodes/1/logs/cockroach.log",
    "node-status.txt",
    "decommission.txt",
    "metrics/pd_regions_status.json",
    "operators.txt",
    "recovery.txt",
    "bundle.tar.gz",
    "tikv.log.gz",
    "notes.txt",
    "blob.bin",
];

/// A bundle: up to 6 files, each random bytes, a fixture (maybe compressed) or a mutant.
fn arb_bundle() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let corpus = fuzz::Corpus::load(&[]);
    let files = Arc::new(
        corpus
            .files
            .into_iter()
            .map(|(_, d)| d)
            .collect::<Vec<Vec<u8>>>(),
    );
    let n = files.len();
    let content = prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..1500),
        1 => soup().prop_map(String::into_bytes),
        4 => (0..n, any::<u64>(), 0u8..6).prop_map(move |(i, seed, how)| {
            let mut rng = fuzz::Rng::new(seed);
            let f = &files[i];
            match how {
                0 => f.clone(),
                1 => fuzz::gzip(f, None),
                2 => fuzz::gzip(&fuzz::tar_of(&[("x/tikv.log".into(), f.clone())], false), None),
                _ => fuzz::mutate(&mut rng, f, &files, 256 << 10),
            }
        }),
    ];
    prop::collection::vec(
        (
            prop_oneof![
                3 => prop::sample::select(NAMES).prop_map(str::to_string),
                1 => "[a-z0-9._-]{1,12}(/[a-z0-9._-]{1,12}){0,2}",
            ],
            content,
        ),
        0..6,
    )
}

#[test]
fn analyze_lists_every_file_and_is_deterministic() {
    let rules = RuleSet::builtin().unwrap();
    check(40, arb_bundle(), |files| {
        let dir = tempfile::tempdir().unwrap();
        let written = fuzz::write_files(dir.path(), &files);
        let opts = Options {
            paths: vec![dir.path().to_path_buf()],
            limits: Limits {
                max_total_bytes: 64 << 20,
                ..Limits::default()
            },
            ..Options::default()
        };
        let a = analyze(&opts, &rules);
        prop_assert!(!a.inputs.is_empty());
        for w in &written {
            let member = format!("{w}!/");
            prop_assert!(
                a.inputs
                    .iter()
                    .any(|i| i.path == *w || i.path.starts_with(&member)),
                "{} not listed in {:?}",
                w,
                a.inputs.iter().map(|i| &i.path).collect::<Vec<_>>()
            );
        }
        if written.is_empty() {
            prop_assert_eq!(a.inputs[0].status, Status::Failed);
        }
        for i in &a.inputs {
            if i.status != Status::Parsed {
                prop_assert!(i.reason.is_some(), "{} has no reason", i.path);
            }
        }
        let json = report::json(&a);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(v["inputs"].as_array().map(Vec::len), Some(a.inputs.len()));
        let _ = report::markdown(&a);
        let _ = report::table(&a, false, 100, true);
        // Same files, same report.
        let again = analyze(&opts, &rules);
        prop_assert_eq!(report::json(&again), json);
        Ok(())
    });
}

#[test]
fn analyze_never_panics_on_mutated_fixture_bundles() {
    never_panics(Target::Analyze, 30);
}

// ---- a short fuzz run -----------------------------------------------------------------------

/// Every target of `examples/fuzz.rs` for a few hundred mutants (fixed seed): the CI share of
/// fuzzing. Longer runs: `cargo run --release --example fuzz -- all --seconds 120`.
#[test]
fn short_fuzz_run_finds_no_crash() {
    fuzz::install_panic_hook(false);
    let env = fuzz::Env::new();
    let corpus = fuzz::Corpus::load(&[]);
    let mut failures = Vec::new();
    for &t in fuzz::TARGETS {
        let cfg = fuzz::Config {
            iterations: Some(match t {
                Target::Analyze => 60,
                Target::Archive | Target::Scan => 150,
                _ => 300,
            }),
            seed: 0x6b76_7472,
            minimize: false,
            verbose: false,
            ..fuzz::Config::default()
        };
        let st = fuzz::fuzz(t, &cfg, &env, &corpus, None);
        for (site, s) in &st.sites {
            failures.push(format!(
                "{}: {site}: {} (input {})",
                t.name(),
                s.message,
                s.first.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz crashes:\n{}",
        failures.join("\n")
    );
}

// ---- regressions (found by the fuzzer) ------------------------------------------------------

/// Unused until a crash is found in a file this suite does not own: each gets an ignored test.
#[allow(dead_code)]
fn replay(target: Target, data: &[u8]) {
    let env = fuzz::Env::new();
    fuzz::execute(target, data, &env);
}

// ---- the fuzzer's own machinery -------------------------------------------------------------

#[test]
fn fuzzer_catches_panics_with_their_site_and_minimizes() {
    fuzz::install_panic_hook(false);
    let c = fuzz::catch(|| panic!("boom {}", 7)).unwrap_err();
    assert!(c.site.starts_with("tests/properties.rs:"), "{}", c.site);
    assert_eq!(c.message, "boom 7");
    assert_eq!(fuzz::catch(|| 3).unwrap(), 3);
    let input = b"line one\nxx [[ CRASH ]] yy\nline three\n";
    let m = fuzz::minimize_with(input, 10_000, true, |d| d.windows(5).any(|w| w == b"CRASH"));
    assert_eq!(m, b"CRASH");
}

#[test]
fn fuzzer_is_deterministic_for_a_seed() {
    let env = fuzz::Env::new();
    let corpus = fuzz::Corpus::load(&[]);
    let cfg = fuzz::Config {
        iterations: Some(300),
        seed: 42,
        verbose: false,
        ..fuzz::Config::default()
    };
    let a = fuzz::fuzz(Target::CrdbLog, &cfg, &env, &corpus, None);
    let b = fuzz::fuzz(Target::CrdbLog, &cfg, &env, &corpus, None);
    assert_eq!(
        (a.executions, a.pool, a.shapes),
        (b.executions, b.pool, b.shapes)
    );
    let mut r1 = fuzz::Rng::new(5);
    let mut r2 = fuzz::Rng::new(5);
    let seeds = corpus.seeds(Target::Unified);
    for _ in 0..200 {
        let i = r1.below(seeds.len());
        assert_eq!(i, r2.below(seeds.len()));
        assert_eq!(
            fuzz::mutate(&mut r1, &seeds[i], &seeds, 1 << 16),
            fuzz::mutate(&mut r2, &seeds[i], &seeds, 1 << 16)
        );
    }
}

// ---- envelopes ----------------------------------------------------------------------------

/// An inner line: a TiKV head with soup after it, or soup; never a line end inside, and
/// starting with a letter (markup at the start of a pasted line is the paste's, not the log's).
fn arb_inner() -> impl Strategy<Value = String> {
    (any::<bool>(), soup()).prop_map(|(head, s)| {
        let s: String = s.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
        if head {
            format!("[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"{s}\"]")
        } else {
            format!("x{s}")
        }
    })
}

/// `line` wrapped in envelope `i`: the outer text and the inner text unwrapping must yield.
fn wrap(i: usize, line: &str, split: usize) -> (String, String) {
    let stamp = "2020-11-15T08:02:37.712403118Z";
    let json = |s: &str| serde_json::to_string(s).unwrap();
    match i % 10 {
        0 => (
            format!(
                "{{\"log\":{},\"stream\":\"stdout\",\"time\":\"{stamp}\"}}\n",
                json(&format!("{line}\n"))
            ),
            format!("{line}\n"),
        ),
        1 => (
            format!(
                "{{\"__REALTIME_TIMESTAMP\":\"1581967170412398\",\"MESSAGE\":{}}}\n",
                json(line)
            ),
            format!("{line}\n"),
        ),
        2 => (format!("{stamp} stderr F {line}\n"), format!("{line}\n")),
        3 => {
            // A CRI partial: split at a char boundary, joined on the first line.
            let mut at = split.min(line.len());
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            let (a, b) = line.split_at(at);
            (
                format!("{stamp} stdout P {a}\n{stamp} stdout F {b}\n"),
                format!("{line}\n\n"),
            )
        }
        4 => (
            format!("[pod/basic-tikv-0/tikv] {line}\n"),
            format!("{line}\n"),
        ),
        5 => (
            format!("[pod/basic-tikv-0/tikv] {stamp} {line}\n"),
            format!("{line}\n"),
        ),
        6 => (format!("{stamp} {line}\n"), format!("{line}\n")),
        7 => (
            format!("Feb  8 03:19:30.412398 host tikv-server[21873]: {line}\n"),
            format!("{line}\n"),
        ),
        8 => (
            format!("2020-02-18T03:19:30+0800 host systemd: {line}\n"),
            format!("{line}\n"),
        ),
        _ => (format!("> - {line}\r\n"), format!("{line}\n")),
    }
}

const ENVELOPES: [kvtriage::parse::envelope::Envelope; 10] = {
    use kvtriage::parse::envelope::Envelope::*;
    [
        DockerJson,
        JournaldJson,
        Cri,
        Cri,
        KubectlPrefix,
        KubectlPrefix,
        Timestamps,
        Syslog,
        Syslog,
        Pasted,
    ]
};

#[test]
fn any_envelope_around_any_line_yields_the_inner_line() {
    use kvtriage::parse::envelope::{Unwrap, sniff};
    use std::io::Read;
    check(
        300,
        (0usize..10, arb_inner(), 0usize..200),
        |(i, line, split)| {
            let (outer, want) = wrap(i, &line, split);
            let env = ENVELOPES[i];
            prop_assert_eq!(sniff(outer.as_bytes()), Some(env), "{:?}", outer);
            let mut un = Unwrap::new(outer.as_bytes(), env, utc());
            let mut got = String::new();
            un.read_to_string(&mut got).unwrap();
            prop_assert_eq!(got, want);
            Ok(())
        },
    );
}

#[test]
fn unwrapping_arbitrary_bytes_never_panics_and_keeps_line_numbers() {
    use kvtriage::parse::envelope::{Envelope, Unwrap, choose, sniff};
    use std::io::Read;
    check(200, input_for(Target::Sniff), |data| {
        let head = &data[..data.len().min(64 << 10)];
        let _ = choose("x.log", head, &detect("x.log", head));
        let _ = sniff(head);
        let outer = head.iter().filter(|&&c| c == b'\n').count()
            + usize::from(head.last().is_some_and(|&c| c != b'\n'));
        for env in Envelope::ALL {
            let mut inner = Vec::new();
            Unwrap::new(head, env, utc())
                .read_to_end(&mut inner)
                .unwrap();
            prop_assert_eq!(inner.iter().filter(|&&c| c == b'\n').count(), outer);
        }
        Ok(())
    });
}

// ---- cut copies of real samples -----------------------------------------------------------

fn shape_sample(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/shapes/samples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every char boundary of a text (every place a copy can stop).
fn cuts(text: &str) -> impl Iterator<Item = usize> + '_ {
    (0..=text.len()).filter(|&i| text.is_char_boundary(i))
}

/// Any cut of a real pd-ctl sample: no panic, and every store and region it yields is one the
/// whole sample holds, with the same values: a store or region from a list only when the cut
/// left it whole; a single store answer cut after its state keeps only fields it read whole.
/// A cut inside a document always marks the copy partial.
#[test]
fn any_cut_of_a_real_pdctl_sample_yields_only_complete_objects() {
    for name in [
        "transcript-pdctl-store-interactive.txt",
        "transcript-tiup-ctl-region-store.txt",
        "transcript-tiup-ctl-store.txt",
        "pdctl-store-offline-no-state.json",
        "pdctl-store-down-2017.json",
        "cut-top-pdctl-stores-then-curl-schedulers.txt",
        "transcript-pdctl-store-check.txt",
        "cut-pdctl-regions-check.json",
    ] {
        let text = shape_sample(name);
        let full = pdctl::parse(&text, InputId(0));
        let (open, close) = (text.find('{'), text.rfind('}'));
        for at in cuts(&text) {
            let out = pdctl::parse(&text[..at], InputId(0));
            for s in &out.stores {
                let f = full
                    .stores
                    .iter()
                    .find(|f| f.id == s.id)
                    .unwrap_or_else(|| {
                        panic!("{name} cut at {at}: store {} not in the sample", s.id.0)
                    });
                assert_eq!(
                    s.state, f.state,
                    "{name} cut at {at}: store {} state",
                    s.id.0
                );
                let agrees = |a: &Option<u64>, b: &Option<u64>| a.is_none() || a == b;
                assert!(
                    agrees(&s.capacity, &f.capacity)
                        && agrees(&s.available, &f.available)
                        && agrees(&s.region_count, &f.region_count)
                        && agrees(&s.leader_count, &f.leader_count)
                        && (s.address.is_none() || s.address == f.address)
                        && (s.version.is_none() || s.version == f.version)
                        && f.labels.starts_with(&s.labels),
                    "{name} cut at {at}: store {s:?} differs from {f:?}"
                );
                assert!(
                    !s.complete || f.complete,
                    "{name} cut at {at}: complete store list"
                );
            }
            for r in &out.regions {
                let f = full
                    .regions
                    .iter()
                    .find(|f| f.id == r.id)
                    .unwrap_or_else(|| {
                        panic!("{name} cut at {at}: region {} not in the sample", r.id.0)
                    });
                assert_eq!(
                    (&r.peers, &r.leader, &r.down_peers, &r.pending_peers, r.loc),
                    (&f.peers, &f.leader, &f.down_peers, &f.pending_peers, f.loc),
                    "{name} cut at {at}: region {} is not whole",
                    r.id.0
                );
                assert!(
                    !r.complete || f.complete,
                    "{name} cut at {at}: complete region list"
                );
            }
            if let (Some(o), Some(c)) = (open, close)
                && at > o
                && at <= c
            {
                assert!(
                    !out.partial.is_empty(),
                    "{name} cut at {at} inside its document: not marked partial"
                );
            }
        }
    }
}

/// Any cut of a real JSON log line keeps its level and, when it has them whole, its time and
/// fields; the message is the line's message or the part of it before the cut.
#[test]
fn any_cut_of_a_json_log_line_keeps_what_it_shows_whole() {
    let fluent = shape_sample("cut-crdb-json-fluent-log.log");
    let crdb = fluent
        .lines()
        .nth(1)
        .expect("the first json-fluent line")
        .to_string();
    let tidb = r#"{"level":"INFO","time":"2022/01/14 08:09:55.307 +01:00","caller":"printer.go:34","message":"Welcome to TiDB.","Release Version":"v5.3.0","Git Commit Hash":"4a1b2e9fe5b5afb1068c56de47adb07098d768d6"}"#;
    for line in [crdb.as_str(), tidb] {
        let full = jsonlog::parse_line(line).expect("the whole line parses");
        for at in cuts(line) {
            let Some(p) = jsonlog::parse_line(&line[..at]) else {
                continue;
            };
            assert_eq!(p.level, full.level, "cut at {at}");
            assert!(p.time.is_none() || p.time == full.time, "cut at {at}: time");
            assert!(
                p.source.is_none() || p.source == full.source,
                "cut at {at}: source"
            );
            assert!(
                full.message.starts_with(&p.message),
                "cut at {at}: message {:?}",
                p.message
            );
            for f in &p.fields {
                assert!(
                    full.fields.contains(f),
                    "cut at {at}: field {f:?} is not whole"
                );
            }
        }
    }
}

/// Any cut of a real `cockroach node status` table keeps whole rows as the whole table has
/// them; only the last row can be short, and then the copy says so.
#[test]
fn any_cut_of_a_node_status_table_keeps_the_rows_above() {
    let text = shape_sample("transcript-crdb-node-status-start-error.txt");
    let full = crdb_table::parse(&text);
    let rows = |t: &kvtriage::model::crdb::CrdbTables| -> Vec<kvtriage::model::crdb::NodeRow> {
        t.snapshots.iter().flat_map(|s| s.rows.clone()).collect()
    };
    let all = rows(&full);
    for at in cuts(&text) {
        let t = &text[..at];
        let cut = crdb_table::parse(t);
        let got = rows(&cut);
        for (i, r) in got.iter().enumerate() {
            let whole = all.iter().find(|f| f.line == r.line).unwrap_or_else(|| {
                panic!("cut at {at}: row at line {} not in the whole table", r.line)
            });
            if i + 1 < got.len() || t.ends_with('\n') {
                assert_eq!(r, whole, "cut at {at}: a row above the cut differs");
            }
        }
    }
}
