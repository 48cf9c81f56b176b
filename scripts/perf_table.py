#!/usr/bin/env python3
"""The before/after table of docs/performance.md from benchmark result files (JSON lines of
benches/steps.rs and scripts/bench_pytorch.py, as scripts/bench_compare.sh writes them).

    python3 scripts/perf_table.py BEFORE.jsonl AFTER.jsonl [AFTER2.jsonl ...] [--flops docs/bench/flops.jsonl]

BEFORE holds the Burn baseline and the PyTorch rows; the AFTER files hold Burn rows measured
later (PyTorch rows in them, if any, replace BEFORE's).
"""
import argparse
import json


def rows(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def key(r):
    return (r["setting"], r["step"], r["res"], r["batch"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("before")
    p.add_argument("after", nargs="+")
    p.add_argument("--flops", default="docs/bench/flops.jsonl")
    a = p.parse_args()
    before = {key(r): r for r in rows(a.before) if r["impl"].startswith("burn")}
    torch = {key(r): r for r in rows(a.before) if r["impl"].startswith("pytorch")}
    after = {}
    for f in a.after:
        for r in rows(f):
            (after if r["impl"].startswith("burn") else torch)[key(r)] = r
    flops = {}
    try:
        flops = {(r["setting"], r["step"], r["res"], r["batch"]): r["gflop"] for r in rows(a.flops)}
    except FileNotFoundError:
        pass
    print("| setting | step | px × batch | GFLOP / step | Burn before ms | Burn after ms | PyTorch ms "
          "| before / PyTorch | after / PyTorch | after GFLOP/s | PyTorch GFLOP/s | after img/s "
          "| peak RSS after / PyTorch MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, b in before.items():
        n, t, gf = after.get(k), torch.get(k), flops.get(k)
        fmt = lambda v, f="{:.0f}": "—" if v is None else f.format(v)  # noqa: E731
        ratio = lambda x, y: "—" if x is None or y is None else f"**{x / y:.2f}×**"  # noqa: E731
        nm, tm = (n or {}).get("median_ms"), (t or {}).get("median_ms")
        print(f"| {k[0]} | {k[1]} | {k[2]} × {k[3]} | {fmt(gf, '{:.1f}')} | {b['median_ms']:.0f} | {fmt(nm)} | "
              f"{fmt(tm)} | {ratio(b['median_ms'], tm)} | {ratio(nm, tm)} | "
              f"{fmt(gf / nm * 1e3 if gf and nm else None)} | {fmt(gf / tm * 1e3 if gf and tm else None)} | "
              f"{fmt((n or {}).get('images_per_s'))} | {fmt((n or {}).get('peak_rss_mib'))} / {fmt((t or {}).get('peak_rss_mib'))} |")


if __name__ == "__main__":
    main()
