#!/usr/bin/python3
"""PyTorch's CPU training throughput for the same ResNets kubetrain trains.

Times forward, backward and an SGD momentum step on synthetic data after a warm-up and prints one
JSON line with images/sec. Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torchvision


class BasicBlock(nn.Module):
    """He et al.'s basic block with a 1x1 projection shortcut where the shape changes."""

    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 images: a 3x3 stem and three stages of 16, 32 and 64 channels."""

    def __init__(self, blocks_per_stage, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        layers, in_channels = [], 16
        for stage, channels in enumerate((16, 32, 64)):
            blocks = []
            for b in range(blocks_per_stage):
                blocks.append(BasicBlock(in_channels, channels, 2 if stage > 0 and b == 0 else 1))
                in_channels = channels
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


CIFAR_DEPTHS = {"resnet20": 3, "resnet32": 5, "resnet44": 7, "resnet56": 9, "resnet110": 18}


def build(name, classes):
    if name in CIFAR_DEPTHS:
        return CifarResNet(CIFAR_DEPTHS[name], classes)
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
    loss_function = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

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
