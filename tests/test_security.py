"""Security: nothing in a logdir is ever unpickled, static routes stay in static/, routes read no files.

* A hostile ``.npz`` blob (an object array whose pickle creates a marker file
  when unpickled) written as a ChannelExplorer layer, maps or inputs blob, and
  ``.pkl`` / ``.pt`` files next to the event file: every route answers a JSON
  error (or serves the other, clean data), and the marker never appears,
  under both TensorBoard loaders.
* Static routes refuse ``../``, ``%2e%2e``, absolute paths, backslashes and
  NUL bytes, over the werkzeug client and over a raw HTTP socket.
* A source scan (AST) of the backend: no pickle, no ``torch.load``, every
  ``np.load`` has ``allow_pickle=False``, ``open()`` only in the static route.
* Behaviour: with an audit hook recording every ``open``, hostile request
  values (paths, absolute names) open no file of the logdir or outside.
"""

from __future__ import annotations

import ast
import glob
import io
import json
import os
import pickle
import socket
import sys
import threading
import urllib.parse

import numpy as np
import pytest
from conftest import python_provider, rust_provider
from helpers import PREFIX, get, make_client
from tensorboard.plugins import base_plugin

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer import plugin as plugin_mod
from tensorboard_plugin_channelexplorer import static_files
from tensorboard_plugin_channelexplorer.plugin import ChannelExplorerPlugin

PKG = os.path.dirname(plugin_mod.__file__)


class Payload:
    """Unpickling this creates the file `path` (the 'exploit')."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickled_npz(marker: str, names=("pre/l2", "pre/otsu", "pre/mean", "pre/max")) -> bytes:
    """An npz whose arrays are object arrays holding `Payload` (np.savez pickles them)."""
    arr = np.empty(1, dtype=object)
    arr[0] = Payload(marker)
    buf = io.BytesIO()
    np.savez(buf, **{name: arr for name in names})
    return buf.getvalue()


@pytest.fixture(scope="module")
def hostile_logdir(tmp_path_factory):
    """Runs ``evil_layer`` (layer + maps blobs pickled), ``evil_inputs`` (inputs blob pickled), pickle files."""
    root = str(tmp_path_factory.mktemp("hostile"))
    marker = os.path.join(str(tmp_path_factory.mktemp("markers")), "PWNED")
    for run, tags in (("evil_layer", (metadata.LAYER_TAG_PREFIX, metadata.MAPS_TAG_PREFIX)),
                      ("evil_inputs", (metadata.INPUTS_TAG,))):
        data = fx.synthetic_step_data(seed=1)
        event = fx.step_event(0, data, fx.manifest_for(data), fx.graph_for(), wall_time=1000.0)
        for value in event.summary.value:
            if value.tag.startswith(tags):
                names = ("labels", "sample_ids") if value.tag == metadata.INPUTS_TAG else (
                    ("maps", "indices", "lo", "hi") if value.tag.startswith(metadata.MAPS_TAG_PREFIX) else
                    tuple(metadata.summary_key("pre", f) for f in metadata.SUMMARY_FUNCTIONS))
                value.tensor.string_val[0] = pickled_npz(marker, names)
        fx.write_events(os.path.join(root, run), [event])
    # Pickle files a careless backend might pick up.
    for run in ("evil_layer", "evil_inputs"):
        with open(os.path.join(root, run, "summaries.pkl"), "wb") as f:
            pickle.dump(Payload(marker), f)
        with open(os.path.join(root, run, "model.pt"), "wb") as f:
            pickle.dump({"state": Payload(marker)}, f)
        np.save(os.path.join(root, run, "layer.npy"), np.array([Payload(marker)], dtype=object), allow_pickle=True)
    fx.write_synthetic_run(root, "clean", steps=(0,))
    assert not os.path.exists(marker)
    return root, marker


def _all_requests(run: str):
    L = dict(run=run, step=0, layer="features.0")
    return [
        ("/runs", {}), ("/layers", dict(run=run)), ("/graph", dict(run=run)), ("/inputs", dict(run=run)),
        ("/summaries", L), ("/thumbnail", dict(run=run, index=0)), ("/scatter", dict(L, method="pca")),
        ("/jaccard", L), ("/jaccard_cell", dict(L, i=0, j=1)), ("/hierarchy", L), ("/heatmap", L),
        ("/overlay", dict(L, index=0, channel=0)), ("/dataset", dict(run=run)),
        ("/timeline", dict(run=run, layer="features.0")), ("/trajectory", dict(L, method="pca")),
        # Side a is the hostile run, side b the clean one: the hostile blob is read and refused.
        ("/diff", dict(run=run, step=0, run_b="clean", step_b=0, layer="features.0")),
    ]


@pytest.mark.parametrize("loader", ["python", "rust"])
def test_pickled_blobs_are_never_loaded(hostile_logdir, loader):
    root, marker = hostile_logdir
    dp = python_provider(root) if loader == "python" else rust_provider(
        root, expect_runs=["evil_layer", "evil_inputs", "clean"])
    _, _, client = make_client(dp)
    routes = set(ChannelExplorerPlugin(base_plugin.TBContext(data_provider=dp)).get_plugin_apps())
    runs = {r["run"] for r in json.loads(get(client, "/runs").get_data())["runs"]}
    assert {"evil_layer", "evil_inputs", "clean"} <= runs
    seen_errors = {}
    for run in ("evil_layer", "evil_inputs"):
        for route, params in _all_requests(run):
            if route not in routes:
                continue
            resp = get(client, route, **params)
            assert not os.path.exists(marker), f"{route} {params} unpickled the payload"
            if resp.status_code != 200:
                body = json.loads(resp.get_data())
                assert body["error"], (route, body)
                seen_errors[(run, route)] = (resp.status_code, body["error"])
    # The pickled blobs are reported as corrupt data, never decoded.
    status, error = seen_errors[("evil_layer", "/summaries")]
    assert status == 404 and "corrupt" in error and "features.0" in error
    status, error = seen_errors[("evil_inputs", "/inputs")]
    assert status == 404 and "corrupt" in error
    # /diff reaches the decoder on both hostile runs (a 400 would mean it stopped at its parameters).
    for run in ("evil_layer", "evil_inputs"):
        status, error = seen_errors[(run, "/diff")]
        assert status == 404 and "corrupt data in the logdir" in error and run in error, (run, status, error)
    # The clean run next door is served normally.
    assert get(client, "/summaries", run="clean", layer="features.0").status_code == 200
    assert not os.path.exists(marker)


def test_npz_decoder_refuses_object_arrays(tmp_path):
    from tensorboard_plugin_channelexplorer.encoding import CorruptDataError, decode_npz, encode_npz

    marker = str(tmp_path / "PWNED")
    with pytest.raises(CorruptDataError):
        decode_npz(pickled_npz(marker))
    with pytest.raises(ValueError, match="object"):
        encode_npz({"x": np.array([Payload(marker)], dtype=object)})
    assert not os.path.exists(marker)


# ------------------------------------------------------------- static routes
TRAVERSALS = [
    "../plugin.py", "..%2fplugin.py", "%2e%2e/plugin.py", "%2e%2e%2fplugin.py", "%2E%2E%2Fplugin.py",
    "..%2f..%2fsetup.py", "../../../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", "..\\plugin.py", "..%5cplugin.py", "..%5c..%5cplugin.py",
    "\\etc\\passwd", "%5cetc%5cpasswd", "index.js%00.png", "..%00/plugin.py", "%252e%252e%252fplugin.py",
    "%c0%ae%c0%ae/plugin.py", "....//plugin.py", "./../plugin.py", "static/../../plugin.py",
    "C:\\Windows\\win.ini", "C:/Windows/win.ini", "file:///etc/passwd",
]
SECRETS = (b"import ", b"root:", b"[extensions]", b"def ")


def _assert_refused(status: int, body: bytes, path: str):
    assert status in (400, 404), (path, status, body[:200])
    for secret in SECRETS:
        assert secret not in body, (path, body[:200])


def test_static_traversal_refused_werkzeug(hostile_logdir):
    root, _ = hostile_logdir
    _, _, client = make_client(python_provider(root))
    for path in TRAVERSALS:
        resp = client.get(f"{PREFIX}/static/{path}")
        _assert_refused(resp.status_code, resp.get_data(), path)
        if resp.status_code == 400:
            assert json.loads(resp.get_data())["parameter"] == "path"
    assert client.get(f"{PREFIX}/static/index.js").status_code == 200


def test_static_traversal_refused_raw_http(hostile_logdir):
    """Raw request lines (no client-side normalization) against a real WSGI server."""
    from werkzeug.serving import make_server

    root, _ = hostile_logdir
    _, app, _ = make_client(python_provider(root))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        for path in TRAVERSALS + ["../../../../../etc/passwd", "..;/plugin.py"]:
            target = f"{PREFIX}/static/{path}"
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
                raw = b""
                while chunk := sock.recv(65536):
                    raw += chunk
            head, _, body = raw.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            _assert_refused(status, body, path)
    finally:
        server.shutdown()
        thread.join(timeout=10)


# --------------------------------------------------------------- source scan
BACKEND_FILES = [os.path.join(PKG, n) for n in (
    "plugin.py", "reader.py", "provider_access.py", "record_checks.py", "cache.py", "encoding.py", "metadata.py",
    "queries.py", "responses.py", "static_files.py", "compute_pool.py", "native_threads.py", "errors.py",
)] + sorted(glob.glob(os.path.join(PKG, "views", "*.py")) + glob.glob(os.path.join(PKG, "handlers", "*.py")))
# (file, function) pairs allowed to call open(): the static route reads files of static/ only.
OPEN_ALLOWED = {("static_files.py", "serve")}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


def test_backend_source_never_unpickles_or_opens_request_paths():
    problems = []
    for path in BACKEND_FILES:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        funcs = []  # enclosing function of each call

        class Visitor(ast.NodeVisitor):
            def visit_FunctionDef(self, node):
                funcs.append(node.name)
                self.generic_visit(node)
                funcs.pop()

            visit_AsyncFunctionDef = visit_FunctionDef

            def visit_Import(self, node):
                for alias in node.names:
                    if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                        problems.append(f"{name}: imports {alias.name}")

            def visit_ImportFrom(self, node):
                if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{name}: imports from {node.module}")

            def visit_Call(self, node):
                callee = _dotted(node.func)
                where = f"{name}:{node.lineno} {callee}() in {funcs[-1] if funcs else '<module>'}"
                kw = {k.arg: k.value for k in node.keywords}
                if callee in ("open", "io.open", "os.open", "builtins.open", "codecs.open"):
                    if (name, funcs[-1] if funcs else "") not in OPEN_ALLOWED:
                        problems.append(where)
                elif callee.endswith(("np.load", "numpy.load")):
                    flag = kw.get("allow_pickle")
                    if not (isinstance(flag, ast.Constant) and flag.value is False):
                        problems.append(where + " without allow_pickle=False")
                elif callee.endswith(("torch.load", "pickle.load", "pickle.loads", "np.fromfile", "Unpickler")):
                    problems.append(where)
                elif callee.endswith("Image.open"):
                    arg = node.args[0] if node.args else None
                    if not (isinstance(arg, ast.Call) and _dotted(arg.func).endswith("BytesIO")):
                        problems.append(where + " not on in-memory bytes")
                self.generic_visit(node)

        Visitor().visit(tree)
    assert not problems, "backend reads files or unpickles:\n" + "\n".join(problems)


# ----------------------------------------------------------------- behaviour
_AUDIT = {"on": False, "paths": []}


def _audit(event, args):
    if _AUDIT["on"] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _AUDIT["paths"].append(os.fsdecode(args[0]))


def test_no_route_opens_files_named_by_requests(tmp_path):
    """Hostile values (paths, absolute names, the logdir itself) make no route open a file outside static/."""
    root = str(tmp_path / "logdir")
    fx.write_synthetic_run(root, "main", steps=(0,))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    fake_npz = os.path.join(root, "main", "features.0.npz")
    np.savez(fake_npz, **{"pre/l2": np.full((24, 8), 7.0, np.float32)})
    _, _, client = make_client(python_provider(root))
    routes = sorted(r for r in ChannelExplorerPlugin(base_plugin.TBContext(data_provider=None)).get_plugin_apps()
                    if r not in ("/static/*", "/index.js"))
    hostile = [str(secret), "../secret.txt", "../../secret.txt", fake_npz, "main/../../secret.txt",
               os.path.join(root, "main"), "file://" + str(secret), "main/features.0.npz", "/dev/zero"]
    # Warm lazy imports first (they open module files legitimately).
    for route in routes:
        client.get(f"{PREFIX}{route}?run=main&layer=features.0&method=pca")
    sys.addaudithook(_audit)
    _AUDIT["paths"].clear()
    _AUDIT["on"] = True
    try:
        with open(os.devnull, "rb"):
            pass
        assert _AUDIT["paths"] == [os.devnull], "the audit hook does not see open()"
        _AUDIT["paths"].clear()
        bodies = []
        for route in routes:
            for value in hostile:
                for name in ("run", "layer", "step", "path", "file", "logdir", "run_a", "run_b", "steps"):
                    resp = client.get(f"{PREFIX}{route}?" + urllib.parse.urlencode(
                        {"run": "main", "layer": "features.0", name: value}))
                    assert resp.status_code < 500, (route, name, value, resp.get_data()[:200])
                    bodies.append(resp.get_data())
            resp = client.get(f"{PREFIX}/static/{urllib.parse.quote(str(secret))}")
            bodies.append(resp.get_data())
    finally:
        _AUDIT["on"] = False
    opened = [p for p in _AUDIT["paths"] if not os.path.realpath(p).startswith(os.path.realpath(static_files.STATIC_DIR))]
    suspicious = [p for p in opened if str(tmp_path) in os.path.realpath(p) or "secret" in p or p.startswith("/dev")]
    assert not suspicious, suspicious
    assert not any(b"TOP-SECRET" in b for b in bodies)
