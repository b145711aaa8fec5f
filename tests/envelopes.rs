//! Log envelopes and pasted text (issue 12, parts 1 and 4): `kvtriage analyze --format json`
//! on a folder holding one real or composed sample of each shape (from
//! `tests/data/shapes/samples`, provenance in `tests/data/shapes/SOURCE.md`) lists every file
//! with its kind, records, node and envelope; the same files inside a `.tar.gz` (read as
//! streams) give the same answers; evidence cites the outer file's line.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// file, kind, status, records, node, envelope (`-` for none).
const SHAPES: &[(&str, &str, &str, u64, &str, &str)] = &[
    (
        "docker-json-tikv.composed.log",
        "tikv-log",
        "parsed",
        3,
        "-",
        "docker-json",
    ),
    (
        "docker-json-crdb.composed.log",
        "crdb-log",
        "parsed",
        1,
        "-",
        "docker-json",
    ),
    (
        "cri-containerd-tikv.composed.log",
        "tikv-log",
        "parsed",
        3,
        "-",
        "cri",
    ),
    (
        "cri-containerd-zap-unified.log",
        "pd-log",
        "parsed",
        1,
        "-",
        "cri",
    ),
    (
        "cri-partial-P-tikv.composed.log",
        "tikv-log",
        "parsed",
        1,
        "-",
        "cri",
    ),
    (
        "kubectl-timestamps-tikv.composed.log",
        "tikv-log",
        "parsed",
        3,
        "-",
        "timestamps",
    ),
    // Some lines were pasted without their stamp: both kinds are read.
    (
        "kubectl-timestamps-crdb.log",
        "crdb-log",
        "parsed",
        7,
        "-",
        "timestamps",
    ),
    (
        "kubectl-prefix-tikv.composed.log",
        "tikv-log",
        "parsed",
        3,
        "basic-tikv-0",
        "kubectl-prefix",
    ),
    (
        "kubectl-prefix-crdb.composed.log",
        "crdb-log",
        "parsed",
        4,
        "cockroachdb-0",
        "kubectl-prefix",
    ),
    (
        "envelope-dcos-timestamp-crdb-cut.log",
        "crdb-log",
        "parsed",
        4,
        "-",
        "timestamps",
    ),
    (
        "pasted-quoted-tikv.composed.md",
        "tikv-log",
        "parsed",
        3,
        "-",
        "pasted",
    ),
    (
        "pasted-bulleted-tikv.composed.md",
        "tikv-log",
        "parsed",
        6,
        "-",
        "pasted",
    ),
    (
        "pasted-quoted-crdb-v1-cut.md",
        "crdb-log",
        "parsed",
        8,
        "-",
        "pasted",
    ),
    (
        "pasted-quoted-tidb-line.md",
        "tidb-log",
        "parsed",
        1,
        "-",
        "pasted",
    ),
    (
        "pasted-indented-elided-crdb-workload-log.txt",
        "crdb-log",
        "parsed",
        3,
        "-",
        "pasted",
    ),
    (
        "pasted-blank-separated-tikv.composed.log",
        "tikv-log",
        "parsed",
        3,
        "-",
        "-",
    ),
    (
        "crlf-transcript-grep-tikv-log.composed.txt",
        "tikv-log",
        "parsed",
        6,
        "-",
        "-",
    ),
    (
        "pasted-tikv-log-preamble-blank-lines-cut.txt",
        "tikv-log",
        "parsed",
        4,
        "-",
        "-",
    ),
    // One TiKV line deep in a shell session: found past the preamble.
    (
        "transcript-kubectl-pods-logs-tikv-operator.txt",
        "tikv-log",
        "parsed",
        1,
        "-",
        "-",
    ),
    // Envelopes around lines of no format kvtriage reads: skipped, saying which envelope.
    (
        "cri-partial-P-lines-generic.log",
        "unknown",
        "skipped",
        0,
        "-",
        "-",
    ),
    (
        "kubectl-timestamps-other-program.log",
        "unknown",
        "skipped",
        0,
        "-",
        "-",
    ),
    (
        "journald-short-tikv.composed.log",
        // systemd's lines about the unit (it died): the host's log, searched line by line.
        "host-log",
        "parsed",
        7,
        "-",
        "-",
    ),
    (
        "journald-short-iso-tikv.composed.log",
        // systemd's lines about the unit (it died): the host's log, searched line by line.
        "host-log",
        "parsed",
        7,
        "-",
        "-",
    ),
    (
        "journald-short-precise-tikv.composed.log",
        // systemd's lines about the unit (it died): the host's log, searched line by line.
        "host-log",
        "parsed",
        7,
        "-",
        "-",
    ),
    (
        "journald-json-tikv.composed.json",
        // systemd's lines about the unit (it died): the host's log, searched line by line.
        "host-log",
        "parsed",
        7,
        "-",
        "-",
    ),
    (
        "syslog-messages-tikv-systemd.log",
        // systemd's lines about the unit (it died): the host's log, searched line by line.
        "host-log",
        "parsed",
        11,
        "-",
        "-",
    ),
];

fn samples() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/shapes/samples"
    ))
}

fn analyze(path: &Path) -> Value {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn input<'a>(v: &'a Value, file: &str) -> &'a Value {
    v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("{file} not listed"))
}

fn check_shapes(v: &Value) {
    let mut wrong = Vec::new();
    for &(file, kind, status, records, node, envelope) in SHAPES {
        let i = input(v, file);
        let got = (
            i["kind"].as_str().unwrap_or("?"),
            i["status"].as_str().unwrap_or("?"),
            i["records"].as_u64().unwrap_or(0),
            i["node"].as_str().unwrap_or("-"),
            i["envelope"].as_str().unwrap_or("-"),
        );
        if got != (kind, status, records, node, envelope) {
            wrong.push(format!("{file}: got {got:?}"));
        }
        if status == "skipped" {
            let reason = i["reason"].as_str().unwrap_or("");
            if !reason.contains("envelope around no known log format") {
                wrong.push(format!("{file}: reason {reason:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn copy_samples(dir: &Path) {
    for (file, ..) in SHAPES {
        std::fs::copy(samples().join(file), dir.join(file)).unwrap();
    }
}

#[test]
fn every_envelope_and_pasted_shape_is_read_by_its_inner_format() {
    let dir = tempfile::tempdir().unwrap();
    copy_samples(dir.path());
    let v = analyze(dir.path());
    check_shapes(&v);
    // The inner line's own time, not the envelope's (`+08:00` in the TiKV line).
    let cri = input(&v, "cri-partial-P-tikv.composed.log");
    assert_eq!(cri["first_time"], "2019-02-16T20:46:32.466+08:00");
    // Evidence keeps the outer file and line: the panic joined from a CRI `P` and `F` line
    // is cited at the first of them, with the inner text.
    let ev = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "tikv.panic")
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .find(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .ends_with("cri-partial-P-tikv.composed.log")
        })
        .expect("the CRI-wrapped panic is evidence");
    assert_eq!(ev["line"], 1);
    assert!(
        ev["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("[2019/02/16 20:46:32.466 +08:00] [ERROR]")
    );
}

#[test]
fn enveloped_members_of_an_archive_read_as_streams_give_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (file, ..) in SHAPES {
        let data = std::fs::read(samples().join(file)).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("bundle/{file}"), &data[..])
            .unwrap();
    }
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    let path = dir.path().join("bundle.tar.gz");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    check_shapes(&analyze(&path));
}
