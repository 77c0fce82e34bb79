"""Every HTTP route of the plugin over real event files, via a werkzeug test client."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import LOADERS
from helpers import PREFIX, get, get_json, make_client, more_clients

from tensorboard_plugin_channelexplorer.encoding import json_matrix
from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError


@pytest.fixture(scope="module", params=LOADERS)
def client(request, providers):
    return make_client(providers(request.param))[2]


@pytest.fixture(scope="module")
def py_client(providers):
    return make_client(providers("python"))[2]


def assert_png(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.headers["Content-Type"] == "image/png"
    data = resp.get_data()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.size


L = {"run": "main", "step": 2, "layer": "features.0"}


def test_plugin_metadata(providers):
    plugin, _, _ = make_client(providers("python"))
    assert plugin.plugin_name == "channelexplorer"
    md = plugin.frontend_metadata()
    assert md.es_module_path == "/index.js" and md.tab_name == "ChannelExplorer"
    assert plugin.is_active() is True
    assert set(plugin.get_plugin_apps()) >= {
        "/index.js", "/static/*", "/runs", "/layers", "/graph", "/inputs", "/summaries", "/thumbnail", "/scatter",
        "/jaccard", "/jaccard_cell", "/hierarchy", "/heatmap", "/overlay", "/dataset",
    }


def test_runs_layers_graph_inputs(client, logdir):
    _, expected = logdir
    runs = get_json(client, "/runs")["runs"]
    by_name = {r["run"]: r for r in runs}
    assert "future" not in by_name
    assert by_name["main"] == {"run": "main", "steps": [0, 1, 2], "steps_written": 3, "downsampled": False,
                               "steps_without_blobs": [], "rewritten_steps": [], "full_steps": [0, 1, 2],
                               "compact_steps": []}
    assert by_name["missing"]["steps_without_blobs"] == [1]

    layers = get_json(client, "/layers", run="main")
    assert layers["step"] == 2 and layers["n_inputs"] == 24
    assert [lay["name"] for lay in layers["layers"]] == ["features.0", "features.3", "classifier"]
    assert layers["class_names"] == ["class0", "class1", "class2"]

    graph = get_json(client, "/graph", run="main", step=1)
    assert graph["source"] == "fx" and {"source", "target"} <= set(graph["edges"][0])

    inputs = get_json(client, "/inputs", run="main", step=2)
    assert inputs["n"] == 24 and inputs["labels"] == expected["main"][2]["labels"].tolist()
    assert inputs["sample_ids"][0] == 100 and len(inputs["predictions"]) == 24
    assert inputs["has_thumbnails"] is True and len(inputs["probabilities"]) == 24


def test_summaries_values(client, logdir):
    _, expected = logdir
    body = get_json(client, "/summaries", fn="mean", **L)
    want = expected["main"][2]["layers"]["features.0"]["pre/mean"]
    assert body["shape"] == [24, 8] and body["fn"] == "mean" and body["stage"] == "pre"
    np.testing.assert_allclose(np.asarray(body["values"]), want, rtol=1e-6)


def test_thumbnail_and_overlay(client, logdir):
    _, expected = logdir
    resp = get(client, "/thumbnail", run="main", step=2, index=3)
    assert_png(resp)
    assert resp.get_data() == expected["main"][2]["thumbnails"][3]
    assert assert_png(get(client, "/overlay", index=4, channel=2, **L))[0] > 0
    # No map for odd inputs, nor for the Linear layer.
    body = get_json(client, "/overlay", 404, index=5, channel=2, **L)
    assert body["parameter"] == "index" and "no activation map" in body["error"]
    get_json(client, "/overlay", 404, run="main", step=2, layer="classifier", index=4, channel=0)


def test_scatter(client):
    body = get_json(client, "/scatter", method="pca", **L)
    assert {"method", "seed", "points", "clusters", "cluster_info", "outliers", "labels"} <= set(body)
    assert len(body["points"]) == 24 and len(body["points"][0]) == 2
    body = get_json(client, "/scatter", method="tsne", k=3, seed=1, **L)
    assert body["method"] == "tsne" and body["seed"] == 1 and len(set(body["clusters"])) == 3


def test_jaccard_views(client):
    body = get_json(client, "/jaccard", eta=0.25, **L)
    assert {"eta", "top", "channels", "order", "matrix", "class_boundaries", "class_names", "class_matrix", "range"} <= set(body)
    assert body["channels"] == 8 and len(body["matrix"]) == 24 and body["class_names"] == ["class0", "class1", "class2"]
    cell = get_json(client, "/jaccard_cell", i=0, j=3, **L)
    assert {"i", "j", "shared", "union", "similarity", "labels"} <= set(cell)
    assert cell["labels"] == [0, 0] and 0.0 <= cell["similarity"] <= 1.0
    tree = get_json(client, "/hierarchy", **L)["tree"]
    assert tree["children"]


def test_jaccard_counts_agree_with_values_and_jaccard_cell(client):
    """matrix=counts holds, in `order`, the shared counts and set sizes that /jaccard_cell reports pair by pair."""
    import base64

    values = get_json(client, "/jaccard", eta=0.25, **L)
    counts = get_json(client, "/jaccard", eta=0.25, matrix="counts", **L)
    assert "matrix" not in counts and counts["matrix_format"] == "counts" and values["matrix_format"] == "values"
    order = counts["order"]
    assert order == values["order"] and counts["shared"]["dtype"] == "uint8"
    shared = np.frombuffer(base64.b64decode(counts["shared"]["base64"]), dtype="<u1").reshape(counts["shared"]["shape"])
    for r, c in ((0, 3), (2, 17), (5, 5), (23, 0)):
        cell = get_json(client, "/jaccard_cell", eta=0.25, i=order[r], j=order[c], **L)
        assert shared[r, c] == cell["shared"] and [counts["set_sizes"][r], counts["set_sizes"][c]] == cell["sizes"]
        if r != c:
            assert values["matrix"][r][c] == pytest.approx(cell["similarity"], abs=1e-6)


def test_heatmap_and_dataset(client):
    body = get_json(client, "/heatmap", order="variance", limit=4, **L)
    assert {"order", "total_channels", "offset", "limit", "channels", "columns", "class_boundaries", "values",
            "threshold", "range", "metrics"} <= set(body)
    assert body["total_channels"] == 8 and len(body["channels"]) == 4 and len(body["values"]) == 4
    get_json(client, "/heatmap", order="filter_norm", **L)
    ds = get_json(client, "/dataset", run="main", step=2, reference=1)
    assert {"reference", "classes", "predictions", "probabilities", "accuracy", "representatives"} <= set(ds)
    assert ds["reference"] == 1 and len(ds["classes"]) == 3 and 0.0 <= ds["accuracy"] <= 1.0


BAD_PARAMS = [
    ("/layers", {"run": "nope"}, "run"),
    ("/layers", {}, "run"),
    ("/layers", {"run": "main", "step": "abc"}, "step"),
    ("/layers", {"run": "main", "step": 99}, "step"),
    ("/layers", {"run": "future"}, "run"),
    ("/summaries", {"run": "main", "layer": "nope"}, "layer"),
    ("/summaries", {"run": "main"}, "layer"),
    ("/summaries", {"run": "main", "layer": "features.0", "fn": "median"}, "fn"),
    ("/summaries", {"run": "main", "layer": "features.0", "stage": "post"}, "stage"),
    ("/jaccard", dict(L, eta=0), "eta"),
    ("/jaccard", dict(L, eta=1.5), "eta"),
    ("/jaccard", dict(L, eta="nan"), "eta"),
    ("/jaccard", dict(L, normalize="maybe"), "normalize"),
    ("/jaccard", dict(L, matrix="csv"), "matrix"),
    ("/jaccard_cell", dict(L, i=0, j=24), "j"),
    ("/jaccard_cell", dict(L, i=0), "j"),
    ("/hierarchy", dict(L, eta=-0.1), "eta"),
    ("/scatter", dict(L, k=25), "k"),
    ("/scatter", dict(L, k=0), "k"),
    ("/scatter", dict(L, method="lda"), "method"),
    ("/scatter", dict(L, seed=-1), "seed"),
    ("/heatmap", dict(L, order="random"), "order"),
    ("/heatmap", dict(L, limit=0), "limit"),
    ("/heatmap", {"run": "main", "layer": "features.3", "order": "filter_norm"}, "order"),
    ("/thumbnail", {"run": "main", "index": 24}, "index"),
    ("/thumbnail", {"run": "main"}, "index"),
    ("/overlay", dict(L, index=0, channel=8), "channel"),
    ("/overlay", dict(L, index=0, channel=0, alpha=2), "alpha"),
    ("/dataset", {"run": "main", "reference": 3}, "reference"),
    ("/dataset", {"run": "main", "k": 25}, "k"),
]


@pytest.mark.parametrize("route,params,parameter", BAD_PARAMS)
def test_bad_params_are_400_naming_the_parameter(py_client, route, params, parameter):
    body = get_json(py_client, route, 400, **params)
    assert body["parameter"] == parameter, body
    assert isinstance(body["error"], str) and body["error"]


def test_absent_and_corrupt_data(py_client):
    body = get_json(py_client, "/summaries", 404, run="missing", step=1, layer="features.3")
    assert "sampling" in body["error"]
    body = get_json(py_client, "/summaries", 404, run="corrupt", step=0, layer="features.0")
    assert "corrupt" in body["error"]
    get_json(py_client, "/overlay", 404, run="corrupt", step=0, layer="features.0", index=0, channel=0)


def test_static_files_and_traversal(py_client):
    resp = py_client.get(f"{PREFIX}/index.js")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/javascript")
    resp = py_client.get(f"{PREFIX}/static/index.js")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/javascript")
    for path in ("..%2fplugin.py", "%2e%2e/%2e%2e/setup.py", "../plugin.py", "..%2f..%2fsetup.py", "%2fetc%2fpasswd", ""):
        resp = py_client.get(f"{PREFIX}/static/{path}")
        assert resp.status_code in (400, 404), path
        assert b"import" not in resp.get_data(), path
    assert py_client.get(f"{PREFIX}/static/nope.js").status_code == 404


def test_json_matrix_is_valid_json():
    mat = np.array([[0.1, np.nan], [np.inf, 1e-9]], dtype=np.float32)
    assert json.loads(json_matrix(mat)) == [[0.1, None], [None, 1e-9]]


def test_every_route_on_a_real_writer_run(torch_logdir):
    from conftest import python_provider

    root, _ = torch_logdir
    _, _, client = make_client(python_provider(root))
    layers = get_json(client, "/layers", run="torch")["layers"]
    conv = layers[0]["name"]
    T = {"run": "torch", "layer": conv}
    for route, params in [("/runs", {}), ("/graph", {"run": "torch"}), ("/inputs", {"run": "torch"}),
                          ("/summaries", T), ("/scatter", dict(T, method="pca")), ("/jaccard", T),
                          ("/jaccard_cell", dict(T, i=0, j=1)), ("/hierarchy", T), ("/heatmap", T),
                          ("/dataset", {"run": "torch"})]:
        resp = get(client, route, **params)
        # The graph is optional (404 when the writer could not extract one).
        assert resp.status_code == 200 or (route == "/graph" and resp.status_code == 404), (route, resp.get_data()[:300])
    assert_png(get(client, "/thumbnail", run="torch", index=0))
    assert_png(get(client, "/overlay", index=0, channel=1, **T))


def test_view_errors_map_to_400_or_500(providers, monkeypatch):
    from tensorboard_plugin_channelexplorer.views import scatter

    _, _, client = make_client(providers("python"))

    def raiser(exc):
        def view(*args, **kwargs):
            raise exc
        return view

    monkeypatch.setattr(scatter, "scatter_view", raiser(InvalidArgumentError("k must be >= 1", "k")))
    body = get_json(client, "/scatter", 400, method="pca", **L)
    assert body == {"error": "k must be >= 1", "parameter": "k"}  # the parameter the error carries
    # A plain ValueError is a bug, even when its message names a parameter: no guessing from text.
    monkeypatch.setattr(scatter, "scatter_view", raiser(ValueError("random_state must be >= 0")))
    body = get_json(client, "/scatter", 500, method="pca", seed=1, **L)
    assert body["parameter"] is None and "internal error" in body["error"]
    monkeypatch.setattr(scatter, "scatter_view", raiser(RuntimeError("boom")))
    body = get_json(client, "/scatter", 500, method="pca", seed=2, **L)
    assert "RuntimeError: boom" in body["error"]


def test_plugin_module_imports_stay_light():
    """TensorBoard imports the plugin at start: no torch, sklearn, scipy, umap or PIL."""
    import subprocess
    import sys

    code = ("import sys, tensorboard_plugin_channelexplorer.plugin; "
            "print([m for m in ('torch', 'sklearn', 'scipy', 'umap', 'PIL', 'numba') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ compute
def _in_thread(fn):
    import threading

    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fn()), daemon=True)
    thread.start()
    return thread, out


def test_a_slow_view_does_not_stall_the_others(providers, monkeypatch):
    """A computation holding a worker (as a long t-SNE does) leaves heatmap and Jaccard requests free."""
    import threading

    from tensorboard_plugin_channelexplorer.views import _validate, scatter

    release, started = threading.Event(), threading.Event()
    real = scatter.scatter_view

    def slow_scatter(*args, **kwargs):
        with _validate.single_threaded():  # as the real view does
            started.set()
            assert release.wait(30)
            return real(*args, **kwargs)

    monkeypatch.setattr(scatter, "scatter_view", slow_scatter)
    _, app, _ = make_client(providers("python"))
    slow_client, fast_client = more_clients(app, 2)
    try:
        slow, slow_out = _in_thread(lambda: get(slow_client, "/scatter", method="pca", **L).status_code)
        assert started.wait(30)
        for route in ("/heatmap", "/jaccard", "/hierarchy"):
            fast, fast_out = _in_thread(lambda: get(fast_client, route, **L).status_code)
            fast.join(20)
            assert fast_out.get("value") == 200, f"{route} waited for the slow scatter"
        assert slow.is_alive()  # the scatter was still computing all along
    finally:
        release.set()
    slow.join(30)
    assert slow_out.get("value") == 200


def test_identical_requests_compute_once_even_when_too_big_to_cache(providers, monkeypatch):
    import threading
    import time

    from tensorboard_plugin_channelexplorer.cache import LRUCache
    from tensorboard_plugin_channelexplorer.views import scatter

    calls = []
    real = scatter.scatter_view

    def counted(*args, **kwargs):
        calls.append(threading.get_ident())
        time.sleep(0.5)  # long enough for every request to arrive while it computes
        return real(*args, **kwargs)

    monkeypatch.setattr(scatter, "scatter_view", counted)
    plugin, app, _ = make_client(providers("python"))
    plugin._cache = LRUCache(max_bytes=64)  # every response is larger: nothing is stored
    clients = more_clients(app, 6)
    threads = [_in_thread(lambda c=c: get(c, "/scatter", method="pca", seed=7, **L).get_data()) for c in clients]
    bodies = []
    for thread, out in threads:
        thread.join(60)
        bodies.append(out["value"])
    assert len(calls) == 1, f"{len(calls)} computations for 6 identical requests"
    assert len(set(bodies)) == 1 and json.loads(bodies[0])["layer"] == L["layer"]


def test_cache_shares_a_value_too_big_to_store():
    import threading
    import time

    from tensorboard_plugin_channelexplorer.cache import LRUCache

    cache, calls, results = LRUCache(max_bytes=100), [], []

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return np.zeros(1000)  # 8 kB: never stored

    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("big", compute))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(r is results[0] for r in results) and "big" not in cache


def test_compute_pool_is_bounded_and_caps_native_threads():
    import threading
    import time

    from threadpoolctl import threadpool_info, threadpool_limits

    from tensorboard_plugin_channelexplorer.compute_pool import ComputePool

    pool = ComputePool(workers=2)
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def task():
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.2)
        with lock:
            state["now"] -= 1
        return 1

    threads = [_in_thread(lambda: pool.run(task)) for _ in range(5)]
    for thread, out in threads:
        thread.join(30)
        assert out["value"] == 1
    assert state["max"] == 2
    threadpool_limits(limits=2)  # as if something raised them
    blas = pool.run(lambda: [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"])
    assert blas and set(blas) == {1}
    numba = pytest.importorskip("numba")
    assert pool.run(numba.get_num_threads) == 1  # per thread in numba: set in the worker itself
    with pytest.raises(ZeroDivisionError):
        pool.run(lambda: 1 / 0)
    with pytest.raises(ValueError, match="workers"):
        ComputePool(workers=-1)
    pool.shutdown()


def test_embedding_routes_cap_n(py_client, monkeypatch):
    from tensorboard_plugin_channelexplorer import queries

    monkeypatch.setattr(queries, "MAX_EMBED_INPUTS", 10)
    body = get_json(py_client, "/scatter", 400, method="tsne", **L)
    assert body["parameter"] == "run" and "N=24" in body["error"] and "N <= 10" in body["error"]
    body = get_json(py_client, "/trajectory", 400, run="main", layer="features.0")
    assert body["parameter"] == "run" and "N=24" in body["error"]
    monkeypatch.setattr(queries, "MAX_EMBED_INPUTS", 24)
    monkeypatch.setattr(queries, "MAX_TRAJECTORY_POINTS", 50)
    assert get_json(py_client, "/scatter", method="pca", **L)["layer"] == "features.0"  # N == cap: served
    body = get_json(py_client, "/trajectory", 400, run="main", layer="features.0")
    assert body["parameter"] == "steps" and "72 points" in body["error"]
