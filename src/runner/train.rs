//! One run: the epoch loop with per-epoch validation and model selection, then test
//! scoring and the metrics of the run's protocol.

use super::progress::RunProgress;
use super::resume::{Checkpoint, LoopState};
use crate::config::{EpochChoice, Protocol};
use crate::data::Split;
use crate::kinds::SplitName;
use crate::metrics;
use crate::models::{Build, Detector, Finished, InputShape, Snapshot};
use crate::plan::RunSpec;
use crate::rng::SplitMix64;
use crate::store::{Attempt, Metric, RunResult, ScoreSet, Store};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use std::path::Path;
use std::time::Instant;

/// Offsets the batch-order stream from the initialisation stream of the same seed.
const BATCH_ORDER_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;
/// Offsets the validation-order stream (`protocol: paper`'s training-mode scoring).
const VAL_ORDER_STREAM: u64 = 0x5851_f42d_4c95_7f2d;

/// One run to train: what it is and what it trains on.
#[derive(Clone, Copy)]
pub(super) struct Job<'a> {
    pub run: &'a RunSpec,
    /// The claim the run's writes go through.
    pub attempt: &'a Attempt,
    pub split: &'a Split,
    pub device: &'a Device,
    /// The finished runs it depends on (a distillation student's teacher).
    pub dependencies: &'a [Finished],
}

pub(super) fn train_and_evaluate(
    job: Job,
    store: &Store,
    shown: &RunProgress,
    results_dir: &Path,
) -> Result<RunResult> {
    let start = Instant::now();
    let cfg = &job.run.config;
    // A model whose layers need another window length gets every window resampled to
    // it, recorded with the run (`data_length`, `input_length`).
    let data_length = job.split.train.length;
    let resampled = cfg
        .model
        .spec()
        .input_length(InputShape::of(&job.split.train))
        .map(|length| job.split.resampled(length));
    if let Some(s) = &resampled {
        shown.note(&format!(
            "{} takes windows of {} samples; the data's {data_length} are resampled (linear interpolation)",
            cfg.model.name(),
            s.train.length
        ));
    }
    let job = Job {
        split: resampled.as_ref().unwrap_or(job.split),
        ..job
    };
    let Job {
        run,
        split,
        device,
        dependencies,
        ..
    } = job;
    let protocol = cfg.eval.protocol;
    let shape = InputShape::of(&split.train);
    if split.train.n < 2 {
        bail!(
            "the training split has {} windows; need at least 2",
            split.train.n
        );
    }
    let val_has_both = split.val.labels.iter().any(|&l| l) && split.val.labels.iter().any(|&l| !l);
    if protocol == Protocol::Paper && cfg.eval.epoch == EpochChoice::Protocol && !val_has_both {
        bail!("the paper protocol selects the epoch by validation AUC, but validation lacks normal or anomalous windows (set eval.epoch: last to keep the last epoch instead)");
    }

    let _precision = super::device::hold_precision(cfg.train.precision, device)?;
    let mut detector = cfg.model.build(&Build {
        train: &cfg.train,
        shape,
        device,
        seed: cfg.seed,
        dependencies,
    })?;
    let run_dir = run_dir(results_dir, &run.key)?;
    let checkpoint = Checkpoint::new(&run_dir);
    fit(
        job,
        detector.as_mut(),
        store,
        shown,
        val_has_both,
        &checkpoint,
    )
    .and_then(|fitted| {
        let measured = Measured {
            fitted,
            data_length,
            start,
        };
        score_and_save(job, detector.as_mut(), measured, store, &run_dir)
    })
}

/// `<results>/runs/<key>`, made if missing.
fn run_dir(results_dir: &Path, key: &str) -> Result<std::path::PathBuf> {
    crate::paths::dir_under(results_dir, &Path::new("runs").join(key))
}

/// Removes a run's epoch checkpoint once the run is recorded done or failed (a failed
/// run starts over if it is ever trained again). A run stopped on request, in training
/// or in the scoring after it, or one whose lease was lost keeps it: the next attempt
/// resumes there (after the last epoch: at the scoring, without training again).
pub(super) fn clear_checkpoint(results_dir: &Path, key: &str) {
    if let Ok(dir) = run_dir(results_dir, key) {
        Checkpoint::new(&dir).clear();
    }
}

/// What [`score_and_save`] records beside the scores: the training's figures, the
/// data's window length before any resampling and when the run began.
struct Measured {
    fitted: Fitted,
    data_length: usize,
    start: Instant,
}

/// After training: scores validation and test with the kept epoch, evaluates them under
/// the run's protocol, saves the model and gathers the run's result.
fn score_and_save(
    job: Job,
    detector: &mut dyn Detector,
    measured: Measured,
    store: &Store,
    run_dir: &Path,
) -> Result<RunResult> {
    let Job {
        run,
        split,
        dependencies,
        ..
    } = job;
    let cfg = &run.config;
    let protocol = cfg.eval.protocol;
    let shape = InputShape::of(&split.train);
    let Measured {
        fitted,
        data_length,
        start,
    } = measured;
    let best_epoch = fitted.best_epoch;

    let val_scores = detector.score(&split.val)?;
    let score_start = Instant::now();
    // A series may be scored per time step by the model itself; its stored test scores
    // and labels are then per step (`series::step_scores` tells the two apart).
    let step_scores = match &split.timeline {
        Some(timeline) => detector.score_steps(&split.test, timeline)?,
        None => None,
    };
    let (test_labels, test_scores, test_classes) = match step_scores {
        Some(scores) => {
            let timeline = split.timeline.as_ref().expect("scored per step");
            (timeline.labels.clone(), scores, Vec::new())
        }
        None => (
            split.test.labels.clone(),
            detector.score(&split.test)?,
            split.test.classes.clone(),
        ),
    };
    let score_s = score_start.elapsed().as_secs_f64();
    let mut evaluation = metrics::evaluate::evaluate(
        &cfg.eval,
        (&split.val.labels, &val_scores),
        (&test_labels, &test_scores, &test_classes),
        split.timeline.as_ref(),
    )
    .context("evaluating the test scores")?;
    let own: Vec<(String, f64)> = evaluation
        .iter()
        .filter(|(split, _, _)| *split == SplitName::Test)
        .map(|(_, name, value)| (name.clone(), *value))
        .collect();
    let relative = cfg.model.spec().relative_metrics(&own, dependencies);
    evaluation.extend(
        relative
            .into_iter()
            .map(|(name, value)| (SplitName::Test, name, value)),
    );
    // Inference time: scoring the test windows (AnoGAN: its batched latent search).
    evaluation.extend([
        (SplitName::Test, "score_s".to_string(), score_s),
        (
            SplitName::Test,
            "ms_per_window".to_string(),
            score_s * 1e3 / split.test.n.max(1) as f64,
        ),
        (SplitName::Train, "fit_s".to_string(), fitted.fit_s),
        (
            SplitName::Train,
            "data_length".to_string(),
            data_length as f64,
        ),
        (
            SplitName::Train,
            "input_length".to_string(),
            shape.length as f64,
        ),
        (
            SplitName::Train,
            "val_score_s".to_string(),
            fitted.val_score_s,
        ),
    ]);
    evaluation.extend(
        detector
            .extra_metrics(&split.test)?
            .into_iter()
            .map(|(name, value)| (SplitName::Test, name, value)),
    );

    let checkpoint = run_dir.join("model.safetensors");
    store.still_holds(job.attempt)?;
    detector.save(&checkpoint)?;
    // Recorded relative to the artifacts root (see `paths::artifact`).
    let recorded = Path::new("runs").join(&run.key).join("model.safetensors");

    Ok(RunResult {
        n_params: detector.n_params(),
        best_epoch,
        protocol: protocol.as_str().into(),
        duration_s: start.elapsed().as_secs_f64(),
        metrics: evaluation
            .into_iter()
            .map(|(split, name, value)| Metric { split, name, value })
            .collect(),
        scores: vec![
            ScoreSet {
                split: SplitName::Val,
                labels: split.val.labels.clone(),
                scores: val_scores,
                classes: split.val.classes.clone(),
            },
            ScoreSet {
                split: SplitName::Test,
                labels: test_labels,
                scores: test_scores,
                classes: test_classes,
            },
        ],
        artifacts: vec![("checkpoint".into(), recorded.display().to_string())],
    })
}

/// What training kept: the selected epoch (its weights restored into the detector) and
/// the seconds spent in training steps and in validation scoring, summed over the epochs
/// (for AnoGAN the validation scoring is a latent search, often the larger part of a run).
struct Fitted {
    best_epoch: usize,
    fit_s: f64,
    val_score_s: f64,
}

/// The epoch loop: trains, scores validation, stores each epoch's values, keeps the best
/// epoch by the protocol's merit (or the last, `eval.epoch: last`) and restores it at the
/// end. After every epoch it writes
/// a checkpoint (the last one too, so that a run stopped in its test scoring is not
/// trained again), and it starts from an earlier attempt's checkpoint when there is one
/// (its epochs are stored again: the claim cleared them).
fn fit(
    job: Job,
    detector: &mut dyn Detector,
    store: &Store,
    shown: &RunProgress,
    val_has_both: bool,
    checkpoint: &Checkpoint,
) -> Result<Fitted> {
    let Job {
        run,
        attempt,
        split,
        ..
    } = job;
    let (cfg, protocol) = (&run.config, run.config.eval.protocol);
    let epochs = cfg.train.epochs;
    let mut rng = SplitMix64::new(cfg.seed ^ BATCH_ORDER_STREAM);
    let mut val_rng = SplitMix64::new(cfg.seed ^ VAL_ORDER_STREAM);
    let mut best: Option<(f64, usize, Snapshot)> = None;
    let (mut fit_s, mut val_score_s) = (0.0, 0.0);
    let mut first_epoch = 0;
    let mut records: Vec<Vec<(String, f64)>> = Vec::new();
    if let Some((state, best_weights)) = checkpoint.load(&run.key, detector)? {
        for (epoch, values) in state.epochs.iter().enumerate() {
            store.record_epoch(attempt, epoch, values)?;
        }
        rng = SplitMix64::new(state.batch_rng);
        val_rng = SplitMix64::new(state.val_rng);
        (fit_s, val_score_s) = (state.fit_s, state.val_score_s);
        best = state
            .best
            .zip(best_weights)
            .map(|((merit, epoch), weights)| (merit, epoch, weights));
        first_epoch = state.next_epoch;
        records = state.epochs;
        let then = if first_epoch == epochs {
            "; training is done, on to the scoring"
        } else {
            ""
        };
        shown.note(&format!(
            "resumed from the checkpoint after epoch {first_epoch} of {epochs}{then}"
        ));
    }
    shown.set_batches((epochs - first_epoch) * detector.batches_per_epoch(split.train.n));
    for epoch in first_epoch..epochs {
        let mut on_batch = || {
            shown.batch();
            crate::stop::check()
        };
        let fit_start = Instant::now();
        let losses = detector.fit_epoch(&split.train, &mut rng, &mut on_batch)?;
        fit_s += fit_start.elapsed().as_secs_f64();
        let val_start = Instant::now();
        // `paper` validates as the official BeatGAN code does (see
        // `Detector::score_training_mode`); `clean` as it tests.
        let paper_scores = match protocol {
            Protocol::Paper => detector.score_training_mode(&split.val, &mut val_rng)?,
            Protocol::Clean => None,
        };
        let val_scores = match paper_scores {
            Some(scores) => scores,
            None => detector.score(&split.val)?,
        };
        val_score_s += val_start.elapsed().as_secs_f64();
        if let Some(i) = val_scores.iter().position(|s| !s.is_finite()) {
            bail!(
                "training diverged: validation score {i} is {} after epoch {epoch}",
                val_scores[i]
            );
        }
        let mut values: Vec<(String, f64)> =
            losses.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        let val_loss = mean_normal(&split.val.labels, &val_scores);
        values.push(("val_loss".into(), val_loss));
        let val_auc = if val_has_both {
            let auc = metrics::auc_roc(&split.val.labels, &val_scores)?;
            values.push(("val_auc_roc".into(), auc));
            Some(auc)
        } else {
            None
        };
        store.record_epoch(attempt, epoch, &values)?;

        // Larger is better: val AUC (paper, labels used), minus the normal-only loss
        // (clean), or the epoch itself (`eval.epoch: last`).
        let merit = match (cfg.eval.epoch, protocol) {
            (EpochChoice::Last, _) => epoch as f64,
            (EpochChoice::Protocol, Protocol::Paper) => val_auc.expect("checked above"),
            (EpochChoice::Protocol, Protocol::Clean) => -val_loss,
        };
        if best.as_ref().is_none_or(|(m, _, _)| merit > *m) {
            best = Some((merit, epoch, detector.snapshot()?));
        }
        shown.epoch(epoch, epochs, &values);
        records.push(values);
        let state = LoopState {
            key: run.key.clone(),
            next_epoch: epoch + 1,
            best: best.as_ref().map(|(m, e, _)| (*m, *e)),
            batch_rng: rng.state(),
            val_rng: val_rng.state(),
            fit_s,
            val_score_s,
            epochs: records.clone(),
        };
        checkpoint.save(&*detector, best.as_ref().map(|(_, _, w)| w), &state)?;
    }
    let (_, best_epoch, snapshot) = best.expect("at least one epoch");
    detector.restore(&snapshot)?;
    Ok(Fitted {
        best_epoch,
        fit_s,
        val_score_s,
    })
}

/// Mean score of the normal windows: the clean protocol's validation loss.
fn mean_normal(labels: &[bool], scores: &[f64]) -> f64 {
    let (sum, n) = labels
        .iter()
        .zip(scores)
        .filter(|(l, _)| !**l)
        .fold((0.0, 0usize), |(s, n), (_, v)| (s + v, n + 1));
    sum / n.max(1) as f64
}
