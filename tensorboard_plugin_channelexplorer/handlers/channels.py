"""Handlers of the channel views: clusters, card, embedding, edges between layers.

The queries of these routes live here with their handlers (they reuse the
``param_*`` helpers and `LayerQuery` of `queries`). The clustering of a
layer (automatic ``k``) is computed once per record and cached as a dict:
the card takes its seriation and cluster ids from it, the edges take both
layers' clusters. The view modules are imported inside the handlers (scipy,
scikit-learn).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError
from tensorboard_plugin_channelexplorer.handlers.across import layer_available
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.queries import (
    SCATTER_METHODS, LayerQuery, StepQuery, query_fields, param_choice, param_float, param_fn, param_int, param_seed,
    param_stage, param_str,
)

logger = logging.getLogger(__name__)

EMBEDDING_SOURCES = ("activations", "weights")
MAX_TOP_K = 256
MAX_ASPECT = 100.0


def _param_fraction(args, name: str, default: float) -> float:
    value = param_float(args, name, default)
    if not 0.0 <= value <= 1.0:
        raise InvalidArgumentError(f"parameter {name!r} must be in [0, 1], got {value:g}", name)
    return value


@dataclasses.dataclass(frozen=True)
class ChannelClustersQuery(LayerQuery):
    """``/channel_clusters``: cluster count ``k`` (None: automatic) and treemap ``aspect``."""

    k: int | None = None
    aspect: float = 1.0

    @classmethod
    def parse(cls, args) -> "ChannelClustersQuery":
        base = LayerQuery.parse(args)
        aspect = param_float(args, "aspect", 1.0)
        if not 0.0 < aspect <= MAX_ASPECT:
            raise InvalidArgumentError(f"parameter 'aspect' must be in (0, {MAX_ASPECT:g}], got {aspect:g}", "aspect")
        return cls(**query_fields(base), k=param_int(args, "k", None, lo=1), aspect=aspect)


@dataclasses.dataclass(frozen=True)
class ChannelCardQuery(LayerQuery):
    """``/channel_card``: the ``channel`` and the number of top inputs ``top_k``."""

    channel: int = 0
    top_k: int = 9

    @classmethod
    def parse(cls, args) -> "ChannelCardQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), channel=param_int(args, "channel", lo=0),
                   top_k=param_int(args, "top_k", 9, lo=1, hi=MAX_TOP_K))


@dataclasses.dataclass(frozen=True)
class ChannelEmbeddingQuery(LayerQuery):
    """``/channel_embedding``: ``method``, ``seed``, ``source`` and the selectivity ``threshold``."""

    method: str = "tsne"
    seed: int = 0
    source: str = "activations"
    threshold: float = 0.3

    @classmethod
    def parse(cls, args) -> "ChannelEmbeddingQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), method=param_choice(args, "method", SCATTER_METHODS, "tsne"),
                   seed=param_seed(args), source=param_choice(args, "source", EMBEDDING_SOURCES, "activations"),
                   threshold=_param_fraction(args, "threshold", 0.3))


@dataclasses.dataclass(frozen=True)
class ChannelEdgesQuery(StepQuery):
    """``/channel_edges``: layers ``source`` -> ``target``, ``fn``, ``stage`` and the bundle ``threshold``."""

    source: str
    target: str
    fn: str
    stage: str
    threshold: float

    @classmethod
    def parse(cls, args) -> "ChannelEdgesQuery":
        base = StepQuery.parse(args)
        source, target = param_str(args, "source"), param_str(args, "target")
        if source == target:
            raise InvalidArgumentError(f"parameters 'source' and 'target' must name two layers, got {source!r} twice",
                                       "target")
        return cls(**query_fields(base), source=source, target=target, fn=param_fn(args, "otsu"), stage=param_stage(args),
                   threshold=_param_fraction(args, "threshold", 0.5))


def optional_array(arrays: dict, key: str, shape: tuple, where: str):
    """An optional float array of a layer blob, checked; None when absent.

    Args:
        arrays: the layer npz arrays.
        key: the array's key (``taylor``, ``weight_abs``, ...).
        shape: the expected shape, None for an axis of any length.
        where: the record, for the error message.

    Raises:
        CorruptDataError: a wrong dtype or shape, or non-finite values.
    """
    arr = arrays.get(key)
    if arr is None:
        return None
    ok_shape = arr.ndim == len(shape) and all(want is None or got == want for got, want in zip(arr.shape, shape))
    if arr.dtype.kind != "f" or not ok_shape or (arr.size and not np.isfinite(arr).all()):
        want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise CorruptDataError(f"{where}: {key!r} has {arr.dtype} shape {arr.shape}, expected finite float {want}")
    return arr


def _layer(ctx: HandlerContext, run: str, step: int, layer: str, fn: str, stage: str):
    """``(matrix, checked optional arrays)`` of a layer at a resolved step."""
    mat = ctx.reader.summary_matrix(run, step, layer, fn, stage)
    arrays = ctx.reader.summaries(run, step, layer)
    c = mat.shape[1]
    where = f"layer {layer!r} at step {step} of run {run!r}"
    extra = {key: optional_array(arrays, key, (c,), where)
             for key in (metadata.KEY_FILTER_NORM, metadata.KEY_TAYLOR, metadata.KEY_GRAD_NORM)}
    for key in (metadata.KEY_WEIGHT_ABS, metadata.KEY_WEIGHT_SUM):
        extra[key] = optional_array(arrays, key, (c, None), where)
    w_abs, w_sum = extra[metadata.KEY_WEIGHT_ABS], extra[metadata.KEY_WEIGHT_SUM]
    if w_abs is not None and (w_abs < 0).any():
        raise CorruptDataError(f"{where}: {metadata.KEY_WEIGHT_ABS!r} holds negative values")
    if w_sum is not None and (w_abs is None or w_sum.shape != w_abs.shape
                              or (np.abs(w_sum) > w_abs * (1 + 1e-5) + 1e-6).any()):
        raise CorruptDataError(f"{where}: {metadata.KEY_WEIGHT_SUM!r} does not match {metadata.KEY_WEIGHT_ABS!r} "
                               "(same shape, |sum w| <= sum |w|)")
    return mat, extra


def _extra(ctx: HandlerContext, q, step: int) -> dict:
    return dict(step=step, layer=q.layer, fn=q.fn, stage=q.stage,
                class_names=list(ctx.reader.typed_manifest(q.run, step).class_names))


def _clusters(ctx: HandlerContext, run: str, step: int, layer: str, fn: str, stage: str, mat, labels,
              k=None, aspect: float = 1.0) -> dict:
    """The cached `channels.channel_clusters` dict of a layer."""
    from tensorboard_plugin_channelexplorer.views import channels as view

    key = ctx.reader.cache_key("channel_clusters", [(run, step, None), (run, step, layer)], (fn, stage, k, aspect))
    return ctx.cached(key, lambda: view.channel_clusters(mat, labels, k=k, aspect=aspect))


def channel_order_of(ctx: HandlerContext, run: str, step: int, layer: str, fn: str, stage: str, mat, labels) -> list:
    """The seriation of a layer's channels (the heatmap's ``cluster`` order), from the cached clustering."""
    return _clusters(ctx, run, step, layer, fn, stage, mat, labels)["order"]


def channel_clusters(ctx: HandlerContext, q: ChannelClustersQuery) -> dict:
    """``/channel_clusters``: clusters of a layer's channels, seriation and treemap."""
    step = ctx.reader.resolve_step(q.run, q.step)
    mat = ctx.reader.summary_matrix(q.run, step, q.layer, q.fn, q.stage)
    labels = ctx.labels(q.run, step)
    return dict(_clusters(ctx, q.run, step, q.layer, q.fn, q.stage, mat, labels, q.k, q.aspect),
                **_extra(ctx, q, step))


def _history(ctx: HandlerContext, q: ChannelCardQuery) -> dict:
    """The channel's mean (and per-class means) at every step of the run where the layer is kept."""
    from tensorboard_plugin_channelexplorer.views import channels as view

    reader = ctx.reader
    steps = reader.steps(q.run)
    present = [s for s in steps if layer_available(reader, q.run, s, q.layer, q.stage)]
    sources = [(q.run, s, None) for s in present] + [(q.run, s, q.layer) for s in present]

    def compute():
        columns, labels, ids = [], [], []
        for s in steps:
            col = lab = sid = None
            if s in present:
                try:
                    mat = reader.summary_matrix(q.run, s, q.layer, q.fn, q.stage)
                    if q.channel < mat.shape[1]:
                        col, lab, sid = mat[:, q.channel], ctx.labels(q.run, s), reader.sample_ids(q.run, s)
                except (CorruptDataError, NotFoundError, InvalidArgumentError) as exc:
                    logger.warning("ChannelExplorer: no value of channel %d of %r at step %d of run %r: %s",
                                   q.channel, q.layer, s, q.run, exc)
                    col = lab = sid = None
            columns.append(col)
            labels.append(lab)
            ids.append(sid)
        return view.channel_history(steps, columns, labels, ids)

    key = reader.cache_key("channel_history", sources, (q.layer, q.fn, q.stage, q.channel, tuple(steps)))
    return ctx.cached(key, compute)


def channel_card(ctx: HandlerContext, q: ChannelCardQuery) -> dict:
    """``/channel_card``: top inputs, class profile, ranks, importance and history of one channel."""
    from tensorboard_plugin_channelexplorer.views import channels as view

    step = ctx.reader.resolve_step(q.run, q.step)
    mat, arrays = _layer(ctx, q.run, step, q.layer, q.fn, q.stage)
    c = mat.shape[1]
    if q.channel > c - 1:
        raise InvalidArgumentError(f"parameter 'channel' must be <= {c - 1} (layer {q.layer!r} has {c} channels), "
                                   f"got {q.channel}", "channel")
    labels = ctx.labels(q.run, step)
    clusters = _clusters(ctx, q.run, step, q.layer, q.fn, q.stage, mat, labels)
    card = ctx.run_compute(lambda: view.channel_card(
        mat, labels, q.channel, top_k=q.top_k, filter_norm=arrays.get(metadata.KEY_FILTER_NORM),
        taylor=arrays.get(metadata.KEY_TAYLOR), grad_norm=arrays.get(metadata.KEY_GRAD_NORM),
        order=clusters["order"], assignment=clusters["assignment"]))
    record = ctx.reader.layer_info(q.run, step, q.layer)
    return dict(card, id={"run": q.run, "layer": q.layer, "channel": q.channel}, has_maps=bool(record.has_maps),
                history=_history(ctx, q), **_extra(ctx, q, step))


def channel_embedding(ctx: HandlerContext, q: ChannelEmbeddingQuery):
    """``/channel_embedding``: the layer's channels as points in 2-D."""
    step = ctx.reader.resolve_step(q.run, q.step)
    mat, arrays = _layer(ctx, q.run, step, q.layer, q.fn, q.stage)
    weights = arrays.get(metadata.KEY_WEIGHT_ABS)
    if q.source == "weights" and weights is None:
        raise InvalidArgumentError(f"source 'weights' is unavailable: layer {q.layer!r} has no filter weights logged "
                                   f"at step {step}", "source")
    labels = ctx.labels(q.run, step)

    def compute():
        from tensorboard_plugin_channelexplorer.views import channels as view

        return view.channel_embedding(mat, labels, method=q.method, source=q.source,
                                      weights=weights if q.source == "weights" else None,
                                      selectivity_threshold=q.threshold, random_state=q.seed)

    return ctx.view_json("channel_embedding", [(q.run, step, None), (q.run, step, q.layer)],
                         (q.fn, q.stage, q.method, q.seed, q.source, q.threshold), compute, extra=_extra(ctx, q, step))


def graph_between(graph: dict | None, source: str, target: str):
    """The graph nodes on the paths from layer `source` to layer `target`.

    Returns:
        ``(between, connected)``: ``[(id, type)]`` of the nodes strictly
        between the two (the source's own chain, e.g. its BN and activation,
        excluded), and False when no path leads from `source` to `target`.
        Without a graph (or without either node in it): ``([], True)``, so
        only the weight shapes are checked.
    """
    nodes = {n.get("id"): n for n in (graph or {}).get("nodes", []) if isinstance(n, dict)}
    if source not in nodes or target not in nodes:
        return [], True
    succ: dict = {}
    pred: dict = {}
    for e in (graph or {}).get("edges", []):
        if isinstance(e, dict):
            succ.setdefault(e.get("source"), []).append(e.get("target"))
            pred.setdefault(e.get("target"), []).append(e.get("source"))

    def reach(starts, nbrs):
        seen, todo = set(starts), list(starts)
        while todo:
            for nxt in nbrs.get(todo.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    chain = {i for i, n in nodes.items() if i == source or n.get("layer") == source}
    forward = reach(chain, succ)
    if target not in forward:
        return [], False
    on_path = forward & reach([target], pred)
    between = sorted(on_path - chain - {target}, key=str)
    return [(i, str(nodes.get(i, {}).get("type", ""))) for i in between], True


def channel_edges(ctx: HandlerContext, q: ChannelEdgesQuery) -> dict:
    """``/channel_edges``: bundled weights from the channel clusters of `source` to those of `target`."""
    from tensorboard_plugin_channelexplorer.views import channel_edges as view

    reader = ctx.reader
    step = reader.resolve_step(q.run, q.step)
    for name, layer in (("source", q.source), ("target", q.target)):
        if reader.typed_manifest(q.run, step).layer(layer) is None:
            raise InvalidArgumentError(f"unknown {name} layer {layer!r} in run {q.run!r} at step {step}", name)
    labels = ctx.labels(q.run, step)
    src_mat = reader.summary_matrix(q.run, step, q.source, q.fn, q.stage)
    tgt_mat, tgt_arrays = _layer(ctx, q.run, step, q.target, q.fn, q.stage)
    src = _clusters(ctx, q.run, step, q.source, q.fn, q.stage, src_mat, labels)
    tgt = _clusters(ctx, q.run, step, q.target, q.fn, q.stage, tgt_mat, labels)
    try:
        graph = reader.graph(q.run, step)
    except (NotFoundError, CorruptDataError):
        graph = None
    between, connected = graph_between(graph, q.source, q.target)
    record = reader.layer_info(q.run, step, q.target)
    edges = ctx.run_compute(lambda: view.channel_edges(
        src["assignment"], tgt["assignment"], tgt_arrays.get(metadata.KEY_WEIGHT_ABS),
        tgt_arrays.get(metadata.KEY_WEIGHT_SUM), threshold=q.threshold, target_type=record.type or None,
        between=between, connected=connected))
    return dict(edges, sources=[{"id": c["id"], "size": c["size"]} for c in src["clusters"]],
                targets=[{"id": c["id"], "size": c["size"]} for c in tgt["clusters"]],
                source_layer=q.source, target_layer=q.target, fn=q.fn, stage=q.stage, step=step)
