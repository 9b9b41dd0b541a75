//! The CUDA halves of our ops against their CPU halves (`--features cuda`, a GPU at
//! cuda:0): values and gradients of every member of the convolution family on random
//! shapes, a gradient of a gradient through it (TadGAN's penalty), the LeakyReLU mask
//! op, the Adam step and its saved state, the fused batch norm + activation (output,
//! gradients, running statistics), and one BeatGAN epoch's losses on both devices. Without a GPU each test says so
//! and passes, unless `ANOLAB_REQUIRE_GPU=1` (scripts/gpu_check.sh sets it) makes that a
//! failure.
//!
//! Tolerances: f32 products on both devices differ by summation order only, so 1e-4
//! relative to max(|value|, 1); TF32 rounds the products' inputs to 10 mantissa bits
//! (≈ 5e-4 relative each), so 2e-2 there.
#![cfg(feature = "cuda")]

use anolab::data::Windows;
use anolab::models::beatgan::{BeatGan, BeatganConfig};
use anolab::models::{Build, Detector, InputShape, TrainConfig};
use anolab::nn::act::leaky_relu;
use anolab::nn::conv::{conv1d, conv_transpose1d};
use anolab::nn::{Adam, BatchNormAct};
use anolab::rng::SplitMix64;
use candle_core::{Device, Tensor, Var};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder, VarMap};
use std::sync::Mutex;

/// candle's TF32 switch is process-wide: the tests that depend on it take turns.
static PRECISION: Mutex<()> = Mutex::new(());

fn gpu() -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            assert!(
                std::env::var("ANOLAB_REQUIRE_GPU").as_deref() != Ok("1"),
                "ANOLAB_REQUIRE_GPU=1 but cuda:0 does not open: {e}"
            );
            eprintln!("skipped: no CUDA device ({e})");
            None
        }
    }
}

fn random(shape: &[usize], rng: &mut SplitMix64, device: &Device) -> Tensor {
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect();
    Tensor::from_vec(v, shape, device).unwrap()
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0),
            "{what}[{i}]: {a} on the GPU, {b} on the CPU"
        );
    }
}

type Op = fn(&Tensor, &Tensor, usize, usize) -> candle_core::Result<Tensor>;

/// Output, input gradient and weight gradient of loss = Σ op(x, w) ⊙ r, and the weight
/// gradient of the squared input gradient (a second-order pass), on `device`.
fn conv_values(op: Op, x: &Tensor, w: &Tensor, r: &Tensor, s: usize, p: usize) -> [Vec<f32>; 4] {
    let (x, w) = (Var::from_tensor(x).unwrap(), Var::from_tensor(w).unwrap());
    let y = op(x.as_tensor(), w.as_tensor(), s, p).unwrap();
    let grads = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = grads.get(&x).unwrap();
    let penalty = gx.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    [
        flat(&y),
        flat(gx),
        flat(grads.get(&w).unwrap()),
        flat(penalty.get(&w).unwrap()),
    ]
}

/// Every convolution-family op on random shapes (BeatGAN's k4 s2 p1 layers and its
/// k10 s1 p0 ends among them), with `tf32` set or not.
fn conv_family_matches_cpu(gpu: &Device, tf32: bool, tol: f32) {
    let _turn = PRECISION.lock().unwrap_or_else(|e| e.into_inner());
    candle_core::cuda_backend::set_gemm_reduced_precision_f32(tf32);
    let mut rng = SplitMix64::new(11);
    let pick =
        |rng: &mut SplitMix64, lo: usize, hi: usize| lo + (rng.next_u64() as usize) % (hi - lo + 1);
    let mut cases = vec![(64, 32, 64, 4, 2, 1, 80), (64, 256, 50, 10, 1, 0, 10)];
    for _ in 0..30 {
        let (b, ci, co) = (
            pick(&mut rng, 1, 6),
            pick(&mut rng, 1, 12),
            pick(&mut rng, 1, 12),
        );
        let (k, s) = (pick(&mut rng, 1, 10), pick(&mut rng, 1, 3));
        let p = pick(&mut rng, 0, (k - 1).min(2));
        cases.push((b, ci, co, k, s, p, pick(&mut rng, k, 50)));
    }
    for (case, &(b, ci, co, k, s, p, l)) in cases.iter().enumerate() {
        for (name, op, w_shape) in [
            ("conv1d", conv1d as Op, [co, ci, k]),
            ("conv_transpose1d", conv_transpose1d as Op, [ci, co, k]),
        ] {
            if name == "conv_transpose1d" && (l - 1) * s + k <= 2 * p {
                continue;
            }
            let x = random(&[b, ci, l], &mut rng, &Device::Cpu);
            let w = random(&w_shape, &mut rng, &Device::Cpu);
            let y_dims = op(&x, &w, s, p).unwrap().dims().to_vec();
            let r = random(&y_dims, &mut rng, &Device::Cpu);
            let want = conv_values(op, &x, &w, &r, s, p);
            let on_gpu = |t: &Tensor| t.to_device(gpu).unwrap();
            let got = conv_values(op, &on_gpu(&x), &on_gpu(&w), &on_gpu(&r), s, p);
            for (what, g, w) in ["output", "input grad", "weight grad", "penalty grad"]
                .iter()
                .zip(&got)
                .zip(&want)
                .map(|((n, g), w)| (n, g, w))
            {
                let at = format!("{name} {what} (tf32 {tf32}) case {case}: x {b}×{ci}×{l}, w {w_shape:?}, s {s}, p {p}");
                assert_close(g, w, tol, &at);
            }
        }
    }
    candle_core::cuda_backend::set_gemm_reduced_precision_f32(false);
}

#[test]
fn conv_family_matches_cpu_in_f32() {
    if let Some(gpu) = gpu() {
        conv_family_matches_cpu(&gpu, false, 1e-4);
    }
}

#[test]
fn conv_family_matches_cpu_in_tf32() {
    if let Some(gpu) = gpu() {
        conv_family_matches_cpu(&gpu, true, 2e-2);
    }
}

#[test]
fn leaky_relu_and_its_gradient_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SplitMix64::new(5);
    let x = random(&[7, 3, 1001], &mut rng, &Device::Cpu);
    let r = random(&[7, 3, 1001], &mut rng, &Device::Cpu);
    let run = |x: &Tensor, r: &Tensor| {
        let x = Var::from_tensor(x).unwrap();
        let y = leaky_relu(x.as_tensor(), 0.2).unwrap();
        let g = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
        [flat(&y), flat(g.get(&x).unwrap())]
    };
    let want = run(&x, &r);
    let got = run(&x.to_device(&gpu).unwrap(), &r.to_device(&gpu).unwrap());
    // One multiplication per element: the same bits on both devices.
    assert_eq!(got, want);
}

/// Output, gradients of x, weight and bias, and the running statistics after one
/// training-mode pass of a batch norm + LeakyReLU(0.2) on `x: B × C × L`, on `device`.
fn norm_values(x: &Tensor, r: &Tensor, device: &Device) -> Vec<Vec<f32>> {
    let channels = x.dim(1).unwrap();
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, candle_core::DType::F32, device);
    let norm = BatchNormAct::new(channels, 0.2, vb).unwrap();
    let mut rng = SplitMix64::new(8);
    let var = |name: &str| map.data().lock().unwrap()[name].clone();
    for name in ["weight", "bias"] {
        var(name)
            .set(&random(&[channels], &mut rng, device))
            .unwrap();
    }
    let x = Var::from_tensor(&x.to_device(device).unwrap()).unwrap();
    let y = norm.forward_t(x.as_tensor(), true).unwrap();
    let loss = (&y * r.to_device(device).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let g = loss.backward().unwrap();
    let mut out = vec![flat(&y), flat(g.get(&x).unwrap())];
    for name in ["weight", "bias"] {
        out.push(flat(g.get(&var(name)).unwrap()));
    }
    for name in ["running_mean", "running_var"] {
        out.push(flat(var(name).as_tensor()));
    }
    out
}

#[test]
fn fused_batch_norm_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SplitMix64::new(9);
    // BeatGAN's shapes (64 × 64 × 80, 64 × 512 × 10) and odd ones.
    for shape in [[64, 64, 80], [64, 512, 10], [3, 5, 7], [2, 1, 1000]] {
        let x = random(&shape, &mut rng, &Device::Cpu);
        let r = random(&shape, &mut rng, &Device::Cpu);
        let want = norm_values(&x, &r, &Device::Cpu);
        let got = norm_values(&x, &r, &gpu);
        let names = [
            "output",
            "x grad",
            "weight grad",
            "bias grad",
            "running mean",
            "running var",
        ];
        for ((name, g), w) in names.iter().zip(&got).zip(&want) {
            // Sums over up to 5,120 elements per channel, in another order: 1e-4.
            assert_close(g, w, 1e-4, &format!("{name}, shape {shape:?}"));
        }
    }
}

/// Weights after 5 Adam steps on loss = Σ w ⊙ r_t + Σ w² (r_t fresh each step), on
/// `device`, and the optimiser's saved state.
fn adam_weights(device: &Device) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut rng = SplitMix64::new(4);
    let w = Var::from_tensor(&random(&[300, 70], &mut rng, device)).unwrap();
    let params = ParamsAdamW {
        lr: 2e-3,
        beta1: 0.5,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
    };
    let mut opt = Adam::new(vec![w.clone()], params).unwrap();
    for _ in 0..5 {
        let r = random(&[300, 70], &mut rng, device);
        let loss = ((w.as_tensor() * &r).unwrap().sum_all().unwrap()
            + w.as_tensor().sqr().unwrap().sum_all().unwrap())
        .unwrap();
        opt.backward_step(&loss).unwrap();
    }
    let mut state = std::collections::HashMap::new();
    assert!(opt.save_state("opt", &mut state).unwrap());
    let mut names: Vec<_> = state.keys().cloned().collect();
    names.sort();
    let saved = names
        .iter()
        .filter(|n| !n.ends_with(".step"))
        .map(|n| flat(&state[n]))
        .collect();
    (flat(w.as_tensor()), saved)
}

#[test]
fn adam_step_matches_cpu_bit_for_bit() {
    let Some(gpu) = gpu() else { return };
    let (cpu_w, cpu_state) = adam_weights(&Device::Cpu);
    let (gpu_w, gpu_state) = adam_weights(&gpu);
    // The gradients (a product and a square per element) are exact on both devices, and
    // the kernel performs the CPU loop's f32 operations without contraction.
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&gpu_w), bits(&cpu_w), "weights");
    assert_eq!(gpu_state.len(), 2);
    for (g, c) in gpu_state.iter().zip(&cpu_state) {
        assert_eq!(bits(g), bits(c), "saved moments");
    }
}

/// Smooth periodic windows of length 80.
fn windows(n: usize, seed: u64) -> Windows {
    let mut rng = SplitMix64::new(seed);
    let length = 80;
    let mut data = Vec::with_capacity(n * length);
    for _ in 0..n {
        let phase = rng.next_f64() * std::f64::consts::TAU;
        for t in 0..length {
            data.push((0.7 * (t as f64 * std::f64::consts::TAU / 40.0 + phase).sin()) as f32);
        }
    }
    Windows {
        data,
        n,
        channels: 1,
        length,
        labels: vec![false; n],
        classes: vec!["N".into(); n],
        image: None,
    }
}

#[test]
fn beatgan_epoch_losses_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let _turn = PRECISION.lock().unwrap_or_else(|e| e.into_inner());
    let train = TrainConfig {
        batch_size: 16,
        lr: 1e-4,
        ..TrainConfig::default()
    };
    let data = windows(64, 1);
    let losses = |device: &Device| {
        let cfg = BeatganConfig {
            nz: 8,
            ndf: 8,
            ngf: 8,
            w_adv: 1.0,
        };
        let build = Build {
            train: &train,
            shape: InputShape::signal(1, 80),
            device,
            seed: 3,
            dependencies: &[],
        };
        let mut m = BeatGan::new(cfg, &build).unwrap();
        let epoch = m
            .fit_epoch(&data, &mut SplitMix64::new(2), &mut || Ok(()))
            .unwrap();
        let scores = m.score(&data).unwrap();
        (epoch, scores)
    };
    let (cpu_losses, cpu_scores) = losses(&Device::Cpu);
    let (gpu_losses, gpu_scores) = losses(&gpu);
    // Four Adam steps from the same weights: round-off differences stay far below the
    // losses' own size (README "BeatGAN reproduction": chaos needs more steps).
    for ((name, c), (_, g)) in cpu_losses.iter().zip(&gpu_losses) {
        assert!(
            (c - g).abs() <= 1e-3 * c.abs().max(1e-3),
            "{name}: {g} on the GPU, {c} on the CPU"
        );
    }
    let (cs, gs): (Vec<f32>, Vec<f32>) = (
        cpu_scores.iter().map(|&v| v as f32).collect(),
        gpu_scores.iter().map(|&v| v as f32).collect(),
    );
    assert_close(&gs, &cs, 1e-3, "scores after one epoch");
}
