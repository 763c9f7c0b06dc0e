#!/usr/bin/python3
"""PyTorch's CPU training throughput for the same ResNets kubetrain trains.

Times forward, backward and an SGD momentum step on synthetic data after a warm-up and prints one
JSON line with images/sec. Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3).
"""
import argparse
import json
import os
import sys
import time

import torch
import torchvision

# The test suite's independent PyTorch definition of the CIFAR ResNets.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from cifar_resnet import CifarResNet  # noqa: E402


CIFAR_DEPTHS = {"resnet20": 20, "resnet32": 32, "resnet44": 44, "resnet56": 56, "resnet110": 110}


def build(name, classes):
    if name in CIFAR_DEPTHS:
        return CifarResNet(CIFAR_DEPTHS[name], num_classes=classes)
    if name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        return getattr(torchvision.models, name)(num_classes=classes)
    raise SystemExit(f"unknown model {name!r}; valid: {', '.join(list(CIFAR_DEPTHS) + ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="resnet20")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    if args.batch < 1 or args.steps < 1 or args.warmup < 0 or args.threads < 1:
        raise SystemExit("--batch, --steps and --threads must be >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = build(args.model, args.classes).train()
    images = torch.randn(args.batch, 3, args.image_size, args.image_size)
    labels = torch.randint(0, args.classes, (args.batch,))
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss_function = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "model": args.model,
        "batch": args.batch,
        "image_size": args.image_size,
        "threads": torch.get_num_threads(),
        "channels_last": args.channels_last,
        "steps": args.steps,
        "loss": round(float(loss), 4),
        "images_per_second": round(args.batch * args.steps / seconds, 2),
    }))


if __name__ == "__main__":
    main()
