//! What every text report says first and last: a one-line verdict that never reads as an
//! all-clear when inputs failed, nothing was analysed or findings were left out, and a
//! closing summary (counts, the top finding, what the exit code means). Also the one time
//! zone a report writes its times in.

use crate::model::{Analysis, Severity, Status};
use chrono::FixedOffset;
use regex::Regex;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// How a text report is laid out (what the command line decided).
#[derive(Clone, Debug)]
pub struct View {
    pub color: bool,
    /// Columns of the terminal (or `COLUMNS`).
    pub width: usize,
    pub verbose: bool,
    /// `--tz`: the zone to write times in; `None` = the bundle's.
    pub tz: Option<FixedOffset>,
    /// The exit code and `--fail-on` threshold, for the closing line.
    pub exit: Option<Exit>,
    /// `--min-severity`, to say what it hid.
    pub min_severity: Option<Severity>,
}

impl Default for View {
    fn default() -> Self {
        View {
            color: false,
            width: 100,
            verbose: false,
            tz: None,
            exit: None,
            min_severity: None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Exit {
    pub code: u8,
    /// `None`: `--fail-on never`.
    pub fail_on: Option<Severity>,
    pub strict: bool,
}

struct Counts {
    parsed: usize,
    skipped: usize,
    failed: usize,
}

fn counts(a: &Analysis) -> Counts {
    let n = |s: Status| a.inputs.iter().filter(|i| i.status == s).count();
    Counts {
        parsed: n(Status::Parsed),
        skipped: n(Status::Skipped),
        failed: n(Status::Failed),
    }
}

fn first_failed(a: &Analysis) -> String {
    a.inputs
        .iter()
        .find(|i| i.status == Status::Failed)
        .or_else(|| a.inputs.first())
        .map(|i| format!("{}: {}", i.path, i.reason.as_deref().unwrap_or("not read")))
        .unwrap_or_default()
}

/// True when the verdict is a warning about the analysis itself (an input failed, or nothing
/// was analysed): the CLI then says it on stderr too.
pub fn verdict_is_alarm(a: &Analysis) -> bool {
    a.nothing_analysed() || a.inputs.iter().any(|i| i.status == Status::Failed)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The one-sentence verdict: the first line of the table and markdown, `verdict` in JSON.
pub fn verdict(a: &Analysis, view: &View) -> String {
    let c = counts(a);
    if a.inputs.is_empty() {
        return "NOTHING ANALYSED: no input was found at the given paths; this is not an all-clear."
            .to_string();
    }
    if a.nothing_analysed() {
        if a.inputs.len() == 1 {
            return format!(
                "NOTHING ANALYSED: the one input could not be read ({}); this is not an all-clear.",
                first_failed(a)
            );
        }
        return format!(
            "NOTHING ANALYSED: none of the {} inputs could be read ({} failed, {} skipped; {}); this is not an all-clear.",
            a.inputs.len(),
            c.failed,
            c.skipped,
            first_failed(a)
        );
    }
    let failed = if c.failed > 0 {
        format!(
            "; {} FAILED ({}), so the report may miss what {} show",
            plural(c.failed, "input"),
            first_failed(a),
            if c.failed == 1 {
                "it would"
            } else {
                "they would"
            }
        )
    } else {
        String::new()
    };
    let mut left_out = Vec::new();
    if a.baselined > 0 {
        left_out.push(format!(
            "{} already in the baseline left out (still present, not fixed)",
            plural(a.baselined, "finding")
        ));
    }
    if a.below_min_severity > 0 {
        left_out.push(format!(
            "{} below --min-severity {} hidden",
            plural(a.below_min_severity, "finding"),
            view.min_severity.map_or("", Severity::as_str)
        ));
    }
    let left_out = if left_out.is_empty() {
        String::new()
    } else {
        format!("; {}", left_out.join("; "))
    };
    if let Some(top) = a.findings.first() {
        let s = super::summary(a);
        return format!(
            "{}: {} ({} critical, {} warning, {} info), first: [1] {}{failed}{left_out}.",
            top.severity.as_str().to_uppercase(),
            plural(a.findings.len(), "finding"),
            s.critical,
            s.warning,
            s.info,
            in_zone(&top.title, zone(a, view).0)
        );
    }
    let read = format!("the {} read", plural(c.parsed, "input"));
    if a.baselined > 0 || a.below_min_severity > 0 {
        return format!(
            "NO NEW FINDINGS in {read}{}{failed}; this is not an all-clear.",
            left_out
        );
    }
    if c.failed > 0 {
        return format!(
            "INCOMPLETE: no known failure pattern in {read}, but {} FAILED ({}); this is not an all-clear.",
            plural(c.failed, "input"),
            first_failed(a)
        );
    }
    format!("No known failure pattern in {read}.")
}

fn exit_meaning(e: &Exit) -> String {
    let threshold = e
        .fail_on
        .map_or("never".to_string(), |s| s.as_str().to_string());
    match e.code {
        0 if e.fail_on.is_none() => "exit 0: analysis ran (--fail-on never)".to_string(),
        0 => format!("exit 0: no finding at or above --fail-on {threshold}"),
        1 => format!("exit 1: a finding at or above --fail-on {threshold}"),
        2 => "exit 2: nothing could be analysed".to_string(),
        3 => format!(
            "exit 3: some inputs failed (--strict) and no finding reached --fail-on {threshold}"
        ),
        n => format!("exit {n}"),
    }
}

/// The closing line of the table: counts, the top finding, what the exit code means.
pub fn closing_line(a: &Analysis, view: &View) -> String {
    let s = super::summary(a);
    let c = counts(a);
    let mut line = format!(
        "Summary: {} critical, {} warning, {} info from {} of {} read ({} failed, {} skipped)",
        s.critical,
        s.warning,
        s.info,
        c.parsed,
        plural(a.inputs.len(), "input"),
        c.failed,
        c.skipped
    );
    if let Some(f) = a.findings.first() {
        let ent = super::entities_text(f);
        line.push_str(format!("; top: [1] {} {}", f.rule, ent).trim_end());
    }
    if a.baselined + a.below_min_severity > 0 {
        line.push_str(&format!(
            "; {} left out",
            a.baselined + a.below_min_severity
        ));
    }
    if let Some(e) = &view.exit {
        line.push_str("; ");
        line.push_str(&exit_meaning(e));
    }
    line.push('.');
    line
}

/// The zone a report writes its times in and why: `--tz`, else the offset most of the
/// bundle's timestamps carry (log events, store heartbeats), else UTC.
pub fn zone(a: &Analysis, view: &View) -> (FixedOffset, &'static str) {
    let utc = FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!());
    if let Some(z) = view.tz {
        return (z, "--tz");
    }
    let mut seen: BTreeMap<i32, usize> = BTreeMap::new();
    let times = a
        .facts
        .events
        .iter()
        .filter_map(|e| e.time)
        .chain(a.facts.stores.iter().filter_map(|s| s.last_heartbeat));
    for t in times {
        *seen.entry(t.offset().local_minus_utc()).or_default() += 1;
    }
    // Most frequent; on a tie the smaller offset (a fixed order).
    match seen.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0))) {
        Some((&secs, _)) => (FixedOffset::east_opt(secs).unwrap_or(utc), "the bundle's"),
        None => (utc, "no times in the bundle"),
    }
}

/// `+08:00`, `+00:00`.
pub fn zone_name(z: FixedOffset) -> String {
    let s = z.local_minus_utc();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// The header's words for the zone: `times in +08:00 (the bundle's)`.
pub fn zone_text(a: &Analysis, view: &View) -> String {
    let (z, why) = zone(a, view);
    format!("times in {} ({why})", zone_name(z))
}

static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
        .unwrap_or_else(|_| unreachable!())
});
static UNIFIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? [+-]\d{2}:\d{2}")
        .unwrap_or_else(|_| unreachable!())
});

/// `text` with every time it writes (RFC 3339 `2024-05-10T09:51:40+08:00`, or the unified log
/// form `2024/05/10 09:51:40.123 +08:00`) moved into `z`, in the same form. Log excerpts are
/// not passed here: they are quoted as the bundle wrote them.
pub fn in_zone(text: &str, z: FixedOffset) -> Cow<'_, str> {
    if !RFC3339.is_match(text) && !UNIFIED.is_match(text) {
        return Cow::Borrowed(text);
    }
    let step = RFC3339
        .replace_all(text, |c: &regex::Captures<'_>| {
            let m = &c[0];
            match chrono::DateTime::parse_from_rfc3339(m) {
                Ok(t) => {
                    let frac = if c.get(1).is_some() { "%.f" } else { "" };
                    t.with_timezone(&z)
                        .format(&format!("%Y-%m-%dT%H:%M:%S{frac}%:z"))
                        .to_string()
                }
                Err(_) => m.to_string(),
            }
        })
        .into_owned();
    let out = UNIFIED.replace_all(&step, |c: &regex::Captures<'_>| {
        let m = &c[0];
        match chrono::DateTime::parse_from_str(m, "%Y/%m/%d %H:%M:%S%.f %:z") {
            Ok(t) => {
                let frac = if c.get(1).is_some() { "%.3f" } else { "" };
                t.with_timezone(&z)
                    .format(&format!("%Y/%m/%d %H:%M:%S{frac} %:z"))
                    .to_string()
            }
            Err(_) => m.to_string(),
        }
    });
    Cow::Owned(out.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_move_into_one_zone() {
        let z = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            in_zone(
                "last heartbeat 2024-05-10T01:51:40+00:00, then 2024-05-10T01:51:40Z",
                z
            ),
            "last heartbeat 2024-05-10T09:51:40+08:00, then 2024-05-10T09:51:40+08:00"
        );
        assert_eq!(
            in_zone("at 2024/07/22 12:02:58.803 +00:00.", z),
            "at 2024/07/22 20:02:58.803 +08:00."
        );
        assert!(matches!(in_zone("store 4", z), Cow::Borrowed(_)));
        assert_eq!(
            zone_name(FixedOffset::west_opt(5 * 3600 + 1800).unwrap()),
            "-05:30"
        );
    }
}
