"""The compact timeline records of a run, as the ``/timeline`` handler uses them.

A step written compact (``ChannelExplorerWriter(full_every=...)``) has no
layer blobs, but its compact record (`timeline_records`) holds the scores the
server would compute from them. The timeline prefers the record at every step
that has one (it is exact, and reading it loads no blob); logdirs written
before the records existed have none, and the handler computes from the
blobs as before.
"""

from __future__ import annotations

import logging

from tensorboard_plugin_channelexplorer import encoding, metadata
from tensorboard_plugin_channelexplorer.errors import CorruptDataError, InvalidArgumentError
from tensorboard_plugin_channelexplorer.timeline_records import TimelineRecord, parse_timeline_record

logger = logging.getLogger(__name__)

__all__ = ["compact_records", "compact_score", "check_summary", "trend_fields"]


def compact_records(reader, run: str) -> dict[int, TimelineRecord]:
    """step -> the step's compact record (the last one written); corrupt records are left out, with a warning."""
    records = reader._tensor_records(run, metadata.TIMELINE_TAG)
    ckey = ("timeline_compact", reader._eid, run, tuple((s, recs[-1][0]) for s, recs in sorted(records.items())))

    def load():
        out = {}
        for step, recs in records.items():
            where = f"corrupt timeline record at step {step} of run {run!r}"
            try:
                out[step] = parse_timeline_record(encoding.decode_json_value(recs[-1][1]), where)
            except CorruptDataError as exc:
                logger.warning("ChannelExplorer: %s", exc)
        return out

    return reader._cache.get_or_compute(ckey, load)


def compact_score(record: TimelineRecord | None, layer: str, fn: str, stage: str) -> float | None:
    """The stored score of (layer, fn, stage), or None (no record, another ``k``, or not logged)."""
    from tensorboard_plugin_channelexplorer.views import timeline as timeline_view  # scipy: not at plugin import

    if record is None or record.k != timeline_view.DEFAULT_K:
        return None
    return record.score(layer, metadata.summary_key(stage, fn))


def check_summary(records: dict, run: str, fn: str, stage: str, steps: list) -> None:
    """Raises a 400 when every step has a compact record and none knows (fn, stage).

    Steps without a record (older logdirs) are scored from their blobs, which
    report an unknown ``fn`` or ``stage`` themselves.

    Raises:
        InvalidArgumentError: naming ``fn``.
    """
    key = metadata.summary_key(stage, fn)
    if steps and all(s in records for s in steps) and not any(
            key in by_key for s in steps for by_key in records[s].scores.values()):
        raise InvalidArgumentError(f"no layer of run {run!r} was summarized with fn {fn!r} at stage {stage!r}", "fn")


def trend_fields(records: dict, steps: list, layers: list, fn: str, stage: str) -> dict:
    """Per-layer trends from the compact records: ``layer_mean`` and ``grad_norm``, ``[layer][step]``, None where absent."""
    key = metadata.summary_key(stage, fn)

    def rows(get):
        out = []
        for layer in layers:
            values = [None if records.get(s) is None else get(records[s], layer) for s in steps]
            out.append([None if v is None else float(f"{v:.7g}") for v in values])  # 7 significant digits
        return out

    return {
        "layer_mean": rows(lambda r, layer: r.means.get(layer, {}).get(key)),
        "grad_norm": rows(lambda r, layer: r.grad_norm.get(layer)),
    }
