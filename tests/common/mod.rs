//! Helpers shared by the integration tests: reading findings out of a JSON report.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;

/// The findings of one rule.
pub fn findings<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// A JSON array of numbers (entity ids).
pub fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// A finding's evidence as (path, line).
pub fn evidence(f: &Value) -> Vec<(String, u64)> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A finding's remediation commands.
pub fn commands(f: &Value) -> Vec<String> {
    f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["command"].as_str().map(str::to_string))
        .collect()
}
