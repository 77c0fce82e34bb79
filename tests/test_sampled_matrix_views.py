"""Jaccard, hierarchy and dataset views past the matrix cap: seeded class-stratified samples.

Oracles: a hand-worked allocation, Jaccard cells recomputed from the original
rows with Python sets, and a synthetic layer whose merged class pair is known
by construction (classes 0 and 3 share one channel prototype).
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse

import numpy as np
import pytest
from helpers import PREFIX, make_client

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer.views import dataset, hierarchy, jaccard, sampling


def _blobs(n_per_class, n_channels=96, seed=0, merged=((0, 3),)):
    """Summaries whose classes each fire their own block of channels; `merged` pairs share one block."""
    rng = np.random.default_rng(seed)
    k = len(n_per_class)
    block = {c: c for c in range(k)}
    for a, b in merged:
        block[b] = block[a]
    width = n_channels // k
    labels = np.repeat(np.arange(k), n_per_class)
    S = rng.random((labels.size, n_channels)).astype(np.float32) * 0.6
    for i, c in enumerate(labels):
        cols = np.arange(block[c] * width, (block[c] + 1) * width)
        S[i, cols] += 0.5 + rng.random(width) * 0.5
    perm = rng.permutation(labels.size)  # classes interleaved, so indices are not sorted by class
    return S[perm], labels[perm]


def _jaccard_by_hand(row_a, row_b, a):
    """Eq. 1 with Python sets on rows of distinct positive values: the top-`a` channel indices of each."""
    sa = set(np.argsort(-row_a)[:a].tolist())
    sb = set(np.argsort(-row_b)[:a].tolist())
    return len(sa & sb) / len(sa | sb)


# ------------------------------------------------------------------ sampling
def test_allocation_golden_case():
    # floor m = 4096 // (2 * 4) = 512 -> base [512, 512, 30, 5] (1,059 rows); 3,037 left, shared by
    # what is left: 9,488 and 4,488 of 13,976 -> 2,061.7 and 975.3 -> floors 2,061 + 975, the last
    # row to the larger remainder (class 0): [2,574, 1,487, 30, 5].
    assert sampling.allocation([10000, 5000, 30, 5], 4096).tolist() == [2574, 1487, 30, 5]
    assert sampling.allocation([3, 4], 10).tolist() == [3, 4]  # fits: everything
    assert sampling.allocation([1] * 7, 3).tolist() == [1] * 7  # more classes than rows: one each


@pytest.mark.parametrize("seed", [0, 7])
def test_sample_deterministic_every_class_sorted(seed):
    labels = np.random.default_rng(1).choice(5, size=3000, p=[0.6, 0.3, 0.07, 0.02, 0.01])
    a = sampling.stratified_sample(labels, 500, random_state=seed)
    b = sampling.stratified_sample(labels, 500, random_state=seed)
    other = sampling.stratified_sample(labels, 500, random_state=seed + 1)
    assert np.array_equal(a, b) and not np.array_equal(a, other)
    assert a.size == 500 and np.all(np.diff(a) > 0) and a.min() >= 0 and a.max() < labels.size
    counts = np.bincount(labels, minlength=5)
    got = np.bincount(labels[a], minlength=5)
    floor = 500 // (2 * 5)
    assert np.all(got >= np.minimum(counts, floor)), (got, counts)  # every class, at least min(count, m)
    assert got[0] > got[1] > got[2]  # the rest in proportion


def test_sample_bad_seed_names_parameter():
    with pytest.raises(ValueError, match="random_state"):
        sampling.stratified_sample(np.zeros(10, dtype=int), 5, random_state=-1)


# ------------------------------------------------------------------- jaccard
def test_sampled_jaccard_rows_map_to_original_inputs():
    S, labels = _blobs([300, 200, 150, 100], n_channels=80)
    view = jaccard.jaccard_view(S, labels, eta=0.25, max_inputs=200, random_state=3)
    order = np.asarray(view["order"])
    assert view["sampled"]["n_total"] == 750 and view["sampled"]["n_shown"] == 200 == order.size
    assert view["sampled"]["how"] == "stratified by class, seed 3"
    assert np.array_equal(np.asarray(view["labels"]), labels[order])
    assert np.all(np.diff(np.asarray(view["labels"])) >= 0)  # grouped by class
    assert view["classes"] == [0, 1, 2, 3]
    b = view["class_boundaries"]
    assert [int(x) for x in np.diff(b)] == [p["shown"] for p in view["sampled"]["per_class"]]
    M = np.asarray(view["matrix"])
    a = view["top"]
    for r, c in [(0, 1), (5, 150), (199, 17), (60, 120)]:
        want = _jaccard_by_hand(S[order[r]], S[order[c]], a)
        assert M[r, c] == pytest.approx(want, abs=1e-6), (r, c)
    # Not sampled below the cap: every input, and no `sampled`.
    full = jaccard.jaccard_view(S[:100], labels[:100], max_inputs=200)
    assert full["sampled"] is None and sorted(full["order"]) == list(range(100))


# ----------------------------------------------------------------- hierarchy
def _super_sets(view):
    return sorted(tuple(s["classes"]) for s in view["tree"]["children"])


def test_sampled_hierarchy_groups_classes_like_the_exact_one():
    S, labels = _blobs([400, 350, 300, 250, 200, 150], n_channels=96)
    names = [f"c{i}" for i in range(6)]
    exact = hierarchy.confusion_hierarchy(S, labels, names, eta=0.2, max_inputs=None)
    sampled = hierarchy.confusion_hierarchy(S, labels, names, eta=0.2, max_inputs=300, random_state=5)
    assert exact["exact"] and exact["sampled"] is None
    assert not sampled["exact"] and sampled["sampled"]["n_shown"] == 300
    assert [p["total"] for p in sampled["sampled"]["per_class"]] == [400, 350, 300, 250, 200, 150]
    # The known merged pair is the first merge, and the superclasses match the exact ones.
    assert sorted(sampled["linkage"][0][:2]) == [0, 3]
    assert _super_sets(sampled) == _super_sets(exact) == [(0, 3), (1,), (2,), (4,), (5,)]
    # Each cell within 0.03 of the exact mean over all pairs (the 0.002 of bench_views.py --matrix, with margin).
    err = np.abs(np.asarray(sampled["class_matrix"]) - np.asarray(exact["class_matrix"]))
    assert err.max() < 0.03, err.max()


def test_sampled_hierarchy_indices_are_original_inputs():
    S, labels = _blobs([200, 150, 120], n_channels=60, merged=())
    view = hierarchy.confusion_hierarchy(S, labels, ["a", "b", "c"], max_inputs=90, random_state=2)
    picked = set(sampling.stratified_sample(labels, 90, random_state=2).tolist())
    seen = []
    for sup in view["tree"]["children"]:
        for cls in sup["children"]:
            for leaf in cls["children"]:
                assert all(labels[i] == cls["class"] for i in leaf["inputs"] + leaf["representatives"])
                seen += leaf["inputs"]
            assert all(labels[i] == cls["class"] for i in cls["representatives"] + cls["suspects"])
    assert sorted(seen) == sorted(picked)


# ------------------------------------------------------------------- dataset
def test_dataset_reports_its_similarity_sample():
    S, labels = _blobs([300, 40], n_channels=40, merged=())
    view = dataset.dataset_view([S], labels, reference=0)
    # K = 2: up to max(8, min(128, 2048)) = 128 inputs per class: 128 of class 0 and all 40 of class 1.
    assert view["sampled"]["n_total"] == 340 and view["sampled"]["n_shown"] == 168
    assert view["sampled"]["how"] == "up to 128 inputs per class, seed 0"
    assert [(p["total"], p["shown"]) for p in view["sampled"]["per_class"]] == [(300, 128), (40, 40)]
    assert dataset.dataset_view([S[:100]], labels[:100], reference=0)["sampled"] is None


# -------------------------------------------------------------------- routes
@pytest.fixture(scope="module")
def big_run():
    with tempfile.TemporaryDirectory() as root:
        fx.write_synthetic_run(root, "main", steps=(0,), n_inputs=60, n_classes=3)
        yield root


def _get(client, route, **params):
    resp = client.get(f"{PREFIX}{route}?" + urllib.parse.urlencode(dict(run="main", layer="features.0", **params)))
    return resp.status_code, json.loads(resp.get_data())


def test_routes_sample_past_the_cap(big_run, monkeypatch):
    from conftest import python_provider

    from tensorboard_plugin_channelexplorer import queries

    monkeypatch.setattr(queries, "MAX_MATRIX_INPUTS", 20)
    _, _, client = make_client(python_provider(big_run))
    status, inputs = _get(client, "/inputs")
    assert status == 200
    all_labels = np.asarray(inputs["labels"])
    status, jac = _get(client, "/jaccard", seed=4)
    assert status == 200, jac
    assert jac["sampled"]["n_total"] == 60 and len(jac["order"]) == 20 == jac["sampled"]["n_shown"]
    assert set(jac["labels"]) == set(all_labels.tolist())  # every class shown
    assert np.array_equal(np.asarray(jac["labels"]), all_labels[jac["order"]])
    # A click on a cell asks /jaccard_cell about the original inputs, which agrees with the matrix.
    r, c = 2, 15
    status, cell = _get(client, "/jaccard_cell", i=jac["order"][r], j=jac["order"][c])
    assert status == 200 and cell["similarity"] == pytest.approx(jac["matrix"][r][c], abs=1e-6)
    assert _get(client, "/jaccard", seed=4)[1]["order"] == jac["order"]
    status, hier = _get(client, "/hierarchy", seed=4)
    assert status == 200 and hier["exact"] is False and hier["sampled"]["n_shown"] == 20
    status, ds = _get(client, "/dataset")
    assert status == 200 and "sampled" in ds


def test_diff_samples_matched_inputs(big_run, monkeypatch):
    from conftest import python_provider

    from tensorboard_plugin_channelexplorer import queries

    monkeypatch.setattr(queries, "MAX_MATRIX_INPUTS", 20)
    _, _, client = make_client(python_provider(big_run))
    status, inputs = _get(client, "/inputs")
    label_of = dict(zip(map(str, inputs["sample_ids"]), inputs["labels"]))
    status, body = _get(client, "/diff", step=0, step_b=0, seed=1)
    assert status == 200, body
    assert body["sampled"]["n_total"] == 60 and body["sampled"]["n_shown"] == 20 == len(body["sample_ids"])
    assert body["dropped"] == {"a": 0, "b": 0}
    # Rows name the right inputs: each sampled id keeps its own label, and every class is there.
    assert [label_of[str(i)] for i in body["sample_ids"]] == body["labels"]
    assert sorted(set(body["labels"])) == sorted(set(inputs["labels"]))
    assert np.allclose(body["diff"], 0.0)  # a step against itself
    assert _get(client, "/diff", step=0, step_b=0, seed=1)[1]["sample_ids"] == body["sample_ids"]
    assert _get(client, "/diff", step=0, step_b=0, seed=2)[1]["sample_ids"] != body["sample_ids"]


def test_sampled_diff_rows_follow_sample_ids():
    from tensorboard_plugin_channelexplorer.handlers.across import _sampled_diff
    from tensorboard_plugin_channelexplorer.views import timeline

    S_a, lab_a = _blobs([30, 20, 10], n_channels=48, seed=1, merged=())
    S_b, _ = _blobs([30, 20, 10], n_channels=48, seed=2, merged=())
    ids_a = np.arange(60)
    perm = np.random.default_rng(3).permutation(60)
    ids_b = np.where(perm < 50, perm, perm + 100)  # 50 ids in common, 10 of each side unmatched
    lab_b = lab_a[perm]  # side b lists the inputs in another order
    body = _sampled_diff(timeline, S_a, S_b, lab_a, lab_b, ids_a, ids_b, 20, 5, eta=0.25, order="variance")
    ids = [int(i) for i in body["sample_ids"]]
    assert body["sampled"]["n_total"] == 50 and len(ids) == 20 and body["dropped"] == {"a": 10, "b": 10}
    assert body["labels"] == [int(lab_a[i]) for i in ids] and len(set(body["labels"])) == 3
    row_b = {int(k): r for r, k in enumerate(ids_b)}
    a = 12  # ceil(0.25 * 48)
    D = np.asarray(body["diff"])
    for r, c in [(0, 1), (3, 17), (19, 8)]:
        p, q = ids[body["order"][r]], ids[body["order"][c]]
        want = (_jaccard_by_hand(S_b[row_b[p]], S_b[row_b[q]], a) - _jaccard_by_hand(S_a[p], S_a[q], a))
        assert D[r, c] == pytest.approx(want, abs=1e-5), (r, c)


@pytest.mark.parametrize("route", ["/jaccard", "/hierarchy", "/dataset", "/diff"])
@pytest.mark.parametrize("seed", ["-1", "x", str(2**32)])
def test_bad_seed_is_400_naming_seed(big_run, route, seed):
    from conftest import python_provider

    _, _, client = make_client(python_provider(big_run))
    status, body = _get(client, route, seed=seed)
    assert status == 400 and "seed" in body["error"], body


def test_hard_cap_answers_400(big_run, monkeypatch):
    from conftest import python_provider

    from tensorboard_plugin_channelexplorer import queries

    monkeypatch.setattr(queries, "MAX_SAMPLED_INPUTS", 50)
    _, _, client = make_client(python_provider(big_run))
    for route in ("/jaccard", "/hierarchy", "/dataset", "/diff"):
        status, body = _get(client, route)
        assert status == 400 and "N=60" in body["error"] and "50" in body["error"], (route, body)
