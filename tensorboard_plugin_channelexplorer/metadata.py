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
=============================  ==============  ===========================================

Every ``.npz`` blob is read with ``allow_pickle=False``: nothing from a logdir
is ever unpickled.
"""

from __future__ import annotations

import json
import logging

from tensorboard.compat.proto import summary_pb2

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

# Kinds of content, stored in the plugin content so a reader never has to
# guess from the tag.
KIND_MANIFEST = "manifest"
KIND_GRAPH = "graph"
KIND_INPUTS = "inputs"
KIND_THUMBNAILS = "thumbnails"
KIND_LAYER = "layer"
KIND_MAPS = "maps"

_DATA_CLASS = {
    KIND_MANIFEST: summary_pb2.DATA_CLASS_TENSOR,
    KIND_GRAPH: summary_pb2.DATA_CLASS_TENSOR,
    KIND_INPUTS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_THUMBNAILS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_LAYER: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_MAPS: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
}

# The four summary functions of the paper (Sect. V-C), in their stable order.
SUMMARY_FUNCTIONS = ("l2", "otsu", "mean", "max")
# Where a layer's activation was summarized: before or after the nonlinearity.
STAGES = ("pre", "post")


def layer_tag(layer_name: str) -> str:
    """Returns the tag holding a layer's ``[N, C]`` summaries."""
    return LAYER_TAG_PREFIX + layer_name


def maps_tag(layer_name: str) -> str:
    """Returns the tag holding a layer's quantized activation maps."""
    return MAPS_TAG_PREFIX + layer_name


def summary_key(stage: str, fn: str) -> str:
    """Returns the ``.npz`` key of one summary array, e.g. ``pre/otsu``."""
    return f"{stage}/{fn}"


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
