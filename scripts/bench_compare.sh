#!/usr/bin/env bash
# Issue 5's comparison: each step of benches/steps.rs and its PyTorch twin
# (scripts/bench_pytorch.py), one process per (setting, step, resolution) so peak memory is per
# step, run one after the other on the same machine; prints the table with Burn / PyTorch ratios.
#
#   PYTHON=/path/to/python-with-torch bash scripts/bench_compare.sh [fashion-mnist|default|nayer-wrn|cifar|all] [ITERS]
#   BURN_ONLY=1 bash scripts/bench_compare.sh ...     # ours only (no PyTorch needed)
#   GEN_STEPS=10 bash scripts/bench_compare.sh ...    # generator steps timed in iterations of
#                                                     # 10, per step (as a run spends them)
#   WARMUP=8 bash scripts/bench_compare.sh ...        # untimed steps first, both sides (default 3;
#                                                     # a nayer-wrn student process warms over ~8)
#   STEPS=student bash scripts/bench_compare.sh ...   # only this step (teacher|generator|student)
#   PAUSE=5 bash scripts/bench_compare.sh ...         # seconds of rest before each process (a
#                                                     # large process's exit disturbs the next)
#
# Results (JSON lines) go to target/bench-steps.jsonl (OUT=... to change). Needs PyTorch unless
# BURN_ONLY is set (never in CI). scripts/perf_table.py turns result files into the
# before/after table of docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SETTING=${1:-all}
ITERS=${2:-10}
OUT=${OUT:-target/bench-steps.jsonl}
# Both sides on the same number of threads (PyTorch is set to 2 in bench_pytorch.py).
export RAYON_NUM_THREADS=2
cargo build --release --bench steps -q 2>/dev/null || cargo build --release --bench steps
BIN=$(ls -t target/release/deps/steps-* | grep -v '\.d$' | head -1)
: > "$OUT"
combos() {
  [ "$SETTING" = all ] || [ "$SETTING" = fashion-mnist ] && {
    for r in 20 28; do echo "fashion-mnist teacher $r"; echo "fashion-mnist generator $r"; done
    echo "fashion-mnist student 28"; }
  [ "$SETTING" = all ] || [ "$SETTING" = default ] && {
    for r in 20 28; do echo "default teacher $r"; echo "default generator $r"; done
    echo "default student 28"; }
  [ "$SETTING" = all ] || [ "$SETTING" = nayer-wrn ] && {
    echo "nayer-wrn teacher 28"; echo "nayer-wrn generator 28"; echo "nayer-wrn student 28"; }
  [ "$SETTING" = all ] || [ "$SETTING" = cifar ] && {
    for r in 28 32; do echo "cifar teacher $r"; echo "cifar generator $r"; echo "cifar student $r"; done; }
  return 0
}
GEN=()
[ -n "${GEN_STEPS:-}" ] && GEN=(--gen-steps "$GEN_STEPS")
WARM=(--warmup "${WARMUP:-3}")
combos | while read -r setting step res; do
  [ -n "${STEPS:-}" ] && [ "$step" != "$STEPS" ] && continue
  sleep "${PAUSE:-0}"
  "$BIN" --setting "$setting" --step "$step" --res "$res" --iters "$ITERS" "${WARM[@]}" "${GEN[@]}" --json >> "$OUT"
  [ -n "${BURN_ONLY:-}" ] || { sleep "${PAUSE:-0}"; "$PYTHON" scripts/bench_pytorch.py --setting "$setting" --step "$step" --res "$res" --iters "$ITERS" "${WARM[@]}" "${GEN[@]}" --json >> "$OUT"; }
done
"$PYTHON" - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
key = lambda r: (r["setting"], r["step"], r["res"], r["batch"])
burn = {key(r): r for r in rows if r["impl"].startswith("burn")}
torch = {key(r): r for r in rows if r["impl"].startswith("pytorch")}
b0 = next(iter(burn.values()))["impl"]
t0 = next(iter(torch.values()))["impl"] if torch else "PyTorch (not run)"
print(f"| setting | step | px × batch | {b0} ms | {t0} ms | Burn / PyTorch | Burn img/s | Burn peak MiB | PyTorch peak MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for k in burn:
    b, t = burn[k], torch.get(k)
    if t is None:
        print(f"| {k[0]} | {k[1]} | {k[2]} × {k[3]} | {b['median_ms']:.1f} | — | — | {b['images_per_s']:.0f} | {b['peak_rss_mib']} | — |")
        continue
    print(f"| {k[0]} | {k[1]} | {k[2]} × {k[3]} | {b['median_ms']:.1f} | {t['median_ms']:.1f} | "
          f"**{b['median_ms'] / t['median_ms']:.2f}×** | {b['images_per_s']:.0f} | {b['peak_rss_mib']} | {t['peak_rss_mib']} |")
PY
