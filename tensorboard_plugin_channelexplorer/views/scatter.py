"""Activation distance scatterplot (paper Sect. V-D).

Each input is one point: its vector of channel summaries at a layer (the
route picks the summary; the paper's default for this view is the L2 norm).
The vectors are embedded in 2-D with PCA, classical MDS, t-SNE (default) or
UMAP, all with Euclidean distance and no standardization (the paper embeds
the raw summary vectors).

Scale: t-SNE, UMAP and the clustering work on the top ``REDUCED_DIMS`` (50)
principal components of the vectors (all of them when there are fewer
columns), the usual preprocessing for neighbour embeddings (Kobak & Berens,
Nat. Commun. 2019): the neighbour search and the k-means steps then cost 50
columns instead of ``D``, and PCA itself is the exact top-2 slice of the same
decomposition. t-SNE is openTSNE's (Poličar et al. 2024): Barnes-Hut below
``TSNE_FFT_MIN`` inputs, FFT-accelerated interpolation (Linderman et al.
2019) from there on, exact neighbours up to ``TSNE_EXACT_KNN_MAX`` inputs and
Annoy above. UMAP runs 200 epochs, the number umap-learn itself uses above
10,000 inputs.

Clusters are computed in that 50-dimensional space, not in 2-D: X-Means when
``k`` is None, otherwise k-means with ``k`` clusters. X-Means is capped at
``min(N // 4, 64, max(4, 2K))`` clusters for ``K`` classes. On real
activations the spherical-Gaussian BIC keeps rising with every split (on the
summaries of our digits CNN, 10 classes, X-Means chose 16 to 20 clusters at
every conv layer with a cap of 20, for 200 and for 1,797 inputs), so there the
cap, not the BIC, sets the count.
The view therefore returns the BIC of every structure X-Means visited
(``bic``) and says when the cap was reached (``cap_reached``): the panel can
then show that the cluster count is a ceiling, and the user can pick ``k``.

Outlier rule: for every class with at least ``OUTLIER_MIN_CLASS`` inputs, the
distance of each input to the class's coordinate-wise median vector (robust to
the outliers themselves) is computed in the original space; an input is an
outlier when its modified z-score ``(d - median) / (1.4826 * MAD)`` of its
class's distances exceeds 3.5 (Iglewicz & Hoaglin's usual cut; 1.4826 * MAD
estimates the standard deviation of normal data).

The module is a little over 400 lines: the reduction, the four embeddings,
clustering and outliers form one view whose settings are documented together
above.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings

import numpy as np

from .. import lazy_imports, progress
from ..errors import InvalidArgumentError
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

__all__ = ["METHODS", "REDUCED_DIMS", "embed", "scatter_view", "cluster", "outliers", "warm_up", "xmeans_cap"]

METHODS = ("pca", "mds", "tsne", "umap")

OUTLIER_MIN_CLASS = 5
OUTLIER_Z = 3.5
_MAD_TO_SD = 1.4826

# t-SNE and UMAP need a handful of points; below this every method uses PCA.
_MIN_POINTS_NONLINEAR = 4

# Above this many inputs classical MDS is computed through PCA (identical).
_MDS_MAX_DENSE = 2000

# Principal components kept for t-SNE, UMAP and clustering (module docstring).
REDUCED_DIMS = 50

# Measured on 50 components of 10-class summaries, CPU seconds: Barnes-Hut
# 3.7 against FFT interpolation 5.0 at 2,000 inputs, 13.1 against 7.2 at 5,000.
TSNE_FFT_MIN = 3000
# Exact neighbours (brute force over 50 columns) took 0.8 CPU s at 10,000
# inputs against Annoy's 3.4; the exact search grows as N^2, so Annoy above.
TSNE_EXACT_KNN_MAX = 20000
# Grid cells per unit of embedding span for the FFT gradient. With openTSNE's
# default (1), FFTs over a grid that grows with the layout's span dominated
# (10,000 inputs: 30.6 s; 14.5 s with 2, trustworthiness 0.998; separate runs
# on a shared machine).
_TSNE_INTS_IN_INTERVAL = 2

UMAP_EPOCHS = 200
# openTSNE iterations between two progress reports (each report also makes
# openTSNE evaluate the KL divergence, so not every iteration).
TSNE_PROGRESS_EVERY = 25


class _TSNEProgress:
    """openTSNE callback: reports iterations done over both phases (early exaggeration, then the rest)."""

    def __init__(self, total: int):
        self.total = max(1, total)
        self.phases = 0
        self.done_before = 0
        self.in_phase = 0

    def optimization_about_to_start(self):
        self.phases += 1
        self.done_before += self.in_phase
        self.in_phase = 0
        progress.report("early exaggeration" if self.phases == 1 else "optimising")

    def __call__(self, iteration, error, embedding):
        self.in_phase = int(iteration)
        progress.report(fraction=(self.done_before + self.in_phase) / self.total)
        return False  # never stop early


class _EpochSink:
    """A file for umap-learn's tqdm bar whose format is ``{n}/{total}``: each write reports the epochs done."""

    def write(self, text):
        match = _EPOCHS.search(text)
        if match and int(match.group(2)) > 0:
            progress.report("optimising", int(match.group(1)) / int(match.group(2)))

    def flush(self):
        pass

_EPOCHS = re.compile(r"(\d+)/(\d+)")

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


def _pca_scores(X: np.ndarray, m: int) -> np.ndarray:
    """Scores on the top ``min(m, D)`` principal axes, sign-fixed, ``[N, min(m, D)]``.

    Uses the smaller of the Gram matrix (``N x N``) and the covariance
    (``D x D``); both give the same scores. When the centred rank is below
    ``min(m, D)`` the last columns are zero, so Euclidean distances are those
    of the kept components and the column count stays ``min(m, D)``.
    """
    Xc = X - X.mean(axis=0)
    n, d = Xc.shape
    m = min(m, d)
    out = np.zeros((n, m))
    if n <= d:
        evals, evecs = np.linalg.eigh(Xc @ Xc.T)
        top = np.argsort(-evals, kind="stable")[:m]
        out[:, : top.size] = evecs[:, top] * np.sqrt(np.clip(evals[top], 0.0, None))
    else:
        evals, evecs = np.linalg.eigh(Xc.T @ Xc)
        top = np.argsort(-evals, kind="stable")[:m]
        out[:, : top.size] = Xc @ evecs[:, top]
    return _fix_signs(out)


def _pca(X: np.ndarray) -> np.ndarray:
    """Scores on the top 2 principal axes."""
    return _pad2(_pca_scores(X, 2), X.shape[0])


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


def _perplexity(n: int) -> float:
    # perplexity must be < N; 30 is the usual default for large N.
    return float(min(30.0, max(1.0, (n - 1) / 3.0)))


def _tsne(Z: np.ndarray, random_state: int) -> np.ndarray:
    """openTSNE on the reduced vectors ``Z`` (settings in the module docstring)."""
    openTSNE = lazy_imports.import_module("openTSNE")
    from openTSNE import affinity, nearest_neighbors

    n = Z.shape[0]
    perplexity = _perplexity(n)
    progress.report("neighbours")
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore")
        tsne = openTSNE.TSNE(
            n_components=2,
            perplexity=perplexity,
            # PCA init needs >= 2 features (a 1-channel layer has one).
            initialization="pca" if Z.shape[1] >= 2 else "random",
            negative_gradient_method="fft" if n >= TSNE_FFT_MIN else "bh",
            ints_in_interval=_TSNE_INTS_IN_INTERVAL,
            n_jobs=1,
            random_state=random_state,
            verbose=False,
            callbacks_every_iters=TSNE_PROGRESS_EVERY,
        )
        tsne.callbacks = [_TSNEProgress(tsne.early_exaggeration_iter + tsne.n_iter)]
        # The neighbour index is built here, not by openTSNE's method lookup: that
        # lookup imports pynndescent (numba kernels: ~10 s in a process whose
        # numba cache is cold) even for the exact and Annoy searches used here.
        # Same index, k and affinities as TSNE(neighbors=...) builds.
        index_cls = nearest_neighbors.Sklearn if n <= TSNE_EXACT_KNN_MAX else nearest_neighbors.Annoy
        index = index_cls(Z, k=min(n - 1, int(3 * perplexity)), metric="euclidean", n_jobs=1,
                          random_state=random_state, verbose=False)
        affinities = affinity.MultiscaleMixture(perplexities=perplexity, knn_index=index, n_jobs=1,
                                                random_state=random_state, verbose=False)
        return np.asarray(tsne.fit(Z, affinities=affinities), dtype=np.float64)


def _tsne_sklearn(X: np.ndarray, random_state: int) -> np.ndarray:
    """scikit-learn's Barnes-Hut t-SNE on all columns: the former default, kept for benchmarks."""
    from sklearn.manifold import TSNE

    n = X.shape[0]
    Z = _row_space(X)
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore")
        init = "pca" if Z.shape[1] >= 2 else "random"
        tsne = TSNE(n_components=2, perplexity=_perplexity(n), init=init, learning_rate="auto",
                    random_state=random_state, method="barnes_hut" if n > 50 else "exact")
        return tsne.fit_transform(Z)


def _umap(Z: np.ndarray, random_state: int, n_epochs: int | None = UMAP_EPOCHS,
          force_approximation: bool = False) -> np.ndarray:
    """UMAP of the rows of ``Z``.

    ``n_epochs=None`` is umap-learn's default (500 epochs up to 10,000 rows);
    ``force_approximation`` takes the nearest-neighbour-descent path that
    umap-learn otherwise uses from 4,096 rows on (the warm-up compiles it).
    """
    umap = lazy_imports.import_module("umap")  # heavy import (numba); only when asked

    from ..warmup import enable_numba_cache

    # Load what the warm-up child compiled instead of compiling it again.
    enable_numba_cache()
    n = Z.shape[0]
    n_neighbors = int(min(15, n - 1))
    # Spectral init needs a well-connected kNN graph; tiny inputs use random init.
    init = "spectral" if n > n_neighbors + 1 and n >= 16 else "random"
    progress.report("neighbours")
    # umap-learn has no epoch callback; its public tqdm_kwds let the epoch bar
    # write "{n}/{total}" to a sink that reports the fraction.
    bar = {"disable": False, "file": _EpochSink(), "bar_format": "{n}/{total}", "mininterval": 0.2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, init=init,
                            n_epochs=n_epochs, random_state=random_state, n_jobs=1,
                            transform_seed=random_state, force_approximation_algorithm=force_approximation,
                            tqdm_kwds=bar)
        return np.asarray(reducer.fit_transform(Z), dtype=np.float64)


def _embed(X: np.ndarray, Z: np.ndarray, method: str, random_state: int) -> np.ndarray:
    """2-D layout of validated ``X``; ``Z`` is ``_pca_scores(X, REDUCED_DIMS)``."""
    n = X.shape[0]
    # t-SNE/UMAP break down (NaN) on fewer than a handful of distinct points.
    few = method != "pca" and (n < _MIN_POINTS_NONLINEAR
                               or np.unique(X, axis=0).shape[0] < _MIN_POINTS_NONLINEAR)
    if method == "pca" or few:
        # The leading two of the sorted, sign-fixed components are PCA's.
        Y = _pad2(Z, n)
    elif method == "mds":
        Y = _classical_mds(X)
    elif method == "tsne":
        Y = _tsne(Z, random_state)
    else:
        Y = _umap(Z, random_state)
    Y = np.asarray(Y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise InvalidArgumentError(f"method {method!r} produced non-finite coordinates for this input", "method")
    return Y


@single_threaded_view
def embed(X, method: str = "tsne", random_state=0) -> np.ndarray:
    """Embeds the rows of ``X`` in 2-D.

    Args:
        X: ``[N, D]`` summary vectors (Euclidean distance).
        method: ``pca``, ``mds`` (classical MDS), ``tsne`` (default;
            perplexity ``min(30, (N-1)/3)``, PCA init) or ``umap``
            (``n_neighbors = min(15, N-1)``); t-SNE and UMAP see the top
            ``REDUCED_DIMS`` principal components. With fewer than 4 distinct
            inputs every method returns the PCA layout.
        random_state: seed; the same seed gives the same layout.

    Returns:
        float64 ``[N, 2]``.

    Raises:
        ValueError: on a bad ``X``, ``method`` or ``random_state``.
    """
    X = check_matrix(X, "X")
    method = check_choice(method, "method", METHODS)
    random_state = check_random_state(random_state)
    return _embed(X, _pca_scores(X, REDUCED_DIMS), method, random_state)


def xmeans_cap(n: int, n_classes: int) -> int:
    """The X-Means cap of the scatterplot: ``min(N // 4, 64, max(4, 2K))`` (at least 1)."""
    return int(max(1, min(default_k_max(n), max(4, 2 * n_classes))))


def _cluster(Z: np.ndarray, k, random_state: int, k_max):
    """Clusters validated rows; returns ``(labels, bic_curve)`` (the curve is None for k-means)."""
    if k is None:
        labels, _, curve = xmeans(Z, k_max=k_max, random_state=random_state, return_bic_curve=True)
        return labels, curve
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(Z).labels_
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return rank[labels], None


@single_threaded_view
def cluster(X, k=None, random_state=0, k_max=None) -> np.ndarray:
    """Clusters rows of ``X``: X-Means (``k`` None) or k-means.

    Both run on the top ``REDUCED_DIMS`` principal components of ``X`` (all
    of ``X``'s variance when it has at most that many columns).

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
    return _cluster(_pca_scores(X, REDUCED_DIMS), k, random_state, k_max)[0]


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
    """The scatterplot view: 2-D layout, clusters and outliers.

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
        module docstring), ``labels``, and for X-Means: ``k_cap`` (the cap on
        the cluster count), ``bic`` (``[[K, BIC]]`` of every structure X-Means
        visited, ``K`` increasing; the chosen ``K`` has the highest BIC) and
        ``cap_reached`` (True when X-Means stopped at ``k_cap`` with the BIC
        still rising, i.e. the cap chose the count). The three are None for
        k-means.
    """
    X = check_matrix(X, "X")
    n = X.shape[0]
    labels = check_labels(labels, n, n_name="X")
    method = check_choice(method, "method", METHODS)
    k = check_k(k, n)
    random_state = check_random_state(random_state, "random_state")

    progress.report("reducing")
    Z = _pca_scores(X, REDUCED_DIMS)
    points = _embed(X, Z, method, random_state)
    progress.report("clustering")
    k_cap = xmeans_cap(n, np.unique(labels).size)
    clusters, curve = _cluster(Z, k, random_state, k_cap)
    info = []
    for cid in range(int(clusters.max()) + 1 if n else 0):
        members = labels[clusters == cid]
        classes, counts = np.unique(members, return_counts=True)
        info.append({
            "id": cid,
            "size": int(members.size),
            "class_counts": {str(int(c)): int(m) for c, m in zip(classes, counts)},
        })
    bic = cap_reached = None
    if curve is not None:
        bic = [[kk, b] for kk, b in zip(ints([c[0] for c in curve]), floats([c[1] for c in curve]))]
        # At the cap, the best structure is the last one visited: the BIC was still rising.
        cap_reached = bool(len(info) >= k_cap and len(curve) > 1)
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
        "k_cap": k_cap if k is None else None,
        "bic": bic,
        "cap_reached": cap_reached,
    }


def warm_up() -> None:
    """Triggers numba's JIT for UMAP (both neighbour paths) and loads openTSNE, on tiny data.

    Idempotent and thread-safe. ``warmup.start`` runs it in a low-priority
    child process that only fills numba's on-disk cache (see ``warmup``).
    Errors are logged, never raised.
    """
    global _warmed
    with _warm_lock:
        if _warmed:
            return
        try:
            Z = np.random.default_rng(0).normal(size=(64, 8))
            _umap(Z, 0)
            _umap(Z, 0, force_approximation=True)
            _tsne(Z, 0)
        except Exception:  # noqa: BLE001 - a failed warm-up must not kill the thread
            logger.warning("ChannelExplorer: scatter warm-up failed", exc_info=True)
        _warmed = True
