"""Suspect labels: a per-input, per-layer score for "this label is probably wrong".

Neighbour score (always). Each input is its vector of channel summaries at a
layer, standardized per channel over the inputs (z-scores, constant channels
dropped: ``timeline.standardize``) so a few channels with large activations
do not decide the distance. For every class ``c``, ``d_c`` is the mean
Euclidean distance from the input to its ``m`` nearest other inputs labelled
``c``. With ``y`` the given label and ``d_alt`` the smallest ``d_c`` over the
other classes, the score is

    ``s = d_y / (d_y + d_alt)``  in [0, 1],

above 0.5 exactly when some other class lies closer than the given one. It
is the trust score of Jiang, Kim, Guan & Gupta, "To Trust or Not to Trust a
Classifier" (NeurIPS 2018), a ratio of distances to class neighbourhoods,
turned on the given label instead of a prediction, and it works in a trained
network's representation with k-nearest-neighbour distances as in Bahri,
Jiang & Gupta, "Deep k-NN for Noisy Labels" (ICML 2020), who show that label
disagreement with the nearest neighbours in such a representation finds
label noise robustly. Why a distance ratio rather than Bahri et al.'s vote
fraction: a mislabelled input keeps the features of its true class and sits
deep inside that class, far from the class it is labelled with, while a
correctly labelled but ambiguous input sits between classes. Votes give both
the same score (all neighbours disagree); the ratio ranks the first higher
(``python benchmarks/bench_label_noise.py --cases digits --sweep-k``: on the
digits CNN's last conv layer at 10% one-class noise, precision of the top k
0.95 against 0.40 for the vote fraction of 10 neighbours, 0.57 of 20; at 10%
uniform noise 0.98 against 0.93 and 0.96). Averaging over ``m``
neighbours keeps a handful of inputs mislabelled the same way from hiding
each other. An input that is merely far from its class (the scatterplot's
outlier rule) is not necessarily mislabelled, and a mislabelled one is often
not far from the centre of the class it is labelled with.

Model score (when the logged predictions and their confidences are given).
``1 - p(y | x)``, the self-confidence ranking of confident learning
(Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
Dataset Labels", JAIR 2021). The writer logs only the top-1 class and its
probability ``p``: ``p(y | x) = p`` when the prediction is ``y``, otherwise
the remaining mass ``1 - p`` is spread evenly over the other ``K - 1``
classes (the least informative completion). This part does not depend on
the layer. Combined score: the mean of the neighbour and model scores.

Likely label: the class with the smallest ``d_c`` (the given label wins
ties), from the layer only. Flag: ``score > threshold``, by default 0.5 (for
the neighbour score: another class is closer than the given one). Ranking:
score descending, ties by input index. An input whose class has no other
input, or a layer whose channels are all constant, gives no evidence: score 0.

``m`` defaults to 10, chosen on the digits CNN of the label-noise benchmark
(``m`` = 5, 10, 20 give 0.93, 0.95, 0.93 there at 10% one-class noise); the
benchmark reports all its cases with it.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    check_fraction,
    check_int,
    check_labels,
    check_matrix,
    floats,
    ints,
    single_threaded_view,
)
from .timeline import standardize

__all__ = ["DEFAULT_K", "DEFAULT_THRESHOLD", "class_distances", "suspect_scores", "ranking", "suspects_view"]

DEFAULT_K = 10
DEFAULT_THRESHOLD = 0.5


def class_distances(S, labels, k: int = DEFAULT_K, n_classes: int | None = None) -> np.ndarray:
    """Mean distance from every input to its ``k`` nearest other inputs of each class.

    Args:
        S: ``[N, C]`` channel summaries (standardized here, see the module docstring).
        labels: ``[N]`` class ids.
        k: neighbours per class, >= 1 (fewer when a class has fewer inputs).
        n_classes: number of columns (default ``max(labels) + 1``).

    Returns:
        float64 ``[N, K]``; ``inf`` for a class without any input other than
        the input itself. All zeros when no channel varies.
    """
    S = check_matrix(S, "S")
    n = S.shape[0]
    labels = check_labels(labels, n)
    k = check_int(k, "k", lo=1)
    n_cls = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    D = np.full((n, n_cls), np.inf)
    Z = standardize(S)
    if Z.shape[1] == 0:
        return np.where(np.isin(np.arange(n_cls), labels)[None, :], 0.0, np.inf).repeat(n, axis=0)
    from sklearn.neighbors import NearestNeighbors

    rows = np.arange(n)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        q = min(k + 1, members.size)
        dist, ind = NearestNeighbors(n_neighbors=q, algorithm="brute").fit(Z[members]).kneighbors(Z)
        # An input is not its own neighbour (if a duplicate displaced it, the distances are the same).
        dist = np.where(members[ind] == rows[:, None], np.inf, dist)
        dist.sort(axis=1)
        own = labels == c
        take = np.where(own, min(k, members.size - 1), min(k, members.size))
        for t in np.unique(take):
            sel = take == t
            if t > 0:
                D[sel, c] = dist[sel, :t].mean(axis=1)
    return D


def _model_probabilities(predictions, confidences, n: int, n_classes: int) -> np.ndarray:
    q = np.repeat(((1.0 - confidences) / max(1, n_classes - 1))[:, None], n_classes, axis=1)
    q[np.arange(n), predictions] = confidences
    return q


def _check_model(predictions, confidences, n: int):
    if (predictions is None) != (confidences is None):
        raise ValueError("predictions and confidences must be given together (or neither)")
    if predictions is None:
        return None, None
    preds = check_labels(predictions, n, name="predictions", n_name="S")
    conf = np.asarray(confidences, dtype=np.float64)
    if conf.ndim != 1 or conf.shape[0] != n:
        raise ValueError(f"confidences has shape {conf.shape} but S has {n} rows (inputs)")
    if not np.all(np.isfinite(conf)) or conf.min() < 0.0 or conf.max() > 1.0:
        raise ValueError("confidences must be finite probabilities in [0, 1]")
    return preds, conf


@single_threaded_view
def suspect_scores(S, labels, k: int = DEFAULT_K, predictions=None, confidences=None,
                   threshold: float = DEFAULT_THRESHOLD, n_classes: int | None = None) -> dict:
    """Suspect-label score of every input at one layer (rules in the module docstring).

    Args:
        S: ``[N, C]`` channel summaries of the layer.
        labels: ``[N]`` given class ids.
        k: neighbours per class (``m`` in the module docstring), >= 1.
        predictions: optional ``[N]`` top-1 predicted class ids (with ``confidences``).
        confidences: optional ``[N]`` probability of each prediction, in [0, 1].
        threshold: flag when the score is above it, in [0, 1].
        n_classes: number of classes (default: the largest id in
            ``labels``/``predictions`` + 1).

    Returns:
        dict of numpy arrays: ``score`` (float ``[N]`` in [0, 1]), ``likely``
        (int ``[N]``), ``flagged`` (bool ``[N]``), ``neighbour_score`` (the
        distance ratio) and ``model_score`` (``1 - p(y | x)``, None without
        predictions).

    Raises:
        ValueError: on bad shapes, ids, ``k``, ``threshold`` or confidences.
    """
    S = check_matrix(S, "S")
    n = S.shape[0]
    labels = check_labels(labels, n)
    k = check_int(k, "k", lo=1)
    threshold = check_fraction(threshold, "threshold")
    preds, conf = _check_model(predictions, confidences, n)
    top = int(labels.max()) + 1 if preds is None else int(max(labels.max(), preds.max())) + 1
    n_classes = top if n_classes is None else check_int(n_classes, "n_classes", lo=1)
    if n_classes < top:
        raise ValueError(f"labels or predictions hold class id {top - 1} but n_classes is {n_classes}")

    rows = np.arange(n)
    D = class_distances(S, labels, k=k, n_classes=n_classes)
    own = D[rows, labels]
    other = D.copy()
    other[rows, labels] = np.inf
    alt = other.min(axis=1)
    total = own + alt
    finite = np.isfinite(total)
    nbr = np.zeros(n)
    # Both distances zero (duplicates with different labels): undecided, 0.5.
    nbr[finite] = np.divide(own[finite], total[finite], out=np.full(int(finite.sum()), 0.5), where=total[finite] > 0)
    if standardize(S).shape[1] == 0:
        finite[:] = False  # every channel constant: nothing tells the inputs apart
        nbr[:] = 0.0
    likely = np.where(finite & (alt < own), np.argmin(other, axis=1), labels)
    model_score = None
    score = nbr
    if preds is not None:
        q = _model_probabilities(preds, conf, n, n_classes)
        model_score = 1.0 - q[rows, labels]
        score = (nbr + model_score) / 2.0
    score = np.clip(score, 0.0, 1.0)
    return {
        "score": score,
        "likely": likely.astype(np.int64),
        "flagged": score > threshold,
        "neighbour_score": nbr,
        "model_score": model_score,
    }


def ranking(score) -> np.ndarray:
    """Input indices by descending score, ties by ascending index."""
    score = np.asarray(score, dtype=np.float64)
    return np.lexsort((np.arange(score.size), -score))


@single_threaded_view
def suspects_view(S, labels, k: int = DEFAULT_K, predictions=None, confidences=None,
                  threshold: float = DEFAULT_THRESHOLD, limit: int | None = None,
                  n_classes: int | None = None) -> dict:
    """The ranked suspect list of one layer, JSON-ready.

    Args:
        S, labels, k, predictions, confidences, threshold, n_classes: see
            `suspect_scores`.
        limit: keep the first ``limit`` suspects of the ranking (>= 0; None: all).

    Returns:
        JSON-ready dict: ``method`` (``"neighbours"`` or
        ``"neighbours+model"``), ``k`` (neighbours per class), ``threshold``,
        ``n_inputs``, ``n_flagged``, ``suspects`` ``[{index, given, likely,
        score, flagged, neighbour_score, model_score}]`` ranked by score (ties
        by index; ``model_score`` None without predictions) and ``truncated``
        (whether ``limit`` cut the list).
    """
    S = check_matrix(S, "S")
    n = S.shape[0]
    if limit is not None:
        limit = check_int(limit, "limit", lo=0)
    out = suspect_scores(S, labels, k=k, predictions=predictions, confidences=confidences,
                         threshold=threshold, n_classes=n_classes)
    labels = check_labels(labels, n)
    order = ranking(out["score"])
    shown = order if limit is None else order[:limit]
    score = floats(out["score"], decimals=6)
    nbr = floats(out["neighbour_score"], decimals=6)
    model = None if out["model_score"] is None else floats(out["model_score"], decimals=6)
    likely = ints(out["likely"])
    flagged = out["flagged"].tolist()
    return {
        "method": "neighbours" if model is None else "neighbours+model",
        "k": int(k),
        "threshold": float(threshold),
        "n_inputs": int(n),
        "n_flagged": int(out["flagged"].sum()),
        "suspects": [
            {"index": int(i), "given": int(labels[i]), "likely": likely[i], "score": score[i],
             "flagged": bool(flagged[i]), "neighbour_score": nbr[i], "model_score": None if model is None else model[i]}
            for i in shown
        ],
        "truncated": bool(limit is not None and limit < n),
    }
