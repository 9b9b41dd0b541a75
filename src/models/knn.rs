//! k nearest neighbours (`model.name: knn`): a window's score is its Euclidean distance
//! to the k-th nearest training window (`method: largest`, PyOD's default) or the mean of
//! the distances to its k nearest (`mean`). Brute force: squared distances from the inner
//! products of the project's multi-threaded matrix kernel (`nn::inner_products`), in
//! blocks of scored windows so that memory stays bounded.
//!
//! The model is its training set, kept in memory: the checkpoint holds no weights (the
//! run's dataset config names the data), so a loaded kNN has to be fitted again.

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::nn::inner_products;
use crate::registry::check;
use crate::rng::SplitMix64;
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

/// `model: { name: knn, k: 5, method: largest | mean }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnnConfig {
    /// Neighbours considered.
    pub k: usize,
    /// Which of the k distances is the score.
    pub method: KnnMethod,
}

impl Default for KnnConfig {
    fn default() -> Self {
        KnnConfig {
            k: 5,
            method: KnnMethod::Largest,
        }
    }
}

/// How the k nearest distances become one score (PyOD's `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnnMethod {
    /// The distance to the k-th nearest.
    Largest,
    /// The mean distance to the k nearest.
    Mean,
}

impl ModelSpec for KnnConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        check(self.k >= 1, "model.k", "at least 1", self.k)
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(Knn {
            cfg: self.clone(),
            batch_size: ctx.train.batch_size,
            train: None,
            vars: VarMap::new(),
        }))
    }
}

/// Scored windows per block of distances (a block is `BLOCK × n_train` values).
const BLOCK: usize = 512;
/// Candidates beyond k whose exact distances are taken.
const CANDIDATE_MARGIN: usize = 16;

pub struct Knn {
    cfg: KnnConfig,
    batch_size: usize,
    /// The training windows (row-major, one window per row) and their squared norms.
    train: Option<(Vec<f32>, Vec<f32>)>,
    vars: VarMap,
}

/// Indices of the `c` training windows with the smallest approximate squared distances
/// `norm + ‖b‖² − 2 a·b`, in one pass that keeps the best `c` seen (most windows are
/// turned away by one comparison with the worst kept).
fn nearest(dots: &[f32], train_norms: &[f32], norm: f32, c: usize) -> Vec<usize> {
    let mut kept: Vec<(f32, usize)> = Vec::with_capacity(c);
    let mut worst = (f32::NEG_INFINITY, 0usize); // (value, position in `kept`)
    for (j, (dot, tn)) in dots.iter().zip(train_norms).enumerate() {
        let d = norm + tn - 2.0 * dot;
        if kept.len() < c {
            kept.push((d, j));
            if kept.len() == c {
                worst = kept
                    .iter()
                    .enumerate()
                    .map(|(p, &(v, _))| (v, p))
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .expect("c > 0");
            }
        } else if d < worst.0 {
            kept[worst.1] = (d, j);
            worst = kept
                .iter()
                .enumerate()
                .map(|(p, &(v, _))| (v, p))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .expect("c > 0");
        }
    }
    kept.into_iter().map(|(_, j)| j).collect()
}

fn squared_norms(rows: &[f32], d: usize) -> Vec<f32> {
    rows.chunks_exact(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

impl Detector for Knn {
    fn fit_epoch(
        &mut self,
        train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        anyhow::ensure!(
            train.n >= self.cfg.k,
            "model.k = {} needs at least that many training windows; the split has {}",
            self.cfg.k,
            train.n
        );
        let d = train.channels * train.length;
        self.train = Some((train.data.clone(), squared_norms(&train.data, d)));
        on_batch()?;
        Ok(Vec::new())
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let Some((train, train_norms)) = &self.train else {
            anyhow::bail!("knn keeps its training windows in memory only: fit it first");
        };
        let d = windows.channels * windows.length;
        let k = self.cfg.k;
        let mut out = Vec::with_capacity(windows.n);
        for (b, block) in windows.data.chunks(BLOCK * d).enumerate() {
            crate::stop::check()?;
            let dots = inner_products(block, train, d);
            let norms = squared_norms(block, d);
            for (r, (row, norm)) in dots.chunks_exact(train_norms.len()).zip(norms).enumerate() {
                // ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b in f32 finds the candidates; their exact
                // distances are then taken in f64 (the expansion loses digits for close
                // pairs), with a margin of extra candidates against f32's reordering.
                let candidates = (k + CANDIDATE_MARGIN).min(train_norms.len());
                let near = nearest(row, train_norms, norm, candidates);
                let x = windows.window(b * BLOCK + r);
                let mut exact: Vec<f64> = near
                    .into_iter()
                    .map(|j| {
                        let y = &train[j * d..(j + 1) * d];
                        let s: f64 = x
                            .iter()
                            .zip(y)
                            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                            .sum();
                        s.sqrt()
                    })
                    .collect();
                exact.sort_by(f64::total_cmp);
                out.push(match self.cfg.method {
                    KnnMethod::Largest => exact[k - 1],
                    KnnMethod::Mean => exact[..k].iter().sum::<f64>() / k as f64,
                });
            }
        }
        Ok(out)
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
