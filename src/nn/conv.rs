//! 1-D convolution and transposed convolution, PyTorch semantics, bias-free.
//!
//! candle 0.11.1's own `conv1d` computes a wrong weight gradient (and a wrong input
//! gradient with padding 0), and `conv_transpose1d` has no backward and a wrong forward
//! with padding 0 (`../shared/specs/candle-notes.md`). On the CPU the layers run our own
//! im2col + gemm ops (`conv_cpu`), about twice as fast as candle's kernels for the BeatGAN
//! step; on other devices they go through candle's correct 2-D kernels with a height-1
//! axis (padding done on the length axis by hand). `tests/conv.rs` checks both routes
//! against direct loops, finite differences and each other.

use super::conv_cpu::{self, Geometry};
use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// `y = conv1d(x, w)` for `x: B×Cin×L`, `w: Cout×Cin×K`, zero padding on both ends.
pub fn conv1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return conv1d_2d_route(x, w, stride, padding);
    }
    let (batch, c_in, len_in) = x.dims3()?;
    let (c_out, w_in, kernel) = w.dims3()?;
    if w_in != c_in || len_in + 2 * padding < kernel {
        candle_core::bail!(
            "conv1d: input {:?} does not fit weight {:?} with padding {padding}",
            x.dims(),
            w.dims()
        );
    }
    let geo = Geometry {
        batch,
        c_in,
        len_in,
        c_out,
        kernel,
        len_out: (len_in + 2 * padding - kernel) / stride + 1,
        stride,
        padding,
    };
    conv_cpu::forward(x, w, geo)
}

/// Transposed 1-D convolution for `x: B×Cin×L`, `w: Cin×Cout×K`, PyTorch semantics:
/// output length `(L−1)·stride − 2·padding + K`.
pub fn conv_transpose1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return conv_transpose1d_2d_route(x, w, stride, padding);
    }
    let (batch, c_t, len) = x.dims3()?;
    let (w_in, c_out, kernel) = w.dims3()?;
    if w_in != c_t || (len - 1) * stride + kernel < 2 * padding + 1 {
        candle_core::bail!(
            "conv_transpose1d: input {:?} does not fit weight {:?} with padding {padding}",
            x.dims(),
            w.dims()
        );
    }
    // The transpose of a convolution whose output is `x` and whose input is ours.
    let geo = Geometry {
        batch,
        c_in: c_out,
        len_in: (len - 1) * stride + kernel - 2 * padding,
        c_out: c_t,
        kernel,
        len_out: len,
        stride,
        padding,
    };
    conv_cpu::input_grad(x, w, geo)
}

/// [`conv1d`] through candle's 2-D kernels: the route for non-CPU devices.
pub fn conv1d_2d_route(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    let x = if padding > 0 {
        x.pad_with_zeros(2, padding, padding)?
    } else {
        x.clone()
    };
    x.unsqueeze(2)?
        .conv2d(&w.unsqueeze(2)?, 0, stride, 1, 1)?
        .squeeze(2)
}

/// [`conv_transpose1d`] through candle's 2-D kernels: the route for non-CPU devices.
pub fn conv_transpose1d_2d_route(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    let y = x
        .unsqueeze(2)?
        .conv_transpose2d(&w.unsqueeze(2)?, 0, 0, stride, 1)?
        .squeeze(2)?;
    if padding == 0 {
        return Ok(y);
    }
    let full = y.dim(2)?;
    y.narrow(2, padding, full - 2 * padding)
}

/// A bias-free Conv1d layer (the BeatGAN family has no conv biases).
#[derive(Debug, Clone)]
pub struct Conv1d {
    weight: Tensor,
    stride: usize,
    padding: usize,
}

impl Conv1d {
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb.get_with_hints((c_out, c_in, kernel), "weight", Init::Const(0.))?;
        Ok(Conv1d {
            weight,
            stride,
            padding,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        conv1d(x, &self.weight, self.stride, self.padding)
    }
}

/// A bias-free ConvTranspose1d layer.
#[derive(Debug, Clone)]
pub struct ConvTranspose1d {
    weight: Tensor,
    stride: usize,
    padding: usize,
}

impl ConvTranspose1d {
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb.get_with_hints((c_in, c_out, kernel), "weight", Init::Const(0.))?;
        Ok(ConvTranspose1d {
            weight,
            stride,
            padding,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        conv_transpose1d(x, &self.weight, self.stride, self.padding)
    }
}
