"""Dataset view (paper Sect. V-A): model-wide class similarity and representative inputs.

Similarity of class ``c`` to the reference class ``r``: for every layer, the
mean Jaccard similarity (Eq. 1, top ``eta`` channels with the rule of
``views.jaccard``: only channels with a positive summary) over pairs of one input
of ``r`` and one input of ``c``, then averaged over layers (every layer counts
the same). For ``c = r`` the pairs are distinct inputs, i.e. the reference's
within-class similarity, which is below 1 unless its inputs agree perfectly.
To scale to 10,000 inputs the pairs are taken from a deterministic (seeded)
sample of at most ``max(8, min(128, 4096 // K))`` inputs per class
(`similarity_sample`; the response's ``sampled`` field says which).

Representative inputs (paper: X-Means "across all layers and images", one
exemplar per cluster): every layer's summaries are standardized per channel
and scaled by ``1/sqrt(C_l)`` so each layer has the same total variance (big
layers do not dominate), reduced to at most ``LAYER_DIMS`` principal
components, concatenated (and reduced again to ``FINAL_DIMS`` if wider).
Inputs of each selected class are then clustered: X-Means with at most
``REP_K_MAX`` clusters (the paper's "up to five examples per class") when
``k`` is None, else k-means with ``min(k, n_class)`` clusters. The exemplar
of a cluster is its input closest to the cluster mean.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import jaccard as _jaccard
from ..errors import InvalidArgumentError
from ._validate import (
    check_eta,
    check_int,
    check_k,
    check_labels,
    check_matrix,
    check_random_state,
    floats,
    ints,
    single_threaded_view,
)
from .sampling import sample_info
from .xmeans import xmeans

__all__ = ["REP_K_MAX", "LAYER_DIMS", "FINAL_DIMS", "per_class_cap", "similarity_sample", "class_similarity",
           "reduce_layers", "representatives", "dataset_view"]

REP_K_MAX = 5
LAYER_DIMS = 32
FINAL_DIMS = 64


def _check_layers(layer_summaries, labels):
    if isinstance(layer_summaries, np.ndarray) and layer_summaries.ndim == 2:
        layer_summaries = [layer_summaries]
    try:
        layers = list(layer_summaries)
    except TypeError as exc:
        raise ValueError("layer_summaries must be a list of [N, C_l] arrays") from exc
    if not layers:
        raise ValueError("layer_summaries must hold at least one layer")
    out = []
    for i, L in enumerate(layers):
        L = check_matrix(L, f"layer_summaries[{i}]", dtype=np.float32)
        if i and L.shape[0] != out[0].shape[0]:
            raise ValueError(
                f"layer_summaries[{i}] has {L.shape[0]} rows but layer_summaries[0] has {out[0].shape[0]}"
            )
        out.append(L)
    n = out[0].shape[0]
    return out, check_labels(labels, n, n_name="layer_summaries[0]")


def _sample_per_class(labels, cap, rng):
    picked = {}
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size > cap:
            idx = np.sort(rng.choice(idx, size=cap, replace=False))
        picked[int(c)] = idx
    return picked


def per_class_cap(n_classes: int) -> int:
    """Inputs per class the similarity pairs are drawn from: ``max(8, min(128, 4096 // K))``."""
    return int(max(8, min(128, 4096 // max(1, n_classes))))


def similarity_sample(labels, random_state=0) -> np.ndarray:
    """Original indices (ascending) of the inputs `class_similarity` pairs up, for `random_state`."""
    labels = np.asarray(labels, dtype=np.int64)
    picked = _sample_per_class(labels, per_class_cap(np.unique(labels).size), np.random.default_rng(random_state))
    return np.sort(np.concatenate(list(picked.values())))


def class_similarity(layers, labels, reference, eta=_jaccard.DEFAULT_ETA, random_state=0):
    """Mean Jaccard of every class to ``reference``, per layer.

    Returns:
        ``(classes, per_layer)``: ``classes`` the class ids present and
        ``per_layer`` float64 ``[L, K]`` (rows: layers, columns: ``classes``).
    """
    classes = np.unique(labels)
    sample = similarity_sample(labels, random_state)
    owner = np.searchsorted(classes, labels[sample])
    ref_pos = np.flatnonzero(owner == int(np.flatnonzero(classes == reference)[0]))
    per_layer = np.zeros((len(layers), classes.size))
    onehot = (owner[:, None] == np.arange(classes.size)[None, :]).astype(np.float64)
    counts = onehot.sum(axis=0)
    for li, L in enumerate(layers):
        B = _jaccard.top_channel_sets(L[sample], eta)
        J = _jaccard.jaccard_from_sets(B[ref_pos], B).astype(np.float64)  # [n_ref, n_sample]
        # Reference with itself: distinct pairs only.
        J[np.arange(ref_pos.size), ref_pos] = 0.0
        sums = J.sum(axis=0) @ onehot  # [K]
        pairs = ref_pos.size * counts
        rj = int(owner[ref_pos[0]])
        pairs[rj] = ref_pos.size * (ref_pos.size - 1)
        per_layer[li] = np.where(pairs > 0, sums / np.maximum(pairs, 1), 1.0)
    return classes, per_layer


def _top_components(Xs: np.ndarray, dims: int, random_state: int) -> np.ndarray:
    n, d = Xs.shape
    dims = int(min(dims, n, d))
    if d <= dims:
        return Xs
    Xc = Xs - Xs.mean(axis=0)
    if n <= 2 * dims or d <= 4 * dims:
        # Small: exact (eigh of the smaller Gram/covariance matrix).
        if n <= d:
            evals, evecs = np.linalg.eigh(Xc @ Xc.T)
            top = np.argsort(-evals, kind="stable")[:dims]
            return evecs[:, top] * np.sqrt(np.clip(evals[top], 0.0, None))
        evals, evecs = np.linalg.eigh(Xc.T @ Xc)
        top = np.argsort(-evals, kind="stable")[:dims]
        return Xc @ evecs[:, top]
    from sklearn.utils.extmath import randomized_svd

    u, s, _ = randomized_svd(Xc, n_components=dims, n_iter=4, random_state=random_state)
    return u * s


def reduce_layers(layers, random_state=0) -> np.ndarray:
    """Joint feature space of all layers (standardized, equal weight, PCA-reduced).

    Returns:
        float64 ``[N, <= FINAL_DIMS]``.
    """
    blocks = []
    for L in layers:
        L = np.asarray(L, dtype=np.float32)
        sd = L.std(axis=0)
        sd[sd == 0] = 1.0
        Z = (L - L.mean(axis=0)) / sd / np.sqrt(L.shape[1])
        blocks.append(_top_components(Z, LAYER_DIMS, random_state).astype(np.float64))
    F = np.concatenate(blocks, axis=1)
    if F.shape[1] > FINAL_DIMS:
        F = _top_components(F, FINAL_DIMS, random_state)
    return F


def representatives(F, labels, classes, k=None, random_state=0) -> dict:
    """Exemplar inputs per class: ``{class id: [input indices, largest cluster first]}``."""
    from sklearn.cluster import KMeans

    out = {}
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if idx.size == 0:
            out[int(c)] = []
            continue
        X = F[idx]
        if k is None:
            cap = int(min(REP_K_MAX, max(1, idx.size // 2)))
            cl, _ = xmeans(X, k_max=cap, random_state=random_state)
        else:
            kk = int(min(k, idx.size))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cl = KMeans(n_clusters=kk, n_init=3, random_state=random_state).fit(X).labels_
        sizes = np.bincount(cl)
        reps = []
        for j in np.argsort(-sizes, kind="stable"):
            if sizes[j] == 0:
                continue
            members = np.flatnonzero(cl == j)
            pts = X[members]
            d = np.einsum("ij,ij->i", pts - pts.mean(axis=0), pts - pts.mean(axis=0))
            reps.append(int(idx[members[int(np.argmin(d))]]))
        out[int(c)] = reps
    return out


@single_threaded_view
def dataset_view(layer_summaries, labels, reference=0, k=None, random_state=0, predictions=None,
                 probabilities=None, eta=_jaccard.DEFAULT_ETA, classes=None, n_classes=None) -> dict:
    """The dataset view.

    Args:
        layer_summaries: list of ``[N, C_l]`` summaries, one per layer (same N).
        labels: ``[N]`` class ids.
        reference: class id to compare every class with (must have inputs).
        k: None for X-Means representatives, else k-means clusters per class
            (1..N; ``min(k, n_class)`` per class).
        random_state: seed of the similarity sample and the clustering.
        predictions: optional ``[N]`` predicted class ids (adds ``accuracy``).
        probabilities: optional ``[N]`` confidence of each prediction.
        eta: Jaccard top-channel fraction, in (0, 1].
        classes: optional class ids to pick representatives from (default: all).
        n_classes: optional total number of classes; lists classes without
            inputs too (``count`` 0, ``similarity`` None).

    Returns:
        JSON-ready dict: ``reference``, ``eta``, ``classes`` ``[{id, count,
        similarity}]``, ``layer_similarity`` (``[L][K]`` aligned with
        ``classes``), ``predictions``, ``probabilities``, ``accuracy`` (None
        when no predictions), ``representatives`` (flat list, by class) and
        ``representatives_by_class`` ``{str(class): [indices]}``,
        ``sampled`` (the inputs the similarities were computed from, as
        `views.sampling.sample_info` with ``how`` naming the per-class cap;
        None when every input was used; representatives always come from
        every input).
    """
    layers, labels = _check_layers(layer_summaries, labels)
    n = labels.size
    eta = check_eta(eta)
    random_state = check_random_state(random_state)
    k = check_k(k, n)
    reference = check_int(reference, "reference", lo=0)
    present = np.unique(labels)
    if reference not in set(present.tolist()):
        raise InvalidArgumentError(f"reference class {reference} has no inputs (classes present: {present.tolist()})",
                                   "reference")
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", lo=1)
        if present.max() >= n_classes:
            raise ValueError(f"labels hold class id {int(present.max())} but n_classes is {n_classes}")
    if classes is None:
        selected = present
    else:
        selected = np.unique(np.asarray([check_int(c, "classes", lo=0) for c in classes], dtype=np.int64))
    preds = None
    accuracy = None
    if predictions is not None:
        preds = check_labels(predictions, n, name="predictions", n_name="labels")
        accuracy = float(np.mean(preds == labels)) if n else None
    probs = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.ndim != 1 or probs.shape[0] != n:
            raise ValueError(f"probabilities has shape {probs.shape} but labels has {n} entries")
        if not np.all(np.isfinite(probs)):
            raise ValueError("probabilities contains NaN or infinite values")

    cls, per_layer = class_similarity(layers, labels, reference, eta=eta, random_state=random_state)
    sim = per_layer.mean(axis=0)
    counts = np.bincount(labels, minlength=int(present.max()) + 1)
    ids = range(n_classes) if n_classes is not None else cls.tolist()
    pos = {int(c): j for j, c in enumerate(cls)}
    class_rows = [
        {"id": int(c), "count": int(counts[c]) if c < counts.size else 0,
         "similarity": float(round(sim[pos[c]], 6)) if c in pos else None}
        for c in ids
    ]
    F = reduce_layers(layers, random_state=random_state)
    reps = representatives(F, labels, selected, k=k, random_state=random_state)
    return {
        "reference": reference,
        "eta": eta,
        "classes": class_rows,
        "layer_similarity": [
            [float(round(row[pos[c]], 6)) if c in pos else None for c in ids] for row in per_layer
        ],
        "predictions": None if preds is None else ints(preds),
        "probabilities": None if probs is None else floats(probs),
        "accuracy": accuracy,
        "representatives": [i for c in sorted(reps) for i in reps[c]],
        "representatives_by_class": {str(c): reps[c] for c in sorted(reps)},
        "sampled": _sampled_field(labels, random_state),
    }


def _sampled_field(labels: np.ndarray, random_state: int) -> dict | None:
    info = sample_info(labels, similarity_sample(labels, random_state), random_state)
    if info is not None:
        cap = per_class_cap(np.unique(labels).size)
        info["how"] = f"up to {cap} inputs per class, seed {random_state}"
    return info
