"""Starting and stopping real `tensorboard` processes in tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tensorboard_cmd() -> list[str]:
    """The `tensorboard` command of this interpreter's environment."""
    exe = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if os.path.exists(exe):
        return [exe]
    found = shutil.which("tensorboard")
    return [found] if found else [sys.executable, "-m", "tensorboard.main"]


def stop(proc: subprocess.Popen) -> None:
    """Stops a process started with ``start_new_session=True`` and its children
    (the Rust data server is a child of tensorboard) by its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
