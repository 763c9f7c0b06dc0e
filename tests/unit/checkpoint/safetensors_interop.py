"""Checks that kubetrain's safetensors files agree with an independent implementation of the format.

usage: safetensors_interop.py TOOL WORKDIR   (TOOL: safetensors_interop_tool)

1. The tool writes the reference file; a plain numpy reader written here (and the `safetensors`
   package, where installed) must read back exactly the reference tensors, and the "crc32" metadata
   must equal zlib's CRC-32 of the data section.
2. A writer written here produces files laid out differently from ours (other tensor order, no
   crc32 or a crc32 computed by Python); the tool must read them as the reference tensors.
3. A Python-written file whose crc32 does not match must be refused by the tool.
"""
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}

# Must match reference_file() in safetensors_interop_tool.cc.
REFERENCE = {
    "layer1.0.conv1.weight": np.array([-0.625, -0.375, -0.125, 0.125, 0.375, 0.625],
                                      dtype="<f4").reshape(2, 3, 1, 1),
    "fc.bias": np.array([1e-3, -7.5, 3.0e8], dtype="<f4"),
    "step": np.array(1234567890123, dtype="<i8"),
    "counts": np.array([-1, 0, 1, 1 << 40], dtype="<i8"),
    "empty": np.zeros((0, 4), dtype="<f4"),
}
REFERENCE_METADATA = {"epoch": "7", "model": "resnet20"}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def read_safetensors(path):
    """A minimal, strict reader: header JSON + np.frombuffer over the data section."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header_bytes = blob[8:8 + header_len]
    if not header_bytes.startswith(b"{"):
        fail(f"{path}: header does not start with '{{'")
    if (8 + header_len) % 8 != 0:
        fail(f"{path}: data section is not 8-byte aligned")
    header = json.loads(header_bytes.decode("utf-8"))
    data = blob[8 + header_len:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    end = 0
    for name, entry in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        begin, stop = entry["data_offsets"]
        if begin != end:
            fail(f"{path}: tensor {name} does not start where the previous one ended")
        dtype = DTYPES[entry["dtype"]]
        array = np.frombuffer(data[begin:stop], dtype=dtype).reshape(entry["shape"])
        tensors[name] = array
        end = stop
    if end != len(data):
        fail(f"{path}: tensors cover {end} of {len(data)} data bytes")
    return tensors, metadata, data


def write_safetensors(path, tensors, metadata):
    """An independent writer: tensors in name order (as the Python package does), space padding."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        array = tensors[name]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        dtype = "F32" if array.dtype.kind == "f" else "I64"
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def assert_reference(tensors, metadata, origin):
    if set(tensors) != set(REFERENCE):
        fail(f"{origin}: tensors {sorted(tensors)}, expected {sorted(REFERENCE)}")
    for name, expected in REFERENCE.items():
        actual = tensors[name]
        if actual.dtype != expected.dtype or actual.shape != expected.shape or \
                not np.array_equal(actual, expected):
            fail(f"{origin}: tensor {name} = {actual!r}, expected {expected!r}")
    for key, value in REFERENCE_METADATA.items():
        if metadata.get(key) != value:
            fail(f"{origin}: metadata {key} = {metadata.get(key)!r}, expected {value!r}")


def run_tool(tool, mode, path):
    return subprocess.run([tool, mode, path], capture_output=True, text=True)


def main():
    tool, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)

    ours = os.path.join(workdir, "written_by_kubetrain.safetensors")
    result = run_tool(tool, "write", ours)
    if result.returncode != 0:
        fail(f"tool write failed: {result.stderr}")
    tensors, metadata, data = read_safetensors(ours)
    assert_reference(tensors, metadata, "numpy reader")
    expected_crc = format(zlib.crc32(data) & 0xFFFFFFFF, "08x")
    if metadata.get("crc32") != expected_crc:
        fail(f"crc32 metadata {metadata.get('crc32')!r}, zlib says {expected_crc}")
    try:
        from safetensors.numpy import load_file
    except ImportError:
        print("python safetensors package not installed; checked with the numpy reader only")
    else:
        assert_reference(load_file(ours), metadata, "safetensors.numpy.load_file")

    for with_crc in (False, True):
        path = os.path.join(workdir, f"written_by_python_crc_{with_crc}.safetensors")
        metadata = dict(REFERENCE_METADATA)
        write_safetensors(path, REFERENCE, metadata)
        if with_crc:
            _, _, data = read_safetensors(path)
            metadata["crc32"] = format(zlib.crc32(data) & 0xFFFFFFFF, "08x")
            write_safetensors(path, REFERENCE, metadata)
        result = run_tool(tool, "check", path)
        if result.returncode != 0:
            fail(f"tool refused the Python-written file (crc32 given: {with_crc}): {result.stderr}")

    corrupt = os.path.join(workdir, "written_by_python_bad_crc.safetensors")
    write_safetensors(corrupt, REFERENCE, dict(REFERENCE_METADATA, crc32="00000000"))
    result = run_tool(tool, "check", corrupt)
    if result.returncode == 0 or "crc32 mismatch" not in result.stderr or corrupt not in result.stderr:
        fail(f"tool accepted a file with a wrong crc32: rc={result.returncode} {result.stderr}")
    print("ok")


if __name__ == "__main__":
    main()
