"""Reads ChannelExplorer data through a TensorBoard data provider.

`Reader` never touches the logdir: everything goes through
`provider_access.ProviderAccess` (its base class, which lists, fetches,
indexes and decodes the records) and so through
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

import numpy as np

from tensorboard_plugin_channelexplorer import encoding, metadata, record_checks
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError, NotFoundError
from tensorboard_plugin_channelexplorer.provider_access import DOWNSAMPLE_ALL, ProviderAccess

logger = logging.getLogger(__name__)

__all__ = ["Reader", "DOWNSAMPLE_ALL"]

# Former names of the error classes, kept for code written against them.
ReaderError = InvalidArgumentError
DataNotFoundError = NotFoundError


class Reader(ProviderAccess):
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

    # --------------------------------------------------------------- public API
    def runs(self) -> list[str]:
        """Names of runs that have a readable ChannelExplorer manifest, sorted."""
        listing = self._tensor_series(None, [metadata.MANIFEST_TAG])
        return sorted(r for r, tags in listing.items() if metadata.MANIFEST_TAG in tags)

    def _check_run(self, run) -> None:
        if not isinstance(run, str) or not run:
            raise InvalidArgumentError("parameter 'run' is required", "run")
        if metadata.MANIFEST_TAG not in self._tensor_series(run, [metadata.MANIFEST_TAG, metadata.GRAPH_TAG, metadata.TIMELINE_TAG]).get(run, {}):
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
            "steps_without_blobs", "rewritten_steps", "full_steps", "compact_steps"}``:
            ``full_steps`` are the steps that open in full, ``compact_steps``
            those the writer wrote compact on purpose (``full_every``; not
            counted as dropped); ``steps_written`` is the
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
        without, compact = [], []
        for step in steps:
            try:
                man = self.typed_manifest(run, step)
            except CorruptDataError:
                without.append(step)
                continue
            if not man.full:
                compact.append(step)
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
            "full_steps": [s for s in steps if s not in without and s not in compact],
            "compact_steps": compact,
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
                if self._first_time((self._eid, run, "rewritten", step)):
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
        man = self._full_manifest(run, step)
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
        n = self._full_manifest(run, step).n_inputs
        arrays, _ = self._npz(run, step, metadata.layer_tag(layer), f"summaries of layer {layer!r}", "layer",
                              check=lambda arrays, where: record_checks.check_layer(arrays, record, n, where))
        return arrays

    def _full_manifest(self, run: str, step: int) -> metadata.Manifest:
        """The manifest of a step that was written in full.

        Raises:
            NotFoundError: the writer wrote the step compact (``full_every``).
        """
        man = self.typed_manifest(run, step)
        if not man.full:
            full = self.run_info(run)["full_steps"]
            shown = full if len(full) <= 20 else full[:10] + ["..."] + full[-5:]
            raise NotFoundError(f"step {step} of run {run!r} was written compact (ChannelExplorerWriter full_every): "
                                f"it is on the timeline, but its inputs and layer data were not kept; steps kept in "
                                f"full: {shown}", "step")
        return man

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
            CorruptDataError: the blob is not a PNG.
        """
        step = self.resolve_step(run, step)
        self._check_index(run, step, index)
        datum = self._datum(run, step, metadata.THUMBNAILS_TAG, "thumbnails", "index")
        ckey = ("thumb", self._eid, run, step, datum.wall_time, index)

        def load():
            raw = bytes(self._read_blob(run, metadata.THUMBNAILS_TAG, step, datum, index))
            record_checks.check_png(raw, f"corrupt thumbnail {index} at step {step} of run {run!r}")
            return raw

        return self._cache.get_or_compute(ckey, load)

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
