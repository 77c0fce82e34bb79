"""Activation distance scatterplot (paper Sect. V-D).

Each input is one point: its vector of channel summaries at a layer (the
route picks the summary; the paper's default for this view is the L2 norm).
The vectors are embedded in 2-D with PCA, classical MDS, t-SNE (default) or
UMAP, all with Euclidean distance and no standardization (the paper embeds
the raw summary vectors). Clusters are computed in the original
high-dimensional space, not in 2-D: X-Means when ``k`` is None, otherwise
k-means with ``k`` clusters. X-Means is capped at ``min(N // 4, 64, max(4, 2K))``
clusters for ``K`` classes: on real activations the spherical-Gaussian BIC
keeps splitting anisotropic clusters (about 28 clusters for 200 digits of 10
classes in our test CNN), and a view with a few dozen hulls is unreadable.

Outlier rule: for every class with at least ``OUTLIER_MIN_CLASS`` inputs, the
distance of each input to the class's coordinate-wise median vector (robust to
the outliers themselves) is computed in the high-dimensional space; an input
is an outlier when its modified z-score ``(d - median) / (1.4826 * MAD)`` of
its class's distances exceeds 3.5 (Iglewicz & Hoaglin's usual cut; 1.4826 *
MAD estimates the standard deviation of normal data).
"""

from __future__ import annotations

import logging
import threading
import warnings

import numpy as np

from ._validate import (
    check_choice,
    check_k,
    check_labels,
    check_matrix,
    check_random_state,
    floats,
    ints,
    single_threaded,
    single_threaded_view,
)
from .xmeans import default_k_max, xmeans

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "embed", "scatter_view", "cluster", "outliers", "warm_up", "xmeans_cap"]

METHODS = ("pca", "mds", "tsne", "umap")

OUTLIER_MIN_CLASS = 5
OUTLIER_Z = 3.5
_MAD_TO_SD = 1.4826

# t-SNE and UMAP need a handful of points; below this every method uses PCA.
_MIN_POINTS_NONLINEAR = 4

# Above this many inputs classical MDS is computed through PCA (identical).
_MDS_MAX_DENSE = 2000

_warm_lock = threading.Lock()
_warmed = False


def _fix_signs(Y: np.ndarray) -> np.ndarray:
    """Makes each axis deterministic: the entry of largest magnitude is positive."""
    idx = np.argmax(np.abs(Y), axis=0)
    signs = np.sign(Y[idx, np.arange(Y.shape[1])])
    signs[signs == 0] = 1.0
    return Y * signs


def _pad2(Y: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, 2))
    out[:, : min(2, Y.shape[1])] = Y[:, :2]
    return out


def _pca(X: np.ndarray) -> np.ndarray:
    """Scores on the top 2 principal axes.

    Uses the smaller of the Gram matrix (``N x N``) and the covariance
    (``D x D``); both give the same scores.
    """
    Xc = X - X.mean(axis=0)
    n, d = Xc.shape
    if n <= d:
        return _classical_mds_from_gram(Xc @ Xc.T)
    evals, evecs = np.linalg.eigh(Xc.T @ Xc)
    top = np.argsort(-evals, kind="stable")[:2]
    return _fix_signs(_pad2(Xc @ evecs[:, top], n))


def _classical_mds_from_gram(G: np.ndarray) -> np.ndarray:
    n = G.shape[0]
    evals, evecs = np.linalg.eigh(G)
    top = np.argsort(-evals, kind="stable")[:2]
    lam = np.clip(evals[top], 0.0, None)
    return _fix_signs(_pad2(evecs[:, top] * np.sqrt(lam), n))


def _classical_mds(X: np.ndarray) -> np.ndarray:
    """Torgerson's classical MDS on Euclidean distances.

    Double-centres the squared distance matrix, ``B = -1/2 J D^2 J``, and
    embeds with its top two eigenpairs. On Euclidean distances ``B`` is the
    Gram matrix of the centred data, so the result equals PCA up to sign.
    """
    n = X.shape[0]
    if n > _MDS_MAX_DENSE:
        # Same result (see above) without an N x N distance matrix.
        return _pca(X)
    sq = np.einsum("ij,ij->i", X, X)
    D2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (X @ X.T), 0.0)
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ D2 @ J
    return _classical_mds_from_gram((B + B.T) / 2.0)


def _row_space(X: np.ndarray) -> np.ndarray:
    """Rotates ``X`` onto its centred row space when ``D > N`` (distances kept exactly)."""
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    if d <= n:
        return Xc
    evals, evecs = np.linalg.eigh(Xc @ Xc.T)
    return evecs * np.sqrt(np.clip(evals, 0.0, None))


def _tsne(X: np.ndarray, random_state: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    n = X.shape[0]
    # perplexity must be < N; 30 is sklearn's default for large N.
    perplexity = float(min(30.0, max(1.0, (n - 1) / 3.0)))
    Z = _row_space(X)
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore")
        # PCA init needs >= 2 features (a 1-channel layer has one).
        init = "pca" if Z.shape[1] >= 2 else "random"
        tsne = TSNE(n_components=2, perplexity=perplexity, init=init, learning_rate="auto",
                    random_state=random_state, method="barnes_hut" if n > 50 else "exact")
        return tsne.fit_transform(Z)


def _umap(X: np.ndarray, random_state: int) -> np.ndarray:
    import umap  # heavy import (numba); only when asked

    n = X.shape[0]
    n_neighbors = int(min(15, n - 1))
    # Spectral init needs a well-connected kNN graph; tiny inputs use random init.
    init = "spectral" if n > n_neighbors + 1 and n >= 16 else "random"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, init=init,
                            random_state=random_state, n_jobs=1, transform_seed=random_state)
        return np.asarray(reducer.fit_transform(_row_space(X)), dtype=np.float64)


@single_threaded_view
def embed(X, method: str = "tsne", random_state=0) -> np.ndarray:
    """Embeds the rows of ``X`` in 2-D.

    Args:
        X: ``[N, D]`` summary vectors (Euclidean distance).
        method: ``pca``, ``mds`` (classical MDS), ``tsne`` (default; perplexity
            ``min(30, (N-1)/3)``, PCA init) or ``umap`` (``n_neighbors =
            min(15, N-1)``). With fewer than 4 distinct inputs every method
            returns the PCA layout.
        random_state: seed; the same seed gives the same layout.

    Returns:
        float64 ``[N, 2]``.

    Raises:
        ValueError: on a bad ``X``, ``method`` or ``random_state``.
    """
    X = check_matrix(X, "X")
    method = check_choice(method, "method", METHODS)
    random_state = check_random_state(random_state)
    n = X.shape[0]
    # t-SNE/UMAP break down (NaN) on fewer than a handful of distinct points.
    few = n < _MIN_POINTS_NONLINEAR or np.unique(X, axis=0).shape[0] < _MIN_POINTS_NONLINEAR
    if method == "pca" or few:
        Y = _pca(X)
    elif method == "mds":
        Y = _classical_mds(X)
    elif method == "tsne":
        Y = _tsne(X, random_state)
    else:
        Y = _umap(X, random_state)
    Y = np.asarray(Y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise ValueError(f"method {method!r} produced non-finite coordinates for this input")
    return Y


def xmeans_cap(n: int, n_classes: int) -> int:
    """The X-Means cap of the scatterplot: ``min(N // 4, 64, max(4, 2K))`` (at least 1)."""
    return int(max(1, min(default_k_max(n), max(4, 2 * n_classes))))


@single_threaded_view
def cluster(X, k=None, random_state=0, k_max=None) -> np.ndarray:
    """Clusters rows of ``X`` in the original space: X-Means (``k`` None) or k-means.

    Args:
        X: ``[N, D]`` data.
        k: None for X-Means, else the number of k-means clusters.
        random_state: seed.
        k_max: X-Means cap (None: ``xmeans``'s default).

    Returns:
        int64 ``[N]`` cluster ids, 0 the largest cluster.
    """
    X = check_matrix(X, "X")
    k = check_k(k, X.shape[0])
    random_state = check_random_state(random_state)
    if k is None:
        labels, _ = xmeans(X, k_max=k_max, random_state=random_state)
        return labels
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(X).labels_
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return rank[labels]


@single_threaded_view
def outliers(X, labels) -> np.ndarray:
    """Indices of inputs far from the rest of their class (rule in the module docstring)."""
    X = check_matrix(X, "X")
    labels = check_labels(labels, X.shape[0], n_name="X")
    found = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < OUTLIER_MIN_CLASS:
            continue
        pts = X[idx]
        dist = np.linalg.norm(pts - np.median(pts, axis=0), axis=1)
        med = np.median(dist)
        mad = np.median(np.abs(dist - med))
        cut = med + OUTLIER_Z * _MAD_TO_SD * mad
        # mad == 0: at least half the class is equidistant; flag only clear departures.
        tol = 1e-9 * max(med, 1e-300)
        found.extend(idx[dist > cut + tol].tolist())
    return np.asarray(sorted(found), dtype=np.int64)


@single_threaded_view
def scatter_view(X, labels, method: str = "tsne", k=None, random_state=0) -> dict:
    """The scatterplot view: 2-D layout, high-dimensional clusters and outliers.

    Args:
        X: ``[N, D]`` per-input summary vectors.
        labels: ``[N]`` class ids.
        method: ``pca``, ``mds``, ``tsne`` or ``umap``.
        k: None for X-Means, else the number of k-means clusters (1..N).
        random_state: seed for the embedding and the clustering.

    Returns:
        JSON-ready dict: ``method``, ``seed``, ``points`` ``[[x, y]]``,
        ``clusters`` (cluster id per input), ``n_clusters``, ``clustering``
        (``"xmeans"`` or ``"kmeans"``), ``cluster_info`` ``[{id, size,
        class_counts{str(class): n}}]``, ``outliers`` (input indices, see the
        module docstring) and ``labels``.
    """
    X = check_matrix(X, "X")
    n = X.shape[0]
    labels = check_labels(labels, n, n_name="X")
    method = check_choice(method, "method", METHODS)
    k = check_k(k, n)
    random_state = check_random_state(random_state, "random_state")

    points = embed(X, method=method, random_state=random_state)
    clusters = cluster(X, k=k, random_state=random_state,
                       k_max=xmeans_cap(n, np.unique(labels).size))
    info = []
    for cid in range(int(clusters.max()) + 1 if n else 0):
        members = labels[clusters == cid]
        classes, counts = np.unique(members, return_counts=True)
        info.append({
            "id": cid,
            "size": int(members.size),
            "class_counts": {str(int(c)): int(m) for c, m in zip(classes, counts)},
        })
    return {
        "method": method,
        "seed": random_state,
        "points": floats(points),
        "clusters": ints(clusters),
        "n_clusters": len(info),
        "clustering": "xmeans" if k is None else "kmeans",
        "cluster_info": info,
        "outliers": ints(outliers(X, labels)),
        "labels": ints(labels),
    }


def warm_up() -> None:
    """Triggers numba's JIT for UMAP (and imports t-SNE) on tiny random data.

    Idempotent and thread-safe; the plugin calls it in a daemon thread at
    start so the first UMAP request does not wait ~10 s. Errors are logged,
    never raised.
    """
    global _warmed
    with _warm_lock:
        if _warmed:
            return
        try:
            X = np.random.default_rng(0).normal(size=(32, 8))
            _umap(X, 0)
            _tsne(X, 0)
        except Exception:  # noqa: BLE001 - a failed warm-up must not kill the thread
            logger.warning("ChannelExplorer: scatter warm-up failed", exc_info=True)
        _warmed = True
