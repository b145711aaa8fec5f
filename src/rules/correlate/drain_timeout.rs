//! `crdb.drain-timeout`: a drain that times out or never reaches `remaining: 0`, lease
//! transfers or goroutines stuck in drain code.

use super::crdb::*;
use super::texts::Keys;
use super::{EvalCtx, Hit, Sets, Texts, events_in, evidence_of, loc_evidence};
use crate::model::EvidenceRef;
use crate::model::crdb::{CliCommand, Frame, Goroutine};
use crate::model::units::human_secs;
use crate::model::{InputId, Location, LogEvent, Version};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// crdb.drain-timeout
// ---------------------------------------------------------------------------------------

/// The `[correlation.texts]` keys it renders, with their placeholders.
pub(super) const TEXTS: Keys = &[
    ("gave-up", &[]),
    ("progress-stuck", &["from", "to", "span", "end"]),
    ("progress-end-restart", &[]),
    ("progress-end-new-drain", &[]),
    ("lease-waiting", &["count", "span"]),
    (
        "goroutines-stuck",
        &["count", "minutes", "id", "state", "func"],
    ),
    ("lease-support", &["count", "sample"]),
    ("cli-raised-wait", &[]),
    ("low-lease-wait", &["value", "secs"]),
    ("drain-wait-unknown", &[]),
    ("version-unknown", &[]),
    ("settings-names-new", &[]),
    ("settings-names-old", &[]),
    ("settings-new", &["new", "version"]),
    ("settings-old", &["old", "version"]),
    ("settings-no-version", &["new", "old"]),
    ("live-host-unknown", &[]),
    ("node-top-level", &[]),
    ("node-in-dir", &["dir"]),
    ("no-input", &[]),
];

/// `drain remaining: 15`, `node is draining... remaining: 0 (complete)` → the count.
fn parse_remaining(msg: &str) -> Option<u64> {
    let p = msg.find("remaining: ")? + "remaining: ".len();
    let digits: String = msg[p..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Everything the drain rule learnt about one node.
#[derive(Default)]
struct DrainSig {
    evidence: Vec<EvidenceRef>,
    why: Vec<String>,
    fires: bool,
    drain_wait: Option<String>,
}

/// Drain commands captured in a log (text before its first entry) on lines of the rule's
/// `cmd` set.
fn log_commands(rule: &Sets<'_>, ctx: &EvalCtx<'_>) -> Vec<CliCommand> {
    let lines: BTreeSet<Location> = events_in(rule, "cmd", ctx).iter().map(|e| e.loc).collect();
    let at = |c: &CliCommand| Location {
        input: c.input,
        line: c.line,
    };
    ctx.facts
        .crdb
        .log_commands
        .iter()
        .filter(|c| c.verb == "drain" && lines.contains(&at(c)))
        .cloned()
        .collect()
}

pub(super) fn drain_timeout(rule: &Sets<'_>, ctx: &EvalCtx<'_>, tx: &Texts) -> Vec<Hit> {
    let t = Tables::new(ctx);
    let nodes = InputNodes::new(ctx);
    // Inputs that are CLI captures name their node only in the command line.
    let mut cli_node: BTreeMap<InputId, (Option<u64>, Option<String>)> = BTreeMap::new();
    for c in ctx
        .facts
        .crdb
        .commands
        .iter()
        .cloned()
        .chain(log_commands(rule, ctx))
        .filter(|c| c.verb == "drain")
    {
        let id = c.ids.first().copied();
        cli_node
            .entry(c.input)
            .or_insert((id, c.drain_wait.clone()));
    }
    let key_of = |input: InputId| -> String {
        match cli_node.get(&input) {
            Some((Some(id), _)) => format!("|n{id}"),
            _ => nodes.key(ctx, input),
        }
    };
    let mut sigs: BTreeMap<String, DrainSig> = BTreeMap::new();
    for (input, (_, wait)) in &cli_node {
        if let Some(w) = wait {
            sigs.entry(key_of(*input)).or_default().drain_wait = Some(w.clone());
        }
    }

    // 1. Explicit timeouts: the CLI's `ERROR: drain timeout, ...` and its `drain timed out`.
    for ev in events_in(rule, "timeout", ctx) {
        // The message itself, not a mention of it (help texts, settings descriptions).
        let m = ev.message.trim();
        let m = m
            .strip_prefix("ERROR: ")
            .or_else(|| m.strip_prefix("Error: "))
            .unwrap_or(m);
        if !(m.starts_with("drain timeout") || m.starts_with("drain timed out")) {
            continue;
        }
        let s = sigs.entry(key_of(ev.loc.input)).or_default();
        s.evidence.insert(0, evidence_of(ev));
        if !s.fires {
            s.why.push(tx.text("gave-up"));
        }
        s.fires = true;
    }
    for (input, tb) in &ctx.facts.crdb.tables {
        for m in tb.marks.iter().filter(|m| {
            m.text.starts_with("ERROR: drain timeout") || m.text.starts_with("drain timed out")
        }) {
            let s = sigs.entry(key_of(*input)).or_default();
            s.evidence.insert(0, loc_evidence(loc(*input, m.line)));
            if !s.fires {
                s.why.push(tx.text("gave-up"));
            }
            s.fires = true;
        }
    }

    // 2. Drain progress that never reached 0 before the node moved on.
    let restarts: Vec<(String, Time)> = events_in(rule, "restart", ctx)
        .iter()
        .filter(|e| matches!(event_name(e).as_deref(), Some("node_restart" | "node_join")))
        .filter_map(|e| Some((key_of(e.loc.input), e.time?)))
        .collect();
    let mut points: BTreeMap<String, Vec<(&LogEvent, u64)>> = BTreeMap::new();
    for ev in events_in(rule, "remaining", ctx) {
        // A drain the process runs on SIGTERM is cut short by whoever kills it: that is
        // crdb.unclean-shutdown's business, not a --drain-wait problem.
        if ev
            .field("tags")
            .is_some_and(|t| t.contains("server drain process"))
        {
            continue;
        }
        if let Some(n) = parse_remaining(&ev.message) {
            points
                .entry(key_of(ev.loc.input))
                .or_default()
                .push((ev, n));
        }
    }
    let timeouts: BTreeSet<String> = sigs
        .iter()
        .filter(|(_, s)| s.fires)
        .map(|(k, _)| k.clone())
        .collect();
    for (key, mut pts) in points {
        pts.sort_by_key(|(e, _)| (e.time, e.loc));
        // Runs: split at gaps longer than the default --drain-wait and at restarts.
        let mut runs: Vec<Vec<(&LogEvent, u64)>> = Vec::new();
        for p in pts {
            let split = runs.last().and_then(|r| r.last()).is_none_or(|(prev, _)| {
                match (prev.time, p.0.time) {
                    (Some(a), Some(b)) => {
                        (b - a).num_seconds() > DRAIN_WAIT_SECS + 60
                            || restarts.iter().any(|(k, t)| *k == key && *t > a && *t <= b)
                    }
                    _ => false,
                }
            });
            if split {
                runs.push(vec![p]);
            } else if let Some(r) = runs.last_mut() {
                r.push(p);
            }
        }
        let n_runs = runs.len();
        for (i, run) in runs.iter().enumerate() {
            if run.iter().any(|(_, n)| *n == 0) {
                continue;
            }
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let span = match (first.0.time, last.0.time) {
                (Some(a), Some(b)) => (b - a).num_seconds(),
                _ => 0,
            };
            let restarted = last
                .0
                .time
                .is_some_and(|end| restarts.iter().any(|(k, t)| *k == key && *t > end));
            // A run that is simply the end of the capture proves nothing; one followed by
            // another drain, a restart or a timeout, or that lasted the whole default
            // --drain-wait, did not finish.
            let closed =
                i + 1 < n_runs || restarted || span >= DRAIN_WAIT_SECS || timeouts.contains(&key);
            if !closed {
                continue;
            }
            let s = sigs.entry(key.clone()).or_default();
            s.fires = true;
            let end = if restarted {
                tx.text("progress-end-restart")
            } else if i + 1 < n_runs {
                tx.text("progress-end-new-drain")
            } else {
                String::new()
            };
            s.why.push(tx.render(
                "progress-stuck",
                &[
                    ("from", first.1.to_string()),
                    ("to", last.1.to_string()),
                    ("span", human_secs(span)),
                    ("end", end),
                ],
            ));
            s.evidence.push(evidence_of(first.0));
            if !std::ptr::eq(first.0, last.0) {
                s.evidence.push(evidence_of(last.0));
            }
        }
    }

    // 3. Lease transfers that keep waiting (the stall the server logs verbosely).
    let mut leases: BTreeMap<String, Vec<&LogEvent>> = BTreeMap::new();
    for ev in events_in(rule, "lease", ctx) {
        leases.entry(key_of(ev.loc.input)).or_default().push(ev);
    }
    let finished_after = |key: &str, t: Time| {
        events_in(rule, "remaining", ctx).iter().any(|e| {
            key_of(e.loc.input) == key
                && parse_remaining(&e.message) == Some(0)
                && e.time.is_some_and(|x| x >= t)
        })
    };
    for (key, evs) in leases {
        let times: Vec<Time> = evs.iter().filter_map(|e| e.time).collect();
        let (Some(a), Some(b)) = (times.iter().min(), times.iter().max()) else {
            continue;
        };
        let span = (*b - *a).num_seconds();
        if evs.len() < 5 || span < 60 || finished_after(&key, *b) {
            continue;
        }
        let s = sigs.entry(key).or_default();
        s.fires = true;
        s.why.push(tx.render(
            "lease-waiting",
            &[("count", evs.len().to_string()), ("span", human_secs(span))],
        ));
        s.evidence
            .extend(evs.iter().take(3).map(|e| evidence_of(e)));
    }

    // 4. Goroutines blocked for minutes in drain code (a node's goroutine dump).
    for (input, gs) in &ctx.facts.crdb.goroutines {
        let stuck: Vec<(&Goroutine, &Frame)> = gs
            .iter()
            .filter(|g| g.wait_minutes.unwrap_or(0) >= STUCK_MINUTES)
            .filter_map(|g| g.frames.iter().find(|f| drain_frame(f)).map(|f| (g, f)))
            .collect();
        let Some(longest) = stuck.iter().filter_map(|(g, _)| g.wait_minutes).max() else {
            continue;
        };
        let s = sigs.entry(key_of(*input)).or_default();
        s.fires = true;
        let (g, f) = stuck[0];
        s.why.push(tx.render(
            "goroutines-stuck",
            &[
                ("count", stuck.len().to_string()),
                ("minutes", longest.to_string()),
                ("id", g.id.to_string()),
                ("state", g.state.to_string()),
                (
                    "func",
                    f.func.rsplit('/').next().unwrap_or(&f.func).to_string(),
                ),
            ],
        ));
        for (g, f) in stuck.iter().take(3) {
            s.evidence.push(loc_evidence(loc(*input, g.line)));
            s.evidence.push(loc_evidence(loc(*input, f.line)));
        }
    }

    // Causes and the CLI's own --drain-wait warning, as supporting evidence.
    let settings = events_in(rule, "setting", ctx);
    let low_lease = setting_secs(
        &settings,
        &[
            "server.shutdown.lease_transfer_wait",
            "server.shutdown.lease_transfer_iteration.timeout",
        ],
    )
    .filter(|(secs, _, _)| *secs < 5.0);
    let wait_warnings = events_in(rule, "wait", ctx);
    let lease_support = events_in(rule, "lease_support", ctx);
    let version = crdb_version(rule, ctx);
    // Without a status table, the --host the drain command itself used (any live node for
    // current CLIs, the draining node for old ones: right for the re-run either way).
    let mut live_host = t.live_host();
    if live_host.as_deref().is_none_or(|h| h.starts_with('<'))
        && let Some(h) = log_commands(rule, ctx).into_iter().find_map(|c| c.host)
    {
        live_host = Some(h);
    }
    let live_host = live_host.unwrap_or_else(|| tx.text("live-host-unknown"));

    let mut hits = Vec::new();
    for (key, mut s) in sigs {
        if !s.fires {
            continue;
        }
        let mut hit = Hit::default();
        if let Some(id) = key_node(&key) {
            hit.var("node", id);
            hit.var("nodes", id);
            hit.var("node_list", format!("n{id}"));
            hit.entities.nodes.push(format!("n{id}"));
        } else {
            hit.var("node_list", key_display(&key, tx));
        }
        let support: Vec<&LogEvent> = lease_support
            .iter()
            .copied()
            .filter(|e| key_of(e.loc.input) == key)
            .collect();
        if let Some(first) = support.first() {
            let sample: String = first.message.chars().take(120).collect();
            s.why.push(tx.render(
                "lease-support",
                &[("count", support.len().to_string()), ("sample", sample)],
            ));
            s.evidence
                .extend(support.iter().take(2).map(|e| evidence_of(e)));
        }
        for w in wait_warnings
            .iter()
            .filter(|w| key_of(w.loc.input) == key)
            .take(1)
        {
            s.why.push(tx.text("cli-raised-wait"));
            s.evidence.push(evidence_of(w));
        }
        if let Some((secs, value, ev)) = &low_lease {
            s.why.push(tx.render(
                "low-lease-wait",
                &[("value", value.clone()), ("secs", secs.to_string())],
            ));
            s.evidence.push(evidence_of(ev));
        }
        hit.var("detail", s.why.join("; "));
        hit.var(
            "drain_wait",
            s.drain_wait
                .clone()
                .unwrap_or_else(|| tx.text("drain-wait-unknown")),
        );
        hit.var("settings", drain_settings(tx, version));
        hit.var(
            "version",
            version.map_or_else(|| tx.text("version-unknown"), |v| v.to_string()),
        );
        hit.var("live_host", &live_host);
        hit.evidence = s.evidence;
        dedup_cap(&mut hit.evidence);
        hits.push(hit);
    }
    hits
}

/// A goroutine waiting this long inside drain code is stuck: with default settings each
/// drain request returns within seconds (the CLI then sends the next).
const STUCK_MINUTES: u64 = 2;

/// A frame of the server's drain path: `pkg/server/drain.go`, the store's lease shedding,
/// the SQL server's client drain. `created by` frames only say who started the goroutine.
fn drain_frame(f: &Frame) -> bool {
    const FUNCS: &[&str] = &[
        "server.(*drainServer)",
        "kvserver.(*Store).SetDraining",
        "kvserver.(*Stores).SetDraining",
        "server.(*Node).SetDraining",
        "pgwire.(*Server).Drain",
        "pgwire.(*Server).drainImpl",
        "server.(*Server).Drain",
        "server.(*Server).doDrain",
    ];
    !f.func.starts_with("created by ")
        && (FUNCS.iter().any(|n| f.func.contains(n))
            || f.file
                .as_deref()
                .is_some_and(|p| p.contains("pkg/server/drain.go:")))
}

/// The drain settings by the names of the cluster's version (renamed in 24.2; the old
/// names stay as aliases).
fn drain_settings(tx: &Texts, v: Option<Version>) -> String {
    let new = || ("new", tx.text("settings-names-new"));
    let old = || ("old", tx.text("settings-names-old"));
    match v {
        Some(v) if v >= Version::new(24, 2, 0) => {
            tx.render("settings-new", &[new(), ("version", v.to_string())])
        }
        Some(v) => tx.render("settings-old", &[old(), ("version", v.to_string())]),
        None => tx.render("settings-no-version", &[new(), old()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped rule's wording (shadows the glob import for the tests below).
    fn drain_settings(v: Option<Version>) -> String {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let c = rules
            .get("crdb.drain-timeout")
            .unwrap()
            .correlation()
            .unwrap();
        super::drain_settings(c.texts(), v)
    }

    #[test]
    fn drain_remaining() {
        assert_eq!(parse_remaining("drain remaining: 15"), Some(15));
        assert_eq!(
            parse_remaining("node is draining... remaining: 0 (complete)"),
            Some(0)
        );
    }

    #[test]
    fn drain_settings_by_version() {
        assert!(
            drain_settings(Some(Version::new(24, 2, 0)))
                .starts_with("server.shutdown.initial_wait")
        );
        assert!(
            drain_settings(Some(Version::new(22, 2, 0))).starts_with("server.shutdown.drain_wait")
        );
        assert!(
            drain_settings(None).contains("renamed") || drain_settings(None).contains("from 24.2")
        );
    }
}
