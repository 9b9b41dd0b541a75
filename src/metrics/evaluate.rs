//! The metrics of a finished run under its protocol (`../shared/specs/evaluation.md`).
//!
//! Both protocols report the threshold-free metrics (AUC-ROC, AP) and the oracle
//! best F1 on test. They differ in the operating threshold behind `f1`, `precision`,
//! `recall` and the per-class recalls:
//! - `paper`: test scores min-max scaled over test, threshold = best-F1 threshold on test;
//! - `clean`: threshold from validation only — the validation best-F1 threshold when
//!   validation has both classes, else the `quantile` of the normal validation scores.
//!
//! A distilled student also gets `auc_retention` = its AUC-ROC / its teacher's.

use super::{at_threshold, auc_pr, auc_roc, best_f1, quantile, MetricsError};
use crate::config::Protocol;

/// `(split, name, value)` rows.
pub type Rows = Vec<(&'static str, String, f64)>;

pub fn evaluate(
    protocol: Protocol,
    normal_quantile: f64,
    val: (&[bool], &[f64]),
    test: (&[bool], &[f64], &[String]),
    teacher_auc_roc: Option<f64>,
) -> Result<Rows, MetricsError> {
    let (val_labels, val_scores) = val;
    let (labels, raw_scores, classes) = test;
    let scores = match protocol {
        Protocol::Paper => min_max_scaled(raw_scores),
        Protocol::Clean => raw_scores.to_vec(),
    };
    let best = best_f1(labels, &scores)?;
    let threshold = match protocol {
        Protocol::Paper => best.threshold,
        Protocol::Clean if val_labels.iter().any(|&l| l) && val_labels.iter().any(|&l| !l) => {
            best_f1(val_labels, val_scores)?.threshold
        }
        Protocol::Clean => {
            let normal: Vec<f64> = val_labels
                .iter()
                .zip(val_scores)
                .filter(|(l, _)| !**l)
                .map(|(_, s)| *s)
                .collect();
            quantile(&normal, normal_quantile)?
        }
    };
    let chosen = at_threshold(labels, &scores, threshold)?;
    let n_anomalous = labels.iter().filter(|&&l| l).count();
    let mut rows: Rows = vec![
        ("test", "auc_roc".into(), auc_roc(labels, &scores)?),
        ("test", "auc_pr".into(), auc_pr(labels, &scores)?),
        ("test", "best_f1".into(), best.f1),
        ("test", "best_threshold".into(), best.threshold),
        ("test", "best_precision".into(), best.precision),
        ("test", "best_recall".into(), best.recall),
        ("test", "threshold".into(), threshold),
        ("test", "f1".into(), chosen.f1),
        ("test", "precision".into(), chosen.precision),
        ("test", "recall".into(), chosen.recall),
        ("test", "n".into(), labels.len() as f64),
        ("test", "n_anomalous".into(), n_anomalous as f64),
    ];
    // Recall of each anomaly class at the chosen threshold (ECG: S, V, F, Q).
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
            .zip(&scores)
            .filter(|(c, _)| c.as_str() == class)
            .fold((0usize, 0usize), |(h, n), (_, &s)| {
                (h + usize::from(s >= threshold), n + 1)
            });
        rows.push(("test", format!("recall_{class}"), hit as f64 / n as f64));
    }
    if let Some(teacher) = teacher_auc_roc {
        // A distilled student: how much of its teacher's AUC it keeps.
        rows.push(("test", "auc_retention".into(), rows[0].2 / teacher));
    }
    if val_labels.iter().any(|&l| l) && val_labels.iter().any(|&l| !l) {
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
