//! Optional: parse the real-world corpus in `../shared/realogs` (absent on most machines; the
//! test then does nothing). Real logs must parse with almost no unparsed lines.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

#[test]
fn real_logs_parse_with_almost_no_unparsed_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realogs");
    if !dir.is_dir() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inputs = v["inputs"].as_array().unwrap();
    let logs: Vec<&Value> = inputs
        .iter()
        .filter(|i| i["kind"].as_str().unwrap().ends_with("-log"))
        .collect();
    let records: u64 = logs
        .iter()
        .map(|i| i["records"].as_u64().unwrap_or(0))
        .sum();
    let unparsed: u64 = logs
        .iter()
        .map(|i| i["unparsed_lines"].as_u64().unwrap_or(0))
        .sum();
    eprintln!(
        "realogs: {} inputs, {} logs, {records} records, {unparsed} unparsed lines",
        inputs.len(),
        logs.len()
    );
    assert!(logs.len() >= 500, "most real logs are recognised as logs");
    assert!(records > 150_000);
    assert!(
        unparsed * 1000 <= records,
        "unparsed {unparsed} of {records}"
    );
    for i in &logs {
        assert_eq!(i["status"], "parsed", "{i}");
    }
    // Every pd-ctl dump in the corpus is read (excerpts cut by issue threads included).
    for i in inputs
        .iter()
        .filter(|i| i["kind"].as_str().unwrap().starts_with("pdctl"))
    {
        assert_eq!(i["status"], "parsed", "{i}");
    }
}
