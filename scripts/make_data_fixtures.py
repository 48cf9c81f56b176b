#!/usr/bin/env python3
"""Writes the small good and corrupt data fixtures that muse-data's tests read.

Standard library only. Run by hand from the repository root:
    python3 scripts/make_data_fixtures.py
The pixel values are formulas of (sample, position) so the Rust tests can recompute them.
"""
import gzip
import os
import struct
import zlib

OUT = os.path.join("crates", "muse-data", "fixtures")


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def idx_images(n, h, w):
    body = bytes((i * 7 + p) % 256 for i in range(n) for p in range(h * w))
    return struct.pack(">IIII", 0x803, n, h, w) + body


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


# IDX: 3 images of 4x5, labels 2 0 1. Raw and gzip pairs, plus broken variants.
imgs, labs = idx_images(3, 4, 5), idx_labels([2, 0, 1])
write("idx/train-images-idx3-ubyte", imgs)
write("idx/train-labels-idx1-ubyte", labs)
write("idx/t10k-images-idx3-ubyte.gz", gzip.compress(imgs, mtime=0))
write("idx/t10k-labels-idx1-ubyte.gz", gzip.compress(labs, mtime=0))
write("idx-bad/bad-magic-images", struct.pack(">IIII", 0x801, 3, 4, 5) + imgs[16:])
write("idx-bad/truncated-images", imgs[:-7])
write("idx-bad/truncated-header", imgs[:10])
write("idx-bad/two-labels", idx_labels([0, 1]))
write("idx-bad/truncated-images.gz", gzip.compress(imgs[:-7], mtime=0))


def cifar_record(label_bytes, i):
    return bytes(label_bytes) + bytes((i * 11 + p) % 256 for p in range(3072))


# CIFAR-10: two records with labels 3 and 9. CIFAR-100: coarse 4 fine 42, coarse 1 fine 7.
c10 = cifar_record([3], 0) + cifar_record([9], 1)
write("cifar10/data_batch_1.bin", c10)
write("cifar10/test_batch.bin", cifar_record([5], 2))
write("cifar100/train.bin", cifar_record([4, 42], 0) + cifar_record([1, 7], 1))
write("cifar100/test.bin", cifar_record([0, 99], 3))
write("cifar-bad/truncated.bin", c10[:-100])
write("cifar-bad/bad-label.bin", cifar_record([10], 0))


# Digits: three rows; pixel p of row r is (r + p) % 17, class r + 4.
def digits_row(r):
    return ",".join(str((r + p) % 17) for p in range(64)) + f",{r + 4}"


rows = "\n".join(digits_row(r) for r in range(3)) + "\n"
write("digits/good.csv.gz", gzip.compress(rows.encode(), mtime=0))
write("digits/good.csv", rows.encode())
write("digits/short-row.csv", (digits_row(0) + "\n" + ",".join(["1"] * 60) + "\n").encode())
write("digits/bad-value.csv", (digits_row(0).replace("0,", "x,", 1) + "\n").encode())
write("digits/pixel-too-big.csv", ("17," + digits_row(0).split(",", 1)[1] + "\n").encode())


def png(width, height, rgb_of):
    raw = b"".join(
        b"\x00" + b"".join(bytes(rgb_of(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ImageFolder: two classes; a 6x4 image whose centre 4x4 is red, and a uniform blue 8x8 one.
write(
    "folder/train/cat/a.png",
    png(6, 4, lambda x, y: (200, 0, 0) if 1 <= x <= 4 else (0, 255, 0)),
)
write("folder/train/dog/b.png", png(8, 8, lambda x, y: (0, 0, 255)))
write("folder/train/dog/notes.txt", b"not an image, ignored by extension")
write("folder/val/cat/c.png", png(4, 4, lambda x, y: (10, 20, 30)))
write("folder/val/dog/d.png", png(4, 4, lambda x, y: (30, 20, 10)))
write("folder-bad/cat/broken.png", b"\x89PNG\r\n\x1a\nthis is not really a png")
os.makedirs(os.path.join(OUT, "folder-empty", "cat"), exist_ok=True)
write("folder-empty/cat/.keep", b"")
print("fixtures written to", OUT)
