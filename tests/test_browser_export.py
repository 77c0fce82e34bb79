"""Export and share in a real TensorBoard and Chromium.

Starts ``tensorboard`` on the digits runs of ``tests/test_browser.py`` and runs
``tests/browser/export.mjs``: panel downloads (scatter CSV / JSON / SVG checked
against ``/scatter``, Jaccard CSV against ``/jaccard``, PNGs for size and
content) through TensorBoard's iframe, then "Share" and the saved file opened
offline from disk with the same panels. Screenshots and the downloaded files
land in ``artifacts/screenshots/export/``.

Skips like ``tests/test_browser.py`` when Chromium, node or
``frontend/node_modules`` is missing (fails under ``CI=true``).
"""

from __future__ import annotations

import os

import pytest
from test_browser import ARTIFACTS, REPO, RUN, RUN_B, STEPS, _has_steps, _node, _requirements, _serve, logdir  # noqa: F401  (module fixtures)

SCRIPT = os.path.join(REPO, "tests", "browser", "export.mjs")
SCRIPT_TIMEOUT_S = 300


@pytest.fixture
def tensorboard_url(logdir, tmp_path):
    """A running `tensorboard` (default loader) serving every step; stopped by PID afterwards."""
    with _serve(logdir, tmp_path / "tensorboard.log", "default", lambda runs: _has_steps(runs, (RUN, RUN_B), len(STEPS))) as base:
        yield base


def test_export_and_share_in_chromium(tensorboard_url):
    outdir = os.path.join(ARTIFACTS, "export")
    os.makedirs(outdir, exist_ok=True)
    code, output = _node(SCRIPT, tensorboard_url, outdir, "--run", RUN, timeout=SCRIPT_TIMEOUT_S)
    assert code == 0, f"browser script failed:\n{output}"
    assert "ALL OK" in output
    for name in ("e1-live.png", "e2-shared-offline.png", "shared-view.html"):
        assert os.path.getsize(os.path.join(outdir, name)) > 1000, name
