"""Handlers of the views of one step: scatter, Jaccard, hierarchy, heatmap, overlay, dataset.

Each resolves the step, reads the summary matrix and labels, checks what
needs the data, and computes the view through ``ctx.view_json`` (cached per
record and parameters). The view modules are imported inside the handlers:
they pull in scikit-learn, scipy and umap, which TensorBoard must not import
at start-up.
"""

from __future__ import annotations

import io

import numpy as np

from tensorboard_plugin_channelexplorer import metadata, progress, queries
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.queries import (
    DatasetQuery, HeatmapQuery, HierarchyQuery, JaccardCellQuery, JaccardQuery, LayerQuery, OverlayQuery,
    ScatterQuery, check_embed_inputs, check_k, check_sampled_inputs,
)


def _matrix(ctx: HandlerContext, q: LayerQuery) -> tuple[int, np.ndarray]:
    """The resolved step and the ``[N, C]`` summary matrix a layer query names."""
    step = ctx.reader.resolve_step(q.run, q.step)
    return step, ctx.reader.summary_matrix(q.run, step, q.layer, q.fn, q.stage)


def _similarity_inputs(ctx: HandlerContext, q: LayerQuery) -> tuple:
    """``(step, matrix, labels, class_names)`` of a view that samples past `MAX_MATRIX_INPUTS` inputs."""
    step, mat = _matrix(ctx, q)
    check_sampled_inputs(mat.shape[0])
    return step, mat, ctx.labels(q.run, step), list(ctx.reader.typed_manifest(q.run, step).class_names)


def _sources(q, step: int) -> list:
    """The records a one-layer view reads: the step's inputs and the layer."""
    return [(q.run, step, None), (q.run, step, q.layer)]


def _scatter_params(q: ScatterQuery) -> tuple:
    return (q.fn, q.stage, q.method, q.seed, q.k)


def scatter(ctx: HandlerContext, q: ScatterQuery):
    """``/scatter``: 2-D embedding, clusters and outliers (paper V-D); its progress goes to `progress.REGISTRY`."""
    step, mat = _matrix(ctx, q)
    check_embed_inputs(mat.shape[0], method=q.method)
    check_k(q.k, mat.shape[0])
    labels = ctx.labels(q.run, step)
    key = ctx.reader.cache_key("view/scatter", _sources(q, step), _scatter_params(q))

    def compute():
        from tensorboard_plugin_channelexplorer.views import scatter as view

        with progress.track(key):
            return view.scatter_view(mat, labels, method=q.method, k=q.k, random_state=q.seed)

    return ctx.view_json("scatter", _sources(q, step), _scatter_params(q), compute,
                         extra=dict(layer=q.layer, fn=q.fn, stage=q.stage))


def scatter_progress(ctx: HandlerContext, q: ScatterQuery) -> dict:
    """``/scatter_progress``: state of the ``/scatter`` computation with the same parameters.

    It validates exactly as ``/scatter`` (the records it reads are cached by
    then), so a request that ``/scatter`` refuses is refused here too.
    """
    step, mat = _matrix(ctx, q)
    check_embed_inputs(mat.shape[0], method=q.method)
    check_k(q.k, mat.shape[0])
    key = ctx.reader.cache_key("view/scatter", _sources(q, step), _scatter_params(q))
    state = progress.REGISTRY.get(key)
    if state["state"] == "idle" and key in ctx.cache:
        # Cached, but its registry entry has expired.
        state = dict(state, state="done", fraction=1.0, phase="done")
    return state


def jaccard(ctx: HandlerContext, q: JaccardQuery):
    """``/jaccard``: pairwise Jaccard similarity of top channels (paper V-E), sampled past `MAX_MATRIX_INPUTS`."""
    step, mat, labels, class_names = _similarity_inputs(ctx, q)
    cap = queries.MAX_MATRIX_INPUTS

    def compute():
        from tensorboard_plugin_channelexplorer.views import jaccard as view

        return view.jaccard_view(mat, labels, eta=q.eta, normalize=q.normalize, max_inputs=cap,
                                 random_state=q.seed, matrix_format=q.matrix)

    # The seed changes the answer only when the step is sampled.
    seed = q.seed if mat.shape[0] > cap else 0
    params = (q.fn, q.stage, q.eta, q.normalize, seed, cap, q.matrix)
    return ctx.view_json("jaccard", _sources(q, step), params, compute,
                         extra=dict(class_names=class_names, layer=q.layer, fn=q.fn, stage=q.stage))


def jaccard_cell(ctx: HandlerContext, q: JaccardCellQuery) -> dict:
    """``/jaccard_cell``: shared top channels of two inputs."""
    step, mat = _matrix(ctx, q)
    n = mat.shape[0]
    for name, value in (("i", q.i), ("j", q.j)):
        if value > n - 1:
            raise InvalidArgumentError(f"parameter {name!r} must be <= {n - 1}, got {value}", name)
    labels = ctx.labels(q.run, step)
    from tensorboard_plugin_channelexplorer.views import jaccard as view

    return ctx.run_compute(lambda: view.jaccard_cell(mat, q.i, q.j, eta=q.eta, labels=labels))


def hierarchy(ctx: HandlerContext, q: HierarchyQuery):
    """``/hierarchy``: confusion hierarchy of classes (paper V-E), sampled past `MAX_MATRIX_INPUTS`."""
    step, mat, labels, class_names = _similarity_inputs(ctx, q)
    cap = queries.MAX_MATRIX_INPUTS

    def compute():
        from tensorboard_plugin_channelexplorer.views import hierarchy as view

        return view.confusion_hierarchy(mat, labels, class_names, eta=q.eta, random_state=q.seed,
                                        max_inputs=cap)

    return ctx.view_json("hierarchy", _sources(q, step), (q.fn, q.stage, q.eta, q.seed, cap), compute)


def heatmap(ctx: HandlerContext, q: HeatmapQuery):
    """``/heatmap``: channel x input heatmap, channels ordered (paper V-F)."""
    step, mat = _matrix(ctx, q)
    from tensorboard_plugin_channelexplorer.handlers.channels import channel_order_of, optional_array

    arrays = ctx.reader.summaries(q.run, step, q.layer)
    where = f"layer {q.layer!r} at step {step} of run {q.run!r}"
    filter_norm = arrays.get(metadata.KEY_FILTER_NORM)
    taylor = optional_array(arrays, metadata.KEY_TAYLOR, (mat.shape[1],), where)
    for name, values, what in (("filter_norm", filter_norm, "filter norms"), ("taylor", taylor, "Taylor importance")):
        if q.order == name and values is None:
            raise InvalidArgumentError(f"order {name!r} is unavailable: layer {q.layer!r} has no {what} logged", "order")
    labels = ctx.labels(q.run, step)
    # Every page of the cluster order shares the layer's cached clustering.
    seriation = None
    if q.order == "cluster":
        seriation = channel_order_of(ctx, q.run, step, q.layer, q.fn, q.stage, mat, labels)

    def compute():
        from tensorboard_plugin_channelexplorer.views import heatmap as view

        return view.heatmap_view(mat, labels, order=q.order, filter_norm=filter_norm, offset=q.offset, limit=q.limit,
                                 taylor=taylor, cluster_order=seriation)

    return ctx.view_json("heatmap", _sources(q, step), (q.fn, q.stage, q.order, q.offset, q.limit), compute,
                         extra=dict(layer=q.layer, fn=q.fn, stage=q.stage))


# The background of an overlay without a thumbnail: mid grey, at least this many pixels on its longer side.
NEUTRAL_GREY = 128
NEUTRAL_MIN_SIZE = 64


def neutral_background(map_shape: tuple) -> np.ndarray:
    """A uniform grey uint8 RGB image, the map's shape scaled by an integer to >= `NEUTRAL_MIN_SIZE` pixels."""
    h, w = map_shape
    scale = max(1, -(-NEUTRAL_MIN_SIZE // max(h, w)))
    return np.full((h * scale, w * scale, 3), NEUTRAL_GREY, dtype=np.uint8)


def overlay(ctx: HandlerContext, q: OverlayQuery) -> tuple:
    """``/overlay``: PNG of an activation map blended over its input (Eq. 2)."""
    step = ctx.reader.resolve_step(q.run, q.step)
    found = ctx.reader.activation_map(q.run, step, q.layer, q.index, q.channel)
    if found is None:
        raise NotFoundError(
            f"no activation map was logged for layer {q.layer!r} and input {q.index} at step {step}", "index")
    fmap, lo, hi = found
    try:
        png = ctx.reader.thumbnail_png(q.run, step, q.index)
    except CorruptDataError:
        raise
    except NotFoundError:
        png = None  # no thumbnails logged (or kept): the map over a neutral background

    def compute():
        from PIL import Image

        from tensorboard_plugin_channelexplorer.views import overlay as view

        if png is None:
            rgb = neutral_background(fmap.shape)
        else:
            try:
                with Image.open(io.BytesIO(png)) as img:
                    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
            except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad bytes
                raise CorruptDataError(
                    f"unreadable thumbnail {q.index} at step {step} of run {q.run!r}: {exc}") from exc
        return view.overlay_png(rgb, fmap, lo, hi, alpha=q.alpha)

    key = ctx.reader.cache_key("view/overlay", [(q.run, step, q.layer)],
                               (q.index, q.channel, q.alpha, png is None))
    return ctx.cached(key, compute), "image/png"


def dataset(ctx: HandlerContext, q: DatasetQuery):
    """``/dataset``: class similarity to a reference class across layers, predictions (paper V-A)."""
    reader = ctx.reader
    step = reader.resolve_step(q.run, q.step)
    man = reader.typed_manifest(q.run, step)
    class_names = list(man.class_names)
    n_classes = len(class_names) or None
    if n_classes and q.reference >= n_classes:
        raise InvalidArgumentError(
            f"parameter 'reference'={q.reference} is not a class id in [0, {n_classes})", "reference")
    if man.n_inputs is not None:
        check_k(q.k, man.n_inputs)
    layers = [record.name for record in man.layers_with_stage(q.stage)]
    if not layers:
        raise InvalidArgumentError(f"no layer was summarized at stage {q.stage!r} at step {step}", "stage")
    arrays = reader.inputs(q.run, step)
    labels = np.asarray(arrays[metadata.KEY_LABELS], dtype=np.int64)
    check_sampled_inputs(labels.shape[0])
    mats, used, skipped, first_error = [], [], [], None
    for name in layers:
        try:
            mats.append(reader.summary_matrix(q.run, step, name, q.fn, q.stage))
            used.append(name)
        except NotFoundError as exc:  # a blob dropped by the loader, or corrupt: the other layers still count
            first_error = first_error or exc
            skipped.append({"layer": name, "error": exc.public_message})
            ctx.warn_once(("dataset skipped", q.run, step, name), f"/dataset skips layer {name!r}: {exc}")
    if not used:
        raise first_error
    sources = [(q.run, step, None)] + [(q.run, step, name) for name in used]

    def compute():
        from tensorboard_plugin_channelexplorer.views import dataset as view

        return view.dataset_view(
            mats, labels, reference=q.reference, k=q.k, random_state=q.seed,
            predictions=arrays.get(metadata.KEY_PREDICTIONS), probabilities=arrays.get(metadata.KEY_PROBABILITIES),
            eta=q.eta, n_classes=n_classes,
        )

    return ctx.view_json("dataset", sources, (q.fn, q.stage, q.reference, q.k, q.seed, q.eta), compute,
                         extra=dict(layers=used, skipped_layers=skipped, class_names=class_names, fn=q.fn,
                                    stage=q.stage))
