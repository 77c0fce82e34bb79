"""Latency of every ChannelExplorer route at realistic scale, and process memory.

Writes a synthetic run as real event files (a ``--layers``-layer model whose
channel counts ramp geometrically from 64 to ``--channels``, ``--inputs``
inputs, the four summary functions, thumbnails and activation maps for the
widest layers), loads it with TensorBoard's Rust data server and/or Python
loader, and times each route through a werkzeug test client:

* cold: a fresh plugin (empty cache) answering the route for the first time
  (includes reading and decoding blobs through the data provider);
* warm: the median of ``--repeat`` further identical requests (cache hits).

``--scale`` instead times the scatterplot view itself (no HTTP, no logdir)
at N = 2,000 / 5,000 / 10,000 / 50,000 inputs of ``--dims``-dimensional
summaries in ``--classes`` classes, the former code paths beside the current
ones in the same process: scikit-learn's t-SNE on all columns, UMAP on all
columns with umap-learn's default epochs, X-Means on all columns, against
openTSNE / UMAP / X-Means on the top 50 principal components. Former paths
above ``--old_max`` inputs are skipped (they take minutes each).

``--matrix`` times the similarity views (no HTTP, no logdir) at N =
``--matrix_sizes`` inputs of ``--matrix_channels`` channels in ``--classes``
classes (classes 0 and 1 fire the same channels): Jaccard and the hierarchy
exactly at 4,096 inputs and on their 4,096-input class-stratified sample
above, the dataset view (3 layers) at every N, the suspect scores of one layer
(exact, up to the route's cap), and the hierarchy's sampled
class-similarity matrix against the exact mean over all pairs (computed in
row blocks, up to ``--exact_max`` inputs), with whether the superclasses match.

Usage::

    python benchmarks/bench_views.py                 # 200 inputs x 2048 channels, 100 layers
    python benchmarks/bench_views.py --layers 10 --loaders python   # quicker
    python benchmarks/bench_views.py --scale         # scatterplot at 2k..50k inputs
    python benchmarks/bench_views.py --matrix        # Jaccard / hierarchy / dataset at 4k..50k inputs
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("CHANNELEXPLORER_NO_WARMUP", "1")  # warm-up is timed separately below

import logdir_fixtures as fx  # noqa: E402
from tensorboard_plugin_channelexplorer import metadata  # noqa: E402

PREFIX = "/data/plugin/channelexplorer"


def rss_mib() -> float:
    """Current resident set size of this process, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def write_logdir(root: str, n_layers: int, channels: int, n_inputs: int, n_classes: int) -> tuple[str, str]:
    """Writes the benchmark run; returns (run name, name of the widest layer)."""
    widths = np.unique(np.geomspace(64, channels, n_layers).round().astype(int))
    widths = np.resize(widths, n_layers)
    widths.sort()
    layers = []
    for i, c in enumerate(widths):
        spatial = max(1, 56 >> (4 * i // n_layers))
        has_maps = i >= n_layers - 3  # maps for the last (widest) layers only
        layers.append((f"block{i // 3}.conv{i % 3}", "Conv2d", (int(c), spatial, spatial), has_maps, True))
    data = fx.synthetic_step_data(n_inputs=n_inputs, n_classes=n_classes, layers=layers, seed=0, thumb_size=32)
    man = fx.manifest_for(data, layers, n_classes=n_classes, steps_written=1)
    fx.write_events(os.path.join(root, "bench"), [fx.step_event(0, data, man, fx.graph_for(layers), wall_time=1000.0)])
    return "bench", layers[-1][0]


def make_provider(loader: str, root: str):
    from conftest import python_provider, rust_provider

    if loader == "python":
        return python_provider(root)
    return rust_provider(root, expect_runs=["bench"])


def make_client(dp):
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test
    from werkzeug import wrappers

    from tensorboard_plugin_channelexplorer.plugin import ChannelExplorerPlugin

    ctx = base_plugin.TBContext(data_provider=dp, sampling_hints={metadata.PLUGIN_NAME: 0})
    return werkzeug_test.Client(application.TensorBoardWSGI([ChannelExplorerPlugin(ctx)]), wrappers.Response)


def timed_get(client, route: str, params: dict) -> tuple[float, int, int]:
    url = f"{PREFIX}{route}?{urllib.parse.urlencode(params)}" if params else f"{PREFIX}{route}"
    t0 = time.perf_counter()
    resp = client.get(url)
    body = resp.get_data()
    return time.perf_counter() - t0, resp.status_code, len(body)


def scale_summaries(n: int, dims: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class-separable non-negative summaries: each class lifts its own slice of channels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    X = rng.gamma(1.0, 0.2, (n, dims))
    for k in range(n_classes):
        rows = np.flatnonzero(labels == k)
        # Inputs differ in how strongly they show their class.
        X[np.ix_(rows, np.arange(dims)[k::n_classes])] += 3.0 * rng.uniform(0.3, 1.0, (rows.size, 1))
    return X, labels


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def scale_main(args) -> int:
    """The ``--scale`` table: former and current scatterplot paths side by side."""
    from tensorboard_plugin_channelexplorer.views import scatter
    from tensorboard_plugin_channelexplorer.views._validate import single_threaded
    from tensorboard_plugin_channelexplorer.views.xmeans import xmeans

    sizes = [int(v) for v in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    w, c = _timed(scatter.warm_up)
    print(f"in-process warm-up (UMAP JIT, openTSNE import): {w:.1f} s wall, {c:.1f} s CPU", flush=True)

    def old_view(X, y, layout):
        # The former scatter_view: layout and X-Means on all columns.
        layout(X)
        with single_threaded():
            xmeans(X, k_max=scatter.xmeans_cap(X.shape[0], np.unique(y).size), random_state=0)
            scatter.outliers(X, y)

    old_layouts = {
        "pca": scatter._pca,
        "tsne": lambda X: scatter._tsne_sklearn(X, 0),
        "umap": lambda X: scatter._umap(scatter._row_space(X), 0, n_epochs=None),
    }
    rows = []
    for n in sizes:
        X, y = scale_summaries(n, args.dims, args.classes)
        for method in args.methods.split(","):
            if method != "pca" and n > args.new_max:
                continue
            new = _timed(lambda: scatter.scatter_view(X, y, method=method, random_state=0))
            old = (None, None)
            if n <= (args.old_max if method != "pca" else args.old_max_pca):
                old = _timed(lambda: old_view(X, y, old_layouts[method]))
            rows.append((n, method, old, new))
            fmt = lambda t: "skipped" if t[0] is None else f"{t[0]:.1f} s ({t[1]:.1f} CPU)"  # noqa: E731
            print(f"  N={n} {method}: former {fmt(old)}, now {fmt(new)}", flush=True)

    cold = None
    if args.cold:
        # A fresh interpreter: imports included, nothing warmed (t-SNE has no JIT to warm).
        code = (f"import sys, time; sys.path[:0] = {sys.path[:3]!r}; "
                "from bench_views import scale_summaries; "
                "from tensorboard_plugin_channelexplorer.views import scatter; "
                f"X, y = scale_summaries({args.cold}, {args.dims}, {args.classes}); t0 = time.perf_counter(); "
                "scatter.scatter_view(X, y, method='tsne', random_state=0); "
                "print(time.perf_counter() - t0, time.process_time())")
        w0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        view_s, cpu_s = (float(v) for v in out.stdout.split())
        cold = (args.cold, time.perf_counter() - w0, view_s, cpu_s)

    print(f"\nscatter_view, {args.dims}-dim summaries, {args.classes} classes; wall seconds (CPU seconds "
          f"of this process); load average at end {os.getloadavg()[0]:.1f}\n")
    print("| inputs | method | former | now | speed-up (wall) |\n|---|---|---|---|---|")
    for n, method, old, new in rows:
        o = "skipped" if old[0] is None else f"{old[0]:.1f} ({old[1]:.1f})"
        sp = "" if old[0] is None else f"{old[0] / new[0]:.1f}x"
        print(f"| {n:,} | {method} | {o} | {new[0]:.1f} ({new[1]:.1f}) | {sp} |")
    if cold:
        print(f"\nt-SNE at N={cold[0]:,} in a fresh process: {cold[1]:.1f} s from interpreter start "
              f"({cold[2]:.1f} s in scatter_view, {cold[3]:.1f} s CPU in all)")
    return 0


def matrix_summaries(n: int, dims: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative float32 summaries: class k lifts channel slice k, except class 1, which lifts class 0's."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % n_classes)
    X = rng.gamma(1.0, 0.2, (n, dims)).astype(np.float32)
    for k in range(n_classes):
        rows = np.flatnonzero(labels == k)
        cols = np.arange(dims)[(0 if k == 1 else k)::n_classes]
        X[np.ix_(rows, cols)] += (3.0 * rng.uniform(0.3, 1.0, (rows.size, 1))).astype(np.float32)
    return X, labels


def exact_class_matrix(S: np.ndarray, labels: np.ndarray, eta: float, block: int = 2048) -> np.ndarray:
    """Mean Jaccard between classes over all pairs (diagonal: distinct pairs), without the N x N matrix."""
    from tensorboard_plugin_channelexplorer.views import jaccard

    classes = np.unique(labels)
    B = jaccard.top_channel_sets(S, eta)
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)
    sums = np.zeros((classes.size, classes.size))
    for start in range(0, labels.size, block):
        rows = np.arange(start, min(start + block, labels.size))
        J = jaccard.jaccard_from_sets(B[rows], B).astype(np.float64)
        J[np.arange(rows.size), rows] = 0.0  # leave out J_ii
        sums += onehot[rows].T @ J @ onehot
    counts = onehot.sum(axis=0)
    pairs = np.outer(counts, counts) - np.diag(counts)
    return sums / np.maximum(pairs, 1)


def _measured(fn):
    """(result, wall seconds, peak traced MiB) of ``fn()``; numpy reports its buffers to tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, wall, peak


def matrix_main(args) -> int:
    """The ``--matrix`` table: the similarity views exact at 4,096 inputs and sampled above."""
    from tensorboard_plugin_channelexplorer.encoding import dumps
    from tensorboard_plugin_channelexplorer.queries import MAX_MATRIX_INPUTS, MAX_SUSPECT_INPUTS
    from tensorboard_plugin_channelexplorer.views import dataset, hierarchy, jaccard, suspects

    cap = MAX_MATRIX_INPUTS
    sizes = [int(v) for v in args.matrix_sizes.split(",")]
    names = [f"class {k}" for k in range(args.classes)]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); cap {cap} inputs, "
          f"{args.matrix_channels} channels, {args.classes} classes, eta 0.2, seed 0", flush=True)
    rows = []
    for n in sizes:
        S, y = matrix_summaries(n, args.matrix_channels, args.classes)
        mode = "exact" if n <= cap else "sampled"
        for label, fn in (
            ("jaccard", lambda: jaccard.jaccard_view(S, y, max_inputs=cap)),
            ("jaccard (counts)", lambda: jaccard.jaccard_view(S, y, max_inputs=cap, matrix_format="counts")),
            ("hierarchy", lambda: hierarchy.confusion_hierarchy(S, y, names, max_inputs=cap)),
            ("dataset (3 layers)", lambda: dataset.dataset_view(
                [S[:, : args.matrix_channels // 4], S[:, args.matrix_channels // 4:], S], y)),
            ("suspects (1 layer)", lambda: suspects.suspects_view(S, y) if n <= MAX_SUSPECT_INPUTS else None),
        ):
            view, wall, peak = _measured(fn)
            if view is None:  # past the route's cap
                continue
            shown = (view.get("sampled") or {}).get("n_shown", n)
            err = same = ""
            if label == "hierarchy" and n <= args.exact_max:
                exact = exact_class_matrix(S, y, 0.2)
                diff = np.abs(np.asarray(view["class_matrix"]) - exact)
                err = f"{diff.max():.4f} / {diff.mean():.4f}"
                if n > cap:
                    full = hierarchy.confusion_hierarchy(S, y, names, max_inputs=None)
                    supers = sorted(tuple(c["classes"]) for c in view["tree"]["children"])
                    same = "yes" if supers == sorted(tuple(c["classes"]) for c in full["tree"]["children"]) else "NO"
            t0 = time.perf_counter()
            body = dumps(view)  # the route serializes once per cache key
            json_s = time.perf_counter() - t0
            how = {"dataset (3 layers)": "sampled pairs", "suspects (1 layer)": "exact"}.get(label, mode)
            rows.append((n, label, how, shown, wall,
                         json_s, len(body) / 2**20, peak, err, same))
            print(f"  N={n} {label}: {wall:.2f} s + {json_s:.2f} s JSON", flush=True)
    print()
    print("s: the view; json s: its serialization (the route does both once per cache key); "
          "jaccard (counts): matrix=counts, as the tab asks")
    print(f"{'N':>6} {'view':<19} {'mode':<14} {'rows':>6} {'s':>7} {'json s':>7} {'resp MiB':>9} {'peak MiB':>9} "
          f"{'class-matrix err max/mean':>26} {'same supers':>11}")
    for n, label, mode, shown, wall, json_s, mib, peak, err, same in rows:
        print(f"{n:>6} {label:<19} {mode:<14} {shown:>6} {wall:>7.2f} {json_s:>7.2f} {mib:>9.2f} {peak:>9.0f} "
              f"{err:>26} {same:>11}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--inputs", type=int, default=200)
    p.add_argument("--channels", type=int, default=2048)
    p.add_argument("--layers", type=int, default=100)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--loaders", default="rust,python", help="comma-separated: rust, python")
    p.add_argument("--skip", default="", help="comma-separated route labels to skip (e.g. 'scatter umap')")
    p.add_argument("--scale", action="store_true", help="time scatter_view at --sizes inputs instead")
    p.add_argument("--sizes", default="2000,5000,10000,50000")
    p.add_argument("--dims", type=int, default=512)
    p.add_argument("--methods", default="tsne,umap,pca")
    p.add_argument("--new_max", type=int, default=10000, help="largest N for the current t-SNE/UMAP")
    p.add_argument("--old_max", type=int, default=10000, help="largest N for the former t-SNE/UMAP")
    p.add_argument("--cold", type=int, default=10000, help="N of the fresh-process t-SNE row (0: none)")
    p.add_argument("--old_max_pca", type=int, default=10000,
                   help="largest N for the former PCA view (its X-Means on all columns)")
    p.add_argument("--matrix", action="store_true", help="time the Jaccard/hierarchy/dataset views instead")
    p.add_argument("--matrix_sizes", default="4096,5000,10000,20000,50000")
    p.add_argument("--matrix_channels", type=int, default=512)
    p.add_argument("--exact_max", type=int, default=20000, help="largest N for the exact class matrix")
    args = p.parse_args(argv)
    if args.scale:
        return scale_main(args)
    if args.matrix:
        return matrix_main(args)

    rss0 = rss_mib()
    with tempfile.TemporaryDirectory(prefix="ce_bench_") as root:
        t0 = time.perf_counter()
        run, wide = write_logdir(root, args.layers, args.channels, args.inputs, args.classes)
        size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs)
        print(f"wrote {args.layers} layers x {args.inputs} inputs (widest {wide}: {args.channels} channels), "
              f"{size / 2**20:.0f} MiB of event files in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        from tensorboard_plugin_channelexplorer.views import scatter

        scatter.warm_up()  # what the plugin's warm-up does at start
        print(f"plugin warm-up (UMAP JIT, once per process, in a daemon thread): {time.perf_counter() - t0:.1f} s")

        L = {"run": run, "step": 0, "layer": wide}
        routes = [
            ("runs", "/runs", {}),
            ("layers", "/layers", {"run": run}),
            ("graph", "/graph", {"run": run}),
            ("inputs", "/inputs", {"run": run}),
            ("summaries", "/summaries", L),
            ("thumbnail", "/thumbnail", {"run": run, "index": 5}),
            ("scatter pca", "/scatter", dict(L, method="pca")),
            ("scatter tsne", "/scatter", dict(L, method="tsne")),
            ("scatter umap", "/scatter", dict(L, method="umap")),
            ("scatter pca k=5", "/scatter", dict(L, method="pca", k=5)),
            ("jaccard", "/jaccard", L),
            ("jaccard_cell", "/jaccard_cell", dict(L, i=0, j=1)),
            ("hierarchy", "/hierarchy", L),
            ("heatmap pairwise", "/heatmap", L),
            ("heatmap variance", "/heatmap", dict(L, order="variance")),
            ("overlay", "/overlay", dict(L, index=4, channel=7)),
            ("dataset (all layers)", "/dataset", {"run": run}),
        ]
        skip = {s.strip() for s in args.skip.split(",") if s.strip()}
        rows = []
        for loader in [s.strip() for s in args.loaders.split(",") if s.strip()]:
            t0 = time.perf_counter()
            dp = make_provider(loader, root)
            print(f"[{loader}] loader ready in {time.perf_counter() - t0:.1f} s; RSS {rss_mib():.0f} MiB")
            for label, route, params in routes:
                if label in skip:
                    continue
                client = make_client(dp)  # fresh plugin: empty cache
                cold, status, nbytes = timed_get(client, route, params)
                warm = statistics.median(timed_get(client, route, params)[0] for _ in range(args.repeat))
                rows.append((loader, label, status, cold, warm, nbytes, rss_mib()))
                print(f"  {label}: cold {cold * 1e3:.0f} ms, warm {warm * 1e3:.1f} ms", flush=True)

    print()
    print(f"{'loader':<7} {'route':<22} {'status':>6} {'cold ms':>9} {'warm ms':>9} {'bytes':>10} {'RSS MiB':>8}")
    for loader, label, status, cold, warm, nbytes, rss in rows:
        print(f"{loader:<7} {label:<22} {status:>6} {cold * 1e3:>9.1f} {warm * 1e3:>9.1f} {nbytes:>10} {rss:>8.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"\nRSS at start {rss0:.0f} MiB, at end {rss_mib():.0f} MiB, peak {peak:.0f} MiB "
          f"(includes the Python loader's in-memory copy of the event data when it is benchmarked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
