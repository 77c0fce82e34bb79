"""Pure numpy tests of views.timeline (separability, trajectories, diffs) and views.align."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorboard_plugin_channelexplorer.views import align as A
from tensorboard_plugin_channelexplorer.views import timeline as T


def blobs(n_per=20, k=4, c=16, sep=4.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), n_per)
    centers = rng.normal(0, sep, (k, c))
    return centers[labels] + rng.normal(size=(k * n_per, c)), labels


# ------------------------------------------------------------ separability
def test_knn_separated_classes_score_one_and_noise_scores_near_chance():
    S, y = blobs(sep=10.0)
    assert T.knn_loo_score(S, y) == 1.0
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(400, 16))
    labels = rng.integers(0, 4, 400)
    score = T.knn_loo_score(noise, labels)
    assert abs(score - 0.25) < 0.08, score
    assert T.chance_level(labels) == pytest.approx(np.bincount(labels).max() / 400)


def test_knn_matches_sklearn_leave_one_out():
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    S, y = blobs(sep=1.0, seed=3)
    ours = T.knn_loo_score(S, y, k=5)
    ref = cross_val_score(KNeighborsClassifier(5), T.standardize(S), y, cv=LeaveOneOut()).mean()
    assert abs(ours - ref) <= 0.03  # only vote tie-breaking differs


def test_knn_is_invariant_to_per_channel_scale_and_shift_and_deterministic():
    S, y = blobs(sep=1.5, seed=5)
    scale = np.random.default_rng(0).uniform(0.01, 100.0, S.shape[1])
    a = T.knn_loo_score(S, y)
    assert T.knn_loo_score(S * scale + 7.0, y) == pytest.approx(a)
    assert T.knn_loo_score(S, y) == a


def test_knn_golden_case_computed_by_hand():
    """Six 1-D points, scored by hand (leave-one-out; vote ties -> the nearest neighbour's class;
    distance ties -> the lower index).

    x = 0 1 3 4 8 9, labels 0 0 1 0 1 1. k = 2: inputs 0, 1 (tie, nearest is class 0), 4, 5 (tie,
    nearest is class 1) are right, 2 (neighbours 3, 1: class 0) and 3 (tie, nearest is 2: class 1)
    wrong: 4/6. Breaking vote ties by the lower class id gives 3/6; keeping the input itself as
    a neighbour gives 6/6. k = 3: only input 2 is wrong (5/6); input 3 has 0 and 4 both at
    distance 4, and index 0 wins (the other way, its vote flips to class 1: 4/6). k = 50 is
    clamped to N - 1 = 5: every input is outvoted by the other class: 0/6.
    """
    S = np.array([[0.0], [1.0], [3.0], [4.0], [8.0], [9.0]])
    y = np.array([0, 0, 1, 0, 1, 1])
    assert T.knn_loo_score(S, y, k=2) == pytest.approx(4 / 6)
    assert T.knn_loo_score(S, y, k=3) == pytest.approx(5 / 6)
    assert T.knn_loo_score(S, y, k=50) == 0.0


def _knn_loo_by_index(S, y, k):
    """Leave-one-out k-NN with neighbours ordered by (distance, index): the documented rule, in a plain loop."""
    X = T.standardize(S)
    n = len(y)
    k = min(k, n - 1)
    D = np.round(((X[:, None] - X[None]) ** 2).sum(-1), 9)
    np.fill_diagonal(D, np.inf)
    right = 0
    for i in range(n):
        near = sorted(range(n), key=lambda j: (D[i, j], j))[:k]
        votes = {c: [y[j] for j in near].count(c) for c in set(y[j] for j in near)}
        top = max(votes.values())
        right += next(y[j] for j in near if votes[y[j]] == top) == y[i]
    return right / n


def test_knn_matches_the_plain_loop_when_no_distances_tie():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = int(rng.integers(5, 30))
        S, y, k = rng.normal(size=(n, 3)), rng.integers(0, 3, n), int(rng.integers(1, 6))
        assert T.knn_loo_score(S, y, k=k) == pytest.approx(_knn_loo_by_index(S, y, k)), (n, k)


def test_knn_distance_ties_at_the_kth_neighbour_go_to_the_lower_index():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(5, 30))
        S = rng.integers(0, 3, (n, 2)).astype(float)  # many equidistant neighbours
        y = rng.integers(0, 3, n)
        k = int(rng.integers(1, 6))
        assert T.knn_loo_score(S, y, k=k) == pytest.approx(_knn_loo_by_index(S, y, k)), (n, k)


def test_knn_edge_cases():
    # Constant channels carry no information -> chance.
    assert T.knn_loo_score(np.ones((6, 3)), [0, 0, 0, 0, 1, 1]) == pytest.approx(4 / 6)
    # A constant channel next to an informative one is ignored, not NaN.
    S = np.c_[np.ones(8), np.repeat([0.0, 5.0], 4)]
    assert T.knn_loo_score(S, np.repeat([0, 1], 4), k=3) == 1.0
    with pytest.raises(ValueError, match="S"):
        T.knn_loo_score(np.ones((1, 3)), [0])
    with pytest.raises(ValueError, match="k"):
        T.knn_loo_score(np.ones((4, 3)), [0, 1, 0, 1], k=0)
    with pytest.raises(ValueError, match="labels"):
        T.knn_loo_score(np.ones((4, 3)), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        T.knn_loo_score(np.full((4, 3), np.nan), [0, 1, 0, 1])


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 40), st.integers(1, 6), st.integers(1, 4), st.integers(0, 10_000))
def test_knn_score_is_a_fraction(n, c, k, seed):
    rng = np.random.default_rng(seed)
    S = rng.integers(0, 3, (n, c)).astype(float)  # many exact ties
    y = rng.integers(0, 3, n)
    s = T.knn_loo_score(S, y, k=k)
    assert 0.0 <= s <= 1.0 and round(s * n) == pytest.approx(s * n)


def test_prediction_accuracy():
    assert T.prediction_accuracy(None, [0, 1]) is None
    assert T.prediction_accuracy([0, 1, 1, 1], [0, 1, 0, 1]) == 0.75
    assert T.prediction_accuracy([0], [0, 1]) is None


# ------------------------------------------------------------- matching
def test_match_ids_keeps_common_ids_in_first_order_and_counts_dropped():
    common, idx, dropped = A.match_ids([np.array([5, 3, 9, 1]), np.array([1, 9, 3, 7, 8]), np.array([3, 1, 9])])
    assert common == [3, 9, 1]
    assert [i.tolist() for i in idx] == [[1, 2, 3], [2, 1, 0], [0, 2, 1]]
    assert dropped == [1, 2, 0]
    # Strings, and a duplicated id: only its first occurrence is matched.
    common, idx, dropped = A.match_ids([np.array(["a", "b", "a"]), np.array(["b", "a"])])
    assert common == ["a", "b"] and idx[0].tolist() == [0, 1] and dropped == [1, 0]
    with pytest.raises(ValueError, match="sample_ids"):
        A.match_ids([np.array([0.5, 1.5])])
    with pytest.raises(ValueError):
        A.match_ids([])


# ------------------------------------------------------------- alignment
def test_procrustes_undoes_rotation_reflection_scale_and_shift():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(50, 2))
    theta = 1.1
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) @ np.diag([1.0, -1.0])
    moved = 3.7 * Y @ R + np.array([10.0, -4.0])
    frames = A.align_frames([Y, moved], "procrustes")
    np.testing.assert_allclose(frames[1], frames[0], atol=1e-9)
    assert A.mean_displacement(frames) == [pytest.approx(0.0, abs=1e-9)]
    raw = A.align_frames([Y, moved], "none")
    assert A.mean_displacement(raw)[0] > 0.5
    # Normalized frames have unit RMS radius.
    assert np.sqrt(np.mean(np.sum(raw[1] ** 2, axis=1))) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 30), st.integers(0, 10_000))
def test_aligned_rms_displacement_never_exceeds_unaligned(n, seed):
    rng = np.random.default_rng(seed)
    frames = [rng.normal(size=(n, 2)) for _ in range(3)]

    def rms(fs):
        return [float(np.sqrt(np.mean(np.sum((b - a) ** 2, axis=1)))) for a, b in zip(fs[:-1], fs[1:])]

    for a, u in zip(rms(A.align_frames(frames, "procrustes")), rms(A.align_frames(frames, "none"))):
        assert a <= u + 1e-9


def test_degenerate_frames_do_not_crash():
    frames = A.align_frames([np.zeros((4, 2)), np.ones((4, 2))], "procrustes")
    assert np.all(frames[0] == 0) and np.all(frames[1] == 0)
    with pytest.raises(ValueError, match="align"):
        A.align_frames([np.zeros((2, 2))], "rotate")


# ------------------------------------------------------------- trajectory
def test_trajectory_matches_ids_aligns_pca_sign_flips_and_reports_dropped():
    S, y = blobs(n_per=10, k=3, c=8, sep=3.0, seed=2)
    ids = np.arange(30) + 100
    # Step 1: same inputs in reverse order, negated (PCA axes may flip) and
    # one input replaced by a new id; step 2: a subset.
    S1, y1, ids1 = -S[::-1].copy(), y[::-1].copy(), ids[::-1].copy()
    ids1[0] = 999
    keep = np.arange(0, 30, 1)[2:]
    body = T.trajectory_view([S, S1, S[keep]], [y, y1, y[keep]], [ids, ids1, ids[keep]], [0, 1, 2], method="pca")
    assert body["matched"] == 27 and body["dropped"] == {"0": 3, "1": 3, "2": 1}
    assert len(body["sample_ids"]) == 27 and body["sample_ids"][0] == 102
    pos = {i: k for k, i in enumerate(ids.tolist())}
    assert body["labels"] == [int(y[pos[i]]) for i in body["sample_ids"]]
    assert [f["step"] for f in body["frames"]] == [0, 1, 2]
    assert all(len(f["points"]) == 27 for f in body["frames"])
    # Same data at every step (up to the reordering): the frames coincide.
    assert max(body["mean_displacement"]) < 1e-4


def test_trajectory_procrustes_removes_a_pca_axis_swap():
    # Two nearly equal principal variances: a 2% change swaps PCA's axes, a
    # 90-degree turn of the picture although the inputs barely moved.
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 2))
    Z = (Z - Z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(Z.T, bias=True))).T  # white
    W = np.linalg.qr(rng.normal(size=(8, 2)))[0].T  # 2 -> 8 channels, orthonormal
    S0, S1 = (Z * [1.01, 1.0]) @ W, (Z * [1.0, 1.01]) @ W
    y, ids = np.zeros(40, dtype=int), np.arange(40)
    body = T.trajectory_view([S0, S1], [y, y], [ids, ids], [0, 1], method="pca")
    assert body["mean_displacement"][0] < 0.05
    assert body["mean_displacement_unaligned"][0] > 0.5
    plain = T.trajectory_view([S0, S1], [y, y], [ids, ids], [0, 1], method="pca", align="none")
    assert plain["mean_displacement"] == body["mean_displacement"]  # always both figures
    np.testing.assert_allclose(plain["frames"][0]["points"], body["frames"][0]["points"])
    assert np.abs(np.subtract(plain["frames"][1]["points"], body["frames"][1]["points"])).max() > 0.1


def test_trajectory_errors():
    S, y = blobs(n_per=5, k=2, c=4)
    ids = np.arange(10)
    with pytest.raises(ValueError, match="steps"):
        T.trajectory_view([S, S], [y, y], [ids, ids + 50], [0, 1])
    with pytest.raises(ValueError, match="method"):
        T.trajectory_view([S], [y], [ids], [0], method="lle")
    with pytest.raises(ValueError, match="align"):
        T.trajectory_view([S], [y], [ids], [0], align="spin")
    with pytest.raises(ValueError, match="sample_ids"):
        T.trajectory_view([S], [y], [ids[:3]], [0])


# ------------------------------------------------------------------ diff
def test_diff_of_identical_data_is_zero_and_rank_changes_follow_a_channel_swap():
    S, y = blobs(n_per=10, k=3, c=12, sep=3.0, seed=4)
    ids = np.arange(30)
    same = T.diff_view(S, S, y, y, ids, ids)
    assert same["mean_abs_diff"] == 0.0 and same["range"] == [-1.0, 1.0]
    assert all(r["delta"] == 0 for r in same["rank_changes"])
    # The same inputs in another order at side b: matched by id, still zero.
    perm = np.random.default_rng(0).permutation(30)
    shuffled = T.diff_view(S, S[perm], y, y[perm], ids, ids[perm])
    assert shuffled["mean_abs_diff"] == 0.0 and shuffled["matched"] == 30
    # Swapping the best and the worst channel at side b moves exactly those two ranks.
    from tensorboard_plugin_channelexplorer.views.heatmap import channel_order

    order_a, _ = channel_order(S, y)
    best, worst = int(order_a[0]), int(order_a[-1])
    Sb = S.copy()
    Sb[:, [best, worst]] = Sb[:, [worst, best]]
    body = T.diff_view(S, Sb, y, y, ids, ids)
    moved = {r["channel"]: r for r in body["rank_changes"] if r["delta"] != 0}
    assert set(moved) == {best, worst}
    assert moved[best]["rank_a"] == 0 and moved[best]["rank_b"] == 11 and moved[best]["delta"] == 11
    assert body["rank_changes"][0]["channel"] in (best, worst)


def test_diff_structure_matching_and_channel_mismatch():
    S, y = blobs(n_per=6, k=3, c=10, sep=2.0, seed=6)
    ids = np.arange(18)
    rng = np.random.default_rng(1)
    Sb = S + rng.normal(0, 1.0, S.shape)
    body = T.diff_view(S, Sb[2:], y, y[2:], ids, ids[2:], eta=0.3)
    m = body["matched"]
    assert m == 16 and body["dropped"] == {"a": 2, "b": 0}
    d = np.asarray(body["diff"])
    assert d.shape == (m, m) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    lo, hi = body["range"]
    assert lo == -hi and np.abs(d).max() <= hi + 1e-6
    order = body["order"]
    labs = np.asarray(body["labels"])[order]
    assert np.all(np.diff(labs) >= 0) and body["class_boundaries"][-1] == m
    off = ~np.eye(m, dtype=bool)
    assert body["mean_abs_diff"] == pytest.approx(np.abs(d[off]).mean(), abs=1e-5)
    assert len(body["rank_changes"]) == 10 and np.asarray(body["class_diff"]).shape == (3, 3)
    other = T.diff_view(S, S[:, :7], y, y, ids, ids)
    assert other["rank_changes"] is None and other["channels"] == [10, 7]
    with pytest.raises(ValueError, match="step"):
        T.diff_view(S, S, y, y, ids, ids + 100)
    with pytest.raises(ValueError, match="order"):
        T.diff_view(S, S, y, y, ids, ids, order="random")
    with pytest.raises(ValueError, match="eta"):
        T.diff_view(S, S, y, y, ids, ids, eta=0.0)
