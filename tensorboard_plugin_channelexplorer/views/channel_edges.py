"""Aggregated edges between the channel clusters of two consecutive layers.

CNNVis bundles the edges between neuron clusters of adjacent layers and
draws positive and negative weights apart. Here (without CNNVis's
biclustering) the bundle from cluster ``p`` of the source layer to cluster
``q`` of the target layer aggregates the target layer's weights
``W[o, i]`` for ``o`` in ``q`` and ``i`` in ``p``, where ``W`` is a
``[C_out, C_in]`` matrix with, per (output, input) channel pair, the summed
``|w|`` over the kernel (``weight_abs``) and optionally the signed sum
(``weight_sum``). Since ``sum max(w, 0) = (sum |w| + sum w) / 2``, the
positive and negative parts of a bundle are ``(abs + sum) / 2`` and
``(abs - sum) / 2`` exactly.

Bundles are compared by their mean ``|w|`` per connection (``abs / (|p| *
|q|)``), so large clusters do not win by size alone; ``strength`` is that
mean divided by the largest one, and only bundles with ``strength >=
threshold`` are returned.

Edges are drawn only where ``W`` maps the source's channels to the target's
channels one to one: the target is a dense (``groups == 1``), not transposed,
conv or linear layer, the layers between the two preserve channels
(normalization, activations, pooling, dropout), and ``W`` has ``C_in`` equal
to the source's channel count and ``C_out`` to the target's. Otherwise the
view returns ``available: false`` with the reason.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import check_fraction, check_matrix, floats

__all__ = ["CHANNEL_PRESERVING", "mapping_problem", "channel_edges"]

# Module types that keep channel i as channel i (per-channel or elementwise ops).
CHANNEL_PRESERVING = frozenset({
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d", "GroupNorm", "LayerNorm", "Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d",
    "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "relu", "relu_", "sigmoid", "tanh",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "dropout", "flatten", "Flatten",
})


def mapping_problem(c_source: int, c_target: int, weight_shape, target_type: str | None = None,
                    groups: int = 1, between=(), connected: bool = True) -> str | None:
    """Why the target's weights do not map source channels to target channels, or None.

    Args:
        c_source: channels of the source layer.
        c_target: channels of the target layer.
        weight_shape: shape of the target's ``[C_out, C_in]`` weight matrix.
        target_type: the target module's type name (e.g. ``Conv2d``).
        groups: the target convolution's ``groups``.
        between: ``(name, type)`` of every graph node strictly between the two.
        connected: False when the model graph has no path from the source to
            the target.

    Returns:
        A sentence for the user, or None when edges can be drawn.
    """
    if not connected:
        return "the model graph has no path from the source layer to the target layer (is the order reversed?)"
    if weight_shape is None:
        return "the target layer has no filter weights logged at this step"
    if target_type is not None and "Transpose" in target_type:
        return (f"the target layer is a transposed convolution ({target_type}): its weights are stored "
                "[C_in, C_out, ...] and spread each input over several outputs, so they are not drawn as edges")
    if groups != 1:
        kind = "depthwise" if groups == c_target and c_target == c_source else "grouped"
        return (f"the target layer is a {kind} convolution (groups={groups}): each filter sees only "
                f"{c_source // max(groups, 1)} of the {c_source} input channels, so there is no dense "
                "channel-to-channel weight matrix")
    others = [f"{name} ({typ})" for name, typ in between if typ not in CHANNEL_PRESERVING]
    if others:
        return ("modules in between do not keep channel i as channel i: " + ", ".join(others[:5])
                + (" ..." if len(others) > 5 else "") + "; pick two consecutive layers")
    if len(weight_shape) != 2:
        return f"the target's weight matrix must be [C_out, C_in], got shape {tuple(weight_shape)}"
    c_out, c_in = weight_shape
    if (c_in != c_source and c_in > 0 and c_source % c_in == 0 and target_type is not None
            and "Conv" in target_type):
        # A grouped conv's weight is [C_out, C_in / groups]: the shape tells the groups.
        return mapping_problem(c_source, c_target, weight_shape, target_type, c_source // c_in, between, connected)
    if c_in != c_source:
        return (f"the target's weights have C_in={c_in} but the source layer has {c_source} channels "
                "(a flatten, a concatenation, a skip or a grouped convolution in between)")
    if c_out != c_target:
        return f"the target's weights have C_out={c_out} but the target layer has {c_target} channels"
    return None


def _check_assignment(assign, name: str) -> np.ndarray:
    a = np.asarray(assign)
    if a.ndim != 1 or a.size == 0 or not np.issubdtype(a.dtype, np.integer) or a.min() < 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of cluster ids >= 0")
    return a.astype(np.int64)


def channel_edges(assign_source, assign_target, weight_abs, weight_sum=None, threshold: float = 0.5,
                  target_type: str | None = None, groups: int = 1, between=(), connected: bool = True) -> dict:
    """Bundled edges between the channel clusters of two layers (module docstring).

    Args:
        assign_source: ``[C_in]`` cluster id of each source channel.
        assign_target: ``[C_out]`` cluster id of each target channel.
        weight_abs: ``[C_out, C_in]`` summed ``|w|`` per channel pair (>= 0),
            or None when the target has no weights logged.
        weight_sum: optional ``[C_out, C_in]`` signed sums (``|sum| <= abs``).
        threshold: keep bundles with ``strength >= threshold``, in [0, 1].
        target_type, groups, between, connected: as `mapping_problem`.

    Returns:
        JSON-ready dict: ``available``, ``reason`` (None when available),
        ``source_clusters``, ``target_clusters``, ``threshold``,
        ``max_mean_abs`` and ``bundles`` (``[{source, target, connections,
        abs, mean_abs, strength, positive, negative}]``, strongest first;
        ``positive``/``negative`` None without ``weight_sum``).

    Raises:
        ValueError: on malformed arguments (not on a structural mismatch,
            which gives ``available: false``).
    """
    a_src = _check_assignment(assign_source, "assign_source")
    a_tgt = _check_assignment(assign_target, "assign_target")
    threshold = check_fraction(threshold, "threshold")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"groups must be an integer >= 1, got {groups!r}")
    W = None if weight_abs is None else np.asarray(weight_abs)
    k_src, k_tgt = int(a_src.max()) + 1, int(a_tgt.max()) + 1
    result = {"available": False, "reason": None, "source_clusters": k_src, "target_clusters": k_tgt,
              "threshold": threshold, "max_mean_abs": None, "bundles": []}
    problem = mapping_problem(a_src.size, a_tgt.size, None if W is None else W.shape, target_type, int(groups),
                              between, connected)
    if problem is not None:
        result["reason"] = problem
        return result
    W = check_matrix(W, "weight_abs")
    if W.min() < 0:
        raise ValueError("weight_abs must be >= 0 (summed |w|)")
    signed = None
    if weight_sum is not None:
        signed = check_matrix(weight_sum, "weight_sum")
        if signed.shape != W.shape:
            raise ValueError(f"weight_sum has shape {signed.shape} but weight_abs has {W.shape}; they must match")
        if np.any(np.abs(signed) > W * (1 + 1e-5) + 1e-6):  # float32 sums round apart
            raise ValueError("weight_sum must satisfy |weight_sum| <= weight_abs (a sum of w and of |w|)")

    o_tgt = np.zeros((k_tgt, a_tgt.size))
    o_tgt[a_tgt, np.arange(a_tgt.size)] = 1.0
    o_src = np.zeros((a_src.size, k_src))
    o_src[np.arange(a_src.size), a_src] = 1.0
    total = o_tgt @ W @ o_src  # [k_tgt, k_src]
    pairs = np.outer(o_tgt.sum(axis=1), o_src.sum(axis=0))
    mean = np.divide(total, pairs, out=np.zeros_like(total), where=pairs > 0)
    top = float(mean.max())
    result.update(available=True, max_mean_abs=top)
    if top <= 0:
        return result
    strength = mean / top
    pos = neg = None
    if signed is not None:
        s_total = o_tgt @ signed @ o_src
        pos, neg = (total + s_total) / 2.0, (total - s_total) / 2.0
    q_idx, p_idx = np.nonzero((strength >= threshold) & (pairs > 0))
    keep = np.lexsort((p_idx, q_idx, -strength[q_idx, p_idx]))
    bundles = []
    for q, p in zip(q_idx[keep], p_idx[keep]):
        bundles.append({
            "source": int(p), "target": int(q), "connections": int(pairs[q, p]),
            "abs": floats(total[q, p]), "mean_abs": floats(mean[q, p]),
            "strength": round(float(strength[q, p]), 6),
            "positive": None if pos is None else floats(max(pos[q, p], 0.0)),
            "negative": None if neg is None else floats(max(neg[q, p], 0.0)),
        })
    result["bundles"] = bundles
    return result
