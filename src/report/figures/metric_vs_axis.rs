//! The headline metric against a numeric swept setting, one line per value of another
//! (the model when it varies), one panel per combination of the rest.

use super::{Context, Drawn};
use crate::config::sweep::HeadlineMetric;
use crate::report::axes::{distinct, facets, label, metric_index, numeric};
use crate::report::figure::{self, short};
use crate::report::lines::{tail, Lines, LinesFigure, Panel, Point, MAX_PANELS};
use crate::report::summary::{SortKey, Summary};
use anyhow::Result;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// The x axis candidates, best first: the configured setting, else the numeric swept
/// settings by how many values they have (the first of those on a tie). Empty when none
/// varies numerically.
pub(super) fn x_candidates(summary: &Summary, configured: Option<&str>) -> Vec<usize> {
    if let Some(c) = configured {
        return summary
            .axes
            .iter()
            .position(|a| a == c)
            .filter(|&i| numeric(summary, i))
            .into_iter()
            .collect();
    }
    let mut candidates: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| numeric(summary, i))
        .collect();
    candidates.sort_by_key(|&i| (std::cmp::Reverse(distinct(summary, i)), i));
    candidates
}

/// The line axis: the configured setting, else the model when it varies, else the first
/// other swept setting.
pub(super) fn choose_lines(
    summary: &Summary,
    configured: Option<&str>,
    exclude: &[usize],
) -> Option<usize> {
    let free = |i: &usize| !exclude.contains(i);
    configured
        .and_then(|c| summary.axes.iter().position(|a| a == c))
        .filter(free)
        .or_else(|| {
            summary
                .axes
                .iter()
                .position(|a| a == "model.name")
                .filter(free)
        })
        .or_else(|| (0..summary.axes.len()).find(free))
}

pub(super) fn lines_figure(
    summary: &Summary,
    metric: HeadlineMetric,
    x: usize,
    lines: Option<usize>,
    sweep: &str,
) -> LinesFigure {
    let m = metric_index(metric);
    let rest: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| i != x && Some(i) != lines)
        .collect();
    let panels = facets(summary, &rest)
        .into_iter()
        .filter(|(_, groups)| groups.iter().any(|g| !g.values[x].is_empty()))
        .map(|(title, groups)| {
            let mut by_line: BTreeMap<String, Vec<Point>> = BTreeMap::new();
            for g in groups.into_iter().filter(|g| !g.values[x].is_empty()) {
                let name =
                    lines.map_or_else(|| "all runs".to_string(), |l| label(summary, g, &[l]));
                let (mean, std) = g.stats[m];
                let xv: f64 = g.values[x].parse().expect("x is a numeric setting");
                by_line.entry(name).or_default().push((
                    xv,
                    mean,
                    if std.is_nan() { 0.0 } else { std },
                ));
            }
            let mut content: Lines = by_line.into_iter().collect();
            // Numeric line values in numeric order (`w_adv=10` after `w_adv=2`).
            content.sort_by(|a, b| SortKey::of(tail(&a.0)).cmp(&SortKey::of(tail(&b.0))));
            for (_, points) in &mut content {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            Panel { title, content }
        })
        .collect();
    LinesFigure {
        title: format!(
            "{sweep}: test {} vs {} (mean ± std over seeds/folds)",
            metric.label(),
            short(&summary.axes[x])
        ),
        x_label: summary.axes[x].clone(),
        y_label: format!("test {}", metric.label()),
        panels,
        legend: SeriesLabelPosition::LowerRight,
    }
}

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        sweep,
        out_dir,
        spec,
        runs: _,
        summary,
        ..
    } = ctx;
    let metric = spec.metric;
    // Metric against a swept setting: the first candidate along which some line has two
    // points. A setting that only differs between models, or moves with another (ndf
    // with ngf), gives panels of single points: nothing to read along it.
    let candidates = x_candidates(summary, spec.x.as_deref());
    if candidates.is_empty() {
        out.notes.push(match &spec.x {
            Some(x) => format!(
                "report.x = {x} is not a numeric setting that varied: no metric-vs-axis figure"
            ),
            None => "no numeric setting varied: no metric-vs-axis figure".into(),
        });
        return Ok(());
    }
    if let Some(l) = &spec.lines {
        if !summary.axes.contains(l) {
            out.notes.push(format!(
                "report.lines = {l} did not vary in this sweep's finished runs; lines inferred"
            ));
        }
    }
    let drawable = candidates.iter().find_map(|&x| {
        let lines = choose_lines(summary, spec.lines.as_deref(), &[x]);
        let fig = lines_figure(summary, metric, x, lines, sweep);
        let along_x = fig
            .panels
            .iter()
            .any(|p| p.content.iter().any(|(_, points)| points.len() > 1));
        along_x.then_some((x, lines, fig))
    });
    let Some((x, lines, fig)) = drawable else {
        let names: Vec<&str> = candidates
            .iter()
            .map(|&x| figure::short(&summary.axes[x]))
            .collect();
        out.notes.push(format!(
            "no metric-vs-axis figure: no line has two values of {} with everything else fixed",
            names.join(" or ")
        ));
        return Ok(());
    };
    if fig.panels.len() > MAX_PANELS {
        out.notes.push(format!(
            "{} vs {}: {} panels, the first {} drawn",
            metric.as_str(),
            figure::short(&summary.axes[x]),
            fig.panels.len(),
            MAX_PANELS
        ));
    }
    let stem = format!("{}_vs_{}", metric.as_str(), figure::short(&summary.axes[x]));
    let caption = format!(
        "Test {} against `{}`{}{}; mean ± sample std over seeds and folds (error bars).",
        metric.label(),
        summary.axes[x],
        lines.map_or(String::new(), |l| format!(
            ", one line per `{}`",
            summary.axes[l]
        )),
        if fig.panels.len() > 1 {
            ", one panel per combination of the other swept settings"
        } else {
            ""
        }
    );
    out.add(figure::save(out_dir, &stem, &fig)?, caption);
    Ok(())
}
