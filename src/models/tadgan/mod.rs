//! TadGAN (Geiger et al., IEEE BigData 2020; Orion's implementation) on windows, as
//! specified in `../shared/specs/models.md`:
//! - E: BiLSTM(enc_hidden, sequences) → flatten → Dense(nz).
//! - G: Dense(L/2) → reshape (L/2, 1) → BiLSTM(gen_hidden) → upsample ×2 →
//!   BiLSTM(gen_hidden) → per-step Dense(channels) → tanh. (Orion: L = 100, so 50.)
//! - Cx: 4 × [Conv1d(critic_channels, k5, valid) + LeakyReLU(0.2) + Dropout(0.25)] →
//!   flatten → Dense(1). Cz: Dense → LReLU → Dropout(0.2), twice, → Dense(1).
//! - Per batch: `n_critic` updates of Cx and Cz, each with a fresh z ~ N(0, 1):
//!   mean C(fake) − mean C(real) + gp_weight · gradient penalty; then one E/G update on
//!   −mean Cx(G(z)) − mean Cz(E(x)) + rec_weight · MSE(x, G(E(x))).
//!
//! Score. The test windows of a series (NAB) are scored as Orion scores a series, one
//! score per time step ([`score`]; `score_series: orion`, the default). Validation
//! windows, and windows that are not cut from one series (beats), have no overlapping
//! neighbours, so there each window is one step of that pipeline: its reconstruction
//! error ([`score::window_error`]: `point`, `area` or `dtw`, averaged over the window) and
//! its critic value Cx(x) are z-scored with statistics of the training windows (refitted
//! after each epoch and saved with the weights, so val and test are scaled alike):
//! rec ↦ max(0, z) + 1, critic ↦ |z| + 1 with Orion's interquartile mean; combined as
//! `mult` (product) or `sum` ((1 − α)·(critic − 1) + α·(rec − 1)). Orion's per-series
//! thresholding is the `eval.threshold: orion` choice of the metrics, not part of this.

use super::train::{batch_tensor, reconstruct_windows, train_epoch};
use super::{Build, Detector, EpochLosses, InputShape, ModelSpec, TrainConfig};
use crate::data::{Timeline, Windows};
use crate::nn::dense::{dropout, randn};
use crate::nn::gp::gradient_penalty;
use crate::nn::init::{init_weights, ConvInit};
use crate::nn::lstm::steps;
use crate::nn::Adam;
use crate::nn::{loss, trainable, BiLstm, Conv1d, Dense};
use crate::registry::{check_sizes, check_unit, check_weights};
use crate::rng::SplitMix64;
use anyhow::bail;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Init, Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

pub mod score;
use score::ScoreSettings;

/// TadGAN (Geiger et al., IEEE BigData 2020; Orion's implementation). It trains as Orion
/// does: Keras' Adam at lr 5e-4 (betas (0.9, 0.999)), batch 64, 35 epochs
/// ([`ModelSpec::train_defaults`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TadganConfig {
    /// Latent size.
    pub nz: usize,
    /// Hidden size of the encoder's BiLSTM (per direction).
    pub enc_hidden: usize,
    /// Hidden size of the generator's BiLSTMs (per direction).
    pub gen_hidden: usize,
    /// Channels of the x-critic's four convolutions.
    pub critic_channels: usize,
    /// Width of the z-critic's hidden dense layers.
    pub critic_z_hidden: usize,
    /// Critic updates per encoder/generator update.
    pub n_critic: usize,
    /// Weight of the gradient penalty.
    pub gp_weight: f64,
    /// Weight of the reconstruction MSE in the encoder/generator loss.
    pub rec_weight: f64,
    /// Reconstruction error of the score.
    pub score_rec: TadganRecError,
    /// How the critic and reconstruction scores are combined.
    pub score_comb: TadganCombination,
    /// Weight α of the reconstruction score in the `sum` combination.
    pub score_alpha: f64,
    /// How the test windows of a series are scored: `orion` (Orion's per-step pipeline:
    /// median reconstruction of each step, per-step critic mode, smoothing and z-scores
    /// over the series, [`score`]) or `window_mean` (one score per window, as for
    /// independent windows, averaged onto each step it covers). Validation and
    /// independent windows (beats) are always scored window by window.
    pub score_series: TadganSeriesScore,
}

impl Default for TadganConfig {
    fn default() -> Self {
        TadganConfig {
            nz: 20,
            enc_hidden: 100,
            gen_hidden: 64,
            critic_channels: 64,
            critic_z_hidden: 20,
            n_critic: 5,
            gp_weight: 10.0,
            rec_weight: 10.0,
            score_rec: TadganRecError::Point,
            score_comb: TadganCombination::Mult,
            score_alpha: 0.5,
            score_series: TadganSeriesScore::Orion,
        }
    }
}

/// TadGAN's reconstruction errors (Orion): per step |y − ŷ|, the difference of the
/// areas over 10 steps, or DTW over 11-step segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TadganRecError {
    Point,
    Area,
    Dtw,
}

/// How a series' test windows are scored (`score_series`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TadganSeriesScore {
    Orion,
    WindowMean,
}

/// TadGAN's score combinations (Orion): product of the two z-scores, or their α-sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TadganCombination {
    Mult,
    Sum,
}

impl ModelSpec for TadganConfig {
    fn train_defaults(&self) -> TrainConfig {
        TrainConfig {
            epochs: 35,
            lr: 5e-4,
            beta1: 0.9,
            ..TrainConfig::default()
        }
    }

    fn steps_in_time(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        check_sizes(
            "model",
            &[
                ("nz", self.nz),
                ("enc_hidden", self.enc_hidden),
                ("gen_hidden", self.gen_hidden),
                ("critic_channels", self.critic_channels),
                ("critic_z_hidden", self.critic_z_hidden),
                ("n_critic", self.n_critic),
            ],
        )?;
        check_weights(
            "model",
            &[
                ("gp_weight", self.gp_weight),
                ("rec_weight", self.rec_weight),
            ],
        )?;
        check_unit("model.score_alpha", self.score_alpha)
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(TadGan::new(self.clone(), ctx)?))
    }
}

const SCORE_BATCH: usize = 256;
/// Training windows used to refit the score statistics after an epoch.
const STATS_WINDOWS: usize = 512;
/// Orion's defaults: dropout of Cx and of Cz, LeakyReLU slope, conv kernel.
const CX_DROPOUT: f64 = 0.25;
const CZ_DROPOUT: f64 = 0.2;
const SLOPE: f64 = 0.2;
const CX_KERNEL: usize = 5;
const CX_LAYERS: usize = 4;
/// Name of the score statistics in the var map: `[rec, critic]` means and variances.
/// The `running_*` suffix keeps them out of the optimisers and of `n_params`, like
/// batch-norm statistics, while snapshots and checkpoints carry them.
const STATS_MEAN: &str = "score_stats.running_mean";
const STATS_VAR: &str = "score_stats.running_var";
const LOSS_NAMES: [&str; 5] = ["err_cx", "err_cz", "err_eg", "err_eg_rec", "gp_x"];

/// Conv1d with a bias (Keras' default, which Orion's critic uses).
struct BiasedConv {
    conv: Conv1d,
    bias: Tensor,
}

impl BiasedConv {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.conv
            .forward(x)?
            .broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
}

/// The x-critic; public so that its gradient penalty can be tested on its own.
pub struct CriticX {
    convs: Vec<BiasedConv>,
    out: Dense,
}

impl CriticX {
    pub fn new(
        channels: usize,
        length: usize,
        width: usize,
        vb: VarBuilder,
    ) -> anyhow::Result<Self> {
        let min = CX_LAYERS * (CX_KERNEL - 1) + 1;
        if length < min {
            bail!("TadGAN's x-critic needs windows of at least {min} samples; got {length}");
        }
        let mut convs = Vec::with_capacity(CX_LAYERS);
        for i in 0..CX_LAYERS {
            let vb = vb.pp(format!("conv{i}"));
            let c_in = if i == 0 { channels } else { width };
            convs.push(BiasedConv {
                conv: Conv1d::new(c_in, width, CX_KERNEL, 1, 0, vb.clone())?,
                bias: vb.get_with_hints(width, "bias", Init::Const(0.))?,
            });
        }
        let out_len = length - CX_LAYERS * (CX_KERNEL - 1);
        let out = Dense::new(width * out_len, 1, vb.pp("out"))?;
        Ok(CriticX { convs, out })
    }

    /// `B × C × L` → `B × 1`; dropout masks are drawn from `rng` when given (training).
    pub fn forward(
        &self,
        x: &Tensor,
        mut rng: Option<&mut SplitMix64>,
    ) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for conv in &self.convs {
            h = crate::nn::act::leaky_relu(&conv.forward(&h)?, SLOPE)?;
            if let Some(rng) = rng.as_deref_mut() {
                h = dropout(&h, CX_DROPOUT, rng)?;
            }
        }
        self.out.forward(&h.flatten_from(1)?)
    }
}

struct CriticZ {
    layers: [Dense; 3],
}

impl CriticZ {
    fn forward(&self, z: &Tensor, mut rng: Option<&mut SplitMix64>) -> candle_core::Result<Tensor> {
        let mut h = z.clone();
        for layer in &self.layers[..2] {
            h = crate::nn::act::leaky_relu(&layer.forward(&h)?, SLOPE)?;
            if let Some(rng) = rng.as_deref_mut() {
                h = dropout(&h, CZ_DROPOUT, rng)?;
            }
        }
        self.layers[2].forward(&h)
    }
}

pub struct TadGan {
    cfg: TadganConfig,
    shape: InputShape,
    batch_size: usize,
    device: Device,
    /// `e.*`, `g.*` (trained together), `cx.*`, `cz.*` and the score statistics.
    vars: VarMap,
    enc_lstm: BiLstm,
    enc_out: Dense,
    gen_in: Dense,
    gen_lstm1: BiLstm,
    gen_lstm2: BiLstm,
    gen_out: Dense,
    cx: CriticX,
    cz: CriticZ,
    opt_eg: Adam,
    opt_cx: Adam,
    opt_cz: Adam,
    /// Latent draws, interpolation weights and dropout masks.
    noise: SplitMix64,
}

impl TadGan {
    pub fn new(cfg: TadganConfig, ctx: &Build) -> anyhow::Result<Self> {
        let (train, shape, device, seed) = (ctx.train, ctx.shape, ctx.device, ctx.seed);
        let (c, l) = (shape.channels, shape.length);
        if l % 2 != 0 {
            bail!("TadGAN's generator upsamples ×2 from L/2 steps, so the window length must be even; got {l}");
        }
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
        let enc_lstm = BiLstm::new(c, cfg.enc_hidden, vb.pp("e.lstm"))?;
        let enc_out = Dense::new(l * 2 * cfg.enc_hidden, cfg.nz, vb.pp("e.out"))?;
        let gen_in = Dense::new(cfg.nz, l / 2, vb.pp("g.in"))?;
        let gen_lstm1 = BiLstm::new(1, cfg.gen_hidden, vb.pp("g.lstm1"))?;
        let gen_lstm2 = BiLstm::new(2 * cfg.gen_hidden, cfg.gen_hidden, vb.pp("g.lstm2"))?;
        let gen_out = Dense::new(2 * cfg.gen_hidden, c, vb.pp("g.out"))?;
        let cx = CriticX::new(c, l, cfg.critic_channels, vb.pp("cx"))?;
        let h = cfg.critic_z_hidden;
        let cz = CriticZ {
            layers: [
                Dense::new(cfg.nz, h, vb.pp("cz.l0"))?,
                Dense::new(h, h, vb.pp("cz.l1"))?,
                Dense::new(h, 1, vb.pp("cz.l2"))?,
            ],
        };
        vb.get_with_hints(2, STATS_MEAN, Init::Const(0.))?;
        vb.get_with_hints(2, STATS_VAR, Init::Const(1.))?;
        let mut rng = SplitMix64::new(seed);
        // Orion's Keras model: glorot-uniform kernels, conv ones included.
        init_weights(&vars, "", ConvInit::XavierNormal, &mut rng)?;
        let mut eg = trainable(&vars, "e.");
        eg.extend(trainable(&vars, "g."));
        let opt_eg = Adam::new(eg, ctx.train.adam())?;
        let opt_cx = Adam::new(trainable(&vars, "cx."), ctx.train.adam())?;
        let opt_cz = Adam::new(trainable(&vars, "cz."), ctx.train.adam())?;
        Ok(TadGan {
            cfg,
            shape,
            batch_size: train.batch_size,
            device: device.clone(),
            vars,
            enc_lstm,
            enc_out,
            gen_in,
            gen_lstm1,
            gen_lstm2,
            gen_out,
            cx,
            cz,
            opt_eg,
            opt_cx,
            opt_cz,
            noise: rng,
        })
    }

    /// E: `B × C × L` → `B × nz`.
    pub fn encode(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let seq = self.enc_lstm.forward(&x.transpose(1, 2)?.contiguous()?)?;
        self.enc_out.forward(&seq.flatten_from(1)?)
    }

    /// G: `B × nz` → `B × C × L`.
    pub fn generate(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let b = z.dim(0)?;
        let half = self.shape.length / 2;
        let h = self.gen_in.forward(z)?.reshape((b, half, 1))?;
        let h = self.gen_lstm1.forward_steps(&steps(&h)?)?;
        // UpSampling1D(2): every step repeated twice (per step, see `Lstm::forward_steps`).
        let h: Vec<Tensor> = h.iter().flat_map(|s| [s.clone(), s.clone()]).collect();
        let h = Tensor::stack(&self.gen_lstm2.forward_steps(&h)?, 1)?;
        self.gen_out
            .forward(&h)?
            .tanh()?
            .transpose(1, 2)?
            .contiguous()
    }

    fn step(&mut self, x: &Tensor) -> anyhow::Result<Vec<f64>> {
        let b = x.dim(0)?;
        let nz = self.cfg.nz;
        let (mut sum_cx, mut sum_cz, mut sum_gp) = (0.0, 0.0, 0.0);
        for _ in 0..self.cfg.n_critic {
            let z = randn(&[b, nz], &mut self.noise, &self.device)?;
            let fake_x = self.generate(&z)?.detach();
            let fake_z = self.encode(x)?.detach();

            let eps = uniform(&[b, 1, 1], &mut self.noise, &self.device)?;
            let real = self.cx.forward(x, Some(&mut self.noise))?.mean_all()?;
            let fake = self
                .cx
                .forward(&fake_x, Some(&mut self.noise))?
                .mean_all()?;
            let (cx, noise) = (&self.cx, &mut self.noise);
            let gp = gradient_penalty(|t| cx.forward(t, Some(noise)), x, &fake_x, &eps)?;
            let err_cx = ((fake - real)? + (&gp * self.cfg.gp_weight)?)?;
            self.opt_cx.backward_step(&err_cx)?;

            let eps = uniform(&[b, 1], &mut self.noise, &self.device)?;
            let real = self.cz.forward(&z, Some(&mut self.noise))?.mean_all()?;
            let fake = self
                .cz
                .forward(&fake_z, Some(&mut self.noise))?
                .mean_all()?;
            let (cz, noise) = (&self.cz, &mut self.noise);
            let gp_z = gradient_penalty(|t| cz.forward(t, Some(noise)), &z, &fake_z, &eps)?;
            let err_cz = ((fake - real)? + (gp_z * self.cfg.gp_weight)?)?;
            self.opt_cz.backward_step(&err_cz)?;

            sum_cx += err_cx.to_scalar::<f32>()? as f64;
            sum_cz += err_cz.to_scalar::<f32>()? as f64;
            sum_gp += gp.to_scalar::<f32>()? as f64;
        }

        let z = randn(&[b, nz], &mut self.noise, &self.device)?;
        let fake_score = self
            .cx
            .forward(&self.generate(&z)?, Some(&mut self.noise))?
            .mean_all()?;
        let code = self.encode(x)?;
        let code_score = self.cz.forward(&code, Some(&mut self.noise))?.mean_all()?;
        let err_rec = loss::mse(&self.generate(&code)?, x)?;
        let err_eg = ((fake_score.neg()? - code_score)? + (&err_rec * self.cfg.rec_weight)?)?;
        self.opt_eg.backward_step(&err_eg)?;

        let n = self.cfg.n_critic as f64;
        Ok(vec![
            sum_cx / n,
            sum_cz / n,
            err_eg.to_scalar::<f32>()? as f64,
            err_rec.to_scalar::<f32>()? as f64,
            sum_gp / n,
        ])
    }

    /// G(E(x)) of every window.
    fn reconstructions(&self, windows: &Windows) -> anyhow::Result<Windows> {
        reconstruct_windows(windows, &self.device, SCORE_BATCH, |x| {
            Ok(self.generate(&self.encode(x)?)?)
        })
    }

    /// Cx(x) of every window (no dropout).
    fn critics(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let mut out = Vec::with_capacity(windows.n);
        let all: Vec<usize> = (0..windows.n).collect();
        for indices in all.chunks(SCORE_BATCH) {
            crate::stop::check()?;
            let x = batch_tensor(windows, indices, &self.device)?;
            let critic = self.cx.forward(&x, None)?.flatten_all()?.to_vec1::<f32>()?;
            out.extend(critic.into_iter().map(f64::from));
        }
        Ok(out)
    }

    fn settings(&self) -> ScoreSettings {
        ScoreSettings {
            rec: self.cfg.score_rec,
            comb: self.cfg.score_comb,
            alpha: self.cfg.score_alpha,
        }
    }

    /// Raw (reconstruction error, critic value) of each window, before z-scoring.
    fn raw_scores(&self, windows: &Windows) -> anyhow::Result<Vec<(f64, f64)>> {
        let (c, l) = (windows.channels, windows.length);
        let x_hat = self.reconstructions(windows)?;
        let critic = self.critics(windows)?;
        Ok(critic
            .into_iter()
            .enumerate()
            .map(|(i, cv)| {
                let rec = (0..c)
                    .map(|ch| {
                        let at = (i * c + ch) * l;
                        let (y, y_hat) = (&windows.data[at..at + l], &x_hat.data[at..at + l]);
                        score::window_error(self.cfg.score_rec, y, y_hat)
                    })
                    .sum::<f64>();
                (rec / c as f64, cv)
            })
            .collect())
    }

    /// Refits the z-score statistics on (up to [`STATS_WINDOWS`]) training windows.
    fn fit_score_stats(&self, train: &Windows) -> anyhow::Result<()> {
        let n = train.n.min(STATS_WINDOWS);
        let raw = self.raw_scores(&train.select(&(0..n).collect::<Vec<_>>()))?;
        let (rec, critic): (Vec<f64>, Vec<f64>) = raw.into_iter().unzip();
        let (rec_mean, rec_sd) = score::mean_sd(&rec);
        let critic_mean = score::critic_centre(&critic)?;
        let critic_sd = score::mean_sd(&critic).1;
        let (rec_var, critic_var) = (rec_sd * rec_sd, critic_sd * critic_sd);
        let data = self.vars.data().lock().expect("var map lock");
        let set = |name: &str, values: [f64; 2]| -> anyhow::Result<()> {
            let values = values.map(|v| v as f32).to_vec();
            data[name].set(&Tensor::from_vec(values, 2, &self.device)?)?;
            Ok(())
        };
        set(STATS_MEAN, [rec_mean, critic_mean])?;
        set(STATS_VAR, [rec_var, critic_var])?;
        Ok(())
    }

    fn stats(&self) -> anyhow::Result<([f64; 2], [f64; 2])> {
        let data = self.vars.data().lock().expect("var map lock");
        let get = |name: &str| -> anyhow::Result<[f64; 2]> {
            let v = data[name].as_tensor().to_vec1::<f32>()?;
            Ok([f64::from(v[0]), f64::from(v[1])])
        };
        Ok((get(STATS_MEAN)?, get(STATS_VAR)?))
    }
}

/// Uniform [0, 1) draws (the interpolation weights of the gradient penalty).
fn uniform(dims: &[usize], rng: &mut SplitMix64, device: &Device) -> candle_core::Result<Tensor> {
    let n: usize = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.next_f64() as f32).collect();
    Tensor::from_vec(values, dims, device)
}

impl Detector for TadGan {
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        super::train::save_training_state(
            &[
                ("opt_eg", &self.opt_eg),
                ("opt_cx", &self.opt_cx),
                ("opt_cz", &self.opt_cz),
            ],
            &[("noise", &self.noise)],
        )
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        super::train::load_training_state(
            state,
            &mut [
                ("opt_eg", &mut self.opt_eg),
                ("opt_cx", &mut self.opt_cx),
                ("opt_cz", &mut self.opt_cz),
            ],
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
        let losses = train_epoch(train, bs, &device, rng, &LOSS_NAMES, on_batch, |x| {
            self.step(x)
        })?;
        self.fit_score_stats(train)?;
        Ok(losses)
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let ([rec_mean, critic_mean], [rec_var, critic_var]) = self.stats()?;
        let settings = self.settings();
        Ok(self
            .raw_scores(windows)?
            .into_iter()
            .map(|(rec, critic)| {
                let rec = score::z(rec, rec_mean, rec_var.sqrt()).max(0.0) + 1.0;
                let critic = score::z(critic, critic_mean, critic_var.sqrt()).abs() + 1.0;
                settings.combine(rec, critic)
            })
            .collect())
    }

    fn score_steps(
        &self,
        windows: &Windows,
        timeline: &Timeline,
    ) -> anyhow::Result<Option<Vec<f64>>> {
        if self.cfg.score_series != TadganSeriesScore::Orion {
            return Ok(None);
        }
        let scores = score::series_scores(
            windows,
            &self.reconstructions(windows)?,
            &self.critics(windows)?,
            &timeline.starts,
            timeline.labels.len(),
            &self.settings(),
        )?;
        Ok(Some(scores))
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        self.reconstructions(windows).map(Some)
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }
}
