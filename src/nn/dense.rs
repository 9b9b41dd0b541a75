//! Fully connected layers and seeded dropout.

use crate::rng::SplitMix64;
use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// `y = x·Wᵀ + b` on the last axis of `x` (any number of leading axes).
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    /// Weights `out × in` and bias `out`, created as zeros: the model's init draws them.
    pub fn new(d_in: usize, d_out: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Dense {
            weight: vb.get_with_hints((d_out, d_in), "weight", Init::Const(0.))?,
            bias: vb.get_with_hints(d_out, "bias", Init::Const(0.))?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let d_in = *dims.last().expect("a dense input has at least one axis");
        let rows = x.elem_count() / d_in;
        let y = x
            .reshape((rows, d_in))?
            .matmul(&self.weight.t()?)?
            .broadcast_add(&self.bias)?;
        let mut out_dims = dims;
        *out_dims.last_mut().expect("non-empty") = self.weight.dim(0)?;
        y.reshape(out_dims)
    }
}

/// Inverted dropout with a mask drawn from `rng`: candle's own dropout draws from a
/// generator that cannot be seeded, which would make training irreproducible.
pub fn dropout(x: &Tensor, p: f64, rng: &mut SplitMix64) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let keep = 1.0 - p;
    let mask: Vec<f32> = (0..x.elem_count())
        .map(|_| {
            if rng.next_f64() < keep {
                (1.0 / keep) as f32
            } else {
                0.0
            }
        })
        .collect();
    x * Tensor::from_vec(mask, x.shape(), x.device())?
}

/// A `dims`-shaped tensor of standard normal draws from `rng` (candle's `randn` cannot
/// be seeded).
pub fn randn(dims: &[usize], rng: &mut SplitMix64, device: &candle_core::Device) -> Result<Tensor> {
    let n = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    Tensor::from_vec(values, dims, device)
}
