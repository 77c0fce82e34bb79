"""Plugin name, tag layout and versioned plugin content for ChannelExplorer.

This module is the single owner of the on-disk contract between the writer
(`writer.py`) and the reader (`reader.py`). It imports only protobuf classes
from TensorBoard, so the plugin entry module stays light.

Tag layout (all tags start with ``channelexplorer/``):

=============================  ==============  ===========================================
tag                            data class      value at one step
=============================  ==============  ===========================================
``manifest``                   TENSOR          scalar string: JSON manifest of the step
``graph``                      TENSOR          scalar string: JSON model graph
``inputs``                     BLOB_SEQUENCE   1 blob: ``.npz`` with labels, sample ids, ...
``thumbnails``                 BLOB_SEQUENCE   N blobs: one PNG per input
``layer/<name>``               BLOB_SEQUENCE   1 blob: ``.npz`` of ``[N, C]`` summaries
``maps/<name>``                BLOB_SEQUENCE   1 blob: ``.npz`` of quantized activation maps
``timeline``                   TENSOR          scalar string: JSON compact record (`timeline_records`)
=============================  ==============  ===========================================

Every ``.npz`` blob is read with ``allow_pickle=False``: nothing from a logdir
is ever unpickled. The ``KEY_*`` constants name the arrays inside the blobs.

The manifest JSON is typed by `Manifest` and `LayerRecord`: the writer builds
it with ``Manifest(...).to_json()``, the reader parses it with
`Manifest.from_json`, which validates every field and fills the fields that
older format-1 manifests may lack with the defaults documented on each field.

The module is a little over 400 lines because it is the single owner of the
on-disk contract: tags, kinds, npz keys and the typed manifest stay in one place.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import numbers

from tensorboard.compat.proto import summary_pb2

from tensorboard_plugin_channelexplorer.errors import CorruptDataError

logger = logging.getLogger(__name__)

PLUGIN_NAME = "channelexplorer"

# Bump when the meaning of stored content changes. Readers skip content whose
# version is newer than this (with one warning per run and tag).
PROTO_VERSION = 1

TAG_PREFIX = PLUGIN_NAME + "/"
MANIFEST_TAG = TAG_PREFIX + "manifest"
GRAPH_TAG = TAG_PREFIX + "graph"
INPUTS_TAG = TAG_PREFIX + "inputs"
THUMBNAILS_TAG = TAG_PREFIX + "thumbnails"
LAYER_TAG_PREFIX = TAG_PREFIX + "layer/"
MAPS_TAG_PREFIX = TAG_PREFIX + "maps/"
TIMELINE_TAG = TAG_PREFIX + "timeline"

# Kinds of content, stored in the plugin content so a reader never has to
# guess from the tag.
KIND_MANIFEST = "manifest"
KIND_GRAPH = "graph"
KIND_INPUTS = "inputs"
KIND_THUMBNAILS = "thumbnails"
KIND_LAYER = "layer"
KIND_MAPS = "maps"
KIND_TIMELINE = "timeline"

_DATA_CLASS = {
    KIND_MANIFEST: summary_pb2.DATA_CLASS_TENSOR,
    KIND_GRAPH: summary_pb2.DATA_CLASS_TENSOR,
    KIND_INPUTS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_THUMBNAILS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_LAYER: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_MAPS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_TIMELINE: summary_pb2.DATA_CLASS_TENSOR,
}

# The four summary functions of the paper (Sect. V-C), in their stable order.
SUMMARY_FUNCTIONS = ("l2", "otsu", "mean", "max")
# Where a layer's activation was summarized: before or after the nonlinearity.
STAGES = ("pre", "post")
# Stages of a manifest layer row that names none (the writer's default).
DEFAULT_STAGES = ("pre",)

# Arrays of the inputs blob: int64[N] class ids, int64[N] or str[N] ids, and
# (optional) the model's int64[N] predicted classes and float32[N] confidences.
KEY_LABELS = "labels"
KEY_SAMPLE_IDS = "sample_ids"
KEY_PREDICTIONS = "predictions"
KEY_PROBABILITIES = "probabilities"
INPUT_KEYS = (KEY_LABELS, KEY_SAMPLE_IDS, KEY_PREDICTIONS, KEY_PROBABILITIES)
# Optional float32[C] weight norms of a layer blob, beside its summary arrays.
KEY_FILTER_NORM = "filter_norm"
# Optional float32[C] gradient signals of a layer blob (``importance=True``):
# first-order Taylor importance mean_n |sum_hw a * dL/da|, and the RMS over
# inputs of the per-input gradient norm ||dL/da||_hw.
KEY_TAYLOR = "taylor"
KEY_GRAD_NORM = "grad_norm"
# Optional float32[C_out, C_in] filter weights of a layer blob, summed over
# the kernel: sum |w| and sum w (see `weights.filter_weights`).
KEY_WEIGHT_ABS = "weight_abs"
KEY_WEIGHT_SUM = "weight_sum"
# Arrays of a maps blob: uint8[M, C, h, w] maps of the inputs `indices` (int64[M]),
# quantized over the float32 scalar range [lo, hi].
KEY_MAPS = "maps"
KEY_INDICES = "indices"
KEY_LO = "lo"
KEY_HI = "hi"
MAPS_KEYS = (KEY_MAPS, KEY_INDICES, KEY_LO, KEY_HI)


def layer_tag(layer_name: str) -> str:
    """Returns the tag holding a layer's ``[N, C]`` summaries."""
    return LAYER_TAG_PREFIX + layer_name


def maps_tag(layer_name: str) -> str:
    """Returns the tag holding a layer's quantized activation maps."""
    return MAPS_TAG_PREFIX + layer_name


def summary_key(stage: str, fn: str) -> str:
    """Returns the ``.npz`` key of one summary array, e.g. ``pre/otsu``."""
    return f"{stage}/{fn}"


# Every possible float32[N, C] summary array of a layer blob.
SUMMARY_KEYS = tuple(summary_key(stage, fn) for stage in STAGES for fn in SUMMARY_FUNCTIONS)


def create_summary_metadata(kind: str, layer: str | None = None) -> summary_pb2.SummaryMetadata:
    """Builds the SummaryMetadata for one ChannelExplorer value.

    Args:
        kind: one of the ``KIND_*`` constants.
        layer: the layer name, for ``KIND_LAYER`` and ``KIND_MAPS``.

    Returns:
        A SummaryMetadata with the plugin name, a versioned JSON content and
        the data class set explicitly (TensorBoard lists nothing without it).

    Raises:
        ValueError: if ``kind`` is unknown.
    """
    if kind not in _DATA_CLASS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(_DATA_CLASS)}")
    content = {"version": PROTO_VERSION, "kind": kind}
    if layer is not None:
        content["layer"] = layer
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME,
            content=json.dumps(content, sort_keys=True).encode("utf-8"),
        ),
        data_class=_DATA_CLASS[kind],
    )


def parse_plugin_content(content: bytes) -> dict | None:
    """Parses plugin content written by `create_summary_metadata`.

    Args:
        content: the raw ``plugin_data.content`` bytes.

    Returns:
        The content dict, or None when it is unreadable or newer than
        `PROTO_VERSION` (the caller skips such data).
    """
    try:
        parsed = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(parsed, dict):
        return None
    version = parsed.get("version")
    if not isinstance(version, int) or version < 1:
        return None
    if version > PROTO_VERSION:
        return None
    return parsed


def content_version(content: bytes) -> int | None:
    """Returns the version stored in plugin content, or None if unreadable."""
    try:
        parsed = json.loads(content.decode("utf-8"))
        version = parsed.get("version")
        return version if isinstance(version, int) else None
    except Exception:  # noqa: BLE001 - any malformed content reads as "unknown"
        return None


# ------------------------------------------------------------------ manifest
def _corrupt(where: str, message: str) -> CorruptDataError:
    return CorruptDataError(f"{where}: {message}")


def _get_int(obj: dict, key: str, where: str, default=None, minimum: int = 0):
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise _corrupt(where, f"{key!r} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _required_int(obj: dict, key: str, where: str) -> int:
    value = _get_int(obj, key, where)
    if value is None:
        raise _corrupt(where, f"{key!r} is missing")
    return value


def _get_bool(obj: dict, key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise _corrupt(where, f"{key!r} must be true or false, got {value!r}")
    return value


def _get_strs(obj: dict, key: str, where: str, default: tuple, choices=None) -> tuple:
    value = obj.get(key, default)
    if isinstance(value, tuple):
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _corrupt(where, f"{key!r} must be a list of strings, got {value!r}")
    if choices is not None and any(v not in choices for v in value):
        raise _corrupt(where, f"{key!r} must hold values of {list(choices)}, got {value!r}")
    return tuple(value)


@dataclasses.dataclass(frozen=True)
class LayerRecord:
    """One layer row of a manifest.

    Attributes:
        name: the module name in the model (``features.0``).
        type: the module class name (``Conv2d``); default ``""``.
        shape: the activation shape without the batch axis, ``[C, H, W]`` or
            ``[C]``; default empty.
        channels: ``C``, the number of columns of the summary matrices
            (required in stored rows: every format-1 writer wrote it).
        stages: stages summarized; default `DEFAULT_STAGES`.
        functions: summary functions computed; default `SUMMARY_FUNCTIONS`.
        has_maps: a ``maps/<name>`` blob was written; default False.
        has_filter_norm: the layer blob holds `KEY_FILTER_NORM`; default False.
    """

    name: str
    type: str = ""
    shape: tuple = ()
    channels: int | None = None
    stages: tuple = DEFAULT_STAGES
    functions: tuple = SUMMARY_FUNCTIONS
    has_maps: bool = False
    has_filter_norm: bool = False

    def has_stage(self, stage: str) -> bool:
        """True if the layer was summarized at `stage`."""
        return stage in self.stages

    def to_json(self) -> dict:
        """The row as stored in the manifest JSON."""
        return {
            "name": self.name,
            "type": self.type,
            "shape": [int(s) for s in self.shape],
            "channels": self.channels,
            "stages": list(self.stages),
            "functions": list(self.functions),
            "has_maps": bool(self.has_maps),
            "has_filter_norm": bool(self.has_filter_norm),
        }

    @classmethod
    def from_json(cls, obj, where: str = "manifest layer") -> "LayerRecord":
        """Parses and validates one manifest row.

        Raises:
            CorruptDataError: `obj` is not a row, ``name`` or ``channels`` is
                missing, or a field has the wrong type.
        """
        if not isinstance(obj, dict):
            raise _corrupt(where, f"a layer row must be an object, got {type(obj).__name__}")
        name = obj.get("name")
        if not isinstance(name, str) or not name:
            raise _corrupt(where, f"a layer row needs a non-empty string 'name', got {name!r}")
        where = f"{where} {name!r}"
        kind = obj.get("type", "")
        if not isinstance(kind, str):
            raise _corrupt(where, f"'type' must be a string, got {kind!r}")
        shape = obj.get("shape", [])
        if shape is None:
            shape = []
        if not isinstance(shape, list) or not all(
                isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0 for s in shape):
            raise _corrupt(where, f"'shape' must be a list of non-negative integers, got {shape!r}")
        return cls(
            name=name,
            type=kind,
            shape=tuple(int(s) for s in shape),
            channels=_required_int(obj, "channels", where),
            stages=_get_strs(obj, "stages", where, DEFAULT_STAGES),
            functions=_get_strs(obj, "functions", where, SUMMARY_FUNCTIONS),
            has_maps=_get_bool(obj, "has_maps", where),
            has_filter_norm=_get_bool(obj, "has_filter_norm", where),
        )


@dataclasses.dataclass(frozen=True)
class Manifest:
    """The manifest of one step: what was logged, for how many inputs.

    Attributes:
        n_inputs: ``N``, the inputs logged at the step (required in stored
            manifests, as are ``class_names`` and each row's ``channels``:
            every format-1 writer wrote them, and indexes are checked
            against them).
        class_names: names of the class ids ``0 .. K-1``; every label is one
            of them.
        layers: one `LayerRecord` per summarized layer, in model order.
        has_predictions: the inputs blob holds predictions; default False.
        has_thumbnails: a thumbnail was written per input; default False.
        steps_written: steps the writer had written so far; default None.
        writer: free-form facts about the writer (versions, flags).
        version: format version, `PROTO_VERSION`.
        full: the step's layer blobs, maps and thumbnails were written;
            False for a compact step (manifest and timeline record
            only, see `timeline_records.FullSteps`); default True.
    """

    n_inputs: int | None = None
    class_names: tuple = ()
    layers: tuple = ()
    has_predictions: bool = False
    has_thumbnails: bool = False
    steps_written: int | None = None
    writer: dict = dataclasses.field(default_factory=dict)
    version: int = PROTO_VERSION
    full: bool = True

    def layer(self, name: str) -> LayerRecord | None:
        """The row of layer `name`, or None if the step has no such layer."""
        for record in self.layers:
            if record.name == name:
                return record
        return None

    def layers_with_stage(self, stage: str) -> list:
        """The rows of the layers summarized at `stage`, in model order."""
        return [record for record in self.layers if record.has_stage(stage)]

    @property
    def layer_names(self) -> list:
        """Names of every layer row, in model order."""
        return [record.name for record in self.layers]

    def to_json(self) -> dict:
        """The manifest as stored (a JSON-serializable dict)."""
        out = {
            "version": self.version,
            "n_inputs": self.n_inputs,
            "class_names": list(self.class_names),
            "layers": [record.to_json() for record in self.layers],
            "has_predictions": bool(self.has_predictions),
            "has_thumbnails": bool(self.has_thumbnails),
            "steps_written": self.steps_written,
            "writer": dict(self.writer),
        }
        if not self.full:  # stored only when False, so full manifests stay as before
            out["full"] = False
        return out

    @classmethod
    def from_json(cls, obj, where: str = "manifest") -> "Manifest":
        """Parses and validates a manifest decoded from JSON.

        Args:
            obj: the decoded JSON.
            where: names the record in error messages (``manifest at step 3
                of run 'a'``).

        Raises:
            CorruptDataError: `obj` is not a manifest, ``n_inputs`` or
                ``class_names`` is missing, or a field has the wrong type.
        """
        if not isinstance(obj, dict):
            raise _corrupt(where, "not a manifest object")
        layers = obj.get("layers", [])
        if not isinstance(layers, list):
            raise _corrupt(where, "not a manifest object: 'layers' must be a list")
        class_names = obj.get("class_names")
        if not isinstance(class_names, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool)
                                                        for c in class_names):
            raise _corrupt(where, f"'class_names' must be a list of strings, got {class_names!r}")
        writer = obj.get("writer", {})
        if not isinstance(writer, dict):
            raise _corrupt(where, f"'writer' must be an object, got {writer!r}")
        version = _get_int(obj, "version", where, PROTO_VERSION, minimum=1)
        return cls(
            n_inputs=_required_int(obj, "n_inputs", where),
            class_names=tuple(str(c) for c in class_names),
            layers=tuple(LayerRecord.from_json(row, f"{where}, layer row {i}") for i, row in enumerate(layers)),
            has_predictions=_get_bool(obj, "has_predictions", where),
            has_thumbnails=_get_bool(obj, "has_thumbnails", where),
            steps_written=_get_int(obj, "steps_written", where),
            writer=dict(writer),
            version=version,
            full=_get_bool(obj, "full", where, True),
        )
