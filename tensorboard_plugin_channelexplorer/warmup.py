"""Background warm-up of the scatterplot's numba code, kept off the request path.

UMAP (umap-learn and pynndescent) is numba code that compiles on first use.
Measured in CPU seconds with an empty numba cache: 19 importing pynndescent
(which openTSNE's t-SNE imports too), 12 for UMAP's exact-neighbour path and
32 for its nearest-neighbour-descent path; with the cache filled, 1.7, 0.1
and 11. Compiled in a thread of the TensorBoard process, that work holds the
GIL while the first requests of a freshly opened tab wait behind it. Instead:

1. A child process at the lowest CPU priority (``os.nice(19)``) compiles the
   code and writes it to numba's on-disk cache. umap-learn does not ask numba
   to cache its functions, so `enable_numba_cache` turns caching on for every
   umap/pynndescent dispatcher before anything compiles; a process started
   later loads the machine code instead of compiling it. The child shares no
   GIL with the server, and the scheduler gives the server's requests the CPU
   first. Meanwhile the server's warm-up thread imports the views (scikit-learn,
   scipy: about a second), so the tab's first view request does not pay it.
2. Once the child has finished and the server process has been idle for a
   moment (its CPU time barely moved over ``IDLE_WINDOW_S``), the server loads
   the cached code in-process. Functions that receive another compiled
   function as an argument (pynndescent's nearest-neighbour descent, used by
   UMAP from 4,096 inputs on) cannot be cached by numba and compile here; a
   request that arrives meanwhile shares the GIL with that compilation.

``CHANNELEXPLORER_WARMUP_MODE=thread`` restores the former behaviour (compile
everything in a daemon thread at start); benchmarks use it for the side-by-side
figure. A request that needs UMAP before the warm-up is done compiles what it
needs itself, as before.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from tensorboard_plugin_channelexplorer import lazy_imports

logger = logging.getLogger(__name__)

__all__ = ["MODES", "WARMUP_MODE_ENV", "enable_numba_cache", "start", "wait_until_idle"]

WARMUP_MODE_ENV = "CHANNELEXPLORER_WARMUP_MODE"
MODES = ("child", "thread")

# The server counts as idle when it used less than IDLE_CPU_FRACTION of one
# core over IDLE_WINDOW_S, IDLE_WINDOWS windows in a row.
IDLE_WINDOW_S = 1.0
IDLE_CPU_FRACTION = 0.05
IDLE_WINDOWS = 2

# The child's own limit: a warm-up that cannot finish in this time is abandoned.
CHILD_TIMEOUT_S = 1800.0

_NUMBA_PACKAGES = ("umap", "pynndescent")

_cache_lock = threading.Lock()
_start_lock = threading.Lock()
_started = False


def enable_numba_cache() -> int:
    """Turns on numba's on-disk cache for the umap and pynndescent functions loaded so far.

    Imports both packages first. Functions already compiled in this process
    keep their in-memory code; only later compilations read or write the
    cache. Safe to call repeatedly and from several threads.

    Returns:
        The number of functions whose caching this call turned on.
    """
    # Imports pynndescent and every numba function of both, serialized with the views' imports.
    lazy_imports.import_module("umap")
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    count = 0
    with _cache_lock:
        for name, module in list(sys.modules.items()):
            if module is None or name.split(".")[0] not in _NUMBA_PACKAGES:
                continue
            for value in list(vars(module).values()):
                if isinstance(value, Dispatcher) and isinstance(value._cache, NullCache):
                    value.enable_caching()
                    count += 1
    return count


def _warm_scatter() -> None:
    """Enables the cache, then runs the scatterplot's warm-up (compiles or loads)."""
    lazy_imports.ensure_views_loaded()
    from tensorboard_plugin_channelexplorer.views import scatter

    enable_numba_cache()
    scatter.warm_up()


def _child_main() -> None:
    """Entry point of the warm-up child: lowest priority, fill the cache, exit."""
    try:
        os.nice(19)
    except (AttributeError, OSError):  # no nice on this platform: still off the GIL
        pass
    _warm_scatter()


def wait_until_idle(cpu_seconds=time.process_time, sleep=time.sleep, window_s: float = IDLE_WINDOW_S,
                    fraction: float = IDLE_CPU_FRACTION, windows: int = IDLE_WINDOWS,
                    give_up_s: float | None = None, clock=time.monotonic) -> bool:
    """Blocks until this process's CPU use stays low for ``windows`` windows in a row.

    Args:
        cpu_seconds: CPU time of the process so far (all threads).
        sleep: waits the given seconds.
        window_s: length of one window, in seconds.
        fraction: the most CPU, as a fraction of one core, an idle window uses.
        windows: consecutive idle windows needed.
        give_up_s: stop waiting after this long (None: wait for ever).
        clock: monotonic wall clock.

    Returns:
        True once idle; False when ``give_up_s`` passed first.

    Raises:
        ValueError: on a non-positive ``window_s`` or ``windows``, or a
            ``fraction`` outside (0, 1].
    """
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if int(windows) != windows or windows < 1:
        raise ValueError(f"windows must be an integer >= 1, got {windows!r}")
    t_end = None if give_up_s is None else clock() + give_up_s
    quiet = 0
    while quiet < windows:
        if t_end is not None and clock() >= t_end:
            return False
        c0 = cpu_seconds()
        sleep(window_s)
        quiet = quiet + 1 if cpu_seconds() - c0 < fraction * window_s else 0
    return True


def _preload_views() -> None:
    try:
        lazy_imports.ensure_views_loaded()
    except Exception:  # noqa: BLE001 - the first request imports them again and reports the error
        logger.debug("ChannelExplorer: preloading the views failed", exc_info=True)


def _run_child_then_idle() -> None:
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore")
    cmd = [sys.executable, "-c", "from tensorboard_plugin_channelexplorer import warmup; warmup._child_main()"]
    try:
        child = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        # While the child compiles at low priority, import the views here (about a
        # second): the tab's first view request then finds them loaded.
        _preload_views()
        rc = child.wait(CHILD_TIMEOUT_S)
        if rc != 0:
            logger.info("ChannelExplorer: warm-up child exited with %s", rc)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        logger.info("ChannelExplorer: warm-up child abandoned after %.0f s", CHILD_TIMEOUT_S)
    except OSError:
        logger.info("ChannelExplorer: could not start the warm-up child", exc_info=True)
    wait_until_idle()
    _warm_scatter()


def _run(mode: str) -> None:
    try:
        if mode == "thread":
            _warm_scatter()
        else:
            _run_child_then_idle()
    except Exception:  # noqa: BLE001 - warm-up is an optimization only
        logger.debug("ChannelExplorer: warm-up skipped", exc_info=True)


def start(mode: str | None = None) -> threading.Thread | None:
    """Starts the warm-up in a daemon thread, once per process.

    Args:
        mode: ``child`` (default: a low-priority child process fills numba's
            cache, then the server loads it when idle) or ``thread`` (compile
            in a thread at once). None reads ``CHANNELEXPLORER_WARMUP_MODE``.

    Returns:
        The thread, or None when a warm-up was already started.

    Raises:
        ValueError: on an unknown mode.
    """
    if mode is None:
        mode = os.environ.get(WARMUP_MODE_ENV, "") or "child"
    if mode not in MODES:
        raise ValueError(f"{WARMUP_MODE_ENV} / mode must be one of {', '.join(MODES)}, got {mode!r}")
    global _started
    with _start_lock:
        if _started:
            return None
        _started = True
    thread = threading.Thread(target=_run, args=(mode,), name="channelexplorer-warmup", daemon=True)
    thread.start()
    return thread
