"""Across steps and runs: separability timeline, aligned embeddings, diffs.

Separability score (``knn_loo``). For one layer at one step, each input is
its vector of channel summaries; channels are standardized over the inputs
(z-scores; constant channels are dropped) so that a few channels with large
activations do not dominate the distance. The score is the leave-one-out
accuracy of a k-nearest-neighbour classifier (Euclidean, ``k = min(5, N -
1)``, majority vote; ties go to the class of the nearest tied neighbour):
the fraction of inputs whose neighbours in that layer's summary space mostly
share their class. Why this score:

* it is bounded in [0, 1] and reads like an accuracy; chance is the majority
  class fraction (``1/K`` for balanced classes), reported as ``chance``;
* it is deterministic (no embedding randomness, unlike scores computed on a
  t-SNE/UMAP layout) and cheap (one ``N x N`` distance matrix per layer);
* it is non-parametric: Cover & Hart (1967) bound the asymptotic 1-NN error
  by twice the Bayes error, so a high k-NN accuracy means the classes are
  locally separated in the layer's representation without assuming any cluster
  shape; k-NN probes are a standard way to read what a representation encodes
  (e.g. the k-NN evaluation of self-supervised features, Wu et al. 2018,
  Caron et al. 2021);
* the silhouette coefficient, the usual alternative, compares mean intra- to
  inter-cluster distances and so assumes compact convex clusters: a class
  lying on a curved or multi-modal manifold gets a low silhouette although it
  is perfectly separable, and one far outlier moves the means.

Accuracy per step comes from the logged predictions (top-1 vs labels).

Aligned embeddings and diffs: see `trajectory_view` and `diff_view`; the
matching by sample id and the Procrustes alignment live in `align`.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ._validate import (
    check_choice,
    check_eta,
    check_int,
    check_labels,
    check_matrix,
    check_random_state,
    floats,
    group_by_class,
    ints,
    single_threaded_view,
)
from .align import align_frames, match_ids, mean_displacement

__all__ = ["SCORE", "DEFAULT_K", "ALIGNMENTS", "RANK_CHANGES", "standardize", "knn_loo_score", "chance_level",
           "prediction_accuracy", "trajectory_view", "diff_view"]

SCORE = "knn_loo"
DEFAULT_K = 5
ALIGNMENTS = ("procrustes", "none")
RANK_CHANGES = 20
# Rows of the distance matrix computed at once (bounds memory to ~8 MB per 1k inputs).
_CHUNK = 1024


def standardize(S) -> np.ndarray:
    """Z-scores each channel over the inputs; drops constant channels (``[N, C']``, possibly ``C' = 0``)."""
    S = check_matrix(S, "S")
    std = S.std(axis=0)
    keep = std > 1e-8 * np.maximum(1.0, np.abs(S).max(axis=0))
    return (S[:, keep] - S[:, keep].mean(axis=0)) / std[keep]


def chance_level(labels) -> float:
    """Fraction of the majority class: the accuracy of always guessing it."""
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("labels must not be empty")
    return float(np.unique(labels, return_counts=True)[1].max() / labels.size)


# Pure numpy: the writer computes it for every compact record without importing scikit-learn.
@single_threaded_view(scope="numpy")
def knn_loo_score(S, labels, k: int = DEFAULT_K) -> float:
    """Leave-one-out k-NN accuracy on standardized channel summaries (see the module docstring).

    Args:
        S: ``[N, C]`` channel summaries of one layer at one step, N >= 2.
        labels: ``[N]`` class ids.
        k: neighbours, >= 1 (clamped to ``N - 1``).

    Returns:
        The fraction of inputs whose k nearest other inputs vote for their
        class, in [0, 1]. When every channel is constant (no information) the
        chance level is returned.

    Raises:
        ValueError: bad `S` (fewer than 2 inputs, NaN), `labels` or `k`.
    """
    S = check_matrix(S, "S", min_rows=2)
    n = S.shape[0]
    labels = check_labels(labels, n)
    k = min(check_int(k, "k", lo=1), n - 1)
    X = standardize(S)
    if X.shape[1] == 0:
        return chance_level(labels)
    classes, y = np.unique(labels, return_inverse=True)
    n_classes = classes.size
    sq = np.einsum("ij,ij->i", X, X)
    neigh = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        d = sq[start:stop, None] + sq[None, :] - 2.0 * (X[start:stop] @ X.T)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf  # leave the input itself out
        # Rounding makes float noise ties exact, so the index decides (deterministic).
        d = np.round(np.maximum(d, 0.0), 9)
        # A stable sort orders equal distances by index, so the k-th neighbour among
        # equidistant inputs is the one with the lower index.
        neigh[start:stop] = np.argsort(d, axis=1, kind="stable")[:, :k]
    ny = y[neigh]  # [N, k] classes of the neighbours, nearest first
    onehot = ny[:, :, None] == np.arange(n_classes)[None, None, :]  # [N, k, K]
    counts = onehot.sum(axis=1)
    ranks = np.where(onehot, np.arange(k)[None, :, None], k).min(axis=1)  # nearest rank of each class
    votes = counts * (k + 1) + (k - ranks)  # counts dominate; ties -> nearest
    pred = votes.argmax(axis=1)
    return float(np.mean(pred == y))


def prediction_accuracy(predictions, labels):
    """Top-1 accuracy of logged predictions, or None when there are none."""
    if predictions is None:
        return None
    predictions = np.asarray(predictions).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    if predictions.shape != labels.shape or labels.size == 0:
        return None
    return float(np.mean(predictions == labels))


def _id_json(ids) -> list:
    return [v if isinstance(v, str) else int(v) for v in ids]


@single_threaded_view
def trajectory_view(mats, labels, sample_ids, steps, method: str = "pca", align: str = "procrustes",
                    random_state=0) -> dict:
    """Embeddings of the same inputs at several steps, aligned frame to frame.

    Each step's summary matrix is restricted to the inputs whose sample id is
    present at every step (`align.match_ids`), embedded in 2-D
    (`scatter.embed`), normalized to unit RMS radius and, with
    ``align="procrustes"``, rotated/reflected onto the previous aligned frame.

    Args:
        mats: sequence of ``[N_t, C_t]`` summary matrices, one per step.
        labels: sequence of ``[N_t]`` class ids.
        sample_ids: sequence of ``[N_t]`` ids (ints or strings).
        steps: the step numbers (for the output).
        method: ``pca``, ``mds``, ``tsne`` or ``umap``.
        align: ``procrustes`` or ``none``.
        random_state: seed of t-SNE/UMAP (the same for every frame).

    Returns:
        JSON-ready dict: ``method``, ``align``, ``steps``, ``sample_ids``
        (common ids), ``labels`` (their class at the last step), ``matched``,
        ``dropped`` (``{step: count}`` for every step), ``frames``
        (``[{step, points}]``, points in the order of ``sample_ids``),
        ``mean_displacement`` and ``mean_displacement_unaligned`` (mean
        distance each input moves between consecutive normalized frames, with
        and without Procrustes; ``T - 1`` values), ``seed``.

    Raises:
        ValueError: mismatched lengths, bad `method`/`align`/`random_state`,
            or no sample id common to all steps.
    """
    from .scatter import METHODS, embed

    method = check_choice(method, "method", METHODS)
    align = check_choice(align, "align", ALIGNMENTS)
    random_state = check_random_state(random_state)
    t = len(mats)
    if t == 0:
        raise ValueError("steps must name at least one step")
    if not (len(labels) == len(sample_ids) == len(steps) == t):
        raise ValueError(f"mats ({t}), labels ({len(labels)}), sample_ids ({len(sample_ids)}) and steps "
                         f"({len(steps)}) must have one entry per step")
    mats = [check_matrix(m, f"mats[{i}]") for i, m in enumerate(mats)]
    labels = [check_labels(lab, m.shape[0], f"labels[{i}]", f"mats[{i}]") for i, (lab, m) in enumerate(zip(labels, mats))]
    for i, (ids, m) in enumerate(zip(sample_ids, mats)):
        if len(ids) != m.shape[0]:
            raise ValueError(f"sample_ids[{i}] has {len(ids)} entries but mats[{i}] has {m.shape[0]} rows (inputs)")
    common, idx, dropped = match_ids(sample_ids)
    if not common:
        raise InvalidArgumentError(f"no sample id is common to all steps {list(steps)}; choose other steps", "steps")
    raw = [embed(m[ix], method=method, random_state=random_state) for m, ix in zip(mats, idx)]
    aligned = align_frames(raw, "procrustes")
    unaligned = align_frames(raw, "none")
    shown = aligned if align == "procrustes" else unaligned
    return {
        "method": method,
        "align": align,
        "seed": random_state,
        "steps": [int(s) for s in steps],
        "sample_ids": _id_json(common),
        "labels": ints(labels[-1][idx[-1]]),
        "matched": len(common),
        "dropped": {str(int(s)): int(d) for s, d in zip(steps, dropped)},
        "frames": [{"step": int(s), "points": floats(Y, decimals=5)} for s, Y in zip(steps, shown)],
        "mean_displacement": floats(np.asarray(mean_displacement(aligned)), decimals=6),
        "mean_displacement_unaligned": floats(np.asarray(mean_displacement(unaligned)), decimals=6),
    }


@single_threaded_view
def diff_view(S_a, S_b, labels_a, labels_b, ids_a, ids_b, eta: float = 0.2, order: str = "pairwise",
              filter_norm_a=None, filter_norm_b=None, top: int = RANK_CHANGES) -> dict:
    """Jaccard difference and channel rank changes between two steps (or runs) of a layer.

    Inputs are matched by sample id; the Jaccard matrices (Eq. 1) of the
    matched inputs are computed at both sides and subtracted (``b - a``), rows
    and columns grouped by class (class of side a). Channel ranks come from
    `heatmap.channel_order` at each side (over all of that side's inputs);
    they are compared only when both sides have the same number of channels.

    Args:
        S_a, S_b: ``[N_a, C_a]`` and ``[N_b, C_b]`` summaries.
        labels_a, labels_b: class ids of each side's inputs.
        ids_a, ids_b: sample ids of each side's inputs.
        eta: Jaccard top-channel fraction in (0, 1].
        order: channel ordering, ``pairwise``, ``variance`` or ``filter_norm``.
        filter_norm_a, filter_norm_b: ``[C]`` filter norms (for ``filter_norm``).
        top: number of channels reported in ``rank_changes``.

    Returns:
        JSON-ready dict: ``matched``, ``dropped`` (``{"a": n, "b": n}``),
        ``sample_ids``, ``labels`` (per matched input, in ``sample_ids`` order),
        ``order`` (row indices into ``sample_ids``, grouped by class),
        ``classes``, ``class_boundaries``, ``diff`` (``[M, M]`` in ``order``),
        ``range`` (``[-m, m]``, m the largest ``|diff|``, 1 when all zero),
        ``mean_abs_diff`` (over pairs ``i != j``), ``class_diff`` (``[K, K]``
        difference of the class-mean Jaccard matrices), ``label_changes``
        (matched inputs whose label differs between sides), ``channels``
        (``[C_a, C_b]``), ``rank_changes`` (``[{channel, rank_a, rank_b,
        delta}]``, the `top` largest ``|rank_b - rank_a|``, ties by channel;
        None when the channel counts differ), ``eta``, ``rank_order``.

    Raises:
        ValueError: bad matrices/labels/eta/order, or no matched inputs.
    """
    from .heatmap import ORDERS, channel_order
    from .jaccard import class_mean_matrix, jaccard_matrix

    S_a = check_matrix(S_a, "S_a", dtype=np.float32)
    S_b = check_matrix(S_b, "S_b", dtype=np.float32)
    labels_a = check_labels(labels_a, S_a.shape[0], "labels_a", "S_a")
    labels_b = check_labels(labels_b, S_b.shape[0], "labels_b", "S_b")
    eta = check_eta(eta)
    order = check_choice(order, "order", ORDERS)
    top = check_int(top, "top", lo=0)
    for name, ids, m in (("ids_a", ids_a, S_a), ("ids_b", ids_b, S_b)):
        if len(ids) != m.shape[0]:
            raise ValueError(f"{name} has {len(ids)} entries but the matrix has {m.shape[0]} rows (inputs)")
    common, (ia, ib), dropped = match_ids([ids_a, ids_b])
    if not common:
        raise InvalidArgumentError("no sample id is common to both steps; nothing to compare (step, step_b)", "step")
    lab = labels_a[ia]
    ja = jaccard_matrix(S_a[ia], eta).astype(np.float64)
    jb = jaccard_matrix(S_b[ib], eta).astype(np.float64)
    d = jb - ja
    rows, classes, boundaries = group_by_class(lab)
    m = len(common)
    off = ~np.eye(m, dtype=bool)
    mad = float(np.abs(d[off]).mean()) if m > 1 else 0.0
    span = float(np.abs(d).max()) if m else 0.0
    span = round(span, 6) if span > 0 else 1.0
    class_diff = class_mean_matrix(jb, lab, classes) - class_mean_matrix(ja, lab, classes)

    rank_changes = None
    if S_a.shape[1] == S_b.shape[1]:
        perm_a, _ = channel_order(S_a, labels_a, order=order, filter_norm=filter_norm_a)
        perm_b, _ = channel_order(S_b, labels_b, order=order, filter_norm=filter_norm_b)
        c = S_a.shape[1]
        rank_a = np.empty(c, dtype=np.int64)
        rank_a[perm_a] = np.arange(c)
        rank_b = np.empty(c, dtype=np.int64)
        rank_b[perm_b] = np.arange(c)
        delta = rank_b - rank_a
        pick = np.lexsort((np.arange(c), -np.abs(delta)))[:top]
        rank_changes = [{"channel": int(ch), "rank_a": int(rank_a[ch]), "rank_b": int(rank_b[ch]),
                         "delta": int(delta[ch])} for ch in pick]
    return {
        "matched": m,
        "dropped": {"a": int(dropped[0]), "b": int(dropped[1])},
        "sample_ids": _id_json(common),
        "labels": ints(lab),
        "order": ints(rows),
        "classes": ints(classes),
        "class_boundaries": ints(boundaries),
        "diff": floats(d[np.ix_(rows, rows)], decimals=6),
        "range": [-span, span],
        "mean_abs_diff": round(mad, 7),
        "class_diff": floats(class_diff, decimals=6),
        "label_changes": int(np.sum(labels_a[ia] != labels_b[ib])),
        "channels": [int(S_a.shape[1]), int(S_b.shape[1])],
        "rank_changes": rank_changes,
        "rank_order": order,
        "eta": eta,
    }
