//! Knowledge distillation of BeatGAN (`model.name: beatgan_kd`): a narrow BeatGAN student
//! trained with its own BeatGAN loss, plus α times KD on the latent codes (Hinton et al.
//! 2015), plus β times attention transfer over the five encoder maps (Zagoruyko &
//! Komodakis 2017), from a frozen teacher loaded from the teacher run's checkpoint.
//!
//! The teacher is a run of its own (a [`Needs`] dependency the planner orders first);
//! the student wraps a [`BeatGan`] and adds its terms through [`BeatGan::step_with`].

use super::beatgan::{BeatGan, BeatganConfig};
use super::train::train_epoch;
use super::{Build, Detector, EpochLosses, Finished, InputShape, ModelConfig, ModelSpec, Needs};
use crate::data::Windows;
use crate::nn::loss;
use crate::nn::stacks::Encoded;
use crate::registry::{check, check_positive, check_weights};
use crate::rng::SplitMix64;
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};
use std::time::Instant;

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

/// The dependency's role: the store, errors and [`Finished`] name it so.
const TEACHER: &str = "teacher";
/// The student's loss terms per epoch: BeatGAN's (`beatgan::LOSS_NAMES`), then KD and AT.
const LOSS_NAMES: [&str; 6] = [
    "err_d",
    "err_g",
    "err_g_rec",
    "err_g_adv",
    "err_g_kd",
    "err_g_at",
];

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

impl ModelSpec for BeatganKdConfig {
    fn input_length(&self, shape: InputShape) -> Option<usize> {
        shape.conv_length()
    }

    fn validate(&self) -> Result<(), String> {
        self.teacher.validate_in("model.teacher")?;
        self.student().validate_in("model.student")?;
        if let Some(e) = self.teacher_epochs {
            check(e >= 1, "model.teacher_epochs", "at least 1", e)?;
        }
        check_weights("model", &[("alpha", self.alpha), ("beta", self.beta)])?;
        check_positive("model.temperature", self.temperature)
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let teacher_run = ctx.dependency(TEACHER)?;
        let mut teacher = BeatGan::new(self.teacher.clone(), ctx)?;
        teacher.load(&teacher_run.checkpoint)?;
        Ok(Box::new(Student {
            student: BeatGan::new(self.student(), ctx)?,
            device: ctx.device.clone(),
            distill: Distill {
                teacher,
                alpha: self.alpha,
                beta: self.beta,
                temperature: self.temperature,
            },
        }))
    }

    fn dependencies(&self) -> Vec<Needs> {
        vec![Needs {
            role: TEACHER,
            model: ModelConfig::Beatgan(self.teacher.clone()),
            epochs: self.teacher_epochs,
        }]
    }

    /// `auc_retention`: the student's test AUC-ROC over its teacher's.
    fn relative_metrics(&self, own: &[(String, f64)], deps: &[Finished]) -> Vec<(String, f64)> {
        let auc = own.iter().find(|(n, _)| n == "auc_roc").map(|(_, v)| *v);
        let teacher = deps
            .iter()
            .find(|d| d.role == TEACHER)
            .and_then(|d| d.auc_roc);
        match (auc, teacher) {
            (Some(auc), Some(teacher)) => vec![("auc_retention".into(), auc / teacher)],
            _ => Vec::new(),
        }
    }

    fn for_inference(&self) -> Option<ModelConfig> {
        Some(ModelConfig::Beatgan(self.student()))
    }

    /// α = β = 0: the same student trained alone, which says whether distilling helps.
    fn control(&self) -> Vec<(&'static str, f64)> {
        vec![("alpha", 0.0), ("beta", 0.0)]
    }
}

/// The frozen teacher and the weights of the two distillation terms.
struct Distill {
    teacher: BeatGan,
    alpha: f64,
    beta: f64,
    temperature: f64,
}

impl Distill {
    /// (KD, AT) with their weights, between the student's encoding of `x` and the
    /// teacher's (eval mode, no gradient into the teacher).
    fn terms(&self, x: &Tensor, student: &Encoded) -> candle_core::Result<Vec<(Tensor, f64)>> {
        let teacher = self.teacher.encode(x, false)?;
        let kd = loss::kd_kl(&student.out, &teacher.out.detach(), self.temperature)?;
        let teacher_maps: Vec<Tensor> = teacher.maps.iter().map(Tensor::detach).collect();
        let at = loss::attention_transfer(&student.maps, &teacher_maps)?;
        Ok(vec![(kd, self.alpha), (at, self.beta)])
    }
}

/// A BeatGAN student and the teacher it distils from. Its weights (what is saved and
/// scored) are the student's alone.
pub struct Student {
    student: BeatGan,
    device: Device,
    distill: Distill,
}

impl Detector for Student {
    // The teacher is frozen: the student's training state is all there is.
    fn training_state(&self) -> anyhow::Result<Option<super::Snapshot>> {
        self.student.training_state()
    }
    fn set_training_state(&mut self, state: &super::Snapshot) -> anyhow::Result<()> {
        self.student.set_training_state(state)
    }
    fn fit_epoch(
        &mut self,
        train: &Windows,
        rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        let bs = self.student.batch_size();
        let (student, distill) = (&mut self.student, &self.distill);
        train_epoch(train, bs, &self.device, rng, &LOSS_NAMES, on_batch, |x| {
            student.step_with(x, &|x, code| distill.terms(x, code))
        })
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        self.student.score(windows)
    }

    fn score_training_mode(
        &mut self,
        windows: &Windows,
        rng: &mut SplitMix64,
    ) -> anyhow::Result<Option<Vec<f64>>> {
        self.student.score_training_mode(windows, rng)
    }

    fn reconstruct(&self, windows: &Windows) -> anyhow::Result<Option<Windows>> {
        self.student.reconstruct(windows)
    }

    fn vars(&self) -> &VarMap {
        self.student.vars()
    }

    fn batch_size(&self) -> usize {
        self.student.batch_size()
    }

    /// Sizes and speeds of teacher and student.
    fn extra_metrics(&self, test: &Windows) -> anyhow::Result<Vec<(String, f64)>> {
        let per_window_ms = |model: &BeatGan| -> anyhow::Result<f64> {
            let start = Instant::now();
            model.score(test)?;
            Ok(start.elapsed().as_secs_f64() * 1e3 / test.n.max(1) as f64)
        };
        let teacher = &self.distill.teacher;
        let (teacher_params, student_params) =
            (teacher.generator_params(), self.student.generator_params());
        Ok(vec![
            ("teacher_g_params".into(), teacher_params as f64),
            ("student_g_params".into(), student_params as f64),
            (
                "compression_ratio".into(),
                teacher_params as f64 / student_params as f64,
            ),
            ("teacher_ms_per_window".into(), per_window_ms(teacher)?),
            (
                "student_ms_per_window".into(),
                per_window_ms(&self.student)?,
            ),
        ])
    }
}
