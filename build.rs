//! Compiles anolab's CUDA kernels (`src/nn/cuda/kernels.cu`) to PTX for the `cuda`
//! feature; the CPU build runs nothing here and needs no CUDA toolkit. nvcc is taken from
//! `$CUDA_HOME/bin`, else from `PATH`; `CUDA_COMPUTE_CAP` (e.g. 90 for H100/H200, as
//! candle-kernels reads it) picks the virtual architecture, default 80 (the PTX is
//! JIT-compiled for any newer GPU by the driver).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/nn/cuda/kernels.cu");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=CUDA_HOME");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let nvcc = match std::env::var_os("CUDA_HOME") {
        Some(home) => PathBuf::from(home).join("bin").join("nvcc"),
        None => PathBuf::from("nvcc"),
    };
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("anolab_kernels.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("src/nn/cuda/kernels.cu")
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "the `cuda` feature needs nvcc to compile src/nn/cuda/kernels.cu: running {} \
                 failed ({e}); set CUDA_HOME or put nvcc on PATH (scripts/cuda_toolchain.sh \
                 makes a toolkit)",
                nvcc.display()
            )
        });
    assert!(
        status.success(),
        "nvcc failed on src/nn/cuda/kernels.cu ({status})"
    );
}
