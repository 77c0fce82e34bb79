"""Compact per-step timeline records: what the timeline needs, computed at write time.

A long run keeps its full blobs (``[N, C]`` summaries, maps, thumbnails) only
at some steps (`FullSteps`), but writes at every step one small record
that is enough for the separability timeline and the per-layer trends:

* per layer and summary (``pre/l2``, ...): the k-NN leave-one-out separability
  score, computed by the very function the server uses
  (`views.timeline.knn_loo_score`, same ``k``), so a compact step and a full
  step read the same number;
* per layer and summary: the mean over inputs and channels, and the same mean
  per class (``K`` values, when ``K <= MAX_CLASS_MEANS``): the layer's
  activation trend;
* per layer, when ``importance=True`` logged them: the mean over channels of
  the RMS gradient norm and of the Taylor importance;
* the step's top-1 accuracy (when predictions were logged) and chance level.

It is stored as a JSON TENSOR at `metadata.TIMELINE_TAG` (a few KB per step,
see ``docs/steps.md``) and, for the Scalars tab, as real TensorBoard scalars
``channelexplorer/separability/<layer>`` (the timeline's default summary),
``channelexplorer/grad_norm/<layer>`` and ``channelexplorer/accuracy``.
`parse_timeline_record` reads the JSON back, validating every field.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import json_tensor_proto
from tensorboard_plugin_channelexplorer.errors import CorruptDataError

__all__ = ["FullSteps", "SCALAR_PREFIX", "TimelineRecord", "parse_timeline_record", "timeline_json",
           "timeline_summaries"]

# Tags of the Scalars-tab copies (plugin "scalars", so the reader never lists them).
SCALAR_PREFIX = metadata.TAG_PREFIX
# The summaries whose score goes to the Scalars tab, first found: the timeline's default.
SCALAR_KEYS = (metadata.summary_key("pre", "l2"), metadata.summary_key("post", "l2"))


# Per-class means are stored up to this many classes: with 1,000 ImageNet
# classes they would make the record hundreds of times larger than the scores.
MAX_CLASS_MEANS = 64


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _layer_row(name: str, arrays: dict, labels: np.ndarray, n_classes: int) -> dict:
    from tensorboard_plugin_channelexplorer.views import timeline as timeline_view  # scipy: not at plugin import

    scores, means, class_means = {}, {}, {}
    for key in metadata.SUMMARY_KEYS:
        if key not in arrays:
            continue
        mat = arrays[key]
        scores[key] = timeline_view.knn_loo_score(mat, labels, k=timeline_view.DEFAULT_K) if mat.shape[0] >= 2 else None
        per_input = mat.astype(np.float64).mean(axis=1) if mat.shape[1] else np.zeros(mat.shape[0])
        means[key] = _finite(per_input.mean()) if per_input.size else None
        if n_classes <= MAX_CLASS_MEANS:
            sums = np.bincount(labels, weights=per_input, minlength=n_classes)
            counts = np.bincount(labels, minlength=n_classes)
            class_means[key] = [_finite(s / c) if c else None for s, c in zip(sums, counts)]
    row = {"name": name, "scores": scores, "mean": means, "class_mean": class_means}
    for key in (metadata.KEY_GRAD_NORM, metadata.KEY_TAYLOR):
        if key in arrays and arrays[key].size:
            row[key] = _finite(np.asarray(arrays[key], dtype=np.float64).mean())
    return row


def timeline_json(layer_arrays: dict, labels, n_classes: int, predictions=None) -> dict:
    """The compact record of one step.

    Args:
        layer_arrays: layer name -> its blob's arrays (``pre/l2``... ``[N, C]``
            float32, optional ``grad_norm``/``taylor`` ``[C]``), in model order.
        labels: the ``[N]`` class ids.
        n_classes: ``K``, the number of class names.
        predictions: the ``[N]`` top-1 predictions, or None.

    Returns:
        The JSON-ready record (`parse_timeline_record` reads it back).

    Raises:
        ValueError: `labels` is not a 1-D array of ids in ``[0, n_classes)``.
    """
    from tensorboard_plugin_channelexplorer.views import timeline as timeline_view

    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or (labels.size and (labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"labels must be a 1-D int array of ids in [0, {n_classes}), got {labels.dtype} {labels.shape}")
    labels = labels.astype(np.int64, copy=False)
    accuracy = timeline_view.prediction_accuracy(predictions, labels)
    return {
        "score": timeline_view.SCORE,
        "k": timeline_view.DEFAULT_K,
        "n_inputs": int(labels.size),
        "accuracy": accuracy,
        "chance": timeline_view.chance_level(labels) if labels.size else None,
        "layers": [_layer_row(name, arrays, labels, n_classes) for name, arrays in layer_arrays.items()],
    }


def _scalar(tag: str, value: float) -> summary_pb2.Summary:
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])


def timeline_summaries(record: dict) -> list[summary_pb2.Summary]:
    """The compact record as a TENSOR summary, then its Scalars-tab copies."""
    out = [summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=metadata.TIMELINE_TAG, metadata=metadata.create_summary_metadata(metadata.KIND_TIMELINE),
        tensor=json_tensor_proto(record))])]
    for row in record["layers"]:
        key = next((k for k in SCALAR_KEYS if k in row["scores"]), next(iter(row["scores"]), None))
        score = row["scores"].get(key) if key is not None else None
        if score is not None:
            out.append(_scalar(f"{SCALAR_PREFIX}separability/{row['name']}", score))
        if row.get(metadata.KEY_GRAD_NORM) is not None:
            out.append(_scalar(f"{SCALAR_PREFIX}grad_norm/{row['name']}", row[metadata.KEY_GRAD_NORM]))
    if record["accuracy"] is not None:
        out.append(_scalar(f"{SCALAR_PREFIX}accuracy", record["accuracy"]))
    return out


# ------------------------------------------------------------------ reading
def _number(value, where: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise CorruptDataError(f"{where}: {key!r} must be a finite number or null, got {value!r}")
    return float(value)


def _numbers(obj, where: str, key: str) -> dict:
    if not isinstance(obj, dict):
        raise CorruptDataError(f"{where}: {key!r} must be an object, got {type(obj).__name__}")
    return {k: _number(v, where, f"{key}.{k}") for k, v in obj.items()}


@dataclasses.dataclass(frozen=True)
class TimelineRecord:
    """One step's compact record, validated.

    Attributes:
        k: neighbours of the stored scores.
        accuracy: top-1 accuracy, or None.
        chance: majority-class fraction, or None.
        scores: layer -> summary key -> score (None: not computable).
        means: layer -> summary key -> mean over inputs and channels.
        class_means: layer -> summary key -> per-class means (None: no input).
        grad_norm: layer -> mean RMS gradient norm (layers with importance only).
    """

    k: int
    accuracy: float | None
    chance: float | None
    scores: dict
    means: dict
    class_means: dict
    grad_norm: dict

    def score(self, layer: str, key: str) -> float | None:
        """The stored score, or None when the record has none for (layer, key)."""
        return self.scores.get(layer, {}).get(key)


def parse_timeline_record(obj, where: str = "timeline record") -> TimelineRecord:
    """Validates a decoded compact record.

    Raises:
        CorruptDataError: not a record, or a field of the wrong type.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("layers"), list):
        raise CorruptDataError(f"{where}: not a timeline record")
    k = obj.get("k")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise CorruptDataError(f"{where}: 'k' must be a positive integer, got {k!r}")
    scores, means, class_means, grad_norm = {}, {}, {}, {}
    for i, row in enumerate(obj["layers"]):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise CorruptDataError(f"{where}: layer row {i} needs a string 'name'")
        name = row["name"]
        scores[name] = _numbers(row.get("scores", {}), where, "scores")
        means[name] = _numbers(row.get("mean", {}), where, "mean")
        cm = row.get("class_mean", {})
        if not isinstance(cm, dict) or not all(isinstance(v, list) for v in cm.values()):
            raise CorruptDataError(f"{where}: 'class_mean' must map summaries to lists")
        class_means[name] = {key: [_number(v, where, "class_mean") for v in vals] for key, vals in cm.items()}
        value = _number(row.get(metadata.KEY_GRAD_NORM), where, metadata.KEY_GRAD_NORM)
        if value is not None:
            grad_norm[name] = value
    return TimelineRecord(k=k, accuracy=_number(obj.get("accuracy"), where, "accuracy"),
                          chance=_number(obj.get("chance"), where, "chance"), scores=scores, means=means,
                          class_means=class_means, grad_norm=grad_norm)


# ----------------------------------------------------------------- schedule
class FullSteps:
    """Which steps a writer keeps in full (layer blobs, maps, thumbnails).

    A step is written in full when ``every`` is None (every step), when it
    is the first step written, when ``step % every == 0``, when it was asked
    for (`request`), or when it was already written in full once. The writer
    also rewrites its last step in full at ``close()``. Every other step gets
    only its manifest and compact timeline record.

    Args:
        every: keep every ``every``-th step in full; None keeps every step.

    Raises:
        ValueError: `every` is not a positive int or None.
    """

    def __init__(self, every: int | None = None):
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"full_every must be a positive int or None, got {every!r}")
        self.every = every
        self._first: int | None = None
        self._full: set[int] = set()
        self._compact: set[int] = set()
        self._requested: set[int] = set()

    def request(self, step: int) -> None:
        """Keeps `step` in full when it is written (again)."""
        self._requested.add(int(step))

    def is_full(self, step: int) -> bool:
        """True when `step` is to be written in full."""
        return (self.every is None or self._first is None or step == self._first or step % self.every == 0
                or step in self._requested or step in self._full)

    def mark_written(self, step: int, full: bool) -> None:
        """Records that `step` was written, in full or compact."""
        if self._first is None:
            self._first = step
        (self._full if full else self._compact).add(step)
        if full:
            self._compact.discard(step)

    def written_compact(self, step: int) -> bool:
        """True when `step` was written compact and never in full."""
        return step in self._compact
