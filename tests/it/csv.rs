//! Users' CSV time series: the shipped example (`data/examples/network_in.csv`, a NAB
//! file with a label column) and malformed files, each error naming file, line, column.

use anolab::data::csv::{self, CsvConfig};
use std::path::Path;

use crate::common::EXAMPLE_CSV as EXAMPLE;

/// Where a test series' labels come from.
#[derive(Clone)]
enum SeriesLabels {
    Column(String),
    Intervals(Vec<[usize; 2]>),
}

/// What a test reads from a series, apart from the file.
#[derive(Clone)]
struct CsvOptions {
    columns: Vec<String>,
    labels: SeriesLabels,
    window: usize,
    stride: usize,
    train_stride: usize,
}

fn options(labels: SeriesLabels, window: usize, stride: usize) -> CsvOptions {
    CsvOptions {
        columns: vec!["value".into()],
        labels,
        window,
        stride,
        train_stride: 1,
    }
}

/// The dataset config of `opts` on the file at `path`.
fn at(path: &Path, opts: &CsvOptions) -> CsvConfig {
    let (label_column, intervals) = match opts.labels.clone() {
        SeriesLabels::Column(c) => (Some(c), None),
        SeriesLabels::Intervals(i) => (None, Some(i)),
    };
    CsvConfig {
        path: path.into(),
        columns: opts.columns.clone(),
        label_column,
        intervals,
        window: opts.window,
        stride: opts.stride,
        train_stride: opts.train_stride,
        test_path: None,
        val_fraction: 0.1,
    }
}

#[test]
fn example_series_has_the_nab_labels() {
    let opts = options(SeriesLabels::Column("label".into()), 100, 1);
    let series = csv::read_series(&at(Path::new(EXAMPLE), &opts)).unwrap();
    assert_eq!(series.labels.len(), 1243);
    // The file's two NAB windows, [10:35, 15:45] and [18:05, 23:15] on 2013-10-10,
    // hold 63 five-minute rows each.
    let runs: Vec<usize> = anolab::metrics::series::segments(&series.labels)
        .iter()
        .map(|[a, b]| b - a + 1)
        .collect();
    assert_eq!(runs, [63, 63]);
    let split = csv::load(&at(Path::new(EXAMPLE), &opts)).unwrap();
    assert_eq!(split.test.n, 1243 - 100 + 1);
    assert_eq!(split.timeline.unwrap().labels, series.labels);
    // The same labels given as intervals of row indices.
    let first = series.labels.iter().position(|&l| l).unwrap();
    let intervals = anolab::metrics::series::segments(&series.labels);
    assert_eq!(intervals[0][0], first);
    let by_interval = csv::read_series(&at(
        Path::new(EXAMPLE),
        &options(SeriesLabels::Intervals(intervals), 100, 1),
    ))
    .unwrap();
    assert_eq!(by_interval.labels, series.labels);
    assert_eq!(by_interval.values, series.values);
}

#[test]
fn channels_scaling_and_strided_windows_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    std::fs::write(
        &path,
        "t,a,b,y\r\n0,1,10,0\r\n1,2,20,0\r\n\r\n2,3,40,1\r\n3,5,50,0\r\n4,9,30,0\r\n",
    )
    .unwrap();
    let opts = CsvOptions {
        columns: vec!["a".into(), "b".into()],
        labels: SeriesLabels::Column("y".into()),
        window: 3,
        stride: 2,
        train_stride: 1,
    };
    let s = csv::read_series(&at(&path, &opts)).unwrap();
    // a: 1..9 → (v − 1)/4 − 1; b: 10..50 → (v − 10)/20 − 1.
    assert_eq!(s.values[0], [-1.0, -0.75, -0.5, 0.0, 1.0]);
    assert_eq!(s.values[1], [-1.0, -0.5, 0.5, 1.0, 0.0]);
    assert_eq!(s.labels, [false, false, true, false, false]);
    let split = csv::load(&at(&path, &opts)).unwrap();
    // Starts 0 and 2 cover all 5 steps; each window is channel a then channel b.
    assert_eq!(split.timeline.as_ref().unwrap().starts, [0, 2]);
    assert_eq!(split.test.window(1), [-0.5, 0.0, 1.0, 0.5, 1.0, 0.0]);
    assert_eq!(split.test.labels, [true, true]);
    assert!(split.val.labels.iter().all(|&l| !l));
    // A stride that misses the end adds one window flush with it.
    let opts = CsvOptions {
        window: 2,
        stride: 2,
        ..opts
    };
    let split = csv::load(&at(&path, &opts)).unwrap();
    assert_eq!(split.timeline.as_ref().unwrap().starts, [0, 2, 3]);
    // train_stride 2 trains and validates on windows 0 and 2 of 3 and scores all three.
    let reduced = csv::load(&at(
        &path,
        &CsvOptions {
            train_stride: 2,
            ..opts
        },
    ))
    .unwrap();
    assert_eq!(reduced.test.data, split.test.data);
    assert_eq!(reduced.train.n, 2);
    assert_eq!(reduced.train.window(1), split.test.window(2));
    assert_eq!(reduced.val.n, 2);
    assert!(reduced.val.labels.iter().all(|&l| !l));
}

#[test]
fn malformed_csv_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let column = |c: &str| options(SeriesLabels::Column(c.into()), 1, 1);
    let cases: Vec<(&str, &str, CsvOptions, &str)> = vec![
        ("empty.csv", "", column("label"), "empty.csv: the file is empty"),
        (
            "header_only.csv",
            "value,label\n",
            column("label"),
            "header_only.csv:1: the file has a header but no data rows",
        ),
        (
            "wrong_column.csv",
            "v,label\n1,0\n",
            column("label"),
            "wrong_column.csv:1: no column `value`; the header has: v, label",
        ),
        (
            "wrong_label_column.csv",
            "value,y\n1,0\n",
            column("label"),
            "wrong_label_column.csv:1: no column `label`; the header has: value, y",
        ),
        (
            "text.csv",
            "value,label\n1,0\n2,0\nhigh,1\n",
            column("label"),
            "text.csv:4:1: `high` is not a finite number (column `value`)",
        ),
        (
            "blank_cell.csv",
            "value,label\n1,0\n,0\n",
            column("label"),
            "blank_cell.csv:3:1: empty cell where a number is expected (column `value`)",
        ),
        (
            "nan.csv",
            "value,label\n1,0\nNaN,0\n",
            column("label"),
            "nan.csv:3:1: `NaN` is not a finite number (column `value`)",
        ),
        (
            "ragged.csv",
            "value,label\n1,0\n2,0,7\n",
            column("label"),
            "ragged.csv:3: 3 fields, but the header has 2 (ragged row)",
        ),
        (
            "label_range.csv",
            "value,label\n1,0\n2,2\n",
            column("label"),
            "label_range.csv:3:2: label `2` is out of range: labels must be 0 (normal) or 1 (anomalous) (column `label`)",
        ),
        (
            "interval_range.csv",
            "value\n1\n2\n3\n",
            options(SeriesLabels::Intervals(vec![[1, 3]]), 1, 1),
            "interval_range.csv: labelled interval [1, 3] (dataset.intervals) is not within the 3 data rows 0..=2",
        ),
    ];
    for (name, text, opts, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = csv::load(&at(&path, &opts)).unwrap_err().to_string();
        assert!(e.ends_with(expected), "{name}: {e}");
        assert!(e.starts_with(&path.display().to_string()), "{name}: {e}");
    }
}

const TRAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/examples/network_in_train.csv"
);
const TEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/examples/network_in_test.csv"
);

/// The shipped train/test pair (`network_in.csv` cut in two) with `test_path`.
fn pair(train: &Path, test: &Path, window: usize) -> CsvConfig {
    CsvConfig {
        test_path: Some(test.into()),
        val_fraction: 0.2,
        ..at(
            train,
            &options(SeriesLabels::Column("label".into()), window, 1),
        )
    }
}

#[test]
fn a_train_test_pair_fits_on_train_validates_on_its_tail_and_scores_test() {
    let split = csv::load(&pair(Path::new(TRAIN), Path::new(TEST), 100)).unwrap();
    // 622 training rows: the last 124 (20 %) are validation; 621 test rows.
    assert_eq!(split.train.n, 498 - 100 + 1);
    assert_eq!(split.val.n, 124 - 100 + 1);
    assert_eq!(split.test.n, 621 - 100 + 1);
    assert!(split
        .train
        .labels
        .iter()
        .chain(&split.val.labels)
        .all(|&l| !l));
    let timeline = split.timeline.as_ref().unwrap();
    assert_eq!(timeline.labels.iter().filter(|&&l| l).count(), 126);
    assert!(split.test.labels.iter().any(|&l| l));
}

#[test]
fn test_values_never_reach_the_scaler() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.csv");
    let test = dir.path().join("test.csv");
    let rows = |values: &[f64], labels: bool| -> String {
        let mut text = String::from(if labels { "value,label\n" } else { "value\n" });
        for (i, v) in values.iter().enumerate() {
            text += &if labels {
                format!("{v},{}\n", u8::from(i == 7))
            } else {
                format!("{v}\n")
            };
        }
        text
    };
    let train_values: Vec<f64> = (0..40).map(|i| (i % 5) as f64).collect(); // 0..=4
    std::fs::write(&train, rows(&train_values, false)).unwrap();
    let mut test_values: Vec<f64> = (0..20).map(|i| (i % 5) as f64).collect();
    test_values[7] = 1000.0;
    std::fs::write(&test, rows(&test_values, true)).unwrap();
    let a = csv::load(&pair(&train, &test, 4)).unwrap();
    // Scaled by the training series' own range [0, 4]: 1000 → 2·1000/4 − 1 = 499.
    let max_test = a.test.data.iter().copied().fold(f32::MIN, f32::max);
    assert_eq!(max_test, 499.0);
    let train_range = a
        .train
        .data
        .iter()
        .chain(&a.val.data)
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!(train_range, (-1.0, 1.0));
    // Another test series changes nothing the model is fitted or validated on.
    test_values[7] = -1.0e6;
    std::fs::write(&test, rows(&test_values, true)).unwrap();
    let b = csv::load(&pair(&train, &test, 4)).unwrap();
    assert_eq!((a.train.data, a.val.data), (b.train.data, b.val.data));
    assert_ne!(a.test.data, b.test.data);
}

#[test]
fn a_pair_too_short_for_its_validation_tail_is_named() {
    let cfg = CsvConfig {
        val_fraction: 0.1,
        ..pair(Path::new(TRAIN), Path::new(TEST), 100)
    };
    let e = csv::load(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("network_in_train.csv")
            && e.contains("validation tail")
            && e.contains("62 time steps"),
        "{e}"
    );
}
