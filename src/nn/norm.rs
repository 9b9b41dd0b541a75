//! Batch normalisation followed by a (leaky) ReLU, fused into one op for training (CPU
//! loops here; on CUDA the same steps as kernels, `cuda.rs`).
//!
//! candle-nn's `BatchNorm` in training mode plus `leaky_relu` is about fifteen full passes
//! over the activations forward (transposes, copies, broadcasts) and more backward; after
//! the convolutions these element-wise passes were the largest item of the BeatGAN step's
//! profile. The fused op reads the input twice and writes the output once forward, and
//! its gradient op reads three times and writes once. On CUDA each op copies 2·C
//! per-channel sums to the host and 2·C (forward) or 5·C (gradient) coefficients back:
//! the per-channel arithmetic is the CPU's, in f64. Evaluation mode keeps candle's
//! batch norm (then our activation). The parameters and running statistics keep candle's
//! names (`weight`, `bias`, `running_mean`, `running_var`), so checkpoints are unchanged.
//!
//! The gradient op has no gradient of its own: a gradient of a gradient through this
//! layer fails loudly ("backward is not supported") instead of being silently wrong.
//! (TadGAN's gradient penalty, the only such use, goes through no batch norm.)

use super::act::mask;
use super::cpu::{dispatch, slice, written_by, Scalar};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, Var};
use candle_nn::{batch_norm, BatchNorm, BatchNormConfig, ModuleT, VarBuilder};
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

const EPS: f64 = 1e-5;
const MOMENTUM: f64 = 0.1;

/// BatchNorm (ε 1e-5, momentum 0.1, affine, PyTorch's running-statistics update) then
/// `y = max(z, 0) + slope·min(z, 0)`: ReLU for slope 0, LeakyReLU(0.2) for 0.2.
#[derive(Debug, Clone)]
pub struct BatchNormAct {
    norm: BatchNorm,
    slope: f64,
}

impl BatchNormAct {
    pub fn new(channels: usize, slope: f64, vb: VarBuilder) -> Result<Self> {
        let config = BatchNormConfig {
            eps: EPS,
            remove_mean: true,
            affine: true,
            momentum: MOMENTUM,
        };
        Ok(BatchNormAct {
            norm: batch_norm(channels, config, vb)?,
            slope,
        })
    }

    /// `x: B × C × …`, normalised per channel over the batch and the remaining axes.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.run(x, train, false)
    }

    /// Training mode with weight and bias held constant: gradients reach `x` only (the
    /// running statistics still update).
    pub fn forward_frozen(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x, true, true)
    }

    fn run(&self, x: &Tensor, train: bool, frozen: bool) -> Result<Tensor> {
        let (weight, bias) = self
            .norm
            .weight_and_bias()
            .expect("BatchNormAct is built affine");
        let (weight, bias) = if frozen {
            (weight.detach(), bias.detach())
        } else {
            (weight.clone(), bias.clone())
        };
        if !train {
            let z = self.norm.forward_t(x, train)?;
            return if self.slope == 0.0 {
                z.relu()
            } else {
                super::act::leaky_relu(&z, self.slope)
            };
        }
        let stats = Arc::new(Mutex::new(Vec::new()));
        let op = BnAct {
            slope: self.slope,
            stats: stats.clone(),
        };
        let y = x.contiguous()?.apply_op3(&weight, &bias, op)?;
        // Running statistics as PyTorch updates them: the unbiased batch variance.
        // A copy: the op keeps its own for the backward pass.
        let stats = stats.lock().expect("batch-norm statistics").clone();
        let n = (x.elem_count() / x.dim(1)?) as f64;
        let (mean, var): (Vec<f64>, Vec<f64>) = stats.into_iter().unzip();
        let dtype = self.norm.running_mean().dtype();
        let mean = Tensor::new(mean, x.device())?.to_dtype(dtype)?;
        let var = Tensor::new(var, x.device())?.to_dtype(dtype)?;
        let running_mean = Var::from_tensor(self.norm.running_mean())?;
        let running_var = Var::from_tensor(self.norm.running_var())?;
        running_mean
            .set(&((running_mean.as_tensor() * (1.0 - MOMENTUM))? + (mean * MOMENTUM)?)?)?;
        running_var.set(
            &((running_var.as_tensor() * (1.0 - MOMENTUM))? + (var * (MOMENTUM * n / (n - 1.0)))?)?,
        )?;
        Ok(y)
    }
}

/// The forward op: (x, weight, bias) → y; records each channel's (mean, biased variance).
struct BnAct {
    slope: f64,
    stats: Arc<Mutex<Vec<(f64, f64)>>>,
}

/// The gradient op: (x, ∂L/∂y, [weight; bias]) → [∂L/∂x; ∂L/∂weight; ∂L/∂bias] flat,
/// given the forward pass's per-channel (mean, biased variance) of `x`.
struct BnActGrad {
    slope: f64,
    stats: Vec<(f64, f64)>,
}

/// `B × C × S` viewed as rows of length `S`, row `b·C + c` belonging to channel `c`.
#[derive(Clone, Copy)]
struct Rows {
    channels: usize,
    len: usize,
}

impl Rows {
    /// (B, C, S) of an input of `n` elements.
    #[cfg(feature = "cuda")]
    fn sizes(&self, n: usize) -> (usize, usize, usize) {
        (n / (self.channels * self.len), self.channels, self.len)
    }

    fn of(shape: &Shape) -> Result<Self> {
        let dims = shape.dims();
        if dims.len() < 2 {
            candle_core::bail!("batch norm needs B × C × …, got {dims:?}");
        }
        Ok(Rows {
            channels: dims[1],
            len: dims[2..].iter().product(),
        })
    }

    /// Per channel c, the sums over its rows of `f(c, row of a, row of b)`. The samples
    /// are cut into a fixed number of groups, summed in parallel, each reading its rows in
    /// memory order (per channel, its rows lie C·S apart: a walk over those was the
    /// slower half of the batch-norm kernels), and the groups' sums are added in order,
    /// so the result does not depend on the number of threads.
    fn channel_sums<T: Scalar>(
        &self,
        a: &[T],
        b: &[T],
        f: impl Fn(usize, &[T], &[T]) -> (f64, f64) + Sync,
    ) -> Vec<(f64, f64)> {
        const GROUPS: usize = 16;
        let sample = self.channels * self.len;
        let samples = a.len() / sample;
        let groups = GROUPS.min(samples).max(1);
        let partial: Vec<Vec<(f64, f64)>> = (0..groups)
            .into_par_iter()
            .map(|g| {
                let span = sample * (samples * g / groups)..sample * (samples * (g + 1) / groups);
                let mut acc = vec![(0.0, 0.0); self.channels];
                let rows = a[span.clone()]
                    .chunks(self.len)
                    .zip(b[span].chunks(self.len));
                for ((ra, rb), c) in rows.zip((0..self.channels).cycle()) {
                    let (s, q) = f(c, ra, rb);
                    acc[c].0 += s;
                    acc[c].1 += q;
                }
                acc
            })
            .collect();
        let mut total = vec![(0.0, 0.0); self.channels];
        for acc in partial {
            for (t, (s, q)) in total.iter_mut().zip(acc) {
                t.0 += s;
                t.1 += q;
            }
        }
        total
    }

    /// Mean and biased variance of every channel (sums in f64).
    fn stats<T: Scalar>(&self, x: &[T]) -> Vec<(f64, f64)> {
        let sums = self.channel_sums(x, x, |_, row, _| row_sums(row, row, |v, _| (v, v * v)));
        stats_from_sums(sums, (x.len() / self.channels) as f64)
    }
}

/// Per channel, (mean, biased variance) from (Σ x, Σ x²) over its `n` elements.
fn stats_from_sums(sums: Vec<(f64, f64)>, n: f64) -> Vec<(f64, f64)> {
    sums.into_iter()
        .map(|(sum, sum_sq)| {
            let mean = sum / n;
            (mean, (sum_sq / n - mean * mean).max(0.0))
        })
        .collect()
}

/// Per channel, `z = scale·x + shift` of the forward pass, computed once in f64 (rows
/// can be as short as 10).
fn forward_affine<T: Scalar>(stats: &[(f64, f64)], weight: &[T], bias: &[T]) -> Vec<(T, T)> {
    (stats.iter().zip(weight).zip(bias))
        .map(|((&(mean, var), w), b)| {
            let scale = w.to_f64() / (var + EPS).sqrt();
            (T::from_f64(scale), T::from_f64(b.to_f64() - mean * scale))
        })
        .collect()
}

/// `(Σ f(a_i, b_i).0, Σ f(a_i, b_i).1)` over one row, in `T` with sixteen independent
/// accumulators so that the loop vectorises (one running sum would be a serial chain); the
/// rows (at most a few hundred elements) are then summed in f64.
fn row_sums<T: Scalar>(a: &[T], b: &[T], f: impl Fn(T, T) -> (T, T)) -> (f64, f64) {
    const LANES: usize = 16;
    let (mut p, mut q) = ([T::default(); LANES], [T::default(); LANES]);
    let (a16, b16) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (a16.remainder(), b16.remainder());
    for (ca, cb) in a16.zip(b16) {
        for i in 0..LANES {
            let (u, v) = f(ca[i], cb[i]);
            p[i] += u;
            q[i] += v;
        }
    }
    for (i, (&u, &v)) in ra.iter().zip(rb).enumerate() {
        let (u, v) = f(u, v);
        p[i] += u;
        q[i] += v;
    }
    let total = |lanes: [T; LANES]| lanes.iter().map(|v| v.to_f64()).sum::<f64>();
    (total(p), total(q))
}

impl BnAct {
    fn run<T: Scalar>(&self, x: &[T], rows: Rows, weight: &[T], bias: &[T]) -> Vec<T> {
        let stats = rows.stats(x);
        let slope = T::from_f64(self.slope);
        let affine = forward_affine(&stats, weight, bias);
        let fill = |y: &mut [MaybeUninit<T>]| {
            y.par_chunks_mut(rows.len)
                .zip(x.par_chunks(rows.len))
                .enumerate()
                .for_each(|(row, (y, x))| {
                    let (scale, shift) = affine[row % rows.channels];
                    for (y, &x) in y.iter_mut().zip(x) {
                        let z = x * scale + shift;
                        y.write(z * mask(z, slope));
                    }
                })
        };
        // SAFETY: the rows of y pair up with those of x (same length), all written.
        let y = unsafe { written_by(x.len(), fill) };
        *self.stats.lock().expect("batch-norm statistics") = stats;
        y
    }
}

impl BnActGrad {
    /// Per channel, `z = a·x + b` (as T) and (μ, 1/σ), from the forward statistics and
    /// `params = [γ; β]`.
    fn channels<T: Scalar>(&self, params: &[T]) -> Vec<ChannelAffine<T>> {
        self.stats
            .iter()
            .enumerate()
            .map(|(c, &(mean, var))| {
                let inv_std = 1.0 / (var + EPS).sqrt();
                let (a, b) = grad_affine(params, c, mean, inv_std);
                ((T::from_f64(a), T::from_f64(b)), (mean, inv_std))
            })
            .collect()
    }

    /// From (Σ dz, Σ dz·x) per channel over its `n` elements: the input gradient's
    /// coefficients [a, b, c₁, c₂, c₃] per channel (∂x = c₁·dz + c₂·x + c₃ with
    /// dz = dy · act′(a·x + b)) and the parameters' gradients [∂γ; ∂β].
    fn coefficients<T: Scalar>(
        channels: &[ChannelAffine<T>],
        dz_sums: Vec<(f64, f64)>,
        params: &[T],
        n: f64,
    ) -> (Vec<[T; 5]>, Vec<T>) {
        let c_n = channels.len();
        // Per channel: (μ, 1/σ, Σ dz, Σ dz·x̂).
        let sums: Vec<(f64, f64, f64, f64)> = channels
            .iter()
            .zip(dz_sums)
            .map(|(&(_, (mean, inv_std)), (sum_dz, sum_dz_x))| {
                (mean, inv_std, sum_dz, (sum_dz_x - mean * sum_dz) * inv_std)
            })
            .collect();
        // Per channel, computed once (rows can be as short as 10).
        let coefficients = sums
            .iter()
            .enumerate()
            .map(|(c, &(mean, inv_std, sum_dz, sum_dz_xhat))| {
                let (a, b) = grad_affine(params, c, mean, inv_std);
                let k = params[c].to_f64() * inv_std / n;
                [
                    a,
                    b,
                    k * n,
                    -k * sum_dz_xhat * inv_std,
                    -k * sum_dz + k * sum_dz_xhat * inv_std * mean,
                ]
                .map(T::from_f64)
            })
            .collect();
        let mut dparams = vec![T::default(); 2 * c_n];
        for (c, &(_, _, sum_dz, sum_dz_xhat)) in sums.iter().enumerate() {
            dparams[c] = T::from_f64(sum_dz_xhat);
            dparams[c_n + c] = T::from_f64(sum_dz);
        }
        (coefficients, dparams)
    }

    /// With x̂ = (x − μ)/σ, z = γ·x̂ + β, dz = dy · act′(z), per channel:
    /// ∂γ = Σ dz·x̂, ∂β = Σ dz, ∂x = γ/(σ·n) · (n·dz − Σ dz − x̂ · Σ dz·x̂),
    /// the last written as c₁·dz + c₂·x + c₃ so that its loop vectorises.
    fn run<T: Scalar>(&self, x: &[T], dy: &[T], rows: Rows, params: &[T]) -> Vec<T> {
        let c_n = rows.channels;
        let slope = T::from_f64(self.slope);
        let channels = self.channels(params);
        // Σ dz and Σ dz·x per channel.
        let dz_sums = rows.channel_sums(x, dy, |c, x, g| {
            let (a, b) = channels[c].0;
            row_sums(x, g, |x, g| {
                let d = g * mask(a * x + b, slope);
                (d, d * x)
            })
        });
        let n = (x.len() / c_n) as f64;
        let (coefficients, dparams) = Self::coefficients(&channels, dz_sums, params, n);
        let fill = |out: &mut [MaybeUninit<T>]| {
            let (dx, tail) = out.split_at_mut(x.len());
            dx.par_chunks_mut(rows.len)
                .zip(x.par_chunks(rows.len).zip(dy.par_chunks(rows.len)))
                .enumerate()
                .for_each(|(row, (dx, (x, dy)))| {
                    let [a, b, c1, c2, c3] = coefficients[row % c_n];
                    for (dx, (&x, &g)) in dx.iter_mut().zip(x.iter().zip(dy)) {
                        let d = g * mask(x * a + b, slope);
                        dx.write(c1 * d + c2 * x + c3);
                    }
                });
            tail.write_copy_of_slice(&dparams);
        };
        // SAFETY: dx row by row as the rows of x, then the 2·C parameter gradients.
        unsafe { written_by(x.len() + 2 * c_n, fill) }
    }
}

/// One channel's `(a, b)` of `z = a·x + b` in the op's type, and its (μ, 1/σ).
type ChannelAffine<T> = ((T, T), (f64, f64));

/// `z = a·x + b` of the backward pass for channel c: a = γ/σ, b = β − μ·a.
fn grad_affine<T: Scalar>(params: &[T], c: usize, mean: f64, inv_std: f64) -> (f64, f64) {
    let c_n = params.len() / 2;
    let a = params[c].to_f64() * inv_std;
    (a, params[c_n + c].to_f64() - mean * a)
}

impl CustomOp3 for BnAct {
    fn name(&self) -> &'static str {
        "batch-norm-act"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let rows = Rows::of(l1.shape())?;
        if l2.shape().elem_count() != rows.channels || l3.shape().elem_count() != rows.channels {
            candle_core::bail!("batch norm: weight/bias do not match {:?}", l1.shape());
        }
        let out = dispatch!(self.name(), (s1, s2, s3), |x, w, b| self.run(
            slice(x, l1, self.name())?,
            rows,
            slice(w, l2, self.name())?,
            slice(b, l3, self.name())?
        ));
        Ok((out, l1.shape().clone()))
    }

    /// The CPU op's steps on the GPU: the per-channel sums by a kernel, the statistics
    /// and the affine coefficients on the host (2·C values each way), then one
    /// element-wise kernel.
    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
        s3: &candle_core::CudaStorage,
        l3: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        let rows = Rows::of(l1.shape())?;
        let name = self.name();
        let dev = &s1.device;
        let x = cuda::view(s1, l1, name)?;
        let weight = cuda::to_host(dev, &cuda::view(s2, l2, name)?)?;
        let bias = cuda::to_host(dev, &cuda::view(s3, l3, name)?)?;
        if weight.len() != rows.channels || bias.len() != rows.channels {
            candle_core::bail!("batch norm: weight/bias do not match {:?}", l1.shape());
        }
        let shape = rows.sizes(x.len());
        let sums = cuda::norm_sums(dev, &x, None, shape, self.slope as f32)?;
        let stats = stats_from_sums(sums, (x.len() / rows.channels) as f64);
        let (scale, shift): (Vec<f32>, Vec<f32>) =
            forward_affine(&stats, &weight, &bias).into_iter().unzip();
        let affine = [scale, shift].concat();
        let y = cuda::norm_act(dev, &x, &affine, shape, self.slope as f32)?;
        *self.stats.lock().expect("batch-norm statistics") = stats;
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(y, dev.clone()),
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let params = Tensor::cat(&[weight, bias], 0)?;
        let stats = self.stats.lock().expect("batch-norm statistics").clone();
        if stats.len() != weight.elem_count() {
            candle_core::bail!("batch norm: backward before forward");
        }
        let op = BnActGrad {
            slope: self.slope,
            stats,
        };
        // Tracked (not `_no_bwd`): differentiating it must reach its missing `bwd` and fail.
        let flat = x.apply_op3(&grad.contiguous()?, &params, op)?;
        let (n, c) = (x.elem_count(), weight.elem_count());
        Ok((
            Some(flat.narrow(0, 0, n)?.reshape(x.shape())?),
            Some(flat.narrow(0, n, c)?),
            Some(flat.narrow(0, n + c, c)?),
        ))
    }
}

impl CustomOp3 for BnActGrad {
    fn name(&self) -> &'static str {
        "batch-norm-act-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let rows = Rows::of(l1.shape())?;
        let out = dispatch!(self.name(), (s1, s2, s3), |x, dy, p| self.run(
            slice(x, l1, self.name())?,
            slice(dy, l2, self.name())?,
            rows,
            slice(p, l3, self.name())?
        ));
        let len = l1.shape().elem_count() + 2 * rows.channels;
        Ok((out, Shape::from(len)))
    }

    /// As [`BnAct`]'s: the sums by a kernel, the coefficients on the host, one kernel.
    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
        s3: &candle_core::CudaStorage,
        l3: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        let rows = Rows::of(l1.shape())?;
        let name = self.name();
        let dev = &s1.device;
        let (x, dy) = (cuda::view(s1, l1, name)?, cuda::view(s2, l2, name)?);
        let params = cuda::to_host(dev, &cuda::view(s3, l3, name)?)?;
        if params.len() != 2 * rows.channels || self.stats.len() != rows.channels {
            candle_core::bail!("batch norm: parameters do not match {:?}", l1.shape());
        }
        let shape = rows.sizes(x.len());
        let slope = self.slope as f32;
        let channels = self.channels(&params);
        let (a, b): (Vec<f32>, Vec<f32>) = channels.iter().map(|&(ab, _)| ab).unzip();
        let ab = [a, b].concat();
        let dz_sums = cuda::norm_sums(dev, &x, Some((&dy, &ab)), shape, slope)?;
        let n = (x.len() / rows.channels) as f64;
        let (coefficients, dparams) = Self::coefficients(&channels, dz_sums, &params, n);
        // [a; b; c₁; c₂; c₃], each C long, as the kernel reads them.
        let k: Vec<f32> = (0..5)
            .flat_map(|i| coefficients.iter().map(move |c| c[i]))
            .collect();
        let out = cuda::norm_act_grad(dev, (&x, &dy), &k, &dparams, shape, slope)?;
        let len = x.len() + 2 * rows.channels;
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(out, dev.clone()),
            Shape::from(len),
        ))
    }
}
