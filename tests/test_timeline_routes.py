"""/timeline, /trajectory and /diff over real training of the digits CNN, and steps dropped by sampling.

The digits CNN (examples/digits.py) is trained twice, once (module fixture):
lr 0.05 and a tiny lr 1e-4, 6 epochs, a fixed probe of 200 test inputs with
stable sample ids logged before training and after every epoch.
"""

from __future__ import annotations

import os
import sys
import urllib.parse

import numpy as np
import pytest
from conftest import python_provider, rust_provider
from helpers import PREFIX, make_client

import logdir_fixtures as fx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

EPOCHS = 6
LAST_CONV = "conv3"


def get_json(client, route, status=200, **params):
    """GET a route and check the status; list values repeat the parameter (``run=a&run=b``)."""
    import json

    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    resp = client.get(f"{PREFIX}{route}?{query}")
    assert resp.status_code == status, (route, params, resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.headers["Content-Type"].startswith("application/json")
    return json.loads(resp.get_data(as_text=True))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(client, test_accuracies)`` over a logdir with runs ``fast`` (lr 0.05) and ``slow`` (lr 1e-4)."""
    if not fx.writer_available():
        pytest.skip("writer.py is not available yet")
    import torch
    from bench_timeline import train_and_log

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = str(tmp_path_factory.mktemp("timeline_logdir"))
        acc = {"fast": train_and_log(root, "fast", 0.05, epochs=EPOCHS),
               "slow": train_and_log(root, "slow", 1e-4, epochs=EPOCHS)}
    finally:
        torch.set_num_threads(threads)
    return make_client(python_provider(root))[2], acc


def test_timeline_score_rises_with_accuracy_and_shows_both_runs(trained):
    from scipy.stats import spearmanr

    client, test_acc = trained
    body = get_json(client, "/timeline", run=["fast", "slow"])
    assert body["score"] == "knn_loo" and body["fn"] == "l2" and body["stage"] == "pre"
    assert [r["run"] for r in body["runs"]] == ["fast", "slow"]
    for entry in body["runs"]:
        assert entry["steps"] == list(range(EPOCHS + 1))
        assert entry["steps_written"] == EPOCHS + 1 and entry["downsampled"] is False
        assert LAST_CONV in entry["layers"]
        assert np.asarray(entry["scores"]).shape == (len(entry["layers"]), EPOCHS + 1)
        assert all(0.0 <= v <= 1.0 for row in entry["scores"] for v in row)
        assert entry["chance"] == [0.1] * (EPOCHS + 1)  # 20 inputs of each of 10 classes
    fast = body["runs"][0]
    score = fast["scores"][fast["layers"].index(LAST_CONV)]
    rho = spearmanr(score, fast["accuracy"]).statistic
    print(f"\n{LAST_CONV} score:", score, "\nprobe accuracy:", fast["accuracy"], "\ntest accuracy:",
          [round(a, 3) for a in test_acc["fast"]], f"\nSpearman: {rho:+.3f}")
    assert fast["accuracy"][-1] > 0.8 > fast["accuracy"][0]
    assert score[-1] > score[0] and rho > 0.3
    # Accuracy comes from the logged predictions of the probe; it follows the test accuracy.
    assert spearmanr(fast["accuracy"], test_acc["fast"]).statistic > 0.8
    slow = body["runs"][1]
    assert slow["accuracy"][-1] < 0.6  # the tiny lr barely learns
    # Repeating a run, or an empty one, does not duplicate it.
    again = get_json(client, "/timeline", run=["fast", "fast", ""])
    assert [r["run"] for r in again["runs"]] == ["fast"]


def test_aligned_trajectory_moves_less_than_unaligned(trained):
    client, _ = trained
    for run in ("fast", "slow"):
        body = get_json(client, "/trajectory", run=run, layer=LAST_CONV, method="pca")
        assert body["steps"] == list(range(EPOCHS + 1)) and body["matched"] == 200
        assert body["dropped"] == {str(s): 0 for s in range(EPOCHS + 1)}
        assert len(body["sample_ids"]) == 200 and len(set(body["sample_ids"])) == 200
        assert all(len(f["points"]) == 200 for f in body["frames"])
        al, un = body["mean_displacement"], body["mean_displacement_unaligned"]
        print(f"\n{run} pca aligned {al}\n{run} pca unaligned {un}")
        assert len(al) == len(un) == EPOCHS
        assert np.mean(al) < np.mean(un)
    # t-SNE on three epochs of the slow run (its representation barely changes).
    body = get_json(client, "/trajectory", run="slow", layer=LAST_CONV, method="tsne", steps="4,6,5")
    assert body["steps"] == [4, 5, 6]
    print("slow tsne aligned", body["mean_displacement"], "unaligned", body["mean_displacement_unaligned"])
    assert np.mean(body["mean_displacement"]) < np.mean(body["mean_displacement_unaligned"])


def test_diff_between_steps_and_runs(trained):
    client, _ = trained
    body = get_json(client, "/diff", run="fast", layer=LAST_CONV, step_b=EPOCHS)
    assert body["a"] == {"run": "fast", "step": 0} and body["b"] == {"run": "fast", "step": EPOCHS}
    assert body["matched"] == 200 and body["class_boundaries"] == list(range(0, 201, 20))
    d = np.asarray(body["diff"])
    assert d.shape == (200, 200) and body["range"][0] == -body["range"][1]
    assert 0 < body["mean_abs_diff"] <= 1
    assert len(body["rank_changes"]) == 20
    deltas = [abs(r["delta"]) for r in body["rank_changes"]]
    assert deltas == sorted(deltas, reverse=True) and deltas[0] > 0
    assert all(r["delta"] == r["rank_b"] - r["rank_a"] for r in body["rank_changes"])
    # Two runs at the last epoch; a step with itself is all zeros.
    runs = get_json(client, "/diff", run="slow", step=EPOCHS, run_b="fast", step_b=EPOCHS, layer=LAST_CONV)
    assert runs["a"]["run"] == "slow" and runs["b"]["run"] == "fast" and runs["matched"] == 200
    same = get_json(client, "/diff", run="fast", step=3, step_b=3, layer=LAST_CONV, order="variance")
    assert same["mean_abs_diff"] == 0 and all(r["delta"] == 0 for r in same["rank_changes"])


@pytest.mark.parametrize("route,params,parameter", [
    ("/timeline", {}, "run"),
    ("/timeline", {"run": "nope"}, "run"),
    ("/timeline", {"run": "fast", "fn": "median"}, "fn"),
    ("/timeline", {"run": "fast", "stage": "post"}, "stage"),
    ("/trajectory", {"layer": LAST_CONV}, "run"),
    ("/trajectory", {"run": "nope", "layer": LAST_CONV}, "run"),
    ("/trajectory", {"run": "fast"}, "layer"),
    ("/trajectory", {"run": "fast", "layer": "conv9"}, "layer"),
    ("/trajectory", {"run": "fast", "layer": LAST_CONV, "method": "lle"}, "method"),
    ("/trajectory", {"run": "fast", "layer": LAST_CONV, "align": "spin"}, "align"),
    ("/trajectory", {"run": "fast", "layer": LAST_CONV, "seed": "-1"}, "seed"),
    ("/trajectory", {"run": "fast", "layer": LAST_CONV, "steps": "0,x"}, "steps"),
    ("/trajectory", {"run": "fast", "layer": LAST_CONV, "steps": "0,99"}, "steps"),
    ("/diff", {"run": "fast"}, "layer"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "step": "9"}, "step"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "run_b": "nope"}, "run_b"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "step_b": "x"}, "step_b"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "step_b": "99"}, "step_b"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "eta": "0"}, "eta"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "order": "random"}, "order"),
    ("/diff", {"run": "fast", "layer": LAST_CONV, "fn": "median"}, "fn"),
])
def test_bad_parameters_are_400_naming_the_parameter(trained, route, params, parameter):
    client, _ = trained
    body = get_json(client, route, 400, **params)
    assert body["parameter"] == parameter, body


# ------------------------------------------------------------ ids that differ
def _events_with_ids(ids_per_step, n_inputs=24):
    events = []
    for step, ids in enumerate(ids_per_step):
        data = fx.synthetic_step_data(n_inputs=n_inputs, seed=step)
        data["sample_ids"] = np.asarray(ids)
        man = fx.manifest_for(data, steps_written=step + 1)
        events.append(fx.step_event(step, data, man, fx.graph_for(), wall_time=1000.0 + step))
    return events


def test_inputs_followed_by_sample_id_when_ids_differ(tmp_path):
    base = np.arange(100, 124)
    ids = [base, np.r_[base[3:], [900, 901, 902]], base[::-1]]  # step 1 lost 3 inputs, step 2 reversed
    fx.write_events(str(tmp_path / "ids"), _events_with_ids(ids))
    client = make_client(python_provider(str(tmp_path)))[2]
    body = get_json(client, "/trajectory", run="ids", layer="features.0", method="pca")
    assert body["matched"] == 21 and body["dropped"] == {"0": 3, "1": 3, "2": 3}
    assert body["sample_ids"] == list(range(103, 124))
    diff = get_json(client, "/diff", run="ids", step=0, step_b=2, layer="features.0")
    assert diff["matched"] == 24 and diff["sample_ids"] == list(range(100, 124))
    subset = get_json(client, "/trajectory", run="ids", layer="features.0", steps="0,2")
    assert subset["matched"] == 24 and subset["dropped"] == {"0": 0, "2": 0}
    # No id in common: a 400 naming the steps.
    fx.write_events(str(tmp_path / "disjoint"), _events_with_ids([base, base + 1000]))
    client = make_client(python_provider(str(tmp_path)))[2]
    assert get_json(client, "/trajectory", 400, run="disjoint", layer="features.0")["parameter"] == "steps"
    assert get_json(client, "/diff", 400, run="disjoint", layer="features.0", step_b=1)["parameter"] == "step"


# ------------------------------------------------------------ downsampling
@pytest.fixture(scope="module")
def long_logdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("long_logdir"))
    fx.write_synthetic_run(root, "long", steps=tuple(range(12)), n_inputs=12)
    return root


@pytest.mark.parametrize("loader", ["python10", "rust10", "rust_default"])
def test_downsampled_steps_are_reported_by_runs_and_timeline(long_logdir, loader):
    if loader == "python10":
        dp = python_provider(long_logdir, samples=10)  # the Python loader's size guidance
    elif loader == "rust10":
        dp = rust_provider(long_logdir, samples=10, expect_runs=["long"])  # --samples_per_plugin channelexplorer=10
    else:
        dp = rust_provider(long_logdir, samples=None, expect_runs=["long"])  # TensorBoard's default retention
    client = make_client(dp)[2]
    (info,) = get_json(client, "/runs")["runs"]
    assert info["steps_written"] == 12 and info["downsampled"] is True
    kept_with_blobs = [s for s in info["steps"] if s not in info["steps_without_blobs"]]
    assert len(kept_with_blobs) == 10 and 11 in kept_with_blobs  # reservoirs always keep the latest step
    (run,) = get_json(client, "/timeline", run="long")["runs"]
    assert run["steps"] == info["steps"] and run["steps_written"] == 12 and run["downsampled"] is True
    for step, acc in zip(run["steps"], run["accuracy"]):
        assert (acc is None) == (step in info["steps_without_blobs"])
    for row in run["scores"]:
        assert [v is None for v in row] == [s in info["steps_without_blobs"] for s in run["steps"]]
    # /trajectory uses only the steps whose blobs were kept.
    traj = get_json(client, "/trajectory", run="long", layer="features.0", method="pca")
    assert traj["steps"] == kept_with_blobs


def test_all_steps_kept_with_samples_per_plugin_zero(long_logdir):
    client = make_client(python_provider(long_logdir, samples=0))[2]
    (info,) = get_json(client, "/runs")["runs"]
    assert info["steps"] == list(range(12)) and info["downsampled"] is False
    (run,) = get_json(client, "/timeline", run="long")["runs"]
    assert run["downsampled"] is False and all(v is not None for row in run["scores"] for v in row)
    # Synthetic classes are separable: the score is far above chance.
    assert min(min(row) for row in run["scores"]) > 0.9 and run["chance"][0] == pytest.approx(4 / 12)
