//! The fuzz corpora (`fuzz/corpus/<target>/`, grown by `scripts/fuzz.sh`, and any
//! crash case kept there) replayed through the same entry points as the fuzz targets
//! of `fuzz/fuzz_targets/`: every input gives an error or a value, never a panic. A
//! stable-toolchain regression test; the fuzzing itself needs nightly.

use anolab::data::csv::{Delimiter, Table};
use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no corpus for {target}");
    out
}

#[test]
fn binary_and_text_readers_survive_their_corpora() {
    for (name, data) in inputs("npy") {
        let _ = anolab::data::npy::parse(Path::new(&name), &data);
    }
    for (name, data) in inputs("wfdb_header") {
        let _ = anolab::data::wfdb::parse_header(Path::new(&name), &String::from_utf8_lossy(&data));
    }
    for (name, data) in inputs("atr") {
        let _ = anolab::data::wfdb::parse_atr(Path::new(&name), &data);
    }
    for (name, data) in inputs("table") {
        let Some((&mode, rest)) = data.split_first() else {
            continue;
        };
        let delimiter = match mode % 3 {
            0 => Delimiter::Comma,
            1 => Delimiter::Tab,
            _ => Delimiter::Whitespace,
        };
        let text = String::from_utf8_lossy(rest);
        if let Ok(table) = Table::parse(Path::new(&name), &text, delimiter, mode & 4 != 0) {
            for row in &table.rows {
                for c in 0..row.cells.len() {
                    let _ = table.number(row, c);
                }
            }
        }
    }
}

#[test]
fn signal_label_archive_and_score_readers_survive_their_corpora() {
    for (name, data) in inputs("wfdb_dat") {
        let Some(split) = data.iter().position(|&b| b == 0) else {
            continue;
        };
        let text = String::from_utf8_lossy(&data[..split]);
        if let Ok(header) = anolab::data::wfdb::parse_header(Path::new(&name), &text) {
            let _ = anolab::data::wfdb::decode_212(Path::new(&name), &header, &data[split + 1..]);
        }
    }
    for (name, data) in inputs("rdann") {
        let _ =
            anolab::data::wfdb::parse_rdann_txt(Path::new(&name), &String::from_utf8_lossy(&data));
    }
    for (name, data) in inputs("nab_labels") {
        let text = String::from_utf8_lossy(&data);
        let signal = text.split('"').nth(1).unwrap_or("s").to_string();
        let _ = anolab::data::nab::parse_label_windows(Path::new(&name), &text, &signal);
        let _ = anolab::data::nab::parse_timestamp(&text);
    }
    for (name, data) in inputs("npz") {
        let _ = anolab::data::npy::parse_npz(Path::new(&format!("{name}:x")), &data, "x");
    }
    for (_, data) in inputs("scores_blob") {
        let [a, b, rest @ ..] = &data[..] else {
            continue;
        };
        let n_labels = (*a as usize).min(rest.len());
        let (labels, rest) = rest.split_at(n_labels);
        let n_scores = (*b as usize * 8).min(rest.len());
        let (scores, classes) = rest.split_at(n_scores);
        let _ = anolab::store::decode_scores(
            anolab::kinds::SplitName::Test,
            labels,
            scores,
            &String::from_utf8_lossy(classes),
        );
    }
}

/// Hand-made seeds of the newer targets decode as the files they copy.
#[test]
fn the_seed_inputs_are_valid_files() {
    let seed = |target: &str, file: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/corpus")
                .join(target)
                .join(file),
        )
        .unwrap()
    };
    let dat = seed("wfdb_dat", "seed_valid");
    let split = dat.iter().position(|&b| b == 0).unwrap();
    let header = anolab::data::wfdb::parse_header(
        Path::new("fuzz.hea"),
        &String::from_utf8_lossy(&dat[..split]),
    )
    .unwrap();
    let signals =
        anolab::data::wfdb::decode_212(Path::new("s.dat"), &header, &dat[split + 1..]).unwrap();
    assert_eq!((signals.len(), signals[0].len()), (2, 10));
    let notes = anolab::data::wfdb::parse_rdann_txt(
        Path::new("s.txt"),
        &String::from_utf8_lossy(&seed("rdann", "seed")),
    )
    .unwrap();
    assert_eq!(notes.len(), 3);
    let windows = anolab::data::nab::parse_label_windows(
        Path::new("l.json"),
        &String::from_utf8_lossy(&seed("nab_labels", "seed")),
        "s",
    )
    .unwrap();
    assert_eq!(windows.len(), 1);
    for file in ["seed_stored.npz", "seed_deflated.npz"] {
        let array =
            anolab::data::npy::parse_npz(Path::new("a.npz:x"), &seed("npz", file), "x").unwrap();
        assert!(!array.values.is_empty(), "{file}");
    }
    let blob = seed("scores_blob", "seed");
    let set = anolab::store::decode_scores(
        anolab::kinds::SplitName::Test,
        &blob[2..4],
        &blob[4..20],
        std::str::from_utf8(&blob[20..]).unwrap(),
    )
    .unwrap();
    assert_eq!(set.scores, [1.0, 2.0]);
    assert_eq!(set.classes, ["N", "V"]);
}

#[test]
fn sweep_files_survive_their_corpus() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (_, data)) in inputs("sweep_yaml").into_iter().enumerate() {
        let text = String::from_utf8_lossy(&data);
        let (yaml, line) = text.split_once("\n--\n").unwrap_or((&text, ""));
        let overrides: Vec<_> = line
            .split_whitespace()
            .filter_map(|o| anolab::config::parse_override(o).ok())
            .collect();
        let path = dir.path().join(format!("{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let _ = anolab::config::load_sweep_limited(&path, &overrides, 1_000);
    }
}
