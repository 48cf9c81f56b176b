#!/usr/bin/env python3
"""Trains a Fashion-MNIST teacher in PyTorch (by hand where torch is installed; never in CI).

    python3 scripts/train_teacher_pytorch.py --arch wrn16-1 --epochs 10 --out runs/teachers/wrn16-1-pt.pth

The network classes are scripts/pytorch_parity.py's (the same key names our loader reads), so
the result loads with `muse distill --teacher OUT.pth --arch wrn16-1 --normalization
fashion-mnist`. The recipe is the DFKD teachers' (Fast-Datafree / NAYER `train_scratch.py`):
SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine annealing per step, batch 128, random crop
with 4 px padding and horizontal flips, inputs normalised with Fashion-MNIST's mean/std.
Prints the test top-1 after every epoch and saves a bare state dict.
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from pytorch_parity import build  # noqa: E402

ROOT = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def idx(name):
    with gzip.open(os.path.join(ROOT, name)) as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        h, w = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, h, w)
    return np.frombuffer(data, np.uint8, offset=8).astype(np.int64)


def augment(x, pad, gen):
    """Random crop with black (zero) padding of the raw image, as torchvision's RandomCrop, and flips."""
    n, _, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]  # [n, h, 1]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]  # [n, 1, w]
    out = xp[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="wrn16-1")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    xtr = torch.from_numpy(idx("train-images-idx3-ubyte.gz").copy()).float() / 255
    ytr = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").copy())
    xte = (torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").copy()).float() / 255 - MEAN) / STD
    yte = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").copy())
    model = build(a.arch, 10, 1, 1.0)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
    steps = a.epochs * (len(xtr) // a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(len(xtr) // a.batch):
            b = perm[i * a.batch:(i + 1) * a.batch]
            loss = F.cross_entropy(model((augment(xtr[b], 4, gen) - MEAN) / STD), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                          for i in range(0, len(xte), 1000))
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss.item():.4f}, test top-1 {correct / len(xte):.4f}",
              flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(model.state_dict(), a.out)
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
