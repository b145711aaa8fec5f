//! Issue 16, bullets 1, 3, 4 and 5 (report side): the verdict never reads as an all-clear
//! when inputs failed, nothing was analysed or findings were left out; it comes first (and
//! on stderr when the analysis itself is in doubt) and a closing summary comes last;
//! `--min-severity`; tables fit 80 and 160 columns with paths shortened in the middle; one
//! time zone per report (`--tz`); evidence sorted by file and line; the pager on a terminal
//! (read off a tmux screen).

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn kvtriage(args: &[&str], columns: &str) -> Output {
    Command::cargo_bin("kvtriage")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", columns)
        .env_remove("NO_COLOR")
        .arg("analyze")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// The words of `s` joined by single spaces (the verdict and summary wrap at the width).
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_typo_is_not_an_all_clear() {
    let out = kvtriage(
        &["fixtures/scale-in-stuk", "-f", "table", "--color", "never"],
        "100",
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = flat(&text(&out.stdout));
    assert!(
        stdout.starts_with("NOTHING ANALYSED: the one input could not be read (fixtures/scale-in-stuk: no such file or directory)"),
        "{stdout}"
    );
    assert!(!stdout.contains("No known failure pattern"), "{stdout}");
    assert!(
        stdout.contains("exit 2: nothing could be analysed"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("kvtriage: NOTHING ANALYSED"), "{stderr}");
    // JSON says it too, and so does stderr next to it.
    let out = kvtriage(&["fixtures/scale-in-stuk", "-f", "json"], "100");
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["verdict"]
            .as_str()
            .unwrap()
            .starts_with("NOTHING ANALYSED")
    );
    assert!(text(&out.stderr).contains("not an all-clear"));
    // Markdown as well.
    let md = text(&kvtriage(&["fixtures/scale-in-stuk", "-f", "markdown"], "100").stdout);
    assert!(md.contains("**NOTHING ANALYSED"), "{md}");
    assert!(!md.contains("No known failure pattern"));
}

#[test]
fn a_failed_input_next_to_good_ones_is_said_first() {
    let quiet = "rules/crdb/crdb.dead-node/quiet";
    let out = kvtriage(
        &[
            quiet,
            "fixtures/nosuchdir",
            "-f",
            "table",
            "--color",
            "never",
        ],
        "100",
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = flat(&text(&out.stdout));
    assert!(
        stdout.starts_with(
            "INCOMPLETE: no known failure pattern in the 2 inputs read, but 1 input FAILED"
        ),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("INCOMPLETE"),
        "stderr says it too"
    );
    // With every input read: the all-clear, and nothing on stderr.
    let out = kvtriage(&[quiet, "-f", "table", "--color", "never"], "100");
    assert_eq!(out.status.code(), Some(0));
    let stdout = flat(&text(&out.stdout));
    assert!(
        stdout.starts_with("No known failure pattern in the 2 inputs read."),
        "{stdout}"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(
        stdout.ends_with("exit 0: no finding at or above --fail-on critical."),
        "{stdout}"
    );
}

#[test]
fn a_baseline_that_hides_everything_is_not_a_healthy_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let out = kvtriage(&["fixtures/scale-in-stuck", "-f", "json"], "100");
    std::fs::write(&old, &out.stdout).unwrap();
    let out = kvtriage(
        &[
            "fixtures/scale-in-stuck",
            "-f",
            "table",
            "--color",
            "never",
            "--baseline",
            old.to_str().unwrap(),
        ],
        "100",
    );
    let stdout = flat(&text(&out.stdout));
    assert!(
        stdout.starts_with("NO NEW FINDINGS in the 7 inputs read; 3 findings already in the baseline left out (still present, not fixed); this is not an all-clear."),
        "{stdout}"
    );
    assert!(!stdout.contains("No known failure pattern"));
}

#[test]
fn verdict_first_summary_last_and_min_severity() {
    let out = kvtriage(
        &["fixtures/scale-in-stuck", "-f", "table", "--color", "never"],
        "100",
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = flat(&text(&out.stdout));
    assert!(stdout.starts_with("CRITICAL: 3 findings (1 critical, 2 warning, 0 info), first: [1] Store 5 cannot become Tombstone"));
    let tail = &stdout[stdout.rfind("Summary:").unwrap()..];
    assert!(
        tail.starts_with("Summary: 1 critical, 2 warning, 0 info from 7 of 7 inputs read"),
        "{tail}"
    );
    assert!(tail.contains("top: [1] tikv.offline-store-pinned-by-leaderless-region store 5"));
    assert!(
        tail.ends_with("exit 1: a finding at or above --fail-on critical."),
        "{tail}"
    );

    let out = kvtriage(
        &[
            "fixtures/scale-in-stuck",
            "-f",
            "table",
            "--color",
            "never",
            "--min-severity",
            "critical",
        ],
        "100",
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = flat(&text(&out.stdout));
    assert!(
        stdout.contains("2 findings below --min-severity critical hidden"),
        "{stdout}"
    );
    assert!(!stdout.contains("pd.operator-rejected"));
    assert!(!stdout.contains("[2] WARNING"));
    // Hidden warnings still count for the exit code.
    let out = kvtriage(
        &[
            "fixtures/scale-in-stuck",
            "-f",
            "json",
            "--min-severity",
            "critical",
            "--fail-on",
            "warning",
        ],
        "100",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(out.status.code(), Some(1));
    let out = kvtriage(
        &[
            "fixtures/scale-in-stuck",
            "-f",
            "table",
            "--fail-on",
            "never",
        ],
        "100",
    );
    assert!(flat(&text(&out.stdout)).contains("exit 0: analysis ran (--fail-on never)"));
}

fn bundles() -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
            .unwrap()
            .map(|e| format!("fixtures/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
    v.push("rules/tikv/tikv.majority-replicas-lost/fire".into());
    v.sort();
    v
}

#[test]
fn tables_fit_80_and_160_columns() {
    for cols in [80usize, 160] {
        for b in bundles() {
            let c = cols.to_string();
            for extra in [&[][..], &["--verbose"][..]] {
                let mut args = vec![b.as_str(), "-f", "table", "--color", "never"];
                args.extend_from_slice(extra);
                let stdout = text(&kvtriage(&args, &c).stdout);
                for l in stdout.lines() {
                    // Commands are kept whole, for copy and paste.
                    if l.trim_start().starts_with("$ ") {
                        continue;
                    }
                    assert!(
                        l.chars().count() <= cols,
                        "{b} at {cols}: {} chars: {l}",
                        l.chars().count()
                    );
                }
            }
        }
    }
}

#[test]
fn long_paths_are_shortened_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir
        .path()
        .join("tidb-deploy/pd-10.203.93.30-2379/a-rather-long-folder-name/another-level/log");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::copy(
        "fixtures/scale-in-stuck/pd-10.203.93.30-2379/log/pd.log",
        deep.join("pd.log"),
    )
    .unwrap();
    let out = kvtriage(
        &[
            dir.path().to_str().unwrap(),
            "-f",
            "table",
            "--color",
            "never",
        ],
        "80",
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("tidb-deploy/…/") && l.contains("/log/pd.log")),
        "{stdout}"
    );
    assert!(stdout.lines().all(|l| l.chars().count() <= 80));
    // JSON keeps the path whole.
    let out = kvtriage(&[dir.path().to_str().unwrap(), "-f", "json"], "80");
    assert!(text(&out.stdout).contains(
        "tidb-deploy/pd-10.203.93.30-2379/a-rather-long-folder-name/another-level/log/pd.log"
    ));
}

#[test]
fn one_time_zone_per_report() {
    let b = "rules/tikv/tikv.majority-replicas-lost/fire";
    let stdout = text(&kvtriage(&[b, "-f", "table", "--color", "never"], "160").stdout);
    assert!(
        stdout.contains("times in +08:00 (the bundle's)"),
        "{stdout}"
    );
    assert!(stdout.contains("last heartbeat 2024-05-10T09:51:40+08:00"));
    let stdout = text(
        &kvtriage(
            &[b, "-f", "table", "--color", "never", "--tz", "UTC"],
            "160",
        )
        .stdout,
    );
    assert!(stdout.contains("times in +00:00 (--tz)"), "{stdout}");
    assert!(
        stdout.contains("last heartbeat 2024-05-10T01:51:40+00:00"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("+08:00"),
        "no time left in the bundle's zone: {stdout}"
    );
    let v: Value =
        serde_json::from_slice(&kvtriage(&[b, "-f", "json", "--tz=-05:00"], "100").stdout).unwrap();
    assert_eq!(v["time_zone"], "-05:00");
    assert!(
        v["findings"][1]["title"]
            .as_str()
            .unwrap()
            .contains("2024-05-09T20:51:40-05:00")
    );
}

#[test]
fn evidence_is_sorted_by_file_and_line() {
    for b in bundles() {
        let v: Value =
            serde_json::from_slice(&kvtriage(&[&b, "-f", "json"], "100").stdout).unwrap();
        for f in v["findings"].as_array().unwrap() {
            let ev: Vec<(String, u64)> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap().to_string(),
                        e["line"].as_u64().unwrap(),
                    )
                })
                .collect();
            let mut sorted = ev.clone();
            sorted.sort();
            assert_eq!(ev, sorted, "{b}: {}", f["rule"]);
        }
    }
}

/// A tmux server of our own (its own socket), killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(cmd: &str) -> Option<Tmux> {
        let socket = format!("kvtriage-test-{}", std::process::id());
        let ok = std::process::Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "24",
            ])
            .arg(cmd)
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { socket })
    }
    fn screen(&self) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        text(&out.stdout)
    }
    fn keys(&self, k: &str) {
        std::process::Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", k])
            .status()
            .unwrap();
    }
    fn wait_for(&self, what: &str) -> String {
        for _ in 0..100 {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{what:?} never showed:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool).arg("-V").output().is_ok()
        || std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok()
}

#[test]
fn the_table_is_paged_on_a_terminal() {
    // .ci/run installs tmux and less; elsewhere the test says why it did not run.
    if !have("tmux") || !have("less") {
        eprintln!("skipped: tmux or less is not installed (.ci/run installs both)");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("kvtriage");
    let root = env!("CARGO_MANIFEST_DIR");
    let cmd = format!(
        "cd {root} && env -u COLUMNS -u LESS PAGER=less {} analyze fixtures/scale-in-stuck --color never; echo EXIT=$?; sleep 60",
        bin.display()
    );
    let t = Tmux::new(&cmd).expect("tmux starts");
    let screen = t.wait_for("CRITICAL: 3 findings");
    // A table (not JSON) that fits the 100 columns of the terminal, the verdict on top,
    // and less waiting at the bottom.
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[0].starts_with("CRITICAL: 3 findings"), "{screen}");
    assert!(screen.contains("┌───┬"), "{screen}");
    assert!(!screen.contains("\"schema\""));
    assert!(
        !screen.contains("EXIT="),
        "the pager holds the screen: {screen}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 100));
    // To the end: the closing line, then quit.
    t.keys("G");
    let end = flat(&t.wait_for("Summary: 1 critical"));
    assert!(
        end.contains("exit 1: a finding at or above --fail-on critical."),
        "{end}"
    );
    t.keys("q");
    t.wait_for("EXIT=1");
    drop(t);

    // --no-pager: written straight to the terminal, the summary on the last lines.
    let cmd = format!(
        "cd {root} && env -u COLUMNS PAGER=less {} analyze fixtures/scale-in-stuck --color never --no-pager; echo EXIT=$?; sleep 60",
        bin.display()
    );
    let t = Tmux::new(&cmd).expect("tmux starts");
    let screen = t.wait_for("EXIT=1");
    assert!(screen.contains("Summary: 1 critical"), "{screen}");
}
