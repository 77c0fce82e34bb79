"""Benchmark of the batched channel summaries.

For each activation shape prints: time of ``summarize`` (all four
functions), time without Otsu, time of one elementwise pass (``x.abs()``, a
memory-bandwidth yardstick), the per-channel Python loop reference
(numpy + ``skimage.filters.threshold_otsu``, timed on a few channels and
extrapolated), and the peak temporary memory of ``summarize``.

Peak memory: on CUDA ``torch.cuda.max_memory_allocated`` minus the input;
on CPU the growth of the peak RSS of a fresh subprocess (an upper bound that
includes allocator slack).

Usage::

    python benchmarks/bench_summaries.py [--device cpu|cuda] [--repeats 3]
        [--shapes 32x64x56x56 200x2048x8x8 ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

DEFAULT_SHAPES = ["32x64x56x56", "32x256x14x14", "32x1280x7x7", "200x2048x8x8"]


def _parse(shape: str) -> tuple[int, ...]:
    dims = tuple(int(s) for s in shape.lower().split("x"))
    if len(dims) != 4:
        raise ValueError(f"shape must be NxCxHxW, got {shape!r}")
    return dims


def _time(fn, repeats: int, sync) -> float:
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def _child(shape: str, device: str, repeats: int) -> dict:
    import numpy as np
    import torch
    from skimage.filters import threshold_otsu

    from tensorboard_plugin_channelexplorer.summaries import summarize

    n, c, h, w = _parse(shape)
    torch.manual_seed(0)
    x = torch.randn(n, c, h, w, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    # Peak memory of one call first, before the other timings allocate.
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        summarize(x)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        summarize(x)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before

    t_all = _time(lambda: summarize(x), repeats, sync)
    t_plain = _time(lambda: summarize(x, ("l2", "mean", "max")), repeats, sync)
    t_abs = _time(lambda: x.abs(), repeats, sync)

    # Per-channel loop reference on a sample of channels, extrapolated.
    a = x[:1].abs().float().cpu().numpy().reshape(-1, h, w)
    k = min(len(a), 256)
    t = time.perf_counter()
    for m in a[:k]:
        thr = threshold_otsu(m)
        m64 = m.astype(np.float64)
        (m64[m > thr].sum(), np.sqrt((m64**2).sum()), m64.mean(), m64.max())
    t_loop = (time.perf_counter() - t) / k * n * c
    return {
        "shape": shape,
        "summarize_ms": t_all * 1e3,
        "no_otsu_ms": t_plain * 1e3,
        "abs_ms": t_abs * 1e3,
        "loop_ms": t_loop * 1e3,
        "peak_mib": peak / 2**20,
        "input_mib": x.numel() * 4 / 2**20,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", default=DEFAULT_SHAPES)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.device, args.repeats)))
        return

    import torch

    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, best of {args.repeats}")
    header = f"{'shape':>16} {'input MiB':>9} {'summarize ms':>12} {'no-otsu ms':>10} {'abs() ms':>8} {'loop ref ms':>11} {'speedup':>8} {'peak tmp MiB':>12}"
    print(header)
    print("-" * len(header))
    for shape in args.shapes:
        _parse(shape)
        out = subprocess.run(
            [sys.executable, __file__, "--child", shape, "--device", args.device, "--repeats", str(args.repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['shape']:>16} {r['input_mib']:>9.1f} {r['summarize_ms']:>12.1f} {r['no_otsu_ms']:>10.1f}"
            f" {r['abs_ms']:>8.1f} {r['loop_ms']:>11.0f} {r['loop_ms'] / r['summarize_ms']:>7.0f}x {r['peak_mib']:>12.1f}"
        )


if __name__ == "__main__":
    main()
