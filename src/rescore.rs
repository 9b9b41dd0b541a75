//! `anolab rescore`: the metrics of stored runs recomputed from their stored scores, with
//! today's metric code and no retraining, so that metrics added after a sweep ran (VUS,
//! the bootstrap intervals) appear for its old runs. Idempotent: the same scores give the
//! same rows, written over the old ones in one transaction per run; rows the metric code
//! does not produce (times, a student's sizes) are kept. A series run reloads its data
//! for the time axis of its windows; a run without stored scores is reported and skipped.

use crate::config::RunConfig;
use crate::kinds::SplitName;
use crate::metrics::evaluate::evaluate;
use crate::models::Finished;
use crate::store::{Metric, RunDetail, Store};
use anyhow::{Context, Result};

/// What rescoring one run did.
#[derive(Debug, Clone, PartialEq)]
pub enum Rescored {
    /// The metric rows written.
    Done(usize),
    /// Why the run was left as it was.
    Skipped(String),
}

/// Recomputes the metrics of every done run of `sweep` (every sweep: `None`);
/// `progress` hears each run's key and outcome.
pub fn rescore(
    store: &Store,
    sweep: Option<&str>,
    mut progress: impl FnMut(&RunDetail, &Rescored),
) -> Result<Vec<(String, Rescored)>> {
    let sweeps = match sweep {
        Some(s) => vec![s.to_string()],
        None => store.sweeps()?,
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in sweeps {
        for run in store.sweep_details(&name)? {
            if !seen.insert(run.row.id) {
                continue; // a run shared by two sweeps is rescored once
            }
            let outcome = match one(store, &run) {
                Ok(outcome) => outcome,
                Err(e) => Rescored::Skipped(format!("{e:#}")),
            };
            progress(&run, &outcome);
            out.push((run.row.key.clone(), outcome));
        }
    }
    Ok(out)
}

fn one(store: &Store, run: &RunDetail) -> Result<Rescored> {
    let config: RunConfig = serde_json::from_str(&run.config_json)
        .with_context(|| format!("the stored config of run {}", run.row.key))?;
    let id = [run.row.id];
    let (Some(val), Some(test)) = (
        store.scores(&id, SplitName::Val)?.remove(&run.row.id),
        store.scores(&id, SplitName::Test)?.remove(&run.row.id),
    ) else {
        return Ok(Rescored::Skipped("no stored scores".into()));
    };
    let timeline = if config.dataset.is_series() {
        let split = config
            .dataset
            .load(config.fold)
            .with_context(|| format!("reloading the series of run {}", run.row.key))?;
        let timeline = split.timeline.context("a series split has a timeline")?;
        // One score per window, or per step for a model that scores a series per step.
        if ![timeline.starts.len(), timeline.labels.len()].contains(&test.scores.len()) {
            return Ok(Rescored::Skipped(format!(
                "the series now has {} windows and {} steps but {} scores were stored (the data changed)",
                timeline.starts.len(),
                timeline.labels.len(),
                test.scores.len()
            )));
        }
        Some(timeline)
    } else {
        None
    };
    let mut rows = evaluate(
        &config.eval,
        (&val.labels, &val.scores),
        (&test.labels, &test.scores, &test.classes),
        timeline.as_ref(),
    )?;
    // Metrics relative to the runs it depends on (a student's AUC retention).
    let mut finished = Vec::new();
    for (role, key) in &run.dependencies {
        let dependency = store.dependency(key)?;
        finished.push(Finished {
            role: role.clone(),
            checkpoint: dependency.checkpoint.unwrap_or_default().into(),
            auc_roc: dependency.auc_roc,
        });
    }
    let own: Vec<(String, f64)> = rows
        .iter()
        .filter(|(split, _, _)| *split == SplitName::Test)
        .map(|(_, name, value)| (name.clone(), *value))
        .collect();
    rows.extend(
        config
            .model
            .spec()
            .relative_metrics(&own, &finished)
            .into_iter()
            .map(|(name, value)| (SplitName::Test, name, value)),
    );
    let metrics: Vec<Metric> = rows
        .into_iter()
        .map(|(split, name, value)| Metric { split, name, value })
        .collect();
    store.replace_metrics(run.row.id, &metrics, config.eval.protocol.as_str())?;
    Ok(Rescored::Done(metrics.len()))
}
