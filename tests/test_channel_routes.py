"""The channel routes over real event files, via a werkzeug test client (Python loader)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import python_provider
from helpers import get_json, make_client

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer.views import channels as channel_views

LAYERS = (
    ("features.0", "Conv2d", (6, 4, 4), True, True),
    ("features.3", "Conv2d", (9, 2, 2), True, False),
    ("classifier", "Linear", (3,), False, True),
)
N = 30
STEPS = (0, 1, 2)


def _prototype_columns(rng, groups, n=N):
    """Columns that are noisy copies of one random positive profile per group."""
    protos = rng.gamma(2.0, 1.0, (n, int(groups.max()) + 1))
    return (protos[:, groups] + 0.05 * rng.gamma(1.0, 1.0, (n, groups.size))).astype(np.float32)


@pytest.fixture(scope="module")
def channel_logdir(tmp_path_factory):
    """A run whose features.0 has 3 channel groups, features.3 2 groups fed by a block weight matrix."""
    root = str(tmp_path_factory.mktemp("channel_logdir"))
    rng = np.random.default_rng(0)
    g0 = np.array([0, 1, 2, 0, 1, 2])
    g3 = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1])
    w_abs = np.where(g3[:, None] == (g0[None, :] == 2), 1.0, 0.02).astype(np.float32)  # group 2 -> 1, 0/1 -> 0
    w_sum = (0.5 * w_abs).astype(np.float32)
    events, expected = [], {}
    for step in STEPS:
        data = fx.synthetic_step_data(n_inputs=N, layers=LAYERS, seed=step)
        s0, s3 = _prototype_columns(rng, g0), _prototype_columns(rng, g3)
        for key in list(data["layers"]["features.0"]):
            if key.startswith("pre/"):
                data["layers"]["features.0"][key] = s0 + step
                data["layers"]["features.3"][key] = s3
        data["layers"]["features.0"]["taylor"] = np.linspace(0.0, 1.0, 6).astype(np.float32)
        data["layers"]["features.3"]["weight_abs"] = w_abs
        data["layers"]["features.3"]["weight_sum"] = w_sum
        data["layers"]["classifier"]["weight_abs"] = np.ones((3, 36), np.float32)
        man = fx.manifest_for(data, layers=LAYERS, steps_written=step + 1)
        events.append(fx.step_event(step, data, man, fx.graph_for(LAYERS)))
        expected[step] = data
    fx.write_events(os.path.join(root, "ch"), events)
    # A run whose optional arrays are corrupt: a taylor of the wrong length, |sum w| > sum |w|.
    bad = fx.synthetic_step_data(n_inputs=N, layers=LAYERS, seed=5)
    bad["layers"]["features.0"]["taylor"] = np.ones(4, np.float32)
    bad["layers"]["features.3"]["weight_abs"] = np.ones((9, 6), np.float32)
    bad["layers"]["features.3"]["weight_sum"] = np.full((9, 6), 2.0, np.float32)
    fx.write_events(os.path.join(root, "bad"), [fx.step_event(0, bad, fx.manifest_for(bad, layers=LAYERS),
                                                              fx.graph_for(LAYERS))])
    return root, expected, g0, g3


@pytest.fixture(scope="module")
def client(channel_logdir):
    return make_client(python_provider(channel_logdir[0]))[2]


R = {"run": "ch", "step": 2, "layer": "features.0", "fn": "otsu"}


def test_channel_clusters_route(client, channel_logdir):
    _, expected, g0, _ = channel_logdir
    body = get_json(client, "/channel_clusters", **R)
    assert body["n_clusters"] == 3 and body["layer"] == "features.0" and body["class_names"][0] == "class0"
    assign = np.asarray(body["assignment"])
    assert all(len(set(assign[g0 == g])) == 1 for g in range(3))
    # The route serves the view over the logged matrix.
    S = expected[2]["layers"]["features.0"]["pre/otsu"]
    assert body["order"] == channel_views.channel_clusters(S, expected[2]["labels"])["order"]
    two = get_json(client, "/channel_clusters", k=2, aspect=2.5, **R)
    assert two["n_clusters"] == 2 and two["k_auto"] is False


def test_heatmap_cluster_and_taylor_orders(client):
    clusters = get_json(client, "/channel_clusters", **R)
    page = get_json(client, "/heatmap", order="cluster", **R)
    assert page["channels"] == clusters["order"]
    page = get_json(client, "/heatmap", order="taylor", **R)
    assert page["channels"] == [5, 4, 3, 2, 1, 0]  # the logged taylor is increasing
    body = get_json(client, "/heatmap", 400, order="taylor", **dict(R, layer="features.3"))
    assert body["parameter"] == "order" and "taylor" in body["error"]


def test_channel_card_route(client, channel_logdir):
    _, expected, _, _ = channel_logdir
    card = get_json(client, "/channel_card", channel=4, top_k=5, **R)
    S = expected[2]["layers"]["features.0"]["pre/otsu"]
    assert card["id"] == {"run": "ch", "layer": "features.0", "channel": 4}
    assert card["top_inputs"] == sorted(range(N), key=lambda i: (-S[i, 4], i))[:5]
    assert card["ranks"]["taylor"] == 1 and card["ranks"]["filter_norm"] is not None
    assert card["metrics"]["grad_norm"] is None and card["has_maps"] is True
    clusters = get_json(client, "/channel_clusters", **R)
    assert card["cluster"] == clusters["assignment"][4]
    assert card["ranks"]["cluster"] == clusters["order"].index(4)
    hist = card["history"]
    assert hist["steps"] == list(STEPS)
    want = [float(expected[s]["layers"]["features.0"]["pre/otsu"][:, 4].mean()) for s in STEPS]
    np.testing.assert_allclose(hist["mean"], want, rtol=1e-5)
    assert len(hist["class_means"][0]) == 3
    # Same sample ids at every step: drift is 1 - the correlation with the previous step's column.
    cols = [expected[s]["layers"]["features.0"]["pre/otsu"][:, 4].astype(np.float64) for s in STEPS]
    assert hist["drift"][0] is None
    for s in (1, 2):
        assert hist["drift"][s] == pytest.approx(1 - np.corrcoef(cols[s - 1], cols[s])[0, 1], abs=1e-5)


def test_channel_embedding_route(client):
    body = get_json(client, "/channel_embedding", method="pca", threshold=0.5, **R)
    assert len(body["points"]) == 6 and body["source"] == "activations" and body["threshold"] == 0.5
    w = get_json(client, "/channel_embedding", method="pca", source="weights", **dict(R, layer="features.3"))
    assert len(w["points"]) == 9
    body = get_json(client, "/channel_embedding", 400, source="weights", **R)
    assert body["parameter"] == "source" and "no filter weights" in body["error"]


def test_channel_edges_route(client, channel_logdir):
    _, _, g0, g3 = channel_logdir
    body = get_json(client, "/channel_edges", run="ch", step=2, source="features.0", target="features.3",
                    threshold=0.5)
    assert body["available"] is True and body["reason"] is None
    src = np.asarray(get_json(client, "/channel_clusters", **R)["assignment"])
    tgt = np.asarray(get_json(client, "/channel_clusters", **dict(R, layer="features.3"))["assignment"])
    got = {(b["source"], b["target"]) for b in body["bundles"]}
    want = {(int(src[g0 == 2][0]), int(tgt[g3 == 1][0]))} | {(int(src[g0 == g][0]), int(tgt[g3 == 0][0]))
                                                             for g in (0, 1)}
    assert got == want
    assert all(b["positive"] == pytest.approx(0.75 * b["abs"], rel=1e-5) for b in body["bundles"])
    assert sum(t["size"] for t in body["targets"]) == 9 and body["source_layer"] == "features.0"


def test_channel_edges_refusals(client):
    between = get_json(client, "/channel_edges", run="ch", source="features.0", target="classifier")
    assert between["available"] is False and "features.3 (Conv2d)" in between["reason"]
    flat = get_json(client, "/channel_edges", run="ch", source="features.3", target="classifier")
    assert flat["available"] is False and "C_in=36" in flat["reason"]
    back = get_json(client, "/channel_edges", run="ch", source="features.3", target="features.0")
    assert back["available"] is False and "no path" in back["reason"]


@pytest.mark.parametrize("route,params,parameter", [
    ("/channel_clusters", {"k": 0}, "k"),
    ("/channel_clusters", {"k": 7}, "k"),
    ("/channel_clusters", {"aspect": -1}, "aspect"),
    ("/channel_clusters", {"layer": "nope"}, "layer"),
    ("/channel_card", {"channel": 6}, "channel"),
    ("/channel_card", {"channel": None}, "channel"),
    ("/channel_card", {"channel": 0, "top_k": 0}, "top_k"),
    ("/channel_embedding", {"method": "lda"}, "method"),
    ("/channel_embedding", {"threshold": 1.5}, "threshold"),
    ("/channel_embedding", {"source": "grads"}, "source"),
])
def test_bad_channel_params_are_400(client, route, params, parameter):
    body = get_json(client, route, 400, **dict(R, **params))
    assert body["parameter"] == parameter


@pytest.mark.parametrize("params,parameter", [
    ({"source": "features.0", "target": "features.0"}, "target"),
    ({"source": "nope", "target": "features.3"}, "source"),
    ({"source": "features.0", "target": "features.3", "threshold": -0.1}, "threshold"),
    ({"target": "features.3"}, "source"),
])
def test_bad_edge_params_are_400(client, params, parameter):
    body = get_json(client, "/channel_edges", 400, run="ch", **params)
    assert body["parameter"] == parameter


@pytest.mark.parametrize("route,params", [
    ("/channel_card", {"layer": "features.0", "channel": 0}),
    ("/heatmap", {"layer": "features.0", "order": "pairwise"}),
    ("/channel_embedding", {"layer": "features.3", "source": "weights", "method": "pca"}),
    ("/channel_edges", {"source": "features.0", "target": "features.3"}),
])
def test_corrupt_optional_arrays_are_404(client, route, params):
    body = get_json(client, route, 404, run="bad", **params)
    assert body["error"].startswith("corrupt data in the logdir")


def test_channel_routes_on_a_real_writer_run(torch_logdir):
    """The tiny CNN logged by ChannelExplorerWriter: every channel route answers, the fx graph is read."""
    from tensorboard_plugin_channelexplorer.handlers.channels import graph_between
    from tensorboard_plugin_channelexplorer.views.channel_edges import CHANNEL_PRESERVING

    real = make_client(python_provider(torch_logdir[0]))[2]
    layers = [lay["name"] for lay in get_json(real, "/layers", run="torch")["layers"]]
    convs = layers[:2]  # "0" and "2": Conv2d(1, 8) -> ReLU -> Conv2d(8, 12)
    T = {"run": "torch", "layer": convs[1]}
    clusters = get_json(real, "/channel_clusters", **T)
    assert clusters["channels"] == 12 and sorted(clusters["order"]) == list(range(12))
    assert get_json(real, "/heatmap", order="cluster", limit=12, **T)["channels"] == clusters["order"]
    card = get_json(real, "/channel_card", channel=3, **T)
    assert card["history"]["steps"] == [0, 1] and len(card["top_inputs"]) == 9
    assert len(get_json(real, "/channel_embedding", method="pca", **T)["points"]) == 12
    edges = get_json(real, "/channel_edges", run="torch", source=convs[0], target=convs[1])
    # Only a ReLU lies between the two convs: edges are drawn once the writer logs the weights.
    if edges["available"]:
        assert edges["bundles"] and sum(t["size"] for t in edges["targets"]) == 12
        assert sum(s["size"] for s in edges["sources"]) == 8
    else:
        assert "no filter weights" in edges["reason"]
    # The real graph: only channel-preserving modules between the two convs; the reverse has no path.
    graph = get_json(real, "/graph", run="torch")
    between, connected = graph_between(graph, convs[0], convs[1])
    assert connected and all(typ in CHANNEL_PRESERVING for _, typ in between)
    assert graph_between(graph, convs[1], convs[0])[1] is False
