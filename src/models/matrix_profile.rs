//! The matrix profile (`model.name: matrix_profile`; Yeh et al., ICDM 2016): for series
//! data, a window's score is the z-normalised Euclidean distance to its nearest other
//! window of the same set, outside an exclusion zone of ⌈m/4⌉ windows on either side
//! (stumpy's default), m the window length. On the rolling windows of a series (stride 1)
//! this is the exact matrix profile of the series' self-join (STOMP's result), scored per
//! time step like the other series detectors. A constant window is at distance 0 from
//! another constant one and √m from any other (stumpy's convention).
//!
//! Distances come from Pearson correlations: d = √(2m(1 − ρ)), ρ from the inner products
//! of the z-normalised windows (the project's matrix kernel, in f64 so that near-matches
//! keep their digits), in blocks of rows. Nothing is learnt: the scored set is its own
//! reference, and the checkpoint is empty.

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::nn::inner_products;
use crate::rng::SplitMix64;
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

/// `model: { name: matrix_profile }`: the subsequence length is the dataset's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixProfileConfig {}

impl ModelSpec for MatrixProfileConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    fn needs_series(&self) -> bool {
        true
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        anyhow::ensure!(
            ctx.shape.channels == 1,
            "matrix_profile scores univariate series; these windows have {} channels",
            ctx.shape.channels
        );
        anyhow::ensure!(
            ctx.shape.length >= 4,
            "matrix_profile needs windows (subsequences) of at least 4 steps; dataset.window is {}",
            ctx.shape.length
        );
        Ok(Box::new(MatrixProfile {
            batch_size: ctx.train.batch_size,
            vars: VarMap::new(),
        }))
    }
}

/// Rows of the correlation matrix computed at once.
const BLOCK: usize = 256;

pub struct MatrixProfile {
    batch_size: usize,
    vars: VarMap,
}

/// Each window z-normalised (`None` for a constant one), row-major in f64.
fn z_normalised(windows: &Windows) -> (Vec<f64>, Vec<bool>) {
    let m = windows.length;
    let mut out = Vec::with_capacity(windows.n * m);
    let mut constant = Vec::with_capacity(windows.n);
    for i in 0..windows.n {
        let x: Vec<f64> = windows.window(i).iter().map(|v| f64::from(*v)).collect();
        let mean = x.iter().sum::<f64>() / m as f64;
        let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m as f64).sqrt();
        // stumpy's test for a constant subsequence, relative to its scale.
        let flat = std < 1e-8 * mean.abs().max(1.0);
        constant.push(flat);
        out.extend(x.iter().map(|v| if flat { 0.0 } else { (v - mean) / std }));
    }
    (out, constant)
}

/// The matrix profile of the windows' self-join.
pub fn matrix_profile(windows: &Windows) -> Vec<f64> {
    let (n, m) = (windows.n, windows.length);
    let zone = m.div_ceil(4);
    let (z, constant) = z_normalised(windows);
    let mut profile = vec![f64::INFINITY; n];
    for (b, block) in z.chunks(BLOCK * m).enumerate() {
        let dots = inner_products(block, &z, m);
        for (r, row) in dots.chunks_exact(n).enumerate() {
            let i = b * BLOCK + r;
            let mut best = f64::INFINITY;
            for (j, dot) in row.iter().enumerate() {
                if i.abs_diff(j) <= zone {
                    continue;
                }
                let d = match (constant[i], constant[j]) {
                    (true, true) => 0.0,
                    (true, false) | (false, true) => (m as f64).sqrt(),
                    (false, false) => (2.0 * m as f64 * (1.0 - dot / m as f64)).max(0.0).sqrt(),
                };
                best = best.min(d);
            }
            profile[i] = best;
        }
    }
    profile
}

impl Detector for MatrixProfile {
    fn fit_epoch(
        &mut self,
        _train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        on_batch()?;
        Ok(Vec::new())
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let zone = windows.length.div_ceil(4);
        anyhow::ensure!(
            windows.n > 2 * zone + 1,
            "matrix_profile needs more than {} windows to find a neighbour outside the exclusion zone; got {}",
            2 * zone + 1,
            windows.n
        );
        Ok(matrix_profile(windows))
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
