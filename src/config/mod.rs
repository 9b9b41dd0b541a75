//! Every setting of a run, as typed serde structs, and the sweep file that lists them.
//!
//! A run's config is its sections, each owned where it is used: the dataset's by its
//! reader (`data`), the model's by its file (`models`), `train` by `models::train`,
//! `eval` by `metrics::evaluate`. This module puts them together, checks what spans
//! sections, and expands a sweep file into run configs ([`sweep`], [`load`]); turning
//! those into keyed runs is `plan`'s. Defaults are the papers' defaults and live as serde
//! defaults beside each section; every struct denies unknown fields so a typo is an
//! error, never a silently ignored setting.

mod load;
pub mod sweep;

pub use crate::data::DatasetConfig;
pub use crate::metrics::evaluate::{EpochChoice, EvalConfig, Protocol, Threshold};
pub use crate::models::{ModelConfig, TrainConfig};
pub use load::{load_sweep, load_sweep_limited, parse_override, Override};
pub use sweep::SweepSpec;

use crate::data::RunContext;
use serde::{Deserialize, Serialize};

/// Everything that determines one training run's result. Its canonical JSON (plus the
/// dataset's content hash) is the run's identity; see `plan::RunSpec::key`.
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

impl RunConfig {
    /// The runs this one depends on, by role (a distillation student's teacher): the
    /// same data, fold, seed and settings with the needed model (and its epochs).
    pub fn dependencies(&self) -> Vec<(&'static str, RunConfig)> {
        self.model
            .spec()
            .dependencies()
            .into_iter()
            .map(|needs| {
                let mut train = self.train.clone();
                train.epochs = needs.epochs.unwrap_or(train.epochs);
                let run = RunConfig {
                    model: needs.model,
                    train,
                    ..self.clone()
                };
                (needs.role, run)
            })
            .collect()
    }

    /// Checks ranges serde cannot express, section by section, then what spans sections;
    /// the message names the key and the valid range.
    pub fn validate(&self) -> Result<(), String> {
        self.train.validate()?;
        self.eval.validate()?;
        if self.eval.threshold == Threshold::Orion && !self.dataset.is_series() {
            return Err(format!(
                "key `eval.threshold` = orion needs a time series (dataset nab or csv), found dataset `{}`",
                self.dataset.name()
            ));
        }
        if self.model.spec().needs_series() && !self.dataset.is_series() {
            return Err(format!(
                "model `{}` scores the rolling windows of one time series (dataset nab or csv); dataset `{}` has independent windows",
                self.model.name(),
                self.dataset.name()
            ));
        }
        let run = RunContext {
            fold: self.fold,
            batch_size: self.train.batch_size,
        };
        self.dataset.spec().validate(&run)?;
        self.model.spec().validate()
    }
}
