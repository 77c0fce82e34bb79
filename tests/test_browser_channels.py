"""The channel views and the suspect list of the tab, in a real TensorBoard and Chromium.

Writes one run of the digits CNN (``examples/digits.py``, two steps, activation
maps for every input so every top input has an overlay), starts
``tensorboard`` and runs ``tests/browser/channels.mjs``: it opens a layer's
channel clusters, clicks a representative channel, checks the card's top
inputs against ``/channel_card`` with their thumbnails and overlays loaded,
the channel embedding and the edges panel against their routes, and the
Dataset view's suspect list against ``/suspects``. Screenshots land in
``artifacts/screenshots/channels/``.

Skips like ``tests/test_browser.py`` when Chromium, node or
``frontend/node_modules`` is missing (fails under ``CI=true``).
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from digits_runs import write_digits_runs
from tb_process import start_tensorboard, stop
from test_browser import ARTIFACTS, REPO, _requirements, _runs  # noqa: F401  (module fixture: skips without Chromium)

SCRIPT = os.path.join(REPO, "tests", "browser", "channels.mjs")
RUN = "digits"
STEPS = (0, 1)
LAYERS = ["conv1", "conv2", "pool", "conv3"]
# The layer the script opens: the last conv layer, where clusters and suspects mean most.
TARGET = "conv3"
STARTUP_TIMEOUT_S = 90
SCRIPT_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """One run of the digits CNN, a short epoch between its two steps, maps for all inputs."""
    root = str(tmp_path_factory.mktemp("browser_channels_logdir"))
    write_digits_runs(root, ((RUN, 1e-2, 0),), STEPS, LAYERS, maps_budget_bytes=64 << 20)
    return root


@pytest.fixture
def tensorboard_url(logdir, tmp_path):
    """A running `tensorboard` (default loader) serving both steps; stopped by PID afterwards."""
    log_path = tmp_path / "tensorboard.log"
    try:
        proc, base = start_tensorboard(logdir, "--reload_interval", "1", log_path=str(log_path), timeout=STARTUP_TIMEOUT_S)
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not any(r["run"] == RUN and len(r["steps"]) == len(STEPS) for r in _runs(base) or []):
            if time.monotonic() > deadline:
                pytest.fail(f"tensorboard did not serve {RUN} with {len(STEPS)} steps; log:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        stop(proc)


def test_channel_views_in_chromium(tensorboard_url):
    outdir = os.path.join(ARTIFACTS, "channels")
    os.makedirs(outdir, exist_ok=True)
    try:
        result = subprocess.run(
            ["node", SCRIPT, tensorboard_url, outdir, "--run", RUN, "--layer", TARGET],
            cwd=REPO, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"browser script timed out after {SCRIPT_TIMEOUT_S} s:\n{err.stdout or ''}\n{err.stderr or ''}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"browser script failed:\n{output}"
    assert "ALL OK" in output
    for name in ("c1-channel-clusters.png", "c2-channel-card.png", "c3-channel-embedding.png",
                 "c4-layer-edges.png", "c5-suspects.png"):
        assert os.path.getsize(os.path.join(outdir, name)) > 1000, name
