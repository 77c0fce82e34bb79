"""Handlers of the views across steps and runs: timeline, trajectory, diff.

These read several steps (or runs) per request, so they also decide what to
do with a step whose data the loader dropped: the timeline leaves a gap, the
trajectory skips the step, the diff answers 404.
"""

from __future__ import annotations

import logging

import numpy as np

from tensorboard_plugin_channelexplorer import metadata, queries
from tensorboard_plugin_channelexplorer.encoding import RawJSON, dumps
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError
from tensorboard_plugin_channelexplorer.handlers import timeline_compact
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.queries import (
    MAX_TRAJECTORY_STEPS, DiffQuery, TimelineQuery, TrajectoryQuery, check_embed_inputs, check_sampled_inputs,
)
from tensorboard_plugin_channelexplorer.reader import Reader

logger = logging.getLogger(__name__)


def _round(values) -> list:
    return [None if v is None else round(float(v), 6) for v in values]


def _layer_record(reader: Reader, run: str, step: int, layer: str):
    """The manifest row of `layer` at `step`, or None (also when the manifest is corrupt)."""
    try:
        return reader.typed_manifest(run, step).layer(layer)
    except CorruptDataError:
        return None


def layer_available(reader: Reader, run: str, step: int, layer: str, stage: str) -> bool:
    """True when `layer` is in the manifest at `step` with `stage` and its blob was kept."""
    record = _layer_record(reader, run, step, layer)
    return record is not None and record.has_stage(stage) and reader.has_data(run, step, layer)


# ------------------------------------------------------------------ timeline
def _timeline_layers(reader: Reader, run: str, steps: list, stage: str) -> list:
    """Layer names of a run, the latest manifest's order first, then older extras."""
    layers: list[str] = []
    has_stage = False
    for step in reversed(steps):
        try:
            records = reader.typed_manifest(run, step).layers
        except CorruptDataError:
            continue
        for record in records:
            has_stage = has_stage or record.has_stage(stage)
            if record.name not in layers:
                layers.append(record.name)
    if layers and not has_stage:
        raise InvalidArgumentError(f"no layer of run {run!r} was summarized at stage {stage!r}", "stage")
    return layers


def _timeline_run(ctx: HandlerContext, run: str, fn: str, stage: str) -> dict:
    """One run of ``/timeline``: separability score per layer and step, accuracy per step."""
    from tensorboard_plugin_channelexplorer.views import timeline

    reader = ctx.reader
    info = reader.run_info(run)
    steps = info["steps"]
    layers = _timeline_layers(reader, run, steps, stage)
    compact = timeline_compact.compact_records(reader, run)
    accuracy, chance, labels_at = [], [], {}
    for step in steps:
        acc = cha = None
        if step in compact:  # written at that step, from the same predictions and labels
            acc, cha = compact[step].accuracy, compact[step].chance
        elif reader.has_data(run, step):
            try:
                arrays = reader.inputs(run, step)
                labels_at[step] = np.asarray(arrays[metadata.KEY_LABELS], dtype=np.int64)
                acc = timeline.prediction_accuracy(arrays.get(metadata.KEY_PREDICTIONS), labels_at[step])
                cha = timeline.chance_level(labels_at[step]) if labels_at[step].size else None
            except CorruptDataError as exc:
                logger.warning("ChannelExplorer: %s", exc)
        accuracy.append(acc)
        chance.append(cha)
    scores, fn_errors = [], []
    for layer in layers:
        row = []
        for step in steps:
            stored = timeline_compact.compact_score(compact.get(step), layer, fn, stage)
            if stored is not None:
                row.append(stored)
                continue
            labels = labels_at.get(step)
            if labels is None or labels.size < 2 or not layer_available(reader, run, step, layer, stage):
                row.append(None)
                continue
            score = None
            try:
                key = reader.cache_key("score/" + timeline.SCORE, [(run, step, None), (run, step, layer)], (fn, stage))
                mat = reader.summary_matrix(run, step, layer, fn, stage)
                score = ctx.cached(key, lambda: timeline.knn_loo_score(mat, labels, k=timeline.DEFAULT_K))
            except InvalidArgumentError as exc:
                if exc.parameter in ("fn", "stage"):  # this layer was not summarized with `fn`
                    fn_errors.append(exc)
                else:
                    logger.warning("ChannelExplorer: no score for %r at step %d of run %r: %s", layer, step, run, exc)
            except (NotFoundError, ValueError) as exc:
                logger.warning("ChannelExplorer: no score for %r at step %d of run %r: %s", layer, step, run, exc)
            row.append(score)
        scores.append(row)
    if fn_errors and all(v is None for row in scores for v in row):
        # Nothing could be scored because of the request's fn/stage: a bad parameter, not missing data.
        raise InvalidArgumentError(str(fn_errors[0]), fn_errors[0].parameter)
    if all(v is None for row in scores for v in row):
        timeline_compact.check_summary(compact, run, fn, stage, steps)
    return {
        "run": run,
        "steps": steps,
        "layers": layers,
        "scores": [_round(row) for row in scores],
        "accuracy": _round(accuracy),
        "chance": _round(chance),
        "steps_written": info["steps_written"],
        "downsampled": info["downsampled"],
        "steps_without_blobs": info["steps_without_blobs"],
        "full_steps": info["full_steps"],
        "compact_steps": info["compact_steps"],
        **timeline_compact.trend_fields(compact, steps, layers, fn, stage),
    }


def timeline(ctx: HandlerContext, q: TimelineQuery) -> dict:
    """``/timeline``: separability score per layer and step, accuracy per step, for one or more runs."""
    from tensorboard_plugin_channelexplorer.views import timeline as view

    known = set(ctx.reader.runs())
    for run in q.runs:
        if run not in known:
            raise InvalidArgumentError(f"unknown run {run!r}: it has no ChannelExplorer data", "run")
    return {"score": view.SCORE, "k": view.DEFAULT_K, "fn": q.fn, "stage": q.stage,
            "runs": [_timeline_run(ctx, run, q.fn, q.stage) for run in q.runs]}


# ---------------------------------------------------------------- trajectory
def _trajectory_steps(reader: Reader, q: TrajectoryQuery) -> list:
    """The steps a trajectory shows: those asked for, or every step with the layer's data (thinned)."""
    available = reader.steps(q.run)
    if q.steps is None:
        steps = [s for s in available if layer_available(reader, q.run, s, q.layer, q.stage)]
        if not steps:
            if not any(_layer_record(reader, q.run, s, q.layer) is not None for s in available):
                raise InvalidArgumentError(f"unknown layer {q.layer!r} in run {q.run!r}", "layer")
            raise NotFoundError(
                f"layer {q.layer!r} of run {q.run!r} has no data kept at stage {q.stage!r} (start TensorBoard "
                f"with --samples_per_plugin {metadata.PLUGIN_NAME}=0)", "layer")
        if len(steps) > MAX_TRAJECTORY_STEPS:
            # Evenly spaced, first and last included.
            pick = np.unique(np.round(np.linspace(0, len(steps) - 1, MAX_TRAJECTORY_STEPS)).astype(int))
            steps = [steps[i] for i in pick]
        return steps
    for step in q.steps:
        if step not in available:
            shown = available if len(available) <= 20 else available[:10] + ["..."] + available[-5:]
            raise InvalidArgumentError(
                f"unknown step {step} in 'steps' for run {q.run!r}; available steps: {shown}", "steps")
    return sorted(q.steps)


def trajectory(ctx: HandlerContext, q: TrajectoryQuery) -> RawJSON:
    """``/trajectory``: embeddings of the same inputs at several steps, Procrustes-aligned."""
    reader = ctx.reader
    reader.steps(q.run)  # 400 for an unknown run before anything else
    steps = _trajectory_steps(reader, q)
    mats = [reader.summary_matrix(q.run, s, q.layer, q.fn, q.stage) for s in steps]
    check_embed_inputs(max(m.shape[0] for m in mats), len(mats))
    labels = [ctx.labels(q.run, s) for s in steps]
    ids = [reader.sample_ids(q.run, s) for s in steps]
    sources = [src for s in steps for src in ((q.run, s, None), (q.run, s, q.layer))]
    key = reader.cache_key("view/trajectory", sources, (q.fn, q.stage, q.method, q.align, q.seed))

    def compute():
        from tensorboard_plugin_channelexplorer.views import timeline as view

        body = view.trajectory_view(mats, labels, ids, steps, method=q.method, align=q.align, random_state=q.seed)
        return dumps(dict(body, run=q.run, layer=q.layer, fn=q.fn, stage=q.stage))

    return RawJSON(ctx.cached(key, compute))


# ---------------------------------------------------------------------- diff
def _sampled_diff(view, S_a, S_b, lab_a, lab_b, ids_a, ids_b, cap: int, seed: int, **kwargs) -> dict:
    """`diff_view`, on a class-stratified sample (labels of side a) of the matched inputs past `cap` of them.

    The sample's rows go to `diff_view` as two aligned steps of unique ids,
    so its ``sample_ids`` name the shown inputs; ``dropped`` keeps the counts
    of the full match, and ``sampled`` says how many matched inputs there were.
    """
    from tensorboard_plugin_channelexplorer.views.align import match_ids
    from tensorboard_plugin_channelexplorer.views.sampling import sample_info, stratified_sample

    common, (ia, ib), dropped = match_ids([ids_a, ids_b])
    if len(common) <= cap:
        return dict(view.diff_view(S_a, S_b, lab_a, lab_b, ids_a, ids_b, **kwargs), sampled=None)
    pick = stratified_sample(lab_a[ia], cap, seed)
    ra, rb = ia[pick], ib[pick]
    body = view.diff_view(S_a[ra], S_b[rb], lab_a[ra], lab_b[rb], np.asarray(ids_a)[ra], np.asarray(ids_b)[rb],
                          **kwargs)
    info = sample_info(lab_a[ia], pick, seed)
    info["how"] += "; channel ranks of the sample too"
    return dict(body, dropped={"a": int(dropped[0]), "b": int(dropped[1])}, sampled=info)


def diff(ctx: HandlerContext, q: DiffQuery) -> RawJSON:
    """``/diff``: Jaccard difference and channel rank changes between two steps or runs of a layer."""
    reader = ctx.reader
    steps_a = reader.steps(q.run)
    step = reader.resolve_step(q.run, q.step if q.step is not None else (steps_a[0] if steps_a else None))
    try:
        step_b = reader.resolve_step(q.run_b, q.step_b)
    except InvalidArgumentError as exc:
        renamed = {"run": "run_b", "step": "step_b"}.get(exc.parameter, exc.parameter)
        raise InvalidArgumentError(f"{renamed}: {exc}", renamed) from None
    S_a = reader.summary_matrix(q.run, step, q.layer, q.fn, q.stage)
    S_b = reader.summary_matrix(q.run_b, step_b, q.layer, q.fn, q.stage)
    check_sampled_inputs(min(S_a.shape[0], S_b.shape[0]), "step")  # matched <= min(N_a, N_b)
    fn_a = reader.summaries(q.run, step, q.layer).get(metadata.KEY_FILTER_NORM)
    fn_b = reader.summaries(q.run_b, step_b, q.layer).get(metadata.KEY_FILTER_NORM)
    if q.order == "filter_norm" and (fn_a is None or fn_b is None):
        raise InvalidArgumentError(f"order 'filter_norm' is unavailable: layer {q.layer!r} has no filter norms "
                                   "logged at both steps", "order")
    lab_a, lab_b = ctx.labels(q.run, step), ctx.labels(q.run_b, step_b)
    ids_a, ids_b = reader.sample_ids(q.run, step), reader.sample_ids(q.run_b, step_b)
    sources = [(q.run, step, None), (q.run, step, q.layer), (q.run_b, step_b, None), (q.run_b, step_b, q.layer)]
    cap = queries.MAX_MATRIX_INPUTS
    key = reader.cache_key("view/diff", sources, (q.fn, q.stage, q.eta, q.order, q.seed, cap))
    class_names = list(reader.typed_manifest(q.run, step).class_names)

    def compute():
        from tensorboard_plugin_channelexplorer.views import timeline as view

        body = _sampled_diff(view, S_a, S_b, lab_a, lab_b, ids_a, ids_b, cap, q.seed, eta=q.eta, order=q.order,
                             filter_norm_a=fn_a, filter_norm_b=fn_b)
        return dumps(dict({"a": {"run": q.run, "step": step}, "b": {"run": q.run_b, "step": step_b}}, **body,
                          layer=q.layer, fn=q.fn, stage=q.stage, class_names=class_names))

    return RawJSON(ctx.cached(key, compute))
