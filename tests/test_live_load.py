"""Live load: a real TensorBoard, a writer adding steps, 8 concurrent clients.

`run_load` starts a writer subprocess (``log_layers`` on the digits CNN every
~0.5 s, ``flush()`` after each step), a ``tensorboard`` subprocess on a free
loopback port (``--samples_per_plugin channelexplorer=0 --reload_interval 1``;
Rust data server) and 8 client threads that, for a bounded time, list the
runs and request views of the steps listed (so always valid requests, often
for a step that has just appeared). It records every status and latency and
samples the TensorBoard process's VmRSS once a second.

The test (~15 s of load) asserts 0 errors (non-200 for valid requests) and an
RSS bounded by the cache limit (`cache.DEFAULT_MAX_BYTES`) plus a generous
base. ``benchmarks/bench_load.py`` runs the 60 s version and prints a table.
It also checks that requests whose computation would be huge get a clear
400 at once (``MAX_MATRIX_INPUTS``, heatmap ``limit``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
from helpers import PREFIX, make_client
from tb_process import http_get, start_tensorboard, stop, writer_script

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import cache as cache_mod

RUN = "live"
STARTUP_TIMEOUT_S = 90
# Base RSS allowance on top of the cache bound: TensorBoard, numpy, scikit-learn,
# scipy and the request buffers (measured: ~300-450 MiB).
RSS_BASE_ALLOWANCE = 768 * 1024 * 1024

WRITER_LOOP = """
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    names = [str(i) for i in range(10)]
    step = 0
    while True:
        t0 = time.monotonic()
        model.train()
        loss = torch.nn.functional.cross_entropy(model(x), y)  # a little training between steps
        opt.zero_grad(); loss.backward(); opt.step()
        model.eval()
        w.log_layers(model, x, y, step=step, class_names=names)
        w.flush()
        print("step", step, flush=True)
        step += 1
        time.sleep(max(0.0, {period} - (time.monotonic() - t0)))
"""


def vm_rss(pid: int) -> int | None:
    """Resident set size of a process in bytes (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _requests_for(run: str, step: int, layers: list[dict], n: int, rng: random.Random) -> tuple[str, dict]:
    """One valid request for `step` of `run`."""
    layer = rng.choice(layers)
    L = {"run": run, "step": step, "layer": layer["name"]}
    choices = [
        ("/layers", {"run": run, "step": step}),
        ("/inputs", {"run": run, "step": step}),
        ("/graph", {"run": run, "step": step}),
        ("/summaries", dict(L, fn=rng.choice(["l2", "otsu", "mean", "max"]))),
        ("/jaccard", dict(L, eta=rng.choice([0.1, 0.2, 0.5]))),
        ("/jaccard_cell", dict(L, i=rng.randrange(n), j=rng.randrange(n))),
        ("/heatmap", dict(L, order=rng.choice(["pairwise", "variance"]), limit=64)),
        ("/scatter", dict(L, method="pca", seed=rng.randrange(3))),
        ("/hierarchy", L),
        ("/dataset", {"run": run, "step": step, "reference": rng.randrange(10)}),
        ("/thumbnail", {"run": run, "step": step, "index": rng.randrange(n)}),
    ]
    if layer.get("has_maps"):
        choices.append(("/overlay", dict(L, index=0, channel=rng.randrange(layer["channels"]))))
    return rng.choice(choices)


def run_load(workdir: str, duration_s: float, threads: int = 8, writer_period_s: float = 0.5,
             n_inputs: int = 40, tsne_every: int = 0, log=print) -> dict:
    """Runs the live-load scenario (see the module docstring) and returns its statistics.

    Args:
        workdir: an empty directory (logdir and logs go there).
        duration_s: seconds of client load.
        threads: concurrent client threads.
        writer_period_s: seconds between two steps of the writer.
        n_inputs: inputs per step.
        tsne_every: when > 0, every n-th request of a thread is a t-SNE scatter.
        log: progress printer.

    Returns:
        dict with ``requests``, ``errors`` (list of (status, url, body)),
        ``latencies`` {route: [seconds]}, ``rss`` [(t, bytes)], ``steps_seen``,
        ``steps_written``, ``tb_pid``.
    """
    if not fx.writer_available():
        raise RuntimeError("writer.py is not available")
    logdir = os.path.join(workdir, "logdir")
    os.makedirs(logdir, exist_ok=True)
    env = dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1", OMP_NUM_THREADS="1")
    script = writer_script(os.path.join(logdir, RUN), n_inputs, WRITER_LOOP, period=writer_period_s)
    writer_log = open(os.path.join(workdir, "writer.log"), "wb")
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=writer_log, stderr=subprocess.STDOUT,
                              env=env, start_new_session=True)
    tb_log_path = os.path.join(workdir, "tensorboard.log")
    try:
        tb, host = start_tensorboard(logdir, "--reload_interval", "1", log_path=tb_log_path,
                                     timeout=STARTUP_TIMEOUT_S, env={"OMP_NUM_THREADS": "1"})
    except RuntimeError as exc:
        stop(writer)
        writer_log.close()
        with open(writer_log.name, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"startup failed: writer exit={writer.poll()}\n{exc}\n{tail}") from exc
    port = host.rsplit(":", 1)[1]
    base = host + PREFIX
    stats = {"requests": 0, "errors": [], "latencies": {}, "rss": [], "steps_seen": 0, "tb_pid": tb.pid}
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if tb.poll() is not None or writer.poll() is not None or time.monotonic() > deadline:
                writer_log.flush()
                raise RuntimeError(
                    "startup failed: tensorboard exit=%s writer exit=%s\n%s\n%s" % (
                        tb.poll(), writer.poll(), open(tb_log_path, "rb").read()[-2000:].decode("utf-8", "replace"),
                        open(writer_log.name, "rb").read()[-2000:].decode("utf-8", "replace")))
            try:
                status, _, body = http_get(base + "/runs", timeout=5)
                if status == 200 and any(r["run"] == RUN and r["steps"] for r in json.loads(body)["runs"]):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        log(f"tensorboard ready on port {port} (pid {tb.pid}); load for {duration_s:.0f} s with {threads} threads")
        t_start = time.monotonic()
        stop_at = t_start + duration_s
        done = threading.Event()

        def sample_rss():
            while not done.is_set():
                rss = vm_rss(tb.pid)
                if rss is not None:
                    with lock:
                        stats["rss"].append((time.monotonic() - t_start, rss))
                done.wait(1.0)

        layers_cache: dict = {}

        def client(seed: int):
            rng = random.Random(seed)
            i = 0
            while time.monotonic() < stop_at:
                i += 1
                status, _, body = http_get(base + "/runs")
                if status != 200:
                    with lock:
                        stats["errors"].append((status, "/runs", body[:300]))
                    continue
                steps = next(r["steps"] for r in json.loads(body)["runs"] if r["run"] == RUN)
                # Half of the requests go to the newest step (the one most likely in flux).
                step = steps[-1] if rng.random() < 0.5 else rng.choice(steps)
                if step not in layers_cache:
                    s, _, b = http_get(f"{base}/layers?run={RUN}&step={step}")
                    if s != 200:
                        with lock:
                            stats["errors"].append((s, f"/layers step {step}", b[:300]))
                        continue
                    layers_cache[step] = json.loads(b)
                man = layers_cache[step]
                if tsne_every and i % tsne_every == 0:
                    route, params = "/scatter", {"run": RUN, "step": step, "layer": man["layers"][0]["name"],
                                                 "method": "tsne"}
                else:
                    route, params = _requests_for(RUN, step, man["layers"], man["n_inputs"], rng)
                url = f"{base}{route}?{urllib.parse.urlencode(params)}"
                t0 = time.perf_counter()
                status, _, body = http_get(url)
                dt = time.perf_counter() - t0
                with lock:
                    stats["requests"] += 2
                    stats["latencies"].setdefault(route, []).append(dt)
                    stats["steps_seen"] = max(stats["steps_seen"], len(steps))
                    if status != 200:
                        stats["errors"].append((status, url, body[:300]))

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        workers = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=duration_s + 300)
        done.set()
        sampler.join(timeout=5)
        stats["elapsed_s"] = time.monotonic() - t_start
        with open(writer_log.name, "rb") as f:
            stats["steps_written"] = f.read().count(b"step ")
        stats["huge"] = check_huge_requests(base, workdir)
        return stats
    finally:
        stop(writer)
        stop(tb)
        writer_log.close()


def check_huge_requests(base: str, workdir: str) -> dict:
    """Requests whose computation would be huge answer a clear 400 quickly; returns {name: (status, seconds)}."""
    out = {}
    layer = json.loads(http_get(f"{base}/layers?run={RUN}")[2])["layers"][0]["name"]
    for name, route, params in [
        ("heatmap limit 10^9", "/heatmap", {"run": RUN, "layer": layer, "limit": 10**9}),
        ("scatter k 10^9", "/scatter", {"run": RUN, "layer": layer, "method": "pca", "k": 10**9}),
        ("trajectory 1000 steps", "/trajectory", {"run": RUN, "layer": layer, "steps": ",".join(map(str, range(1000)))}),
    ]:
        t0 = time.perf_counter()
        status, _, body = http_get(f"{base}{route}?{urllib.parse.urlencode(params)}")
        out[name] = (status, time.perf_counter() - t0, json.loads(body).get("error", "") if status != 200 else "")
    return out


@pytest.mark.skipif(not fx.writer_available(), reason="writer.py is not available")
def test_live_load(tmp_path):
    from importlib.metadata import entry_points

    if not any(e.name == "channelexplorer" for e in entry_points(group="tensorboard_plugins")):
        pytest.skip("plugin entry point not installed (run `pip install -e .`)")
    stats = run_load(str(tmp_path), duration_s=15, threads=8, n_inputs=24)
    rss = [b for _t, b in stats["rss"]]
    print(f"\nlive load: {stats['requests']} requests in {stats['elapsed_s']:.1f} s, {len(stats['errors'])} errors, "
          f"steps written {stats['steps_written']}, listed {stats['steps_seen']}, "
          f"RSS {min(rss) / 2**20:.0f}-{max(rss) / 2**20:.0f} MiB; huge: {stats['huge']}")
    assert stats["requests"] >= 50
    assert stats["steps_seen"] >= 3, "the writer's new steps never showed up"
    assert not stats["errors"], stats["errors"][:5]
    assert rss and max(rss) < cache_mod.DEFAULT_MAX_BYTES + RSS_BASE_ALLOWANCE, rss
    for name, (status, _seconds, error) in stats["huge"].items():
        if name.startswith("trajectory") and status == 404:
            continue  # route not registered in this version
        assert status == 400 and error, (name, status, error)


def test_matrix_cap_answers_400(monkeypatch):
    """Past MAX_SAMPLED_INPUTS (sampling views) or MAX_MATRIX_INPUTS (/diff) inputs: 400 naming the cap."""
    import urllib.parse as up

    from conftest import python_provider

    from tensorboard_plugin_channelexplorer import queries

    import tempfile

    with tempfile.TemporaryDirectory() as root:
        fx.write_synthetic_run(root, "main", steps=(0,), n_inputs=24)
        monkeypatch.setattr(queries, "MAX_MATRIX_INPUTS", 10)
        monkeypatch.setattr(queries, "MAX_SAMPLED_INPUTS", 10)
        plugin, _, client = make_client(python_provider(root))
        routes = plugin.get_plugin_apps()
        for route, params in [("/jaccard", {}), ("/hierarchy", {}), ("/dataset", {}),
                              ("/diff", {"run_a": "main", "run_b": "main"})]:
            if route not in routes:
                continue
            resp = client.get(f"{PREFIX}{route}?" + up.urlencode(dict(run="main", layer="features.0", **params)))
            body = json.loads(resp.get_data())
            assert resp.status_code == 400 and "N=24" in body["error"] and "10" in body["error"], (route, body)
        # Routes that are not N x N still answer; /suspects has a cap of its own (exact scores, no sample).
        assert client.get(f"{PREFIX}/heatmap?run=main&layer=features.0").status_code == 200
        suspects = client.get(f"{PREFIX}/suspects?run=main&layer=features.0")
        assert suspects.status_code == 200 and json.loads(suspects.get_data())["layers"][0]["n_inputs"] == 24
        monkeypatch.setattr(queries, "MAX_SUSPECT_INPUTS", 10)
        resp = client.get(f"{PREFIX}/suspects?run=main&layer=features.0")
        body = json.loads(resp.get_data())
        assert resp.status_code == 400 and body["parameter"] == "run" and "N=24" in body["error"], body
