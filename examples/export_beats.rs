//! Writes MIT-BIH beats as a UCR-style TSV (label first, one beat per row), the way
//! `data/examples/ecg_beats.tsv` was made:
//!
//!     cargo run --release --example export_beats -- data/mitdb-mini 60 20 20 4 > data/examples/ecg_beats.tsv
//!
//! Arguments: the mitdb folder, how many N, S and V beats to take (the first of each
//! class in the fold-0 test split, split_seed 0), and a decimation factor: each output
//! sample is the mean of that many consecutive samples (320 / 4 = 80, a window length
//! the conv models accept). Labels: N = 1, S = 2, V = 3.

use anolab::data::mitdb::{self, MitdbConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, s, v, factor] = args.as_slice() else {
        return Err("usage: export_beats DIR N_COUNT S_COUNT V_COUNT FACTOR".into());
    };
    let factor: usize = factor.parse()?;
    let config = MitdbConfig {
        path: dir.into(),
        ..MitdbConfig::default()
    };
    let split = mitdb::load(&config, 0)?;
    let test = &split.test;
    for (class, label, count) in [("N", 1, n), ("S", 2, s), ("V", 3, v)] {
        let count: usize = count.parse()?;
        let picked = (0..test.n)
            .filter(|&i| test.classes[i] == class)
            .take(count);
        for i in picked {
            let beat = test.window(i);
            let samples: Vec<String> = beat
                .chunks(factor)
                .map(|c| format!("{:.6}", c.iter().sum::<f32>() / c.len() as f32))
                .collect();
            println!("{label}\t{}", samples.join("\t"));
        }
    }
    Ok(())
}
