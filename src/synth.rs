//! Synthetic bundles for benchmarks and scale tests: deterministic from a seed, any size,
//! several nodes, noise built from real message templates of the unified format, rotated
//! files (one of them gzipped), and planted incidents that the rules must find at any size.
//! Used by `examples/gen_bundle.rs` and the scale tests; not part of the analysis.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// xorshift64*: fast, deterministic, good enough for noise.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// TiKV lines: `{r}` region, `{p}` peer, `{s}` store, `{a}` a number, `{k}` a hex key.
const TIKV: &[&str] = &[
    r#"[INFO] [raft.rs:1120] ["became follower at term {a}"] [term={a}] [raft_id={p}] [region_id={r}]"#,
    r#"[INFO] [raft.rs:1228] ["became leader at term {a}"] [term={a}] [raft_id={p}] [region_id={r}]"#,
    r#"[INFO] [raft.rs:1532] ["starting a new election"] [term={a}] [raft_id={p}] [region_id={r}]"#,
    r#"[INFO] [peer.rs:5483] ["on split"] [source=ipv4:10.0.1.7:60178] [split_keys="key {k}"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [compact_log.rs:588] ["compact log"] [truncated="applied_index: {a} truncated_state { index: {a} term: 7 }"] [index={a}] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [apply.rs:1752] ["split region"] [keys="key {k}"] [region="id: {r} start_key: {k} region_epoch { conf_ver: 1 version: 23 } peers { id: {p} store_id: {s} }"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [life.rs:846] ["peer destroyed"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [router.rs:348] ["shutdown mailbox"] [region_id={r}]"#,
    r#"[INFO] [mod.rs:366] ["mark for destroy for larger ID"] [larger_id={p}] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [snap.rs:1108] ["saving snapshot file"] [file="/data/tikv/snap/gen_{r}_7_{a}_default.sst"] [snap_key={r}_7_{a}]"#,
    r#"[INFO] [pd.rs:1486] ["try to batch split region"] [task=batch_split] [region_id={r}] [new_region_ids="[{p}]"]"#,
    r#"[INFO] [peer.rs:1758] ["notify pd with split"] [split_count=2] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [apply.rs:1172] ["execute admin command"] [command="cmd_type: CompactLog compact_log { compact_index: {a} compact_term: 7 }"] [index={a}] [term=7] [peer_id={p}] [region_id={r}]"#,
    r#"[WARN] [endpoint.rs:780] ["error-response"] [err="Region error (will back off and retry) message: \"peer is not leader for region {r}, leader may Some(id: {p} store_id: {s})\""]"#,
    r#"[WARN] [store.rs:2001] ["handle raft ready takes too long"] [elapsed=1.{a}s] [region_id={r}]"#,
    r#"[INFO] [scheduler.rs:612] ["get snapshot failed"] [err="Error(Request(message: \"EpochNotMatch\"))"] [cid={a}]"#,
];

const PD: &[&str] = &[
    r#"[INFO] [operator_controller.go:732] ["send schedule command"] [region-id={r}] [step="add learner peer {p} on store {s}"] [source=create]"#,
    r#"[INFO] [region.go:751] ["region ConfVer changed"] [region-id={r}] [detail="Add peer:{id:{p} store_id:{s} role:Learner }"] [old-confver=5] [new-confver=6]"#,
    r#"[INFO] [cluster.go:567] ["leader changed"] [region-id={r}] [from=1] [to={s}]"#,
    r#"[INFO] [cluster.go:545] ["region Version changed"] [region-id={r}] [detail="StartKey Changed:{{k}} -> {{k}}, EndKey:{{k}}"] [old-version={a}] [new-version={a}]"#,
    r#"[INFO] [operator_controller.go:635] ["operator finish"] [region-id={r}] [takes=1.149978179s] [operator="\"balance-region {mv peer: store [1] to [{s}]} (kind:region, region:{r}(575, 5), createAt:2024-07-09 16:25:23.105733052 +0800 CST m=+1209042.707881308, startAt:2024-07-09 16:25:23.10595495 +0800 CST m=+1209042.708103209, currentStep:4, size:92, steps:[0:{add learner peer {p} on store {s}}, 3:{remove peer on store 1}], timeout:[17m0s]) finished\""] [additional-info="{\"cancel-reason\":\"\",\"sourceScore\":\"817938.92\",\"targetScore\":\"4194.83\"}"]"#,
    r#"[INFO] [grpc_service.go:1320] ["update service GC safe point"] [service-id=gc_worker] [expire-at=-9223372034997196563] [safepoint={a}]"#,
    r#"[INFO] [tso.go:436] ["reset the timestamp in memory"] []"#,
];

fn fill(t: &str, rng: &mut Rng) -> String {
    let r = 1000 + rng.below(9_000_000);
    let p = r + 1 + rng.below(5);
    let a = rng.below(100_000);
    let s = 1 + rng.below(3);
    let k = format!(
        "7480000000000000FF{:02X}5F72{:016X}",
        rng.below(256),
        rng.next_u64()
    );
    t.replace("{r}", &r.to_string())
        .replace("{p}", &p.to_string())
        .replace("{a}", &a.to_string())
        .replace("{s}", &s.to_string())
        .replace("{k}", &k)
}

fn ts(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, sec) = ((s / 3600) % 24, (s / 60) % 60, s % 60);
    let day = 1 + (s / 86400) % 28;
    format!(
        "[2024/07/{day:02} {h:02}:{m:02}:{sec:02}.{:03} +08:00]",
        ms % 1000
    )
}

/// Lines planted at given line numbers of a log.
type Plants<'a> = &'a [(u64, &'a str)];

/// Writes `bytes` of log lines; returns the time reached (ms) so that the next rotated file
/// continues from there.
fn write_log(
    path: &Path,
    bytes: u64,
    templates: &[&str],
    rng: &mut Rng,
    start_ms: u64,
    plants: Plants<'_>,
) -> io::Result<u64> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d)?;
    }
    let gz = path.extension().is_some_and(|e| e == "gz");
    let file = fs::File::create(path)?;
    let mut w: Box<dyn Write> = if gz {
        Box::new(flate2::write::GzEncoder::new(
            BufWriter::with_capacity(1 << 20, file),
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let mut written = 0u64;
    let mut ms = start_ms;
    let mut line_no = 0u64;
    let mut next = 0;
    let mut line = String::with_capacity(512);
    while written < bytes {
        ms += rng.below(40);
        line_no += 1;
        line.clear();
        line.push_str(&ts(ms));
        line.push(' ');
        if next < plants.len() && line_no == plants[next].0 {
            line.push_str(plants[next].1);
            next += 1;
        } else {
            line.push_str(&fill(
                templates[rng.below(templates.len() as u64) as usize],
                rng,
            ));
        }
        line.push('\n');
        written += line.len() as u64;
        w.write_all(line.as_bytes())?;
    }
    w.flush()?;
    Ok(ms)
}

const BATCH: &str =
    r#"[ERROR] [kv.rs:729] ["KvService::batch_raft send response fail"] [err=RemoteStopped]"#;
const OVERSIZE: &str = r#"[WARN] [raft_client.rs:296] ["connection aborted"] [addr=10.0.1.5:20160] [receiver_err="Some(RpcFailure(RpcStatus { status: 8-RESOURCE_EXHAUSTED, details: Some(\"Sent message larger than max (10705556 vs. 10485760)\") }))"] [sink_error=Some(RemoteStopped)] [store_id=1]"#;
const BANNER: &str = r#"[INFO] [lib.rs:86] ["Release Version:   5.2.1"]"#;
const SNAP_ERR: &str = r#"[ERROR] [snap.rs:1100] ["failed to receive snapshot"] [region_id=90017] [err="Io(Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" })"]"#;

/// The pd-ctl dumps of the example bundle: a leaderless region pinning Offline store 5.
const PDCTL: &[(&str, &str)] = &[
    (
        "stores.txt",
        include_str!("../fixtures/scale-in-stuck/pdctl/stores.txt"),
    ),
    (
        "region_store_5.txt",
        include_str!("../fixtures/scale-in-stuck/pdctl/region_store_5.txt"),
    ),
    (
        "config.json",
        include_str!("../fixtures/scale-in-stuck/pdctl/config.json"),
    ),
];

/// What a generated bundle should make kvtriage report, whatever its size.
pub const PLANTED_RULES: &[&str] = &[
    "generic.error-burst",
    "tikv.batch-raft-send-fail",
    "tikv.offline-store-pinned-by-leaderless-region",
    "tikv.raft-message-too-large",
];

/// Writes a bundle of about `total` bytes of logs under `out`: three TiKV nodes (each a
/// rotated `tikv-<time>.log`, an older rotated file gzipped, and the current `tikv.log`), one
/// PD, and the pd-ctl dumps. Returns the files written.
pub fn write_bundle(out: &Path, total: u64, seed: u64) -> io::Result<Vec<PathBuf>> {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    let per_tikv = total * 85 / 100 / 3;
    // Incidents sit in the first file of a node, at line numbers that any size reaches.
    let burst: Vec<(u64, &str)> = (0..40).map(|k| (5_000 + k, SNAP_ERR)).collect();
    for (i, ip) in ["10.0.1.5", "10.0.1.6", "10.0.1.7"].iter().enumerate() {
        let mut plants: Vec<(u64, &str)> = vec![(1, BANNER)];
        match i {
            0 => plants.extend((0..20).map(|k| (2_000 + k * 1_000, BATCH))),
            1 => plants.extend([(3_000, OVERSIZE), (9_000, OVERSIZE)]),
            _ => plants.extend(burst.iter().copied()),
        }
        let dir = out.join(format!("tikv-{ip}-20160/log"));
        // Oldest first: a gzipped rotation, a plain rotation, then the live file.
        let parts = [
            ("tikv-2024-07-01T06-00-00.000.log.gz", per_tikv / 4),
            ("tikv-2024-07-01T12-00-00.000.log", per_tikv / 4),
            ("tikv.log", per_tikv / 2),
        ];
        let mut ms = 0;
        for (k, (name, size)) in parts.iter().enumerate() {
            let p = dir.join(name);
            let pl: &[(u64, &str)] = if k == 0 { &plants } else { &[] };
            ms = write_log(&p, *size, TIKV, &mut rng, ms, pl)?;
            files.push(p);
        }
    }
    let pd = out.join("pd-10.0.1.1-2379/log/pd.log");
    write_log(&pd, total - per_tikv * 3, PD, &mut rng, 0, &[])?;
    files.push(pd);
    for (name, text) in PDCTL {
        let p = out.join("pdctl").join(name);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d)?;
        }
        fs::write(&p, text)?;
        files.push(p);
    }
    Ok(files)
}

/// Packs a folder written by [`write_bundle`] into a `.tar.gz`, members relative to it.
pub fn write_tar_gz(dir: &Path, files: &[PathBuf], dest: &Path) -> io::Result<()> {
    let gz = flate2::write::GzEncoder::new(
        BufWriter::with_capacity(1 << 20, fs::File::create(dest)?),
        flate2::Compression::fast(),
    );
    let mut t = tar::Builder::new(gz);
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(f);
        t.append_path_with_name(f, rel)?;
    }
    t.into_inner()?.finish()?.flush()
}
