#!/usr/bin/env python3
"""Collects runs/results/*/*/summary.json into the Markdown tables of docs/results.md.

Cells are grouped by their directory name without the seed (`muse-20-28-r0.05-s1` →
`muse-20-28-r0.05`); each row shows the final-epoch top-1 as mean ± half the spread
(max − min)/2 over seeds, the seeds, the teacher's top-1 and the mean wall time.
Standard library only.
"""
import json
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "runs/results"

for setting in sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else []:
    groups = {}
    base = os.path.join(ROOT, setting)
    for cell in sorted(os.listdir(base)):
        path = os.path.join(base, cell, "summary.json")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            s = json.load(f)
        key = re.sub(r"-s\d+$", "", cell)
        groups.setdefault(key, []).append((cell, s))
    if not groups:
        continue
    print(f"\n### Setting {setting}\n")
    print("| cell | final top-1 (mean ± spread) | seeds | best top-1 | teacher top-1 | epochs | wall time / run |")
    print("|---|---|---|---|---|---|---|")
    for key, runs in groups.items():
        finals = [100 * s["final_top1"] for _, s in runs if s.get("final_top1") is not None]
        bests = [100 * s["best_top1"] for _, s in runs if s.get("best_top1") is not None]
        teacher = [100 * s["teacher_top1"] for _, s in runs if s.get("teacher_top1") is not None]
        wall = sum(s["wall_seconds"] for _, s in runs) / len(runs)
        mean = sum(finals) / len(finals)
        spread = (max(finals) - min(finals)) / 2
        print(
            f"| {key} | {mean:.2f} ± {spread:.2f} | {len(runs)} ({', '.join(f'{v:.2f}' for v in finals)}) "
            f"| {max(bests):.2f} | {teacher[0]:.2f} | {runs[0][1]['epochs']} | {wall / 60:.1f} min |"
        )
