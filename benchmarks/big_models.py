"""Big plain-torch models for the benchmarks (torchvision is not usable here).

`resnet152` builds the ResNet-152 layout of He et al. (2016): a 7x7 stem,
then bottleneck blocks ``[3, 8, 36, 3]`` of conv-BN-ReLU chains with
projection shortcuts where the shape changes, global average pooling and a
linear classifier. Module names follow torchvision's (``layer3.17.conv2``,
``layer1.0.downsample.0``), so the graph groups by module exactly as a
torchvision model's would. Weights are randomly initialised: the benchmarks
time the plumbing, not the predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

RESNET152_BLOCKS = (3, 8, 36, 3)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), each conv-BN, ReLU after the first two and after the sum."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        # Separate ReLU modules (not one reused): each call is its own graph node.
        self.relu1 = nn.ReLU(inplace=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.relu3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu3(out + identity)


class ResNet(nn.Module):
    """A bottleneck ResNet with torchvision's module names."""

    def __init__(self, blocks: Sequence[int] = RESNET152_BLOCKS, num_classes: int = 10, base_width: int = 64):
        super().__init__()
        blocks = tuple(blocks)
        if len(blocks) != 4 or any(not isinstance(b, int) or b < 1 for b in blocks):
            raise ValueError(f"blocks must be 4 positive ints (blocks per stage), got {blocks!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if not isinstance(base_width, int) or base_width < 1:
            raise ValueError(f"base_width must be a positive int, got {base_width!r}")
        self.conv1 = nn.Conv2d(3, base_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_channels = base_width
        for i, n in enumerate(blocks):
            width = base_width * 2**i
            stage = []
            for b in range(n):
                stage.append(Bottleneck(in_channels, width, stride=2 if (b == 0 and i > 0) else 1))
                in_channels = width * Bottleneck.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet152(num_classes: int = 10, seed: int = 0) -> ResNet:
    """A randomly initialised ResNet-152 layout in eval mode (fixed `seed`)."""
    torch.manual_seed(seed)
    return ResNet(RESNET152_BLOCKS, num_classes=num_classes).eval()
