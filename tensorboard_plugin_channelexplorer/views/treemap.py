"""Squarified treemap (Bruls, Huizing & van Wijk 2000): rectangles with areas proportional to sizes.

Used by the channel cluster view (CNNVis packs neuron clusters as
rectangles). Pure numpy; the output is in the unit square.
"""

from __future__ import annotations

import numbers

import numpy as np

from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError

__all__ = ["check_aspect", "squarified_treemap"]


def check_aspect(aspect) -> float:
    """Returns the treemap aspect (width / height) as a positive finite float."""
    if isinstance(aspect, bool) or not isinstance(aspect, numbers.Real) or not np.isfinite(aspect) or aspect <= 0:
        raise InvalidArgumentError(f"aspect must be a positive number, got {aspect!r}", "aspect")
    return float(aspect)


def _worst(row_sum: float, row_max: float, row_min: float, side: float) -> float:
    """Worst aspect ratio of a treemap row laid along ``side`` (Bruls et al., Eq. in Sect. 3)."""
    s2 = side * side
    r2 = row_sum * row_sum
    return max(s2 * row_max / r2, r2 / (s2 * row_min))


def squarified_treemap(sizes, aspect: float = 1.0) -> np.ndarray:
    """Squarified treemap (Bruls, Huizing & van Wijk 2000) of positive sizes.

    Items are placed largest first (ties by index); a row grows along the
    shorter side of the free rectangle while that does not worsen its worst
    aspect ratio, then it is fixed and the free rectangle shrinks.

    Args:
        sizes: ``[m]`` positive numbers.
        aspect: width / height of the target rectangle (> 0); the layout is
            computed for that shape, so the rectangles look square there.

    Returns:
        float64 ``[m, 4]``: ``x, y, w, h`` of each item (input order), scaled
        to the unit square (x and w divided by ``aspect``).

    Raises:
        ValueError: on non-positive or non-finite sizes or ``aspect``.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError("sizes must be a 1-D array of positive finite numbers")
    aspect = check_aspect(aspect)
    m = sizes.size
    out = np.zeros((m, 4))
    if m == 0:
        return out
    order = np.argsort(-sizes, kind="stable")
    areas = sizes[order] * (aspect / sizes.sum())
    x, y, w, h = 0.0, 0.0, float(aspect), 1.0
    start = 0
    while start < m:
        side = min(w, h)
        end = start + 1
        total = areas[start]
        while end < m:
            grown = total + areas[end]
            if _worst(grown, areas[start], areas[end], side) > _worst(total, areas[start], areas[end - 1], side):
                break
            total = grown
            end += 1
        row = areas[start:end]
        if w >= h:  # a column at the left of the free rectangle
            width = total / h if h > 0 else 0.0
            offs = np.concatenate([[0.0], np.cumsum(row)[:-1]]) / width if width > 0 else np.zeros(row.size)
            out[order[start:end]] = np.column_stack([np.full(row.size, x), y + offs,
                                                     np.full(row.size, width), row / width if width > 0 else row])
            x, w = x + width, max(w - width, 0.0)
        else:  # a row at the top
            height = total / w if w > 0 else 0.0
            offs = np.concatenate([[0.0], np.cumsum(row)[:-1]]) / height if height > 0 else np.zeros(row.size)
            out[order[start:end]] = np.column_stack([x + offs, np.full(row.size, y),
                                                     row / height if height > 0 else row, np.full(row.size, height)])
            y, h = y + height, max(h - height, 0.0)
        start = end
    out[:, [0, 2]] /= aspect
    return np.clip(out, 0.0, 1.0)
