//! Uncertainty of the numbers a report shows: a seeded percentile bootstrap of a run's
//! AUC-ROC and AP over its test windows, and the Student-t interval of a setting's mean
//! over its seeds and folds. Numbers in, intervals out; nothing here chooses anything.

use super::{areas, quantile, MetricsError, Ranking};
use crate::rng::SplitMix64;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Bootstrap resamples per run.
pub const RESAMPLES: usize = 1000;
/// Seed of every run's bootstrap: the interval is a function of the scores alone.
const SEED: u64 = 0xb007_5742_a9c0_0001;

/// A two-sided 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

/// 95% percentile-bootstrap intervals of (AUC-ROC, AP): `resamples` resamples of the
/// windows with replacement; a resample without both classes is drawn again (at most
/// ten times as many draws in all, then an error). Each resample costs one pass over
/// the windows sorted once: the multiplicities are summed per distinct score.
pub fn bootstrap(
    labels: &[bool],
    scores: &[f64],
    resamples: usize,
) -> Result<(Interval, Interval), MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    let n = ranking.sorted.len();
    // Positions where a new distinct score starts, in the descending order.
    let mut starts: Vec<usize> = vec![0];
    starts.extend((1..n).filter(|&i| ranking.sorted[i].0 != ranking.sorted[i - 1].0));
    starts.push(n);
    let mut rng = SplitMix64::new(SEED);
    let mut counts = vec![0u64; n];
    let (mut aucs, mut aps) = (Vec::with_capacity(resamples), Vec::with_capacity(resamples));
    let mut draws = 0;
    while aucs.len() < resamples {
        draws += 1;
        if draws > 10 * resamples {
            return Err(MetricsError::OneClass {
                anomalous: ranking.negatives == 0,
            });
        }
        counts.fill(0);
        for _ in 0..n {
            counts[rng.below(n as u64) as usize] += 1;
        }
        let (mut tp, mut fp) = (0u64, 0u64);
        let steps: Vec<(u64, u64)> = starts
            .windows(2)
            .map(|g| {
                for (item, count) in ranking.sorted[g[0]..g[1]].iter().zip(&counts[g[0]..g[1]]) {
                    if item.1 {
                        tp += count;
                    } else {
                        fp += count;
                    }
                }
                (tp, fp)
            })
            .collect();
        if tp == 0 || fp == 0 {
            continue;
        }
        let (auc, ap) = areas(steps.into_iter());
        aucs.push(auc);
        aps.push(ap);
    }
    let interval = |values: &[f64]| -> Result<Interval, MetricsError> {
        Ok(Interval {
            lo: quantile(values, 0.025)?,
            hi: quantile(values, 0.975)?,
        })
    };
    Ok((interval(&aucs)?, interval(&aps)?))
}

/// The 95% Student-t interval of the mean of `values`; `None` below three values, where
/// it says more about t's tails than about the setting.
pub fn t_interval(values: &[f64]) -> Option<Interval> {
    let n = values.len();
    if n < 3 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("n ≥ 3 degrees of freedom")
        .inverse_cdf(0.975);
    let half = t * (var / n as f64).sqrt();
    Some(Interval {
        lo: mean - half,
        hi: mean + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_once_gives_the_metrics_themselves() {
        // The resample machinery with all multiplicities 1 is auc_roc / auc_pr.
        let labels = [true, false, true, false, false, true, false];
        let scores = [0.9, 0.8, 0.8, 0.3, 0.5, 0.1, 0.5];
        let ranking = Ranking::new(&labels, &scores).unwrap();
        let (mut tp, mut fp) = (0, 0);
        let steps: Vec<(u64, u64)> = ranking
            .sorted
            .chunk_by(|a, b| a.0 == b.0)
            .map(|g| {
                tp += g.iter().filter(|x| x.1).count() as u64;
                fp += g.iter().filter(|x| !x.1).count() as u64;
                (tp, fp)
            })
            .collect();
        let (auc, ap) = areas(steps.into_iter());
        assert_eq!(auc, crate::metrics::auc_roc(&labels, &scores).unwrap());
        assert_eq!(ap, crate::metrics::auc_pr(&labels, &scores).unwrap());
    }

    #[test]
    fn the_bootstrap_brackets_the_metric_and_is_seeded() {
        let mut rng = SplitMix64::new(3);
        let labels: Vec<bool> = (0..500).map(|i| i % 5 == 0).collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| rng.normal() + if l { 1.0 } else { 0.0 })
            .collect();
        let (auc, ap) = bootstrap(&labels, &scores, 400).unwrap();
        let a = crate::metrics::auc_roc(&labels, &scores).unwrap();
        let p = crate::metrics::auc_pr(&labels, &scores).unwrap();
        assert!(
            auc.lo < a && a < auc.hi && ap.lo < p && p < ap.hi,
            "{auc:?} {ap:?}"
        );
        // About ±2 standard errors: AUC's is ≈ 0.025 here.
        assert!(auc.hi - auc.lo > 0.05 && auc.hi - auc.lo < 0.15, "{auc:?}");
        assert_eq!(bootstrap(&labels, &scores, 400).unwrap(), (auc, ap));
    }
}
