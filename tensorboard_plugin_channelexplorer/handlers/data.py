"""Handlers that serve stored data: runs, manifests, graphs, inputs, summaries, thumbnails."""

from __future__ import annotations

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import RawJSON, json_matrix
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.queries import LayerQuery, StepQuery, ThumbnailQuery


def runs(ctx: HandlerContext) -> dict:
    """``/runs``: runs, steps and downsampling report."""
    return {"runs": [ctx.reader.run_info(run) for run in ctx.reader.runs()]}


def layers(ctx: HandlerContext, q: StepQuery) -> dict:
    """``/layers``: the manifest of a step."""
    step = ctx.reader.resolve_step(q.run, q.step)
    man = ctx.reader.typed_manifest(q.run, step)
    return {
        "run": q.run,
        "step": step,
        "n_inputs": man.n_inputs,
        "class_names": list(man.class_names),
        "layers": [record.to_json() for record in man.layers],
        "has_predictions": man.has_predictions,
        "has_thumbnails": man.has_thumbnails,
        "steps_written": man.steps_written,
    }


def graph(ctx: HandlerContext, q: StepQuery) -> dict:
    """``/graph``: the model graph JSON."""
    return ctx.reader.graph(q.run, ctx.reader.resolve_step(q.run, q.step))


def inputs(ctx: HandlerContext, q: StepQuery) -> dict:
    """``/inputs``: labels, sample ids, predictions of the logged inputs."""
    step = ctx.reader.resolve_step(q.run, q.step)
    man = ctx.reader.typed_manifest(q.run, step)
    arrays = ctx.reader.inputs(q.run, step)
    labels = arrays[metadata.KEY_LABELS]
    return {
        "run": q.run,
        "step": step,
        "n": int(labels.shape[0]),
        "labels": labels,
        "class_names": list(man.class_names),
        "sample_ids": arrays.get(metadata.KEY_SAMPLE_IDS),
        "predictions": arrays.get(metadata.KEY_PREDICTIONS),
        "probabilities": arrays.get(metadata.KEY_PROBABILITIES),
        "has_thumbnails": man.has_thumbnails,
    }


def summaries(ctx: HandlerContext, q: LayerQuery) -> dict:
    """``/summaries``: one ``[N, C]`` summary matrix."""
    step = ctx.reader.resolve_step(q.run, q.step)
    mat = ctx.reader.summary_matrix(q.run, step, q.layer, q.fn, q.stage)
    key = ctx.reader.cache_key("summaries_json", [(q.run, step, q.layer)], (q.fn, q.stage))
    text = ctx.cache.get_or_compute(key, lambda: json_matrix(mat))
    return {
        "run": q.run,
        "step": step,
        "layer": q.layer,
        "fn": q.fn,
        "stage": q.stage,
        "shape": list(mat.shape),
        "values": RawJSON(text),
    }


def thumbnail(ctx: HandlerContext, q: ThumbnailQuery) -> tuple:
    """``/thumbnail``: PNG of one input."""
    step = ctx.reader.resolve_step(q.run, q.step)
    return ctx.reader.thumbnail_png(q.run, step, q.index), "image/png"
