//! Datasets as fixed-length labelled windows, and the errors met while reading them.

pub mod mitdb;
pub mod synthetic;
pub mod wfdb;

use crate::config::DatasetConfig;
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
        let mut out = Self::empty(self.channels, self.length);
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
}

/// A train / validation / test split of one dataset.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Windows,
    pub val: Windows,
    pub test: Windows,
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

/// Loads the split of `fold` for a dataset config (dispatch to the dataset's reader).
pub fn load(config: &DatasetConfig, fold: usize) -> Result<Split, DataError> {
    match config {
        DatasetConfig::Mitdb(c) => mitdb::load(
            &c.path,
            &mitdb::MitdbOptions {
                records: c.records.clone(),
                fold,
                n_folds: c.n_folds,
                split_seed: c.split_seed,
                max_train: c.max_train,
            },
        ),
        DatasetConfig::Synthetic(c) => Ok(synthetic::generate(&synthetic::SyntheticOptions {
            n_train: c.n_train,
            n_val: c.n_val,
            n_test: c.n_test,
            anomaly_rate: c.anomaly_rate,
            length: c.length,
            seed: c.seed,
        })),
    }
}

/// A hash of the data files a dataset config reads (names, sizes and bytes): part of
/// every run key, so results on changed data are never mistaken for results on the old.
pub fn fingerprint(config: &DatasetConfig) -> Result<String, DataError> {
    let dir = match config {
        DatasetConfig::Mitdb(c) => &c.path,
        // Generated data is a function of its config (already in the run key) and of the
        // generator's code, whose version stands in for the files' bytes.
        DatasetConfig::Synthetic(_) => return Ok(synthetic::GENERATOR_VERSION.to_string()),
    };
    let io = |path: &Path, cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    };
    if !dir.is_dir() {
        return Err(DataError::Options {
            dir: dir.clone(),
            problem: format!(
                "data folder not found (dataset.path; a relative path is read from the working directory {})",
                std::env::current_dir().unwrap_or_default().display()
            ),
        });
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.clone()];
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
    files.sort();
    let mut hasher = Sha256::new();
    for path in &files {
        let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
        let relative = path.strip_prefix(dir).unwrap_or(path);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}
