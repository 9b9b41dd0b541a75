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
