"""Checks of decoded records against each other, run once where the reader decodes them.

A record that decodes can still be unusable: arrays of the wrong dtype or
shape, labels that the manifest's ``n_inputs`` or ``class_names`` do not
cover, summaries whose ``N`` or ``C`` differ from the manifest, non-finite
values the views refuse. Each check raises `errors.CorruptDataError` naming
the record and what is wrong (HTTP 404, ``corrupt data in the logdir: ...``),
so no such record reaches a view and fails there as a 500.

The manifest itself is checked by `metadata.Manifest.from_json`; these checks
take the parsed `metadata.Manifest` (or its `metadata.LayerRecord`) as the
reference for the arrays of the same step.
"""

from __future__ import annotations

import numpy as np

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.errors import CorruptDataError

# Largest |value| accepted in a summary matrix or a filter norm. Summaries are
# norms, means and maxima of activations; anything near float32's maximum
# (3.4e38) is damage, and squaring or summing it in the views would overflow.
MAX_SUMMARY_MAGNITUDE = 1e18
# Deepest nesting accepted in a JSON record (the graph is 3 levels deep); a
# deeper record would exhaust the recursion of the JSON encoder.
MAX_JSON_DEPTH = 32


def _fail(where: str, message: str) -> CorruptDataError:
    return CorruptDataError(f"{where}: {message}")


def _vector(arrays: dict, key: str, n: int, kinds: str, where: str) -> np.ndarray | None:
    """``arrays[key]`` checked to be 1-D of length `n` with a dtype kind in `kinds`; None when absent."""
    arr = arrays.get(key)
    if arr is None:
        return None
    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype.kind not in kinds:
        raise _fail(where, f"{key!r} must be a vector of {n} values (dtype kind in {kinds!r}), "
                           f"got {arr.dtype} {arr.shape}")
    return arr


def _finite(arr: np.ndarray, key: str, where: str) -> None:
    if arr.size and not np.isfinite(arr).all():
        raise _fail(where, f"{key!r} holds NaN or infinite values")
    if arr.size and float(np.max(np.abs(arr))) > MAX_SUMMARY_MAGNITUDE:
        raise _fail(where, f"{key!r} holds values beyond +-{MAX_SUMMARY_MAGNITUDE:g}")


def check_inputs(arrays: dict, manifest: metadata.Manifest, where: str) -> None:
    """The inputs blob: labels, ids, predictions and probabilities of the manifest's ``n_inputs`` inputs.

    Raises:
        CorruptDataError: a missing or ill-typed array, a length other than
            ``n_inputs``, or a class id outside ``[0, len(class_names))``.
    """
    labels = arrays.get(metadata.KEY_LABELS)
    if labels is None or labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise _fail(where, f"{metadata.KEY_LABELS!r} must be int[N]")
    n = labels.shape[0]
    if n != manifest.n_inputs:
        raise _fail(where, f"{metadata.KEY_LABELS!r} has {n} entries but the manifest says n_inputs={manifest.n_inputs}")
    n_classes = len(manifest.class_names)
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)]
        raise _fail(where, f"class id {int(bad[0])} of {metadata.KEY_LABELS!r} is outside [0, {n_classes}), "
                           f"the manifest's {n_classes} class_names")
    _vector(arrays, metadata.KEY_SAMPLE_IDS, n, "iuU", where)
    _vector(arrays, metadata.KEY_PREDICTIONS, n, "iu", where)
    probs = arrays.get(metadata.KEY_PROBABILITIES)
    if probs is not None:
        if probs.ndim < 1 or probs.shape[0] != n or probs.dtype.kind != "f":
            raise _fail(where, f"{metadata.KEY_PROBABILITIES!r} must be float[N={n}, ...], "
                               f"got {probs.dtype} {probs.shape}")


def check_layer(arrays: dict, record: metadata.LayerRecord, n: int, where: str) -> None:
    """A layer blob: every summary float[N, C], ``filter_norm`` float[C], all finite.

    ``C`` is the manifest's ``channels`` of the layer.

    Raises:
        CorruptDataError: a summary or filter norm of the wrong dtype, shape
            or with non-finite values.
    """
    c = record.channels
    for key in metadata.SUMMARY_KEYS:
        mat = arrays.get(key)
        if mat is None:
            continue
        if mat.ndim != 2 or mat.dtype.kind != "f" or mat.shape != (n, c):
            raise _fail(where, f"{key!r} has {mat.dtype} shape {mat.shape}, expected float [N={n}, C={c}]")
        _finite(mat, key, where)
    norm = arrays.get(metadata.KEY_FILTER_NORM)
    if norm is not None:
        if norm.ndim != 1 or norm.dtype.kind != "f" or norm.shape[0] != c:
            raise _fail(where, f"{metadata.KEY_FILTER_NORM!r} has {norm.dtype} shape {norm.shape}, "
                               f"expected float [C={c}]")
        _finite(norm, metadata.KEY_FILTER_NORM, where)


def check_maps(arrays: dict, record: metadata.LayerRecord, n: int, where: str) -> None:
    """A maps blob: uint8[M, C, h, w] maps of inputs ``indices`` in [0, N), finite scalars lo <= hi.

    Raises:
        CorruptDataError: a missing array, a wrong dtype or shape, an index
            outside [0, N), or a bad quantization range.
    """
    maps, indices = arrays.get(metadata.KEY_MAPS), arrays.get(metadata.KEY_INDICES)
    if maps is None or maps.ndim != 4 or maps.dtype != np.uint8:
        raise _fail(where, f"{metadata.KEY_MAPS!r} must be uint8[M, C, h, w]")
    if maps.shape[1] != record.channels or 0 in maps.shape[2:]:
        raise _fail(where, f"{metadata.KEY_MAPS!r} has shape {maps.shape}, expected [M, C={record.channels}, h>0, w>0]")
    if indices is None or indices.ndim != 1 or indices.dtype.kind not in "iu" or len(indices) != len(maps):
        raise _fail(where, f"{metadata.KEY_INDICES!r} must be int[M={len(maps)}]")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise _fail(where, f"{metadata.KEY_INDICES!r} must lie in [0, N={n})")
    bounds = []
    for key in (metadata.KEY_LO, metadata.KEY_HI):
        value = arrays.get(key)
        if value is None or value.shape != () or value.dtype.kind != "f" or not np.isfinite(value):
            raise _fail(where, f"{key!r} must be a finite float scalar")
        bounds.append(float(value))
    if bounds[0] > bounds[1]:
        raise _fail(where, f"lo={bounds[0]:g} is above hi={bounds[1]:g}")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(raw: bytes, where: str) -> None:
    """Raises CorruptDataError unless `raw` starts with the PNG signature (thumbnails are served as is)."""
    if not raw.startswith(_PNG_SIGNATURE):
        raise _fail(where, "not a PNG image")


def check_json_depth(obj, where: str) -> None:
    """Raises CorruptDataError when `obj` nests deeper than `MAX_JSON_DEPTH` (checked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _fail(where, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
