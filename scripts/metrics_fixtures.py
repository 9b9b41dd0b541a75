#!/usr/bin/env python3
"""Print the scikit-learn / numpy reference numbers used by tests/metrics.rs.

Usage: python3 scripts/metrics_fixtures.py
(needs `pip install scikit-learn numpy`), then paste the output over the
`mod fixtures` block at the bottom of tests/metrics.rs. The Rust tests never
run Python.

Conventions match anolab::metrics: higher score = more anomalous, label 1 =
anomalous, predict anomalous when score >= threshold.
"""

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)


def rust_f64(x):
    """Shortest round-tripping literal, always with a decimal point or exponent."""
    text = repr(float(x))
    return text if any(c in text for c in ".eE") else text + ".0"


def rust_list(items, per_line):
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "\n".join("        " + line + "," for line in lines)


def best_f1(labels, scores):
    """Max of 2PR/(P+R) over precision_recall_curve; equal F1 goes to the higher threshold."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    # The curve's last point (precision 1, recall 0) has no threshold.
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    # Thresholds come out ascending; take the last index reaching the maximum
    # (isclose absorbs rounding between algebraically equal F1 values).
    best = np.flatnonzero(np.isclose(f1, f1.max(), rtol=1e-12, atol=0))[-1]
    return thresholds[best], precision[best], recall[best], f1[best]


def at_threshold(labels, scores, threshold):
    predicted = scores >= threshold
    return (
        precision_score(labels, predicted, zero_division=0),
        recall_score(labels, predicted, zero_division=0),
        f1_score(labels, predicted, zero_division=0),
    )


def case(name, labels, scores, thresholds=(), quantiles=()):
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    threshold, precision, recall, f1 = best_f1(labels, scores)
    out = [f"pub const {name}: Case = Case {{"]
    out.append("    labels: &[")
    out.append(rust_list(["true" if x else "false" for x in labels], 10))
    out.append("    ],")
    out.append("    scores: &[")
    out.append(rust_list([rust_f64(x) for x in scores], 10))
    out.append("    ],")
    out.append(f"    auc_roc: {rust_f64(roc_auc_score(labels, scores))},")
    out.append(f"    auc_pr: {rust_f64(average_precision_score(labels, scores))},")
    out.append(
        f"    best_f1: Confusion {{ threshold: {rust_f64(threshold)}, precision: {rust_f64(precision)}, "
        f"recall: {rust_f64(recall)}, f1: {rust_f64(f1)} }},"
    )
    out.append("    at_threshold: &[")
    for t in thresholds:
        p, r, f = at_threshold(labels, scores, t)
        out.append(
            f"        Confusion {{ threshold: {rust_f64(t)}, precision: {rust_f64(p)}, "
            f"recall: {rust_f64(r)}, f1: {rust_f64(f)} }},"
        )
    out.append("    ],")
    out.append("    quantiles: &[")
    for q in quantiles:
        out.append(f"        ({rust_f64(q)}, {rust_f64(np.quantile(scores, q))}),")
    out.append("    ],")
    out.append("};")
    return "\n".join(out)


def main():
    rng = np.random.default_rng(20240611)
    random_labels = rng.random(200) < 0.3
    # Anomalies score higher on average; two decimals make exact ties common.
    random_scores = np.round(rng.normal(0.0, 1.0, 200) + 1.2 * random_labels, 2)

    tie_labels = rng.random(30) < 0.4
    tie_scores = rng.choice([0.25, 0.5, 0.75], size=30, p=[0.4, 0.35, 0.25])
    tie_scores = np.where(tie_labels & (rng.random(30) < 0.5), 0.75, tie_scores)

    separated_labels = [False] * 6 + [True] * 4
    separated_scores = [0.1, 0.35, 0.2, 0.05, 0.3, 0.4, 0.9, 0.45, 0.7, 0.6]
    inverted_scores = [1.0 - s for s in separated_scores]

    cases = [
        case(
            "RANDOM",
            random_labels,
            random_scores,
            thresholds=[-10.0, -0.5, 0.0, 0.73, 1.5, 2.25, 10.0],
            quantiles=[0.0, 0.01, 0.1, 0.25, 0.37, 0.5, 0.9, 0.95, 0.99, 1.0],
        ),
        case(
            "HEAVY_TIES",
            tie_labels,
            tie_scores,
            thresholds=[0.25, 0.5, 0.6, 0.75, 0.8],
            quantiles=[0.1, 0.5, 0.95],
        ),
        case("SEPARATED", separated_labels, separated_scores, thresholds=[0.45, 0.5], quantiles=[0.5, 0.9]),
        case("INVERTED", separated_labels, inverted_scores, thresholds=[0.45, 0.5], quantiles=[0.5, 0.9]),
        case(
            "ALL_TIED",
            [False, True, False, False, True, False, False],
            [0.3] * 7,
            thresholds=[0.3, 0.31],
            quantiles=[0.5],
        ),
        case("TINY_RIGHT", [False, True], [0.1, 0.9], thresholds=[0.5], quantiles=[0.25]),
        case("TINY_WRONG", [False, True], [0.9, 0.1], thresholds=[0.5], quantiles=[0.75]),
        case("TINY_TIED", [True, False], [0.5, 0.5], thresholds=[0.5], quantiles=[0.5]),
        # F1 is 2/3 at both 0.4 and 0.1: best_f1 must report the higher threshold.
        case("F1_TIE", [True, False, False, True], [0.4, 0.3, 0.2, 0.1], thresholds=[0.25], quantiles=[0.5]),
        # -0.0 == 0.0, so these two scores are one tie.
        case("SIGNED_ZERO", [True, False, True], [0.0, -0.0, 1.0], thresholds=[0.0], quantiles=[0.5]),
    ]
    # rustfmt::skip keeps the block byte-identical to this script's output, so
    # regenerating it gives a clean diff.
    print(
        f"// Generated by scripts/metrics_fixtures.py (scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}); regenerate, do not edit."
    )
    print("#[rustfmt::skip]")
    print("mod fixtures {")
    print("    use super::{Case, Confusion};")
    for c in cases:
        print()
        print("\n".join("    " + line for line in c.splitlines()))
    print("}")


if __name__ == "__main__":
    main()
