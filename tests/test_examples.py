"""Runs every architecture example end to end (``--quick``) and checks the logdir it writes.

Each example runs as a subprocess, exactly as a user would run it; the logdir
is then loaded with TensorBoard's own Python loader (EventMultiplexer) and must
hold ChannelExplorer tags. The printed summaries are checked for the findings
each example is about. About 2 minutes on 2 cores in total.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tensorboard_plugin_channelexplorer import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name: str, logdir, *extra: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", f"{name}.py"), "--logdir", str(logdir), "--quick", *extra],
        capture_output=True, text=True, timeout=420, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, f"{name} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def ce_runs(logdir) -> dict:
    """Run name -> ChannelExplorer tags, through TensorBoard's Python loader."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"channelexplorer": 0})
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    out = {}
    for run, kinds in mux.Runs().items():
        tags = {t for t in kinds.get("tensors", []) if t.startswith(metadata.TAG_PREFIX)}
        if tags:
            out[run] = (tags, mux)
    return out


def manifest(mux, run, step=None) -> dict:
    from tensorboard.util import tensor_util

    events = mux.Tensors(run, metadata.MANIFEST_TAG)
    ev = events[-1] if step is None else [e for e in events if e.step == step][-1]
    return json.loads(tensor_util.make_ndarray(ev.tensor_proto).item().decode("utf-8"))


def test_imagenet_pretrained(tmp_path):
    out = run_example("imagenet_pretrained", tmp_path / "run")
    runs = ce_runs(tmp_path)
    assert list(runs) == ["run"]
    tags, mux = runs["run"]
    assert metadata.layer_tag("_conv_head") in tags and metadata.GRAPH_TAG in tags
    m = manifest(mux, "run")
    assert m["class_names"] == ["cat", "coffee", "rocket", "flower"] and m["n_inputs"] == 26
    # (b) both deliberately mislabelled inputs are flagged and sit nearer their true class.
    assert "mislabeled inputs flagged: 2/2" in out
    assert "'cat-labelled-coffee/00': 'coffee -> cat'" in out and "'cat-labelled-coffee/01': 'coffee -> cat'" in out
    # (c) pruning the Eq. 3 bottom keeps the predictions better than pruning the top.
    assert "pruning the bottom 25% keeps the ImageNet predictions better" in out


def test_resnet_graph_has_skip_adds(tmp_path):
    out = run_example("resnet", tmp_path / "run")
    tags, mux = ce_runs(tmp_path)["run"]
    assert metadata.layer_tag("layer2.0.downsample.0") in tags
    assert "6 Add nodes with two in-edges" in out
    assert out.count("(1x1-conv skip)") == 2 and out.count("(identity skip)") == 4
    assert [e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)] == [0, 1]
    assert "test/accuracy" in mux.Runs()["run"]["tensors"]


def test_gan_discriminator_groups(tmp_path):
    out = run_example("gan", tmp_path / "run")
    runs = ce_runs(tmp_path)
    assert set(runs) == {"run", os.path.join("run", "by_photo")}
    tags, mux = runs["run"]
    assert metadata.layer_tag("features.0") in tags
    assert sorted({e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)}) == [0, 15]
    assert manifest(mux, "run")["class_names"] == ["real HR", "generated", "bicubic"]
    assert "nearest neighbour of a generated patch" in out


def test_diffusion_unet_timesteps_as_steps(tmp_path):
    out = run_example("diffusion_unet", tmp_path / "run", "--timesteps", "10", "90")
    tags, mux = ce_runs(tmp_path)["run"]
    assert sorted({e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)}) == [10, 90]
    names = [row["name"] for row in manifest(mux, "run", 90)["layers"]]
    assert "mid_block.res2" in names and all(n.startswith(("mid_block", "downsample2")) for n in names)
    assert manifest(mux, "run", 10)["class_names"] == ["digits 0-4", "digits 5-9"]
    assert "condition-group separation" in out


def test_segmentation_dominant_class(tmp_path):
    out = run_example("segmentation", tmp_path / "run")
    tags, mux = ce_runs(tmp_path)["run"]
    m = manifest(mux, "run")
    types = {row["type"] for row in m["layers"]}
    assert {"ConvTranspose2d", "Upsample", "MaxPool2d", "Conv2d"} <= types
    assert m["class_names"] == ["background", "coin shadow", "coin face"]
    assert "pixel accuracy" in out


def test_examples_reject_bad_arguments(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "resnet.py"), "--epochs", "0",
                           "--logdir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "--epochs must be >= 1" in proc.stderr


@pytest.mark.parametrize("name", ["imagenet_pretrained", "resnet", "gan", "diffusion_unet", "segmentation"])
def test_examples_have_help(name):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", f"{name}.py"), "--help"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "--logdir" in proc.stdout and "--quick" in proc.stdout
