"""Jaccard view (Eq. 1): golden values, properties, validation."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tensorboard_plugin_channelexplorer.views import jaccard


# 3 inputs x 4 channels; eta = 0.5 -> A = 2 channels per input.
S3 = np.array(
    [
        [9.0, 8.0, 1.0, 0.0],  # top {0, 1}
        [7.0, 0.0, 6.0, 1.0],  # top {0, 2}
        [0.0, 1.0, 5.0, 4.0],  # top {2, 3}
    ]
)


def test_top_sets_golden():
    B = jaccard.top_channel_sets(S3, 0.5)
    assert B.tolist() == [
        [True, True, False, False],
        [True, False, True, False],
        [False, False, True, True],
    ]


def test_jaccard_golden_3x4():
    J = jaccard.jaccard_matrix(S3, 0.5)
    # {0,1} vs {0,2}: 1 shared, union 3; {0,1} vs {2,3}: 0; {0,2} vs {2,3}: 1/3.
    expected = np.array([[1, 1 / 3, 0], [1 / 3, 1, 1 / 3], [0, 1 / 3, 1]])
    np.testing.assert_allclose(J, expected, rtol=1e-6)


def test_ties_broken_by_lower_channel_index():
    S = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 2.0, 2.0]])
    B = jaccard.top_channel_sets(S, 0.5)
    assert np.flatnonzero(B[0]).tolist() == [0, 1]
    assert np.flatnonzero(B[1]).tolist() == [1, 2]


def test_top_count_is_ceil_eta_c():
    assert jaccard.n_top(0.2, 2048) == math.ceil(0.2 * 2048)
    assert jaccard.n_top(0.3, 10) == 3  # not 4 from float error
    assert jaccard.n_top(0.01, 10) == 1
    assert jaccard.n_top(1.0, 7) == 7


def test_cell_matches_matrix():
    cell = jaccard.jaccard_cell(S3, 1, 2, eta=0.5, labels=[0, 1, 1])
    assert cell["shared"] == 1 and cell["union"] == 3
    assert cell["similarity"] == pytest.approx(1 / 3)
    assert cell["shared_channels"] == [2]
    assert cell["labels"] == [1, 1]
    json.dumps(cell, allow_nan=False)


def test_view_groups_by_class_and_class_matrix():
    labels = np.array([1, 0, 1])
    v = jaccard.jaccard_view(S3, labels, eta=0.5)
    json.dumps(v, allow_nan=False)
    assert v["order"] == [1, 0, 2]
    assert v["classes"] == [0, 1]
    assert v["class_boundaries"] == [0, 1, 3]
    assert v["top"] == 2 and v["channels"] == 4
    J = np.array(v["matrix"])
    assert J[0, 1] == pytest.approx(1 / 3)  # input 1 vs input 0
    cm = np.array(v["class_matrix"])
    # class 0 = {1}: singleton -> 1.0; class 1 = {0, 2}: one distinct pair, J = 0.
    assert cm[0, 0] == 1.0
    assert cm[1, 1] == pytest.approx(0.0)
    assert cm[0, 1] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert v["range"] == [0.0, 1.0]


def test_normalized_range_is_percentiles():
    rng = np.random.default_rng(0)
    S = rng.random((30, 50))
    v = jaccard.jaccard_view(S, np.arange(30) % 3, eta=0.2, normalize=True)
    J = jaccard.jaccard_matrix(S, 0.2)
    off = J[~np.eye(30, dtype=bool)]
    np.testing.assert_allclose(v["range"], np.percentile(off, [1, 99]), rtol=1e-6)
    assert v["normalized"] is True


def _oracle_set(row, eta, floor=0.0):
    """Top set by the documented rule, written independently: sort (value desc, index asc)."""
    a = math.ceil(eta * len(row) - 1e-9)
    ranked = sorted((c for c in range(len(row)) if row[c] > floor), key=lambda c: (-row[c], c))
    return set(ranked[:max(1, a)])


def _oracle_jaccard(si, sj, same):
    if same:
        return 1.0
    union = si | sj
    return len(si & sj) / len(union) if union else 0.0


# Summaries with many exact zeros and repeated values (ties), like post-ReLU layers.
_sparse_values = st.one_of(st.just(0.0), st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.0, 1e3, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 16)), elements=_sparse_values),
    st.floats(0.01, 1.0),
)
def test_top_sets_and_jaccard_match_an_oracle(S, eta):
    B = jaccard.top_channel_sets(S, eta)
    J = jaccard.jaccard_matrix(S, eta)
    sets = [_oracle_set(row, eta) for row in S.astype(np.float32).tolist()]
    assert [set(np.flatnonzero(b).tolist()) for b in B] == sets
    expected = [[_oracle_jaccard(si, sj, i == j) for j, sj in enumerate(sets)] for i, si in enumerate(sets)]
    np.testing.assert_allclose(J, expected, rtol=1e-6)
    np.testing.assert_array_equal(J, J.T)


def _decode_counts(block):
    """The `encode_counts` block read back with the stdlib, as its documentation says (no numpy dtype guess)."""
    import base64
    import struct

    raw = base64.b64decode(block["base64"])
    code, size = {"uint8": ("B", 1), "uint16": ("H", 2), "uint32": ("I", 4)}[block["dtype"]]
    n, m = block["shape"]
    assert len(raw) == n * m * size
    flat = struct.unpack("<" + code * (n * m), raw)
    return [list(flat[r * m:(r + 1) * m]) for r in range(n)]


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 16)), elements=_sparse_values),
    st.floats(0.01, 1.0),
    st.integers(0, 2**16),
)
def test_counts_format_holds_the_oracle_sets_exactly(S, eta, seed):
    labels = np.random.default_rng(seed).integers(0, 3, S.shape[0])
    got = jaccard.jaccard_view(S, labels, eta=eta, matrix_format="counts")
    assert "matrix" not in got and got["matrix_format"] == "counts"
    sets = [_oracle_set(row, eta) for row in S.astype(np.float32).tolist()]
    order = got["order"]
    shared = _decode_counts(got["shared"])
    assert shared == [[len(sets[i] & sets[j]) for j in order] for i in order]
    assert got["set_sizes"] == [len(sets[i]) for i in order]
    # The documented reconstruction gives the oracle's Jaccard, and the values format's matrix.
    values = jaccard.jaccard_view(S, labels, eta=eta)
    rebuilt = [[1.0 if r == c else (shared[r][c] / u if (u := got["set_sizes"][r] + got["set_sizes"][c]
                                                          - shared[r][c]) else 0.0)
                for c in range(len(order))] for r in range(len(order))]
    expected = [[_oracle_jaccard(sets[i], sets[j], i == j) for j in order] for i in order]
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12)
    np.testing.assert_allclose(values["matrix"], expected, rtol=1e-6)
    for key in ("order", "class_matrix", "labels", "classes", "class_boundaries", "empty", "range", "top"):
        assert got[key] == values[key], key


def test_encode_counts_picks_the_smallest_type_golden():
    small = jaccard.encode_counts(np.array([[0, 255], [3, 1]]))
    assert small == {"dtype": "uint8", "shape": [2, 2], "base64": "AP8DAQ=="}
    wide = jaccard.encode_counts(np.array([[256.0]], dtype=np.float32))
    assert wide == {"dtype": "uint16", "shape": [1, 1], "base64": "AAE="}  # 256 little-endian: 00 01
    assert jaccard.encode_counts(np.array([[70000]]))["dtype"] == "uint32"
    for bad in (np.array([[-1]]), np.array([[0.5]]), np.array([1, 2])):
        with pytest.raises(ValueError, match="counts"):
            jaccard.encode_counts(bad)


def test_counts_format_is_smaller_at_scale():
    rng = np.random.default_rng(0)
    S = rng.random((600, 256), dtype=np.float32)
    labels = rng.integers(0, 10, 600)
    counts = json.dumps(jaccard.jaccard_view(S, labels, matrix_format="counts"))
    values = json.dumps(jaccard.jaccard_view(S, labels))
    # 600 x 600 one-byte counts in base64 (4/3 bytes a cell) against >= 4 characters a decimal value.
    assert len(counts) < 600 * 600 * 1.5 < 600 * 600 * 4 < len(values)


def test_matrix_format_validation():
    with pytest.raises(ValueError, match="matrix_format"):
        jaccard.jaccard_view(np.ones((2, 3)), [0, 1], matrix_format="csv")


def test_disjoint_active_channels_share_nothing():
    # C = 10, eta = 0.2 -> A = 2; each input has one active channel, and they differ.
    # Filling the sets with zero channels in index order gave {0, 1} twice, J = 1.
    S = np.zeros((2, 10))
    S[0, 0] = 1.0
    S[1, 1] = 1.0
    J = jaccard.jaccard_matrix(S, 0.2)
    np.testing.assert_array_equal(J, [[1.0, 0.0], [0.0, 1.0]])
    assert np.flatnonzero(jaccard.top_channel_sets(S, 0.2)[1]).tolist() == [1]


def test_dead_channels_add_no_similarity():
    # 100 channels, 90 of them dead in every input; two classes fire disjoint live channels.
    rng = np.random.default_rng(0)
    S = np.zeros((20, 100))
    S[:10, 0:5] = rng.random((10, 5)) + 0.1
    S[10:, 5:10] = rng.random((10, 5)) + 0.1
    J = jaccard.jaccard_matrix(S, 0.2)  # A = 20 > the 5 live channels of each input
    assert np.all(J[:10, 10:] == 0.0)
    assert np.all(J[:10, :10] == 1.0) and np.all(J[10:, 10:] == 1.0)
    v = jaccard.jaccard_view(S, np.repeat([0, 1], 10), eta=0.2)
    np.testing.assert_allclose(v["class_matrix"], [[1.0, 0.0], [0.0, 1.0]])
    assert v["empty"] == []


def test_input_without_active_channel():
    S = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0]])
    B = jaccard.top_channel_sets(S, 0.5)
    assert B[:2].sum() == 0
    np.testing.assert_array_equal(jaccard.jaccard_matrix(S, 0.5), np.eye(3))
    v = jaccard.jaccard_view(S, [0, 0, 1], eta=0.5)
    assert v["empty"] == [0, 1]
    cell = jaccard.jaccard_cell(S, 0, 1, eta=0.5)
    assert (cell["shared"], cell["union"], cell["similarity"], cell["sizes"]) == (0, 0, 0.0, [0, 0])
    assert jaccard.jaccard_cell(S, 0, 0, eta=0.5)["similarity"] == 1.0


def test_floor_excludes_weak_channels():
    S = np.array([[0.05, 0.2, 0.0, 0.9]])
    assert np.flatnonzero(jaccard.top_channel_sets(S, 1.0, floor=0.1)[0]).tolist() == [1, 3]
    assert np.flatnonzero(jaccard.top_channel_sets(S, 1.0)[0]).tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match="floor must be a finite number"):
        jaccard.top_channel_sets(S, 0.5, floor=float("nan"))


@pytest.mark.parametrize("eta", [0, -0.1, 1.5, float("nan"), "0.2", None])
def test_eta_validation(eta):
    with pytest.raises(ValueError, match="eta"):
        jaccard.jaccard_view(S3, [0, 1, 1], eta=eta)


def test_labels_length_validation():
    with pytest.raises(ValueError, match=r"labels has 2 entries but S has 3 rows"):
        jaccard.jaccard_view(S3, [0, 1])


def test_cell_index_validation():
    with pytest.raises(ValueError, match="j must be <= 2"):
        jaccard.jaccard_cell(S3, 0, 3)
    with pytest.raises(ValueError, match="i must be >= 0"):
        jaccard.jaccard_cell(S3, -1, 0)


def test_nan_rejected():
    S = S3.copy()
    S[0, 0] = np.nan
    with pytest.raises(ValueError, match="S contains NaN"):
        jaccard.jaccard_matrix(S)
