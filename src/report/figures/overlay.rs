//! Input vs reconstruction of a few test windows of a chosen run, by inference with its
//! stored checkpoint (no training): the run's config and data split are loaded again, the
//! detector is built and its weights are read from the safetensors file.

use super::{Context, Drawn};
use crate::config::RunConfig;
use crate::data::Split;
use crate::models::{Build, InputShape};
use crate::report::figure::{self, color, err, grid, num, Draw, SANS};
use crate::store::RunDetail;
use crate::store::ScoreSet;
use anyhow::{Context as _, Result};
use candle_core::Device;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Data splits already loaded in this report, by dataset config and fold: runs that differ
/// only in model settings share their split.
pub(super) type SplitCache = HashMap<String, Arc<Split>>;

pub(super) struct Example {
    pub title: String,
    pub anomalous: bool,
    pub input: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

pub(super) struct OverlayFigure {
    pub title: String,
    pub examples: Vec<Example>,
}

/// The test windows shown: the normal windows at the median and the 95th percentile of
/// the normal scores, and the median-scored window of each anomaly class.
fn pick(scores: &ScoreSet) -> Vec<usize> {
    let by_score = |keep: &dyn Fn(usize) -> bool| {
        let mut idx: Vec<usize> = (0..scores.scores.len()).filter(|&i| keep(i)).collect();
        idx.sort_by(|&a, &b| scores.scores[a].total_cmp(&scores.scores[b]));
        idx
    };
    let at = |idx: &[usize], q: f64| idx[((idx.len() - 1) as f64 * q).round() as usize];
    let mut out = Vec::new();
    let normal = by_score(&|i| !scores.labels[i]);
    if !normal.is_empty() {
        out.push(at(&normal, 0.5));
        out.push(at(&normal, 0.95));
    }
    let mut classes: Vec<&str> = (0..scores.labels.len())
        .filter(|&i| scores.labels[i])
        .map(|i| scores.classes.get(i).map_or("", String::as_str))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    for class in classes.into_iter().take(4) {
        let members = by_score(&|i| {
            scores.labels[i] && scores.classes.get(i).map_or("", String::as_str) == class
        });
        out.push(at(&members, 0.5));
    }
    out
}

/// The figure of one run, or `Ok(Err(reason))` when it cannot be drawn (no checkpoint
/// file, changed data, a detector that does not reconstruct).
pub(super) fn overlay(
    run: &RunDetail,
    scores: &ScoreSet,
    label: &str,
    cache: &mut SplitCache,
    artifacts: &Path,
) -> Result<std::result::Result<OverlayFigure, String>> {
    let Some((_, recorded)) = run.artifacts.iter().find(|(k, _)| k == "checkpoint") else {
        return Ok(Err("no checkpoint stored".into()));
    };
    let checkpoint = crate::paths::artifact(artifacts, recorded);
    if !checkpoint.is_file() {
        return Ok(Err(format!(
            "checkpoint file {} is missing",
            checkpoint.display()
        )));
    }
    let cfg: RunConfig = serde_json::from_str(&run.config_json)
        .with_context(|| format!("reading the stored config of run {}", run.row.key))?;
    let cache_key = format!("{}#{}", serde_json::to_string(&cfg.dataset)?, cfg.fold);
    let split = match cache.get(&cache_key) {
        Some(s) => s.clone(),
        None => {
            let s = Arc::new(
                cfg.dataset
                    .load(cfg.fold)
                    .with_context(|| format!("loading the data of run {}", run.row.key))?,
            );
            cache.insert(cache_key, s.clone());
            s
        }
    };
    let test = &split.test;
    let per_step = split
        .timeline
        .as_ref()
        .is_some_and(|t| t.labels.len() == scores.scores.len());
    if per_step && test.n != scores.scores.len() {
        return Ok(Err(
            "its test scores are per time step of the series, not per window".into(),
        ));
    }
    if test.n != scores.scores.len() {
        return Ok(Err(format!(
            "the test split now has {} windows but {} scores were stored (the data changed)",
            test.n,
            scores.scores.len()
        )));
    }
    let model = cfg.model.for_inference();
    // The model sees the windows at its own length (as in training); the figure shows
    // them, and the reconstruction resampled back, at the data's.
    let input_length = model.spec().input_length(InputShape::of(test));
    let mut detector = model.build(&Build {
        train: &cfg.train,
        shape: InputShape {
            length: input_length.unwrap_or(test.length),
            ..InputShape::of(test)
        },
        device: &Device::Cpu,
        seed: cfg.seed,
        dependencies: &[],
    })?;
    detector
        .load(&checkpoint)
        .with_context(|| format!("loading the checkpoint {}", checkpoint.display()))?;
    let chosen = pick(scores);
    let windows = test.select(&chosen);
    let seen = match input_length {
        Some(length) => windows.resampled(length),
        None => windows.clone(),
    };
    let Some(rec) = detector.reconstruct(&seen)? else {
        return Ok(Err(format!(
            "{} does not reconstruct its input",
            cfg.model.name()
        )));
    };
    let rec = match input_length {
        Some(_) => rec.resampled(test.length),
        None => rec,
    };
    // Channel 0 only: one trace per panel stays readable (MIT-BIH beats have one lead).
    let length = test.length;
    let examples = chosen
        .iter()
        .enumerate()
        .map(|(k, &i)| Example {
            title: format!(
                "{} {}, score {}",
                if test.labels[i] { "abnormal" } else { "normal" },
                test.classes[i],
                num(scores.scores[i])
            ),
            anomalous: test.labels[i],
            input: windows.window(k)[..length].to_vec(),
            reconstruction: rec.window(k)[..length].to_vec(),
        })
        .collect();
    Ok(Ok(OverlayFigure {
        title: format!("{label}: test input vs reconstruction (error shaded)"),
        examples,
    }))
}

impl Draw for OverlayFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.examples.len());
        (460 * cols as u32, 50 + 300 * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 18)).map_err(err)?;
        let (rows, cols) = grid(self.examples.len());
        let (lo, hi) = self
            .examples
            .iter()
            .flat_map(|e| e.input.iter().chain(&e.reconstruction))
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let (lo, hi) = (lo as f64 - 0.05, hi as f64 + 0.05);
        for (k, (ex, area)) in self
            .examples
            .iter()
            .zip(body.split_evenly((rows, cols)))
            .enumerate()
        {
            let n = ex.input.len();
            let mut chart = ChartBuilder::on(&area)
                .caption(
                    &ex.title,
                    (SANS, 15)
                        .into_font()
                        .color(if ex.anomalous { &RED } else { &BLACK }),
                )
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..n as f64, lo..hi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("sample")
                .y_desc("amplitude (scaled)")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .label_style((SANS, 12))
                .axis_desc_style((SANS, 13))
                .draw()
                .map_err(err)?;
            // The error: one translucent red segment per sample between the two traces.
            chart
                .draw_series(ex.input.iter().zip(&ex.reconstruction).enumerate().map(
                    |(t, (&a, &b))| {
                        let (a, b) = (a as f64, b as f64);
                        Rectangle::new(
                            [(t as f64, a.min(b)), (t as f64 + 1.0, a.max(b))],
                            RED.mix(0.35).filled(),
                        )
                    },
                ))
                .map_err(err)?
                .label("error")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], RED.mix(0.35).filled())
                });
            chart
                .draw_series(LineSeries::new(
                    ex.input
                        .iter()
                        .enumerate()
                        .map(|(t, &v)| (t as f64 + 0.5, v as f64)),
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?
                .label("input")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
            let c = color(0);
            chart
                .draw_series(LineSeries::new(
                    ex.reconstruction
                        .iter()
                        .enumerate()
                        .map(|(t, &v)| (t as f64 + 0.5, v as f64)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label("reconstruction")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            // One legend (in the first panel) is enough, and hides less of the traces.
            if k > 0 {
                continue;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font((SANS, 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        out_dir,
        runs,
        opts,
        chosen,
        scores,
        ..
    } = ctx;
    if !opts.skip_overlays {
        let mut cache = SplitCache::new();
        for &i in chosen.iter() {
            let run = &runs[i];
            let Some(s) = scores.get(&run.row.id) else {
                continue;
            };
            match overlay(run, s, &ctx.label(i), &mut cache, &opts.artifacts) {
                Ok(Ok(fig)) => out.add(
                    figure::save(out_dir, &format!("overlay_{}", run.row.key), &fig)?,
                    format!("Test windows of {} (normal: median and 95th-percentile score; abnormal: the median-scored window of each class) with the model's reconstruction; the shaded area is the reconstruction error.", ctx.label(i)),
                ),
                Ok(Err(reason)) => out.notes.push(format!("run {}: no reconstruction figure: {reason}", run.row.key)),
                Err(e) => out.notes.push(format!("run {}: no reconstruction figure: {e:#}", run.row.key)),
            }
        }
    }
    Ok(())
}
