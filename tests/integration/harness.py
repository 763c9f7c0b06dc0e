"""Shared pieces of the worker's integration tests: running kubetrain-worker (alone or under
mpirun), writing configs, reading the JSON summary line and safetensors checkpoints."""

import json
import os
import shutil
import struct
import subprocess
import tempfile

import numpy as np
import yaml

WORKER = os.environ.get("KUBETRAIN_WORKER", "build/bin/kubetrain-worker")
MPIRUN = os.environ.get("KUBETRAIN_MPIRUN", shutil.which("mpirun") or "mpirun")
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

# Small, quick settings every test starts from.
BASE_CONFIG = {
    "model": "resnet20",
    "data": {"dataset": "fashion-mnist", "path": FASHION_MNIST, "imageSize": 28,
             "trainExamples": 512, "validationExamples": 256, "threads": 1, "prefetch": 2},
    "globalBatchSize": 64,
    "epochs": 1,
    "optimizer": {"learningRate": 0.1, "baseBatchSize": 64},
    "statusPort": 0,
    "logEverySteps": 4,
}


def mpirun_prefix(ranks):
    command = [MPIRUN, "-np", str(ranks), "--oversubscribe", "--bind-to", "none",
               "-x", "OMP_NUM_THREADS=1"]
    if os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command


def mpi_environment():
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_btl", "self,vader,tcp")
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def merged(base, changes):
    result = json.loads(json.dumps(base))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        elif value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def write_config(directory, config, name="config.yaml"):
    path = os.path.join(directory, name)
    with open(path, "w") as out:
        if isinstance(config, str):
            out.write(config)
        else:
            yaml.safe_dump(config, out)
    return path


def run_worker(config_path, ranks=None, extra=(), timeout=600):
    command = [WORKER, "--config", config_path, *extra]
    if ranks is not None:
        command = mpirun_prefix(ranks) + command
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=mpi_environment())


def summary_of(result):
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{") and '"event":"summary"' in line:
            return json.loads(line)
    raise AssertionError("no summary line; stdout:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))


def read_safetensors(path):
    with open(path, "rb") as stream:
        (header_size,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(header_size))
        data = stream.read()
    metadata = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtypes[entry["dtype"]]).reshape(
            entry["shape"])
    return tensors, metadata


class TemporaryDirectory(tempfile.TemporaryDirectory):
    def __init__(self):
        super().__init__(prefix="kubetrain-test-")
