"""Byte encodings shared by the writer and the reader.

Arrays travel as ``.npz`` bytes (numpy's own format, loaded with
``allow_pickle=False``), JSON travels as a scalar string tensor, and blob
sequences as rank-1 string tensors. HTTP responses are JSON text built by
`dumps` (numpy values converted, non-finite floats as null, pre-serialized
parts embedded as `RawJSON`). Only numpy and TensorBoard's protobuf classes
are imported here.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2

from tensorboard_plugin_channelexplorer.errors import CorruptDataError  # raised when stored bytes cannot be decoded


def encode_npz(arrays: dict[str, np.ndarray], compress: bool = False) -> bytes:
    """Encodes named arrays as ``.npz`` bytes.

    Args:
        arrays: name -> array. Object arrays are refused, so a reader never
            needs pickle.
        compress: use zip deflate (worth it for quantized maps).

    Returns:
        The ``.npz`` file content.

    Raises:
        ValueError: if an array has an object dtype.
    """
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise ValueError(f"array {name!r} has dtype object; store numbers or fixed-width strings")
    buf = io.BytesIO()
    if not compress:
        np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        return buf.getvalue()
    # The same .npz layout as np.savez_compressed, at zlib level 1: about 4x
    # faster than its default level 6 on quantized maps, for ~8% more bytes.
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def decode_npz(data: bytes) -> dict[str, np.ndarray]:
    """Decodes ``.npz`` bytes without ever unpickling.

    Args:
        data: bytes produced by `encode_npz`.

    Returns:
        name -> array.

    Raises:
        CorruptDataError: if the bytes are not a pickle-free ``.npz``: any
            failure while decoding them (a damaged zip directory, deflate
            stream or ``.npy`` header, an object array, ...) is reported as
            corrupt data, whatever the exception numpy or zipfile raised.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CorruptDataError(f"unreadable array blob: expected bytes, got {type(data).__name__}")
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            # np.load also accepts a bare .npy; a blob must be an archive.
            raise CorruptDataError(f"unreadable array blob: not an .npz archive ({type(loaded).__name__})")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except CorruptDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile/zlib/numpy raise many types for damaged bytes
        # Single-byte flips alone raise BadZipFile, zlib.error, NotImplementedError
        # (compression method), RuntimeError (encryption flag), EOFError and
        # ValueError or tokenize errors (.npy header); none of them is a bug here.
        raise CorruptDataError(f"unreadable array blob: {type(exc).__name__}: {exc}") from exc
    for name, value in arrays.items():
        # NpzFile hands back the raw bytes of a member whose .npy magic is damaged.
        if not isinstance(value, np.ndarray):
            raise CorruptDataError(f"unreadable array blob: member {name!r} is not an .npy array")
    return arrays


def string_tensor_proto(values: list[bytes] | bytes) -> tensor_pb2.TensorProto:
    """Builds a DT_STRING TensorProto: scalar for bytes, rank 1 for a list."""
    if isinstance(values, (bytes, bytearray)):
        return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[bytes(values)])
    values = [bytes(v) for v in values]
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(values))])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=shape, string_val=values)


def json_tensor_proto(obj) -> tensor_pb2.TensorProto:
    """Encodes a JSON-serializable object as a scalar string tensor."""
    return string_tensor_proto(json.dumps(obj, sort_keys=True, allow_nan=False).encode("utf-8"))


def decode_json_value(value) -> object:
    """Decodes the numpy value of a JSON string tensor read from a data provider.

    Args:
        value: a numpy scalar/array of bytes (as returned by ``read_tensors``)
            or raw bytes.

    Returns:
        The decoded JSON object.

    Raises:
        CorruptDataError: if it is not valid UTF-8 JSON.
    """
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else b""
    if isinstance(value, str):
        value = value.encode("utf-8")
    try:
        return json.loads(bytes(value).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the interpreter's recursion limit.
        raise CorruptDataError(f"unreadable JSON tensor: {type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------ JSON responses
def jsonable(obj):
    """Converts numpy values to JSON types; non-finite floats become None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            obj = obj.astype(np.float64)
            out = obj.tolist()
            return jsonable(out) if not np.isfinite(obj).all() else out
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return obj


def json_matrix(mat: np.ndarray, digits: int = 7) -> str:
    """JSON text of a 2-D float array, `digits` significant digits, non-finite -> null.

    Much smaller and faster than ``json.dumps(mat.tolist())`` for float32
    matrices (``0.1`` instead of ``0.10000000149011612``).
    """
    mat = np.asarray(mat)
    if mat.ndim != 2:
        raise ValueError(f"mat must be 2-D, got shape {mat.shape}")
    text = np.char.mod(f"%.{digits}g", np.where(np.isfinite(mat), mat, 0.0))
    if not np.isfinite(mat).all():
        text = np.where(np.isfinite(mat), text, "null")
    return "[" + ",".join("[" + ",".join(row) + "]" for row in text) + "]"


class RawJSON:
    """Pre-serialized JSON text, embedded as is by `dumps` (as a value or as the whole body).

    Attributes:
        text: the JSON text.
    """

    def __init__(self, text: str):
        self.text = text


def dumps(obj) -> str:
    """Compact JSON text of `obj` (see `jsonable`), with `RawJSON` values of a dict embedded verbatim."""
    if isinstance(obj, RawJSON):
        return obj.text
    if isinstance(obj, dict) and any(isinstance(v, RawJSON) for v in obj.values()):
        parts = [json.dumps(str(k)) + ":" + (v.text if isinstance(v, RawJSON) else dumps(v)) for k, v in obj.items()]
        return "{" + ",".join(parts) + "}"
    return json.dumps(jsonable(obj), separators=(",", ":"), allow_nan=False)
