"""X-Means: BIC splitting finds well-separated blobs and does not split noise."""

import numpy as np
import pytest

from tensorboard_plugin_channelexplorer.views.xmeans import bic, xmeans


def _blobs(d, n_per=40, k=3, sep=10.0, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * sep
    X = np.concatenate([centers[i] + rng.normal(size=(n_per, d)) for i in range(k)])
    return X, np.repeat(np.arange(k), n_per)


def _same_partition(a, b):
    # Each true group maps to exactly one cluster and vice versa.
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("d", [2, 16, 512])
def test_finds_three_blobs(d):
    X, truth = _blobs(d)
    labels, centers = xmeans(X, random_state=0)
    assert centers.shape == (3, d)
    assert _same_partition(labels, truth)
    for j in range(3):
        np.testing.assert_allclose(centers[j], X[labels == j].mean(axis=0))


@pytest.mark.parametrize("d", [2, 50, 1000])
def test_noise_is_one_cluster(d):
    X = np.random.default_rng(1).normal(size=(120, d))
    labels, centers = xmeans(X)
    assert centers.shape[0] == 1 and np.all(labels == 0)


def test_k_max_caps_and_largest_first():
    X, _ = _blobs(4, n_per=30, k=6)
    labels, centers = xmeans(X, k_max=3)
    assert centers.shape[0] <= 3
    sizes = np.bincount(labels)
    assert np.all(np.diff(sizes) <= 0)


def test_deterministic_for_a_seed():
    X, _ = _blobs(8, k=5, sep=4.0)
    a, _ = xmeans(X, random_state=3)
    b, _ = xmeans(X, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_degenerate_inputs():
    labels, centers = xmeans(np.ones((5, 3)))
    assert labels.tolist() == [0] * 5 and centers.shape == (1, 3)
    labels, _ = xmeans(np.zeros((1, 4)))
    assert labels.tolist() == [0]
    # Two groups of duplicates split (children have zero variance).
    X = np.array([[0.0, 0.0]] * 6 + [[5.0, 5.0]] * 6)
    labels, _ = xmeans(X, k_max=4)
    assert _same_partition(labels, np.repeat([0, 1], 6))


def test_bic_prefers_true_structure():
    X, truth = _blobs(3, k=2)
    one = bic(X, np.zeros(len(X), dtype=int), X.mean(axis=0, keepdims=True))
    centers = np.stack([X[truth == j].mean(axis=0) for j in range(2)])
    assert bic(X, truth, centers) > one


def test_validation():
    with pytest.raises(ValueError, match="X must be 2-D"):
        xmeans(np.ones(5))
    with pytest.raises(ValueError, match="k_max must be >= 1"):
        xmeans(np.ones((5, 2)), k_max=0)
    with pytest.raises(ValueError, match="X contains NaN"):
        xmeans(np.array([[np.nan, 1.0]]))


def test_bic_curve_starts_with_the_one_gaussian_likelihood():
    from scipy.stats import multivariate_normal

    X, truth = _blobs(5, n_per=30, k=3)
    labels, centers, curve = xmeans(X, random_state=0, return_bic_curve=True)
    R, M = X.shape
    sigma2 = np.sum((X - X.mean(axis=0)) ** 2) / (M * (R - 1))
    loglik = multivariate_normal(X.mean(axis=0), sigma2 * np.eye(M)).logpdf(X).sum()
    assert curve[0][0] == 1
    np.testing.assert_allclose(curve[0][1], loglik - (M + 1) / 2 * np.log(R), rtol=1e-10)
    ks = [k for k, _ in curve]
    assert ks == sorted(ks)
    # The returned structure is the curve's maximum, here the three blobs.
    assert max(curve, key=lambda c: c[1])[0] == centers.shape[0] == 3
    assert _same_partition(labels, truth)


def test_bic_curve_of_a_single_cluster():
    labels, centers, curve = xmeans(np.ones((6, 2)), return_bic_curve=True)
    assert centers.shape[0] == 1 and len(curve) == 1 and curve[0][0] == 1
