//! Writes a synthetic TiKV/PD bundle for benchmarks: deterministic from a seed, any size.
//!
//! `cargo run --release --example gen_bundle -- OUT_DIR SIZE_MB [SEED]`
//!
//! Lines are built from real message templates of the unified format (TiKV and PD), with
//! varying ids and times; a few incidents are planted (batch_raft send failures and an
//! oversized raft batch) so that the benchmark also checks the findings.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TIKV: &[&str] = &[
    r#"[INFO] [raft.rs:1120] ["became follower at term {a}"] [term={a}] [raft_id={p}] [region_id={r}]"#,
    r#"[INFO] [raft.rs:1228] ["became leader at term {a}"] [term={a}] [raft_id={p}] [region_id={r}]"#,
    r#"[INFO] [peer.rs:5483] ["on split"] [source=ipv4:127.0.0.1:60178] [split_keys="key 7480000000000000FF4900000000000000F8"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [compact_log.rs:588] ["compact log"] [truncated="applied_index: {a} truncated_state { index: {a} term: 7 }"] [index={a}] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [apply.rs:1752] ["split region"] [keys="key 7480000000000000FF3A00000000000000F8"] [region="id: {r} start_key: 7480000000000000FF3400000000000000F8 region_epoch { conf_ver: 1 version: 23 } peers { id: {p} store_id: 1 }"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [life.rs:846] ["peer destroyed"] [peer_id={p}] [region_id={r}]"#,
    r#"[INFO] [router.rs:348] ["shutdown mailbox"] [region_id={r}]"#,
    r#"[WARN] [endpoint.rs:780] ["error-response"] [err="Region error (will back off and retry) message: \"peer is not leader for region {r}, leader may Some(id: {p} store_id: 3)\""]"#,
    r#"[INFO] [mod.rs:366] ["mark for destroy for larger ID"] [larger_id={p}] [peer_id={p}] [region_id={r}]"#,
    r#"[ERROR] [pd.rs:83] ["Failed to send read flow statistics"] [err="channel has been closed"]"#,
];

const PD: &[&str] = &[
    r#"[INFO] [operator_controller.go:732] ["send schedule command"] [region-id={r}] [step="add learner peer {p} on store 4"] [source=create]"#,
    r#"[INFO] [region.go:751] ["region ConfVer changed"] [region-id={r}] [detail="Add peer:{id:{p} store_id:4 role:Learner }"] [old-confver=5] [new-confver=6]"#,
    r#"[INFO] [cluster.go:567] ["leader changed"] [region-id={r}] [from=1] [to=5]"#,
    r#"[INFO] [cluster.go:545] ["region Version changed"] [region-id={r}] [detail="StartKey Changed:{7480000000000827FF7C5F7280000000C6FF7CFD9E0000000000FA} -> {7480000000000827FF7C5F7280000000C5FF5284990000000000FA}"] [old-version={a}] [new-version={a}]"#,
    r#"[INFO] [operator_controller.go:635] ["operator finish"] [region-id={r}] [takes=1.149978179s] [operator="\"balance-region {mv peer: store [1] to [4]} (kind:region, region:{r}(575, 5), createAt:2024-07-09 16:25:23.105733052 +0800 CST m=+1209042.707881308, startAt:2024-07-09 16:25:23.10595495 +0800 CST m=+1209042.708103209, currentStep:4, size:92, steps:[0:{add learner peer {p} on store 4}, 3:{remove peer on store 1}], timeout:[17m0s]) finished\""]"#,
];

fn fill(t: &str, rng: &mut Rng) -> String {
    let r = 1000 + rng.below(9_000_000);
    let p = r + 1 + rng.below(5);
    let a = rng.below(100_000);
    t.replace("{r}", &r.to_string())
        .replace("{p}", &p.to_string())
        .replace("{a}", &a.to_string())
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

fn write_log(path: &Path, bytes: u64, templates: &[&str], rng: &mut Rng, plant: &[(u64, &str)]) {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).expect("create dir");
    }
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create file"));
    let mut written = 0u64;
    let mut ms = 0u64;
    let mut line_no = 0u64;
    let mut next_plant = 0;
    while written < bytes {
        ms += rng.below(40);
        line_no += 1;
        let body = if next_plant < plant.len() && line_no == plant[next_plant].0 {
            next_plant += 1;
            plant[next_plant - 1].1.to_string()
        } else {
            fill(templates[rng.below(templates.len() as u64) as usize], rng)
        };
        let line = format!("{} {}\n", ts(ms), body);
        written += line.len() as u64;
        w.write_all(line.as_bytes()).expect("write");
    }
    w.flush().expect("flush");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_bundle OUT_DIR SIZE_MB [SEED]");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    let mb: u64 = args[2].parse().expect("SIZE_MB is a number");
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(42);
    let mut rng = Rng(seed.max(1));
    let total = mb << 20;
    // Three TiKV nodes take 85 % of the bytes, one PD the rest.
    let per_tikv = total * 85 / 100 / 3;
    let batch =
        r#"[ERROR] [kv.rs:729] ["KvService::batch_raft send response fail"] [err=RemoteStopped]"#;
    let big = r#"[WARN] [raft_client.rs:296] ["connection aborted"] [addr=10.0.1.5:20160] [receiver_err="Some(RpcFailure(RpcStatus { status: 8-RESOURCE_EXHAUSTED, details: Some(\"Sent message larger than max (10705556 vs. 10485760)\") }))"] [sink_error=Some(RemoteStopped)] [store_id=1]"#;
    for (i, ip) in ["10.0.1.5", "10.0.1.6", "10.0.1.7"].iter().enumerate() {
        let plant: Vec<(u64, &str)> = match i {
            0 => (0..40).map(|k| (10_000 + k * 50_000, batch)).collect(),
            1 => vec![(20_000, big), (220_000, big)],
            _ => vec![],
        };
        write_log(
            &out.join(format!("tikv-{ip}-20160/log/tikv.log")),
            per_tikv,
            TIKV,
            &mut rng,
            &plant,
        );
    }
    write_log(
        &out.join("pd-10.0.1.1-2379/log/pd.log"),
        total - per_tikv * 3,
        PD,
        &mut rng,
        &[],
    );
}
