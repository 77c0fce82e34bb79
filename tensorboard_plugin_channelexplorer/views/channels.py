"""Channel-centric views: channel clusters, channel cards and channel embeddings.

The other views treat inputs as points; here each channel of a layer is one
item, described by its activation profile, the column ``S[:, c]`` of the
layer's ``[N, C]`` summaries (CNNVis's neuron clusters, ReVACNN's filter
embedding, a Microscope-style page per channel).

Clusters (CNNVis): average-linkage agglomerative clustering of the channels
with cosine distance between their mean-centred profiles (so the Pearson
correlation; ``views/_seriation.py`` explains the centring and the dead
channels). The number of clusters, when not given, is the ``k`` in
``2..min(K_MAX, C - 1)`` that maximizes the mean silhouette of the cut tree
(Rousseeuw 1987, on the same cosine distances); layers with fewer than 3
channels have one cluster. Cluster ids follow the seriation (cluster 0 holds
the first channel of the ``cluster`` heatmap order), and each cluster's
representatives are the ``n_representatives`` members nearest (cosine
distance) to the mean of the members' unit profiles, as CNNVis picks them.

Class selectivity of a channel (the neuroscience index, e.g. Morcos et al.
2018 for CNN units): with ``mu_k`` the mean response to class ``k`` measured
from the channel's weakest response over all inputs (``mu_k = mean_{class k}
S[:, c] - min_n S[n, c]``, so pre-activation summaries, which can be
negative, give a defined index), ``SI = (mu_max - mu_rest) / (mu_max +
mu_rest)`` where ``mu_rest`` is the mean of the other classes' ``mu``. It is
0 for a channel that responds equally to every class and 1 for one that
responds to a single class only; 0 when only one class is present or the
channel is constant. A cluster's index is that of the mean of its members'
``mu`` vectors. The preferred class is the class of ``mu_max`` (ties: the
smaller class id).

Layout: the clusters are packed into the unit square by the squarified
treemap of Bruls, Huizing & van Wijk (2000), area proportional to size
(``views/treemap.py``).

The module is a little over 400 lines: the three channel-centric views share
their validation, profiles and selectivity, which would otherwise be imported
across three files; edges between layers live in `channel_edges`.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy

from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError

from . import heatmap
from ._seriation import auto_k, channel_tree, seriation
from ._validate import (
    check_choice,
    check_fraction,
    check_int,
    check_labels,
    check_matrix,
    check_random_state,
    floats,
    ints,
    single_threaded_view,
)
from .heatmap import check_channel_vector
from .treemap import check_aspect, squarified_treemap

__all__ = ["K_MAX", "N_REPRESENTATIVES", "SOURCES", "class_profiles", "selectivity", "channel_clusters",
           "channel_card", "channel_embedding", "channel_history"]

K_MAX = 12
N_REPRESENTATIVES = 4
TOP_K_MAX = 256
SOURCES = ("activations", "weights")
# Orders under which the card reports the channel's rank (cluster last: it
# needs the seriation).
RANK_ORDERS = ("pairwise", "variance", "filter_norm", "taylor", "cluster")


def class_profiles(S: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class mean of every channel.

    Args:
        S: ``[N, C]`` float64 summaries (validated).
        labels: ``[N]`` int64 class ids (validated).

    Returns:
        ``(classes, means, floor)``: the class ids present (ascending),
        ``means`` float64 ``[K, C]`` and ``floor`` the per-channel minimum
        over inputs ``[C]``.
    """
    classes, inverse = np.unique(labels, return_inverse=True)
    onehot = np.zeros((classes.size, labels.size))
    onehot[inverse, np.arange(labels.size)] = 1.0
    means = (onehot @ S) / onehot.sum(axis=1)[:, None]
    return classes, means, S.min(axis=0)


def selectivity(means: np.ndarray, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class-selectivity index and preferred class row (formula in the module docstring).

    Args:
        means: ``[K, C]`` per-class means.
        floor: ``[C]`` each channel's weakest response.

    Returns:
        ``(si, preferred)``: float64 ``[C]`` in [0, 1] and int64 ``[C]`` row
        indices into ``means`` (map them to class ids with ``classes``).
    """
    mu = np.maximum(means - floor[None, :], 0.0)
    k = mu.shape[0]
    preferred = np.argmax(mu, axis=0).astype(np.int64)
    if k < 2:
        return np.zeros(mu.shape[1]), preferred
    top = mu.max(axis=0)
    rest = (mu.sum(axis=0) - top) / (k - 1)
    denom = top + rest
    si = np.divide(top - rest, denom, out=np.zeros_like(top), where=denom > 0)
    return np.clip(si, 0.0, 1.0), preferred


@single_threaded_view
def channel_clusters(S, labels, k=None, n_representatives: int = N_REPRESENTATIVES, k_max: int = K_MAX,
                     aspect: float = 1.0) -> dict:
    """Clusters of a layer's channels with representatives, class profiles and a treemap.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        k: number of clusters (1..C), or None to choose it by the silhouette
            (module docstring).
        n_representatives: representatives per cluster, >= 1.
        k_max: the largest ``k`` tried when ``k`` is None, >= 2.
        aspect: width / height of the treemap's target rectangle.

    Returns:
        JSON-ready dict: ``channels`` (C), ``n_clusters``, ``k_auto`` (bool),
        ``silhouette`` (``{str(k): score}`` of the tried ``k``, empty when
        ``k`` is given), ``order`` (the seriation: channel indices),
        ``assignment`` (cluster id per channel), ``classes``, ``clusters``
        (``[{id, size, members, representatives, class_means, selectivity,
        preferred_class, rect: [x, y, w, h]}]``, members in seriation order),
        ``channel_selectivity`` and ``channel_preferred_class`` (per channel).

    Raises:
        ValueError: on bad ``S``/``labels``/``k``/``n_representatives``/``k_max``/``aspect``.
    """
    S = check_matrix(S, "S")
    n, c = S.shape
    labels = check_labels(labels, n)
    if k is not None:
        k = check_int(k, "k", lo=1)
        if k > c:
            raise InvalidArgumentError(f"k={k} exceeds the number of channels C={c}", "k")
    n_representatives = check_int(n_representatives, "n_representatives", lo=1)
    k_max = check_int(k_max, "k_max", lo=2)
    aspect = check_aspect(aspect)

    (U, dead), tree = channel_tree(S)
    Z, _y, D = tree
    order = seriation(S, tree=tree)
    scores: dict = {}
    if k is None:
        k_eff, scores = auto_k(Z, D, min(k_max, c - 1)) if c >= 3 else (1, {})
    else:
        k_eff = k
    raw = hierarchy.fcluster(Z, t=k_eff, criterion="maxclust") - 1 if c > 1 else np.zeros(1, dtype=np.int64)
    # Renumber clusters by their first position in the seriation.
    pos = np.empty(c, dtype=np.int64)
    pos[order] = np.arange(c)
    firsts = np.full(int(raw.max()) + 1, c)
    np.minimum.at(firsts, raw, pos)
    rename = np.empty_like(firsts)
    rename[np.argsort(firsts, kind="stable")] = np.arange(firsts.size)
    assignment = rename[raw]

    classes, means, floor = class_profiles(S, labels)
    si, pref = selectivity(means, floor)
    m = firsts.size
    sizes = np.bincount(assignment, minlength=m)
    rects = squarified_treemap(sizes, aspect=aspect)
    clusters = []
    for cid in range(m):
        members = order[assignment[order] == cid]
        centre = U[members].mean(axis=0)
        dist = 1.0 - U[members] @ centre / max(np.linalg.norm(centre), 1e-300)
        reps = members[np.lexsort((members, dist))[:n_representatives]]
        c_means = means[:, members].mean(axis=1)
        c_si, c_pref = selectivity(c_means[:, None], np.array([floor[members].mean()]))
        clusters.append({
            "id": cid,
            "size": int(members.size),
            "members": ints(members),
            "representatives": ints(reps),
            "class_means": floats(c_means),
            "selectivity": float(np.round(c_si[0], 6)),
            "preferred_class": int(classes[c_pref[0]]),
            "rect": floats(rects[cid], sig=None, decimals=6),
        })
    return {
        "channels": c,
        "n_clusters": m,
        "k_auto": k is None,
        "silhouette": {str(kk): round(v, 6) for kk, v in sorted(scores.items())},
        "order": ints(order),
        "assignment": ints(assignment),
        "classes": ints(classes),
        "clusters": clusters,
        "channel_selectivity": floats(si, sig=None, decimals=6),
        "channel_preferred_class": ints(classes[pref]),
    }


def _rank_of(metric: np.ndarray, channel: int) -> int:
    """Position of ``channel`` when sorting ``metric`` descending, ties by index."""
    v = metric[channel]
    return int(np.count_nonzero(metric > v) + np.count_nonzero(metric[:channel] == v))


@single_threaded_view
def channel_card(S, labels, channel, top_k: int = 9, filter_norm=None, taylor=None, grad_norm=None,
                 order=None, assignment=None) -> dict:
    """Everything the channel card shows about one channel of a layer.

    Args:
        S: ``[N, C]`` channel summaries.
        labels: ``[N]`` class ids.
        channel: the channel, 0 <= channel < C.
        top_k: number of top-activating inputs, 1..256 (clamped to N).
        filter_norm: optional ``[C]`` filter weight norms.
        taylor: optional ``[C]`` Taylor importances.
        grad_norm: optional ``[C]`` RMS gradient norms (reported, not ranked).
        order: optional ``[C]`` seriation (``channel_clusters()["order"]``);
            without it the ``cluster`` rank is None.
        assignment: optional ``[C]`` cluster id per channel.

    Returns:
        JSON-ready dict: ``channel``, ``channels`` (C), ``top_inputs`` and
        ``top_values`` (the ``top_k`` largest summaries, descending, ties by
        input index), ``classes``, ``class_means``, ``selectivity``,
        ``preferred_class``, ``mean``, ``max``, ``metrics`` (``pairwise``,
        ``variance``, ``filter_norm``, ``taylor``, ``grad_norm``: this
        channel's value or None), ``ranks`` (rank 0 = first row of that heatmap order, for every
        order in ``RANK_ORDERS``; None where unavailable) and ``cluster``
        (its cluster id or None).

    Raises:
        ValueError: on bad arrays, ``channel`` or ``top_k``.
    """
    S = check_matrix(S, "S")
    n, c = S.shape
    labels = check_labels(labels, n)
    channel = check_int(channel, "channel", lo=0, hi=c - 1)
    top_k = min(check_int(top_k, "top_k", lo=1, hi=TOP_K_MAX), n)
    fn = check_channel_vector(filter_norm, c, "filter_norm")
    tv = check_channel_vector(taylor, c, "taylor")
    gn = check_channel_vector(grad_norm, c, "grad_norm")
    if order is not None:
        order = np.asarray(order)
        if order.shape != (c,) or not np.array_equal(np.sort(order), np.arange(c)):
            raise ValueError(f"order must be a permutation of the {c} channels")
    if assignment is not None:
        assignment = np.asarray(assignment)
        if assignment.shape != (c,) or not np.issubdtype(assignment.dtype, np.integer):
            raise ValueError(f"assignment must hold one integer cluster id per channel ({c})")

    col = S[:, channel]
    # The k-th largest value, then ties at it broken by the smaller input index.
    kth = -np.partition(-col, top_k - 1)[top_k - 1]
    above = np.flatnonzero(col > kth)
    top = np.concatenate([above, np.flatnonzero(col == kth)[: top_k - above.size]])
    top = top[np.lexsort((top, -col[top]))]
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=classes.size)
    c_means = np.bincount(inverse, weights=col, minlength=classes.size) / counts
    si, pref = selectivity(c_means[:, None], np.array([col.min()]))

    metrics = {"pairwise": heatmap.pairwise_distance(S, labels), "variance": heatmap.variance(S),
               "filter_norm": fn, "taylor": tv}
    ranks = {name: (None if m is None else _rank_of(m, channel)) for name, m in metrics.items()}
    metrics["grad_norm"] = gn
    ranks["cluster"] = None if order is None else int(np.flatnonzero(order == channel)[0])
    return {
        "channel": channel,
        "channels": c,
        "top_inputs": ints(top),
        "top_values": floats(col[top]),
        "classes": ints(classes),
        "class_means": floats(c_means),
        "selectivity": float(np.round(si[0], 6)),
        "preferred_class": int(classes[pref[0]]),
        "mean": floats(col.mean()),
        "max": floats(col.max()),
        "metrics": {name: (None if m is None else float(m[channel])) for name, m in metrics.items()},
        "ranks": {name: ranks[name] for name in RANK_ORDERS},
        "cluster": None if assignment is None else int(assignment[channel]),
    }


def _standardize_rows(X: np.ndarray) -> np.ndarray:
    """Z-scores each row (constant rows become zeros)."""
    sd = X.std(axis=1, keepdims=True)
    return np.divide(X - X.mean(axis=1, keepdims=True), sd, out=np.zeros_like(X), where=sd > 0)


@single_threaded_view
def channel_embedding(S, labels, method: str = "tsne", source: str = "activations", weights=None,
                      selectivity_threshold: float = 0.3, random_state=0) -> dict:
    """2-D embedding whose points are the layer's channels (ReVACNN's filter view).

    Args:
        S: ``[N, C]`` channel summaries (always used for the colours).
        labels: ``[N]`` class ids.
        method: ``pca``, ``mds``, ``tsne`` or ``umap`` (``scatter.embed``).
        source: ``activations`` (each channel's profile over the inputs,
            z-scored per channel so scale does not dominate) or ``weights``
            (the rows of ``weights``, z-scored per row).
        weights: ``[C, D]`` per-channel filter features, e.g. the
            ``[C_out, C_in]`` summed ``|w|``; required for ``source="weights"``.
        selectivity_threshold: channels whose selectivity is below this,
            in [0, 1], get ``color_class`` -1 (no preferred class shown).
        random_state: seed of t-SNE/UMAP.

    Returns:
        JSON-ready dict: ``method``, ``source``, ``seed``, ``points``
        (``[[x, y]]`` per channel), ``preferred_class``, ``selectivity``,
        ``color_class`` (preferred class or -1), ``threshold``.

    Raises:
        ValueError: on bad arguments, or ``source="weights"`` without
            ``weights`` of ``C`` rows.
    """
    from .scatter import METHODS, embed

    S = check_matrix(S, "S")
    n, c = S.shape
    labels = check_labels(labels, n)
    method = check_choice(method, "method", METHODS)
    source = check_choice(source, "source", SOURCES)
    random_state = check_random_state(random_state)
    selectivity_threshold = check_fraction(selectivity_threshold, "selectivity_threshold")
    if source == "weights":
        if weights is None:
            raise InvalidArgumentError("source='weights' needs weights (no filter weights logged for this layer)",
                                       "source")
        W = check_matrix(weights, "weights")
        if W.shape[0] != c:
            raise ValueError(f"weights has {W.shape[0]} rows but S has {c} channels; they must match")
        X = _standardize_rows(W)
    else:
        X = _standardize_rows(S.T)
    points = embed(X, method=method, random_state=random_state)
    classes, means, floor = class_profiles(S, labels)
    si, pref = selectivity(means, floor)
    pref_ids = classes[pref]
    color = np.where(si >= selectivity_threshold, pref_ids, -1)
    return {
        "method": method,
        "source": source,
        "seed": random_state,
        "points": floats(points),
        "preferred_class": ints(pref_ids),
        "selectivity": floats(si, sig=None, decimals=6),
        "color_class": ints(color),
        "threshold": selectivity_threshold,
    }


def _drift(a: np.ndarray, b: np.ndarray) -> float | None:
    """``1 - Pearson correlation`` of two matched profiles; None when either is constant or < 2 inputs."""
    if a.size < 2:
        return None
    a, b = a - a.mean(), b - b.mean()
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return None if den <= 0 else float(np.clip(1.0 - (a @ b) / den, 0.0, 2.0))


def channel_history(steps, columns, labels, sample_ids=None) -> dict:
    """One channel's value across steps: mean, per-class means and stability.

    Stability (ReVACNN shows how settled each filter is during training):
    ``drift[s]`` is ``1 - r``, with ``r`` the Pearson correlation between
    the channel's profile at step ``s`` and at the previous step where it is
    present, over the inputs of both steps matched by sample id (0 = it
    responds to the same inputs in the same proportions, 1 = unrelated, 2 =
    reversed). It ignores a change of scale, which ``mean`` shows.

    Args:
        steps: the steps, ascending ints.
        columns: per step, the channel's ``[N_s]`` summaries, or None where
            the layer is absent at that step.
        labels: per step, the ``[N_s]`` class ids (ignored where the column is None).
        sample_ids: optional per step ``[N_s]`` sample ids; without them
            ``drift`` is all None.

    Returns:
        JSON-ready dict: ``steps``, ``mean`` (None where absent), ``classes``
        (every class seen), ``class_means`` (``[step][class]``, None where
        absent or the class has no input at that step) and ``drift`` (None
        at the first present step, where absent, or where fewer than 2 inputs
        match or a profile is constant).

    Raises:
        ValueError: on mismatched lengths.
    """
    from .align import match_ids

    if not (len(steps) == len(columns) == len(labels)) or (sample_ids is not None and len(sample_ids) != len(steps)):
        raise ValueError(f"steps ({len(steps)}), columns ({len(columns)}), labels ({len(labels)}) and sample_ids "
                         "must have the same length")
    cols = [None if col is None else np.asarray(col, dtype=np.float64).ravel() for col in columns]
    labs = [None if col is None else check_labels(lab, col.size, n_name="the column")
            for col, lab in zip(cols, labels)]
    present = [lab for lab in labs if lab is not None]
    classes = np.unique(np.concatenate(present)) if present else np.zeros(0, dtype=np.int64)
    mean, class_means, drift = [], [], []
    prev = None
    for i, (col, lab) in enumerate(zip(cols, labs)):
        if col is None or col.size == 0:
            mean.append(None)
            class_means.append([None] * classes.size)
            drift.append(None)
            continue
        mean.append(float(col.mean()))
        row = []
        for k in classes:
            sel = col[lab == k]
            row.append(float(sel.mean()) if sel.size else None)
        class_means.append(row)
        d = None
        if sample_ids is not None and prev is not None:
            if len(sample_ids[i]) != col.size:
                raise ValueError(f"sample_ids at step {steps[i]} has {len(sample_ids[i])} entries for {col.size} "
                                 "inputs")
            _, (ia, ib), _ = match_ids([sample_ids[prev], sample_ids[i]])
            d = _drift(cols[prev][ia], col[ib])
        drift.append(None if d is None else round(d, 6))
        prev = i
    return {"steps": [int(s) for s in steps], "mean": mean, "classes": ints(classes),
            "class_means": class_means, "drift": drift}
