//! Tables and figures from the store alone (no training): a sweep's results grouped over
//! seeds and folds, and the metric-vs-axis figure as PNG and SVG.

mod figure;

pub use figure::render_metric_vs_axis;

use crate::store::{RunDetail, Store};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Headline test metrics shown in tables, in column order.
pub const HEADLINE: [&str; 4] = ["auc_roc", "auc_pr", "best_f1", "f1"];
/// Axes that are repetitions, averaged over rather than shown as columns.
const REPEATS: [&str; 2] = ["seed", "fold"];

/// One group of runs that differ only in seed/fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group's value of each varying setting, in [`Summary::axes`] order.
    pub values: Vec<String>,
    pub n: usize,
    /// `(mean, sample std)` per metric in [`HEADLINE`] order; std is NaN for one run.
    pub stats: Vec<(f64, f64)>,
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
    let mut axes: Vec<String> = params
        .first()
        .map(|p| p.keys().map(|k| k.to_string()).collect())
        .unwrap_or_default();
    axes.retain(|k| {
        !REPEATS.contains(&k.as_str())
            && params
                .iter()
                .any(|p| p.get(k.as_str()) != params[0].get(k.as_str()))
    });
    let mut groups: BTreeMap<Vec<SortKey>, (Vec<String>, Vec<&RunDetail>)> = BTreeMap::new();
    for (run, p) in runs.iter().zip(&params) {
        let values: Vec<String> = axes
            .iter()
            .map(|a| p.get(a.as_str()).cloned().unwrap_or_default())
            .collect();
        let key = values.iter().map(|v| SortKey::of(v)).collect();
        groups
            .entry(key)
            .or_insert_with(|| (values, Vec::new()))
            .1
            .push(run);
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
                stats: HEADLINE
                    .iter()
                    .map(|m| mean_std(members.iter().filter_map(|r| test_metric(r, m))))
                    .collect(),
            })
            .collect(),
        protocols,
    }
}

fn test_metric(run: &RunDetail, name: &str) -> Option<f64> {
    run.metrics
        .iter()
        .find(|m| m.split == "test" && m.name == name)
        .map(|m| m.value)
}

/// Sorts numbers numerically and text alphabetically, numbers first.
#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Num(f64),
    Text(String),
}

impl SortKey {
    fn of(v: &str) -> SortKey {
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

fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// The summary as an aligned text table, `mean ± std` per metric.
pub fn format_table(summary: &Summary) -> String {
    let mut header: Vec<String> = summary
        .axes
        .iter()
        .map(|a| a.rsplit('.').next().unwrap_or(a).to_string())
        .collect();
    header.push("runs".into());
    header.extend(HEADLINE.iter().map(|m| format!("test {m}")));
    let rows: Vec<Vec<String>> = summary
        .groups
        .iter()
        .map(|g| {
            let mut row = g.values.clone();
            row.push(g.n.to_string());
            row.extend(g.stats.iter().map(|(m, s)| {
                if s.is_nan() {
                    format!("{m:.4}")
                } else {
                    format!("{m:.4} ± {s:.4}")
                }
            }));
            row
        })
        .collect();
    let mut out = text_table(&header, &rows);
    if !summary.protocols.is_empty() {
        out.push_str(&format!(
            "\n(protocol: {}; mean ± sample std over seeds and folds)",
            summary.protocols.join(", ")
        ));
    }
    out
}

/// Right-aligned columns under a header and a rule.
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// Renders a sweep's figures into `out_dir` and returns their paths.
pub fn render_sweep(store: &Store, sweep: &str, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let runs = store.sweep_details(sweep)?;
    let summary = summarise(&runs);
    render_metric_vs_axis(&summary, "auc_roc", sweep, out_dir)
}
