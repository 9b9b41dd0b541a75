#!/usr/bin/env python3
"""Write tests/fixtures/baselines.json: inputs and reference outputs for the classical
baselines and the statistics, computed with scikit-learn, stumpy, SciPy and tsb-ad.

Usage: pip install numpy scipy scikit-learn stumpy; pip install --no-deps TSB-AD==1.5
       python3 scripts/baseline_fixtures.py
(tsb-ad's evaluation code needs only numpy, scikit-learn and numba, which stumpy brings;
--no-deps keeps its heavy model dependencies out.)
The Rust tests (tests/it/classical.rs) read the JSON; they never run Python.
"""

import json
import numpy as np
import scipy
import sklearn
import stumpy
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

rng = np.random.default_rng(20261201)
out = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                    "sklearn": sklearn.__version__, "stumpy": stumpy.__version__}}

# Windows: 60 training and 20 test rows of 12 values (float32, as anolab holds them).
basis = rng.normal(size=(3, 12))
train = (rng.normal(size=(60, 3)) @ basis + 0.1 * rng.normal(size=(60, 12))).astype(np.float32)
test = (rng.normal(size=(20, 3)) @ basis + 0.1 * rng.normal(size=(20, 12))).astype(np.float32)
test[15:] += rng.normal(size=(5, 12)).astype(np.float32)  # five off the subspace
out["train"] = train.astype(float).tolist()
out["test"] = test.astype(float).tolist()

def pca_mse(pca):
    rec = pca.inverse_transform(pca.transform(test.astype(np.float64)))
    return ((test.astype(np.float64) - rec) ** 2).mean(axis=1).tolist()

pca3 = PCA(n_components=3, svd_solver="full").fit(train.astype(np.float64))
out["pca_3"] = pca_mse(pca3)
pca90 = PCA(n_components=0.9, svd_solver="full").fit(train.astype(np.float64))
out["pca_variance_0_9"] = {"n_components": int(pca90.n_components_), "mse": pca_mse(pca90)}

nn = NearestNeighbors(n_neighbors=5).fit(train.astype(np.float64))
dist, _ = nn.kneighbors(test.astype(np.float64))
out["knn_5_largest"] = dist[:, -1].tolist()
out["knn_5_mean"] = dist.mean(axis=1).tolist()

# Isolation Forest: 8 dims, 400 normal training points; test 200 normal + 40 shifted.
normal = rng.normal(size=(400, 8)).astype(np.float32)
test_normal = rng.normal(size=(200, 8)).astype(np.float32)
test_anomalous = (rng.normal(size=(40, 8)) + 0.9).astype(np.float32)
iso_test = np.vstack([test_normal, test_anomalous])
iso_labels = np.r_[np.zeros(200), np.ones(40)]
aucs = []
for seed in range(5):
    f = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(normal)
    aucs.append(roc_auc_score(iso_labels, -f.score_samples(iso_test)))
out["iforest"] = {"train": normal.astype(float).tolist(), "test": iso_test.astype(float).tolist(),
                  "labels": iso_labels.tolist(), "auc_per_seed": aucs,
                  "scores_seed0": (-IsolationForest(n_estimators=100, max_samples=256, random_state=0)
                                   .fit(normal).score_samples(iso_test)).tolist()}

# Matrix profile: a noisy sine with one distorted period; m = 16.
t = np.arange(300)
series = np.sin(2 * np.pi * t / 25) + 0.05 * rng.normal(size=300)
series[150:160] += 0.8
m = 16
out["matrix_profile"] = {"series": series.tolist(), "m": m,
                         "profile": stumpy.stump(series, m)[:, 0].astype(float).tolist()}

# Wilcoxon signed-rank, one-sided (x greater than y), SciPy's default method.
cases = []
for n, shift, ties in [(6, 1.5, False), (10, 0.8, False), (20, 0.5, False), (12, 0.6, True)]:
    x = rng.normal(size=n) + shift
    y = rng.normal(size=n)
    if ties:
        x = np.round(x, 1)
        y = np.round(y, 1)
        x[0] = y[0] + 0.3
        x[1] = y[1] - 0.3  # two tied |differences| of opposite sign
    res = stats.wilcoxon(x, y, alternative="greater")
    cases.append({"x": x.tolist(), "y": y.tolist(), "statistic": float(res.statistic),
                  "p_value": float(res.pvalue)})
out["wilcoxon_greater"] = cases

# Friedman over blocks (rows) x treatments (columns), with a tie in one block.
table = np.round(rng.uniform(0.5, 0.95, size=(8, 4)), 3)
table[2, 1] = table[2, 3]
res = stats.friedmanchisquare(*[table[:, j] for j in range(4)])
out["friedman"] = {"table": table.tolist(), "statistic": float(res.statistic),
                   "p_value": float(res.pvalue)}

# Student t 95% intervals of a mean.
intervals = []
for values in [[0.81, 0.84, 0.79], [0.9, 0.88, 0.93, 0.91, 0.87]]:
    v = np.array(values)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    intervals.append({"values": values, "lo": float(lo), "hi": float(hi)})
out["t_interval"] = intervals

# Nemenyi's q_0.05 (Demsar 2006): the studentized range quantile, infinite df, over sqrt 2.
out["nemenyi_q_05"] = {str(k): float(stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2))
                       for k in range(2, 31)}

# VUS-ROC / VUS-PR as tsb-ad's get_metrics computes them (generate_curve, version "opt").
from TSB_AD.evaluation.basic_metrics import generate_curve
import importlib.metadata
out["versions"]["tsb_ad"] = importlib.metadata.version("TSB-AD")
vus_cases = []
n = 600
labels = np.zeros(n, dtype=int)
labels[0:6] = 1          # at the start
labels[200:230] = 1
labels[236:240] = 1      # close to the previous one: merged when widened
labels[595:600] = 1      # at the end
scores = rng.normal(size=n) + 1.5 * labels + 0.5 * np.roll(labels, 8)
scores[300] = 4.0        # a false alarm
def last_slice(label, score, window):
    """The range AUC-ROC and AP of tsb-ad's surfaces at the widest buffer."""
    Y, _, X, _, W, _, _, _ = generate_curve(label, score, window)
    tpr = X.reshape(window + 1, -1)[-1]
    fpr = Y.reshape(window + 1, -1)[-1]
    prec = W.reshape(window + 1, -1)[-1]
    roc = float(np.dot(fpr[1:] - fpr[:-1], (tpr[1:] + tpr[:-1]) / 2))
    ap = float(np.dot(tpr[1:-1] - tpr[:-2], prec[1:]))
    return roc, ap

for window in [0, 10, 37]:
    _, _, _, _, _, _, roc, pr = generate_curve(labels, scores, window)
    r_roc, r_pr = last_slice(labels, scores, window)
    vus_cases.append({"labels": labels.tolist(), "scores": scores.tolist(), "window": window,
                      "vus_roc": float(roc), "vus_pr": float(pr),
                      "range_auc_roc": r_roc, "range_auc_pr": r_pr})
short = np.zeros(120, dtype=int)
short[60] = 1            # one anomalous step, fewer steps than thresholds
short_scores = np.round(rng.normal(size=120), 1)  # with ties
short_scores[60] += 1.0
_, _, _, _, _, _, roc, pr = generate_curve(short, short_scores, 20)
r_roc, r_pr = last_slice(short, short_scores, 20)
vus_cases.append({"labels": short.tolist(), "scores": short_scores.tolist(), "window": 20,
                  "vus_roc": float(roc), "vus_pr": float(pr),
                  "range_auc_roc": r_roc, "range_auc_pr": r_pr})
out["vus"] = vus_cases

# Paired t-test, two-sided (a distilled student against the one trained alone, seed by
# seed): SciPy's ttest_rel.
t_cases = []
for n, shift in [(3, 0.02), (5, -0.01), (8, 0.005)]:
    y = rng.uniform(0.6, 0.9, size=n)
    x = y + shift + 0.01 * rng.normal(size=n)
    res = stats.ttest_rel(x, y)
    t_cases.append({"x": x.tolist(), "y": y.tolist(), "statistic": float(res.statistic),
                    "p_value": float(res.pvalue), "df": int(res.df)})
out["paired_t"] = t_cases

with open("tests/fixtures/baselines.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote tests/fixtures/baselines.json", out["versions"])
