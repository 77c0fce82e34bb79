"""The first `log_layers` of a process: its one-time costs are paid at import, its records unchanged.

Each test runs a fresh interpreter, since what is under test is what a new
process has (or has not) loaded. No timing is asserted (the benchmark
``benchmarks/bench_first_request.py --part log_layers`` measures it); the
tests check the causes instead: which modules the first call imports, whether
the numba kernel is loaded before it, and that the first call of a process
writes the same records as a later one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Modules whose import took most of a first call (cProfile, digits CNN and
# EfficientNet-Lite0): numba (summaries' kernel), scikit-learn and scipy
# (the timeline record's k-NN score, threadpoolctl's controller), PIL.
_HEAVY = ("numba", "sklearn", "scipy", "threadpoolctl", "PIL", "llvmlite")

_FIRST_CALL = r"""
import json, sys, tempfile
import torch
from torch import nn
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
from tensorboard_plugin_channelexplorer import _summaries_cpu

torch.manual_seed(0)
# The digits CNN's layout and batch size (examples/digits.py), where the first call's costs were measured.
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1),
                      nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                      nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).eval()
x = torch.rand(200, 1, 8, 8)
y = torch.arange(200) % 10
loaded = len(_summaries_cpu.summarize_rows.signatures)
w = ChannelExplorerWriter(tempfile.mkdtemp())
before = set(sys.modules)
w.log_layers(model, x, labels=y, step=0)
new = sorted(set(sys.modules) - before)
w.close()
print("RESULT " + json.dumps({"kernels_loaded": loaded, "new_modules": new}))
"""

_FIRST_AND_LATER = r"""
import sys
import torch
from torch import nn
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(5, 7, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(7, 4)).eval()

x = torch.rand(10, 3, 16, 16, generator=torch.Generator().manual_seed(1))
y = torch.arange(10) % 4
for d in sys.argv[1:]:  # the first directory gets the process's first call
    with ChannelExplorerWriter(d) as w:
        w.log_layers(model(), x, labels=y, step=0)
        w.log_layers(model(), x, labels=y, step=1)
"""


def _python(code: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("CHANNELEXPLORER_NO_NUMBA", None)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _records(logdir: str) -> list[tuple]:
    """(step, tag, plugin, tensor bytes) of every summary value, in file order."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    (name,) = [f for f in os.listdir(logdir) if "tfevents" in f]
    out = []
    for event in EventFileLoader(os.path.join(logdir, name)).Load():
        if event.HasField("summary"):
            for v in event.summary.value:
                out.append((event.step, v.tag, v.metadata.plugin_data.plugin_name, v.tensor.SerializeToString(),
                            v.simple_value))
    return out


@pytest.mark.skipif(os.environ.get("CHANNELEXPLORER_NO_NUMBA") is not None, reason="numba disabled")
def test_first_call_imports_nothing_heavy_and_finds_the_kernel_loaded():
    line = [ln for ln in _python(_FIRST_CALL).splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    assert result["kernels_loaded"] >= 1, "the numba kernel was not loaded at import of the writer"
    heavy = [m for m in result["new_modules"] if m.split(".")[0] in _HEAVY]
    assert heavy == [], f"the first log_layers imported {heavy[:10]}"


def test_writer_import_loads_no_scikit_learn():
    """The compact record's k-NN score is numpy: a training script never pays scikit-learn's ~0.6 s import."""
    out = _python("import sys, tensorboard_plugin_channelexplorer.writer as w; "
                  "import tensorboard_plugin_channelexplorer.views as v; v.timeline; "
                  "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'umap', 'openTSNE'}))")
    assert out.strip().splitlines()[-1] == "LOADED []"


def test_views_package_loads_its_modules_on_first_use():
    # heatmap's channel seriation imports scipy.cluster at module level.
    out = _python("import sys, tensorboard_plugin_channelexplorer.views as v; a = 'scipy.cluster' in sys.modules; "
                  "from tensorboard_plugin_channelexplorer.views import heatmap; "
                  "print('RESULT', a, v.heatmap is heatmap, 'scipy.cluster' in sys.modules)")
    assert out.strip().splitlines()[-1] == "RESULT False True True"


def test_first_call_of_a_process_writes_the_records_of_a_later_call(tmp_path):
    first, later = str(tmp_path / "first"), str(tmp_path / "later")
    _python(_FIRST_AND_LATER, first, later)
    a, b = _records(first), _records(later)
    assert len(a) == len(b) > 0
    tags = {r[1] for r in a}
    assert any(t.endswith("manifest") for t in tags) or len(tags) > 3
    for ra, rb in zip(a, b):
        assert ra[:3] == rb[:3]
        assert ra[3:] == rb[3:], f"step {ra[0]} tag {ra[1]} differs between the first and a later call"


def test_warm_up_starts_torch_threads_before_numba(monkeypatch):
    """torch's OpenMP pool starts before numba's kernel: the other order slowed every later log_layers ~45%.

    Measured on EfficientNet-Lite0 (2 cores; ``benchmarks/bench_first_request.py --part log_layers``);
    here only the order of the two first calls is checked.
    """
    import torch

    from tensorboard_plugin_channelexplorer import writer

    calls = []
    conv2d = torch.nn.functional.conv2d
    monkeypatch.setattr(torch.nn.functional, "conv2d", lambda *a, **k: calls.append("torch") or conv2d(*a, **k))
    monkeypatch.setattr(writer, "warm_cpu_kernel", lambda: calls.append("numba") or True)
    writer._warm_up()
    assert "numba" in calls and "torch" in calls[: calls.index("numba")], calls
