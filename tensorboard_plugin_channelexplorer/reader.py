"""Reads ChannelExplorer data through a TensorBoard data provider.

`Reader` never touches the logdir: everything goes through
``list_tensors``/``read_tensors`` (manifest, graph) and
``list_blob_sequences``/``read_blob_sequences``/``read_blob`` (arrays, PNGs),
so it works the same over the Rust data server and the Python multiplexer.

Rules it applies to whatever the loader kept:

* the last record wins when a step appears twice;
* a tag whose plugin content is newer than `metadata.PROTO_VERSION` (or
  unreadable) is skipped, with one warning per (experiment, run, tag);
* ``.npz`` blobs are decoded with ``allow_pickle=False``; unreadable or
  ill-shaped blobs raise `errors.CorruptDataError`, never crash;
* the manifest is parsed once per record into a `metadata.Manifest`
  (`Reader.typed_manifest`); `Reader.manifest` returns its JSON as stored;
* downsampling by the loader is reported (`Reader.run_info`).

A `Reader` is cheap and meant to live for one request; pass a shared
`cache.LRUCache` so decoded blobs and indexes survive across requests. Cache
keys include each record's wall time, so a rewritten step is never served
stale; `Reader.cache_key` builds such keys for values computed from the data.

Errors are those of `errors`: `InvalidArgumentError` (400) for unknown runs,
steps, layers or summaries, `NotFoundError` (404) for absent data and
`CorruptDataError` (404) for data that cannot be decoded.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from tensorboard import context as tb_context
from tensorboard import errors as tb_errors
from tensorboard.data import provider

from tensorboard_plugin_channelexplorer import encoding, metadata, record_checks
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError

logger = logging.getLogger(__name__)

# "Everything the loader kept": the loader's own retention
# (--samples_per_plugin) decides what exists; we never drop more.
DOWNSAMPLE_ALL = 1_000_000_000

_WARNED: set = set()
_WARNED_LOCK = threading.Lock()

__all__ = ["Reader", "DOWNSAMPLE_ALL"]

# Former names of the error classes, kept for code written against them.
ReaderError = InvalidArgumentError
DataNotFoundError = NotFoundError


class Reader:
    """ChannelExplorer data of one experiment, read through a data provider.

    Args:
        data_provider: a `tensorboard.data.provider.DataProvider`.
        experiment_id: experiment id passed to the provider ("" locally).
        ctx: a `tensorboard.context.RequestContext` (a fresh one if None).
        cache: shared `LRUCache` for indexes and decoded blobs (a small
            private one if None).
        downsample: value passed as ``downsample`` to ``read_*`` calls; None
            or 0 means "all the loader kept".
        warned: set used to emit each version warning once (module-wide by
            default).
        list_ttl: seconds a ``list_*`` answer of the provider is reused
            across readers sharing `cache` (0: ask every time). Data servers
            reload every few seconds anyway; a short TTL saves 2-3 RPCs per
            request when the frontend fires many at once.
    """

    def __init__(self, data_provider, experiment_id: str = "", ctx=None, cache: LRUCache | None = None,
                 downsample: int | None = None, warned: set | None = None, list_ttl: float = 0.0):
        if data_provider is None:
            raise ValueError("data_provider is required")
        if downsample is not None and (not isinstance(downsample, int) or downsample < 0):
            raise ValueError(f"downsample must be a non-negative integer or None, got {downsample!r}")
        self._dp = data_provider
        self._eid = experiment_id or ""
        self._ctx = ctx if ctx is not None else tb_context.RequestContext()
        self._cache = cache if cache is not None else LRUCache(max_entries=64, max_bytes=64 * 1024 * 1024)
        self._downsample = downsample or DOWNSAMPLE_ALL
        self._warned = _WARNED if warned is None else warned
        if not isinstance(list_ttl, (int, float)) or list_ttl < 0:
            raise ValueError(f"list_ttl must be a non-negative number, got {list_ttl!r}")
        self._list_ttl = float(list_ttl)
        self._memo: dict = {}  # per-instance (per-request) results of list calls

    # ------------------------------------------------------------------ helpers
    def _call(self, what: str, fn, **kwargs):
        """Calls the data provider, turning its errors into reader errors."""
        try:
            return fn(self._ctx, experiment_id=self._eid, plugin_name=metadata.PLUGIN_NAME, **kwargs)
        except tb_errors.NotFoundError as exc:
            raise NotFoundError(f"{what}: {exc}") from exc
        except tb_errors.PublicError as exc:
            raise InvalidArgumentError(f"{what}: {exc}") from exc

    def _listed(self, key: tuple, load):
        """Result of a list call: memoized per reader, and for `list_ttl` seconds in the cache."""
        if key in self._memo:
            return self._memo[key]
        ckey = ("listing", self._eid) + key
        hit = self._cache.get(ckey) if self._list_ttl > 0 else None
        if hit is not None and time.monotonic() - hit[0] < self._list_ttl:
            value = hit[1]
        else:
            value = load()
            if self._list_ttl > 0:
                self._cache.put(ckey, (time.monotonic(), value))
        self._memo[key] = value
        return value

    def _usable(self, run: str, tag: str, content: bytes) -> bool:
        """True if the tag's plugin content is a version this reader knows."""
        if metadata.parse_plugin_content(content) is not None:
            return True
        key = (self._eid, run, tag)
        with _WARNED_LOCK:
            first = key not in self._warned
            self._warned.add(key)
        if first:
            version = metadata.content_version(content)
            if version is not None and version > metadata.PROTO_VERSION:
                logger.warning(
                    "ChannelExplorer: skipping run %r tag %r: content version %d is newer than this "
                    "plugin's %d; upgrade tensorboard_plugin_channelexplorer to read it",
                    run, tag, version, metadata.PROTO_VERSION,
                )
            else:
                logger.warning("ChannelExplorer: skipping run %r tag %r: unreadable plugin content", run, tag)
        return False

    def _tensor_series(self, run: str | None, tags: list[str]) -> dict:
        """run -> tag -> TensorTimeSeries, usable tags only."""
        def load():
            flt = provider.RunTagFilter(runs=None if run is None else [run], tags=tags)
            listing = self._call("listing tensors", self._dp.list_tensors, run_tag_filter=flt) or {}
            return {
                r: {t: ts for t, ts in by_tag.items() if self._usable(r, t, ts.plugin_content)}
                for r, by_tag in listing.items()
            }

        return self._listed(("list_tensors", run, tuple(tags)), load)

    def _tensor_records(self, run: str, tag: str) -> dict:
        """step -> [(wall_time, raw numpy value), ...] of a JSON tensor tag, in file order."""
        series = self._tensor_series(run, [metadata.MANIFEST_TAG, metadata.GRAPH_TAG]).get(run, {}).get(tag)
        if series is None:
            return {}
        ckey = ("tensors", self._eid, run, tag, series.max_step, series.max_wall_time, self._downsample)

        def load():
            flt = provider.RunTagFilter(runs=[run], tags=[tag])
            data = self._call(f"reading {tag!r} of run {run!r}", self._dp.read_tensors,
                              downsample=self._downsample, run_tag_filter=flt)
            out = {}
            for datum in data.get(run, {}).get(tag, []):  # sorted by step; stable for duplicates
                out.setdefault(int(datum.step), []).append((float(datum.wall_time), datum.numpy))
            return out

        return self._cache.get_or_compute(ckey, load)

    def _blob_index(self, run: str) -> dict:
        """tag -> step -> BlobSequenceDatum for every usable blob tag of `run`; last record wins."""
        mkey = ("blob_index", run)
        if mkey in self._memo:
            return self._memo[mkey]

        def list_blobs():
            flt = provider.RunTagFilter(runs=[run])
            return self._call(f"listing blobs of run {run!r}", self._dp.list_blob_sequences, run_tag_filter=flt) or {}

        listing = self._listed(("list_blob_sequences", run), list_blobs)
        usable = {t: ts for t, ts in listing.get(run, {}).items() if self._usable(run, t, ts.plugin_content)}
        signature = tuple(sorted((t, ts.max_step, ts.max_wall_time, ts.max_length) for t, ts in usable.items()))
        ckey = ("blob_index", self._eid, run, signature, self._downsample)

        def load():
            if not usable:
                return {}
            data = self._call(
                f"reading blobs of run {run!r}", self._dp.read_blob_sequences, downsample=self._downsample,
                run_tag_filter=provider.RunTagFilter(runs=[run], tags=sorted(usable)),
            )
            out = {}
            for tag, seq in data.get(run, {}).items():
                by_step = out.setdefault(tag, {})
                for datum in seq:
                    by_step[int(datum.step)] = datum
            return out

        self._memo[mkey] = self._cache.get_or_compute(ckey, load)
        return self._memo[mkey]

    def _find_datum(self, run: str, step: int, tag: str):
        """The blob record of (tag, step), re-listing once when the cached listing may be stale.

        The manifest listing can be fresher than the blob listing cached for
        `list_ttl` seconds (a step written a moment ago), so a miss bypasses
        the TTL once before concluding the blob is absent.
        """
        datum = self._blob_index(run).get(tag, {}).get(step)
        if datum is None and self._list_ttl > 0 and ("blob_relisted", run) not in self._memo:
            self._memo[("blob_relisted", run)] = True
            self._memo.pop(("blob_index", run), None)
            self._memo.pop(("list_blob_sequences", run), None)
            self._cache.put(("listing", self._eid, "list_blob_sequences", run), (float("-inf"), None))
            datum = self._blob_index(run).get(tag, {}).get(step)
        return datum

    def _datum(self, run: str, step: int, tag: str, what: str, parameter: str | None):
        datum = self._find_datum(run, step, tag)
        if datum is None:
            raise NotFoundError(
                f"no {what} at step {step} of run {run!r} (not logged, or dropped by TensorBoard's "
                f"sampling; start TensorBoard with --samples_per_plugin {metadata.PLUGIN_NAME}=0)",
                parameter,
            )
        return datum

    def _read_blob(self, run: str, tag: str, step: int, datum, index: int) -> bytes:
        if index >= len(datum.values):
            raise NotFoundError(f"blob {index} of {tag!r} at step {step} of run {run!r} is missing", "index")
        try:
            return self._dp.read_blob(self._ctx, blob_key=datum.values[index].blob_key)
        except tb_errors.NotFoundError as exc:
            raise NotFoundError(f"blob of {tag!r} at step {step} of run {run!r} is gone: {exc}") from exc
        except tb_errors.PublicError as exc:
            raise CorruptDataError(f"cannot read blob of {tag!r} at step {step} of run {run!r}: {exc}") from exc

    def _npz(self, run: str, step: int, tag: str, what: str, parameter: str | None, check=None) -> tuple[dict, float]:
        """Decoded and checked npz of a one-blob tag, and the record's wall time.

        Args:
            check: ``(arrays, where) -> None`` raising CorruptDataError (see
                `record_checks`); run once, when the blob is decoded.
        """
        datum = self._datum(run, step, tag, what, parameter)
        ckey = ("npz", self._eid, run, tag, step, datum.wall_time)
        where = f"corrupt {what} at step {step} of run {run!r}"

        def load():
            raw = self._read_blob(run, tag, step, datum, 0)
            try:
                arrays = encoding.decode_npz(raw)
            except CorruptDataError as exc:
                raise CorruptDataError(f"{where}: {exc}") from exc
            if check is not None:
                check(arrays, where)
            return arrays

        return self._cache.get_or_compute(ckey, load), float(datum.wall_time)

    # --------------------------------------------------------------- public API
    def runs(self) -> list[str]:
        """Names of runs that have a readable ChannelExplorer manifest, sorted."""
        listing = self._tensor_series(None, [metadata.MANIFEST_TAG])
        return sorted(r for r, tags in listing.items() if metadata.MANIFEST_TAG in tags)

    def _check_run(self, run) -> None:
        if not isinstance(run, str) or not run:
            raise InvalidArgumentError("parameter 'run' is required", "run")
        if metadata.MANIFEST_TAG not in self._tensor_series(run, [metadata.MANIFEST_TAG, metadata.GRAPH_TAG]).get(run, {}):
            raise InvalidArgumentError(f"unknown run {run!r}: it has no ChannelExplorer data", "run")

    def steps(self, run: str) -> list[int]:
        """Sorted steps of `run` that have a manifest.

        Raises:
            InvalidArgumentError: unknown run.
        """
        self._check_run(run)
        return sorted(self._tensor_records(run, metadata.MANIFEST_TAG))

    def resolve_step(self, run: str, step: int | None = None) -> int:
        """Returns `step`, or the latest step when None.

        Raises:
            InvalidArgumentError: unknown run, or a step the run does not have.
        """
        steps = self.steps(run)
        if not steps:
            raise NotFoundError(f"run {run!r} has no readable manifest", "run")
        if step is None:
            return steps[-1]
        if step not in steps:
            shown = steps if len(steps) <= 20 else steps[:10] + ["..."] + steps[-5:]
            raise InvalidArgumentError(f"unknown step {step} for run {run!r}; available steps: {shown}", "step")
        return int(step)

    def manifest(self, run: str, step: int | None = None) -> dict:
        """The manifest JSON of a step (the latest when `step` is None), as stored.

        Raises:
            InvalidArgumentError: unknown run or step.
            CorruptDataError: unreadable manifest.
        """
        return self._manifest(run, step)[0]

    def typed_manifest(self, run: str, step: int | None = None) -> metadata.Manifest:
        """The validated `metadata.Manifest` of a step (the latest when `step` is None).

        Raises:
            InvalidArgumentError: unknown run or step.
            CorruptDataError: unreadable manifest.
        """
        return self._manifest(run, step)[1]

    def _manifest(self, run: str, step: int | None) -> tuple[dict, metadata.Manifest]:
        """The manifest JSON and its typed form, decoded and validated once per record."""
        step = self.resolve_step(run, step)
        wall_time, value = self._manifest_record(run, step)
        ckey = ("manifest", self._eid, run, step, wall_time)
        where = f"corrupt manifest at step {step} of run {run!r}"

        def load():
            try:
                raw = encoding.decode_json_value(value)
            except CorruptDataError as exc:
                raise CorruptDataError(f"{where}: {exc}") from exc
            return raw, metadata.Manifest.from_json(raw, where)

        return self._cache.get_or_compute(ckey, load)

    def graph(self, run: str, step: int | None = None) -> dict:
        """The model graph JSON: the record at `step`, else the nearest earlier one, else the latest.

        Raises:
            InvalidArgumentError: unknown run or step.
            NotFoundError: no graph was logged.
        """
        step = self.resolve_step(run, step)
        records = self._tensor_records(run, metadata.GRAPH_TAG)
        if not records:
            raise NotFoundError(f"run {run!r} has no graph", "run")
        earlier = [s for s in records if s <= step]
        chosen = max(earlier) if earlier else max(records)
        where = f"corrupt graph at step {chosen} of run {run!r}"
        try:
            graph = encoding.decode_json_value(records[chosen][-1][1])
        except CorruptDataError as exc:
            raise CorruptDataError(f"{where}: {exc}") from exc
        if not isinstance(graph, dict):
            raise CorruptDataError(f"{where}: not an object")
        record_checks.check_json_depth(graph, where)
        return graph

    def layer_info(self, run: str, step: int, layer: str) -> metadata.LayerRecord:
        """The manifest row of `layer` at `step`.

        Raises:
            InvalidArgumentError: unknown run, step or layer.
        """
        if not isinstance(layer, str) or not layer:
            raise InvalidArgumentError("parameter 'layer' is required", "layer")
        record = self.typed_manifest(run, step).layer(layer)
        if record is None:
            raise InvalidArgumentError(f"unknown layer {layer!r} in run {run!r} at step {step}", "layer")
        return record

    def run_info(self, run: str) -> dict:
        """Steps and downsampling report of a run.

        Returns:
            ``{"run", "steps", "steps_written", "downsampled",
            "steps_without_blobs", "rewritten_steps"}``: ``steps_written`` is the
            writer's count from the latest manifest; ``downsampled`` is True when
            the loader kept fewer steps than written or some steps lost blobs;
            ``rewritten_steps`` are steps the loader returned more than once.
        """
        steps = self.steps(run)
        steps_written = len(steps)
        if steps:
            try:
                written = self.typed_manifest(run, steps[-1]).steps_written
                if written is not None:
                    steps_written = written
            except CorruptDataError:
                pass
        index = self._blob_index(run)
        without = []
        for step in steps:
            try:
                man = self.typed_manifest(run, step)
            except CorruptDataError:
                without.append(step)
                continue
            tags = [metadata.INPUTS_TAG] + [metadata.layer_tag(name) for name in man.layer_names]
            if any(step not in index.get(t, {}) for t in tags):
                without.append(step)
        return {
            "run": run,
            "steps": steps,
            "steps_written": int(steps_written),
            "downsampled": bool(steps_written > len(steps) or without),
            "steps_without_blobs": without,
            "rewritten_steps": self._rewritten_steps(run),
        }

    def _rewritten_steps(self, run: str) -> list[int]:
        return sorted(s for s, recs in self._tensor_records(run, metadata.MANIFEST_TAG).items() if len(recs) > 1)

    def _manifest_record(self, run: str, step: int) -> tuple[float, object]:
        """The manifest record of a step: the last one, unless the loader cannot serve its blobs.

        When a step was written twice, TensorBoard's Python loader
        (``--load_fast=false``) returns both manifests but only the FIRST
        record's blobs. The writer gives every tag of a record one wall time,
        so if the inputs blob matches an earlier manifest and not the last,
        that earlier manifest is the one consistent with the servable blobs.
        """
        records = self._tensor_records(run, metadata.MANIFEST_TAG)[step]
        if len(records) > 1:
            datum = self._blob_index(run).get(metadata.INPUTS_TAG, {}).get(step)
            walls = [w for w, _ in records]
            if datum is not None and datum.wall_time != walls[-1] and datum.wall_time in walls:
                key = (self._eid, run, "rewritten", step)
                with _WARNED_LOCK:
                    first = key not in self._warned
                    self._warned.add(key)
                if first:
                    logger.warning(
                        "ChannelExplorer: step %d of run %r was written more than once and this data loader "
                        "serves only the first record's arrays; showing that record (the default Rust "
                        "loader, without --load_fast=false, serves the last)", step, run,
                    )
                return records[walls.index(datum.wall_time)]
        return records[-1]

    def inputs(self, run: str, step: int | None = None) -> dict:
        """The inputs npz of a step: ``labels``, ``sample_ids``, optional ``predictions``, ``probabilities``.

        Raises:
            InvalidArgumentError: unknown run or step.
            NotFoundError: the inputs blob is absent.
            CorruptDataError: unreadable or ill-shaped blob.
        """
        step = self.resolve_step(run, step)
        man = self.typed_manifest(run, step)
        arrays, _ = self._npz(run, step, metadata.INPUTS_TAG, "inputs", "step",
                              check=lambda arrays, where: record_checks.check_inputs(arrays, man, where))
        return arrays

    def summaries(self, run: str, step: int | None, layer: str) -> dict:
        """The layer npz of a step: ``pre/l2``, ..., optional ``filter_norm``.

        Raises:
            InvalidArgumentError: unknown run, step or layer.
            NotFoundError: the layer blob is absent at that step.
            CorruptDataError: unreadable blob.
        """
        step = self.resolve_step(run, step)
        record = self.layer_info(run, step, layer)
        n = self.typed_manifest(run, step).n_inputs
        arrays, _ = self._npz(run, step, metadata.layer_tag(layer), f"summaries of layer {layer!r}", "layer",
                              check=lambda arrays, where: record_checks.check_layer(arrays, record, n, where))
        return arrays

    def has_data(self, run: str, step: int, layer: str | None = None) -> bool:
        """True when the loader kept the layer's (or, with None, the inputs') blob at `step`."""
        tag = metadata.INPUTS_TAG if layer is None else metadata.layer_tag(layer)
        return step in self._blob_index(run).get(tag, {})

    def sample_ids(self, run: str, step: int | None = None) -> np.ndarray:
        """The ``[N]`` sample ids of a step (``0..N-1`` when the writer stored none).

        Raises:
            InvalidArgumentError, NotFoundError, CorruptDataError: as `inputs`.
        """
        arrays = self.inputs(run, step)
        ids = arrays.get(metadata.KEY_SAMPLE_IDS)
        if ids is None:
            return np.arange(arrays[metadata.KEY_LABELS].shape[0], dtype=np.int64)
        return ids  # int[N] or str[N], checked by `inputs`

    def layer_token(self, run: str, step: int, layer: str | None = None) -> float:
        """Wall time of the record behind a layer's (or, with None, the inputs') data."""
        tag = metadata.INPUTS_TAG if layer is None else metadata.layer_tag(layer)
        return float(self._datum(run, step, tag, "data", "layer").wall_time)

    def cache_key(self, kind: str, sources, params: tuple = ()) -> tuple:
        """The cache key of a value computed from this experiment's data: the one way to build one.

        The key holds the experiment id and the wall time of every record the
        value depends on, so a rewritten step gets a new key instead of a
        stale value.

        Args:
            kind: what the value is (``"view/scatter"``, ``"score"``, ...).
            sources: ``(run, step, layer)`` triples naming the records the
                value was computed from: a layer's summaries, or with
                ``layer`` None the step's inputs.
            params: every other argument the value depends on (hashable).

        Raises:
            NotFoundError: a record of `sources` is absent.
        """
        parts = tuple((run, int(step), layer, self.layer_token(run, step, layer)) for run, step, layer in sources)
        return (kind, self._eid, parts, tuple(params))

    def summary_matrix(self, run: str, step: int | None, layer: str, fn: str = "l2", stage: str = "pre") -> np.ndarray:
        """One ``[N, C]`` float32 summary matrix.

        Raises:
            InvalidArgumentError: unknown run, step, layer, or a `fn`/`stage` the layer
                was not summarized with.
            NotFoundError: the layer blob is absent at that step.
            CorruptDataError: unreadable or ill-shaped blob.
        """
        if fn not in metadata.SUMMARY_FUNCTIONS:
            raise InvalidArgumentError(f"unknown fn {fn!r}; expected one of {list(metadata.SUMMARY_FUNCTIONS)}", "fn")
        if stage not in metadata.STAGES:
            raise InvalidArgumentError(f"unknown stage {stage!r}; expected one of {list(metadata.STAGES)}", "stage")
        step = self.resolve_step(run, step)
        info = self.layer_info(run, step, layer)
        arrays = self.summaries(run, step, layer)
        key = metadata.summary_key(stage, fn)
        if key not in arrays:
            if not info.has_stage(stage):
                raise InvalidArgumentError(f"layer {layer!r} has no stage {stage!r}; it has {list(info.stages)}", "stage")
            raise InvalidArgumentError(f"layer {layer!r} has no summary {fn!r} at stage {stage!r}", "fn")
        return np.asarray(arrays[key], dtype=np.float32)  # shape and values checked by `summaries`

    def thumbnail_png(self, run: str, step: int | None, index: int) -> bytes:
        """PNG bytes of input `index`.

        Raises:
            InvalidArgumentError: unknown run/step, or `index` outside [0, N).
            NotFoundError: no thumbnails at that step.
        """
        step = self.resolve_step(run, step)
        self._check_index(run, step, index)
        datum = self._datum(run, step, metadata.THUMBNAILS_TAG, "thumbnails", "index")
        ckey = ("thumb", self._eid, run, step, datum.wall_time, index)
        return self._cache.get_or_compute(ckey, lambda: bytes(self._read_blob(run, metadata.THUMBNAILS_TAG, step, datum, index)))

    def _check_index(self, run: str, step: int, index) -> int:
        n = self.typed_manifest(run, step).n_inputs
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise InvalidArgumentError(f"index must be an integer, got {index!r}", "index")
        if not 0 <= index < n:
            raise InvalidArgumentError(f"index {index} is outside [0, {n})", "index")
        return int(index)

    def activation_map(self, run: str, step: int | None, layer: str, index: int, channel: int):
        """The de-quantized activation map of one input and channel (Eq. 2).

        Returns:
            ``(map float32[h, w], lo, hi)``, or None when no map was logged for
            that layer or input.

        Raises:
            InvalidArgumentError: unknown run/step/layer, `index` or `channel` out of range.
            CorruptDataError: unreadable or ill-shaped blob.
        """
        step = self.resolve_step(run, step)
        info = self.layer_info(run, step, layer)
        index = self._check_index(run, step, index)
        channels = info.channels
        if not isinstance(channel, (int, np.integer)) or isinstance(channel, bool):
            raise InvalidArgumentError(f"channel must be an integer, got {channel!r}", "channel")
        if not 0 <= channel < channels:
            raise InvalidArgumentError(f"channel {channel} is outside [0, {channels}) for layer {layer!r}", "channel")
        tag = metadata.maps_tag(layer)
        if self._find_datum(run, step, tag) is None:
            return None
        n = self.typed_manifest(run, step).n_inputs
        arrays, _ = self._npz(run, step, tag, f"activation maps of layer {layer!r}", "layer",
                              check=lambda arrays, where: record_checks.check_maps(arrays, info, n, where))
        maps, indices = arrays[metadata.KEY_MAPS], arrays[metadata.KEY_INDICES]
        hits = np.flatnonzero(indices == index)
        if hits.size == 0:
            return None
        lo, hi = float(arrays[metadata.KEY_LO]), float(arrays[metadata.KEY_HI])
        q = maps[hits[-1], channel].astype(np.float32)
        return lo + q / 255.0 * (hi - lo), lo, hi
