//! The WGAN-GP gradient penalty (Gulrajani et al. 2017):
//! `mean_i (‖∇ₓ C(x̃_i)‖₂ − 1)²` on interpolates `x̃ = ε·real + (1−ε)·fake`.
//!
//! The penalty is a function of a gradient, so its own gradient with respect to the
//! critic's weights is a gradient of a gradient. candle builds that only when
//! `CANDLE_GRAD_DO_NOT_DETACH` is set before the thread's first backward pass
//! (`../shared/specs/candle-notes.md`); otherwise the input gradient comes back detached
//! and the penalty would silently train nothing. That case is detected and refused.

use candle_core::{Device, Result, Tensor, Var};
use std::cell::OnceCell;

thread_local! {
    /// Whether candle differentiates gradients on this thread (probed once: candle reads
    /// the variable once per thread, at its first backward pass).
    static SECOND_ORDER: OnceCell<bool> = const { OnceCell::new() };
}

/// Environment variable candle reads (once per thread) to keep gradients differentiable.
pub const DO_NOT_DETACH_ENV: &str = "CANDLE_GRAD_DO_NOT_DETACH";

/// Probes candle on y = (x²)² at x = 1.5: d²y/dx² = 12x² = 27. With detached gradients
/// the incoming gradient of the inner square is a constant and candle returns 9 instead.
fn second_order_works() -> bool {
    let probe = || -> Result<f32> {
        let x = Var::new(1.5f32, &Device::Cpu)?;
        let dy = x.as_tensor().sqr()?.sqr()?.backward()?;
        let g = dy.get(x.as_tensor()).expect("y depends on x");
        match g.backward()?.get(x.as_tensor()) {
            Some(d2) => d2.to_scalar::<f32>(),
            None => Ok(0.0),
        }
    };
    probe().is_ok_and(|d2| (d2 - 27.0).abs() < 1e-3)
}

/// The penalty for `critic` (which maps `B × …` to `B × 1` scores). `eps` holds one
/// interpolation weight per sample, shaped to broadcast against `real` (e.g. `B × 1 × 1`).
/// `real` and `fake` are detached: only the critic is trained through the penalty.
pub fn gradient_penalty(
    critic: impl FnOnce(&Tensor) -> Result<Tensor>,
    real: &Tensor,
    fake: &Tensor,
    eps: &Tensor,
) -> Result<Tensor> {
    let mixed =
        (real.detach().broadcast_mul(eps)? + fake.detach().broadcast_mul(&(1.0 - eps)?)?)?;
    let x = Var::from_tensor(&mixed)?;
    let out = critic(x.as_tensor())?;
    let grads = out.sum_all()?.backward()?;
    let grad = grads.get(x.as_tensor()).ok_or_else(|| {
        candle_core::Error::Msg("gradient penalty: the critic does not depend on its input".into())
    })?;
    if !SECOND_ORDER.with(|ok| *ok.get_or_init(second_order_works)) {
        return Err(candle_core::Error::Msg(format!(
            "gradient penalty: candle detaches gradients on this thread, so the penalty \
             cannot train the critic; set {DO_NOT_DETACH_ENV}=1 before the first backward \
             pass on the thread (main() does it for the binary)"
        )));
    }
    let b = grad.dim(0)?;
    // The small constant keeps the square root differentiable where a gradient is zero.
    let norm = (grad.reshape((b, ()))?.sqr()?.sum(1)? + 1e-12)?.sqrt()?;
    (norm - 1.0)?.sqr()?.mean_all()
}
