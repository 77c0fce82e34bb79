"""The ``otsu`` summaries the real writer logs, against ``skimage.filters.threshold_otsu``.

A tiny CNN on scikit-learn digits is logged by `ChannelExplorerWriter`; the
``pre/otsu`` summaries are read back from the event files (TensorBoard's
multiplexer, no plugin code) and compared, channel by channel, with
``sum(|I|[|I| > T])`` for ``T = threshold_otsu(|I|)`` on the same layer outputs
recomputed with torch.

Ties are derived, not allowed for in bulk. A channel may legitimately differ
from skimage's choice only when another split is equally good:

* a variance tie: another bin's between-class variance equals the maximum
  (to 1e-6 relative), and splitting there sums a different set of pixels;
* a bin-edge value: a pixel within float32 rounding of a bin edge falls in
  the other bin when binned as the writer documents it,
  ``(v - min) / (max - min) * bins`` in float32 (numpy corrects those), and
  that histogram's best split differs.

For every other channel the logged value must equal skimage's sum (rtol 1e-5);
for a tie channel it must equal the sum at one of its equally good splits.
A constant channel (no contrast) logs its whole ``sum(|I|)``, as documented.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from skimage.filters import threshold_otsu

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import encoding, metadata

BINS = 256


def _variance(counts: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """skimage's between-class variance for a split after each bin but the last."""
    w1 = np.cumsum(counts)
    w2 = np.cumsum(counts[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = np.cumsum(counts * centers) / w1
        m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
        var = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    return np.nan_to_num(var, nan=-1.0)


def _best_splits(counts: np.ndarray, centers: np.ndarray) -> list[float]:
    """Thresholds of the optimal partitions: per partition tying for the maximum (to float64
    rounding), the center of its first bin, as the first-maximum rule of skimage and the writer picks.

    Bins of one gap between occupied bins give the same partition (and variance), so only a tie
    between different partitions is a real tie.
    """
    var = _variance(counts, centers)
    best = np.flatnonzero(var >= var.max() * (1 - 1e-9))
    w1 = np.cumsum(counts)[best]
    return [float(centers[best[np.flatnonzero(w1 == w)[0]]]) for w in np.unique(w1)]


def candidate_sums(m: np.ndarray, bins: int = BINS) -> tuple[float, set]:
    """skimage's Otsu sum of one channel ``|I|`` (float32), and the sums at every equally good split.

    Returns:
        ``(reference, candidates)``: ``sum(m[m > threshold_otsu(m)])`` and the
        set of sums (rounded to 6 significant digits) of the partitions that
        tie with it, its own included.
    """
    m = m.ravel()
    if m.max() == m.min():
        whole = float(m.astype(np.float64).sum())
        return whole, {float(f"{whole:.6g}")}
    t = threshold_otsu(m, nbins=bins)
    ref = float(m[m > t].astype(np.float64).sum())
    counts, edges = np.histogram(m, bins=bins, range=(m.min(), m.max()))
    centers = (edges[:-1] + edges[1:]) / 2
    splits = _best_splits(counts, centers)
    # The writer's own binning, in float32 as documented; where it moves a pixel, its best split too.
    lo, span = np.float32(m.min()), np.float32(m.max()) - np.float32(m.min())
    idx = np.clip(np.floor((m - lo) / span * np.float32(bins)).astype(np.int64), 0, bins - 1)
    alt = np.bincount(idx, minlength=bins)
    if not np.array_equal(alt, counts):
        splits += _best_splits(alt, centers)
    sums = {float(f"{float(m[m > s].astype(np.float64).sum()):.6g}") for s in splits}
    sums.add(float(f"{ref:.6g}"))
    return ref, sums


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """(layer outputs recomputed with torch, logged ``pre/otsu`` matrices) of a real writer run."""
    import torch
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    if not fx.writer_available():
        pytest.skip("writer.py is not available")
    root = str(tmp_path_factory.mktemp("otsu_logdir"))
    run = fx.write_torch_run(root, "otsu", steps=(0,), n_inputs=40)
    model, x = run["model"], run["x"]
    with torch.no_grad():
        out0 = model[0](x)
        out2 = model[2](model[1](out0))
    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={metadata.PLUGIN_NAME: 0})
    mux.AddRunsFromDirectory(root)
    mux.Reload()

    def otsu_matrix(layer):
        ev = mux.Tensors("otsu", metadata.layer_tag(layer))[-1]
        return encoding.decode_npz(ev.tensor_proto.string_val[0])[metadata.summary_key("pre", "otsu")]

    assert os.path.isdir(os.path.join(root, "otsu"))
    return {"0": (out0.numpy(), otsu_matrix("0")), "2": (out2.numpy(), otsu_matrix("2"))}


@pytest.mark.parametrize("layer", ["0", "2"])
def test_logged_otsu_matches_skimage_except_derived_ties(logged, layer):
    activations, got = logged[layer]
    a = np.abs(activations).astype(np.float32)
    n, c = a.shape[:2]
    assert got.shape == (n, c)
    ties, mismatched = [], []
    for i in range(n):
        for j in range(c):
            ref, sums = candidate_sums(a[i, j])
            value = float(got[i, j])
            if len(sums) > 1:
                ties.append((i, j))
                if not any(abs(value - s) <= 1e-5 * max(abs(s), 1e-6) + 1e-6 for s in sums):
                    mismatched.append((i, j, value, sorted(sums)))
            elif abs(value - ref) > 1e-5 * abs(ref) + 1e-6:
                mismatched.append((i, j, value, ref))
    assert not mismatched, f"{len(mismatched)} channels differ from skimage: {mismatched[:5]}"
    print(f"\nlayer {layer}: {n * c} channels, {len(ties)} derived ties")
    # The comparison is mostly strict: ties are the exception on these maps.
    assert len(ties) < 0.1 * n * c, f"{len(ties)} of {n * c} channels tie"


def test_candidate_sums_finds_a_variance_tie():
    """Three bins, one pixel each (centers 1/3, 1, 5/3): both splits have variance 2, a real tie.

    skimage takes the first (threshold 1/3: sum 1 + 2 = 3); the other split sums 2. A gap of empty
    bins is not a tie: the pixels 0, 0, 2, 2 on 8 bins have one optimal partition.
    """
    ref, sums = candidate_sums(np.array([0, 1, 2], np.float32), bins=3)
    assert ref == pytest.approx(3.0) and sums == {2.0, 3.0}
    ref, sums = candidate_sums(np.array([0, 0, 2, 2], np.float32), bins=8)
    assert ref == pytest.approx(4.0) and sums == {4.0}
