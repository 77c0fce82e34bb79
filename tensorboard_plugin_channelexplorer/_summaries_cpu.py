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


# De Bruijn table: index of the lowest set bit of a uint64 (count of trailing zeros).
_DEBRUIJN = np.array(
    [0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4, 62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30,
     24, 18, 12, 5, 63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31,
     10, 25, 14, 19, 9, 13, 8, 7, 6],
    dtype=np.int64,
)
_DEBRUIJN_MUL = np.uint64(0x03F79D71B4CB0A89)


@numba.njit(cache=True, nogil=True)
def _otsu_sparse(ks, p, hist, occ, total_q):  # pragma: no cover - compiled
    """Otsu bin of a small map (fewer pixels than bins): visits only the
    occupied bins, in order, through a bitmap; resets ``hist`` and ``occ``."""
    for i in range(p):
        k = ks[i]
        hist[k] += 1
        occ[k >> 6] |= np.uint64(1) << np.uint64(k & 63)
    w1 = 0
    q1 = 0
    best = -1.0
    best_k = 0
    done = False
    for wi in range(occ.shape[0]):
        word = occ[wi]
        occ[wi] = np.uint64(0)
        while word != np.uint64(0) and not done:
            low = word & (~word + np.uint64(1))
            word ^= low
            k = wi * 64 + _DEBRUIJN[np.int64(((low * _DEBRUIJN_MUL) >> np.uint64(58)) & np.uint64(63))]
            h = hist[k]
            w1 += h
            q1 += h * (2 * k + 1)
            if w1 == p:
                done = True
                break
            num = float(q1 * p - total_q * w1)
            var = num * num / (float(p - w1) * float(w1))
            if var > best:
                best = var
                best_k = k
    for i in range(p):
        hist[ks[i]] = 0
    return best_k


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
        occ = np.zeros((bins + 63) // 64, dtype=np.uint64)
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
            if p * 4 <= bins:
                total_q = 0
                for i in range(p):
                    total_q += 2 * ks[i] + 1
                best_k = _otsu_sparse(ks, p, hist, occ, total_q)
            else:
                for i in range(p):
                    hist[ks[i]] += 1
                total_q = 0
                for k in range(bins):
                    total_q += hist[k] * (2 * k + 1)
                # Exact Otsu criterion on integers (see summaries._argmax_variance):
                # w1 cumulative counts, q1 cumulative sum of count * (2k + 1).
                # Empty bins repeat the previous criterion, so they never win
                # the first argmax and are skipped.
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
