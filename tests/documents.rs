//! Documents inside text and cut copies (issue 12, parts 2 and 3): `kvtriage analyze` on a
//! folder holding one real sample of each shape (`tests/data/shapes/samples`, provenance in
//! `tests/data/shapes/SOURCE.md`) lists every file with its kind, records and `partial`.

mod common;

use common::{Shape, shape};
use std::path::Path;

const SHAPES: &[Shape] = &[
    // pd-ctl sessions: each document tied to the command above it, which decides coverage.
    shape(
        "transcript-pdctl-store-interactive.txt",
        "pdctl-stores",
        2,
        None,
    ),
    shape(
        "transcript-tiup-ctl-store.txt",
        "pdctl-store",
        1,
        Some("`store 5`"),
    ),
    shape(
        "transcript-tiup-ctl-region-store.txt",
        "pdctl-regions",
        1,
        Some("`region store 5`"),
    ),
    // Three answers: an elided list (3 announced, none whole), an empty filtered list, an error.
    shape(
        "transcript-pdctl-store-check.txt",
        "pdctl-stores",
        1,
        Some("3 missing"),
    ),
    shape(
        "cut-top-pdctl-stores-then-curl-schedulers.txt",
        "pdctl-store",
        2,
        Some("top is missing"),
    ),
    shape(
        "transcript-tiup-ctl-config-show-all.txt",
        "pdctl-config",
        1,
        None,
    ),
    shape(
        "transcript-pdctl-scheduler-config.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    shape(
        "transcript-curl-pd-config-jq-autolinked.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    // pd-ctl answers of every era.
    shape(
        "transcript-tiup-ctl-success.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    shape(
        "transcript-tiup-ctl-failed-500.txt",
        "pdctl-transcript",
        3,
        None,
    ),
    shape("pdctl-404-old-bare.txt", "pdctl-transcript", 1, None),
    shape("pdctl-404-old-interactive.txt", "pdctl-transcript", 2, None),
    shape(
        "pdctl-config-set-failed-400.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    shape(
        "pdctl-config-set-successful-old.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    shape(
        "transcript-pdctl-interactive-store-delete.txt",
        "pdctl-transcript",
        1,
        None,
    ),
    // tikv-ctl answers.
    shape("tikv-ctl-bad-regions.txt", "tikv-ctl-output", 2, None),
    shape(
        "tikv-ctl-bad-regions-healthy.txt",
        "tikv-ctl-output",
        1,
        None,
    ),
    shape("tikv-ctl-tombstone-force.txt", "tikv-ctl-output", 1, None),
    shape(
        "tikv-ctl-unsafe-recover-remove-fail-stores.txt",
        "tikv-ctl-output",
        1,
        None,
    ),
    shape(
        "tikv-ctl-region-properties.txt",
        "tikv-ctl-output",
        10,
        None,
    ),
    shape("tikv-ctl-size.txt", "tikv-ctl-output", 4, None),
    shape(
        "transcript-tikv-ctl-tombstone-cmd.txt",
        "tikv-ctl-output",
        1,
        Some("not shown"),
    ),
    // cockroach CLI errors.
    shape("crdb-cli-error-cannot-dial.txt", "crdb-cli-error", 2, None),
    shape("crdb-cli-error-recommission.txt", "crdb-cli-error", 2, None),
    // Cut copies.
    shape(
        "cut-pdctl-store-offline.json",
        "pdctl-store",
        1,
        Some("cut or elided by line 11"),
    ),
    Shape {
        file: "cut-pdctl-regions-check.json",
        kind: "pdctl-regions",
        status: "failed",
        records: 0,
        partial: Some("`count` says 3 regions, 0 read, 3 missing"),
    },
    shape(
        "cut-crdb-node-status.txt",
        "crdb-node-status",
        4,
        Some("cut mid-row at line 12"),
    ),
    shape("cut-crdb-json-log-line.log", "crdb-log", 1, None),
    shape("cut-crdb-json-fluent-log.log", "crdb-log", 1, None),
];

#[test]
fn one_sample_of_each_shape_is_listed_with_kind_records_and_partial() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shapes/samples");
    let dir = tempfile::tempdir().expect("a temporary folder");
    for s in SHAPES {
        std::fs::copy(samples.join(s.file), dir.path().join(s.file))
            .unwrap_or_else(|e| panic!("{}: {e}", s.file));
    }
    let v = common::analyze_json(&[dir.path().as_os_str()]);
    let wrong = common::listing_mismatches(&v, SHAPES);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Evidence from a document inside a session cites the document's own line: a finding on the
/// leaderless region of `region store 5` points at the line of that region in the file.
#[test]
fn a_document_inside_a_session_cites_its_own_lines() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shapes/samples");
    let text = std::fs::read_to_string(samples.join("transcript-tiup-ctl-region-store.txt"))
        .expect("the sample");
    let out = kvtriage::parse::pdctl::parse(&text, kvtriage::model::InputId(0));
    let r = &out.regions[0];
    let line = text.lines().nth(r.loc.line as usize - 1).unwrap_or("");
    assert!(
        line.contains(&r.id.0.to_string()),
        "line {} is {line:?}",
        r.loc.line
    );
}
