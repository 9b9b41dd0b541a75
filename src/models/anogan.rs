//! AnoGAN (Schlegl et al., IPMI 2017), 1-D, as specified in `../shared/specs/models.md`:
//! a DCGAN (G = the conv decoder from z ~ N(0, 1), D = the conv encoder with a feature
//! map f) trained on normal windows with the non-saturating GAN loss; a window is scored
//! by searching the latent code that G maps closest to it: z₀ ~ N(0, 1), then
//! `latent_steps` Adam steps (lr `latent_lr`) on
//! L(z) = (1 − λ)·Σ|x − G(z)| + λ·Σ|f(x) − f(G(z))|, and the score is L at the last z.
//!
//! The search is batched: every window of a chunk (up to [`SEARCH_BATCH`], i.e. all the
//! windows of the sets used here) is optimised at once. G and D run in eval mode, so the
//! windows do not interact and the summed loss gives each z its own gradient; Adam is
//! element-wise, so this is exactly the per-window search. The search runs on a frozen,
//! detached copy of the weights so that backward computes the latent gradient only.

use super::train::{per_window, train_epoch};
use super::{Build, Detector, EpochLosses, InputShape, ModelSpec, TrainConfig};
use crate::data::Windows;
use crate::nn::dense::randn;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::Adam;
use crate::nn::{loss, trainable, ConvDecoder, ConvEncoder};
use crate::registry::{check_positive, check_sizes, check_unit};
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// AnoGAN (Schlegl et al., IPMI 2017): a DCGAN plus a per-window latent search. It
/// trains as a DCGAN (Adam lr 2e-4, betas (0.5, 0.999); epochs as BeatGAN's:
/// [`ModelSpec::train_defaults`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnoganConfig {
    pub nz: usize,
    pub ndf: usize,
    pub ngf: usize,
    /// Weight of the discrimination (feature) loss against the residual loss.
    pub lambda: f64,
    /// Adam steps of the latent search per scored window (Γ).
    pub latent_steps: usize,
    /// Adam learning rate of the latent search.
    pub latent_lr: f64,
}

impl Default for AnoganConfig {
    fn default() -> Self {
        AnoganConfig {
            nz: 100,
            ndf: 64,
            ngf: 64,
            lambda: 0.1,
            latent_steps: 500,
            latent_lr: 1e-2,
        }
    }
}

impl ModelSpec for AnoganConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn train_defaults(&self) -> TrainConfig {
        TrainConfig {
            lr: 2e-4,
            ..TrainConfig::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes(
            "model",
            &[
                ("nz", self.nz),
                ("ndf", self.ndf),
                ("ngf", self.ngf),
                ("latent_steps", self.latent_steps),
            ],
        )?;
        check_unit("model.lambda", self.lambda)?;
        check_positive("model.latent_lr", self.latent_lr)
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(AnoGan::new(self.clone(), ctx)?))
    }
}

/// Windows whose latent codes are searched together.
pub const SEARCH_BATCH: usize = 1024;
/// Seed of the search's starting codes: fixed, so a window's score depends only on the
/// weights (the same after save/load, the same at every call).
const SEARCH_SEED: u64 = 0x5eed_a0a0;
const LOSS_NAMES: [&str; 2] = ["err_d", "err_g"];

pub struct AnoGan {
    cfg: AnoganConfig,
    shape: InputShape,
    batch_size: usize,
    device: Device,
    /// `g.*` (generator) and `d.*` (discriminator).
    vars: VarMap,
    gen: ConvDecoder,
    disc: ConvEncoder,
    opt_g: Adam,
    opt_d: Adam,
    /// Draws the training batches' latent codes.
    noise: SplitMix64,
}

/// The networks on detached weights, for the latent search.
struct Frozen {
    gen: ConvDecoder,
    disc: ConvEncoder,
}

impl AnoGan {
    pub fn new(cfg: AnoganConfig, ctx: &Build) -> anyhow::Result<Self> {
        let (train, shape, device, seed) = (ctx.train, ctx.shape, ctx.device, ctx.seed);
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let (gen, disc) = networks(&cfg, shape, vb)?;
        let mut rng = SplitMix64::new(seed);
        init_weights(&vars, "", ConvInit::Normal002, &mut rng)?;
        let opt_g = Adam::new(trainable(&vars, "g."), ctx.train.adam())?;
        let opt_d = Adam::new(trainable(&vars, "d."), ctx.train.adam())?;
        Ok(AnoGan {
            cfg,
            shape,
            batch_size: train.batch_size,
            device: device.clone(),
            vars,
            gen,
            disc,
            opt_g,
            opt_d,
            noise: rng,
        })
    }

    /// One D step then one G step (DCGAN order, non-saturating G loss).
    fn step(&mut self, x: &Tensor) -> anyhow::Result<Vec<f64>> {
        let b = x.dim(0)?;
        let z = randn(&[b, self.cfg.nz, 1], &mut self.noise, &self.device)?;
        let fake = self.gen.forward_t(&z, true)?;
        let real_logit = self.disc.forward_t(x, true)?.out;
        let fake_logit = self.disc.forward_t(&fake.detach(), true)?.out;
        let err_d =
            (loss::bce_with_logits(&real_logit, 1.0)? + loss::bce_with_logits(&fake_logit, 0.0)?)?;
        self.opt_d.backward_step(&err_d)?;
        // D's weights held constant: this step trains G only.
        let err_g = loss::bce_with_logits(&self.disc.forward_frozen(&fake)?.out, 1.0)?;
        self.opt_g.backward_step(&err_g)?;
        Ok(vec![
            err_d.to_scalar::<f32>()? as f64,
            err_g.to_scalar::<f32>()? as f64,
        ])
    }

    fn frozen(&self) -> anyhow::Result<Frozen> {
        let tensors: HashMap<String, Tensor> = self
            .snapshot()?
            .into_iter()
            .map(|(name, t)| (name, t.detach()))
            .collect();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &self.device);
        let (gen, disc) = networks(&self.cfg, self.shape, vb)?;
        Ok(Frozen { gen, disc })
    }

    /// Per-window L(z) for a batch of windows, their features and codes.
    fn search_loss(
        &self,
        net: &Frozen,
        x: &Tensor,
        fx: &Tensor,
        z: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let g = net.gen.forward_t(z, false)?;
        let fg = net.disc.forward_t(&g, false)?.features();
        let residual = (x - &g)?.abs()?.flatten_from(1)?.sum(1)?;
        let discrimination = (fx - fg)?.abs()?.flatten_from(1)?.sum(1)?;
        (residual * (1.0 - self.cfg.lambda))? + (discrimination * self.cfg.lambda)?
    }

    /// The latent search on one chunk of windows: the final L per window.
    fn search(&self, net: &Frozen, x: &Tensor, rng: &mut SplitMix64) -> anyhow::Result<Tensor> {
        let b = x.dim(0)?;
        let fx = net.disc.forward_t(x, false)?.features();
        let z = Var::from_tensor(&randn(&[b, self.cfg.nz, 1], rng, &self.device)?)?;
        let params = ParamsAdamW {
            lr: self.cfg.latent_lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        };
        let mut opt = Adam::new(vec![z.clone()], params)?;
        for _ in 0..self.cfg.latent_steps {
            // A search on a large test set takes long on a CPU: a stop may not wait for it.
            crate::stop::check()?;
            let l = self.search_loss(net, x, &fx, z.as_tensor())?;
            opt.backward_step(&l.sum_all()?)?;
        }
        Ok(self.search_loss(net, x, &fx, z.as_tensor())?)
    }
}

fn networks(
    cfg: &AnoganConfig,
    shape: InputShape,
    vb: VarBuilder,
) -> candle_core::Result<(ConvDecoder, ConvEncoder)> {
    let (c, l) = (shape.channels, shape.length);
    Ok((
        ConvDecoder::new(cfg.nz, cfg.ngf, c, l, vb.pp("g"))?,
        ConvEncoder::new(c, cfg.ndf, 1, l, vb.pp("d"))?,
    ))
}

impl Detector for AnoGan {
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        super::train::save_training_state(
            &[("opt_g", &self.opt_g), ("opt_d", &self.opt_d)],
            &[("noise", &self.noise)],
        )
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        super::train::load_training_state(
            state,
            &mut [("opt_g", &mut self.opt_g), ("opt_d", &mut self.opt_d)],
            &mut [("noise", &mut self.noise)],
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
        let net = self.frozen()?;
        let mut rng = SplitMix64::new(SEARCH_SEED);
        per_window(windows, &self.device, SEARCH_BATCH, |x| {
            self.search(&net, x, &mut rng)
        })
    }

    // No `reconstruct`: AnoGAN scores by a latent search, not by reconstruction.

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }
}
