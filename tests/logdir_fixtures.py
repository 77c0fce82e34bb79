"""Functions that write real ChannelExplorer event files for tests and benchmarks.

Two kinds of fixtures:

* `write_synthetic_run` writes the on-disk format of ``docs/architecture.md``
  directly with `metadata`/`encoding` and TensorBoard's `EventFileWriter`. It
  is synthetic (class-separable random summaries) but format-correct, fast,
  and lets tests produce edge cases the real writer never would (a newer
  content version, a step written twice, a truncated file).
* `write_torch_run` logs a tiny real torch CNN on scikit-learn's digits with
  `ChannelExplorerWriter.log_layers` (only when ``writer.py`` is available).
"""

from __future__ import annotations

import glob
import io
import json
import os
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tensorboard_plugin_channelexplorer import encoding, metadata

DEFAULT_LAYERS = (
    # name, type, shape (C, h, w) or (C,), has_maps, has_filter_norm
    ("features.0", "Conv2d", (8, 6, 6), True, True),
    ("features.3", "Conv2d", (12, 3, 3), True, False),
    ("classifier", "Linear", (5,), False, True),
)


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buf, format="PNG")
    return buf.getvalue()


def _value(tag: str, kind: str, tensor, layer: str | None = None, version: int | None = None):
    md = metadata.create_summary_metadata(kind, layer=layer)
    if version is not None:
        content = json.loads(md.plugin_data.content)
        content["version"] = version
        md.plugin_data.content = json.dumps(content).encode("utf-8")
    return summary_pb2.Summary.Value(tag=tag, metadata=md, tensor=tensor)


def synthetic_step_data(
    n_inputs: int = 24,
    n_classes: int = 3,
    layers=DEFAULT_LAYERS,
    stages=("pre",),
    seed: int = 0,
    thumb_size: int = 8,
) -> dict:
    """Builds class-separable summaries, inputs, thumbnails and maps for one step.

    Returns:
        A dict with ``labels``, ``sample_ids``, ``predictions``,
        ``probabilities``, ``thumbnails`` (list of PNG bytes), ``layers``
        (name -> npz dict) and ``maps`` (name -> npz dict).
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(n_inputs, dtype=np.int64) % n_classes
    sample_ids = np.arange(100, 100 + n_inputs, dtype=np.int64)
    predictions = labels.copy()
    predictions[::7] = (predictions[::7] + 1) % n_classes
    probabilities = rng.uniform(0.5, 1.0, n_inputs).astype(np.float32)
    thumbs = [_png(rng.integers(0, 256, (thumb_size, thumb_size, 3), dtype=np.uint8)) for _ in range(n_inputs)]
    layer_arrays, map_arrays = {}, {}
    for name, _type, shape, has_maps, has_fn in layers:
        c = shape[0]
        # Each class strongly activates its own slice of channels.
        base = rng.gamma(1.0, 0.2, (n_inputs, c)).astype(np.float32)
        for k in range(n_classes):
            chans = np.arange(c)[k::n_classes]
            base[np.ix_(labels == k, chans)] += 3.0
        arrays = {}
        for stage in stages:
            for i, fn in enumerate(metadata.SUMMARY_FUNCTIONS):
                arrays[metadata.summary_key(stage, fn)] = (base * (1.0 + 0.1 * i)).astype(np.float32)
        if has_fn:
            arrays["filter_norm"] = rng.uniform(0.1, 2.0, c).astype(np.float32)
        layer_arrays[name] = arrays
        if has_maps and len(shape) == 3:
            h, w = shape[1], shape[2]
            indices = np.arange(0, n_inputs, 2, dtype=np.int64)  # maps for even inputs only
            maps = rng.integers(0, 256, (len(indices), c, h, w), dtype=np.uint8)
            map_arrays[name] = {"maps": maps, "indices": indices, "lo": np.float32(-1.5), "hi": np.float32(4.0)}
    return {
        "labels": labels,
        "sample_ids": sample_ids,
        "predictions": predictions,
        "probabilities": probabilities,
        "thumbnails": thumbs,
        "layers": layer_arrays,
        "maps": map_arrays,
    }


def manifest_for(data: dict, layers=DEFAULT_LAYERS, stages=("pre",), n_classes: int = 3, steps_written: int = 1) -> dict:
    """The manifest JSON (``docs/architecture.md``) describing `data`."""
    return {
        "version": metadata.PROTO_VERSION,
        "n_inputs": int(len(data["labels"])),
        "class_names": [f"class{k}" for k in range(n_classes)],
        "layers": [
            {
                "name": name,
                "type": type_,
                "shape": list(shape),
                "channels": int(shape[0]),
                "stages": list(stages),
                "functions": list(metadata.SUMMARY_FUNCTIONS),
                "has_maps": bool(has_maps and len(shape) == 3),
                "has_filter_norm": bool(has_fn),
            }
            for name, type_, shape, has_maps, has_fn in layers
        ],
        "has_predictions": True,
        "has_thumbnails": True,
        "steps_written": int(steps_written),
        "writer": {"package_version": "0.1.0", "torch": "fixture"},
    }


def graph_for(layers=DEFAULT_LAYERS) -> dict:
    """A small chain graph JSON over `layers`."""
    nodes = [{"id": "input", "name": "input", "type": "Input", "shape": [3, 8, 8], "params": 0, "logged": False, "parent": ""}]
    edges = []
    prev = "input"
    for name, type_, shape, _m, _f in layers:
        nodes.append(
            {"id": name, "name": name, "type": type_, "shape": list(shape), "params": 10, "logged": True,
             "parent": name.rsplit(".", 1)[0] if "." in name else ""}
        )
        edges.append({"source": prev, "target": name})
        prev = name
    return {"source": "fx", "nodes": nodes, "edges": edges}


def step_event(step: int, data: dict, manifest: dict, graph: dict, version: int | None = None,
               wall_time: float | None = None, skip_layers=()) -> event_pb2.Event:
    """One Event holding every ChannelExplorer tag of one step.

    The manifest is written first, as the real writer does, so a file cut
    mid-record can hold a manifest whose blobs are missing.
    """
    values = [
        _value(metadata.MANIFEST_TAG, metadata.KIND_MANIFEST, encoding.json_tensor_proto(manifest), version=version),
        _value(metadata.GRAPH_TAG, metadata.KIND_GRAPH, encoding.json_tensor_proto(graph), version=version),
    ]
    inputs = {k: data[k] for k in ("labels", "sample_ids", "predictions", "probabilities")}
    values.append(_value(metadata.INPUTS_TAG, metadata.KIND_INPUTS,
                         encoding.string_tensor_proto([encoding.encode_npz(inputs)]), version=version))
    values.append(_value(metadata.THUMBNAILS_TAG, metadata.KIND_THUMBNAILS,
                         encoding.string_tensor_proto(data["thumbnails"]), version=version))
    for name, arrays in data["layers"].items():
        if name in skip_layers:
            continue
        values.append(_value(metadata.layer_tag(name), metadata.KIND_LAYER,
                             encoding.string_tensor_proto([encoding.encode_npz(arrays)]), layer=name, version=version))
    for name, arrays in data["maps"].items():
        if name in skip_layers:
            continue
        values.append(_value(metadata.maps_tag(name), metadata.KIND_MAPS,
                             encoding.string_tensor_proto([encoding.encode_npz(arrays, compress=True)]),
                             layer=name, version=version))
    return event_pb2.Event(wall_time=wall_time if wall_time is not None else time.time(), step=step,
                           summary=summary_pb2.Summary(value=values))


def write_events(run_dir: str, events) -> str:
    """Writes `events` into a new event file under `run_dir`; returns its path."""
    os.makedirs(run_dir, exist_ok=True)
    before = set(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))
    writer = EventFileWriter(run_dir, max_queue_size=1000, flush_secs=3600)
    for ev in events:
        writer.add_event(ev)
    writer.close()
    (path,) = set(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))) - before
    return path


def write_synthetic_run(
    logdir: str,
    run: str = "run",
    steps=(0, 1, 2),
    n_inputs: int = 24,
    n_classes: int = 3,
    layers=DEFAULT_LAYERS,
    stages=("pre",),
    steps_written: int | None = None,
    version: int | None = None,
    duplicate_step: int | None = None,
    skip_layers_at: dict | None = None,
    seed: int = 0,
    mark_rewrite: bool = False,
) -> dict:
    """Writes a synthetic ChannelExplorer run with real event files.

    Args:
        logdir: the TensorBoard logdir.
        run: run (sub-directory) name.
        steps: steps to write, in order.
        n_inputs, n_classes, layers, stages: shape of the synthetic data.
        steps_written: value stored in every manifest (default: the number
            of distinct steps written so far).
        version: content version to store instead of `metadata.PROTO_VERSION`.
        duplicate_step: if set, this step is written a second time at the end
            with different data (seed + 1000); readers must keep the last.
        skip_layers_at: step -> layer names whose blobs are left out.
        seed: random seed.
        mark_rewrite: write a ``SessionLog.START`` event at the start of the
            file and again before the duplicated step. TensorBoard's Python
            loader then purges the first record of that step (without it, that
            loader serves the FIRST record's blobs); the Rust data server
            keeps the last record either way.

    Returns:
        A dict step -> the data dict of the record a reader must serve
        (the last one for a duplicated step), plus key ``"_path"``.
    """
    expected = {}
    events = []
    seen = []
    order = list(steps) + ([duplicate_step] if duplicate_step is not None else [])
    if mark_rewrite:
        events.append(session_start(order[0], 999.0))
    for i, step in enumerate(order):
        dup = i >= len(steps)
        if dup and mark_rewrite:
            events.append(session_start(step, 999.5 + i))
        data = synthetic_step_data(n_inputs, n_classes, layers, stages, seed=seed + step + (1000 if dup else 0))
        if step not in seen:
            seen.append(step)
        man = manifest_for(data, layers, stages, n_classes, steps_written if steps_written is not None else len(seen))
        if dup:
            man["writer"]["rewritten"] = True
        skip = (skip_layers_at or {}).get(step, ())
        events.append(step_event(step, data, man, graph_for(layers), version=version,
                                 wall_time=1000.0 + i, skip_layers=skip))
        expected[step] = dict(data, manifest=man)
    expected["_path"] = write_events(os.path.join(logdir, run), events)
    return expected


def session_start(step: int, wall_time: float) -> event_pb2.Event:
    """A ``SessionLog.START`` event: marks a restart at `step` for the Python loader."""
    return event_pb2.Event(wall_time=wall_time, step=step,
                           session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))


def write_corrupt_run(logdir: str, run: str = "corrupt") -> dict:
    """A run whose manifest is fine but whose layer, maps and thumbnail blobs are garbage.

    Returns:
        ``{0: data}`` like `write_synthetic_run`, plus ``"_path"``.
    """
    data = synthetic_step_data(seed=3)
    man = manifest_for(data)
    event = step_event(0, data, man, graph_for(), wall_time=1000.0)
    for value in event.summary.value:
        if value.tag.startswith((metadata.LAYER_TAG_PREFIX, metadata.MAPS_TAG_PREFIX)):
            value.tensor.string_val[0] = b"PK\x03\x04 definitely not an npz"
        elif value.tag == metadata.THUMBNAILS_TAG:
            value.tensor.string_val[0] = b"\x89PNG broken"
    return {0: dict(data, manifest=man), "_path": write_events(os.path.join(logdir, run), [event])}


def truncate_file(path: str, drop_bytes: int) -> None:
    """Cuts the last `drop_bytes` bytes off a file (a record cut mid-way)."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(max(0, size - drop_bytes))


def writer_available() -> bool:
    """True when the package has ``writer.py``, False only when the module does not exist.

    A writer that exists but fails to import raises here: a broken writer must
    fail the suites that need it, not skip them.
    """
    import importlib.util

    if importlib.util.find_spec("tensorboard_plugin_channelexplorer.writer") is None:
        return False
    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter  # noqa: F401 - raises if broken

    return True


def tiny_cnn(seed: int = 0):
    """A tiny real torch CNN for 8x8 digits (two conv/ReLU, a max pool, a linear head)."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 12, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(12 * 4 * 4, 10),
    ).eval()


def digits_batch(n_inputs: int = 40):
    """The first `n_inputs` scikit-learn digits as ``(float32 [N,1,8,8] in [0,1], int64 [N])`` tensors."""
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images[:n_inputs] / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target[:n_inputs], dtype=torch.int64)
    return x, y


def write_torch_run(logdir: str, run: str = "torch", steps=(0, 1), n_inputs: int = 40, seed: int = 0,
                    rewrite: bool = False, **writer_kwargs) -> dict:
    """Logs `tiny_cnn` on sklearn digits with ``ChannelExplorerWriter.log_layers``.

    Args:
        logdir, run: where to write.
        steps: one ``log_layers`` call per step.
        n_inputs: inputs per step.
        seed: model seed.
        rewrite: log the last step in two halves with a ``flush()`` in between,
            so that step is written twice (first half, then everything).
        **writer_kwargs: passed to ``ChannelExplorerWriter`` (e.g. ``mark_rewrites``).

    Returns:
        ``{"model", "x", "y"}``: the model and the inputs logged at each step.
    """
    import warnings

    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    model = tiny_cnn(seed)
    x, y = digits_batch(n_inputs)
    writer = ChannelExplorerWriter(os.path.join(logdir, run), **writer_kwargs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "could not extract the model graph"
            for step in steps:
                names = [str(i) for i in range(10)]
                if rewrite and step == steps[-1]:
                    half = n_inputs // 2
                    writer.log_layers(model, x[:half], y[:half], step=step, class_names=names)
                    writer.flush()
                    writer.log_layers(model, x[half:], y[half:], step=step, class_names=names)
                else:
                    writer.log_layers(model, x, y, step=step, class_names=names)
    finally:
        writer.close()
    return {"model": model, "x": x, "y": y}
