"""Fault injection: damaged records in the logdir never make a route answer 5xx.

Every blob kind the writer stores (inputs npz, thumbnail PNGs, layer npz,
activation-map npz, manifest JSON, graph JSON) is damaged in four ways:

* ``flip``: 1-3 bytes XOR-ed with a random non-zero byte;
* ``truncate``: the record cut at a random length;
* ``zero``: a random range of 1-64 bytes zeroed;
* ``struct``: a well-formed record with the wrong content (a valid ``.npz``
  with missing keys, wrong dtypes or shapes, object arrays; a valid PNG of
  another mode, size or format; valid JSON with missing or ill-typed fields).

Each faulted record sits at its own step of a run named ``<kind>-<method>``
(step 0 of every run is pristine), next to intact records of every other
kind, and is requested through the real routes (TensorBoard's WSGI app and
the plugin, over a data provider on the event files). The oracle: no 5xx; a
4xx is JSON naming an error; every request at the pristine step answers 200;
every damaged record kind is seen as ``corrupt data`` at least once (so the
faults reach the decoders).

* The bulk (>= 10,000 faults) runs in-process over TensorBoard's Python
  loader (``--load_fast=false``: EventMultiplexer + MultiplexerDataProvider).
* A sample (the first steps of every run) is served by a real ``tensorboard``
  process with its default loader, the Rust data server.

Records that decode but disagree with each other (labels vs ``n_inputs``,
labels beyond ``class_names``, a manifest without ``n_inputs``/``channels``,
summaries whose N or C differs from the rest) are not decode failures: the
reader checks each record where it decodes it. They are part of the bulk, and
the cases that once answered 500 (`CONSISTENCY_CASES`) are tests of their own.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import json
import logging
import os
import resource
import time

import numpy as np
import pytest
from helpers import PREFIX, make_client, route_url
from tensorboard.compat.proto import event_pb2

import logdir_fixtures as fx
import tb_process
from tensorboard_plugin_channelexplorer import encoding, metadata

# A tiny but complete model: two conv layers with maps, one linear layer.
LAYERS = (
    ("conv1", "Conv2d", (4, 3, 3), True, True),
    ("conv2", "Conv2d", (6, 2, 2), True, False),
    ("fc", "Linear", (3,), False, True),
)
N_INPUTS, N_CLASSES = 9, 3
MAP_LAYERS = [name for name, _t, shape, maps, _f in LAYERS if maps and len(shape) == 3]

KINDS = ("inputs", "thumbnails", "layer", "maps", "manifest", "graph")
METHODS = ("flip", "truncate", "zero", "struct")
# One run per (primary kind, method). Each faulted step damages the primary
# record, plus companion records no route reads together with it (the graph
# is read by /graph only; /overlay reads maps and thumbnails, not inputs or
# layer summaries), so that the event files stay small.
RUN_KINDS = {"inputs": ("inputs", "graph", "maps"), "layer": ("layer", "graph", "thumbnails"),
             "manifest": ("manifest",)}
STEPS = {"inputs": 260, "layer": 110, "manifest": 300}
MIN_FAULTS = 10_000
RUST_STEPS = 8  # steps per run served by the real TensorBoard (Rust data server)


# ------------------------------------------------------------------ the base
def base_step():
    """The pristine data, manifest and graph every step starts from."""
    data = fx.synthetic_step_data(N_INPUTS, N_CLASSES, LAYERS, seed=0, thumb_size=4)
    return data, fx.manifest_for(data, LAYERS, n_classes=N_CLASSES), fx.graph_for(LAYERS)


def _inputs_arrays(data):
    return {k: data[k] for k in ("labels", "sample_ids", "predictions", "probabilities")}


def _savez(arrays: dict) -> bytes:
    """Plain ``np.savez`` (it pickles object arrays, which `encoding.encode_npz` refuses to write)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _obj(values) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


# ---------------------------------------------------- byte-level corruptions
def flip(rng, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(int(rng.integers(1, 4))):
        out[int(rng.integers(len(out)))] ^= int(rng.integers(1, 256))
    return bytes(out)


def truncate(rng, raw: bytes) -> bytes:
    return raw[: int(rng.integers(0, len(raw)))]


def zero(rng, raw: bytes) -> bytes:
    out = bytearray(raw)
    length = int(rng.integers(1, min(64, len(out)) + 1))
    start = int(rng.integers(0, len(out) - length + 1))
    out[start:start + length] = bytes(length)
    return bytes(out)


BYTE_FAULTS = {"flip": flip, "truncate": truncate, "zero": zero}


# --------------------------------------------- well-formed but wrong records
def _with(arrays, **changes):
    out = dict(arrays)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def inputs_variants(rng, a):
    """name -> arrays of a wrong inputs npz (`a`: the pristine arrays)."""
    n = len(a["labels"])
    lab, ids = a["labels"], a["sample_ids"]
    return {
        "missing labels": _with(a, labels=None),
        "missing sample_ids": _with(a, sample_ids=None),
        "missing predictions": _with(a, predictions=None, probabilities=None),
        "empty archive": {},
        "labels float": _with(a, labels=lab.astype(np.float32) + 0.5),
        "labels str": _with(a, labels=lab.astype(str)),
        "labels bool": _with(a, labels=lab.astype(bool)),
        "labels 2-D": _with(a, labels=lab.reshape(n, 1)),
        "labels scalar": _with(a, labels=np.int64(1)),
        "labels empty": _with(a, labels=lab[:0]),
        "labels fewer than n_inputs": _with(a, labels=lab[: int(rng.integers(1, n))]),
        "labels more than n_inputs": _with(a, labels=np.concatenate([lab, lab[: int(rng.integers(1, n))]])),
        "labels negative": _with(a, labels=np.where(np.arange(n) == 0, -int(rng.integers(1, 5)), lab)),
        "labels int64 max": _with(a, labels=np.where(np.arange(n) == 1, np.iinfo(np.int64).max, lab)),
        "labels uint64": _with(a, labels=lab.astype(np.uint64)),
        "sample_ids float": _with(a, sample_ids=ids.astype(np.float64) + 0.5),
        "sample_ids 2-D": _with(a, sample_ids=ids.reshape(n, 1)),
        "sample_ids short": _with(a, sample_ids=ids[: n - 1]),
        "sample_ids duplicated": _with(a, sample_ids=np.zeros(n, np.int64)),
        "sample_ids str": _with(a, sample_ids=np.array([f"id{i}" for i in range(n)])),
        "sample_ids bytes": _with(a, sample_ids=np.array([b"x%d" % i for i in range(n)])),
        "predictions beyond classes": _with(a, predictions=lab + int(rng.integers(N_CLASSES, 1000))),
        "predictions negative": _with(a, predictions=lab - N_CLASSES),
        "predictions float": _with(a, predictions=lab.astype(np.float32)),
        "predictions short": _with(a, predictions=lab[:-1]),
        "predictions 2-D": _with(a, predictions=lab.reshape(1, n)),
        "probabilities nan": _with(a, probabilities=np.full(n, np.nan, np.float32)),
        "probabilities inf": _with(a, probabilities=np.full(n, np.inf, np.float32)),
        "probabilities short": _with(a, probabilities=a["probabilities"][:-2]),
        "probabilities str": _with(a, probabilities=a["probabilities"].astype(str)),
        "object labels": _with(a, labels=_obj(lab.tolist())),
        "object extra key": _with(a, extra=_obj([1, 2])),
        "extra key": _with(a, extra=np.arange(3)),
        "complex labels": _with(a, labels=lab.astype(np.complex64)),
    }


def layer_variants(rng, a, channels: int):
    """name -> arrays of a wrong layer npz."""
    keys = [k for k in a if k != "filter_norm"]
    m = a[keys[0]]
    n = m.shape[0]
    fn_key = keys[int(rng.integers(len(keys)))]
    out = {
        "missing one summary": _with(a, **{fn_key.replace("/", "__"): None}),
        "missing every summary": {k: v for k, v in a.items() if k == "filter_norm"},
        "empty archive": {},
        "summaries int": {k: (v.astype(np.int32) if k != "filter_norm" else v) for k, v in a.items()},
        "summaries bool": _with(a, **{fn_key.replace("/", "__"): m > 1}),
        "summaries complex": _with(a, **{fn_key.replace("/", "__"): m.astype(np.complex64)}),
        "summaries str": _with(a, **{fn_key.replace("/", "__"): m.astype(str)}),
        "summaries float16": {k: v.astype(np.float16) for k, v in a.items()},
        "summaries float64": {k: v.astype(np.float64) for k, v in a.items()},
        "summaries 1-D": {k: (v.reshape(-1) if k != "filter_norm" else v) for k, v in a.items()},
        "summaries 3-D": {k: (v[..., None] if k != "filter_norm" else v) for k, v in a.items()},
        "summaries scalar": {k: (np.float32(1) if k != "filter_norm" else v) for k, v in a.items()},
        "summaries fewer rows": {k: (v[: n - 1] if k != "filter_norm" else v) for k, v in a.items()},
        "summaries more columns": {k: (np.c_[v, v[:, :1]] if k != "filter_norm" else v) for k, v in a.items()},
        "summaries fewer columns": {k: (v[:, :-1] if k != "filter_norm" else v) for k, v in a.items()},
        "summaries zero columns": {k: (v[:, :0] if k != "filter_norm" else v) for k, v in a.items()},
        "summaries nan": {k: (np.full_like(v, np.nan) if k != "filter_norm" else v) for k, v in a.items()},
        "summaries inf": {k: (np.where(v > 1, np.inf, -np.inf).astype(np.float32) if k != "filter_norm" else v)
                          for k, v in a.items()},
        "summaries constant": {k: (np.zeros_like(v) if k != "filter_norm" else v) for k, v in a.items()},
        "summaries huge": {k: (v * np.float32(3e37) if k != "filter_norm" else v) for k, v in a.items()},
        "filter_norm short": _with(a, filter_norm=np.ones(max(channels - 1, 0), np.float32)),
        "filter_norm 2-D": _with(a, filter_norm=np.ones((channels, 2), np.float32)),
        "filter_norm nan": _with(a, filter_norm=np.full(channels, np.nan, np.float32)),
        "filter_norm str": _with(a, filter_norm=np.array(["x"] * channels)),
        "filter_norm scalar": _with(a, filter_norm=np.float32(1)),
        "object summaries": {k: _obj(v.tolist()) for k, v in a.items()},
        "object filter_norm": _with(a, filter_norm=_obj([1.0] * channels)),
    }
    return out


def maps_variants(rng, a, n_inputs: int):
    """name -> arrays of a wrong activation-maps npz."""
    maps, idx = a["maps"], a["indices"]
    m, c, h, w = maps.shape
    return {
        "missing maps": _with(a, maps=None),
        "missing indices": _with(a, indices=None),
        "missing lo": _with(a, lo=None),
        "missing hi": _with(a, hi=None),
        "empty archive": {},
        "maps float": _with(a, maps=maps.astype(np.float32) * 7.5),
        "maps int64": _with(a, maps=maps.astype(np.int64) * 1000 - 500),
        "maps bool": _with(a, maps=maps > 100),
        "maps str": _with(a, maps=maps.astype(str)),
        "maps 3-D": _with(a, maps=maps[:, 0]),
        "maps 5-D": _with(a, maps=maps[..., None]),
        "maps fewer channels": _with(a, maps=maps[:, : c - 1]),
        "maps more channels": _with(a, maps=np.concatenate([maps, maps], axis=1)),
        "maps 1x1": _with(a, maps=maps[:, :, :1, :1]),
        "maps other size": _with(a, maps=np.repeat(maps, int(rng.integers(2, 5)), axis=2)),
        "maps no entries": _with(a, maps=maps[:0], indices=idx[:0]),
        "indices beyond N": _with(a, indices=idx + n_inputs),
        "indices negative": _with(a, indices=-idx - 1),
        "indices float": _with(a, indices=idx.astype(np.float32)),
        "indices 2-D": _with(a, indices=idx.reshape(m, 1)),
        "indices short": _with(a, indices=idx[:-1]),
        "indices duplicated": _with(a, indices=np.zeros_like(idx)),
        "indices str": _with(a, indices=idx.astype(str)),
        "lo/hi vectors": _with(a, lo=np.zeros(2, np.float32), hi=np.ones(2, np.float32)),
        "lo/hi str": _with(a, lo=np.array("low"), hi=np.array("high")),
        "lo/hi nan": _with(a, lo=np.float32(np.nan), hi=np.float32(np.nan)),
        "lo/hi inf": _with(a, lo=np.float32(-np.inf), hi=np.float32(np.inf)),
        "lo above hi": _with(a, lo=np.float32(5.0), hi=np.float32(-5.0)),
        "lo equals hi": _with(a, lo=np.float32(2.0), hi=np.float32(2.0)),
        "lo/hi empty": _with(a, lo=np.zeros(0, np.float32), hi=np.zeros(0, np.float32)),
        "object maps": _with(a, maps=_obj([1, 2, 3])),
        "object lo": _with(a, lo=_obj([0.0])),
    }


def _image(mode: str, size, fmt: str = "PNG", **save) -> bytes:
    from PIL import Image

    img = Image.new(mode, size)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk (valid CRC) claiming a huge image, and no data."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + end


def thumbnail_variants(rng):
    """name -> bytes (or a function making them) of a wrong thumbnail (valid images that are not the expected RGB PNG, and non-images)."""
    return {
        "png L": lambda: _image("L", (4, 4)),
        "png LA": lambda: _image("LA", (4, 4)),
        "png RGBA": lambda: _image("RGBA", (4, 4)),
        "png P": lambda: _image("P", (4, 4)),
        "png 1-bit": lambda: _image("1", (4, 4)),
        "png I;16": lambda: _image("I;16", (4, 4)),
        "png 1x1": lambda: _image("RGB", (1, 1)),
        "png wide": lambda: _image("RGB", (int(rng.integers(50, 300)), 1)),
        "png tall": lambda: _image("RGB", (1, int(rng.integers(50, 300)))),
        "png large": lambda: _image("RGB", (256, 256)),
        "jpeg": lambda: _image("RGB", (4, 4), "JPEG"),
        "gif": lambda: _image("P", (4, 4), "GIF"),
        "bmp": lambda: _image("RGB", (4, 4), "BMP"),
        "tiff float": lambda: _image("F", (4, 4), "TIFF"),
        "ico": lambda: _image("RGBA", (16, 16), "ICO"),
        "png header claiming 10^5 x 10^5": lambda: _png_header_claiming(100_000, 100_000),
        "png header claiming 0 x 0": lambda: _png_header_claiming(0, 0),
        "empty": b"",
        "text": b"not an image at all",
        "npz": lambda: encoding.encode_npz({"x": np.arange(3)}),
    }


def _json_edited(obj, fn) -> bytes:
    """JSON bytes of a deep copy of `obj` after ``fn(copy)``."""
    out = copy.deepcopy(obj)
    fn(out)
    return json.dumps(out).encode()


def _item_edited(rng, obj, items: str, key: str, value) -> bytes:
    """JSON bytes of `obj` with ``key`` of a random entry of list ``obj[items]`` set to `value`."""
    def fn(o):
        o[items][int(rng.integers(len(o[items])))][key] = value
    return _json_edited(obj, fn)


def _not_json_variants(name: str) -> dict:
    """Records that are not a JSON object: other JSON values, too deep, not UTF-8, empty."""
    return {
        "not an object (list)": b"[1, 2, 3]",
        "not an object (string)": json.dumps(name).encode(),
        "not an object (null)": b"null",
        "not an object (number)": b"9",
        "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
        "invalid utf-8": b'{"' + name.encode() + b'": "\xff\xfe"}',
        "empty": b"",
    }


def manifest_variants(rng, man):
    """name -> JSON bytes of a wrong manifest."""
    def edit(fn):
        return _json_edited(man, fn)

    def layer_edit(key, value):
        return _item_edited(rng, man, "layers", key, value)

    def drop_layer_key(key):
        def fn(m):
            m["layers"][int(rng.integers(len(m["layers"])))].pop(key, None)
        return edit(fn)

    n = man["n_inputs"]
    return {
        **_not_json_variants("manifest"),
        "missing layers": edit(lambda m: m.pop("layers")),
        "missing class_names": edit(lambda m: m.pop("class_names")),
        "layers not a list": edit(lambda m: m.update(layers={"name": "conv1"})),
        "layers empty": edit(lambda m: m.update(layers=[])),
        "layer entry not an object": edit(lambda m: m["layers"].insert(0, "conv1")),
        "layer without name": drop_layer_key("name"),
        "layer name not a string": layer_edit("name", 7),
        "layer name unknown": layer_edit("name", "nope"),
        "layer names duplicated": edit(lambda m: m["layers"].append(copy.deepcopy(m["layers"][0]))),
        "n_inputs zero": edit(lambda m: m.update(n_inputs=0)),
        "n_inputs negative": edit(lambda m: m.update(n_inputs=-int(rng.integers(1, 100)))),
        "n_inputs huge": edit(lambda m: m.update(n_inputs=10**30)),
        "n_inputs str": edit(lambda m: m.update(n_inputs=str(n))),
        "n_inputs float": edit(lambda m: m.update(n_inputs=n + 0.5)),
        "n_inputs null": edit(lambda m: m.update(n_inputs=None)),
        "n_inputs bool": edit(lambda m: m.update(n_inputs=True)),
        "class_names str": edit(lambda m: m.update(class_names="abc")),
        "class_names null": edit(lambda m: m.update(class_names=None)),
        "class_names ints": edit(lambda m: m.update(class_names=list(range(N_CLASSES)))),
        "class_names nested": edit(lambda m: m.update(class_names=[["a"], {"b": 1}, None])),
        "channels zero": layer_edit("channels", 0),
        "channels negative": layer_edit("channels", -3),
        "channels larger": layer_edit("channels", 1000),
        "channels str": layer_edit("channels", "4"),
        "channels null": layer_edit("channels", None),
        "channels float": layer_edit("channels", 2.5),
        "shape empty": layer_edit("shape", []),
        "shape null": layer_edit("shape", None),
        "shape str": layer_edit("shape", "4x3x3"),
        "shape negative": layer_edit("shape", [-1, -2, -3]),
        "stages empty": layer_edit("stages", []),
        "stages post only": layer_edit("stages", ["post"]),
        "stages str": layer_edit("stages", "pre"),
        "stages null": layer_edit("stages", None),
        "functions empty": layer_edit("functions", []),
        "functions unknown": layer_edit("functions", ["nope"]),
        "functions null": layer_edit("functions", None),
        "has_maps on a linear layer": edit(lambda m: m["layers"][2].update(has_maps=True)),
        "has_maps str": layer_edit("has_maps", "yes"),
        "has_filter_norm wrong": layer_edit("has_filter_norm", "no"),
        "has_thumbnails false": edit(lambda m: m.update(has_thumbnails=False)),
        "has_predictions str": edit(lambda m: m.update(has_predictions="x")),
        "steps_written negative": edit(lambda m: m.update(steps_written=-5)),
        "steps_written str": edit(lambda m: m.update(steps_written="3")),
        "steps_written huge": edit(lambda m: m.update(steps_written=10**40)),
        "version str": edit(lambda m: m.update(version="1")),
        "nan and infinity literals": json.dumps(dict(man, n_inputs=float("nan"), steps_written=float("inf"))).encode(),
        "extra keys": edit(lambda m: m.update(extra={"a": [1, 2]})),
    }


def graph_variants(rng, graph):
    """name -> JSON bytes of a wrong graph."""
    def edit(fn):
        return _json_edited(graph, fn)

    def node_edit(key, value):
        return _item_edited(rng, graph, "nodes", key, value)

    return {
        **_not_json_variants("graph"),
        "missing nodes": edit(lambda g: g.pop("nodes")),
        "missing edges": edit(lambda g: g.pop("edges")),
        "nodes not a list": edit(lambda g: g.update(nodes={"id": "x"})),
        "node not an object": edit(lambda g: g["nodes"].append(3)),
        "node without id": edit(lambda g: g["nodes"][1].pop("id")),
        "node id not a string": node_edit("id", 5),
        "ids duplicated": edit(lambda g: g["nodes"].append(copy.deepcopy(g["nodes"][1]))),
        "edge to an unknown node": edit(lambda g: g["edges"].append({"source": "input", "target": "ghost"})),
        "edge not an object": edit(lambda g: g["edges"].append(["input", "conv1"])),
        "edge without target": edit(lambda g: g["edges"][0].pop("target")),
        "self loop": edit(lambda g: g["edges"].append({"source": "conv1", "target": "conv1"})),
        "cycle": edit(lambda g: g["edges"].append({"source": "fc", "target": "input"})),
        "shape str": node_edit("shape", "big"),
        "shape null": node_edit("shape", None),
        "params str": node_edit("params", "many"),
        "params negative": node_edit("params", -1),
        "parent unknown": node_edit("parent", "ghost"),
        "parent is itself": edit(lambda g: g["nodes"][1].update(parent=g["nodes"][1]["id"])),
        "source unknown": edit(lambda g: g.update(source=7)),
    }


# ------------------------------------------------------- the faulted logdir
class Fault:
    """One damaged record: its kind, method, variant name, run, step and target (layer or index)."""

    __slots__ = ("kind", "method", "variant", "run", "step", "target")

    def __init__(self, kind, method, variant, run, step, target=None):
        self.kind, self.method, self.variant = kind, method, variant
        self.run, self.step, self.target = run, step, target


# Records that decode but disagree with each other or hold values the views
# refuse: the reader must check them where it decodes them (404 corrupt data,
# never 500). Each is also a test of its own (`test_inconsistent_record`):
# those that answered 500 before the reader checked records, and the checks
# the reader promises (labels vs n_inputs, required n_inputs and channels).
_LABELS = "labels checked against class_names (negative or beyond it)"
_LOHI = "a maps blob's lo/hi checked to be finite scalars with lo <= hi"
_FINITE = "summaries checked to be finite"
_COLUMNS = "a summary matrix's C checked against the manifest's channels and filter_norm"
_FNORM = "filter_norm checked to be finite float[C]"
_JSON = "JSON nested deeper than the recursion limit is corrupt data"
CONSISTENCY_CASES: dict[tuple[str, str], str] = {
    **{(kind, "nested 100000 deep"): _JSON for kind in ("manifest", "graph")},
    **{("inputs", v): _LABELS for v in ("labels negative", "labels int64 max")},
    **{("inputs", v): "labels checked against n_inputs" for v in ("labels fewer than n_inputs",
                                                                 "labels more than n_inputs")},
    ("manifest", "missing class_names"): _LABELS,
    ("manifest", "n_inputs null"): "a manifest without n_inputs is corrupt data",
    ("manifest", "channels null"): "a layer without channels is corrupt data",
    **{("maps", v): _LOHI for v in ("lo/hi vectors", "lo/hi str", "lo/hi empty", "lo/hi nan", "lo/hi inf",
                                    "lo above hi")},
    **{("layer", v): _FINITE for v in ("summaries nan", "summaries inf")},
    ("layer", "summaries huge"): "summaries near float32 max do not overflow /dataset",
    **{("layer", v): _COLUMNS for v in ("summaries zero columns", "summaries fewer columns",
                                        "summaries more columns")},
    **{("layer", v): _FNORM for v in ("filter_norm 2-D", "filter_norm short", "filter_norm scalar",
                                      "filter_norm str", "filter_norm nan")},
}


def _base_blobs(data, man, graph):
    """The pristine bytes of every record, by (kind, target)."""
    blobs = {("inputs", None): encoding.encode_npz(_inputs_arrays(data)),
             ("manifest", None): json.dumps(man).encode(), ("graph", None): json.dumps(graph).encode()}
    for name, arrays in data["layers"].items():
        blobs[("layer", name)] = encoding.encode_npz(arrays)
    for name, arrays in data["maps"].items():
        blobs[("maps", name)] = encoding.encode_npz(arrays, compress=True)
    for i, png in enumerate(data["thumbnails"]):
        blobs[("thumbnails", i)] = png
    return blobs


def _channels(layer: str) -> int:
    return next(shape[0] for name, _t, shape, _m, _f in LAYERS if name == layer)


# kind -> (rng, target, data, manifest, graph) -> name -> wrong record (arrays, bytes or a function making bytes)
_VARIANTS = {
    "inputs": lambda rng, target, data, man, graph: inputs_variants(rng, _inputs_arrays(data)),
    "layer": lambda rng, target, data, man, graph: layer_variants(rng, data["layers"][target], _channels(target)),
    "maps": lambda rng, target, data, man, graph: maps_variants(rng, data["maps"][target], N_INPUTS),
    "thumbnails": lambda rng, target, data, man, graph: thumbnail_variants(rng),
    "manifest": lambda rng, target, data, man, graph: manifest_variants(rng, man),
    "graph": lambda rng, target, data, man, graph: graph_variants(rng, graph),
}


def _struct_bytes(rng, kind, target, data, man, graph, counter: int, name: str | None = None):
    """(variant name, bytes) of the `counter`-th well-formed-but-wrong record of `kind` (or variant `name`)."""
    variants = _VARIANTS[kind](rng, target, data, man, graph)
    if name is None:
        names = list(variants)
        name = names[counter % len(names)]
    value = variants[name]
    if callable(value):
        value = value()
    if isinstance(value, dict):
        value = _savez(value) if any(np.asarray(v).dtype == object for v in value.values()) else \
            encoding.encode_npz(value, compress=kind == "maps")
    return name, value


def _tag_of(kind, target):
    return {"inputs": metadata.INPUTS_TAG, "thumbnails": metadata.THUMBNAILS_TAG, "manifest": metadata.MANIFEST_TAG,
            "graph": metadata.GRAPH_TAG}.get(kind) or (
        metadata.layer_tag(target) if kind == "layer" else metadata.maps_tag(target))


def _targets(kind):
    if kind == "layer":
        return [name for name, *_ in LAYERS]
    if kind == "maps":
        return MAP_LAYERS
    if kind == "thumbnails":
        return list(range(N_INPUTS))
    return [None]


def run_names() -> list[str]:
    """Every run of the faulted logdir."""
    return [f"{primary}-{method}" for primary in RUN_KINDS for method in METHODS]


def write_faulted_logdir(root: str, steps_per_run: dict, seed: int = 0) -> list[Fault]:
    """Writes one run per (primary kind, method) under `root`: step 0 pristine, steps 1.. faulted.

    Args:
        root: the logdir.
        steps_per_run: primary kind -> number of faulted steps.
        seed: random seed of the faults.

    Returns:
        Every fault written, in order.
    """
    data, man, graph = base_step()
    base = fx.step_event(0, data, man, graph, wall_time=1000.0)
    blobs = _base_blobs(data, man, graph)
    faults = []
    for primary, kinds in RUN_KINDS.items():
        for method in METHODS:
            run = f"{primary}-{method}"
            rng = np.random.default_rng([seed, list(RUN_KINDS).index(primary), METHODS.index(method)])
            events = [base]
            counter = collections.Counter()  # per kind: which struct variant comes next
            for step in range(1, steps_per_run[primary] + 1):
                ev = event_pb2.Event()
                ev.CopyFrom(base)
                ev.step, ev.wall_time = step, 1000.0 + step
                values = {v.tag: v for v in ev.summary.value}
                for kind in kinds:
                    for target in _targets(kind):
                        if method == "struct":
                            variant, raw = _struct_bytes(rng, kind, target, data, man, graph, counter[kind])
                        else:
                            variant, raw = method, BYTE_FAULTS[method](rng, blobs[(kind, target)])
                        counter[kind] += 1
                        tensor = values[_tag_of(kind, target)].tensor
                        tensor.string_val[target if kind == "thumbnails" else 0] = raw
                        faults.append(Fault(kind, method, variant, run, step, target))
                events.append(ev)
            fx.write_events(os.path.join(root, run), events)
    return faults


# ------------------------------------------------------------- the requests
LAYER_ROUTES = ("/heatmap", "/jaccard", "/jaccard_cell", "/scatter", "/hierarchy", "/dataset", "/trajectory", "/diff")
ANY_ROUTES = ("/layers", "/inputs", "/summaries", "/thumbnail", "/overlay", "/graph") + LAYER_ROUTES


def _params(route: str, run: str, step: int, layer: str, index: int = 0, channel: int = 1) -> dict:
    """Query parameters of a request of `route` that reads (run, step, layer)."""
    common = dict(run=run, step=step)
    if route in ("/layers", "/inputs", "/graph"):
        return common
    if route == "/thumbnail":
        return dict(common, index=index)
    if route == "/overlay":
        return dict(common, layer=layer, index=index, channel=channel)
    if route == "/dataset":
        return dict(common, k=2)
    if route == "/scatter":
        return dict(common, layer=layer, method="pca", k=2)
    if route == "/jaccard_cell":
        return dict(common, layer=layer, i=index, j=(index + 1) % N_INPUTS)
    if route == "/trajectory":
        return dict(run=run, layer=layer, method="pca", steps=f"0,{step}" if step else "0")
    if route == "/diff":
        return dict(common, layer=layer, run_b=run, step_b=0)
    return dict(common, layer=layer)


def requests_for(fault: Fault, j: int) -> list[tuple[str, dict]]:
    """The requests that read the record of `fault` (`j` rotates the route that goes with the direct one)."""
    run, step, target = fault.run, fault.step, fault.target
    layer = MAP_LAYERS[j % len(MAP_LAYERS)]
    if fault.kind == "graph":
        return [("/graph", dict(run=run, step=step))]
    if fault.kind == "manifest":
        route = ANY_ROUTES[j % len(ANY_ROUTES)]
        return [("/layers", dict(run=run, step=step)), (route, _params(route, run, step, layer, index=2 * (j % 4)))]
    if fault.kind == "inputs":
        route = LAYER_ROUTES[j % len(LAYER_ROUTES)]
        return [("/inputs", dict(run=run, step=step)), (route, _params(route, run, step, layer))]
    if fault.kind == "layer":
        route = LAYER_ROUTES[j % len(LAYER_ROUTES)]
        return [("/summaries", dict(run=run, step=step, layer=target, fn=metadata.SUMMARY_FUNCTIONS[j % 4])),
                (route, _params(route, run, step, target))]
    if fault.kind == "maps":
        index = 2 * (j % 5)  # maps exist for even inputs
        return [("/overlay", _params("/overlay", run, step, target, index=index, channel=j % 4))]
    # thumbnails: the raw PNG, and the overlay that decodes it (maps exist for even inputs)
    out = [("/thumbnail", dict(run=run, step=step, index=target))]
    if target % 2 == 0:
        out.append(("/overlay", _params("/overlay", run, step, layer, index=target)))
    return out


def pristine_requests(run: str) -> list[tuple[str, dict]]:
    """Every route on the pristine step 0 of `run`: each must answer 200."""
    out = [(route, _params(route, run, 0, layer, index=2)) for route in ANY_ROUTES for layer in MAP_LAYERS[:1]]
    return out + [("/summaries", dict(run=run, step=0, layer="fc")), ("/heatmap", dict(run=run, step=0, layer="fc"))]


class Tally:
    """Statuses seen, 5xx details, and corrupt-data answers per kind."""

    def __init__(self):
        self.status = collections.Counter()
        self.by_kind = collections.defaultdict(collections.Counter)
        self.corrupt = collections.Counter()
        self.errors5xx: list[str] = []
        self.bad: list[str] = []
        self.requests = 0

    def check(self, fault: Fault | None, route: str, params: dict, status: int, ctype: str, body: bytes):
        self.requests += 1
        self.status[status] += 1
        where = f"{route} {params}" + ("" if fault is None else f" [{fault.kind}/{fault.method}/{fault.variant}]")
        if fault is not None:
            self.by_kind[fault.kind][status // 100 * 100] += 1
        if status >= 500:
            self.errors5xx.append(f"{where} -> {status}: {body[:300].decode('utf-8', 'replace')}")
            return
        if fault is None and status != 200:
            self.bad.append(f"pristine {where} -> {status}: {body[:300]!r}")
            return
        if 400 <= status < 500:
            try:
                err = json.loads(body)["error"]
            except (ValueError, KeyError, TypeError):
                self.bad.append(f"{where} -> {status} without a JSON error: {body[:200]!r}")
                return
            if not (isinstance(err, str) and err):
                self.bad.append(f"{where} -> {status}: empty error")
            elif fault is not None and "corrupt data in the logdir" in err:
                self.corrupt[fault.kind] += 1

    def assert_clean(self, kinds=KINDS):
        assert not self.errors5xx, f"{len(self.errors5xx)} x 5xx, first ones:\n" + "\n".join(self.errors5xx[:20])
        assert not self.bad, "\n".join(self.bad[:20])
        missing = [k for k in kinds if not self.corrupt[k] and k != "graph"]
        # Graph JSON is served as stored; other kinds must be reported as corrupt at least once.
        assert not missing, f"no fault of {missing} was ever answered as corrupt data: the faults do not reach them"


def _summary(faults: list[Fault], tally: Tally, loader: str, seconds: float, cpu: float | None = None) -> str:
    by = collections.Counter((f.kind, f.method) for f in faults)
    lines = [f"fault injection ({loader} loader): {len(faults)} faults, {tally.requests} requests, "
             f"{len(tally.errors5xx)} x 5xx, {seconds:.1f} s" + ("" if cpu is None else f", {cpu:.1f} s CPU in this process")]
    lines.append("kind        " + "".join(f"{m:>10}" for m in METHODS) + "     total   2xx/4xx/5xx      corrupt")
    for kind in KINDS:
        row = [by[(kind, m)] for m in METHODS]
        st = tally.by_kind[kind]
        lines.append(f"{kind:<12}" + "".join(f"{v:>10}" for v in row) + f"{sum(row):>10}   "
                     f"{st[200]}/{st[400]}/{st[500]}".rjust(14) + f"{tally.corrupt[kind]:>12}")
    lines.append(f"statuses: {dict(sorted(tally.status.items()))}")
    return "\n".join(lines)


# --------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def faulted(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("faulted"))
    return root, write_faulted_logdir(root, STEPS)


@contextlib.contextmanager
def quiet_corrupt_warnings():
    """Silences the plugin's one-line warning per distinct corrupt record (thousands here); errors still log."""
    log = logging.getLogger("tensorboard_plugin_channelexplorer")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve_faults(fetch, faults: list[Fault], every_request: bool = True) -> None:
    """Requests the pristine step of every run, then each fault, then the run-level routes.

    Args:
        fetch: ``fetch(fault or None, route, params)`` performs and checks one request.
        faults: from `write_faulted_logdir`.
        every_request: all of `requests_for` each fault; else the first (the
            direct read of the record), and all of them for every third fault.
    """
    for run in run_names():
        for route, params in pristine_requests(run):
            fetch(None, route, params)
    for j, fault in enumerate(faults):
        requests = requests_for(fault, j)
        for route, params in requests if every_request or j % 3 == 0 else requests[:1]:
            fetch(fault, route, params)
    for run in run_names():  # the run-level routes, over every faulted step at once
        primary, method = run.split("-")
        fetch(Fault(primary, method, "run", run, None), "/timeline", dict(run=run))
        fetch(Fault(primary, method, "run", run, None), "/trajectory", dict(run=run, layer=MAP_LAYERS[0]))
    fetch(Fault("manifest", "", "run", None, None), "/runs", {})


def test_fault_injection_python_loader(faulted):
    """>= 10,000 faults over every blob kind, each requested through the routes: 0 x 5xx."""
    from conftest import python_provider

    root, faults = faulted
    assert len(faults) >= MIN_FAULTS
    start, cpu = time.monotonic(), cpu_seconds()
    _, _, client = make_client(python_provider(root))
    tally = Tally()

    def fetch(fault, route, params):
        resp = client.get(route_url(route, **params))
        tally.check(fault, route, params, resp.status_code, resp.headers.get("Content-Type", ""), resp.get_data())

    with quiet_corrupt_warnings():
        serve_faults(fetch, faults)
    print("\n" + _summary(faults, tally, "Python", time.monotonic() - start, cpu_seconds() - cpu))
    tally.assert_clean()


def test_fault_injection_rust_data_server(tmp_path):
    """A sample (the first steps of every run) through a real ``tensorboard`` on its default (Rust) loader."""
    from tensorboard.data import server_ingester

    try:
        server_ingester.get_server_binary()
    except server_ingester.NoDataServerError as exc:  # pragma: no cover - depends on the platform
        pytest.skip(f"no Rust data server: {exc}")
    root = str(tmp_path / "logdir")
    faults = write_faulted_logdir(root, {k: RUST_STEPS for k in RUN_KINDS})
    start = time.monotonic()
    proc, base = tb_process.start_tensorboard(root, "--reload_interval", "0", log_path=str(tmp_path / "tb.log"))
    tally = Tally()
    try:
        runs = run_names()
        # The data server loads in the background: wait until every run lists every step.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, _, body = tb_process.http_get(base + PREFIX + "/runs")
            listed = {r["run"]: r["steps"] for r in json.loads(body)["runs"]} if status == 200 else {}
            if all(len(listed.get(r, [])) == RUST_STEPS + 1 for r in runs):
                break
            time.sleep(0.5)
        assert all(len(listed.get(r, [])) == RUST_STEPS + 1 for r in runs), listed

        def fetch(fault, route, params):
            status, ctype, body = tb_process.http_get(base + route_url(route, **params))
            tally.check(fault, route, params, status, ctype, body)

        serve_faults(fetch, faults, every_request=False)
    finally:
        tb_process.stop(proc)
    print("\n" + _summary(faults, tally, "Rust data server", time.monotonic() - start))
    tally.assert_clean()


def write_variant_run(root: str, kind: str, variant: str, seed: int = 0) -> list[Fault]:
    """One run ``gap``: step 0 pristine, step 1 with every record of `kind` replaced by struct `variant`."""
    data, man, graph = base_step()
    base = fx.step_event(0, data, man, graph, wall_time=1000.0)
    ev = event_pb2.Event()
    ev.CopyFrom(base)
    ev.step, ev.wall_time = 1, 1001.0
    values = {v.tag: v for v in ev.summary.value}
    rng = np.random.default_rng(seed)
    faults = []
    for target in _targets(kind):
        _, raw = _struct_bytes(rng, kind, target, data, man, graph, 0, name=variant)
        values[_tag_of(kind, target)].tensor.string_val[target if kind == "thumbnails" else 0] = raw
        faults.append(Fault(kind, "struct", variant, "gap", 1, target))
    fx.write_events(os.path.join(root, "gap"), [base, ev])
    return faults


@pytest.mark.parametrize(("kind", "variant"), sorted(CONSISTENCY_CASES), ids=lambda v: str(v))
def test_inconsistent_record(tmp_path, kind, variant):
    """A record that decodes but is inconsistent answers 400/404 on every route that reads it, never 5xx."""
    from conftest import python_provider

    faults = write_variant_run(str(tmp_path), kind, variant)
    _, _, client = make_client(python_provider(str(tmp_path)))
    tally = Tally()
    for fault in faults:
        for j in range(len(ANY_ROUTES)):
            for route, params in requests_for(fault, j):
                resp = client.get(route_url(route, **params))
                tally.check(fault, route, params, resp.status_code, resp.headers.get("Content-Type", ""),
                            resp.get_data())
    for route in ("/timeline", "/trajectory", "/runs"):
        params = {"/timeline": dict(run="gap"), "/trajectory": dict(run="gap", layer=MAP_LAYERS[0]), "/runs": {}}[route]
        resp = client.get(route_url(route, **params))
        tally.check(faults[0], route, params, resp.status_code, "", resp.get_data())
    assert not tally.errors5xx, "\n".join(tally.errors5xx[:5])
