//! Without `CANDLE_GRAD_DO_NOT_DETACH` candle returns a detached input gradient, and the
//! penalty would silently train nothing: it must refuse instead. (Its own binary, so no
//! other test has set the variable in this process.)

use anolab::nn::gp::{gradient_penalty, DO_NOT_DETACH_ENV};
use candle_core::{Device, Tensor, Var};

#[test]
fn a_detached_gradient_is_refused_clearly() {
    assert!(
        std::env::var(DO_NOT_DETACH_ENV).is_err(),
        "this test needs the variable unset"
    );
    let w = Var::from_tensor(&Tensor::new(&[[0.5f32], [-1.0]], &Device::Cpu).unwrap()).unwrap();
    let real = Tensor::new(&[[1.0f32, 2.0]], &Device::Cpu).unwrap();
    let fake = Tensor::new(&[[0.0f32, 1.0]], &Device::Cpu).unwrap();
    let eps = Tensor::new(&[[0.5f32]], &Device::Cpu).unwrap();
    let err = gradient_penalty(|x| x.matmul(w.as_tensor())?.sqr(), &real, &fake, &eps)
        .unwrap_err()
        .to_string();
    assert!(err.contains(DO_NOT_DETACH_ENV), "{err}");
}
