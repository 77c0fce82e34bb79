"""First imports of the views' libraries from several threads at once succeed.

Several threads importing scikit-learn and scipy submodules at the same
moment are handed partially initialized modules (an ImportError on every try
here without the lock), which reached the tab as a 500 from ``/dataset`` and
``/scatter``. `lazy_imports` serializes them; every route calls
`lazy_imports.ensure_views_loaded` first. Each case runs in a new Python
process, so nothing is imported yet when the threads start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import tensorboard_plugin_channelexplorer.views as views_pkg
from tensorboard_plugin_channelexplorer import lazy_imports


_SCRIPT = r"""
import importlib, json, sys, threading
from tensorboard_plugin_channelexplorer import lazy_imports

# Different packages at once, as request threads, pool workers and the warm-up do.
jobs = [lambda: lazy_imports.ensure_views_loaded()] + [
    (lambda m=m: lazy_imports.import_module(m)) for m in
    ("sklearn.cluster", "sklearn.manifold", "sklearn.neighbors", "sklearn.utils.extmath", "scipy.cluster.hierarchy",
     "sklearn.decomposition")]
already = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
barrier = threading.Barrier(len(jobs))
errors = []

def run(job):
    barrier.wait()
    try:
        job()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")

threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"errors": errors, "already": already}))
"""


def test_every_view_module_is_imported_up_front():
    listed = {name.rsplit(".", 1)[1] for name in lazy_imports.VIEW_MODULES if ".views." in name}
    present = {f[:-3] for f in os.listdir(os.path.dirname(views_pkg.__file__))
               if f.endswith(".py") and not f.startswith("_")}
    assert present <= listed, f"view modules not imported by lazy_imports: {sorted(present - listed)}"


@pytest.mark.parametrize("attempt", range(3))
def test_simultaneous_first_imports_in_a_fresh_process(attempt):
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not result["already"], "scikit-learn/scipy were imported before the threads started"
    assert result["errors"] == []
