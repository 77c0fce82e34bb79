"""Caps on the native (BLAS/OpenMP) threads of view computations.

The views work on small matrices, where threads gain little, and
multi-threaded BLAS on a machine busy with training (or serving concurrent
requests) can be 100x slower from oversubscription (measured: a 200x2048 SVD
takes 6 s instead of 40 ms with 2 threads on 2 busy cores). The cap is set
with the ``CHANNELEXPLORER_NATIVE_THREADS`` environment variable: default 1,
``0`` leaves the libraries alone.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

NATIVE_THREADS_ENV = "CHANNELEXPLORER_NATIVE_THREADS"


def native_thread_limit() -> int:
    """The configured cap (see `NATIVE_THREADS_ENV`); 0 means no cap."""
    try:
        return max(0, int(os.environ.get(NATIVE_THREADS_ENV, "1")))
    except ValueError:
        return 1


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
    """Runs a view computation with native threads capped."""
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
