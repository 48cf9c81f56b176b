#!/usr/bin/env python3
"""PyTorch parity fixtures for muse-models (run by hand where PyTorch is installed; never in CI).

    python3 scripts/pytorch_parity.py fixtures      # writes crates/muse-models/tests/fixtures/pytorch/
    python3 scripts/pytorch_parity.py check-names   # our PyTorch classes vs torchvision's key names
    python3 scripts/pytorch_parity.py check-export DIR
        # DIR from `MUSE_EXPORT_DIR=DIR cargo test --release -p muse-models --test pytorch_parity`:
        # loads each Rust-exported safetensors with a strict load_state_dict and compares logits

Each architecture of the zoo is written here in PyTorch, following its public reference
(torchvision's resnet.py / mobilenetv2.py; the DFKD zoo's resnet.py, resnet_tiny.py,
wresnet.py, vgg.py as shared by Fast-Datafree, CMI and NAYER), with a width multiplier so the
fixtures stay small. `check-names` proves the torchvision ones have torchvision's exact keys.
Each fixture: weights (several containers: bare / wrapped state dicts, zip / legacy pickle,
safetensors), one input batch and the eval-mode logits; the Rust test must match them to 1e-4.
Needs: torch, safetensors (and torchvision for check-names).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "muse-models", "tests", "fixtures", "pytorch")


def scaled(c, mult):
    """Rust's `((c * mult).round() as usize).max(1)` (round half away from zero)."""
    return max(1, int(math.floor(c * mult + 0.5)))


def make_divisible(v, d=8):
    new_v = max(d, int(v + d / 2) // d * d)
    if new_v < 0.9 * v:
        new_v += d
    return new_v


# --- ResNets: torchvision (resnet18/34/50), DFKD zoo ResNet-18/34 (shortcut/linear) and
# --- ResNet-8/20 (RepDistiller resnet_tiny: downsample/fc, CIFAR stem).
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in, planes, stride, shortcut_name):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut_name = shortcut_name
        if stride != 1 or c_in != planes:
            setattr(self, shortcut_name, nn.Sequential(
                nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)))
        else:
            setattr(self, shortcut_name, None)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = getattr(self, self.shortcut_name)
        return F.relu(out + (sc(x) if sc is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in, planes, stride, shortcut_name):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.shortcut_name = shortcut_name
        if stride != 1 or c_in != planes * 4:
            setattr(self, shortcut_name, nn.Sequential(
                nn.Conv2d(c_in, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)))
        else:
            setattr(self, shortcut_name, None)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        sc = getattr(self, self.shortcut_name)
        return F.relu(out + (sc(x) if sc is not None else x))


RESNETS = {  # name: (blocks per stage, bottleneck, base width, imagenet stem, shortcut, classifier)
    "resnet8": ([1, 1, 1], False, 16, False, "downsample", "fc"),
    "resnet20": ([3, 3, 3], False, 16, False, "downsample", "fc"),
    "resnet18-cifar": ([2, 2, 2, 2], False, 64, False, "shortcut", "linear"),
    "resnet34-cifar": ([3, 4, 6, 3], False, 64, False, "shortcut", "linear"),
    "resnet18": ([2, 2, 2, 2], False, 64, True, "downsample", "fc"),
    "resnet34": ([3, 4, 6, 3], False, 64, True, "downsample", "fc"),
    "resnet50": ([3, 4, 6, 3], True, 64, True, "downsample", "fc"),
}


class ResNet(nn.Module):
    def __init__(self, arch, num_classes, channels, width):
        super().__init__()
        stages, bottleneck, base, imagenet, shortcut, classifier = RESNETS[arch]
        base = scaled(base, width)
        block = Bottleneck if bottleneck else BasicBlock
        if imagenet:
            self.conv1 = nn.Conv2d(channels, base, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = nn.Conv2d(channels, base, 3, 1, 1, bias=False)
            self.maxpool = None
        self.bn1 = nn.BatchNorm2d(base)
        c_in = base
        for i, n in enumerate(stages):
            layers = []
            for j in range(n):
                layers.append(block(c_in, base << i, (1 if i == 0 else 2) if j == 0 else 1, shortcut))
                c_in = (base << i) * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.n_stages = len(stages)
        self.classifier_name = classifier
        setattr(self, classifier, nn.Linear(c_in, num_classes))

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.n_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return x

    def head(self):
        return getattr(self, self.classifier_name)

    def forward(self, x):
        return self.head()(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


# --- Wide ResNet (DFKD zoo wresnet.py): pre-activation blocks, convShortcut iff widths differ.
class WrnBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.equal = c_in == c_out
        self.convShortcut = None if self.equal else nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)

    def forward(self, x):
        if not self.equal:
            x = F.relu(self.bn1(x))
            out = F.relu(self.bn2(self.conv1(x)))
        else:
            out = F.relu(self.bn2(self.conv1(F.relu(self.bn1(x)))))
        out = self.conv2(out)
        return (x if self.equal else self.convShortcut(x)) + out


class NetworkBlock(nn.Module):
    def __init__(self, n, c_in, c_out, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WrnBlock(c_in if j == 0 else c_out, c_out, stride if j == 0 else 1)
                                     for j in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, k, num_classes, channels, width):
        super().__init__()
        w = [scaled(c, width) for c in (16, 16 * k, 32 * k, 64 * k)]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(channels, w[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, w[0], w[1], 1)
        self.block2 = NetworkBlock(n, w[1], w[2], 2)
        self.block3 = NetworkBlock(n, w[2], w[3], 2)
        self.bn1 = nn.BatchNorm2d(w[3])
        self.fc = nn.Linear(w[3], num_classes)

    def features(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        return F.relu(self.bn1(x))

    def head(self):
        return self.fc

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


# --- VGG-11-BN (DFKD zoo vgg.py, cfg A): conv(bias)-BN-ReLU, pools after blocks 0-2 (and 3 at 64 px).
class Vgg(nn.Module):
    CFG = [[64], [128], [256, 256], [512, 512], [512, 512]]

    def __init__(self, num_classes, channels, width):
        super().__init__()
        c_in = channels
        for k, block in enumerate(self.CFG):
            layers = []
            for c in block:
                c = scaled(c, width)
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                c_in = c
            setattr(self, f"block{k}", nn.Sequential(*layers[:-1]))
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x):
        h = x.shape[2]
        for k in range(5):
            x = F.relu(getattr(self, f"block{k}")(x))
            if k < 3 or (k == 3 and h == 64):
                x = F.max_pool2d(x, 2, 2)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# --- MobileNetV2 (torchvision layout).
def conv_bn_relu6(c_in, c_out, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, c_in, c_out, stride, t):
        super().__init__()
        hidden = int(round(c_in * t))
        self.residual = stride == 1 and c_in == c_out
        layers = [conv_bn_relu6(c_in, hidden, 1, 1)] if t != 1 else []
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, num_classes, channels, width):
        super().__init__()
        c_in = make_divisible(32 * width)
        last = make_divisible(1280 * max(1.0, width))
        features = [conv_bn_relu6(channels, c_in, 3, 2)]
        for t, c, n, s in self.SETTINGS:
            c_out = make_divisible(c * width)
            for i in range(n):
                features.append(InvertedResidual(c_in, c_out, s if i == 0 else 1, t))
                c_in = c_out
        features.append(conv_bn_relu6(c_in, last, 1, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# --- MUSE-rs's LeNet-5 (BatchNorm, global pooling); no public reference, these names are ours.
class LeNet5(nn.Module):
    def __init__(self, num_classes, channels, width):
        super().__init__()
        c1, c2, c3 = (scaled(c, width) for c in (6, 16, 120))
        self.conv1, self.bn1 = nn.Conv2d(channels, c1, 5, 1, 2, bias=False), nn.BatchNorm2d(c1)
        self.conv2, self.bn2 = nn.Conv2d(c1, c2, 5, 1, 2, bias=False), nn.BatchNorm2d(c2)
        self.conv3, self.bn3 = nn.Conv2d(c2, c3, 3, 1, 1, bias=False), nn.BatchNorm2d(c3)
        self.fc = nn.Linear(c3, num_classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return F.relu(self.bn3(self.conv3(x)))

    def head(self):
        return self.fc

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


WRNS = {"wrn16-1": (16, 1), "wrn16-2": (16, 2), "wrn40-1": (40, 1), "wrn40-2": (40, 2)}


def build(arch, num_classes, channels, width):
    if arch in RESNETS:
        return ResNet(arch, num_classes, channels, width)
    if arch in WRNS:
        return WideResNet(*WRNS[arch], num_classes, channels, width)
    if arch == "vgg11-bn":
        return Vgg(num_classes, channels, width)
    if arch == "mobilenetv2":
        return MobileNetV2(num_classes, channels, width)
    if arch == "lenet5":
        return LeNet5(num_classes, channels, width)
    raise SystemExit(f"unknown arch {arch}")


# name, arch, width, channels, resolution, container
FIXTURES = [
    ("resnet8", "resnet8", 0.5, 3, 32, "legacy-pth"),
    ("resnet20", "resnet20", 0.25, 3, 32, "prefixed"),
    ("resnet18-cifar", "resnet18-cifar", 0.0625, 3, 32, "checkpoint-dataparallel"),
    ("resnet34-cifar", "resnet34-cifar", 0.0625, 3, 32, "safetensors"),
    ("resnet18", "resnet18", 0.0625, 3, 64, "pth"),
    ("resnet34", "resnet34", 0.0625, 3, 64, "checkpoint-model"),
    ("resnet50", "resnet50", 0.0625, 3, 64, "pth"),
    ("wrn16-1", "wrn16-1", 0.5, 3, 32, "checkpoint"),
    ("wrn40-2", "wrn40-2", 0.125, 3, 32, "pth"),
    ("vgg11-bn", "vgg11-bn", 0.0625, 3, 32, "pth"),
    ("vgg11-bn-64", "vgg11-bn", 0.0625, 3, 64, "safetensors"),
    ("mobilenetv2", "mobilenetv2", 0.1, 3, 64, "pth"),
    ("lenet5", "lenet5", 1.0, 1, 28, "pth"),
]


def randomize_bn(model, gen):
    """Non-trivial BatchNorm parameters and statistics, so eval-mode parity tests them."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.num_batches_tracked.fill_(7)


def save_weights(model, path_base, container):
    sd = model.state_dict()
    if container == "safetensors":
        path = path_base + ".safetensors"
        save_file({k: v.contiguous() for k, v in sd.items()}, path)
    elif container == "legacy-pth":
        path = path_base + ".pth"
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    elif container == "pth":
        path = path_base + ".pth"
        torch.save(sd, path)
    elif container == "checkpoint":
        path = path_base + ".pth"
        torch.save({"epoch": 3, "state_dict": sd, "best_acc1": 0.5}, path)
    elif container == "checkpoint-dataparallel":
        path = path_base + ".pth"
        wrapped = {"module." + k: v for k, v in sd.items()}
        opt = {"state": {0: {"momentum_buffer": torch.zeros(3)}}, "param_groups": [{"lr": 0.1}]}
        torch.save({"epoch": 3, "state_dict": wrapped, "optimizer": opt}, path)
    elif container == "prefixed":
        # A plain state dict of a wrapper module (`self.model = net`): keys start with `model.`
        # but there is no `model` entry to descend into.
        path = path_base + ".pth"
        torch.save({"model." + k: v for k, v in sd.items()}, path)
    elif container == "checkpoint-model":
        path = path_base + ".pth"
        torch.save({"model": sd, "epoch": 1}, path)
    else:
        raise SystemExit(container)
    return os.path.basename(path)


def fixtures():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for name, arch, width, channels, res, container in FIXTURES:
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(1)
        model = build(arch, 10, channels, width)
        randomize_bn(model, gen)
        model.eval()
        x = torch.rand(2, channels, res, res, generator=gen)
        with torch.no_grad():
            logits = model(x)
        weights = save_weights(model, os.path.join(OUT, name), container)
        save_file({"input": x.contiguous(), "logits": logits.contiguous()}, os.path.join(OUT, name + ".io.safetensors"))
        manifest.append({"name": name, "arch": arch, "width_mult": width, "channels": channels,
                         "resolution": res, "num_classes": 10, "weights": weights, "container": container})
        print(f"{name:16} {container:24} logits[0,:3] = {logits[0, :3].tolist()}")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(manifest)} fixtures, {total / 1e6:.2f} MB in {OUT}")


def check_names():
    import torchvision.models as tv
    pairs = [("resnet18", tv.resnet18), ("resnet34", tv.resnet34), ("resnet50", tv.resnet50),
             ("mobilenetv2", tv.mobilenet_v2)]
    for arch, ctor in pairs:
        ref = {k: tuple(v.shape) for k, v in ctor(num_classes=1000).state_dict().items()}
        ours = {k: tuple(v.shape) for k, v in build(arch, 1000, 3, 1.0).state_dict().items()}
        assert ref == ours, (arch, set(ref) ^ set(ours))
        print(f"{arch}: {len(ref)} keys, names and shapes identical to torchvision")


def check_export(d):
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    for m in manifest:
        model = build(m["arch"], m["num_classes"], m["channels"], m["width_mult"])
        model.load_state_dict(load_file(os.path.join(d, m["weights"])))  # strict
        model.eval()
        io = load_file(os.path.join(d, m["name"] + ".io.safetensors"))
        with torch.no_grad():
            got = model(io["input"])
        err = (got - io["logits"]).abs().max().item()
        status = "ok" if err < 1e-4 else "MISMATCH"
        print(f"{m['name']:16} strict load ok, max |logit diff| vs the fixture (which Rust reproduces) = {err:.2e} {status}")
        assert err < 1e-4


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "fixtures"
    if cmd == "fixtures":
        fixtures()
    elif cmd == "check-names":
        check_names()
    elif cmd == "check-export":
        check_export(sys.argv[2])
    else:
        raise SystemExit(__doc__)
