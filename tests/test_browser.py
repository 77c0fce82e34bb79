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
screenshots land in ``artifacts/screenshots/<loader>/``. Other scripts check
deep links, live reloads, dark mode, (``sampled.mjs``, on a step of 5,391
inputs) the sampled Jaccard and hierarchy panels, and (``steps.mjs``, on a run
written with ``full_every``) how the tab shows steps kept in full.

Skips when Chromium, node or ``frontend/node_modules`` is missing, unless
``CI=true`` (then it fails).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
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


@contextlib.contextmanager
def _serve(logdir, log_path, loader, ready):
    """A running `tensorboard` on a free port until the block ends; `ready(runs)` says when it serves the data."""
    port = _free_port()
    cmd = _tensorboard_cmd() + [
        "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port),
        "--samples_per_plugin", "channelexplorer=0", "--reload_interval", "1",
    ]
    if loader == "python":
        cmd.append("--load_fast=false")
    env = dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            runs = _runs(base)
            if runs and ready(runs):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tensorboard did not serve the logdir; log:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        _stop(proc)  # the Rust data server is a child: stops the session group by PID


def _has_steps(runs, names, n):
    return all(any(r["run"] == name and len(r["steps"]) == n for r in runs) for name in names)


@pytest.fixture(params=["default", "python"])
def tensorboard_url(request, logdir, tmp_path):
    """A running `tensorboard` on a free port; stopped by PID afterwards."""
    with _serve(logdir, tmp_path / "tensorboard.log", request.param, lambda runs: _has_steps(runs, (RUN, RUN_B), len(STEPS))) as base:
        yield request.param, base


def _node(script, *args, timeout=SCRIPT_TIMEOUT_S):
    try:
        result = subprocess.run(["node", script, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"browser script timed out after {timeout} s:\n{err.stdout or ''}\n{err.stderr or ''}")
    return result.returncode, result.stdout + result.stderr


def test_tab_in_chromium(tensorboard_url):
    loader, base = tensorboard_url
    outdir = os.path.join(ARTIFACTS, loader)
    os.makedirs(outdir, exist_ok=True)
    code, output = _node(SCRIPT, base, outdir, "--run", RUN, "--run-b", RUN_B)
    assert code == 0, f"browser script failed ({loader} loader):\n{output}"
    for name in (
        "01-graph.png", "02-scatter.png", "03-jaccard.png", "04-heatmap-overlay.png", "05-step-changed.png",
        "07-timeline.png", "08-timeline-opened.png", "09-trajectory.png", "10-diff.png", "11-timeline-runs.png",
    ):
        assert os.path.getsize(os.path.join(outdir, name)) > 1000, name
    assert "ALL OK" in output


def _check(script, tensorboard_url):
    loader, base = tensorboard_url
    code, output = _node(os.path.join(REPO, "tests", "browser", script), base, os.path.join(ARTIFACTS, loader), "--run", RUN)
    assert code == 0, f"{script} failed ({loader} loader):\n{output}"
    assert "ALL OK" in output


def test_deep_links(tensorboard_url):
    """A hand-written link restores the view; step and mode changes reach TensorBoard's URL; back / forward walk them."""
    _check("links.mjs", tensorboard_url)


def test_live_refresh(tmp_path):
    """With the tab open, another process writes a step; TensorBoard's reload brings it into the tab without a click."""
    logdir = str(tmp_path / "logdir")
    write_digits_runs(logdir, ((RUN, 1e-2, 0),), (0, 1), LAYERS)
    outdir = os.path.join(ARTIFACTS, "default")
    with _serve(logdir, tmp_path / "tensorboard.log", "default", lambda runs: _has_steps(runs, (RUN,), 2)) as base:
        proc = subprocess.Popen(
            ["node", os.path.join(REPO, "tests", "browser", "live.mjs"), base, outdir, "--run", RUN],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("READY"):
                    # A separate writer process: one more epoch, logged as step 2 into the same run.
                    subprocess.run(
                        [sys.executable, "-c",
                         "import sys; sys.path.insert(0, sys.argv[1]); from digits_runs import write_digits_runs; "
                         f"write_digits_runs(sys.argv[2], (({RUN!r}, 1e-2, 0),), (2,), {LAYERS!r})",
                         os.path.join(REPO, "tests"), logdir],
                        check=True, timeout=SCRIPT_TIMEOUT_S, env=dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1"),
                    )
            proc.wait(timeout=SCRIPT_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
        output = "".join(lines)
    assert proc.returncode == 0, f"live script failed:\n{output}"
    assert "READY 1" in output and "ALL OK" in output


def test_dark_mode(tensorboard_url):
    """TensorBoard's dark theme reaches the tab: dark background, text contrast >= 4.5; light again without a reload."""
    _check("theme.mjs", tensorboard_url)


def _write_then_check(tmp_path, writer_code: str, run: str, n_steps: int, script: str) -> None:
    """Writes a logdir with `writer_code` in a fresh process, serves it, and runs `script` on run `run`."""
    logdir = str(tmp_path / "logdir")
    subprocess.run([sys.executable, "-c", writer_code, os.path.join(REPO, "examples"), logdir], check=True,
                   timeout=SCRIPT_TIMEOUT_S, env=dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1"))
    with _serve(logdir, tmp_path / "tensorboard.log", "default", lambda runs: _has_steps(runs, (run,), n_steps)) as base:
        code, output = _node(os.path.join(REPO, "tests", "browser", script), base,
                             os.path.join(ARTIFACTS, "default"), "--run", run)
    print(output)  # the steps' times, shown by pytest -s
    assert code == 0, f"{script} failed:\n{output}"
    assert "ALL OK" in output


def test_sampled_similarity_views(tmp_path):
    """A step with 5,391 inputs: Jaccard and the hierarchy panels show a 4,096-input sample and say so."""
    _write_then_check(tmp_path, _WRITE_MANY, "many", 1, "sampled.mjs")


def test_full_and_compact_steps(tmp_path):
    """A run written with full_every: the tab names and marks the full steps; a compact step opens the nearest."""
    _write_then_check(tmp_path, _WRITE_FULL_EVERY, "long", 8, "steps.mjs")


# Eight steps, full_every=3: steps 0, 3, 6 and the last (7, rewritten in full at close) are full.
_WRITE_FULL_EVERY = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import torch
import digits
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

torch.set_num_threads(1)
x_tr, y_tr, x_te, y_te, _, _ = digits.load_digits_tensors(seed=0)
model = digits.make_cnn(seed=0)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
with ChannelExplorerWriter(os.path.join(sys.argv[2], "long"), full_every=3) as w:
    for step in range(8):
        w.log_layers(model.eval(), x_te[:200], labels=y_te[:200], step=step, class_names=digits.CLASS_NAMES,
                     layers=["conv1", "conv2", "pool", "conv3"])
        digits.train_epoch(model.train(), opt, x_tr[:300], y_tr[:300])
"""


# Every digit three times (the last two with pixel noise): 5,391 inputs, more than MAX_MATRIX_INPUTS.
_WRITE_MANY = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import torch
import digits
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

torch.set_num_threads(1)
x_tr, y_tr, x_te, y_te, _, _ = digits.load_digits_tensors(seed=0)
model = digits.make_cnn(seed=0)
digits.train_epoch(model, torch.optim.Adam(model.parameters(), lr=1e-2), x_tr, y_tr)
x, y = torch.cat([x_tr, x_te]), torch.cat([y_tr, y_te])
g = torch.Generator().manual_seed(0)
xs = torch.cat([x] + [x + 0.1 * torch.randn(x.shape, generator=g) for _ in range(2)])
with ChannelExplorerWriter(os.path.join(sys.argv[2], "many")) as w:
    w.log_layers(model.eval(), xs, labels=torch.cat([y] * 3), step=0, class_names=digits.CLASS_NAMES,
                 layers=["conv1", "conv2", "pool", "conv3"])
"""
