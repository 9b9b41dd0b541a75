//! One BeatGAN training step (D then G) at the paper's size: batch 64, 1×320, ndf = ngf
//! = 32, nz 50, f32, CPU. `cargo bench --bench beatgan_step` prints the median and the
//! spread over repeated steps (the first steps warm up and are not counted).

use anolab::config::{BeatganConfig, TrainConfig};
use anolab::data::Windows;
use anolab::models::beatgan::BeatGan;
use anolab::models::{Detector, InputShape};
use anolab::rng::SplitMix64;
use candle_core::Device;
use std::time::Instant;

fn main() {
    let steps: usize = std::env::var("STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut rng = SplitMix64::new(0);
    let (n, length) = (64, 320);
    let windows = Windows {
        data: (0..n * length).map(|_| rng.normal() as f32 * 0.3).collect(),
        n,
        channels: 1,
        length,
        labels: vec![false; n],
        classes: vec!["N".into(); n],
    };
    let train = TrainConfig::default();
    let mut model = BeatGan::new(
        BeatganConfig::default(),
        train,
        InputShape {
            channels: 1,
            length,
        },
        &Device::Cpu,
        0,
    )
    .expect("model");
    // 64 windows with batch size 64: one epoch is exactly one D+G step.
    for _ in 0..2 {
        model
            .fit_epoch(&windows, &mut rng, &mut || {})
            .expect("step");
    }
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            let start = Instant::now();
            model
                .fit_epoch(&windows, &mut rng, &mut || {})
                .expect("step");
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "beatgan step (batch 64, 1x320, ndf 32, nz 50, f32, cpu, {} threads): median {:.3} s, min {:.3} s, max {:.3} s over {steps} steps",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        times[steps / 2],
        times[0],
        times[steps - 1]
    );
}
