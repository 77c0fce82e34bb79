"""The benchmarks' ResNet-152 and DenseNet-201 layouts against the published architectures."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

from big_models import DenseNet, ResNet, densenet201, resnet152  # noqa: E402

# torchvision's resnet152 (1000 classes) has 60,192,808 parameters
# (torchvision.models.ResNet152_Weights.IMAGENET1K_V1.meta["num_params"]).
TORCHVISION_RESNET152_PARAMS = 60_192_808
# torchvision's densenet201 (1000 classes): 20,013,928 parameters (DenseNet201_Weights.IMAGENET1K_V1).
TORCHVISION_DENSENET201_PARAMS = 20_013_928


def test_resnet152_matches_torchvision_parameter_count():
    model = resnet152(num_classes=1000)
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_RESNET152_PARAMS


def test_resnet152_layout_and_names():
    model = resnet152()
    mods = dict(model.named_modules())
    # 3 convs in each of the 50 blocks, the stem and one projection per stage.
    assert sum(isinstance(m, nn.Conv2d) for m in mods.values()) == 3 * 50 + 1 + 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in mods.values()) == 155
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 8, 36, 3]
    assert "layer3.35.conv3" in mods and "layer1.0.downsample.0" in mods and "layer1.1.downsample" not in mods
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"blocks": (3, 8, 36)}, "blocks"),
        ({"blocks": (3, 0, 36, 3)}, "blocks"),
        ({"num_classes": 0}, "num_classes"),
        ({"base_width": 0}, "base_width"),
    ],
)
def test_resnet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNet(**kwargs)


def test_densenet201_matches_torchvision_parameter_count():
    model = densenet201(num_classes=1000)
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_DENSENET201_PARAMS


def test_densenet201_layout_and_names():
    model = densenet201()
    mods = dict(model.named_modules())
    # 2 convs per dense layer (6 + 12 + 48 + 32 = 98), the stem and 3 transitions.
    assert sum(isinstance(m, nn.Conv2d) for m in mods.values()) == 2 * 98 + 1 + 3
    assert "features.denseblock3.denselayer48.conv2" in mods and "features.transition3.pool" in mods
    assert "features.denseblock4.denselayer33" not in mods and "features.transition4" not in mods
    assert model.classifier.in_features == 1920
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 10)


@pytest.mark.parametrize("kwargs, match", [({"blocks": ()}, "blocks"), ({"blocks": (6, 0)}, "blocks"),
                                           ({"num_classes": 0}, "num_classes")])
def test_densenet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseNet(**kwargs)
