"""A super-resolution GAN (SRResNet-like generator, strided-conv discriminator) on real photo patches.

Run::

    python examples/gan.py --logdir runs/gan

As in the paper's SRGAN case (Sect. VI-A), the *discriminator* is analysed
with user-defined classes, groups of inputs that should behave alike:

* ``real HR``: 32x32 patches of the bundled photos,
* ``generated``: the generator's 2x super-resolution of their 16x16
  downsampled versions,
* ``bicubic``: the same 16x16 patches upsampled with bicubic interpolation.

The generator has residual blocks (conv-BN-PReLU-conv-BN + skip), a global
skip and a ``PixelShuffle`` upsampling block; the discriminator is a stack of
strided conv-BN-LeakyReLU layers. Training is a few quick adversarial steps
(L1 content loss + 1e-2 adversarial loss). The discriminator is logged before
training (step 0) and after it (step = number of training iterations), so the
TensorBoard tab shows how its layers learn to tell the three groups apart. The
script prints, per logged layer, the silhouette of the three groups and the
class-level Jaccard matrix of the last conv layer.
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import base_parser, class_matrix_table, photo_tensor, read_back, separability, setup  # noqa: E402

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402
from tensorboard_plugin_channelexplorer.views import jaccard, scatter  # noqa: E402

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "china", "flower", "immunohistochemistry", "colorwheel")
GROUPS = ["real HR", "generated", "bicubic"]
HR, SCALE = 32, 2


class ResidualBlock(nn.Module):
    """SRResNet block: conv-BN-PReLU-conv-BN plus the identity."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.act = nn.PReLU(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        return x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))


class Generator(nn.Module):
    """SRResNet-like 2x super-resolution generator."""

    def __init__(self, c: int = 32, n_blocks: int = 4):
        super().__init__()
        self.head = nn.Conv2d(3, c, 9, padding=4)
        self.head_act = nn.PReLU(c)
        self.blocks = nn.Sequential(*[ResidualBlock(c) for _ in range(n_blocks)])
        self.body_conv = nn.Conv2d(c, c, 3, padding=1)
        self.body_bn = nn.BatchNorm2d(c)
        self.up_conv = nn.Conv2d(c, c * SCALE * SCALE, 3, padding=1)
        self.shuffle = nn.PixelShuffle(SCALE)
        self.up_act = nn.PReLU(c)
        self.tail = nn.Conv2d(c, 3, 9, padding=4)

    def forward(self, lr):
        h = self.head_act(self.head(lr))
        h = h + self.body_bn(self.body_conv(self.blocks(h)))  # global skip
        h = self.up_act(self.shuffle(self.up_conv(h)))
        # Predict a residual over bicubic upsampling, so a few steps already give sensible images.
        base = F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return (base + self.tail(h)).clamp(0.0, 1.0)


class Discriminator(nn.Module):
    """Strided conv-BN-LeakyReLU layers, global pooling and one real/fake logit."""

    def __init__(self, widths=(32, 32, 64, 64, 128)):
        super().__init__()
        layers, c = [], 3
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, stride=1 + (i % 2), padding=1)]
            if i > 0:
                layers += [nn.BatchNorm2d(w)]
            layers += [nn.LeakyReLU(0.2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, 1)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> torch.Tensor:
    return photo_tensor(name)


def random_patches(n: int, generator: torch.Generator, photos=PHOTOS, return_source: bool = False):
    """``n`` random HR x HR patches (in [0, 1]) of the bundled photos, with random flips.

    Returns:
        ``[n, 3, HR, HR]``, and the index in ``photos`` of each patch's photo
        when ``return_source``.
    """
    out, src = [], []
    for _ in range(n):
        k = int(torch.randint(len(photos), (1,), generator=generator))
        src.append(k)
        img = _photo(photos[k])
        _, h, w = img.shape
        # Crops of 2-4x the patch side, downscaled, keep the patches textured rather than flat.
        side = int(torch.randint(HR * 2, HR * 4 + 1, (1,), generator=generator))
        side = min(side, h, w)
        top = int(torch.randint(h - side + 1, (1,), generator=generator))
        left = int(torch.randint(w - side + 1, (1,), generator=generator))
        p = F.interpolate(img[None, :, top:top + side, left:left + side], size=(HR, HR), mode="area")[0]
        if float(torch.rand(1, generator=generator)) < 0.5:
            p = p.flip(2)
        out.append(p)
    return (torch.stack(out), np.array(src)) if return_source else torch.stack(out)


def downsample(hr: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(hr, SCALE)


def train(gen, disc, steps: int, batch: int, generator: torch.Generator, log=print):
    """A few adversarial steps: L1 content + 1e-2 non-saturating adversarial loss."""
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    gen.train()
    disc.train()
    for it in range(steps):
        hr = random_patches(batch, generator)
        lr = downsample(hr)
        sr = gen(lr)
        opt_d.zero_grad()
        d_loss = bce(disc(hr), torch.ones(batch, 1)) + bce(disc(sr.detach()), torch.zeros(batch, 1))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = F.l1_loss(sr, hr) + 1e-2 * bce(disc(sr), torch.ones(batch, 1))
        g_loss.backward()
        opt_g.step()
        if it % max(1, steps // 4) == 0 or it == steps - 1:
            log(f"  iter {it:3d}: D loss {d_loss.item():.3f}  G loss {g_loss.item():.3f}")
    gen.eval()
    disc.eval()


def probe_groups(gen, n: int, generator: torch.Generator):
    """The three user-defined groups built from the same ``n`` held-out HR patches.

    Returns:
        ``(x, labels, ids, photo)``: ``3n`` inputs (HR, generated, bicubic),
        group ids, sample ids and the source photo index of each input.
    """
    hr, src = random_patches(n, generator, return_source=True)
    lr = downsample(hr)
    with torch.no_grad():
        sr = gen.eval()(lr)
    bicubic = F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0.0, 1.0)
    x = torch.cat([hr, sr, bicubic])
    labels = np.repeat(np.arange(3), n)
    ids = [f"{g}/{i:02d}" for g in ("hr", "gen", "bicubic") for i in range(n)]
    return x, labels, ids, np.tile(src, 3)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0], "runs/gan")
    parser.add_argument("--steps", type=int, default=None, help="adversarial training steps (default 60, quick 15)")
    parser.add_argument("--per-group", type=int, default=None, help="probe inputs per group (default 16, quick 8)")
    args = parser.parse_args(argv)
    setup(args)
    steps = (15 if args.quick else 60) if args.steps is None else args.steps
    per_group = (8 if args.quick else 16) if args.per_group is None else args.per_group
    if steps < 1 or per_group < 2:
        parser.error("--steps must be >= 1 and --per-group >= 2")
    g = torch.Generator().manual_seed(args.seed)
    gen, disc = Generator(), Discriminator()
    # The probe patches are drawn first, from their own stream, so they are the same before and after training.
    probe_gen = torch.Generator().manual_seed(args.seed + 1000)

    with ChannelExplorerWriter(args.logdir) as ce:
        x, labels, ids, _ = probe_groups(gen, per_group, probe_gen)
        ce.log_layers(disc, x, labels=labels, step=0, class_names=GROUPS, sample_ids=ids, stage="both")
        ce.flush()
        print(f"training {steps} adversarial steps (batch 16)...")
        train(gen, disc, steps, 16, g)
        probe_gen = torch.Generator().manual_seed(args.seed + 1000)
        x, labels, ids, photo = probe_groups(gen, per_group, probe_gen)
        with torch.no_grad():
            p_real = torch.sigmoid(disc(x)).flatten().numpy()
        ce.log_layers(disc, x, labels=labels, step=steps, class_names=GROUPS, sample_ids=ids, stage="both")
        sw = ce.summary_writer
        for k, name in enumerate(GROUPS):
            sw.add_scalar(f"discriminator/p_real/{name.replace(' ', '_')}", float(p_real[labels == k].mean()), steps)

    hr, sr, bic = x[labels == 0], x[labels == 1], x[labels == 2]
    psnr = lambda a, b: float(10 * torch.log10(1.0 / F.mse_loss(a, b)))  # noqa: E731
    print(f"PSNR vs HR: generated {psnr(sr, hr):.2f} dB, bicubic {psnr(bic, hr):.2f} dB")
    print("discriminator P(real): " + ", ".join(f"{n} {p_real[labels == k].mean():.3f}" for k, n in enumerate(GROUPS)))

    reader, run = read_back(args.logdir)
    steps_logged = reader.steps(run)
    layers = [row["name"] for row in reader.manifest(run, steps_logged[-1])["layers"]]
    print(f"\ndiscriminator layers logged at steps {steps_logged}; silhouette of the 3 groups (L2 summaries):")
    print(f"  {'layer':<14}" + "".join(f"{'step ' + str(s):>10}" for s in steps_logged))
    for layer in layers:
        row = [separability(reader.summary_matrix(run, s, layer, fn="l2"), reader.inputs(run, s)["labels"])
               for s in steps_logged]
        print(f"  {layer:<14}" + "".join(f"{v:>+10.3f}" for v in row))
    last_conv = [n for n in layers if n.startswith("features.")][-1]
    S = reader.summary_matrix(run, steps_logged[-1], last_conv, fn="l2")
    got = reader.inputs(run, steps_logged[-1])["labels"]
    jv = jaccard.jaccard_view(S, got)
    print(f"\nclass-level Jaccard at {last_conv} after training (diagonal: within a group):")
    print(class_matrix_table(jv["class_matrix"], GROUPS))
    sv = scatter.scatter_view(S, got, method="pca", random_state=args.seed)
    print(f"X-Means clusters at {last_conv}: " + "; ".join(
        f"#{c['id']} " + ", ".join(f"{GROUPS[int(k)]} {v}" for k, v in c["class_counts"].items())
        for c in sv["cluster_info"]))
    # What does the discriminator "perceive"? For each generated patch, is its
    # nearest input (summary space) its own HR / bicubic twin (content) or
    # another generated patch (realness)?
    D = np.linalg.norm(S[:, None] - S[None], axis=2)
    np.fill_diagonal(D, np.inf)
    gen_idx = np.flatnonzero(got == 1)
    nn_idx = D[gen_idx].argmin(1)
    twin = float(np.mean(nn_idx % per_group == gen_idx % per_group))
    same_photo = float(np.mean(photo[nn_idx] == photo[gen_idx]))
    same_group = float(np.mean(got[nn_idx] == 1))
    print(f"nearest neighbour of a generated patch at {last_conv}: its own twin {twin:.0%}, "
          f"same source photo {same_photo:.0%}, another generated patch {same_group:.0%}")
    print("  (twins/photos first: this briefly trained discriminator keys on image content and texture,"
          " as the paper observes for SRGAN)" if twin + 1e-9 >= same_group else
          "  (generated patches group together: the discriminator separates them)")

    # The paper's SRGAN view: classes = source photos, real HR patches only.
    photo_run = os.path.join(args.logdir, "by_photo")
    hr_idx = np.flatnonzero(labels == 0)
    with ChannelExplorerWriter(photo_run) as ce:
        ce.log_layers(disc, x[hr_idx], labels=[PHOTOS[k] for k in photo[hr_idx]], step=steps,
                      sample_ids=[ids[i] for i in hr_idx], layers=[last_conv])
    print(f"\nwrote {os.path.abspath(args.logdir)} (runs: groups in '.', photo classes in 'by_photo')")
    return {"jaccard": jv["class_matrix"], "twin": twin}


if __name__ == "__main__":
    main()
