//! Binary-classification metrics for anomaly scores.
//!
//! Conventions throughout: a higher score means more anomalous, a `true` label
//! means anomalous, and an item is predicted anomalous when its score is
//! `>= threshold`. The ranking metrics follow scikit-learn's definitions
//! (`roc_auc_score`, `average_precision_score`, `precision_recall_curve`) so
//! that numbers are comparable with published results; `tests/metrics.rs`
//! checks them against fixtures printed by `scripts/metrics_fixtures.py`.

pub mod affiliation;
pub mod compare;
pub mod evaluate;
pub mod intervals;
pub mod series;
pub mod vus;

/// Why a metric could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("labels has {labels} entries but scores has {scores}")]
    LengthMismatch { labels: usize, scores: usize },
    #[error("no scores given: a metric needs at least one entry")]
    Empty,
    #[error(
        "all labels are {}: this metric needs both normal and anomalous examples",
        if *anomalous { "anomalous" } else { "normal" }
    )]
    OneClass { anomalous: bool },
    #[error("score {index} is {value}")]
    NonFinite { index: usize, value: f64 },
    #[error("quantile level {q} is outside [0, 1]")]
    QuantileOutOfRange { q: f64 },
    #[error("window {index} covers steps {start}..{} but the series has {n_steps} steps", start + window)]
    WindowOutOfRange {
        index: usize,
        start: usize,
        window: usize,
        n_steps: usize,
    },
    #[error("time step {step} is covered by no window, so it has no score")]
    Uncovered { step: usize },
    #[error(
        "Orion thresholding needs scores in time order of one series (a `nab` or `csv` dataset)"
    )]
    NotASeries,
}

/// Precision, recall and F1 when predicting anomalous at `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confusion {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Confusion {
    /// Ratios from counts; a ratio with a zero denominator is 0, like
    /// scikit-learn's `zero_division=0`.
    fn from_counts(threshold: f64, tp: u64, fp: u64, positives: u64) -> Self {
        let ratio = |num: u64, den: u64| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        Confusion {
            threshold,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, positives),
            // 2PR / (P + R) simplifies to 2tp / (tp + fp + positives).
            f1: ratio(2 * tp, tp + fp + positives),
        }
    }
}

/// Area under the ROC curve (true-positive rate against false-positive rate), by trapezoids over distinct thresholds.
pub fn auc_roc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    Ok(areas(ranking.steps().map(|s| (s.tp, s.fp))).0)
}

/// Average precision: sum over distinct thresholds of (R_n - R_{n-1}) * P_n, with no interpolation.
pub fn auc_pr(labels: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    Ok(areas(ranking.steps().map(|s| (s.tp, s.fp))).1)
}

/// (AUC-ROC, AP) from the cumulative (tp, fp) counts at each distinct threshold, highest
/// first; the counts may be weighted (a bootstrap resample's multiplicities). Both classes
/// must have a positive total.
fn areas(steps: impl Iterator<Item = (u64, u64)>) -> (f64, f64) {
    // Twice the trapezoid areas of the unnormalised ROC curve, summed in integers: exact,
    // so ties and huge inputs lose nothing before the one division. AP's sum stays in
    // counts (recall moves only when a step gains anomalies) until the end.
    let mut doubled_area = 0u128;
    let mut weighted = 0.0;
    let (mut prev_tp, mut prev_fp) = (0u64, 0u64);
    for (tp, fp) in steps {
        doubled_area += u128::from(fp - prev_fp) * u128::from(tp + prev_tp);
        if tp > prev_tp {
            weighted += (tp - prev_tp) as f64 * tp as f64 / (tp + fp) as f64;
        }
        (prev_tp, prev_fp) = (tp, fp);
    }
    let (positives, negatives) = (prev_tp as f64, prev_fp as f64);
    (
        doubled_area as f64 / (2.0 * positives * negatives),
        weighted / positives,
    )
}

/// The ROC curve as (false-positive rate, true-positive rate) points, one per distinct
/// score from the highest, starting at (0, 0) and ending at (1, 1).
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64)>, MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    let (p, n) = (ranking.positives as f64, ranking.negatives as f64);
    Ok(std::iter::once((0.0, 0.0))
        .chain(ranking.steps().map(|s| (s.fp as f64 / n, s.tp as f64 / p)))
        .collect())
}

/// The precision-recall curve as (recall, precision) points, one per distinct score from
/// the highest (scikit-learn's `precision_recall_curve` without its final (0, 1) point).
pub fn pr_curve(labels: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64)>, MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    let p = ranking.positives as f64;
    Ok(ranking
        .steps()
        .map(|s| (s.tp as f64 / p, s.tp as f64 / (s.tp + s.fp) as f64))
        .collect())
}

/// Highest F1 over thresholds equal to each distinct score; ties go to the higher threshold.
pub fn best_f1(labels: &[bool], scores: &[f64]) -> Result<Confusion, MetricsError> {
    let ranking = Ranking::new(labels, scores)?;
    let positives = ranking.positives;
    // F1 = 2tp / (tp + fp + positives). Comparing these fractions by cross
    // multiplication is exact, so "equal F1" really means equal, and keeping
    // the first maximum keeps the highest threshold (steps run downwards).
    let denominator = |s: &Step| u128::from(s.tp + s.fp + positives);
    let mut steps = ranking.steps();
    let mut best = steps
        .next()
        .expect("a validated ranking has at least one step");
    for step in steps {
        if u128::from(step.tp) * denominator(&best) > u128::from(best.tp) * denominator(&step) {
            best = step;
        }
    }
    Ok(Confusion::from_counts(
        best.threshold,
        best.tp,
        best.fp,
        positives,
    ))
}

/// Precision, recall and F1 predicting anomalous when `score >= threshold`; empty ratios are 0 (a NaN threshold predicts nothing).
pub fn at_threshold(
    labels: &[bool],
    scores: &[f64],
    threshold: f64,
) -> Result<Confusion, MetricsError> {
    check_pairs(labels, scores)?;
    let (mut tp, mut fp, mut positives) = (0, 0, 0);
    for (&label, &score) in labels.iter().zip(scores) {
        positives += u64::from(label);
        if score >= threshold {
            if label {
                tp += 1;
            } else {
                fp += 1;
            }
        }
    }
    Ok(Confusion::from_counts(threshold, tp, fp, positives))
}

/// The q-th quantile with linear interpolation between order statistics, like `numpy.quantile`'s default.
pub fn quantile(values: &[f64], q: f64) -> Result<f64, MetricsError> {
    check_scores(values)?;
    // Written as a containment test so that a NaN level is rejected too.
    if !(0.0..=1.0).contains(&q) {
        return Err(MetricsError::QuantileOutOfRange { q });
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let last = sorted.len() - 1;
    let position = q * last as f64;
    // q <= 1 keeps `position` within [0, last], so only `upper` needs clamping.
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(last);
    let t = position - lower as f64;
    let (a, b) = (sorted[lower], sorted[upper]);
    // numpy interpolates from the nearer order statistic (more accurate as t
    // nears 1); doing the same makes our results bit-identical to its.
    Ok(if t < 0.5 {
        a + (b - a) * t
    } else {
        b - (b - a) * (1.0 - t)
    })
}

/// Cumulative counts when every item scoring `>= threshold` is predicted anomalous.
#[derive(Debug, Clone, Copy)]
struct Step {
    threshold: f64,
    tp: u64,
    fp: u64,
}

/// Validated (score, label) pairs sorted by descending score, with class counts.
struct Ranking {
    sorted: Vec<(f64, bool)>,
    positives: u64,
    negatives: u64,
}

impl Ranking {
    fn new(labels: &[bool], scores: &[f64]) -> Result<Self, MetricsError> {
        check_pairs(labels, scores)?;
        let positives = labels.iter().filter(|&&label| label).count() as u64;
        let negatives = labels.len() as u64 - positives;
        if positives == 0 || negatives == 0 {
            return Err(MetricsError::OneClass {
                anomalous: positives > 0,
            });
        }
        let mut sorted: Vec<(f64, bool)> =
            scores.iter().copied().zip(labels.iter().copied()).collect();
        // total_cmp orders -0.0 just below 0.0; they stay adjacent, and
        // `steps` groups with `==`, so they still count as one tie.
        sorted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        Ok(Ranking {
            sorted,
            positives,
            negatives,
        })
    }

    /// One step per distinct score, highest first, so tied scores always
    /// cross the threshold together.
    fn steps(&self) -> impl Iterator<Item = Step> + '_ {
        let (mut tp, mut fp) = (0u64, 0u64);
        self.sorted.chunk_by(|a, b| a.0 == b.0).map(move |group| {
            let anomalous = group.iter().filter(|&&(_, label)| label).count() as u64;
            tp += anomalous;
            fp += group.len() as u64 - anomalous;
            Step {
                threshold: group[0].0,
                tp,
                fp,
            }
        })
    }
}

fn check_pairs(labels: &[bool], scores: &[f64]) -> Result<(), MetricsError> {
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            labels: labels.len(),
            scores: scores.len(),
        });
    }
    check_scores(scores)
}

fn check_scores(scores: &[f64]) -> Result<(), MetricsError> {
    if scores.is_empty() {
        return Err(MetricsError::Empty);
    }
    match scores.iter().position(|score| !score.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite {
            index,
            value: scores[index],
        }),
        None => Ok(()),
    }
}
