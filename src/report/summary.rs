//! A sweep's done runs grouped over seeds and folds: the table every report, figure and
//! the CLI's results table are made from. Reads stored runs only; draws nothing.

use crate::config::sweep::HeadlineMetric;
use crate::kinds::SplitName;
use crate::metrics::intervals::{t_interval, Interval};
use crate::store::RunDetail;
use std::collections::BTreeMap;

/// Axes that are repetitions, averaged over rather than shown as columns.
const REPEATS: [&str; 2] = ["seed", "fold"];

/// One group of runs that differ only in seed/fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group's value of each varying setting, in [`Summary::axes`] order.
    pub values: Vec<String>,
    pub n: usize,
    /// `(mean, sample std)` per metric in [`HeadlineMetric::ALL`] order; std is NaN for
    /// one run.
    pub stats: Vec<(f64, f64)>,
    /// Indices of the group's runs in the slice given to [`summarise`].
    pub members: Vec<usize>,
    /// The 95% interval of the group's test AUC-ROC.
    pub auc_roc_ci: MeanInterval,
}

/// A 95% interval for a group's mean: Student t over three or more runs; for one run,
/// its own bootstrap interval over the test windows; two runs are too few for either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeanInterval {
    T(Interval),
    Bootstrap(Interval),
    TooFew(usize),
    /// No run of the group has the metric.
    None,
}

impl std::fmt::Display for MeanInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            MeanInterval::T(i) => write!(f, "[{:.4}, {:.4}]", i.lo, i.hi),
            MeanInterval::Bootstrap(i) => write!(f, "[{:.4}, {:.4}] (bootstrap)", i.lo, i.hi),
            MeanInterval::TooFew(n) => write!(f, "n = {n} < 3"),
            MeanInterval::None => write!(f, "-"),
        }
    }
}

impl MeanInterval {
    fn of(runs: &[RunDetail], members: &[usize]) -> MeanInterval {
        let values: Vec<f64> = members
            .iter()
            .filter_map(|&r| test_metric(&runs[r], "auc_roc"))
            .collect();
        match values.len() {
            0 => MeanInterval::None,
            1 => {
                let run = &runs[members[0]];
                match (
                    test_metric(run, "auc_roc_lo"),
                    test_metric(run, "auc_roc_hi"),
                ) {
                    (Some(lo), Some(hi)) => MeanInterval::Bootstrap(Interval { lo, hi }),
                    _ => MeanInterval::TooFew(1),
                }
            }
            n => t_interval(&values).map_or(MeanInterval::TooFew(n), MeanInterval::T),
        }
    }
}

impl Group {
    /// The group as table cells: its settings, its run count, `mean ± std` of each
    /// headline metric, and the AUC-ROC interval.
    pub fn cells(&self) -> Vec<String> {
        let mut row = self.values.clone();
        row.push(self.n.to_string());
        row.extend(self.stats.iter().map(|(m, s)| {
            if s.is_nan() {
                format!("{m:.4}")
            } else {
                format!("{m:.4} ± {s:.4}")
            }
        }));
        row.push(self.auc_roc_ci.to_string());
        row
    }
}

/// A sweep's done runs grouped by every varying setting except seed and fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub axes: Vec<String>,
    pub groups: Vec<Group>,
    pub protocols: Vec<String>,
}

/// Groups runs by the settings that vary among them (seeds and folds pooled).
pub fn summarise(runs: &[RunDetail]) -> Summary {
    let params: Vec<BTreeMap<&str, String>> = runs
        .iter()
        .map(|r| {
            r.params
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_string().trim_matches('"').to_string()))
                .collect()
        })
        .collect();
    // Every key any run has: runs of different models have different keys.
    let mut axes: Vec<String> = params
        .iter()
        .flat_map(|p| p.keys().map(|k| k.to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // A setting varies when the runs that have it disagree on it; keys only some runs
    // have (a distillation student's `model.alpha`) but that never vary are no axes.
    axes.retain(|k| {
        let mut values: Vec<&String> = params.iter().filter_map(|p| p.get(k.as_str())).collect();
        values.sort_unstable();
        values.dedup();
        !REPEATS.contains(&k.as_str()) && values.len() > 1
    });
    let mut groups: BTreeMap<Vec<SortKey>, (Vec<String>, Vec<usize>)> = BTreeMap::new();
    for (i, p) in params.iter().enumerate() {
        let values: Vec<String> = axes
            .iter()
            .map(|a| p.get(a.as_str()).cloned().unwrap_or_default())
            .collect();
        let key = values.iter().map(|v| SortKey::of(v)).collect();
        groups
            .entry(key)
            .or_insert_with(|| (values, Vec::new()))
            .1
            .push(i);
    }
    let mut protocols: Vec<String> = runs
        .iter()
        .flat_map(|r| r.params.iter())
        .filter(|(k, _)| k == "eval.protocol")
        .map(|(_, v)| v.as_str().unwrap_or_default().to_string())
        .collect();
    protocols.sort();
    protocols.dedup();
    Summary {
        axes,
        groups: groups
            .into_values()
            .map(|(values, members)| Group {
                values,
                n: members.len(),
                stats: HeadlineMetric::ALL
                    .iter()
                    .map(|m| {
                        mean_std(
                            members
                                .iter()
                                .filter_map(|&r| test_metric(&runs[r], m.as_str())),
                        )
                    })
                    .collect(),
                auc_roc_ci: MeanInterval::of(runs, &members),
                members,
            })
            .collect(),
        protocols,
    }
}

pub(super) fn test_metric(run: &RunDetail, name: &str) -> Option<f64> {
    run.metrics
        .iter()
        .find(|m| m.split == SplitName::Test && m.name == name)
        .map(|m| m.value)
}

/// Sorts numbers numerically and text alphabetically, numbers first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortKey {
    Num(f64),
    Text(String),
}

impl SortKey {
    pub(super) fn of(v: &str) -> SortKey {
        v.parse()
            .map_or_else(|_| SortKey::Text(v.to_string()), SortKey::Num)
    }
}

impl Eq for SortKey {}
impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Greater, Less};
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(_), SortKey::Text(_)) => Less,
            (SortKey::Text(_), SortKey::Num(_)) => Greater,
        }
    }
}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

pub(super) fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = if v.len() > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    (mean, std)
}

/// The `dataset.name` of a run.
pub(super) fn dataset_of(run: &RunDetail) -> String {
    run.params
        .iter()
        .find(|(k, _)| k == "dataset.name")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("?")
        .to_string()
}
