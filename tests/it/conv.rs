//! The 1-D conv route of src/nn/conv.rs, and the 2-D layers of the image stacks, against
//! a direct loop implementation (forward) and central finite differences (input and
//! weight gradients), in f64.

use anolab::nn::conv::{conv1d, conv2d, conv_transpose1d, conv_transpose2d};
use anolab::rng::SplitMix64;
use candle_core::{DType, Device, Result, Tensor, Var};

/// [`conv1d`] through candle's correct 2-D kernels with a height-1 axis: an independent
/// reference (candle's own 1-D kernels are wrong, src/nn/conv.rs).
fn candle_conv1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    x.pad_with_zeros(2, padding, padding)?
        .unsqueeze(2)?
        .conv2d(&w.unsqueeze(2)?, 0, stride, 1, 1)?
        .squeeze(2)
}

/// [`conv_transpose1d`] through candle's 2-D kernels, cropped by `padding` on each end.
fn candle_conv_transpose1d(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    let y = x
        .unsqueeze(2)?
        .conv_transpose2d(&w.unsqueeze(2)?, 0, 0, stride, 1)?
        .squeeze(2)?;
    let full = y.dim(2)?;
    y.narrow(2, padding, full - 2 * padding)
}

type Op = fn(&Tensor, &Tensor, usize, usize) -> candle_core::Result<Tensor>;

fn random(shape: &[usize], rng: &mut SplitMix64) -> Vec<f64> {
    (0..shape.iter().product()).map(|_| rng.normal()).collect()
}

/// Direct definition: y[b,o,t] = Σ_c Σ_k x[b,c,t·s+k−p] · w[o,c,k].
fn conv1d_loops(
    x: &[f64],
    (b, ci, l): (usize, usize, usize),
    w: &[f64],
    (co, k): (usize, usize),
    s: usize,
    p: usize,
) -> Vec<f64> {
    let lo = (l + 2 * p - k) / s + 1;
    let mut y = vec![0.0; b * co * lo];
    for bi in 0..b {
        for o in 0..co {
            for t in 0..lo {
                let mut acc = 0.0;
                for c in 0..ci {
                    for kk in 0..k {
                        let pos = (t * s + kk) as isize - p as isize;
                        if pos >= 0 && (pos as usize) < l {
                            acc += x[(bi * ci + c) * l + pos as usize] * w[(o * ci + c) * k + kk];
                        }
                    }
                }
                y[(bi * co + o) * lo + t] = acc;
            }
        }
    }
    y
}

/// Direct definition of the transpose: x[b,c,t] scatters w[c,o,k] to y[b,o,t·s+k−p].
fn conv_t_loops(
    x: &[f64],
    (b, ci, l): (usize, usize, usize),
    w: &[f64],
    (co, k): (usize, usize),
    s: usize,
    p: usize,
) -> Vec<f64> {
    let lo = (l - 1) * s + k - 2 * p;
    let mut y = vec![0.0; b * co * lo];
    for bi in 0..b {
        for c in 0..ci {
            for t in 0..l {
                for o in 0..co {
                    for kk in 0..k {
                        let pos = (t * s + kk) as isize - p as isize;
                        if pos >= 0 && (pos as usize) < lo {
                            y[(bi * co + o) * lo + pos as usize] +=
                                x[(bi * ci + c) * l + t] * w[(c * co + o) * k + kk];
                        }
                    }
                }
            }
        }
    }
    y
}

/// loss = Σ y ⊙ r for a fixed random r; returns (analytic dx, dw) and checks them by
/// central differences on every element.
fn check_gradients(
    op: Op,
    x_shape: &[usize],
    w_shape: &[usize],
    stride: usize,
    pad: usize,
    seed: u64,
) {
    let dev = Device::Cpu;
    let mut rng = SplitMix64::new(seed);
    let x0 = random(x_shape, &mut rng);
    let w0 = random(w_shape, &mut rng);
    let x = Var::from_vec(x0.clone(), x_shape.to_vec(), &dev).unwrap();
    let w = Var::from_vec(w0.clone(), w_shape.to_vec(), &dev).unwrap();
    let y = op(x.as_tensor(), w.as_tensor(), stride, pad).unwrap();
    let r = Tensor::from_vec(random(y.dims(), &mut rng), y.dims(), &dev).unwrap();
    let loss = (&y * &r).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let loss_at = |xv: &[f64], wv: &[f64]| -> f64 {
        let xt = Tensor::from_vec(xv.to_vec(), x_shape.to_vec(), &dev).unwrap();
        let wt = Tensor::from_vec(wv.to_vec(), w_shape.to_vec(), &dev).unwrap();
        (op(&xt, &wt, stride, pad).unwrap() * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let eps = 1e-5;
    for (which, base, grad) in [
        ("input", &x0, grads.get(&x).unwrap()),
        ("weight", &w0, grads.get(&w).unwrap()),
    ] {
        let analytic: Vec<f64> = grad.flatten_all().unwrap().to_vec1().unwrap();
        for i in 0..base.len() {
            let mut plus = base.clone();
            let mut minus = base.clone();
            plus[i] += eps;
            minus[i] -= eps;
            let (lp, lm) = if which == "input" {
                (loss_at(&plus, &w0), loss_at(&minus, &w0))
            } else {
                (loss_at(&x0, &plus), loss_at(&x0, &minus))
            };
            let numeric = (lp - lm) / (2.0 * eps);
            let err = (numeric - analytic[i]).abs() / numeric.abs().max(1.0);
            assert!(
                err < 1e-7,
                "{which} grad [{i}] stride {stride} pad {pad}: numeric {numeric} vs analytic {}",
                analytic[i]
            );
        }
    }
}

/// (input shape, (output channels, kernel), stride, padding)
type Case = ([usize; 3], (usize, usize), usize, usize);
type Loops = fn(&[f64], (usize, usize, usize), &[f64], (usize, usize), usize, usize) -> Vec<f64>;
/// `weight_shape(c_in, c_out, k)`.
type WeightShape = fn(usize, usize, usize) -> Vec<usize>;

/// Runs `op` and the loop reference on random inputs of `dims` spatial axes, each of
/// the case's length (1-D: `B×C×L`, 2-D: `B×C×L×L`); `weight_shape(c_in, c_out, k)`.
fn check_forward(
    op: Op,
    reference: Loops,
    (weight_shape, dims): (WeightShape, usize),
    cases: &[Case],
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed);
    for &(shape, (co, k), s, p) in cases {
        let w_shape = weight_shape(shape[1], co, k);
        let mut x_shape = vec![shape[0], shape[1]];
        x_shape.extend(std::iter::repeat_n(shape[2], dims));
        let x = random(&x_shape, &mut rng);
        let w = random(&w_shape, &mut rng);
        let xt = Tensor::from_vec(x.clone(), x_shape, &Device::Cpu).unwrap();
        let wt = Tensor::from_vec(w.clone(), w_shape, &Device::Cpu).unwrap();
        let got: Vec<f64> = op(&xt, &wt, s, p)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let want = reference(&x, (shape[0], shape[1], shape[2]), &w, (co, k), s, p);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{g} vs {w}");
        }
    }
}

#[test]
fn conv1d_forward_matches_loops() {
    let cases = [
        ([2, 3, 16], (4, 4), 2, 1),
        ([1, 2, 20], (3, 10), 1, 0),
        ([2, 1, 9], (2, 3), 1, 1),
        // Short output rows (T = 6 and 1), as the final layers: the kernels' other loop
        // order, over more samples and channels than one of their blocks.
        ([37, 20, 12], (3, 4), 2, 1),
        ([37, 20, 10], (3, 10), 1, 0),
    ];
    check_forward(
        conv1d,
        conv1d_loops,
        (|ci, co, k| vec![co, ci, k], 1),
        &cases,
        1,
    );
}

#[test]
fn conv_transpose1d_forward_matches_loops() {
    // Padding 0 and 1 both: candle's own conv_transpose1d is wrong with padding 0.
    let cases = [
        ([2, 3, 8], (4, 4), 2, 1),
        ([1, 5, 1], (3, 10), 1, 0),
        ([2, 2, 5], (3, 4), 2, 0),
        // Short input rows (T = 3 and 1) over more samples and channels than one block.
        ([37, 5, 3], (20, 4), 2, 1),
        ([37, 5, 1], (20, 10), 1, 0),
    ];
    check_forward(
        conv_transpose1d,
        conv_t_loops,
        (|ci, co, k| vec![ci, co, k], 1),
        &cases,
        2,
    );
}

#[test]
fn conv1d_gradients_match_finite_differences() {
    // The BeatGAN layer kinds: k4 s2 p1 and the final k10 s1 p0; plus k3 s1 p1.
    check_gradients(conv1d, &[2, 3, 16], &[4, 3, 4], 2, 1, 10);
    check_gradients(conv1d, &[2, 2, 10], &[3, 2, 10], 1, 0, 11);
    check_gradients(conv1d, &[1, 2, 7], &[2, 2, 3], 1, 1, 12);
}

#[test]
fn conv_transpose1d_gradients_match_finite_differences() {
    check_gradients(conv_transpose1d, &[2, 3, 8], &[3, 4, 4], 2, 1, 20);
    check_gradients(conv_transpose1d, &[2, 4, 1], &[4, 3, 10], 1, 0, 21);
    check_gradients(conv_transpose1d, &[1, 2, 5], &[2, 2, 4], 2, 0, 22);
}

#[test]
fn strided_tail_gradients_match_finite_differences() {
    // Stride 3 over length 10 with k3: input position 9 is read by no window.
    check_gradients(conv1d, &[2, 2, 10], &[3, 2, 3], 3, 0, 30);
    check_gradients(conv1d, &[1, 3, 11], &[2, 3, 4], 2, 1, 31);
}

#[test]
fn f32_route_agrees_with_f64() {
    let mut rng = SplitMix64::new(3);
    let x = random(&[2, 3, 32], &mut rng);
    let w = random(&[6, 3, 4], &mut rng);
    let run = |dtype: DType| -> Vec<f64> {
        let xt = Tensor::from_vec(x.clone(), (2, 3, 32), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let wt = Tensor::from_vec(w.clone(), (6, 3, 4), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        conv1d(&xt, &wt, 2, 1)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    for (a, b) in run(DType::F32).iter().zip(run(DType::F64)) {
        assert!((a - b).abs() < 1e-4);
    }
}

/// Output and both gradients of `op` for loss = Σ op(x, w) ⊙ r, as flat vectors.
fn value_and_grads(
    op: Op,
    x: &Tensor,
    w: &Tensor,
    r_seed: u64,
    s: usize,
    p: usize,
) -> [Vec<f32>; 3] {
    let (x, w) = (Var::from_tensor(x).unwrap(), Var::from_tensor(w).unwrap());
    let y = op(x.as_tensor(), w.as_tensor(), s, p).unwrap();
    let r = random(y.dims(), &mut SplitMix64::new(r_seed));
    let r = Tensor::from_vec(r, y.dims(), &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    [
        flat(&y),
        flat(grads.get(&x).unwrap()),
        flat(grads.get(&w).unwrap()),
    ]
}

#[test]
fn cpu_kernels_agree_with_candle_2d_route_on_random_shapes() {
    // Random geometries in f32, BeatGAN's k4 s2 p1 and k10 s1 p0 layers among them.
    // candle's 2-D backward fails ("shape mismatch in add") when the last window stops
    // short of the input's end, so those geometries are compared with finite differences
    // only (`strided_tail_gradients_match_finite_differences`).
    let mut rng = SplitMix64::new(40);
    for case in 0..24 {
        let pick = |rng: &mut SplitMix64, lo: usize, hi: usize| {
            lo + (rng.next_u64() as usize) % (hi - lo + 1)
        };
        let (b, ci, co) = (
            pick(&mut rng, 1, 5),
            pick(&mut rng, 1, 9),
            pick(&mut rng, 1, 9),
        );
        let (k, s) = (pick(&mut rng, 1, 10), pick(&mut rng, 1, 3));
        let p = pick(&mut rng, 0, (k - 1).min(2));
        let l = pick(&mut rng, k, 40);
        for (name, op, reference, x_shape, w_shape) in [
            (
                "conv1d",
                conv1d as Op,
                candle_conv1d as Op,
                [b, ci, l],
                [co, ci, k],
            ),
            (
                "conv_transpose1d",
                conv_transpose1d,
                candle_conv_transpose1d,
                [b, ci, l],
                [ci, co, k],
            ),
        ] {
            if name == "conv1d" && (l + 2 * p - k) % s != 0
                || name == "conv_transpose1d" && (l - 1) * s + k <= 2 * p
            {
                continue;
            }
            let x = Tensor::from_vec(random(&x_shape, &mut rng), &x_shape, &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            let w = Tensor::from_vec(random(&w_shape, &mut rng), &w_shape, &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            let got = value_and_grads(op, &x, &w, case, s, p);
            let want = value_and_grads(reference, &x, &w, case, s, p);
            for (what, g, w) in [
                ("output", &got[0], &want[0]),
                ("input grad", &got[1], &want[1]),
                ("weight grad", &got[2], &want[2]),
            ] {
                assert_eq!(g.len(), w.len(), "{name} {what} case {case}");
                for (a, b) in g.iter().zip(w.iter()) {
                    assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{name} {what} case {case} x {x_shape:?} w {w_shape:?} s {s} p {p}: {a} vs {b}");
                }
            }
        }
    }
}

/// Direct 2-D definition (square kernel): y[b,o,i,j] = Σ_c Σ_u Σ_v
/// x[b,c,i·s+u−p, j·s+v−p] · w[o,c,u,v].
fn conv2d_loops(
    x: &[f64],
    (b, ci, h): (usize, usize, usize),
    w: &[f64],
    (co, k): (usize, usize),
    s: usize,
    p: usize,
) -> Vec<f64> {
    let ho = (h + 2 * p - k) / s + 1;
    let mut y = vec![0.0; b * co * ho * ho];
    for bi in 0..b {
        for o in 0..co {
            for i in 0..ho {
                for j in 0..ho {
                    let mut acc = 0.0;
                    for c in 0..ci {
                        for u in 0..k {
                            for v in 0..k {
                                let r = (i * s + u) as isize - p as isize;
                                let q = (j * s + v) as isize - p as isize;
                                if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < h {
                                    acc += x[((bi * ci + c) * h + r as usize) * h + q as usize]
                                        * w[((o * ci + c) * k + u) * k + v];
                                }
                            }
                        }
                    }
                    y[((bi * co + o) * ho + i) * ho + j] = acc;
                }
            }
        }
    }
    y
}

/// Direct 2-D transpose: x[b,c,i,j] scatters w[c,o,u,v] to y[b,o,i·s+u−p, j·s+v−p].
fn conv_t2d_loops(
    x: &[f64],
    (b, ci, h): (usize, usize, usize),
    w: &[f64],
    (co, k): (usize, usize),
    s: usize,
    p: usize,
) -> Vec<f64> {
    let ho = (h - 1) * s + k - 2 * p;
    let mut y = vec![0.0; b * co * ho * ho];
    for bi in 0..b {
        for c in 0..ci {
            for i in 0..h {
                for j in 0..h {
                    let xv = x[((bi * ci + c) * h + i) * h + j];
                    for o in 0..co {
                        for u in 0..k {
                            for v in 0..k {
                                let r = (i * s + u) as isize - p as isize;
                                let q = (j * s + v) as isize - p as isize;
                                if r >= 0 && q >= 0 && (r as usize) < ho && (q as usize) < ho {
                                    y[((bi * co + o) * ho + r as usize) * ho + q as usize] +=
                                        xv * w[((c * co + o) * k + u) * k + v];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    y
}

// The layer kinds of GANomaly's image stacks at 8×8 and 16×16: k4 s2 p1 (8 → 4), the
// final k4 s1 p0 (4 → 1), and their transposes (1 → 4, 4 → 8).
#[test]
fn conv2d_forward_matches_loops() {
    let cases = [
        ([2, 1, 8], (3, 4), 2, 1),
        ([2, 3, 4], (2, 4), 1, 0),
        ([1, 2, 16], (2, 4), 2, 1),
    ];
    let weight: WeightShape = |ci, co, k| vec![co, ci, k, k];
    check_forward(conv2d, conv2d_loops, (weight, 2), &cases, 4);
}

#[test]
fn conv_transpose2d_forward_matches_loops() {
    let cases = [
        ([2, 3, 1], (4, 4), 1, 0),
        ([2, 3, 4], (1, 4), 2, 1),
        ([1, 2, 3], (2, 4), 2, 0),
    ];
    let weight: WeightShape = |ci, co, k| vec![ci, co, k, k];
    check_forward(conv_transpose2d, conv_t2d_loops, (weight, 2), &cases, 5);
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    check_gradients(conv2d, &[2, 1, 8, 8], &[3, 1, 4, 4], 2, 1, 30);
    check_gradients(conv2d, &[2, 2, 4, 4], &[3, 2, 4, 4], 1, 0, 31);
}

#[test]
fn conv_transpose2d_gradients_match_finite_differences() {
    check_gradients(conv_transpose2d, &[2, 3, 1, 1], &[3, 2, 4, 4], 1, 0, 40);
    check_gradients(conv_transpose2d, &[2, 2, 4, 4], &[2, 1, 4, 4], 2, 1, 41);
}

/// A frozen pass of the conv encoder (the generator's step through the discriminator):
/// same output, same gradient for the input, no gradient for any weight; the unfrozen
/// pass gives every weight one.
#[test]
fn frozen_encoder_pass_gives_the_input_its_gradient_and_the_weights_none() {
    use anolab::nn::ConvEncoder;
    use candle_nn::{VarBuilder, VarMap};
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F64, &Device::Cpu);
    let enc = ConvEncoder::new(1, 4, 3, 40, vb).unwrap();
    let mut rng = SplitMix64::new(7);
    for var in vars.all_vars() {
        let dims = var.dims().to_vec();
        let values = Tensor::from_vec(random(&dims, &mut rng), dims, &Device::Cpu).unwrap();
        var.set(&values).unwrap();
    }
    let x = Var::from_vec(random(&[5, 1, 40], &mut rng), (5, 1, 40), &Device::Cpu).unwrap();
    let loss = |t: Tensor| t.sqr().unwrap().sum_all().unwrap();
    let open = loss(enc.forward_t(x.as_tensor(), true).unwrap().out);
    let frozen = loss(enc.forward_frozen(x.as_tensor()).unwrap().out);
    assert_eq!(
        open.to_scalar::<f64>().unwrap(),
        frozen.to_scalar::<f64>().unwrap()
    );
    let (g_open, g_frozen) = (open.backward().unwrap(), frozen.backward().unwrap());
    let dx = |g: &candle_core::backprop::GradStore| -> Vec<f64> {
        g.get(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap()
    };
    assert_eq!(dx(&g_open), dx(&g_frozen));
    let trainable = anolab::nn::trainable(&vars, "");
    assert!(trainable.len() >= 5);
    for var in &trainable {
        assert!(
            g_open.get(var).is_some(),
            "an unfrozen pass trains every weight"
        );
        assert!(
            g_frozen.get(var).is_none(),
            "a frozen pass trains no weight"
        );
    }
}
