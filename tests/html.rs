//! `--format html`: one self-contained page. The first tests read the page as text (real
//! fixture plus a hostile log written here); the last opens it in a real headless Chromium
//! (Debian's `chromium`, installed by `.ci/run`), checks the DOM, that nothing was logged
//! to the console and that no network request left the page, and keeps a screenshot at
//! `target/html-report.png`. Without Chromium that test fails, unless
//! `KVTRIAGE_SKIP_BROWSER=1` (for a developer machine; CI never sets it).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A log whose file name and lines carry markup, control characters and a bidi override
/// (written for this test: bundles are untrusted).
const HOSTILE_NAME: &str = "tikv\"><img src=x onerror=alert(1)>.log";
const HOSTILE_LOG: &str = "[2024/07/01 01:00:00.000 +08:00] [INFO] [lib.rs:86] [\"Welcome to TiKV\"]\n\
[2024/07/01 01:00:00.001 +08:00] [INFO] [lib.rs:86] [\"Release Version:   5.2.1\"]\n\
[2024/07/01 01:00:05.000 +08:00] [ERROR] [kv.rs:729] [\"<script>alert('x')</script> send fail \u{1b}[31mred\u{1b}[0m\"] [err=\"</textarea><b>bold</b>\"]\n\
[2024/07/01 01:00:06.000 +08:00] [ERROR] [kv.rs:729] [\"<script>alert('x')</script> send fail \u{1b}[31mred\u{1b}[0m\"] [err=\"</textarea><b>bold</b>\"]\n\
[2024/07/01 01:00:07.000 +08:00] [WARN] [kv.rs:730] [\"\u{202e}gnp.exe looks like an image\"]\n\
[2024/07/01 01:02:00.000 +08:00] [FATAL] [lib.rs:465] [\"<iframe src=//evil.example/>\"]\n";

fn add_hostile_node(bundle: &Path) {
    let dir = bundle.join("tikv-10.0.1.9-20160/log");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(HOSTILE_NAME), HOSTILE_LOG).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn run(bundle: &Path, format: &str) -> (Vec<u8>, Option<i32>) {
    let out = Command::cargo_bin("kvtriage")
        .unwrap()
        .args(["analyze", "--format", format])
        .arg(bundle)
        .output()
        .unwrap();
    (out.stdout, out.status.code())
}

/// The findings count and the lane names (nodes of logs, or the log's path) of the JSON
/// report of the same bundle.
fn expected(bundle: &Path) -> (usize, BTreeSet<String>, Option<i32>) {
    let (json, code) = run(bundle, "json");
    let v: Value = serde_json::from_slice(&json).unwrap();
    let nodes = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"].as_str().unwrap().ends_with("-log"))
        .map(|i| {
            i["node"]
                .as_str()
                .unwrap_or(i["path"].as_str().unwrap())
                .to_string()
        })
        .collect();
    (v["findings"].as_array().unwrap().len(), nodes, code)
}

/// Values of an attribute in a page, HTML entities decoded for `&quot;`, `&lt;`, `&gt;`, `&amp;`.
fn attrs(page: &str, name: &str) -> Vec<String> {
    let pat = format!(" {name}=\"");
    page.match_indices(&pat)
        .map(|(i, _)| {
            let rest = &page[i + pat.len()..];
            let v = &rest[..rest.find('"').unwrap()];
            v.replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

#[test]
fn page_is_self_contained_and_shows_the_report_in_order() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(Path::new("fixtures/scale-in-stuck"), d.path());
    add_hostile_node(d.path());
    let (findings, nodes, json_code) = expected(d.path());
    let (page, code) = run(d.path(), "html");
    assert_eq!(code, json_code, "same exit code as the JSON report");
    let page = String::from_utf8(page).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"));
    // Findings, one article each, numbered in the report's order; lanes, one per node.
    assert!(findings >= 3, "scale-in-stuck has findings");
    assert_eq!(page.matches("<article class=\"finding").count(), findings);
    let lanes: BTreeSet<String> = attrs(&page, "data-node").into_iter().collect();
    assert_eq!(lanes, nodes);
    assert!(nodes.contains("10.203.93.36:20160") && nodes.contains("10.0.1.9:20160"));
    // The sections in the order.
    let order = [
        "id=\"verdict\"",
        "id=\"findings\"",
        "id=\"timeline\"",
        "id=\"templates\"",
        "id=\"inputs\"",
        "id=\"coverage\"",
    ];
    let at: Vec<usize> = order.iter().map(|s| page.find(s).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{order:?} at {at:?}");
    // Coverage is computed for the page even without --coverage.
    assert!(page.contains("rules could run on this bundle"));
    // Nothing is fetched: links are anchors, no src attribute, no stylesheet link.
    for h in attrs(&page, "href") {
        assert!(h.starts_with('#'), "href {h:?}");
    }
    assert!(attrs(&page, "src").is_empty(), "no src= in the page");
    assert!(!page.contains("<link"));
    // Hostile text is escaped: only the page's own two script elements exist, no <img>,
    // <iframe> or <b> from the bundle; control characters and the bidi override are shown.
    assert_eq!(page.matches("<script").count(), 2);
    assert!(!page.contains("<img") && !page.contains("<iframe") && !page.contains("<b>bold"));
    assert!(page.contains("&lt;script&gt;alert("));
    assert!(page.contains(&"tikv&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.log".to_string()));
    // (templates mask digits: `[31m` is `[#m`)
    assert!(!page.contains('\u{1b}'));
    assert!(page.contains("\u{241b}[#mred"));
    assert!(!page.contains('\u{202e}') && page.contains("[U+202E]gnp.exe"));
    // The hostile node's restart, version line, fatal and error entries are on its lane.
    let lane = &page[page.find("data-node=\"10.0.1.9:20160\"").unwrap()..];
    let lane = &lane[..lane.find("</svg>").unwrap()];
    for class in ["m-restart", "m-version", "\"h0\"", "\"h1\"", "\"h2\""] {
        assert!(lane.contains(class), "{class} on the hostile lane");
    }
    // The plot data is JSON that cannot end its script element.
    let data = &page[page.find("id=\"plot-data\"").unwrap()..];
    let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["lanes"].as_array().unwrap().len(), nodes.len());
    assert!(!data.contains('<'));
}

#[test]
fn page_of_a_bundle_without_logs_says_there_is_nothing_to_plot() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("pdctl")).unwrap();
    std::fs::copy(
        "fixtures/scale-in-stuck/pdctl/stores.txt",
        d.path().join("pdctl/stores.txt"),
    )
    .unwrap();
    let (page, _) = run(d.path(), "html");
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("id=\"no-plot\""));
    assert!(!page.contains("<svg class=\"lane\""));
    assert!(!page.contains("id=\"plot-data\""));
}

#[test]
fn page_never_reads_as_an_all_clear_when_nothing_was_read() {
    let d = tempfile::tempdir().unwrap();
    let (page, code) = run(&d.path().join("no-such-bundle"), "html");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(code, Some(2));
    let verdict = &page[page.find("id=\"verdict\"").unwrap()..];
    let verdict = &verdict[..verdict.find("</p>").unwrap()];
    assert!(verdict.contains("Nothing could be analysed"), "{verdict}");
    assert!(!page.contains("No known failure pattern"));
}

// ---- headless Chromium ----

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KVTRIAGE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Browser {
    exe: PathBuf,
    work: tempfile::TempDir,
}

/// What one headless run shows: the DOM after load, the console lines, the requests a page
/// (not the browser itself) started.
struct Load {
    dom: String,
    console: Vec<String>,
    page_requests: Vec<String>,
}

impl Browser {
    fn command(&self, extra: &[&str], url: &str) -> std::process::Command {
        let profile = tempfile::tempdir_in(self.work.path()).unwrap().keep();
        let mut c = std::process::Command::new(&self.exe);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null());
        c
    }

    /// Runs a command to its end, killing it after a minute.
    fn finish(mut c: std::process::Command) -> (String, String) {
        let out_path = tempfile::NamedTempFile::new().unwrap();
        let err_path = tempfile::NamedTempFile::new().unwrap();
        c.stdout(out_path.reopen().unwrap())
            .stderr(err_path.reopen().unwrap());
        let mut child = c.spawn().expect("chromium starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (
            std::fs::read_to_string(out_path.path()).unwrap(),
            std::fs::read_to_string(err_path.path()).unwrap(),
        )
    }

    fn load(&self, url: &str) -> Load {
        let netlog = self.work.path().join(format!(
            "netlog-{}.json",
            self.work.path().read_dir().unwrap().count()
        ));
        let c = self.command(
            &[
                "--enable-logging=stderr",
                "--v=0",
                &format!("--log-net-log={}", netlog.display()),
                "--dump-dom",
            ],
            url,
        );
        let (dom, err) = Self::finish(c);
        let console = err
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect();
        Load {
            dom,
            console,
            page_requests: page_requests(&netlog),
        }
    }
}

/// URLs of the requests a `file://` page started, from Chromium's net log (the browser's own
/// background requests carry no file:// isolation key).
fn page_requests(netlog: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(netlog).expect("chromium wrote its net log");
    let v: Value = serde_json::from_str(&text).expect("the net log is JSON");
    let start = v["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names URL_REQUEST_START_JOB");
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect()
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// `<tag ... attr="value"` values of every element of a tag in a dumped DOM.
fn elements<'a>(dom: &'a str, open: &str) -> Vec<&'a str> {
    dom.match_indices(open)
        .map(|(i, _)| {
            let rest = &dom[i..];
            &rest[..rest.find('>').unwrap()]
        })
        .collect()
}

#[test]
fn page_renders_in_headless_chromium() {
    let Some(exe) = chromium() else {
        if std::env::var_os("KVTRIAGE_SKIP_BROWSER").is_some_and(|v| v == "1") {
            eprintln!("skipped: no chromium and KVTRIAGE_SKIP_BROWSER=1");
            return;
        }
        panic!(
            "chromium not found in PATH (nor KVTRIAGE_CHROMIUM): install Debian's `chromium` \
             package (`.ci/run` does), or set KVTRIAGE_SKIP_BROWSER=1 to skip this test locally"
        );
    };
    let browser = Browser {
        exe,
        work: tempfile::tempdir().unwrap(),
    };
    let d = tempfile::tempdir().unwrap();
    let bundle = d.path().join("bundle");
    kvtriage::synth::write_bundle(&bundle, 12 << 20, 42).unwrap();
    add_hostile_node(&bundle);
    let (findings, nodes, _) = expected(&bundle);
    let (page, _) = run(&bundle, "html");
    let report = d.path().join("report.html");
    std::fs::write(&report, &page).unwrap();

    // The harness itself: a page that logs and fetches is caught.
    let control = d.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><p>control</p><img src=\"http://127.0.0.1:9/x.png\">\
         <script>console.error('control');</script>",
    )
    .unwrap();
    let c = browser.load(&file_url(&control));
    assert!(
        c.console.iter().any(|l| l.contains("control")),
        "console lines are seen: {:?}",
        c.console
    );
    assert!(
        c.page_requests.iter().any(|u| u.contains("127.0.0.1:9")),
        "requests are seen: {:?}",
        c.page_requests
    );

    // The report: script ran to the end, nothing on the console, no request.
    let url = file_url(&report);
    let l = browser.load(&url);
    assert!(l.console.is_empty(), "console: {:#?}", l.console);
    assert!(
        l.page_requests.is_empty(),
        "requests: {:?}",
        l.page_requests
    );
    let html_tag = elements(&l.dom, "<html")[0];
    assert!(
        html_tag.contains("class=\"js\"") && html_tag.contains("data-ready-ms="),
        "{html_tag}"
    );
    assert!(findings >= 3, "the generated bundle's incidents are found");
    assert_eq!(l.dom.matches("<article class=\"finding").count(), findings);
    let lanes = elements(&l.dom, "<svg class=\"lane\"");
    let lane_nodes: BTreeSet<String> = lanes.iter().flat_map(|e| attrs(e, "data-node")).collect();
    assert_eq!(lanes.len(), nodes.len());
    assert_eq!(lane_nodes, nodes);
    assert_eq!(nodes.len(), 5, "three TiKV, one PD, the hostile node");
    // The whole range: the cells Rust drew, and evidence marks.
    let plot = elements(&l.dom, "<div id=\"plot\"")[0];
    let view = attrs(plot, "data-view")[0].clone();
    let (t0, t1) = view.split_once('-').unwrap();
    let (t0, t1): (i64, i64) = (t0.parse().unwrap(), t1.parse().unwrap());
    assert!(t1 > t0 + 3600, "{view}");
    let full_rects = l.dom.matches("<rect class=\"h").count();
    let page = String::from_utf8(page).unwrap();
    assert_eq!(full_rects, page.matches("<rect class=\"h").count());
    assert!(full_rects > 20, "{full_rects} heat cells");
    assert!(
        l.dom.contains("class=\"m-ev m-warning\""),
        "evidence of the warnings is marked"
    );
    // generic.error-burst cites a template's first line, which is not a kept event.
    assert!(
        l.dom.contains("class=\"m-ev m-info\""),
        "evidence of the error burst is marked"
    );
    assert!(!l.dom.contains("<img") && !l.dom.contains("<iframe"));

    // Zoom: the same page opened on a ten-minute window.
    let (z0, z1) = (t0 + 60, t0 + 660);
    let z = browser.load(&format!("{url}#zoom={z0}-{z1}"));
    assert!(z.console.is_empty(), "console: {:#?}", z.console);
    let zplot = elements(&z.dom, "<div id=\"plot\"")[0];
    assert_eq!(attrs(zplot, "data-view"), vec![format!("{z0}-{z1}")]);
    assert!(z.dom.contains("id=\"zoom-status\">Showing "));
    // The script drew the window's cells itself, all inside the lane.
    let cells = elements(&z.dom, "<rect class=\"h");
    assert!(!cells.is_empty() && cells.len() != full_rects);
    for c in &cells {
        let x: f64 = attrs(c, "x")[0].parse().unwrap();
        assert!((-250.0..=1000.0).contains(&x), "{c}");
    }
    let key = "id=\"bucket-size\">";
    let bucket = &z.dom[z.dom.find(key).unwrap() + key.len()..];
    assert!(bucket.starts_with("1 minute(s)"), "{}", &bucket[..20]);

    // A screenshot for people (kept by CI).
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    let c = browser.command(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,4400",
        ],
        &url,
    );
    Browser::finish(c);
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
}
