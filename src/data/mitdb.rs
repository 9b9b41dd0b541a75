//! MIT-BIH Arrhythmia beats as BeatGAN prepared them (Zhou et al., IJCAI 2019;
//! `hi-bingo/BeatGAN` `experiments/ecg/preprocess.py` and `data.py`).
//!
//! Per record: lead MLII in mV, a zero-phase FIR band-pass as biosppy's `ecg.ecg`
//! applies it (3–45 Hz up to biosppy 1.x, the paper's; 0.67–45 Hz from 2.0: see
//! [`Filter`]), one 320-sample window `[ann − 140, ann + 180)` around each annotated
//! beat of BeatGAN's classes, each window min–max scaled to [−1, 1]. The normal beats
//! are then shuffled with a seed and cut into folds (see [`split`]).
//!
//! BeatGAN also kept an N-group beat only if biosppy's Hamilton R-peak detector found a
//! peak within 10 samples of its annotation. That check is `rpeak_check: true`
//! ([`super::rpeaks`] is the detector); by default it is off and the N counts are the
//! annotation counts minus the beats whose window crosses the record edge. S, V, F and
//! Q beats were never checked by BeatGAN.

use std::path::{Path, PathBuf};

use super::rpeaks;
use super::wfdb::{self, Annotation};
use super::{DataError, DatasetSpec, RunContext, Split, Windows};
use crate::registry::check;
use crate::rng::SplitMix64;
use crate::scale;
use serde::{Deserialize, Serialize};

/// The 44 records BeatGAN used: all 48 except the paced [`PACED_RECORDS`].
pub const BEATGAN_RECORDS: [&str; 44] = [
    "100", "101", "103", "105", "106", "108", "109", "111", "112", "113", "114", "115", "116",
    "117", "118", "119", "121", "122", "123", "124", "200", "201", "202", "203", "205", "207",
    "208", "209", "210", "212", "213", "214", "215", "219", "220", "221", "222", "223", "228",
    "230", "231", "232", "233", "234",
];

/// Records with paced rhythm, which BeatGAN (like AAMI EC57) leaves out.
pub const PACED_RECORDS: [&str; 4] = ["102", "104", "107", "217"];

/// Samples in a beat window before the annotated sample.
pub const BEAT_BEFORE: usize = 140;
/// Samples in a beat window from the annotated sample on.
pub const BEAT_AFTER: usize = 180;
/// Length of a beat window.
pub const BEAT_LEN: usize = BEAT_BEFORE + BEAT_AFTER;

/// The sampling rate the window lengths above are counted in.
const FS: f64 = 360.0;
/// The lead BeatGAN trains on.
const LEAD: &str = "MLII";

/// Abnormal classes in the order their beats draw from the split's random stream.
const ABNORMAL_CLASSES: [&str; 4] = ["S", "V", "F", "Q"];

/// BeatGAN's class for a beat annotation symbol: N = {N, L, R}, S = {A, a, J, S, e, j},
/// V = {V, E}, F = {F}, Q = {/, f, Q}; `None` for every other symbol (`!` and the
/// non-beat annotations). Unlike AAMI EC57, `e` and `j` count as S, not N.
pub fn beatgan_class(symbol: &str) -> Option<&'static str> {
    Some(match symbol {
        "N" | "L" | "R" => "N",
        "A" | "a" | "J" | "S" | "e" | "j" => "S",
        "V" | "E" => "V",
        "F" => "F",
        "/" | "f" | "Q" => "Q",
        _ => return None,
    })
}

/// `dataset: { name: mitdb, … }`: which records, split how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MitdbConfig {
    /// Folder with `NNN.hea`, `NNN.dat` and `NNN.atr` or `annotations_txt/`.
    #[serde(default = "default_mitdb_path")]
    pub path: PathBuf,
    /// Records to use; default: every record in `path` among BeatGAN's 44.
    #[serde(default)]
    pub records: Option<Vec<String>>,
    /// Seed of the normal-beat shuffle that makes the folds; fixed across training
    /// seeds so that seeds vary the model, not the split.
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_n_folds")]
    pub n_folds: usize,
    /// Cap on training beats (taken from the shuffled order), for quick runs.
    #[serde(default)]
    pub max_train: Option<usize>,
    /// Keep a normal beat only when an R peak detected as biosppy 0.6.1 detects them
    /// lies within [`RPEAK_TOLERANCE`] samples of its annotation, as BeatGAN's official
    /// preprocessing does (44 records: 86,897 normal beats instead of 89,836). Off by
    /// default; left out of the run key when off, so earlier runs keep their keys.
    #[serde(default, skip_serializing_if = "is_false")]
    pub rpeak_check: bool,
    /// The band-pass the beats are cut from (and the R-peak check detects on).
    /// Default `biosppy_0_6`; left out of the run key when default.
    #[serde(default, skip_serializing_if = "Filter::is_default")]
    pub filter: Filter,
}

/// The zero-phase FIR band-pass biosppy's `ecg.ecg` applies, which BeatGAN's
/// preprocessing takes its beats from (`sig_out["filtered"]`). biosppy 2.0 changed it,
/// so the official code gives different beats depending on the biosppy installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Filter {
    /// 3–45 Hz, order `int(0.3 fs)` (109 taps at 360 Hz): biosppy 0.6 to 1.x, the
    /// library of the paper's time (the official code's era, 2019) and of the spec.
    #[default]
    #[serde(rename = "biosppy_0_6")]
    Biosppy06,
    /// 0.67–45 Hz, order `int(1.5 fs)` (541 taps), the record's mean subtracted
    /// afterwards: biosppy 2.0 on, what installing the official code's dependencies
    /// gives today (the run of it: 86,780 normals after the R-peak check).
    #[serde(rename = "biosppy_2")]
    Biosppy2,
}

impl Filter {
    fn is_default(&self) -> bool {
        *self == Filter::default()
    }

    /// The pass band's edges in Hz.
    pub fn band_hz(self) -> (f64, f64) {
        match self {
            Filter::Biosppy06 => (3.0, 45.0),
            Filter::Biosppy2 => (0.67, 45.0),
        }
    }

    /// biosppy's FIR order for sampling rate `fs`, plus one when even as its
    /// `get_filter` does: 109 and 541 taps at 360 Hz.
    pub fn numtaps(self, fs: f64) -> usize {
        let seconds = match self {
            Filter::Biosppy06 => 0.3,
            Filter::Biosppy2 => 1.5,
        };
        ((seconds * fs) as usize) | 1
    }

    /// `mv` band-passed as biosppy's `ecg.ecg` returns it in `filtered`.
    pub fn apply(self, mv: &[f64], fs: f64) -> Vec<f64> {
        let (low, high) = self.band_hz();
        let mut filtered = filtfilt_fir(&firwin_bandpass(self.numtaps(fs), low, high, fs), mv);
        if self == Filter::Biosppy2 {
            let mean = filtered.iter().sum::<f64>() / filtered.len() as f64;
            filtered.iter_mut().for_each(|v| *v -= mean);
        }
        filtered
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The official R-peak check keeps a normal beat whose nearest detected R peak is
/// closer than this many samples (`abs(closed_rpeak_idx - sig_idx) < 10`).
pub const RPEAK_TOLERANCE: usize = 10;

impl Default for MitdbConfig {
    /// Every BeatGAN record present in `data/mitdb-mini`, 5 folds, seed 0, no cap.
    fn default() -> Self {
        MitdbConfig {
            path: default_mitdb_path(),
            records: None,
            split_seed: 0,
            n_folds: default_n_folds(),
            max_train: None,
            rpeak_check: false,
            filter: Filter::default(),
        }
    }
}

fn default_mitdb_path() -> PathBuf {
    PathBuf::from("data/mitdb-mini")
}
fn default_n_folds() -> usize {
    5
}

impl DatasetSpec for MitdbConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        check(
            self.n_folds >= 2,
            "dataset.n_folds",
            "at least 2",
            self.n_folds,
        )?;
        check(
            run.fold < self.n_folds,
            "folds",
            &format!("below dataset.n_folds = {}", self.n_folds),
            run.fold,
        )?;
        if let Some(m) = self.max_train {
            check(
                m >= run.batch_size,
                "dataset.max_train",
                "at least train.batch_size",
                m,
            )?;
        }
        Ok(())
    }

    fn load(&self, fold: usize) -> Result<Split, DataError> {
        load(self, fold)
    }

    fn inputs(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    fn describe_split(&self, fold: usize) -> String {
        let checked = if self.rpeak_check {
            ", normal beats R-peak checked"
        } else {
            ""
        };
        let (low, high) = self.filter.band_hz();
        format!(
            "paper protocol folds: fold {fold} of {}, split_seed {}, {low}–{high} Hz{checked}",
            self.n_folds, self.split_seed
        )
    }
}

/// Reads the records, extracts the beats and splits them (see [`extract_beats`] and
/// [`split`]). Extracting once and calling [`split`] per fold saves the re-reading.
pub fn load(opts: &MitdbConfig, fold: usize) -> Result<Split, DataError> {
    let dir = opts.path.as_path();
    let options_err = |problem: String| DataError::Options {
        dir: dir.to_path_buf(),
        problem,
    };
    if opts.n_folds < 2 || fold >= opts.n_folds {
        return Err(options_err(format!(
            "fold {} of {} folds: need at least 2 folds and fold < n_folds",
            fold, opts.n_folds
        )));
    }
    let records = match &opts.records {
        Some(records) => records.clone(),
        None => list_records(dir)?,
    };
    if records.is_empty() {
        return Err(options_err(
            "no records to load (no NNN.hea of BeatGAN's 44 records here)".into(),
        ));
    }
    let beats = extract_beats(dir, &records, opts.filter, opts.rpeak_check)?;
    let n_normal = beats.labels.iter().filter(|&&abnormal| !abnormal).count();
    if n_normal < opts.n_folds {
        return Err(options_err(format!(
            "{n_normal} normal beats cannot be cut into {} folds",
            opts.n_folds
        )));
    }
    Ok(split(&beats, opts, fold))
}

/// The records of BeatGAN's 44 that have a header (`NNN.hea`) in `dir`, sorted. The
/// paced records are not among them; name them in [`MitdbConfig::records`] to read them.
pub fn list_records(dir: &Path) -> Result<Vec<String>, DataError> {
    let io_err = |cause| DataError::Io {
        path: dir.to_path_buf(),
        cause,
    };
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let name = entry.map_err(io_err)?.file_name();
        let Some(record) = name.to_str().and_then(|n| n.strip_suffix(".hea")) else {
            continue;
        };
        if BEATGAN_RECORDS.contains(&record) {
            records.push(record.to_string());
        }
    }
    records.sort();
    Ok(records)
}

/// A record's reference annotations: the binary `NNN.atr` when present, else the
/// `rdann` dump `annotations_txt/NNNannotations.txt` (the two agree where both exist).
pub fn read_annotations(dir: &Path, record: &str) -> Result<Vec<Annotation>, DataError> {
    let atr = dir.join(format!("{record}.atr"));
    let txt = dir
        .join("annotations_txt")
        .join(format!("{record}annotations.txt"));
    if atr.is_file() {
        wfdb::read_atr(&atr)
    } else if txt.is_file() {
        wfdb::read_rdann_txt(&txt)
    } else {
        Err(DataError::MissingAnnotations {
            record: record.to_string(),
            atr,
            txt,
        })
    }
}

/// Every beat of BeatGAN's classes in `records`, in record then annotation order,
/// before any split: MLII band-passed by `filter`, one [`BEAT_LEN`]-sample window per
/// beat whose window lies inside the record, min–max scaled to [−1, 1]. `classes` holds
/// "N", "S", "V", "F" or "Q"; `labels` is true for all but "N".
pub fn extract_beats(
    dir: &Path,
    records: &[impl AsRef<str>],
    filter: Filter,
    rpeak_check: bool,
) -> Result<Windows, DataError> {
    let mut beats = Windows::empty(1, BEAT_LEN);
    for record in records {
        extract_record(dir, record.as_ref(), filter, rpeak_check, &mut beats)?;
    }
    Ok(beats)
}

fn extract_record(
    dir: &Path,
    record: &str,
    filter: Filter,
    rpeak_check: bool,
    beats: &mut Windows,
) -> Result<(), DataError> {
    let header = wfdb::read_header(&dir.join(format!("{record}.hea")))?;
    let content_err = |problem: String| DataError::Content {
        path: header.path.clone(),
        problem,
    };
    if header.fs != FS {
        return Err(content_err(format!(
            "sampling frequency is {} Hz; the beat windows are defined at {FS} Hz",
            header.fs
        )));
    }
    let numtaps = filter.numtaps(header.fs);
    if header.n_samples <= 3 * numtaps {
        return Err(content_err(format!(
            "{} samples are too few to filter (filtfilt pads {} on each side)",
            header.n_samples,
            3 * numtaps
        )));
    }
    let Some(channel) = header.channel(LEAD) else {
        let leads: Vec<&str> = header
            .signals
            .iter()
            .map(|s| s.description.as_str())
            .collect();
        return Err(content_err(format!(
            "record {record} has no {LEAD} lead (leads: {})",
            leads.join(", ")
        )));
    };
    let signals = wfdb::read_signals(dir, &header)?;
    let annotations = read_annotations(dir, record)?;

    let spec = &header.signals[channel];
    let mv: Vec<f64> = signals[channel]
        .iter()
        .map(|&adu| spec.to_physical(adu))
        .collect();
    let filtered = filter.apply(&mv, header.fs);
    let rpeaks = rpeak_check.then(|| rpeaks::biosppy_rpeaks(&filtered, header.fs));

    for ann in &annotations {
        let Some(class) = beatgan_class(&ann.symbol) else {
            continue;
        };
        // Beats too close to either end are dropped, as BeatGAN drops them (it also drops
        // the one whose window would end exactly at the last sample).
        if ann.sample < BEAT_BEFORE || ann.sample + BEAT_AFTER >= filtered.len() {
            continue;
        }
        if let (Some(peaks), "N") = (&rpeaks, class) {
            if !near_a_peak(peaks, ann.sample) {
                continue;
            }
        }
        let window = &filtered[ann.sample - BEAT_BEFORE..ann.sample + BEAT_AFTER];
        beats.data.extend(scale::symmetric(window));
        beats.labels.push(class != "N");
        beats.classes.push(class.to_string());
        beats.n += 1;
    }
    Ok(())
}

/// Whether the R peak nearest to `sample` (`peaks` ascending) is within
/// [`RPEAK_TOLERANCE`] samples of it.
fn near_a_peak(peaks: &[usize], sample: usize) -> bool {
    let after = peaks.partition_point(|&p| p < sample);
    let distance = |p: usize| p.abs_diff(sample);
    let nearest = [after.checked_sub(1), Some(after)]
        .into_iter()
        .flatten()
        .filter_map(|i| peaks.get(i).copied())
        .map(distance)
        .min();
    nearest.is_some_and(|d| d < RPEAK_TOLERANCE)
}

/// Splits beats by the paper protocol. The normal beats are shuffled with
/// `SplitMix64::new(split_seed)` and cut into `n_folds` contiguous folds; fold `fold`
/// is the test normals and the rest, in shuffled order, the train normals, whose first
/// 10 % (rounded down) go to validation. Each abnormal class (S, V, F, Q in that order)
/// is then shuffled by the same stream, its first 10 % (rounded down) going to
/// validation and the rest to test. Train holds no anomalies; `max_train` then keeps
/// the first train beats of the shuffled order.
///
/// Validation mixes normals with labelled anomalies, as BeatGAN's model selection by
/// validation AUC requires; a protocol that must not see anomaly labels before test
/// should use only its normal beats.
///
/// # Panics
/// If `n_folds < 2` or `fold >= n_folds` ([`load`] reports these as errors).
pub fn split(beats: &Windows, opts: &MitdbConfig, fold: usize) -> Split {
    assert!(
        opts.n_folds >= 2 && fold < opts.n_folds,
        "fold {} of {} folds",
        fold,
        opts.n_folds
    );
    let mut rng = SplitMix64::new(opts.split_seed);
    let mut normals: Vec<usize> = (0..beats.n).filter(|&i| !beats.labels[i]).collect();
    rng.shuffle(&mut normals);
    let bound = |k: usize| k * normals.len() / opts.n_folds;
    let (lo, hi) = (bound(fold), bound(fold + 1));
    let mut test = normals[lo..hi].to_vec();
    let rest: Vec<usize> = normals[..lo]
        .iter()
        .chain(&normals[hi..])
        .copied()
        .collect();
    let (val_normals, train_normals) = rest.split_at(rest.len() / 10);
    let mut val = val_normals.to_vec();
    let mut train = train_normals.to_vec();
    if let Some(cap) = opts.max_train {
        train.truncate(cap);
    }
    for class in ABNORMAL_CLASSES {
        let mut members: Vec<usize> = (0..beats.n)
            .filter(|&i| beats.labels[i] && beats.classes[i] == class)
            .collect();
        rng.shuffle(&mut members);
        let (to_val, to_test) = members.split_at(members.len() / 10);
        val.extend_from_slice(to_val);
        test.extend_from_slice(to_test);
    }
    Split {
        train: beats.select(&train),
        val: beats.select(&val),
        test: beats.select(&test),
        timeline: None,
    }
}

/// Band-pass FIR taps as `scipy.signal.firwin(numtaps, [low_hz, high_hz],
/// pass_zero=False, fs=fs)` computes them: windowed ideal band-pass (Hamming window),
/// scaled to unit gain at the centre of the band.
///
/// # Panics
/// If `numtaps < 2` or the band is not `0 < low_hz < high_hz < fs / 2`.
pub fn firwin_bandpass(numtaps: usize, low_hz: f64, high_hz: f64, fs: f64) -> Vec<f64> {
    let nyquist = fs / 2.0;
    assert!(numtaps >= 2, "numtaps {numtaps} < 2");
    assert!(
        0.0 < low_hz && low_hz < high_hz && high_hz < nyquist,
        "band {low_hz}..{high_hz} Hz is not inside (0, {nyquist}) Hz"
    );
    // Cutoffs as fractions of Nyquist, as firwin normalises them.
    let (left, right) = (low_hz / nyquist, high_hz / nyquist);
    let alpha = 0.5 * (numtaps - 1) as f64;
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            let px = std::f64::consts::PI * x;
            px.sin() / px
        }
    };
    let mut taps: Vec<f64> = (0..numtaps)
        .map(|n| {
            let m = n as f64 - alpha;
            let ideal = right * sinc(right * m) - left * sinc(left * m);
            let hamming =
                0.54 - 0.46 * (std::f64::consts::TAU * n as f64 / (numtaps - 1) as f64).cos();
            ideal * hamming
        })
        .collect();
    // firwin's scale=True: unit response at the band centre.
    let centre = 0.5 * (left + right);
    let gain: f64 = taps
        .iter()
        .enumerate()
        .map(|(n, h)| h * (std::f64::consts::PI * (n as f64 - alpha) * centre).cos())
        .sum();
    for h in &mut taps {
        *h /= gain;
    }
    taps
}

/// Zero-phase FIR filtering with the semantics of `scipy.signal.filtfilt(taps, [1], x)`:
/// the signal is extended at both ends by an odd reflection of `3 × taps.len()`
/// samples, filtered forward from the steady state of its first value (scipy's
/// `lfilter_zi`), then backward from the steady state of the forward output's last
/// value, and the extension is cut off.
///
/// # Panics
/// If `x.len() <= 3 × taps.len()`, which scipy also refuses, or `taps` is empty.
pub fn filtfilt_fir(taps: &[f64], x: &[f64]) -> Vec<f64> {
    let pad = 3 * taps.len();
    assert!(!taps.is_empty(), "no filter taps");
    assert!(
        x.len() > pad,
        "signal of {} samples is too short for filtfilt padding of {pad}",
        x.len()
    );
    let n = x.len();
    let (first, last) = (x[0], x[n - 1]);
    let mut extended = Vec::with_capacity(n + 2 * pad);
    extended.extend((1..=pad).rev().map(|i| 2.0 * first - x[i]));
    extended.extend_from_slice(x);
    extended.extend((1..=pad).map(|i| 2.0 * last - x[n - 1 - i]));

    let mut y = fir_from_steady_state(taps, &extended);
    y.reverse();
    let mut y = fir_from_steady_state(taps, &y);
    y.reverse();
    y.truncate(pad + n);
    y.drain(..pad);
    y
}

/// `y[i] = Σ_j taps[j] · x[i − j]`, with `x` taken as constant `x[0]` before its start.
/// This equals `lfilter(taps, [1], x, zi=lfilter_zi(taps, [1]) * x[0])`.
fn fir_from_steady_state(taps: &[f64], x: &[f64]) -> Vec<f64> {
    let mut padded = vec![x[0]; taps.len() - 1];
    padded.extend_from_slice(x);
    let reversed: Vec<f64> = taps.iter().rev().copied().collect();
    padded
        .windows(taps.len())
        .map(|w| dot(&reversed, w))
        .collect()
}

/// Dot product with four independent partial sums, which the compiler can keep in
/// vector registers (a single running sum would serialise every addition).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in a4.zip(b4) {
        for ((s, xi), yi) in acc.iter_mut().zip(x).zip(y) {
            *s += xi * yi;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numtaps_made_odd_like_biosppy() {
        assert_eq!(Filter::Biosppy06.numtaps(360.0), 109);
        assert_eq!(Filter::Biosppy2.numtaps(360.0), 541);
    }

    #[test]
    fn filtfilt_keeps_a_constant_scaled_by_dc_gain() {
        // From the steady state, a constant passes each direction times the DC gain.
        let taps = firwin_bandpass(109, 3.0, 45.0, 360.0);
        let dc: f64 = taps.iter().sum();
        let y = filtfilt_fir(&taps, &[2.0; 1000]);
        for v in y {
            assert!((v - 2.0 * dc * dc).abs() < 1e-12);
        }
    }

    #[test]
    fn classes_follow_beatgan_not_aami() {
        assert_eq!(beatgan_class("e"), Some("S"));
        assert_eq!(beatgan_class("j"), Some("S"));
        assert_eq!(beatgan_class("/"), Some("Q"));
        assert_eq!(beatgan_class("!"), None);
        assert_eq!(beatgan_class("+"), None);
    }

    #[test]
    fn a_normal_beat_needs_a_peak_closer_than_ten_samples() {
        let peaks = [100, 200];
        for (sample, kept) in [(91, true), (90, false), (109, true), (110, false)] {
            assert_eq!(near_a_peak(&peaks, sample), kept, "beat at {sample}");
        }
        // Between two peaks the nearer one decides; before the first, after the last.
        assert!(near_a_peak(&peaks, 195));
        assert!(!near_a_peak(&peaks, 150));
        assert!(near_a_peak(&peaks, 205));
        assert!(!near_a_peak(&[], 100));
    }
}
