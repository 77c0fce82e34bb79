"""Which channel ordering finds the prunable channels of the last conv layer?

For each model, the channels of the last conv layer are ordered (descending)
by each of the heatmap's orderings, and the bottom and the top 25% / 50% are
zeroed after the activation (what the classifier sees):

* ``pairwise``: Eq. 3 of the ChannelExplorer paper (sum of class-pairwise
  distances of the class means) on the post-activation Otsu summaries, with
  `views.heatmap.channel_order`, the tab's default;
* ``variance``: variance of those summaries over the inputs;
* ``filter_norm``: L2 norm of the channel's filter;
* ``taylor``: first-order Taylor importance (Molchanov et al. 2017) from
  ``log_layers(..., importance=True)``;
* ``random``: 20 random draws of the same size (mean and spread).

The drop is the baseline score minus the pruned score, so for the *bottom*
rows smaller is better (those channels were truly unimportant), and for the
*top* rows larger is better (the ordering found the important ones).

Models:

* the digits CNN of ``examples/digits.py``, trained here for ``--epochs``
  epochs; summaries, Taylor and filter norms on the 200-input probe set of
  the test split; score = accuracy on the whole test split (450 inputs);
* the pretrained EfficientNet-Lite0 on the bundled photos of
  ``examples/imagenet_pretrained.py`` (user classes = photos); Taylor uses
  the unpruned model's own top-1 ImageNet predictions as labels (the user
  classes are not ImageNet classes); score = top-1 agreement with the
  unpruned model on the same inputs.

The orderings are computed with the functions the writer uses (the same
values `log_layers` stores). The last table is the cost of one
`log_layers` call with and without ``importance`` (median of ``--reps``
calls after a warm-up, default layers for the digits CNN and the example's
six layers for EfficientNet).

Run: ``python benchmarks/bench_pruning.py [--only digits|efficientnet] [--epochs 8] [--reps 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(HERE, ".."))

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402
from tensorboard_plugin_channelexplorer.capture import capture  # noqa: E402
from tensorboard_plugin_channelexplorer.importance import channel_importance  # noqa: E402
from tensorboard_plugin_channelexplorer.summaries import filter_norms  # noqa: E402
from tensorboard_plugin_channelexplorer.views import heatmap  # noqa: E402

ORDERINGS = ("pairwise", "variance", "filter_norm", "taylor")
FRACTIONS = (0.25, 0.5)
N_RANDOM = 20


def orderings(model, x, class_labels, loss_labels, layer: str, weight_module: str) -> dict[str, np.ndarray]:
    """Channel permutations (most important first) by each ordering."""
    entries, result = capture(model, x, layers=[layer], stage="both", functions=("otsu",))
    (entry,) = entries
    S = result.summaries[entry.name]["post/otsu"].numpy()
    taylor = channel_importance(model, x, loss_labels, entries)[entry.name]["taylor_sum"] / len(x)
    fn = filter_norms(dict(model.named_modules())[weight_module]).detach().numpy()
    return {o: heatmap.channel_order(S, class_labels, order=o, filter_norm=fn, taylor=taylor)[0] for o in ORDERINGS}


def drop_table(title: str, perms: dict, score, c: int, seed: int) -> list[str]:
    """Rows ``| ordering | pruned | 25% | 50% |`` of score drops."""
    base = score(np.ones(c, bool))
    rows = [f"\n{title}: baseline {base:.3f}\n", "| ordering | zeroed | " + " | ".join(f"{f:.0%}" for f in FRACTIONS) + " |",
            "|---|---|" + "---|" * len(FRACTIONS)]
    for name, perm in perms.items():
        for part in ("bottom", "top"):
            cells = []
            for f in FRACTIONS:
                m = int(round(f * c))
                keep = np.ones(c, bool)
                keep[perm[-m:] if part == "bottom" else perm[:m]] = False
                cells.append(f"{base - score(keep):+.3f}")
            rows.append(f"| {name} | {part} | " + " | ".join(cells) + " |")
    rng = np.random.default_rng(seed)
    cells = []
    for f in FRACTIONS:
        m = int(round(f * c))
        drops = []
        for _ in range(N_RANDOM):
            keep = np.ones(c, bool)
            keep[rng.choice(c, m, replace=False)] = False
            drops.append(base - score(keep))
        cells.append(f"{np.mean(drops):+.3f} ± {np.std(drops):.3f}")
    rows.append(f"| random ({N_RANDOM} draws) | any | " + " | ".join(cells) + " |")
    return rows


def log_cost(model, batch, reps: int, **kwargs) -> dict[str, float]:
    """Median seconds of one log_layers call (+ flush) without and with importance."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for importance in (False, True):
            w = ChannelExplorerWriter(os.path.join(tmp, f"imp{int(importance)}"))
            w.log_layers(model, batch, importance=importance, **kwargs)  # warm-up: discovery, graph
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                w.log_layers(model, batch, importance=importance, **kwargs)
                w.flush()
                times.append(time.perf_counter() - t0)
            w.close()
            out[importance] = statistics.median(times)
    return out


def digits(args):
    from digits import accuracy, load_digits_tensors, make_cnn, probe_set, train_epoch

    x_tr, y_tr, x_te, y_te, _, idx_te = load_digits_tensors(seed=args.seed)
    model = make_cnn(seed=args.seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        train_epoch(model, opt, x_tr, y_tr, seed=args.seed + epoch)
    model.eval()
    px, py, _ = probe_set(x_te, y_te, idx_te, per_class=20)
    perms = orderings(model, px, py.numpy(), py.numpy(), "conv3", "conv3")
    c = model.conv3.out_channels

    def score(keep):
        mask = torch.from_numpy(keep.astype(np.float32)).view(1, -1, 1, 1)
        h = model.relu3.register_forward_hook(lambda m, a, out: out * mask)
        try:
            return accuracy(model, x_te, y_te)
        finally:
            h.remove()

    rows = drop_table(f"digits CNN, conv3 ({c} channels), {args.epochs} epochs: test accuracy drop", perms, score, c, args.seed)
    cost = log_cost(model, (px, py), args.reps)
    return rows, ("digits CNN (200x1x8x8), all layers", cost)


def efficientnet(args):
    from imagenet_pretrained import CLASSES, HEAD, LAYERS, build_inputs, load_model, masked_logits, pooled_features_and_logits

    model = load_model()
    names = list(CLASSES)
    x, labels, _, _ = build_inputs(names, 8, 2, args.seed)
    feats, logits = pooled_features_and_logits(model, x)
    top1 = logits.argmax(1)
    perms = orderings(model, x, labels, top1.numpy(), HEAD, HEAD)
    c = feats.shape[1]

    def score(keep):
        return float((masked_logits(model, feats, keep).argmax(1) == top1).float().mean())

    rows = drop_table(f"EfficientNet-Lite0, {HEAD} ({c} channels), {len(x)} photo crops: top-1 agreement drop",
                      perms, score, c, args.seed)
    cost = log_cost(model, x, args.reps, labels=top1, layers=LAYERS, predictions=False)
    return rows, (f"EfficientNet-Lite0 ({len(x)}x3x224x224), {len(LAYERS)} layers", cost)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("digits", "efficientnet"), default=None)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    costs = []
    for name, case in (("digits", digits), ("efficientnet", efficientnet)):
        if args.only in (None, name):
            rows, cost = case(args)
            print("\n".join(rows), flush=True)
            costs.append(cost)
    print(f"\nlog_layers cost (torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.reps}):\n")
    print("| model | without importance | with importance | ratio |")
    print("|---|---|---|---|")
    for name, cost in costs:
        print(f"| {name} | {cost[False] * 1000:.0f} ms | {cost[True] * 1000:.0f} ms | {cost[True] / cost[False]:.2f}x |")


if __name__ == "__main__":
    main()
