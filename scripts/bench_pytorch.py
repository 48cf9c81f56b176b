#!/usr/bin/env python3
"""The three distillation steps of benches/steps.rs in PyTorch, for the speed comparison of
issue 5 (run by hand where PyTorch is installed; never in CI). Same networks (the classes of
scripts/pytorch_parity.py), same shapes, same losses (METHOD.md §4), 2 threads, warm-up then
the median of N.

    python3 scripts/bench_pytorch.py [--setting fashion-mnist|cifar|all] [--step teacher|generator|student|all]
                                     [--res N] [--iters 10] [--warmup 3] [--gen-steps 1] [--json] [--flops]

--flops counts the floating-point operations of one step (torch.utils.flop_counter: matmuls
and convolutions, forward and backward) instead of timing it. --profile prints, after the
timing, the operators' share of the step's time (torch.profiler, self CPU time, averaged
over the timed steps) to stderr: the reference for the per-op breakdown of
docs/performance.md.
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pytorch_parity import build  # noqa: E402

ARGS = None

# The recipe switches of benches/steps.rs: NAYER's losses and no spectral norm; label-embedding
# width (None: the teacher's); SGD student; flips.
OLD = dict(nayer=False, label_dim=None, sgd=False, flip=False)
SETTINGS = {
    "fashion-mnist": dict(teacher=("lenet5", 1.0), student=("resnet8", 0.5), channels=1,
                          generation=[(20, 100), (28, 50)], student_batch=[(28, 64)], ngf=32, **OLD),
    "default": dict(teacher=("wrn16-1", 1.0), student=("wrn16-1", 1.0), channels=1,
                    generation=[(20, 100), (28, 50)], student_batch=[(28, 128)], ngf=64,
                    nayer=False, label_dim=384, sgd=True, flip=True),
    "nayer-wrn": dict(teacher=("wrn16-1", 1.0), student=("wrn16-1", 1.0), channels=1,
                      generation=[(28, 100)], student_batch=[(28, 128)], ngf=64,
                      nayer=True, label_dim=384, sgd=True, flip=True),
    "cifar": dict(teacher=("resnet34-cifar", 1.0), student=("resnet18-cifar", 1.0), channels=3,
                  generation=[(28, 64), (32, 64)], student_batch=[(28, 64), (32, 64)], ngf=64,
                  **dict(OLD, flip=True)),
}


class Generator(nn.Module):
    """METHOD.md §2: BN1d(f_y) → per-chunk noisy Linear(dim, 1000) → Linear → BN2d →
    [up ×2 → SN-conv → BN → LReLU] ×2 → SN-conv → sigmoid."""

    def __init__(self, dim, classes, res, channels, batch, ngf, sn=True):
        super().__init__()
        spectral = spectral_norm if sn else (lambda m: m)
        self.res, self.ngf, self.classes = res, ngf, classes
        self.emb_bn = nn.BatchNorm1d(dim)
        self.noise = nn.ModuleList([nn.Linear(dim, 1000) for _ in range(math.ceil(batch / classes))])
        self.l1 = nn.Linear(1000, 2 * ngf * (res // 4) ** 2)
        self.bn0 = nn.BatchNorm2d(2 * ngf)
        self.conv1 = spectral(nn.Conv2d(2 * ngf, 2 * ngf, 3, 1, 1))
        self.bn1 = nn.BatchNorm2d(2 * ngf)
        self.conv2 = spectral(nn.Conv2d(2 * ngf, ngf, 3, 1, 1))
        self.bn2 = nn.BatchNorm2d(ngf)
        self.conv3 = spectral(nn.Conv2d(ngf, channels, 3, 1, 1))

    def reinit_noise(self):
        for z in self.noise:
            nn.init.normal_(z.weight)
            nn.init.zeros_(z.bias)

    def forward(self, f_y):
        e = self.emb_bn(f_y)
        z = torch.cat([self.noise[i](c) for i, c in enumerate(torch.split(e, self.classes))])
        x = self.bn0(self.l1(z).view(-1, 2 * self.ngf, self.res // 4, self.res // 4))
        x = F.leaky_relu(self.bn1(self.conv1(F.interpolate(x, scale_factor=2))), 0.2)
        x = F.leaky_relu(self.bn2(self.conv2(F.interpolate(x, scale_factor=2))), 0.2)
        return torch.sigmoid(self.conv3(x))


class BnTaps:
    """Forward hooks recording every BatchNorm2d input's batch mean / biased variance."""

    def __init__(self, model):
        self.stats = []
        self.handles = [m.register_forward_hook(self.hook) for m in model.modules()
                        if isinstance(m, nn.BatchNorm2d)]

    def remove(self):
        for h in self.handles:
            h.remove()

    def hook(self, module, inputs, _output):
        x = inputs[0]
        self.stats.append((x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False), module))

    def loss(self):
        out = sum(torch.norm(m - mod.running_mean, 2) + torch.norm(v - mod.running_var, 2)
                  for m, v, mod in self.stats)
        self.stats = []
        return out


def crop_flip(x, pad, flip):
    """Per-sample random crop (zero padding) and flip, as muse-data's `random_crop_flip`."""
    b, _, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    out = []
    for k in range(b):
        i, j = torch.randint(0, 2 * pad + 1, (2,)).tolist()
        xk = xp[k:k + 1, :, i:i + h, j:j + w]
        out.append(torch.flip(xk, [3]) if flip and torch.rand(()) < 0.5 else xk)
    return torch.cat(out)


def taps(model, x):
    fmap = model.features(x)
    emb = torch.flatten(F.adaptive_avg_pool2d(fmap, 1), 1)
    return model.head()(emb), emb, fmap


def timeit(warmup, iters, f):
    if ARGS.flops:
        from torch.utils.flop_counter import FlopCounterMode
        with FlopCounterMode(display=False) as counter:
            f()
        return [counter.get_total_flops() / 1e9]
    for _ in range(warmup):
        f()
    if ARGS.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(iters):
                f()
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20)
        print(table, file=sys.stderr, flush=True)
    ms = []
    for _ in range(iters):
        t = time.perf_counter()
        f()
        ms.append((time.perf_counter() - t) * 1e3)
    return sorted(ms)


def report(args, setting, step, res, batch, ms):
    if args.flops:
        print(json.dumps(dict(setting=setting, step=step, res=res, batch=batch, gflop=round(ms[0], 3))), flush=True)
        return
    median = ms[len(ms) // 2]
    lo, hi = ms[len(ms) // 10], ms[len(ms) * 9 // 10]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = dict(impl=f"pytorch-{torch.__version__.split('+')[0]}", setting=setting, step=step, res=res,
               batch=batch, median_ms=round(median, 2), p10_ms=round(lo, 2), p90_ms=round(hi, 2),
               images_per_s=round(batch / (median / 1e3), 1), peak_rss_mib=round(peak))
    if args.json:
        print(json.dumps(row), flush=True)
    else:
        print(f"torch  {setting:14} {step:10} {res:4}px ×{batch:<4} median {median:9.2f} ms "
              f"(p10 {lo:.2f}, p90 {hi:.2f})  {row['images_per_s']:9.1f} img/s  peak RSS {peak:.0f} MiB")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--setting", default="all")
    p.add_argument("--step", default="all")
    p.add_argument("--res", type=int)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--gen-steps", type=int, default=1,
                   help="generator steps per timed iteration (noise re-draw and a fresh Adam once per "
                        "iteration, as in a run); the time reported is per step")
    p.add_argument("--flops", action="store_true", help="count FLOPs of one step instead of timing")
    p.add_argument("--profile", action="store_true", help="print the per-operator time breakdown to stderr")
    args = p.parse_args()
    if args.gen_steps < 1:
        p.error("--gen-steps must be at least 1")
    global ARGS
    ARGS = args
    torch.set_num_threads(2)
    torch.manual_seed(0)
    for name, s in SETTINGS.items():
        if args.setting not in ("all", name):
            continue
        c = s["channels"]
        keep = lambda r: args.res is None or args.res == r  # noqa: E731
        teacher = build(s["teacher"][0], 10, c, s["teacher"][1]).eval()
        for prm in teacher.parameters():
            prm.requires_grad_(False)
        student = build(s["student"][0], 10, c, s["student"][1])
        dim = s["label_dim"] or teacher.head().in_features
        projection = nn.Linear(student.head().in_features, dim)
        f_y = torch.randn(10, dim)
        r_i, r_o = 0.5, 1.0
        if args.step in ("all", "teacher"):
            bn_t = BnTaps(teacher)
            for res, batch in filter(lambda rb: keep(rb[0]), s["generation"]):
                x = torch.rand(batch, c, res, res)

                def fwd():
                    with torch.no_grad():
                        taps(teacher, x)
                    bn_t.stats = []
                report(args, name, "teacher", res, batch, timeit(args.warmup, args.iters, fwd))
            bn_t.remove()
        if args.step in ("all", "generator"):
            bn_t = BnTaps(teacher)
            # Frozen in this phase, as in Rust: no weight gradients for student or projection.
            frozen = list(student.parameters()) + list(projection.parameters())
            for prm in frozen:
                prm.requires_grad_(False)
            student.eval()
            for res, batch in filter(lambda rb: keep(rb[0]), s["generation"]):
                g = Generator(dim, 10, res, c, batch, s["ngf"], sn=not s["nayer"])
                y = torch.arange(batch) % 10
                pad = round(0.125 * res)

                def gen_iteration():
                    g.reinit_noise()
                    opt = torch.optim.Adam(g.parameters(), 4e-3, betas=(0.5, 0.999), eps=1e-8)
                    for _ in range(args.gen_steps):
                        gen_step(opt)

                def gen_step(opt):
                    x = g(f_y[y])
                    xa = crop_flip(x, pad, s["flip"])
                    bn_t.stats = []
                    t_logits, _, fmap = taps(teacher, xa)
                    ce = F.cross_entropy(t_logits, y)
                    bn = bn_t.loss()
                    s_logits, s_emb, _ = taps(student, xa)
                    mask = (s_logits.argmax(1) == t_logits.argmax(1)).float()
                    kl = (F.softmax(t_logits, 1) * (F.log_softmax(t_logits, 1) - F.log_softmax(s_logits, 1))).sum(1)
                    adv = -(mask * kl).mean()
                    if s["nayer"]:
                        loss = 0.5 * ce + 10 * bn + 1.33 * adv
                    else:
                        w = teacher.head().weight[y]  # [b, C]
                        cam = torch.einsum("bc,bchw->bhw", w, fmap)
                        l_cam = F.relu(1.0 - cam).mean()
                        # L_AED off, as in the presets (alpha_aed = 0; the engine skips it).
                        loss = 0.5 * ce + 10 * bn + 0.1 * l_cam + 1.3 * adv
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    loss.item()
                ms = timeit(args.warmup, args.iters, gen_iteration)
                report(args, name, "generator", res, batch, [m / args.gen_steps for m in ms])
            for prm in frozen:
                prm.requires_grad_(True)
            student.train()
            bn_t.remove()
        if args.step in ("all", "student"):
            params = list(student.parameters()) + list(projection.parameters())
            if s["sgd"]:
                opt = torch.optim.SGD(params, 0.1, momentum=0.9, weight_decay=1e-4)
            else:
                opt = torch.optim.AdamW(params, 1e-3, eps=1e-8, weight_decay=1e-4)
            for res, batch in filter(lambda rb: keep(rb[0]), s["student_batch"]):
                x = torch.rand(batch, c, res, res)
                y = torch.arange(batch) % 10

                def student_step():
                    xa = crop_flip(x, 4, s["flip"])
                    with torch.no_grad():
                        t_logits = teacher(xa)
                    s_logits, s_emb, _ = taps(student, xa)
                    kl = F.kl_div(F.log_softmax(s_logits / 20, 1), F.softmax(t_logits / 20, 1),
                                  reduction="batchmean") * 400
                    if s["nayer"]:
                        loss = kl
                    else:
                        d = ((projection(s_emb) - f_y[y]) ** 2).mean(1)
                        loss = kl + 10 * F.relu(d - r_i).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    loss.item()
                report(args, name, "student", res, batch, timeit(args.warmup, args.iters, student_step))


if __name__ == "__main__":
    main()
