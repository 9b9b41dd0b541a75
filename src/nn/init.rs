//! Seeded initialisation. candle cannot seed its CPU random generator, so every
//! parameter is drawn here from [`SplitMix64`] instead: the same seed gives the same
//! initial weights on every machine and device.

use crate::rng::SplitMix64;
use candle_core::{Result, Tensor};
use candle_nn::VarMap;

/// Re-draws every variable under `prefix`: conv weights (rank 3) Xavier-normal,
/// batch-norm scale N(1, 0.02), biases and running means 0, running variances 1.
pub fn init_beatgan(vars: &VarMap, prefix: &str, rng: &mut SplitMix64) -> Result<()> {
    let data = vars.data().lock().expect("var map lock");
    let mut names: Vec<&String> = data.keys().filter(|n| n.starts_with(prefix)).collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n = var.elem_count();
        let values: Vec<f32> = if name.ends_with("running_var") {
            vec![1.0; n]
        } else if name.ends_with("running_mean") || name.ends_with("bias") {
            vec![0.0; n]
        } else if dims.len() == 3 {
            // Xavier: fan_in + fan_out = (Cin + Cout)·K for conv and transposed conv alike.
            let std = (2.0 / ((dims[0] + dims[1]) * dims[2]) as f64).sqrt();
            (0..n).map(|_| (rng.normal() * std) as f32).collect()
        } else {
            // batch-norm scale
            (0..n).map(|_| (1.0 + 0.02 * rng.normal()) as f32).collect()
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}
