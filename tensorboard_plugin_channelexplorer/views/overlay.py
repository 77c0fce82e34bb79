"""Activation channel overlaid on its input image (paper Sect. V-F, Eq. 2).

``O_c(x, y) = alpha * M_c(C~(x, y)) + (1 - alpha) * f_c(x, y)``:

1. the channel map is normalized with the layer's global ``lo``/``hi`` (the
   min/max over every channel and input, logged by the writer) to [0, 1],
   clipped;
2. resized to the image size by bilinear interpolation with pixel-centre
   alignment (``align_corners=False``, the convention of PIL and OpenCV),
   edges clamped;
3. coloured with jet, implemented here as matplotlib's 256-entry jet lookup
   table (same segment data, same ``int(v * 256)`` indexing), so matplotlib is
   not needed;
4. blended with the image; the result is rounded to the nearest integer.
"""

from __future__ import annotations

import io
import numbers

import numpy as np

from ._validate import check_fraction

__all__ = ["jet", "resize_bilinear", "overlay_rgb", "overlay_png"]

# matplotlib's _jet_data: (x, y0, y1) breakpoints per channel.
_JET_SEGMENTS = {
    "red": ((0.0, 0.0, 0.0), (0.35, 0.0, 0.0), (0.66, 1.0, 1.0), (0.89, 1.0, 1.0), (1.0, 0.5, 0.5)),
    "green": ((0.0, 0.0, 0.0), (0.125, 0.0, 0.0), (0.375, 1.0, 1.0), (0.64, 1.0, 1.0),
              (0.91, 0.0, 0.0), (1.0, 0.0, 0.0)),
    "blue": ((0.0, 0.5, 0.5), (0.11, 1.0, 1.0), (0.34, 1.0, 1.0), (0.65, 0.0, 0.0), (1.0, 0.0, 0.0)),
}
_LUT_SIZE = 256


def _build_jet_lut(n: int = _LUT_SIZE) -> np.ndarray:
    x = np.linspace(0.0, 1.0, n)
    lut = np.empty((n, 3))
    for ch, name in enumerate(("red", "green", "blue")):
        seg = np.asarray(_JET_SEGMENTS[name])
        lut[:, ch] = np.interp(x, seg[:, 0], seg[:, 1])
    return lut


_JET_LUT = _build_jet_lut()


def jet(values) -> np.ndarray:
    """Matplotlib's jet colormap: values in [0, 1] (clipped) -> RGB floats in [0, 1].

    Returns:
        float64 array of shape ``values.shape + (3,)``.
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    idx = np.minimum((v * _LUT_SIZE).astype(np.int64), _LUT_SIZE - 1)
    return _JET_LUT[idx]


def _axis_weights(n_in: int, n_out: int):
    # Pixel-centre mapping: out pixel centre (o + 0.5) lands at in (o + 0.5) * n_in / n_out.
    pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    pos = np.clip(pos, 0.0, n_in - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = pos - i0
    return i0, i1, w


def resize_bilinear(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a 2-D float array (``align_corners=False``, edges clamped)."""
    a = np.asarray(a, dtype=np.float64)
    r0, r1, wr = _axis_weights(a.shape[0], height)
    c0, c1, wc = _axis_weights(a.shape[1], width)
    rows = a[r0] * (1.0 - wr)[:, None] + a[r1] * wr[:, None]
    return rows[:, c0] * (1.0 - wc)[None, :] + rows[:, c1] * wc[None, :]


def _check_image(image) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must be [H, W, 3] (or [H, W], [H, W, 1], [H, W, 4]), got shape {img.shape}")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    img = img[:, :, :3]
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"image must be non-empty, got shape {img.shape}")
    if img.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {img.dtype}")
    return img


def overlay_rgb(image, channel_map, lo, hi, alpha=0.6) -> np.ndarray:
    """Eq. 2 before PNG encoding.

    Args:
        image: uint8 ``[H, W, 3]`` input image (``[H, W]`` grayscale and
            ``[H, W, 4]`` RGBA are accepted; alpha is dropped).
        channel_map: float ``[h, w]`` raw activation map of one channel.
        lo, hi: the layer's global minimum and maximum (``hi >= lo``); when
            equal the map is all zeros after normalization.
        alpha: weight of the colour map, in [0, 1] (paper default 0.6).

    Returns:
        uint8 ``[H, W, 3]``.
    """
    img = _check_image(image)
    m = np.asarray(channel_map, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"channel_map must be a non-empty 2-D array [h, w], got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError("channel_map contains NaN or infinite values")
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)) or not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    lo, hi = float(lo), float(hi)
    if hi < lo:
        raise ValueError(f"hi must be >= lo, got lo={lo:g}, hi={hi:g}")
    alpha = check_fraction(alpha, "alpha")

    norm = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
    norm = np.clip(norm, 0.0, 1.0)
    h, w = img.shape[:2]
    if norm.shape != (h, w):
        norm = resize_bilinear(norm, h, w)
    colored = jet(norm) * 255.0
    out = alpha * colored + (1.0 - alpha) * img.astype(np.float64)
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def overlay_png(image, channel_map, lo, hi, alpha=0.6) -> bytes:
    """Eq. 2 overlay encoded as PNG bytes (see ``overlay_rgb``)."""
    from PIL import Image

    rgb = overlay_rgb(image, channel_map, lo, hi, alpha=alpha)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()
