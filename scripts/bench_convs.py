#!/usr/bin/env python3
"""PyTorch twin of benches/convs.rs: the convolutions of a WRN-16-1 student step at 28 px
(--net wrn) or of the default generator at 20 or 28 px (--net generator20 / generator28),
one pass at a time (forward, input gradient, weight gradient, and both gradients in one call
as autograd asks for them) on oneDNN, 2 threads, medians
after warm-up. Not run in CI (it needs PyTorch).

    python3 scripts/bench_convs.py [--net wrn|generator20|generator28] [--iters 10] [--warmup 2] [--batch 128] [--json]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

# (name, in channels, out channels, input side, kernel, stride, padding, layers): the same
# lists as benches/convs.rs.
WRN = [
    ("stem 1→16 28px", 1, 16, 28, 3, 1, 1, 1),
    ("16→16 28px", 16, 16, 28, 3, 1, 1, 4),
    ("16→32 28→14px s2", 16, 32, 28, 3, 2, 1, 1),
    ("32→32 14px", 32, 32, 14, 3, 1, 1, 3),
    ("32→64 14→7px s2", 32, 64, 14, 3, 2, 1, 1),
    ("64→64 7px", 64, 64, 7, 3, 1, 1, 3),
    ("shortcut 16→32 1×1 s2", 16, 32, 28, 1, 2, 0, 1),
    ("shortcut 32→64 1×1 s2", 32, 64, 14, 1, 2, 0, 1),
]
GENERATOR20 = [
    ("gen 128→128 10px", 128, 128, 10, 3, 1, 1, 1),
    ("gen 128→64 20px", 128, 64, 20, 3, 1, 1, 1),
    ("gen 64→1 20px", 64, 1, 20, 3, 1, 1, 1),
]
GENERATOR28 = [
    ("gen 128→128 14px", 128, 128, 14, 3, 1, 1, 1),
    ("gen 128→64 28px", 128, 64, 28, 3, 1, 1, 1),
    ("gen 64→1 28px", 64, 1, 28, 3, 1, 1, 1),
]
NETS = {"wrn": (WRN, 128, "WRN-16-1"), "generator20": (GENERATOR20, 100, "generator (20 px)"),
        "generator28": (GENERATOR28, 50, "generator (28 px)")}


def median(warmup, iters, f):
    for _ in range(warmup):
        f()
    ms = []
    for _ in range(max(iters, 1)):
        t = time.perf_counter()
        f()
        ms.append((time.perf_counter() - t) * 1e3)
    ms.sort()
    return ms[len(ms) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--net", choices=sorted(NETS), default="wrn")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    shapes, default_batch, label = NETS[a.net]
    a.batch = a.batch or default_batch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    total = [0.0, 0.0, 0.0, 0.0]
    with torch.no_grad():
        for name, c, o, side, k, stride, pad, layers in shapes:
            x = torch.rand(a.batch, c, side, side) * 2 - 1
            w = torch.rand(o, c, k, k) * 2 - 1
            y = F.conv2d(x, w, stride=stride, padding=pad)
            dy = torch.rand_like(y) * 2 - 1

            def backward(mask):
                return torch.ops.aten.convolution_backward(
                    dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, mask)

            ms = [
                median(a.warmup, a.iters, lambda: F.conv2d(x, w, stride=stride, padding=pad)),
                median(a.warmup, a.iters, lambda: backward([True, False, False])),
                median(a.warmup, a.iters, lambda: backward([False, True, False])),
                median(a.warmup, a.iters, lambda: backward([True, True, False])),
            ]
            total = [t + m * layers for t, m in zip(total, ms)]
            if a.json:
                print(json.dumps({"impl": f"pytorch-{torch.__version__.split('+')[0]}", "shape": name,
                                  "layers": layers, "batch": a.batch, "forward_ms": round(ms[0], 3),
                                  "grad_input_ms": round(ms[1], 3), "grad_weight_ms": round(ms[2], 3),
                                  "both_grads_ms": round(ms[3], 3)}))
            else:
                print(f"{name:20} ×{layers}  forward {ms[0]:8.2f} ms  grad_input {ms[1]:8.2f} ms  "
                      f"grad_weight {ms[2]:8.2f} ms  both grads in one call {ms[3]:8.2f} ms")
    if not a.json:
        print(f"one {label} pass over all layers at batch {a.batch}: forward {total[0]:.1f} ms, "
              f"grad_input {total[1]:.1f} ms, grad_weight {total[2]:.1f} ms, both in one call {total[3]:.1f} ms")


if __name__ == "__main__":
    main()
