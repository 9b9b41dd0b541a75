//! R-peak detection as biosppy 0.6.1's `ecg.ecg` does it, for BeatGAN's official
//! R-peak check (its preprocessing keeps a normal beat only when a detected R peak lies
//! within 10 samples of the beat's annotation; see [`super::mitdb`]).
//!
//! On the 3–45 Hz band-passed lead that the loader already computes: Hamilton's
//! segmenter (biosppy's `hamilton_segmenter`: 4th-order Butterworth low-pass 25 Hz and
//! high-pass 3 Hz, each zero-phase; the smoothed absolute derivative; adaptive QRS and
//! noise thresholds; then each detection moved to the larger of its window's positive
//! or negative peak), `correct_rpeaks` (to the maximum within ±0.05 s) and the
//! template extraction's edge cut (peaks with 0.2 s before and 0.4 s after them). The
//! quirks of that code are kept on purpose (noted where they are), since what is
//! reproduced is the official beat set, not Hamilton's paper; `tests/it/mitdb.rs` compares
//! the peaks with biosppy's own on the mini records (`scripts/rpeak_fixture.py`).
//!
//! It owns signal processing only; which beats a dataset keeps is the loader's.

use num_complex::Complex64;

/// The R peaks (sample indices, ascending) that biosppy 0.6.1 `ecg.ecg` returns for a
/// signal already band-passed as `ecg.ecg` band-passes it (`filtered`).
///
/// # Panics
/// If `fs` is 50 Hz or less (the segmenter's 25 Hz low-pass needs a higher Nyquist;
/// scipy refuses it too).
pub fn biosppy_rpeaks(filtered: &[f64], fs: f64) -> Vec<usize> {
    assert!(fs > 50.0, "the R-peak detector needs fs > 50 Hz, got {fs}");
    let segmented = hamilton_segmenter(filtered, fs);
    let corrected = correct_rpeaks(filtered, &segmented, (0.05 * fs) as usize);
    // `extract_heartbeats(before=0.2, after=0.4)` keeps the peaks with a full template.
    let (before, after) = ((0.2 * fs) as usize, (0.4 * fs) as usize);
    corrected
        .into_iter()
        .filter(|&r| r >= before)
        .take_while(|&r| r + after <= filtered.len())
        .collect()
}

/// biosppy's `correct_rpeaks`: each peak moved to the maximum of `[r − tol, r + tol)`;
/// peaks too near the start are dropped, and the first too near the end ends the list.
fn correct_rpeaks(signal: &[f64], rpeaks: &[usize], tol: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(rpeaks.len());
    for &r in rpeaks {
        if r < tol {
            continue;
        }
        if r + tol > signal.len() {
            break;
        }
        out.push(r - tol + argmax(&signal[r - tol..r + tol]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Index of the first largest value (numpy's `argmax`).
fn argmax(x: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}

/// Median as numpy computes it (the mean of the middle two of an even count).
fn median(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// biosppy's `find_extrema`: indices where the sign of the first difference falls
/// (`maxima`) or rises; a plateau's ends both count, as there.
fn extrema(x: &[f64], maxima: bool) -> Vec<usize> {
    let signs: Vec<f64> = x.windows(2).map(|w| sign(w[1] - w[0])).collect();
    signs
        .windows(2)
        .enumerate()
        .filter(|(_, s)| {
            let change = s[1] - s[0];
            if maxima {
                change < 0.0
            } else {
                change > 0.0
            }
        })
        .map(|(k, _)| k + 1)
        .collect()
}

/// numpy's `sign` (0 at 0).
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// A ring of the last `len` values, written in turn (the segmenter's buffers).
struct Ring {
    values: Vec<f64>,
    next: usize,
}

impl Ring {
    fn new(values: Vec<f64>) -> Self {
        Ring { values, next: 0 }
    }
    fn push(&mut self, v: f64) {
        self.values[self.next] = v;
        self.next = (self.next + 1) % self.values.len();
    }
    fn median(&self) -> f64 {
        median(&self.values)
    }
}

/// The window `[centre − half, centre + half)` as biosppy clips it to a signal of
/// `len` samples: from 0 near the start, up to `end` near the end.
fn around(centre: usize, half: usize, len: usize, end: usize) -> (usize, usize) {
    if centre < half {
        (0, centre + half)
    } else if centre + half >= len {
        (centre - half, end)
    } else {
        (centre - half, centre + half)
    }
}

/// `np.diff(signal[from..to])`'s positive count and maximum: the slope test of the
/// segmenter around a candidate `f` (the window clipped as biosppy clips it).
fn slopes(signal: &[f64], f: usize, half: usize, dx_len: usize) -> (usize, usize, f64) {
    let (from, to) = around(f, half, signal.len(), dx_len);
    let diffs: Vec<f64> = signal[from..to.min(signal.len())]
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    let positive = diffs.iter().filter(|&&d| d > 0.0).count();
    let max = diffs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (positive, diffs.len(), max)
}

/// biosppy 0.6.1's `hamilton_segmenter` on `signal` (the band-passed lead).
fn hamilton_segmenter(signal: &[f64], fs: f64) -> Vec<usize> {
    let length = signal.len();
    let v1s = fs as usize;
    let th_elapsed = (0.36 * fs).ceil() as usize;
    let sm_size = (0.08 * fs) as usize;
    let init_ecg = ((length as f64 / fs) as usize).min(8);
    if init_ecg == 0 || length < 3 {
        return Vec::new();
    }

    let low = butter4(2.0 * 25.0 / fs, Pass::Low);
    let high = butter4(2.0 * 3.0 / fs, Pass::High);
    let filtered = filtfilt(&high, &filtfilt(&low, signal));
    let derivative: Vec<f64> = filtered
        .windows(2)
        .map(|w| ((w[1] - w[0]) * fs).abs())
        .collect();
    let dx = smooth_hamming(&derivative, sm_size);

    let mut qrs = Ring::new(vec![0.0; init_ecg]);
    let mut noise = Ring::new(vec![0.0; init_ecg]);
    let mut rr = Ring::new(vec![fs; init_ecg]);
    // The largest peak (the first of equals) of each of the first seconds seeds the
    // QRS buffer; a second without a peak leaves its 0.
    for (i, slot) in qrs.values.iter_mut().enumerate() {
        let (a, b) = ((i * v1s).min(dx.len()), ((i + 1) * v1s).min(dx.len()));
        let segment = &dx[a..b];
        if let Some(p) = extrema(segment, true).into_iter().reduce(|best, p| {
            if segment[p] > segment[best] {
                p
            } else {
                best
            }
        }) {
            *slot = segment[p];
        }
    }
    let threshold = |noise: &Ring, qrs: &Ring| {
        let anp = noise.median();
        anp + 0.475 * (qrs.median() - anp)
    };
    let mut dt = threshold(&noise, &qrs);

    let lim = (0.2 * fs).ceil() as usize;
    let diff_nr = (0.045 * fs).ceil() as usize;
    let all_peaks = extrema(&dx, true);
    let mut beats: Vec<usize> = Vec::new();
    for (k, &f) in all_peaks.iter().enumerate() {
        // 1: a peak within 200 ms of a larger one is ignored (neither QRS nor noise).
        let lo = all_peaks[..k].partition_point(|&p| p + lim <= f);
        let hi = k + 1 + all_peaks[k + 1..].partition_point(|&p| p < f + lim);
        let larger_near = all_peaks[lo..hi].iter().any(|&p| p != f && dx[p] > dx[f]);
        if larger_near {
            continue;
        }
        if dx[f] > dt {
            // 2: both slopes must be present in the band-passed signal.
            let (positive, n, slope_now) = slopes(signal, f, diff_nr, dx.len());
            if positive == 0 || positive == n {
                continue;
            }
            // 3: within 360 ms of the last beat, a slope under half of its is a T wave.
            if let Some(&prev) = beats.last() {
                if f - prev < th_elapsed {
                    let (_, _, slope_prev) = slopes(signal, prev, diff_nr, dx.len());
                    if slope_now < 0.5 * slope_prev {
                        continue;
                    }
                }
            }
            // Peaks three times the usual QRS are taken for noise bursts and skipped.
            if dx[f] >= 3.0 * qrs.median() {
                continue;
            }
            if let Some(&prev) = beats.last() {
                rr.push((f - prev) as f64);
            }
            beats.push(f);
            qrs.push(dx[f]);
        } else {
            // 5: no beat for 1.5 RR intervals: a peak over half the threshold is a beat.
            let rrm = rr.median();
            match beats.last() {
                Some(&prev) if beats.len() >= 2 => {
                    let elapsed = (f - prev) as f64;
                    if elapsed >= 1.5 * rrm && elapsed > th_elapsed as f64 {
                        if dx[f] > 0.5 * dt {
                            rr.push(elapsed);
                            beats.push(f);
                            qrs.push(dx[f]);
                        }
                    } else {
                        noise.push(dx[f]);
                    }
                }
                _ => noise.push(dx[f]),
            }
        }
        dt = threshold(&noise, &qrs);
    }

    let mut r_peaks: Vec<usize> = beats
        .iter()
        .filter_map(|&b| refine(signal, b, lim, 0.05 * fs))
        .collect();
    r_peaks.sort_unstable();
    r_peaks.dedup();
    r_peaks
}

/// The segmenter's last step for one detection `beat`: within ±`lim` samples, the
/// largest positive peak and the next one more than `adjacency` away, likewise the
/// negative peaks; the R peak is the positive one when its pair differs by more than
/// 0.85 × the negative pair's difference. `None` where biosppy drops the beat (a window
/// with no peak of a needed sign).
fn refine(signal: &[f64], beat: usize, lim: usize, adjacency: f64) -> Option<usize> {
    let (from, to) = around(beat, lim, signal.len(), signal.len());
    let window = &signal[from..to.min(signal.len())];
    // Flat steps count as both kinds of peak, as in biosppy.
    let flat: Vec<usize> = window
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1] - w[0] == 0.0)
        .map(|(i, _)| i)
        .collect();
    let ranked = |maxima: bool| {
        let mut peaks: Vec<(f64, usize)> = extrema(window, maxima)
            .into_iter()
            .chain(flat.iter().copied())
            .map(|i| (window[i], i))
            .collect();
        // Python's sort of (value, index) pairs: descending for the positive peaks.
        peaks.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if maxima {
            peaks.reverse();
        }
        peaks
    };
    let pair = |peaks: &[(f64, usize)]| -> (Option<(f64, usize)>, Option<f64>) {
        let first = peaks.first().copied();
        let second = first.and_then(|(_, i0)| {
            peaks[1..]
                .iter()
                .find(|(_, i)| (i0 as f64 - *i as f64).abs() > adjacency)
        });
        let div = first.zip(second).map(|(a, b)| (a.0 - b.0).abs());
        (first, div)
    };
    let (pos, pos_div) = pair(&ranked(true));
    let (neg, neg_div) = pair(&ranked(false));
    let chosen = match (pos_div, neg_div) {
        (Some(p), Some(n)) => {
            if p > 0.85 * n {
                pos?
            } else {
                neg?
            }
        }
        // biosppy compares the two peaks' window indices here, not their values.
        (None, None) => {
            let (p, n) = (pos?, neg?);
            if p.1 > n.1 {
                p
            } else {
                n
            }
        }
        (None, Some(_)) => pos?,
        (Some(_), None) => neg?,
    };
    Some(chosen.1 + from)
}

/// The hamming-window smoother of biosppy (`smoother(kernel='hamming', mirror=True)`):
/// the window normalised to sum 1, the signal padded with `size` copies of each end
/// value, `np.convolve(..., mode='same')`, the padding cut again.
fn smooth_hamming(x: &[f64], size: usize) -> Vec<f64> {
    let size = if size > x.len() { x.len() - 1 } else { size }.max(1);
    let window: Vec<f64> = if size == 1 {
        vec![1.0]
    } else {
        (0..size)
            .map(|i| {
                0.54 - 0.46 * (2.0 * std::f64::consts::PI * i as f64 / (size - 1) as f64).cos()
            })
            .collect()
    };
    // Normalised once, as biosppy's `w = win / win.sum()` (the same values, not per sample).
    let total: f64 = window.iter().sum();
    let weights: Vec<f64> = window.iter().map(|w| w / total).collect();
    let (first, last) = (x[0], x[x.len() - 1]);
    let padded: Vec<f64> = std::iter::repeat_n(first, size)
        .chain(x.iter().copied())
        .chain(std::iter::repeat_n(last, size))
        .collect();
    // 'same' keeps the full convolution's samples from (size − 1) / 2 on.
    let shift = (size - 1) / 2;
    (size..size + x.len())
        .map(|k| {
            let j = k + shift;
            (0..size).map(|m| weights[m] * padded[j - m]).sum()
        })
        .collect()
}

/// Which side of the cutoff a Butterworth filter passes.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Low,
    High,
}

/// A 4th-order digital Butterworth filter as `scipy.signal.butter(4, wn, btype)`
/// designs it (`wn` a fraction of Nyquist): (b, a), a[0] = 1.
fn butter4(wn: f64, pass: Pass) -> ([f64; 5], [f64; 5]) {
    let high = pass == Pass::High;
    const ORDER: usize = 4;
    // Analogue prototype poles, prewarped cutoff (scipy designs at fs = 2).
    let poles: Vec<Complex64> = (0..ORDER)
        .map(|k| {
            let m = -(ORDER as f64) + 1.0 + 2.0 * k as f64;
            -Complex64::from_polar(1.0, std::f64::consts::PI * m / (2.0 * ORDER as f64))
        })
        .collect();
    let fs2 = 4.0;
    let warped = fs2 * (std::f64::consts::PI * wn / 2.0).tan();
    let (analog_poles, gain, digital_zero): (Vec<Complex64>, f64, f64) = if high {
        // lp2hp: poles wo / p, gain 1 / ∏(−p) over the prototype's (unit) poles; the
        // zeros at s = 0 map to z = 1.
        let k = 1.0
            / poles
                .iter()
                .fold(Complex64::new(1.0, 0.0), |acc, p| acc * -p)
                .re;
        (poles.iter().map(|p| warped / p).collect(), k, 1.0)
    } else {
        let p: Vec<Complex64> = poles.iter().map(|p| p * warped).collect();
        // Zeros at infinity map to z = −1.
        (p, warped.powi(ORDER as i32), -1.0)
    };
    let digital_poles: Vec<Complex64> =
        analog_poles.iter().map(|p| (fs2 + p) / (fs2 - p)).collect();
    let zeros_term = if high { fs2.powi(ORDER as i32) } else { 1.0 };
    let k = gain
        * (zeros_term
            / analog_poles
                .iter()
                .fold(Complex64::new(1.0, 0.0), |acc, p| acc * (fs2 - p)))
        .re;
    let b = poly(&[Complex64::new(digital_zero, 0.0); ORDER]).map(|c| c * k);
    let a = poly(&digital_poles);
    (b, a)
}

/// The real coefficients of ∏ (x − rᵢ), highest power first (numpy's `poly`).
fn poly(roots: &[Complex64]) -> [f64; 5] {
    let mut c = vec![Complex64::new(1.0, 0.0)];
    for r in roots {
        let mut next = vec![Complex64::new(0.0, 0.0); c.len() + 1];
        for (i, ci) in c.iter().enumerate() {
            next[i] += ci;
            next[i + 1] -= ci * r;
        }
        c = next;
    }
    std::array::from_fn(|i| c[i].re)
}

/// `scipy.signal.filtfilt(b, a, x)` for a 4th-order IIR filter: odd extension by 15
/// samples at each end (3 × the coefficient count), forward then backward, each pass
/// started from `lfilter_zi` scaled by its first input. (The loader's FIR band-pass has
/// its own `filtfilt_fir`, whose steady state needs no linear solve.)
fn filtfilt((b, a): &([f64; 5], [f64; 5]), x: &[f64]) -> Vec<f64> {
    let pad = (3 * b.len()).min(x.len() - 1);
    let (first, last, n) = (x[0], x[x.len() - 1], x.len());
    let extended: Vec<f64> = (1..=pad)
        .rev()
        .map(|i| 2.0 * first - x[i])
        .chain(x.iter().copied())
        .chain((1..=pad).map(|i| 2.0 * last - x[n - 1 - i]))
        .collect();
    let zi = lfilter_zi(b, a);
    let forward = lfilter(b, a, &extended, &zi);
    let reversed: Vec<f64> = forward.iter().rev().copied().collect();
    let mut backward = lfilter(b, a, &reversed, &zi);
    backward.reverse();
    backward[pad..pad + n].to_vec()
}

/// Direct form II transposed, started from the state `zi` × the first input.
fn lfilter(b: &[f64; 5], a: &[f64; 5], x: &[f64], zi: &[f64; 4]) -> Vec<f64> {
    let mut z = zi.map(|v| v * x[0]);
    x.iter()
        .map(|&xn| {
            let y = b[0] * xn + z[0];
            for i in 0..3 {
                z[i] = b[i + 1] * xn + z[i + 1] - a[i + 1] * y;
            }
            z[3] = b[4] * xn - a[4] * y;
            y
        })
        .collect()
}

/// `scipy.signal.lfilter_zi`: the state of the filter's steady response to a unit step,
/// solving (I − Aᵀ) zi = b[1..] − a[1..]·b[0] with A the companion matrix of `a`.
fn lfilter_zi(b: &[f64; 5], a: &[f64; 5]) -> [f64; 4] {
    let mut m = nalgebra::Matrix4::<f64>::identity();
    for j in 0..4 {
        // companion(a).T: column 0 holds −a[1..]; ones above the diagonal.
        m[(j, 0)] += a[j + 1];
        if j + 1 < 4 {
            m[(j, j + 1)] -= 1.0;
        }
    }
    let rhs = nalgebra::Vector4::from_fn(|i, _| b[i + 1] - a[i + 1] * b[0]);
    let zi = m
        .lu()
        .solve(&rhs)
        .expect("a stable filter's steady state exists");
    [zi[0], zi[1], zi[2], zi[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn butterworth_and_its_steady_state_match_scipy() {
        // scipy 1.17.1: butter(4, 2 * 25 / 360) and butter(4, 2 * 3 / 360, 'highpass').
        let (b, a) = butter4(2.0 * 25.0 / 360.0, Pass::Low);
        let want_b = [
            0.001358586529783951,
            0.005434346119135804,
            0.008151519178703706,
            0.005434346119135804,
            0.001358586529783951,
        ];
        let want_a = [
            1.0,
            -2.8638934905076194,
            3.193960434535104,
            -1.6246558167848864,
            0.31632625723394553,
        ];
        for (got, want) in b.iter().chain(&a).zip(want_b.iter().chain(&want_a)) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        let (b, a) = butter4(2.0 * 3.0 / 360.0, Pass::High);
        let want_b = [
            0.9338675736364779,
            -3.7354702945459115,
            5.603205441818867,
            -3.7354702945459115,
            0.9338675736364779,
        ];
        let want_a = [
            1.0,
            -3.8631846224259982,
            5.598835456747834,
            -3.607752453919938,
            0.8721086450898752,
        ];
        for (got, want) in b.iter().chain(&a).zip(want_b.iter().chain(&want_a)) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        let zi = lfilter_zi(&b, &a);
        let want_zi = [-0.93386757, 2.80160272, -2.80160272, 0.93386757];
        for (got, want) in zi.iter().zip(want_zi) {
            assert!((got - want).abs() < 1e-8, "{got} vs {want}");
        }
    }

    #[test]
    fn extrema_count_plateau_ends_as_numpy_does() {
        // diff signs [1, 0, -1, 1]: maxima where the sign falls (at 1 and 2), minimum at 3.
        let x = [0.0, 1.0, 1.0, 0.0, 2.0];
        assert_eq!(extrema(&x, true), vec![1, 2]);
        assert_eq!(extrema(&x, false), vec![3]);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
