//! Datasets as fixed-length labelled windows, the registry of their configs
//! ([`DatasetConfig`]), and the errors met while reading them.
//!
//! A dataset is its reader file — its `Config` (documented keys and defaults), the
//! [`DatasetSpec`] that validates, loads, lists its input files and describes its split —
//! plus one line in the registry below. Readers know nothing of models, training or the
//! store.

pub mod csv;
pub mod digits;
pub mod mitdb;
pub mod nab;
pub mod npy;
pub mod rpeaks;
pub mod synthetic;
pub mod ucr;
pub mod wfdb;
pub mod windows;

use crate::registry::tagged_registry;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fixed-length labelled windows, channels-first, row-major `n × channels × length`.
#[derive(Debug, Clone)]
pub struct Windows {
    pub data: Vec<f32>,
    pub n: usize,
    pub channels: usize,
    pub length: usize,
    /// `true` = anomalous.
    pub labels: Vec<bool>,
    /// Class of each window, e.g. "N", "S", "V", "F", "Q".
    pub classes: Vec<String>,
    /// `Some((height, width))` when each channel of a window is an image laid out
    /// row-major (`length = height · width`, digits: 8×8): models with image stacks
    /// (GANomaly) use 2-D convolutions on it. `None` for signals.
    pub image: Option<(usize, usize)>,
}

impl Windows {
    /// An empty set of windows of the given shape.
    pub fn empty(channels: usize, length: usize) -> Self {
        Self {
            data: Vec::new(),
            n: 0,
            channels,
            length,
            labels: Vec::new(),
            classes: Vec::new(),
            image: None,
        }
    }

    /// An empty set of one-channel images of `height × width` pixels, row-major.
    pub fn empty_images(height: usize, width: usize) -> Self {
        Self {
            image: Some((height, width)),
            ..Self::empty(1, height * width)
        }
    }

    /// Window `i` as `channels × length` values.
    pub fn window(&self, i: usize) -> &[f32] {
        let size = self.channels * self.length;
        &self.data[i * size..(i + 1) * size]
    }

    /// How many windows each class has.
    pub fn class_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for class in &self.classes {
            *counts.entry(class.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// A new set holding the windows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut out = Self {
            image: self.image,
            ..Self::empty(self.channels, self.length)
        };
        out.data
            .reserve(indices.len() * self.channels * self.length);
        for &i in indices {
            out.data.extend_from_slice(self.window(i));
            out.labels.push(self.labels[i]);
            out.classes.push(self.classes[i].clone());
        }
        out.n = indices.len();
        out
    }

    /// The same windows at `length` samples per channel, by linear interpolation between
    /// neighbouring samples (first and last samples kept): for a model whose layers need
    /// another length than the data's. Signals only (`image` is `None`).
    pub fn resampled(&self, length: usize) -> Self {
        let mut data = Vec::with_capacity(self.n * self.channels * length);
        for channel in self.data.chunks_exact(self.length) {
            data.extend(resample_linear(channel, length));
        }
        Self {
            data,
            length,
            image: None,
            labels: self.labels.clone(),
            classes: self.classes.clone(),
            ..*self
        }
    }
}

/// `values` at `length` evenly spaced positions from its first to its last sample,
/// linearly interpolated.
pub fn resample_linear(values: &[f32], length: usize) -> Vec<f32> {
    let last = values.len().saturating_sub(1);
    if last == 0 || length < 2 {
        return vec![values.first().copied().unwrap_or(0.0); length];
    }
    let step = last as f64 / (length - 1) as f64;
    (0..length)
        .map(|j| {
            let position = j as f64 * step;
            let i = (position.floor() as usize).min(last - 1);
            let t = (position - i as f64) as f32;
            values[i] + t * (values[i + 1] - values[i])
        })
        .collect()
}

impl Split {
    /// Every part's windows at `length` samples (see [`Windows::resampled`]); the
    /// timeline is unchanged (a window still covers the same steps).
    pub fn resampled(&self, length: usize) -> Self {
        Split {
            train: self.train.resampled(length),
            val: self.val.resampled(length),
            test: self.test.resampled(length),
            timeline: self.timeline.clone(),
        }
    }
}

/// A train / validation / test split of one dataset.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Windows,
    pub val: Windows,
    pub test: Windows,
    /// For a time series cut into overlapping windows: where each test window sits, so
    /// that window scores can be turned back into one score per time step and scored
    /// against per-step labels. `None` for datasets of independent windows.
    pub timeline: Option<Timeline>,
}

/// The time axis behind a split's test windows: test window `i` covers the steps
/// `starts[i] .. starts[i] + window` of a series whose per-step labels are `labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// `true` = the time step is inside a labelled anomaly.
    pub labels: Vec<bool>,
    pub window: usize,
    pub starts: Vec<usize>,
}

/// Everything that can go wrong while loading data. Each variant says which file (or
/// folder) is at fault and, where it helps to find the spot, the line or byte offset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be opened or read.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A line of a text file is malformed or uses a feature this reader does not support.
    #[error("{}:{line}: {problem}", path.display())]
    Line {
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        problem: String,
    },
    /// One cell of a delimited text file (CSV, TSV) is wrong.
    #[error("{}:{line}:{column}: {problem}", path.display())]
    Cell {
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column (field) number.
        column: usize,
        problem: String,
    },
    /// A binary file is malformed at a byte offset.
    #[error("{}: at byte {offset}: {problem}", path.display())]
    Bytes {
        path: PathBuf,
        offset: u64,
        problem: String,
    },
    /// A file is well formed but its content is wrong as a whole: a size or checksum
    /// that disagrees with the header, a missing lead, an unsupported sampling rate.
    #[error("{}: {problem}", path.display())]
    Content { path: PathBuf, problem: String },
    /// A record has neither a binary nor a text annotation file.
    #[error(
        "record {record}: no annotations: neither {} nor {} exists",
        atr.display(),
        txt.display()
    )]
    MissingAnnotations {
        record: String,
        atr: PathBuf,
        txt: PathBuf,
    },
    /// The options passed with a data folder cannot be satisfied for it.
    #[error("{}: {problem}", dir.display())]
    Options { dir: PathBuf, problem: String },
}

tagged_registry! {
    /// Which data, read how, split how. `name` selects the reader; one line per dataset.
    pub enum DatasetConfig: dyn DatasetSpec, names DATASET_NAMES, section "dataset" {
        /// MIT-BIH Arrhythmia beats, BeatGAN protocol (`../shared/specs/evaluation.md`).
        "mitdb" => Mitdb(mitdb::MitdbConfig),
        /// One NAB signal with Orion's preprocessing, trained on and scored whole.
        "nab" => Nab(nab::NabConfig),
        /// The 8×8 digits, one class held out as the anomaly.
        "digits" => Digits(digits::DigitsConfig),
        /// A user's CSV time series with a label column or labelled intervals.
        "csv" => Csv(csv::CsvConfig),
        /// A user's UCR-style file of labelled series, one class normal.
        "ucr" => Ucr(ucr::UcrConfig),
        /// A user's `.npy` windows and labels.
        "npy" => Npy(npy::NpyConfig),
        /// Seeded ECG-like windows with planted anomalies; needs no files.
        "synthetic" => Synthetic(synthetic::SyntheticConfig),
    }
}

/// The settings of the run a dataset is checked against: its fold and batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunContext {
    pub fold: usize,
    pub batch_size: usize,
}

/// What the harness asks of a dataset's config.
pub trait DatasetSpec {
    /// Checks ranges serde cannot express for a run of `run.fold`; a message names the
    /// key (`dataset.window`, `folds`) and the valid range.
    fn validate(&self, run: &RunContext) -> Result<(), String>;

    /// Reads the data and makes the split of `fold`.
    fn load(&self, fold: usize) -> Result<Split, DataError>;

    /// The files (or folders, read whole) it reads.
    fn inputs(&self) -> Vec<PathBuf>;

    /// How the split is made, for `anolab datasets`.
    fn describe_split(&self, fold: usize) -> String;

    /// Whether the test windows are rolling windows of one series (time-series metrics
    /// and Orion thresholding apply).
    fn is_series(&self) -> bool {
        false
    }

    /// A hash of the data (see [`hash_inputs`]): part of every run key.
    fn fingerprint(&self) -> Result<String, DataError> {
        hash_inputs(&self.inputs())
    }
}

impl DatasetConfig {
    /// Loads the split of `fold`.
    pub fn load(&self, fold: usize) -> Result<Split, DataError> {
        self.spec().load(fold)
    }

    /// See [`DatasetSpec::is_series`].
    pub fn is_series(&self) -> bool {
        self.spec().is_series()
    }

    /// See [`DatasetSpec::fingerprint`].
    pub fn fingerprint(&self) -> Result<String, DataError> {
        self.spec().fingerprint()
    }
}

/// A hash of the data files a dataset reads (names, sizes and bytes): part of every run
/// key, so results on changed data are never mistaken for results on the old. A folder
/// contributes every file under it, named relative to the folder; a file contributes
/// itself under its file name.
pub fn hash_inputs(inputs: &[PathBuf]) -> Result<String, DataError> {
    let io = |path: &Path, cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let mut hasher = Sha256::new();
    for root in inputs {
        let mut files = Vec::new();
        if root.is_dir() {
            let mut pending = vec![root.clone()];
            while let Some(d) = pending.pop() {
                for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
                    let path = entry.map_err(|e| io(&d, e))?.path();
                    if path.is_dir() {
                        pending.push(path);
                    } else {
                        files.push(path);
                    }
                }
            }
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            return Err(DataError::Options {
                dir: root.clone(),
                problem: format!(
                    "data not found (dataset.path; a relative path is read from the working directory {})",
                    std::env::current_dir().unwrap_or_default().display()
                ),
            });
        }
        files.sort();
        for path in &files {
            let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
            let relative = match path.strip_prefix(root) {
                Ok(r) if !r.as_os_str().is_empty() => r,
                _ => Path::new(path.file_name().unwrap_or_default()),
            };
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What `anolab datasets` prints for one dataset config: where it reads from, the
/// window shape and the split it makes for `fold`, with class counts per part.
pub fn describe(config: &DatasetConfig, fold: usize) -> Result<String, DataError> {
    let spec = config.spec();
    let split = spec.load(fold)?;
    let files: Vec<String> = spec
        .inputs()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let source = if files.is_empty() {
        "generated".to_string()
    } else {
        files.join(", ")
    };
    let how = spec.describe_split(fold);
    let image = split
        .train
        .image
        .map(|(h, w)| format!(" (images of {h}×{w})"))
        .unwrap_or_default();
    let mut out = format!(
        "{} ({source})\n  windows of {} × {}{image}; split {how}\n",
        config.name(),
        split.train.channels,
        split.train.length
    );
    for (name, part) in [
        ("train", &split.train),
        ("val", &split.val),
        ("test", &split.test),
    ] {
        let counts = part
            .class_counts()
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let anomalous = part.labels.iter().filter(|&&l| l).count();
        out += &format!(
            "  {name:<5} {:>7} windows, {anomalous:>6} anomalous  [{counts}]\n",
            part.n
        );
    }
    if let Some(t) = &split.timeline {
        let anomalous = t.labels.iter().filter(|&&l| l).count();
        let mut segments = 0;
        let mut previous = false;
        for &l in &t.labels {
            segments += usize::from(l && !previous);
            previous = l;
        }
        out += &format!(
            "  series: {} time steps, {anomalous} labelled anomalous in {segments} segment(s); window {}, {} windows\n",
            t.labels.len(),
            t.window,
            t.starts.len()
        );
    }
    Ok(out)
}
