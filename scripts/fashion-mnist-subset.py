#!/usr/bin/env python3
"""Writes the first TRAIN training and TEST test examples of Fashion-MNIST as gzipped IDX files
in OUT_DIR, with the original file names, so a machine without the data set can run the GPU
learning test (data.trainExamples/validationExamples no larger than these).

    scripts/fashion-mnist-subset.py SOURCE_DIR OUT_DIR [TRAIN] [TEST]   (8192, 2000)
"""

import gzip
import os
import struct
import sys


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as source:
        data = source.read()
    dimensions = data[3]
    shape = struct.unpack(">" + "I" * dimensions, data[4:4 + 4 * dimensions])
    return shape, data[4 + 4 * dimensions:]


def write_idx_prefix(source, target, count):
    if not os.path.exists(source):
        source = source[:-len(".gz")]
    shape, body = read_idx(source)
    if count > shape[0]:
        sys.exit(f"{source} has {shape[0]} examples, fewer than {count}")
    per_example = len(body) // shape[0]
    header = bytes([0, 0, 0x08, len(shape)]) + struct.pack(">" + "I" * len(shape), count, *shape[1:])
    with gzip.open(target, "wb") as out:
        out.write(header + body[:count * per_example])


def main():
    if len(sys.argv) not in (3, 4, 5):
        sys.exit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    train = int(sys.argv[3]) if len(sys.argv) > 3 else 8192
    test = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    os.makedirs(out, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            name = f"{prefix}-{kind}.gz"
            write_idx_prefix(os.path.join(source, name), os.path.join(out, name), count)
    print(f"Fashion-MNIST subset ({train} training, {test} test examples) in {out}")


if __name__ == "__main__":
    main()
