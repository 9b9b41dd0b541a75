//! Figures of chosen runs from what the store kept of them: ROC and PR curves and score
//! histograms from the stored test scores, loss and validation curves from `epochs`.

use super::figure::{color, err, num, padded, Draw, SANS};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// ROC (left) and precision-recall (right) curves, one line per run.
pub(super) struct CurvesFigure {
    pub title: String,
    pub runs: Vec<CurveRun>,
}

pub(super) struct CurveRun {
    pub label: String,
    pub roc: Vec<(f64, f64)>,
    pub pr: Vec<(f64, f64)>,
    pub auc_roc: f64,
    pub ap: f64,
    /// The share of anomalous windows: a random detector's precision.
    pub base_rate: f64,
}

impl Draw for CurvesFigure {
    fn size(&self) -> (u32, u32) {
        (1200, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 19)).map_err(err)?;
        let panels = body.split_evenly((1, 2));
        for (k, area) in panels.iter().enumerate() {
            let roc = k == 0;
            let mut chart = ChartBuilder::on(area)
                .caption(
                    if roc {
                        "ROC curve"
                    } else {
                        "Precision-recall curve"
                    },
                    (SANS, 16),
                )
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..1.0, 0f64..1.02)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(if roc { "false-positive rate" } else { "recall" })
                .y_desc(if roc {
                    "true-positive rate"
                } else {
                    "precision"
                })
                .x_label_formatter(&|v| format!("{v:.1}"))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .label_style((SANS, 14))
                .axis_desc_style((SANS, 15))
                .draw()
                .map_err(err)?;
            // The chance level: the diagonal (ROC), the anomaly rate (PR).
            let chance: Vec<(f64, f64)> = if roc {
                vec![(0.0, 0.0), (1.0, 1.0)]
            } else {
                let r = self.runs.first().map_or(0.0, |r| r.base_rate);
                vec![(0.0, r), (1.0, r)]
            };
            chart
                .draw_series(DashedLineSeries::new(
                    chance,
                    6,
                    4,
                    BLACK.mix(0.5).stroke_width(1),
                ))
                .map_err(err)?
                .label("chance")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLACK.mix(0.5)));
            for (i, run) in self.runs.iter().enumerate() {
                let c = color(i);
                let (points, label) = if roc {
                    (&run.roc, format!("{} (AUC {:.3})", run.label, run.auc_roc))
                } else {
                    (&run.pr, format!("{} (AP {:.3})", run.label, run.ap))
                };
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
                    .map_err(err)?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(if roc {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::LowerLeft
                })
                .label_font((SANS, 13))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

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

/// Epochs are whole numbers: ticks between them stay unlabelled.
fn epoch_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 && v.round() >= 0.0 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Per-epoch loss terms (left, log scale when all positive) and validation AUC (right).
pub(super) struct EpochsFigure {
    pub title: String,
    /// `(name, (epoch, value) points)`.
    pub losses: Vec<(String, Vec<(f64, f64)>)>,
    pub val_auc: Vec<(f64, f64)>,
    /// The epoch whose weights the run kept.
    pub best_epoch: Option<f64>,
}

impl Draw for EpochsFigure {
    fn size(&self) -> (u32, u32) {
        (1200, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 18)).map_err(err)?;
        let panels = body.split_evenly((1, 2));
        let last = self
            .losses
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.0))
            .chain(self.val_auc.iter().map(|q| q.0))
            .fold(0.0, f64::max);
        let xr = padded(0.0, last.max(1.0), 0.03, 0.2);

        let values = || self.losses.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
        let (lo, hi) = values().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let log = lo > 0.0 && hi / lo > 20.0;
        // Losses spanning decades are drawn as log10 so that small terms stay visible.
        let tr = |v: f64| if log { v.log10() } else { v };
        let (ylo, yhi) = if lo <= hi {
            (tr(lo), tr(hi))
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(&panels[0])
            .caption("training losses per epoch", (SANS, 16))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(xr.clone(), padded(ylo, yhi, 0.08, 0.01))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(if log { "loss (log scale)" } else { "loss" })
            .x_label_formatter(&epoch_label)
            .y_label_formatter(&|v| num(if log { 10f64.powf(*v) } else { *v }))
            .label_style((SANS, 14))
            .axis_desc_style((SANS, 15))
            .draw()
            .map_err(err)?;
        for (i, (name, pts)) in self.losses.iter().enumerate() {
            let c = color(i);
            let pts: Vec<(f64, f64)> = pts.iter().map(|&(e, v)| (e, tr(v))).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((SANS, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;

        let mut chart = ChartBuilder::on(&panels[1])
            .caption("validation AUC-ROC per epoch", (SANS, 16))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(xr, 0f64..1.02)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("validation AUC-ROC")
            .x_label_formatter(&epoch_label)
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((SANS, 14))
            .axis_desc_style((SANS, 15))
            .draw()
            .map_err(err)?;
        if self.val_auc.is_empty() {
            chart
                .draw_series([Text::new(
                    "no validation AUC stored (validation has one class)",
                    (0.0, 0.5),
                    (SANS, 15),
                )])
                .map_err(err)?;
        }
        let c = color(0);
        chart
            .draw_series(LineSeries::new(
                self.val_auc.iter().copied(),
                c.stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(self.val_auc.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(err)?;
        if let Some(b) = self.best_epoch {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(b, 0.0), (b, 1.0)],
                    6,
                    4,
                    BLACK.mix(0.6).stroke_width(1),
                ))
                .map_err(err)?
                .label(format!("kept epoch {b:.0}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLACK.mix(0.6)));
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
