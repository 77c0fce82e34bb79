"""Crashed and corrupt logs: truncated files, bad CRCs, a SIGKILLed writer, newer format versions.

What is guaranteed (and what TensorBoard's loaders decide for us):

* A file cut mid-record (a crashed or still-writing writer): every complete
  step before the cut is served by both loaders. The cut tail is normal for
  a live writer, so it is not an error: the Python loader notes it once per
  load at DEBUG (``Truncated record in ...``) and resumes when the record
  completes; the Rust server waits silently.
* A record with flipped bytes (CRC mismatch): the Rust server still serves
  it; the flipped npz member fails its zip CRC, so the plugin answers a JSON
  404 "corrupt data" for that layer, logs it once, and serves every other
  layer and step exactly. TensorBoard's Python loader treats a bad CRC like a
  truncated tail and stops reading that file there: the steps before it are
  served, the ones after it are not (a TensorBoard limitation, documented in
  docs/reliability.md).
* A writer killed with SIGKILL right after ``flush()`` loses no flushed step.
* Plugin content with a newer version than the code knows is skipped with
  one warning.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import python_provider, rust_provider
from helpers import get_status_body as get
from helpers import make_client
from tb_process import writer_script
from tensorboard.compat.proto import event_pb2

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.reader import Reader


def records(path: str) -> list[tuple[int, int]]:
    """(offset, data length) of each TFRecord in an event file."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 12 <= len(data):
        (n,) = struct.unpack("<Q", data[off:off + 8])
        if off + 16 + n > len(data):
            break
        out.append((off, n))
        off += 16 + n
    return out


def event_steps(path: str) -> list[tuple[int, int, int, list[str]]]:
    """(offset, length, step, tags) of each record."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for off, n in records(path):
        ev = event_pb2.Event.FromString(data[off + 12: off + 12 + n])
        out.append((off, n, ev.step, [v.tag for v in ev.summary.value]))
    return out


def provider(loader: str, root: str, runs):
    return python_provider(root) if loader == "python" else rust_provider(root, expect_runs=runs)


# ------------------------------------------------------------------ truncated
@pytest.fixture(scope="module")
def truncated_logdir(tmp_path_factory):
    """A real-writer run (steps 0-2) whose file is cut in the middle of a record of step 2."""
    if not fx.writer_available():
        pytest.skip("writer.py is not available")
    root = str(tmp_path_factory.mktemp("truncated"))
    fx.write_torch_run(root, "cut", steps=(0, 1, 2), n_inputs=12)
    (path,) = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(root, "cut")) for f in fs if "tfevents" in f]
    recs = event_steps(path)
    off, n, _, _ = max((r for r in recs if r[2] == 2), key=lambda r: r[1])  # the largest record of step 2
    fx.truncate_file(path, os.path.getsize(path) - (off + 12 + n // 2))
    return root


@pytest.mark.parametrize("loader", ["python", "rust"])
def test_truncated_record_keeps_complete_steps(truncated_logdir, loader, caplog):
    with caplog.at_level(logging.DEBUG, logger="tensorboard"):
        dp = provider(loader, truncated_logdir, ["cut"])
    _, _, client = make_client(dp)
    status, runs = get(client, "/runs")
    (info,) = [r for r in runs["runs"] if r["run"] == "cut"]
    assert info["steps"] == [0, 1], info  # step 2's manifest (written last) was cut off
    for step in (0, 1):
        status, body = get(client, "/layers", run="cut", step=step)
        assert status == 200
        for layer in body["layers"]:
            status, summ = get(client, "/summaries", run="cut", step=step, layer=layer["name"])
            assert status == 200 and summ["shape"][0] == 12, summ
    status, body = get(client, "/layers", run="cut", step=2)
    assert status == 400 and body["parameter"] == "step"
    if loader == "python":
        notes = [r for r in caplog.records if "Truncated record" in r.getMessage()]
        assert len(notes) == 1, [r.getMessage() for r in caplog.records][-10:]


# ------------------------------------------------------------------- bad CRC
@pytest.fixture(scope="module")
def crc_logdir(tmp_path_factory):
    """A synthetic run (steps 0-3) whose step-2 record has flipped bytes inside layer features.0's summaries."""
    root = str(tmp_path_factory.mktemp("crc"))
    expected = fx.write_synthetic_run(root, "crc", steps=(0, 1, 2, 3))
    path = expected["_path"]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    needle = expected[2]["layers"]["features.0"]["pre/l2"].tobytes()
    at = data.find(needle)
    assert at > 0 and data.find(needle, at + 1) < 0
    (rec,) = [(o, n) for o, n in records(path) if o < at < o + 16 + n]
    mid = at + len(needle) // 2
    for i in range(mid, mid + 8):
        data[i] ^= 0xFF
    with open(path, "wb") as f:
        f.write(data)
    return root, expected, rec


@pytest.mark.parametrize("loader", ["python", "rust"])
def test_crc_mismatch(crc_logdir, loader, caplog):
    root, expected, _ = crc_logdir
    _, _, client = make_client(provider(loader, root, ["crc"]))
    caplog.set_level(logging.WARNING, logger="tensorboard_plugin_channelexplorer")
    caplog.clear()
    status, runs = get(client, "/runs")
    (info,) = [r for r in runs["runs"] if r["run"] == "crc"]
    steps = info["steps"]
    # Every step before the bad record is served by both loaders, exactly.
    assert {0, 1} <= set(steps)
    if loader == "python":
        assert steps == [0, 1]  # TensorBoard's Python loader stops at a bad CRC
    else:
        assert steps == [0, 1, 2, 3]
    for step in steps:
        for layer, arrays in expected[step]["layers"].items():
            status, body = get(client, "/summaries", run="crc", step=step, layer=layer, fn="l2")
            if step == 2 and layer == "features.0":
                assert status == 404 and "corrupt" in body["error"] and body["parameter"] is None, body
                continue
            assert status == 200, body
            np.testing.assert_allclose(np.asarray(body["values"], dtype=np.float32), arrays["pre/l2"], rtol=1e-6)
    if 2 in steps:
        for _ in range(3):
            status, body = get(client, "/jaccard", run="crc", step=2, layer="features.0")
            assert status == 404 and "corrupt" in body["error"]
        # Reported once in the log, however often it is requested.
        notes = [r for r in caplog.records if "corrupt" in r.getMessage()]
        assert len(notes) == 1, [r.getMessage() for r in caplog.records]


# -------------------------------------------------------------------- SIGKILL
WRITER_LOOP = """
    for step in range(1000):
        w.log_layers(model, x, y, step=step, class_names=[str(i) for i in range(10)])
        if step % 2 == 0:
            w.flush()
            print("flushed", step, flush=True)
"""


def test_sigkill_after_flush_loses_no_flushed_step(tmp_path):
    if not fx.writer_available():
        pytest.skip("writer.py is not available")
    root = str(tmp_path)
    script = writer_script(os.path.join(root, "killed"), 12, WRITER_LOOP)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    flushed = -1
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("flushed"):
                flushed = int(line.split()[1])
                if flushed >= 4:
                    os.kill(proc.pid, signal.SIGKILL)  # right after flush(), mid-way into the next steps
                    break
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert flushed >= 4, proc.stderr.read()[-3000:]
    assert proc.returncode == -signal.SIGKILL
    for loader in ("python", "rust"):
        reader = Reader(provider(loader, root, ["killed"]), warned=set())
        steps = reader.steps("killed")
        assert set(range(flushed + 1)) <= set(steps), (loader, flushed, steps)
        for step in range(flushed + 1):
            man = reader.manifest("killed", step)
            for layer in man["layers"]:
                assert reader.summary_matrix("killed", step, layer["name"], "l2").shape == (12, layer["channels"])
            assert reader.inputs("killed", step)["labels"].shape == (12,)


# ------------------------------------------------------------- newer version
def test_newer_version_is_skipped_with_one_warning(tmp_path, caplog):
    root = str(tmp_path)
    fx.write_synthetic_run(root, "future", steps=(0, 1), version=metadata.PROTO_VERSION + 1)
    fx.write_synthetic_run(root, "today", steps=(0,))
    for loader in ("python", "rust"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tensorboard_plugin_channelexplorer"):
            _, _, client = make_client(provider(loader, root, ["today"]))
            for _ in range(3):
                status, runs = get(client, "/runs")
                assert [r["run"] for r in runs["runs"]] == ["today"]
                status, body = get(client, "/layers", run="future")
                assert status == 400 and body["parameter"] == "run"
                assert get(client, "/summaries", run="today", layer="features.0")[0] == 200
        warnings = [r.getMessage() for r in caplog.records if "'future'" in r.getMessage()]
        manifest = [m for m in warnings if metadata.MANIFEST_TAG in m]
        assert len(manifest) == 1 and "newer" in manifest[0], (loader, warnings)


# ------------------------------------------------------ records that disagree
def _write_step(root: str, run: str, mutate=None, skip_layers=(), drop_tags=(), replace_blob=None, thumb_size=8):
    """One synthetic step 0 of `run`, edited by ``mutate(data, manifest)`` before it is written.

    Args:
        skip_layers: layers whose blobs are left out.
        drop_tags: tags removed from the record.
        replace_blob: ``(tag, bytes)``: the one blob of `tag` replaced by these bytes.
    """
    data = fx.synthetic_step_data(seed=3, thumb_size=thumb_size)
    man = fx.manifest_for(data)
    if mutate is not None:
        mutate(data, man)
    ev = fx.step_event(0, data, man, fx.graph_for(), wall_time=1000.0, skip_layers=skip_layers)
    kept = [v for v in ev.summary.value if v.tag not in drop_tags]
    del ev.summary.value[:]
    ev.summary.value.extend(kept)
    if replace_blob is not None:
        tag, raw = replace_blob
        (value,) = [v for v in ev.summary.value if v.tag == tag]
        value.tensor.string_val[0] = raw
    fx.write_events(os.path.join(root, run), [ev])
    return data, man


def _shorten_inputs(data, man):
    # 23 consistent inputs arrays against the manifest's (and the summaries') N=24.
    for key in ("labels", "sample_ids", "predictions", "probabilities"):
        data[key] = data[key][:-1]


DISAGREEING = {
    # run: (mutation of the step, requests, substring every error must hold)
    "labels_short": (_shorten_inputs, [("/inputs", {}), ("/scatter", {"method": "pca"}), ("/jaccard", {}),
                                       ("/hierarchy", {}), ("/dataset", {})], "n_inputs=24"),
    "labels_beyond": (lambda d, m: d["labels"].__setitem__(5, 3),
                      [("/inputs", {}), ("/jaccard", {}), ("/hierarchy", {}), ("/dataset", {})], "outside [0, 3)"),
    "labels_negative": (lambda d, m: d["labels"].__setitem__(5, -1), [("/inputs", {}), ("/heatmap", {})],
                        "outside [0, 3)"),
    # Without n_inputs or channels, index=-1 and channel=-1 used to wrap around to the last input or channel.
    "no_n_inputs": (lambda d, m: m.pop("n_inputs"), [("/layers", {}), ("/thumbnail", {"index": -1}),
                                                     ("/overlay", {"index": -2, "channel": 0})], "'n_inputs' is missing"),
    "no_channels": (lambda d, m: m["layers"][0].pop("channels"), [("/layers", {}), ("/overlay", {"index": 0, "channel": -1})],
                    "'channels' is missing"),
    "summaries_n": (lambda d, m: d["layers"]["features.0"].update(
        {k: np.vstack([v, v[:1]]) for k, v in d["layers"]["features.0"].items() if "/" in k}),
        [("/summaries", {}), ("/jaccard", {}), ("/scatter", {"method": "pca"})], "N=24"),  # (the old code checked N too)
    "summaries_c": (lambda d, m: d["layers"]["features.0"].update(
        {k: v[:, :7] for k, v in d["layers"]["features.0"].items() if "/" in k}),
        [("/summaries", {}), ("/heatmap", {"order": "filter_norm"}), ("/jaccard", {})], "C=8"),
    "class_names_missing": (lambda d, m: m.pop("class_names"), [("/layers", {}), ("/hierarchy", {})], "class_names"),
}


@pytest.fixture(scope="module")
def disagreeing_logdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("disagree"))
    for run, (mutate, _, _) in DISAGREEING.items():
        _write_step(root, run, mutate)
    return root


@pytest.mark.parametrize("run", sorted(DISAGREEING))
def test_records_that_disagree_answer_404_with_a_message(disagreeing_logdir, run, caplog):
    _, requests, needle = DISAGREEING[run]
    _, _, client = make_client(python_provider(disagreeing_logdir))
    caplog.set_level(logging.WARNING, logger="tensorboard_plugin_channelexplorer")
    for route, params in requests:
        for _ in range(2):
            status, body = get(client, route, run=run, layer="features.0", **params)
            assert status == 404, (route, status, body if isinstance(body, dict) else body[:40])
            assert body["error"].startswith("corrupt data in the logdir: ") and needle in body["error"], (route, body)
    # Logged once per distinct problem, however often it is requested.
    notes = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert len(notes) == len(set(notes)) >= 1, notes


# ------------------------------------------------- /dataset with a lost layer
def _dataset(client, run):
    status, body = get(client, "/dataset", run=run)
    assert status == 200, body
    return body


def test_dataset_skips_a_missing_or_corrupt_layer_blob(tmp_path):
    root = str(tmp_path)
    without = tuple(row for row in fx.DEFAULT_LAYERS if row[0] != "features.3")
    # The oracle: the same step written without layer features.3 at all.
    _write_step(root, "two_layers", lambda d, m: (d["layers"].pop("features.3"), d["maps"].pop("features.3"),
                                                  m.__setitem__("layers", fx.manifest_for(d, without)["layers"])))
    _write_step(root, "dropped", skip_layers=("features.3",))
    _write_step(root, "corrupt_blob", replace_blob=(metadata.layer_tag("features.3"), b"PK\x03\x04 not a zip"))
    _write_step(root, "complete")
    _, _, client = make_client(python_provider(root))
    want = _dataset(client, "two_layers")
    assert want["layers"] == ["features.0", "classifier"] and want["skipped_layers"] == []
    assert _dataset(client, "complete")["skipped_layers"] == []
    for run, reason in (("dropped", "no summaries of layer 'features.3'"), ("corrupt_blob", "corrupt data in the logdir")):
        body = _dataset(client, run)
        (skipped,) = body.pop("skipped_layers")
        assert skipped["layer"] == "features.3" and reason in skipped["error"], skipped
        assert body == {k: v for k, v in want.items() if k != "skipped_layers"}


# ------------------------------------------------ /overlay without thumbnails
def test_overlay_without_thumbnails_draws_over_neutral_grey(tmp_path):
    from PIL import Image

    root = str(tmp_path)
    # features.0 maps are 6x6; the neutral background is scaled to 66x66 (the first multiple >= 64).
    _write_step(root, "thumbs", thumb_size=66)
    _write_step(root, "no_thumbs", lambda d, m: m.__setitem__("has_thumbnails", False),
                drop_tags=(metadata.THUMBNAILS_TAG,), thumb_size=66)
    _, _, client = make_client(python_provider(root))

    def overlay(run, alpha):
        status, png = get(client, "/overlay", run=run, layer="features.0", index=2, channel=3, alpha=alpha)
        assert status == 200, png
        with Image.open(io.BytesIO(png)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.int64)

    assert get(client, "/thumbnail", run="no_thumbs", index=2)[0] == 404
    grey = overlay("no_thumbs", 0.0)
    assert grey.shape == (66, 66, 3) and (grey == 128).all()
    colour = overlay("thumbs", 1.0)  # the map alone: the background does not show at alpha 1
    np.testing.assert_array_equal(overlay("no_thumbs", 1.0), colour)
    half = overlay("no_thumbs", 0.5)
    assert np.abs(half - (colour + 128) / 2).max() <= 1.0  # rounding of the half-and-half blend


def test_a_thumbnail_that_is_not_a_png_answers_404(tmp_path):
    root = str(tmp_path)
    _write_step(root, "bad_thumb", replace_blob=(metadata.THUMBNAILS_TAG, b"<html><script>alert(1)</script>"))
    _, _, client = make_client(python_provider(root))
    status, body = get(client, "/thumbnail", run="bad_thumb", index=0)
    assert status == 404 and body["error"] == (
        "corrupt data in the logdir: corrupt thumbnail 0 at step 0 of run 'bad_thumb': not a PNG image"), body
    status, png = get(client, "/thumbnail", run="bad_thumb", index=1)  # the other thumbnails still serve
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
