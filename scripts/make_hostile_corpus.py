#!/usr/bin/env python3
"""Writes the corpus of hostile inputs that `crates/muse-cli/tests/hostile.rs` feeds to the
`muse` binary and to the library: weights files, data sets and label files built to make a
reader allocate gigabytes, run code, panic or answer wrongly. Every file is small (the largest
is a ~100 KB gzip bomb).

Standard library only (no torch: the PyTorch files are written with `pickle` and `zipfile`,
exactly as `torch.save` lays them out). Run by hand from the repository root:
    python3 scripts/make_hostile_corpus.py
It rewrites crates/muse-cli/tests/hostile/ (files and cases.json) deterministically; a file
listed there as tracked must not change when the script is run again (CI does not run it).

cases.json lists, per case: the `muse` arguments (`{corpus}`, `{teacher}` and `{out}` are
filled in by the test), the substrings its error must contain, and the peak resident memory
it may use (MiB) where the file is a bomb.
"""
import gzip
import io
import json
import os
import pickle
import random
import shutil
import struct
import subprocess
import sys
import types
import zipfile
from collections import OrderedDict

OUT = os.path.join("crates", "muse-cli", "tests", "hostile")

# --- A stand-in for the parts of torch that pickle refers to, so no torch is needed. ---------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise RuntimeError


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


class Storage:
    """A float32 storage: `key` names its file `data/<key>` in the archive."""

    def __init__(self, key, values):
        self.key, self.values = key, values


class Tensor:
    """Pickles as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`."""

    def __init__(self, storage, size, stride, offset=0):
        self.storage, self.size, self.stride, self.offset = storage, size, stride, offset

    def __reduce__(self):
        return (
            _rebuild_tensor_v2,
            (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, OrderedDict()),
        )


class Call:
    """Pickles as `func(*args)`: what a malicious file uses to run code on unpickling."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def contiguous(key, size, fill=0.5):
    n = 1
    for d in size:
        n *= d
    stride, acc = [], 1
    for d in reversed(size):
        stride.insert(0, acc)
        acc *= d
    return Tensor(Storage(key, [fill] * n), size, stride)


class TorchPickler(pickle.Pickler):
    def __init__(self, f, storages):
        super().__init__(f, protocol=2)
        self.storages = storages

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            self.storages[obj.key] = obj
            return ("storage", FloatStorage, obj.key, "cpu", len(obj.values))
        return None


def torch_zip(obj):
    """The bytes `torch.save(obj, f)` would write (zip layout, `archive/` prefix)."""
    storages = {}
    pkl = io.BytesIO()
    TorchPickler(pkl, storages).dump(obj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        zwrite(z, "archive/data.pkl", pkl.getvalue())
        zwrite(z, "archive/byteorder", "little")
        for key, s in storages.items():
            zwrite(z, f"archive/data/{key}", struct.pack(f"<{len(s.values)}f", *s.values))
        zwrite(z, "archive/version", "3\n")
    return buf.getvalue()


def memo_bomb_pickle():
    """A 'billion laughs' pickle: each level is a list holding the previous one 10 times, by
    memo reference; 9 levels name 10^9 strings in a few hundred bytes."""
    out = bytearray(b"\x80\x02")
    out += b"X" + struct.pack("<I", 1000) + b"a" * 1000 + b"q\x000"  # BINUNICODE, BINPUT 0, POP
    for level in range(1, 10):
        out += b"(" + (b"h" + bytes([level - 1])) * 10  # MARK, 10 x BINGET previous
        out += b"lq" + bytes([level])  # LIST, BINPUT level
        if level < 9:
            out += b"0"  # POP
    out += b"."  # STOP
    return bytes(out)


def zwrite(z, name, data):
    """A zip entry with a fixed timestamp, so the corpus is byte-for-byte reproducible."""
    z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def zip_with_pickle(pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        zwrite(z, "archive/data.pkl", pkl)
        zwrite(z, "archive/version", "3\n")
    return buf.getvalue()


def idx_images(n, h, w, body=None):
    if body is None:
        body = bytes((i * 7 + p) % 256 for i in range(n) for p in range(h * w))
    return struct.pack(">IIII", 0x803, n, h, w) + body


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def npy(shape, payload=b""):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (tuple(shape),)
    header = header.encode()
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


# --- The corpus. -----------------------------------------------------------------------------
def main():
    if os.path.isdir(OUT):
        for name in os.listdir(OUT):
            p = os.path.join(OUT, name)
            if name != "README.md":
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(7)
    cases = []

    def write(rel, data):
        path = os.path.join(OUT, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def case(name, what, args, expect, max_rss_mib=None):
        # The library entry point the file goes to: --teacher → weights, --eval-data → data,
        # --labels → labels; `file` is relative to the corpus.
        flag = next(a for a in args if a in ("--teacher", "--eval-data", "--labels")
                    and "{corpus}" in args[args.index(a) + 1])
        file = args[args.index(flag) + 1].replace("{corpus}/", "")
        kind = {"--teacher": "weights", "--eval-data": "data", "--labels": "labels"}[flag]
        cases.append({"name": name, "what": what, "kind": kind, "file": file, "args": args,
                      "expect": expect, "max_rss_mib": max_rss_mib})

    teacher_args = lambda f: [  # noqa: E731
        "distill", "--preset", "tiny", "--teacher", "{corpus}/" + f, "--arch", "lenet5",
        "--normalization", "none", "--no-pictures", "--out", "{out}",
    ]
    data_args = lambda d: [  # noqa: E731
        "distill", "--preset", "tiny", "--teacher", "{teacher}", "--eval-data", "{corpus}/" + d,
        "--no-pictures", "--out", "{out}",
    ]
    labels_args = lambda f: [  # noqa: E731
        "distill", "--preset", "tiny", "--teacher", "{teacher}", "--labels", "{corpus}/" + f,
        "--no-pictures", "--out", "{out}",
    ]

    # Weights.
    write("stride0-bomb.pth", torch_zip(OrderedDict(
        [("fc.weight", Tensor(Storage("0", [1.0]), [50000, 50000], [0, 0]))])))
    case("stride0-bomb", "a 50,000 x 50,000 tensor over one stored value (stride 0)",
         teacher_args("stride0-bomb.pth"), ["stride0-bomb.pth", "fc.weight", "50000"], 400)
    write("hidden-system.pth", torch_zip(OrderedDict(
        [("conv1.weight", contiguous("0", [6, 1, 5, 5])),
         ("evil", Call(os.system, ("touch hostile-was-run",)))])))
    case("hidden-system", "an os.system call hidden as an entry of the state dict",
         teacher_args("hidden-system.pth"), ["hidden-system.pth", "evil", "system"])
    write("hidden-popen.pth", torch_zip(
        {"state_dict": OrderedDict([("conv1.weight", contiguous("0", [6, 1, 5, 5]))]),
         "args": Call(subprocess.Popen, (["touch", "hostile-was-run"],))}))
    case("hidden-popen", "a subprocess.Popen call beside the state dict of a checkpoint",
         teacher_args("hidden-popen.pth"), ["hidden-popen.pth", "args", "Popen"])
    write("memo-bomb.pth", zip_with_pickle(memo_bomb_pickle()))
    case("memo-bomb", "a pickle naming 10^9 strings by memo reference",
         teacher_args("memo-bomb.pth"), ["memo-bomb.pth"], 400)
    write("empty.pth", b"")
    case("empty", "an empty weights file", teacher_args("empty.pth"), ["empty.pth", "empty"])
    write("garbage.pth", bytes(rng.randrange(256) for _ in range(2048)))
    case("garbage", "2 KB of random bytes", teacher_args("garbage.pth"), ["garbage.pth"])
    good = torch_zip(OrderedDict([("conv1.weight", contiguous("0", [6, 1, 5, 5]))]))
    write("truncated.pth", good[: len(good) * 3 // 5])
    case("truncated", "a weights archive cut short", teacher_args("truncated.pth"),
         ["truncated.pth"])
    write("wrong-shapes.pth", torch_zip(OrderedDict(
        [("conv1.weight", contiguous("0", [6, 3, 5, 5]))])))
    case("wrong-shapes", "a tensor of another shape than the model's",
         teacher_args("wrong-shapes.pth"),
         ["wrong-shapes.pth", "conv1.weight", "[6, 1, 5, 5]", "[6, 3, 5, 5]"])

    # Data sets (IDX folders; the training images are only looked for, never read).
    placeholder = idx_images(1, 28, 28)
    labels10 = idx_labels([i % 10 for i in range(10)])
    bomb = gzip.compress(idx_images(10, 28, 28, bytes(100 * 2**20)), compresslevel=9, mtime=0)
    write("idx-gzip-bomb/train-images-idx3-ubyte", placeholder)
    write("idx-gzip-bomb/t10k-images-idx3-ubyte.gz", bomb)
    write("idx-gzip-bomb/t10k-labels-idx1-ubyte", labels10)
    case("idx-gzip-bomb", "a gzip file announcing 10 images and inflating to 100 MB",
         data_args("idx-gzip-bomb"), ["t10k-images-idx3-ubyte.gz"], 300)
    write("idx-overflow/train-images-idx3-ubyte", placeholder)
    write("idx-overflow/t10k-images-idx3-ubyte", struct.pack(">IIII", 0x803, 4, 2**31, 2**31))
    write("idx-overflow/t10k-labels-idx1-ubyte", idx_labels([0, 1, 2, 3]))
    case("idx-overflow", "an IDX header of 4 x 2^31 x 2^31 images (wraps to 0 in 64 bits)",
         data_args("idx-overflow"), ["t10k-images-idx3-ubyte"], 300)
    write("idx-truncated/train-images-idx3-ubyte", placeholder)
    write("idx-truncated/t10k-images-idx3-ubyte", idx_images(100, 28, 28)[:1016])
    write("idx-truncated/t10k-labels-idx1-ubyte", idx_labels([0] * 100))
    case("idx-truncated", "an IDX file with 1,000 of its 78,400 bytes",
         data_args("idx-truncated"), ["t10k-images-idx3-ubyte", "truncated"])
    write("idx-count-mismatch/train-images-idx3-ubyte", placeholder)
    write("idx-count-mismatch/t10k-images-idx3-ubyte", idx_images(3, 28, 28))
    write("idx-count-mismatch/t10k-labels-idx1-ubyte", idx_labels([0, 1]))
    case("idx-count-mismatch", "3 images and 2 labels", data_args("idx-count-mismatch"),
         ["t10k-labels-idx1-ubyte", "2 labels"])
    write("no-images/notes.txt", b"this folder holds no images\n")
    case("no-images", "a folder that exists but holds no images", data_args("no-images"),
         ["no-images", "no images"])
    write("digits-nan.csv", b"0,1,2,nan,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
          b"24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,"
          b"50,51,52,53,54,55,56,57,58,59,60,61,62,63,1\n")
    case("digits-nan", "a CSV pixel that is `nan`", data_args("digits-nan.csv"),
         ["digits-nan.csv", "nan"])

    # Label embeddings.
    write("labels-wrong-count.json", json.dumps([[0.1, 0.2], [0.3, 0.4]]).encode())
    case("labels-wrong-count", "2 label embeddings for 3 classes",
         labels_args("labels-wrong-count.json"), ["labels-wrong-count.json", "3"])
    write("labels-nan.npy", npy([3, 2], struct.pack("<6f", 0.1, float("nan"), 0.3, 0.4, 0.5, 0.6)))
    case("labels-nan", "a label embedding holding NaN", labels_args("labels-nan.npy"),
         ["labels-nan.npy", "NaN"])
    write("labels-huge.npy", npy([100000000, 100000], b"\0" * 64))
    case("labels-huge", "an .npy header announcing 10^13 values over 64 bytes",
         labels_args("labels-huge.npy"), ["labels-huge.npy"], 300)
    write("labels-empty.safetensors", b"")
    case("labels-empty", "an empty safetensors file", labels_args("labels-empty.safetensors"),
         ["labels-empty.safetensors"])

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"{len(cases)} cases, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
