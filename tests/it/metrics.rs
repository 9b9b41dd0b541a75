//! `anolab::metrics` checked against scikit-learn and numpy.
//!
//! The `fixtures` module at the bottom is the output of
//! `scripts/metrics_fixtures.py`; regenerate it there rather than editing the
//! numbers by hand. These tests never run Python.

use anolab::metrics::{at_threshold, auc_pr, auc_roc, best_f1, quantile, Confusion, MetricsError};
use fixtures::*;

/// Fixtures are sklearn's float results; ours agree up to summation order.
const TOLERANCE: f64 = 1e-9;

/// One labelled score set with every reference number computed for it.
struct Case {
    labels: &'static [bool],
    scores: &'static [f64],
    /// `roc_auc_score`.
    auc_roc: f64,
    /// `average_precision_score`.
    auc_pr: f64,
    /// Max of 2PR/(P+R) over `precision_recall_curve`, highest threshold on ties.
    best_f1: Confusion,
    /// `precision_score` / `recall_score` / `f1_score` with `zero_division=0`
    /// on the prediction `score >= threshold`.
    at_threshold: &'static [Confusion],
    /// `(q, numpy.quantile(scores, q))`.
    quantiles: &'static [(f64, f64)],
}

fn assert_close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= TOLERANCE,
        "{what}: got {actual}, reference is {expected}"
    );
}

fn assert_confusion(what: &str, actual: Confusion, expected: Confusion) {
    assert_close(
        &format!("{what} threshold"),
        actual.threshold,
        expected.threshold,
    );
    assert_close(
        &format!("{what} precision"),
        actual.precision,
        expected.precision,
    );
    assert_close(&format!("{what} recall"), actual.recall, expected.recall);
    assert_close(&format!("{what} f1"), actual.f1, expected.f1);
}

fn check(case: &Case) {
    let (labels, scores) = (case.labels, case.scores);
    assert_close("auc_roc", auc_roc(labels, scores).unwrap(), case.auc_roc);
    assert_close("auc_pr", auc_pr(labels, scores).unwrap(), case.auc_pr);
    assert_confusion("best_f1", best_f1(labels, scores).unwrap(), case.best_f1);
    for expected in case.at_threshold {
        let actual = at_threshold(labels, scores, expected.threshold).unwrap();
        assert_confusion(
            &format!("at_threshold({})", expected.threshold),
            actual,
            *expected,
        );
    }
    for &(q, expected) in case.quantiles {
        assert_close(
            &format!("quantile({q})"),
            quantile(scores, q).unwrap(),
            expected,
        );
    }
}

#[test]
fn random_scores_match_sklearn() {
    check(&RANDOM);
}

#[test]
fn heavy_ties_match_sklearn() {
    check(&HEAVY_TIES);
}

#[test]
fn perfect_separation_matches_sklearn() {
    check(&SEPARATED);
}

#[test]
fn perfectly_inverted_matches_sklearn() {
    check(&INVERTED);
}

#[test]
fn all_tied_scores_match_sklearn() {
    check(&ALL_TIED);
}

#[test]
fn two_items_match_sklearn() {
    check(&TINY_RIGHT);
    check(&TINY_WRONG);
    check(&TINY_TIED);
}

#[test]
fn best_f1_prefers_the_higher_threshold_on_equal_f1() {
    check(&F1_TIE);
    assert_eq!(
        best_f1(F1_TIE.labels, F1_TIE.scores).unwrap().threshold,
        0.4
    );
}

#[test]
fn signed_zeros_are_one_tie() {
    check(&SIGNED_ZERO);
}

#[test]
fn quantile_ignores_input_order_and_hits_the_extremes_exactly() {
    let values = [3.0, -1.0, 2.5, 0.0, 7.25];
    assert_eq!(quantile(&values, 0.0), Ok(-1.0));
    assert_eq!(quantile(&values, 1.0), Ok(7.25));
    assert_eq!(quantile(&values, 0.5), Ok(2.5));
    assert_eq!(quantile(&[4.5], 0.3), Ok(4.5));
}

#[test]
fn at_threshold_accepts_a_single_class() {
    // Unlike the ranking metrics, a fixed threshold is meaningful on, say, a
    // normal-only validation set; empty ratios are 0 as in sklearn.
    let normal = at_threshold(&[false, false], &[0.2, 0.8], 0.5).unwrap();
    assert_eq!(
        (normal.precision, normal.recall, normal.f1),
        (0.0, 0.0, 0.0)
    );
    let anomalous = at_threshold(&[true, true], &[0.2, 0.8], 0.5).unwrap();
    assert_eq!(
        (anomalous.precision, anomalous.recall, anomalous.f1),
        (1.0, 0.5, 2.0 / 3.0)
    );
}

#[test]
fn length_mismatch_is_an_error() {
    let (labels, scores) = ([true, false, true], [0.1, 0.2]);
    let expected = || MetricsError::LengthMismatch {
        labels: 3,
        scores: 2,
    };
    assert_eq!(auc_roc(&labels, &scores).unwrap_err(), expected());
    assert_eq!(auc_pr(&labels, &scores).unwrap_err(), expected());
    assert_eq!(best_f1(&labels, &scores).unwrap_err(), expected());
    assert_eq!(at_threshold(&labels, &scores, 0.5).unwrap_err(), expected());
    assert_eq!(
        MetricsError::LengthMismatch {
            labels: 10,
            scores: 9
        }
        .to_string(),
        "labels has 10 entries but scores has 9"
    );
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(auc_roc(&[], &[]), Err(MetricsError::Empty));
    assert_eq!(auc_pr(&[], &[]), Err(MetricsError::Empty));
    assert_eq!(best_f1(&[], &[]), Err(MetricsError::Empty));
    assert_eq!(at_threshold(&[], &[], 0.5), Err(MetricsError::Empty));
    assert_eq!(quantile(&[], 0.5), Err(MetricsError::Empty));
    assert_eq!(
        MetricsError::Empty.to_string(),
        "no scores given: a metric needs at least one entry"
    );
}

#[test]
fn a_single_class_is_an_error_for_ranking_metrics() {
    let scores = [0.3, 0.1, 0.2];
    for (labels, anomalous) in [([false; 3], false), ([true; 3], true)] {
        let expected = || MetricsError::OneClass { anomalous };
        assert_eq!(auc_roc(&labels, &scores).unwrap_err(), expected());
        assert_eq!(auc_pr(&labels, &scores).unwrap_err(), expected());
        assert_eq!(best_f1(&labels, &scores).unwrap_err(), expected());
    }
    assert_eq!(
        MetricsError::OneClass { anomalous: false }.to_string(),
        "all labels are normal: this metric needs both normal and anomalous examples"
    );
}

#[test]
fn non_finite_scores_are_an_error() {
    let labels = [false, true, false, true];
    let scores = [0.1, 0.9, 0.2, f64::NAN];
    // NaN != NaN, so match the variant instead of comparing whole errors.
    let is_nan_at_3 = |err: MetricsError| matches!(err, MetricsError::NonFinite { index: 3, value } if value.is_nan());
    assert!(is_nan_at_3(auc_roc(&labels, &scores).unwrap_err()));
    assert!(is_nan_at_3(auc_pr(&labels, &scores).unwrap_err()));
    assert!(is_nan_at_3(best_f1(&labels, &scores).unwrap_err()));
    assert!(is_nan_at_3(
        at_threshold(&labels, &scores, 0.5).unwrap_err()
    ));
    assert!(is_nan_at_3(quantile(&scores, 0.5).unwrap_err()));
    assert_eq!(
        auc_roc(&labels, &scores).unwrap_err().to_string(),
        "score 3 is NaN"
    );

    let infinite = [f64::NEG_INFINITY, 0.9, 0.2, 0.3];
    assert_eq!(
        auc_roc(&labels, &infinite),
        Err(MetricsError::NonFinite {
            index: 0,
            value: f64::NEG_INFINITY
        })
    );
}

#[test]
fn quantile_level_outside_unit_interval_is_an_error() {
    let values = [1.0, 2.0, 3.0];
    assert_eq!(
        quantile(&values, 1.5),
        Err(MetricsError::QuantileOutOfRange { q: 1.5 })
    );
    assert_eq!(
        quantile(&values, -0.1),
        Err(MetricsError::QuantileOutOfRange { q: -0.1 })
    );
    assert!(matches!(
        quantile(&values, f64::NAN),
        Err(MetricsError::QuantileOutOfRange { q }) if q.is_nan()
    ));
    assert_eq!(
        MetricsError::QuantileOutOfRange { q: 1.5 }.to_string(),
        "quantile level 1.5 is outside [0, 1]"
    );
}

/// Deterministic pseudo-random numbers in [0, 1) (Knuth's MMIX LCG, top 53 bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn a_million_random_scores_give_chance_level_auc() {
    let mut rng = Lcg(42);
    let n = 1_000_000;
    let labels: Vec<bool> = (0..n).map(|_| rng.next() < 0.5).collect();
    let scores: Vec<f64> = (0..n).map(|_| rng.next()).collect();

    let auc = auc_roc(&labels, &scores).unwrap();
    assert!(auc > 0.49 && auc < 0.51, "auc_roc of noise is {auc}");
    // Reversing the ranking mirrors the ROC curve.
    let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
    assert_close(
        "auc_roc of negated scores",
        auc_roc(&labels, &negated).unwrap(),
        1.0 - auc,
    );

    let prevalence = labels.iter().filter(|&&l| l).count() as f64 / n as f64;
    let ap = auc_pr(&labels, &scores).unwrap();
    assert!(
        (ap - prevalence).abs() < 0.01,
        "auc_pr of noise is {ap}, prevalence {prevalence}"
    );
    // Flagging everything already reaches F1 = 2p / (1 + p); the best can only beat it.
    let best = best_f1(&labels, &scores).unwrap();
    assert!(best.f1 >= 2.0 * prevalence / (1.0 + prevalence) - 1e-12);
}

// Generated by scripts/metrics_fixtures.py (scikit-learn 1.9.1, numpy 2.4.6); regenerate, do not edit.
#[rustfmt::skip]
mod fixtures {
    use super::{Case, Confusion};

    pub const RANDOM: Case = Case {
        labels: &[
            true, false, false, false, true, true, false, false, false, false,
            true, false, false, false, true, false, false, false, false, true,
            false, false, true, false, false, false, false, true, false, true,
            false, true, false, true, true, false, false, false, true, false,
            false, true, false, false, false, false, false, false, false, false,
            false, false, false, false, true, true, false, false, false, false,
            false, false, true, false, true, false, false, false, false, false,
            false, false, true, false, true, false, false, false, false, false,
            false, true, false, true, true, false, false, false, true, true,
            true, false, true, true, false, false, false, false, false, true,
            false, false, false, false, false, false, true, false, false, false,
            true, false, false, false, true, false, true, false, false, false,
            false, true, false, false, true, false, false, false, false, false,
            true, true, false, false, false, true, false, false, true, true,
            true, false, true, false, false, false, false, false, false, true,
            false, false, false, true, true, false, false, true, false, true,
            false, false, false, false, false, false, true, true, true, true,
            false, true, false, true, false, false, false, false, true, false,
            true, true, false, false, true, false, false, true, true, false,
            false, false, true, true, false, false, true, false, true, false,
        ],
        scores: &[
            1.35, 1.18, 0.39, -0.8, 1.07, -0.35, 0.63, 0.45, 0.02, -1.35,
            0.81, 0.68, -0.18, 0.12, 2.35, 0.63, -1.6, 0.37, -0.94, -1.02,
            1.16, -1.49, 0.88, 1.25, 0.7, -0.06, -0.89, 1.5, -0.07, 2.02,
            0.39, 1.93, -1.5, 0.34, 1.36, 0.37, -0.62, -0.7, 1.17, 0.12,
            1.96, 0.82, 0.54, -1.71, -0.1, -0.32, -1.29, -0.97, -0.65, -0.78,
            -1.9, -0.32, -0.1, -0.31, 2.01, 1.03, 0.1, -0.04, 0.12, -1.06,
            -0.29, 1.79, 1.53, -0.16, 0.75, 0.38, 0.01, 0.22, 0.88, 0.14,
            -0.09, -0.61, -0.13, 0.43, 1.56, -0.66, -0.56, -1.09, -0.99, -0.35,
            -0.06, 2.07, 0.56, 0.65, 2.01, -1.95, -0.39, 0.48, 2.67, -0.44,
            -0.01, -0.5, -0.37, 1.15, 0.26, -0.27, -0.88, 1.88, 1.58, 1.5,
            1.47, -0.79, -1.33, 0.25, 1.8, -0.23, 1.95, 1.26, 0.04, 0.84,
            0.54, 1.29, 0.42, 0.07, 0.57, -2.86, 1.52, 0.0, -0.12, -0.4,
            1.88, 1.11, -0.08, -0.0, 0.13, -0.54, -0.34, 0.32, 0.6, -0.76,
            2.26, -1.19, 1.51, 0.66, 0.83, 1.34, 0.41, 0.33, 0.85, 0.29,
            1.62, 0.27, 0.53, 0.06, -0.73, 2.39, 0.55, 0.65, 0.91, -2.31,
            0.03, 1.12, -1.11, 1.56, 1.8, -1.24, 3.12, 1.31, -0.03, 1.27,
            1.31, 2.63, -0.41, -1.76, 0.66, 0.28, 2.56, -0.17, 0.91, 1.23,
            -0.19, 0.85, -0.47, 2.89, -0.33, 1.17, -0.1, 0.65, 2.39, 0.55,
            -0.94, 0.06, -0.66, 0.63, 0.38, -0.96, 1.32, 3.33, 0.16, -0.28,
            0.07, -1.16, 0.68, -0.5, 0.38, -0.29, -0.17, -2.27, 2.42, -0.02,
        ],
        auc_roc: 0.7535627389641988,
        auc_pr: 0.5954761894501819,
        best_f1: Confusion { threshold: 0.68, precision: 0.6119402985074627, recall: 0.6507936507936508, f1: 0.6307692307692307 },
        at_threshold: &[
            Confusion { threshold: -10.0, precision: 0.315, recall: 1.0, f1: 0.4790874524714829 },
            Confusion { threshold: -0.5, precision: 0.36875, recall: 0.9365079365079365, f1: 0.5291479820627802 },
            Confusion { threshold: 0.0, precision: 0.4214876033057851, recall: 0.8095238095238095, f1: 0.5543478260869565 },
            Confusion { threshold: 0.73, precision: 0.625, recall: 0.6349206349206349, f1: 0.6299212598425197 },
            Confusion { threshold: 1.5, precision: 0.6875, recall: 0.3492063492063492, f1: 0.4631578947368421 },
            Confusion { threshold: 2.25, precision: 0.7272727272727273, recall: 0.12698412698412698, f1: 0.21621621621621623 },
            Confusion { threshold: 10.0, precision: 0.0, recall: 0.0, f1: 0.0 },
        ],
        quantiles: &[
            (0.0, -2.86),
            (0.01, -2.2704),
            (0.1, -0.9929999999999999),
            (0.25, -0.3425),
            (0.37, -0.06),
            (0.5, 0.275),
            (0.9, 1.8079999999999996),
            (0.95, 2.264499999999998),
            (0.99, 2.892299999999998),
            (1.0, 3.33),
        ],
    };

    pub const HEAVY_TIES: Case = Case {
        labels: &[
            true, true, true, true, false, false, false, true, true, false,
            false, false, true, true, true, false, false, false, false, true,
            true, false, true, false, true, true, false, false, true, false,
        ],
        scores: &[
            0.25, 0.75, 0.5, 0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 0.5,
            0.75, 0.25, 0.5, 0.75, 0.25, 0.25, 0.5, 0.5, 0.25, 0.75,
            0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.25, 0.5, 0.5, 0.75,
        ],
        auc_roc: 0.6533333333333333,
        auc_pr: 0.6312121212121212,
        best_f1: Confusion { threshold: 0.25, precision: 0.5, recall: 1.0, f1: 0.6666666666666666 },
        at_threshold: &[
            Confusion { threshold: 0.25, precision: 0.5, recall: 1.0, f1: 0.6666666666666666 },
            Confusion { threshold: 0.5, precision: 0.55, recall: 0.7333333333333333, f1: 0.6285714285714286 },
            Confusion { threshold: 0.6, precision: 0.7272727272727273, recall: 0.5333333333333333, f1: 0.6153846153846154 },
            Confusion { threshold: 0.75, precision: 0.7272727272727273, recall: 0.5333333333333333, f1: 0.6153846153846154 },
            Confusion { threshold: 0.8, precision: 0.0, recall: 0.0, f1: 0.0 },
        ],
        quantiles: &[
            (0.1, 0.25),
            (0.5, 0.5),
            (0.95, 0.75),
        ],
    };

    pub const SEPARATED: Case = Case {
        labels: &[
            false, false, false, false, false, false, true, true, true, true,
        ],
        scores: &[
            0.1, 0.35, 0.2, 0.05, 0.3, 0.4, 0.9, 0.45, 0.7, 0.6,
        ],
        auc_roc: 1.0,
        auc_pr: 1.0,
        best_f1: Confusion { threshold: 0.45, precision: 1.0, recall: 1.0, f1: 1.0 },
        at_threshold: &[
            Confusion { threshold: 0.45, precision: 1.0, recall: 1.0, f1: 1.0 },
            Confusion { threshold: 0.5, precision: 1.0, recall: 0.75, f1: 0.8571428571428571 },
        ],
        quantiles: &[
            (0.5, 0.375),
            (0.9, 0.7199999999999999),
        ],
    };

    pub const INVERTED: Case = Case {
        labels: &[
            false, false, false, false, false, false, true, true, true, true,
        ],
        scores: &[
            0.9, 0.65, 0.8, 0.95, 0.7, 0.6, 0.09999999999999998, 0.55, 0.30000000000000004, 0.4,
        ],
        auc_roc: 0.0,
        auc_pr: 0.28154761904761905,
        best_f1: Confusion { threshold: 0.09999999999999998, precision: 0.4, recall: 1.0, f1: 0.5714285714285715 },
        at_threshold: &[
            Confusion { threshold: 0.45, precision: 0.14285714285714285, recall: 0.25, f1: 0.18181818181818182 },
            Confusion { threshold: 0.5, precision: 0.14285714285714285, recall: 0.25, f1: 0.18181818181818182 },
        ],
        quantiles: &[
            (0.5, 0.625),
            (0.9, 0.905),
        ],
    };

    pub const ALL_TIED: Case = Case {
        labels: &[
            false, true, false, false, true, false, false,
        ],
        scores: &[
            0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
        ],
        auc_roc: 0.5,
        auc_pr: 0.2857142857142857,
        best_f1: Confusion { threshold: 0.3, precision: 0.2857142857142857, recall: 1.0, f1: 0.4444444444444445 },
        at_threshold: &[
            Confusion { threshold: 0.3, precision: 0.2857142857142857, recall: 1.0, f1: 0.4444444444444444 },
            Confusion { threshold: 0.31, precision: 0.0, recall: 0.0, f1: 0.0 },
        ],
        quantiles: &[
            (0.5, 0.3),
        ],
    };

    pub const TINY_RIGHT: Case = Case {
        labels: &[
            false, true,
        ],
        scores: &[
            0.1, 0.9,
        ],
        auc_roc: 1.0,
        auc_pr: 1.0,
        best_f1: Confusion { threshold: 0.9, precision: 1.0, recall: 1.0, f1: 1.0 },
        at_threshold: &[
            Confusion { threshold: 0.5, precision: 1.0, recall: 1.0, f1: 1.0 },
        ],
        quantiles: &[
            (0.25, 0.30000000000000004),
        ],
    };

    pub const TINY_WRONG: Case = Case {
        labels: &[
            false, true,
        ],
        scores: &[
            0.9, 0.1,
        ],
        auc_roc: 0.0,
        auc_pr: 0.5,
        best_f1: Confusion { threshold: 0.1, precision: 0.5, recall: 1.0, f1: 0.6666666666666666 },
        at_threshold: &[
            Confusion { threshold: 0.5, precision: 0.0, recall: 0.0, f1: 0.0 },
        ],
        quantiles: &[
            (0.75, 0.7),
        ],
    };

    pub const TINY_TIED: Case = Case {
        labels: &[
            true, false,
        ],
        scores: &[
            0.5, 0.5,
        ],
        auc_roc: 0.5,
        auc_pr: 0.5,
        best_f1: Confusion { threshold: 0.5, precision: 0.5, recall: 1.0, f1: 0.6666666666666666 },
        at_threshold: &[
            Confusion { threshold: 0.5, precision: 0.5, recall: 1.0, f1: 0.6666666666666666 },
        ],
        quantiles: &[
            (0.5, 0.5),
        ],
    };

    pub const F1_TIE: Case = Case {
        labels: &[
            true, false, false, true,
        ],
        scores: &[
            0.4, 0.3, 0.2, 0.1,
        ],
        auc_roc: 0.5,
        auc_pr: 0.75,
        best_f1: Confusion { threshold: 0.4, precision: 1.0, recall: 0.5, f1: 0.6666666666666666 },
        at_threshold: &[
            Confusion { threshold: 0.25, precision: 0.5, recall: 0.5, f1: 0.5 },
        ],
        quantiles: &[
            (0.5, 0.25),
        ],
    };

    pub const SIGNED_ZERO: Case = Case {
        labels: &[
            true, false, true,
        ],
        scores: &[
            0.0, -0.0, 1.0,
        ],
        auc_roc: 0.75,
        auc_pr: 0.8333333333333333,
        best_f1: Confusion { threshold: -0.0, precision: 0.6666666666666666, recall: 1.0, f1: 0.8 },
        at_threshold: &[
            Confusion { threshold: 0.0, precision: 0.6666666666666666, recall: 1.0, f1: 0.8 },
        ],
        quantiles: &[
            (0.5, 0.0),
        ],
    };
}
