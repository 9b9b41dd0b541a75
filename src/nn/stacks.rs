//! The BeatGAN-family 1-D conv encoder and decoder (`../shared/specs/models.md`, "Shared
//! 1-D conv stacks"). Each stride-2 layer halves the length down to 10, then a kernel-10
//! convolution maps to one position; the decoder mirrors it. The image stacks
//! ([`ConvEncoder2d`], [`ConvDecoder2d`]) are GANomaly's DCGAN-style 2-D versions
//! (its official `networks.Encoder`/`Decoder`, no extra layers): each stride-2 layer
//! halves the side down to 4, then a 4×4 kernel maps to one position. Both are one
//! construction over the layer kind.

use super::conv::{ConvKind, ConvLayer, Forward1d, Forward2d, Transpose1d, Transpose2d};
use super::norm::BatchNormAct;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Length the stride-2 layers reduce a window to before the final kernel.
const BOTTOM_LENGTH: usize = 10;
/// Side the stride-2 layers reduce an image to before the final 4×4 kernel.
const BOTTOM_SIDE: usize = 4;

/// `n` when `size = bottom·2^n` with `n ≥ min_depth`.
fn halvings(size: usize, bottom: usize, min_depth: usize) -> Option<usize> {
    if size < bottom << min_depth || !size.is_multiple_of(bottom) {
        return None;
    }
    let ratio = size / bottom;
    ratio
        .is_power_of_two()
        .then(|| ratio.trailing_zeros() as usize)
}

/// Number of stride-2 layers for a window length: `length = 10·2^n` with `n ≥ 2`
/// (320 → 5). Other lengths would silently mis-shape the stacks, so they are refused.
pub fn depth_for_length(length: usize) -> Option<usize> {
    halvings(length, BOTTOM_LENGTH, 2)
}

/// The length the 1-D stacks take for windows of `length` samples: `length` itself when
/// supported, else the next supported one above it (96 → 160, 140 → 160; at least 40),
/// to which the runner resamples the windows.
pub fn supported_length(length: usize) -> usize {
    let mut supported = BOTTOM_LENGTH << 2;
    while supported < length {
        supported *= 2;
    }
    if depth_for_length(length).is_some() {
        length
    } else {
        supported
    }
}

/// Number of stride-2 layers of the image stacks for a square image of side
/// `side = 4·2^n`, `n ≥ 1` (8 → 1, 32 → 3); other sides are refused.
pub fn depth_for_side(side: usize) -> Option<usize> {
    halvings(side, BOTTOM_SIDE, 1)
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

fn depth2d(height: usize, width: usize) -> Result<usize> {
    match depth_for_side(height) {
        Some(n) if height == width => Ok(n),
        _ => Err(candle_core::Error::Msg(format!(
            "the image conv stacks need square images of side 4·2^n (n ≥ 1, e.g. 8 or 32); got {height}×{width}"
        ))),
    }
}

/// Conv(nc→ndf, k4, s2, p1) + LeakyReLU(0.2), then `n−1` × [Conv(k4, s2, p1) + BN +
/// LeakyReLU(0.2)] doubling the channels, then Conv(k = bottom, s1, p0) to `out`
/// channels at one position. 1-D: [`ConvEncoder`]; 2-D: [`ConvEncoder2d`].
#[derive(Debug, Clone)]
pub struct EncoderStack<K: ConvKind> {
    first: ConvLayer<K>,
    blocks: Vec<(ConvLayer<K>, BatchNormAct)>,
    last: ConvLayer<K>,
}

/// The BeatGAN-family encoder: `B × nc × L` → `B × out × 1`.
pub type ConvEncoder = EncoderStack<Forward1d>;
/// The image encoder: `B × nc × H × W` → `B × out × 1 × 1`. At 8×8 it is the first conv
/// (→ ndf × 4×4) and the final one: the official construction rule applied to side 8
/// (its own code asserts a multiple of 16).
pub type ConvEncoder2d = EncoderStack<Forward2d>;

/// What an encoder pass produces.
pub struct Encoded {
    /// `B × out × 1` (1-D) or `B × out × 1 × 1` (2-D).
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

impl<K: ConvKind> EncoderStack<K> {
    fn build(
        nc: usize,
        ndf: usize,
        out: usize,
        (n, bottom): (usize, usize),
        vb: VarBuilder,
    ) -> Result<Self> {
        let first = ConvLayer::new(nc, ndf, 4, 2, 1, vb.pp("conv0"))?;
        let mut blocks = Vec::with_capacity(n - 1);
        for i in 1..n {
            let (c_in, c_out) = (ndf << (i - 1), ndf << i);
            let vb = vb.pp(format!("block{i}"));
            blocks.push((
                ConvLayer::new(c_in, c_out, 4, 2, 1, vb.pp("conv"))?,
                BatchNormAct::new(c_out, LEAK, vb.pp("bn"))?,
            ));
        }
        let last = ConvLayer::new(ndf << (n - 1), out, bottom, 1, 0, vb.pp("final"))?;
        Ok(EncoderStack {
            first,
            blocks,
            last,
        })
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Encoded> {
        self.run(x, train, false)
    }

    /// Training mode with every weight held constant: for a generator's step through
    /// the discriminator, whose own gradients that step would compute and throw away.
    pub fn forward_frozen(&self, x: &Tensor) -> Result<Encoded> {
        self.run(x, true, true)
    }

    fn run(&self, x: &Tensor, train: bool, frozen: bool) -> Result<Encoded> {
        let conv = |layer: &ConvLayer<K>, h: &Tensor| {
            if frozen {
                layer.forward_frozen(h)
            } else {
                layer.forward(h)
            }
        };
        let mut h = super::act::leaky_relu(&conv(&self.first, x)?, LEAK)?;
        let mut maps = Vec::with_capacity(self.blocks.len() + 1);
        maps.push(h.clone());
        for (layer, norm) in &self.blocks {
            let z = conv(layer, &h)?;
            h = if frozen {
                norm.forward_frozen(&z)?
            } else {
                norm.forward_t(&z, train)?
            };
            maps.push(h.clone());
        }
        Ok(Encoded {
            out: conv(&self.last, &h)?,
            maps,
        })
    }
}

impl ConvEncoder {
    pub fn new(nc: usize, ndf: usize, out: usize, length: usize, vb: VarBuilder) -> Result<Self> {
        Self::build(nc, ndf, out, (depth(length)?, BOTTOM_LENGTH), vb)
    }
}

impl ConvEncoder2d {
    pub fn new(
        nc: usize,
        ndf: usize,
        out: usize,
        (height, width): (usize, usize),
        vb: VarBuilder,
    ) -> Result<Self> {
        Self::build(nc, ndf, out, (depth2d(height, width)?, BOTTOM_SIDE), vb)
    }
}

/// ConvT(nz→ngf·2^(n−1), k = bottom, s1, p0) + BN + ReLU, then `n−1` × [ConvT(k4, s2,
/// p1) + BN + ReLU] halving the channels to ngf, then ConvT(ngf→nc, k4, s2, p1) + tanh.
/// 1-D: [`ConvDecoder`]; 2-D: [`ConvDecoder2d`].
#[derive(Debug, Clone)]
pub struct DecoderStack<K: ConvKind> {
    first: (ConvLayer<K>, BatchNormAct),
    blocks: Vec<(ConvLayer<K>, BatchNormAct)>,
    last: ConvLayer<K>,
}

/// The BeatGAN-family decoder: `B × nz × 1` → `B × nc × L`.
pub type ConvDecoder = DecoderStack<Transpose1d>;
/// The image decoder: `B × nz × 1 × 1` → `B × nc × H × W`.
pub type ConvDecoder2d = DecoderStack<Transpose2d>;

impl<K: ConvKind> DecoderStack<K> {
    fn build(
        nz: usize,
        ngf: usize,
        nc: usize,
        (n, bottom): (usize, usize),
        vb: VarBuilder,
    ) -> Result<Self> {
        let top = ngf << (n - 1);
        let first = (
            ConvLayer::new(nz, top, bottom, 1, 0, vb.pp("convt0"))?,
            BatchNormAct::new(top, 0.0, vb.pp("bn0"))?,
        );
        let mut blocks = Vec::with_capacity(n - 1);
        for i in 1..n {
            let (c_in, c_out) = (ngf << (n - i), ngf << (n - i - 1));
            let vb = vb.pp(format!("block{i}"));
            blocks.push((
                ConvLayer::new(c_in, c_out, 4, 2, 1, vb.pp("convt"))?,
                BatchNormAct::new(c_out, 0.0, vb.pp("bn"))?,
            ));
        }
        let last = ConvLayer::new(ngf, nc, 4, 2, 1, vb.pp("final"))?;
        Ok(DecoderStack {
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

impl ConvDecoder {
    pub fn new(nz: usize, ngf: usize, nc: usize, length: usize, vb: VarBuilder) -> Result<Self> {
        Self::build(nz, ngf, nc, (depth(length)?, BOTTOM_LENGTH), vb)
    }
}

impl ConvDecoder2d {
    pub fn new(
        nz: usize,
        ngf: usize,
        nc: usize,
        (height, width): (usize, usize),
        vb: VarBuilder,
    ) -> Result<Self> {
        Self::build(nz, ngf, nc, (depth2d(height, width)?, BOTTOM_SIDE), vb)
    }
}
