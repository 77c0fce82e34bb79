"""A bounded pool of threads for view computations, so no view stalls the others.

Each request thread hands its computation to `ComputePool.run` and waits for
it. At most ``workers`` computations run at once (default
`DEFAULT_WORKERS`, set with ``CHANNELEXPLORER_COMPUTE_WORKERS``), each with
native threads capped (`native_threads.capped_worker`), so a t-SNE over
thousands of inputs occupies one worker while heatmap and Jaccard requests
run on the others. Identical requests compute once: the cache's
`cache.LRUCache.get_or_compute` lets waiters share the first caller's value,
even one too large to be cached.

``CHANNELEXPLORER_COMPUTE_WORKERS=0`` selects the former behaviour, kept to
measure against (``benchmarks/bench_load.py --compute-workers 0``): each
computation runs in its request thread and the views' process-wide lock
(`views._validate.single_threaded`) lets one run at a time.
"""

from __future__ import annotations

import concurrent.futures
import os

from tensorboard_plugin_channelexplorer import native_threads

COMPUTE_WORKERS_ENV = "CHANNELEXPLORER_COMPUTE_WORKERS"
# Concurrent view computations by default: enough for one slow embedding and
# the small views beside it, few enough not to starve a training job on the
# same machine.
DEFAULT_WORKERS = 4


def configured_workers() -> int:
    """The worker count from `COMPUTE_WORKERS_ENV` (default `DEFAULT_WORKERS`; 0: one computation at a time)."""
    text = os.environ.get(COMPUTE_WORKERS_ENV, "")
    try:
        workers = int(text) if text.strip() else DEFAULT_WORKERS
    except ValueError:
        workers = DEFAULT_WORKERS
    return max(0, workers)


class ComputePool:
    """Runs view computations on at most `workers` threads.

    Args:
        workers: concurrent computations (>= 1), or 0 for the former
            one-at-a-time behaviour in the calling thread. None: from
            `COMPUTE_WORKERS_ENV`.

    Raises:
        ValueError: `workers` is negative or not an integer.
    """

    def __init__(self, workers: int | None = None):
        if workers is None:
            workers = configured_workers()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be a non-negative integer, got {workers!r}")
        self.workers = workers
        self._executor = None
        if workers > 0:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="channelexplorer-view")

    def run(self, fn):
        """Returns ``fn()``, computed on a pool thread (its exception re-raised here)."""
        if self._executor is None:
            return native_threads.run_capped(fn)
        if native_threads.in_capped_worker():
            return fn()  # nested: waiting for another worker here could deadlock a full pool
        return self._executor.submit(native_threads.capped_worker, fn).result()

    def shutdown(self) -> None:
        """Stops the worker threads once their tasks are done."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=False)
