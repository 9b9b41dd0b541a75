//! MIT-BIH data layer: WFDB reading, BeatGAN beat extraction and split, filter vs scipy.
//!
//! The mini set in `data/mitdb-mini` (records 114, 208, 222) ships with the crate, so
//! those tests always run. Tests over all 48 records read `../shared/data/mitdb` and
//! skip with a message when it is absent.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anolab::data::mitdb::{
    self, beatgan_class, extract_beats, filtfilt_fir, firwin_bandpass, Filter, MitdbConfig,
};
use anolab::data::rpeaks;
use anolab::data::wfdb::{read_atr, read_header, read_rdann_txt, read_signals, Annotation};
use anolab::data::{DataError, Windows};

const MINI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mitdb-mini");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mitdb");
const MINI_RECORDS: [&str; 3] = ["114", "208", "222"];
const N_SAMPLES: usize = 650_000;

fn mini() -> &'static Path {
    Path::new(MINI)
}

/// The full 48-record set, or `None` after printing why the test is skipped.
fn shared() -> Option<&'static Path> {
    let dir = Path::new(SHARED);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/data/mitdb not found");
        None
    }
}

fn text_annotations(dir: &Path, record: &str) -> Vec<Annotation> {
    read_rdann_txt(&dir.join(format!("annotations_txt/{record}annotations.txt"))).unwrap()
}

fn symbol_counts(annotations: &[Annotation]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for a in annotations {
        *counts.entry(a.symbol.clone()).or_insert(0) += 1;
    }
    counts
}

/// Beats of each BeatGAN class whose 320-sample window would cross the record edge.
fn edge_drops(annotations: &[Annotation]) -> BTreeMap<&'static str, usize> {
    let mut drops = BTreeMap::new();
    for a in annotations {
        if let Some(class) = beatgan_class(&a.symbol) {
            if a.sample < mitdb::BEAT_BEFORE || a.sample + mitdb::BEAT_AFTER >= N_SAMPLES {
                *drops.entry(class).or_insert(0) += 1;
            }
        }
    }
    drops
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_string(), *n))
        .collect()
}

// ---------------------------------------------------------------- mini set: reading

#[test]
fn mini_headers() {
    // (record, leads, init values, checksums), copied from the header files.
    let expected = [
        ("114", ["V5", "MLII"], [1015, 1027], [-11371, -13230]),
        ("208", ["MLII", "V1"], [1003, 1062], [8074, 20649]),
        ("222", ["MLII", "V1"], [996, 949], [-16993, -25021]),
    ];
    for (record, leads, inits, checksums) in expected {
        let h = read_header(&mini().join(format!("{record}.hea"))).unwrap();
        assert_eq!(h.record, record);
        assert_eq!(h.fs, 360.0);
        assert_eq!(h.n_samples, N_SAMPLES);
        assert_eq!(h.signals.len(), 2);
        for (i, s) in h.signals.iter().enumerate() {
            assert_eq!(s.file, format!("{record}.dat"));
            assert_eq!(
                (s.format, s.gain, s.adc_resolution, s.adc_zero),
                (212, 200.0, 11, 1024)
            );
            assert_eq!(s.block_size, 0);
            assert_eq!(s.description, leads[i]);
            assert_eq!(s.init_value, inits[i]);
            assert_eq!(s.checksum, checksums[i]);
        }
        assert_eq!(h.channel("MLII"), Some(if record == "114" { 1 } else { 0 }));
        assert!(!h.comments.is_empty());
    }
}

#[test]
fn mini_signals_match_headers() {
    for record in MINI_RECORDS {
        let h = read_header(&mini().join(format!("{record}.hea"))).unwrap();
        let signals = read_signals(mini(), &h).unwrap();
        assert_eq!(signals.len(), 2);
        for (samples, spec) in signals.iter().zip(&h.signals) {
            assert_eq!(samples.len(), N_SAMPLES);
            assert_eq!(i32::from(samples[0]), spec.init_value);
            // 11-bit ADC: every value fits in 0..2048.
            assert!(samples.iter().all(|&s| (0..2048).contains(&s)));
        }
    }
}

#[test]
fn mini_atr_matches_text() {
    for record in ["208", "222"] {
        let atr = read_atr(&mini().join(format!("{record}.atr"))).unwrap();
        assert_eq!(atr, text_annotations(mini(), record), "record {record}");
    }
    assert!(
        !mini().join("114.atr").exists(),
        "114 is the text-only record"
    );
}

#[test]
fn mini_text_counts_match_beat_summary() {
    // Non-zero symbol counts of beat_summary.csv for these records, and n_annotations.
    let expected = [
        (
            "114",
            counts(&[("N", 1820), ("A", 10), ("J", 2), ("V", 43), ("F", 4)]),
            1890,
        ),
        (
            "208",
            counts(&[("N", 1586), ("S", 2), ("V", 992), ("F", 373), ("Q", 2)]),
            3040,
        ),
        (
            "222",
            counts(&[("N", 2062), ("j", 212), ("A", 208), ("J", 1)]),
            2634,
        ),
    ];
    for (record, beats, n_annotations) in expected {
        let annotations = text_annotations(mini(), record);
        assert_eq!(annotations.len(), n_annotations);
        let mut symbols = symbol_counts(&annotations);
        symbols.retain(|s, _| beatgan_class(s).is_some() || s == "!");
        assert_eq!(symbols, beats, "record {record}");
    }
}

// ------------------------------------------------------------ mini set: beats, split

/// BeatGAN class counts per mini record: beat_summary.csv's `beatgan_*` columns minus
/// the beats too close to the record edge for a full window (114 none; 208 one N at
/// the start and one F at the end; 222 two N).
const MINI_CLASS_COUNTS: [(&str, [usize; 5]); 3] = [
    //        N     S    V    F    Q
    ("114", [1820, 12, 43, 4, 0]),
    ("208", [1585, 2, 992, 372, 2]),
    ("222", [2060, 421, 0, 0, 0]),
];
const CLASSES: [&str; 5] = ["N", "S", "V", "F", "Q"];
const MINI_TOTALS: [usize; 5] = [5465, 435, 1035, 376, 2];
const MINI_BEATS: usize = 7313;

#[test]
fn mini_extraction_counts() {
    let summary: [(&str, [usize; 5]); 3] = [
        ("114", [1820, 12, 43, 4, 0]),
        ("208", [1586, 2, 992, 373, 2]),
        ("222", [2062, 421, 0, 0, 0]),
    ];
    for ((record, expected), (_, before)) in MINI_CLASS_COUNTS.iter().zip(summary) {
        let beats = extract_beats(mini(), &[record], Filter::default(), false).unwrap();
        let drops = edge_drops(&text_annotations(mini(), record));
        let got = beats.class_counts();
        for (c, class) in CLASSES.iter().enumerate() {
            let dropped = drops.get(class).copied().unwrap_or(0);
            assert_eq!(before[c] - dropped, expected[c], "{record} {class}");
            assert_eq!(
                got.get(*class).copied().unwrap_or(0),
                expected[c],
                "{record} {class}"
            );
        }
    }
    let all = extract_beats(mini(), &MINI_RECORDS, Filter::default(), false).unwrap();
    assert_eq!((all.n, all.channels, all.length), (MINI_BEATS, 1, 320));
    assert_eq!(all.data.len(), MINI_BEATS * 320);
    let expected: BTreeMap<String, usize> = CLASSES
        .iter()
        .zip(MINI_TOTALS)
        .map(|(c, n)| (c.to_string(), n))
        .collect();
    assert_eq!(all.class_counts(), expected);
    for i in 0..all.n {
        assert_eq!(all.labels[i], all.classes[i] != "N");
        let w = all.window(i);
        assert!(w.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert!(
            w.contains(&-1.0) && w.contains(&1.0),
            "beat {i} not scaled to [-1, 1]"
        );
    }
}

fn window_keys(w: &Windows) -> Vec<Vec<u32>> {
    (0..w.n)
        .map(|i| w.window(i).iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The shipped records split with `seed` (the fold is passed to `load`/`split`).
fn fold(seed: u64) -> MitdbConfig {
    MitdbConfig {
        path: mini().into(),
        split_seed: seed,
        ..MitdbConfig::default()
    }
}

#[test]
fn mini_split_fold0() {
    assert_eq!(mitdb::list_records(mini()).unwrap(), MINI_RECORDS);
    let split = mitdb::load(&fold(7), 0).unwrap();
    // N: 5465 → test fold 1093, rest 4372 → val 437, train 3935.
    // S 435 → 43 val; V 1035 → 103; F 376 → 37; Q 2 → 0.
    assert_eq!(split.train.n, 3935);
    assert_eq!(split.val.n, 437 + 43 + 103 + 37);
    assert_eq!(split.test.n, 1093 + 392 + 932 + 339 + 2);
    assert_eq!(split.train.n + split.val.n + split.test.n, MINI_BEATS);
    assert!(split.train.labels.iter().all(|&abnormal| !abnormal));
    assert_eq!(split.test.class_counts()["N"], 1093);
    assert_eq!(split.val.class_counts()["N"], 437);
    for w in [&split.train, &split.val, &split.test] {
        assert_eq!((w.channels, w.length), (1, 320));
        assert_eq!(w.data.len(), w.n * 320);
    }

    // Train, val and test are disjoint and together hold every beat.
    let all = extract_beats(mini(), &MINI_RECORDS, Filter::default(), false).unwrap();
    let every: HashSet<Vec<u32>> = window_keys(&all).into_iter().collect();
    assert_eq!(
        every.len(),
        MINI_BEATS,
        "windows are distinct, so they identify beats"
    );
    let mut seen = HashSet::new();
    for w in [&split.train, &split.val, &split.test] {
        for key in window_keys(w) {
            assert!(seen.insert(key), "a beat is in two parts of the split");
        }
    }
    assert_eq!(seen, every);
}

#[test]
fn mini_folds_partition_normals() {
    let all = extract_beats(mini(), &MINI_RECORDS, Filter::default(), false).unwrap();
    let mut test_normals = HashSet::new();
    for k in 0..5 {
        let split = mitdb::split(&all, &fold(7), k);
        let n = split.test.labels.iter().filter(|&&a| !a).count();
        assert_eq!(n, 1093, "fold {k}");
        let keys = window_keys(&split.test);
        for (key, &abnormal) in keys.into_iter().zip(&split.test.labels) {
            if !abnormal {
                assert!(test_normals.insert(key), "fold {k} repeats a test normal");
            }
        }
    }
    assert_eq!(test_normals.len(), MINI_TOTALS[0]);
}

#[test]
fn mini_split_is_deterministic() {
    let all = extract_beats(mini(), &MINI_RECORDS, Filter::default(), false).unwrap();
    let a = mitdb::split(&all, &fold(11), 2);
    let b = mitdb::split(&all, &fold(11), 2);
    let c = mitdb::split(&all, &fold(12), 2);
    for (x, y) in [(&a.train, &b.train), (&a.val, &b.val), (&a.test, &b.test)] {
        assert_eq!(x.data, y.data);
        assert_eq!(x.classes, y.classes);
    }
    assert_ne!(a.train.data, c.train.data);
    assert_ne!(a.test.data, c.test.data);

    let capped = mitdb::split(
        &all,
        &MitdbConfig {
            max_train: Some(100),
            ..fold(11)
        },
        2,
    );
    assert_eq!(capped.train.n, 100);
    assert_eq!(capped.train.data[..], a.train.data[..100 * 320]);
    assert_eq!(capped.test.data, a.test.data);
}

#[test]
fn load_rejects_bad_options() {
    let e = mitdb::load(&fold(0), 5).unwrap_err();
    assert!(matches!(e, DataError::Options { .. }), "{e}");
    assert!(e.to_string().contains("mitdb-mini"), "{e}");
}

// ------------------------------------------------------------------ filter vs scipy

// Printed by scripts/filter_fixture.py (scipy 1.17.1, numpy 2.4.6).
const TAP_INDICES: [usize; 7] = [0, 1, 27, 53, 54, 80, 108];
const TAPS: [f64; 7] = [
    -0.0006171574254302328,
    -0.000516792445490209,
    -0.0017858441969973119,
    0.2082119476365297,
    0.2332819326578833,
    0.00015158951564953535,
    -0.0006171574254302328,
];
const TAPS_SUM: f64 = 0.20538016841247395;
const SYNTH_INDICES: [usize; 12] = [0, 1, 2, 163, 326, 327, 499, 500, 501, 672, 998, 999];
const SYNTH_FILTERED: [f64; 12] = [
    9.690056916589196e-18,
    0.14800528115973763,
    0.2832275410703215,
    -0.4978540164624983,
    0.4010262065430286,
    0.2731096734470217,
    -0.31094994812623733,
    -0.21743181563322417,
    -0.11871570098896929,
    -0.3661815368504171,
    -0.07982161569543482,
    0.1294223422696908,
];
const REC_INDICES: [usize; 7] = [0, 1, 140, 1000, 325000, 649859, 649999];
const REC_114_FILTERED: [f64; 7] = [
    0.00063271520365704,
    -0.004332503706695304,
    0.0002669085197772466,
    -0.01315239693156752,
    -0.013828433811031396,
    -0.054943490978356595,
    -1.6025863362051362e-18,
];

/// The synthetic input of scripts/filter_fixture.py: three tones, a ramp and a step.
fn synthetic(n: usize) -> Vec<f64> {
    use std::f64::consts::TAU;
    (0..n)
        .map(|i| {
            let t = i as f64 / 360.0;
            (TAU * 1.3 * t).sin()
                + 0.5 * (TAU * 17.0 * t).sin()
                + 0.25 * (TAU * 70.0 * t).sin()
                + 0.002 * i as f64
                + if i >= 500 { 1.0 } else { 0.0 }
        })
        .collect()
}

/// Agreement to 1e-9 relative to the largest expected magnitude (values that should be
/// 0 come out as ±1e-17 on both sides, so a per-value relative test is meaningless).
fn assert_close(got: &[f64], expected: &[f64], what: &str) {
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-9 * scale,
            "{what}[{i}]: {g} vs scipy {e}"
        );
    }
}

#[test]
fn filter_matches_scipy() {
    let taps = firwin_bandpass(109, 3.0, 45.0, 360.0);
    assert_eq!(taps.len(), 109);
    let picked: Vec<f64> = TAP_INDICES.iter().map(|&i| taps[i]).collect();
    assert_close(&picked, &TAPS, "taps");
    assert_close(&[taps.iter().sum()], &[TAPS_SUM], "sum of taps");

    let y = filtfilt_fir(&taps, &synthetic(1000));
    let picked: Vec<f64> = SYNTH_INDICES.iter().map(|&i| y[i]).collect();
    assert_close(&picked, &SYNTH_FILTERED, "synthetic");

    let h = read_header(&mini().join("114.hea")).unwrap();
    let mlii = &h.signals[1];
    let mv: Vec<f64> = read_signals(mini(), &h).unwrap()[1]
        .iter()
        .map(|&adu| mlii.to_physical(adu))
        .collect();
    let y = filtfilt_fir(&taps, &mv);
    let picked: Vec<f64> = REC_INDICES.iter().map(|&i| y[i]).collect();
    assert_close(&picked, &REC_114_FILTERED, "record 114 MLII");
}

// -------------------------------------------------------------------------- errors

fn copy_record(from: &Path, to: &Path, record: &str) {
    for ext in ["hea", "dat"] {
        let name = format!("{record}.{ext}");
        std::fs::copy(from.join(&name), to.join(&name)).unwrap();
    }
}

#[test]
fn malformed_header_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("114.hea");
    let text = std::fs::read_to_string(mini().join("114.hea")).unwrap();
    std::fs::write(&path, text.replace("1024 1015", "zero 1015")).unwrap();
    let e = read_header(&path).unwrap_err().to_string();
    assert!(e.contains(&format!("{}:2:", path.display())), "{e}");
    assert!(e.contains("ADC zero `zero`"), "{e}");
}

#[test]
fn truncated_dat_names_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_record(mini(), dir.path(), "114");
    let dat = dir.path().join("114.dat");
    let bytes = std::fs::read(&dat).unwrap();
    std::fs::write(&dat, &bytes[..bytes.len() - 3]).unwrap();
    let h = read_header(&dir.path().join("114.hea")).unwrap();
    let e = read_signals(dir.path(), &h).unwrap_err().to_string();
    assert!(e.contains(&dat.display().to_string()), "{e}");
    assert!(e.contains("1949997 bytes"), "{e}");
}

#[test]
fn missing_annotations_name_record_and_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_record(mini(), dir.path(), "114");
    let e = extract_beats(dir.path(), &["114"], Filter::default(), false).unwrap_err();
    assert!(matches!(e, DataError::MissingAnnotations { .. }), "{e}");
    let e = e.to_string();
    assert!(e.contains("record 114"), "{e}");
    let expected: PathBuf = dir.path().join("annotations_txt/114annotations.txt");
    assert!(e.contains(&expected.display().to_string()), "{e}");
}

// ------------------------------------------------------ the full set, when present

/// `beat_summary.csv` as rows of column name → value.
fn beat_summary(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("beat_summary.csv")).unwrap();
    let mut lines = text.lines();
    let columns: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            columns
                .iter()
                .zip(line.split(','))
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn all_records(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("RECORDS"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn shared_headers_and_signals() {
    let Some(dir) = shared() else { return };
    let records = all_records(dir);
    assert_eq!(records.len(), 48);
    for record in &records {
        let h = read_header(&dir.join(format!("{record}.hea"))).unwrap();
        assert_eq!(
            (h.record.as_str(), h.n_samples, h.fs),
            (record.as_str(), N_SAMPLES, 360.0)
        );
        // read_signals itself checks size, first samples and checksums.
        let signals = read_signals(dir, &h).unwrap();
        for (samples, spec) in signals.iter().zip(&h.signals) {
            assert_eq!(samples.len(), N_SAMPLES);
            assert_eq!(i32::from(samples[0]), spec.init_value, "record {record}");
        }
    }
}

#[test]
fn shared_atr_matches_text() {
    let Some(dir) = shared() else { return };
    let mut n = 0;
    for record in all_records(dir) {
        let atr = dir.join(format!("{record}.atr"));
        if atr.exists() {
            assert_eq!(
                read_atr(&atr).unwrap(),
                text_annotations(dir, &record),
                "{record}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 27);
}

#[test]
fn shared_text_counts_match_beat_summary() {
    let Some(dir) = shared() else { return };
    let column_symbol = [
        ("n_N", "N"),
        ("n_L", "L"),
        ("n_R", "R"),
        ("n_e", "e"),
        ("n_j", "j"),
        ("n_A", "A"),
        ("n_a", "a"),
        ("n_J", "J"),
        ("n_S", "S"),
        ("n_V", "V"),
        ("n_E", "E"),
        ("n_F", "F"),
        ("n_slash", "/"),
        ("n_f", "f"),
        ("n_Q", "Q"),
        ("n_excl", "!"),
    ];
    let rows = beat_summary(dir);
    assert_eq!(rows.len(), 48);
    for row in rows {
        let record = &row["record"];
        let annotations = text_annotations(dir, record);
        assert_eq!(
            annotations.len().to_string(),
            row["n_annotations"],
            "{record}"
        );
        let symbols = symbol_counts(&annotations);
        for (column, symbol) in column_symbol {
            let got = symbols.get(symbol).copied().unwrap_or(0);
            assert_eq!(got.to_string(), row[column], "record {record}, {symbol}");
        }
    }
}

#[test]
fn shared_beatgan_extraction_totals() {
    let Some(dir) = shared() else { return };
    // README: over the 44 records, BeatGAN mapping, before window and R-peak filters.
    let before = [
        ("N", 89880),
        ("S", 3026),
        ("V", 7009),
        ("F", 803),
        ("Q", 15),
    ];
    let rows = beat_summary(dir);
    for (class, total) in before {
        let sum: usize = rows
            .iter()
            .filter(|r| r["in_beatgan"] == "1")
            .map(|r| r[&format!("beatgan_{class}")].parse::<usize>().unwrap())
            .sum();
        assert_eq!(sum, total, "beat_summary.csv vs README for {class}");
    }

    let records = mitdb::list_records(dir).unwrap();
    assert_eq!(records, mitdb::BEATGAN_RECORDS);
    let mut drops: BTreeMap<&str, usize> = BTreeMap::new();
    for record in &records {
        for (class, n) in edge_drops(&mitdb::read_annotations(dir, record).unwrap()) {
            *drops.entry(class).or_insert(0) += n;
        }
    }

    let start = Instant::now();
    let beats = extract_beats(dir, &records, Filter::default(), false).unwrap();
    let elapsed = start.elapsed();
    let got = beats.class_counts();
    println!(
        "44 records: {} beats in {elapsed:.2?}; per class {got:?}; edge drops {drops:?}",
        beats.n
    );
    for (class, total) in before {
        let expected = total - drops.get(class).copied().unwrap_or(0);
        assert_eq!(got[class], expected, "class {class}");
    }
    // Measured: only N, V and F lose beats at record edges.
    assert_eq!(drops, BTreeMap::from([("F", 1), ("N", 44), ("V", 1)]));
}

/// Both of biosppy's band-passes, with the fixture `scripts/rpeak_fixture.py` wrote
/// from that biosppy itself: `rpeaks.json` (0.6.1), `rpeaks_biosppy2.json` (2.2.4).
const FILTERS: [(Filter, &str); 2] = [
    (Filter::Biosppy06, "rpeaks.json"),
    (Filter::Biosppy2, "rpeaks_biosppy2.json"),
];

fn rpeak_fixture(file: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A record's MLII lead in mV, band-passed as the loader (and biosppy) band-pass it.
fn filtered_mlii(dir: &Path, record: &str, filter: Filter) -> Vec<f64> {
    let header = read_header(&dir.join(format!("{record}.hea"))).unwrap();
    let channel = header.channel("MLII").unwrap();
    let signals = read_signals(dir, &header).unwrap();
    let spec = &header.signals[channel];
    let mv: Vec<f64> = signals[channel]
        .iter()
        .map(|&adu| spec.to_physical(adu))
        .collect();
    filter.apply(&mv, 360.0)
}

#[test]
fn filtered_signal_and_rpeaks_are_biosppys_on_the_mini_records() {
    for (filter, file) in FILTERS {
        let fixture = rpeak_fixture(file);
        for record in MINI_RECORDS {
            let filtered = filtered_mlii(mini(), record, filter);
            let at = fixture["records"][record]["filtered"].as_object().unwrap();
            for (i, want) in at {
                let (got, want) = (
                    filtered[i.parse::<usize>().unwrap()],
                    want.as_f64().unwrap(),
                );
                assert!(
                    (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
                    "{file} record {record} filtered[{i}]: {got} vs biosppy's {want}"
                );
            }
            let want: Vec<usize> = fixture["records"][record]["rpeaks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let got = rpeaks::biosppy_rpeaks(&filtered, 360.0);
            let (want_set, got_set): (HashSet<_>, HashSet<_>) =
                (want.iter().collect(), got.iter().collect());
            assert_eq!(
                got,
                want,
                "{file} record {record}: {} peaks vs biosppy's {}; only here {:?}, only biosppy {:?}",
                got.len(),
                want.len(),
                got_set.difference(&want_set).take(10).collect::<Vec<_>>(),
                want_set.difference(&got_set).take(10).collect::<Vec<_>>(),
            );
        }
    }
}

#[test]
fn the_rpeak_check_keeps_the_official_normal_beats() {
    for (filter, file) in FILTERS {
        let fixture = rpeak_fixture(file);
        for (record, unchecked) in MINI_CLASS_COUNTS {
            let got = extract_beats(mini(), &[record], filter, true)
                .unwrap()
                .class_counts();
            for (c, class) in CLASSES.iter().enumerate() {
                let want = fixture["records"][record]["kept"][class].as_u64().unwrap() as usize;
                assert_eq!(
                    got.get(*class).copied().unwrap_or(0),
                    want,
                    "{file} {record} {class}"
                );
                // Only normal beats are checked.
                if *class != "N" {
                    assert_eq!(want, unchecked[c], "{file} {record} {class}");
                }
            }
        }
    }
    // And through the config: the check is part of the key only when on.
    let on = MitdbConfig {
        path: mini().to_path_buf(),
        rpeak_check: true,
        ..MitdbConfig::default()
    };
    assert!(serde_json::to_string(&on).unwrap().contains("rpeak_check"));
    let off = MitdbConfig {
        rpeak_check: false,
        ..on.clone()
    };
    assert!(!serde_json::to_string(&off).unwrap().contains("rpeak_check"));
    let n_train = |c: &MitdbConfig| mitdb::load(c, 0).unwrap().train.n;
    assert!(n_train(&on) < n_train(&off));
    // The filter is in the key only when it is not the default.
    let biosppy2 = MitdbConfig {
        filter: Filter::Biosppy2,
        ..off.clone()
    };
    let key = serde_json::to_string(&biosppy2).unwrap();
    assert!(key.contains(r#""filter":"biosppy_2""#), "{key}");
    assert!(!serde_json::to_string(&off).unwrap().contains("filter"));
}

#[test]
fn shared_rpeak_check_counts_on_the_44_records() {
    let Some(dir) = shared() else { return };
    // biosppy 0.6.1: 86,897 N; 2.2.4: 86,780 N, the issue's count of the official code.
    for (filter, file) in FILTERS {
        let total = &rpeak_fixture(file)["full_44"]["total"];
        let start = Instant::now();
        let got = extract_beats(dir, &mitdb::BEATGAN_RECORDS, filter, true)
            .unwrap()
            .class_counts();
        println!(
            "44 records, {filter:?}, with the R-peak check in {:.2?}: {got:?}",
            start.elapsed()
        );
        for class in CLASSES {
            assert_eq!(
                got.get(class).copied().unwrap_or(0),
                total[class].as_u64().unwrap() as usize,
                "{file} {class}"
            );
        }
    }
}
