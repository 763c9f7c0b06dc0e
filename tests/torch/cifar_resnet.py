"""CIFAR-style ResNet-20/32/44/56/110 (He et al. 2015, section 4.2) in PyTorch, written independently
of kubetrain: three stages of 16/32/64 channels with n basic blocks each, a 3x3 stride-1 stem
without max pooling, projection shortcuts (1x1 conv + BatchNorm, "option B") where the shape
changes, global average pooling and a linear classifier. Parameter names follow torchvision's
ResNet (conv1, bn1, layer1..3, fc) so that state_dicts are interchangeable."""

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10, in_channels=3):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
        blocks = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        in_ch = 16
        for index, (channels, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
            layers = []
            for b in range(blocks):
                layers.append(BasicBlock(in_ch, channels, stride if b == 0 else 1))
                in_ch = channels
            setattr(self, f"layer{index}", nn.Sequential(*layers))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(x.mean(dim=(2, 3)), 1))


def cifar_resnet(name, num_classes=10, in_channels=3):
    """resnet20/32/44/56/110 by name."""
    return CifarResNet(int(name.removeprefix("resnet")), num_classes, in_channels)
