"""Load benchmarks against a real TensorBoard process.

``--case live`` (default): 8 concurrent clients while a writer adds steps.
Runs the scenario of ``tests/test_live_load.py`` (`run_load`) for 60 s by
default and prints requests, errors, latency percentiles per route and the
TensorBoard process's RSS over time.

``--case contention``: 1 client asks for t-SNE scatterplots of N = 4,096
inputs (a new seed each time, so each one computes) while 7 clients ask for
heatmaps and Jaccard matrices of a 200-input run (new parameters each time,
so each one computes too). It runs once per value of ``--compute-workers``
(``CHANNELEXPLORER_COMPUTE_WORKERS`` of the TensorBoard process; 0 is the
former one-computation-at-a-time lock, 4 the default pool) and prints the
p50/p99 latency of the small requests and the t-SNE times side by side.

Usage::

    python benchmarks/bench_load.py [--seconds 60] [--threads 8] [--inputs 40] [--tsne-every 0]
    python benchmarks/bench_load.py --case contention [--seconds 30] [--tsne-inputs 4096] [--compute-workers 0,4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
import urllib.parse

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

import logdir_fixtures as fx  # noqa: E402
import tb_process  # noqa: E402
from test_live_load import run_load  # noqa: E402

from tensorboard_plugin_channelexplorer.cache import DEFAULT_MAX_BYTES  # noqa: E402
from tensorboard_plugin_channelexplorer.compute_pool import COMPUTE_WORKERS_ENV  # noqa: E402

PREFIX = "/data/plugin/channelexplorer"


def _timed_get(base: str, route: str, **params) -> tuple[int, float]:
    t0 = time.perf_counter()
    status, _, _ = tb_process.http_get(f"{base}{PREFIX}{route}?{urllib.parse.urlencode(params)}", timeout=600)
    return status, time.perf_counter() - t0


def _contention_run(base: str, seconds: float, small_clients: int) -> dict:
    """Latencies of the t-SNE client and of the small clients over `seconds` (requests in flight finish)."""
    stop = time.monotonic() + seconds
    seeds = itertools.count(1)
    variants = itertools.count(1)
    lock = threading.Lock()
    out = {"tsne": [], "small": [], "errors": []}

    def record(kind, status, sec, what):
        with lock:
            out[kind].append(sec)
            if status != 200:
                out["errors"].append((status, what))

    def tsne_client():
        while time.monotonic() < stop:
            seed = next(seeds)
            status, sec = _timed_get(base, "/scatter", run="big", layer="conv", method="tsne", seed=seed)
            record("tsne", status, sec, f"tsne seed={seed}")

    def small_client():
        while time.monotonic() < stop:
            j = next(variants)
            if j % 2:  # a new limit, so the heatmap is computed, not cached
                status, sec = _timed_get(base, "/heatmap", run="small", layer="features.0", limit=1 + j % 4000)
            else:  # a new eta, likewise
                status, sec = _timed_get(base, "/jaccard", run="small", layer="features.0", eta=0.05 + (j % 9000) * 1e-4)
            record("small", status, sec, f"small {j}")

    threads = [threading.Thread(target=tsne_client)] + [threading.Thread(target=small_client)
                                                        for _ in range(small_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def contention(seconds: float, tsne_inputs: int, small_clients: int, workers_list: list[int]) -> None:
    """The contention case (see the module docstring): one row per compute-worker count."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="ce-bench-contention-") as work:
        logdir = os.path.join(work, "logdir")
        fx.write_synthetic_run(logdir, "big", steps=(0,), n_inputs=tsne_inputs, n_classes=10,
                               layers=(("conv", "Conv2d", (64, 4, 4), False, False),))
        fx.write_synthetic_run(logdir, "small", steps=(0,), n_inputs=200, n_classes=10)
        for workers in workers_list:
            os.environ[COMPUTE_WORKERS_ENV] = str(workers)
            proc, base = tb_process.start_tensorboard(logdir, log_path=os.path.join(work, f"tb-{workers}.log"))
            try:
                # Imports and numba compilation happen before the clock starts.
                for route, params in (("/heatmap", {}), ("/jaccard", {}), ("/scatter", {"method": "tsne"})):
                    _timed_get(base, route, run="small", layer="features.0", **params)
                _timed_get(base, "/scatter", run="big", layer="conv", method="tsne", seed=0)
                rows.append((workers, _contention_run(base, seconds, small_clients)))
            finally:
                tb_process.stop(proc)
    print(f"\ncontention: {seconds:.0f} s per row; 1 client t-SNE at N={tsne_inputs}, "
          f"{small_clients} clients heatmap/Jaccard at N=200; {os.cpu_count()} CPUs")
    print(f"{'compute workers':<22}{'small n':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'t-SNE n':>9}{'t-SNE mean s':>14}{'errors':>8}")
    for workers, out in rows:
        small = np.asarray(out["small"]) * 1000
        tsne = np.asarray(out["tsne"])
        label = f"{workers} (one at a time)" if workers == 0 else f"{workers} (pool)"
        print(f"{label:<22}{len(small):>8}{np.percentile(small, 50):>9.1f}{np.percentile(small, 99):>9.1f}"
              f"{small.max():>9.1f}{len(tsne):>9}{tsne.mean():>14.2f}{len(out['errors']):>8}")
        for status, what in out["errors"][:3]:
            print(f"  ERROR {status} {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("live", "contention"), default="live")
    parser.add_argument("--seconds", type=float, default=None, help="duration (default 60 live, 30 per contention row)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--inputs", type=int, default=40, help="inputs per logged step")
    parser.add_argument("--period", type=float, default=0.5, help="seconds between the writer's steps")
    parser.add_argument("--tsne-every", type=int, default=0, help="every n-th request is a t-SNE scatter")
    parser.add_argument("--tsne-inputs", type=int, default=4096, help="contention: N of the t-SNE run")
    parser.add_argument("--compute-workers", default="0,4",
                        help="contention: comma-separated CHANNELEXPLORER_COMPUTE_WORKERS values, one row each")
    args = parser.parse_args()
    if args.case == "contention":
        workers = [int(w) for w in args.compute_workers.split(",")]
        contention(args.seconds or 30.0, args.tsne_inputs, args.threads - 1, workers)
        return
    args.seconds = args.seconds or 60.0
    with tempfile.TemporaryDirectory(prefix="ce-bench-load-") as work:
        stats = run_load(work, duration_s=args.seconds, threads=args.threads, n_inputs=args.inputs,
                         writer_period_s=args.period, tsne_every=args.tsne_every)
    lat = stats["latencies"]
    allv = np.concatenate([np.asarray(v) for v in lat.values()]) if lat else np.zeros(1)
    print(f"\nload: {args.seconds:.0f} s, {args.threads} threads, N={args.inputs}, writer every {args.period} s")
    print(f"requests: {stats['requests']} ({stats['requests'] / stats['elapsed_s']:.0f}/s, half are /runs polls), "
          f"errors: {len(stats['errors'])}")
    print(f"steps written: {stats['steps_written']}, steps listed by the end: {stats['steps_seen']}")
    print(f"\n{'route':<14}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for route in sorted(lat):
        v = np.asarray(lat[route]) * 1000
        print(f"{route:<14}{len(v):>7}{np.percentile(v, 50):>10.1f}{np.percentile(v, 99):>10.1f}{v.max():>10.1f}")
    v = allv * 1000
    print(f"{'all views':<14}{len(v):>7}{np.percentile(v, 50):>10.1f}{np.percentile(v, 99):>10.1f}{v.max():>10.1f}")
    print(f"\nTensorBoard RSS (pid {stats['tb_pid']}; cache bound {DEFAULT_MAX_BYTES / 2**20:.0f} MiB):")
    rss = stats["rss"]
    for t, b in rss[:: max(1, len(rss) // 12)] + rss[-1:]:
        print(f"  t={t:5.1f} s  {b / 2**20:7.1f} MiB")
    print("\nhuge requests (status, seconds):")
    for name, (status, sec, err) in stats["huge"].items():
        print(f"  {name:<24} {status}  {sec:.3f} s  {err[:70]}")
    for status, url, body in stats["errors"][:10]:
        print(f"ERROR {status} {url} {body[:200]!r}")


if __name__ == "__main__":
    main()
