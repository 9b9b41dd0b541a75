//! BeatGAN (Zhou et al., IJCAI 2019; official code hi-bingo/BeatGAN), as specified in
//! `../shared/specs/models.md`: G = conv encoder → conv decoder, D = conv encoder with a
//! feature map; D is trained with BCE, G with reconstruction MSE plus `w_adv` times the
//! MSE between D's features of real and reconstructed beats. Score = reconstruction MSE.

use super::distill::Distill;
use super::{batch_tensor, Detector, EpochLosses, InputShape};
use crate::config::{BeatganConfig, TrainConfig};
use crate::data::Windows;
use crate::nn::stacks::Encoded;
use crate::nn::Adam;
use crate::nn::{init::init_beatgan, loss, n_params, trainable, ConvDecoder, ConvEncoder};
use crate::rng::SplitMix64;
use anyhow::bail;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder, VarMap};

/// The paper re-initialises D when it wins too easily (err_d below this after a step).
const D_REINIT_BELOW: f64 = 5e-6;
/// Windows per forward pass when scoring.
const SCORE_BATCH: usize = 256;

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
    /// Set for a distilled student (`beatgan_kd`): the frozen teacher and the weights.
    pub(super) distill: Option<Distill>,
}

impl BeatGan {
    pub fn new(
        cfg: BeatganConfig,
        train: TrainConfig,
        shape: InputShape,
        device: &Device,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let (c, l) = (shape.channels, shape.length);
        let encoder = ConvEncoder::new(c, cfg.ndf, cfg.nz, l, vb.pp("g.enc"))?;
        let decoder = ConvDecoder::new(cfg.nz, cfg.ngf, c, l, vb.pp("g.dec"))?;
        let disc = ConvEncoder::new(c, cfg.ndf, 1, l, vb.pp("d"))?;
        let mut rng = SplitMix64::new(seed);
        init_beatgan(&vars, "", &mut rng)?;
        let adam = ParamsAdamW {
            lr: train.lr,
            beta1: train.beta1,
            beta2: train.beta2,
            eps: 1e-8,
            weight_decay: 0.0, // plain Adam, as the paper
        };
        let opt_g = Adam::new(trainable(&vars, "g."), adam.clone())?;
        let opt_d = Adam::new(trainable(&vars, "d."), adam)?;
        Ok(BeatGan {
            cfg,
            batch_size: train.batch_size,
            device: device.clone(),
            vars,
            encoder,
            decoder,
            disc,
            opt_g,
            opt_d,
            reinit_rng: rng,
            distill: None,
        })
    }

    /// G(x): encode to the latent code, decode back to a window.
    pub fn generate(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let z = self.encoder.forward_t(x, train)?.out;
        self.decoder.forward_t(&z, train)
    }

    /// The generator's encoder (the teacher's side of distillation uses its maps).
    pub(super) fn encode(&self, x: &Tensor, train: bool) -> candle_core::Result<Encoded> {
        self.encoder.forward_t(x, train)
    }

    /// Trainable generator parameters: the part that is deployed to score.
    pub fn generator_params(&self) -> usize {
        n_params(&self.vars, "g.")
    }

    /// One D step then one G step on a batch; returns the values of [`Self::loss_names`].
    fn step(&mut self, x: &Tensor) -> anyhow::Result<Vec<f64>> {
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
        if let Some(kd) = &self.distill {
            let (err_kd, err_at) = kd.losses(x, &code)?;
            err_g = ((err_g + (&err_kd * kd.alpha)?)? + (&err_at * kd.beta)?)?;
            terms.extend([err_kd, err_at]);
        }
        self.opt_g.backward_step(&err_g)?;
        terms.insert(1, err_g);
        terms
            .iter()
            .map(|t| Ok(t.to_scalar::<f32>()? as f64))
            .collect()
    }

    /// Loss terms recorded per epoch, in [`Self::step`]'s order.
    fn loss_names(&self) -> &'static [&'static str] {
        if self.distill.is_some() {
            &[
                "err_d",
                "err_g",
                "err_g_rec",
                "err_g_adv",
                "err_g_kd",
                "err_g_at",
            ]
        } else {
            &["err_d", "err_g", "err_g_rec", "err_g_adv"]
        }
    }
}

impl Detector for BeatGan {
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut(),
    ) -> anyhow::Result<EpochLosses> {
        let mut order: Vec<usize> = (0..train.n).collect();
        rng.shuffle(&mut order);
        let n_batches = self.batches_per_epoch(train.n);
        let bs = self.batch_size.min(train.n);
        let names = self.loss_names();
        let mut sums = vec![0.0; names.len()];
        for b in 0..n_batches {
            let x = batch_tensor(train, &order[b * bs..(b + 1) * bs], &self.device)?;
            let values = self.step(&x)?;
            for (name, v) in names.iter().zip(&values) {
                if !v.is_finite() {
                    bail!("training diverged: {name} = {v} at batch {b}");
                }
            }
            if values[0] < D_REINIT_BELOW {
                init_beatgan(&self.vars, "d.", &mut self.reinit_rng)?;
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

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let mut scores = Vec::with_capacity(windows.n);
        let all: Vec<usize> = (0..windows.n).collect();
        for chunk in all.chunks(SCORE_BATCH) {
            let x = batch_tensor(windows, chunk, &self.device)?;
            let err = (&x - self.generate(&x, false)?)?
                .sqr()?
                .flatten_from(1)?
                .mean(1)?;
            scores.extend(err.to_vec1::<f32>()?.into_iter().map(f64::from));
        }
        Ok(scores)
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        let mut out = Windows {
            data: Vec::with_capacity(windows.data.len()),
            ..windows.clone()
        };
        let all: Vec<usize> = (0..windows.n).collect();
        for chunk in all.chunks(SCORE_BATCH) {
            let x = batch_tensor(windows, chunk, &self.device)?;
            out.data
                .extend(self.generate(&x, false)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(Some(out))
    }

    fn extra_metrics(&self, test: &Windows) -> anyhow::Result<Vec<(String, f64)>> {
        match &self.distill {
            Some(kd) => kd.metrics(self, test),
            None => Ok(Vec::new()),
        }
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }
}
