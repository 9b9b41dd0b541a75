//! TadGAN's anomaly score as Orion 0.7.1 computes it (`orion.primitives.tadgan.
//! score_anomalies` and `timeseries_errors.reconstruction_errors`), on the windows of
//! one series and their reconstructions and critic values: pure arithmetic, no network.
//! Pinned against Orion's own functions in `tests/fixtures/tadgan_scores.json`
//! (`scripts/tadgan_score_fixtures.py`).
//!
//! Per time step t of the series:
//! 1. the reconstruction is the median of the reconstructions of t by every window that
//!    covers it; the error against the series is `point` (|y − ŷ|), `area` (|∫y − ∫ŷ| over
//!    the 10 steps t−5 … t+4) or `dtw` (DTW of 11-step segments; see [`step_errors`]);
//! 2. the critic is the mode (the sample of largest Gaussian-KDE density, Scott's
//!    bandwidth) of the critic values of the covering windows;
//! 3. both are smoothed by a centred rolling mean over 1 % of the number of windows, and
//!    z-scored over the series: rec ↦ max(0, z) + 1, critic ↦ |z| + 1 with the critic's
//!    centre the mean of its values between the quartiles;
//! 4. combined as `mult` (product) or `sum` ((1 − α)·(critic − 1) + α·(rec − 1)).
//!
//! The z-scores use the scored series' own statistics, as Orion does: they look at its
//! scores, never at its labels.

use super::{TadganCombination, TadganRecError};
use crate::data::Windows;
use crate::metrics::quantile;
use anyhow::{bail, ensure};

/// Orion's `score_window`: the area error integrates over 10 steps, DTW compares
/// segments of 2·(10/2) + 1 = 11 steps.
const SCORE_WINDOW: usize = 10;
/// Orion smooths both scores over this share of the number of windows.
const SMOOTH_PORTION: f64 = 0.01;

/// How the score is computed: the model's `score_rec`, `score_comb` and `score_alpha`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSettings {
    pub rec: TadganRecError,
    pub comb: TadganCombination,
    pub alpha: f64,
}

impl ScoreSettings {
    /// The combined score of one (rec, critic) pair of z-scores (rec ≥ 1, critic ≥ 1).
    pub fn combine(&self, rec: f64, critic: f64) -> f64 {
        match self.comb {
            TadganCombination::Mult => rec * critic,
            TadganCombination::Sum => {
                (1.0 - self.alpha) * (critic - 1.0) + self.alpha * (rec - 1.0)
            }
        }
    }
}

/// One score per time step of a series of `n_steps`, from its windows `x` (window `i`
/// covers steps `starts[i] .. starts[i] + length`), their reconstructions `x_hat` and the
/// critic value of each window. Every step must be covered. Several channels: the
/// reconstruction error is the mean over channels.
pub fn series_scores(
    x: &Windows,
    x_hat: &Windows,
    critic: &[f64],
    starts: &[usize],
    n_steps: usize,
    settings: &ScoreSettings,
) -> anyhow::Result<Vec<f64>> {
    let (n, c, l) = (x.n, x.channels, x.length);
    ensure!(
        x_hat.n == n && x_hat.channels == c && x_hat.length == l,
        "reconstructions ({} × {} × {}) do not match the windows ({n} × {c} × {l})",
        x_hat.n,
        x_hat.channels,
        x_hat.length
    );
    ensure!(
        critic.len() == n && starts.len() == n,
        "{n} windows but {} critic values and {} starts",
        critic.len(),
        starts.len()
    );
    if let Some(i) = starts.iter().position(|&s| s + l > n_steps) {
        bail!(
            "window {i} (start {}, length {l}) runs past the series' {n_steps} steps",
            starts[i]
        );
    }
    // The windows covering each step, latest first: Orion lists them in that order, and
    // it decides which of two equally dense critic values is the mode.
    let mut covering: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_steps];
    for (i, &s) in starts.iter().enumerate().rev() {
        for k in 0..l {
            covering[s + k].push((i, k));
        }
    }
    if let Some(step) = covering.iter().position(Vec::is_empty) {
        bail!("step {step} of the series is in no window");
    }

    let mut rec = vec![0.0; n_steps];
    for ch in 0..c {
        let value = |w: &Windows, i: usize, k: usize| f64::from(w.data[(i * c + ch) * l + k]);
        let y: Vec<f64> = covering
            .iter()
            .map(|cov| value(x, cov[0].0, cov[0].1))
            .collect();
        let y_hat: Vec<f64> = covering
            .iter()
            .map(|cov| median(cov.iter().map(|&(i, k)| value(x_hat, i, k)).collect()))
            .collect();
        for (sum, e) in rec.iter_mut().zip(step_errors(settings.rec, &y, &y_hat)) {
            *sum += e / c as f64;
        }
    }
    let critic: Vec<f64> = covering
        .iter()
        .map(|cov| kde_mode(&cov.iter().map(|&(i, _)| critic[i]).collect::<Vec<_>>()))
        .collect();

    let smooth = ((n as f64 * SMOOTH_PORTION) as usize).max(1);
    let rec = rolling_mean(&rec, smooth);
    let (rec_mean, rec_sd) = mean_sd(&rec);
    let critic = critic_scores(&critic, smooth)?;
    Ok(rec
        .iter()
        .zip(&critic)
        .map(|(&r, &cr)| settings.combine(z(r, rec_mean, rec_sd).max(0.0) + 1.0, cr))
        .collect())
}

/// Orion's centre of the critic values: the mean of those between the quartiles.
pub(super) fn critic_centre(critic: &[f64]) -> anyhow::Result<f64> {
    let (q1, q3) = (quantile(critic, 0.25)?, quantile(critic, 0.75)?);
    let inner: Vec<f64> = critic
        .iter()
        .copied()
        .filter(|v| (q1..=q3).contains(v))
        .collect();
    Ok(mean_sd(&inner).0)
}

/// Orion's `_compute_critic_score`: |z| + 1 about the interquartile mean, smoothed.
fn critic_scores(critic: &[f64], smooth: usize) -> anyhow::Result<Vec<f64>> {
    let centre = critic_centre(critic)?;
    let sd = mean_sd(critic).1;
    let scored: Vec<f64> = critic
        .iter()
        .map(|&v| z(v, centre, sd).abs() + 1.0)
        .collect();
    Ok(rolling_mean(&scored, smooth))
}

/// A z-score; a constant series (sd 0) scores 0 everywhere rather than NaN.
pub(super) fn z(v: f64, mean: f64, sd: f64) -> f64 {
    if sd > 0.0 {
        (v - mean) / sd
    } else {
        0.0
    }
}

/// Mean and population standard deviation (numpy's `std`, `scipy.stats.zscore`).
pub(super) fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// numpy's median: the mean of the two middle values of an even count.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// The sample of `values` where their Gaussian KDE (scipy's `gaussian_kde`, Scott's
/// bandwidth) is largest, the first on ties; the median when there is one value or they
/// are all equal (where scipy's KDE is singular).
fn kde_mode(values: &[f64]) -> f64 {
    let m = values.len();
    let sd = mean_sd(values).1;
    if m < 2 || sd == 0.0 {
        return median(values.to_vec());
    }
    // scipy: covariance = sample variance (ddof 1) · (m^(−1/5))².
    let var = sd * sd * m as f64 / (m - 1) as f64 * (m as f64).powf(-0.4);
    let density = |x: f64| -> f64 {
        values
            .iter()
            .map(|&v| (-(x - v).powi(2) / (2.0 * var)).exp())
            .sum()
    };
    // Samples with the same distances to the others (two samples, or repeated values)
    // have equal densities that differ in the last bits when summed in another order:
    // only a density larger beyond rounding takes over, so such ties keep the first, as
    // scipy's exact ones do (where scipy's own rounding breaks a tie, the two may differ).
    let mut best = (values[0], density(values[0]));
    for &v in &values[1..] {
        let d = density(v);
        if d > best.1 * (1.0 + 1e-12) {
            best = (v, d);
        }
    }
    best.0
}

/// pandas' `rolling(w, center=True, min_periods=w // 2).mean()`: the mean over steps
/// t − w/2 … t + (w − 1 − w/2), clipped to the series (a centred window always holds
/// at least w/2 steps, so no step is left undefined).
fn rolling_mean(values: &[f64], w: usize) -> Vec<f64> {
    let n = values.len();
    let mut prefix = vec![0.0; n + 1];
    for (i, v) in values.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    (0..n)
        .map(|t| {
            let lo = t.saturating_sub(w / 2);
            let hi = (t + w - w / 2).min(n);
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// Orion's per-step reconstruction error of a series `y` and its reconstruction:
/// - `point`: |y − ŷ|;
/// - `area`: |∫y − ∫ŷ| by trapezoids over steps t−5 … t+4, clipped to the series;
/// - `dtw`: the DTW distance ([`dtw`]) of the 11-step segments of the zero-padded series
///   centred at step t − 5, placed at step t; the first 5 and the last 6 steps are 0
///   (Orion's `_dtw_error` computes n − 11 distances and pads them so).
pub fn step_errors(kind: TadganRecError, y: &[f64], y_hat: &[f64]) -> Vec<f64> {
    let n = y.len();
    let half = SCORE_WINDOW / 2;
    match kind {
        TadganRecError::Point => y.iter().zip(y_hat).map(|(a, b)| (a - b).abs()).collect(),
        TadganRecError::Area => {
            let diff: Vec<f64> = y.iter().zip(y_hat).map(|(a, b)| a - b).collect();
            (0..n)
                .map(|t| {
                    let lo = t.saturating_sub(half);
                    let hi = (t + SCORE_WINDOW - half).min(n);
                    trapz(&diff[lo..hi]).abs()
                })
                .collect()
        }
        TadganRecError::Dtw => {
            let len = 2 * half + 1;
            let pad = |s: &[f64]| -> Vec<f64> {
                let mut v = vec![0.0; half];
                v.extend_from_slice(s);
                v.extend(std::iter::repeat_n(0.0, half));
                v
            };
            let (py, ph) = (pad(y), pad(y_hat));
            let mut out = vec![0.0; n];
            for i in 0..n.saturating_sub(len) {
                out[half + i] = dtw(&py[i..i + len], &ph[i..i + len]);
            }
            out
        }
    }
}

/// The reconstruction error of one channel of one window (no neighbouring windows to
/// take a median over): [`step_errors`] of the window as a series, averaged over its steps.
pub fn window_error(kind: TadganRecError, y: &[f32], y_hat: &[f32]) -> f64 {
    let widen = |s: &[f32]| s.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
    let errors = step_errors(kind, &widen(y), &widen(y_hat));
    errors.iter().sum::<f64>() / errors.len().max(1) as f64
}

/// Trapezoidal integral with unit spacing (numpy's `trapz`).
fn trapz(v: &[f64]) -> f64 {
    v.windows(2).map(|w| 0.5 * (w[0] + w[1])).sum()
}

/// Dynamic time warping distance as `pyts.metrics.dtw` computes it by default (Orion's
/// choice): squared differences summed along the cheapest warping path, square root.
pub fn dtw(a: &[f64], b: &[f64]) -> f64 {
    let m = b.len();
    let mut prev = vec![f64::INFINITY; m + 1];
    prev[0] = 0.0;
    let mut cur = vec![f64::INFINITY; m + 1];
    for &ai in a {
        cur[0] = f64::INFINITY;
        for j in 1..=m {
            let best = prev[j].min(prev[j - 1]).min(cur[j - 1]);
            cur[j] = (ai - b[j - 1]).powi(2) + best;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m].sqrt()
}
