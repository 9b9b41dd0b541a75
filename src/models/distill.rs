//! Knowledge distillation of BeatGAN (`model.name: beatgan_kd`): a narrow BeatGAN student
//! trained with its own BeatGAN loss, plus α times KD on the latent codes (Hinton et al.
//! 2015), plus β times attention transfer over the five encoder maps (Zagoruyko &
//! Komodakis 2017), from a frozen teacher loaded from the teacher run's checkpoint.

use super::beatgan::BeatGan;
use super::{Detector, InputShape};
use crate::config::{BeatganKdConfig, TrainConfig};
use crate::data::Windows;
use crate::nn::loss;
use crate::nn::stacks::Encoded;
use candle_core::{Device, Tensor};
use std::path::Path;
use std::time::Instant;

/// The frozen teacher and the weights of the two distillation terms.
pub struct Distill {
    teacher: Box<BeatGan>,
    pub(super) alpha: f64,
    pub(super) beta: f64,
    temperature: f64,
}

impl Distill {
    /// (KD, AT) between the student's encoding of `x` and the teacher's (eval mode, no
    /// gradient into the teacher).
    pub(super) fn losses(
        &self,
        x: &Tensor,
        student: &Encoded,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let teacher = self.teacher.encode(x, false)?;
        let kd = loss::kd_kl(&student.out, &teacher.out.detach(), self.temperature)?;
        let teacher_maps: Vec<Tensor> = teacher.maps.iter().map(Tensor::detach).collect();
        let at = loss::attention_transfer(&student.maps, &teacher_maps)?;
        Ok((kd, at))
    }

    /// Sizes and speeds of teacher and student, for the run's metrics.
    pub(super) fn metrics(
        &self,
        student: &BeatGan,
        test: &Windows,
    ) -> anyhow::Result<Vec<(String, f64)>> {
        let per_window_ms = |model: &BeatGan| -> anyhow::Result<f64> {
            let start = Instant::now();
            model.score(test)?;
            Ok(start.elapsed().as_secs_f64() * 1e3 / test.n.max(1) as f64)
        };
        let (teacher_params, student_params) =
            (self.teacher.generator_params(), student.generator_params());
        Ok(vec![
            ("teacher_g_params".into(), teacher_params as f64),
            ("student_g_params".into(), student_params as f64),
            (
                "compression_ratio".into(),
                teacher_params as f64 / student_params as f64,
            ),
            (
                "teacher_ms_per_window".into(),
                per_window_ms(&self.teacher)?,
            ),
            ("student_ms_per_window".into(), per_window_ms(student)?),
        ])
    }
}

/// The student of `kd`, distilling from the teacher weights in `teacher_checkpoint`.
pub fn student(
    kd: &BeatganKdConfig,
    train: TrainConfig,
    shape: InputShape,
    device: &Device,
    seed: u64,
    teacher_checkpoint: &Path,
) -> anyhow::Result<BeatGan> {
    let mut teacher = BeatGan::new(kd.teacher.clone(), train.clone(), shape, device, seed)?;
    teacher.load(teacher_checkpoint)?;
    let mut student = BeatGan::new(kd.student(), train, shape, device, seed)?;
    student.distill = Some(Distill {
        teacher: Box::new(teacher),
        alpha: kd.alpha,
        beta: kd.beta,
        temperature: kd.temperature,
    });
    Ok(student)
}
