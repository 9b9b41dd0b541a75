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
//! For a series (a split with a [`Timeline`]) the window scores are first mapped to one
//! score per time step (`series::steps_from_windows`) and every metric is computed over
//! time steps against the per-step labels; `pa_f1` (point-adjusted) and the overlap
//! segment counts `segment_tp`/`segment_fp`/`segment_fn` (with their F1) are added.
//!
//! A distilled student also gets `auc_retention` = its AUC-ROC / its teacher's.

use super::series::{self, OrionThreshold};
use super::{auc_pr, auc_roc, best_f1, quantile, MetricsError};
use crate::config::{EvalConfig, Protocol, Threshold};
use crate::data::Timeline;

/// `(split, name, value)` rows.
pub type Rows = Vec<(&'static str, String, f64)>;

pub fn evaluate(
    eval: &EvalConfig,
    val: (&[bool], &[f64]),
    test: (&[bool], &[f64], &[String]),
    timeline: Option<&Timeline>,
    teacher_auc_roc: Option<f64>,
) -> Result<Rows, MetricsError> {
    let protocol = eval.protocol;
    let (val_labels, val_scores) = val;
    let (window_labels, window_scores, window_classes) = test;
    // A series is scored per time step; its windows have no classes of their own.
    let step_scores;
    let (labels, raw_scores, classes) = match timeline {
        Some(t) => {
            step_scores =
                series::steps_from_windows(window_scores, &t.starts, t.window, t.labels.len())?;
            (&t.labels[..], &step_scores[..], None)
        }
        None => (window_labels, window_scores, Some(window_classes)),
    };
    let scores = match protocol {
        Protocol::Paper => min_max_scaled(raw_scores),
        Protocol::Clean => raw_scores.to_vec(),
    };
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
            ("test", "auc_roc".into(), auc_roc(labels, &scores)?),
            ("test", "auc_pr".into(), auc_pr(labels, &scores)?),
            ("test", "best_f1".into(), best.f1),
            ("test", "best_threshold".into(), best.threshold),
            ("test", "best_precision".into(), best.precision),
            ("test", "best_recall".into(), best.recall),
        ]);
    }
    if let Some(t) = threshold {
        rows.push(("test", "threshold".into(), t));
    }
    rows.extend([
        ("test", "f1".into(), chosen.f1()),
        ("test", "precision".into(), chosen.precision()),
        ("test", "recall".into(), chosen.recall()),
        ("test", "n".into(), labels.len() as f64),
        ("test", "n_anomalous".into(), n_anomalous as f64),
    ]);
    if let Some(t) = timeline {
        let adjusted = series::point_adjusted_counts(labels, &predicted)?;
        let segments =
            series::segment_counts(&series::segments(labels), &series::segments(&predicted));
        rows.extend([
            ("test", "pa_f1".into(), adjusted.f1()),
            ("test", "pa_precision".into(), adjusted.precision()),
            ("test", "pa_recall".into(), adjusted.recall()),
            ("test", "segment_tp".into(), segments.tp as f64),
            ("test", "segment_fp".into(), segments.fp as f64),
            ("test", "segment_fn".into(), segments.fn_ as f64),
            ("test", "segment_f1".into(), segments.f1()),
            ("test", "segment_precision".into(), segments.precision()),
            ("test", "segment_recall".into(), segments.recall()),
            ("test", "n_windows".into(), t.starts.len() as f64),
        ]);
    }
    // Recall of each anomaly class at the chosen operating point (ECG: S, V, F, Q).
    if let Some(classes) = classes {
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
                .zip(&predicted)
                .filter(|(c, _)| c.as_str() == class)
                .fold((0usize, 0usize), |(h, n), (_, &p)| {
                    (h + usize::from(p), n + 1)
                });
            rows.push(("test", format!("recall_{class}"), hit as f64 / n as f64));
        }
    }
    let auc = rows.iter().find(|r| r.1 == "auc_roc").map(|r| r.2);
    if let (Some(teacher), Some(auc)) = (teacher_auc_roc, auc) {
        // A distilled student: how much of its teacher's AUC it keeps.
        rows.push(("test", "auc_retention".into(), auc / teacher));
    }
    if val_has_both {
        rows.push(("val", "auc_roc".into(), auc_roc(val_labels, val_scores)?));
        rows.push(("val", "auc_pr".into(), auc_pr(val_labels, val_scores)?));
    }
    Ok(rows)
}

/// The paper's scaling of test scores to [0, 1] (a constant set maps to 0).
fn min_max_scaled(scores: &[f64]) -> Vec<f64> {
    let (lo, hi) = scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
            (lo.min(s), hi.max(s))
        });
    let range = hi - lo;
    scores
        .iter()
        .map(|&s| if range > 0.0 { (s - lo) / range } else { 0.0 })
        .collect()
}
