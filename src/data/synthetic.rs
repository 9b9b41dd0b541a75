//! A seeded generator of ECG-like windows with planted anomalies of known kinds
//! (`../shared/specs/evaluation.md`, "Synthetic"), for tests and the no-files demo.
//!
//! A window holds a few periodic beats, each a sum of Gaussian bumps for the P, Q, R, S
//! and T waves (positions and widths as fractions of the RR interval, like a lead-II
//! trace), with per-beat jitter in amplitude and timing, a slow baseline wander and
//! white noise; the window is then min–max scaled to [−1, 1] as the MIT-BIH beats are.
//! Anomalous windows carry exactly one planted defect:
//! - `spike`: a 2–4-sample impulse of ±(0.8–1.5) on top of the trace;
//! - `flat`: 15–25 % of the window held at the value where the segment starts;
//! - `premature`: one beat arrives at 55–70 % of the RR interval (with the compensatory
//!   pause after it: the later beats keep their normal times).
//!
//! Every window is drawn from its own random stream (seed, split, index), so window `i`
//! of a split does not change when another split's size or the anomaly rate changes.

use super::{DataError, DatasetSpec, RunContext, Split, Windows};
use crate::registry::check;
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Bumped whenever the generator's output changes, so run keys change with it.
pub const GENERATOR_VERSION: &str = "synthetic-ecg-v1";

/// The kinds of planted anomaly, in the order they are assigned round-robin.
pub const ANOMALY_KINDS: [&str; 3] = ["spike", "flat", "premature"];
/// Class of the normal windows.
pub const NORMAL_CLASS: &str = "N";

/// The synthetic generator's split sizes and anomaly rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
    /// Fraction of validation and test windows with a planted anomaly.
    pub anomaly_rate: f64,
    /// Samples per window (320 like the MIT-BIH beats, so the conv stacks accept it).
    pub length: usize,
    /// Seed of the generator; fixed across training seeds so seeds vary the model.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            n_train: 1024,
            n_val: 256,
            n_test: 512,
            anomaly_rate: 0.1,
            length: 320,
            seed: 0,
        }
    }
}

impl DatasetSpec for SyntheticConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        check(
            run.fold == 0,
            "folds",
            "0 (the synthetic dataset has one split; vary dataset.seed instead)",
            run.fold,
        )?;
        check(
            self.n_train >= run.batch_size,
            "dataset.n_train",
            "at least train.batch_size",
            self.n_train,
        )?;
        check(self.n_val >= 1, "dataset.n_val", "at least 1", self.n_val)?;
        check(
            self.n_test >= 1,
            "dataset.n_test",
            "at least 1",
            self.n_test,
        )?;
        check(
            (0.0..1.0).contains(&self.anomaly_rate),
            "dataset.anomaly_rate",
            "in [0, 1)",
            self.anomaly_rate,
        )?;
        check(
            self.length >= 40,
            "dataset.length",
            "at least 40",
            self.length,
        )
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        Ok(generate(self))
    }

    /// Generated: no files.
    fn inputs(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Generated data is a function of its config (already in the run key) and of the
    /// generator's code, whose version stands in for the files' bytes.
    fn fingerprint(&self) -> Result<String, DataError> {
        Ok(GENERATOR_VERSION.to_string())
    }

    fn describe_split(&self, _fold: usize) -> String {
        format!(
            "generated: seed {}, anomaly_rate {} in val and test",
            self.seed, self.anomaly_rate
        )
    }
}

/// The (P, Q, R, S, T) waves: centre as a fraction of the RR interval after the R-peak
/// reference, width (σ) as a fraction of the RR interval, amplitude.
const WAVES: [(f64, f64, f64); 5] = [
    (-0.20, 0.030, 0.15),
    (-0.03, 0.010, -0.15),
    (0.00, 0.012, 1.00),
    (0.03, 0.012, -0.25),
    (0.30, 0.050, 0.30),
];

/// Split identifiers mixed into each window's stream.
const TRAIN: u64 = 1;
const VAL: u64 = 2;
const TEST: u64 = 3;

/// Generates the split. Train is normal only; val and test hold
/// `round(anomaly_rate · n)` anomalies each, the kinds in equal shares (round-robin).
pub fn generate(opts: &SyntheticConfig) -> Split {
    Split {
        train: windows(opts, TRAIN, opts.n_train, 0),
        val: windows(
            opts,
            VAL,
            opts.n_val,
            planted(opts.n_val, opts.anomaly_rate),
        ),
        test: windows(
            opts,
            TEST,
            opts.n_test,
            planted(opts.n_test, opts.anomaly_rate),
        ),
        timeline: None,
    }
}

/// Number of anomalies planted among `n` windows.
pub fn planted(n: usize, rate: f64) -> usize {
    ((n as f64 * rate).round() as usize).min(n)
}

fn windows(opts: &SyntheticConfig, split: u64, n: usize, n_anomalous: usize) -> Windows {
    // Which windows are anomalous and of which kind: a seeded shuffle per split.
    let mut kinds: Vec<Option<&'static str>> = (0..n)
        .map(|i| (i < n_anomalous).then(|| ANOMALY_KINDS[i % ANOMALY_KINDS.len()]))
        .collect();
    SplitMix64::new(stream_seed(opts.seed, split, u64::MAX)).shuffle(&mut kinds);

    let mut out = Windows::empty(1, opts.length);
    out.data.reserve(n * opts.length);
    for (i, kind) in kinds.into_iter().enumerate() {
        let mut rng = SplitMix64::new(stream_seed(opts.seed, split, i as u64));
        out.data.extend(window(opts.length, kind, &mut rng));
        out.labels.push(kind.is_some());
        out.classes.push(kind.unwrap_or(NORMAL_CLASS).to_string());
    }
    out.n = n;
    out
}

/// A seed for stream `(seed, split, index)`: distinct inputs give unrelated streams
/// because SplitMix64 scrambles its state on output.
fn stream_seed(seed: u64, split: u64, index: u64) -> u64 {
    let mut mix = SplitMix64::new(seed ^ split.wrapping_mul(0xA24B_AED4_963E_E407));
    mix.next_u64() ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25)
}

/// One window, min–max scaled to [−1, 1].
fn window(length: usize, kind: Option<&str>, rng: &mut SplitMix64) -> Vec<f32> {
    let len = length as f64;
    // About three beats per window whatever its length.
    let rr = len * (0.30 + 0.06 * rng.next_f64());
    let first = -rr * rng.next_f64();
    let mut beats: Vec<f64> = (0..)
        .map(|k| first + k as f64 * rr * (1.0 + 0.03 * (rng.next_f64() - 0.5)))
        .take_while(|&t| t < len + rr)
        .collect();
    if kind == Some("premature") {
        // Move a beat inside the window (not the first, which may lie before it) early.
        let inside: Vec<usize> = (1..beats.len())
            .filter(|&k| beats[k] > 0.1 * len && beats[k] < 0.9 * len)
            .collect();
        let k = inside[(rng.next_f64() * inside.len() as f64) as usize];
        beats[k] = beats[k - 1] + rr * (0.55 + 0.15 * rng.next_f64());
    }
    let amps: Vec<f64> = beats
        .iter()
        .map(|_| 1.0 + 0.1 * (rng.next_f64() - 0.5))
        .collect();
    let wander_freq = (0.5 + rng.next_f64()) / len;
    let wander_phase = rng.next_f64() * std::f64::consts::TAU;
    let mut x: Vec<f64> = (0..length)
        .map(|t| {
            let t = t as f64;
            let mut v = 0.05 * (std::f64::consts::TAU * wander_freq * t + wander_phase).sin();
            for (&b, &a) in beats.iter().zip(&amps) {
                for &(centre, width, amp) in &WAVES {
                    // At least one sample wide, so short windows do not alias the waves.
                    let d = (t - b - centre * rr) / (width * rr).max(1.0);
                    if d.abs() < 6.0 {
                        v += a * amp * (-0.5 * d * d).exp();
                    }
                }
            }
            v + 0.01 * rng.normal()
        })
        .collect();
    match kind {
        Some("spike") => {
            let width = 2 + (rng.next_f64() * 3.0) as usize;
            let at = (rng.next_f64() * (length - width) as f64) as usize;
            let sign = if rng.next_f64() < 0.5 { -1.0 } else { 1.0 };
            let height = sign * (0.8 + 0.7 * rng.next_f64());
            for v in &mut x[at..at + width] {
                *v += height;
            }
        }
        Some("flat") => {
            let width = ((0.15 + 0.10 * rng.next_f64()) * len) as usize;
            let at = (rng.next_f64() * (length - width) as f64) as usize;
            let held = x[at];
            for v in &mut x[at..at + width] {
                *v = held;
            }
        }
        _ => {}
    }
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = (hi - lo).max(1e-12);
    x.iter()
        .map(|&v| (2.0 * (v - lo) / span - 1.0) as f32)
        .collect()
}
