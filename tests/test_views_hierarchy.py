"""Confusion hierarchy: superclasses from class Jaccard, subclasses by X-Means."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.cluster.hierarchy import fcluster, linkage

from tensorboard_plugin_channelexplorer.views import hierarchy

C = 40


def _class_inputs(rng, channels, n, noise=0.3):
    """Inputs whose strongest channels are ``channels`` (plus noise)."""
    S = rng.random((n, C)) * noise
    S[:, channels] += 1.0 + rng.random((n, len(channels))) * noise
    return S


def _four_classes(seed=0):
    # Classes 0/1 share their top channels, 2/3 share others: two superclasses.
    rng = np.random.default_rng(seed)
    a = list(range(0, 8))
    b = list(range(20, 28))
    S = np.concatenate([
        _class_inputs(rng, a, 10),
        _class_inputs(rng, a[:7] + [9], 10),
        _class_inputs(rng, b, 10),
        _class_inputs(rng, b[:7] + [29], 10),
    ])
    return S, np.repeat(np.arange(4), 10)


def _walk(node, depth=0):
    yield node, depth
    for child in node.get("children", []):
        yield from _walk(child, depth + 1)


def test_two_superclasses_and_tree_shape():
    S, labels = _four_classes()
    out = hierarchy.confusion_hierarchy(S, labels, ["a", "b", "c", "d"], eta=0.2)
    json.dumps(out, allow_nan=False)
    tree = out["tree"]
    assert tree["name"] == "root" and tree["size"] == 40
    supers = tree["children"]
    assert [s["classes"] for s in supers] == [[0, 1], [2, 3]]
    assert [c["name"] for c in supers[0]["children"]] == ["a", "b"]
    # Every input is in exactly one subclass leaf; representatives belong to their node.
    leaves = [n for n, _ in _walk(tree) if "inputs" in n]
    all_inputs = sorted(i for leaf in leaves for i in leaf["inputs"])
    assert all_inputs == list(range(40))
    for leaf in leaves:
        assert leaf["representatives"][0] in leaf["inputs"]
    for cls in supers[0]["children"]:
        assert labels[cls["representatives"][0]] == cls["class"]
    assert out["cut"] is not None and len(out["linkage"]) == 3


def test_unrelated_classes_stay_separate():
    rng = np.random.default_rng(1)
    S = np.concatenate([_class_inputs(rng, list(range(i * 10, i * 10 + 8)), 8) for i in range(4)])
    labels = np.repeat(np.arange(4), 8)
    out = hierarchy.confusion_hierarchy(S, labels, list("wxyz"))
    assert [s["classes"] for s in out["tree"]["children"]] == [[0], [1], [2], [3]]


def test_subclasses_found_within_a_class():
    rng = np.random.default_rng(2)
    # Class 0 has two modes (different channel sets); class 1 one mode.
    S = np.concatenate([
        _class_inputs(rng, list(range(0, 8)), 12, noise=0.1),
        _class_inputs(rng, list(range(10, 18)), 12, noise=0.1),
        _class_inputs(rng, list(range(20, 28)), 12, noise=0.1),
    ])
    labels = np.array([0] * 24 + [1] * 12)
    out = hierarchy.confusion_hierarchy(S, labels, ["two-mode", "one-mode"])
    cls = {c["class"]: c for s in out["tree"]["children"] for c in s["children"]}
    subs0 = [sorted(leaf["inputs"]) for leaf in cls[0]["children"]]
    assert sorted(subs0) == [list(range(0, 12)), list(range(12, 24))]
    assert len(cls[1]["children"]) == 1


def test_class_nodes_list_their_suspects():
    S, labels = _four_classes()
    labels = labels.copy()
    labels[3] = 2  # an input with class 0's channels, labelled 2
    out = hierarchy.confusion_hierarchy(S, labels, list("abcd"), eta=0.2)
    cls = {c["class"]: c for s in out["tree"]["children"] for c in s["children"]}
    assert cls[2]["suspects"][0] == 3
    assert all(labels[i] == c for c, node in cls.items() for i in node["suspects"])


def test_cut_height_rule():
    # baseline 0.5, merges at 0.55, 0.6, 0.95: biggest gap 0.6 -> 0.95.
    assert hierarchy.cut_height(np.array([0.55, 0.6, 0.95]), 0.5) == pytest.approx(0.775)
    # merges far above the baseline: cut below the first merge (no superclass merges).
    assert hierarchy.cut_height(np.array([0.9, 0.95]), 0.2) == pytest.approx(0.55)


def test_cut_height_below_last_merge_when_no_gap():
    # Every merge at one height and the baseline above it: no gap at all.
    cut = hierarchy.cut_height(np.array([0.5, 0.5]), 0.6)
    assert cut < 0.5
    assert hierarchy.cut_height(np.array([0.7]), 0.9) < 0.7


def test_classes_less_alike_than_each_other_are_not_all_merged():
    # Within-class pairs share nothing ({0,1} vs {2,3}), across classes they share one channel:
    # the baseline (within-class distance 1) lies above every merge.
    S = np.array([[2.0, 1.0, 0, 0], [0, 0, 2.0, 1.0], [2.0, 0, 1.0, 0], [0, 2.0, 0, 1.0]])
    out = hierarchy.confusion_hierarchy(S, [0, 0, 1, 1], ["a", "b"], eta=0.5)
    assert [s["classes"] for s in out["tree"]["children"]] == [[0], [1]]


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 8), elements=st.sampled_from([0.0, 0.25, 0.5, 0.5, 0.75, 1.0])),
       st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5]))
def test_cut_height_keeps_two_superclasses(heights, baseline):
    assert hierarchy.cut_height(heights, baseline) < heights.max()


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7).flatmap(lambda k: arrays(np.float64, (k, k), elements=st.sampled_from([0.0, 0.3, 0.3, 0.6, 1.0]))),
       st.integers(0, 2**16))
def test_hierarchy_never_one_superclass_for_distinct_classes(D, seed):
    # Any symmetric class distance matrix, through the same linkage and fcluster as the view.
    dist = (D + D.T) / 2.0
    np.fill_diagonal(dist, 0.0)
    from scipy.spatial.distance import squareform

    Z = linkage(squareform(dist, checks=False), method="average")
    baseline = float(np.random.default_rng(seed).choice([0.0, 0.3, 0.6, 1.0]))
    groups = fcluster(Z, t=hierarchy.cut_height(Z[:, 2], baseline), criterion="distance")
    assert np.unique(groups).size >= 2


def test_single_class():
    S, labels = _four_classes()
    out = hierarchy.confusion_hierarchy(S[:10], labels[:10], ["a"])
    assert len(out["tree"]["children"]) == 1 and out["cut"] is None


def test_validation():
    S, labels = _four_classes()
    with pytest.raises(ValueError, match="class_names has only 2 entries"):
        hierarchy.confusion_hierarchy(S, labels, ["a", "b"])
    with pytest.raises(ValueError, match="eta must be in"):
        hierarchy.confusion_hierarchy(S, labels, list("abcd"), eta=0)
    with pytest.raises(ValueError, match="labels has 39 entries but S has 40 rows"):
        hierarchy.confusion_hierarchy(S, labels[:-1], list("abcd"))
