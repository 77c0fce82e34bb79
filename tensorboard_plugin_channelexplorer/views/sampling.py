"""Seeded, class-stratified input samples for the N x N similarity views.

A Jaccard matrix of N inputs has N^2 cells: at N = 4,096 that is already
~100 MB of JSON and more than a screen can show. Past a cap the views work on
a sample of the inputs instead, and say so (`sample_info`).

Allocation of ``n_max`` rows over classes with ``n_c`` inputs each
(``N = sum n_c > n_max``, ``K`` classes):

* every class first gets ``min(n_c, m)`` rows, with the floor
  ``m = max(1, n_max // (2 K))``: every class is represented, and half the
  budget at most goes to the floor;
* the rest ``R = n_max - sum min(n_c, m)`` is shared in proportion to what
  each class has left (``n_c - min(n_c, m)``), by largest remainder (ties:
  lower class id), which never asks a class for more inputs than it has;
* within a class the rows are drawn uniformly without replacement with
  ``numpy.random.default_rng(random_state)``, classes in ascending id order,
  so a sample is a pure function of ``(labels, n_max, random_state)``.

When the classes outnumber ``n_max`` every class still keeps one input, so the
sample has ``K`` rows, more than ``n_max``.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_int, check_labels, check_random_state

__all__ = ["allocation", "stratified_sample", "sample_info"]


def allocation(counts, n_max: int) -> np.ndarray:
    """Rows per class of a sample of ``n_max`` rows (rule in the module docstring).

    Args:
        counts: ``[K]`` number of inputs of each class (each >= 1).
        n_max: rows wanted in all, >= 1.

    Returns:
        int64 ``[K]``; equal to ``counts`` when ``sum(counts) <= n_max``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_max = check_int(n_max, "n_max", lo=1)
    if counts.ndim != 1 or counts.size == 0 or counts.min() < 1:
        raise ValueError(f"counts must be a non-empty 1-D array of positive class sizes, got {counts.tolist()}")
    if counts.sum() <= n_max:
        return counts.copy()
    floor = max(1, n_max // (2 * counts.size))
    base = np.minimum(counts, floor)
    rest = int(n_max - base.sum())
    if rest <= 0:
        return base
    left = counts - base
    share = rest * left / left.sum()  # < left, since sum(left) > rest
    extra = np.floor(share).astype(np.int64)
    short = rest - int(extra.sum())
    # Largest remainder first, ties to the lower class id.
    pick = np.lexsort((np.arange(counts.size), -(share - extra)))[:short]
    extra[pick] += 1
    return base + extra


def stratified_sample(labels, n_max: int, random_state=0) -> np.ndarray:
    """Indices of a seeded class-stratified sample of at most ``n_max`` inputs.

    Args:
        labels: ``[N]`` class ids.
        n_max: the most rows wanted (see the module docstring for ``K > n_max``).
        random_state: seed, an int in ``[0, 2**32 - 1]``.

    Returns:
        int64 original input indices, ascending; ``arange(N)`` when ``N <= n_max``.
    """
    arr = np.asarray(labels)
    labels = check_labels(arr, arr.shape[0] if arr.ndim else 0)
    n_max = check_int(n_max, "n_max", lo=1)
    random_state = check_random_state(random_state)
    n = labels.size
    if n <= n_max:
        return np.arange(n, dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    take = allocation(counts, n_max)
    rng = np.random.default_rng(random_state)
    parts = []
    for c, t in zip(classes, take):
        idx = np.flatnonzero(labels == c)
        parts.append(idx if t == idx.size else rng.choice(idx, size=int(t), replace=False))
    return np.sort(np.concatenate(parts)).astype(np.int64)


def sample_info(labels, idx, random_state) -> dict | None:
    """The ``sampled`` field of a response: None when ``idx`` holds every input.

    Returns:
        ``{"n_total", "n_shown", "how", "seed", "per_class": [{"class",
        "total", "shown"}]}`` (classes ascending).
    """
    labels = np.asarray(labels, dtype=np.int64)
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == labels.size:
        return None
    classes, total = np.unique(labels, return_counts=True)
    shown = np.array([np.count_nonzero(labels[idx] == c) for c in classes])
    return {
        "n_total": int(labels.size),
        "n_shown": int(idx.size),
        "how": f"stratified by class, seed {int(random_state)}",
        "seed": int(random_state),
        "per_class": [{"class": int(c), "total": int(t), "shown": int(s)}
                      for c, t, s in zip(classes, total, shown)],
    }
