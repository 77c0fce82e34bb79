"""A real `tensorboard` process serves the plugin (Rust data server and Python loader)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import logdir_fixtures as fx
from tb_process import free_port as _free_port, tensorboard_cmd as _tensorboard_cmd

PREFIX = "/data/plugin/channelexplorer"
STARTUP_TIMEOUT_S = 90


def _get(base: str, path: str, timeout: float = 120):
    """(status, content type, body bytes) of a GET, HTTP errors included."""
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


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
    port = _free_port()
    cmd = _tensorboard_cmd() + [
        "--logdir", tb_logdir, "--host", "127.0.0.1", "--port", str(port),
        "--samples_per_plugin", "channelexplorer=0", "--reload_interval", "1",
    ]
    if request.param == "python":
        cmd += ["--load_fast=false"]
    env = dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1")
    log = open(os.path.join(tb_logdir, f"tb_{request.param}.log"), "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        listing = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                status, _, body = _get(base, "/data/plugins_listing", timeout=5)
                if status == 200:
                    listing = json.loads(body)
                    if listing.get("channelexplorer", {}).get("enabled"):
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        if not (listing or {}).get("channelexplorer", {}).get("enabled"):
            log.flush()
            with open(log.name, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            pytest.fail(f"channelexplorer never enabled (exit={proc.poll()}); listing={listing}\n{tail}")
        yield base, listing
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def test_every_route_over_http(server):
    base, listing = server
    entry = listing["channelexplorer"]
    assert entry["tab_name"] == "ChannelExplorer"
    assert entry["loading_mechanism"] == {"type": "IFRAME", "module_path": "/data/plugin/channelexplorer/index.js"}

    status, ctype, body = _get(base, PREFIX + "/index.js")
    assert status == 200 and ctype.startswith("application/javascript") and body

    q = lambda **kw: "?" + urllib.parse.urlencode(kw)  # noqa: E731
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
        status, ctype, body = _get(base, PREFIX + route + (q(**params) if params else ""))
        assert status == 200, (route, body[:300])
        assert ctype.startswith("application/json"), route
        json.loads(body)
    runs = json.loads(_get(base, PREFIX + "/runs")[2])["runs"]
    assert runs[0]["run"] == "main" and runs[0]["steps"] == [0, 1] and runs[0]["downsampled"] is False

    for route, params in [("/thumbnail", dict(run="main", step=1, index=2)),
                          ("/overlay", dict(layer, index=2, channel=1))]:
        status, ctype, body = _get(base, PREFIX + route + q(**params))
        assert status == 200 and ctype == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n", route

    status, ctype, body = _get(base, PREFIX + "/layers" + q(run="nope"))
    assert status == 400 and json.loads(body)["parameter"] == "run"
