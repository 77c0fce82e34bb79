"""Caps on the native (BLAS, OpenMP, numba) threads of view computations.

The views work on small matrices, where threads gain little, and
multi-threaded BLAS on a machine busy with training (or serving concurrent
requests) can be 100x slower from oversubscription (measured: a 200x2048 SVD
takes 6 s instead of 40 ms with 2 threads on 2 busy cores). The cap is set
with the ``CHANNELEXPLORER_NATIVE_THREADS`` environment variable: default 1,
``0`` leaves the libraries alone.

Two ways to apply it:

* `capped_worker` is called by each task of the compute pool
  (`compute_pool.ComputePool`): it sets the cap and never restores it, so
  concurrent workers need no lock. The BLAS cap is process-wide (OpenBLAS
  has one thread count), the OpenMP and numba caps are per calling thread;
  either way every worker computes with `native_thread_limit` threads. (numba
  is capped from the first task after it was imported, normally by the
  UMAP warm-up before any request.)
* `run_capped` is the former path: ``threadpool_limits`` before each
  computation, in the calling thread. Together with
  `views._validate.single_threaded` (which then takes a process-wide lock)
  it runs one view computation at a time.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

logger = logging.getLogger(__name__)

NATIVE_THREADS_ENV = "CHANNELEXPLORER_NATIVE_THREADS"

_local = threading.local()
_controller_lock = threading.Lock()
# (number of imported modules when made, threadpoolctl controller): rebuilt when
# modules were imported since, since a controller only sees the libraries
# loaded when it is made (and enumerating them costs ~20 ms).
_controller = (-1, None)


def native_thread_limit() -> int:
    """The configured cap (see `NATIVE_THREADS_ENV`); 0 means no cap."""
    try:
        return max(0, int(os.environ.get(NATIVE_THREADS_ENV, "1")))
    except ValueError:
        return 1


def in_capped_worker() -> bool:
    """True inside a compute-pool task, where the native threads are already set as configured."""
    return getattr(_local, "capped", False)


def _threadpool_controller():
    global _controller
    with _controller_lock:
        seen, controller = _controller
        if controller is None or seen != len(sys.modules):
            from threadpoolctl import ThreadpoolController

            controller = ThreadpoolController()
            _controller = (len(sys.modules), controller)
        return controller


def capped_worker(fn):
    """Runs ``fn()`` in the current (pool) thread with native threads capped, marking it as capped."""
    limit = native_thread_limit()
    if limit > 0:
        try:
            _threadpool_controller().limit(limits=limit)  # not restored: this thread only runs capped views
            numba = sys.modules.get("numba")
            if numba is not None:
                numba.set_num_threads(min(limit, numba.config.NUMBA_NUM_THREADS))  # per thread
        except Exception:  # noqa: BLE001 - an optimization only
            logger.debug("ChannelExplorer: could not limit native threads", exc_info=True)
    _local.capped = True  # also with the cap off (0): then the views must not impose one either
    try:
        return fn()
    finally:
        _local.capped = False


def limit_native_threads() -> None:
    """Caps BLAS/OpenMP threads of the libraries loaded so far (see `NATIVE_THREADS_ENV`)."""
    limit = native_thread_limit()
    if limit <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=limit)
    except Exception:  # noqa: BLE001 - an optimization only
        logger.debug("ChannelExplorer: could not limit native threads", exc_info=True)


def run_capped(fn):
    """Runs a view computation with native threads capped, in the calling thread."""
    limit_native_threads()
    return fn()


def warm_up() -> None:
    """Compiles UMAP's numba code so the first request is fast (run in a background thread)."""
    try:
        from tensorboard_plugin_channelexplorer.views import scatter

        limit_native_threads()
        scatter.warm_up()
    except Exception:  # noqa: BLE001 - warm-up is an optimization only
        logger.debug("ChannelExplorer: warm-up skipped", exc_info=True)
