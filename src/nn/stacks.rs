//! The BeatGAN-family 1-D conv encoder and decoder (`../shared/specs/models.md`, "Shared
//! 1-D conv stacks"). Each stride-2 layer halves the length down to 10, then a kernel-10
//! convolution maps to one position; the decoder mirrors it.

use super::conv::{Conv1d, ConvTranspose1d};
use super::norm::BatchNormAct;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Length the stride-2 layers reduce a window to before the final kernel.
const BOTTOM_LENGTH: usize = 10;

/// Number of stride-2 layers for a window length: `length = 10·2^n` with `n ≥ 2`
/// (320 → 5). Other lengths would silently mis-shape the stacks, so they are refused.
pub fn depth_for_length(length: usize) -> Option<usize> {
    if length < 4 * BOTTOM_LENGTH || !length.is_multiple_of(BOTTOM_LENGTH) {
        return None;
    }
    let ratio = length / BOTTOM_LENGTH;
    ratio
        .is_power_of_two()
        .then(|| ratio.trailing_zeros() as usize)
}

/// LeakyReLU slope of the encoder blocks.
const LEAK: f64 = 0.2;

fn depth(length: usize) -> Result<usize> {
    depth_for_length(length).ok_or_else(|| {
        candle_core::Error::Msg(format!(
            "the conv stacks need a window length of 10·2^n (n ≥ 2, e.g. 320); got {length}"
        ))
    })
}

/// Conv1d(nc→ndf) + LeakyReLU, then `depth−1` × [Conv1d + BN + LeakyReLU] doubling the
/// channels, then Conv1d(k=10) to `out` channels at length 1.
#[derive(Debug, Clone)]
pub struct ConvEncoder {
    first: Conv1d,
    blocks: Vec<(Conv1d, BatchNormAct)>,
    last: Conv1d,
}

/// What an encoder pass produces.
pub struct Encoded {
    /// `B × out × 1`.
    pub out: Tensor,
    /// The output of every stride-2 layer (after its activation), first to last; the last
    /// one is BeatGAN's discriminator feature map.
    pub maps: Vec<Tensor>,
}

impl Encoded {
    /// The last stride-2 map: the discriminator features of BeatGAN, GANomaly and AnoGAN.
    pub fn features(mut self) -> Tensor {
        self.maps.pop().expect("an encoder has at least one map")
    }
}

impl ConvEncoder {
    pub fn new(nc: usize, ndf: usize, out: usize, length: usize, vb: VarBuilder) -> Result<Self> {
        let n = depth(length)?;
        let first = Conv1d::new(nc, ndf, 4, 2, 1, vb.pp("conv0"))?;
        let mut blocks = Vec::with_capacity(n - 1);
        for i in 1..n {
            let (c_in, c_out) = (ndf << (i - 1), ndf << i);
            let vb = vb.pp(format!("block{i}"));
            blocks.push((
                Conv1d::new(c_in, c_out, 4, 2, 1, vb.pp("conv"))?,
                BatchNormAct::new(c_out, LEAK, vb.pp("bn"))?,
            ));
        }
        let last = Conv1d::new(ndf << (n - 1), out, BOTTOM_LENGTH, 1, 0, vb.pp("final"))?;
        Ok(ConvEncoder {
            first,
            blocks,
            last,
        })
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Encoded> {
        let mut h = candle_nn::ops::leaky_relu(&self.first.forward(x)?, LEAK)?;
        let mut maps = Vec::with_capacity(self.blocks.len() + 1);
        maps.push(h.clone());
        for (conv, norm) in &self.blocks {
            h = norm.forward_t(&conv.forward(&h)?, train)?;
            maps.push(h.clone());
        }
        Ok(Encoded {
            out: self.last.forward(&h)?,
            maps,
        })
    }
}

/// ConvT1d(nz→ngf·2^(n−1), k=10) + BN + ReLU, then `n−1` × [ConvT1d + BN + ReLU] halving
/// the channels to ngf, then ConvT1d(ngf→nc) + tanh.
#[derive(Debug, Clone)]
pub struct ConvDecoder {
    first: (ConvTranspose1d, BatchNormAct),
    blocks: Vec<(ConvTranspose1d, BatchNormAct)>,
    last: ConvTranspose1d,
}

impl ConvDecoder {
    pub fn new(nz: usize, ngf: usize, nc: usize, length: usize, vb: VarBuilder) -> Result<Self> {
        let n = depth(length)?;
        let top = ngf << (n - 1);
        let first = (
            ConvTranspose1d::new(nz, top, BOTTOM_LENGTH, 1, 0, vb.pp("convt0"))?,
            BatchNormAct::new(top, 0.0, vb.pp("bn0"))?,
        );
        let mut blocks = Vec::with_capacity(n - 1);
        for i in 1..n {
            let (c_in, c_out) = (ngf << (n - i), ngf << (n - i - 1));
            let vb = vb.pp(format!("block{i}"));
            blocks.push((
                ConvTranspose1d::new(c_in, c_out, 4, 2, 1, vb.pp("convt"))?,
                BatchNormAct::new(c_out, 0.0, vb.pp("bn"))?,
            ));
        }
        let last = ConvTranspose1d::new(ngf, nc, 4, 2, 1, vb.pp("final"))?;
        Ok(ConvDecoder {
            first,
            blocks,
            last,
        })
    }

    pub fn forward_t(&self, z: &Tensor, train: bool) -> Result<Tensor> {
        let mut h = self.first.1.forward_t(&self.first.0.forward(z)?, train)?;
        for (convt, norm) in &self.blocks {
            h = norm.forward_t(&convt.forward(&h)?, train)?;
        }
        self.last.forward(&h)?.tanh()
    }
}
