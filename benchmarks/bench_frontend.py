"""Frontend benchmark: first paint with a 150-layer graph, heatmap draw at 2048 x 200, bundle size.

Serves the built bundle (``tensorboard_plugin_channelexplorer/static/index.js``)
and synthetic JSON for every route from a local mock server (so only the
frontend is timed, not the backend's views), drives Debian's Chromium with
``benchmarks/bench_frontend.mjs`` (playwright-core from ``frontend/node_modules``)
and prints a table.

Usage::

    python benchmarks/bench_frontend.py [--repeats 3]

Targets: first paint <= 2 s, heatmap draw <= 300 ms.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join(REPO, "tensorboard_plugin_channelexplorer", "static")
PREFIX = "/data/plugin/channelexplorer/"
N_INPUTS = 200
N_CLASSES = 10
BIG_CHANNELS = 2048

PAGE = """<!DOCTYPE html>
<head><base href="data/plugin/channelexplorer/" /></head>
<body><script type="module">import("./index.js").then((m) => void m.render());</script></body>
"""


def _graph(kind: str) -> dict:
    nodes = [{"id": "input", "name": "input", "type": "Input", "shape": [3, 32, 32], "params": 0, "logged": False, "parent": ""}]
    edges = []
    prev = "input"
    if kind == "heat":
        for name, ch in (("conv1", 64), ("big", BIG_CHANNELS), ("fc", 10)):
            nodes.append({"id": name, "name": name, "type": "Conv2d", "shape": [ch, 4, 4], "params": 100, "logged": True, "parent": ""})
            edges.append({"source": prev, "target": name})
            prev = name
        return {"source": "fx", "nodes": nodes, "edges": edges}
    # 150 logged conv layers in 50 blocks of 3, with skip edges.
    for b in range(50):
        block = f"layer{b // 10 + 1}.{b % 10}"
        start = prev
        for c in range(3):
            nid = f"{block}.conv{c + 1}"
            nodes.append({"id": nid, "name": nid, "type": "Conv2d", "shape": [64, 8, 8], "params": 36928, "logged": True,
                          "parent": block if kind == "nested" else ""})
            edges.append({"source": prev, "target": nid})
            prev = nid
        if b:
            edges.append({"source": start, "target": prev})
    return {"source": "fx", "nodes": nodes, "edges": edges}


class State:
    kind = "flat"


def _layers() -> list:
    g = _graph(State.kind)
    return [{"name": n["id"], "type": n["type"], "shape": n["shape"], "channels": n["shape"][0], "stages": ["pre"],
             "functions": ["l2", "otsu", "mean", "max"], "has_maps": True, "has_filter_norm": False}
            for n in g["nodes"] if n["logged"]]


def _heatmap() -> dict:
    rng = np.random.default_rng(0)
    labels = np.arange(N_INPUTS) % N_CLASSES
    cols = np.argsort(labels, kind="stable")
    values = rng.gamma(1.0, 1.0, (BIG_CHANNELS, N_INPUTS)).round(3)
    values[values < 0.1] = 0.0
    bounds = [int(np.searchsorted(labels[cols], c)) for c in range(N_CLASSES)]
    return {"order": "pairwise", "total_channels": BIG_CHANNELS, "offset": 0, "limit": BIG_CHANNELS,
            "channels": list(range(BIG_CHANNELS)), "columns": cols.tolist(), "class_boundaries": bounds,
            "values": values.tolist(), "threshold": 0.1, "range": [0.1, float(values.max())],
            "metrics": {"variance": values.var(1).round(4).tolist(), "pairwise": values.mean(1).round(4).tolist(),
                        "filter_norm": None}}


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 0)).save(buf, format="PNG")
    return buf.getvalue()


_HEATMAP_JSON = None
_PNG = None


def _route(path: str, q: dict):
    global _HEATMAP_JSON, _PNG
    labels = [i % N_CLASSES for i in range(N_INPUTS)]
    names = [f"class {c}" for c in range(N_CLASSES)]
    if path == "runs":
        return {"runs": [{"run": State.kind, "steps": [0], "steps_written": 1, "downsampled": False}]}
    if path == "layers":
        return {"run": State.kind, "step": 0, "n_inputs": N_INPUTS, "class_names": names, "layers": _layers()}
    if path == "graph":
        return _graph(State.kind)
    if path == "inputs":
        return {"n": N_INPUTS, "labels": labels, "class_names": names, "sample_ids": list(range(N_INPUTS)),
                "predictions": labels, "probabilities": [0.9] * N_INPUTS, "has_thumbnails": True}
    if path == "dataset":
        return {"reference": 0, "classes": [{"id": c, "name": names[c], "count": N_INPUTS // N_CLASSES,
                                             "similarity": 1.0 / (1 + c)} for c in range(N_CLASSES)],
                "predictions": labels, "probabilities": [0.9] * N_INPUTS, "accuracy": 1.0, "representatives": [0, 1, 2]}
    if path == "heatmap":
        if _HEATMAP_JSON is None:
            _HEATMAP_JSON = json.dumps(_heatmap(), separators=(",", ":")).encode()
        return _HEATMAP_JSON
    if path in ("thumbnail", "overlay"):
        if _PNG is None:
            _PNG = _png()
        return _PNG
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _send(self, body: bytes, ctype: str, code: int = 200):
        gz = "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 1024
        if gz:
            body = gzip.compress(body, 1)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path in ("/", "/bench.html"):
            return self._send(PAGE.encode(), "text/html")
        if u.path.startswith(PREFIX):
            name = u.path[len(PREFIX):]
            if name == "index.js":
                with open(os.path.join(STATIC, "index.js"), "rb") as f:
                    return self._send(f.read(), "text/javascript")
            out = _route(name, parse_qs(u.query))
            if isinstance(out, bytes):
                return self._send(out, "image/png" if name in ("thumbnail", "overlay") else "application/json")
            if out is not None:
                return self._send(json.dumps(out).encode(), "application/json")
        return self._send(json.dumps({"error": f"not found: {u.path}", "parameter": None}).encode(), "application/json", 404)


def _node(url: str, mode: str) -> dict:
    out = subprocess.run(["node", os.path.join(REPO, "benchmarks", "bench_frontend.mjs"), url, mode],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        sys.exit(f"bench_frontend.mjs {mode} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    args = ap.parse_args()
    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    bundle = os.path.join(STATIC, "index.js")
    if not os.path.exists(bundle):
        sys.exit("build the bundle first: cd frontend && npm run build")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench.html"
    rows = []
    try:
        for kind, label in (("flat", "first paint, 150 layers flat (151 nodes)"),
                            ("nested", "first paint, 150 layers in 50 modules (grouped)")):
            State.kind = kind
            res = [_node(url, "paint") for _ in range(args.repeats)]
            rows.append((label, float(np.median([r["first_paint_ms"] for r in res])), 2000.0,
                         f"{res[0]['nodes']} nodes drawn"))
        State.kind = "heat"
        res = [_node(url, "heatmap") for _ in range(args.repeats)]
        rows.append((f"heatmap draw {BIG_CHANNELS} x {N_INPUTS} (response -> canvas)",
                     float(np.median([r["draw_ms"] for r in res])), 300.0,
                     f"incl. fetch+parse {np.median([r['total_ms'] for r in res]):.0f} ms"))
    finally:
        server.shutdown()
    size = os.path.getsize(bundle)
    with open(bundle, "rb") as f:
        gz = len(gzip.compress(f.read(), 9))
    print(f"{'measurement':<58} {'median':>10} {'target':>8}  note")
    print("-" * 100)
    for label, v, target, note in rows:
        flag = "ok" if v <= target else "SLOW"
        print(f"{label:<58} {v:>8.0f}ms {target:>6.0f}ms  {flag}; {note}")
    print(f"{'bundle static/index.js':<58} {size / 1024:>8.1f}kB {'':>8}  gzip {gz / 1024:.1f} kB")


if __name__ == "__main__":
    main()
