#!/usr/bin/env python3
"""Writes tests/fixtures/affiliation.json: affiliation precision/recall (Huet et al., KDD
2022) as tsb-ad 1.5 computes them (`pr_from_events` on `convert_vector_to_events`, Trange
(0, n)), and its threshold-swept F1 (`basic_metricor.metric_Affiliation`), on small
inputs with the edge cases: one anomaly, anomalies at both ends, predictions far from
every anomaly. The Rust tests read the numbers; they never run Python.

    pip install numpy scikit-learn && pip install --no-deps TSB-AD==1.5
    python3 scripts/affiliation_fixtures.py
"""
import importlib.metadata
import json

import numpy as np
from TSB_AD.evaluation.affiliation.generics import convert_vector_to_events
from TSB_AD.evaluation.affiliation.metrics import pr_from_events
from TSB_AD.evaluation.basic_metrics import basic_metricor

rng = np.random.default_rng(7)
cases = []


def add(name, labels, predicted, scores=None):
    events_pred = convert_vector_to_events(predicted)
    events_gt = convert_vector_to_events(labels)
    r = pr_from_events(events_pred, events_gt, (0, len(labels)))
    case = {"name": name, "labels": [int(v) for v in labels],
            "predicted": [int(v) for v in predicted],
            "precision": float(r["Affiliation_Precision"]),
            "recall": float(r["Affiliation_Recall"])}
    if scores is not None:
        case["scores"] = [float(v) for v in scores]
        case["best_f1"] = float(basic_metricor().metric_Affiliation(np.array(labels), np.array(scores)))
    cases.append(case)


n = 600
labels = np.zeros(n, dtype=int)
labels[0:6] = 1
labels[200:230] = 1
labels[236:240] = 1
labels[595:600] = 1
scores = rng.normal(size=n) + 1.5 * labels + 0.5 * np.roll(labels, 8)
scores[300] = 4.0
add("several anomalies, both ends", labels, (scores > 1.2).astype(int), scores)

one = np.zeros(300, dtype=int)
one[140:160] = 1
one_scores = rng.normal(size=300) + 2.0 * one
add("one anomaly", one, (one_scores > 1.0).astype(int), one_scores)

far = np.zeros(200, dtype=int)
far[20:30] = 1
far_pred = np.zeros(200, dtype=int)
far_pred[150:160] = 1
far_pred[170:171] = 1
add("predictions far from the anomaly", far, far_pred)

exact = np.zeros(100, dtype=int)
exact[40:50] = 1
add("exact prediction", exact, exact.copy())

every = np.zeros(100, dtype=int)
every[10:12] = 1
every[90:100] = 1
add("everything predicted", every, np.ones(100, dtype=int))

out = {"tsb_ad": importlib.metadata.version("TSB-AD"), "cases": cases}
with open("tests/fixtures/affiliation.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote tests/fixtures/affiliation.json:", [(c["name"], round(c["precision"], 6), round(c["recall"], 6), c.get("best_f1")) for c in cases])
