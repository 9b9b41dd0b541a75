//! anolab's BeatGAN training steps, written out so that `scripts/beatgan_parity.py` can
//! replay them in PyTorch from the same weights on the same batches and compare every
//! loss and weight (issue #18: is the gap to the official code in anolab's kernels?):
//!
//!     cargo run --release --example beatgan_parity -- data/mitdb-mini /tmp/parity 20
//!     python3 scripts/beatgan_parity.py /tmp/parity
//!
//! Arguments: a mitdb folder, an output folder and the number of steps. It writes
//! `init.safetensors` (the seed-0 weights at the paper's size: nz 50, ndf = ngf = 32),
//! `batches.safetensors` (`x`: the first steps × 64 training beats of fold 0, in order),
//! `losses.json` (err_d, err_g, err_g_rec, err_g_adv per step) and `final.safetensors`.

use anolab::data::mitdb::{self, MitdbConfig};
use anolab::models::beatgan::{BeatGan, BeatganConfig};
use anolab::models::train::batch_tensor;
use anolab::models::{Build, Detector, InputShape, TrainConfig};
use candle_core::Device;
use std::collections::HashMap;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out, steps] = args.as_slice() else {
        anyhow::bail!("usage: beatgan_parity MITDB_DIR OUT_DIR STEPS");
    };
    let (out, steps): (PathBuf, usize) = (out.into(), steps.parse()?);
    std::fs::create_dir_all(&out)?;
    let split = mitdb::load(
        &MitdbConfig {
            path: dir.into(),
            ..MitdbConfig::default()
        },
        0,
    )?;
    let train = TrainConfig::default();
    let batch = train.batch_size;
    anyhow::ensure!(
        split.train.n >= steps * batch,
        "{} training beats: fewer than {steps} batches of {batch}",
        split.train.n
    );
    let device = Device::Cpu;
    let mut model = BeatGan::new(
        BeatganConfig::default(),
        &Build {
            train: &train,
            shape: InputShape::of(&split.train),
            device: &device,
            seed: 0,
            dependencies: &[],
        },
    )?;
    model.save(&out.join("init.safetensors"))?;
    let all: Vec<usize> = (0..steps * batch).collect();
    let x = batch_tensor(&split.train, &all, &device)?;
    candle_core::safetensors::save(
        &HashMap::from([("x".to_string(), x.clone())]),
        out.join("batches.safetensors"),
    )?;
    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        let xb = x.narrow(0, step * batch, batch)?;
        losses.push(model.step_with(&xb, &|_, _| Ok(Vec::new()))?);
    }
    std::fs::write(out.join("losses.json"), serde_json::to_string(&losses)?)?;
    model.save(&out.join("final.safetensors"))?;
    println!("{steps} steps written to {}", out.display());
    Ok(())
}
