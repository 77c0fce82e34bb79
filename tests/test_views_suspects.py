"""Suspect labels: golden cases against a brute-force oracle, properties, validation."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorboard_plugin_channelexplorer.views import suspects


def _oracle(S, labels, k):
    """The documented neighbour score, written with plain loops."""
    S = np.asarray(S, dtype=float)
    mu = [sum(col) / len(col) for col in S.T]
    sd = [math.sqrt(sum((v - m) ** 2 for v in col) / len(col)) for col, m in zip(S.T, mu)]
    Z = [[(v - m) / s for v, m, s in zip(row, mu, sd) if s > 0] for row in S]
    out = []
    for i, zi in enumerate(Z):
        d = {}
        for c in set(labels):
            ds = sorted(math.dist(zi, Z[j]) for j in range(len(Z)) if j != i and labels[j] == c)[:k]
            d[c] = sum(ds) / len(ds) if ds else math.inf
        own = d[labels[i]]
        alt = min((v for c, v in d.items() if c != labels[i]), default=math.inf)
        out.append(0.0 if math.isinf(own + alt) else own / (own + alt))
    return np.array(out)


def _two_clusters(seed=0, n=12):
    rng = np.random.default_rng(seed)
    S = np.concatenate([rng.normal(0.0, 1.0, (n, 4)), rng.normal(6.0, 1.0, (n, 4))])
    return S, np.repeat([0, 1], n)


def test_input_inside_another_class_gets_the_top_score():
    S, labels = _two_clusters()
    labels = labels.copy()
    labels[4] = 1  # sits in cluster 0, labelled 1
    out = suspects.suspect_scores(S, labels, k=3)
    assert suspects.ranking(out["score"])[0] == 4
    assert out["likely"][4] == 0 and out["flagged"][4]
    assert out["flagged"].sum() == 1
    np.testing.assert_allclose(out["score"], _oracle(S, labels.tolist(), 3), rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 6), st.integers(2, 4))
def test_matches_oracle_on_random_data(seed, k, n_classes):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(15, 3)) * rng.uniform(0.1, 10, 3)
    labels = rng.integers(0, n_classes, 15)
    out = suspects.suspect_scores(S, labels, k=k)
    np.testing.assert_allclose(out["score"], _oracle(S, labels.tolist(), k), rtol=1e-9, atol=1e-12)


def test_mislabelled_deep_inside_ranks_above_an_ambiguous_input():
    # Class 0 around x = 0, class 1 around x = 10; input 20 (label 1) sits at x = 0,
    # input 21 (label 0) halfway. Every neighbour of both disagrees with their label.
    rng = np.random.default_rng(3)
    S = np.concatenate([rng.normal(0, 0.5, (10, 2)), rng.normal(10, 0.5, (10, 2)), [[0.0, 0.0], [6.0, 6.0]]])
    labels = np.array([0] * 10 + [1] * 10 + [1, 0])
    out = suspects.suspect_scores(S, labels, k=5)
    assert out["score"][20] > out["score"][21] > 0.5
    assert suspects.ranking(out["score"])[:2].tolist() == [20, 21]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**16))
def test_permutation_equivariance_and_channel_scale_invariance(seed):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(20, 5))
    labels = rng.integers(0, 3, 20)
    base = suspects.suspect_scores(S, labels, k=4)
    perm = rng.permutation(20)
    p = suspects.suspect_scores(S[perm], labels[perm], k=4)
    np.testing.assert_allclose(p["score"], base["score"][perm], rtol=1e-9)
    np.testing.assert_array_equal(p["likely"], base["likely"][perm])
    # Per-channel standardization: rescaling or shifting a channel changes nothing.
    scaled = S * np.array([1000.0, 1.0, 0.01, 5.0, 1.0]) + 7.0
    np.testing.assert_allclose(suspects.suspect_scores(scaled, labels, k=4)["score"], base["score"], rtol=1e-6)
    # Renaming the classes renames the likely labels and keeps the scores.
    rename = np.array([2, 0, 1])
    r = suspects.suspect_scores(S, rename[labels], k=4)
    np.testing.assert_allclose(r["score"], base["score"], rtol=1e-9)
    np.testing.assert_array_equal(r["likely"], rename[base["likely"]])


def test_model_score_uses_top1_confidence():
    S, labels = _two_clusters(n=6)
    preds = labels.copy()
    preds[0] = 1
    conf = np.full(12, 0.9)
    out = suspects.suspect_scores(S, labels, k=3, predictions=preds, confidences=conf, n_classes=3)
    # Right prediction: 1 - 0.9; wrong: the given class gets (1 - 0.9) / (K - 1) of the mass.
    assert out["model_score"][1] == pytest.approx(0.1)
    assert out["model_score"][0] == pytest.approx(1 - 0.1 / 2)
    np.testing.assert_allclose(out["score"], (out["neighbour_score"] + out["model_score"]) / 2)


def test_no_evidence_cases_score_zero():
    # A class with one input, and a layer whose channels are all constant.
    S, labels = _two_clusters(n=5)
    labels = np.append(labels, 2)
    S = np.vstack([S, [[3.0] * 4]])
    out = suspects.suspect_scores(S, labels, k=3)
    assert out["score"][10] == 0.0 and out["likely"][10] == 2
    flat = suspects.suspect_scores(np.ones((6, 3)), [0, 0, 0, 1, 1, 1])
    assert np.all(flat["score"] == 0.0) and not flat["flagged"].any()


def test_view_ranks_limits_and_is_json():
    S, labels = _two_clusters()
    labels = labels.copy()
    labels[[2, 15]] = [1, 0]
    v = suspects.suspects_view(S, labels, k=3, limit=3)
    json.dumps(v, allow_nan=False)
    assert {s["index"] for s in v["suspects"][:2]} == {2, 15}
    assert len(v["suspects"]) == 3 and v["truncated"] is True
    top = v["suspects"][0]
    assert set(top) == {"index", "given", "likely", "score", "flagged", "neighbour_score", "model_score"}
    assert v["n_flagged"] == 2 and v["method"] == "neighbours" and v["threshold"] == 0.5
    scores = [s["score"] for s in v["suspects"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("kwargs,msg", [
    ({"k": 0}, "k must be >= 1"),
    ({"threshold": 1.5}, "threshold must be in"),
    ({"predictions": [0] * 24}, "predictions and confidences must be given together"),
    ({"predictions": [0] * 24, "confidences": [1.2] * 24}, "confidences must be finite probabilities"),
    ({"predictions": [0] * 23, "confidences": [0.5] * 24}, "predictions has 23 entries but S has 24 rows"),
    ({"n_classes": 1}, "n_classes is 1"),
    ({"limit": -1}, "limit must be >= 0"),
])
def test_validation(kwargs, msg):
    S, labels = _two_clusters()
    with pytest.raises(ValueError, match=msg):
        suspects.suspects_view(S, labels, **kwargs)


def test_labels_length_validation():
    S, labels = _two_clusters()
    with pytest.raises(ValueError, match="labels has 23 entries but S has 24 rows"):
        suspects.suspect_scores(S, labels[:-1])
