//! Overlap-segment counts summed per series subset, the way Orion reports NAB: the
//! `segment_tp`/`segment_fp`/`segment_fn` of every run of a model whose signal lies in a
//! subset (`realTweets/…` → `realTweets`) are added, then precision, recall and F1 are
//! computed from the sums (not averaged over signals).

use crate::kinds::SplitName;
use crate::store::RunDetail;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Summed counts of one (model, subset).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct SegmentCounts {
    pub runs: usize,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl SegmentCounts {
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// The subset of a series run: the folder part of `dataset.signal` (NAB), else the
/// dataset's name.
fn subset(run: &RunDetail) -> String {
    let param = |key: &str| {
        run.params
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    match param("dataset.signal") {
        Some(signal) => signal
            .rsplit_once('/')
            .map_or(signal.clone(), |(dir, _)| dir.to_string()),
        None => param("dataset.name").unwrap_or_else(|| "?".into()),
    }
}

/// Sums per (model, subset) over the runs that stored segment counts on test.
pub fn by_subset(runs: &[RunDetail]) -> BTreeMap<(String, String), SegmentCounts> {
    let mut out: BTreeMap<(String, String), SegmentCounts> = BTreeMap::new();
    for run in runs {
        let get = |name: &str| {
            run.metrics
                .iter()
                .find(|m| m.split == SplitName::Test && m.name == name)
                .map(|m| m.value)
        };
        let (Some(tp), Some(fp), Some(fn_)) =
            (get("segment_tp"), get("segment_fp"), get("segment_fn"))
        else {
            continue;
        };
        let c = out.entry((run.row.model.clone(), subset(run))).or_default();
        c.runs += 1;
        c.tp += tp;
        c.fp += fp;
        c.fn_ += fn_;
    }
    out
}

/// The per-subset table as Markdown, or `None` when no run stored segment counts.
pub fn markdown(runs: &[RunDetail]) -> Option<String> {
    let sums = by_subset(runs);
    if sums.is_empty() {
        return None;
    }
    let mut md = String::from(
        "## Overlap segments per subset (tp, fp, fn summed over the subset's runs)\n\n\
         | model | subset | runs | tp | fp | fn | precision | recall | F1 |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for ((model, subset), c) in &sums {
        let _ = writeln!(
            md,
            "| {model} | {subset} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            c.runs,
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    Some(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::RunStatus;
    use crate::store::{Metric, RunRow};
    use serde_json::Value;

    fn run(id: i64, signal: &str, (tp, fp, fn_): (f64, f64, f64)) -> RunDetail {
        let metric = |name: &str, value: f64| Metric {
            split: SplitName::Test,
            name: name.into(),
            value,
        };
        RunDetail {
            row: RunRow {
                id,
                key: format!("k{id}"),
                sweep: "s".into(),
                model: "tadgan".into(),
                seed: 0,
                fold: 0,
                status: RunStatus::Done,
                auc_roc: None,
                duration_s: None,
                error: None,
                best_epoch: None,
            },
            config_json: "{}".into(),
            dependencies: Vec::new(),
            params: vec![("dataset.signal".into(), Value::String(signal.into()))],
            metrics: vec![
                metric("segment_tp", tp),
                metric("segment_fp", fp),
                metric("segment_fn", fn_),
            ],
            artifacts: vec![],
        }
    }

    #[test]
    fn counts_are_summed_per_subset_before_the_f1() {
        let runs = [
            run(1, "realTweets/a.csv", (1.0, 0.0, 1.0)),
            run(2, "realTweets/b.csv", (2.0, 3.0, 0.0)),
            run(3, "realAdExchange/c.csv", (0.0, 1.0, 2.0)),
        ];
        let sums = by_subset(&runs);
        let tweets = sums[&("tadgan".to_string(), "realTweets".to_string())];
        assert_eq!(
            (tweets.runs, tweets.tp, tweets.fp, tweets.fn_),
            (2, 3.0, 3.0, 1.0)
        );
        // P = 3/6, R = 3/4: F1 = 2·0.5·0.75/1.25 = 0.6 (the mean of per-signal F1s is not).
        assert!((tweets.f1() - 0.6).abs() < 1e-12);
        let adex = sums[&("tadgan".to_string(), "realAdExchange".to_string())];
        assert_eq!(adex.f1(), 0.0);
        let md = markdown(&runs).unwrap();
        assert!(
            md.contains("| tadgan | realTweets | 2 | 3 | 3 | 1 | 0.500 | 0.750 | 0.600 |"),
            "{md}"
        );
    }
}
