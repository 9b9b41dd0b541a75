//! The WGAN-GP penalty is a real gradient of a gradient: its gradient with respect to
//! a tiny critic's weights (TadGAN's x-critic, dropout off) matches central finite
//! differences of the penalty itself, in f64.

use anolab::models::tadgan::CriticX;
use anolab::nn::gp::{gradient_penalty, DO_NOT_DETACH_ENV};
use anolab::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

fn random(dims: &[usize], rng: &mut SplitMix64, scale: f64) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.normal() * scale).collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

#[test]
fn penalty_gradient_matches_finite_differences() {
    std::env::set_var(DO_NOT_DETACH_ENV, "1"); // before this thread's first backward
    let dev = Device::Cpu;
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F64, &dev);
    // Length 20, 2 channels, width 3: four k5 convs leave 4 steps, then Dense(12 → 1).
    let critic = CriticX::new(2, 20, 3, vb).unwrap();
    let mut rng = SplitMix64::new(11);
    {
        let data = vars.data().lock().unwrap();
        let mut names: Vec<_> = data.keys().cloned().collect();
        names.sort();
        for name in names {
            let var = &data[&name];
            var.set(&random(var.dims(), &mut rng, 0.4)).unwrap();
        }
    }
    let real = random(&[3, 2, 20], &mut rng, 1.0);
    let fake = random(&[3, 2, 20], &mut rng, 1.0);
    let eps = Tensor::from_vec(vec![0.2f64, 0.5, 0.9], (3, 1, 1), &dev).unwrap();
    let penalty = || {
        gradient_penalty(|x| critic.forward(x, None), &real, &fake, &eps)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let p = gradient_penalty(|x| critic.forward(x, None), &real, &fake, &eps).unwrap();
    assert!(
        p.to_scalar::<f64>().unwrap() > 1e-3,
        "a non-trivial penalty"
    );
    let grads = p.backward().unwrap();

    let data = vars.data().lock().unwrap();
    let mut names: Vec<_> = data.keys().cloned().collect();
    names.sort();
    let (mut checked, mut worst) = (0, 0.0f64);
    for name in names {
        let var = &data[&name];
        let base: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        // With piecewise-linear activations the input gradient does not depend on the
        // biases (away from the kinks), so candle records no gradient for them: zero,
        // which the finite difference must confirm.
        let analytic: Vec<f64> = match grads.get(var.as_tensor()) {
            Some(g) => g.flatten_all().unwrap().to_vec1().unwrap(),
            None => vec![0.0; base.len()],
        };
        // A few entries per variable keep the test fast.
        for i in (0..base.len()).step_by((base.len() / 4).max(1)) {
            let h = 1e-5;
            let mut shifted = base.clone();
            shifted[i] = base[i] + h;
            var.set(&Tensor::from_vec(shifted.clone(), var.dims(), &dev).unwrap())
                .unwrap();
            let up = penalty();
            shifted[i] = base[i] - h;
            var.set(&Tensor::from_vec(shifted, var.dims(), &dev).unwrap())
                .unwrap();
            let down = penalty();
            var.set(&Tensor::from_vec(base.clone(), var.dims(), &dev).unwrap())
                .unwrap();
            let numeric = (up - down) / (2.0 * h);
            let err = (numeric - analytic[i]).abs() / numeric.abs().max(1e-3);
            worst = worst.max(err);
            assert!(
                err < 1e-5,
                "{name}[{i}]: analytic {} vs finite difference {numeric}",
                analytic[i]
            );
            checked += 1;
        }
    }
    println!("checked {checked} weight entries, worst relative error {worst:.2e}");
    assert!(checked >= 20);
}
