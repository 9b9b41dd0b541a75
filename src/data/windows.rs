//! Preprocessing shared by the readers: scaling, the one-class split of independent
//! windows, and cutting a labelled series into rolling windows.

use super::{DataError, Split, Timeline, Windows};
use crate::registry::check;
use crate::rng::SplitMix64;
use std::path::Path;

/// Share of the normal windows that go to test in the one-class split
/// (`../shared/specs/evaluation.md`, "Digits").
pub const TEST_FRACTION: f64 = 0.2;

/// Class name of a series window that contains a labelled step, and of one that does not.
pub const ANOMALOUS: &str = "anomalous";
pub const NORMAL: &str = "normal";
/// Class name of the validation windows of a series: their labels are withheld.
pub const UNLABELLED: &str = "unlabelled";

/// What `anolab datasets` says of the split of a series.
pub const UNSUPERVISED: &str =
    "unsupervised: train and test = every window, val = the same windows unlabelled";

/// The fold check of a dataset with one split.
pub fn one_split(dataset: &str, fold: usize) -> Result<(), String> {
    check(
        fold == 0,
        "folds",
        &format!("0 (dataset `{dataset}` has one split)"),
        fold,
    )
}

/// The check of a `dataset.val_fraction`.
pub fn check_fraction(f: f64) -> Result<(), String> {
    check(
        (0.0..1.0).contains(&f),
        "dataset.val_fraction",
        "in [0, 1)",
        f,
    )
}

/// Defaults shared by several readers' configs.
pub fn default_series_window() -> usize {
    100
}
pub fn default_stride() -> usize {
    1
}
pub fn default_val_fraction() -> f64 {
    0.1
}
/// Keeps a default `train_stride` out of the canonical config, so that adding the key
/// left the run keys of existing series sweeps unchanged.
pub fn is_one(n: &usize) -> bool {
    *n == 1
}

/// The one-class split of independent windows (digits, UCR, .npy): the normal windows
/// are shuffled with `SplitMix64::new(seed)`; the first `round(20 %)` are test normals,
/// the first `round(val_fraction)` of the rest are validation (normal only) and the
/// remainder train. Test is the test normals followed by every anomalous window in file
/// order, so train and validation hold no anomaly and no test label is needed to choose
/// anything under the clean protocol.
pub fn one_class_split(all: &Windows, seed: u64, val_fraction: f64) -> Split {
    let mut normals: Vec<usize> = (0..all.n).filter(|&i| !all.labels[i]).collect();
    SplitMix64::new(seed).shuffle(&mut normals);
    let n_test = (normals.len() as f64 * TEST_FRACTION).round() as usize;
    let (test_normals, rest) = normals.split_at(n_test);
    let n_val = (rest.len() as f64 * val_fraction).round() as usize;
    let (val, train) = rest.split_at(n_val);
    let mut test = test_normals.to_vec();
    test.extend((0..all.n).filter(|&i| all.labels[i]));
    Split {
        train: all.select(train),
        val: all.select(val),
        test: all.select(&test),
        timeline: None,
    }
}

/// Where rolling windows of `window` steps with step `stride` start in a series of
/// `n_steps`: 0, stride, 2·stride, …, plus one last window flush with the end when the
/// stride does not land there, so that every step is covered by some window.
pub fn window_starts(n_steps: usize, window: usize, stride: usize) -> Vec<usize> {
    assert!(window >= 1 && stride >= 1 && n_steps >= window);
    let last = n_steps - window;
    let mut starts: Vec<usize> = (0..=last).step_by(stride).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts
}

/// The rolling windows of `values[c][t]` (every `stride` steps, the last window ending
/// at the series' end) with their start steps; a window is anomalous when any of its
/// steps is labelled. The series must hold at least one window.
pub fn rolling_windows(
    values: &[Vec<f32>],
    labels: &[bool],
    window: usize,
    stride: usize,
) -> (Windows, Vec<usize>) {
    let starts = window_starts(labels.len(), window, stride);
    let mut all = Windows::empty(values.len(), window);
    all.data.reserve(starts.len() * values.len() * window);
    for &s in &starts {
        for channel in values {
            all.data.extend_from_slice(&channel[s..s + window]);
        }
        let anomalous = labels[s..s + window].iter().any(|&l| l);
        all.labels.push(anomalous);
        all.classes
            .push(if anomalous { ANOMALOUS } else { NORMAL }.to_string());
    }
    all.n = starts.len();
    (all, starts)
}

/// Cuts a labelled series (`values[c][t]`, already scaled) into rolling windows and
/// splits it the unsupervised way Orion evaluates NAB (`test_split=False`): train and
/// test are every window of the whole series, and validation is the same windows with
/// their labels withheld (all marked normal, class `unlabelled`), so the clean protocol's
/// epoch and threshold choices see no label. A window is anomalous when any of its steps
/// is; the per-step labels travel in the split's [`Timeline`]. With `train_stride` n > 1
/// train and validation keep every n-th window (a cheaper, documented reduction); test
/// keeps them all, so every step is still scored.
pub fn series_split(
    values: &[Vec<f32>],
    labels: &[bool],
    window: usize,
    stride: usize,
    train_stride: usize,
    path: &Path,
) -> Result<Split, DataError> {
    let n_steps = labels.len();
    if window == 0 || stride == 0 || train_stride == 0 {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!(
                "window ({window}), stride ({stride}) and train_stride ({train_stride}) must be at least 1"
            ),
        });
    }
    if n_steps < window {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!(
                "the series has {n_steps} time steps, fewer than one window of {window}"
            ),
        });
    }
    let (all, starts) = rolling_windows(values, labels, window, stride);
    let train = if train_stride == 1 {
        all.clone()
    } else {
        all.select(&(0..all.n).step_by(train_stride).collect::<Vec<_>>())
    };
    let mut val = train.clone();
    val.labels.fill(false);
    val.classes.fill(UNLABELLED.to_string());
    Ok(Split {
        train,
        val,
        test: all,
        timeline: Some(Timeline {
            labels: labels.to_vec(),
            window,
            starts,
        }),
    })
}
