"""Batched per-channel summaries of activations (paper Sect. V-C).

Every function here works on all ``N * C`` channel maps of a ``[N, C, H, W]``
activation at once, on the activation's own device, with no Python loop per
channel. Large activations are processed in chunks of channels so temporary
memory stays bounded (``memory_budget`` bytes, 64 MiB by default).

On the CPU a fused numba kernel (`_summaries_cpu`) computes all four
summaries while each channel map sits in cache, about ten times faster than
the eager torch path; other devices (CUDA, MPS) use the batched torch path.
Both give the same values (tested on both paths).

Definitions, on the absolute values ``|I|`` of one channel map ``I`` (H x W):

* ``l2``: Frobenius norm ``sqrt(sum |I|^2)`` (not the matrix 2-norm);
* ``otsu``: ``sum(|I|[|I| > T])`` with ``T`` the Otsu threshold of that
  channel's ``|I|`` values (see :func:`summarize` for the exact definition);
* ``mean``: mean of ``|I|``;
* ``max``: max of ``|I|``.

The module is a little over 400 lines: the batched torch path (CUDA/MPS) and its
chunking and validation belong together; the CPU kernel lives in `_summaries_cpu`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS

__all__ = ["summarize", "otsu_thresholds", "filter_norms", "warm_cpu_kernel", "SUMMARY_FUNCTIONS"]

_DEFAULT_MEMORY_BUDGET = 64 * 2**20

# Temporaries per activation element in the Otsu path: the float32 |x| copy,
# the float32 scaled values, the int32 bin indices (and later a float32
# masked copy once the indices are freed).
_BYTES_PER_ELEMENT_OTSU = 12
_BYTES_PER_ELEMENT_PLAIN = 4
# Temporaries per channel of the [rows, bins] histogram statistics (counts,
# cumulative sums, numerator, denominator; int64/float64).
_HIST_TEMPORARIES = 5
# Extra temporaries per element of the sort path (sorted values and int64
# indices, cumulative sums, numerator, denominator).
_BYTES_PER_ELEMENT_SORT = 44


def _validate(x, functions, bins, memory_budget):
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape [N, C, H, W], got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"x must have a floating dtype, got {x.dtype}")
    if x.shape[2] * x.shape[3] == 0 and x.shape[0] * x.shape[1] > 0:
        raise ValueError(f"x has empty channel maps: shape {tuple(x.shape)}")
    if isinstance(functions, str):
        functions = (functions,)
    functions = tuple(functions)
    if not functions:
        raise ValueError("functions must name at least one summary function")
    unknown = [f for f in functions if f not in SUMMARY_FUNCTIONS]
    if unknown:
        raise ValueError(
            f"unknown summary functions {unknown}; expected a subset of {SUMMARY_FUNCTIONS}"
        )
    if len(set(functions)) != len(functions):
        raise ValueError(f"functions contains duplicates: {functions}")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"bins must be an int >= 2, got {bins!r}")
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1:
        raise ValueError(f"memory_budget must be a positive int, got {memory_budget!r}")
    return functions


def _float_dtype(device: torch.device) -> torch.dtype:
    # float64 keeps the argmax exact; MPS has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


def _bin_indices(a: torch.Tensor, amin: torch.Tensor, rng_safe: torch.Tensor, bins: int) -> torch.Tensor:
    """Histogram bin of every value, as ``np.histogram`` computes it (int32)."""
    # Same float32 operation order as np.histogram: (v - min) / range * bins.
    t = a - amin[:, None]
    t.div_(rng_safe[:, None]).mul_(bins)
    idx = t.to(torch.int32)  # truncation == floor for values >= 0
    del t
    return idx.clamp_(0, bins - 1)


def _best_bin_hist(idx: torch.Tensor, bins: int) -> torch.Tensor:
    """Otsu bin of each row from a dense ``[rows, bins]`` histogram."""
    rows = idx.shape[0]
    flat = idx + torch.arange(rows, device=idx.device, dtype=torch.int32).mul_(bins)[:, None]
    counts = torch.bincount(flat.view(-1), minlength=rows * bins).view(rows, bins)
    del flat
    odd = torch.arange(1, 2 * bins, 2, device=idx.device, dtype=torch.int64)
    w1 = counts.cumsum(1)
    q1 = counts.mul_(odd).cumsum(1)
    del counts
    return _argmax_variance(w1[:, :-1], q1[:, :-1], w1[:, -1:], q1[:, -1:], None)


def _best_bin_sorted(idx: torch.Tensor) -> torch.Tensor:
    """Otsu bin of each row from its sorted bin indices (for maps smaller
    than the histogram: the between-class variance is constant over empty
    bins, so only the last position of each occupied bin is a candidate)."""
    p = idx.shape[1]
    sb = torch.sort(idx, dim=1).values
    q1 = sb.to(torch.int64).mul_(2).add_(1).cumsum(1)
    w1 = torch.arange(1, p + 1, device=idx.device, dtype=torch.int64).expand(idx.shape[0], p)
    ends = sb[:, :-1] != sb[:, 1:]
    pos = _argmax_variance(w1[:, :-1], q1[:, :-1], w1[:, -1:], q1[:, -1:], ends)
    return sb.gather(1, pos[:, None]).squeeze(1)


def _argmax_variance(w1, q1, w_total, q_total, valid) -> torch.Tensor:
    """First argmax of the between-class variance along dim 1.

    With ideal bin centers ``min + (k + 1/2) * step`` the Otsu criterion
    ``w1 * w2 * (m1 - m2)^2`` equals ``step^2 / 4 * num^2 / (w1 * (W - w1))``
    with ``num = W * q1 - Q * w1``, where ``w1`` is the cumulative count and
    ``q1`` the cumulative sum of ``count * (2k + 1)``: all integers, so the
    argmax is exact up to the final float64 rounding and the same on every
    device (no dependence on summation order).
    """
    fdt = _float_dtype(w1.device)
    num = (q1 * w_total).sub_(w1 * q_total).to(fdt).square_()
    den = (w_total - w1).mul_(w1).to(fdt)
    var = num.div_(den)  # NaN only for constant rows (0/0), handled by the caller
    if valid is not None:
        var.masked_fill_(~valid, -1.0)
    return var.argmax(1)


def _otsu_rows(a: torch.Tensor, amin: torch.Tensor, amax: torch.Tensor, bins: int) -> torch.Tensor:
    """Otsu thresholds of the rows of ``a`` (float32 ``[rows, P]``, values >= 0).

    The threshold is the center of the chosen bin computed from float32
    edges as ``np.linspace`` makes them for float32 data, so it matches
    ``skimage.filters.threshold_otsu`` bit for bit when the bin agrees.
    """
    if a.shape[1] == 1:
        return amin.clone()  # 1x1 maps are constant
    rng = amax - amin
    constant = rng <= 0
    rng_safe = torch.where(constant, torch.ones_like(rng), rng)
    idx = _bin_indices(a, amin, rng_safe, bins)
    if a.shape[1] * 4 <= bins:
        k = _best_bin_sorted(idx)
    else:
        k = _best_bin_hist(idx, bins)
    del idx
    # Edges e_k = k * step + min in float32 (np.linspace order), last = max.
    step = rng / bins
    kf = k.to(torch.float32)
    lo = kf * step + amin
    hi = torch.where(k + 1 >= bins, amax, (kf + 1) * step + amin)
    thr = (lo + hi) / 2
    # Constant rows: T is the constant value (skimage returns the pixel value).
    return torch.where(constant, amin, thr)


def _summarize_rows(a: torch.Tensor, functions, bins: int) -> dict[str, torch.Tensor]:
    """Summaries of the rows of ``a`` (float32 ``[rows, P]``, |x|, finite)."""
    out = {}
    need_otsu = "otsu" in functions
    if need_otsu or "max" in functions:
        amin, amax = torch.aminmax(a, dim=1)
        if "max" in functions:
            out["max"] = amax
    if "mean" in functions:
        out["mean"] = a.mean(1)
    if "l2" in functions:
        out["l2"] = torch.linalg.vector_norm(a, dim=1)
    if need_otsu:
        thr = _otsu_rows(a, amin, amax, bins)
        otsu = torch.where(a > thr[:, None], a, 0.0).sum(1)
        # No contrast, no background: a constant map is all foreground.
        out["otsu"] = torch.where(amax > amin, otsu, a.sum(1))

    # Overflow guard: sums of squares (or of huge values) can exceed float32
    # even when every value is finite. Recompute those rows on values scaled
    # by the row max; results beyond float32 range saturate at its max.
    bad = None
    for name in ("l2", "mean", "otsu"):
        if name in out:
            nf = ~torch.isfinite(out[name])
            bad = nf if bad is None else bad | nf
    if bad is not None and bool(bad.any()):
        rows = bad.nonzero().squeeze(1)
        sub = a.index_select(0, rows)
        scale = sub.amax(1).clamp_min(torch.finfo(torch.float32).tiny)
        scaled = sub / scale[:, None]
        fmax = torch.finfo(torch.float32).max
        fdt = _float_dtype(a.device)
        if "l2" in out:
            v = torch.linalg.vector_norm(scaled, dim=1).to(fdt) * scale.to(fdt)
            out["l2"][rows] = v.clamp(max=fmax).to(torch.float32)
        if "mean" in out:
            v = scaled.mean(1).to(fdt) * scale.to(fdt)
            out["mean"][rows] = v.clamp(max=fmax).to(torch.float32)
        if "otsu" in out:
            t = thr.index_select(0, rows)
            v = torch.where(sub > t[:, None], scaled, 0.0).sum(1).to(fdt)
            out["otsu"][rows] = (v * scale.to(fdt)).clamp(max=fmax).to(torch.float32)
    return out


def _chunks(n: int, c: int, rows_per_chunk: int):
    """Yields (n0, n1, c0, c1) blocks of at most ``rows_per_chunk`` channels.

    Blocks are whole samples when a sample fits, else channel ranges within
    one sample, so each block is a strided view of x (no full copy).
    """
    if rows_per_chunk >= c:
        k = max(1, rows_per_chunk // c)
        for n0 in range(0, n, k):
            yield n0, min(n, n0 + k), 0, c
    else:
        for n0 in range(n):
            for c0 in range(0, c, rows_per_chunk):
                yield n0, n0 + 1, c0, min(c, c0 + rows_per_chunk)


def summarize(
    x: torch.Tensor,
    functions: Sequence[str] = SUMMARY_FUNCTIONS,
    bins: int = 256,
    *,
    memory_budget: int = _DEFAULT_MEMORY_BUDGET,
) -> dict[str, torch.Tensor]:
    """Summarizes every channel map of an activation by scalars.

    All values are taken on ``|x|`` and computed in float32, batched over all
    ``N * C`` channels, on ``x.device``. The input is never modified (it is
    copied chunk by chunk into a float32 buffer) and no autograd graph is
    recorded, so this is safe inside a forward hook.

    Otsu threshold ``T`` of a channel: the threshold of
    ``skimage.filters.threshold_otsu(|I|, nbins=bins)`` on float32 data, i.e.
    the center of the bin maximizing the between-class variance of the
    ``bins``-bin histogram of ``|I|`` over ``[min |I|, max |I|]`` (first
    maximum on ties). ``otsu`` is the sum of the pixels strictly greater than
    ``T``. A constant channel (1x1 maps included) has ``T`` equal to its
    value, as in skimage; having no contrast it has no background for the
    threshold to remove, so its ``otsu`` is the whole ``sum(|I|)`` (``0`` for
    an all-zero channel). This keeps the paper's default summary meaningful
    on globally pooled 1x1 layers. Agreement with the
    per-channel skimage reference: the threshold is the same bin center
    except for values within ~1 ulp of a bin edge (numpy corrects those; we do
    not); sums agree to float32 summation error (rtol 1e-5 in the tests).

    Non-finite inputs: NaN and +-Inf are counted as ``0`` (they carry no
    usable magnitude), so every summary is finite. Finite values whose sums
    overflow float32 are recomputed with per-channel scaling, and results
    beyond the float32 range saturate at ``torch.finfo(torch.float32).max``.

    Args:
        x: Activation ``[N, C, H, W]``, any floating dtype, device and memory
            format (channels_last included).
        functions: Names of the summaries to compute, a subset of
            ``("l2", "otsu", "mean", "max")``.
        bins: Number of histogram bins of the Otsu threshold.
        memory_budget: Upper bound, in bytes, of the temporaries of one chunk
            (one channel's temporaries are always allowed).

    Returns:
        Dict from each requested name to a float32 tensor ``[N, C]`` on
        ``x.device``, in the order of ``functions``.

    Raises:
        ValueError: If ``x`` is not a 4-D floating tensor with non-empty maps,
            or ``functions``/``bins``/``memory_budget`` are invalid.
    """
    functions = _validate(x, functions, bins, memory_budget)
    n, c, h, w = x.shape
    p = h * w
    dev = x.device
    result = {f: torch.empty(n * c, dtype=torch.float32, device=dev) for f in functions}
    if n * c == 0:
        return {f: v.view(n, c) for f, v in result.items()}

    if dev.type == "cpu" and _cpu_kernel() is not None:
        return _summarize_cpu(x, functions, bins, memory_budget)

    per_row = p * (_BYTES_PER_ELEMENT_OTSU if "otsu" in functions else _BYTES_PER_ELEMENT_PLAIN)
    if "otsu" in functions:
        if p * 4 <= bins:
            per_row += p * _BYTES_PER_ELEMENT_SORT
        else:
            per_row += bins * 8 * _HIST_TEMPORARIES
    rows_per_chunk = max(1, memory_budget // per_row)

    with torch.no_grad():
        for n0, n1, c0, c1 in _chunks(n, c, rows_per_chunk):
            # One pass: layout (channels_last -> contiguous) and dtype at once.
            buf = torch.empty((n1 - n0, c1 - c0, h, w), dtype=torch.float32, device=dev)
            buf.copy_(x[n0:n1, c0:c1])
            a = buf.view(-1, p)
            torch.nan_to_num_(a, nan=0.0, posinf=0.0, neginf=0.0)
            a.abs_()
            part = _summarize_rows(a, functions, bins)
            del buf, a
            # Flat row index of channel (i, j) is i * c + j.
            if c0 == 0 and c1 == c:
                for f in functions:
                    result[f][n0 * c : n1 * c] = part[f]
            else:
                for f in functions:
                    result[f][n0 * c + c0 : n0 * c + c1] = part[f]
    return {f: result[f].view(n, c) for f in functions}


_CPU_KERNEL = None


def _cpu_kernel():
    """The fused numba kernel, or None where numba is unavailable."""
    global _CPU_KERNEL
    if _CPU_KERNEL is None:
        if os.environ.get("CHANNELEXPLORER_NO_NUMBA"):
            _CPU_KERNEL = False
        else:
            try:
                from tensorboard_plugin_channelexplorer import _summaries_cpu

                _CPU_KERNEL = _summaries_cpu.summarize_cpu
            except ImportError:  # numba missing: the torch path still works
                _CPU_KERNEL = False
    return _CPU_KERNEL or None


def warm_cpu_kernel() -> bool:
    """Imports numba and loads the fused kernel now, on a 1 x 4 array.

    The first call of a numba function loads its compiled code from the
    on-disk cache (or compiles it) and starts numba's thread pool: about
    0.6 s here, which would otherwise land in the first `summarize` call.

    Returns:
        True when the kernel is available and ran, False on the torch path.
    """
    kernel = _cpu_kernel()
    if kernel is None:
        return False
    kernel(np.zeros((1, 4), dtype=np.float32), 2)
    return True


def _summarize_cpu(x, functions, bins, memory_budget):
    """CPU path: the fused kernel of `_summaries_cpu`, chunked by samples."""
    n, c, h, w = x.shape
    kernel = _cpu_kernel()
    out = {f: torch.empty((n, c), dtype=torch.float32) for f in functions}
    # A float32 contiguous tensor is used in place (the kernel only reads);
    # other dtypes or layouts are converted a few samples at a time.
    direct = x.dtype == torch.float32 and x.is_contiguous()
    per_sample = c * h * w * 4
    step = n if direct else max(1, memory_budget // max(1, per_sample))
    with torch.no_grad():
        for n0 in range(0, n, step):
            n1 = min(n, n0 + step)
            part = x[n0:n1].detach()
            if not direct:
                part = part.to(dtype=torch.float32, memory_format=torch.contiguous_format)
            res = kernel(part.numpy().reshape((n1 - n0) * c, h * w), bins)
            for f in functions:
                out[f][n0:n1] = torch.from_numpy(res[f]).view(n1 - n0, c)
    return out


def otsu_thresholds(x: torch.Tensor, bins: int = 256) -> torch.Tensor:
    """Per-channel Otsu thresholds of ``|x|``, as used by :func:`summarize`.

    Args:
        x: Activation ``[N, C, H, W]`` of any floating dtype.
        bins: Number of histogram bins.

    Returns:
        float32 tensor ``[N, C]`` on ``x.device``.

    Raises:
        ValueError: On invalid ``x`` or ``bins``.
    """
    _validate(x, ("otsu",), bins, _DEFAULT_MEMORY_BUDGET)
    n, c, h, w = x.shape
    with torch.no_grad():
        a = torch.empty((n, c, h, w), dtype=torch.float32, device=x.device)
        a.copy_(x)
        a = a.view(n * c, h * w)
        torch.nan_to_num_(a, nan=0.0, posinf=0.0, neginf=0.0)
        a.abs_()
        if n * c == 0:
            return a.new_empty((n, c))
        amin, amax = torch.aminmax(a, dim=1)
        return _otsu_rows(a, amin, amax, bins).view(n, c)


def filter_norms(module: torch.nn.Module) -> torch.Tensor | None:
    """Per-output-channel L2 norm of a module's weight (the paper's edge weight).

    * Convolutions (any dimensionality, subclasses included): Frobenius norm
      of each output channel's filter. For transposed convolutions (weight
      ``[C_in, C_out / groups, *k]``) output channel ``o`` of group ``g``
      uses ``weight[g * C_in/groups : (g + 1) * C_in/groups, o % (C_out/groups)]``.
    * Linear: norm of each weight row.
    * BatchNorm / InstanceNorm / GroupNorm with affine weight: ``|gamma|``.
    * Anything else, or a module without weight: ``None``.

    Args:
        module: The module.

    Returns:
        Detached float32 tensor ``[C_out]`` on the weight's device, or None.
    """
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor) or weight.numel() == 0:
        return None
    with torch.no_grad():
        w = weight.detach().to(torch.float32)
        if isinstance(module, torch.nn.modules.conv._ConvNd):
            if module.transposed:
                groups = module.groups
                cin, cout_g = w.shape[0], w.shape[1]
                sq = w.reshape(groups, cin // groups, cout_g, -1).square().sum(dim=(1, 3))
                return sq.reshape(groups * cout_g).sqrt()
            return torch.linalg.vector_norm(w.reshape(w.shape[0], -1), dim=1)
        if isinstance(module, torch.nn.Linear):
            return torch.linalg.vector_norm(w, dim=1)
        if isinstance(module, (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm)):
            return w.abs().reshape(-1) if w.ndim == 1 else None
    return None
