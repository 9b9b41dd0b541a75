#!/usr/bin/env bash
# A CUDA 13.0 toolchain from NVIDIA's PyPI wheels, for `cargo build --release --features cuda`
# on a machine with no CUDA install (and no GPU): nvcc, ptxas, cicc, the headers, and the
# libraries candle links against (cudart, cublas, cublasLt, curand, nvrtc), plus a stub
# libcuda.so (SONAME libcuda.so.1) holding the driver API's names, so the program links;
# the GPU machine's own driver is used at run time.
#
#     scripts/cuda_toolchain.sh [DIR]        # default /opt/cuda13; needs pip, unzip, gcc
#     export CUDA_HOME=DIR PATH=DIR/bin:$PATH CUDA_COMPUTE_CAP=90   # 90: H100/H200
#     cargo build --release --features cuda
#
# Keep the toolkit at (or below) the CUDA version of the GPU machine's driver: PTX from a
# newer nvcc does not load on an older driver. 13.0 matches driver 580.
set -euo pipefail
dir=${1:-/opt/cuda13}
version=13.0
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
for pkg in nvidia-cuda-nvcc nvidia-nvvm nvidia-cuda-crt nvidia-cuda-runtime nvidia-cuda-cccl \
    nvidia-cuda-nvrtc nvidia-cublas; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 \
        -d "$wheels" "$pkg==$version.*"
done
# curand has its own numbering (10.x, SONAME libcurand.so.10).
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 \
    -d "$wheels" 'nvidia-curand>=10.4,<10.5'
for w in "$wheels"/*.whl; do unzip -q -o "$w" 'nvidia/cu13/*' -d "$wheels/x"; done
mkdir -p "$dir"
cp -a "$wheels"/x/nvidia/cu13/. "$dir"/
cd "$dir/lib"
for l in cublas cublasLt nvrtc cudart; do ln -sf "lib$l.so.13" "lib$l.so"; done
ln -sf libcurand.so.10 libcurand.so
ln -sfn lib "$dir/lib64"
# The driver API names cudarc declares, as empty functions: enough for the linker.
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* | tail -1)
mkdir -p stubs
grep -oP '^pub unsafe fn \Kcu\w+' "$registry/src/driver/sys/mod.rs" | sort -u |
    awk '{print "void " $1 "(void) {}"}' >stubs/libcuda.c
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o stubs/libcuda.so stubs/libcuda.c
rm stubs/libcuda.c
"$dir/bin/nvcc" --version | tail -2
