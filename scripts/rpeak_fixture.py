#!/usr/bin/env python3
"""Generates tests/fixtures/rpeaks.json (biosppy 0.6.1) or rpeaks_biosppy2.json (biosppy
2.x): biosppy's R peaks on the mini records, with whichever biosppy is importable.

BeatGAN's official preprocessing (hi-bingo/BeatGAN `experiments/ecg/preprocess.py`)
runs `biosppy.signals.ecg.ecg(signal=mlii, sampling_rate=360.)` per record and keeps a
normal beat (N, L, R) only when the R peak it returns nearest to the beat's annotation
lies within 10 samples. `src/data/rpeaks.rs` reimplements that detector (the 3-45 Hz
FIR band-pass, Hamilton's segmenter, `correct_rpeaks` with tol 0.05 s and the template
extraction's edge cut); this script writes what biosppy itself returns, so that the
Rust tests compare against it without Python:

- per mini record (114, 208, 222): the R peaks (sample indices) and how many of its
  annotated beats of each official class the official rule keeps;
- per mini record, the band-passed MLII `ecg.ecg` returns (`filtered`, the signal the
  official beats are cut from) at a few samples;
- with `--full DIR` (the 44-record mitdb copy, e.g. ../shared/data/mitdb) the kept
  counts of all 44 records too, to compare with the official counts in the README.

biosppy 2.0 changed `ecg.ecg`'s band-pass (3-45 Hz, order 0.3 fs, before; 0.67-45 Hz,
order 1.5 fs, then the mean subtracted, from 2.0): anolab's `dataset.filter`
`biosppy_0_6` and `biosppy_2`. Run from the crate root with the biosppy wanted
importable (its wheel unpacked on PYTHONPATH is enough; 2.x also needs bidict,
shortuuid, peakutils, h5py, joblib, PyWavelets and opencv-python-headless; numpy and
scipy checked at 2.4.6 and 1.17.1):

    PYTHONPATH=/tmp/bio python3 scripts/rpeak_fixture.py [--full ../shared/data/mitdb]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import scipy.signal

# biosppy 0.6.1 looks its windows up in scipy.signal, where scipy 1.13 removed them.
for _name in ["boxcar", "triang", "blackman", "hamming", "hann", "bartlett", "flattop",
              "parzen", "bohman", "blackmanharris", "nuttall", "barthann", "kaiser",
              "gaussian", "general_gaussian", "chebwin", "cosine", "exponential", "tukey"]:
    if not hasattr(scipy.signal, _name):
        setattr(scipy.signal, _name, getattr(scipy.signal.windows, _name))
from importlib.metadata import version

from biosppy.signals import ecg

BIOSPPY = version("biosppy")
FIXTURE = "rpeaks.json" if int(BIOSPPY.split(".")[0]) < 2 else "rpeaks_biosppy2.json"
FILTERED_AT = [0, 1, 140, 1000, 325_000, 649_999]

FS = 360.0
LEFT, RIGHT = 140, 180
N = {"N", "L", "R"}
S = {"a", "J", "A", "S", "j", "e"}
V = {"V", "E"}
F = {"F"}
Q = {"/", "f", "Q"}
CLASSES = {**{t: "N" for t in N}, **{t: "S" for t in S}, **{t: "V" for t in V},
           **{t: "F" for t in F}, **{t: "Q" for t in Q}}
RECORDS_44 = [100, 101, 103, 105, 106, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118,
              119, 121, 122, 123, 124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212,
              213, 214, 215, 219, 220, 221, 222, 223, 228, 230, 231, 232, 233, 234]


def read_record(directory, record):
    """MLII in mV (record 114 stores it second), from the header's gain and baseline."""
    lines = (directory / f"{record}.hea").read_text().splitlines()
    n_signals = int(lines[0].split()[1])
    specs = [line.split() for line in lines[1:1 + n_signals]]
    raw = np.fromfile(directory / f"{record}.dat", dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    s0 = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    s1 = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    stream = np.empty(2 * len(raw), dtype=np.int32)
    stream[0::2], stream[1::2] = s0, s1
    stream[stream >= 2048] -= 4096
    signals = stream.reshape(-1, n_signals).T
    lead = next(i for i, s in enumerate(specs) if s[-1] == "MLII")
    gain_field = specs[lead][2]
    gain = float(gain_field.split("(")[0].split("/")[0])
    baseline = int(gain_field.split("(")[1].split(")")[0]) if "(" in gain_field else int(specs[lead][4])
    return (signals[lead] - baseline) / gain


def annotations(directory, record):
    """(sample, type) of every annotation, from the rdann text (mini) or the .atr file."""
    text = directory / "annotations_txt" / f"{record}annotations.txt"
    if not text.exists():
        text = directory / f"{record}annotations.txt"
    out = []
    for line in text.read_text().splitlines()[1:]:
        fields = line.split()
        out.append((int(fields[1]), fields[2]))
    return out


def kept_counts(mlii, rpeaks, anns):
    counts = {c: 0 for c in "NSVFQ"}
    for sample, kind in anns:
        cls = CLASSES.get(kind)
        if cls is None or sample - LEFT < 0 or sample + RIGHT >= len(mlii):
            continue
        if cls == "N":
            nearest = rpeaks[np.argmin(np.abs(rpeaks - sample))]
            if abs(nearest - sample) >= 10:
                continue
        counts[cls] += 1
    return counts


def record_fixture(directory, record):
    mlii = read_record(directory, record)
    out = ecg.ecg(signal=mlii, sampling_rate=FS, show=False)
    rpeaks = np.asarray(out["rpeaks"])
    filtered = {str(i): float(out["filtered"][i]) for i in FILTERED_AT}
    return rpeaks, kept_counts(mlii, rpeaks, annotations(directory, record)), filtered


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", type=Path, help="the 44-record mitdb folder")
    args = parser.parse_args()
    fixture = {"biosppy": BIOSPPY, "records": {}}
    for record in [114, 208, 222]:
        rpeaks, counts, filtered = record_fixture(Path("data/mitdb-mini"), record)
        fixture["records"][str(record)] = {"rpeaks": rpeaks.tolist(), "kept": counts,
                                           "filtered": filtered}
        print(record, len(rpeaks), counts)
    if args.full:
        total = {c: 0 for c in "NSVFQ"}
        per_record = {}
        for record in RECORDS_44:
            _, counts, _ = record_fixture(args.full, record)
            per_record[str(record)] = counts
            for c in total:
                total[c] += counts[c]
            print(record, counts, flush=True)
        fixture["full_44"] = {"per_record": per_record, "total": total}
        print("total", total)
    Path("tests/fixtures", FIXTURE).write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
