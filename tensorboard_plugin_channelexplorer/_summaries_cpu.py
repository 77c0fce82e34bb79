"""Fused CPU kernel for the four channel summaries (numba).

On the CPU the summaries are memory-bound: the eager torch path reads every
activation about ten times (copy, abs, bin indices, histogram, masked sum,
norms). This kernel processes one channel map at a time while it sits in the
core's cache: one pass for min/max/sums, one for the Otsu histogram, one for
the thresholded sum, so main memory is read about once. Channels run in
parallel with ``numba.prange``.

The arithmetic matches :mod:`summaries` (float32 bin indices as
``np.histogram`` computes them, an exact integer Otsu criterion, the
threshold at the chosen bin's center), with float64 accumulators, so the
results agree with the torch path to float32 rounding.

numba comes with umap-learn (a core dependency). Importing this module
raises ImportError when numba is missing; callers fall back to torch.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_F32_MAX = float(np.finfo(np.float32).max)
_F32_MAX_F = np.float32(_F32_MAX)


_BLOCK = 64  # rows per parallel task: amortizes the scratch allocations


@numba.njit(parallel=True, cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def summarize_rows(a, bits, bins, l2, otsu, mean, amax):  # pragma: no cover - compiled
    """Fills the four ``[R]`` outputs from the rows of ``a`` (float32 ``[R, P]``;
    ``bits`` is the same memory viewed as int32).

    NaN and +-Inf count as 0, as in the torch path.
    """
    rows, p = a.shape
    fbins = np.float32(bins)
    nblocks = (rows + _BLOCK - 1) // _BLOCK
    for b in numba.prange(nblocks):
        hist = np.zeros(bins, dtype=np.int64)
        ks = np.empty(p, dtype=np.int32)
        pair = np.empty(2, dtype=np.int32)
        pair_f = pair.view(np.float32)
        for r in range(b * _BLOCK, min(rows, (b + 1) * _BLOCK)):
            row = a[r]
            # min/max of |x| on the int32 bit patterns: for non-negative
            # floats their order is the integer order, and integer min/max
            # vectorize where float min/max (NaN-aware) do not. Patterns >=
            # 0x7f800000 are Inf/NaN and count as 0.
            rb = bits[r]
            mnb = np.int32(0x7F800000)
            mxb = np.int32(0)
            for i in range(p):
                bi = rb[i] & np.int32(0x7FFFFFFF)
                bi = bi if bi < np.int32(0x7F800000) else np.int32(0)
                mnb = min(mnb, bi)
                mxb = max(mxb, bi)
            pair[0] = mnb
            pair[1] = mxb
            mn = pair_f[0]
            mx = pair_f[1]
            # Branch-free so LLVM vectorizes it; `v <= FLT_MAX` is False for
            # NaN and +-Inf, which count as 0.
            s = 0.0
            ss = 0.0
            for i in range(p):
                v = abs(row[i])
                v = v if v <= _F32_MAX_F else np.float32(0.0)
                dv = np.float64(v)
                s += dv
                ss += dv * dv
            l2[r] = min(math.sqrt(ss), _F32_MAX)
            mean[r] = s / p
            amax[r] = mx
            if not mx > mn:
                # No contrast, no background: a constant map is all foreground.
                otsu[r] = min(s, _F32_MAX)
                continue
            rng = np.float32(mx - mn)
            # Bin indices in a loop of their own (no scatter), so the float32
            # division vectorizes; then the histogram scatter.
            for i in range(p):
                v = abs(row[i])
                v = v if v <= _F32_MAX_F else np.float32(0.0)
                k = np.int32(np.float32(np.float32(v - mn) / rng) * fbins)
                ks[i] = min(max(k, 0), bins - 1)
            for i in range(p):
                hist[ks[i]] += 1
            total_q = 0
            for k in range(bins):
                total_q += hist[k] * (2 * k + 1)
            # Exact Otsu criterion on integers (see summaries._argmax_variance):
            # w1 cumulative counts, q1 cumulative sum of count * (2k + 1).
            # Empty bins repeat the previous criterion, so they never win the
            # first argmax and are skipped.
            w1 = 0
            q1 = 0
            best = -1.0
            best_k = 0
            for k in range(bins - 1):
                h = hist[k]
                if h == 0:
                    continue
                w1 += h
                q1 += h * (2 * k + 1)
                if w1 == p:
                    break
                num = float(q1 * p - total_q * w1)
                var = num * num / (float(p - w1) * float(w1))
                if var > best:
                    best = var
                    best_k = k
            if p < bins:
                for i in range(p):
                    hist[ks[i]] = 0
            else:
                hist[:] = 0
            step = np.float32(rng / fbins)
            kf = np.float32(best_k)
            lo = np.float32(kf * step + mn)
            if best_k + 1 >= bins:
                hi = mx
            else:
                hi = np.float32(np.float32(kf + np.float32(1.0)) * step + mn)
            thr = np.float32(np.float32(lo + hi) / np.float32(2.0))
            t = 0.0
            for i in range(p):
                v = abs(row[i])
                t += np.float64(v) if (v > thr and v <= _F32_MAX_F) else 0.0
            otsu[r] = min(t, _F32_MAX)


def summarize_cpu(a: np.ndarray, bins: int) -> dict[str, np.ndarray]:
    """Runs the kernel on a C-contiguous float32 ``[R, P]`` array.

    Args:
        a: Channel maps as rows (not modified).
        bins: Otsu histogram bins.

    Returns:
        ``{"l2", "otsu", "mean", "max"}`` -> float32 ``[R]``.
    """
    rows = a.shape[0]
    out = {k: np.empty(rows, dtype=np.float32) for k in ("l2", "otsu", "mean", "max")}
    summarize_rows(a, a.view(np.int32), bins, out["l2"], out["otsu"], out["mean"], out["max"])
    return out
