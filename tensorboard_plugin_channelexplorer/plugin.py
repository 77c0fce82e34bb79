"""The ChannelExplorer TensorBoard plugin: thin HTTP routes over `Reader` and `views`.

TensorBoard imports this module through the ``tensorboard_plugins`` entry
point; an ImportError here would take all of TensorBoard down, so module-level
imports are limited to TensorBoard, numpy, werkzeug and this package's light
modules. The views (scikit-learn, scipy, umap) and Pillow are imported lazily
inside the routes.

Every route parses and validates its query parameters, reads through the
`Reader` and computes through the shared LRU cache. Errors are JSON
``{"error": message, "parameter": name}``: 400 for bad, missing or unknown
parameters (including unknown runs and layers), 404 for valid requests whose
data is absent. The routes are documented in ``http_api.md``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import mimetypes
import os
import re
import threading
import time

import numpy as np
from tensorboard import context as tb_context
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers
from werkzeug.security import safe_join

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.encoding import CorruptDataError
from tensorboard_plugin_channelexplorer.reader import DataNotFoundError, Reader, ReaderError

logger = logging.getLogger(__name__)

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

# Set to "1" to skip the UMAP warm-up thread (tests, short-lived processes).
NO_WARMUP_ENV = "CHANNELEXPLORER_NO_WARMUP"
# Native (BLAS/OpenMP) threads used by view computations; "0" leaves them alone.
# Default 1: the views work on small matrices, and multi-threaded BLAS on a
# machine busy with training (or serving concurrent requests) can be 100x
# slower from oversubscription (measured: a 200x2048 SVD takes 6 s instead of
# 40 ms with 2 threads on 2 busy cores).
NATIVE_THREADS_ENV = "CHANNELEXPLORER_NATIVE_THREADS"

_IS_ACTIVE_TTL_S = 10.0
# Seconds a data provider listing is reused across requests (see Reader).
LIST_TTL_S = 1.0

SCATTER_METHODS = ("pca", "mds", "tsne", "umap")
HEATMAP_ORDERS = ("pairwise", "variance", "filter_norm")
TRAJECTORY_ALIGNS = ("procrustes", "none")
# Frames one /trajectory request embeds at most (t-SNE costs ~1 s per frame of 200 inputs).
MAX_TRAJECTORY_STEPS = 50
# Runs one /timeline request compares at most.
MAX_TIMELINE_RUNS = 32
# Most inputs N of an N x N Jaccard computation (/jaccard, /hierarchy, /dataset;
# /diff should use it too): past it a request answers 400 instead of building
# and serializing a huge matrix (4096^2 cells is ~100 MB of JSON already).
MAX_MATRIX_INPUTS = 4096


def check_matrix_inputs(n: int, parameter: str = "run") -> None:
    """Raises ParamError (400) when an N x N matrix over `n` inputs would exceed `MAX_MATRIX_INPUTS`."""
    if n > MAX_MATRIX_INPUTS:
        raise ParamError(
            f"this step has N={n} inputs; N x N similarity views are limited to N <= {MAX_MATRIX_INPUTS} "
            "(log fewer probe inputs)", parameter)

_CONTENT_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain",
    ".wasm": "application/wasm",
}

# View arguments whose HTTP name differs, for errors raised inside views.
_VIEW_PARAM_ALIASES = {"random_state": "seed"}


class ParamError(ReaderError):
    """A bad query parameter (HTTP 400)."""


# ---------------------------------------------------------------- param helpers
_MISSING = object()


def _raw(args, name, default=_MISSING):
    value = args.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ParamError(f"parameter {name!r} is required", name)
        return default
    return value


def param_str(args, name, default=_MISSING):
    """A string parameter; required unless `default` is given."""
    return _raw(args, name, default)


def param_int(args, name, default=_MISSING, lo=None, hi=None):
    """An integer parameter within [lo, hi] (None means unbounded)."""
    value = _raw(args, name, default)
    if value is None or isinstance(value, int):
        parsed = value
    else:
        try:
            parsed = int(str(value).strip())
        except ValueError:
            raise ParamError(f"parameter {name!r} must be an integer, got {value!r}", name) from None
    if parsed is not None:
        if lo is not None and parsed < lo:
            raise ParamError(f"parameter {name!r} must be >= {lo}, got {parsed}", name)
        if hi is not None and parsed > hi:
            raise ParamError(f"parameter {name!r} must be <= {hi}, got {parsed}", name)
    return parsed


def param_float(args, name, default=_MISSING):
    """A finite float parameter."""
    value = _raw(args, name, default)
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise ParamError(f"parameter {name!r} must be a number, got {value!r}", name) from None
    if not math.isfinite(parsed):
        raise ParamError(f"parameter {name!r} must be finite, got {value!r}", name)
    return parsed


def param_eta(args, default=0.2):
    """The Jaccard threshold ``eta`` in (0, 1]."""
    eta = param_float(args, "eta", default)
    if not 0.0 < eta <= 1.0:
        raise ParamError(f"parameter 'eta' must be in (0, 1], got {eta:g}", "eta")
    return eta


def param_bool(args, name, default=False):
    """A boolean parameter: 1/0, true/false, yes/no."""
    value = _raw(args, name, None)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ParamError(f"parameter {name!r} must be 0 or 1, got {value!r}", name)


def param_choice(args, name, choices, default=_MISSING):
    """A parameter that must be one of `choices`."""
    value = _raw(args, name, default)
    if value not in choices:
        raise ParamError(f"unknown {name} {value!r}; expected one of {list(choices)}", name)
    return value


def _param_from_message(message: str, candidates) -> str | None:
    """The candidate parameter named first in `message`, if any."""
    best = None
    for name in candidates:
        m = re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", message)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    if best is None:
        return None
    return _VIEW_PARAM_ALIASES.get(best[1], best[1])


# ------------------------------------------------------------------ JSON output
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


class _RawJSON:
    """Pre-serialized JSON embedded in a response object."""

    def __init__(self, text: str):
        self.text = text


def _dumps(obj) -> str:
    if isinstance(obj, dict) and any(isinstance(v, _RawJSON) for v in obj.values()):
        parts = [json.dumps(str(k)) + ":" + (v.text if isinstance(v, _RawJSON) else _dumps(v)) for k, v in obj.items()]
        return "{" + ",".join(parts) + "}"
    return json.dumps(jsonable(obj), separators=(",", ":"), allow_nan=False)


def _json_response(request, obj, code=200):
    return http_util.Respond(request, _dumps(obj), "application/json", code=code)


def _error_response(request, message: str, parameter: str | None, code: int):
    return _json_response(request, {"error": message, "parameter": parameter}, code=code)


# ----------------------------------------------------------------------- plugin
def _json_route(params=()):
    """Wraps a ``(self, reader, args) -> body`` handler into a WSGI route.

    `body` is a JSON-able object, or ``(bytes, mimetype)``. Known errors map to
    JSON 400/404 (corrupt records included); anything else is a logged JSON 500 (a last resort: bad
    input is validated before it can get there).

    Args:
        params: the query parameters of the route, used to name the parameter
            in a ValueError raised by a view.
    """

    def decorator(handler):
        @functools.wraps(handler)
        @wrappers.Request.application
        def route(self, request):
            try:
                reader = self._reader(request)
                body = handler(self, reader, request.args)
            except (ReaderError, DataNotFoundError) as exc:
                code = 400 if isinstance(exc, ReaderError) else 404
                return _error_response(request, str(exc), exc.parameter, code)
            except CorruptDataError as exc:
                # Once per distinct problem: the frontend re-requests, the log should not flood.
                key = ("corrupt", str(exc))
                if key not in self._warned:
                    self._warned.add(key)
                    logger.warning("ChannelExplorer: %s", exc)
                # 404: the data exists on disk but cannot be served; the
                # request itself was fine, and other layers/steps still are.
                return _error_response(request, f"corrupt data in the logdir: {exc}", None, 404)
            except ValueError as exc:
                # Views validate their own parameters (scikit-learn style) and
                # name them; a ValueError naming none is a bug, not bad input.
                parameter = _param_from_message(str(exc), params)
                if parameter is not None:
                    return _error_response(request, str(exc), parameter, 400)
                logger.exception("ChannelExplorer: unexpected error serving %s", request.full_path)
                return _error_response(request, f"internal error: ValueError: {exc}", None, 500)
            except Exception as exc:  # noqa: BLE001 - last resort: a JSON 500, never a crash
                logger.exception("ChannelExplorer: unexpected error serving %s", request.full_path)
                return _error_response(request, f"internal error: {type(exc).__name__}: {exc}", None, 500)
            if isinstance(body, tuple):
                data, mimetype = body
                return http_util.Respond(request, data, mimetype)
            if isinstance(body, _RawJSON):
                return http_util.Respond(request, body.text, "application/json")
            return _json_response(request, body)

        return route

    return decorator


_COMMON = ("run", "step", "layer", "fn", "stage")


class ChannelExplorerPlugin(base_plugin.TBPlugin):
    """TensorBoard backend of the ChannelExplorer tab."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        """Instantiates the plugin.

        Args:
            context: a `base_plugin.TBContext`; only ``data_provider`` and
                ``sampling_hints`` are used.
        """
        self._data_provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        # 0 or None: everything the loader kept.
        self._downsample = hint if isinstance(hint, int) and hint > 0 else None
        self._cache = LRUCache()
        self._warned: set = set()
        self._active = (0.0, False)
        self._active_lock = threading.Lock()
        if os.environ.get(NO_WARMUP_ENV, "") not in ("1", "true"):
            threading.Thread(target=_warm_up, name="channelexplorer-warmup", daemon=True).start()

    # -------------------------------------------------------------- TBPlugin
    def is_active(self):
        """True if any run has ChannelExplorer data (cached for a few seconds)."""
        if self._data_provider is None:
            return False
        with self._active_lock:
            stamp, active = self._active
            if time.monotonic() - stamp < _IS_ACTIVE_TTL_S:
                return active
        try:
            plugins = self._data_provider.list_plugins(tb_context.RequestContext(), experiment_id="")
            active = self.plugin_name in plugins
        except Exception:  # noqa: BLE001 - a failing listing just means "inactive for now"
            logger.debug("ChannelExplorer: list_plugins failed", exc_info=True)
            active = False
        with self._active_lock:
            self._active = (time.monotonic(), active)
        return active

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="ChannelExplorer")

    def get_plugin_apps(self):
        return {
            "/index.js": self.index_js_route,
            "/static/*": self.static_route,
            "/runs": self.runs_route,
            "/layers": self.layers_route,
            "/graph": self.graph_route,
            "/inputs": self.inputs_route,
            "/summaries": self.summaries_route,
            "/thumbnail": self.thumbnail_route,
            "/scatter": self.scatter_route,
            "/jaccard": self.jaccard_route,
            "/jaccard_cell": self.jaccard_cell_route,
            "/hierarchy": self.hierarchy_route,
            "/heatmap": self.heatmap_route,
            "/overlay": self.overlay_route,
            "/dataset": self.dataset_route,
            "/timeline": self.timeline_route,
            "/trajectory": self.trajectory_route,
            "/diff": self.diff_route,
        }

    # --------------------------------------------------------------- helpers
    def _reader(self, request) -> Reader:
        return Reader(
            self._data_provider,
            experiment_id=plugin_util.experiment_id(request.environ),
            ctx=plugin_util.context(request.environ),
            cache=self._cache,
            downsample=self._downsample,
            warned=self._warned,
            list_ttl=LIST_TTL_S,
        )

    def _view(self, reader: Reader, name: str, run: str, step: int, layer, params: tuple, compute,
              extra: dict | None = None, tokens: tuple = ()) -> _RawJSON:
        """A view's JSON response, computed through the cache.

        The cache key holds the wall times of the records read (the layer's,
        the inputs', and `tokens`), so rewritten data is recomputed; the cached
        value is the serialized response, so warm requests skip serialization.
        """
        token = (reader.layer_token(run, step),) + tokens
        if layer is not None:
            token += (reader.layer_token(run, step, layer),)
        key = ("view", name, reader._eid, run, step, layer, token, params)
        return _RawJSON(self._cache.get_or_compute(
            key, lambda: _dumps(dict(jsonable(_compute(compute)), **(extra or {})))))

    @staticmethod
    def _run_step(reader: Reader, args) -> tuple[str, int]:
        run = param_str(args, "run")
        step = param_int(args, "step", None)
        return run, reader.resolve_step(run, step)

    @staticmethod
    def _matrix(reader: Reader, args, run, step, fn_default):
        layer = param_str(args, "layer")
        fn = param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, fn_default)
        stage = param_choice(args, "stage", metadata.STAGES, "pre")
        return layer, fn, stage, reader.summary_matrix(run, step, layer, fn, stage)

    @staticmethod
    def _labels(reader: Reader, run, step) -> np.ndarray:
        return np.asarray(reader.inputs(run, step)["labels"], dtype=np.int64)

    # ---------------------------------------------------------------- static
    @wrappers.Request.application
    def index_js_route(self, request):
        """Serves the frontend entry module ``static/index.js``."""
        return self._serve_static(request, "index.js")

    @wrappers.Request.application
    def static_route(self, request):
        """Serves files under ``static/``, refusing paths that leave it."""
        marker = "/" + metadata.PLUGIN_NAME + "/static/"
        path = request.path
        rel = path.split(marker, 1)[1] if marker in path else ""
        return self._serve_static(request, rel)

    def _serve_static(self, request, rel: str):
        # NUL bytes make os.path raise; backslashes are separators elsewhere: refuse both.
        joined = safe_join(STATIC_DIR, rel) if rel and "\x00" not in rel and "\\" not in rel else None
        if joined is not None:
            real = os.path.realpath(joined)
            root = os.path.realpath(STATIC_DIR)
            if not real.startswith(root + os.sep):
                joined = None
        if joined is None:
            return _error_response(request, f"invalid static path {rel!r}", "path", 400)
        if not os.path.isfile(joined):
            return _error_response(request, f"no static file {rel!r}", "path", 404)
        ext = os.path.splitext(joined)[1].lower()
        mimetype = _CONTENT_TYPES.get(ext) or mimetypes.guess_type(joined)[0] or "application/octet-stream"
        with open(joined, "rb") as f:
            data = f.read()
        return http_util.Respond(request, data, mimetype)

    # ---------------------------------------------------------------- routes
    @_json_route()
    def runs_route(self, reader, args):
        """``/runs``: runs, steps and downsampling report."""
        return {"runs": [reader.run_info(run) for run in reader.runs()]}

    @_json_route(("run", "step"))
    def layers_route(self, reader, args):
        """``/layers``: the manifest of a step."""
        run, step = self._run_step(reader, args)
        man = reader.manifest(run, step)
        return {
            "run": run,
            "step": step,
            "n_inputs": man.get("n_inputs"),
            "class_names": man.get("class_names", []),
            "layers": man.get("layers", []),
            "has_predictions": bool(man.get("has_predictions", False)),
            "has_thumbnails": bool(man.get("has_thumbnails", False)),
            "steps_written": man.get("steps_written"),
        }

    @_json_route(("run", "step"))
    def graph_route(self, reader, args):
        """``/graph``: the model graph JSON."""
        run, step = self._run_step(reader, args)
        return reader.graph(run, step)

    @_json_route(("run", "step"))
    def inputs_route(self, reader, args):
        """``/inputs``: labels, sample ids, predictions of the logged inputs."""
        run, step = self._run_step(reader, args)
        man = reader.manifest(run, step)
        arrays = reader.inputs(run, step)
        labels = arrays["labels"]
        return {
            "run": run,
            "step": step,
            "n": int(labels.shape[0]),
            "labels": labels,
            "class_names": man.get("class_names", []),
            "sample_ids": arrays.get("sample_ids"),
            "predictions": arrays.get("predictions"),
            "probabilities": arrays.get("probabilities"),
            "has_thumbnails": bool(man.get("has_thumbnails", False)),
        }

    @_json_route(_COMMON)
    def summaries_route(self, reader, args):
        """``/summaries``: one ``[N, C]`` summary matrix."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "otsu")
        key = ("summaries_json", reader._eid, run, step, layer, reader.layer_token(run, step, layer), fn, stage)
        text = self._cache.get_or_compute(key, lambda: json_matrix(mat))
        return {
            "run": run,
            "step": step,
            "layer": layer,
            "fn": fn,
            "stage": stage,
            "shape": list(mat.shape),
            "values": _RawJSON(text),
        }

    @_json_route(("run", "step", "index"))
    def thumbnail_route(self, reader, args):
        """``/thumbnail``: PNG of one input."""
        run, step = self._run_step(reader, args)
        index = param_int(args, "index")
        return reader.thumbnail_png(run, step, index), "image/png"

    @_json_route(_COMMON + ("method", "seed", "k", "random_state"))
    def scatter_route(self, reader, args):
        """``/scatter``: 2-D embedding, clusters and outliers (paper V-D)."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "l2")
        method = param_choice(args, "method", SCATTER_METHODS, "tsne")
        seed = param_int(args, "seed", 0, lo=0, hi=2**32 - 1)
        k = param_int(args, "k", None, lo=1)
        if k is not None and k > mat.shape[0]:
            raise ParamError(f"parameter 'k'={k} exceeds the number of inputs N={mat.shape[0]}", "k")
        labels = self._labels(reader, run, step)

        def compute():
            from tensorboard_plugin_channelexplorer.views import scatter

            return scatter.scatter_view(mat, labels, method=method, k=k, random_state=seed)

        return self._view(reader, "scatter", run, step, layer, (fn, stage, method, seed, k), compute,
                          extra=dict(layer=layer, fn=fn, stage=stage))

    @_json_route(_COMMON + ("eta", "normalize"))
    def jaccard_route(self, reader, args):
        """``/jaccard``: pairwise Jaccard similarity of top channels (paper V-E)."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "otsu")
        check_matrix_inputs(mat.shape[0])
        eta = param_eta(args)
        normalize = param_bool(args, "normalize", False)
        labels = self._labels(reader, run, step)
        class_names = reader.manifest(run, step).get("class_names", [])

        def compute():
            from tensorboard_plugin_channelexplorer.views import jaccard

            return jaccard.jaccard_view(mat, labels, eta=eta, normalize=normalize)

        return self._view(reader, "jaccard", run, step, layer, (fn, stage, eta, normalize), compute,
                          extra=dict(class_names=class_names, layer=layer, fn=fn, stage=stage))

    @_json_route(_COMMON + ("eta", "i", "j"))
    def jaccard_cell_route(self, reader, args):
        """``/jaccard_cell``: shared top channels of two inputs."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "otsu")
        eta = param_eta(args)
        n = mat.shape[0]
        i = param_int(args, "i", lo=0, hi=n - 1)
        j = param_int(args, "j", lo=0, hi=n - 1)
        labels = self._labels(reader, run, step)
        from tensorboard_plugin_channelexplorer.views import jaccard

        return _compute(lambda: jaccard.jaccard_cell(mat, i, j, eta=eta, labels=labels))

    @_json_route(_COMMON + ("eta", "seed", "random_state"))
    def hierarchy_route(self, reader, args):
        """``/hierarchy``: confusion hierarchy of classes (paper V-E)."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "otsu")
        check_matrix_inputs(mat.shape[0])
        eta = param_eta(args)
        seed = param_int(args, "seed", 0, lo=0, hi=2**32 - 1)
        labels = self._labels(reader, run, step)
        class_names = [str(c) for c in reader.manifest(run, step).get("class_names", [])]

        def compute():
            from tensorboard_plugin_channelexplorer.views import hierarchy

            return hierarchy.confusion_hierarchy(mat, labels, class_names, eta=eta, random_state=seed)

        return self._view(reader, "hierarchy", run, step, layer, (fn, stage, eta, seed), compute)

    @_json_route(_COMMON + ("order", "offset", "limit", "filter_norm"))
    def heatmap_route(self, reader, args):
        """``/heatmap``: channel x input heatmap, channels ordered (paper V-F)."""
        run, step = self._run_step(reader, args)
        layer, fn, stage, mat = self._matrix(reader, args, run, step, "otsu")
        order = param_choice(args, "order", HEATMAP_ORDERS, "pairwise")
        offset = param_int(args, "offset", 0, lo=0)
        limit = param_int(args, "limit", 256, lo=1, hi=4096)
        filter_norm = reader.summaries(run, step, layer).get("filter_norm")
        if order == "filter_norm" and filter_norm is None:
            raise ParamError(f"order 'filter_norm' is unavailable: layer {layer!r} has no filter norms logged", "order")
        labels = self._labels(reader, run, step)

        def compute():
            from tensorboard_plugin_channelexplorer.views import heatmap

            return heatmap.heatmap_view(mat, labels, order=order, filter_norm=filter_norm, offset=offset, limit=limit)

        return self._view(reader, "heatmap", run, step, layer, (fn, stage, order, offset, limit), compute,
                          extra=dict(layer=layer, fn=fn, stage=stage))

    @_json_route(("run", "step", "layer", "index", "channel", "alpha"))
    def overlay_route(self, reader, args):
        """``/overlay``: PNG of an activation map blended over its input (Eq. 2)."""
        run, step = self._run_step(reader, args)
        layer = param_str(args, "layer")
        index = param_int(args, "index")
        channel = param_int(args, "channel")
        alpha = param_float(args, "alpha", 0.6)
        if not 0.0 <= alpha <= 1.0:
            raise ParamError(f"parameter 'alpha' must be in [0, 1], got {alpha:g}", "alpha")
        found = reader.activation_map(run, step, layer, index, channel)
        if found is None:
            raise DataNotFoundError(
                f"no activation map was logged for layer {layer!r} and input {index} at step {step}", "index"
            )
        fmap, lo, hi = found
        png = reader.thumbnail_png(run, step, index)
        token = reader.layer_token(run, step, layer)

        def compute():
            import io

            from PIL import Image

            from tensorboard_plugin_channelexplorer.views import overlay

            try:
                with Image.open(io.BytesIO(png)) as img:
                    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
            except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad bytes
                raise CorruptDataError(f"unreadable thumbnail {index} at step {step} of run {run!r}: {exc}") from exc
            return overlay.overlay_png(rgb, fmap, lo, hi, alpha=alpha)

        key = ("view", "overlay", reader._eid, run, step, layer, token, (index, channel, alpha))
        return self._cache.get_or_compute(key, lambda: _compute(compute)), "image/png"

    @_json_route(("run", "step", "fn", "stage", "reference", "k", "seed", "eta", "random_state"))
    def dataset_route(self, reader, args):
        """``/dataset``: class similarity to a reference class across layers, predictions (paper V-A)."""
        run, step = self._run_step(reader, args)
        fn = param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, "otsu")
        stage = param_choice(args, "stage", metadata.STAGES, "pre")
        reference = param_int(args, "reference", 0, lo=0)
        seed = param_int(args, "seed", 0, lo=0, hi=2**32 - 1)
        eta = param_eta(args)
        man = reader.manifest(run, step)
        class_names = man.get("class_names", [])
        n_classes = len(class_names) or None
        if n_classes and reference >= n_classes:
            raise ParamError(f"parameter 'reference'={reference} is not a class id in [0, {n_classes})", "reference")
        k = param_int(args, "k", None, lo=1)
        n = man.get("n_inputs")
        if k is not None and isinstance(n, int) and k > n:
            raise ParamError(f"parameter 'k'={k} exceeds the number of inputs N={n}", "k")
        layers = [e["name"] for e in man.get("layers", [])
                  if isinstance(e, dict) and "name" in e and stage in e.get("stages", ["pre"])]
        if not layers:
            raise ParamError(f"no layer was summarized at stage {stage!r} at step {step}", "stage")
        arrays = reader.inputs(run, step)
        labels = np.asarray(arrays["labels"], dtype=np.int64)
        check_matrix_inputs(labels.shape[0])
        tokens = tuple(reader.layer_token(run, step, name) for name in layers)

        def compute():
            from tensorboard_plugin_channelexplorer.views import dataset

            mats = [reader.summary_matrix(run, step, name, fn, stage) for name in layers]
            return dataset.dataset_view(
                mats, labels, reference=reference, k=k, random_state=seed,
                predictions=arrays.get("predictions"), probabilities=arrays.get("probabilities"),
                eta=eta, n_classes=n_classes,
            )

        return self._view(reader, "dataset", run, step, None, (fn, stage, reference, k, seed, eta), compute,
                          extra=dict(layers=layers, class_names=class_names, fn=fn, stage=stage), tokens=tokens)

    # ------------------------------------------------------ across steps/runs
    def _layer_available(self, reader: Reader, run: str, step: int, layer: str, stage: str) -> bool:
        """True when `layer` is in the manifest at `step` with `stage` and its blob was kept."""
        try:
            man = reader.manifest(run, step)
        except CorruptDataError:
            return False
        for entry in man.get("layers", []):
            if isinstance(entry, dict) and entry.get("name") == layer:
                return stage in entry.get("stages", metadata.STAGES) and reader.has_data(run, step, layer)
        return False

    def _timeline_run(self, reader: Reader, run: str, fn: str, stage: str) -> dict:
        """One run of ``/timeline``: separability score per layer and step, accuracy per step."""
        from tensorboard_plugin_channelexplorer.views import timeline

        info = reader.run_info(run)
        steps = info["steps"]
        layers: list[str] = []
        has_stage = False
        for step in reversed(steps):  # the latest manifest's order first, then older extras
            try:
                entries = reader.manifest(run, step).get("layers", [])
            except CorruptDataError:
                continue
            for entry in entries:
                name = entry.get("name") if isinstance(entry, dict) else None
                if isinstance(name, str):
                    has_stage = has_stage or stage in entry.get("stages", metadata.STAGES)
                    if name not in layers:
                        layers.append(name)
        if layers and not has_stage:
            raise ParamError(f"no layer of run {run!r} was summarized at stage {stage!r}", "stage")
        accuracy, chance, labels_at = [], [], {}
        for step in steps:
            acc = cha = None
            if reader.has_data(run, step):
                try:
                    arrays = reader.inputs(run, step)
                    labels_at[step] = np.asarray(arrays["labels"], dtype=np.int64)
                    acc = timeline.prediction_accuracy(arrays.get("predictions"), labels_at[step])
                    cha = timeline.chance_level(labels_at[step]) if labels_at[step].size else None
                except CorruptDataError as exc:
                    logger.warning("ChannelExplorer: %s", exc)
            accuracy.append(acc)
            chance.append(cha)
        scores, fn_errors = [], []
        for layer in layers:
            row = []
            for step in steps:
                labels = labels_at.get(step)
                if labels is None or labels.size < 2 or not self._layer_available(reader, run, step, layer, stage):
                    row.append(None)
                    continue
                key = ("score", timeline.SCORE, reader._eid, run, step, layer, reader.layer_token(run, step),
                       reader.layer_token(run, step, layer), fn, stage)
                try:
                    mat = reader.summary_matrix(run, step, layer, fn, stage)
                    row.append(self._cache.get_or_compute(
                        key, lambda: _compute(lambda: timeline.knn_loo_score(mat, labels, k=timeline.DEFAULT_K))))
                except ReaderError as exc:  # e.g. this layer was not summarized with `fn`
                    fn_errors.append(exc)
                    row.append(None)
                except (CorruptDataError, DataNotFoundError, ValueError) as exc:
                    logger.warning("ChannelExplorer: no score for %r at step %d of run %r: %s", layer, step, run, exc)
                    row.append(None)
            scores.append(row)
        if fn_errors and all(v is None for row in scores for v in row):
            # Nothing could be scored because of the request's fn/stage: a bad parameter, not missing data.
            raise ParamError(str(fn_errors[0]), fn_errors[0].parameter)
        return {
            "run": run,
            "steps": steps,
            "layers": layers,
            "scores": [[None if v is None else round(float(v), 6) for v in row] for row in scores],
            "accuracy": [None if v is None else round(float(v), 6) for v in accuracy],
            "chance": [None if v is None else round(float(v), 6) for v in chance],
            "steps_written": info["steps_written"],
            "downsampled": info["downsampled"],
            "steps_without_blobs": info["steps_without_blobs"],
        }

    @_json_route(("run", "fn", "stage"))
    def timeline_route(self, reader, args):
        """``/timeline``: separability score per layer and step, accuracy per step, for one or more runs."""
        from tensorboard_plugin_channelexplorer.views import timeline

        runs = [r for r in args.getlist("run") if r]
        if not runs:
            raise ParamError("parameter 'run' is required (repeat it to compare runs)", "run")
        runs = list(dict.fromkeys(runs))
        if len(runs) > MAX_TIMELINE_RUNS:
            raise ParamError(f"at most {MAX_TIMELINE_RUNS} runs per request, got {len(runs)}", "run")
        fn = param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, "l2")
        stage = param_choice(args, "stage", metadata.STAGES, "pre")
        known = set(reader.runs())
        for run in runs:
            if run not in known:
                raise ParamError(f"unknown run {run!r}: it has no ChannelExplorer data", "run")
        return {"score": timeline.SCORE, "k": timeline.DEFAULT_K, "fn": fn, "stage": stage,
                "runs": [self._timeline_run(reader, run, fn, stage) for run in runs]}

    def _trajectory_steps(self, reader: Reader, args, run: str, layer: str, stage: str) -> list[int]:
        available = reader.steps(run)
        text = param_str(args, "steps", None)
        if text is None:
            steps = [s for s in available if self._layer_available(reader, run, s, layer, stage)]
            if not steps:
                if not any(self._layer_in_manifest(reader, run, s, layer) for s in available):
                    raise ParamError(f"unknown layer {layer!r} in run {run!r}", "layer")
                raise DataNotFoundError(
                    f"layer {layer!r} of run {run!r} has no data kept at stage {stage!r} (start TensorBoard "
                    f"with --samples_per_plugin {metadata.PLUGIN_NAME}=0)", "layer")
            if len(steps) > MAX_TRAJECTORY_STEPS:
                # Evenly spaced, first and last included.
                pick = np.unique(np.round(np.linspace(0, len(steps) - 1, MAX_TRAJECTORY_STEPS)).astype(int))
                steps = [steps[i] for i in pick]
            return steps
        steps = []
        for part in str(text).split(","):
            part = part.strip()
            try:
                step = int(part)
            except ValueError:
                raise ParamError(f"parameter 'steps' must be comma-separated integers, got {text!r}", "steps") from None
            if step not in available:
                shown = available if len(available) <= 20 else available[:10] + ["..."] + available[-5:]
                raise ParamError(f"unknown step {step} in 'steps' for run {run!r}; available steps: {shown}", "steps")
            if step not in steps:
                steps.append(step)
        if len(steps) > MAX_TRAJECTORY_STEPS:
            raise ParamError(f"parameter 'steps' names {len(steps)} steps; at most {MAX_TRAJECTORY_STEPS}", "steps")
        return sorted(steps)

    @staticmethod
    def _layer_in_manifest(reader: Reader, run: str, step: int, layer: str) -> bool:
        try:
            return any(isinstance(e, dict) and e.get("name") == layer for e in reader.manifest(run, step).get("layers", []))
        except CorruptDataError:
            return False

    @_json_route(("run", "layer", "fn", "stage", "method", "align", "seed", "steps", "random_state"))
    def trajectory_route(self, reader, args):
        """``/trajectory``: embeddings of the same inputs at several steps, Procrustes-aligned."""
        run = param_str(args, "run")
        layer = param_str(args, "layer")
        fn = param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, "l2")
        stage = param_choice(args, "stage", metadata.STAGES, "pre")
        method = param_choice(args, "method", SCATTER_METHODS, "pca")
        align = param_choice(args, "align", TRAJECTORY_ALIGNS, "procrustes")
        seed = param_int(args, "seed", 0, lo=0, hi=2**32 - 1)
        reader.steps(run)  # 400 for an unknown run before anything else
        steps = self._trajectory_steps(reader, args, run, layer, stage)
        mats = [reader.summary_matrix(run, s, layer, fn, stage) for s in steps]
        inputs = [reader.inputs(run, s) for s in steps]
        labels = [np.asarray(a["labels"], dtype=np.int64) for a in inputs]
        ids = [reader.sample_ids(run, s) for s in steps]
        tokens = tuple((reader.layer_token(run, s), reader.layer_token(run, s, layer)) for s in steps)
        key = ("view", "trajectory", reader._eid, run, layer, tuple(steps), tokens, (fn, stage, method, align, seed))

        def compute():
            from tensorboard_plugin_channelexplorer.views import timeline

            body = timeline.trajectory_view(mats, labels, ids, steps, method=method, align=align, random_state=seed)
            return _dumps(dict(body, run=run, layer=layer, fn=fn, stage=stage))

        return _RawJSON(self._cache.get_or_compute(key, lambda: _compute(compute)))

    @_json_route(("run", "step", "layer", "run_b", "step_b", "fn", "stage", "eta", "order"))
    def diff_route(self, reader, args):
        """``/diff``: Jaccard difference and channel rank changes between two steps or runs of a layer."""
        run = param_str(args, "run")
        steps_a = reader.steps(run)
        step = reader.resolve_step(run, param_int(args, "step", steps_a[0] if steps_a else None))
        layer = param_str(args, "layer")
        run_b = param_str(args, "run_b", run)
        try:
            step_b = reader.resolve_step(run_b, param_int(args, "step_b", None))
        except ReaderError as exc:
            renamed = {"run": "run_b", "step": "step_b"}.get(exc.parameter, exc.parameter)
            raise ParamError(f"{renamed}: {exc}", renamed) from None
        fn = param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, "otsu")
        stage = param_choice(args, "stage", metadata.STAGES, "pre")
        eta = param_eta(args)
        order = param_choice(args, "order", HEATMAP_ORDERS, "pairwise")
        S_a = reader.summary_matrix(run, step, layer, fn, stage)
        S_b = reader.summary_matrix(run_b, step_b, layer, fn, stage)
        check_matrix_inputs(min(S_a.shape[0], S_b.shape[0]), "step")  # matched <= min(N_a, N_b)
        fn_a = reader.summaries(run, step, layer).get("filter_norm")
        fn_b = reader.summaries(run_b, step_b, layer).get("filter_norm")
        if order == "filter_norm" and (fn_a is None or fn_b is None):
            raise ParamError(f"order 'filter_norm' is unavailable: layer {layer!r} has no filter norms logged "
                             "at both steps", "order")
        lab_a, lab_b = self._labels(reader, run, step), self._labels(reader, run_b, step_b)
        ids_a, ids_b = reader.sample_ids(run, step), reader.sample_ids(run_b, step_b)
        tokens = (reader.layer_token(run, step), reader.layer_token(run, step, layer),
                  reader.layer_token(run_b, step_b), reader.layer_token(run_b, step_b, layer))
        key = ("view", "diff", reader._eid, run, step, run_b, step_b, layer, tokens, (fn, stage, eta, order))
        class_names = reader.manifest(run, step).get("class_names", [])

        def compute():
            from tensorboard_plugin_channelexplorer.views import timeline

            body = timeline.diff_view(S_a, S_b, lab_a, lab_b, ids_a, ids_b, eta=eta, order=order,
                                      filter_norm_a=fn_a, filter_norm_b=fn_b)
            return _dumps(dict({"a": {"run": run, "step": step}, "b": {"run": run_b, "step": step_b}}, **body,
                               layer=layer, fn=fn, stage=stage, class_names=class_names))

        return _RawJSON(self._cache.get_or_compute(key, lambda: _compute(compute)))


def _limit_native_threads() -> None:
    """Caps BLAS/OpenMP threads of the libraries loaded so far (see `NATIVE_THREADS_ENV`)."""
    try:
        limit = int(os.environ.get(NATIVE_THREADS_ENV, "1"))
    except ValueError:
        limit = 1
    if limit <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=limit)
    except Exception:  # noqa: BLE001 - an optimization only
        logger.debug("ChannelExplorer: could not limit native threads", exc_info=True)


def _compute(fn):
    """Runs a view computation with native threads capped."""
    _limit_native_threads()
    return fn()


def _warm_up():
    """Compiles UMAP's numba code in the background so the first request is fast."""
    try:
        from tensorboard_plugin_channelexplorer.views import scatter

        _limit_native_threads()
        scatter.warm_up()
    except Exception:  # noqa: BLE001 - warm-up is an optimization only
        logger.debug("ChannelExplorer: warm-up skipped", exc_info=True)
