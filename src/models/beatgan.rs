//! BeatGAN (Zhou et al., IJCAI 2019; official code hi-bingo/BeatGAN), as specified in
//! `../shared/specs/models.md`: G = conv encoder → conv decoder, D = conv encoder with a
//! feature map; D is trained with BCE, G with reconstruction MSE plus `w_adv` times the
//! MSE between D's features of real and reconstructed beats. Score = reconstruction MSE.
//!
//! A model that trains a BeatGAN with more terms in G's loss (the distilled student of
//! `beatgan_kd`) goes through [`BeatGan::step_with`]; BeatGAN itself knows nothing of it.

use super::train::{
    mean_per_window, per_window, per_window_shuffled, reconstruct_windows, train_epoch,
};
use super::{Build, Detector, EpochLosses, InputShape, ModelSpec};
use crate::data::Windows;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::stacks::Encoded;
use crate::nn::Adam;
use crate::nn::{loss, n_params, trainable, ConvDecoder, ConvEncoder};
use crate::registry::{check_sizes, check_weights};
use crate::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// BeatGAN's settings; defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeatganConfig {
    /// Latent size.
    pub nz: usize,
    /// Discriminator (encoder) base width.
    pub ndf: usize,
    /// Generator decoder base width.
    pub ngf: usize,
    /// Weight of the feature-matching adversarial term in the generator loss.
    pub w_adv: f64,
}

impl Default for BeatganConfig {
    fn default() -> Self {
        BeatganConfig {
            nz: 50,
            ndf: 32,
            ngf: 32,
            w_adv: 1.0,
        }
    }
}

impl BeatganConfig {
    /// `section` names where the block sits (`model`, `model.teacher`) in errors.
    pub fn validate_in(&self, section: &str) -> Result<(), String> {
        check_sizes(
            section,
            &[("nz", self.nz), ("ndf", self.ndf), ("ngf", self.ngf)],
        )?;
        check_weights(section, &[("w_adv", self.w_adv)])
    }
}

impl ModelSpec for BeatganConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn validate(&self) -> Result<(), String> {
        self.validate_in("model")
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(BeatGan::new(self.clone(), ctx)?))
    }
}

/// What a caller of [`BeatGan::step_with`] adds to G's loss: from the batch and G's
/// encoding of it, `(term, weight)` pairs.
pub type ExtraTerms<'a> = dyn Fn(&Tensor, &Encoded) -> candle_core::Result<Vec<(Tensor, f64)>> + 'a;

/// The paper re-initialises D when it wins too easily (err_d below this after a step).
const D_REINIT_BELOW: f64 = 5e-6;
/// Windows per forward pass when scoring.
const SCORE_BATCH: usize = 256;
/// Loss terms recorded per epoch, in [`BeatGan::step_with`]'s order (terms added by the
/// caller's `extra` follow).
pub const LOSS_NAMES: [&str; 4] = ["err_d", "err_g", "err_g_rec", "err_g_adv"];

pub struct BeatGan {
    cfg: BeatganConfig,
    batch_size: usize,
    device: Device,
    /// All weights: `g.enc.*`, `g.dec.*` (generator) and `d.*` (discriminator).
    vars: VarMap,
    encoder: ConvEncoder,
    decoder: ConvDecoder,
    disc: ConvEncoder,
    opt_g: Adam,
    opt_d: Adam,
    /// Draws D's fresh weights when it is re-initialised.
    reinit_rng: SplitMix64,
}

impl BeatGan {
    pub fn new(cfg: BeatganConfig, ctx: &Build) -> anyhow::Result<Self> {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, ctx.device);
        let InputShape {
            channels: c,
            length: l,
            ..
        } = ctx.shape;
        let encoder = ConvEncoder::new(c, cfg.ndf, cfg.nz, l, vb.pp("g.enc"))?;
        let decoder = ConvDecoder::new(cfg.nz, cfg.ngf, c, l, vb.pp("g.dec"))?;
        let disc = ConvEncoder::new(c, cfg.ndf, 1, l, vb.pp("d"))?;
        let mut rng = SplitMix64::new(ctx.seed);
        init_weights(&vars, "", ConvInit::XavierNormal, &mut rng)?;
        let opt_g = Adam::new(trainable(&vars, "g."), ctx.train.adam())?;
        let opt_d = Adam::new(trainable(&vars, "d."), ctx.train.adam())?;
        Ok(BeatGan {
            cfg,
            batch_size: ctx.train.batch_size,
            device: ctx.device.clone(),
            vars,
            encoder,
            decoder,
            disc,
            opt_g,
            opt_d,
            reinit_rng: rng,
        })
    }

    /// G(x): encode to the latent code, decode back to a window.
    pub fn generate(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let z = self.encoder.forward_t(x, train)?.out;
        self.decoder.forward_t(&z, train)
    }

    /// The generator's encoder: the code and the five maps on the way to it.
    pub fn encode(&self, x: &Tensor, train: bool) -> candle_core::Result<Encoded> {
        self.encoder.forward_t(x, train)
    }

    /// Trainable generator parameters: the part that is deployed to score.
    pub fn generator_params(&self) -> usize {
        n_params(&self.vars, "g.")
    }

    /// One D step then one G step on a batch; returns the values of [`LOSS_NAMES`] and
    /// then of the terms `extra` adds. `extra` gets the batch and G's encoding of it and
    /// returns `(term, weight)` pairs that join G's loss as `+ weight·term`, in order.
    /// D is re-initialised after the step when it wins too easily.
    pub fn step_with(&mut self, x: &Tensor, extra: &ExtraTerms) -> anyhow::Result<Vec<f64>> {
        let code = self.encoder.forward_t(x, true)?;
        let fake = self.decoder.forward_t(&code.out, true)?;

        let real_logit = self.disc.forward_t(x, true)?.out;
        let fake_logit = self.disc.forward_t(&fake.detach(), true)?.out;
        let err_d =
            (loss::bce_with_logits(&real_logit, 1.0)? + loss::bce_with_logits(&fake_logit, 0.0)?)?;
        self.opt_d.backward_step(&err_d)?;

        // D's weights held constant: this step trains G only.
        let feat_fake = self.disc.forward_frozen(&fake)?.features();
        let feat_real = self.disc.forward_t(x, true)?.features().detach();
        let err_rec = loss::mse(&fake, x)?;
        let err_adv = loss::mse(&feat_fake, &feat_real)?;
        let mut err_g = (&err_rec + (&err_adv * self.cfg.w_adv)?)?;
        let mut terms = vec![err_d, err_rec, err_adv];
        for (term, weight) in extra(x, &code)? {
            err_g = (err_g + (&term * weight)?)?;
            terms.push(term);
        }
        self.opt_g.backward_step(&err_g)?;
        terms.insert(1, err_g);
        let values = terms
            .iter()
            .map(|t| Ok(t.to_scalar::<f32>()? as f64))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        if values[0] < D_REINIT_BELOW {
            init_weights(
                &self.vars,
                "d.",
                ConvInit::XavierNormal,
                &mut self.reinit_rng,
            )?;
        }
        Ok(values)
    }
}

impl Detector for BeatGan {
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
            self.step_with(x, &|_, _| Ok(Vec::new()))
        })
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        per_window(windows, &self.device, SCORE_BATCH, |x| {
            Ok(mean_per_window(&(x - self.generate(x, false)?)?.sqr()?)?)
        })
    }

    fn score_training_mode(
        &mut self,
        windows: &Windows,
        rng: &mut SplitMix64,
    ) -> anyhow::Result<Option<Vec<f64>>> {
        per_window_shuffled(windows, &self.device, self.batch_size, rng, |x| {
            Ok(mean_per_window(&(x - self.generate(x, true)?)?.sqr()?)?)
        })
        .map(Some)
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        reconstruct_windows(windows, &self.device, SCORE_BATCH, |x| {
            Ok(self.generate(x, false)?)
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
