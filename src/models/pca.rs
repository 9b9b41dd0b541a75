//! PCA reconstruction error (`model.name: pca`): the principal axes of the training
//! windows (flattened to `channels · length` values), and a window's score is the mean
//! squared error of its reconstruction from the first `n_components` axes, as
//! scikit-learn's `PCA(n).inverse_transform(transform(x))` gives it. With
//! `n_components` unset, the fewest axes that explain `variance` of the training
//! variance are kept.
//!
//! The axes are the eigenvectors of the training covariance (nalgebra's symmetric
//! eigendecomposition, in f64; the covariance and the projections through the project's
//! multi-threaded matrix kernel); the mean, the axes and the number kept are the model's
//! variables, so it saves and loads like any detector.

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::nn::inner_products;
use crate::registry::check;
use crate::rng::SplitMix64;
use candle_core::{DType, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};
use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

/// `model: { name: pca, n_components: 10 }` or `{ name: pca, variance: 0.95 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PcaConfig {
    /// Axes kept; unset: the fewest that explain `variance`.
    pub n_components: Option<usize>,
    /// Share of the training variance the kept axes explain, when `n_components` is unset.
    pub variance: f64,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig {
            n_components: None,
            variance: 0.95,
        }
    }
}

impl ModelSpec for PcaConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(n) = self.n_components {
            check(n >= 1, "model.n_components", "at least 1", n)?;
        }
        let v = self.variance;
        check(v > 0.0 && v <= 1.0, "model.variance", "in (0, 1]", v)
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let d = ctx.shape.channels * ctx.shape.length;
        if let Some(n) = self.n_components {
            anyhow::ensure!(
                n <= d,
                "model.n_components = {n} exceeds the {d} values of a window"
            );
        }
        let vars = VarMap::new();
        // f64 variables: the scores match scikit-learn's to rounding, not to f32.
        let vb = VarBuilder::from_varmap(&vars, DType::F64, ctx.device);
        vb.get_with_hints(d, MEAN, Init::Const(0.0))?;
        vb.get_with_hints((d, d), AXES, Init::Const(0.0))?;
        vb.get_with_hints(1, KEPT, Init::Const(0.0))?;
        Ok(Box::new(Pca {
            cfg: self.clone(),
            batch_size: ctx.train.batch_size,
            vars,
        }))
    }
}

/// The variables: the training mean, every axis (rows, by decreasing variance), and how
/// many axes are kept.
const MEAN: &str = "mean";
const AXES: &str = "axes";
const KEPT: &str = "n_components";

pub struct Pca {
    cfg: PcaConfig,
    batch_size: usize,
    vars: VarMap,
}

/// The fitted model as numbers: mean, kept axes (row-major, `kept × d`).
struct Fitted {
    mean: Vec<f64>,
    axes: Vec<f64>,
    kept: usize,
}

impl Pca {
    fn set(&self, name: &str, values: Vec<f64>) -> anyhow::Result<()> {
        let data = self.vars.data().lock().expect("var map lock");
        let var = &data[name];
        var.set(&Tensor::from_vec(values, var.dims(), var.device())?)?;
        Ok(())
    }

    fn get(&self, name: &str) -> anyhow::Result<Vec<f64>> {
        let data = self.vars.data().lock().expect("var map lock");
        let t = data[name].as_tensor().flatten_all()?;
        Ok(t.to_vec1::<f64>()?)
    }

    /// Each window minus its reconstruction, row-major: e − (e Vₖᵀ) Vₖ with e = x − μ,
    /// as two products through the matrix kernel.
    fn residuals(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let d = windows.channels * windows.length;
        let f = self.fitted(d)?;
        let centred: Vec<f64> = windows
            .data
            .chunks_exact(d)
            .flat_map(|x| x.iter().zip(&f.mean).map(|(v, m)| f64::from(*v) - m))
            .collect();
        if windows.n == 0 {
            return Ok(centred);
        }
        let projections = inner_products(&centred, &f.axes, d);
        // Vₖ's columns as rows (d × k), so that P Vₖ is P against Vₖᵀ's rows.
        let mut axes_t = vec![0.0f64; d * f.kept];
        for (a, axis) in f.axes.chunks_exact(d).enumerate() {
            for (j, v) in axis.iter().enumerate() {
                axes_t[j * f.kept + a] = *v;
            }
        }
        let reconstructed = inner_products(&projections, &axes_t, f.kept);
        Ok(centred
            .iter()
            .zip(&reconstructed)
            .map(|(e, r)| e - r)
            .collect())
    }

    fn fitted(&self, d: usize) -> anyhow::Result<Fitted> {
        let kept = self.get(KEPT)?[0] as usize;
        anyhow::ensure!(kept > 0, "pca has not been fitted");
        let mut axes = self.get(AXES)?;
        axes.truncate(kept * d);
        Ok(Fitted {
            mean: self.get(MEAN)?,
            axes,
            kept,
        })
    }
}

/// Axes that explain at least `variance` of the total, from eigenvalues sorted
/// decreasing (at least one).
fn axes_for(eigenvalues: &[f64], variance: f64) -> usize {
    let total: f64 = eigenvalues.iter().map(|v| v.max(0.0)).sum();
    let mut explained = 0.0;
    for (i, v) in eigenvalues.iter().enumerate() {
        explained += v.max(0.0);
        if explained >= variance * total * (1.0 - 1e-12) {
            return i + 1;
        }
    }
    eigenvalues.len()
}

impl Detector for Pca {
    fn fit_epoch(
        &mut self,
        train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        let d = train.channels * train.length;
        anyhow::ensure!(train.n >= 2, "pca needs at least 2 training windows");
        let mut mean = vec![0.0f64; d];
        for i in 0..train.n {
            for (m, v) in mean.iter_mut().zip(train.window(i)) {
                *m += f64::from(*v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= train.n as f64);
        // Xcᵀ Xc as the inner products of the rows of Xcᵀ (one row per value of a
        // window), through the multi-threaded matrix kernel, in f64.
        let mut columns = vec![0.0f64; d * train.n];
        for i in 0..train.n {
            for (j, v) in train.window(i).iter().enumerate() {
                columns[j * train.n + i] = f64::from(*v) - mean[j];
            }
        }
        let scatter = inner_products(&columns, &columns, train.n);
        let covariance = DMatrix::from_row_slice(d, d, &scatter) / (train.n - 1) as f64;
        let eigen = SymmetricEigen::new(covariance);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let values: Vec<f64> = order.iter().map(|&i| eigen.eigenvalues[i]).collect();
        let kept = self
            .cfg
            .n_components
            .unwrap_or_else(|| axes_for(&values, self.cfg.variance));
        let axes: Vec<f64> = order
            .iter()
            .flat_map(|&i| {
                eigen
                    .eigenvectors
                    .column(i)
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
            })
            .collect();
        self.set(MEAN, mean)?;
        self.set(AXES, axes)?;
        self.set(KEPT, vec![kept as f64])?;
        let explained = values[..kept].iter().sum::<f64>() / values.iter().sum::<f64>();
        // Not a loss: what the fit kept, per epoch like the trained models' losses.
        on_batch()?;
        Ok(vec![
            ("n_components", kept as f64),
            ("explained_variance", explained),
        ])
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let d = windows.channels * windows.length;
        let residual = self.residuals(windows)?;
        Ok(residual
            .chunks_exact(d)
            .map(|r| r.iter().map(|v| v * v).sum::<f64>() / d as f64)
            .collect())
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        let residual = self.residuals(windows)?;
        Ok(Some(Windows {
            data: windows
                .data
                .iter()
                .zip(&residual)
                .map(|(x, r)| (f64::from(*x) - r) as f32)
                .collect(),
            ..windows.clone()
        }))
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn batches_per_epoch(&self, _n: usize) -> usize {
        1
    }
}
