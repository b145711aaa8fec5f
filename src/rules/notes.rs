//! Notes under the findings: what the bundle lacks, stale records, evident clock skew.

use crate::model::units::{human_secs, parse_go_duration};
use crate::model::{Analysis, Facts, StoreState};

/// Notes on what the bundle could not show, its stale records, its rotated streams (said by
/// the source layer) and evident clock skew.
pub fn notes(a: &Analysis, clock_group: Option<u32>, rotation: Vec<String>) -> Vec<String> {
    let facts = &a.facts;
    let mut notes = Vec::new();
    if facts.stores.is_empty() && a.inputs.iter().any(|i| i.kind.is_tidb_family_log()) {
        notes.push(
            "No pd-ctl store dump in the bundle: store-state rules (offline, disconnected, down, scale-in) could not run. Add `pd-ctl store` and `pd-ctl region store <id>` output."
                .to_string(),
        );
    }
    notes.extend(stale_store_notes(facts));
    notes.extend(rotation);
    if let Some(g) = clock_group {
        notes.extend(clock_notes(a, g));
    }
    // What rules could not decide, and the command that settles it: once per text.
    let mut said: Vec<(&str, Option<&str>, Vec<&str>)> = Vec::new();
    for u in &a.undecided {
        match said
            .iter_mut()
            .find(|(t, c, _)| *t == u.text && *c == u.command.as_deref())
        {
            Some(s) => s.2.push(&u.rule),
            None => said.push((&u.text, u.command.as_deref(), vec![&u.rule])),
        }
    }
    for (text, command, rules) in said {
        let rules = rules.join(", ");
        notes.push(match command {
            Some(c) => format!("{text} ({rules}; to settle it: `{c}`)"),
            None => format!("{text} ({rules})"),
        });
    }
    notes
}

/// Clock skew, when a node says so itself: one note per node, with its first such line.
pub fn clock_notes(a: &Analysis, group: u32) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut notes = Vec::new();
    for e in a.facts.events.iter().filter(|e| e.in_group(group)) {
        let Some(i) = a.input(e.loc.input) else {
            continue;
        };
        let node = i.node.clone().unwrap_or_else(|| i.path.clone());
        if seen.insert(node.clone()) {
            notes.push(format!(
                "Clock skew is evident on {node}: it logged \"{}\" ({}:{}). Times across nodes in this bundle may not line up; check NTP/chrony on that host.",
                e.message.trim(),
                i.path,
                e.loc.line
            ));
        }
    }
    notes
}

/// Disconnected records too old to be live PD state: said, not reported as findings.
pub fn stale_store_notes(facts: &Facts) -> Vec<String> {
    let down = match facts.config("schedule.max-store-down-time") {
        Some((serde_json::Value::String(s), _)) => parse_go_duration(s).unwrap_or(1800),
        _ => 1800,
    };
    let mut notes = Vec::new();
    for s in facts.latest_stores() {
        if s.state != StoreState::Disconnected {
            continue;
        }
        let (Some(hb), Some(newest)) = (
            s.last_heartbeat,
            facts
                .stores
                .iter()
                .filter(|o| o.loc.input == s.loc.input)
                .filter_map(|o| o.last_heartbeat)
                .max(),
        ) else {
            continue;
        };
        let age = (newest - hb).num_seconds();
        if age > down {
            notes.push(format!(
                "store {} shows Disconnected but its last heartbeat ({}) is {} older than the newest in the same dump, longer than max-store-down-time: PD would show Down for a live record, so this looks like a stale PD record (seen after PD leader changes during scale-in), not a disconnected store. Check `pd-ctl store {}` against the current PD leader.",
                s.id,
                hb.to_rfc3339(),
                human_secs(age),
                s.id
            ));
        }
    }
    notes
}
