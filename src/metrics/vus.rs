//! VUS-ROC and VUS-PR (Paparrizos et al., VLDB 2022), the volume under the range-based
//! ROC and PR surfaces, as the `tsb-ad` package (1.5) computes them
//! (`basic_metricor.RangeAUC_volume_opt` behind `get_metrics`): for every buffer length
//! w = 0..=W, each labelled segment is widened by ⌊w/2⌋ steps on either side with
//! weights √(1 − d/w) (d the distance to the segment), and the range-based TPR, FPR and
//! precision are taken at 250 thresholds (the scores at 250 evenly spaced ranks); the
//! range AUC-ROC (trapezoids) and AP (steps) of each w are averaged over the w.
//!
//! The slice at the full buffer (w = W) is also returned: the range-based AUC-ROC and AP
//! of that buffer. (tsb-ad's own `RangeAUC` is not used by its `get_metrics` and finds
//! segments in the widened, fractional labels, which leaves it undefined for most
//! buffers; the slice of the volume is the consistent definition.)
//!
//! A series without a labelled anomaly has no VUS (an error, never a number).

use super::{check_pairs, MetricsError};

/// Thresholds per surface slice, as `tsb-ad`'s default `thre`.
const THRESHOLDS: usize = 250;

/// Inclusive `[start, end]` runs of `true`.
fn segments(labels: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &l) in labels.iter().enumerate() {
        match (l, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, labels.len() - 1));
    }
    out
}

/// The segments widened by `half` on either side, merged where they would touch
/// (`tsb-ad`'s `new_sequence`).
fn widened(seq: &[(usize, usize)], half: usize, n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut a = seq[0].0.saturating_sub(half);
    for pair in seq.windows(2) {
        // `end + half < next_start − half`, in signed arithmetic as numpy's.
        if (pair[0].1 + half) as i64 > pair[1].0 as i64 - half as i64 - 1 {
            continue;
        }
        out.push((a, pair[0].1 + half));
        a = pair[1].0.saturating_sub(half);
    }
    out.push((a, (seq[seq.len() - 1].1 + half).min(n - 1)));
    out
}

/// The volumes and their widest slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vus {
    pub roc: f64,
    pub pr: f64,
    /// Range-AUC-ROC and range-AP at the full buffer w = `window`: the surfaces' last slice.
    pub range_roc: f64,
    pub range_pr: f64,
}

/// VUS-ROC and VUS-PR over buffer lengths 0..=`window` (`tsb-ad`'s `slidingWindow`), and
/// the range AUCs at w = `window`.
pub fn vus(labels: &[bool], scores: &[f64], window: usize) -> Result<Vus, MetricsError> {
    check_pairs(labels, scores)?;
    let n = labels.len();
    let seq = segments(labels);
    if seq.is_empty() {
        return Err(MetricsError::OneClass { anomalous: false });
    }
    let p = labels.iter().filter(|&&l| l).count() as f64;
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let thresholds: Vec<f64> = (0..THRESHOLDS)
        .map(|k| {
            // numpy's linspace(0, n − 1, 250).astype(int): truncation toward zero.
            let at = if THRESHOLDS == 1 {
                0.0
            } else {
                k as f64 * (n - 1) as f64 / (THRESHOLDS - 1) as f64
            };
            sorted[at as usize]
        })
        .collect();
    let predicted: Vec<f64> = thresholds
        .iter()
        .map(|t| scores.iter().filter(|s| *s >= t).count() as f64)
        .collect();
    let (mut roc_sum, mut pr_sum) = (0.0, 0.0);
    let (mut range_roc, mut range_pr) = (0.0, 0.0);
    let mut extended = vec![0.0f64; n];
    for w in 0..=window {
        let half = w / 2;
        // The labels widened by w: 1 inside a segment, √(1 − d/w) at distance d ≤ w/2.
        extended
            .iter_mut()
            .zip(labels)
            .for_each(|(e, &l)| *e = f64::from(u8::from(l)));
        for &(s, e) in &seq {
            let after = (e + 1).min(n)..(e + half + 1).min(n);
            for (x, v) in after.clone().zip(&mut extended[after]) {
                *v += (1.0 - (x - e) as f64 / w as f64).sqrt();
            }
            let before = s.saturating_sub(half)..s;
            for (x, v) in before.clone().zip(&mut extended[before]) {
                *v += (1.0 - (s - x) as f64 / w as f64).sqrt();
            }
        }
        extended.iter_mut().for_each(|e| *e = e.min(1.0));
        let regions = widened(&seq, half, n);
        let mut tpr = vec![0.0];
        let mut fpr = vec![0.0];
        let mut precision = vec![1.0];
        for (t, n_pred) in thresholds.iter().zip(&predicted) {
            let (mut tp, mut n_labels, mut existence) = (0.0, 0.0, 0usize);
            for &(a, b) in &regions {
                let mut any = false;
                for x in a..=b {
                    let hit = scores[x] >= *t;
                    any |= hit;
                    // Inside an original segment a step weighs 1 whatever is predicted;
                    // around it, its widened weight where it is predicted.
                    let weight = if labels[x] {
                        1.0
                    } else if hit {
                        extended[x]
                    } else {
                        0.0
                    };
                    n_labels += weight;
                    if hit {
                        tp += weight;
                    }
                }
                existence += usize::from(any);
            }
            let p_new = (p + n_labels) / 2.0;
            let recall = (tp / p_new).min(1.0);
            tpr.push(recall * existence as f64 / regions.len() as f64);
            fpr.push((n_pred - tp) / (n as f64 - p_new));
            precision.push(tp / n_pred);
        }
        tpr.push(1.0);
        fpr.push(1.0);
        range_roc = (1..tpr.len())
            .map(|i| (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2.0)
            .sum::<f64>();
        range_pr = (1..=THRESHOLDS)
            .map(|i| (tpr[i] - tpr[i - 1]) * precision[i])
            .sum::<f64>();
        roc_sum += range_roc;
        pr_sum += range_pr;
    }
    let slices = (window + 1) as f64;
    Ok(Vus {
        roc: roc_sum / slices,
        pr: pr_sum / slices,
        range_roc,
        range_pr,
    })
}
