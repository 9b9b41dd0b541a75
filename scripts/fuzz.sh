#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60) with libFuzzer on the
# committed corpus (new inputs are kept there), a 1 s limit per input and a 2 GB memory
# limit, and prints each target's executions, coverage and crashes. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`):
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(npy npz wfdb_header wfdb_dat atr rdann table nab_labels sweep_yaml scores_blob)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if cargo +nightly fuzz run -s none -O "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status="FAILED (see fuzz/artifacts/$t)"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo ?)
  echo "$t: $status, $execs executions in ${seconds} s, coverage $cov edges, corpus $(ls "corpus/$t" | wc -l) inputs"
  [ "$status" = ok ] || tail -30 "$log"
  rm -f "$log"
done
