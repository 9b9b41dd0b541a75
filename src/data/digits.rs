//! The 8×8 handwritten digits (dataset name `digits`) for one-class tests,
//! leave-one-class-out (`../shared/specs/evaluation.md`, "Digits").
//!
//! File: scikit-learn's `digits.csv`, no header, 65 integer columns per row: the 64
//! pixels of the 8×8 image in row-major order (0–16 on-pixels per 4×4 block), then the
//! digit 0–9. `data/digits/digits.csv` is that file decompressed (see its README).
//!
//! Windows: 1 channel × 64 samples, the image rows laid end to end (row-major; sample
//! `8·r + c` is row `r`, column `c`; `Windows::image` says 8×8), pixels scaled
//! `p/8 − 1` onto [−1, 1]. Class = the digit; the digit `abnormal_class` is
//! anomalous, the other nine are normal.
//! Split: [`super::windows::one_class_split`] (normals 80/20 seeded, `val_fraction` of the
//! 80 % as normal-only validation; test = 20 % normals + every abnormal image).

use super::csv::{Delimiter, Table};
use super::windows::{check_fraction, default_val_fraction, one_class_split, one_split};
use super::{DataError, DatasetSpec, RunContext, Split, Windows};
use crate::registry::check;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SIDE: usize = 8;
pub const PIXELS: usize = SIDE * SIDE;
/// The largest pixel value: a 4×4 block has 16 pixels.
pub const MAX_PIXEL: u32 = 16;

/// Every image of the file, all marked normal, class = digit.
pub fn read(path: &Path) -> Result<Windows, DataError> {
    if path.extension().is_some_and(|e| e == "gz") {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: "gzip-compressed files are not read; decompress it (gunzip -k) or use data/digits/digits.csv".into(),
        });
    }
    let table = Table::read(path, Delimiter::Comma, false)?;
    if let Some(row) = table.rows.iter().find(|r| r.cells.len() != PIXELS + 1) {
        return Err(DataError::Line {
            path: path.to_path_buf(),
            line: row.line,
            problem: format!(
                "{} fields; a digits row has {} pixels and a label",
                row.cells.len(),
                PIXELS
            ),
        });
    }
    let mut all = Windows::empty_images(SIDE, SIDE);
    for row in &table.rows {
        let integer = |c: usize, max: u32, what: &str| {
            let cell = &row.cells[c];
            match cell.parse::<u32>() {
                Ok(v) if v <= max => Ok(v),
                _ => Err(table.cell_error(
                    row,
                    c,
                    format!("`{cell}` is not a {what} (an integer 0–{max})"),
                )),
            }
        };
        for c in 0..PIXELS {
            let p = integer(c, MAX_PIXEL, "pixel")?;
            all.data.push(p as f32 / (MAX_PIXEL / 2) as f32 - 1.0);
        }
        let digit = integer(PIXELS, 9, "digit label")?;
        all.labels.push(false);
        all.classes.push(digit.to_string());
    }
    all.n = table.rows.len();
    Ok(all)
}

/// The digits, leave-one-class-out; see `data::digits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigitsConfig {
    /// The decompressed scikit-learn `digits.csv`.
    #[serde(default = "default_path")]
    pub path: PathBuf,
    /// The digit (0–9) that is the anomaly; a list is a sweep axis.
    #[serde(default)]
    pub abnormal_class: u8,
    #[serde(default)]
    pub split_seed: u64,
    /// Share of the train normals held out as (normal-only) validation.
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

fn default_path() -> PathBuf {
    PathBuf::from("data/digits/digits.csv")
}

impl DatasetSpec for DigitsConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        one_split("digits", run.fold)?;
        check(
            self.abnormal_class <= 9,
            "dataset.abnormal_class",
            "a digit 0–9",
            self.abnormal_class,
        )?;
        check_fraction(self.val_fraction)
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        load(
            &self.path,
            self.abnormal_class,
            self.split_seed,
            self.val_fraction,
        )
    }

    fn inputs(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    fn describe_split(&self, _fold: usize) -> String {
        format!(
            "one-class: abnormal_class {}, split_seed {}, val_fraction {}",
            self.abnormal_class, self.split_seed, self.val_fraction
        )
    }
}

/// The one-class split with digit `abnormal_class` as the anomaly.
pub fn load(
    path: &Path,
    abnormal_class: u8,
    split_seed: u64,
    val_fraction: f64,
) -> Result<Split, DataError> {
    let mut all = read(path)?;
    let abnormal = abnormal_class.to_string();
    for (label, class) in all.labels.iter_mut().zip(&all.classes) {
        *label = *class == abnormal;
    }
    if !all.labels.contains(&true) {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!("no image of digit {abnormal_class} (dataset.abnormal_class)"),
        });
    }
    Ok(one_class_split(&all, split_seed, val_fraction))
}
