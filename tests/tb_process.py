"""Starting and stopping real `tensorboard` and writer processes in tests."""

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


def http_get(url: str, timeout: float = 120) -> tuple[int, str, bytes]:
    """``(status, content type, body)`` of a GET; HTTP errors are returned, not raised."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def start_tensorboard(logdir: str, *extra: str, log_path: str, timeout: float = 90, env: dict | None = None):
    """Starts ``tensorboard`` on `logdir` and waits until the ChannelExplorer tab is enabled.

    The default loader is the Rust data server; pass ``"--load_fast=false"``
    in `extra` for the Python one. Stop the process with `stop`.

    Args:
        logdir: the logdir to serve.
        *extra: more command-line flags.
        log_path: file that receives TensorBoard's output (shown on failure).
        timeout: seconds to wait for the tab.
        env: more environment variables for the process (on top of this
            process's environment and ``CHANNELEXPLORER_NO_WARMUP=1``).

    Returns:
        ``(process, base URL)``.

    Raises:
        RuntimeError: TensorBoard exited or never enabled the tab.
    """
    import json
    import time

    port = free_port()
    cmd = tensorboard_cmd() + ["--logdir", logdir, "--host", "127.0.0.1", "--port", str(port),
                               "--samples_per_plugin", "channelexplorer=0", *extra]
    env = {**os.environ, "CHANNELEXPLORER_NO_WARMUP": "1", **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            status, _, body = http_get(base + "/data/plugins_listing", timeout=5)
            if status == 200 and json.loads(body).get("channelexplorer", {}).get("enabled"):
                return proc, base
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    with open(log_path, "rb") as f:
        tail = f.read()[-3000:].decode("utf-8", "replace")
    raise RuntimeError(f"tensorboard never enabled channelexplorer (exit {proc.poll()}):\n{tail}")


_WRITER_PRELUDE = """\
import os, sys, time, warnings
sys.path.insert(0, {tests!r})
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(1)
import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
model = fx.tiny_cnn(0)
x, y = fx.digits_batch({n_inputs})
w = ChannelExplorerWriter({logdir!r})
"""


def writer_script(logdir: str, n_inputs: int, body: str, **fields) -> str:
    """Python source for a writer subprocess (``python -c``).

    The script defines ``model`` (`logdir_fixtures.tiny_cnn`, seed 0), ``x, y``
    (the first `n_inputs` digits) and ``w`` (a ChannelExplorerWriter on
    `logdir`), then runs `body`.

    Args:
        logdir: the run directory the writer writes to.
        n_inputs: inputs per step.
        body: the rest of the script (dedented here); ``{name}`` fields are
            filled from `fields`.
        **fields: values for the fields of `body`.

    Returns:
        The script's source.
    """
    import textwrap

    tests = os.path.dirname(os.path.abspath(__file__))
    prelude = _WRITER_PRELUDE.format(tests=tests, n_inputs=n_inputs, logdir=logdir)
    return prelude + textwrap.dedent(body).format(**fields)
