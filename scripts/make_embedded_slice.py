#!/usr/bin/env python3
"""Writes the 1,000-image Fashion-MNIST test slice embedded in the `muse` binary.

The first 100 test images of each class, in test-set order, from the Debian package
`dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist). Standard library only; the output
is byte-for-byte reproducible (gzip mtime 0).

    python3 scripts/make_embedded_slice.py
"""
import gzip
import os
import struct

SRC = "/usr/share/datasets/fashion-mnist/"
DST = os.path.join(os.path.dirname(__file__), "..", "crates", "muse-cli", "assets")


def read(name):
    with open(SRC + name, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if name.endswith(".gz") else data


images = read("t10k-images-idx3-ubyte.gz")
labels = read("t10k-labels-idx1-ubyte.gz")[8:]
_, h, w = struct.unpack(">III", images[4:16])
pixels = images[16:]
per_class, chosen = {}, []
for i, label in enumerate(labels):
    if per_class.get(label, 0) < 100:
        per_class[label] = per_class.get(label, 0) + 1
        chosen.append(i)
    if len(chosen) == 1000:
        break
out_images = struct.pack(">IIII", 0x803, len(chosen), h, w) + b"".join(
    pixels[i * h * w : (i + 1) * h * w] for i in chosen
)
out_labels = struct.pack(">II", 0x801, len(chosen)) + bytes(labels[i] for i in chosen)
for name, body in [
    ("fashion-mnist-1k-images-idx3-ubyte.gz", out_images),
    ("fashion-mnist-1k-labels-idx1-ubyte.gz", out_labels),
]:
    with open(os.path.join(DST, name), "wb") as f:
        f.write(gzip.compress(body, 9, mtime=0))
print("wrote", len(chosen), "images to", DST)
