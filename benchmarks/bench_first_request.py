"""First requests after TensorBoard starts: is anybody paying for UMAP's JIT?

Writes a digits-CNN logdir with the real writer (200 inputs, 1 step), then for
each warm-up mode starts a real ``tensorboard`` on a free loopback port, waits
until the plugin is listed, and at once times the first requests a user's tab
makes (a mid-layer heatmap, the default t-SNE scatterplot), then UMAP
scatterplots while the warm-up may still run. Modes (``--modes``):

* ``off``: no warm-up (``CHANNELEXPLORER_NO_WARMUP=1``): the warm-up-free time;
* ``thread``: the former warm-up, compiling in a thread of the server;
* ``child``: ``warmup.py``'s low-priority child process, numba's cache empty;
* ``child-cached``: the same, started again on the cache the previous run filled.

Each mode gets its own empty ``NUMBA_CACHE_DIR`` (``child-cached`` reuses
``child``'s). Prints one table, one column per mode, and each request's time
over its warm-up-free time.

``--part log_layers`` times the writer instead: in fresh processes (one per
measurement), the import of the writer module, the first, second and third
``log_layers`` call (same batch, a new step each) and, for reference, the
first three plain ``torch.no_grad()`` forwards of the same model and batch in
another fresh process (torch's own first-call cost). Models: the digits CNN
(200 inputs) and the pretrained EfficientNet-Lite0 (16 random 224 x 224
inputs). ``--before PATH`` also times the package in another checkout (e.g.
``git worktree add /tmp/ce_before <commit>``), side by side. Medians of
``--reps`` processes.

Usage: python benchmarks/bench_first_request.py [--load_fast false] [--modes off,thread,child,child-cached]
       python benchmarks/bench_first_request.py --part log_layers [--before /tmp/ce_before] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_logdir(root: str) -> str:
    from digits import load_digits_tensors, make_cnn, train_epoch

    from tensorboard_plugin_channelexplorer import ChannelExplorerWriter

    torch.set_num_threads(1)
    x_train, y_train, x_test, y_test, *_ = load_digits_tensors(seed=0)
    model = make_cnn(seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    train_epoch(model, opt, x_train, y_train)
    with ChannelExplorerWriter(os.path.join(root, "logs", "digits")) as w:
        w.log_layers(model, x_test[:200], labels=y_test[:200], step=0)
    return "digits"


def _get(url: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as resp:
        resp.read()
        return resp.status, time.perf_counter() - t0


_REQUESTS = [
    ("/runs", "/runs"),
    ("/layers", "/layers?run={run}"),
    ("/heatmap conv2 (mid layer), first", "/heatmap?run={run}&layer=conv2"),
    ("/scatter t-SNE conv3, first", "/scatter?run={run}&layer=conv3"),
    ("/scatter umap conv3, first", "/scatter?run={run}&layer=conv3&method=umap"),
    ("/scatter umap conv2, second", "/scatter?run={run}&layer=conv2&method=umap"),
]


def _serve_and_time(root: str, run: str, load_fast: str, env: dict) -> list[tuple[str, float]]:
    """Starts tensorboard with ``env``, times the plugin listing and `_REQUESTS`, stops it."""
    port = _free_port()
    exe = shutil.which("tensorboard") or "tensorboard"
    cmd = [exe, "--logdir", root, "--host", "127.0.0.1", "--port", str(port),
           "--samples_per_plugin", "channelexplorer=0", "--load_fast", load_fast]  # fmt: skip
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/data/plugins_listing", timeout=5) as resp:
                    if b'"channelexplorer"' in resp.read():
                        break
            except OSError:
                pass
            if time.perf_counter() - t_start > 300:
                raise SystemExit("tensorboard did not start")
            time.sleep(0.2)
        rows.append(("server up (plugins_listing)", time.perf_counter() - t_start))
        p = f"{base}/data/plugin/channelexplorer"
        for name, path in _REQUESTS:
            status, dt = _get(p + path.format(run=run))
            rows.append((f"{name}" + ("" if status == 200 else f" [{status}]"), dt))
    finally:
        # The whole session: the warm-up child too.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return rows


# One measurement, run in a fresh interpreter: argv = model, "log" or "forward".
_CHILD = r"""
import json, os, sys, tempfile, time
model_name, what = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.environ["CE_EXAMPLES"])
import torch
torch.set_num_threads(1)
out = {}
if what == "log":
    t0 = time.perf_counter()
    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
    out["import"] = time.perf_counter() - t0
if model_name == "digits":
    from digits import load_digits_tensors, make_cnn
    _, _, x, y, *_ = load_digits_tensors(seed=0)
    x, y = x[:200], y[:200]
    model = make_cnn(seed=0).eval()
else:
    from imagenet_pretrained import load_model
    model = load_model()
    x = torch.randn(16, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % 4
if what == "forward":
    for i in range(3):
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x)
        out[f"call{i + 1}"] = time.perf_counter() - t0
else:
    with ChannelExplorerWriter(tempfile.mkdtemp(prefix="ce_bench_")) as w:
        for i in range(3):
            t0 = time.perf_counter()
            w.log_layers(model, x, labels=y, step=i)
            out[f"call{i + 1}"] = time.perf_counter() - t0
print("RESULT " + json.dumps(out))
"""


def _child(root: str, model: str, what: str) -> dict:
    env = dict(os.environ, PYTHONPATH=root, CE_EXAMPLES=os.path.join(HERE, "..", "examples"))
    env.pop("CHANNELEXPLORER_NO_NUMBA", None)
    done = subprocess.run([sys.executable, "-c", _CHILD, model, what], env=env, capture_output=True, text=True,
                          timeout=600, cwd=tempfile.gettempdir())
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not line:
        raise SystemExit(f"child {model} {what} ({root}) failed:\n{done.stderr[-2000:]}")
    return json.loads(line[-1][len("RESULT "):])


def log_layers_part(before: str | None, reps: int) -> None:
    """Prints first / later ``log_layers`` and forward times, per model and checkout."""
    if reps < 1:
        raise SystemExit(f"--reps must be >= 1, got {reps}")
    roots = {"after": os.path.abspath(os.path.join(HERE, ".."))}
    if before:
        roots = {"before": os.path.abspath(before), **roots}
    load0 = os.getloadavg()
    rows = []
    for root in roots.values():  # untimed: fills each checkout's numba cache (compiling is not a first-call cost)
        _child(root, "digits", "log")
    for model in ("digits", "efficientnet-lite0"):
        runs: dict = {}
        for _ in range(reps):  # interleaved, so load changes hit every column alike
            for label, root in roots.items():
                runs.setdefault(label, []).append(_child(root, model, "log"))
            runs.setdefault("forward", []).append(_child(roots["after"], model, "forward"))
        med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in runs.items()}
        for label in roots:
            m = med[label]
            rows.append((model, f"log_layers, {label}", m["import"], m["call1"], m["call2"], m["call3"],
                         m["call1"] - (m["call2"] + m["call3"]) / 2))
        f = med["forward"]
        rows.append((model, "plain no_grad forward", None, f["call1"], f["call2"], f["call3"],
                     f["call1"] - (f["call2"] + f["call3"]) / 2))
    load1 = os.getloadavg()
    print(f"\nlog_layers in fresh processes; median of {reps}; seconds; torch threads 1; load average "
          f"{load0[0]:.2f} before, {load1[0]:.2f} after\n")
    # "import + 1st over later": what the script pays once in all, so cost moved into the import still shows.
    print("| model | what | import writer | 1st call | 2nd | 3rd | 1st over later | import + 1st over later |\n"
          "|---|---|---|---|---|---|---|---|")
    for model, what, imp, c1, c2, c3, extra in rows:
        imp_s = "" if imp is None else f"{imp:.2f}"
        total = "" if imp is None else f"{imp + extra:+.2f}"
        print(f"| {model} | {what} | {imp_s} | {c1:.3f} | {c2:.3f} | {c3:.3f} | {extra:+.3f} | {total} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="requests", choices=("requests", "log_layers"))
    parser.add_argument("--before", default=None, help="log_layers part: another checkout to time beside this one")
    parser.add_argument("--reps", type=int, default=3, help="log_layers part: processes per median")
    parser.add_argument("--load_fast", default="auto", choices=("auto", "false"))
    parser.add_argument("--modes", default="off,thread,child,child-cached")
    args = parser.parse_args(argv)
    if args.part == "log_layers":
        log_layers_part(args.before, args.reps)
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    root = tempfile.mkdtemp(prefix="ce_first_")
    results = {}
    try:
        run = _write_logdir(root)
        for mode in modes:
            env = dict(os.environ)
            env.pop("CHANNELEXPLORER_NO_WARMUP", None)
            cache = os.path.join(root, "numba_cache_" + mode.replace("-cached", ""))
            if mode == "off":
                env["CHANNELEXPLORER_NO_WARMUP"] = "1"
            else:
                env["CHANNELEXPLORER_WARMUP_MODE"] = mode.replace("-cached", "")
            if not mode.endswith("-cached"):
                shutil.rmtree(cache, ignore_errors=True)
            env["NUMBA_CACHE_DIR"] = cache
            load = os.getloadavg()[0]
            results[mode] = _serve_and_time(os.path.join(root, "logs"), run, args.load_fast, env)
            print(f"[{mode}] done (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nloader: {args.load_fast}; 200 inputs, digits CNN; wall seconds "
          f"(in brackets: over the warm-up-free time of mode off)\n")
    print("| request | " + " | ".join(modes) + " |\n|---|" + "---|" * len(modes))
    names = [name for name, _ in results[modes[0]]]
    for i, name in enumerate(names):
        cells = []
        for mode in modes:
            dt = results[mode][i][1]
            ratio = f" ({dt / results['off'][i][1]:.1f}x)" if "off" in results and mode != "off" else ""
            cells.append(f"{dt:.2f}{ratio}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
