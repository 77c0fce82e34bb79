"""Building the TensorBoard summaries of one accumulated step (no I/O).

`step_summaries` turns a `StepData` into the list of `Summary` protos the
writer hands to the event file, in the order a reader relies on: inputs,
thumbnails, each layer (and its maps), the graph, and the manifest last, so a
step with a manifest is complete. The format is described in
``docs/architecture.md`` and `metadata`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tensorboard.compat.proto import summary_pb2

from tensorboard_plugin_channelexplorer import __version__, metadata
from tensorboard_plugin_channelexplorer.encoding import encode_npz, json_tensor_proto, string_tensor_proto
from tensorboard_plugin_channelexplorer.images import quantize_maps
from tensorboard_plugin_channelexplorer.step_accumulator import StepData
from tensorboard_plugin_channelexplorer.timeline_records import timeline_json, timeline_summaries

__all__ = ["graph_for_step", "step_summaries", "summary"]


def summary(tag: str, kind: str, tensor, layer: str | None = None) -> summary_pb2.Summary:
    """One ChannelExplorer value as a `Summary`."""
    return summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(kind, layer), tensor=tensor)]
    )


def graph_for_step(graph: dict | None, cur: StepData) -> dict | None:
    """The model graph with the step's logged layers marked.

    ``logged`` marks the node named like a layer (the first module of a
    chain); every module of a logged chain also gets ``layer``: the name to
    request (e.g. the BN of conv -> BN -> ReLU points to the conv).
    """
    if graph is None:
        return None
    owner = {}
    for e in cur.entries or []:
        if e.name in cur.summaries:
            for member in [e.module] + list(e.members):
                owner.setdefault(member, e)
    out = dict(graph)
    nodes = []
    for node in graph.get("nodes", []):
        node = dict(node)
        e = owner.get(node.get("id"))
        if e is not None:
            node["layer"] = e.name
            if node.get("id") == e.module:
                node["logged"] = True
                if not node.get("shape"):
                    node["shape"] = list(cur.shapes.get(e.name, e.shape))
        nodes.append(node)
    out["nodes"] = nodes
    return out


def _class_names(cur: StepData, names: Sequence[str] | None) -> list[str]:
    top = int(np.concatenate(cur.labels).max())
    names = list(names) if names else [str(i) for i in range(top + 1)]
    return names + [str(i) for i in range(len(names), top + 1)]


def _inputs_summary(cur: StepData) -> tuple[summary_pb2.Summary, bool]:
    inputs = {metadata.KEY_LABELS: np.concatenate(cur.labels), metadata.KEY_SAMPLE_IDS: np.concatenate(cur.sample_ids)}
    has_pred = bool(cur.predictions)
    if has_pred:
        inputs[metadata.KEY_PREDICTIONS] = np.concatenate(cur.predictions)
        inputs[metadata.KEY_PROBABILITIES] = np.concatenate(cur.probabilities)
    return summary(metadata.INPUTS_TAG, metadata.KIND_INPUTS, string_tensor_proto([encode_npz(inputs)])), has_pred


def _layer_arrays(cur: StepData, name: str) -> dict[str, np.ndarray] | None:
    """The layer blob's arrays, or None when the layer missed a call of the step."""
    arrays = {k: np.concatenate(v).astype(np.float32, copy=False) for k, v in cur.summaries[name].items()}
    if arrays[next(iter(arrays))].shape[0] != cur.n:
        return None
    if name in cur.filter_norms:
        arrays[metadata.KEY_FILTER_NORM] = cur.filter_norms[name]
    if name in cur.weights:
        arrays[metadata.KEY_WEIGHT_ABS], arrays[metadata.KEY_WEIGHT_SUM] = cur.weights[name]
    if cur.importance_n.get(name) == cur.n and cur.n > 0:
        sums = cur.importance[name]
        arrays[metadata.KEY_TAYLOR] = (sums["taylor_sum"] / cur.n).astype(np.float32)
        arrays[metadata.KEY_GRAD_NORM] = np.sqrt(sums["grad_sq_sum"] / cur.n).astype(np.float32)
    return arrays


def _maps_summary(cur: StepData, name: str, map_idx: np.ndarray) -> summary_pb2.Summary | None:
    if name not in cur.maps or not cur.maps_enabled:
        return None
    q_list = cur.maps[name]
    lo, hi = cur.map_range[name]
    maps = np.concatenate(q_list) if len(q_list) > 1 else q_list[0]
    if maps.shape[0] != map_idx.shape[0]:
        return None
    blob = encode_npz(
        {
            metadata.KEY_MAPS: quantize_maps(maps, lo, hi),
            metadata.KEY_INDICES: map_idx,
            metadata.KEY_LO: np.float32(lo),
            metadata.KEY_HI: np.float32(hi),
        },
        compress=True,
    )
    return summary(metadata.maps_tag(name), metadata.KIND_MAPS, string_tensor_proto([blob]), layer=name)


def step_summaries(
    cur: StepData,
    *,
    class_names: Sequence[str] | None,
    functions: Sequence[str],
    graph: dict | None,
    steps_written: int,
    full: bool = True,
) -> list[summary_pb2.Summary]:
    """All summaries of one step, manifest last.

    Args:
        cur: The accumulated step (at least one call).
        class_names: The writer's class names (extended to cover every label).
        functions: The summary functions computed.
        graph: The model graph (`graph_for_step` marks the logged layers), or None.
        steps_written: How many distinct steps the run holds with this one.
        full: Write the inputs, layer blobs, maps and thumbnails; False
            writes a compact step (compact timeline record and manifest).

    Returns:
        The `Summary` protos in writing order.
    """
    out = []
    inputs, has_pred = _inputs_summary(cur)
    if full:  # compact steps carry no blob, so TensorBoard's blob reservoir holds only full steps
        out.append(inputs)
    has_thumbs = full and cur.thumbnails is not None and len(cur.thumbnails) == cur.n
    if has_thumbs:
        out.append(summary(metadata.THUMBNAILS_TAG, metadata.KIND_THUMBNAILS, string_tensor_proto(cur.thumbnails)))
    layer_rows = []
    map_idx = np.concatenate(cur.map_indices) if cur.map_indices else np.zeros(0, dtype=np.int64)
    kept = {}
    for e in cur.entries or []:
        if e.name not in cur.summaries:
            continue
        arrays = _layer_arrays(cur, e.name)
        if arrays is None:
            continue
        kept[e.name] = arrays
        if full:
            out.append(summary(metadata.layer_tag(e.name), metadata.KIND_LAYER, string_tensor_proto([encode_npz(arrays)]), layer=e.name))
        maps = _maps_summary(cur, e.name, map_idx) if full else None
        if maps is not None:
            out.append(maps)
        shape = tuple(int(s) for s in cur.shapes.get(e.name, e.shape))
        layer_rows.append(
            metadata.LayerRecord(
                name=e.name,
                type=e.type,
                shape=shape,
                channels=shape[0],
                stages=tuple(cur.stages.get(e.name, metadata.DEFAULT_STAGES)),
                functions=tuple(functions),
                has_maps=maps is not None,
                has_filter_norm=e.name in cur.filter_norms,
            )
        )
    names = _class_names(cur, class_names)
    out.extend(timeline_summaries(timeline_json(kept, np.concatenate(cur.labels), len(names),
                                                np.concatenate(cur.predictions) if has_pred else None)))
    marked = graph_for_step(graph, cur)
    if marked is not None:
        out.append(summary(metadata.GRAPH_TAG, metadata.KIND_GRAPH, json_tensor_proto(marked)))
    manifest = metadata.Manifest(
        n_inputs=int(cur.n),
        class_names=tuple(names),
        layers=tuple(layer_rows),
        has_predictions=has_pred,
        has_thumbnails=has_thumbs,
        steps_written=int(steps_written),
        full=full,
        writer={"package_version": __version__, "torch": torch.__version__.split("+")[0]},
    ).to_json()
    out.append(summary(metadata.MANIFEST_TAG, metadata.KIND_MANIFEST, json_tensor_proto(manifest)))
    return out
