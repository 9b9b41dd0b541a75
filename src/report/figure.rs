//! Metric vs a swept axis, one line per combination of the other swept settings,
//! mean ± std over seeds/folds as error bars. PNG and SVG from the same drawing code.

use super::{Summary, HEADLINE};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: Once = Once::new();

/// plotters is built without system font support; the embedded DejaVu Sans is
/// registered once as the "sans-serif" family.
fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
            eprintln!("warning: the embedded font could not be registered; figures will lack text");
        }
    });
}

type Line = (String, Vec<(f64, f64, f64)>);

/// Writes `<metric>_vs_<axis>.png|svg` into `out_dir`; returns no paths when no
/// numeric setting varied in the sweep.
pub fn render_metric_vs_axis(
    summary: &Summary,
    metric: &str,
    sweep: &str,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let metric_index = HEADLINE
        .iter()
        .position(|m| *m == metric)
        .ok_or_else(|| anyhow!("no figure for metric `{metric}`; choose one of {HEADLINE:?}"))?;
    let numeric = |i: usize| {
        summary
            .groups
            .iter()
            .all(|g| g.values[i].parse::<f64>().is_ok())
    };
    let x_axis = summary
        .axes
        .iter()
        .position(|a| a == "model.nz")
        .filter(|&i| numeric(i))
        .or_else(|| (0..summary.axes.len()).find(|&i| numeric(i)));
    let Some(x_axis) = x_axis else {
        return Ok(Vec::new());
    };

    let mut lines: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for g in &summary.groups {
        let name: Vec<String> = summary
            .axes
            .iter()
            .zip(&g.values)
            .enumerate()
            .filter(|(i, _)| *i != x_axis)
            .map(|(_, (a, v))| format!("{}={v}", a.rsplit('.').next().unwrap_or(a)))
            .collect();
        let (mean, std) = g.stats[metric_index];
        let x: f64 = g.values[x_axis].parse().expect("checked numeric");
        lines
            .entry(if name.is_empty() {
                "all".into()
            } else {
                name.join(", ")
            })
            .or_default()
            .push((x, mean, if std.is_nan() { 0.0 } else { std }));
    }
    let lines: Vec<Line> = lines.into_iter().collect();
    let x_name = summary.axes[x_axis]
        .rsplit('.')
        .next()
        .unwrap_or("x")
        .to_string();

    std::fs::create_dir_all(out_dir)?;
    register_font();
    let stem = out_dir.join(format!("{metric}_vs_{x_name}"));
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let title = format!("{sweep}: test {metric} vs {x_name} (mean ± std over seeds/folds)");
    let labels = (x_name.as_str(), metric);
    draw(
        BitMapBackend::new(&png, (900, 560)).into_drawing_area(),
        &title,
        labels,
        &lines,
    )?;
    draw(
        SVGBackend::new(&svg, (900, 560)).into_drawing_area(),
        &title,
        labels,
        &lines,
    )?;
    Ok(vec![png, svg])
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    (x_name, metric): (&str, &str),
    lines: &[Line],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the figure: {e}");
    let points = lines.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, m, s) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(m - s);
        y1 = y1.max(m + s);
    }
    let x_pad = ((x1 - x0) * 0.06).max(0.5);
    let y_pad = ((y1 - y0) * 0.1).max(0.01);
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 - x_pad)..(x1 + x_pad), (y0 - y_pad)..(y1 + y_pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_name)
        .y_desc(format!("test {metric}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mut pts = pts.clone();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|&(x, m, _)| (x, m)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&(x, m, s)| {
                ErrorBar::new_vertical(x, m - s, m, m + s, color.stroke_width(2), 10)
            }))
            .map_err(err)?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, m, _)| Circle::new((x, m), 4, color.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
