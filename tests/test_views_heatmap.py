"""Heatmap view: Eq. 3, variance, orderings, thresholding and paging."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tensorboard_plugin_channelexplorer.views import heatmap

# 2 classes (sizes 2 and 3) x 3 channels.
S = np.array(
    [
        [1.0, 5.0, 2.0],
        [3.0, 5.0, 2.0],  # class 0 means: [2, 5, 2]
        [4.0, 1.0, 2.0],
        [4.0, 2.0, 2.0],
        [4.0, 3.0, 2.0],  # class 1 means: [4, 2, 2]
    ]
)
LABELS = np.array([0, 0, 1, 1, 1])


def test_pairwise_golden_two_classes():
    # Eq. 3 with class means: |2-4| = 2, |5-2| = 3, |2-2| = 0.
    np.testing.assert_allclose(heatmap.pairwise_distance(S, LABELS), [2.0, 3.0, 0.0])
    perm, metrics = heatmap.channel_order(S, LABELS, "pairwise")
    assert perm.tolist() == [1, 0, 2]
    np.testing.assert_allclose(metrics["pairwise"], [2.0, 3.0, 0.0])


def test_pairwise_three_classes_sums_all_pairs():
    S1 = np.array([[0.0], [1.0], [5.0]])
    # means 0, 1, 5: |0-1| + |0-5| + |1-5| = 10
    assert heatmap.pairwise_distance(S1, np.array([0, 1, 2]))[0] == pytest.approx(10.0)


def test_variance_golden_population():
    # channel 0: values 1,3,4,4,4 -> mean 3.2, population variance 1.36
    v = heatmap.variance(S)
    assert v[0] == pytest.approx(1.36)
    assert v[2] == 0.0
    perm, _ = heatmap.channel_order(S, LABELS, "variance")
    assert perm.tolist() == [1, 0, 2]  # channel 1: var of 5,5,1,2,3 = 2.64


def test_filter_norm_order_and_missing():
    perm, metrics = heatmap.channel_order(S, LABELS, "filter_norm", filter_norm=[0.1, 0.2, 0.3])
    assert perm.tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match="order='filter_norm' needs filter_norm"):
        heatmap.channel_order(S, LABELS, "filter_norm")
    with pytest.raises(ValueError, match="filter_norm must have one value per channel"):
        heatmap.channel_order(S, LABELS, "pairwise", filter_norm=[1.0])


def test_unknown_order():
    with pytest.raises(ValueError, match="order must be one of pairwise, variance, filter_norm, taylor, cluster, "
                                         "got 'foo'"):
        heatmap.heatmap_view(S, LABELS, order="foo")


def test_taylor_order_and_missing():
    perm, metrics = heatmap.channel_order(S, LABELS, "taylor", taylor=[0.5, -1.0, 2.0])
    assert perm.tolist() == [2, 0, 1]
    np.testing.assert_allclose(metrics["taylor"], [0.5, -1.0, 2.0])
    assert heatmap.channel_order(S, LABELS, "pairwise")[1]["taylor"] is None
    with pytest.raises(ValueError, match="order='taylor' needs taylor"):
        heatmap.channel_order(S, LABELS, "taylor", filter_norm=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"taylor must have one value per channel \(3\), got shape \(2,\)"):
        heatmap.heatmap_view(S, LABELS, "taylor", taylor=[1.0, 2.0])
    page = heatmap.heatmap_view(S, LABELS, "taylor", taylor=[0.5, -1.0, 2.0])
    assert page["channels"] == [2, 0, 1] and page["metrics"]["taylor"] == [2.0, 0.5, -1.0]


def test_cluster_order_puts_channels_with_the_same_profile_together():
    # Channels 0, 2, 4 follow one pattern over the inputs, 1, 3, 5 the opposite one.
    up = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    S6 = np.stack([up, 4 - up, 2 * up + 1, 8 - up, up + 0.5, 5 - up], axis=1)
    S6 = S6 + np.array([0, 0, 0.1, 0, -0.1, 0.1])[None, :] * np.array([1, -1, 1, 0, 0])[:, None]
    perm = heatmap.channel_order(S6, LABELS, "cluster")[0].tolist()
    assert {frozenset(perm[:3]), frozenset(perm[3:])} == {frozenset({0, 2, 4}), frozenset({1, 3, 5})}
    page = heatmap.heatmap_view(S6, LABELS, "cluster", offset=2, limit=3)
    assert page["order"] == "cluster" and page["channels"] == perm[2:5]
    # A precomputed seriation (the cached channel clustering) is used as given.
    given = [5, 4, 3, 2, 1, 0]
    assert heatmap.heatmap_view(S6, LABELS, "cluster", cluster_order=given)["channels"] == given
    assert heatmap.heatmap_view(S6, LABELS, "pairwise", cluster_order=given)["channels"] != given
    with pytest.raises(ValueError, match="cluster_order must be a permutation of the 6 channels"):
        heatmap.channel_order(S6, LABELS, "cluster", cluster_order=[0, 0, 1, 2, 3, 4])


def test_view_threshold_and_layout():
    v = heatmap.heatmap_view(S, LABELS, order="pairwise")
    json.dumps(v, allow_nan=False)
    thr = float(np.percentile(S, 10))
    assert v["threshold"] == pytest.approx(thr)
    assert v["channels"] == [1, 0, 2]
    assert v["columns"] == [0, 1, 2, 3, 4]
    assert v["class_boundaries"] == [0, 2, 5]
    vals = np.array(v["values"])
    assert vals.shape == (3, 5)
    np.testing.assert_allclose(vals, np.maximum(S[:, [1, 0, 2]].T, thr))
    assert vals.min() >= v["threshold"]
    assert v["metrics"]["pairwise"] == [3.0, 2.0, 0.0]
    assert v["metrics"]["filter_norm"] is None
    assert v["range"] == [pytest.approx(thr), 5.0]


def test_columns_grouped_by_class_stable():
    labels = np.array([1, 0, 1, 0, 0])
    v = heatmap.heatmap_view(S, labels)
    assert v["columns"] == [1, 3, 4, 0, 2]
    assert v["column_labels"] == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("kw,msg", [({"offset": -1}, "offset must be >= 0"),
                                     ({"limit": 0}, "limit must be >= 1"),
                                     ({"limit": 4097}, "limit must be <= 4096")])
def test_paging_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        heatmap.heatmap_view(S, LABELS, **kw)


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 10), st.integers(1, 40)),
           elements=st.floats(0, 100, allow_nan=False)),
    st.integers(1, 4),
    st.integers(1, 17),
    st.sampled_from(["pairwise", "variance", "filter_norm", "taylor", "cluster"]),
)
def test_orderings_are_permutations_and_paging_covers_once(S, n_classes, limit, order):
    n, c = S.shape
    labels = np.arange(n) % n_classes
    fn = np.linspace(1, 2, c)
    tv = np.cos(np.arange(c))
    perm, metrics = heatmap.channel_order(S, labels, order, filter_norm=fn, taylor=tv)
    assert sorted(perm.tolist()) == list(range(c))
    if order != "cluster":
        m = metrics[order][perm]
        assert np.all(np.diff(m) <= 0)  # descending
    seen = []
    offset = 0
    while True:
        page = heatmap.heatmap_view(S, labels, order=order, filter_norm=fn, offset=offset, limit=limit, taylor=tv)
        if not page["channels"]:
            break
        assert len(page["values"]) == len(page["channels"]) <= limit
        assert len(page["metrics"]["variance"]) == len(page["channels"])
        seen.extend(page["channels"])
        offset += limit
    assert seen == perm.tolist()
