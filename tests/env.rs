//! Tests that need the process environment to themselves, apart from `tests/it` (where
//! other tests set `CANDLE_GRAD_DO_NOT_DETACH` and load sweeps concurrently):
//! - `ANOLAB_*` environment variables sit between the sweep file and CLI overrides;
//! - without `CANDLE_GRAD_DO_NOT_DETACH` candle returns a detached input gradient, and the
//!   gradient penalty would silently train nothing: it must refuse instead.
//!
//! Neither sets what the other reads.

use anolab::config::{load_sweep, parse_override};
use anolab::nn::gp::{gradient_penalty, DO_NOT_DETACH_ENV};
use candle_core::{Device, Tensor, Var};

#[test]
fn environment_sits_between_file_and_cli() {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let p = dir.path().join("a.yaml");
        std::fs::write(
            &p,
            "name: t\ndataset: { name: mitdb }\nmodel: { name: beatgan }\n",
        )
        .unwrap();
        p
    };
    // The environment is process-wide: this test has its own binary so that no other
    // test loads a sweep while the variable is set.
    std::env::set_var("ANOLAB_TRAIN__BETA2", "0.99");
    let from_env = load_sweep(&path, &[]).unwrap();
    let from_cli = load_sweep(&path, &[parse_override("train.beta2=0.9").unwrap()]).unwrap();
    std::env::remove_var("ANOLAB_TRAIN__BETA2");
    assert_eq!(from_env.runs().next().unwrap().train.beta2, 0.99);
    assert_eq!(from_cli.runs().next().unwrap().train.beta2, 0.9);
}

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
