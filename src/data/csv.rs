//! Delimited text tables (shared by the NAB, digits and UCR readers) and users' own
//! CSV time series (dataset name `csv`).
//!
//! A `csv` file has a header line naming its columns, then one row per time step in
//! time order. One or more value columns become the channels of the windows (each
//! min–max scaled to [−1, 1] on its own); the labels come either from a label column
//! (`0` normal, `1` anomalous) or from a list of labelled intervals of row indices
//! (0-based, first data row = 0, both ends inclusive). The series is then cut into
//! rolling windows and split the unsupervised (Orion) way: see
//! [`super::windows::series_split`].
//!
//! With `test_path` the series is a train/test pair (fit on normal operation, score the
//! test period): the `path` file is the training series (its labels, if any, are not
//! read), cut into windows whose last `val_fraction` of steps is held out as normal-only
//! validation; the `test_path` file is scored, with the labels (column or intervals)
//! relative to it. The scaling is fitted on the training series alone and applied to
//! both, so no test value reaches it.

use super::windows::{
    check_fraction, default_series_window, default_stride, default_val_fraction, is_one, one_split,
    rolling_windows, series_split, UNSUPERVISED,
};
use super::{DataError, DatasetSpec, RunContext, Split};
use super::{Timeline, Windows};
use crate::registry::check;
use crate::scale;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the fields of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Tab,
    /// Any run of spaces or tabs (the old UCR archive's space-separated files).
    Whitespace,
}

/// One data line of a table: its 1-based line number in the file and its fields.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

/// A delimited text file read whole: every data row has as many fields as the header
/// (or, without a header, as the first row). Blank lines are skipped; CRLF line ends,
/// a UTF-8 byte-order mark and double quotes around a field are accepted.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub header: Option<Vec<String>>,
    /// 1-based line of the header (blank lines may precede it).
    header_line: usize,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn read(path: &Path, delimiter: Delimiter, has_header: bool) -> Result<Table, DataError> {
        let text = std::fs::read_to_string(path).map_err(|cause| DataError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        Table::parse(path, &text, delimiter, has_header)
    }

    /// Parses `text` as the content of `path` (named in errors).
    pub fn parse(
        path: &Path,
        text: &str,
        delimiter: Delimiter,
        has_header: bool,
    ) -> Result<Table, DataError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rows: Vec<Row> = text
            .split('\n')
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim_end_matches('\r')))
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(line, text)| Row {
                line,
                cells: split_fields(text, delimiter),
            })
            .collect();
        if rows.is_empty() {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                problem: "the file is empty".into(),
            });
        }
        let (header_line, header) = if has_header {
            let first = rows.remove(0);
            if rows.is_empty() {
                return Err(DataError::Line {
                    path: path.to_path_buf(),
                    line: first.line,
                    problem: "the file has a header but no data rows".into(),
                });
            }
            (first.line, Some(first.cells))
        } else {
            (0, None)
        };
        let (width, what) = match &header {
            Some(h) => (h.len(), "the header"),
            None => (rows[0].cells.len(), "the first row"),
        };
        if let Some(row) = rows.iter().find(|r| r.cells.len() != width) {
            return Err(DataError::Line {
                path: path.to_path_buf(),
                line: row.line,
                problem: format!(
                    "{} fields, but {what} has {width} (ragged row)",
                    row.cells.len()
                ),
            });
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            header_line,
            rows,
        })
    }

    /// The 0-based index of the header column `name`; an error on line 1 lists the
    /// columns there are.
    pub fn column(&self, name: &str) -> Result<usize, DataError> {
        let header = self.header.as_deref().unwrap_or_default();
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::Line {
                path: self.path.clone(),
                line: self.header_line.max(1),
                problem: format!("no column `{name}`; the header has: {}", header.join(", ")),
            })
    }

    /// The cell of `row` at 0-based `column` as a finite number.
    pub fn number(&self, row: &Row, column: usize) -> Result<f64, DataError> {
        let cell = &row.cells[column];
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.cell_error(
                row,
                column,
                if cell.is_empty() {
                    "empty cell where a number is expected".to_string()
                } else {
                    format!("`{cell}` is not a finite number")
                },
            )),
        }
    }

    /// An error about one cell; the column is named when the table has a header.
    pub fn cell_error(&self, row: &Row, column: usize, problem: String) -> DataError {
        let name = self
            .header
            .as_ref()
            .map(|h| format!(" (column `{}`)", h[column]))
            .unwrap_or_default();
        DataError::Cell {
            path: self.path.clone(),
            line: row.line,
            column: column + 1,
            problem: format!("{problem}{name}"),
        }
    }
}

/// The fields of one line, trimmed, with double quotes around a field removed.
fn split_fields(line: &str, delimiter: Delimiter) -> Vec<String> {
    let fields: Vec<&str> = match delimiter {
        Delimiter::Comma => line.split(',').collect(),
        Delimiter::Tab => line.split('\t').collect(),
        Delimiter::Whitespace => line.split_whitespace().collect(),
    };
    fields
        .into_iter()
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        })
        .collect()
}

/// Where the labels of a CSV series come from.
#[derive(Debug, Clone, PartialEq)]
enum SeriesLabels {
    /// A column of `0` (normal) / `1` (anomalous) per row.
    Column(String),
    /// Inclusive `[first, last]` data-row indices (0-based) of labelled anomalies.
    Intervals(Vec<[usize; 2]>),
}

/// A CSV time series; see `data::csv`. Exactly one of `label_column` and `intervals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    pub path: PathBuf,
    /// Value columns, one channel each.
    #[serde(default = "default_value_columns")]
    pub columns: Vec<String>,
    /// A column of 0 (normal) / 1 (anomalous) per row.
    #[serde(default)]
    pub label_column: Option<String>,
    /// Labelled anomalies as inclusive `[first, last]` data-row indices (0-based).
    #[serde(default)]
    pub intervals: Option<Vec<[usize; 2]>>,
    #[serde(default = "default_series_window")]
    pub window: usize,
    /// Steps between window starts.
    #[serde(default = "default_stride")]
    pub stride: usize,
    /// Train (and validate) on every n-th window only; every window is still scored.
    #[serde(default = "default_stride", skip_serializing_if = "is_one")]
    pub train_stride: usize,
    /// A separate test series (same columns, with the labels): `path` is then the
    /// training series, scaled alone and partly held out for validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_path: Option<PathBuf>,
    /// With `test_path`: the share of the training series' last steps held out as
    /// validation.
    #[serde(
        default = "default_val_fraction",
        skip_serializing_if = "is_default_val_fraction"
    )]
    pub val_fraction: f64,
}

fn is_default_val_fraction(f: &f64) -> bool {
    *f == default_val_fraction()
}

fn default_value_columns() -> Vec<String> {
    vec!["value".into()]
}

impl CsvConfig {
    /// Where the labels come from (`validate` checks that exactly one source is given).
    fn labels(&self) -> SeriesLabels {
        match (&self.label_column, &self.intervals) {
            (Some(column), _) => SeriesLabels::Column(column.clone()),
            (None, intervals) => SeriesLabels::Intervals(intervals.clone().unwrap_or_default()),
        }
    }
}

impl DatasetSpec for CsvConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        one_split("csv", run.fold)?;
        check(
            self.window >= 1,
            "dataset.window",
            "at least 1",
            self.window,
        )?;
        check(
            self.stride >= 1,
            "dataset.stride",
            "at least 1",
            self.stride,
        )?;
        check(
            !self.columns.is_empty(),
            "dataset.columns",
            "at least one column name",
            "[]",
        )?;
        check_fraction(self.val_fraction)?;
        if self.test_path.is_none() && !is_default_val_fraction(&self.val_fraction) {
            return Err("key `dataset.val_fraction` of dataset `csv` needs `dataset.test_path` (a single series is validated on its own windows, labels withheld)".into());
        }
        if self.label_column.is_some() == self.intervals.is_some() {
            return Err(
                "dataset `csv` needs exactly one of `dataset.label_column` and `dataset.intervals`"
                    .into(),
            );
        }
        Ok(())
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        load(self)
    }

    fn inputs(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone()];
        files.extend(self.test_path.clone());
        files
    }

    fn describe_split(&self, _fold: usize) -> String {
        match &self.test_path {
            None => UNSUPERVISED.into(),
            Some(test) => format!(
                "train/test files: train on {} (its last {:.0} % of steps held out as normal-only validation, scaling fitted on it alone), test on {}",
                self.path.display(),
                self.val_fraction * 100.0,
                test.display()
            ),
        }
    }

    fn is_series(&self) -> bool {
        true
    }
}

/// A CSV series: one scaled channel per value column and one label per row.
#[derive(Debug, Clone)]
pub struct Series {
    pub values: Vec<Vec<f32>>,
    pub labels: Vec<bool>,
}

/// Reads the value columns and labels of a CSV series, each column scaled on its own.
pub fn read_series(opts: &CsvConfig) -> Result<Series, DataError> {
    let (raw, labels) = read_raw(&opts.path, opts, true)?;
    Ok(Series {
        values: raw.iter().map(|c| scale::symmetric(c)).collect(),
        labels: labels.expect("asked for labels"),
    })
}

/// A series' value columns as read (unscaled) and its labels, when asked for.
type RawSeries = (Vec<Vec<f64>>, Option<Vec<bool>>);

/// The value columns of `path` as read, and its labels when `with_labels`.
fn read_raw(path: &Path, opts: &CsvConfig, with_labels: bool) -> Result<RawSeries, DataError> {
    let table = Table::read(path, Delimiter::Comma, true)?;
    let columns: Vec<usize> = opts
        .columns
        .iter()
        .map(|name| table.column(name))
        .collect::<Result<_, _>>()?;
    let mut raw = vec![Vec::with_capacity(table.rows.len()); columns.len()];
    for row in &table.rows {
        for (channel, &c) in raw.iter_mut().zip(&columns) {
            channel.push(table.number(row, c)?);
        }
    }
    let n = table.rows.len();
    if !with_labels {
        return Ok((raw, None));
    }
    let labels = match opts.labels() {
        SeriesLabels::Column(name) => {
            let c = table.column(&name)?;
            table
                .rows
                .iter()
                .map(|row| match row.cells[c].as_str() {
                    "0" => Ok(false),
                    "1" => Ok(true),
                    other => Err(table.cell_error(
                        row,
                        c,
                        format!("label `{other}` is out of range: labels must be 0 (normal) or 1 (anomalous)"),
                    )),
                })
                .collect::<Result<Vec<bool>, _>>()?
        }
        SeriesLabels::Intervals(intervals) => {
            let mut labels = vec![false; n];
            for [first, last] in intervals {
                if first > last || last >= n {
                    return Err(DataError::Content {
                        path: path.to_path_buf(),
                        problem: format!(
                            "labelled interval [{first}, {last}] (dataset.intervals) is not within the {n} data rows 0..={}",
                            n - 1
                        ),
                    });
                }
                labels[first..=last].fill(true);
            }
            labels
        }
    };
    Ok((raw, Some(labels)))
}

/// Loads a CSV series as rolling windows, split the unsupervised way; with `test_path`,
/// the train/test pair of the module comment.
pub fn load(opts: &CsvConfig) -> Result<Split, DataError> {
    if let Some(test) = &opts.test_path {
        return load_pair(opts, test);
    }
    let series = read_series(opts)?;
    series_split(
        &series.values,
        &series.labels,
        opts.window,
        opts.stride,
        opts.train_stride,
        &opts.path,
    )
}

/// The train/test pair: train and validation windows from `opts.path` (the last
/// `val_fraction` of its steps held out), test windows and timeline from `test_path`,
/// every channel scaled with the training series' own minimum and maximum.
fn load_pair(opts: &CsvConfig, test_path: &Path) -> Result<Split, DataError> {
    let (train_raw, _) = read_raw(&opts.path, opts, false)?;
    let (test_raw, test_labels) = read_raw(test_path, opts, true)?;
    let test_labels = test_labels.expect("asked for labels");
    let scalers: Vec<scale::MinMax> = train_raw.iter().map(|c| scale::MinMax::of(c)).collect();
    let scaled = |raw: &[Vec<f64>]| -> Vec<Vec<f32>> {
        raw.iter()
            .zip(&scalers)
            .map(|(c, m)| c.iter().map(|&v| m.symmetric(v) as f32).collect())
            .collect()
    };
    let (train_values, test_values) = (scaled(&train_raw), scaled(&test_raw));
    let n_train = train_values[0].len();
    let n_val = (n_train as f64 * opts.val_fraction).round() as usize;
    let cut = n_train - n_val;
    let too_short = |path: &Path, what: &str, steps: usize| DataError::Content {
        path: path.to_path_buf(),
        problem: format!(
            "{what} has {steps} time steps, fewer than one window of {} (dataset.window)",
            opts.window
        ),
    };
    if cut < opts.window || n_val < opts.window {
        let (what, steps) = if cut < opts.window {
            (
                "the training part of the series (before its validation tail)",
                cut,
            )
        } else {
            (
                "the validation tail (dataset.val_fraction of the training series)",
                n_val,
            )
        };
        return Err(too_short(&opts.path, what, steps));
    }
    if test_labels.len() < opts.window {
        return Err(too_short(test_path, "the test series", test_labels.len()));
    }
    // The training series is normal operation: its windows are unlabelled normals.
    let normal = |values: &[Vec<f32>], from: usize, to: usize| -> Windows {
        let part: Vec<Vec<f32>> = values.iter().map(|c| c[from..to].to_vec()).collect();
        let stride = opts.stride * opts.train_stride;
        rolling_windows(&part, &vec![false; to - from], opts.window, stride).0
    };
    let train = normal(&train_values, 0, cut);
    let val = normal(&train_values, cut, n_train);
    let (test, starts) = rolling_windows(&test_values, &test_labels, opts.window, opts.stride);
    Ok(Split {
        train,
        val,
        test,
        timeline: Some(Timeline {
            labels: test_labels,
            window: opts.window,
            starts,
        }),
    })
}
