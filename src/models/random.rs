//! The chance floor (`model.name: random`): every window gets a seeded uniform score in
//! [0, 1), a function of the run's seed and the window's position only. Its AUC-ROC is
//! 0.5 in expectation, its AP the anomaly rate: every table shows where chance lies.
//!
//! Nothing is learnt and nothing is stored (an empty checkpoint).

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::rng::SplitMix64;
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

/// `model: { name: random }`: no settings; the run's seed seeds the scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomConfig {}

impl ModelSpec for RandomConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        Ok(Box::new(Random {
            seed: ctx.seed,
            batch_size: ctx.train.batch_size,
            vars: VarMap::new(),
        }))
    }
}

pub struct Random {
    seed: u64,
    batch_size: usize,
    vars: VarMap,
}

impl Detector for Random {
    fn fit_epoch(
        &mut self,
        _train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        on_batch()?;
        Ok(Vec::new())
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let mut rng = SplitMix64::new(self.seed ^ 0x0a11_ce5c_0e5e_ed00);
        Ok((0..windows.n).map(|_| rng.next_f64()).collect())
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn batches_per_epoch(&self, _n: usize) -> usize {
        1
    }
}
