//! Golden snapshots: `kvtriage analyze` on every bundle in `fixtures/`, in each output format
//! as a user gets it (table at a fixed width, no colour). A change in any output shows as a
//! snapshot diff; after checking it, re-bless all of them with
//! `INSTA_UPDATE=always cargo test --test golden` (or review them with `cargo insta review`).

use assert_cmd::Command;
use std::path::Path;

const FORMATS: &[(&str, &str)] = &[
    ("table", "txt"),
    ("json", "json"),
    ("markdown", "md"),
    ("junit", "xml"),
];

fn bundles() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn analyze(bundle: &str, format: &str) -> String {
    analyze_at(bundle, format, "100")
}

fn analyze_at(bundle: &str, format: &str, columns: &str) -> String {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", columns)
        .env_remove("NO_COLOR")
        .args(["analyze", &format!("fixtures/{bundle}"), "--color", "never"])
        .args(["--format", format])
        .output()
        .unwrap();
    // Exit 0 (nothing found) or 1 (findings) are both reports; anything else is a failure.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{bundle} --format {format}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_fixture_bundle_in_every_format() {
    let names = bundles();
    assert!(names.len() >= 5, "fixtures/ lost bundles: {names:?}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("golden");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for bundle in &names {
            for (format, ext) in FORMATS {
                let text = analyze(bundle, format);
                insta::assert_snapshot!(format!("{bundle}.{ext}"), text);
            }
        }
    });
}

/// Issue 16: the table at 80 and at 160 columns (the folded and the wide layout).
#[test]
fn every_fixture_bundle_as_a_table_at_80_and_160_columns() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("golden");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for bundle in &bundles() {
            for cols in ["80", "160"] {
                let text = analyze_at(bundle, "table", cols);
                insta::assert_snapshot!(format!("{bundle}.w{cols}.txt"), text);
            }
        }
    });
}

/// Issue 13: every finding of every golden JSON report carries `confidence`, and a `likely`
/// finding of a rule that is otherwise definite names the defaults it assumed. The rule's own
/// fire cases are walked too (more rules fire there than on the shipped bundles).
#[test]
fn every_finding_says_how_sure_it_is() {
    let mut reports: Vec<(String, serde_json::Value)> = Vec::new();
    for e in std::fs::read_dir("tests/golden").unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with(".json.snap") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        // insta's header is the front matter between the first two `---` lines.
        let body = text.splitn(3, "---\n").nth(2).unwrap();
        reports.push((p.display().to_string(), serde_json::from_str(body).unwrap()));
    }
    assert!(reports.len() >= 5);
    for dir in [
        "rules/tikv/tikv.store-disconnected/fire",
        "rules/pd/pd.merge-disabled-by-config/fire-2",
    ] {
        let out = assert_cmd::Command::cargo_bin("kvtriage")
            .unwrap()
            .args(["analyze", dir, "--format", "json"])
            .output()
            .unwrap();
        reports.push((
            dir.to_string(),
            serde_json::from_slice(&out.stdout).unwrap(),
        ));
    }
    let mut likely = 0;
    for (name, r) in &reports {
        for f in r["findings"].as_array().unwrap() {
            let c = f["confidence"].as_str().unwrap_or("");
            assert!(
                ["definite", "likely", "possible"].contains(&c),
                "{name}: {} has confidence {c:?}",
                f["rule"]
            );
            if c == "likely" {
                likely += 1;
                let a = f["assumptions"].as_array().map_or(0, Vec::len);
                assert!(
                    a > 0,
                    "{name}: {} is likely but names no assumption",
                    f["rule"]
                );
            }
        }
    }
    assert!(likely >= 2, "the two cases with defaults must be likely");
}
