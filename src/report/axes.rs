//! Figures over the swept settings, from the seed/fold-pooled groups of a [`Summary`]:
//! a metric against a numeric setting (one line per value of another), metric heatmaps
//! over two numeric settings, and model × dataset bars.

use super::figure::{color, err, grid, num, padded, short, Draw, SANS};
use super::{Group, Summary};
use crate::config::sweep::HeadlineMetric;
use crate::store::RunDetail;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// At most this many panels per figure; a note says when more were left out.
pub(super) const MAX_PANELS: usize = 12;

/// `(x, mean, std)`; std is 0 for a single run.
type Point = (f64, f64, f64);
/// Named lines of points.
type Lines = Vec<(String, Vec<Point>)>;
/// `(row, column)` → `(mean, std, runs)`.
type Cells = BTreeMap<(usize, usize), (f64, f64, usize)>;

pub(super) struct Panel<T> {
    pub title: String,
    pub content: T,
}

/// Metric against a numeric setting, one line per value of another, one panel per
/// combination of the settings that vary besides those two.
pub(super) struct LinesFigure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<Panel<Lines>>,
    /// Where the legend goes: where the lines leave room.
    pub legend: SeriesLabelPosition,
}

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

fn distinct(summary: &Summary, axis: usize) -> usize {
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

/// The x axis: the configured setting, else the numeric swept setting with the most
/// values (the first of those on a tie). `None` when none varies numerically.
pub(super) fn choose_x(summary: &Summary, configured: Option<&str>) -> Option<usize> {
    if let Some(c) = configured {
        return summary
            .axes
            .iter()
            .position(|a| a == c)
            .filter(|&i| numeric(summary, i));
    }
    (0..summary.axes.len())
        .filter(|&i| numeric(summary, i))
        .max_by_key(|&i| (distinct(summary, i), std::cmp::Reverse(i)))
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

/// `w_adv=0.1, ndf=8`: the group's values of `axes` (settings it lacks left out).
fn label(summary: &Summary, group: &Group, axes: &[usize]) -> String {
    axes.iter()
        .filter(|&&i| !group.values[i].is_empty())
        .map(|&i| format!("{}={}", short(&summary.axes[i]), group.values[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups by their values of `axes`, in the summary's (sorted) order.
fn facets<'a>(summary: &'a Summary, axes: &[usize]) -> Vec<(String, Vec<&'a Group>)> {
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
            content.sort_by(|a, b| {
                super::SortKey::of(tail(&a.0)).cmp(&super::SortKey::of(tail(&b.0)))
            });
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

/// Distillation sweeps: the test metric against the compression ratio (teacher /
/// student generator parameters, stored per student run), one line per setting of the
/// other swept keys; the teachers sit at ratio 1. `None` when no run has a ratio.
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
                    .find(|x| x.split == "test" && x.name == "compression_ratio")
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
    // Lines differ in what varies among the students, apart from the width itself.
    let line_axes: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| !summary.axes[i].contains("student_"))
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
        let name = label(summary, g, &line_axes);
        by_line.entry(name).or_default().push(point(g, *r));
    }
    let teachers = summary.groups.iter().filter(|g| {
        ratio(g).is_none() && g.members.iter().all(|&i| runs[i].row.model == "beatgan")
    });
    for g in teachers {
        by_line
            .entry("teacher".into())
            .or_default()
            .push(point(g, 1.0));
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

/// The value after `=` in a line label.
fn tail(label: &str) -> &str {
    label.rsplit('=').next().unwrap_or(label)
}

fn metric_index(metric: HeadlineMetric) -> usize {
    HeadlineMetric::ALL
        .iter()
        .position(|&m| m == metric)
        .expect("ALL lists every metric")
}

impl Draw for LinesFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len().min(MAX_PANELS));
        if self.panels.len() == 1 {
            (900, 560)
        } else {
            (560 * cols as u32, 60 + 420 * rows as u32)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 20)).map_err(err)?;
        let shown = &self.panels[..self.panels.len().min(MAX_PANELS)];
        let all = shown
            .iter()
            .flat_map(|p| p.content.iter().flat_map(|(_, pts)| pts.iter()));
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, m, s) in all {
            (x0, x1) = (x0.min(x), x1.max(x));
            (y0, y1) = (y0.min(m - s), y1.max(m + s));
        }
        let xr = padded(x0, x1, 0.06, 0.5);
        let yr = padded(y0, y1, 0.1, 0.01);
        let (rows, cols) = grid(shown.len());
        for (panel, area) in shown.iter().zip(body.split_evenly((rows, cols))) {
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (SANS, 16))
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(xr.clone(), yr.clone())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| num(*v))
                .y_label_formatter(&|v| format!("{v:.3}"))
                .label_style((SANS, 14))
                .axis_desc_style((SANS, 15))
                .draw()
                .map_err(err)?;
            for (i, (name, pts)) in panel.content.iter().enumerate() {
                let c = color(i);
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|&(x, m, _)| (x, m)),
                        c.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&(x, m, s)| {
                        ErrorBar::new_vertical(x, m - s, m, m + s, c.stroke_width(2), 10)
                    }))
                    .map_err(err)?;
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&(x, m, _)| Circle::new((x, m), 4, c.filled())),
                    )
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .label_font((SANS, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Metric means over two numeric settings, one panel per combination of the others.
pub(super) struct HeatmapFigure {
    pub title: String,
    pub a_label: String,
    pub b_label: String,
    /// Row (a) and column (b) values, sorted.
    pub a_values: Vec<String>,
    pub b_values: Vec<String>,
    pub panels: Vec<Panel<Cells>>,
    pub range: (f64, f64),
}

pub(super) fn heatmap_figure(
    summary: &Summary,
    metric: HeadlineMetric,
    a: usize,
    b: usize,
    sweep: &str,
) -> HeatmapFigure {
    let m = metric_index(metric);
    let has = |g: &Group| !g.values[a].is_empty() && !g.values[b].is_empty();
    let values = |axis: usize| {
        let mut v: Vec<String> = summary
            .groups
            .iter()
            .filter(|g| has(g))
            .map(|g| g.values[axis].clone())
            .collect();
        v.sort_by(|x, y| super::SortKey::of(x).cmp(&super::SortKey::of(y)));
        v.dedup();
        v
    };
    let (a_values, b_values) = (values(a), values(b));
    let rest: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| i != a && i != b)
        .collect();
    let mut range = (f64::MAX, f64::MIN);
    let panels = facets(summary, &rest)
        .into_iter()
        .filter(|(_, groups)| groups.iter().any(|g| has(g)))
        .map(|(title, groups)| {
            let mut cells = BTreeMap::new();
            for g in groups.into_iter().filter(|g| has(g)) {
                let ia = a_values
                    .iter()
                    .position(|v| *v == g.values[a])
                    .expect("listed");
                let ib = b_values
                    .iter()
                    .position(|v| *v == g.values[b])
                    .expect("listed");
                let (mean, std) = g.stats[m];
                range = (range.0.min(mean), range.1.max(mean));
                cells.insert((ia, ib), (mean, std, g.n));
            }
            Panel {
                title,
                content: cells,
            }
        })
        .collect();
    HeatmapFigure {
        title: format!(
            "{sweep}: test {} over {} × {} (mean ± std over seeds/folds)",
            metric.label(),
            short(&summary.axes[a]),
            short(&summary.axes[b])
        ),
        a_label: summary.axes[a].clone(),
        b_label: summary.axes[b].clone(),
        a_values,
        b_values,
        panels,
        range,
    }
}

/// Viridis, by linear interpolation between five of its colours.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Draw for HeatmapFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len().min(MAX_PANELS));
        let w = (140 + 90 * self.b_values.len() as u32).max(420);
        let h = (120 + 56 * self.a_values.len() as u32).max(320);
        (w * cols as u32, 50 + h * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 18)).map_err(err)?;
        let shown = &self.panels[..self.panels.len().min(MAX_PANELS)];
        let (lo, hi) = self.range;
        let span = if hi > lo { hi - lo } else { 1.0 };
        let (na, nb) = (self.a_values.len(), self.b_values.len());
        let (rows, cols) = grid(shown.len());
        for (panel, area) in shown.iter().zip(body.split_evenly((rows, cols))) {
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (SANS, 15))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..nb as f64, 0f64..na as f64)
                .map_err(err)?;
            let b_values = &self.b_values;
            let a_values = &self.a_values;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(&self.b_label)
                .y_desc(&self.a_label)
                .x_labels(nb * 2 + 1)
                .y_labels(na * 2 + 1)
                .x_label_formatter(&|v| cell_label(*v, b_values))
                .y_label_formatter(&|v| cell_label(*v, a_values))
                .label_style((SANS, 14))
                .axis_desc_style((SANS, 15))
                .draw()
                .map_err(err)?;
            for (&(ia, ib), &(mean, std, n)) in &panel.content {
                let t = (mean - lo) / span;
                let fill = viridis(t);
                let (x, y) = (ib as f64, ia as f64);
                chart
                    .draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], fill.filled())])
                    .map_err(err)?;
                // Dark text on the light (yellow-green) end of the scale.
                let ink = if t > 0.6 { BLACK } else { WHITE };
                // Metrics lie in [0, 1]: four decimals for both, as in the tables.
                let text = if n > 1 && std.is_finite() {
                    vec![format!("{mean:.4}"), format!("± {std:.4}")]
                } else {
                    vec![format!("{mean:.4}")]
                };
                let lines = text.len() as f64;
                for (k, line) in text.iter().enumerate() {
                    let dy = 0.5 + (lines - 1.0) * 0.12 - k as f64 * 0.24;
                    chart
                        .draw_series([Text::new(
                            line.clone(),
                            (x + 0.5, y + dy),
                            (SANS, 14)
                                .into_font()
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        )])
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    }
}

/// The category at a cell's centre; no label at cell edges.
fn cell_label(v: f64, values: &[String]) -> String {
    let centre = v - v.floor();
    if (centre - 0.5).abs() < 1e-6 {
        values.get(v.floor() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Bars of AUC-ROC, AP and best F1 for each model (colour) on each dataset (x).
pub(super) struct BarsFigure {
    pub title: String,
    pub datasets: Vec<String>,
    pub models: Vec<String>,
    /// `bars[(dataset, model)]` = the chosen group's `(mean, std)` per [`BAR_METRICS`].
    pub bars: BTreeMap<(usize, usize), Vec<(f64, f64)>>,
}

pub(super) const BAR_METRICS: [HeadlineMetric; 3] = [
    HeadlineMetric::AucRoc,
    HeadlineMetric::AucPr,
    HeadlineMetric::BestF1,
];

impl Draw for BarsFigure {
    fn size(&self) -> (u32, u32) {
        let per = (120 + 60 * self.datasets.len() * self.models.len()).max(340) as u32;
        (per * BAR_METRICS.len() as u32, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 18)).map_err(err)?;
        let nm = self.models.len() as f64;
        let width = 0.8 / nm;
        let datasets = &self.datasets;
        for (k, area) in body.split_evenly((1, BAR_METRICS.len())).iter().enumerate() {
            let mut chart = ChartBuilder::on(area)
                .caption(BAR_METRICS[k].label(), (SANS, 16))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..datasets.len() as f64, 0f64..1.05)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc("dataset")
                .y_desc(format!("test {}", BAR_METRICS[k].as_str()))
                .x_labels(datasets.len() * 2 + 1)
                .x_label_formatter(&|v| cell_label(*v, datasets))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .label_style((SANS, 14))
                .axis_desc_style((SANS, 15))
                .draw()
                .map_err(err)?;
            for (im, model) in self.models.iter().enumerate() {
                let c = color(im);
                let bars: Vec<(f64, f64, f64)> = (0..datasets.len())
                    .filter_map(|id| {
                        self.bars.get(&(id, im)).map(|stats| {
                            let x = id as f64 + 0.1 + width * im as f64;
                            (x, stats[k].0, stats[k].1)
                        })
                    })
                    .collect();
                chart
                    .draw_series(bars.iter().map(|&(x, m, _)| {
                        Rectangle::new([(x, 0.0), (x + width * 0.92, m)], c.filled())
                    }))
                    .map_err(err)?
                    .label(model.as_str())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled())
                    });
                chart
                    .draw_series(bars.iter().filter(|b| b.2.is_finite()).map(|&(x, m, s)| {
                        let xc = x + width * 0.46;
                        ErrorBar::new_vertical(xc, m - s, m, m + s, BLACK.stroke_width(2), 8)
                    }))
                    .map_err(err)?;
                chart
                    .draw_series(bars.iter().map(|&(x, m, _)| {
                        // Inside the bar's foot, clear of the error bar at its top.
                        Text::new(
                            num(m),
                            (x + width * 0.46, 0.03),
                            (SANS, 13)
                                .into_font()
                                .color(&WHITE)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                    }))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font((SANS, 14))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
