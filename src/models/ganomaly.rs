//! GANomaly (Akcay et al., ACCV 2018; official code samet-akcay/ganomaly), as specified
//! in `../shared/specs/models.md`: G = E1 → Dec → E2 (two conv encoders with their own
//! weights around a conv decoder), D = conv encoder with a feature map. Per batch, G
//! first: w_adv·L2(feat_D(x), feat_D(x̂)) + w_con·L1(x, x̂) + w_enc·L2(z, ẑ); then D:
//! ½·(BCE(D(x), 1) + BCE(D(x̂), 0)), re-initialised when it wins too easily.
//! Score = mean over nz of (z − ẑ)².
//!
//! The stacks follow the data's shape, as the paper's "1-D for signals, 2-D for images":
//! signals (`Windows::image` = `None`) get the BeatGAN-family 1-D stacks
//! ([`ConvEncoder`], [`ConvDecoder`]; windows of 10·2^n); images (digits: 8×8) get the
//! DCGAN-style 2-D stacks of the official code ([`ConvEncoder2d`], [`ConvDecoder2d`];
//! square sides of 4·2^n), with the same losses, score and weights' names. At 8×8 each
//! encoder is Conv2d(1→ndf, 4, 2, 1) + LeakyReLU → ndf×4×4 (D's feature map) →
//! Conv2d(ndf→out, 4, 1, 0) → out×1×1, and the decoder ConvT2d(nz→ngf, 4, 1, 0) + BN +
//! ReLU → ngf×4×4 → ConvT2d(ngf→1, 4, 2, 1) + tanh → 1×8×8.

use super::train::{mean_per_window, per_window, reconstruct_windows, train_epoch};
use super::{Build, Detector, EpochLosses, InputShape, ModelSpec, TrainConfig};
use crate::data::Windows;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::stacks::Encoded;
use crate::nn::Adam;
use crate::nn::{loss, trainable, ConvDecoder, ConvDecoder2d, ConvEncoder, ConvEncoder2d};
use crate::registry::{check_sizes, check_weights};
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// GANomaly (Akcay et al., ACCV 2018); defaults are the paper's, training included
/// (Adam lr 2e-4, betas (0.5, 0.999), batch 64, 15 epochs: [`ModelSpec::train_defaults`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GanomalyConfig {
    pub nz: usize,
    pub ndf: usize,
    pub ngf: usize,
    /// Weight of the feature-matching adversarial loss.
    pub w_adv: f64,
    /// Weight of the contextual (L1 reconstruction) loss.
    pub w_con: f64,
    /// Weight of the latent (encoder) loss ‖z − ẑ‖².
    pub w_enc: f64,
}

impl Default for GanomalyConfig {
    fn default() -> Self {
        GanomalyConfig {
            nz: 100,
            ndf: 64,
            ngf: 64,
            w_adv: 1.0,
            w_con: 50.0,
            w_enc: 1.0,
        }
    }
}

impl ModelSpec for GanomalyConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn train_defaults(&self) -> TrainConfig {
        TrainConfig {
            epochs: 15,
            lr: 2e-4,
            ..TrainConfig::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes(
            "model",
            &[("nz", self.nz), ("ndf", self.ndf), ("ngf", self.ngf)],
        )?;
        check_weights(
            "model",
            &[
                ("w_adv", self.w_adv),
                ("w_con", self.w_con),
                ("w_enc", self.w_enc),
            ],
        )
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(Ganomaly::new(self.clone(), ctx)?))
    }
}

/// The official code re-initialises D when err_d falls below this after a step.
const D_REINIT_BELOW: f64 = 1e-5;
const SCORE_BATCH: usize = 256;
const LOSS_NAMES: [&str; 5] = ["err_d", "err_g", "err_g_adv", "err_g_con", "err_g_enc"];

pub struct Ganomaly {
    cfg: GanomalyConfig,
    batch_size: usize,
    device: Device,
    /// `g.enc1.*`, `g.dec.*`, `g.enc2.*` (generator) and `d.*` (discriminator).
    vars: VarMap,
    enc1: Encoder,
    dec: Decoder,
    enc2: Encoder,
    disc: Encoder,
    opt_g: Adam,
    opt_d: Adam,
    reinit_rng: SplitMix64,
}

/// What the generator produces for a batch.
pub struct Generated {
    pub z: Tensor,
    pub x_hat: Tensor,
    pub z_hat: Tensor,
}

impl Ganomaly {
    pub fn new(cfg: GanomalyConfig, ctx: &Build) -> anyhow::Result<Self> {
        let (shape, device, seed) = (ctx.shape, ctx.device, ctx.seed);
        if let Some((h, w)) = shape.image {
            anyhow::ensure!(
                h * w == shape.length,
                "windows of {} samples cannot be {h}×{w} images",
                shape.length
            );
        }
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let enc1 = Encoder::new(shape, cfg.ndf, cfg.nz, vb.pp("g.enc1"))?;
        let dec = Decoder::new(shape, cfg.ngf, cfg.nz, vb.pp("g.dec"))?;
        let enc2 = Encoder::new(shape, cfg.ndf, cfg.nz, vb.pp("g.enc2"))?;
        let disc = Encoder::new(shape, cfg.ndf, 1, vb.pp("d"))?;
        let mut rng = SplitMix64::new(seed);
        init_weights(&vars, "", ConvInit::Normal002, &mut rng)?;
        let opt_g = Adam::new(trainable(&vars, "g."), ctx.train.adam())?;
        let opt_d = Adam::new(trainable(&vars, "d."), ctx.train.adam())?;
        Ok(Ganomaly {
            cfg,
            batch_size: ctx.train.batch_size,
            device: device.clone(),
            vars,
            enc1,
            dec,
            enc2,
            disc,
            opt_g,
            opt_d,
            reinit_rng: rng,
        })
    }

    pub fn generate(&self, x: &Tensor, train: bool) -> candle_core::Result<Generated> {
        let z = self.enc1.forward_t(x, train)?.out;
        let x_hat = self.dec.forward_t(&z, train)?;
        let z_hat = self.enc2.forward_t(&x_hat, train)?.out;
        Ok(Generated { z, x_hat, z_hat })
    }

    fn step(&mut self, x: &Tensor) -> anyhow::Result<Vec<f64>> {
        let g = self.generate(x, true)?;
        let feat_real = self.disc.forward_t(x, true)?.features().detach();
        // D's weights held constant: this step trains G only.
        let feat_fake = self.disc.forward_frozen(&g.x_hat)?.features();
        let err_adv = loss::mse(&feat_fake, &feat_real)?;
        let err_con = loss::l1(&g.x_hat, x)?;
        let err_enc = loss::mse(&g.z_hat, &g.z)?;
        let err_g = ((&err_adv * self.cfg.w_adv)?
            + (&err_con * self.cfg.w_con)?
            + (&err_enc * self.cfg.w_enc)?)?;
        self.opt_g.backward_step(&err_g)?;

        let real_logit = self.disc.forward_t(x, true)?.out;
        let fake_logit = self.disc.forward_t(&g.x_hat.detach(), true)?.out;
        let err_d = ((loss::bce_with_logits(&real_logit, 1.0)?
            + loss::bce_with_logits(&fake_logit, 0.0)?)?
            * 0.5)?;
        self.opt_d.backward_step(&err_d)?;

        let mut out = Vec::with_capacity(LOSS_NAMES.len());
        for t in [&err_d, &err_g, &err_adv, &err_con, &err_enc] {
            out.push(t.to_scalar::<f32>()? as f64);
        }
        if out[0] < D_REINIT_BELOW {
            init_weights(&self.vars, "d.", ConvInit::Normal002, &mut self.reinit_rng)?;
        }
        Ok(out)
    }
}

/// An encoder over `B × C × L` windows: 1-D for signals, 2-D over the `H × W` image
/// each channel holds for images. `out` is `B × out × 1` either way.
enum Encoder {
    Signal(ConvEncoder),
    Image(ConvEncoder2d, (usize, usize)),
}

impl Encoder {
    fn new(shape: InputShape, ndf: usize, out: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(match shape.image {
            None => Encoder::Signal(ConvEncoder::new(
                shape.channels,
                ndf,
                out,
                shape.length,
                vb,
            )?),
            Some(hw) => Encoder::Image(ConvEncoder2d::new(shape.channels, ndf, out, hw, vb)?, hw),
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Encoded> {
        self.run(x, train, false)
    }

    /// Training mode with the weights held constant (the generator's step through D).
    fn forward_frozen(&self, x: &Tensor) -> candle_core::Result<Encoded> {
        self.run(x, true, true)
    }

    fn run(&self, x: &Tensor, train: bool, frozen: bool) -> candle_core::Result<Encoded> {
        match self {
            Encoder::Signal(net) if frozen => net.forward_frozen(x),
            Encoder::Signal(net) => net.forward_t(x, train),
            Encoder::Image(net, (h, w)) => {
                let (b, c, _) = x.dims3()?;
                let x = x.reshape((b, c, *h, *w))?;
                let enc = if frozen {
                    net.forward_frozen(&x)?
                } else {
                    net.forward_t(&x, train)?
                };
                Ok(Encoded {
                    out: enc.out.flatten_from(2)?,
                    maps: enc.maps,
                })
            }
        }
    }
}

/// The decoder matching [`Encoder`]: `B × nz × 1` → `B × C × L`.
enum Decoder {
    Signal(ConvDecoder),
    Image(ConvDecoder2d),
}

impl Decoder {
    fn new(shape: InputShape, ngf: usize, nz: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(match shape.image {
            None => Decoder::Signal(ConvDecoder::new(nz, ngf, shape.channels, shape.length, vb)?),
            Some(hw) => Decoder::Image(ConvDecoder2d::new(nz, ngf, shape.channels, hw, vb)?),
        })
    }

    fn forward_t(&self, z: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        match self {
            Decoder::Signal(net) => net.forward_t(z, train),
            Decoder::Image(net) => {
                let x = net.forward_t(&z.unsqueeze(3)?, train)?;
                x.flatten_from(2)
            }
        }
    }
}

impl Detector for Ganomaly {
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        super::train::save_training_state(
            &[("opt_g", &self.opt_g), ("opt_d", &self.opt_d)],
            &[("reinit_rng", &self.reinit_rng)],
        )
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        super::train::load_training_state(
            state,
            &mut [("opt_g", &mut self.opt_g), ("opt_d", &mut self.opt_d)],
            &mut [("reinit_rng", &mut self.reinit_rng)],
        )
    }
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        let (bs, device) = (self.batch_size, self.device.clone());
        train_epoch(train, bs, &device, rng, &LOSS_NAMES, on_batch, |x| {
            self.step(x)
        })
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        per_window(windows, &self.device, SCORE_BATCH, |x| {
            let g = self.generate(x, false)?;
            Ok(mean_per_window(&(g.z - g.z_hat)?.sqr()?)?)
        })
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        reconstruct_windows(windows, &self.device, SCORE_BATCH, |x| {
            Ok(self.generate(x, false)?.x_hat)
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
