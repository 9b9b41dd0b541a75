//! Detectors against each other over matched runs: each model at its best setting (by
//! the report metric's mean), its runs keyed by what they were run on (the dataset's
//! settings, fold and seed). Each trained detector is tested against the best classical
//! baseline (one-sided Wilcoxon signed-rank over the matched runs); with three or more
//! detectors on three or more matched runs, the Friedman test and the Nemenyi critical
//! difference order them all (Demšar, JMLR 2006). A model with a control setting (a
//! student trained without distillation) has each other setting tested against it, run
//! by run. Reads the summary; draws nothing.

use super::summary::test_metric;
use crate::config::sweep::HeadlineMetric;
use crate::config::RunConfig;
use crate::metrics::compare::{
    friedman, nemenyi_cd, paired_t, wilcoxon_greater, Friedman, PairedT, Wilcoxon,
};
use crate::store::RunDetail;
use std::collections::{BTreeMap, BTreeSet};

/// Significance level of every test in a report.
pub const ALPHA: f64 = 0.05;

/// One model at its best setting, with its metric per matched run.
#[derive(Debug, Clone, PartialEq)]
pub struct Treatment {
    /// `pca` or `beatgan nz=32, w_adv=1.0`: the model and its best setting.
    pub label: String,
    pub baseline: bool,
    /// Metric value per matched-run key (dataset settings, fold, seed).
    pub values: BTreeMap<String, f64>,
}

/// What a run was run on, beside its model: the key runs are matched by.
fn block_key(run: &RunDetail) -> String {
    let mut parts: Vec<String> = run
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("dataset.") || k == "fold" || k == "seed")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.sort();
    parts.join(" ")
}

/// The models among `runs` that are classical baselines.
pub fn baseline_models(runs: &[RunDetail]) -> BTreeSet<String> {
    runs.iter()
        .filter(|r| is_baseline(r))
        .map(|r| r.row.model.clone())
        .collect()
}

fn is_baseline(run: &RunDetail) -> bool {
    serde_json::from_str::<RunConfig>(&run.config_json)
        .map(|c| c.model.spec().is_baseline())
        .unwrap_or(false)
}

/// A run's setting apart from what it was run on: its model's and the training and
/// evaluation settings (every parameter but `dataset.*`, `fold`, `seed` and those in `except`).
fn setting_key(run: &RunDetail, except: &[String]) -> String {
    let mut parts: Vec<String> = run
        .params
        .iter()
        .filter(|(k, _)| !(k.starts_with("dataset.") || k == "fold" || k == "seed"))
        .filter(|(k, _)| !except.contains(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.sort();
    parts.join(" ")
}

/// Each model at its best setting (by the mean of `metric` over all its runs of that
/// setting, every dataset, fold and seed included), as a treatment. Settings are
/// grouped apart from the data, so that models run on the same datasets match on all
/// of them, not only on the one where each did best.
pub fn treatments(runs: &[RunDetail], metric: HeadlineMetric) -> Vec<Treatment> {
    let mut settings: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        settings
            .entry((run.row.model.clone(), setting_key(run, &[])))
            .or_default()
            .push(i);
    }
    let mean = |members: &[usize]| {
        let values: Vec<f64> = members
            .iter()
            .filter_map(|&r| test_metric(&runs[r], metric.as_str()))
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    };
    let mut best: BTreeMap<&str, (&String, &Vec<usize>)> = BTreeMap::new();
    for ((model, key), members) in &settings {
        let better = best
            .get(model.as_str())
            .is_none_or(|(_, b)| mean(members) > mean(b));
        if better {
            best.insert(model, (key, members));
        }
    }
    best.into_iter()
        .map(|(_, (_, members))| Treatment {
            label: setting_label(runs, &runs[members[0]]),
            baseline: members.iter().all(|&r| is_baseline(&runs[r])),
            values: members
                .iter()
                .filter_map(|&r| {
                    test_metric(&runs[r], metric.as_str()).map(|v| (block_key(&runs[r]), v))
                })
                .collect(),
        })
        .collect()
}

/// `pca` or `beatgan nz=32, w_adv=1.0`: a run's model and those of its model settings
/// that differ between the model's runs among `runs`.
fn setting_label(runs: &[RunDetail], run: &RunDetail) -> String {
    let model = &run.row.model;
    let of_model = || runs.iter().filter(|r| &r.row.model == model);
    let varied: BTreeSet<&String> = of_model()
        .flat_map(|r| &r.params)
        .filter(|(k, _)| k.starts_with("model.") && k != "model.name")
        .filter(|(k, v)| of_model().any(|r| r.params.iter().any(|(k2, v2)| k2 == k && v2 != v)))
        .map(|(k, _)| k)
        .collect();
    let labels: Vec<String> = run
        .params
        .iter()
        .filter(|(k, _)| varied.contains(k))
        .map(|(k, v)| format!("{}={}", k.trim_start_matches("model."), text(v)))
        .collect();
    if labels.is_empty() {
        model.to_string()
    } else {
        format!("{model} {}", labels.join(", "))
    }
}

/// A parameter's value as labels show it (`32`, `0.1`, `mean`).
fn text(v: &serde_json::Value) -> String {
    v.to_string().trim_matches('"').to_string()
}

/// A trained detector against the best baseline on their matched runs.
#[derive(Debug, Clone, PartialEq)]
pub struct VsBaseline {
    pub model: String,
    pub n: usize,
    /// Mean of (model − baseline) over the matched runs.
    pub mean_difference: f64,
    /// `None` when every matched pair is equal.
    pub test: Option<Wilcoxon>,
}

impl VsBaseline {
    pub fn significantly_better(&self) -> bool {
        self.test.is_some_and(|w| w.p_value < ALPHA)
    }
}

/// The best baseline (by mean) and each trained detector against it; `None` without
/// both a baseline and a trained detector.
pub fn against_best_baseline(treatments: &[Treatment]) -> Option<(String, Vec<VsBaseline>)> {
    let mean = |t: &Treatment| t.values.values().sum::<f64>() / t.values.len().max(1) as f64;
    let baseline = treatments
        .iter()
        .filter(|t| t.baseline && !t.values.is_empty())
        .max_by(|a, b| mean(a).total_cmp(&mean(b)))?;
    let rows: Vec<VsBaseline> = treatments
        .iter()
        .filter(|t| !t.baseline)
        .map(|t| {
            let (x, y): (Vec<f64>, Vec<f64>) = t
                .values
                .iter()
                .filter_map(|(k, v)| baseline.values.get(k).map(|b| (*v, *b)))
                .unzip();
            VsBaseline {
                model: t.label.clone(),
                n: x.len(),
                mean_difference: x.iter().zip(&y).map(|(a, b)| a - b).sum::<f64>()
                    / x.len().max(1) as f64,
                test: if x.is_empty() {
                    None
                } else {
                    wilcoxon_greater(&x, &y)
                },
            }
        })
        .collect();
    (!rows.is_empty()).then(|| (baseline.label.clone(), rows))
}

/// One setting of a model against the model's control setting ([`ModelSpec::control`]:
/// a student trained without distillation), over the runs both have.
///
/// [`ModelSpec::control`]: crate::models::ModelSpec::control
#[derive(Debug, Clone, PartialEq)]
pub struct VsControl {
    /// The setting, labelled as a treatment is (`beatgan_kd alpha=0.9, beta=0.0, …`).
    pub setting: String,
    /// `alpha=0, beta=0`: the control's values.
    pub control: String,
    /// Matched runs (same data, fold and seed).
    pub n: usize,
    /// Mean of (setting − control) over the matched runs.
    pub mean_difference: f64,
    /// One-sided "better than the control"; `None` when every pair is equal.
    pub wilcoxon: Option<Wilcoxon>,
    /// Two-sided; `None` below two pairs or without spread.
    pub t: Option<PairedT>,
}

impl VsControl {
    /// Better or worse than the control by the paired t-test, or neither.
    pub fn verdict(&self) -> &'static str {
        match self.t {
            Some(t) if t.p_value < ALPHA && self.mean_difference > 0.0 => "better",
            Some(t) if t.p_value < ALPHA => "worse",
            _ => "no difference shown",
        }
    }
}

/// The control of a run's model as `(param name, value)` (`model.alpha`, 0), empty when
/// the model has none.
fn control_of(run: &RunDetail) -> Vec<(String, f64)> {
    serde_json::from_str::<RunConfig>(&run.config_json)
        .map(|c| {
            c.model
                .spec()
                .control()
                .into_iter()
                .map(|(k, v)| (format!("model.{k}"), v))
                .collect()
        })
        .unwrap_or_default()
}

/// Every setting of a model that has a control (except the control itself) against the
/// control setting with the same other settings, matched by data, fold and seed; in the
/// order of the settings' labels.
pub fn against_control(runs: &[RunDetail], metric: HeadlineMetric) -> Vec<VsControl> {
    // Per run: its setting apart from the control's keys, and whether it is the control.
    let mut settings: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut controls: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        let control = control_of(run);
        if control.is_empty() {
            continue;
        }
        let controlled: Vec<String> = control.iter().map(|(k, _)| k.clone()).collect();
        let rest = setting_key(run, &controlled);
        let is_control = control.iter().all(|(k, want)| {
            run.params
                .iter()
                .any(|(p, v)| p == k && v.as_f64() == Some(*want))
        });
        if is_control {
            let label = control
                .iter()
                .map(|(k, v)| format!("{}={v}", k.trim_start_matches("model.")))
                .collect::<Vec<_>>()
                .join(", ");
            controls
                .entry(rest)
                .or_insert_with(|| (label, Vec::new()))
                .1
                .push(i);
        } else {
            settings
                .entry((setting_label(runs, run), rest))
                .or_default()
                .push(i);
        }
    }
    let values = |members: &[usize]| -> BTreeMap<String, f64> {
        members
            .iter()
            .filter_map(|&r| {
                test_metric(&runs[r], metric.as_str()).map(|v| (block_key(&runs[r]), v))
            })
            .collect()
    };
    settings
        .into_iter()
        .filter_map(|((setting, rest), members)| {
            let (control, control_members) = controls.get(&rest)?;
            let reference = values(control_members);
            let (x, y): (Vec<f64>, Vec<f64>) = values(&members)
                .iter()
                .filter_map(|(k, v)| reference.get(k).map(|c| (*v, *c)))
                .unzip();
            let n = x.len();
            (n > 0).then(|| VsControl {
                setting,
                control: control.clone(),
                n,
                mean_difference: x.iter().zip(&y).map(|(a, b)| a - b).sum::<f64>() / n as f64,
                wilcoxon: wilcoxon_greater(&x, &y),
                t: paired_t(&x, &y),
            })
        })
        .collect()
}

/// The Friedman test and Nemenyi critical difference over the treatments' common runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalDifference {
    pub names: Vec<String>,
    pub baseline: Vec<bool>,
    pub friedman: Friedman,
    /// Matched runs (blocks) every treatment has.
    pub blocks: usize,
    pub cd: f64,
}

/// `Err` says why there is no diagram (too few treatments or matched runs).
pub fn critical_difference(treatments: &[Treatment]) -> Result<CriticalDifference, String> {
    let k = treatments.len();
    if k < 3 {
        return Err(format!(
            "{k} models: a critical-difference diagram needs at least 3"
        ));
    }
    let common: BTreeSet<&String> = treatments
        .iter()
        .map(|t| t.values.keys().collect::<BTreeSet<_>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default();
    if common.len() < 3 {
        return Err(format!(
            "{} runs (dataset × fold × seed) shared by all {k} models: a critical-difference diagram needs at least 3",
            common.len()
        ));
    }
    let cd = nemenyi_cd(k, common.len()).ok_or_else(|| {
        format!(
            "{k} models over {} runs: no critical difference",
            common.len()
        )
    })?;
    let table: Vec<Vec<f64>> = common
        .iter()
        .map(|key| treatments.iter().map(|t| t.values[*key]).collect())
        .collect();
    Ok(CriticalDifference {
        names: treatments.iter().map(|t| t.label.clone()).collect(),
        baseline: treatments.iter().map(|t| t.baseline).collect(),
        friedman: friedman(&table),
        blocks: common.len(),
        cd,
    })
}
