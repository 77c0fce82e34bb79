"""Handler of ``/suspects``: ranked suspect labels per layer (``views/suspects.py``).

The query is parsed here (with the shared ``param_*`` helpers of `queries`)
because only this route uses it. One layer, or every layer summarized at the
stage; each layer's list is computed and cached on its own, so asking for
all layers after one reuses that one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import jsonable
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.queries import (
    StepQuery, check_suspect_inputs, param_bool, param_float, param_fn, param_int, param_stage, param_str,
)

MAX_LIMIT = 4096
DEFAULT_LIMIT = 50


@dataclasses.dataclass(frozen=True)
class SuspectsQuery(StepQuery):
    """``/suspects``: ``layer`` (None: all at ``stage``), ``fn``, ``stage``, ``k``, ``threshold``, ``limit``, ``predictions``."""

    layer: str | None
    fn: str
    stage: str
    k: int
    threshold: float
    limit: int
    predictions: bool

    @classmethod
    def parse(cls, args) -> "SuspectsQuery":
        from tensorboard_plugin_channelexplorer.views.suspects import DEFAULT_K, DEFAULT_THRESHOLD

        base = StepQuery.parse(args)
        threshold = param_float(args, "threshold", DEFAULT_THRESHOLD)
        if not 0.0 <= threshold <= 1.0:
            raise InvalidArgumentError(f"parameter 'threshold' must be in [0, 1], got {threshold:g}", "threshold")
        return cls(run=base.run, step=base.step, layer=param_str(args, "layer", None), fn=param_fn(args, "l2"),
                   stage=param_stage(args), k=param_int(args, "k", DEFAULT_K, lo=1),
                   threshold=threshold, limit=param_int(args, "limit", DEFAULT_LIMIT, lo=0, hi=MAX_LIMIT),
                   predictions=param_bool(args, "predictions", True))


def suspects(ctx: HandlerContext, q: SuspectsQuery) -> dict:
    """``/suspects``: the ranked suspects of each layer (documented in ``http_api.md``)."""
    reader = ctx.reader
    step = reader.resolve_step(q.run, q.step)
    man = reader.typed_manifest(q.run, step)
    class_names = list(man.class_names)
    if q.layer is None:
        layers = [record.name for record in man.layers_with_stage(q.stage)]
        if not layers:
            raise InvalidArgumentError(f"no layer was summarized at stage {q.stage!r} at step {step}", "stage")
    else:
        layers = [q.layer]
    arrays = reader.inputs(q.run, step)
    labels = np.asarray(arrays[metadata.KEY_LABELS], dtype=np.int64)
    check_suspect_inputs(labels.shape[0])
    preds = arrays.get(metadata.KEY_PREDICTIONS) if q.predictions else None
    conf = arrays.get(metadata.KEY_PROBABILITIES) if preds is not None else None
    if conf is None:
        preds = None
    n_classes = len(class_names) or None
    out = []
    for layer in layers:
        mat = reader.summary_matrix(q.run, step, layer, q.fn, q.stage)

        def compute(mat=mat, layer=layer):
            from tensorboard_plugin_channelexplorer.views import suspects as view

            try:
                return jsonable(view.suspects_view(mat, labels, k=q.k, predictions=preds, confidences=conf,
                                                   threshold=q.threshold, limit=q.limit, n_classes=n_classes))
            except InvalidArgumentError:
                raise
            except ValueError as exc:  # the logged arrays disagree (labels, predictions, classes)
                raise CorruptDataError(f"inputs of step {step} of run {q.run!r} for layer {layer!r}: {exc}") from exc

        key = reader.cache_key("view/suspects", [(q.run, step, None), (q.run, step, layer)],
                               (q.fn, q.stage, q.k, q.threshold, q.limit, preds is not None))
        out.append(dict(ctx.cached(key, compute), layer=layer))
    return {"layers": out, "class_names": class_names, "fn": q.fn, "stage": q.stage}
