"""A toy conditional DDPM: a small U-Net with timestep and class embeddings on sklearn digits.

Run::

    python examples/diffusion_unet.py --logdir runs/diffusion_unet

The U-Net (plain torch) has two down levels, a ``mid_block`` (two residual
blocks at 4x4) and two up levels with skip concatenations; every residual
block adds a projection of the sinusoidal timestep embedding plus a learned
embedding of the condition (the digit class). It is trained for a few hundred
steps to predict the noise of ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps``
(T = 100, linear betas) on 16x16 digits.

As in the paper's Stable Diffusion case (Sect. VI-D), the ``mid_block`` is
logged with *user-defined classes* from the conditioning: two condition
groups, "digits 0-4" and "digits 5-9". The writer calls ``model(images)``, so
``with unet.fixed(t, cond):`` fixes the timestep and the per-input
conditions for those calls.

**Several timesteps: one ChannelExplorer step per timestep.** The same probe
inputs, noised with the same noise, are logged at a few timesteps in
increasing order with ``step = t`` (steps must not decrease). The
TensorBoard tab's step selector then walks through the denoising timesteps of
one run, and a sample id (``"a/03"``) follows the same input across them. (A
separate run per timestep, ``runs/diffusion_unet/t005`` ..., would work as
well; steps keep everything in one run.)
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import base_parser, read_back, separability, setup  # noqa: E402
from digits import load_digits_tensors  # noqa: E402

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402
from tensorboard_plugin_channelexplorer.views import hierarchy, scatter  # noqa: E402

T = 100
GROUPS = ["digits 0-4", "digits 5-9"]


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps, ``[N, dim]`` (Transformer / DDPM style)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, + embedding projection, GroupNorm-SiLU-conv, plus a (1x1) skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(4, c_in)
        self.act1 = nn.SiLU()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(4, c_out)
        self.act2 = nn.SiLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(self.act1(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(self.act2(self.norm2(h)))
        return h + self.skip(x)


class MidBlock(nn.Module):
    """Two residual blocks at the lowest resolution (the ``mid_block`` of diffusers' U-Nets)."""

    def __init__(self, c: int, emb_dim: int):
        super().__init__()
        self.res1 = ResBlock(c, c, emb_dim)
        self.res2 = ResBlock(c, c, emb_dim)

    def forward(self, x, emb):
        return self.res2(self.res1(x, emb), emb)


class UNet(nn.Module):
    """A two-level U-Net for 1 x 16 x 16 inputs, conditioned on timestep and class."""

    def __init__(self, n_classes: int = 10, ch=(32, 64), emb_dim: int = 64):
        super().__init__()
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(n_classes, emb_dim)
        self.conv_in = nn.Conv2d(1, ch[0], 3, padding=1)
        self.down1 = ResBlock(ch[0], ch[0], emb_dim)
        self.downsample1 = nn.Conv2d(ch[0], ch[0], 3, stride=2, padding=1)  # 16 -> 8
        self.down2 = ResBlock(ch[0], ch[1], emb_dim)
        self.downsample2 = nn.Conv2d(ch[1], ch[1], 3, stride=2, padding=1)  # 8 -> 4
        self.mid_block = MidBlock(ch[1], emb_dim)
        self.upsample2 = nn.Upsample(scale_factor=2, mode="nearest")  # 4 -> 8
        self.up2 = ResBlock(ch[1] * 2, ch[0], emb_dim)
        self.upsample1 = nn.Upsample(scale_factor=2, mode="nearest")  # 8 -> 16
        self.up1 = ResBlock(ch[0] * 2, ch[0], emb_dim)
        self.norm_out = nn.GroupNorm(4, ch[0])
        self.act_out = nn.SiLU()
        self.conv_out = nn.Conv2d(ch[0], 1, 3, padding=1)
        self.probe = None

    @contextlib.contextmanager
    def fixed(self, t: int, cond: torch.Tensor):
        """Within the block ``unet(x)`` means ``unet(x, t, cond[:len(x)])``.

        The writer calls ``model(images)``; the conditions are taken from the
        front of ``cond`` because its discovery forward runs on the first two
        inputs. Module names stay those of the U-Net (``mid_block``, ...),
        which a wrapper module would prefix.
        """
        self.probe = (int(t), cond)
        try:
            yield self
        finally:
            self.probe = None

    def forward(self, x, t=None, cond=None):
        if t is None:  # called as model(x) by the writer: use the fixed probe timestep/conditions
            if self.probe is None:
                raise ValueError("call unet(x, t, cond), or unet(x) inside `with unet.fixed(t, cond):`")
            t = torch.full((x.shape[0],), self.probe[0], dtype=torch.long)
            cond = self.probe[1][: x.shape[0]]
        emb = self.time_mlp(timestep_embedding(t, self.emb_dim)) + self.class_emb(cond)
        h0 = self.conv_in(x)
        h1 = self.down1(h0, emb)                      # 16x16
        h2 = self.down2(self.downsample1(h1), emb)    # 8x8
        h = self.mid_block(self.downsample2(h2), emb)  # 4x4
        h = self.up2(torch.cat([self.upsample2(h), h2], 1), emb)
        h = self.up1(torch.cat([self.upsample1(h), h1], 1), emb)
        return self.conv_out(self.act_out(self.norm_out(h)))


def schedule():
    betas = torch.linspace(1e-4, 0.05, T)
    return torch.cumprod(1.0 - betas, 0)  # abar_t


def noised(x0, t: torch.Tensor, eps, abar):
    a = abar[t].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * eps


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0], "runs/diffusion_unet")
    parser.add_argument("--iters", type=int, default=None, help="training iterations (default 300, quick 40)")
    parser.add_argument("--timesteps", type=int, nargs="+", default=[5, 30, 60, 95],
                        help="timesteps to log, each as its own step (default: 5 30 60 95)")
    args = parser.parse_args(argv)
    setup(args)
    iters = (40 if args.quick else 300) if args.iters is None else args.iters
    timesteps = sorted(set(args.timesteps))
    if iters < 1 or any(not 0 <= t < T for t in timesteps):
        parser.error(f"--iters must be >= 1 and --timesteps in [0, {T})")
    if args.quick:
        timesteps = timesteps[:1] + timesteps[-1:]

    x_train, y_train, x_test, y_test, _, idx_test = load_digits_tensors(seed=args.seed)
    up = lambda x: F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False) * 2 - 1  # noqa: E731
    x_train, x_test = up(x_train), up(x_test)
    abar = schedule()
    unet = UNet()
    opt = torch.optim.Adam(unet.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(args.seed)
    for it in range(iters):
        idx = torch.randint(len(x_train), (64,), generator=g)
        t = torch.randint(T, (64,), generator=g)
        eps = torch.randn(64, 1, 16, 16, generator=g)
        loss = F.mse_loss(unet(noised(x_train[idx], t, eps, abar), t, y_train[idx]), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % max(1, iters // 4) == 0 or it == iters - 1:
            print(f"iter {it:4d}: noise-prediction MSE {loss.item():.4f}")
    unet.eval()

    # Probe: per_class test digits of every class; user classes = condition groups.
    per_class = 4 if args.quick else 8
    sel = torch.cat([torch.nonzero(y_test == c).flatten()[:per_class] for c in range(10)])
    x0, cond = x_test[sel], y_test[sel]
    groups = (cond >= 5).long().numpy()
    ids = [f"{'ab'[int(k)]}/{int(i)}" for k, i in zip(groups, idx_test[sel])]
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(args.seed + 1))

    with ChannelExplorerWriter(args.logdir) as ce:
        for t in timesteps:
            xt = noised(x0, torch.full((len(x0),), t), eps, abar)
            with unet.fixed(t, cond):
                ce.log_layers(unet, xt, labels=groups, step=t, class_names=GROUPS,
                              sample_ids=ids, layers=["mid_block*"])
            ce.flush()

    reader, run = read_back(args.logdir)
    steps = reader.steps(run)
    layers = [row["name"] for row in reader.manifest(run, steps[-1])["layers"]]
    # The mid_block's output is the very tensor of its last residual block: the
    # writer logs it once, under that entry's name (the last mid_block entry).
    out_layer = [n for n in layers if n.startswith("mid_block")][-1]
    print(f"\nlogged steps (= timesteps) {steps}; layers {layers}")
    print(f"condition-group separation at the mid_block output ({out_layer}, L2 summaries):")
    print(f"  {'t':>4} {'silhouette':>11} {'k-means(2) purity':>18} {'superclasses':>13}")
    sil = {}
    for t in steps:
        S = reader.summary_matrix(run, t, out_layer, fn="l2")
        labels = reader.inputs(run, t)["labels"]
        sv = scatter.scatter_view(S, labels, method="pca", k=2, random_state=args.seed)
        purity = sum(max(c["class_counts"].values()) for c in sv["cluster_info"]) / len(labels)
        n_super = len(hierarchy.confusion_hierarchy(S, labels, GROUPS)["tree"]["children"])
        sil[t] = separability(S, labels)
        print(f"  {t:>4} {sil[t]:>+11.3f} {purity:>18.2f} {n_super:>13}")
    best = max(sil, key=sil.get)
    print(f"the condition groups are most separated at t={best} (silhouette {sil[best]:+.3f}); "
          "silhouette near 0 and purity near 0.5 mean the mid_block mixes the two groups "
          "(the condition enters only through the embeddings)")
    print(f"\nwrote {os.path.abspath(args.logdir)}")
    return {"steps": steps}


if __name__ == "__main__":
    main()
