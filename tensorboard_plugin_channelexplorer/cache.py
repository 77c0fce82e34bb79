"""A bounded, thread-safe LRU cache for decoded blobs and computed views.

Keys are hashable tuples, by convention
``(kind, experiment_id, run, step, layer_or_tag, record_token, *view_params)``
where ``record_token`` identifies the exact record read (its wall time), so a
rewritten step never serves a stale entry.

The cache is bounded twice: by entry count and by an approximate byte size
(``ndarray.nbytes``, ``len(bytes)``, a recursive estimate for JSON-able
dicts/lists). Default limits: `DEFAULT_MAX_ENTRIES` = 512 entries and
`DEFAULT_MAX_BYTES` = 512 MiB. A value larger than ``max_bytes`` is returned
but not stored.

Concurrent `get_or_compute` calls for the same key compute once: the others
wait for the first and share its value, even a value too large to be stored
(a t-SNE of 2048 channels should not run twice because the frontend asked
twice).
"""

from __future__ import annotations

import collections
import sys
import threading
from typing import Any, Callable, Hashable

import numpy as np

DEFAULT_MAX_ENTRIES = 512
DEFAULT_MAX_BYTES = 512 * 1024 * 1024

# Per-object overheads used by `estimate_nbytes`; rough CPython figures.
_CONTAINER_OVERHEAD = 64
_SCALAR_SIZE = 32


def estimate_nbytes(value: Any, _depth: int = 0) -> int:
    """Approximates the memory held by `value`.

    Args:
        value: an ndarray, bytes, str, number, or a dict/list/tuple of those.

    Returns:
        An approximate size in bytes (exact for arrays and bytes).
    """
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + 112
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value) + 33
    if isinstance(value, str):
        return len(value) + 49
    if value is None or isinstance(value, (bool, int, float, np.generic)):
        return _SCALAR_SIZE
    if _depth > 32:  # pathological nesting: do not recurse further
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return _CONTAINER_OVERHEAD + sum(
            estimate_nbytes(k, _depth + 1) + estimate_nbytes(v, _depth + 1) for k, v in value.items()
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        if value and all(isinstance(v, (int, float)) for v in value):
            return _CONTAINER_OVERHEAD + 8 * len(value) + _SCALAR_SIZE * len(value)
        return _CONTAINER_OVERHEAD + 8 * len(value) + sum(estimate_nbytes(v, _depth + 1) for v in value)
    return sys.getsizeof(value)


class _Flight:
    """One computation in progress: waiters block on `done`, then read `value` when `ok`."""

    __slots__ = ("done", "value", "ok")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.ok = False


class LRUCache:
    """Thread-safe LRU bounded by entry count and approximate bytes.

    Args:
        max_entries: most entries kept (>= 1).
        max_bytes: most approximate bytes kept (>= 1).
        sizeof: function estimating the size of a value.

    Raises:
        ValueError: if a bound is not a positive integer.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sizeof: Callable[[Any], int] = estimate_nbytes,
    ):
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._data: collections.OrderedDict[Hashable, tuple[Any, int]] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, _Flight] = {}
        self.hits = 0
        self.misses = 0
        # Callers served the value of a computation they waited for (not a stored one).
        self.shared = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    @property
    def nbytes(self) -> int:
        """Approximate bytes currently held."""
        with self._lock:
            return self._bytes

    def get(self, key: Hashable, default: Any = None) -> Any:
        """Returns the cached value (marking it recently used) or `default`."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Stores `value`, evicting least recently used entries as needed."""
        size = int(self._sizeof(value))
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Returns the cached value, computing and storing it on a miss.

        Concurrent callers with the same key wait for the first computation
        and share its value, also when the value is too large to be stored.
        When it fails, nothing is stored and each waiter tries itself (so
        each caller sees its own exception).
        """
        while True:
            with self._lock:
                item = self._data.get(key)
                if item is not None:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return item[0]
                flight = self._inflight.get(key)
                if flight is None:
                    self.misses += 1
                    flight = _Flight()
                    self._inflight[key] = flight
                    break
            flight.done.wait()
            if flight.ok:
                with self._lock:
                    self.shared += 1
                return flight.value
        try:
            value = compute()
            self.put(key, value)
            flight.value, flight.ok = value, True
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        """Drops every entry."""
        with self._lock:
            self._data.clear()
            self._bytes = 0
