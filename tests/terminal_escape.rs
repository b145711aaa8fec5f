//! Issue 15, bullet 5: text from a bundle (file names, log text, excerpts) reaches the
//! table, markdown and timeline escaped, with `--color never` too; JSON stays exact.
//! The bundle is built here: a TiKV log (the two lines of
//! `rules/tikv/tikv.disk-full/fire`, ESC sequences written into both) under a file
//! named `$'\e]0;X\a\e[2J.log'`, which would retitle the terminal and clear the screen.

use assert_cmd::Command;
use serde_json::Value;

const NAME: &str = "\x1b]0;X\x07\x1b[2J.log";
const SHOWN: &str = "\\x1b]0;X\\x07\\x1b[2J.log";

fn bundle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tikv-172.18.2.147-20160/log");
    std::fs::create_dir_all(&log).unwrap();
    let text = concat!(
        "[2019/09/07 11:36:36.969 +08:00] [ERROR] [transport.rs:318] [\"send raft msg err\x1b[2J\"] [err=\"Other(\\\"[src/server/raft_client.rs :216]: RaftClient send fail\\\")\"]\n",
        "[2019/09/07 11:36:36.969 +08:00] [FATAL] [mod.rs:222\x1b[2J\x1b]0;PWNED\x07\u{202e}] [\"logger encounter error, TiKV cannot continue working\"] [err=\"No space left on device (os error 28)\"]\n",
    );
    std::fs::write(log.join(NAME), text).unwrap();
    dir
}

fn run(dir: &std::path::Path, args: &[&str]) -> (String, String) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .current_dir(dir)
        .env("COLUMNS", "160")
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {:?}",
        out.status
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Only the table's own colours may be sent; no BEL, no other ESC, no bidi override.
fn assert_safe(what: &str, s: &str, colours: bool) {
    assert!(!s.contains('\x07'), "{what}: a raw BEL");
    assert!(!s.contains('\u{202e}'), "{what}: a raw bidi override");
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        assert!(
            colours,
            "{what}: a raw ESC with colour off: {:?}",
            &rest[at..(at + 12).min(rest.len())]
        );
        let tail = &rest[at + 1..];
        let end = tail.find('m').expect("an SGR code");
        assert!(
            tail.starts_with('[')
                && tail[1..end]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b';'),
            "{what}: not a colour: {:?}",
            &tail[..end.min(12)]
        );
        rest = &tail[end..];
    }
}

#[test]
fn file_names_and_log_text_are_escaped_in_every_text_output() {
    let dir = bundle();
    let p = dir.path();
    for (what, args, colours) in [
        (
            "table",
            &["analyze", ".", "-f", "table", "--color", "never"][..],
            false,
        ),
        (
            "table --color always",
            &[
                "analyze",
                ".",
                "-f",
                "table",
                "--color",
                "always",
                "--verbose",
            ][..],
            true,
        ),
        ("markdown", &["analyze", ".", "-f", "markdown"][..], false),
        ("timeline", &["timeline", "."][..], false),
        (
            "timeline --templates",
            &["timeline", ".", "--templates"][..],
            false,
        ),
    ] {
        let (out, err) = run(p, args);
        assert_safe(what, &out, colours);
        assert_safe(&format!("{what} (stderr)"), &err, false);
        assert!(
            out.contains(SHOWN),
            "{what} names the file, escaped:\n{out}"
        );
    }
    // The excerpt of the finding, escaped, in the table and the markdown.
    let (table, _) = run(p, &["analyze", ".", "-f", "table", "--color", "never"]);
    assert!(table.contains("tikv.disk-full"), "{table}");
    assert!(
        table.contains("[mod.rs:222\\x1b[2J\\x1b]0;PWNED\\x07\\u{202e}]"),
        "{table}"
    );
    let (md, _) = run(p, &["analyze", ".", "-f", "markdown"]);
    assert!(
        md.contains("[mod.rs:222\\x1b[2J\\x1b]0;PWNED\\x07\\u{202e}]"),
        "{md}"
    );
    let (tl, _) = run(p, &["timeline", "."]);
    assert!(tl.contains("send raft msg err\\x1b[2J"), "{tl}");
}

#[test]
fn json_stays_exact() {
    let dir = bundle();
    let (out, _) = run(dir.path(), &["analyze", ".", "-f", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let path = v["inputs"][0]["path"].as_str().unwrap();
    assert_eq!(path, format!("tikv-172.18.2.147-20160/log/{NAME}"));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "tikv.disk-full")
        .expect("the disk-full finding");
    let excerpts = f["evidence"].to_string();
    assert!(
        excerpts.contains("\\u001b[2J"),
        "JSON escapes it its own way: {excerpts}"
    );
    assert!(!out.contains("\\x1b"), "no terminal escaping in JSON");
}
