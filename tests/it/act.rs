//! The fused CPU LeakyReLU of src/nn/act.rs against candle-nn's `leaky_relu`: outputs and
//! gradients in f32 and f64, and a gradient of a gradient (the case TadGAN's gradient
//! penalty needs) against the closed form.

use crate::common::flat;
use anolab::nn::act::leaky_relu;
use anolab::rng::SplitMix64;
use candle_core::{DType, Device, Tensor, Var};

/// Normal values with some exact zeros (where the two branches meet).
fn random(n: usize, seed: u64, dtype: DType) -> Var {
    let mut rng = SplitMix64::new(seed);
    let v: Vec<f64> = (0..n)
        .map(|i| if i % 7 == 0 { 0.0 } else { rng.normal() })
        .collect();
    let t = Tensor::from_vec(v, (n / 40, 4, 10), &Device::Cpu).unwrap();
    Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap()
}

#[test]
fn matches_candle_forward_and_backward() {
    for dtype in [DType::F32, DType::F64] {
        for slope in [0.0, 0.2] {
            // 200,000 elements: several parallel chunks and a ragged last one.
            let x = random(200_000, 3, dtype);
            let weights = random(200_000, 4, dtype);
            let ours = leaky_relu(x.as_tensor(), slope).unwrap();
            let theirs = candle_nn::ops::leaky_relu(x.as_tensor(), slope).unwrap();
            assert_eq!(flat(&ours), flat(&theirs), "{dtype:?} slope {slope}");
            // d/dx Σ w·f(x): w where x > 0, slope·w where x < 0; at x = 0 candle's
            // max/min split the gradient, we take the left branch (as PyTorch does).
            let loss = |y: Tensor| (y * weights.as_tensor()).unwrap().sum_all().unwrap();
            let g_ours = flat(loss(ours).backward().unwrap().get(&x).unwrap());
            let xs = flat(x.as_tensor());
            let ws = flat(weights.as_tensor());
            for ((g, x), w) in g_ours.iter().zip(&xs).zip(&ws) {
                let want = if *x > 0.0 { *w } else { slope * w };
                let tol = if dtype == DType::F32 { 1e-6 } else { 1e-15 };
                assert!(
                    (g - want).abs() <= tol * want.abs().max(1.0),
                    "{g} vs {want}"
                );
            }
        }
    }
}

#[test]
fn a_gradient_of_its_gradient_is_exact() {
    // L = Σ (∂/∂x Σ w·f(a·x))² · ½ with f LeakyReLU: ∂/∂x = a·w·m(a·x), so
    // ∂L/∂w = a²·w·m(a·x)² and ∂L/∂a = a·w²·m(a·x)² (m piecewise constant).
    std::env::set_var(anolab::nn::gp::DO_NOT_DETACH_ENV, "1");
    let slope = 0.2;
    let x = random(400, 5, DType::F64);
    let w = random(400, 6, DType::F64);
    let a = Var::new(1.7f64, &Device::Cpu).unwrap();
    let inner = leaky_relu(&x.as_tensor().broadcast_mul(a.as_tensor()).unwrap(), slope).unwrap();
    let first = (inner * w.as_tensor())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let dx = first.get(&x).unwrap();
    let loss = (dx.sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
    let second = loss.backward().unwrap();
    let (xs, ws) = (flat(x.as_tensor()), flat(w.as_tensor()));
    let m = |v: f64| if v * 1.7 > 0.0 { 1.0 } else { slope };
    let want_dw: Vec<f64> = xs
        .iter()
        .zip(&ws)
        .map(|(x, w)| 1.7 * 1.7 * w * m(*x) * m(*x))
        .collect();
    let got_dw = flat(second.get(&w).unwrap());
    for (g, want) in got_dw.iter().zip(&want_dw) {
        assert!((g - want).abs() < 1e-12, "∂L/∂w {g} vs {want}");
    }
    let want_da: f64 = xs
        .iter()
        .zip(&ws)
        .map(|(x, w)| 1.7 * w * w * m(*x) * m(*x))
        .sum();
    let got_da = second.get(&a).unwrap().to_scalar::<f64>().unwrap();
    assert!(
        (got_da - want_da).abs() < 1e-9 * want_da.abs(),
        "∂L/∂a {got_da} vs {want_da}"
    );
}
