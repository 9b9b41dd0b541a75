//! UCR-style TSV reader: the shipped example (`data/examples/ecg_beats.tsv`) and
//! malformed files, each error naming file, line and column.

use anolab::data::ucr;
use std::path::Path;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/examples/ecg_beats.tsv");

#[test]
fn example_beats_and_one_class_split() {
    let all = ucr::read(Path::new(EXAMPLE)).unwrap();
    assert_eq!((all.n, all.channels, all.length), (100, 1, 80));
    let counts: Vec<(String, usize)> = all.class_counts().into_iter().collect();
    assert_eq!(
        counts,
        [("1".into(), 60), ("2".into(), 20), ("3".into(), 20)]
    );
    // Each series is scaled to [-1, 1] on its own.
    for i in 0..all.n {
        let w = all.window(i);
        let lo = w.iter().copied().fold(f32::MAX, f32::min);
        let hi = w.iter().copied().fold(f32::MIN, f32::max);
        assert_eq!((lo, hi), (-1.0, 1.0), "series {i}");
    }
    // Normal class 1 (N): 60 normals → 12 test, 5 val (10 % of 48, rounded), 43 train.
    let split = ucr::load(Path::new(EXAMPLE), None, "1", 0, 0.1).unwrap();
    assert_eq!((split.train.n, split.val.n, split.test.n), (43, 5, 52));
    assert_eq!(split.test.labels.iter().filter(|&&l| l).count(), 40);
    // `1.0` names the same class as `1`; pooling a second file doubles every part.
    let pooled = ucr::load(Path::new(EXAMPLE), Some(Path::new(EXAMPLE)), "1.0", 0, 0.1).unwrap();
    assert_eq!(pooled.test.labels.iter().filter(|&&l| l).count(), 80);
    assert_eq!(pooled.train.n + pooled.val.n + pooled.test.n, 200);
}

#[test]
fn labels_are_normalised_numbers() {
    assert_eq!(ucr::normalise_label("1.0000000e+00"), "1");
    assert_eq!(ucr::normalise_label("-1"), "-1");
    assert_eq!(ucr::normalise_label("2.5"), "2.5");
    assert_eq!(ucr::normalise_label("abnormal"), "abnormal");
}

#[test]
fn old_comma_and_space_separated_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("c.csv", "1,0.0,1.0,2.0\n2,3.0,2.0,1.0\n"),
        (
            "s.txt",
            "  1.0000000e+00  0.0 1.0 2.0\n  2.0000000e+00 3.0 2.0 1.0\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let all = ucr::read(&path).unwrap();
        assert_eq!(all.classes, ["1", "2"], "{name}");
        assert_eq!(all.window(0), [-1.0, 0.0, 1.0], "{name}");
        assert_eq!(all.window(1), [1.0, 0.0, -1.0], "{name}");
    }
}

#[test]
fn malformed_ucr_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.tsv", "", "1", "empty.tsv: the file is empty"),
        (
            "ragged.tsv",
            "1\t0.1\t0.2\n2\t0.3\n",
            "1",
            "ragged.tsv:2: 2 fields, but the first row has 3 (ragged row)",
        ),
        (
            "text.tsv",
            "1\t0.1\t0.2\n2\t0.3\tx\n",
            "1",
            "text.tsv:2:3: `x` is not a finite number",
        ),
        (
            "no_values.tsv",
            "1\n2\n",
            "1",
            "no_values.tsv:1: a label but no values",
        ),
        (
            "class.tsv",
            "1\t0.1\t0.2\n2\t0.3\t0.4\n",
            "5",
            "class.tsv: normal_class `5` is not a label of the file; its labels are: 1, 2",
        ),
        (
            "one_class.tsv",
            "1\t0.1\t0.2\n1\t0.3\t0.4\n",
            "1",
            "one_class.tsv: every series has the normal class `1`: no anomalies to test on",
        ),
    ];
    for (name, text, normal, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = ucr::load(&path, None, normal, 0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(expected), "{name}: {e}");
        assert!(e.starts_with(&path.display().to_string()), "{name}: {e}");
    }
}
