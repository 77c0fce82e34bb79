"""Progress of long view computations, readable while they run.

A computation (on a `compute_pool` thread) registers itself under the cache
key of the value it computes with `track`; code deep inside the view
(openTSNE's callbacks, umap-learn's epoch loop) reports through `report`,
which finds the current computation through a context variable, so the view
functions keep their signatures. ``/scatter_progress`` reads the entry with
`REGISTRY.get`. Everything lives in this process: the computations run on
threads of the same process, so no storage is needed. Entries expire
`ENTRY_TTL_S` seconds after their last update.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from typing import Hashable

__all__ = ["ENTRY_TTL_S", "ProgressRegistry", "REGISTRY", "report", "track"]

# A finished (or abandoned) entry is forgotten after this many idle seconds.
ENTRY_TTL_S = 300.0

_CURRENT: contextvars.ContextVar = contextvars.ContextVar("channelexplorer_progress", default=None)


class ProgressRegistry:
    """Thread-safe map from a cache key to ``{state, fraction, phase, elapsed_s}``.

    Args:
        ttl_s: seconds after its last update when an entry expires (> 0).
        clock: monotonic clock in seconds (injectable for tests).

    Raises:
        ValueError: `ttl_s` is not a positive number.
    """

    def __init__(self, ttl_s: float = ENTRY_TTL_S, clock=time.monotonic):
        if isinstance(ttl_s, bool) or not isinstance(ttl_s, (int, float)) or not ttl_s > 0:
            raise ValueError(f"ttl_s must be a positive number, got {ttl_s!r}")
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict = {}

    def _expire(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e["updated"] > self.ttl_s]:
            del self._entries[key]

    def start(self, key: Hashable, phase: str = "starting") -> None:
        """Registers a running computation under `key` (restarting any former entry)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            self._entries[key] = {"state": "running", "fraction": None, "phase": phase,
                                  "started": now, "updated": now}

    def update(self, key: Hashable, phase: str | None = None, fraction: float | None = None) -> None:
        """Sets the phase and/or the fraction (clipped to [0, 1]; it never decreases)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry["state"] != "running":
                return
            if phase is not None:
                entry["phase"] = phase
            if fraction is not None:
                fraction = min(1.0, max(0.0, float(fraction)))
                entry["fraction"] = max(fraction, entry["fraction"] or 0.0)
            entry["updated"] = now

    def finish(self, key: Hashable, ok: bool = True) -> None:
        """Marks `key` done (fraction 1), or forgets it when the computation failed."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            if not ok:
                del self._entries[key]
                return
            entry.update(state="done", fraction=1.0, phase="done", updated=now, ended=now)

    def get(self, key: Hashable) -> dict:
        """``{"state": "running"|"done"|"idle", "fraction", "phase", "elapsed_s"}`` of `key`."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            entry = self._entries.get(key)
            if entry is None:
                return {"state": "idle", "fraction": None, "phase": None, "elapsed_s": None}
            end = entry.get("ended", now)
            return {"state": entry["state"], "fraction": entry["fraction"], "phase": entry["phase"],
                    "elapsed_s": round(end - entry["started"], 3)}


REGISTRY = ProgressRegistry()


@contextlib.contextmanager
def track(key: Hashable, registry: ProgressRegistry | None = None):
    """Registers the computation run inside the block under `key`; `report` calls in it update that entry."""
    registry = REGISTRY if registry is None else registry
    registry.start(key)
    token = _CURRENT.set((registry, key))
    ok = False
    try:
        yield
        ok = True
    finally:
        _CURRENT.reset(token)
        registry.finish(key, ok=ok)


def report(phase: str | None = None, fraction: float | None = None) -> None:
    """Updates the entry of the computation this thread runs under `track`; a no-op outside one."""
    current = _CURRENT.get()
    if current is not None:
        current[0].update(current[1], phase=phase, fraction=fraction)
