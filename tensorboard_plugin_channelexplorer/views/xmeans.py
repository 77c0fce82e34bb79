"""X-Means clustering (Pelleg & Moore, ICML 2000) with k-means++ / Lloyd in numpy.

The model is the paper's: ``K`` spherical Gaussians sharing one variance, with
mixing weights ``R_n / R``. Structure is improved by trying to split every
centroid in two (2-means on that centroid's points) and keeping a split when
the Bayesian information criterion of the 2-cluster model of those points
beats the 1-cluster (parent) model. After each round all centroids are refined
with a global k-means started from the kept centroids; the structure with the
best global BIC seen is returned.

BIC of a model with ``K`` clusters on ``R`` points in ``M`` dimensions::

    sigma2 = SSE / (M * (R - K))                      # per-dimension, unbiased
    loglik = sum_n R_n log(R_n / R) - R*M/2 log(2 pi sigma2) - M*(R - K)/2
    BIC    = loglik - p/2 log R,   p = (K - 1) + M*K + 1

``sigma2`` is the per-dimension maximum-likelihood variance (with the
``R - K`` correction). The 2000 paper's printed formulas mix the total and the
per-dimension variance (a commonly noted slip); the formula above is the
likelihood of its model worked out consistently.

Clustering is on the raw (unstandardized) vectors with Euclidean distance,
as in the ChannelExplorer paper (Sect. V-D); callers standardize first where
they need to (see ``views.dataset``). When ``D > N`` the data is first rotated
onto its ``N``-dimensional centred row space: this keeps every Euclidean
distance and SSE exactly, so results are unchanged while k-means runs much
faster; ``M`` in the BIC stays the original ``D``.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_int, check_matrix, check_random_state, single_threaded_view

__all__ = ["xmeans", "bic", "default_k_max"]

# A child cluster needs this many points: a 1-point cluster has zero variance
# and would always "win" the BIC test.
MIN_CLUSTER_SIZE = 2


def default_k_max(n: int) -> int:
    """The default cap on the number of clusters for ``n`` points.

    ``N // 4`` (at least 1, at most 64): every cluster then has about four
    points on average, and the search stays cheap at 10,000 points.
    """
    return int(max(1, min(64, n // 4)))


def _sse_and_sizes(X: np.ndarray, labels: np.ndarray, centers: np.ndarray):
    k = centers.shape[0]
    sizes = np.bincount(labels, minlength=k)
    diff = X - centers[labels]
    sse = float(np.einsum("ij,ij->", diff, diff))
    return sse, sizes


def bic(X: np.ndarray, labels: np.ndarray, centers: np.ndarray, n_dims: int | None = None,
        var_floor: float = 0.0) -> float:
    """BIC of a hard clustering under the identical-spherical-Gaussians model.

    Args:
        X: ``[R, D]`` points.
        labels: ``[R]`` cluster index of each point, in ``0..K-1``.
        centers: ``[K, D]`` centroids.
        n_dims: the dimension ``M`` to use in the formula (defaults to ``D``;
            differs when ``X`` is a distance-preserving rotation of the data).
        var_floor: lower bound on the variance, so duplicated points do not
            produce ``log(0)``.

    Returns:
        The BIC (higher is better); ``-inf`` when ``R <= K``.
    """
    R = X.shape[0]
    M = X.shape[1] if n_dims is None else int(n_dims)
    K = centers.shape[0]
    if R <= K:
        return -math.inf
    sse, sizes = _sse_and_sizes(X, labels, centers)
    var = max(sse / (M * (R - K)), var_floor, np.finfo(np.float64).tiny)
    nz = sizes[sizes > 0].astype(np.float64)
    loglik = float(np.sum(nz * np.log(nz / R))) - R * M / 2.0 * math.log(2.0 * math.pi * var) - M * (R - K) / 2.0
    n_params = (K - 1) + M * K + 1
    return loglik - n_params / 2.0 * math.log(R)


def _assign(X: np.ndarray, xx: np.ndarray, centers: np.ndarray):
    d = xx[:, None] - 2.0 * (X @ centers.T) + np.einsum("ij,ij->i", centers, centers)[None, :]
    labels = np.argmin(d, axis=1)
    return labels, np.maximum(d[np.arange(X.shape[0]), labels], 0.0)


def _means(X: np.ndarray, labels: np.ndarray, k: int, sizes: np.ndarray) -> np.ndarray:
    onehot = np.zeros((X.shape[0], k))
    onehot[np.arange(X.shape[0]), labels] = 1.0
    return (onehot.T @ X) / np.maximum(sizes, 1)[:, None]


def _lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int = 100):
    """Lloyd iterations from ``centers``; an emptied cluster jumps to the worst-fit point.

    Plain numpy: on the small problems X-Means makes (a cluster's points,
    2 centroids) it is far cheaper than a full scikit-learn KMeans call.
    """
    centers = np.array(centers, dtype=np.float64)
    k = centers.shape[0]
    xx = np.einsum("ij,ij->i", X, X)
    labels = None
    for _ in range(max_iter):
        new, dist = _assign(X, xx, centers)
        sizes = np.bincount(new, minlength=k)
        for j in np.flatnonzero(sizes == 0):
            far = int(np.argmax(dist))
            new[far] = j
            dist[far] = 0.0
            sizes = np.bincount(new, minlength=k)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centers = _means(X, labels, k, sizes)
    return labels.astype(np.int64), centers


def _kmeanspp(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii, 2007)."""
    n = X.shape[0]
    idx = [int(rng.integers(n))]
    d = np.einsum("ij,ij->i", X - X[idx[0]], X - X[idx[0]])
    for _ in range(1, k):
        total = d.sum()
        nxt = int(rng.choice(n, p=d / total)) if total > 0 else int(rng.integers(n))
        idx.append(nxt)
        d = np.minimum(d, np.einsum("ij,ij->i", X - X[nxt], X - X[nxt]))
    return X[idx]


def _kmeans(X, k, random_state, init=None, n_init=3):
    """Best of ``n_init`` k-means++ runs (or one run from ``init``), by SSE."""
    if init is not None:
        return _lloyd(X, init)
    rng = np.random.default_rng(random_state)
    best = None
    for _ in range(n_init):
        labels, centers = _lloyd(X, _kmeanspp(X, k, rng))
        sse, _ = _sse_and_sizes(X, labels, centers)
        if best is None or sse < best[0]:
            best = (sse, labels, centers)
    return best[1], best[2]


def _n_distinct(Z: np.ndarray) -> int:
    """Number of distinct rows, up to rounding relative to the data's scale."""
    m = float(np.max(np.abs(Z))) if Z.size else 0.0
    if m == 0.0:
        return min(1, Z.shape[0])
    return int(np.unique((Z / m).round(12), axis=0).shape[0])


def _compact(labels: np.ndarray, centers: np.ndarray):
    """Drops empty clusters and renumbers labels by descending cluster size."""
    sizes = np.bincount(labels, minlength=centers.shape[0])
    keep = np.flatnonzero(sizes > 0)
    # Largest cluster first; ties by old index, so the result is deterministic.
    keep = keep[np.argsort(-sizes[keep], kind="stable")]
    remap = np.full(centers.shape[0], -1, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    return remap[labels], centers[keep]


@single_threaded_view
def xmeans(X, k_max=None, random_state=0, k_min: int = 1, return_bic_curve: bool = False):
    """Clusters ``X`` with X-Means, choosing the number of clusters by BIC.

    Args:
        X: ``[N, D]`` data (e.g. per-input channel summaries).
        k_max: the largest number of clusters considered; ``None`` means
            ``default_k_max(N)`` (``N // 4``, at most 64).
        random_state: seed for k-means; the same seed gives the same result.
        k_min: the number of clusters to start from.
        return_bic_curve: also return the global BIC of every structure the
            search visited.

    Returns:
        ``(labels, centers)``: ``labels`` int64 ``[N]`` in ``0..K-1``
        (cluster 0 is the largest), ``centers`` float64 ``[K, D]`` (the mean
        of each cluster's points). With ``return_bic_curve``, a third item:
        ``[(K, BIC)]`` in search order (``K`` increasing; the chosen ``K`` is
        the one with the highest BIC). A BIC still rising at ``k_max`` means
        the cap, not the criterion, chose ``K``.

    Raises:
        ValueError: on a non-finite or non-2-D ``X``, or bad ``k_max``/``k_min``.
    """
    X = check_matrix(X, "X")
    random_state = check_random_state(random_state)
    n, d = X.shape
    if k_max is None:
        k_max = default_k_max(n)
    k_max = check_int(k_max, "k_max", lo=1)
    k_max = min(k_max, n)
    k_min = check_int(k_min, "k_min", lo=1)
    if k_min > k_max:
        raise ValueError(f"k_min={k_min} exceeds k_max={k_max}")

    mean = X.mean(axis=0)
    Xc = X - mean
    if d > n:
        # Distance-preserving rotation onto the centred row space (rank <= N).
        # eigh of the Gram matrix is far cheaper than an SVD of the wide matrix.
        evals, evecs = np.linalg.eigh(Xc @ Xc.T)
        Z = evecs * np.sqrt(np.clip(evals, 0.0, None))
    else:
        Z = Xc
    scale = float(np.mean(np.einsum("ij,ij->i", Z, Z))) if n else 0.0
    var_floor = 1e-12 * max(scale / d, 1e-300)

    n_distinct = _n_distinct(Z)
    if n_distinct <= 1 or k_max == 1:
        labels = np.zeros(n, dtype=np.int64)
        centers = X.mean(axis=0, keepdims=True)
        if return_bic_curve:
            return labels, centers, [(1, bic(Z, labels, Z.mean(axis=0, keepdims=True), n_dims=d,
                                             var_floor=var_floor))]
        return labels, centers
    k_max = min(k_max, n_distinct)
    k_min = min(k_min, k_max)

    if k_min == 1:
        labels = np.zeros(n, dtype=np.int64)
        centers = Z.mean(axis=0, keepdims=True)
    else:
        labels, centers = _kmeans(Z, k_min, random_state)
    best_bic = bic(Z, labels, centers, n_dims=d, var_floor=var_floor)
    best = (labels, centers)
    curve = [(int(centers.shape[0]), best_bic)]

    while centers.shape[0] < k_max:
        k = centers.shape[0]
        gains = []  # (gain, cluster index, child centers)
        for j in range(k):
            members = labels == j
            pts = Z[members]
            if pts.shape[0] < 2 * MIN_CLUSTER_SIZE:
                continue
            if _n_distinct(pts) < 2:
                continue
            child_labels, child_centers = _kmeans(pts, 2, random_state)
            if np.bincount(child_labels, minlength=2).min() < MIN_CLUSTER_SIZE:
                continue
            parent = bic(pts, np.zeros(pts.shape[0], dtype=np.int64), pts.mean(axis=0, keepdims=True),
                         n_dims=d, var_floor=var_floor)
            children = bic(pts, child_labels, child_centers, n_dims=d, var_floor=var_floor)
            if children > parent:
                gains.append((children - parent, j, child_centers))
        if not gains:
            break
        # Split the most convincing clusters first when k_max limits the splits.
        gains.sort(key=lambda g: (-g[0], g[1]))
        gains = gains[: k_max - k]
        split = {j: c for _, j, c in gains}
        init = []
        for j in range(k):
            if j in split:
                init.extend(split[j])
            else:
                init.append(centers[j])
        labels, centers = _kmeans(Z, len(init), random_state, init=np.asarray(init))
        labels, centers = _compact(labels, centers)
        score = bic(Z, labels, centers, n_dims=d, var_floor=var_floor)
        curve.append((int(centers.shape[0]), score))
        if score > best_bic:
            best_bic, best = score, (labels, centers)
        if centers.shape[0] <= k:  # k-means merged clusters back: no progress
            break

    labels, _ = _compact(*best)
    # Centres in the original space: the mean of each cluster's points.
    k = int(labels.max()) + 1
    centers = _means(X, labels, k, np.bincount(labels, minlength=k))
    if return_bic_curve:
        return labels, centers, curve
    return labels, centers
