#!/usr/bin/env bash
# Keeps the `cuda` feature's build from rotting on machines without a GPU or a CUDA
# install: makes the CUDA 13.0 toolchain from NVIDIA's PyPI wheels when missing
# (scripts/cuda_toolchain.sh), then type-checks every target with `--features cuda`
# (candle-kernels' build script runs nvcc, so the kernels are compiled to PTX too).
# Nothing is linked or run: a GPU is still needed to test the CUDA path (README "GPU").
#
#     scripts/cuda_check.sh [DIR]        # default /opt/cuda13
#
# Exits 0 with a message when the toolchain cannot be made here (no PyPI), non-zero
# when the check itself fails.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/opt/cuda13}
if [ ! -x "$dir/bin/nvcc" ]; then
  # The toolchain script finds cudarc's sources in the cargo registry.
  if ! cargo fetch --quiet || ! scripts/cuda_toolchain.sh "$dir"; then
    echo "cuda check skipped: no CUDA toolchain could be made in $dir"
    exit 0
  fi
fi
export CUDA_HOME="$dir" PATH="$dir/bin:$PATH" CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
cargo check --release --features cuda --all-targets
