"""Tests of the batched channel summaries and filter norms.

The Otsu reference is ``skimage.filters.threshold_otsu`` applied channel by
channel (independent of our batched histogram code). Tolerances: thresholds
are compared exactly; where they differ, both must be (near-)ties of
skimage's own between-class variance (relative 1e-6), which happens only
when float32 rounding of skimage's bin centers breaks an exact tie. Sums are
compared with rtol 1e-5 (float32 summation order).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.filters import threshold_otsu

from tensorboard_plugin_channelexplorer import summaries
from tensorboard_plugin_channelexplorer.summaries import filter_norms, otsu_thresholds, summarize


@pytest.fixture(autouse=True, params=["fused-cpu", "torch"])
def summary_path(request, monkeypatch):
    """Runs every test on both CPU paths: the fused numba kernel and eager torch."""
    if request.param == "torch":
        monkeypatch.setattr(summaries, "_CPU_KERNEL", False)
    else:
        assert summaries._cpu_kernel() is not None, "numba kernel unavailable"
    return request.param


def _skimage_variance(values: np.ndarray, nbins: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """skimage's between-class variance per candidate bin and its bin centers."""
    counts, edges = np.histogram(values.ravel(), bins=nbins, range=(values.min(), values.max()))
    centers = (edges[:-1] + edges[1:]) / 2
    w1 = np.cumsum(counts)
    w2 = np.cumsum(counts[::-1])[::-1]
    m1 = np.cumsum(counts * centers) / w1
    m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
    return w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2, centers


def _reference(x: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-channel loop over numpy/skimage: the independent reference."""
    a = np.abs(x.detach().float().cpu().numpy())
    n, c = a.shape[:2]
    out = {k: np.zeros((n, c)) for k in ("l2", "otsu", "mean", "max", "thr")}
    for i in range(n):
        for j in range(c):
            m = a[i, j]
            t = threshold_otsu(m)
            m64 = m.astype(np.float64)
            out["thr"][i, j] = t
            out["otsu"][i, j] = m64[m > t].sum()
            out["l2"][i, j] = np.sqrt((m64**2).sum())
            out["mean"][i, j] = m64.mean()
            out["max"][i, j] = m64.max()
    return out


def _check_against_reference(x: torch.Tensor, **kwargs) -> None:
    ref = _reference(x)
    got = {k: v.numpy() for k, v in summarize(x, **kwargs).items()}
    thr = otsu_thresholds(x).numpy()
    for k in ("l2", "mean", "max"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
    same = thr == ref["thr"].astype(np.float32)
    assert same.mean() >= 0.99, f"only {same.mean():.4f} of thresholds agree with skimage"
    np.testing.assert_allclose(got["otsu"][same], ref["otsu"][same], rtol=1e-5, atol=1e-6)
    a = np.abs(x.float().numpy())
    for i, j in np.argwhere(~same):
        var, centers = _skimage_variance(a[i, j])
        ours = int(np.argmin(np.abs(centers - thr[i, j])))
        assert var[ours] >= var.max() * (1 - 1e-6), "threshold differs from skimage without a tie"


# --------------------------------------------------------------------- golden


def test_golden_2x2():
    x = torch.tensor([[[[1.0, -2.0], [3.0, -4.0]]]])
    s = summarize(x)
    assert list(s) == ["l2", "otsu", "mean", "max"]
    assert s["l2"].item() == pytest.approx(math.sqrt(30.0), rel=1e-6)
    assert s["mean"].item() == pytest.approx(2.5)
    assert s["max"].item() == pytest.approx(4.0)
    # Otsu splits {1, 2} | {3, 4}: T is the center of the bin holding 2.
    assert s["otsu"].item() == pytest.approx(7.0)
    t = otsu_thresholds(x).item()
    assert 2.0 <= t < 3.0
    assert t == pytest.approx(float(threshold_otsu(np.array([1, 2, 3, 4], np.float32))))


def test_l2_is_frobenius_not_spectral():
    # For the identity the matrix 2-norm is 1 while the Frobenius norm is sqrt(2).
    eye = torch.eye(2).reshape(1, 1, 2, 2)
    assert summarize(eye, ("l2",))["l2"].item() == pytest.approx(math.sqrt(2.0), rel=1e-6)
    x = torch.randn(3, 5, 6, 7)
    expected = torch.linalg.vector_norm(x, dim=(2, 3))
    torch.testing.assert_close(summarize(x, ("l2",))["l2"], expected, rtol=1e-5, atol=1e-6)
    spectral = torch.linalg.matrix_norm(x, ord=2)
    assert not torch.allclose(summarize(x, ("l2",))["l2"], spectral, rtol=1e-3)


def test_functions_subset_and_order():
    x = torch.randn(2, 3, 4, 4)
    s = summarize(x, functions=("max", "l2"))
    assert list(s) == ["max", "l2"]
    full = summarize(x)
    torch.testing.assert_close(s["max"], full["max"])
    torch.testing.assert_close(s["l2"], full["l2"])


# --------------------------------------------------------- Otsu vs skimage


@pytest.mark.parametrize("hw", [(7, 7), (8, 8), (16, 16), (5, 12)])
def test_random_matches_skimage(hw):
    torch.manual_seed(hw[0] * 100 + hw[1])
    _check_against_reference(torch.randn(4, 24, *hw))


def test_bimodal_and_relu_like_match_skimage():
    torch.manual_seed(1)
    lo = torch.randn(4, 16, 6, 12) * 0.1
    hi = torch.randn(4, 16, 6, 12) * 0.3 + 4.0
    _check_against_reference(torch.cat([lo, hi], dim=2))
    _check_against_reference(torch.relu(torch.randn(4, 16, 10, 10)))


def test_integer_valued_ties_match_skimage():
    torch.manual_seed(2)
    _check_against_reference(torch.randint(0, 4, (40, 8, 3, 3)).float())
    _check_against_reference(torch.randint(0, 7, (20, 8, 4, 4)).float() * 0.37 + 0.11)


def test_chunking_gives_same_result():
    torch.manual_seed(3)
    for shape in [(3, 10, 9, 9), (3, 10, 20, 20)]:
        x = torch.randn(*shape)
        full = summarize(x)
        for budget in (1, 5000, 200_000):  # one channel, a few channels, a few samples
            part = summarize(x, memory_budget=budget)
            for k in full:
                torch.testing.assert_close(part[k], full[k], rtol=1e-6, atol=0)


def test_other_bin_counts_match_skimage():
    torch.manual_seed(4)
    x = torch.randn(2, 8, 9, 9)
    a = np.abs(x.numpy())
    for bins in (2, 16, 1000):
        thr = otsu_thresholds(x, bins=bins).numpy()
        ref = np.array([[threshold_otsu(a[i, j], nbins=bins) for j in range(8)] for i in range(2)])
        assert (thr == ref.astype(np.float32)).mean() >= 0.95


# ---------------------------------------------------------------- edge cases


def test_constant_zero_and_1x1_channels_are_finite():
    x = torch.zeros(2, 3, 4, 4)
    x[0, 1] = 2.5
    x[1, 2] = -1.0
    s = summarize(x)
    for v in s.values():
        assert torch.isfinite(v).all()
    # Constant channel: no background to threshold away, so the whole sum.
    assert s["otsu"][0, 1].item() == pytest.approx(16 * 2.5)
    assert s["otsu"][1, 2].item() == pytest.approx(16.0)
    assert s["otsu"][0, 0].item() == 0.0
    assert s["l2"][0, 1].item() == pytest.approx(10.0)
    assert s["mean"][1, 2].item() == pytest.approx(1.0)
    assert s["max"][0, 0].item() == 0.0

    one = torch.randn(3, 5, 1, 1)
    s1 = summarize(one)
    torch.testing.assert_close(s1["l2"], one.abs()[..., 0, 0])
    torch.testing.assert_close(s1["mean"], one.abs()[..., 0, 0])
    torch.testing.assert_close(s1["max"], one.abs()[..., 0, 0])
    torch.testing.assert_close(s1["otsu"], one.abs()[..., 0, 0])


def test_nan_and_inf_are_counted_as_zero():
    x = torch.ones(1, 2, 2, 2)
    x[0, 0, 0, 0] = float("nan")
    x[0, 1, 0, 0] = float("inf")
    x[0, 1, 0, 1] = -float("inf")
    s = summarize(x)
    for v in s.values():
        assert torch.isfinite(v).all()
    assert s["mean"][0, 0].item() == pytest.approx(0.75)
    assert s["l2"][0, 1].item() == pytest.approx(math.sqrt(2.0))
    assert s["max"][0, 1].item() == 1.0
    assert s["otsu"][0, 1].item() == pytest.approx(2.0)


def test_huge_values_do_not_overflow():
    x = torch.full((1, 2, 4, 4), 1e30)
    x[0, 1, 0, 0] = 1.0  # one small value so the Otsu split is non-trivial
    s = summarize(x)
    assert s["l2"][0, 0].item() == pytest.approx(4e30, rel=1e-5)
    assert s["mean"][0, 0].item() == pytest.approx(1e30, rel=1e-5)
    assert s["otsu"][0, 1].item() == pytest.approx(15e30, rel=1e-5)
    big = torch.full((1, 1, 3, 3), 3e38)
    sb = summarize(big)
    assert sb["l2"].item() == torch.finfo(torch.float32).max  # saturates
    assert sb["mean"].item() == pytest.approx(3e38, rel=1e-5)
    for v in sb.values():
        assert torch.isfinite(v).all()


def test_empty_batch():
    s = summarize(torch.randn(0, 4, 3, 3))
    assert s["l2"].shape == (0, 4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"x": torch.randn(2, 3, 4)},
        {"x": torch.randint(0, 3, (1, 2, 3, 3))},
        {"x": np.zeros((1, 1, 2, 2))},
        {"x": torch.randn(1, 2, 0, 3)},
        {"x": torch.randn(1, 1, 2, 2), "functions": ("l2", "median")},
        {"x": torch.randn(1, 1, 2, 2), "functions": ()},
        {"x": torch.randn(1, 1, 2, 2), "functions": ("l2", "l2")},
        {"x": torch.randn(1, 1, 2, 2), "bins": 1},
        {"x": torch.randn(1, 1, 2, 2), "memory_budget": 0},
    ],
)
def test_invalid_inputs_raise(kwargs):
    with pytest.raises(ValueError):
        summarize(**kwargs)


# ------------------------------------------------- dtypes, layouts, autograd


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_precision_matches_float32(dtype):
    torch.manual_seed(5)
    x = torch.randn(2, 6, 9, 9).to(dtype)
    got = summarize(x)
    ref = summarize(x.float())  # same values, exactly representable in float32
    for k in got:
        assert got[k].dtype == torch.float32
        torch.testing.assert_close(got[k], ref[k], rtol=1e-6, atol=1e-6)
    # And close to the float32 original the half values were rounded from.
    x32 = torch.randn(2, 6, 9, 9)
    approx = summarize(x32.to(dtype))
    exact = summarize(x32)
    for k in ("l2", "mean", "max"):
        torch.testing.assert_close(approx[k], exact[k], rtol=2e-2, atol=1e-2)


def test_channels_last_matches_contiguous():
    torch.manual_seed(6)
    x = torch.randn(3, 8, 10, 10)
    cl = x.to(memory_format=torch.channels_last)
    assert not cl.is_contiguous()
    a, b = summarize(x), summarize(cl)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    a2, b2 = summarize(x, memory_budget=1), summarize(cl, memory_budget=1)
    for k in a:
        torch.testing.assert_close(a2[k], b2[k], rtol=0, atol=0)


def test_non_contiguous_slice():
    torch.manual_seed(7)
    base = torch.randn(4, 10, 12, 12)
    view = base[::2, 1::3, 2:, :-1]
    a, b = summarize(view), summarize(view.contiguous())
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_input_not_modified_and_no_grad_graph():
    torch.manual_seed(8)
    x = torch.randn(2, 4, 5, 5, requires_grad=True)
    y = x * 1.0  # non-leaf, like an activation inside a forward
    y_before = y.detach().clone()
    with torch.enable_grad():
        s = summarize(y)
    torch.testing.assert_close(y.detach(), y_before, rtol=0, atol=0)
    for v in s.values():
        assert not v.requires_grad
        assert v.grad_fn is None
    z = torch.randn(1, 2, 3, 3)
    z[0, 0, 0, 0] = float("nan")
    z_before = z.clone()
    summarize(z)
    assert torch.equal(torch.isnan(z), torch.isnan(z_before))
    assert torch.equal(z.nan_to_num(), z_before.nan_to_num())


def test_usable_inside_forward_hook_before_inplace_relu():
    conv = torch.nn.Conv2d(2, 3, 3)
    model = torch.nn.Sequential(conv, torch.nn.ReLU(inplace=True))
    captured = {}
    conv.register_forward_hook(lambda m, i, o: captured.update(summarize(o)))
    x = torch.randn(2, 2, 6, 6)
    with torch.no_grad():
        pre = conv(x)
    model(x)
    torch.testing.assert_close(captured["max"], pre.abs().amax(dim=(2, 3)))


# ------------------------------------------------------------- filter norms


def test_filter_norms_conv2d_and_subclass():
    conv = torch.nn.Conv2d(3, 5, 3, groups=1)
    expected = conv.weight.detach().reshape(5, -1).norm(dim=1)
    torch.testing.assert_close(filter_norms(conv), expected)

    class MyConv(torch.nn.Conv2d):
        pass

    sub = MyConv(4, 6, 1, groups=2)
    got = filter_norms(sub)
    assert got.shape == (6,)
    torch.testing.assert_close(got, sub.weight.detach().reshape(6, -1).norm(dim=1))
    assert not got.requires_grad


def test_filter_norms_conv_transpose_groups():
    torch.manual_seed(9)
    ct = torch.nn.ConvTranspose2d(6, 9, 3, groups=3)  # weight [6, 3, 3, 3]
    w = ct.weight.detach()
    cin_g, cout_g = 6 // 3, 9 // 3
    expected = torch.stack(
        [w[(o // cout_g) * cin_g : (o // cout_g + 1) * cin_g, o % cout_g].norm() for o in range(9)]
    )
    got = filter_norms(ct)
    assert got.shape == (9,)
    torch.testing.assert_close(got, expected)
    # Check the grouping against the actual operator: output channel o only
    # responds to its own filter.
    x = torch.zeros(1, 6, 1, 1)
    x[0, 0] = 1.0  # input channel 0 belongs to group 0 -> outputs 0..2
    with torch.no_grad():
        y = torch.nn.functional.conv_transpose2d(x, w, groups=3)
    assert torch.all(y[0, 3:] == 0)


def test_filter_norms_norm_layers_linear_and_none():
    bn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, -2.0, 0.5, -0.25]))
    torch.testing.assert_close(filter_norms(bn), torch.tensor([1.0, 2.0, 0.5, 0.25]))
    gn = torch.nn.GroupNorm(2, 4)
    with torch.no_grad():
        gn.weight.copy_(torch.tensor([-3.0, 1.0, 2.0, -1.0]))
    torch.testing.assert_close(filter_norms(gn), torch.tensor([3.0, 1.0, 2.0, 1.0]))
    lin = torch.nn.Linear(3, 2)
    torch.testing.assert_close(filter_norms(lin), lin.weight.detach().norm(dim=1))
    assert filter_norms(torch.nn.ReLU()) is None
    assert filter_norms(torch.nn.BatchNorm2d(3, affine=False)) is None
    assert filter_norms(torch.nn.MaxPool2d(2)) is None
    with pytest.raises(ValueError):
        filter_norms("conv")


def test_filter_norms_half_precision():
    conv = torch.nn.Conv2d(2, 3, 3).half()
    got = filter_norms(conv)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, conv.weight.detach().float().reshape(3, -1).norm(dim=1))
