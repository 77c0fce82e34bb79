"""A small fully-convolutional encoder-decoder segmenting scikit-image's coins photo.

Run::

    python examples/segmentation.py --logdir runs/segmentation

Data (synthetic labels on a real photo): the bundled ``coins`` image is split
into three intensity classes with multi-Otsu thresholds ("background",
"coin shadow", "coin face"); random 32x32 crops with flips and brightness
jitter are the inputs, the thresholded crops the per-pixel targets.

The network: two encoder stages (conv-BN-ReLU, max pool), a bottleneck, and a
decoder with a ``ConvTranspose2d`` and an ``nn.Upsample`` stage, skip
concatenations and a 1x1 classifier (3 logits per pixel). After a short
training run, a probe set is logged with one user-defined class per crop: its
*dominant* mask class (the most frequent pixel label), so the TensorBoard tab
shows which layers separate mostly-background crops from crops full of coin.
The script prints pixel accuracy, per-class IoU and the per-layer silhouette
of the dominant-class groups.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import base_parser, load_photo, read_back, separability, setup  # noqa: E402

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402
from tensorboard_plugin_channelexplorer.views import heatmap  # noqa: E402

CLASS_NAMES = ["background", "coin shadow", "coin face"]
CROP = 32


def coins_data():
    """The coins photo as ``float32 [1, H, W]`` in [0, 1] and its 3-class multi-Otsu label map ``int64 [H, W]``."""
    from skimage.filters import threshold_multiotsu

    img = load_photo("coins")[:, :, 0].astype(np.float32) / 255.0
    thresholds = threshold_multiotsu(img, classes=3)
    mask = np.digitize(img, thresholds).astype(np.int64)
    return torch.from_numpy(img)[None], torch.from_numpy(mask)


def crops(img, mask, n: int, generator: torch.Generator):
    """``n`` random crops (flips, brightness/contrast jitter) and their masks."""
    _, h, w = img.shape
    xs, ys = [], []
    for _ in range(n):
        top = int(torch.randint(h - CROP + 1, (1,), generator=generator))
        left = int(torch.randint(w - CROP + 1, (1,), generator=generator))
        x = img[:, top:top + CROP, left:left + CROP]
        y = mask[top:top + CROP, left:left + CROP]
        if float(torch.rand(1, generator=generator)) < 0.5:
            x, y = x.flip(2), y.flip(1)
        if float(torch.rand(1, generator=generator)) < 0.5:
            x, y = x.flip(1), y.flip(0)
        b, c = (1 + 0.2 * (2 * torch.rand(2, generator=generator) - 1)).tolist()
        xs.append(((x - 0.5) * c + 0.5 * b).clamp(0, 1))
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class EncoderDecoder(nn.Module):
    """Two-level FCN: encoder (conv blocks + max pools), decoder (ConvTranspose2d, Upsample) with skips."""

    def __init__(self, n_classes: int = 3, ch=(16, 32, 64)):
        super().__init__()
        self.enc1 = block(1, ch[0])
        self.pool1 = nn.MaxPool2d(2)
        self.enc2 = block(ch[0], ch[1])
        self.pool2 = nn.MaxPool2d(2)
        self.bottleneck = block(ch[1], ch[2])
        self.up2 = nn.ConvTranspose2d(ch[2], ch[1], 2, stride=2)
        self.dec2 = block(ch[1] * 2, ch[1])
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec1 = block(ch[1] + ch[0], ch[0])
        self.classifier = nn.Conv2d(ch[0], n_classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool1(e1))
        b = self.bottleneck(self.pool2(e2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.classifier(d1)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0], "runs/segmentation")
    parser.add_argument("--iters", type=int, default=None, help="training iterations (default 150, quick 40)")
    parser.add_argument("--per-class", type=int, default=None, help="probe crops per dominant class (default 16, quick 8)")
    args = parser.parse_args(argv)
    setup(args)
    iters = (40 if args.quick else 150) if args.iters is None else args.iters
    per_class = (8 if args.quick else 16) if args.per_class is None else args.per_class
    if iters < 1 or per_class < 2:
        parser.error("--iters must be >= 1 and --per-class >= 2")
    img, mask = coins_data()
    frac = np.bincount(mask.flatten().numpy(), minlength=3) / mask.numel()
    print("pixel classes of the coins photo: " + ", ".join(f"{n} {f:.0%}" for n, f in zip(CLASS_NAMES, frac)))

    g = torch.Generator().manual_seed(args.seed)
    model = EncoderDecoder()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for it in range(iters):
        x, y = crops(img, mask, 32, g)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % max(1, iters // 4) == 0 or it == iters - 1:
            print(f"iter {it:4d}: pixel cross-entropy {loss.item():.3f}")
    model.eval()

    # Probe: crops grouped by their dominant mask class (drawn until each group is full).
    pg = torch.Generator().manual_seed(args.seed + 1)
    chosen = {k: [] for k in range(3)}
    for _ in range(200):
        x, y = crops(img, mask, 32, pg)
        for xi, yi in zip(x, y):
            k = int(torch.bincount(yi.flatten(), minlength=3).argmax())
            if len(chosen[k]) < per_class:
                chosen[k].append((xi, yi))
        if all(len(v) == per_class for v in chosen.values()):
            break
    groups = [k for k in range(3) if chosen[k]]
    px = torch.stack([xi for k in groups for xi, _ in chosen[k]])
    py = torch.stack([yi for k in groups for _, yi in chosen[k]])
    labels = np.array([k for k in groups for _ in chosen[k]])

    with torch.no_grad():
        pred = model(px).argmax(1)
    acc = float((pred == py).float().mean())
    ious = []
    for k in range(3):
        inter = int(((pred == k) & (py == k)).sum())
        union = int(((pred == k) | (py == k)).sum())
        ious.append(inter / union if union else float("nan"))
    print(f"probe: {len(px)} crops; pixel accuracy {acc:.3f}; IoU " +
          ", ".join(f"{n} {v:.2f}" for n, v in zip(CLASS_NAMES, ious)))

    with ChannelExplorerWriter(args.logdir) as ce:
        ce.log_layers(model, px, labels=labels, step=iters, class_names=CLASS_NAMES,
                      sample_ids=[f"crop{i:03d}" for i in range(len(px))], stage="both")
        ce.summary_writer.add_scalar("probe/pixel_accuracy", acc, iters)

    reader, run = read_back(args.logdir)
    manifest = reader.manifest(run, iters)
    got = reader.inputs(run, iters)["labels"]
    print(f"\nlogged layers and the silhouette of the dominant-class groups (L2 summaries):")
    for row in manifest["layers"]:
        S = reader.summary_matrix(run, iters, row["name"], fn="l2")
        print(f"  {row['name']:<14} {row['type']:<16} {str(row['shape']):<14} {separability(S, got):+.3f}")
    S = reader.summary_matrix(run, iters, "dec1.0", fn="otsu")
    order, metrics = heatmap.channel_order(S, got)
    print(f"dec1.0 channels by Eq. 3 (class-separating first): {order[:5].tolist()} ... "
          f"least: {order[-3:].tolist()}")
    print(f"\nwrote {os.path.abspath(args.logdir)}")
    return {"pixel_accuracy": acc}


if __name__ == "__main__":
    main()
