//! Comparisons between detectors over matched runs (the same seeds, folds and datasets):
//! the Wilcoxon signed-rank and the paired t-test of one against another, and the
//! Friedman test with the Nemenyi critical difference over several (Demšar, JMLR 2006).
//! The statistics follow SciPy's `wilcoxon`, `ttest_rel` and `friedmanchisquare`
//! (checked against fixtures).

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

/// The signed-rank test of "x is greater than y" on paired values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wilcoxon {
    /// Pairs whose difference is not zero (zeros are dropped, SciPy's `wilcox`).
    pub n: usize,
    /// The sum of the ranks of |x − y| where x > y.
    pub statistic: f64,
    /// One-sided p-value: exact (over the 2^n sign patterns of these ranks) for up to 50
    /// pairs, else the normal approximation with the tie correction and no continuity
    /// correction, as SciPy's `method="auto"`.
    pub p_value: f64,
}

/// Average ranks (1-based) of `values`, ties sharing the mean of their positions.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// `x` greater than `y`, pair by pair. `None` when every pair is equal.
pub fn wilcoxon_greater(x: &[f64], y: &[f64]) -> Option<Wilcoxon> {
    assert_eq!(x.len(), y.len(), "paired values");
    let d: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(a, b)| a - b)
        .filter(|d| *d != 0.0)
        .collect();
    let n = d.len();
    if n == 0 {
        return None;
    }
    let r = ranks(&d.iter().map(|v| v.abs()).collect::<Vec<_>>());
    // `+ 0.0`: an empty sum of floats is −0.0.
    let statistic: f64 = d
        .iter()
        .zip(&r)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum::<f64>()
        + 0.0;
    let p_value = if n <= 50 {
        // The null distribution of W+ given these ranks: every sign pattern equally
        // likely; count the patterns reaching each rank sum (in doubled ranks, which are
        // whole numbers even where ties average them). Without ties this is the usual
        // exact distribution; with ties it is the permutation one, as SciPy computes.
        let doubled: Vec<usize> = r.iter().map(|v| (2.0 * v).round() as usize).collect();
        let max: usize = doubled.iter().sum();
        let mut ways = vec![0f64; max + 1];
        ways[0] = 1.0;
        for &k in &doubled {
            for s in (k..=max).rev() {
                ways[s] += ways[s - k];
            }
        }
        let total = 2f64.powi(n as i32);
        let at_least: f64 = ways[(2.0 * statistic).round() as usize..].iter().sum();
        at_least / total
    } else {
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let mut var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0;
        let mut sorted = r.clone();
        sorted.sort_by(f64::total_cmp);
        for g in sorted.chunk_by(|a, b| a == b) {
            let t = g.len() as f64;
            var -= (t * t * t - t) / 48.0;
        }
        let z = (statistic - mean) / var.sqrt();
        1.0 - Normal::new(0.0, 1.0).expect("unit normal").cdf(z)
    };
    Some(Wilcoxon {
        n,
        statistic,
        p_value,
    })
}

/// The paired t-test of "the mean of x − y is not zero".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedT {
    /// mean(d) / (sd(d) / √n), d = x − y.
    pub statistic: f64,
    /// n − 1.
    pub df: usize,
    /// Two-sided p-value on Student's t with `df` degrees of freedom.
    pub p_value: f64,
}

/// `x` against `y`, pair by pair. `None` below two pairs or when every difference is the
/// same (no spread to test against).
pub fn paired_t(x: &[f64], y: &[f64]) -> Option<PairedT> {
    assert_eq!(x.len(), y.len(), "paired values");
    let n = x.len();
    if n < 2 {
        return None;
    }
    let d: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    if var <= 0.0 {
        return None;
    }
    let statistic = mean / (var / n as f64).sqrt();
    let df = n - 1;
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("df ≥ 1");
    Some(PairedT {
        statistic,
        df,
        p_value: 2.0 * t.sf(statistic.abs()),
    })
}

/// The Friedman test over `table[block][treatment]` (higher = better): the mean rank of
/// each treatment (rank 1 = best), the chi-squared statistic with SciPy's tie correction
/// and its p-value on k − 1 degrees of freedom.
#[derive(Debug, Clone, PartialEq)]
pub struct Friedman {
    pub mean_ranks: Vec<f64>,
    pub statistic: f64,
    pub p_value: f64,
}

pub fn friedman(table: &[Vec<f64>]) -> Friedman {
    let (n, k) = (table.len(), table[0].len());
    assert!(n >= 1 && k >= 2, "blocks × treatments");
    let mut sums = vec![0.0; k];
    let mut ties = 0.0;
    // SciPy ranks ascending; the statistic is symmetric, the mean ranks here descending.
    for row in table {
        let r = ranks(row);
        for (s, v) in sums.iter_mut().zip(&r) {
            *s += v;
        }
        let mut sorted = row.clone();
        sorted.sort_by(f64::total_cmp);
        for g in sorted.chunk_by(|a, b| a == b) {
            let t = g.len() as f64;
            ties += t * t * t - t;
        }
    }
    let (nf, kf) = (n as f64, k as f64);
    let ssbn: f64 = sums.iter().map(|s| s * s).sum();
    let c = 1.0 - ties / (kf * (kf * kf - 1.0) * nf);
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c;
    let p_value = 1.0
        - ChiSquared::new(kf - 1.0)
            .expect("k − 1 ≥ 1 degrees of freedom")
            .cdf(statistic);
    Friedman {
        mean_ranks: sums.iter().map(|s| kf + 1.0 - s / nf).collect(),
        statistic,
        p_value,
    }
}

/// The Nemenyi critical difference of mean ranks at α = 0.05 for `k` treatments over `n`
/// blocks: q_α √(k(k+1)/(6n)) (Demšar 2006), with q_α computed ([`nemenyi_q`]) rather
/// than read from Demšar's table, which stops at k = 10. `None` for k < 2 or n = 0.
pub fn nemenyi_cd(k: usize, n: usize) -> Option<f64> {
    if k < 2 || n == 0 {
        return None;
    }
    Some(nemenyi_q(k, 0.05) * ((k * (k + 1)) as f64 / (6.0 * n as f64)).sqrt())
}

/// Nemenyi's q_α for `k` treatments: the (1 − α) quantile of the range of k independent
/// standard normals (the studentized range with infinite degrees of freedom), over √2.
/// P(range ≤ w) = k ∫ φ(z) (Φ(z) − Φ(z − w))^(k−1) dz, integrated by Simpson's rule and
/// solved for w by bisection; equals SciPy's `studentized_range.ppf(1 − α, k, inf) / √2`
/// to 1e-6 (tests) and Demšar's Table 5(a) within its last printed digit.
pub fn nemenyi_q(k: usize, alpha: f64) -> f64 {
    let normal = Normal::new(0.0, 1.0).expect("the standard normal");
    let range_cdf = |w: f64| {
        const STEPS: usize = 4000;
        let (a, b) = (-9.0, 9.0);
        let h = (b - a) / STEPS as f64;
        let f = |z: f64| {
            normal.pdf(z)
                * (normal.cdf(z) - normal.cdf(z - w))
                    .max(0.0)
                    .powi(k as i32 - 1)
        };
        let inner: f64 = (1..STEPS)
            .map(|i| f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
            .sum();
        k as f64 * h / 3.0 * (f(a) + inner + f(b))
    };
    let (mut lo, mut hi) = (0.0, 20.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if range_cdf(mid) < 1.0 - alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi) / std::f64::consts::SQRT_2
}
