"""Frontend benchmark: first paint with a 150-layer graph, heatmap draw at 2048 x 200, bundle size; a big model.

Mock case: serves the built bundle
(``tensorboard_plugin_channelexplorer/static/index.js``) and synthetic JSON for
every route from a local mock server (so only the frontend is timed, not the
backend's views), drives Debian's Chromium with ``benchmarks/bench_frontend.mjs``
(playwright-core from ``frontend/node_modules``) and prints a table.

Big-model case: a randomly initialised plain-torch model from
``big_models.py`` (``--big-model``): the DenseNet-201 layout by default (every
layer ``discover_layers`` offers, blocks included: 404 logged layers, 220,864
channels per input, over 713 modules), or the ResNet-152 layout (155
conv-BN-ReLU chains, 2 pools and 50 bottleneck blocks: 207 layers over 310
conv and BN modules). It is logged through the real writer into a temporary
logdir; ``log_layers`` + ``flush`` is timed against a plain
``no_grad`` forward (medians of ``--big-reps`` of each, alternated, after a
warm-up; the first call, which discovers the layers and extracts the graph,
separately; one torch thread by default, see ``--threads``). A real
TensorBoard then serves that logdir, and Chromium opens the tab from a fresh
profile: first paint of the graph (from TensorBoard's navigation start, and
from the plugin iframe's), expansion of the largest module group and of
"Expand all", the tab's JS heap and the renderer processes' RSS, and
TensorBoard's own RSS (tensorboard plus its data server).

Usage::

    python benchmarks/bench_frontend.py [--repeats 3] [--only mock|big]
        [--big-model densenet201|resnet152] [--big-batch 8] [--big-size 224] [--big-reps 3] [--threads 1]

Targets: first paint <= 2 s, heatmap draw <= 300 ms.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join(REPO, "tensorboard_plugin_channelexplorer", "static")
PREFIX = "/data/plugin/channelexplorer/"
N_INPUTS = 200
N_CLASSES = 10
BIG_CHANNELS = 2048
# The big models of `big_models.py` the big-model case can log, with the names printed.
BIG_MODELS = {"densenet201": "DenseNet-201", "resnet152": "ResNet-152"}

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
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        sys.exit(f"bench_frontend.mjs {mode} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _group_rss_mib(pgid: int) -> float:
    """Summed RSS (MiB) of the live processes in process group `pgid` (Linux /proc)."""
    total_kib = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields after the name: state, ppid, pgrp, ...
                continue
            with open(f"/proc/{pid}/status") as f:
                total_kib += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue  # ended while being read
    return total_kib / 1024


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def _log_big_model(logdir: str, name: str, batch: int, size: int, reps: int, threads: int) -> list:
    """Logs the big model `name` (a ``big_models`` builder) into `logdir` (1 + `reps` steps); rows of timings."""
    import torch

    torch.set_num_threads(threads)

    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    sys.path.insert(0, REPO)
    import big_models

    from tensorboard_plugin_channelexplorer.capture import discover_layers
    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    n_classes = 4
    model = getattr(big_models, name)(num_classes=n_classes)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=gen)
    y = torch.arange(batch) % n_classes
    # Every image layer and every block: the most a user can ask for.
    layers = [e.name for e in discover_layers(model, x[:2]).entries]

    def forward():
        with torch.no_grad():
            model(x)

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    forward()  # warm-up: allocator, oneDNN primitives
    writer = ChannelExplorerWriter(os.path.join(logdir, name))
    try:
        step = [0]

        def log():
            writer.log_layers(model, x, y, step=step[0], layers=layers)
            writer.flush()
            step[0] += 1

        first = timed(log)  # discovers the layers and extracts the graph
        once = {k: writer.timings.get(k, float("nan")) for k in ("discover", "graph")}
        # Alternated, so the forward and log_layers see the same load on a shared machine.
        fwds, times, parts = [], [], []
        for _ in range(reps):
            fwds.append(timed(forward))
            times.append(timed(log))
            parts.append(dict(writer.timings))
        fwd, logged = statistics.median(fwds), statistics.median(times)
        part = {k: statistics.median(p.get(k, 0.0) for p in parts) for k in ("capture", "thumbnails", "write")}
    finally:
        writer.close()
    shape = f"{batch}x3x{size}x{size}"
    return [
        (f"forward, {BIG_MODELS[name]} layout ({shape}, no_grad)", fwd, None, "s", f"median of {reps}, alternated with log_layers; {threads} torch thread(s)"),
        ("log_layers + flush, later calls", logged, None, "s",
         f"{logged / fwd:.1f}x the forward; {len(layers)} layers; capture {part['capture']:.2f} s, "
         f"thumbnails {part['thumbnails']:.2f} s, write {part['write']:.2f} s"),
        ("log_layers + flush, first call", first, None, "s",
         f"of which discover {once['discover']:.2f} s, graph {once['graph']:.2f} s"),
    ]


def big_model_rows(name: str, batch: int, size: int, reps: int, threads: int, repeats: int) -> list:
    """The big-model case: logging, then the tab on a real TensorBoard; rows for the table."""
    sys.path.insert(0, REPO)
    from tests.tb_process import start_tensorboard, stop

    with tempfile.TemporaryDirectory(prefix="ce-bench-big-") as tmp:
        logdir = os.path.join(tmp, "logs")
        rows = _log_big_model(logdir, name, batch, size, reps, threads)
        proc, base = start_tensorboard(logdir, log_path=os.path.join(tmp, "tb.log"), timeout=180)
        try:
            tb_loaded = _group_rss_mib(proc.pid)
            res = [_node(base, "tb") for _ in range(repeats)]
            tb_after = _group_rss_mib(proc.pid)
        finally:
            stop(proc)

    def med(key, sub=None):
        return float(np.median([(r[key] if sub is None else r[key][sub]) for r in res]))

    r0 = res[0]
    rows += [
        ("graph first paint (from TensorBoard navigation)", med("first_paint_ms") / 1000, 2.0, "s",
         f"{r0['nodes']} nodes drawn; iframe starts at {med('iframe_start_ms') / 1000:.2f} s, "
         f"/graph ({r0['graph_bytes'] / 1024:.0f} kB) answered at {med('graph_loaded_ms') / 1000:.2f} s"),
        ("graph first paint (from the plugin iframe's start)", med("frame_first_paint_ms") / 1000, 2.0, "s",
         f"bundle loaded at {med('bundle_loaded_ms') / 1000:.2f} s from navigation"),
        (f"expand group {r0['expand_group']} ({r0['expand_group_size']} nodes)", med("expand", "ms") / 1000, None, "s",
         f"{r0['expand']['before']} -> {r0['expand']['after']} nodes drawn"),
        ("Expand all (from that state)", med("expand_all", "ms") / 1000, None, "s",
         f"{r0['expand_all']['before']} -> {r0['expand_all']['after']} nodes drawn (only visible ones are)"),
        ("tab JS heap used, after first paint", med("heap_paint", "used"), None, "MiB",
         f"total {med('heap_paint', 'total'):.0f} MiB, {med('heap_paint', 'dom_nodes'):.0f} DOM nodes"),
        ("tab JS heap used, after Expand all", med("heap_all", "used"), None, "MiB",
         f"total {med('heap_all', 'total'):.0f} MiB, {med('heap_all', 'dom_nodes'):.0f} DOM nodes"),
        ("tab renderer RSS (largest renderer), after first paint", med("rss_paint", "largest_renderer_rss_mib"), None, "MiB",
         f"{r0['rss_paint']['renderers']} renderers {med('rss_paint', 'renderer_rss_mib'):.0f} MiB; PSS of all {r0['rss_paint']['processes']} Chromium processes "
         f"{med('rss_paint', 'chromium_pss_mib'):.0f} MiB"),
        ("tab renderer RSS (largest renderer), after Expand all", med("rss_all", "largest_renderer_rss_mib"), None, "MiB",
         f"PSS of all Chromium processes {med('rss_all', 'chromium_pss_mib'):.0f} MiB"),
        ("TensorBoard RSS (+ data server), loaded / after tabs", tb_loaded, None, "MiB", f"after {tb_after:.0f} MiB"),
    ]
    print("plugin requests before the first paint (from TensorBoard navigation, first browser run):")
    for line in r0["requests"]:
        print(f"  {line}")
    return rows


def _print_rows(title: str, rows: list) -> None:
    print(title)
    print(f"{'measurement':<58} {'median':>10} {'target':>8}  note")
    print("-" * 110)
    for label, v, target, unit, note in rows:
        tgt = "" if target is None else f"{target:g}{unit}"
        flag = "" if target is None else ("ok; " if v <= target else "SLOW; ")
        print(f"{label:<58} {v:>7.2f}{unit:<3} {tgt:>8}  {flag}{note}")


def mock_rows(repeats: int) -> list:
    """The mock-server case: first paint of synthetic 150-layer graphs and a 2048-row heatmap."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench.html"
    rows = []
    try:
        for kind, label in (("flat", "first paint, 150 layers flat (151 nodes)"),
                            ("nested", "first paint, 150 layers in 50 modules (grouped)")):
            State.kind = kind
            res = [_node(url, "paint") for _ in range(repeats)]
            rows.append((label, float(np.median([r["first_paint_ms"] for r in res])), 2000.0, "ms",
                         f"{res[0]['nodes']} nodes drawn"))
        State.kind = "heat"
        res = [_node(url, "heatmap") for _ in range(repeats)]
        rows.append((f"heatmap draw {BIG_CHANNELS} x {N_INPUTS} (response -> canvas)",
                     float(np.median([r["draw_ms"] for r in res])), 300.0, "ms",
                     f"incl. fetch+parse {np.median([r['total_ms'] for r in res]):.0f} ms"))
    finally:
        server.shutdown()
    bundle = os.path.join(STATIC, "index.js")
    with open(bundle, "rb") as f:
        gz = len(gzip.compress(f.read(), 9))
    rows.append(("bundle static/index.js", os.path.getsize(bundle) / 1024, None, "kB", f"gzip {gz / 1024:.1f} kB"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="browser runs per measurement (median reported)")
    ap.add_argument("--only", choices=("mock", "big"), default=None, help="run one case only")
    ap.add_argument("--big-model", choices=sorted(BIG_MODELS), default="densenet201", help="the big model's layout")
    ap.add_argument("--big-batch", type=int, default=8, help="inputs per log_layers call of the big model")
    ap.add_argument("--big-size", type=int, default=224, help="image side of the big model's inputs")
    ap.add_argument("--big-reps", type=int, default=3, help="timed forwards and log_layers calls (median)")
    # One thread by default: on a shared, oversubscribed machine two OpenMP
    # threads wait on each other and a forward gets 4-16x slower and erratic.
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for the big model")
    args = ap.parse_args()
    for name in ("repeats", "big_batch", "big_reps", "threads"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.big_size < 32:
        raise ValueError(f"--big-size must be >= 32 (five stride-2 stages), got {args.big_size}")
    if not os.path.exists(os.path.join(STATIC, "index.js")):
        sys.exit("build the bundle first: cd frontend && npm run build")
    print(f"load average before: {_load_average()}")
    if args.only != "big":
        _print_rows(f"mock server, medians of {args.repeats}", mock_rows(args.repeats))
    if args.only != "mock":
        if args.only is None:
            print()
        _print_rows(f"big model on a real TensorBoard, browser medians of {args.repeats}",
                    big_model_rows(args.big_model, args.big_batch, args.big_size, args.big_reps, args.threads, args.repeats))
    print(f"load average after: {_load_average()}")


if __name__ == "__main__":
    main()
