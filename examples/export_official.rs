//! Writes anolab's MIT-BIH beats in the layout the official BeatGAN code reads
//! (hi-bingo/BeatGAN, `experiments/ecg/data.py`: `N_samples.npy`, `S_samples.npy`,
//! `V_samples.npy`, `F_samples.npy`, `Q_samples.npy`, each `n × 1 × 320`, `<f4`), so
//! that the official code can be trained on exactly anolab's beats (issue #18):
//!
//!     cargo run --release --example export_official -- ../shared/data/mitdb /tmp/beats
//!
//! With `--filter biosppy_2` the beats are cut from biosppy 2's band-pass
//! (`dataset.filter`). With `--rpeak-check` the normals are those
//! `dataset.rpeak_check: true` keeps (the
//! official preprocessing's R-peak check).
//!
//! The official code cuts fold k of the normals as the k-th contiguous fifth of
//! `N_samples.npy` as stored, so N is written as anolab's fold-0 test normals first,
//! then its training and validation normals: the official fold 0 then tests on
//! anolab's fold-0 test normals. The abnormal classes are written whole (the official
//! code puts 10 % of each into validation and the rest into test, by its own seed).

use anolab::data::mitdb::{self, MitdbConfig};
use anolab::data::Windows;
use std::io::Write;
use std::path::Path;

/// `windows[indices]` as a `.npy` v1.0 file of shape `n × channels × length`, `<f4`.
fn write_npy(path: &Path, windows: &[(&Windows, usize)]) -> std::io::Result<()> {
    let (channels, length) = windows
        .first()
        .map_or((1, 320), |(w, _)| (w.channels, w.length));
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {channels}, {length}), }}",
        windows.len()
    );
    // The magic, version, header length and header are padded to a multiple of 64.
    let padded = (10 + header.len() + 1).div_ceil(64) * 64 - 10;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(padded as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    out.write_all(&vec![b' '; padded - header.len() - 1])?;
    out.write_all(b"\n")?;
    for (w, i) in windows {
        for v in w.window(*i) {
            out.write_all(&v.to_le_bytes())?;
        }
    }
    out.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: export_official MITDB_DIR OUT_DIR [--rpeak-check] [--filter biosppy_0_6|biosppy_2]";
    let [dir, out, flags @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    let mut config = MitdbConfig {
        path: dir.into(),
        ..MitdbConfig::default()
    };
    let mut flags = flags.iter();
    while let Some(flag) = flags.next() {
        match (flag.as_str(), flags.clone().next()) {
            ("--rpeak-check", _) => config.rpeak_check = true,
            ("--filter", Some(name)) => {
                config.filter = serde_json::from_value(serde_json::Value::String(name.clone()))
                    .map_err(|e| format!("--filter {name}: {e}"))?;
                flags.next();
            }
            _ => return Err(format!("unknown argument `{flag}`; {usage}").into()),
        }
    }
    std::fs::create_dir_all(out)?;
    let split = mitdb::load(&config, 0)?;
    let of_class = |class: &str, parts: &[&'static str]| -> Vec<(&Windows, usize)> {
        parts
            .iter()
            .flat_map(|part| {
                let w = match *part {
                    "test" => &split.test,
                    "train" => &split.train,
                    _ => &split.val,
                };
                (0..w.n)
                    .filter(|&i| w.classes[i] == class)
                    .map(move |i| (w, i))
            })
            .collect()
    };
    for class in ["N", "S", "V", "F", "Q"] {
        let beats = of_class(class, &["test", "train", "val"]);
        let path = Path::new(out).join(format!("{class}_samples.npy"));
        write_npy(&path, &beats)?;
        println!("{}: {} beats", path.display(), beats.len());
    }
    Ok(())
}
