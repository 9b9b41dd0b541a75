//! NAB reader: Orion-style preprocessing checked against facts of the real files
//! (`../shared/data/nab`, skipped with a message when absent) and against small files
//! written here; malformed input names the file, line and column.
//!
//! The per-file numbers (rows, median step, bins, imputed bins, labelled steps, mean)
//! were computed independently with numpy from the same CSV and
//! `labels/combined_windows.json` (bin = `[t0 + k·interval, t0 + (k+1)·interval)`,
//! labelled when it meets a window).

use anolab::data::nab::{self, parse_timestamp, NabConfig, DEFAULT_LABELS};
use anolab::data::DataError;
use std::path::{Path, PathBuf};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/nab");

fn shared() -> Option<&'static Path> {
    let dir = Path::new(SHARED);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/data/nab not found");
        None
    }
}

fn options(dir: &Path, signal: &str) -> NabConfig {
    NabConfig {
        path: dir.into(),
        signal: signal.into(),
        labels: PathBuf::from(DEFAULT_LABELS),
        window: 100,
        interval: None,
        train_stride: 1,
    }
}

#[test]
fn timestamps_are_seconds_since_1970() {
    assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
    // `date -u -d '2015-02-26 21:42:53' +%s`
    assert_eq!(parse_timestamp("2015-02-26 21:42:53"), Some(1_424_986_973));
    // A leap day and the fractional suffix of NAB's label files.
    assert_eq!(
        parse_timestamp("2016-02-29 12:00:00.000000"),
        Some(1_456_747_200)
    );
    assert_eq!(parse_timestamp("2014-04-01T00:00:00"), Some(1_396_310_400));
    for bad in [
        "2015-02-26",
        "2015-13-01 00:00:00",
        "2015-02-26 24:00:00",
        "x",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad}");
    }
}

/// (signal, rows, interval, bins, imputed, labelled steps, first labelled step, mean).
type Fact = (&'static str, usize, i64, usize, usize, usize, usize, f64);
const FACTS: &[Fact] = &[
    (
        "realTweets/Twitter_volume_AAPL.csv",
        15902,
        300,
        15902,
        0,
        1588,
        1235,
        85.55232046283486,
    ),
    (
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        4032,
        300,
        4032,
        0,
        403,
        2787,
        44.49425415572991,
    ),
    (
        "realKnownCause/nyc_taxi.csv",
        10320,
        1800,
        10320,
        0,
        1035,
        5839,
        15137.569379844961,
    ),
    // Irregular: 24 missing hours are imputed, and one hour holds two rows.
    (
        "realAdExchange/exchange-2_cpc_results.csv",
        1624,
        3600,
        1648,
        25,
        163,
        244,
        0.10180810678317401,
    ),
];

#[test]
fn signals_match_numpy_facts() {
    let Some(dir) = shared() else { return };
    for &(signal, rows, interval, bins, imputed, anomalous, first, mean) in FACTS {
        let s = nab::read_signal(&options(dir, signal)).unwrap();
        assert_eq!(s.n_rows, rows, "{signal} rows");
        assert_eq!(s.interval, interval, "{signal} interval");
        assert_eq!(s.values.len(), bins, "{signal} bins");
        assert_eq!(s.n_imputed, imputed, "{signal} imputed");
        assert_eq!(
            s.labels.iter().filter(|&&l| l).count(),
            anomalous,
            "{signal}"
        );
        assert_eq!(s.labels.iter().position(|&l| l), Some(first), "{signal}");
        let m = s.values.iter().sum::<f64>() / s.values.len() as f64;
        assert!(
            (m - mean).abs() < 1e-9 * mean.abs(),
            "{signal} mean {m} vs {mean}"
        );
    }
}

#[test]
fn every_nab_label_point_lies_in_a_labelled_step_but_the_documented_one() {
    let Some(dir) = shared() else { return };
    let points: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("labels/combined_labels.json")).unwrap(),
    )
    .unwrap();
    let mut outside = Vec::new();
    let mut n_points = 0;
    for (signal, stamps) in &points {
        let s = nab::read_signal(&options(dir, signal)).unwrap();
        for stamp in stamps {
            n_points += 1;
            let t = parse_timestamp(stamp).unwrap();
            // The bin holding the labelled row (bins start at regular steps, rows need not).
            let step = ((t - s.timestamps[0]) / s.interval) as usize;
            if !s.labels[step] {
                outside.push(format!("{signal} {stamp}"));
            }
        }
    }
    // NAB README: 120 label points; one lies an hour before its file's first window.
    assert_eq!(n_points, 120);
    assert_eq!(
        outside,
        ["realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv 2013-10-10 09:35:00"]
    );
}

#[test]
fn all_58_files_load_and_116_windows_are_read() {
    let Some(dir) = shared() else { return };
    let windows: std::collections::BTreeMap<String, Vec<Vec<String>>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join(DEFAULT_LABELS)).unwrap()).unwrap();
    assert_eq!(windows.len(), 58);
    let mut n_windows = 0;
    let mut rows = 0;
    for signal in windows.keys() {
        let s = nab::read_signal(&options(dir, signal)).unwrap();
        n_windows += s.windows.len();
        rows += s.n_rows;
        // Scaled to [-1, 1] and cut into windows of 100 with step 1.
        let split = nab::load(&options(dir, signal)).unwrap();
        let t = split.timeline.as_ref().unwrap();
        assert_eq!(split.test.n, s.values.len() - 100 + 1, "{signal}");
        assert_eq!(t.starts.len(), split.test.n);
        let (lo, hi) = split
            .test
            .data
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if s.values.iter().any(|&v| v != s.values[0]) {
            assert_eq!((lo, hi), (-1.0, 1.0), "{signal}");
        }
    }
    assert_eq!(n_windows, 116);
    assert_eq!(rows, 365_558);
}

#[test]
fn unsupervised_split_hides_labels_from_validation() {
    let Some(dir) = shared() else { return };
    let split = nab::load(&options(dir, "artificialWithAnomaly/art_daily_jumpsup.csv")).unwrap();
    assert_eq!(split.train.n, 4032 - 99);
    assert_eq!(split.train.data, split.test.data);
    assert_eq!(split.val.data, split.test.data);
    assert!(split.val.labels.iter().all(|&l| !l));
    assert!(split.test.labels.iter().any(|&l| l));
    // A window is anomalous when it holds a labelled step: the 403 labelled steps
    // starting at 2787 touch windows starting at 2787 − 99 through 2787 + 402.
    let t = split.timeline.unwrap();
    assert_eq!(t.labels.iter().filter(|&&l| l).count(), 403);
    let anomalous: Vec<usize> = (0..split.test.n)
        .filter(|&i| split.test.labels[i])
        .collect();
    assert_eq!(anomalous.first(), Some(&(2787 - 99)));
    assert_eq!(anomalous.last(), Some(&(2787 + 402)));
}

/// A NAB-shaped folder with one signal and a label file.
fn tiny_nab(csv: &str, labels: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data/cat")).unwrap();
    std::fs::create_dir_all(dir.path().join("labels")).unwrap();
    std::fs::write(dir.path().join("data/cat/s.csv"), csv).unwrap();
    std::fs::write(dir.path().join(DEFAULT_LABELS), labels).unwrap();
    dir
}

fn tiny_options(dir: &Path, window: usize, interval: Option<i64>) -> NabConfig {
    NabConfig {
        path: dir.into(),
        signal: "cat/s.csv".into(),
        labels: PathBuf::from(DEFAULT_LABELS),
        window,
        interval,
        train_stride: 1,
    }
}

#[test]
fn aggregation_imputation_and_labels_by_hand() {
    // Rows at minutes 0, 1, 1, 4, 5 (one duplicate minute, minutes 2 and 3 missing).
    let csv = "timestamp,value\n\
        2020-01-01 00:00:00,1\n\
        2020-01-01 00:01:00,2\n\
        2020-01-01 00:01:00,4\n\
        2020-01-01 00:04:00,5\n\
        2020-01-01 00:05:00,7\n";
    let labels = r#"{"cat/s.csv": [["2020-01-01 00:03:30.000000", "2020-01-01 00:04:00.000000"]]}"#;
    let dir = tiny_nab(csv, labels);
    let s = nab::read_signal(&tiny_options(dir.path(), 2, None)).unwrap();
    assert_eq!(s.interval, 60);
    // Bins: 1, mean(2, 4) = 3, missing, missing, 5, 7; missing = mean(1, 3, 5, 7) = 4.
    assert_eq!(s.values, [1.0, 3.0, 4.0, 4.0, 5.0, 7.0]);
    assert_eq!(s.n_imputed, 2);
    // The window [03:30, 04:00] meets the bins [03:00, 04:00) and [04:00, 05:00).
    assert_eq!(s.labels, [false, false, false, true, true, false]);
    // Aggregated to 2 minutes: bins (1, 2, 4), (), (5, 7).
    let s = nab::read_signal(&tiny_options(dir.path(), 2, Some(120))).unwrap();
    assert_eq!(s.values, [7.0 / 3.0, (7.0 / 3.0 + 6.0) / 2.0, 6.0]);
    assert_eq!(s.labels, [false, true, true]);
    // Scaled to [-1, 1]: min 1 → -1, max 7 → 1, 4 → 0.
    let split = nab::load(&tiny_options(dir.path(), 2, None)).unwrap();
    assert_eq!(split.test.n, 5);
    assert_eq!(split.test.window(2), [0.0, 0.0]);
    assert_eq!(split.test.window(0), [-1.0, (-1.0f64 + 4.0 / 6.0) as f32]);
    assert_eq!(split.test.labels, [false, false, true, true, true]);
}

fn message(e: DataError) -> String {
    e.to_string()
}

#[test]
fn malformed_nab_input_names_file_line_and_column() {
    let good_labels = r#"{"cat/s.csv": []}"#;
    let dir = tiny_nab(
        "timestamp,value\n2020-01-01 00:00:00,1\nyesterday,2\n",
        good_labels,
    );
    let e = message(nab::read_signal(&tiny_options(dir.path(), 1, None)).unwrap_err());
    assert!(
        e.contains("s.csv:3:1:") && e.contains("`yesterday` is not a timestamp"),
        "{e}"
    );

    let dir = tiny_nab("timestamp,value\n2020-01-01 00:00:00,abc\n", good_labels);
    let e = message(nab::read_signal(&tiny_options(dir.path(), 1, None)).unwrap_err());
    assert!(
        e.contains("s.csv:2:2:") && e.contains("`abc` is not a finite number (column `value`)"),
        "{e}"
    );

    let dir = tiny_nab("time,value\n2020-01-01 00:00:00,1\n", good_labels);
    let e = message(nab::read_signal(&tiny_options(dir.path(), 1, None)).unwrap_err());
    assert!(
        e.contains("s.csv:1:") && e.contains("no column `timestamp`"),
        "{e}"
    );

    let dir = tiny_nab(
        "timestamp,value\n2020-01-01 00:00:00,1\n",
        r#"{"other.csv": []}"#,
    );
    let e = message(nab::read_signal(&tiny_options(dir.path(), 1, None)).unwrap_err());
    assert!(
        e.contains("combined_windows.json") && e.contains("no entry for signal `cat/s.csv`"),
        "{e}"
    );

    let dir = tiny_nab(
        "timestamp,value\n2020-01-01 00:00:00,1\n",
        "{\n  \"cat/s.csv\": [[1, 2]]\n}",
    );
    let e = message(nab::read_signal(&tiny_options(dir.path(), 1, None)).unwrap_err());
    assert!(e.contains("combined_windows.json:2:"), "{e}");

    let dir = tiny_nab("timestamp,value\n2020-01-01 00:00:00,1\n", good_labels);
    let e = message(nab::load(&tiny_options(dir.path(), 5, None)).unwrap_err());
    assert!(
        e.contains("1 time steps, fewer than one window of 5"),
        "{e}"
    );
}
