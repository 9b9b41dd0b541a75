//! NAB signals (dataset name `nab`) with Orion's preprocessing, as TadGAN was evaluated.
//!
//! One run reads one signal, `data/<category>/<name>.csv` (`timestamp,value`) under the
//! NAB folder, and its anomaly windows from `labels/combined_windows.json`. Then, as
//! Orion's TadGAN pipeline does:
//! 1. aggregate to a fixed `interval` (seconds): the mean of the rows in each bin
//!    `[t0 + k·interval, t0 + (k+1)·interval)` from the first timestamp `t0` to the last;
//! 2. impute bins without rows by the mean of the other bins (scikit-learn's
//!    `SimpleImputer` default);
//! 3. min–max scale to [−1, 1];
//! 4. rolling windows of `window` steps (default 100) with step 1.
//!
//! A step (bin) is labelled anomalous when its time span meets a NAB window (windows
//! are inclusive `[start, end]` timestamps). The default interval is the signal's median
//! row spacing, which only regularises gaps; set `interval` to aggregate coarser.
//!
//! Split (unsupervised, Orion's `test_split=False`): train on every window of the
//! signal, score every window, validation = the same windows with labels withheld; see
//! [`super::windows::series_split`]. Unlike Orion's `rolling_window_sequences`, which
//! keeps one step after each window as a prediction target and so makes
//! `steps − window` windows, every one of the `steps − window + 1` windows is used.

use super::csv::{Delimiter, Table};
use super::windows::{
    default_series_window, default_stride, is_one, one_split, series_split, UNSUPERVISED,
};
use super::{DataError, DatasetSpec, RunContext, Split};
use crate::registry::check;
use crate::scale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The label file under the NAB folder that NAB and Orion score against.
pub const DEFAULT_LABELS: &str = "labels/combined_windows.json";

/// A NAB signal (`../shared/data/nab`); see `data::nab` for the preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NabConfig {
    /// The NAB folder, holding `data/` and `labels/`.
    #[serde(default = "default_path")]
    pub path: PathBuf,
    /// `<category>/<name>.csv`, e.g. `realTweets/Twitter_volume_AAPL.csv`; a list of
    /// signals is a sweep axis.
    pub signal: String,
    /// Label file relative to `path`.
    #[serde(default = "default_labels")]
    pub labels: PathBuf,
    /// Rolling-window length (time steps); TadGAN uses 100.
    #[serde(default = "default_series_window")]
    pub window: usize,
    /// Aggregation interval in seconds; default: the signal's median row spacing.
    #[serde(default)]
    pub interval: Option<i64>,
    /// Train (and validate) on every n-th window only; every window is still scored.
    /// 1 (default) is Orion's setting; larger values trade training data for time.
    #[serde(default = "default_stride", skip_serializing_if = "is_one")]
    pub train_stride: usize,
}

fn default_path() -> PathBuf {
    PathBuf::from("../shared/data/nab")
}
fn default_labels() -> PathBuf {
    PathBuf::from(DEFAULT_LABELS)
}

impl DatasetSpec for NabConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        one_split("nab", run.fold)?;
        check(
            self.window >= 1,
            "dataset.window",
            "at least 1",
            self.window,
        )?;
        if let Some(i) = self.interval {
            check(i >= 1, "dataset.interval", "at least 1 (seconds)", i)?;
        }
        Ok(())
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        load(self)
    }

    fn inputs(&self) -> Vec<PathBuf> {
        vec![
            self.path.join("data").join(&self.signal),
            self.path.join(&self.labels),
        ]
    }

    fn describe_split(&self, _fold: usize) -> String {
        UNSUPERVISED.into()
    }

    fn is_series(&self) -> bool {
        true
    }
}

/// A signal after aggregation and imputation (not yet scaled).
#[derive(Debug, Clone)]
pub struct Signal {
    /// Start of each bin, seconds since 1970-01-01 (the timestamps carry no time zone).
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    pub labels: Vec<bool>,
    pub interval: i64,
    /// Rows in the CSV file.
    pub n_rows: usize,
    /// Bins without a row, filled by imputation.
    pub n_imputed: usize,
    /// The label windows of the signal, as `[start, end]` seconds.
    pub windows: Vec<[i64; 2]>,
}

/// Seconds since 1970-01-01 00:00:00 of `YYYY-MM-DD HH:MM:SS` (a `T` may separate date
/// and time; a fractional part, as in NAB's label files, is ignored).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.split('.').next()?;
    let (date, time) = text.split_once([' ', 'T'])?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some()
        || t.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date. Counting from 1 March makes the
/// leap day the last day of a shifted year, so a year's days before a month follow
/// one formula: (153·m + 2) / 5 with m the month counted from March.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12; // March = 0
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The anomaly windows of `signal` in a NAB label file.
pub fn read_label_windows(path: &Path, signal: &str) -> Result<Vec<[i64; 2]>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    parse_label_windows(path, &text, signal)
}

/// [`read_label_windows`] on the text of the label file `path`.
pub fn parse_label_windows(
    path: &Path,
    text: &str,
    signal: &str,
) -> Result<Vec<[i64; 2]>, DataError> {
    let all: BTreeMap<String, Vec<Vec<String>>> =
        serde_json::from_str(text).map_err(|e| DataError::Cell {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            problem: format!(
                "not a NAB label file (a map from signal to [start, end] timestamp pairs): {e}"
            ),
        })?;
    let windows = all.get(signal).ok_or_else(|| DataError::Content {
        path: path.to_path_buf(),
        problem: format!("no entry for signal `{signal}` (dataset.signal)"),
    })?;
    windows
        .iter()
        .map(|pair| {
            let bad = |problem: String| DataError::Content {
                path: path.to_path_buf(),
                problem: format!("signal `{signal}`: {problem}"),
            };
            let [start, end] = pair.as_slice() else {
                return Err(bad(format!("window {pair:?} is not a [start, end] pair")));
            };
            let parse = |t: &str| {
                parse_timestamp(t).ok_or_else(|| bad(format!("`{t}` is not a timestamp")))
            };
            Ok([parse(start)?, parse(end)?])
        })
        .collect()
}

/// Reads, aggregates and labels one signal of the NAB folder `opts.path`.
pub fn read_signal(opts: &NabConfig) -> Result<Signal, DataError> {
    let dir = opts.path.as_path();
    let csv_path = dir.join("data").join(&opts.signal);
    let table = Table::read(&csv_path, Delimiter::Comma, true)?;
    let (t_col, v_col) = (table.column("timestamp")?, table.column("value")?);
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let t = parse_timestamp(&row.cells[t_col]).ok_or_else(|| {
            table.cell_error(
                row,
                t_col,
                format!(
                    "`{}` is not a timestamp (YYYY-MM-DD HH:MM:SS)",
                    row.cells[t_col]
                ),
            )
        })?;
        rows.push((t, table.number(row, v_col)?));
    }
    // Orion sorts by time before aggregating; a stable sort keeps equal times in file order.
    rows.sort_by_key(|&(t, _)| t);
    let interval = match opts.interval {
        Some(i) => i,
        None => median_spacing(&rows).unwrap_or(1),
    };
    if interval <= 0 {
        return Err(DataError::Content {
            path: csv_path,
            problem: format!(
                "aggregation interval {interval} s (dataset.interval) must be positive"
            ),
        });
    }
    let t0 = rows[0].0;
    let n_bins = ((rows[rows.len() - 1].0 - t0) / interval + 1) as usize;
    let mut sums = vec![(0.0, 0usize); n_bins];
    for &(t, v) in &rows {
        let bin = &mut sums[((t - t0) / interval) as usize];
        bin.0 += v;
        bin.1 += 1;
    }
    let filled: Vec<f64> = sums
        .iter()
        .filter(|b| b.1 > 0)
        .map(|b| b.0 / b.1 as f64)
        .collect();
    let fill = filled.iter().sum::<f64>() / filled.len() as f64;
    let values: Vec<f64> = sums
        .iter()
        .map(|&(s, n)| if n > 0 { s / n as f64 } else { fill })
        .collect();
    let windows = read_label_windows(&dir.join(&opts.labels), &opts.signal)?;
    let timestamps: Vec<i64> = (0..n_bins as i64).map(|k| t0 + k * interval).collect();
    let labels = timestamps
        .iter()
        .map(|&b| windows.iter().any(|&[s, e]| b <= e && b + interval > s))
        .collect();
    Ok(Signal {
        timestamps,
        values,
        labels,
        interval,
        n_rows: rows.len(),
        n_imputed: n_bins - filled.len(),
        windows,
    })
}

/// The median gap between consecutive distinct timestamps (the lower middle one for an
/// even count), or `None` when all rows share one time.
fn median_spacing(rows: &[(i64, f64)]) -> Option<i64> {
    let mut gaps: Vec<i64> = rows
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|&g| g > 0)
        .collect();
    gaps.sort_unstable();
    gaps.get((gaps.len().max(1) - 1) / 2).copied()
}

/// Loads one signal as rolling windows of the scaled series, split the unsupervised way.
pub fn load(opts: &NabConfig) -> Result<Split, DataError> {
    let signal = read_signal(opts)?;
    series_split(
        &[scale::symmetric(&signal.values)],
        &signal.labels,
        opts.window,
        1,
        opts.train_stride,
        &opts.path.join("data").join(&opts.signal),
    )
}
