"""Warm-up: idle detection, and numba's on-disk cache shared between processes."""

import json
import os
import subprocess
import sys

import pytest

from tensorboard_plugin_channelexplorer import warmup


class _FakeProcess:
    """A process whose CPU use per window is scripted; time advances on sleep."""

    def __init__(self, busy_per_window):
        self.busy = list(busy_per_window)
        self.cpu = 0.0
        self.now = 0.0
        self.sleeps = 0

    def cpu_seconds(self):
        return self.cpu

    def sleep(self, s):
        self.sleeps += 1
        self.now += s
        self.cpu += self.busy.pop(0) if self.busy else 0.0

    def clock(self):
        return self.now


def test_wait_until_idle_needs_consecutive_quiet_windows():
    # busy, quiet, busy (resets), quiet, quiet -> idle after the 5th window.
    p = _FakeProcess([0.9, 0.0, 0.5, 0.01, 0.02])
    assert warmup.wait_until_idle(p.cpu_seconds, p.sleep, window_s=1.0, fraction=0.05, windows=2, clock=p.clock)
    assert p.sleeps == 5


def test_wait_until_idle_gives_up():
    p = _FakeProcess([1.0] * 100)
    assert not warmup.wait_until_idle(p.cpu_seconds, p.sleep, window_s=1.0, give_up_s=10.0, clock=p.clock)
    assert p.sleeps == 10


def test_validation():
    with pytest.raises(ValueError, match="window_s must be > 0, got 0"):
        warmup.wait_until_idle(window_s=0)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\], got 2"):
        warmup.wait_until_idle(fraction=2)
    with pytest.raises(ValueError, match="windows must be an integer >= 1, got 0"):
        warmup.wait_until_idle(windows=0)
    with pytest.raises(ValueError, match="must be one of child, thread, got 'fork'"):
        warmup.start("fork")


_PROBE = """
import json, numpy as np
from tensorboard_plugin_channelexplorer import warmup
n = warmup.enable_numba_cache()
from umap.umap_ import smooth_knn_dist
smooth_knn_dist(np.random.default_rng(0).random((30, 5)).astype(np.float32), 5.0)
s = smooth_knn_dist.stats
print(json.dumps({"enabled": n, "hits": sum(s.cache_hits.values()), "misses": sum(s.cache_misses.values())}))
"""


def test_a_later_process_loads_what_an_earlier_one_compiled(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))

    def probe():
        out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = probe(), probe()
    assert first["enabled"] > 50  # every umap/pynndescent function, not a handful
    assert first["hits"] == 0 and first["misses"] >= 1
    assert second["hits"] >= 1 and second["misses"] == 0
    assert any(f.endswith(".nbi") for _, _, fs in os.walk(tmp_path) for f in fs)
