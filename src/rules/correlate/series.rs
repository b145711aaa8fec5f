//! Metric series for the PD correlations: samples of one metric and label set, in time
//! order, with the measures the correlations take of them.

use super::EvalCtx;
use super::{EvidenceRef, loc_evidence};
use crate::model::sched::MetricSample;
use std::collections::BTreeMap;

/// One time series: samples of one metric with one label set, ordered by time.
pub struct Series<'a> {
    pub labels: &'a [(String, String)],
    pub samples: Vec<&'a MetricSample>,
}

impl<'a> Series<'a> {
    pub fn label(&self, k: &str) -> Option<&'a str> {
        self.labels
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn last(&self) -> Option<&'a MetricSample> {
        self.samples.last().copied()
    }

    pub fn first(&self) -> Option<&'a MetricSample> {
        self.samples.first().copied()
    }

    /// Seconds between the first and last timed samples.
    pub fn span(&self) -> Option<f64> {
        let a = self.samples.iter().find_map(|s| s.time)?;
        let b = self.samples.iter().rev().find_map(|s| s.time)?;
        Some(b - a)
    }

    pub fn timed(&self) -> bool {
        self.samples.len() >= 2 && self.samples.iter().all(|s| s.time.is_some())
    }

    /// Counter increase after `from` (unix seconds; all samples when `None`), resets counted
    /// from zero. A lone sample, or untimed ones, count as the total since the process start.
    pub fn increase(&self, from: Option<f64>) -> f64 {
        if !self.timed() {
            return self.last().map_or(0.0, |s| finite(s.value));
        }
        let mut total = 0.0;
        // A rise is placed in the interval before the sample: counted when that interval
        // starts at or after `from`.
        for w in self.samples.windows(2) {
            let (p, v) = (finite(w[0].value), finite(w[1].value));
            let counted = match (from, w[0].time) {
                (Some(f), Some(t)) => t >= f,
                _ => true,
            };
            if counted {
                total += if v >= p { v - p } else { v };
            }
        }
        total
    }

    /// Times at which the counter went down (the process restarted).
    pub fn resets(&self) -> Vec<f64> {
        self.samples
            .windows(2)
            .filter(|w| w[1].value < w[0].value)
            .filter_map(|w| w[1].time)
            .collect()
    }
}

/// A total order on optional times: untimed first (a stable sort keeps their input order).
pub fn cmp_time(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (None, None) => Equal,
        (None, Some(_)) => Less,
        (Some(_), None) => Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    }
}

pub fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Series of a metric whose labels match every filter.
pub fn series_of<'a>(
    ctx: &'a EvalCtx<'_>,
    metric: &str,
    filter: &BTreeMap<String, String>,
) -> Vec<Series<'a>> {
    let mut by_labels: BTreeMap<&'a [(String, String)], Vec<&'a MetricSample>> = BTreeMap::new();
    for s in ctx.facts.sched.samples.iter().filter(|s| s.name == metric) {
        if filter.iter().all(|(k, v)| s.label(k) == Some(v.as_str())) {
            by_labels.entry(s.labels.as_slice()).or_default().push(s);
        }
    }
    by_labels
        .into_iter()
        .map(|(labels, mut samples)| {
            // Timed samples by time; the same instant from two dump blocks kept once.
            samples.sort_by(|a, b| cmp_time(a.time, b.time));
            samples.dedup_by(|a, b| a.time.is_some() && a.time == b.time);
            Series { labels, samples }
        })
        .collect()
}

/// Evidence for a series: its first and last sample lines.
pub fn series_evidence(s: &Series<'_>) -> Vec<EvidenceRef> {
    let mut out = Vec::new();
    if let Some(f) = s.first() {
        out.push(loc_evidence(f.loc));
    }
    if let Some(l) = s.last()
        && Some(l.loc) != s.first().map(|f| f.loc)
    {
        out.push(loc_evidence(l.loc));
    }
    out
}

pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InputId, Location};

    fn sample(labels: &[(&str, &str)], t: f64, v: f64, line: u64) -> MetricSample {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        l.sort();
        MetricSample {
            name: "pd_checker_event_count".into(),
            labels: l,
            time: Some(t),
            value: v,
            loc: Location {
                input: InputId(0),
                line,
            },
        }
    }

    #[test]
    fn series_increase_handles_resets_and_lone_samples() {
        let a = sample(&[], 0.0, 10.0, 1);
        let b = sample(&[], 10.0, 30.0, 2);
        let c = sample(&[], 20.0, 5.0, 3);
        let s = Series {
            labels: &[],
            samples: vec![&a, &b, &c],
        };
        assert_eq!(s.increase(None), 25.0);
        assert_eq!(s.increase(Some(10.0)), 5.0);
        assert_eq!(s.increase(Some(15.0)), 0.0);
        assert_eq!(s.resets(), vec![20.0]);
        let lone = Series {
            labels: &[],
            samples: vec![&b],
        };
        assert_eq!(lone.increase(None), 30.0);
    }
}
