#!/usr/bin/env python3
"""NAYER's own PyTorch code (github.com/tmtuan1307/NAYER) run on our Fashion-MNIST teacher.

    git --git-dir=/work/.mirror/tmtuan1307+NAYER/repo archive HEAD | tar -x -C /tmp/nayer
    target/release/muse embed-labels --names fashion-mnist --out /tmp/fm-labels.safetensors
    /work/venv-torch/bin/python scripts/nayer_reference.py --nayer-repo /tmp/nayer \
        --teacher runs/teachers/wrn16-1-pt-e10.pth --labels /tmp/fm-labels.safetensors \
        --ratio 0.01 --epochs 16 --seed 0 --out runs/nayer-reference/r0.01-e16-s0

Writes OUT/metrics.jsonl (one JSON line per epoch) and prints `final top1 X best Y wall Z s`.
The defaults match our engine's runs/results/strong8/nayer-ptteacher-e10-r0.01-e16-s0/config.json.

What is NAYER's code (imported from --nayer-repo, unchanged):
  - datafree/synthesis/nayer.py: NAYER (synthesize(): generator re-init every g_life, warm-up
    loops gwp_loops, g_loops after, re_init_le per loop, fresh Adam(0.5, 0.999) per loop,
    g_steps steps of bn*L_bn + oh*L_ce(one-hot) + adv*L_adv, best-loss batch kept, bn_mmt
    update of the hooks, memory bank + DataLoader/DataIter; sample()), generate_ys, custom_cross_entropy
  - datafree/models/generator.py: NLGenerator (the generator datafree_kd.py builds for
    `--method nayer` on CIFAR), incl. reinit() and re_init_le()
  - datafree/hooks.py: DeepInversionHook (BN-statistics loss with momentum, registered by NAYER.__init__)
  - datafree/criterions.py: KLDiv / kldiv (the KD loss, temperature T; also the adversarial term)
  - datafree/utils/_utils.py: Normalizer, DataIter, dummy_ctx
  - datafree/metrics: TopkAccuracy, RunningLoss (train() and our evaluation)
  - datafree_kd.py: the function `train()` (the KD loop) is taken verbatim from the file's source
    (ast-extracted and exec'd), and the epoch loop of main_worker() (lines 378-434: synthesize,
    train only when epoch >= warmup, evaluate, scheduler.step() only when epoch >= warmup) and
    the optimizer / scheduler lines (336-338) are reproduced below line for line.

DEVIATIONS from NAYER's code, and why:
  1. CPU: NLGenerator.reinit() ends in `.cuda()`; NLGenerator.cuda is monkeypatched to a no-op
     (the new generator stays on the CPU). The synthesizer gets device='cpu'; train() gets
     args.gpu=None (so it skips its `.cuda()`). No maths changed.
  2. Missing packages (none installed in /work/venv-torch: torchvision, kornia, PIL): instead of
     importing the `datafree` package __init__ (which pulls in every synthesizer and helper,
     needing PIL, kornia, torchvision, tqdm, termcolor, xlsxwriter, matplotlib...), `datafree`,
     `datafree.utils`, `datafree.models`, `datafree.synthesis` are registered as bare packages
     and only the modules listed above are imported. Stubs used only if the real package is
     missing: `PIL.Image` (an empty placeholder: _utils.py imports it at the top; only the
     on-disk ImagePool uses it, which is replaced, see 3), `torchvision.transforms.Compose`
     (applies the callables in order, exactly like torchvision's), and
     `kornia.augmentation.RandomCrop(size, padding)` / `RandomHorizontalFlip()` re-implemented
     in torch with kornia's semantics: zero padding (fill 0 before normalisation), an
     independent uniform integer offset in [0, 2*padding] per sample, p=0.5 flips per sample,
     differentiable (integer-offset crops = kornia's bilinear crop at integer positions).
  3. Memory bank in memory instead of PNG files: NAYER's ImagePool writes each batch as PNGs
     (`(x.clamp(0,1)*255).astype(uint8)`, i.e. floor) and reads them back with PIL +
     `ori_dataset.transform`. Pillow cannot even write NAYER's (H, W, 1) arrays for 1 channel
     (no (1,1,1) entry in Image.fromarray's type map), so the pool keeps uint8 tensors, quantised
     exactly as the PNG round trip would (floor(255·clamp(x, 0, 1)), /255 on load; --no-quantize
     keeps floats). The pool is swapped in via the name `ImagePool` in nayer.py's namespace;
     get_dataset() snapshots the pool, like UnlabeledImageDataset lists the files at creation.
  4. `ori_dataset.transform` (torchvision's CIFAR train transform RandomCrop(32, padding=4),
     RandomHorizontalFlip(), ToTensor(), Normalize) is re-implemented per sample on tensors with
     the same RNG calls as torchvision (torch.randint offsets in [0, 2*padding], torch.rand(1) < 0.5
     flip, zero fill), at 28 px, then Normalize(0.2860, 0.3530).
  5. Padding: NAYER uses 4 px at 32 px (both in its synthesizer's kornia crop, hard-coded, and
     in the KD transform). At 28 px, crop_fraction 0.125 gives 3.5; our engine rounds it
     (`(0.125*28).round()` = 4), so --crop-pad defaults to 4 for both augmentations (= NAYER's
     literal value too).
  6. DataLoader: synthesize() builds `DataLoader(..., num_workers=4, pin_memory=True)`;
     torch.utils.data.DataLoader is replaced in this process by a subclass forcing
     num_workers=0, pin_memory=False (2-core machine; same batches/shuffling semantics,
     batch 128, shuffle=True, drop_last=False, so a 600-image pool yields 128,128,128,128,88).
  7. Pool cap (ours, not NAYER's: NAYER's pool grows without bound): the bank stops at
     ratio x 60,000 images (truncating the batch that crosses the cap), and once full the
     synthesizer is not called at all. So no generator step is wasted, before each
     synthesize() call its gwp_loops / g_loops are lowered to ceil(remaining / synth_batch)
     (never raised). With the defaults (batch 100, 2 warm-up epochs x 3 loops) the bank is full
     (600) at the end of warm-up, so the adversarial term (only active after warm-up) never runs.
  8. Teacher / student: our `pytorch_parity.build('wrn16-1', 10, 1, 1.0)` (same keys and maths
     as NAYER's wresnet.py, but 1 input channel; the teacher is our bare state dict). NAYER's
     train() calls teacher(x, return_features=True): the teacher is wrapped to accept it. The
     student gets NAYER's wresnet.py init (conv N(0, sqrt(2/(k*k*out))), BN 1/0, linear bias 0;
     --student-init torch keeps PyTorch's default), after torch.manual_seed(seed).
  9. Label embeddings: ours (all-MiniLM-L6-v2, 10 x 384, "a photo of a {}") instead of NAYER's
     CLIP pickle; NLGenerator's input size `le_size` = 384 (NAYER: 512 for CLIP). Its
     `le_emb_size` (the noisy layers' output, NAYER's --le_emb_size, default 1000, not set by
     NAYER's scripts) stays 1000, as our engine's noise_dim.
 10. Hyper-parameters: our config's, not NAYER's CIFAR scripts' (lr 0.2, batch 512, synthesis
     batch 400, warmup 20, gwp_loops 10, g_loops 2, g_steps 30/40, kd_steps 400, 120 epochs).
 11. Evaluation: every epoch (NAYER skips evaluation during warm-up and logs 0), on the 10,000
     test images (or the first --eval-limit), top-1 via NAYER's TopkAccuracy, student.eval().
 12. Seeding: random, numpy and torch from --seed (NAYER seeds random and torch only).
 13. NAYER's per-step prints inside synthesize() are silenced (--verbose keeps them); no
     wandb, no logger file, no checkpoint.
 14. Diagnostic only: NLGenerator.forward / re_init_le are wrapped to record which of the g steps
     produced the batch NAYER keeps ("best_steps" in metrics.jsonl). NAYER's `best_cost` is set
     once per synthesize() call, but `best_inputs` is reset per loop, and the test
     `best_cost > loss or best_inputs is None` then re-seeds `best_cost` with each loop's step-0
     loss: the kept batch is each loop's lowest-loss step, as in our engine. Outputs are
     returned unchanged.
"""
import argparse
import ast
import contextlib
import importlib
import io
import json
import math
import os
import random
import struct
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_parity import build  # noqa: E402
from train_teacher_pytorch import idx  # noqa: E402  (the Fashion-MNIST IDX reader)

MEAN, STD = 0.2860, 0.3530
_OrigDataLoader = torch.utils.data.DataLoader


# ----------------------------------------------------------------------------- stubs (deviation 2)
class _KorniaRandomCrop(nn.Module):
    """kornia.augmentation.RandomCrop(size, padding): zero pad, independent crop per sample."""

    pad_override = None

    def __init__(self, size, padding=0, **kw):
        super().__init__()
        self.size = tuple(size)
        self.padding = padding

    def forward(self, x):
        pad = self.padding if self.pad_override is None else self.pad_override
        n, c, h, w = x.shape
        th, tw = self.size
        xp = F.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, h + 2 * pad - th + 1, (n,))
        dx = torch.randint(0, w + 2 * pad - tw + 1, (n,))
        rows = (dy[:, None] + torch.arange(th))[:, :, None]  # [n, th, 1]
        cols = (dx[:, None] + torch.arange(tw))[:, None, :]  # [n, 1, tw]
        out = xp[torch.arange(n)[:, None, None], :, rows, cols]  # [n, th, tw, c]
        return out.permute(0, 3, 1, 2)


class _KorniaRandomHorizontalFlip(nn.Module):
    def __init__(self, p=0.5, **kw):
        super().__init__()
        self.p = p

    def forward(self, x):
        flip = torch.rand(x.shape[0]) < self.p
        return torch.where(flip[:, None, None, None], x.flip(3), x)


class _Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


def install_stubs(log):
    used = []
    for parent, child, attrs, what in (
        ("PIL", "Image", {}, "PIL.Image (placeholder)"),
        ("torchvision", "transforms", {"Compose": _Compose}, "torchvision.transforms.Compose"),
        ("kornia", "augmentation",
         {"RandomCrop": _KorniaRandomCrop, "RandomHorizontalFlip": _KorniaRandomHorizontalFlip},
         "kornia.augmentation.RandomCrop/RandomHorizontalFlip"),
    ):
        try:
            importlib.import_module(f"{parent}.{child}")
        except ImportError:
            top, sub = types.ModuleType(parent), types.ModuleType(f"{parent}.{child}")
            for name, value in attrs.items():
                setattr(sub, name, value)
            setattr(top, child, sub)
            sys.modules[parent], sys.modules[f"{parent}.{child}"] = top, sub
            used.append(what)
    log(f"stubs: {', '.join(used) if used else 'none (real packages found)'}")


def import_nayer(repo):
    """Registers datafree & sub-packages without running their __init__ (deviation 2)."""
    sys.path.insert(0, repo)
    for name in ("datafree", "datafree.utils", "datafree.models", "datafree.synthesis"):
        m = types.ModuleType(name)
        m.__path__ = [os.path.join(repo, *name.split("."))]
        sys.modules[name] = m
        if "." in name:
            parent, child = name.rsplit(".", 1)
            setattr(sys.modules[parent], child, m)
    utils = importlib.import_module("datafree.utils._utils")
    for k in dir(utils):
        if not k.startswith("_"):
            setattr(sys.modules["datafree.utils"], k, getattr(utils, k))
    mods = {k: importlib.import_module(k) for k in (
        "datafree.criterions", "datafree.hooks", "datafree.metrics",
        "datafree.models.generator", "datafree.synthesis.nayer")}
    return sys.modules["datafree"], mods


def nayer_train_fn(repo, datafree):
    """datafree_kd.py's train(), verbatim from its source."""
    src = open(os.path.join(repo, "datafree_kd.py")).read()
    fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == "train")
    ns = {"torch": torch, "datafree": datafree, "time_cost": 0.0}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "datafree_kd.py", "exec"), ns)
    return ns["train"]


# ----------------------------------------------------------------------------- glue
class NoWorkersDataLoader(_OrigDataLoader):
    """Deviation 6: NAYER's num_workers=4 / pin_memory=True → 0 / False."""

    def __init__(self, *a, **kw):
        kw["num_workers"] = 0
        kw["pin_memory"] = False
        super().__init__(*a, **kw)


class KDTransform:
    """Deviation 4: torchvision RandomCrop(padding) + RandomHorizontalFlip + ToTensor + Normalize."""

    def __init__(self, size, pad, flip=True):
        self.size, self.pad, self.flip = size, pad, flip

    def __call__(self, img):  # uint8 [C, H, W] (or float in [0, 1] with --no-quantize)
        x = img.float() / 255 if img.dtype == torch.uint8 else img
        c, h, w = x.shape
        th = tw = self.size
        p = self.pad
        if p > 0:
            x = F.pad(x, (p, p, p, p))
        i = torch.randint(0, h + 2 * p - th + 1, size=(1,)).item()
        j = torch.randint(0, w + 2 * p - tw + 1, size=(1,)).item()
        x = x[:, i:i + th, j:j + tw]
        if self.flip and torch.rand(1) < 0.5:
            x = x.flip(-1)
        return (x - MEAN) / STD


class PoolDataset(torch.utils.data.Dataset):
    def __init__(self, images, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]) if self.transform else self.images[i]


class MemoryPool:
    """Deviations 3 and 7: NAYER's ImagePool in memory, PNG-quantised, capped."""

    def __init__(self, cap, quantize=True):
        self.cap, self.quantize = cap, quantize
        self.chunks, self.n = [], 0

    def add(self, imgs, targets=None):
        keep = max(0, min(len(imgs), self.cap - self.n))
        imgs = imgs[:keep].detach().cpu()
        if keep == 0:
            return
        if self.quantize:  # ImagePool: (x.clamp(0, 1) * 255).astype('uint8') -> PNG -> ToTensor
            imgs = (imgs.clamp(0, 1) * 255).numpy().astype("uint8")
            imgs = torch.from_numpy(imgs)
        self.chunks.append(imgs.clone())
        self.n += keep

    @property
    def full(self):
        return self.n >= self.cap

    def get_dataset(self, transform=None, labeled=True):
        return PoolDataset(torch.cat(self.chunks) if self.chunks else torch.zeros(0), transform)


class TeacherWithFeatures(nn.Module):
    """Deviation 8: NAYER's train() calls teacher(x, return_features=True)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, return_features=False):
        out = self.model(x)
        return (out, None) if return_features else out


def nayer_wrn_init(model):
    """wresnet.py WideResNet.__init__'s init loop (NAYER's zoo)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0, math.sqrt(2. / n))
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()
        elif isinstance(m, nn.Linear):
            m.bias.data.zero_()




def load_safetensors(path, name="embeddings"):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header[name]
    dtypes = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": None}
    if dtypes.get(meta["dtype"]) is None:
        raise SystemExit(f"unsupported dtype {meta['dtype']} in {path}")
    a, b = meta["data_offsets"]
    arr = np.frombuffer(raw[8 + hlen + a:8 + hlen + b], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return torch.from_numpy(arr.astype(np.float32).copy())


def scalar(v):
    return float(v.detach()) if torch.is_tensor(v) else float(v)


@torch.no_grad()
def evaluate(model, x, y, datafree, batch=500):
    model.eval()
    metric = datafree.metrics.TopkAccuracy(topk=(1, 5))
    for i in range(0, len(x), batch):
        metric.update(model(x[i:i + batch]), y[i:i + batch])
    top1, top5 = metric.get_results()
    return top1 / 100.0, top5 / 100.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nayer-repo", required=True)
    p.add_argument("--teacher", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--ratio", type=float, default=0.01)
    p.add_argument("--train-size", type=int, default=60000)
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--arch", default="wrn16-1")
    # generation (NAYER's flags; defaults = our config)
    p.add_argument("--synth-batch", type=int, default=100)
    p.add_argument("--g-steps", type=int, default=30)
    p.add_argument("--lr-g", type=float, default=4e-3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--gwp-loops", type=int, default=3)
    p.add_argument("--g-loops", type=int, default=2)
    p.add_argument("--g-life", type=int, default=10)
    p.add_argument("--adv", type=float, default=1.33)
    p.add_argument("--bn", type=float, default=10.0)
    p.add_argument("--oh", type=float, default=0.5)
    p.add_argument("--bn-mmt", type=float, default=0.9)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--le-emb-size", type=int, default=1000)
    # student
    p.add_argument("--kd-steps", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--eta-min", type=float, default=2e-4)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--T", type=float, default=20.0)
    p.add_argument("--crop-pad", type=int, default=4, help="px at 28 px (round(0.125*28) = 4)")
    p.add_argument("--no-quantize", action="store_true")
    p.add_argument("--student-init", choices=["nayer", "torch"], default="nayer")
    # misc
    p.add_argument("--eval-limit", type=int, default=0, help="first N test images (0 = all 10,000)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()

    def log(msg):
        print(msg, flush=True)

    wall0 = time.time()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)

    install_stubs(log)
    datafree, mods = import_nayer(os.path.abspath(a.nayer_repo))
    nayer_mod = mods["datafree.synthesis.nayer"]
    gen_mod = mods["datafree.models.generator"]
    train = nayer_train_fn(os.path.abspath(a.nayer_repo), datafree)
    _KorniaRandomCrop.pad_override = a.crop_pad  # only affects the stub (deviation 5)
    if nayer_mod.augmentation.RandomCrop is not _KorniaRandomCrop and a.crop_pad != 4:
        raise SystemExit("real kornia installed: NAYER's synthesizer crop padding is its literal 4")

    # deviation 1: CPU
    gen_mod.NLGenerator.cuda = lambda self, *args, **kw: self
    # deviation 6
    torch.utils.data.DataLoader = NoWorkersDataLoader

    # data
    xte = (torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").copy()).float() / 255 - MEAN) / STD
    yte = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").copy())
    if a.eval_limit:
        xte, yte = xte[:a.eval_limit], yte[:a.eval_limit]
    channels, res = xte.shape[1], xte.shape[2]

    # models
    teacher_net = build(a.arch, 10, channels, 1.0)
    teacher_net.load_state_dict(torch.load(a.teacher, map_location="cpu"))
    teacher = TeacherWithFeatures(teacher_net).eval()
    student = build(a.arch, 10, channels, 1.0)
    if a.student_init == "nayer":
        nayer_wrn_init(student)
    t_top1, _ = evaluate(teacher, xte, yte, datafree)
    log(f"teacher {a.teacher}: test top-1 {t_top1:.4f} on {len(xte)} images")

    label_emb = load_safetensors(a.labels)
    log(f"label embeddings {a.labels}: {tuple(label_emb.shape)}")

    cap = int(round(a.ratio * a.train_size))
    pool = MemoryPool(cap, quantize=not a.no_quantize)
    nayer_mod.ImagePool = lambda root: pool  # deviation 3

    # deviation 14 (diagnostic only): which step's output each loop kept
    step_ptrs = []
    orig_forward, orig_reinit_le = gen_mod.NLGenerator.forward, gen_mod.NLGenerator.re_init_le

    def forward(self, targets=None):
        out = orig_forward(self, targets=targets)
        step_ptrs.append(out.data_ptr())
        return out

    def re_init_le(self):
        step_ptrs.clear()
        return orig_reinit_le(self)

    gen_mod.NLGenerator.forward, gen_mod.NLGenerator.re_init_le = forward, re_init_le
    best_steps = []
    orig_add = pool.add

    def add(imgs, targets=None):
        ptr = imgs.data_ptr()
        best_steps.append(max(i for i, q in enumerate(step_ptrs) if q == ptr) if ptr in step_ptrs else None)
        return orig_add(imgs, targets)

    pool.add = add

    # datafree_kd.py main_worker, nayer branch (CIFAR), with our sizes
    normalizer = datafree.utils.Normalizer(mean=(MEAN,), std=(STD,))
    generator = gen_mod.NLGenerator(ngf=a.ngf, img_size=res, nc=channels, nl=10, label_emb=label_emb,
                                    le_emb_size=a.le_emb_size, le_size=label_emb.shape[1],
                                    sbz=a.synth_batch)
    synthesizer = nayer_mod.NAYER(teacher, student, generator, num_classes=10, img_size=(channels, res, res),
                                  init_dataset=None, save_dir=os.path.join(a.out, "pool-unused"), device="cpu",
                                  transform=KDTransform(res, a.crop_pad), normalizer=normalizer,
                                  synthesis_batch_size=a.synth_batch, sample_batch_size=a.batch_size,
                                  g_steps=a.g_steps, warmup=a.warmup, lr_g=a.lr_g, adv=a.adv, bn=a.bn,
                                  oh=a.oh, bn_mmt=a.bn_mmt, g_life=a.g_life, g_loops=a.g_loops,
                                  gwp_loops=a.gwp_loops)
    criterion = datafree.criterions.KLDiv(T=a.T)
    optimizer = torch.optim.SGD(student.parameters(), a.lr, weight_decay=a.weight_decay, momentum=a.momentum)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, int(a.epochs - a.warmup), eta_min=a.eta_min)
    args = types.SimpleNamespace(method="nayer", kd_steps=a.kd_steps, gpu=None, autocast=datafree.utils.dummy_ctx,
                                 fp16=False, print_freq=0, current_epoch=0, logger=None)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "args.json"), "w") as f:
        json.dump(vars(a), f, indent=2)
    metrics_f = open(os.path.join(a.out, "metrics.jsonl"), "w")
    log(f"pool cap {cap} images; {a.epochs} epochs, warm-up {a.warmup}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads")

    best = 0.0
    top1 = 0.0
    for epoch in range(a.epochs):
        tm = time.time()
        args.current_epoch = epoch
        synth = None
        best_steps.clear()
        if not pool.full:  # deviation 7
            loops = math.ceil((cap - pool.n) / synthesizer.synthesis_batch_size)
            synthesizer.gwp_loops = min(a.gwp_loops, loops)
            synthesizer.g_loops = min(a.g_loops, loops)
            out = io.StringIO()
            with (contextlib.nullcontext() if a.verbose else contextlib.redirect_stdout(out)):
                synth = synthesizer.synthesize()
        t_synth = time.time() - tm
        lr = optimizer.param_groups[0]["lr"]
        kd = None
        if epoch >= a.warmup and synthesizer.data_iter is not None:
            t_kd = time.time()
            train(synthesizer, [student, teacher], criterion, optimizer, args)
            kd = time.time() - t_kd
        tm = time.time() - tm
        t_eval = time.time()
        student.eval()
        top1, top5 = evaluate(student, xte, yte, datafree)
        t_eval = time.time() - t_eval
        best = max(best, top1)
        if epoch >= a.warmup:
            scheduler.step()
        rec = {"epoch": epoch, "pool": pool.n, "top1": top1, "top5": top5, "seconds": tm + t_eval,
               "synth_seconds": t_synth, "kd_seconds": kd, "eval_seconds": t_eval,
               "lr": lr if epoch >= a.warmup else 0.0, "kd": epoch >= a.warmup,
               "gen_loops": len(best_steps), "best_steps": list(best_steps),
               "synth_loss": scalar(synth[2]) if synth and synth[0] is not None else None,
               "synth_oh": scalar(synth[3]) if synth and synth[0] is not None else None}
        metrics_f.write(json.dumps(rec) + "\n")
        metrics_f.flush()
        log(f"epoch {epoch + 1}/{a.epochs}: pool {pool.n}, loops {len(best_steps)} (best steps {best_steps}), "
            f"lr {rec['lr']:.5f}, top-1 {top1:.4f}, {tm + t_eval:.1f} s "
            f"(synth {t_synth:.1f}, kd {kd or 0:.1f}, eval {t_eval:.1f})")
    metrics_f.close()
    wall = time.time() - wall0
    log(f"final top1 {top1:.4f} best {best:.4f} wall {wall:.1f} s")


if __name__ == "__main__":
    main()
