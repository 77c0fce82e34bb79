"""Following the same inputs across steps and runs, and aligning 2-D frames.

Matching. Each step logs ``sample_ids`` (ints or strings). Inputs are
followed by id: the compared steps are restricted to the ids present in all
of them, in the order of the first step; every other input of a step is
reported as dropped. A duplicated id within one step is ambiguous, so only
its first occurrence is matched (the others count as dropped).

Alignment. A dimensionality reduction is only defined up to a similarity
transform (PCA: sign flips; MDS: any rotation/reflection; t-SNE/UMAP:
rotation, reflection, translation, scale), so two consecutive frames of the
same inputs can "jump" although nothing changed. Each frame is first
normalized (centred, scaled to unit RMS radius ``sqrt(mean ||y_i||^2) = 1``)
so that displacements are comparable across methods and steps, then rotated
(or reflected) onto the previous aligned frame with the orthogonal
Procrustes solution over the matched inputs (Schönemann 1966:
``R = argmin ||Y R - Y_prev||_F`` with ``R^T R = I``, ``R = U V^T`` from the
SVD of ``Y^T Y_prev``). It works for any method because it only assumes the
frames are defined up to that group; it never changes within-frame
distances, so the picture of each step stays exactly what the method drew.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_matrix

__all__ = ["match_ids", "normalize_frame", "procrustes_align", "align_frames", "mean_displacement"]


def _id_keys(ids) -> list:
    """Hashable python keys of one step's ids (ints stay ints, strings stay strings)."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"sample_ids must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        return [int(v) for v in arr]
    if arr.dtype.kind in "US":
        return [str(v) for v in arr.astype(str)]
    if arr.dtype.kind == "O" and all(isinstance(v, (str, int, np.integer)) and not isinstance(v, bool) for v in arr):
        return [v if isinstance(v, str) else int(v) for v in arr]
    raise ValueError(f"sample_ids must hold integers or strings, got dtype {arr.dtype}")


def match_ids(id_lists):
    """Matches inputs by sample id across several steps.

    Args:
        id_lists: a sequence of ``[N_t]`` id arrays (ints or strings), one per step.

    Returns:
        ``(common, indices, dropped)``: ``common`` the ids present in every
        step, in the order of the first step; ``indices[t]`` int64 ``[M]``, the
        row of each common id in step ``t``; ``dropped[t]`` the number of
        inputs of step ``t`` left out.

    Raises:
        ValueError: when `id_lists` is empty or holds a non-1-D / non-id array.
    """
    if len(id_lists) == 0:
        raise ValueError("id_lists must hold at least one array of sample_ids")
    keys = [_id_keys(ids) for ids in id_lists]
    positions = []
    for ks in keys:
        pos: dict = {}
        for i, k in enumerate(ks):
            pos.setdefault(k, i)  # first occurrence of a duplicated id
        positions.append(pos)
    common = [k for k in positions[0] if all(k in pos for pos in positions[1:])]
    indices = [np.asarray([pos[k] for k in common], dtype=np.int64) for pos in positions]
    dropped = [len(ks) - len(common) for ks in keys]
    return common, indices, dropped


def normalize_frame(Y) -> np.ndarray:
    """Centres a frame and scales it to unit RMS radius (a single point, or all equal, stays at 0)."""
    Y = check_matrix(Y, "Y")
    Yc = Y - Y.mean(axis=0)
    rms = float(np.sqrt(np.mean(np.sum(Yc * Yc, axis=1))))
    return Yc / rms if rms > 1e-12 else Yc


def procrustes_align(Y, reference) -> np.ndarray:
    """Rotates/reflects `Y` onto `reference` (orthogonal Procrustes), both ``[M, d]``.

    Both frames should already be normalized (`normalize_frame`); the rotation
    keeps the scale and the within-frame distances of `Y`.

    Raises:
        ValueError: on shapes that differ.
    """
    from scipy.linalg import orthogonal_procrustes

    Y = check_matrix(Y, "Y")
    reference = check_matrix(reference, "reference")
    if Y.shape != reference.shape:
        raise ValueError(f"Y has shape {Y.shape} but reference has shape {reference.shape}; they must match")
    if not np.any(Y) or not np.any(reference):
        return Y.copy()
    R, _ = orthogonal_procrustes(Y, reference)
    return Y @ R


def align_frames(frames, align: str = "procrustes") -> list:
    """Normalizes each frame and, with ``align="procrustes"``, chains each onto the previous aligned one.

    Args:
        frames: sequence of ``[M, d]`` frames of the same (matched) inputs.
        align: ``procrustes`` or ``none`` (normalized only).

    Returns:
        The list of aligned float64 ``[M, d]`` frames.
    """
    if align not in ("procrustes", "none"):
        raise ValueError(f"align must be one of procrustes, none, got {align!r}")
    out = []
    for Y in frames:
        Yn = normalize_frame(Y)
        if out and align == "procrustes":
            Yn = procrustes_align(Yn, out[-1])
        out.append(Yn)
    return out


def mean_displacement(frames) -> list:
    """Mean Euclidean distance each input moves between consecutive frames, ``[T - 1]`` floats."""
    return [float(np.mean(np.linalg.norm(b - a, axis=1))) if a.shape[0] else 0.0
            for a, b in zip(frames[:-1], frames[1:])]
