"""Automatic confusion hierarchy of one layer (paper Sect. V-E, last paragraph).

Levels: root -> superclasses -> classes -> subclasses.

- Superclasses: the class-level mean Jaccard similarity (``views.jaccard``;
  diagonal over distinct pairs) is turned into a distance ``1 - sim`` and
  clustered with average linkage (UPGMA, ``scipy.cluster.hierarchy``). The
  dendrogram is cut in the middle of the largest gap in the sorted sequence
  ``[b, h_1, ..., h_{K-1}]``, where ``h`` are the merge heights and the
  baseline ``b = min(mean within-class distance, h_1)``. A big gap right after
  ``b`` means no two classes are nearly as similar as a class is to itself, so
  every class is its own superclass. The cut is always below the last merge,
  so classes that differ are never all put into one superclass (the root
  already is that); with no positive gap at all (every merge at one height),
  every class is its own superclass.
- Subclasses: the inputs of each class are clustered in summary space
  (Euclidean, raw values) with X-Means, at most ``SUB_K_MAX`` clusters (the
  paper finds at most ~4 activation modes per class) and at most
  ``n_class // 2`` (every subclass has >= 2 inputs).
- Representatives: at every node the input closest (Euclidean, summary space)
  to the mean summary vector of the node's inputs.
- Past ``max_inputs`` inputs everything above runs on a seeded
  class-stratified sample (`views.sampling`). Cell ``(u, v)`` of the class
  matrix is then the mean over the sampled pairs, an unbiased estimate of the
  mean over all pairs (uniform sampling within each class, distinct pairs on
  the diagonal), whose error shrinks as the per-class samples grow.
  ``benchmarks/bench_views.py --matrix`` measures the error against the exact
  matrix. An exact class matrix would cost ``O(N^2 C)`` (every pair's
  overlap), seconds at 10,000 inputs and minutes at 50,000.
- Class nodes also list ``outliers``, with the rule of ``views.scatter``, and
  ``suspects``: the class's inputs flagged by ``views.suspects`` at this layer
  (another class is nearer than their own), highest score first.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from . import jaccard as _jaccard
from ._validate import (
    check_eta,
    check_labels,
    check_matrix,
    check_random_state,
    floats,
    ints,
    single_threaded_view,
)
from .sampling import sample_info, stratified_sample
from .scatter import outliers as _outliers
from .suspects import ranking as _ranking
from .suspects import suspect_scores as _suspect_scores
from .xmeans import xmeans

__all__ = ["SUB_K_MAX", "confusion_hierarchy", "cut_height", "subclusters"]

SUB_K_MAX = 4


def _representative(X: np.ndarray, idx: np.ndarray) -> int:
    pts = X[idx]
    d = np.einsum("ij,ij->i", pts - pts.mean(axis=0), pts - pts.mean(axis=0))
    return int(idx[int(np.argmin(d))])


def _to_original(node: dict, rows: np.ndarray) -> None:
    """Rewrites a tree's input indices (positions in the sample) as original input indices, in place."""
    for key in ("inputs", "representatives", "outliers", "suspects"):
        if key in node:
            node[key] = [int(rows[i]) for i in node[key]]
    for child in node.get("children", ()):
        _to_original(child, rows)


def cut_height(heights: np.ndarray, baseline: float) -> float:
    """The cut distance: middle of the largest gap in ``[min(baseline, h_1), h_1, ...]``.

    Ties go to the lowest gap (more, smaller superclasses). The cut is always
    strictly below the last (highest) merge, so at least two superclasses
    remain: when no gap is positive (every merge at the same height and no
    baseline below it) nothing says which classes belong together, and the
    cut goes just below the lowest merge (every class its own superclass).

    Args:
        heights: the ``K - 1`` merge heights of the dendrogram (``K >= 2``).
        baseline: the mean within-class distance.

    Raises:
        ValueError: when ``heights`` is empty or not finite.
    """
    h = np.sort(np.asarray(heights, dtype=np.float64).ravel())
    if h.size == 0 or not np.all(np.isfinite(h)) or not np.isfinite(baseline):
        raise ValueError(f"heights must be a non-empty finite array and baseline finite, got {h.size} "
                         f"heights and baseline {baseline!r}")
    seq = np.concatenate([[min(baseline, h[0])], h])
    gaps = np.diff(seq)
    g = int(np.argmax(gaps))
    if gaps[g] <= 0.0:
        return float(np.nextafter(h[0], -np.inf))
    # Never at or above the gap's upper end, even when the gap is a few ulps wide.
    return float(min((seq[g] + seq[g + 1]) / 2.0, np.nextafter(seq[g + 1], -np.inf)))


def subclusters(X, random_state=0, k_max: int = SUB_K_MAX) -> np.ndarray:
    """X-Means subclusters of one class's inputs (0 the largest), capped as documented."""
    X = check_matrix(X, "X")
    cap = int(min(k_max, X.shape[0] // 2))
    if cap < 2:
        return np.zeros(X.shape[0], dtype=np.int64)
    labels, _ = xmeans(X, k_max=cap, random_state=random_state)
    return labels


@single_threaded_view
def confusion_hierarchy(S, labels, class_names, eta=_jaccard.DEFAULT_ETA, random_state=0, max_inputs=None) -> dict:
    """Builds the confusion hierarchy of a layer.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids, each < ``len(class_names)``.
        class_names: name of every class id.
        eta: Jaccard top-channel fraction, in (0, 1].
        random_state: seed of the subclass clustering and of the sample.
        max_inputs: None for every input; else past this many inputs the
            hierarchy is built from a seeded class-stratified sample of this
            many (`views.sampling.stratified_sample`): the class matrix is
            then an estimate (module docstring), and the tree lists sampled
            inputs only (by their original index).

    Returns:
        JSON-ready dict: ``tree`` (nested ``{name, size, representatives,
        children}``; superclass nodes add ``classes``, class nodes add
        ``class``, ``outliers`` and ``suspects``, subclass leaves add ``inputs`` instead of
        ``children``), ``classes`` (class ids present), ``class_matrix``
        (class mean Jaccard over ``classes``), ``linkage`` (scipy linkage rows
        ``[a, b, height, count]`` over ``classes``, empty for one class) and
        ``cut`` (the cut height, or None), ``exact`` (False when sampled)
        and ``sampled`` (`views.sampling.sample_info`, with the inputs per
        class; None when every input is used).
    """
    S = check_matrix(S, "S")
    n = S.shape[0]
    labels = check_labels(labels, n)
    eta = check_eta(eta)
    random_state = check_random_state(random_state)
    try:
        names = [str(c) for c in class_names]
    except TypeError as exc:
        raise ValueError("class_names must be a list of names") from exc
    if labels.max() >= len(names):
        raise ValueError(
            f"labels hold class id {int(labels.max())} but class_names has only {len(names)} entries"
        )
    rows = np.arange(n) if max_inputs is None else stratified_sample(labels, max_inputs, random_state)
    sampled = sample_info(labels, rows, random_state)
    S, labels, n = S[rows], labels[rows], rows.size

    J = _jaccard.jaccard_matrix(S, eta)
    classes = np.unique(labels)
    cm = _jaccard.class_mean_matrix(J, labels, classes)
    k = classes.size
    if k >= 2:
        dist = 1.0 - (cm + cm.T) / 2.0
        np.fill_diagonal(dist, 0.0)
        Z = linkage(squareform(np.clip(dist, 0.0, None), checks=False), method="average")
        baseline = float(np.mean(1.0 - np.diag(cm)))
        cut = cut_height(Z[:, 2], baseline)
        raw = fcluster(Z, t=cut, criterion="distance")
        # Number superclasses by their smallest class id.
        first = {}
        for pos, s in enumerate(raw):
            first.setdefault(int(s), pos)
        rank = {s: r for r, s in enumerate(sorted(first, key=first.get))}
        super_of = np.array([rank[int(s)] for s in raw])
        linkage_rows = [[int(a), int(b), float(h), int(c)] for a, b, h, c in Z]
    else:
        super_of = np.zeros(k, dtype=np.int64)
        cut = None
        linkage_rows = []

    out_flags = set(_outliers(S, labels).tolist())
    sus = _suspect_scores(S, labels)
    suspect_order = [int(i) for i in _ranking(sus["score"]) if sus["flagged"][i]]
    supers = []
    for s in range(int(super_of.max()) + 1):
        members = classes[super_of == s]
        class_nodes = []
        for c in members:
            idx = np.flatnonzero(labels == c)
            sub = subclusters(S[idx], random_state=random_state)
            leaves = []
            for j in range(int(sub.max()) + 1):
                sidx = idx[sub == j]
                leaves.append({
                    "name": f"{names[c]} / sub {j}",
                    "size": int(sidx.size),
                    "inputs": ints(sidx),
                    "representatives": [_representative(S, sidx)],
                })
            class_nodes.append({
                "name": names[c],
                "class": int(c),
                "size": int(idx.size),
                "representatives": [_representative(S, idx)],
                "outliers": sorted(int(i) for i in idx if int(i) in out_flags),
                "suspects": [i for i in suspect_order if labels[i] == c],
                "children": leaves,
            })
        sidx = np.flatnonzero(np.isin(labels, members))
        supers.append({
            "name": f"super {s}",
            "classes": ints(members),
            "size": int(sidx.size),
            "representatives": [_representative(S, sidx)],
            "children": class_nodes,
        })
    tree = {
        "name": "root",
        "size": int(n),
        "representatives": [_representative(S, np.arange(n))],
        "children": supers,
    }
    if sampled is not None:
        _to_original(tree, rows)
    return {
        "tree": tree,
        "classes": ints(classes),
        "class_matrix": floats(cm),
        "linkage": linkage_rows,
        "cut": cut,
        "eta": eta,
        "exact": sampled is None,
        "sampled": sampled,
    }
