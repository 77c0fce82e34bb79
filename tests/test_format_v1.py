"""A logdir of on-disk format version 1, committed as bytes, must keep loading.

``tests/data/logdir_v1/digits_v1`` was written by the writer of commit
b14b4de (format 1, before the manifest was typed) with::

    git archive b14b4de | tar -x -C /tmp/v1src
    PYTHONPATH=/tmp/v1src:/tmp/v1src/tests python3 -c "import logdir_fixtures as fx; \\
        fx.write_torch_run('/tmp/v1logdir', 'digits_v1', steps=(0, 1), n_inputs=20)"

that is `logdir_fixtures.tiny_cnn` (seed 0) on the first 20 scikit-learn
digits, logged at steps 0 and 1. The oracle is independent of the writer and
the reader: the digits themselves, and the model's activations recomputed here
with plain torch hooks.
"""

from __future__ import annotations

import functools
import io
import json
import os

import numpy as np
import pytest
from conftest import LOADERS, python_provider, rust_provider
from helpers import get as get_route
from helpers import make_client

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer.reader import Reader

LOGDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "logdir_v1")
RUN = "digits_v1"
N = 20


def _json(get, route, **params):
    resp = get(route, **params)
    assert resp.status_code == 200, (route, params, resp.get_data(as_text=True)[:300])
    return json.loads(resp.get_data(as_text=True))


@pytest.fixture(scope="module", params=LOADERS)
def provider(request):
    if request.param == "python":
        return python_provider(LOGDIR)
    return rust_provider(LOGDIR, expect_runs=[RUN])


@pytest.fixture(scope="module")
def activations():
    """Layer name -> float32 [N, C, h, w] activations of `tiny_cnn` on the digits, by torch hooks."""
    torch = pytest.importorskip("torch")
    model = fx.tiny_cnn(0)
    x, _ = fx.digits_batch(N)
    out = {}
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: out.__setitem__(name, o.detach().numpy()))
             for name, module in model.named_children()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return out


def test_the_fixture_is_small_and_version_1():
    files = [os.path.join(d, f) for d, _, fs in os.walk(LOGDIR) for f in fs]
    assert files and sum(os.path.getsize(f) for f in files) < 300_000


def test_reader_serves_the_v1_logdir(provider, activations):
    from sklearn.datasets import load_digits

    reader = Reader(provider, warned=set())
    assert reader.runs() == [RUN]
    assert reader.steps(RUN) == [0, 1]
    man = reader.typed_manifest(RUN, 1)
    assert man.version == 1 and man.n_inputs == N and man.class_names == tuple(str(i) for i in range(10))
    # Conv2d(1, 8), Conv2d(8, 12), MaxPool2d: the model's logged modules, with their channel counts.
    assert [(r.name, r.type, r.channels) for r in man.layers] == [("0", "Conv2d", 8), ("2", "Conv2d", 12),
                                                                  ("4", "MaxPool2d", 12)]
    assert [r.name for r in man.layers_with_stage("pre")] == ["0", "2", "4"] and man.layers_with_stage("post") == []
    inputs = reader.inputs(RUN, 0)
    np.testing.assert_array_equal(inputs["labels"], load_digits().target[:N])
    for name, act in activations.items():
        if man.layer(name) is None:
            continue
        flat = np.abs(act.reshape(N, act.shape[1], -1))
        np.testing.assert_allclose(reader.summary_matrix(RUN, 1, name, "max"), flat.max(axis=2), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(reader.summary_matrix(RUN, 1, name, "mean"), flat.mean(axis=2), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(reader.summary_matrix(RUN, 1, name, "l2"),
                                   np.sqrt((act.reshape(N, act.shape[1], -1) ** 2).sum(axis=2)), rtol=1e-4, atol=1e-5)
    # Quantized maps come back within one quantization step of the real activation.
    fmap, lo, hi = reader.activation_map(RUN, 1, "0", 3, 5)
    np.testing.assert_allclose(fmap, activations["0"][3, 5], atol=(hi - lo) / 255 * 0.51 + 1e-6)


def test_every_route_serves_the_v1_logdir(provider):
    from PIL import Image

    get = functools.partial(get_route, make_client(provider)[2])
    layer = {"run": RUN, "layer": "2"}
    assert [r["run"] for r in _json(get, "/runs")["runs"]] == [RUN]
    assert [row["name"] for row in _json(get, "/layers", run=RUN)["layers"]] == ["0", "2", "4"]
    assert _json(get, "/summaries", **layer)["shape"] == [N, 12]
    for route, params in [("/inputs", {"run": RUN}), ("/scatter", dict(layer, method="pca")), ("/jaccard", layer),
                          ("/jaccard_cell", dict(layer, i=0, j=1)), ("/hierarchy", layer), ("/heatmap", layer),
                          ("/dataset", {"run": RUN}), ("/timeline", {"run": RUN}), ("/trajectory", layer),
                          ("/diff", dict(layer, step=0, step_b=1))]:
        _json(get, route, **params)
    with Image.open(io.BytesIO(get("/thumbnail", run=RUN, index=4).get_data())) as img:
        assert img.size[0] > 0
    resp = get("/overlay", index=0, channel=1, **layer)
    assert resp.status_code == 200 and resp.get_data()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_round_trips_and_fills_format_1_defaults(provider):
    from tensorboard_plugin_channelexplorer.errors import CorruptDataError
    from tensorboard_plugin_channelexplorer.metadata import DEFAULT_STAGES, SUMMARY_FUNCTIONS, Manifest

    stored = Reader(provider, warned=set()).manifest(RUN, 0)
    assert Manifest.from_json(stored).to_json() == stored  # what the writer stores, field for field
    # The fewest fields a format-1 manifest can have: the optional ones take their documented defaults.
    minimal = Manifest.from_json({"n_inputs": 3, "class_names": ["a"], "layers": [{"name": "conv", "channels": 4}]})
    row = minimal.layer("conv")
    assert (row.stages, row.functions, row.has_maps, row.has_filter_norm) == (DEFAULT_STAGES, SUMMARY_FUNCTIONS,
                                                                            False, False)
    assert minimal.layers_with_stage("pre") == [row] and minimal.layers_with_stage("post") == []
    assert (minimal.has_predictions, minimal.has_thumbnails, minimal.steps_written, minimal.version) == (
        False, False, None, 1)
    for bad, needle in [({"class_names": [], "layers": []}, "'n_inputs' is missing"),
                        ({"n_inputs": 3, "layers": []}, "class_names"),
                        ({"n_inputs": 3, "class_names": [], "layers": [{"name": "x"}]}, "'channels' is missing"),
                        ({"n_inputs": -1, "class_names": [], "layers": []}, "'n_inputs' must be an integer >= 0"),
                        ({"n_inputs": 3, "class_names": [], "layers": [{"name": "x", "channels": 2, "stages": "pre"}]},
                         "'stages' must be a list"),
                        ([], "not a manifest object")]:
        with pytest.raises(CorruptDataError, match=needle):
            Manifest.from_json(bad, "manifest")
