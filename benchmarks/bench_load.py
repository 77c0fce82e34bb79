"""Live-load benchmark: a real TensorBoard under 8 concurrent clients while a writer adds steps.

Runs the scenario of ``tests/test_live_load.py`` (`run_load`) for 60 s by
default and prints requests, errors, latency percentiles per route and the
TensorBoard process's RSS over time.

Usage::

    python benchmarks/bench_load.py [--seconds 60] [--threads 8] [--inputs 40] [--tsne-every 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from test_live_load import run_load  # noqa: E402

from tensorboard_plugin_channelexplorer.cache import DEFAULT_MAX_BYTES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--inputs", type=int, default=40, help="inputs per logged step")
    parser.add_argument("--period", type=float, default=0.5, help="seconds between the writer's steps")
    parser.add_argument("--tsne-every", type=int, default=0, help="every n-th request is a t-SNE scatter")
    args = parser.parse_args()
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
