#!/usr/bin/env python3
"""Sums a `perf report --sort symbol --stdio` listing by operation category (see
scripts/profile_step.sh). The first matching rule wins; the rules are substrings of demangled
Rust symbol names of burn-flex, burn-autodiff, burn-backend, gemm and the C library."""
import re
import sys

RULES = [
    ("patch matrices (muse-kernels im2col / col2im)", ["muse_kernels::conv", "im2col", "col2im"]),
    ("flex conv backward (conv_transpose path)", ["conv_transpose", "conv2d_weight_backward"]),
    ("flex conv forward (NHWC copy, im2col, scatter)", ["conv3d", "conv2d", "conv::", "conv_common"]),
    ("random numbers (noisy-layer re-initialisation)", ["rand::", "chacha", "random", "sampler", "Distribution"]),
    ("GEMM kernels (gemm crate)", ["gemm", "nano_gemm", "x86::f32", "microkernel", "pack_"]),
    ("batch norm / reductions", ["reduce", "sum_dim", "mean_dim", "var", "batch_norm", "muse_kernels::norm"]),
    ("pooling / interpolation", ["pool", "interpolate"]),
    ("element-wise (binary, unary, activations)", ["binary", "unary", "zip", "activation", "macerator",
                                                    "simd", "relu", "sigmoid", "exp", "log", "powf", "clamp", "mask", "compare"]),
    ("copies / layout (contiguous, permute, slice, cat)", ["contiguous", "memcpy", "memmove", "copy", "permute",
                                                            "slice", "cat", "strided", "expand", "repeat", "flip", "gather", "scatter"]),
    ("allocation / zeroing", ["malloc", "free", "calloc", "memset", "alloc", "realloc", "_int_", "mmap", "munmap", "page_fault",
                             "clear_page"]),
    ("threading (rayon, spin, futex)", ["rayon", "crossbeam", "futex", "sched_yield", "spin", "park", "syscall"]),
    ("autodiff graph bookkeeping", ["autodiff", "graph", "hashbrown", "HashMap", "Arc", "drop_in_place", "spin::"]),
]


def main():
    rows = []
    for line in open(sys.argv[1]):
        m = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(.*?)\s+-\s+-\s*$", line) or \
            re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2).strip()))
    totals = {}
    for pct, sym in rows:
        cat = next((name for name, keys in RULES if any(k in sym for k in keys)), "other")
        totals[cat] = totals.get(cat, 0.0) + pct
    print("| category | share of samples |")
    print("|---|---|")
    for cat, pct in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {cat} | {pct:.1f}% |")
    print("\ntop symbols:")
    for pct, sym in rows[:15]:
        print(f"  {pct:5.1f}%  {sym[:150]}")


if __name__ == "__main__":
    main()
