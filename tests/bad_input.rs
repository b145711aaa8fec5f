//! Bad input never panics, is listed with a reason, and does not stop the rest.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;

fn run(args: &[&str]) -> (Value, i32, String) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (v, out.status.code().unwrap(), stderr)
}

fn input<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in inputs: {v}"))
}

#[test]
fn bad_files_are_reported_and_the_rest_analysed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::write(p.join("empty.log"), b"").unwrap();
    fs::write(
        p.join("blob.bin"),
        [0u8, 1, 2, 3, 0, 0, 7, 8, 9].repeat(100),
    )
    .unwrap();
    fs::write(
        p.join("truncated.json"),
        b"{\n  \"count\": 2,\n  \"stores\": [\n    {\n      \"store\": { \"id\": 1, \"state_name\": \"Up\" },\n      \"status\": { \"capaci",
    )
    .unwrap();
    fs::write(
        p.join("wrong_shape.json"),
        b"{\"stores\": 5, \"count\": \"x\"}\n",
    )
    .unwrap();
    fs::write(p.join("notes.txt"), b"just some words\nnothing to see\n").unwrap();
    fs::create_dir(p.join("emptydir")).unwrap();
    std::os::unix::fs::symlink(p.join("missing-target"), p.join("dangling.log")).unwrap();
    fs::copy(
        "fixtures/scale-in-stuck/tikv-10.203.93.36-20160/log/tikv.log",
        p.join("tikv.log"),
    )
    .unwrap();
    let (v, code, _) = run(&[p.to_str().unwrap()]);
    assert_eq!(code, 0, "a warning only: exit 0 without --strict");
    let e = input(&v, "empty.log");
    assert_eq!(
        (e["status"].as_str(), e["reason"].as_str()),
        (Some("skipped"), Some("empty file"))
    );
    let b = input(&v, "blob.bin");
    assert_eq!(
        (b["status"].as_str(), b["reason"].as_str()),
        (Some("skipped"), Some("binary file"))
    );
    let t = input(&v, "truncated.json");
    assert_eq!(t["status"], "failed");
    assert!(t["reason"].as_str().unwrap().contains("incomplete"), "{t}");
    let w = input(&v, "wrong_shape.json");
    assert_eq!(w["status"], "failed", "{w}");
    assert_eq!(input(&v, "notes.txt")["status"], "skipped");
    let dl = input(&v, "dangling.log");
    assert_eq!(dl["status"], "failed");
    assert!(dl["reason"].as_str().unwrap().contains("broken link"));
    assert_eq!(input(&v, "tikv.log")["status"], "parsed");
    assert_eq!(v["summary"]["warning"], 1, "the good log is still analysed");
    assert_eq!(v["summary"]["failed_inputs"], 3);
    // --strict turns failed inputs into exit 3.
    let (_, code, _) = run(&[p.to_str().unwrap(), "--strict"]);
    assert_eq!(code, 3);
}

#[test]
fn nothing_analysable_exits_2() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("empty")).unwrap();
    let (v, code, _) = run(&[d.path().join("empty").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(v["inputs"][0]["status"], "failed");
    assert!(
        v["inputs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no readable file")
    );
    let (v, code, _) = run(&["/definitely/not/here"]);
    assert_eq!(code, 2);
    assert_eq!(v["inputs"][0]["reason"], "no such file or directory");
}

#[test]
fn hostile_log_content_does_not_panic() {
    let d = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    // A 1 MB line, invalid UTF-8, CRLF, a lone CR, brackets without end, NULs late in the file.
    data.extend_from_slice(b"[2022/03/28 09:34:38.062 +08:00] [ERROR] [kv.rs:729] [\"KvService::batch_raft send response fail\"] [err=");
    data.extend(std::iter::repeat_n(b'x', 1 << 20));
    data.extend_from_slice(b"]\r\n[2022/03/28 09:34:39.062 +08:00] [WARN] [a.rs:1] [\"\xff\xfe\xfd\"] [k=\"unterminated\r\n");
    data.extend_from_slice(b"[2022/03/28 09:34:40.062 +08:00] [INFO] [a.rs:1] [\r\n[2022/03/28 09:34:40.062 +08:00] INFO a.rs:1 lost its brackets\n");
    for _ in 0..200 {
        data.extend_from_slice(b"[2022/03/28 09:34:41.062 +08:00] [INFO] [a.rs:1] [\"ok\"]\n");
    }
    fs::write(d.path().join("tikv.log"), &data).unwrap();
    let (v, _, _) = run(&[d.path().to_str().unwrap()]);
    let i = &v["inputs"][0];
    assert_eq!(i["kind"], "tikv-log");
    assert_eq!(i["status"], "parsed");
    assert_eq!(i["unparsed_lines"], 1, "the head without brackets: {i}");
    let ev = &v["findings"][0]["evidence"][0];
    assert_eq!(ev["line"], 1);
    assert!(ev["excerpt"].as_str().unwrap().chars().count() <= 300);
}
