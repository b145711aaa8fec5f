//! Go goroutine dumps in the `debug=2` text form, as `cockroach debug zip` stores them
//! (`nodes/<id>/stacks.txt`, the goroutine dumper's files):
//!
//! ```text
//! goroutine 1596 [select, 7 minutes]:
//! github.com/cockroachdb/cockroach/pkg/kv/kvserver.(*Store).SetDraining(0xc000a8e000, 0x1, ...)
//!     github.com/cockroachdb/cockroach/pkg/kv/kvserver/store.go:1588 +0x5e5
//! created by github.com/cockroachdb/cockroach/pkg/util/stop.(*Stopper).RunAsyncTaskEx
//!     github.com/cockroachdb/cockroach/pkg/util/stop/stopper.go:489 +0x3a5
//! ```
//!
//! A head is `goroutine <id> [<state>[, <n> minutes][, locked to thread]]:`; Go 1.21+ crash
//! tracebacks put `gp=... m=...` between the id and the bracket. Each frame is a function
//! line followed by a `file:line +0xoff` line indented by a tab (shown as spaces above). The wait is reported by the Go
//! runtime only from one minute on, in whole minutes.

use crate::model::crdb::{Frame, Goroutine};

#[derive(Debug, Default)]
pub struct Dump {
    pub goroutines: Vec<Goroutine>,
    /// Non-blank lines that are neither a head nor part of a goroutine's frames.
    pub unparsed_lines: u64,
}

/// `goroutine 12 [chan receive, 6 minutes]:` → (id, state, minutes).
pub fn parse_head(line: &str) -> Option<(u64, String, Option<u64>)> {
    let rest = line.trim_end().strip_prefix("goroutine ")?;
    let (id, rest) = rest.split_once(' ')?;
    let id = id.parse().ok()?;
    let open = rest.find('[')?;
    // Only `gp=... m=... mp=...` may sit between the id and the bracket.
    if !rest[..open].split_whitespace().all(|w| w.contains('=')) {
        return None;
    }
    let inner = rest[open + 1..].strip_suffix("]:")?;
    let mut parts = inner.split(", ");
    let state = parts.next()?.trim().to_string();
    let mut minutes = None;
    for p in parts {
        if let Some(n) = p
            .strip_suffix(" minutes")
            .or_else(|| p.strip_suffix(" minute"))
        {
            minutes = n.trim().parse().ok();
        }
    }
    Some((id, state, minutes))
}

/// Whether a text starts like a goroutine dump (first non-blank line is a head).
pub fn looks_like_dump(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| parse_head(l.trim_start_matches('\u{feff}')).is_some())
}

pub fn parse(text: &str) -> Dump {
    let mut out = Dump::default();
    let mut cur: Option<Goroutine> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            out.goroutines.extend(cur.take());
            continue;
        }
        if let Some((id, state, wait_minutes)) = parse_head(line) {
            out.goroutines.extend(cur.take());
            cur = Some(Goroutine {
                id,
                state,
                wait_minutes,
                line: n,
                frames: Vec::new(),
            });
            continue;
        }
        let Some(g) = cur.as_mut() else {
            out.unparsed_lines += 1;
            continue;
        };
        if let Some(loc) = line.strip_prefix('\t') {
            // The file line of the frame above.
            let file = loc.split(" +0x").next().unwrap_or(loc).trim();
            match g.frames.last_mut() {
                Some(f) if f.file.is_none() => f.file = Some(file.to_string()),
                _ => out.unparsed_lines += 1,
            }
            continue;
        }
        if line.starts_with("...") {
            // `...additional frames elided...`
            continue;
        }
        let func = match line.rfind('(') {
            // Arguments follow the last `(` that opens a call: `f(0x1, ...)`, but a method
            // receiver `(*Store)` is part of the name.
            Some(p) if line.ends_with(')') && !line[p..].starts_with("(*") => &line[..p],
            _ => line,
        };
        g.frames.push(Frame {
            func: func.to_string(),
            file: None,
            line: n,
        });
    }
    out.goroutines.extend(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "goroutine 1596 [select, 7 minutes]:
github.com/cockroachdb/cockroach/pkg/kv/kvserver.(*Store).SetDraining(0xc000a8e000, 0x1, {0x5b8a0c0, 0xc001b2a3c0}, 0x0)
\tgithub.com/cockroachdb/cockroach/pkg/kv/kvserver/store.go:1588 +0x5e5
created by github.com/cockroachdb/cockroach/pkg/util/stop.(*Stopper).RunAsyncTaskEx
\tgithub.com/cockroachdb/cockroach/pkg/util/stop/stopper.go:489 +0x3a5

goroutine 1 gp=0xc000002380 m=nil [chan receive, 1 minute, locked to thread]:
main.main()
\t/usr/local/go/src/runtime/proc.go:271 +0x29

goroutine 7 [running]:
...additional frames elided...
";

    #[test]
    fn heads_frames_and_waits() {
        let d = parse(DUMP);
        assert_eq!(d.unparsed_lines, 0);
        assert_eq!(d.goroutines.len(), 3);
        let g = &d.goroutines[0];
        assert_eq!(
            (g.id, g.state.as_str(), g.wait_minutes, g.line),
            (1596, "select", Some(7), 1)
        );
        assert_eq!(
            g.frames[0].func,
            "github.com/cockroachdb/cockroach/pkg/kv/kvserver.(*Store).SetDraining"
        );
        assert_eq!(
            g.frames[0].file.as_deref(),
            Some("github.com/cockroachdb/cockroach/pkg/kv/kvserver/store.go:1588")
        );
        assert_eq!(g.frames[1].line, 4);
        assert!(g.frames[1].func.starts_with("created by "));
        let g = &d.goroutines[1];
        assert_eq!(
            (g.id, g.state.as_str(), g.wait_minutes),
            (1, "chan receive", Some(1))
        );
        assert_eq!(g.frames[0].func, "main.main");
        assert_eq!(d.goroutines[2].wait_minutes, None);
        assert!(looks_like_dump(DUMP));
        assert!(!looks_like_dump(
            "I220202 20:51:21.654349 2867 1@server/drain.go:210"
        ));
        assert!(parse_head("goroutine x [select]:").is_none());
        assert!(parse_head("goroutine 5 is here [select]:").is_none());
    }
}
