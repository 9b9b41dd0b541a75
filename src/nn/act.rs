//! LeakyReLU as one op (CPU loop, or CUDA kernel in `cuda.rs`), closed under
//! differentiation.
//!
//! candle-nn's `leaky_relu` is `max(x, 0) + slope·min(x, 0)`: five passes over the
//! activations forward (a zero tensor, max, min, scale, add) and comparison masks and
//! products backward. After the first conv layer of every BeatGAN-family encoder that was
//! the largest group of candle's element-wise work in the training step.
//!
//! Here everything is one op, `mask_mul(g, x) = g · m(x)` with `m(x) = 1` for `x > 0`,
//! else `slope`: the activation is `mask_mul(x, x)`, and since `m` is piecewise constant
//! the op is linear in `g` with zero derivative in `x` (almost everywhere), so its
//! gradient is `mask_mul(ḡ, x)` again. Gradients of gradients (TadGAN's critic, under the
//! gradient penalty) therefore stay exact.

use super::cpu::{dispatch, slice, written_by, Scalar};
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Elements per parallel task: large enough to amortise the fork.
const CHUNK: usize = 16 * 1024;

/// `max(x, 0) + slope · min(x, 0)` (ReLU for slope 0).
pub fn leaky_relu(x: &Tensor, slope: f64) -> Result<Tensor> {
    let x = x.contiguous()?;
    mask_mul(&x, &x, slope)
}

fn mask_mul(g: &Tensor, x: &Tensor, slope: f64) -> Result<Tensor> {
    g.contiguous()?
        .apply_op2(&x.contiguous()?, MaskMul { slope })
}

struct MaskMul {
    slope: f64,
}

impl MaskMul {
    fn run<T: Scalar>(&self, g: &[T], x: &[T]) -> Vec<T> {
        let slope = T::from_f64(self.slope);
        let fill = |out: &mut [MaybeUninit<T>]| {
            out.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK).zip(x.par_chunks(CHUNK)))
                .for_each(|(out, (g, x))| {
                    for (o, (&g, &x)) in out.iter_mut().zip(g.iter().zip(x)) {
                        o.write(g * mask(x, slope));
                    }
                })
        };
        // SAFETY: the chunks of `out` pair up with those of g (same length), all written.
        unsafe { written_by(g.len(), fill) }
    }
}

fn same_shapes(op: &str, l1: &Layout, l2: &Layout) -> Result<()> {
    if l1.shape() != l2.shape() {
        candle_core::bail!("{op}: shapes {:?} and {:?} differ", l1.shape(), l2.shape());
    }
    Ok(())
}

/// m(x): 1 where `x > 0`, else `slope`, written as a select between constants so that the
/// loops using it vectorise (a branch on each element stops them).
pub(super) fn mask<T: Scalar>(x: T, slope: T) -> T {
    if x > T::default() {
        T::ONE
    } else {
        slope
    }
}

impl CustomOp2 for MaskMul {
    fn name(&self) -> &'static str {
        "leaky-relu-mask-mul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        same_shapes(self.name(), l1, l2)?;
        let out = dispatch!(self.name(), (s1, s2), |g, x| self
            .run(slice(g, l1, self.name())?, slice(x, l2, self.name())?));
        Ok((out, l1.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        same_shapes(self.name(), l1, l2)?;
        let dev = &s1.device;
        let (g, x) = (
            cuda::view(s1, l1, self.name())?,
            cuda::view(s2, l2, self.name())?,
        );
        let out = cuda::mask_mul(dev, &g, &x, self.slope as f32)?;
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(out, dev.clone()),
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        g: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // Linear in g; m(x) is piecewise constant, so nothing flows to x through the mask.
        let dg = mask_mul(grad, x, self.slope)?;
        // The activation itself is mask_mul(x, x): its one gradient is dg. A gradient op
        // (a second-order pass) must still give x an explicit zero: candle's backward
        // expects every tracked node on the path to receive a gradient.
        let dx = if g.id() == x.id() {
            None
        } else {
            Some(x.zeros_like()?)
        };
        Ok((Some(dg), dx))
    }
}
