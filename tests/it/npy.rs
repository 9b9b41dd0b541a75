//! `.npy` reader: files written by numpy (`data/examples/ecg_*.npy`) against the TSV
//! they were made from, headers and dtypes built byte by byte, and malformed files,
//! each error naming the file, the byte offset and the problem.

use anolab::data::{npy, ucr};
use std::path::{Path, PathBuf};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/examples");

#[test]
fn numpy_written_windows_match_their_source() {
    let dir = Path::new(EXAMPLES);
    let x = npy::read(&dir.join("ecg_windows.npy")).unwrap();
    assert_eq!(x.shape, [100, 1, 80]);
    assert_eq!(x.item_size, 4);
    // numpy 2.4 writes a version 1.0 header padded to 128 bytes.
    assert_eq!(x.data_offset, 128);
    let tsv = std::fs::read_to_string(dir.join("ecg_beats.tsv")).unwrap();
    let first: Vec<f32> = tsv
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    for (a, b) in x.values[..80].iter().zip(&first) {
        assert!((*a as f32 - b).abs() <= 1e-6, "{a} vs {b}");
    }
    let y = npy::read(&dir.join("ecg_labels.npy")).unwrap();
    assert_eq!(y.shape, [100]);
    assert_eq!(y.item_size, 8);
    assert_eq!(y.values.iter().sum::<f64>(), 40.0);
    // The one-class split matches the UCR reader's on the same beats (N normal).
    let split = npy::load(
        &dir.join("ecg_windows.npy"),
        &dir.join("ecg_labels.npy"),
        0,
        0.1,
    )
    .unwrap();
    let same = ucr::load(&dir.join("ecg_beats.tsv"), None, "1", 0, 0.1).unwrap();
    assert_eq!((split.train.n, split.val.n, split.test.n), (43, 5, 52));
    assert_eq!(split.test.labels, same.test.labels);
    assert_eq!((split.train.channels, split.train.length), (1, 80));
}

/// A `.npy` file: magic, version, header padded to a multiple of 64 with a newline.
fn npy_bytes(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut h = header.to_string();
    while !(prefix + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((h.len() as u16).to_le_bytes());
    } else {
        out.extend((h.len() as u32).to_le_bytes());
    }
    out.extend(h.as_bytes());
    out.extend(data);
    out
}

fn header(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
}

#[test]
fn dtypes_and_versions_by_hand() {
    let p = Path::new("t.npy");
    let f8: Vec<u8> = [1.5f64, -2.25]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let a = npy::parse(p, &npy_bytes(1, &header("<f8", "(2,)"), &f8)).unwrap();
    assert_eq!(
        (a.shape.clone(), a.values.clone()),
        (vec![2], vec![1.5, -2.25])
    );
    let i2: Vec<u8> = [-3i16, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
    let a = npy::parse(p, &npy_bytes(2, &header("<i2", "(1, 2)"), &i2)).unwrap();
    assert_eq!(
        (a.shape.clone(), a.values.clone()),
        (vec![1, 2], vec![-3.0, 300.0])
    );
    let a = npy::parse(p, &npy_bytes(3, &header("|u1", "(3,)"), &[0, 200, 255])).unwrap();
    assert_eq!(a.values, [0.0, 200.0, 255.0]);
    let a = npy::parse(p, &npy_bytes(1, &header("|b1", "(2,)"), &[1, 0])).unwrap();
    assert_eq!(a.values, [1.0, 0.0]);
    let i8s: Vec<u8> = [i64::from(i32::MIN), 7]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let a = npy::parse(p, &npy_bytes(1, &header("<i8", "(2,)"), &i8s)).unwrap();
    assert_eq!(a.values, [f64::from(i32::MIN), 7.0]);
    // Keys in another order, double quotes, a Python 2 long and no trailing comma.
    let h = "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f4\"}";
    let f4: Vec<u8> = [0.5f32, 8.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let a = npy::parse(p, &npy_bytes(1, h, &f4)).unwrap();
    assert_eq!(a.values, [0.5, 8.0]);
    // A 0-d shape holds one element.
    let a = npy::parse(p, &npy_bytes(1, &header("<f4", "()"), &f4[..4])).unwrap();
    assert_eq!((a.shape.len(), a.values.len()), (0, 1));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn malformed_npy_names_file_offset_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f4 = |values: &[f32]| -> Vec<u8> { values.iter().flat_map(|v| v.to_le_bytes()).collect() };
    let i8 = |values: &[i64]| -> Vec<u8> { values.iter().flat_map(|v| v.to_le_bytes()).collect() };
    let windows = write(
        d,
        "x.npy",
        &npy_bytes(1, &header("<f4", "(3, 2)"), &f4(&[0.0; 6])),
    );
    let labels_ok = write(
        d,
        "y.npy",
        &npy_bytes(1, &header("<i8", "(3,)"), &i8(&[0, 1, 0])),
    );
    assert!(npy::load(&windows, &labels_ok, 0, 0.1).is_ok());
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("empty.npy", vec![], "empty.npy: the file is empty".into()),
        ("magic.npy", b"PK\x03\x04 not npy".to_vec(), "magic.npy: at byte 0: not a .npy file: no \\x93NUMPY magic".into()),
        ("version.npy", b"\x93NUMPY\x07\x00\x00\x00".to_vec(), "version.npy: at byte 6: unsupported .npy version 7".into()),
        (
            "fortran.npy",
            npy_bytes(1, "{'descr': '<i8', 'fortran_order': True, 'shape': (3,), }", &i8(&[0, 1, 0])),
            "fortran.npy: at byte 10: Fortran-order arrays are not read; save np.ascontiguousarray(a)".into(),
        ),
        (
            "big_endian.npy",
            npy_bytes(1, &header(">i8", "(3,)"), &i8(&[0, 1, 0])),
            "big_endian.npy: at byte 10: unsupported dtype '>i8'".into(),
        ),
        (
            "header.npy",
            npy_bytes(1, "{'descr': '<i8', 'shape': [3], }", &i8(&[0, 1, 0])),
            "header.npy: at byte 36: header: expected a quoted string".into(),
        ),
        (
            "truncated.npy",
            npy_bytes(1, &header("<i8", "(3,)"), &i8(&[0, 1])),
            "truncated.npy: at byte 128: shape [3] of '<i8' needs 24 data bytes, found 16".into(),
        ),
        (
            "huge.npy",
            npy_bytes(1, &header("<i8", "(1000000000000,)"), &i8(&[0, 1])),
            "huge.npy: at byte 128: shape [1000000000000] of '<i8' needs 8000000000000 data bytes, found 16".into(),
        ),
        (
            "overflow.npy",
            npy_bytes(1, &header("<i8", "(10000000000, 10000000000, 10000000000, 10000000000)"), &i8(&[0, 1])),
            "needs more than 2^128 data bytes, found 16".into(),
        ),
        (
            "range.npy",
            npy_bytes(1, &header("<i8", "(3,)"), &i8(&[0, 2, 0])),
            "range.npy: at byte 136: label 1 is 2: out of range, labels must be 0 (normal) or 1 (anomalous)".into(),
        ),
        (
            "count.npy",
            npy_bytes(1, &header("<i8", "(2,)"), &i8(&[0, 1])),
            format!("count.npy: shape [2]: labels must be one value per window, shape [3] for {}", windows.display()),
        ),
        (
            "one_class.npy",
            npy_bytes(1, &header("<i8", "(3,)"), &i8(&[1, 1, 1])),
            "one_class.npy: labels must include both 0 (normal) and 1 (anomalous) windows".into(),
        ),
    ];
    for (name, bytes, expected) in cases {
        let labels = write(d, name, &bytes);
        let e = npy::load(&windows, &labels, 0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&d.display().to_string()), "{name}: {e}");
        assert!(e.contains(&expected), "{name}: {e}\n expected: {expected}");
    }
    // Windows of the wrong rank, and non-finite windows (element 4 at 128 + 4·4 = 144).
    let rank = write(
        d,
        "rank.npy",
        &npy_bytes(1, &header("<f4", "(6,)"), &f4(&[0.0; 6])),
    );
    let e = npy::load(&rank, &labels_ok, 0, 0.1)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("rank.npy: shape [6]: windows must be n × length or n × channels × length"),
        "{e}"
    );
    let nan = write(
        d,
        "nan.npy",
        &npy_bytes(
            1,
            &header("<f4", "(3, 2)"),
            &f4(&[0.0, 0.0, 0.0, 0.0, f32::NAN, 0.0]),
        ),
    );
    let e = npy::load(&nan, &labels_ok, 0, 0.1).unwrap_err().to_string();
    assert!(
        e.ends_with("nan.npy: at byte 144: element 4 is NaN (windows must be finite)"),
        "{e}"
    );
}

#[test]
fn npz_arrays_equal_their_npy_files_compressed_or_not() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/examples"));
    for name in ["windows", "labels"] {
        let from_npz = npy::read(&dir.join(format!("ecg_beats.npz:{name}"))).unwrap();
        let from_npy = npy::read(&dir.join(format!("ecg_{name}.npy"))).unwrap();
        assert_eq!(
            (&from_npz.shape, &from_npz.values),
            (&from_npy.shape, &from_npy.values)
        );
    }
    let split = npy::load(
        &dir.join("ecg_beats.npz:windows"),
        &dir.join("ecg_beats.npz:labels"),
        0,
        0.1,
    )
    .unwrap();
    assert_eq!(split.train.n + split.val.n + split.test.n, 100);

    let e = npy::read(&dir.join("ecg_beats.npz:nope"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ecg_beats.npz") && e.contains("nope") && e.contains("windows.npy"),
        "{e}"
    );
    let compressed = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compressed.npz:windows"
    ));
    // `numpy.savez_compressed` of the first two beats of the example.
    let deflated = npy::read(compressed).unwrap();
    let stored = npy::read(&dir.join("ecg_beats.npz:windows")).unwrap();
    assert_eq!(deflated.shape, [2, 1, 80]);
    assert_eq!(deflated.values, stored.values[..160]);
}
