//! `[correlation.texts]`: the words of a correlation's findings, `key = "template"`. The Rust
//! code computes the values (numbers, ids, quoted log lines) and renders a key with them, so
//! every sentence a user reads lives in the rule file.

use crate::rules::template;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The keys a correlation renders, each with the placeholders it is given.
pub type Keys = &'static [(&'static str, &'static [&'static str])];

/// A rule's texts, checked against its correlation's keys.
#[derive(Clone, Debug)]
pub struct Texts {
    map: BTreeMap<String, String>,
    keys: Keys,
}

impl Texts {
    /// Reads `[correlation.texts]` of rule `rule` (correlation `name`): every key of `keys`
    /// present, no other key, each template using only the placeholders its key is given. A
    /// rule file without the table takes the shipped rule's texts for that correlation.
    pub fn load(
        rule: &str,
        name: &str,
        table: Option<toml::Value>,
        keys: Keys,
    ) -> Result<Texts, String> {
        let table = match table {
            Some(t) => t,
            None => shipped(name).cloned().ok_or_else(|| {
                format!("rule {rule}: the {name} correlation needs a [correlation.texts] table")
            })?,
        };
        let toml::Value::Table(t) = table else {
            return Err(format!(
                "rule {rule}: [correlation.texts] must be a table of key = \"text\""
            ));
        };
        let mut map = BTreeMap::new();
        for (k, v) in t {
            let Some(given) = keys.iter().find(|(n, _)| *n == k).map(|(_, g)| *g) else {
                return Err(format!(
                    "rule {rule}: [correlation.texts] has unknown key \"{k}\" (the {name} correlation uses: {})",
                    key_list(keys)
                ));
            };
            let toml::Value::String(text) = v else {
                return Err(format!(
                    "rule {rule}: [correlation.texts] \"{k}\" must be a string"
                ));
            };
            template::check_given(&text, given).map_err(|p| {
                format!(
                    "rule {rule}: [correlation.texts] {k}: unknown placeholder {p} (given: {})",
                    if given.is_empty() {
                        "none".to_string()
                    } else {
                        given.join(", ")
                    }
                )
            })?;
            map.insert(k, text);
        }
        if let Some((k, _)) = keys.iter().find(|(k, _)| !map.contains_key(*k)) {
            return Err(format!(
                "rule {rule}: [correlation.texts] has no key \"{k}\" (the {name} correlation uses: {})",
                key_list(keys)
            ));
        }
        Ok(Texts { map, keys })
    }

    /// A text without placeholders.
    pub fn text(&self, key: &str) -> String {
        self.render(key, &[])
    }

    /// A text with its placeholders filled. Loading checked the key exists and uses only
    /// these names; the debug checks catch code that renders a key it did not declare.
    pub fn render(&self, key: &str, vars: &[(&str, String)]) -> String {
        debug_assert!(
            self.keys.iter().any(|(k, given)| *k == key
                && given.len() == vars.len()
                && vars.iter().all(|(n, _)| given.contains(n))),
            "text {key} rendered with undeclared key or placeholders"
        );
        let Some(t) = self.map.get(key) else {
            return format!("<{key}>");
        };
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let (Ok(s) | Err(s)) = template::render(t, &vars);
        s
    }
}

fn key_list(keys: Keys) -> String {
    keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// The texts of the shipped rule of each correlation, for rule files that bring none.
fn shipped(name: &str) -> Option<&'static toml::Value> {
    static BY_NAME: OnceLock<BTreeMap<String, toml::Value>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| {
            let mut out = BTreeMap::new();
            for (_, text) in crate::rules::embedded::BUILTIN_RULES {
                let Ok(t) = toml::from_str::<toml::Table>(text) else {
                    continue;
                };
                let Some(c) = t.get("correlation").and_then(toml::Value::as_table) else {
                    continue;
                };
                if let (Some(n), Some(texts)) =
                    (c.get("name").and_then(|v| v.as_str()), c.get("texts"))
                {
                    out.insert(n.to_string(), texts.clone());
                }
            }
            out
        })
        .get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: Keys = &[("a", &["n"]), ("b", &[])];

    fn table(s: &str) -> Option<toml::Value> {
        Some(toml::Value::Table(toml::from_str(s).unwrap()))
    }

    #[test]
    fn renders_given_values() {
        let t = Texts::load(
            "x.y",
            "c",
            table("a = \"{n} polls\"\nb = \" that finished\""),
            KEYS,
        )
        .unwrap();
        assert_eq!(t.render("a", &[("n", "15".into())]), "15 polls");
        assert_eq!(t.text("b"), " that finished");
    }

    #[test]
    fn missing_key_is_named() {
        let e = Texts::load("x.y", "c", table("a = \"{n}\""), KEYS).unwrap_err();
        assert!(e.contains("x.y") && e.contains("\"b\""), "{e}");
    }

    #[test]
    fn unknown_placeholder_and_key_fail() {
        let e = Texts::load("x.y", "c", table("a = \"{m}\"\nb = \"\""), KEYS).unwrap_err();
        assert!(e.contains("{m}") && e.contains("a:"), "{e}");
        // A common placeholder is not given to a text either.
        assert!(Texts::load("x.y", "c", table("a = \"{n}\"\nb = \"{store}\""), KEYS).is_err());
        assert!(Texts::load("x.y", "c", table("a = \"\"\nb = \"\"\nc = \"\""), KEYS).is_err());
        // Braces that are no placeholder stay literal.
        assert!(Texts::load("x.y", "c", table("a = \"{\\\"k\\\": 1}\"\nb = \"\""), KEYS).is_ok());
    }
}
