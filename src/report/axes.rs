//! Helpers over the swept settings of a [`Summary`] shared by the figure kinds: which
//! settings are numeric, how many values they take, group labels and facets.

use super::figure::short;
use super::summary::{Group, Summary};
use crate::config::sweep::HeadlineMetric;

/// Every group that has the setting has a number there, and at least one has it. Groups
/// without it (a distillation sweep's teacher runs have no `model.alpha`) are left out of
/// the figures over that setting.
pub(super) fn numeric(summary: &Summary, axis: usize) -> bool {
    let present: Vec<&str> = summary
        .groups
        .iter()
        .map(|g| g.values[axis].as_str())
        .filter(|v| !v.is_empty())
        .collect();
    !present.is_empty() && present.iter().all(|v| v.parse::<f64>().is_ok())
}

pub(super) fn distinct(summary: &Summary, axis: usize) -> usize {
    let mut v: Vec<&str> = summary
        .groups
        .iter()
        .map(|g| g.values[axis].as_str())
        .filter(|v| !v.is_empty())
        .collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

/// `w_adv=0.1, ndf=8`: the group's values of `axes` (settings it lacks left out).
pub(super) fn label(summary: &Summary, group: &Group, axes: &[usize]) -> String {
    axes.iter()
        .filter(|&&i| !group.values[i].is_empty())
        .map(|&i| format!("{}={}", short(&summary.axes[i]), group.values[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups by their values of `axes`, in the summary's (sorted) order.
pub(super) fn facets<'a>(summary: &'a Summary, axes: &[usize]) -> Vec<(String, Vec<&'a Group>)> {
    let mut out: Vec<(String, Vec<&Group>)> = Vec::new();
    for g in &summary.groups {
        let name = label(summary, g, axes);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, members)) => members.push(g),
            None => out.push((name, vec![g])),
        }
    }
    out
}

pub(super) fn metric_index(metric: HeadlineMetric) -> usize {
    HeadlineMetric::ALL
        .iter()
        .position(|&m| m == metric)
        .expect("ALL lists every metric")
}

/// The category at a cell's centre; no label at cell edges.
pub(super) fn cell_label(v: f64, values: &[String]) -> String {
    let centre = v - v.floor();
    if (centre - 0.5).abs() < 1e-6 {
        values.get(v.floor() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}
