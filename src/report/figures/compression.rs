//! Runs that store a compression ratio (distilled students): the headline metric against
//! it, with the runs they depend on at ratio 1.

use super::{Context, Drawn};
use crate::config::sweep::HeadlineMetric;
use crate::kinds::SplitName;
use crate::report::axes::{label, metric_index};
use crate::report::figure::{self};
use crate::report::lines::{Lines, LinesFigure, Panel, Point};
use crate::report::summary::{Group, Summary};
use crate::store::RunDetail;
use anyhow::Result;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Runs that store a `compression_ratio` (distilled students: teacher / student
/// generator parameters): the test metric against it, one line per setting of the other
/// swept keys that do not set the ratio; the runs they depend on (their teachers) sit at
/// ratio 1. `None` when no run has a ratio.
pub(super) fn compression_figure(
    summary: &Summary,
    runs: &[RunDetail],
    metric: HeadlineMetric,
    sweep: &str,
) -> Option<LinesFigure> {
    let m = metric_index(metric);
    let ratio = |g: &Group| -> Option<f64> {
        let values: Vec<f64> = g
            .members
            .iter()
            .filter_map(|&i| {
                runs[i]
                    .metrics
                    .iter()
                    .find(|x| x.split == SplitName::Test && x.name == "compression_ratio")
                    .map(|x| x.value)
            })
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let students: Vec<(&Group, f64)> = summary
        .groups
        .iter()
        .filter_map(|g| ratio(g).map(|r| (g, r)))
        .collect();
    if students.is_empty() {
        return None;
    }
    // Lines differ in what varies among the compressed runs, apart from the settings
    // that set the ratio (the x axis itself): those whose value alone fixes the ratio.
    let sets_ratio = |i: usize| {
        let mut by_value: BTreeMap<&str, f64> = BTreeMap::new();
        let consistent = students.iter().all(|(g, r)| {
            let first = *by_value.entry(g.values[i].as_str()).or_insert(*r);
            (first - r).abs() <= 1e-9 * r.abs()
        });
        let ratios: Vec<f64> = by_value.values().copied().collect();
        consistent
            && ratios
                .windows(2)
                .any(|w| (w[0] - w[1]).abs() > 1e-9 * w[0].abs())
    };
    let line_axes: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| !sets_ratio(i))
        .filter(|&i| {
            let mut v: Vec<&str> = students.iter().map(|(g, _)| g.values[i].as_str()).collect();
            v.sort_unstable();
            v.dedup();
            v.len() > 1
        })
        .collect();
    let mut by_line: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let point = |g: &Group, x: f64| {
        let (mean, std) = g.stats[m];
        (x, mean, if std.is_nan() { 0.0 } else { std })
    };
    for (g, r) in &students {
        let name = match label(summary, g, &line_axes) {
            name if name.is_empty() => "students".to_string(),
            name => name,
        };
        by_line.entry(name).or_default().push(point(g, *r));
    }
    // The runs the compressed ones depend on, by key, named by their role (`teacher`).
    let needed: BTreeMap<&str, &str> = students
        .iter()
        .flat_map(|(g, _)| &g.members)
        .flat_map(|&i| &runs[i].dependencies)
        .map(|(role, key)| (key.as_str(), role.as_str()))
        .collect();
    for g in summary.groups.iter().filter(|g| ratio(g).is_none()) {
        let roles: Vec<&str> = g
            .members
            .iter()
            .filter_map(|&i| needed.get(runs[i].row.key.as_str()).copied())
            .collect();
        if roles.len() == g.members.len() {
            by_line
                .entry(roles[0].to_string())
                .or_default()
                .push(point(g, 1.0));
        }
    }
    let mut content: Lines = by_line.into_iter().collect();
    for (_, points) in &mut content {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Some(LinesFigure {
        title: format!(
            "{sweep}: test {} vs compression (mean ± std over seeds/folds)",
            metric.label()
        ),
        x_label: "compression ratio (teacher / student generator parameters)".into(),
        y_label: format!("test {}", metric.label()),
        panels: vec![Panel {
            title: String::new(),
            content,
        }],
        // The teacher sits top left and students lose AUC as they shrink (lines run
        // down to the right): the lower left stays free.
        legend: SeriesLabelPosition::LowerLeft,
    })
}

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        sweep,
        out_dir,
        spec,
        runs,
        summary,
        ..
    } = ctx;
    let metric = spec.metric;
    // Distillation: the metric against the compression ratio.
    if let Some(fig) = compression_figure(summary, runs, metric, sweep) {
        let stem = format!("{}_vs_compression", metric.as_str());
        let caption = format!(
            "Test {} of distilled students against their compression ratio (teacher / student generator parameters), one line per setting of the other swept keys; teachers at ratio 1; mean ± std over seeds and folds.",
            metric.label()
        );
        out.add(figure::save(out_dir, &stem, &fig)?, caption);
    }
    Ok(())
}
