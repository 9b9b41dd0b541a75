//! Detectors: one file per model, all behind [`Detector`].
//!
//! A detector trains one epoch at a time (the runner owns the epoch loop, model
//! selection and storage), scores windows (higher = more anomalous), and saves/loads
//! its weights as safetensors.

pub mod beatgan;
pub mod distill;

use crate::config::{ModelConfig, TrainConfig};
use crate::data::Windows;
use crate::rng::SplitMix64;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// Loss terms of one epoch (means over its batches), named as stored in `epochs`.
pub type EpochLosses = Vec<(&'static str, f64)>;

/// A copy of a detector's weights in memory, to keep the selected epoch's model.
pub type Snapshot = HashMap<String, Tensor>;

pub trait Detector: Send {
    /// One pass over `train` in shuffled mini-batches; `on_batch` is called after each.
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut(),
    ) -> anyhow::Result<EpochLosses>;
    /// Anomaly score per window (higher = more anomalous), in eval mode.
    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>>;
    /// The model's reconstruction of each window (same shape), in eval mode, for
    /// input-vs-reconstruction figures; `None` for a detector that does not reconstruct.
    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>>;
    fn snapshot(&self) -> anyhow::Result<Snapshot>;
    fn restore(&mut self, snapshot: &Snapshot) -> anyhow::Result<()>;
    fn save(&self, path: &Path) -> anyhow::Result<()>;
    fn load(&mut self, path: &Path) -> anyhow::Result<()>;
    /// Model-specific test metrics beyond the scores (e.g. a student's compression ratio
    /// and per-window inference times).
    fn extra_metrics(&self, _test: &Windows) -> anyhow::Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }
    /// Trainable parameters, all networks included.
    fn n_params(&self) -> usize;
    /// Mini-batches per epoch on `n` training windows (for progress bars).
    fn batches_per_epoch(&self, n: usize) -> usize;
}

/// Shape of the windows a detector is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    pub channels: usize,
    pub length: usize,
}

/// Builds the detector named by `model`, initialised from `seed`. A distillation
/// student needs its teacher run's checkpoint.
pub fn build(
    model: &ModelConfig,
    train: &TrainConfig,
    shape: InputShape,
    device: &Device,
    seed: u64,
    teacher_checkpoint: Option<&Path>,
) -> anyhow::Result<Box<dyn Detector>> {
    Ok(match model {
        ModelConfig::Beatgan(cfg) => Box::new(beatgan::BeatGan::new(
            cfg.clone(),
            train.clone(),
            shape,
            device,
            seed,
        )?),
        ModelConfig::BeatganKd(kd) => {
            let checkpoint = teacher_checkpoint
                .ok_or_else(|| anyhow::anyhow!("beatgan_kd needs its teacher's checkpoint"))?;
            Box::new(distill::student(
                kd,
                train.clone(),
                shape,
                device,
                seed,
                checkpoint,
            )?)
        }
    })
}

/// Copies `windows[indices]` into one `B × C × L` tensor.
pub(crate) fn batch_tensor(
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
