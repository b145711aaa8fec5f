//! Did-you-mean for names the user typed: rule ids, nodes.

use crate::rules::RuleError;

/// The known name closest to `wanted`, if one is close enough to be what was meant. A rule
/// id also matches by its part after the product (`store-down` → `tikv.store-down`).
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        let short = k.split_once('.').map_or(k, |(_, s)| s);
        let score = strsim::normalized_damerau_levenshtein(wanted, k)
            .max(strsim::normalized_damerau_levenshtein(wanted, short));
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, k));
        }
    }
    best.filter(|&(s, _)| s >= 0.7).map(|(_, k)| k)
}

/// `did you mean "x"? ` or nothing.
pub fn did_you_mean<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(wanted, known).map_or(String::new(), |k| format!("did you mean {k:?}? "))
}

/// A rule-loading error for the user: an unknown id says which rule was probably meant
/// instead of listing every id.
pub fn rule_error(e: RuleError) -> anyhow::Error {
    match e {
        RuleError::Unknown { id, known } => {
            let ids: Vec<&str> = known.split(", ").filter(|s| !s.is_empty()).collect();
            anyhow::anyhow!(
                "no rule {id:?}; {}`kvtriage rules list` shows all {}",
                did_you_mean(&id, ids.iter().copied()),
                ids.len()
            )
        }
        other => other.into(),
    }
}
