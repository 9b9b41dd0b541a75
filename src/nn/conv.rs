//! 1-D convolution and transposed convolution routed through candle's 2-D kernels.
//!
//! candle 0.11.1's own `conv1d` computes a wrong weight gradient (and a wrong input
//! gradient with padding 0), and `conv_transpose1d` has no backward and a wrong forward
//! with padding 0 (`../shared/specs/candle-notes.md`). The 2-D kernels are correct, so
//! both layers add a height-1 axis, call the 2-D op with padding 0, and do the padding
//! on the length axis themselves. `tests/conv.rs` checks both against finite differences.

use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// `y = conv1d(x, w)` for `x: B×Cin×L`, `w: Cout×Cin×K`, zero padding on both ends.
pub fn conv1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    let x = if padding > 0 {
        x.pad_with_zeros(2, padding, padding)?
    } else {
        x.clone()
    };
    x.unsqueeze(2)?
        .conv2d(&w.unsqueeze(2)?, 0, stride, 1, 1)?
        .squeeze(2)
}

/// Transposed 1-D convolution for `x: B×Cin×L`, `w: Cin×Cout×K`, PyTorch semantics:
/// output length `(L−1)·stride − 2·padding + K`.
pub fn conv_transpose1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
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
