"""Input thumbnails and compact activation maps.

Thumbnails are small PNGs of the logged inputs (what the tab shows next to
each point). Activation maps are stored for the overlay view (paper Eq. 2):
each channel map is downsampled with adaptive average pooling and quantized to
``uint8`` with the layer's global ``lo``/``hi`` (min/max of the raw activations
over the batch), so ``value = lo + q / 255 * (hi - lo)``.

Only torch, numpy and Pillow are used; nothing here touches TensorBoard.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

__all__ = [
    "DEFAULT_THUMBNAIL_SIDE",
    "DEFAULT_MAP_SIDE",
    "DEFAULT_MAPS_BUDGET_BYTES",
    "thumbnails_png",
    "downsample_maps",
    "finite_range",
    "choose_map_sizes",
    "quantize_maps",
    "dequantize_maps",
]

DEFAULT_THUMBNAIL_SIDE = 64
# Largest side of a stored activation map: enough to see where a channel
# fires, small enough that all layers of a few hundred inputs fit the budget.
DEFAULT_MAP_SIDE = 16
# Bytes of uint8 maps per step over all layers (before zip compression).
DEFAULT_MAPS_BUDGET_BYTES = 8 * 2**20


def _target_size(h: int, w: int, max_side: int) -> tuple[int, int]:
    """Size that fits ``max_side`` keeping the aspect ratio (never upscales)."""
    if max(h, w) <= max_side:
        return h, w
    scale = max_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def thumbnails_png(images: torch.Tensor, max_side: int = DEFAULT_THUMBNAIL_SIDE) -> list[bytes]:
    """Encodes each input as a small PNG.

    Each image is downsampled (area average) so its longer side is at most
    ``max_side``, then mapped to ``0..255`` with one scaling shared by all its
    colour channels, so hues stay true: the range ``[min(0, lo), max(1, hi)]``
    of the image's values (images in ``[0, 1]`` are shown exactly as they
    are; other ranges, e.g. normalized inputs, are stretched as a whole). One
    channel gives a grayscale PNG, three channels an RGB PNG, any other
    channel count a grayscale PNG of the first channel.

    Args:
        images: ``[N, C, H, W]`` tensor of any floating or integer dtype,
            device and memory format.
        max_side: Longest side of a thumbnail in pixels.

    Returns:
        N PNG byte strings, in input order.

    Raises:
        ValueError: If ``images`` is not 4-D or ``max_side < 1``.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a [N, C, H, W] tensor, got {getattr(images, 'shape', type(images))}")
    if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 1:
        raise ValueError(f"max_side must be a positive int, got {max_side!r}")
    n, c, h, w = images.shape
    if n == 0:
        return []
    with torch.no_grad():
        x = images[:, :3] if c == 3 else images[:, :1]
        x = x.detach().to(torch.float32)
        th, tw = _target_size(h, w, max_side)
        if (th, tw) != (h, w):
            x = F.adaptive_avg_pool2d(x, (th, tw))
        flat = x.reshape(n, x.shape[1], -1)
        flat = torch.nan_to_num(flat, nan=0.0, posinf=0.0, neginf=0.0)
        # One range per image, not per channel: per-channel stretching shifts the colours.
        lo = flat.amin(dim=(1, 2), keepdim=True).clamp_max(0.0)
        hi = flat.amax(dim=(1, 2), keepdim=True).clamp_min(1.0)
        span = (hi - lo).clamp_min(1e-12)
        q = ((flat - lo) / span * 255.0).round_().clamp_(0, 255).to(torch.uint8)
        q = q.reshape(n, x.shape[1], th, tw).cpu().numpy()
    out = []
    for img in q:
        if img.shape[0] == 3:
            pil = Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0)))
        else:
            pil = Image.fromarray(np.ascontiguousarray(img[0]))
        buf = io.BytesIO()
        pil.save(buf, format="PNG", compress_level=6)
        out.append(buf.getvalue())
    return out


def downsample_maps(
    x: torch.Tensor, size: tuple[int, int], count: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Downsamples activation maps and returns the raw global range.

    Args:
        x: Activation ``[N, C, H, W]`` (any floating dtype/device/layout).
        size: Target ``(h, w)``.
        count: Only the first ``count`` inputs are pooled (all when None);
            the range is always over the whole batch.

    Returns:
        ``(maps, lo, hi)``: float32 ``[count, C, h, w]`` area averages on
        ``x.device`` (a copy, safe from later in-place ops), and 0-d float32
        tensors with the min and max of the raw activations (the averages lie
        within). Callers handle non-finite ranges (see `finite_range`).
    """
    with torch.no_grad():
        x = x.detach()
        part = x if count is None else x[:count]
        if x.numel() == 0:
            zero = torch.zeros((), dtype=torch.float32, device=x.device)
            return torch.zeros((part.shape[0], x.shape[1], *size), device=x.device), zero, zero
        lo, hi = torch.aminmax(x)
        if tuple(size) == tuple(x.shape[2:]):
            # Copy: the caller may run before an in-place nonlinearity.
            maps = part.to(torch.float32, memory_format=torch.contiguous_format, copy=True)
        else:
            # Pool in the activation's dtype (less memory traffic), then widen.
            maps = F.adaptive_avg_pool2d(part, size).to(torch.float32, memory_format=torch.contiguous_format)
        return maps, lo.to(torch.float32), hi.to(torch.float32)


def finite_range(maps: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, float, float]:
    """Replaces non-finite maps values by 0 and makes ``lo``/``hi`` finite.

    Used when the raw activations held NaN/Inf (their global min/max is then
    not finite): the range falls back to the finite values of the maps.
    """
    if math.isfinite(lo) and math.isfinite(hi) and np.isfinite(maps).all():
        return maps, lo, hi
    maps = np.nan_to_num(maps, nan=0.0, posinf=0.0, neginf=0.0)
    if maps.size == 0:
        return maps, 0.0, 0.0
    lo2 = lo if math.isfinite(lo) else float(maps.min())
    hi2 = hi if math.isfinite(hi) else float(maps.max())
    return maps, min(lo2, float(maps.min())), max(hi2, float(maps.max()))


def choose_map_sizes(
    shapes: dict[str, Sequence[int]],
    n_inputs: int,
    budget_bytes: int = DEFAULT_MAPS_BUDGET_BYTES,
    max_side: int = DEFAULT_MAP_SIDE,
) -> tuple[dict[str, tuple[int, int]], int]:
    """Picks one map size for all layers so the uint8 maps fit the budget.

    The largest common side cap ``s <= max_side`` is chosen so that
    ``sum_l C_l * min(H_l, s) * min(W_l, s) * n_inputs <= budget_bytes``.
    When even ``1 x 1`` maps of every input do not fit, maps are kept at
    ``1 x 1`` for the first ``M = budget // sum_l C_l`` inputs only.

    Args:
        shapes: layer name -> ``(C, H, W)``.
        n_inputs: Number of inputs expected at the step.
        budget_bytes: Byte budget of all uint8 maps of the step.
        max_side: Upper bound of the side.

    Returns:
        ``(sizes, m)``: layer -> ``(h, w)``, and how many inputs get maps
        (``m == n_inputs`` unless the budget is too small; may be 0).
    """
    if n_inputs <= 0 or not shapes:
        return {k: (min(v[1], max_side), min(v[2], max_side)) for k, v in shapes.items()}, max(n_inputs, 0)

    def cost(s):
        return sum(c * min(h, s) * min(w, s) for c, h, w in shapes.values())

    best = 0
    for s in range(max(1, max_side), 0, -1):
        if cost(s) * n_inputs <= budget_bytes:
            best = s
            break
    if best:
        return {k: (min(h, best), min(w, best)) for k, (c, h, w) in shapes.items()}, n_inputs
    m = int(budget_bytes // max(1, cost(1)))
    return {k: (1, 1) for k in shapes}, min(m, n_inputs)


def quantize_maps(maps: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Quantizes float maps to uint8 with ``q = round((v - lo) / (hi - lo) * 255)``."""
    maps = np.asarray(maps, dtype=np.float32)
    span = float(hi) - float(lo)
    if not math.isfinite(span) or span <= 0:
        return np.zeros(maps.shape, dtype=np.uint8)
    q = (maps - np.float32(lo)) * np.float32(255.0 / span)
    return np.clip(np.rint(q), 0, 255).astype(np.uint8)


def dequantize_maps(q: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Inverse of `quantize_maps` (up to half a quantization step)."""
    return np.float32(lo) + np.asarray(q, dtype=np.float32) / np.float32(255.0) * np.float32(float(hi) - float(lo))
