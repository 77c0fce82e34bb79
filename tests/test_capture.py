"""Tests of layer discovery, selection and hook capture (capture.py)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
import torch.nn.functional as F

from tensorboard_plugin_channelexplorer.capture import (
    capture,
    discover_layers,
    is_activation,
    run_capture,
    select_layers,
)
from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS
from tensorboard_plugin_channelexplorer.summaries import summarize


class Plain(nn.Module):
    """conv->BN->ReLU(inplace) x2, pool, conv->ReLU, pool (shared), flatten, fc."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 12, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(12)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(12, 16, 3, padding=1)
        self.act3 = nn.GELU()
        self.fc = nn.Linear(16 * 2 * 2, 5)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.pool(self.relu2(self.bn2(self.conv2(x))))
        x = self.pool(self.act3(self.conv3(x)))
        return self.fc(torch.flatten(x, 1))


class MyConv(nn.Conv2d):
    pass


class SamePadConv2d(nn.Module):
    """A conv wrapper holding a child conv (not a Conv2d subclass)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.pad = nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(cin, cout, 3)

    def forward(self, x):
        return self.conv(self.pad(x))


class Block(nn.Module):
    """A residual block with a shared ReLU and an in-place add."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = SamePadConv2d(3, 8)
        self.stem_bn = nn.BatchNorm2d(8)
        self.stem_act = nn.SiLU()
        self.my = MyConv(8, 8, 1)
        self.layer1 = nn.Sequential(Block(8), Block(8))
        self.up = nn.Upsample(scale_factor=2)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem_act(self.stem_bn(self.stem(x)))
        x = self.layer1(self.my(x))
        return self.head(self.up(x))


class Raises(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


def _x(n=6, c=3, s=8, seed=0):
    return torch.randn(n, c, s, s, generator=torch.Generator().manual_seed(seed))


def _randomize_bn(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.num_features, generator=g))


def _no_hooks(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_default_set_one_entry_per_chain_named_by_first_module():
    model = Plain()
    disc = discover_layers(model, _x(2))
    entries = select_layers(disc, model)
    assert [e.name for e in entries] == ["conv1", "conv2", "pool", "conv3", "pool:1"]
    e1 = entries[0]
    assert (e1.pre_module, e1.post_module, e1.norm_module) == ("bn1", "relu1", "bn1")
    assert e1.shape == (8, 8, 8) and e1.type == "Conv2d" and e1.weight_module == "conv1"
    assert entries[3].pre_module == "conv3" and entries[3].post_module == "act3"
    assert entries[2].post_module is None
    assert (entries[4].pre_module, entries[4].pre_call) == ("pool", 1)


def test_inplace_relu_pre_equals_bn_output_and_post_equals_relu_output():
    torch.manual_seed(0)
    model = Plain()
    _randomize_bn(model)
    model.eval()
    x = _x()
    _, res = capture(model, x, stage="both")
    with torch.no_grad():
        bn1 = model.bn1(model.conv1(x))
        ref_pre = summarize(bn1)
        ref_post = summarize(F.relu(bn1))
        ref_conv3 = summarize(F.gelu(model.conv3(model.pool(F.relu(model.bn2(model.conv2(F.relu(bn1))))))))
    for fn in SUMMARY_FUNCTIONS:
        torch.testing.assert_close(res.summaries["conv1"][f"pre/{fn}"], ref_pre[fn])
        torch.testing.assert_close(res.summaries["conv1"][f"post/{fn}"], ref_post[fn])
        torch.testing.assert_close(res.summaries["conv3"][f"post/{fn}"], ref_conv3[fn])
    # The BN output has negative values, so pre and post really differ.
    assert not torch.allclose(res.summaries["conv1"]["pre/mean"], res.summaries["conv1"]["post/mean"])
    assert res.stages["conv1"] == ["pre", "post"] and res.stages["pool"] == ["pre"]


def test_stage_post_only_records_post_where_a_nonlinearity_follows():
    model = Plain().eval()
    _, res = capture(model, _x(), stage="post")
    assert set(res.summaries["conv1"]) == {f"post/{fn}" for fn in SUMMARY_FUNCTIONS}
    assert set(res.summaries["pool"]) == {f"pre/{fn}" for fn in SUMMARY_FUNCTIONS}
    assert res.stages["conv1"] == ["post"]
    with pytest.raises(ValueError, match="stage"):
        capture(model, _x(), stage="after")


def test_selection_by_name_glob_and_type():
    model = Plain()
    disc = discover_layers(model, _x(2))
    names = lambda spec: [e.name for e in select_layers(disc, model, spec)]  # noqa: E731
    assert names(["conv2"]) == ["conv2"]
    assert names("bn2") == ["conv2"]  # a chain member resolves to its chain
    assert names(["pool"]) == ["pool", "pool:1"]  # a shared module: every call
    assert names(["pool:1"]) == ["pool:1"]
    assert names(["conv*"]) == ["conv1", "conv2", "conv3"]
    assert names([nn.MaxPool2d]) == ["pool", "pool:1"]
    assert names([nn.Conv2d, "pool:1"]) == ["conv1", "conv2", "conv3", "pool:1"]
    with pytest.raises(ValueError, match="did you mean"):
        select_layers(disc, model, ["conv_1"])
    with pytest.raises(ValueError, match=r"fc.*not \[N, C, H, W\]"):
        select_layers(disc, model, ["fc"])
    with pytest.raises(ValueError, match="nonlinearity.*conv1"):
        select_layers(disc, model, ["relu1"])
    with pytest.raises(ValueError, match="matches no module"):
        select_layers(disc, model, ["nothing*"])
    with pytest.warns(UserWarning, match="fc"):
        assert len(select_layers(disc, model, ["*"])) == 5
    with pytest.raises(ValueError):
        select_layers(disc, model, [3])


def test_subclass_wrapper_blocks_and_no_duplicate_tensors():
    model = Mixed()
    disc = discover_layers(model, _x(2))
    default = [e.name for e in select_layers(disc, model)]
    assert default == [
        "stem", "my",
        "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2",
        "up", "head",
    ]  # fmt: skip
    stem = disc.entries[0]
    assert stem.type == "SamePadConv2d" and stem.pre_module == "stem_bn" and stem.post_module == "stem_act"
    assert stem.weight_module == "stem.conv"
    assert [e.name for e in select_layers(disc, model, "stem.conv")] == ["stem"]
    # Blocks only when selected; a Sequential returning its last block's
    # tensor is an alias, not a second entry.
    blocks = [e.name for e in select_layers(disc, model, ["layer1*"]) if e.block]
    assert blocks == ["layer1.0", "layer1.1"]
    assert [e.name for e in select_layers(disc, model, "layer1")] == ["layer1.1"]
    # bn2's output is modified by the in-place add before the ReLU: no post stage.
    conv2 = next(e for e in disc.entries if e.name == "layer1.0.conv2")
    assert conv2.pre_module == "layer1.0.bn2" and conv2.post_module is None
    conv1 = next(e for e in disc.entries if e.name == "layer1.0.conv1")
    assert (conv1.post_module, conv1.post_call) == ("layer1.0.relu", 0)

    entries = select_layers(disc, model, ["*"])
    model.eval()
    res = run_capture(model, _x(), entries, stage="both")
    with torch.no_grad():
        ref = summarize(model.layer1[0].bn2(model.layer1[0].conv2(
            F.relu(model.layer1[0].bn1(model.layer1[0].conv1(model.my(F.silu(model.stem_bn(model.stem(_x()))))))))))
    # Summarized before the in-place add changed the tensor.
    torch.testing.assert_close(res.summaries["layer1.0.conv2"]["pre/l2"], ref["l2"])
    # No two entries summarize the same tensor.
    flat = [v["pre/l2"] for v in res.summaries.values()]
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            assert flat[i].shape != flat[j].shape or not torch.equal(flat[i], flat[j])


def test_hooks_removed_after_failing_forward():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), Raises())
    with pytest.raises(RuntimeError, match="boom"):
        discover_layers(model, _x(2))
    assert _no_hooks(model)
    ok = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    disc = discover_layers(ok, _x(2))
    entries = select_layers(disc, ok)
    ok.append(Raises())
    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        run_capture(ok, _x(), entries, stage="both", map_sizes={"0": (2, 2)})
    assert _no_hooks(ok)
    assert all(m.training for m in ok.modules())


def test_training_flags_outputs_and_running_stats_unchanged_and_no_grad():
    model = Mixed()
    _randomize_bn(model)
    model.train()
    model.layer1[1].eval()  # a mixed state must come back exactly
    flags = [m.training for m in model.modules()]
    stats = [b.clone() for b in model.buffers()]
    x = _x()
    entries, res = capture(model, x, layers=["*"], stage="both")
    assert [m.training for m in model.modules()] == flags
    assert all(torch.equal(a, b) for a, b in zip(stats, model.buffers()))
    model.eval()
    with torch.no_grad():
        ref = model(x)
    assert torch.equal(res.output, ref)
    assert res.output.grad_fn is None and not res.output.requires_grad
    for d in res.summaries.values():
        for v in d.values():
            assert v.grad_fn is None and v.device.type == "cpu" and v.dtype == torch.float32
    assert _no_hooks(model)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype):
    model = Plain().eval()
    x = _x()
    try:
        model_h = Plain().to(dtype).eval()
        model_h.load_state_dict({k: v.to(dtype) for k, v in model.state_dict().items()})
        with torch.no_grad():
            ref = model_h(x.to(dtype))
    except RuntimeError as exc:  # pragma: no cover - a CPU build without the kernels
        pytest.skip(f"{dtype} not supported here: {exc}")
    _, res = capture(model_h, x.to(dtype), stage="both")
    assert torch.equal(res.output, ref)
    _, res32 = capture(model, x, stage="both")
    for name, d in res.summaries.items():
        for key, v in d.items():
            assert v.dtype == torch.float32 and torch.isfinite(v).all()
            if not key.endswith("otsu"):  # a threshold can move a whole bin in half precision
                torch.testing.assert_close(v, res32.summaries[name][key], rtol=0.05, atol=0.05)


def test_channels_last():
    model = Mixed().eval()
    x = _x()
    _, ref = capture(model, x, stage="both")
    model_cl = Mixed().to(memory_format=torch.channels_last).eval()
    model_cl.load_state_dict(model.state_dict())
    _, res = capture(model_cl, x.to(memory_format=torch.channels_last), stage="both")
    for name, d in ref.summaries.items():
        for key, v in d.items():
            # Conv results differ in the last bits between layouts, which can
            # move an Otsu threshold across a bin edge: compare the rest tightly.
            if not key.endswith("otsu"):
                torch.testing.assert_close(res.summaries[name][key], v, rtol=1e-4, atol=1e-4)


def test_maps_are_downsampled_copies_with_global_range():
    model = Plain()
    _randomize_bn(model)
    model.eval()
    x = _x()
    disc = discover_layers(model, x[:2])
    entries = select_layers(disc, model)
    res = run_capture(model, x, entries, map_sizes={"conv1": (4, 4), "pool": (4, 4)}, map_count=3)
    maps, lo, hi = res.maps["conv1"]
    assert maps.shape == (3, 8, 4, 4) and set(res.maps) == {"conv1", "pool"}
    with torch.no_grad():
        bn1 = model.bn1(model.conv1(x))
    assert lo == pytest.approx(float(bn1.min())) and hi == pytest.approx(float(bn1.max()))
    assert lo < 0  # taken before the in-place ReLU
    torch.testing.assert_close(maps, F.adaptive_avg_pool2d(bn1[:3], 4))


def test_is_activation_and_non_4d_layers_are_skipped():
    class Swish(nn.Module):
        def forward(self, x):
            return x * torch.sigmoid(x)

    assert is_activation(nn.ReLU()) and is_activation(Swish()) and not is_activation(nn.Conv2d(1, 1, 1))
    model = nn.Sequential(nn.Conv2d(3, 4, 3), Swish(), nn.Flatten(), nn.Unflatten(1, (4, 6, 6)), nn.Identity())
    disc = discover_layers(model, _x(2))
    assert [(e.name, e.post_module) for e in disc.default_entries()] == [("0", "1")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        select_layers(disc, model)


def test_validation_errors():
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        discover_layers(Plain(), torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        capture(Plain(), torch.zeros(3, 8, 8))


def test_custom_conv_with_own_weight_is_a_layer():
    class StdConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 3, 3, 3))

        def forward(self, x):
            w = (self.weight - self.weight.mean()) / self.weight.std()
            return F.conv2d(x, w, padding=1)

    model = nn.Sequential(StdConv(), nn.BatchNorm2d(4), nn.ReLU())
    disc = discover_layers(model, _x(2))
    (entry,) = select_layers(disc, model)
    assert (entry.name, entry.type, entry.pre_module, entry.post_module, entry.weight_module) == ("0", "StdConv", "1", "2", "0")
