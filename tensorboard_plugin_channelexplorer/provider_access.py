"""Listing and fetching ChannelExplorer records through a TensorBoard data provider.

`ProviderAccess` is the lower half of `reader.Reader`: it calls the data
provider (``list_tensors``/``read_tensors``, ``list_blob_sequences``/
``read_blob_sequences``/``read_blob``), memoizes listings per request and for
a short TTL across requests, indexes blob records by tag and step (the last
record of a step wins), skips tags whose plugin content is newer than this
plugin (one warning each), decodes ``.npz`` blobs once per record (with
``allow_pickle=False``) and builds cache keys from the records' wall times.
What the records mean (manifests, inputs, summaries, maps) is `reader.Reader`'s.
"""

from __future__ import annotations

import logging
import threading
import time

from tensorboard import context as tb_context
from tensorboard import errors as tb_errors
from tensorboard.data import provider

from tensorboard_plugin_channelexplorer import encoding, metadata
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError

logger = logging.getLogger(__name__)

# "Everything the loader kept": the loader's own retention
# (--samples_per_plugin) decides what exists; we never drop more.
DOWNSAMPLE_ALL = 1_000_000_000

_WARNED: set = set()
_WARNED_LOCK = threading.Lock()

__all__ = ["ProviderAccess", "DOWNSAMPLE_ALL"]


class ProviderAccess:
    """Records of one experiment, listed and fetched through a data provider (see `reader.Reader`)."""

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
        if self._first_time((self._eid, run, tag)):
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

    def _first_time(self, key: tuple) -> bool:
        """True the first time `key` is seen (by the `warned` set): warn once per key."""
        with _WARNED_LOCK:
            first = key not in self._warned
            self._warned.add(key)
        return first

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
        series = self._tensor_series(run, [metadata.MANIFEST_TAG, metadata.GRAPH_TAG, metadata.TIMELINE_TAG]).get(run, {}).get(tag)
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

    def has_data(self, run: str, step: int, layer: str | None = None) -> bool:
        """True when the loader kept the layer's (or, with None, the inputs') blob at `step`."""
        tag = metadata.INPUTS_TAG if layer is None else metadata.layer_tag(layer)
        return step in self._blob_index(run).get(tag, {})

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
