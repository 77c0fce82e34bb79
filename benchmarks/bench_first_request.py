"""First requests after TensorBoard starts: is anybody paying for UMAP's JIT?

Writes a digits-CNN logdir with the real writer (200 inputs, 1 step), starts a
real ``tensorboard`` on a free loopback port, waits until the plugin is listed,
then times the first requests a user's tab makes (the default t-SNE
scatterplot first), then a UMAP scatterplot while the plugin's background
warm-up may still be compiling. Prints a table.

Usage: python benchmarks/bench_first_request.py [--load_fast false]
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    with ChannelExplorerWriter(os.path.join(root, "digits")) as w:
        w.log_layers(model, x_test[:200], labels=y_test[:200], step=0)
    return "digits"


def _get(url: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as resp:
        resp.read()
        return resp.status, time.perf_counter() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load_fast", default="auto", choices=("auto", "false"))
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="ce_first_")
    run = _write_logdir(root)
    port = _free_port()
    exe = shutil.which("tensorboard") or "tensorboard"
    cmd = [exe, "--logdir", root, "--host", "127.0.0.1", "--port", str(port),
           "--samples_per_plugin", "channelexplorer=0", "--load_fast", args.load_fast]  # fmt: skip
    env = dict(os.environ)
    env.pop("CHANNELEXPLORER_NO_WARMUP", None)
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
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
            if time.perf_counter() - t_start > 120:
                raise SystemExit("tensorboard did not start")
            time.sleep(0.2)
        rows.append(("server up (plugins_listing)", time.perf_counter() - t_start))
        p = f"{base}/data/plugin/channelexplorer"
        for name, path in [
            ("/runs", "/runs"),
            ("/layers", f"/layers?run={run}"),
            ("/scatter (default t-SNE), first", f"/scatter?run={run}&layer=conv3"),
            ("/scatter umap, first", f"/scatter?run={run}&layer=conv3&method=umap"),
            ("/scatter umap, other layer", f"/scatter?run={run}&layer=conv2&method=umap"),
        ]:
            status, dt = _get(p + path)
            rows.append((f"{name} [{status}]", dt))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nloader: {args.load_fast}; 200 inputs, digits CNN\n")
    print("| request | seconds |\n|---|---|")
    for name, dt in rows:
        print(f"| {name} | {dt:.2f} |")


if __name__ == "__main__":
    main()
