#!/usr/bin/env python3
"""Writes tests/fixtures/tadgan_scores.json: the per-step anomaly scores of Orion 0.7.1's
TadGAN pipeline (`orion.primitives.tadgan.score_anomalies`: per-step median
reconstruction, point / area / DTW error, per-step KDE mode of the critic, smoothing,
z-scores, `mult` / `sum` combination) on small synthetic windows, and a few DTW distances
of `pyts.metrics.dtw` (its default: squared cost, square root of the path sum). The Rust
tests read the numbers; they never run Python.

Orion's package imports TensorFlow and mlblocks at the top, so this script loads
`timeseries_errors.py` by path and executes only the two scoring functions of
`tadgan.py` (read from the installed file, not copied). SciPy >= 1.14 renamed
`integrate.trapz` to `trapezoid`; the old name is restored for Orion's area error.

    pip install numpy scipy pandas pyts && pip install --no-deps orion-ml==0.7.1
    python3 scripts/tadgan_score_fixtures.py
"""
import ast
import importlib.metadata
import importlib.util
import json
import math
import pathlib

import numpy as np
import pandas as pd
from pyts.metrics import dtw
from scipy import integrate, stats

if not hasattr(integrate, "trapz"):
    integrate.trapz = integrate.trapezoid

root = pathlib.Path(importlib.util.find_spec("orion").submodule_search_locations[0])
spec = importlib.util.spec_from_file_location(
    "timeseries_errors", root / "primitives" / "timeseries_errors.py")
errors_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(errors_module)

tree = ast.parse((root / "primitives" / "tadgan.py").read_text())
wanted = [n for n in tree.body
          if isinstance(n, ast.FunctionDef) and n.name in ("_compute_critic_score", "score_anomalies")]
namespace = {"np": np, "pd": pd, "stats": stats, "math": math,
             "ndarray": np.ndarray, "reconstruction_errors": errors_module.reconstruction_errors}
exec(compile(ast.Module(body=wanted, type_ignores=[]), "tadgan.py", "exec"), namespace)
score_anomalies = namespace["score_anomalies"]

rng = np.random.default_rng(11)


def f32(v):
    """The shortest decimal that reads back as the same f32."""
    return float(np.format_float_positional(np.float32(v), unique=True))

cases = []


def add(name, n_windows, length, rec, comb, lam, constant_critic=False):
    n_steps = n_windows + length - 1
    t = np.arange(n_steps)
    series = np.sin(t / 7.0) + 0.1 * rng.standard_normal(n_steps)
    anomaly = slice(n_steps // 2, n_steps // 2 + 15)
    series[anomaly] += 1.5
    clean = np.sin(t / 7.0)
    y_hat = np.stack([clean[i:i + length] for i in range(n_windows)])
    y_hat = y_hat + 0.05 * rng.standard_normal(y_hat.shape)
    # anolab's windows hold f32: the inputs are made exactly representable in f32.
    series = series.astype(np.float32).astype(np.float64)
    y = np.stack([series[i:i + length] for i in range(n_windows)])
    y_hat = y_hat.astype(np.float32).astype(np.float64)
    critic = rng.standard_normal(n_windows)
    critic[n_windows // 2 - 10:n_windows // 2 + 5] += 3.0
    if constant_critic:
        # A run of equal critic values longer than a window, so that some steps see one
        # value only (Orion's median fallback when the KDE is singular). Not rounded
        # values: their densities tie, and scipy's rounding then picks the mode.
        critic[20:20 + length + 5] = 0.7
    scores, _, _, _ = score_anomalies(
        y[:, :, None], y_hat[:, :, None], critic[:, None], np.arange(n_windows),
        rec_error_type=rec, comb=comb, lambda_rec=lam)
    cases.append({
        "name": name, "rec": rec, "comb": comb, "lambda_rec": lam,
        "n_windows": n_windows, "length": length,
        # The windows are y[i] = series[i .. i + length].
        "series": [f32(v) for v in series], "y_hat": [f32(v) for v in y_hat.ravel()],
        "critic": critic.tolist(), "scores": [float(v) for v in scores],
    })


add("point_mult", 300, 8, "point", "mult", 0.5)
add("area_sum", 420, 10, "area", "sum", 0.3)
add("dtw_mult", 250, 12, "dtw", "mult", 0.5)
add("dtw_sum_constant_critic", 220, 8, "dtw", "sum", 0.5, constant_critic=True)

pairs = []
for n in (1, 5, 11):
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    pairs.append({"a": a.tolist(), "b": b.tolist(), "dtw": float(dtw(a, b))})

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tadgan_scores.json"
out.write_text(json.dumps({
    "generator": "scripts/tadgan_score_fixtures.py",
    "orion": importlib.metadata.version("orion-ml"),
    "pyts": importlib.metadata.version("pyts"),
    "scipy": importlib.metadata.version("scipy"),
    "pandas": importlib.metadata.version("pandas"),
    "cases": cases,
    "dtw": pairs,
}) + "\n")
print(f"wrote {out}")
