#!/usr/bin/env python3
"""Summarises runs of the official BeatGAN code beside anolab's (issue #18).

Reads the official code's `--istest` logs (the `ap:`, `auc:` and `best f1:` lines its
`main.py` prints) and, optionally, anolab runs from a store (test AUC-ROC and AP of
the runs a SQL filter selects, from one store or several), and prints each side's runs, mean ± sample std, the
Student-t 95% interval and the two-sided Mann-Whitney U test between the two sides
(unpaired: the official code has no seed, so its runs are independent draws).

    python3 scripts/official_runs.py --official /tmp/official/seeds/out*.test.log \\
        --anolab-db results/repro/rpeak.sqlite \\
        --anolab-where "r.model = 'beatgan' AND r.fold = 0 AND p.value_num = 1"

(`p` is the run's `train.epochs` parameter row.) Needs numpy and scipy.
"""
import argparse
import re
import sqlite3

import numpy as np
from scipy import stats


def official(paths):
    rows = []
    for path in paths:
        text = open(path).read()
        found = {k: re.search(rf"^{k}:([0-9.eE+-]+)", text, re.M) for k in ("ap", "auc")}
        f1 = re.search(r"best f1:([0-9.eE+-]+)", text)
        if found["auc"] is None:
            print(f"{path}: no result yet")
            continue
        rows.append((path, float(found["auc"].group(1)), float(found["ap"].group(1)),
                     float(f1.group(1)) if f1 else float("nan")))
    return rows


def anolab(dbs, where):
    return [row for db in dbs for row in anolab_store(db, where)]


def anolab_store(db, where):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    query = f"""
        SELECT r.key, r.seed,
               (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test'
                AND m.name = 'auc_roc'),
               (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test'
                AND m.name = 'auc_pr'),
               (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test'
                AND m.name = 'best_f1')
        FROM runs r JOIN params p ON p.run_id = r.id AND p.name = 'train.epochs'
        WHERE r.status = 'done' AND {where} ORDER BY r.seed, r.fold"""
    return [(f"{key} seed {seed}", auc, ap, f1) for key, seed, auc, ap, f1 in con.execute(query)]


def summary(name, rows):
    print(f"== {name}")
    for label, auc, ap, f1 in rows:
        print(f"  {label}: AUC {auc:.4f}  AP {ap:.4f}  best F1 {f1:.4f}")
    aucs = np.array([r[1] for r in rows])
    aps = np.array([r[2] for r in rows])
    n = len(aucs)
    if n >= 2:
        half = stats.t.ppf(0.975, n - 1) * aucs.std(ddof=1) / np.sqrt(n)
        print(f"  AUC {aucs.mean():.3f} ± {aucs.std(ddof=1):.3f} (n = {n}), "
              f"t-95% [{aucs.mean() - half:.3f}, {aucs.mean() + half:.3f}]; "
              f"AP {aps.mean():.3f} ± {aps.std(ddof=1):.3f}")
    return aucs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", nargs="*", default=[])
    parser.add_argument("--anolab-db", nargs="*", default=[])
    parser.add_argument("--anolab-where", default="1")
    args = parser.parse_args()
    a = summary("official code", official(args.official)) if args.official else None
    b = summary("anolab", anolab(args.anolab_db, args.anolab_where)) if args.anolab_db else None
    if a is not None and b is not None and len(a) and len(b):
        u = stats.mannwhitneyu(b, a, alternative="two-sided")
        print(f"anolab vs official: mean difference {b.mean() - a.mean():+.3f}, "
              f"Mann-Whitney U = {u.statistic:.1f}, p = {u.pvalue:.3f} "
              f"(n = {len(b)} and {len(a)})")


if __name__ == "__main__":
    main()
