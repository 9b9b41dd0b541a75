//! Loss terms and validation AUC per epoch of a chosen run, with the kept epoch.

use super::{Context, Drawn};
use crate::report::figure::{self, color, err, num, padded, Draw, SANS};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

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

    // Long but flat: the two panels' plotters calls in the order they draw (losses on a
    // log axis, then validation AUC, each with the kept epoch marked).
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

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        store,
        out_dir,
        runs,
        chosen,
        ..
    } = ctx;
    let ids: Vec<i64> = chosen.iter().map(|&i| runs[i].row.id).collect();
    let epochs = store.epochs(&ids)?;
    for &i in chosen.iter() {
        let run = &runs[i];
        let mut losses: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
        let mut val_auc = Vec::new();
        for e in epochs.iter().filter(|e| e.run_id == run.row.id) {
            if e.name == "val_auc_roc" {
                val_auc.push((e.epoch as f64, e.value));
            } else if !e.name.starts_with("val_") || e.name == "val_loss" {
                losses
                    .entry(e.name.as_str())
                    .or_default()
                    .push((e.epoch as f64, e.value));
            }
        }
        if losses.is_empty() && val_auc.is_empty() {
            out.notes
                .push(format!("run {}: no epochs stored", run.row.key));
            continue;
        }
        let fig = EpochsFigure {
            title: format!("{}: training curves", ctx.label(i)),
            losses: losses
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            val_auc,
            best_epoch: run.row.best_epoch.map(|e| e as f64),
        };
        out.add(
            figure::save(out_dir, &format!("epochs_{}", run.row.key), &fig)?,
            format!("Loss terms per epoch (mean over the epoch's batches; val_loss: mean score of normal validation windows) and validation AUC-ROC of {}.", ctx.label(i)),
        );
    }
    Ok(())
}
