"""`log_layers(..., importance=True)`: Taylor importance and gradient norms, and a model left as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import decode_npz
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
from test_writer import _data, _model, _read


def _layer_blobs(logdir, run="run", step=0):
    blobs = _read(str(logdir))[run]["blobs"]
    out = {}
    for tag, series in blobs.items():
        if tag.startswith(metadata.LAYER_TAG_PREFIX):
            (blob,) = dict(series)[step]
            out[tag[len(metadata.LAYER_TAG_PREFIX) :]] = decode_npz(blob)
    return out


def _oracle(model, x, y):
    """Taylor and gradient norms of the first conv chain (conv -> BN) and the second conv, by plain autograd."""
    model = model.eval()
    a0 = model[1](model[0](x))
    a0.retain_grad()
    a4 = model[4](model[3](model[2](a0.clone())))
    a4.retain_grad()
    out = model[8](model[7](model[6](model[5](a4.clone()))))
    F.cross_entropy(out, y, reduction="sum").backward()
    res = {}
    for name, a in (("0", a0), ("4", a4)):
        taylor = (a * a.grad).sum(dim=(2, 3)).abs().mean(dim=0)
        grad_norm = a.grad.square().sum(dim=(2, 3)).mean(dim=0).sqrt()
        res[name] = (taylor.detach().numpy(), grad_norm.detach().numpy())
    return res


def test_taylor_and_grad_norm_match_plain_autograd(tmp_path):
    x, y = _data(16)
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(_model(), (x, y), step=0, importance=True)
        w.log_layers(_model(), (x, y), step=1)  # off by default
    layers = _layer_blobs(tmp_path)
    expected = _oracle(_model(), x, y)
    for name, (taylor, grad_norm) in expected.items():
        np.testing.assert_allclose(layers[name][metadata.KEY_TAYLOR], taylor, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(layers[name][metadata.KEY_GRAD_NORM], grad_norm, rtol=1e-4, atol=1e-7)
        assert layers[name][metadata.KEY_TAYLOR].dtype == np.float32
    # The pooling layers get them too (gradients reach them); step 1 has none.
    assert all(metadata.KEY_TAYLOR in arrays for arrays in layers.values())
    assert all(metadata.KEY_TAYLOR not in arrays for arrays in _layer_blobs(tmp_path, step=1).values())


def test_calls_of_one_step_average_like_one_call(tmp_path):
    x, y = _data(16)
    with ChannelExplorerWriter(str(tmp_path / "one")) as w:
        w.log_layers(_model(), (x, y), step=0, importance=True)
    with ChannelExplorerWriter(str(tmp_path / "two")) as w:
        w.log_layers(_model(), (x[:5], y[:5]), step=0, importance=True, write=False)
        w.log_layers(_model(), (x[5:], y[5:]), step=0, importance=True)
    one, two = _layer_blobs(tmp_path, "one"), _layer_blobs(tmp_path, "two")
    for name in one:
        for key in (metadata.KEY_TAYLOR, metadata.KEY_GRAD_NORM):
            np.testing.assert_allclose(two[name][key], one[name][key], rtol=1e-4, atol=1e-7)


def _snapshot(model):
    return {
        "grads": [(p, p.grad, None if p.grad is None else p.grad.clone()) for p in model.parameters()],
        "buffers": [b.clone() for b in model.buffers()],
        "training": [m.training for m in model.modules()],
    }


def _assert_unchanged(model, snap, buffers=None):
    for (p, grad, values), q in zip(snap["grads"], model.parameters()):
        assert q is p and q.grad is grad
        if grad is not None:
            assert torch.equal(q.grad, values)
    for before, after in zip(snap["buffers"] if buffers is None else buffers, model.buffers()):
        assert torch.equal(before, after)
    assert [m.training for m in model.modules()] == snap["training"]
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks


def _model_with_grads():
    model = _model()
    for i, p in enumerate(model.parameters()):
        p.grad = torch.full_like(p, float(i + 1)) if i % 2 == 0 else None
    return model


def _mixed_mode_model():
    model = _model_with_grads().train()
    model[3].eval()  # a mixed state must come back as it was
    return model


@pytest.mark.parametrize("eval_mode", [True, False])
def test_model_is_left_as_it_was(tmp_path, eval_mode):
    x, y = _data()
    # With eval_mode=False the capture forward itself updates the BatchNorm
    # statistics (as documented); the importance pass must add nothing to that.
    twin = _mixed_mode_model()
    with ChannelExplorerWriter(str(tmp_path / "twin"), eval_mode=eval_mode) as w:
        w.log_layers(twin, (x, y), step=0)
    model = _mixed_mode_model()
    snap = _snapshot(model)
    with ChannelExplorerWriter(str(tmp_path / "run"), eval_mode=eval_mode) as w:
        w.log_layers(model, (x, y), step=0, importance=True)
    _assert_unchanged(model, snap, buffers=list(twin.buffers()))
    if eval_mode:
        _assert_unchanged(model, snap)


class _Explode(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("backward exploded")


class _ExplodingModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = _model()

    def forward(self, x):
        return _Explode.apply(self.body(x))


def test_a_failing_backward_leaves_no_hook_and_no_step(tmp_path):
    model = _ExplodingModel().train()
    for i, p in enumerate(model.parameters()):
        p.grad = torch.full_like(p, float(i)) if i % 2 else None
    snap = _snapshot(model)
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        with pytest.raises(RuntimeError, match="backward exploded"):
            w.log_layers(model, (x, y), step=0, importance=True)
        _assert_unchanged(model, snap)
        w.log_layers(model, (x, y), step=0)  # the writer still works; only this call is recorded
    manifests = _read(str(tmp_path))["run"]["tensors"][metadata.MANIFEST_TAG]
    assert [(s, m["n_inputs"]) for s, m in manifests] == [(0, 12)]


def test_importance_needs_labels_and_logits(tmp_path):
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        with pytest.raises(ValueError, match="importance=True needs labels"):
            w.log_layers(_model(), x, step=0, importance=True)
        with pytest.raises(ValueError, match="labels go up to 5 but the logits have 4 classes"):
            w.log_layers(_model(), (x, y + 2), step=0, importance=True)
        features = nn.Sequential(*list(_model())[:4])  # a 4-D output, no logits
        with pytest.raises(ValueError, match=r"needs a model whose output holds \[N, K\] classification logits"):
            w.log_layers(features, (x, y), step=0, importance=True)
