//! Epoch-end checkpoints of a run in training, so that a run stopped (a signal) or
//! killed part-way continues from its last finished epoch on whichever worker claims it
//! next, and ends exactly as an uninterrupted run would (same seed, same thread count).
//! It owns the two files, `runs/<key>/resume.safetensors` (weights, the selected epoch's
//! weights, the model's training state) and `resume.json` (the epoch loop's own state
//! and the epoch records so far), each written to a temporary name and renamed. The
//! epoch loop (`train`) decides when to write; the model says what its state is.

use crate::models::{Detector, Snapshot};
use anyhow::{Context, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The tensor that records which epoch the tensor file belongs to.
const NEXT_EPOCH: &str = "meta.next_epoch";

/// The epoch loop's state after a finished epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoopState {
    /// The run it belongs to (a file of another run is never used).
    pub key: String,
    /// The first epoch still to train.
    pub next_epoch: usize,
    /// The selected epoch so far and its merit (its weights are in the tensor file).
    pub best: Option<(f64, usize)>,
    /// States of the batch-order and validation-order generators.
    pub batch_rng: u64,
    pub val_rng: u64,
    pub fit_s: f64,
    pub val_score_s: f64,
    /// Every finished epoch's values, to store again when the run resumes.
    pub epochs: Vec<Vec<(String, f64)>>,
}

/// Where a run's resume files live.
pub struct Checkpoint {
    tensors: PathBuf,
    json: PathBuf,
}

impl Checkpoint {
    /// The checkpoint of the run whose files are in `run_dir` (`<results>/runs/<key>`).
    pub fn new(run_dir: &Path) -> Checkpoint {
        Checkpoint {
            tensors: run_dir.join("resume.safetensors"),
            json: run_dir.join("resume.json"),
        }
    }

    /// Writes the state after an epoch; `false` (nothing written) for a model that does
    /// not resume.
    pub fn save(
        &self,
        detector: &dyn Detector,
        best: Option<&Snapshot>,
        state: &LoopState,
    ) -> Result<bool> {
        let Some(training) = detector.training_state()? else {
            return Ok(false);
        };
        let mut tensors = Snapshot::new();
        let groups = [
            ("w.", Some(detector.snapshot()?)),
            ("best.", best.cloned()),
            ("s.", Some(training)),
        ];
        for (prefix, group) in groups {
            for (name, t) in group.into_iter().flatten() {
                tensors.insert(format!("{prefix}{name}"), t.to_device(&Device::Cpu)?);
            }
        }
        // Ties the two files together: a JSON file beside tensors of another epoch (a
        // kill between the two renames) is not used.
        tensors.insert(
            NEXT_EPOCH.into(),
            candle_core::Tensor::new(&[state.next_epoch as i64], &Device::Cpu)?,
        );
        let json = serde_json::to_vec(state)?;
        // The tensors first: a JSON file always names tensors that are complete.
        write_atomically(&self.tensors, |tmp| {
            candle_core::safetensors::save(&tensors, tmp).map_err(Into::into)
        })?;
        write_atomically(&self.json, |tmp| {
            std::fs::write(tmp, &json).map_err(Into::into)
        })?;
        Ok(true)
    }

    /// The state of run `key` saved by an earlier attempt, restored into `detector`
    /// (weights and training state), with the selected epoch's weights; `None` when
    /// there is none (or it is another run's, or unreadable: the run starts over).
    pub fn load(
        &self,
        key: &str,
        detector: &mut dyn Detector,
    ) -> Result<Option<(LoopState, Option<Snapshot>)>> {
        let Ok(text) = std::fs::read(&self.json) else {
            return Ok(None);
        };
        let Ok(state) = serde_json::from_slice::<LoopState>(&text) else {
            return Ok(None);
        };
        if state.key != key || detector.training_state()?.is_none() {
            return Ok(None);
        }
        let all = candle_core::safetensors::load(&self.tensors, &Device::Cpu)
            .with_context(|| format!("reading the checkpoint {}", self.tensors.display()))?;
        let tensors_epoch = all
            .get(NEXT_EPOCH)
            .and_then(|t| t.to_vec1::<i64>().ok())
            .and_then(|v| v.first().copied());
        if tensors_epoch != Some(state.next_epoch as i64) {
            return Ok(None);
        }
        let group = |prefix: &str| -> Snapshot {
            all.iter()
                .filter_map(|(n, t)| n.strip_prefix(prefix).map(|n| (n.to_string(), t.clone())))
                .collect()
        };
        detector
            .restore(&group("w."))
            .context("restoring the checkpoint's weights")?;
        detector
            .set_training_state(&group("s."))
            .context("restoring the checkpoint's optimiser and generator states")?;
        let best = state.best.map(|_| group("best."));
        Ok(Some((state, best)))
    }

    /// Removes the files (the run finished; nothing is left to resume).
    pub fn clear(&self) {
        // Best effort: a leftover file names its run and is replaced by the next save.
        let _ = std::fs::remove_file(&self.json);
        let _ = std::fs::remove_file(&self.tensors);
    }
}

/// Writes `path` through `write` into a temporary file beside it, then renames it.
fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    write(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}
