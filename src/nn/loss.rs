//! Losses, written out where candle-nn's version is not numerically safe.

use candle_core::{Result, Tensor};

/// Mean binary cross-entropy of logits against a constant target (0 or 1), in the
/// stable form `max(x,0) − x·t + log(1 + e^{−|x|})`, which never takes log(0).
pub fn bce_with_logits(logits: &Tensor, target: f64) -> Result<Tensor> {
    let softplus_neg_abs = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let loss = ((logits.relu()? - (logits * target)?)? + softplus_neg_abs)?;
    loss.mean_all()
}

/// Mean squared error over all elements.
pub fn mse(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    (a - b)?.sqr()?.mean_all()
}

/// Mean absolute error over all elements.
pub fn l1(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    (a - b)?.abs()?.mean_all()
}
