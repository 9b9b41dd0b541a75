//! Per-class histograms of a chosen run's test scores, on the scale its threshold is on.

use super::{Context, Drawn};
use crate::config::Protocol;
use crate::metrics;
use crate::report::figure::{self, color, err, num, Draw, SANS};
use crate::report::summary::test_metric;
use crate::store::RunDetail;
use crate::store::ScoreSet;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Classes with fewer test windows are left out of histograms: a share per bin of two
/// windows is noise that would set the y scale.
pub(super) const MIN_CLASS_WINDOWS: usize = 10;

/// Score histograms of one run's test windows per class, with its threshold.
pub(super) struct HistogramFigure {
    pub title: String,
    pub x_label: String,
    /// `(class, windows, share of the class per bin)`; normal first.
    pub classes: Vec<(String, usize, Vec<f64>)>,
    /// Left edges of equal bins, and the bin width.
    pub edges: (f64, f64),
    pub bins: usize,
    pub threshold: Option<f64>,
    /// `(class, windows)` left out for having fewer than [`MIN_CLASS_WINDOWS`].
    pub left_out: Vec<(String, usize)>,
}

/// Bins of equal width over [lo, hi]; values above `hi` go into the last bin (the caption
/// says so), so that a few extreme scores do not squeeze the rest into one bin.
pub(super) fn histogram(
    title: String,
    x_label: String,
    labels: &[bool],
    classes: &[String],
    scores: &[f64],
    threshold: Option<f64>,
) -> HistogramFigure {
    const BINS: usize = 60;
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let lo = sorted.first().copied().unwrap_or(0.0);
    let q = sorted[((sorted.len() as f64 - 1.0) * 0.995).round() as usize];
    let hi = threshold.map_or(q, |t| q.max(t * 1.05)).max(lo + 1e-12);
    let width = (hi - lo) / BINS as f64;
    // Normal windows first, then anomaly classes alphabetically; an unnamed class is named
    // by its label.
    let name = |i: usize| match classes.get(i) {
        Some(c) if !c.is_empty() => c.clone(),
        _ if labels[i] => "anomalous".to_string(),
        _ => "normal".to_string(),
    };
    let mut names: Vec<(bool, String)> = (0..scores.len()).map(|i| (labels[i], name(i))).collect();
    names.sort();
    names.dedup();
    let mut left_out = Vec::new();
    let classes_out = names
        .into_iter()
        .filter_map(|(anomalous, class)| {
            let mut counts = vec![0usize; BINS];
            let mut n = 0;
            for i in 0..scores.len() {
                if labels[i] == anomalous && name(i) == class {
                    let b = (((scores[i] - lo) / width) as usize).min(BINS - 1);
                    counts[b] += 1;
                    n += 1;
                }
            }
            if n < MIN_CLASS_WINDOWS {
                left_out.push((class, n));
                return None;
            }
            let label = if anomalous {
                class
            } else {
                format!("{class}, normal")
            };
            Some((
                label,
                n,
                counts.iter().map(|&c| c as f64 / n as f64).collect(),
            ))
        })
        .collect();
    HistogramFigure {
        title,
        x_label,
        classes: classes_out,
        edges: (lo, width),
        bins: BINS,
        threshold,
        left_out,
    }
}

impl Draw for HistogramFigure {
    fn size(&self) -> (u32, u32) {
        (960, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let (lo, width) = self.edges;
        let hi = lo + width * self.bins as f64;
        let top = self
            .classes
            .iter()
            .flat_map(|(_, _, shares)| shares.iter().copied())
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (SANS, 18))
            .margin(16)
            .x_label_area_size(46)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0f64..top * 1.1 + 1e-9)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc("share of the class's windows per bin")
            .x_label_formatter(&|v| num(*v))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style((SANS, 14))
            .axis_desc_style((SANS, 15))
            .draw()
            .map_err(err)?;
        for (i, (class, n, shares)) in self.classes.iter().enumerate() {
            let c = color(i);
            // A step outline over a light fill keeps overlapping classes readable.
            let mut outline = vec![(lo, 0.0)];
            for (b, &s) in shares.iter().enumerate() {
                let x = lo + width * b as f64;
                outline.push((x, s));
                outline.push((x + width, s));
            }
            outline.push((hi, 0.0));
            chart
                .draw_series(AreaSeries::new(outline.clone(), 0.0, c.mix(0.15)))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(outline, c.stroke_width(2)))
                .map_err(err)?
                .label(format!("{class} (n = {n})"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.mix(0.6).filled())
                });
        }
        if let Some(t) = self.threshold {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(t, 0.0), (t, top * 1.1)],
                    8,
                    5,
                    RED.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("threshold {}", num(t)))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], RED.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((SANS, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// Scores on the scale the run's threshold is on (the metrics' own scaling, see
/// `metrics::evaluate::protocol_scores`). Returns whether they were scaled.
fn protocol_scores(run: &RunDetail, s: &ScoreSet) -> (Vec<f64>, bool) {
    let paper = run
        .params
        .iter()
        .any(|(k, v)| k == "eval.protocol" && v.as_str() == Some(Protocol::Paper.as_str()));
    let protocol = if paper {
        Protocol::Paper
    } else {
        Protocol::Clean
    };
    (
        metrics::evaluate::protocol_scores(protocol, &s.scores),
        paper,
    )
}

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        out_dir,
        runs,
        chosen,
        scores,
        ..
    } = ctx;
    for &i in chosen.iter() {
        let run = &runs[i];
        let Some(s) = scores.get(&run.row.id) else {
            continue;
        };
        let (values, scaled) = protocol_scores(run, s);
        let threshold = test_metric(run, "threshold");
        let fig = histogram(
            format!("{}: test scores by class", ctx.label(i)),
            if scaled {
                "anomaly score (min-max scaled over test, paper protocol)".into()
            } else {
                "anomaly score".into()
            },
            &s.labels,
            &s.classes,
            &values,
            threshold,
        );
        let left_out = if fig.left_out.is_empty() {
            String::new()
        } else {
            format!(
                "; left out for fewer than {} windows: {}",
                MIN_CLASS_WINDOWS,
                fig.left_out
                    .iter()
                    .map(|(c, n)| format!("{c} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.add(
            figure::save(out_dir, &format!("hist_{}", run.row.key), &fig)?,
            format!(
                "Test anomaly scores of {}, per class (share of the class's windows per bin; scores above the 99.5th percentile in the last bin), with the run's threshold{}{left_out}.",
                ctx.label(i),
                threshold.map_or(" (none stored)".to_string(), |t| format!(" {} (dashed)", figure::num(t)))
            ),
        );
    }
    Ok(())
}
