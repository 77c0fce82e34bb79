"""Odd models and data through the real writer and every route.

NaN/Inf activations, an empty class and a one-input class, 1-channel layers,
1x1 spatial maps, a 4096-channel layer, labels as strings / ints / numpy /
tensors, a batch of one input, layers whose output is not 4-D. Each gives a
clear result at write time (data, or a ValueError / warning naming the
problem) and every route answers 200 or a clear JSON 4xx, never a 500.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from conftest import python_provider
from helpers import get_status_body as get
from helpers import make_client
from torch import nn

import logdir_fixtures as fx


pytestmark = pytest.mark.skipif(not fx.writer_available(), reason="writer.py is not available")


class NanNet(nn.Module):
    """A conv whose output is 0/0 = NaN and x/0 = +-Inf, feeding a second conv."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        h = self.conv(x)
        h = torch.where(h > 0, h / torch.zeros_like(h), torch.zeros_like(h) / torch.zeros_like(h))
        return self.conv2(h)


def conv_relu(c_out=3):
    return nn.Sequential(nn.Conv2d(1, c_out, 3), nn.ReLU())


X = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
LABEL_KINDS = {
    "str": (["cat", "dog", "cat", "dog", "cat", "bird"], [0, 1, 0, 1, 0, 2], ["cat", "dog", "bird"]),
    "int": ([0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2], ["0", "1", "2"]),
    "numpy": (np.array([2, 1, 2, 0, 1, 2]), [2, 1, 2, 0, 1, 2], ["0", "1", "2"]),
    "numpy_uint8": (np.array([0, 1, 2, 0, 1, 2], np.uint8), [0, 1, 2, 0, 1, 2], ["0", "1", "2"]),
    "numpy_str": (np.array(["a", "b", "a", "b", "a", "b"]), [0, 1, 0, 1, 0, 1], ["a", "b"]),
    "tensor": (torch.tensor([1, 1, 0, 0, 2, 2]), [1, 1, 0, 0, 2, 2], ["0", "1", "2"]),
    "float_tensor": (torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0, 2.0]), [0, 1, 2, 0, 1, 2], ["0", "1", "2"]),
}


def _write(root, run, model, x, labels, **kw):
    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    with ChannelExplorerWriter(os.path.join(root, run)) as w:
        w.log_layers(model, x, labels, step=0, **kw)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """A logdir with one run per odd case, and a client over it."""
    root = str(tmp_path_factory.mktemp("odd"))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _write(root, "nan", NanNet(), X, [0, 1, 0, 1, 0, 1])
        xi = X.clone()
        xi[0, 0, 0, 0], xi[1, 0, 3, 3] = float("inf"), float("nan")
        _write(root, "inf_input", conv_relu(), xi, [0, 1, 0, 1, 0, 1])
        # Class "b" (1) has no input; class "c" (2) has exactly one.
        _write(root, "empty_class", conv_relu(), X, [0, 0, 0, 0, 3, 2], class_names=["a", "b", "c", "d"])
        _write(root, "one_channel", nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)),
               X, [0, 1, 2, 0, 1, 2])
        _write(root, "wide", nn.Sequential(nn.Conv2d(1, 4096, 3), nn.ReLU(), nn.MaxPool2d(6)), X, [0, 1, 2, 0, 1, 2])
        _write(root, "batch1", nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(108, 5)),
               X[:1], [3])
        for kind, (labels, _ids, _names) in LABEL_KINDS.items():
            _write(root, f"labels_{kind}", conv_relu(), X, labels)
    plugin, _, client = make_client(python_provider(root))
    return root, client, set(plugin.get_plugin_apps())


def sweep(client, routes, run, methods=("pca",)) -> dict:
    """Every route on every layer of `run` with valid parameters: (route, layer, extra) -> (status, body)."""
    status, man = get(client, "/layers", run=run)
    assert status == 200, man
    out = {}
    layer_routes = [("/summaries", {}), ("/jaccard", {}), ("/jaccard", {"normalize": 1}),
                    ("/jaccard_cell", {"i": 0, "j": man["n_inputs"] - 1}), ("/hierarchy", {}),
                    ("/heatmap", {}), ("/heatmap", {"order": "variance"}),
                    ("/overlay", {"index": 0, "channel": 0}), ("/timeline", {}),
                    ("/trajectory", {"method": "pca"}), ("/diff", {"run_a": run, "run_b": run})]
    layer_routes += [("/scatter", {"method": m}) for m in methods] + [("/scatter", {"method": "pca", "k": 1})]
    for layer in [lay["name"] for lay in man["layers"]]:
        for route, extra in layer_routes:
            if route in routes:
                out[(route, layer, tuple(extra.items()))] = get(client, route, run=run, layer=layer, **extra)
    for route, extra in [("/inputs", {}), ("/graph", {}), ("/thumbnail", {"index": 0}), ("/dataset", {}),
                         ("/dataset", {"reference": man["n_inputs"] and 0, "k": 1})]:
        out[(route, None, tuple(extra.items()))] = get(client, route, run=run, **extra)
    for key, (status, body) in out.items():
        assert status in (200, 400, 404), (run, key, status, body)
        if status != 200:
            assert isinstance(body, dict) and body["error"], (run, key, body)
        if key[0] == "/overlay" and status == 404:
            assert "no activation map" in body["error"]
    return out


def test_nan_and_inf_activations(odd):
    _, client, routes = odd
    for run in ("nan", "inf_input"):
        out = sweep(client, routes, run, methods=("pca", "tsne", "mds"))
        status, body = get(client, "/summaries", run=run, layer=get(client, "/layers", run=run)[1]["layers"][0]["name"])
        assert status == 200
        values = np.asarray(body["values"], dtype=np.float64)  # null -> nan: JSON stays valid
        assert values.shape[0] == 6
        for (route, _layer, _extra), (status, body) in out.items():
            if route in ("/summaries", "/jaccard", "/heatmap", "/scatter", "/inputs"):
                assert status == 200, (run, route, body)


def test_empty_class_and_one_input_class(odd):
    _, client, routes = odd
    out = sweep(client, routes, "empty_class", methods=("pca", "tsne"))
    status, jac = get(client, "/jaccard", run="empty_class", layer="0")
    assert status == 200 and jac["class_names"] == ["a", "b", "c", "d"]
    assert 1 not in jac["classes"] and {0, 2, 3} <= set(jac["classes"])
    assert get(client, "/hierarchy", run="empty_class", layer="0")[0] == 200
    # The empty class as the dataset reference: a clear 400 naming the parameter.
    status, body = get(client, "/dataset", run="empty_class", reference=1)
    assert status == 400 and body["parameter"] == "reference" and "no inputs" in body["error"]
    status, body = get(client, "/dataset", run="empty_class", reference=2)  # one input
    assert status == 200 and any(c["id"] == 2 and c["count"] == 1 for c in body["classes"])
    assert all(s == 200 for (r, _l, _e), (s, _b) in out.items() if r in ("/scatter", "/heatmap", "/summaries"))


def test_one_channel_and_1x1_maps(odd):
    _, client, routes = odd
    sweep(client, routes, "one_channel", methods=("pca", "tsne", "mds"))
    layers = {lay["name"]: lay for lay in get(client, "/layers", run="one_channel")[1]["layers"]}
    assert [lay["channels"] for lay in layers.values()] == [1, 1]
    assert [lay["shape"][1:] for lay in layers.values()] == [[6, 6], [1, 1]]
    for name in layers:
        for method in ("pca", "tsne", "mds"):
            status, body = get(client, "/scatter", run="one_channel", layer=name, method=method)
            assert status == 200, (name, method, body)
            assert len(body["points"]) == 6
        status, png = get(client, "/overlay", run="one_channel", layer=name, index=0, channel=0)
        assert status in (200, 404)
        if status == 200:
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
    status, body = get(client, "/overlay", run="one_channel", layer="0", index=0, channel=1)
    assert status == 400 and body["parameter"] == "channel"


def test_4096_channels(odd):
    _, client, routes = odd
    sweep(client, routes, "wide")
    status, body = get(client, "/heatmap", run="wide", layer="0", limit=4096)
    assert status == 200 and body["total_channels"] == 4096 and len(body["channels"]) == 4096
    status, body = get(client, "/heatmap", run="wide", layer="0", limit=4097)
    assert status == 400 and body["parameter"] == "limit"
    status, body = get(client, "/summaries", run="wide", layer="2")
    assert status == 200 and body["shape"] == [6, 4096]


def test_batch_of_one(odd):
    _, client, routes = odd
    out = sweep(client, routes, "batch1", methods=("pca", "tsne", "mds"))
    status, inputs = get(client, "/inputs", run="batch1")
    assert status == 200 and inputs["n"] == 1 and inputs["labels"] == [3]
    for route in ("/scatter", "/jaccard", "/heatmap", "/summaries", "/hierarchy", "/jaccard_cell"):
        statuses = {s for (r, _l, _e), (s, _b) in out.items() if r == route}
        assert statuses == {200}, (route, statuses)
    status, body = get(client, "/scatter", run="batch1", layer="0", method="pca", k=2)
    assert status == 400 and body["parameter"] == "k"


@pytest.mark.parametrize("kind", sorted(LABEL_KINDS))
def test_label_kinds(odd, kind):
    _, client, _routes = odd
    _labels, ids, names = LABEL_KINDS[kind]
    status, body = get(client, "/inputs", run=f"labels_{kind}")
    assert status == 200
    assert body["labels"] == ids and body["class_names"] == names


def test_bad_labels_raise_clear_errors(tmp_path):
    model = conv_relu()
    for labels, match in (([0, -1, 2, 0, 1, 2], ">= 0"), ([0.5, 1, 2, 0, 1, 2], "integer"),
                          ([0, 1, 2], "6 inputs"), ([True] * 6, "integer")):
        with pytest.raises(ValueError, match=match):
            _write(str(tmp_path), "bad", model, X, labels)
    with pytest.raises(ValueError, match="class_names"):
        _write(str(tmp_path), "bad2", model, X, [0, 1, 2, 0, 1, 5], class_names=["a", "b", "c"])


def test_non_4d_layers(tmp_path, odd):
    _, client, _routes = odd
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))
    # Default selection: nothing 4-D, so nothing but the inputs is logged, with a warning saying so.
    with pytest.warns(UserWarning, match="4-D"):
        _write(str(tmp_path), "mlp", mlp, X, [0, 1, 2, 0, 1, 2])
    # Explicitly selected: a ValueError naming the layer and its shape.
    mixed = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(108, 5))
    with pytest.raises(ValueError, match=r"'2'.*\[N, 5\]"):
        _write(str(tmp_path), "mixed", mixed, X, [0, 1, 2, 0, 1, 2], layers=["2"])
    # The model's 4-D layers are still logged by default next to a non-4-D head (batch1's Linear is skipped).
    status, man = get(client, "/layers", run="batch1")
    assert [lay["name"] for lay in man["layers"]] == ["0"]
    # The inputs-only run is served; layer routes answer a clear 400.
    _, _, mlp_client = make_client(python_provider(str(tmp_path)))
    status, man = get(mlp_client, "/layers", run="mlp")
    assert status == 200 and man["layers"] == []
    status, body = get(mlp_client, "/jaccard", run="mlp", layer="1")
    assert status == 400 and body["parameter"] == "layer"
    status, body = get(mlp_client, "/dataset", run="mlp")
    assert status == 400 and body["error"]
