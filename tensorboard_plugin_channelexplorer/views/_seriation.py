"""Cosine similarity of channel profiles, its average-linkage tree, seriation and tree cuts.

Shared by the heatmap's ``cluster`` ordering and the channel cluster view, so
both show the same order (CNNVis reorders its activation matrix by cosine
similarity).

A channel's profile is its column of ``S[N, C]``. With ``center=True`` (the
default) each column is first centred over the inputs, so the cosine is the
Pearson correlation: summaries such as L2 norms are all positive, and their
raw cosines are all close to 1 (every channel is "similar" to every other).
Channels whose (centred) profile is all zero have no direction; they are
given cosine distance 0 to each other and 1 to every other channel, so dead
channels group together.

Seriation is ``scipy.cluster.hierarchy.optimal_leaf_ordering`` of the
average-linkage tree (it flips the children of every merge so that the sum of
distances between neighbouring leaves is minimal). Scipy's implementation
grows about as ``C^3`` (measured: 512 channels 0.15 s, 2,048 channels 17 s),
so above ``EXACT_MAX`` channels the tree is cut into at most ``N_SUBTREES``
subtrees, the subtrees are seriated by their mean pairwise distances (the
same method, recursively), each subtree is seriated on its own, and each
subtree is reversed where that brings its first leaf closer to the previous
subtree's last leaf (the first one is oriented towards the second). The
result is still a leaf order of contiguous subtrees (identical channels stay
adjacent), but no longer the exact optimum over the whole tree.

The channel clusters cut the same tree: `auto_k` picks the number of
clusters with the highest mean silhouette, computed for all candidate cuts
at once by `silhouettes`.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

EXACT_MAX = 256
# Above EXACT_MAX the tree is cut into at most this many subtrees: fewer,
# larger subtrees keep more of the tree exactly optimal and make fewer scipy
# calls (each validates the tree, about 1 ms), as long as each stays cheap.
N_SUBTREES = 64

# Below this norm a centred profile counts as constant (no direction).
_EPS = 1e-12


def unit_profiles(S: np.ndarray, center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm channel profiles.

    Args:
        S: ``[N, C]`` float64 summaries (validated by the caller).
        center: centre each column over the inputs first.

    Returns:
        ``(U, dead)``: ``U`` float64 ``[C, N]`` unit rows (zero rows for dead
        channels) and ``dead`` bool ``[C]``.
    """
    X = S - S.mean(axis=0) if center else S
    norms = np.linalg.norm(X, axis=0)
    scale = np.max(np.abs(S)) if S.size else 0.0
    dead = norms <= _EPS * max(scale, 1.0) * np.sqrt(max(S.shape[0], 1))
    U = np.zeros((S.shape[1], S.shape[0]))
    live = ~dead
    U[live] = (X[:, live] / norms[live]).T
    return U, dead


def cosine_distance(U: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Square cosine distance matrix ``[C, C]`` of unit rows (dead rules in the module docstring).

    The Gram matrix is computed in float32 (half the time of float64 for
    2,048 channels; cosines of unit vectors lose nothing that matters at
    1e-7) and kept in float32 (scipy converts the condensed form it needs).
    """
    U32 = U.astype(np.float32)
    D = U32 @ U32.T
    np.subtract(np.float32(1.0), D, out=D)
    np.clip(D, 0.0, 2.0, out=D)
    if dead.any():
        D[np.ix_(dead, dead)] = 0.0
    np.fill_diagonal(D, 0.0)
    return D


def average_linkage(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average-linkage tree of a square distance matrix: ``(Z, condensed D)``."""
    y = squareform(D, checks=False).astype(np.float64)
    if D.shape[0] < 2:
        return np.zeros((0, 4)), y
    return hierarchy.linkage(y, method="average"), y


def _subtrees(Z: np.ndarray, groups: np.ndarray, m: int) -> list[np.ndarray]:
    """The linkage matrix of each group of a tree cut, in the group's local leaf numbering.

    Every group of ``fcluster`` is a subtree, so its merges are rows of ``Z``
    whose two children lie in the group; renumbering them gives the tree that
    average linkage would build on the group alone, without recomputing it.
    """
    c = groups.size
    owner = np.concatenate([groups, np.full(c - 1, -1)])
    local = np.concatenate([np.zeros(c, dtype=np.int64), np.zeros(c - 1, dtype=np.int64)])
    sizes = np.bincount(groups, minlength=m)
    leaf_count = np.zeros(m, dtype=np.int64)
    for i in range(c):
        local[i] = leaf_count[groups[i]]
        leaf_count[groups[i]] += 1
    rows: list[list] = [[] for _ in range(m)]
    a = Z[:, 0].astype(np.int64)
    b = Z[:, 1].astype(np.int64)
    for i in range(c - 1):
        g = owner[a[i]]
        if g < 0 or owner[b[i]] != g:
            continue
        owner[c + i] = g
        local[c + i] = sizes[g] + len(rows[g])
        rows[g].append((local[a[i]], local[b[i]], Z[i, 2], Z[i, 3]))
    return [np.asarray(r, dtype=np.float64).reshape(-1, 4) for r in rows]


def _seriate(D: np.ndarray, tree=None) -> np.ndarray:
    """Seriation of a square distance matrix (module docstring); ``tree`` reuses ``(Z, y)``."""
    c = D.shape[0]
    if c <= 2:
        return np.arange(c, dtype=np.int64)
    Z, y = average_linkage(D) if tree is None else tree
    if c <= EXACT_MAX:
        return hierarchy.leaves_list(hierarchy.optimal_leaf_ordering(Z, y)).astype(np.int64)
    groups = hierarchy.fcluster(Z, t=N_SUBTREES, criterion="maxclust") - 1
    m = int(groups.max()) + 1
    if m == 1:
        # All merges at one height (e.g. identical or dead channels): any leaf
        # order of the tree is as good as another.
        return hierarchy.leaves_list(Z).astype(np.int64)
    # Distance between two subtrees: their mean pairwise distance, the
    # quantity average linkage itself merges on.
    onehot = np.zeros((c, m), dtype=D.dtype)
    onehot[np.arange(c), groups] = 1.0
    sizes = onehot.sum(axis=0)
    Dg = (onehot.T @ (D @ onehot)) / np.outer(sizes, sizes)
    np.fill_diagonal(Dg, 0.0)
    sub = _subtrees(Z, groups, m)
    out: list[np.ndarray] = []
    for g in _seriate(Dg):
        idx = np.flatnonzero(groups == g)
        if idx.size > 2:
            Dsub = D[np.ix_(idx, idx)]
            inner = idx[_seriate(Dsub, (sub[g], squareform(Dsub, checks=False).astype(np.float64)))]
        else:
            inner = idx
        if out and inner.size > 1:
            last = out[-1][-1]
            if D[last, inner[-1]] < D[last, inner[0]]:
                inner = inner[::-1]
        out.append(inner)
    # The first subtree has no predecessor: orient it towards the second.
    head, nxt = out[0], out[1][0]
    if head.size > 1 and D[head[0], nxt] < D[head[-1], nxt]:
        out[0] = head[::-1]
    return np.concatenate(out).astype(np.int64)


def seriation(S: np.ndarray, center: bool = True, tree=None) -> np.ndarray:
    """Channel order with similar channels adjacent (module docstring).

    Args:
        S: ``[N, C]`` float64 summaries (validated by the caller).
        center: centre the profiles (Pearson correlation) first.
        tree: optional ``(Z, y, D)`` already computed by `channel_tree`.

    Returns:
        int64 ``[C]``: a permutation of the channels.
    """
    if tree is None:
        _, tree = channel_tree(S, center)
    Z, y, D = tree
    return _seriate(D, (Z, y))


def channel_tree(S: np.ndarray, center: bool = True):
    """Profiles and average-linkage tree of the channels.

    Returns:
        ``((U, dead), (Z, y, D))`` as used by `seriation`.
    """
    U, dead = unit_profiles(S, center)
    D = cosine_distance(U, dead)
    Z, y = average_linkage(D)
    return (U, dead), (Z, y, D)


def silhouettes(D: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Mean silhouette (Rousseeuw 1987) of several nested partitions at once.

    Args:
        D: ``[C, C]`` distances.
        cuts: ``[P, C]`` cluster ids per partition, every partition a
            coarsening of the last one (tree cuts are nested).

    Returns:
        float64 ``[P]``: the mean over channels of ``(b - a) / max(a, b)``,
        with ``a`` the mean distance to the channel's own cluster (others
        only) and ``b`` the smallest mean distance to another cluster; 0 for
        channels in singleton clusters (as scikit-learn's
        ``silhouette_score``). One ``[C, C] x [C, k]`` product for the finest
        cut serves all partitions.
    """
    c = D.shape[0]
    fine = cuts[-1]
    kf = int(fine.max()) + 1
    onehot = np.zeros((c, kf), dtype=D.dtype)  # D is float32: no float64 copy of it
    onehot[np.arange(c), fine] = 1.0
    sums_fine = D @ onehot  # [C, kf]: summed distance of each channel to each fine cluster
    out = np.zeros(cuts.shape[0])
    rows = np.arange(c)
    for p, lab in enumerate(cuts):
        k = int(lab.max()) + 1
        merge = np.zeros((kf, k))
        merge[np.arange(kf), lab[np.argmax(onehot, axis=0)]] = 1.0
        sums = sums_fine @ merge
        sizes = np.bincount(lab, minlength=k).astype(np.float64)
        own = sizes[lab]
        a = sums[rows, lab] / np.maximum(own - 1.0, 1.0)
        means = sums / sizes[None, :]
        means[rows, lab] = np.inf
        b = means.min(axis=1)
        denom = np.maximum(a, b)
        s = np.divide(b - a, denom, out=np.zeros(c), where=denom > 0)
        s[own <= 1] = 0.0
        out[p] = s.mean()
    return out


def auto_k(Z: np.ndarray, D: np.ndarray, k_max: int) -> tuple[int, dict]:
    """The ``k`` in ``2..k_max`` with the highest mean silhouette (ties: fewer), and every score."""
    cuts, ks = [], []
    for k in range(2, k_max + 1):
        lab = hierarchy.fcluster(Z, t=k, criterion="maxclust") - 1
        got = int(lab.max()) + 1
        if got >= 2 and got not in ks:
            cuts.append(lab)
            ks.append(got)
    if not ks:
        return 1, {}
    scores = dict(zip(ks, silhouettes(D, np.stack(cuts)).tolist()))
    best = max(scores, key=lambda kk: (scores[kk], -kk))
    return best, scores
