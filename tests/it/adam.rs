//! `nn::Adam` against candle-nn's `AdamW`: the same weights, bit for bit, after several
//! steps with and without weight decay (so swapping the optimiser changed no result).

use anolab::nn::Adam;
use anolab::rng::SplitMix64;
use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

fn random(n: usize, rng: &mut SplitMix64) -> Vec<f32> {
    (0..n).map(|_| rng.normal() as f32).collect()
}

/// Weights after `steps` steps on loss = Σ w ⊙ r_t (gradient r_t, fresh each step) plus
/// a quadratic term, so that gradients depend on the weights.
fn train<O: Optimizer<Config = ParamsAdamW>>(params: ParamsAdamW, steps: usize) -> Vec<f32> {
    let mut rng = SplitMix64::new(4);
    let w = Var::from_vec(random(40_000, &mut rng), (200, 200), &Device::Cpu).unwrap();
    let mut opt = O::new(vec![w.clone()], params).unwrap();
    for _ in 0..steps {
        let r = Tensor::from_vec(random(40_000, &mut rng), (200, 200), &Device::Cpu).unwrap();
        let loss = ((w.as_tensor() * &r).unwrap().sum_all().unwrap()
            + w.as_tensor().sqr().unwrap().sum_all().unwrap())
        .unwrap();
        opt.backward_step(&loss).unwrap();
    }
    w.as_tensor().flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn adam_matches_candle_adamw_bit_for_bit() {
    for weight_decay in [0.0, 0.01] {
        let params = ParamsAdamW {
            lr: 2e-3,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        };
        let ours = train::<Adam>(params.clone(), 7);
        let theirs = train::<AdamW>(params, 7);
        assert!(ours
            .iter()
            .zip(&theirs)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_ne!(ours, train::<Adam>(ParamsAdamW::default(), 0));
    }
}
