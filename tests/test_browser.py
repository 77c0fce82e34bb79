"""The ChannelExplorer tab in a real TensorBoard, driven by a real Chromium.

Writes a logdir with `ChannelExplorerWriter` (the digits CNN of
``examples/digits.py``: run ``digits`` with 3 steps, and a second run
``digits_b`` trained at another learning rate for the multi-run timeline),
starts ``tensorboard`` (Rust data server by
default, and ``--load_fast=false``), and runs ``tests/browser/tab.mjs`` with
playwright-core from ``frontend/node_modules`` against Debian's Chromium. The
script checks the graph, a layer's panels, Jaccard and heatmap clicks, a
step change, compare mode, the timeline grid (a cell click opens that layer at
that step), the trajectory slider, the diff view and the multi-run lines;
screenshots land in ``artifacts/screenshots/<loader>/``.

Skips when Chromium, node or ``frontend/node_modules`` is missing, unless
``CI=true`` (then it fails).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from digits_runs import write_digits_runs
from tb_process import free_port as _free_port, stop as _stop, tensorboard_cmd as _tensorboard_cmd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = os.path.join(REPO, "frontend", "node_modules", "playwright-core")
SCRIPT = os.path.join(REPO, "tests", "browser", "tab.mjs")
BUNDLE = os.path.join(REPO, "tensorboard_plugin_channelexplorer", "static", "index.js")
ARTIFACTS = os.path.join(REPO, "artifacts", "screenshots")
RUN = "digits"
RUN_B = "digits_b"
STEPS = (0, 1, 2)
# Conv chain and pooling of the digits CNN (the 1x1 global-average-pool output
# is left out: a single value per channel has no Otsu threshold).
LAYERS = ["conv1", "conv2", "pool", "conv3"]
STARTUP_TIMEOUT_S = 90
SCRIPT_TIMEOUT_S = 300


def _missing_requirements() -> list[str]:
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"Chromium ({CHROMIUM})")
    if shutil.which("node") is None:
        missing.append("node")
    if not os.path.isdir(PLAYWRIGHT):
        missing.append("frontend/node_modules (run `npm ci` in frontend/)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def _requirements():
    missing = _missing_requirements()
    if missing:
        reason = "browser test needs " + ", ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from importlib.metadata import entry_points

    if not any(e.name == "channelexplorer" for e in entry_points(group="tensorboard_plugins")):
        pytest.fail("plugin entry point not installed (run `pip install -e .`)")
    if not os.path.exists(BUNDLE):
        pytest.fail("frontend bundle missing: run `npm run build` in frontend/")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """Two runs of the digits CNN, three steps each, logged with the real writer (a short epoch between)."""
    root = str(tmp_path_factory.mktemp("browser_logdir"))
    write_digits_runs(root, ((RUN, 1e-2, 0), (RUN_B, 2e-3, 1)), STEPS, LAYERS)
    return root


def _runs(base: str):
    try:
        with urllib.request.urlopen(base + "/data/plugin/channelexplorer/runs", timeout=10) as resp:
            return json.loads(resp.read())["runs"]
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return None


@pytest.fixture(params=["default", "python"])
def tensorboard_url(request, logdir, tmp_path):
    """A running `tensorboard` on a free port; stopped by PID afterwards."""
    port = _free_port()
    cmd = _tensorboard_cmd() + [
        "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port),
        "--samples_per_plugin", "channelexplorer=0", "--reload_interval", "1",
    ]
    if request.param == "python":
        cmd.append("--load_fast=false")
    log_path = tmp_path / "tensorboard.log"
    env = dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            runs = _runs(base)
            if runs and all(any(r["run"] == name and len(r["steps"]) == len(STEPS) for r in runs) for name in (RUN, RUN_B)):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tensorboard did not serve {RUN} with {len(STEPS)} steps; log:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield request.param, base
    finally:
        _stop(proc)  # the Rust data server is a child: stops the session group by PID


def test_tab_in_chromium(tensorboard_url):
    loader, base = tensorboard_url
    outdir = os.path.join(ARTIFACTS, loader)
    os.makedirs(outdir, exist_ok=True)
    try:
        result = subprocess.run(
            ["node", SCRIPT, base, outdir, "--run", RUN, "--run-b", RUN_B],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"browser script timed out after {SCRIPT_TIMEOUT_S} s:\n{err.stdout or ''}\n{err.stderr or ''}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"browser script failed ({loader} loader):\n{output}"
    for name in (
        "01-graph.png", "02-scatter.png", "03-jaccard.png", "04-heatmap-overlay.png", "05-step-changed.png",
        "07-timeline.png", "08-timeline-opened.png", "09-trajectory.png", "10-diff.png", "11-timeline-runs.png",
    ):
        assert os.path.getsize(os.path.join(outdir, name)) > 1000, name
    assert "ALL OK" in output
