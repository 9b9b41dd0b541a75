//! Model × dataset bars: each model's best setting on each dataset, AUC-ROC, AP and
//! best F1 side by side.

use super::{Context, Drawn};
use crate::config::sweep::HeadlineMetric;
use crate::report::axes::cell_label;
use crate::report::compare::baseline_models;
use crate::report::figure::{self, err, num, Draw, SANS};
use crate::report::summary::{dataset_of, Group};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// Bars of AUC-ROC, AP and best F1 for each model (colour) on each dataset (x).
pub(super) struct BarsFigure {
    pub title: String,
    pub datasets: Vec<String>,
    pub models: Vec<String>,
    /// The colour of each model (baselines grey).
    pub colors: Vec<RGBAColor>,
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
        let (legend, body) = body.split_vertically(32);
        let entries: Vec<(String, RGBAColor)> = self
            .models
            .iter()
            .cloned()
            .zip(self.colors.iter().copied())
            .collect();
        figure::legend_row(&legend, &entries)?;
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
            for im in 0..self.models.len() {
                let c = self.colors[im];
                // Black on light bars (yellow, light grey), white on the others.
                let luminance = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
                let ink = if luminance > 150.0 { BLACK } else { WHITE };
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
                    .map_err(err)?;
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
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                    }))
                    .map_err(err)?;
                // The model's name up the bar (above a short one), so that bars of
                // similar colour, the greys of the baselines, are read by name.
                let name = &self.models[im];
                chart
                    .draw_series(bars.iter().filter(|b| b.1.is_finite()).map(|&(x, m, s)| {
                        let length = 0.022 * name.chars().count() as f64;
                        let inside = m > 0.12 + length;
                        // Above a short bar, but never past the top of the axis.
                        let (y, colour) = if inside {
                            (0.1, ink)
                        } else {
                            ((m + s.max(0.0) + 0.04).min(1.05 - length), BLACK)
                        };
                        Text::new(
                            name.clone(),
                            (x + width * 0.46, y),
                            (SANS, 13)
                                .into_font()
                                .transform(FontTransform::Rotate270)
                                .color(&colour)
                                .pos(Pos::new(HPos::Left, VPos::Center)),
                        )
                    }))
                    .map_err(err)?;
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
        runs,
        summary,
        ..
    } = ctx;
    let metric = spec.metric;
    // Model × dataset bars: the best setting of each model on each dataset.
    let mut best: BTreeMap<(String, String), &Group> = BTreeMap::new();
    let m = HeadlineMetric::ALL
        .iter()
        .position(|&x| x == metric)
        .expect("listed");
    for g in &summary.groups {
        let run = &runs[g.members[0]];
        let key = (run.row.model.clone(), dataset_of(run));
        let better = best
            .get(&key)
            .is_none_or(|b| g.stats[m].0.total_cmp(&b.stats[m].0).is_gt());
        if better {
            best.insert(key, g);
        }
    }
    let mut datasets: Vec<String> = best.keys().map(|k| k.1.clone()).collect();
    datasets.sort();
    datasets.dedup();
    let mut models: Vec<String> = best.keys().map(|k| k.0.clone()).collect();
    models.sort();
    models.dedup();
    let bars = BarsFigure {
        title: format!(
            "{sweep}: best setting of each model per dataset (by test {})",
            metric.as_str()
        ),
        bars: best
            .iter()
            .map(|((model, dataset), g)| {
                let id = datasets.iter().position(|d| d == dataset).expect("listed");
                let im = models.iter().position(|x| x == model).expect("listed");
                let stats = BAR_METRICS
                    .iter()
                    .map(|bm| {
                        g.stats[HeadlineMetric::ALL
                            .iter()
                            .position(|x| x == bm)
                            .expect("listed")]
                    })
                    .collect();
                ((id, im), stats)
            })
            .collect(),
        colors: figure::model_colors(&models, &baseline_models(runs)),
        datasets,
        models,
    };
    out.add(
        figure::save(out_dir, "bars_model_dataset", &bars)?,
        format!(
            "Test AUC-ROC, AP and best F1 of each model on each dataset, at the model's best setting by {}; mean ± std over seeds and folds; classical baselines in grey.",
            metric.as_str()
        ),
    );
    Ok(())
}
