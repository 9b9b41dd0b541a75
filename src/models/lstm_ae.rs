//! LSTM autoencoder (Malhotra et al. 2016 style; `../shared/specs/models.md`,
//! "Autoencoder baselines"): an LSTM encoder (hidden = nz) reads the window, its last
//! hidden state is repeated at every step as the decoder LSTM's input, and a per-step
//! linear layer maps the decoder's states back to the channels. Loss and score =
//! reconstruction MSE. Works for any window length.

use super::{
    adam, mean_per_window, per_window, reconstruct_windows, train_epoch, Detector, EpochLosses,
    InputShape,
};
use crate::config::{LstmAeConfig, TrainConfig};
use crate::data::Windows;
use crate::nn::init::{init_zoo, ConvInit};
use crate::nn::Adam;
use crate::nn::{loss, trainable, Dense, Lstm};
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};

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
    pub fn new(
        cfg: &LstmAeConfig,
        train: &TrainConfig,
        shape: InputShape,
        device: &Device,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let encoder = Lstm::new(shape.channels, cfg.nz, vb.pp("enc"))?;
        let decoder = Lstm::new(cfg.nz, cfg.nz, vb.pp("dec"))?;
        let output = Dense::new(cfg.nz, shape.channels, vb.pp("out"))?;
        // No conv layers: the conv rule is unused.
        init_zoo(
            &vars,
            "",
            ConvInit::XavierNormal,
            &mut SplitMix64::new(seed),
        )?;
        let opt = Adam::new(trainable(&vars, ""), adam(train))?;
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
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut(),
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
