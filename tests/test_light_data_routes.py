"""The tab's first requests do not wait for the views' imports, and the warm-up imports them early.

A fresh TensorBoard answers ``/runs`` only after about a second of
scikit-learn / scipy imports if every route waits for the views
(``lazy_imports.ensure_views_loaded``); the tab's first paint needs only
``/runs``, ``/layers``, ``/graph`` and ``/inputs``. Each check runs in a new
interpreter, so ``sys.modules`` starts empty.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOGDIR = os.path.join(HERE, "data", "logdir_v1")
RUN = "digits_v1"
HEAVY = ("sklearn", "scipy.cluster", "scipy.spatial", "umap", "openTSNE")


def _run(code: str) -> dict:
    env = {**os.environ, "CHANNELEXPLORER_NO_WARMUP": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=180, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_data_routes_answer_without_importing_the_views():
    code = f"""
import json, sys
sys.path.insert(0, {HERE!r})
from conftest import python_provider
from helpers import make_client, route_url
client = make_client(python_provider({LOGDIR!r}))[2]
heavy = {HEAVY!r}
def loaded():
    return sorted(m for m in heavy if m in sys.modules)
codes = {{}}
for route, params in [("/runs", {{}}), ("/layers", {{"run": {RUN!r}}}), ("/graph", {{"run": {RUN!r}}}),
                      ("/inputs", {{"run": {RUN!r}}}), ("/thumbnail", {{"run": {RUN!r}, "index": 0}})]:
    codes[route] = client.get(route_url(route, **params)).status_code
before = loaded()
layer = json.loads(client.get(route_url("/layers", run={RUN!r})).data)["layers"][0]["name"]
codes["/summaries"] = client.get(route_url("/summaries", run={RUN!r}, layer=layer)).status_code
after_summaries = loaded()
codes["/heatmap"] = client.get(route_url("/heatmap", run={RUN!r}, layer=layer)).status_code
print(json.dumps(dict(codes=codes, before=before, after_summaries=after_summaries, after_view=loaded())))
"""
    res = _run(code)
    assert set(res["codes"].values()) == {200}, res["codes"]
    assert res["before"] == [], f"a data route imported {res['before']}"
    assert res["after_summaries"] == []
    # The oracle that the check can see an import: a view route loads scikit-learn.
    assert "sklearn" in res["after_view"]


def test_warm_up_imports_the_views_while_its_child_compiles():
    code = """
import json, sys
from tensorboard_plugin_channelexplorer import lazy_imports, warmup
seen = {}
class Child:
    def wait(self, timeout=None):
        # The views are imported before the server waits for the child.
        seen["views_loaded_before_wait"] = lazy_imports._views_loaded
        return 0
warmup.subprocess.Popen = lambda *a, **k: Child()
warmup.wait_until_idle = lambda *a, **k: True
warmup._warm_scatter = lambda: None
before = "sklearn.manifold" in sys.modules
warmup._run_child_then_idle()
print(json.dumps(dict(before=before, seen=seen, after="sklearn.manifold" in sys.modules)))
"""
    res = _run(code)
    assert res["before"] is False
    assert res["seen"] == {"views_loaded_before_wait": True}
    assert res["after"] is True
