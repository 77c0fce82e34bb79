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

Usage: python benchmarks/bench_first_request.py [--load_fast false] [--modes off,thread,child,child-cached]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load_fast", default="auto", choices=("auto", "false"))
    parser.add_argument("--modes", default="off,thread,child,child-cached")
    args = parser.parse_args(argv)
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
