//! The template baseline (`model.name: template`): no network, the element-wise mean (or
//! median) of the training windows, and a window's score is its mean squared distance to
//! that template. A reconstruction model that has learnt only the average window scores
//! like this; every table should show it beside the trained detectors.
//!
//! Training is one pass that computes the template (every epoch recomputes the same
//! one); the template is the model's only variable, so it is saved, snapshotted and
//! reloaded like any detector's weights.

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::rng::SplitMix64;
use candle_core::{DType, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// `model: { name: template, statistic: mean | median }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplateConfig {
    /// How the training windows are summarised at each sample.
    pub statistic: Statistic,
}

/// The element-wise summary of the training windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    #[default]
    Mean,
    /// The median: robust to anomalies left in the training data.
    Median,
}

impl Default for TemplateConfig {
    fn default() -> Self {
        TemplateConfig {
            statistic: Statistic::Mean,
        }
    }
}

impl ModelSpec for TemplateConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, ctx.device);
        let size = ctx.shape.channels * ctx.shape.length;
        vb.get_with_hints(size, TEMPLATE, Init::Const(0.0))?;
        Ok(Box::new(Template {
            statistic: self.statistic,
            batch_size: ctx.train.batch_size,
            vars,
        }))
    }
}

/// The variable that holds the template, `channels · length` values.
const TEMPLATE: &str = "template";

pub struct Template {
    statistic: Statistic,
    batch_size: usize,
    vars: VarMap,
}

impl Template {
    /// The template's values.
    fn values(&self) -> anyhow::Result<Vec<f32>> {
        let data = self.vars.data().lock().expect("var map lock");
        Ok(data[TEMPLATE].as_tensor().to_vec1::<f32>()?)
    }
}

/// The element-wise `statistic` of `windows`.
fn summarise(windows: &Windows, statistic: Statistic) -> Vec<f32> {
    let size = windows.channels * windows.length;
    match statistic {
        Statistic::Mean => {
            let mut sum = vec![0.0f64; size];
            for i in 0..windows.n {
                for (s, v) in sum.iter_mut().zip(windows.window(i)) {
                    *s += f64::from(*v);
                }
            }
            sum.iter().map(|s| (s / windows.n as f64) as f32).collect()
        }
        Statistic::Median => (0..size)
            .map(|j| {
                let mut column: Vec<f32> = (0..windows.n).map(|i| windows.window(i)[j]).collect();
                column.sort_by(f32::total_cmp);
                let mid = column.len() / 2;
                if column.len() % 2 == 1 {
                    column[mid]
                } else {
                    ((f64::from(column[mid - 1]) + f64::from(column[mid])) / 2.0) as f32
                }
            })
            .collect(),
    }
}

/// Mean squared distance of each window to `template`.
fn distances(windows: &Windows, template: &[f32]) -> Vec<f64> {
    (0..windows.n)
        .map(|i| {
            let x = windows.window(i);
            x.iter()
                .zip(template)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum::<f64>()
                / x.len() as f64
        })
        .collect()
}

impl Detector for Template {
    fn fit_epoch(
        &mut self,
        train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        anyhow::ensure!(train.n > 0, "the template needs training windows");
        let template = summarise(train, self.statistic);
        let err_rec = distances(train, &template).iter().sum::<f64>() / train.n as f64;
        {
            let data = self.vars.data().lock().expect("var map lock");
            let var = &data[TEMPLATE];
            var.set(&Tensor::from_vec(template, var.dims(), var.device())?)?;
        }
        on_batch()?;
        Ok(vec![("err_rec", err_rec)])
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        Ok(distances(windows, &self.values()?))
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        let template = self.values()?;
        Ok(Some(Windows {
            data: template.repeat(windows.n),
            ..windows.clone()
        }))
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// One pass over the data, however large.
    fn batches_per_epoch(&self, _n: usize) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_template_ignores_an_outlier_the_mean_does_not() {
        let mut w = Windows::empty(1, 2);
        for x in [[0.0, 1.0], [0.2, 1.0], [10.0, 1.0]] {
            w.data.extend(x);
            w.labels.push(false);
            w.classes.push("N".into());
        }
        w.n = 3;
        assert_eq!(summarise(&w, Statistic::Median), [0.2, 1.0]);
        let mean = summarise(&w, Statistic::Mean);
        assert!((mean[0] - 10.2 / 3.0).abs() < 1e-6 && mean[1] == 1.0);
        let d = distances(&w, &[0.0, 1.0]);
        assert_eq!(d[2], 50.0);
    }
}
