//! UCR-archive style series (dataset name `ucr`): one series per row, the class label
//! first, then the values. Fields are separated by tabs (the 2018 archive's `.tsv`),
//! commas, or spaces (older releases), judged from the first line. All rows must have
//! the same length.
//!
//! Labels are compared as written, except that a numeric label is normalised
//! (`1.0000000e+00` and `1` are the class `1`). The rows of class `normal_class` are
//! normal, every other class is anomalous. Each series is min–max scaled to [−1, 1] on
//! its own (like the BeatGAN beats) and becomes one window of 1 channel. The UCR
//! train/test files can be pooled (`path` and `test_path`) before the one-class split
//! ([`super::windows::one_class_split`]), since the archive's own split is for
//! classification, not for anomaly detection.

use super::csv::{Delimiter, Table};
use super::windows::{check_fraction, default_val_fraction, one_class_split, one_split};
use super::{DataError, DatasetSpec, RunContext, Split, Windows};
use crate::scale;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A class label in canonical form: integral numbers without exponent or decimals.
pub fn normalise_label(label: &str) -> String {
    match label.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 => {
            format!("{}", v as i64)
        }
        _ => label.to_string(),
    }
}

/// Every series of one file, all marked normal, class = the normalised label.
pub fn read(path: &Path) -> Result<Windows, DataError> {
    let text = std::fs::read_to_string(path).map_err(|cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.contains('\t') {
        Delimiter::Tab
    } else if first.contains(',') {
        Delimiter::Comma
    } else {
        Delimiter::Whitespace
    };
    let table = Table::parse(path, &text, delimiter, false)?;
    let length = table.rows[0].cells.len() - 1;
    if length == 0 {
        return Err(DataError::Line {
            path: path.to_path_buf(),
            line: table.rows[0].line,
            problem: "a label but no values".into(),
        });
    }
    let mut all = Windows::empty(1, length);
    let mut raw = Vec::with_capacity(length);
    for row in &table.rows {
        raw.clear();
        for c in 1..=length {
            raw.push(table.number(row, c)?);
        }
        all.data.extend(scale::symmetric(&raw));
        all.labels.push(false);
        all.classes.push(normalise_label(&row.cells[0]));
    }
    all.n = table.rows.len();
    Ok(all)
}

/// A UCR-style file of labelled series; see `data::ucr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UcrConfig {
    pub path: PathBuf,
    /// A second file pooled with the first (e.g. the archive's `_TEST.tsv`).
    #[serde(default)]
    pub test_path: Option<PathBuf>,
    /// The label of the normal class, as in the file (`1` and `1.0` are the same).
    #[serde(deserialize_with = "label_text")]
    pub normal_class: String,
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

/// A class label written as a string or a number in YAML (`normal_class: 1`).
fn label_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!(
            "a class label must be a string or a number, found {other}"
        ))),
    }
}

impl DatasetSpec for UcrConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        one_split("ucr", run.fold)?;
        check_fraction(self.val_fraction)
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        load(
            &self.path,
            self.test_path.as_deref(),
            &self.normal_class,
            self.split_seed,
            self.val_fraction,
        )
    }

    fn inputs(&self) -> Vec<PathBuf> {
        std::iter::once(self.path.clone())
            .chain(self.test_path.clone())
            .collect()
    }

    fn describe_split(&self, _fold: usize) -> String {
        format!(
            "one-class: normal_class {}, split_seed {}, val_fraction {}",
            self.normal_class, self.split_seed, self.val_fraction
        )
    }
}

/// Reads `path` (and `test_path`, pooled after it) and makes the one-class split with
/// `normal_class` as the normal class.
pub fn load(
    path: &Path,
    test_path: Option<&Path>,
    normal_class: &str,
    split_seed: u64,
    val_fraction: f64,
) -> Result<Split, DataError> {
    let mut all = read(path)?;
    if let Some(test_path) = test_path {
        let more = read(test_path)?;
        if more.length != all.length {
            return Err(DataError::Content {
                path: test_path.to_path_buf(),
                problem: format!(
                    "series of length {}, but {} has length {}",
                    more.length,
                    path.display(),
                    all.length
                ),
            });
        }
        all.data.extend(more.data);
        all.labels.extend(more.labels);
        all.classes.extend(more.classes);
        all.n += more.n;
    }
    let normal = normalise_label(normal_class);
    for (label, class) in all.labels.iter_mut().zip(&all.classes) {
        *label = *class != normal;
    }
    let classes: Vec<String> = all.class_counts().into_keys().collect();
    if !classes.contains(&normal) {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!(
                "normal_class `{normal_class}` is not a label of the file; its labels are: {}",
                classes.join(", ")
            ),
        });
    }
    if classes.len() < 2 {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!(
                "every series has the normal class `{normal}`: no anomalies to test on"
            ),
        });
    }
    Ok(one_class_split(&all, split_seed, val_fraction))
}
