//! Every setting of a run, as typed serde structs.
//!
//! A sweep file is these structs with lists where a value should vary (see [`sweep`]).
//! Defaults are the papers' defaults (`../shared/specs/models.md`) and live here, in one
//! place, as serde defaults; every struct denies unknown fields so a typo is an error,
//! never a silently ignored setting.

mod load;
pub mod sweep;

pub use load::{load_sweep, parse_override, Override};
pub use sweep::{RunSpec, SweepSpec};

use figment::providers::Serialized;
use figment::Figment;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Everything that determines one training run's result. Its canonical JSON (plus the
/// dataset's content hash) is the run's identity; see [`sweep::RunSpec::key`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub dataset: DatasetConfig,
    pub model: ModelConfig,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub eval: EvalConfig,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub fold: usize,
}

/// Which data, read how, split how. `name` selects the reader.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum DatasetConfig {
    /// MIT-BIH Arrhythmia beats, BeatGAN protocol (`../shared/specs/evaluation.md`).
    Mitdb(MitdbConfig),
    /// One NAB signal with Orion's preprocessing, trained on and scored whole.
    Nab(NabConfig),
    /// The 8×8 digits, one class held out as the anomaly.
    Digits(DigitsConfig),
    /// A user's CSV time series with a label column or labelled intervals.
    Csv(CsvConfig),
    /// A user's UCR-style file of labelled series, one class normal.
    Ucr(UcrConfig),
    /// A user's `.npy` windows and labels.
    Npy(NpyConfig),
    /// Seeded ECG-like windows with planted anomalies (`data::synthetic`); needs no files.
    Synthetic(SyntheticConfig),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MitdbConfig {
    /// Folder with `NNN.hea`, `NNN.dat` and `NNN.atr` or `annotations_txt/`.
    #[serde(default = "default_mitdb_path")]
    pub path: PathBuf,
    /// Records to use; default: every record in `path` among BeatGAN's 44.
    #[serde(default)]
    pub records: Option<Vec<String>>,
    /// Seed of the normal-beat shuffle that makes the folds; fixed across training
    /// seeds so that seeds vary the model, not the split.
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_n_folds")]
    pub n_folds: usize,
    /// Cap on training beats (taken from the shuffled order), for quick runs.
    #[serde(default)]
    pub max_train: Option<usize>,
}

/// A NAB signal (`../shared/data/nab`); see `data::nab` for the preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NabConfig {
    /// The NAB folder, holding `data/` and `labels/`.
    #[serde(default = "default_nab_path")]
    pub path: PathBuf,
    /// `<category>/<name>.csv`, e.g. `realTweets/Twitter_volume_AAPL.csv`; a list of
    /// signals is a sweep axis.
    pub signal: String,
    /// Label file relative to `path`.
    #[serde(default = "default_nab_labels")]
    pub labels: PathBuf,
    /// Rolling-window length (time steps); TadGAN uses 100.
    #[serde(default = "default_series_window")]
    pub window: usize,
    /// Aggregation interval in seconds; default: the signal's median row spacing.
    #[serde(default)]
    pub interval: Option<i64>,
    /// Train (and validate) on every n-th window only; every window is still scored.
    /// 1 (default) is Orion's setting; larger values trade training data for time.
    #[serde(default = "default_stride", skip_serializing_if = "is_one")]
    pub train_stride: usize,
}

/// The digits, leave-one-class-out; see `data::digits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigitsConfig {
    /// The decompressed scikit-learn `digits.csv`.
    #[serde(default = "default_digits_path")]
    pub path: PathBuf,
    /// The digit (0–9) that is the anomaly; a list is a sweep axis.
    #[serde(default)]
    pub abnormal_class: u8,
    #[serde(default)]
    pub split_seed: u64,
    /// Share of the train normals held out as (normal-only) validation.
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

/// A CSV time series; see `data::csv`. Exactly one of `label_column` and `intervals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    pub path: PathBuf,
    /// Value columns, one channel each.
    #[serde(default = "default_value_columns")]
    pub columns: Vec<String>,
    /// A column of 0 (normal) / 1 (anomalous) per row.
    #[serde(default)]
    pub label_column: Option<String>,
    /// Labelled anomalies as inclusive `[first, last]` data-row indices (0-based).
    #[serde(default)]
    pub intervals: Option<Vec<[usize; 2]>>,
    #[serde(default = "default_series_window")]
    pub window: usize,
    /// Steps between window starts.
    #[serde(default = "default_stride")]
    pub stride: usize,
    /// Train (and validate) on every n-th window only; every window is still scored.
    #[serde(default = "default_stride", skip_serializing_if = "is_one")]
    pub train_stride: usize,
}

/// A UCR-style file of labelled series; see `data::ucr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UcrConfig {
    pub path: PathBuf,
    /// A second file pooled with the first (e.g. the archive's `_TEST.tsv`).
    #[serde(default)]
    pub test_path: Option<PathBuf>,
    /// The label of the normal class, as in the file (`1` and `1.0` are the same).
    #[serde(deserialize_with = "label_text")]
    pub normal_class: String,
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

/// `.npy` windows and labels; see `data::npy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpyConfig {
    /// `n × length` or `n × channels × length` array.
    pub windows: PathBuf,
    /// `n` labels, 0 (normal) or 1 (anomalous).
    pub labels: PathBuf,
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

/// A class label written as a string or a number in YAML (`normal_class: 1`).
fn label_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!(
            "a class label must be a string or a number, found {other}"
        ))),
    }
}

/// The synthetic generator's split sizes and anomaly rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
    /// Fraction of validation and test windows with a planted anomaly.
    pub anomaly_rate: f64,
    /// Samples per window (320 like the MIT-BIH beats, so the conv stacks accept it).
    pub length: usize,
    /// Seed of the generator; fixed across training seeds so seeds vary the model.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            n_train: 1024,
            n_val: 256,
            n_test: 512,
            anomaly_rate: 0.1,
            length: 320,
            seed: 0,
        }
    }
}

impl DatasetConfig {
    pub fn name(&self) -> &'static str {
        match self {
            DatasetConfig::Mitdb(_) => "mitdb",
            DatasetConfig::Nab(_) => "nab",
            DatasetConfig::Digits(_) => "digits",
            DatasetConfig::Csv(_) => "csv",
            DatasetConfig::Ucr(_) => "ucr",
            DatasetConfig::Npy(_) => "npy",
            DatasetConfig::Synthetic(_) => "synthetic",
        }
    }

    /// Whether the test windows are rolling windows of one series (time-series metrics
    /// and Orion thresholding apply).
    pub fn is_series(&self) -> bool {
        matches!(self, DatasetConfig::Nab(_) | DatasetConfig::Csv(_))
    }
}

fn default_mitdb_path() -> PathBuf {
    PathBuf::from("data/mitdb-mini")
}
fn default_n_folds() -> usize {
    5
}
fn default_nab_path() -> PathBuf {
    PathBuf::from("../shared/data/nab")
}
fn default_nab_labels() -> PathBuf {
    PathBuf::from(crate::data::nab::DEFAULT_LABELS)
}
fn default_series_window() -> usize {
    100
}
fn default_stride() -> usize {
    1
}
/// Keeps a default `train_stride` out of the canonical config, so that adding the key
/// left the run keys of existing series sweeps unchanged.
fn is_one(n: &usize) -> bool {
    *n == 1
}
fn default_digits_path() -> PathBuf {
    PathBuf::from("data/digits/digits.csv")
}
fn default_val_fraction() -> f64 {
    0.1
}
fn default_value_columns() -> Vec<String> {
    vec!["value".into()]
}

/// Which detector, with its architecture and loss weights. `name` selects the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ModelConfig {
    Beatgan(BeatganConfig),
    /// A narrow BeatGAN student distilled from a frozen BeatGAN teacher.
    BeatganKd(BeatganKdConfig),
    Ae(AeConfig),
    Vae(VaeConfig),
    LstmAe(LstmAeConfig),
    Ganomaly(GanomalyConfig),
    Anogan(AnoganConfig),
    Tadgan(TadganConfig),
}

/// Every `model.name`, in the order of [`ModelConfig`]'s variants.
pub const MODEL_NAMES: [&str; 8] = [
    "beatgan",
    "beatgan_kd",
    "ae",
    "vae",
    "lstm_ae",
    "ganomaly",
    "anogan",
    "tadgan",
];

impl ModelConfig {
    pub fn name(&self) -> &'static str {
        match self {
            ModelConfig::Beatgan(_) => "beatgan",
            ModelConfig::Ae(_) => "ae",
            ModelConfig::Vae(_) => "vae",
            ModelConfig::LstmAe(_) => "lstm_ae",
            ModelConfig::Ganomaly(_) => "ganomaly",
            ModelConfig::Anogan(_) => "anogan",
            ModelConfig::Tadgan(_) => "tadgan",
            ModelConfig::BeatganKd(_) => "beatgan_kd",
        }
    }

    /// The model a checkpoint of this run loads into for inference: a distilled student
    /// is a plain BeatGAN of the student's widths (its teacher only shaped training).
    pub fn for_inference(&self) -> ModelConfig {
        match self {
            ModelConfig::BeatganKd(kd) => ModelConfig::Beatgan(kd.student()),
            other => other.clone(),
        }
    }
}

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

/// GANomaly (Akcay et al., ACCV 2018); defaults are the paper's. The paper trains with
/// Adam lr 2e-4 for 15 epochs: set `train.lr` / `train.epochs` to match.
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

/// AnoGAN (Schlegl et al., IPMI 2017): a DCGAN plus a per-window latent search.
/// The paper trains with Adam lr 2e-4: set `train.lr` to match.
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

/// TadGAN (Geiger et al., IEEE BigData 2020; Orion's implementation). The paper trains
/// with Adam lr 5e-4 for 35 epochs: set `train.lr` / `train.epochs` to match.
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

/// TadGAN's score combinations (Orion): product of the two z-scores, or their α-sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TadganCombination {
    Mult,
    Sum,
}

/// BeatGAN (Zhou et al., IJCAI 2019); defaults are the paper's.
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

/// Knowledge distillation (`../shared/specs/models.md`): the student is a BeatGAN of
/// widths `student_ndf`/`student_ngf` and the teacher's nz, trained with the BeatGAN loss
/// (its own `w_adv`) + `alpha`·KD on the latent codes + `beta`·attention transfer over
/// the five encoder maps. The teacher is its own run (same data, fold, seed, train and
/// eval settings; `teacher_epochs` if set), trained once and shared by every student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeatganKdConfig {
    pub teacher: BeatganConfig,
    /// Epochs of the teacher run; default: `train.epochs`.
    pub teacher_epochs: Option<usize>,
    pub student_ndf: usize,
    pub student_ngf: usize,
    /// Weight of the student's own feature-matching term.
    pub w_adv: f64,
    /// Weight of the KD term (Hinton) on the latent codes.
    pub alpha: f64,
    /// Weight of the attention-transfer term.
    pub beta: f64,
    /// Softmax temperature T of the KD term.
    pub temperature: f64,
}

impl Default for BeatganKdConfig {
    fn default() -> Self {
        BeatganKdConfig {
            teacher: BeatganConfig::default(),
            teacher_epochs: None,
            student_ndf: 8,
            student_ngf: 8,
            w_adv: 1.0,
            alpha: 0.9,
            beta: 1000.0,
            temperature: 4.0,
        }
    }
}

impl BeatganKdConfig {
    /// The student as a plain BeatGAN.
    pub fn student(&self) -> BeatganConfig {
        BeatganConfig {
            nz: self.teacher.nz,
            ndf: self.student_ndf,
            ngf: self.student_ngf,
            w_adv: self.w_adv,
        }
    }
}

/// Optimisation settings shared by every model (Adam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 64,
            lr: 1e-4,
            beta1: 0.5,
            beta2: 0.999,
        }
    }
}

/// How results are chosen and reported (`../shared/specs/evaluation.md`, "Protocols").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    pub protocol: Protocol,
    /// Clean protocol, when validation has no anomalies: the threshold is this quantile
    /// of the normal validation scores.
    pub threshold_quantile: f64,
    /// How the operating point behind `f1` is chosen. Left out of the canonical JSON
    /// at its default so that the keys of runs stored before it existed stay valid.
    #[serde(skip_serializing_if = "Threshold::is_default")]
    pub threshold: Threshold,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            protocol: Protocol::Clean,
            threshold_quantile: 0.99,
            threshold: Threshold::Protocol,
        }
    }
}

/// The operating point of a run (`eval.threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// The protocol's own choice: best F1 on test (paper); from validation (clean).
    #[default]
    Protocol,
    /// Orion's label-free thresholding of the per-step test scores (series only):
    /// sliding windows of 33 % of the series, mean + 4σ, padding 50, pruning at 10 %.
    Orion,
}

impl Threshold {
    fn is_default(&self) -> bool {
        *self == Threshold::Protocol
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// The published setup: epoch chosen by labelled validation AUC, scores min-max scaled
    /// over test, best-F1 threshold picked on test. Numbers are labelled "paper protocol".
    Paper,
    /// No test label is used for any choice: epoch by normal-only validation loss,
    /// threshold from validation.
    Clean,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Paper => "paper",
            Protocol::Clean => "clean",
        }
    }
}

fn check(ok: bool, key: &str, what: &str, got: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("key `{key}` must be {what}, found {got}"))
    }
}

impl BeatganConfig {
    /// `section` names where the block sits (`model`, `model.teacher`) in errors.
    fn validate(&self, section: &str) -> Result<(), String> {
        for (key, v) in [("nz", self.nz), ("ndf", self.ndf), ("ngf", self.ngf)] {
            check(v >= 1, &format!("{section}.{key}"), "at least 1", v)?;
        }
        let w = self.w_adv;
        check(
            w >= 0.0 && w.is_finite(),
            &format!("{section}.w_adv"),
            "a number ≥ 0",
            w,
        )
    }
}

impl RunConfig {
    /// The teacher run a distillation run depends on: same data, fold, seed and
    /// settings, the teacher's BeatGAN config. `None` for models without a teacher.
    pub fn teacher(&self) -> Option<RunConfig> {
        match &self.model {
            ModelConfig::BeatganKd(kd) => {
                let mut train = self.train.clone();
                train.epochs = kd.teacher_epochs.unwrap_or(train.epochs);
                Some(RunConfig {
                    model: ModelConfig::Beatgan(kd.teacher.clone()),
                    train,
                    ..self.clone()
                })
            }
            _ => None,
        }
    }

    /// Checks ranges serde cannot express; the message names the key and the valid range.
    pub fn validate(&self) -> Result<(), String> {
        let t = &self.train;
        check(t.epochs >= 1, "train.epochs", "at least 1", t.epochs)?;
        check(
            t.batch_size >= 2,
            "train.batch_size",
            "at least 2 (batch norm)",
            t.batch_size,
        )?;
        check(
            t.lr > 0.0 && t.lr.is_finite(),
            "train.lr",
            "a positive number",
            t.lr,
        )?;
        check(
            (0.0..1.0).contains(&t.beta1),
            "train.beta1",
            "in [0, 1)",
            t.beta1,
        )?;
        check(
            (0.0..1.0).contains(&t.beta2),
            "train.beta2",
            "in [0, 1)",
            t.beta2,
        )?;
        let q = self.eval.threshold_quantile;
        check(
            q > 0.0 && q < 1.0,
            "eval.threshold_quantile",
            "in (0, 1)",
            q,
        )?;
        if !matches!(self.dataset, DatasetConfig::Mitdb(_)) {
            check(
                self.fold == 0,
                "folds",
                &format!("0 (dataset `{}` has one split)", self.dataset.name()),
                self.fold,
            )?;
        }
        if self.eval.threshold == Threshold::Orion && !self.dataset.is_series() {
            return Err(format!(
                "key `eval.threshold` = orion needs a time series (dataset nab or csv), found dataset `{}`",
                self.dataset.name()
            ));
        }
        let fraction = |f: f64| {
            check(
                (0.0..1.0).contains(&f),
                "dataset.val_fraction",
                "in [0, 1)",
                f,
            )
        };
        match &self.dataset {
            DatasetConfig::Nab(d) => {
                check(d.window >= 1, "dataset.window", "at least 1", d.window)?;
                if let Some(i) = d.interval {
                    check(i >= 1, "dataset.interval", "at least 1 (seconds)", i)?;
                }
            }
            DatasetConfig::Digits(d) => {
                check(
                    d.abnormal_class <= 9,
                    "dataset.abnormal_class",
                    "a digit 0–9",
                    d.abnormal_class,
                )?;
                fraction(d.val_fraction)?;
            }
            DatasetConfig::Csv(d) => {
                check(d.window >= 1, "dataset.window", "at least 1", d.window)?;
                check(d.stride >= 1, "dataset.stride", "at least 1", d.stride)?;
                check(
                    !d.columns.is_empty(),
                    "dataset.columns",
                    "at least one column name",
                    "[]",
                )?;
                if d.label_column.is_some() == d.intervals.is_some() {
                    return Err(
                        "dataset `csv` needs exactly one of `dataset.label_column` and `dataset.intervals`"
                            .into(),
                    );
                }
            }
            DatasetConfig::Ucr(d) => fraction(d.val_fraction)?,
            DatasetConfig::Npy(d) => fraction(d.val_fraction)?,
            DatasetConfig::Mitdb(d) => {
                check(d.n_folds >= 2, "dataset.n_folds", "at least 2", d.n_folds)?;
                check(
                    self.fold < d.n_folds,
                    "folds",
                    &format!("below dataset.n_folds = {}", d.n_folds),
                    self.fold,
                )?;
                if let Some(m) = d.max_train {
                    check(
                        m >= t.batch_size,
                        "dataset.max_train",
                        "at least train.batch_size",
                        m,
                    )?;
                }
            }
            DatasetConfig::Synthetic(d) => {
                check(
                    self.fold == 0,
                    "folds",
                    "0 (the synthetic dataset has one split; vary dataset.seed instead)",
                    self.fold,
                )?;
                check(
                    d.n_train >= t.batch_size,
                    "dataset.n_train",
                    "at least train.batch_size",
                    d.n_train,
                )?;
                check(d.n_val >= 1, "dataset.n_val", "at least 1", d.n_val)?;
                check(d.n_test >= 1, "dataset.n_test", "at least 1", d.n_test)?;
                check(
                    (0.0..1.0).contains(&d.anomaly_rate),
                    "dataset.anomaly_rate",
                    "in [0, 1)",
                    d.anomaly_rate,
                )?;
                check(d.length >= 40, "dataset.length", "at least 40", d.length)?;
            }
        }
        let sizes = |pairs: &[(&str, usize)]| -> Result<(), String> {
            for (key, v) in pairs {
                check(*v >= 1, &format!("model.{key}"), "at least 1", v)?;
            }
            Ok(())
        };
        let weights = |pairs: &[(&str, f64)]| -> Result<(), String> {
            for (key, v) in pairs {
                check(
                    *v >= 0.0 && v.is_finite(),
                    &format!("model.{key}"),
                    "a number ≥ 0",
                    v,
                )?;
            }
            Ok(())
        };
        match &self.model {
            ModelConfig::Beatgan(m) => {
                sizes(&[("nz", m.nz), ("ndf", m.ndf), ("ngf", m.ngf)])?;
                weights(&[("w_adv", m.w_adv)])?;
            }
            ModelConfig::Ae(m) => sizes(&[("nz", m.nz), ("ndf", m.ndf), ("ngf", m.ngf)])?,
            ModelConfig::Vae(m) => {
                sizes(&[("nz", m.nz), ("ndf", m.ndf), ("ngf", m.ngf)])?;
                weights(&[("beta_kl", m.beta_kl)])?;
            }
            ModelConfig::LstmAe(m) => sizes(&[("nz", m.nz)])?,
            ModelConfig::Ganomaly(m) => {
                sizes(&[("nz", m.nz), ("ndf", m.ndf), ("ngf", m.ngf)])?;
                weights(&[("w_adv", m.w_adv), ("w_con", m.w_con), ("w_enc", m.w_enc)])?;
            }
            ModelConfig::Anogan(m) => {
                sizes(&[
                    ("nz", m.nz),
                    ("ndf", m.ndf),
                    ("ngf", m.ngf),
                    ("latent_steps", m.latent_steps),
                ])?;
                check(
                    (0.0..=1.0).contains(&m.lambda),
                    "model.lambda",
                    "in [0, 1]",
                    m.lambda,
                )?;
                check(
                    m.latent_lr > 0.0 && m.latent_lr.is_finite(),
                    "model.latent_lr",
                    "a positive number",
                    m.latent_lr,
                )?;
            }
            ModelConfig::Tadgan(m) => {
                sizes(&[
                    ("nz", m.nz),
                    ("enc_hidden", m.enc_hidden),
                    ("gen_hidden", m.gen_hidden),
                    ("critic_channels", m.critic_channels),
                    ("critic_z_hidden", m.critic_z_hidden),
                    ("n_critic", m.n_critic),
                ])?;
                weights(&[("gp_weight", m.gp_weight), ("rec_weight", m.rec_weight)])?;
                check(
                    (0.0..=1.0).contains(&m.score_alpha),
                    "model.score_alpha",
                    "in [0, 1]",
                    m.score_alpha,
                )?;
            }
            ModelConfig::BeatganKd(kd) => {
                kd.teacher.validate("model.teacher")?;
                kd.student().validate("model.student")?;
                if let Some(e) = kd.teacher_epochs {
                    check(e >= 1, "model.teacher_epochs", "at least 1", e)?;
                }
                for (key, v) in [("model.alpha", kd.alpha), ("model.beta", kd.beta)] {
                    check(v >= 0.0 && v.is_finite(), key, "a number ≥ 0", v)?;
                }
                let t = kd.temperature;
                check(
                    t > 0.0 && t.is_finite(),
                    "model.temperature",
                    "a positive number",
                    t,
                )?;
            }
        }
        Ok(())
    }
}

/// Splits a `name:`-tagged section into its name and the remaining fields.
fn tagged_section<'de, D: Deserializer<'de>>(
    d: D,
    names: &[&str],
) -> Result<(String, Map<String, Value>), D::Error> {
    let mut fields = Map::<String, Value>::deserialize(d)?;
    match fields.remove("name") {
        Some(Value::String(name)) if names.contains(&name.as_str()) => Ok((name, fields)),
        Some(other) => Err(D::Error::custom(format!(
            "unknown name {other}; valid names: {}",
            names.join(", ")
        ))),
        None => Err(D::Error::custom(format!(
            "missing `name`; valid names: {}",
            names.join(", ")
        ))),
    }
}

/// Deserialises a section's fields into its struct. serde's internally tagged enums
/// lose the field's name in errors; going through figment keeps it (`nz: invalid type`).
fn section_fields<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    fields: Map<String, Value>,
) -> Result<T, D::Error> {
    Figment::from(Serialized::defaults(Value::Object(fields)))
        .extract()
        .map_err(|e| D::Error::custom(sweep::describe_figment_error(&e)))
}

impl<'de> Deserialize<'de> for DatasetConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (name, fields) = tagged_section(
            d,
            &["mitdb", "nab", "digits", "csv", "ucr", "npy", "synthetic"],
        )?;
        match name.as_str() {
            "mitdb" => section_fields::<D, _>(fields).map(DatasetConfig::Mitdb),
            "nab" => section_fields::<D, _>(fields).map(DatasetConfig::Nab),
            "digits" => section_fields::<D, _>(fields).map(DatasetConfig::Digits),
            "csv" => section_fields::<D, _>(fields).map(DatasetConfig::Csv),
            "ucr" => section_fields::<D, _>(fields).map(DatasetConfig::Ucr),
            "npy" => section_fields::<D, _>(fields).map(DatasetConfig::Npy),
            "synthetic" => section_fields::<D, _>(fields).map(DatasetConfig::Synthetic),
            _ => unreachable!("tagged_section checked the name"),
        }
    }
}

impl<'de> Deserialize<'de> for ModelConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (name, fields) = tagged_section(d, &MODEL_NAMES)?;
        match name.as_str() {
            "beatgan" => section_fields::<D, _>(fields).map(ModelConfig::Beatgan),
            "beatgan_kd" => section_fields::<D, _>(fields).map(ModelConfig::BeatganKd),
            "ae" => section_fields::<D, _>(fields).map(ModelConfig::Ae),
            "vae" => section_fields::<D, _>(fields).map(ModelConfig::Vae),
            "lstm_ae" => section_fields::<D, _>(fields).map(ModelConfig::LstmAe),
            "ganomaly" => section_fields::<D, _>(fields).map(ModelConfig::Ganomaly),
            "anogan" => section_fields::<D, _>(fields).map(ModelConfig::Anogan),
            "tadgan" => section_fields::<D, _>(fields).map(ModelConfig::Tadgan),
            _ => unreachable!("tagged_section checked the name"),
        }
    }
}
