//! 1-D convolution and transposed convolution, PyTorch semantics, bias-free.
//!
//! candle 0.11.1's own `conv1d` computes a wrong weight gradient (and a wrong input
//! gradient with padding 0), and `conv_transpose1d` has no backward and a wrong forward
//! with padding 0 (`../shared/specs/candle-notes.md`). The layers therefore run our own
//! im2col + matrix-product ops (`conv_op`) on the CPU and on CUDA: on the CPU about twice
//! as fast as candle's kernels for the BeatGAN step, on CUDA instead of candle's naive
//! transposed-convolution kernel. `tests/conv.rs` checks them against direct loops,
//! finite differences and candle's correct 2-D kernels with a height-1 axis.
//!
//! The 2-D layers of the image stacks (GANomaly on digits) call candle's 2-D kernels
//! directly with padding 0 (the forward pads its input here, the transposed one crops
//! its output; on CUDA these are still candle's kernels); `tests/conv.rs` checks them
//! against direct loops and finite differences.

use super::conv_op::{self, Geometry};
use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// `y = conv1d(x, w)` for `x: B×Cin×L`, `w: Cout×Cin×K`, zero padding on both ends.
pub fn conv1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
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
    conv_op::forward(x, w, geo)
}

/// Transposed 1-D convolution for `x: B×Cin×L`, `w: Cin×Cout×K`, PyTorch semantics:
/// output length `(L−1)·stride − 2·padding + K`.
pub fn conv_transpose1d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
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
    conv_op::input_grad(x, w, geo)
}

/// `y = conv2d(x, w)` for `x: B×Cin×H×W`, `w: Cout×Cin×Kh×Kw`, zero padding on all four
/// sides. candle's 2-D kernel is the correct one; it is called with padding 0 and the
/// input padded here.
pub fn conv2d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    let x = if padding > 0 {
        x.pad_with_zeros(2, padding, padding)?
            .pad_with_zeros(3, padding, padding)?
    } else {
        x.clone()
    };
    x.conv2d(w, 0, stride, 1, 1)
}

/// Transposed 2-D convolution for `x: B×Cin×H×W`, `w: Cin×Cout×Kh×Kw`, PyTorch
/// semantics: output side `(H−1)·stride − 2·padding + K`; computed with padding 0 and
/// cropped, as [`conv_transpose1d`].
pub fn conv_transpose2d(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    let y = x.conv_transpose2d(w, 0, 0, stride, 1)?;
    if padding == 0 {
        return Ok(y);
    }
    let (h, wd) = (y.dim(2)?, y.dim(3)?);
    y.narrow(2, padding, h - 2 * padding)?
        .narrow(3, padding, wd - 2 * padding)
}

/// What a layer kind computes: its weight's shape and the operation.
pub trait ConvKind: std::fmt::Debug + Clone {
    /// Weight shape for `c_in → c_out` channels and a `kernel` per spatial axis.
    fn weight_shape(c_in: usize, c_out: usize, kernel: usize) -> Vec<usize>;
    fn apply(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor>;
}

/// [`conv1d`]: weight `Cout×Cin×K`.
#[derive(Debug, Clone)]
pub struct Forward1d;
/// [`conv_transpose1d`]: weight `Cin×Cout×K`.
#[derive(Debug, Clone)]
pub struct Transpose1d;
/// [`conv2d`]: weight `Cout×Cin×K×K`.
#[derive(Debug, Clone)]
pub struct Forward2d;
/// [`conv_transpose2d`]: weight `Cin×Cout×K×K`.
#[derive(Debug, Clone)]
pub struct Transpose2d;

impl ConvKind for Forward1d {
    fn weight_shape(c_in: usize, c_out: usize, kernel: usize) -> Vec<usize> {
        vec![c_out, c_in, kernel]
    }
    fn apply(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
        conv1d(x, w, stride, padding)
    }
}

impl ConvKind for Transpose1d {
    fn weight_shape(c_in: usize, c_out: usize, kernel: usize) -> Vec<usize> {
        vec![c_in, c_out, kernel]
    }
    fn apply(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
        conv_transpose1d(x, w, stride, padding)
    }
}

impl ConvKind for Forward2d {
    fn weight_shape(c_in: usize, c_out: usize, kernel: usize) -> Vec<usize> {
        vec![c_out, c_in, kernel, kernel]
    }
    fn apply(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
        conv2d(x, w, stride, padding)
    }
}

impl ConvKind for Transpose2d {
    fn weight_shape(c_in: usize, c_out: usize, kernel: usize) -> Vec<usize> {
        vec![c_in, c_out, kernel, kernel]
    }
    fn apply(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
        conv_transpose2d(x, w, stride, padding)
    }
}

/// A bias-free convolution layer of kind `K` (the BeatGAN family and the DCGAN-style
/// image stacks have no conv biases); its weight is the variable `weight`.
#[derive(Debug, Clone)]
pub struct ConvLayer<K: ConvKind> {
    weight: Tensor,
    stride: usize,
    padding: usize,
    kind: std::marker::PhantomData<K>,
}

pub type Conv1d = ConvLayer<Forward1d>;
pub type ConvTranspose1d = ConvLayer<Transpose1d>;
pub type Conv2d = ConvLayer<Forward2d>;
pub type ConvTranspose2d = ConvLayer<Transpose2d>;

impl<K: ConvKind> ConvLayer<K> {
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let shape = K::weight_shape(c_in, c_out, kernel);
        let weight = vb.get_with_hints(shape, "weight", Init::Const(0.))?;
        Ok(ConvLayer {
            weight,
            stride,
            padding,
            kind: std::marker::PhantomData,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        K::apply(x, &self.weight, self.stride, self.padding)
    }

    /// [`Self::forward`] with the weight held constant: gradients reach `x` but not the
    /// weight, so a backward pass skips the weight-gradient convolution.
    pub fn forward_frozen(&self, x: &Tensor) -> Result<Tensor> {
        K::apply(x, &self.weight.detach(), self.stride, self.padding)
    }
}
