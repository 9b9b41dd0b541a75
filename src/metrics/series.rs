//! Metrics and thresholding for one time series scored step by step
//! (`../shared/specs/evaluation.md`, "Metrics"; `models.md`, "Thresholding for F1").
//!
//! Intervals are inclusive `[first, last]` step indices. Two intervals overlap when
//! they share a step. (Orion tests overlap of timestamp intervals with
//! `(a.start − b.end)·(a.end − b.start) < 0`, which differs only when the intervals
//! meet in exactly one end step: Orion then counts no overlap; here they overlap.)

use super::MetricsError;
use crate::data::Timeline;

/// True-positive, false-positive and false-negative counts, kept as counts so that the
/// counts of several signals can be summed before the ratios (as Orion's benchmark
/// does per subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

impl Counts {
    /// Ratios with a zero denominator are 0, as in `super::Confusion`.
    fn ratio(num: u64, den: u64) -> f64 {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    }
    pub fn precision(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        Self::ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn check_lengths(labels: &[bool], predicted: &[bool]) -> Result<(), MetricsError> {
    if labels.len() != predicted.len() {
        return Err(MetricsError::LengthMismatch {
            labels: labels.len(),
            scores: predicted.len(),
        });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty);
    }
    Ok(())
}

/// Point-wise counts of predictions against labels.
pub fn point_counts(labels: &[bool], predicted: &[bool]) -> Result<Counts, MetricsError> {
    check_lengths(labels, predicted)?;
    let mut c = Counts::default();
    for (&l, &p) in labels.iter().zip(predicted) {
        match (l, p) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            (false, false) => {}
        }
    }
    Ok(c)
}

/// The runs of `true` steps as inclusive intervals, in order.
pub fn segments(flags: &[bool]) -> Vec<[usize; 2]> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push([s, i - 1]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push([s, flags.len() - 1]);
    }
    out
}

/// Point-adjusted counts (Xu et al. 2018): when any step of a labelled segment is
/// predicted, every step of that segment counts as predicted; then point-wise counts.
/// This flatters detectors that fire once per long segment, so it is always reported
/// next to the unadjusted F1, never alone.
pub fn point_adjusted_counts(labels: &[bool], predicted: &[bool]) -> Result<Counts, MetricsError> {
    check_lengths(labels, predicted)?;
    let mut adjusted = predicted.to_vec();
    for [first, last] in segments(labels) {
        if predicted[first..=last].contains(&true) {
            adjusted[first..=last].fill(true);
        }
    }
    point_counts(labels, &adjusted)
}

/// Orion's overlap-segment counts between labelled intervals `expected` and detected
/// intervals `observed`: TP = labelled intervals overlapped by a detected one, FN =
/// labelled intervals overlapped by none, FP = detected intervals overlapping no
/// labelled one.
pub fn segment_counts(expected: &[[usize; 2]], observed: &[[usize; 2]]) -> Counts {
    let overlap = |a: &[usize; 2], b: &[usize; 2]| a[0] <= b[1] && b[0] <= a[1];
    let tp = expected
        .iter()
        .filter(|e| observed.iter().any(|o| overlap(e, o)))
        .count() as u64;
    let fp = observed
        .iter()
        .filter(|o| !expected.iter().any(|e| overlap(e, o)))
        .count() as u64;
    Counts {
        tp,
        fp,
        fn_: expected.len() as u64 - tp,
    }
}

/// One score per time step from one score per window: the mean of the scores of every
/// window that covers the step. Window `i` covers steps `starts[i] .. starts[i] + window`.
/// Every step must be covered.
pub fn steps_from_windows(
    scores: &[f64],
    starts: &[usize],
    window: usize,
    n_steps: usize,
) -> Result<Vec<f64>, MetricsError> {
    if scores.len() != starts.len() {
        return Err(MetricsError::LengthMismatch {
            labels: starts.len(),
            scores: scores.len(),
        });
    }
    let mut sums = vec![0.0; n_steps];
    let mut counts = vec![0usize; n_steps];
    for (i, (&score, &start)) in scores.iter().zip(starts).enumerate() {
        if !score.is_finite() {
            return Err(MetricsError::NonFinite {
                index: i,
                value: score,
            });
        }
        let end = start + window;
        if end > n_steps {
            return Err(MetricsError::WindowOutOfRange {
                index: i,
                start,
                window,
                n_steps,
            });
        }
        for t in start..end {
            sums[t] += score;
            counts[t] += 1;
        }
    }
    if let Some(step) = counts.iter().position(|&c| c == 0) {
        return Err(MetricsError::Uncovered { step });
    }
    Ok(sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c as f64)
        .collect())
}

/// One score per time step of the series behind `timeline`, from its test scores: the
/// scores of a model that scores a series step by step (`Detector::score_steps`: as
/// many as the steps) are kept; window scores are averaged onto the steps they cover
/// ([`steps_from_windows`]). A series has fewer windows than steps unless its windows
/// are single steps, where the two readings agree.
pub fn step_scores(scores: &[f64], timeline: &Timeline) -> Result<Vec<f64>, MetricsError> {
    if scores.len() == timeline.labels.len() {
        super::check_scores(scores)?;
        return Ok(scores.to_vec());
    }
    steps_from_windows(
        scores,
        &timeline.starts,
        timeline.window,
        timeline.labels.len(),
    )
}

/// Settings of Orion's `find_anomalies` with `fixed_threshold=True`, as Orion's TadGAN
/// pipeline uses it; the defaults are that pipeline's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrionThreshold {
    /// Window length as a share of the series (rounded up).
    pub window_portion: f64,
    /// Window step as a share of the window (rounded up).
    pub step_portion: f64,
    /// Threshold = window mean + `k` · window standard deviation.
    pub k: f64,
    /// Steps added on each side of every step above the threshold.
    pub padding: usize,
    /// A sequence is kept only if its maximum is at least this share above the next
    /// lower maximum (or, for the last, above the highest error outside any sequence).
    pub min_percent: f64,
}

impl Default for OrionThreshold {
    fn default() -> Self {
        OrionThreshold {
            window_portion: 0.33,
            step_portion: 0.1,
            k: 4.0,
            padding: 50,
            min_percent: 0.1,
        }
    }
}

/// A detected anomalous interval and Orion's severity score for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub first: usize,
    pub last: usize,
    pub score: f64,
}

/// Orion's label-free detection on per-step scores (`errors`): slide a window of
/// `ceil(window_portion·n)` steps by `ceil(step_portion·window)`; in each window flag
/// steps above mean + k·σ (population σ), widen each flagged step by `padding` on both
/// sides, take the runs of flagged steps as sequences, sort their maxima (with the
/// largest unflagged error appended) from high to low and keep the sequences up to the
/// last one whose maximum exceeds the next by at least `min_percent` of itself; score a
/// kept sequence (max − threshold) / (window mean + σ). Sequences from all windows are
/// then merged where they overlap or touch, the score being the mean weighted by
/// `last − first` of the merged pieces (plain mean when those weights are all 0).
pub fn orion_detections(
    errors: &[f64],
    params: &OrionThreshold,
) -> Result<Vec<Detection>, MetricsError> {
    super::check_scores(errors)?;
    let n = errors.len();
    let window = ((n as f64 * params.window_portion).ceil() as usize).clamp(1, n);
    let step = ((window as f64 * params.step_portion).ceil() as usize).max(1);
    let mut found = Vec::new();
    let mut start = 0;
    loop {
        let end = start + window;
        found.extend(window_detections(&errors[start..end.min(n)], start, params));
        if end >= n {
            break;
        }
        start += step;
    }
    Ok(merge(found))
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The pruned, scored sequences of one window, in series step indices.
fn window_detections(errors: &[f64], offset: usize, p: &OrionThreshold) -> Vec<Detection> {
    let (mean, std) = mean_std(errors);
    let threshold = mean + p.k * std;
    let mut flagged = vec![false; errors.len()];
    for (i, _) in errors.iter().enumerate().filter(|(_, &e)| e > threshold) {
        let lo = i.saturating_sub(p.padding);
        let hi = (i + p.padding + 1).min(errors.len());
        flagged[lo..hi].fill(true);
    }
    let sequences = segments(&flagged);
    // Orion uses 0 when every step is flagged.
    let max_below = errors
        .iter()
        .zip(&flagged)
        .filter(|(_, &f)| !f)
        .map(|(&e, _)| e)
        .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))))
        .unwrap_or(0.0);
    // (max error, sequence index); `None` is the largest unflagged error.
    let mut maxima: Vec<(f64, Option<usize>)> = vec![(max_below, None)];
    for (k, [first, last]) in sequences.iter().enumerate() {
        let max = errors[*first..=*last]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        maxima.push((max, Some(k)));
    }
    maxima.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Keep up to the last entry that stands at least `min_percent` above the next one.
    // A 0/0 increase (NaN) counts as standing out, as in Orion's pandas comparison.
    let keep = (0..maxima.len().saturating_sub(1))
        .rev()
        .find(|&i| {
            let increase = (maxima[i].0 - maxima[i + 1].0) / maxima[i].0;
            increase.is_nan() || increase >= p.min_percent
        })
        .map_or(0, |i| i + 1);
    let denominator = mean + std;
    maxima[..keep]
        .iter()
        .filter_map(|&(max, k)| {
            let [first, last] = sequences[k?];
            Some(Detection {
                first: first + offset,
                last: last + offset,
                score: (max - threshold) / denominator,
            })
        })
        .collect()
}

/// Merges detections that overlap or touch, in order of their first step.
fn merge(mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by_key(|d| d.first);
    let mut merged: Vec<Detection> = Vec::new();
    // The (score, weight) pieces of the detection being built.
    let mut pieces: Vec<(f64, f64)> = Vec::new();
    for d in found {
        let weight = (d.last - d.first) as f64;
        match merged.last_mut() {
            Some(prev) if d.first <= prev.last + 1 => {
                pieces.push((d.score, weight));
                prev.last = prev.last.max(d.last);
                let total: f64 = pieces.iter().map(|p| p.1).sum();
                prev.score = if total > 0.0 {
                    pieces.iter().map(|p| p.0 * p.1).sum::<f64>() / total
                } else {
                    pieces.iter().map(|p| p.0).sum::<f64>() / pieces.len() as f64
                };
            }
            _ => {
                pieces = vec![(d.score, weight)];
                merged.push(d);
            }
        }
    }
    merged
}

/// Per-step predictions from detected intervals.
pub fn flags_from_detections(detections: &[Detection], n_steps: usize) -> Vec<bool> {
    let mut flags = vec![false; n_steps];
    for d in detections {
        flags[d.first..=d.last.min(n_steps - 1)].fill(true);
    }
    flags
}
