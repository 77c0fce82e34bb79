"""Scatterplot view: embeddings, clusters in the original space, outliers."""

import json

import numpy as np
import pytest

from tensorboard_plugin_channelexplorer.views import scatter


def _data(seed=0, n_per=20, k=3, d=30):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 8
    X = np.concatenate([centers[i] + rng.normal(size=(n_per, d)) for i in range(k)])
    return X, np.repeat(np.arange(k), n_per)


def _match_up_to_sign(A, B):
    for j in range(2):
        a, b = A[:, j], B[:, j]
        assert np.allclose(a, b, atol=1e-6) or np.allclose(a, -b, atol=1e-6)


@pytest.mark.parametrize("shape", [(40, 6), (25, 300)])
def test_classical_mds_equals_pca_up_to_sign(shape):
    X = np.random.default_rng(2).normal(size=shape) * np.linspace(1, 3, shape[1])
    _match_up_to_sign(scatter.embed(X, "mds"), scatter.embed(X, "pca"))


def test_pca_matches_svd_reference():
    X = np.random.default_rng(3).normal(size=(30, 5)) * [5, 3, 1, 1, 1]
    Xc = X - X.mean(axis=0)
    u, s, _ = np.linalg.svd(Xc, full_matrices=False)
    _match_up_to_sign(scatter.embed(X, "pca"), u[:, :2] * s[:2])
    # tall data takes the covariance path: same scores
    Xt = np.random.default_rng(4).normal(size=(300, 4)) * [4, 2, 1, 1]
    Xtc = Xt - Xt.mean(axis=0)
    u, s, _ = np.linalg.svd(Xtc, full_matrices=False)
    _match_up_to_sign(scatter.embed(Xt, "pca"), u[:, :2] * s[:2])


@pytest.mark.parametrize("method", ["pca", "mds", "tsne"])
def test_same_seed_same_output(method):
    X, labels = _data()
    a = scatter.scatter_view(X, labels, method=method, random_state=5)
    b = scatter.scatter_view(X, labels, method=method, random_state=5)
    assert a == b
    json.dumps(a, allow_nan=False)
    assert a["seed"] == 5 and a["method"] == method
    assert np.array(a["points"]).shape == (60, 2)


def test_tiny_inputs_fall_back_to_pca():
    X = np.array([[0.0, 1.0], [2.0, 3.0], [5.0, 1.0]])
    for m in scatter.METHODS:
        np.testing.assert_allclose(scatter.embed(X, m), scatter.embed(X, "pca"))
    v = scatter.scatter_view(X[:1], [0], method="tsne")
    assert v["points"] == [[0.0, 0.0]] and v["clusters"] == [0]


def test_xmeans_clusters_and_class_counts():
    X, labels = _data()
    v = scatter.scatter_view(X, labels, method="pca")
    assert v["clustering"] == "xmeans" and v["n_clusters"] == 3
    for info in v["cluster_info"]:
        assert info["size"] == 20 and len(info["class_counts"]) == 1
        (count,) = info["class_counts"].values()
        assert count == 20
    assert v["labels"] == labels.tolist()


def test_kmeans_when_k_given():
    X, labels = _data()
    v = scatter.scatter_view(X, labels, method="pca", k=5)
    assert v["clustering"] == "kmeans" and v["n_clusters"] == 5
    assert sum(c["size"] for c in v["cluster_info"]) == 60
    assert sorted(set(v["clusters"])) == [0, 1, 2, 3, 4]


def test_outlier_rule_flags_far_point():
    X, labels = _data()
    X[7] += 40.0  # class 0 input pushed far away
    v = scatter.scatter_view(X, labels, method="pca")
    assert v["outliers"] == [7]


def test_validation_messages():
    X, labels = _data()
    with pytest.raises(ValueError, match="method must be one of pca, mds, tsne, umap, got 'foo'"):
        scatter.scatter_view(X, labels, method="foo")
    with pytest.raises(ValueError, match="k=500 exceeds the number of inputs N=60"):
        scatter.scatter_view(X, labels, k=500)
    with pytest.raises(ValueError, match="labels has 59 entries but X has 60 rows"):
        scatter.scatter_view(X, labels[:-1])
    with pytest.raises(ValueError, match="random_state must be >= 0"):
        scatter.scatter_view(X, labels, random_state=-1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        scatter.scatter_view(X, labels, k=0)


def _blob_quality(X, blobs, Y, k=10):
    """Trustworthiness of ``Y`` and the share of 2-D neighbours from the same blob."""
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=k + 1).fit(Y).kneighbors(Y, return_distance=False)[:, 1:]
    return trustworthiness(X, Y, n_neighbors=k), float(np.mean(blobs[idx] == blobs[:, None]))


@pytest.mark.parametrize("fft", [False, True], ids=["barnes-hut+exact-knn", "fft+annoy"])
def test_tsne_keeps_separated_blobs_apart(monkeypatch, fft):
    # 5 blobs far apart in 80 dims (more than REDUCED_DIMS, so the PCA step runs).
    X, blobs = _data(seed=7, n_per=40, k=5, d=80)
    if fft:  # the large-N code path, on small data
        monkeypatch.setattr(scatter, "TSNE_FFT_MIN", 0)
        monkeypatch.setattr(scatter, "TSNE_EXACT_KNN_MAX", 0)
    trust, same = _blob_quality(X, blobs, scatter.embed(X, "tsne", random_state=0))
    # Random coordinates score about 0.5 and 0.2 here.
    assert trust > 0.95
    assert same > 0.95


def test_reduced_space_keeps_distances_or_matches_pca():
    from scipy.spatial.distance import pdist
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(8)
    X = rng.normal(size=(70, 12)) * np.linspace(1, 4, 12)
    Z = scatter._pca_scores(X, scatter.REDUCED_DIMS)
    assert Z.shape == (70, 12)
    np.testing.assert_allclose(pdist(Z), pdist(X), rtol=1e-9)  # a rotation when D <= 50
    W = rng.normal(size=(300, 120)) * np.geomspace(1, 20, 120)
    Zw = scatter._pca_scores(W, scatter.REDUCED_DIMS)
    ref = PCA(n_components=scatter.REDUCED_DIMS, svd_solver="full").fit_transform(W)
    np.testing.assert_allclose(np.abs(Zw), np.abs(ref), atol=1e-6 * np.abs(ref).max())
    # Wide data (D > N) keeps min(50, D) columns, the tail zero past the rank.
    Zn = scatter._pca_scores(rng.normal(size=(20, 300)), scatter.REDUCED_DIMS)
    assert Zn.shape == (20, 50) and np.all(Zn[:, 20:] == 0.0)


def test_bic_curve_peaks_at_the_true_cluster_count():
    X, labels = _data(seed=3, n_per=30, k=3, d=20)
    v = scatter.scatter_view(X, labels, method="pca")
    ks = [k for k, _ in v["bic"]]
    best_k = v["bic"][int(np.argmax([b for _, b in v["bic"]]))][0]
    assert ks == sorted(ks) and ks[0] == 1
    assert best_k == v["n_clusters"] == 3
    assert v["k_cap"] == 6 and v["cap_reached"] is False


def test_cap_reached_when_bic_keeps_rising():
    # One long curved cloud: the spherical model keeps splitting it.
    t = np.random.default_rng(4).uniform(0, 3 * np.pi, 400)
    X = np.c_[np.cos(t) * t, np.sin(t) * t, 0.05 * np.random.default_rng(5).normal(size=(400, 6))]
    labels = np.zeros(400, dtype=int)
    v = scatter.scatter_view(X, labels, method="pca")
    assert v["k_cap"] == 4 and v["n_clusters"] == 4 and v["cap_reached"] is True
    bics = [b for _, b in v["bic"]]
    assert bics[-1] == max(bics) and bics[-1] > bics[-2]
    k5 = scatter.scatter_view(X, labels, method="pca", k=5)
    assert k5["bic"] is None and k5["cap_reached"] is None and k5["k_cap"] is None


@pytest.mark.parametrize("exact_max", [10_000, 50])  # 50: the Annoy path at 120 inputs
def test_tsne_equals_opentsne_own_neighbour_lookup(monkeypatch, exact_max):
    """The index the view builds is the one TSNE(neighbors=...) builds: the same embedding, bit for bit."""
    from openTSNE import TSNE

    monkeypatch.setattr(scatter, "TSNE_EXACT_KNN_MAX", exact_max)
    X, _ = _data(seed=5, n_per=40, d=12)
    n = X.shape[0]
    got = scatter._tsne(X, random_state=3)
    reference = TSNE(n_components=2, perplexity=scatter._perplexity(n), initialization="pca",
                     neighbors="exact" if n <= exact_max else "annoy", negative_gradient_method="bh",
                     ints_in_interval=scatter._TSNE_INTS_IN_INTERVAL, n_jobs=1, random_state=3,
                     verbose=False).fit(X)
    np.testing.assert_array_equal(got, np.asarray(reference, dtype=np.float64))


def test_tsne_does_not_import_pynndescent():
    """A fresh process's first t-SNE loads no numba code (pynndescent's import compiles for ~10 s on a cold cache)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from tensorboard_plugin_channelexplorer.views import scatter\n"
        "X = np.random.default_rng(0).normal(size=(300, 20))\n"
        "scatter.scatter_view(X, np.arange(300) % 3, method='tsne', k=3)\n"
        "print(sorted(m for m in ('pynndescent', 'umap', 'numba') if m in sys.modules))\n"
    )
    env = dict(__import__("os").environ, CHANNELEXPLORER_NO_WARMUP="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
