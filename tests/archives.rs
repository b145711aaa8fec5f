//! Bundles as archives: the same findings as the folder, and hostile archives handled.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

fn analyze(args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn files(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, base, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}

fn tar_gz(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap()
}

fn zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in members {
        z.start_file(name.as_str(), opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Findings with the archive prefix taken off evidence paths.
fn normalised_findings(v: &Value, prefix: &str) -> String {
    let mut f = v["findings"].clone();
    for finding in f.as_array_mut().unwrap() {
        for e in finding["evidence"].as_array_mut().unwrap() {
            let p = e["path"]
                .as_str()
                .unwrap()
                .trim_start_matches(prefix)
                .to_string();
            e["path"] = Value::String(p);
        }
    }
    // Summaries may name files too.
    serde_json::to_string_pretty(&f)
        .unwrap()
        .replace(prefix, "")
}

#[test]
fn tar_gz_and_zip_give_the_same_findings_as_the_folder() {
    same_findings(
        Path::new("fixtures/scale-in-stuck"),
        "tikv-10.203.93.36-20160/log/tikv.log",
        "tikv.offline-store-pinned-by-leaderless-region",
        "10.203.93.36:20160",
    );
    // The tiup diag collect layout, with a rotated .gz log nested inside the archive.
    same_findings(
        Path::new("fixtures/diag-scale-in"),
        "diag-tidb-test-fNTnz5MGhr6/10.203.93.36/tidb-deploy/tikv-20160/log/tikv-2022-03-28T09-34-55.402.log.gz!/tikv-2022-03-28T09-34-55.402.log",
        "tikv.offline-store-pinned-by-leaderless-region",
        "10.203.93.36:20160",
    );
}

#[test]
fn cockroach_debug_zip_layout_gives_the_same_findings_as_the_folder() {
    // Seed 004's 3-node RF3 stall, laid out like `cockroach debug zip` (nodes/<id>/logs).
    same_findings(
        Path::new("fixtures/crdb-3node-rf3-stall"),
        "nodes/1/logs/cockroach.log",
        "crdb.decommission-stalled",
        "n1",
    );
}

fn same_findings(dir: &Path, log_member: &str, rule: &str, node: &str) {
    let mut members = Vec::new();
    files(dir, dir, &mut members);
    let d = tempfile::tempdir().unwrap();
    let tgz = d.path().join("bundle.tar.gz");
    let zp = d.path().join("bundle.zip");
    std::fs::write(&tgz, tar_gz(&members)).unwrap();
    std::fs::write(&zp, zip(&members)).unwrap();
    let (folder, c0) = analyze(&[dir.to_str().unwrap()]);
    let (t, c1) = analyze(&[tgz.to_str().unwrap()]);
    let (z, c2) = analyze(&[zp.to_str().unwrap()]);
    assert_eq!((c0, c1, c2), (1, 1, 1));
    let want = normalised_findings(&folder, "");
    assert!(want.contains(rule), "{rule} fires on the folder");
    let tp = format!("{}!/", tgz.display());
    let zpfx = format!("{}!/", zp.display());
    assert_eq!(normalised_findings(&t, &tp), want);
    assert_eq!(normalised_findings(&z, &zpfx), want);
    let paths: Vec<&str> = t["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    let member = format!("{tp}{log_member}");
    assert!(paths.contains(&member.as_str()), "{paths:?}");
    // Node identity still comes from the layout inside the archive.
    let log = t["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == member.as_str())
        .unwrap();
    assert_eq!(log["node"], node);
    assert!(log["kind"].as_str().unwrap().ends_with("-log"));
}

#[test]
fn rotated_gzip_log_in_a_folder_is_read() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("tikv-10.0.1.5-20160/log");
    std::fs::create_dir_all(&dir).unwrap();
    let log =
        std::fs::read("fixtures/scale-in-stuck/tikv-10.203.93.36-20160/log/tikv.log").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&log).unwrap();
    std::fs::write(
        dir.join("tikv-2022-03-28T09-40-00.000.log.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    let (v, _) = analyze(&[d.path().to_str().unwrap()]);
    let i = &v["inputs"][0];
    assert_eq!(
        i["path"],
        "tikv-10.0.1.5-20160/log/tikv-2022-03-28T09-40-00.000.log.gz!/tikv-2022-03-28T09-40-00.000.log"
    );
    assert_eq!(i["kind"], "tikv-log");
    assert_eq!(i["records"], 10);
    assert_eq!(v["findings"][0]["rule"], "tikv.batch-raft-send-fail");
}

fn input<'a>(v: &'a Value, needle: &str) -> &'a Value {
    v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no input like {needle}: {v}"))
}

#[test]
fn hostile_archives_matrix() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let log =
        std::fs::read("fixtures/scale-in-stuck/tikv-10.203.93.36-20160/log/tikv.log").unwrap();
    // Truncated gzip: a valid tar.gz cut in half.
    let big: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("tikv-10.0.1.{i}-20160/tikv.log"), log.repeat(2000)))
        .collect();
    let tgz = tar_gz(&big);
    std::fs::write(p.join("cut.tar.gz"), &tgz[..tgz.len() / 2]).unwrap();
    // Corrupt zip: garbage after a zip signature.
    let mut bad = b"PK\x03\x04".to_vec();
    bad.extend_from_slice(&[0x55; 300]);
    std::fs::write(p.join("corrupt.zip"), &bad).unwrap();
    // Hostile member names, a symlink, an empty member, a non-UTF-8 name.
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    let mut add = |name: &[u8], data: &[u8], kind: tar::EntryType| {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_entry_type(kind);
        if kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/shadow").unwrap();
        }
        h.set_mode(0o644);
        h.set_cksum();
        t.append(&h, data).unwrap();
    };
    add(b"../../etc/passwd", &log, tar::EntryType::Regular);
    add(b"link.log", b"", tar::EntryType::Symlink);
    add(b"empty.log", b"", tar::EntryType::Regular);
    add(b"caf\xe9.log", &log, tar::EntryType::Regular);
    std::fs::write(
        p.join("hostile.tar.gz"),
        t.into_inner().unwrap().finish().unwrap(),
    )
    .unwrap();
    // A bomb: 64 MiB of zeros, stopped by --max-bytes.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    std::fs::write(p.join("bomb.log.gz"), gz.finish().unwrap()).unwrap();

    let (v, code) = analyze(&[p.to_str().unwrap(), "--max-bytes", "32MiB"]);
    assert_eq!(code, 0, "warnings only");
    let cut = input(&v, "cut.tar.gz");
    assert_eq!(cut["status"], "failed", "{cut}");
    assert!(cut["reason"].as_str().unwrap().contains("gzip"), "{cut}");
    // Members before the cut were still analysed.
    assert!(v["inputs"].as_array().unwrap().iter().any(|i| {
        i["path"].as_str().unwrap().starts_with("cut.tar.gz!/") && i["status"] == "parsed"
    }));
    let z = input(&v, "corrupt.zip");
    assert_eq!(z["status"], "failed");
    assert!(z["reason"].as_str().unwrap().contains("zip"), "{z}");
    let passwd = input(&v, "etc/passwd");
    assert_eq!(passwd["status"], "parsed");
    assert!(!passwd["path"].as_str().unwrap().contains(".."), "{passwd}");
    let link = input(&v, "link.log");
    assert_eq!(link["status"], "skipped");
    assert!(
        link["reason"].as_str().unwrap().contains("symlink"),
        "{link}"
    );
    let empty = input(&v, "empty.log");
    assert_eq!(empty["status"], "skipped");
    assert_eq!(empty["reason"], "empty file");
    let cafe = input(&v, "caf\u{fffd}.log");
    assert_eq!(cafe["status"], "parsed");
    let bomb = input(&v, "bomb.log.gz");
    assert_eq!(bomb["status"], "failed");
    assert!(
        bomb["reason"].as_str().unwrap().contains("max-bytes"),
        "{bomb}"
    );
    assert!(!Path::new("/etc/passwd.kvtriage").exists());
}
