"""A real `tensorboard` process serves the plugin (Rust data server and Python loader)."""

from __future__ import annotations

import json
import os

import pytest
from helpers import PREFIX, route_url
from tb_process import http_get, start_tensorboard, stop

import logdir_fixtures as fx


@pytest.fixture(scope="module")
def tb_logdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tb_logdir"))
    fx.write_synthetic_run(root, "main", steps=(0, 1))
    return root


@pytest.fixture(params=["default", "python"])
def server(request, tb_logdir):
    from importlib.metadata import entry_points

    if not any(e.name == "channelexplorer" for e in entry_points(group="tensorboard_plugins")):
        pytest.skip("plugin entry point not installed (run `pip install -e .`)")
    extra = ["--reload_interval", "1"] + (["--load_fast=false"] if request.param == "python" else [])
    try:
        proc, base = start_tensorboard(tb_logdir, *extra, log_path=os.path.join(tb_logdir, f"tb_{request.param}.log"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield base, json.loads(http_get(base + "/data/plugins_listing", timeout=5)[2])
    finally:
        stop(proc)


def test_every_route_over_http(server):
    base, listing = server
    entry = listing["channelexplorer"]
    assert entry["tab_name"] == "ChannelExplorer"
    assert entry["loading_mechanism"] == {"type": "IFRAME", "module_path": "/data/plugin/channelexplorer/index.js"}

    status, ctype, body = http_get(base + PREFIX + "/index.js")
    assert status == 200 and ctype.startswith("application/javascript") and body

    layer = dict(run="main", step=1, layer="features.0")
    json_routes = [
        ("/runs", {}),
        ("/layers", dict(run="main")),
        ("/graph", dict(run="main")),
        ("/inputs", dict(run="main", step=1)),
        ("/summaries", layer),
        ("/scatter", dict(layer, method="pca")),
        ("/jaccard", layer),
        ("/jaccard_cell", dict(layer, i=0, j=1)),
        ("/hierarchy", layer),
        ("/heatmap", layer),
        ("/dataset", dict(run="main", step=1)),
    ]
    for route, params in json_routes:
        status, ctype, body = http_get(base + route_url(route, **params))
        assert status == 200, (route, body[:300])
        assert ctype.startswith("application/json"), route
        json.loads(body)
    runs = json.loads(http_get(base + PREFIX + "/runs")[2])["runs"]
    assert runs[0]["run"] == "main" and runs[0]["steps"] == [0, 1] and runs[0]["downsampled"] is False

    for route, params in [("/thumbnail", dict(run="main", step=1, index=2)),
                          ("/overlay", dict(layer, index=2, channel=1))]:
        status, ctype, body = http_get(base + route_url(route, **params))
        assert status == 200 and ctype == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n", route

    status, ctype, body = http_get(base + route_url("/layers", run="nope"))
    assert status == 400 and json.loads(body)["parameter"] == "run"
