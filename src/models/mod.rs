//! Detectors: one file per model, all behind [`Detector`], and the registry of their
//! configs ([`ModelConfig`]).
//!
//! A model is its file — its `Config` (the paper's defaults, documented keys, its own
//! `validate`), the [`ModelSpec`] that builds it, then the detector — plus one line in
//! the registry below. A detector trains one epoch at a time (the runner owns the epoch
//! loop, model selection and storage), scores windows (higher = more anomalous), and
//! saves/loads its weights as safetensors. Nothing here knows a dataset's format, the
//! store or the sweep.

pub mod anogan;
pub mod autoencoder;
pub mod beatgan;
pub mod beatgan_kd;
pub mod ganomaly;
pub mod iforest;
pub mod knn;
pub mod lstm_ae;
pub mod matrix_profile;
pub mod pca;
pub mod random;
pub mod tadgan;
pub mod template;
pub mod train;

pub use train::{Precision, TrainConfig};

use crate::data::{Timeline, Windows};
use crate::registry::tagged_registry;
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
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses>;
    /// Anomaly score per window (higher = more anomalous), in eval mode.
    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>>;
    /// Scores `windows` as BeatGAN's official validation does, for `protocol: paper`:
    /// the networks in training mode, so each batch (of the training batch size, in a
    /// shuffled order, the last one partial) is normalised by its own statistics and
    /// the batch norms' running statistics follow these windows (the test, in eval
    /// mode, then normalises with them). `None` (the default): the detector scores
    /// validation as it scores test.
    fn score_training_mode(
        &mut self,
        _windows: &Windows,
        _rng: &mut SplitMix64,
    ) -> anyhow::Result<Option<Vec<f64>>> {
        Ok(None)
    }
    /// One score per time step of the series whose test windows are `windows` (placed by
    /// `timeline`), for a detector that scores a series its own way rather than window by
    /// window (TadGAN: Orion's per-step pipeline). `None` (the default): the window
    /// scores are used, and the metrics average them onto the steps they cover.
    fn score_steps(
        &self,
        _windows: &Windows,
        _timeline: &Timeline,
    ) -> anyhow::Result<Option<Vec<f64>>> {
        Ok(None)
    }
    /// The model's reconstruction of each window (same shape), in eval mode, for
    /// input-vs-reconstruction figures; `None` (the default) for a detector that does
    /// not reconstruct.
    fn reconstruct(&self, _windows: &Windows) -> anyhow::Result<Option<Windows>> {
        Ok(None)
    }
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
    /// What training carries from one epoch to the next besides the weights (optimiser
    /// moments and steps, noise generators), so that a run resumed from an epoch-end
    /// checkpoint continues exactly as if never stopped. `None`: this model does not
    /// resume (fitted in one pass, or an optimiser steps variables that are not f32); an
    /// interrupted run of it starts again.
    fn training_state(&self) -> anyhow::Result<Option<Snapshot>> {
        Ok(None)
    }
    /// Restores what [`Detector::training_state`] returned.
    fn set_training_state(&mut self, _state: &Snapshot) -> anyhow::Result<()> {
        anyhow::bail!("this model does not resume from checkpoints")
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
    /// Mini-batches per epoch on `n` training windows (see [`train::batches`]); a model
    /// fitted in one pass over the data (the classical baselines) says 1.
    fn batches_per_epoch(&self, n: usize) -> usize {
        train::batches(n, self.batch_size())
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
    /// For the 1-D conv stacks (BeatGAN family, GANomaly on signals, AnoGAN): the next
    /// supported length when the windows' is not one ([`crate::nn::stacks::supported_length`]);
    /// images keep their 2-D stacks' own rule.
    pub fn conv_length(&self) -> Option<usize> {
        let supported = crate::nn::stacks::supported_length(self.length);
        (self.image.is_none() && supported != self.length).then_some(supported)
    }

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

tagged_registry! {
    /// Which detector, with its architecture and loss weights. `name` selects the model;
    /// one line per model.
    pub enum ModelConfig: dyn ModelSpec, names MODEL_NAMES, section "model" {
        "beatgan" => Beatgan(beatgan::BeatganConfig),
        /// A narrow BeatGAN student distilled from a frozen BeatGAN teacher.
        "beatgan_kd" => BeatganKd(beatgan_kd::BeatganKdConfig),
        "ae" => Ae(autoencoder::AeConfig),
        "vae" => Vae(autoencoder::VaeConfig),
        "lstm_ae" => LstmAe(lstm_ae::LstmAeConfig),
        "ganomaly" => Ganomaly(ganomaly::GanomalyConfig),
        "anogan" => Anogan(anogan::AnoganConfig),
        "tadgan" => Tadgan(tadgan::TadganConfig),
        /// The model-free baseline: distance to the mean (or median) training window.
        "template" => Template(template::TemplateConfig),
        /// Classical baselines: PCA reconstruction error, k nearest neighbours,
        /// Isolation Forest, the matrix profile (series), and chance.
        "pca" => Pca(pca::PcaConfig),
        "knn" => Knn(knn::KnnConfig),
        "iforest" => Iforest(iforest::IforestConfig),
        "matrix_profile" => MatrixProfile(matrix_profile::MatrixProfileConfig),
        "random" => Random(random::RandomConfig),
    }
}

/// What the harness asks of a model's config.
pub trait ModelSpec {
    /// Checks ranges serde cannot express; a message names the key (`model.nz`) and the
    /// valid range.
    fn validate(&self) -> Result<(), String>;

    /// Builds the detector, initialised from `ctx.seed`.
    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>>;

    /// The paper's training settings for this model: a run's `train:` keys that neither
    /// the sweep nor the model's own `train:` block sets. BeatGAN's by default; one epoch
    /// for a baseline (its fit is one pass, so more epochs only refit it).
    fn train_defaults(&self) -> TrainConfig {
        if self.is_baseline() {
            TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            }
        } else {
            TrainConfig::default()
        }
    }

    /// Runs that must be done before this one trains (a student's teacher). Each is the
    /// same run (data, fold, seed, eval) with another model and possibly other epochs.
    fn dependencies(&self) -> Vec<Needs> {
        Vec::new()
    }

    /// Test metrics that compare this run with its finished dependencies (a student's
    /// AUC retention), from this run's own `(name, value)` test metrics.
    fn relative_metrics(&self, _own: &[(String, f64)], _deps: &[Finished]) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// The window length the model takes for data of `shape`, when not the data's own:
    /// the runner then resamples every window to it (`Windows::resampled`) and records
    /// both lengths with the run. `None` (the default): any length.
    fn input_length(&self, _shape: InputShape) -> Option<usize> {
        None
    }

    /// Whether it is a classical baseline (no trained network): reports test the trained
    /// detectors against the best of these.
    fn is_baseline(&self) -> bool {
        false
    }

    /// The model's control setting, as values of its own keys (`alpha`, not
    /// `model.alpha`): reports test each other setting against it, run by run (same
    /// data, fold and seed, every other setting equal). Empty: no control.
    fn control(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Whether it can only score the rolling windows of one series (the matrix profile):
    /// a sweep pairing it with other data is refused before anything is trained.
    fn needs_series(&self) -> bool {
        false
    }

    /// Whether it runs step by step over time (LSTMs): far slower per sample, so
    /// benchmarks give it shorter windows.
    fn steps_in_time(&self) -> bool {
        false
    }

    /// The model a checkpoint of this run loads into to score on its own, when that is
    /// not this model (a distilled student is a plain BeatGAN: its teacher only shaped
    /// training).
    fn for_inference(&self) -> Option<ModelConfig> {
        None
    }
}

/// A run another run needs done first.
#[derive(Debug, Clone, PartialEq)]
pub struct Needs {
    /// How the dependent names it (`teacher`): in errors, the store and [`Finished`].
    pub role: &'static str,
    pub model: ModelConfig,
    /// Epochs of the needed run; `None`: the dependent's `train.epochs`.
    pub epochs: Option<usize>,
}

/// A finished dependency, as the dependent's detector and metrics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub role: String,
    pub checkpoint: std::path::PathBuf,
    /// Its test AUC-ROC, when it has one.
    pub auc_roc: Option<f64>,
}

/// Everything a model's [`ModelSpec::build`] gets besides its own config.
pub struct Build<'a> {
    pub train: &'a TrainConfig,
    pub shape: InputShape,
    pub device: &'a Device,
    pub seed: u64,
    /// The finished runs of [`ModelSpec::dependencies`], in that order.
    pub dependencies: &'a [Finished],
}

impl Build<'_> {
    /// The finished dependency of `role`; an error if the runner did not provide it.
    pub fn dependency(&self, role: &str) -> anyhow::Result<&Finished> {
        self.dependencies
            .iter()
            .find(|d| d.role == role)
            .ok_or_else(|| anyhow::anyhow!("this model needs its {role}'s checkpoint"))
    }
}

impl ModelConfig {
    /// Builds the detector this config names.
    pub fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        self.spec().build(ctx)
    }

    /// See [`ModelSpec::for_inference`]: this config, or the one its checkpoint loads into.
    pub fn for_inference(&self) -> ModelConfig {
        self.spec().for_inference().unwrap_or_else(|| self.clone())
    }
}
