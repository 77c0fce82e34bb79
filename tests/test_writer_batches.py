"""`log_layers(model, batch)`: the batch forms a data loader yields, and the writer's own step counter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.encoding import decode_npz
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter
from test_writer import _data, _model, _read


def _inputs_and_layer(run_data, step=0):
    (blob,) = dict(run_data["blobs"][metadata.INPUTS_TAG])[step]
    layer_tag = next(t for t in run_data["blobs"] if t.startswith(metadata.LAYER_TAG_PREFIX))
    (layer_blob,) = dict(run_data["blobs"][layer_tag])[step]
    return decode_npz(blob), decode_npz(layer_blob)


def test_every_batch_form_records_what_the_explicit_call_records(tmp_path):
    model = _model()
    x, y = _data()
    forms = {
        "explicit": ((x, y), {}),
        "tensor_labels_kw": ((x,), {"labels": y}),
        "tuple": (((x, y),), {}),
        "list_with_extras": (([x, y, torch.zeros(12, 3), "meta"],), {}),
        "dict_hf": (({"pixel_values": x, "labels": y, "attention": torch.ones(3)},), {}),
        "dict_tv": (({"image": x, "target": y},), {}),
    }
    for run, (args, kwargs) in forms.items():
        with ChannelExplorerWriter(str(tmp_path / run)) as w:
            w.log_layers(model, *args, step=0, **kwargs)
    data = _read(str(tmp_path))
    ref_inputs, ref_layer = _inputs_and_layer(data["explicit"])
    np.testing.assert_array_equal(ref_inputs["labels"], y.numpy())
    for run in forms:
        inputs, layer = _inputs_and_layer(data[run])
        np.testing.assert_array_equal(inputs["labels"], ref_inputs["labels"], err_msg=run)
        assert sorted(layer) == sorted(ref_layer), run
        for key in ref_layer:
            np.testing.assert_array_equal(layer[key], ref_layer[key], err_msg=f"{run} {key}")


def test_images_only_batches_get_one_class(tmp_path):
    x, _ = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(_model(), {"input": x}, step=0)
        w.log_layers(_model(), (x,), step=1)
    data = _read(str(tmp_path))["run"]
    manifests = data["tensors"][metadata.MANIFEST_TAG]
    assert [m["class_names"] for _, m in manifests] == [["all"], ["all"]]
    for step in (0, 1):
        inputs, _ = _inputs_and_layer(data, step)
        assert not inputs["labels"].any()


def test_explicit_labels_win_over_the_batch_labels(tmp_path):
    x, y = _data()
    other = (y + 1) % 4
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(_model(), (x, y), labels=other, step=0)
        w.log_layers(_model(), {"images": x, "label": y}, labels=other, step=1)
    data = _read(str(tmp_path))["run"]
    for step in (0, 1):
        inputs, _ = _inputs_and_layer(data, step)
        np.testing.assert_array_equal(inputs["labels"], other.numpy())


def test_calls_without_a_step_advance_the_writers_counter(tmp_path):
    model = _model()
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(model, (x, y))  # 0
        w.log_layers(model, (x, y))  # 1
        with pytest.raises(ValueError, match="labels has 3 entries"):
            w.log_layers(model, x, y[:3])  # a failed call records nothing
        w.log_layers(model, (x, y))  # 2
        w.log_layers(model, (x, y), step=5)
        w.log_layers(model, (x, y))  # 6
        w.log_layers(model, (x, y), global_step=9)
        w.log_layers(model, (x, y), step=9, global_step=9)  # accumulates into 9
        w.log_layers(model, (x, y))  # 10
        with pytest.raises(ValueError, match=r"step=11 and global_step=12 differ"):
            w.log_layers(model, (x, y), step=11, global_step=12)
        with pytest.raises(ValueError, match="global_step|step must be"):
            w.log_layers(model, (x, y), global_step=-1)
    manifests = _read(str(tmp_path))["run"]["tensors"][metadata.MANIFEST_TAG]
    last = {}
    for step, m in manifests:
        last[step] = m["n_inputs"]
    assert last == {0: 12, 1: 12, 2: 12, 5: 12, 6: 12, 9: 24, 10: 12}


def test_log_dataloader_without_a_step_takes_the_next_step(tmp_path):
    model = _model()
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        w.log_layers(model, (x, y), step=3)
        w.log_dataloader(model, [(x[:6], y[:6]), (x[6:], y[6:])], progress=False)
    manifests = _read(str(tmp_path))["run"]["tensors"][metadata.MANIFEST_TAG]
    assert [s for s, _ in manifests] == [3, 4]
    assert manifests[-1][1]["n_inputs"] == 12


@pytest.mark.parametrize(
    "make_batch, message",
    [
        (lambda x, y: {"image": x, "pixel_values": x}, r"several images keys \['image', 'pixel_values'\]"),
        (lambda x, y: {"image": x, "label": y, "labels": y}, r"several labels keys \['label', 'labels'\]"),
        (lambda x, y: {"x": x, "y": y}, r"no images key: expected one of \['image', 'images', 'pixel_values', 'input'\]"),
        (lambda x, y: (y, x), r"first item must be the \[N, C, H, W\] images, got tensor of shape \(12,\)"),
        (lambda x, y: (x, x[:, 0]), r"second item should be 1-D labels, got tensor of shape \(12, 8, 8\)"),
        (lambda x, y: (), r"batch must be a \[N, C, H, W\] tensor, a tuple/list"),
        (lambda x, y: "images.png", r"batch must be .* got str"),
        (lambda x, y: x[:, 0], r"images must be a 4-D tensor \[N, C, H, W\], got \(12, 8, 8\)"),
    ],
)
def test_ambiguous_or_wrong_batches_are_refused(tmp_path, make_batch, message):
    x, y = _data()
    with ChannelExplorerWriter(str(tmp_path / "run")) as w:
        with pytest.raises(ValueError, match=message):
            w.log_layers(_model(), make_batch(x, y))
        # Nothing was recorded, and the counter did not move.
        w.log_layers(_model(), (x, y))
    manifests = _read(str(tmp_path))["run"]["tensors"][metadata.MANIFEST_TAG]
    assert [s for s, _ in manifests] == [0]
