"""Runs every architecture example end to end (``--quick``) and checks the logdir it writes.

Each example runs as a subprocess, exactly as a user would run it; the logdir
is then loaded with TensorBoard's own Python loader (EventMultiplexer) and must
hold ChannelExplorer tags. The numbers each example prints are parsed and
checked: against the finding the example states, and, where the example prints
a statistic of the logged summaries (silhouettes), against the same statistic
recomputed with scikit-learn from the event files (read with the multiplexer,
not with the plugin's reader). About 3 minutes of CPU in total (193 s measured).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tensorboard_plugin_channelexplorer import encoding, metadata

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


def logged_arrays(mux, run, tag, step) -> dict:
    """The npz of blob tag `tag` at `step` (last record), read from the multiplexer."""
    ev = [e for e in mux.Tensors(run, tag) if e.step == step][-1]
    return encoding.decode_npz(ev.tensor_proto.string_val[0])


def logged_silhouette(mux, run, layer, step) -> float:
    """scikit-learn's silhouette of the logged L2 summaries of `layer` under the logged labels."""
    from sklearn.metrics import silhouette_score

    S = logged_arrays(mux, run, metadata.layer_tag(layer), step)[metadata.summary_key("pre", "l2")]
    labels = logged_arrays(mux, run, metadata.INPUTS_TAG, step)["labels"]
    return float(silhouette_score(S.astype(np.float64), labels))


def number(pattern: str, text: str, cast=float):
    """The groups of the first match of `pattern` in `text`, cast; fails when it is not printed."""
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in the output:\n{text[-2000:]}"
    values = [cast(v) for v in m.groups()]
    return values[0] if len(values) == 1 else values


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
    # Finding: this briefly trained discriminator keys on content, so a generated patch's nearest
    # input is its own twin (same crop, HR or bicubic) rather than another generated patch.
    twin, photo, generated = number(r"its own twin (\d+)%, same source photo (\d+)%, another generated patch "
                                    r"(\d+)%", out, int)
    assert twin >= generated and photo >= twin, (twin, photo, generated)
    assert "(twins/photos first" in out
    # ... and its X-Means clusters hold as many patches of each group (twins stay together).
    clusters = number(r"X-Means clusters at \S+: (.*)", out, str)
    for cluster in clusters.split("; "):
        counts = [int(v) for v in re.findall(r"(?:real HR|generated|bicubic) (\d+)", cluster)]
        assert len(counts) == 3 and len(set(counts)) == 1, cluster
    # The silhouette table, recomputed from the event files.
    steps = [0, 15]
    rows = re.findall(r"^  (features\.\d+|pool)\s+([-+]\d\.\d{3})\s+([-+]\d\.\d{3})$", out, flags=re.M)
    assert len(rows) >= 3, out
    for layer, *printed in rows:
        for step, value in zip(steps, printed):
            assert abs(logged_silhouette(mux, "run", layer, step) - float(value)) <= 6e-4, (layer, step, value)
    # The groups overlap in every layer (negative silhouettes), before and after training.
    assert all(float(v) < 0 for _, *vals in rows for v in vals), rows


def test_diffusion_unet_timesteps_as_steps(tmp_path):
    out = run_example("diffusion_unet", tmp_path / "run", "--timesteps", "10", "90")
    tags, mux = ce_runs(tmp_path)["run"]
    assert sorted({e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)}) == [10, 90]
    names = [row["name"] for row in manifest(mux, "run", 90)["layers"]]
    assert "mid_block.res2" in names and all(n.startswith(("mid_block", "downsample2")) for n in names)
    assert manifest(mux, "run", 10)["class_names"] == ["digits 0-4", "digits 5-9"]
    out_layer = number(r"condition-group separation at the mid_block output \((\S+), L2 summaries\)", out, str)
    assert out_layer == names[-1] == "mid_block.res2"
    rows = re.findall(r"^\s+(\d+)\s+([-+]\d\.\d{3})\s+(\d\.\d{2})\s+(\d+)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == [10, 90], out
    sil = {int(t): float(v) for t, v, _purity, _n in rows}
    for t, value in sil.items():  # recomputed from the event files
        assert abs(logged_silhouette(mux, "run", out_layer, t) - value) <= 6e-4, (t, value)
    # The finding: the timestep where the groups separate most, and its silhouette.
    best, best_sil = number(r"most separated at t=(\d+) \(silhouette ([-+]\d\.\d{3})\)", out)
    assert int(best) == max(sil, key=sil.get) and best_sil == sil[int(best)]
    assert all(int(n) >= 1 for *_x, n in rows)


def test_segmentation_dominant_class(tmp_path):
    out = run_example("segmentation", tmp_path / "run")
    tags, mux = ce_runs(tmp_path)["run"]
    m = manifest(mux, "run")
    types = {row["type"] for row in m["layers"]}
    assert {"ConvTranspose2d", "Upsample", "MaxPool2d", "Conv2d"} <= types
    assert m["class_names"] == ["background", "coin shadow", "coin face"]
    # The trained net beats always answering the most frequent pixel class.
    fractions = number(r"pixel classes of the coins photo: background (\d+)%, coin shadow (\d+)%, coin face (\d+)%",
                       out, int)
    n_crops, acc = number(r"probe: (\d+) crops; pixel accuracy (\d\.\d{3});", out)
    assert sum(fractions) in (99, 100, 101) and acc > max(fractions) / 100 + 0.1, (fractions, acc)
    assert int(n_crops) == m["n_inputs"]
    # The per-layer silhouette table: every logged layer, in manifest order, recomputed from the event files.
    rows = re.findall(r"^  (\S+)\s+(\w+)\s+(\[[\d, ]+\])\s+([-+]\d\.\d{3})$", out, flags=re.M)
    assert [(r[0], r[1]) for r in rows] == [(row["name"], row["type"]) for row in m["layers"]]
    step = [e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)][-1]
    for name, _type, _shape, value in rows:
        assert abs(logged_silhouette(mux, "run", name, step) - float(value)) <= 6e-4, (name, value)
    order = number(r"dec1\.0 channels by Eq\. 3 \(class-separating first\): \[([\d, ]+)\]", out, str)
    assert len({int(c) for c in order.split(",")}) == 5


def test_quickstart(tmp_path):
    """The README's first command: accuracy climbs, and the printed figures are the logged scalars."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "quickstart.py"), "--logdir",
                           str(tmp_path / "run"), "--epochs", "2"], capture_output=True, text=True, timeout=420,
                          env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    epochs = re.findall(r"^epoch (\d+): loss (\d+\.\d{3})  test accuracy (\d\.\d{3})$", proc.stdout, flags=re.M)
    assert [int(e) for e, _, _ in epochs] == [0, 1], proc.stdout
    losses, accs = [float(v) for _, v, _ in epochs], [float(a) for _, _, a in epochs]
    assert losses[1] < losses[0] and accs[-1] > 0.5, epochs  # ten classes: chance is 0.1
    tags, mux = ce_runs(tmp_path)["run"]
    from tensorboard.util import tensor_util

    logged = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in mux.Tensors("run", "test/accuracy")]
    np.testing.assert_allclose(logged, accs, atol=5e-4)
    assert [e.step for e in mux.Tensors("run", metadata.MANIFEST_TAG)] == [0, 1]
    m = manifest(mux, "run")
    assert m["n_inputs"] == 200 and m["class_names"] == [str(i) for i in range(10)]
    ids = logged_arrays(mux, "run", metadata.INPUTS_TAG, 1)["sample_ids"]
    assert len(np.unique(ids)) == 200  # dataset indices: the same inputs can be followed across epochs
    assert "view it with:" in proc.stdout


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
