//! Reconstruction baselines on the BeatGAN conv stacks (`../shared/specs/models.md`,
//! "Autoencoder baselines"):
//! - AE: BeatGAN's generator alone (conv encoder → conv decoder), no discriminator;
//!   loss and score = reconstruction MSE.
//! - VAE: the encoder outputs 2·nz channels, μ and log σ²; z = μ + σ·ε; loss = MSE +
//!   β_kl·KL(N(μ, σ²) ‖ N(0, 1)) with the KL summed over nz and averaged over the batch;
//!   score = reconstruction MSE of the mean path (decoder(μ)), so scoring is deterministic.

use super::train::{mean_per_window, per_window, reconstruct_windows, train_epoch};
use super::{Build, Detector, EpochLosses, InputShape, ModelSpec};
use crate::data::Windows;
use crate::nn::dense::randn;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::Adam;
use crate::nn::{loss, trainable, ConvDecoder, ConvEncoder};
use crate::registry::{check_sizes, check_weights};
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// Autoencoder baseline: BeatGAN's generator alone; defaults are BeatGAN's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AeConfig {
    pub nz: usize,
    pub ndf: usize,
    pub ngf: usize,
}

impl Default for AeConfig {
    fn default() -> Self {
        AeConfig {
            nz: 50,
            ndf: 32,
            ngf: 32,
        }
    }
}

impl ModelSpec for AeConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes(
            "model",
            &[("nz", self.nz), ("ndf", self.ndf), ("ngf", self.ngf)],
        )
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let widths = (self.nz, self.ndf, self.ngf);
        Ok(Box::new(Autoencoder::new(Variant::Plain, widths, ctx)?))
    }
}

/// Variational autoencoder on the same conv stacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaeConfig {
    pub nz: usize,
    pub ndf: usize,
    pub ngf: usize,
    /// Weight of the KL term.
    pub beta_kl: f64,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            nz: 50,
            ndf: 32,
            ngf: 32,
            beta_kl: 1.0,
        }
    }
}

impl ModelSpec for VaeConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes(
            "model",
            &[("nz", self.nz), ("ndf", self.ndf), ("ngf", self.ngf)],
        )?;
        check_weights("model", &[("beta_kl", self.beta_kl)])
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let variant = Variant::Variational {
            beta_kl: self.beta_kl,
        };
        let widths = (self.nz, self.ndf, self.ngf);
        Ok(Box::new(Autoencoder::new(variant, widths, ctx)?))
    }
}

const SCORE_BATCH: usize = 256;

/// Plain or variational.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variant {
    Plain,
    /// With the KL weight β_kl.
    Variational {
        beta_kl: f64,
    },
}

pub struct Autoencoder {
    variant: Variant,
    nz: usize,
    batch_size: usize,
    device: Device,
    vars: VarMap,
    encoder: ConvEncoder,
    decoder: ConvDecoder,
    opt: Adam,
    /// Draws the VAE's reparameterisation noise ε.
    noise: SplitMix64,
}

impl Autoencoder {
    pub fn new(
        variant: Variant,
        (nz, ndf, ngf): (usize, usize, usize),
        ctx: &Build,
    ) -> anyhow::Result<Self> {
        let Build {
            train,
            shape,
            device,
            seed,
            ..
        } = *ctx;
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let (c, l) = (shape.channels, shape.length);
        let enc_out = match variant {
            Variant::Plain => nz,
            Variant::Variational { .. } => 2 * nz,
        };
        let encoder = ConvEncoder::new(c, ndf, enc_out, l, vb.pp("enc"))?;
        let decoder = ConvDecoder::new(nz, ngf, c, l, vb.pp("dec"))?;
        let mut rng = SplitMix64::new(seed);
        // The BeatGAN generator's init, as the AE is that generator.
        init_weights(&vars, "", ConvInit::XavierNormal, &mut rng)?;
        let opt = Adam::new(trainable(&vars, ""), train.adam())?;
        Ok(Autoencoder {
            variant,
            nz,
            batch_size: train.batch_size,
            device: device.clone(),
            vars,
            encoder,
            decoder,
            opt,
            noise: rng,
        })
    }

    /// The deterministic reconstruction: decoder(z) for the AE, decoder(μ) for the VAE.
    pub fn reconstruct_batch(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let code = self.encoder.forward_t(x, train)?.out;
        let z = code.narrow(1, 0, self.nz)?;
        self.decoder.forward_t(&z, train)
    }

    /// One Adam step; returns (loss, rec, kl) (kl = 0 for the AE).
    fn step(&mut self, x: &Tensor) -> anyhow::Result<Vec<f64>> {
        let code = self.encoder.forward_t(x, true)?.out;
        let (recon, kl) = match self.variant {
            Variant::Plain => (self.decoder.forward_t(&code, true)?, None),
            Variant::Variational { beta_kl } => {
                let mu = code.narrow(1, 0, self.nz)?;
                let logvar = code.narrow(1, self.nz, self.nz)?;
                let eps = randn(mu.dims(), &mut self.noise, &self.device)?;
                let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
                // KL(N(μ,σ²)‖N(0,1)) = −½ Σ (1 + log σ² − μ² − σ²), summed over nz.
                let kl = ((logvar.affine(1.0, 1.0)? - mu.sqr()?)? - logvar.exp()?)?
                    .sum(1)?
                    .mean_all()?
                    .affine(-0.5, 0.0)?;
                (self.decoder.forward_t(&z, true)?, Some((kl, beta_kl)))
            }
        };
        let rec = loss::mse(&recon, x)?;
        let total = match &kl {
            None => rec.clone(),
            Some((kl, beta)) => (&rec + (kl * *beta)?)?,
        };
        self.opt.backward_step(&total)?;
        let kl_value = match &kl {
            None => 0.0,
            Some((kl, _)) => kl.to_scalar::<f32>()? as f64,
        };
        Ok(vec![
            total.to_scalar::<f32>()? as f64,
            rec.to_scalar::<f32>()? as f64,
            kl_value,
        ])
    }
}

impl Detector for Autoencoder {
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        super::train::save_training_state(&[("opt", &self.opt)], &[("noise", &self.noise)])
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        super::train::load_training_state(
            state,
            &mut [("opt", &mut self.opt)],
            &mut [("noise", &mut self.noise)],
        )
    }
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        let names: &[&'static str] = match self.variant {
            Variant::Plain => &["loss", "err_rec"],
            Variant::Variational { .. } => &["loss", "err_rec", "err_kl"],
        };
        let (bs, device) = (self.batch_size, self.device.clone());
        train_epoch(train, bs, &device, rng, names, on_batch, |x| self.step(x))
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        per_window(windows, &self.device, SCORE_BATCH, |x| {
            Ok(mean_per_window(
                &(x - self.reconstruct_batch(x, false)?)?.sqr()?,
            )?)
        })
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        reconstruct_windows(windows, &self.device, SCORE_BATCH, |x| {
            Ok(self.reconstruct_batch(x, false)?)
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
