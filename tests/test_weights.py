"""Filter weights as [C_out, C_in] matrices: the reduction, which layers get them, and the byte budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.weights import filter_weights, weights_bytes
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
from test_importance import _layer_blobs
from test_writer import _data, _model


def test_reduction_golden_case():
    conv = nn.Conv2d(3, 2, 2, bias=False)
    with torch.no_grad():
        signs = torch.tensor([1.0, -1.0, 1.0, 1.0]).repeat(6)  # every kernel mixes signs
        conv.weight.copy_(((torch.arange(24, dtype=torch.float32) - 11.5) * signs).view(2, 3, 2, 2))
    w_abs, w_sum = filter_weights(conv)
    w = conv.weight.detach().numpy()
    for o in range(2):
        for i in range(3):
            kernel = [float(w[o, i, a, b]) for a in range(2) for b in range(2)]
            assert w_abs[o, i].item() == pytest.approx(sum(abs(v) for v in kernel))
            assert w_sum[o, i].item() == pytest.approx(sum(kernel))
    assert w_abs.shape == (2, 3) and w_abs.dtype == torch.float32
    assert weights_bytes(conv) == 2 * 4 * 2 * 3


@pytest.mark.parametrize(
    "module",
    [nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(4, 8, 3, groups=2), nn.ConvTranspose2d(4, 8, 3), nn.Linear(4, 3), nn.BatchNorm2d(4)],
    ids=["depthwise", "grouped", "transposed", "linear", "batchnorm"],
)
def test_layers_whose_weights_do_not_map_channel_to_channel_give_none(module):
    assert filter_weights(module) is None
    assert weights_bytes(module) == 0


def test_writer_stores_weights_within_the_budget(tmp_path):
    x, y = _data()
    model = _model()  # conv "0": 6 x 1 (48 bytes), conv "4": 8 x 6 (384 bytes)
    for run, budget in (("all", 4 * 2**20), ("first", 100), ("budget_384", 384), ("none", 0)):
        with ChannelExplorerWriter(str(tmp_path / run), weights_budget_bytes=budget) as w:
            w.log_layers(model, (x, y), step=0)
    got = {
        run: {name for name, arrays in _layer_blobs(tmp_path, run).items() if metadata.KEY_WEIGHT_ABS in arrays}
        for run in ("all", "first", "budget_384", "none")
    }
    assert got == {"all": {"0", "4"}, "first": {"0"}, "budget_384": {"0"}, "none": set()}
    layers = _layer_blobs(tmp_path, "all")
    w4 = model[4].weight.detach().numpy()
    assert layers["4"][metadata.KEY_WEIGHT_ABS].shape == (8, 6)
    np.testing.assert_allclose(layers["4"][metadata.KEY_WEIGHT_SUM][2, 5], w4[2, 5].sum(), rtol=1e-6)
    np.testing.assert_allclose(layers["4"][metadata.KEY_WEIGHT_ABS][2, 5], np.abs(w4[2, 5]).sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="weights_budget_bytes must be a non-negative int, got -1"):
        ChannelExplorerWriter(str(tmp_path / "bad"), weights_budget_bytes=-1)


def test_depthwise_layers_get_no_weights(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.Flatten(), nn.Linear(256, 4))
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(model, (x, y), step=0)
    layers = _layer_blobs(tmp_path)
    assert metadata.KEY_WEIGHT_ABS in layers["0"] and metadata.KEY_WEIGHT_ABS not in layers["1"]
