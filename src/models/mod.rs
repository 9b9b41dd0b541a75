//! Detectors: one file per model, all behind [`Detector`].
//!
//! A detector trains one epoch at a time (the runner owns the epoch loop, model
//! selection and storage), scores windows (higher = more anomalous), and saves/loads
//! its weights as safetensors.

pub mod anogan;
pub mod autoencoder;
pub mod beatgan;
pub mod distill;
pub mod ganomaly;
pub mod lstm_ae;
pub mod tadgan;

use crate::config::{ModelConfig, TrainConfig};
use crate::data::Windows;
use crate::rng::SplitMix64;
use anyhow::Context;
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
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
    /// Every weight and batch-norm statistic of the detector, all networks included:
    /// what snapshots, checkpoints and parameter counts cover.
    fn vars(&self) -> &VarMap;
    /// Windows per training batch.
    fn batch_size(&self) -> usize;
    /// Model-specific test metrics beyond the scores (e.g. a student's compression ratio
    /// and per-window inference times).
    fn extra_metrics(&self, _test: &Windows) -> anyhow::Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }
    /// A copy of every variable, to keep the selected epoch's model.
    fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let data = self.vars().data().lock().expect("var map lock");
        data.iter()
            .map(|(name, var)| Ok((name.clone(), var.as_tensor().copy()?)))
            .collect()
    }
    /// Sets every variable from `snapshot`, which must hold them all.
    fn restore(&mut self, snapshot: &Snapshot) -> anyhow::Result<()> {
        let data = self.vars().data().lock().expect("var map lock");
        for (name, var) in data.iter() {
            let saved = snapshot
                .get(name)
                .with_context(|| format!("the weights lack `{name}`"))?;
            var.set(&saved.to_device(var.device())?)?;
        }
        Ok(())
    }
    /// Writes every variable to a safetensors file.
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        self.vars()
            .save(path)
            .with_context(|| format!("saving weights to {}", path.display()))
    }
    /// Reads every variable from a safetensors file written by [`Detector::save`].
    fn load(&mut self, path: &Path) -> anyhow::Result<()> {
        let weights = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("reading weights from {}", path.display()))?;
        self.restore(&weights)
            .with_context(|| format!("loading weights from {}", path.display()))
    }
    /// Trainable parameters, all networks included.
    fn n_params(&self) -> usize {
        crate::nn::n_params(self.vars(), "")
    }
    /// Mini-batches per epoch on `n` training windows: the last incomplete batch is
    /// dropped (batch norm on a handful of windows is noise), unless the whole set is
    /// smaller than one batch.
    fn batches_per_epoch(&self, n: usize) -> usize {
        (n / self.batch_size()).max(1)
    }
}

/// Shape of the windows a detector is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    pub channels: usize,
    pub length: usize,
    /// `Some((height, width))` when every channel is an image (see [`Windows::image`]).
    pub image: Option<(usize, usize)>,
}

impl InputShape {
    /// A signal of `channels × length`.
    pub fn signal(channels: usize, length: usize) -> Self {
        InputShape {
            channels,
            length,
            image: None,
        }
    }

    /// The shape of `windows`' windows.
    pub fn of(windows: &Windows) -> Self {
        InputShape {
            channels: windows.channels,
            length: windows.length,
            image: windows.image,
        }
    }
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
        ModelConfig::Ae(cfg) => Box::new(autoencoder::Autoencoder::new(
            autoencoder::Variant::Plain,
            (cfg.nz, cfg.ndf, cfg.ngf),
            train,
            shape,
            device,
            seed,
        )?),
        ModelConfig::Vae(cfg) => Box::new(autoencoder::Autoencoder::new(
            autoencoder::Variant::Variational {
                beta_kl: cfg.beta_kl,
            },
            (cfg.nz, cfg.ndf, cfg.ngf),
            train,
            shape,
            device,
            seed,
        )?),
        ModelConfig::LstmAe(cfg) => {
            Box::new(lstm_ae::LstmAe::new(cfg, train, shape, device, seed)?)
        }
        ModelConfig::Ganomaly(cfg) => Box::new(ganomaly::Ganomaly::new(
            cfg.clone(),
            train,
            shape,
            device,
            seed,
        )?),
        ModelConfig::Anogan(cfg) => Box::new(anogan::AnoGan::new(
            cfg.clone(),
            train,
            shape,
            device,
            seed,
        )?),
        ModelConfig::Tadgan(cfg) => Box::new(tadgan::TadGan::new(
            cfg.clone(),
            train,
            shape,
            device,
            seed,
        )?),
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

/// Adam as the papers use it (AdamW's parameters without weight decay; see `nn::Adam`).
pub(crate) fn adam(train: &TrainConfig) -> candle_nn::ParamsAdamW {
    candle_nn::ParamsAdamW {
        lr: train.lr,
        beta1: train.beta1,
        beta2: train.beta2,
        eps: 1e-8,
        weight_decay: 0.0,
    }
}

/// One epoch of shuffled mini-batches: `step` trains on one batch and returns its loss
/// terms (named by `names`); the epoch's losses are their means. A non-finite loss stops
/// training with an error naming the term and the batch. The last incomplete batch is
/// dropped (batch norm on a handful of windows is noise) unless the set is smaller than
/// one batch.
pub(crate) fn train_epoch(
    train: &Windows,
    batch_size: usize,
    device: &Device,
    rng: &mut SplitMix64,
    names: &[&'static str],
    on_batch: &mut dyn FnMut(),
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
        on_batch();
    }
    Ok(names
        .iter()
        .zip(sums)
        .map(|(name, s)| (*name, s / n_batches as f64))
        .collect())
}

/// Mini-batches per epoch on `n` windows (see [`train_epoch`]).
pub(crate) fn batches(n: usize, batch_size: usize) -> usize {
    (n / batch_size).max(1)
}

/// Applies `f` (a batch `B × C × L` → `B` values) to `windows` in chunks of `chunk`.
pub(crate) fn per_window(
    windows: &Windows,
    device: &Device,
    chunk: usize,
    mut f: impl FnMut(&Tensor) -> anyhow::Result<Tensor>,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(windows.n);
    let all: Vec<usize> = (0..windows.n).collect();
    for indices in all.chunks(chunk) {
        let x = batch_tensor(windows, indices, device)?;
        out.extend(f(&x)?.to_vec1::<f32>()?.into_iter().map(f64::from));
    }
    Ok(out)
}

/// Applies `f` (a batch → its reconstruction, same shape) to `windows` in chunks.
pub(crate) fn reconstruct_windows(
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
        let x = batch_tensor(windows, indices, device)?;
        out.data.extend(f(&x)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Mean over all but the first axis: one value per window.
pub(crate) fn mean_per_window(t: &Tensor) -> candle_core::Result<Tensor> {
    t.flatten_from(1)?.mean(1)
}
