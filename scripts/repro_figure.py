#!/usr/bin/env python3
"""Draws anolab's (and the official BeatGAN code's) per-epoch curves on one figure (#18).

anolab's side: the `epochs` rows of one run in an anolab store (val_auc_roc, err_d,
err_g). The official side: the log of `python -u main.py ...` from hi-bingo/BeatGAN, with
its validation lines `[k] auc:0.8584 ...` and the `EPOCH_LOSSES k err_d ... err_g ...`
lines a one-line local print in its `train_epoch` adds (README "BeatGAN reproduction").

    python3 scripts/repro_figure.py --db results/repro/anolab.sqlite --run KEY \
        [--run KEY2 ...] [--official /tmp/official/train5.log] --out results/repro/side_by_side.png

Needs matplotlib.
"""
import argparse
import re
import sqlite3

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def anolab_curves(db, key):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT e.epoch, e.name, e.value FROM epochs e JOIN runs r ON r.id = e.run_id "
        "WHERE r.key LIKE ? ORDER BY e.epoch", (key + "%",)).fetchall()
    if not rows:
        raise SystemExit(f"no epochs for a run {key}* in {db}")
    curves = {}
    for epoch, name, value in rows:
        curves.setdefault(name, {})[epoch + 1] = value
    return curves


def official_curves(log):
    curves = {"val_auc_roc": {}, "err_d": {}, "err_g": {}}
    for line in open(log):
        m = re.match(r"\[(\d+)\] auc:([0-9.]+)", line)
        if m:
            curves["val_auc_roc"][int(m.group(1))] = float(m.group(2))
        m = re.match(r"EPOCH_LOSSES (\d+) err_d ([0-9.e-]+) err_g ([0-9.e-]+)", line)
        if m:
            curves["err_d"][int(m.group(1))] = float(m.group(2))
            curves["err_g"][int(m.group(1))] = float(m.group(3))
    return curves


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True)
    p.add_argument("--run", required=True, action="append",
                   help="an anolab run's key (a prefix); repeat for several runs (seeds)")
    p.add_argument("--official", help="the official code's training log (optional)")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    labelled = []
    for key in args.run:
        row = con.execute("SELECT seed, fold, protocol FROM runs WHERE key LIKE ?",
                          (key + "%",)).fetchone()
        label = f"anolab, seed {row[0]}, fold {row[1]}, {row[2]}" if row else f"anolab {key}"
        labelled.append((anolab_curves(args.db, key), label, "o-"))
    if args.official:
        labelled.append((official_curves(args.official), "official code (fold 0, paper)", "s--"))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, name, title in zip(axes, ["val_auc_roc", "err_d", "err_g"],
                               ["validation AUC-ROC", "err_d (epoch mean)", "err_g (epoch mean)"]):
        for curves, label, style in labelled:
            points = sorted(curves.get(name, {}).items())
            if points:
                ax.plot([e for e, _ in points], [v for _, v in points], style, label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
