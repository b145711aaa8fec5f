//! Prometheus metrics as bundles carry them:
//! - the text exposition format (`/metrics` scraped from PD/TiKV): `# HELP`, `# TYPE`,
//!   `name{l="v",...} value [timestamp_ms]`, label values with `\"`, `\\`, `\n` escapes,
//!   `NaN`, `+Inf`, `-Inf`; OpenMetrics `# EOF` and exemplars are tolerated;
//! - Prometheus HTTP API JSON (`tiup diag collect` stores `/api/v1/query` answers, see
//!   bundle-layouts.md §1.2): `{"status":"success","data":{"resultType":"matrix","result":
//!   [{"metric":{...},"values":[[ts,"v"],...]}]}}` or `"vector"` with `"value"`. A
//!   `{"status":"error"}` body is reported as a problem, not as samples.
//!
//! Decompression happens before this module: it only sees text.

use crate::model::sched::MetricSample;
use crate::model::{InputId, Location};
use serde_json::Value;

/// What one input yielded.
#[derive(Debug, Default)]
pub struct PromOutput {
    pub samples: Vec<MetricSample>,
    /// Samples read, including those `keep` dropped.
    pub read: u64,
    /// Lines (text) that are neither comments nor samples.
    pub unparsed_lines: u64,
    pub problem: Option<String>,
}

/// Parses the text exposition format; `keep` decides by metric name which samples are kept.
pub fn parse_text(text: &str, input: InputId, keep: &dyn Fn(&str) -> bool) -> PromOutput {
    let mut out = PromOutput::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_sample_line(line) {
            Some((name, labels, value, ts)) => {
                out.read += 1;
                if keep(&name) {
                    out.samples.push(MetricSample {
                        name,
                        labels,
                        time: ts.map(|ms| ms as f64 / 1000.0),
                        value,
                        loc: Location {
                            input,
                            line: i as u64 + 1,
                        },
                    });
                }
            }
            None => out.unparsed_lines += 1,
        }
    }
    if out.read == 0 {
        out.problem = Some("no Prometheus sample line could be read".into());
    }
    out
}

/// Name, sorted labels, value, timestamp in ms.
type SampleLine = (String, Vec<(String, String)>, f64, Option<i64>);

/// `name{a="b"} 1.5 1720513523105` → its parts.
fn parse_sample_line(line: &str) -> Option<SampleLine> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if rest.starts_with('{') {
        let (ls, used) = parse_labels(&rest[1..])?;
        labels = ls;
        rest = &rest[1 + used..];
    }
    // OpenMetrics exemplars follow ` # {...}`.
    let rest = rest.split(" # ").next().unwrap_or(rest);
    let mut it = rest.split_whitespace();
    let value = parse_value(it.next()?)?;
    let ts = match it.next() {
        Some(t) => Some(parse_timestamp_ms(t)?),
        None => None,
    };
    if it.next().is_some() {
        return None;
    }
    labels.sort();
    Some((name.to_string(), labels, value, ts))
}

/// Labels after the `{`; returns them and the bytes used including the closing `}`.
fn parse_labels(s: &str) -> Option<(Vec<(String, String)>, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'}' {
            return Some((out, i + 1));
        }
        let ks = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let key = &s[ks..i];
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if key.is_empty() || b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let mut val = String::new();
        let mut seg = i;
        loop {
            match b.get(i)? {
                b'\\' => {
                    val.push_str(&s[seg..i]);
                    match b.get(i + 1)? {
                        b'n' => val.push('\n'),
                        b'"' => val.push('"'),
                        b'\\' => val.push('\\'),
                        // Unknown escapes keep their backslash; the next character is
                        // read as ordinary text.
                        _ => {
                            val.push('\\');
                            i += 1;
                            seg = i;
                            continue;
                        }
                    }
                    i += 2;
                    seg = i;
                }
                b'"' => {
                    val.push_str(&s[seg..i]);
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
        out.push((key.to_string(), val));
    }
}

/// Go/Prometheus float text: `1.5`, `1e+06`, `NaN`, `+Inf`, `-Inf`, `Inf`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

fn parse_timestamp_ms(t: &str) -> Option<i64> {
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    // OpenMetrics writes seconds with a fraction.
    let f: f64 = t.parse().ok()?;
    f.is_finite().then_some((f * 1000.0) as i64)
}

/// Parses a Prometheus HTTP API answer. Text before the JSON (a pasted `curl` line) is skipped.
pub fn parse_json(text: &str, input: InputId, keep: &dyn Fn(&str) -> bool) -> PromOutput {
    let mut out = PromOutput::default();
    let Some(start) = text.find('{') else {
        out.problem = Some("no JSON object found".into());
        return out;
    };
    let body = &text[start..];
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<Value>();
    let doc = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            out.problem = Some(format!("Prometheus JSON is not readable: {e}"));
            return out;
        }
        None => {
            out.problem = Some("no JSON object found".into());
            return out;
        }
    };
    let status = doc.get("status").and_then(Value::as_str).unwrap_or("");
    if status == "error" {
        let et = doc.get("errorType").and_then(Value::as_str).unwrap_or("");
        let e = doc.get("error").and_then(Value::as_str).unwrap_or("");
        out.problem = Some(format!(
            "the Prometheus query failed when the bundle was collected (status error{}{})",
            if et.is_empty() {
                String::new()
            } else {
                format!(", {et}")
            },
            if e.is_empty() {
                String::new()
            } else {
                format!(": {e}")
            }
        ));
        return out;
    }
    let Some(data) = doc.get("data") else {
        out.problem = Some("Prometheus JSON without a data object".into());
        return out;
    };
    let rtype = data.get("resultType").and_then(Value::as_str).unwrap_or("");
    let Some(result) = data.get("result").and_then(Value::as_array) else {
        out.problem = Some(format!(
            "Prometheus result of type {rtype:?} holds no series"
        ));
        return out;
    };
    let lines = LineIndex::new(text);
    let series_offsets = series_starts(body);
    for (n, series) in result.iter().enumerate() {
        let Some(metric) = series.get("metric").and_then(Value::as_object) else {
            continue;
        };
        let name = metric
            .get("__name__")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut labels: Vec<(String, String)> = metric
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect();
        labels.sort();
        let line = series_offsets
            .get(n)
            .map_or(1, |off| lines.line_of(start + off));
        let loc = Location { input, line };
        let mut points: Vec<&Value> = Vec::new();
        if let Some(vs) = series.get("values").and_then(Value::as_array) {
            points.extend(vs.iter());
        }
        if let Some(v) = series.get("value") {
            points.push(v);
        }
        for p in points {
            let Some((t, v)) = point(p) else { continue };
            out.read += 1;
            if keep(&name) {
                out.samples.push(MetricSample {
                    name: name.clone(),
                    labels: labels.clone(),
                    time: Some(t),
                    value: v,
                    loc,
                });
            }
        }
    }
    if out.read == 0 && result.is_empty() {
        // An empty answer is normal for a metric with no series in the window.
        return out;
    }
    if out.read == 0 {
        out.problem = Some("Prometheus series hold no readable sample".into());
    }
    out
}

/// `[1720513523.105, "12"]`
fn point(p: &Value) -> Option<(f64, f64)> {
    let a = p.as_array()?;
    let t = a.first()?.as_f64()?;
    let v = match a.get(1)? {
        Value::String(s) => parse_value(s)?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some((t, v))
}

/// Byte offsets (within `body`) of each `"metric": {` — one per series, in order.
fn series_starts(body: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let b = body.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&b[from..], b"\"metric\"") {
        let at = from + p;
        let mut j = at + 8;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if b.get(j) == Some(&b':') {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) == Some(&b'{') {
                out.push(at);
            }
        }
        from = at + 8;
    }
    out
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(s: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|p| p + 1));
        LineIndex { starts }
    }

    fn line_of(&self, off: usize) -> u64 {
        match self.starts.binary_search(&off) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn text_exposition() {
        let t = r#"# HELP pd_checker_event_count Counter of checker events.
# TYPE pd_checker_event_count counter
pd_checker_event_count{instance="10.0.1.1:2379",job="pd",name="no-target",type="merge_checker"} 1234
pd_checker_event_count{type="merge_checker",name="adj-disallow-merge"} 1.5e+03 1720513523105
weird{l="a \"q\" \\ b\nc"} NaN
up +Inf
down -Inf
process_start_time_seconds 1.72051e+09
not a sample line
"#;
        let out = parse_text(t, InputId(0), &all);
        assert_eq!(out.read, 6);
        assert_eq!(out.unparsed_lines, 1);
        let s = &out.samples[0];
        assert_eq!(s.name, "pd_checker_event_count");
        assert_eq!(s.value, 1234.0);
        assert_eq!(s.label("name"), Some("no-target"));
        assert_eq!(s.loc.line, 3);
        assert_eq!(s.time, None);
        assert_eq!(out.samples[1].time, Some(1720513523.105));
        assert_eq!(out.samples[1].value, 1500.0);
        assert_eq!(out.samples[2].label("l"), Some("a \"q\" \\ b\nc"));
        assert!(out.samples[2].value.is_nan());
        assert_eq!(out.samples[3].value, f64::INFINITY);
        assert_eq!(out.samples[4].value, f64::NEG_INFINITY);
        let kept = parse_text(t, InputId(0), &|n| n.starts_with("pd_"));
        assert_eq!(kept.samples.len(), 2);
        assert_eq!(kept.read, 6);
    }

    #[test]
    fn text_edge_cases_do_not_panic() {
        for t in [
            "x{",
            "x{a=",
            "x{a=\"",
            "x{a=\"\\",
            "x{a=\"b\"} ",
            "x{a=\"b\"} 1 2 3",
            "{a=\"b\"} 1",
            "é 1",
            "x{é=\"1\"} 1",
            "x{a=\"é\"} 1",
            "x{a=\"\\é\"} 1",
        ] {
            let _ = parse_text(t, InputId(0), &all);
        }
        let out = parse_text("x{a=\"é\"} 1\n# EOF\n", InputId(0), &all);
        assert_eq!(out.samples[0].label("a"), Some("é"));
    }

    #[test]
    fn api_matrix_and_vector() {
        let j = r#"$ curl -s 'http://10.0.1.5:9090/api/v1/query?query=pd_regions_status[2h]'
{"status":"success","data":{"resultType":"matrix","result":[
  {"metric":{"__name__":"pd_regions_status","instance":"10.0.1.1:2379","job":"pd","type":"empty-region-count"},
   "values":[[1720513523.105,"12"],[1720513538.105,"14"]]},
  {"metric":{"__name__":"pd_regions_status","instance":"10.0.1.1:2379","job":"pd","type":"undersized-region-count"},
   "values":[[1720513523.105,"NaN"]]}]}}
"#;
        let out = parse_json(j, InputId(0), &all);
        assert_eq!(out.problem, None);
        assert_eq!(out.read, 3);
        assert_eq!(out.samples[0].loc.line, 3);
        assert_eq!(out.samples[1].value, 14.0);
        assert_eq!(out.samples[1].time, Some(1720513538.105));
        assert_eq!(out.samples[2].loc.line, 5);
        assert_eq!(
            out.samples[2].label("type"),
            Some("undersized-region-count")
        );
        let v = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[1720513523,"1"]}]}}"#;
        let out = parse_json(v, InputId(0), &all);
        assert_eq!(out.samples.len(), 1);
        assert_eq!(out.samples[0].loc.line, 1);
    }

    #[test]
    fn api_errors_are_problems() {
        let e = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error"}"#;
        let out = parse_json(e, InputId(0), &all);
        assert!(out.samples.is_empty());
        assert!(out.problem.unwrap().contains("bad_data: 1:5: parse error"));
        let out = parse_json("{\"status\":\"succ", InputId(0), &all);
        assert!(out.problem.is_some());
        let out = parse_json("nothing", InputId(0), &all);
        assert!(out.problem.is_some());
        let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        let out = parse_json(empty, InputId(0), &all);
        assert_eq!(out.problem, None);
        assert_eq!(out.read, 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_and_json_never_panic(s in "\\PC{0,200}") {
            let _ = parse_text(&s, InputId(0), &all);
            let _ = parse_json(&s, InputId(0), &all);
        }
    }
}
