//! The headline metric over two numeric settings (configured, or the two with the most
//! values), annotated, one heatmap per combination of the other settings.

use super::{Context, Drawn};
use crate::config::sweep::HeadlineMetric;
use crate::report::axes::{cell_label, distinct, facets, metric_index, numeric};
use crate::report::figure::{self, err, grid, short, Draw, SANS};
use crate::report::lines::{Panel, MAX_PANELS};
use crate::report::summary::{Group, SortKey, Summary};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// The default heatmap: the two numeric swept settings with the most values, when both
/// have at least three (a 2 × 2 grid reads better as lines); `None` otherwise.
/// `(row, column)` → `(mean, std, runs)`.
type Cells = BTreeMap<(usize, usize), (f64, f64, usize)>;

/// The default heatmap, learnt from what varies: the two numeric swept settings with the
/// most values (the first of those on a tie), in the summary's order; `None` when fewer
/// than two numeric settings vary.
fn default_heatmap(summary: &Summary) -> Option<[String; 2]> {
    let mut numeric_axes: Vec<usize> = (0..summary.axes.len())
        .filter(|&i| numeric(summary, i))
        .collect();
    numeric_axes.sort_by_key(|&i| (std::cmp::Reverse(distinct(summary, i)), i));
    match numeric_axes[..] {
        [a, b, ..] => {
            let (a, b) = (a.min(b), a.max(b));
            Some([summary.axes[a].clone(), summary.axes[b].clone()])
        }
        _ => None,
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
        v.sort_by(|x, y| SortKey::of(x).cmp(&SortKey::of(y)));
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

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        sweep,
        out_dir,
        spec,
        summary,
        ..
    } = ctx;
    let metric = spec.metric;
    // Heatmaps over two numeric settings.
    let pair = spec.heatmap.clone().or_else(|| default_heatmap(summary));
    if let Some([a, b]) = pair {
        let index = |k: &str| {
            summary
                .axes
                .iter()
                .position(|x| x == k)
                .filter(|&i| numeric(summary, i))
        };
        match (index(&a), index(&b)) {
            (Some(ia), Some(ib)) if ia != ib => {
                let fig = heatmap_figure(summary, metric, ia, ib, sweep);
                // A grid needs a row or a column with two cells in some panel; settings
                // that move together fill only a diagonal.
                let crossed = fig.panels.iter().any(|p| {
                    let cells: Vec<&(usize, usize)> = p.content.keys().collect();
                    cells
                        .iter()
                        .any(|(r, c)| cells.iter().any(|(r2, c2)| (r == r2) != (c == c2)))
                });
                if !crossed {
                    out.notes.push(format!(
                        "no heatmap over {} × {}: in no panel do they vary independently",
                        figure::short(&a),
                        figure::short(&b)
                    ));
                    return Ok(());
                }
                let stem = format!(
                    "heatmap_{}_{}_{}",
                    metric.as_str(),
                    figure::short(&a),
                    figure::short(&b)
                );
                let caption = format!(
                    "Test {} (mean ± std over seeds and folds, annotated) over `{a}` (rows) × `{b}` (columns){}.",
                    metric.label(),
                    if fig.panels.len() > 1 { ", one heatmap per combination of the other swept settings" } else { "" }
                );
                out.add(figure::save(out_dir, &stem, &fig)?, caption);
            }
            _ => out.notes.push(format!(
                "heatmap over {a} × {b}: both must be distinct numeric settings that varied"
            )),
        }
    }
    Ok(())
}
