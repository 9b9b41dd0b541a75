//! How every detector trains and scores in batches: the optimisation settings
//! (`train:`), Adam's parameters, and the one epoch loop, batching and per-window
//! helpers that every model uses.
//!
//! It owns no model and no epoch-level decision (model selection, validation and storage
//! are the runner's).

use super::{EpochLosses, Snapshot};
use crate::data::Windows;
use crate::nn::adam::Adam;
use crate::registry::{check, check_positive};
use crate::rng::SplitMix64;
use anyhow::Context;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Optimisation settings (Adam) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    /// The arithmetic of f32 matrix products on a GPU; left out of the canonical JSON at
    /// its default so that the keys of runs stored before it existed stay valid.
    #[serde(skip_serializing_if = "Precision::is_default")]
    pub precision: Precision,
}

/// `train.precision`: how a GPU multiplies f32 matrices (every convolution and dense
/// layer is one such product). PyTorch's defaults run convolutions in TF32 (cuDNN's
/// `torch.backends.cudnn.allow_tf32 = True`) and matmuls in f32
/// (`torch.backends.cuda.matmul.allow_tf32 = False`); BeatGAN-family models are
/// convolutions only, so `tf32` is what PyTorch does by default there and `f32` what it
/// does with `cudnn.allow_tf32 = False`. The CPU always computes in f32, so `tf32` is
/// refused there rather than recorded for a run it did not apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// IEEE f32 products.
    #[default]
    F32,
    /// TF32 tensor cores (10-bit mantissa inputs, f32 accumulation).
    Tf32,
}

impl Precision {
    fn is_default(&self) -> bool {
        *self == Precision::F32
    }

    /// The name as written in a sweep file.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Tf32 => "tf32",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "f32" => Ok(Precision::F32),
            "tf32" => Ok(Precision::Tf32),
            _ => anyhow::bail!("unknown precision `{s}`: use f32 or tf32"),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 64,
            lr: 1e-4,
            beta1: 0.5,
            beta2: 0.999,
            precision: Precision::F32,
        }
    }
}

impl TrainConfig {
    /// Checks ranges serde cannot express; the message names the key and the valid range.
    pub fn validate(&self) -> Result<(), String> {
        check(self.epochs >= 1, "train.epochs", "at least 1", self.epochs)?;
        check(
            self.batch_size >= 2,
            "train.batch_size",
            "at least 2 (batch norm)",
            self.batch_size,
        )?;
        check_positive("train.lr", self.lr)?;
        for (key, beta) in [("train.beta1", self.beta1), ("train.beta2", self.beta2)] {
            check((0.0..1.0).contains(&beta), key, "in [0, 1)", beta)?;
        }
        Ok(())
    }

    /// Adam as the papers use it (AdamW's parameters without weight decay; see `nn::Adam`).
    pub fn adam(&self) -> candle_nn::ParamsAdamW {
        candle_nn::ParamsAdamW {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Mini-batches per epoch on `n` windows: the last incomplete batch is dropped (batch
/// norm on a handful of windows is noise) unless the set is smaller than one batch.
pub fn batches(n: usize, batch_size: usize) -> usize {
    (n / batch_size).max(1)
}

/// Copies `windows[indices]` into one `B × C × L` tensor.
pub fn batch_tensor(
    windows: &Windows,
    indices: &[usize],
    device: &Device,
) -> candle_core::Result<Tensor> {
    let per = windows.channels * windows.length;
    let mut data = Vec::with_capacity(indices.len() * per);
    for &i in indices {
        data.extend_from_slice(&windows.data[i * per..(i + 1) * per]);
    }
    Tensor::from_vec(
        data,
        (indices.len(), windows.channels, windows.length),
        device,
    )
}

/// One epoch of shuffled mini-batches (see [`batches`]): `step` trains on one batch and
/// returns its loss terms (named by `names`); the epoch's losses are their means. A
/// non-finite loss stops training with an error naming the term and the batch.
pub fn train_epoch(
    train: &Windows,
    batch_size: usize,
    device: &Device,
    rng: &mut SplitMix64,
    names: &[&'static str],
    on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    mut step: impl FnMut(&Tensor) -> anyhow::Result<Vec<f64>>,
) -> anyhow::Result<EpochLosses> {
    let mut order: Vec<usize> = (0..train.n).collect();
    rng.shuffle(&mut order);
    let n_batches = batches(train.n, batch_size);
    let bs = batch_size.min(train.n);
    let mut sums = vec![0.0; names.len()];
    for b in 0..n_batches {
        let x = batch_tensor(train, &order[b * bs..(b + 1) * bs], device)?;
        let values = step(&x)?;
        for (name, v) in names.iter().zip(&values) {
            if !v.is_finite() {
                anyhow::bail!("training diverged: {name} = {v} at batch {b}");
            }
        }
        for (s, v) in sums.iter_mut().zip(values) {
            *s += v;
        }
        on_batch()?;
    }
    Ok(names
        .iter()
        .zip(sums)
        .map(|(name, s)| (*name, s / n_batches as f64))
        .collect())
}

/// Applies `f` (a batch `B × C × L` → `B` values) to `windows` in chunks of `chunk`;
/// a stop request ([`crate::stop`]) ends it between chunks.
pub fn per_window(
    windows: &Windows,
    device: &Device,
    chunk: usize,
    mut f: impl FnMut(&Tensor) -> anyhow::Result<Tensor>,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(windows.n);
    let all: Vec<usize> = (0..windows.n).collect();
    for indices in all.chunks(chunk) {
        crate::stop::check()?;
        let x = batch_tensor(windows, indices, device)?;
        out.extend(f(&x)?.to_vec1::<f32>()?.into_iter().map(f64::from));
    }
    Ok(out)
}

/// [`per_window`] over batches of `batch_size` windows in an order shuffled by `rng`
/// (the last batch partial), the scores returned in the windows' own order: for scoring
/// with batch statistics, where a window's batch matters.
pub fn per_window_shuffled(
    windows: &Windows,
    device: &Device,
    batch_size: usize,
    rng: &mut SplitMix64,
    mut f: impl FnMut(&Tensor) -> anyhow::Result<Tensor>,
) -> anyhow::Result<Vec<f64>> {
    let mut order: Vec<usize> = (0..windows.n).collect();
    rng.shuffle(&mut order);
    let mut out = vec![0.0; windows.n];
    for indices in order.chunks(batch_size.max(1)) {
        crate::stop::check()?;
        let x = batch_tensor(windows, indices, device)?;
        for (&i, s) in indices.iter().zip(f(&x)?.to_vec1::<f32>()?) {
            out[i] = f64::from(s);
        }
    }
    Ok(out)
}

/// Applies `f` (a batch → its reconstruction, same shape) to `windows` in chunks (a
/// stop request ends it between them).
pub fn reconstruct_windows(
    windows: &Windows,
    device: &Device,
    chunk: usize,
    mut f: impl FnMut(&Tensor) -> anyhow::Result<Tensor>,
) -> anyhow::Result<Windows> {
    let mut out = Windows {
        data: Vec::with_capacity(windows.data.len()),
        ..windows.clone()
    };
    let all: Vec<usize> = (0..windows.n).collect();
    for indices in all.chunks(chunk) {
        crate::stop::check()?;
        let x = batch_tensor(windows, indices, device)?;
        out.data.extend(f(&x)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Mean over all but the first axis: one value per window.
pub fn mean_per_window(t: &Tensor) -> candle_core::Result<Tensor> {
    t.flatten_from(1)?.mean(1)
}

/// A model's training state (see `Detector::training_state`) from its optimisers and
/// noise generators, each under its field's name; `None` if an optimiser cannot save
/// its state (variables of another element type than f32, stepped by candle).
pub fn save_training_state(
    optimisers: &[(&str, &Adam)],
    rngs: &[(&str, &SplitMix64)],
) -> anyhow::Result<Option<Snapshot>> {
    let mut state = Snapshot::new();
    for (name, opt) in optimisers {
        if !opt.save_state(name, &mut state)? {
            return Ok(None);
        }
    }
    for (name, rng) in rngs {
        // The u64 state through i64, bit for bit (safetensors has no u64 in candle).
        let bits = rng.state() as i64;
        state.insert(format!("{name}.state"), Tensor::new(&[bits], &Device::Cpu)?);
    }
    Ok(Some(state))
}

/// Restores what [`save_training_state`] saved into the same optimisers and generators.
pub fn load_training_state(
    state: &Snapshot,
    optimisers: &mut [(&str, &mut Adam)],
    rngs: &mut [(&str, &mut SplitMix64)],
) -> anyhow::Result<()> {
    for (name, opt) in optimisers.iter_mut() {
        opt.load_state(name, state)?;
    }
    for (name, rng) in rngs.iter_mut() {
        let key = format!("{name}.state");
        let bits = state
            .get(&key)
            .with_context(|| format!("the checkpoint lacks `{key}`"))?
            .to_vec1::<i64>()?;
        **rng = SplitMix64::new(bits[0] as u64);
    }
    Ok(())
}
