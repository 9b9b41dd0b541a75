#!/usr/bin/env bash
# Issue #13's GPU checks in one short call on a lent GPU (README "GPU"). Two halves:
#
#   scripts/gpu_check.sh build   # here, no GPU needed: the `cuda` build of anolab and of
#                                # the test binary, stripped into target/gpu/bundle.tar.xz
#                                # (own target dir target/cuda; ~9 min on 2 cores cold)
#   scripts/gpu_check.sh run [PHASE]  # on the GPU machine, from the repository root,
#                                # with target/gpu carried (device tool: carry
#                                # ["target/gpu"]); PHASE: all (default), or one of ops
#                                # (~1-2 min), speed (~3 min), throughput (~5 min), so that
#                                # a call fits the device tool's limit with room to rerun
#
# `run` writes everything to $OUT (the device tool's folder; default target/gpu/results):
# the GPU and driver, the CUDA-vs-CPU op tests (tests/it/gpu.rs, ANOLAB_REQUIRE_GPU=1 so a
# missing GPU fails instead of skipping), the BeatGAN step at f32 and tf32, every model's
# epoch, PyTorch's step beside anolab's when torch is installed there, sweep throughput
# with several runs on one GPU, and PyTorch training the same runs one after another. Each item has its own time limit, the most
# important first, so that a slow one cannot eat the call (keep the call under ~9 min).
# The CUDA libraries (cudart 13, cuBLAS 13, cuRAND 10) are looked for on the machine
# (a PyTorch cu13x install has them); none is carried.
set -uo pipefail
cd "$(dirname "$0")/.."

build() {
    set -e
    export CUDA_HOME=${CUDA_HOME:-/opt/cuda13}
    export PATH=$CUDA_HOME/bin:$PATH CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
    local target=target/cuda stage=target/gpu/stage
    cargo build --release --features cuda --target-dir "$target" --bin anolab
    local tests
    tests=$(cargo test --release --features cuda --target-dir "$target" --test it --no-run \
        --message-format=json | python3 -c '
import json, sys
found = [m["executable"] for m in map(json.loads, sys.stdin)
         if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it"
         and m.get("executable")]
print(found[-1])')
    rm -rf "$stage" && mkdir -p "$stage"
    cp "$target/release/anolab" "$stage/anolab"
    cp "$tests" "$stage/gpu-tests"
    strip "$stage/anolab" "$stage/gpu-tests"
    tar -C "$stage" -cJf target/gpu/bundle.tar.xz anolab gpu-tests
    rm -rf "$stage"
    ls -la target/gpu
}

# `step NAME SECONDS CMD...`: runs one item under its own limit, logging how it ended.
step() {
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit}s): $*"
    local start=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    echo "=== $name: rc $rc after $((SECONDS - start)) s"
}

# `sweep_rate LABEL JOBS OVERRIDES...`: one quick-start sweep on cuda:0 with JOBS runs at
# once, its wall time and runs per hour.
sweep_rate() {
    local label=$1 jobs=$2
    shift 2
    local db="$out/$label-jobs$jobs/store.sqlite" start=$SECONDS
    mkdir -p "$out/$label-jobs$jobs"
    timeout 120 "$bin" sweep experiments/quickstart.yaml "$@" --device cuda:0 --jobs "$jobs" \
        --db "$db" --log-format plain > "$out/$label-jobs$jobs/sweep.log" 2>&1
    local rc=$? wall=$((SECONDS - start))
    python3 - "$db" "$label" "$jobs" "$rc" "$wall" <<'PY'
import sqlite3, sys
db, label, jobs, rc, wall = sys.argv[1:]
con = sqlite3.connect(db)
done, = con.execute("select count(*) from runs where status = 'done'").fetchone()
run_s, = con.execute("select coalesce(sum(duration_s), 0) from runs where status = 'done'").fetchone()
print(f"throughput {label} jobs={jobs}: rc {rc}, {done} runs done in {wall} s wall "
      f"({done * 3600 / max(int(wall), 1):.0f} runs/hour; {run_s:.0f} s of run time)")
PY
}

run() {
    phase=${1:-all}
    out=${OUT:-target/gpu/results}
    mkdir -p "$out"
    exec > >(tee -a "$out/gpu_check.txt") 2>&1
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
    local libs
    libs=$(find /usr /opt /root /home /venv* -xdev \( -name 'libcublas.so.13' \
        -o -name 'libcudart.so.13' -o -name 'libcurand.so.10' -o -name 'libcublasLt.so.13' \) \
        -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
    if [ -z "$libs" ]; then
        echo "no libcublas.so.13 / libcudart.so.13 on this machine: install a PyTorch cu13x" \
            "wheel or the CUDA 13 runtime, then rerun"
        exit 2
    fi
    export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "CUDA libraries from $libs"
    dir=target/gpu/unpacked
    rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xJf target/gpu/bundle.tar.xz
    bin=$dir/anolab

    local torch=
    if python3 -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
        torch=yes
    fi
    case $phase in all | ops) ops ;; esac
    case $phase in all | speed) speed ;; esac
    case $phase in all | throughput) throughput ;; esac
    date -u
}

# Correctness first: every CUDA op against the CPU, then the step at both precisions.
ops() {
    step "CUDA ops against the CPU" 240 \
        env ANOLAB_REQUIRE_GPU=1 "$dir/gpu-tests" gpu:: --test-threads 1
    for p in f32 tf32; do
        step "BeatGAN step, $p" 90 "$bin" bench --device cuda:0 --only step --repeats 30 \
            --precision "$p"
    done
}

# PyTorch's step beside anolab's, and every model's epoch.
speed() {
    if [ -n "$torch" ]; then
        for p in f32 tf32; do
            step "PyTorch beside anolab, $p" 120 python3 scripts/bench_torch.py --device cuda \
                --steps 50 --precision "$p" --anolab "$bin"
        done
    else
        echo "=== PyTorch with CUDA is not installed here: no PyTorch comparison"
    fi
    step "every model's epoch, f32" 150 "$bin" bench --device cuda:0 --only epochs --repeats 3
}

# Several runs on one GPU against PyTorch training the same runs one after another.
throughput() {
    # 16 quick-start runs (2 nz x 2 w_adv x 4 seeds), then 4 at BeatGAN's paper width.
    for jobs in 8 4 1; do
        sweep_rate quick "$jobs" seeds=0,1,2,3 train.precision=tf32
    done
    for jobs in 4 1; do
        sweep_rate paper "$jobs" model.nz=50 model.ndf=32 model.ngf=32 model.w_adv=1 \
            seeds=0,1,2,3 train.epochs=1 train.lr=1e-4 train.precision=tf32
    done
    if [ -n "$torch" ]; then
        # The same runs in PyTorch one after another (its default precision, tf32).
        step "PyTorch, 16 quick-start runs in a row" 150 python3 scripts/bench_torch.py \
            --device cuda --precision tf32 --runs 16
        step "PyTorch, 4 paper-width runs in a row" 120 python3 scripts/bench_torch.py \
            --device cuda --precision tf32 --runs 4 --epochs 1 --width 32 --nz 50 --lr 1e-4
    fi
}

case "${1:-}" in
build) build ;;
run) run "${2:-all}" ;;
*)
    echo "usage: scripts/gpu_check.sh build | run [all | ops | speed | throughput]" >&2
    exit 2
    ;;
esac
