"""Shared pytest fixtures: real event files read by both TensorBoard loaders."""

from __future__ import annotations

import os
import sys
import time

import pytest

# The UMAP warm-up thread costs ~10 s of CPU per process; tests that need
# UMAP compile it themselves.
os.environ.setdefault("CHANNELEXPLORER_NO_WARMUP", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import logdir_fixtures as fx  # noqa: E402

LOADERS = ("python", "rust")


def python_provider(logdir: str, samples: int = 0):
    """The Python loader: EventMultiplexer + MultiplexerDataProvider."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"channelexplorer": samples})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    return data_provider.MultiplexerDataProvider(mux, logdir)


def rust_provider(logdir: str, samples: int | None = 0, expect_runs=()):
    """The Rust data server (a subprocess that dies with this process).

    `samples` is ``--samples_per_plugin channelexplorer=samples``; None keeps
    TensorBoard's default retention. Waits until every run in `expect_runs`
    has a manifest and the listing is stable.
    """
    from tensorboard import context
    from tensorboard.data import server_ingester
    from tensorboard.util import grpc_util

    try:
        binary = server_ingester.get_server_binary()
    except server_ingester.NoDataServerError as exc:  # pragma: no cover - depends on the platform
        pytest.skip(f"no Rust data server: {exc}")
    ingester = server_ingester.SubprocessServerDataIngester(
        binary,
        logdir,
        reload_interval=0,  # load once
        channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
        samples_per_plugin={} if samples is None else {"channelexplorer": samples},
    )
    ingester.start()
    dp = ingester.data_provider
    # The server loads in the background: wait until every expected run has a
    # manifest and the listing stops changing.
    ctx = context.RequestContext()
    kw = dict(experiment_id="", plugin_name="channelexplorer")
    deadline = time.monotonic() + 60
    previous = None
    while time.monotonic() < deadline:
        tensors = dp.list_tensors(ctx, **kw)
        blobs = dp.list_blob_sequences(ctx, **kw)
        signature = sorted(
            (run, tag, ts.max_step, ts.max_wall_time, getattr(ts, "max_length", None))
            for listing in (tensors, blobs) for run, tags in listing.items() for tag, ts in tags.items()
        )
        ready = all("channelexplorer/manifest" in tensors.get(run, {}) for run in expect_runs)
        if ready and signature == previous:
            break
        previous = signature
        time.sleep(0.25)
    return dp


@pytest.fixture(scope="session")
def logdir(tmp_path_factory):
    """One logdir with every synthetic edge case, each in its own run.

    Returns:
        ``(path, expected)`` where ``expected[run][step]`` is the data a
        reader must serve.
    """
    root = str(tmp_path_factory.mktemp("logdir"))
    expected = {
        "main": fx.write_synthetic_run(root, "main", steps=(0, 1, 2)),
        "post": fx.write_synthetic_run(root, "post", steps=(5,), stages=("pre", "post"), n_inputs=30, seed=7),
        # The last step rewritten, marked with SessionLog.START (see write_synthetic_run).
        "dup": fx.write_synthetic_run(root, "dup", steps=(0, 1), duplicate_step=1, mark_rewrite=True),
        "future": fx.write_synthetic_run(root, "future", steps=(0,), version=99),
        "missing": fx.write_synthetic_run(root, "missing", steps=(0, 1), skip_layers_at={1: ("features.3",)}),
    }
    trunc = fx.write_synthetic_run(root, "trunc", steps=(0, 1, 2, 3))
    fx.truncate_file(trunc["_path"], 200)  # cuts step 3's record mid-way
    expected["trunc"] = trunc
    expected["corrupt"] = fx.write_corrupt_run(root, "corrupt")
    return root, expected


@pytest.fixture(scope="session")
def providers(logdir):
    """loader name -> data provider over the `logdir` fixture (started once)."""
    root, expected = logdir
    cache = {}

    def get(name):
        if name not in cache:
            if name == "python":
                cache[name] = python_provider(root)
            else:
                cache[name] = rust_provider(root, expect_runs=[r for r in expected if r != "future"])
        return cache[name]

    return get


@pytest.fixture(scope="session")
def torch_logdir(tmp_path_factory):
    """Runs logged by the real ChannelExplorerWriter on a tiny CNN (skipped without writer.py).

    Returns:
        ``(path, {run: write_torch_run result})`` with runs ``torch`` (steps 0, 1),
        ``torch_rewrite`` (step 0 written twice: half the inputs, then all, the
        rewrite marked for the Python loader) and ``torch_rewrite_unmarked``.
    """
    if not fx.writer_available():
        pytest.skip("writer.py is not available yet")
    root = str(tmp_path_factory.mktemp("torch_logdir"))
    runs = {
        "torch": fx.write_torch_run(root, "torch", steps=(0, 1)),
        "torch_rewrite": fx.write_torch_run(root, "torch_rewrite", steps=(0,), rewrite=True),
        "torch_rewrite_unmarked": fx.write_torch_run(root, "torch_rewrite_unmarked", steps=(0,), rewrite=True,
                                                     mark_rewrites=False),
    }
    return root, runs
