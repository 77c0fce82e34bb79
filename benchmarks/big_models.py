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


DENSENET201_BLOCKS = (6, 12, 48, 32)


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (to ``bn_size * growth`` channels), BN-ReLU-3x3 conv (to ``growth``), concatenated on."""

    def __init__(self, in_channels: int, growth: int, bn_size: int = 4):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv (halving the channels), 2x2 average pooling."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = nn.AvgPool2d(2, stride=2)


class DenseNet(nn.Module):
    """A DenseNet-BC with torchvision's module names (``features.denseblock3.denselayer17.conv2``)."""

    def __init__(self, blocks: Sequence[int] = DENSENET201_BLOCKS, num_classes: int = 10, growth: int = 32,
                 init_channels: int = 64):
        super().__init__()
        blocks = tuple(blocks)
        if not blocks or any(not isinstance(b, int) or b < 1 for b in blocks):
            raise ValueError(f"blocks must be positive ints (dense layers per block), got {blocks!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        features = nn.Sequential()
        features.add_module("conv0", nn.Conv2d(3, init_channels, 7, stride=2, padding=3, bias=False))
        features.add_module("norm0", nn.BatchNorm2d(init_channels))
        features.add_module("relu0", nn.ReLU(inplace=True))
        features.add_module("pool0", nn.MaxPool2d(3, stride=2, padding=1))
        channels = init_channels
        for i, n in enumerate(blocks):
            block = nn.Sequential()
            for j in range(n):
                block.add_module(f"denselayer{j + 1}", DenseLayer(channels, growth))
                channels += growth
            features.add_module(f"denseblock{i + 1}", block)
            if i != len(blocks) - 1:
                features.add_module(f"transition{i + 1}", Transition(channels, channels // 2))
                channels //= 2
        features.add_module("norm5", nn.BatchNorm2d(channels))
        self.features = features
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.features(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def densenet201(num_classes: int = 10, seed: int = 0) -> DenseNet:
    """A randomly initialised DenseNet-201 layout (Huang et al., 2017) in eval mode (fixed `seed`)."""
    torch.manual_seed(seed)
    return DenseNet(DENSENET201_BLOCKS, num_classes=num_classes).eval()
