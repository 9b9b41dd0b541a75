//! ROC and precision-recall curves of the chosen runs from their stored test scores.

use super::{Context, Drawn};
use crate::metrics;
use crate::report::figure::{self, color, err, Draw, SANS};
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

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        sweep,
        out_dir,
        spec,
        runs,
        opts,
        chosen,
        scores,
        ..
    } = ctx;
    let metric = spec.metric;
    let mut curves = Vec::new();
    for &i in chosen.iter() {
        let Some(s) = scores.get(&runs[i].row.id) else {
            out.notes
                .push(format!("run {}: no test scores stored", runs[i].row.key));
            continue;
        };
        match (
            metrics::roc_curve(&s.labels, &s.scores),
            metrics::pr_curve(&s.labels, &s.scores),
        ) {
            (Ok(roc), Ok(pr)) => curves.push(CurveRun {
                label: ctx.label(i),
                roc,
                pr,
                auc_roc: metrics::auc_roc(&s.labels, &s.scores)?,
                ap: metrics::auc_pr(&s.labels, &s.scores)?,
                base_rate: s.labels.iter().filter(|&&l| l).count() as f64 / s.labels.len() as f64,
            }),
            (Err(e), _) | (_, Err(e)) => out
                .notes
                .push(format!("run {}: no ROC/PR curve: {e}", runs[i].row.key)),
        }
    }
    if !curves.is_empty() {
        let n = curves.len();
        let fig = CurvesFigure {
            title: format!("{sweep}: test ROC and precision-recall curves"),
            runs: curves,
        };
        out.add(
            figure::save(out_dir, "roc_pr", &fig)?,
            format!(
                "ROC and precision-recall curves on the test split of {} from the stored scores; dashed: chance.",
                if opts.runs.is_empty() { format!("the best run of each model by {} ({n})", metric.as_str()) } else { format!("the {n} chosen runs") }
            ),
        );
    }
    Ok(())
}
