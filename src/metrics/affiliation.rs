//! Affiliation precision and recall (Huet, Navarro & Rossi, KDD 2022) of per-step
//! predictions against per-step labels, as TSB-AD 1.5 computes them (its
//! `affiliation.metrics.pr_from_events` on `convert_vector_to_events`, range (0, n)).
//!
//! Each labelled anomaly (event) J owns the zone E of the time axis closer to it than to
//! any other (halfway to its neighbours; mirrored at the series' ends). Within its zone,
//! a prediction's precision is the probability that a random point of E lies farther
//! from J than a predicted point does (averaged over the predicted points), and its
//! recall the same with the roles of J and the predictions exchanged; both are
//! averaged over the labelled events (precision over those whose zone holds a
//! prediction). A step flagged at `i` is the interval [i, i + 1). TSB-AD's zone
//! partition keeps every prediction in every zone (clipped to the zone, empty ones
//! dropped): so does this one, to give its numbers.
//!
//! It knows nothing of thresholds: `evaluate` gives it the run's chosen predictions and
//! the oracle sweep of [`best_f1`].

use super::series::segments;

/// An interval [start, stop) of the time axis.
type Interval = (f64, f64);

/// Affiliation precision and recall of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affiliation {
    /// `None` when nothing is predicted (TSB-AD: NaN).
    pub precision: Option<f64>,
    pub recall: f64,
}

impl Affiliation {
    /// TSB-AD's F1: 2PR / (P + R + 1e-15); 0 when nothing is predicted.
    pub fn f1(&self) -> f64 {
        self.precision
            .map_or(0.0, |p| 2.0 * p * self.recall / (p + self.recall + 1e-15))
    }
}

/// The affiliation precision and recall of `predicted` against `labels` (one flag per
/// time step); `None` when the labels hold no anomaly (undefined).
pub fn affiliation(labels: &[bool], predicted: &[bool]) -> Option<Affiliation> {
    let truth = events(labels);
    if truth.is_empty() {
        return None;
    }
    let predictions = events(predicted);
    let zones = zones(&truth, (0.0, labels.len() as f64));
    let (mut precision_sum, mut precision_n, mut recall_sum) = (0.0, 0usize, 0.0);
    for (j, zone) in truth.iter().zip(&zones) {
        let inside: Vec<Option<Interval>> = predictions
            .iter()
            .map(|&i| intersection(i, *zone))
            .collect();
        if inside.iter().any(Option::is_some) {
            let total: f64 = inside.iter().flatten().map(|i| i.1 - i.0).sum();
            let p: f64 = inside
                .iter()
                .flatten()
                .map(|&i| precision_integral(i, *j, *zone))
                .sum();
            precision_sum += p / total;
            precision_n += 1;
        }
        recall_sum += recall(&inside, *j, *zone);
    }
    Some(Affiliation {
        precision: (precision_n > 0).then(|| precision_sum / precision_n as f64),
        recall: recall_sum / truth.len() as f64,
    })
}

/// TSB-AD's threshold-swept affiliation F1 (`metric_Affiliation` without predictions):
/// the best F1 of `scores > t` over 100 thresholds evenly spaced from the lowest score
/// to the highest. An oracle, like `best_f1`: it looks at the test labels.
pub fn best_f1(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let step = (hi - lo) / 99.0;
    let mut best: Option<f64> = None;
    for k in 0..100 {
        // numpy.linspace: start + k·step, the last one exactly the end.
        let t = if k == 99 { hi } else { lo + k as f64 * step };
        let predicted: Vec<bool> = scores.iter().map(|&s| s > t).collect();
        let a = affiliation(labels, &predicted)?;
        // Nothing predicted is NaN in TSB-AD, which its `max` passes over.
        if a.precision.is_some() {
            best = Some(best.map_or(a.f1(), |b: f64| b.max(a.f1())));
        }
    }
    best
}

/// The runs of flagged steps as intervals [first, last + 1).
fn events(flags: &[bool]) -> Vec<Interval> {
    segments(flags)
        .into_iter()
        .map(|[first, last]| (first as f64, (last + 1) as f64))
        .collect()
}

/// Each event's zone within `range`: from halfway to the previous event to halfway to
/// the next; beyond the first and last events the range's ends mirror them.
fn zones(events: &[Interval], range: Interval) -> Vec<Interval> {
    let n = events.len();
    let start = |j: usize| {
        if j == n {
            2.0 * range.1 - events[n - 1].1
        } else {
            events[j].0
        }
    };
    let stop = |j: Option<usize>| match j {
        None => 2.0 * range.0 - events[0].0,
        Some(j) => events[j].1,
    };
    (0..n)
        .map(|j| {
            (
                (stop(j.checked_sub(1)) + start(j)) / 2.0,
                (stop(Some(j)) + start(j + 1)) / 2.0,
            )
        })
        .collect()
}

fn intersection(i: Interval, j: Interval) -> Option<Interval> {
    let (lo, hi) = (i.0.max(j.0), i.1.min(j.1));
    (lo < hi).then_some((lo, hi))
}

fn length(i: Option<Interval>) -> f64 {
    i.map_or(0.0, |i| i.1 - i.0)
}

/// `i` cut by `j` into the parts before, inside and after it.
fn cut_into_three(i: Interval, j: Interval) -> [Option<Interval>; 3] {
    let inside = intersection(i, j);
    if inside == Some(i) {
        [None, inside, None]
    } else if i.1 <= j.0 {
        [Some(i), None, None]
    } else if i.0 >= j.1 {
        [None, None, Some(i)]
    } else {
        let middle = inside.expect("overlapping intervals intersect");
        let before = (i.0 <= j.0).then_some((i.0, middle.0));
        let after = (i.1 >= j.1).then_some((middle.1, i.1));
        [before, inside, after]
    }
}

/// The border of `j` nearest to `i`, which lies wholly on one side of it.
fn pivot(i: Interval, j: Interval) -> f64 {
    if i.1 <= j.0 {
        j.0
    } else {
        j.1
    }
}

/// ∫ over `i` of the precision probability of each point for event `j` in zone `e`.
fn precision_integral(i: Interval, j: Interval, e: Interval) -> f64 {
    let [before, inside, after] = cut_into_three(i, j);
    let outside = |part: Option<Interval>| part.map_or(0.0, |p| precision_outside(p, j, e));
    outside(before) + length(inside) + outside(after)
}

/// [`precision_integral`] of a piece `i` lying outside `j` (TSB-AD's CDF method).
fn precision_outside(i: Interval, j: Interval, e: Interval) -> f64 {
    let d_min = (i.0 - j.1).max(j.0 - i.1);
    let d_max = (i.1 - j.1).max(j.0 - i.0);
    let m = (j.0 - e.0).min(e.1 - j.1);
    let a = d_max.min(m).powi(2) - d_min.min(m).powi(2);
    let b = d_max.max(m) - d_min.max(m);
    let min_piece = a / 2.0 + m * b;
    let linear_piece = (d_max.powi(2) - d_min.powi(2)) / 2.0;
    let remaining = (j.1 - j.0) * (i.1 - i.0);
    (i.1 - i.0) - (min_piece + linear_piece + remaining) / (e.1 - e.0)
}

/// The recall probability of event `j` in zone `e` for the predictions `inside` it.
fn recall(inside: &[Option<Interval>], j: Interval, e: Interval) -> f64 {
    let predictions: Vec<Interval> = inside.iter().flatten().copied().collect();
    if predictions.is_empty() {
        return 0.0;
    }
    // J is split among the predictions by their own zones (within E).
    let sum: f64 = predictions
        .iter()
        .zip(zones(&predictions, e))
        .map(|(&i, zone)| intersection(j, zone).map_or(0.0, |part| recall_integral(i, part, e)))
        .sum();
    sum / (j.1 - j.0)
}

/// ∫ over `j` of the recall probability of each point for prediction `i` in zone `e`.
fn recall_integral(i: Interval, j: Interval, e: Interval) -> f64 {
    let [before, inside, after] = cut_into_three(j, i);
    let outside = |part: Option<Interval>| part.map_or(0.0, |p| recall_outside(i, p, e));
    outside(before) + length(inside) + outside(after)
}

/// `j` cut at `at` into the parts before and after it.
fn cut_at(j: Option<Interval>, at: f64) -> [Option<Interval>; 2] {
    match j {
        None => [None, None],
        Some(j) if at >= j.1 => [Some(j), None],
        Some(j) if at <= j.0 => [None, Some(j)],
        Some(j) => [Some((j.0, at)), Some((at, j.1))],
    }
}

/// [`recall_integral`] of a piece `j` lying outside `i` (TSB-AD's CDF method).
fn recall_outside(i: Interval, j: Interval, e: Interval) -> f64 {
    let p = pivot(j, i);
    if p <= e.0 || p >= e.1 {
        return 0.0;
    }
    let [j_before, j_after] = cut_at(Some(j), (e.0 + e.1) / 2.0);
    let [before_close_e, before_close_i] = cut_at(j_before, (e.0 + p) / 2.0);
    let [after_close_i, after_close_e] = cut_at(j_after, (e.1 + p) / 2.0);
    // ∫ of a linear piece over a part: c·(b − a) − (b² − a²), or its negation.
    let span = |part: Option<Interval>| part.map(|(a, b)| (b - a, b * b - a * a));
    let parts = if p >= j.1 {
        [
            span(before_close_e).map(|(d, _)| (p - e.0) * d),
            span(before_close_i).map(|(d, sq)| 2.0 * p * d - sq),
            span(after_close_i).map(|(d, sq)| 2.0 * p * d - sq),
            span(after_close_e).map(|(d, sq)| (e.1 + p) * d - sq),
        ]
    } else {
        [
            span(before_close_e).map(|(d, sq)| sq - (e.0 + p) * d),
            span(before_close_i).map(|(d, sq)| sq - 2.0 * p * d),
            span(after_close_i).map(|(d, sq)| sq - 2.0 * p * d),
            span(after_close_e).map(|(d, _)| (e.1 - p) * d),
        ]
    };
    let integral: f64 = parts.iter().flatten().sum();
    (j.1 - j.0) - integral / (e.1 - e.0)
}
