//! Seeded initialisation. candle cannot seed its CPU random generator, so every
//! parameter is drawn here from [`SplitMix64`] instead: the same seed gives the same
//! initial weights on every machine and device.

use crate::rng::SplitMix64;
use candle_core::{Result, Tensor};
use candle_nn::VarMap;

/// How a detector's conv weights are drawn (`../shared/specs/models.md`, "Init").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConvInit {
    /// BeatGAN (and the models built on its stacks): Xavier-normal.
    XavierNormal,
    /// GANomaly and DCGAN: N(0, 0.02).
    Normal002,
}

/// Re-draws every variable under `prefix`, for every model: conv weights (rank 3, or rank 4 for the image stacks) by `conv`;
/// dense and LSTM matrices (rank 2) Xavier-uniform, the Keras default TadGAN's reference implementation uses (PyTorch's
/// default would do as well; what matters is a fan-scaled draw from the seed); LSTM gate
/// biases 0 except the forget gate at 1 (Keras `unit_forget_bias`), which keeps the
/// state flowing through long windows early in training; other biases and running means
/// 0, running variances 1, batch-norm scales N(1, 0.02).
pub fn init_weights(
    vars: &VarMap,
    prefix: &str,
    conv: ConvInit,
    rng: &mut SplitMix64,
) -> Result<()> {
    let data = vars.data().lock().expect("var map lock");
    let mut names: Vec<&String> = data.keys().filter(|n| n.starts_with(prefix)).collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n = var.elem_count();
        let values: Vec<f32> = if name.ends_with("running_var") {
            vec![1.0; n]
        } else if name.ends_with(super::lstm::LSTM_BIAS) {
            let h = n / 4;
            (0..n)
                .map(|i| if (h..2 * h).contains(&i) { 1.0 } else { 0.0 })
                .collect()
        } else if name.ends_with("running_mean") || name.ends_with("bias") {
            vec![0.0; n]
        } else if dims.len() == 3 || dims.len() == 4 {
            // 1-D (`C×C×K`) and 2-D (`C×C×Kh×Kw`) kernels: fan_in + fan_out = (Cin + Cout)·K.
            let kernel: usize = dims[2..].iter().product();
            let std = match conv {
                ConvInit::XavierNormal => (2.0 / ((dims[0] + dims[1]) * kernel) as f64).sqrt(),
                ConvInit::Normal002 => 0.02,
            };
            (0..n).map(|_| (rng.normal() * std) as f32).collect()
        } else if dims.len() == 2 {
            let limit = (6.0 / (dims[0] + dims[1]) as f64).sqrt();
            (0..n)
                .map(|_| ((2.0 * rng.next_f64() - 1.0) * limit) as f32)
                .collect()
        } else if name.ends_with("weight") && dims.len() == 1 {
            // batch-norm scale
            (0..n).map(|_| (1.0 + 0.02 * rng.normal()) as f32).collect()
        } else {
            return Err(candle_core::Error::Msg(format!(
                "init: no rule for variable `{name}` of shape {dims:?}"
            )));
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}
