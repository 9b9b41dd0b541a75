//! ROC and precision-recall curves of the chosen runs from their stored test scores.

use super::{Context, Drawn};
use crate::metrics;
use crate::report::compare::baseline_models;
use crate::report::figure::{self, err, Draw, SANS};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// ROC (left) and precision-recall (right) curves, one line per run, and one legend
/// below both, outside the plots.
pub(super) struct CurvesFigure {
    pub title: String,
    pub runs: Vec<CurveRun>,
    /// Per run: trained detectors in the palette, classical baselines grey and dashed.
    pub colors: Vec<RGBAColor>,
}

const WIDTH: u32 = 1200;
const LEGEND_ROW: i32 = 22;
/// About how wide a legend character is at the legend's font size, in pixels.
const LEGEND_CHAR_PX: usize = 8;

pub(super) struct CurveRun {
    pub label: String,
    pub roc: Vec<(f64, f64)>,
    pub pr: Vec<(f64, f64)>,
    pub auc_roc: f64,
    pub ap: f64,
    /// The share of anomalous windows: a random detector's precision.
    pub base_rate: f64,
    /// A classical baseline: drawn as a reference.
    pub baseline: bool,
}

impl CurvesFigure {
    /// One legend entry's text.
    fn entry(run: &CurveRun) -> String {
        format!(
            "{}: AUC-ROC {:.3}, AP {:.3}{}",
            run.label,
            run.auc_roc,
            run.ap,
            if run.baseline { " (baseline)" } else { "" }
        )
    }

    /// Two legend columns when the longest entry fits in half the width, else one.
    fn legend_columns(&self) -> usize {
        let longest = self
            .runs
            .iter()
            .map(|r| Self::entry(r).chars().count())
            .max()
            .unwrap_or(0);
        if 110 + longest * LEGEND_CHAR_PX <= WIDTH as usize / 2 {
            2
        } else {
            1
        }
    }

    fn legend_height(&self) -> u32 {
        (self.runs.len().div_ceil(self.legend_columns()) as i32 * LEGEND_ROW + 16) as u32
    }
}

impl Draw for CurvesFigure {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560 + self.legend_height())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 19)).map_err(err)?;
        let height = body.dim_in_pixel().1;
        let (plots, legend) = body.split_vertically(height - self.legend_height());
        let panels = plots.split_evenly((1, 2));
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
                    2,
                    4,
                    BLACK.mix(0.6).stroke_width(1),
                ))
                .map_err(err)?;
            for (run, &c) in self.runs.iter().zip(&self.colors) {
                let points = if roc { &run.roc } else { &run.pr };
                if run.baseline {
                    chart
                        .draw_series(DashedLineSeries::new(
                            points.iter().copied(),
                            8,
                            4,
                            c.stroke_width(2),
                        ))
                        .map_err(err)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
                        .map_err(err)?;
                }
            }
        }
        let columns = self.legend_columns();
        let width = legend.dim_in_pixel().0 as i32 / columns as i32;
        for (k, (run, &c)) in self.runs.iter().zip(&self.colors).enumerate() {
            let x = 70 + width * (k % columns) as i32;
            let y = 8 + LEGEND_ROW * (k / columns) as i32;
            let sample = [(x, y + 7), (x + 28, y + 7)];
            if run.baseline {
                legend
                    .draw(&plotters::element::DashedPathElement::new(
                        sample,
                        8,
                        4,
                        c.stroke_width(2),
                    ))
                    .map_err(err)?;
            } else {
                legend
                    .draw(&PathElement::new(sample, c.stroke_width(2)))
                    .map_err(err)?;
            }
            legend
                .draw(&Text::new(Self::entry(run), (x + 36, y), (SANS, 14)))
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
    let baselines = baseline_models(runs);
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
                baseline: baselines.contains(&runs[i].row.model),
            }),
            (Err(e), _) | (_, Err(e)) => out
                .notes
                .push(format!("run {}: no ROC/PR curve: {e}", runs[i].row.key)),
        }
    }
    if !curves.is_empty() {
        let n = curves.len();
        let names: Vec<String> = curves.iter().map(|c| c.label.clone()).collect();
        let baseline_names = curves
            .iter()
            .filter(|c| c.baseline)
            .map(|c| c.label.clone())
            .collect();
        let fig = CurvesFigure {
            title: format!("{sweep}: test ROC and precision-recall curves"),
            colors: figure::model_colors(&names, &baseline_names),
            runs: curves,
        };
        out.add(
            figure::save(out_dir, "roc_pr", &fig)?,
            format!(
                "ROC and precision-recall curves on the test split of {} from the stored scores; classical baselines grey and dashed; dotted: chance.",
                if opts.runs.is_empty() { format!("the best run of each model by {} ({n})", metric.as_str()) } else { format!("the {n} chosen runs") }
            ),
        );
    }
    Ok(())
}
