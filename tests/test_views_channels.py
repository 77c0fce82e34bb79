"""Channel clusters, seriation, channel cards, channel embeddings and cluster edges."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster import hierarchy
from sklearn.metrics import adjusted_rand_score, silhouette_score

from tensorboard_plugin_channelexplorer.views import _seriation, channel_edges, channels, heatmap, treemap

N = 120
LABELS = np.arange(N) % 4


def prototype_layer(copies=(7, 5, 9), noise=0.3, seed=0):
    """Channels that are noisy copies of 3 random prototypes, shuffled; returns (S, truth)."""
    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(N, len(copies)))
    truth = np.repeat(np.arange(len(copies)), copies)
    perm = rng.permutation(truth.size)
    truth = truth[perm]
    S = protos[:, truth] + noise * rng.normal(size=(N, truth.size)) + 3.0
    return S, truth


def arc_layer(c, seed=0):
    """Channels whose centred profiles lie on an arc: the optimal seriation is the arc order."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=N)
    a -= a.mean()
    b = rng.normal(size=N)
    b -= b.mean()
    b -= a * (a @ b) / (a @ a)
    theta = np.linspace(0.0, 0.9 * np.pi, c)
    perm = rng.permutation(c)
    S = np.stack([np.cos(t) * a / np.linalg.norm(a) + np.sin(t) * b / np.linalg.norm(b) for t in theta[perm]], 1)
    return S + 5.0, perm


# ---------------------------------------------------------------- clusters


def test_three_prototypes_cluster_into_exactly_three_groups():
    S, truth = prototype_layer()
    v = channels.channel_clusters(S, LABELS)
    json.dumps(v, allow_nan=False)
    assert v["k_auto"] is True
    assert v["n_clusters"] == 3
    assert adjusted_rand_score(truth, v["assignment"]) == 1.0
    assert sorted(c["size"] for c in v["clusters"]) == [5, 7, 9]
    # The silhouette criterion itself prefers 3 (recomputed with scikit-learn).
    U, dead = _seriation.unit_profiles(S)
    D = _seriation.cosine_distance(U, dead)
    assert silhouette_score(D, truth, metric="precomputed") == pytest.approx(v["silhouette"]["3"], abs=1e-6)
    assert max(v["silhouette"], key=v["silhouette"].get) == "3"


def test_k_overrides_the_automatic_choice():
    S, truth = prototype_layer()
    v = channels.channel_clusters(S, LABELS, k=2)
    assert v["n_clusters"] == 2 and v["k_auto"] is False and v["silhouette"] == {}
    # Two of the three prototype groups merge; none is split.
    for cid in range(3):
        assert len(set(np.asarray(v["assignment"])[truth == cid])) == 1


def test_cluster_ids_follow_the_seriation_and_members_are_contiguous():
    S, _ = prototype_layer()
    v = channels.channel_clusters(S, LABELS)
    assign = np.asarray(v["assignment"])
    along = assign[v["order"]]
    assert along.tolist() == sorted(along.tolist())  # 0...0 1...1 2...2
    for c in v["clusters"]:
        assert c["members"] == [ch for ch in v["order"] if assign[ch] == c["id"]]


def test_representatives_are_the_members_nearest_the_centre():
    # One cluster: a prototype plus orthogonal noise of growing size per channel;
    # the least noisy channels are nearest to the cluster's mean direction.
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(N, 8)) - 0)
    q -= q.mean(axis=0)
    proto, noise_dirs = q[:, 0], q[:, 1:]
    scales = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.6])
    S = proto[:, None] + noise_dirs * scales[None, :] + 2.0
    v = channels.channel_clusters(S, LABELS, k=1, n_representatives=3)
    assert v["clusters"][0]["representatives"] == [1, 5, 3]  # scales 0.1, 0.2, 0.3


def test_class_selective_channel_has_its_class_preferred_with_high_selectivity():
    rng = np.random.default_rng(2)
    S = rng.uniform(0.0, 1.0, (N, 6))
    S[:, 4] = np.where(LABELS == 2, 5.0, 0.0)  # fires only for class 2
    v = channels.channel_clusters(S, LABELS)
    assert v["channel_preferred_class"][4] == 2
    assert v["channel_selectivity"][4] == pytest.approx(1.0)
    # Uniform noise responds to all classes alike.
    assert max(np.delete(v["channel_selectivity"], 4)) < 0.3


def test_selectivity_golden():
    # means measured from the floor 1: [3, 1, 1] -> (3 - 1) / (3 + 1) = 0.5
    si, pref = channels.selectivity(np.array([[4.0], [2.0], [2.0]]), np.array([1.0]))
    assert si[0] == pytest.approx(0.5) and pref[0] == 0
    # a negative (pre-activation) channel: means [-1, -3] over floor -3 -> [2, 0] -> 1
    si, pref = channels.selectivity(np.array([[-1.0], [-3.0]]), np.array([-3.0]))
    assert si[0] == pytest.approx(1.0) and pref[0] == 0
    si, _ = channels.selectivity(np.array([[2.0], [2.0]]), np.array([0.0]))
    assert si[0] == 0.0


def test_cluster_profile_is_the_mean_of_its_members():
    S, truth = prototype_layer()
    v = channels.channel_clusters(S, LABELS)
    for c in v["clusters"]:
        expected = [S[LABELS == k][:, c["members"]].mean() for k in range(4)]
        np.testing.assert_allclose(c["class_means"], expected, rtol=1e-6)


def test_small_layers_and_dead_channels():
    assert channels.channel_clusters(np.ones((5, 1)), np.arange(5) % 2)["n_clusters"] == 1
    assert channels.channel_clusters(np.random.default_rng(0).random((5, 2)), np.arange(5) % 2)["n_clusters"] == 1
    S, _ = prototype_layer()
    S = np.concatenate([S, np.zeros((N, 3))], axis=1)  # three dead channels group together
    v = channels.channel_clusters(S, LABELS)
    dead = np.asarray(v["assignment"])[-3:]
    assert len(set(dead.tolist())) == 1
    assert np.count_nonzero(np.asarray(v["assignment"]) == dead[0]) == 3


@pytest.mark.parametrize("kw,msg", [
    ({"k": 0}, "k must be >= 1"),
    ({"k": 22}, "k=22 exceeds the number of channels C=21"),
    ({"n_representatives": 0}, "n_representatives must be >= 1"),
    ({"k_max": 1}, "k_max must be >= 2"),
    ({"aspect": 0}, "aspect must be a positive number"),
])
def test_cluster_validation(kw, msg):
    S, _ = prototype_layer()
    with pytest.raises(ValueError, match=msg):
        channels.channel_clusters(S, LABELS, **kw)


def test_silhouettes_of_nested_cuts_match_scikit_learn():
    rng = np.random.default_rng(3)
    S = rng.random((40, 60))
    (_, _), (Z, _, D) = _seriation.channel_tree(S)
    cuts = np.stack([hierarchy.fcluster(Z, t=k, criterion="maxclust") - 1 for k in (2, 4, 7, 11)])
    got = _seriation.silhouettes(D, cuts)
    ref = [silhouette_score(D, lab, metric="precomputed") for lab in cuts]
    np.testing.assert_allclose(got, ref, atol=1e-6)


# ---------------------------------------------------------------- seriation


@pytest.mark.parametrize("c", [40, 600])  # exact OLO, and the subtree approximation above 256
def test_seriation_puts_identical_channels_next_to_each_other(c):
    rng = np.random.default_rng(c)
    base = rng.random((N, c))
    twins = rng.choice(c, size=10, replace=False)
    S = np.concatenate([base, base[:, twins]], axis=1)
    order = heatmap.channel_order(S, LABELS, "cluster")[0]
    pos = np.empty(S.shape[1], dtype=np.int64)
    pos[order] = np.arange(S.shape[1])
    for j, t in enumerate(twins):
        assert abs(pos[t] - pos[c + j]) == 1


@pytest.mark.parametrize("c", [60, 600])
def test_seriation_recovers_the_order_of_an_arc(c):
    S, perm = arc_layer(c)
    seq = perm[_seriation.seriation(S)]
    assert np.all(np.diff(seq) == 1) or np.all(np.diff(seq) == -1)


@pytest.mark.parametrize("seed", range(4))
def test_seriation_of_many_small_subtrees_recovers_the_arc(monkeypatch, seed):
    # Tiny subtrees make the orientation of each one (the first included) decide the result.
    monkeypatch.setattr(_seriation, "EXACT_MAX", 6)
    monkeypatch.setattr(_seriation, "N_SUBTREES", 5)
    S, perm = arc_layer(80, seed=seed)
    seq = perm[_seriation.seriation(S)]
    assert np.all(np.diff(seq) == 1) or np.all(np.diff(seq) == -1)


def test_seriation_is_optimal_for_small_trees():
    # Brute force over all 2^(C-1) flips of the tree: no leaf order has a
    # smaller sum of neighbour distances.
    rng = np.random.default_rng(4)
    S = rng.random((30, 7))
    (_, _), (Z, _, D) = _seriation.channel_tree(S)
    root = hierarchy.to_tree(Z)

    def orders(node):
        if node.is_leaf():
            return [[node.id]]
        out = []
        for left in orders(node.get_left()):
            for right in orders(node.get_right()):
                out += [left + right, right + left]
        return out

    best = min(sum(D[a, b] for a, b in zip(o[:-1], o[1:])) for o in orders(root))
    got = _seriation.seriation(S)
    assert sum(D[a, b] for a, b in zip(got[:-1], got[1:])) == pytest.approx(best)


# ---------------------------------------------------------------- treemap


def test_treemap_golden_bruls_example():
    # Bruls, Huizing & van Wijk (2000), Fig. 4: sizes 6 6 4 3 2 2 1 in a 6 x 4 rectangle.
    got = treemap.squarified_treemap([6, 6, 4, 3, 2, 2, 1], aspect=1.5) * [6, 4, 6, 4]
    expected = [
        [0, 0, 3, 2], [0, 2, 3, 2],                     # {6, 6}: a column of width 12 / 4
        [3, 0, 12 / 7, 7 / 3], [3 + 12 / 7, 0, 9 / 7, 7 / 3],  # {4, 3}: a row of height 7 / 3
        [3, 7 / 3, 6 / 5, 5 / 3], [3 + 6 / 5, 7 / 3, 6 / 5, 5 / 3], [3 + 12 / 5, 7 / 3, 3 / 5, 5 / 3],
    ]
    np.testing.assert_allclose(got, expected, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=30), st.floats(0.2, 5.0))
def test_treemap_tiles_the_square_without_overlap(sizes, aspect):
    r = treemap.squarified_treemap(sizes, aspect=aspect)
    sizes = np.asarray(sizes)
    np.testing.assert_allclose(r[:, 2] * r[:, 3], sizes / sizes.sum(), rtol=1e-6, atol=1e-12)
    assert np.all(r >= 0) and np.all(r[:, 0] + r[:, 2] <= 1 + 1e-9) and np.all(r[:, 1] + r[:, 3] <= 1 + 1e-9)
    for i in range(len(r)):
        for j in range(i):
            ox = min(r[i, 0] + r[i, 2], r[j, 0] + r[j, 2]) - max(r[i, 0], r[j, 0])
            oy = min(r[i, 1] + r[i, 3], r[j, 1] + r[j, 3]) - max(r[i, 1], r[j, 1])
            assert ox <= 1e-9 or oy <= 1e-9


def test_treemap_validation():
    with pytest.raises(ValueError, match="sizes must be a 1-D array of positive"):
        treemap.squarified_treemap([1, 0])
    with pytest.raises(ValueError, match="aspect must be a positive number"):
        treemap.squarified_treemap([1], aspect=-1)


# ---------------------------------------------------------------- card


def test_card_top_k_matches_an_independent_argsort():
    rng = np.random.default_rng(5)
    S = rng.integers(0, 6, (N, 30)).astype(np.float64)  # many ties
    for ch in (0, 7, 29):
        card = channels.channel_card(S, LABELS, ch, top_k=12)
        expected = sorted(range(N), key=lambda i: (-S[i, ch], i))[:12]
        assert card["top_inputs"] == expected
        assert card["top_values"] == S[expected, ch].tolist()
    assert len(channels.channel_card(S[:5], LABELS[:5], 0, top_k=9)["top_inputs"]) == 5


def test_card_ranks_match_each_heatmap_order():
    rng = np.random.default_rng(6)
    S = rng.random((N, 25))
    fn, tv = rng.random(25), rng.random(25)
    clusters = channels.channel_clusters(S, LABELS)
    for ch in (0, 3, 24):
        card = channels.channel_card(S, LABELS, ch, filter_norm=fn, taylor=tv, order=clusters["order"],
                                     assignment=clusters["assignment"])
        for name in ("pairwise", "variance", "filter_norm", "taylor", "cluster"):
            perm = heatmap.channel_order(S, LABELS, name, filter_norm=fn, taylor=tv)[0]
            assert card["ranks"][name] == perm.tolist().index(ch), name
        assert card["metrics"]["filter_norm"] == fn[ch] and card["metrics"]["taylor"] == tv[ch]
        assert card["cluster"] == clusters["assignment"][ch]
        np.testing.assert_allclose(card["class_means"], [S[LABELS == k, ch].mean() for k in range(4)], rtol=1e-6)
    bare = channels.channel_card(S, LABELS, 1)
    assert bare["ranks"]["filter_norm"] is None and bare["ranks"]["cluster"] is None and bare["cluster"] is None


def test_card_of_a_class_selective_channel():
    S = np.where(LABELS[:, None] == 3, 2.0, 0.5) * np.ones((1, 4))
    card = channels.channel_card(S, LABELS, 2, top_k=3)
    assert card["preferred_class"] == 3 and card["selectivity"] == pytest.approx(1.0)
    assert all(LABELS[i] == 3 for i in card["top_inputs"])


@pytest.mark.parametrize("kw,msg", [
    ({"channel": 30}, "channel must be <= 29"),
    ({"channel": -1}, "channel must be >= 0"),
    ({"top_k": 0}, "top_k must be >= 1"),
    ({"filter_norm": [1.0]}, "filter_norm must have one value per channel"),
    ({"taylor": np.full(30, np.nan)}, "taylor contains NaN"),
    ({"order": [0] * 30}, "order must be a permutation of the 30 channels"),
    ({"assignment": [0.5] * 30}, "assignment must hold one integer cluster id"),
])
def test_card_validation(kw, msg):
    S = np.random.default_rng(0).random((N, 30))
    kw = {"channel": 0, **kw}
    with pytest.raises(ValueError, match=msg):
        channels.channel_card(S, LABELS, **kw)


def test_history_golden():
    h = channels.channel_history([0, 5, 9], [np.array([1.0, 3.0, 5.0]), None, np.array([2.0, 4.0])],
                                 [np.array([0, 0, 1]), None, np.array([1, 2])])
    assert h == {"steps": [0, 5, 9], "mean": [3.0, None, 3.0], "classes": [0, 1, 2],
                 "class_means": [[2.0, 5.0, None], [None, None, None], [None, 2.0, 4.0]],
                 "drift": [None, None, None]}


def test_history_drift_matches_inputs_by_sample_id():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    ids0 = np.array([10, 11, 12, 13])
    # Step 1: the same profile at twice the scale, inputs shuffled; step 2: reversed; step 3: id 99 unmatched.
    perm = np.array([2, 0, 3, 1])
    cols = [a, 2 * a[perm], a[::-1] * 1.0, np.array([4.0, 3.0, 7.0])]
    ids = [ids0, ids0[perm], ids0, np.array([10, 11, 99])]
    h = channels.channel_history([0, 1, 2, 3], cols, [np.zeros(4, int)] * 3 + [np.zeros(3, int)], ids)
    assert h["drift"][0] is None
    assert h["drift"][1] == pytest.approx(0.0, abs=1e-9)  # scale ignored, order matched by id
    assert h["drift"][2] == pytest.approx(2.0)  # reversed: r = -1
    # step 2 gave ids 10..13 the values 4, 3, 2, 1; step 3 gives 10 -> 4, 11 -> 3: r = 1 on the 2 matched
    assert h["drift"][3] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="must have the same length"):
        channels.channel_history([0], [], [])


# ---------------------------------------------------------------- embedding


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_places_copies_of_a_prototype_together(method):
    S, truth = prototype_layer()
    # Copies at very different scales: only the profile's shape should matter.
    S = S * np.random.default_rng(9).uniform(0.1, 10.0, truth.size)[None, :]
    v = channels.channel_embedding(S, LABELS, method=method, random_state=0)
    json.dumps(v, allow_nan=False)
    P = np.asarray(v["points"])
    assert P.shape == (truth.size, 2)
    d = np.linalg.norm(P[:, None] - P[None, :], axis=-1)
    same = truth[:, None] == truth[None, :]
    np.fill_diagonal(same, False)
    other = truth[:, None] != truth[None, :]
    # Every channel's farthest same-prototype channel is nearer than its nearest other one.
    assert np.all(np.where(same, d, 0).max(axis=1) < np.where(other, d, np.inf).min(axis=1))


def test_embedding_colours_by_preferred_class_above_the_threshold():
    rng = np.random.default_rng(7)
    S = rng.uniform(0, 1, (N, 8))
    S[:, 1] = np.where(LABELS == 3, 4.0, 0.0)
    S[:, 6] = np.where(LABELS == 0, 4.0, 0.0)
    v = channels.channel_embedding(S, LABELS, method="pca", selectivity_threshold=0.5)
    assert v["color_class"] == [-1, 3, -1, -1, -1, -1, 0, -1]
    assert v["preferred_class"][1] == 3 and v["preferred_class"][6] == 0


def test_embedding_from_weights():
    S, truth = prototype_layer()
    rng = np.random.default_rng(8)
    W = rng.normal(size=(3, 16))[truth] + 0.05 * rng.normal(size=(truth.size, 16))
    v = channels.channel_embedding(S, LABELS, method="pca", source="weights", weights=W)
    P = np.asarray(v["points"])
    spread = max(np.ptp(P[truth == g], axis=0).max() for g in range(3))
    assert spread < 0.2 * np.ptp(P, axis=0).max()
    with pytest.raises(ValueError, match="source='weights' needs weights"):
        channels.channel_embedding(S, LABELS, source="weights")
    with pytest.raises(ValueError, match="weights has 3 rows but S has 21 channels"):
        channels.channel_embedding(S, LABELS, source="weights", weights=W[:3])
    with pytest.raises(ValueError, match="source must be one of activations, weights"):
        channels.channel_embedding(S, LABELS, source="grads")
    with pytest.raises(ValueError, match="selectivity_threshold must be in"):
        channels.channel_embedding(S, LABELS, selectivity_threshold=2)


# ---------------------------------------------------------------- edges


def block_weights(c_in_truth, c_out_truth, match, seed=0):
    """|w| strong (about 1) where target cluster q = match[p], weak (about 0.05) elsewhere."""
    rng = np.random.default_rng(seed)
    strong = match[c_in_truth][None, :] == c_out_truth[:, None]
    return np.where(strong, 1.0, 0.05) * rng.uniform(0.8, 1.2, (c_out_truth.size, c_in_truth.size))


def test_edges_of_a_block_weight_matrix_connect_the_matching_clusters_only():
    S_a, truth_a = prototype_layer(seed=0)
    S_b, truth_b = prototype_layer(copies=(6, 6, 6), seed=1)
    va = channels.channel_clusters(S_a, LABELS)
    vb = channels.channel_clusters(S_b, LABELS)
    match = np.array([2, 0, 1])  # source prototype p feeds target prototype match[p]
    W = block_weights(truth_a, truth_b, match)
    e = channel_edges.channel_edges(va["assignment"], vb["assignment"], W, threshold=0.5)
    assert e["available"] and e["reason"] is None
    # Map cluster ids back to prototypes to name the expected bundles.
    proto_of_a = {a: t for a, t in zip(va["assignment"], truth_a)}
    proto_of_b = {b: t for b, t in zip(vb["assignment"], truth_b)}
    got = {(proto_of_a[b["source"]], proto_of_b[b["target"]]) for b in e["bundles"]}
    assert got == {(p, int(match[p])) for p in range(3)}
    for b in e["bundles"]:
        members = np.outer(np.asarray(vb["assignment"]) == b["target"], np.asarray(va["assignment"]) == b["source"])
        assert b["abs"] == pytest.approx(W[members].sum(), rel=1e-6)
        assert b["connections"] == members.sum()
    assert len(channel_edges.channel_edges(va["assignment"], vb["assignment"], W, threshold=0.0)["bundles"]) == 9


def test_edges_keep_positive_and_negative_apart():
    a = np.array([0, 0, 1])
    b = np.array([0, 1])
    w = np.array([[[1.0, -2.0], [3.0, 0.0], [-1.0, -1.0]],   # output 0: per input, the kernel weights
                  [[0.5, 0.5], [-4.0, 1.0], [2.0, 2.0]]])
    W_abs, W_sum = np.abs(w).sum(-1), w.sum(-1)
    e = channel_edges.channel_edges(a, b, W_abs, W_sum, threshold=0.0)
    by = {(x["source"], x["target"]): x for x in e["bundles"]}
    # source cluster 0 = inputs 0,1; target cluster 0 = output 0: weights 1, -2, 3, 0
    assert by[(0, 0)]["positive"] == pytest.approx(4.0) and by[(0, 0)]["negative"] == pytest.approx(2.0)
    assert by[(1, 1)]["positive"] == pytest.approx(4.0) and by[(1, 1)]["negative"] == pytest.approx(0.0)
    assert by[(0, 1)]["negative"] == pytest.approx(4.0)
    assert e["bundles"][0]["strength"] == 1.0


@pytest.mark.parametrize("kw,reason", [
    ({"groups": 4}, "grouped convolution (groups=4)"),
    ({"groups": 8, "shape": (8, 1), "c_out": 8}, "depthwise convolution"),
    ({"target_type": "ConvTranspose2d"}, "transposed convolution"),
    ({"between": [("conv_mid", "Conv2d")]}, "modules in between do not keep channel i as channel i: conv_mid (Conv2d)"),
    ({"between": [("add_1", "Add")]}, "add_1 (Add)"),
    ({"shape": (6, 2), "target_type": "Conv2d"}, "grouped convolution (groups=4)"),
    ({"shape": None}, "the target layer has no filter weights logged"),
    ({"connected": False}, "the model graph has no path from the source layer to the target layer"),
    ({"shape": (6, 5)}, "C_in=5 but the source layer has 8 channels"),
    ({"shape": (7, 8)}, "C_out=7 but the target layer has 6 channels"),
])
def test_edges_refuse_weights_that_do_not_map_channel_to_channel(kw, reason):
    c_out = kw.pop("c_out", 6)
    shape = kw.pop("shape", (c_out, 8))
    e = channel_edges.channel_edges(np.arange(8) % 2, np.arange(c_out) % 3, None if shape is None else np.ones(shape),
                                    **kw)
    assert e["available"] is False and e["bundles"] == []
    assert reason in e["reason"]


def test_edges_through_channel_preserving_layers_and_validation():
    e = channel_edges.channel_edges(np.arange(8) % 2, np.arange(6) % 3, np.ones((6, 8)),
                                    between=[("bn", "BatchNorm2d"), ("act", "ReLU"), ("pool", "MaxPool2d")])
    assert e["available"] is True and len(e["bundles"]) == 6
    with pytest.raises(ValueError, match="threshold must be in"):
        channel_edges.channel_edges([0], [0], np.ones((1, 1)), threshold=1.5)
    with pytest.raises(ValueError, match="weight_abs must be >= 0"):
        channel_edges.channel_edges([0], [0], -np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"\|weight_sum\| <= weight_abs"):
        channel_edges.channel_edges([0], [0], np.ones((1, 1)), 2 * np.ones((1, 1)))
    with pytest.raises(ValueError, match="assign_source must be a non-empty 1-D array"):
        channel_edges.channel_edges([], [0], np.ones((1, 0)))
