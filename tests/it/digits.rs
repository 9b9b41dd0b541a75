//! Digits reader and one-class split, against facts of the shipped file
//! (`data/digits/digits.csv`, scikit-learn's `digits.csv.gz` decompressed).

use anolab::data::digits;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv");
const SHARED_GZ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/sklearn_digits/digits.csv.gz"
);

#[test]
fn shipped_file_is_the_documented_bytes() {
    let bytes = std::fs::read(FILE).unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // `gunzip -c ../shared/data/sklearn_digits/digits.csv.gz | sha256sum`, as in
    // data/digits/README.md and SHA256SUMS.
    assert_eq!(
        hex,
        "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
    );
}

#[test]
fn images_and_class_counts_match_scikit_learn() {
    let all = digits::read(Path::new(FILE)).unwrap();
    assert_eq!((all.n, all.channels, all.length), (1797, 1, 64));
    // sklearn's documented class counts for digits 0–9.
    let counts: Vec<usize> = all.class_counts().into_values().collect();
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // load_digits().images[0][0] = [0, 0, 5, 13, 9, 1, 0, 0], a 0; the last image is an 8.
    let first: Vec<f32> = [0.0f32, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]
        .iter()
        .map(|p| p / 8.0 - 1.0)
        .collect();
    assert_eq!(&all.window(0)[..8], &first[..]);
    assert_eq!(all.classes[0], "0");
    assert_eq!(all.classes[1796], "8");
    assert!(all.data.iter().all(|&v| (-1.0..=1.0).contains(&v)));
}

#[test]
fn leave_one_class_out_split() {
    for abnormal in [0u8, 8] {
        let split = digits::load(Path::new(FILE), abnormal, 0, 0.1).unwrap();
        let n_abnormal = if abnormal == 0 { 178 } else { 174 };
        let n_normal = 1797 - n_abnormal;
        let n_test_normal = (n_normal as f64 * 0.2).round() as usize;
        let n_val = ((n_normal - n_test_normal) as f64 * 0.1).round() as usize;
        assert_eq!(split.val.n, n_val);
        assert_eq!(split.train.n, n_normal - n_test_normal - n_val);
        assert_eq!(split.test.n, n_test_normal + n_abnormal);
        // Every part says its windows are 8×8 images (GANomaly builds 2-D stacks on them).
        for part in [&split.train, &split.val, &split.test] {
            assert_eq!(
                (part.channels, part.length, part.image),
                (1, 64, Some((8, 8)))
            );
        }
        // Train and validation are normal only; test holds every abnormal image.
        assert!(!split.train.labels.contains(&true) && !split.val.labels.contains(&true));
        let abnormal_name = abnormal.to_string();
        assert_eq!(split.test.class_counts()[&abnormal_name], n_abnormal);
        assert!(split
            .test
            .labels
            .iter()
            .zip(&split.test.classes)
            .all(|(&l, c)| l == (*c == abnormal_name)));
        // Every normal image lands in exactly one part.
        let mut seen: BTreeMap<Vec<u32>, usize> = BTreeMap::new();
        for part in [&split.train, &split.val, &split.test] {
            for i in 0..part.n {
                let key = part.window(i).iter().map(|v| v.to_bits()).collect();
                *seen.entry(key).or_insert(0) += 1;
            }
        }
        assert_eq!(seen.values().sum::<usize>(), 1797);
    }
    // 1619 normals for digit 0: 324 test, 130 val, 1165 train (as `anolab datasets` prints).
    let split = digits::load(Path::new(FILE), 0, 0, 0.1).unwrap();
    assert_eq!((split.train.n, split.val.n, split.test.n), (1165, 130, 502));
    // The seed moves normals between parts, never the sizes.
    let other = digits::load(Path::new(FILE), 0, 1, 0.1).unwrap();
    assert_eq!(other.train.n, 1165);
    assert_ne!(other.train.data, split.train.data);
}

#[test]
fn gzip_is_refused_with_advice() {
    let path = Path::new(SHARED_GZ);
    if !path.is_file() {
        println!("skipped: ../shared/data/sklearn_digits not found");
        return;
    }
    let e = digits::read(path).unwrap_err().to_string();
    assert!(e.contains("digits.csv.gz") && e.contains("gunzip"), "{e}");
}

#[test]
fn malformed_digits_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let row = |label: &str| format!("{}{label}\n", "1,".repeat(64));
    let cases = [
        ("empty.csv", String::new(), "empty.csv: the file is empty"),
        (
            "short.csv",
            "1,2,3\n".to_string(),
            "short.csv:1: 3 fields; a digits row has 64 pixels and a label",
        ),
        (
            "ragged.csv",
            row("1") + "1,2\n",
            "ragged.csv:2: 2 fields, but the first row has 65 (ragged row)",
        ),
        (
            "pixel.csv",
            row("1") + &"1,".repeat(10) + "17," + &"1,".repeat(53) + "1\n",
            "pixel.csv:2:11: `17` is not a pixel (an integer 0–16)",
        ),
        (
            "text.csv",
            row("x"),
            "text.csv:1:65: `x` is not a digit label (an integer 0–9)",
        ),
        (
            "label.csv",
            row("10"),
            "label.csv:1:65: `10` is not a digit label (an integer 0–9)",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = digits::read(&path).unwrap_err().to_string();
        assert!(e.ends_with(expected), "{name}: {e}");
    }
}
