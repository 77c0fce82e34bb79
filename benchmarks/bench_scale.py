"""Long runs in bounded TensorBoard memory: bytes per step, server RSS, /timeline latency.

Writes ``--runs`` runs of ``--steps`` steps x ``--inputs`` inputs of a model
with ``--layers`` x ``--width`` logged channels (default 50 x 500 = 25,000)
through the real `ChannelExplorerWriter` (real forward, summaries, records),
with ``full_every`` = ``--full-every``. The model is a stack of 1x1 conv +
ReLU layers on 1x1 inputs, so the forward is cheap while the ``[N, C]``
summaries (what dominates a full step) have their real size; the inputs carry
a class signal that grows with the step, so the scores move. The first run is
written, the others are byte copies of it (``--write-each`` writes each; the
server loads every copy on its own either way).

Then it prints:

1. bytes per step by record kind, full and compact, and the alternatives
   measured on one full step: the ``[N, C]`` summaries as float32 (stored),
   float32 deflated, float16, float16 deflated, with the separability score
   change of float16 (max over layers and functions) and the share of layers
   whose variance channel order changes;
2. TensorBoard's total RSS (``tensorboard`` + its Rust data server, from
   ``/proc``) once every run is loaded, and after opening views (summaries,
   heatmap, Jaccard) at every full step of every run;
3. ``/timeline`` latency over all runs and steps, cold and warm.

Run (the figures in ``docs/steps.md``)::

    python benchmarks/bench_scale.py --runs 4 --steps 100 --inputs 256 --full-every 50

Smaller while developing: ``--steps 10 --width 100``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import warnings
import zipfile

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (_ROOT, os.path.join(_ROOT, "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
os.environ.setdefault("CHANNELEXPLORER_NO_WARMUP", "1")

MiB = 2**20


def make_model(layers: int, width: int, classes: int):
    import torch
    from torch import nn

    torch.manual_seed(0)
    mods = [nn.Conv2d(3, width, 1), nn.ReLU()]
    for _ in range(layers - 1):
        mods += [nn.Conv2d(width, width, 1), nn.ReLU()]
    mods += [nn.Flatten(), nn.Linear(width, classes)]
    return nn.Sequential(*mods).eval()


def make_batch(step: int, steps: int, n: int, classes: int):
    import torch

    g = torch.Generator().manual_seed(step)
    y = torch.arange(n) % classes
    pattern = torch.randn(classes, 3, 1, 1, generator=torch.Generator().manual_seed(1234))
    x = torch.randn(n, 3, 1, 1, generator=g) + (2.0 * step / max(1, steps - 1)) * pattern[y]
    return x, y


def _kind(tag: str) -> str:
    from tensorboard_plugin_channelexplorer import metadata

    for prefix, name in ((metadata.LAYER_TAG_PREFIX, "layer blobs"), (metadata.MAPS_TAG_PREFIX, "maps")):
        if tag.startswith(prefix):
            return name
    if not tag.startswith(metadata.TAG_PREFIX):
        return "other"
    rest = tag[len(metadata.TAG_PREFIX):]
    return rest.split("/")[0] if rest.split("/")[0] in ("separability", "grad_norm", "accuracy") else rest


def write_run(path: str, args) -> tuple[dict, object]:
    """Writes one run; returns per-step bytes by kind ({step: {kind: bytes}}) and one full step's data."""
    from tensorboard_plugin_channelexplorer import writer as writer_mod

    sizes: dict = {}
    captured = {}
    real = writer_mod.step_summaries

    def measured(cur, **kw):
        out = real(cur, **kw)
        by_kind = sizes.setdefault(cur.step, {})
        by_kind.clear()  # a rewritten step counts once, as last written
        by_kind["_full"] = kw.get("full", True)
        for summary in out:
            for value in summary.value:
                kind = _kind(value.tag)
                by_kind[kind] = by_kind.get(kind, 0) + summary.ByteSize()
        if kw.get("full", True) and "cur" not in captured:
            captured["cur"] = cur
        return out

    model = make_model(args.layers, args.width, args.classes)
    writer_mod.step_summaries = measured
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with writer_mod.ChannelExplorerWriter(path, full_every=args.full_every) as w:
                for step in range(args.steps):
                    w.log_layers(model, make_batch(step, args.steps, args.inputs, args.classes), step=step,
                                 importance=args.importance)
    finally:
        writer_mod.step_summaries = real
    return sizes, captured.get("cur")


def _npz_bytes(arrays: dict, compress: bool) -> int:
    from tensorboard_plugin_channelexplorer.encoding import encode_npz

    if not compress:
        return len(encode_npz(arrays))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(arr), allow_pickle=False)
    return len(buf.getvalue())


def alternatives(cur) -> list[tuple]:
    """Bytes of the step's summaries under each encoding, and float16's effect on scores and orders."""
    from tensorboard_plugin_channelexplorer import metadata
    from tensorboard_plugin_channelexplorer.records import _layer_arrays
    from tensorboard_plugin_channelexplorer.views import timeline as tv

    labels = np.concatenate(cur.labels)
    f32 = {name: {k: v for k, v in _layer_arrays(cur, name).items() if k in metadata.SUMMARY_KEYS}
           for name in cur.summaries}
    f16 = {name: {k: v.astype(np.float16) for k, v in arrays.items()} for name, arrays in f32.items()}
    rows = []
    for label, arrays, compress in (("float32 (stored)", f32, False), ("float32, deflate 6", f32, True),
                                    ("float16", f16, False), ("float16, deflate 6", f16, True)):
        rows.append((label, sum(_npz_bytes(a, compress) for a in arrays.values())))
    from scipy.stats import spearmanr

    dscores, rhos, top_kept, out_of_range = [], [], [], 0
    for name, arrays in f32.items():
        for key, mat in arrays.items():
            half = f16[name][key].astype(np.float32)
            dscores.append(abs(tv.knn_loo_score(mat, labels) - tv.knn_loo_score(half, labels)))
            big = np.abs(mat).max()
            small = np.abs(mat[mat != 0]).min() if np.any(mat != 0) else 1.0
            out_of_range += bool(big > np.finfo(np.float16).max or small < np.finfo(np.float16).tiny)
            va, vb = mat.var(axis=0), half.var(axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # constant variances give nan (left out below)
                rhos.append(spearmanr(va, vb)[0])
            top_kept.append(len(set(np.argsort(-va)[:20]) & set(np.argsort(-vb)[:20])) / 20)
    return rows, dscores, rhos, top_kept, out_of_range


def tb_rss(pid: int) -> tuple[int, int]:
    """(RSS of `pid`, RSS of its descendants) in bytes, from /proc."""
    def rss(p):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    children, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids = [int(c) for c in f.read().split()]
                children += kids
                stack += kids
        except OSError:
            pass
    return rss(pid), sum(rss(c) for c in children)


def serve(logdir: str, runs: list, args) -> dict:
    from tb_process import http_get, start_tensorboard, stop

    log = os.path.join(logdir, "..", "tensorboard.log")
    t0 = time.perf_counter()
    proc, base = start_tensorboard(logdir, log_path=log, timeout=600)
    prefix = base + "/data/plugin/channelexplorer"

    def get(route, **params):
        url = prefix + route + "?" + urllib.parse.urlencode(params, doseq=True)
        t = time.perf_counter()
        status, _, body = http_get(url, timeout=600)
        return status, body, time.perf_counter() - t

    out = {}
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:  # until every run shows every step and its full steps
            status, body, _ = get("/runs")
            info = {r["run"]: r for r in json.loads(body)["runs"]} if status == 200 else {}
            if all(r in info and len(info[r]["steps"]) == args.steps and info[r]["full_steps"] == out.get("full")
                   for r in runs) and out.get("full") is not None:
                break
            if runs[0] in info:
                out["full"] = info[runs[0]]["full_steps"]
            time.sleep(2)
        out["load_s"] = time.perf_counter() - t0
        out["info"] = info
        time.sleep(3)
        out["rss_loaded"] = tb_rss(proc.pid)
        query = {"run": runs}
        _, body, out["timeline_cold"] = get("/timeline", **query)
        timeline = json.loads(body)
        out["timeline_steps"] = [len(r["steps"]) for r in timeline["runs"]]
        out["timeline_nulls"] = sum(v is None for r in timeline["runs"] for row in r["scores"] for v in row)
        _, _, out["timeline_warm"] = get("/timeline", **query)
        layer = timeline["runs"][0]["layers"][len(timeline["runs"][0]["layers"]) // 2]
        opened, view_s = 0, []
        for run in runs:
            for step in info[run]["full_steps"]:
                for route, params in (("/summaries", {}), ("/heatmap", {"fn": "l2"}), ("/jaccard", {"eta": 0.2})):
                    status, _, dt = get(route, run=run, step=step, layer=layer, **params)
                    opened += status == 200
                    view_s.append(dt)
        out["views_opened"], out["views_total"] = opened, len(view_s)
        out["view_s_max"] = max(view_s) if view_s else None
        out["rss_views"] = tb_rss(proc.pid)
        _, _, out["timeline_after"] = get("/timeline", **query)
    finally:
        stop(proc)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--inputs", type=int, default=256)
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--width", type=int, default=500)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--full-every", type=int, default=50, help="0: every step in full (the former behaviour)")
    ap.add_argument("--importance", action="store_true", help="also log gradient norms (one backward per step)")
    ap.add_argument("--write-each", action="store_true", help="write every run instead of copying the first")
    ap.add_argument("--no-serve", action="store_true", help="only write and print the bytes")
    ap.add_argument("--logdir", default=None, help="where to write (default: a temporary directory, removed)")
    args = ap.parse_args(argv)
    args.full_every = args.full_every or None

    root = args.logdir or tempfile.mkdtemp(prefix="bench_scale_")
    logdir = os.path.join(root, "logs")
    runs = [f"run{i}" for i in range(args.runs)]
    print(f"# bench_scale: {args.runs} runs x {args.steps} steps x {args.inputs} inputs, {args.layers} layers x "
          f"{args.width} channels = {args.layers * args.width} channels, full_every={args.full_every}")
    t0 = time.perf_counter()
    sizes, cur = write_run(os.path.join(logdir, runs[0]), args)
    write_s = time.perf_counter() - t0
    for run in runs[1:]:
        if args.write_each:
            write_run(os.path.join(logdir, run), args)
        else:
            shutil.copytree(os.path.join(logdir, runs[0]), os.path.join(logdir, run))
    disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(logdir, runs[0])) for f in fs)
    print(f"wrote run0 in {write_s:.1f} s ({write_s / args.steps:.2f} s/step); event files of one run: "
          f"{disk / MiB:.1f} MiB on disk")

    kinds = sorted({k for s in sizes.values() for k in s if k != "_full"})
    print("\n## Bytes per step (serialized summaries), by record kind\n")
    print("| step kind | steps | " + " | ".join(kinds) + " | total |")
    print("|---|---|" + "---|" * (len(kinds) + 1))
    for full in (True, False):
        group = [s for s in sizes.values() if s["_full"] is full]
        if not group:
            continue
        mean = {k: np.mean([s.get(k, 0) for s in group]) for k in kinds}
        cells = " | ".join(f"{mean[k] / 1024:,.1f} KiB" if mean[k] < MiB else f"{mean[k] / MiB:,.2f} MiB" for k in kinds)
        print(f"| {'full' if full else 'compact'} | {len(group)} | {cells} | {sum(mean.values()) / MiB:,.3f} MiB |")

    if cur is not None:
        rows, dscores, rhos, top_kept, out_of_range = alternatives(cur)
        print("\n## The [N, C] summaries of one full step under each encoding\n")
        print("| encoding | bytes | vs stored |")
        print("|---|---|---|")
        for label, n in rows:
            print(f"| {label} | {n / MiB:,.2f} MiB | {n / rows[0][1]:.2f} |")
        from tensorboard_plugin_channelexplorer.records import _layer_arrays
        from tensorboard_plugin_channelexplorer.timeline_records import timeline_json

        arrays = {name: _layer_arrays(cur, name) for name in cur.summaries}
        t = time.perf_counter()
        timeline_json(arrays, np.concatenate(cur.labels), args.classes)
        print(f"\ncomputing the compact record of one step (every k-NN score): {time.perf_counter() - t:.2f} s")
        print(f"float16 vs float32 over {len(dscores)} (layer, summary) pairs: separability score change "
              f"mean {np.mean(dscores):.4f}, max {np.max(dscores):.4f}; Spearman rho of the channel variances "
              f"(the variance order) median {np.nanmedian(rhos):.4f}, min {np.nanmin(rhos):.4f}; top-20 variance "
              f"channels kept, median {np.median(top_kept):.2f}, min {np.min(top_kept):.2f}; pairs with values outside "
              f"float16's normal range: {out_of_range}")

    if not args.no_serve:
        out = serve(logdir, runs, args)
        gib = 2**30
        print("\n## TensorBoard memory (tensorboard + Rust data server, VmRSS) and /timeline\n")
        print(f"loaded {args.runs} runs in {out['load_s']:.0f} s; full steps per run: {out['full']}")
        print("| when | tensorboard | data server | total |")
        print("|---|---|---|---|")
        for label, key in (("all runs loaded", "rss_loaded"), ("after opening views at every full step", "rss_views")):
            a, b = out[key]
            print(f"| {label} | {a / gib:.2f} GiB | {b / gib:.2f} GiB | {(a + b) / gib:.2f} GiB |")
        print(f"\nviews opened: {out['views_opened']} of {out['views_total']} (slowest {out['view_s_max']:.2f} s)")
        print(f"/timeline over {args.runs} runs, steps per run {out['timeline_steps']}, null scores "
              f"{out['timeline_nulls']}: cold {out['timeline_cold']:.2f} s, warm {out['timeline_warm']:.3f} s, "
              f"after the views {out['timeline_after']:.3f} s")
    if args.logdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
