//! Planted incidents are found at any size, in a folder or a .tar.gz, with any thread count
//! (timings are BENCHMARKS.md's business, never a test's).

use assert_cmd::Command;
use serde_json::Value;

fn findings(path: &std::path::Path, threads: &str) -> Vec<(String, String, String)> {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .env("RAYON_NUM_THREADS", threads)
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["entities"].to_string(),
            )
        })
        .collect()
}

#[test]
fn planted_incidents_are_found_at_two_sizes_and_in_archives() {
    let d = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for mb in [12u64, 24] {
        let dir = d.path().join(format!("bundle-{mb}"));
        let files = kvtriage::synth::write_bundle(&dir, mb << 20, 7).unwrap();
        let tgz = d.path().join(format!("bundle-{mb}.tar.gz"));
        kvtriage::synth::write_tar_gz(&dir, &files, &tgz).unwrap();
        let f = findings(&dir, "2");
        let rules: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
        for want in kvtriage::synth::PLANTED_RULES {
            assert!(
                rules.contains(want),
                "{mb} MiB: {want} missing from {rules:?}"
            );
        }
        assert_eq!(findings(&dir, "1"), f, "thread count changes nothing");
        assert_eq!(
            findings(&tgz, "2"),
            f,
            "the archive gives the same findings"
        );
        seen.push(f);
    }
    assert_eq!(seen[0], seen[1], "doubling the input changes no finding");
}
