//! LSTM and bidirectional LSTM over `B × T × features` sequences.
//!
//! candle-nn's LSTM steps one time step per call from outside; here the input
//! projection of all time steps is one matrix product and only the recurrent part loops,
//! which halves the number of small ops per step. Gates are ordered i, f, g, o (as
//! PyTorch and Keras). Everything is plain candle ops, so gradients flow through time.

use candle_core::{Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

#[derive(Debug, Clone)]
pub struct Lstm {
    /// `4H × I`.
    weight_ih: Tensor,
    /// `4H × H`.
    weight_hh: Tensor,
    /// `4H`; the init sets the forget-gate quarter to 1 (see `nn::init`).
    bias: Tensor,
    hidden: usize,
}

/// What an LSTM pass produces.
pub struct LstmOutput {
    /// Hidden state at every step, `B × T × H`, in input order.
    pub seq: Tensor,
    /// Hidden state after the last step processed, `B × H`.
    pub last: Tensor,
}

impl Lstm {
    pub fn new(d_in: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Lstm {
            weight_ih: vb.get_with_hints((4 * hidden, d_in), "weight_ih", Init::Const(0.))?,
            weight_hh: vb.get_with_hints((4 * hidden, hidden), "weight_hh", Init::Const(0.))?,
            bias: vb.get_with_hints(4 * hidden, LSTM_BIAS, Init::Const(0.))?,
            hidden,
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs over `x: B × T × I` from the first step to the last, or from the last to the
    /// first when `reverse` (the backward half of a BiLSTM); states start at zero.
    pub fn forward(&self, x: &Tensor, reverse: bool) -> Result<LstmOutput> {
        let outs = self.forward_steps(&steps(x)?, reverse)?;
        let last = if reverse {
            &outs[0]
        } else {
            &outs[outs.len() - 1]
        };
        Ok(LstmOutput {
            last: last.clone(),
            seq: Tensor::stack(&outs, 1)?,
        })
    }

    /// The same over a sequence given as one `B × I` tensor per step; returns one `B × H`
    /// state per step, in time order.
    ///
    /// Why steps and not one `B × T × 4H` input projection: the backward pass of each
    /// step's `narrow` of that tensor is a zero-padded tensor of its full size, and with
    /// differentiable gradients (TadGAN's penalty) candle keeps every one of them alive
    /// until the pass ends — 19 GB for one TadGAN batch. Per-step products keep each
    /// gradient the size of its step.
    pub fn forward_steps(&self, xs: &[Tensor], reverse: bool) -> Result<Vec<Tensor>> {
        let first = xs
            .first()
            .ok_or_else(|| candle_core::Error::Msg("LSTM over an empty sequence".into()))?;
        let (b, h_dim) = (first.dim(0)?, self.hidden);
        let (w_ih, w_hh) = (self.weight_ih.t()?, self.weight_hh.t()?);
        let mut h = Tensor::zeros((b, h_dim), first.dtype(), first.device())?;
        let mut c = h.clone();
        let mut outs = Vec::with_capacity(xs.len());
        for step in 0..xs.len() {
            let s = if reverse { xs.len() - 1 - step } else { step };
            let gates = (xs[s].matmul(&w_ih)?.broadcast_add(&self.bias)? + h.matmul(&w_hh)?)?;
            let chunk = |k: usize| gates.narrow(D::Minus1, k * h_dim, h_dim);
            let i = candle_nn::ops::sigmoid(&chunk(0)?)?;
            let f = candle_nn::ops::sigmoid(&chunk(1)?)?;
            let g = chunk(2)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&chunk(3)?)?;
            c = ((f * &c)? + (i * g)?)?;
            h = (o * c.tanh()?)?;
            outs.push(h.clone());
        }
        if reverse {
            outs.reverse();
        }
        Ok(outs)
    }
}

/// `B × T × I` as `T` tensors of `B × I`.
pub fn steps(x: &Tensor) -> Result<Vec<Tensor>> {
    (0..x.dim(1)?)
        .map(|s| x.narrow(1, s, 1)?.squeeze(1))
        .collect()
}

pub const LSTM_BIAS: &str = "bias_ifgo";

/// Two LSTMs, one reading forwards and one backwards; outputs concatenated per step.
#[derive(Debug, Clone)]
pub struct BiLstm {
    fwd: Lstm,
    bwd: Lstm,
}

impl BiLstm {
    pub fn new(d_in: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(BiLstm {
            fwd: Lstm::new(d_in, hidden, vb.pp("fwd"))?,
            bwd: Lstm::new(d_in, hidden, vb.pp("bwd"))?,
        })
    }

    /// `B × T × I` → `B × T × 2H` (forward states first).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Tensor::stack(&self.forward_steps(&steps(x)?)?, 1)
    }

    /// Per-step form (see [`Lstm::forward_steps`]): `B × I` per step → `B × 2H` per step.
    pub fn forward_steps(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        let f = self.fwd.forward_steps(xs, false)?;
        let b = self.bwd.forward_steps(xs, true)?;
        f.iter()
            .zip(&b)
            .map(|(f, b)| Tensor::cat(&[f, b], 1))
            .collect()
    }
}
