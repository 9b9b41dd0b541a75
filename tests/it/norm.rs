//! The fused CPU batch norm + (leaky) ReLU of src/nn/norm.rs against candle-nn's
//! `BatchNorm` and `leaky_relu` (outputs, gradients, running statistics) and against
//! central finite differences in f64.

use crate::common::flat;
use anolab::nn::BatchNormAct;
use anolab::rng::SplitMix64;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{batch_norm, BatchNormConfig, ModuleT, VarBuilder, VarMap};

fn random(shape: &[usize], rng: &mut SplitMix64, dtype: DType) -> Tensor {
    let v: Vec<f64> = (0..shape.iter().product()).map(|_| rng.normal()).collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// A VarMap holding one batch norm of `channels` with random weight and bias.
fn vars(channels: usize, dtype: DType, seed: u64) -> VarMap {
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, dtype, &Device::Cpu);
    BatchNormAct::new(channels, 0.0, vb).unwrap();
    let mut rng = SplitMix64::new(seed);
    for name in ["weight", "bias"] {
        var(&map, name)
            .set(&random(&[channels], &mut rng, dtype))
            .unwrap();
    }
    map
}

fn var(map: &VarMap, name: &str) -> Var {
    map.data().lock().unwrap()[name].clone()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

#[test]
fn fused_op_matches_candle_batch_norm_and_activation() {
    let config = BatchNormConfig {
        eps: 1e-5,
        remove_mean: true,
        affine: true,
        momentum: 0.1,
    };
    let mut rng = SplitMix64::new(5);
    for (shape, slope) in [([4, 3, 10], 0.2), ([2, 5, 7], 0.0), ([8, 2, 1], 0.2)] {
        let x = random(&shape, &mut rng, DType::F32)
            .affine(2.0, 0.5)
            .unwrap();
        let r = random(&shape, &mut rng, DType::F32);
        let (ours, theirs) = (vars(shape[1], DType::F32, 1), vars(shape[1], DType::F32, 1));
        let run = |map: &VarMap, fused: bool| {
            let vb = VarBuilder::from_varmap(map, DType::F32, &Device::Cpu);
            let xv = Var::from_tensor(&x).unwrap();
            let y = if fused {
                BatchNormAct::new(shape[1], slope, vb)
                    .unwrap()
                    .forward_t(xv.as_tensor(), true)
                    .unwrap()
            } else {
                let z = batch_norm(shape[1], config, vb)
                    .unwrap()
                    .forward_t(xv.as_tensor(), true)
                    .unwrap();
                candle_nn::ops::leaky_relu(&z, slope).unwrap()
            };
            let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let grad = |v: &Var| flat(grads.get(v).unwrap());
            [
                flat(&y),
                grad(&xv),
                grad(&var(map, "weight")),
                grad(&var(map, "bias")),
                flat(var(map, "running_mean").as_tensor()),
                flat(var(map, "running_var").as_tensor()),
            ]
        };
        let (got, want) = (run(&ours, true), run(&theirs, false));
        for (i, what) in [
            "output",
            "dx",
            "dweight",
            "dbias",
            "running mean",
            "running var",
        ]
        .iter()
        .enumerate()
        {
            assert_close(&format!("{what} {shape:?}"), &got[i], &want[i], 2e-5);
        }
    }
}

#[test]
fn fused_op_gradients_match_finite_differences() {
    let shape = [3, 2, 5];
    let mut rng = SplitMix64::new(8);
    let x0 = flat(&random(&shape, &mut rng, DType::F64));
    let r = random(&shape, &mut rng, DType::F64);
    let map = vars(2, DType::F64, 2);
    let vb = VarBuilder::from_varmap(&map, DType::F64, &Device::Cpu);
    let layer = BatchNormAct::new(2, 0.2, vb).unwrap();
    let loss = |x: &Tensor| -> Tensor {
        (layer.forward_t(x, true).unwrap() * &r)
            .unwrap()
            .sum_all()
            .unwrap()
    };
    let x = Var::from_vec(x0.clone(), &shape, &Device::Cpu).unwrap();
    let grads = loss(x.as_tensor()).backward().unwrap();
    let eps = 1e-6;
    let at = |v: &[f64]| {
        let t = Tensor::from_vec(v.to_vec(), &shape, &Device::Cpu).unwrap();
        loss(&t).to_scalar::<f64>().unwrap()
    };
    let dx = flat(grads.get(&x).unwrap());
    for i in 0..x0.len() {
        let (mut plus, mut minus) = (x0.clone(), x0.clone());
        plus[i] += eps;
        minus[i] -= eps;
        let numeric = (at(&plus) - at(&minus)) / (2.0 * eps);
        assert!(
            (numeric - dx[i]).abs() < 1e-6 * numeric.abs().max(1.0),
            "dx[{i}]: {numeric} vs {}",
            dx[i]
        );
    }
    for name in ["weight", "bias"] {
        let v = var(&map, name);
        let analytic = flat(grads.get(&v).unwrap());
        let base = flat(v.as_tensor());
        for i in 0..base.len() {
            let mut numeric = 0.0;
            for (sign, step) in [(1.0, eps), (-1.0, -eps)] {
                let mut p = base.clone();
                p[i] += step;
                v.set(&Tensor::new(p, &Device::Cpu).unwrap()).unwrap();
                numeric += sign * at(&x0) / (2.0 * eps);
            }
            v.set(&Tensor::new(base.clone(), &Device::Cpu).unwrap())
                .unwrap();
            assert!(
                (numeric - analytic[i]).abs() < 1e-6 * numeric.abs().max(1.0),
                "d{name}[{i}]: {numeric} vs {}",
                analytic[i]
            );
        }
    }
}

#[test]
fn a_gradient_of_its_gradient_fails_loudly() {
    // As for TadGAN's penalty: keep gradients differentiable (candle-notes.md).
    std::env::set_var(anolab::nn::gp::DO_NOT_DETACH_ENV, "1");
    let map = vars(2, DType::F64, 3);
    let vb = VarBuilder::from_varmap(&map, DType::F64, &Device::Cpu);
    let layer = BatchNormAct::new(2, 0.2, vb).unwrap();
    let x = Var::from_tensor(&random(&[3, 2, 4], &mut SplitMix64::new(1), DType::F64)).unwrap();
    let y = layer
        .forward_t(x.as_tensor(), true)
        .unwrap()
        .sum_all()
        .unwrap();
    let dx = y.backward().unwrap().get(&x).unwrap().clone();
    let err = dx.sqr().unwrap().sum_all().unwrap().backward().unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
}
