"""Activation Jaccard similarity (paper Sect. V-E, Eq. 1).

Input ``i``'s "fully activated" set ``S_i`` is its top ``A = ceil(eta * C)``
channels by summary value; ties are broken by the lower channel index so the
sets are deterministic. ``J_ij = |S_i ∩ S_j| / |S_i ∪ S_j|``. Every set has
exactly ``A`` members, so with the boolean membership matrix ``B``,
``|S_i ∩ S_j| = (B B^T)_ij`` and ``|S_i ∪ S_j| = 2A - (B B^T)_ij``: one
matrix product for the whole matrix.

Default ``eta = 0.2``: it keeps the strongest fifth of the channels, small
enough that sets differ between classes yet large enough that a handful of
channels does not decide the similarity (with ``eta`` near 1 every pair tends
to 1; near 0 pairs share nothing).

Class-level matrix: cell ``(u, v)`` is the mean of ``J_ij`` over ``i`` in
class ``u`` and ``j`` in class ``v``; on the diagonal the mean runs over pairs
``i != j`` (the trivial ``J_ii = 1`` are left out); a class with one input gets
1.0 there.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import (
    check_eta,
    check_int,
    check_labels,
    check_matrix,
    floats,
    group_by_class,
    ints,
    single_threaded_view,
)

__all__ = ["DEFAULT_ETA", "n_top", "top_channel_sets", "jaccard_matrix", "class_mean_matrix",
           "jaccard_view", "jaccard_cell"]

DEFAULT_ETA = 0.2


def n_top(eta: float, n_channels: int) -> int:
    """``A = ceil(eta * C)``, at least 1; tolerant to float error (0.3 * 10 is 3)."""
    eta = check_eta(eta)
    return int(min(n_channels, max(1, math.ceil(eta * n_channels - 1e-9))))


@single_threaded_view
def top_channel_sets(S, eta=DEFAULT_ETA) -> np.ndarray:
    """Boolean membership of each input's top ``ceil(eta * C)`` channels.

    Args:
        S: ``[N, C]`` channel summaries.
        eta: fraction of channels kept, in (0, 1].

    Returns:
        bool ``[N, C]`` with exactly ``A`` True values per row; among equal
        values the lower channel index wins.
    """
    S = check_matrix(S, "S", dtype=np.float32)
    eta = check_eta(eta)
    n, c = S.shape
    a = n_top(eta, c)
    if a == c:
        return np.ones((n, c), dtype=bool)
    # The A-th largest value of each row (O(C) partition, not a full sort).
    thr = -np.partition(-S, a - 1, axis=1)[:, a - 1: a]
    B = S > thr
    # Fill up with channels equal to the threshold, lowest index first.
    eq = S == thr
    need = a - B.sum(axis=1, keepdims=True)
    B |= eq & (np.cumsum(eq, axis=1) <= need)
    return B


def _jaccard_from_sets(B: np.ndarray) -> np.ndarray:
    a = float(B[0].sum()) if B.shape[0] else 0.0
    Bf = B.astype(np.float32)
    inter = Bf @ Bf.T  # exact: integers below 2**24
    return inter / (2.0 * a - inter)


@single_threaded_view
def jaccard_matrix(S, eta=DEFAULT_ETA) -> np.ndarray:
    """Eq. 1 for every pair of inputs.

    Returns:
        float32 ``[N, N]``: symmetric, 1 on the diagonal, values in [0, 1].
    """
    return _jaccard_from_sets(top_channel_sets(S, eta))


def class_mean_matrix(J: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Mean Jaccard between classes (diagonal: over distinct pairs; see module docstring)."""
    k = classes.size
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)  # [N, K]
    counts = onehot.sum(axis=0)
    sums = onehot.T @ J.astype(np.float64) @ onehot
    pairs = np.outer(counts, counts)
    diag_sum = np.diag(sums) - counts  # drop J_ii = 1
    diag_pairs = counts * (counts - 1)
    out = sums / np.maximum(pairs, 1)
    di = np.arange(k)
    out[di, di] = np.where(diag_pairs > 0, diag_sum / np.maximum(diag_pairs, 1), 1.0)
    return out


@single_threaded_view
def jaccard_view(S, labels, eta=DEFAULT_ETA, normalize=False) -> dict:
    """The Jaccard similarity view.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        eta: fraction of channels in each input's set, in (0, 1].
        normalize: if true, ``range`` is the 1st-99th percentile of the
            off-diagonal similarities (the colour domain; the frontend clips),
            else ``[0, 1]``. ``matrix`` always holds the raw values of Eq. 1.

    Returns:
        JSON-ready dict: ``eta``, ``top`` (A), ``channels`` (C), ``order``
        (input index of each matrix row/column, grouped by class, stable within
        a class), ``matrix`` (``[N, N]`` in ``order``), ``classes`` (class id
        of each group), ``class_boundaries`` (start of each group in ``order``,
        then N), ``class_matrix`` (``[K, K]`` class means over ``classes``),
        ``labels`` (class id of each row), ``range`` and ``normalized``.
    """
    S = check_matrix(S, "S", dtype=np.float32)
    n, c = S.shape
    labels = check_labels(labels, n)
    eta = check_eta(eta)
    normalize = bool(normalize)

    J = jaccard_matrix(S, eta)
    order, classes, boundaries = group_by_class(labels)
    Jo = J[np.ix_(order, order)]
    if normalize and n > 1:
        off = J[~np.eye(n, dtype=bool)]
        lo, hi = (round(float(v), 7) for v in np.percentile(off, [1.0, 99.0]))
    else:
        lo, hi = 0.0, 1.0
    return {
        "eta": eta,
        "top": n_top(eta, c),
        "channels": c,
        "order": ints(order),
        "matrix": floats(Jo),
        "classes": ints(classes),
        "class_boundaries": ints(boundaries),
        "class_matrix": floats(class_mean_matrix(J, labels, classes)),
        "labels": ints(labels[order]),
        "range": [lo, hi],
        "normalized": normalize,
    }


@single_threaded_view
def jaccard_cell(S, i, j, eta=DEFAULT_ETA, labels=None) -> dict:
    """Details of one matrix cell: the channels two inputs share.

    Args:
        S: ``[N, C]`` channel summaries.
        i, j: input indices in ``0..N-1``.
        eta: fraction of channels in each set, in (0, 1].
        labels: optional ``[N]`` class ids; adds ``labels: [label_i, label_j]``.

    Returns:
        JSON-ready dict: ``i``, ``j``, ``shared`` (|S_i ∩ S_j|), ``union``,
        ``similarity``, ``top`` (A), ``shared_channels`` (channel indices,
        ascending) and ``labels`` when given.
    """
    S = check_matrix(S, "S", dtype=np.float32)
    n = S.shape[0]
    i = check_int(i, "i", lo=0, hi=n - 1)
    j = check_int(j, "j", lo=0, hi=n - 1)
    eta = check_eta(eta)
    lab = None if labels is None else check_labels(labels, n)
    B = top_channel_sets(S[[i, j]], eta)
    both = B[0] & B[1]
    shared = int(both.sum())
    union = int((B[0] | B[1]).sum())
    out = {
        "i": i,
        "j": j,
        "shared": shared,
        "union": union,
        "similarity": shared / union,
        "top": int(B[0].sum()),
        "shared_channels": ints(np.flatnonzero(both)),
    }
    if lab is not None:
        out["labels"] = [int(lab[i]), int(lab[j])]
    return out
