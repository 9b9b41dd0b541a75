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
use super::windows::one_class_split;
use super::{DataError, Split, Windows};
use std::path::Path;

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
