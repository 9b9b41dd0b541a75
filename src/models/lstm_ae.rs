//! LSTM autoencoder (Malhotra et al. 2016 style; `../shared/specs/models.md`,
//! "Autoencoder baselines"): an LSTM encoder (hidden = nz) reads the window, its last
//! hidden state is repeated at every step as the decoder LSTM's input, and a per-step
//! linear layer maps the decoder's states back to the channels. Loss and score =
//! reconstruction MSE. Works for any window length.

use super::train::{mean_per_window, per_window, reconstruct_windows, train_epoch};
use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::Adam;
use crate::nn::{loss, trainable, Dense, Lstm};
use crate::registry::check_sizes;
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// LSTM autoencoder: LSTM encoder (hidden = nz), last state repeated, LSTM decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LstmAeConfig {
    /// Hidden size of both LSTMs (the code is the encoder's last hidden state). The spec
    /// names no paper default; 64 is a common choice for single-lead windows.
    pub nz: usize,
}

impl Default for LstmAeConfig {
    fn default() -> Self {
        LstmAeConfig { nz: 64 }
    }
}

impl ModelSpec for LstmAeConfig {
    fn steps_in_time(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes("model", &[("nz", self.nz)])
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(LstmAe::new(self, ctx)?))
    }
}

const SCORE_BATCH: usize = 256;

pub struct LstmAe {
    batch_size: usize,
    device: Device,
    vars: VarMap,
    encoder: Lstm,
    decoder: Lstm,
    output: Dense,
    opt: Adam,
}

impl LstmAe {
    pub fn new(cfg: &LstmAeConfig, ctx: &Build) -> anyhow::Result<Self> {
        let Build {
            train,
            shape,
            device,
            seed,
            ..
        } = *ctx;
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let encoder = Lstm::new(shape.channels, cfg.nz, vb.pp("enc"))?;
        let decoder = Lstm::new(cfg.nz, cfg.nz, vb.pp("dec"))?;
        let output = Dense::new(cfg.nz, shape.channels, vb.pp("out"))?;
        // No conv layers: the conv rule is unused.
        init_weights(
            &vars,
            "",
            ConvInit::XavierNormal,
            &mut SplitMix64::new(seed),
        )?;
        let opt = Adam::new(trainable(&vars, ""), train.adam())?;
        Ok(LstmAe {
            batch_size: train.batch_size,
            device: device.clone(),
            vars,
            encoder,
            decoder,
            output,
            opt,
        })
    }

    /// `B × C × L` → its reconstruction.
    pub fn reconstruct_batch(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let l = x.dim(2)?;
        let seq = x.transpose(1, 2)?.contiguous()?; // B × L × C
        let code = self.encoder.forward(&seq, false)?.last; // B × nz
                                                            // The code is the decoder's input at every step.
        let states = Tensor::stack(&self.decoder.forward_steps(&vec![code; l], false)?, 1)?;
        self.output.forward(&states)?.transpose(1, 2)?.contiguous()
    }
}

impl Detector for LstmAe {
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        super::train::save_training_state(&[("opt", &self.opt)], &[])
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        super::train::load_training_state(state, &mut [("opt", &mut self.opt)], &mut [])
    }
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        let (bs, device) = (self.batch_size, self.device.clone());
        train_epoch(train, bs, &device, rng, &["err_rec"], on_batch, |x| {
            let err = loss::mse(&self.reconstruct_batch(x)?, x)?;
            self.opt.backward_step(&err)?;
            Ok(vec![err.to_scalar::<f32>()? as f64])
        })
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        per_window(windows, &self.device, SCORE_BATCH, |x| {
            Ok(mean_per_window(&(x - self.reconstruct_batch(x)?)?.sqr()?)?)
        })
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        reconstruct_windows(windows, &self.device, SCORE_BATCH, |x| {
            Ok(self.reconstruct_batch(x)?)
        })
        .map(Some)
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }
}
