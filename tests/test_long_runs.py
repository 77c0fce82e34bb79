"""Long runs: steps kept in full on a schedule, compact timeline records at every step.

The oracle of the compact scores is the server's own computation from the
blobs (`views.timeline.knn_loo_score` on `Reader.summary_matrix`), and the
oracle of the schedule is its definition (first step, multiples of
``full_every``, `keep_full`, the last step at ``close``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import python_provider, rust_provider
from helpers import get, get_json, make_client
import logdir_fixtures as fx

torch = pytest.importorskip("torch")
if not fx.writer_available():  # pragma: no cover - the writer is installed in this project
    pytest.skip("the writer needs torch", allow_module_level=True)

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter, metadata  # noqa: E402
from tensorboard_plugin_channelexplorer.handlers import timeline_compact  # noqa: E402
from tensorboard_plugin_channelexplorer.reader import Reader  # noqa: E402
from tensorboard_plugin_channelexplorer.views import timeline as timeline_view  # noqa: E402

N_STEPS = 8
EVERY = 3
V1_LOGDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "logdir_v1")


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3), torch.nn.ReLU(), torch.nn.Conv2d(6, 8, 3), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 3))


def _batch(step: int):
    """30 inputs of 3 classes whose class signal grows with the step (so scores differ by step)."""
    g = torch.Generator().manual_seed(step)
    y = torch.arange(30) % 3
    x = torch.randn(30, 1, 8, 8, generator=g) + (0.3 * step) * y.float()[:, None, None, None]
    return x, y


def _write(logdir: str, run: str, full_every, keep=()):
    model = _model()
    with ChannelExplorerWriter(os.path.join(logdir, run), full_every=full_every) as writer:
        for step in range(N_STEPS):
            writer.log_layers(model, _batch(step), step=step, stage="both", importance=True)
            if step in keep:
                writer.keep_full()


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("long"))
    _write(path, "full", None)
    _write(path, "compact", EVERY, keep=(5,))
    return path


@pytest.fixture(scope="module")
def client(logdir):
    return make_client(python_provider(logdir))[2]


def test_full_every_is_validated():
    for bad in (0, -1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="full_every"):
            ChannelExplorerWriter(os.devnull + "_never", full_every=bad)


def test_compact_score_equals_the_read_side_score(logdir):
    """Every stored score is the server's knn_loo_score of the blob of the same step."""
    reader = Reader(python_provider(logdir))
    records = timeline_compact.compact_records(reader, "full")
    assert sorted(records) == list(range(N_STEPS))
    checked = set()
    for step in range(N_STEPS):
        labels = reader.inputs("full", step)[metadata.KEY_LABELS]
        for record in reader.typed_manifest("full", step).layers:
            layer = record.name
            for stage in record.stages:
                for fn in metadata.SUMMARY_FUNCTIONS:
                    expected = timeline_view.knn_loo_score(reader.summary_matrix("full", step, layer, fn, stage),
                                                           labels, k=timeline_view.DEFAULT_K)
                    stored = records[step].score(layer, metadata.summary_key(stage, fn))
                    assert stored == expected, (step, layer, stage, fn)
                    checked.add(round(expected, 6))
    assert len(checked) > 5  # the scores do differ by step and layer, so a wrong step would show


def test_timeline_from_compact_records_equals_the_blob_path(client, monkeypatch):
    served = get_json(client, "/timeline", run="full", fn="otsu", stage="post")["runs"][0]
    monkeypatch.setattr(timeline_compact, "compact_records", lambda reader, run: {})
    from_blobs = get_json(client, "/timeline", run="full", fn="otsu", stage="post")["runs"][0]
    assert served["scores"] == from_blobs["scores"]
    assert served["accuracy"] == from_blobs["accuracy"]
    assert served["chance"] == from_blobs["chance"]


def test_steps_without_full_blobs_are_on_the_timeline(client):
    """The compact run's timeline equals the full run's at every step, blobs or not."""
    full = get_json(client, "/timeline", run="full")["runs"][0]
    compact = get_json(client, "/timeline", run="compact")["runs"][0]
    assert compact["steps"] == list(range(N_STEPS))
    assert compact["scores"] == full["scores"]
    assert compact["accuracy"] == full["accuracy"]
    assert all(v is not None for row in compact["scores"] for v in row)
    # Per-layer trends: the mean of the layer's summaries over inputs and channels, and the gradient norm.
    assert compact["layer_mean"] == full["layer_mean"]
    assert all(v is not None for row in compact["grad_norm"] for v in row)


def test_layer_mean_trend_is_the_mean_of_the_blob(logdir, client):
    reader = Reader(python_provider(logdir))
    body = get_json(client, "/timeline", run="compact", fn="mean", stage="pre")["runs"][0]
    for step in (0, 3):  # full steps of the compact run
        for i, layer in enumerate(body["layers"]):
            mat = reader.summary_matrix("compact", step, layer, "mean", "pre").astype(np.float64)
            assert body["layer_mean"][i][step] == pytest.approx(mat.mean(), rel=1e-6)
            grad = reader.summaries("compact", step, layer)[metadata.KEY_GRAD_NORM].astype(np.float64)
            assert body["grad_norm"][i][step] == pytest.approx(grad.mean(), rel=1e-6)


@pytest.mark.parametrize("loader", ["python", "rust"])
def test_the_tab_fields_say_which_steps_are_full(logdir, loader):
    dp = python_provider(logdir) if loader == "python" else rust_provider(logdir, expect_runs=["full", "compact"])
    client = make_client(dp)[2]
    runs = {r["run"]: r for r in get_json(client, "/runs")["runs"]}
    # First step, multiples of 3, keep_full(5), and the last step rewritten in full at close().
    expected_full = [0, 3, 5, 6, 7]
    info = runs["compact"]
    assert info["steps"] == list(range(N_STEPS))
    assert info["full_steps"] == expected_full
    assert info["compact_steps"] == [1, 2, 4]
    assert info["steps_written"] == N_STEPS
    assert info["downsampled"] is False  # compact on purpose is not "dropped by TensorBoard"
    assert info["steps_without_blobs"] == []
    assert runs["full"]["full_steps"] == list(range(N_STEPS)) and runs["full"]["compact_steps"] == []
    timeline = get_json(client, "/timeline", run="compact")["runs"][0]
    assert timeline["full_steps"] == expected_full and timeline["compact_steps"] == [1, 2, 4]
    layer = timeline["layers"][0]
    for step in range(N_STEPS):
        resp = get(client, "/summaries", run="compact", step=step, layer=layer)
        assert resp.status_code == (200 if step in expected_full else 404), step
        if step not in expected_full:
            assert "written compact" in resp.get_json()["error"] and "[0, 3, 5, 6, 7]" in resp.get_json()["error"]
            assert resp.get_json()["parameter"] == "step"
    assert get_json(client, "/layers", run="compact", step=1)["layers"]  # a compact step still lists its layers


def test_keep_full_refuses_a_past_step(tmp_path):
    with ChannelExplorerWriter(str(tmp_path / "r"), full_every=10) as writer:
        with pytest.raises(ValueError, match="keep_full"):
            writer.keep_full()
        writer.log_layers(_model(), _batch(0), step=0)
        writer.log_layers(_model(), _batch(1), step=1)
        with pytest.raises(ValueError, match="before the current step"):
            writer.keep_full(0)


def test_a_format_1_logdir_still_loads_and_scores_from_its_blobs():
    """The committed format-1 logdir has no compact records: every step is full, scores come from the blobs."""
    dp = python_provider(V1_LOGDIR)
    client = make_client(dp)[2]
    run = get_json(client, "/runs")["runs"][0]
    assert run["compact_steps"] == [] and run["full_steps"] == run["steps"] and run["steps"]
    body = get_json(client, "/timeline", run=run["run"])["runs"][0]
    reader = Reader(dp)
    assert not timeline_compact.compact_records(reader, run["run"])
    step = run["steps"][-1]
    labels = reader.inputs(run["run"], step)[metadata.KEY_LABELS]
    for i, layer in enumerate(body["layers"]):
        expected = timeline_view.knn_loo_score(reader.summary_matrix(run["run"], step, layer), labels)
        assert body["scores"][i][-1] == round(expected, 6)


def test_scores_are_also_scalars_for_the_scalars_tab(logdir):
    """``channelexplorer/separability/<layer>`` holds the pre/l2 score of every step, as the timeline serves it."""
    from tensorboard import context
    from tensorboard.data.provider import RunTagFilter

    dp = python_provider(logdir)
    client = make_client(dp)[2]
    body = get_json(client, "/timeline", run="compact", fn="l2", stage="pre")["runs"][0]
    tags = [f"channelexplorer/separability/{layer}" for layer in body["layers"]]
    data = dp.read_scalars(context.RequestContext(), experiment_id="", plugin_name="scalars", downsample=1000,
                           run_tag_filter=RunTagFilter(
                               runs=["compact"], tags=tags))["compact"]
    for i, tag in enumerate(tags):
        values = {p.step: p.value for p in data[tag]}
        assert sorted(values) == list(range(N_STEPS))
        assert [round(values[s], 6) for s in range(N_STEPS)] == pytest.approx(body["scores"][i], abs=1e-6)
    accuracy = {p.step: p.value for p in dp.read_scalars(
        context.RequestContext(), experiment_id="", plugin_name="scalars", downsample=1000,
        run_tag_filter=RunTagFilter(
            runs=["compact"], tags=["channelexplorer/accuracy"]))["compact"]["channelexplorer/accuracy"]}
    assert [accuracy[s] for s in range(N_STEPS)] == pytest.approx(body["accuracy"], abs=1e-6)


def test_the_last_step_is_kept_in_full_at_interpreter_exit(tmp_path):
    """Without close(), the exit hook rewrites the last step in full, as close() does."""
    import subprocess
    import sys

    code = (
        "import sys, torch; sys.path.insert(0, sys.argv[2]); import test_long_runs as t; "
        "from tensorboard_plugin_channelexplorer import ChannelExplorerWriter; "
        "w = ChannelExplorerWriter(sys.argv[1], full_every=10); m = t._model(); "
        "[w.log_layers(m, t._batch(s), step=s) for s in range(4)]"
    )
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "exit"), tests_dir], check=True, capture_output=True)
    info = get_json(make_client(python_provider(str(tmp_path)))[2], "/runs")["runs"][0]
    assert info["full_steps"] == [0, 3] and info["compact_steps"] == [1, 2]


def test_class_means_are_the_per_class_means_and_capped():
    from tensorboard_plugin_channelexplorer.timeline_records import MAX_CLASS_MEANS, timeline_json

    rng = np.random.default_rng(0)
    mat = rng.normal(size=(12, 5)).astype(np.float32)
    labels = np.arange(12) % 3
    row = timeline_json({"l": {"pre/l2": mat}}, labels, 4)["layers"][0]
    expected = [float(mat[labels == c].mean()) for c in range(3)] + [None]  # class 3 has no input
    assert row["class_mean"]["pre/l2"] == pytest.approx(expected)
    big = timeline_json({"l": {"pre/l2": mat}}, labels, MAX_CLASS_MEANS + 1)["layers"][0]
    assert big["class_mean"] == {} and big["scores"]["pre/l2"] is not None
    with pytest.raises(ValueError, match="labels"):
        timeline_json({"l": {"pre/l2": mat}}, labels, 2)
