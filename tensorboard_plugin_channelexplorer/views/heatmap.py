"""Activation heatmap (paper Sect. V-F): channels x inputs, with channel orderings.

Columns are inputs grouped by class (stable within a class); rows are
channels, ordered by a metric in descending order (ties by channel index):

- ``variance``: population variance of the channel's summaries over all
  inputs, ``sigma_i = 1/n sum_j (S_ij - mu_i)^2``.
- ``pairwise`` (Eq. 3, the paper's default): ``zeta_i = sum_{u<v}
  d(C_ui, C_vi)``. Classes have different sizes, so the distance between two
  classes' summaries of channel ``i`` is the distance between their means,
  ``|mean_u(S_.i) - mean_v(S_.i)|`` (Euclidean distance in 1-D).
- ``filter_norm``: the L2 norm of the channel's filter weights, logged by the
  writer ("edge weights from the previous layer").
- ``taylor``: the channel's first-order Taylor importance (the writer logs it
  next to the summaries when gradients are available; higher = removing the
  channel would change the loss more).
- ``cluster``: not a metric but a seriation (as CNNVis reorders its matrix):
  channels with similar profiles (cosine similarity of the mean-centred
  columns of ``S``) are adjacent, in the leaf order that
  ``scipy.cluster.hierarchy.optimal_leaf_ordering`` gives the average-linkage
  tree (see ``views/_seriation.py``, also used by the channel cluster view).

Display threshold: the paper thresholds values "at the 10th percentile before
applying the colorscale". Here values below the layer's 10th percentile (over
all inputs and channels) are raised to that percentile, so the colour scale
starts there; the metrics use the raw values.
"""

from __future__ import annotations

import numpy as np

from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError

from ._seriation import seriation
from ._validate import (
    check_choice,
    check_int,
    check_labels,
    check_matrix,
    decimals_for,
    floats,
    group_by_class,
    ints,
    round_sig,
    single_threaded_view,
)

__all__ = ["ORDERS", "MAX_LIMIT", "THRESHOLD_PERCENTILE", "variance", "pairwise_distance",
           "channel_order", "heatmap_view"]

ORDERS = ("pairwise", "variance", "filter_norm", "taylor", "cluster")
# Orders that need a per-channel vector the writer logs only for some layers.
OPTIONAL_METRICS = ("filter_norm", "taylor")
MAX_LIMIT = 4096
THRESHOLD_PERCENTILE = 10.0


def variance(S: np.ndarray) -> np.ndarray:
    """Population variance of each channel over inputs, ``[C]``."""
    return np.var(np.asarray(S, dtype=np.float64), axis=0)


def pairwise_distance(S: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Eq. 3 with class means: ``sum_{u<v} |m_u - m_v|`` per channel, ``[C]``.

    Computed in ``O(K C log K)``: with the ``K`` class means of a channel
    sorted ascending, ``sum_{u<v} (m_(v) - m_(u)) = sum_r (2r - K + 1) m_(r)``.
    """
    S = np.asarray(S, dtype=np.float64)
    classes = np.unique(labels)
    k = classes.size
    if k < 2:
        return np.zeros(S.shape[1])
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)
    means = (onehot.T @ S) / onehot.sum(axis=0)[:, None]  # [K, C]
    means.sort(axis=0)
    weights = 2.0 * np.arange(k) - k + 1.0
    return np.maximum(weights @ means, 0.0)


def check_channel_vector(values, c: int, name: str):
    """Returns an optional per-channel vector as float64 ``[C]`` (None stays None).

    Raises:
        ValueError: when it is not 1-D with ``c`` finite values.
    """
    if values is None:
        return None
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(values).__name__}") from exc
    if v.ndim != 1 or v.shape[0] != c:
        raise ValueError(f"{name} must have one value per channel ({c}), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return v


@single_threaded_view
def channel_order(S, labels, order: str = "pairwise", filter_norm=None, taylor=None, cluster_order=None):
    """Orders channels by a metric, descending (ties by channel index), or by seriation.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        order: ``pairwise`` (Eq. 3), ``variance``, ``filter_norm``, ``taylor``
            or ``cluster`` (seriation, see the module docstring).
        filter_norm: optional ``[C]`` filter weight norms; required for
            ``order="filter_norm"``.
        taylor: optional ``[C]`` Taylor importances; required for
            ``order="taylor"``.
        cluster_order: optional precomputed seriation (a permutation of the
            ``C`` channels, e.g. ``channels.channel_clusters()["order"]``)
            used for ``order="cluster"`` instead of recomputing it.

    Returns:
        ``(perm, metrics)``: ``perm`` int64 ``[C]`` channel indices, first the
        highest metric (or the seriation); ``metrics`` maps ``variance``,
        ``pairwise``, ``filter_norm`` and ``taylor`` (None when not given)
        to float64 ``[C]`` arrays in the ORIGINAL channel order.

    Raises:
        ValueError: unknown ``order``, ``order="filter_norm"`` without
            ``filter_norm`` (or ``taylor`` without ``taylor``), or
            mismatched shapes.
    """
    S = check_matrix(S, "S")
    n, c = S.shape
    labels = check_labels(labels, n)
    order = check_choice(order, "order", ORDERS)
    metrics = {
        "variance": variance(S),
        "pairwise": pairwise_distance(S, labels),
        "filter_norm": check_channel_vector(filter_norm, c, "filter_norm"),
        "taylor": check_channel_vector(taylor, c, "taylor"),
    }
    if order in OPTIONAL_METRICS and metrics[order] is None:
        raise InvalidArgumentError(f"order={order!r} needs {order} (not logged for this layer)", "order")
    if cluster_order is not None:
        cluster_order = np.asarray(cluster_order)
        if cluster_order.shape != (c,) or not np.array_equal(np.sort(cluster_order), np.arange(c)):
            raise ValueError(f"cluster_order must be a permutation of the {c} channels")
    if order == "cluster":
        perm = seriation(S) if cluster_order is None else cluster_order.astype(np.int64)
    else:
        perm = np.argsort(-metrics[order], kind="stable").astype(np.int64)
    return perm, metrics


@single_threaded_view
def heatmap_view(S, labels, order: str = "pairwise", filter_norm=None, offset=0, limit=256,
                 taylor=None, cluster_order=None) -> dict:
    """One page of the heatmap view.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        order: ``pairwise``, ``variance``, ``filter_norm``, ``taylor`` or
            ``cluster``.
        filter_norm: optional ``[C]`` filter weight norms.
        offset: first row (in the chosen order) of the page, >= 0; an offset
            at or past ``C`` gives an empty page.
        limit: number of rows, 1..4096.
        taylor: optional ``[C]`` Taylor importances.
        cluster_order: optional precomputed seriation (see `channel_order`).

    Returns:
        JSON-ready dict: ``order``, ``total_channels``, ``offset``, ``limit``,
        ``channels`` (channel index of each row), ``columns`` (input index of
        each column), ``column_labels``, ``classes`` (class id of each column
        group), ``class_boundaries`` (start of each group, then N),
        ``values`` (``[rows][columns]``, thresholded), ``threshold``,
        ``range`` (``[threshold, max]`` of the whole layer), ``metrics``
        (``variance``, ``pairwise``, and ``filter_norm``/``taylor`` or None,
        aligned with ``channels``).
    """
    S = check_matrix(S, "S")
    n, c = S.shape
    labels = check_labels(labels, n)
    order = check_choice(order, "order", ORDERS)
    offset = check_int(offset, "offset", lo=0)
    limit = check_int(limit, "limit", lo=1, hi=MAX_LIMIT)

    perm, metrics = channel_order(S, labels, order=order, filter_norm=filter_norm, taylor=taylor,
                                  cluster_order=cluster_order)
    columns, classes, boundaries = group_by_class(labels)
    # Round the threshold like the values so "values >= threshold" holds in the JSON.
    dec = decimals_for(S)
    threshold = float(round_sig(np.percentile(S, THRESHOLD_PERCENTILE), decimals=dec))
    rows = perm[offset: offset + limit]
    values = np.maximum(S[np.ix_(columns, rows)].T, threshold)  # [rows, columns]
    return {
        "order": order,
        "total_channels": c,
        "offset": offset,
        "limit": limit,
        "channels": ints(rows),
        "columns": ints(columns),
        "column_labels": ints(labels[columns]),
        "classes": ints(classes),
        "class_boundaries": ints(boundaries),
        "values": floats(values, decimals=dec),
        "threshold": threshold,
        "range": [threshold, float(S.max())],
        "metrics": {
            name: (None if m is None else floats(m[rows]))
            for name, m in metrics.items()
        },
    }
