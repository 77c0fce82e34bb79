"""Separability timeline, aligned embeddings and diffs on real training of the digits CNN.

Trains `examples/digits.py`'s CNN twice (SGD momentum 0.9, lr 0.05 and a tiny
lr 1e-4), logs a fixed probe of 200 test inputs (20 per class, stable sample
ids = dataset indices) with `ChannelExplorerWriter` before training (step 0)
and after every epoch, then reads the logdir back through TensorBoard's
Python loader and the plugin's HTTP routes and prints:

* the separability score (k-NN leave-one-out, ``/timeline``) per layer and
  epoch, with the probe accuracy from the logged predictions and the
  Spearman correlation of the last conv layer's score with accuracy;
* mean displacement of the inputs between consecutive epochs in ``/trajectory``
  (PCA and t-SNE), Procrustes-aligned vs unaligned;
* ``/diff`` of the first vs the last epoch, and of the two runs at the last epoch;
* the time of each route (cold, then warm from the cache).

Run: ``python benchmarks/bench_timeline.py [--epochs 6] [--logdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.parse
import warnings

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (_ROOT, os.path.join(_ROOT, "examples")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
os.environ.setdefault("CHANNELEXPLORER_NO_WARMUP", "1")

RUNS = {"lr0.05": 0.05, "lr1e-4": 1e-4}
LAST_CONV = "conv3"


def train_and_log(logdir: str, run: str, lr: float, epochs: int = 6, seed: int = 0, per_class: int = 20) -> list[float]:
    """Trains the digits CNN and logs the probe at step 0 (init) and after every epoch.

    Returns:
        Test-set accuracy (all 450 test digits) at each logged step.
    """
    import torch
    from digits import CLASS_NAMES, accuracy, load_digits_tensors, make_cnn, probe_set, train_epoch

    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    x_tr, y_tr, x_te, y_te, _idx_tr, idx_te = load_digits_tensors(seed=0)
    px, py, pid = probe_set(x_te, y_te, idx_te, per_class=per_class)
    model = make_cnn(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    test_acc = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ChannelExplorerWriter(os.path.join(logdir, run)) as writer:
            for epoch in range(epochs + 1):
                if epoch:
                    train_epoch(model, opt, x_tr, y_tr, seed=seed * 1000 + epoch)
                writer.log_layers(model, px, py, step=epoch, class_names=CLASS_NAMES, sample_ids=pid)
                test_acc.append(accuracy(model, x_te, y_te))
    return test_acc


def spearman(a, b) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def make_client(logdir: str):
    """A werkzeug client of the plugin over TensorBoard's Python loader (keeps every step)."""
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test
    from werkzeug import wrappers

    from tensorboard_plugin_channelexplorer import metadata
    from tensorboard_plugin_channelexplorer.plugin import ChannelExplorerPlugin

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={metadata.PLUGIN_NAME: 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    dp = data_provider.MultiplexerDataProvider(mux, logdir)
    ctx = base_plugin.TBContext(data_provider=dp, sampling_hints={metadata.PLUGIN_NAME: 0})
    app = application.TensorBoardWSGI([ChannelExplorerPlugin(ctx)])
    return werkzeug_test.Client(app, wrappers.Response)


def get_json(client, route: str, **params) -> dict:
    """GET a route; raises on a non-200 answer. List values repeat the parameter."""
    query = urllib.parse.urlencode(params, doseq=True)
    resp = client.get(f"/data/plugin/channelexplorer{route}?{query}")
    body = json.loads(resp.get_data(as_text=True))
    if resp.status_code != 200:
        raise RuntimeError(f"{route} {params}: {resp.status_code} {body}")
    return body


def timed(client, route: str, **params):
    t0 = time.perf_counter()
    body = get_json(client, route, **params)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    get_json(client, route, **params)
    return body, cold, time.perf_counter() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--logdir", default=None, help="write here (default: a temporary directory)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    logdir = args.logdir or tempfile.mkdtemp(prefix="ce_timeline_")
    test_acc = {}
    for run, lr in RUNS.items():
        t0 = time.perf_counter()
        test_acc[run] = train_and_log(logdir, run, lr, epochs=args.epochs)
        print(f"trained + logged {run} ({args.epochs} epochs) in {time.perf_counter() - t0:.1f} s")
    print(f"logdir: {logdir}\n")

    client = make_client(logdir)
    timings = []
    tl, cold, warm = timed(client, "/timeline", run=list(RUNS), fn="l2", stage="pre")
    timings.append(("/timeline (2 runs)", cold, warm))
    print(f"separability score = {tl['score']} (k={tl['k']}), fn={tl['fn']}, stage={tl['stage']}")
    for entry in tl["runs"]:
        steps = entry["steps"]
        print(f"\nrun {entry['run']}: steps {steps}, steps_written {entry['steps_written']}, "
              f"downsampled {entry['downsampled']}")
        print(f"  {'layer':<10}" + "".join(f"{s:>8}" for s in steps))
        for layer, row in zip(entry["layers"], entry["scores"]):
            print(f"  {layer:<10}" + "".join(f"{'-' if v is None else f'{v:.3f}':>8}" for v in row))
        print(f"  {'probe acc':<10}" + "".join(f"{v:>8.3f}" for v in entry["accuracy"]))
        print(f"  {'test acc':<10}" + "".join(f"{v:>8.3f}" for v in test_acc[entry["run"]]))
        row = entry["scores"][entry["layers"].index(LAST_CONV)]
        print(f"  Spearman({LAST_CONV} score, probe accuracy) = {spearman(row, entry['accuracy']):+.3f}; "
              f"{LAST_CONV} first -> last: {row[0]:.3f} -> {row[-1]:.3f}")

    print("\nmean displacement of the 200 probe inputs between consecutive epochs "
          "(frames at unit RMS radius), layer " + LAST_CONV)
    for run in RUNS:
        for method in ("pca", "tsne"):
            body, cold, warm = timed(client, "/trajectory", run=run, layer=LAST_CONV, method=method)
            timings.append((f"/trajectory {method} ({len(body['steps'])} frames)", cold, warm))
            al, un = body["mean_displacement"], body["mean_displacement_unaligned"]
            print(f"  {run:<8} {method:<5} aligned   " + " ".join(f"{v:.3f}" for v in al) + f"   mean {sum(al) / len(al):.3f}")
            print(f"  {'':<8} {'':<5} unaligned " + " ".join(f"{v:.3f}" for v in un) + f"   mean {sum(un) / len(un):.3f}")

    print("\ndiffs (layer conv3, otsu, eta 0.2):")
    last = args.epochs
    for label, params in (
        ("lr0.05 epoch 0 -> last", dict(run="lr0.05", step=0, step_b=last)),
        ("lr1e-4 epoch 0 -> last", dict(run="lr1e-4", step=0, step_b=last)),
        ("last epoch lr1e-4 -> lr0.05", dict(run="lr1e-4", step=last, run_b="lr0.05", step_b=last)),
    ):
        body, cold, warm = timed(client, "/diff", layer=LAST_CONV, **params)
        timings.append((f"/diff {label}", cold, warm))
        top = ", ".join(f"ch{r['channel']} {r['rank_a']}->{r['rank_b']}" for r in body["rank_changes"][:3])
        print(f"  {label:<28} matched {body['matched']}, mean |dJ| {body['mean_abs_diff']:.3f}, "
              f"range {body['range']}, top rank changes: {top}")

    print("\nroute timings (s)")
    print(f"  {'route':<40}{'cold':>8}{'warm':>8}")
    for name, cold, warm in timings:
        print(f"  {name:<40}{cold:>8.3f}{warm:>8.3f}")


if __name__ == "__main__":
    main()
