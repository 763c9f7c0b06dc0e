"""Runs kubetrain-torch-parity and repeats its SGD steps in PyTorch (float64), from the same
initial weights and batch: logits, losses, updated weights, BatchNorm running statistics and
momentum must agree within a norm-relative tolerance.

  /usr/bin/python3 torch_parity.py --tool build/bin/kubetrain-torch-parity --model resnet20 \
      --format channels_last [--batch 4 --channels 3 --image-size 16 --classes 10 ...]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cifar_resnet import cifar_resnet  # noqa: E402
from safetensors_reader import read_safetensors  # noqa: E402

CIFAR = {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110"}


def build_torch_model(name, classes, channels):
    if name in CIFAR:
        return cifar_resnet(name, classes, channels)
    model = getattr(torchvision.models, name)(num_classes=classes)
    if channels != 3:
        model.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return model


def relative_error(ours, reference):
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    scale = max(np.linalg.norm(reference), 1e-12)
    return np.linalg.norm(ours - reference) / scale


class Checker:
    def __init__(self, tolerance):
        self.tolerance = tolerance
        self.failures = []
        self.worst = (0.0, "")
        self.relaxed = 0  # checks whose bound PyTorch's own fp32 error widened

    def check(self, what, ours, reference, allowed):
        if np.shape(ours) != np.shape(reference):
            self.failures.append(f"{what}: shape {np.shape(ours)} != {np.shape(reference)}")
            return
        error = relative_error(ours, reference)
        self.worst = max(self.worst, (error, what))
        if allowed > self.tolerance:
            self.relaxed += 1
        if not error <= allowed:
            self.failures.append(f"{what}: relative error {error:.3g} > {allowed:.3g}")


def run_torch(model, initial, batch, args, dtype):
    """The tool's SGD steps in PyTorch at `dtype`: {"logits.<step>", "loss.<step>", state_dict
    entries, "optimizer.momentum.<name>"} as float64 numpy arrays (counters as integers)."""
    model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value
                           in initial.items()}, strict=True)
    model = model.to(dtype)
    named = list(model.named_parameters())
    # Weight decay on conv and linear weights only, as kubetrain's parameter segments.
    optimizer = torch.optim.SGD(
        [{"params": [p for _, p in named if p.dim() > 1], "weight_decay": args.weight_decay},
         {"params": [p for _, p in named if p.dim() <= 1], "weight_decay": 0.0}],
        lr=args.lr, momentum=args.momentum, nesterov=args.nesterov)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    x = torch.from_numpy(np.array(batch["input"])).to(dtype)
    y = torch.from_numpy(np.array(batch["labels"]))
    model.train()
    out = {}
    for step in range(args.steps):
        optimizer.zero_grad()
        logits = model(x)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        out[f"logits.{step}"] = logits.detach().double().numpy()
        out[f"loss.{step}"] = loss.detach().double().numpy()
    for name, value in model.state_dict().items():
        out[name] = value.numpy() if name.endswith("num_batches_tracked") else \
            value.double().numpy()
    for name, parameter in named:
        out[f"optimizer.momentum.{name}"] = \
            optimizer.state[parameter]["momentum_buffer"].double().numpy()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--model", default="resnet20")
    parser.add_argument("--format", default="channels_last")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--fp32-baseline", action="store_true",
                        help="also run PyTorch in float32 and allow each quantity 4x PyTorch's own "
                             "float32 error where that exceeds --tolerance (deep nets whose "
                             "small-batch BatchNorm gradients are ill-conditioned)")
    args = parser.parse_args()

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as out:
        command = [args.tool, "--model", args.model, "--format", args.format,
                   "--batch", str(args.batch), "--channels", str(args.channels),
                   "--image-size", str(args.image_size), "--classes", str(args.classes),
                   "--label-smoothing", str(args.label_smoothing), "--steps", str(args.steps),
                   "--lr", str(args.lr), "--momentum", str(args.momentum),
                   "--weight-decay", str(args.weight_decay), "--seed", str(args.seed),
                   "--out", out]
        if args.nesterov:
            command.append("--nesterov")
        started = time.monotonic()
        subprocess.run(command, check=True)
        tool_seconds = time.monotonic() - started
        initial, _ = read_safetensors(os.path.join(out, "initial.safetensors"))
        batch, _ = read_safetensors(os.path.join(out, "batch.safetensors"))
        result, _ = read_safetensors(os.path.join(out, "result.safetensors"))

    started = time.monotonic()
    model = build_torch_model(args.model, args.classes, args.channels)

    # Names: every state_dict key, and the parameters in torchvision's registration order.
    expected_keys = list(model.state_dict().keys())
    if sorted(expected_keys) != sorted(initial.keys()):
        missing = sorted(set(expected_keys) - set(initial))
        extra = sorted(set(initial) - set(expected_keys))
        sys.exit(f"FAIL: state_dict keys differ; missing {missing[:5]}, extra {extra[:5]}")
    parameter_names = [name for name, _ in model.named_parameters()]
    ours_order = [name for name in initial if name in set(parameter_names)]
    if ours_order != parameter_names:
        sys.exit("FAIL: parameters are not in torchvision's order")

    reference = run_torch(model, initial, batch, args, torch.float64)
    checker = Checker(args.tolerance)
    baseline = None
    if args.fp32_baseline:
        # PyTorch's own fp32 error against float64 shows how ill-conditioned the problem is.
        baseline = run_torch(build_torch_model(args.model, args.classes, args.channels), initial,
                             batch, args, torch.float32)
    for name, value in reference.items():
        if name.endswith("num_batches_tracked"):
            if int(result[name]) != int(value):
                checker.failures.append(f"{name}: {int(result[name])} != {int(value)}")
            continue
        allowed = args.tolerance
        if baseline is not None:
            allowed = max(allowed, 4 * relative_error(baseline[name], value))
        checker.check(name, result[name], value, allowed)
    torch_seconds = time.monotonic() - started

    print(f"{args.model} {args.format} batch {args.batch}x{args.channels}x{args.image_size}^2 "
          f"nesterov={args.nesterov}: worst relative error {checker.worst[0]:.3g} "
          f"({checker.worst[1]}); {checker.relaxed} bounds widened by the fp32 baseline; "
          f"kubetrain {tool_seconds:.2f}s, PyTorch {torch_seconds:.2f}s")
    if checker.failures:
        print("FAIL:\n  " + "\n  ".join(checker.failures[:30]))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
