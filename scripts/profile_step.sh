#!/usr/bin/env bash
# Where the time of one distillation step goes (issue 5's per-op breakdown): samples
# benches/steps.rs with `perf` and sums the samples by operation, from the symbol names of the
# release build (Burn's flex kernels, gemm, autodiff bookkeeping, allocation).
#
#   bash scripts/profile_step.sh SETTING STEP RES [ITERS]     e.g. fashion-mnist student 28
#
# Needs `perf` (Debian package linux-perf). Prints the share of samples per category and the
# top symbols; the raw report is in target/profile-SETTING-STEP-RES.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
SETTING=$1 STEP=$2 RES=$3 ITERS=${4:-10}
export RAYON_NUM_THREADS=2
cargo build --release --bench steps -q
BIN=$(ls -t target/release/deps/steps-* | grep -v '\.d$' | head -1)
DATA=target/perf-$SETTING-$STEP-$RES.data
REPORT=target/profile-$SETTING-$STEP-$RES.txt
perf record -q -F 499 -o "$DATA" -- "$BIN" --setting "$SETTING" --step "$STEP" --res "$RES" \
  --iters "$ITERS" --warmup 1 >/dev/null 2>&1
perf report -i "$DATA" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' > "$REPORT"
python3 scripts/profile_categories.py "$REPORT"
