"""Progress of the scatterplot's computations: the registry, the openTSNE/UMAP hooks, /scatter_progress and the PCA cap."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import python_provider
from helpers import get_json, make_client

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import progress, queries
from tensorboard_plugin_channelexplorer.views import scatter

L = {"run": "main", "step": 2, "layer": "features.0"}


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _recording(registry):
    """Records the entry after every update of `registry`."""
    seen = []
    update = registry.update

    def record(key, phase=None, fraction=None):
        update(key, phase, fraction)
        seen.append(registry.get(key))

    registry.update = record
    return seen


def test_registry_states_expiry_and_monotone_fraction():
    clock = _Clock()
    reg = progress.ProgressRegistry(ttl_s=10, clock=clock)
    assert reg.get("a") == {"state": "idle", "fraction": None, "phase": None, "elapsed_s": None}
    reg.start("a")
    clock.t += 2.5
    reg.update("a", "optimising", 0.4)
    reg.update("a", fraction=0.2)  # a late, smaller report does not move it back
    assert reg.get("a") == {"state": "running", "fraction": 0.4, "phase": "optimising", "elapsed_s": 2.5}
    reg.finish("a")
    clock.t += 5
    assert reg.get("a") == {"state": "done", "fraction": 1.0, "phase": "done", "elapsed_s": 2.5}
    clock.t += 10.5
    assert reg.get("a")["state"] == "idle"
    reg.start("b")
    reg.finish("b", ok=False)
    assert reg.get("b")["state"] == "idle"
    with pytest.raises(ValueError, match="ttl_s"):
        progress.ProgressRegistry(ttl_s=0)


def test_report_outside_track_is_a_no_op_and_track_forgets_a_failure():
    reg = progress.ProgressRegistry()
    progress.report("x", 0.5)
    with pytest.raises(RuntimeError), progress.track("k", reg):
        progress.report("optimising", 0.5)
        raise RuntimeError("boom")
    assert reg.get("k")["state"] == "idle"


@pytest.mark.parametrize("method, phases", [
    ("tsne", ["reducing", "neighbours", "early exaggeration", "optimising", "clustering"]),
    ("umap", ["reducing", "neighbours", "optimising", "clustering"]),
])
def test_real_embedding_reports_monotone_fraction_reaching_one(method, phases):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 20)) + np.repeat(np.eye(20)[:4] * 6, 100, axis=0)
    reg = progress.ProgressRegistry()
    seen = _recording(reg)
    with progress.track(("view", method), reg):
        scatter.scatter_view(X, np.repeat(np.arange(4), 100), method=method)
    fractions = [s["fraction"] for s in seen if s["fraction"] is not None]
    # Several intermediate reports, never decreasing, the last one 1.
    assert len(set(fractions)) >= (10 if method == "tsne" else 2)
    assert all(b >= a for a, b in zip(fractions, fractions[1:]))
    assert fractions[-1] == 1.0 and fractions[0] < 0.2
    seen_phases = list(dict.fromkeys(s["phase"] for s in seen))
    assert seen_phases == phases
    assert reg.get(("view", method))["state"] == "done"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("progress_logdir"))
    fx.write_synthetic_run(root, "main", steps=(0, 1, 2))
    return make_client(python_provider(root))[2]


def test_progress_route_follows_a_scatter_request(client, monkeypatch):
    params = dict(L, method="tsne", seed=3)
    assert get_json(client, "/scatter_progress", **params)["state"] == "idle"
    release = threading.Event()
    real = scatter._embed

    def slow_embed(*args):
        progress.report("optimising", 0.25)
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(scatter, "_embed", slow_embed)
    done = {}
    worker = threading.Thread(target=lambda: done.update(body=get_json(client, "/scatter", **params)))
    worker.start()
    deadline = time.monotonic() + 20
    while True:
        state = get_json(client, "/scatter_progress", **params)
        if state["state"] == "running" and state["fraction"] == 0.25 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    # Another seed is another computation: not running.
    other = get_json(client, "/scatter_progress", **dict(params, seed=4))
    release.set()
    worker.join(30)
    assert state["state"] == "running" and state["phase"] == "optimising" and state["fraction"] == 0.25
    assert other["state"] == "idle"
    assert len(done["body"]["points"]) == 24
    assert get_json(client, "/scatter_progress", **params)["state"] == "done"


@pytest.mark.parametrize("params, parameter", [
    (dict(L, method="isomap"), "method"),
    (dict(L, seed="-1"), "seed"),
    (dict(L, k="0"), "k"),
    ({"step": 2, "layer": "features.0"}, "run"),
    (dict(L, run="nope"), "run"),
    (dict(L, layer="nope"), "layer"),
    (dict(L, k="25"), "k"),  # N = 24
])
def test_progress_route_400_names_the_parameter(client, params, parameter):
    body = get_json(client, "/scatter_progress", 400, **params)
    assert body["parameter"] == parameter


def test_pca_has_its_own_cap(client, monkeypatch):
    monkeypatch.setattr(queries, "MAX_EMBED_INPUTS", 10)
    body = get_json(client, "/scatter", 400, method="tsne", **L)
    assert body["parameter"] == "run" and "N <= 10" in body["error"] and "'tsne'" in body["error"]
    assert len(get_json(client, "/scatter", method="pca", **L)["points"]) == 24  # under MAX_PCA_INPUTS
    monkeypatch.setattr(queries, "MAX_PCA_INPUTS", 20)
    body = get_json(client, "/scatter", 400, method="pca", **L)
    assert "N=24" in body["error"] and "N <= 20" in body["error"]
    # A trajectory frame keeps the embedding cap, whatever its method.
    monkeypatch.setattr(queries, "MAX_PCA_INPUTS", 65536)
    body = get_json(client, "/trajectory", 400, run="main", layer="features.0", method="pca")
    assert body["parameter"] == "run"


def test_pca_route_at_50k_inputs(tmp_path):
    n = 50_000
    fx.write_synthetic_run(str(tmp_path), "big", steps=(0,), n_inputs=n, n_classes=10)
    big = make_client(python_provider(str(tmp_path)))[2]
    body = get_json(big, "/scatter", method="pca", run="big", step=0, layer="features.0")
    assert len(body["points"]) == n and len(body["labels"]) == n
    assert get_json(big, "/scatter", 400, method="tsne", run="big", step=0, layer="features.0")["parameter"] == "run"
