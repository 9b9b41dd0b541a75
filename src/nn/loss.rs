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

/// Hinton's distillation term: KL(softmax(t/T) ‖ softmax(s/T))·T², the softmax over
/// axis 1 (the latent code of `B × nz × L`), averaged over batch and positions.
pub fn kd_kl(student: &Tensor, teacher: &Tensor, temperature: f64) -> Result<Tensor> {
    let log_q = candle_nn::ops::log_softmax(&(student / temperature)?, 1)?;
    let log_p = candle_nn::ops::log_softmax(&(teacher / temperature)?, 1)?;
    let kl = (log_p.exp()? * (&log_p - &log_q)?)?.sum(1)?; // B × L
    kl.mean_all()? * (temperature * temperature)
}

/// Attention transfer (Zagoruyko & Komodakis): for each pair of maps `B × C × L`,
/// a(f) = the L2-normalised (over L) channel mean of f²; the loss sums over the pairs the
/// mean squared difference of a(student) and a(teacher). Channel counts may differ.
pub fn attention_transfer(student: &[Tensor], teacher: &[Tensor]) -> Result<Tensor> {
    if student.len() != teacher.len() || student.is_empty() {
        candle_core::bail!(
            "attention transfer needs as many student maps as teacher maps, got {} and {}",
            student.len(),
            teacher.len()
        );
    }
    let attention = |f: &Tensor| -> Result<Tensor> {
        let a = f.sqr()?.mean(1)?; // B × L
        let norm = (a.sqr()?.sum_keepdim(1)?.sqrt()? + 1e-12)?;
        a.broadcast_div(&norm)
    };
    let mut total: Option<Tensor> = None;
    for (s, t) in student.iter().zip(teacher) {
        let term = (attention(s)? - attention(t)?)?.sqr()?.mean_all()?;
        total = Some(match total {
            None => term,
            Some(acc) => (acc + term)?,
        });
    }
    Ok(total.expect("at least one pair"))
}

/// Mean absolute error over all elements.
pub fn l1(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    (a - b)?.abs()?.mean_all()
}
