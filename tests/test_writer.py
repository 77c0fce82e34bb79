"""Tests of ChannelExplorerWriter: validation, accumulation, on-disk format."""

from __future__ import annotations

import glob
import os
import subprocess
import struct
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import decode_json_value, decode_npz
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(n_classes=4):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32, n_classes),
    )


def _data(n=12, n_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % n_classes


def _read(logdir):
    """run -> {"tensors": tag -> [(step, value)], "blobs": tag -> [(step, [bytes])], "metadata": tag -> SummaryMetadata}."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={metadata.PLUGIN_NAME: 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    dp = data_provider.MultiplexerDataProvider(mux, logdir)
    ctx = context.RequestContext()
    out = {}
    tensors = dp.read_tensors(ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME, downsample=1000)
    blobs = dp.read_blob_sequences(ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME, downsample=1000)
    for run in set(tensors) | set(blobs):
        out[run] = {
            "tensors": {t: [(d.step, decode_json_value(d.numpy)) for d in v] for t, v in tensors.get(run, {}).items()},
            "blobs": {
                t: [(d.step, [dp.read_blob(ctx, blob_key=r.blob_key) for r in d.values]) for d in v]
                for t, v in blobs.get(run, {}).items()
            },
            "metadata": {t: mux.SummaryMetadata(run, t) for t in list(tensors.get(run, {})) + list(blobs.get(run, {}))},
        }
    return out


def test_validation_errors(tmp_path):
    model = _model()
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="labels has 10 entries but images has 12 inputs"):
            w.log_layers(model, x, y[:10], step=0)
        with pytest.raises(ValueError, match="sample_ids has 3 entries but images has 12 inputs"):
            w.log_layers(model, x, y, step=0, sample_ids=[1, 2, 3])
        with pytest.raises(ValueError, match="4-D"):
            w.log_layers(model, x[:, 0], y, step=0)
        with pytest.raises(ValueError, match="step"):
            w.log_layers(model, x, y, step=-1)
        with pytest.raises(ValueError, match="step"):
            w.log_layers(model, x, y, step=True)
        with pytest.raises(ValueError, match="class_names has 2 names but labels go up to 3"):
            w.log_layers(model, x, y, step=0, class_names=["a", "b"])
        with pytest.raises(ValueError, match="labels must be >= 0"):
            w.log_layers(model, x, y - 1, step=0)
        with pytest.raises(ValueError, match="stage"):
            w.log_layers(model, x, y, step=0, stage="late")
        w.log_layers(model, x, y, step=3)
        with pytest.raises(ValueError, match="step 2 is smaller than the current step 3"):
            w.log_layers(model, x, y, step=2)
        with pytest.raises(ValueError, match="layers/stage differ"):
            w.log_layers(model, x, y, step=3, stage="both")
    with pytest.raises(ValueError, match="functions"):
        ChannelExplorerWriter(str(tmp_path), functions=("l3",))


def test_roundtrip_format_through_tensorboard_loader(tmp_path):
    model = _model()
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        for step in (0, 1):
            w.log_layers(model, x, y, step=step, class_names=["a", "b", "c", "d"], sample_ids=torch.arange(100, 112))
    data = _read(str(tmp_path))["run"]
    layers = ["0", "3", "4", "6"]
    assert set(data["tensors"]) == {metadata.MANIFEST_TAG, metadata.GRAPH_TAG, metadata.TIMELINE_TAG}
    graph = data["tensors"][metadata.GRAPH_TAG][-1][1]
    logged = {n["id"] for n in graph["nodes"] if n["logged"]}
    assert logged == set(layers)
    bn = next(n for n in graph["nodes"] if n["id"] == "1")
    assert bn["layer"] == "0" and not bn["logged"]  # the BN of the chain points to its layer
    expected_blobs = {metadata.INPUTS_TAG, metadata.THUMBNAILS_TAG}
    expected_blobs |= {metadata.layer_tag(n) for n in layers} | {metadata.maps_tag(n) for n in layers}
    assert set(data["blobs"]) == expected_blobs
    from tensorboard.compat.proto import summary_pb2

    for tag, md in data["metadata"].items():
        assert md.plugin_data.plugin_name == metadata.PLUGIN_NAME
        content = metadata.parse_plugin_content(md.plugin_data.content)
        assert content["version"] == metadata.PROTO_VERSION
        kind = content["kind"]
        want = summary_pb2.DATA_CLASS_TENSOR if kind in ("manifest", "graph", "timeline") else summary_pb2.DATA_CLASS_BLOB_SEQUENCE
        assert md.data_class == want
        if kind in ("layer", "maps"):
            assert tag.endswith("/" + content["layer"])

    steps, manifest = data["tensors"][metadata.MANIFEST_TAG][-1]
    assert [s for s, _ in data["tensors"][metadata.MANIFEST_TAG]] == [0, 1]
    assert manifest["steps_written"] == 2 and manifest["n_inputs"] == 12 and manifest["version"] == 1
    assert manifest["class_names"] == ["a", "b", "c", "d"]
    assert manifest["has_predictions"] and manifest["has_thumbnails"]
    assert set(manifest["writer"]) == {"package_version", "torch"}
    rows = {r["name"]: r for r in manifest["layers"]}
    assert list(rows) == layers
    assert rows["0"] == {
        "name": "0", "type": "Conv2d", "shape": [6, 8, 8], "channels": 6, "stages": ["pre"],
        "functions": ["l2", "otsu", "mean", "max"], "has_maps": True, "has_filter_norm": True,
    }  # fmt: skip
    assert rows["3"]["type"] == "MaxPool2d" and not rows["3"]["has_filter_norm"]

    (_, (inputs_blob,)) = data["blobs"][metadata.INPUTS_TAG][-1]
    inputs = decode_npz(inputs_blob)
    assert set(inputs) == {"labels", "sample_ids", "predictions", "probabilities"}
    np.testing.assert_array_equal(inputs["labels"], y.numpy())
    np.testing.assert_array_equal(inputs["sample_ids"], np.arange(100, 112))
    assert inputs["labels"].dtype == np.int64 and inputs["probabilities"].dtype == np.float32
    model.eval()
    with torch.no_grad():
        logits = model(x)
    np.testing.assert_array_equal(inputs["predictions"], logits.argmax(1).numpy())
    np.testing.assert_allclose(inputs["probabilities"], torch.softmax(logits, 1).max(1).values.numpy(), rtol=1e-5)

    (_, thumbs) = data["blobs"][metadata.THUMBNAILS_TAG][-1]
    assert len(thumbs) == 12 and all(t.startswith(b"\x89PNG") for t in thumbs)

    (_, (layer_blob,)) = data["blobs"][metadata.layer_tag("0")][-1]
    arrays = decode_npz(layer_blob)
    assert set(arrays) == {"pre/l2", "pre/otsu", "pre/mean", "pre/max", "filter_norm", "weight_abs", "weight_sum"}
    assert arrays["weight_abs"].shape == (6, 1) and arrays["weight_sum"].dtype == np.float32
    assert arrays["pre/l2"].shape == (12, 6) and arrays["pre/l2"].dtype == np.float32
    assert arrays["filter_norm"].shape == (6,)

    (_, (maps_blob,)) = data["blobs"][metadata.maps_tag("0")][-1]
    maps = decode_npz(maps_blob)
    assert set(maps) == {"maps", "indices", "lo", "hi"}
    assert maps["maps"].dtype == np.uint8 and maps["maps"].shape == (12, 6, 8, 8)
    np.testing.assert_array_equal(maps["indices"], np.arange(12))
    assert maps["lo"].shape == () and maps["lo"] < 0 < maps["hi"]  # BN output, before the in-place ReLU


def test_accumulation_and_rewrite_after_flush(tmp_path):
    model = _model()
    x, y = _data(20)
    w = ChannelExplorerWriter(str(tmp_path / "run"))
    w.log_layers(model, x[:8], y[:8], step=5)
    w.log_layers(model, x[8:15], y[8:15], step=5)
    w.flush()
    w.log_layers(model, x[15:], ["0", "1", "2", "3", "0"], step=5, class_names=["0", "1", "2", "3"])
    w.close()
    data = _read(str(tmp_path))["run"]
    manifests = data["tensors"][metadata.MANIFEST_TAG]
    assert [m["n_inputs"] for _, m in manifests] == [20]  # the rewrite replaced the first record
    assert manifests[-1][1]["steps_written"] == 1
    (step, (blob,)) = data["blobs"][metadata.INPUTS_TAG][-1]
    inputs = decode_npz(blob)
    assert step == 5
    np.testing.assert_array_equal(inputs["sample_ids"], np.arange(20))
    np.testing.assert_array_equal(inputs["labels"], np.r_[y[:15].numpy(), [0, 1, 2, 3, 0]])
    (_, (blob,)) = data["blobs"][metadata.layer_tag("4")][-1]
    assert decode_npz(blob)["pre/otsu"].shape == (20, 8)
    assert len(data["blobs"][metadata.THUMBNAILS_TAG][-1][1]) == 20


def test_steps_stay_in_order_with_shared_scalars_and_write_false_defers(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    model = _model()
    x, y = _data(12)
    w = ChannelExplorerWriter(str(tmp_path / "run"))
    sw = w.summary_writer
    for epoch in range(3):
        sw.add_scalar("loss", 1.0 / (epoch + 1), epoch)  # a training loop's scalars come first
        w.log_layers(model, x, y, step=epoch)
    w.log_layers(model, x[:6], y[:6], step=3, write=False)
    w.log_layers(model, x[6:], y[6:], step=3, write=False)
    sw.add_scalar("loss", 0.1, 3)
    w.close()
    (path,) = glob.glob(str(tmp_path / "run" / "events.out.tfevents.*"))
    steps = [(e.step, v.tag) for e in EventFileLoader(path).Load() if e.HasField("summary") for v in e.summary.value]
    order = [st for st, _ in steps]
    # Every ChannelExplorer record of epoch k precedes the scalar of epoch k+1.
    assert order[: len(order) - 1] == sorted(order[: len(order) - 1]), order
    manifests = [st for st, tag in steps if tag == metadata.MANIFEST_TAG]
    assert manifests == [0, 1, 2, 3]  # write=False: step 3 written once, at close
    data = _read(str(tmp_path))["run"]
    assert [m["n_inputs"] for _, m in data["tensors"][metadata.MANIFEST_TAG]] == [12, 12, 12, 12]


def test_string_labels_stage_both_and_no_predictions(tmp_path):
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.SiLU(), nn.Upsample(scale_factor=2))
    x, _ = _data(6)
    names = ["cat", "dog", "cat", "owl", "dog", "cat"]
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(gen, x, names, step=0, stage="both", thumbnails=False, maps=False)
    data = _read(str(tmp_path))["run"]
    manifest = data["tensors"][metadata.MANIFEST_TAG][-1][1]
    assert manifest["class_names"] == ["cat", "dog", "owl"]
    assert not manifest["has_predictions"] and not manifest["has_thumbnails"]
    rows = {r["name"]: r for r in manifest["layers"]}
    assert rows["0"]["stages"] == ["pre", "post"] and rows["3"]["stages"] == ["pre"]
    assert not rows["0"]["has_maps"]
    assert metadata.THUMBNAILS_TAG not in data["blobs"] and metadata.maps_tag("0") not in data["blobs"]
    inputs = decode_npz(data["blobs"][metadata.INPUTS_TAG][-1][1][0])
    np.testing.assert_array_equal(inputs["labels"], [0, 1, 0, 2, 1, 0])
    assert "predictions" not in inputs
    arrays = decode_npz(data["blobs"][metadata.layer_tag("0")][-1][1][0])
    assert {"pre/l2", "post/l2", "pre/otsu", "post/otsu"} <= set(arrays)


def test_maps_budget(tmp_path):
    model = _model()
    x, y = _data(40)
    # Per input at full size: 6*8*8 + 6*4*4 + 8*4*4 + 8*2*2 = 640 bytes.
    budget = 40 * 200
    with ChannelExplorerWriter(str(tmp_path / "a"), maps_budget_bytes=budget) as w:
        w.log_layers(model, x, y, step=0)
    with ChannelExplorerWriter(str(tmp_path / "b"), maps_budget_bytes=10 * 28) as w:  # 1x1 maps: 6+6+8+8 B/input
        w.log_layers(model, x[:25], y[:25], step=0)
        w.log_layers(model, x[25:], y[25:], step=0)
    data = _read(str(tmp_path))
    total = 0
    for tag, seq in data["a"]["blobs"].items():
        if tag.startswith(metadata.MAPS_TAG_PREFIX):
            maps = decode_npz(seq[-1][1][0])
            assert maps["maps"].shape[0] == 40 and max(maps["maps"].shape[2:]) < 8
            total += maps["maps"].nbytes
    assert 0 < total <= budget
    total = 0
    for tag, seq in data["b"]["blobs"].items():
        if tag.startswith(metadata.MAPS_TAG_PREFIX):
            maps = decode_npz(seq[-1][1][0])
            np.testing.assert_array_equal(maps["indices"], np.arange(10))
            assert maps["maps"].shape[2:] == (1, 1)
            total += maps["maps"].nbytes
    assert total <= 10 * 28


def test_log_dataloader_and_shared_summary_writer(tmp_path):
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.tensorboard import SummaryWriter

    model = _model()
    x, y = _data(30)
    ids = torch.arange(1000, 1030)
    sw = SummaryWriter(str(tmp_path / "run"))
    w = ChannelExplorerWriter(sw)
    n = w.log_dataloader(model, DataLoader(TensorDataset(x, y, ids), batch_size=8), step=0, max_inputs=25, progress=False)
    assert n == 25
    n = w.log_dataloader(model, DataLoader(TensorDataset(x, y), batch_size=16), step=1, progress=False, layers=["3"])
    assert n == 30
    sw.add_scalar("loss", 0.5, 1)
    w.close()  # flushes; the shared SummaryWriter stays open
    sw.add_scalar("loss", 0.25, 2)
    sw.close()
    assert len(glob.glob(str(tmp_path / "run" / "events.out.tfevents.*"))) == 1
    data = _read(str(tmp_path))["run"]
    manifests = dict(data["tensors"][metadata.MANIFEST_TAG])
    assert manifests[0]["n_inputs"] == 25 and manifests[1]["n_inputs"] == 30
    assert [r["name"] for r in manifests[1]["layers"]] == ["3"]
    seq = dict(data["blobs"][metadata.INPUTS_TAG])
    np.testing.assert_array_equal(decode_npz(seq[0][0])["sample_ids"], np.arange(1000, 1025))
    np.testing.assert_array_equal(decode_npz(seq[1][0])["sample_ids"], np.arange(30))
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == [1, 2]


def test_flush_persists_and_atexit_flushes(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, torch
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from test_writer import _model, _data
        from tensorboard_plugin_channelexplorer import ChannelExplorerWriter
        w = ChannelExplorerWriter({str(tmp_path / "exit")!r})
        x, y = _data()
        w.log_layers(_model(), x, y, step=0)
        w.log_layers(_model(), x, y, step=1)
        w2 = ChannelExplorerWriter({str(tmp_path / "kill")!r})
        w2.log_layers(_model(), x, y, step=0)
        w2.flush()
        import os, signal
        if sys.argv[1] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for mode in ("exit", "kill"):
        proc = subprocess.run([sys.executable, "-c", script, mode], env=env, capture_output=True, timeout=120)
        assert (proc.returncode == 0) == (mode == "exit"), proc.stderr.decode()[-2000:]
        data = _read(str(tmp_path))
        assert [s for s, _ in data["kill"]["tensors"][metadata.MANIFEST_TAG]][-1] == 0
        if mode == "exit":
            assert [s for s, _ in data["exit"]["tensors"][metadata.MANIFEST_TAG]] == [0, 1]
        for d in ("exit", "kill"):
            for f in glob.glob(str(tmp_path / d / "*")):
                os.remove(f)


def test_writer_is_collectable_and_closed_writer_refuses(tmp_path):
    import gc
    import weakref

    w = ChannelExplorerWriter(str(tmp_path))
    ref = weakref.ref(w)
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.log_layers(_model(), *_data(), step=0)
    del w
    gc.collect()
    assert ref() is None


def test_native_crc_matches_tensorboard_and_is_scoped(tmp_path):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as slow
    from tensorboard.summary.writer import record_writer
    from torch.utils.tensorboard import SummaryWriter

    from tensorboard_plugin_channelexplorer.fast_crc import masked_crc32c, native_crc_available, use_native_crc

    if not native_crc_available():
        pytest.skip("google-crc32c (C implementation) is not installed")
    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 1000):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert masked_crc32c(data) == slow(data)
    # Same records as TensorBoard's own writer (the first one, the file
    # version event, holds the wall time of the file's creation).
    records = []
    for name, native in (("slow", False), ("fast", True)):
        sw = SummaryWriter(str(tmp_path / name))
        if native:
            assert use_native_crc(sw)
        for i in range(3):
            sw.add_text("t", "payload" * (i + 1), i, walltime=1.0)
        sw.close()
        (path,) = (tmp_path / name).iterdir()
        data, out = path.read_bytes(), []
        while data:
            (length,) = struct.unpack("<Q", data[:8])
            out.append(data[: 16 + length])
            data = data[16 + length :]
        records.append(out)
    assert len(records[1]) == 4 and records[0][1:] == records[1][1:]
    for rec in records[1]:
        assert struct.unpack("<I", rec[8:12])[0] == slow(rec[:8])
        assert struct.unpack("<I", rec[-4:])[0] == slow(rec[12:-4])
    assert record_writer.masked_crc32c is slow
    assert record_writer.RecordWriter.write.__module__ == record_writer.__name__


def test_predictions_can_be_turned_off(tmp_path):
    model = _model()
    x, y = _data(12)
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(model, x, y, step=0)
        w.log_layers(model, x, y, step=1, predictions=False)
    data = _read(str(tmp_path))["run"]
    assert [m["has_predictions"] for _, m in data["tensors"][metadata.MANIFEST_TAG]] == [True, False]
    (_, (blob,)) = data["blobs"][metadata.INPUTS_TAG][-1]
    assert "predictions" not in decode_npz(blob)
