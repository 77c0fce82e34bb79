"""`HandlerContext`: what a handler needs besides its query."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Callable

import numpy as np

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.encoding import RawJSON, dumps, jsonable
from tensorboard_plugin_channelexplorer.reader import Reader

logger = logging.getLogger(__name__)
_WARN_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class HandlerContext:
    """The per-request reader and the plugin-wide cache and compute runner.

    Attributes:
        reader: a `Reader` for this request.
        cache: the plugin's shared `LRUCache` (decoded blobs, computed views).
        run_compute: runs a view computation ``() -> value`` and returns its
            value (with native threads capped).
        warned: keys already logged by `warn_once` (shared by the plugin's
            requests).
    """

    reader: Reader
    cache: LRUCache
    run_compute: Callable[[Callable[[], Any]], Any]
    warned: set = dataclasses.field(default_factory=set)

    def warn_once(self, key: tuple, message: str) -> None:
        """Logs `message` as a warning the first time `key` is seen."""
        with _WARN_LOCK:
            if key in self.warned:
                return
            self.warned.add(key)
        logger.warning("ChannelExplorer: %s", message)

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The value of `compute` under `key`: computed once, through `run_compute`, then cached.

        Call it from the handler (the request thread), never inside a
        `compute` function: a computation on a pool worker that waited for
        another key's computation could wait for a task queued behind it.
        """
        return self.cache.get_or_compute(key, lambda: self.run_compute(compute))

    def view_json(self, kind: str, sources, params: tuple, compute: Callable[[], Any],
                  extra: dict | None = None) -> RawJSON:
        """A view's JSON response, computed and serialized once per cache key.

        Args:
            kind: the view name (part of the cache key).
            sources: the ``(run, step, layer)`` records the view reads (see
                `Reader.cache_key`).
            params: the other arguments the view depends on.
            compute: ``() -> dict`` computing the view.
            extra: fields added to the computed dict.
        """
        key = self.reader.cache_key("view/" + kind, sources, params)
        return RawJSON(self.cache.get_or_compute(
            key, lambda: dumps(dict(jsonable(self.run_compute(compute)), **(extra or {})))))

    def labels(self, run: str, step: int) -> np.ndarray:
        """The int64 ``[N]`` class ids of a step's inputs."""
        return np.asarray(self.reader.inputs(run, step)[metadata.KEY_LABELS], dtype=np.int64)
