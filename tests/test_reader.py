"""Writer format -> event file -> data provider -> Reader, under both TensorBoard loaders."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from conftest import LOADERS, python_provider, rust_provider

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.errors import CorruptDataError
from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError as ReaderError
from tensorboard_plugin_channelexplorer.errors import NotFoundError as DataNotFoundError
from tensorboard_plugin_channelexplorer.reader import Reader


@pytest.fixture(params=LOADERS)
def reader(request, providers):
    return Reader(providers(request.param), warned=set())


def test_runs_and_steps(reader, logdir):
    _, expected = logdir
    runs = reader.runs()
    assert {"main", "post", "dup", "missing", "trunc", "corrupt"} <= set(runs)
    assert "future" not in runs  # newer content version is skipped
    assert reader.steps("main") == [0, 1, 2]
    assert reader.resolve_step("main") == 2
    assert reader.resolve_step("main", 1) == 1


def test_manifest_graph_inputs_round_trip(reader, logdir):
    _, expected = logdir
    for step in (0, 1, 2):
        exp = expected["main"][step]
        assert reader.manifest("main", step) == exp["manifest"]
        assert reader.graph("main", step) == fx.graph_for()
        inputs = reader.inputs("main", step)
        np.testing.assert_array_equal(inputs["labels"], exp["labels"])
        np.testing.assert_array_equal(inputs["sample_ids"], exp["sample_ids"])
        np.testing.assert_array_equal(inputs["predictions"], exp["predictions"])
        np.testing.assert_allclose(inputs["probabilities"], exp["probabilities"])
    assert reader.manifest("main") == expected["main"][2]["manifest"]


def test_summaries_round_trip(reader, logdir):
    _, expected = logdir
    exp = expected["main"][1]
    for name, arrays in exp["layers"].items():
        got = reader.summaries("main", 1, name)
        assert set(got) == set(arrays)
        for key, arr in arrays.items():
            np.testing.assert_array_equal(got[key], arr)
        mat = reader.summary_matrix("main", 1, name, "otsu", "pre")
        assert mat.dtype == np.float32 and mat.shape == arrays["pre/otsu"].shape
        np.testing.assert_array_equal(mat, arrays["pre/otsu"])
    post = expected["post"][5]["layers"]["features.0"]["post/max"]
    np.testing.assert_array_equal(reader.summary_matrix("post", 5, "features.0", "max", "post"), post)


def test_thumbnails_and_maps(reader, logdir):
    _, expected = logdir
    exp = expected["main"][2]
    for i in (0, 5, 23):
        assert reader.thumbnail_png("main", 2, i) == exp["thumbnails"][i]
    maps = exp["maps"]["features.0"]
    fmap, lo, hi = reader.activation_map("main", 2, "features.0", 4, 3)
    row = int(np.flatnonzero(maps["indices"] == 4)[0])
    want = maps["lo"] + maps["maps"][row, 3].astype(np.float32) / 255.0 * (maps["hi"] - maps["lo"])
    np.testing.assert_allclose(fmap, want, rtol=1e-6)
    assert (lo, hi) == (pytest.approx(-1.5), pytest.approx(4.0))
    assert reader.activation_map("main", 2, "features.0", 5, 3) is None  # odd inputs have no maps
    assert reader.activation_map("main", 2, "classifier", 4, 0) is None  # Linear layer: no maps


def test_errors_name_the_parameter(reader):
    cases = [
        (lambda: reader.steps("nope"), "run"),
        (lambda: reader.manifest("main", 7), "step"),
        (lambda: reader.summaries("main", 1, "nope"), "layer"),
        (lambda: reader.summary_matrix("main", 1, "features.0", "median"), "fn"),
        (lambda: reader.summary_matrix("main", 1, "features.0", "l2", "post"), "stage"),
        (lambda: reader.thumbnail_png("main", 1, 24), "index"),
        (lambda: reader.activation_map("main", 1, "features.0", 0, 8), "channel"),
        (lambda: reader.manifest("future"), "run"),
    ]
    for call, parameter in cases:
        with pytest.raises(ReaderError) as info:
            call()
        assert info.value.parameter == parameter, str(info.value)


def test_duplicate_step_keeps_last(reader, logdir):
    _, expected = logdir
    exp = expected["dup"][1]
    assert reader.steps("dup") == [0, 1]
    assert reader.manifest("dup", 1)["writer"].get("rewritten") is True
    np.testing.assert_allclose(reader.inputs("dup", 1)["probabilities"], exp["probabilities"])
    np.testing.assert_array_equal(reader.summaries("dup", 1, "features.3")["pre/l2"], exp["layers"]["features.3"]["pre/l2"])
    assert reader.thumbnail_png("dup", 1, 3) == exp["thumbnails"][3]


def test_unmarked_duplicate_step(tmp_path, caplog):
    """A step rewritten without a restart marker: the Rust server serves the last record;
    the Python loader can only serve the first record's blobs, so the reader serves that
    record consistently (its manifest too) and warns once."""
    exp = fx.write_synthetic_run(str(tmp_path), "r", steps=(0, 1), duplicate_step=1)
    first = fx.synthetic_step_data(seed=1)  # the first record of step 1
    for name, dp in (("python", python_provider(str(tmp_path))), ("rust", rust_provider(str(tmp_path), expect_runs=["r"]))):
        reader = Reader(dp, warned=set())
        assert reader.steps("r") == [0, 1]
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tensorboard_plugin_channelexplorer.reader"):
            man = reader.manifest("r", 1)
            reader.manifest("r", 1)
            probs = reader.inputs("r", 1)["probabilities"]
            l2 = reader.summary_matrix("r", 1, "features.0", "l2")
        if name == "rust":
            assert man["writer"].get("rewritten") is True
            np.testing.assert_allclose(probs, exp[1]["probabilities"])
            np.testing.assert_array_equal(l2, exp[1]["layers"]["features.0"]["pre/l2"])
            assert reader.run_info("r")["rewritten_steps"] == []  # the server dropped the first record
        else:
            assert "rewritten" not in man["writer"]
            np.testing.assert_allclose(probs, first["probabilities"])
            np.testing.assert_array_equal(l2, first["layers"]["features.0"]["pre/l2"])
            assert reader.run_info("r")["rewritten_steps"] == [1]
            assert len([r for r in caplog.records if "more than once" in r.getMessage()]) == 1


def test_newer_version_skipped_with_one_warning(providers, caplog):
    for loader in LOADERS:
        warned = set()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tensorboard_plugin_channelexplorer.reader"):
            for _ in range(3):
                assert "future" not in Reader(providers(loader), warned=warned).runs()
        msgs = [r.getMessage() for r in caplog.records if "'future'" in r.getMessage()]
        manifest_msgs = [m for m in msgs if metadata.MANIFEST_TAG in m]
        assert len(manifest_msgs) == 1, (loader, msgs)
        assert "newer" in manifest_msgs[0]


def test_truncated_file_serves_complete_steps(reader, logdir):
    _, expected = logdir
    assert reader.steps("trunc") == [0, 1, 2]
    for step in (0, 1, 2):
        np.testing.assert_array_equal(
            reader.summary_matrix("trunc", step, "features.0", "l2"), expected["trunc"][step]["layers"]["features.0"]["pre/l2"]
        )


def test_missing_blobs_reported_and_404(reader):
    info = reader.run_info("missing")
    assert info["steps"] == [0, 1]
    assert info["steps_without_blobs"] == [1]
    assert info["downsampled"] is True
    with pytest.raises(DataNotFoundError):
        reader.summaries("missing", 1, "features.3")
    assert reader.summaries("missing", 0, "features.3")["pre/l2"].shape == (24, 12)
    main = reader.run_info("main")
    assert main == {"run": "main", "steps": [0, 1, 2], "steps_written": 3, "downsampled": False,
                    "steps_without_blobs": [], "rewritten_steps": [], "full_steps": [0, 1, 2], "compact_steps": []}
    # A step that lost a blob does not open in full, and was not written compact on purpose.
    assert info["full_steps"] == [0] and info["compact_steps"] == []


def test_corrupt_blobs_raise_clear_errors(reader):
    assert reader.manifest("corrupt", 0)["n_inputs"] == 24
    with pytest.raises(CorruptDataError, match="corrupt summaries of layer 'features.0'"):
        reader.summaries("corrupt", 0, "features.0")
    with pytest.raises(CorruptDataError, match="activation maps"):
        reader.activation_map("corrupt", 0, "features.0", 0, 0)
    assert reader.inputs("corrupt", 0)["labels"].shape == (24,)


@pytest.mark.parametrize("loader", LOADERS)
def test_downsampling_reported(tmp_path, loader):
    fx.write_synthetic_run(str(tmp_path), "r", steps=tuple(range(6)))
    dp = python_provider(str(tmp_path), samples=2) if loader == "python" else rust_provider(str(tmp_path), samples=2, expect_runs=["r"])
    reader = Reader(dp, warned=set())
    info = reader.run_info("r")
    assert len(info["steps"]) == 2 and info["steps"][-1] == 5
    assert info["steps_written"] == 6
    assert info["downsampled"] is True


def test_shared_cache_reuses_decoded_blobs(providers):
    cache = LRUCache()
    dp = providers("python")
    a = Reader(dp, cache=cache).summaries("main", 0, "features.0")
    b = Reader(dp, cache=cache).summaries("main", 0, "features.0")
    assert a is b
    assert cache.hits > 0


def test_reader_validates_constructor_args(providers):
    with pytest.raises(ValueError, match="data_provider"):
        Reader(None)
    with pytest.raises(ValueError, match="downsample"):
        Reader(providers("python"), downsample=-1)


# ----------------------------------------------------------------- cache.py
def test_lru_bounds_by_count_and_bytes():
    cache = LRUCache(max_entries=3, max_bytes=10_000)
    for i in range(4):
        cache.put(i, np.zeros(10, np.uint8))
    assert 0 not in cache and len(cache) == 3
    cache.get(1)  # 1 becomes most recent
    cache.put("big", np.zeros(9_000, np.uint8))  # forces byte eviction of the least recent
    assert "big" in cache and 1 in cache and 2 not in cache
    assert cache.nbytes <= 10_000
    cache.put("huge", np.zeros(20_000, np.uint8))  # larger than the bound: not stored
    assert "huge" not in cache
    with pytest.raises(ValueError, match="max_entries"):
        LRUCache(max_entries=0)
    with pytest.raises(ValueError, match="max_bytes"):
        LRUCache(max_bytes=-5)


def test_lru_get_or_compute_once_under_threads():
    import threading
    import time

    cache = LRUCache()
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.05)
        return {"a": [1.0, 2.0]}

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute("bad", lambda: 1 / 0)
    assert "bad" not in cache


def test_list_ttl_reuses_listing(providers):
    cache = LRUCache()
    dp = providers("python")
    calls = []

    class Counting:
        def __getattr__(self, name):
            attr = getattr(dp, name)
            if name.startswith("list_"):
                return lambda *a, **k: (calls.append(name), attr(*a, **k))[1]
            return attr

    for _ in range(3):
        Reader(Counting(), cache=cache, list_ttl=60).summaries("main", 1, "features.0")
    assert calls.count("list_blob_sequences") == 1 and calls.count("list_tensors") == 1
    calls.clear()
    for _ in range(2):
        Reader(Counting(), cache=cache).summaries("main", 1, "features.0")
    assert calls.count("list_blob_sequences") == 2


# ------------------------------------------------- real ChannelExplorerWriter
@pytest.mark.parametrize("loader", LOADERS)
def test_torch_writer_round_trip(torch_logdir, loader):
    import torch

    root, runs = torch_logdir
    dp = python_provider(root) if loader == "python" else rust_provider(root, expect_runs=list(runs))
    reader = Reader(dp, warned=set())
    assert {"torch", "torch_rewrite"} <= set(reader.runs())
    info = reader.run_info("torch")
    assert info["steps"] == [0, 1] and info["steps_written"] == 2 and info["downsampled"] is False
    model, x, y = runs["torch"]["model"], runs["torch"]["x"], runs["torch"]["y"]
    with torch.no_grad():
        conv = model[0](x)  # layer "0", summarized before the ReLU
    man = reader.manifest("torch", 1)
    assert man["n_inputs"] == len(y) and man["class_names"][:2] == ["0", "1"]
    assert [lay["name"] for lay in man["layers"]][:2] == ["0", "2"]
    np.testing.assert_array_equal(reader.inputs("torch", 1)["labels"], y.numpy())
    want = {"l2": conv.flatten(2).norm(dim=2), "mean": conv.abs().mean((2, 3)), "max": conv.abs().amax((2, 3))}
    for fn, ref in want.items():
        np.testing.assert_allclose(reader.summary_matrix("torch", 1, "0", fn), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert reader.summary_matrix("torch", 0, "0", "otsu").shape == (len(y), 8)
    assert reader.thumbnail_png("torch", 1, 3)[:8] == b"\x89PNG\r\n\x1a\n"
    # De-quantized maps against the real activations: within half a quantization
    # step (the writer rounds), after the same area averaging to the stored size.
    checked = 0
    for index in range(len(y)):
        for channel in range(conv.shape[1]):
            found = reader.activation_map("torch", 1, "0", index, channel)
            if found is None:
                continue
            fmap, lo, hi = found
            ref = torch.nn.functional.adaptive_avg_pool2d(conv[index:index + 1, channel:channel + 1], fmap.shape)
            half_step = (hi - lo) / 255.0 / 2.0
            np.testing.assert_allclose(fmap, ref[0, 0].numpy(), rtol=0, atol=half_step * (1 + 1e-3) + 1e-6)
            checked += 1
    assert checked >= conv.shape[1], checked  # at least one input's maps, every channel


@pytest.mark.parametrize("loader", LOADERS)
def test_torch_writer_rewritten_step(torch_logdir, loader):
    root, runs = torch_logdir
    dp = python_provider(root) if loader == "python" else rust_provider(root, expect_runs=list(runs))
    reader = Reader(dp, warned=set())
    y = runs["torch_rewrite"]["y"].numpy()
    for run in ("torch_rewrite", "torch_rewrite_unmarked"):
        man = reader.manifest(run, 0)
        labels = reader.inputs(run, 0)["labels"]
        mat = reader.summary_matrix(run, 0, "0", "l2")
        # Whatever record is served, manifest and arrays agree.
        assert man["n_inputs"] == len(labels) == mat.shape[0], run
        if loader == "rust" or run == "torch_rewrite":  # the last record: every input
            np.testing.assert_array_equal(labels, y)
        else:  # unmarked rewrite: the Python loader only serves the first record's blobs
            np.testing.assert_array_equal(labels, y[: len(y) // 2])
            assert reader.run_info(run)["rewritten_steps"] == [0]


def test_writer_available_fails_loudly_on_a_broken_writer(monkeypatch):
    """A writer module that exists but cannot be imported raises instead of skipping the suites."""
    import sys
    import types

    assert fx.writer_available() is True
    import importlib.util

    name = "tensorboard_plugin_channelexplorer.writer"
    broken = types.ModuleType(name)  # the module exists, but without ChannelExplorerWriter
    broken.__spec__ = importlib.util.find_spec(name)
    monkeypatch.setitem(sys.modules, name, broken)
    with pytest.raises(ImportError, match="ChannelExplorerWriter"):
        fx.writer_available()
