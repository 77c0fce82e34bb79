"""Dataset view: class similarity to a reference, accuracy, representatives; 10,000 inputs."""

import json

import numpy as np
import pytest

from tensorboard_plugin_channelexplorer.views import dataset, jaccard


def _layers(seed=0, n_per=30, k=3, sizes=(16, 64)):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), n_per)
    layers = []
    for c in sizes:
        proto = rng.random((k, c)) * 3
        layers.append(proto[labels] + rng.random((labels.size, c)))
    return layers, labels


def test_similarity_matches_jaccard_class_mean_small_n():
    layers, labels = _layers()
    out = dataset.dataset_view(layers, labels, reference=1, eta=0.25)
    json.dumps(out, allow_nan=False)
    # With N per class below the sample cap, the value is the exact class mean, averaged over layers.
    expected = np.mean([
        jaccard.class_mean_matrix(jaccard.jaccard_matrix(L, 0.25), labels, np.arange(3))[1]
        for L in layers
    ], axis=0)
    got = [c["similarity"] for c in out["classes"]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [c["count"] for c in out["classes"]] == [30, 30, 30]
    assert np.array(out["layer_similarity"]).shape == (2, 3)


def test_dead_channels_do_not_make_classes_similar():
    # 60 channels, 54 dead; class 0 fires channels 0-2, class 1 channels 3-5, class 2 nothing.
    rng = np.random.default_rng(1)
    S = np.zeros((30, 60))
    S[:10, 0:3] = rng.random((10, 3)) + 0.5
    S[10:20, 3:6] = rng.random((10, 3)) + 0.5
    labels = np.repeat(np.arange(3), 10)
    out = dataset.dataset_view([S], labels, reference=0, eta=0.2)
    # Same active channels within class 0 -> 1; disjoint -> 0; no active channel -> 0.
    assert [c["similarity"] for c in out["classes"]] == [1.0, 0.0, 0.0]
    assert dataset.dataset_view([S], labels, reference=2, eta=0.2)["classes"][2]["similarity"] == 0.0


def test_predictions_accuracy_and_probabilities():
    layers, labels = _layers()
    preds = labels.copy()
    preds[:9] = 2
    out = dataset.dataset_view(layers, labels, predictions=preds, probabilities=np.full(90, 0.5))
    assert out["accuracy"] == pytest.approx(81 / 90)
    assert out["predictions"] == preds.tolist()
    assert out["probabilities"] == [0.5] * 90
    none = dataset.dataset_view(layers, labels)
    assert none["accuracy"] is None and none["predictions"] is None


def test_representatives_cover_modes_and_k():
    rng = np.random.default_rng(3)
    # One class with 3 well-separated modes, one with 1.
    modes = rng.normal(size=(3, 20)) * 10
    X0 = np.concatenate([m + rng.normal(size=(15, 20)) for m in modes])
    X1 = rng.normal(size=(15, 20)) + 30
    L = np.concatenate([X0, X1])
    labels = np.array([0] * 45 + [1] * 15)
    out = dataset.dataset_view([L, L[:, :5]], labels)
    reps0 = out["representatives_by_class"]["0"]
    assert sorted(i // 15 for i in reps0) == [0, 1, 2]  # one exemplar per mode
    assert len(out["representatives_by_class"]["1"]) == 1
    assert out["representatives"] == reps0 + out["representatives_by_class"]["1"]
    out_k = dataset.dataset_view([L], labels, k=4, classes=[1])
    assert list(out_k["representatives_by_class"]) == ["1"]
    assert len(out_k["representatives"]) == 4 and all(labels[i] == 1 for i in out_k["representatives"])


def test_n_classes_lists_empty_classes():
    layers, labels = _layers()
    out = dataset.dataset_view(layers, labels, n_classes=5)
    assert [c["id"] for c in out["classes"]] == [0, 1, 2, 3, 4]
    assert out["classes"][4] == {"id": 4, "count": 0, "similarity": None}


def test_scales_to_10000_inputs():
    rng = np.random.default_rng(0)
    n, k = 10_000, 10
    labels = rng.integers(0, k, n)
    layers = []
    for c in (64, 256, 512):
        proto = rng.random((k, c)) * 2
        layers.append((proto[labels] + rng.random((n, c))).astype(np.float32))
    out = dataset.dataset_view(layers, labels, reference=3)
    assert len(out["classes"]) == k
    sims = {c["id"]: c["similarity"] for c in out["classes"]}
    assert all(0.0 <= s <= 1.0 for s in sims.values())
    assert sims[3] == max(sims.values())  # a class is most similar to itself here
    assert 1 <= len(out["representatives_by_class"]["0"]) <= dataset.REP_K_MAX


def test_validation():
    layers, labels = _layers()
    with pytest.raises(ValueError, match="reference class 7 has no inputs"):
        dataset.dataset_view(layers, labels, reference=7)
    with pytest.raises(ValueError, match=r"layer_summaries\[1\] has 89 rows but layer_summaries\[0\] has 90"):
        dataset.dataset_view([layers[0], layers[1][:-1]], labels)
    with pytest.raises(ValueError, match="labels has 89 entries"):
        dataset.dataset_view(layers, labels[:-1])
    with pytest.raises(ValueError, match="predictions has 3 entries"):
        dataset.dataset_view(layers, labels, predictions=[0, 1, 2])
    with pytest.raises(ValueError, match="k=91 exceeds the number of inputs N=90"):
        dataset.dataset_view(layers, labels, k=91)
    with pytest.raises(ValueError, match="layer_summaries must hold at least one layer"):
        dataset.dataset_view([], labels)
