//! `{name}` placeholders in rule texts. Only known names are allowed, so a typo in a rule file
//! is an error at load time rather than a literal `{stroe}` in a report.

use std::collections::BTreeMap;

/// Every placeholder a rule may use.
pub const KNOWN: &[&str] = &[
    "store",
    "stores",
    "region",
    "regions",
    "node",
    "nodes",
    "pd",
    "tidb",
    "data_dir",
    "count",
    "first",
    "last",
    "file",
    "version",
    "state",
    "reason",
    "detail",
    "targets",
    "replicas",
    "peer_stores",
    "ghost_stores",
    "size_note",
    "heartbeat",
    "age",
    "key",
    "value",
    "sent",
    "limit",
    "low_space_ratio",
    "stale_note",
    "message",
    "err",
];

/// Placeholders whose absence drops a remediation step (ids must never be guessed).
const IDS: &[&str] = &[
    "store",
    "stores",
    "region",
    "regions",
    "node",
    "nodes",
    "peer_stores",
];

/// A placeholder any rule may use: the common ones and those the correlation modules add.
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name) || super::correlate::PLACEHOLDERS.contains(&name)
}

fn names(t: &str) -> impl Iterator<Item = &str> {
    t.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(n, _)| n))
}

/// Checks a template's placeholders: the common ones and those the rule's query defines.
pub fn check(t: &str, defined: &[String]) -> Result<(), String> {
    for n in names(t) {
        let ok = is_known(n)
            || defined.iter().any(|d| d == n)
            || n.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        if !ok {
            return Err(format!(
                "unknown placeholder {{{n}}} in {t:?} (known: {})",
                KNOWN.join(", ")
            ));
        }
    }
    Ok(())
}

/// Checks a template that may use only the placeholders it is given (a correlation's texts):
/// `Err` names the first other one. Non-name braces (`{"a": 1}`) are literal, as in `render`.
pub fn check_given(t: &str, given: &[&str]) -> Result<(), String> {
    let is_name =
        |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match names(t).find(|n| is_name(n) && !given.contains(n)) {
        Some(n) => Err(format!("{{{n}}}")),
        None => Ok(()),
    }
}

/// Renders a template. `Err` (carrying a best-effort rendering) when an id placeholder has no
/// value; other missing values render as `<name>`.
pub fn render(t: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(t.len() + 16);
    let mut missing_id = false;
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.split_once('}') {
            Some((name, tail)) if is_known(name) || vars.contains_key(name) => {
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        if IDS.contains(&name) {
                            missing_id = true;
                        }
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                    }
                }
                rest = tail;
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if missing_id { Err(out) } else { Ok(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_guards_ids() {
        let mut v = BTreeMap::new();
        v.insert("store".to_string(), "5".to_string());
        assert_eq!(
            render("store {store} at {pd}", &v).unwrap(),
            "store 5 at <pd>"
        );
        assert!(render("region {region}", &v).is_err());
        assert_eq!(render("json {\"a\": 1}", &v).unwrap(), "json {\"a\": 1}");
        assert!(check("{store} {bogus}", &[]).is_err());
        assert!(check("{store} {bogus}", &["bogus".to_string()]).is_ok());
        assert!(check("{\"a\":1}", &[]).is_ok());
    }
}
