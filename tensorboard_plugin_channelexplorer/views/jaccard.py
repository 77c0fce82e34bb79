"""Activation Jaccard similarity (paper Sect. V-E, Eq. 1).

Input ``i``'s "fully activated" set ``S_i`` holds its most activated channels:

* only channels whose summary is strictly above ``floor`` (default 0) are
  candidates. Every summary function is non-negative and a channel that never
  fires (a dead or pruned channel, or a channel switched off by a ReLU before
  pooling) summarizes to exactly 0, so such channels are never "activated";
* of the candidates, the ``A = ceil(eta * C)`` largest are kept;
* at the boundary, among equal values, the lower channel index wins, so a set
  never exceeds ``A`` and is deterministic.

A set therefore has between 0 and ``A`` members. ``J_ij = |S_i ∩ S_j| /
|S_i ∪ S_j|`` with the boolean membership matrix ``B``: ``|S_i ∩ S_j| =
(B B^T)_ij`` and ``|S_i ∪ S_j| = |S_i| + |S_j| - (B B^T)_ij`` (one matrix
product for the whole matrix). An input without any active channel has an
empty set: its similarity is 0 to every other input (nothing is shared, even
with another empty set) and 1 to itself (the diagonal is always 1).

Why the floor: filling a set with zero-valued channels (in index order) would
make two inputs whose only active channels differ look identical, and in
sparse post-ReLU or pooled layers would add the same dead channels to every
set, inflating every similarity. Jaccard, the confusion hierarchy, the dataset
view and the step/run diffs all use `top_channel_sets`.

Default ``eta = 0.2``: it keeps the strongest fifth of the channels, small
enough that sets differ between classes yet large enough that a handful of
channels does not decide the similarity (with ``eta`` near 1 every pair tends
to 1; near 0 pairs share nothing).

Class-level matrix: cell ``(u, v)`` is the mean of ``J_ij`` over ``i`` in
class ``u`` and ``j`` in class ``v``; on the diagonal the mean runs over pairs
``i != j`` (the trivial ``J_ii = 1`` are left out); a class with one input gets
1.0 there.

Big matrices: ``matrix_format="counts"`` returns the matrix as the exact
integers it comes from, the shared-channel counts ``|S_i ∩ S_j|`` as one
little-endian base64 block of the smallest unsigned type that holds ``A``,
plus the set sizes; the reader divides. At 4,096 inputs of 512 channels that
is 21 MiB of JSON instead of 143 MiB of decimal floats, and no float is
printed.

Past ``max_inputs`` inputs `jaccard_view` shows a seeded class-stratified
sample (`views.sampling`): ``order`` holds the original input indices of the
rows, so thumbnails, sample ids and `jaccard_cell` still address the right
inputs, and ``sampled`` says how many of how many are shown.
"""

from __future__ import annotations

import base64
import math
import numbers

import numpy as np

from ._validate import (
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
from .sampling import sample_info, stratified_sample

__all__ = ["DEFAULT_ETA", "DEFAULT_FLOOR", "MATRIX_FORMATS", "n_top", "top_channel_sets", "jaccard_from_sets",
           "jaccard_matrix", "class_mean_matrix", "encode_counts", "jaccard_view", "jaccard_cell"]

DEFAULT_ETA = 0.2
DEFAULT_FLOOR = 0.0
#: How `jaccard_view` returns the input-by-input matrix: decimal ``matrix`` or exact ``shared`` counts.
MATRIX_FORMATS = ("values", "counts")


def n_top(eta: float, n_channels: int) -> int:
    """``A = ceil(eta * C)``, at least 1: the largest size of a top set; tolerant to float error (0.3 * 10 is 3)."""
    eta = check_eta(eta)
    return int(min(n_channels, max(1, math.ceil(eta * n_channels - 1e-9))))


def _check_floor(floor) -> float:
    if isinstance(floor, bool) or not isinstance(floor, numbers.Real) or not math.isfinite(floor):
        raise ValueError(f"floor must be a finite number, got {floor!r}")
    return float(floor)


@single_threaded_view
def top_channel_sets(S, eta=DEFAULT_ETA, floor=DEFAULT_FLOOR) -> np.ndarray:
    """Boolean membership of each input's most activated channels (rule in the module docstring).

    Args:
        S: ``[N, C]`` channel summaries.
        eta: fraction of channels kept at most, in (0, 1].
        floor: a channel is a candidate only when its summary is strictly
            greater than this value (default 0: zero means "did not fire").

    Returns:
        bool ``[N, C]`` with at most ``ceil(eta * C)`` True values per row,
        only on channels whose value is ``> floor``; among equal values at
        the boundary the lower channel index wins. A row is all False when
        no channel of that input is above ``floor``.
    """
    S = check_matrix(S, "S", dtype=np.float32)
    eta = check_eta(eta)
    floor = _check_floor(floor)
    n, c = S.shape
    a = n_top(eta, c)
    active = S > floor
    # Inactive channels rank below every active one.
    V = np.where(active, S, -np.inf)
    if a == c:
        return active
    # The A-th largest value of each row (O(C) partition, not a full sort).
    thr = -np.partition(-V, a - 1, axis=1)[:, a - 1: a]
    B = V > thr
    # Fill up with channels equal to the threshold, lowest index first (never inactive ones).
    eq = (V == thr) & active
    need = a - B.sum(axis=1, keepdims=True)
    B |= eq & (np.cumsum(eq, axis=1) <= need)
    return B


def jaccard_from_sets(B, B2=None) -> np.ndarray:
    """Jaccard similarity between the rows of two membership matrices.

    Args:
        B: bool ``[N, C]`` sets (from `top_channel_sets`).
        B2: bool ``[M, C]``; None means ``B`` itself, and then the diagonal
            is 1 even for empty sets.

    Returns:
        float32 ``[N, M]``; a pair whose union is empty gets 0 (see the
        module docstring).
    """
    Bf = np.asarray(B).astype(np.float32)
    B2f = Bf if B2 is None else np.asarray(B2).astype(np.float32)
    inter = Bf @ B2f.T  # exact: integers below 2**24
    return _from_counts(inter, Bf.sum(axis=1), B2f.sum(axis=1), square=B2 is None)


def _from_counts(inter, sizes_a, sizes_b, square: bool) -> np.ndarray:
    """Eq. 1 from the shared counts ``[N, M]`` and the set sizes of both sides."""
    union = sizes_a[:, None] + sizes_b[None, :] - inter
    J = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    if square:
        np.fill_diagonal(J, 1.0)
    return J


def encode_counts(counts) -> dict:
    """Non-negative integers ``[N, M]`` as ``{"dtype", "shape", "base64"}`` (row-major, little-endian).

    ``dtype`` is the smallest of uint8, uint16 and uint32 that holds the
    largest value.

    Raises:
        ValueError: negative, non-integer or too large values.
    """
    a = np.asarray(counts)
    if a.ndim != 2:
        raise ValueError(f"counts must be 2-D, got shape {a.shape}")
    top = float(a.max()) if a.size else 0.0
    if a.size and (float(a.min()) < 0 or not np.array_equal(a, np.round(a)) or top >= 2**32):
        raise ValueError("counts must be integers in [0, 2**32)")
    dtype = next(t for t in ("uint8", "uint16", "uint32") if top <= np.iinfo(t).max)
    data = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": [int(n) for n in a.shape], "base64": base64.b64encode(data.tobytes()).decode()}


@single_threaded_view
def jaccard_matrix(S, eta=DEFAULT_ETA, floor=DEFAULT_FLOOR) -> np.ndarray:
    """Eq. 1 for every pair of inputs.

    Returns:
        float32 ``[N, N]``: symmetric, 1 on the diagonal, values in [0, 1];
        0 between an input without active channels and any other input.
    """
    return jaccard_from_sets(top_channel_sets(S, eta, floor))


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
def jaccard_view(S, labels, eta=DEFAULT_ETA, normalize=False, floor=DEFAULT_FLOOR, max_inputs=None,
                 random_state=0, matrix_format="values") -> dict:
    """The Jaccard similarity view.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        eta: fraction of channels in each input's set, in (0, 1].
        normalize: if true, ``range`` is the 1st-99th percentile of the
            off-diagonal similarities (the colour domain; the frontend clips),
            else ``[0, 1]``. ``matrix`` always holds the raw values of Eq. 1.
        floor: only channels with a summary above it enter a set.
        max_inputs: None for every input; else past this many inputs the
            matrix covers a seeded class-stratified sample of this many
            (`views.sampling.stratified_sample`; every class keeps inputs).
        random_state: seed of that sample.
        matrix_format: ``"values"`` returns ``matrix``; ``"counts"`` returns
            ``shared`` (`encode_counts` of ``|S_i ∩ S_j|``, ``[M, M]`` in
            ``order``) and ``set_sizes`` (``|S_i|`` in ``order``) instead:
            ``J_ij = shared / (size_i + size_j - shared)``, 0 where that
            union is 0, and 1 on the diagonal.

    Returns:
        JSON-ready dict: ``eta``, ``top`` (A, the largest set size),
        ``floor``, ``empty`` (input indices of the shown inputs without any
        channel above ``floor``; their row is 0 off the diagonal), ``channels``
        (C), ``order`` (original input index of each matrix row/column,
        grouped by class, ascending within a class), ``matrix`` (``[M, M]`` in
        ``order``, M the inputs shown), ``classes`` (class id of each group),
        ``class_boundaries`` (start of each group in ``order``, then M),
        ``class_matrix`` (``[K, K]`` class means over ``classes``, of the
        shown inputs), ``labels`` (class id of each row), ``range``,
        ``normalized`` and ``sampled`` (`views.sampling.sample_info`: None
        when every input is shown); ``matrix_format``.

    Raises:
        ValueError: bad ``S``, ``labels``, ``eta``, ``floor`` or
            ``matrix_format``.
    """
    if matrix_format not in MATRIX_FORMATS:
        raise ValueError(f"matrix_format must be one of {list(MATRIX_FORMATS)}, got {matrix_format!r}")
    S = check_matrix(S, "S", dtype=np.float32)
    labels = check_labels(labels, S.shape[0])
    eta = check_eta(eta)
    normalize = bool(normalize)
    floor = _check_floor(floor)
    random_state = check_random_state(random_state)
    rows = np.arange(S.shape[0]) if max_inputs is None else stratified_sample(labels, max_inputs, random_state)
    sampled = sample_info(labels, rows, random_state)
    S, labels = S[rows], labels[rows]
    n, c = S.shape

    B = top_channel_sets(S, eta, floor)
    Bf = B.astype(np.float32)
    inter = Bf @ Bf.T  # exact: integers below 2**24
    sizes = Bf.sum(axis=1)
    J = _from_counts(inter, sizes, sizes, square=True)
    order, classes, boundaries = group_by_class(labels)
    if matrix_format == "counts":
        matrix = {"shared": encode_counts(inter[np.ix_(order, order)]), "set_sizes": ints(sizes[order])}
    else:
        matrix = {"matrix": floats(J[np.ix_(order, order)])}
    if normalize and n > 1:
        off = J[~np.eye(n, dtype=bool)]
        lo, hi = (round(float(v), 7) for v in np.percentile(off, [1.0, 99.0]))
    else:
        lo, hi = 0.0, 1.0
    return {
        "eta": eta,
        "top": n_top(eta, c),
        "floor": floor,
        "empty": ints(rows[np.flatnonzero(~B.any(axis=1))]),
        "channels": c,
        "order": ints(rows[order]),
        **matrix,
        "classes": ints(classes),
        "class_boundaries": ints(boundaries),
        "class_matrix": floats(class_mean_matrix(J, labels, classes)),
        "labels": ints(labels[order]),
        "range": [lo, hi],
        "normalized": normalize,
        "sampled": sampled,
        "matrix_format": matrix_format,
    }


@single_threaded_view
def jaccard_cell(S, i, j, eta=DEFAULT_ETA, labels=None, floor=DEFAULT_FLOOR) -> dict:
    """Details of one matrix cell: the channels two inputs share.

    Args:
        S: ``[N, C]`` channel summaries.
        i, j: input indices in ``0..N-1``.
        eta: fraction of channels in each set, in (0, 1].
        labels: optional ``[N]`` class ids; adds ``labels: [label_i, label_j]``.
        floor: only channels with a summary above it enter a set.

    Returns:
        JSON-ready dict: ``i``, ``j``, ``shared`` (|S_i ∩ S_j|), ``union``,
        ``similarity`` (1 when ``i == j``, 0 when the union is empty),
        ``top`` (A, the largest set size), ``sizes`` (``[|S_i|, |S_j|]``),
        ``shared_channels`` (channel indices, ascending) and ``labels`` when given.
    """
    S = check_matrix(S, "S", dtype=np.float32)
    n = S.shape[0]
    i = check_int(i, "i", lo=0, hi=n - 1)
    j = check_int(j, "j", lo=0, hi=n - 1)
    eta = check_eta(eta)
    lab = None if labels is None else check_labels(labels, n)
    floor = _check_floor(floor)
    B = top_channel_sets(S[[i, j]], eta, floor)
    both = B[0] & B[1]
    shared = int(both.sum())
    union = int((B[0] | B[1]).sum())
    out = {
        "i": i,
        "j": j,
        "shared": shared,
        "union": union,
        "similarity": 1.0 if i == j else (shared / union if union else 0.0),
        "top": n_top(eta, S.shape[1]),
        "sizes": [int(B[0].sum()), int(B[1].sum())],
        "shared_channels": ints(np.flatnonzero(both)),
    }
    if lab is not None:
        out["labels"] = [int(lab[i]), int(lab[j])]
    return out
