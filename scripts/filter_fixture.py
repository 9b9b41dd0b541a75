#!/usr/bin/env python3
"""Generates the scipy reference numbers pasted into tests/mitdb.rs.

The MIT-BIH loader reproduces biosppy 0.6.1 `ecg.ecg(fs=360)` filtering:
`scipy.signal.firwin(109, [3, 45], pass_zero=False, fs=360)` (order int(0.3*fs)=108,
made odd) applied with `scipy.signal.filtfilt(b, [1], x)`. This script prints
(1) selected taps, (2) filtfilt of a synthetic signal that Rust can regenerate
exactly, and (3) filtfilt of record 114's MLII lead (channel 1) from the shipped
mini set, at a few sample indices. Run from the crate root:

    python3 scripts/filter_fixture.py

Needs numpy and scipy (checked with numpy 2.4.6, scipy 1.17.1). The tests do not
need Python: they carry the printed numbers.
"""
from pathlib import Path

import numpy as np
import scipy
from scipy import signal

FS = 360.0
NUMTAPS = int(0.3 * FS) | 1  # 108 -> 109, as biosppy makes the order odd
TAP_INDICES = [0, 1, 27, 53, 54, 80, 108]
SYNTH_LEN = 1000
SYNTH_INDICES = [0, 1, 2, 163, 326, 327, 499, 500, 501, 672, 998, 999]
REC_INDICES = [0, 1, 140, 1000, 325_000, 649_859, 649_999]


def synthetic(n):
    """Mirror of `synthetic()` in tests/mitdb.rs: three tones, a ramp and a step."""
    i = np.arange(n, dtype=np.float64)
    t = i / FS
    tau = 2.0 * np.pi
    return (np.sin(tau * 1.3 * t) + 0.5 * np.sin(tau * 17.0 * t)
            + 0.25 * np.sin(tau * 70.0 * t) + 0.002 * i + (i >= 500))


def read_212(path, n_signals):
    """Format 212: two 12-bit two's-complement samples in 3 bytes, frames interleaved."""
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    s0 = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    s1 = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    stream = np.empty(2 * len(raw), dtype=np.int32)
    stream[0::2], stream[1::2] = s0, s1
    stream[stream >= 2048] -= 4096
    return stream.reshape(-1, n_signals).T


def rust_array(name, values):
    body = ", ".join(repr(float(v)) for v in values)
    return f"const {name}: [f64; {len(values)}] = [{body}];"


def main():
    taps = signal.firwin(NUMTAPS, [3.0, 45.0], pass_zero=False, fs=FS)
    # biosppy passes cutoffs normalised to Nyquist instead of fs=; same taps.
    assert np.array_equal(taps, signal.firwin(NUMTAPS, [3 / 180, 45 / 180], pass_zero=False))
    y = signal.filtfilt(taps, [1.0], synthetic(SYNTH_LEN))

    root = Path(__file__).resolve().parent.parent
    adu = read_212(root / "data/mitdb-mini/114.dat", 2)[1]  # 114: MLII is channel 1
    rec = signal.filtfilt(taps, [1.0], (adu - 1024) / 200.0)

    print(f"// scipy {scipy.__version__}, numpy {np.__version__}; scripts/filter_fixture.py")
    print(f"const TAP_INDICES: [usize; {len(TAP_INDICES)}] = {TAP_INDICES};")
    print(rust_array("TAPS", taps[TAP_INDICES]))
    print(f"const TAPS_SUM: f64 = {float(taps.sum())!r};")
    print(f"const SYNTH_INDICES: [usize; {len(SYNTH_INDICES)}] = {SYNTH_INDICES};")
    print(rust_array("SYNTH_FILTERED", y[SYNTH_INDICES]))
    print(f"const REC_INDICES: [usize; {len(REC_INDICES)}] = {REC_INDICES};")
    print(rust_array("REC_114_FILTERED", rec[REC_INDICES]))


if __name__ == "__main__":
    main()
