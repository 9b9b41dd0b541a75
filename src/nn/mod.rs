//! candle building blocks shared by the models: the 1-D convolutions that work around
//! candle 0.11.1's bugs, the BeatGAN-family conv stacks, dense layers, (Bi)LSTMs, the
//! gradient penalty, initialisation and losses.

pub mod act;
pub mod adam;
pub mod conv;
mod conv_op;
mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod dense;
pub mod gp;
pub mod init;
pub mod loss;
pub mod lstm;
pub mod norm;
pub mod stacks;

pub use conv_op::inner_products;
pub use cpu::Scalar;

pub use adam::Adam;
pub use conv::{Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d};
pub use dense::Dense;
pub use lstm::{BiLstm, Lstm};
pub use norm::BatchNormAct;
pub use stacks::{ConvDecoder, ConvDecoder2d, ConvEncoder, ConvEncoder2d};

use candle_core::Var;
use candle_nn::VarMap;

/// Batch-norm running statistics live in the VarMap next to the weights (so that they are
/// saved with them) but are not trained: optimisers must never see them.
pub fn is_running_stat(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var")
}

/// The trainable variables of `vars` whose name starts with `prefix`, sorted by name so
/// that optimiser state lines up identically on every run.
pub fn trainable(vars: &VarMap, prefix: &str) -> Vec<Var> {
    let data = vars.data().lock().expect("var map lock");
    let mut named: Vec<(&String, &Var)> = data
        .iter()
        .filter(|(name, _)| name.starts_with(prefix) && !is_running_stat(name))
        .collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    named.into_iter().map(|(_, v)| v.clone()).collect()
}

/// Number of trainable scalars under `prefix`.
pub fn n_params(vars: &VarMap, prefix: &str) -> usize {
    trainable(vars, prefix).iter().map(|v| v.elem_count()).sum()
}
