//! Writes a synthetic TiKV/PD bundle for benchmarks (see BENCHMARKS.md):
//!
//! `cargo run --release --example gen_bundle -- OUT_DIR SIZE_MB [SEED] [--tar]`
//!
//! With `--tar` it also writes `OUT_DIR.tar.gz`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pos: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if pos.len() < 2 {
        eprintln!("usage: gen_bundle OUT_DIR SIZE_MB [SEED] [--tar]");
        std::process::exit(2);
    }
    let out = std::path::Path::new(pos[0]);
    let Ok(mb) = pos[1].parse::<u64>() else {
        eprintln!("SIZE_MB must be a number");
        std::process::exit(2);
    };
    let seed = pos.get(2).and_then(|s| s.parse().ok()).unwrap_or(42);
    let files = match kvtriage::synth::write_bundle(out, mb << 20, seed) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen_bundle: {e}");
            std::process::exit(1);
        }
    };
    if args.iter().any(|a| a == "--tar") {
        let dest = out.with_extension("tar.gz");
        if let Err(e) = kvtriage::synth::write_tar_gz(out, &files, &dest) {
            eprintln!("gen_bundle: {e}");
            std::process::exit(1);
        }
    }
}
