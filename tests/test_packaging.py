"""Packaging: the built wheel asks for version ranges, and installing it keeps the user's torch.

The wheel is built offline from a copy of the sources (nothing is written
into the checkout) with the setuptools backend that ``pyproject.toml``
declares. The install test runs in CI like every test here (about a minute).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tensorboard_plugin_channelexplorer"
SOURCES = ("setup.py", "pyproject.toml", "requirements.txt", "README.md")
# Offline: only the machine's wheel directory, never an index.
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def _env():
    env = dict(os.environ, **OFFLINE)
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy(os.path.join(ROOT, name), src / name)
    shutil.copytree(os.path.join(ROOT, PACKAGE), src / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True, env=_env(), timeout=120,
    )  # fmt: skip
    (whl,) = out.glob("*.whl")
    return whl


def _requires(whl) -> dict[str, Requirement]:
    with zipfile.ZipFile(whl) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(z.read(meta).decode("utf-8"))
    reqs = [Requirement(r) for r in message.get_all("Requires-Dist") or []]
    return {r.name.lower(): r for r in reqs if not r.marker}


def _pins(path) -> dict[str, Version]:
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                req = Requirement(line)
                (spec,) = req.specifier
                assert spec.operator == "==", f"{path}: {line} is not an exact pin"
                pins[req.name.lower()] = Version(spec.version)
    return pins


def test_wheel_requires_ranges_that_admit_other_torch_releases(wheel):
    reqs = _requires(wheel)
    torch = reqs["torch"].specifier
    # A user's CUDA torch of another minor release is kept; the next major is not promised.
    for ok in ("2.1.0", "2.5.1", "2.13.0", "2.99"):
        assert torch.contains(ok), f"torch {ok} not admitted by {torch}"
    assert not torch.contains("3.0.0") and not torch.contains("2.0.1")
    for name, req in reqs.items():
        assert all(s.operator != "==" for s in req.specifier), f"{name} is pinned: {req}"
        assert any(s.operator == "<" for s in req.specifier), f"{name} has no upper bound: {req}"


def test_dev_pins_satisfy_the_runtime_ranges(wheel):
    pins = _pins(os.path.join(ROOT, "requirements-dev.txt"))
    assert pins["torch"] == Version("2.13.0")
    for name, req in _requires(wheel).items():
        assert name in pins, f"{name} has no exact pin in requirements-dev.txt"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier}"


def test_installing_the_wheel_keeps_the_installed_torch(wheel, tmp_path):
    import torch

    venv = tmp_path / "venv"
    # No pip of its own: the system pip (seen through the system site-packages)
    # installs into the venv, and no older bundled setuptools shadows the system's.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", str(wheel)], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    installed = [line for line in done.stdout.splitlines() if line.startswith("Installing collected packages")]
    assert installed and "torch" not in installed[0].lower(), done.stdout
    probe = subprocess.run(
        [str(python), "-c", f"import torch, {PACKAGE} as p; print(torch.__version__); print(torch.__file__); print(p.__file__)"],
        capture_output=True, text=True, env=_env(), timeout=120, cwd=str(tmp_path), check=True,
    )  # fmt: skip
    version, torch_file, package_file = probe.stdout.split()
    assert version == torch.__version__ and torch_file == torch.__file__
    assert package_file.startswith(str(venv)), package_file
    assert not list((venv / "lib").glob("python*/site-packages/torch"))
