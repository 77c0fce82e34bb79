"""Overlay (Eq. 2): jet colormap, bilinear resize, blending."""

import io

import numpy as np
import pytest
from PIL import Image

from tensorboard_plugin_channelexplorer.images import thumbnails_png
from tensorboard_plugin_channelexplorer.views import overlay


def test_jet_matches_matplotlib_values():
    # Reference values of matplotlib.cm.jet (256-entry LUT).
    np.testing.assert_allclose(overlay.jet(0.0), [0.0, 0.0, 0.5])
    np.testing.assert_allclose(overlay.jet(1.0), [0.5, 0.0, 0.0])
    np.testing.assert_allclose(overlay.jet(0.5), [0.49019607843137253, 1.0, 0.4775458570524984])
    # Clipped outside [0, 1].
    np.testing.assert_allclose(overlay.jet(-3.0), overlay.jet(0.0))
    np.testing.assert_allclose(overlay.jet(7.0), overlay.jet(1.0))


def test_constant_map_golden_pixels_alpha_06():
    img = np.full((4, 5, 3), 100, dtype=np.uint8)
    cmap = np.full((2, 2), 5.0)  # lo=0, hi=10 -> 0.5 everywhere
    out = overlay.overlay_rgb(img, cmap, 0.0, 10.0, alpha=0.6)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    # red:   0.6 * 0.490196 * 255 + 0.4 * 100 = 75 + 40 = 115
    # green: 0.6 * 1.0 * 255 + 40 = 193
    # blue:  0.6 * 0.477546 * 255 + 40 = 113.07 -> 113
    assert np.all(out == np.array([115, 193, 113], dtype=np.uint8))


def test_alpha_extremes():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    cmap = rng.normal(size=(3, 3))
    np.testing.assert_array_equal(overlay.overlay_rgb(img, cmap, -5, 5, alpha=0.0), img)
    full = overlay.overlay_rgb(img, np.zeros((3, 3)), 0.0, 1.0, alpha=1.0)
    assert np.all(full == np.array([0, 0, 128], dtype=np.uint8))  # jet(0) * 255 = 127.5 -> 128


def test_bilinear_resize_pixel_centres():
    a = np.array([[0.0, 1.0]])
    out = overlay.resize_bilinear(a, 1, 4)
    # centres at x = -0.25, 0.25, 0.75, 1.25 in input pixels -> clamped.
    np.testing.assert_allclose(out[0], [0.0, 0.25, 0.75, 1.0])
    same = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(overlay.resize_bilinear(same, 3, 4), same)


def test_png_roundtrip_and_grayscale_image():
    img = np.full((8, 8), 50, dtype=np.uint8)
    png = overlay.overlay_png(img, np.ones((2, 2)), 0.0, 2.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    back = np.asarray(Image.open(io.BytesIO(png)))
    np.testing.assert_array_equal(back, overlay.overlay_rgb(img, np.ones((2, 2)), 0.0, 2.0))


def test_constant_layer_lo_equals_hi():
    out = overlay.overlay_rgb(np.zeros((2, 2, 3), np.uint8), np.ones((1, 1)), 1.0, 1.0, alpha=1.0)
    assert np.all(out == np.array([0, 0, 128], dtype=np.uint8))


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        ({"alpha": 1.5}, "alpha must be in"),
        ({"lo": 2.0, "hi": 1.0}, "hi must be >= lo"),
        ({"lo": float("nan")}, "lo must be a finite number"),
        ({"channel_map": np.ones(3)}, "channel_map must be a non-empty 2-D"),
        ({"image": np.ones((2, 2, 3), np.float32)}, "image must be uint8"),
        ({"image": np.ones((2, 2, 2), np.uint8)}, r"image must be \[H, W, 3\]"),
    ],
)
def test_validation(kwargs, msg):
    args = {"image": np.zeros((2, 2, 3), np.uint8), "channel_map": np.ones((1, 1)), "lo": 0.0, "hi": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        overlay.overlay_rgb(**args)


def _decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_overlay_base_keeps_the_input_colours():
    torch = pytest.importorskip("torch")
    # A dull orange image in [0, 1]: each channel spans a different small range.
    rng = np.random.default_rng(0)
    x = np.stack([0.6 + 0.1 * rng.random((8, 8)), 0.3 + 0.05 * rng.random((8, 8)), np.full((8, 8), 0.1)])
    png = thumbnails_png(torch.tensor(x[None], dtype=torch.float32))[0]
    expected = np.round(x.transpose(1, 2, 0) * 255.0)
    np.testing.assert_allclose(_decode(png), expected, atol=1)
    # alpha = 0: the overlay is exactly the input as the tab shows it.
    np.testing.assert_array_equal(overlay.overlay_rgb(_decode(png), np.ones((2, 2)), 0.0, 1.0, alpha=0.0),
                                  _decode(png))


def test_thumbnail_of_a_normalized_input_uses_one_scaling():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6, 6)) * np.array([1.0, 0.2, 0.05])[:, None, None]
    q = _decode(thumbnails_png(torch.tensor(x[None], dtype=torch.float32))[0]).astype(np.float64)
    lo, hi = min(0.0, x.min()), max(1.0, x.max())
    # Back to input units with the single shared range: every channel matches.
    np.testing.assert_allclose(q / 255.0 * (hi - lo) + lo, x.transpose(1, 2, 0), atol=(hi - lo) / 255.0)
