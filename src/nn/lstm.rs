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
        let (b, t, d_in) = x.dims3()?;
        let h_dim = self.hidden;
        let gates_x = x
            .reshape((b * t, d_in))?
            .matmul(&self.weight_ih.t()?)?
            .broadcast_add(&self.bias)?
            .reshape((b, t, 4 * h_dim))?;
        let w_hh = self.weight_hh.t()?;
        let mut h = Tensor::zeros((b, h_dim), x.dtype(), x.device())?;
        let mut c = h.clone();
        let mut outs = Vec::with_capacity(t);
        for step in 0..t {
            let s = if reverse { t - 1 - step } else { step };
            let gates = (gates_x.narrow(1, s, 1)?.squeeze(1)? + h.matmul(&w_hh)?)?;
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
        Ok(LstmOutput {
            seq: Tensor::stack(&outs, 1)?,
            last: h,
        })
    }
}

/// Name of an LSTM's gate bias: `nn::init` recognises it to set the forget gate to 1.
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
        let f = self.fwd.forward(x, false)?.seq;
        let b = self.bwd.forward(x, true)?.seq;
        Tensor::cat(&[f, b], 2)
    }
}
