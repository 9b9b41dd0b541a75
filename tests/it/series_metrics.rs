//! Time-series metrics (`anolab::metrics::series`) and their use in `evaluate`, against
//! hand-computed examples and against Orion's own `find_anomalies`.
//!
//! The `ORION` fixtures were printed by Orion's `find_anomalies(..., fixed_threshold=True)`
//! (sintel-dev/Orion `orion/primitives/timeseries_anomalies.py`, run with numpy 2.4 and
//! pandas 3.1) on the series `orion_series` builds; the tests never run Python.

use anolab::config::{EvalConfig, Protocol, Threshold};
use anolab::data::Timeline;
use anolab::metrics::evaluate::{evaluate, Rows};
use anolab::metrics::series::{
    orion_detections, point_adjusted_counts, point_counts, segment_counts, segments,
    steps_from_windows, Counts, Detection, OrionThreshold,
};
use anolab::metrics::MetricsError;

fn flags(bits: &str) -> Vec<bool> {
    bits.chars().map(|c| c == '1').collect()
}

#[test]
fn segments_are_inclusive_runs() {
    assert_eq!(segments(&flags("0110100011")), [[1, 2], [4, 4], [8, 9]]);
    assert_eq!(segments(&flags("000")), Vec::<[usize; 2]>::new());
    assert_eq!(segments(&flags("1")), [[0, 0]]);
}

#[test]
fn point_adjusted_f1_by_hand() {
    let labels = flags("0111001100");
    let predicted = flags("0010010000");
    // Unadjusted: one hit (step 2), one false alarm (5), four misses.
    let plain = point_counts(&labels, &predicted).unwrap();
    assert_eq!(
        plain,
        Counts {
            tp: 1,
            fp: 1,
            fn_: 4
        }
    );
    assert_eq!(plain.f1(), 2.0 / 7.0);
    // Adjusted: the hit marks all of [1, 3]; [6, 7] stays missed.
    let adjusted = point_adjusted_counts(&labels, &predicted).unwrap();
    assert_eq!(
        adjusted,
        Counts {
            tp: 3,
            fp: 1,
            fn_: 2
        }
    );
    assert_eq!(adjusted.precision(), 0.75);
    assert_eq!(adjusted.recall(), 0.6);
    assert_eq!(adjusted.f1(), 2.0 / 3.0);
    assert_eq!(
        point_adjusted_counts(&labels, &predicted[..3]),
        Err(MetricsError::LengthMismatch {
            labels: 10,
            scores: 3
        })
    );
}

#[test]
fn overlap_segment_counts_by_hand() {
    let expected = [[1, 3], [6, 7], [12, 14]];
    let observed = [[3, 4], [9, 9], [13, 20], [14, 15]];
    // [1, 3] shares step 3 with [3, 4]; [12, 14] meets two detections (one TP);
    // [6, 7] is missed; [9, 9] overlaps nothing.
    let c = segment_counts(&expected, &observed);
    assert_eq!(
        c,
        Counts {
            tp: 2,
            fp: 1,
            fn_: 1
        }
    );
    assert_eq!(c.f1(), 2.0 / 3.0);
    // Counts add over signals before the ratio (Orion's per-subset F1).
    let other = segment_counts(&[[0, 0]], &[]);
    let sum = Counts {
        tp: c.tp + other.tp,
        fp: c.fp + other.fp,
        fn_: c.fn_ + other.fn_,
    };
    assert_eq!(sum.f1(), 4.0 / 7.0);
    assert_eq!(segment_counts(&[], &[]).f1(), 0.0);
}

#[test]
fn window_scores_become_step_means() {
    // Windows of 2 starting at 0, 1, 2 over 4 steps.
    let steps = steps_from_windows(&[1.0, 2.0, 3.0], &[0, 1, 2], 2, 4).unwrap();
    assert_eq!(steps, [1.0, 1.5, 2.5, 3.0]);
    assert_eq!(
        steps_from_windows(&[1.0, 2.0], &[0, 2], 1, 3),
        Err(MetricsError::Uncovered { step: 1 })
    );
    assert_eq!(
        steps_from_windows(&[1.0], &[2], 2, 3),
        Err(MetricsError::WindowOutOfRange {
            index: 0,
            start: 2,
            window: 2,
            n_steps: 3
        })
    );
    assert!(matches!(
        steps_from_windows(&[1.0], &[0, 1], 2, 3),
        Err(MetricsError::LengthMismatch { .. })
    ));
}

fn params(
    window_portion: f64,
    step_portion: f64,
    k: f64,
    padding: usize,
    min_percent: f64,
) -> OrionThreshold {
    OrionThreshold {
        window_portion,
        step_portion,
        k,
        padding,
        min_percent,
    }
}

#[test]
fn orion_threshold_padding_and_score_by_hand() {
    // One window: mean 1, σ 3 (population), threshold 1 + 2·3 = 7; step 4 (10) is
    // above, padded by 1 to [3, 5]; score (10 − 7) / (1 + 3) = 0.75.
    let mut e = vec![0.0; 10];
    e[4] = 10.0;
    let found = orion_detections(&e, &params(1.0, 1.0, 2.0, 1, 0.1)).unwrap();
    assert_eq!(
        found,
        [Detection {
            first: 3,
            last: 5,
            score: 0.75
        }]
    );
}

#[test]
fn orion_pruning_by_hand() {
    // Maxima 10 (step 15) and 5 (step 8) are above the threshold 4.918, 4.8 (step 0) is
    // the largest error below it. Sorted: 10, 5, 4.8; 5 is only 4 % above 4.8 (< 10 %),
    // so it is pruned and only the sequence of 10 stays.
    let mut e = vec![0.0; 20];
    e[0] = 4.8;
    e[8] = 5.0;
    e[15] = 10.0;
    let found = orion_detections(&e, &params(1.0, 1.0, 1.55, 0, 0.1)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].first, found[0].last), (15, 15));
    // mean 0.99, σ 2.5341467992205975: (10 − 4.917927538791926) / 3.5241467992205975.
    assert!((found[0].score - 1.4420717270722174).abs() < 1e-12);
}

fn orion_series(n: usize) -> Vec<f64> {
    let mut e: Vec<f64> = (0..n)
        .map(|i| 0.1 + 0.05 * ((i * 37) % 11) as f64 / 11.0)
        .collect();
    for (i, v) in [(60, 3.0), (61, 2.5), (150, 1.2), (240, 5.0), (241, 4.0)] {
        e[i] = v;
    }
    e
}

/// (window portion, step portion, k, padding, min_percent) → Orion's detections.
#[allow(clippy::type_complexity)]
const ORION: &[((f64, f64, f64, usize, f64), &[(usize, usize, f64)])] = &[
    ((0.33, 0.1, 4.0, 50, 0.1), &[(10, 291, 2.5888179337218107)]),
    (
        (0.33, 0.1, 4.0, 5, 0.1),
        &[
            (55, 66, 2.4256081007742556),
            (145, 155, 2.6077788628063097),
            (235, 246, 2.722908973480857),
        ],
    ),
    (
        (1.0, 1.0, 2.0, 3, 0.1),
        &[
            (57, 64, 3.340614378183424),
            (147, 153, 0.31089817903632416),
            (237, 244, 6.706965710569091),
        ],
    ),
    (
        (1.0, 1.0, 1.0, 0, 0.5),
        &[
            (60, 61, 4.0495269985785),
            (150, 150, 1.0198107994313999),
            (240, 241, 7.415878330964167),
        ],
    ),
    (
        (0.5, 0.3, 3.0, 10, 0.1),
        &[
            (50, 71, 4.070081132916042),
            (140, 160, 1.9302557794604813),
            (230, 251, 4.384041612233781),
        ],
    ),
];

#[test]
fn orion_detections_match_orion() {
    let e = orion_series(300);
    for &((w, s, k, pad, min), expected) in ORION {
        let found = orion_detections(&e, &params(w, s, k, pad, min)).unwrap();
        let got: Vec<(usize, usize)> = found.iter().map(|d| (d.first, d.last)).collect();
        let want: Vec<(usize, usize)> = expected.iter().map(|&(a, b, _)| (a, b)).collect();
        assert_eq!(got, want, "params {w} {s} {k} {pad} {min}");
        for (d, &(_, _, score)) in found.iter().zip(expected) {
            assert!((d.score - score).abs() < 1e-9, "{} vs {score}", d.score);
        }
    }
    // The defaults are TadGAN's pipeline settings (models.md).
    assert_eq!(OrionThreshold::default(), params(0.33, 0.1, 4.0, 50, 0.1));
}

fn eval(protocol: Protocol, threshold: Threshold) -> EvalConfig {
    EvalConfig {
        protocol,
        threshold_quantile: 0.5,
        threshold,
        ..EvalConfig::default()
    }
}

fn row(rows: &[(anolab::kinds::SplitName, String, f64)], name: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.0 == anolab::kinds::SplitName::Test && r.1 == name)
        .map(|r| r.2)
}

#[test]
fn series_evaluation_by_hand() {
    // Six steps, windows of 2 at 0, 2, 4 (no overlap): step scores = window scores.
    let timeline = Timeline {
        labels: flags("001100"),
        window: 2,
        starts: vec![0, 2, 4],
    };
    let window_scores = [0.1, 0.9, 0.2];
    let classes = vec!["normal".to_string(); 3];
    let rows = evaluate(
        &eval(Protocol::Clean, Threshold::Protocol),
        (&[false, false, false], &[0.1, 0.3, 0.5]),
        (&[false, true, false], &window_scores, &classes),
        Some(&timeline),
    )
    .unwrap();
    // Threshold = median of the unlabelled validation scores = 0.3: steps 2, 3 flagged.
    assert_eq!(row(&rows, "threshold"), Some(0.3));
    assert_eq!(row(&rows, "f1"), Some(1.0));
    assert_eq!(row(&rows, "pa_f1"), Some(1.0));
    assert_eq!(row(&rows, "segment_tp"), Some(1.0));
    assert_eq!(row(&rows, "n"), Some(6.0));
    assert_eq!(row(&rows, "n_windows"), Some(3.0));
    assert_eq!(row(&rows, "auc_roc"), Some(1.0));
    // Windows overlapping by one step: step 2 averages windows 0 and 1.
    let timeline = Timeline {
        labels: flags("0011100"),
        window: 3,
        starts: vec![0, 2, 4],
    };
    let rows = evaluate(
        &eval(Protocol::Clean, Threshold::Protocol),
        (&[false, false], &[0.45, 0.45]),
        (&[true, true, true], &[0.0, 0.6, 0.2], &classes),
        Some(&timeline),
    )
    .unwrap();
    // Step scores: 0, 0, 0.3, 0.6, 0.4, 0.2, 0.2; threshold 0.45 flags step 3 only.
    assert_eq!(row(&rows, "f1"), Some(2.0 / 4.0));
    assert_eq!(row(&rows, "pa_f1"), Some(1.0));
    assert_eq!(row(&rows, "segment_f1"), Some(1.0));
    // No per-class recall for series: their windows have no classes of their own.
    assert!(rows.iter().all(|r| !r.1.starts_with("recall_")));
}

/// Orion-mode evaluation of per-step `scores` (windows of one step), given as a series
/// (`series`) or as plain windows.
fn orion_per_step(labels: &[bool], scores: &[f64], series: bool) -> Result<Rows, MetricsError> {
    let timeline = Timeline {
        labels: labels.to_vec(),
        window: 1,
        starts: (0..labels.len()).collect(),
    };
    let classes = vec![String::new(); labels.len()];
    evaluate(
        &eval(Protocol::Clean, Threshold::Orion),
        (&[false], &[0.0]),
        (labels, scores, &classes),
        series.then_some(&timeline),
    )
}

#[test]
fn orion_mode_needs_a_series_and_has_no_threshold_row() {
    let e = orion_series(300);
    let mut labels = vec![false; 300];
    labels[55..70].fill(true);
    labels[100..110].fill(true);
    let rows = orion_per_step(&labels, &e, true).unwrap();
    // Orion's default detections here: one interval [10, 291] (see ORION), which
    // overlaps both labelled segments.
    assert_eq!(row(&rows, "threshold"), None);
    assert_eq!(row(&rows, "segment_tp"), Some(2.0));
    assert_eq!(row(&rows, "segment_fp"), Some(0.0));
    assert_eq!(row(&rows, "recall"), Some(1.0));
    assert_eq!(row(&rows, "precision"), Some(25.0 / 282.0));
    let err = orion_per_step(&labels, &e, false).unwrap_err();
    assert_eq!(err, MetricsError::NotASeries);
}

#[test]
fn a_series_without_anomalies_counts_its_false_detections() {
    // Like NAB's ec2_cpu_utilization_c6585a: no labelled step. No ranking metric exists,
    // but Orion's detections are false positives that the subset's sums must see.
    let e = orion_series(300);
    let labels = vec![false; 300];
    let rows = orion_per_step(&labels, &e, true).unwrap();
    assert_eq!(row(&rows, "auc_roc"), None);
    assert_eq!(row(&rows, "segment_tp"), Some(0.0));
    assert_eq!(row(&rows, "segment_fp"), Some(1.0));
    assert_eq!(row(&rows, "segment_fn"), Some(0.0));
    // Not a series: a test split of one class stays an error.
    assert!(evaluate(
        &eval(Protocol::Clean, Threshold::Protocol),
        (&[false], &[0.0]),
        (&labels, &e, &vec![String::new(); 300]),
        None,
    )
    .is_err());
}

/// The clean protocol must not use a test label for any choice: permuting the test
/// labels (of windows or of time steps) leaves its threshold and its Orion detections
/// unchanged, while the paper protocol's test-chosen threshold moves.
#[test]
fn clean_threshold_ignores_test_labels() {
    let scores: Vec<f64> = (0..40).map(|i| ((i * 7919) % 97) as f64 / 97.0).collect();
    let labels: Vec<bool> = (0..40).map(|i| i % 5 == 0).collect();
    let mut permuted = labels.clone();
    permuted.rotate_left(3);
    let classes: Vec<String> = labels
        .iter()
        .map(|&l| if l { "A" } else { "N" }.into())
        .collect();
    let val_normal = (&[false, false, false, false][..], &[0.1, 0.5, 0.7, 0.9][..]);
    let val_labelled = (&[false, true, false, true][..], &[0.1, 0.8, 0.3, 0.6][..]);
    for val in [val_normal, val_labelled] {
        let t = |labels: &[bool]| {
            row(
                &evaluate(
                    &eval(Protocol::Clean, Threshold::Protocol),
                    val,
                    (labels, &scores, &classes),
                    None,
                )
                .unwrap(),
                "threshold",
            )
        };
        assert_eq!(t(&labels), t(&permuted));
    }
    let paper = |labels: &[bool]| {
        row(
            &evaluate(
                &eval(Protocol::Paper, Threshold::Protocol),
                val_labelled,
                (labels, &scores, &classes),
                None,
            )
            .unwrap(),
            "threshold",
        )
    };
    assert_ne!(paper(&labels), paper(&permuted));
    // A series: the predictions behind f1 depend on scores only, so permuting the step
    // labels conserves tp + fp (the number of flagged steps) under Orion thresholding.
    let e = orion_series(300);
    let flagged = |labels: Vec<bool>| {
        let timeline = Timeline {
            labels: labels.clone(),
            window: 1,
            starts: (0..300).collect(),
        };
        let rows = evaluate(
            &eval(Protocol::Clean, Threshold::Orion),
            (&[false], &[0.0]),
            (&labels, &e, &vec![String::new(); 300]),
            Some(&timeline),
        )
        .unwrap();
        let (p, r) = (
            row(&rows, "precision").unwrap(),
            row(&rows, "recall").unwrap(),
        );
        let positives = labels.iter().filter(|&&l| l).count() as f64;
        (r * positives / p).round()
    };
    let mut a = vec![false; 300];
    a[20..40].fill(true);
    let mut b = a.clone();
    b.rotate_left(137);
    assert_eq!(flagged(a), 282.0);
    assert_eq!(flagged(b), 282.0);
}
