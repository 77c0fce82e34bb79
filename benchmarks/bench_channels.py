"""Channel views on a 2,048-channel layer: clustering + seriation, channel card, embedding, edges.

Two synthetic layers of ``N = 200`` inputs (10 classes) x ``C = 2048``
channels, float32 like the logged summaries:

* ``random``: independent gamma(1, 0.2) summaries; there is no structure, so
  the average-linkage tree is unbalanced and seriation above 256 channels
  handles about 256 small subtrees (the slow case);
* ``clustered``: noisy copies of 32 random prototypes (the case the view is
  for).

Each view is timed in a fresh Python process: ``first`` is the first call
of the process (it includes importing scipy/scikit-learn's compiled parts and
creating the thread-pool controller, a one-time cost of the plugin process);
``cold`` is the first call on a new matrix of the same shape after that (no
result of this data computed before: what a request for a not yet cached
layer costs); ``warm`` is the median of ``--repeats`` further calls on the
same matrix (the views cache nothing themselves, so this is the same work). The channel card is timed with the seriation and
cluster assignment given (the route takes them from the cached cluster view)
and without them (no cluster rank). Targets: clustering + seriation <= 1 s
cold, channel card <= 200 ms.

Run: ``python benchmarks/bench_channels.py [--channels 2048] [--inputs 200] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in the child process: builds the layer, times one view cold then warm.
_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from tensorboard_plugin_channelexplorer.views import channel_edges, channels, heatmap

n, c, kind, view, repeats = {n}, {c}, {kind!r}, {view!r}, {repeats}
rng = np.random.default_rng(0)
labels = np.arange(n) % 10
if kind == "random":
    S = rng.gamma(1.0, 0.2, (n, c))
else:
    protos = rng.gamma(1.0, 0.5, (n, 32))
    S = protos[:, rng.integers(0, 32, c)] + rng.gamma(1.0, 0.1, (n, c))
S = S.astype(np.float32)
pre = channels.channel_clusters(S, labels) if view in ("card", "edges") else None
W = rng.random((c, c)).astype(np.float32) if view == "edges" else None  # |w| of a C -> C layer

def run():
    if view == "clusters":
        return channels.channel_clusters(S, labels)["n_clusters"]
    if view == "heatmap_cluster":
        return len(heatmap.heatmap_view(S, labels, order="cluster", limit=256)["channels"])
    if view == "card":
        return channels.channel_card(S, labels, 7, order=pre["order"], assignment=pre["assignment"])["ranks"]["cluster"]
    if view == "card_bare":
        return channels.channel_card(S, labels, 7)["ranks"]["pairwise"]
    if view == "embedding_pca":
        return len(channels.channel_embedding(S, labels, method="pca")["points"])
    if view == "embedding_tsne":
        return len(channels.channel_embedding(S, labels, method="tsne")["points"])
    if view == "edges":
        return len(channel_edges.channel_edges(pre["assignment"], pre["assignment"], W, 0.5 * W)["bundles"])
    raise SystemExit(view)

t = time.perf_counter(); info = run(); first = time.perf_counter() - t
# Cold on fresh data in a process where the plugin already served a view
# (imports and the thread-pool controller done): a new matrix, same shape.
S = S[:, rng.permutation(c)] * np.float32(1.0 + 1e-3)
pre = channels.channel_clusters(S, labels) if view in ("card", "edges") else None
t = time.perf_counter(); run(); cold = time.perf_counter() - t
warm = []
for _ in range(repeats):
    t = time.perf_counter(); run(); warm.append(time.perf_counter() - t)
print(json.dumps({{"first": first, "cold": cold, "warm": float(np.median(warm)) if warm else None, "info": info}}))
"""

VIEWS = [
    ("clusters", "channel_clusters (cluster + k by silhouette + seriation + treemap)", 1.0),
    ("heatmap_cluster", "heatmap order=cluster (seriation), one page", None),
    ("card", "channel_card with seriation given", 0.2),
    ("card_bare", "channel_card without seriation", 0.2),
    ("embedding_pca", "channel_embedding pca", None),
    ("embedding_tsne", "channel_embedding t-SNE", None),
    ("edges", "channel_edges C x C weights", None),
]


def time_view(n: int, c: int, kind: str, view: str, repeats: int) -> dict:
    code = _CHILD.format(root=_ROOT, n=n, c=c, kind=kind, view=view, repeats=repeats)
    env = dict(os.environ, CHANNELEXPLORER_NO_WARMUP="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, default=2048)
    ap.add_argument("--inputs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--views", default=",".join(v for v, _, _ in VIEWS), help="comma-separated subset")
    ap.add_argument("--kinds", default="random,clustered")
    args = ap.parse_args(argv)
    wanted = set(args.views.split(","))
    print(f"N = {args.inputs} inputs x C = {args.channels} channels, float32; first = first call of a fresh "
          f"process, cold = first call on new data after that, warm = median of {args.repeats}")
    print(f"{'layer':<10} {'view':<64} {'first s':>8} {'cold s':>8} {'warm s':>8} {'target':>7} {'result':>8}")
    for kind in args.kinds.split(","):
        for view, label, target in VIEWS:
            if view not in wanted:
                continue
            r = time_view(args.inputs, args.channels, kind, view, args.repeats)
            warm = "-" if r["warm"] is None else f"{r['warm']:.3f}"
            tgt = "-" if target is None else f"<={target:g}"
            ok = "" if target is None else (" ok" if r["cold"] <= target else " OVER")
            print(f"{kind:<10} {label:<64} {r['first']:>8.3f} {r['cold']:>8.3f} {warm:>8} {tgt:>7}{ok} "
                  f"{r['info']!s:>5}")


if __name__ == "__main__":
    main()
