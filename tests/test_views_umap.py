"""UMAP embedding and the JIT warm-up (separate file: numba compiles for ~10-30 s)."""

import numpy as np

from tensorboard_plugin_channelexplorer.views import scatter


def _data(seed=0, n_per=8, k=3, d=30):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 8
    X = np.concatenate([centers[i] + rng.normal(size=(n_per, d)) for i in range(k)])
    return X, np.repeat(np.arange(k), n_per)


def test_umap_small_and_warm_up():
    scatter.warm_up()
    scatter.warm_up()  # idempotent
    X, labels = _data(n_per=8)
    a = scatter.embed(X, "umap", random_state=1)
    b = scatter.embed(X, "umap", random_state=1)
    assert a.shape == (24, 2) and np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b)
    v = scatter.scatter_view(X, labels, method="umap", random_state=1)
    np.testing.assert_allclose(v["points"], a, atol=1e-5)


def test_umap_keeps_separated_blobs_apart():
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    # 5 blobs far apart in 80 dims (more than REDUCED_DIMS, so the PCA step runs).
    X, blobs = _data(seed=7, n_per=40, k=5, d=80)
    Y = scatter.embed(X, "umap", random_state=0)
    idx = NearestNeighbors(n_neighbors=11).fit(Y).kneighbors(Y, return_distance=False)[:, 1:]
    # Random coordinates score about 0.5 and 0.2 here.
    assert trustworthiness(X, Y, n_neighbors=10) > 0.95
    assert np.mean(blobs[idx] == blobs[:, None]) > 0.95
