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
