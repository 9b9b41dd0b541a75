//! The metrics of a finished run under its protocol (`../shared/specs/evaluation.md`).
//!
//! Both protocols report the threshold-free metrics (AUC-ROC, AP) and the oracle
//! best F1 on test. They differ in the operating threshold behind `f1`, `precision`,
//! `recall` and the per-class recalls:
//! - `paper`: test scores min-max scaled over test, threshold = best-F1 threshold on test;
//! - `clean`: threshold from validation only — the validation best-F1 threshold when
//!   validation has both classes, else the `quantile` of the normal validation scores.
//!   Clean scores stay raw: fitting a scaling on train/val and thresholding the scaled
//!   scores gives the same predictions (an increasing map), so none is applied.
//!
//! With `eval.threshold: orion` the operating point is instead Orion's label-free
//! detection on the test scores of a series (`series::orion_detections`); there is then
//! no single threshold and no `threshold` row.
//!
//! For a series (a split with a [`Timeline`]) the test scores are one per time step
//! (a model that scores a series per step, TadGAN) or window scores mapped to one score
//! per step (`series::step_scores`), and every metric is computed over
//! time steps against the per-step labels; `pa_f1` (point-adjusted) and the overlap
//! segment counts `segment_tp`/`segment_fp`/`segment_fn` (with their F1) are added.
//!
//! A series also gets `vus_roc` and `vus_pr` (`metrics::vus`, TSB-AD's definition with its
//! `slidingWindow` = the dataset's window) and the range AUCs at that buffer,
//! `range_auc_roc` and `range_auc_pr`; and the affiliation metrics (`metrics::affiliation`)
//! at the chosen operating point, `affiliation_precision` (absent when nothing is
//! predicted), `affiliation_recall` and `affiliation_f1`, with TSB-AD's threshold-swept
//! oracle `best_affiliation_f1` beside them (like `best_f1`, it looks at the test labels).
//!
//! The ranking metrics come with seeded 95% bootstrap intervals over the test windows
//! (`auc_roc_lo`/`_hi`, `auc_pr_lo`/`_hi`; `metrics::intervals`).
//!
//! The `eval:` section of a run ([`EvalConfig`]) is defined here, where it is used.

use super::series::{self, OrionThreshold};
use super::{affiliation, intervals, vus};
use super::{auc_pr, auc_roc, best_f1, quantile, MetricsError};
use crate::data::Timeline;
use crate::kinds::SplitName;
use crate::registry::check;
use crate::scale;
use serde::{Deserialize, Serialize};

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
    /// Which epoch's weights are scored; left out of the canonical JSON at its default
    /// like `threshold`.
    #[serde(skip_serializing_if = "EpochChoice::is_default")]
    pub epoch: EpochChoice,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            protocol: Protocol::Clean,
            threshold_quantile: 0.99,
            threshold: Threshold::Protocol,
            epoch: EpochChoice::Protocol,
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

/// The epoch whose weights a run keeps and scores (`eval.epoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EpochChoice {
    /// The protocol's own choice: best labelled validation AUC (paper), lowest mean
    /// normal validation score (clean).
    #[default]
    Protocol,
    /// The last epoch, as Orion keeps it. Meant for series trained and validated on the
    /// same windows (NAB, csv), where the clean choice has nothing but the training
    /// windows' own, z-scored, scores to go by.
    Last,
}

impl EpochChoice {
    fn is_default(&self) -> bool {
        *self == EpochChoice::Protocol
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// The published setup: epoch chosen by labelled validation AUC (unless `eval.epoch:
    /// last`), scores min-max scaled
    /// over test, best-F1 threshold picked on test. Numbers are labelled "paper protocol".
    Paper,
    /// No test label is used for any choice: epoch by normal-only validation loss (unless
    /// `eval.epoch: last`), threshold from validation.
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

impl EvalConfig {
    /// Checks ranges serde cannot express; the message names the key and the valid range.
    pub fn validate(&self) -> Result<(), String> {
        let q = self.threshold_quantile;
        check(
            q > 0.0 && q < 1.0,
            "eval.threshold_quantile",
            "in (0, 1)",
            q,
        )
    }
}

/// Test scores on the scale the protocol thresholds them on: the paper protocol min–max
/// scales them over test to [0, 1]; clean keeps them raw (fitting a scaling on train/val
/// and thresholding the scaled scores gives the same predictions, an increasing map).
pub fn protocol_scores(protocol: Protocol, scores: &[f64]) -> Vec<f64> {
    match protocol {
        Protocol::Paper => scale::unit(scores),
        Protocol::Clean => scores.to_vec(),
    }
}

/// `(split, name, value)` rows.
pub type Rows = Vec<(SplitName, String, f64)>;

pub fn evaluate(
    eval: &EvalConfig,
    val: (&[bool], &[f64]),
    test: (&[bool], &[f64], &[String]),
    timeline: Option<&Timeline>,
) -> Result<Rows, MetricsError> {
    let protocol = eval.protocol;
    let (val_labels, val_scores) = val;
    let (window_labels, window_scores, window_classes) = test;
    // A series is scored per time step; its windows have no classes of their own.
    let step_scores;
    let (labels, raw_scores, classes) = match timeline {
        Some(t) => {
            step_scores = series::step_scores(window_scores, t)?;
            (&t.labels[..], &step_scores[..], None)
        }
        None => (window_labels, window_scores, Some(window_classes)),
    };
    let scores = protocol_scores(protocol, raw_scores);
    // A series without any labelled anomaly (a few NAB signals) has no ranking metrics,
    // but its false detections still count in the segment metrics; anywhere else a
    // single-class test split is an error.
    let test_has_both = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
    let best = if test_has_both || timeline.is_none() {
        Some(best_f1(labels, &scores)?)
    } else {
        None
    };
    let val_has_both = val_labels.iter().any(|&l| l) && val_labels.iter().any(|&l| !l);
    let threshold = match (eval.threshold, protocol) {
        (Threshold::Orion, _) => None,
        (Threshold::Protocol, Protocol::Paper) => Some(best_f1(labels, &scores)?.threshold),
        (Threshold::Protocol, Protocol::Clean) if val_has_both => {
            Some(best_f1(val_labels, val_scores)?.threshold)
        }
        (Threshold::Protocol, Protocol::Clean) => {
            let normal: Vec<f64> = val_labels
                .iter()
                .zip(val_scores)
                .filter(|(l, _)| !**l)
                .map(|(_, s)| *s)
                .collect();
            Some(quantile(&normal, eval.threshold_quantile)?)
        }
    };
    let predicted: Vec<bool> = match threshold {
        Some(t) => scores.iter().map(|&s| s >= t).collect(),
        None => {
            if timeline.is_none() {
                return Err(MetricsError::NotASeries);
            }
            let found = series::orion_detections(&scores, &OrionThreshold::default())?;
            series::flags_from_detections(&found, scores.len())
        }
    };
    let chosen = series::point_counts(labels, &predicted)?;
    let n_anomalous = labels.iter().filter(|&&l| l).count();
    let mut rows: Rows = Vec::new();
    if let Some(best) = best {
        rows.extend([
            (SplitName::Test, "auc_roc".into(), auc_roc(labels, &scores)?),
            (SplitName::Test, "auc_pr".into(), auc_pr(labels, &scores)?),
            (SplitName::Test, "best_f1".into(), best.f1),
            (SplitName::Test, "best_threshold".into(), best.threshold),
            (SplitName::Test, "best_precision".into(), best.precision),
            (SplitName::Test, "best_recall".into(), best.recall),
        ]);
        let (auc, ap) = intervals::bootstrap(labels, &scores, intervals::RESAMPLES)?;
        rows.extend([
            (SplitName::Test, "auc_roc_lo".into(), auc.lo),
            (SplitName::Test, "auc_roc_hi".into(), auc.hi),
            (SplitName::Test, "auc_pr_lo".into(), ap.lo),
            (SplitName::Test, "auc_pr_hi".into(), ap.hi),
        ]);
    }
    if let Some(t) = threshold {
        rows.push((SplitName::Test, "threshold".into(), t));
    }
    rows.extend([
        (SplitName::Test, "f1".into(), chosen.f1()),
        (SplitName::Test, "precision".into(), chosen.precision()),
        (SplitName::Test, "recall".into(), chosen.recall()),
        (SplitName::Test, "n".into(), labels.len() as f64),
        (SplitName::Test, "n_anomalous".into(), n_anomalous as f64),
    ]);
    if let Some(t) = timeline {
        rows.extend(series_rows(labels, &predicted, t)?);
        // The range-based volumes need a labelled anomaly, like the ranking metrics.
        if test_has_both {
            let v = vus::vus(labels, &scores, t.window)?;
            rows.extend([
                (SplitName::Test, "vus_roc".into(), v.roc),
                (SplitName::Test, "vus_pr".into(), v.pr),
                (SplitName::Test, "range_auc_roc".into(), v.range_roc),
                (SplitName::Test, "range_auc_pr".into(), v.range_pr),
            ]);
        }
        if let Some(a) = affiliation::affiliation(labels, &predicted) {
            if let Some(p) = a.precision {
                rows.push((SplitName::Test, "affiliation_precision".into(), p));
            }
            rows.extend([
                (SplitName::Test, "affiliation_recall".into(), a.recall),
                (SplitName::Test, "affiliation_f1".into(), a.f1()),
            ]);
        }
        if let Some(best) = affiliation::best_f1(labels, &scores) {
            rows.push((SplitName::Test, "best_affiliation_f1".into(), best));
        }
    }
    // Recall of each anomaly class at the chosen operating point (ECG: S, V, F, Q).
    if let Some(classes) = classes {
        rows.extend(class_recalls(labels, classes, &predicted));
    }
    if val_has_both {
        rows.push((
            SplitName::Val,
            "auc_roc".into(),
            auc_roc(val_labels, val_scores)?,
        ));
        rows.push((
            SplitName::Val,
            "auc_pr".into(),
            auc_pr(val_labels, val_scores)?,
        ));
    }
    Ok(rows)
}

/// The series metrics of the chosen per-step predictions: point-adjusted counts and the
/// overlap segment counts, with their F1, precision and recall.
fn series_rows(labels: &[bool], predicted: &[bool], t: &Timeline) -> Result<Rows, MetricsError> {
    let adjusted = series::point_adjusted_counts(labels, predicted)?;
    let segments = series::segment_counts(&series::segments(labels), &series::segments(predicted));
    Ok(vec![
        (SplitName::Test, "pa_f1".into(), adjusted.f1()),
        (SplitName::Test, "pa_precision".into(), adjusted.precision()),
        (SplitName::Test, "pa_recall".into(), adjusted.recall()),
        (SplitName::Test, "segment_tp".into(), segments.tp as f64),
        (SplitName::Test, "segment_fp".into(), segments.fp as f64),
        (SplitName::Test, "segment_fn".into(), segments.fn_ as f64),
        (SplitName::Test, "segment_f1".into(), segments.f1()),
        (
            SplitName::Test,
            "segment_precision".into(),
            segments.precision(),
        ),
        (SplitName::Test, "segment_recall".into(), segments.recall()),
        (SplitName::Test, "n_windows".into(), t.starts.len() as f64),
    ])
}

/// Recall of each anomaly class among the windows' classes at the chosen operating point.
fn class_recalls(labels: &[bool], classes: &[String], predicted: &[bool]) -> Rows {
    let mut rows: Rows = Vec::new();
    let mut class_names: Vec<&str> = labels
        .iter()
        .zip(classes)
        .filter(|(l, _)| **l)
        .map(|(_, c)| c.as_str())
        .collect();
    class_names.sort_unstable();
    class_names.dedup();
    for class in class_names {
        let (hit, n) = classes
            .iter()
            .zip(predicted)
            .filter(|(c, _)| c.as_str() == class)
            .fold((0usize, 0usize), |(h, n), (_, &p)| {
                (h + usize::from(p), n + 1)
            });
        rows.push((
            SplitName::Test,
            format!("recall_{class}"),
            hit as f64 / n as f64,
        ));
    }
    rows
}
